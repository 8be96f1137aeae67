/*
 * tests/unit/test_centrality.c - per-member metrics on graphs with known
 * answers: star, path, barbell (worked by hand), Zachary's karate club
 * (published betweenness, Zachary 1977's two factions), the sampled
 * betweenness estimator and its bound, the co-participation projection.
 */
#include "fora/centrality.h"

#include <math.h>
#include <stdlib.h>

#include "../../analysis/kp_internal.h"
#include "fora/projection.h"
#include "fora_test.h"
#include "kp_fixtures.h"

static void compute(fora_snapshot_t *s, fora_centrality_t *c)
{
    fora_centrality_opts_t o;
    fora_diag_t d = FORA_DIAG_INIT;
    kp_opts(&o);
    ASSERT_OK(fora_centrality_compute(s, &o, c, &d), &d);
}

/* star: leaves 1..5 reply to the centre 0 */
static void test_star(void)
{
    int e[] = {1, 0, 2, 0, 3, 0, 4, 0, 5, 0};
    fora_snapshot_t *s = kp_snapshot_edges(7, e, 5); /* member 6 never posts */
    fora_centrality_t c;
    compute(s, &c);
    ASSERT_EQ(c.n, 7);
    ASSERT_EQ(c.n_network, 6);
    ASSERT(!c.in_network[6]);
    ASSERT_EQ(c.posts[0], 6); /* opening post + one post answered per leaf */
    ASSERT_EQ(c.posts[1], 1);
    ASSERT_EQ(c.posts[6], 0);
    ASSERT_EQ(c.threads_started[0], 1);
    ASSERT_EQ(c.threads[3], 1);
    ASSERT_EQ(c.boards[3], 1);
    ASSERT_EQ(c.in_degree[0], 5);
    ASSERT_EQ(c.out_degree[0], 0);
    ASSERT_EQ(c.out_degree[1], 1);
    ASSERT_NEAR(c.in_strength[0], 5, 0);
    /* PageRank: centre dangling (teleports uniformly over 6), leaves point to it */
    double dmp = 0.85, n = 6;
    /* l = (1-d)/n + d c/n, c = 1 - 5 l */
    double l = ((1 - dmp) / n + dmp / n) / (1 + 5 * dmp / n), ctr = 1 - 5 * l;
    ASSERT_NEAR(c.pagerank[0], ctr, 1e-12);
    ASSERT_NEAR(c.pagerank[3], l, 1e-12);
    ASSERT_NEAR(c.pagerank[6], 0, 0);
    ASSERT_NEAR(c.betweenness[0], 10, 1e-12); /* C(5,2) pairs */
    ASSERT_NEAR(c.betweenness_norm[0], 1, 1e-12);
    ASSERT_NEAR(c.betweenness[1], 0, 1e-12);
    ASSERT_NEAR(c.closeness[0], 1, 1e-12);
    ASSERT_NEAR(c.closeness[1], 5.0 / 9.0, 1e-12);
    ASSERT_NEAR(c.harmonic[1], (1 + 4 * 0.5) / 5, 1e-12);
    ASSERT_NEAR(c.harmonic[0], 1, 1e-12);
    ASSERT_NEAR(c.eigenvector[0], 1, 1e-9);
    ASSERT_NEAR(c.eigenvector[2], 1 / sqrt(5.0), 1e-9);
    ASSERT_EQ(c.coreness[0], 1);
    ASSERT_NEAR(c.constraint[0], 0.2, 1e-12); /* 5 (1/5)^2 */
    ASSERT_NEAR(c.constraint[1], 1, 1e-12);
    ASSERT(isnan(c.constraint[6]));
    ASSERT_NEAR(c.effective_size[0], 5, 1e-12);
    ASSERT_NEAR(c.effective_size[1], 1, 1e-12);
    ASSERT_NEAR(c.clustering[0], 0, 0);
    ASSERT_EQ(c.n_communities, 1);
    ASSERT_EQ(c.community[6], -1);
    ASSERT_EQ(c.component[3], 0);
    ASSERT(!c.sampled);
    fora_centrality_destroy(&c);
    fora_snapshot_destroy(s);
}

