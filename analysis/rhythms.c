/*
 * analysis/rhythms.c - activity series, their statistics and profiles
 * (see fora/rhythms.h).
 */
#include "fora/rhythms.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_fit.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "fora/idmap.h"

/* ---------------------------------------------------------------------- */
/* names                                                                    */
/* ---------------------------------------------------------------------- */

static const char *const bin_names[] = {"hour", "day", "week", "month"};
static const char *const split_names[] = {"none", "category", "status", "group"};
static const char *const measure_names[] = {"posts", "active_members", "new_members",
                                            "new_threads"};
static const char *const new_member_names[] = {"first_post", "registration"};

const char *fora_bin_name(fora_bin_t b)
{
    return (unsigned)b < 4 ? bin_names[b] : "?";
}
const char *fora_split_name(fora_split_t s)
{
    return (unsigned)s < 4 ? split_names[s] : "?";
}
const char *fora_measure_name(fora_measure_t m)
{
    return (unsigned)m < FORA_MEASURE_N ? measure_names[m] : "?";
}

fora_err_t fora_bin_parse(const char *s, const char *param, fora_bin_t *out, fora_diag_t *diag)
{
    int v = 0;
    fora_err_t e = fora_name_parse(s, param, bin_names, 4, &v, diag);
    if (e == FORA_OK) *out = (fora_bin_t)v;
    return e;
}
fora_err_t fora_split_parse(const char *s, const char *param, fora_split_t *out, fora_diag_t *diag)
{
    int v = 0;
    fora_err_t e = fora_name_parse(s, param, split_names, 4, &v, diag);
    if (e == FORA_OK) *out = (fora_split_t)v;
    return e;
}
fora_err_t fora_measure_parse(const char *s, const char *param, fora_measure_t *out,
                              fora_diag_t *diag)
{
    int v = 0;
    fora_err_t e = fora_name_parse(s, param, measure_names, FORA_MEASURE_N, &v, diag);
    if (e == FORA_OK) *out = (fora_measure_t)v;
    return e;
}
fora_err_t fora_new_member_parse(const char *s, const char *param, fora_new_member_t *out,
                                 fora_diag_t *diag)
{
    int v = 0;
    fora_err_t e = fora_name_parse(s, param, new_member_names, 2, &v, diag);
    if (e == FORA_OK) *out = (fora_new_member_t)v;
    return e;
}

/* ---------------------------------------------------------------------- */
/* bins                                                                     */
/* ---------------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return q;
}

/* The key of the bin holding local seconds L: consecutive bins have consecutive keys. */
static int64_t bin_key(fora_bin_t bin, int64_t L)
{
    switch (bin) {
    case FORA_BIN_HOUR:
        return floor_div(L, 3600);
    case FORA_BIN_DAY:
        return floor_div(L, 86400);
    case FORA_BIN_WEEK: /* day 0 is a Thursday: weeks start on days -3 + 7k */
        return floor_div(floor_div(L, 86400) + 3, 7);
    case FORA_BIN_MONTH: {
        fora_local_civil_t c;
        fora_tzmap_civil(L, &c);
        return c.year * 12 + (c.month - 1);
    }
    }
    return 0;
}

/* Local seconds at which bin `key` starts. */
static int64_t bin_start(fora_bin_t bin, int64_t key)
{
    switch (bin) {
    case FORA_BIN_HOUR:
        return key * 3600;
    case FORA_BIN_DAY:
        return key * 86400;
    case FORA_BIN_WEEK:
        return (key * 7 - 3) * 86400;
    case FORA_BIN_MONTH: {
        int64_t y = floor_div(key, 12);
        return fora_tzmap_days_from_civil(y, (int)(key - y * 12) + 1, 1) * 86400;
    }
    }
    return 0;
}

void fora_series_opts_init(fora_series_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->bin = FORA_BIN_WEEK;
    o->from = o->to = FORA_TIME_NONE;
    o->split = FORA_SPLIT_NONE;
    o->new_members = FORA_NEW_MEMBER_FIRST_POST;
}

void fora_series_destroy(fora_series_t *r)
{
    if (r == NULL) return;
    free(r->zone);
    free(r->local_start);
    free(r->utc_start);
    free(r->utc_end);
    for (int m = 0; m < FORA_MEASURE_N; m++) {
        free(r->count[m]);
        free(r->group_count[m]);
    }
    for (size_t g = 0; g < r->ngroups; g++)
        free(r->group_labels[g]);
    free(r->group_labels);
    free(r);
}

