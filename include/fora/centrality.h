/*
 * fora/centrality.h - per-member activity and network metrics of a forum.
 *
 * fora_centrality_compute() fills one fora_centrality_t: plain C arrays,
 * each indexed by member index 0..s->members.n-1 (as in graphs.h), so
 * member i's PageRank is c->pagerank[i] and its external id is
 * fora_snapshot_member_ext(s, i).
 *
 * The graphs (api-docs/keyplayers.md has the full definitions):
 *
 *  R   the member reply graph of fora_graph_reply() under the run's
 *      fora_graph_opts_t (reply rule, window; self-loops are always dropped
 *      here, whatever keep_self_loops says): directed, weight = replies.
 *  U   its undirected view (fora_graph_undirected()): one edge per pair of
 *      members joined in either direction, weight = replies both ways.
 *
 * The network population is the set of members with at least one edge in R
 * (in_network[i]); network metrics are computed on the subgraph of R (or U)
 * induced by it, so lurkers and members who only post alone do not dilute n.
 * n_network == its size.  Members outside it get 0 for every network metric
 * (and NAN for constraint, see below).  Activity counts (posts, threads,
 * boards) cover every member.
 *
 * Metric                 graph  direction   weights           normalisation
 * posts                  -      -           -                 count of posts in the window
 * threads_started        -      -           -                 threads whose starter is i and
 *                                                             whose created_at is in the window
 * threads, boards        -      -           -                 distinct threads / boards i posted in
 * in_degree, out_degree  R      in / out    none              distinct counterparts
 * in_strength, out_str.  R      in / out    replies           count of replies
 * pagerank               R      directed    replies           sums to 1 over the network;
 *                                                             damping 0.85; dangling members
 *                                                             teleport uniformly (power
 *                                                             iteration with power
 *                                                             extrapolation to an L1 change
 *                                                             < 1e-15 of a plain step: L1
 *                                                             error <= d/(1-d) 1e-15;
 *                                                             PRPACK if it fails)
 * betweenness            U      undirected  none (hops)       raw: each unordered pair once;
 *                                                             betweenness_norm = raw /
 *                                                             ((n-1)(n-2)/2), n = n_network
 * closeness              U      undirected  none (hops)       (r-1) / sum of distances to the
 *                                                             r-1 others of i's component (igraph)
 * closeness_wf           U      undirected  none (hops)       Wasserman-Faust:
 *                                                             closeness * (r-1)/(n-1) (NetworkX)
 * harmonic               U      undirected  none (hops)       sum over j != i of 1/d(i,j),
 *                                                             divided by n-1
 * eigenvector            U      undirected  replies           max 1 over the network (igraph
 *                                                             scale=true; ARPACK Lanczos to
 *                                                             a residual <= 1e-13 lambda);
 *                                                             0 outside the
 *                                                             component of the leading eigenvector
 * coreness               U      undirected  none              k-core number
 * constraint             U      undirected  replies           Burt's aggregate constraint; NAN
 *                                                             (undefined: serialise as null) for
 *                                                             members with no neighbour
 * effective_size         U      undirected  replies           Burt's effective size (weighted
 *                                                             form; Borgatti's n - 2t/n unweighted)
 * clustering             U      undirected  none              local clustering coefficient; 0 for
 *                                                             degree < 2
 * community              U      undirected  replies           Leiden (modularity objective,
 *                                                             seeded) label 0..n_communities-1,
 *                                                             numbered by decreasing size; -1
 *                                                             outside the network
 *
 * Betweenness, closeness, closeness_wf and harmonic are exact when
 * n_network <= opts.exact_max; above it they are estimated from k sampled
 * source members (without replacement, from the seeded igraph RNG):
 *  - betweenness: Brandes' accumulation from the sampled sources to all
 *    targets (what igraph_betweenness_subset computes, run on our own
 *    adjacency because igraph 0.10.2's was measured 19x slower than a BFS
 *    per source), scaled by n/k: an unbiased estimate.  With probability at least
 *    1 - delta, every member's betweenness_norm is within
 *    betweenness_error = n/(n-1) * sqrt(ln(2n/delta) / (2k)) of its exact
 *    value (Hoeffding's inequality, which holds for sampling without
 *    replacement, on the per-source dependency delta_s(v)/(n-2) in [0,1],
 *    with a union bound over the n members).
 *  - harmonic: the mean of 1/d(s,i) over the sampled sources s != i (the
 *    same k sources and BFS as betweenness); same Hoeffding bound
 *    harmonic_error with k-1 samples.
 *  - closeness (same sources): r is exact (component sizes); the mean
 *    distance to the
 *    component is estimated by the mean over sampled sources in i's
 *    component (a ratio estimator: consistent, no bound reported; members
 *    whose component holds no sampled source keep an exact BFS value when
 *    their component is small, see api-docs).
 *
 * Ownership: *out is caller storage; fora_centrality_compute() initialises
 * it on success (release with fora_centrality_destroy()) and leaves it
 * zeroed on failure.
 * Thread safety: uses igraph (process-wide state) and its default RNG, which
 * it reseeds from opts.seed: analysis thread only.
 * Pure computation: no I/O.
 */
#ifndef FORA_CENTRALITY_H
#define FORA_CENTRALITY_H

#include <stdbool.h>
#include <stdint.h>

#include "fora/error.h"
#include "fora/graphs.h"
#include "fora/snapshot.h"

typedef struct fora_centrality_opts {
    fora_graph_opts_t graph; /* reply rule and window (keep_self_loops is ignored) */
    uint64_t seed;           /* seeds igraph's default RNG (sampling, Leiden); default 1 */
    double damping;          /* PageRank damping, (0,1); default 0.85 */
    int32_t exact_max;       /* exact betweenness/closeness/harmonic up to this n; default 5000 */
    int32_t samples;         /* k sampled sources above exact_max; default 500 */
    double delta;            /* failure probability of the error bounds, (0,1); default 0.05 */
    double resolution;       /* Leiden modularity resolution (> 0); default 1 */
} fora_centrality_opts_t;

