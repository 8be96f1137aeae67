/*
 * analysis/linking.c - fingerprints of members and episodes, cosine top-k by
 * blocked CBLAS products and synthetic sybils (fora/linking.h; definitions in
 * api-docs/linking.md).  The retrieval evaluation is in linking_eval.c.
 */
#include "fora/linking.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <gsl/gsl_cblas.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "fora/idmap.h"

const char *const fora_link_comp_names[FORA_LINK_NCOMP] = {"hour_of_week", "gaps", "session",
                                                           "embedding", "category"};
const char *const fora_link_view_names[FORA_LINK_NVIEWS] = {"time", "context", "both"};

#define WEEK_BINS 168
/* rows whose key is at most this are in no group (fora_link_topk) */
#define LINK_MAX_ROWS (INT32_MAX / 2)

const char *fora_link_skip_reason(fora_link_skip_t r)
{
    switch (r) {
    case FORA_LINK_SKIP_NO_POSTS:
        return "no posts";
    case FORA_LINK_SKIP_TOO_FEW_POSTS:
        return "fewer posts than the episode length";
    }
    return "unknown";
}

void fora_link_opts_default(fora_link_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->episode_len = 0;
    o->how_sigma = 1.5;
    o->how_harmonics = 28;
    o->session_gap = 1800;
    o->embed_dim = 32;
    o->walks_per_member = 4;
    o->walk_length = 10;
    o->window = 2;
    o->power_iters = 3;
    o->centre = true;
    o->seed = 1;
    o->tz = NULL;
}

fora_link_view_t fora_link_view_get(fora_link_view_id_t v)
{
    /* time: hour-of-week, gaps, session; context: embedding, category */
    static const float W[FORA_LINK_NVIEWS][FORA_LINK_NCOMP] = {
        {1.0f, 1.0f, 0.5f, 0.0f, 0.0f},
        {0.0f, 0.0f, 0.0f, 1.0f, 0.5f},
        {1.0f, 1.0f, 0.5f, 1.0f, 0.5f},
    };
    fora_link_view_t out;
    for (int c = 0; c < FORA_LINK_NCOMP; c++)
        out.w[c] = W[v][c];
    return out;
}

void fora_link_fp_destroy(fora_link_fp_t *fp)
{
    if (fp == NULL) return;
    free(fp->x);
    free(fp->member);
    free(fp->first_post);
    free(fp->nposts);
    free(fp->zero_mask);
    free(fp->row_of_member);
    free(fp->skipped);
    free(fp->skip_reason);
    free(fp);
}

double fora_link_cosine(const float *a, const float *b, int d)
{
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < d; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    if (aa <= 0.0 || bb <= 0.0) return 0.0;
    double c = ab / (sqrt(aa) * sqrt(bb));
    return c > 1.0 ? 1.0 : c < -1.0 ? -1.0 : c; /* rounding */
}

/* ---------------------------------------------------------------------- */
/* CSR lists                                                                */
/* ---------------------------------------------------------------------- */

/* start[0..n] and items of a grouping of m items by key[i] in [0,n) (key < 0: left out). */
typedef struct csr {
    int32_t n;
    int64_t *start;
    int32_t *item;
} csr_t;

static void csr_free(csr_t *c)
{
    free(c->start);
    free(c->item);
    c->start = NULL;
    c->item = NULL;
}

/* Items in increasing order within each group (a counting sort, stable). */
static fora_err_t csr_build(csr_t *c, int32_t n, const int32_t *key, int32_t m, fora_diag_t *diag)
{
    c->n = n;
    c->start = calloc((size_t)n + 1, sizeof(*c->start));
    int64_t nitems = 0;
    for (int32_t i = 0; i < m; i++)
        if (key[i] >= 0) nitems++;
    c->item = malloc((size_t)(nitems > 0 ? nitems : 1) * sizeof(*c->item));
    if (c->start == NULL || c->item == NULL) {
        csr_free(c);
        return fora_diag_set(diag, FORA_ENOMEM, "out of memory building the linking lists");
    }
    for (int32_t i = 0; i < m; i++)
        if (key[i] >= 0) c->start[key[i] + 1]++;
    for (int32_t g = 0; g < n; g++)
        c->start[g + 1] += c->start[g];
    int64_t *fill = malloc((size_t)(n > 0 ? n : 1) * sizeof(*fill));
    if (fill == NULL) {
        csr_free(c);
        return fora_diag_set(diag, FORA_ENOMEM, "out of memory building the linking lists");
    }
    memcpy(fill, c->start, (size_t)n * sizeof(*fill));
    for (int32_t i = 0; i < m; i++)
        if (key[i] >= 0) c->item[fill[key[i]]++] = i;
    free(fill);
    return FORA_OK;
}

/* ---------------------------------------------------------------------- */
/* context embedding: walks, PPMI, randomised subspace iteration            */
/* ---------------------------------------------------------------------- */

/* Sparse symmetric matrix in CSR with double values. */
typedef struct spm {
    int32_t n;
    int64_t *start;
    int32_t *col;
    double *val;
} spm_t;

static void spm_free(spm_t *a)
{
    free(a->start);
    free(a->col);
    free(a->val);
}

/* Y (n x r, row-major) = A X.  The inner loop is most of the embedding's
 * time; GCC vectorises it at -O3 only. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("O3")))
#endif
static void
spm_mul(const spm_t *a, const double *X, int r, double *Y)
{
    for (int32_t i = 0; i < a->n; i++) {
        double *y = Y + (size_t)i * r;
        memset(y, 0, (size_t)r * sizeof(*y));
        for (int64_t e = a->start[i]; e < a->start[i + 1]; e++) {
            const double v = a->val[e];
            const double *x = X + (size_t)a->col[e] * r;
            for (int j = 0; j < r; j++)
                y[j] += v * x[j];
        }
    }
}

/*
 * Orthonormalises the columns of Y (n x r) in place through the eigen-
 * decomposition of Y'Y: Q = Y W L^-1/2, columns with eigenvalues below
 * 1e-10 of the largest set to zero (rank-deficient blocks of tiny graphs).
 */
static fora_err_t orthonormalise(double *Y, int32_t n, int r, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    gsl_matrix *G = gsl_matrix_alloc((size_t)r, (size_t)r);
    gsl_matrix *W = gsl_matrix_alloc((size_t)r, (size_t)r);
    gsl_vector *L = gsl_vector_alloc((size_t)r);
    gsl_eigen_symmv_workspace *ws = gsl_eigen_symmv_alloc((size_t)r);
    double *T = malloc((size_t)n * (size_t)r * sizeof(*T));
    if (!G || !W || !L || !ws || !T) {
        err = fora_diag_set(diag, FORA_ENOMEM, "out of memory in the embedding");
        goto out;
    }
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r, r, n, 1.0, Y, r, Y, r, 0.0, G->data,
                G->tda);
    if (gsl_eigen_symmv(G, L, W, ws) != 0) {
        err = fora_diag_set(diag, FORA_ENUMERIC, "embedding: eigen-decomposition failed");
        goto out;
    }
    double lmax = 0;
    for (int j = 0; j < r; j++)
        if (gsl_vector_get(L, (size_t)j) > lmax) lmax = gsl_vector_get(L, (size_t)j);
    for (int j = 0; j < r; j++) {
        double l = gsl_vector_get(L, (size_t)j);
        double s = (lmax > 0 && l > 1e-10 * lmax) ? 1.0 / sqrt(l) : 0.0;
        for (int i = 0; i < r; i++)
            gsl_matrix_set(W, (size_t)i, (size_t)j, gsl_matrix_get(W, (size_t)i, (size_t)j) * s);
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, r, r, 1.0, Y, r, W->data, W->tda, 0.0,
                T, r);
    memcpy(Y, T, (size_t)n * (size_t)r * sizeof(*T));
