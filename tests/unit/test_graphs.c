/*
 * tests/unit/test_graphs.c - reply rules, the reply graph, its undirected
 * view, the member-thread graph and the summary, on a forum worked by hand.
 *
 * Members (index: ext): 0 A, 1 B, 2 C, 3 D, 4 E, 5 F (F never posts).
 * Threads: T0 started by A, T1 by B, T2 by a deleted account.
 * Posts in time order (they are added shuffled):
 *
 *   post time thread author reply_to  explicit_or_starter  explicit_only  starter_only
 *   p0   100  T0     A      -         - (A opens T0)       -              - (opening)
 *   p1   110  T0     B      -         B->A (starter)       -              B->A
 *   p2   120  T0     C      p1        C->B                 C->B           C->A
 *   p3   130  T0     A      p2        A->C                 A->C           A->A self
 *   p4   140  T0     B      -         B->A                 -              B->A
 *   p5   200  T1     B      -         - (B opens T1)       -              - (opening)
 *   p6   210  T1     D      p5        D->B                 D->B           D->B
 *   p7   220  T1     B      p6        B->D                 B->D           B->B self
 *   p8   230  T1     B      p7        B->B self            B->B self      B->B self
 *   p9   240  T1     deleted p6       - (no author)        -              -
 *   p10  250  T1     E      p9        - (target deleted)   -              E->B
 *   p11  300  T2     C      -         - (starter deleted)  -              -
 *   p12  310  T2     A      p11       A->C                 A->C           - (starter deleted)
 *   p13  320  T1     A      -         A->B                 -              A->B
 *   p14  330  T0     A      -         A->A self (not p0)   -              A->A self
 */
#include "fora/graphs.h"

#include <stdlib.h>

#include "fora_test.h"

#define NONE FORA_ID_NONE
#define TNONE FORA_TIME_NONE