#define FORA_CENTRALITY_OPTS_INIT                                                                  \
    {                                                                                              \
        FORA_GRAPH_OPTS_INIT, 1, 0.85, 5000, 500, 0.05, 1.0                                        \
    }

void fora_centrality_opts_init(fora_centrality_opts_t *o);

typedef struct fora_centrality {
    int32_t n;         /* == s->members.n: length of every array below */
    int32_t n_network; /* members with at least one reply edge */
    int64_t n_edges;   /* distinct (source, target) pairs of R inside the network */
    int64_t n_uedges;  /* distinct pairs of U */

    /* metadata of the run, to report */
    uint64_t seed;              /* the seed used */
    double damping;             /* PageRank damping used */
    bool sampled;               /* betweenness/closeness/harmonic estimated from samples */
    int32_t samples;            /* k sources used (== n_network when exact) */
    double delta;               /* failure probability of the bounds */
    double betweenness_error;   /* bound on |betweenness_norm error| (0 when exact) */
    double harmonic_error;      /* bound on |harmonic error| (0 when exact) */
    int32_t n_communities;      /* communities found (0 when the network is empty) */
    double modularity;          /* modularity of `community` on U, weighted (resolution 1) */
    double resolution;          /* Leiden resolution used */
    bool eigenvector_converged; /* false: ARPACK did not converge, eigenvector is all 0 */

    /* CPU seconds of this process spent per step (for benchmarks; not results) */
    struct {
        double graphs; /* activity counts and the network graphs */
        double pagerank;
        double betweenness; /* exact or sampled */
        double paths;       /* closeness, closeness_wf, harmonic */
        double eigenvector;
        double coreness;
        double constraint;     /* constraint and effective size (one pass) */
        double effective_size; /* 0: included in constraint */
        double clustering;
        double communities; /* Leiden + modularity */
    } seconds;

    /* activity (all members) */
    int64_t *posts;
    int64_t *threads_started;
    int64_t *threads;
    int64_t *boards;

    /* network (0 outside the network unless said otherwise) */
    bool *in_network;
    int64_t *in_degree;
    int64_t *out_degree;
    double *in_strength;
    double *out_strength;
    double *pagerank;
    double *betweenness;
    double *betweenness_norm;
    double *closeness;
    double *closeness_wf;
    double *harmonic;
    double *eigenvector;
    int64_t *coreness;
    double *constraint; /* NAN without neighbours */
    double *effective_size;
    double *clustering;
    int32_t *community; /* -1 outside the network */
    int64_t *component; /* index of i's component of U by decreasing size, -1 outside */
} fora_centrality_t;

/*
 * Computes every metric above for snapshot s (finished) under o (NULL:
 * defaults).  EINVAL (naming the option) for a damping, delta or resolution
 * out of range or exact_max/samples < 1; ENOMEM; EINTERNAL for an igraph
 * failure.  An empty forum or a network of one member gives well-defined
 * arrays (zeros) and no error.
 * Time complexity: O(M + P) for the activity counts and graphs, plus
 * O(n m) for the exact path metrics (n = n_network, m = edges of U) or
 * O(k m) sampled, O(m log m) for Leiden, O(sum of squared degrees) for
 * effective size and clustering.
 */
fora_err_t fora_centrality_compute(const fora_snapshot_t *s, const fora_centrality_opts_t *o,
                                   fora_centrality_t *out, fora_diag_t *diag) FORA_MUST_CHECK;

/* Frees the arrays of c and zeroes it.  c may be zeroed already. */
void fora_centrality_destroy(fora_centrality_t *c);

/*
 * The network subgraphs used by fora_centrality_compute(), for the other
 * modules (key players, disruption): R and U restricted to the network,
 * vertex v of both is member net_member[v]; member_net[i] is the vertex of
 * member i or -1.  U is simple (no loops, no multi-edges).  Release with
 * fora_netgraph_destroy().
 */
typedef struct fora_netgraph {
    fora_wgraph_t r;      /* directed, weight = replies */
    fora_wgraph_t u;      /* undirected, weight = replies both ways */
    int32_t n_members;    /* s->members.n */
    int32_t n;            /* vertices (network members) */
    int32_t *net_member;  /* vertex -> member index, n entries */
    int32_t *member_net;  /* member index -> vertex or -1, n_members entries */
    double total_replies; /* sum of R's weights */
} fora_netgraph_t;

/*
 * Builds the network subgraphs of s under o (self-loops always dropped).
 * ENOMEM, EINTERNAL.  Time complexity: O(M + P).
 */
fora_err_t fora_netgraph_build(const fora_snapshot_t *s, const fora_graph_opts_t *o,
                               fora_netgraph_t *out, fora_diag_t *diag) FORA_MUST_CHECK;
void fora_netgraph_destroy(fora_netgraph_t *g);

/*
 * The sampled-source estimate of betweenness on an undirected, unweighted
 * simple graph: Brandes' accumulation from `k` sources drawn without
 * replacement from igraph's default RNG (seed it first), halved (pairs
 * counted once) and scaled by n/k.
 * With k >= n it is exact (igraph_betweenness).  res is resized to n.
 * Time complexity: O(k m).
 */
fora_err_t fora_betweenness_sampled(const igraph_t *g, int32_t k, igraph_vector_t *res,
                                    fora_diag_t *diag) FORA_MUST_CHECK;

#endif /* FORA_CENTRALITY_H */
