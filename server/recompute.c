/*
 * server/recompute.c - one analysis run: record, load, compute, store.
 */
#include "fora/recompute.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fora/db.h"
#include "fora/progress.h"
#include "fora/snapshot.h"
#include "fora/snapshot_load.h"
#include "fora/timeparse.h"

const char *const fora_recompute_analyses[] = {"summary", NULL};

fora_err_t fora_recompute_sweep(PGconn *conn, int64_t *swept, fora_diag_t *diag)
{
    /*
     * A bigint advisory key shows in pg_locks as classid = high 32 bits,
     * objid = low 32 bits, objsubid = 1.
     */
    PGresult *res = PQexec(
        conn, "UPDATE analysis_runs r SET status = 'failed', finished_at = clock_timestamp(),"
              " error = 'interrupted: the process computing the run ended before it finished'"
              " WHERE r.status = 'running' AND NOT EXISTS (SELECT 1 FROM pg_locks l"
              "  WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted"
              "  AND l.classid = (r.id >> 32)::oid AND l.objid = (r.id & 4294967295)::oid)");
    fora_err_t err = fora_db_check(res, PGRES_COMMAND_OK, "sweeping interrupted runs", diag);
    if (err == FORA_OK && swept) *swept = atoll(PQcmdTuples(res));
    PQclear(res);
    return err;
}

static fora_err_t exec_params(PGconn *conn, const char *what, const char *sql, int n,
                              const char *const *p, fora_diag_t *diag)
{
    PGresult *res = PQexecParams(conn, sql, n, NULL, p, NULL, NULL, 0);
    ExecStatusType want =
        PQresultStatus(res) == PGRES_TUPLES_OK ? PGRES_TUPLES_OK : PGRES_COMMAND_OK;
    fora_err_t err = fora_db_check(res, want, what, diag);
    PQclear(res);
    return err;
}

/* Formats a snapshot time (Unix seconds) for SQL, or NULL for FORA_TIME_NONE. */
static const char *sql_time(int64_t t, char *buf)
{
    if (t == FORA_TIME_NONE) return NULL;
    fora_time_format_pg(t * 1000000, buf);
    return buf;
}

