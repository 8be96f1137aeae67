/*
 * fora/trajectories.h - members' posting trajectories from a forum snapshot:
 * group-based trajectory models (fora/gbtm.h) over post counts per period,
 * activity groups labelled for analysts, and each member's own trend.
 *
 * Counts (api-docs/trajectories.md, "Forum trajectories"; "month" below
 * stands for the period of opts.period: UTC months, Monday-based weeks or
 * quarters):
 *  - month 0 is the month of the forum's first post by a member, the last
 *    is the month of its last post (T months);
 *  - member i's count in a month is the number of posts they wrote in it
 *    (posts of deleted accounts are not counted);
 *  - FORA_TRAJ_CALENDAR (default): period t is forum month t; months before
 *    the member's registration month (or, without a registration time or
 *    when they posted earlier, their first post's month) and months after
 *    the month they were banned are not at risk (masked);
 *  - FORA_TRAJ_CAREER: period k is the member's k-th month since the first
 *    month they are at risk in calendar time (the registration month, or the
 *    first post's month without a registration time or when they posted
 *    before registering); months past the forum's last month or after the
 *    ban month are not at risk.  (Counting from the first post instead would
 *    put at least one post in every member's month 0, an artefact that
 *    bends every low group's curve down.);
 *  - exposure: the member is at risk from the registration (or the first
 *    post when earlier or unknown; not before the forum's first post) to the
 *    ban (not before their last post) or the forum's last post; the first
 *    and last months at risk have the share of the month inside that span,
 *    in started days (at least one), as exposure, the others 1; with opts.exposure the
 *    log-mean gets + log(exposure) (the engine's offset);
 *  - members without posts are left out of the fit (they have no trajectory
 *    to tell apart; the forum's lurkers in the sense of "never posted" are
 *    counted in fora_traj_result_t.nonposting);
 *  - the time value of period t is t x (months per period) / 12 (years), so
 *    the polynomial coefficients and group slopes are per year.
 *
 * Model selection: K = kmin..kmax are fitted with the same options; the
 * selected model is the one of smallest BIC (N = members fitted) among those
 * whose smallest proportion pi_j is at least opts.min_share (K = 1 always
 * qualifies).  A K that cannot be fitted (fewer members than parameters, or
 * every start failed) is recorded as not fitted and ends the scan.
 *
 * Group profile (members assigned to the group by largest posterior):
 * size, pi, AvePP, OCC, mean onset month (forum month of the first post),
 * mean active duration (months from first to last post, inclusive), mean
 * total posts, rate (posts per calendar month of exposure, pooled; whole
 * periods without opts.exposure), share registered in
 * the forum's first week, share with a staff status (case-insensitive
 * "admin", "administrator", "moderator", "mod", "staff", "manager"), and the
 * slope of the fitted curve: the mean of d eta_j / d x over the periods,
 * weighted by the number of the group's members at risk in each period (log
 * change per year).  Its class: escalating when above log 1.25, declining when
 * below -log 1.25, stable otherwise.
 *
 * Labels (first matching rule wins; FORA_TRAJ_LABEL_RULES in the docs):
 *   1. rate < 0.1 posts/month                         -> "lurker"
 *   2. slope class escalating                          -> "escalator"
 *   3. slope class declining                           -> "declining"
 *   4. the highest-rate group (K >= 2), its mean onset in the first quarter
 *      of the forum's months, and rate >= 3 or staff share >= 0.5 -> "manager"
 *   5. rate >= 1                                       -> "vested"
 *   6. rate < 0.3                                      -> "browser"
 *   7. otherwise                                       -> "occasional"
 * Several groups may carry the same label.  opts.label_group/label_text
 * override the label of the groups named (1-based, in the served order):
 * label is then the analyst's, label_overridden is set and rule_label keeps
 * the rule's; a group beyond the selected K is counted in labels_ignored.
 * category_share[j * ncategories + c] is the share of group j's posts
 * written in boards of snapshot category c.
 *
 * Member trend: maximum-likelihood Poisson regression of the member's counts
 * on the period index (months) over their at-risk periods, log mu = a + b t,
 * by Newton's method; slope b per month with a 95 % Wald interval from the
 * observed information.  The slope is undefined (trend_defined false, slope
 * fields NAN) when fewer than two periods are at risk or every post falls in
 * the first or in the last at-risk period (the MLE is then infinite).
 * escalating = trend_defined and the interval's lower end is above 0.
 *
 * Ownership: fora_traj_compute() allocates the result (it owns the selected
 * fit); fora_traj_result_destroy() frees it.  Thread safety: reentrant; the
 * snapshot is only read.  Pure computation: no I/O.
 */