/* path 0-1-2-3-4 */
static void test_path(void)
{
    int e[] = {0, 1, 1, 2, 2, 3, 3, 4};
    fora_snapshot_t *s = kp_snapshot_edges(5, e, 4);
    fora_centrality_t c;
    compute(s, &c);
    ASSERT_NEAR(c.betweenness[0], 0, 1e-12);
    ASSERT_NEAR(c.betweenness[1], 3, 1e-12);
    ASSERT_NEAR(c.betweenness[2], 4, 1e-12);
    ASSERT_NEAR(c.betweenness_norm[2], 4.0 / 6.0, 1e-12);
    ASSERT_NEAR(c.closeness[2], 4.0 / 6.0, 1e-12);
    ASSERT_NEAR(c.closeness[0], 4.0 / 10.0, 1e-12);
    ASSERT_NEAR(c.harmonic[0], (1 + 0.5 + 1.0 / 3 + 0.25) / 4, 1e-12);
    ASSERT_EQ(c.coreness[2], 1);
    ASSERT_NEAR(c.clustering[2], 0, 0);
    ASSERT_NEAR(c.effective_size[2], 2, 1e-12);
    ASSERT_NEAR(c.constraint[2], 0.5, 1e-12);
    fora_centrality_destroy(&c);
    fora_snapshot_destroy(s);
}

/* barbell: K4 {0..3} and K4 {4..7} joined by 3-4; one more reply 1->0 doubles that tie */
static void test_barbell(void)
{
    int e[] = {0, 1, 0, 2, 0, 3, 1, 2, 1, 3, 2, 3, 4, 5, 4, 6, 4, 7, 5, 6, 5, 7, 6, 7, 3, 4, 1, 0};
    fora_snapshot_t *s = kp_snapshot_edges(8, e, 14);
    fora_centrality_t c;
    compute(s, &c);
    ASSERT_EQ(c.n_uedges, 13);
    ASSERT_NEAR(c.betweenness[3], 12, 1e-12);
    ASSERT_NEAR(c.betweenness[4], 12, 1e-12);
    ASSERT_NEAR(c.betweenness[0], 0, 1e-12);
    for (int i = 0; i < 8; i++)
        ASSERT_EQ(c.coreness[i], 3);
    ASSERT_NEAR(c.clustering[3], 0.5, 1e-12);
    ASSERT_NEAR(c.clustering[5], 1, 1e-12);
    ASSERT_EQ(c.n_communities, 2);
    ASSERT_EQ(c.community[0], c.community[3]);
    ASSERT(c.community[0] != c.community[4]);
    /* modularity by hand: U weights: {0,1}=2, others 1; 2m = 28; each side:
       internal weight 7 (resp. 6), degree sums 15 (resp. 13) */
    double q = (7.0 / 14 - (15.0 / 28) * (15.0 / 28)) + (6.0 / 14 - (13.0 / 28) * (13.0 / 28));
    ASSERT_NEAR(c.modularity, q, 1e-12);
    ASSERT_NEAR(c.in_strength[0], 1, 0); /* 1->0 */
    ASSERT_NEAR(c.out_strength[0], 3, 0);
    ASSERT_EQ(c.in_degree[0], 1);
    fora_centrality_destroy(&c);
    fora_snapshot_destroy(s);
}

/* Zachary's karate club: betweenness as published (e.g. NetworkX, igraph), two factions */
static void test_zachary(void)
{
    igraph_t g;
    ASSERT_EQ(igraph_famous(&g, "Zachary"), IGRAPH_SUCCESS);
    fora_snapshot_t *s = kp_snapshot_igraph(&g);
    fora_centrality_t c;
    compute(s, &c);
    ASSERT_EQ(c.n_network, 34);
    ASSERT_EQ(c.n_uedges, 78);
    ASSERT_NEAR(c.betweenness[0], 231.0714285714286, 1e-9);
    ASSERT_NEAR(c.betweenness[33], 160.5515873015873, 1e-9);
    ASSERT_NEAR(c.betweenness[32], 76.69047619047619, 1e-9);
    ASSERT_NEAR(c.betweenness[2], 75.85079365079365, 1e-9);
    ASSERT_NEAR(c.betweenness[31], 73.00952380952381, 1e-9);
    ASSERT_EQ(c.coreness[0], 4);
    ASSERT_EQ(c.coreness[11], 1);
    ASSERT_NEAR(c.constraint[0], 0.15542329764660495, 1e-12);
    ASSERT_NEAR(c.effective_size[0], 13.75, 1e-12);
    /* the best known modularity partition of the club has Q = 0.4198 (4 groups) */
    ASSERT(c.modularity > 0.415);
    /* each community lies within one faction of Zachary (1977), but for at most one member */
    static const int hi[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 16, 17, 19, 21};
    int faction[34] = {0};
    for (size_t i = 0; i < sizeof(hi) / sizeof(hi[0]); i++)
        faction[hi[i]] = 1;
    int wrong = 0;
    for (int k = 0; k < c.n_communities; k++) {
        int a = 0, b = 0;
        for (int i = 0; i < 34; i++)
            if (c.community[i] == k) {
                if (faction[i])
                    a++;
                else
                    b++;
            }
        wrong += a < b ? a : b;
    }
    ASSERT(wrong <= 1);
    fora_centrality_destroy(&c);
    fora_snapshot_destroy(s);
    igraph_destroy(&g);
}