/* Everything the counting needs. */
typedef struct ctx {
    const fora_snapshot_t *s;
    const fora_tzmap_t *tz;
    const fora_series_opts_t *o;
    fora_series_t *r;
    int64_t from, to; /* the window, closed on both sides */
    int64_t k0, nkeys;
    int32_t *keyidx; /* key - k0 -> bin, or -1 when the bin does not exist */
} ctx_t;

/* The bin of time t in the window (the caller checks the window). */
static int32_t bin_of_local(const ctx_t *c, int64_t L)
{
    int64_t k = bin_key(c->r->bin, L) - c->k0;
    if (k < 0 || k >= c->nkeys) return -1;
    return c->keyidx[k];
}

static bool in_window(const ctx_t *c, int64_t t)
{
    return t != FORA_TIME_NONE && t >= c->from && t < c->to;
}

/* The group of member m under a member-based split, or -1. */
static int32_t member_group(const ctx_t *c, int32_t m)
{
    if (m < 0) return -1;
    switch (c->o->split) {
    case FORA_SPLIT_STATUS:
        return c->s->members.status[m];
    case FORA_SPLIT_GROUP:
        return c->o->member_group[m];
    default:
        return -1;
    }
}

static int32_t post_category(const fora_snapshot_t *s, int32_t p)
{
    return s->boards.category[s->threads.board[s->posts.thread[p]]];
}

static void add(ctx_t *c, fora_measure_t m, int32_t b, int32_t g)
{
    c->r->count[m][b]++;
    if (g >= 0) c->r->group_count[m][(size_t)g * c->r->nbins + (size_t)b]++;
}

/*
 * Counts distinct (slot, member) keys, slot = key >> 32: for each distinct
 * key calls back with the slot and the member.  keys are sorted in place.
 */
static void distinct_pairs(uint64_t *keys, uint64_t *tmp, size_t n, ctx_t *c, bool by_category)
{
    fora_radix_sort_u64(keys, NULL, n, tmp, NULL);
    fora_series_t *r = c->r;
    size_t C = r->ngroups;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && keys[i] == keys[i - 1]) continue;
        uint64_t slot = keys[i] >> 32;
        int32_t m = (int32_t)(keys[i] & 0xffffffffu);
        if (by_category) {
            size_t b = (size_t)(slot / C), g = (size_t)(slot % C);
            r->group_count[FORA_MEASURE_ACTIVE][g * r->nbins + b]++;
        } else {
            int32_t b = (int32_t)slot;
            r->count[FORA_MEASURE_ACTIVE][b]++;
            int32_t g = member_group(c, m);
            if (g >= 0) r->group_count[FORA_MEASURE_ACTIVE][(size_t)g * r->nbins + (size_t)b]++;
        }
    }
}

static fora_err_t check_opts(const fora_snapshot_t *s, const fora_series_opts_t *o,
                             fora_diag_t *diag)
{
    if ((unsigned)o->bin > FORA_BIN_MONTH)
        return fora_diag_set(diag, FORA_EINVAL, "invalid value for parameter \"bin\"");
    if ((unsigned)o->split > FORA_SPLIT_GROUP)
        return fora_diag_set(diag, FORA_EINVAL, "invalid value for parameter \"split\"");
    if ((unsigned)o->new_members > FORA_NEW_MEMBER_REGISTRATION)
        return fora_diag_set(diag, FORA_EINVAL, "invalid value for parameter \"new_members\"");
    if (o->split == FORA_SPLIT_GROUP) {
        if (o->ngroups < 0)
            return fora_diag_set(diag, FORA_EINVAL, "parameter \"ngroups\" is negative");
        if (o->member_group == NULL && s->members.n > 0)
            return fora_diag_set(diag, FORA_EINVAL,
                                 "split \"group\" needs a per-member group array");
        for (int32_t i = 0; i < s->members.n; i++)
            if (o->member_group[i] < -1 || o->member_group[i] >= o->ngroups)
                return fora_diag_set(
                    diag, FORA_EINVAL, "member_group: member \"%s\" has group %d, outside -1..%d",
                    fora_snapshot_member_ext(s, i), (int)o->member_group[i], (int)o->ngroups - 1);
    }
    if (o->from != FORA_TIME_NONE && o->to != FORA_TIME_NONE && o->from > o->to)
        return fora_diag_set(diag, FORA_EINVAL, "parameter \"from\" is after \"to\"");
    return FORA_OK;
}