/* database ids: members 11..16, threads 21..23, posts 100..114 (p_k = 100 + k) */
static fora_snapshot_t *build_forum(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *s = NULL;
    ASSERT_OK(fora_snapshot_create(1, "hand", NULL, 1, &s, &d), &d);
    ASSERT_OK(fora_snapshot_add_board(s, 1, "b1", NONE, NULL, &d), &d);
    ASSERT_OK(fora_snapshot_add_board(s, 2, "b2", 1, NULL, &d), &d);
    const char *names[] = {"A", "B", "C", "D", "E", "F"};
    for (int i = 0; i < 6; i++)
        ASSERT_OK(fora_snapshot_add_member(s, 11 + i, names[i], TNONE, NULL, TNONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_thread(s, 21, "T0", 1, 11, 100, &d), &d);
    ASSERT_OK(fora_snapshot_add_thread(s, 22, "T1", 2, 12, 200, &d), &d);
    ASSERT_OK(fora_snapshot_add_thread(s, 23, "T2", 2, NONE, 300, &d), &d);

    static const struct {
        int k; /* p_k */
        int64_t t;
        int64_t thread;
        int64_t author; /* member db id or NONE */
        int reply;      /* k of the post answered, or -1 */
    } posts[] = {
        {14, 330, 21, 11, -1}, {3, 130, 21, 11, 2},   {9, 240, 22, NONE, 6}, {0, 100, 21, 11, -1},
        {7, 220, 22, 12, 6},   {12, 310, 23, 11, 11}, {1, 110, 21, 12, -1},  {5, 200, 22, 12, -1},
        {10, 250, 22, 15, 9},  {2, 120, 21, 13, 1},   {6, 210, 22, 14, 5},   {13, 320, 22, 11, -1},
        {4, 140, 21, 12, -1},  {11, 300, 23, 13, -1}, {8, 230, 22, 12, 7},
    };
    for (size_t i = 0; i < sizeof(posts) / sizeof(posts[0]); i++)
        ASSERT_OK(fora_snapshot_add_post(s, 100 + posts[i].k, posts[i].thread, posts[i].author,
                                         posts[i].t,
                                         posts[i].reply < 0 ? NONE : 100 + posts[i].reply, &d),
                  &d);
    ASSERT_OK(fora_snapshot_add_event(s, 11, "visit", 150, NONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_event(s, 16, "visit", 250, 1, &d), &d);
    ASSERT_OK(fora_snapshot_add_event(s, 16, "click", 400, 2, &d), &d);
    ASSERT_OK(fora_snapshot_finish(s, &d), &d);
    /* post index k is p_k */
    for (int k = 0; k < 15; k++)
        ASSERT_EQ(s->posts.id[k], 100 + k);
    return s;
}

typedef struct {
    int a, b;
    double w;
} edge_t;

/* Asserts that g has exactly the edges `want` (in this order) with these weights. */
static void check_edges(const igraph_t *g, const igraph_vector_t *w, const edge_t *want, int n,
                        const char *label)
{
    igraph_vector_int_t el;
    ASSERT_EQ(igraph_vector_int_init(&el, 0), IGRAPH_SUCCESS);
    ASSERT_EQ(igraph_get_edgelist(g, &el, false), IGRAPH_SUCCESS);
    if (igraph_ecount(g) != n) {
        for (igraph_integer_t e = 0; e < igraph_ecount(g); e++)
            fprintf(stderr, "  %s: %d -> %d (%g)\n", label, (int)VECTOR(el)[2 * e],
                    (int)VECTOR(el)[2 * e + 1], VECTOR(*w)[e]);
        FORA_FAIL("%s: %d edges, expected %d", label, (int)igraph_ecount(g), n);
    }
    ASSERT_EQ(igraph_vector_size(w), n);
    for (int e = 0; e < n; e++) {
        if (VECTOR(el)[2 * e] != want[e].a || VECTOR(el)[2 * e + 1] != want[e].b ||
            VECTOR(*w)[e] != want[e].w)
            FORA_FAIL("%s: edge %d is %d->%d (%g), expected %d->%d (%g)", label, e,
                      (int)VECTOR(el)[2 * e], (int)VECTOR(el)[2 * e + 1], VECTOR(*w)[e], want[e].a,
                      want[e].b, want[e].w);
    }
    igraph_vector_int_destroy(&el);
}

/* Builds the reply graph under (rule, loops, window) and compares it. */
static void check_reply(const fora_snapshot_t *s, fora_reply_rule_t rule, bool loops, int64_t from,
                        int64_t to, const edge_t *want, int n, const char *label)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_graph_opts_t o;
    fora_graph_opts_init(&o);
    o.rule = rule;
    o.keep_self_loops = loops;
    o.from = from;
    o.to = to;
    fora_wgraph_t g;
    ASSERT_OK(fora_graph_reply(s, &o, &g, &d), &d);
    ASSERT(igraph_is_directed(&g.graph));
    ASSERT_EQ(igraph_vcount(&g.graph), 6);
    check_edges(&g.graph, &g.weight, want, n, label);

    /* the summary agrees with the graph */
    fora_summary_t sum;
    ASSERT_OK(fora_graph_summary(s, &o, &sum, &d), &d);
    ASSERT_EQ(sum.reply_graph_edges, n);
    double total = 0;
    for (int e = 0; e < n; e++)
        total += want[e].w;
    ASSERT_EQ(sum.reply_graph_weight, (int64_t)total);
    ASSERT_EQ(sum.replies, (int64_t)total);
    fora_wgraph_destroy(&g);
}

static void test_reply_target(void)
{
    fora_snapshot_t *s = build_forum();
    fora_graph_opts_t o = FORA_GRAPH_OPTS_INIT;
    ASSERT_EQ(s->threads.first_post[0], 0);
    ASSERT_EQ(s->threads.first_post[1], 5);
    ASSERT_EQ(s->threads.first_post[2], 11);
    ASSERT_EQ(fora_reply_target(s, &o, 0), -1);  /* opening post */
    ASSERT_EQ(fora_reply_target(s, &o, 1), 0);   /* B -> starter A */
    ASSERT_EQ(fora_reply_target(s, &o, 2), 1);   /* explicit: C -> B */
    ASSERT_EQ(fora_reply_target(s, &o, 8), -1);  /* self */
    ASSERT_EQ(fora_reply_target(s, &o, 9), -1);  /* deleted author */
    ASSERT_EQ(fora_reply_target(s, &o, 10), -1); /* deleted target */
    ASSERT_EQ(fora_reply_target(s, &o, 11), -1); /* deleted starter */
    ASSERT_EQ(fora_reply_target(s, &o, 13), 1);
    o.keep_self_loops = true;
    ASSERT_EQ(fora_reply_target(s, &o, 8), 1);
    ASSERT_EQ(fora_reply_target(s, &o, 14), 0);
    ASSERT_EQ(fora_reply_target(s, &o, 0), -1); /* the opening post is never a self-reply */
    o.rule = FORA_REPLY_STARTER_ONLY;
    ASSERT_EQ(fora_reply_target(s, &o, 2), 0);  /* reply_to ignored */
    ASSERT_EQ(fora_reply_target(s, &o, 5), -1); /* B opens T1 */
    ASSERT_EQ(fora_reply_target(s, &o, 10), 1);
    o.rule = FORA_REPLY_EXPLICIT_ONLY;
    ASSERT_EQ(fora_reply_target(s, &o, 1), -1);
    ASSERT_EQ(fora_reply_target(s, &o, 12), 2);
    fora_snapshot_destroy(s);
}

/*
 * Only the starter's own opening post is exempt: when the earliest post of a
 * thread is someone else's (the opening post was deleted at the source), it
 * replies to the starter like any other.
 */
static void test_first_post_not_by_starter(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *s = NULL;
    ASSERT_OK(fora_snapshot_create(1, "f", NULL, 0, &s, &d), &d);
    ASSERT_OK(fora_snapshot_add_board(s, 1, "b", NONE, NULL, &d), &d);
    ASSERT_OK(fora_snapshot_add_member(s, 1, "x", TNONE, NULL, TNONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_member(s, 2, "y", TNONE, NULL, TNONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_thread(s, 1, "t", 1, 1, 10, &d), &d);
    ASSERT_OK(fora_snapshot_add_post(s, 2, 1, 1, 20, NONE, &d), &d); /* x, later */
    ASSERT_OK(fora_snapshot_add_post(s, 1, 1, 2, 10, NONE, &d), &d); /* y, first */
    ASSERT_OK(fora_snapshot_finish(s, &d), &d);
    fora_graph_opts_t o = FORA_GRAPH_OPTS_INIT;
    ASSERT_EQ(s->threads.first_post[0], 0);
    ASSERT_EQ(s->posts.author[0], 1);
    ASSERT_EQ(fora_reply_target(s, &o, 0), 0);  /* y -> x */
    ASSERT_EQ(fora_reply_target(s, &o, 1), -1); /* x's later post: self */
    o.keep_self_loops = true;
    ASSERT_EQ(fora_reply_target(s, &o, 1), 0);
    o.rule = FORA_REPLY_STARTER_ONLY;
    ASSERT_EQ(fora_reply_target(s, &o, 0), 0);
    o.rule = FORA_REPLY_EXPLICIT_ONLY;
    ASSERT_EQ(fora_reply_target(s, &o, 0), -1);
    fora_snapshot_destroy(s);
}

static void test_rules(void)
{
    fora_snapshot_t *s = build_forum();

    const edge_t eos[] = {{0, 1, 1}, {0, 2, 2}, {1, 0, 2}, {1, 3, 1}, {2, 1, 1}, {3, 1, 1}};
    check_reply(s, FORA_REPLY_EXPLICIT_OR_STARTER, false, TNONE, TNONE, eos, 6, "eos");
    const edge_t eos_loops[] = {{0, 0, 1}, {0, 1, 1}, {0, 2, 2}, {1, 0, 2},
                                {1, 1, 1}, {1, 3, 1}, {2, 1, 1}, {3, 1, 1}};
    check_reply(s, FORA_REPLY_EXPLICIT_OR_STARTER, true, TNONE, TNONE, eos_loops, 8, "eos+loops");

    const edge_t eo[] = {{0, 2, 2}, {1, 3, 1}, {2, 1, 1}, {3, 1, 1}};
    check_reply(s, FORA_REPLY_EXPLICIT_ONLY, false, TNONE, TNONE, eo, 4, "explicit");
    const edge_t eo_loops[] = {{0, 2, 2}, {1, 1, 1}, {1, 3, 1}, {2, 1, 1}, {3, 1, 1}};
    check_reply(s, FORA_REPLY_EXPLICIT_ONLY, true, TNONE, TNONE, eo_loops, 5, "explicit+loops");

    const edge_t so[] = {{0, 1, 1}, {1, 0, 2}, {2, 0, 1}, {3, 1, 1}, {4, 1, 1}};
    check_reply(s, FORA_REPLY_STARTER_ONLY, false, TNONE, TNONE, so, 5, "starter");
    const edge_t so_loops[] = {{0, 0, 2}, {0, 1, 1}, {1, 0, 2}, {1, 1, 2},
                               {2, 0, 1}, {3, 1, 1}, {4, 1, 1}};
    check_reply(s, FORA_REPLY_STARTER_ONLY, true, TNONE, TNONE, so_loops, 7, "starter+loops");

    /* windows: [200, 310) holds p5..p11; [-, 140) holds p0..p3 */
    const edge_t w1[] = {{1, 3, 1}, {3, 1, 1}};
    check_reply(s, FORA_REPLY_EXPLICIT_OR_STARTER, false, 200, 310, w1, 2, "window 200-310");
    const edge_t w2[] = {{0, 2, 1}, {1, 0, 1}, {2, 1, 1}};
    check_reply(s, FORA_REPLY_EXPLICIT_OR_STARTER, false, TNONE, 140, w2, 3, "window -140");
    check_reply(s, FORA_REPLY_EXPLICIT_OR_STARTER, false, 1000, TNONE, NULL, 0, "empty window");
    fora_snapshot_destroy(s);
}

static void test_undirected(void)
{
    fora_snapshot_t *s = build_forum();
    fora_diag_t d = FORA_DIAG_INIT;
    fora_wgraph_t g, u;

    ASSERT_OK(fora_graph_reply(s, NULL, &g, &d), &d); /* NULL: default options */
    ASSERT_OK(fora_graph_undirected(&g, &u, &d), &d);
    ASSERT(!igraph_is_directed(&u.graph));
    ASSERT_EQ(igraph_vcount(&u.graph), 6);
    const edge_t want[] = {{0, 1, 3}, {0, 2, 2}, {1, 2, 1}, {1, 3, 2}};
    check_edges(&u.graph, &u.weight, want, 4, "undirected");
    fora_wgraph_destroy(&u);
    fora_wgraph_destroy(&g);

    fora_graph_opts_t o = FORA_GRAPH_OPTS_INIT;
    o.keep_self_loops = true;
    ASSERT_OK(fora_graph_reply(s, &o, &g, &d), &d);
    ASSERT_OK(fora_graph_undirected(&g, &u, &d), &d);
    const edge_t want_loops[] = {{0, 0, 1}, {0, 1, 3}, {0, 2, 2}, {1, 1, 1}, {1, 2, 1}, {1, 3, 2}};
    check_edges(&u.graph, &u.weight, want_loops, 6, "undirected+loops");
    fora_wgraph_destroy(&u);
    fora_wgraph_destroy(&g);
    fora_snapshot_destroy(s);
}

static void test_member_thread(void)
{
    fora_snapshot_t *s = build_forum();
    fora_diag_t d = FORA_DIAG_INIT;
    fora_bigraph_t b;

    ASSERT_OK(fora_graph_member_thread(s, NULL, &b, &d), &d);
    ASSERT(!igraph_is_directed(&b.graph));
    ASSERT_EQ(igraph_vcount(&b.graph), 9);
    ASSERT_EQ(b.n_members, 6);
    ASSERT_EQ(b.n_threads, 3);
    ASSERT_EQ(igraph_vector_bool_size(&b.types), 9);
    for (int v = 0; v < 9; v++)
        ASSERT_EQ(VECTOR(b.types)[v], v >= 6);
    const edge_t want[] = {{0, 6, 3}, {0, 7, 1}, {0, 8, 1}, {1, 6, 2}, {1, 7, 3},
                           {2, 6, 1}, {2, 8, 1}, {3, 7, 1}, {4, 7, 1}};
    check_edges(&b.graph, &b.weight, want, 9, "bipartite");
    igraph_bool_t is_bip = false;
    ASSERT_EQ(igraph_is_bipartite(&b.graph, &is_bip, NULL), IGRAPH_SUCCESS);
    ASSERT(is_bip);
    fora_bigraph_destroy(&b);

    /* the window [200, 310): p5..p11 less the deleted author's p9 */
    fora_graph_opts_t o = FORA_GRAPH_OPTS_INIT;
    o.from = 200;
    o.to = 310;
    o.rule = FORA_REPLY_EXPLICIT_ONLY; /* no effect here */
    ASSERT_OK(fora_graph_member_thread(s, &o, &b, &d), &d);
    const edge_t want_w[] = {{1, 7, 3}, {2, 8, 1}, {3, 7, 1}, {4, 7, 1}};
    check_edges(&b.graph, &b.weight, want_w, 4, "bipartite window");
    fora_bigraph_destroy(&b);
    fora_snapshot_destroy(s);
}

static void test_summary(void)
{
    fora_snapshot_t *s = build_forum();
    fora_diag_t d = FORA_DIAG_INIT;
    fora_summary_t sum;

    ASSERT_OK(fora_graph_summary(s, NULL, &sum, &d), &d);
    ASSERT_EQ(sum.boards, 2);
    ASSERT_EQ(sum.members, 6);
    ASSERT_EQ(sum.posting_members, 5);
    ASSERT_EQ(sum.threads, 3);
    ASSERT_EQ(sum.posts, 15);
    ASSERT_EQ(sum.replies, 8);
    ASSERT_EQ(sum.events, 3);
    ASSERT_EQ(sum.first_post_at, 100);
    ASSERT_EQ(sum.last_post_at, 330);
    ASSERT_EQ(sum.reply_graph_vertices, 4); /* A B C D */
    ASSERT_EQ(sum.reply_graph_edges, 6);
    ASSERT_EQ(sum.reply_graph_weight, 8);
    ASSERT_EQ(sum.bipartite_edges, 9);

    fora_graph_opts_t o = FORA_GRAPH_OPTS_INIT;
    o.from = 200;
    o.to = 310;
    ASSERT_OK(fora_graph_summary(s, &o, &sum, &d), &d);
    ASSERT_EQ(sum.boards, 2);
    ASSERT_EQ(sum.members, 6);
    ASSERT_EQ(sum.threads, 3);
    ASSERT_EQ(sum.posts, 7);
    ASSERT_EQ(sum.posting_members, 4); /* B C D E */
    ASSERT_EQ(sum.replies, 2);
    ASSERT_EQ(sum.events, 1);
    ASSERT_EQ(sum.first_post_at, 200);
    ASSERT_EQ(sum.last_post_at, 300);
    ASSERT_EQ(sum.reply_graph_vertices, 2);
    ASSERT_EQ(sum.reply_graph_edges, 2);
    ASSERT_EQ(sum.bipartite_edges, 4);

    o.from = 1000;
    o.to = TNONE;
    ASSERT_OK(fora_graph_summary(s, &o, &sum, &d), &d);
    ASSERT_EQ(sum.posts, 0);
    ASSERT_EQ(sum.first_post_at, TNONE);
    ASSERT_EQ(sum.last_post_at, TNONE);
    ASSERT_EQ(sum.reply_graph_edges, 0);
    fora_snapshot_destroy(s);
}

static void test_rule_names(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_reply_rule_t r = FORA_REPLY_EXPLICIT_ONLY;
    ASSERT_OK(fora_reply_rule_parse("starter_only", &r, &d), &d);
    ASSERT_EQ(r, FORA_REPLY_STARTER_ONLY);
    ASSERT_OK(fora_reply_rule_parse("explicit_or_starter", &r, &d), &d);
    ASSERT_EQ(r, FORA_REPLY_EXPLICIT_OR_STARTER);
    ASSERT_STR_EQ(fora_reply_rule_name(FORA_REPLY_EXPLICIT_ONLY), "explicit_only");
    ASSERT_EQ(fora_reply_rule_parse("explicit", &r, &d), FORA_EINVAL);
    ASSERT(strstr(d.msg, "unknown reply rule \"explicit\"") != NULL);

    fora_diag_clear(&d);
    ASSERT_EQ(fora_err_from_igraph(IGRAPH_SUCCESS, &d, "x"), FORA_OK);
    ASSERT_EQ(d.code, FORA_OK);
    ASSERT_EQ(fora_err_from_igraph(IGRAPH_ENOMEM, &d, "big graph"), FORA_ENOMEM);
    ASSERT(strncmp(d.msg, "big graph: ", 11) == 0);
    fora_diag_clear(&d);
    ASSERT_EQ(fora_err_from_igraph(IGRAPH_EINVAL, &d, "x"), FORA_EINTERNAL);
}

/* A graph without edges has an undirected view without edges; bad weights are refused. */
static void test_undirected_empty(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_wgraph_t in, out;
    igraph_vector_int_t el;
    ASSERT_EQ(igraph_vector_int_init(&el, 0), IGRAPH_SUCCESS);
    ASSERT_EQ(igraph_create(&in.graph, &el, 3, IGRAPH_DIRECTED), IGRAPH_SUCCESS);
    ASSERT_EQ(igraph_vector_init(&in.weight, 0), IGRAPH_SUCCESS);
    ASSERT_OK(fora_graph_undirected(&in, &out, &d), &d); /* no edges: fine */
    ASSERT_EQ(igraph_vcount(&out.graph), 3);
    ASSERT_EQ(igraph_ecount(&out.graph), 0);
    fora_wgraph_destroy(&out);
    /* a weight vector of the wrong length is refused */
    ASSERT_EQ(igraph_vector_resize(&in.weight, 2), IGRAPH_SUCCESS);
    ASSERT_EQ(fora_graph_undirected(&in, &out, &d), FORA_EINVAL);
    fora_wgraph_destroy(&in);
    igraph_vector_int_destroy(&el);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

/*
 * A random forum: the reply graph and the bipartite graph must equal counts
 * made the slow way, from fora_reply_target() into dense matrices.
 */
static void test_random_against_naive(void)
{
    enum { M = 40, T = 25, P = 4000 };
    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *s = NULL;
    ASSERT_OK(fora_snapshot_create(1, "r", NULL, 0, &s, &d), &d);
    ASSERT_OK(fora_snapshot_add_board(s, 1, "b", NONE, NULL, &d), &d);
    char ext[16];
    for (int m = 0; m < M; m++) {
        snprintf(ext, sizeof(ext), "m%d", m);
        ASSERT_OK(fora_snapshot_add_member(s, 1000 + m, ext, TNONE, NULL, TNONE, &d), &d);
    }
    for (int t = 0; t < T; t++) {
        snprintf(ext, sizeof(ext), "t%d", t);
        int64_t st = rnd() % 8 == 0 ? NONE : 1000 + (int64_t)(rnd() % M);
        ASSERT_OK(fora_snapshot_add_thread(s, 5000 + t, ext, 1, st, 0, &d), &d);
    }
    for (int p = 0; p < P; p++) {
        int64_t author = rnd() % 10 == 0 ? NONE : 1000 + (int64_t)(rnd() % M);
        int64_t reply = (p > 0 && rnd() % 2) ? 9000 + (int64_t)(rnd() % p) : NONE;
        ASSERT_OK(fora_snapshot_add_post(s, 9000 + p, 5000 + (int64_t)(rnd() % T), author,
                                         (int64_t)(rnd() % 500), reply, &d),
                  &d);
    }
    ASSERT_OK(fora_snapshot_finish(s, &d), &d);

    for (int rule = 0; rule < 3; rule++) {
        for (int loops = 0; loops < 2; loops++) {
            fora_graph_opts_t o = FORA_GRAPH_OPTS_INIT;
            o.rule = (fora_reply_rule_t)rule;
            o.keep_self_loops = loops;
            o.from = 100;
            o.to = 400;
            static double want[M][M];
            memset(want, 0, sizeof(want));
            for (int p = 0; p < P; p++) {
                int32_t t = fora_reply_target(s, &o, p);
                if (t >= 0 && fora_time_in_window(s->posts.created_at[p], o.from, o.to))
                    want[s->posts.author[p]][t] += 1;
            }
            fora_wgraph_t g;
            ASSERT_OK(fora_graph_reply(s, &o, &g, &d), &d);
            static double got[M][M];
            memset(got, 0, sizeof(got));
            for (igraph_integer_t e = 0; e < igraph_ecount(&g.graph); e++) {
                igraph_integer_t a, b;
                ASSERT_EQ(igraph_edge(&g.graph, e, &a, &b), IGRAPH_SUCCESS);
                ASSERT(got[a][b] == 0); /* one edge per pair */
                got[a][b] = VECTOR(g.weight)[e];
            }
            ASSERT(memcmp(want, got, sizeof(want)) == 0);
            fora_wgraph_destroy(&g);
        }
    }

    static double want_b[M][T], got_b[M][T];
    for (int p = 0; p < P; p++)
        if (s->posts.author[p] >= 0) want_b[s->posts.author[p]][s->posts.thread[p]] += 1;
    fora_bigraph_t b;
    ASSERT_OK(fora_graph_member_thread(s, NULL, &b, &d), &d);
    for (igraph_integer_t e = 0; e < igraph_ecount(&b.graph); e++) {
        igraph_integer_t x, y;
        ASSERT_EQ(igraph_edge(&b.graph, e, &x, &y), IGRAPH_SUCCESS);
        ASSERT(x < M && y >= M);
        got_b[x][y - M] = VECTOR(b.weight)[e];
    }
    ASSERT(memcmp(want_b, got_b, sizeof(want_b)) == 0);
    fora_bigraph_destroy(&b);
    fora_snapshot_destroy(s);
}

int main(void)
{
    igraph_set_error_handler(igraph_error_handler_printignore);
    FORA_RUN(test_reply_target);
    FORA_RUN(test_first_post_not_by_starter);
    FORA_RUN(test_rules);
    FORA_RUN(test_undirected);
    FORA_RUN(test_member_thread);
    FORA_RUN(test_summary);
    FORA_RUN(test_rule_names);
    FORA_RUN(test_undirected_empty);
    FORA_RUN(test_random_against_naive);
    return 0;
}
