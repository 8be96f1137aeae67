/*
 * analysis/gbtm.c - GBTM data preparation (validation, pattern collapsing),
 * the likelihood, its gradient and the EM steps (include/fora/gbtm.h).
 *
 * Per group j and period t the cell density depends on (y, o) only through
 * eta = eta_jt + o:
 *   Poisson:  log f = y eta - e^eta - log y!
 *   ZIP:      p = logistic(s_jt); log f(0) = logaddexp(s, -lambda) - softplus(s),
 *             log f(y>0) = -softplus(s) + y eta - lambda - log y!
 * and the E-step's latent "structural zero" probability of a zero cell is
 * r = p / f(0) = exp(s - logaddexp(s, -lambda)).
 */
#include <float.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gbtm_internal.h"

#define ETA_MAX 60.0
#define ETA_MIN -200.0
/* the zero-inflation logit of ZIP stays in [-ZLOGIT_MAX, ZLOGIT_MAX] */
#define ZLOGIT_MAX 40.0
/* Newton iterations per M-step: each one raises Q, so EM stays monotone
 * (a generalised EM); the M-step need not be solved exactly. */
#ifndef MSTEP_NEWTON
#define MSTEP_NEWTON 1
#endif

static inline double clamp_eta(double e)
{
    return e > ETA_MAX ? ETA_MAX : (e < ETA_MIN ? ETA_MIN : e);
}

static inline double softplus(double s)
{
    return s > 0 ? s + log1p(exp(-s)) : log1p(exp(s));
}

static inline double logaddexp(double a, double b)
{
    return a > b ? a + log1p(exp(b - a)) : b + log1p(exp(a - b));
}

static inline double logistic(double s)
{
    return s >= 0 ? 1.0 / (1.0 + exp(-s)) : exp(s) / (1.0 + exp(s));
}

void fora_gbtm_opts_init(fora_gbtm_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->model = FORA_GBTM_POISSON;
    o->order = 2;
    o->orders = NULL;
    o->starts = 10;
    o->seed = 1;
    o->max_iter = 5000;
    o->tol = 1e-10;
    o->conf = 0.95;
    o->collapse = true;
    o->se = true;
}

const char *fora_gbtm_model_name(fora_gbtm_model_t m)
{
    switch (m) {
    case FORA_GBTM_POISSON:
        return "poisson";
    case FORA_GBTM_ZIP:
        return "zip";
    case FORA_GBTM_ZIPTAU:
        return "ziptau";
    }
    return "unknown";
}

size_t fora_gbtm_npar(size_t K, const fora_gbtm_opts_t *o)
{
    if (K < 1 || K > FORA_GBTM_MAX_GROUPS) return 0;
    size_t n = K - 1;
    for (size_t j = 0; j < K; j++) {
        int d = o->orders != NULL ? o->orders[j] : o->order;
        if (d < 0 || d > FORA_GBTM_MAX_ORDER) return 0;
        if (o->zero_order < 0 || o->zero_order > FORA_GBTM_MAX_ORDER ||
            (o->zero_order > 0 && o->model != FORA_GBTM_ZIP))
            return 0;
        n += (size_t)d + 1;
        if (o->model == FORA_GBTM_ZIP) n += (size_t)o->zero_order + 1;
        if (o->model == FORA_GBTM_ZIPTAU) n++;
    }
    return n;
}

/* ---- data ------------------------------------------------------------- */

typedef struct rep {
    uint64_t hash;
    uint32_t run0, nrun, cell0, ncell;
    int32_t ncount;
    double lconst;
} rep_t;

typedef struct hkey {
    uint64_t hash;
    size_t member;
} hkey_t;

static int cmp_hkey(const void *a, const void *b)
{
    const hkey_t *x = a, *y = b;
    if (x->hash != y->hash) return x->hash < y->hash ? -1 : 1;
    return x->member < y->member ? -1 : (x->member > y->member);
}

static inline uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdULL;
}

static uint64_t dbits(double v)
{
    uint64_t u;
    if (v == 0.0) v = 0.0; /* -0 and 0 alike */
    memcpy(&u, &v, sizeof(u));
    return u;
}

static void *grow(void *p, size_t *cap, size_t need, size_t size, bool *ok)
{
    if (need <= *cap) return p;
    size_t c = *cap == 0 ? 1024 : *cap;
    while (c < need)
        c *= 2;
    void *q = realloc(p, c * size);
    if (q == NULL) {
        *ok = false;
        return p;
    }
    *cap = c;
    return q;
}

/* The working arrays of c (sized by K, T and P). */
static fora_err_t alloc_work(fora__gbtm_ctx_t *c)
{
    const size_t K = c->K, T = c->T, P = c->P;
    c->logpi = calloc(K, sizeof(double));
    c->eta = calloc(K * T, sizeof(double));
    c->s = calloc(K * T, sizeof(double));
    c->l0 = calloc(K * T, sizeof(double));
    c->r0 = calloc(K * T, sizeof(double));
    c->pos = calloc(K * T, sizeof(double));
    c->pref = calloc(K * (T + 1), sizeof(double));
    c->post = calloc(P * K, sizeof(double));
    c->Nj = calloc(K, sizeof(double));
    c->W = calloc(K * T, sizeof(double));
    c->Ym = calloc(K * 4, sizeof(double));
    c->beta = calloc(K * 4, sizeof(double));
    c->E = calloc(K * T, sizeof(double));
    c->R = calloc(K * T, sizeof(double));
    c->diff = calloc(K * (T + 1), sizeof(double));
    if (c->logpi == NULL || c->eta == NULL || c->s == NULL || c->l0 == NULL || c->r0 == NULL ||
        c->pos == NULL || c->pref == NULL || c->post == NULL || c->Nj == NULL || c->W == NULL ||
        c->Ym == NULL || c->beta == NULL || c->E == NULL || c->R == NULL || c->diff == NULL)
        return FORA_ENOMEM;
    return FORA_OK;
}

