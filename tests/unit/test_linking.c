/*
 * tests/unit/test_linking.c - fora/linking.h on hand-made cases: cosine,
 * top-k, the rank and MRR arithmetic on a known ranking, the analytic random
 * baseline, episode cutting and skip reasons, zero components, the
 * hour-of-week kernel, gap bins, the time zone, the projected top-k, the
 * embedding on two disjoint communities and the sybil split.
 */
#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fora/linking.h"
#include "fora_test.h"

#define DAY 86400
#define MONDAY 345600 /* 1970-01-05T00:00:00Z */

/* ---- tiny snapshots ----------------------------------------------------- */

typedef struct {
    int64_t author; /* member id */
    int64_t thread; /* thread id */
    int64_t at;
    int64_t reply_to; /* post id or FORA_ID_NONE */
} post_t;

/* boards 1..nb ("b1".., category "c1" or "c2" by parity), members 1..nm
 * ("m1"..), threads 1..nt in board thread_board[t-1] started by member 1 */
static fora_snapshot_t *make(int nb, int nm, int nt, const int *thread_board, const post_t *p,
                             int np)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *s = NULL;
    char ext[32];
    ASSERT_OK(fora_snapshot_create(1, "t", "UTC", 1, &s, &d), &d);
    for (int b = 1; b <= nb; b++) {
        snprintf(ext, sizeof ext, "b%d", b);
        ASSERT_OK(fora_snapshot_add_board(s, b, ext, FORA_ID_NONE, b % 2 ? "c1" : "c2", &d), &d);
    }
    for (int m = 1; m <= nm; m++) {
        snprintf(ext, sizeof ext, "m%d", m);
        ASSERT_OK(fora_snapshot_add_member(s, m, ext, FORA_TIME_NONE, NULL, FORA_TIME_NONE, &d),
                  &d);
    }
    for (int t = 1; t <= nt; t++) {
        snprintf(ext, sizeof ext, "t%d", t);
        ASSERT_OK(fora_snapshot_add_thread(s, t, ext, thread_board[t - 1], 1, 0, &d), &d);
    }
    for (int i = 0; i < np; i++)
        ASSERT_OK(
            fora_snapshot_add_post(s, i + 1, p[i].thread, p[i].author, p[i].at, p[i].reply_to, &d),
            &d);
    ASSERT_OK(fora_snapshot_finish(s, &d), &d);
    return s;
}

/* ---- cosine, top-k ----------------------------------------------------- */

static void test_cosine(void)
{
    float a[2] = {1, 0}, b[2] = {1, 1}, z[2] = {0, 0}, c[3] = {1, 2, 2}, e[3] = {2, -1, 0};
    ASSERT_NEAR(fora_link_cosine(a, b, 2), 1 / sqrt(2.0), 1e-7);
    ASSERT_NEAR(fora_link_cosine(a, a, 2), 1.0, 1e-7);
    ASSERT_NEAR(fora_link_cosine(c, e, 3), 0.0, 1e-7);
    ASSERT_NEAR(fora_link_cosine(c, b, 2), 3.0 / (sqrt(5.0) * sqrt(2.0)), 1e-7);
    double zc = fora_link_cosine(a, z, 2);
    ASSERT(zc == 0.0 && !isnan(zc));
}

/* unit vectors at the angles (degrees) */
static float *angles(const double *deg, int n)
{
    float *x = malloc(sizeof(float) * 2 * n);
    for (int i = 0; i < n; i++) {
        x[2 * i] = (float)cos(deg[i] * M_PI / 180);
        x[2 * i + 1] = (float)sin(deg[i] * M_PI / 180);
    }
    return x;
}