#ifndef FORA_TRAJECTORIES_H
#define FORA_TRAJECTORIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fora/error.h"
#include "fora/gbtm.h"
#include "fora/snapshot.h"

typedef enum fora_traj_time { FORA_TRAJ_CALENDAR, FORA_TRAJ_CAREER } fora_traj_time_t;

/* The length of a period: UTC calendar months, ISO weeks (Monday 00:00 UTC) or quarters. */
typedef enum fora_traj_period {
    FORA_TRAJ_MONTH,
    FORA_TRAJ_WEEK,
    FORA_TRAJ_QUARTER
} fora_traj_period_t;

#define FORA_TRAJ_LABEL_MAX 32 /* bytes of an overriding label, with its NUL */

/* Options; fora_traj_opts_init() sets the defaults in brackets. */
typedef struct fora_traj_opts {
    fora_traj_period_t period; /* [FORA_TRAJ_MONTH] */
    fora_traj_time_t time;     /* [FORA_TRAJ_CALENDAR] */
    fora_gbtm_model_t model;   /* any engine model [POISSON] */
    int zero_order;            /* ZIP: order of the zero-inflation logit in time, 0..3 [0] */
    int order;                 /* polynomial order 0..3 of every group [2] */
    /* per-group orders used for K = norders instead of `order` (norders 0: none) [0] */
    int orders[FORA_GBTM_MAX_GROUPS];
    size_t norders;
    int kmin, kmax;   /* 1 <= kmin <= kmax <= FORA_GBTM_MAX_GROUPS [1, 6] */
    size_t starts;    /* starts per K [5] */
    uint64_t seed;    /* [1] */
    double min_share; /* 0 <= x < 1 [0] */
    bool exposure;    /* log-exposure offset for partial periods [true] */
    /* analyst labels overriding the rules: group label_group[k] (1-based) gets label_text[k] */
    size_t nlabels;
    int label_group[FORA_GBTM_MAX_GROUPS];
    char label_text[FORA_GBTM_MAX_GROUPS][FORA_TRAJ_LABEL_MAX];
} fora_traj_opts_t;

/* One fitted (or attempted) K. */
typedef struct fora_traj_model {
    size_t K;
    bool fitted;   /* false: could not be fitted (see the header comment) */
    bool eligible; /* fitted and min_pi >= min_share */
    double loglik, bic, bic_cells, aic, entropy; /* entropy NAN for K = 1 */
    size_t npar;
    double min_pi;
    bool converged;
    size_t starts, starts_at_best;
} fora_traj_model_t;

typedef enum fora_traj_trend {
    FORA_TRAJ_DECLINING = -1,
    FORA_TRAJ_STABLE = 0,
    FORA_TRAJ_ESCALATING = 1
} fora_traj_trend_t;

/* A group of the selected model, in the engine's order (increasing mean lambda). */
typedef struct fora_traj_group {
    const char *label;      /* the label served: rule_label, or the analyst's (label_overridden) */
    const char *rule_label; /* static string, see the rules above */
    bool label_overridden;
    size_t size;                                        /* members assigned */
    double pi, avepp, occ;                              /* avepp/occ NAN when not defined */
    double mean_onset, mean_duration, mean_posts, rate; /* NAN when size == 0 */
    double first_week_share, staff_share;               /* NAN when size == 0 */
    double slope; /* fitted curve, log change per year (NAN when nobody is at risk) */
    fora_traj_trend_t trend;
} fora_traj_group_t;

/* A member who posted. */
typedef struct fora_traj_member {
    int32_t member;       /* snapshot member index */
    int32_t group;        /* assigned group */
    double posterior;     /* its posterior probability */
    int32_t onset;        /* forum month of the first post */
    int32_t last;         /* forum month of the last post */
    int32_t at_risk_from; /* first forum month at risk (calendar) */
    int64_t posts;
    bool first_week; /* registered (or, without a registration time, first posted) within 7
                        days of the forum's first post */
    bool trend_defined;
    double slope, slope_lo, slope_hi; /* per month; NAN unless trend_defined */
    bool escalating;
} fora_traj_member_t;

