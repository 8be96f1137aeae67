/*
 * analysis/trajectories.c - forum posting trajectories on the GBTM engine
 * (see fora/trajectories.h).
 */
#include "fora/trajectories.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WEEK_SECONDS (7 * 86400)

void fora_traj_opts_init(fora_traj_opts_t *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->time = FORA_TRAJ_CALENDAR;
    opts->model = FORA_GBTM_POISSON;
    opts->order = 2;
    opts->kmin = 1;
    opts->kmax = 6;
    opts->starts = 5;
    opts->seed = 1;
    opts->min_share = 0.0;
    opts->period = FORA_TRAJ_MONTH;
    opts->exposure = true;
}

const char *fora_traj_period_name(fora_traj_period_t p)
{
    return p == FORA_TRAJ_WEEK ? "week" : p == FORA_TRAJ_QUARTER ? "quarter" : "month";
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Howard Hinnant's days_from_civil: days since 1970-01-01 of y-m-d (m 1..12). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int64_t fora_traj_period_of(fora_traj_period_t kind, int64_t t)
{
    if (kind == FORA_TRAJ_WEEK) return floor_div(floor_div(t, 86400) + 3, 7);
    int64_t m = fora_traj_month_of(t);
    return kind == FORA_TRAJ_QUARTER ? floor_div(m, 3) : m;
}

int64_t fora_traj_period_start(fora_traj_period_t kind, int64_t p)
{
    if (kind == FORA_TRAJ_WEEK) return (p * 7 - 3) * 86400;
    int64_t m = kind == FORA_TRAJ_QUARTER ? p * 3 : p;
    return days_from_civil(floor_div(m, 12), m - 12 * floor_div(m, 12) + 1, 1) * 86400;
}

/* Calendar months per period (the unit of the rates and of the label rules). */
static double months_per_period(fora_traj_period_t kind)
{
    return kind == FORA_TRAJ_WEEK ? 7.0 * 12.0 / 365.25 : kind == FORA_TRAJ_QUARTER ? 3.0 : 1.0;
}

static bool parse_int(const char *s, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) return false;
    *out = v;
    return true;
}

static fora_err_t parse_labels(fora_traj_opts_t *o, const char *name, const char *value,
                               fora_diag_t *diag)
{
    fora_traj_opts_t t = *o;
    t.nlabels = 0;
    const char *p = value;
    if (*p == '\0')
        return fora_diag_set(diag, FORA_EINVAL,
                             "%s must be a list like \"1=manager,3=vested\", not empty", name);
    while (*p) {
        size_t len = strcspn(p, ","), eq = strcspn(p, "=");
        char num[8];
        long long g;
        if (eq >= len || eq == 0 || eq >= sizeof num || len - eq - 1 < 1 ||
            len - eq - 1 >= FORA_TRAJ_LABEL_MAX)
            return fora_diag_set(diag, FORA_EINVAL,
                                 "%s: \"%.*s\" is not GROUP=LABEL (a group number 1..%d, a "
                                 "label of 1..%d characters)",
                                 name, (int)(len > 64 ? 64 : len), p, FORA_GBTM_MAX_GROUPS,
                                 FORA_TRAJ_LABEL_MAX - 1);
        memcpy(num, p, eq);
        num[eq] = '\0';
        if (!parse_int(num, 1, FORA_GBTM_MAX_GROUPS, &g))
            return fora_diag_set(diag, FORA_EINVAL, "%s: group \"%s\" is not a number 1..%d", name,
                                 num, FORA_GBTM_MAX_GROUPS);
        for (size_t k = 0; k < t.nlabels; k++)
            if (t.label_group[k] == (int)g)
                return fora_diag_set(diag, FORA_EINVAL, "%s: group %lld is given twice", name, g);
        const char *l = p + eq + 1;
        size_t ll = len - eq - 1;
        for (size_t k = 0; k < ll; k++) {
            char c = l[k];
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == ' ' || c == '_' || c == '-';
            if (!ok)
                return fora_diag_set(diag, FORA_EINVAL,
                                     "%s: the label of group %lld may hold only letters, "
                                     "digits, ' ', '_' and '-'",
                                     name, g);
        }
        t.label_group[t.nlabels] = (int)g;
        memcpy(t.label_text[t.nlabels], l, ll);
        t.label_text[t.nlabels][ll] = '\0';
        t.nlabels++;
        p += len;
        if (*p == ',') {
            p++;
            if (*p == '\0') return fora_diag_set(diag, FORA_EINVAL, "%s: trailing comma", name);
        }
    }
    *o = t;
    return FORA_OK;
}

