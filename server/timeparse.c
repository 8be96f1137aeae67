/*
 * server/timeparse.c - ISO-8601 and Unix-second timestamps, strictly parsed.
 */
#include "fora/timeparse.h"

#include <stdio.h>

int64_t fora_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void fora_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : dim[m - 1];
}

/* Reads exactly n digits at *p; false when fewer are there. */
static bool digits(const char **p, const char *end, int n, int64_t *out)
{
    int64_t v = 0;
    for (int i = 0; i < n; i++) {
        if (*p >= end || **p < '0' || **p > '9') return false;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return true;
}

/* Reads ".ddd..." into microseconds (truncating past 6 digits). */
static bool fraction(const char **p, const char *end, int64_t *usec)
{
    int64_t v = 0;
    int n = 0;
    *usec = 0;
    if (*p >= end || (**p != '.' && **p != ',')) return true;
    (*p)++;
    while (*p < end && **p >= '0' && **p <= '9') {
        if (n < 6) v = v * 10 + (**p - '0');
        n++;
        (*p)++;
    }
    if (n == 0) return false;
    for (int i = n; i < 6; i++)
        v *= 10;
    *usec = v;
    return true;
}

static bool parse_unix(const char *s, const char *end, int64_t *usec)
{
    const char *p = s;
    bool neg = false;
    int64_t secs = 0, frac;
    int n = 0;
    if (p < end && *p == '-') {
        neg = true;
        p++;
    }
    while (p < end && *p >= '0' && *p <= '9') {
        if (n++ >= 12) return false; /* beyond year 9999 */
        secs = secs * 10 + (*p++ - '0');
    }
    if (n == 0 || !fraction(&p, end, &frac) || p != end) return false;
    *usec = neg ? -(secs * 1000000 + frac) : secs * 1000000 + frac;
    return true;
}

bool fora_time_parse(const char *s, size_t len, int64_t *usec)
{
    const char *p = s, *end = s + len;
    int64_t y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, off = 0;

    if (len == 0) return false;
    if (len < 10 || s[4] != '-') return parse_unix(s, end, usec);
    if (!digits(&p, end, 4, &y) || *p++ != '-' || !digits(&p, end, 2, &mo) || p >= end ||
        *p++ != '-' || !digits(&p, end, 2, &d))
        return false;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, (unsigned)mo)) return false;
    if (p < end && (*p == 'T' || *p == 't' || *p == ' ')) {
        p++;
        if (!digits(&p, end, 2, &h) || p >= end || *p++ != ':' || !digits(&p, end, 2, &mi))
            return false;
        if (p < end && *p == ':') {
            p++;
            if (!digits(&p, end, 2, &sec) || !fraction(&p, end, &frac)) return false;
        }
        if (h > 23 || mi > 59 || sec > 60) return false;
        if (p < end && (*p == 'Z' || *p == 'z')) {
            p++;
        } else if (p < end && (*p == '+' || *p == '-')) {
            int sign = *p++ == '-' ? -1 : 1;
            int64_t oh, om = 0;
            if (!digits(&p, end, 2, &oh)) return false;
            if (p < end && *p == ':') p++;
            if (p < end && !digits(&p, end, 2, &om)) return false;
            if (oh > 18 || om > 59) return false;
            off = sign * (oh * 3600 + om * 60);
        }
    }
    if (p != end) return false;
    int64_t days = fora_days_from_civil(y, (unsigned)mo, (unsigned)d);
    *usec = ((days * 86400 + h * 3600 + mi * 60 + sec) - off) * 1000000 + frac;
    return true;
}

void fora_time_split(int64_t usec, fora_civil_time_t *out)
{
    int64_t secs = usec >= 0 ? usec / 1000000 : -((-usec + 999999) / 1000000);
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t rem = secs - days * 86400;
    fora_civil_from_days(days, &out->year, &out->month, &out->day);
    out->hour = (unsigned)(rem / 3600);
    out->minute = (unsigned)(rem / 60 % 60);
    out->second = (unsigned)(rem % 60);
    out->usec = (unsigned)(usec - secs * 1000000);
}

size_t fora_time_format_pg(int64_t usec, char *buf)
{
    fora_civil_time_t t;
    fora_time_split(usec, &t);
    return (size_t)snprintf(buf, 32, "%04lld-%02u-%02u %02u:%02u:%02u.%06u+00", (long long)t.year,
                            t.month, t.day, t.hour, t.minute, t.second, t.usec);
}