out:
    free(T);
    if (ws) gsl_eigen_symmv_free(ws);
    if (L) gsl_vector_free(L);
    if (W) gsl_matrix_free(W);
    if (G) gsl_matrix_free(G);
    return err;
}

/* Pairs are counted in batches: sorted, run-length compressed, merged at the end. */
typedef struct pairbuf {
    uint64_t *key, *ktmp;
    uint32_t *val, *vtmp;
    size_t n, cap;
    /* compressed runs so far */
    uint64_t *rkey;
    uint32_t *rcnt;
    size_t rn, rcap;
} pairbuf_t;

#define PAIR_BATCH ((size_t)1 << 21)

static void pairbuf_free(pairbuf_t *b)
{
    free(b->key);
    free(b->ktmp);
    free(b->val);
    free(b->vtmp);
    free(b->rkey);
    free(b->rcnt);
}

/* Sorts keys[0..n) (with counts vals) and appends the merged runs to b's runs. */
static fora_err_t pairbuf_compress(pairbuf_t *b, uint64_t *keys, uint32_t *vals, size_t n,
                                   fora_diag_t *diag)
{
    if (n == 0) return FORA_OK;
    fora_radix_sort_u64(keys, vals, n, b->ktmp, vals ? b->vtmp : NULL);
    size_t need = b->rn + n;
    if (need > b->rcap) {
        size_t cap = b->rcap ? b->rcap : PAIR_BATCH;
        while (cap < need)
            cap *= 2;
        uint64_t *k = realloc(b->rkey, cap * sizeof(*k));
        if (k) b->rkey = k;
        uint32_t *c = k ? realloc(b->rcnt, cap * sizeof(*c)) : NULL;
        if (c) b->rcnt = c;
        if (!k || !c) return fora_diag_set(diag, FORA_ENOMEM, "out of memory counting walk pairs");
        b->rcap = cap;
    }
    for (size_t i = 0; i < n;) {
        size_t j = i;
        uint64_t cnt = 0;
        while (j < n && keys[j] == keys[i])
            cnt += vals ? vals[j++] : (j++, 1);
        b->rkey[b->rn] = keys[i];
        b->rcnt[b->rn] = cnt > UINT32_MAX ? UINT32_MAX : (uint32_t)cnt;
        b->rn++;
        i = j;
    }
    return FORA_OK;
}

static fora_err_t pairbuf_add(pairbuf_t *b, uint32_t x, uint32_t y, fora_diag_t *diag)
{
    if (b->n == b->cap) {
        fora_err_t err = pairbuf_compress(b, b->key, NULL, b->n, diag);
        if (err != FORA_OK) return err;
        b->n = 0;
    }
    uint32_t lo = x < y ? x : y, hi = x < y ? y : x;
    b->key[b->n++] = ((uint64_t)lo << 32) | hi;
    return FORA_OK;
}

/*
 * Node embeddings (nodes: members, then threads, then boards) into emb
 * (nn x d, row-major, double).  Posts of deleted accounts are not walked.
 */