static fora_err_t parse_orders(fora_traj_opts_t *o, const char *name, const char *value,
                               fora_diag_t *diag)
{
    int v[FORA_GBTM_MAX_GROUPS];
    size_t n = 0;
    const char *p = value;
    do {
        size_t len = strcspn(p, ",");
        char buf[8];
        long long d;
        if (n == FORA_GBTM_MAX_GROUPS)
            return fora_diag_set(diag, FORA_EINVAL, "%s: at most %d orders (one per group)", name,
                                 FORA_GBTM_MAX_GROUPS);
        if (len == 0 || len >= sizeof buf ||
            (memcpy(buf, p, len), buf[len] = '\0', !parse_int(buf, 0, FORA_GBTM_MAX_ORDER, &d)))
            return fora_diag_set(diag, FORA_EINVAL,
                                 "%s must be a polynomial order 0..%d or a comma-separated "
                                 "list of one per group (e.g. 3,2,2,1), not \"%.64s\"",
                                 name, FORA_GBTM_MAX_ORDER, value);
        v[n++] = (int)d;
        p += len;
    } while (*p++ == ',');
    if (n == 1) {
        o->order = v[0];
        o->norders = 0;
    } else {
        /* the other K use the list's largest order */
        memcpy(o->orders, v, n * sizeof v[0]);
        o->norders = n;
        o->order = 0;
        for (size_t j = 0; j < n; j++)
            if (v[j] > o->order) o->order = v[j];
    }
    return FORA_OK;
}

fora_err_t fora_traj_opts_set(fora_traj_opts_t *o, const char *name, const char *value,
                              fora_diag_t *diag)
{
    static const char *const periods[] = {"month", "week", "quarter"};
    static const char *const times[] = {"calendar", "career"};
    static const char *const models[] = {"poisson", "zip", "ziptau"};
    static const char *const bools[] = {"false", "true"};
    long long v;
    int e;
    fora_err_t err = FORA_OK;
    const char *const full = name; /* as given: messages name it */
    if (strncmp(name, "traj_", 5) == 0) name += 5;
    if (strcmp(name, "period") == 0) {
        if ((err = fora_name_parse(value, full, periods, 3, &e, diag)) == FORA_OK)
            o->period = (fora_traj_period_t)e;
    } else if (strcmp(name, "time") == 0) {
        if ((err = fora_name_parse(value, full, times, 2, &e, diag)) == FORA_OK)
            o->time = (fora_traj_time_t)e;
    } else if (strcmp(name, "model") == 0) {
        if ((err = fora_name_parse(value, full, models, 3, &e, diag)) == FORA_OK)
            o->model = (fora_gbtm_model_t)e;
    } else if (strcmp(name, "exposure") == 0) {
        if ((err = fora_name_parse(value, full, bools, 2, &e, diag)) == FORA_OK)
            o->exposure = e == 1;
    } else if (strcmp(name, "zero_order") == 0) {
        if (!parse_int(value, 0, FORA_GBTM_MAX_ORDER, &v))
            return fora_diag_set(diag, FORA_EINVAL, "%s must be a whole number 0..%d", full,
                                 FORA_GBTM_MAX_ORDER);
        o->zero_order = (int)v;
    } else if (strcmp(name, "order") == 0) {
        err = parse_orders(o, full, value, diag);
    } else if (strcmp(name, "kmin") == 0 || strcmp(name, "kmax") == 0) {
        if (!parse_int(value, 1, FORA_GBTM_MAX_GROUPS, &v))
            return fora_diag_set(diag, FORA_EINVAL, "%s must be a whole number 1..%d", full,
                                 FORA_GBTM_MAX_GROUPS);
        if (strcmp(name, "kmin") == 0)
            o->kmin = (int)v;
        else
            o->kmax = (int)v;
    } else if (strcmp(name, "starts") == 0) {
        if (!parse_int(value, 1, 1000, &v))
            return fora_diag_set(diag, FORA_EINVAL, "%s must be a whole number 1..1000", full);
        o->starts = (size_t)v;
    } else if (strcmp(name, "min_share") == 0) {
        char *end;
        errno = 0;
        double x = strtod(value, &end);
        if (errno != 0 || end == value || *end != '\0' || !(x >= 0 && x < 1))
            return fora_diag_set(diag, FORA_EINVAL, "%s must be a number 0 <= x < 1", full);
        o->min_share = x;
    } else if (strcmp(name, "labels") == 0) {
        err = parse_labels(o, full, value, diag);
    } else {
        return fora_diag_set(diag, FORA_EINVAL, "unknown trajectories option \"%.64s\"", full);
    }
    if (err != FORA_OK) return err;
    return FORA_OK;
}

