/*
 * analysis/gbtm_fit.c - GBTM fitting: seeded starts, EM to the tolerance,
 * Newton polish on the full likelihood, standard errors, bands and Nagin's
 * diagnostics (include/fora/gbtm.h).
 */
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gbtm_internal.h"

#define NFEAT 4
/* above this many members the short runs of the starts use a subsample */
#ifndef SUBSAMPLE
#define SUBSAMPLE 5000
#endif
#define AT_BEST 1e-6 /* relative */
#define POLISH_WITHIN 0.05
#define POLISH_TOP 3
#ifndef POLISH_STEPS
#define POLISH_STEPS 12
#endif
#ifndef CANDIDATES
#define CANDIDATES 10
#endif
#ifndef SHORT_ITERS
#define SHORT_ITERS 30
#endif

/* order[] sorted by decreasing ll (insertion sort: a few hundred entries). */
static void sort_cands(size_t *order, const double *ll, size_t n)
{
    for (size_t a = 1; a < n; a++)
        for (size_t b = a; b > 0 && ll[order[b]] > ll[order[b - 1]]; b--) {
            size_t t = order[b];
            order[b] = order[b - 1];
            order[b - 1] = t;
        }
}

/* ---- diagnostics ------------------------------------------------------ */

void fora_gbtm_diagnostics(const double *post, const double *w, size_t n, size_t K,
                           const double *pi, fora_gbtm_group_t *groups, double *entropy,
                           bool *entropy_defined)
{
    double tot = 0.0, ent = 0.0, cnt[FORA_GBTM_MAX_GROUPS] = {0}, pp[FORA_GBTM_MAX_GROUPS] = {0};
    for (size_t i = 0; i < n; i++) {
        const double *p = post + i * K;
        double wi = w != NULL ? w[i] : 1.0;
        size_t best = 0;
        for (size_t j = 0; j < K; j++) {
            if (p[j] > p[best]) best = j;
            if (p[j] > 0.0) ent -= wi * p[j] * log(p[j]);
        }
        cnt[best] += wi;
        pp[best] += wi * p[best];
        tot += wi;
    }
    for (size_t j = 0; j < K; j++) {
        fora_gbtm_group_t *g = &groups[j];
        g->assigned_share = tot > 0.0 ? cnt[j] / tot : 0.0;
        g->avepp_defined = cnt[j] > 0.0;
        g->avepp = g->avepp_defined ? pp[j] / cnt[j] : NAN;
        g->occ_defined =
            g->avepp_defined && g->avepp < 1.0 && g->avepp > 0.0 && pi[j] > 0.0 && pi[j] < 1.0;
        g->occ = g->occ_defined ? (g->avepp / (1.0 - g->avepp)) / (pi[j] / (1.0 - pi[j])) : NAN;
    }
    *entropy_defined = K > 1 && tot > 0.0;
    *entropy = *entropy_defined ? 1.0 - ent / (tot * log((double)K)) : NAN;
}

/* ---- starts ----------------------------------------------------------- */

/* Standardised summary features of each pattern: log(1 + mean count), slope
 * of the counts on time, first and last active period (as fractions). */
static void features(const fora__gbtm_ctx_t *c, double *F)
{
    const size_t T = c->T, P = c->P;
    double *px = calloc(T + 1, sizeof(double)), *px2 = calloc(T + 1, sizeof(double));
    if (px == NULL || px2 == NULL) fora_panic("out of memory");
    for (size_t t = 0; t < T; t++) {
        px[t + 1] = px[t] + c->X[4 * t + 1];
        px2[t + 1] = px2[t] + c->X[4 * t + 2];
    }
    for (size_t i = 0; i < P; i++) {
        const fora__gbtm_pattern_t *p = &c->pat[i];
        double n = p->ncount, sx = 0, sx2 = 0, sy = 0, sxy = 0;
        double first = 1.0, last = 0.0;
        bool any = false;
        for (uint32_t k = 0; k < p->nrun; k++) {
            int32_t a = c->runs[2 * (p->run0 + k)], b = c->runs[2 * (p->run0 + k) + 1];
            sx += px[b] - px[a];
            sx2 += px2[b] - px2[a];
        }
        for (uint32_t k = 0; k < p->ncell; k++) {
            const fora__gbtm_cell_t *cl = &c->cells[p->cell0 + k];
            if (cl->y == 0.0) continue;
            double x = c->X[4 * (size_t)cl->t + 1];
            sy += cl->y;
            sxy += cl->y * x;
            double f = (double)cl->t / (double)T;
            if (!any) first = f;
            last = f;
            any = true;
        }
        double mean = n > 0 ? sy / n : 0.0, den = n > 0 ? sx2 - sx * sx / n : 0.0;
        double slope = den > 1e-12 ? (sxy - sx * sy / n) / den : 0.0;
        F[i * NFEAT] = log1p(mean);
        F[i * NFEAT + 1] = asinh(slope);
        F[i * NFEAT + 2] = first;
        F[i * NFEAT + 3] = last;
    }
    for (size_t f = 0; f < NFEAT; f++) {
        double sw = 0, m = 0, v = 0;
        for (size_t i = 0; i < P; i++) {
            sw += c->pat[i].w;
            m += c->pat[i].w * F[i * NFEAT + f];
        }
        m /= sw;
        for (size_t i = 0; i < P; i++)
            v += c->pat[i].w * (F[i * NFEAT + f] - m) * (F[i * NFEAT + f] - m);
        double sd = sqrt(v / sw);
        for (size_t i = 0; i < P; i++)
            F[i * NFEAT + f] = sd > 1e-12 ? (F[i * NFEAT + f] - m) / sd : 0.0;
    }
    free(px);
    free(px2);
}

