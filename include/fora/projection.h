/*
 * fora/projection.h - the member co-participation graph: the member-thread
 * bipartite graph projected onto members with Newman's collaboration
 * weighting.
 *
 * Vertices are all members (vertex id == member index, as in graphs.h).  A
 * thread in which n >= 2 distinct members (not deleted accounts) posted in
 * the window [from, to) adds 1/(n-1) to the weight of each of its n(n-1)/2
 * member pairs (Newman 2001, "Scientific collaboration networks II"), so a
 * member's strength is the number of threads it shared with anyone.  Threads
 * with more than max_thread_members participants are left out (default 100),
 * so one huge thread does not make a clique of everyone; n_skipped counts
 * them.  The reply rule does not apply (every post counts as participation).
 * Edges are undirected, one per pair (a < b), ordered by (a, b); no loops.
 *
 * Ownership: *out is caller storage (fora_wgraph_destroy()).
 * Thread safety: igraph: analysis thread only.  Pure computation: no I/O.
 */
#ifndef FORA_PROJECTION_H
#define FORA_PROJECTION_H

#include <stdint.h>

#include "fora/error.h"
#include "fora/graphs.h"
#include "fora/snapshot.h"

#define FORA_PROJECTION_MAX_THREAD_MEMBERS 100

typedef struct fora_projection_info {
    int64_t threads_used;    /* threads with 2..max participants */
    int64_t threads_skipped; /* threads with more than max participants */
    int64_t pairs;           /* pairs contributed (before merging) */
} fora_projection_info_t;

/*
 * Builds the co-participation graph of s over o's window (NULL: whole
 * forum; only from/to are used).  max_thread_members >= 2, else EINVAL.
 * info may be NULL.  ENOMEM (also when the pairs would exceed 2^31).
 * Time complexity: O(M + P + Q log Q), Q = sum over used threads of n(n-1)/2.
 */
fora_err_t fora_graph_coparticipation(const fora_snapshot_t *s, const fora_graph_opts_t *o,
                                      int32_t max_thread_members, fora_wgraph_t *out,
                                      fora_projection_info_t *info,
                                      fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * The summary of the same projection without building it: *info and
 * *edges (distinct member pairs, == igraph_ecount() of the graph
 * fora_graph_coparticipation() builds).  For the recompute, which reports
 * only these: the graph of a 100 k member / 1 M post forum has ~10 M edges
 * and took ~730 MiB to build.  Memory O(M + P); time O(M + P log P + Q),
 * Q = sum over used threads of n(n-1).  EINVAL, ENOMEM as above.
 */
fora_err_t fora_coparticipation_count(const fora_snapshot_t *s, const fora_graph_opts_t *o,
                                      int32_t max_thread_members, fora_projection_info_t *info,
                                      int64_t *edges, fora_diag_t *diag) FORA_MUST_CHECK;

#endif /* FORA_PROJECTION_H */
