/*
 * fora/gbtm.h - group-based trajectory models (Nagin's GBTM; Jones & Nagin's
 * PROC TRAJ, R's crimCV and flexmix fit the same models).
 *
 * Data: counts y_it for members i = 1..n and periods t = 1..T, an optional
 * at-risk mask (cells not at risk are left out of the likelihood) and an
 * optional log-exposure offset o_it, and the time value x_t of each period.
 *
 * Model: K groups with proportions pi_j = exp(theta_j) / sum_k exp(theta_k),
 * theta_1 = 0 (multinomial logit).  In group j, log lambda_ijt = eta_jt + o_it
 * with eta_jt = b_j0 + b_j1 x_t + ... + b_jd x_t^d, d = order_j in 0..3, and
 *  - FORA_GBTM_POISSON: y ~ Poisson(lambda);
 *  - FORA_GBTM_ZIP:     y ~ ZIP(p_jt, lambda): zero with probability p_jt, else
 *                       Poisson; logit p_jt = g_j0 + g_j1 x_t + ... + g_jz x_t^z
 *                       with z = opts.zero_order (0: one constant per group);
 *  - FORA_GBTM_ZIPTAU:  crimCV's ZIP(tau) ("ZIPt"): logit p_jt = -tau_j eta_jt,
 *                       the zero inflation tied to the Poisson linear
 *                       predictor (without the offset), one tau_j > 0 per
 *                       group, parameterised as crimCV does by log tau_j.
 * The log-likelihood is sum_i log sum_j pi_j prod_{t at risk} f(y_it), with
 * the -log y! terms included (as flexmix and crimCV report it).
 *
 * Parameter vector theta (fora_gbtm_loglik, fora_gbtm_fit_t.theta):
 * theta_2..theta_K, then for each group j in order: b_j0..b_jd, then
 * g_j0..g_jz (ZIP) or log tau_j (ZIPTAU).  npar is its length.
 *
 * Fitting (api-docs/trajectories.md): members with identical counts, mask and
 * offsets are collapsed into weighted patterns; EM (one damped Newton step
 * per M-step on period-aggregated sufficient statistics, ZIP's zero
 * probability in closed form) is accelerated by SQUAREM and run until the
 * relative change of the log-likelihood is below opts.tol; Newton steps on
 * the full likelihood (analytic gradient, finite-difference Hessian) polish
 * the best ends.  Starts (emEM): 10 x opts.starts short runs of 30 EM maps
 * from k-means++ clusterings of summary features (log mean count, slope,
 * onset, last active period) and random assignments, on a subsample of 5000
 * members when there are more; the opts.starts best are run to convergence
 * on all members.  The best log-likelihood is kept and the starts within
 * 1e-6 (relative) of it are counted.  Groups are reported by increasing
 * mean of lambda_j(t) over the periods.
 *
 * Standard errors come from the inverse observed information: the
 * finite-difference (central) Jacobian of the analytic gradient, symmetrised.
 * Trajectory bands are 95 % (opts.conf) delta-method intervals of eta_jt,
 * exponentiated: exp(eta +- z se(eta)).
 *
 * Ownership: fora_gbtm_fit() allocates the result; fora_gbtm_fit_destroy()
 * frees it.  Thread safety: reentrant (each fit owns its RNG).  GSL's error
 * handler must be off (server/main.c does it): a singular information matrix
 * is reported as se_defined = false, never an abort.
 */
#ifndef FORA_GBTM_H
#define FORA_GBTM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fora/error.h"

#define FORA_GBTM_MAX_GROUPS 20
#define FORA_GBTM_MAX_ORDER 3
#define FORA_GBTM_MAX_STARTS 100000

typedef enum fora_gbtm_model {
    FORA_GBTM_POISSON,
    FORA_GBTM_ZIP,
    FORA_GBTM_ZIPTAU
} fora_gbtm_model_t;

/* The data; all arrays are borrowed and only read. */
typedef struct fora_gbtm_data {
    size_t nmembers;        /* n >= 1 */
    size_t nperiods;        /* T >= 1 */
    const double *counts;   /* n x T row-major; where at risk: finite integers >= 0 */
    const uint8_t *at_risk; /* n x T, nonzero = at risk; NULL = every cell at risk */
    const double *offset;   /* n x T log exposure (finite where at risk); NULL = 0 */
    const double *time;     /* T finite time values x_t */
} fora_gbtm_data_t;

/* Options; fora_gbtm_opts_init() sets the defaults given in brackets. */
typedef struct fora_gbtm_opts {
    fora_gbtm_model_t model; /* [FORA_GBTM_POISSON] */
    int order;               /* polynomial order of every group, 0..3 [2] */
    const int *orders;       /* K orders, one per group, overriding `order`; [NULL] */
    int zero_order;          /* ZIP: order z of the zero-inflation logit in time, 0..3 [0] */
    size_t starts;           /* seeded starts, 1..FORA_GBTM_MAX_STARTS [10] */
    uint64_t seed;           /* [1]; the fit for K uses seed and K */
    int max_iter;            /* EM iterations per start [5000] */
    double tol;              /* EM stops at |dl| < tol |l| [1e-10] */
    double conf;             /* level of the trajectory bands, 0 < conf < 1 [0.95] */
    bool collapse;           /* collapse identical members into patterns [true] */
    bool se;                 /* compute standard errors and bands [true] */
} fora_gbtm_opts_t;

