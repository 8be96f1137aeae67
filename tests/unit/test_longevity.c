/*
 * tests/unit/test_longevity.c - member longevity observations, thread
 * lifespans, the activity of members still active, and engagement, on a
 * forum worked by hand.
 *
 * T0 = 2023-11-30 23:30:00Z (1701387000), D = one day.  The end of the data
 * is the latest time in it, E's registration at T0 + 100 D.  Silence: 30 D.
 *
 *   member status registered  posts (thread)             events                   ban
 *   A 11   s1     T0          1 D (T1), 10 D (T1)        -                        -
 *   B 12   s1     T0 + 2 D    3 D (T1, replying to A)    -                        T0 + 20 D
 *   C 13   s2     T0 + 5 D    -                          download 6 D, 6 D + 100 s,
 *                                                        40 D; visit 50 D         -
 *   D 14   s2     (none)      30 D (T2), 95 D (T2, self-reply)  -                 -
 *   E 15   s2     T0 + 100 D  -                          -                        -
 *   F 16   s1     T0 + 4 D    -                          visit 4 D, 5 D           -
 *
 * From registration, ban or silence (whichever first):
 *   A silent after 10 D: (10, event); B silent after 3 D, before the ban at 20 D:
 *   (1, event); C silent after 50 D: (45, event); D left out (no registration);
 *   E active at the end (0, censored); F silent after 5 D: (1, event).
 * Kaplan-Meier: t 0 (1 censored, 5 at risk) S 1; t 1 (2 of 4) S 1/2; t 10 (1 of 2)
 * S 1/4; t 45 (1 of 1) S 0; S = 1/2 exactly from 1 to 10: median (1 + 10) / 2.
 */
#include "fora/longevity.h"
#include "fora/tzmap_load.h"

#include <gsl/gsl_errno.h>
#include <stdlib.h>

#include "fora_test.h"

#define NONE FORA_ID_NONE
#define TNONE FORA_TIME_NONE
#define T0 INT64_C(1701387000)
#define D INT64_C(86400)

