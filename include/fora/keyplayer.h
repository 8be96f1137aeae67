/*
 * fora/keyplayer.h - key-player ranking: composite rank, Borgatti's key-player
 * sets (KPP-Neg, KPP-Pos) and role validation against known staff.
 *
 * Everything is indexed by member index (0..s->members.n-1) and computed from
 * a fora_centrality_t (fora/centrality.h) and its fora_netgraph_t.
 *
 * Composite rank.  For each chosen metric m, member i's percentile
 *   p_m(i) = (#{j : x_j < x_i} + #{j : x_j == x_i} / 2) / N       in (0, 1)
 * over all N members (mid-distribution percentile: ties share one value;
 * for constraint, lower is better, so x = -constraint with NAN lowest).  The
 * composite score is sum_m w_m p_m(i) / sum_m w_m and rank 1 is the highest
 * score (ties broken by member index).  Default weights
 * (FORA_COMPOSITE_WEIGHTS_INIT): pagerank 0.2, betweenness 0.2, in_degree
 * 0.15, harmonic 0.15, out_degree 0.1, coreness 0.1, posts 0.1; others 0.
 *
 * KPP-Neg (Borgatti 2006), on the undirected network graph U with n vertices:
 *   F(S)  = 1 - sum_c s_c (s_c - 1) / (n (n - 1))      (components of U - S)
 *   DF(S) = 1 - sum_{i != j} (1/d_ij) / (n (n - 1))   (1/inf = 0)
 * with n counting the remaining vertices (n - |S|).  The set maximises F by
 * greedy selection (each step adds the vertex whose removal raises F most)
 * then swap improvement (replace a member of S by any outside vertex while
 * F rises; at most max_swap_passes passes).  Each evaluation of all n
 * candidate vertices is one iterative DFS (Tarjan's articulation points with
 * subtree sizes: removing v splits its component into the child subtrees c
 * with low[c] >= disc[v] and the rest), so a step costs O(n + m): tractable at
 * 100 k members.  DF of the chosen set is reported, exact for n <= exact_max,
 * else estimated from `samples` BFS sources (as in centrality.h).  Ties among
 * equally good vertices are broken by a seeded random priority.
 *
 * KPP-Pos: the k vertices reaching most others within d steps:
 *   reach(S)   = |{j : d(S, j) <= d}| / n
 *   dwreach(S) = sum_j [d(S, j) <= d] / max(d(S, j), 1) / n
 * (members of S reach themselves: distance 0, value 1, as in Borgatti 2006).
 * Both are monotone submodular coverage functions; greedy with lazy
 * evaluation over the `candidates` highest-degree vertices (0: all), then
 * swap improvement: each member of S against the 10 untaken candidates with
 * the highest last-known gain, accepting the first swap that raises the
 * objective.  Each gain is one BFS of depth d; each set evaluation a BFS of
 * depth d from every member of S.
 *
 * Role validation.  For a boolean label (is staff) per member, each metric
 * and the composite are scored by ROC AUC (the Mann-Whitney statistic with
 * midranks for ties: P(score of a staff member > a non-staff member) + 1/2
 * P(equal)), and precision at k (share of staff among the k highest, ties at
 * the cut broken by member index).  NAN AUC (serialise as null) when either
 * class is empty.
 *
 * Ownership: result structs are caller storage, initialised on success and
 * released by their _destroy (which accepts a zeroed struct).
 * Thread safety: igraph RNG and state: analysis thread only.  No I/O.
 */
#ifndef FORA_KEYPLAYER_H
#define FORA_KEYPLAYER_H

#include <stdbool.h>
#include <stdint.h>

#include "fora/centrality.h"
#include "fora/error.h"
#include "fora/snapshot.h"

