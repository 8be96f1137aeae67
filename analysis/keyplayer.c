/*
 * analysis/keyplayer.c - composite rank, KPP-Neg, KPP-Pos and role
 * validation (fora/keyplayer.h).
 */
#include "fora/keyplayer.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kp_internal.h"

/* ---------------------------------------------------------------------- */
/* metrics                                                                  */
/* ---------------------------------------------------------------------- */

static const char *const metric_names[FORA_METRIC_COUNT] = {
    "posts",       "threads_started", "threads",    "boards",         "in_degree",  "out_degree",
    "in_strength", "out_strength",    "pagerank",   "betweenness",    "closeness",  "harmonic",
    "eigenvector", "coreness",        "constraint", "effective_size", "clustering",
};

const char *fora_metric_name(fora_metric_t m)
{
    return (m >= 0 && m < FORA_METRIC_COUNT) ? metric_names[m] : "unknown";
}

fora_err_t fora_metric_parse(const char *name, fora_metric_t *out, fora_diag_t *diag)
{
    for (int m = 0; m < FORA_METRIC_COUNT; m++)
        if (name && strcmp(name, metric_names[m]) == 0) {
            *out = (fora_metric_t)m;
            return FORA_OK;
        }
    return fora_diag_set(diag, FORA_EINVAL,
                         "unknown metric \"%s\" (accepted: posts, threads_started, threads, "
                         "boards, in_degree, out_degree, in_strength, out_strength, pagerank, "
                         "betweenness, closeness, harmonic, eigenvector, coreness, constraint, "
                         "effective_size, clustering)",
                         name ? name : "");
}

double fora_metric_value(const fora_centrality_t *c, fora_metric_t m, int32_t i)
{
    switch (m) {
    case FORA_METRIC_POSTS:
        return (double)c->posts[i];
    case FORA_METRIC_THREADS_STARTED:
        return (double)c->threads_started[i];
    case FORA_METRIC_THREADS:
        return (double)c->threads[i];
    case FORA_METRIC_BOARDS:
        return (double)c->boards[i];
    case FORA_METRIC_IN_DEGREE:
        return (double)c->in_degree[i];
    case FORA_METRIC_OUT_DEGREE:
        return (double)c->out_degree[i];
    case FORA_METRIC_IN_STRENGTH:
        return c->in_strength[i];
    case FORA_METRIC_OUT_STRENGTH:
        return c->out_strength[i];
    case FORA_METRIC_PAGERANK:
        return c->pagerank[i];
    case FORA_METRIC_BETWEENNESS:
        return c->betweenness[i];
    case FORA_METRIC_CLOSENESS:
        return c->closeness[i];
    case FORA_METRIC_HARMONIC:
        return c->harmonic[i];
    case FORA_METRIC_EIGENVECTOR:
        return c->eigenvector[i];
    case FORA_METRIC_CORENESS:
        return (double)c->coreness[i];
    case FORA_METRIC_CONSTRAINT:
        return isnan(c->constraint[i]) ? -INFINITY : -c->constraint[i];
    case FORA_METRIC_EFFECTIVE_SIZE:
        return c->effective_size[i];
    case FORA_METRIC_CLUSTERING:
        return c->clustering[i];
    default:
        return 0;
    }
}

void fora_composite_weights_init(fora_composite_weights_t *w)
{
    memset(w, 0, sizeof(*w));
    w->w[FORA_METRIC_PAGERANK] = 0.2;
    w->w[FORA_METRIC_BETWEENNESS] = 0.2;
    w->w[FORA_METRIC_IN_DEGREE] = 0.15;
    w->w[FORA_METRIC_HARMONIC] = 0.15;
    w->w[FORA_METRIC_OUT_DEGREE] = 0.1;
    w->w[FORA_METRIC_CORENESS] = 0.1;
    w->w[FORA_METRIC_POSTS] = 0.1;
}

static fora_err_t check_weights(const fora_composite_weights_t *w, fora_diag_t *diag)
{
    double sum = 0;
    for (int m = 0; m < FORA_METRIC_COUNT; m++) {
        if (!isfinite(w->w[m]) || w->w[m] < 0)
            return fora_diag_set(diag, FORA_EINVAL,
                                 "weight of \"%s\" must be a finite number >= 0, not %g",
                                 metric_names[m], w->w[m]);
        sum += w->w[m];
    }
    if (!(sum > 0)) return fora_diag_set(diag, FORA_EINVAL, "weights must not all be 0");
    return FORA_OK;
}

