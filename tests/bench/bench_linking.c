/*
 * tests/bench/bench_linking.c - issue 7's benchmark: whole-history
 * fingerprints of every member of a CSV bundle (a `fora synth` forum) and
 * the all-pairs top-10 under the combined view, by blocked products.
 * Prints wall and CPU seconds per step.  Not a test (tests/bench/RESULTS.md).
 *
 * Usage: bench_linking BUNDLE_DIR [exact|projected|both] [PROJ_DIM] [CAND]
 *   exact      fora_link_topk over the full fingerprints
 *   projected  fora_link_topk_projected (PROJ_DIM columns, CAND candidates
 *              re-ranked exactly), and its recall@10 against the exact
 *              lists on 2000 sampled rows (brute force)
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

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_linking BUNDLE_DIR [exact|projected|both] [PROJ] [CAND]\n");
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