static fora_err_t set_labels(ctx_t *c)
{
    const fora_snapshot_t *s = c->s;
    const fora_series_opts_t *o = c->o;
    fora_series_t *r = c->r;
    const fora_strpool_t *pool = NULL;
    switch (o->split) {
    case FORA_SPLIT_NONE:
        return FORA_OK;
    case FORA_SPLIT_CATEGORY:
        pool = &s->categories;
        r->ngroups = (size_t)pool->n;
        break;
    case FORA_SPLIT_STATUS:
        pool = &s->statuses;
        r->ngroups = (size_t)pool->n;
        break;
    case FORA_SPLIT_GROUP:
        r->ngroups = (size_t)o->ngroups;
        break;
    }
    r->group_labels = fora_xcalloc(r->ngroups + 1, sizeof(char *));
    for (size_t g = 0; g < r->ngroups; g++) {
        if (pool != NULL) {
            r->group_labels[g] = fora_xstrdup(fora_strpool_get(pool, (int32_t)g));
        } else if (o->group_labels != NULL) {
            r->group_labels[g] = fora_xstrdup(o->group_labels[g] ? o->group_labels[g] : "");
        } else {
            char buf[24];
            snprintf(buf, sizeof(buf), "%zu", g);
            r->group_labels[g] = fora_xstrdup(buf);
        }
    }
    return FORA_OK;
}