fora_err_t fora__gbtm_ctx_init(fora__gbtm_ctx_t *c, const fora_gbtm_data_t *d, size_t K,
                               const fora_gbtm_opts_t *o, fora_diag_t *diag)
{
    memset(c, 0, sizeof(*c));
    rep_t *reps = NULL;
    hkey_t *keys = NULL;
    int32_t *runs = NULL;
    fora__gbtm_cell_t *cells = NULL;
    size_t runcap = 0, cellcap = 0, nruns = 0, ncells = 0;
    fora_err_t err = FORA_OK;

    if (K < 1 || K > FORA_GBTM_MAX_GROUPS)
        return fora_diag_set(diag, FORA_EINVAL, "number of groups %zu out of range 1..%d", K,
                             FORA_GBTM_MAX_GROUPS);
    for (size_t j = 0; j < K; j++) {
        int dd = o->orders != NULL ? o->orders[j] : o->order;
        if (dd < 0 || dd > FORA_GBTM_MAX_ORDER)
            return fora_diag_set(diag, FORA_EINVAL,
                                 "polynomial order %d (group %zu) out of range 0..%d", dd, j + 1,
                                 FORA_GBTM_MAX_ORDER);
        c->order[j] = dd;
    }
    if (o->model != FORA_GBTM_POISSON && o->model != FORA_GBTM_ZIP && o->model != FORA_GBTM_ZIPTAU)
        return fora_diag_set(diag, FORA_EINVAL, "unknown model %d", (int)o->model);
    if (o->zero_order < 0 || o->zero_order > FORA_GBTM_MAX_ORDER)
        return fora_diag_set(diag, FORA_EINVAL, "zero_order %d out of range 0..%d", o->zero_order,
                             FORA_GBTM_MAX_ORDER);
    if (o->zero_order > 0 && o->model != FORA_GBTM_ZIP)
        return fora_diag_set(diag, FORA_EINVAL,
                             "zero_order %d needs the zip model (the zero inflation of %s is not "
                             "a polynomial)",
                             o->zero_order, fora_gbtm_model_name(o->model));
    if (o->starts < 1 || o->starts > FORA_GBTM_MAX_STARTS)
        return fora_diag_set(diag, FORA_EINVAL, "starts %zu out of range 1..%d", o->starts,
                             FORA_GBTM_MAX_STARTS);
    if (o->max_iter < 1) return fora_diag_set(diag, FORA_EINVAL, "max_iter must be >= 1");
    if (!(o->tol > 0.0 && o->tol < 1.0))
        return fora_diag_set(diag, FORA_EINVAL, "tol must be between 0 and 1");
    if (!(o->conf > 0.0 && o->conf < 1.0))
        return fora_diag_set(diag, FORA_EINVAL, "conf must be between 0 and 1");
    if (d->nmembers < 1 || d->nperiods < 1 || d->counts == NULL || d->time == NULL)
        return fora_diag_set(diag, FORA_EINVAL, "no data (%zu members, %zu periods)", d->nmembers,
                             d->nperiods);
    if (d->nperiods > INT32_MAX / 2 || d->nmembers > UINT32_MAX / 2)
        return fora_diag_set(diag, FORA_ETOOLARGE, "too many members or periods");
    c->model = o->model;
    c->zorder = o->model == FORA_GBTM_ZIP ? o->zero_order : 0;
    c->K = K;
    c->T = d->nperiods;
    c->n = d->nmembers;
    c->N = (double)d->nmembers;
    size_t idx = K - 1;
    for (size_t j = 0; j < K; j++) {
        c->boff[j] = idx;
        idx += (size_t)c->order[j] + 1;
        if (c->model != FORA_GBTM_POISSON) {
            c->zoff[j] = idx;
            idx += (size_t)c->zorder + 1;
        }
    }
    c->npar = idx;
    const size_t T = c->T, n = c->n;
    for (size_t t = 0; t < T; t++)
        if (!isfinite(d->time[t]))
            return fora_diag_set(diag, FORA_EINVAL, "time of period %zu is not finite", t + 1);

    reps = calloc(n, sizeof(*reps));
    keys = calloc(n, sizeof(*keys));
    if (reps == NULL || keys == NULL) goto nomem;
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        const double *y = d->counts + i * T;
        const uint8_t *m = d->at_risk != NULL ? d->at_risk + i * T : NULL;
        const double *of = d->offset != NULL ? d->offset + i * T : NULL;
        rep_t *r = &reps[i];
        uint64_t h = 0x12345678u;
        r->run0 = (uint32_t)nruns;
        r->cell0 = (uint32_t)ncells;
        int32_t start = -1;
        for (size_t t = 0; t <= T; t++) {
            bool risk = t < T && (m == NULL || m[t] != 0);
            if (risk) {
                double v = y[t], ov = of != NULL ? of[t] : 0.0;
                if (!isfinite(v) || v < 0.0 || v != floor(v) || v > 1e9) {
                    err = fora_diag_set(diag, FORA_EINVAL,
                                        "member %zu, period %zu: count %g is not a whole number "
                                        ">= 0",
                                        i + 1, t + 1, v);
                    goto out;
                }
                if (!isfinite(ov)) {
                    err =
                        fora_diag_set(diag, FORA_EINVAL,
                                      "member %zu, period %zu: offset is not finite", i + 1, t + 1);
                    goto out;
                }
                r->ncount++;
                if (start < 0) start = (int32_t)t;
                if (v != 0.0 || ov != 0.0) {
                    cells = grow(cells, &cellcap, ncells + 1, sizeof(*cells), &ok);
                    if (!ok) goto nomem;
                    cells[ncells].t = (int32_t)t;
                    cells[ncells].y = v;
                    cells[ncells].off = ov;
                    ncells++;
                    r->lconst -= lgamma(v + 1.0);
                    h = mix(mix(mix(h, (uint64_t)t), dbits(v)), dbits(ov));
                }
            } else if (start >= 0) {
                runs = grow(runs, &runcap, 2 * nruns + 2, sizeof(*runs), &ok);
                if (!ok) goto nomem;
                runs[2 * nruns] = start;
                runs[2 * nruns + 1] = (int32_t)t;
                nruns++;
                h = mix(mix(h, (uint64_t)start | 0x100000000ULL), (uint64_t)t);
                start = -1;
            }
        }
        r->nrun = (uint32_t)(nruns - r->run0);
        r->ncell = (uint32_t)(ncells - r->cell0);
        r->hash = h;
        keys[i].hash = o->collapse ? h : (uint64_t)i;
        keys[i].member = i;
        c->ncells += r->ncount;
    }
    if (o->collapse) qsort(keys, n, sizeof(*keys), cmp_hkey);

    /* patterns in order of their hash; members point at them */
    c->pat = calloc(n, sizeof(*c->pat));
    c->member_pattern = calloc(n, sizeof(*c->member_pattern));
    c->runs = malloc((2 * nruns + 2) * sizeof(*c->runs));
    c->cells = malloc((ncells + 1) * sizeof(*c->cells));
    if (c->pat == NULL || c->member_pattern == NULL || c->runs == NULL || c->cells == NULL)
        goto nomem;
    size_t P = 0, pr = 0, pc = 0, run_start = 0;
    for (size_t k = 0; k < n; k++) {
        size_t i = keys[k].member;
        const rep_t *r = &reps[i];
        if (k == 0 || keys[k].hash != keys[k - 1].hash) run_start = P;
        size_t p = SIZE_MAX;
        if (o->collapse) {
            for (size_t q = run_start; q < P; q++) {
                /* same hash: compare with the arrays already copied for pattern q */
                const fora__gbtm_pattern_t *lead = &c->pat[q];
                if (lead->nrun != r->nrun || lead->ncell != r->ncell) continue;
                if (memcmp(c->runs + 2 * (size_t)lead->run0, runs + 2 * (size_t)r->run0,
                           2 * (size_t)r->nrun * sizeof(*runs)) != 0)
                    continue;
                bool eq = true;
                for (uint32_t u = 0; eq && u < r->ncell; u++) {
                    const fora__gbtm_cell_t *x = &c->cells[lead->cell0 + u],
                                            *y = &cells[r->cell0 + u];
                    eq = x->t == y->t && x->y == y->y && x->off == y->off;
                }
                if (eq) {
                    p = q;
                    break;
                }
            }
        }
        if (p == SIZE_MAX) {
            p = P++;
            fora__gbtm_pattern_t *pt = &c->pat[p];
            pt->w = 0.0;
            pt->lconst = r->lconst;
            pt->ncount = r->ncount;
            pt->run0 = (uint32_t)pr;
            pt->nrun = r->nrun;
            pt->cell0 = (uint32_t)pc;
            pt->ncell = r->ncell;
            memcpy(c->runs + 2 * pr, runs + 2 * (size_t)r->run0,
                   2 * (size_t)r->nrun * sizeof(*runs));
            memcpy(c->cells + pc, cells + r->cell0, (size_t)r->ncell * sizeof(*cells));
            pr += r->nrun;
            pc += r->ncell;
        }
        c->pat[p].w += 1.0;
        c->member_pattern[i] = (int32_t)p;
    }
    c->P = P;

    c->X = calloc(T * 4, sizeof(double));
    if (c->X == NULL || alloc_work(c) != FORA_OK) goto nomem;
    for (size_t t = 0; t < T; t++) {
        double x = d->time[t];
        c->X[4 * t] = 1.0;
        c->X[4 * t + 1] = x;
        c->X[4 * t + 2] = x * x;
        c->X[4 * t + 3] = x * x * x;
    }
    for (size_t p = 0; p < c->P; p++) {
        fora__gbtm_pattern_t *pt = &c->pat[p];
        for (uint32_t k = 0; k < pt->ncell; k++) {
            const fora__gbtm_cell_t *cl = &c->cells[pt->cell0 + k];
            for (int q = 0; q < 4; q++)
                pt->S[q] += cl->y * c->X[4 * (size_t)cl->t + (size_t)q];
            if (cl->off != 0.0) pt->noff++;
        }
    }
    goto out;