static void test_topk(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    const double deg[5] = {0, 10, 90, 180, 10};
    float *x = angles(deg, 5);
    int32_t idx[5 * 4];
    float sc[5 * 4];
    ASSERT_OK(fora_link_topk(x, 5, 2, NULL, 5, NULL, 4, idx, sc, &d), &d);
    /* row 0: rows 1 and 4 tie at cos 10 (lower index first), then 2, then 3; itself excluded */
    ASSERT_EQ(idx[0], 1);
    ASSERT_EQ(idx[1], 4);
    ASSERT_EQ(idx[2], 2);
    ASSERT_EQ(idx[3], 3);
    ASSERT_NEAR(sc[0], cos(10 * M_PI / 180), 1e-6);
    ASSERT_NEAR(sc[2], 0.0, 1e-6);
    ASSERT_NEAR(sc[3], -1.0, 1e-6);
    /* row 3 (180 degrees): 2 (90) first, then the two at 10, then 0 */
    ASSERT_EQ(idx[12], 2);
    ASSERT_EQ(idx[13], 1);
    ASSERT_EQ(idx[14], 4);
    ASSERT_EQ(idx[15], 0);
    /* groups: rows 0, 1 and 4 are one member; k larger than what is left pads with -1 */
    int32_t group[5] = {7, 7, 8, 9, 7};
    int32_t q[1] = {0};
    ASSERT_OK(fora_link_topk(x, 5, 2, q, 1, group, 4, idx, sc, &d), &d);
    ASSERT_EQ(idx[0], 2);
    ASSERT_EQ(idx[1], 3);
    ASSERT_EQ(idx[2], -1);
    ASSERT_EQ(idx[3], -1);
    ASSERT(sc[2] == 0.0f);
    ASSERT_EQ(fora_link_topk(x, 5, 2, NULL, 5, NULL, 0, idx, sc, &d), FORA_EINVAL);
    ASSERT(strstr(d.msg, "k must be") != NULL);
    free(x);
}

/* A block boundary (FORA_LINK_BLOCK rows) and many queries: same answer as a brute-force scan. */
static void test_topk_blocks(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    const int n = FORA_LINK_BLOCK + 300, dim = 5, k = 7;
    float *x = malloc(sizeof(float) * n * dim);
    uint64_t st = 12345;
    for (int i = 0; i < n * dim; i++) {
        st = st * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = (float)((st >> 33) % 2001) / 1000.0f - 1.0f;
    }
    int32_t *idx = malloc(sizeof(int32_t) * n * k);
    float *sc = malloc(sizeof(float) * n * k);
    ASSERT_OK(fora_link_topk(x, n, dim, NULL, n, NULL, k, idx, sc, &d), &d);
    for (int i = 0; i < n; i += 97) {
        /* brute force: the k-th best score and that each reported score is right */
        for (int j = 0; j < k; j++) {
            double s = 0;
            for (int c = 0; c < dim; c++)
                s += (double)x[i * dim + c] * x[idx[i * k + j] * dim + c];
            ASSERT_NEAR(sc[i * k + j], s, 1e-5);
            if (j > 0) ASSERT(sc[i * k + j] <= sc[i * k + j - 1]);
        }
        int better = 0;
        for (int r = 0; r < n; r++) {
            if (r == i) continue;
            double s = 0;
            for (int c = 0; c < dim; c++)
                s += (double)x[i * dim + c] * x[r * dim + c];
            if (s > sc[i * k + k - 1] + 1e-5) better++;
        }
        ASSERT(better <= k - 1);
    }
    /* projected: the data lie in a 3-dimensional subspace, so 3 projected columns are exact */
    for (int i = 0; i < n; i++) {
        x[i * dim + 3] = x[i * dim] + x[i * dim + 1];
        x[i * dim + 4] = x[i * dim + 2] - x[i * dim];
    }
    int32_t *idx2 = malloc(sizeof(int32_t) * n * k);
    float *sc2 = malloc(sizeof(float) * n * k);
    ASSERT_OK(fora_link_topk(x, n, dim, NULL, n, NULL, k, idx, sc, &d), &d);
    ASSERT_OK(fora_link_topk_projected(x, n, dim, NULL, k, 3, 20, idx2, sc2, &d), &d);
    int same = 0;
    for (int i = 0; i < n * k; i++) {
        ASSERT_NEAR(sc2[i], sc[i], 1e-4);
        same += idx2[i] == idx[i];
    }
    ASSERT(same >= n * k * 99 / 100); /* only near-ties may swap */
    ASSERT_EQ(fora_link_topk_projected(x, n, dim, NULL, 10, 3, 5, idx2, sc2, &d), FORA_EINVAL);
    free(x);
    free(idx);
    free(sc);
    free(idx2);
    free(sc2);
}

/* ---- rank, random baseline, MRR on a known ranking ---------------------- */