/* The metrics a composite or a validation can use (columns of fora_centrality_t). */
typedef enum fora_metric {
    FORA_METRIC_POSTS = 0,
    FORA_METRIC_THREADS_STARTED,
    FORA_METRIC_THREADS,
    FORA_METRIC_BOARDS,
    FORA_METRIC_IN_DEGREE,
    FORA_METRIC_OUT_DEGREE,
    FORA_METRIC_IN_STRENGTH,
    FORA_METRIC_OUT_STRENGTH,
    FORA_METRIC_PAGERANK,
    FORA_METRIC_BETWEENNESS,
    FORA_METRIC_CLOSENESS,
    FORA_METRIC_HARMONIC,
    FORA_METRIC_EIGENVECTOR,
    FORA_METRIC_CORENESS,
    FORA_METRIC_CONSTRAINT, /* lower is more central */
    FORA_METRIC_EFFECTIVE_SIZE,
    FORA_METRIC_CLUSTERING,
    FORA_METRIC_COUNT
} fora_metric_t;

/* The parameter spelling of a metric ("pagerank", "in_degree", ...). */
const char *fora_metric_name(fora_metric_t m);
/* Parses a metric name; EINVAL naming the accepted names otherwise. */
fora_err_t fora_metric_parse(const char *name, fora_metric_t *out,
                             fora_diag_t *diag) FORA_MUST_CHECK;
/*
 * Member i's value of m as "higher is more central" (constraint negated;
 * NAN becomes -INFINITY).  O(1).
 */
double fora_metric_value(const fora_centrality_t *c, fora_metric_t m, int32_t i);

/* Weights of the composite, one per metric (>= 0, at least one > 0). */
typedef struct fora_composite_weights {
    double w[FORA_METRIC_COUNT];
} fora_composite_weights_t;

/* Sets the documented defaults. */
void fora_composite_weights_init(fora_composite_weights_t *w);
/*
 * Parses "pagerank:0.5,betweenness:0.5" (metrics not named get 0).  EINVAL
 * naming the bad item for an unknown metric, a weight that is negative or
 * not a finite number, or all weights 0.
 */
fora_err_t fora_composite_weights_parse(const char *spec, fora_composite_weights_t *out,
                                        fora_diag_t *diag) FORA_MUST_CHECK;

typedef struct fora_composite {
    int32_t n;                        /* members */
    fora_composite_weights_t weights; /* weights used */
    double *score;                    /* n: weighted mean percentile in (0, 1) */
    int32_t *rank;                    /* n: 1 = highest score */
    int32_t *order;                   /* n: member index by rank (order[0] has rank 1) */
    /* per-metric percentiles p_m(i): pct[m] is NULL when w[m] == 0, else n values */
    double *pct[FORA_METRIC_COUNT];
} fora_composite_t;

/*
 * Ranks every member of c by the weighted percentiles (w NULL: defaults).
 * EINVAL for negative, non-finite or all-zero weights; ENOMEM.
 * Time complexity: O(n log n) per metric with a weight.
 */
fora_err_t fora_composite_rank(const fora_centrality_t *c, const fora_composite_weights_t *w,
                               fora_composite_t *out, fora_diag_t *diag) FORA_MUST_CHECK;
void fora_composite_destroy(fora_composite_t *r);

/*
 * Percentiles p(i) of values x[0..n) as defined above (NAN counts as the
 * lowest value).  out has n entries.  ENOMEM.  O(n log n).
 */
fora_err_t fora_percentiles(const double *x, int32_t n, double *out,
                            fora_diag_t *diag) FORA_MUST_CHECK;

/* ----- KPP ----- */

typedef struct fora_kpp_opts {
    int32_t k;               /* set size, >= 1 (clamped to n); default 20 */
    int32_t max_swap_passes; /* swap improvement passes; default 3 (0: greedy only) */
    uint64_t seed;           /* tie-breaking priorities; default 1 */
    int32_t exact_max;       /* exact DF / dwreach evaluation up to this n; default 5000 */
    int32_t samples;         /* BFS sources for DF above exact_max; default 200 */
    int32_t d;               /* KPP-Pos reach radius, >= 1; default 2 */
    int32_t candidates;      /* KPP-Pos candidate pool (highest degree); 0: all; default 200 */
    bool distance_weighted;  /* KPP-Pos objective: dwreach instead of reach; default false */
} fora_kpp_opts_t;