nomem:
    err =
        fora_diag_set(diag, FORA_ENOMEM, "out of memory preparing %zu members x %zu periods", n, T);
out:
    free(reps);
    free(keys);
    free(runs);
    free(cells);
    if (err != FORA_OK) fora__gbtm_ctx_destroy(c);
    return err;
}

fora_err_t fora__gbtm_ctx_subsample(const fora__gbtm_ctx_t *c, size_t nsample, gsl_rng *rng,
                                    fora__gbtm_ctx_t *sub, fora_diag_t *diag)
{
    memset(sub, 0, sizeof(*sub));
    double *cnt = calloc(c->P, sizeof(double));
    if (cnt == NULL) return fora_diag_set(diag, FORA_ENOMEM, "out of memory for a subsample");
    for (size_t k = 0; k < nsample; k++)
        cnt[c->member_pattern[gsl_rng_uniform_int(rng, c->n)]] += 1.0;
    size_t P = 0, nr = 0, nc = 0;
    for (size_t p = 0; p < c->P; p++)
        if (cnt[p] > 0) {
            P++;
            nr += c->pat[p].nrun;
            nc += c->pat[p].ncell;
        }
    sub->model = c->model;
    sub->zorder = c->zorder;
    sub->K = c->K;
    sub->T = c->T;
    sub->P = P;
    sub->npar = c->npar;
    memcpy(sub->order, c->order, sizeof(c->order));
    memcpy(sub->boff, c->boff, sizeof(c->boff));
    memcpy(sub->zoff, c->zoff, sizeof(c->zoff));
    sub->n = nsample;
    sub->N = (double)nsample;
    sub->X = malloc(c->T * 4 * sizeof(double));
    sub->pat = calloc(P > 0 ? P : 1, sizeof(*sub->pat));
    sub->runs = malloc((2 * nr + 2) * sizeof(*sub->runs));
    sub->cells = malloc((nc + 1) * sizeof(*sub->cells));
    if (sub->X == NULL || sub->pat == NULL || sub->runs == NULL || sub->cells == NULL ||
        alloc_work(sub) != FORA_OK) {
        free(cnt);
        fora__gbtm_ctx_destroy(sub);
        return fora_diag_set(diag, FORA_ENOMEM, "out of memory for a subsample");
    }
    memcpy(sub->X, c->X, c->T * 4 * sizeof(double));
    size_t q = 0;
    nr = nc = 0;
    for (size_t p = 0; p < c->P; p++) {
        if (cnt[p] == 0) continue;
        fora__gbtm_pattern_t *d = &sub->pat[q++];
        *d = c->pat[p];
        d->w = cnt[p];
        memcpy(sub->runs + 2 * nr, c->runs + 2 * (size_t)c->pat[p].run0,
               2 * (size_t)d->nrun * sizeof(*sub->runs));
        memcpy(sub->cells + nc, c->cells + c->pat[p].cell0, (size_t)d->ncell * sizeof(*sub->cells));
        d->run0 = (uint32_t)nr;
        d->cell0 = (uint32_t)nc;
        nr += d->nrun;
        nc += d->ncell;
        sub->ncells += (int64_t)d->ncount * (int64_t)d->w;
    }
    free(cnt);
    return FORA_OK;
}