fora_err_t fora_composite_weights_parse(const char *spec, fora_composite_weights_t *out,
                                        fora_diag_t *diag)
{
    fora_composite_weights_t w;
    memset(&w, 0, sizeof(w));
    if (!spec || !*spec) return fora_diag_set(diag, FORA_EINVAL, "weights must not be empty");
    const char *p = spec;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char item[128];
        if (len == 0 || len >= sizeof item)
            return fora_diag_set(diag, FORA_EINVAL, "bad weight item \"%.*s\"", (int)len, p);
        memcpy(item, p, len);
        item[len] = 0;
        char *colon = strchr(item, ':');
        if (!colon)
            return fora_diag_set(diag, FORA_EINVAL, "weight item \"%s\" is not METRIC:WEIGHT",
                                 item);
        *colon = 0;
        fora_metric_t m = FORA_METRIC_POSTS;
        fora_err_t err = fora_metric_parse(item, &m, diag);
        if (err) return err;
        char *e = NULL;
        errno = 0;
        double v = strtod(colon + 1, &e);
        if (e == colon + 1 || *e || errno || !isfinite(v) || v < 0)
            return fora_diag_set(diag, FORA_EINVAL,
                                 "weight of \"%s\" must be a finite number >= 0, not \"%s\"", item,
                                 colon + 1);
        w.w[m] = v;
        p = end ? end + 1 : p + len;
    }
    fora_err_t err = check_weights(&w, diag);
    if (err) return err;
    *out = w;
    return FORA_OK;
}

/* ---------------------------------------------------------------------- */
/* percentiles and the composite                                            */
/* ---------------------------------------------------------------------- */

typedef struct {
    double x;
    int32_t i;
} xi_t;

static int cmp_xi_asc(const void *a, const void *b)
{
    const xi_t *p = a, *q = b;
    if (p->x < q->x) return -1;
    if (p->x > q->x) return 1;
    return (p->i > q->i) - (p->i < q->i);
}

/* Sorted (value, index) pairs, NAN mapped to -inf. */
static xi_t *sorted_xi(const double *x, int32_t n)
{
    xi_t *t = malloc(sizeof(xi_t) * ((size_t)n + 1));
    if (!t) return NULL;
    for (int32_t i = 0; i < n; i++) {
        t[i].x = isnan(x[i]) ? -INFINITY : x[i];
        t[i].i = i;
    }
    qsort(t, (size_t)n, sizeof(xi_t), cmp_xi_asc);
    return t;
}

fora_err_t fora_percentiles(const double *x, int32_t n, double *out, fora_diag_t *diag)
{
    if (n <= 0) return FORA_OK;
    xi_t *t = sorted_xi(x, n);
    if (!t) return fora_diag_set(diag, FORA_ENOMEM, "out of memory ranking %d values", n);
    for (int32_t a = 0; a < n;) {
        int32_t b = a;
        while (b < n && t[b].x == t[a].x)
            b++;
        double p = ((double)a + (double)(b - a) / 2.0) / (double)n;
        for (int32_t j = a; j < b; j++)
            out[t[j].i] = p;
        a = b;
    }
    free(t);
    return FORA_OK;
}

void fora_composite_destroy(fora_composite_t *r)
{
    free(r->score);
    free(r->rank);
    free(r->order);
    for (int m = 0; m < FORA_METRIC_COUNT; m++)
        free(r->pct[m]);
    memset(r, 0, sizeof(*r));
}

