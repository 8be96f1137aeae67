/*
 * tests/unit/test_disruption.c - removal curves: a path worked by hand, the
 * one-pass union-find curve against a brute-force component search at every
 * step on random graphs, recomputed betweenness against igraph on the
 * remaining graph, targeted vs random removal on a scale-free graph.
 */
#include "fora/disruption.h"

#include <math.h>
#include <stdlib.h>

#include "fora_test.h"
#include "kp_fixtures.h"

static void netgraph_of(const igraph_t *g, fora_snapshot_t **s, fora_netgraph_t *ng)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_graph_opts_t o;
    fora_graph_opts_init(&o);
    o.rule = FORA_REPLY_EXPLICIT_ONLY;
    *s = kp_snapshot_igraph(g);
    ASSERT_OK(fora_netgraph_build(*s, &o, ng, &d), &d);
}

static void test_path_by_hand(void)
{
    /* 0 -> 1 twice, 2 -> 1 once: path 0-1-2, reply volume 3 */
    int e[] = {0, 1, 0, 1, 2, 1};
    fora_snapshot_t *s = kp_snapshot_edges(3, e, 3);
    fora_netgraph_t ng;
    fora_diag_t d = FORA_DIAG_INIT;
    fora_graph_opts_t o;
    fora_graph_opts_init(&o);
    o.rule = FORA_REPLY_EXPLICIT_ONLY;
    ASSERT_OK(fora_netgraph_build(s, &o, &ng, &d), &d);
    ASSERT_EQ(ng.n, 3);
    ASSERT_NEAR(ng.total_replies, 3, 0);
    int32_t order[] = {1, 0, 2}, removed[] = {0, 1, 2, 3};
    double lcc[4], comp[4], frag[4], lost[4], R;
    ASSERT_OK(fora_disruption_curve(&ng, order, 3, removed, 4, lcc, comp, frag, lost, &R, &d), &d);
    ASSERT_NEAR(lcc[0], 1, 1e-15);
    ASSERT_NEAR(lcc[1], 1.0 / 3, 1e-15);
    ASSERT_NEAR(lcc[2], 1.0 / 3, 1e-15);
    ASSERT_NEAR(lcc[3], 0, 0);
    ASSERT_NEAR(comp[0], 1, 0);
    ASSERT_NEAR(comp[1], 2, 0);
    ASSERT_NEAR(comp[2], 1, 0);
    ASSERT_NEAR(comp[3], 0, 0);
    ASSERT_NEAR(frag[0], 0, 1e-15);
    ASSERT_NEAR(frag[1], 1, 1e-15);
    ASSERT_NEAR(frag[2], 0, 0);
    ASSERT_NEAR(lost[0], 0, 1e-15);
    ASSERT_NEAR(lost[1], 1, 1e-15);
    ASSERT_NEAR(R, (1.0 / 3 + 1.0 / 3 + 0) / 3, 1e-15);
    /* removing an end first: 0 (2 of the 3 replies) */
    int32_t order2[] = {0, 1, 2};
    ASSERT_OK(fora_disruption_curve(&ng, order2, 3, removed, 4, lcc, comp, frag, lost, &R, &d), &d);
    ASSERT_NEAR(lcc[1], 2.0 / 3, 1e-15);
    ASSERT_NEAR(lost[1], 2.0 / 3, 1e-15);
    ASSERT_NEAR(R, (2.0 / 3 + 1.0 / 3) / 3, 1e-15);
    /* an order naming a non-vertex */
    int32_t bad[] = {7};
    ASSERT_EQ(fora_disruption_curve(&ng, bad, 1, removed, 1, lcc, comp, frag, lost, &R, &d),
              FORA_EINVAL);
    fora_netgraph_destroy(&ng);
    fora_snapshot_destroy(s);
}