#define FORA_KPP_OPTS_INIT                                                                         \
    {                                                                                              \
        20, 3, 1, 5000, 200, 2, 200, false                                                         \
    }

void fora_kpp_opts_init(fora_kpp_opts_t *o);

typedef struct fora_kpp {
    int32_t k;             /* members chosen (min(k, n)) */
    int32_t *members;      /* k member indices, in greedy order (swaps replace in place) */
    double *gain;          /* k: objective after the greedy step that chose members[i] */
    double objective;      /* final F (KPP-Neg) or reach/dwreach (KPP-Pos) */
    double objective_base; /* the objective of the empty set */
    double dwf;            /* KPP-Neg: DF of the final set (else 0) */
    double dwf_base;       /* KPP-Neg: DF of the intact network */
    bool dwf_sampled;      /* DF estimated from samples */
    int32_t samples;       /* sources used for DF */
    int32_t swaps;         /* improving swaps made */
    uint64_t seed;
} fora_kpp_t;

/*
 * KPP-Neg on g->u: see above.  EINVAL for k < 1; ENOMEM.  An empty network
 * gives k == 0 and objective 0.
 * Time complexity: O((k + passes k) (n + m)) for F, + O(samples m) for DF.
 */
fora_err_t fora_kpp_neg(const fora_netgraph_t *g, const fora_kpp_opts_t *o, fora_kpp_t *out,
                        fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * KPP-Pos on g->u: see above.  EINVAL for k < 1 or d < 1; ENOMEM.
 * Time complexity: O(candidates + k log candidates) BFS balls of depth d
 * (lazy greedy), plus passes * k * 10 set evaluations.
 */
fora_err_t fora_kpp_pos(const fora_netgraph_t *g, const fora_kpp_opts_t *o, fora_kpp_t *out,
                        fora_diag_t *diag) FORA_MUST_CHECK;
void fora_kpp_destroy(fora_kpp_t *r);

/*
 * F of the undirected graph u without the vertices removed[v] (NULL: none):
 * components by union-find.  O(n + m α).  1 - ... over the remaining n'; 0
 * when n' < 2.  Aborts (fora_panic) if its O(n) scratch cannot be allocated.
 */
double fora_fragmentation(const igraph_t *u, const bool *removed);

/* ----- role validation ----- */

/*
 * is_staff[i] for member i: true when its status label (fora_snapshot_member_status)
 * equals, ignoring case, one of the comma-separated labels in `labels`
 * (NULL: "administrator,admin,moderator,staff").  out has s->members.n entries.
 * Returns the number of staff members.  O(M * |labels|).
 */
int32_t fora_staff_labels(const fora_snapshot_t *s, const char *labels, bool *out);

typedef struct fora_validation_row {
    double auc;         /* ROC AUC, midranks for ties; NAN when a class is empty */
    double precision_k; /* share of staff among the top k (0 when k == 0) */
    int32_t hits_k;     /* staff among the top k */
} fora_validation_row_t;

typedef struct fora_validation {
    int32_t n_staff;   /* positives */
    int32_t n_members; /* all members scored */
    int32_t k;         /* k used for precision (default: n_staff) */
    fora_validation_row_t metric[FORA_METRIC_COUNT];
    fora_validation_row_t composite; /* scored by composite score (NULL composite: zeros) */
} fora_validation_t;

/*
 * Scores every metric of c (and the composite if not NULL) against
 * is_staff.  k <= 0 means k = n_staff.  ENOMEM.
 * Time complexity: O(FORA_METRIC_COUNT n log n).
 */
fora_err_t fora_validate_roles(const fora_centrality_t *c, const fora_composite_t *composite,
                               const bool *is_staff, int32_t k, fora_validation_t *out,
                               fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * ROC AUC of scores x[0..n) for labels y (midranks): NAN when all or none
 * are positive.  ENOMEM.  O(n log n).
 */
fora_err_t fora_roc_auc(const double *x, const bool *y, int32_t n, double *auc,
                        fora_diag_t *diag) FORA_MUST_CHECK;

#endif /* FORA_KEYPLAYER_H */
