/*
 * tests/unit/test_linking_cross.c - fora/linking_cross.h on hand-worked
 * cases: two tiny forums whose cross cosines follow from the hour-of-week
 * kernel (the same weekly hour in each forum's zone matches under the
 * LOCAL frame, the same instants under the COMMON frame), per-forum
 * centring (two members per forum: centred profiles are +-(a1 - a2)/2, so
 * cosines are exactly +1 and -1), top-k both ways, candidate pairs and the
 * evaluation arithmetic (MRR 1 against the random 0.75 of two candidates),
 * shared category names, and bad input: members without posts, forums
 * without overlap in time, an empty forum, zero components and options
 * out of range - reasons and notes, never NaN.  Also the migration split
 * on a tiny forum.
 */
#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fora/linking_cross.h"
#include "fora_test.h"

#define HOUR 3600
#define DAY 86400
#define WEEK (7 * DAY)
#define MONDAY 345600 /* 1970-01-05T00:00:00Z */

typedef struct {
    int64_t author; /* member id (1..), FORA_ID_NONE: deleted */
    int board;      /* board id (1..) */
    int64_t at;
} cpost_t;

/* boards 1..nb named "b<i>" in category cats[i-1], members 1..nm "<prefix><i>",
 * one thread per post (started by its author) */
static fora_snapshot_t *mk(const char *name, int64_t fid, const char *const *cats, int nb,
                           const char *prefix, int nm, const cpost_t *p, int np)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *s = NULL;
    char ext[32];
    ASSERT_OK(fora_snapshot_create(fid, name, "UTC", 1, &s, &d), &d);
    for (int b = 1; b <= nb; b++) {
        snprintf(ext, sizeof ext, "b%d", b);
        ASSERT_OK(fora_snapshot_add_board(s, b, ext, FORA_ID_NONE, cats[b - 1], &d), &d);
    }
    for (int m = 1; m <= nm; m++) {
        snprintf(ext, sizeof ext, "%s%d", prefix, m);
        ASSERT_OK(fora_snapshot_add_member(s, m, ext, FORA_TIME_NONE, NULL, FORA_TIME_NONE, &d),
                  &d);
    }
    for (int i = 0; i < np; i++) {
        snprintf(ext, sizeof ext, "t%d", i + 1);
        ASSERT_OK(fora_snapshot_add_thread(s, i + 1, ext, p[i].board, p[i].author, p[i].at, &d),
                  &d);
    }
    for (int i = 0; i < np; i++)
        ASSERT_OK(fora_snapshot_add_post(s, i + 1, i + 1, p[i].author, p[i].at, FORA_ID_NONE, &d),
                  &d);
    ASSERT_OK(fora_snapshot_finish(s, &d), &d);
    return s;
}

/* The hour-of-week cosine of two single-hour profiles dh hours apart (uncentred). */
static double how_cos(double dh)
{
    const double sigma = 1.5;
    double num = 0.5, den = 0.5;
    for (int f = 1; f <= 28; f++) {
        double g = exp(-2 * M_PI * M_PI * sigma * sigma * f * f / (168.0 * 168.0));
        num += g * g * cos(2 * M_PI * f * dh / 168.0);
        den += g * g;
    }
    return num / den;
}

/* member `m` posts `n` times, a week apart, at `t0` + w weeks, in board `b` */
static int weekly(cpost_t *p, int np, int64_t m, int b, int64_t t0, int n)
{
    for (int w = 0; w < n; w++)
        p[np++] = (cpost_t){m, b, t0 + (int64_t)w * WEEK};
    return np;
}

static const char *const CATS1[1] = {"general"};

/*
 * A (UTC): a1 posts Mondays 10:00 UTC, a2 Wednesdays 22:00 UTC; a3 never.
 * B (zone +3 h): b1 posts Mondays 10:00 B-local (07:00 UTC), b2 Wednesdays
 * 22:00 B-local; b3 never.  shift_weeks moves B in time by whole weeks.
 */