static void free_work(fora__gbtm_ctx_t *c)
{
    free(c->logpi);
    free(c->eta);
    free(c->s);
    free(c->l0);
    free(c->r0);
    free(c->pos);
    free(c->pref);
    free(c->post);
    free(c->Nj);
    free(c->W);
    free(c->Ym);
    free(c->beta);
    free(c->E);
    free(c->R);
    free(c->diff);
}

void fora__gbtm_ctx_destroy(fora__gbtm_ctx_t *c)
{
    free(c->X);
    free(c->pat);
    free(c->runs);
    free(c->cells);
    free(c->member_pattern);
    free_work(c);
    memset(c, 0, sizeof(*c));
}

fora_err_t fora__gbtm_ctx_worker(const fora__gbtm_ctx_t *c, fora__gbtm_ctx_t *w)
{
    *w = *c;
    if (alloc_work(w) != FORA_OK) {
        free_work(w);
        memset(w, 0, sizeof(*w));
        return FORA_ENOMEM;
    }
    return FORA_OK;
}

void fora__gbtm_ctx_worker_destroy(fora__gbtm_ctx_t *w)
{
    free_work(w);
    memset(w, 0, sizeof(*w));
}

/* ---- likelihood ------------------------------------------------------- */

void fora__gbtm_set_params(fora__gbtm_ctx_t *c, const double *theta)
{
    const size_t K = c->K, T = c->T;
    double mx = 0.0;
    for (size_t j = 1; j < K; j++)
        if (theta[j - 1] > mx) mx = theta[j - 1];
    double z = exp(-mx);
    for (size_t j = 1; j < K; j++)
        z += exp(theta[j - 1] - mx);
    double lz = mx + log(z);
    c->logpi[0] = -lz;
    for (size_t j = 1; j < K; j++)
        c->logpi[j] = theta[j - 1] - lz;

    for (size_t j = 0; j < K; j++) {
        const double *b = theta + c->boff[j];
        const int d = c->order[j];
        double *pref = c->pref + j * (T + 1);
        for (int k = 0; k < 4; k++)
            c->beta[j * 4 + (size_t)k] = k <= d ? b[k] : 0.0;
        pref[0] = 0.0;
        for (size_t t = 0; t < T; t++) {
            const double *x = c->X + 4 * t;
            double e = 0.0;
            for (int k = 0; k <= d; k++)
                e += b[k] * x[k];
            e = clamp_eta(e);
            double lam = exp(e), s = 0.0, l0, r0 = 0.0;
            if (c->model == FORA_GBTM_POISSON) {
                l0 = -lam;
            } else {
                if (c->model == FORA_GBTM_ZIP) {
                    const double *g = theta + c->zoff[j];
                    for (int k = c->zorder; k >= 0; k--)
                        s = s * x[1] + g[k];
                    s = s > ZLOGIT_MAX ? ZLOGIT_MAX : (s < -ZLOGIT_MAX ? -ZLOGIT_MAX : s);
                } else {
                    s = -fora__gbtm_tau(theta[c->zoff[j]]) * e;
                }
                double la = logaddexp(s, -lam);
                l0 = la - softplus(s);
                r0 = exp(s - la);
            }
            c->eta[j * T + t] = e;
            c->s[j * T + t] = s;
            c->l0[j * T + t] = l0;
            c->r0[j * T + t] = r0;
            /* log f(y > 0, offset 0) - l0 = y eta + pos */
            c->pos[j * T + t] = c->model == FORA_GBTM_POISSON ? 0.0 : -softplus(s) - lam - l0;
            pref[t + 1] = pref[t] + l0;
        }
    }
}

