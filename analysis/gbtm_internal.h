/*
 * analysis/gbtm_internal.h - private: the working state of a GBTM fit, shared
 * by analysis/gbtm.c (data, likelihood, EM) and analysis/gbtm_fit.c (starts,
 * polish, standard errors, results).
 *
 * Members are stored sparsely as patterns: the runs of at-risk periods
 * [a, b) and the "special" at-risk cells whose count or offset is nonzero.
 * Every per-cell sum is the sum of the (0 count, 0 offset) value over the
 * runs, from prefix sums over periods, plus a correction at the special
 * cells; so an E-step costs O(K (runs + special cells)), not O(K n T).
 */
#ifndef FORA_GBTM_INTERNAL_H
#define FORA_GBTM_INTERNAL_H

#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fora/gbtm.h"

typedef struct fora__gbtm_pattern {
    double w;       /* members with this pattern */
    double lconst;  /* -sum log y! over its cells */
    uint32_t run0;  /* first run (index into runs / 2) */
    uint32_t nrun;  /* runs */
    uint32_t cell0; /* first special cell */
    uint32_t ncell; /* special cells */
    int32_t ncount; /* at-risk cells */
    uint32_t noff;  /* special cells with a nonzero offset */
    double S[4];    /* sum over its cells of y x^k, k = 0..3 */
} fora__gbtm_pattern_t;

typedef struct fora__gbtm_cell {
    double y, off;
    int32_t t;
} fora__gbtm_cell_t;

typedef struct fora__gbtm_ctx {
    fora_gbtm_model_t model;
    size_t K, T, P, npar;
    int order[FORA_GBTM_MAX_GROUPS];
    int zorder; /* ZIP: order of the zero-inflation logit (zoff[j]..zoff[j]+zorder) */
    size_t boff[FORA_GBTM_MAX_GROUPS]; /* index of b_j0 in theta */
    size_t zoff[FORA_GBTM_MAX_GROUPS]; /* index of g_j / tau_j (ZIP models) */
    double *X;                         /* T x 4: 1, x, x^2, x^3 */
    fora__gbtm_pattern_t *pat;         /* P */
    int32_t *runs;                     /* 2 per run: a, b */
    fora__gbtm_cell_t *cells;
    int32_t *member_pattern; /* n: the pattern of each member */
    size_t n;
    double N;       /* members */
    int64_t ncells; /* at-risk cells */
    /* working arrays */
    double *logpi;             /* K */
    double *eta, *s, *l0, *r0; /* K x T at the current theta */
    double *pos;               /* K x T: log f(y, 0) - l0 - y eta for y > 0 */
    double *pref;              /* K x (T+1) prefix sums of l0 */
    double *post;              /* P x K posteriors */
    double *Nj;                /* K: sum of weights x posteriors */
    double *beta;              /* K x 4: b_j0..b_jd, zero above d */
    double *Ym;                /* K x 4: sum_i w_i post_ij S_i (the counts' moments) */
    double *W, *E, *R;         /* K x T aggregated statistics */
    double *diff;              /* K x (T+1) */
} fora__gbtm_ctx_t;

/* log tau of ZIP(tau) stays in [-KAPPA_MAX, KAPPA_MAX]: tau = e^-30 is 0 for
 * every purpose (the zero probability is then 1/2), and the fit reports a
 * parameter at that bound as on the boundary, without a standard error. */
#define FORA_GBTM_KAPPA_MAX 30.0

static inline double fora__gbtm_clamp_kappa(double kappa)
{
    return kappa > FORA_GBTM_KAPPA_MAX
               ? FORA_GBTM_KAPPA_MAX
               : (kappa < -FORA_GBTM_KAPPA_MAX ? -FORA_GBTM_KAPPA_MAX : kappa);
}

/* tau = exp(kappa) of ZIP(tau), as crimCV parameterises it (tau > 0). */
static inline double fora__gbtm_tau(double kappa)
{
    return exp(fora__gbtm_clamp_kappa(kappa));
}

/* Validates data and options for K groups and builds ctx (patterns and work arrays). */
fora_err_t fora__gbtm_ctx_init(fora__gbtm_ctx_t *c, const fora_gbtm_data_t *d, size_t K,
                               const fora_gbtm_opts_t *o, fora_diag_t *diag);
void fora__gbtm_ctx_destroy(fora__gbtm_ctx_t *c);
/*
 * A second context over c's data (shared, read-only: X, patterns, cells)
 * with working arrays of its own, so that another thread can run EM on c's
 * data while c is in use.  Freed with fora__gbtm_ctx_worker_destroy() before
 * c is destroyed.  ENOMEM.
 */
fora_err_t fora__gbtm_ctx_worker(const fora__gbtm_ctx_t *c, fora__gbtm_ctx_t *w);
void fora__gbtm_ctx_worker_destroy(fora__gbtm_ctx_t *w);
/* A context for nsample members drawn uniformly with replacement from c's
 * members (patterns weighted by how often they were drawn); member_pattern is
 * NULL.  Used for the short runs of the starts on large data. */
fora_err_t fora__gbtm_ctx_subsample(const fora__gbtm_ctx_t *c, size_t nsample, gsl_rng *rng,
                                    fora__gbtm_ctx_t *sub, fora_diag_t *diag);

/* Computes eta, s, l0, r0, pref and logpi from theta. */
void fora__gbtm_set_params(fora__gbtm_ctx_t *c, const double *theta);
/* Posteriors at the current parameters; returns the log-likelihood. */
double fora__gbtm_estep(fora__gbtm_ctx_t *c);
/* Aggregates W, Y, E, R, Nj from the posteriors; poisson_only ignores zero inflation. */
void fora__gbtm_accumulate(fora__gbtm_ctx_t *c, bool poisson_only);
/* The gradient of the log-likelihood from the aggregated statistics (Fisher's identity). */
void fora__gbtm_gradient(const fora__gbtm_ctx_t *c, const double *theta, double *grad);
/* loglik (and gradient when grad != NULL) at theta: set_params + estep (+ accumulate + gradient).
 */
double fora__gbtm_eval(fora__gbtm_ctx_t *c, const double *theta, double *grad);
/* The M-step: new proportions and group parameters from the aggregated statistics.
 * poisson_init fits only the Poisson part (for starts). */
void fora__gbtm_mstep(fora__gbtm_ctx_t *c, double *theta, bool poisson_init);

#endif /* FORA_GBTM_INTERNAL_H */