static fora_snapshot_t *build_forum(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *s = NULL;
    ASSERT_OK(fora_snapshot_create(1, "life", "Europe/Amsterdam", 1, &s, &d), &d);
    ASSERT_OK(fora_snapshot_add_board(s, 1, "b1", NONE, "x", &d), &d);
    ASSERT_OK(fora_snapshot_add_board(s, 2, "b2", NONE, "y", &d), &d);
    ASSERT_OK(fora_snapshot_add_member(s, 11, "A", T0, "s1", TNONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_member(s, 12, "B", T0 + 2 * D, "s1", T0 + 20 * D, &d), &d);
    ASSERT_OK(fora_snapshot_add_member(s, 13, "C", T0 + 5 * D, "s2", TNONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_member(s, 14, "D", TNONE, "s2", TNONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_member(s, 15, "E", T0 + 100 * D, "s2", TNONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_member(s, 16, "F", T0 + 4 * D, "s1", TNONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_thread(s, 21, "T1", 1, 11, T0 + D, &d), &d);
    ASSERT_OK(fora_snapshot_add_thread(s, 22, "T2", 2, 14, T0 + 30 * D, &d), &d);
    ASSERT_OK(fora_snapshot_add_thread(s, 23, "T3", 2, 14, T0 + 31 * D, &d), &d); /* no posts */
    ASSERT_OK(fora_snapshot_add_post(s, 101, 21, 11, T0 + D, NONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_post(s, 102, 21, 12, T0 + 3 * D, 101, &d), &d);
    ASSERT_OK(fora_snapshot_add_post(s, 103, 21, 11, T0 + 10 * D, 101, &d), &d);
    ASSERT_OK(fora_snapshot_add_post(s, 104, 22, 14, T0 + 30 * D, NONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_post(s, 105, 22, 14, T0 + 95 * D, 104, &d), &d);
    ASSERT_OK(fora_snapshot_add_event(s, 16, "visit", T0 + 4 * D, NONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_event(s, 13, "download", T0 + 6 * D, NONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_event(s, 13, "download", T0 + 6 * D + 100, NONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_event(s, 16, "visit", T0 + 5 * D, NONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_event(s, 13, "download", T0 + 40 * D, NONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_event(s, 13, "visit", T0 + 50 * D, NONE, &d), &d);
    ASSERT_OK(fora_snapshot_finish(s, &d), &d);
    return s;
}

typedef struct {
    const char *member;
    double time;
    int event;
} want_t;

static void check_obs(const fora_snapshot_t *s, const fora_longevity_t *l, const want_t *w,
                      size_t n)
{
    ASSERT_EQ(l->n, n);
    for (size_t i = 0; i < n; i++) {
        ASSERT_STR_EQ(fora_snapshot_member_ext(s, l->index[i]), w[i].member);
        ASSERT_NEAR(l->time[i], w[i].time, 1e-12);
        if (l->event[i] != w[i].event)
            FORA_FAIL("%s: event %d, expected %d", w[i].member, l->event[i], w[i].event);
    }
}

static fora_longevity_t *members(const fora_snapshot_t *s, fora_origin_t origin,
                                 fora_life_event_t ev, fora_life_group_t by)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_longevity_opts_t o;
    fora_longevity_opts_init(&o);
    o.origin = origin;
    o.event = ev;
    o.group_by = by;
    o.silence = 30 * D;
    fora_longevity_t *l = NULL;
    ASSERT_OK(fora_longevity_members(s, &o, &l, &d), &d);
    return l;
}

static void test_members(void)
{
    fora_snapshot_t *s = build_forum();
    fora_longevity_t *l =
        members(s, FORA_ORIGIN_REGISTRATION, FORA_LIFE_BAN_OR_SILENCE, FORA_LIFE_GROUP_NONE);
    want_t w[] = {{"A", 10, 1}, {"B", 1, 1}, {"C", 45, 1}, {"E", 0, 0}, {"F", 1, 1}};
    check_obs(s, l, w, 5);
    ASSERT_EQ(l->excluded, 1);
    ASSERT_EQ(l->end, T0 + 100 * D);
    ASSERT(l->group == NULL && l->ngroups == 0);

    fora_diag_t d = FORA_DIAG_INIT;
    fora_survival_opts_t so;
    fora_survival_opts_init(&so);
    double hz[] = {5, 70};
    so.horizons = hz;
    so.nhorizons = 2;
    fora_survival_t *km = NULL;
    ASSERT_OK(fora_longevity_survival(l, &so, &km, &d), &d);
    ASSERT_EQ(km->all.nrows, 4);
    ASSERT_NEAR(km->all.rows[0].surv, 1, 1e-15);
    ASSERT_EQ(km->all.rows[1].n_risk, 4);
    ASSERT_NEAR(km->all.rows[1].surv, 0.5, 1e-15);
    ASSERT_NEAR(km->all.rows[2].surv, 0.25, 1e-15);
    ASSERT_NEAR(km->all.rows[3].surv, 0, 0);
    ASSERT(km->all.median.reached);
    ASSERT_NEAR(km->all.median.time, 5.5, 1e-15);
    ASSERT_NEAR(km->all.horizons[0].cum_event, 0.5, 1e-15); /* half gone within 5 days */
    ASSERT_NEAR(km->all.horizons[1].cum_event, 1, 1e-15);
    fora_survival_destroy(km);
    fora_longevity_destroy(l);

    /* bans only: B banned 18 days after registering; everyone else censored at the end */
    l = members(s, FORA_ORIGIN_REGISTRATION, FORA_LIFE_BAN, FORA_LIFE_GROUP_NONE);
    want_t wb[] = {{"A", 100, 0}, {"B", 18, 1}, {"C", 95, 0}, {"E", 0, 0}, {"F", 96, 0}};
    check_obs(s, l, wb, 5);
    fora_longevity_destroy(l);
    l = members(s, FORA_ORIGIN_REGISTRATION, FORA_LIFE_SILENCE, FORA_LIFE_GROUP_NONE);
    check_obs(s, l, w, 5);
    fora_longevity_destroy(l);

    /* from the first post: A 1 D .. silent 10 D; B 3 D, silent at once; D 30 D, active at 95 D */
    l = members(s, FORA_ORIGIN_FIRST_POST, FORA_LIFE_BAN_OR_SILENCE, FORA_LIFE_GROUP_NONE);
    want_t wf[] = {{"A", 9, 1}, {"B", 0, 1}, {"D", 70, 0}};
    check_obs(s, l, wf, 3);
    ASSERT_EQ(l->excluded, 3);
    fora_longevity_destroy(l);

    /* by status, and by the category of the first post (members without posts left out) */
    l = members(s, FORA_ORIGIN_REGISTRATION, FORA_LIFE_BAN_OR_SILENCE, FORA_LIFE_GROUP_STATUS);
    ASSERT_EQ(l->ngroups, 2);
    int32_t s1 = fora_snapshot_status_index(s, "s1"), s2 = fora_snapshot_status_index(s, "s2");
    ASSERT_STR_EQ(l->group_labels[s1], "s1");
    int32_t gs[] = {s1, s1, s2, s2, s1};
    for (size_t i = 0; i < 5; i++)
        ASSERT_EQ(l->group[i], gs[i]);
    ASSERT_OK(fora_longevity_survival(l, NULL, &km, &d), &d);
    ASSERT_EQ(km->ngroups, 2);
    ASSERT(km->logrank != NULL);
    /* s1: A 10, B 1, F 1 all events: S(1) = 1/3, S(10) = 0, median 1 */
    ASSERT_NEAR(km->groups[s1].rows[0].surv, 1.0 / 3, 1e-15);
    ASSERT_NEAR(km->groups[s1].median.time, 1, 0);
    fora_survival_destroy(km);
    fora_longevity_destroy(l);
    l = members(s, FORA_ORIGIN_REGISTRATION, FORA_LIFE_BAN_OR_SILENCE, FORA_LIFE_GROUP_CATEGORY);
    want_t wc[] = {{"A", 10, 1}, {"B", 1, 1}};
    check_obs(s, l, wc, 2);
    ASSERT_EQ(l->group[0], fora_snapshot_category_index(s, "x"));
    ASSERT_EQ(l->excluded, 4);
    fora_longevity_destroy(l);

    /* cohorts: A registered 30 Nov 23:30Z, which is 1 December in Amsterdam */
    fora_longevity_opts_t o;
    fora_longevity_opts_init(&o);
    o.group_by = FORA_LIFE_GROUP_COHORT;
    ASSERT_OK(fora_longevity_members(s, &o, &l, &d), &d);
    ASSERT_EQ(l->ngroups, 3);
    ASSERT_STR_EQ(l->group_labels[0], "2023-11");
    ASSERT_STR_EQ(l->group_labels[1], "2023-12");
    ASSERT_STR_EQ(l->group_labels[2], "2024-03");
    ASSERT_EQ(l->group[0], 0); /* A */
    ASSERT_EQ(l->group[3], 2); /* E */
    fora_longevity_destroy(l);
    fora_tzmap_t *tz = NULL;
    ASSERT_OK(fora_tzmap_load("Europe/Amsterdam", T0 - 30 * D, T0 + 200 * D, &tz, &d), &d);
    o.tz = tz;
    ASSERT_OK(fora_longevity_members(s, &o, &l, &d), &d);
    ASSERT_EQ(l->ngroups, 2);
    ASSERT_STR_EQ(l->group_labels[0], "2023-12");
    ASSERT_EQ(l->group[0], 0);
    fora_longevity_destroy(l);
    o.cohort = FORA_COHORT_QUARTER;
    ASSERT_OK(fora_longevity_members(s, &o, &l, &d), &d);
    ASSERT_STR_EQ(l->group_labels[0], "2023-Q4");
    ASSERT_STR_EQ(l->group_labels[1], "2024-Q1");
    fora_longevity_destroy(l);
    o.tz = NULL;
    o.cohort = FORA_COHORT_YEAR;
    ASSERT_OK(fora_longevity_members(s, &o, &l, &d), &d);
    ASSERT_EQ(l->ngroups, 2);
    ASSERT_STR_EQ(l->group_labels[1], "2024");
    fora_longevity_destroy(l);
    fora_tzmap_destroy(tz);

    /* an arbitrary group array; bad options */
    int32_t grp[] = {1, 0, -1, 0, 1, 1};
    o.group_by = FORA_LIFE_GROUP_GROUP;
    o.member_group = grp;
    o.ngroups = 2;
    ASSERT_OK(fora_longevity_members(s, &o, &l, &d), &d);
    ASSERT_EQ(l->n, 4); /* A, B, E, F (C has no group, D no registration) */
    ASSERT_STR_EQ(l->group_labels[1], "1");
    fora_longevity_destroy(l);
    grp[0] = 5;
    ASSERT_EQ(fora_longevity_members(s, &o, &l, &d), FORA_EINVAL);
    ASSERT(strstr(d.msg, "member \"A\"") != NULL);
    fora_diag_clear(&d);
    fora_longevity_opts_init(&o);
    o.silence = 0;
    ASSERT_EQ(fora_longevity_members(s, &o, &l, &d), FORA_EINVAL);
    ASSERT(strstr(d.msg, "\"silence\"") != NULL);
    fora_diag_clear(&d);
    fora_life_event_t ev;
    ASSERT_EQ(fora_life_event_parse("suspension", "event", &ev, &d), FORA_EINVAL);
    ASSERT(strstr(d.msg, "\"event\"") != NULL);
    fora_origin_t orig;
    ASSERT_OK(fora_origin_parse("first_post", "origin", &orig, &d), &d);
    ASSERT_EQ(orig, FORA_ORIGIN_FIRST_POST);
    fora_snapshot_destroy(s);
}

static void test_threads(void)
{
    fora_snapshot_t *s = build_forum();
    fora_diag_t d = FORA_DIAG_INIT;
    fora_longevity_opts_t o;
    fora_longevity_opts_init(&o);
    o.silence = 30 * D;
    o.group_by = FORA_LIFE_GROUP_CATEGORY;
    fora_longevity_t *l = NULL;
    ASSERT_OK(fora_longevity_threads(s, &o, &l, &d), &d);
    /* T1: 1 D .. 10 D, quiet for 90 D: died after 9 D; T2: 30 D .. 95 D, censored at 70 D;
     * T3 has no posts */
    ASSERT_EQ(l->n, 2);
    ASSERT_EQ(l->excluded, 1);
    ASSERT_NEAR(l->time[0], 9, 1e-12);
    ASSERT_EQ(l->event[0], 1);
    ASSERT_NEAR(l->time[1], 70, 1e-12);
    ASSERT_EQ(l->event[1], 0);
    ASSERT_EQ(l->group[1], fora_snapshot_category_index(s, "y"));
    fora_longevity_destroy(l);
    o.group_by = FORA_LIFE_GROUP_STATUS;
    ASSERT_EQ(fora_longevity_threads(s, &o, &l, &d), FORA_EINVAL);
    /* an end before T2's last post: T2 is censored at the end, 5 days after it began */
    fora_diag_clear(&d);
    o.group_by = FORA_LIFE_GROUP_NONE;
    o.end = T0 + 35 * D;
    ASSERT_OK(fora_longevity_threads(s, &o, &l, &d), &d);
    ASSERT_NEAR(l->time[1], 5, 1e-12);
    ASSERT_EQ(l->event[1], 0);
    ASSERT_NEAR(l->time[0], 34, 1e-12); /* quiet 25 D < 30 D: censored at the end */
    ASSERT_EQ(l->event[0], 0);
    fora_longevity_destroy(l);
    fora_snapshot_destroy(s);
}

static void test_activity(void)
{
    fora_snapshot_t *s = build_forum();
    fora_diag_t d = FORA_DIAG_INIT;
    fora_longevity_t *l =
        members(s, FORA_ORIGIN_REGISTRATION, FORA_LIFE_BAN_OR_SILENCE, FORA_LIFE_GROUP_STATUS);
    int32_t s1 = fora_snapshot_status_index(s, "s1"), s2 = fora_snapshot_status_index(s, "s2");
    /* at T0 + 8 D: A (leaves at 10 D) and C (at 50 D) are still active; B left at 3 D,
     * F at 5 D, E is not registered yet.  A: 1 post, 1 reply received (B's), 1 partner;
     * C: nothing */
    fora_activity_t *a = NULL;
    ASSERT_OK(fora_activity_compute(s, l, T0 + 8 * D, &a, &d), &d);
    ASSERT_EQ(a->all.n, 2);
    ASSERT_NEAR(a->all.posts, 0.5, 1e-15);
    ASSERT_NEAR(a->all.replies, 0.5, 1e-15);
    ASSERT_NEAR(a->all.partners, 0.5, 1e-15);
    ASSERT_EQ(a->ngroups, 2);
    ASSERT_EQ(a->groups[s1].n, 1);
    ASSERT_NEAR(a->groups[s1].posts, 1, 0);
    ASSERT_NEAR(a->groups[s1].replies, 1, 0);
    ASSERT_NEAR(a->groups[s1].partners, 1, 0);
    ASSERT_EQ(a->groups[s2].n, 1);
    ASSERT_NEAR(a->groups[s2].posts, 0, 0);
    fora_activity_destroy(a);
    /* at T0 + 2.5 D: A (1 post, no reply yet) and B (registered 2 D, no post yet) */
    ASSERT_OK(fora_activity_compute(s, l, T0 + 5 * D / 2, &a, &d), &d);
    ASSERT_EQ(a->groups[s1].n, 2);
    ASSERT_NEAR(a->groups[s1].posts, 0.5, 1e-15);
    ASSERT_NEAR(a->groups[s1].replies, 0, 0);
    ASSERT_EQ(a->groups[s2].n, 0);
    ASSERT(!a->groups[s2].defined && a->groups[s2].posts == 0);
    fora_activity_destroy(a);
    /* at the end only E is there */
    ASSERT_OK(fora_activity_compute(s, l, T0 + 100 * D, &a, &d), &d);
    ASSERT_EQ(a->all.n, 1);
    ASSERT(!a->groups[s1].defined);
    fora_activity_destroy(a);
    ASSERT_EQ(fora_activity_compute(s, l, TNONE, &a, &d), FORA_EINVAL);
    fora_longevity_destroy(l);
    fora_snapshot_destroy(s);
}

static void test_engagement(void)
{
    fora_snapshot_t *s = build_forum();
    fora_diag_t d = FORA_DIAG_INIT;
    fora_engagement_t *e = NULL;
    ASSERT_OK(fora_engagement_compute(s, "download", 10, &e, &d), &d);
    ASSERT_EQ(e->members, 6);
    ASSERT_EQ(e->posters, 3);
    ASSERT_NEAR(e->share_posters, 0.5, 1e-15);
    ASSERT_EQ(e->downloaders, 1);
    ASSERT_NEAR(e->share_downloaders, 1.0 / 6, 1e-15);
    ASSERT_EQ(e->downloads, 3);
    /* the data run from A's first post (1 D) to D's last (95 D): 94 days;
     * 3 downloads / 6 members / (94 / 14) fortnights = 7 / 94 */
    ASSERT_NEAR(e->span_days, 94, 1e-12);
    ASSERT(e->rate_defined);
    ASSERT_NEAR(e->downloads_per_member_fortnight, 7.0 / 94, 1e-15);
    /* non-posters: C on 3 distinct days (6 D twice, 40 D, 50 D), F on 2; E has no events */
    ASSERT_EQ(e->nonposters_with_events, 2);
    ASSERT_EQ(e->nranked, 2);
    ASSERT_STR_EQ(fora_snapshot_member_ext(s, e->ranked[0].member), "C");
    ASSERT_EQ(e->ranked[0].active_days, 3);
    ASSERT_EQ(e->ranked[0].events, 4);
    ASSERT_EQ(e->ranked[0].downloads, 3);
    ASSERT_STR_EQ(fora_snapshot_member_ext(s, e->ranked[1].member), "F");
    ASSERT_EQ(e->ranked[1].active_days, 2);
    fora_engagement_destroy(e);
    ASSERT_OK(fora_engagement_compute(s, "nonexistent", 1, &e, &d), &d);
    ASSERT_EQ(e->downloads, 0);
    ASSERT_EQ(e->nranked, 1);
    fora_engagement_destroy(e);
    ASSERT_EQ(fora_engagement_compute(s, "", 1, &e, &d), FORA_EINVAL);
    fora_snapshot_destroy(s);

    /* an empty forum: nothing defined, nothing NaN */
    fora_diag_clear(&d);
    ASSERT_OK(fora_snapshot_create(2, "empty", NULL, 1, &s, &d), &d);
    ASSERT_OK(fora_snapshot_finish(s, &d), &d);
    ASSERT_OK(fora_engagement_compute(s, "download", 10, &e, &d), &d);
    ASSERT(!e->shares_defined && !e->rate_defined && e->share_posters == 0 && e->nranked == 0);
    fora_engagement_destroy(e);
    fora_longevity_t *l = NULL;
    ASSERT_OK(fora_longevity_members(s, NULL, &l, &d), &d);
    ASSERT_EQ(l->n, 0);
    fora_survival_t *km = NULL;
    ASSERT_OK(fora_longevity_survival(l, NULL, &km, &d), &d);
    ASSERT_EQ(km->all.n, 0);
    fora_survival_destroy(km);
    fora_longevity_destroy(l);
    fora_snapshot_destroy(s);
}

int main(void)
{
    gsl_set_error_handler_off();
    FORA_RUN(test_members);
    FORA_RUN(test_threads);
    FORA_RUN(test_activity);
    FORA_RUN(test_engagement);
    return 0;
}
