/*
 * tests/unit/test_keyplayer.c - percentiles and the composite rank, weight
 * parsing, fragmentation worked by hand, KPP-Neg against brute force,
 * KPP-Pos on a star and a path, ROC AUC and precision at k by hand, staff
 * labels.
 */
#include "fora/keyplayer.h"

#include <math.h>
#include <stdlib.h>

#include "fora_test.h"
#include "kp_fixtures.h"

static void test_percentiles(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    double x[] = {3, 1, 2, 2, NAN};
    double p[5];
    ASSERT_OK(fora_percentiles(x, 5, p, &d), &d);
    /* sorted: NAN(lowest) 1 2 2 3 -> (0+.5)/5, (1+.5)/5, (2+1)/5, (2+1)/5, (4+.5)/5 */
    ASSERT_NEAR(p[4], 0.1, 1e-15);
    ASSERT_NEAR(p[1], 0.3, 1e-15);
    ASSERT_NEAR(p[2], 0.6, 1e-15);
    ASSERT_NEAR(p[3], 0.6, 1e-15);
    ASSERT_NEAR(p[0], 0.9, 1e-15);
}

static void test_weights(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_composite_weights_t w;
    ASSERT_OK(fora_composite_weights_parse("pagerank:0.5,betweenness:1.5", &w, &d), &d);
    ASSERT_NEAR(w.w[FORA_METRIC_PAGERANK], 0.5, 0);
    ASSERT_NEAR(w.w[FORA_METRIC_BETWEENNESS], 1.5, 0);
    ASSERT_NEAR(w.w[FORA_METRIC_POSTS], 0, 0);
    ASSERT_EQ(fora_composite_weights_parse("pagerank:-1", &w, &d), FORA_EINVAL);
    ASSERT(strstr(d.msg, "pagerank") != NULL);
    fora_diag_clear(&d);
    ASSERT_EQ(fora_composite_weights_parse("fame:1", &w, &d), FORA_EINVAL);
    ASSERT(strstr(d.msg, "fame") != NULL);
    fora_diag_clear(&d);
    ASSERT_EQ(fora_composite_weights_parse("pagerank:0", &w, &d), FORA_EINVAL);
    fora_diag_clear(&d);
    ASSERT_EQ(fora_composite_weights_parse("pagerank:nan", &w, &d), FORA_EINVAL);
    fora_diag_clear(&d);
    ASSERT_EQ(fora_composite_weights_parse("pagerank", &w, &d), FORA_EINVAL);
    fora_metric_t m;
    ASSERT_OK(fora_metric_parse("effective_size", &m, &d), &d);
    ASSERT_EQ(m, FORA_METRIC_EFFECTIVE_SIZE);
    ASSERT_STR_EQ(fora_metric_name(FORA_METRIC_HARMONIC), "harmonic");
}

/* star with centre 0 plus a pendant 6 on leaf 1 */
static void test_composite(void)
{
    int e[] = {1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 1};
    fora_snapshot_t *s = kp_snapshot_edges(8, e, 6);
    fora_centrality_opts_t o;
    fora_diag_t d = FORA_DIAG_INIT;
    kp_opts(&o);
    fora_centrality_t c;
    ASSERT_OK(fora_centrality_compute(s, &o, &c, &d), &d);
    fora_composite_t r;
    ASSERT_OK(fora_composite_rank(&c, NULL, &r, &d), &d);
    ASSERT_EQ(r.order[0], 0);
    ASSERT_EQ(r.rank[0], 1);
    ASSERT_EQ(r.order[1], 1); /* the broker of the pendant */
    ASSERT_EQ(r.rank[7], 8);  /* never posted */
    ASSERT(r.pct[FORA_METRIC_PAGERANK] != NULL);
    ASSERT(r.pct[FORA_METRIC_CLUSTERING] == NULL);
    /* betweenness: centre 5*... highest of 8 -> (7 + .5)/8 */
    ASSERT_NEAR(r.pct[FORA_METRIC_BETWEENNESS][0], 7.5 / 8, 1e-15);
    /* the score is the weighted mean of the percentiles */
    double sum = 0, ws = 0;
    for (int m = 0; m < FORA_METRIC_COUNT; m++)
        if (r.pct[m]) {
            sum += r.weights.w[m] * r.pct[m][3];
            ws += r.weights.w[m];
        }
    ASSERT_NEAR(r.score[3], sum / ws, 1e-15);
    fora_composite_destroy(&r);
    /* constraint only: lower constraint ranks higher, NAN last */
    fora_composite_weights_t w;
    ASSERT_OK(fora_composite_weights_parse("constraint:1", &w, &d), &d);
    ASSERT_OK(fora_composite_rank(&c, &w, &r, &d), &d);
    ASSERT_EQ(r.order[0], 0);
    ASSERT_EQ(r.order[7], 7);
    fora_composite_destroy(&r);
    fora_centrality_destroy(&c);
    fora_snapshot_destroy(s);
}

