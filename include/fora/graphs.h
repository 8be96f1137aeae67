/*
 * fora/graphs.h - the igraph graphs built from a snapshot.
 *
 * Two graphs underlie the analyses:
 *
 *  - the member reply graph: directed, one vertex per member (vertex id ==
 *    member index, so every result maps back through the snapshot without a
 *    table), one edge per ordered pair (author -> target) with at least one
 *    reply, weighted by the number of replies;
 *  - the member-thread bipartite graph: undirected, vertices 0..M-1 are the
 *    members and M..M+T-1 the threads (vertex M+t is thread t), one edge per
 *    (member, thread) pair weighted by the member's posts in the thread.
 *
 * Who a post replies to (the reply rule, a documented run parameter):
 *
 *  FORA_REPLY_EXPLICIT_OR_STARTER (default)
 *      a post with reply_to replies to the author of that post; a post
 *      without reply_to replies to its thread's starter, except the
 *      thread's first post (the earliest by (created_at, id)) when the
 *      starter wrote it: that post opens the thread and answers nobody.
 *  FORA_REPLY_EXPLICIT_ONLY
 *      only posts with reply_to reply, to the author of that post.
 *  FORA_REPLY_STARTER_ONLY
 *      every post replies to its thread's starter (reply_to is ignored),
 *      with the same exception for the starter's opening post.
 *
 * In every rule a post has no target (and makes no edge) when its author or
 * its target is a deleted account, and when the target is its own author
 * (a self-reply) unless keep_self_loops is set.  The time window [from, to)
 * selects posts by their own created_at; the post answered may be older.
 *
 * Edges are produced by packing each (source, target) pair into a 64-bit key,
 * radix-sorting the keys and counting runs, then one igraph_create() call:
 * no per-edge igraph calls.  Edges come out ordered by (source, target),
 * which makes every graph, and so every analysis result, deterministic.
 *
 * Every function here takes a finished snapshot (fora_snapshot_finish()).
 *
 * Ownership: the graph structs are caller storage.  A builder initialises
 * *out on success (the caller then calls the matching _destroy) and leaves it
 * uninitialised on failure.  The snapshot must outlive nothing: graphs copy
 * what they need.
 * Thread safety: igraph 0.10.2 on Debian keeps process-wide error state;
 * build graphs on the analysis thread only.
 *
 * Pure computation: no I/O.
 */
#ifndef FORA_GRAPHS_H
#define FORA_GRAPHS_H

#include <stdbool.h>
#include <stdint.h>

#include <igraph/igraph.h>

#include "fora/error.h"
#include "fora/snapshot.h"

typedef enum fora_reply_rule {
    FORA_REPLY_EXPLICIT_OR_STARTER = 0,
    FORA_REPLY_EXPLICIT_ONLY = 1,
    FORA_REPLY_STARTER_ONLY = 2
} fora_reply_rule_t;

typedef struct fora_graph_opts {
    fora_reply_rule_t rule; /* default FORA_REPLY_EXPLICIT_OR_STARTER */
    bool keep_self_loops;   /* default false: self-replies are dropped */
    int64_t from;           /* window start (inclusive), FORA_TIME_NONE: open */
    int64_t to;             /* window end (exclusive), FORA_TIME_NONE: open */
} fora_graph_opts_t;

#define FORA_GRAPH_OPTS_INIT                                                                       \
    {                                                                                              \
        FORA_REPLY_EXPLICIT_OR_STARTER, false, FORA_TIME_NONE, FORA_TIME_NONE                      \
    }

/* Sets *o to the defaults (FORA_GRAPH_OPTS_INIT). */
void fora_graph_opts_init(fora_graph_opts_t *o);

/* The parameter spelling of a rule: "explicit_or_starter", "explicit_only", "starter_only". */
const char *fora_reply_rule_name(fora_reply_rule_t rule);