/* sampled betweenness: unbiased over seeds, within its Hoeffding bound */
static void test_sampled(void)
{
    igraph_t g;
    igraph_rng_seed(igraph_rng_default(), 7);
    ASSERT_EQ(
        igraph_barabasi_game(&g, 300, 1, 2, NULL, true, 1, false, IGRAPH_BARABASI_PSUMTREE, NULL),
        IGRAPH_SUCCESS);
    fora_snapshot_t *s = kp_snapshot_igraph(&g);
    fora_centrality_opts_t o;
    fora_diag_t d = FORA_DIAG_INIT;
    kp_opts(&o);
    fora_centrality_t ex, sm;
    ASSERT_OK(fora_centrality_compute(s, &o, &ex, &d), &d);
    ASSERT(!ex.sampled);
    o.exact_max = 100;
    o.samples = 60;
    double mean0 = 0, worst = 0;
    const int reps = 40;
    for (int r = 0; r < reps; r++) {
        o.seed = 100 + (uint64_t)r;
        ASSERT_OK(fora_centrality_compute(s, &o, &sm, &d), &d);
        ASSERT(sm.sampled);
        ASSERT_EQ(sm.samples, 60);
        ASSERT_EQ(sm.seed, 100 + (uint64_t)r);
        for (int i = 0; i < sm.n; i++) {
            double err = fabs(sm.betweenness_norm[i] - ex.betweenness_norm[i]);
            if (err > worst) worst = err;
            ASSERT(fabs(sm.harmonic[i] - ex.harmonic[i]) <= sm.harmonic_error);
        }
        ASSERT(worst <= sm.betweenness_error);
        mean0 += sm.betweenness[0] / reps;
        fora_centrality_destroy(&sm);
    }
    /* the hub's mean estimate is within 5 % of its exact betweenness */
    ASSERT(fabs(mean0 - ex.betweenness[0]) < 0.05 * ex.betweenness[0]);
    /* the same seed gives the same estimate */
    fora_centrality_t a, b;
    o.seed = 5;
    ASSERT_OK(fora_centrality_compute(s, &o, &a, &d), &d);
    ASSERT_OK(fora_centrality_compute(s, &o, &b, &d), &d);
    for (int i = 0; i < a.n; i++) {
        ASSERT(a.betweenness[i] == b.betweenness[i]);
        ASSERT(a.closeness[i] == b.closeness[i]);
        ASSERT(a.community[i] == b.community[i]);
    }
    /* closeness estimates are close to exact on this connected graph */
    for (int i = 0; i < a.n; i++)
        ASSERT(fabs(a.closeness[i] - ex.closeness[i]) < 0.15 * ex.closeness[i]);
    fora_centrality_destroy(&a);
    fora_centrality_destroy(&b);
    fora_centrality_destroy(&ex);
    fora_snapshot_destroy(s);
    igraph_destroy(&g);
}

