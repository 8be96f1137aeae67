/*
 * analysis/projection.c - the member co-participation graph with Newman's
 * collaboration weighting (fora/projection.h).
 */
#include "fora/projection.h"

#include <stdlib.h>
#include <string.h>

#include "fora/idmap.h"

typedef struct {
    uint64_t key; /* a << 32 | b, a < b */
    double w;
} pairw_t;

static int cmp_pairw(const void *x, const void *y)
{
    uint64_t a = ((const pairw_t *)x)->key, b = ((const pairw_t *)y)->key;
    return (a > b) - (a < b);
}

fora_err_t fora_graph_coparticipation(const fora_snapshot_t *s, const fora_graph_opts_t *o,
                                      int32_t max_thread_members, fora_wgraph_t *out,
                                      fora_projection_info_t *info, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    uint64_t *keys = NULL, *tmp = NULL;
    pairw_t *pairs = NULL;
    int32_t *parts = NULL;
    igraph_vector_int_t edges;
    bool have_edges = false, have_graph = false;
    fora_projection_info_t inf = {0, 0, 0};

    if (max_thread_members < 2)
        return fora_diag_set(diag, FORA_EINVAL, "max_thread_members must be at least 2, not %d",
                             max_thread_members);
    int64_t from = o ? o->from : FORA_TIME_NONE, to = o ? o->to : FORA_TIME_NONE;
    int32_t lo, hi;
    fora_snapshot_post_window(s, from, to, &lo, &hi);

    /* distinct (thread, member) pairs of the window, sorted by thread */
    size_t np = (size_t)(hi - lo), q = 0;
    keys = malloc(sizeof(uint64_t) * (np + 1));
    tmp = malloc(sizeof(uint64_t) * (np + 1));
    if (!keys || !tmp) {
        err = fora_diag_set(diag, FORA_ENOMEM, "out of memory for %zu posts", np);
        goto out;
    }
    for (int32_t p = lo; p < hi; p++) {
        int32_t a = s->posts.author[p];
        if (a < 0) continue;
        keys[q++] = ((uint64_t)(uint32_t)s->posts.thread[p] << 32) | (uint32_t)a;
    }
    fora_radix_sort_u64(keys, NULL, q, tmp, NULL);
    size_t nd = 0;
    for (size_t i = 0; i < q; i++)
        if (i == 0 || keys[i] != keys[i - 1]) keys[nd++] = keys[i];

    /* count the pairs first so the allocation is exact */
    int64_t total = 0;
    for (size_t i = 0; i < nd;) {
        size_t j = i;
        while (j < nd && (keys[j] >> 32) == (keys[i] >> 32))
            j++;
        int64_t k = (int64_t)(j - i);
        if (k >= 2 && k <= max_thread_members) {
            total += k * (k - 1) / 2;
            inf.threads_used++;
        } else if (k > max_thread_members) {
            inf.threads_skipped++;
        }
        i = j;
    }
    if (total > INT32_MAX) {
        err = fora_diag_set(diag, FORA_ENOMEM,
                            "the co-participation projection would have %lld pairs; lower "
                            "max_thread_members",
                            (long long)total);
        goto out;
    }
    inf.pairs = total;
    pairs = malloc(sizeof(pairw_t) * ((size_t)total + 1));
    parts = malloc(sizeof(int32_t) * ((size_t)max_thread_members + 1));
    if (!pairs || !parts) {
        err = fora_diag_set(diag, FORA_ENOMEM, "out of memory for %lld pairs", (long long)total);
        goto out;
    }
    size_t pq = 0;
    for (size_t i = 0; i < nd;) {
        size_t j = i;
        while (j < nd && (keys[j] >> 32) == (keys[i] >> 32))
            j++;
        int32_t k = (int32_t)(j - i);
        if (k >= 2 && k <= max_thread_members) {
            double w = 1.0 / (k - 1);
            for (int32_t x = 0; x < k; x++)
                parts[x] = (int32_t)(uint32_t)keys[i + (size_t)x]; /* ascending member index */
            for (int32_t x = 0; x < k; x++)
                for (int32_t y = x + 1; y < k; y++) {
                    pairs[pq].key = ((uint64_t)(uint32_t)parts[x] << 32) | (uint32_t)parts[y];
                    pairs[pq].w = w;
                    pq++;
                }
        }
        i = j;
    }
    qsort(pairs, pq, sizeof(pairw_t), cmp_pairw);
    size_t ne = 0;
    for (size_t i = 0; i < pq; i++) {
        if (ne > 0 && pairs[ne - 1].key == pairs[i].key)
            pairs[ne - 1].w += pairs[i].w;
        else
            pairs[ne++] = pairs[i];
    }
    if ((err = fora_err_from_igraph(igraph_vector_int_init(&edges, (igraph_integer_t)(2 * ne)),
                                    diag, "projection edges")))
        goto out;
    have_edges = true;
    for (size_t i = 0; i < ne; i++) {
        VECTOR(edges)[2 * i] = (igraph_integer_t)(pairs[i].key >> 32);
        VECTOR(edges)[2 * i + 1] = (igraph_integer_t)(uint32_t)pairs[i].key;
    }
    if ((err = fora_err_from_igraph(
             igraph_create(&out->graph, &edges, s->members.n, IGRAPH_UNDIRECTED), diag,
             "projection graph")))
        goto out;
    have_graph = true;
    if ((err = fora_err_from_igraph(igraph_vector_init(&out->weight, (igraph_integer_t)ne), diag,
                                    "projection weights")))
        goto out;
    for (size_t i = 0; i < ne; i++)
        VECTOR(out->weight)[i] = pairs[i].w;
    have_graph = false; /* owned by the caller now */
    if (info) *info = inf;
out:
    if (have_graph) igraph_destroy(&out->graph);
    if (have_edges) igraph_vector_int_destroy(&edges);
    free(keys);
    free(tmp);
    free(pairs);
    free(parts);
    return err;
}

