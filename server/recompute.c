/*
 * server/recompute.c - one analysis run: record, load, compute, store.
 */
#include "fora/recompute.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fora/db.h"
#include "fora/progress.h"
#include "fora/projection.h"
#include "fora/snapshot.h"
#include "fora/snapshot_load.h"
#include "fora/timeparse.h"
#include "recompute_internal.h"

fora_err_t fora_recompute_sweep(PGconn *conn, int64_t *swept, fora_diag_t *diag)
{
    /*
     * A bigint advisory key shows in pg_locks as classid = high 32 bits,
     * objid = low 32 bits, objsubid = 1; pg_locks shows the locks of every
     * database of the server, so only this database's count.
     */
    PGresult *res = PQexec(
        conn, "UPDATE analysis_runs r SET status = 'failed', finished_at = clock_timestamp(),"
              " error = 'interrupted: the process computing the run ended before it finished'"
              " WHERE r.status = 'running' AND NOT EXISTS (SELECT 1 FROM pg_locks l"
              "  WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted"
              "  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
              "  AND l.classid = (r.id >> 32)::oid AND l.objid = (r.id & 4294967295)::oid)");
    fora_err_t err = fora_db_check(res, PGRES_COMMAND_OK, "sweeping interrupted runs", diag);
    if (err == FORA_OK && swept) *swept = atoll(PQcmdTuples(res));
    PQclear(res);
    return err;
}

fora_err_t fora__run_exec(PGconn *conn, const char *what, const char *sql, int n,
                          const char *const *p, fora_diag_t *diag)
{
    PGresult *res = PQexecParams(conn, sql, n, NULL, p, NULL, NULL, 0);
    ExecStatusType want =
        PQresultStatus(res) == PGRES_TUPLES_OK ? PGRES_TUPLES_OK : PGRES_COMMAND_OK;
    fora_err_t err = fora_db_check(res, want, what, diag);
    PQclear(res);
    return err;
}

/* ---- COPY buffers ------------------------------------------------------------ */

static char *copy_room(fora__copy_buf_t *b, size_t need)
{
    if (b->len + need > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->len + need)
            cap *= 2;
        b->data = fora_xrealloc(b->data, cap);
        b->cap = cap;
    }
    return b->data + b->len;
}

void fora__copy_int(fora__copy_buf_t *b, int64_t v)
{
    char *p = copy_room(b, 24);
    b->len += (size_t)snprintf(p, 24, "%lld\t", (long long)v);
}

void fora__copy_double(fora__copy_buf_t *b, double v)
{
    if (!isfinite(v)) {
        fora__copy_null(b);
        return;
    }
    char *p = copy_room(b, 32);
    b->len += (size_t)snprintf(p, 32, "%.17g\t", v);
}

void fora__copy_null(fora__copy_buf_t *b)
{
    char *p = copy_room(b, 3);
    memcpy(p, "\\N\t", 3);
    b->len += 3;
}

void fora__copy_text(fora__copy_buf_t *b, const char *s)
{
    size_t n = strlen(s);
    char *p = copy_room(b, 2 * n + 1), *o = p;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\\' || c == '\t' || c == '\n' || c == '\r') {
            *o++ = '\\';
            c = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : c;
        }
        *o++ = c;
    }
    *o++ = '\t';
    b->len += (size_t)(o - p);
}

void fora__copy_raw(fora__copy_buf_t *b, const char *s)
{
    size_t n = strlen(s);
    char *p = copy_room(b, n + 1);
    memcpy(p, s, n);
    p[n] = '\t';
    b->len += n + 1;
}

void fora__copy_end_row(fora__copy_buf_t *b)
{
    assert(b->len > 0 && b->data[b->len - 1] == '\t');
    b->data[b->len - 1] = '\n';
}