static fora_err_t embed_nodes(const fora_snapshot_t *s, const fora_link_opts_t *o,
                              const csr_t *mposts, gsl_rng *rng, double *emb, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    const int32_t M = s->members.n, T = s->threads.n, B = s->boards.n, P = s->posts.n;
    const int32_t nn = M + T + B;
    const int d = o->embed_dim;
    csr_t tposts = {0}, bposts = {0};
    int32_t *tkey = NULL, *bkey = NULL;
    pairbuf_t pb = {0};
    spm_t A = {0};
    double *rowsum = NULL, *Y = NULL, *Z = NULL;
    uint32_t *walk = NULL;
    gsl_matrix *Tm = NULL, *V = NULL;
    gsl_vector *L = NULL;
    gsl_eigen_symmv_workspace *ws = NULL;

    memset(emb, 0, (size_t)nn * (size_t)d * sizeof(*emb));
    tkey = malloc((size_t)(P > 0 ? P : 1) * sizeof(*tkey));
    bkey = malloc((size_t)(P > 0 ? P : 1) * sizeof(*bkey));
    if (!tkey || !bkey) goto nomem;
    for (int32_t p = 0; p < P; p++) {
        bool ok = s->posts.author[p] >= 0;
        tkey[p] = ok ? s->posts.thread[p] : -1;
        bkey[p] = ok ? s->threads.board[s->posts.thread[p]] : -1;
    }
    if ((err = csr_build(&tposts, T, tkey, P, diag)) != FORA_OK) goto out;
    if ((err = csr_build(&bposts, B, bkey, P, diag)) != FORA_OK) goto out;

    /* walks: member -> thread -> member -> board -> member -> thread ... */
    const int wlen = 2 * o->walk_length - 1;
    walk = malloc((size_t)wlen * sizeof(*walk));
    pb.cap = PAIR_BATCH;
    pb.key = malloc(pb.cap * sizeof(*pb.key));
    pb.ktmp = malloc(pb.cap * sizeof(*pb.ktmp));
    pb.vtmp = malloc(pb.cap * sizeof(*pb.vtmp));
    if (!walk || !pb.key || !pb.ktmp || !pb.vtmp) goto nomem;
    for (int32_t m = 0; m < M; m++) {
        if (mposts->start[m + 1] == mposts->start[m]) continue;
        for (int w = 0; w < o->walks_per_member; w++) {
            int len = 0;
            int32_t cur = m;
            walk[len++] = (uint32_t)cur;
            for (int step = 0; step + 1 < o->walk_length; step++) {
                int64_t n0 = mposts->start[cur], n1 = mposts->start[cur + 1];
                int32_t p =
                    mposts->item[n0 + (int64_t)gsl_rng_uniform_int(rng, (unsigned long)(n1 - n0))];
                int32_t t = s->posts.thread[p];
                const csr_t *via = (step % 2 == 0) ? &tposts : &bposts;
                int32_t node = (step % 2 == 0) ? t : s->threads.board[t];
                walk[len++] = (uint32_t)((step % 2 == 0) ? M + node : M + T + node);
                int64_t v0 = via->start[node], v1 = via->start[node + 1];
                int32_t q =
                    via->item[v0 + (int64_t)gsl_rng_uniform_int(rng, (unsigned long)(v1 - v0))];
                cur = s->posts.author[q];
                walk[len++] = (uint32_t)cur;
            }
            for (int i = 0; i < len; i++)
                for (int j = i + 1; j <= i + o->window && j < len; j++)
                    if (walk[i] != walk[j] && (err = pairbuf_add(&pb, walk[i], walk[j], diag)))
                        goto out;
        }
    }
    if ((err = pairbuf_compress(&pb, pb.key, NULL, pb.n, diag)) != FORA_OK) goto out;
    pb.n = 0;
    /* merge the batches' runs */
    if (pb.rn > pb.cap) {
        free(pb.ktmp);
        free(pb.vtmp);
        pb.ktmp = malloc(pb.rn * sizeof(*pb.ktmp));
        pb.vtmp = malloc(pb.rn * sizeof(*pb.vtmp));
        if (!pb.ktmp || !pb.vtmp) goto nomem;
    }
    {
        uint64_t *k = pb.rkey;
        uint32_t *c = pb.rcnt;
        size_t n = pb.rn;
        pb.rkey = NULL;
        pb.rcnt = NULL;
        pb.rn = pb.rcap = 0;
        err = pairbuf_compress(&pb, k, c, n, diag);
        free(k);
        free(c);
        if (err != FORA_OK) goto out;
    }

    /* symmetric CSR of the counts, then PPMI in place */
    A.n = nn;
    A.start = calloc((size_t)nn + 1, sizeof(*A.start));
    A.col = malloc((2 * pb.rn + 1) * sizeof(*A.col));
    A.val = malloc((2 * pb.rn + 1) * sizeof(*A.val));
    rowsum = calloc((size_t)nn, sizeof(*rowsum));
    if (!A.start || !A.col || !A.val || !rowsum) goto nomem;
    for (size_t e = 0; e < pb.rn; e++) {
        A.start[(pb.rkey[e] >> 32) + 1]++;
        A.start[(pb.rkey[e] & 0xffffffffu) + 1]++;
    }
    for (int32_t i = 0; i < nn; i++)
        A.start[i + 1] += A.start[i];
    {
        int64_t *fill = malloc((size_t)(nn > 0 ? nn : 1) * sizeof(*fill));
        if (!fill) goto nomem;
        memcpy(fill, A.start, (size_t)nn * sizeof(*fill));
        for (size_t e = 0; e < pb.rn; e++) {
            uint32_t a = (uint32_t)(pb.rkey[e] >> 32), b = (uint32_t)(pb.rkey[e] & 0xffffffffu);
            A.col[fill[a]] = (int32_t)b;
            A.val[fill[a]++] = pb.rcnt[e];
            A.col[fill[b]] = (int32_t)a;
            A.val[fill[b]++] = pb.rcnt[e];
        }
        free(fill);
    }
    double D = 0, Zs = 0;
    for (int32_t i = 0; i < nn; i++) {
        for (int64_t e = A.start[i]; e < A.start[i + 1]; e++)
            rowsum[i] += A.val[e];
        D += rowsum[i];
        Zs += pow(rowsum[i], 0.75);
    }
    if (D <= 0) goto out; /* no co-occurrence at all: zero embeddings */
    /* PPMI(a,b) = max(0, log(#ab/D) - log P(a) - log P(b)), P(x) = c(x)^0.75 / sum c^0.75 */
    const double logD = log(D), logZ = log(Zs);
    for (int32_t i = 0; i < nn; i++)
        for (int64_t e = A.start[i]; e < A.start[i + 1]; e++) {
            int32_t j = A.col[e];
            double pmi = log(A.val[e]) - logD - (0.75 * log(rowsum[i]) - logZ) -
                         (0.75 * log(rowsum[j]) - logZ);
            A.val[e] = pmi > 0 ? pmi : 0.0;
        }
    {
        /* drop the zeros PPMI made: the products only need the positive entries */
        int64_t w = 0, r0 = 0;
        for (int32_t i = 0; i < nn; i++) {
            int64_t r1 = A.start[i + 1];
            for (int64_t e = r0; e < r1; e++)
                if (A.val[e] > 0) {
                    A.col[w] = A.col[e];
                    A.val[w++] = A.val[e];
                }
            r0 = r1;
            A.start[i + 1] = w;
        }
    }

    /* randomised subspace iteration for the largest |eigenvalues| */
    int r = d + 10;
    if (r > nn) r = nn;
    Y = malloc((size_t)nn * (size_t)r * sizeof(*Y));
    Z = malloc((size_t)nn * (size_t)r * sizeof(*Z));
    if (!Y || !Z) goto nomem;
    for (size_t i = 0; i < (size_t)nn * (size_t)r; i++)
        Z[i] = gsl_ran_gaussian(rng, 1.0);
    spm_mul(&A, Z, r, Y);
    if ((err = orthonormalise(Y, nn, r, diag)) != FORA_OK) goto out;
    for (int it = 0; it < o->power_iters; it++) {
        spm_mul(&A, Y, r, Z);
        if ((err = orthonormalise(Z, nn, r, diag)) != FORA_OK) goto out;
        double *t = Y;
        Y = Z;
        Z = t;
    }
    /* Rayleigh-Ritz: T = Y' A Y */
    spm_mul(&A, Y, r, Z);
    Tm = gsl_matrix_alloc((size_t)r, (size_t)r);
    V = gsl_matrix_alloc((size_t)r, (size_t)r);
    L = gsl_vector_alloc((size_t)r);
    ws = gsl_eigen_symmv_alloc((size_t)r);
    if (!Tm || !V || !L || !ws) goto nomem;
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r, r, nn, 1.0, Y, r, Z, r, 0.0, Tm->data,
                Tm->tda);
    for (int i = 0; i < r; i++) /* symmetrise rounding */
        for (int j = i + 1; j < r; j++) {
            double v = 0.5 * (gsl_matrix_get(Tm, (size_t)i, (size_t)j) +
                              gsl_matrix_get(Tm, (size_t)j, (size_t)i));
            gsl_matrix_set(Tm, (size_t)i, (size_t)j, v);
            gsl_matrix_set(Tm, (size_t)j, (size_t)i, v);
        }
    if (gsl_eigen_symmv(Tm, L, V, ws) != 0 || gsl_eigen_symmv_sort(L, V, GSL_EIGEN_SORT_ABS_DESC)) {
        err = fora_diag_set(diag, FORA_ENUMERIC, "embedding: eigen-decomposition failed");
        goto out;
    }
    {
        int keep = d < r ? d : r;
        /* scale column j of V by |lambda_j|^1/2, keep d columns */
        for (int j = 0; j < r; j++) {
            double sc = j < keep ? sqrt(fabs(gsl_vector_get(L, (size_t)j))) : 0.0;
            for (int i = 0; i < r; i++)
                gsl_matrix_set(V, (size_t)i, (size_t)j,
                               gsl_matrix_get(V, (size_t)i, (size_t)j) * sc);
        }
        /* emb (nn x d) = Y (nn x r) V[:, 0..keep) */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nn, keep, r, 1.0, Y, r, V->data,
                    V->tda, 0.0, emb, d);
    }
    goto out;
nomem:
    err = fora_diag_set(diag, FORA_ENOMEM, "out of memory computing the context embedding");
out:
    if (ws) gsl_eigen_symmv_free(ws);
    if (L) gsl_vector_free(L);
    if (V) gsl_matrix_free(V);
    if (Tm) gsl_matrix_free(Tm);
    free(Y);
    free(Z);
    free(rowsum);
    spm_free(&A);
    pairbuf_free(&pb);
    free(walk);
    free(tkey);
    free(bkey);
    csr_free(&tposts);
    csr_free(&bposts);
    return err;
}

/* ---------------------------------------------------------------------- */
/* fingerprints                                                             */
/* ---------------------------------------------------------------------- */

static int gap_bin(int64_t g)
{
    if (g < 60) return 0;
    int b = 1;
    int64_t edge = 120;
    while (b < FORA_LINK_GAP_BINS - 1 && g >= edge) {
        b++;
        edge *= 2;
    }
    return b;
}

/* Normalises v[0..n) to unit length; false (and v zeroed) when it is zero. */
static bool unit(double *v, int n)
{
    double ss = 0;
    for (int i = 0; i < n; i++)
        ss += v[i] * v[i];
    if (!(ss > 1e-24)) {
        memset(v, 0, (size_t)n * sizeof(*v));
        return false;
    }
    double sc = 1.0 / sqrt(ss);
    for (int i = 0; i < n; i++)
        v[i] *= sc;
    return true;
}

