/*
 * analysis/linking_eval.c - the retrieval evaluation of account linking
 * (fora/linking.h, api-docs/linking.md): query sampling, the pooled and the
 * member-balanced pools, the analytic random baseline, and view weights
 * fitted on one half of the members and measured on the other.
 */
#include "fora/linking.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cblas.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort_float.h>

#include "fora/idmap.h"

/* ---------------------------------------------------------------------- */
/* evaluation                                                               */
/* ---------------------------------------------------------------------- */

void fora_link_random_expect(int64_t N, int64_t m, int k, double *rr, double *recall)
{
    /* P(first positive at rank r) = prod_{i<r-1} (neg - i)/(N - i) * m/(N - r + 1) */
    double err_ = 0, p_none = 1.0, rec = 0;
    int64_t neg = N - m;
    if (m <= 0 || N <= 0) {
        *rr = 0;
        *recall = 0;
        return;
    }
    for (int64_t r = 1; r <= neg + 1; r++) {
        double pr = p_none * (double)m / (double)(N - r + 1);
        err_ += pr / (double)r;
        if (r <= k) rec += pr;
        if (r <= neg) p_none *= (double)(neg - r + 1) / (double)(N - r + 1);
        if (p_none < 1e-300) break;
    }
    *rr = err_;
    *recall = rec;
}

/*
 * The rows that take part when each key keeps at most `cap` rows (cap 0: all
 * of them): use[0..*nuse) ascending, each key's rows chosen uniformly at
 * random by their own generator, so the uncapped protocol's query sample does
 * not depend on it.  Rows whose key is -1 (never queried, never positive) stay
 * as distractors.  O(n) expected.
 */
static fora_err_t capped_rows(const int32_t *key, int32_t n, int32_t kmax, int32_t cap,
                              uint64_t seed, int32_t *use, int32_t *nuse)
{
    if (cap <= 0) {
        for (int32_t r = 0; r < n; r++)
            use[r] = r;
        *nuse = n;
        return FORA_OK;
    }
    fora_err_t err = FORA_OK;
    /* rows grouped by key (counting sort), a choice within each group */
    int32_t *start = calloc((size_t)kmax + 2, sizeof(*start));
    int32_t *order = malloc((size_t)(n > 0 ? n : 1) * sizeof(*order));
    int32_t *pick = malloc((size_t)cap * sizeof(*pick));
    uint8_t *keep = calloc((size_t)(n > 0 ? n : 1), 1);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!start || !order || !pick || !keep || !rng) {
        err = FORA_ENOMEM;
        goto out;
    }
    gsl_rng_set(rng, (unsigned long)(seed * 2654435761ULL + 29));
    for (int32_t r = 0; r < n; r++)
        if (key[r] >= 0) start[key[r] + 2]++;
    for (int32_t k = 0; k < kmax; k++)
        start[k + 2] += start[k + 1];
    for (int32_t r = 0; r < n; r++)
        if (key[r] >= 0) order[start[key[r] + 1]++] = r;
    for (int32_t k = 0; k < kmax; k++) {
        const int32_t *g = order + start[k];
        int32_t ng = start[k + 1] - start[k];
        if (ng <= cap) {
            for (int32_t i = 0; i < ng; i++)
                keep[g[i]] = 1;
            continue;
        }
        gsl_ran_choose(rng, pick, (size_t)cap, (void *)g, (size_t)ng, sizeof(*g));
        for (int32_t i = 0; i < cap; i++)
            keep[pick[i]] = 1;
    }
    int32_t m = 0;
    for (int32_t r = 0; r < n; r++)
        if (key[r] < 0 || keep[r]) use[m++] = r;
    *nuse = m;
out:
    if (rng) gsl_rng_free(rng);
    free(start);
    free(order);
    free(pick);
    free(keep);
    return err;
}

/* ---------------------------------------------------------------------- */
/* fitted view weights                                                      */
/* ---------------------------------------------------------------------- */