fora_err_t fora_coparticipation_count(const fora_snapshot_t *s, const fora_graph_opts_t *o,
                                      int32_t max_thread_members, fora_projection_info_t *info,
                                      int64_t *edges, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    fora_projection_info_t inf = {0, 0, 0};
    uint64_t *keys = NULL, *tmp = NULL;
    int64_t *moff = NULL, *mpos = NULL;
    size_t *mthr = NULL, *tend = NULL;
    int32_t *mark = NULL;
    int32_t M = s->members.n;
    *edges = 0;
    if (max_thread_members < 2)
        return fora_diag_set(diag, FORA_EINVAL, "max_thread_members must be at least 2, not %d",
                             max_thread_members);
    int64_t from = o ? o->from : FORA_TIME_NONE, to = o ? o->to : FORA_TIME_NONE;
    int32_t lo, hi;
    fora_snapshot_post_window(s, from, to, &lo, &hi);
    size_t np = (size_t)(hi - lo), q = 0;
    keys = malloc(sizeof(uint64_t) * (np + 1));
    tmp = malloc(sizeof(uint64_t) * (np + 1));
    moff = calloc((size_t)M + 2, sizeof(int64_t));
    mark = malloc(sizeof(int32_t) * ((size_t)M + 1));
    if (!keys || !tmp || !moff || !mark) goto oom;
    for (int32_t p = lo; p < hi; p++) {
        int32_t a = s->posts.author[p];
        if (a < 0) continue;
        keys[q++] = ((uint64_t)(uint32_t)s->posts.thread[p] << 32) | (uint32_t)a;
    }
    fora_radix_sort_u64(keys, NULL, q, tmp, NULL);
    free(tmp);
    tmp = NULL;
    size_t nd = 0;
    for (size_t i = 0; i < q; i++)
        if (i == 0 || keys[i] != keys[i - 1]) keys[nd++] = keys[i];
    /* tend[i]: end of the thread group of key i (0 for threads not used) */
    tend = calloc(nd + 1, sizeof(size_t));
    if (!tend) goto oom;
    for (size_t i = 0; i < nd;) {
        size_t j = i;
        while (j < nd && (keys[j] >> 32) == (keys[i] >> 32))
            j++;
        int64_t k = (int64_t)(j - i);
        if (k >= 2 && k <= max_thread_members) {
            inf.threads_used++;
            inf.pairs += k * (k - 1) / 2;
            for (size_t x = i; x < j; x++) {
                tend[x] = j;
                moff[(uint32_t)keys[x] + 1]++;
            }
        } else if (k > max_thread_members) {
            inf.threads_skipped++;
        }
        i = j;
    }
    /* member -> its positions in used threads */
    for (int32_t a = 0; a < M; a++)
        moff[a + 1] += moff[a];
    mpos = malloc(sizeof(int64_t) * ((size_t)M + 1));
    mthr = malloc(sizeof(size_t) * ((size_t)moff[M] + 1));
    if (!mpos || !mthr) goto oom;
    memcpy(mpos, moff, sizeof(int64_t) * (size_t)M);
    for (size_t x = 0; x < nd; x++)
        if (tend[x]) mthr[mpos[(uint32_t)keys[x]]++] = x;
    /* distinct partners b > a of each a; members within a thread are ascending */
    for (int32_t a = 0; a < M; a++)
        mark[a] = -1;
    int64_t ne = 0;
    for (int32_t a = 0; a < M; a++)
        for (int64_t t = moff[a]; t < moff[a + 1]; t++)
            for (size_t y = mthr[t] + 1; y < tend[mthr[t]]; y++) {
                int32_t b = (int32_t)(uint32_t)keys[y];
                if (mark[b] != a) {
                    mark[b] = a;
                    ne++;
                }
            }
    *edges = ne;
    if (info) *info = inf;
    goto out;
oom:
    err = fora_diag_set(diag, FORA_ENOMEM, "out of memory counting the co-participation pairs");
out:
    free(keys);
    free(tmp);
    free(moff);
    free(mpos);
    free(mthr);
    free(tend);
    free(mark);
    return err;
}
