/*
 * analysis/survival.c - Kaplan-Meier curves, medians and the log-rank test,
 * computed the way R's survival package (3.x) does with its defaults, so the
 * two agree row by row.
 *
 * One radix sort orders the observations by time; one pass then counts the
 * rows of every curve (so each row array is allocated once), and a second
 * pass walks the blocks of equal times, emitting a row for the overall curve
 * and for each group present in the block, and adding the block's
 * contribution to the log-rank sums while the risk sets are still those just
 * before the block's time.
 *
 * Where R's results depend on a convention, the R function is named next to
 * the code that follows it: aeqSurv (merging nearly tied times), survfitKM
 * and survfit_confint (the curve and its interval), survmean (the median of
 * print.survfit), summary.survfit (horizons) and survdiff (the test).
 */
#include "fora/survival.h"

#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>

#include "fora/idmap.h"

/* R's sqrt(.Machine$double.eps), the tolerance of aeqSurv and survmean (2^-26). */
#define SURV_TOL 1.4901161193847656e-08

void fora_survival_opts_init(fora_survival_opts_t *o)
{
    o->conf = 0.95;
    o->timefix = true;
    o->horizons = NULL;
    o->nhorizons = 0;
}

/* ---- helpers ----------------------------------------------------------- */

/* calloc for arrays sized by input: NULL on overflow or exhaustion. */
static void *alloc_array(size_t n, size_t size)
{
    if (n == 0) n = 1;
    if (n > SIZE_MAX / size) return NULL;
    return calloc(n, size);
}

/* R's mean() of doubles: a long double sum, then one refinement pass. */
static double r_mean_unique(const double *y, size_t n)
{
    long double s = 0.0L, t = 0.0L;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && y[i] == y[i - 1]) continue;
        s += (long double)fabs(y[i]);
        k++;
    }
    s /= (long double)k;
    if (isfinite((double)s)) {
        for (size_t i = 0; i < n; i++) {
            if (i > 0 && y[i] == y[i - 1]) continue;
            t += (long double)fabs(y[i]) - s;
        }
        s += t / (long double)k;
    }
    return (double)s;
}

/*
 * R's aeqSurv on the sorted times t[0..n): consecutive distinct values whose
 * gap is <= tol, or <= tol relative to the mean of the distinct values, are
 * tied, and every value becomes the first value of its chain of ties.
 */
static void timefix(double *t, size_t n)
{
    if (n < 2) return;
    double mean = r_mean_unique(t, n);
    double prev = t[0], cut = t[0];
    for (size_t i = 1; i < n; i++) {
        double orig = t[i];
        if (orig != prev) {
            double dy = orig - prev;
            if (!(dy <= SURV_TOL || dy / mean <= SURV_TOL)) cut = orig;
            prev = orig;
        }
        t[i] = cut;
    }
}

/* The running Kaplan-Meier state of one curve. */
typedef struct km_state {
    int64_t risk;  /* at risk just before the next block */
    double surv;   /* S just after the last block */
    double varlog; /* Greenwood's sum of d / (n (n - d)) */
} km_state_t;

/* Appends the row of a block at `time` with d events and c censorings. */
static void km_emit(fora_survival_curve_t *cv, km_state_t *st, double time, int64_t d, int64_t c,
                    double z)
{
    fora_survival_row_t *r = &cv->rows[cv->nrows++];
    r->time = time;
    r->n_risk = st->risk;
    r->n_event = d;
    r->n_censor = c;
    if (d > 0) {
        double nr = (double)st->risk, dd = (double)d;
        st->surv *= (nr - dd) / nr;
        /* d = n gives +Inf, as in R: S is 0 from here on */
        st->varlog += dd / (nr * (nr - dd));
    }
    r->surv = st->surv;
    r->cum_event = 1.0 - st->surv;
    if (st->surv > 0.0) {
        /* survfit_confint, conf.type = "log" */
        double se = sqrt(st->varlog);
        r->se_defined = true;
        r->std_err_log = se;
        r->std_err = se * st->surv;
        r->lower = exp(log(st->surv) - z * se);
        r->upper = fmin(exp(log(st->surv) + z * se), 1.0);
    } else {
        r->se_defined = false;
        r->std_err_log = r->std_err = r->lower = r->upper = NAN;
    }
    st->risk -= d + c;
}

