/*
 * fora/rhythms.h - temporal patterns of a forum's activity, in local time:
 * series per hour, day, ISO week or month (optionally split into groups),
 * rolling means, linear trends, autocorrelation with confidence bands,
 * hour-of-day / day-of-week profiles and the 7 x 24 heat map with box-plot
 * statistics, and the share of activity that belongs to one group.
 *
 * Everything is computed from a finished snapshot, a time-zone table
 * (fora/tzmap.h) and parameters.  Definitions (api-docs/rhythms.md):
 *  - a bin is a local calendar period: an hour [HH:00, HH+1:00), a day, an
 *    ISO week (Monday 00:00 to Monday 00:00) or a month, of local wall-clock
 *    time.  A wall-clock period that never happened (wholly inside a
 *    spring-forward gap, e.g. 02:00-03:00 in Amsterdam on the last Sunday of
 *    March) is not a bin; the hour that happens twice at fall-back is one bin
 *    holding both (so a bin may span 0.5 to 2 real hours; day bins 23 to 25).
 *  - measures per bin: posts (every post, deleted authors included); active
 *    members (distinct authors of the bin's posts); new members (members
 *    whose first post in the snapshot falls in the bin, or, with
 *    new_members = REGISTRATION, whose registered_at does); new threads
 *    (threads whose created_at falls in the bin).
 *  - splits: by board category (a post's, a new thread's, and a new member's
 *    first post's board category; a member active in two categories is active
 *    in both); by member status (the author's, the starter's); or by an
 *    arbitrary per-member group array.  Deleted authors and members without a
 *    group (or, for categories, new members without posts) count in the
 *    totals only.
 *
 * Statistics use GSL: quantiles are gsl_stats_quantile_from_sorted_data
 * (R's type 7), trends gsl_fit_linear with Student t quantiles
 * (gsl_cdf_tdist_Pinv), bands gsl_cdf_ugaussian_Pinv.  Undefined values are
 * never NaN for a caller to trip over: each carries a `defined` flag and
 * the value is then 0.
 *
 * Ownership: each *_compute function allocates its result; the matching
 * *_destroy frees it.  Thread safety: reentrant (GSL's error handler must be
 * off, as server/main.c sets it).  Pure computation, no I/O.
 */
#ifndef FORA_RHYTHMS_H
#define FORA_RHYTHMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fora/error.h"
#include "fora/snapshot.h"
#include "fora/tzmap.h"

/* The largest series: 10 M bins (over 1000 years of hours). */
#define FORA_RHYTHM_MAX_BINS 10000000

typedef enum fora_bin {
    FORA_BIN_HOUR,
    FORA_BIN_DAY,
    FORA_BIN_WEEK, /* ISO week, Monday 00:00 local */
    FORA_BIN_MONTH
} fora_bin_t;

typedef enum fora_split {
    FORA_SPLIT_NONE,
    FORA_SPLIT_CATEGORY, /* board category */
    FORA_SPLIT_STATUS,   /* member status */
    FORA_SPLIT_GROUP     /* opts.member_group */
} fora_split_t;

typedef enum fora_new_member {
    FORA_NEW_MEMBER_FIRST_POST,  /* a member is new in the bin of their first post */
    FORA_NEW_MEMBER_REGISTRATION /* ... in the bin of their registered_at */
} fora_new_member_t;

typedef enum fora_measure {
    FORA_MEASURE_POSTS,
    FORA_MEASURE_ACTIVE,
    FORA_MEASURE_NEW_MEMBERS,
    FORA_MEASURE_NEW_THREADS,
    FORA_MEASURE_N
} fora_measure_t;

/* Names <-> values: "hour" "day" "week" "month"; "none" "category" "status"
 * "group"; "posts" "active_members" "new_members" "new_threads";
 * "first_post" "registration".  The parsers return EINVAL naming `param`
 * and the value, listing the allowed ones.  O(1). */
const char *fora_bin_name(fora_bin_t b);
const char *fora_split_name(fora_split_t s);
const char *fora_measure_name(fora_measure_t m);
fora_err_t fora_bin_parse(const char *s, const char *param, fora_bin_t *out,
                          fora_diag_t *diag) FORA_MUST_CHECK;
fora_err_t fora_split_parse(const char *s, const char *param, fora_split_t *out,
                            fora_diag_t *diag) FORA_MUST_CHECK;
fora_err_t fora_measure_parse(const char *s, const char *param, fora_measure_t *out,
                              fora_diag_t *diag) FORA_MUST_CHECK;
fora_err_t fora_new_member_parse(const char *s, const char *param, fora_new_member_t *out,
                                 fora_diag_t *diag) FORA_MUST_CHECK;

/* ---------------------------------------------------------------------- */
/* series                                                                   */
/* ---------------------------------------------------------------------- */