/* log f and r of one at-risk cell in group j. */
static inline void cell_eval(const fora__gbtm_ctx_t *c, size_t j, const fora__gbtm_cell_t *cl,
                             double *logf, double *r)
{
    const size_t at = j * c->T + (size_t)cl->t;
    double e = clamp_eta(c->eta[at] + cl->off), lam = exp(e);
    if (c->model == FORA_GBTM_POISSON) {
        *logf = cl->y * e - lam;
        *r = 0.0;
        return;
    }
    double s = c->s[at];
    if (cl->y == 0.0) {
        double la = logaddexp(s, -lam);
        *logf = la - softplus(s);
        *r = exp(s - la);
    } else {
        *logf = -softplus(s) + cl->y * e - lam;
        *r = 0.0;
    }
}

double fora__gbtm_estep(fora__gbtm_ctx_t *c)
{
    const size_t K = c->K, T = c->T;
    const bool poisson = c->model == FORA_GBTM_POISSON;
    double ll = 0.0, lj[FORA_GBTM_MAX_GROUPS];
    for (size_t i = 0; i < c->P; i++) {
        const fora__gbtm_pattern_t *p = &c->pat[i];
        const int32_t *runs = c->runs + 2 * (size_t)p->run0;
        const fora__gbtm_cell_t *cells = c->cells + p->cell0;
        double mx = -INFINITY;
        for (size_t j = 0; j < K; j++) {
            const double *pref = c->pref + j * (T + 1);
            const double *l0 = c->l0 + j * T;
            double v = p->lconst;
            for (uint32_t k = 0; k < p->nrun; k++)
                v += pref[runs[2 * k + 1]] - pref[runs[2 * k]];
            /* sum of y eta over the cells, from the pattern's moments */
            const double *b = c->beta + j * 4;
            v += b[0] * p->S[0] + b[1] * p->S[1] + b[2] * p->S[2] + b[3] * p->S[3];
            const double *eta = c->eta + j * T, *pos = c->pos + j * T;
            if (poisson && p->noff == 0) goto done; /* log f - l0 = y eta: nothing more */
            for (uint32_t k = 0; k < p->ncell; k++) {
                const fora__gbtm_cell_t *cl = &cells[k];
                if (cl->off == 0.0) { /* then y > 0: no exp needed */
                    v += pos[cl->t];
                    continue;
                }
                double lf, r;
                cell_eval(c, j, cl, &lf, &r);
                v += lf - l0[cl->t] - cl->y * eta[cl->t];
            }
        done:
            lj[j] = c->logpi[j] + v;
            if (lj[j] > mx) mx = lj[j];
        }
        /* terms below e^-40 of the largest do not change the sum in double */
        double sum = 0.0, *w = c->post + i * K;
        for (size_t j = 0; j < K; j++) {
            double dlt = lj[j] - mx;
            w[j] = dlt < -40.0 ? 0.0 : exp(dlt);
            sum += w[j];
        }
        ll += p->w * (mx + log(sum));
        const double inv = 1.0 / sum;
        for (size_t j = 0; j < K; j++)
            w[j] *= inv;
    }
    return ll;
}

