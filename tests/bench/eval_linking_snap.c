/*
 * tests/bench/eval_linking_snap.c - the linking evaluation (api-docs/linking.md)
 * on a real forum larger than the bundled sample: a SNAP temporal interaction
 * network (sx-mathoverflow), loaded as a forum in which each interaction
 * SRC -> TGT at time t is a post by SRC at t in TGT's "wall" thread, so the
 * context embedding learns whom a member answers and the timing fingerprints
 * see every interaction (kp_load_snap_ex without anchor posts).  Runs the
 * pooled and the member-balanced episode protocols for L = 1, 3, 5, 7, 9 and
 * synthetic sybils, all with weights fitted on the other half of the
 * members, and prints one line each.  Not a test: the data live outside the
 * repository (tests/bench/RESULTS.md).
 *
 * Usage: eval_linking_snap FILE.txt.gz [QUERIES (1000)] [SYBILS (1000)] [SEED (1)]
 */
#include <gsl/gsl_errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "fora/linking.h"
#include "kp_bundle.h"

static double wall(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void line(const char *what, int L, const fora_link_eval_t *ev, double secs)
{
    const double r = ev->random.mrr;
    printf("%-9s L=%d rows=%d queries=%d | MRR time %.4f context %.4f both %.4f random %.5f"
           " | both/random %.1f (ceiling %.0f) | R@10 both %.3f random %.4f | %.1f s\n",
           what, L, ev->rows, ev->queries, ev->view[FORA_LINK_VIEW_TIME].mrr,
           ev->view[FORA_LINK_VIEW_CONTEXT].mrr, ev->view[FORA_LINK_VIEW_BOTH].mrr, r,
           r > 0 ? ev->view[FORA_LINK_VIEW_BOTH].mrr / r : 0.0, r > 0 ? 1.0 / r : 0.0,
           ev->view[FORA_LINK_VIEW_BOTH].recall10, ev->random.recall10, secs);
    fflush(stdout);
}

static void fail(const fora_diag_t *d)
{
    fprintf(stderr, "eval_linking_snap: %s\n", d->msg);
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: eval_linking_snap FILE.txt.gz [QUERIES] [SYBILS] [SEED]\n");
        return 2;
    }
    gsl_set_error_handler_off();
    const int queries = argc > 2 ? atoi(argv[2]) : 1000, nsyb = argc > 3 ? atoi(argv[3]) : 1000;
    const uint64_t seed = argc > 4 ? strtoull(argv[4], NULL, 10) : 1;
    double t0 = wall();
    fora_snapshot_t *s = kp_load_snap_ex(argv[1], false);
    printf("forum: %d members, %d posts, %d walls (loaded in %.1f s); seed %llu\n", s->members.n,
           s->posts.n, s->threads.n, wall() - t0, (unsigned long long)seed);
    fora_diag_t d = FORA_DIAG_INIT;
    fora_link_eval_opts_t eo;
    fora_link_eval_opts_default(&eo);
    eo.queries = queries;
    eo.seed = seed;
    static const int Ls[5] = {1, 3, 5, 7, 9};
    for (int i = 0; i < 5; i++) {
        fora_link_opts_t o;
        fora_link_opts_default(&o);
        o.episode_len = Ls[i];
        o.seed = seed;
        fora_link_fp_t *fp = NULL;
        t0 = wall();
        if (fora_link_fingerprints(s, &o, &fp, &d) != FORA_OK) fail(&d);
        for (int pm = 0; pm <= 2; pm += 2) {
            fora_link_eval_t ev;
            eo.per_member = pm;
            if (fora_link_evaluate_ex(fp, NULL, &eo, &ev, &d) != FORA_OK) fail(&d);
            line(pm ? "balanced" : "pooled", Ls[i], &ev, wall() - t0);
            t0 = wall();
        }
        fora_link_fp_destroy(fp);
    }
    if (nsyb > 0) {
        fora_snapshot_t *ns = NULL;
        int32_t *pair = NULL, np = 0;
        t0 = wall();
        if (fora_link_sybil_split(s, nsyb, 3, seed, &ns, &pair, &np, &d) != FORA_OK) fail(&d);
        int32_t *target = malloc(sizeof(*target) * (size_t)ns->members.n);
        for (int32_t m = 0; m < ns->members.n; m++)
            target[m] = pair[m] < 0 ? -1 : (m < pair[m] ? m : pair[m]);
        fora_link_opts_t o;
        fora_link_opts_default(&o);
        o.seed = seed;
        fora_link_fp_t *fp = NULL;
        if (fora_link_fingerprints(ns, &o, &fp, &d) != FORA_OK) fail(&d);
        fora_link_eval_t ev;
        eo.per_member = 0;
        eo.queries = 2 * np;
        if (fora_link_evaluate_ex(fp, target, &eo, &ev, &d) != FORA_OK) fail(&d);
        printf("sybils: %d members split in two\n", np);
        line("sybils", 0, &ev, wall() - t0);
        fora_link_fp_destroy(fp);
        free(target);
        free(pair);
        fora_snapshot_destroy(ns);
    }
    fora_snapshot_destroy(s);
    return 0;
}