/* Which curve of a row the median is read from. */
enum { ON_SURV, ON_LOWER, ON_UPPER };

/*
 * survmean's minmin(): the first time the curve is below 1/2 + tol; when it
 * is 1/2 there (within tol), the midpoint between that time and the next
 * time the curve drops further.  Undefined values (the interval where S = 0)
 * are skipped, as R skips NA.
 */
static bool median_on(const fora_survival_curve_t *cv, int which, double *out)
{
    size_t i, j;
    double y1 = 0.0;
    for (i = 0; i < cv->nrows; i++) {
        const fora_survival_row_t *r = &cv->rows[i];
        if (which != ON_SURV && !r->se_defined) continue;
        y1 = which == ON_SURV ? r->surv : which == ON_LOWER ? r->lower : r->upper;
        if (y1 < 0.5 + SURV_TOL) break;
    }
    if (i == cv->nrows) return false;
    *out = cv->rows[i].time;
    if (fabs(y1 - 0.5) < SURV_TOL) {
        for (j = i + 1; j < cv->nrows; j++) {
            const fora_survival_row_t *r = &cv->rows[j];
            if (which != ON_SURV && !r->se_defined) continue;
            double y = which == ON_SURV ? r->surv : which == ON_LOWER ? r->lower : r->upper;
            if (y < y1) {
                *out = (cv->rows[i].time + r->time) / 2.0;
                break;
            }
        }
    }
    return true;
}

static void curve_finish(fora_survival_curve_t *cv, const fora_survival_opts_t *o)
{
    fora_survival_median_t *m = &cv->median;
    m->time = m->lower = m->upper = NAN;
    m->reached = median_on(cv, ON_SURV, &m->time);
    m->lower_reached = median_on(cv, ON_LOWER, &m->lower);
    m->upper_reached = median_on(cv, ON_UPPER, &m->upper);
    for (size_t h = 0; h < o->nhorizons; h++)
        fora_survival_curve_at(cv, o->horizons[h], &cv->horizons[h]);
}

void fora_survival_curve_at(const fora_survival_curve_t *c, double h, fora_survival_point_t *out)
{
    /* k = rows with time <= h */
    size_t lo = 0, hi = c->nrows;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->rows[mid].time <= h)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t k = lo;
    out->time = h;
    out->beyond_last = c->nrows == 0 || h > c->rows[c->nrows - 1].time;
    if (k == 0) {
        /* survfit0's row at time 0: S = 1 with no uncertainty */
        out->n_risk = c->nrows > 0 ? c->rows[0].n_risk : 0;
        out->surv = 1.0;
        out->std_err = 0.0;
        out->lower = out->upper = 1.0;
        out->cum_event = 0.0;
        out->se_defined = true;
        return;
    }
    const fora_survival_row_t *r = &c->rows[k - 1];
    if (r->time == h)
        out->n_risk = r->n_risk;
    else
        out->n_risk = k < c->nrows ? c->rows[k].n_risk : 0;
    out->surv = r->surv;
    out->std_err = r->std_err;
    out->lower = r->lower;
    out->upper = r->upper;
    out->cum_event = r->cum_event;
    out->se_defined = r->se_defined;
}

static void logrank_free(fora_survival_logrank_t *lr)
{
    if (lr == NULL) return;
    free(lr->n);
    free(lr->observed);
    free(lr->expected);
    free(lr->variance);
    free(lr);
}

void fora_survival_destroy(fora_survival_t *s)
{
    if (s == NULL) return;
    free(s->all.rows);
    free(s->all.horizons);
    if (s->groups != NULL) {
        for (size_t g = 0; g < s->ngroups; g++) {
            free(s->groups[g].rows);
            free(s->groups[g].horizons);
        }
        free(s->groups);
    }
    logrank_free(s->logrank);
    free(s);
}

