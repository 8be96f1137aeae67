/*
 * analysis/centrality.c - per-member activity and network metrics
 * (fora/centrality.h), plus the shared helpers of kp_internal.h.
 */
#include "fora/centrality.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fora/idmap.h"
#include "kp_internal.h"

/* ---------------------------------------------------------------------- */
/* shared helpers                                                           */
/* ---------------------------------------------------------------------- */

fora_err_t fora__csr_build(const igraph_t *g, const igraph_vector_t *weights, fora__csr_t *out,
                           fora_diag_t *diag)
{
    memset(out, 0, sizeof(*out));
    int32_t n = (int32_t)igraph_vcount(g);
    int64_t m = (int64_t)igraph_ecount(g);
    out->n = n;
    out->m = m;
    out->off = calloc((size_t)n + 1, sizeof(int64_t));
    out->adj = malloc(sizeof(int32_t) * (size_t)(2 * m + 1));
    if (weights) out->w = malloc(sizeof(double) * (size_t)(2 * m + 1));
    if (!out->off || !out->adj || (weights && !out->w)) {
        fora__csr_destroy(out);
        return fora_diag_set(diag, FORA_ENOMEM, "out of memory building an adjacency of %lld edges",
                             (long long)m);
    }
    for (int64_t e = 0; e < m; e++) {
        out->off[IGRAPH_FROM(g, e) + 1]++;
        out->off[IGRAPH_TO(g, e) + 1]++;
    }
    for (int32_t v = 0; v < n; v++)
        out->off[v + 1] += out->off[v];
    int64_t *pos = malloc(sizeof(int64_t) * ((size_t)n + 1));
    if (!pos) {
        fora__csr_destroy(out);
        return fora_diag_set(diag, FORA_ENOMEM, "out of memory building an adjacency");
    }
    memcpy(pos, out->off, sizeof(int64_t) * ((size_t)n + 1));
    for (int64_t e = 0; e < m; e++) {
        int32_t a = (int32_t)IGRAPH_FROM(g, e), b = (int32_t)IGRAPH_TO(g, e);
        double w = weights ? VECTOR(*weights)[e] : 1.0;
        if (out->w) out->w[pos[a]] = w;
        out->adj[pos[a]++] = b;
        if (out->w) out->w[pos[b]] = w;
        out->adj[pos[b]++] = a;
    }
    free(pos);
    return FORA_OK;
}

void fora__csr_destroy(fora__csr_t *c)
{
    free(c->off);
    free(c->adj);
    free(c->w);
    memset(c, 0, sizeof(*c));
}

