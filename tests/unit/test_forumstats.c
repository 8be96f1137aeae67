/*
 * tests/unit/test_forumstats.c - concentration (Gini, top shares, Lorenz),
 * thread statistics (sizes, participants, activity, Spearman, bins) and
 * community summaries, on forums worked by hand.
 */
#include "fora/forumstats.h"

#include <math.h>
#include <stdlib.h>

#include "fora_test.h"
#include "kp_fixtures.h"

/*
 * Members A..E (0..4); posts per member in the window: A 6, B 2, C 1, D 1, E 0.
 * Threads: T0 posts A A A A B C (size 6, participants A B C),
 *          T1 posts A A B     (size 3, participants A B),
 *          T2 posts D         (size 1), T3 no posts.
 * Activity (mean posts of participants): T0 (6+2+1)/3 = 3, T1 (6+2)/2 = 4, T2 1.
 */
static fora_snapshot_t *forum(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *s = NULL;
    ASSERT_OK(fora_snapshot_create(1, "f", NULL, 1, &s, &d), &d);
    ASSERT_OK(fora_snapshot_add_board(s, 1, "b", FORA_ID_NONE, NULL, &d), &d);
    const char *names[] = {"A", "B", "C", "D", "E"};
    for (int i = 0; i < 5; i++)
        ASSERT_OK(
            fora_snapshot_add_member(s, 1 + i, names[i], FORA_TIME_NONE, NULL, FORA_TIME_NONE, &d),
            &d);
    for (int t = 0; t < 4; t++) {
        char ext[8];
        snprintf(ext, sizeof ext, "T%d", t);
        ASSERT_OK(fora_snapshot_add_thread(s, 10 + t, ext, 1, 1, 0, &d), &d);
    }
    static const int posts[][2] = {{0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 1},
                                   {0, 2}, {1, 0}, {1, 0}, {1, 1}, {2, 3}};
    for (int p = 0; p < 10; p++)
        ASSERT_OK(fora_snapshot_add_post(s, 100 + p, 10 + posts[p][0], 1 + posts[p][1], 10 + p,
                                         FORA_ID_NONE, &d),
                  &d);
    /* a post by a deleted account in T2 at time 50 (outside the windows below) */
    ASSERT_OK(fora_snapshot_add_post(s, 200, 12, FORA_ID_NONE, 50, FORA_ID_NONE, &d), &d);
    ASSERT_OK(fora_snapshot_finish(s, &d), &d);
    return s;
}

static void test_concentration(void)
{
    fora_snapshot_t *s = forum();
    fora_graph_opts_t o;
    fora_graph_opts_init(&o);
    o.to = 50;
    fora_concentration_t c;
    fora_diag_t d = FORA_DIAG_INIT;
    ASSERT_OK(fora_concentration(s, &o, 4, &c, &d), &d);
    ASSERT_EQ(c.n_active, 4);
    ASSERT_EQ(c.posts, 10);
    /* sorted 1 1 2 6: sum (2i-n-1) x = -3 -1 +2 +18 = 16, / (4 * 10) */
    ASSERT_NEAR(c.gini, 0.4, 1e-15);
    ASSERT_NEAR(c.top1_share, 0.6, 1e-15);  /* ceil(0.04) = 1 member */
    ASSERT_NEAR(c.top10_share, 0.6, 1e-15); /* ceil(0.4) = 1 member */
    ASSERT_EQ(c.n_lorenz, 5);
    ASSERT_NEAR(c.lorenz_x[0], 0, 0);
    ASSERT_NEAR(c.lorenz_y[1], 0.1, 1e-15);
    ASSERT_NEAR(c.lorenz_y[2], 0.2, 1e-15);
    ASSERT_NEAR(c.lorenz_y[3], 0.4, 1e-15);
    ASSERT_NEAR(c.lorenz_y[4], 1, 1e-15);
    fora_concentration_destroy(&c);
    ASSERT_EQ(fora_concentration(s, &o, 0, &c, &d), FORA_EINVAL);
    /* an empty window: well-formed zeros */
    o.from = 1000;
    o.to = 2000;
    ASSERT_OK(fora_concentration(s, &o, 2, &c, &d), &d);
    ASSERT_EQ(c.n_active, 0);
    ASSERT_NEAR(c.gini, 0, 0);
    for (int j = 0; j < c.n_lorenz; j++)
        ASSERT(isfinite(c.lorenz_x[j]) && isfinite(c.lorenz_y[j]));
    fora_concentration_destroy(&c);
    fora_snapshot_destroy(s);
}