typedef struct fora_traj_result {
    fora_traj_time_t time;
    fora_traj_period_t period;
    int64_t first_month;        /* year * 12 + month (0-based) of the month of the first post */
    int64_t first_period;       /* absolute index of period 0 (fora_traj_period_of) */
    int64_t first_period_start; /* Unix time period 0 starts */
    int64_t start_time;         /* the forum's first post (Unix seconds) */
    size_t nperiods;            /* T */
    size_t nmembers;            /* members fitted (with posts) */
    size_t nonposting;          /* members left out: no posts */
    size_t nmodels;
    fora_traj_model_t *models;
    size_t selected;           /* index into models */
    fora_gbtm_fit_t *fit;      /* the selected fit (members in the order of `members`) */
    fora_traj_group_t *groups; /* fit->K */
    fora_traj_member_t *members;
    double *counts;   /* nmembers x T, the data fitted */
    uint8_t *at_risk; /* nmembers x T */
    double *exposure; /* nmembers x T at-risk share of each period (0 where not at risk) */
    /* K x ncategories: share of the group's posts written in boards of snapshot category c */
    size_t ncategories;
    double *category_share;
    size_t labels_ignored; /* analyst labels naming a group beyond the selected K */
    char label_buf[FORA_GBTM_MAX_GROUPS][FORA_TRAJ_LABEL_MAX]; /* the analyst's labels */
} fora_traj_result_t;

void fora_traj_opts_init(fora_traj_opts_t *opts);

/*
 * Sets option `name` of opts from text `value`: period (month|week|quarter),
 * time (calendar|career), model (poisson|zip|ziptau), zero_order (0..3),
 * order (one order 0..3, or a comma-separated list of one order per group,
 * e.g. "3,2,2,1", used for K = its length; the other K then use the
 * list's largest order), kmin, kmax (1..20), starts
 * (1..1000), min_share (0 <= x < 1), exposure (true|false), labels
 * ("1=manager,3=vested": group numbers 1..20, labels of 1..31 characters of
 * letters, digits, ' ', '_' and '-').  EINVAL with a message that starts
 * with `name` and states the accepted values.  Options are checked one at a
 * time; contradictions between them (kmin > kmax, an order list whose length
 * is outside kmin..kmax, zero_order > 0 without model zip) are EINVAL from
 * fora_traj_compute(), naming the parameter.  O(|value|).
 */
fora_err_t fora_traj_opts_set(fora_traj_opts_t *opts, const char *name, const char *value,
                              fora_diag_t *diag) FORA_MUST_CHECK;

/* "month", "week", "quarter". */
const char *fora_traj_period_name(fora_traj_period_t p);

/* The absolute index of the period holding Unix time t (months: year * 12 + month; quarters:
 * months / 3; weeks: Monday-based weeks since 1969-12-29), and the Unix time period index p
 * starts.  O(1). */
int64_t fora_traj_period_of(fora_traj_period_t kind, int64_t t);
int64_t fora_traj_period_start(fora_traj_period_t kind, int64_t p);

/* "calendar" or "career". */
const char *fora_traj_time_name(fora_traj_time_t t);
/* "declining", "stable", "escalating". */
const char *fora_traj_trend_name(fora_traj_trend_t t);

/* The forum month (year * 12 + month, 0-based) of Unix time t (UTC).  O(1). */
int64_t fora_traj_month_of(int64_t t);

/*
 * Builds the counts of snapshot s, fits K = kmin..kmax, selects, profiles and
 * labels the groups and computes every member's trend.  EINVAL for bad
 * options (named in diag) or a forum without posts by members; ENUMERIC when
 * even K = kmin cannot be fitted; ENOMEM.
 * Time complexity: O(P + M T) to count, the engine's cost per K (fora/gbtm.h),
 * and O(M T) Newton iterations for the trends (a bounded number each).
 */
fora_err_t fora_traj_compute(const fora_snapshot_t *s, const fora_traj_opts_t *opts,
                             fora_traj_result_t **out, fora_diag_t *diag) FORA_MUST_CHECK;

void fora_traj_result_destroy(fora_traj_result_t *r);

/*
 * The Poisson regression trend of one row (counts y, mask m (NULL = all at
 * risk), n periods, covariate t = 0..n-1): slope, 95 % interval; returns
 * false (outputs NAN) when undefined (see above).  O(n) per Newton step.
 */
bool fora_traj_trend(const double *y, const uint8_t *m, size_t n, double *slope, double *lo,
                     double *hi);

#endif /* FORA_TRAJECTORIES_H */