static fora_err_t check_opts(const fora_link_opts_t *o, fora_diag_t *diag)
{
    if (o->episode_len < 0 || o->episode_len > FORA_LINK_MAX_EPISODE)
        return fora_diag_set(diag, FORA_EINVAL, "episode_len must be 0..%d, not %d",
                             FORA_LINK_MAX_EPISODE, o->episode_len);
    if (!(o->how_sigma > 0 && o->how_sigma <= 84))
        return fora_diag_set(diag, FORA_EINVAL, "how_sigma must be > 0 and <= 84 hours");
    if (o->how_harmonics < 1 || o->how_harmonics > 84)
        return fora_diag_set(diag, FORA_EINVAL, "how_harmonics must be 1..84, not %d",
                             o->how_harmonics);
    if (o->session_gap < 1)
        return fora_diag_set(diag, FORA_EINVAL, "session_gap must be >= 1 second");
    if (o->embed_dim < 2 || o->embed_dim > 128)
        return fora_diag_set(diag, FORA_EINVAL, "embed_dim must be 2..128, not %d", o->embed_dim);
    if (o->walks_per_member < 1 || o->walks_per_member > 100)
        return fora_diag_set(diag, FORA_EINVAL, "walks_per_member must be 1..100, not %d",
                             o->walks_per_member);
    if (o->walk_length < 2 || o->walk_length > 200)
        return fora_diag_set(diag, FORA_EINVAL, "walk_length must be 2..200, not %d",
                             o->walk_length);
    if (o->window < 1 || o->window > 20)
        return fora_diag_set(diag, FORA_EINVAL, "window must be 1..20, not %d", o->window);
    if (o->power_iters < 0 || o->power_iters > 20)
        return fora_diag_set(diag, FORA_EINVAL, "power_iters must be 0..20, not %d",
                             o->power_iters);
    return FORA_OK;
}