/* the one-pass curve equals igraph's components of the remaining graph at every step */
static void test_against_bruteforce(void)
{
    for (int trial = 0; trial < 8; trial++) {
        igraph_t g;
        igraph_rng_seed(igraph_rng_default(), 50 + (uint64_t)trial);
        ASSERT_EQ(igraph_erdos_renyi_game_gnm(&g, 120, 150 + 20 * trial, true, false),
                  IGRAPH_SUCCESS);
        fora_snapshot_t *s;
        fora_netgraph_t ng;
        netgraph_of(&g, &s, &ng);
        int n = ng.n;
        int32_t *order = malloc(sizeof(int32_t) * (size_t)n);
        int32_t *removed = malloc(sizeof(int32_t) * ((size_t)n + 1));
        double *lcc = malloc(sizeof(double) * ((size_t)n + 1));
        double *comp = malloc(sizeof(double) * ((size_t)n + 1));
        double *frag = malloc(sizeof(double) * ((size_t)n + 1));
        double *lost = malloc(sizeof(double) * ((size_t)n + 1));
        for (int i = 0; i < n; i++)
            order[i] = (i * 37 + trial) % n; /* a permutation when gcd(37, n) == 1 */
        bool *seen = calloc((size_t)n, sizeof(bool));
        int q = 0;
        for (int i = 0; i < n; i++)
            if (!seen[order[i]]) {
                seen[order[i]] = true;
                order[q++] = order[i];
            }
        for (int v = 0; v < n; v++)
            if (!seen[v]) order[q++] = v;
        for (int r = 0; r <= n; r++)
            removed[r] = r;
        double R;
        fora_diag_t d = FORA_DIAG_INIT;
        ASSERT_OK(
            fora_disruption_curve(&ng, order, n, removed, n + 1, lcc, comp, frag, lost, &R, &d),
            &d);
        bool *rm = calloc((size_t)n, sizeof(bool));
        double rsum = 0;
        for (int r = 0; r <= n; r++) {
            if (r > 0) rm[order[r - 1]] = true;
            /* brute force: induced subgraph of the rest, igraph components */
            igraph_vector_int_t keep, memb, csize;
            igraph_vector_int_init(&keep, 0);
            for (int v = 0; v < n; v++)
                if (!rm[v]) igraph_vector_int_push_back(&keep, v);
            igraph_t h;
            igraph_induced_subgraph(&ng.u.graph, &h, igraph_vss_vector(&keep),
                                    IGRAPH_SUBGRAPH_AUTO);
            igraph_vector_int_init(&memb, 0);
            igraph_vector_int_init(&csize, 0);
            igraph_integer_t nc = 0;
            igraph_connected_components(&h, &memb, &csize, &nc, IGRAPH_WEAK);
            double big = 0, ss = 0;
            for (igraph_integer_t c = 0; c < nc; c++) {
                double sz = (double)VECTOR(csize)[c];
                if (sz > big) big = sz;
                ss += sz * (sz - 1);
            }
            int left = n - r;
            ASSERT_NEAR(lcc[r], big / n, 1e-12);
            ASSERT_EQ((long long)comp[r], (long long)nc);
            ASSERT_NEAR(frag[r], left < 2 ? 0 : 1 - ss / ((double)left * (left - 1)), 1e-12);
            ASSERT_NEAR(frag[r], fora_fragmentation(&ng.u.graph, rm), 1e-12);
            /* lost replies: weight with a removed end */
            double lw = 0;
            for (igraph_integer_t e = 0; e < igraph_ecount(&ng.u.graph); e++)
                if (rm[IGRAPH_FROM(&ng.u.graph, e)] || rm[IGRAPH_TO(&ng.u.graph, e)])
                    lw += VECTOR(ng.u.weight)[e];
            ASSERT_NEAR(lost[r], lw / ng.total_replies, 1e-12);
            if (r >= 1) rsum += big / n;
            igraph_destroy(&h);
            igraph_vector_int_destroy(&keep);
            igraph_vector_int_destroy(&memb);
            igraph_vector_int_destroy(&csize);
        }
        ASSERT_NEAR(R, rsum / n, 1e-12);
        free(rm);
        free(seen);
        free(order);
        free(removed);
        free(lcc);
        free(comp);
        free(frag);
        free(lost);
        fora_netgraph_destroy(&ng);
        fora_snapshot_destroy(s);
        igraph_destroy(&g);
    }
}

