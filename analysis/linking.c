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

#include <pthread.h>
#include <unistd.h>

#include <gsl/gsl_cblas.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "fora/idmap.h"
#include "linking_internal.h"

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
/* worker threads                                                           */
/* ---------------------------------------------------------------------- */

#ifdef FORA_HAVE_OPENBLAS
/* OpenBLAS's thread control (its own cblas.h; GSL's gsl_cblas.h lacks them) */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
#endif

/* The worker threads for a request (opts.threads): 0 is min(2, online CPUs). */
static int link_threads(int req)
{
    if (req > 0) return req < FORA_LINK_MAX_THREADS ? req : FORA_LINK_MAX_THREADS;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus >= 2 ? 2 : 1;
}

/*
 * While several threads call CBLAS at once, OpenBLAS must not start its own
 * threads as well (its advice for threaded callers): set it to one thread and
 * return the previous count for blas_threads_restore.  Without OpenBLAS
 * (GSL's CBLAS, always single-threaded) these do nothing.
 */
static int blas_threads_single(void)
{
#ifdef FORA_HAVE_OPENBLAS
    int old = openblas_get_num_threads();
    openblas_set_num_threads(1);
    return old;
#else
    return 1;
#endif
}

static void blas_threads_restore(int old)
{
#ifdef FORA_HAVE_OPENBLAS
    openblas_set_num_threads(old);
#else
    (void)old;
#endif
}

/* fn(arg, tid, i0, i1) processes items [i0, i1) with thread tid's scratch space. */
typedef void (*par_fn_t)(void *arg, int tid, int64_t i0, int64_t i1);

typedef struct par_job {
    par_fn_t fn;
    void *arg;
    int tid;
    int64_t n, chunk;
    int64_t *next; /* the shared counter */
} par_job_t;

static void *par_run(void *p)
{
    par_job_t *j = p;
    for (int64_t i0; (i0 = __atomic_fetch_add(j->next, j->chunk, __ATOMIC_RELAXED)) < j->n;)
        j->fn(j->arg, j->tid, i0, j->n - i0 < j->chunk ? j->n : i0 + j->chunk);
    return NULL;
}

/*
 * Runs fn over [0, n) in chunks of `chunk` items taken from a shared counter
 * by up to nt threads (the caller is thread 0; a thread that cannot be
 * started leaves its chunks to the others).  What fn computes for a chunk
 * must not depend on the thread that runs it, so that results never depend
 * on the number of threads.
 */
static void par_for(int nt, int64_t n, int64_t chunk, par_fn_t fn, void *arg)
{
    pthread_t th[FORA_LINK_MAX_THREADS];
    par_job_t job[FORA_LINK_MAX_THREADS];
    bool running[FORA_LINK_MAX_THREADS] = {false};
    int64_t next = 0;
    if (chunk < 1) chunk = 1;
    int64_t nchunks = (n + chunk - 1) / chunk;
    if (nt > FORA_LINK_MAX_THREADS) nt = FORA_LINK_MAX_THREADS;
    if (nt > nchunks) nt = (int)nchunks;
    if (nt < 1) nt = 1;
    for (int t = 0; t < nt; t++)
        job[t] = (par_job_t){fn, arg, t, n, chunk, &next};
    for (int t = 1; t < nt; t++)
        running[t] = pthread_create(&th[t], NULL, par_run, &job[t]) == 0;
    par_run(&job[0]);
    for (int t = 1; t < nt; t++)
        if (running[t]) pthread_join(th[t], NULL);
}

/* ---------------------------------------------------------------------- */
/* context embedding: walks, PPMI, randomised subspace iteration            */
/* ---------------------------------------------------------------------- */

struct fora_link_context {
    int32_t members, threads, boards, posts; /* shape of the snapshot it was learned on */
    int dim;                                 /* embedding columns */
    double *tvec;                            /* threads x dim: emb(thread) + emb(its board) */
};

void fora_link_context_destroy(fora_link_context_t *c)
{
    if (c == NULL) return;
    free(c->tvec);
    free(c);
}

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

typedef struct spm_job {
    const spm_t *a;
    const float *X;
    int r;
    double *Y;
} spm_job_t;