fora_err_t fora_link_fingerprints(const fora_snapshot_t *s, const fora_link_opts_t *o,
                                  fora_link_fp_t **out, fora_diag_t *diag)
{
    fora_err_t err;
    const int32_t M = s->members.n, T = s->threads.n, B = s->boards.n, P = s->posts.n;
    const int H = o->how_harmonics, d = o->embed_dim, L = o->episode_len;
    csr_t mp = {0};
    fora_link_fp_t *fp = NULL;
    int32_t *session = NULL, *catcol = NULL;
    double *emb = NULL, *basis = NULL, *row = NULL, *mean = NULL, *sess = NULL;
    int64_t *local = NULL;
    gsl_rng *rng = NULL;

    *out = NULL;
    if ((err = check_opts(o, diag)) != FORA_OK) return err;
    if (s->build != NULL)
        return fora_diag_set(diag, FORA_EINVAL, "linking needs a finished snapshot");
    if ((int64_t)M + T + B >= UINT32_MAX / 2)
        return fora_diag_set(diag, FORA_ETOOLARGE, "too many members, threads and boards");
    if ((err = csr_build(&mp, M, s->posts.author, P, diag)) != FORA_OK) return err;

    fp = calloc(1, sizeof(*fp));
    if (!fp) goto nomem;
    fp->episode_len = L;
    /* category columns: the busiest FORA_LINK_MAX_CATEGORIES - 1, the rest pooled */
    int32_t K = s->categories.n;
    catcol = malloc((size_t)(K > 0 ? K : 1) * sizeof(*catcol));
    if (!catcol) goto nomem;
    if (K <= FORA_LINK_MAX_CATEGORIES) {
        for (int32_t k = 0; k < K; k++)
            catcol[k] = k;
        fp->ncategories = K;
    } else {
        int64_t *cnt = calloc((size_t)K, sizeof(*cnt));
        uint64_t *key = malloc((size_t)K * sizeof(*key)), *kt = malloc((size_t)K * sizeof(*kt));
        uint32_t *val = malloc((size_t)K * sizeof(*val)), *vt = malloc((size_t)K * sizeof(*vt));
        bool ok = cnt && key && kt && val && vt;
        if (ok) {
            for (int32_t p = 0; p < P; p++)
                cnt[s->boards.category[s->threads.board[s->posts.thread[p]]]]++;
            for (int32_t k = 0; k < K; k++) {
                key[k] = UINT64_MAX - (uint64_t)cnt[k];
                val[k] = (uint32_t)k;
            }
            fora_radix_sort_u64(key, val, (size_t)K, kt, vt);
            for (int32_t r = 0; r < K; r++)
                catcol[val[r]] =
                    r < FORA_LINK_MAX_CATEGORIES - 1 ? r : FORA_LINK_MAX_CATEGORIES - 1;
        }
        free(cnt);
        free(key);
        free(kt);
        free(val);
        free(vt);
        if (!ok) goto nomem;
        fp->ncategories = FORA_LINK_MAX_CATEGORIES;
    }
    const int32_t ncat = fp->ncategories > 0 ? fp->ncategories : 1;
    fp->off[0] = 0;
    fp->off[1] = fp->off[0] + 1 + 2 * H;
    fp->off[2] = fp->off[1] + FORA_LINK_GAP_BINS;
    fp->off[3] = fp->off[2] + FORA_LINK_SESSION_DIMS;
    fp->off[4] = fp->off[3] + d;
    fp->off[5] = fp->off[4] + ncat;
    fp->dim = fp->off[5];
    const int dim = fp->dim;

    /* rows */
    int64_t nrows = 0;
    for (int32_t m = 0; m < M; m++) {
        int64_t n = mp.start[m + 1] - mp.start[m];
        if (n == 0 || (L > 0 && n < L)) {
            fp->nskipped++;
            continue;
        }
        nrows += L > 0 ? n / L : 1;
    }
    if (nrows > LINK_MAX_ROWS) {
        err = fora_diag_set(diag, FORA_ETOOLARGE, "too many rows (%lld)", (long long)nrows);
        goto out;
    }
    fp->n = (int32_t)nrows;
    size_t nr1 = (size_t)(nrows > 0 ? nrows : 1);
    fp->x = calloc(nr1 * (size_t)dim, sizeof(*fp->x));
    fp->member = malloc(nr1 * sizeof(*fp->member));
    fp->first_post = malloc(nr1 * sizeof(*fp->first_post));
    fp->nposts = malloc(nr1 * sizeof(*fp->nposts));
    fp->zero_mask = calloc(nr1, sizeof(*fp->zero_mask));
    fp->row_of_member = malloc((size_t)(M > 0 ? M : 1) * sizeof(*fp->row_of_member));
    fp->skipped = malloc((size_t)(fp->nskipped > 0 ? fp->nskipped : 1) * sizeof(*fp->skipped));
    fp->skip_reason = malloc((size_t)(fp->nskipped > 0 ? fp->nskipped : 1));
    if (!fp->x || !fp->member || !fp->first_post || !fp->nposts || !fp->zero_mask ||
        !fp->row_of_member || !fp->skipped || !fp->skip_reason)
        goto nomem;

    /* local times, sessions */
    local = malloc((size_t)(P > 0 ? P : 1) * sizeof(*local));
    session = malloc((size_t)(P > 0 ? P : 1) * sizeof(*session));
    if (!local || !session) goto nomem;
    {
        fora_tzmap_cursor_t cur;
        if (o->tz) fora_tzmap_cursor_init(&cur, o->tz);
        for (int32_t p = 0; p < P; p++)
            local[p] = o->tz ? fora_tzmap_cursor_local(&cur, s->posts.created_at[p])
                             : s->posts.created_at[p];
    }
    for (int32_t m = 0; m < M; m++) {
        int32_t sid = 0;
        for (int64_t i = mp.start[m]; i < mp.start[m + 1]; i++) {
            int32_t p = mp.item[i];
            if (i > mp.start[m] &&
                s->posts.created_at[p] - s->posts.created_at[mp.item[i - 1]] > o->session_gap)
                sid++;
            session[p] = sid;
        }
    }

    /* hour-of-week basis: column 0 constant, then cos/sin of harmonic f times the kernel gain */
    basis = malloc((size_t)WEEK_BINS * (size_t)(1 + 2 * H) * sizeof(*basis));
    if (!basis) goto nomem;
    for (int j = 0; j < WEEK_BINS; j++) {
        double *b = basis + (size_t)j * (1 + 2 * H);
        b[0] = 1.0 / sqrt((double)WEEK_BINS);
        for (int f = 1; f <= H; f++) {
            double g = exp(-2.0 * M_PI * M_PI * o->how_sigma * o->how_sigma * f * f /
                           ((double)WEEK_BINS * WEEK_BINS));
            double a = 2.0 * M_PI * f * j / WEEK_BINS, sc = g * sqrt(2.0 / WEEK_BINS);
            b[2 * f - 1] = sc * cos(a);
            b[2 * f] = sc * sin(a);
        }
    }

    /* embeddings */
    rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!rng) goto nomem;
    gsl_rng_set(rng, (unsigned long)(o->seed * 2654435761ULL + 7));
    emb = malloc((size_t)(M + T + B > 0 ? M + T + B : 1) * (size_t)d * sizeof(*emb));
    if (!emb) goto nomem;
    if ((err = embed_nodes(s, o, &mp, rng, emb, diag)) != FORA_OK) goto out;

    row = malloc((size_t)dim * sizeof(*row));
    sess = malloc(nr1 * FORA_LINK_SESSION_DIMS * sizeof(*sess));
    if (!row || !sess) goto nomem;
    int32_t r = 0, nsk = 0;
    for (int32_t m = 0; m < M; m++) {
        int64_t n = mp.start[m + 1] - mp.start[m];
        fp->row_of_member[m] = -1;
        if (n == 0 || (L > 0 && n < L)) {
            fp->skipped[nsk] = m;
            fp->skip_reason[nsk++] =
                n == 0 ? FORA_LINK_SKIP_NO_POSTS : FORA_LINK_SKIP_TOO_FEW_POSTS;
            continue;
        }
        int64_t len = L > 0 ? L : n, nr = L > 0 ? n / L : 1;
        fp->row_of_member[m] = r;
        for (int64_t e = 0; e < nr; e++, r++) {
            int64_t i0 = mp.start[m] + e * len, i1 = i0 + len;
            memset(row, 0, (size_t)dim * sizeof(*row));
            double *how = row + fp->off[FORA_LINK_HOW], *gap = row + fp->off[FORA_LINK_GAP],
                   *em = row + fp->off[FORA_LINK_EMBED], *cat = row + fp->off[FORA_LINK_CATEGORY];
            double *ss = sess + (size_t)r * FORA_LINK_SESSION_DIMS;
            int64_t nsess = 0, replies = 0, opens = 0;
            double dur = 0;
            int32_t prev_sid = -1;
            int64_t sess_t0 = 0, sess_t1 = 0;
            for (int64_t i = i0; i < i1; i++) {
                int32_t p = mp.item[i];
                /* hour of week: 1970-01-01 was a Thursday (ISO weekday 3) */
                int64_t hl = local[p] >= 0 ? local[p] / 3600 : -((-local[p] + 3599) / 3600);
                int64_t how_bin = ((hl + 3 * 24) % WEEK_BINS + WEEK_BINS) % WEEK_BINS;
                const double *b = basis + (size_t)how_bin * (1 + 2 * H);
                for (int k = 0; k < 1 + 2 * H; k++)
                    how[k] += b[k];
                if (i > mp.start[m]) {
                    int bin = gap_bin(s->posts.created_at[p] - s->posts.created_at[mp.item[i - 1]]);
                    gap[bin] += 0.5;
                    if (bin > 0) gap[bin - 1] += 0.25;
                    if (bin < FORA_LINK_GAP_BINS - 1) gap[bin + 1] += 0.25;
                }
                if (session[p] != prev_sid) {
                    if (prev_sid >= 0) dur += (double)(sess_t1 - sess_t0);
                    nsess++;
                    prev_sid = session[p];
                    sess_t0 = s->posts.created_at[p];
                }
                sess_t1 = s->posts.created_at[p];
                if (s->posts.reply_to[p] >= 0) replies++;
                int32_t t = s->posts.thread[p];
                if (s->threads.first_post[t] == p) opens++;
                const double *et = emb + (size_t)(M + t) * d,
                             *eb = emb + (size_t)(M + T + s->threads.board[t]) * d;
                for (int k = 0; k < d; k++)
                    em[k] += et[k] + eb[k];
                if (fp->ncategories > 0) cat[catcol[s->boards.category[s->threads.board[t]]]] += 1;
            }
            dur += (double)(sess_t1 - sess_t0);
            ss[0] = log1p((double)len / (double)nsess);
            ss[1] = log1p(dur / (double)nsess / 60.0);
            ss[2] = (double)replies / (double)len;
            ss[3] = (double)opens / (double)len;
            fp->member[r] = m;
            fp->first_post[r] = mp.item[i0];
            fp->nposts[r] = (int32_t)len;
            for (int c = 0; c < FORA_LINK_NCOMP; c++) {
                if (c == FORA_LINK_SESSION) continue;
                unit(row + fp->off[c], fp->off[c + 1] - fp->off[c]);
            }
            float *x = fp->x + (size_t)r * dim;
            for (int k = 0; k < dim; k++)
                x[k] = (float)row[k];
        }
    }

    /* session: standardise each feature over the rows */
    mean = calloc((size_t)dim, sizeof(*mean));
    if (!mean) goto nomem;
    for (int k = 0; k < FORA_LINK_SESSION_DIMS; k++) {
        double mu = 0, var = 0;
        for (int32_t i = 0; i < fp->n; i++)
            mu += sess[(size_t)i * FORA_LINK_SESSION_DIMS + k];
        mu /= fp->n > 0 ? fp->n : 1;
        for (int32_t i = 0; i < fp->n; i++) {
            double v = sess[(size_t)i * FORA_LINK_SESSION_DIMS + k] - mu;
            var += v * v;
        }
        double sd = fp->n > 1 ? sqrt(var / (fp->n - 1)) : 0;
        for (int32_t i = 0; i < fp->n; i++) {
            double *v = &sess[(size_t)i * FORA_LINK_SESSION_DIMS + k];
            *v = sd > 1e-12 ? (*v - mu) / sd : 0.0;
        }
    }
    /* centre the other components on their mean, renormalise, record zeros */
    if (o->centre) {
        for (int c = 0; c < FORA_LINK_NCOMP; c++) {
            int64_t used = 0;
            for (int32_t i = 0; i < fp->n; i++) {
                const float *x = fp->x + (size_t)i * dim;
                bool nz = false;
                for (int k = fp->off[c]; k < fp->off[c + 1]; k++)
                    if (x[k] != 0.0f) nz = true;
                if (!nz) continue;
                used++;
                for (int k = fp->off[c]; k < fp->off[c + 1]; k++)
                    mean[k] += x[k];
            }
            for (int k = fp->off[c]; k < fp->off[c + 1]; k++)
                mean[k] /= used > 0 ? (double)used : 1.0;
        }
    }
    for (int32_t i = 0; i < fp->n; i++) {
        float *x = fp->x + (size_t)i * dim;
        for (int k = 0; k < dim; k++)
            row[k] = x[k];
        for (int c = 0; c < FORA_LINK_NCOMP; c++) {
            double *v = row + fp->off[c];
            int n = fp->off[c + 1] - fp->off[c];
            if (c == FORA_LINK_SESSION) {
                memcpy(v, sess + (size_t)i * FORA_LINK_SESSION_DIMS, (size_t)n * sizeof(*v));
            } else {
                /* a zero component stays zero (centring must not invent one) */
                double ss = 0;
                for (int k = 0; k < n; k++)
                    ss += v[k] * v[k];
                if (ss > 0 && o->centre)
                    for (int k = 0; k < n; k++)
                        v[k] -= mean[fp->off[c] + k];
            }
            if (!unit(v, n)) fp->zero_mask[i] |= (uint8_t)(1u << c);
        }
        for (int k = 0; k < dim; k++)
            x[k] = (float)row[k];
    }
    *out = fp;
    fp = NULL;
    goto out;