static void two_forums(int64_t shift_weeks, fora_snapshot_t **a, fora_snapshot_t **b)
{
    cpost_t pa[8], pb[8];
    int na = 0, nb = 0;
    na = weekly(pa, na, 1, 1, MONDAY + 10 * HOUR, 4);
    na = weekly(pa, na, 2, 1, MONDAY + 2 * DAY + 22 * HOUR, 4);
    const int64_t sh = shift_weeks * WEEK - 3 * HOUR;
    nb = weekly(pb, nb, 1, 1, MONDAY + 10 * HOUR + sh, 4);
    nb = weekly(pb, nb, 2, 1, MONDAY + 2 * DAY + 22 * HOUR + sh, 4);
    *a = mk("A", 1, CATS1, 1, "a", 3, pa, na);
    *b = mk("B", 2, CATS1, 1, "b", 3, pb, nb);
}

static void comps_finite(const double comp[FORA_LINK_NCOMP], double total)
{
    ASSERT(isfinite(total));
    for (int c = 0; c < FORA_LINK_NCOMP; c++)
        ASSERT(isfinite(comp[c]));
}

/* Uncentred: the hour-of-week cosines are the kernel's, per frame. */
static void test_frames(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *a, *b;
    two_forums(0, &a, &b);
    fora_tzmap_t *tzu = NULL, *tz3 = NULL;
    ASSERT_OK(fora_tzmap_create_fixed("UTC", 0, &tzu, &d), &d);
    ASSERT_OK(fora_tzmap_create_fixed("Plus3", 3 * HOUR, &tz3, &d), &d);
    fora_link_cross_opts_t o;
    fora_link_cross_opts_default(&o);
    o.tz_a = tzu;
    o.tz_b = tz3;
    o.centre = FORA_LINK_CROSS_CENTRE_NONE;
    o.k = 2;
    for (int frame = 0; frame < 2; frame++) {
        o.frame = (fora_link_cross_frame_t)frame;
        fora_link_cross_t *c = NULL;
        ASSERT_OK(fora_link_cross_compute(a, b, &o, &c, &d), &d);
        ASSERT_EQ(c->na, 2);
        ASSERT_EQ(c->nb, 2);
        ASSERT_EQ(c->nskipped_a, 1);
        ASSERT_EQ(c->skipped_a[0], 2);
        ASSERT_EQ(c->reason_a[0], FORA_LINK_SKIP_NO_POSTS);
        ASSERT_EQ(c->nskipped_b, 1);
        ASSERT(!(c->notes & FORA_LINK_CROSS_NOTE_NO_OVERLAP));
        ASSERT(c->notes & FORA_LINK_CROSS_NOTE_NO_SHARED_CATEGORY);
        ASSERT_EQ(c->nshared, 0);
        double tot, comp[FORA_LINK_NCOMP];
        /* LOCAL: a1 and b1 are both Monday 10:00 in their own zone; COMMON
         * (both in A's zone, UTC): b1 is 3 hours earlier */
        const double same = frame == FORA_LINK_CROSS_FRAME_LOCAL ? 1.0 : how_cos(3);
        ASSERT(fora_link_cross_similarity(c, 0, 0, FORA_LINK_CROSS_VIEW_TIME, &tot, comp));
        comps_finite(comp, tot);
        ASSERT_NEAR(comp[FORA_LINK_HOW], same, 1e-5);
        ASSERT_NEAR(comp[FORA_LINK_GAP], 1.0, 1e-6); /* weekly gaps everywhere */
        ASSERT_EQ(comp[FORA_LINK_SESSION], 0);       /* same shape: standardised to zero */
        ASSERT_EQ(comp[FORA_LINK_EMBED], 0);         /* never compared */
        /* total = (1^2 cos_how + 1^2 cos_gap) / (1^2 + 1^2): the session is zero */
        ASSERT_NEAR(tot, (same + 1.0) / 2, 1e-5);
        /* a1 (Monday 10:00) against b2 (Wednesday 22:00 B-local = 19:00 UTC) */
        const double far = frame == FORA_LINK_CROSS_FRAME_LOCAL ? how_cos(60) : how_cos(57);
        ASSERT(fora_link_cross_similarity(c, 0, 1, FORA_LINK_CROSS_VIEW_TIME, &tot, comp));
        ASSERT_NEAR(comp[FORA_LINK_HOW], far, 1e-5);
        /* without posts: no similarity, zeros */
        ASSERT(!fora_link_cross_similarity(c, 2, 0, FORA_LINK_CROSS_VIEW_TIME, &tot, comp));
        ASSERT_EQ(tot, 0);
        /* a1's nearest B member is b1 either way; lists in member indices */
        ASSERT_EQ(c->top_ab[0], 0);
        ASSERT_EQ(c->top_ab[1], 1);
        ASSERT_EQ(c->top_ba[0], 0);
        ASSERT_NEAR(c->score_ab[0], (same + 1.0) / 2, 1e-5);
        fora_link_cross_destroy(c);
    }
    fora_tzmap_destroy(tzu);
    fora_tzmap_destroy(tz3);
    fora_snapshot_destroy(a);
    fora_snapshot_destroy(b);
}