static void test_random_expect(void)
{
    double rr, rec;
    fora_link_random_expect(3, 1, 1, &rr, &rec); /* ranks 1, 2, 3 equally likely */
    ASSERT_NEAR(rr, 11.0 / 18.0, 1e-12);
    ASSERT_NEAR(rec, 1.0 / 3.0, 1e-12);
    fora_link_random_expect(4, 2, 2, &rr, &rec); /* P(r) = 1/2, 1/3, 1/6 */
    ASSERT_NEAR(rr, 1.0 / 2 + 1.0 / 6 + 1.0 / 18, 1e-12);
    ASSERT_NEAR(rec, 5.0 / 6.0, 1e-12);
    fora_link_random_expect(100, 1, 10, &rr, &rec);
    double h = 0;
    for (int r = 1; r <= 100; r++)
        h += 1.0 / r;
    ASSERT_NEAR(rr, h / 100, 1e-12);
    ASSERT_NEAR(rec, 0.1, 1e-12);
    ASSERT_NEAR(fora_link_rank(0, 0, 1), 1.0, 0);
    ASSERT_NEAR(fora_link_rank(2, 3, 1), 4.5, 0); /* 3 ties with 1 positive: 3/2 expected ahead */
    ASSERT_NEAR(fora_link_rank(0, 4, 3), 2.0, 0);
}

/* A hand-made fingerprint set: one embedding column pair, everything else zero. */
static fora_link_fp_t *hand_fp(const double *deg, const int32_t *member, int n)
{
    fora_link_fp_t *fp = calloc(1, sizeof(*fp));
    fp->n = n;
    /* components: 1 column each except the embedding (2) */
    int w[FORA_LINK_NCOMP] = {1, 1, 1, 2, 1};
    for (int c = 0; c < FORA_LINK_NCOMP; c++)
        fp->off[c + 1] = fp->off[c] + w[c];
    fp->dim = fp->off[FORA_LINK_NCOMP];
    fp->x = calloc((size_t)n * fp->dim, sizeof(float));
    fp->member = malloc(sizeof(int32_t) * n);
    fp->first_post = calloc(n, sizeof(int32_t));
    fp->nposts = calloc(n, sizeof(int32_t));
    fp->zero_mask = malloc(n);
    fp->row_of_member = calloc(8, sizeof(int32_t));
    fp->skipped = malloc(1);
    fp->skip_reason = malloc(1);
    for (int i = 0; i < n; i++) {
        fp->member[i] = member[i];
        fp->x[i * fp->dim + fp->off[FORA_LINK_EMBED]] = (float)cos(deg[i] * M_PI / 180);
        fp->x[i * fp->dim + fp->off[FORA_LINK_EMBED] + 1] = (float)sin(deg[i] * M_PI / 180);
        fp->zero_mask[i] = (uint8_t)(0x1f & ~(1u << FORA_LINK_EMBED));
    }
    return fp;
}

static void test_evaluate_known(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    /* members 0: 0 and 30 degrees; 1: 20 and 50; 2: 90 (never a query).  First positives:
     * query 0 -> rank 2 (20 is closer), 1 -> 3, 2 -> 3, 3 -> 2: MRR 5/12, mean rank 2.5 */
    const double deg[5] = {0, 30, 20, 50, 90};
    const int32_t mem[5] = {0, 0, 1, 1, 2};
    fora_link_fp_t *fp = hand_fp(deg, mem, 5);
    fora_link_eval_t ev;
    ASSERT_OK(fora_link_evaluate(fp, NULL, 100, 1, &ev, &d), &d);
    ASSERT_EQ(ev.queries, 4);
    ASSERT_EQ(ev.eligible, 4);
    ASSERT_EQ(ev.candidates, 4);
    ASSERT_NEAR(ev.view[FORA_LINK_VIEW_CONTEXT].mrr, 5.0 / 12.0, 1e-9);
    ASSERT_NEAR(ev.view[FORA_LINK_VIEW_CONTEXT].mean_rank, 2.5, 1e-9);
    ASSERT_NEAR(ev.view[FORA_LINK_VIEW_CONTEXT].recall10, 1.0, 0);
    /* the category column is zero too, so "both" is the embedding alone */
    ASSERT_NEAR(ev.view[FORA_LINK_VIEW_BOTH].mrr, 5.0 / 12.0, 1e-9);
    /* time: all zero, every candidate ties: expected rank 1 + 3/2 */
    ASSERT_NEAR(ev.view[FORA_LINK_VIEW_TIME].mean_rank, 2.5, 1e-9);
    ASSERT_NEAR(ev.view[FORA_LINK_VIEW_TIME].mrr, 0.4, 1e-9);
    ASSERT(!isnan(ev.view[FORA_LINK_VIEW_TIME].mrr));
    /* random: one positive among 4: (1 + 1/2 + 1/3 + 1/4) / 4 */
    ASSERT_NEAR(ev.random.mrr, 25.0 / 48.0, 1e-12);
    ASSERT_NEAR(ev.random.mean_rank, 2.5, 1e-12);
    /* targets: member 2 is member 0's other half; members 0 and 2 -> target 0 */
    int32_t target[3] = {0, -1, 0};
    ASSERT_OK(fora_link_evaluate(fp, target, 100, 1, &ev, &d), &d);
    ASSERT_EQ(ev.eligible, 3); /* rows 0, 1, 4 */
    /* query 0 (0 deg): 20, 30(pos) -> rank 2; 1 (30): 20, 50, 0(pos) -> 3; 4 (90): 50, 30(pos) -> 2
     */
    ASSERT_NEAR(ev.view[FORA_LINK_VIEW_CONTEXT].mrr, (0.5 + 1.0 / 3 + 0.5) / 3, 1e-9);
    /* nobody to find */
    const int32_t alone[3] = {0, 1, 2};
    fora_link_fp_t *fp2 = hand_fp(deg, alone, 3);
    ASSERT_EQ(fora_link_evaluate(fp2, NULL, 10, 1, &ev, &d), FORA_ENOTFOUND);
    ASSERT(strstr(d.msg, "no row has another row") != NULL);
    fora_diag_clear(&d);
    ASSERT_EQ(fora_link_evaluate(fp2, NULL, 0, 1, &ev, &d), FORA_EINVAL);
    fora_link_fp_destroy(fp);
    fora_link_fp_destroy(fp2);
}

