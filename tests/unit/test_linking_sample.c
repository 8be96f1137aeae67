/*
 * tests/unit/test_linking_sample.c - the SYSML retrieval protocol on the
 * bundled sample (server/sample/beer) and on a synthetic forum (fora synth),
 * within-forum episodes and synthetic sybils, against the random baseline.
 *
 * The margins asserted are below what was measured (seed 1, 1000 queries,
 * view weights fitted on one half of the members and measured on the other;
 * numbers printed by this test and recorded in api-docs/linking.md):
 *
 *   MRR                 time    context  both    random   both/random  1/random
 *   beer pooled L=1     0.120   0.196    0.293   0.049    5.9          20.3
 *               L=3     0.162   0.212    0.241   0.070    3.5          14.4
 *               L=5     0.244   0.270    0.324   0.084    3.9          11.9
 *               L=7     0.302   0.293    0.398   0.096    4.2          10.5
 *               L=9     0.328   0.339    0.464   0.104    4.4           9.6
 *   beer balanced L=1   0.033   0.259    0.296   0.0042   70
 *                 L=3   0.058   0.132    0.154   0.0120   12.8
 *                 L=5   0.073   0.143    0.186   0.0189    9.8
 *                 L=7   0.133   0.214    0.217   0.0258    8.4
 *                 L=9   0.128   0.191    0.238   0.0321    7.4
 *   beer sybils (190)   0.056   0.099    0.089   0.0051   17.5
 *   synth pooled L=3    0.053   0.041    0.057   0.030     1.9
 *                L=9    0.080   0.053    0.081   0.037     2.2
 *   synth balanced L=3  0.008   0.013    0.016   0.0068    2.3
 *                  L=9  0.017   0.014    0.023   0.0121    1.9
 *   synth sybils (300)  0.014   0.006    0.007   0.0062    1.1
 *   (measured once on the synthetic forum at L = 1, 5, 7: pooled below random at
 *   L = 1, 2.2-2.6x at 5 and 7)
 *
 * So: the combined fingerprint beats both ablations in every episode protocol
 * and length (by 2-50 %).  On the sybils of the sample a half's fitted mix does
 * not carry to the other half: 10 % below context-only.  Against random it is
 * 10x or more on the balanced pool for L <= 3 and on sybils, 7-10x for L >= 5,
 * and 3.5-6x on the pooled pool, whose baseline is so high that 10x is out of
 * reach for L >= 7 (1/random is the most any fingerprint could show).  No margin
 * of 10x over an ablation is possible once the ablation's MRR exceeds 0.1.  The
 * synthetic forum gives every member the same hour profile and
 * popularity-driven threads, so little is there to find, and at MRR 0.01 the
 * fitted mix chases noise (api-docs/linking.md).  On a real forum of 24,818
 * members (tests/bench/eval_linking_snap.sh) it is 17-650x random everywhere.
 */
#include <gsl/gsl_errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fora/linking.h"
#include "fora/synth.h"
#include "fora_test.h"
#include "kp_bundle.h"

static void print_eval(const char *what, int L, const fora_link_eval_t *ev)
{
    fprintf(stderr,
            "%s L=%d rows=%d queries=%d candidates=%d | time %.4f/%.3f context %.4f/%.3f both "
            "%.4f/%.3f "
            "random %.4f/%.3f\n",
            what, L, ev->rows, ev->queries, ev->candidates, ev->view[0].mrr, ev->view[0].recall10,
            ev->view[1].mrr, ev->view[1].recall10, ev->view[2].mrr, ev->view[2].recall10,
            ev->random.mrr, ev->random.recall10);
}