fora_err_t fora_composite_rank(const fora_centrality_t *c, const fora_composite_weights_t *w,
                               fora_composite_t *out, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    double *x = NULL;
    memset(out, 0, sizeof(*out));
    if (w)
        out->weights = *w;
    else
        fora_composite_weights_init(&out->weights);
    if ((err = check_weights(&out->weights, diag)) != FORA_OK) return err;
    int32_t n = c->n;
    out->n = n;
    out->score = calloc((size_t)n + 1, sizeof(double));
    out->rank = calloc((size_t)n + 1, sizeof(int32_t));
    out->order = calloc((size_t)n + 1, sizeof(int32_t));
    x = malloc(sizeof(double) * ((size_t)n + 1));
    if (!out->score || !out->rank || !out->order || !x) goto oom;
    double wsum = 0;
    for (int m = 0; m < FORA_METRIC_COUNT; m++) {
        double wm = out->weights.w[m];
        if (wm <= 0) continue;
        wsum += wm;
        out->pct[m] = malloc(sizeof(double) * ((size_t)n + 1));
        if (!out->pct[m]) goto oom;
        for (int32_t i = 0; i < n; i++)
            x[i] = fora_metric_value(c, (fora_metric_t)m, i);
        if ((err = fora_percentiles(x, n, out->pct[m], diag)) != FORA_OK) goto out;
        for (int32_t i = 0; i < n; i++)
            out->score[i] += wm * out->pct[m][i];
    }
    for (int32_t i = 0; i < n; i++)
        out->score[i] /= wsum;
    if ((err = fora__order_desc(out->score, n, out->order, diag)) != FORA_OK) goto out;
    for (int32_t r = 0; r < n; r++)
        out->rank[out->order[r]] = r + 1;
    goto out;
oom:
    err = fora_diag_set(diag, FORA_ENOMEM, "out of memory ranking %d members", n);
out:
    free(x);
    if (err) fora_composite_destroy(out);
    return err;
}

/* ---------------------------------------------------------------------- */
/* fragmentation                                                            */
/* ---------------------------------------------------------------------- */

double fora_fragmentation(const igraph_t *u, const bool *removed)
{
    int32_t n = (int32_t)igraph_vcount(u);
    int32_t *parent = malloc(sizeof(int32_t) * ((size_t)n + 1));
    int32_t *size = malloc(sizeof(int32_t) * ((size_t)n + 1));
    if (!parent || !size) fora_panic("out of memory computing fragmentation");
    int32_t left = 0;
    for (int32_t v = 0; v < n; v++) {
        parent[v] = v;
        size[v] = 1;
        if (!removed || !removed[v]) left++;
    }
    for (igraph_integer_t e = 0; e < igraph_ecount(u); e++) {
        int32_t a = (int32_t)IGRAPH_FROM(u, e), b = (int32_t)IGRAPH_TO(u, e);
        if (removed && (removed[a] || removed[b])) continue;
        a = fora__uf_find(parent, a);
        b = fora__uf_find(parent, b);
        if (a == b) continue;
        if (size[a] < size[b]) {
            int32_t t = a;
            a = b;
            b = t;
        }
        parent[b] = a;
        size[a] += size[b];
    }
    double sum = 0;
    for (int32_t v = 0; v < n; v++)
        if ((!removed || !removed[v]) && parent[v] == v) sum += (double)size[v] * (size[v] - 1);
    free(parent);
    free(size);
    if (left < 2) return 0;
    return 1.0 - sum / ((double)left * (left - 1));
}

/* ---------------------------------------------------------------------- */
/* KPP-Neg                                                                  */
/* ---------------------------------------------------------------------- */

void fora_kpp_opts_init(fora_kpp_opts_t *o)
{
    fora_kpp_opts_t d = FORA_KPP_OPTS_INIT;
    *o = d;
}

void fora_kpp_destroy(fora_kpp_t *r)
{
    free(r->members);
    free(r->gain);
    memset(r, 0, sizeof(*r));
}

/* scratch of the articulation DFS */
typedef struct {
    int32_t n;
    int32_t *disc, *low, *sub, *parent, *stack, *root;
    int64_t *it;
    double *pieces; /* sum of s(s-1) over the pieces split off v */
    int64_t *sep;   /* members split off v */
} artdfs_t;

static void artdfs_free(artdfs_t *a)
{
    free(a->disc);
    free(a->low);
    free(a->sub);
    free(a->parent);
    free(a->stack);
    free(a->root);
    free(a->it);
    free(a->pieces);
    free(a->sep);
}

static bool artdfs_init(artdfs_t *a, int32_t n)
{
    size_t k = (size_t)n + 1;
    a->n = n;
    a->disc = malloc(sizeof(int32_t) * k);
    a->low = malloc(sizeof(int32_t) * k);
    a->sub = malloc(sizeof(int32_t) * k);
    a->parent = malloc(sizeof(int32_t) * k);
    a->stack = malloc(sizeof(int32_t) * k);
    a->root = malloc(sizeof(int32_t) * k);
    a->it = malloc(sizeof(int64_t) * k);
    a->pieces = malloc(sizeof(double) * k);
    a->sep = malloc(sizeof(int64_t) * k);
    return a->disc && a->low && a->sub && a->parent && a->stack && a->root && a->it && a->pieces &&
           a->sep;
}