/* the balanced pool with the fixed weights */
static fora_err_t capped(const fora_link_fp_t *fp, int32_t kappa, int32_t per, uint64_t seed,
                         fora_link_eval_t *ev, fora_diag_t *d)
{
    fora_link_eval_opts_t o;
    fora_link_eval_opts_default(&o);
    o.queries = kappa;
    o.per_member = per;
    o.fit = false;
    o.seed = seed;
    return fora_link_evaluate_ex(fp, NULL, &o, ev, d);
}

static void test_evaluate_capped(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    /* member 0: 0, 10, 200 degrees; member 1: 100, 105; member 2: 300 (a distractor).
     * With 2 rows per member, member 0 keeps {0, 10}: every query finds its pair first
     * (MRR 1); or {0, 200} / {10, 200}: the pair is 160 or 170 degrees apart and the
     * three other rows are all closer to both, rank 4, so MRR (1/4 + 1/4 + 1 + 1) / 4. */
    const double deg[6] = {0, 10, 200, 100, 105, 300};
    const int32_t mem[6] = {0, 0, 0, 1, 1, 2};
    fora_link_fp_t *fp = hand_fp(deg, mem, 6);
    fora_link_eval_t ev, all;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        ASSERT_OK(capped(fp, 100, 2, seed, &ev, &d), &d);
        ASSERT_EQ(ev.per_member, 2);
        ASSERT_EQ(ev.rows, 5);
        ASSERT_EQ(ev.candidates, 4);
        ASSERT_EQ(ev.queries, 4);
        const double m = ev.view[FORA_LINK_VIEW_CONTEXT].mrr;
        ASSERT(fabs(m - 1.0) < 1e-9 || fabs(m - 0.625) < 1e-9);
        /* one positive among 4 for every query */
        ASSERT_NEAR(ev.random.mrr, 25.0 / 48.0, 1e-12);
    }
    /* a cap no member reaches is the pooled protocol, query sample included */
    ASSERT_OK(capped(fp, 3, 3, 5, &ev, &d), &d);
    ASSERT_OK(fora_link_evaluate(fp, NULL, 3, 5, &all, &d), &d);
    ASSERT_EQ(ev.rows, 6);
    ASSERT_EQ(all.rows, 6);
    ASSERT_NEAR(ev.view[FORA_LINK_VIEW_BOTH].mrr, all.view[FORA_LINK_VIEW_BOTH].mrr, 0);
    ASSERT_NEAR(ev.random.mrr, all.random.mrr, 0);
    /* at most 3 rows: whole members in a random order while they fit, so member 0 alone
     * (3 rows, 3 queries) or members 1 and 2 (3 rows, member 1's 2 queries) */
    fora_link_eval_opts_t mo;
    fora_link_eval_opts_default(&mo);
    mo.max_rows = 3;
    mo.fit = false;
    bool saw[2] = {false, false};
    for (uint64_t seed = 1; seed <= 12; seed++) {
        mo.seed = seed;
        ASSERT_OK(fora_link_evaluate_ex(fp, NULL, &mo, &ev, &d), &d);
        ASSERT(ev.sampled);
        ASSERT_EQ(ev.rows, 3);
        ASSERT_EQ(ev.candidates, 2);
        ASSERT(ev.queries == 2 || ev.queries == 3);
        saw[ev.queries - 2] = true;
        /* m positives among 2 candidates: member 0's queries have 2 (rr 1), member 1's one */
        ASSERT_NEAR(ev.random.mrr, ev.queries == 3 ? 1.0 : 0.75, 1e-12);
    }
    ASSERT(saw[0] && saw[1]);
    mo.max_rows = 6;
    ASSERT_OK(fora_link_evaluate_ex(fp, NULL, &mo, &ev, &d), &d);
    ASSERT(!ev.sampled);
    ASSERT_EQ(ev.rows, 6);
    mo.max_rows = -1;
    ASSERT_EQ(fora_link_evaluate_ex(fp, NULL, &mo, &ev, &d), FORA_EINVAL);
    ASSERT(strstr(d.msg, "max_rows") != NULL);
    fora_diag_clear(&d);
    ASSERT_EQ(capped(fp, 10, 1, 1, &ev, &d), FORA_EINVAL);
    ASSERT(strstr(d.msg, "rows per member") != NULL);
    fora_diag_clear(&d);
    fora_link_fp_destroy(fp);
}