fora_err_t fora_series_compute(const fora_snapshot_t *s, const fora_tzmap_t *tz,
                               const fora_series_opts_t *opts, fora_series_t **out,
                               fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    fora_series_opts_t defaults;
    ctx_t c = {0};
    uint64_t *keys = NULL, *keys2 = NULL, *tmp = NULL;
    int32_t *first = NULL;
    if (opts == NULL) {
        fora_series_opts_init(&defaults);
        opts = &defaults;
    }
    if ((err = check_opts(s, opts, diag)) != FORA_OK) return err;

    fora_series_t *r = fora_xcalloc(1, sizeof(*r));
    r->bin = opts->bin;
    r->split = opts->split;
    r->zone = fora_xstrdup(tz->zone);
    c.s = s;
    c.tz = tz;
    c.o = opts;
    c.r = r;
    set_labels(&c);

    /* the window */
    int32_t P = s->posts.n;
    c.from = opts->from != FORA_TIME_NONE ? opts->from
             : P > 0                      ? s->posts.created_at[0]
                                          : FORA_TIME_NONE;
    c.to = opts->to != FORA_TIME_NONE ? opts->to
           : P > 0                    ? s->posts.created_at[P - 1] + 1
                                      : FORA_TIME_NONE;
    bool empty = c.from == FORA_TIME_NONE || c.to == FORA_TIME_NONE || c.from >= c.to;
    if (!empty) {
        /* local time can step back at an offset change, so take the extremes over
         * every segment the window touches, not just its two ends */
        int64_t Lmin = INT64_MAX, Lmax = INT64_MIN;
        size_t s0 = fora_tzmap_segment(tz, c.from), s1 = fora_tzmap_segment(tz, c.to - 1);
        for (size_t i = s0; i <= s1; i++) {
            int64_t a = i == s0 ? c.from : tz->start[i];
            int64_t z = i == s1 ? c.to - 1 : tz->start[i + 1] - 1;
            if (a + tz->offset[i] < Lmin) Lmin = a + tz->offset[i];
            if (z + tz->offset[i] > Lmax) Lmax = z + tz->offset[i];
        }
        int64_t k1 = bin_key(r->bin, Lmax);
        c.k0 = bin_key(r->bin, Lmin);
        c.nkeys = k1 - c.k0 + 1;
        if (c.nkeys > FORA_RHYTHM_MAX_BINS) {
            err = fora_diag_set(diag, FORA_ETOOLARGE,
                                "the window holds %lld %s bins, at most %d are allowed",
                                (long long)c.nkeys, fora_bin_name(r->bin), FORA_RHYTHM_MAX_BINS);
            goto out;
        }
        if (r->split == FORA_SPLIT_CATEGORY && r->ngroups > 0 &&
            (uint64_t)c.nkeys * r->ngroups >= (UINT64_C(1) << 32)) {
            err = fora_diag_set(diag, FORA_ETOOLARGE, "too many bins times categories");
            goto out;
        }
    }
    c.keyidx = fora_xmalloc((size_t)(c.nkeys > 0 ? c.nkeys : 1) * sizeof(int32_t));
    size_t nb = 0;
    for (int64_t k = 0; k < c.nkeys; k++) {
        int64_t L0 = bin_start(r->bin, c.k0 + k), L1 = bin_start(r->bin, c.k0 + k + 1);
        c.keyidx[k] = fora_tzmap_local_exists(tz, L0, L1) ? (int32_t)nb++ : -1;
    }
    r->nbins = nb;
    size_t alloc = nb > 0 ? nb : 1;
    r->local_start = fora_xmalloc(alloc * sizeof(int64_t));
    r->utc_start = fora_xmalloc(alloc * sizeof(int64_t));
    r->utc_end = fora_xmalloc(alloc * sizeof(int64_t));
    for (int64_t k = 0; k < c.nkeys; k++) {
        int32_t b = c.keyidx[k];
        if (b < 0) continue;
        int64_t L0 = bin_start(r->bin, c.k0 + k), L1 = bin_start(r->bin, c.k0 + k + 1);
        r->local_start[b] = L0;
        r->utc_start[b] = fora_tzmap_utc_of_local(tz, L0);
        r->utc_end[b] = fora_tzmap_utc_of_local(tz, L1);
    }
    for (int m = 0; m < FORA_MEASURE_N; m++) {
        r->count[m] = fora_xcalloc(alloc, sizeof(int64_t));
        if (r->split != FORA_SPLIT_NONE)
            r->group_count[m] =
                fora_xcalloc(alloc * (r->ngroups ? r->ngroups : 1), sizeof(int64_t));
    }
    if (nb == 0) goto done;

    /* posts, and the keys of (bin, author) for the active members */
    int32_t lo, hi;
    fora_snapshot_post_window(s, c.from, c.to, &lo, &hi);
    size_t nw = (size_t)(hi - lo);
    keys = malloc((nw ? nw : 1) * sizeof(uint64_t));
    tmp = malloc((nw ? nw : 1) * sizeof(uint64_t));
    if (keys == NULL || tmp == NULL) {
        err = fora_diag_set(diag, FORA_ENOMEM, "no memory for %zu posts", nw);
        goto out;
    }
    /* one pass: (bin, author) keys, and for a category split (bin * C + category, author) */
    bool by_cat = r->split == FORA_SPLIT_CATEGORY && r->ngroups > 0;
    if (by_cat && (keys2 = malloc((nw ? nw : 1) * sizeof(uint64_t))) == NULL) {
        err = fora_diag_set(diag, FORA_ENOMEM, "no memory for %zu posts", nw);
        goto out;
    }
    size_t nk = 0;
    fora_tzmap_cursor_t cur;
    fora_tzmap_cursor_init(&cur, tz);
    for (int32_t p = lo; p < hi; p++) {
        int32_t b = bin_of_local(&c, fora_tzmap_cursor_local(&cur, s->posts.created_at[p]));
        if (b < 0) continue; /* cannot happen: every time of the window maps into its bins */
        int32_t a = s->posts.author[p];
        int32_t g = by_cat ? post_category(s, p) : member_group(&c, a);
        add(&c, FORA_MEASURE_POSTS, b, g);
        if (a < 0) continue;
        if (by_cat) keys2[nk] = (((uint64_t)b * r->ngroups + (uint64_t)g) << 32) | (uint32_t)a;
        keys[nk++] = ((uint64_t)b << 32) | (uint32_t)a;
    }
    distinct_pairs(keys, tmp, nk, &c, false);
    if (by_cat) distinct_pairs(keys2, tmp, nk, &c, true);

    /* new members */
    first = fora_xmalloc((size_t)(s->members.n > 0 ? s->members.n : 1) * sizeof(int32_t));
    for (int32_t m = 0; m < s->members.n; m++)
        first[m] = -1;
    for (int32_t p = 0; p < P; p++) {
        int32_t a = s->posts.author[p];
        if (a >= 0 && first[a] < 0) first[a] = p;
    }
    for (int32_t m = 0; m < s->members.n; m++) {
        int64_t t = opts->new_members == FORA_NEW_MEMBER_FIRST_POST
                        ? (first[m] >= 0 ? s->posts.created_at[first[m]] : FORA_TIME_NONE)
                        : s->members.registered_at[m];
        if (!in_window(&c, t)) continue;
        int32_t b = bin_of_local(&c, fora_tzmap_local(tz, t));
        if (b < 0) continue;
        int32_t g = r->split == FORA_SPLIT_CATEGORY
                        ? (first[m] >= 0 ? post_category(s, first[m]) : -1)
                        : member_group(&c, m);
        add(&c, FORA_MEASURE_NEW_MEMBERS, b, g);
    }

    /* new threads */
    for (int32_t t = 0; t < s->threads.n; t++) {
        int64_t at = s->threads.created_at[t];
        if (!in_window(&c, at)) continue;
        int32_t b = bin_of_local(&c, fora_tzmap_local(tz, at));
        if (b < 0) continue;
        int32_t g = r->split == FORA_SPLIT_CATEGORY ? s->boards.category[s->threads.board[t]]
                                                    : member_group(&c, s->threads.starter[t]);
        add(&c, FORA_MEASURE_NEW_THREADS, b, g);
    }

done:
    *out = r;
    r = NULL;
out:
    fora_series_destroy(r);
    free(c.keyidx);
    free(keys);
    free(keys2);
    free(tmp);
    free(first);
    return err;
}