/* Centred per forum, B a hundred weeks later: exact +-1, notes, ranking, evaluation. */
static void test_centred_no_overlap(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *a, *b;
    two_forums(100, &a, &b);
    fora_tzmap_t *tzu = NULL, *tz3 = NULL;
    ASSERT_OK(fora_tzmap_create_fixed("UTC", 0, &tzu, &d), &d);
    ASSERT_OK(fora_tzmap_create_fixed("Plus3", 3 * HOUR, &tz3, &d), &d);
    fora_link_cross_opts_t o;
    fora_link_cross_opts_default(&o);
    o.tz_a = tzu;
    o.tz_b = tz3;
    o.frame = FORA_LINK_CROSS_FRAME_LOCAL;
    o.k = 1;
    fora_link_cross_t *c = NULL;
    ASSERT_OK(fora_link_cross_compute(a, b, &o, &c, &d), &d);
    ASSERT(c->notes & FORA_LINK_CROSS_NOTE_NO_OVERLAP);
    ASSERT_EQ(c->overlap, 0);
    ASSERT(c->b_first > c->a_last);
    double tot, comp[FORA_LINK_NCOMP];
    /* centred: a1 - mean = (a1 - a2)/2 and the same in B, so +1 and -1 */
    ASSERT(fora_link_cross_similarity(c, 0, 0, FORA_LINK_CROSS_VIEW_TIME, &tot, comp));
    ASSERT_NEAR(comp[FORA_LINK_HOW], 1.0, 1e-5);
    /* gaps are the same for everyone: centred to zero, a zero component */
    ASSERT_EQ(comp[FORA_LINK_GAP], 0);
    ASSERT(c->fp->zero_mask[0] & (1u << FORA_LINK_GAP));
    ASSERT(c->fp->zero_mask[0] & (1u << FORA_LINK_EMBED));
    ASSERT_NEAR(tot, 1.0, 1e-5); /* only the hour-of-week is left */
    ASSERT(fora_link_cross_similarity(c, 0, 1, FORA_LINK_CROSS_VIEW_TIME, &tot, comp));
    ASSERT_NEAR(comp[FORA_LINK_HOW], -1.0, 1e-5);
    ASSERT_NEAR(tot, -1.0, 1e-5);
    /* k = 1: two mutual pairs, both at score 1 */
    ASSERT_EQ(c->npairs, 2);
    for (int i = 0; i < 2; i++) {
        ASSERT_EQ(c->pairs[i].a, i);
        ASSERT_EQ(c->pairs[i].b, i);
        ASSERT(c->pairs[i].mutual);
        ASSERT_EQ(c->pairs[i].rank_ab, 1);
        ASSERT_EQ(c->pairs[i].rank_ba, 1);
        ASSERT_NEAR(c->pairs[i].score, 1.0, 1e-5);
    }
    /* evaluation: truth a1-b1, a2-b2, and a pair with a member without posts */
    const int32_t pa[3] = {0, 1, 2}, pb[3] = {0, 1, 0};
    fora_link_cross_eval_t ev;
    ASSERT_OK(fora_link_cross_evaluate(c, pa, pb, 3, &ev, &d), &d);
    ASSERT_EQ(ev.pairs, 3);
    ASSERT_EQ(ev.usable, 2);
    ASSERT_EQ(ev.unfingerprinted, 1);
    ASSERT_EQ(ev.ab.queries, 2);
    ASSERT_EQ(ev.ab.candidates, 2);
    for (int v = 0; v < FORA_LINK_CROSS_NVIEWS; v++) {
        ASSERT_NEAR(ev.ab.view[v].mrr, 1.0, 1e-12);
        ASSERT_NEAR(ev.ba.view[v].recall10, 1.0, 1e-12);
        ASSERT_NEAR(ev.ab.view[v].mean_rank, 1.0, 1e-12);
    }
    /* random order of 2 candidates, one positive: E[1/rank] = 1/2 + 1/4; mean rank 3/2 */
    ASSERT_NEAR(ev.ab.random.mrr, 0.75, 1e-12);
    ASSERT_NEAR(ev.ab.random.mean_rank, 1.5, 1e-12);
    ASSERT_NEAR(ev.ab.random.recall10, 1.0, 1e-12);
    ASSERT_EQ(ev.in_candidates, 2);
    ASSERT_EQ(ev.mutual_pairs, 2);
    ASSERT_NEAR(ev.precision_at_10, 1.0, 1e-12);
    ASSERT_NEAR(ev.mutual_precision, 1.0, 1e-12);
    /* wrong truth: a1-b2 is found at rank 2 (score -1 below b1's 1) */
    const int32_t wa[1] = {0}, wb[1] = {1};
    ASSERT_OK(fora_link_cross_evaluate(c, wa, wb, 1, &ev, &d), &d);
    ASSERT_NEAR(ev.ab.view[FORA_LINK_CROSS_VIEW_TIME].mrr, 0.5, 1e-12);
    ASSERT_NEAR(ev.precision_at_10, 0.0, 1e-12);
    /* only pairs without fingerprints: a clear ENOTFOUND */
    const int32_t xa[1] = {2}, xb[1] = {2};
    ASSERT_EQ(fora_link_cross_evaluate(c, xa, xb, 1, &ev, &d), FORA_ENOTFOUND);
    ASSERT(strstr(d.msg, "without posts") != NULL);
    fora_diag_clear(&d);
    const int32_t ba_[1] = {7}, bb_[1] = {0};
    ASSERT_EQ(fora_link_cross_evaluate(c, ba_, bb_, 1, &ev, &d), FORA_EINVAL);
    fora_diag_clear(&d);
    fora_link_cross_destroy(c);
    fora_tzmap_destroy(tzu);
    fora_tzmap_destroy(tz3);
    fora_snapshot_destroy(a);
    fora_snapshot_destroy(b);
}