static void test_threads(void)
{
    fora_snapshot_t *s = forum();
    fora_graph_opts_t o;
    fora_graph_opts_init(&o);
    o.to = 50;
    fora_thread_stats_t t;
    fora_diag_t d = FORA_DIAG_INIT;
    ASSERT_OK(fora_thread_stats(s, &o, &t, &d), &d);
    ASSERT_EQ(t.n_threads, 3);
    ASSERT_EQ(t.size[0], 6);
    ASSERT_EQ(t.participants[0], 3);
    ASSERT_NEAR(t.activity[0], 3, 1e-15);
    ASSERT_EQ(t.size[1], 3);
    ASSERT_NEAR(t.activity[1], 4, 1e-15);
    ASSERT_EQ(t.size[2], 1);
    ASSERT_NEAR(t.activity[2], 1, 1e-15);
    /* ranks size 3 2 1, activity 2 3 1: rho = 1 - 6 (1+1+0) / (3 * 8) = 0.5 */
    ASSERT_NEAR(t.spearman, 0.5, 1e-12);
    ASSERT_EQ(t.n_sizes, 3);
    ASSERT_EQ(t.size_value[0], 1);
    ASSERT_EQ(t.size_count[0], 1);
    /* bins [1,2) [2,4) [4,8) */
    ASSERT_EQ(t.n_bins, 3);
    ASSERT_EQ(t.bins[1].lo, 2);
    ASSERT_EQ(t.bins[1].threads, 1);
    ASSERT_NEAR(t.bins[2].mean_activity, 3, 1e-15);
    ASSERT_NEAR(t.bins[2].median_activity, 3, 1e-15);
    fora_thread_stats_destroy(&t);
    /* whole forum: the deleted account's post makes T2 size 2, participants still 1 */
    ASSERT_OK(fora_thread_stats(s, NULL, &t, &d), &d);
    ASSERT_EQ(t.size[2], 2);
    ASSERT_EQ(t.participants[2], 1);
    fora_thread_stats_destroy(&t);
    /* fewer than 3 threads: no correlation */
    o.from = 16;
    ASSERT_OK(fora_thread_stats(s, &o, &t, &d), &d);
    ASSERT_EQ(t.n_threads, 2);
    ASSERT(isnan(t.spearman));
    fora_thread_stats_destroy(&t);
    fora_snapshot_destroy(s);
}

static void test_communities(void)
{
    /* barbell: two K4 joined by 3-4 */
    int e[] = {0, 1, 0, 2, 0, 3, 1, 2, 1, 3, 2, 3, 4, 5, 4, 6, 4, 7, 5, 6, 5, 7, 6, 7, 3, 4};
    fora_snapshot_t *s = kp_snapshot_edges(9, e, 13);
    fora_centrality_opts_t co;
    fora_diag_t d = FORA_DIAG_INIT;
    kp_opts(&co);
    fora_centrality_t c;
    ASSERT_OK(fora_centrality_compute(s, &co, &c, &d), &d);
    fora_netgraph_t ng;
    ASSERT_OK(fora_netgraph_build(s, &co.graph, &ng, &d), &d);
    fora_communities_t x;
    ASSERT_OK(fora_communities_summarise(&ng, &c, 2, &x, &d), &d);
    ASSERT_EQ(x.n, 2);
    ASSERT_EQ(x.items[0].size, 4);
    ASSERT_EQ(x.items[1].size, 4);
    ASSERT_NEAR(x.items[0].internal, 6, 0);
    ASSERT_NEAR(x.items[0].total, 13, 0);
    ASSERT_EQ(x.items[0].n_top, 2);
    /* top by PageRank, descending */
    ASSERT(c.pagerank[x.items[0].top[0]] >= c.pagerank[x.items[0].top[1]]);
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 9; i++)
            if (c.community[i] == k) ASSERT(c.pagerank[i] <= c.pagerank[x.items[k].top[0]]);
    ASSERT_NEAR(x.modularity, c.modularity, 0);
    ASSERT_NEAR(x.modularity, 2 * (6.0 / 13 - (13.0 / 26) * (13.0 / 26)), 1e-12);
    fora_communities_destroy(&x);
    ASSERT_EQ(fora_communities_summarise(&ng, &c, 11, &x, &d), FORA_EINVAL);
    fora_netgraph_destroy(&ng);
    fora_centrality_destroy(&c);
    fora_snapshot_destroy(s);
}

int main(void)
{
    kp_handlers();
    FORA_RUN(test_concentration);
    FORA_RUN(test_threads);
    FORA_RUN(test_communities);
    return 0;
}