/* Rows [i0, i1) of Y = A X, X in single precision (gathering its rows is most
 * of the embedding's time; half the bytes), sums in double.  GCC vectorises
 * the inner loop at -O3 only. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("O3")))
#endif
static void
spm_mul_rows(void *arg, int tid, int64_t i0, int64_t i1)
{
    (void)tid;
    const spm_job_t *j = arg;
    const spm_t *a = j->a;
    const int r = j->r;
    for (int64_t i = i0; i < i1; i++) {
        double *y = j->Y + (size_t)i * r;
        memset(y, 0, (size_t)r * sizeof(*y));
        for (int64_t e = a->start[i]; e < a->start[i + 1]; e++) {
            const double v = a->val[e];
            const float *x = j->X + (size_t)a->col[e] * r;
            for (int k = 0; k < r; k++)
                y[k] += v * (double)x[k];
        }
    }
}

/* Y (n x r, row-major) = A X on nt threads (rows are independent: the same
 * result whatever nt), through Xf (n x r floats), X rounded to single
 * precision: its error, 6e-8 relative, is below that of the float
 * fingerprints and does not accumulate (every iterate is re-orthonormalised). */
static void spm_mul(const spm_t *a, const double *X, int r, double *Y, float *Xf, int nt)
{
    for (size_t i = 0; i < (size_t)a->n * (size_t)r; i++)
        Xf[i] = (float)X[i];
    spm_job_t j = {a, Xf, r, Y};
    par_for(nt, a->n, 4096, spm_mul_rows, &j);
}

typedef struct ppmi_job {
    spm_t *a;
    const double *lp; /* 0.75 log c(i) - log sum c^0.75 */
    double logD;
} ppmi_job_t;

static void ppmi_rows(void *arg, int tid, int64_t i0, int64_t i1)
{
    (void)tid;
    const ppmi_job_t *j = arg;
    spm_t *a = j->a;
    for (int64_t i = i0; i < i1; i++)
        for (int64_t e = a->start[i]; e < a->start[i + 1]; e++) {
            double pmi = log(a->val[e]) - j->logD - j->lp[i] - j->lp[a->col[e]];
            a->val[e] = pmi > 0 ? pmi : 0.0;
        }
}

#define ORTHO_BLOCK 4096

/*
 * Orthonormalises the columns of Y (n x r) in place through the eigen-
 * decomposition of Y'Y: Q = Y W L^-1/2, columns with eigenvalues below
 * 1e-10 of the largest set to zero (rank-deficient blocks of tiny graphs).
 * Scratch: ORTHO_BLOCK rows (Y W is formed block by block, in place).
 */
static fora_err_t orthonormalise(double *Y, int32_t n, int r, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    gsl_matrix *G = gsl_matrix_alloc((size_t)r, (size_t)r);
    gsl_matrix *W = gsl_matrix_alloc((size_t)r, (size_t)r);
    gsl_vector *L = gsl_vector_alloc((size_t)r);
    gsl_eigen_symmv_workspace *ws = gsl_eigen_symmv_alloc((size_t)r);
    double *T = malloc((size_t)ORTHO_BLOCK * (size_t)r * sizeof(*T));
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
    for (int32_t i0 = 0; i0 < n; i0 += ORTHO_BLOCK) {
        int32_t nb = n - i0 < ORTHO_BLOCK ? n - i0 : ORTHO_BLOCK;
        double *y = Y + (size_t)i0 * r;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nb, r, r, 1.0, y, r, W->data, W->tda,
                    0.0, T, r);
        memcpy(y, T, (size_t)nb * (size_t)r * sizeof(*T));
    }
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
    memset(b, 0, sizeof(*b));
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
 * The walks' random numbers: SplitMix64 (Steele, Lea & Flood 2014), one
 * stream per member started from a state derived from (seed, member), so a
 * member's walks are the same whichever thread walks them.
 */
static inline uint64_t splitmix64(uint64_t *st)
{
    return fora_hash_u64(*st += 0x9e3779b97f4a7c15ULL);
}

