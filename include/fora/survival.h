/*
 * fora/survival.h - Kaplan-Meier survival curves and the log-rank test, as
 * R's survival package computes them (survfit, print.survfit, summary.survfit
 * and survdiff with their defaults).
 *
 * Input is n right-censored observations: a time (finite, >= 0), an event
 * flag (1 = the event happened at that time, 0 = censored then) and,
 * optionally, a group index.  fora_survival_compute() returns
 *  - a Kaplan-Meier curve for all observations together and one per group,
 *    with a row at every distinct time (event or censoring only), exactly as
 *    survfit() lists them: n.risk counts everyone whose time is >= t (those
 *    censored at t are still at risk at t), S(t) = prod (1 - d/n),
 *    Greenwood's variance of log S, and the log-scale confidence interval
 *    (survfit's conf.type = "log") clipped to [0, 1];
 *  - each curve's median survival time with its confidence interval by the
 *    rule of print.survfit (R's survmean);
 *  - each curve evaluated at requested horizons (summary.survfit's `times`
 *    with extend = TRUE);
 *  - with two or more groups, the log-rank test (survdiff, rho = 0).
 * Like survfit, times that differ by no more than sqrt(DBL_EPSILON)
 * (absolutely, or relative to the mean distinct time) are first merged into
 * the smallest of them (R's aeqSurv, timefix = TRUE); opts.timefix = false
 * turns that off.
 *
 * Undefined values are never left for a caller to trip over as NaN: each
 * carries a flag (`se_defined`, `reached`, `p_defined`), and the value itself
 * is then NAN as well.
 *
 * Pure computation, no I/O.  Ownership: fora_survival_compute() allocates the
 * result; fora_survival_destroy() frees it with everything it points to.
 * Thread safety: reentrant; a result may be read from several threads.  GSL
 * computes the p-value and, for a singular variance matrix, the SVD: its
 * error handler must be off (gsl_set_error_handler_off(), as server/main.c
 * does at startup), or the underflow of a p-value below DBL_MIN aborts.
 */
#ifndef FORA_SURVIVAL_H
#define FORA_SURVIVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fora/error.h"

/* Options of fora_survival_compute(); fora_survival_opts_init() sets the defaults. */
typedef struct fora_survival_opts {
    double conf;            /* level of the confidence intervals, 0 < conf < 1 (0.95) */
    bool timefix;           /* merge nearly equal times as R's aeqSurv does (true) */
    const double *horizons; /* times at which to evaluate every curve, each >= 0; may be NULL */
    size_t nhorizons;       /* entries of horizons (0) */
} fora_survival_opts_t;

/* One row of a curve: the distinct time `time` and the estimate just after it. */
typedef struct fora_survival_row {
    double time;
    int64_t n_risk;     /* observations with time >= this time */
    int64_t n_event;    /* events at this time */
    int64_t n_censor;   /* censorings at this time */
    double surv;        /* Kaplan-Meier S(t), in [0, 1] */
    double std_err;     /* standard error of S(t): std_err_log * S(t) (summary.survfit's) */
    double std_err_log; /* Greenwood standard error of log S(t) (survfit()$std.err) */
    double lower;       /* confidence interval of S(t): S exp(-z std_err_log), */
    double upper;       /* and min(1, S exp(z std_err_log)) */
    double cum_event;   /* cumulative incidence 1 - S(t) */
    bool se_defined;    /* false once S(t) = 0: std_err, std_err_log, lower, upper are NAN */
} fora_survival_row_t;

/* A median survival time with its confidence interval; NAN where not reached. */
typedef struct fora_survival_median {
    double time;  /* first time with S <= 1/2 (the midpoint rule when S = 1/2 exactly) */
    double lower; /* the same time on the lower confidence curve */
    double upper; /* the same time on the upper confidence curve */
    bool reached, lower_reached, upper_reached;
} fora_survival_median_t;