/*
 * x' V^-1 x by Cholesky, V = L L' (row-major k x k): |L^-1 x|^2.  False when
 * V is not positive definite.  Written out rather than taken from GSL, whose
 * Cholesky calls the process-wide error handler on a singular matrix.
 */
static bool chol_quad_form(const double *v, const double *x, size_t k, double *l, double *y,
                           double *out)
{
    for (size_t j = 0; j < k; j++) {
        double d = v[j * k + j];
        for (size_t c = 0; c < j; c++)
            d -= l[j * k + c] * l[j * k + c];
        if (!(d > 0.0)) return false;
        l[j * k + j] = sqrt(d);
        for (size_t i = j + 1; i < k; i++) {
            double a = v[i * k + j];
            for (size_t c = 0; c < j; c++)
                a -= l[i * k + c] * l[j * k + c];
            l[i * k + j] = a / l[j * k + j];
        }
    }
    double s = 0.0;
    for (size_t i = 0; i < k; i++) {
        double a = x[i];
        for (size_t c = 0; c < i; c++)
            a -= l[i * k + c] * y[c];
        y[i] = a / l[i * k + i];
        s += y[i] * y[i];
    }
    if (!isfinite(s)) return false;
    *out = s;
    return true;
}

/*
 * x' V^- x for the k x k symmetric matrix V (row-major): by Cholesky when V
 * is positive definite (R's solve() gives the same solution), else with the
 * Moore-Penrose inverse, singular values below sqrt(eps) times the largest
 * counting as zero (MASS::ginv's rule); *rank gets the rank used.
 */
static fora_err_t quad_form(const double *v, const double *x, size_t k, double *chisq, int *rank,
                            bool *generalised, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    gsl_matrix *a = NULL, *vv = NULL;
    gsl_vector *sv = NULL, *work = NULL;
    double *l = NULL, *y = NULL;

    l = alloc_array(k * k, sizeof(double));
    y = alloc_array(k, sizeof(double));
    if (l == NULL || y == NULL) {
        err = fora_diag_set(diag, FORA_ENOMEM, "no memory for the log-rank variance matrix");
        goto out;
    }
    *generalised = false;
    *rank = (int)k;
    if (chol_quad_form(v, x, k, l, y, chisq)) goto out;

    /* singular: V = U S W', V^+ = W S^-1 U' */
    *generalised = true;
    a = gsl_matrix_alloc(k, k);
    vv = gsl_matrix_alloc(k, k);
    sv = gsl_vector_alloc(k);
    work = gsl_vector_alloc(k);
    if (a == NULL || vv == NULL || sv == NULL || work == NULL) {
        err = fora_diag_set(diag, FORA_ENOMEM, "no memory for the log-rank variance matrix");
        goto out;
    }
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < k; j++)
            gsl_matrix_set(a, i, j, v[i * k + j]);
    if (gsl_linalg_SV_decomp(a, vv, sv, work) != GSL_SUCCESS) {
        err = fora_diag_set(diag, FORA_ENUMERIC, "singular value decomposition failed");
        goto out;
    }
    double smax = gsl_vector_get(sv, 0), s = 0.0;
    int r = 0;
    for (size_t c = 0; c < k; c++) {
        double sc = gsl_vector_get(sv, c);
        if (!(sc > SURV_TOL * smax)) continue;
        r++;
        double ux = 0.0, wx = 0.0;
        for (size_t i = 0; i < k; i++) {
            ux += gsl_matrix_get(a, i, c) * x[i];
            wx += gsl_matrix_get(vv, i, c) * x[i];
        }
        s += wx * ux / sc;
    }
    *chisq = s;
    *rank = r;
out:
    gsl_matrix_free(a);
    gsl_matrix_free(vv);
    gsl_vector_free(sv);
    gsl_vector_free(work);
    free(l);
    free(y);
    return err;
}