static double dist2(const double *a, const double *b)
{
    double s = 0.0;
    for (size_t f = 0; f < NFEAT; f++)
        s += (a[f] - b[f]) * (a[f] - b[f]);
    return s;
}

/* k-means++ seeding weighted by pattern size, then Lloyd iterations. */
static void kmeanspp(const fora__gbtm_ctx_t *c, const double *F, gsl_rng *rng, int32_t *assign,
                     double *D)
{
    const size_t K = c->K, P = c->P;
    double C[FORA_GBTM_MAX_GROUPS * NFEAT];
    double tot = 0.0;
    for (size_t i = 0; i < P; i++)
        tot += c->pat[i].w;
    for (size_t k = 0; k < K; k++) {
        double u, acc = 0.0, S = 0.0;
        size_t pick = 0;
        if (k == 0) {
            u = gsl_rng_uniform(rng) * tot;
            for (size_t i = 0; i < P; i++) {
                acc += c->pat[i].w;
                pick = i;
                if (acc > u) break;
            }
        } else {
            for (size_t i = 0; i < P; i++)
                S += c->pat[i].w * D[i];
            u = gsl_rng_uniform(rng) * S;
            for (size_t i = 0; i < P && S > 0.0; i++) {
                acc += c->pat[i].w * D[i];
                pick = i;
                if (acc > u) break;
            }
            if (S <= 0.0) pick = gsl_rng_uniform_int(rng, P);
        }
        if (pick >= P) pick = 0;
        memcpy(C + k * NFEAT, F + pick * NFEAT, NFEAT * sizeof(double));
        for (size_t i = 0; i < P; i++) {
            double d2 = dist2(F + i * NFEAT, C + k * NFEAT);
            if (k == 0 || d2 < D[i]) D[i] = d2;
        }
    }
    for (int it = 0; it < 20; it++) {
        bool changed = false;
        for (size_t i = 0; i < P; i++) {
            int32_t best = 0;
            double bd = INFINITY;
            for (size_t k = 0; k < K; k++) {
                double d2 = dist2(F + i * NFEAT, C + k * NFEAT);
                if (d2 < bd) {
                    bd = d2;
                    best = (int32_t)k;
                }
            }
            if (it == 0 || assign[i] != best) changed = true;
            assign[i] = best;
        }
        if (!changed) break;
        double sw[FORA_GBTM_MAX_GROUPS] = {0};
        double S[FORA_GBTM_MAX_GROUPS * NFEAT] = {0};
        for (size_t i = 0; i < P; i++) {
            sw[assign[i]] += c->pat[i].w;
            for (size_t f = 0; f < NFEAT; f++)
                S[(size_t)assign[i] * NFEAT + f] += c->pat[i].w * F[i * NFEAT + f];
        }
        for (size_t k = 0; k < K; k++)
            if (sw[k] > 0.0)
                for (size_t f = 0; f < NFEAT; f++)
                    C[k * NFEAT + f] = S[k * NFEAT + f] / sw[k];
    }
}

/* Parameters from a hard assignment: posteriors 0.8 / 0.2 smoothed, a Poisson
 * M-step, then a neutral zero inflation. */
static void init_from_assign(fora__gbtm_ctx_t *c, const int32_t *assign, double *theta)
{
    const size_t K = c->K, T = c->T;
    for (size_t i = 0; i < c->P; i++)
        for (size_t j = 0; j < K; j++)
            c->post[i * K + j] = ((size_t)assign[i] == j ? 0.8 : 0.0) + 0.2 / (double)K;
    fora__gbtm_accumulate(c, true);
    memset(theta, 0, c->npar * sizeof(double));
    for (size_t j = 0; j < K; j++) {
        double sy = 1e-3, se = 1e-3;
        sy += c->Ym[j * 4];
        for (size_t t = 0; t < T; t++)
            se += c->E[j * T + t];
        theta[c->boff[j]] = log(sy / se);
    }
    fora__gbtm_mstep(c, theta, true);
    for (size_t j = 0; j < K; j++) {
        if (c->model == FORA_GBTM_ZIP) theta[c->zoff[j]] = -1.0;
        if (c->model == FORA_GBTM_ZIPTAU) theta[c->zoff[j]] = log(0.5);
    }
}

static void clamp_theta(const fora__gbtm_ctx_t *c, double *theta);

/* One EM map: out = M(in); returns the log-likelihood at in. */
static double em_map(fora__gbtm_ctx_t *c, const double *in, double *out)
{
    fora__gbtm_set_params(c, in);
    double ll = fora__gbtm_estep(c);
    if (!isfinite(ll)) return NAN;
    fora__gbtm_accumulate(c, false);
    if (out != in) memcpy(out, in, c->npar * sizeof(double));
    fora__gbtm_mstep(c, out, false);
    return ll;
}

