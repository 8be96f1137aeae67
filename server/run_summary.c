/*
 * server/run_summary.c - the "summary" step every run computes: sizes and
 * time span of the snapshot (run_summary).
 */
#include <stdio.h>
#include <stdlib.h>

#include "fora/graphs.h"
#include "fora/timeparse.h"
#include "recompute_internal.h"

/* Formats a snapshot time (Unix seconds) for SQL, or NULL for FORA_TIME_NONE. */
static const char *sql_time(int64_t t, char *buf)
{
    if (t == FORA_TIME_NONE) return NULL;
    fora_time_format_pg(t * 1000000, buf);
    return buf;
}

static fora_err_t compute(const fora__run_ctx_t *ctx, void **state, fora_diag_t *diag)
{
    fora_summary_t *s = fora_xmalloc(sizeof(*s));
    fora_err_t err = fora_graph_summary(ctx->snap, &ctx->opts->graph, s, diag);
    if (err != FORA_OK) {
        free(s);
        return err;
    }
    *state = s;
    return FORA_OK;
}

static fora_err_t store(const fora__run_ctx_t *ctx, void *state, fora_diag_t *diag)
{
    const fora_summary_t *s = state;
    char v[11][24], first[40], last[40];
    const int64_t vals[] = {s->boards,
                            s->members,
                            s->posting_members,
                            s->threads,
                            s->posts,
                            s->replies,
                            s->events,
                            s->reply_graph_vertices,
                            s->reply_graph_edges,
                            s->reply_graph_weight,
                            s->bipartite_edges};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
        snprintf(v[i], sizeof(v[i]), "%lld", (long long)vals[i]);
    const char *p[] = {ctx->run,
                       v[0],
                       v[1],
                       v[2],
                       v[3],
                       v[4],
                       v[5],
                       v[6],
                       sql_time(s->first_post_at, first),
                       sql_time(s->last_post_at, last),
                       v[7],
                       v[8],
                       v[9],
                       v[10]};
    return fora__run_exec(ctx->conn, "storing the summary",
                          "INSERT INTO run_summary (run_id, boards, members, posting_members,"
                          " threads, posts, replies, events, first_post_at, last_post_at,"
                          " reply_graph_vertices, reply_graph_edges, reply_graph_weight,"
                          " bipartite_edges) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
                          " $11, $12, $13, $14)",
                          14, p, diag);
}

const fora__run_step_t fora__run_step_summary = {
    .name = "summary", .params = NULL, .compute = compute, .store = store, .destroy = free};