/* every strategy on a scale-free graph; targeted beats random by far */
static void test_strategies(void)
{
    igraph_t g;
    igraph_rng_seed(igraph_rng_default(), 11);
    ASSERT_EQ(
        igraph_barabasi_game(&g, 400, 1, 1, NULL, true, 1, false, IGRAPH_BARABASI_PSUMTREE, NULL),
        IGRAPH_SUCCESS);
    fora_snapshot_t *s = kp_snapshot_igraph(&g);
    fora_centrality_opts_t co;
    fora_diag_t d = FORA_DIAG_INIT;
    kp_opts(&co);
    fora_centrality_t c;
    ASSERT_OK(fora_centrality_compute(s, &co, &c, &d), &d);
    fora_netgraph_t ng;
    ASSERT_OK(fora_netgraph_build(s, &co.graph, &ng, &d), &d);
    fora_composite_t comp;
    ASSERT_OK(fora_composite_rank(&c, NULL, &comp, &d), &d);
    fora_kpp_opts_t ko;
    fora_kpp_opts_init(&ko);
    ko.k = 10;
    fora_kpp_t kpp;
    ASSERT_OK(fora_kpp_neg(&ng, &ko, &kpp, &d), &d);
    fora_disruption_opts_t o;
    fora_disruption_opts_init(&o);
    o.recompute_every = 1;
    fora_disruption_t r;
    ASSERT_OK(fora_disruption_run(&ng, &c, &comp, &kpp, NULL, 0, &o, &r, &d), &d);
    ASSERT_EQ(r.n, 400);
    ASSERT_EQ(r.max_removed, 80);
    ASSERT_EQ(r.steps, 81);
    ASSERT_EQ(r.n_curves, FORA_STRATEGY_COUNT);
    const fora_curve_t *rnd = NULL, *deg = NULL;
    for (int i = 0; i < r.n_curves; i++) {
        const fora_curve_t *cv = &r.curves[i];
        ASSERT_NEAR(cv->lcc_share[0], 1, 1e-15);
        ASSERT_NEAR(cv->lost_replies[0], 0, 1e-15);
        if (cv->strategy == FORA_STRATEGY_RANDOM) rnd = cv;
        if (cv->strategy == FORA_STRATEGY_DEGREE) deg = cv;
        for (int st = 0; st < r.steps; st++)
            ASSERT(isfinite(cv->lcc_share[st]) && isfinite(cv->fragmentation[st]));
    }
    ASSERT(rnd && deg);
    ASSERT_EQ(rnd->repetitions, 10);
    ASSERT(rnd->order == NULL && rnd->lcc_share_sd != NULL);
    /* every targeted strategy is far below random on a tree-like scale-free graph */
    for (int i = 0; i < r.n_curves; i++) {
        const fora_curve_t *cv = &r.curves[i];
        if (cv == rnd) continue;
        ASSERT(cv->robustness < rnd->robustness - 3 * rnd->robustness_sd);
        ASSERT(cv->lcc_share[r.steps - 1] < rnd->lcc_share[r.steps - 1] / 2);
    }
    /* the degree order is the degree order */
    {
        igraph_vector_int_t dg;
        igraph_vector_int_init(&dg, 0);
        igraph_degree(&ng.u.graph, &dg, igraph_vss_all(), IGRAPH_ALL, false);
        for (int i = 1; i < 80; i++)
            ASSERT(VECTOR(dg)[ng.member_net[deg->order[i - 1]]] >=
                   VECTOR(dg)[ng.member_net[deg->order[i]]]);
        ASSERT_EQ(VECTOR(dg)[ng.member_net[deg->order[0]]], igraph_vector_int_max(&dg));
        igraph_vector_int_destroy(&dg);
    }
    /* KPP-Neg's curve begins with its set */
    const fora_curve_t *kc = &r.curves[FORA_STRATEGY_KPP_NEG];
    ASSERT_EQ(kc->strategy, FORA_STRATEGY_KPP_NEG);
    for (int i = 0; i < kpp.k; i++)
        ASSERT_EQ(kc->order[i], kpp.members[i]);
    ASSERT_NEAR(kc->fragmentation[kpp.k], kpp.objective, 1e-12);
    /* recomputed: each removal is the top betweenness of the remaining graph */
    const fora_curve_t *bc = &r.curves[FORA_STRATEGY_BETWEENNESS_RECOMPUTED];
    bool *rm = calloc(400, sizeof(bool));
    for (int i = 0; i < 5; i++) {
        igraph_vector_int_t edges;
        igraph_vector_int_init(&edges, 0);
        for (igraph_integer_t e = 0; e < igraph_ecount(&ng.u.graph); e++) {
            igraph_integer_t a = IGRAPH_FROM(&ng.u.graph, e), b = IGRAPH_TO(&ng.u.graph, e);
            if (rm[a] || rm[b]) continue;
            igraph_vector_int_push_back(&edges, a);
            igraph_vector_int_push_back(&edges, b);
        }
        igraph_t h;
        igraph_create(&h, &edges, 400, IGRAPH_UNDIRECTED);
        igraph_vector_t bet;
        igraph_vector_init(&bet, 0);
        igraph_betweenness(&h, &bet, igraph_vss_all(), false, NULL);
        int best = -1;
        for (int v = 0; v < 400; v++)
            if (!rm[v] && (best < 0 || VECTOR(bet)[v] > VECTOR(bet)[best])) best = v;
        ASSERT_EQ(bc->order[i], ng.net_member[best]);
        rm[best] = true;
        igraph_vector_destroy(&bet);
        igraph_destroy(&h);
        igraph_vector_int_destroy(&edges);
    }
    free(rm);
    fora_disruption_destroy(&r);
    /* sampled recomputation (exact_max below n): a valid order, seeded, repeatable */
    o.exact_max = 50;
    o.recompute_samples = 40;
    o.recompute_every = 8;
    fora_strategy_t rb[] = {FORA_STRATEGY_BETWEENNESS_RECOMPUTED};
    fora_disruption_t r2;
    ASSERT_OK(fora_disruption_run(&ng, &c, NULL, NULL, rb, 1, &o, &r, &d), &d);
    ASSERT_OK(fora_disruption_run(&ng, &c, NULL, NULL, rb, 1, &o, &r2, &d), &d);
    {
        bool *seen = calloc(400, sizeof(bool));
        for (int i = 0; i < r.max_removed; i++) {
            int v = ng.member_net[r.curves[0].order[i]];
            ASSERT(v >= 0 && !seen[v]);
            seen[v] = true;
            ASSERT_EQ(r.curves[0].order[i], r2.curves[0].order[i]);
        }
        free(seen);
        /* the first batch follows the run's betweenness */
        ASSERT(r.curves[0].robustness < 0.2);
    }
    fora_disruption_destroy(&r);
    fora_disruption_destroy(&r2);
    fora_disruption_opts_init(&o);
    o.recompute_every = 1;
    /* a subset, and bad requests */
    fora_strategy_t two[] = {FORA_STRATEGY_RANDOM, FORA_STRATEGY_PAGERANK};
    ASSERT_OK(fora_disruption_run(&ng, &c, NULL, NULL, two, 2, &o, &r, &d), &d);
    ASSERT_EQ(r.n_curves, 2);
    ASSERT_EQ(r.curves[0].strategy, FORA_STRATEGY_RANDOM);
    fora_disruption_destroy(&r);
    fora_strategy_t kp[] = {FORA_STRATEGY_KPP_NEG};
    ASSERT_EQ(fora_disruption_run(&ng, &c, NULL, NULL, kp, 1, &o, &r, &d), FORA_EINVAL);
    fora_strategy_t dup[] = {FORA_STRATEGY_DEGREE, FORA_STRATEGY_DEGREE};
    fora_diag_clear(&d);
    ASSERT_EQ(fora_disruption_run(&ng, &c, NULL, NULL, dup, 2, &o, &r, &d), FORA_EINVAL);
    o.max_fraction = 0;
    fora_diag_clear(&d);
    ASSERT_EQ(fora_disruption_run(&ng, &c, NULL, NULL, two, 2, &o, &r, &d), FORA_EINVAL);
    ASSERT(strstr(d.msg, "max_fraction") != NULL);
    fora_strategy_t st;
    ASSERT_OK(fora_strategy_parse("betweenness_recomputed", &st, &d), &d);
    ASSERT_EQ(st, FORA_STRATEGY_BETWEENNESS_RECOMPUTED);
    ASSERT_EQ(fora_strategy_parse("nope", &st, &d), FORA_EINVAL);
    fora_kpp_destroy(&kpp);
    fora_composite_destroy(&comp);
    fora_netgraph_destroy(&ng);
    fora_centrality_destroy(&c);
    fora_snapshot_destroy(s);
    igraph_destroy(&g);
}