void fora__gbtm_accumulate(fora__gbtm_ctx_t *c, bool poisson_only)
{
    const size_t K = c->K, T = c->T;
    const bool zi = !poisson_only && c->model != FORA_GBTM_POISSON;
    memset(c->Nj, 0, K * sizeof(double));
    memset(c->Ym, 0, K * 4 * sizeof(double));
    memset(c->E, 0, K * T * sizeof(double));
    memset(c->R, 0, K * T * sizeof(double));
    memset(c->diff, 0, K * (T + 1) * sizeof(double));
    for (size_t i = 0; i < c->P; i++) {
        const fora__gbtm_pattern_t *p = &c->pat[i];
        const int32_t *runs = c->runs + 2 * (size_t)p->run0;
        const fora__gbtm_cell_t *cells = c->cells + p->cell0;
        const double *w = c->post + i * K;
        for (size_t j = 0; j < K; j++) {
            double cw = p->w * w[j];
            if (cw == 0.0) continue;
            c->Nj[j] += cw;
            double *diff = c->diff + j * (T + 1);
            for (uint32_t k = 0; k < p->nrun; k++) {
                diff[runs[2 * k]] += cw;
                diff[runs[2 * k + 1]] -= cw;
            }
            double *ym = c->Ym + j * 4;
            for (int q = 0; q < 4; q++)
                ym[q] += cw * p->S[q];
            if (!zi && p->noff == 0) continue;
            for (uint32_t k = 0; k < p->ncell; k++) {
                const fora__gbtm_cell_t *cl = &cells[k];
                const size_t at = j * T + (size_t)cl->t;
                double r = 0.0, r0 = 0.0;
                if (cl->off == 0.0) { /* y > 0: r = 0 */
                    if (zi) {
                        c->E[at] += cw * c->r0[at];
                        c->R[at] -= cw * c->r0[at];
                    }
                    continue;
                }
                if (zi) {
                    double lf;
                    cell_eval(c, j, cl, &lf, &r);
                    r0 = c->r0[at];
                }
                c->E[at] += cw * ((1.0 - r) * exp(cl->off) - (1.0 - r0));
                c->R[at] += cw * (r - r0);
            }
        }
    }
    for (size_t j = 0; j < K; j++) {
        double acc = 0.0;
        for (size_t t = 0; t < T; t++) {
            acc += c->diff[j * (T + 1) + t];
            const size_t at = j * T + t;
            double Wt = acc > 0.0 ? acc : 0.0, r0 = zi ? c->r0[at] : 0.0;
            c->W[at] = Wt;
            c->E[at] += Wt * (1.0 - r0);
            c->R[at] += Wt * r0;
        }
    }
}

void fora__gbtm_gradient(const fora__gbtm_ctx_t *c, const double *theta, double *grad)
{
    const size_t K = c->K, T = c->T;
    memset(grad, 0, c->npar * sizeof(double));
    double N = 0.0;
    for (size_t j = 0; j < K; j++)
        N += c->Nj[j];
    for (size_t j = 1; j < K; j++)
        grad[j - 1] = c->Nj[j] - N * exp(c->logpi[j]);
    for (size_t j = 0; j < K; j++) {
        double *gb = grad + c->boff[j];
        const int d = c->order[j];
        for (int k = 0; k <= d; k++)
            gb[k] = c->Ym[j * 4 + (size_t)k]; /* sum of y x^k */
        double tau = c->model == FORA_GBTM_ZIPTAU ? fora__gbtm_tau(theta[c->zoff[j]]) : 0.0;
        double gz = 0.0, gzk[FORA_GBTM_MAX_ORDER + 1] = {0};
        for (size_t t = 0; t < T; t++) {
            const size_t at = j * T + t;
            double e = c->eta[at], lam = exp(e);
            double u = -c->E[at] * lam;
            if (c->model != FORA_GBTM_POISSON) {
                double a = c->R[at] - c->W[at] * logistic(c->s[at]);
                if (c->model == FORA_GBTM_ZIP) {
                    for (int k = 0; k <= c->zorder; k++)
                        gzk[k] += a * c->X[4 * t + (size_t)k];
                } else {
                    u -= tau * a;
                    gz -= a * e;
                }
            }
            const double *x = c->X + 4 * t;
            for (int k = 0; k <= d; k++)
                gb[k] += u * x[k];
        }
        /* ZIP(tau) is parameterised by log tau: d/d log tau = tau d/d tau */
        if (c->model == FORA_GBTM_ZIPTAU) grad[c->zoff[j]] = tau * gz;
        if (c->model == FORA_GBTM_ZIP)
            for (int k = 0; k <= c->zorder; k++)
                grad[c->zoff[j] + (size_t)k] = gzk[k];
    }
}

double fora__gbtm_eval(fora__gbtm_ctx_t *c, const double *theta, double *grad)
{
    fora__gbtm_set_params(c, theta);
    double ll = fora__gbtm_estep(c);
    if (grad != NULL) {
        fora__gbtm_accumulate(c, false);
        fora__gbtm_gradient(c, theta, grad);
    }
    return ll;
}

/* ---- M-step ----------------------------------------------------------- */

/* The M-step objective of group j at q (b_0..b_d[, log tau]) with gradient g
 * and negated Hessian A (m x m) when g != NULL. */