int32_t fora__bfs(const fora__csr_t *c, int32_t src, const bool *removed, int32_t maxd,
                  int32_t *dist, int32_t *queue)
{
    int32_t head = 0, tail = 0;
    dist[src] = 0;
    queue[tail++] = src;
    while (head < tail) {
        int32_t v = queue[head++];
        int32_t dv = dist[v];
        if (maxd >= 0 && dv >= maxd) continue;
        for (int64_t p = c->off[v]; p < c->off[v + 1]; p++) {
            int32_t u = c->adj[p];
            if (dist[u] >= 0 || (removed && removed[u])) continue;
            dist[u] = dv + 1;
            queue[tail++] = u;
        }
    }
    return tail;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

fora_err_t fora__sample(int32_t n, int32_t k, int32_t *out, fora_diag_t *diag)
{
    if (k > n) k = n;
    int32_t *p = malloc(sizeof(int32_t) * ((size_t)n + 1));
    if (!p) return fora_diag_set(diag, FORA_ENOMEM, "out of memory sampling %d of %d", k, n);
    for (int32_t i = 0; i < n; i++)
        p[i] = i;
    for (int32_t i = 0; i < k; i++) {
        int32_t j = (int32_t)igraph_rng_get_integer(igraph_rng_default(), i, n - 1);
        int32_t t = p[i];
        p[i] = p[j];
        p[j] = t;
    }
    memcpy(out, p, sizeof(int32_t) * (size_t)k);
    free(p);
    qsort(out, (size_t)k, sizeof(int32_t), cmp_i32);
    return FORA_OK;
}

typedef struct {
    double key;
    int32_t i;
} keyidx_t;

static int cmp_keyidx_desc(const void *a, const void *b)
{
    const keyidx_t *x = a, *y = b;
    if (x->key > y->key) return -1;
    if (x->key < y->key) return 1;
    return (x->i > y->i) - (x->i < y->i);
}

fora_err_t fora__order_desc(const double *key, int32_t n, int32_t *order, fora_diag_t *diag)
{
    keyidx_t *t = malloc(sizeof(keyidx_t) * ((size_t)n + 1));
    if (!t) return fora_diag_set(diag, FORA_ENOMEM, "out of memory ordering %d values", n);
    for (int32_t i = 0; i < n; i++) {
        t[i].key = isnan(key[i]) ? -INFINITY : key[i];
        t[i].i = i;
    }
    qsort(t, (size_t)n, sizeof(keyidx_t), cmp_keyidx_desc);
    for (int32_t i = 0; i < n; i++)
        order[i] = t[i].i;
    free(t);
    return FORA_OK;
}

/* ---------------------------------------------------------------------- */
/* options                                                                  */
/* ---------------------------------------------------------------------- */

void fora_centrality_opts_init(fora_centrality_opts_t *o)
{
    fora_centrality_opts_t d = FORA_CENTRALITY_OPTS_INIT;
    *o = d;
}

/* ---------------------------------------------------------------------- */
/* network subgraphs                                                        */
/* ---------------------------------------------------------------------- */

void fora_netgraph_destroy(fora_netgraph_t *g)
{
    if (g->net_member) {
        fora_wgraph_destroy(&g->r);
        fora_wgraph_destroy(&g->u);
    }
    free(g->net_member);
    free(g->member_net);
    memset(g, 0, sizeof(*g));
}

fora_err_t fora_netgraph_build(const fora_snapshot_t *s, const fora_graph_opts_t *o,
                               fora_netgraph_t *out, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    fora_graph_opts_t go;
    fora_wgraph_t full;
    bool have_full = false, have_r = false;
    igraph_vector_int_t edges;
    bool have_edges = false;
    memset(out, 0, sizeof(*out));
    if (o)
        go = *o;
    else
        fora_graph_opts_init(&go);
    go.keep_self_loops = false;

    if ((err = fora_graph_reply(s, &go, &full, diag)) != FORA_OK) goto out;
    have_full = true;
    int32_t M = s->members.n;
    out->n_members = M;
    out->member_net = malloc(sizeof(int32_t) * ((size_t)M + 1));
    out->net_member = malloc(sizeof(int32_t) * ((size_t)M + 1));
    if (!out->member_net || !out->net_member) {
        err = fora_diag_set(diag, FORA_ENOMEM, "out of memory mapping %d members", M);
        goto out;
    }
    for (int32_t i = 0; i < M; i++)
        out->member_net[i] = -1;
    int64_t m = igraph_ecount(&full.graph);
    for (int64_t e = 0; e < m; e++) {
        out->member_net[IGRAPH_FROM(&full.graph, e)] = 0;
        out->member_net[IGRAPH_TO(&full.graph, e)] = 0;
    }
    int32_t n = 0;
    for (int32_t i = 0; i < M; i++)
        if (out->member_net[i] == 0) {
            out->member_net[i] = n;
            out->net_member[n++] = i;
        }
    out->n = n;
    if ((err = fora_err_from_igraph(igraph_vector_int_init(&edges, 2 * m), diag, "reply edges")))
        goto out;
    have_edges = true;
    for (int64_t e = 0; e < m; e++) {
        VECTOR(edges)[2 * e] = out->member_net[IGRAPH_FROM(&full.graph, e)];
        VECTOR(edges)[2 * e + 1] = out->member_net[IGRAPH_TO(&full.graph, e)];
    }
    if ((err = fora_err_from_igraph(igraph_create(&out->r.graph, &edges, n, IGRAPH_DIRECTED), diag,
                                    "network reply graph")))
        goto out;
    if ((err = fora_err_from_igraph(igraph_vector_init_copy(&out->r.weight, &full.weight), diag,
                                    "network reply weights"))) {
        igraph_destroy(&out->r.graph);
        goto out;
    }
    have_r = true;
    out->total_replies = igraph_vector_sum(&out->r.weight);
    if ((err = fora_graph_undirected(&out->r, &out->u, diag)) != FORA_OK) goto out;
out:
    if (have_edges) igraph_vector_int_destroy(&edges);
    if (have_full) fora_wgraph_destroy(&full);
    if (err != FORA_OK) {
        if (have_r) fora_wgraph_destroy(&out->r);
        free(out->member_net);
        free(out->net_member);
        memset(out, 0, sizeof(*out));
    }
    return err;
}

/* ---------------------------------------------------------------------- */
/* sampled betweenness                                                      */
/* ---------------------------------------------------------------------- */

/*
 * Brandes' dependency accumulation from each source in src[0..k) over the
 * unweighted adjacency a, skipping removed vertices: acc[v] += delta_s(v).
 * O(k (n + m)) time, O(n) scratch.  (igraph 0.10.2's betweenness_subset
 * gives the same sums but was measured 19x slower than one BFS per source
 * on the mathoverflow graph, so the sampled estimator runs here.)
 */
fora_err_t fora__brandes(const fora__csr_t *a, const bool *removed, const int32_t *src, int32_t k,
                         double *acc, fora_diag_t *diag)
{
    return fora__brandes_paths(a, removed, src, k, acc, NULL, diag);
}

/* one vertex's Brandes state in one cache line's worth: dist -1 unseen, -2 removed */
typedef struct {
    double sigma;
    double delta;
    int32_t dist;
} bnode_t;

fora_err_t fora__brandes_paths(const fora__csr_t *a, const bool *removed, const int32_t *src,
                               int32_t k, double *acc, fora__pathsums_t *ps, fora_diag_t *diag)
{
    int32_t n = a->n;
    bnode_t *b = malloc(sizeof(bnode_t) * ((size_t)n + 1));
    int32_t *queue = malloc(sizeof(int32_t) * ((size_t)n + 1));
    if (!b || !queue) {
        free(b);
        free(queue);
        return fora_diag_set(diag, FORA_ENOMEM, "out of memory for betweenness");
    }
    for (int32_t v = 0; v < n; v++) {
        b[v].dist = (removed && removed[v]) ? -2 : -1;
        b[v].sigma = 0;
        b[v].delta = 0;
    }
    for (int32_t i = 0; i < k; i++) {
        int32_t s = src[i];
        if (b[s].dist == -2) continue;
        int32_t head = 0, tail = 0;
        b[s].dist = 0;
        b[s].sigma = 1;
        queue[tail++] = s;
        while (head < tail) {
            int32_t v = queue[head++];
            int32_t dn = b[v].dist + 1;
            double sv = b[v].sigma;
            for (int64_t p = a->off[v]; p < a->off[v + 1]; p++) {
                bnode_t *u = &b[a->adj[p]];
                if (u->dist == -1) {
                    u->dist = dn;
                    queue[tail++] = a->adj[p];
                }
                if (u->dist == dn) u->sigma += sv;
            }
        }
        for (int32_t j = tail - 1; j >= 0; j--) {
            int32_t w = queue[j];
            int32_t dp = b[w].dist - 1;
            double coef = (1.0 + b[w].delta) / b[w].sigma;
            for (int64_t p = a->off[w]; p < a->off[w + 1]; p++) {
                bnode_t *v = &b[a->adj[p]];
                if (v->dist == dp && dp >= 0) v->delta += v->sigma * coef;
            }
            if (w != s) acc[w] += b[w].delta;
        }
        if (ps) {
            for (int32_t j = 1; j < tail; j++) {
                int32_t v = queue[j];
                ps->hsum[v] += 1.0 / b[v].dist;
                ps->dsum[v] += b[v].dist;
                ps->dcnt[v]++;
            }
        }
        for (int32_t j = 0; j < tail; j++) {
            bnode_t *w = &b[queue[j]];
            w->dist = -1;
            w->sigma = 0;
            w->delta = 0;
        }
    }
    free(b);
    free(queue);
    return FORA_OK;
}

fora_err_t fora_betweenness_sampled(const igraph_t *g, int32_t k, igraph_vector_t *res,
                                    fora_diag_t *diag)
{
    int32_t n = (int32_t)igraph_vcount(g);
    fora_err_t err = FORA_OK;
    if (k >= n || n < 3) {
        return fora_err_from_igraph(igraph_betweenness(g, res, igraph_vss_all(), false, NULL), diag,
                                    "betweenness");
    }
    fora__csr_t a = {0};
    int32_t *src = malloc(sizeof(int32_t) * ((size_t)k + 1));
    double *acc = calloc((size_t)n + 1, sizeof(double));
    if (!src || !acc) {
        err = fora_diag_set(diag, FORA_ENOMEM, "out of memory sampling sources");
        goto out;
    }
    if ((err = fora__sample(n, k, src, diag)) != FORA_OK) goto out;
    if ((err = fora__csr_build(g, NULL, &a, diag)) != FORA_OK) goto out;
    if ((err = fora__brandes(&a, NULL, src, k, acc, diag)) != FORA_OK) goto out;
    if ((err = fora_err_from_igraph(igraph_vector_resize(res, n), diag, "betweenness"))) goto out;
    /* undirected: each pair once (1/2), scaled from k sources to n */
    for (int32_t v = 0; v < n; v++)
        VECTOR(*res)[v] = acc[v] * 0.5 * (double)n / (double)k;
out:
    fora__csr_destroy(&a);
    free(src);
    free(acc);
    return err;
}

/* ---------------------------------------------------------------------- */
/* the metrics                                                              */
/* ---------------------------------------------------------------------- */

void fora_centrality_destroy(fora_centrality_t *c)
{
    free(c->posts);
    free(c->threads_started);
    free(c->threads);
    free(c->boards);
    free(c->in_network);
    free(c->in_degree);
    free(c->out_degree);
    free(c->in_strength);
    free(c->out_strength);
    free(c->pagerank);
    free(c->betweenness);
    free(c->betweenness_norm);
    free(c->closeness);
    free(c->closeness_wf);
    free(c->harmonic);
    free(c->eigenvector);
    free(c->coreness);
    free(c->constraint);
    free(c->effective_size);
    free(c->clustering);
    free(c->community);
    free(c->component);
    memset(c, 0, sizeof(*c));
}

static fora_err_t check_opts(const fora_centrality_opts_t *o, fora_diag_t *diag)
{
    if (!(o->damping > 0 && o->damping < 1))
        return fora_diag_set(diag, FORA_EINVAL, "damping must be in (0, 1), not %g", o->damping);
    if (!(o->delta > 0 && o->delta < 1))
        return fora_diag_set(diag, FORA_EINVAL, "delta must be in (0, 1), not %g", o->delta);
    if (!(o->resolution > 0 && isfinite(o->resolution)))
        return fora_diag_set(diag, FORA_EINVAL, "resolution must be a positive number, not %g",
                             o->resolution);
    if (o->exact_max < 1)
        return fora_diag_set(diag, FORA_EINVAL, "exact_max must be at least 1, not %d",
                             o->exact_max);
    if (o->samples < 1)
        return fora_diag_set(diag, FORA_EINVAL, "samples must be at least 1, not %d", o->samples);
    return FORA_OK;
}

/* Activity counts for every member. */
static fora_err_t activity(const fora_snapshot_t *s, const fora_graph_opts_t *go,
                           fora_centrality_t *c, fora_diag_t *diag)
{
    int32_t lo, hi;
    fora_snapshot_post_window(s, go->from, go->to, &lo, &hi);
    for (int32_t p = lo; p < hi; p++) {
        int32_t a = s->posts.author[p];
        if (a >= 0) c->posts[a]++;
    }
    for (int32_t t = 0; t < s->threads.n; t++) {
        int32_t st = s->threads.starter[t];
        int64_t at = s->threads.created_at[t];
        if (st < 0) continue;
        if (go->from != FORA_TIME_NONE && at < go->from) continue;
        if (go->to != FORA_TIME_NONE && at >= go->to) continue;
        c->threads_started[st]++;
    }
    /* distinct threads and boards: sort packed (member, x) keys, count runs */
    size_t np = (size_t)(hi - lo);
    uint64_t *k1 = malloc(sizeof(uint64_t) * (np + 1));
    uint64_t *k2 = malloc(sizeof(uint64_t) * (np + 1));
    uint64_t *tmp = malloc(sizeof(uint64_t) * (np + 1));
    if (!k1 || !k2 || !tmp) {
        free(k1);
        free(k2);
        free(tmp);
        return fora_diag_set(diag, FORA_ENOMEM, "out of memory counting threads per member");
    }
    size_t q = 0;
    for (int32_t p = lo; p < hi; p++) {
        int32_t a = s->posts.author[p];
        if (a < 0) continue;
        int32_t t = s->posts.thread[p];
        k1[q] = ((uint64_t)(uint32_t)a << 32) | (uint32_t)t;
        k2[q] = ((uint64_t)(uint32_t)a << 32) | (uint32_t)s->threads.board[t];
        q++;
    }
    fora_radix_sort_u64(k1, NULL, q, tmp, NULL);
    fora_radix_sort_u64(k2, NULL, q, tmp, NULL);
    for (size_t i = 0; i < q; i++) {
        if (i == 0 || k1[i] != k1[i - 1]) c->threads[k1[i] >> 32]++;
        if (i == 0 || k2[i] != k2[i - 1]) c->boards[k2[i] >> 32]++;
    }
    free(k1);
    free(k2);
    free(tmp);
    return FORA_OK;
}

/*
 * Burt's constraint and effective size on the weighted undirected adjacency
 * (NetworkX's definitions, with mutual weights w_ij + w_ji = 2 w_ij on an
 * undirected graph, which cancel in the proportions):
 *   p_ij = w_ij / S_i, S_i = sum_k w_ik, m_jq = w_jq / max_k w_jk,
 *   constraint(i) = sum_{j in N(i)} (p_ij + sum_{q in N(i), q != j} p_iq p_qj)^2
 *   ES(i)         = sum_{j in N(i)} (1 - sum_{q in N(i), q != j} p_iq m_jq).
 * One pass over the neighbours' neighbours: O(sum of squared degrees).
 * (igraph_constraint gives the same constraint but was 4x slower.)
 */
static fora_err_t brokerage(const fora__csr_t *a, double *con, double *es, fora_diag_t *diag)
{
    int32_t n = a->n;
    double *mark = malloc(sizeof(double) * ((size_t)n + 1));
    double *maxw = malloc(sizeof(double) * ((size_t)n + 1));
    double *str = malloc(sizeof(double) * ((size_t)n + 1));
    if (!mark || !maxw || !str) {
        free(mark);
        free(maxw);
        free(str);
        return fora_diag_set(diag, FORA_ENOMEM, "out of memory for constraint");
    }
    for (int32_t v = 0; v < n; v++) {
        mark[v] = 0;
        double mx = 0, tot = 0;
        for (int64_t p = a->off[v]; p < a->off[v + 1]; p++) {
            if (a->w[p] > mx) mx = a->w[p];
            tot += a->w[p];
        }
        maxw[v] = mx;
        str[v] = tot;
    }
    for (int32_t i = 0; i < n; i++) {
        double tot = str[i];
        if (!(tot > 0)) {
            con[i] = NAN;
            es[i] = 0;
            continue;
        }
        for (int64_t p = a->off[i]; p < a->off[i + 1]; p++)
            mark[a->adj[p]] = a->w[p] / tot;
        double c = 0, e = 0;
        for (int64_t p = a->off[i]; p < a->off[i + 1]; p++) {
            int32_t j = a->adj[p];
            double indirect = 0, red = 0;
            for (int64_t r = a->off[j]; r < a->off[j + 1]; r++) {
                int32_t q = a->adj[r];
                if (q == i || mark[q] <= 0) continue;
                indirect += mark[q] * (a->w[r] / str[q]);
                red += mark[q] * a->w[r] / maxw[j];
            }
            double x = mark[j] + indirect;
            c += x * x;
            e += 1.0 - red;
        }
        con[i] = c;
        es[i] = e;
        for (int64_t p = a->off[i]; p < a->off[i + 1]; p++)
            mark[a->adj[p]] = 0;
    }
    free(mark);
    free(maxw);
    free(str);
    return FORA_OK;
}

/*
 * Weighted PageRank of the directed graph g by power iteration on its
 * in-adjacency: x' = (1-d)/n + d (D/n + sum_{u->v} x_u w_uv / s_u), with
 * D the rank on dangling members (no out-weight) spread uniformly, the
 * teleport NetworkX and igraph's PRPACK use.
 * Stopping rule: the L1 change of one plain power step is below 1e-15.  The
 * step map G is a d-contraction in L1 on the simplex, so whatever the
 * iterate came from, ||x' - x*||_1 <= d/(1-d) * 1e-15 (< 5.7e-15 at 0.85).
 * Acceleration (Haveliwala & Kamvar's power extrapolation for the
 * eigenvalues +-d of closed and 2-periodic classes): when the change fell
 * by less than half in the last step, every 10th step replaces x_k by
 * (x_k - d^2 x_{k-2}) / (1 - d^2), clipped at 0 and renormalised; the stopping
 * test is still a plain power step, so the bound above holds.
 * At most 100000 steps (*converged says whether the rule was met).
 * O(iterations (n + m)).
 */
static fora_err_t pagerank_power(const igraph_t *g, const igraph_vector_t *w, double d, double *x,
                                 bool *converged, fora_diag_t *diag)
{
    int32_t n = (int32_t)igraph_vcount(g);
    int64_t m = (int64_t)igraph_ecount(g);
    int64_t *off = calloc((size_t)n + 1, sizeof(int64_t));
    int32_t *src = malloc(sizeof(int32_t) * ((size_t)m + 1));
    double *coef = malloc(sizeof(double) * ((size_t)m + 1));
    double *sout = calloc((size_t)n + 1, sizeof(double));
    double *nx = malloc(sizeof(double) * ((size_t)n + 1));
    double *x1 = malloc(sizeof(double) * ((size_t)n + 1));
    double *x2 = malloc(sizeof(double) * ((size_t)n + 1));
    int32_t *dl = malloc(sizeof(int32_t) * ((size_t)n + 1));
    int64_t *pos = malloc(sizeof(int64_t) * ((size_t)n + 1));
    fora_err_t err = FORA_OK;
    *converged = false;
    if (!off || !src || !coef || !sout || !nx || !x1 || !x2 || !dl || !pos) {
        err = fora_diag_set(diag, FORA_ENOMEM, "out of memory for pagerank");
        goto out;
    }
    for (int64_t e = 0; e < m; e++) {
        off[IGRAPH_TO(g, e) + 1]++;
        sout[IGRAPH_FROM(g, e)] += VECTOR(*w)[e];
    }
    for (int32_t v = 0; v < n; v++)
        off[v + 1] += off[v];
    memcpy(pos, off, sizeof(int64_t) * (size_t)n);
    for (int64_t e = 0; e < m; e++) {
        int32_t a = (int32_t)IGRAPH_FROM(g, e), b = (int32_t)IGRAPH_TO(g, e);
        src[pos[b]] = a;
        coef[pos[b]++] = VECTOR(*w)[e] / sout[a];
    }
    int32_t nd = 0;
    for (int32_t v = 0; v < n; v++) {
        x[v] = x1[v] = x2[v] = 1.0 / n;
        if (!(sout[v] > 0)) dl[nd++] = v;
    }
    double prev = 1;
    for (int it = 0; it < 100000; it++) {
        double dangling = 0;
        for (int32_t i = 0; i < nd; i++)
            dangling += x[dl[i]];
        double base = (1.0 - d) / n + d * dangling / n, diff = 0, sum = 0;
        for (int32_t v = 0; v < n; v++) {
            double acc = 0;
            for (int64_t p = off[v]; p < off[v + 1]; p++)
                acc += x[src[p]] * coef[p];
            nx[v] = base + d * acc;
            sum += nx[v];
        }
        double inv = 1.0 / sum; /* guards against drift; the sum is 1 up to rounding */
        for (int32_t v = 0; v < n; v++) {
            double y = nx[v] * inv;
            diff += fabs(y - x[v]);
            x2[v] = x1[v];
            x1[v] = x[v];
            x[v] = y;
        }
        if (diff < 1e-15) {
            *converged = true;
            break;
        }
        double ratio = diff / prev;
        prev = diff;
        if (it >= 2 && (it + 1) % 10 == 0 && ratio > 0.5) {
            double c = d * d, s = 0;
            for (int32_t v = 0; v < n; v++) {
                double y = (x[v] - c * x2[v]) / (1.0 - c);
                x[v] = y > 0 ? y : 0;
                s += x[v];
            }
            for (int32_t v = 0; v < n; v++)
                x[v] /= s;
        }
    }
out:
    free(off);
    free(src);
    free(coef);
    free(sout);
    free(nx);
    free(x1);
    free(x2);
    free(dl);
    free(pos);
    return err;
}

typedef struct {
    int32_t size;
    int32_t first;
    int32_t label;
} commsz_t;

static int cmp_commsz(const void *a, const void *b)
{
    const commsz_t *x = a, *y = b;
    if (x->size != y->size) return x->size > y->size ? -1 : 1;
    return (x->first > y->first) - (x->first < y->first);
}

/* Relabels membership[0..n) by decreasing class size (ties: smallest member first). */
static fora_err_t relabel(igraph_vector_int_t *memb, int32_t n, int32_t *nclass, fora_diag_t *diag)
{
    int32_t nc = 0;
    for (int32_t v = 0; v < n; v++)
        if (VECTOR(*memb)[v] + 1 > nc) nc = (int32_t)VECTOR(*memb)[v] + 1;
    commsz_t *cs = calloc((size_t)nc + 1, sizeof(commsz_t));
    int32_t *map = malloc(sizeof(int32_t) * ((size_t)nc + 1));
    if (!cs || !map) {
        free(cs);
        free(map);
        return fora_diag_set(diag, FORA_ENOMEM, "out of memory relabelling");
    }
    for (int32_t l = 0; l < nc; l++) {
        cs[l].label = l;
        cs[l].first = n;
    }
    for (int32_t v = 0; v < n; v++) {
        int32_t l = (int32_t)VECTOR(*memb)[v];
        cs[l].size++;
        if (v < cs[l].first) cs[l].first = v;
    }
    qsort(cs, (size_t)nc, sizeof(commsz_t), cmp_commsz);
    int32_t used = 0;
    for (int32_t l = 0; l < nc; l++) {
        map[cs[l].label] = l;
        if (cs[l].size > 0) used++;
    }
    for (int32_t v = 0; v < n; v++)
        VECTOR(*memb)[v] = map[VECTOR(*memb)[v]];
    free(cs);
    free(map);
    *nclass = used;
    return FORA_OK;
}

/*
 * Sampled closeness, closeness_wf and harmonic (see the header) from the
 * path sums the betweenness BFS of the k sources src accumulated (the same
 * sample); small components (<= 64 members) exactly.
 */
static fora_err_t sampled_paths(const fora__csr_t *a, const igraph_vector_int_t *comp,
                                const igraph_vector_int_t *csize, const int32_t *src, int32_t k,
                                const fora__pathsums_t *ps, double *clo, double *clo_wf,
                                double *harm, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    int32_t n = a->n;
    int32_t nc = (int32_t)igraph_vector_int_size(csize);
    int32_t *dist = malloc(sizeof(int32_t) * ((size_t)n + 1));
    int32_t *queue = malloc(sizeof(int32_t) * ((size_t)n + 1));
    bool *is_src = calloc((size_t)n + 1, sizeof(bool));
    int32_t *csrc = calloc((size_t)nc + 1, sizeof(int32_t));
    const double *hsum = ps->hsum, *dsum = ps->dsum;
    const int32_t *dcnt = ps->dcnt;
    if (!dist || !queue || !is_src || !csrc) {
        err = fora_diag_set(diag, FORA_ENOMEM, "out of memory for sampled closeness");
        goto out;
    }
    for (int32_t v = 0; v < n; v++)
        dist[v] = -1;
    for (int32_t i = 0; i < k; i++) {
        is_src[src[i]] = true;
        csrc[VECTOR(*comp)[src[i]]]++;
    }
    for (int32_t v = 0; v < n; v++) {
        int32_t others = k - (is_src[v] ? 1 : 0);
        harm[v] = others > 0 ? hsum[v] / others : 0;
        int32_t r = (int32_t)VECTOR(*csize)[VECTOR(*comp)[v]];
        if (r <= 64) continue; /* exact below */
        double md = 0;
        if (dcnt[v] > 0) {
            md = dsum[v] / dcnt[v];
        } else if (is_src[v] && csrc[VECTOR(*comp)[v]] == 1) {
            md = 0; /* the only source of its component: its own BFS is exact */
        }
        clo[v] = md > 0 ? 1.0 / md : 0;
        clo_wf[v] = n > 1 ? clo[v] * (double)(r - 1) / (double)(n - 1) : 0;
    }
    /*
     * Exact values where the estimate has nothing to go on: every member of
     * a component of at most 64 members, the sources that are alone in their
     * component (their own BFS), and components without any sampled source.
     */
    for (int32_t v = 0; v < n; v++) {
        int32_t cv = (int32_t)VECTOR(*comp)[v];
        int32_t r = (int32_t)VECTOR(*csize)[cv];
        bool exact = r <= 64 || csrc[cv] == 0 || (is_src[v] && csrc[cv] == 1);
        if (!exact) continue;
        int32_t cnt = fora__bfs(a, v, NULL, -1, dist, queue);
        double sd = 0;
        for (int32_t j = 1; j < cnt; j++)
            sd += dist[queue[j]];
        for (int32_t j = 0; j < cnt; j++)
            dist[queue[j]] = -1;
        clo[v] = sd > 0 ? (double)(cnt - 1) / sd : 0;
        clo_wf[v] = n > 1 ? clo[v] * (double)(cnt - 1) / (double)(n - 1) : 0;
    }
out:
    free(dist);
    free(queue);
    free(is_src);
    free(csrc);
    return err;
}

/* y = W x on the weighted undirected adjacency (ARPACK's operator) */
static igraph_error_t adj_matvec(igraph_real_t *to, const igraph_real_t *from, int n, void *extra)
{
    const fora__csr_t *a = extra;
    for (int32_t v = 0; v < n; v++) {
        double acc = 0;
        for (int64_t p = a->off[v]; p < a->off[v + 1]; p++)
            acc += a->w[p] * from[a->adj[p]];
        to[v] = acc;
    }
    return IGRAPH_SUCCESS;
}

/*
 * Leading eigenvector of the weighted adjacency a by ARPACK's implicitly
 * restarted Lanczos (igraph_arpack_rssolve, "LA", nev 1), started from the
 * strengths as igraph_eigenvector_centrality() does, on our adjacency
 * instead of igraph's (whose per-call setup cost more than the solve), with
 * tolerance 1e-13: stops when ||W x - lambda x|| <= 1e-13 |lambda| (ARPACK's
 * Ritz residual).  res gets x scaled so its entry of largest modulus is 1.
 * Returns igraph's error code (ENOMEM, or an ARPACK failure).
 * O(restarts * ncv * (n + m)); about 20-30 products on the bench graphs.
 */
static igraph_error_t eigenvector_arpack(const fora__csr_t *a, igraph_vector_t *res)
{
    int32_t n = a->n;
    igraph_arpack_options_t ao;
    igraph_matrix_t vecs;
    igraph_vector_t vals;
    igraph_error_t ie;
    igraph_arpack_options_init(&ao);
    ao.n = n;
    ao.nev = 1;
    ao.which[0] = 'L';
    ao.which[1] = 'A';
    ao.start = 1;
    ao.tol = 1e-13;
    ao.mxiter = 3000;
    if ((ie = igraph_matrix_init(&vecs, n, 1)) != IGRAPH_SUCCESS) return ie;
    if ((ie = igraph_vector_init(&vals, 1)) != IGRAPH_SUCCESS) {
        igraph_matrix_destroy(&vecs);
        return ie;
    }
    for (int32_t v = 0; v < n; v++) {
        double st = 0;
        for (int64_t p = a->off[v]; p < a->off[v + 1]; p++)
            st += a->w[p];
        MATRIX(vecs, v, 0) = st;
    }
    ie = igraph_arpack_rssolve(adj_matvec, (void *)a, &ao, NULL, &vals, &vecs);
    if (ie == IGRAPH_SUCCESS) ie = igraph_vector_resize(res, n);
    if (ie == IGRAPH_SUCCESS) {
        double mx = 0, piv = 1;
        for (int32_t v = 0; v < n; v++)
            if (fabs(MATRIX(vecs, v, 0)) > mx) {
                mx = fabs(MATRIX(vecs, v, 0));
                piv = MATRIX(vecs, v, 0);
            }
        if (!(mx > 0)) piv = 1;
        for (int32_t v = 0; v < n; v++)
            VECTOR(*res)[v] = MATRIX(vecs, v, 0) / piv;
    }
    igraph_vector_destroy(&vals);
    igraph_matrix_destroy(&vecs);
    return ie;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

#define ALLOC(field, type)                                                                         \
    do {                                                                                           \
        out->field = calloc((size_t)M + 1, sizeof(type));                                          \
        if (!out->field) {                                                                         \
            err = fora_diag_set(diag, FORA_ENOMEM, "out of memory for %d members", M);             \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)

#define IG(call, what)                                                                             \
    do {                                                                                           \
        if ((err = fora_err_from_igraph((call), diag, (what))) != FORA_OK) goto out;               \
    } while (0)

fora_err_t fora_centrality_compute(const fora_snapshot_t *s, const fora_centrality_opts_t *o,
                                   fora_centrality_t *out, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    fora_centrality_opts_t opts;
    fora_netgraph_t ng;
    bool have_ng = false;
    fora__csr_t csr = {0};
    igraph_vector_t vec, w_strength;
    igraph_vector_int_t ivec, memb, csize;
    bool have_vec = false, have_ivec = false, have_memb = false, have_csize = false;
    bool have_ws = false;

    memset(out, 0, sizeof(*out));
    if (o)
        opts = *o;
    else
        fora_centrality_opts_init(&opts);
    if ((err = check_opts(&opts, diag)) != FORA_OK) return err;

    int32_t M = s->members.n;
    out->n = M;
    out->seed = opts.seed;
    out->damping = opts.damping;
    out->delta = opts.delta;
    out->resolution = opts.resolution;
    ALLOC(posts, int64_t);
    ALLOC(threads_started, int64_t);
    ALLOC(threads, int64_t);
    ALLOC(boards, int64_t);
    ALLOC(in_network, bool);
    ALLOC(in_degree, int64_t);
    ALLOC(out_degree, int64_t);
    ALLOC(in_strength, double);
    ALLOC(out_strength, double);
    ALLOC(pagerank, double);
    ALLOC(betweenness, double);
    ALLOC(betweenness_norm, double);
    ALLOC(closeness, double);
    ALLOC(closeness_wf, double);
    ALLOC(harmonic, double);
    ALLOC(eigenvector, double);
    ALLOC(coreness, int64_t);
    ALLOC(constraint, double);
    ALLOC(effective_size, double);
    ALLOC(clustering, double);
    ALLOC(community, int32_t);
    ALLOC(component, int64_t);
    for (int32_t i = 0; i < M; i++) {
        out->constraint[i] = NAN;
        out->community[i] = -1;
        out->component[i] = -1;
    }

    double t0 = now();
    if ((err = activity(s, &opts.graph, out, diag)) != FORA_OK) goto out;
    if ((err = fora_netgraph_build(s, &opts.graph, &ng, diag)) != FORA_OK) goto out;
    have_ng = true;
    int32_t n = ng.n;
    const int32_t *nm = ng.net_member;
    out->n_network = n;
    out->n_edges = igraph_ecount(&ng.r.graph);
    out->n_uedges = igraph_ecount(&ng.u.graph);
    out->samples = n;
    for (int32_t v = 0; v < n; v++)
        out->in_network[nm[v]] = true;
    if (n == 0) goto out;

    /* R: degrees and strengths */
    for (int64_t e = 0; e < out->n_edges; e++) {
        int32_t a = nm[IGRAPH_FROM(&ng.r.graph, e)], b = nm[IGRAPH_TO(&ng.r.graph, e)];
        double w = VECTOR(ng.r.weight)[e];
        out->out_degree[a]++;
        out->in_degree[b]++;
        out->out_strength[a] += w;
        out->in_strength[b] += w;
    }

    IG(igraph_vector_init(&vec, n), "vector");
    have_vec = true;
    IG(igraph_vector_int_init(&ivec, n), "vector");
    have_ivec = true;

    /* PageRank on R */
    out->seconds.graphs = now() - t0;
    t0 = now();
    {
        /* power iteration (faster than PRPACK here); PRPACK if it does not converge */
        double *pr = malloc(sizeof(double) * ((size_t)n + 1));
        bool conv = false;
        if (!pr) {
            err = fora_diag_set(diag, FORA_ENOMEM, "out of memory for pagerank");
            goto out;
        }
        if ((err = pagerank_power(&ng.r.graph, &ng.r.weight, opts.damping, pr, &conv, diag))) {
            free(pr);
            goto out;
        }
        for (int32_t v = 0; v < n && conv; v++)
            out->pagerank[nm[v]] = pr[v];
        free(pr);
        if (!conv) {
            igraph_real_t value;
            IG(igraph_pagerank(&ng.r.graph, IGRAPH_PAGERANK_ALGO_PRPACK, &vec, &value,
                               igraph_vss_all(), true, opts.damping, &ng.r.weight, NULL),
               "pagerank");
            for (int32_t v = 0; v < n; v++)
                out->pagerank[nm[v]] = VECTOR(vec)[v];
        }
    }
    out->seconds.pagerank = now() - t0;
    t0 = now();
    /* components of U, numbered by decreasing size */
    IG(igraph_vector_int_init(&memb, n), "vector");
    have_memb = true;
    IG(igraph_vector_int_init(&csize, 0), "vector");
    have_csize = true;
    {
        igraph_integer_t nco;
        IG(igraph_connected_components(&ng.u.graph, &memb, &csize, &nco, IGRAPH_WEAK),
           "components");
        int32_t ncl;
        if ((err = relabel(&memb, n, &ncl, diag)) != FORA_OK) goto out;
        igraph_vector_int_sort(&csize);
        igraph_vector_int_reverse(&csize);
        for (int32_t v = 0; v < n; v++)
            out->component[nm[v]] = VECTOR(memb)[v];
    }

    igraph_rng_seed(igraph_rng_default(), opts.seed);
    if ((err = fora__csr_build(&ng.u.graph, &ng.u.weight, &csr, diag)) != FORA_OK) goto out;

    /* betweenness, closeness, harmonic on U (hops) */
    bool sampled = n > opts.exact_max;
    out->sampled = sampled;
    if (!sampled) {
        t0 = now();
        IG(igraph_betweenness(&ng.u.graph, &vec, igraph_vss_all(), false, NULL), "betweenness");
        for (int32_t v = 0; v < n; v++)
            out->betweenness[nm[v]] = VECTOR(vec)[v];
        out->seconds.betweenness = now() - t0;
        t0 = now();
        IG(igraph_closeness(&ng.u.graph, &vec, &ivec, NULL, igraph_vss_all(), IGRAPH_ALL, NULL,
                            true),
           "closeness");
        for (int32_t v = 0; v < n; v++) {
            double cl = isnan(VECTOR(vec)[v]) ? 0 : VECTOR(vec)[v];
            out->closeness[nm[v]] = cl;
            out->closeness_wf[nm[v]] = n > 1 ? cl * (double)VECTOR(ivec)[v] / (double)(n - 1) : 0;
        }
        IG(igraph_harmonic_centrality(&ng.u.graph, &vec, igraph_vss_all(), IGRAPH_ALL, NULL, true),
           "harmonic centrality");
        for (int32_t v = 0; v < n; v++)
            out->harmonic[nm[v]] = isnan(VECTOR(vec)[v]) ? 0 : VECTOR(vec)[v];
        out->seconds.paths = now() - t0;
    } else {
        int32_t k = opts.samples < n ? opts.samples : n;
        out->samples = k;
        t0 = now();
        /*
         * One sample of k sources for betweenness, closeness and harmonic:
         * Brandes' BFS from each source also sums 1/d and d for the path
         * metrics (drawn exactly as fora_betweenness_sampled() draws them).
         */
        int32_t *src = malloc(sizeof(int32_t) * ((size_t)k + 1));
        double *acc = calloc((size_t)n + 1, sizeof(double));
        fora__pathsums_t ps = {calloc((size_t)n + 1, sizeof(double)),
                               calloc((size_t)n + 1, sizeof(double)),
                               calloc((size_t)n + 1, sizeof(int32_t))};
        double *clo = calloc((size_t)n, sizeof(double)), *cwf = calloc((size_t)n, sizeof(double));
        double *har = calloc((size_t)n, sizeof(double));
        if (!src || !acc || !ps.hsum || !ps.dsum || !ps.dcnt || !clo || !cwf || !har)
            err = fora_diag_set(diag, FORA_ENOMEM, "out of memory for the sampled path metrics");
        if (!err) err = fora__sample(n, k, src, diag);
        if (!err) err = fora__brandes_paths(&csr, NULL, src, k, acc, &ps, diag);
        for (int32_t v = 0; v < n && !err; v++)
            out->betweenness[nm[v]] = acc[v] * 0.5 * (double)n / (double)k;
        out->seconds.betweenness = now() - t0;
        t0 = now();
        /* sizes by component label (csize is sorted to match the relabelled components) */
        if (!err) err = sampled_paths(&csr, &memb, &csize, src, k, &ps, clo, cwf, har, diag);
        for (int32_t v = 0; v < n && err == FORA_OK; v++) {
            out->closeness[nm[v]] = clo[v];
            out->closeness_wf[nm[v]] = cwf[v];
            out->harmonic[nm[v]] = har[v];
        }
        free(src);
        free(acc);
        free(ps.hsum);
        free(ps.dsum);
        free(ps.dcnt);
        free(clo);
        free(cwf);
        free(har);
        if (err) goto out;
        out->seconds.paths = now() - t0;
        double ln = log(2.0 * n / opts.delta);
        out->betweenness_error = (double)n / (n - 1) * sqrt(ln / (2.0 * k));
        out->harmonic_error = k > 1 ? sqrt(ln / (2.0 * (k - 1))) : 1.0;
    }
    for (int32_t v = 0; v < n; v++) {
        double pairs = (double)(n - 1) * (double)(n - 2) / 2.0;
        out->betweenness_norm[nm[v]] = pairs > 0 ? out->betweenness[nm[v]] / pairs : 0;
    }

    /* eigenvector centrality on U, weighted */
    t0 = now();
    out->eigenvector_converged = true;
    if (out->n_uedges > 0) {
        igraph_error_t ie = eigenvector_arpack(&csr, &vec);
        if (ie == IGRAPH_ENOMEM) {
            err = fora_err_from_igraph(ie, diag, "eigenvector centrality");
            goto out;
        }
        if (ie != IGRAPH_SUCCESS) {
            /* ARPACK did not converge: report zeros and say so, keep the other metrics */
            out->eigenvector_converged = false;
        } else {
            for (int32_t v = 0; v < n; v++) {
                double x = VECTOR(vec)[v];
                out->eigenvector[nm[v]] = (isfinite(x) && x > 0) ? x : 0;
            }
        }
    }

    out->seconds.eigenvector = now() - t0;
    t0 = now();
    /* k-core */
    IG(igraph_coreness(&ng.u.graph, &ivec, IGRAPH_ALL), "coreness");
    for (int32_t v = 0; v < n; v++)
        out->coreness[nm[v]] = VECTOR(ivec)[v];

    out->seconds.coreness = now() - t0;
    t0 = now();
    /* Burt's constraint (weighted) and effective size, one pass */
    {
        double *es = calloc((size_t)n, sizeof(double));
        double *con = calloc((size_t)n, sizeof(double));
        if (!es || !con) {
            free(es);
            free(con);
            err = fora_diag_set(diag, FORA_ENOMEM, "out of memory for effective size");
            goto out;
        }
        err = brokerage(&csr, con, es, diag);
        for (int32_t v = 0; v < n && err == FORA_OK; v++) {
            out->constraint[nm[v]] = con[v];
            out->effective_size[nm[v]] = es[v];
        }
        free(es);
        free(con);
        if (err) goto out;
    }
    out->seconds.constraint = now() - t0; /* constraint and effective size together */
    out->seconds.effective_size = 0;
    t0 = now();
    /* local clustering */
    IG(igraph_transitivity_local_undirected(&ng.u.graph, &vec, igraph_vss_all(),
                                            IGRAPH_TRANSITIVITY_ZERO),
       "local clustering");
    for (int32_t v = 0; v < n; v++)
        out->clustering[nm[v]] = VECTOR(vec)[v];

    out->seconds.clustering = now() - t0;
    t0 = now();
    /* Leiden communities (modularity objective) */
    if (out->n_uedges > 0) {
        IG(igraph_vector_init(&w_strength, n), "vector");
        have_ws = true;
        IG(igraph_strength(&ng.u.graph, &w_strength, igraph_vss_all(), IGRAPH_ALL, true,
                           &ng.u.weight),
           "strength");
        double two_m = 2.0 * igraph_vector_sum(&ng.u.weight);
        igraph_integer_t nb;
        igraph_real_t quality;
        igraph_rng_seed(igraph_rng_default(), opts.seed);
        IG(igraph_community_leiden(&ng.u.graph, &ng.u.weight, &w_strength, opts.resolution / two_m,
                                   0.01, false, -1, &memb, &nb, &quality),
           "leiden");
        int32_t ncl;
        if ((err = relabel(&memb, n, &ncl, diag)) != FORA_OK) goto out;
        out->n_communities = ncl;
        for (int32_t v = 0; v < n; v++)
            out->community[nm[v]] = (int32_t)VECTOR(memb)[v];
        igraph_real_t q;
        IG(igraph_modularity(&ng.u.graph, &memb, &ng.u.weight, 1.0, false, &q), "modularity");
        out->modularity = q;
    } else {
        out->n_communities = n;
        for (int32_t v = 0; v < n; v++)
            out->community[nm[v]] = v;
    }
    out->seconds.communities = now() - t0;
out:
    fora__csr_destroy(&csr);
    if (have_ws) igraph_vector_destroy(&w_strength);
    if (have_vec) igraph_vector_destroy(&vec);
    if (have_ivec) igraph_vector_int_destroy(&ivec);
    if (have_memb) igraph_vector_int_destroy(&memb);
    if (have_csize) igraph_vector_int_destroy(&csize);
    if (have_ng) fora_netgraph_destroy(&ng);
    if (err != FORA_OK) fora_centrality_destroy(out);
    return err;
}