/* Episodes of L posts: the pooled protocol (*ev) and the member-balanced one (*bal), fitted. */
static void episodes(const fora_snapshot_t *s, int L, fora_link_eval_t *ev, fora_link_eval_t *bal)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_link_opts_t o;
    fora_link_opts_default(&o);
    o.episode_len = L;
    fora_link_fp_t *fp = NULL;
    ASSERT_OK(fora_link_fingerprints(s, &o, &fp, &d), &d);
    fora_link_eval_opts_t eo;
    fora_link_eval_opts_default(&eo);
    ASSERT_OK(fora_link_evaluate_ex(fp, NULL, &eo, ev, &d), &d);
    eo.per_member = 2;
    ASSERT_OK(fora_link_evaluate_ex(fp, NULL, &eo, bal, &d), &d);
    for (int v = 0; v < FORA_LINK_NVIEWS; v++) {
        ASSERT(ev->view[v].mrr > 0 && ev->view[v].mrr <= 1);
        ASSERT(ev->view[v].recall10 >= 0 && ev->view[v].recall10 <= 1);
        ASSERT(bal->view[v].mrr > 0 && bal->view[v].mrr <= 1);
    }
    ASSERT(ev->fitted && bal->fitted);
    ASSERT_EQ(ev->fold_queries[0] + ev->fold_queries[1], ev->queries);
    /* an ablation's weights stay in its group */
    for (int f = 0; f < 2; f++) {
        ASSERT(ev->weights[f][FORA_LINK_VIEW_TIME].w[FORA_LINK_EMBED] == 0);
        ASSERT(ev->weights[f][FORA_LINK_VIEW_CONTEXT].w[FORA_LINK_HOW] == 0);
    }
    /* the balanced pool: two rows of every member with several, one of the others */
    ASSERT(bal->rows < ev->rows);
    ASSERT_EQ(bal->queries % 2, 0);
    ASSERT(ev->random.mrr > bal->random.mrr);
    fora_link_fp_destroy(fp);
}

static void sybils(const fora_snapshot_t *s, fora_link_eval_t *ev, int32_t *npairs)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *ns = NULL;
    int32_t *pair = NULL;
    ASSERT_OK(fora_link_sybil_split(s, 300, 3, 1, &ns, &pair, npairs, &d), &d);
    int32_t *target = malloc(sizeof(int32_t) * (size_t)ns->members.n);
    for (int32_t m = 0; m < ns->members.n; m++)
        target[m] = pair[m] < 0 ? -1 : (m < pair[m] ? m : pair[m]);
    fora_link_opts_t o;
    fora_link_opts_default(&o);
    fora_link_fp_t *fp = NULL;
    ASSERT_OK(fora_link_fingerprints(ns, &o, &fp, &d), &d);
    fora_link_eval_opts_t eo;
    fora_link_eval_opts_default(&eo);
    ASSERT_OK(fora_link_evaluate_ex(fp, target, &eo, ev, &d), &d);
    ASSERT_EQ(ev->queries, 2 * *npairs); /* both halves of every pair are queried */
    fora_link_fp_destroy(fp);
    free(target);
    free(pair);
    fora_snapshot_destroy(ns);
}

static double best_ablation(const fora_link_eval_t *ev)
{
    double t = ev->view[FORA_LINK_VIEW_TIME].mrr, c = ev->view[FORA_LINK_VIEW_CONTEXT].mrr;
    return t > c ? t : c;
}