/* the sampled estimator equals igraph_betweenness_subset from the same sources, scaled */
static void test_sampled_vs_igraph_subset(void)
{
    igraph_t g;
    igraph_rng_seed(igraph_rng_default(), 9);
    ASSERT_EQ(igraph_erdos_renyi_game_gnm(&g, 500, 1200, false, false), IGRAPH_SUCCESS);
    fora_diag_t d = FORA_DIAG_INIT;
    igraph_vector_t ours, ref;
    igraph_vector_init(&ours, 0);
    igraph_vector_init(&ref, 0);
    igraph_rng_seed(igraph_rng_default(), 42);
    ASSERT_OK(fora_betweenness_sampled(&g, 37, &ours, &d), &d);
    int32_t src[37];
    igraph_rng_seed(igraph_rng_default(), 42);
    ASSERT_OK(fora__sample(500, 37, src, &d), &d);
    igraph_vector_int_t sv;
    igraph_vector_int_init(&sv, 37);
    for (int i = 0; i < 37; i++)
        VECTOR(sv)[i] = src[i];
    igraph_vs_t vs;
    igraph_vs_vector(&vs, &sv);
    ASSERT_EQ(
        igraph_betweenness_subset(&g, &ref, igraph_vss_all(), false, vs, igraph_vss_all(), NULL),
        IGRAPH_SUCCESS);
    double sum = 0;
    for (int v = 0; v < 500; v++) {
        ASSERT_NEAR(VECTOR(ours)[v], VECTOR(ref)[v] * 500.0 / 37.0, 1e-9);
        sum += VECTOR(ours)[v];
    }
    ASSERT(sum > 0);
    /* k >= n: exact */
    ASSERT_OK(fora_betweenness_sampled(&g, 500, &ours, &d), &d);
    igraph_betweenness(&g, &ref, igraph_vss_all(), false, NULL);
    for (int v = 0; v < 500; v++)
        ASSERT_NEAR(VECTOR(ours)[v], VECTOR(ref)[v], 1e-9);
    igraph_vector_int_destroy(&sv);
    igraph_vector_destroy(&ours);
    igraph_vector_destroy(&ref);
    igraph_destroy(&g);
}

static void test_empty_and_bad(void)
{
    fora_snapshot_t *s = kp_snapshot_edges(1, NULL, 0);
    fora_centrality_t c;
    compute(s, &c);
    ASSERT_EQ(c.n, 1);
    ASSERT_EQ(c.n_network, 0);
    ASSERT_EQ(c.posts[0], 1);
    ASSERT_NEAR(c.pagerank[0], 0, 0);
    ASSERT_EQ(c.n_communities, 0);
    fora_centrality_destroy(&c);
    fora_centrality_opts_t o;
    fora_diag_t d = FORA_DIAG_INIT;
    kp_opts(&o);
    o.damping = 1.5;
    ASSERT_EQ(fora_centrality_compute(s, &o, &c, &d), FORA_EINVAL);
    ASSERT(strstr(d.msg, "damping") != NULL);
    kp_opts(&o);
    o.samples = 0;
    fora_diag_clear(&d);
    ASSERT_EQ(fora_centrality_compute(s, &o, &c, &d), FORA_EINVAL);
    ASSERT(strstr(d.msg, "samples") != NULL);
    fora_snapshot_destroy(s);
    /* two members, one reply */
    int e[] = {1, 0};
    s = kp_snapshot_edges(2, e, 1);
    compute(s, &c);
    ASSERT_EQ(c.n_network, 2);
    ASSERT_NEAR(c.betweenness_norm[0], 0, 0);
    ASSERT_NEAR(c.closeness[0], 1, 1e-12);
    for (int i = 0; i < 2; i++)
        ASSERT(isfinite(c.pagerank[i]) && isfinite(c.eigenvector[i]) && isfinite(c.harmonic[i]));
    fora_centrality_destroy(&c);
    fora_snapshot_destroy(s);
}

/*
 * Co-participation: thread T1 {A,B,C} adds 1/2 per pair, T2 {A,B} adds 1,
 * T3 {D} nothing; with a cap of 2, T1 is skipped.
 */