/*
 * Weights are fitted on a fold's queries by coordinate ascent of their MRR.
 * With beta_c = w_c^2, the combined cosine of rows a, b is
 *   sum_c beta_c cos_c(a, b) / sqrt(B(a) B(b)),  B(r) = sum of beta_c over r's
 * non-zero components,
 * so a weight vector is scored from each pair's component cosines alone.  The
 * pairs kept per query are its FIT_POS best positives and FIT_NEG best
 * negatives under the fixed combined view and under each component; a
 * negative outside that list is taken to rank below (it is below the
 * FIT_NEG-th under every component and the fixed view), which can only
 * matter when the positive is already far down.  The reported metrics are
 * never computed this way: they come from the exact ranking of the other
 * fold's queries under the fitted weights.
 */
#define FIT_NEG 50
#define FIT_POS 32
#define FIT_MIN_QUERIES 20 /* a fold with fewer queries keeps the fixed weights */
#define FIT_PASSES 6

static const float fit_grid[] = {0.0f, 0.0625f, 0.125f, 0.25f, 0.5f, 1.0f, 2.0f, 4.0f, 8.0f, 16.0f};
#define FIT_NGRID ((int)(sizeof(fit_grid) / sizeof(fit_grid[0])))

/* the components each view may weight */
static const uint8_t view_allowed[FORA_LINK_NVIEWS] = {
    (1u << FORA_LINK_HOW) | (1u << FORA_LINK_GAP) | (1u << FORA_LINK_SESSION),
    (1u << FORA_LINK_EMBED) | (1u << FORA_LINK_CATEGORY),
    (1u << FORA_LINK_NCOMP) - 1u,
};

typedef struct fit_set {
    int32_t nq;
    int32_t *qoff;  /* nq + 1: query i owns entries [qoff[i], qoff[i+1]) */
    uint8_t *qmask; /* zero mask of query i */
    float *cos;     /* entries x FORA_LINK_NCOMP component cosines */
    uint8_t *mask;  /* zero mask of the entry's row */
    uint8_t *pos;   /* 1: a positive */
    size_t n, cap;
} fit_set_t;

static void fit_set_free(fit_set_t *f)
{
    free(f->qoff);
    free(f->qmask);
    free(f->cos);
    free(f->mask);
    free(f->pos);
    memset(f, 0, sizeof(*f));
}

static bool fit_set_add(fit_set_t *f, const float *c, uint8_t mask, bool pos)
{
    if (f->n == f->cap) {
        size_t nc = f->cap ? 2 * f->cap : 4096;
        float *a = realloc(f->cos, nc * FORA_LINK_NCOMP * sizeof(*a));
        if (a) f->cos = a;
        uint8_t *b = realloc(f->mask, nc);
        if (b) f->mask = b;
        uint8_t *d = realloc(f->pos, nc);
        if (d) f->pos = d;
        if (!a || !b || !d) return false;
        f->cap = nc;
    }
    memcpy(f->cos + f->n * FORA_LINK_NCOMP, c, FORA_LINK_NCOMP * sizeof(*c));
    f->mask[f->n] = mask;
    f->pos[f->n] = pos ? 1 : 0;
    f->n++;
    return true;
}

/* B(r) for a row of zero mask `mask` under beta */
static inline double fit_norm2(const double beta[FORA_LINK_NCOMP], uint8_t mask)
{
    double b = 0;
    for (int c = 0; c < FORA_LINK_NCOMP; c++)
        if (!(mask & (1u << c))) b += beta[c];
    return b;
}