void fora__copy_free(fora__copy_buf_t *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

fora_err_t fora__copy_send(PGconn *conn, const char *copy_sql, fora__copy_buf_t *b,
                           fora_diag_t *diag)
{
    PGresult *res = PQexec(conn, copy_sql);
    fora_err_t err = fora_db_check(res, PGRES_COPY_IN, copy_sql, diag);
    PQclear(res);
    if (err != FORA_OK) return err;
    /* PQputCopyData takes an int length: send in chunks */
    size_t off = 0;
    bool ok = true;
    while (ok && off < b->len) {
        size_t n = b->len - off < (1u << 24) ? b->len - off : (1u << 24);
        ok = PQputCopyData(conn, b->data + off, (int)n) == 1;
        off += n;
    }
    if (PQputCopyEnd(conn, ok ? NULL : "send failed") != 1) ok = false;
    res = PQgetResult(conn);
    err = fora_db_check(res, PGRES_COMMAND_OK, copy_sql, diag);
    PQclear(res);
    while ((res = PQgetResult(conn)) != NULL)
        PQclear(res);
    if (err == FORA_OK && !ok)
        err = fora_diag_set(diag, FORA_EDB, "sending COPY data: %s", PQerrorMessage(conn));
    b->len = 0;
    return err;
}

/* ---- the run ----------------------------------------------------------------- */

/* The steps, in the order they run and store; summary always runs. */
/* clang-format off */
static const fora__run_step_t *const steps[] = {
    &fora__run_step_summary,
    &fora__run_step_keyplayers,
    &fora__run_step_trajectories,
    &fora__run_step_linking,
    &fora__run_step_linking_cross, /* only with link_with: wanted() */
};
/* clang-format on */
#define NSTEPS (sizeof(steps) / sizeof(steps[0]))

void fora_recompute_opts_init(fora_recompute_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    fora_graph_opts_init(&o->graph);
    o->seed = 1;
    fora_centrality_opts_init(&o->kp.centrality);
    fora_composite_weights_init(&o->kp.weights);
    fora_kpp_opts_init(&o->kp.kpp);
    fora_disruption_opts_init(&o->kp.disruption);
    o->kp.staff_labels = NULL;
    o->kp.max_thread_members = FORA_PROJECTION_MAX_THREAD_MEMBERS;
    o->kp.lorenz_points = 100;
    fora_traj_opts_init(&o->traj);
}

const char *const fora_recompute_option_names[] = {
    "seed", "only", "from", "to", "reply_rule", "weights", "staff_labels", "kpp_k", "repetitions",
    /* fora_traj_opts_set()'s names with "traj_" */
    "traj_period", "traj_time", "traj_model", "traj_zero_order", "traj_order", "traj_kmin",
    "traj_kmax", "traj_starts", "traj_min_share", "traj_exposure", "traj_labels", "link_with",
    NULL};

static bool parse_ll(const char *s, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) return false;
    *out = v;
    return true;
}