/* ---- fingerprints ------------------------------------------------------- */

static void test_episodes(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    const int tb[2] = {1, 2};
    post_t p[9];
    int np = 0;
    for (int i = 0; i < 7; i++) /* member 1: 7 posts an hour apart */
        p[np++] = (post_t){1, 1 + i % 2, MONDAY + i * 3600, FORA_ID_NONE};
    p[np++] = (post_t){2, 1, MONDAY + 100, FORA_ID_NONE}; /* member 2: 2 posts */
    p[np++] = (post_t){2, 2, MONDAY + 200, 1};
    fora_snapshot_t *s = make(2, 3, 2, tb, p, np); /* member 3: none */
    fora_link_opts_t o;
    fora_link_opts_default(&o);
    o.episode_len = 3;
    fora_link_fp_t *fp = NULL;
    ASSERT_OK(fora_link_fingerprints(s, &o, &fp, &d), &d);
    ASSERT_EQ(fp->n, 2); /* 7 posts: two episodes of 3, the 7th left out */
    ASSERT_EQ(fp->member[0], 0);
    ASSERT_EQ(fp->member[1], 0);
    ASSERT_EQ(fp->nposts[0], 3);
    /* posts sorted by time: member 1's posts are 0, 2, 3, ... (member 2's two at +100, +200) */
    ASSERT_EQ(s->posts.author[fp->first_post[0]], 0);
    ASSERT_EQ(s->posts.created_at[fp->first_post[0]], MONDAY);
    ASSERT_EQ(s->posts.created_at[fp->first_post[1]], MONDAY + 3 * 3600);
    ASSERT_EQ(fp->row_of_member[0], 0);
    ASSERT_EQ(fp->row_of_member[1], -1);
    ASSERT_EQ(fp->row_of_member[2], -1);
    ASSERT_EQ(fp->nskipped, 2);
    ASSERT_EQ(fp->skipped[0], 1);
    ASSERT_EQ(fp->skip_reason[0], FORA_LINK_SKIP_TOO_FEW_POSTS);
    ASSERT_EQ(fp->skipped[1], 2);
    ASSERT_EQ(fp->skip_reason[1], FORA_LINK_SKIP_NO_POSTS);
    ASSERT_STR_EQ(fora_link_skip_reason(FORA_LINK_SKIP_NO_POSTS), "no posts");
    for (int i = 0; i < fp->n * fp->dim; i++)
        ASSERT(isfinite(fp->x[i]));
    fora_link_fp_destroy(fp);

    o.episode_len = 0; /* whole histories */
    ASSERT_OK(fora_link_fingerprints(s, &o, &fp, &d), &d);
    ASSERT_EQ(fp->n, 2);
    ASSERT_EQ(fp->nposts[0], 7);
    ASSERT_EQ(fp->nposts[1], 2);
    ASSERT_EQ(fp->nskipped, 1);
    fora_link_fp_destroy(fp);

    o.episode_len = -1;
    ASSERT_EQ(fora_link_fingerprints(s, &o, &fp, &d), FORA_EINVAL);
    ASSERT(strstr(d.msg, "episode_len") != NULL);
    ASSERT(fp == NULL);
    fora_diag_clear(&d);
    fora_link_opts_default(&o);
    o.embed_dim = 1;
    ASSERT_EQ(fora_link_fingerprints(s, &o, &fp, &d), FORA_EINVAL);
    ASSERT(strstr(d.msg, "embed_dim") != NULL);
    fora_snapshot_destroy(s);
}