/* Uniform in [0, n), n >= 1, without bias (Lemire 2019, multiply and reject). */
static inline uint32_t rng_below(uint64_t *st, uint32_t n)
{
    uint64_t m = (splitmix64(st) >> 32) * (uint64_t)n;
    uint32_t l = (uint32_t)m;
    if (l < n) {
        const uint32_t t = (uint32_t)(-n) % n;
        while (l < t) {
            m = (splitmix64(st) >> 32) * (uint64_t)n;
            l = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

typedef struct walk_job {
    const fora_snapshot_t *s;
    const fora_link_opts_t *o;
    const csr_t *mposts;          /* the posts of each member (items unused: see mthread) */
    const int32_t *mthread;       /* the thread of each item of mposts */
    const csr_t *tposts, *bposts; /* items: the authors of each thread's, board's posts */
    const int32_t *node;          /* member m, thread M+t, board M+T+b -> matrix row, or -1 */
    pairbuf_t *pb;                /* per thread */
    uint32_t *walk;               /* per thread, 2 * walk_length - 1 */
    fora_err_t *err;              /* per thread */
    fora_diag_t *diag;            /* per thread */
} walk_job_t;

/* The walks of members [m0, m1): member -> thread -> member -> board -> member ...
 * and their node pairs within the window, into thread tid's pair buffer. */
static void walk_members(void *arg, int tid, int64_t m0, int64_t m1)
{
    walk_job_t *j = arg;
    const fora_snapshot_t *s = j->s;
    const fora_link_opts_t *o = j->o;
    const csr_t *mposts = j->mposts;
    const int32_t M = s->members.n, T = s->threads.n;
    const int wlen = 2 * o->walk_length - 1;
    uint32_t *walk = j->walk + (size_t)tid * wlen;
    if (j->err[tid] != FORA_OK) return;
    for (int32_t m = (int32_t)m0; m < (int32_t)m1; m++) {
        if (mposts->start[m + 1] == mposts->start[m]) continue;
        uint64_t st =
            (o->seed * 0x9e3779b97f4a7c15ULL) ^ (((uint64_t)m + 1) * 0xd1b54a32d192ed03ULL);
        for (int w = 0; w < o->walks_per_member; w++) {
            int len = 0;
            int32_t cur = m;
            walk[len++] = (uint32_t)j->node[cur];
            for (int step = 0; step + 1 < o->walk_length; step++) {
                int64_t n0 = mposts->start[cur], n1 = mposts->start[cur + 1];
                int32_t t = j->mthread[n0 + rng_below(&st, (uint32_t)(n1 - n0))];
                const csr_t *via = (step % 2 == 0) ? j->tposts : j->bposts;
                int32_t node = (step % 2 == 0) ? t : s->threads.board[t];
                walk[len++] = (uint32_t)j->node[(step % 2 == 0) ? M + node : M + T + node];
                int64_t v0 = via->start[node], v1 = via->start[node + 1];
                cur = via->item[v0 + rng_below(&st, (uint32_t)(v1 - v0))];
                walk[len++] = (uint32_t)j->node[cur];
            }
            for (int i = 0; i < len; i++)
                for (int k = i + 1; k <= i + o->window && k < len; k++)
                    if (walk[i] != walk[k] &&
                        (j->err[tid] = pairbuf_add(&j->pb[tid], walk[i], walk[k], &j->diag[tid])))
                        return;
        }
    }
}

/* The last batch of the pair buffers [t0, t1) (whichever thread runs it). */
static void compress_walk_pairs(void *arg, int tid, int64_t t0, int64_t t1)
{
    (void)tid;
    walk_job_t *j = arg;
    for (int64_t t = t0; t < t1; t++)
        if (j->err[t] == FORA_OK) {
            j->err[t] = pairbuf_compress(&j->pb[t], j->pb[t].key, NULL, j->pb[t].n, &j->diag[t]);
            j->pb[t].n = 0;
        }
}

/*
 * Counts the walks' node pairs (nodes: matrix rows) into out's runs (sorted
 * unique keys lo << 32 | hi with their counts), walking on nt threads.
 * The counts are sums, so they do not depend on which thread walked whom.
 */
static fora_err_t count_walk_pairs(const fora_snapshot_t *s, const fora_link_opts_t *o,
                                   const csr_t *mposts, const int32_t *node, int nt, pairbuf_t *out,
                                   fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    const int32_t M = s->members.n, T = s->threads.n, B = s->boards.n, P = s->posts.n;
    csr_t tposts = {0}, bposts = {0};
    int32_t *key = NULL;
    pairbuf_t pb[FORA_LINK_MAX_THREADS];
    fora_err_t terr[FORA_LINK_MAX_THREADS];
    fora_diag_t tdiag[FORA_LINK_MAX_THREADS];
    uint32_t *walk = NULL;
    uint64_t *keys = NULL;
    uint32_t *cnts = NULL;

    memset(pb, 0, sizeof(pb));
    memset(out, 0, sizeof(*out));
    /* the posts of each thread and board by living accounts */
    key = calloc((size_t)(P > 0 ? P : 1), sizeof(*key));
    if (!key) goto nomem;
    for (int32_t p = 0; p < P; p++)
        key[p] = s->posts.author[p] >= 0 ? s->posts.thread[p] : -1;
    if ((err = csr_build(&tposts, T, key, P, diag)) != FORA_OK) goto out;
    for (int32_t p = 0; p < P; p++)
        key[p] = s->posts.author[p] >= 0 ? s->threads.board[s->posts.thread[p]] : -1;
    if ((err = csr_build(&bposts, B, key, P, diag)) != FORA_OK) goto out;
    /* one indirection less per step: authors and threads instead of posts */
    for (int64_t i = 0; i < tposts.start[T]; i++)
        tposts.item[i] = s->posts.author[tposts.item[i]];
    for (int64_t i = 0; i < bposts.start[B]; i++)
        bposts.item[i] = s->posts.author[bposts.item[i]];
    for (int64_t i = 0; i < mposts->start[M]; i++)
        key[i] = s->posts.thread[mposts->item[i]];

    walk = malloc((size_t)nt * (size_t)(2 * o->walk_length - 1) * sizeof(*walk));
    if (!walk) goto nomem;
    for (int t = 0; t < nt; t++) {
        pb[t].cap = PAIR_BATCH;
        pb[t].key = malloc(pb[t].cap * sizeof(*pb[t].key));
        pb[t].ktmp = malloc(pb[t].cap * sizeof(*pb[t].ktmp));
        if (!pb[t].key || !pb[t].ktmp) goto nomem;
        terr[t] = FORA_OK;
        tdiag[t] = (fora_diag_t)FORA_DIAG_INIT;
    }
    walk_job_t job = {s, o, mposts, key, &tposts, &bposts, node, pb, walk, terr, tdiag};
    par_for(nt, M, 1024, walk_members, &job);
    par_for(nt, nt, 1, compress_walk_pairs, &job); /* each buffer's last batch */
    free(key);
    key = NULL;
    for (int t = 0; t < nt; t++) {
        if (terr[t] != FORA_OK) {
            err = fora_diag_set(diag, terr[t], "%s", tdiag[t].msg);
            goto out;
        }
        free(pb[t].key);
        free(pb[t].ktmp);
        pb[t].key = pb[t].ktmp = NULL;
    }
    /* merge every thread's runs */
    size_t total = 0;
    for (int t = 0; t < nt; t++)
        total += pb[t].rn;
    keys = malloc((total > 0 ? total : 1) * sizeof(*keys));
    cnts = malloc((total > 0 ? total : 1) * sizeof(*cnts));
    if (!keys || !cnts) goto nomem;
    total = 0;
    for (int t = 0; t < nt; t++) {
        if (pb[t].rn > 0) {
            memcpy(keys + total, pb[t].rkey, pb[t].rn * sizeof(*keys));
            memcpy(cnts + total, pb[t].rcnt, pb[t].rn * sizeof(*cnts));
        }
        total += pb[t].rn;
        pairbuf_free(&pb[t]);
    }
    out->ktmp = malloc((total > 0 ? total : 1) * sizeof(*out->ktmp));
    out->vtmp = malloc((total > 0 ? total : 1) * sizeof(*out->vtmp));
    if (!out->ktmp || !out->vtmp) goto nomem;
    if ((err = pairbuf_compress(out, keys, cnts, total, diag)) != FORA_OK) goto out;
    free(out->ktmp);
    free(out->vtmp);
    out->ktmp = NULL;
    out->vtmp = NULL;
    goto out;
nomem:
    err = fora_diag_set(diag, FORA_ENOMEM, "out of memory counting walk pairs");
out:
    if (err != FORA_OK) pairbuf_free(out);
    for (int t = 0; t < nt; t++)
        pairbuf_free(&pb[t]);
    free(keys);
    free(cnts);
    free(walk);
    free(key);
    csr_free(&tposts);
    csr_free(&bposts);
    return err;
}

/*
 * The context vectors of the threads, emb(thread) + emb(board), into tvec
 * (T x d, row-major, double).  The matrix has a row for each member, thread
 * and board with a post by a living account (members, then threads, then
 * boards); posts of deleted accounts are not walked.
 */
static fora_err_t embed_nodes(const fora_snapshot_t *s, const fora_link_opts_t *o,
                              const csr_t *mposts, int nt, double *tvec, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    const int32_t M = s->members.n, T = s->threads.n, B = s->boards.n, P = s->posts.n;
    const int d = o->embed_dim;
    int32_t *node = NULL;
    pairbuf_t pb = {0};
    spm_t A = {0};
    double *rowsum = NULL, *lp = NULL, *Y = NULL, *Z = NULL;
    float *Xf = NULL;
    gsl_matrix *Tm = NULL, *V = NULL;
    gsl_vector *L = NULL;
    gsl_eigen_symmv_workspace *ws = NULL;
    gsl_rng *rng = NULL;

    memset(tvec, 0, (size_t)T * (size_t)d * sizeof(*tvec));
    node = malloc((size_t)(M + T + B > 0 ? M + T + B : 1) * sizeof(*node));
    if (!node) goto nomem;
    for (int32_t i = 0; i < M + T + B; i++)
        node[i] = 0;
    for (int32_t p = 0; p < P; p++)
        if (s->posts.author[p] >= 0) {
            int32_t t = s->posts.thread[p];
            node[s->posts.author[p]] = node[M + t] = node[M + T + s->threads.board[t]] = 1;
        }
    int32_t nn = 0;
    for (int32_t i = 0; i < M + T + B; i++)
        node[i] = node[i] ? nn++ : -1;
    if (nn == 0) goto out;

    if ((err = count_walk_pairs(s, o, mposts, node, nt, &pb, diag)) != FORA_OK) goto out;

    /* symmetric CSR of the counts, then PPMI in place */
    A.n = nn;
    A.start = calloc((size_t)nn + 1, sizeof(*A.start));
    A.col = malloc((2 * pb.rn + 1) * sizeof(*A.col));
    A.val = malloc((2 * pb.rn + 1) * sizeof(*A.val));
    rowsum = calloc((size_t)nn, sizeof(*rowsum));
    lp = malloc((size_t)nn * sizeof(*lp));
    if (!A.start || !A.col || !A.val || !rowsum || !lp) goto nomem;
    for (size_t e = 0; e < pb.rn; e++) {
        A.start[(pb.rkey[e] >> 32) + 1]++;
        A.start[(pb.rkey[e] & 0xffffffffu) + 1]++;
    }
    for (int32_t i = 0; i < nn; i++)
        A.start[i + 1] += A.start[i];
    {
        int64_t *fill = malloc((size_t)nn * sizeof(*fill));
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
    pairbuf_free(&pb);
    double D = 0, Zs = 0;
    for (int32_t i = 0; i < nn; i++) {
        for (int64_t e = A.start[i]; e < A.start[i + 1]; e++)
            rowsum[i] += A.val[e];
        D += rowsum[i];
        Zs += pow(rowsum[i], 0.75);
    }
    if (D <= 0) goto out; /* no co-occurrence at all: zero embeddings */
    /* PPMI(a,b) = max(0, log(#ab/D) - log P(a) - log P(b)), P(x) = c(x)^0.75 / sum c^0.75 */
    {
        const double logZ = log(Zs);
        for (int32_t i = 0; i < nn; i++)
            lp[i] = rowsum[i] > 0 ? 0.75 * log(rowsum[i]) - logZ : 0.0;
        ppmi_job_t pj = {&A, lp, log(D)};
        par_for(nt, nn, 4096, ppmi_rows, &pj);
    }
    free(rowsum);
    free(lp);
    rowsum = lp = NULL;
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
    /* Y and Z trade places; the embedding (nn x d) is formed in the last Z */
    Y = malloc((size_t)nn * (size_t)(r > d ? r : d) * sizeof(*Y));
    Z = malloc((size_t)nn * (size_t)(r > d ? r : d) * sizeof(*Z));
    Xf = malloc((size_t)nn * (size_t)r * sizeof(*Xf));
    rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!Y || !Z || !Xf || !rng) goto nomem;
    gsl_rng_set(rng, (unsigned long)(o->seed * 2654435761ULL + 7));
    for (size_t i = 0; i < (size_t)nn * (size_t)r; i++)
        Z[i] = gsl_ran_gaussian(rng, 1.0);
    spm_mul(&A, Z, r, Y, Xf, nt);
    if ((err = orthonormalise(Y, nn, r, diag)) != FORA_OK) goto out;
    for (int it = 0; it < o->power_iters; it++) {
        spm_mul(&A, Y, r, Z, Xf, nt);
        if ((err = orthonormalise(Z, nn, r, diag)) != FORA_OK) goto out;
        double *t = Y;
        Y = Z;
        Z = t;
    }
    /* Rayleigh-Ritz: T = Y' A Y */
    spm_mul(&A, Y, r, Z, Xf, nt);
    spm_free(&A);
    memset(&A, 0, sizeof(A));
    free(Xf);
    Xf = NULL;
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
        /* emb (nn x d, in Z's space) = Y (nn x r) V[:, 0..keep), the rest zero */
        double *emb = Z;
        memset(emb, 0, (size_t)nn * (size_t)d * sizeof(*emb));
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nn, keep, r, 1.0, Y, r, V->data,
                    V->tda, 0.0, emb, d);
        for (int32_t t = 0; t < T; t++) {
            const int32_t nt_ = node[M + t], nb = node[M + T + s->threads.board[t]];
            double *tv = tvec + (size_t)t * d;
            for (int k = 0; k < d; k++)
                tv[k] = (nt_ >= 0 ? emb[(size_t)nt_ * d + k] : 0.0) +
                        (nb >= 0 ? emb[(size_t)nb * d + k] : 0.0);
        }
    }
    goto out;
nomem:
    err = fora_diag_set(diag, FORA_ENOMEM, "out of memory computing the context embedding");
out:
    if (rng) gsl_rng_free(rng);
    if (ws) gsl_eigen_symmv_free(ws);
    if (L) gsl_vector_free(L);
    if (V) gsl_matrix_free(V);
    if (Tm) gsl_matrix_free(Tm);
    free(Y);
    free(Z);
    free(Xf);
    free(rowsum);
    free(lp);
    spm_free(&A);
    pairbuf_free(&pb);
    free(node);
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
bool fora__link_unit(double *v, int n)
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

/* The options of the rows (everything but the embedding). */
static fora_err_t check_row_opts(const fora_link_opts_t *o, fora_diag_t *diag)
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
    if (o->threads < 0 || o->threads > FORA_LINK_MAX_THREADS)
        return fora_diag_set(diag, FORA_EINVAL, "threads must be 0..%d, not %d",
                             FORA_LINK_MAX_THREADS, o->threads);
    return FORA_OK;
}

/* The options of the context embedding. */
static fora_err_t check_embed_opts(const fora_link_opts_t *o, fora_diag_t *diag)
{
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
    if (o->threads < 0 || o->threads > FORA_LINK_MAX_THREADS)
        return fora_diag_set(diag, FORA_EINVAL, "threads must be 0..%d, not %d",
                             FORA_LINK_MAX_THREADS, o->threads);
    return FORA_OK;
}

static fora_err_t check_snapshot(const fora_snapshot_t *s, fora_diag_t *diag)
{
    if (s->build != NULL)
        return fora_diag_set(diag, FORA_EINVAL, "linking needs a finished snapshot");
    if ((int64_t)s->members.n + s->threads.n + s->boards.n >= UINT32_MAX / 2)
        return fora_diag_set(diag, FORA_ETOOLARGE, "too many members, threads and boards");
    return FORA_OK;
}

fora_err_t fora_link_context_compute(const fora_snapshot_t *s, const fora_link_opts_t *o,
                                     fora_link_context_t **out, fora_diag_t *diag)
{
    fora_err_t err;
    csr_t mp = {0};
    *out = NULL;
    if ((err = check_embed_opts(o, diag)) != FORA_OK) return err;
    if ((err = check_snapshot(s, diag)) != FORA_OK) return err;
    fora_link_context_t *c = calloc(1, sizeof(*c));
    if (!c) return fora_diag_set(diag, FORA_ENOMEM, "out of memory for the linking context");
    c->members = s->members.n;
    c->threads = s->threads.n;
    c->boards = s->boards.n;
    c->posts = s->posts.n;
    c->dim = o->embed_dim;
    c->tvec = malloc((size_t)(c->threads > 0 ? c->threads : 1) * (size_t)c->dim * sizeof(*c->tvec));
    if (!c->tvec) {
        err = fora_diag_set(diag, FORA_ENOMEM, "out of memory for the linking context");
        goto out;
    }
    if ((err = csr_build(&mp, s->members.n, s->posts.author, s->posts.n, diag)) != FORA_OK)
        goto out;
    err = embed_nodes(s, o, &mp, link_threads(o->threads), c->tvec, diag);
out:
    csr_free(&mp);
    if (err != FORA_OK) {
        fora_link_context_destroy(c);
        c = NULL;
    }
    *out = c;
    return err;
}

int64_t fora_link_member_pool(const fora_snapshot_t *s, int episode_len, int64_t max_rows,
                              uint64_t seed, uint8_t *mask, fora_diag_t *diag)
{
    const int32_t M = s->members.n;
    int32_t *np = calloc((size_t)(M > 0 ? M : 1), sizeof(*np));
    int32_t *order = malloc((size_t)(M > 0 ? M : 1) * sizeof(*order));
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    int64_t rows = -1;
    if (!np || !order || !rng) {
        fora_diag_set(diag, FORA_ENOMEM, "out of memory choosing the members of a pool");
        goto out;
    }
    for (int32_t p = 0; p < s->posts.n; p++)
        if (s->posts.author[p] >= 0) np[s->posts.author[p]]++;
    rows = 0;
    for (int32_t m = 0; m < M; m++)
        rows += episode_len > 0 ? np[m] / episode_len : np[m] > 0;
    const size_t nm = M > 0 ? (size_t)M : 0;
    memset(mask, 1, nm);
    if (rows <= max_rows) goto out;
    memset(mask, 0, nm);
    for (int32_t m = 0; m < M; m++)
        order[m] = m;
    gsl_rng_set(rng, (unsigned long)(seed * 2654435761ULL + 17));
    gsl_ran_shuffle(rng, order, (size_t)M, sizeof(*order));
    rows = 0;
    for (int32_t i = 0; i < M; i++) {
        const int32_t m = order[i];
        const int64_t r = episode_len > 0 ? np[m] / episode_len : np[m] > 0;
        if (r > 0 && rows + r <= max_rows) {
            mask[m] = 1;
            rows += r;
        }
    }
out:
    if (rng) gsl_rng_free(rng);
    free(np);
    free(order);
    return rows;
}

fora_err_t fora_link_fingerprints(const fora_snapshot_t *s, const fora_link_opts_t *o,
                                  fora_link_fp_t **out, fora_diag_t *diag)
{
    fora_link_context_t *c = NULL;
    *out = NULL;
    fora_err_t err = check_row_opts(o, diag);
    if (err == FORA_OK) err = fora_link_context_compute(s, o, &c, diag);
    if (err == FORA_OK) err = fora_link_fingerprints_with(s, o, c, out, diag);
    fora_link_context_destroy(c);
    return err;
}

fora_err_t fora_link_fingerprints_with(const fora_snapshot_t *s, const fora_link_opts_t *o,
                                       const fora_link_context_t *ctx, fora_link_fp_t **out,
                                       fora_diag_t *diag)
{
    fora_err_t err;
    const int32_t M = s->members.n, P = s->posts.n;
    const int H = o->how_harmonics, d = ctx->dim, L = o->episode_len;
    csr_t mp = {0};
    fora_link_fp_t *fp = NULL;
    int32_t *session = NULL, *catcol = NULL;
    double *basis = NULL, *row = NULL, *mean = NULL, *sess = NULL;
    int64_t *local = NULL;

    *out = NULL;
    if ((err = check_row_opts(o, diag)) != FORA_OK) return err;
    if ((err = check_snapshot(s, diag)) != FORA_OK) return err;
    if (ctx->members != M || ctx->threads != s->threads.n || ctx->boards != s->boards.n ||
        ctx->posts != P)
        return fora_diag_set(diag, FORA_EINVAL,
                             "the linking context was learned on another snapshot (%d members, "
                             "%d threads, %d posts; this one has %d, %d, %d)",
                             ctx->members, ctx->threads, ctx->posts, M, s->threads.n, P);
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
        if (o->member_mask && !o->member_mask[m]) continue;
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

    row = malloc((size_t)dim * sizeof(*row));
    sess = malloc(nr1 * FORA_LINK_SESSION_DIMS * sizeof(*sess));
    if (!row || !sess) goto nomem;
    int32_t r = 0, nsk = 0;
    for (int32_t m = 0; m < M; m++) {
        int64_t n = mp.start[m + 1] - mp.start[m];
        fp->row_of_member[m] = -1;
        if (o->member_mask && !o->member_mask[m]) continue;
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
                const double *tv = ctx->tvec + (size_t)t * d;
                for (int k = 0; k < d; k++)
                    em[k] += tv[k];
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
                fora__link_unit(row + fp->off[c], fp->off[c + 1] - fp->off[c]);
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
            if (!fora__link_unit(v, n)) fp->zero_mask[i] |= (uint8_t)(1u << c);
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

/* One worker's share of the symmetric all-rows search: its own heaps for every row. */
typedef struct topk_part {
    float *S;    /* QBLOCK x FORA_LINK_BLOCK scores */
    float *hs;   /* n x k heap scores */
    int32_t *hi; /* n x k heap rows */
    int *hn;     /* n heap sizes */
    float *thr;  /* the worst kept score once a heap is full, else -inf */
} topk_part_t;

typedef struct topk_job {
    const float *x;
    int32_t n, d;
    const int32_t *group;
    int k;
    topk_part_t *part; /* per thread */
} topk_job_t;

#define TOPK_SPAN 16

/* Whether any of TOPK_SPAN scores reaches row a's threshold ta or its
 * column's (tb); branch-free so that it vectorises. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("O3")))
#endif
static inline bool
span_has_candidate(const float *sv, float ta, const float *tb)
{
    int any = 0;
    for (int u = 0; u < TOPK_SPAN; u++)
        any |= (sv[u] >= ta) | (sv[u] >= tb[u]);
    return any != 0;
}

/* Query blocks [b0, b1): their blocks on and above the diagonal, into tid's heaps. */
static void topk_blocks(void *arg, int tid, int64_t b0, int64_t b1)
{
    const topk_job_t *j = arg;
    const float *x = j->x;
    const int32_t n = j->n, d = j->d;
    const int32_t *group = j->group;
    const int k = j->k;
    topk_part_t *pt = &j->part[tid];
    float *S = pt->S, *hs = pt->hs, *thr = pt->thr;
    int32_t *hi = pt->hi;
    int *hn = pt->hn;
    for (int64_t qb = b0; qb < b1; qb++) {
        const int32_t q0 = (int32_t)(qb * QBLOCK);
        const int32_t nb = n - q0 < QBLOCK ? n - q0 : QBLOCK;
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
                for (int32_t c0 = j0; c0 < rb; c0 += TOPK_SPAN) {
                    const int32_t c1 = rb - c0 < TOPK_SPAN ? rb : c0 + TOPK_SPAN;
                    /* most spans hold no score either row keeps: one vector test */
                    if (c1 - c0 == TOPK_SPAN &&
                        !span_has_candidate(srow + c0, thr[a], thr + r0 + c0))
                        continue;
                    for (int32_t jj = c0; jj < c1; jj++) {
                        const float sv = srow[jj];
                        const int32_t b = r0 + jj;
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
    }
}

/*
 * All rows against all rows: S = X X' is symmetric, so only blocks on or
 * above the diagonal are computed and each score updates the heaps of both
 * its rows (half the products of the general path, the same answers).  The
 * query blocks are shared out between the workers, each keeping heaps for
 * every row; a row's heaps are then merged.  Every score is computed by the
 * same product of the same block whichever worker takes it, and the top k
 * under the total order (score, then lower row) of a union is the top k of
 * the parts' top k, so the lists do not depend on the number of workers.
 */
static fora_err_t topk_all(const float *x, int32_t n, int32_t d, const int32_t *group, int k,
                           int32_t *idx, float *score, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    size_t n1 = (size_t)(n > 0 ? n : 1);
    const int64_t nblocks = ((int64_t)n + QBLOCK - 1) / QBLOCK;
    int nt = link_threads(0);
    if (nt > nblocks) nt = nblocks > 0 ? (int)nblocks : 1;
    topk_part_t part[FORA_LINK_MAX_THREADS];
    memset(part, 0, sizeof(part));
    for (int t = 0; t < nt; t++) {
        topk_part_t *p = &part[t];
        p->S = malloc((size_t)QBLOCK * FORA_LINK_BLOCK * sizeof(*p->S));
        p->hs = malloc(n1 * (size_t)k * sizeof(*p->hs));
        p->hi = malloc(n1 * (size_t)k * sizeof(*p->hi));
        p->hn = calloc(n1, sizeof(*p->hn));
        p->thr = malloc(n1 * sizeof(*p->thr));
        if (!p->S || !p->hs || !p->hi || !p->hn || !p->thr) {
            err = fora_diag_set(diag, FORA_ENOMEM, "out of memory in the top-k search");
            goto out;
        }
        for (int32_t i = 0; i < n; i++)
            p->thr[i] = -INFINITY;
    }
    topk_job_t job = {x, n, d, group, k, part};
    /* one block per chunk: the first blocks (longest rows) go first */
    int blas_old = nt > 1 ? blas_threads_single() : 0;
    par_for(nt, nblocks, 1, topk_blocks, &job);
    if (nt > 1) blas_threads_restore(blas_old);
    for (int32_t i = 0; i < n; i++) {
        float *h = part[0].hs + (size_t)i * k;
        int32_t *hx = part[0].hi + (size_t)i * k;
        for (int t = 1; t < nt; t++)
            for (int e = 0; e < part[t].hn[i]; e++)
                heap_push(h, hx, &part[0].hn[i], k, part[t].hs[(size_t)i * k + e],
                          part[t].hi[(size_t)i * k + e]);
        heap_drain(h, hx, part[0].hn[i], k, idx + (size_t)i * k, score + (size_t)i * k);
    }
out:
    for (int t = 0; t < nt; t++) {
        free(part[t].S);
        free(part[t].hs);
        free(part[t].hi);
        free(part[t].hn);
        free(part[t].thr);
    }
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

fora_err_t fora__link_copy_boards(fora_snapshot_t *ns, const fora_snapshot_t *s, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    for (int32_t b = 0; b < s->boards.n && err == FORA_OK; b++)
        err = fora_snapshot_add_board(ns, s->boards.id[b], fora_snapshot_board_ext(s, b),
                                      s->boards.parent[b] >= 0 ? s->boards.id[s->boards.parent[b]]
                                                               : FORA_ID_NONE,
                                      fora_snapshot_board_category(s, b), diag);
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
    const int32_t M = s->members.n, T = s->threads.n, P = s->posts.n;
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
    if ((err = fora__link_copy_boards(ns, s, diag)) != FORA_OK) goto out;
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
