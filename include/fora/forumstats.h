/*
 * fora/forumstats.h - communities, thread statistics and concentration of
 * activity in one forum.
 *
 * Communities: the Leiden partition of fora_centrality_t (community[i]),
 * summarised: per community its size, its internal reply weight, and its
 * top members by PageRank (ties by member index).  Modularity is
 * c->modularity (undirected view U, weighted by replies, resolution 1).
 *
 * Threads (posts in the graph window; deleted accounts' posts count as posts
 * but not as participants):
 *   size[t]         posts of thread t in the window
 *   participants[t] distinct (non-deleted) authors
 *   activity[t]     mean, over t's participants, of their total posts in the
 *                   window (the "how active are the people a thread draws")
 * Only threads with at least one post in the window are described.
 * spearman = Spearman's rho between size and activity over those threads
 * (gsl_stats_spearman: midranks for ties; NAN (null) with fewer than 3
 * threads or a constant column).  The binned curve groups threads by size
 * in logarithmic bins [1,2), [2,4), [4,8), ... and gives per bin the
 * number of threads and the mean and median activity.  The size
 * distribution is given as (size, number of threads) pairs, ascending.
 *
 * Concentration (members with at least one post in the window, posts per
 * member x, sorted ascending):
 *   gini   = sum_i (2i - n - 1) x_(i) / (n sum x)     (i = 1..n)
 *   top1 / top10 = share of posts by the ceil(1%) / ceil(10%) most active
 *   lorenz: up to `lorenz_points`+1 points (share of members, share of posts)
 *           at member shares 0, 1/L, ..., 1 (interpolated at member counts
 *           round(j n / L))
 *
 * Ownership: caller storage, released by the _destroy functions.
 * Thread safety: reentrant (no igraph).  Pure computation: no I/O.
 */
#ifndef FORA_FORUMSTATS_H
#define FORA_FORUMSTATS_H

#include <stdint.h>

#include "fora/centrality.h"
#include "fora/error.h"
#include "fora/graphs.h"
#include "fora/snapshot.h"

typedef struct fora_community_info {
    int32_t size;    /* members */
    double internal; /* reply weight (both ways) inside the community */
    double total;    /* sum of the members' strengths in U */
    int32_t n_top;   /* entries in top */
    int32_t top[10]; /* member indices by PageRank, descending */
} fora_community_info_t;

typedef struct fora_communities {
    int32_t n; /* communities */
    double modularity;
    uint64_t seed;
    fora_community_info_t *items; /* n, by label (0 = largest) */
} fora_communities_t;

/*
 * Summarises c's communities with up to `top` (1..10) members each.
 * EINVAL for a bad top; ENOMEM.  Time complexity: O(M log M + edges of U).
 */
fora_err_t fora_communities_summarise(const fora_netgraph_t *g, const fora_centrality_t *c,
                                      int32_t top, fora_communities_t *out,
                                      fora_diag_t *diag) FORA_MUST_CHECK;
void fora_communities_destroy(fora_communities_t *x);

typedef struct fora_size_bin {
    int64_t lo, hi;  /* sizes in [lo, hi) */
    int64_t threads; /* threads in the bin */
    double mean_activity;
    double median_activity;
} fora_size_bin_t;

typedef struct fora_thread_stats {
    int32_t n_threads; /* threads with posts in the window */
    int32_t *thread;   /* n_threads thread indices, ascending */
    int64_t *size;     /* n_threads */
    int32_t *participants;
    double *activity;
    double spearman;     /* NAN when undefined */
    int32_t n_sizes;     /* distinct sizes */
    int64_t *size_value; /* n_sizes, ascending */
    int64_t *size_count; /* n_sizes */
    int32_t n_bins;
    fora_size_bin_t *bins; /* n_bins */
} fora_thread_stats_t;

/*
 * Thread statistics of s over o's window (only from/to are used; NULL: all).
 * ENOMEM.  Time complexity: O(M + T + P + T log T).
 */
fora_err_t fora_thread_stats(const fora_snapshot_t *s, const fora_graph_opts_t *o,
                             fora_thread_stats_t *out, fora_diag_t *diag) FORA_MUST_CHECK;
void fora_thread_stats_destroy(fora_thread_stats_t *x);

typedef struct fora_concentration {
    int32_t n_active;  /* members with posts */
    int64_t posts;     /* their posts */
    double gini;       /* 0 when n_active < 2 or no posts */
    double top1_share; /* 0 when no posts */
    double top10_share;
    int32_t n_lorenz; /* points */
    double *lorenz_x; /* share of members, ascending 0..1 */
    double *lorenz_y; /* share of posts held by them */
} fora_concentration_t;

/*
 * Concentration of posts per member over o's window (NULL: all),
 * lorenz_points in 1..1000 (EINVAL otherwise); ENOMEM.
 * Time complexity: O(M log M + P).
 */
fora_err_t fora_concentration(const fora_snapshot_t *s, const fora_graph_opts_t *o,
                              int32_t lorenz_points, fora_concentration_t *out,
                              fora_diag_t *diag) FORA_MUST_CHECK;
void fora_concentration_destroy(fora_concentration_t *x);

#endif /* FORA_FORUMSTATS_H */
