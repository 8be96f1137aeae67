/*
 * tests/bench/bench_keyplayers.c - times the whole key-player computation
 * on a CSV bundle or a SNAP edge list (see tests/bench/RESULTS.md).
 *
 *   bench_keyplayers --bundle DIR [--edges FILE]
 *   bench_keyplayers --snap FILE.txt.gz [--edges FILE]
 *
 * Times are CPU seconds of the process (CLOCK_PROCESS_CPUTIME_ID; the code
 * is single-threaded).  Steps timed: every metric of fora_centrality_compute() (defaults: exact up
 * to 5000 network members, else 500 sampled sources), the composite rank,
 * KPP-Neg with k = 20, the disruption simulation with all seven strategies
 * (10 random repetitions), communities, thread statistics, concentration.
 * FORA_BENCH_METRICS_ONLY=1 stops after the metrics (to rerun PageRank,
 * eigenvector etc. quickly; pair with NX_BENCH_ONLY for nx_bench.py).
 * --edges writes the reply graph (network vertex ids, weight) for
 * tests/bench/nx_bench.py.  Built on demand: `make -C build bench_keyplayers`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "fora/centrality.h"
#include "fora/disruption.h"
#include "fora/forumstats.h"
#include "fora/keyplayer.h"
#include "fora/projection.h"
#include "kp_bundle.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static long maxrss_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;
}

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        if ((expr) != FORA_OK) {                                                                   \
            fprintf(stderr, "%s: %s\n", #expr, d.msg);                                             \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

int main(int argc, char **argv)
{
    const char *bundle = NULL, *snap = NULL, *edges = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--bundle") == 0)
            bundle = argv[i + 1];
        else if (strcmp(argv[i], "--snap") == 0)
            snap = argv[i + 1];
        else if (strcmp(argv[i], "--edges") == 0)
            edges = argv[i + 1];
    }
    if (!bundle && !snap) {
        fprintf(stderr, "usage: bench_keyplayers --bundle DIR | --snap FILE [--edges FILE]\n");
        return 2;
    }
    igraph_set_error_handler(igraph_error_handler_printignore);
    igraph_set_warning_handler(igraph_warning_handler_ignore);
    fora_diag_t d = FORA_DIAG_INIT;
    double t = now();
    fora_snapshot_t *s = bundle ? kp_load_bundle(bundle) : kp_load_snap(snap);
    printf("load (CSV/SNAP -> snapshot, not part of the recompute): %.2f s; %d members, %d "
           "posts\n",
           now() - t, s->members.n, s->posts.n);

    double t_all = now();
    fora_centrality_opts_t co;
    fora_centrality_opts_init(&co);
    if (snap) co.graph.rule = FORA_REPLY_EXPLICIT_ONLY;
    fora_centrality_t c;
    t = now();
    CHECK(fora_centrality_compute(s, &co, &c, &d));
    double t_cent = now() - t;
    printf("network: %d members, %lld reply pairs, %lld undirected pairs; %s betweenness "
           "(k=%d, bound %.4f), %d communities, Q %.4f\n",
           c.n_network, (long long)c.n_edges, (long long)c.n_uedges,
           c.sampled ? "sampled" : "exact", c.samples, c.betweenness_error, c.n_communities,
           c.modularity);
    printf("metric seconds: graphs %.3f pagerank %.3f betweenness %.3f closeness+harmonic %.3f "
           "eigenvector %.3f coreness %.3f constraint %.3f effective_size %.3f clustering "
           "%.3f leiden %.3f (all metrics %.3f)\n",
           c.seconds.graphs, c.seconds.pagerank, c.seconds.betweenness, c.seconds.paths,
           c.seconds.eigenvector, c.seconds.coreness, c.seconds.constraint,
           c.seconds.effective_size, c.seconds.clustering, c.seconds.communities, t_cent);

    fora_netgraph_t ng;
    if (getenv("FORA_BENCH_METRICS_ONLY")) {
        fora_centrality_destroy(&c);
        fora_snapshot_destroy(s);
        return 0;
    }
    t = now();
    CHECK(fora_netgraph_build(s, &co.graph, &ng, &d));
    double t_ng = now() - t;
    fora_composite_t comp;
    t = now();
    CHECK(fora_composite_rank(&c, NULL, &comp, &d));
    double t_comp = now() - t;
    fora_kpp_opts_t ko;
    fora_kpp_opts_init(&ko);
    ko.k = 20;
    fora_kpp_t kpp;
    t = now();
    CHECK(fora_kpp_neg(&ng, &ko, &kpp, &d));
    double t_kpp = now() - t;
    fora_disruption_t dr;
    t = now();
    CHECK(fora_disruption_run(&ng, &c, &comp, &kpp, NULL, 0, NULL, &dr, &d));
    double t_dis = now() - t;
    fora_communities_t cm;
    fora_thread_stats_t ts;
    fora_concentration_t cc;
    t = now();
    CHECK(fora_communities_summarise(&ng, &c, 10, &cm, &d));
    CHECK(fora_thread_stats(s, NULL, &ts, &d));
    CHECK(fora_concentration(s, NULL, 100, &cc, &d));
    double t_stats = now() - t;
    long rss_before = maxrss_mib();
    fora_projection_info_t pinfo;
    int64_t pedges;
    t = now();
    CHECK(fora_coparticipation_count(s, &co.graph, FORA_PROJECTION_MAX_THREAD_MEMBERS, &pinfo,
                                     &pedges, &d));
    double t_proj = now() - t;
    printf("co-participation summary (as the recompute stores it) %.3f s: %lld threads used, %lld "
           "skipped, %lld pairs, %lld edges; peak RSS %ld MiB before it, %ld MiB after\n",
           t_proj, (long long)pinfo.threads_used, (long long)pinfo.threads_skipped,
           (long long)pinfo.pairs, (long long)pedges, rss_before, maxrss_mib());
    double total = now() - t_all;
    printf("composite %.3f s; netgraph %.3f s; KPP-Neg k=20 %.3f s (F %.4f -> %.4f, %d swaps, DF "
           "%s); disruption %.3f s (%d steps, max %d removed); communities+threads+"
           "concentration %.3f s\n",
           t_comp, t_ng, t_kpp, kpp.objective_base, kpp.objective, kpp.swaps,
           kpp.dwf_sampled ? "sampled" : "exact", t_dis, dr.steps, dr.max_removed, t_stats);
    for (int i = 0; i < dr.n_curves; i++)
        printf("  R[%s] = %.4f%s\n", fora_strategy_name(dr.curves[i].strategy),
               dr.curves[i].robustness,
               dr.curves[i].strategy == FORA_STRATEGY_RANDOM ? " (mean of 10)" : "");
    t = now();
    fora_kpp_t kpos;
    CHECK(fora_kpp_pos(&ng, &ko, &kpos, &d));
    printf("(KPP-Pos k=20 d=2, not in the total: %.3f s, reach %.4f)\n", now() - t, kpos.objective);
    printf("TOTAL key-player recompute (metrics, composite, KPP-Neg k=20, disruption, "
           "communities, threads, concentration, projection): %.2f s\n",
           total);

    if (edges) {
        FILE *f = fopen(edges, "w");
        if (!f) {
            perror(edges);
            return 1;
        }
        for (igraph_integer_t e = 0; e < igraph_ecount(&ng.r.graph); e++)
            fprintf(f, "%lld %lld %.0f\n", (long long)IGRAPH_FROM(&ng.r.graph, e),
                    (long long)IGRAPH_TO(&ng.r.graph, e), VECTOR(ng.r.weight)[e]);
        fclose(f);
    }
    fora_kpp_destroy(&kpos);
    fora_communities_destroy(&cm);
    fora_thread_stats_destroy(&ts);
    fora_concentration_destroy(&cc);
    fora_disruption_destroy(&dr);
    fora_kpp_destroy(&kpp);
    fora_composite_destroy(&comp);
    fora_netgraph_destroy(&ng);
    fora_centrality_destroy(&c);
    fora_snapshot_destroy(s);
    return 0;
}