fora_err_t fora_series_values(const fora_series_t *r, fora_measure_t m, int32_t g, double *out,
                              fora_diag_t *diag)
{
    if ((unsigned)m >= FORA_MEASURE_N)
        return fora_diag_set(diag, FORA_EINVAL, "invalid value for parameter \"measure\"");
    if (g < -1 || (g >= 0 && (size_t)g >= r->ngroups))
        return fora_diag_set(diag, FORA_EINVAL, "group %d does not exist in the series", (int)g);
    const int64_t *v = g < 0 ? r->count[m] : r->group_count[m] + (size_t)g * r->nbins;
    for (size_t b = 0; b < r->nbins; b++)
        out[b] = (double)v[b];
    return FORA_OK;
}

fora_err_t fora_series_share_values(const fora_series_t *r, fora_measure_t m, int32_t g,
                                    double *out, bool *defined, fora_diag_t *diag)
{
    if ((unsigned)m >= FORA_MEASURE_N)
        return fora_diag_set(diag, FORA_EINVAL, "invalid value for parameter \"measure\"");
    if (g < 0 || (size_t)g >= r->ngroups)
        return fora_diag_set(diag, FORA_EINVAL, "group %d does not exist in the series", (int)g);
    const int64_t *v = r->group_count[m] + (size_t)g * r->nbins;
    for (size_t b = 0; b < r->nbins; b++) {
        defined[b] = r->count[m][b] > 0;
        out[b] = defined[b] ? (double)v[b] / (double)r->count[m][b] : 0;
    }
    return FORA_OK;
}

/* ---------------------------------------------------------------------- */
/* rolling mean, trend, autocorrelation                                    */
/* ---------------------------------------------------------------------- */

fora_err_t fora_rolling_mean(const double *x, size_t n, size_t window, fora_align_t align,
                             double *out, bool *defined, fora_diag_t *diag)
{
    if (window == 0)
        return fora_diag_set(diag, FORA_EINVAL, "parameter \"window\" must be at least 1");
    if (align == FORA_ALIGN_CENTER && window % 2 == 0)
        return fora_diag_set(diag, FORA_EINVAL,
                             "parameter \"window\" must be odd for a centred rolling mean");
    size_t back = align == FORA_ALIGN_CENTER ? (window - 1) / 2 : window - 1;
    for (size_t i = 0; i < n; i++) {
        /* the window x[i - back .. i - back + window - 1]; gsl_stats_mean over it */
        if (i < back || i - back + window > n) {
            out[i] = 0;
            defined[i] = false;
            continue;
        }
        out[i] = gsl_stats_mean(x + (i - back), 1, window);
        defined[i] = true;
    }
    return FORA_OK;
}