static double group_q(const fora__gbtm_ctx_t *c, size_t j, const double *q, bool with_tau,
                      double *g, double *A)
{
    const size_t T = c->T;
    const int d = c->order[j];
    const size_t m = (size_t)d + 1 + (with_tau ? 1 : 0);
    double Q = 0.0, tau = with_tau ? fora__gbtm_tau(q[m - 1]) : 0.0;
    if (g != NULL) {
        memset(g, 0, m * sizeof(double));
        memset(A, 0, m * m * sizeof(double));
    }
    for (size_t t = 0; t < T; t++) {
        const size_t at = j * T + t;
        const double *x = c->X + 4 * t;
        double e = 0.0;
        for (int k = 0; k <= d; k++)
            e += q[k] * x[k];
        e = clamp_eta(e);
        double lam = exp(e), E = c->E[at];
        Q -= E * lam;
        double u = -E * lam, hbb = E * lam, hbt = 0.0, htt = 0.0, ut = 0.0;
        if (with_tau) {
            /* logistic and softplus from one exp */
            double s = -tau * e, ex = exp(-fabs(s)), W = c->W[at], R = c->R[at];
            double p = s >= 0 ? 1.0 / (1.0 + ex) : ex / (1.0 + ex);
            Q += R * s - W * (fmax(s, 0.0) + log1p(ex));
            double a = R - W * p, v = W * p * (1.0 - p);
            u -= tau * a;
            ut = -a * e;
            hbb += v * tau * tau;
            hbt = v * tau * e + a; /* minus d2Q / db dtau */
            htt = v * e * e;
        }
        if (g == NULL) continue;
        for (int k = 0; k <= d; k++) {
            g[k] += u * x[k];
            for (int l = 0; l <= d; l++)
                A[(size_t)k * m + (size_t)l] += hbb * x[k] * x[l];
            if (with_tau) {
                A[(size_t)k * m + m - 1] += hbt * x[k];
                A[(m - 1) * m + (size_t)k] += hbt * x[k];
            }
        }
        if (with_tau) {
            g[m - 1] += ut;
            A[(m - 1) * m + m - 1] += htt;
        }
    }
    /* the counts' part sum_t Y_t eta_t, from the moments */
    for (int k = 0; k <= d; k++) {
        Q += q[k] * c->Ym[j * 4 + (size_t)k];
        if (g != NULL) g[k] += c->Ym[j * 4 + (size_t)k];
    }
    if (with_tau && g != NULL) {
        /* from tau to kappa = log tau: g_k = tau g_tau, A_kk = tau^2 A_tt - tau g_tau,
         * A_bk = tau A_bt */
        const size_t z = m - 1;
        A[z * m + z] = tau * tau * A[z * m + z] - tau * g[z];
        for (size_t k = 0; k < z; k++) {
            A[k * m + z] *= tau;
            A[z * m + k] *= tau;
        }
        g[z] *= tau;
    }
    return Q;
}

/* Damped Newton ascent on group_q from q (updated in place). */
static void group_newton(const fora__gbtm_ctx_t *c, size_t j, double *q, bool with_tau, int max_it)
{
    const size_t m = (size_t)c->order[j] + 1 + (with_tau ? 1 : 0);
    double g[5], A[25], Ad[25], step[5], trial[5];
    for (int it = 0; it < max_it; it++) {
        double Q = group_q(c, j, q, with_tau, g, A);
        if (with_tau) {
            /* log tau at a bound with the gradient pointing out: hold it there */
            const size_t z = m - 1;
            if ((q[z] <= -FORA_GBTM_KAPPA_MAX && g[z] < 0) ||
                (q[z] >= FORA_GBTM_KAPPA_MAX && g[z] > 0)) {
                for (size_t k = 0; k < m; k++)
                    A[k * m + z] = A[z * m + k] = 0.0;
                A[z * m + z] = 1.0;
                g[z] = 0.0;
            }
        }
        double scale = 0.0;
        for (size_t k = 0; k < m; k++)
            scale = fmax(scale, fabs(A[k * m + k]));
        if (!(scale > 1e-200) || !isfinite(scale)) return;
        bool solved = false;
        double mu = 0.0;
        for (int tries = 0; tries < 10 && !solved;
             tries++, mu = mu == 0.0 ? 1e-10 * scale : mu * 100) {
            memcpy(Ad, A, m * m * sizeof(double));
            for (size_t k = 0; k < m; k++)
                Ad[k * m + k] += mu;
            gsl_matrix_view Mv = gsl_matrix_view_array(Ad, m, m);
            gsl_vector_view gv = gsl_vector_view_array(g, m), sv = gsl_vector_view_array(step, m);
            if (gsl_linalg_cholesky_decomp1(&Mv.matrix) != GSL_SUCCESS) continue;
            if (gsl_linalg_cholesky_solve(&Mv.matrix, &gv.vector, &sv.vector) != GSL_SUCCESS)
                continue;
            solved = true;
        }
        if (!solved) return;
        double maxstep = 0.0;
        for (size_t k = 0; k < m; k++)
            maxstep = fmax(maxstep, fabs(step[k]));
        if (maxstep > 5.0)
            for (size_t k = 0; k < m; k++)
                step[k] *= 5.0 / maxstep;
        double f = 1.0;
        bool moved = false;
        for (int h = 0; h < 25; h++, f *= 0.5) {
            for (size_t k = 0; k < m; k++)
                trial[k] = q[k] + f * step[k];
            if (with_tau) trial[m - 1] = fora__gbtm_clamp_kappa(trial[m - 1]);
            double Qt = group_q(c, j, trial, with_tau, NULL, NULL);
            if (isfinite(Qt) && Qt >= Q) {
                memcpy(q, trial, m * sizeof(double));
                moved = true;
                break;
            }
        }
        if (!moved || maxstep * f < 1e-11) return;
    }
}

