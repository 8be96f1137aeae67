/*
 * tests/unit/test_tzmap.c - time-zone tables from the C library, and local
 * time through them, across daylight-saving changes.
 *
 * Expected transition instants are those `zdump -v -c 2024,2025 ZONE` prints
 * (tzdata 2024), converted with `date -u -d "..." +%s`:
 *   Europe/Amsterdam    2024-03-31 01:00:00Z 1711846800 +1h -> +2h
 *                       2024-10-27 01:00:00Z 1729990800 +2h -> +1h
 *   America/New_York    2024-03-10 07:00:00Z 1710054000 -5h -> -4h
 *                       2024-11-03 06:00:00Z 1730613600 -4h -> -5h
 *   Australia/Lord_Howe 2024-04-06 15:00:00Z 1712415600 +11h -> +10:30
 *                       2024-10-05 15:30:00Z 1728142200 +10:30 -> +11h
 *   Asia/Kathmandu      1985-12-31 18:30:00Z  504901800 +5:30 -> +5:45
 *   Pacific/Apia        2011-12-30 10:00:00Z 1325239200 -10h -> +14h (30 Dec 2011 skipped)
 */
#include "fora/tzmap.h"
#include "fora/tzmap_load.h"

#include <stdlib.h>

#include "fora_test.h"

#define Y2024 INT64_C(1704067200)
#define Y2025 INT64_C(1735689600)

static fora_tzmap_t *load(const char *zone, int64_t from, int64_t to)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_tzmap_t *m = NULL;
    ASSERT_OK(fora_tzmap_load(zone, from, to, &m, &d), &d);
    ASSERT_STR_EQ(m->zone, zone);
    return m;
}

/* local seconds of a local wall-clock date */
static int64_t L(int y, int mo, int d, int h, int mi)
{
    return fora_tzmap_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60;
}

static void check_local(const fora_tzmap_t *m, int64_t utc, int y, int mo, int d, int h, int mi)
{
    fora_local_civil_t c;
    fora_tzmap_civil(fora_tzmap_local(m, utc), &c);
    if (c.year != y || c.month != mo || c.mday != d || c.hour != h || c.minute != mi)
        FORA_FAIL("%s at %lld: local %04lld-%02d-%02d %02d:%02d, expected %04d-%02d-%02d %02d:%02d",
                  m->zone, (long long)utc, (long long)c.year, c.month, c.mday, c.hour, c.minute, y,
                  mo, d, h, mi);
}

static void test_amsterdam(void)
{
    fora_tzmap_t *m = load("Europe/Amsterdam", Y2024, Y2025);
    ASSERT_EQ(m->n, 3);
    ASSERT_EQ(m->start[0], Y2024);
    ASSERT_EQ(m->offset[0], 3600);
    ASSERT_EQ(m->start[1], 1711846800);
    ASSERT_EQ(m->offset[1], 7200);
    ASSERT_EQ(m->start[2], 1729990800);
    ASSERT_EQ(m->offset[2], 3600);
    check_local(m, 1711846800 - 1, 2024, 3, 31, 1, 59);
    check_local(m, 1711846800, 2024, 3, 31, 3, 0);
    check_local(m, 1729990800 - 1, 2024, 10, 27, 2, 59);
    check_local(m, 1729990800, 2024, 10, 27, 2, 0);
    /* beyond the span the last offset is extended; before it, the first */
    ASSERT_EQ(fora_tzmap_offset(m, Y2025 + 200 * 86400), 3600);
    ASSERT_EQ(fora_tzmap_offset(m, Y2024 - 86400), 3600);
    /* 02:00-03:00 on 31 March does not exist; 02:00-03:00 on 27 October does (twice) */
    ASSERT(!fora_tzmap_local_exists(m, L(2024, 3, 31, 2, 0), L(2024, 3, 31, 3, 0)));
    ASSERT(fora_tzmap_local_exists(m, L(2024, 3, 31, 1, 0), L(2024, 3, 31, 2, 0)));
    ASSERT(fora_tzmap_local_exists(m, L(2024, 3, 31, 3, 0), L(2024, 3, 31, 4, 0)));
    ASSERT(fora_tzmap_local_exists(m, L(2024, 10, 27, 2, 0), L(2024, 10, 27, 3, 0)));
    ASSERT(fora_tzmap_local_exists(m, L(2024, 3, 31, 0, 0), L(2024, 4, 1, 0, 0)));
    /* back from local time: the gap maps to its end, the overlap to its first occurrence */
    ASSERT_EQ(fora_tzmap_utc_of_local(m, L(2024, 3, 31, 2, 30)), 1711846800);
    ASSERT_EQ(fora_tzmap_utc_of_local(m, L(2024, 3, 31, 3, 0)), 1711846800);
    ASSERT_EQ(fora_tzmap_utc_of_local(m, L(2024, 10, 27, 2, 0)), 1729990800 - 3600);
    ASSERT_EQ(fora_tzmap_utc_of_local(m, L(2024, 10, 27, 3, 0)), 1729990800 + 3600);
    ASSERT_EQ(fora_tzmap_utc_of_local(m, L(2024, 1, 1, 0, 0)), Y2024 - 3600);
    /* the cursor agrees with the binary search, forwards and backwards */
    fora_tzmap_cursor_t c;
    fora_tzmap_cursor_init(&c, m);
    for (int64_t t = Y2024 - 86400; t < Y2025 + 86400; t += 1799)
        ASSERT_EQ(fora_tzmap_cursor_local(&c, t), fora_tzmap_local(m, t));
    ASSERT_EQ(fora_tzmap_cursor_local(&c, 1711846800 - 1), 1711846800 - 1 + 3600);
    fora_tzmap_destroy(m);
}

