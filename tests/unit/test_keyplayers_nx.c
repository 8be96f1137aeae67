/*
 * tests/unit/test_keyplayers_nx.c - the reference comparison: every metric of
 * fora/centrality.h (and the projection, KPP-Neg objective, a disruption
 * curve, role validation, concentration and thread statistics) on the
 * bundled sample forum (server/sample/beer, loaded straight from its CSV
 * bundle) against NetworkX, run side by side.
 *
 * This program computes everything with fora and writes it to a temporary
 * folder; tests/reference/nx_keyplayers.py rebuilds the reply graph from the
 * CSV files by itself (the reply rule explicit_or_starter), recomputes each
 * value with NetworkX (Debian's python3-networkx, run by /usr/bin/python3)
 * and fails on any difference above 1e-9 relative.  Definitions are matched
 * as documented in api-docs/keyplayers.md ("Reference comparison").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fora/centrality.h"
#include "fora/disruption.h"
#include "fora/forumstats.h"
#include "fora/keyplayer.h"
#include "fora/projection.h"
#include "fora_test.h"
#include "kp_bundle.h"
#include "kp_fixtures.h"

static FILE *open_out(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) FORA_FAIL("cannot write %s", path);
    return f;
}

int main(void)
{
    kp_handlers();
    fora_diag_t d = FORA_DIAG_INIT;
    char dir[] = "/tmp/fora-nx-XXXXXX";
    if (!mkdtemp(dir)) FORA_FAIL("mkdtemp");
    fora_snapshot_t *s = kp_load_bundle(FORA_SOURCE_DIR "/server/sample/beer");
    fprintf(stderr, "beer: %d members, %d threads, %d posts\n", s->members.n, s->threads.n,
            s->posts.n);

    /* the whole sample: every post, 1,341 network members */
    const int64_t from = 0, to = 4102444800; /* 1970 to 2100 */
    fora_centrality_opts_t co;
    fora_centrality_opts_init(&co);
    co.graph.from = from;
    co.graph.to = to;
    fora_centrality_t c;
    ASSERT_OK(fora_centrality_compute(s, &co, &c, &d), &d);
    ASSERT(!c.sampled);
    ASSERT(c.eigenvector_converged);
    fprintf(stderr, "network: %d members, %lld reply pairs, %d communities, Q = %.4f\n",
            c.n_network, (long long)c.n_edges, c.n_communities, c.modularity);
    ASSERT(c.n_network > 300);

    FILE *f = open_out(dir, "metrics.tsv");
    fprintf(f, "member\tposts\tthreads_started\tthreads\tboards\tin_network\tin_degree\tout_"
               "degree\tin_strength\tout_strength\tpagerank\tbetweenness\tbetweenness_"
               "norm\tcloseness\tcloseness_wf\tharmonic\teigenvector\tcoreness\tconstraint\t"
               "effective_size\tclustering\tcommunity\n");
    for (int32_t i = 0; i < c.n; i++)
        fprintf(f,
                "%s\t%lld\t%lld\t%lld\t%lld\t%d\t%lld\t%lld\t%.17g\t%.17g\t%.17g\t%.17g\t%.17g\t%."
                "17g\t%.17g\t%.17g\t%.17g\t%lld\t%.17g\t%.17g\t%.17g\t%d\n",
                fora_snapshot_member_ext(s, i), (long long)c.posts[i],
                (long long)c.threads_started[i], (long long)c.threads[i], (long long)c.boards[i],
                c.in_network[i], (long long)c.in_degree[i], (long long)c.out_degree[i],
                c.in_strength[i], c.out_strength[i], c.pagerank[i], c.betweenness[i],
                c.betweenness_norm[i], c.closeness[i], c.closeness_wf[i], c.harmonic[i],
                c.eigenvector[i], (long long)c.coreness[i], c.constraint[i], c.effective_size[i],
                c.clustering[i], c.community[i]);
    fclose(f);
    f = open_out(dir, "summary.tsv");
    fprintf(f, "from\t%lld\nto\t%lld\n", (long long)from, (long long)to);
    fprintf(f, "modularity\t%.17g\nn_network\t%d\n", c.modularity, c.n_network);

    /* the projection, capped at 20 participants */
    fora_wgraph_t pg;
    fora_projection_info_t pinfo;
    ASSERT_OK(fora_graph_coparticipation(s, &co.graph, 20, &pg, &pinfo, &d), &d);
    fprintf(f, "projection_cap\t20\nprojection_skipped\t%lld\n", (long long)pinfo.threads_skipped);
    FILE *pf = open_out(dir, "projection.tsv");
    for (igraph_integer_t e = 0; e < igraph_ecount(&pg.graph); e++)
        fprintf(
            pf, "%s\t%s\t%.17g\n", fora_snapshot_member_ext(s, (int32_t)IGRAPH_FROM(&pg.graph, e)),
            fora_snapshot_member_ext(s, (int32_t)IGRAPH_TO(&pg.graph, e)), VECTOR(pg.weight)[e]);
    fclose(pf);
    {
        /* the count-only summary the recompute stores agrees with the graph */
        fora_projection_info_t ci;
        int64_t ce = -1;
        ASSERT_OK(fora_coparticipation_count(s, &co.graph, 20, &ci, &ce, &d), &d);
        ASSERT_EQ(ce, (int64_t)igraph_ecount(&pg.graph));
        ASSERT_EQ(ci.pairs, pinfo.pairs);
        ASSERT_EQ(ci.threads_used, pinfo.threads_used);
        ASSERT_EQ(ci.threads_skipped, pinfo.threads_skipped);
    }
    fora_wgraph_destroy(&pg);

    /* KPP-Neg */
    fora_netgraph_t ng;
    ASSERT_OK(fora_netgraph_build(s, &co.graph, &ng, &d), &d);
    fora_kpp_opts_t ko;
    fora_kpp_opts_init(&ko);
    ko.k = 10;
    fora_kpp_t kpp;
    ASSERT_OK(fora_kpp_neg(&ng, &ko, &kpp, &d), &d);
    ASSERT(!kpp.dwf_sampled);
    fprintf(f, "kpp_f\t%.17g\nkpp_df\t%.17g\nkpp_f_base\t%.17g\nkpp_df_base\t%.17g\nkpp_set\t",
            kpp.objective, kpp.dwf, kpp.objective_base, kpp.dwf_base);
    for (int i = 0; i < kpp.k; i++)
        fprintf(f, "%s%s", i ? "," : "", fora_snapshot_member_ext(s, kpp.members[i]));
    fprintf(f, "\n");
    fprintf(stderr, "KPP-Neg k=10: F %.4f (intact %.4f), %d swaps\n", kpp.objective,
            kpp.objective_base, kpp.swaps);

    /* the degree strategy's curve */
    fora_disruption_opts_t dop;
    fora_disruption_opts_init(&dop);
    fora_strategy_t deg[] = {FORA_STRATEGY_DEGREE};
    fora_disruption_t dr;
    ASSERT_OK(fora_disruption_run(&ng, &c, NULL, NULL, deg, 1, &dop, &dr, &d), &d);
    FILE *cf = open_out(dir, "curve.tsv");
    for (int st = 0; st < dr.steps; st++)
        fprintf(cf, "%d\t%.17g\t%.17g\t%.17g\t%.17g\n", dr.removed[st], dr.curves[0].lcc_share[st],
                dr.curves[0].components[st], dr.curves[0].fragmentation[st],
                dr.curves[0].lost_replies[st]);
    fclose(cf);
    cf = open_out(dir, "order.tsv");
    for (int i = 0; i < dr.max_removed; i++)
        fprintf(cf, "%s\n", fora_snapshot_member_ext(s, dr.curves[0].order[i]));
    fclose(cf);

    /* role validation: the sample's moderators */
    bool *staff = malloc(sizeof(bool) * (size_t)s->members.n);
    int32_t nstaff = fora_staff_labels(s, NULL, staff);
    ASSERT(nstaff >= 1);
    fora_composite_t comp;
    ASSERT_OK(fora_composite_rank(&c, NULL, &comp, &d), &d);
    fora_validation_t val;
    ASSERT_OK(fora_validate_roles(&c, &comp, staff, 0, &val, &d), &d);
    FILE *vf = open_out(dir, "validation.tsv");
    for (int m = 0; m < FORA_METRIC_COUNT; m++)
        fprintf(vf, "%s\t%.17g\t%d\n", fora_metric_name((fora_metric_t)m), val.metric[m].auc,
                val.metric[m].hits_k);
    fprintf(vf, "composite\t%.17g\t%d\n", val.composite.auc, val.composite.hits_k);
    fclose(vf);
    vf = open_out(dir, "composite.tsv");
    for (int32_t i = 0; i < comp.n; i++)
        fprintf(vf, "%s\t%.17g\n", fora_snapshot_member_ext(s, i), comp.score[i]);
    fclose(vf);
    fprintf(stderr, "staff %d: AUC in_degree %.3f pagerank %.3f composite %.3f\n", nstaff,
            val.metric[FORA_METRIC_IN_DEGREE].auc, val.metric[FORA_METRIC_PAGERANK].auc,
            val.composite.auc);

    /* concentration and threads */
    fora_concentration_t conc;
    ASSERT_OK(fora_concentration(s, &co.graph, 10, &conc, &d), &d);
    fprintf(f, "gini\t%.17g\ntop1\t%.17g\ntop10\t%.17g\n", conc.gini, conc.top1_share,
            conc.top10_share);
    fora_thread_stats_t ts;
    ASSERT_OK(fora_thread_stats(s, &co.graph, &ts, &d), &d);
    fprintf(f, "spearman\t%.17g\nthreads_with_posts\t%d\n", ts.spearman, ts.n_threads);
    fclose(f);

    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 %s/tests/reference/nx_keyplayers.py %s/server/sample/beer %s",
             FORA_SOURCE_DIR, FORA_SOURCE_DIR, dir);
    fprintf(stderr, "fora side done in %.1f s\n", (double)clock() / CLOCKS_PER_SEC);
    int rc = system(cmd);
    ASSERT_EQ(rc, 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (getenv("FORA_NX_KEEP"))
        fprintf(stderr, "kept %s\n", dir);
    else if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);

    free(staff);
    fora_concentration_destroy(&conc);
    fora_thread_stats_destroy(&ts);
    fora_composite_destroy(&comp);
    fora_disruption_destroy(&dr);
    fora_kpp_destroy(&kpp);
    fora_netgraph_destroy(&ng);
    fora_centrality_destroy(&c);
    fora_snapshot_destroy(s);
    return 0;
}
