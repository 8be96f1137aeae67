/*
 * analysis/kp_internal.h - helpers shared by centrality.c, keyplayer.c and
 * disruption.c: compressed adjacency of an undirected igraph graph, BFS,
 * union-find and seeded sampling.  Private to analysis/.
 */
#ifndef FORA_KP_INTERNAL_H
#define FORA_KP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <igraph/igraph.h>

#include "fora/error.h"

/* Undirected adjacency: neighbours of v are adj[off[v] .. off[v+1]). */
typedef struct fora__csr {
    int32_t n;
    int64_t m;    /* undirected edges (each stored twice) */
    int64_t *off; /* n + 1 */
    int32_t *adj; /* 2m */
    double *w;    /* 2m weights, or NULL */
} fora__csr_t;

/* Builds the adjacency of g (directions ignored); weights may be NULL.  O(n + m). */
fora_err_t fora__csr_build(const igraph_t *g, const igraph_vector_t *weights, fora__csr_t *out,
                           fora_diag_t *diag);
void fora__csr_destroy(fora__csr_t *c);

/*
 * BFS from src over c skipping vertices with removed[v] (NULL: none), up to
 * depth maxd (<0: unbounded).  dist (n, caller-filled with -1 beforehand and
 * restored by the caller through the returned queue) gets distances; queue
 * (n) gets the visited vertices in order.  Returns the number visited.
 */
int32_t fora__bfs(const fora__csr_t *c, int32_t src, const bool *removed, int32_t maxd,
                  int32_t *dist, int32_t *queue);

/* k distinct values of 0..n-1 drawn from igraph's default RNG (partial Fisher-Yates), ascending. */
fora_err_t fora__sample(int32_t n, int32_t k, int32_t *out, fora_diag_t *diag);

/*
 * Brandes' accumulation from the k sources src (skipping removed vertices;
 * NULL: none): acc[v] += sum over sources s != v of delta_s(v) (ordered
 * pairs; halve for undirected betweenness).  O(k (n + m)).
 */
fora_err_t fora__brandes(const fora__csr_t *a, const bool *removed, const int32_t *src, int32_t k,
                         double *acc, fora_diag_t *diag);

/* per-target sums over the sources of a Brandes pass: 1/d, d and how many sources reached it */
typedef struct fora__pathsums {
    double *hsum;
    double *dsum;
    int32_t *dcnt;
} fora__pathsums_t;

/* fora__brandes() that also adds into *ps (NULL: nothing) for every vertex reached. */
fora_err_t fora__brandes_paths(const fora__csr_t *a, const bool *removed, const int32_t *src,
                               int32_t k, double *acc, fora__pathsums_t *ps, fora_diag_t *diag);

/* union-find with sizes */
static inline int32_t fora__uf_find(int32_t *parent, int32_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

/* splitmix64: deterministic priorities from a seed */
static inline uint64_t fora__mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* order[0..n) = indices sorted by key descending, ties by index ascending. */
fora_err_t fora__order_desc(const double *key, int32_t n, int32_t *order, fora_diag_t *diag);

#endif /* FORA_KP_INTERNAL_H */