/*
 * EM from theta, accelerated by SQUAREM (Varadhan & Roland 2008, scheme S3):
 * two EM maps give r = M(t) - t and v = M(M(t)) - 2 M(t) + t; the
 * extrapolated point t - 2 a r + a^2 v (a = -|r|/|v| <= -1) is followed by one
 * stabilising EM map and kept only if its log-likelihood is at least that of
 * M(t) (else the plain two EM steps are), so the sequence stays monotone.
 * Stops when the log-likelihood changes by less than tol relative from one
 * cycle to the next.  Returns the final log-likelihood (NAN on numerical
 * failure); *iters counts EM maps.
 */
static double run_em(fora__gbtm_ctx_t *c, double *theta, int max_iter, double tol, int *iters,
                     bool *conv)
{
    const size_t m = c->npar;
    double *t1 = malloc(4 * m * sizeof(double));
    if (t1 == NULL) fora_panic("out of memory");
    double *t2 = t1 + m, *tp = t2 + m, *tn = tp + m;
    double prev = NAN, ll = NAN;
    *conv = false;
    *iters = 0;
    while (*iters < max_iter) {
        double ll0 = em_map(c, theta, t1);
        (*iters)++;
        if (!isfinite(ll0)) {
            ll = NAN;
            break;
        }
        ll = ll0;
        if (isfinite(prev) && fabs(ll0 - prev) <= tol * fabs(ll0)) {
            *conv = true;
            break;
        }
        prev = ll0;
        if (*iters >= max_iter) {
            memcpy(theta, t1, m * sizeof(double));
            break;
        }
        double ll1 = em_map(c, t1, t2);
        (*iters)++;
        if (!isfinite(ll1)) {
            memcpy(theta, t1, m * sizeof(double));
            continue;
        }
        double nr = 0.0, nv = 0.0;
        for (size_t k = 0; k < m; k++) {
            double r = t1[k] - theta[k], v = t2[k] - 2.0 * t1[k] + theta[k];
            nr += r * r;
            nv += v * v;
        }
        bool accepted = false;
        if (nv > 0.0 && nr > 0.0) {
            double a = -sqrt(nr / nv);
            for (int tries = 0; tries < 3 && a <= -1.0 && !accepted; tries++) {
                for (size_t k = 0; k < m; k++) {
                    double r = t1[k] - theta[k], v = t2[k] - 2.0 * t1[k] + theta[k];
                    tp[k] = theta[k] - 2.0 * a * r + a * a * v;
                }
                clamp_theta(c, tp);
                double llp = em_map(c, tp, tn);
                (*iters)++;
                if (isfinite(llp) && llp >= ll1) {
                    memcpy(theta, tn, m * sizeof(double));
                    accepted = true;
                } else {
                    a = a == -1.0 ? 0.0 : 0.5 * (a - 1.0);
                }
            }
        }
        if (!accepted) memcpy(theta, t2, m * sizeof(double));
    }
    free(t1);
    if (isfinite(ll)) {
        /* leave c at theta */
        fora__gbtm_set_params(c, theta);
        ll = fora__gbtm_estep(c);
    }
    return ll;
}

/* Central-difference Jacobian of the analytic gradient at theta, symmetrised,
 * into H (npar x npar); g1, g2, th are work arrays of npar. */
static void fd_hessian(fora__gbtm_ctx_t *c, const double *theta, double *H, double *g1, double *g2,
                       double *th)
{
    const size_t m = c->npar;
    memcpy(th, theta, m * sizeof(double));
    for (size_t k = 0; k < m; k++) {
        double h = 1e-5 * fmax(1.0, fabs(theta[k]));
        th[k] = theta[k] + h;
        fora__gbtm_eval(c, th, g1);
        th[k] = theta[k] - h;
        fora__gbtm_eval(c, th, g2);
        th[k] = theta[k];
        for (size_t l = 0; l < m; l++)
            H[l * m + k] = (g1[l] - g2[l]) / (2.0 * h);
    }
    for (size_t k = 0; k < m; k++)
        for (size_t l = 0; l < k; l++) {
            double v = 0.5 * (H[k * m + l] + H[l * m + k]);
            H[k * m + l] = H[l * m + k] = v;
        }
}

static double max_abs(const double *v, size_t m)
{
    double s = 0.0;
    for (size_t k = 0; k < m; k++)
        s = fmax(s, fabs(v[k]));
    return s;
}

typedef struct work {
    double *g, *g1, *g2, *th, *H, *step, *trial, *Rm;
    size_t *free;
} work_t;

/* Parameters on the boundary: log tau at its bound, or the logit of a group
 * whose proportion is below 1e-12.  They are held fixed by the Newton polish
 * and get no standard error.  Returns the number of free parameters, listed
 * in free[]. */
