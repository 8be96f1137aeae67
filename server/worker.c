/*
 * server/worker.c - the recompute queue's workers (see worker.h) and
 * `fora worker`.
 */
#include "worker.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fora/progress.h"
#include "fora/recompute.h"

/* The advisory lock key of job id (two int4 keys: 1 and the id's low 31 bits). */
#define JOB_LOCK "1, ($1::bigint & 2147483647)::int"

typedef struct progress_ctx {
    PGconn *conn; /* NULL: progress is not recorded */
    const char *job;
} progress_ctx_t;

static void record_progress(void *arg, int64_t run_id, const char *what, int done, int total)
{
    progress_ctx_t *pc = arg;
    (void)done;
    (void)total;
    char run[24];
    if (pc->conn == NULL || PQstatus(pc->conn) != CONNECTION_OK) return;
    snprintf(run, sizeof(run), "%lld", (long long)run_id);
    const char *p[] = {pc->job, what, run};
    PQclear(PQexecParams(pc->conn,
                         "UPDATE recompute_jobs SET progress = $2, run_id = NULLIF($3::bigint, 0)"
                         " WHERE id = $1::bigint",
                         3, NULL, p, NULL, NULL, 0));
}

static fora_err_t exec1(PGconn *conn, const char *what, const char *sql, int n,
                        const char *const *p, fora_diag_t *diag)
{
    PGresult *r = PQexecParams(conn, sql, n, NULL, p, NULL, NULL, 0);
    ExecStatusType want = PQresultStatus(r) == PGRES_TUPLES_OK ? PGRES_TUPLES_OK : PGRES_COMMAND_OK;
    fora_err_t err = fora_db_check(r, want, what, diag);
    PQclear(r);
    return err;
}

fora_err_t fora_worker_run_one(PGconn *conn, PGconn *progress_conn, const char *name, bool quiet,
                               bool *did, fora_diag_t *diag)
{
    fora_err_t err;
    char job[24], forum[24];
    json_t *params = NULL;
    *did = false;

    PGresult *r =
        PQexec(conn, "UPDATE recompute_jobs j SET status = 'failed',"
                     " finished_at = clock_timestamp(),"
                     " error = 'interrupted: the worker running the job ended'"
                     " WHERE j.status = 'running' AND NOT EXISTS (SELECT 1 FROM pg_locks l"
                     "  WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.granted"
                     "  AND l.database = (SELECT oid FROM pg_database"
                     "                    WHERE datname = current_database())"
                     "  AND l.classid = 1 AND l.objid = (j.id & 2147483647)::oid)");
    err = fora_db_check(r, PGRES_COMMAND_OK, "sweeping interrupted jobs", diag);
    PQclear(r);
    if (err != FORA_OK) return err;

    const char *pc[] = {name};
    r = PQexecParams(conn,
                     "UPDATE recompute_jobs SET status = 'running', started_at = clock_timestamp(),"
                     " worker = $1, progress = 'claimed'"
                     " WHERE id = (SELECT id FROM recompute_jobs WHERE status = 'queued'"
                     "  ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)"
                     " RETURNING id, forum_id, params::text,"
                     "  pg_advisory_lock(1, (id & 2147483647)::int)",
                     1, NULL, pc, NULL, NULL, 0);
    err = fora_db_check(r, PGRES_TUPLES_OK, "claiming a job", diag);
    if (err != FORA_OK || PQntuples(r) == 0) {
        PQclear(r);
        return err;
    }
    *did = true;
    snprintf(job, sizeof(job), "%s", PQgetvalue(r, 0, 0));
    snprintf(forum, sizeof(forum), "%s", PQgetvalue(r, 0, 1));
    params = json_loads(PQgetvalue(r, 0, 2), 0, NULL);
    PQclear(r);

    fora_recompute_opts_t ro;
    fora_recompute_opts_init(&ro);
    ro.quiet = quiet;
    /* the API validated every option; a bad one here fails the job, never half-applies */
    const char *key;
    json_t *val;
    fora_diag_t odiag = FORA_DIAG_INIT;
    fora_err_t oerr = FORA_OK;
    json_object_foreach(params, key, val)
    {
        if (oerr == FORA_OK)
            oerr = fora_recompute_opts_set(
                &ro, key, json_is_string(val) ? json_string_value(val) : "", &odiag);
    }
    progress_ctx_t pctx = {progress_conn, job};
    ro.progress = record_progress;
    ro.progress_arg = &pctx;
    if (!quiet) fprintf(stderr, "fora: worker %s: job %s for forum %s\n", name, job, forum);

    fora_recompute_result_t res;
    fora_diag_t rdiag = FORA_DIAG_INIT;
    memset(&res, 0, sizeof(res));
    fora_err_t rerr = oerr != FORA_OK ? fora_diag_set(&rdiag, oerr, "job parameters: %s", odiag.msg)
                                      : fora_recompute_forum(conn, atoll(forum), &ro, &res, &rdiag);
    char run[24];
    snprintf(run, sizeof(run), "%lld", (long long)res.run_id);
    const char *pf[] = {
        job, rerr == FORA_OK ? NULL : (rdiag.msg[0] ? rdiag.msg : fora_strerror(rerr)), run};
    err = exec1(conn, "completing the job",
                "UPDATE recompute_jobs SET status = CASE WHEN $2::text IS NULL THEN 'completed'"
                " ELSE 'failed' END, error = $2, finished_at = clock_timestamp(),"
                " run_id = NULLIF($3::bigint, 0), progress = ''"
                " WHERE id = $1::bigint",
                3, pf, diag);
    const char *pu[] = {job};
    fora_diag_t ignore = FORA_DIAG_INIT;
    fora_err_t uerr =
        exec1(conn, "unlocking the job", "SELECT pg_advisory_unlock(" JOB_LOCK ")", 1, pu, &ignore);
    (void)uerr;
    json_decref(params);
    return err;
}

