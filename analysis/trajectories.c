/*
 * analysis/trajectories.c - forum posting trajectories on the GBTM engine
 * (see fora/trajectories.h).
 */
#include "fora/trajectories.h"

#include <math.h>
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
    free(r);
}

static fora_err_t check_opts(const fora_traj_opts_t *o, fora_diag_t *diag)
{
    if (o->time != FORA_TRAJ_CALENDAR && o->time != FORA_TRAJ_CAREER)
        return fora_diag_set(diag, FORA_EINVAL, "invalid value for parameter \"time\"");
    if (o->model != FORA_GBTM_POISSON && o->model != FORA_GBTM_ZIP)
        return fora_diag_set(diag, FORA_EINVAL,
                             "invalid value for parameter \"model\": \"poisson\" or \"zip\"");
    if (o->order < 0 || o->order > FORA_GBTM_MAX_ORDER)
        return fora_diag_set(diag, FORA_EINVAL, "invalid value %d for parameter \"order\": 0..%d",
                             o->order, FORA_GBTM_MAX_ORDER);
    if (o->kmin < 1 || o->kmin > FORA_GBTM_MAX_GROUPS)
        return fora_diag_set(diag, FORA_EINVAL, "invalid value %d for parameter \"kmin\": 1..%d",
                             o->kmin, FORA_GBTM_MAX_GROUPS);
    if (o->kmax < o->kmin || o->kmax > FORA_GBTM_MAX_GROUPS)
        return fora_diag_set(diag, FORA_EINVAL, "invalid value %d for parameter \"kmax\": kmin..%d",
                             o->kmax, FORA_GBTM_MAX_GROUPS);
    if (o->starts < 1 || o->starts > FORA_GBTM_MAX_STARTS)
        return fora_diag_set(diag, FORA_EINVAL, "invalid value %zu for parameter \"starts\"",
                             o->starts);
    if (!(o->min_share >= 0 && o->min_share < 1))
        return fora_diag_set(diag, FORA_EINVAL,
                             "invalid value %g for parameter \"min_share\": 0 <= x < 1",
                             o->min_share);
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
    int64_t *nposts = NULL, *firstt = NULL;
    double *time = NULL, *wsum = NULL, *cells = NULL;
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
    r->first_month = fora_traj_month_of(t0);
    size_t T = (size_t)(fora_traj_month_of(t1) - r->first_month + 1);
    r->nperiods = T;

    first = malloc(sizeof *first * (size_t)(M ? M : 1));
    last = malloc(sizeof *last * (size_t)(M ? M : 1));
    row = malloc(sizeof *row * (size_t)(M ? M : 1));
    nposts = calloc((size_t)(M ? M : 1), sizeof *nposts);
    firstt = malloc(sizeof *firstt * (size_t)(M ? M : 1));
    if (!first || !last || !row || !nposts || !firstt) goto nomem;
    for (int32_t i = 0; i < M; i++)
        first[i] = last[i] = row[i] = -1;
    for (int32_t p = 0; p < s->posts.n; p++) {
        int32_t a = s->posts.author[p];
        if (a < 0) continue;
        int32_t mo = (int32_t)(fora_traj_month_of(s->posts.created_at[p]) - r->first_month);
        if (first[a] < 0) {
            first[a] = mo;
            firstt[a] = s->posts.created_at[p];
        }
        last[a] = mo;
        nposts[a]++;
    }
    size_t n = 0;
    for (int32_t i = 0; i < M; i++)
        if (nposts[i] > 0) row[i] = (int32_t)n++;
    r->nmembers = n;
    r->nonposting = (size_t)M - n;
    r->counts = calloc(n * T, sizeof *r->counts);
    r->at_risk = calloc(n * T, sizeof *r->at_risk);
    r->members = calloc(n, sizeof *r->members);
    time = malloc(sizeof *time * T);
    if (!r->counts || !r->at_risk || !r->members || !time) goto nomem;
    for (size_t t = 0; t < T; t++)
        time[t] = (double)t / 12.0;

    /* the first month at risk: registration, or the first post when earlier or unknown */
    for (int32_t i = 0; i < M; i++) {
        if (row[i] < 0) continue;
        int64_t reg = s->members.registered_at[i];
        int32_t from = first[i];
        if (reg != FORA_TIME_NONE) {
            int64_t rm = fora_traj_month_of(reg) - r->first_month;
            if (rm < from) from = rm < 0 ? 0 : (int32_t)rm;
        }
        r->members[row[i]].at_risk_from = from;
    }
    for (int32_t p = 0; p < s->posts.n; p++) {
        int32_t a = s->posts.author[p];
        if (a < 0) continue;
        int32_t mo = (int32_t)(fora_traj_month_of(s->posts.created_at[p]) - r->first_month);
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
        if (s->members.banned_at[i] != FORA_TIME_NONE) {
            int64_t bm = fora_traj_month_of(s->members.banned_at[i]) - r->first_month;
            if (bm < to) to = bm < last[i] ? last[i] : (int32_t)bm;
        }
        uint8_t *m = r->at_risk + (size_t)row[i] * T;
        if (opts->time == FORA_TRAJ_CAREER)
            for (int32_t k = 0; k <= to - from; k++)
                m[k] = 1;
        else
            for (int32_t t = from; t <= to; t++)
                m[t] = 1;
        /* own trend, always on forum months */
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

    /* fits */
    size_t nk = (size_t)(opts->kmax - opts->kmin + 1);
    r->models = calloc(nk, sizeof *r->models);
    if (!r->models) goto nomem;
    fora_gbtm_data_t data = {n, T, r->counts, r->at_risk, NULL, time};
    fora_gbtm_opts_t go;
    fora_gbtm_opts_init(&go);
    go.model = opts->model;
    go.order = opts->order;
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
                cells[j] += 1;
            }
    }
    for (size_t j = 0; j < K; j++) {
        fora_traj_group_t *g = &r->groups[j];
        const fora_gbtm_group_t *fg = &r->fit->groups[j];
        g->pi = fg->pi;
        g->avepp = fg->avepp_defined ? fg->avepp : NAN;
        g->occ = fg->occ_defined ? fg->occ : NAN;
        double sz = (double)g->size;
        g->rate = cells[j] > 0 ? g->mean_posts / cells[j] : NAN;
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
        r->groups[j].label = label_group(&r->groups[j], j, K, (double)T);
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