/* The MRR of the set's queries under beta (negatives outside the lists rank below). */
static double fit_mrr(const fit_set_t *f, const double beta[FORA_LINK_NCOMP], float *sc)
{
    /* a query's own norm scales all its scores alike: only the entry's matters */
    float inv[1u << FORA_LINK_NCOMP];
    for (unsigned m = 0; m < (1u << FORA_LINK_NCOMP); m++) {
        double b = fit_norm2(beta, (uint8_t)m);
        inv[m] = b > 0 ? (float)(1.0 / sqrt(b)) : 0.0f;
    }
    const float b0 = (float)beta[0], b1 = (float)beta[1], b2 = (float)beta[2], b3 = (float)beta[3],
                b4 = (float)beta[4];
    double mrr = 0;
    for (int32_t i = 0; i < f->nq; i++) {
        const int32_t e0 = f->qoff[i], ne = f->qoff[i + 1] - e0;
        const float *c = f->cos + (size_t)e0 * FORA_LINK_NCOMP;
        const uint8_t *mk = f->mask + e0, *ps = f->pos + e0;
        const bool qzero = fit_norm2(beta, f->qmask[i]) <= 0;
        float best = -INFINITY;
        for (int32_t e = 0; e < ne; e++, c += FORA_LINK_NCOMP) {
            float v = (b0 * c[0] + b1 * c[1] + b2 * c[2] + b3 * c[3] + b4 * c[4]) * inv[mk[e]];
            sc[e] = qzero ? 0.0f : v;
            if (ps[e] && sc[e] > best) best = sc[e];
        }
        int64_t greater = 0, ties = 0, m = 0;
        for (int32_t e = 0; e < ne; e++) {
            if (ps[e]) {
                m += sc[e] == best;
            } else {
                greater += sc[e] > best;
                ties += sc[e] == best;
            }
        }
        mrr += 1.0 / fora_link_rank(greater, ties, m > 0 ? m : 1);
    }
    return f->nq > 0 ? mrr / f->nq : 0.0;
}

/*
 * Coordinate ascent over the grid from beta (in place), over the allowed
 * components; returns the training MRR reached.
 */
static double fit_ascend(const fit_set_t *f, uint8_t allowed, double beta[FORA_LINK_NCOMP],
                         float *sc)
{
    double cur = fit_mrr(f, beta, sc);
    for (int pass = 0; pass < FIT_PASSES; pass++) {
        bool changed = false;
        for (int c = 0; c < FORA_LINK_NCOMP; c++) {
            if (!(allowed & (1u << c))) continue;
            const double keep = beta[c];
            double bestv = keep, bestm = cur;
            for (int g = 0; g < FIT_NGRID; g++) {
                if ((double)fit_grid[g] == keep) continue;
                beta[c] = fit_grid[g];
                double tot = 0;
                for (int k = 0; k < FORA_LINK_NCOMP; k++)
                    tot += beta[k];
                if (tot <= 0) continue;
                double m = fit_mrr(f, beta, sc);
                if (m > bestm + 1e-12) {
                    bestm = m;
                    bestv = beta[c];
                }
            }
            beta[c] = bestv;
            if (bestv != keep) {
                cur = bestm;
                changed = true;
            }
        }
        if (!changed) break;
    }
    return cur;
}

/* beta -> weights w = sqrt(beta), the largest scaled to 1 */
static fora_link_view_t fit_view_of(const double beta[FORA_LINK_NCOMP])
{
    fora_link_view_t v;
    double mx = 0;
    for (int c = 0; c < FORA_LINK_NCOMP; c++)
        if (beta[c] > mx) mx = beta[c];
    for (int c = 0; c < FORA_LINK_NCOMP; c++)
        v.w[c] = mx > 0 ? (float)sqrt(beta[c] / mx) : 0.0f;
    return v;
}

/*
 * Fits the three views on one fold's queries: time and context over their own
 * components from the fixed weights; both from each fitted ablation, keeping
 * the better, so that on these queries it is at least as good as either.
 */