static void test_new_york(void)
{
    fora_tzmap_t *m = load("America/New_York", Y2024, Y2025);
    ASSERT_EQ(m->n, 3);
    ASSERT_EQ(m->offset[0], -18000);
    ASSERT_EQ(m->start[1], 1710054000);
    ASSERT_EQ(m->offset[1], -14400);
    ASSERT_EQ(m->start[2], 1730613600);
    check_local(m, 1710054000 - 1, 2024, 3, 10, 1, 59);
    check_local(m, 1710054000, 2024, 3, 10, 3, 0);
    check_local(m, 1730613600 - 1, 2024, 11, 3, 1, 59);
    check_local(m, 1730613600, 2024, 11, 3, 1, 0);
    check_local(m, Y2024, 2023, 12, 31, 19, 0);
    ASSERT(!fora_tzmap_local_exists(m, L(2024, 3, 10, 2, 0), L(2024, 3, 10, 3, 0)));
    fora_tzmap_destroy(m);
}

static void test_lord_howe(void)
{
    fora_tzmap_t *m = load("Australia/Lord_Howe", Y2024, Y2025);
    ASSERT_EQ(m->n, 3);
    ASSERT_EQ(m->offset[0], 39600);
    ASSERT_EQ(m->start[1], 1712415600);
    ASSERT_EQ(m->offset[1], 37800);
    ASSERT_EQ(m->start[2], 1728142200);
    ASSERT_EQ(m->offset[2], 39600);
    check_local(m, 1712415600 - 1, 2024, 4, 7, 1, 59);
    check_local(m, 1712415600, 2024, 4, 7, 1, 30);
    check_local(m, 1728142200 - 1, 2024, 10, 6, 1, 59);
    check_local(m, 1728142200, 2024, 10, 6, 2, 30);
    /* the 30-minute gap: 02:00-02:30 is missing, but the hour 02:00-03:00 exists */
    ASSERT(!fora_tzmap_local_exists(m, L(2024, 10, 6, 2, 0), L(2024, 10, 6, 2, 30)));
    ASSERT(fora_tzmap_local_exists(m, L(2024, 10, 6, 2, 0), L(2024, 10, 6, 3, 0)));
    ASSERT(!fora_tzmap_local_exists(m, L(2024, 10, 6, 2, 10), L(2024, 10, 6, 2, 20)));
    fora_tzmap_destroy(m);
}

static void test_kathmandu(void)
{
    fora_tzmap_t *m = load("Asia/Kathmandu", 315532800 /* 1980 */, 946684800 /* 2000 */);
    ASSERT_EQ(m->n, 2);
    ASSERT_EQ(m->offset[0], 19800);
    ASSERT_EQ(m->start[1], 504901800);
    ASSERT_EQ(m->offset[1], 20700);
    check_local(m, 504901800 - 1, 1985, 12, 31, 23, 59);
    check_local(m, 504901800, 1986, 1, 1, 0, 15);
    check_local(m, 946684800, 2000, 1, 1, 5, 45);
    /* the quarter hour 00:00-00:15 of 1 January 1986 never happened */
    ASSERT(!fora_tzmap_local_exists(m, L(1986, 1, 1, 0, 0), L(1986, 1, 1, 0, 15)));
    ASSERT(fora_tzmap_local_exists(m, L(1986, 1, 1, 0, 0), L(1986, 1, 1, 1, 0)));
    fora_tzmap_destroy(m);
}