/* survdiff: the chi-square over the groups with expected > 0, first one dropped. */
static fora_err_t logrank_test(fora_survival_logrank_t *lr, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    size_t G = lr->ngroups, K = 0;
    size_t *keep = NULL;
    double *v = NULL, *x = NULL;

    keep = alloc_array(G, sizeof(size_t));
    if (keep == NULL) {
        err = fora_diag_set(diag, FORA_ENOMEM, "no memory for the log-rank test");
        goto out;
    }
    for (size_t g = 0; g < G; g++)
        if (lr->expected[g] > 0.0) keep[K++] = g;
    lr->chisq = 0.0;
    lr->generalised = false;
    if (K == 0) {
        /* no events at all: R's pchisq(0, -1) is NaN */
        lr->df = 0;
        lr->p = NAN;
        lr->p_defined = false;
        goto out;
    }
    lr->df = (int)K - 1;
    lr->p_defined = true;
    if (K == 1) {
        lr->p = 1.0; /* pchisq(0, 0, lower.tail = FALSE) */
        goto out;
    }
    size_t k = K - 1;
    v = alloc_array(k * k, sizeof(double));
    x = alloc_array(k, sizeof(double));
    if (v == NULL || x == NULL) {
        err = fora_diag_set(diag, FORA_ENOMEM, "no memory for the log-rank test");
        goto out;
    }
    for (size_t i = 0; i < k; i++) {
        size_t gi = keep[i + 1];
        x[i] = lr->observed[gi] - lr->expected[gi];
        for (size_t j = 0; j < k; j++)
            v[i * k + j] = lr->variance[gi * G + keep[j + 1]];
    }
    int rank = 0;
    if ((err = quad_form(v, x, k, &lr->chisq, &rank, &lr->generalised, diag)) != FORA_OK) goto out;
    if (lr->generalised) lr->df = rank;
    if (lr->chisq < 0.0) lr->chisq = 0.0; /* rounding on a semi-definite matrix */
    lr->p = lr->df == 0 ? 1.0 : gsl_cdf_chisq_Q(lr->chisq, (double)lr->df);
out:
    free(keep);
    free(v);
    free(x);
    return err;
}

/* ---- the computation --------------------------------------------------- */