static fora_err_t fit_views(const fit_set_t *f, fora_link_view_t out[FORA_LINK_NVIEWS])
{
    double beta[FORA_LINK_NVIEWS][FORA_LINK_NCOMP];
    int32_t most = 1;
    for (int32_t i = 0; i < f->nq; i++)
        if (f->qoff[i + 1] - f->qoff[i] > most) most = f->qoff[i + 1] - f->qoff[i];
    float *sc = malloc((size_t)most * sizeof(*sc));
    if (!sc) return FORA_ENOMEM;
    for (int v = 0; v < FORA_LINK_NVIEWS; v++) {
        fora_link_view_t w = fora_link_view_get((fora_link_view_id_t)v);
        for (int c = 0; c < FORA_LINK_NCOMP; c++)
            beta[v][c] = (double)w.w[c] * w.w[c];
    }
    fit_ascend(f, view_allowed[FORA_LINK_VIEW_TIME], beta[FORA_LINK_VIEW_TIME], sc);
    fit_ascend(f, view_allowed[FORA_LINK_VIEW_CONTEXT], beta[FORA_LINK_VIEW_CONTEXT], sc);
    /* both: from each fitted ablation, the better end */
    double got = -1;
    for (int a = 0; a < 2; a++) {
        double b[FORA_LINK_NCOMP];
        memcpy(b, beta[a], sizeof(b));
        double m = fit_ascend(f, view_allowed[FORA_LINK_VIEW_BOTH], b, sc);
        if (m > got) {
            got = m;
            memcpy(beta[FORA_LINK_VIEW_BOTH], b, sizeof(b));
        }
    }
    free(sc);
    for (int v = 0; v < FORA_LINK_NVIEWS; v++)
        out[v] = fit_view_of(beta[v]);
    return FORA_OK;
}

void fora_link_eval_opts_default(fora_link_eval_opts_t *o)
{
    o->queries = 1000;
    o->per_member = 0;
    o->fit = true;
    o->seed = 1;
}

fora_err_t fora_link_evaluate(const fora_link_fp_t *fp, const int32_t *target, int32_t kappa,
                              uint64_t seed, fora_link_eval_t *out, fora_diag_t *diag)
{
    fora_link_eval_opts_t o = {.queries = kappa, .per_member = 0, .fit = false, .seed = seed};
    return fora_link_evaluate_ex(fp, target, &o, out, diag);
}

/* the fold (0 or 1) of a key: a seeded hash, so each member's rows share one */
static int fold_of(int32_t key, uint64_t seed)
{
    return (int)(fora_hash_u64((uint64_t)(uint32_t)key + seed * 0x9e3779b97f4a7c15ULL +
                               0x632be59bd9b4e019ULL) &
                 1u);
}

/* expected rank of query qi's first positive in score row s (rows 0..n) */
static double first_rank(const float *s, const int32_t *key, int32_t n, int32_t qi)
{
    const int32_t kq = key[qi];
    float best = -INFINITY;
    for (int32_t j = 0; j < n; j++)
        if (j != qi && key[j] == kq && s[j] > best) best = s[j];
    int64_t greater = 0, ties = 0, m = 0;
    for (int32_t j = 0; j < n; j++) {
        if (j == qi) continue;
        if (key[j] == kq) {
            if (s[j] == best) m++;
        } else if (s[j] > best) {
            greater++;
        } else if (s[j] == best) {
            ties++;
        }
    }
    return fora_link_rank(greater, ties, m);
}

#define EVAL_QB 32
#define FIT_QB 16

typedef struct fit_work {
    const float *xr;    /* n x dim raw rows (unit components) */
    const uint8_t *zm;  /* zero masks */
    const int32_t *key; /* keys */
    int32_t n, dim;
    const int32_t *off; /* component columns */
} fit_work_t;

/* the component cosines of raw rows a and b */
static void comp_cos(const fit_work_t *w, int32_t a, int32_t b, float c[FORA_LINK_NCOMP])
{
    const float *x = w->xr + (size_t)a * w->dim, *y = w->xr + (size_t)b * w->dim;
    for (int k = 0; k < FORA_LINK_NCOMP; k++) {
        float d = 0;
        for (int32_t i = w->off[k]; i < w->off[k + 1]; i++)
            d += x[i] * y[i];
        c[k] = d;
    }
}

/*
 * The fitting pairs of queries q[0..nq) into one set per fold (fold[i]): for
 * each query its best FIT_NEG negatives under each component and under the
 * fixed combined view, and its best FIT_POS positives under the fixed view.
 */