static void test_apia_skipped_day(void)
{
    fora_tzmap_t *m = load("Pacific/Apia", 1325239200 - 86400 * 5, 1325239200 + 86400 * 5);
    check_local(m, 1325239200 - 1, 2011, 12, 29, 23, 59);
    check_local(m, 1325239200, 2011, 12, 31, 0, 0);
    ASSERT(!fora_tzmap_local_exists(m, L(2011, 12, 30, 0, 0), L(2011, 12, 31, 0, 0)));
    ASSERT(fora_tzmap_local_exists(m, L(2011, 12, 29, 0, 0), L(2011, 12, 30, 0, 0)));
    fora_tzmap_destroy(m);
}

static void test_utc_and_civil(void)
{
    fora_tzmap_t *m = load("UTC", Y2024, Y2025);
    ASSERT_EQ(m->n, 1);
    ASSERT_EQ(m->offset[0], 0);
    fora_tzmap_destroy(m);
    /* calendar fields: 2024-01-01 was a Monday, 1970-01-01 a Thursday, 1969-12-31 a Wednesday */
    fora_local_civil_t c;
    fora_tzmap_civil(Y2024, &c);
    ASSERT_EQ(c.weekday, 0);
    ASSERT_EQ(c.week_day, Y2024 / 86400);
    fora_tzmap_civil(0, &c);
    ASSERT_EQ(c.weekday, 3);
    ASSERT_EQ(c.year, 1970);
    fora_tzmap_civil(-1, &c);
    ASSERT_EQ(c.weekday, 2);
    ASSERT_EQ(c.year, 1969);
    ASSERT_EQ(c.month, 12);
    ASSERT_EQ(c.mday, 31);
    ASSERT_EQ(c.hour, 23);
    ASSERT_EQ(c.second, 59);
    ASSERT_EQ(c.week_day, -3); /* Monday 1969-12-29 */
    fora_tzmap_civil(L(2024, 2, 29, 13, 7), &c);
    ASSERT_EQ(c.month, 2);
    ASSERT_EQ(c.mday, 29);
    ASSERT_EQ(c.weekday, 3); /* Thursday */
    ASSERT_EQ(fora_tzmap_days_from_civil(2000, 3, 1), 11017);
}

static void test_bad_zones(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_tzmap_t *m = NULL;
    const char *bad[] = {"Mars/Olympus_Mons",  "",        "../etc/passwd",
                         "/etc/localtime",     "Europe/", "Europe//Paris",
                         "Europe/amsterdam x", "zone.tab"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fora_diag_clear(&d);
        ASSERT_EQ(fora_tzmap_load(bad[i], Y2024, Y2025, &m, &d), FORA_EINVAL);
        ASSERT(m == NULL);
        if (*bad[i] != '\0' && strstr(d.msg, bad[i]) == NULL) FORA_FAIL("message: %s", d.msg);
    }
    fora_diag_clear(&d);
    ASSERT_EQ(fora_tzmap_check_zone("Mars/Olympus_Mons", &d), FORA_EINVAL);
    ASSERT_STR_EQ(d.msg, "unknown time zone \"Mars/Olympus_Mons\"");
    /* a directory of the database is not a zone */
    fora_diag_clear(&d);
    ASSERT_EQ(fora_tzmap_check_zone("Europe", &d), FORA_EINVAL);
    fora_diag_clear(&d);
    ASSERT_EQ(fora_tzmap_load("UTC", Y2025, Y2024, &m, &d), FORA_EINVAL);
    /* hand-made tables are checked too */
    int64_t st[] = {0, 100, 50};
    int32_t of[] = {0, 3600, 0};
    fora_diag_clear(&d);
    ASSERT_EQ(fora_tzmap_create("X", st, of, 3, &m, &d), FORA_EINVAL);
    int64_t st2[] = {0, 100, 200};
    fora_diag_clear(&d);
    ASSERT_EQ(fora_tzmap_create("X", st2, of, 3, &m, &d),
              FORA_EINVAL); /* 100 s segment, 1 h shifts */
    int32_t of2[] = {0, 27 * 3600, 0};
    fora_diag_clear(&d);
    ASSERT_EQ(fora_tzmap_create("X", st2, of2, 3, &m, &d), FORA_EINVAL);
    ASSERT(m == NULL);
}

int main(void)
{
    FORA_RUN(test_amsterdam);
    FORA_RUN(test_new_york);
    FORA_RUN(test_lord_howe);
    FORA_RUN(test_kathmandu);
    FORA_RUN(test_apia_skipped_day);
    FORA_RUN(test_utc_and_civil);
    FORA_RUN(test_bad_zones);
    return 0;
}