nomem:
    err = fora_diag_set(diag, FORA_ENOMEM, "out of memory computing linking fingerprints");
out:
    if (rng) gsl_rng_free(rng);
    free(emb);
    free(basis);
    free(row);
    free(mean);
    free(sess);
    free(local);
    free(session);
    free(catcol);
    csr_free(&mp);
    fora_link_fp_destroy(fp);
    return err;
}

/* ---------------------------------------------------------------------- */
/* views and pairs                                                          */
/* ---------------------------------------------------------------------- */

/* Norm of row r under view v: sqrt(sum of w_c^2 over its non-zero components). */
static double view_norm(const fora_link_fp_t *fp, int32_t r, const fora_link_view_t *v)
{
    double s = 0;
    for (int c = 0; c < FORA_LINK_NCOMP; c++)
        if (!(fp->zero_mask[r] & (1u << c))) s += (double)v->w[c] * v->w[c];
    return sqrt(s);
}

void fora_link_fp_combine(const fora_link_fp_t *fp, const fora_link_view_t *v, float *dst)
{
    for (int32_t r = 0; r < fp->n; r++) {
        const float *x = fp->x + (size_t)r * fp->dim;
        float *y = dst + (size_t)r * fp->dim;
        double nrm = view_norm(fp, r, v);
        for (int c = 0; c < FORA_LINK_NCOMP; c++) {
            float sc = nrm > 0 ? (float)(v->w[c] / nrm) : 0.0f;
            for (int k = fp->off[c]; k < fp->off[c + 1]; k++)
                y[k] = sc * x[k];
        }
    }
}

void fora_link_pair(const fora_link_fp_t *fp, int32_t a, int32_t b, const fora_link_view_t *v,
                    double *total, double comp[FORA_LINK_NCOMP])
{
    const float *x = fp->x + (size_t)a * fp->dim, *y = fp->x + (size_t)b * fp->dim;
    double t = 0;
    for (int c = 0; c < FORA_LINK_NCOMP; c++) {
        int n = fp->off[c + 1] - fp->off[c];
        comp[c] = fora_link_cosine(x + fp->off[c], y + fp->off[c], n);
        t += (double)v->w[c] * v->w[c] * comp[c];
    }
    double na = view_norm(fp, a, v), nb = view_norm(fp, b, v);
    t = na > 0 && nb > 0 ? t / (na * nb) : 0.0;
    *total = t > 1.0 ? 1.0 : t < -1.0 ? -1.0 : t;
}

/* ---------------------------------------------------------------------- */
/* top-k                                                                    */
/* ---------------------------------------------------------------------- */

/* true when (s1, i1) ranks below (s2, i2): lower score, or equal and higher index */
static inline bool worse(float s1, int32_t i1, float s2, int32_t i2)
{
    return s1 < s2 || (s1 == s2 && i1 > i2);
}

/* a min-heap (worst at the root) of k entries */
static void heap_sift_down(float *hs, int32_t *hi, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && worse(hs[l], hi[l], hs[w], hi[w])) w = l;
        if (r < n && worse(hs[r], hi[r], hs[w], hi[w])) w = r;
        if (w == i) return;
        float ts = hs[i];
        hs[i] = hs[w];
        hs[w] = ts;
        int32_t ti = hi[i];
        hi[i] = hi[w];
        hi[w] = ti;
        i = w;
    }
}

static void heap_push(float *hs, int32_t *hi, int *n, int k, float s, int32_t idx)
{
    if (*n < k) {
        int i = (*n)++;
        hs[i] = s;
        hi[i] = idx;
        while (i > 0) {
            int p = (i - 1) / 2;
            if (!worse(hs[i], hi[i], hs[p], hi[p])) break;
            float ts = hs[i];
            hs[i] = hs[p];
            hs[p] = ts;
            int32_t ti = hi[i];
            hi[i] = hi[p];
            hi[p] = ti;
            i = p;
        }
    } else if (worse(hs[0], hi[0], s, idx)) {
        hs[0] = s;
        hi[0] = idx;
        heap_sift_down(hs, hi, k, 0);
    }
}

/* Writes the heap best first into idx/score (k slots; unused: -1, 0). */
static void heap_drain(float *hs, int32_t *hi, int n, int k, int32_t *idx, float *score)
{
    for (int j = n; j < k; j++) {
        idx[j] = -1;
        score[j] = 0.0f;
    }
    while (n > 0) {
        idx[n - 1] = hi[0];
        score[n - 1] = hs[0];
        hs[0] = hs[n - 1];
        hi[0] = hi[n - 1];
        n--;
        heap_sift_down(hs, hi, n, 0);
    }
}

#define QBLOCK 256

/*
 * All rows against all rows: S = X X' is symmetric, so only blocks on or
 * above the diagonal are computed and each score updates the heaps of both
 * its rows (half the products of the general path, the same answers).
 */
static fora_err_t topk_all(const float *x, int32_t n, int32_t d, const int32_t *group, int k,
                           int32_t *idx, float *score, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    size_t n1 = (size_t)(n > 0 ? n : 1);
    float *S = malloc((size_t)QBLOCK * FORA_LINK_BLOCK * sizeof(*S));
    float *hs = malloc(n1 * (size_t)k * sizeof(*hs));
    int32_t *hi = malloc(n1 * (size_t)k * sizeof(*hi));
    int *hn = calloc(n1, sizeof(*hn));
    float *thr = malloc(n1 * sizeof(*thr)); /* the worst kept score once a heap is full */
    if (!S || !hs || !hi || !hn || !thr) {
        err = fora_diag_set(diag, FORA_ENOMEM, "out of memory in the top-k search");
        goto out;
    }
    for (int32_t i = 0; i < n; i++)
        thr[i] = -INFINITY;
    for (int32_t q0 = 0; q0 < n; q0 += QBLOCK) {
        int32_t nb = n - q0 < QBLOCK ? n - q0 : QBLOCK;
        for (int32_t r0 = q0; r0 < n; r0 += FORA_LINK_BLOCK) {
            int32_t rb = n - r0 < FORA_LINK_BLOCK ? n - r0 : FORA_LINK_BLOCK;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, rb, d, 1.0f,
                        x + (size_t)q0 * d, d, x + (size_t)r0 * d, d, 0.0f, S, rb);
            for (int32_t i = 0; i < nb; i++) {
                const int32_t a = q0 + i;
                const float *srow = S + (size_t)i * rb;
                const int32_t ga = group ? group[a] : -1;
                /* only pairs a < b: the diagonal block's lower half is skipped */
                int32_t j0 = a + 1 - r0 > 0 ? a + 1 - r0 : 0;
                for (int32_t j = j0; j < rb; j++) {
                    const float sv = srow[j];
                    const int32_t b = r0 + j;
                    if (sv < thr[a] && sv < thr[b]) continue;
                    if (ga >= 0 && group[b] == ga) continue;
                    if (sv >= thr[a]) {
                        heap_push(hs + (size_t)a * k, hi + (size_t)a * k, &hn[a], k, sv, b);
                        if (hn[a] == k) thr[a] = hs[(size_t)a * k];
                    }
                    if (sv >= thr[b]) {
                        heap_push(hs + (size_t)b * k, hi + (size_t)b * k, &hn[b], k, sv, a);
                        if (hn[b] == k) thr[b] = hs[(size_t)b * k];
                    }
                }
            }
        }
    }
    for (int32_t i = 0; i < n; i++)
        heap_drain(hs + (size_t)i * k, hi + (size_t)i * k, hn[i], k, idx + (size_t)i * k,
                   score + (size_t)i * k);