static void test_projection(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *s = NULL;
    ASSERT_OK(fora_snapshot_create(1, "p", NULL, 1, &s, &d), &d);
    ASSERT_OK(fora_snapshot_add_board(s, 1, "b", FORA_ID_NONE, NULL, &d), &d);
    const char *names[] = {"A", "B", "C", "D"};
    for (int i = 0; i < 4; i++)
        ASSERT_OK(
            fora_snapshot_add_member(s, 1 + i, names[i], FORA_TIME_NONE, NULL, FORA_TIME_NONE, &d),
            &d);
    for (int t = 1; t <= 3; t++)
        ASSERT_OK(fora_snapshot_add_thread(s, t, names[t - 1], 1, 1, 0, &d), &d);
    int64_t posts[][3] = {{1, 1, 1}, {1, 2, 2}, {1, 3, 3}, {1, 1, 4},
                          {2, 1, 5}, {2, 2, 6}, {3, 4, 7}, {2, FORA_ID_NONE, 8}};
    for (int p = 0; p < 8; p++)
        ASSERT_OK(fora_snapshot_add_post(s, 100 + p, posts[p][0], posts[p][1], posts[p][2],
                                         FORA_ID_NONE, &d),
                  &d);
    ASSERT_OK(fora_snapshot_finish(s, &d), &d);
    fora_wgraph_t g;
    fora_projection_info_t info;
    ASSERT_OK(fora_graph_coparticipation(s, NULL, 100, &g, &info, &d), &d);
    ASSERT_EQ(igraph_vcount(&g.graph), 4);
    ASSERT_EQ(igraph_ecount(&g.graph), 3);
    ASSERT_EQ(info.threads_used, 2);
    ASSERT_EQ(info.threads_skipped, 0);
    ASSERT_EQ(info.pairs, 4);
    /* edges ordered (0,1) (0,2) (1,2) */
    /* igraph stores an undirected edge as (larger, smaller) */
    ASSERT_EQ(IGRAPH_FROM(&g.graph, 0) + IGRAPH_TO(&g.graph, 0), 1);
    ASSERT_EQ(IGRAPH_FROM(&g.graph, 1) + IGRAPH_TO(&g.graph, 1), 2);
    ASSERT_NEAR(VECTOR(g.weight)[0], 1.5, 1e-15);
    ASSERT_NEAR(VECTOR(g.weight)[1], 0.5, 1e-15);
    ASSERT_EQ(IGRAPH_FROM(&g.graph, 2) + IGRAPH_TO(&g.graph, 2), 3);
    ASSERT_NEAR(VECTOR(g.weight)[2], 0.5, 1e-15);
    fora_wgraph_destroy(&g);
    /* the count-only summary agrees, for each cap and the window */
    fora_projection_info_t ci;
    int64_t ce = -1;
    ASSERT_OK(fora_coparticipation_count(s, NULL, 100, &ci, &ce, &d), &d);
    ASSERT_EQ(ce, 3);
    ASSERT_EQ(ci.threads_used, 2);
    ASSERT_EQ(ci.threads_skipped, 0);
    ASSERT_EQ(ci.pairs, 4);
    ASSERT_OK(fora_coparticipation_count(s, NULL, 2, &ci, &ce, &d), &d);
    ASSERT_EQ(ce, 1);
    ASSERT_EQ(ci.threads_skipped, 1);
    ASSERT_EQ(ci.pairs, 1);
    ASSERT_EQ(fora_coparticipation_count(s, NULL, 1, &ci, &ce, &d), FORA_EINVAL);
    ASSERT_OK(fora_graph_coparticipation(s, NULL, 2, &g, &info, &d), &d);
    ASSERT_EQ(igraph_ecount(&g.graph), 1);
    ASSERT_EQ(info.threads_skipped, 1);
    ASSERT_NEAR(VECTOR(g.weight)[0], 1, 1e-15);
    fora_wgraph_destroy(&g);
    /* window [5, 8): posts at 5, 6, 7 -> only T2 {A,B} */
    fora_graph_opts_t o;
    fora_graph_opts_init(&o);
    o.from = 5;
    o.to = 8;
    ASSERT_OK(fora_coparticipation_count(s, &o, 100, &ci, &ce, &d), &d);
    ASSERT_EQ(ce, 1);
    ASSERT_OK(fora_graph_coparticipation(s, &o, 100, &g, &info, &d), &d);
    ASSERT_EQ(igraph_ecount(&g.graph), 1);
    ASSERT_NEAR(VECTOR(g.weight)[0], 1, 1e-15);
    fora_wgraph_destroy(&g);
    ASSERT_EQ(fora_graph_coparticipation(s, NULL, 1, &g, &info, &d), FORA_EINVAL);
    fora_snapshot_destroy(s);
}

int main(void)
{
    kp_handlers();
    FORA_RUN(test_star);
    FORA_RUN(test_path);
    FORA_RUN(test_barbell);
    FORA_RUN(test_zachary);
    FORA_RUN(test_sampled);
    FORA_RUN(test_sampled_vs_igraph_subset);
    FORA_RUN(test_empty_and_bad);
    FORA_RUN(test_projection);
    return 0;
}