int fora_worker_loop(fora_worker_loop_t *w)
{
    PGconn *conn = NULL, *pconn = NULL;
    char name[300], host[256] = "localhost";
    gethostname(host, sizeof(host) - 1);
    snprintf(name, sizeof(name), "%s:%ld", host, (long)getpid());
    int rc = 0;
    while (!*w->stop) {
        fora_diag_t diag = FORA_DIAG_INIT;
        if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
            PQfinish(conn);
            PQfinish(pconn);
            conn = pconn = NULL;
            if (fora_db_connect(&w->db, &conn, &diag) != FORA_OK ||
                fora_db_connect(&w->db, &pconn, &diag) != FORA_OK) {
                if (!w->quiet) fprintf(stderr, "fora: worker: %s\n", diag.msg);
                if (w->once) {
                    rc = fora_err_exit_code(diag.code);
                    break;
                }
                goto sleep;
            }
        }
        bool did;
        if (fora_worker_run_one(conn, pconn, name, w->quiet, &did, &diag) != FORA_OK) {
            if (!w->quiet) fprintf(stderr, "fora: worker: %s\n", diag.msg);
            if (w->once) {
                rc = fora_err_exit_code(diag.code);
                break;
            }
            goto sleep;
        }
        if (did) continue;
        if (w->once) break;
    sleep:;
        /* wake up every 100 ms to see *stop, up to the poll interval */
        for (double t = 0; t < w->poll && !*w->stop; t += 0.1) {
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    PQfinish(conn);
    PQfinish(pconn);
    return rc;
}

/* ---- fora worker ---------------------------------------------------------------- */

static volatile sig_atomic_t worker_stop;

static void on_signal(int sig)
{
    (void)sig;
    worker_stop = 1;
}

static const char worker_usage[] =
    "Usage: fora worker [--once] [--poll SECONDS]\n"
    "Run queued recompute jobs (POST /v1/forums/{forum}/recompute) until stopped\n"
    "(SIGINT/SIGTERM: after the current job).  Any number of workers on any\n"
    "number of machines may share one database; each job runs once.\n"
    "  --once          stop when the queue is empty\n"
    "  --poll SECONDS  how often an idle worker looks at the queue (default 1)\n";

int fora_cmd_worker(int argc, char **argv)
{
    fora_cli_t cli = {0};
    fora_diag_t diag = FORA_DIAG_INIT;
    enum { OPT_ONCE = FORA_OPT_FIRST_OWN, OPT_POLL };
    static const struct option opts[] = {FORA_CLI_COMMON_OPTIONS,
                                         {"once", no_argument, NULL, OPT_ONCE},
                                         {"poll", required_argument, NULL, OPT_POLL},
                                         {NULL, 0, NULL, 0}};
    fora_worker_loop_t w = {.poll = 1, .stop = &worker_stop};
    long long poll = 1;
    int c;
    fora_dbconf_from_env(&cli.db);
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int r = fora_cli_common(&cli, c, worker_usage);
        if (r < 0) return 0;
        if (r > 0) continue;
        switch (c) {
        case OPT_ONCE:
            w.once = true;
            break;
        case OPT_POLL:
            if (!fora_cli_parse_int("worker", "poll", optarg, 1, 3600, &poll)) return 2;
            w.poll = (double)poll;
            break;
        default:
            return fora_cli_usage_error("worker", "unknown option");
        }
    }
    if (optind != argc) return fora_cli_usage_error("worker", "unexpected argument");
    /* check the schema once, and start the embedded cluster if it is ours */
    PGconn *conn = NULL;
    if (fora_cli_connect(&cli, true, &conn, &diag) != FORA_OK) return fora_cli_fail(&diag);
    PQfinish(conn);
    char conninfo[1024];
    if (fora_db_conninfo(&cli.db, NULL, conninfo, sizeof(conninfo), &diag) != FORA_OK)
        return fora_cli_fail(&diag);
    w.db.url = conninfo;
    w.db.quiet = true;
    w.quiet = cli.quiet;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    return fora_worker_loop(&w);
}