fora_err_t fora_trend_fit(const double *x, const double *y, const bool *use, size_t n, double conf,
                          fora_trend_t *out, fora_diag_t *diag)
{
    if (!(conf > 0 && conf < 1))
        return fora_diag_set(diag, FORA_EINVAL, "parameter \"conf\" must be between 0 and 1");
    memset(out, 0, sizeof(*out));
    out->conf = conf;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (use == NULL || use[i]) k++;
    out->n = k;
    if (k < 2) return FORA_OK;
    double *xs = fora_xmalloc(k * sizeof(double)), *ys = fora_xmalloc(k * sizeof(double));
    k = 0;
    for (size_t i = 0; i < n; i++)
        if (use == NULL || use[i]) {
            xs[k] = x ? x[i] : (double)i;
            ys[k] = y[i];
            k++;
        }
    bool varies = false;
    for (size_t i = 1; i < k; i++)
        if (xs[i] != xs[0]) varies = true;
    if (varies) {
        double c0, c1, cov00, cov01, cov11, sumsq;
        gsl_fit_linear(xs, 1, ys, 1, k, &c0, &c1, &cov00, &cov01, &cov11, &sumsq);
        out->defined = true;
        out->intercept = c0;
        out->slope = c1;
        if (k >= 3) {
            double t = gsl_cdf_tdist_Pinv(1 - (1 - conf) / 2, (double)(k - 2));
            out->ci_defined = true;
            out->slope_se = sqrt(cov11);
            out->intercept_se = sqrt(cov00);
            out->slope_lower = c1 - t * out->slope_se;
            out->slope_upper = c1 + t * out->slope_se;
            out->intercept_lower = c0 - t * out->intercept_se;
            out->intercept_upper = c0 + t * out->intercept_se;
        }
    }
    free(xs);
    free(ys);
    return FORA_OK;
}

void fora_acf_destroy(fora_acf_t *a)
{
    if (a == NULL) return;
    free(a->r);
    free(a->bartlett95);
    free(a->bartlett99);
    free(a);
}

fora_err_t fora_acf_compute(const double *x, size_t n, size_t max_lag, fora_acf_t **out,
                            fora_diag_t *diag)
{
    if (max_lag == 0)
        return fora_diag_set(diag, FORA_EINVAL, "parameter \"max_lag\" must be at least 1");
    fora_acf_t *a = fora_xcalloc(1, sizeof(*a));
    a->n = n;
    a->max_lag = n >= 1 && max_lag > n - 1 ? n - 1 : (n == 0 ? 0 : max_lag);
    size_t L = a->max_lag;
    a->r = fora_xcalloc(L + 1, sizeof(double));
    a->bartlett95 = fora_xcalloc(L + 1, sizeof(double));
    a->bartlett99 = fora_xcalloc(L + 1, sizeof(double));
    double z95 = gsl_cdf_ugaussian_Pinv(0.975), z99 = gsl_cdf_ugaussian_Pinv(0.995);
    if (n >= 1) {
        a->white95 = z95 / sqrt((double)n);
        a->white99 = z99 / sqrt((double)n);
    }
    double mean = n >= 1 ? gsl_stats_mean(x, 1, n) : 0;
    double den = 0;
    for (size_t t = 0; t < n; t++)
        den += (x[t] - mean) * (x[t] - mean);
    if (n >= 2 && den > 0) {
        a->defined = true;
        for (size_t k = 0; k <= L; k++) {
            double num = 0;
            for (size_t t = 0; t + k < n; t++)
                num += (x[t] - mean) * (x[t + k] - mean);
            a->r[k] = num / den;
        }
        double sum = 0; /* sum_{j=1}^{k-1} r_j^2 */
        for (size_t k = 1; k <= L; k++) {
            double se = sqrt((1 + 2 * sum) / (double)n);
            a->bartlett95[k] = z95 * se;
            a->bartlett99[k] = z99 * se;
            sum += a->r[k] * a->r[k];
        }
        double best = 0;
        for (size_t k = 2; k < L; k++) {
            if (a->r[k] > a->r[k - 1] && a->r[k] >= a->r[k + 1] && a->r[k] > a->white95 &&
                (!a->seasonal_defined || a->r[k] > best)) {
                a->seasonal_defined = true;
                a->seasonal_lag = k;
                best = a->r[k];
            }
        }
    }
    *out = a;
    return FORA_OK;
}

/* ---------------------------------------------------------------------- */
/* profiles                                                                 */
/* ---------------------------------------------------------------------- */