/*
 * For every vertex v not removed: after[v] = sum over the components of
 * (G - removed - v) of s(s-1).  Returns the sum for G - removed.  One
 * iterative DFS (Tarjan): O(n + m).
 */
static double artdfs_run(artdfs_t *a, const fora__csr_t *g, const bool *removed, double *after)
{
    int32_t n = a->n, timer = 0;
    double base = 0;
    for (int32_t v = 0; v < n; v++) {
        a->disc[v] = -1;
        a->pieces[v] = 0;
        a->sep[v] = 0;
    }
    for (int32_t r = 0; r < n; r++) {
        if (removed[r] || a->disc[r] >= 0) continue;
        int32_t top = 0;
        a->stack[top++] = r;
        a->root[r] = r;
        a->parent[r] = -1;
        a->disc[r] = a->low[r] = timer++;
        a->sub[r] = 1;
        a->it[r] = g->off[r];
        while (top > 0) {
            int32_t v = a->stack[top - 1];
            if (a->it[v] < g->off[v + 1]) {
                int32_t u = g->adj[a->it[v]++];
                if (removed[u] || u == a->parent[v]) continue;
                if (a->disc[u] < 0) {
                    a->parent[u] = v;
                    a->root[u] = r;
                    a->disc[u] = a->low[u] = timer++;
                    a->sub[u] = 1;
                    a->it[u] = g->off[u];
                    a->stack[top++] = u;
                } else if (a->disc[u] < a->low[v]) {
                    a->low[v] = a->disc[u];
                }
            } else {
                top--;
                int32_t p = a->parent[v];
                if (p >= 0) {
                    a->sub[p] += a->sub[v];
                    if (a->low[v] < a->low[p]) a->low[p] = a->low[v];
                    if (a->low[v] >= a->disc[p]) {
                        a->pieces[p] += (double)a->sub[v] * (a->sub[v] - 1);
                        a->sep[p] += a->sub[v];
                    }
                }
            }
        }
        base += (double)a->sub[r] * (a->sub[r] - 1);
    }
    for (int32_t v = 0; v < n; v++) {
        if (removed[v]) {
            after[v] = INFINITY;
            continue;
        }
        double N = (double)a->sub[a->root[v]];
        double rest = N - 1 - (double)a->sep[v];
        after[v] = base - N * (N - 1) + a->pieces[v] + rest * (rest - 1);
    }
    return base;
}

static double frag_from_sum(double sum, int32_t left)
{
    return left < 2 ? 0 : 1.0 - sum / ((double)left * (left - 1));
}

/* DF of g without `removed` (left vertices remain): exact or from sampled sources. */
static fora_err_t dwfrag(const fora__csr_t *g, const bool *removed, int32_t left,
                         const fora_kpp_opts_t *o, double *df, bool *sampled, int32_t *used,
                         fora_diag_t *diag)
{
    int32_t n = g->n;
    *df = 0;
    *sampled = false;
    *used = 0;
    if (left < 2) return FORA_OK;
    int32_t *alive = malloc(sizeof(int32_t) * ((size_t)left + 1));
    int32_t *dist = malloc(sizeof(int32_t) * ((size_t)n + 1));
    int32_t *queue = malloc(sizeof(int32_t) * ((size_t)n + 1));
    int32_t *pick = malloc(sizeof(int32_t) * ((size_t)left + 1));
    if (!alive || !dist || !queue || !pick) {
        free(alive);
        free(dist);
        free(queue);
        free(pick);
        return fora_diag_set(diag, FORA_ENOMEM, "out of memory for distance fragmentation");
    }
    int32_t q = 0;
    for (int32_t v = 0; v < n; v++) {
        dist[v] = -1;
        if (!removed[v]) alive[q++] = v;
    }
    int32_t k = left;
    if (left > o->exact_max) {
        k = o->samples < left ? o->samples : left;
        *sampled = k < left;
        fora_err_t err = fora__sample(left, k, pick, diag);
        if (err) {
            free(alive);
            free(dist);
            free(queue);
            free(pick);
            return err;
        }
    } else {
        for (int32_t i = 0; i < left; i++)
            pick[i] = i;
    }
    double tot = 0;
    for (int32_t i = 0; i < k; i++) {
        int32_t sv = alive[pick[i]];
        int32_t cnt = fora__bfs(g, sv, removed, -1, dist, queue);
        double h = 0;
        for (int32_t j = 1; j < cnt; j++)
            h += 1.0 / dist[queue[j]];
        tot += h / (left - 1);
        for (int32_t j = 0; j < cnt; j++)
            dist[queue[j]] = -1;
    }
    *df = 1.0 - tot / k;
    *used = k;
    free(alive);
    free(dist);
    free(queue);
    free(pick);
    return FORA_OK;
}

