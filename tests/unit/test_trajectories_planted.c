/*
 * tests/unit/test_trajectories_planted.c - the forum trajectories path
 * (fora_traj_compute: monthly counts -> GBTM for K = 1..Kmax -> BIC) on a
 * forum built in the test with five well-separated planted groups, the
 * issue's claim: BIC picks the planted K and the assignment agrees with the
 * truth (adjusted Rand index >= 0.9).
 *
 * The forum: 36 months from 2020-01, 800 members, Poisson monthly post
 * counts whose log-mean is a polynomial of order <= 2 in x = month / 12 (the
 * model family, so the planted model is a candidate):
 *
 *   group        share  registered   log mean (x = month / 12)     mean posts a month
 *   occasional    30 %  month 0-2    log 0.5                        0.5 flat
 *   vested        15 %  month 0-2    log 5                          5 flat
 *   escalator     20 %  month 0      log 0.3 + 1.2 x                0.3 -> 9.5
 *   declining     20 %  month 0      log 8 - 1.5 x                  8 -> 0.10
 *   late joiner   15 %  month 20-22  log 2                          2 flat, from month 20
 *
 * (The sloped groups register in month 0 and the others are flat, so the
 * planted model is in the family in both calendar and career time.)
 *
 * Separation: the flat groups differ by a factor 2.5 or more in level
 * (0.5, 2, 5), the sloped ones by +-1.2..1.5 log units a year, and the late
 * joiners by onset (not at risk before month 20) and level.  Over 14-36
 * months at risk the log-likelihood ratio of a member's counts between any
 * two group curves is large, so each member can be classified.
 *
 * Posts fall uniformly within the first 27 days of their month, in one of
 * three boards whose category ("general", "support", "market") is drawn
 * with group-dependent probabilities (used by the group profiles).
 * Everything is seeded (GSL MT19937, seed 42).  The group profiles'
 * category shares are checked against those probabilities, and the
 * analyst's labels against the rule labels.
 */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ari.h"
#include "fora/trajectories.h"
#include "fora_test.h"

#define NG 5
#define NMEM 800
#define NMON 36
#define DAY 86400

static const char *const GNAME[NG] = {"occasional", "vested", "escalator", "declining", "late"};
static const double SHARE[NG] = {0.30, 0.15, 0.20, 0.20, 0.15};
/* log mean = c0 + c1 x, x = month / 12 */
static const double C0[NG] = {-0.69314718055994531, 1.6094379124341003, -1.2039728043259361,
                              2.0794415416798357, 0.69314718055994531};
static const double C1[NG] = {0, 0, 1.2, -1.5, 0};
static const int REG0[NG] = {0, 0, 0, 0, 20};
/* probability of posting in board 0 (general), 1 (support); the rest in 2 (market) */
static const double PB0[NG] = {0.8, 0.2, 0.5, 0.5, 0.1};
static const double PB1[NG] = {0.1, 0.7, 0.3, 0.2, 0.1};

/* Unix time of the first instant of month m (0 = 2020-01) UTC (Hinnant's days_from_civil). */
static int64_t month_start(int m)
{
    int64_t y = 2020 + m / 12, mo = m % 12 + 1;
    y -= mo <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
    int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (era * 146097 + doe - 719468) * DAY;
}

/* Builds the forum; truth[i] gets member i's planted group. */
static fora_snapshot_t *build(int *truth)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *s = NULL;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    ASSERT(rng);
    gsl_rng_set(rng, 42);
    ASSERT_OK(fora_snapshot_create(1, "planted", "UTC", 1, &s, &d), &d);
    static const char *const cat[3] = {"general", "support", "market"};
    for (int b = 0; b < 3; b++)
        ASSERT_OK(fora_snapshot_add_board(s, 10 + b, cat[b], FORA_ID_NONE, cat[b], &d), &d);
    int reg[NMEM];
    for (int i = 0, g = 0, upto = 0; i < NMEM; i++) {
        while (g < NG - 1 && i >= upto + (int)lround(SHARE[g] * NMEM))
            upto += (int)lround(SHARE[g++] * NMEM);
        truth[i] = g;
        /* sloped groups all register in month 0, so calendar and career time agree for them */
        reg[i] = REG0[g] + (C1[g] == 0 ? (int)gsl_rng_uniform_int(rng, 3) : 0);
        char ext[16];
        snprintf(ext, sizeof ext, "m%d", i);
        ASSERT_OK(fora_snapshot_add_member(s, i + 1, ext, month_start(reg[i]), "member",
                                           FORA_TIME_NONE, &d),
                  &d);
    }
    for (int b = 0; b < 3; b++)
        ASSERT_OK(fora_snapshot_add_thread(s, 100 + b, cat[b], 10 + b, 1, month_start(0), &d), &d);
    int64_t pid = 1000;
    /* the forum's first post, by member 1, opens month 0 */
    ASSERT_OK(fora_snapshot_add_post(s, pid++, 100, 1, month_start(0), FORA_ID_NONE, &d), &d);
    for (int i = 0; i < NMEM; i++) {
        int g = truth[i];
        for (int t = reg[i]; t < NMON; t++) {
            double lam = exp(C0[g] + C1[g] * t / 12.0);
            unsigned k = gsl_ran_poisson(rng, lam);
            for (unsigned q = 0; q < k; q++) {
                double u = gsl_rng_uniform(rng);
                int b = u < PB0[g] ? 0 : u < PB0[g] + PB1[g] ? 1 : 2;
                int64_t at = month_start(t) + 1 + (int64_t)gsl_rng_uniform_int(rng, 27 * DAY);
                ASSERT_OK(fora_snapshot_add_post(s, pid++, 100 + b, i + 1, at, FORA_ID_NONE, &d),
                          &d);
            }
        }
    }
    /* the last month is month NMON - 1: one post at its end */
    ASSERT_OK(fora_snapshot_add_post(s, pid++, 100, 2, month_start(NMON) - 1, FORA_ID_NONE, &d),
              &d);
    ASSERT_OK(fora_snapshot_finish(s, &d), &d);
    gsl_rng_free(rng);
    return s;
}