/* Category names shared by both forums; a member with no post in them. */
static void test_categories(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    static const char *const ca[2] = {"x", "y"};
    static const char *const cb[3] = {"y", "z", "x"};
    cpost_t pa[8], pb[12];
    int na = 0, nb = 0;
    na = weekly(pa, na, 1, 1, MONDAY + 10 * HOUR, 4); /* a1: x */
    na = weekly(pa, na, 2, 2, MONDAY + 11 * HOUR, 4); /* a2: y */
    nb = weekly(pb, nb, 1, 3, MONDAY + 10 * HOUR, 4); /* b1: x */
    nb = weekly(pb, nb, 2, 1, MONDAY + 11 * HOUR, 4); /* b2: y */
    nb = weekly(pb, nb, 3, 2, MONDAY + 12 * HOUR, 4); /* b3: z only, not shared */
    fora_snapshot_t *a = mk("A", 1, ca, 2, "a", 2, pa, na), *b = mk("B", 2, cb, 3, "b", 3, pb, nb);
    fora_link_cross_opts_t o;
    fora_link_cross_opts_default(&o);
    o.centre = FORA_LINK_CROSS_CENTRE_NONE;
    o.view = FORA_LINK_CROSS_VIEW_TIME_CAT;
    fora_link_cross_t *c = NULL;
    ASSERT_OK(fora_link_cross_compute(a, b, &o, &c, &d), &d);
    ASSERT_EQ(c->nshared, 2);
    ASSERT(!(c->notes & FORA_LINK_CROSS_NOTE_NO_SHARED_CATEGORY));
    /* both shared names have 8 posts: ties go by A's category index, x first */
    ASSERT_STR_EQ(fora_strpool_get(&a->categories, c->shared_cat_a[0]), "x");
    double tot, comp[FORA_LINK_NCOMP];
    ASSERT(fora_link_cross_similarity(c, 0, 0, FORA_LINK_CROSS_VIEW_TIME_CAT, &tot, comp));
    ASSERT_NEAR(comp[FORA_LINK_CATEGORY], 1.0, 1e-6);
    ASSERT(fora_link_cross_similarity(c, 0, 1, FORA_LINK_CROSS_VIEW_TIME_CAT, &tot, comp));
    ASSERT_NEAR(comp[FORA_LINK_CATEGORY], 0.0, 1e-6);
    /* b3 posts only in z: its category component is zero, not NaN */
    ASSERT(fora_link_cross_similarity(c, 0, 2, FORA_LINK_CROSS_VIEW_TIME_CAT, &tot, comp));
    comps_finite(comp, tot);
    ASSERT(c->fp->zero_mask[c->row_b[2]] & (1u << FORA_LINK_CATEGORY));
    /* view time_category: (cos_how + cos_gap + 0.25 cos_cat) / (1 + 1 + 0.25), session zero */
    ASSERT(fora_link_cross_similarity(c, 0, 0, FORA_LINK_CROSS_VIEW_TIME_CAT, &tot, comp));
    ASSERT_NEAR(tot, (1.0 + 1.0 + 0.25) / 2.25, 1e-5);
    ASSERT(fora_link_cross_similarity(c, 0, 1, FORA_LINK_CROSS_VIEW_TIME_CAT, &tot, comp));
    ASSERT_NEAR(tot, (how_cos(1) + 1.0) / 2.25, 1e-5);
    fora_link_cross_destroy(c);
    fora_snapshot_destroy(a);
    fora_snapshot_destroy(b);
}