fora_err_t fora_survival_compute(const double *time, const uint8_t *event, const int32_t *group,
                                 size_t n, size_t ngroups, const fora_survival_opts_t *opts,
                                 fora_survival_t **out, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    fora_survival_opts_t defaults;
    fora_survival_t *s = NULL;
    uint64_t *keys = NULL, *ktmp = NULL;
    uint32_t *idx = NULL, *vtmp = NULL;
    double *st = NULL;              /* times in sorted order (after timefix) */
    int64_t *last_block = NULL;     /* per group: the last block it was seen in */
    int64_t *gd = NULL, *gc = NULL; /* per group: events, censorings in the block */
    int32_t *touched = NULL;        /* groups present in the block */
    km_state_t *gstate = NULL;
    int32_t *active = NULL; /* groups at risk, for the log-rank sums */
    const size_t G = ngroups;

    if (opts == NULL) {
        fora_survival_opts_init(&defaults);
        opts = &defaults;
    }
    if (!(opts->conf > 0.0 && opts->conf < 1.0))
        return fora_diag_set(diag, FORA_EINVAL,
                             "invalid confidence level \"%g\": must be in (0, 1)", opts->conf);
    if (opts->nhorizons > 0 && opts->horizons == NULL)
        return fora_diag_set(diag, FORA_EINVAL, "horizons missing");
    for (size_t h = 0; h < opts->nhorizons; h++)
        if (!(isfinite(opts->horizons[h]) && opts->horizons[h] >= 0.0))
            return fora_diag_set(diag, FORA_EINVAL,
                                 "invalid horizon \"%g\": must be finite and >= 0",
                                 opts->horizons[h]);
    if (G == 0 && group != NULL)
        return fora_diag_set(diag, FORA_EINVAL, "group indices given with no groups");
    if (G > (size_t)INT32_MAX) return fora_diag_set(diag, FORA_EINVAL, "too many groups (%zu)", G);
    if (n > (size_t)UINT32_MAX)
        return fora_diag_set(diag, FORA_ETOOLARGE, "too many observations (%zu): at most %lu", n,
                             (unsigned long)UINT32_MAX);
    if (n > 0 && (time == NULL || event == NULL))
        return fora_diag_set(diag, FORA_EINVAL, "times or events missing");
    for (size_t i = 0; i < n; i++) {
        if (!(isfinite(time[i]) && time[i] >= 0.0))
            return fora_diag_set(diag, FORA_EINVAL,
                                 "observation %zu: invalid time \"%g\": must be finite and >= 0", i,
                                 time[i]);
        if (event[i] > 1)
            return fora_diag_set(diag, FORA_EINVAL,
                                 "observation %zu: invalid event \"%u\": must be 0 or 1", i,
                                 (unsigned)event[i]);
        if (group != NULL && (group[i] < 0 || (size_t)group[i] >= G))
            return fora_diag_set(diag, FORA_EINVAL,
                                 "observation %zu: invalid group \"%d\": must be in [0, %zu)", i,
                                 (int)group[i], G);
    }

    const double z = gsl_cdf_ugaussian_Pinv(1.0 - (1.0 - opts->conf) / 2.0);
    s = calloc(1, sizeof(*s));
    if (s == NULL) goto nomem;
    s->conf = opts->conf;
    s->ngroups = G;
    if (G > 0) {
        s->groups = alloc_array(G, sizeof(*s->groups));
        gstate = alloc_array(G, sizeof(*gstate));
        last_block = alloc_array(G, sizeof(*last_block));
        gd = alloc_array(G, sizeof(*gd));
        gc = alloc_array(G, sizeof(*gc));
        touched = alloc_array(G, sizeof(*touched));
        if (s->groups == NULL || gstate == NULL || last_block == NULL || gd == NULL || gc == NULL ||
            touched == NULL)
            goto nomem;
    }

    /* sort by time: non-negative doubles order as their bit patterns */
    keys = alloc_array(n, sizeof(*keys));
    idx = alloc_array(n, sizeof(*idx));
    ktmp = alloc_array(n, sizeof(*ktmp));
    vtmp = alloc_array(n, sizeof(*vtmp));
    st = alloc_array(n, sizeof(*st));
    if (keys == NULL || idx == NULL || ktmp == NULL || vtmp == NULL || st == NULL) goto nomem;
    for (size_t i = 0; i < n; i++) {
        double t = time[i] == 0.0 ? 0.0 : time[i]; /* -0 sorts as +0 */
        memcpy(&keys[i], &t, sizeof(t));
        idx[i] = (uint32_t)i;
    }
    fora_radix_sort_u64(keys, idx, n, ktmp, vtmp);
    free(ktmp);
    ktmp = NULL;
    free(vtmp);
    vtmp = NULL;
    for (size_t i = 0; i < n; i++)
        memcpy(&st[i], &keys[i], sizeof(double));
    free(keys);
    keys = NULL;
    if (opts->timefix) timefix(st, n);

    /* pass 1: sizes, events and rows of every curve */
    size_t nblocks = 0;
    for (size_t g = 0; g < G; g++)
        last_block[g] = -1;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && st[j] == st[i]) {
            uint32_t o = idx[j];
            int32_t g = group != NULL ? group[o] : 0;
            s->all.n++;
            s->all.events += event[o];
            if (G > 0) {
                s->groups[g].n++;
                s->groups[g].events += event[o];
                if (last_block[g] != (int64_t)nblocks) {
                    last_block[g] = (int64_t)nblocks;
                    s->groups[g].nrows++;
                }
            }
            j++;
        }
        nblocks++;
        i = j;
    }
    s->all.nrows = nblocks;
    if ((s->all.rows = alloc_array(nblocks, sizeof(fora_survival_row_t))) == NULL) goto nomem;
    if (opts->nhorizons > 0 &&
        (s->all.horizons = alloc_array(opts->nhorizons, sizeof(fora_survival_point_t))) == NULL)
        goto nomem;
    for (size_t g = 0; g < G; g++) {
        fora_survival_curve_t *cv = &s->groups[g];
        if ((cv->rows = alloc_array(cv->nrows, sizeof(fora_survival_row_t))) == NULL) goto nomem;
        if (opts->nhorizons > 0 &&
            (cv->horizons = alloc_array(opts->nhorizons, sizeof(fora_survival_point_t))) == NULL)
            goto nomem;
        cv->nrows = 0; /* counts again as rows are emitted */
        gstate[g].risk = cv->n;
        gstate[g].surv = 1.0;
        gstate[g].varlog = 0.0;
    }
    s->all.nrows = 0;

    fora_survival_logrank_t *lr = NULL;
    if (G >= 2) {
        lr = s->logrank = calloc(1, sizeof(*lr));
        if (lr == NULL) goto nomem;
        lr->ngroups = G;
        lr->n = alloc_array(G, sizeof(*lr->n));
        lr->observed = alloc_array(G, sizeof(*lr->observed));
        lr->expected = alloc_array(G, sizeof(*lr->expected));
        if (G > SIZE_MAX / G) goto nomem;
        lr->variance = alloc_array(G * G, sizeof(*lr->variance));
        active = alloc_array(G, sizeof(*active));
        if (lr->n == NULL || lr->observed == NULL || lr->expected == NULL || lr->variance == NULL ||
            active == NULL)
            goto nomem;
        for (size_t g = 0; g < G; g++) {
            lr->n[g] = s->groups[g].n;
            lr->observed[g] = (double)s->groups[g].events;
        }
    }

    /* pass 2: the rows, block by block */
    km_state_t all = {(int64_t)n, 1.0, 0.0};
    for (size_t i = 0; i < n;) {
        size_t j = i, ntouched = 0;
        int64_t d = 0;
        while (j < n && st[j] == st[i]) {
            uint32_t o = idx[j];
            d += event[o];
            if (G > 0) {
                int32_t g = group != NULL ? group[o] : 0;
                if (gd[g] == 0 && gc[g] == 0) touched[ntouched++] = g;
                if (event[o])
                    gd[g]++;
                else
                    gc[g]++;
            }
            j++;
        }
        if (lr != NULL && d > 0) {
            /* survdiff2.c: expected d n_j / n; variance of the hypergeometric counts */
            double nn = (double)all.risk, dd = (double)d;
            size_t na = 0;
            for (size_t g = 0; g < G; g++)
                if (gstate[g].risk > 0) active[na++] = (int32_t)g;
            for (size_t a = 0; a < na; a++) {
                int32_t g = active[a];
                lr->expected[g] += dd * (double)gstate[g].risk / nn;
            }
            if (all.risk > 1) {
                double kt = dd * (nn - dd) / (nn - 1.0);
                for (size_t a = 0; a < na; a++) {
                    int32_t g = active[a];
                    double pg = kt * (double)gstate[g].risk / nn;
                    double *row = &lr->variance[(size_t)g * G];
                    row[g] += pg;
                    for (size_t b = 0; b < na; b++) {
                        int32_t h = active[b];
                        row[h] -= pg * (double)gstate[h].risk / nn;
                    }
                }
            }
        }
        km_emit(&s->all, &all, st[i], d, (int64_t)(j - i) - d, z);
        for (size_t t = 0; t < ntouched; t++) {
            int32_t g = touched[t];
            km_emit(&s->groups[g], &gstate[g], st[i], gd[g], gc[g], z);
            gd[g] = gc[g] = 0;
        }
        i = j;
    }
    assert(all.risk == 0);

    curve_finish(&s->all, opts);
    for (size_t g = 0; g < G; g++)
        curve_finish(&s->groups[g], opts);
    if (lr != NULL && (err = logrank_test(lr, diag)) != FORA_OK) goto out;

    *out = s;
    s = NULL;
    goto out;
nomem:
    err = fora_diag_set(diag, FORA_ENOMEM,
                        "out of memory for the survival analysis of %zu "
                        "observations in %zu groups",
                        n, G);
out:
    free(keys);
    free(ktmp);
    free(idx);
    free(vtmp);
    free(st);
    free(last_block);
    free(gd);
    free(gc);
    free(touched);
    free(gstate);
    free(active);
    fora_survival_destroy(s);
    return err;
}