const char *fora_traj_time_name(fora_traj_time_t t)
{
    return t == FORA_TRAJ_CAREER ? "career" : "calendar";
}

const char *fora_traj_trend_name(fora_traj_trend_t t)
{
    return t == FORA_TRAJ_ESCALATING  ? "escalating"
           : t == FORA_TRAJ_DECLINING ? "declining"
                                      : "stable";
}

/* Howard Hinnant's civil_from_days. */
int64_t fora_traj_month_of(int64_t t)
{
    int64_t days = t / 86400 - (t % 86400 < 0 ? 1 : 0);
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t m = mp < 10 ? mp + 3 : mp - 9; /* 1..12 */
    if (m <= 2) y++;
    return y * 12 + (m - 1);
}

static double row_loglik(const double *y, const uint8_t *m, size_t n, double tbar, double a,
                         double b)
{
    double l = 0;
    for (size_t t = 0; t < n; t++) {
        if (m && !m[t]) continue;
        double eta = a + b * ((double)t - tbar);
        l += y[t] * eta - exp(eta);
    }
    return l;
}

bool fora_traj_trend(const double *y, const uint8_t *m, size_t n, double *slope, double *lo,
                     double *hi)
{
    *slope = *lo = *hi = NAN;
    size_t first = n, last = 0, cnt = 0;
    double sy = 0, st = 0;
    for (size_t t = 0; t < n; t++) {
        if (m && !m[t]) continue;
        if (first == n) first = t;
        last = t;
        cnt++;
        sy += y[t];
        st += (double)t;
    }
    if (cnt < 2 || sy <= 0) return false;
    if (y[first] == sy || y[last] == sy) return false; /* MLE of the slope is infinite */
    double tbar = st / (double)cnt;
    double a = log(sy / (double)cnt), b = 0;
    double l = row_loglik(y, m, n, tbar, a, b);
    double h00 = 0, h01 = 0, h11 = 0;
    for (int it = 0; it < 200; it++) {
        double g0 = 0, g1 = 0;
        h00 = h01 = h11 = 0;
        for (size_t t = first; t <= last; t++) {
            if (m && !m[t]) continue;
            double x = (double)t - tbar, mu = exp(a + b * x);
            g0 += y[t] - mu;
            g1 += (y[t] - mu) * x;
            h00 += mu;
            h01 += mu * x;
            h11 += mu * x * x;
        }
        double det = h00 * h11 - h01 * h01;
        if (!(det > 0)) return false;
        double da = (h11 * g0 - h01 * g1) / det, db = (h00 * g1 - h01 * g0) / det;
        double step = 1;
        double na = a + da, nb = b + db, nl = row_loglik(y, m, n, tbar, na, nb);
        while (!(nl >= l - 1e-12 * fabs(l)) && step > 1e-8) {
            step /= 2;
            na = a + step * da;
            nb = b + step * db;
            nl = row_loglik(y, m, n, tbar, na, nb);
        }
        a = na;
        b = nb;
        l = nl;
        if (fabs(step * da) < 1e-10 && fabs(step * db) < 1e-10) break;
    }
    /* information at the final estimate */
    h00 = h01 = h11 = 0;
    for (size_t t = first; t <= last; t++) {
        if (m && !m[t]) continue;
        double x = (double)t - tbar, mu = exp(a + b * x);
        h00 += mu;
        h01 += mu * x;
        h11 += mu * x * x;
    }
    double det = h00 * h11 - h01 * h01;
    if (!(det > 0) || !isfinite(b)) return false;
    double se = sqrt(h00 / det);
    *slope = b;
    *lo = b - 1.959963984540054 * se;
    *hi = b + 1.959963984540054 * se;
    return true;
}