static fora_err_t fit_build(const fit_work_t *w, const int32_t *q, const uint8_t *fold, int32_t nq,
                            fit_set_t set[2])
{
    const int32_t n = w->n, dim = w->dim;
    const size_t n1 = (size_t)(n > 0 ? n : 1);
    fora_err_t err = FORA_OK;
    float *qb = malloc((size_t)FIT_QB * dim * sizeof(*qb));
    float *S = malloc((size_t)FIT_QB * n1 * sizeof(*S));
    float *acc = calloc((size_t)FIT_QB * n1, sizeof(*acc));
    float *tmp = malloc(n1 * sizeof(*tmp));
    size_t *top = malloc((size_t)(FIT_NEG > FIT_POS ? FIT_NEG : FIT_POS) * sizeof(*top));
    int32_t *stamp = malloc(n1 * sizeof(*stamp));
    int32_t *list =
        malloc((size_t)FIT_QB * (FORA_LINK_NCOMP + 1) * (FIT_NEG + FIT_POS) * sizeof(*list));
    int32_t *nlist = calloc(FIT_QB, sizeof(*nlist));
    int32_t *posi = malloc(n1 * sizeof(*posi));
    if (!qb || !S || !acc || !tmp || !top || !stamp || !list || !nlist || !posi) {
        err = FORA_ENOMEM;
        goto out;
    }
    for (int f = 0; f < 2; f++) {
        set[f].qoff = malloc(((size_t)nq + 1) * sizeof(*set[f].qoff));
        set[f].qmask = malloc((size_t)(nq > 0 ? nq : 1));
        if (!set[f].qoff || !set[f].qmask) {
            err = FORA_ENOMEM;
            goto out;
        }
        set[f].qoff[0] = 0;
    }
    for (int32_t j = 0; j < n; j++)
        stamp[j] = -1;
    const fora_link_view_t w0 = fora_link_view_get(FORA_LINK_VIEW_BOTH);
    double beta0[FORA_LINK_NCOMP];
    for (int c = 0; c < FORA_LINK_NCOMP; c++)
        beta0[c] = (double)w0.w[c] * w0.w[c];
    const int per = (FORA_LINK_NCOMP + 1) * (FIT_NEG + FIT_POS);

    for (int32_t q0 = 0; q0 < nq; q0 += FIT_QB) {
        const int32_t nb = nq - q0 < FIT_QB ? nq - q0 : FIT_QB;
        for (int32_t i = 0; i < nb; i++)
            memcpy(qb + (size_t)i * dim, w->xr + (size_t)q[q0 + i] * dim,
                   (size_t)dim * sizeof(*qb));
        memset(acc, 0, (size_t)nb * n1 * sizeof(*acc));
        memset(nlist, 0, FIT_QB * sizeof(*nlist));
        for (int c = 0; c <= FORA_LINK_NCOMP; c++) {
            const bool fixed = c == FORA_LINK_NCOMP; /* the fixed combined view last */
            if (!fixed) {
                const int kc = w->off[c + 1] - w->off[c];
                if (kc == 0 || n == 0) continue;
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, n, kc, 1.0f,
                            qb + w->off[c], dim, w->xr + w->off[c], dim, 0.0f, S, n);
                for (size_t t = 0; t < (size_t)nb * n; t++)
                    acc[t] += (float)beta0[c] * S[t];
            }
            for (int32_t i = 0; i < nb; i++) {
                const int32_t qi = q[q0 + i], kq = w->key[qi];
                const float *srow = fixed ? acc + (size_t)i * n : S + (size_t)i * n;
                const double bq = fit_norm2(beta0, w->zm[qi]);
                int32_t np = 0;
                for (int32_t j = 0; j < n; j++) {
                    float v = srow[j];
                    if (fixed) {
                        double bj = fit_norm2(beta0, w->zm[j]);
                        v = bq > 0 && bj > 0 ? (float)(v / sqrt(bq * bj)) : 0.0f;
                    }
                    if (j == qi) {
                        tmp[j] = -INFINITY;
                    } else if (w->key[j] == kq) {
                        tmp[j] = -INFINITY;
                        if (fixed) posi[np++] = j;
                    } else {
                        tmp[j] = v;
                    }
                }
                int32_t *li = list + (size_t)i * per;
                size_t h = (size_t)(n < FIT_NEG ? n : FIT_NEG);
                gsl_sort_float_largest_index(top, h, tmp, 1, (size_t)n);
                for (size_t t = 0; t < h; t++) {
                    int32_t j = (int32_t)top[t];
                    if (tmp[j] == -INFINITY || stamp[j] == q0 + i) continue;
                    stamp[j] = q0 + i;
                    li[nlist[i]++] = j;
                }
                if (!fixed) continue;
                /* positives by their fixed score */
                for (int32_t t = 0; t < np; t++) {
                    double bj = fit_norm2(beta0, w->zm[posi[t]]);
                    tmp[t] = bq > 0 && bj > 0 ? (float)(srow[posi[t]] / sqrt(bq * bj)) : 0.0f;
                }
                size_t hp = (size_t)(np < FIT_POS ? np : FIT_POS);
                gsl_sort_float_largest_index(top, hp, tmp, 1, (size_t)np);
                for (size_t t = 0; t < hp; t++)
                    li[nlist[i]++] = posi[top[t]];
            }
        }
        /* the pairs' component cosines, into the query's fold */
        for (int32_t i = 0; i < nb; i++) {
            const int32_t qi = q[q0 + i];
            fit_set_t *fs = &set[fold[q0 + i]];
            const int32_t *li = list + (size_t)i * per;
            for (int32_t t = 0; t < nlist[i]; t++) {
                float cc[FORA_LINK_NCOMP];
                comp_cos(w, qi, li[t], cc);
                if (!fit_set_add(fs, cc, w->zm[li[t]], w->key[li[t]] == w->key[qi])) {
                    err = FORA_ENOMEM;
                    goto out;
                }
            }
            fs->qmask[fs->nq] = w->zm[qi];
            fs->qoff[++fs->nq] = (int32_t)fs->n;
        }
    }