/* the grid: step 1 to 100, then every ceil(max/200) */
static void test_grid_and_empty(void)
{
    fora_snapshot_t *s = kp_snapshot_edges(1, NULL, 0);
    fora_centrality_opts_t co;
    fora_diag_t d = FORA_DIAG_INIT;
    kp_opts(&co);
    fora_centrality_t c;
    ASSERT_OK(fora_centrality_compute(s, &co, &c, &d), &d);
    fora_netgraph_t ng;
    ASSERT_OK(fora_netgraph_build(s, &co.graph, &ng, &d), &d);
    fora_disruption_t r;
    fora_strategy_t one[] = {FORA_STRATEGY_DEGREE, FORA_STRATEGY_RANDOM};
    ASSERT_OK(fora_disruption_run(&ng, &c, NULL, NULL, one, 2, NULL, &r, &d), &d);
    ASSERT_EQ(r.n, 0);
    ASSERT_EQ(r.steps, 1);
    ASSERT_EQ(r.n_curves, 0);
    fora_disruption_destroy(&r);
    fora_netgraph_destroy(&ng);
    fora_centrality_destroy(&c);
    fora_snapshot_destroy(s);
    /* a scale-free tree of 3000: max 600, grid 0..100 then every 3 */
    igraph_t g;
    igraph_rng_seed(igraph_rng_default(), 5);
    ASSERT_EQ(
        igraph_barabasi_game(&g, 3000, 1, 1, NULL, true, 1, false, IGRAPH_BARABASI_PSUMTREE, NULL),
        IGRAPH_SUCCESS);
    s = kp_snapshot_igraph(&g);
    igraph_destroy(&g);
    ASSERT_OK(fora_centrality_compute(s, &co, &c, &d), &d);
    ASSERT_OK(fora_netgraph_build(s, &co.graph, &ng, &d), &d);
    fora_strategy_t deg[] = {FORA_STRATEGY_DEGREE};
    ASSERT_OK(fora_disruption_run(&ng, &c, NULL, NULL, deg, 1, NULL, &r, &d), &d);
    ASSERT_EQ(r.max_removed, 600);
    ASSERT_EQ(r.removed[100], 100);
    ASSERT_EQ(r.removed[101], 103);
    ASSERT_EQ(r.removed[r.steps - 1], 600);
    ASSERT_EQ(r.steps, 101 + 167);
    fora_disruption_destroy(&r);
    fora_netgraph_destroy(&ng);
    fora_centrality_destroy(&c);
    fora_snapshot_destroy(s);
}

int main(void)
{
    kp_handlers();
    FORA_RUN(test_path_by_hand);
    FORA_RUN(test_against_bruteforce);
    FORA_RUN(test_strategies);
    FORA_RUN(test_grid_and_empty);
    return 0;
}