static void test_auc(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    double auc;
    double x1[] = {1, 2, 3, 4};
    bool y1[] = {false, false, true, true};
    ASSERT_OK(fora_roc_auc(x1, y1, 4, &auc, &d), &d);
    ASSERT_NEAR(auc, 1, 1e-15);
    double x2[] = {1, 1, 1, 1};
    ASSERT_OK(fora_roc_auc(x2, y1, 4, &auc, &d), &d);
    ASSERT_NEAR(auc, 0.5, 1e-15);
    /* positives 3, 2; negatives 1, 2: 1 + 1 + 1 + 0.5 of 4 pairs */
    double x3[] = {3, 1, 2, 2};
    bool y3[] = {true, false, true, false};
    ASSERT_OK(fora_roc_auc(x3, y3, 4, &auc, &d), &d);
    ASSERT_NEAR(auc, 0.875, 1e-15);
    bool none[] = {false, false, false, false};
    ASSERT_OK(fora_roc_auc(x3, none, 4, &auc, &d), &d);
    ASSERT(isnan(auc));
}

static void test_validation(void)
{
    /* member 0 ("moderator" in the fixture) is the centre of a star */
    int e[] = {1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 4, 5};
    fora_snapshot_t *s = kp_snapshot_edges(6, e, 6);
    bool staff[6];
    ASSERT_EQ(fora_staff_labels(s, NULL, staff), 1);
    ASSERT(staff[0] && !staff[1]);
    ASSERT_EQ(fora_staff_labels(s, "Admin,MODERATOR", staff), 1);
    ASSERT_EQ(fora_staff_labels(s, "admin", staff), 0);
    ASSERT_EQ(fora_staff_labels(s, NULL, staff), 1);
    fora_centrality_opts_t o;
    fora_diag_t d = FORA_DIAG_INIT;
    kp_opts(&o);
    fora_centrality_t c;
    ASSERT_OK(fora_centrality_compute(s, &o, &c, &d), &d);
    fora_composite_t r;
    ASSERT_OK(fora_composite_rank(&c, NULL, &r, &d), &d);
    fora_validation_t v;
    ASSERT_OK(fora_validate_roles(&c, &r, staff, 0, &v, &d), &d);
    ASSERT_EQ(v.n_staff, 1);
    ASSERT_EQ(v.k, 1);
    ASSERT_NEAR(v.metric[FORA_METRIC_IN_DEGREE].auc, 1, 1e-15);
    ASSERT_NEAR(v.metric[FORA_METRIC_IN_DEGREE].precision_k, 1, 1e-15);
    ASSERT_NEAR(v.composite.auc, 1, 1e-15);
    /* out-degree: centre 0 vs leaves 1,2,3 (1) and 4,5 (2 and 1): centre lowest */
    ASSERT_NEAR(v.metric[FORA_METRIC_OUT_DEGREE].auc, 0, 1e-15);
    ASSERT_EQ(v.metric[FORA_METRIC_OUT_DEGREE].hits_k, 0);
    /* clustering: centre 1/10, leaves 4 and 5 are 1, others 0 -> beats 3 of 5 */
    ASSERT_NEAR(v.metric[FORA_METRIC_CLUSTERING].auc, 0.6, 1e-15);
    ASSERT_OK(fora_validate_roles(&c, NULL, staff, 3, &v, &d), &d);
    ASSERT_EQ(v.k, 3);
    ASSERT_NEAR(v.metric[FORA_METRIC_IN_DEGREE].precision_k, 1.0 / 3, 1e-15);
    fora_composite_destroy(&r);
    fora_centrality_destroy(&c);
    fora_snapshot_destroy(s);
}

static void netgraph_of(const igraph_t *g, fora_snapshot_t **s, fora_netgraph_t *ng)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_graph_opts_t o;
    fora_graph_opts_init(&o);
    o.rule = FORA_REPLY_EXPLICIT_ONLY;
    *s = kp_snapshot_igraph(g);
    ASSERT_OK(fora_netgraph_build(*s, &o, ng, &d), &d);
}