/* Zero components: a single post has no gap; similarities stay finite. */
static void test_zero_components(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    const int tb[1] = {1};
    const post_t p[3] = {{1, 1, MONDAY, FORA_ID_NONE},
                         {2, 1, MONDAY + 3600, FORA_ID_NONE},
                         {2, 1, MONDAY + 7200, FORA_ID_NONE}};
    fora_snapshot_t *s = make(1, 2, 1, tb, p, 3);
    fora_link_opts_t o;
    fora_link_opts_default(&o);
    o.centre = false;
    o.episode_len = 1;
    fora_link_fp_t *fp = NULL;
    ASSERT_OK(fora_link_fingerprints(s, &o, &fp, &d), &d);
    ASSERT_EQ(fp->n, 3);
    /* rows: member 1's post; member 2's first (no gap) and second (gap 1 h) */
    ASSERT(fp->zero_mask[0] & (1u << FORA_LINK_GAP));
    ASSERT(fp->zero_mask[1] & (1u << FORA_LINK_GAP));
    ASSERT(!(fp->zero_mask[2] & (1u << FORA_LINK_GAP)));
    ASSERT(!(fp->zero_mask[0] & (1u << FORA_LINK_HOW)));
    double total, comp[FORA_LINK_NCOMP];
    fora_link_view_t both = fora_link_view_get(FORA_LINK_VIEW_BOTH);
    fora_link_pair(fp, 0, 2, &both, &total, comp);
    ASSERT(comp[FORA_LINK_GAP] == 0.0);
    ASSERT(isfinite(total));
    for (int c = 0; c < FORA_LINK_NCOMP; c++)
        ASSERT(isfinite(comp[c]));
    /* the same thread and board: identical context */
    ASSERT_NEAR(comp[FORA_LINK_EMBED], 1.0, 1e-6);
    ASSERT_NEAR(comp[FORA_LINK_CATEGORY], 1.0, 1e-6);
    /* the combined fingerprint of a row is unit */
    float *y = malloc(sizeof(float) * fp->n * fp->dim);
    fora_link_fp_combine(fp, &both, y);
    for (int r = 0; r < fp->n; r++) {
        double ss = 0;
        for (int k = 0; k < fp->dim; k++)
            ss += (double)y[r * fp->dim + k] * y[r * fp->dim + k];
        ASSERT_NEAR(ss, 1.0, 1e-5);
    }
    /* and its dot products are the view's combined cosines */
    double dot = 0;
    for (int k = 0; k < fp->dim; k++)
        dot += (double)y[k] * y[2 * fp->dim + k];
    ASSERT_NEAR(dot, total, 1e-5);
    free(y);
    fora_link_fp_destroy(fp);
    fora_snapshot_destroy(s);
}

/* The hour-of-week kernel: the cosine of two single posts dh hours apart is
 * sum_f g_f^2 cos(2 pi f dh / 168) over the kept harmonics (with f = 0 at
 * weight 1/2), g_f = exp(-2 pi^2 sigma^2 f^2 / 168^2), normalised. */