fora_err_t fora_recompute_opts_set(fora_recompute_opts_t *o, const char *name, const char *value,
                                   fora_diag_t *diag)
{
    long long v;
    int64_t usec;
    if (strcmp(name, "seed") == 0) {
        if (!parse_ll(value, 0, INT64_MAX, &v))
            return fora_diag_set(diag, FORA_EINVAL, "seed must be a whole number from 0 to %lld",
                                 (long long)INT64_MAX);
        o->seed = (uint64_t)v;
    } else if (strcmp(name, "only") == 0) {
        fora_err_t err = fora_recompute_check_only(value, diag);
        if (err != FORA_OK) return err;
        o->only = value;
    } else if (strcmp(name, "from") == 0 || strcmp(name, "to") == 0) {
        if (!fora_time_parse(value, strlen(value), &usec))
            return fora_diag_set(diag, FORA_EINVAL,
                                 "%s must be a timestamp (YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM]) or"
                                 " Unix seconds, not \"%.64s\"",
                                 name, value);
        int64_t t = usec >= 0 ? usec / 1000000 : -((-usec + 999999) / 1000000);
        if (name[0] == 'f')
            o->graph.from = t;
        else
            o->graph.to = t;
        if (o->graph.from != FORA_TIME_NONE && o->graph.to != FORA_TIME_NONE &&
            o->graph.from >= o->graph.to)
            return fora_diag_set(diag, FORA_EINVAL, "%s: the window must have from < to", name);
    } else if (strcmp(name, "reply_rule") == 0) {
        return fora_reply_rule_parse(value, &o->graph.rule, diag);
    } else if (strcmp(name, "weights") == 0) {
        return fora_composite_weights_parse(value, &o->kp.weights, diag);
    } else if (strcmp(name, "staff_labels") == 0) {
        if (value[0] == '\0' || strlen(value) > 1000)
            return fora_diag_set(
                diag, FORA_EINVAL,
                "staff_labels must be 1-1000 characters of comma-separated labels");
        o->kp.staff_labels = value;
    } else if (strcmp(name, "kpp_k") == 0) {
        if (!parse_ll(value, 1, 1000, &v))
            return fora_diag_set(diag, FORA_EINVAL, "kpp_k must be a whole number from 1 to 1000");
        o->kp.kpp.k = (int32_t)v;
    } else if (strcmp(name, "repetitions") == 0) {
        if (!parse_ll(value, 1, 1000, &v))
            return fora_diag_set(diag, FORA_EINVAL,
                                 "repetitions must be a whole number from 1 to 1000");
        o->kp.disruption.repetitions = (int32_t)v;
    } else if (strcmp(name, "link_with") == 0) {
        if (value[0] == '\0' || strlen(value) > 200)
            return fora_diag_set(diag, FORA_EINVAL,
                                 "link_with must be another forum's name or id (1-200 characters)");
        o->link_with = value;
    } else if (strncmp(name, "traj_", 5) == 0) {
        return fora_traj_opts_set(&o->traj, name, value, diag);
    } else {
        return fora_diag_set(diag, FORA_EINVAL, "unknown run option \"%.64s\"", name);
    }
    return FORA_OK;
}

const char *fora_recompute_step_name(size_t i)
{
    return i < NSTEPS ? steps[i]->name : NULL;
}

/* Whether the options ask for step s at all: linking_cross only with link_with. */
static bool wanted(const fora__run_step_t *s, const fora_recompute_opts_t *opts)
{
    return s != &fora__run_step_linking_cross || opts->link_with != NULL;
}

/* Whether `name` is in the comma-separated list `only` (NULL: every step). */
static bool in_list(const char *only, const char *name)
{
    if (only == NULL || strcmp(name, "summary") == 0) return true;
    size_t n = strlen(name);
    for (const char *p = only; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, name, n) == 0) return true;
        p += len;
        if (*p == ',') p++;
    }
    return false;
}

fora_err_t fora_recompute_check_only(const char *only, fora_diag_t *diag)
{
    if (only == NULL) return FORA_OK;
    for (const char *p = only; *p;) {
        size_t len = strcspn(p, ",");
        bool known = false;
        for (size_t i = 0; i < NSTEPS && !known; i++)
            known = strlen(steps[i]->name) == len && strncmp(p, steps[i]->name, len) == 0;
        if (!known) {
            /* the accepted names are the step table's, so a new step needs no edit here */
            char names[256] = "";
            size_t n = 0;
            for (size_t i = 0; i < NSTEPS && n < sizeof(names); i++)
                n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", i ? ", " : "",
                                      steps[i]->name);
            return fora_diag_set(diag, FORA_EINVAL, "unknown analysis \"%.*s\" (known: %s)",
                                 (int)len, p, names);
        }
        p += len;
        if (*p == ',') p++;
    }
    return FORA_OK;
}

/*
 * Result tables that were never analysed (the first runs after a migration)
 * have no statistics, and the API's queries then get nested-loop plans that
 * scan a run's rows once per row.  Analyse them once; autovacuum keeps the
 * statistics current afterwards.  Failures only cost speed: ignored.
 */
static void analyze_new_tables(PGconn *conn)
{
    PGresult *r = PQexec(conn, "SELECT quote_ident(relname) FROM pg_stat_user_tables"
                               " WHERE relname LIKE 'run\\_%' AND last_analyze IS NULL"
                               " AND last_autoanalyze IS NULL");
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
        for (int i = 0; i < PQntuples(r); i++) {
            char sql[200];
            snprintf(sql, sizeof(sql), "ANALYZE %s", PQgetvalue(r, i, 0));
            PQclear(PQexec(conn, sql));
        }
    PQclear(r);
}