void fora_box_stats(double *x, size_t n, fora_box_t *out)
{
    memset(out, 0, sizeof(*out));
    out->n = n;
    if (n == 0) return;
    gsl_sort(x, 1, n);
    out->defined = true;
    out->mean = gsl_stats_mean(x, 1, n);
    out->median = gsl_stats_median_from_sorted_data(x, 1, n);
    out->q1 = gsl_stats_quantile_from_sorted_data(x, 1, n, 0.25);
    out->q3 = gsl_stats_quantile_from_sorted_data(x, 1, n, 0.75);
    out->iqr = out->q3 - out->q1;
    out->min = x[0];
    out->max = x[n - 1];
    double lo = out->q1 - 1.5 * out->iqr, hi = out->q3 + 1.5 * out->iqr;
    out->whisker_low = out->q1;
    out->whisker_high = out->q3;
    for (size_t i = 0; i < n; i++)
        if (x[i] >= lo) {
            out->whisker_low = x[i];
            out->outliers_low = i;
            break;
        }
    for (size_t i = n; i-- > 0;)
        if (x[i] <= hi) {
            out->whisker_high = x[i];
            out->outliers_high = n - 1 - i;
            break;
        }
}

size_t fora_profile_slot(fora_profile_kind_t kind, int64_t L)
{
    fora_local_civil_t c;
    fora_tzmap_civil(L, &c);
    switch (kind) {
    case FORA_PROFILE_HOUR_OF_DAY:
        return (size_t)c.hour;
    case FORA_PROFILE_DAY_OF_WEEK:
        return (size_t)c.weekday;
    case FORA_PROFILE_WEEK_HOUR:
        return (size_t)c.weekday * 24 + (size_t)c.hour;
    }
    return 0;
}

static size_t kind_slots(fora_profile_kind_t kind)
{
    return kind == FORA_PROFILE_HOUR_OF_DAY ? 24 : kind == FORA_PROFILE_DAY_OF_WEEK ? 7 : 168;
}

static fora_err_t check_kind(const fora_series_t *r, fora_profile_kind_t kind, fora_diag_t *diag)
{
    if ((unsigned)kind > FORA_PROFILE_WEEK_HOUR)
        return fora_diag_set(diag, FORA_EINVAL, "invalid profile kind");
    fora_bin_t need = kind == FORA_PROFILE_DAY_OF_WEEK ? FORA_BIN_DAY : FORA_BIN_HOUR;
    if (r->bin != need)
        return fora_diag_set(diag, FORA_EINVAL,
                             "parameter \"bin\": this profile needs a series per %s, not per %s",
                             fora_bin_name(need), fora_bin_name(r->bin));
    return FORA_OK;
}

void fora_profile_destroy(fora_profile_t *p)
{
    if (p == NULL) return;
    free(p->slots);
    free(p);
}

typedef struct vi {
    double v;
    size_t i;
} vi_t;