/* An empty forum, all-zero rows, bad options. */
static void test_bad_input(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    cpost_t pa[8];
    int na = 0;
    /* two members with the same routine: centred, everything is zero */
    na = weekly(pa, na, 1, 1, MONDAY + 10 * HOUR, 4);
    na = weekly(pa, na, 2, 1, MONDAY + 10 * HOUR + 60, 4);
    fora_snapshot_t *a = mk("A", 1, CATS1, 1, "a", 2, pa, na);
    fora_snapshot_t *e = mk("E", 2, CATS1, 1, "e", 2, NULL, 0);
    fora_link_cross_opts_t o;
    fora_link_cross_opts_default(&o);
    fora_link_cross_t *c = NULL;
    ASSERT_OK(fora_link_cross_compute(a, e, &o, &c, &d), &d);
    ASSERT(c->notes & FORA_LINK_CROSS_NOTE_B_EMPTY);
    ASSERT(c->notes & FORA_LINK_CROSS_NOTE_NO_OVERLAP);
    ASSERT_EQ(c->nb, 0);
    ASSERT_EQ(c->nskipped_b, 2);
    ASSERT_EQ(c->npairs, 0);
    ASSERT_EQ(c->top_ab[0], -1);
    fora_link_cross_eval_t ev;
    const int32_t pa_[1] = {0}, pb_[1] = {0};
    ASSERT_EQ(fora_link_cross_evaluate(c, pa_, pb_, 1, &ev, &d), FORA_ENOTFOUND);
    fora_diag_clear(&d);
    for (int i = 0; i < FORA_LINK_CROSS_NNOTES; i++)
        ASSERT(strlen(fora_link_cross_note_text((fora_link_cross_note_t)(1u << i))) > 20);
    fora_link_cross_destroy(c);
    /* A against itself: identical routines centre to zero rows, left out of the search */
    ASSERT_OK(fora_link_cross_compute(a, a, &o, &c, &d), &d);
    ASSERT_EQ(c->nzero_a, 2);
    ASSERT_EQ(c->nzero_b, 2);
    ASSERT_EQ(c->npairs, 0);
    ASSERT_EQ(c->top_ab[0], -1);
    double tot, comp[FORA_LINK_NCOMP];
    ASSERT(fora_link_cross_similarity(c, 0, 0, FORA_LINK_CROSS_VIEW_TIME, &tot, comp));
    comps_finite(comp, tot);
    ASSERT_EQ(tot, 0);
    fora_link_cross_destroy(c);
    /* min_posts above everybody's 4 posts: no rows, the reason says why */
    o.min_posts = 5;
    ASSERT_OK(fora_link_cross_compute(a, a, &o, &c, &d), &d);
    ASSERT_EQ(c->na, 0);
    ASSERT(c->notes & FORA_LINK_CROSS_NOTE_A_EMPTY);
    ASSERT_EQ(c->nskipped_a, 2);
    ASSERT_EQ(c->reason_a[1], FORA_LINK_CROSS_SKIP_FEW_POSTS);
    ASSERT(strstr(fora_link_cross_skip_reason(c->reason_a[1]), "min_posts") != NULL);
    ASSERT_STR_EQ(fora_link_cross_skip_reason(FORA_LINK_SKIP_NO_POSTS), "no posts");
    fora_link_cross_destroy(c);
    o.min_posts = 0;
    ASSERT_EQ(fora_link_cross_compute(a, a, &o, &c, &d), FORA_EINVAL);
    fora_diag_clear(&d);
    o.min_posts = 3;
    o.k = 0;
    ASSERT_EQ(fora_link_cross_compute(a, a, &o, &c, &d), FORA_EINVAL);
    ASSERT(c == NULL);
    fora_diag_clear(&d);
    o.k = 10;
    o.fp.episode_len = 3;
    ASSERT_EQ(fora_link_cross_compute(a, a, &o, &c, &d), FORA_EINVAL);
    ASSERT(strstr(d.msg, "episode_len") != NULL);
    fora_diag_clear(&d);
    fora_snapshot_destroy(a);
    fora_snapshot_destroy(e);
}

