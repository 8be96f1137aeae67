/*
 * fora/timeparse.h - the timestamps fora accepts in its input files.
 *
 * Accepted: ISO-8601 "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.frac]]" (a space may
 * stand for the T), optionally followed by "Z" or an offset "+HH", "+HHMM",
 * "+HH:MM" (no zone means UTC); or Unix seconds, "1390335965" or
 * "1390335965.25" (a leading minus allowed).  Fractions are kept to the
 * microsecond (further digits are truncated).
 *
 * Thread safety: pure functions.
 */
#ifndef FORA_TIMEPARSE_H
#define FORA_TIMEPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Parses s[0..len) into microseconds since 1970-01-01T00:00:00Z.  Returns
 * false for anything else (bad syntax, month 13, 31 April, hour 24, ...);
 * years 1..9999 only.
 */
bool fora_time_parse(const char *s, size_t len, int64_t *usec);

/*
 * Formats usec as "YYYY-MM-DD HH:MM:SS.ffffff+00" (what PostgreSQL reads as a
 * timestamptz) into buf of at least 32 bytes.  Returns the length.
 */
size_t fora_time_format_pg(int64_t usec, char *buf);

/* A UTC instant split into calendar fields. */
typedef struct fora_civil_time {
    int64_t year;
    unsigned month, day;           /* 1-based */
    unsigned hour, minute, second; /* 0-based */
    unsigned usec;                 /* 0..999999 */
} fora_civil_time_t;

/* Splits microseconds since 1970 (negative allowed) into UTC calendar fields. */
void fora_time_split(int64_t usec, fora_civil_time_t *out);

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
int64_t fora_days_from_civil(int64_t y, unsigned m, unsigned d);
/* The inverse of fora_days_from_civil. */
void fora_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

#endif /* FORA_TIMEPARSE_H */