static json_t *time_or_null(int64_t t)
{
    char buf[40];
    if (t == FORA_TIME_NONE) return json_null();
    fora_time_format_pg(t * 1000000, buf);
    return json_string(buf);
}

fora_err_t fora_recompute_forum(PGconn *conn, int64_t forum_id, const fora_recompute_opts_t *opts,
                                fora_recompute_result_t *res, fora_diag_t *diag)
{
    fora_snapshot_t *snap = NULL;
    fora_err_t err;
    bool in_tx = false;
    char forum[24], run[24] = "", watermark[24];
    char *params_s = NULL, *analyses_s = NULL, *timings_s = NULL;
    json_t *params = NULL, *analyses = NULL, *timings = NULL;
    void *state[NSTEPS] = {0};
    bool on[NSTEPS];
    double t0 = fora_now_seconds(), t;

    memset(res, 0, sizeof(*res));
    snprintf(forum, sizeof(forum), "%lld", (long long)forum_id);
    if ((err = fora_recompute_check_only(opts->only, diag)) != FORA_OK) return err;
    if ((err = fora_recompute_sweep(conn, NULL, diag)) != FORA_OK) return err;

    /* the run's parameters: the graph's, then each step's own */
    params = json_pack("{s:s, s:b, s:o, s:o, s:I}", "reply_rule",
                       fora_reply_rule_name(opts->graph.rule), "keep_self_loops",
                       opts->graph.keep_self_loops, "from", time_or_null(opts->graph.from), "to",
                       time_or_null(opts->graph.to), "seed", (json_int_t)opts->seed);
    analyses = json_array();
    timings = json_object();
    if (params == NULL || analyses == NULL || timings == NULL) {
        err = fora_diag_set(diag, FORA_ENOMEM, "building the run parameters");
        goto out;
    }
    for (size_t i = 0; i < NSTEPS; i++) {
        on[i] = in_list(opts->only, steps[i]->name) && wanted(steps[i], opts);
        if (!on[i]) continue;
        json_array_append_new(analyses, json_string(steps[i]->name));
        if (steps[i]->params) steps[i]->params(opts, params);
    }
    params_s = json_dumps(params, JSON_COMPACT | JSON_REAL_PRECISION(12));
    analyses_s = json_dumps(analyses, JSON_COMPACT);

    /* 1. record the run (committed now, so a crash leaves a trace) and lock it */
    const char *p1[] = {forum, params_s, analyses_s};
    PGresult *r = PQexecParams(
        conn,
        "INSERT INTO analysis_runs (forum_id, params, analyses, watermark)"
        " SELECT id, $2::jsonb, ARRAY(SELECT jsonb_array_elements_text($3::jsonb)), data_version"
        " FROM forums WHERE id = $1 RETURNING id, pg_advisory_lock(id)",
        3, NULL, p1, NULL, NULL, 0);
    err = fora_db_check(r, PGRES_TUPLES_OK, "creating the run", diag);
    if (err == FORA_OK && PQntuples(r) == 0)
        err = fora_diag_set(diag, FORA_ENOTFOUND, "no forum with id %s", forum);
    if (err == FORA_OK) {
        snprintf(run, sizeof(run), "%s", PQgetvalue(r, 0, 0));
        res->run_id = atoll(run);
    }
    PQclear(r);
    if (err != FORA_OK) goto out;
    if (!opts->quiet) fprintf(stderr, "fora: run %s for forum %s: loading snapshot\n", run, forum);
    int phases = 2, phase = 0; /* loading, the steps, storing */
    for (size_t i = 0; i < NSTEPS; i++)
        phases += on[i];
    if (opts->progress) opts->progress(opts->progress_arg, res->run_id, "loading", phase++, phases);

    /* 2. load and compute (no transaction open on conn while computing) */
    t = fora_now_seconds();
    if ((err = fora_snapshot_load(conn, forum_id, &snap, diag)) != FORA_OK) goto fail;
    json_object_set_new(timings, "load", json_real(fora_now_seconds() - t));
    if (!opts->quiet)
        fprintf(stderr, "fora: run %s: %d members, %d threads, %d posts loaded in %.2f s\n", run,
                snap->members.n, snap->threads.n, snap->posts.n, fora_now_seconds() - t);
    fora__run_ctx_t ctx = {
        .conn = conn, .run = run, .run_id = res->run_id, .snap = snap, .opts = opts};
    for (size_t i = 0; i < NSTEPS; i++) {
        if (!on[i]) continue;
        t = fora_now_seconds();
        if (opts->progress)
            opts->progress(opts->progress_arg, res->run_id, steps[i]->name, phase++, phases);
        if ((err = steps[i]->compute(&ctx, &state[i], diag)) != FORA_OK) {
            fora_diag_prefix(diag, "%s: ", steps[i]->name);
            goto fail;
        }
        json_object_set_new(timings, steps[i]->name, json_real(fora_now_seconds() - t));
        if (!opts->quiet)
            fprintf(stderr, "fora: run %s: %s computed in %.2f s\n", run, steps[i]->name,
                    fora_now_seconds() - t);
    }

    /* 3. store everything and complete the run in one transaction */
    t = fora_now_seconds();
    if (opts->progress) opts->progress(opts->progress_arg, res->run_id, "storing", phase++, phases);
    if ((err = fora_db_exec(conn, "BEGIN", diag)) != FORA_OK) goto fail;
    in_tx = true;
    for (size_t i = 0; i < NSTEPS; i++) {
        if (!on[i]) continue;
        if ((err = steps[i]->store(&ctx, state[i], diag)) != FORA_OK) {
            fora_diag_prefix(diag, "storing %s: ", steps[i]->name);
            goto fail;
        }
    }
    json_object_set_new(timings, "store", json_real(fora_now_seconds() - t));
    json_object_set_new(timings, "total", json_real(fora_now_seconds() - t0));
    timings_s = json_dumps(timings, JSON_COMPACT | JSON_REAL_PRECISION(6));
    snprintf(watermark, sizeof(watermark), "%lld", (long long)snap->forum.data_version);
    const char *p3[] = {run, timings_s, watermark};
    if ((err = fora__run_exec(conn, "completing the run",
                              "UPDATE analysis_runs SET status = 'completed',"
                              " finished_at = clock_timestamp(), timings = $2::jsonb,"
                              " watermark = $3::bigint WHERE id = $1",
                              3, p3, diag)) != FORA_OK)
        goto fail;
    if ((err = fora_db_exec(conn, "COMMIT", diag)) != FORA_OK) goto fail;
    in_tx = false;
    analyze_new_tables(conn);
    res->watermark = snap->forum.data_version;
    res->seconds = fora_now_seconds() - t0;
    goto out;

fail:
    if (in_tx) PQclear(PQexec(conn, "ROLLBACK"));
    if (PQstatus(conn) == CONNECTION_OK) {
        const char *p4[] = {run, diag->msg[0] ? diag->msg : fora_strerror(err)};
        fora_diag_t ignore = FORA_DIAG_INIT;
        fora_err_t ignored =
            fora__run_exec(conn, "recording the failure",
                           "UPDATE analysis_runs SET status = 'failed',"
                           " finished_at = clock_timestamp(), error = $2 WHERE id = $1",
                           2, p4, &ignore);
        (void)ignored;
    }
out:
    if (run[0] && PQstatus(conn) == CONNECTION_OK) {
        const char *p5[] = {run};
        fora_diag_t ignore = FORA_DIAG_INIT;
        fora_err_t ignored = fora__run_exec(
            conn, "unlocking the run", "SELECT pg_advisory_unlock($1::bigint)", 1, p5, &ignore);
        (void)ignored;
    }
    for (size_t i = 0; i < NSTEPS; i++)
        if (state[i] && steps[i]->destroy) steps[i]->destroy(state[i]);
    fora_snapshot_destroy(snap);
    json_decref(params);
    json_decref(analyses);
    json_decref(timings);
    free(params_s);
    free(analyses_s);
    free(timings_s);
    return err;
}