static void check(const fora_snapshot_t *s, const int *truth, fora_traj_time_t time)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_traj_opts_t o;
    fora_traj_opts_init(&o);
    o.time = time;
    o.kmax = 7;
    fora_traj_result_t *r = NULL;
    ASSERT_OK(fora_traj_compute(s, &o, &r, &d), &d);
    ASSERT_EQ(r->nperiods, NMON);
    size_t n = r->nmembers, K = r->fit->K;
    int *a = calloc(n, sizeof *a), *b = calloc(n, sizeof *b);
    ASSERT(a && b);
    for (size_t i = 0; i < n; i++) {
        a[i] = r->members[i].group;
        b[i] = truth[r->members[i].member];
    }
    double v = fora_test_ari(a, b, n, (int)K, NG);
    fprintf(stderr, "%s: %zu members posted (%zu not), selected K = %zu, ARI %.4f\n",
            fora_traj_time_name(time), n, r->nonposting, K, v);
    for (size_t q = 0; q < r->nmodels; q++)
        fprintf(stderr, "  K=%zu fitted %d bic %.1f min_pi %.3f starts_at_best %zu/%zu\n",
                r->models[q].K, r->models[q].fitted, r->models[q].bic, r->models[q].min_pi,
                r->models[q].starts_at_best, r->models[q].starts);
    for (size_t j = 0; j < K; j++) {
        const fora_traj_group_t *g = &r->groups[j];
        int cnt[NG] = {0};
        for (size_t i = 0; i < n; i++)
            if (a[i] == (int)j) cnt[b[i]]++;
        fprintf(stderr, "  group %zu %-10s size %zu rate %.3f slope %+.3f onset %.1f truth:", j,
                g->label, g->size, g->rate, g->slope, g->mean_onset);
        for (int h = 0; h < NG; h++)
            fprintf(stderr, " %s %d", GNAME[h], cnt[h]);
        fputc('\n', stderr);
    }
    /* every planted member posts (the lowest mean is 0.5 a month over >= 14 months) */
    ASSERT_EQ(n + r->nonposting, NMEM);
    ASSERT(r->nonposting <= 2);
    /* BIC (N = members) picks the planted K; K = 6 and 7 were fitted and lost */
    ASSERT_EQ(K, NG);
    ASSERT(r->nmodels == 7 && r->models[5].fitted && r->models[6].fitted);
    ASSERT(r->models[4].bic < r->models[3].bic && r->models[4].bic < r->models[5].bic);
    ASSERT(v >= 0.9);
    /* the group profiles' board-category shares match the planted probabilities (groups map
     * one to one to planted groups here: take each group's majority) */
    int32_t cg = fora_snapshot_category_index(s, "general"),
            cs = fora_snapshot_category_index(s, "support");
    ASSERT(cg >= 0 && cs >= 0 && r->ncategories == 3);
    for (size_t j = 0; j < K; j++) {
        int cnt[NG] = {0}, h = 0;
        for (size_t i = 0; i < n; i++)
            if (a[i] == (int)j) cnt[b[i]]++;
        for (int q = 1; q < NG; q++)
            if (cnt[q] > cnt[h]) h = q;
        const double *sh = r->category_share + j * r->ncategories;
        ASSERT_NEAR(sh[cg], PB0[h], 0.03);
        ASSERT_NEAR(sh[cs], PB1[h], 0.03);
        ASSERT_NEAR(sh[0] + sh[1] + sh[2], 1, 1e-12);
        ASSERT(!r->groups[j].label_overridden);
        ASSERT(r->groups[j].label == r->groups[j].rule_label);
    }
    free(a);
    free(b);
    fora_traj_result_destroy(r);
}

/* The analyst's labels replace the rule labels of the groups named, and are flagged. */
static void test_labels(const fora_snapshot_t *s)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_traj_opts_t o;
    fora_traj_opts_init(&o);
    o.kmin = o.kmax = 5;
    ASSERT_OK(fora_traj_opts_set(&o, "traj_labels", "2=fading stars,5=core,9=nobody", &d), &d);
    fora_traj_result_t *r = NULL;
    ASSERT_OK(fora_traj_compute(s, &o, &r, &d), &d);
    ASSERT_EQ(r->fit->K, 5);
    ASSERT_STR_EQ(r->groups[1].label, "fading stars");
    ASSERT_STR_EQ(r->groups[1].rule_label, "declining");
    ASSERT(r->groups[1].label_overridden);
    ASSERT_STR_EQ(r->groups[4].label, "core");
    ASSERT(r->groups[4].label_overridden);
    ASSERT(!r->groups[0].label_overridden && r->groups[0].label == r->groups[0].rule_label);
    ASSERT_EQ(r->labels_ignored, 1); /* group 9 of a 5-group model */
    fora_traj_result_destroy(r);
}

static void test_planted(void)
{
    int truth[NMEM];
    fora_snapshot_t *s = build(truth);
    check(s, truth, FORA_TRAJ_CALENDAR);
    check(s, truth, FORA_TRAJ_CAREER);
    test_labels(s);
    fora_snapshot_destroy(s);
}

int main(void)
{
    gsl_set_error_handler_off();
    FORA_RUN(test_planted);
    return 0;
}
