/*
 * fora/disruption.h - removal simulations: how the reply network falls apart
 * when members are removed by a strategy.
 *
 * The network is fora_netgraph_t's undirected graph U (n vertices = network
 * members).  A strategy gives a removal order; after removing the first
 * r members (r on the step grid) we report
 *   lcc_share    largest component size / n (the ORIGINAL n)
 *   components   number of components of the remaining graph (isolated
 *                members count as components)
 *   fragmentation F of the remaining graph (keyplayer.h), over n - r
 *   lost_replies share of the reply volume (sum of R's weights) whose author
 *                or target has been removed
 * Whole curves for a fixed order come from one pass: the members are added
 * back in reverse order with a union-find (O((n + m) α(n)) for all n steps),
 * and the grid points are read off on the way.
 *
 * Step grid: removal counts r = 0, 1, ..., max_removed (step 1 while r <=
 * 100, then every ceil(max_removed/200)), max_removed = ceil(max_fraction n)
 * (default max_fraction 0.2).  Robustness R = (1/n) sum_{r=1..n} lcc(r)/n
 * (Schneider et al. 2011) over the full order (every r, not just the grid),
 * so R lies in [0, 1/2] for a connected start and smaller is more fragile.
 *
 * Strategies (the order is computed once, on the intact network, unless
 * "recomputed"):
 *   degree            degree in U, descending
 *   pagerank          c->pagerank descending
 *   betweenness       c->betweenness descending (static)
 *   betweenness_recomputed
 *                     the betweenness of the remaining graph is recomputed
 *                     after every `recompute_every` removals (0: every
 *                     max(1, ceil(max_removed / 10))), exactly when n - r <=
 *                     exact_max, else from recompute_samples sources drawn
 *                     among the remaining members (scaled by (n - r)/k), and
 *                     the next members are taken in that order (ties by
 *                     vertex index); after max_removed the rest follows the
 *                     last order
 *   composite         composite rank (keyplayer.h)
 *   kpp_neg           the KPP-Neg set in its order, then by degree
 *   random            repetitions seeded orders (seed, seed+1, ...):
 *                     mean and standard deviation per grid step and of R
 * Ties in degree/pagerank/betweenness are broken by vertex index.
 *
 * Ownership: results are caller storage, released by fora_disruption_destroy().
 * Thread safety: igraph (recomputed betweenness): analysis thread only.  No I/O.
 */
#ifndef FORA_DISRUPTION_H
#define FORA_DISRUPTION_H

#include <stdbool.h>
#include <stdint.h>

#include "fora/centrality.h"
#include "fora/error.h"
#include "fora/keyplayer.h"

typedef enum fora_strategy {
    FORA_STRATEGY_DEGREE = 0,
    FORA_STRATEGY_PAGERANK,
    FORA_STRATEGY_BETWEENNESS,
    FORA_STRATEGY_BETWEENNESS_RECOMPUTED,
    FORA_STRATEGY_COMPOSITE,
    FORA_STRATEGY_KPP_NEG,
    FORA_STRATEGY_RANDOM,
    FORA_STRATEGY_COUNT
} fora_strategy_t;

const char *fora_strategy_name(fora_strategy_t st);
fora_err_t fora_strategy_parse(const char *name, fora_strategy_t *out,
                               fora_diag_t *diag) FORA_MUST_CHECK;

typedef struct fora_disruption_opts {
    double max_fraction;       /* (0, 1]; default 0.2 */
    int32_t repetitions;       /* random orders, >= 1; default 10 */
    uint64_t seed;             /* first random order's seed; default 1 */
    int32_t exact_max;         /* recomputed betweenness exact up to this n; default 5000 */
    int32_t recompute_samples; /* sources of the sampled recomputation; default 50 */
    int32_t recompute_every;   /* removals between recomputations; 0: see above; default 0 */
} fora_disruption_opts_t;

#define FORA_DISRUPTION_OPTS_INIT                                                                  \
    {                                                                                              \
        0.2, 10, 1, 5000, 50, 0                                                                    \
    }

void fora_disruption_opts_init(fora_disruption_opts_t *o);

/* One curve: values at the grid steps (mean over repetitions for random). */
typedef struct fora_curve {
    fora_strategy_t strategy;
    int32_t repetitions;   /* 1, or the random repetitions */
    double robustness;     /* R (mean for random) */
    double robustness_sd;  /* standard deviation of R over repetitions (0 otherwise) */
    double *lcc_share;     /* steps */
    double *components;    /* steps */
    double *fragmentation; /* steps */
    double *lost_replies;  /* steps */
    /* standard deviations over repetitions (random only; NULL otherwise) */
    double *lcc_share_sd;
    double *components_sd;
    double *fragmentation_sd;
    double *lost_replies_sd;
    int32_t *order; /* removal order (member indices), max_removed entries; NULL for random */
} fora_curve_t;

typedef struct fora_disruption {
    int32_t n;           /* network members */
    int32_t max_removed; /* last grid point */
    int32_t steps;       /* grid points */
    int32_t *removed;    /* steps: members removed at each grid point (removed[0] == 0) */
    fora_disruption_opts_t opts;
    int32_t n_curves;
    fora_curve_t curves[FORA_STRATEGY_COUNT]; /* in the order asked for */
} fora_disruption_t;

/*
 * Runs the strategies in `which` (n_which of them, no duplicates; NULL: all
 * seven in enum order).  composite and kpp may be NULL only when their
 * strategies are not asked for (EINVAL otherwise).  EINVAL for options out
 * of range; ENOMEM.  An empty network gives steps == 1 and zero curves.
 * Time complexity: O((n + m) α(n)) per fixed order (plus O(n log n) to
 * sort it), times repetitions for random; recomputed betweenness adds
 * (steps) x O(k m).
 */
fora_err_t fora_disruption_run(const fora_netgraph_t *g, const fora_centrality_t *c,
                               const fora_composite_t *composite, const fora_kpp_t *kpp,
                               const fora_strategy_t *which, int32_t n_which,
                               const fora_disruption_opts_t *o, fora_disruption_t *out,
                               fora_diag_t *diag) FORA_MUST_CHECK;
void fora_disruption_destroy(fora_disruption_t *d);

/*
 * The curve of one removal order (vertex ids of g->u, `len` distinct
 * entries; the remaining vertices are never removed) at the grid `removed`
 * (steps ascending counts <= len), by the reverse union-find pass.  Arrays
 * have `steps` entries; robustness gets R over the first len removals plus
 * the unremoved tail counted as if removed last in index order (NULL:
 * skipped).  ENOMEM.  Time complexity: O((n + m) α(n)).
 */
fora_err_t fora_disruption_curve(const fora_netgraph_t *g, const int32_t *order, int32_t len,
                                 const int32_t *removed, int32_t steps, double *lcc_share,
                                 double *components, double *fragmentation, double *lost_replies,
                                 double *robustness, fora_diag_t *diag) FORA_MUST_CHECK;

#endif /* FORA_DISRUPTION_H */