/* the best vertex by `after` (lowest), ties by seeded priority */
static int32_t best_vertex(const double *after, const uint64_t *prio, int32_t n, const bool *skip)
{
    int32_t best = -1;
    for (int32_t v = 0; v < n; v++) {
        if (skip[v] || !isfinite(after[v])) continue;
        if (best < 0 || after[v] < after[best] || (after[v] == after[best] && prio[v] > prio[best]))
            best = v;
    }
    return best;
}

fora_err_t fora_kpp_neg(const fora_netgraph_t *g, const fora_kpp_opts_t *o, fora_kpp_t *out,
                        fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    fora_kpp_opts_t opts;
    fora__csr_t csr = {0};
    artdfs_t a;
    memset(&a, 0, sizeof(a));
    bool *removed = NULL;
    double *after = NULL;
    uint64_t *prio = NULL;
    int32_t *set = NULL;

    memset(out, 0, sizeof(*out));
    if (o)
        opts = *o;
    else
        fora_kpp_opts_init(&opts);
    if (opts.k < 1) return fora_diag_set(diag, FORA_EINVAL, "k must be at least 1, not %d", opts.k);
    if (opts.max_swap_passes < 0)
        return fora_diag_set(diag, FORA_EINVAL, "max_swap_passes must be >= 0, not %d",
                             opts.max_swap_passes);
    if (opts.exact_max < 1 || opts.samples < 1)
        return fora_diag_set(diag, FORA_EINVAL, "exact_max and samples must be at least 1");
    int32_t n = g->n;
    out->seed = opts.seed;
    int32_t k = opts.k < n ? opts.k : n;
    out->k = k;
    out->members = calloc((size_t)k + 1, sizeof(int32_t));
    out->gain = calloc((size_t)k + 1, sizeof(double));
    if (!out->members || !out->gain) goto oom;
    if (n == 0) goto out;
    if ((err = fora__csr_build(&g->u.graph, NULL, &csr, diag)) != FORA_OK) goto out;
    removed = calloc((size_t)n + 1, sizeof(bool));
    after = malloc(sizeof(double) * ((size_t)n + 1));
    prio = malloc(sizeof(uint64_t) * ((size_t)n + 1));
    set = calloc((size_t)k + 1, sizeof(int32_t));
    if (!removed || !after || !prio || !set || !artdfs_init(&a, n)) goto oom;
    for (int32_t v = 0; v < n; v++)
        prio[v] = fora__mix64(opts.seed * 0x100000001b3ULL + (uint64_t)v);

    double base = artdfs_run(&a, &csr, removed, after);
    out->objective_base = frag_from_sum(base, n);
    igraph_rng_seed(igraph_rng_default(), opts.seed);
    if ((err = dwfrag(&csr, removed, n, &opts, &out->dwf_base, &out->dwf_sampled, &out->samples,
                      diag)))
        goto out;

    /* greedy */
    for (int32_t i = 0; i < k; i++) {
        if (i > 0) artdfs_run(&a, &csr, removed, after);
        int32_t v = best_vertex(after, prio, n, removed);
        set[i] = v;
        removed[v] = true;
        out->gain[i] = frag_from_sum(after[v], n - i - 1);
    }
    /* swaps: put one member back, find the best vertex to remove instead */
    for (int32_t pass = 0; pass < opts.max_swap_passes; pass++) {
        bool improved = false;
        for (int32_t i = 0; i < k; i++) {
            int32_t u = set[i];
            removed[u] = false;
            artdfs_run(&a, &csr, removed, after);
            int32_t v = best_vertex(after, prio, n, removed);
            /* strict improvement beyond rounding */
            if (v != u && after[v] < after[u] - 1e-9 * (after[u] + 1)) {
                set[i] = v;
                removed[v] = true;
                out->swaps++;
                improved = true;
            } else {
                removed[u] = true;
            }
        }
        if (!improved) break;
    }
    {
        int32_t left = n - k;
        /* the final objective from a clean union-find pass */
        out->objective = fora_fragmentation(&g->u.graph, removed);
        if ((err = dwfrag(&csr, removed, left, &opts, &out->dwf, &out->dwf_sampled, &out->samples,
                          diag)))
            goto out;
    }
    for (int32_t i = 0; i < k; i++)
        out->members[i] = g->net_member[set[i]];
    goto out;
oom:
    err = fora_diag_set(diag, FORA_ENOMEM, "out of memory for KPP-Neg on %d members", n);
out:
    fora__csr_destroy(&csr);
    artdfs_free(&a);
    free(removed);
    free(after);
    free(prio);
    free(set);
    if (err) fora_kpp_destroy(out);
    return err;
}

