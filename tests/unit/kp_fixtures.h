/*
 * tests/unit/kp_fixtures.h - snapshots whose reply graph is a given edge
 * list, for the key-player tests.
 *
 * Member i has database id 1 + i.  One board, one thread started by member
 * 0.  Edge (a -> b) becomes two posts: one by b that answers nobody and one by
 * a that answers it; under FORA_REPLY_EXPLICIT_ONLY only the second makes a
 * reply edge, so the reply graph is exactly the edge list (repeated edges add
 * weight).
 */
#ifndef KP_FIXTURES_H
#define KP_FIXTURES_H

#include <stdio.h>

#include <igraph/igraph.h>

#include "fora/centrality.h"
#include "fora/snapshot.h"
#include "fora_test.h"

static inline fora_snapshot_t *kp_snapshot_edges(int n, const int *edges, int m)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *s = NULL;
    ASSERT_OK(fora_snapshot_create(1, "edges", NULL, 1, &s, &d), &d);
    ASSERT_OK(fora_snapshot_add_board(s, 1, "b", FORA_ID_NONE, NULL, &d), &d);
    for (int i = 0; i < n; i++) {
        char ext[32];
        snprintf(ext, sizeof ext, "m%d", i);
        ASSERT_OK(fora_snapshot_add_member(s, 1 + i, ext, FORA_TIME_NONE, i == 0 ? "moderator" : "",
                                           FORA_TIME_NONE, &d),
                  &d);
    }
    ASSERT_OK(fora_snapshot_add_thread(s, 1, "t", 1, 1, 0, &d), &d);
    ASSERT_OK(fora_snapshot_add_post(s, 1, 1, 1, 0, FORA_ID_NONE, &d), &d);
    for (int e = 0; e < m; e++) {
        int a = edges[2 * e], b = edges[2 * e + 1];
        ASSERT_OK(fora_snapshot_add_post(s, 10 + 2 * e, 1, 1 + b, 10 + 2 * e, FORA_ID_NONE, &d),
                  &d);
        ASSERT_OK(fora_snapshot_add_post(s, 11 + 2 * e, 1, 1 + a, 11 + 2 * e, 10 + 2 * e, &d), &d);
    }
    ASSERT_OK(fora_snapshot_finish(s, &d), &d);
    return s;
}

/* The snapshot of an igraph graph (each edge once, as from -> to). */
static inline fora_snapshot_t *kp_snapshot_igraph(const igraph_t *g)
{
    int m = (int)igraph_ecount(g);
    int *e = malloc(sizeof(int) * (2 * (size_t)m + 1));
    for (int i = 0; i < m; i++) {
        e[2 * i] = (int)IGRAPH_FROM(g, i);
        e[2 * i + 1] = (int)IGRAPH_TO(g, i);
    }
    fora_snapshot_t *s = kp_snapshot_edges((int)igraph_vcount(g), e, m);
    free(e);
    return s;
}

static inline void kp_opts(fora_centrality_opts_t *o)
{
    fora_centrality_opts_init(o);
    o->graph.rule = FORA_REPLY_EXPLICIT_ONLY;
}

static inline void kp_handlers(void)
{
    igraph_set_error_handler(igraph_error_handler_printignore);
    igraph_set_warning_handler(igraph_warning_handler_ignore);
}

#endif