static fora_err_t store_summary(PGconn *conn, const char *run, const fora_summary_t *s,
                                fora_diag_t *diag)
{
    char v[13][24], first[40], last[40];
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
    const char *p[] = {run,
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
    return exec_params(conn, "storing the summary",
                       "INSERT INTO run_summary (run_id, boards, members, posting_members,"
                       " threads, posts, replies, events, first_post_at, last_post_at,"
                       " reply_graph_vertices, reply_graph_edges, reply_graph_weight,"
                       " bipartite_edges) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
                       " $12, $13, $14)",
                       14, p, diag);
}

fora_err_t fora_recompute_forum(PGconn *conn, int64_t forum_id, const fora_recompute_opts_t *opts,
                                fora_recompute_result_t *res, fora_diag_t *diag)
{
    fora_snapshot_t *snap = NULL;
    fora_summary_t summary;
    fora_err_t err;
    bool in_tx = false;
    char forum[24], run[24] = "", params[256], timings[256], watermark[24];
    double t0 = fora_now_seconds(), t_load = 0, t_summary = 0, t;

    memset(res, 0, sizeof(*res));
    snprintf(forum, sizeof(forum), "%lld", (long long)forum_id);
    if ((err = fora_recompute_sweep(conn, NULL, diag)) != FORA_OK) return err;
    snprintf(params, sizeof(params),
             "{\"reply_rule\": \"%s\", \"keep_self_loops\": %s, \"from\": %lld, \"to\": %lld}",
             fora_reply_rule_name(opts->graph.rule), opts->graph.keep_self_loops ? "true" : "false",
             (long long)(opts->graph.from == FORA_TIME_NONE ? 0 : opts->graph.from),
             (long long)(opts->graph.to == FORA_TIME_NONE ? 0 : opts->graph.to));

    /* 1. record the run (committed now, so a crash leaves a trace) and lock it */
    const char *p1[] = {forum, params};
    PGresult *r = PQexecParams(conn,
                               "INSERT INTO analysis_runs (forum_id, params, analyses, watermark)"
                               " SELECT id, $2::jsonb, '{summary}', data_version FROM forums"
                               " WHERE id = $1 RETURNING id, pg_advisory_lock(id)",
                               2, NULL, p1, NULL, NULL, 0);
    err = fora_db_check(r, PGRES_TUPLES_OK, "creating the run", diag);
    if (err == FORA_OK && PQntuples(r) == 0)
        err = fora_diag_set(diag, FORA_ENOTFOUND, "no forum with id %s", forum);
    if (err == FORA_OK) {
        snprintf(run, sizeof(run), "%s", PQgetvalue(r, 0, 0));
        res->run_id = atoll(run);
    }
    PQclear(r);
    if (err != FORA_OK) return err;
    if (!opts->quiet) fprintf(stderr, "fora: run %s for forum %s: loading snapshot\n", run, forum);

    /* 2. load and compute (no transaction open on conn while computing) */
    t = fora_now_seconds();
    if ((err = fora_snapshot_load(conn, forum_id, &snap, diag)) != FORA_OK) goto fail;
    t_load = fora_now_seconds() - t;
    if (!opts->quiet)
        fprintf(stderr, "fora: run %s: %d members, %d threads, %d posts loaded in %.2f s\n", run,
                snap->members.n, snap->threads.n, snap->posts.n, t_load);
    t = fora_now_seconds();
    if ((err = fora_graph_summary(snap, &opts->graph, &summary, diag)) != FORA_OK) goto fail;
    t_summary = fora_now_seconds() - t;

    /* 3. store everything and complete the run in one transaction */
    if ((err = fora_db_exec(conn, "BEGIN", diag)) != FORA_OK) goto fail;
    in_tx = true;
    if ((err = store_summary(conn, run, &summary, diag)) != FORA_OK) goto fail;
    snprintf(timings, sizeof(timings), "{\"load\": %.3f, \"summary\": %.3f, \"total\": %.3f}",
             t_load, t_summary, fora_now_seconds() - t0);
    snprintf(watermark, sizeof(watermark), "%lld", (long long)snap->forum.data_version);
    const char *p3[] = {run, timings, watermark};
    if ((err = exec_params(conn, "completing the run",
                           "UPDATE analysis_runs SET status = 'completed',"
                           " finished_at = clock_timestamp(), timings = $2::jsonb,"
                           " watermark = $3::bigint WHERE id = $1",
                           3, p3, diag)) != FORA_OK)
        goto fail;
    if ((err = fora_db_exec(conn, "COMMIT", diag)) != FORA_OK) goto fail;
    in_tx = false;
    res->watermark = snap->forum.data_version;
    res->seconds = fora_now_seconds() - t0;
    goto out;

fail:
    if (in_tx) PQclear(PQexec(conn, "ROLLBACK"));
    if (PQstatus(conn) == CONNECTION_OK) {
        const char *p4[] = {run, diag->msg[0] ? diag->msg : fora_strerror(err)};
        fora_diag_t ignore = FORA_DIAG_INIT;
        (void)exec_params(conn, "recording the failure",
                          "UPDATE analysis_runs SET status = 'failed',"
                          " finished_at = clock_timestamp(), error = $2 WHERE id = $1",
                          2, p4, &ignore);
    }
out:
    if (run[0] && PQstatus(conn) == CONNECTION_OK) {
        const char *p5[] = {run};
        fora_diag_t ignore = FORA_DIAG_INIT;
        (void)exec_params(conn, "unlocking the run", "SELECT pg_advisory_unlock($1::bigint)", 1, p5,
                          &ignore);
    }
    fora_snapshot_destroy(snap);
    return err;
}