static void test_fragmentation(void)
{
    /* path of 4: intact F = 0; without vertex 1: {0} {2,3}: 1 - 2/6 */
    igraph_t g;
    igraph_small(&g, 4, IGRAPH_UNDIRECTED, 0, 1, 1, 2, 2, 3, -1);
    ASSERT_NEAR(fora_fragmentation(&g, NULL), 0, 1e-15);
    bool rm[4] = {false, true, false, false};
    ASSERT_NEAR(fora_fragmentation(&g, rm), 1 - 2.0 / 6, 1e-15);
    bool rm2[4] = {true, true, true, false};
    ASSERT_NEAR(fora_fragmentation(&g, rm2), 0, 0);
    igraph_destroy(&g);
    /* two triangles and an isolated pair: 3,3,2 -> 1 - (6+6+2)/(8*7) */
    igraph_small(&g, 8, IGRAPH_UNDIRECTED, 0, 1, 1, 2, 2, 0, 3, 4, 4, 5, 5, 3, 6, 7, -1);
    ASSERT_NEAR(fora_fragmentation(&g, NULL), 1 - 14.0 / 56, 1e-15);
    igraph_destroy(&g);
}

static void test_kpp_barbell(void)
{
    igraph_t g;
    igraph_small(&g, 8, IGRAPH_DIRECTED, 0, 1, 0, 2, 0, 3, 1, 2, 1, 3, 2, 3, 4, 5, 4, 6, 4, 7, 5, 6,
                 5, 7, 6, 7, 3, 4, -1);
    fora_snapshot_t *s;
    fora_netgraph_t ng;
    netgraph_of(&g, &s, &ng);
    fora_kpp_opts_t o;
    fora_diag_t d = FORA_DIAG_INIT;
    fora_kpp_opts_init(&o);
    o.k = 1;
    fora_kpp_t r;
    ASSERT_OK(fora_kpp_neg(&ng, &o, &r, &d), &d);
    ASSERT_EQ(r.k, 1);
    ASSERT(r.members[0] == 3 || r.members[0] == 4);
    ASSERT_NEAR(r.objective, 1 - 18.0 / 42, 1e-12); /* {0,1,2} and {4..7} of 7 */
    ASSERT_NEAR(r.objective_base, 0, 1e-15);
    /* DF intact: 12 pairs at 1, 4 (bridge ends to far side) ... computed by BFS below */
    fora_kpp_destroy(&r);
    o.k = 2;
    ASSERT_OK(fora_kpp_neg(&ng, &o, &r, &d), &d);
    ASSERT_NEAR(r.objective, 1 - 12.0 / 30, 1e-12);
    /* a bridge end, then a vertex of the other side's K4 (or the other end): two triangles */
    ASSERT(r.members[0] == 3 || r.members[0] == 4);
    ASSERT((r.members[0] == 3) == (r.members[1] >= 4));
    /* both cliques of 3 left: every remaining pair at distance 1 within, inf across */
    ASSERT_NEAR(r.dwf, 1 - 12.0 / 30, 1e-12);
    ASSERT(!r.dwf_sampled);
    fora_kpp_destroy(&r);
    /* KPP-Pos k=1, d=1 on the barbell: 3 or 4 reach 5 of 8 */
    o.k = 1;
    o.d = 1;
    ASSERT_OK(fora_kpp_pos(&ng, &o, &r, &d), &d);
    ASSERT(r.members[0] == 3 || r.members[0] == 4);
    ASSERT_NEAR(r.objective, 5.0 / 8, 1e-12);
    fora_kpp_destroy(&r);
    o.k = 0;
    ASSERT_EQ(fora_kpp_neg(&ng, &o, &r, &d), FORA_EINVAL);
    fora_netgraph_destroy(&ng);
    fora_snapshot_destroy(s);
    igraph_destroy(&g);
}

static void test_kpp_pos_path(void)
{
    igraph_t g;
    igraph_small(&g, 5, IGRAPH_DIRECTED, 0, 1, 1, 2, 2, 3, 3, 4, -1);
    fora_snapshot_t *s;
    fora_netgraph_t ng;
    netgraph_of(&g, &s, &ng);
    fora_kpp_opts_t o;
    fora_diag_t d = FORA_DIAG_INIT;
    fora_kpp_opts_init(&o);
    o.k = 1;
    o.d = 2;
    o.distance_weighted = true;
    fora_kpp_t r;
    ASSERT_OK(fora_kpp_pos(&ng, &o, &r, &d), &d);
    ASSERT_EQ(r.members[0], 2);
    ASSERT_NEAR(r.objective, (1 + 2 + 2 * 0.5) / 5, 1e-12);
    fora_kpp_destroy(&r);
    /* k = 2, d = 1, plain reach: {1, 3} reach everyone */
    o.k = 2;
    o.d = 1;
    o.distance_weighted = false;
    ASSERT_OK(fora_kpp_pos(&ng, &o, &r, &d), &d);
    ASSERT_NEAR(r.objective, 1, 1e-12);
    fora_kpp_destroy(&r);
    fora_netgraph_destroy(&ng);
    fora_snapshot_destroy(s);
    igraph_destroy(&g);
}