/* A curve evaluated at a horizon h: the row of the last time <= h. */
typedef struct fora_survival_point {
    double time;      /* the horizon h */
    int64_t n_risk;   /* observations with time >= h (0 past the last time) */
    double surv;      /* 1 before the first time */
    double std_err;   /* 0 before the first time */
    double lower;     /* 1 before the first time */
    double upper;     /* 1 before the first time */
    double cum_event; /* 1 - surv */
    bool se_defined;  /* as in fora_survival_row_t */
    bool beyond_last; /* h is after the curve's last time (R needs extend = TRUE) */
} fora_survival_point_t;

/* The Kaplan-Meier curve of one group, or of all observations. */
typedef struct fora_survival_curve {
    int64_t n;                       /* observations */
    int64_t events;                  /* of which events */
    size_t nrows;                    /* distinct times (0 for an empty group) */
    fora_survival_row_t *rows;       /* nrows rows by increasing time */
    fora_survival_median_t median;   /* never reached for an empty group */
    fora_survival_point_t *horizons; /* opts.nhorizons points, in the order asked; may be NULL */
} fora_survival_curve_t;

/* The log-rank test of equal survival across the groups (survdiff, rho = 0). */
typedef struct fora_survival_logrank {
    size_t ngroups;   /* G, the groups of the result */
    int64_t *n;       /* G: observations per group */
    double *observed; /* G: events per group */
    double *expected; /* G: expected events under equal hazards */
    double *variance; /* G x G, row-major: the variance matrix of observed - expected */
    double chisq;     /* (O-E)' V^- (O-E) over the groups with expected > 0, first dropped */
    int df;           /* groups with expected > 0, minus 1 (0 when fewer than 2);
                         the rank of the reduced matrix when `generalised` */
    double p;         /* upper tail of chi-square(df) at chisq; 1 when df = 0, as in R */
    bool p_defined;   /* false when no group had an expected event (no events at all) */
    bool generalised; /* the reduced variance matrix was singular: a pseudo-inverse was used */
} fora_survival_logrank_t;

/* Everything fora_survival_compute() returns. */
typedef struct fora_survival {
    double conf;                      /* the confidence level used */
    size_t ngroups;                   /* G (0 when no groups were given) */
    fora_survival_curve_t all;        /* all observations together */
    fora_survival_curve_t *groups;    /* G curves, by group index; NULL when G = 0 */
    fora_survival_logrank_t *logrank; /* when G >= 2, else NULL */
} fora_survival_t;

/* Sets o to the defaults: conf 0.95, timefix on, no horizons. */
void fora_survival_opts_init(fora_survival_opts_t *o);

/*
 * Computes the curves, medians, horizons and (for ngroups >= 2) the log-rank
 * test of n observations: time[i] (finite, >= 0), event[i] (0 or 1) and
 * group[i] (0 <= group[i] < ngroups).  group must be NULL when ngroups is 0
 * (then there are no group curves); NULL with ngroups >= 1 puts every
 * observation in group 0.  Groups without observations get an empty curve and take no
 * part in the test.  n = 0 gives empty curves.
 *
 * Returns FORA_OK and a new result in *out (free it with
 * fora_survival_destroy()); EINVAL for a bad observation or option (diag
 * names the observation's index or the option); ETOOLARGE when n >= 2^32;
 * ENOMEM.  *out is untouched on error.
 *
 * Time complexity: O(n) for the radix sort of the times (at most 6 passes),
 * O(n) for the curves, O(E * A^2 + E * G) for the log-rank test, where E is
 * the number of distinct event times, G the groups and A the most groups at
 * risk at once, plus O(G^3) to solve for the chi-square.  Memory: about 32
 * bytes per observation of scratch, 80 bytes per row, and G^2 doubles.
 */
fora_err_t fora_survival_compute(const double *time, const uint8_t *event, const int32_t *group,
                                 size_t n, size_t ngroups, const fora_survival_opts_t *opts,
                                 fora_survival_t **out, fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * Evaluates curve c at time h (summary.survfit's `times`, extend = TRUE):
 * the estimate of the last row with time <= h, and the number at risk at h;
 * before the first time S = 1 with the interval [1, 1].  O(log nrows).
 */
void fora_survival_curve_at(const fora_survival_curve_t *c, double h, fora_survival_point_t *out);

/* Frees s and everything it points to.  s may be NULL. */
void fora_survival_destroy(fora_survival_t *s);

#endif /* FORA_SURVIVAL_H */