/* ---------------------------------------------------------------------- */
/* KPP-Pos                                                                  */
/* ---------------------------------------------------------------------- */

static inline double reach_value(int32_t d, int32_t D, bool dw)
{
    if (d < 0 || d > D) return 0;
    if (!dw || d == 0) return 1;
    return 1.0 / d;
}

/* marginal gain of adding v given best[] (BFS ball of depth D) */
static double pos_gain(const fora__csr_t *g, int32_t v, int32_t D, bool dw, const double *best,
                       int32_t *dist, int32_t *queue)
{
    int32_t cnt = fora__bfs(g, v, NULL, D, dist, queue);
    double gain = 0;
    for (int32_t j = 0; j < cnt; j++) {
        double x = reach_value(dist[queue[j]], D, dw) - best[queue[j]];
        if (x > 0) gain += x;
    }
    for (int32_t j = 0; j < cnt; j++)
        dist[queue[j]] = -1;
    return gain;
}

static void pos_apply(const fora__csr_t *g, int32_t v, int32_t D, bool dw, double *best,
                      int32_t *dist, int32_t *queue)
{
    int32_t cnt = fora__bfs(g, v, NULL, D, dist, queue);
    for (int32_t j = 0; j < cnt; j++) {
        double x = reach_value(dist[queue[j]], D, dw);
        if (x > best[queue[j]]) best[queue[j]] = x;
    }
    for (int32_t j = 0; j < cnt; j++)
        dist[queue[j]] = -1;
}

/* objective of a set: sum_j value(min distance) */
static double pos_eval(const fora__csr_t *g, const int32_t *set, int32_t k, int32_t D, bool dw,
                       double *best, int32_t *dist, int32_t *queue)
{
    for (int32_t v = 0; v < g->n; v++)
        best[v] = 0;
    for (int32_t i = 0; i < k; i++)
        pos_apply(g, set[i], D, dw, best, dist, queue);
    double s = 0;
    for (int32_t v = 0; v < g->n; v++)
        s += best[v];
    return s;
}

