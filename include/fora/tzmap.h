/*
 * fora/tzmap.h - a time zone as a table of UTC-offset segments, and the
 * mapping of UTC instants to local wall-clock time through it.
 *
 * analysis/ does no I/O, so it never reads the zone database itself: the
 * server builds a table for a zone and a time span (fora/tzmap_load.h, from
 * the C library's zone database) and analyses map times through it.  A
 * table is n segments: segment i covers the UTC instants
 * [start[i], start[i+1]) (the last one runs to +infinity, the first one from
 * -infinity whatever start[0] says) and local time there is UTC + offset[i]
 * seconds.  Outside the span the table was built for, the first and last
 * offsets are simply extended.
 *
 * Local time is represented as "local seconds": the wall-clock reading as if
 * it were a UTC time (UTC + offset), so local calendar fields follow from
 * plain arithmetic (fora_tzmap_civil()).
 *
 * Wall-clock times that do not exist (the spring-forward gap, e.g. 02:00 to
 * 03:00 in Europe/Amsterdam on the last Sunday of March) are reported by
 * fora_tzmap_local_exists(); those that exist twice (the fall-back overlap)
 * map back to the earlier UTC instant in fora_tzmap_utc_of_local().
 *
 * Ownership: fora_tzmap_create() allocates, fora_tzmap_destroy() frees.
 * Thread safety: a table is immutable after creation and may be read from any
 * number of threads.  Pure computation, no I/O.
 */
#ifndef FORA_TZMAP_H
#define FORA_TZMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fora/error.h"

/* At most this many segments in one table (about 600 years of two changes a year). */
#define FORA_TZMAP_MAX_SEGMENTS 1200
/* Offsets are within +-26 hours (every real zone is within -12..+14). */
#define FORA_TZMAP_MAX_OFFSET (26 * 3600)

typedef struct fora_tzmap {
    char *zone; /* the zone's name, e.g. "Europe/Amsterdam" */
    size_t n;   /* segments, >= 1 */
    int64_t
        *start; /* n UTC instants, strictly increasing; start[0] is where the table's span begins */
    int32_t *offset; /* n offsets in seconds east of UTC; offset[i] != offset[i-1] */
    int64_t *lend;   /* n local seconds where segment i ends (start[i+1] + offset[i]); INT64_MAX for
                        the last */
} fora_tzmap_t;

/*
 * Creates a table for `zone` (copied, non-empty) from n >= 1 segments:
 * starts strictly increasing, each offset within +-FORA_TZMAP_MAX_OFFSET.
 * Consecutive equal offsets are merged.  Each segment but the first and last
 * must be longer than the offset changes around it (true of every real zone),
 * so that local segment starts and ends increase.  EINVAL naming the segment otherwise;
 * ETOOLARGE above FORA_TZMAP_MAX_SEGMENTS.  O(n).
 */
fora_err_t fora_tzmap_create(const char *zone, const int64_t *start, const int32_t *offset,
                             size_t n, fora_tzmap_t **out, fora_diag_t *diag) FORA_MUST_CHECK;

/* A table of one segment: the fixed offset `offset` (e.g. 0 for "UTC").  O(1). */
fora_err_t fora_tzmap_create_fixed(const char *zone, int32_t offset, fora_tzmap_t **out,
                                   fora_diag_t *diag) FORA_MUST_CHECK;

/* Frees m.  m may be NULL. */
void fora_tzmap_destroy(fora_tzmap_t *m);

/* The segment that UTC instant t falls in.  O(log n). */
size_t fora_tzmap_segment(const fora_tzmap_t *m, int64_t t);

/* The UTC offset at UTC instant t, in seconds east of UTC.  O(log n). */
static inline int32_t fora_tzmap_offset(const fora_tzmap_t *m, int64_t t)
{
    return m->offset[fora_tzmap_segment(m, t)];
}

/* Local seconds of UTC instant t (t + offset).  O(log n). */
static inline int64_t fora_tzmap_local(const fora_tzmap_t *m, int64_t t)
{
    return t + fora_tzmap_offset(m, t);
}

/*
 * A cursor for mapping non-decreasing times in O(1) amortised each (e.g. the
 * posts of a snapshot, which are sorted): start it with
 * fora_tzmap_cursor_init() and call fora_tzmap_cursor_local() with times in
 * any order; it moves forward cheaply and falls back to binary search when
 * a time goes back.
 */
typedef struct fora_tzmap_cursor {
    const fora_tzmap_t *m;
    size_t seg;
} fora_tzmap_cursor_t;

static inline void fora_tzmap_cursor_init(fora_tzmap_cursor_t *c, const fora_tzmap_t *m)
{
    c->m = m;
    c->seg = 0;
}

/* Local seconds of t.  O(1) amortised for non-decreasing t, O(log n) otherwise. */
int64_t fora_tzmap_cursor_local(fora_tzmap_cursor_t *c, int64_t t);

/*
 * The first UTC instant whose local time is >= local seconds L: for a wall
 * clock time in the fall-back overlap, its earlier occurrence; in a
 * spring-forward gap, the instant the gap ends.  O(log n).
 */
int64_t fora_tzmap_utc_of_local(const fora_tzmap_t *m, int64_t L);

/*
 * Whether some UTC instant shows a wall-clock time in [L0, L1) (local
 * seconds, L0 < L1): false exactly when the interval lies inside a
 * spring-forward gap (the hour 02:00-03:00 of Amsterdam's March change day;
 * but Lord Howe's hour 02:00-03:00 exists, only 02:00-02:30 does not).
 * O(log n).
 */
bool fora_tzmap_local_exists(const fora_tzmap_t *m, int64_t L0, int64_t L1);

/* Local calendar fields of local seconds L. */
typedef struct fora_local_civil {
    int64_t day; /* days since 1970-01-01 (local), floor */
    int64_t year;
    int month;        /* 1..12 */
    int mday;         /* 1..31 */
    int hour;         /* 0..23 */
    int minute;       /* 0..59 */
    int second;       /* 0..59 */
    int weekday;      /* ISO: 0 = Monday .. 6 = Sunday */
    int64_t week_day; /* day (since 1970) of the Monday starting the ISO week */
} fora_local_civil_t;

/* Splits local seconds L into calendar fields (proleptic Gregorian).  O(1). */
void fora_tzmap_civil(int64_t L, fora_local_civil_t *out);

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).  O(1). */
int64_t fora_tzmap_days_from_civil(int64_t y, int m, int d);

#endif /* FORA_TZMAP_H */
