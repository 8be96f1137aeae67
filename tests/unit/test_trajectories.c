/*
 * tests/unit/test_trajectories.c - forum trajectories (fora/trajectories.h)
 * on a hand-built snapshot: month arithmetic, counts and at-risk masks in
 * calendar and career time, the K = 1 fit against its closed form, group
 * profile and label, members' trends against hand-worked values, model
 * selection and bad options.
 */
#include "fora/trajectories.h"

#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fora_test.h"

#define NONE FORA_ID_NONE
#define TNONE FORA_TIME_NONE

/* 2020-01-01 .. 2020-06-01 00:00 UTC */
static const int64_t MON[6] = {1577836800, 1580515200, 1583020800,
                               1585699200, 1588291200, 1590969600};
#define DAY 86400

/*
 * Members (database id, ext, registered, status, banned) and their posts per
 * month Jan..Jun 2020:
 *   1 a  Jan 1   admin      -        1 1 1 1 1 1
 *   2 b  Mar 5   member     -        0 0 1 2 4 8
 *   3 c  (none)  member     -        0 3 0 0 0 0
 *   4 d  Jan 3   member     -        no posts
 *   5 e  Jan 15  Moderator  Apr 10   2 1 0 0 0 0
 * plus one post of a deleted account in June.  The forum's first post is
 * a's at Jan 1 00:00.
 */