out:
    free(S);
    free(hs);
    free(hi);
    free(hn);
    free(thr);
    return err;
}

fora_err_t fora_link_topk(const float *x, int32_t n, int32_t d, const int32_t *q, int32_t nq,
                          const int32_t *group, int k, int32_t *idx, float *score,
                          fora_diag_t *diag)
{
    if (k < 1 || k > 1000) return fora_diag_set(diag, FORA_EINVAL, "k must be 1..1000, not %d", k);
    if (n < 0 || d < 1 || nq < 0) return fora_diag_set(diag, FORA_EINVAL, "bad matrix shape");
    if (q == NULL && nq == n) return topk_all(x, n, d, group, k, idx, score, diag);
    fora_err_t err = FORA_OK;
    float *qb = malloc((size_t)QBLOCK * d * sizeof(*qb));
    float *S = malloc((size_t)QBLOCK * FORA_LINK_BLOCK * sizeof(*S));
    float *hs = malloc((size_t)QBLOCK * k * sizeof(*hs));
    int32_t *hi = malloc((size_t)QBLOCK * k * sizeof(*hi));
    int *hn = malloc(QBLOCK * sizeof(*hn));
    if (!qb || !S || !hs || !hi || !hn) {
        err = fora_diag_set(diag, FORA_ENOMEM, "out of memory in the top-k search");
        goto out;
    }
    for (int32_t q0 = 0; q0 < nq; q0 += QBLOCK) {
        int32_t nb = nq - q0 < QBLOCK ? nq - q0 : QBLOCK;
        for (int32_t i = 0; i < nb; i++) {
            int32_t qi = q ? q[q0 + i] : q0 + i;
            memcpy(qb + (size_t)i * d, x + (size_t)qi * d, (size_t)d * sizeof(*qb));
            hn[i] = 0;
        }
        for (int32_t r0 = 0; r0 < n; r0 += FORA_LINK_BLOCK) {
            int32_t rb = n - r0 < FORA_LINK_BLOCK ? n - r0 : FORA_LINK_BLOCK;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, rb, d, 1.0f, qb, d,
                        x + (size_t)r0 * d, d, 0.0f, S, rb);
            for (int32_t i = 0; i < nb; i++) {
                int32_t qi = q ? q[q0 + i] : q0 + i;
                const float *srow = S + (size_t)i * rb;
                float *h = hs + (size_t)i * k;
                int32_t *hx = hi + (size_t)i * k;
                int32_t g = group ? group[qi] : -1;
                for (int32_t j = 0; j < rb; j++) {
                    /* cheap rejection first: most scores are below the k-th best */
                    if (hn[i] == k && srow[j] < h[0]) continue;
                    int32_t rj = r0 + j;
                    if (rj == qi || (g >= 0 && group[rj] == g)) continue;
                    heap_push(h, hx, &hn[i], k, srow[j], rj);
                }
            }
        }
        for (int32_t i = 0; i < nb; i++)
            heap_drain(hs + (size_t)i * k, hi + (size_t)i * k, hn[i], k, idx + (size_t)(q0 + i) * k,
                       score + (size_t)(q0 + i) * k);
    }
out:
    free(qb);
    free(S);
    free(hs);
    free(hi);
    free(hn);
    return err;
}

fora_err_t fora_link_topk_projected(const float *x, int32_t n, int32_t d, const int32_t *group,
                                    int k, int proj_dim, int cand, int32_t *idx, float *score,
                                    fora_diag_t *diag)
{
    if (proj_dim <= 0 || proj_dim >= d)
        return fora_link_topk(x, n, d, NULL, n, group, k, idx, score, diag);
    if (k < 1 || k > 1000 || cand < k || cand > 1000)
        return fora_diag_set(diag, FORA_EINVAL, "need 1 <= k <= cand <= 1000 (k %d, cand %d)", k,
                             cand);
    fora_err_t err = FORA_OK;
    gsl_matrix *G = gsl_matrix_calloc((size_t)d, (size_t)d),
               *V = gsl_matrix_alloc((size_t)d, (size_t)d);
    gsl_vector *L = gsl_vector_alloc((size_t)d);
    gsl_eigen_symmv_workspace *ws = gsl_eigen_symmv_alloc((size_t)d);
    double *blk = malloc((size_t)FORA_LINK_BLOCK * d * sizeof(*blk));
    float *Vf = malloc((size_t)d * proj_dim * sizeof(*Vf));
    float *Y = malloc((size_t)(n > 0 ? n : 1) * proj_dim * sizeof(*Y));
    int32_t *cidx = malloc((size_t)(n > 0 ? n : 1) * cand * sizeof(*cidx));
    float *cs = malloc((size_t)(n > 0 ? n : 1) * cand * sizeof(*cs));
    float *hs = malloc((size_t)k * sizeof(*hs));
    int32_t *hi = malloc((size_t)k * sizeof(*hi));
    if (!G || !V || !L || !ws || !blk || !Vf || !Y || !cidx || !cs || !hs || !hi) {
        err = fora_diag_set(diag, FORA_ENOMEM, "out of memory in the projected top-k search");
        goto out;
    }
    /* Gram matrix x'x in double, block by block */
    for (int32_t r0 = 0; r0 < n; r0 += FORA_LINK_BLOCK) {
        int32_t rb = n - r0 < FORA_LINK_BLOCK ? n - r0 : FORA_LINK_BLOCK;
        for (size_t i = 0; i < (size_t)rb * d; i++)
            blk[i] = x[(size_t)r0 * d + i];
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, d, rb, 1.0, blk, d, 1.0, G->data,
                    G->tda);
    }
    for (int i = 0; i < d; i++)
        for (int j = 0; j < i; j++)
            gsl_matrix_set(G, (size_t)i, (size_t)j, gsl_matrix_get(G, (size_t)j, (size_t)i));
    if (gsl_eigen_symmv(G, L, V, ws) != 0 || gsl_eigen_symmv_sort(L, V, GSL_EIGEN_SORT_VAL_DESC)) {
        err = fora_diag_set(diag, FORA_ENUMERIC, "projection: eigen-decomposition failed");
        goto out;
    }
    for (int i = 0; i < d; i++)
        for (int j = 0; j < proj_dim; j++)
            Vf[(size_t)i * proj_dim + j] = (float)gsl_matrix_get(V, (size_t)i, (size_t)j);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, proj_dim, d, 1.0f, x, d, Vf, proj_dim,
                0.0f, Y, proj_dim);
    if ((err = fora_link_topk(Y, n, proj_dim, NULL, n, group, cand, cidx, cs, diag)) != FORA_OK)
        goto out;
    /* exact re-rank of the candidates */
    for (int32_t i = 0; i < n; i++) {
        int hn = 0;
        const float *xi = x + (size_t)i * d;
        for (int c = 0; c < cand; c++) {
            int32_t j = cidx[(size_t)i * cand + c];
            if (j < 0) break;
            float sdot = cblas_sdot(d, xi, 1, x + (size_t)j * d, 1);
            heap_push(hs, hi, &hn, k, sdot, j);
        }
        heap_drain(hs, hi, hn, k, idx + (size_t)i * k, score + (size_t)i * k);
    }
