/*
 * tests/unit/test_rhythms.c - series, rolling means, trends, autocorrelation,
 * profiles and shares, on a forum worked by hand in Europe/Amsterdam across
 * both 2024 daylight-saving changes, plus statistics on textbook series.
 *
 * Amsterdam 2024: CET (+1) until 2024-03-31 01:00Z, CEST (+2) until
 * 2024-10-27 01:00Z.  On 31 March local 02:00-03:00 does not exist; on
 * 27 October local 02:00-03:00 happens twice.
 *
 * Boards 1 "b1" category "x", 2 "b2" category "y".
 * Members 11 A (registered 2024-03-01Z, "member"), 12 B (registered
 * 2024-03-30 23:20Z = 31 March 00:20 local, "member"), 13 C (no
 * registration, "vip"), 14 D (registered 2024-10-01Z, "member").
 * Threads 21 T1 (b1, A), 22 T2 (b2, B), 23 T3 (b1, D), created at their first posts.
 *
 *   post  UTC                   unix        local (Amsterdam)      thread author
 *   101   2024-03-30 23:30Z     1711841400  31 Mar 00:30 CET       T1     A
 *   102   2024-03-31 00:10Z     1711843800  31 Mar 01:10 CET       T2     B
 *   103   2024-03-31 00:50Z     1711846200  31 Mar 01:50 CET       T1     A
 *   104   2024-03-31 00:55Z     1711846500  31 Mar 01:55 CET       T1     A
 *   105   2024-03-31 01:05Z     1711847100  31 Mar 03:05 CEST      T1     A
 *   106   2024-03-31 01:40Z     1711849200  31 Mar 03:40 CEST      T2     C
 *   107   2024-03-31 22:30Z     1711924200   1 Apr 00:30 CEST      T2     B
 *   108   2024-10-27 00:15Z     1729988100  27 Oct 02:15 CEST      T3     D
 *   109   2024-10-27 01:15Z     1729991700  27 Oct 02:15 CET       T3     D
 *
 * Hourly window [2024-03-30 23:00Z, 2024-03-31 02:00Z) = local 00:00-04:00:
 * bins 00, 01, 03 (02 never happened).
 *   posts [1, 3, 2]; active [1, 2, 2] (A twice in 01); category x posts
 *   [1, 2, 1], y [0, 1, 1]; active x [1, 1, 1], y [0, 1, 1]; status "member"
 *   posts [1, 3, 1], "vip" [0, 0, 1]; new members by first post [1, 1, 1]
 *   (A 101, B 102, C 106), by registration [1, 0, 0] (B); new threads [1, 1, 0].
 */
#include "fora/rhythms.h"
#include "fora/tzmap_load.h"

#include <gsl/gsl_errno.h>
#include <stdlib.h>

#include "fora_test.h"

#define NONE FORA_ID_NONE
#define TNONE FORA_TIME_NONE
#define H0 INT64_C(1711839600) /* 2024-03-30 23:00Z = 31 March 00:00 local */