static bool is_staff(const char *status)
{
    static const char *const staff[] = {"admin", "administrator", "moderator",
                                        "mod",   "staff",         "manager"};
    for (size_t i = 0; i < sizeof staff / sizeof staff[0]; i++)
        if (strcasecmp(status, staff[i]) == 0) return true;
    return false;
}

void fora_traj_result_destroy(fora_traj_result_t *r)
{
    if (!r) return;
    fora_gbtm_fit_destroy(r->fit);
    free(r->models);
    free(r->groups);
    free(r->members);
    free(r->counts);
    free(r->at_risk);
    free(r->exposure);
    free(r->category_share);
    free(r);
}

static fora_err_t check_opts(const fora_traj_opts_t *o, fora_diag_t *diag)
{
    if (o->period != FORA_TRAJ_MONTH && o->period != FORA_TRAJ_WEEK &&
        o->period != FORA_TRAJ_QUARTER)
        return fora_diag_set(diag, FORA_EINVAL, "invalid value for parameter \"period\"");
    if (o->time != FORA_TRAJ_CALENDAR && o->time != FORA_TRAJ_CAREER)
        return fora_diag_set(diag, FORA_EINVAL, "invalid value for parameter \"time\"");
    if (o->model != FORA_GBTM_POISSON && o->model != FORA_GBTM_ZIP && o->model != FORA_GBTM_ZIPTAU)
        return fora_diag_set(diag, FORA_EINVAL,
                             "invalid value for parameter \"model\": \"poisson\", \"zip\" or "
                             "\"ziptau\"");
    if (o->zero_order < 0 || o->zero_order > FORA_GBTM_MAX_ORDER ||
        (o->zero_order > 0 && o->model != FORA_GBTM_ZIP))
        return fora_diag_set(diag, FORA_EINVAL,
                             "invalid value %d for parameter \"zero_order\": 0..%d, and above 0 "
                             "only with model \"zip\"",
                             o->zero_order, FORA_GBTM_MAX_ORDER);
    if (o->order < 0 || o->order > FORA_GBTM_MAX_ORDER)
        return fora_diag_set(diag, FORA_EINVAL, "invalid value %d for parameter \"order\": 0..%d",
                             o->order, FORA_GBTM_MAX_ORDER);
    if (o->kmin < 1 || o->kmin > FORA_GBTM_MAX_GROUPS)
        return fora_diag_set(diag, FORA_EINVAL, "invalid value %d for parameter \"kmin\": 1..%d",
                             o->kmin, FORA_GBTM_MAX_GROUPS);
    if (o->kmax < o->kmin || o->kmax > FORA_GBTM_MAX_GROUPS)
        return fora_diag_set(diag, FORA_EINVAL, "invalid value %d for parameter \"kmax\": kmin..%d",
                             o->kmax, FORA_GBTM_MAX_GROUPS);
    if (o->norders > FORA_GBTM_MAX_GROUPS ||
        (o->norders > 0 && ((int)o->norders < o->kmin || (int)o->norders > o->kmax)))
        return fora_diag_set(diag, FORA_EINVAL,
                             "parameter \"order\": a list of %zu orders is used for K = %zu, "
                             "which must lie in kmin..kmax (%d..%d)",
                             o->norders, o->norders, o->kmin, o->kmax);
    for (size_t j = 0; j < o->norders; j++)
        if (o->orders[j] < 0 || o->orders[j] > FORA_GBTM_MAX_ORDER)
            return fora_diag_set(diag, FORA_EINVAL,
                                 "invalid value %d in parameter \"order\" (group %zu): 0..%d",
                                 o->orders[j], j + 1, FORA_GBTM_MAX_ORDER);
    if (o->starts < 1 || o->starts > FORA_GBTM_MAX_STARTS)
        return fora_diag_set(diag, FORA_EINVAL, "invalid value %zu for parameter \"starts\"",
                             o->starts);
    if (!(o->min_share >= 0 && o->min_share < 1))
        return fora_diag_set(diag, FORA_EINVAL,
                             "invalid value %g for parameter \"min_share\": 0 <= x < 1",
                             o->min_share);
    if (o->nlabels > FORA_GBTM_MAX_GROUPS)
        return fora_diag_set(diag, FORA_EINVAL, "too many labels");
    return FORA_OK;
}

