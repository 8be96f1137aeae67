/*
 * tests/bench/bench_linking.c - issue 7's benchmark: whole-history
 * fingerprints of every member of a CSV bundle (a `fora synth` forum) and
 * the all-pairs top-10 under the combined view, by blocked products.
 * Prints wall and CPU seconds per step.  Not a test (tests/bench/RESULTS.md).
 *
 * Usage: bench_linking BUNDLE_DIR [exact|projected|both|step] [PROJ_DIM] [CAND]
 *   exact      fora_link_topk over the full fingerprints
 *   projected  fora_link_topk_projected (PROJ_DIM columns, CAND candidates
 *              re-ranked exactly), and its recall@10 against the exact
 *              lists on 2000 sampled rows (brute force)
 *   step       what the recompute step `linking` computes (server/run_linking.c,
 *              without the database): the context embedding once, member
 *              fingerprints and exact top-10, fingerprints and evaluation of
 *              episodes of 1, 3, 5, 7 and 9 posts (1000 queries, a pool of at
 *              most 20000 episodes per length as the step), 300 sybils
 *              on a split snapshot with its own embedding; timed phase by phase
 */
#include <gsl/gsl_errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fora/linking.h"
#include "kp_bundle.h"

static double wall(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double w_mark, c_mark;

static void phase(const char *what)
{
    double w = wall(), c = cpu();
    printf("  %-34s wall %6.2f s, cpu %6.2f s\n", what, w - w_mark, c - c_mark);
    fflush(stdout);
    w_mark = w;
    c_mark = c;
}

#define CHECK(call)                                                                                \
    do {                                                                                           \
        if ((call) != FORA_OK) {                                                                   \
            fprintf(stderr, "%s\n", d.msg);                                                        \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

/* The recompute step's computation (server/run_linking.c), phase by phase. */
static int step(const fora_snapshot_t *s)
{
    static const int lens[] = {1, 3, 5, 7, 9};
    fora_diag_t d = FORA_DIAG_INIT;
    fora_link_opts_t o;
    fora_link_opts_default(&o);
    fora_link_context_t *ctx = NULL;
    fora_link_fp_t *fp = NULL, *ep = NULL;
    fora_link_eval_t ev;
    const double w0 = wall(), c0 = cpu();
    w_mark = w0;
    c_mark = c0;
    printf("step (as the recompute's linking step):\n");
    CHECK(fora_link_context_compute(s, &o, &ctx, &d));
    phase("context embedding");
    CHECK(fora_link_fingerprints_with(s, &o, ctx, &fp, &d));
    phase("member fingerprints");
    const size_t n = (size_t)fp->n;
    float *x = malloc((n ? n : 1) * (size_t)fp->dim * sizeof(*x));
    int32_t *idx = malloc((n ? n : 1) * 10 * sizeof(*idx));
    float *sc = malloc((n ? n : 1) * 10 * sizeof(*sc));
    if (!x || !idx || !sc) return 1;
    const fora_link_view_t v = fora_link_view_get(FORA_LINK_VIEW_BOTH);
    fora_link_fp_combine(fp, &v, x);
    CHECK(fora_link_topk(x, fp->n, fp->dim, NULL, fp->n, NULL, 10, idx, sc, &d));
    free(x);
    phase("all-pairs top-10");
    /* as LINK_EVAL_MAX_ROWS of server/run_linking.c: at most 20000 episodes per length */
    uint8_t *pool = malloc((size_t)s->members.n + 1);
    if (!pool) return 1;
    for (int i = 0; i < 5; i++) {
        char what[64];
        o.episode_len = lens[i];
        if (fora_link_member_pool(s, lens[i], 20000, 1, pool, &d) < 0) return 1;
        o.member_mask = pool;
        CHECK(fora_link_fingerprints_with(s, &o, ctx, &ep, &d));
        o.member_mask = NULL;
        snprintf(what, sizeof what, "episodes L=%d: %d rows", lens[i], ep->n);
        phase(what);
        /* as the step: fitted weights, the pooled and the member-balanced pool */
        fora_link_eval_opts_t eo;
        fora_link_eval_opts_default(&eo);
        for (int pm = 0; pm <= 2; pm += 2) {
            eo.per_member = pm;
            fora_err_t err = fora_link_evaluate_ex(ep, NULL, &eo, &ev, &d);
            if (err != FORA_OK && err != FORA_ENOTFOUND) CHECK(err);
            snprintf(what, sizeof what, "  evaluation, %s (both MRR %.4f)",
                     pm ? "balanced" : "pooled", ev.view[FORA_LINK_VIEW_BOTH].mrr);
            phase(what);
        }
        fora_link_fp_destroy(ep);
        ep = NULL;
    }
    fora_link_context_destroy(ctx);
    fora_snapshot_t *ns = NULL;
    int32_t *pair = NULL, np = 0;
    CHECK(fora_link_sybil_split(s, 300, 3, 1, &ns, &pair, &np, &d));
    int32_t *target = malloc(sizeof(*target) * (size_t)ns->members.n);
    if (!target) return 1;
    for (int32_t m = 0; m < ns->members.n; m++)
        target[m] = pair[m] < 0 ? -1 : (m < pair[m] ? m : pair[m]);
    phase("sybil split");
    o.episode_len = 0;
    CHECK(fora_link_fingerprints(ns, &o, &ep, &d));
    phase("sybils: context and fingerprints");
    fora_link_eval_opts_t so;
    fora_link_eval_opts_default(&so);
    CHECK(fora_link_evaluate_ex(ep, target, &so, &ev, &d));
    phase("sybils: evaluation");
    printf("step total: wall %.2f s, cpu %.2f s\n", wall() - w0, cpu() - c0);
    fora_link_fp_destroy(ep);
    fora_link_fp_destroy(fp);
    fora_snapshot_destroy(ns);
    free(pair);
    free(target);
    free(idx);
    free(sc);
    free(pool);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr,
                "usage: bench_linking BUNDLE_DIR [exact|projected|both|step] [PROJ] [CAND]\n");
        return 2;
    }
    gsl_set_error_handler_off();
    const char *mode = argc > 2 ? argv[2] : "projected";
    const int proj = argc > 3 ? atoi(argv[3]) : 32, cand = argc > 4 ? atoi(argv[4]) : 50;
    const int k = 10;
    fora_diag_t d = FORA_DIAG_INIT;
    double w0 = wall(), c0 = cpu();
    fora_snapshot_t *s = kp_load_bundle(argv[1]);
    printf("load: members %d, threads %d, posts %d: wall %.2f s\n", s->members.n, s->threads.n,
           s->posts.n, wall() - w0);

    fora_link_opts_t o;
    fora_link_opts_default(&o);
    if (strcmp(mode, "step") == 0) {
        int rc = step(s);
        fora_snapshot_destroy(s);
        return rc;
    }
    fora_link_fp_t *fp = NULL;
    w0 = wall();
    c0 = cpu();
    if (fora_link_fingerprints(s, &o, &fp, &d) != FORA_OK) {
        fprintf(stderr, "%s\n", d.msg);
        return 1;
    }
    double wf = wall() - w0, cf = cpu() - c0;
    printf("fingerprints: rows %d, dim %d: wall %.2f s, cpu %.2f s\n", fp->n, fp->dim, wf, cf);

    const size_t n = (size_t)fp->n;
    float *x = malloc(n * (size_t)fp->dim * sizeof(*x));
    int32_t *idx = malloc(n * k * sizeof(*idx)), *idx2 = malloc(n * k * sizeof(*idx2));
    float *sc = malloc(n * k * sizeof(*sc)), *sc2 = malloc(n * k * sizeof(*sc2));
    if (!x || !idx || !idx2 || !sc || !sc2) return 1;
    fora_link_view_t v = fora_link_view_get(FORA_LINK_VIEW_BOTH);
    fora_link_fp_combine(fp, &v, x);

    if (strcmp(mode, "exact") == 0 || strcmp(mode, "both") == 0) {
        w0 = wall();
        c0 = cpu();
        if (fora_link_topk(x, fp->n, fp->dim, NULL, fp->n, NULL, k, idx, sc, &d) != FORA_OK) {
            fprintf(stderr, "%s\n", d.msg);
            return 1;
        }
        printf("exact all-pairs top-%d: wall %.2f s, cpu %.2f s; total with fingerprints: wall "
               "%.2f s\n",
               k, wall() - w0, cpu() - c0, wf + wall() - w0);
    }
    if (strcmp(mode, "projected") == 0 || strcmp(mode, "both") == 0) {
        w0 = wall();
        c0 = cpu();
        if (fora_link_topk_projected(x, fp->n, fp->dim, NULL, k, proj, cand, idx2, sc2, &d) !=
            FORA_OK) {
            fprintf(stderr, "%s\n", d.msg);
            return 1;
        }
        double wp = wall() - w0;
        printf("projected all-pairs top-%d (%d columns, %d candidates): wall %.2f s, cpu %.2f s; "
               "total with fingerprints: wall %.2f s\n",
               k, proj, cand, wp, cpu() - c0, wf + wp);
        /* recall of the projected lists against brute force on sampled rows */
        const int nsample = 2000;
        int32_t *q = malloc(nsample * sizeof(*q));
        int32_t *bi = malloc((size_t)nsample * k * sizeof(*bi));
        float *bs = malloc((size_t)nsample * k * sizeof(*bs));
        uint64_t st = 99;
        for (int i = 0; i < nsample; i++) {
            st = st * 6364136223846793005ULL + 1442695040888963407ULL;
            q[i] = (int32_t)((st >> 33) % n);
        }
        if (fora_link_topk(x, fp->n, fp->dim, q, nsample, NULL, k, bi, bs, &d) != FORA_OK) return 1;
        long hit = 0, tot = 0;
        for (int i = 0; i < nsample; i++) {
            /* a neighbour counts as found when its exact score is reached (ties are arbitrary) */
            float kth = bs[(size_t)i * k + k - 1];
            for (int j = 0; j < k; j++) {
                tot++;
                if (sc2[(size_t)q[i] * k + j] >= kth - 1e-6f) hit++;
            }
        }
        printf("projected recall@10 vs exact on %d sampled rows: %.4f\n", nsample,
               (double)hit / (double)tot);
        free(q);
        free(bi);
        free(bs);
    }
    free(x);
    free(idx);
    free(idx2);
    free(sc);
    free(sc2);
    fora_link_fp_destroy(fp);
    fora_snapshot_destroy(s);
    return 0;
}