/* by value, then by bin: ties drop the earlier bins first */
static int cmp_vi(const void *a, const void *b)
{
    const vi_t *x = a, *y = b;
    if (x->v != y->v) return x->v < y->v ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Marks in keep[] the bins that survive dropping the floor(pct% * n) smallest. */
static size_t drop_emptiest(const double *v, size_t n, double pct, bool *keep)
{
    for (size_t i = 0; i < n; i++)
        keep[i] = true;
    size_t k = (size_t)floor(pct / 100.0 * (double)n);
    if (k == 0) return 0;
    vi_t *o = fora_xmalloc(n * sizeof(vi_t));
    for (size_t i = 0; i < n; i++)
        o[i] = (vi_t){v[i], i};
    qsort(o, n, sizeof(vi_t), cmp_vi);
    for (size_t i = 0; i < k; i++)
        keep[o[i].i] = false;
    free(o);
    return k;
}

fora_err_t fora_profile_compute(const fora_series_t *r, fora_profile_kind_t kind, fora_measure_t m,
                                int32_t g, double drop_pct, fora_profile_t **out, fora_diag_t *diag)
{
    fora_err_t err = check_kind(r, kind, diag);
    if (err != FORA_OK) return err;
    if (!(drop_pct >= 0 && drop_pct < 100))
        return fora_diag_set(diag, FORA_EINVAL,
                             "parameter \"drop\" must be at least 0 and below 100");
    size_t n = r->nbins, ns = kind_slots(kind);
    double *v = fora_xmalloc((n ? n : 1) * sizeof(double));
    if ((err = fora_series_values(r, m, g, v, diag)) != FORA_OK) {
        free(v);
        return err;
    }
    bool *keep = fora_xmalloc((n ? n : 1) * sizeof(bool));
    size_t *slot = fora_xmalloc((n ? n : 1) * sizeof(size_t));
    size_t *cnt = fora_xcalloc(ns + 1, sizeof(size_t));
    fora_profile_t *p = fora_xcalloc(1, sizeof(*p));
    p->kind = kind;
    p->nslots = ns;
    p->slots = fora_xcalloc(ns, sizeof(fora_box_t));
    p->samples = n;
    p->dropped = drop_emptiest(v, n, drop_pct, keep);
    for (size_t b = 0; b < n; b++) {
        slot[b] = fora_profile_slot(kind, r->local_start[b]);
        if (keep[b]) cnt[slot[b] + 1]++;
    }
    for (size_t i = 0; i < ns; i++)
        cnt[i + 1] += cnt[i]; /* cnt[i]: where slot i's samples start */
    double *buf = fora_xmalloc((n ? n : 1) * sizeof(double));
    size_t *pos = fora_xmalloc(ns * sizeof(size_t));
    memcpy(pos, cnt, ns * sizeof(size_t));
    for (size_t b = 0; b < n; b++)
        if (keep[b]) buf[pos[slot[b]]++] = v[b];
    for (size_t i = 0; i < ns; i++)
        fora_box_stats(buf + cnt[i], cnt[i + 1] - cnt[i], &p->slots[i]);
    free(pos);
    free(buf);
    free(cnt);
    free(slot);
    free(keep);
    free(v);
    *out = p;
    return FORA_OK;
}

void fora_share_destroy(fora_share_t *s)
{
    if (s == NULL) return;
    free(s->posts);
    free(s->posts_defined);
    free(s->active);
    free(s->active_defined);
    free(s);
}

/* shares = num / den per slot; the amplitude max / min over defined slots */
static void share_of(const double *num, const double *den, size_t ns, double *share, bool *def,
                     double *amp, bool *amp_def, size_t *imax, size_t *imin)
{
    bool any = false;
    for (size_t i = 0; i < ns; i++) {
        def[i] = den[i] > 0;
        share[i] = def[i] ? num[i] / den[i] : 0;
        if (!def[i]) continue;
        if (!any || share[i] > share[*imax]) *imax = i;
        if (!any || share[i] < share[*imin]) *imin = i;
        any = true;
    }
    *amp_def = any && share[*imin] > 0;
    *amp = *amp_def ? share[*imax] / share[*imin] : 0;
}

fora_err_t fora_share_compute(const fora_series_t *r, fora_profile_kind_t kind, int32_t g,
                              fora_share_t **out, fora_diag_t *diag)
{
    fora_err_t err = check_kind(r, kind, diag);
    if (err != FORA_OK) return err;
    if (r->split == FORA_SPLIT_NONE)
        return fora_diag_set(diag, FORA_EINVAL,
                             "parameter \"split\": a share needs a split series");
    if (g < 0 || (size_t)g >= r->ngroups)
        return fora_diag_set(diag, FORA_EINVAL, "parameter \"group\": no group %d in the split",
                             (int)g);
    size_t ns = kind_slots(kind);
    double *sum =
        fora_xcalloc(4 * ns, sizeof(double)); /* group posts, all posts, group active, all */
    const int64_t *gp = r->group_count[FORA_MEASURE_POSTS] + (size_t)g * r->nbins;
    const int64_t *ga = r->group_count[FORA_MEASURE_ACTIVE] + (size_t)g * r->nbins;
    for (size_t b = 0; b < r->nbins; b++) {
        size_t i = fora_profile_slot(kind, r->local_start[b]);
        sum[i] += (double)gp[b];
        sum[ns + i] += (double)r->count[FORA_MEASURE_POSTS][b];
        sum[2 * ns + i] += (double)ga[b];
        sum[3 * ns + i] += (double)r->count[FORA_MEASURE_ACTIVE][b];
    }
    fora_share_t *s = fora_xcalloc(1, sizeof(*s));
    s->kind = kind;
    s->nslots = ns;
    s->posts = fora_xmalloc(ns * sizeof(double));
    s->posts_defined = fora_xmalloc(ns * sizeof(bool));
    s->active = fora_xmalloc(ns * sizeof(double));
    s->active_defined = fora_xmalloc(ns * sizeof(bool));
    share_of(sum, sum + ns, ns, s->posts, s->posts_defined, &s->posts_amplitude,
             &s->posts_amplitude_defined, &s->posts_max_slot, &s->posts_min_slot);
    share_of(sum + 2 * ns, sum + 3 * ns, ns, s->active, s->active_defined, &s->active_amplitude,
             &s->active_amplitude_defined, &s->active_max_slot, &s->active_min_slot);
    free(sum);
    *out = s;
    return FORA_OK;
}