out:
    free(qb);
    free(S);
    free(acc);
    free(tmp);
    free(top);
    free(stamp);
    free(list);
    free(nlist);
    free(posi);
    return err;
}

/* The rows taking part, ranked by one view: the compacted combined matrix and its queries. */
typedef struct rank_work {
    const fora_link_fp_t *fp;
    const int32_t *use, *key;
    int32_t n, nall, dim;
    float *X, *qb, *S; /* fp->n x dim; EVAL_QB x dim; EVAL_QB x n */
} rank_work_t;

/* Adds 1/rank, rank <= 10 and rank of queries qq[0..nq) under view w to sums[0..3). */
static void rank_queries(const rank_work_t *r, const fora_link_view_t *w, const int32_t *qq,
                         int32_t nq, double sums[3])
{
    const int32_t n = r->n, dim = r->dim;
    fora_link_fp_combine(r->fp, w, r->X);
    if (n < r->nall)
        for (int32_t i = 0; i < n; i++)
            if (r->use[i] != i)
                memcpy(r->X + (size_t)i * dim, r->X + (size_t)r->use[i] * dim,
                       (size_t)dim * sizeof(*r->X));
    for (int32_t q0 = 0; q0 < nq; q0 += EVAL_QB) {
        int32_t nb = nq - q0 < EVAL_QB ? nq - q0 : EVAL_QB;
        for (int32_t i = 0; i < nb; i++)
            memcpy(r->qb + (size_t)i * dim, r->X + (size_t)qq[q0 + i] * dim,
                   (size_t)dim * sizeof(*r->qb));
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, n, dim, 1.0f, r->qb, dim, r->X,
                    dim, 0.0f, r->S, n);
        for (int32_t i = 0; i < nb; i++) {
            double rank = first_rank(r->S + (size_t)i * n, r->key, n, qq[q0 + i]);
            sums[0] += 1.0 / rank;
            sums[1] += rank <= 10.0 ? 1.0 : 0.0;
            sums[2] += rank;
        }
    }
}