static fora_snapshot_t *build(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *s = NULL;
    ASSERT_OK(fora_snapshot_create(1, "hand", "UTC", 1, &s, &d), &d);
    ASSERT_OK(fora_snapshot_add_board(s, 10, "general", NONE, "main", &d), &d);
    ASSERT_OK(fora_snapshot_add_member(s, 1, "a", MON[0], "admin", TNONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_member(s, 2, "b", MON[2] + 4 * DAY, "member", TNONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_member(s, 3, "c", TNONE, "member", TNONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_member(s, 4, "d", MON[0] + 2 * DAY, "member", TNONE, &d), &d);
    ASSERT_OK(
        fora_snapshot_add_member(s, 5, "e", MON[0] + 14 * DAY, "Moderator", MON[3] + 9 * DAY, &d),
        &d);
    ASSERT_OK(fora_snapshot_add_thread(s, 100, "t", 10, 1, MON[0], &d), &d);
    static const int counts[5][6] = {
        {1, 1, 1, 1, 1, 1}, {0, 0, 1, 2, 4, 8}, {0, 3, 0, 0, 0, 0}, {0}, {2, 1, 0, 0, 0, 0}};
    int64_t pid = 1000;
    for (int m = 0; m < 5; m++)
        for (int t = 0; t < 6; t++)
            for (int k = 0; k < counts[m][t]; k++)
                ASSERT_OK(fora_snapshot_add_post(s, pid++, 100, m + 1,
                                                 MON[t] + (m == 0 && t == 0 ? 0 : DAY + k * 3600),
                                                 NONE, &d),
                          &d);
    ASSERT_OK(fora_snapshot_add_post(s, pid++, 100, NONE, MON[5] + 2 * DAY, NONE, &d), &d);
    ASSERT_OK(fora_snapshot_finish(s, &d), &d);
    return s;
}

static void test_month_of(void)
{
    ASSERT_EQ(fora_traj_month_of(0), 1970 * 12);
    ASSERT_EQ(fora_traj_month_of(-1), 1969 * 12 + 11);
    ASSERT_EQ(fora_traj_month_of(951782400), 2000 * 12 + 1);   /* 2000-02-29 */
    ASSERT_EQ(fora_traj_month_of(951868800), 2000 * 12 + 2);   /* 2000-03-01 */
    ASSERT_EQ(fora_traj_month_of(MON[5] - 1), 2020 * 12 + 4);  /* 2020-05-31 23:59:59 */
    ASSERT_EQ(fora_traj_month_of(1609459199), 2020 * 12 + 11); /* 2020-12-31 23:59:59 */
    ASSERT_EQ(fora_traj_month_of(1609459200), 2021 * 12);      /* 2021-01-01 */
}

static void test_trend_closed_forms(void)
{
    double b, lo, hi;
    /* constant counts: slope 0, se^2 = 1 / sum (t - tbar)^2 = 1 / 17.5 */
    const double y1[6] = {1, 1, 1, 1, 1, 1};
    ASSERT(fora_traj_trend(y1, NULL, 6, &b, &lo, &hi));
    ASSERT_NEAR(b, 0, 1e-12);
    ASSERT_NEAR(hi, 1.959963984540054 / sqrt(17.5), 1e-9);
    ASSERT_NEAR(lo, -1.959963984540054 / sqrt(17.5), 1e-9);
    /* doubling counts: exact fit, slope log 2, se^2 = 15 / 194 (worked in the header of build) */
    const double y2[4] = {1, 2, 4, 8};
    ASSERT(fora_traj_trend(y2, NULL, 4, &b, &lo, &hi));
    ASSERT_NEAR(b, log(2), 1e-9);
    ASSERT_NEAR(hi - b, 1.959963984540054 * sqrt(15.0 / 194.0), 1e-8);
    /* all posts in the first or last at-risk period, or one period: undefined */
    const double y3[4] = {0, 3, 0, 0};
    const uint8_t m3[4] = {0, 1, 1, 1};
    ASSERT(!fora_traj_trend(y3, m3, 4, &b, &lo, &hi));
    ASSERT(isnan(b) && isnan(lo) && isnan(hi));
    const double y4[3] = {0, 0, 5};
    ASSERT(!fora_traj_trend(y4, NULL, 3, &b, &lo, &hi));
    ASSERT(!fora_traj_trend(y4, NULL, 1, &b, &lo, &hi));
}

static void test_calendar(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *s = build();
    fora_traj_opts_t o;
    fora_traj_opts_init(&o);
    o.kmax = 1;
    o.order = 0;
    o.exposure = false; /* whole months: the closed forms below (test_exposure has partial ones) */
    fora_traj_result_t *r = NULL;
    ASSERT_OK(fora_traj_compute(s, &o, &r, &d), &d);
    ASSERT_EQ(r->nperiods, 6);
    ASSERT_EQ(r->first_month, 2020 * 12);
    ASSERT_EQ(r->start_time, MON[0]);
    ASSERT_EQ(r->nmembers, 4);
    ASSERT_EQ(r->nonposting, 1);
    static const double want[4][6] = {
        {1, 1, 1, 1, 1, 1}, {0, 0, 1, 2, 4, 8}, {0, 3, 0, 0, 0, 0}, {2, 1, 0, 0, 0, 0}};
    static const uint8_t risk[4][6] = {
        {1, 1, 1, 1, 1, 1}, {0, 0, 1, 1, 1, 1}, {0, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 0, 0}};
    static const int32_t idx[4] = {0, 1, 2, 4}, onset[4] = {0, 2, 1, 0}, last[4] = {5, 5, 1, 1};
    static const bool week[4] = {true, false, false, false};
    for (int i = 0; i < 4; i++) {
        ASSERT_EQ(r->members[i].member, idx[i]);
        ASSERT_EQ(r->members[i].onset, onset[i]);
        ASSERT_EQ(r->members[i].last, last[i]);
        ASSERT_EQ(r->members[i].first_week, week[i]);
        ASSERT_EQ(r->members[i].group, 0);
        ASSERT_NEAR(r->members[i].posterior, 1, 1e-12);
        for (int t = 0; t < 6; t++) {
            ASSERT_EQ(r->counts[i * 6 + t], want[i][t]);
            ASSERT_EQ(r->at_risk[i * 6 + t], risk[i][t]);
        }
    }
    /* K = 1, order 0: lambda = posts / at-risk cells = 27 / 19 */
    ASSERT_EQ(r->nmodels, 1);
    ASSERT(r->models[0].fitted && r->models[0].eligible);
    ASSERT_NEAR(exp(r->fit->groups[0].coef[0]), 27.0 / 19.0, 1e-7);
    double lam = 27.0 / 19.0, ll = 0;
    for (int i = 0; i < 4; i++)
        for (int t = 0; t < 6; t++)
            if (risk[i][t]) ll += want[i][t] * log(lam) - lam - lgamma(want[i][t] + 1);
    ASSERT_NEAR(r->models[0].loglik, ll, 1e-8);
    ASSERT_NEAR(r->models[0].bic, -2 * ll + log(4.0), 1e-8);
    const fora_traj_group_t *g = &r->groups[0];
    ASSERT_EQ(g->size, 4);
    ASSERT_NEAR(g->pi, 1, 1e-12);
    ASSERT_NEAR(g->mean_onset, 0.75, 1e-12);
    ASSERT_NEAR(g->mean_duration, 13.0 / 4.0, 1e-12);
    ASSERT_NEAR(g->mean_posts, 27.0 / 4.0, 1e-12);
    ASSERT_NEAR(g->rate, 27.0 / 19.0, 1e-12);
    ASSERT_NEAR(g->first_week_share, 0.25, 1e-12);
    ASSERT_NEAR(g->staff_share, 0.5, 1e-12); /* admin, Moderator */
    ASSERT_NEAR(g->slope, 0, 1e-12);
    ASSERT_EQ(g->trend, FORA_TRAJ_STABLE);
    ASSERT_STR_EQ(g->label, "vested"); /* rule 5: rate >= 1 */

    /* trends: a constant, b doubling, c undefined, e falling (score equation holds) */
    const fora_traj_member_t *m = r->members;
    ASSERT(m[0].trend_defined && !m[0].escalating);
    ASSERT_NEAR(m[0].slope, 0, 1e-12);
    ASSERT(m[1].trend_defined && m[1].escalating);
    ASSERT_NEAR(m[1].slope, log(2), 1e-9);
    ASSERT_NEAR(m[1].slope_lo, log(2) - 1.959963984540054 * sqrt(15.0 / 194.0), 1e-8);
    ASSERT(m[1].slope_lo > 0);
    ASSERT(!m[2].trend_defined && !m[2].escalating && isnan(m[2].slope));
    ASSERT(m[3].trend_defined && !m[3].escalating);
    ASSERT(m[3].slope < 0 && m[3].slope_lo < m[3].slope && m[3].slope < m[3].slope_hi);
    {
        /* e: periods 0..3, y = 2 1 0 0; profile a, then d l / d b = 0 */
        double b = m[3].slope, se = 0, sy = 3, sxy = 0, sx = 0;
        for (int t = 0; t < 4; t++)
            se += exp(b * (t - 1.5));
        double ea = sy / se;
        for (int t = 0; t < 4; t++) {
            sxy += want[3][t] * (t - 1.5);
            sx += ea * exp(b * (t - 1.5)) * (t - 1.5);
        }
        ASSERT_NEAR(sxy, sx, 1e-9);
    }
    fora_traj_result_destroy(r);

    /* career time */
    o.time = FORA_TRAJ_CAREER;
    ASSERT_OK(fora_traj_compute(s, &o, &r, &d), &d);
    static const double wantc[4][6] = {
        {1, 1, 1, 1, 1, 1}, {1, 2, 4, 8, 0, 0}, {3, 0, 0, 0, 0, 0}, {2, 1, 0, 0, 0, 0}};
    static const uint8_t riskc[4][6] = {
        {1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 0, 0}, {1, 1, 1, 1, 1, 0}, {1, 1, 1, 1, 0, 0}};
    for (int i = 0; i < 4; i++)
        for (int t = 0; t < 6; t++) {
            ASSERT_EQ(r->counts[i * 6 + t], wantc[i][t]);
            ASSERT_EQ(r->at_risk[i * 6 + t], riskc[i][t]);
        }
    ASSERT_NEAR(exp(r->fit->groups[0].coef[0]), 27.0 / 19.0, 1e-7); /* 6 + 4 + 5 + 4 cells */
    ASSERT_NEAR(r->members[1].slope, log(2), 1e-9); /* trends stay on forum months */
    fora_traj_result_destroy(r);
    fora_snapshot_destroy(s);
}

/*
 * Exposure offsets for partial months on the same forum.  The data end at
 * the last post by a member, b's at June 2 07:00 (June is 30 days), so every
 * member's June has exposure e_J = 2 / 30 (exposures count started days).  a: Jan-May 1,
 * June e_J.  b posted on March 2, before registering on March 5: at risk
 * from March 2, exposure 30/31, then 1, 1, e_J.  c (no registration time)
 * from its first post on February 2: 28/29 (2020 is a leap year), 1, 1, 1,
 * e_J.  e posted on January 2 before registering on January 15: 30/31; banned
 * April 10: April 9/30; Feb, Mar 1.  K = 1, order 0: lambda = 27 / sum e and
 * the log-likelihood sum y log(lambda e) - lambda e - log y!.
 */
static void test_exposure(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *s = build();
    fora_traj_opts_t o;
    fora_traj_opts_init(&o);
    ASSERT(o.exposure); /* the default */
    o.kmax = 1;
    o.order = 0;
    fora_traj_result_t *r = NULL;
    ASSERT_OK(fora_traj_compute(s, &o, &r, &d), &d);
    const double eJ = 2.0 / 30.0; /* June 1 00:00 .. June 2 07:00: two started days */
    static const double y[4][6] = {
        {1, 1, 1, 1, 1, 1}, {0, 0, 1, 2, 4, 8}, {0, 3, 0, 0, 0, 0}, {2, 1, 0, 0, 0, 0}};
    const double e[4][6] = {{1, 1, 1, 1, 1, eJ},
                            {0, 0, 30.0 / 31.0, 1, 1, eJ},
                            {0, 28.0 / 29.0, 1, 1, 1, eJ},
                            {30.0 / 31.0, 1, 1, 9.0 / 30.0, 0, 0}};
    double se = 0;
    for (int i = 0; i < 4; i++)
        for (int t = 0; t < 6; t++) {
            ASSERT_NEAR(r->exposure[i * 6 + t], e[i][t], 1e-12);
            ASSERT_EQ(r->at_risk[i * 6 + t], e[i][t] > 0);
            se += e[i][t];
        }
    double lam = 27.0 / se, ll = 0;
    for (int i = 0; i < 4; i++)
        for (int t = 0; t < 6; t++)
            if (e[i][t] > 0)
                ll += y[i][t] * log(lam * e[i][t]) - lam * e[i][t] - lgamma(y[i][t] + 1);
    ASSERT_NEAR(exp(r->fit->groups[0].coef[0]), lam, 1e-7);
    ASSERT_NEAR(r->models[0].loglik, ll, 1e-8);
    ASSERT_NEAR(r->groups[0].rate, lam, 1e-12); /* posts per month at risk */
    fora_traj_result_destroy(r);

    /* career time: the same exposures, shifted to each member's first month at risk */
    o.time = FORA_TRAJ_CAREER;
    ASSERT_OK(fora_traj_compute(s, &o, &r, &d), &d);
    ASSERT_NEAR(r->exposure[1 * 6 + 0], 30.0 / 31.0, 1e-12);
    ASSERT_NEAR(r->exposure[1 * 6 + 3], eJ, 1e-12);
    ASSERT_NEAR(r->exposure[2 * 6 + 0], 28.0 / 29.0, 1e-12);
    ASSERT_NEAR(r->models[0].loglik, ll, 1e-8);
    fora_traj_result_destroy(r);
    fora_snapshot_destroy(s);
}

/* Weeks and quarters: period arithmetic and the counts of the hand-built forum by quarter. */
static void test_periods(void)
{
    /* 2020-01-01 is a Wednesday: its week starts on Monday 2019-12-30 00:00 UTC */
    int64_t w = fora_traj_period_of(FORA_TRAJ_WEEK, MON[0]);
    ASSERT_EQ(fora_traj_period_start(FORA_TRAJ_WEEK, w), 1577664000);
    ASSERT_EQ(fora_traj_period_of(FORA_TRAJ_WEEK, 1577664000 - 1), w - 1);
    ASSERT_EQ(fora_traj_period_of(FORA_TRAJ_WEEK, 1577664000 + 7 * DAY - 1), w);
    ASSERT_EQ(fora_traj_period_start(FORA_TRAJ_WEEK, fora_traj_period_of(FORA_TRAJ_WEEK, 0)),
              -3 * DAY); /* 1970-01-01 was a Thursday */
    int64_t q = fora_traj_period_of(FORA_TRAJ_QUARTER, MON[4]);
    ASSERT_EQ(q, 2020 * 4 + 1);
    ASSERT_EQ(fora_traj_period_start(FORA_TRAJ_QUARTER, q), MON[3]);
    ASSERT_EQ(fora_traj_period_start(FORA_TRAJ_MONTH, 2020 * 12 + 5), MON[5]);
    ASSERT_EQ(fora_traj_period_start(FORA_TRAJ_MONTH, 1969 * 12 + 11), -31 * DAY);

    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *s = build();
    fora_traj_opts_t o;
    fora_traj_opts_init(&o);
    o.kmax = 1;
    o.order = 0;
    o.period = FORA_TRAJ_QUARTER;
    fora_traj_result_t *r = NULL;
    ASSERT_OK(fora_traj_compute(s, &o, &r, &d), &d);
    ASSERT_EQ(r->nperiods, 2);
    ASSERT_EQ(r->first_period_start, MON[0]);
    static const double want[4][2] = {{3, 3}, {1, 14}, {3, 0}, {3, 0}};
    for (int i = 0; i < 4; i++)
        for (int t = 0; t < 2; t++) {
            ASSERT_EQ(r->counts[i * 2 + t], want[i][t]);
            ASSERT(r->at_risk[i * 2 + t]);
        }
    /* e: at risk January 2 .. April 10 (ban): Q1 from Jan 2 (90 of 91 days), Q2 9 of 91 days */
    ASSERT_NEAR(r->exposure[3 * 2 + 0], 90.0 / 91.0, 1e-12);
    ASSERT_NEAR(r->exposure[3 * 2 + 1], 9.0 / 91.0, 1e-12);
    fora_traj_result_destroy(r);
    o.period = FORA_TRAJ_WEEK;
    ASSERT_OK(fora_traj_compute(s, &o, &r, &d), &d);
    /* Monday 2019-12-30 .. the week of Tuesday 2020-06-02: 23 full weeks + 1 */
    ASSERT_EQ(r->nperiods, 23);
    double tot = 0;
    for (size_t k = 0; k < r->nmembers * r->nperiods; k++)
        tot += r->counts[k];
    ASSERT_EQ(tot, 27);
    fora_traj_result_destroy(r);
    fora_snapshot_destroy(s);
}

static void test_opts_set(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_traj_opts_t o;
    fora_traj_opts_init(&o);
    ASSERT_OK(fora_traj_opts_set(&o, "period", "week", &d), &d);
    ASSERT_EQ(o.period, FORA_TRAJ_WEEK);
    ASSERT_OK(fora_traj_opts_set(&o, "time", "career", &d), &d);
    ASSERT_EQ(o.time, FORA_TRAJ_CAREER);
    ASSERT_OK(fora_traj_opts_set(&o, "model", "ziptau", &d), &d);
    ASSERT_EQ(o.model, FORA_GBTM_ZIPTAU);
    ASSERT_OK(fora_traj_opts_set(&o, "order", "3", &d), &d);
    ASSERT_EQ(o.order, 3);
    ASSERT_EQ(o.norders, 0);
    ASSERT_OK(fora_traj_opts_set(&o, "order", "3,2,2,1", &d), &d);
    ASSERT_EQ(o.norders, 4);
    ASSERT(o.orders[0] == 3 && o.orders[1] == 2 && o.orders[2] == 2 && o.orders[3] == 1);
    ASSERT_OK(fora_traj_opts_set(&o, "kmax", "8", &d), &d);
    ASSERT_EQ(o.kmax, 8);
    ASSERT_OK(fora_traj_opts_set(&o, "starts", "12", &d), &d);
    ASSERT_EQ(o.starts, 12);
    ASSERT_OK(fora_traj_opts_set(&o, "min_share", "0.05", &d), &d);
    ASSERT_NEAR(o.min_share, 0.05, 1e-15);
    ASSERT_OK(fora_traj_opts_set(&o, "exposure", "false", &d), &d);
    ASSERT(!o.exposure);
    ASSERT_OK(fora_traj_opts_set(&o, "zero_order", "2", &d), &d);
    ASSERT_EQ(o.zero_order, 2);
    ASSERT_OK(fora_traj_opts_set(&o, "labels", "1=manager,3=vested member", &d), &d);
    ASSERT_EQ(o.nlabels, 2);
    ASSERT(o.label_group[0] == 1 && o.label_group[1] == 3);
    ASSERT_STR_EQ(o.label_text[1], "vested member");
    static const char *const bad[][2] = {
        {"period", "day"},     {"time", "lunar"},   {"model", "nb"},       {"order", "4"},
        {"order", "2,,1"},     {"order", "2,x"},    {"order", ""},         {"kmax", "0"},
        {"kmax", "21"},        {"starts", "0"},     {"starts", "1e3"},     {"min_share", "1"},
        {"min_share", "-0.1"}, {"exposure", "yes"}, {"zero_order", "4"},   {"labels", ""},
        {"labels", "0=x"},     {"labels", "1="},    {"labels", "1=a,1=b"}, {"labels", "2=a;b"},
        {"labels", "1=a,"},    {"colour", "blue"}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        fora_diag_t e = FORA_DIAG_INIT;
        fora_traj_opts_t t = o;
        ASSERT_EQ(fora_traj_opts_set(&t, bad[k][0], bad[k][1], &e), FORA_EINVAL);
        /* the message names the option */
        if (strcmp(bad[k][0], "colour") != 0 && strstr(e.msg, bad[k][0]) == NULL)
            FORA_FAIL("message for %s=%s does not name it: %s", bad[k][0], bad[k][1], e.msg);
        ASSERT_EQ(t.nlabels, o.nlabels); /* a bad list leaves the labels as they were */
    }
    /* contradictions are reported by compute, naming the parameter */
    fora_snapshot_t *s = build();
    fora_traj_result_t *r = NULL;
    fora_traj_opts_init(&o);
    o.norders = 7; /* K = 7 > kmax 6 */
    ASSERT_EQ(fora_traj_compute(s, &o, &r, &d), FORA_EINVAL);
    ASSERT(strstr(d.msg, "order") != NULL);
    fora_traj_opts_init(&o);
    o.zero_order = 1; /* poisson */
    fora_diag_clear(&d);
    ASSERT_EQ(fora_traj_compute(s, &o, &r, &d), FORA_EINVAL);
    ASSERT(strstr(d.msg, "zero_order") != NULL);
    fora_snapshot_destroy(s);
}

static void test_selection(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *s = build();
    fora_traj_opts_t o;
    fora_traj_opts_init(&o);
    o.order = 0;
    o.kmax = 3;
    fora_traj_result_t *r = NULL;
    ASSERT_OK(fora_traj_compute(s, &o, &r, &d), &d);
    /* 4 members: K = 1 (1 parameter) and K = 2 (3) fit, K = 3 (5 > 4) cannot */
    ASSERT_EQ(r->nmodels, 3);
    ASSERT(r->models[0].fitted && r->models[1].fitted && !r->models[2].fitted);
    for (size_t q = 0; q < 2; q++)
        ASSERT(r->models[r->selected].bic <= r->models[q].bic);
    ASSERT_EQ(r->fit->K, r->models[r->selected].K);
    size_t tot = 0;
    for (size_t j = 0; j < r->fit->K; j++)
        tot += r->groups[j].size;
    ASSERT_EQ(tot, 4);
    fora_traj_result_destroy(r);
    /* a minimum share no second group can reach keeps K = 1 */
    o.min_share = 0.9;
    ASSERT_OK(fora_traj_compute(s, &o, &r, &d), &d);
    ASSERT_EQ(r->fit->K, 1);
    ASSERT(!r->models[1].eligible);
    fora_traj_result_destroy(r);
    fora_snapshot_destroy(s);
}

static void expect_einval(const fora_snapshot_t *s, const fora_traj_opts_t *o, const char *word)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_traj_result_t *r = (fora_traj_result_t *)1;
    ASSERT_EQ(fora_traj_compute(s, o, &r, &d), FORA_EINVAL);
    ASSERT(r == NULL);
    if (!strstr(d.msg, word)) FORA_FAIL("\"%s\" does not name \"%s\"", d.msg, word);
}

static void test_bad(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *s = build();
    fora_traj_opts_t o;
    fora_traj_opts_init(&o);
    o.order = 4;
    expect_einval(s, &o, "order");
    fora_traj_opts_init(&o);
    o.kmax = 0;
    expect_einval(s, &o, "kmax");
    fora_traj_opts_init(&o);
    o.kmin = 0;
    expect_einval(s, &o, "kmin");
    fora_traj_opts_init(&o);
    o.model = (fora_gbtm_model_t)7;
    expect_einval(s, &o, "model");
    fora_traj_opts_init(&o);
    o.period = (fora_traj_period_t)9;
    expect_einval(s, &o, "period");
    fora_traj_opts_init(&o);
    o.min_share = 1;
    expect_einval(s, &o, "min_share");
    fora_traj_opts_init(&o);
    o.starts = 0;
    expect_einval(s, &o, "starts");
    fora_snapshot_destroy(s);
    /* a forum without posts */
    ASSERT_OK(fora_snapshot_create(2, "empty", "UTC", 1, &s, &d), &d);
    ASSERT_OK(fora_snapshot_add_member(s, 1, "a", MON[0], "member", TNONE, &d), &d);
    ASSERT_OK(fora_snapshot_finish(s, &d), &d);
    fora_traj_opts_init(&o);
    expect_einval(s, &o, "no posts");
    fora_snapshot_destroy(s);
}

int main(void)
{
    gsl_set_error_handler_off();
    FORA_RUN(test_month_of);
    FORA_RUN(test_trend_closed_forms);
    FORA_RUN(test_calendar);
    FORA_RUN(test_exposure);
    FORA_RUN(test_periods);
    FORA_RUN(test_opts_set);
    FORA_RUN(test_selection);
    FORA_RUN(test_bad);
    return 0;
}
