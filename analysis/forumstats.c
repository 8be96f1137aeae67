/*
 * analysis/forumstats.c - communities, thread statistics, concentration
 * (fora/forumstats.h).
 */
#include "fora/forumstats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_statistics_double.h>

#include "fora/idmap.h"

/* ---------------------------------------------------------------------- */
/* communities                                                              */
/* ---------------------------------------------------------------------- */

void fora_communities_destroy(fora_communities_t *x)
{
    free(x->items);
    memset(x, 0, sizeof(*x));
}

fora_err_t fora_communities_summarise(const fora_netgraph_t *g, const fora_centrality_t *c,
                                      int32_t top, fora_communities_t *out, fora_diag_t *diag)
{
    memset(out, 0, sizeof(*out));
    if (top < 1 || top > 10)
        return fora_diag_set(diag, FORA_EINVAL, "top must be in 1..10, not %d", top);
    out->n = c->n_communities;
    out->modularity = c->modularity;
    out->seed = c->seed;
    out->items = calloc((size_t)out->n + 1, sizeof(fora_community_info_t));
    if (!out->items) return fora_diag_set(diag, FORA_ENOMEM, "out of memory for communities");
    for (int32_t i = 0; i < c->n; i++) {
        int32_t l = c->community[i];
        if (l < 0 || l >= out->n) continue;
        fora_community_info_t *it = &out->items[l];
        it->size++;
        /* insertion into the top list by PageRank desc, member index asc */
        int32_t pos = it->n_top;
        while (pos > 0 && c->pagerank[it->top[pos - 1]] < c->pagerank[i])
            pos--;
        if (pos < top) {
            int32_t last = it->n_top < top ? it->n_top : top - 1;
            for (int32_t j = last; j > pos; j--)
                it->top[j] = it->top[j - 1];
            it->top[pos] = i;
            if (it->n_top < top) it->n_top++;
        }
    }
    for (igraph_integer_t e = 0; e < igraph_ecount(&g->u.graph); e++) {
        int32_t a = g->net_member[IGRAPH_FROM(&g->u.graph, e)];
        int32_t b = g->net_member[IGRAPH_TO(&g->u.graph, e)];
        double w = VECTOR(g->u.weight)[e];
        int32_t la = c->community[a], lb = c->community[b];
        if (la >= 0 && la < out->n) out->items[la].total += w;
        if (lb >= 0 && lb < out->n) out->items[lb].total += w;
        if (la == lb && la >= 0 && la < out->n) out->items[la].internal += w;
    }
    return FORA_OK;
}

/* ---------------------------------------------------------------------- */
/* threads                                                                  */
/* ---------------------------------------------------------------------- */