/* The migration split of a tiny forum. */
static void test_migration_split(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    /* m1 before and after, m2 before only, m3 after only, m4 never */
    const cpost_t p[5] = {{1, 1, 1000}, {2, 1, 2000}, {1, 1, 5000}, {3, 1, 6000}, {1, 1, 7000}};
    fora_snapshot_t *s = mk("F", 1, CATS1, 1, "m", 4, p, 5);
    fora_snapshot_t *a = NULL, *b = NULL;
    int32_t *pair = NULL, np = 0;
    ASSERT_OK(fora_link_migration_split(s, 5000, &a, &b, &pair, &np, &d), &d);
    ASSERT_EQ(np, 1);
    ASSERT_EQ(a->members.n, 3); /* m1, m2, m4 */
    ASSERT_EQ(a->posts.n, 2);
    ASSERT_EQ(b->members.n, 2); /* m1~after, m3~after */
    ASSERT_EQ(b->posts.n, 3);
    ASSERT_STR_EQ(fora_snapshot_member_ext(b, 0), "m1~after");
    ASSERT_STR_EQ(fora_snapshot_member_ext(b, 1), "m3~after");
    ASSERT_EQ(pair[0], 0);  /* m1 -> m1~after */
    ASSERT_EQ(pair[1], -1); /* m2 */
    ASSERT_EQ(pair[2], -1); /* m4 */
    ASSERT(a->posts.created_at[a->posts.n - 1] < b->posts.created_at[0]);
    free(pair);
    fora_snapshot_destroy(a);
    fora_snapshot_destroy(b);
    ASSERT_EQ(fora_link_migration_split(s, 10, &a, &b, &pair, &np, &d), FORA_EINVAL);
    ASSERT(a == NULL && b == NULL && pair == NULL);
    fora_diag_clear(&d);
    ASSERT_EQ(fora_link_migration_split(s, 99999, &a, &b, &pair, &np, &d), FORA_EINVAL);
    fora_diag_clear(&d);
    fora_snapshot_destroy(s);
}

int main(void)
{
    gsl_set_error_handler_off();
    FORA_RUN(test_frames);
    FORA_RUN(test_centred_no_overlap);
    FORA_RUN(test_categories);
    FORA_RUN(test_bad_input);
    FORA_RUN(test_migration_split);
    return 0;
}