static void test_hour_of_week(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    const int tb[1] = {1};
    const int dh[4] = {0, 1, 5, 84};
    post_t p[5];
    p[0] = (post_t){1, 1, MONDAY + 10 * 3600 + 59, FORA_ID_NONE};
    for (int i = 0; i < 4; i++) /* a week later, +dh hours: the same bin + dh */
        p[i + 1] = (post_t){2 + i, 1, MONDAY + 7 * DAY + (10 + dh[i]) * 3600, FORA_ID_NONE};
    fora_snapshot_t *s = make(1, 5, 1, tb, p, 5);
    fora_link_opts_t o;
    fora_link_opts_default(&o);
    o.centre = false;
    fora_link_fp_t *fp = NULL;
    ASSERT_OK(fora_link_fingerprints(s, &o, &fp, &d), &d);
    ASSERT_EQ(fp->n, 5);
    ASSERT_EQ(fp->off[1] - fp->off[0], 1 + 2 * o.how_harmonics);
    for (int i = 0; i < 4; i++) {
        double num = 0.5, den = 0.5;
        for (int f = 1; f <= o.how_harmonics; f++) {
            double g = exp(-2 * M_PI * M_PI * o.how_sigma * o.how_sigma * f * f / (168.0 * 168.0));
            num += g * g * cos(2 * M_PI * f * dh[i] / 168.0);
            den += g * g;
        }
        double total, comp[FORA_LINK_NCOMP];
        fora_link_view_t v = fora_link_view_get(FORA_LINK_VIEW_TIME);
        fora_link_pair(fp, 0, 1 + i, &v, &total, comp);
        ASSERT_NEAR(comp[FORA_LINK_HOW], num / den, 1e-5);
    }
    fora_link_fp_destroy(fp);

    /* the forum's zone: a post at Sunday 22:00 UTC is Monday 00:00 at UTC+2 */
    fora_tzmap_t *tz = NULL;
    ASSERT_OK(fora_tzmap_create_fixed("X", 7200, &tz, &d), &d);
    const post_t q[2] = {{1, 1, MONDAY + 7 * DAY - 7200, FORA_ID_NONE},
                         {2, 1, MONDAY, FORA_ID_NONE}};
    fora_snapshot_t *s2 = make(1, 2, 1, tb, q, 2);
    fora_link_fp_t *a = NULL, *b = NULL;
    o.tz = tz;
    ASSERT_OK(fora_link_fingerprints(s2, &o, &a, &d), &d);
    o.tz = NULL;
    ASSERT_OK(fora_link_fingerprints(s2, &o, &b, &d), &d);
    /* row 0 (Sunday 22:00 UTC) at UTC+2 has the histogram of row 1 (Monday 00:00) at UTC */
    const int h0 = a->off[FORA_LINK_HOW], hn = a->off[FORA_LINK_HOW + 1] - h0;
    ASSERT_NEAR(fora_link_cosine(a->x + h0, b->x + b->dim + h0, hn), 1.0, 1e-6);
    ASSERT(fora_link_cosine(b->x + h0, b->x + b->dim + h0, hn) < 0.9); /* 2 h apart in UTC */
    ASSERT(fora_link_cosine(a->x + a->dim + h0, b->x + b->dim + h0, hn) < 0.9);
    fora_link_fp_destroy(a);
    fora_link_fp_destroy(b);
    fora_tzmap_destroy(tz);
    fora_snapshot_destroy(s2);
    fora_snapshot_destroy(s);
}

/* Gap bins: < 1 min is bin 0, [2^(b-1), 2^b) minutes is bin b, smoothed 1/4 1/2 1/4. */
static void test_gaps(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    const int tb[1] = {1};
    const post_t p[4] = {{1, 1, MONDAY, FORA_ID_NONE},
                         {1, 1, MONDAY + DAY, FORA_ID_NONE}, /* 1440 min: bin 11 */
                         {2, 1, MONDAY, FORA_ID_NONE},
                         {2, 1, MONDAY + 30, FORA_ID_NONE}}; /* bin 0 */
    fora_snapshot_t *s = make(1, 2, 1, tb, p, 4);
    fora_link_opts_t o;
    fora_link_opts_default(&o);
    o.centre = false;
    fora_link_fp_t *fp = NULL;
    ASSERT_OK(fora_link_fingerprints(s, &o, &fp, &d), &d);
    const float *g0 = fp->x + fp->off[FORA_LINK_GAP],
                *g1 = fp->x + fp->dim + fp->off[FORA_LINK_GAP];
    const double n0 = sqrt(0.25 * 0.25 * 2 + 0.25), n1 = sqrt(0.5 * 0.5 + 0.25 * 0.25);
    for (int b = 0; b < FORA_LINK_GAP_BINS; b++) {
        double e0 = b == 11 ? 0.5 / n0 : (b == 10 || b == 12) ? 0.25 / n0 : 0;
        double e1 = b == 0 ? 0.5 / n1 : b == 1 ? 0.25 / n1 : 0;
        ASSERT_NEAR(g0[b], e0, 1e-6);
        ASSERT_NEAR(g1[b], e1, 1e-6);
    }
    fora_link_fp_destroy(fp);
    fora_snapshot_destroy(s);
}