static size_t free_params(const fora__gbtm_ctx_t *c, const double *theta, size_t *free)
{
    size_t nf = 0;
    bool fixed[FORA_GBTM_MAX_GROUPS * 9] = {false}; /* npar <= K - 1 + K (4 + 4) */
    fora__gbtm_ctx_t *cc = (fora__gbtm_ctx_t *)c;
    fora__gbtm_set_params(cc, theta);
    for (size_t j = 1; j < c->K; j++)
        if (c->logpi[j] < log(1e-12)) fixed[j - 1] = true;
    if (c->model == FORA_GBTM_ZIPTAU)
        for (size_t j = 0; j < c->K; j++)
            if (fabs(theta[c->zoff[j]]) >= FORA_GBTM_KAPPA_MAX - 1e-9) fixed[c->zoff[j]] = true;
    for (size_t k = 0; k < c->npar; k++)
        if (!fixed[k]) free[nf++] = k;
    return nf;
}

static void clamp_theta(const fora__gbtm_ctx_t *c, double *theta)
{
    if (c->model == FORA_GBTM_ZIPTAU)
        for (size_t j = 0; j < c->K; j++)
            theta[c->zoff[j]] = fora__gbtm_clamp_kappa(theta[c->zoff[j]]);
}

/* Cholesky of the information -H restricted to the free parameters, into
 * w->Rm (nf x nf); false when it is not positive definite. */
static bool reduced_chol(const double *H, size_t m, const size_t *free, size_t nf, double *Rm)
{
    for (size_t a = 0; a < nf; a++)
        for (size_t b = 0; b < nf; b++)
            Rm[a * nf + b] = -H[free[a] * m + free[b]];
    if (nf == 0) return true;
    gsl_matrix_view A = gsl_matrix_view_array(Rm, nf, nf);
    return gsl_linalg_cholesky_decomp1(&A.matrix) == GSL_SUCCESS;
}

/* Newton steps on the full log-likelihood (FD Hessian of the analytic
 * gradient) while they increase it; returns the final log-likelihood and sets
 * *gnorm.  Stops when the information is not positive definite. */
static double polish(fora__gbtm_ctx_t *c, double *theta, double ll, work_t *w, double *gnorm)
{
    const size_t m = c->npar;
    fora__gbtm_eval(c, theta, w->g);
    *gnorm = max_abs(w->g, m);
    for (int it = 0; it<POLISH_STEPS && * gnorm> 1e-9; it++) {
        fd_hessian(c, theta, w->H, w->g1, w->g2, w->th);
        size_t nf = free_params(c, theta, w->free);
        if (nf == 0 || !reduced_chol(w->H, m, w->free, nf, w->Rm)) break;
        double rg[FORA_GBTM_MAX_GROUPS * 6], rs[FORA_GBTM_MAX_GROUPS * 6];
        for (size_t a = 0; a < nf; a++)
            rg[a] = w->g[w->free[a]];
        gsl_matrix_view A = gsl_matrix_view_array(w->Rm, nf, nf);
        gsl_vector_view gv = gsl_vector_view_array(rg, nf), sv = gsl_vector_view_array(rs, nf);
        if (gsl_linalg_cholesky_solve(&A.matrix, &gv.vector, &sv.vector) != GSL_SUCCESS) break;
        memset(w->step, 0, m * sizeof(double));
        for (size_t a = 0; a < nf; a++)
            w->step[w->free[a]] = rs[a];
        double f = 1.0, nl = NAN;
        bool moved = false;
        for (int h = 0; h < 30; h++, f *= 0.5) {
            for (size_t k = 0; k < m; k++)
                w->trial[k] = theta[k] + f * w->step[k];
            clamp_theta(c, w->trial);
            nl = fora__gbtm_eval(c, w->trial, NULL);
            if (isfinite(nl) && nl >= ll) {
                moved = true;
                break;
            }
        }
        if (!moved) break;
        memcpy(theta, w->trial, m * sizeof(double));
        double gain = nl - ll;
        ll = nl;
        fora__gbtm_eval(c, theta, w->g);
        *gnorm = max_abs(w->g, m);
        if (gain < 1e-13 * fabs(ll)) break;
    }
    fora__gbtm_eval(c, theta, NULL);
    return ll;
}

/* Reorders the groups of theta by increasing mean lambda_j(t) (changes the
 * layout of c when the orders differ). */