static void test_beer(void)
{
    fora_snapshot_t *s = kp_load_bundle(FORA_SOURCE_DIR "/server/sample/beer");
    const int Ls[5] = {1, 3, 5, 7, 9};
    for (int i = 0; i < 5; i++) {
        fora_link_eval_t ev, bal;
        episodes(s, Ls[i], &ev, &bal);
        print_eval("beer episodes", Ls[i], &ev);
        print_eval("beer balanced", Ls[i], &bal);
        /* pooled: above both ablations, a few times random (the ceiling is 1 / random) */
        const double both = ev.view[FORA_LINK_VIEW_BOTH].mrr;
        ASSERT(both >= 1.05 * best_ablation(&ev));
        ASSERT(both >= 3.0 * ev.random.mrr);
        ASSERT(ev.view[FORA_LINK_VIEW_BOTH].recall10 >= 2.0 * ev.random.recall10);
        /* balanced: above both ablations; 10x random for L <= 3, 5x beyond */
        const double bb = bal.view[FORA_LINK_VIEW_BOTH].mrr;
        ASSERT(bb >= 0.99 * best_ablation(&bal));
        ASSERT(bb >= (Ls[i] <= 3 ? 10.0 : 5.0) * bal.random.mrr);
        ASSERT(bal.view[FORA_LINK_VIEW_BOTH].recall10 >= 5.0 * bal.random.recall10);
    }
    fora_link_eval_t ev;
    int32_t np;
    sybils(s, &ev, &np);
    print_eval("beer sybils", 0, &ev);
    ASSERT(np >= 150);
    ASSERT(ev.view[FORA_LINK_VIEW_BOTH].mrr >= 15.0 * ev.random.mrr);
    ASSERT(ev.view[FORA_LINK_VIEW_TIME].mrr >= 8.0 * ev.random.mrr);
    ASSERT(ev.view[FORA_LINK_VIEW_CONTEXT].mrr >= 15.0 * ev.random.mrr);
    /* 190 pairs: a half's fitted mix does not carry to the other half (0.089 against
     * context-only 0.099); within 15 % of the better ablation */
    ASSERT(ev.view[FORA_LINK_VIEW_BOTH].mrr >= 0.85 * best_ablation(&ev));
    fora_snapshot_destroy(s);
}

/*
 * The context embedding learned once gives the same fingerprints as
 * learning it for each call, and neither depends on the number of threads;
 * a context is refused on another snapshot; the member pool caps the rows.
 */
static void test_context_threads_pool(void)
{
    fora_snapshot_t *s = kp_load_bundle(FORA_SOURCE_DIR "/server/sample/beer");
    fora_diag_t d = FORA_DIAG_INIT;
    fora_link_opts_t o;
    fora_link_opts_default(&o);
    const int Ls[3] = {0, 3, 9};
    fora_link_context_t *ctx = NULL;
    o.threads = 3;
    ASSERT_OK(fora_link_context_compute(s, &o, &ctx, &d), &d);
    for (int i = 0; i < 3; i++) {
        fora_link_fp_t *a = NULL, *b = NULL, *c = NULL;
        o.episode_len = Ls[i];
        o.threads = 1;
        ASSERT_OK(fora_link_fingerprints(s, &o, &a, &d), &d);
        o.threads = 2;
        ASSERT_OK(fora_link_fingerprints(s, &o, &b, &d), &d);
        ASSERT_OK(fora_link_fingerprints_with(s, &o, ctx, &c, &d), &d);
        ASSERT(a->n > 400);
        ASSERT_EQ(b->n, a->n);
        ASSERT_EQ(c->n, a->n);
        ASSERT_EQ(b->dim, a->dim);
        ASSERT_EQ(c->dim, a->dim);
        const size_t bytes = (size_t)a->n * (size_t)a->dim * sizeof(float);
        ASSERT(memcmp(a->x, b->x, bytes) == 0); /* 1 and 2 threads: bit-identical */
        ASSERT(memcmp(a->x, c->x, bytes) == 0); /* a shared context (3 threads): the same */
        /* the embedding is not zero: the context component carries something */
        int nonzero = 0;
        for (int32_t r = 0; r < a->n; r++)
            nonzero += !(a->zero_mask[r] & (1u << FORA_LINK_EMBED));
        ASSERT(nonzero > a->n * 9 / 10);
        fora_link_fp_destroy(a);
        fora_link_fp_destroy(b);
        fora_link_fp_destroy(c);
    }

    /* the pool: under the cap every member, over it a random part that fits */
    uint8_t *mask = malloc((size_t)s->members.n);
    o.episode_len = 1;
    fora_link_fp_t *all = NULL, *part = NULL;
    ASSERT_OK(fora_link_fingerprints_with(s, &o, ctx, &all, &d), &d);
    ASSERT_EQ(fora_link_member_pool(s, 1, 1000000, 1, mask, &d), all->n);
    for (int32_t m = 0; m < s->members.n; m++)
        ASSERT_EQ(mask[m], 1);
    int64_t rows = fora_link_member_pool(s, 1, 2000, 1, mask, &d);
    ASSERT(rows > 1800 && rows <= 2000);
    o.member_mask = mask;
    ASSERT_OK(fora_link_fingerprints_with(s, &o, ctx, &part, &d), &d);
    o.member_mask = NULL;
    ASSERT_EQ(part->n, rows);
    ASSERT_EQ(part->nskipped, 0); /* members with posts only: none skipped */
    for (int32_t r = 0; r < part->n; r++)
        ASSERT_EQ(mask[part->member[r]], 1);
    int32_t members = 0;
    for (int32_t m = 0; m < s->members.n; m++)
        members += mask[m];
    ASSERT(members > 10 && members < s->members.n);
    /* seeded: the same seed picks the same pool */
    uint8_t *mask2 = malloc((size_t)s->members.n);
    ASSERT_EQ(fora_link_member_pool(s, 1, 2000, 1, mask2, &d), rows);
    ASSERT(memcmp(mask, mask2, (size_t)s->members.n) == 0);
    free(mask);
    free(mask2);
    fora_link_fp_destroy(all);
    fora_link_fp_destroy(part);

    /* a context learned on another snapshot is refused */
    fora_snapshot_t *ns = NULL;
    int32_t *pair = NULL, np = 0;
    ASSERT_OK(fora_link_sybil_split(s, 10, 3, 1, &ns, &pair, &np, &d), &d);
    fora_link_fp_t *bad = NULL;
    o.episode_len = 0;
    ASSERT_EQ(fora_link_fingerprints_with(ns, &o, ctx, &bad, &d), FORA_EINVAL);
    ASSERT(strstr(d.msg, "another snapshot") != NULL);
    ASSERT(bad == NULL);
    fora_diag_clear(&d);
    fora_link_context_destroy(ctx);
    o.threads = FORA_LINK_MAX_THREADS + 1;
    ASSERT_EQ(fora_link_context_compute(s, &o, &ctx, &d), FORA_EINVAL);
    ASSERT(strstr(d.msg, "threads") != NULL);
    ASSERT(ctx == NULL);
    free(pair);
    fora_snapshot_destroy(ns);
    fora_snapshot_destroy(s);
}