/* One group of a fitted model. */
typedef struct fora_gbtm_group {
    int order;             /* d */
    double pi, pi_se;      /* proportion and its delta-method standard error */
    double assigned_share; /* share of members whose largest posterior is this group */
    double avepp;          /* mean largest posterior of the members assigned here */
    double occ;            /* odds of correct classification: (avepp/(1-avepp)) / (pi/(1-pi)) */
    bool avepp_defined;    /* false when nobody is assigned here (avepp NAN) */
    bool occ_defined;      /* false when avepp or pi is 0 or 1 (occ NAN) */
    double *coef;          /* d+1 coefficients b_j0..b_jd */
    double *se;            /* d+1 standard errors (NAN unless fit->se_defined) */
    double zero_coef;      /* ZIP: g_j0, ZIPTAU: log tau_j; NAN for Poisson */
    double zero_se;        /* its standard error (NAN unless se_defined or Poisson) */
    int zero_order;        /* ZIP: z; 0 otherwise */
    double *zero_coefs;    /* ZIP: z+1 coefficients g_j0..g_jz; NULL otherwise */
    double *zero_ses;      /* ZIP: their standard errors (NAN unless se_defined); NULL otherwise */
    double *lambda;        /* T: exp(eta_jt), the Poisson mean without offset */
    double *lower, *upper; /* T: band of lambda (NAN unless se_defined) */
    double *zero_prob;     /* T: the zero-inflation probability p_jt (0 for Poisson) */
} fora_gbtm_group_t;

/* A fitted model with K groups. */
typedef struct fora_gbtm_fit {
    fora_gbtm_model_t model;
    size_t K, nmembers, nperiods;
    size_t npatterns;      /* distinct members after collapsing */
    int64_t ncells;        /* at-risk cells (person-periods) */
    double loglik;         /* at the best start */
    size_t npar;           /* length of theta */
    double bic;            /* -2 loglik + npar log(nmembers): the BIC (smaller is better) */
    double bic_cells;      /* -2 loglik + npar log(ncells) */
    double aic;            /* -2 loglik + 2 npar */
    double entropy;        /* relative entropy 1 - sum -w log w / (n log K) */
    bool entropy_defined;  /* false for K = 1 */
    bool converged;        /* the best start met tol (or the gradient test) */
    int iterations;        /* EM iterations of the best start */
    double grad_norm;      /* max |gradient| at the reported parameters */
    size_t starts;         /* starts run */
    size_t starts_failed;  /* starts that ended in a numerical failure */
    size_t starts_at_best; /* starts whose loglik is within 1e-6 (relative) of the best */
    size_t subsample;      /* members in the subsample of the short runs (0: all) */
    bool se_defined;       /* the observed information was positive definite */
    size_t boundary;       /* parameters on the boundary (log tau at +-30, a logit of pi < 1e-12):
                              held fixed for the information, their se NAN */
    double *theta;         /* npar parameters (layout above) */
    double *cov;           /* npar x npar inverse information (NULL unless se_defined) */
    fora_gbtm_group_t *groups; /* K groups */
    double *posterior;         /* n x K posterior probabilities, row-major */
    int32_t *assigned;         /* n: the group of largest posterior (first on ties) */
} fora_gbtm_fit_t;

void fora_gbtm_opts_init(fora_gbtm_opts_t *opts);

/* "poisson", "zip", "ziptau". */
const char *fora_gbtm_model_name(fora_gbtm_model_t model);

/* The number of parameters of a K-group model with these options (0 when K or an order is out of
 * range). */
size_t fora_gbtm_npar(size_t K, const fora_gbtm_opts_t *opts);

/*
 * Fits a K-group model.  EINVAL (parameter named in diag) for K outside
 * 1..FORA_GBTM_MAX_GROUPS, an order or zero_order outside 0..3 (zero_order
 * above 0 with a model other than ZIP), starts out of range, fewer
 * members than parameters, or bad data (cell named: negative, non-integer or
 * non-finite count, non-finite offset or time); ENUMERIC when every start
 * failed numerically; ENOMEM.  A fit that did not meet the tolerance is
 * returned with converged = false.
 * Time complexity: O(starts * iterations * K * (S + T d^2)) where S is the
 * number of at-risk runs plus cells with a nonzero count or offset over the
 * patterns, plus O(n T + n log n) to collapse and O(npar^2 (S K)) for the
 * standard errors.
 */
fora_err_t fora_gbtm_fit(const fora_gbtm_data_t *data, size_t K, const fora_gbtm_opts_t *opts,
                         fora_gbtm_fit_t **out, fora_diag_t *diag) FORA_MUST_CHECK;

void fora_gbtm_fit_destroy(fora_gbtm_fit_t *fit);

/*
 * The log-likelihood at theta (npar values, layout above) and, when grad is
 * not NULL, its analytic gradient (npar values).  Errors as fora_gbtm_fit().
 * Time complexity: O(n T + n log n + K (S + T d^2)).
 */
fora_err_t fora_gbtm_loglik(const fora_gbtm_data_t *data, size_t K, const fora_gbtm_opts_t *opts,
                            const double *theta, double *loglik, double *grad,
                            fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * Nagin's classification diagnostics from posterior probabilities post (n x K,
 * rows summing to 1), member weights w (NULL = 1 each) and proportions pi (K):
 * assigned_share, avepp, occ and their defined flags per group into groups[j]
 * (other fields untouched), and the relative entropy into *entropy
 * (*entropy_defined false for K = 1).  Time complexity: O(n K).
 */
void fora_gbtm_diagnostics(const double *post, const double *w, size_t n, size_t K,
                           const double *pi, fora_gbtm_group_t *groups, double *entropy,
                           bool *entropy_defined);

#endif /* FORA_GBTM_H */