static void sort_groups(fora__gbtm_ctx_t *c, double *theta, double *tmp)
{
    const size_t K = c->K, T = c->T;
    fora__gbtm_set_params(c, theta);
    double key[FORA_GBTM_MAX_GROUPS];
    size_t perm[FORA_GBTM_MAX_GROUPS];
    for (size_t j = 0; j < K; j++) {
        key[j] = 0.0;
        for (size_t t = 0; t < T; t++)
            key[j] += exp(c->eta[j * T + t]);
        perm[j] = j;
    }
    for (size_t a = 1; a < K; a++) /* insertion sort, stable */
        for (size_t b = a; b > 0 && key[perm[b]] < key[perm[b - 1]]; b--) {
            size_t t = perm[b];
            perm[b] = perm[b - 1];
            perm[b - 1] = t;
        }
    int order[FORA_GBTM_MAX_GROUPS] = {0};
    size_t boff[FORA_GBTM_MAX_GROUPS] = {0}, zoff[FORA_GBTM_MAX_GROUPS] = {0};
    size_t idx = K - 1;
    for (size_t a = 0; a < K; a++) {
        order[a] = c->order[perm[a]];
        boff[a] = idx;
        idx += (size_t)order[a] + 1;
        if (c->model != FORA_GBTM_POISSON) {
            zoff[a] = idx;
            idx += (size_t)c->zorder + 1;
        }
    }
    for (size_t a = 1; a < K; a++)
        tmp[a - 1] = c->logpi[perm[a]] - c->logpi[perm[0]];
    for (size_t a = 0; a < K; a++) {
        size_t j = perm[a];
        memcpy(tmp + boff[a], theta + c->boff[j], ((size_t)order[a] + 1) * sizeof(double));
        if (c->model != FORA_GBTM_POISSON)
            memcpy(tmp + zoff[a], theta + c->zoff[j], ((size_t)c->zorder + 1) * sizeof(double));
    }
    for (size_t a = 0; a < K; a++) {
        c->order[a] = order[a];
        c->boff[a] = boff[a];
        c->zoff[a] = zoff[a];
    }
    memcpy(theta, tmp, c->npar * sizeof(double));
}

void fora_gbtm_fit_destroy(fora_gbtm_fit_t *f)
{
    if (f == NULL) return;
    if (f->groups != NULL)
        for (size_t j = 0; j < f->K; j++) {
            free(f->groups[j].coef);
            free(f->groups[j].se);
            free(f->groups[j].lambda);
            free(f->groups[j].lower);
            free(f->groups[j].upper);
            free(f->groups[j].zero_prob);
            free(f->groups[j].zero_coefs);
            free(f->groups[j].zero_ses);
        }
    free(f->groups);
    free(f->theta);
    free(f->cov);
    free(f->posterior);
    free(f->assigned);
    free(f);
}

/* A standard deviation from a variance; NAN stays NAN. */
static double sd_of(double v)
{
    return isnan(v) ? NAN : sqrt(v > 0.0 ? v : 0.0);
}

/* Fills the result from c at theta (sorted, final); cov may be NULL. */
static fora_err_t build_result(fora__gbtm_ctx_t *c, const double *theta, const double *cov,
                               const fora_gbtm_opts_t *o, fora_gbtm_fit_t *f, fora_diag_t *diag)
{
    const size_t K = c->K, T = c->T, n = c->n, m = c->npar;
    f->theta = malloc(m * sizeof(double));
    f->groups = calloc(K, sizeof(*f->groups));
    f->posterior = malloc(n * K * sizeof(double));
    f->assigned = malloc(n * sizeof(int32_t));
    double *pw = malloc(c->P * sizeof(double));
    if (f->theta == NULL || f->groups == NULL || f->posterior == NULL || f->assigned == NULL ||
        pw == NULL) {
        free(pw);
        return fora_diag_set(diag, FORA_ENOMEM, "out of memory for the fit's results");
    }
    memcpy(f->theta, theta, m * sizeof(double));
    if (cov != NULL) {
        f->cov = malloc(m * m * sizeof(double));
        if (f->cov == NULL) {
            free(pw);
            return fora_diag_set(diag, FORA_ENOMEM, "out of memory for the fit's results");
        }
        memcpy(f->cov, cov, m * m * sizeof(double));
    }
    fora__gbtm_set_params(c, theta);
    f->loglik = fora__gbtm_estep(c);
    double pi[FORA_GBTM_MAX_GROUPS];
    for (size_t j = 0; j < K; j++)
        pi[j] = exp(c->logpi[j]);
    const double z = gsl_cdf_ugaussian_Pinv(0.5 + 0.5 * o->conf);
    for (size_t j = 0; j < K; j++) {
        fora_gbtm_group_t *g = &f->groups[j];
        const size_t nb = (size_t)c->order[j] + 1, b0 = c->boff[j];
        g->order = c->order[j];
        g->pi = pi[j];
        g->coef = malloc(nb * sizeof(double));
        g->se = malloc(nb * sizeof(double));
        g->lambda = malloc(T * sizeof(double));
        g->lower = malloc(T * sizeof(double));
        g->upper = malloc(T * sizeof(double));
        g->zero_prob = malloc(T * sizeof(double));
        if (g->coef == NULL || g->se == NULL || g->lambda == NULL || g->lower == NULL ||
            g->upper == NULL || g->zero_prob == NULL) {
            free(pw);
            return fora_diag_set(diag, FORA_ENOMEM, "out of memory for the fit's results");
        }
        for (size_t k = 0; k < nb; k++) {
            g->coef[k] = theta[b0 + k];
            g->se[k] = cov != NULL ? sd_of(cov[(b0 + k) * m + b0 + k]) : NAN;
        }
        if (c->model == FORA_GBTM_ZIP) {
            const size_t nz = (size_t)c->zorder + 1;
            g->zero_order = c->zorder;
            g->zero_coefs = malloc(nz * sizeof(double));
            g->zero_ses = malloc(nz * sizeof(double));
            if (g->zero_coefs == NULL || g->zero_ses == NULL) {
                free(pw);
                return fora_diag_set(diag, FORA_ENOMEM, "out of memory for the fit's results");
            }
            for (size_t k = 0; k < nz; k++) {
                const size_t q = c->zoff[j] + k;
                g->zero_coefs[k] = theta[q];
                g->zero_ses[k] = cov != NULL ? sd_of(cov[q * m + q]) : NAN;
            }
        }
        g->zero_coef = c->model != FORA_GBTM_POISSON ? theta[c->zoff[j]] : NAN;
        g->zero_se = c->model != FORA_GBTM_POISSON && cov != NULL
                         ? sd_of(cov[c->zoff[j] * m + c->zoff[j]])
                         : NAN;
        /* pi_j = softmax: d pi_j / d theta_k = pi_j (delta_jk - pi_k), k = 2..K */
        if (cov != NULL && K > 1) {
            double v = 0.0;
            for (size_t a = 1; a < K; a++)
                for (size_t b = 1; b < K; b++) {
                    double ja = pi[j] * ((a == j) - pi[a]), jb = pi[j] * ((b == j) - pi[b]);
                    v += ja * jb * cov[(a - 1) * m + (b - 1)];
                }
            g->pi_se = sd_of(v);
        } else {
            g->pi_se = K == 1 ? 0.0 : NAN;
        }
        for (size_t t = 0; t < T; t++) {
            const double *x = c->X + 4 * t, e = c->eta[j * T + t];
            g->lambda[t] = exp(e);
            g->zero_prob[t] =
                c->model == FORA_GBTM_POISSON ? 0.0 : 1.0 / (1.0 + exp(-c->s[j * T + t]));
            if (cov != NULL) {
                double v = 0.0;
                for (size_t k = 0; k < nb; k++)
                    for (size_t l = 0; l < nb; l++)
                        v += x[k] * x[l] * cov[(b0 + k) * m + b0 + l];
                double sd = sd_of(v);
                g->lower[t] = exp(e - z * sd);
                g->upper[t] = exp(e + z * sd);
            } else {
                g->lower[t] = g->upper[t] = NAN;
            }
        }
    }
    for (size_t p = 0; p < c->P; p++)
        pw[p] = c->pat[p].w;
    fora_gbtm_diagnostics(c->post, pw, c->P, K, pi, f->groups, &f->entropy, &f->entropy_defined);
    free(pw);
    for (size_t i = 0; i < n; i++) {
        const double *p = c->post + (size_t)c->member_pattern[i] * K;
        memcpy(f->posterior + i * K, p, K * sizeof(double));
        int32_t best = 0;
        for (size_t j = 1; j < K; j++)
            if (p[j] > p[best]) best = (int32_t)j;
        f->assigned[i] = best;
    }
    return FORA_OK;
}