fora_err_t fora_link_evaluate_ex(const fora_link_fp_t *fp, const int32_t *target,
                                 const fora_link_eval_opts_t *opts, fora_link_eval_t *out,
                                 fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    const int32_t dim = fp->dim, kappa = opts->queries, per_member = opts->per_member;
    const uint64_t seed = opts->seed;
    int32_t n = fp->n;
    int32_t *key = NULL, *cnt = NULL, *elig = NULL, *qs = NULL, *use = NULL, *qo = NULL;
    float *X = NULL, *qb = NULL, *S = NULL, *xr_own = NULL;
    uint8_t *zm = NULL, *qfold = NULL;
    gsl_rng *rng = NULL;
    fit_set_t set[2] = {{0}, {0}};

    memset(out, 0, sizeof(*out));
    if (kappa < 1) return fora_diag_set(diag, FORA_EINVAL, "queries must be >= 1, not %d", kappa);
    if (per_member < 0 || per_member == 1)
        return fora_diag_set(diag, FORA_EINVAL, "rows per member must be 0 (all) or >= 2, not %d",
                             per_member);
    out->per_member = per_member;
    size_t n1 = (size_t)(n > 0 ? n : 1);
    /* keys: the member, or the target; rows of a key counted through a dense map */
    key = malloc(n1 * sizeof(*key));
    use = malloc(n1 * sizeof(*use));
    zm = malloc(n1);
    int32_t kmax = 0;
    if (!key || !use || !zm) goto nomem;
    for (int32_t r = 0; r < n; r++) {
        key[r] = target ? target[fp->member[r]] : fp->member[r];
        if (key[r] + 1 > kmax) kmax = key[r] + 1;
    }
    /* the rows taking part, compacted to the front (use[i] >= i) */
    int32_t nuse = 0;
    if (capped_rows(key, n, kmax, per_member, seed, use, &nuse) != FORA_OK) goto nomem;
    for (int32_t i = 0; i < nuse; i++) {
        key[i] = key[use[i]];
        zm[i] = fp->zero_mask[use[i]];
    }
    const int32_t nall = n;
    n = nuse;
    out->rows = n;
    cnt = calloc((size_t)(kmax > 0 ? kmax : 1), sizeof(*cnt));
    elig = malloc(n1 * sizeof(*elig));
    if (!cnt || !elig) goto nomem;
    for (int32_t r = 0; r < n; r++)
        if (key[r] >= 0) cnt[key[r]]++;
    int32_t ne = 0;
    for (int32_t r = 0; r < n; r++)
        if (key[r] >= 0 && cnt[key[r]] >= 2) elig[ne++] = r;
    out->eligible = ne;
    out->candidates = n > 0 ? n - 1 : 0;
    if (ne == 0) {
        err = fora_diag_set(diag, FORA_ENOTFOUND,
                            "no row has another row of the same %s to find (%d rows; members "
                            "need at least two episodes)",
                            target ? "target" : "member", n);
        goto out;
    }
    int32_t nq = kappa < ne ? kappa : ne;
    qs = malloc((size_t)nq * sizeof(*qs));
    qo = malloc((size_t)nq * sizeof(*qo));
    qfold = malloc((size_t)nq);
    rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!qs || !qo || !qfold || !rng) goto nomem;
    gsl_rng_set(rng, (unsigned long)(seed * 2654435761ULL + 11));
    if (nq < ne)
        gsl_ran_choose(rng, qs, (size_t)nq, elig, (size_t)ne, sizeof(*qs));
    else
        memcpy(qs, elig, (size_t)nq * sizeof(*qs));
    out->queries = nq;

    double rr_rand = 0, rec_rand = 0;
    for (int32_t i = 0; i < nq; i++) {
        double a, b;
        fora_link_random_expect(n - 1, cnt[key[qs[i]]] - 1, 10, &a, &b);
        rr_rand += a;
        rec_rand += b;
    }
    out->random.mrr = rr_rand / nq;
    out->random.recall10 = rec_rand / nq;
    {
        /* mean expected rank of the first of m positives among N: (N + 1) / (m + 1) */
        double mr = 0;
        for (int32_t i = 0; i < nq; i++)
            mr += (double)n / (double)cnt[key[qs[i]]];
        out->random.mean_rank = mr / nq;
    }

    /* folds: each query's member decides; too few queries in a fold: fixed weights */
    for (int32_t i = 0; i < nq; i++) {
        qfold[i] = (uint8_t)fold_of(key[qs[i]], seed);
        out->fold_queries[qfold[i]]++;
    }
    out->fitted = opts->fit && out->fold_queries[0] >= FIT_MIN_QUERIES &&
                  out->fold_queries[1] >= FIT_MIN_QUERIES;
    for (int v = 0; v < FORA_LINK_NVIEWS; v++)
        out->weights[0][v] = out->weights[1][v] = fora_link_view_get((fora_link_view_id_t)v);
    /* queries grouped by fold: those of fold 1 are ranked with fold 0's weights and back */
    int32_t nf0 = 0;
    for (int32_t i = 0; i < nq; i++)
        if (qfold[i] == 1) qo[nf0++] = qs[i];
    const int32_t split = nf0;
    for (int32_t i = 0; i < nq; i++)
        if (qfold[i] == 0) qo[nf0++] = qs[i];

    /* one view's combined matrix at a time: memory fp->n x dim floats */
    X = malloc(n1 * (size_t)dim * sizeof(*X));
    qb = malloc((size_t)EVAL_QB * dim * sizeof(*qb));
    S = malloc((size_t)EVAL_QB * n1 * sizeof(*S));
    if (!X || !qb || !S) goto nomem;
    rank_work_t rw = {fp, use, key, n, nall, dim, X, qb, S};

    if (out->fitted) {
        const float *xr = fp->x;
        if (n < nall) {
            xr_own = malloc(n1 * (size_t)dim * sizeof(*xr_own));
            if (!xr_own) goto nomem;
            for (int32_t i = 0; i < n; i++)
                memcpy(xr_own + (size_t)i * dim, fp->x + (size_t)use[i] * dim,
                       (size_t)dim * sizeof(*xr_own));
            xr = xr_own;
        }
        fit_work_t w = {xr, zm, key, n, dim, fp->off};
        if (fit_build(&w, qs, qfold, nq, set) != FORA_OK) goto nomem;
        free(xr_own);
        xr_own = NULL;
        for (int f = 0; f < 2; f++) {
            if (fit_views(&set[f], out->weights[f]) != FORA_OK) goto nomem;
            /* the fit scores mixes on short candidate lists; ranked exactly on the fold's own
             * queries, a combination that does not beat both ablations gives way to the better */
            const int32_t *qf = qo + (f == 0 ? split : 0);
            const int32_t nf = f == 0 ? nq - split : split;
            double sm[FORA_LINK_NVIEWS][3] = {{0}};
            for (int v = 0; v < FORA_LINK_NVIEWS; v++)
                rank_queries(&rw, &out->weights[f][v], qf, nf, sm[v]);
            const int abl = sm[FORA_LINK_VIEW_TIME][0] > sm[FORA_LINK_VIEW_CONTEXT][0]
                                ? FORA_LINK_VIEW_TIME
                                : FORA_LINK_VIEW_CONTEXT;
            if (sm[abl][0] >= sm[FORA_LINK_VIEW_BOTH][0])
                out->weights[f][FORA_LINK_VIEW_BOTH] = out->weights[f][abl];
        }
    }

    for (int v = 0; v < FORA_LINK_NVIEWS; v++) {
        double sums[3] = {0, 0, 0};
        if (out->fitted) {
            /* fold 0's weights rank fold 1's queries (qo[0 .. split)) and back */
            rank_queries(&rw, &out->weights[0][v], qo, split, sums);
            rank_queries(&rw, &out->weights[1][v], qo + split, nq - split, sums);
        } else {
            rank_queries(&rw, &out->weights[0][v], qs, nq, sums);
        }
        out->view[v].mrr = sums[0] / nq;
        out->view[v].recall10 = sums[1] / nq;
        out->view[v].mean_rank = sums[2] / nq;
    }
    goto out;
nomem:
    err = fora_diag_set(diag, FORA_ENOMEM, "out of memory in the linking evaluation");
out:
    if (rng) gsl_rng_free(rng);
    fit_set_free(&set[0]);
    fit_set_free(&set[1]);
    free(X);
    free(qb);
    free(S);
    free(xr_own);
    free(key);
    free(use);
    free(zm);
    free(cnt);
    free(elig);
    free(qs);
    free(qo);
    free(qfold);
    return err;
}
