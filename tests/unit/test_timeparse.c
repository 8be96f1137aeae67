/*
 * tests/unit/test_timeparse.c - the accepted timestamp forms, by hand-worked
 * values (checked against `date -u -d ... +%s`).
 */
#include <string.h>

#include "fora/timeparse.h"
#include "fora_test.h"

static int64_t parse(const char *s)
{
    int64_t us = 0;
    if (!fora_time_parse(s, strlen(s), &us)) FORA_FAIL("rejected \"%s\"", s);
    return us;
}

static bool rejects(const char *s)
{
    int64_t us;
    return !fora_time_parse(s, strlen(s), &us);
}

static void test_iso(void)
{
    ASSERT_EQ(parse("1970-01-01"), 0);
    ASSERT_EQ(parse("2014-01-21T20:26:05.383"), 1390335965383000LL);
    ASSERT_EQ(parse("2014-01-21 20:26:05Z"), 1390335965000000LL);
    ASSERT_EQ(parse("2014-01-21T22:26:05+02:00"), 1390335965000000LL);
    ASSERT_EQ(parse("2014-01-21T15:26:05-0500"), 1390335965000000LL);
    ASSERT_EQ(parse("2014-01-21T20:26"), 1390335960000000LL);
    ASSERT_EQ(parse("2000-02-29T00:00:00Z"), 951782400000000LL);         /* leap day */
    ASSERT_EQ(parse("1969-12-31T23:59:59.5Z"), -500000LL);               /* before the epoch */
    ASSERT_EQ(parse("2014-01-21T20:26:05.1234567"), 1390335965123456LL); /* truncated */
}

static void test_unix(void)
{
    ASSERT_EQ(parse("1390335965"), 1390335965000000LL);
    ASSERT_EQ(parse("1390335965.25"), 1390335965250000LL);
    ASSERT_EQ(parse("0"), 0);
    ASSERT_EQ(parse("-86400"), -86400000000LL);
}

static void test_rejected(void)
{
    ASSERT(rejects(""));
    ASSERT(rejects("yesterday"));
    ASSERT(rejects("2014-13-01"));
    ASSERT(rejects("2014-04-31"));
    ASSERT(rejects("1900-02-29")); /* not a leap year */
    ASSERT(rejects("2014-01-21T24:00"));
    ASSERT(rejects("2014-01-21T20:60"));
    ASSERT(rejects("2014-01-21T20:26:05+25:00"));
    ASSERT(rejects("2014-01-21T20:26:05 trailing"));
    ASSERT(rejects("2014-1-21"));
    ASSERT(rejects("12.5.3"));
    ASSERT(rejects("1390335965."));
    ASSERT(rejects("99999999999999"));
}

static void test_format_round_trip(void)
{
    char buf[40];
    fora_time_format_pg(1390335965383000LL, buf);
    ASSERT_STR_EQ(buf, "2014-01-21 20:26:05.383000+00");
    fora_time_format_pg(-500000LL, buf);
    ASSERT_STR_EQ(buf, "1969-12-31 23:59:59.500000+00");
    /* every day of four centuries survives civil -> days -> civil */
    for (int64_t d = -146097 * 2; d < 146097 * 2; d += 7) {
        int64_t y;
        unsigned m, dd;
        fora_civil_from_days(d, &y, &m, &dd);
        ASSERT_EQ(fora_days_from_civil(y, m, dd), d);
    }
}

int main(void)
{
    FORA_RUN(test_iso);
    FORA_RUN(test_unix);
    FORA_RUN(test_rejected);
    FORA_RUN(test_format_round_trip);
    return 0;
}