/* ---- EM from many starts on two threads ------------------------------------ */

/*
 * The EM runs of the starts are independent (each starts from its own
 * parameters and recomputes every working array it reads), so they run on
 * FIT_THREADS threads, each with its own working arrays over the shared
 * data (fora__gbtm_ctx_worker).  Threads take the next start from a shared
 * counter (runs differ widely in length).  Start k always gets the same
 * arithmetic, whichever thread runs it, so results do not depend on the
 * thread count or the schedule.
 */
#define FIT_THREADS 2

typedef struct em_job {
    fora__gbtm_ctx_t *c; /* this thread's context */
    double *theta;       /* parameter blocks of npar values */
    const size_t *which; /* start k uses block which[k] (NULL: block k) */
    size_t n;
    size_t *next; /* shared: the next start to run */
    int max_iter;
    double tol;
    double *ll; /* n log-likelihoods */
    int *iters; /* n, or NULL */
    bool *conv; /* n, or NULL */
} em_job_t;

static void *em_job_run(void *arg)
{
    em_job_t *j = arg;
    for (size_t k; (k = __atomic_fetch_add(j->next, 1, __ATOMIC_RELAXED)) < j->n;) {
        int it;
        bool cv;
        size_t b = j->which ? j->which[k] : k;
        j->ll[k] = run_em(j->c, j->theta + b * j->c->npar, j->max_iter, j->tol, &it, &cv);
        if (j->iters) j->iters[k] = it;
        if (j->conv) j->conv[k] = cv;
    }
    return NULL;
}

/* EM from n starts (see em_job_t) on up to FIT_THREADS threads.  O(n EM runs / threads). */
static void run_em_starts(fora__gbtm_ctx_t *c, double *theta, const size_t *which, size_t n,
                          int max_iter, double tol, double *ll, int *iters, bool *conv)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nt = n > 1 && cpus > 1 ? FIT_THREADS : 1;
    em_job_t job[FIT_THREADS];
    fora__gbtm_ctx_t wc[FIT_THREADS];
    pthread_t th[FIT_THREADS];
    bool have_ctx[FIT_THREADS] = {false}, running[FIT_THREADS] = {false};
    size_t next = 0;
    for (size_t t = 0; t < nt; t++)
        job[t] = (em_job_t){c, theta, which, n, &next, max_iter, tol, ll, iters, conv};
    for (size_t t = 1; t < nt; t++) {
        have_ctx[t] = fora__gbtm_ctx_worker(c, &wc[t]) == FORA_OK;
        if (!have_ctx[t]) continue; /* thread 0 runs these starts afterwards */
        job[t].c = &wc[t];
        running[t] = pthread_create(&th[t], NULL, em_job_run, &job[t]) == 0;
    }
    em_job_run(&job[0]);
    for (size_t t = 1; t < nt; t++) {
        if (running[t]) pthread_join(th[t], NULL);
        if (have_ctx[t]) fora__gbtm_ctx_worker_destroy(&wc[t]);
        if (!running[t]) {
            job[t].c = c;
            em_job_run(&job[t]);
        }
    }
}