typedef struct fora_series_opts {
    fora_bin_t bin;                  /* FORA_BIN_WEEK */
    int64_t from, to;                /* UTC window [from, to); FORA_TIME_NONE: the first post /
                                        just after the last post */
    fora_split_t split;              /* FORA_SPLIT_NONE */
    const int32_t *member_group;     /* SPLIT_GROUP: group of member i in [0, ngroups), or -1 */
    int32_t ngroups;                 /* SPLIT_GROUP: the number of groups (>= 0) */
    const char *const *group_labels; /* SPLIT_GROUP: ngroups labels; NULL: "0", "1", ... */
    fora_new_member_t new_members;   /* FORA_NEW_MEMBER_FIRST_POST */
} fora_series_opts_t;

/* Sets the defaults above. */
void fora_series_opts_init(fora_series_opts_t *o);

typedef struct fora_series {
    fora_bin_t bin;
    char *zone;           /* the zone of the table used */
    size_t nbins;         /* 0 when the window holds no time (no posts and no window) */
    int64_t *local_start; /* nbins local seconds (fora/tzmap.h) at which each bin starts */
    int64_t *utc_start;   /* nbins: the first UTC instant of each bin */
    int64_t *utc_end;     /* nbins: the first UTC instant after it */
    int64_t *count[FORA_MEASURE_N]; /* count[m][b]: measure m in bin b, all members */
    fora_split_t split;
    size_t ngroups;                       /* 0 without a split */
    char **group_labels;                  /* ngroups labels */
    int64_t *group_count[FORA_MEASURE_N]; /* [m][g * nbins + b]; NULL without a split */
} fora_series_t;

/*
 * Counts the four measures per bin of s in local time of tz, over the bins
 * that overlap the window.  EINVAL for a bad option (naming it: "split",
 * "member_group", "from"/"to"); ETOOLARGE for more than FORA_RHYTHM_MAX_BINS
 * bins; ENOMEM.  An empty window gives nbins = 0 (not an error).
 * Time complexity: O(P log T + M + T log T + K) for P posts, M members, T
 * threads, K bins, with T the zone's segments (posts use a cursor, O(1)
 * amortised each) plus one or two radix sorts of P keys for the active members.
 * Memory: 16 bytes per post in the window (scratch; 24 with a category split), 8 * (4 + 4 G) per
 * bin.
 */
fora_err_t fora_series_compute(const fora_snapshot_t *s, const fora_tzmap_t *tz,
                               const fora_series_opts_t *opts, fora_series_t **out,
                               fora_diag_t *diag) FORA_MUST_CHECK;

/* Frees r.  r may be NULL.  O(groups). */
void fora_series_destroy(fora_series_t *r);

/*
 * Copies measure m of group g (-1: all members) as doubles into out (nbins
 * entries).  EINVAL for a bad group.  O(nbins).
 */