/* Two communities that never meet: their context embeddings separate. */
static void test_embedding_communities(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    /* threads 1-4 in board 1 (members 1-4), threads 5-8 in board 2 (members 5-8) */
    const int tb[8] = {1, 1, 1, 1, 2, 2, 2, 2};
    post_t p[64];
    int np = 0;
    for (int m = 1; m <= 8; m++)
        for (int j = 0; j < 8; j++) {
            int t = (m <= 4 ? 1 : 5) + (m + j) % 4;
            p[np++] = (post_t){m, t, MONDAY + (m * 8 + j) * 977, FORA_ID_NONE};
        }
    fora_snapshot_t *s = make(2, 8, 8, tb, p, np);
    fora_link_opts_t o;
    fora_link_opts_default(&o);
    o.embed_dim = 4;
    fora_link_fp_t *fp = NULL;
    ASSERT_OK(fora_link_fingerprints(s, &o, &fp, &d), &d);
    ASSERT_EQ(fp->n, 8);
    fora_link_view_t v = fora_link_view_get(FORA_LINK_VIEW_CONTEXT);
    double within = 1, across = -1, total, comp[FORA_LINK_NCOMP];
    for (int a = 0; a < 8; a++)
        for (int b = a + 1; b < 8; b++) {
            fora_link_pair(fp, a, b, &v, &total, comp);
            if ((a < 4) == (b < 4))
                within = fmin(within, comp[FORA_LINK_EMBED]);
            else
                across = fmax(across, comp[FORA_LINK_EMBED]);
        }
    ASSERT(within > across + 0.5);
    /* deterministic for a seed */
    fora_link_fp_t *fp2 = NULL;
    ASSERT_OK(fora_link_fingerprints(s, &o, &fp2, &d), &d);
    ASSERT(memcmp(fp->x, fp2->x, sizeof(float) * fp->n * fp->dim) == 0);
    fora_link_fp_destroy(fp);
    fora_link_fp_destroy(fp2);
    fora_snapshot_destroy(s);
}

static void test_sybil_split(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    const int tb[2] = {1, 1};
    post_t p[9];
    int np = 0;
    for (int i = 0; i < 6; i++)
        p[np++] = (post_t){1, 1 + i % 2, 1000 + i * 10, i > 0 ? i : FORA_ID_NONE};
    p[np++] = (post_t){2, 1, 1005, FORA_ID_NONE};
    p[np++] = (post_t){2, 1, 1015, FORA_ID_NONE};
    p[np++] = (post_t){2, 1, 1025, FORA_ID_NONE};
    fora_snapshot_t *s = make(1, 2, 2, tb, p, np);
    fora_snapshot_t *ns = NULL;
    int32_t *pair = NULL, npairs = 0;
    ASSERT_OK(fora_link_sybil_split(s, 5, 2, 3, &ns, &pair, &npairs, &d), &d);
    ASSERT_EQ(npairs, 1); /* only member 1 has 2 * 2 posts */
    ASSERT_EQ(ns->members.n, 3);
    ASSERT_STR_EQ(fora_snapshot_member_ext(ns, 2), "m1~sybil");
    ASSERT_EQ(pair[0], 2);
    ASSERT_EQ(pair[2], 0);
    ASSERT_EQ(pair[1], -1);
    ASSERT_EQ(ns->posts.n, 9);
    int first = 0, second = 0;
    int64_t last_first = 0, first_second = INT64_MAX;
    for (int32_t q = 0; q < ns->posts.n; q++) {
        if (ns->posts.author[q] == 0) {
            first++;
            last_first = ns->posts.created_at[q];
        } else if (ns->posts.author[q] == 2) {
            second++;
            if (ns->posts.created_at[q] < first_second) first_second = ns->posts.created_at[q];
        }
        /* replies still point at the same posts */
        ASSERT_EQ(ns->posts.reply_to[q] >= 0, s->posts.reply_to[q] >= 0);
    }
    ASSERT(first >= 2 && second >= 2 && first + second == 6);
    ASSERT(last_first < first_second); /* split at one time */
    fora_snapshot_destroy(ns);
    free(pair);
    ASSERT_EQ(fora_link_sybil_split(s, 5, 4, 3, &ns, &pair, &npairs, &d), FORA_ENOTFOUND);
    ASSERT(strstr(d.msg, "8 posts") != NULL);
    ASSERT(ns == NULL && pair == NULL);
    fora_snapshot_destroy(s);
}

int main(void)
{
    gsl_set_error_handler_off();
    FORA_RUN(test_cosine);
    FORA_RUN(test_topk);
    FORA_RUN(test_topk_blocks);
    FORA_RUN(test_random_expect);
    FORA_RUN(test_evaluate_known);
    FORA_RUN(test_evaluate_capped);
    FORA_RUN(test_episodes);
    FORA_RUN(test_zero_components);
    FORA_RUN(test_hour_of_week);
    FORA_RUN(test_gaps);
    FORA_RUN(test_embedding_communities);
    FORA_RUN(test_sybil_split);
    return 0;
}