static fora_snapshot_t *build_forum(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *s = NULL;
    ASSERT_OK(fora_snapshot_create(1, "ams", "Europe/Amsterdam", 1, &s, &d), &d);
    ASSERT_OK(fora_snapshot_add_board(s, 1, "b1", NONE, "x", &d), &d);
    ASSERT_OK(fora_snapshot_add_board(s, 2, "b2", NONE, "y", &d), &d);
    ASSERT_OK(fora_snapshot_add_member(s, 11, "A", 1709251200, "member", TNONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_member(s, 12, "B", 1711840800, "member", TNONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_member(s, 13, "C", TNONE, "vip", TNONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_member(s, 14, "D", 1727740800, "member", TNONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_thread(s, 21, "T1", 1, 11, 1711841400, &d), &d);
    ASSERT_OK(fora_snapshot_add_thread(s, 22, "T2", 2, 12, 1711843800, &d), &d);
    ASSERT_OK(fora_snapshot_add_thread(s, 23, "T3", 1, 14, 1729988100, &d), &d);
    static const struct {
        int64_t id, t, thread, author;
    } p[] = {
        {109, 1729991700, 23, 14}, {101, 1711841400, 21, 11}, {105, 1711847100, 21, 11},
        {102, 1711843800, 22, 12}, {103, 1711846200, 21, 11}, {104, 1711846500, 21, 11},
        {106, 1711849200, 22, 13}, {107, 1711924200, 22, 12}, {108, 1729988100, 23, 14},
    };
    for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++)
        ASSERT_OK(fora_snapshot_add_post(s, p[i].id, p[i].thread, p[i].author, p[i].t, NONE, &d),
                  &d);
    ASSERT_OK(fora_snapshot_finish(s, &d), &d);
    return s;
}

static fora_tzmap_t *zone(const char *name)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_tzmap_t *m = NULL;
    ASSERT_OK(fora_tzmap_load(name, 1704067200 /* 2024 */, 1735689600 /* 2025 */, &m, &d), &d);
    return m;
}

static void check_counts(const int64_t *got, const int64_t *want, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (got[i] != want[i])
            FORA_FAIL("%s[%zu] = %lld, expected %lld", what, i, (long long)got[i],
                      (long long)want[i]);
}

static fora_series_t *series(const fora_snapshot_t *s, const fora_tzmap_t *tz, fora_bin_t bin,
                             int64_t from, int64_t to, fora_split_t split)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_series_opts_t o;
    fora_series_opts_init(&o);
    o.bin = bin;
    o.from = from;
    o.to = to;
    o.split = split;
    fora_series_t *r = NULL;
    ASSERT_OK(fora_series_compute(s, tz, &o, &r, &d), &d);
    return r;
}

static void test_hourly_spring_forward(void)
{
    fora_snapshot_t *s = build_forum();
    fora_tzmap_t *tz = zone("Europe/Amsterdam");
    fora_series_t *r = series(s, tz, FORA_BIN_HOUR, H0, H0 + 3 * 3600, FORA_SPLIT_CATEGORY);
    ASSERT_EQ(r->nbins, 3);
    ASSERT_STR_EQ(r->zone, "Europe/Amsterdam");
    /* bins 00:00 CET, 01:00 CET, 03:00 CEST */
    int64_t ls[] = {1711843200, 1711846800, 1711854000}; /* local seconds of 31 Mar 00, 01, 03 */
    int64_t us[] = {H0, H0 + 3600, H0 + 7200}, ue[] = {H0 + 3600, H0 + 7200, H0 + 10800};
    check_counts(r->local_start, ls, 3, "local_start");
    check_counts(r->utc_start, us, 3, "utc_start");
    check_counts(r->utc_end, ue, 3, "utc_end");
    int64_t posts[] = {1, 3, 2}, active[] = {1, 2, 2}, newm[] = {1, 1, 1}, newt[] = {1, 1, 0};
    check_counts(r->count[FORA_MEASURE_POSTS], posts, 3, "posts");
    check_counts(r->count[FORA_MEASURE_ACTIVE], active, 3, "active");
    check_counts(r->count[FORA_MEASURE_NEW_MEMBERS], newm, 3, "new members");
    check_counts(r->count[FORA_MEASURE_NEW_THREADS], newt, 3, "new threads");
    ASSERT_EQ(r->ngroups, 2);
    int32_t x = fora_snapshot_category_index(s, "x"), y = fora_snapshot_category_index(s, "y");
    ASSERT_STR_EQ(r->group_labels[x], "x");
    int64_t px[] = {1, 2, 1}, py[] = {0, 1, 1}, ax[] = {1, 1, 1}, ay[] = {0, 1, 1};
    int64_t nx[] = {1, 0, 0}, ny[] = {0, 1, 1}, tx[] = {1, 0, 0}, ty[] = {0, 1, 0};
    check_counts(r->group_count[FORA_MEASURE_POSTS] + 3 * x, px, 3, "posts x");
    check_counts(r->group_count[FORA_MEASURE_POSTS] + 3 * y, py, 3, "posts y");
    check_counts(r->group_count[FORA_MEASURE_ACTIVE] + 3 * x, ax, 3, "active x");
    check_counts(r->group_count[FORA_MEASURE_ACTIVE] + 3 * y, ay, 3, "active y");
    /* new members by the category of their first post: A in x, B and C in y */
    check_counts(r->group_count[FORA_MEASURE_NEW_MEMBERS] + 3 * x, nx, 3, "new members x");
    check_counts(r->group_count[FORA_MEASURE_NEW_MEMBERS] + 3 * y, ny, 3, "new members y");
    check_counts(r->group_count[FORA_MEASURE_NEW_THREADS] + 3 * x, tx, 3, "new threads x");
    check_counts(r->group_count[FORA_MEASURE_NEW_THREADS] + 3 * y, ty, 3, "new threads y");

    /* the share of category x per bin: 1, 2/3, 1/2 of the posts; of new threads 1, 0, - */
    fora_diag_t d = FORA_DIAG_INIT;
    double sv[3];
    bool sdef[3];
    ASSERT_OK(fora_series_share_values(r, FORA_MEASURE_POSTS, x, sv, sdef, &d), &d);
    ASSERT(sdef[0] && sdef[1] && sdef[2]);
    ASSERT_NEAR(sv[1], 2.0 / 3, 1e-15);
    ASSERT_NEAR(sv[2], 0.5, 1e-15);
    ASSERT_OK(fora_series_share_values(r, FORA_MEASURE_NEW_THREADS, x, sv, sdef, &d), &d);
    ASSERT(sdef[0] && sdef[1] && !sdef[2]);
    ASSERT_NEAR(sv[0], 1, 0);
    ASSERT_NEAR(sv[1], 0, 0);
    ASSERT_NEAR(sv[2], 0, 0);
    ASSERT_EQ(fora_series_share_values(r, FORA_MEASURE_POSTS, 2, sv, sdef, &d), FORA_EINVAL);
    fora_diag_clear(&d);

    /* the share of category x per hour of day: 1, 2/3, -, 1/2; amplitude 1 / (1/2) */
    fora_share_t *sh = NULL;
    ASSERT_OK(fora_share_compute(r, FORA_PROFILE_HOUR_OF_DAY, x, &sh, &d), &d);
    ASSERT_EQ(sh->nslots, 24);
    ASSERT(sh->posts_defined[0] && sh->posts_defined[1] && !sh->posts_defined[2] &&
           sh->posts_defined[3] && !sh->posts_defined[4]);
    ASSERT_NEAR(sh->posts[0], 1.0, 1e-15);
    ASSERT_NEAR(sh->posts[1], 2.0 / 3, 1e-15);
    ASSERT_NEAR(sh->posts[3], 0.5, 1e-15);
    ASSERT(sh->posts_amplitude_defined);
    ASSERT_NEAR(sh->posts_amplitude, 2.0, 1e-15);
    ASSERT_EQ(sh->posts_max_slot, 0);
    ASSERT_EQ(sh->posts_min_slot, 3);
    ASSERT_NEAR(sh->active[1], 0.5, 1e-15);
    ASSERT_NEAR(sh->active_amplitude, 2.0, 1e-15);
    fora_share_destroy(sh);
    /* y has no posts at 00: its minimum share is 0, so no amplitude */
    ASSERT_OK(fora_share_compute(r, FORA_PROFILE_HOUR_OF_DAY, y, &sh, &d), &d);
    ASSERT(sh->posts_defined[0]);
    ASSERT_NEAR(sh->posts[0], 0.0, 0);
    ASSERT(!sh->posts_amplitude_defined);
    ASSERT_NEAR(sh->posts_amplitude, 0.0, 0);
    fora_share_destroy(sh);
    fora_series_destroy(r);

    /* by status, and new members by registration */
    fora_series_opts_t o;
    fora_series_opts_init(&o);
    o.bin = FORA_BIN_HOUR;
    o.from = H0;
    o.to = H0 + 3 * 3600;
    o.split = FORA_SPLIT_STATUS;
    o.new_members = FORA_NEW_MEMBER_REGISTRATION;
    ASSERT_OK(fora_series_compute(s, tz, &o, &r, &d), &d);
    int32_t mem = fora_snapshot_status_index(s, "member"),
            vip = fora_snapshot_status_index(s, "vip");
    int64_t pm[] = {1, 3, 1}, pv[] = {0, 0, 1}, reg[] = {1, 0, 0};
    check_counts(r->group_count[FORA_MEASURE_POSTS] + 3 * mem, pm, 3, "posts member");
    check_counts(r->group_count[FORA_MEASURE_POSTS] + 3 * vip, pv, 3, "posts vip");
    check_counts(r->count[FORA_MEASURE_NEW_MEMBERS], reg, 3, "registrations");
    fora_series_destroy(r);

    /* a per-member group array: A and D in "g0", B in "g1", C in none */
    int32_t grp[] = {0, 1, -1, 0};
    const char *labels[] = {"g0", "g1"};
    o.split = FORA_SPLIT_GROUP;
    o.member_group = grp;
    o.ngroups = 2;
    o.group_labels = labels;
    o.new_members = FORA_NEW_MEMBER_FIRST_POST;
    ASSERT_OK(fora_series_compute(s, tz, &o, &r, &d), &d);
    ASSERT_STR_EQ(r->group_labels[1], "g1");
    int64_t g0[] = {1, 2, 1}, g1[] = {0, 1, 0}, g0a[] = {1, 1, 1};
    check_counts(r->group_count[FORA_MEASURE_POSTS], g0, 3, "posts g0");
    check_counts(r->group_count[FORA_MEASURE_POSTS] + 3, g1, 3, "posts g1");
    check_counts(r->group_count[FORA_MEASURE_ACTIVE], g0a, 3, "active g0");
    fora_series_destroy(r);
    /* a group outside the array's range */
    grp[2] = 2;
    fora_diag_clear(&d);
    ASSERT_EQ(fora_series_compute(s, tz, &o, &r, &d), FORA_EINVAL);
    ASSERT(strstr(d.msg, "member \"C\"") != NULL);
    o.member_group = NULL;
    fora_diag_clear(&d);
    ASSERT_EQ(fora_series_compute(s, tz, &o, &r, &d), FORA_EINVAL);

    fora_tzmap_destroy(tz);
    fora_snapshot_destroy(s);
}

static void test_fall_back_and_calendar_bins(void)
{
    fora_snapshot_t *s = build_forum();
    fora_tzmap_t *tz = zone("Europe/Amsterdam");
    /* 27 October local 00:00-04:00 = 26 Oct 22:00Z - 27 Oct 03:00Z: 4 bins, hour 2 twice as long */
    int64_t d0 = 1729980000; /* 2024-10-26 22:00Z */
    fora_series_t *r = series(s, tz, FORA_BIN_HOUR, d0, d0 + 5 * 3600, FORA_SPLIT_NONE);
    ASSERT_EQ(r->nbins, 4);
    int64_t posts[] = {0, 0, 2, 0}, active[] = {0, 0, 1, 0};
    check_counts(r->count[FORA_MEASURE_POSTS], posts, 4, "posts");
    check_counts(r->count[FORA_MEASURE_ACTIVE], active, 4, "active");
    ASSERT_EQ(r->utc_start[2], 1729987200); /* 00:00Z = 02:00 CEST */
    ASSERT_EQ(r->utc_end[2], 1729994400);   /* 02:00Z = 03:00 CET */
    fora_series_destroy(r);

    /* days over the whole data: 31 March (23 h) .. 27 October (25 h), 211 days */
    r = series(s, tz, FORA_BIN_DAY, TNONE, TNONE, FORA_SPLIT_NONE);
    ASSERT_EQ(r->nbins, 211);
    ASSERT_EQ(r->count[FORA_MEASURE_POSTS][0], 6);
    ASSERT_EQ(r->count[FORA_MEASURE_POSTS][1], 1);
    ASSERT_EQ(r->count[FORA_MEASURE_POSTS][210], 2);
    ASSERT_EQ(r->utc_end[0] - r->utc_start[0], 23 * 3600);
    ASSERT_EQ(r->utc_end[210] - r->utc_start[210], 25 * 3600);
    ASSERT_EQ(r->utc_end[100] - r->utc_start[100], 24 * 3600);
    int64_t total = 0;
    for (size_t b = 0; b < r->nbins; b++)
        total += r->count[FORA_MEASURE_POSTS][b];
    ASSERT_EQ(total, 9);
    fora_series_destroy(r);

    /* ISO weeks: Monday 25 March .. Monday 21 October, 31 weeks; post 107 is
     * Monday 1 April locally (Sunday 31 March in UTC) */
    r = series(s, tz, FORA_BIN_WEEK, TNONE, TNONE, FORA_SPLIT_NONE);
    ASSERT_EQ(r->nbins, 31);
    ASSERT_EQ(r->count[FORA_MEASURE_POSTS][0], 6);
    ASSERT_EQ(r->count[FORA_MEASURE_POSTS][1], 1);
    ASSERT_EQ(r->count[FORA_MEASURE_POSTS][30], 2);
    ASSERT_EQ(r->utc_start[0], 1711321200); /* Monday 2024-03-25 00:00 CET = 24 Mar 23:00Z */
    ASSERT_EQ(r->utc_start[1], 1711922400); /* Monday 2024-04-01 00:00 CEST = 31 Mar 22:00Z */
    ASSERT_EQ(r->count[FORA_MEASURE_ACTIVE][0], 3);
    ASSERT_EQ(r->count[FORA_MEASURE_NEW_MEMBERS][30], 1); /* D */
    fora_series_destroy(r);

    /* months: March .. October; 107 is in April locally */
    r = series(s, tz, FORA_BIN_MONTH, TNONE, TNONE, FORA_SPLIT_NONE);
    ASSERT_EQ(r->nbins, 8);
    int64_t mp[] = {6, 1, 0, 0, 0, 0, 0, 2};
    check_counts(r->count[FORA_MEASURE_POSTS], mp, 8, "monthly posts");
    ASSERT_EQ(r->utc_start[1], 1711922400); /* 1 April 00:00 CEST */
    fora_series_destroy(r);

    /* in UTC the same post is in March */
    fora_tzmap_t *utc = zone("UTC");
    r = series(s, utc, FORA_BIN_MONTH, TNONE, TNONE, FORA_SPLIT_NONE);
    ASSERT_EQ(r->nbins, 8);
    ASSERT_EQ(r->count[FORA_MEASURE_POSTS][0], 7);
    ASSERT_EQ(r->count[FORA_MEASURE_POSTS][1], 0);
    fora_series_destroy(r);
    fora_tzmap_destroy(utc);

    /* an empty window and an empty snapshot are empty series, not errors */
    r = series(s, tz, FORA_BIN_DAY, H0, H0, FORA_SPLIT_CATEGORY);
    ASSERT_EQ(r->nbins, 0);
    fora_diag_t d = FORA_DIAG_INIT;
    fora_profile_t *p = NULL;
    fora_diag_clear(&d);
    ASSERT_OK(fora_profile_compute(r, FORA_PROFILE_DAY_OF_WEEK, FORA_MEASURE_POSTS, -1, 2, &p, &d),
              &d);
    for (size_t i = 0; i < 7; i++)
        ASSERT(!p->slots[i].defined && p->slots[i].n == 0 && p->slots[i].mean == 0);
    fora_profile_destroy(p);
    fora_series_destroy(r);
    fora_snapshot_t *e = NULL;
    ASSERT_OK(fora_snapshot_create(2, "empty", NULL, 1, &e, &d), &d);
    ASSERT_OK(fora_snapshot_finish(e, &d), &d);
    r = series(e, tz, FORA_BIN_HOUR, TNONE, TNONE, FORA_SPLIT_STATUS);
    ASSERT_EQ(r->nbins, 0);
    ASSERT_EQ(r->ngroups, 0);
    fora_series_destroy(r);
    fora_snapshot_destroy(e);
    fora_tzmap_destroy(tz);
    fora_snapshot_destroy(s);
}

static void test_kathmandu_hours(void)
{
    /* +5:45: local hours start at :15 UTC.  Posts 101..106 are at local 05:15,
     * 05:55, 06:35, 06:40, 06:50 and 07:25 on 31 March */
    fora_snapshot_t *s = build_forum();
    fora_tzmap_t *tz = zone("Asia/Kathmandu");
    fora_series_t *r = series(s, tz, FORA_BIN_HOUR, 1711841400, 1711850400, FORA_SPLIT_NONE);
    /* the window is local 05:15 .. 07:45 -> bins 05, 06, 07 */
    ASSERT_EQ(r->nbins, 3);
    ASSERT_EQ(r->utc_start[0], 1711840500); /* 05:00 +0545 = 23:15Z */
    ASSERT_EQ(r->utc_end[2], 1711851300);   /* 08:00 +0545 = 02:15Z */
    int64_t posts[] = {2, 3, 1};
    check_counts(r->count[FORA_MEASURE_POSTS], posts, 3, "posts");
    fora_series_destroy(r);
    fora_tzmap_destroy(tz);
    fora_snapshot_destroy(s);
}

static void test_step_back_across_midnight(void)
{
    /* a made-up zone whose offset drops from +1 h to -1 h at T = 2024-01-02 00:30Z, so local
     * time steps back from 2 January 01:30 to 1 January 22:30: the window [T - 30 min,
     * T + 30 min) starts on 2 January and ends on 1 January, locally.  Posts at T - 15 min
     * (2 Jan 01:15) and T + 15 min (1 Jan 22:45) fall on both days. */
    const int64_t T = 1704155400;
    int64_t st[] = {T - 86400, T};
    int32_t of[] = {3600, -3600};
    fora_diag_t d = FORA_DIAG_INIT;
    fora_tzmap_t *tz = NULL;
    ASSERT_OK(fora_tzmap_create("Test/Back", st, of, 2, &tz, &d), &d);
    fora_snapshot_t *s = NULL;
    ASSERT_OK(fora_snapshot_create(3, "back", NULL, 1, &s, &d), &d);
    ASSERT_OK(fora_snapshot_add_board(s, 1, "b", NONE, NULL, &d), &d);
    ASSERT_OK(fora_snapshot_add_member(s, 1, "m", TNONE, NULL, TNONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_thread(s, 1, "t", 1, 1, T - 900, &d), &d);
    ASSERT_OK(fora_snapshot_add_post(s, 1, 1, 1, T - 900, NONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_post(s, 2, 1, 1, T + 900, NONE, &d), &d);
    ASSERT_OK(fora_snapshot_finish(s, &d), &d);
    fora_series_t *r = series(s, tz, FORA_BIN_DAY, T - 1800, T + 1800, FORA_SPLIT_NONE);
    ASSERT_EQ(r->nbins, 2);
    ASSERT_EQ(r->local_start[0], 1704067200); /* 1 January */
    int64_t posts[] = {1, 1}, active[] = {1, 1};
    check_counts(r->count[FORA_MEASURE_POSTS], posts, 2, "posts");
    check_counts(r->count[FORA_MEASURE_ACTIVE], active, 2, "active");
    fora_series_destroy(r);
    fora_snapshot_destroy(s);
    fora_tzmap_destroy(tz);
}

static void test_dst_day_profile(void)
{
    fora_snapshot_t *s = build_forum();
    fora_tzmap_t *tz = zone("Europe/Amsterdam");
    fora_diag_t d = FORA_DIAG_INIT;
    /* 31 March local: 23 hour bins; slot 2 has no sample at all */
    fora_series_t *r = series(s, tz, FORA_BIN_HOUR, H0, H0 + 23 * 3600, FORA_SPLIT_NONE);
    ASSERT_EQ(r->nbins, 23);
    fora_profile_t *p = NULL;
    ASSERT_OK(fora_profile_compute(r, FORA_PROFILE_HOUR_OF_DAY, FORA_MEASURE_POSTS, -1, 0, &p, &d),
              &d);
    ASSERT_EQ(p->samples, 23);
    ASSERT(!p->slots[2].defined);
    ASSERT_EQ(p->slots[2].n, 0);
    ASSERT_EQ(p->slots[1].n, 1);
    ASSERT_NEAR(p->slots[1].mean, 3, 0);
    ASSERT_NEAR(p->slots[3].median, 2, 0);
    ASSERT_NEAR(p->slots[0].max, 1, 0);
    ASSERT_NEAR(p->slots[23].mean, 0, 0);
    ASSERT(p->slots[23].defined);
    fora_profile_destroy(p);
    /* the heat map: Sunday (6) at 01 holds the 3 posts */
    ASSERT_OK(fora_profile_compute(r, FORA_PROFILE_WEEK_HOUR, FORA_MEASURE_ACTIVE, -1, 0, &p, &d),
              &d);
    ASSERT_EQ(p->nslots, 168);
    ASSERT_NEAR(p->slots[6 * 24 + 1].mean, 2, 0);
    ASSERT(!p->slots[6 * 24 + 2].defined);
    ASSERT(!p->slots[0].defined); /* no Monday in the window */
    fora_profile_destroy(p);
    /* dropping the emptiest 5 % of 23 bins drops floor(1.15) = 1: the first empty bin, 04:00 */
    ASSERT_OK(fora_profile_compute(r, FORA_PROFILE_HOUR_OF_DAY, FORA_MEASURE_POSTS, -1, 5, &p, &d),
              &d);
    ASSERT_EQ(p->dropped, 1);
    ASSERT(!p->slots[4].defined);
    ASSERT(p->slots[5].defined);
    fora_profile_destroy(p);
    /* 45 % drops floor(10.35) = 10 bins: 04..13 (the zeros, earliest first) */
    ASSERT_OK(fora_profile_compute(r, FORA_PROFILE_HOUR_OF_DAY, FORA_MEASURE_POSTS, -1, 45, &p, &d),
              &d);
    ASSERT_EQ(p->dropped, 10);
    ASSERT(!p->slots[13].defined && p->slots[14].defined && p->slots[0].defined);
    fora_profile_destroy(p);
    /* errors name the parameter */
    fora_diag_clear(&d);
    ASSERT_EQ(fora_profile_compute(r, FORA_PROFILE_DAY_OF_WEEK, FORA_MEASURE_POSTS, -1, 0, &p, &d),
              FORA_EINVAL);
    ASSERT(strstr(d.msg, "\"bin\"") != NULL);
    fora_diag_clear(&d);
    ASSERT_EQ(
        fora_profile_compute(r, FORA_PROFILE_HOUR_OF_DAY, FORA_MEASURE_POSTS, -1, 100, &p, &d),
        FORA_EINVAL);
    ASSERT(strstr(d.msg, "\"drop\"") != NULL);
    fora_diag_clear(&d);
    fora_share_t *sh = NULL;
    ASSERT_EQ(fora_share_compute(r, FORA_PROFILE_HOUR_OF_DAY, 0, &sh, &d), FORA_EINVAL);
    ASSERT(strstr(d.msg, "\"split\"") != NULL);
    fora_series_destroy(r);

    /* 27 October: 24 bins for 25 hours, hour 2 holds both 02:15s */
    r = series(s, tz, FORA_BIN_HOUR, 1729980000, 1729980000 + 25 * 3600, FORA_SPLIT_NONE);
    ASSERT_EQ(r->nbins, 24);
    ASSERT_OK(fora_profile_compute(r, FORA_PROFILE_HOUR_OF_DAY, FORA_MEASURE_POSTS, -1, 0, &p, &d),
              &d);
    ASSERT_NEAR(p->slots[2].mean, 2, 0);
    ASSERT_EQ(p->slots[2].n, 1);
    fora_profile_destroy(p);
    fora_series_destroy(r);

    /* day of week over the whole data: 211 days, Sundays 31 Mar .. 27 Oct = 31 samples */
    r = series(s, tz, FORA_BIN_DAY, TNONE, TNONE, FORA_SPLIT_NONE);
    ASSERT_OK(fora_profile_compute(r, FORA_PROFILE_DAY_OF_WEEK, FORA_MEASURE_POSTS, -1, 0, &p, &d),
              &d);
    ASSERT_EQ(p->slots[6].n, 31);
    ASSERT_EQ(p->slots[0].n, 30);
    ASSERT_NEAR(p->slots[6].mean, 8.0 / 31, 1e-15);
    ASSERT_NEAR(p->slots[6].median, 0, 0);
    ASSERT_EQ(p->slots[6].outliers_high, 2); /* the 6 and the 2 are beyond q3 + 1.5 * 0 */
    ASSERT_NEAR(p->slots[0].max, 1, 0);      /* Monday 1 April */
    fora_profile_destroy(p);
    fora_series_destroy(r);
    fora_tzmap_destroy(tz);
    fora_snapshot_destroy(s);
}

static void test_box_stats(void)
{
    /* R: x <- c(1:9, 100); quantile(x, c(.25, .5, .75)) gives 3.25 5.5 7.75 (type 7);
     * IQR 4.5, fences -3.5 and 14.5: whiskers 1 and 9, one high outlier (100); mean 14.5 */
    double x[] = {100, 9, 1, 8, 2, 7, 3, 6, 4, 5};
    fora_box_t b;
    fora_box_stats(x, 10, &b);
    ASSERT(b.defined);
    ASSERT_EQ(b.n, 10);
    ASSERT_NEAR(b.q1, 3.25, 1e-15);
    ASSERT_NEAR(b.median, 5.5, 1e-15);
    ASSERT_NEAR(b.q3, 7.75, 1e-15);
    ASSERT_NEAR(b.iqr, 4.5, 1e-15);
    ASSERT_NEAR(b.mean, 14.5, 1e-15);
    ASSERT_NEAR(b.whisker_low, 1, 0);
    ASSERT_NEAR(b.whisker_high, 9, 0);
    ASSERT_EQ(b.outliers_low, 0);
    ASSERT_EQ(b.outliers_high, 1);
    ASSERT_NEAR(b.min, 1, 0);
    ASSERT_NEAR(b.max, 100, 0);
    /* quantile(c(-50, 2, 3, 4), type = 7): 0.25 -> -50 + 0.75 * 52 = -11, 0.75 -> 3.25;
     * IQR 14.25, lower fence -32.375: -50 is an outlier, whisker 2 */
    double y[] = {4, -50, 3, 2};
    fora_box_stats(y, 4, &b);
    ASSERT_NEAR(b.q1, -11, 1e-15);
    ASSERT_NEAR(b.q3, 3.25, 1e-15);
    ASSERT_NEAR(b.median, 2.5, 1e-15);
    ASSERT_NEAR(b.whisker_low, 2, 0);
    ASSERT_EQ(b.outliers_low, 1);
    ASSERT_NEAR(b.whisker_high, 4, 0);
    double one[] = {7};
    fora_box_stats(one, 1, &b);
    ASSERT(b.defined && b.q1 == 7 && b.q3 == 7 && b.whisker_low == 7 && b.outliers_high == 0);
    fora_box_stats(NULL, 0, &b);
    ASSERT(!b.defined && b.mean == 0);
}

static void test_acf(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    /* R: acf(1:5, plot = FALSE) gives 1, 0.4, -0.1, -0.4, -0.4 (worked by hand:
     * deviations -2 -1 0 1 2, sum of squares 10; lag 1: (2 + 0 + 0 + 2) / 10 ...) */
    double x[] = {1, 2, 3, 4, 5};
    fora_acf_t *a = NULL;
    ASSERT_OK(fora_acf_compute(x, 5, 10, &a, &d), &d);
    ASSERT(a->defined);
    ASSERT_EQ(a->max_lag, 4);
    double want[] = {1, 0.4, -0.1, -0.4, -0.4};
    for (int k = 0; k <= 4; k++)
        ASSERT_NEAR(a->r[k], want[k], 1e-15);
    ASSERT_NEAR(a->white95, 1.959963984540054 / sqrt(5), 1e-12);
    ASSERT_NEAR(a->white99, 2.575829303548901 / sqrt(5), 1e-12);
    /* Bartlett: lag 1 sqrt(1/5) z, lag 2 sqrt((1 + 2 * 0.16) / 5) z, lag 3 sqrt((1 + 2 * 0.17) / 5)
     * z */
    ASSERT_NEAR(a->bartlett95[1], 1.959963984540054 * sqrt(0.2), 1e-12);
    ASSERT_NEAR(a->bartlett95[2], 1.959963984540054 * sqrt(1.32 / 5), 1e-12);
    ASSERT_NEAR(a->bartlett99[3], 2.575829303548901 * sqrt(1.34 / 5), 1e-12);
    ASSERT(!a->seasonal_defined);
    fora_acf_destroy(a);

    /* a period of 4 (10 0 0 0 repeated, n = 40): mean 2.5, deviations 7.5 -2.5 -2.5 -2.5,
     * sum of squares 750; r4 = 9 * 75 / 750 = 0.9, r8 = 0.8, r1 = (-18.75 * 3 + 6.25 * 2)
     * per period ... = -1/3 * (39/40) * ...: the dominant seasonal lag is 4 */
    double y[40];
    for (int t = 0; t < 40; t++)
        y[t] = t % 4 == 0 ? 10 : 0;
    ASSERT_OK(fora_acf_compute(y, 40, 12, &a, &d), &d);
    ASSERT_NEAR(a->r[4], 0.9, 1e-14);
    ASSERT_NEAR(a->r[8], 0.8, 1e-14);
    ASSERT(a->seasonal_defined);
    ASSERT_EQ(a->seasonal_lag, 4);
    fora_acf_destroy(a);

    /* a constant series and an empty one: undefined, never NaN */
    double c[] = {3, 3, 3};
    ASSERT_OK(fora_acf_compute(c, 3, 2, &a, &d), &d);
    ASSERT(!a->defined && a->r[1] == 0 && a->bartlett95[1] == 0);
    fora_acf_destroy(a);
    ASSERT_OK(fora_acf_compute(NULL, 0, 5, &a, &d), &d);
    ASSERT(!a->defined && a->max_lag == 0 && a->white95 == 0);
    fora_acf_destroy(a);
    ASSERT_EQ(fora_acf_compute(x, 5, 0, &a, &d), FORA_EINVAL);
}

static void test_rolling_and_trend(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    double x[] = {1, 2, 3, 4, 5, 6}, out[6];
    bool def[6];
    ASSERT_OK(fora_rolling_mean(x, 6, 3, FORA_ALIGN_RIGHT, out, def, &d), &d);
    ASSERT(!def[0] && !def[1] && def[2] && def[5]);
    ASSERT_NEAR(out[2], 2, 1e-15);
    ASSERT_NEAR(out[5], 5, 1e-15);
    ASSERT_NEAR(out[0], 0, 0);
    ASSERT_OK(fora_rolling_mean(x, 6, 3, FORA_ALIGN_CENTER, out, def, &d), &d);
    ASSERT(!def[0] && def[1] && def[4] && !def[5]);
    ASSERT_NEAR(out[1], 2, 1e-15);
    ASSERT_NEAR(out[4], 5, 1e-15);
    ASSERT_OK(fora_rolling_mean(x, 2, 5, FORA_ALIGN_RIGHT, out, def, &d), &d);
    ASSERT(!def[0] && !def[1]);
    ASSERT_EQ(fora_rolling_mean(x, 6, 4, FORA_ALIGN_CENTER, out, def, &d), FORA_EINVAL);
    fora_diag_clear(&d);
    ASSERT_EQ(fora_rolling_mean(x, 6, 0, FORA_ALIGN_RIGHT, out, def, &d), FORA_EINVAL);
    ASSERT(strstr(d.msg, "\"window\"") != NULL);

    /* y = 1 3 2 5 4 on x = 0..4: slope 8/10, intercept 1.4, residual SS 3.6, s^2 1.2,
     * se(slope) sqrt(0.12), se(intercept) sqrt(1.2 (1/5 + 4/10)); qt(0.975, 3) = 3.182446305284263
     * (R: print(confint(lm(y ~ x)), digits = 10) gives slope -0.3024317386 .. 1.902431739,
     * intercept -1.3003952359 .. 4.100395236) */
    double y[] = {1, 3, 2, 5, 4};
    fora_trend_t t;
    ASSERT_OK(fora_trend_fit(NULL, y, NULL, 5, 0.95, &t, &d), &d);
    ASSERT(t.defined && t.ci_defined);
    ASSERT_NEAR(t.slope, 0.8, 1e-14);
    ASSERT_NEAR(t.intercept, 1.4, 1e-14);
    ASSERT_NEAR(t.slope_se, sqrt(0.12), 1e-14);
    ASSERT_NEAR(t.intercept_se, sqrt(1.2 * 0.6), 1e-14);
    ASSERT_NEAR(t.slope_lower, 0.8 - 3.182446305284263 * sqrt(0.12), 1e-12);
    ASSERT_NEAR(t.slope_upper, 1.9024317386, 1e-10);
    ASSERT_NEAR(t.intercept_lower, -1.3003952359, 1e-10); /* R, digits = 10 */
    ASSERT_NEAR(t.intercept_upper, 4.100395236, 1e-9);
    /* skipping points: only x = 0, 4 -> a line through two points, no interval */
    bool use[] = {true, false, false, false, true};
    ASSERT_OK(fora_trend_fit(NULL, y, use, 5, 0.95, &t, &d), &d);
    ASSERT(t.defined && !t.ci_defined);
    ASSERT_NEAR(t.slope, 0.75, 1e-15);
    ASSERT(t.slope_lower == 0 && t.slope_se == 0);
    ASSERT_OK(fora_trend_fit(NULL, y, NULL, 1, 0.95, &t, &d), &d);
    ASSERT(!t.defined && t.n == 1);
    double same[] = {2, 2, 2};
    ASSERT_OK(fora_trend_fit(same, y, NULL, 3, 0.95, &t, &d), &d);
    ASSERT(!t.defined);
    ASSERT_EQ(fora_trend_fit(NULL, y, NULL, 5, 1.0, &t, &d), FORA_EINVAL);
}

static void test_names(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_bin_t b;
    ASSERT_OK(fora_bin_parse("month", "bin", &b, &d), &d);
    ASSERT_EQ(b, FORA_BIN_MONTH);
    ASSERT_EQ(fora_bin_parse("fortnight", "bin", &b, &d), FORA_EINVAL);
    ASSERT_STR_EQ(d.msg, "invalid value \"fortnight\" for parameter \"bin\": one of \"hour\", "
                         "\"day\", \"week\", \"month\"");
    fora_split_t s;
    fora_diag_clear(&d);
    ASSERT_EQ(fora_split_parse("board", "split", &s, &d), FORA_EINVAL);
    ASSERT(strstr(d.msg, "\"split\"") != NULL);
    ASSERT_OK(fora_split_parse("status", "split", &s, &d), &d);
    ASSERT_EQ(s, FORA_SPLIT_STATUS);
    fora_measure_t m;
    ASSERT_OK(fora_measure_parse("active_members", "measure", &m, &d), &d);
    ASSERT_EQ(m, FORA_MEASURE_ACTIVE);
    ASSERT_STR_EQ(fora_measure_name(FORA_MEASURE_NEW_THREADS), "new_threads");
    fora_new_member_t nm;
    ASSERT_OK(fora_new_member_parse("registration", "new_members", &nm, &d), &d);
    ASSERT_EQ(nm, FORA_NEW_MEMBER_REGISTRATION);
}

int main(void)
{
    gsl_set_error_handler_off();
    FORA_RUN(test_hourly_spring_forward);
    FORA_RUN(test_fall_back_and_calendar_bins);
    FORA_RUN(test_kathmandu_hours);
    FORA_RUN(test_step_back_across_midnight);
    FORA_RUN(test_dst_day_profile);
    FORA_RUN(test_box_stats);
    FORA_RUN(test_acf);
    FORA_RUN(test_rolling_and_trend);
    FORA_RUN(test_names);
    return 0;
}