fora_err_t fora_series_values(const fora_series_t *r, fora_measure_t m, int32_t g, double *out,
                              fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * The share of group g (0 <= g < ngroups) in measure m per bin, group / all,
 * into out (nbins entries); defined[b] is false (and out[b] 0) where the bin
 * has none of the measure at all.  EINVAL for a bad group.  O(nbins).
 */
fora_err_t fora_series_share_values(const fora_series_t *r, fora_measure_t m, int32_t g,
                                    double *out, bool *defined, fora_diag_t *diag) FORA_MUST_CHECK;

/* ---------------------------------------------------------------------- */
/* statistics of a series                                                   */
/* ---------------------------------------------------------------------- */

typedef enum fora_align {
    FORA_ALIGN_RIGHT, /* the mean of x[i-w+1 .. i] (trailing; zoo's align = "right") */
    FORA_ALIGN_CENTER /* the mean of x[i-(w-1)/2 .. i+(w-1)/2], w odd */
} fora_align_t;

/*
 * The rolling mean of x[0..n) over `window` (>= 1) values into out[0..n);
 * defined[i] is false (and out[i] 0) where the window does not fit.
 * EINVAL for window 0 or an even window with CENTER.  O(n * window) (gsl_stats_mean per
 * window).
 */
fora_err_t fora_rolling_mean(const double *x, size_t n, size_t window, fora_align_t align,
                             double *out, bool *defined, fora_diag_t *diag) FORA_MUST_CHECK;

/* A least-squares line y = intercept + slope x with confidence intervals. */
typedef struct fora_trend {
    size_t n;     /* points used */
    bool defined; /* n >= 2 and the x values differ */
    double intercept, slope;
    bool ci_defined; /* n >= 3: the intervals below are defined */
    double slope_se, slope_lower, slope_upper;
    double intercept_se, intercept_lower, intercept_upper;
    double conf; /* the level used */
} fora_trend_t;

/*
 * Fits y on x (x NULL: 0, 1, ..., n-1) with gsl_fit_linear, skipping points
 * whose use[i] is false (use may be NULL); intervals are estimate +- t
 * (1 - (1 - conf)/2, n - 2) * se, as R's confint(lm()).  EINVAL for conf
 * outside (0, 1).  O(n).
 */
fora_err_t fora_trend_fit(const double *x, const double *y, const bool *use, size_t n, double conf,
                          fora_trend_t *out, fora_diag_t *diag) FORA_MUST_CHECK;

/* Autocorrelation of a series up to a maximum lag. */
typedef struct fora_acf {
    size_t n;           /* length of the series */
    size_t max_lag;     /* lags 0..max_lag (clipped to n - 1) */
    bool defined;       /* n >= 2 and the series is not constant */
    double *r;          /* max_lag + 1 values, r[0] = 1 (R's acf(), type "correlation") */
    double white95;     /* white-noise band +- z(0.975) / sqrt(n) */
    double white99;     /* +- z(0.995) / sqrt(n) */
    double *bartlett95; /* max_lag + 1: z(0.975) sqrt((1 + 2 sum_{j<k} r_j^2) / n) (0 at lag 0) */
    double *bartlett99;
    bool seasonal_defined; /* a dominant seasonal lag was found */
    size_t seasonal_lag;   /* the lag k >= 2 of the highest local maximum of r (r[k-1] < r[k]
                              >= r[k+1], k < max_lag) that exceeds white95 */
} fora_acf_t;

/*
 * The sample autocorrelation r_k = sum_{t<n-k} (x_t - m)(x_{t+k} - m) /
 * sum_t (x_t - m)^2 for k = 0..max_lag, with the bands above.  EINVAL for
 * max_lag 0.  O(n * max_lag).
 */
fora_err_t fora_acf_compute(const double *x, size_t n, size_t max_lag, fora_acf_t **out,
                            fora_diag_t *diag) FORA_MUST_CHECK;
void fora_acf_destroy(fora_acf_t *a);

/* ---------------------------------------------------------------------- */
/* profiles                                                                 */
/* ---------------------------------------------------------------------- */

typedef enum fora_profile_kind {
    FORA_PROFILE_HOUR_OF_DAY, /* 24 slots; samples: the hour bins of an hourly series */
    FORA_PROFILE_DAY_OF_WEEK, /* 7 slots (Monday first); samples: the day bins of a daily series */
    FORA_PROFILE_WEEK_HOUR    /* 168 slots, weekday * 24 + hour; samples: hour bins */
} fora_profile_kind_t;

/* Box-plot statistics of one slot over its samples (bins). */
typedef struct fora_box {
    size_t n;     /* samples (bins of this slot that exist and were kept) */
    bool defined; /* n >= 1; otherwise every value below is 0 */
    double mean, median, q1, q3, iqr;
    double min, max;
    double whisker_low;                 /* the smallest sample >= q1 - 1.5 iqr */
    double whisker_high;                /* the largest sample <= q3 + 1.5 iqr */
    size_t outliers_low, outliers_high; /* samples beyond the whiskers */
} fora_box_t;

typedef struct fora_profile {
    fora_profile_kind_t kind;
    size_t nslots;     /* 24, 7 or 168 */
    fora_box_t *slots; /* nslots */
    size_t samples;    /* bins of the series */
    size_t dropped;    /* of which dropped as the emptiest */
} fora_profile_t;

/*
 * Box-plot statistics per slot of measure m of group g (-1: all) of series
 * r (HOUR_OF_DAY and WEEK_HOUR need an hourly series, DAY_OF_WEEK a daily
 * one; EINVAL "bin" otherwise).  Before that, the floor(drop_pct / 100 *
 * nbins) bins with the smallest values are dropped (outages; ties: earlier
 * bins first); 0 <= drop_pct < 100, else EINVAL "drop".  Quartiles are
 * R's type 7.  O(K log K) for K bins.
 */
fora_err_t fora_profile_compute(const fora_series_t *r, fora_profile_kind_t kind, fora_measure_t m,
                                int32_t g, double drop_pct, fora_profile_t **out,
                                fora_diag_t *diag) FORA_MUST_CHECK;
void fora_profile_destroy(fora_profile_t *p);

/* Box-plot statistics of x[0..n) (sorted in place by gsl_sort).  O(n log n). */
void fora_box_stats(double *x, size_t n, fora_box_t *out);

/* The share of activity that belongs to one group, per slot. */
typedef struct fora_share {
    fora_profile_kind_t kind;
    size_t nslots;
    double *posts;       /* nslots: group posts / all posts over the slot's bins */
    bool *posts_defined; /* false where the slot has no posts */
    double *active;      /* nslots: sum of group active members / sum of all active */
    bool *active_defined;
    double posts_amplitude;       /* max / min of the defined posts shares */
    bool posts_amplitude_defined; /* at least one defined share and the minimum > 0 */
    double active_amplitude;
    bool active_amplitude_defined;
    size_t posts_max_slot, posts_min_slot; /* where the extremes are (when defined) */
    size_t active_max_slot, active_min_slot;
} fora_share_t;

/*
 * The share of group g (0 <= g < ngroups of a split series) per slot of
 * `kind` (series bins as for fora_profile_compute).  EINVAL for a series
 * without a split or a bad group ("group").  O(K).
 */
fora_err_t fora_share_compute(const fora_series_t *r, fora_profile_kind_t kind, int32_t g,
                              fora_share_t **out, fora_diag_t *diag) FORA_MUST_CHECK;
void fora_share_destroy(fora_share_t *s);

/* The slot of a bin starting at local seconds L: hour, weekday or weekday * 24 + hour.  O(1). */
size_t fora_profile_slot(fora_profile_kind_t kind, int64_t L);

#endif /* FORA_RHYTHMS_H */