/*
 * On random graphs the greedy KPP-Neg step equals brute force: for k = 1 the
 * articulation DFS must find the best single removal (checked against a
 * union-find F for every vertex), and for k = 2 greedy + swap must reach
 * at least the best F of any (first greedy, other) pair.
 */
static void test_kpp_bruteforce(void)
{
    for (int trial = 0; trial < 30; trial++) {
        igraph_t g;
        igraph_rng_seed(igraph_rng_default(), 1000 + (uint64_t)trial);
        int n = 12 + trial;
        ASSERT_EQ(igraph_erdos_renyi_game_gnm(&g, n, (igraph_integer_t)(1.2 * n), true, false),
                  IGRAPH_SUCCESS);
        fora_snapshot_t *s;
        fora_netgraph_t ng;
        netgraph_of(&g, &s, &ng);
        int nn = ng.n;
        bool *rm = calloc((size_t)nn, sizeof(bool));
        double best = -1;
        for (int v = 0; v < nn; v++) {
            rm[v] = true;
            double f = fora_fragmentation(&ng.u.graph, rm);
            if (f > best) best = f;
            rm[v] = false;
        }
        fora_kpp_opts_t o;
        fora_diag_t d = FORA_DIAG_INIT;
        fora_kpp_opts_init(&o);
        o.k = 1;
        o.seed = (uint64_t)trial;
        fora_kpp_t r;
        ASSERT_OK(fora_kpp_neg(&ng, &o, &r, &d), &d);
        ASSERT_NEAR(r.objective, best, 1e-12);
        ASSERT_NEAR(r.gain[0], best, 1e-12);
        fora_kpp_destroy(&r);
        /* k = 2: no pair is better than the result by more than what swaps can miss;
           the result is a local optimum under single swaps */
        o.k = 2;
        ASSERT_OK(fora_kpp_neg(&ng, &o, &r, &d), &d);
        int a = ng.member_net[r.members[0]], b = ng.member_net[r.members[1]];
        rm[a] = rm[b] = true;
        double f2 = fora_fragmentation(&ng.u.graph, rm);
        ASSERT_NEAR(r.objective, f2, 1e-12);
        for (int keep = 0; keep < 2; keep++) {
            int stay = keep ? b : a, out = keep ? a : b;
            rm[out] = false;
            for (int v = 0; v < nn; v++) {
                if (v == stay || v == out) continue;
                rm[v] = true;
                ASSERT(fora_fragmentation(&ng.u.graph, rm) <= f2 + 1e-12);
                rm[v] = false;
            }
            rm[out] = true;
        }
        fora_kpp_destroy(&r);
        free(rm);
        fora_netgraph_destroy(&ng);
        fora_snapshot_destroy(s);
        igraph_destroy(&g);
    }
}

/* DF sampled vs exact on a mid-size graph: close, and flagged */
static void test_dwf_sampled(void)
{
    igraph_t g;
    igraph_rng_seed(igraph_rng_default(), 3);
    ASSERT_EQ(
        igraph_barabasi_game(&g, 400, 1, 2, NULL, true, 1, false, IGRAPH_BARABASI_PSUMTREE, NULL),
        IGRAPH_SUCCESS);
    fora_snapshot_t *s;
    fora_netgraph_t ng;
    netgraph_of(&g, &s, &ng);
    fora_kpp_opts_t o;
    fora_diag_t d = FORA_DIAG_INIT;
    fora_kpp_opts_init(&o);
    o.k = 5;
    fora_kpp_t ex, sm;
    ASSERT_OK(fora_kpp_neg(&ng, &o, &ex, &d), &d);
    o.exact_max = 100;
    o.samples = 200;
    ASSERT_OK(fora_kpp_neg(&ng, &o, &sm, &d), &d);
    ASSERT(sm.dwf_sampled && !ex.dwf_sampled);
    ASSERT_EQ(sm.samples, 200);
    ASSERT_NEAR(sm.objective, ex.objective, 1e-12);
    ASSERT(fabs(sm.dwf - ex.dwf) < 0.02);
    ASSERT(ex.objective > ex.objective_base);
    ASSERT(ex.dwf > ex.dwf_base);
    fora_kpp_destroy(&ex);
    fora_kpp_destroy(&sm);
    fora_netgraph_destroy(&ng);
    fora_snapshot_destroy(s);
    igraph_destroy(&g);
}

int main(void)
{
    kp_handlers();
    FORA_RUN(test_percentiles);
    FORA_RUN(test_weights);
    FORA_RUN(test_composite);
    FORA_RUN(test_auc);
    FORA_RUN(test_validation);
    FORA_RUN(test_fragmentation);
    FORA_RUN(test_kpp_barbell);
    FORA_RUN(test_kpp_pos_path);
    FORA_RUN(test_kpp_bruteforce);
    FORA_RUN(test_dwf_sampled);
    return 0;
}