/* The zero-inflation part of group j's M-step objective at g (g_0..g_z): sum_t R_t s_t - W_t
 * softplus(s_t), s_t = sum_k g_k x_t^k; with its gradient and negated Hessian when grad != NULL. */
static double zero_q(const fora__gbtm_ctx_t *c, size_t j, const double *g, double *grad, double *A)
{
    const size_t T = c->T, m = (size_t)c->zorder + 1;
    double Q = 0.0;
    if (grad != NULL) {
        memset(grad, 0, m * sizeof(double));
        memset(A, 0, m * m * sizeof(double));
    }
    for (size_t t = 0; t < T; t++) {
        const double *x = c->X + 4 * t, W = c->W[j * T + t], R = c->R[j * T + t];
        if (W <= 0.0) continue;
        double s = 0.0;
        for (size_t k = m; k-- > 0;)
            s = s * x[1] + g[k];
        s = s > ZLOGIT_MAX ? ZLOGIT_MAX : (s < -ZLOGIT_MAX ? -ZLOGIT_MAX : s);
        Q += R * s - W * softplus(s);
        if (grad == NULL) continue;
        double p = logistic(s), a = R - W * p, v = W * p * (1.0 - p);
        for (size_t k = 0; k < m; k++) {
            grad[k] += a * x[k];
            for (size_t l = 0; l < m; l++)
                A[k * m + l] += v * x[k] * x[l];
        }
    }
    return Q;
}

/* Damped Newton ascent on zero_q from g (in place); each accepted step raises Q. */
static void zero_newton(const fora__gbtm_ctx_t *c, size_t j, double *g)
{
    const size_t m = (size_t)c->zorder + 1;
    double gr[4], A[16], step[4], trial[4];
    for (int it = 0; it < 3; it++) {
        double Q = zero_q(c, j, g, gr, A), scale = 0.0;
        for (size_t k = 0; k < m; k++)
            scale = fmax(scale, A[k * m + k]);
        if (!(scale > 1e-300) || !isfinite(scale)) return;
        for (size_t k = 0; k < m; k++)
            A[k * m + k] += 1e-10 * scale;
        gsl_matrix_view Mv = gsl_matrix_view_array(A, m, m);
        gsl_vector_view gv = gsl_vector_view_array(gr, m), sv = gsl_vector_view_array(step, m);
        if (gsl_linalg_cholesky_decomp1(&Mv.matrix) != GSL_SUCCESS ||
            gsl_linalg_cholesky_solve(&Mv.matrix, &gv.vector, &sv.vector) != GSL_SUCCESS)
            return;
        double maxstep = 0.0;
        for (size_t k = 0; k < m; k++)
            maxstep = fmax(maxstep, fabs(step[k]));
        if (maxstep > 5.0)
            for (size_t k = 0; k < m; k++)
                step[k] *= 5.0 / maxstep;
        double f = 1.0;
        bool moved = false;
        for (int h = 0; h < 25 && !moved; h++, f *= 0.5) {
            for (size_t k = 0; k < m; k++)
                trial[k] = g[k] + f * step[k];
            double Qt = zero_q(c, j, trial, NULL, NULL);
            if (isfinite(Qt) && Qt >= Q) {
                memcpy(g, trial, m * sizeof(double));
                moved = true;
            }
        }
        if (!moved || maxstep * f < 1e-11) return;
    }
}

void fora__gbtm_mstep(fora__gbtm_ctx_t *c, double *theta, bool poisson_init)
{
    const size_t K = c->K, T = c->T;
    double N = 0.0;
    for (size_t j = 0; j < K; j++)
        N += c->Nj[j];
    const double floor_pi = 1e-250;
    double l1 = log(fmax(c->Nj[0] / N, floor_pi));
    for (size_t j = 1; j < K; j++)
        theta[j - 1] = log(fmax(c->Nj[j] / N, floor_pi)) - l1;
    for (size_t j = 0; j < K; j++) {
        double q[5];
        const size_t nb = (size_t)c->order[j] + 1;
        memcpy(q, theta + c->boff[j], nb * sizeof(double));
        bool with_tau = !poisson_init && c->model == FORA_GBTM_ZIPTAU;
        if (with_tau) q[nb] = theta[c->zoff[j]];
        group_newton(c, j, q, with_tau, poisson_init ? 100 : MSTEP_NEWTON);
        memcpy(theta + c->boff[j], q, nb * sizeof(double));
        if (with_tau) theta[c->zoff[j]] = q[nb];
        if (!poisson_init && c->model == FORA_GBTM_ZIP && c->zorder > 0) {
            zero_newton(c, j, theta + c->zoff[j]);
        } else if (!poisson_init && c->model == FORA_GBTM_ZIP) {
            double sr = 0.0, sw = 0.0;
            for (size_t t = 0; t < T; t++) {
                sr += c->R[j * T + t];
                sw += c->W[j * T + t];
            }
            double p = sw > 0.0 ? sr / sw : 0.5;
            p = fmin(fmax(p, 1e-12), 1.0 - 1e-12);
            theta[c->zoff[j]] = log(p / (1.0 - p));
        }
    }
}