out:
    if (ws) gsl_eigen_symmv_free(ws);
    if (L) gsl_vector_free(L);
    if (V) gsl_matrix_free(V);
    if (G) gsl_matrix_free(G);
    free(blk);
    free(Vf);
    free(Y);
    free(cidx);
    free(cs);
    free(hs);
    free(hi);
    return err;
}

/* ---------------------------------------------------------------------- */
/* synthetic sybils                                                         */
/* ---------------------------------------------------------------------- */

fora_err_t fora_link_sybil_split(const fora_snapshot_t *s, int32_t count, int32_t min_half,
                                 uint64_t seed, fora_snapshot_t **out, int32_t **pair_of,
                                 int32_t *npairs, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    const int32_t M = s->members.n, T = s->threads.n, B = s->boards.n, P = s->posts.n;
    int32_t *npost = NULL, *elig = NULL, *chosen = NULL, *split_at = NULL, *newm = NULL,
            *pos = NULL, *pairs = NULL;
    int64_t *new_id = NULL;
    fora_snapshot_t *ns = NULL;
    gsl_rng *rng = NULL;
    char *ext = NULL;

    *out = NULL;
    *pair_of = NULL;
    *npairs = 0;
    if (count < 1 || min_half < 1)
        return fora_diag_set(diag, FORA_EINVAL, "sybils: count and min_half must be >= 1");
    npost = calloc((size_t)(M > 0 ? M : 1), sizeof(*npost));
    elig = malloc((size_t)(M > 0 ? M : 1) * sizeof(*elig));
    split_at = malloc((size_t)(M > 0 ? M : 1) * sizeof(*split_at));
    newm = malloc((size_t)(M > 0 ? M : 1) * sizeof(*newm));
    pos = calloc((size_t)(M > 0 ? M : 1), sizeof(*pos));
    rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!npost || !elig || !split_at || !newm || !pos || !rng) goto nomem;
    gsl_rng_set(rng, (unsigned long)(seed * 2654435761ULL + 13));
    for (int32_t p = 0; p < P; p++)
        if (s->posts.author[p] >= 0) npost[s->posts.author[p]]++;
    int32_t ne = 0;
    for (int32_t m = 0; m < M; m++) {
        split_at[m] = -1;
        newm[m] = -1;
        if (npost[m] >= 2 * min_half) elig[ne++] = m;
    }
    if (ne == 0) {
        err = fora_diag_set(diag, FORA_ENOTFOUND,
                            "sybils: no member has the %d posts needed to split", 2 * min_half);
        goto out;
    }
    int32_t nc = count < ne ? count : ne;
    chosen = malloc((size_t)nc * sizeof(*chosen));
    if (!chosen) goto nomem;
    gsl_ran_choose(rng, chosen, (size_t)nc, elig, (size_t)ne, sizeof(*chosen));
    int64_t maxid = 0;
    for (int32_t m = 0; m < M; m++)
        if (s->members.id[m] > maxid) maxid = s->members.id[m];
    for (int32_t i = 0; i < nc; i++) {
        int32_t m = chosen[i];
        split_at[m] = min_half + (int32_t)gsl_rng_uniform_int(
                                     rng, (unsigned long)(npost[m] - 2 * min_half + 1));
        newm[m] = M + i;
    }
    pairs = malloc((size_t)(M + nc) * sizeof(*pairs));
    new_id = malloc((size_t)(nc > 0 ? nc : 1) * sizeof(*new_id));
    if (!pairs || !new_id) goto nomem;
    for (int32_t m = 0; m < M + nc; m++)
        pairs[m] = -1;
    for (int32_t m = 0; m < M; m++)
        if (newm[m] >= 0) {
            pairs[m] = newm[m];
            pairs[newm[m]] = m;
            new_id[newm[m] - M] = maxid + 1 + (newm[m] - M);
        }

    if ((err = fora_snapshot_create(s->forum.id, s->forum.name, s->forum.timezone,
                                    s->forum.data_version, &ns, diag)) != FORA_OK)
        goto out;
    for (int32_t b = 0; b < B; b++)
        if ((err = fora_snapshot_add_board(
                 ns, s->boards.id[b], fora_snapshot_board_ext(s, b),
                 s->boards.parent[b] >= 0 ? s->boards.id[s->boards.parent[b]] : FORA_ID_NONE,
                 fora_snapshot_board_category(s, b), diag)) != FORA_OK)
            goto out;
    for (int32_t m = 0; m < M; m++)
        if ((err = fora_snapshot_add_member(
                 ns, s->members.id[m], fora_snapshot_member_ext(s, m), s->members.registered_at[m],
                 fora_snapshot_member_status(s, m), s->members.banned_at[m], diag)) != FORA_OK)
            goto out;
    for (int32_t i = 0; i < nc; i++) {
        const int32_t m = chosen[i];
        const char *e = fora_snapshot_member_ext(s, m);
        size_t len = strlen(e) + 8;
        free(ext);
        ext = malloc(len);
        if (!ext) goto nomem;
        snprintf(ext, len, "%s~sybil", e);
        if ((err = fora_snapshot_add_member(ns, new_id[newm[m] - M], ext, FORA_TIME_NONE,
                                            fora_snapshot_member_status(s, m), FORA_TIME_NONE,
                                            diag)) != FORA_OK)
            goto out;
    }
    /* which account wrote each post: the new one from the split post on */
    int32_t *owner = malloc((size_t)(P > 0 ? P : 1) * sizeof(*owner));
    if (!owner) goto nomem;
    for (int32_t p = 0; p < P; p++) {
        int32_t a = s->posts.author[p];
        owner[p] = a;
        if (a >= 0 && split_at[a] >= 0 && pos[a]++ >= split_at[a]) owner[p] = newm[a];
    }
    for (int32_t t = 0; t < T && err == FORA_OK; t++) {
        int32_t st = s->threads.starter[t], fpst = s->threads.first_post[t];
        int32_t o = st;
        if (st >= 0 && fpst >= 0 && s->posts.author[fpst] == st) o = owner[fpst];
        int64_t oid = o < 0 ? FORA_ID_NONE : o < M ? s->members.id[o] : new_id[o - M];
        err = fora_snapshot_add_thread(ns, s->threads.id[t], fora_snapshot_thread_ext(s, t),
                                       s->boards.id[s->threads.board[t]], oid,
                                       s->threads.created_at[t], diag);
    }
    for (int32_t p = 0; p < P && err == FORA_OK; p++) {
        int32_t o = owner[p];
        int64_t oid = o < 0 ? FORA_ID_NONE : o < M ? s->members.id[o] : new_id[o - M];
        int32_t rt = s->posts.reply_to[p];
        err = fora_snapshot_add_post(ns, s->posts.id[p], s->threads.id[s->posts.thread[p]], oid,
                                     s->posts.created_at[p],
                                     rt >= 0 ? s->posts.id[rt] : FORA_ID_NONE, diag);
    }
    free(owner);
    if (err != FORA_OK) goto out;
    if ((err = fora_snapshot_finish(ns, diag)) != FORA_OK) goto out;
    *out = ns;
    ns = NULL;
    *pair_of = pairs;
    pairs = NULL;
    *npairs = nc;
    goto out;
nomem:
    err = fora_diag_set(diag, FORA_ENOMEM, "out of memory splitting sybils");
out:
    fora_snapshot_destroy(ns);
    if (rng) gsl_rng_free(rng);
    free(ext);
    free(npost);
    free(elig);
    free(chosen);
    free(split_at);
    free(newm);
    free(pos);
    free(pairs);
    free(new_id);
    return err;
}