fora_err_t fora_gbtm_fit(const fora_gbtm_data_t *data, size_t K, const fora_gbtm_opts_t *o,
                         fora_gbtm_fit_t **out, fora_diag_t *diag)
{
    fora__gbtm_ctx_t c;
    fora_err_t err = fora__gbtm_ctx_init(&c, data, K, o, diag);
    if (err != FORA_OK) return err;
    const size_t m = c.npar;
    if (c.n < m) {
        err = fora_diag_set(diag, FORA_EINVAL,
                            "%zu members are fewer than the %zu parameters of a %zu-group %s model",
                            c.n, m, K, fora_gbtm_model_name(o->model));
        fora__gbtm_ctx_destroy(&c);
        return err;
    }
    fora_gbtm_fit_t *f = calloc(1, sizeof(*f));
    double *theta = malloc(m * sizeof(double)), *best = malloc(m * sizeof(double));
    double *F = malloc(c.P * NFEAT * sizeof(double)), *D = malloc(c.P * sizeof(double));
    int32_t *assign = malloc(c.P * sizeof(int32_t));
    work_t w = {
        malloc(m * sizeof(double)), malloc(m * sizeof(double)),     malloc(m * sizeof(double)),
        malloc(m * sizeof(double)), malloc(m * m * sizeof(double)), malloc(m * sizeof(double)),
        malloc(m * sizeof(double)), malloc(m * m * sizeof(double)), malloc(m * sizeof(size_t))};
    double *lls = malloc(o->starts * sizeof(double)), *cand = NULL, *cll = NULL;
    size_t *corder = NULL;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    fora__gbtm_ctx_t sub;
    bool have_sub = false;
    if (f == NULL || theta == NULL || best == NULL || F == NULL || D == NULL || assign == NULL ||
        w.g == NULL || w.g1 == NULL || w.g2 == NULL || w.th == NULL || w.H == NULL ||
        w.step == NULL || w.trial == NULL || w.Rm == NULL || w.free == NULL || lls == NULL ||
        rng == NULL) {
        err = fora_diag_set(diag, FORA_ENOMEM, "out of memory for a %zu-group fit", K);
        goto out;
    }
    gsl_rng_set(rng, (unsigned long)(o->seed * 1000003ULL + K));
    /* on large data the short runs use a subsample of SUBSAMPLE members */
    fora__gbtm_ctx_t *cs = &c;
    if (c.n > SUBSAMPLE && K > 1) {
        if ((err = fora__gbtm_ctx_subsample(&c, SUBSAMPLE, rng, &sub, diag)) != FORA_OK) goto out;
        have_sub = true;
        cs = &sub;
        f->subsample = SUBSAMPLE;
    }
    features(cs, F);
    f->model = o->model;
    f->K = K;
    f->nmembers = c.n;
    f->nperiods = c.T;
    f->npatterns = c.P;
    f->ncells = c.ncells;
    f->npar = m;
    f->starts = o->starts;

    double best_ll = -INFINITY;
    bool best_conv = false;
    int best_iters = 0;
    /* emEM: CANDIDATES x starts short EM runs from k-means++ and random
     * assignments; the `starts` best of them are run to convergence */
    const size_t ncand = K == 1 ? 1 : o->starts * CANDIDATES;
    cand = malloc(ncand * m * sizeof(double));
    cll = calloc(ncand, sizeof(double));
    corder = malloc(ncand * sizeof(size_t));
    if (cand == NULL || cll == NULL || corder == NULL) {
        err = fora_diag_set(diag, FORA_ENOMEM, "out of memory for a %zu-group fit", K);
        goto out;
    }
    for (size_t s = 0; s < ncand; s++) {
        if (K == 1) {
            for (size_t i = 0; i < cs->P; i++)
                assign[i] = 0;
        } else if (s % 2 == 0) {
            kmeanspp(cs, F, rng, assign, D);
        } else {
            for (size_t i = 0; i < cs->P; i++)
                assign[i] = (int32_t)gsl_rng_uniform_int(rng, K);
        }
        init_from_assign(cs, assign, cand + s * m);
    }
    run_em_starts(cs, cand, NULL, ncand, SHORT_ITERS, o->tol, cll, NULL, NULL);
    for (size_t s = 0; s < ncand; s++) {
        if (!isfinite(cll[s])) cll[s] = -INFINITY;
        corder[s] = s;
    }
    sort_cands(corder, cll, ncand);
    if (K == 1) f->starts = 1;
    /* full EM from each of the `starts` best candidates, kept in place */
    int *siters = calloc(f->starts, sizeof(int));
    bool *sconv = calloc(f->starts, sizeof(bool));
    if (siters == NULL || sconv == NULL) {
        free(siters);
        free(sconv);
        err = fora_diag_set(diag, FORA_ENOMEM, "out of memory for a %zu-group fit", K);
        goto out;
    }
    run_em_starts(&c, cand, corder, f->starts, o->max_iter, o->tol, lls, siters, sconv);
    for (size_t s = 0; s < f->starts; s++)
        if (!isfinite(lls[s])) f->starts_failed++;
    /* Newton polish of the POLISH_TOP best ends within POLISH_WITHIN of the best */
    size_t *ord = malloc(f->starts * sizeof(size_t));
    if (ord == NULL) {
        free(siters);
        free(sconv);
        err = fora_diag_set(diag, FORA_ENOMEM, "out of memory for a %zu-group fit", K);
        goto out;
    }
    for (size_t s = 0; s < f->starts; s++) {
        ord[s] = s;
        if (!isfinite(lls[s])) lls[s] = -INFINITY;
    }
    sort_cands(ord, lls, f->starts);
    double em_best = lls[ord[0]];
    for (size_t r = 0; r < f->starts && r < POLISH_TOP && isfinite(em_best); r++) {
        size_t s = ord[r];
        if (!(lls[s] >= em_best - POLISH_WITHIN)) break;
        double gnorm = NAN, *th = cand + corder[s] * m;
        lls[s] = polish(&c, th, lls[s], &w, &gnorm);
        if (!sconv[s] && gnorm < 1e-6 * fmax(1.0, c.N)) sconv[s] = true;
    }
    for (size_t s = 0; s < f->starts; s++) {
        if (isfinite(lls[s]) && lls[s] > best_ll) {
            best_ll = lls[s];
            memcpy(best, cand + corder[s] * m, m * sizeof(double));
            best_conv = sconv[s];
            best_iters = siters[s];
        }
    }
    free(siters);
    free(sconv);
    free(ord);
    if (!isfinite(best_ll)) {
        err = fora_diag_set(diag, FORA_ENUMERIC,
                            "every one of %zu starts of the %zu-group %s model failed numerically",
                            o->starts, K, fora_gbtm_model_name(o->model));
        goto out;
    }
    for (size_t s = 0; s < f->starts; s++)
        if (isfinite(lls[s]) && lls[s] >= best_ll - AT_BEST * fabs(best_ll)) f->starts_at_best++;
    f->converged = best_conv;
    f->iterations = best_iters;

    sort_groups(&c, best, theta);
    fora__gbtm_eval(&c, best, w.g);
    f->grad_norm = max_abs(w.g, m);
    bool have_cov = false;
    if (o->se) {
        /* cov = inverse information over the free parameters; NAN elsewhere */
        fd_hessian(&c, best, w.H, w.g1, w.g2, w.th);
        size_t nf = free_params(&c, best, w.free);
        have_cov = nf > 0 && reduced_chol(w.H, m, w.free, nf, w.Rm);
        if (have_cov) {
            gsl_matrix_view A = gsl_matrix_view_array(w.Rm, nf, nf);
            have_cov = gsl_linalg_cholesky_invert(&A.matrix) == GSL_SUCCESS;
        }
        for (size_t k = 0; k < m * m; k++)
            w.H[k] = NAN;
        for (size_t a = 0; have_cov && a < nf; a++)
            for (size_t b = 0; b < nf; b++) {
                double v = w.Rm[a * nf + b];
                if (!isfinite(v)) have_cov = false;
                w.H[w.free[a] * m + w.free[b]] = v;
            }
        f->boundary = m - nf;
    }
    f->se_defined = have_cov;
    if ((err = build_result(&c, best, have_cov ? w.H : NULL, o, f, diag)) != FORA_OK) goto out;
    f->bic = -2.0 * f->loglik + (double)m * log((double)c.n);
    f->bic_cells = -2.0 * f->loglik + (double)m * log((double)(c.ncells > 0 ? c.ncells : 1));
    f->aic = -2.0 * f->loglik + 2.0 * (double)m;
    *out = f;
    f = NULL;
out:
    fora_gbtm_fit_destroy(f);
    free(theta);
    free(best);
    free(F);
    free(D);
    free(assign);
    free(w.g);
    free(w.g1);
    free(w.g2);
    free(w.th);
    free(w.H);
    free(w.step);
    free(w.trial);
    free(w.Rm);
    free(w.free);
    free(lls);
    free(cand);
    free(cll);
    free(corder);
    if (rng != NULL) gsl_rng_free(rng);
    if (have_sub) fora__gbtm_ctx_destroy(&sub);
    fora__gbtm_ctx_destroy(&c);
    return err;
}

fora_err_t fora_gbtm_loglik(const fora_gbtm_data_t *data, size_t K, const fora_gbtm_opts_t *o,
                            const double *theta, double *loglik, double *grad, fora_diag_t *diag)
{
    fora__gbtm_ctx_t c;
    fora_err_t err = fora__gbtm_ctx_init(&c, data, K, o, diag);
    if (err != FORA_OK) return err;
    *loglik = fora__gbtm_eval(&c, theta, grad);
    fora__gbtm_ctx_destroy(&c);
    return FORA_OK;
}