static const char *label_group(const fora_traj_group_t *g, size_t j, size_t K, double nmonths)
{
    if (g->size == 0 || !isfinite(g->rate)) return "empty";
    if (g->rate < 0.1) return "lurker";
    if (g->trend == FORA_TRAJ_ESCALATING) return "escalator";
    if (g->trend == FORA_TRAJ_DECLINING) return "declining";
    if (K >= 2 && j == K - 1 && g->mean_onset <= nmonths / 4 &&
        (g->rate >= 3 || g->staff_share >= 0.5))
        return "manager";
    if (g->rate >= 1) return "vested";
    if (g->rate < 0.3) return "browser";
    return "occasional";
}

fora_err_t fora_traj_compute(const fora_snapshot_t *s, const fora_traj_opts_t *opts,
                             fora_traj_result_t **out, fora_diag_t *diag)
{
    *out = NULL;
    fora_err_t err = check_opts(opts, diag);
    if (err) return err;
    int32_t M = s->members.n;
    int32_t *first = NULL, *last = NULL, *row = NULL;
    int64_t *nposts = NULL, *firstt = NULL, *lastt = NULL;
    double *time = NULL, *wsum = NULL, *cells = NULL, *offset = NULL;
    fora_traj_result_t *r = calloc(1, sizeof *r);
    if (!r) return fora_diag_set(diag, FORA_ENOMEM, "out of memory");
    r->time = opts->time;

    /* forum span from the posts written by members */
    int64_t t0 = FORA_TIME_NONE, t1 = FORA_TIME_NONE;
    for (int32_t p = 0; p < s->posts.n; p++) {
        if (s->posts.author[p] < 0) continue;
        if (t0 == FORA_TIME_NONE) t0 = s->posts.created_at[p];
        t1 = s->posts.created_at[p];
    }
    if (t0 == FORA_TIME_NONE) {
        err =
            fora_diag_set(diag, FORA_EINVAL, "forum \"%s\" has no posts by members", s->forum.name);
        goto cleanup;
    }
    r->start_time = t0;
    r->period = opts->period;
    r->first_month = fora_traj_month_of(t0);
    const fora_traj_period_t pk = opts->period;
    r->first_period = fora_traj_period_of(pk, t0);
    r->first_period_start = fora_traj_period_start(pk, r->first_period);
    size_t T = (size_t)(fora_traj_period_of(pk, t1) - r->first_period + 1);
    r->nperiods = T;
#define PERIOD_OF(tt) ((int32_t)(fora_traj_period_of(pk, (tt)) - r->first_period))

    first = malloc(sizeof *first * (size_t)(M ? M : 1));
    last = malloc(sizeof *last * (size_t)(M ? M : 1));
    row = malloc(sizeof *row * (size_t)(M ? M : 1));
    nposts = calloc((size_t)(M ? M : 1), sizeof *nposts);
    firstt = malloc(sizeof *firstt * (size_t)(M ? M : 1));
    lastt = malloc(sizeof *lastt * (size_t)(M ? M : 1));
    if (!first || !last || !row || !nposts || !firstt || !lastt) goto nomem;
    for (int32_t i = 0; i < M; i++)
        first[i] = last[i] = row[i] = -1;
    for (int32_t p = 0; p < s->posts.n; p++) {
        int32_t a = s->posts.author[p];
        if (a < 0) continue;
        int32_t mo = PERIOD_OF(s->posts.created_at[p]);
        if (first[a] < 0) {
            first[a] = mo;
            firstt[a] = s->posts.created_at[p];
        }
        last[a] = mo;
        lastt[a] = s->posts.created_at[p];
        nposts[a]++;
    }
    size_t n = 0;
    for (int32_t i = 0; i < M; i++)
        if (nposts[i] > 0) row[i] = (int32_t)n++;
    r->nmembers = n;
    r->nonposting = (size_t)M - n;
    r->counts = calloc(n * T, sizeof *r->counts);
    r->at_risk = calloc(n * T, sizeof *r->at_risk);
    r->exposure = calloc(n * T, sizeof *r->exposure);
    offset = calloc(n * T, sizeof *offset);
    r->members = calloc(n, sizeof *r->members);
    time = malloc(sizeof *time * T);
    if (!r->counts || !r->at_risk || !r->exposure || !offset || !r->members || !time) goto nomem;
    /* time in years */
    for (size_t t = 0; t < T; t++)
        time[t] = (double)t * months_per_period(pk) / 12.0;

    /* the first period at risk: registration, or the first post when earlier or unknown */
    for (int32_t i = 0; i < M; i++) {
        if (row[i] < 0) continue;
        int64_t reg = s->members.registered_at[i];
        int32_t from = first[i];
        if (reg != FORA_TIME_NONE) {
            int64_t rm = fora_traj_period_of(pk, reg) - r->first_period;
            if (rm < from) from = rm < 0 ? 0 : (int32_t)rm;
        }
        r->members[row[i]].at_risk_from = from;
    }
    for (int32_t p = 0; p < s->posts.n; p++) {
        int32_t a = s->posts.author[p];
        if (a < 0) continue;
        int32_t mo = PERIOD_OF(s->posts.created_at[p]);
        int32_t k = opts->time == FORA_TRAJ_CAREER ? mo - r->members[row[a]].at_risk_from : mo;
        r->counts[(size_t)row[a] * T + (size_t)k] += 1;
    }
    for (int32_t i = 0; i < M; i++) {
        if (row[i] < 0) continue;
        fora_traj_member_t *mb = &r->members[row[i]];
        mb->member = i;
        mb->onset = first[i];
        mb->last = last[i];
        mb->posts = nposts[i];
        int64_t reg = s->members.registered_at[i];
        int32_t from = mb->at_risk_from;
        /* without a registration time the first post's time decides */
        mb->first_week = (reg != FORA_TIME_NONE ? reg : firstt[i]) < t0 + WEEK_SECONDS;
        int32_t to = (int32_t)T - 1;
        /* at risk from rs to re (Unix times): registration (or the first post when earlier or
         * unknown; not before the forum's first post) to the ban (not before the member's last
         * post) or the forum's last post */
        int64_t rs = reg != FORA_TIME_NONE && reg < firstt[i] ? reg : firstt[i];
        if (rs < t0) rs = t0;
        int64_t re = t1;
        if (s->members.banned_at[i] != FORA_TIME_NONE) {
            int64_t ban = s->members.banned_at[i];
            int64_t bm = fora_traj_period_of(pk, ban) - r->first_period;
            if (bm < to) to = bm < last[i] ? last[i] : (int32_t)bm;
            if (ban < t1) re = ban < lastt[i] ? lastt[i] : ban;
        }
        uint8_t *m = r->at_risk + (size_t)row[i] * T;
        double *ex = r->exposure + (size_t)row[i] * T, *of = offset + (size_t)row[i] * T;
        const int32_t base = opts->time == FORA_TRAJ_CAREER ? from : 0;
        for (int32_t t = from; t <= to; t++) {
            /* the share of period t inside [rs, re] in whole days (started days count; at least
             * one), so that members alike but for the hour they joined share a pattern */
            int64_t ps = fora_traj_period_start(pk, r->first_period + t),
                    pe = fora_traj_period_start(pk, r->first_period + t + 1);
            int64_t a = rs > ps ? rs : ps, b = re < pe ? re : pe;
            double len = (double)(pe - ps), in = (double)(b > a ? b - a : 0);
            double e = (in < 86400.0 ? 86400.0 : ceil(in / 86400.0) * 86400.0) / len;
            if (e > 1.0 || (t != from && t != to)) e = 1.0;
            m[t - base] = 1;
            ex[t - base] = e;
            of[t - base] = opts->exposure && e < 1.0 ? log(e) : 0.0;
        }
        /* own trend, always on forum periods */
        double *yc = malloc(sizeof *yc * T);
        uint8_t *mc = calloc(T, 1);
        if (!yc || !mc) {
            free(yc);
            free(mc);
            goto nomem;
        }
        for (size_t t = 0; t < T; t++)
            yc[t] = 0;
        for (int32_t t = from; t <= to; t++)
            mc[t] = 1;
        const double *yr = r->counts + (size_t)row[i] * T;
        if (opts->time == FORA_TRAJ_CAREER) {
            for (int32_t k = 0; k <= to - from; k++)
                yc[from + k] = yr[k];
        } else {
            memcpy(yc, yr, sizeof *yc * T);
        }
        mb->trend_defined = fora_traj_trend(yc, mc, T, &mb->slope, &mb->slope_lo, &mb->slope_hi);
        mb->escalating = mb->trend_defined && mb->slope_lo > 0;
        free(yc);
        free(mc);
    }
#undef PERIOD_OF

    /* fits */
    size_t nk = (size_t)(opts->kmax - opts->kmin + 1);
    r->models = calloc(nk, sizeof *r->models);
    if (!r->models) goto nomem;
    fora_gbtm_data_t data = {n, T, r->counts, r->at_risk, opts->exposure ? offset : NULL, time};
    fora_gbtm_opts_t go;
    fora_gbtm_opts_init(&go);
    go.model = opts->model;
    go.order = opts->order;
    go.zero_order = opts->zero_order;
    go.starts = opts->starts;
    go.seed = opts->seed;
    go.max_iter = 2000;
    go.tol = 1e-8;
    double best_bic = INFINITY;
    for (size_t q = 0; q < nk; q++) {
        size_t K = (size_t)opts->kmin + q;
        fora_traj_model_t *md = &r->models[q];
        md->K = K;
        md->loglik = md->bic = md->bic_cells = md->aic = md->entropy = md->min_pi = NAN;
        r->nmodels = q + 1;
        fora_gbtm_fit_t *fit = NULL;
        fora_diag_t fd = FORA_DIAG_INIT;
        go.orders = opts->norders == K ? opts->orders : NULL;
        fora_err_t fe = fora_gbtm_fit(&data, K, &go, &fit, &fd);
        if (fe == FORA_ENOMEM) {
            err = fora_diag_set(diag, fe, "%s", fd.msg);
            goto cleanup;
        }
        if (fe) {
            if (q == 0) {
                err = fora_diag_set(diag, FORA_ENUMERIC, "trajectories: K = %zu: %s", K, fd.msg);
                goto cleanup;
            }
            break;
        }
        md->fitted = true;
        md->loglik = fit->loglik;
        md->bic = fit->bic;
        md->bic_cells = fit->bic_cells;
        md->aic = fit->aic;
        md->entropy = fit->entropy_defined ? fit->entropy : NAN;
        md->npar = fit->npar;
        md->converged = fit->converged;
        md->starts = fit->starts;
        md->starts_at_best = fit->starts_at_best;
        md->min_pi = 1;
        for (size_t j = 0; j < K; j++)
            if (fit->groups[j].pi < md->min_pi) md->min_pi = fit->groups[j].pi;
        md->eligible = K == 1 || md->min_pi >= opts->min_share;
        if (md->eligible && (r->fit == NULL || fit->bic < best_bic)) {
            best_bic = fit->bic;
            fora_gbtm_fit_destroy(r->fit);
            r->fit = fit;
            r->selected = q;
        } else {
            fora_gbtm_fit_destroy(fit);
        }
    }
    if (!r->fit) {
        err = fora_diag_set(diag, FORA_ENUMERIC, "trajectories: no model qualified");
        goto cleanup;
    }

    /* profiles */
    size_t K = r->fit->K;
    r->groups = calloc(K, sizeof *r->groups);
    wsum = calloc(K * (T + 1), sizeof *wsum);
    if (!r->groups || !wsum) goto nomem;
    cells = calloc(K, sizeof *cells);
    if (!cells) goto nomem;
    for (size_t i = 0; i < n; i++) {
        fora_traj_member_t *mb = &r->members[i];
        int32_t j = r->fit->assigned[i];
        mb->group = j;
        mb->posterior = r->fit->posterior[i * K + (size_t)j];
        fora_traj_group_t *g = &r->groups[j];
        g->size++;
        g->mean_onset += mb->onset;
        g->mean_duration += mb->last - mb->onset + 1;
        g->mean_posts += (double)mb->posts;
        g->first_week_share += mb->first_week;
        g->staff_share += is_staff(fora_snapshot_member_status(s, mb->member));
        for (size_t t = 0; t < T; t++)
            if (r->at_risk[i * T + t]) {
                wsum[(size_t)j * T + t] += 1;
                cells[j] += (opts->exposure ? r->exposure[i * T + t] : 1.0) * months_per_period(pk);
            }
    }
    /* the share of each group's posts in each board category */
    size_t C = (size_t)(s->categories.n > 0 ? s->categories.n : 0);
    r->ncategories = C;
    r->category_share = calloc(K * (C ? C : 1), sizeof *r->category_share);
    if (!r->category_share) goto nomem;
    for (int32_t p = 0; p < s->posts.n && C > 0; p++) {
        int32_t a = s->posts.author[p];
        if (a < 0) continue;
        int32_t b = s->threads.board[s->posts.thread[p]];
        int32_t c = b >= 0 ? s->boards.category[b] : -1;
        if (c < 0 || (size_t)c >= C) continue;
        r->category_share[(size_t)r->fit->assigned[row[a]] * C + (size_t)c] += 1;
    }
    for (size_t j = 0; j < K; j++) {
        fora_traj_group_t *g = &r->groups[j];
        const fora_gbtm_group_t *fg = &r->fit->groups[j];
        g->pi = fg->pi;
        g->avepp = fg->avepp_defined ? fg->avepp : NAN;
        g->occ = fg->occ_defined ? fg->occ : NAN;
        double sz = (double)g->size;
        g->rate = cells[j] > 0 ? g->mean_posts / cells[j] : NAN;
        for (size_t c = 0; c < C; c++)
            r->category_share[j * C + c] =
                g->mean_posts > 0 ? r->category_share[j * C + c] / g->mean_posts : NAN;
        if (g->size) {
            g->mean_onset /= sz;
            g->mean_duration /= sz;
            g->mean_posts /= sz;
            g->first_week_share /= sz;
            g->staff_share /= sz;
        } else {
            g->mean_onset = g->mean_duration = g->mean_posts = NAN;
            g->first_week_share = g->staff_share = NAN;
        }
        double num = 0, den = 0;
        for (size_t t = 0; t < T; t++) {
            double w = wsum[j * T + t];
            if (w <= 0) continue;
            double x = time[t], d = 0;
            for (int k = fg->order; k >= 1; k--)
                d = d * x + k * fg->coef[k];
            num += w * d;
            den += w;
        }
        g->slope = den > 0 ? num / den : NAN;
        g->trend = !(den > 0)              ? FORA_TRAJ_STABLE
                   : g->slope > log(1.25)  ? FORA_TRAJ_ESCALATING
                   : g->slope < -log(1.25) ? FORA_TRAJ_DECLINING
                                           : FORA_TRAJ_STABLE;
    }
    for (size_t j = 0; j < K; j++)
        r->groups[j].label = r->groups[j].rule_label = label_group(&r->groups[j], j, K, (double)T);
    /* the analyst's labels (opts->label_text lives as long as opts; copied into the result) */
    for (size_t k = 0; k < opts->nlabels; k++) {
        size_t j = (size_t)opts->label_group[k] - 1;
        if (j >= K) {
            r->labels_ignored++;
            continue;
        }
        memcpy(r->label_buf[j], opts->label_text[k], FORA_TRAJ_LABEL_MAX);
        r->label_buf[j][FORA_TRAJ_LABEL_MAX - 1] = '\0';
        r->groups[j].label = r->label_buf[j];
        r->groups[j].label_overridden = true;
    }
    err = FORA_OK;
    goto cleanup;
nomem:
    err = fora_diag_set(diag, FORA_ENOMEM, "out of memory computing trajectories");
cleanup:
    free(first);
    free(last);
    free(row);
    free(nposts);
    free(firstt);
    free(lastt);
    free(offset);
    free(time);
    free(wsum);
    free(cells);
    if (err) {
        fora_traj_result_destroy(r);
        return err;
    }
    *out = r;
    return FORA_OK;
}