void fora_thread_stats_destroy(fora_thread_stats_t *x)
{
    free(x->thread);
    free(x->size);
    free(x->participants);
    free(x->activity);
    free(x->size_value);
    free(x->size_count);
    free(x->bins);
    memset(x, 0, sizeof(*x));
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

fora_err_t fora_thread_stats(const fora_snapshot_t *s, const fora_graph_opts_t *o,
                             fora_thread_stats_t *out, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    int64_t *tsize = NULL, *mposts = NULL, *sorted = NULL;
    uint64_t *keys = NULL, *tmp = NULL;
    double *asum = NULL, *work = NULL, *xs = NULL;
    int32_t *tpart = NULL;
    memset(out, 0, sizeof(*out));
    out->spearman = NAN;
    int64_t from = o ? o->from : FORA_TIME_NONE, to = o ? o->to : FORA_TIME_NONE;
    int32_t lo, hi;
    fora_snapshot_post_window(s, from, to, &lo, &hi);
    int32_t T = s->threads.n, M = s->members.n;
    size_t np = (size_t)(hi - lo);
    tsize = calloc((size_t)T + 1, sizeof(int64_t));
    mposts = calloc((size_t)M + 1, sizeof(int64_t));
    tpart = calloc((size_t)T + 1, sizeof(int32_t));
    asum = calloc((size_t)T + 1, sizeof(double));
    keys = malloc(sizeof(uint64_t) * (np + 1));
    tmp = malloc(sizeof(uint64_t) * (np + 1));
    if (!tsize || !mposts || !tpart || !asum || !keys || !tmp) goto oom;
    size_t q = 0;
    for (int32_t p = lo; p < hi; p++) {
        int32_t t = s->posts.thread[p], a = s->posts.author[p];
        tsize[t]++;
        if (a < 0) continue;
        mposts[a]++;
        keys[q++] = ((uint64_t)(uint32_t)t << 32) | (uint32_t)a;
    }
    fora_radix_sort_u64(keys, NULL, q, tmp, NULL);
    for (size_t i = 0; i < q; i++) {
        if (i > 0 && keys[i] == keys[i - 1]) continue;
        int32_t t = (int32_t)(keys[i] >> 32), a = (int32_t)(uint32_t)keys[i];
        tpart[t]++;
        asum[t] += (double)mposts[a];
    }
    int32_t nt = 0;
    for (int32_t t = 0; t < T; t++)
        if (tsize[t] > 0) nt++;
    out->n_threads = nt;
    out->thread = malloc(sizeof(int32_t) * ((size_t)nt + 1));
    out->size = malloc(sizeof(int64_t) * ((size_t)nt + 1));
    out->participants = malloc(sizeof(int32_t) * ((size_t)nt + 1));
    out->activity = malloc(sizeof(double) * ((size_t)nt + 1));
    xs = malloc(sizeof(double) * ((size_t)nt + 1));
    work = malloc(sizeof(double) * (2 * (size_t)nt + 1));
    sorted = malloc(sizeof(int64_t) * ((size_t)nt + 1));
    if (!out->thread || !out->size || !out->participants || !out->activity || !xs || !work ||
        !sorted)
        goto oom;
    int32_t j = 0;
    for (int32_t t = 0; t < T; t++) {
        if (tsize[t] == 0) continue;
        out->thread[j] = t;
        out->size[j] = tsize[t];
        out->participants[j] = tpart[t];
        out->activity[j] = tpart[t] > 0 ? asum[t] / tpart[t] : 0;
        xs[j] = (double)tsize[t];
        sorted[j] = tsize[t];
        j++;
    }
    if (nt >= 3) {
        bool cx = true, cy = true;
        for (int32_t i = 1; i < nt; i++) {
            if (xs[i] != xs[0]) cx = false;
            if (out->activity[i] != out->activity[0]) cy = false;
        }
        if (!cx && !cy)
            out->spearman = gsl_stats_spearman(xs, 1, out->activity, 1, (size_t)nt, work);
    }
    /* size distribution */
    qsort(sorted, (size_t)nt, sizeof(int64_t), cmp_i64);
    int32_t ns = 0;
    for (int32_t i = 0; i < nt; i++)
        if (i == 0 || sorted[i] != sorted[i - 1]) ns++;
    out->n_sizes = ns;
    out->size_value = malloc(sizeof(int64_t) * ((size_t)ns + 1));
    out->size_count = calloc((size_t)ns + 1, sizeof(int64_t));
    if (!out->size_value || !out->size_count) goto oom;
    for (int32_t i = 0, k = -1; i < nt; i++) {
        if (i == 0 || sorted[i] != sorted[i - 1]) out->size_value[++k] = sorted[i];
        out->size_count[k]++;
    }
    /* log2 bins */
    int32_t nb = 0;
    if (nt > 0) {
        int64_t mx = sorted[nt - 1];
        while (((int64_t)1 << nb) <= mx)
            nb++;
    }
    out->n_bins = nb;
    out->bins = calloc((size_t)nb + 1, sizeof(fora_size_bin_t));
    if (!out->bins) goto oom;
    for (int32_t b = 0; b < nb; b++) {
        fora_size_bin_t *bin = &out->bins[b];
        bin->lo = (int64_t)1 << b;
        bin->hi = (int64_t)1 << (b + 1);
        int32_t cnt = 0;
        double sum = 0;
        for (int32_t i = 0; i < nt; i++)
            if (out->size[i] >= bin->lo && out->size[i] < bin->hi) {
                work[cnt++] = out->activity[i];
                sum += out->activity[i];
            }
        bin->threads = cnt;
        if (cnt > 0) {
            bin->mean_activity = sum / cnt;
            qsort(work, (size_t)cnt, sizeof(double), cmp_double);
            bin->median_activity = gsl_stats_median_from_sorted_data(work, 1, (size_t)cnt);
        }
    }
    goto out;
oom:
    err = fora_diag_set(diag, FORA_ENOMEM, "out of memory for thread statistics");
out:
    free(tsize);
    free(mposts);
    free(tpart);
    free(asum);
    free(keys);
    free(tmp);
    free(xs);
    free(work);
    free(sorted);
    if (err) fora_thread_stats_destroy(out);
    return err;
}

/* ---------------------------------------------------------------------- */
/* concentration                                                            */
/* ---------------------------------------------------------------------- */

void fora_concentration_destroy(fora_concentration_t *x)
{
    free(x->lorenz_x);
    free(x->lorenz_y);
    memset(x, 0, sizeof(*x));
}

fora_err_t fora_concentration(const fora_snapshot_t *s, const fora_graph_opts_t *o,
                              int32_t lorenz_points, fora_concentration_t *out, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    int64_t *cnt = NULL, *x = NULL;
    double *cum = NULL;
    memset(out, 0, sizeof(*out));
    if (lorenz_points < 1 || lorenz_points > 1000)
        return fora_diag_set(diag, FORA_EINVAL, "lorenz_points must be in 1..1000, not %d",
                             lorenz_points);
    int64_t from = o ? o->from : FORA_TIME_NONE, to = o ? o->to : FORA_TIME_NONE;
    int32_t lo, hi, M = s->members.n;
    fora_snapshot_post_window(s, from, to, &lo, &hi);
    cnt = calloc((size_t)M + 1, sizeof(int64_t));
    if (!cnt) goto oom;
    for (int32_t p = lo; p < hi; p++)
        if (s->posts.author[p] >= 0) cnt[s->posts.author[p]]++;
    int32_t n = 0;
    for (int32_t i = 0; i < M; i++)
        if (cnt[i] > 0) n++;
    x = malloc(sizeof(int64_t) * ((size_t)n + 1));
    cum = malloc(sizeof(double) * ((size_t)n + 2));
    out->lorenz_x = malloc(sizeof(double) * ((size_t)lorenz_points + 1));
    out->lorenz_y = malloc(sizeof(double) * ((size_t)lorenz_points + 1));
    if (!x || !cum || !out->lorenz_x || !out->lorenz_y) goto oom;
    int32_t q = 0;
    int64_t total = 0;
    for (int32_t i = 0; i < M; i++)
        if (cnt[i] > 0) {
            x[q++] = cnt[i];
            total += cnt[i];
        }
    qsort(x, (size_t)n, sizeof(int64_t), cmp_i64);
    out->n_active = n;
    out->posts = total;
    cum[0] = 0;
    for (int32_t i = 0; i < n; i++)
        cum[i + 1] = cum[i] + (double)x[i];
    if (n >= 2 && total > 0) {
        double g = 0;
        for (int32_t i = 0; i < n; i++)
            g += (2.0 * (i + 1) - n - 1) * (double)x[i];
        out->gini = g / ((double)n * (double)total);
    }
    if (total > 0) {
        int32_t k1 = (int32_t)ceil(0.01 * n), k10 = (int32_t)ceil(0.10 * n);
        out->top1_share = (cum[n] - cum[n - k1]) / (double)total;
        out->top10_share = (cum[n] - cum[n - k10]) / (double)total;
    }
    out->n_lorenz = lorenz_points + 1;
    for (int32_t j = 0; j <= lorenz_points; j++) {
        int32_t m = (int32_t)llround((double)j * n / lorenz_points);
        out->lorenz_x[j] = n > 0 ? (double)m / n : (double)j / lorenz_points;
        out->lorenz_y[j] = total > 0 ? cum[m] / (double)total : out->lorenz_x[j];
    }
    goto out;
oom:
    err = fora_diag_set(diag, FORA_ENOMEM, "out of memory for concentration");
out:
    free(cnt);
    free(x);
    free(cum);
    if (err) fora_concentration_destroy(out);
    return err;
}