static void test_synth(void)
{
    char dir[] = "/tmp/fora-linksynth-XXXXXX";
    if (!mkdtemp(dir)) FORA_FAIL("mkdtemp");
    fora_synth_opts_t so;
    fora_synth_opts_default(&so);
    so.members = 2000;
    so.posts = 20000;
    so.quiet = true;
    fora_diag_t d = FORA_DIAG_INIT;
    ASSERT_OK(fora_synth_write(&so, dir, NULL, &d), &d);
    fora_snapshot_t *s = kp_load_bundle(dir);
    /* two lengths keep the test short (the header has all five, measured once) */
    const int Ls[2] = {3, 9};
    for (int i = 0; i < 2; i++) {
        fora_link_eval_t ev, bal;
        episodes(s, Ls[i], &ev, &bal);
        print_eval("synth episodes", Ls[i], &ev);
        print_eval("synth balanced", Ls[i], &bal);
        /* little individual signature in the generator: barely above random from L = 3
         * on, below it for single posts (see the header) */
        if (Ls[i] >= 3) ASSERT(ev.view[FORA_LINK_VIEW_BOTH].mrr >= 1.5 * ev.random.mrr);
    }
    fora_link_eval_t ev;
    int32_t np;
    sybils(s, &ev, &np);
    print_eval("synth sybils", 0, &ev);
    /* the only signal is the gaps (time-only 2.3x random); a half's fitted mix chases
     * noise at MRR 0.01 and lands at random on the other half */
    ASSERT(ev.view[FORA_LINK_VIEW_TIME].mrr >= 1.8 * ev.random.mrr);
    ASSERT(ev.view[FORA_LINK_VIEW_BOTH].mrr >= 0.9 * ev.random.mrr);
    fora_snapshot_destroy(s);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) FORA_FAIL("rm");
}

int main(void)
{
    gsl_set_error_handler_off();
    FORA_RUN(test_beer);
    FORA_RUN(test_context_threads_pool);
    FORA_RUN(test_synth);
    return 0;
}