/* Parses a rule's name; EINVAL (naming the accepted values) otherwise. */
fora_err_t fora_reply_rule_parse(const char *name, fora_reply_rule_t *out,
                                 fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * The member post `post` replies to under o's rule and self-loop setting, or
 * -1 (no reply edge).  Ignores the time window.  O(1).
 */
int32_t fora_reply_target(const fora_snapshot_t *s, const fora_graph_opts_t *o, int32_t post);

/* A graph with one weight per edge (weight[e] belongs to edge e). */
typedef struct fora_wgraph {
    igraph_t graph;
    igraph_vector_t weight;
} fora_wgraph_t;

/* The member-thread graph; vertex v is member v for v < n_members, else thread v - n_members. */
typedef struct fora_bigraph {
    igraph_t graph;
    igraph_vector_t weight;     /* posts of the member in the thread */
    igraph_vector_bool_t types; /* false: member, true: thread */
    int32_t n_members;
    int32_t n_threads;
} fora_bigraph_t;

/*
 * Builds the directed member reply graph of s under o (NULL: defaults):
 * s->members.n vertices, edges ordered by (source, target), weight = replies.
 * ENOMEM; EINTERNAL for other igraph failures.
 * Time complexity: O(M + P) (radix sort of the replies).
 */
fora_err_t fora_graph_reply(const fora_snapshot_t *s, const fora_graph_opts_t *o,
                            fora_wgraph_t *out, fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * The undirected view of a weighted graph: one edge per unordered pair {a,b}
 * (a <= b) joined in either direction, weighted w(a->b) + w(b->a); a loop
 * keeps its weight; same vertices; edges ordered by (min, max).  `in` may be
 * directed or not; EINVAL when its weight vector does not have one entry per
 * edge.  Time complexity: O(V + E).
 */
fora_err_t fora_graph_undirected(const fora_wgraph_t *in, fora_wgraph_t *out,
                                 fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * Builds the member-thread bipartite graph of the posts in o's window (the
 * reply rule and self-loop setting do not apply; posts by deleted accounts
 * are left out).  Edges ordered by (member, thread).
 * Time complexity: O(M + T + P).
 */
fora_err_t fora_graph_member_thread(const fora_snapshot_t *s, const fora_graph_opts_t *o,
                                    fora_bigraph_t *out, fora_diag_t *diag) FORA_MUST_CHECK;

void fora_wgraph_destroy(fora_wgraph_t *g);
void fora_bigraph_destroy(fora_bigraph_t *g);

/*
 * What a recompute stores in run_summary.  boards, members and threads count
 * the whole snapshot; everything else is restricted to o's window.
 */
typedef struct fora_summary {
    int64_t boards;
    int64_t members;
    int64_t posting_members; /* distinct authors (not deleted) of posts in the window */
    int64_t threads;
    int64_t posts;                /* posts in the window */
    int64_t replies;              /* posts in the window with a target under the rule */
    int64_t events;               /* events in the window */
    int64_t first_post_at;        /* earliest post in the window, or FORA_TIME_NONE */
    int64_t last_post_at;         /* latest post in the window, or FORA_TIME_NONE */
    int64_t reply_graph_vertices; /* members with at least one reply edge (in or out) */
    int64_t reply_graph_edges;    /* distinct (source, target) pairs */
    int64_t reply_graph_weight;   /* sum of edge weights (== replies) */
    int64_t bipartite_edges;      /* distinct (member, thread) pairs */
} fora_summary_t;

/*
 * Fills *out without building igraph graphs (same edge rules as the
 * builders, so the counts agree with fora_graph_reply() and
 * fora_graph_member_thread()).  ENOMEM.  Time complexity: O(M + T + P).
 */
fora_err_t fora_graph_summary(const fora_snapshot_t *s, const fora_graph_opts_t *o,
                              fora_summary_t *out, fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * Converts an igraph error code: IGRAPH_SUCCESS -> FORA_OK, IGRAPH_ENOMEM ->
 * FORA_ENOMEM, anything else -> FORA_EINTERNAL; records "WHAT: igraph's
 * message" in diag.  Use it on every igraph call's result.
 */
fora_err_t fora_err_from_igraph(igraph_error_t e, fora_diag_t *diag, const char *what);

#endif /* FORA_GRAPHS_H */