fora_err_t fora_kpp_pos(const fora_netgraph_t *g, const fora_kpp_opts_t *o, fora_kpp_t *out,
                        fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    fora_kpp_opts_t opts;
    fora__csr_t csr = {0};
    double *best = NULL, *bound = NULL, *deg = NULL, *excl = NULL;
    int32_t *dist = NULL, *queue = NULL, *cand = NULL, *set = NULL;
    uint64_t *prio = NULL;
    bool *taken = NULL;

    memset(out, 0, sizeof(*out));
    if (o)
        opts = *o;
    else
        fora_kpp_opts_init(&opts);
    if (opts.k < 1) return fora_diag_set(diag, FORA_EINVAL, "k must be at least 1, not %d", opts.k);
    if (opts.d < 1) return fora_diag_set(diag, FORA_EINVAL, "d must be at least 1, not %d", opts.d);
    if (opts.candidates < 0)
        return fora_diag_set(diag, FORA_EINVAL, "candidates must be >= 0, not %d", opts.candidates);
    int32_t n = g->n;
    out->seed = opts.seed;
    int32_t k = opts.k < n ? opts.k : n;
    out->k = k;
    out->members = calloc((size_t)k + 1, sizeof(int32_t));
    out->gain = calloc((size_t)k + 1, sizeof(double));
    if (!out->members || !out->gain) goto oom;
    if (n == 0) goto out;
    if ((err = fora__csr_build(&g->u.graph, NULL, &csr, diag)) != FORA_OK) goto out;
    int32_t C = (opts.candidates == 0 || opts.candidates > n) ? n : opts.candidates;
    if (C < k) C = k;
    best = calloc((size_t)n + 1, sizeof(double));
    excl = calloc((size_t)n + 1, sizeof(double));
    bound = malloc(sizeof(double) * ((size_t)n + 1));
    deg = malloc(sizeof(double) * ((size_t)n + 1));
    dist = malloc(sizeof(int32_t) * ((size_t)n + 1));
    queue = malloc(sizeof(int32_t) * ((size_t)n + 1));
    cand = malloc(sizeof(int32_t) * ((size_t)n + 1));
    set = calloc((size_t)k + 1, sizeof(int32_t));
    prio = malloc(sizeof(uint64_t) * ((size_t)n + 1));
    taken = calloc((size_t)n + 1, sizeof(bool));
    if (!best || !excl || !bound || !deg || !dist || !queue || !cand || !set || !prio || !taken)
        goto oom;
    for (int32_t v = 0; v < n; v++) {
        dist[v] = -1;
        deg[v] = (double)(csr.off[v + 1] - csr.off[v]);
        prio[v] = fora__mix64(opts.seed * 0x100000001b3ULL + (uint64_t)v);
    }
    if ((err = fora__order_desc(deg, n, cand, diag)) != FORA_OK) goto out;
    bool dw = opts.distance_weighted;
    int32_t D = opts.d;
    for (int32_t c = 0; c < C; c++)
        bound[c] = pos_gain(&csr, cand[c], D, dw, best, dist, queue);
    double total = 0;
    /* lazy greedy over the candidates: bounds only fall (submodularity) */
    for (int32_t i = 0; i < k; i++) {
        for (;;) {
            int32_t top = -1;
            for (int32_t c = 0; c < C; c++) {
                if (taken[cand[c]]) continue;
                if (top < 0 || bound[c] > bound[top] ||
                    (bound[c] == bound[top] && prio[cand[c]] > prio[cand[top]]))
                    top = c;
            }
            double fresh = pos_gain(&csr, cand[top], D, dw, best, dist, queue);
            bool still = true;
            for (int32_t c = 0; c < C; c++)
                if (!taken[cand[c]] && c != top && bound[c] > fresh) {
                    still = false;
                    break;
                }
            bound[top] = fresh;
            if (!still) continue;
            set[i] = cand[top];
            taken[cand[top]] = true;
            pos_apply(&csr, cand[top], D, dw, best, dist, queue);
            total += fresh;
            out->gain[i] = total / n;
            break;
        }
    }
    /* swaps against the best 10 untaken candidates by their last bound */
    {
        double cur = pos_eval(&csr, set, k, D, dw, best, dist, queue);
        for (int32_t pass = 0; pass < opts.max_swap_passes; pass++) {
            bool improved = false;
            int32_t pool[10], np = 0;
            {
                /* pick the 10 highest bounds among untaken candidates */
                for (int32_t c = 0; c < C; c++) {
                    if (taken[cand[c]]) continue;
                    if (np < 10) {
                        pool[np++] = c;
                    } else {
                        int32_t lo = 0;
                        for (int32_t j = 1; j < np; j++)
                            if (bound[pool[j]] < bound[pool[lo]]) lo = j;
                        if (bound[c] > bound[pool[lo]]) pool[lo] = c;
                    }
                }
            }
            for (int32_t i = 0; i < k; i++) {
                /*
                 * best over the set without position i, once per i; each swap is
                 * then one BFS.  max() is exact and the sum runs over v in the
                 * same order, so val is bit for bit pos_eval() of the swapped set.
                 */
                for (int32_t v = 0; v < n; v++)
                    excl[v] = 0;
                for (int32_t q = 0; q < k; q++)
                    if (q != i) pos_apply(&csr, set[q], D, dw, excl, dist, queue);
                for (int32_t j = 0; j < np; j++) {
                    int32_t v = cand[pool[j]];
                    if (taken[v]) continue;
                    int32_t u = set[i];
                    set[i] = v;
                    memcpy(best, excl, sizeof(double) * (size_t)n);
                    pos_apply(&csr, v, D, dw, best, dist, queue);
                    double val = 0;
                    for (int32_t x = 0; x < n; x++)
                        val += best[x];
                    if (val > cur + 1e-9) {
                        cur = val;
                        taken[u] = false;
                        taken[v] = true;
                        out->swaps++;
                        improved = true;
                        break;
                    }
                    set[i] = u;
                }
            }
            if (!improved) break;
        }
        out->objective = cur / n;
    }
    for (int32_t i = 0; i < k; i++)
        out->members[i] = g->net_member[set[i]];
    goto out;
oom:
    err = fora_diag_set(diag, FORA_ENOMEM, "out of memory for KPP-Pos on %d members", n);
out:
    fora__csr_destroy(&csr);
    free(best);
    free(excl);
    free(bound);
    free(deg);
    free(dist);
    free(queue);
    free(cand);
    free(set);
    free(prio);
    free(taken);
    if (err) fora_kpp_destroy(out);
    return err;
}

/* ---------------------------------------------------------------------- */
/* role validation                                                          */
/* ---------------------------------------------------------------------- */

int32_t fora_staff_labels(const fora_snapshot_t *s, const char *labels, bool *out)
{
    if (!labels) labels = "administrator,admin,moderator,staff";
    int32_t count = 0;
    for (int32_t i = 0; i < s->members.n; i++) {
        const char *st = fora_snapshot_member_status(s, i);
        size_t sl = strlen(st);
        bool hit = false;
        const char *p = labels;
        while (*p && !hit) {
            const char *end = strchr(p, ',');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            if (len == sl && len > 0 && strncasecmp(p, st, len) == 0) hit = true;
            p = end ? end + 1 : p + len;
        }
        out[i] = hit;
        count += hit;
    }
    return count;
}

fora_err_t fora_roc_auc(const double *x, const bool *y, int32_t n, double *auc, fora_diag_t *diag)
{
    int64_t pos = 0;
    for (int32_t i = 0; i < n; i++)
        pos += y[i];
    int64_t neg = n - pos;
    if (pos == 0 || neg == 0) {
        *auc = NAN;
        return FORA_OK;
    }
    xi_t *t = sorted_xi(x, n);
    if (!t) return fora_diag_set(diag, FORA_ENOMEM, "out of memory ranking %d values", n);
    double rsum = 0;
    for (int32_t a = 0; a < n;) {
        int32_t b = a;
        while (b < n && t[b].x == t[a].x)
            b++;
        double mid = (a + 1 + b) / 2.0; /* midrank of 1-based ranks a+1..b */
        for (int32_t j = a; j < b; j++)
            if (y[t[j].i]) rsum += mid;
        a = b;
    }
    free(t);
    *auc = (rsum - (double)pos * (pos + 1) / 2.0) / ((double)pos * (double)neg);
    return FORA_OK;
}

static fora_err_t score_row(const double *x, const bool *y, int32_t n, int32_t k, int32_t *order,
                            fora_validation_row_t *row, fora_diag_t *diag)
{
    fora_err_t err = fora_roc_auc(x, y, n, &row->auc, diag);
    if (err) return err;
    if ((err = fora__order_desc(x, n, order, diag)) != FORA_OK) return err;
    int32_t hits = 0;
    for (int32_t r = 0; r < k && r < n; r++)
        hits += y[order[r]];
    row->hits_k = hits;
    row->precision_k = k > 0 ? (double)hits / k : 0;
    return FORA_OK;
}

fora_err_t fora_validate_roles(const fora_centrality_t *c, const fora_composite_t *composite,
                               const bool *is_staff, int32_t k, fora_validation_t *out,
                               fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    int32_t n = c->n;
    memset(out, 0, sizeof(*out));
    out->n_members = n;
    for (int32_t i = 0; i < n; i++)
        out->n_staff += is_staff[i];
    out->k = k > 0 ? (k < n ? k : n) : out->n_staff;
    double *x = malloc(sizeof(double) * ((size_t)n + 1));
    int32_t *order = malloc(sizeof(int32_t) * ((size_t)n + 1));
    if (!x || !order) {
        err = fora_diag_set(diag, FORA_ENOMEM, "out of memory validating %d members", n);
        goto out;
    }
    for (int m = 0; m < FORA_METRIC_COUNT; m++) {
        for (int32_t i = 0; i < n; i++)
            x[i] = fora_metric_value(c, (fora_metric_t)m, i);
        if ((err = score_row(x, is_staff, n, out->k, order, &out->metric[m], diag))) goto out;
    }
    if (composite) {
        if ((err = score_row(composite->score, is_staff, n, out->k, order, &out->composite, diag)))
            goto out;
    }
out:
    free(x);
    free(order);
    return err;
}
