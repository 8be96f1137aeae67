/*
 * server/api.c - the router, the helpers every route file shares
 * (server/api_internal.h) and the core routes: forums, runs, summary, health.
 *
 * Handlers let PostgreSQL build each document with json_build_object() and
 * json_agg() (one round trip, no per-row C code), parse it into Jansson and
 * wrap it.  Every statement is parameterised.
 */
#include "api_internal.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fora/progress.h"
#include "fora/snapshot.h"
#include "fora/snapshot_load.h"
#include "fora/timeparse.h"

json_t *fora_api_error_body(fora_err_t code, const char *message, const char *detail)
{
    return json_pack("{s:{s:s, s:s, s:s?}}", "error", "code", fora_err_api_code(code), "message",
                     message ? message : fora_strerror(code), "detail", detail);
}

void fora__api_error(fora_api_response_t *resp, fora_err_t code, const char *message,
                     const char *detail)
{
    json_decref(resp->body);
    free(resp->text);
    resp->text = NULL;
    resp->status = fora_err_http_status(code);
    resp->body = fora_api_error_body(code, message, detail);
}

void fora__api_diag(fora_api_response_t *resp, const fora_diag_t *diag)
{
    if (diag->code == FORA_EDB || diag->code == FORA_ETIMEOUT) {
        json_t *line = json_pack("{s:s, s:s}", "level", "error", "msg", diag->msg);
        char *l = line ? json_dumps(line, JSON_COMPACT) : NULL;
        if (l) fprintf(stderr, "%s\n", l);
        free(l);
        json_decref(line);
    }
    /* database detail is for the log, not for clients */
    if (diag->code == FORA_ETIMEOUT)
        fora__api_error(resp, diag->code,
                        "the database query ran past the server's statement timeout"
                        " (fora serve --statement-timeout); try again or narrow the request",
                        NULL);
    else if (diag->code == FORA_EDB)
        fora__api_error(resp, diag->code, "the database is unavailable", NULL);
    else
        fora__api_error(resp, diag->code, diag->msg, NULL);
}

void fora__api_ok(fora_api_response_t *resp, json_t *body)
{
    json_decref(resp->body);
    resp->status = 200;
    resp->body = body;
}

/* ---- parameters ------------------------------------------------------------ */

const char *fora__api_param(const fora_api_request_t *req, const char *key)
{
    for (size_t i = 0; i < req->nparams; i++)
        if (strcmp(req->params[i].key, key) == 0) return req->params[i].value;
    return NULL;
}

/* Rejects parameters a route does not know, so a typo is not silently ignored. */
bool fora__api_only_params(fora__api_ctx_t *ctx, const char *const *known)
{
    const fora_api_request_t *req = ctx->req;
    for (size_t i = 0; i < req->nparams; i++) {
        bool ok = false;
        for (const char *const *k = known; *k && !ok; k++)
            ok = strcmp(req->params[i].key, *k) == 0;
        for (size_t j = 0; j < i && ok; j++)
            if (strcmp(req->params[j].key, req->params[i].key) == 0) {
                char msg[160];
                snprintf(msg, sizeof(msg), "parameter \"%.64s\" is given more than once",
                         req->params[i].key);
                fora__api_error(ctx->resp, FORA_EINVAL, msg, req->params[i].key);
                return false;
            }
        if (!ok) {
            char msg[160];
            snprintf(msg, sizeof(msg), "unknown parameter \"%.64s\"", req->params[i].key);
            fora__api_error(ctx->resp, FORA_EINVAL, msg, req->params[i].key);
            return false;
        }
    }
    return true;
}

bool fora__api_int_param(fora__api_ctx_t *ctx, const char *key, long long def, long long min,
                         long long max, long long *out)
{
    const char *v = fora__api_param(ctx->req, key);
    *out = def;
    if (v == NULL) return true;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (*v == '\0' || *end != '\0' || errno != 0 || n < min || n > max) {
        char msg[200];
        snprintf(msg, sizeof(msg), "parameter \"%s\" must be a whole number from %lld to %lld", key,
                 min, max);
        fora__api_error(ctx->resp, FORA_EINVAL, msg, key);
        return false;
    }
    *out = n;
    return true;
}

bool fora__api_double_param(fora__api_ctx_t *ctx, const char *key, double def, double min,
                            double max, double *out)
{
    const char *v = fora__api_param(ctx->req, key);
    *out = def;
    if (v == NULL) return true;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (*v == '\0' || *end != '\0' || errno != 0 || !isfinite(x) || x < min || x > max) {
        char msg[200];
        snprintf(msg, sizeof(msg), "parameter \"%s\" must be a number from %g to %g", key, min,
                 max);
        fora__api_error(ctx->resp, FORA_EINVAL, msg, key);
        return false;
    }
    *out = x;
    return true;
}

bool fora__api_enum_param(fora__api_ctx_t *ctx, const char *key, const char *const *values, int def,
                          int *out)
{
    const char *v = fora__api_param(ctx->req, key);
    *out = def;
    if (v == NULL) return true;
    for (int i = 0; values[i]; i++)
        if (strcmp(v, values[i]) == 0) {
            *out = i;
            return true;
        }
    char msg[400];
    size_t n = (size_t)snprintf(msg, sizeof(msg), "parameter \"%s\" must be one of", key);
    for (int i = 0; values[i] && n < sizeof(msg); i++)
        n += (size_t)snprintf(msg + n, sizeof(msg) - n, "%s %s", i ? "," : "", values[i]);
    fora__api_error(ctx->resp, FORA_EINVAL, msg, key);
    return false;
}

bool fora__api_time_param(fora__api_ctx_t *ctx, const char *key, int64_t *out)
{
    const char *v = fora__api_param(ctx->req, key);
    int64_t usec;
    *out = FORA_TIME_NONE;
    if (v == NULL) return true;
    if (!fora_time_parse(v, strlen(v), &usec)) {
        char msg[200];
        snprintf(msg, sizeof(msg),
                 "parameter \"%s\" must be a timestamp (YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM]) or "
                 "Unix seconds",
                 key);
        fora__api_error(ctx->resp, FORA_EINVAL, msg, key);
        return false;
    }
    /* floor to seconds, as the snapshot stores times */
    *out = usec >= 0 ? usec / 1000000 : -((-usec + 999999) / 1000000);
    return true;
}

bool fora__api_page_param(fora__api_ctx_t *ctx, fora__api_page_t *page)
{
    if (!fora__api_int_param(ctx, "limit", FORA_API_DEFAULT_LIMIT, 1, FORA_API_MAX_LIMIT,
                             &page->limit) ||
        !fora__api_int_param(ctx, "offset", 0, 0, INT32_MAX, &page->offset))
        return false;
    snprintf(page->limit_s, sizeof(page->limit_s), "%lld", page->limit);
    snprintf(page->offset_s, sizeof(page->offset_s), "%lld", page->offset);
    return true;
}

bool fora__api_sort_param(fora__api_ctx_t *ctx, const char *const *allowed, int def, bool def_desc,
                          int *idx, bool *desc)
{
    const char *v = fora__api_param(ctx->req, "sort");
    *idx = def;
    *desc = def_desc;
    if (v == NULL) return true;
    bool d = v[0] == '-';
    const char *name = d || v[0] == '+' ? v + 1 : v;
    for (int i = 0; allowed[i]; i++)
        if (strcmp(name, allowed[i]) == 0) {
            *idx = i;
            *desc = d;
            return true;
        }
    char msg[600];
    size_t n = (size_t)snprintf(msg, sizeof(msg),
                                "parameter \"sort\" must be a field, optionally after '-' for "
                                "descending order:");
    for (int i = 0; allowed[i] && n < sizeof(msg); i++)
        n += (size_t)snprintf(msg + n, sizeof(msg) - n, "%s %s", i ? "," : "", allowed[i]);
    fora__api_error(ctx->resp, FORA_EINVAL, msg, "sort");
    return false;
}

/* ---- running queries ------------------------------------------------------- */

fora_err_t fora__api_query_json(PGconn *conn, const char *sql, int n, const char *const *p,
                                json_t **out, fora_diag_t *diag)
{
    *out = NULL;
    PGresult *res = PQexecParams(conn, sql, n, NULL, p, NULL, NULL, 0);
    fora_err_t err = fora_db_check(res, PGRES_TUPLES_OK, "api query", diag);
    if (err == FORA_OK && PQntuples(res) > 0 && !PQgetisnull(res, 0, 0)) {
        json_error_t jerr;
        *out = json_loads(PQgetvalue(res, 0, 0), JSON_DECODE_ANY, &jerr);
        if (*out == NULL)
            err = fora_diag_set(diag, FORA_EINTERNAL, "bad JSON from the database: %s", jerr.text);
    }
    PQclear(res);
    return err;
}

void fora__api_reply_query(fora__api_ctx_t *ctx, const char *sql, int n, const char *const *p,
                           const char *not_found, const char *not_found_detail)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    json_t *doc;
    if (fora__api_query_json(ctx->conn, sql, n, p, &doc, &diag) != FORA_OK)
        fora__api_diag(ctx->resp, &diag);
    else if (doc == NULL)
        fora__api_error(ctx->resp, FORA_ENOTFOUND, not_found ? not_found : "not found",
                        not_found_detail);
    else
        fora__api_ok(ctx->resp, doc);
}

/* Resolves a forum by name or id (fora_forum_lookup) into its id as text. */
bool fora__api_resolve_forum(fora__api_ctx_t *ctx, const char *key, char *id, size_t len)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    int64_t forum_id;
    if (fora_forum_lookup(ctx->conn, key, &forum_id, &diag) != FORA_OK) {
        if (diag.code == FORA_ENOTFOUND)
            fora__api_error(ctx->resp, FORA_ENOTFOUND, diag.msg, "forum");
        else
            fora__api_diag(ctx->resp, &diag);
        return false;
    }
    snprintf(id, len, "%lld", (long long)forum_id);
    return true;
}

bool fora__api_forum_run(fora__api_ctx_t *ctx, const char *analysis, char *forum, char *run)
{
    return fora__api_resolve_forum(ctx, ctx->seg[0], forum, FORA_API_ID_LEN) &&
           fora__api_pick_run(ctx, forum, analysis, run, FORA_API_ID_LEN);
}

bool fora__api_pick_run(fora__api_ctx_t *ctx, const char *forum_id, const char *analysis, char *run,
                        size_t len)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    long long want;
    if (!fora__api_int_param(ctx, "run", 0, 1, INT64_MAX, &want)) return false;
    char w[24];
    snprintf(w, sizeof(w), "%lld", want);
    const char *p[] = {forum_id, w, analysis};
    PGresult *res =
        PQexecParams(ctx->conn,
                     "SELECT id, status, $3::text IS NULL OR $3 = ANY(analyses) FROM analysis_runs"
                     " WHERE forum_id = $1::bigint"
                     " AND ($2::bigint = 0 OR id = $2::bigint)"
                     " AND ($2::bigint <> 0 OR (status = 'completed'"
                     "      AND ($3::text IS NULL OR $3 = ANY(analyses))))"
                     " ORDER BY id DESC LIMIT 1",
                     FORA_NPARAMS(p), NULL, p, NULL, NULL, 0);
    if (fora_db_check(res, PGRES_TUPLES_OK, "finding the run", &diag) != FORA_OK) {
        PQclear(res);
        fora__api_diag(ctx->resp, &diag);
        return false;
    }
    bool found = PQntuples(res) > 0;
    bool completed = found && strcmp(PQgetvalue(res, 0, 1), "completed") == 0;
    bool has = found && strcmp(PQgetvalue(res, 0, 2), "t") == 0;
    if (!completed || !has) {
        char msg[240];
        if (want == 0 && analysis)
            snprintf(msg, sizeof(msg),
                     "the forum has no completed analysis run with %s yet "
                     "(run `fora recompute`)",
                     analysis);
        else if (want == 0)
            snprintf(msg, sizeof(msg),
                     "the forum has no completed analysis run yet (run `fora recompute`)");
        else if (!found)
            snprintf(msg, sizeof(msg), "no run %lld for this forum", want);
        else if (!completed)
            snprintf(msg, sizeof(msg), "run %lld is %s, not completed", want,
                     PQgetvalue(res, 0, 1));
        else
            snprintf(msg, sizeof(msg), "run %lld did not compute %s", want, analysis);
        fora__api_error(ctx->resp, FORA_ENOTFOUND, msg, "run");
    } else {
        snprintf(run, len, "%s", PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    return completed && has;
}

/* ---- core routes ------------------------------------------------------------- */

/* The JSON of a forum row f, with its latest completed run. */
#define FORUM_JSON                                                                                 \
    "json_build_object('id', f.id, 'name', f.name, 'source', f.source,"                            \
    " 'timezone', f.timezone, 'data_version', f.data_version,"                                     \
    " 'latest_run', (SELECT json_build_object('id', r.id, 'finished_at', r.finished_at,"           \
    "   'watermark', r.watermark, 'stale', r.watermark < f.data_version)"                          \
    "   FROM analysis_runs r WHERE r.forum_id = f.id AND r.status = 'completed'"                   \
    "   ORDER BY r.id DESC LIMIT 1))"

static void h_forums(fora__api_ctx_t *ctx)
{
    static const char *const known[] = {"limit", "offset", NULL};
    fora__api_page_t pg;
    if (!fora__api_only_params(ctx, known) || !fora__api_page_param(ctx, &pg)) return;
    const char *p[] = {pg.limit_s, pg.offset_s};
    fora__api_reply_query(ctx,
                          "SELECT json_build_object('total', (SELECT count(*) FROM forums),"
                          " 'limit', $1::int, 'offset', $2::int,"
                          " 'items', COALESCE((SELECT json_agg(x.j ORDER BY x.name) FROM"
                          "  (SELECT " FORUM_JSON " AS j, f.name FROM forums f ORDER BY f.name"
                          "   LIMIT $1::int OFFSET $2::int) x), '[]'::json))",
                          FORA_NPARAMS(p), p, NULL, NULL);
}

static void h_forum(fora__api_ctx_t *ctx)
{
    static const char *const known[] = {NULL};
    char id[24];
    if (!fora__api_only_params(ctx, known) ||
        !fora__api_resolve_forum(ctx, ctx->seg[0], id, sizeof(id)))
        return;
    const char *p[] = {id};
    fora__api_reply_query(ctx, "SELECT " FORUM_JSON " FROM forums f WHERE f.id = $1::bigint",
                          FORA_NPARAMS(p), p, "forum not found", "forum");
}

static void h_runs(fora__api_ctx_t *ctx)
{
    static const char *const known[] = {"limit", "offset", "status", NULL};
    static const char *const statuses[] = {"running", "completed", "failed", NULL};
    fora__api_page_t pg;
    char id[24];
    int st = -1;
    if (!fora__api_only_params(ctx, known) || !fora__api_page_param(ctx, &pg) ||
        !fora__api_enum_param(ctx, "status", statuses, -1, &st) ||
        !fora__api_resolve_forum(ctx, ctx->seg[0], id, sizeof(id)))
        return;
    const char *p[] = {id, pg.limit_s, pg.offset_s, st < 0 ? NULL : statuses[st]};
    fora__api_reply_query(
        ctx,
        "SELECT json_build_object("
        " 'total', (SELECT count(*) FROM analysis_runs WHERE forum_id = $1::bigint"
        "   AND ($4::text IS NULL OR status = $4)),"
        " 'limit', $2::int, 'offset', $3::int,"
        " 'items', COALESCE((SELECT json_agg(x.j ORDER BY x.id DESC) FROM"
        "  (SELECT r.id, json_build_object('id', r.id, 'status', r.status,"
        "   'params', r.params, 'analyses', r.analyses, 'watermark', r.watermark,"
        "   'stale', r.watermark < f.data_version, 'started_at', r.started_at,"
        "   'finished_at', r.finished_at, 'timings', r.timings, 'error', r.error) AS j"
        "   FROM analysis_runs r JOIN forums f ON f.id = r.forum_id"
        "   WHERE r.forum_id = $1::bigint AND ($4::text IS NULL OR r.status = $4)"
        "   ORDER BY r.id DESC LIMIT $2::int OFFSET $3::int) x), '[]'::json))",
        FORA_NPARAMS(p), p, NULL, NULL);
}

static void h_summary(fora__api_ctx_t *ctx)
{
    static const char *const known[] = {"run", NULL};
    char id[24], run[24];
    if (!fora__api_only_params(ctx, known) ||
        !fora__api_resolve_forum(ctx, ctx->seg[0], id, sizeof(id)) ||
        !fora__api_pick_run(ctx, id, "summary", run, sizeof(run)))
        return;
    const char *p[] = {run};
    fora__api_reply_query(ctx,
                          "SELECT json_build_object('run', " FORA_API_RUN_JSON ","
                          " 'forum', json_build_object('id', f.id, 'name', f.name),"
                          " 'summary', to_jsonb(s) - 'run_id')"
                          " FROM analysis_runs r JOIN forums f ON f.id = r.forum_id"
                          " JOIN run_summary s ON s.run_id = r.id WHERE r.id = $1::bigint",
                          FORA_NPARAMS(p), p, "the run has no summary", "run");
}

static void h_healthz(fora__api_ctx_t *ctx)
{
    fora__api_ok(ctx->resp, json_pack("{s:s}", "status", "ok"));
}

static void h_readyz(fora__api_ctx_t *ctx)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    int pending = 0;
    if (fora_migrate_pending(ctx->conn, fora_migrations_dir(), &pending, &diag) != FORA_OK) {
        fora__api_diag(ctx->resp, &diag);
        return;
    }
    if (pending > 0) {
        fora__api_error(ctx->resp, FORA_ESCHEMA, "the database schema is behind: run fora migrate",
                        NULL);
        return;
    }
    fora__api_ok(ctx->resp, json_pack("{s:s}", "status", "ready"));
}

/* ---- the result cache ----------------------------------------------------------- */

/*
 * Answers of the forum routes depend only on the forum's data (its
 * data_version) and on which runs completed (the newest completed run id):
 * a completed run never changes.  So `fora serve` keeps recent 200 answers,
 * keyed by the request (path and parameters in order) and stamped with those
 * two numbers; one indexed query reads the current stamp, and a matching
 * entry is sent without running the route.  Routes whose answer changes
 * otherwise (the runs list, with running and failed runs; jobs) are not
 * cached.  Direct-mapped: a colliding request replaces the older entry.
 * Process-wide, behind one mutex (like the snapshot cache).
 */
#define CACHE_SLOTS 1024
#define CACHE_MAX_BODY (4u << 20)    /* larger answers are not kept */
#define CACHE_MAX_BYTES (128u << 20) /* all bodies together */

typedef struct cache_slot {
    char *key;
    int64_t forum, version, run; /* the stamp */
    char *body;                  /* compact JSON */
    size_t len;
    char etag[24]; /* fora_api_etag() of body */
} cache_slot_t;

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static cache_slot_t cache[CACHE_SLOTS];
static size_t cache_bytes;
static uint64_t cache_hits, cache_misses;

static bool cacheable(const char *pattern)
{
    return strncmp(pattern, "/v1/forums/{forum}", 18) == 0 &&
           strcmp(pattern, "/v1/forums/{forum}/runs") != 0 &&
           strcmp(pattern, "/v1/forums/{forum}/recompute") != 0;
}

/*
 * Remembered stamps.  A stamp read from the database at generation g stays
 * good while the generation is still g: the generation moves on every
 * change notification and whenever the listener connects or drops, and it
 * counts only while a listener is connected (listening).  The generation is
 * read *before* the query, so a change committed during the query leaves the
 * entry already stale.  As a further guard an entry is re-read after
 * STAMP_TTL seconds even without a notification.
 */
#define STAMP_SLOTS 64
#define STAMP_TTL 5.0

typedef struct stamp_slot {
    char key[256]; /* the forum as addressed: name or id; "" = empty */
    int64_t st[3];
    uint64_t gen;
    double read_at;
} stamp_slot_t;

static stamp_slot_t stamps[STAMP_SLOTS];
static uint64_t change_gen = 1; /* under cache_mu */
static bool listening;          /* under cache_mu */
static uint64_t stamp_queries, stamp_remembered;

void fora_api_changes_listening(bool on)
{
    pthread_mutex_lock(&cache_mu);
    listening = on;
    change_gen++;
    pthread_mutex_unlock(&cache_mu);
}

void fora_api_changes_seen(void)
{
    pthread_mutex_lock(&cache_mu);
    change_gen++;
    pthread_mutex_unlock(&cache_mu);
}

void fora_api_stamp_stats(uint64_t *queries, uint64_t *remembered)
{
    pthread_mutex_lock(&cache_mu);
    *queries = stamp_queries;
    *remembered = stamp_remembered;
    pthread_mutex_unlock(&cache_mu);
}

static size_t stamp_slot_of(const char *forum)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *c = forum; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    return (size_t)(h % STAMP_SLOTS);
}

/* The stamp of forum key (name or id); false when unknown or on error (no caching). */
static bool cache_stamp(PGconn *conn, const char *forum, int64_t st[3])
{
    size_t k = stamp_slot_of(forum);
    double now = fora_now_seconds();
    pthread_mutex_lock(&cache_mu);
    uint64_t gen = change_gen;
    bool trusted = listening;
    stamp_slot_t *e = &stamps[k];
    bool hit =
        trusted && e->gen == gen && now - e->read_at < STAMP_TTL && strcmp(e->key, forum) == 0;
    if (hit) {
        memcpy(st, e->st, sizeof(e->st));
        stamp_remembered++;
    } else {
        stamp_queries++;
    }
    pthread_mutex_unlock(&cache_mu);
    if (hit) return true;
    bool numeric = forum[0] && strspn(forum, "0123456789") == strlen(forum) && strlen(forum) < 19;
    const char *p[] = {forum};
    PGresult *r = PQexecParams(
        conn,
        numeric ? "SELECT f.id, f.data_version, COALESCE((SELECT max(id) FROM analysis_runs"
                  " WHERE forum_id = f.id AND status = 'completed'), 0)"
                  " FROM forums f WHERE f.id = $1::bigint"
                : "SELECT f.id, f.data_version, COALESCE((SELECT max(id) FROM analysis_runs"
                  " WHERE forum_id = f.id AND status = 'completed'), 0)"
                  " FROM forums f WHERE f.name = $1",
        FORA_NPARAMS(p), NULL, p, NULL, NULL, 0);
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    for (int i = 0; ok && i < 3; i++)
        st[i] = atoll(PQgetvalue(r, 0, i));
    PQclear(r);
    if (ok && trusted && strlen(forum) < sizeof(e->key)) {
        pthread_mutex_lock(&cache_mu);
        snprintf(e->key, sizeof(e->key), "%s", forum);
        memcpy(e->st, st, sizeof(e->st));
        e->gen = gen;
        e->read_at = now;
        pthread_mutex_unlock(&cache_mu);
    }
    return ok;
}

void fora_api_etag(const char *body, size_t len, char out[24])
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)body[i];
        h *= 1099511628211ULL;
    }
    snprintf(out, 24, "\"%016llx\"", (unsigned long long)h);
}

static char *cache_key(const fora_api_request_t *req, uint64_t *hash)
{
    size_t len = strlen(req->path) + 2;
    for (size_t i = 0; i < req->nparams; i++)
        len += strlen(req->params[i].key) + strlen(req->params[i].value) + 2;
    char *k = fora_xmalloc(len + 1), *o = k;
    o += sprintf(o, "%s?", req->path);
    for (size_t i = 0; i < req->nparams; i++)
        o += sprintf(o, "%s=%s&", req->params[i].key, req->params[i].value);
    uint64_t h = 1469598103934665603ULL;
    for (const char *c = k; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    *hash = h;
    return k;
}

/* A copy of the cached body for key at stamp st (its ETag into etag), or NULL. */
static char *cache_get(const char *key, uint64_t h, const int64_t st[3], char etag[24])
{
    char *out = NULL;
    pthread_mutex_lock(&cache_mu);
    cache_slot_t *s = &cache[h % CACHE_SLOTS];
    if (s->key && strcmp(s->key, key) == 0 && s->forum == st[0] && s->version == st[1] &&
        s->run == st[2]) {
        out = fora_xmalloc(s->len + 1);
        memcpy(out, s->body, s->len + 1);
        memcpy(etag, s->etag, 24);
        cache_hits++;
    } else {
        cache_misses++;
    }
    pthread_mutex_unlock(&cache_mu);
    return out;
}

static void cache_put(char *key, uint64_t h, const int64_t st[3], const char *body,
                      const char etag[24])
{
    size_t len = strlen(body);
    if (len > CACHE_MAX_BODY) {
        free(key);
        return;
    }
    pthread_mutex_lock(&cache_mu);
    cache_slot_t *s = &cache[h % CACHE_SLOTS];
    cache_bytes -= s->key ? s->len : 0;
    free(s->key);
    free(s->body);
    memset(s, 0, sizeof(*s));
    if (cache_bytes + len <= CACHE_MAX_BYTES) {
        s->key = key;
        key = NULL;
        s->forum = st[0];
        s->version = st[1];
        s->run = st[2];
        s->body = fora_xmalloc(len + 1);
        memcpy(s->body, body, len + 1);
        memcpy(s->etag, etag, 24);
        s->len = len;
        cache_bytes += len;
    }
    pthread_mutex_unlock(&cache_mu);
    free(key);
}

void fora_api_cache_stats(uint64_t *hits, uint64_t *misses)
{
    pthread_mutex_lock(&cache_mu);
    *hits = cache_hits;
    *misses = cache_misses;
    pthread_mutex_unlock(&cache_mu);
}

/* ---- routing ---------------------------------------------------------------- */

static void h_routes(fora__api_ctx_t *ctx);

static const fora__api_route_t core_routes[] = {
    {"/v1/routes", h_routes, false, NULL, FORA_ROLE_READ},
    {"/healthz", h_healthz, false, NULL, FORA_ROLE_NONE},
    {"/readyz", h_readyz, true, NULL, FORA_ROLE_NONE},
    {"/v1/forums", h_forums, true, NULL, FORA_ROLE_READ},
    {"/v1/forums/{forum}", h_forum, true, NULL, FORA_ROLE_READ},
    {"/v1/forums/{forum}/runs", h_runs, true, NULL, FORA_ROLE_READ},
    {"/v1/forums/{forum}/summary", h_summary, true, NULL, FORA_ROLE_READ},
    {NULL, NULL, false, NULL, FORA_ROLE_NONE},
};

/* Every route table; a subject file adds its table here. */
static const fora__api_route_t *const route_tables[] = {
    core_routes,
    fora__api_routes_keyplayers,
    fora__api_routes_jobs,
    fora__api_routes_rhythms,
    fora__api_routes_trajectories,
    fora__api_routes_linking,
};

/*
 * GET /v1/routes: every route this server answers ({pattern, method, role}),
 * so a client (the dashboard) shows only what is there without probing.
 * O(routes).
 */
static void h_routes(fora__api_ctx_t *ctx)
{
    static const char *const known[] = {NULL};
    static const char *const roles[] = {"none", "read", "admin"};
    if (!fora__api_only_params(ctx, known)) return;
    json_t *items = json_array();
    for (size_t t = 0; t < sizeof(route_tables) / sizeof(route_tables[0]); t++)
        for (const fora__api_route_t *r = route_tables[t]; r->pattern; r++) {
            fora_api_role_t role = r->role;
            if (strncmp(r->pattern, "/v1/", 4) == 0 && role < FORA_ROLE_READ) role = FORA_ROLE_READ;
            json_array_append_new(items,
                                  json_pack("{s:s, s:s, s:s}", "pattern", r->pattern, "method",
                                            r->method ? r->method : "GET", "role", roles[role]));
        }
    fora__api_ok(ctx->resp, json_pack("{s:I, s:o}", "total", (json_int_t)json_array_size(items),
                                      "items", items));
}

/*
 * Matches path against pattern; each "{name}" captures one non-empty segment
 * into the next slot of buf (segments are at most seglen - 1 bytes).
 */
static bool match(const char *pattern, const char *path, char buf[][256], int *nseg)
{
    *nseg = 0;
    while (*pattern && *path) {
        if (*pattern == '{') {
            const char *close = strchr(pattern, '}');
            size_t n = strcspn(path, "/");
            if (close == NULL || n == 0 || n >= 256 || *nseg == FORA_API_MAX_SEGS) return false;
            memcpy(buf[*nseg], path, n);
            buf[*nseg][n] = '\0';
            (*nseg)++;
            pattern = close + 1;
            path += n;
            continue;
        }
        if (*pattern != *path) return false;
        pattern++;
        path++;
    }
    if (*path == '/' && path[1] == '\0') path++; /* tolerate one trailing slash */
    return *pattern == '\0' && *path == '\0';
}

void fora_api_handle(PGconn *conn, const fora_api_request_t *req, fora_api_response_t *resp)
{
    char seg[FORA_API_MAX_SEGS][256];
    int nseg;
    bool path_known = false;
    resp->status = 500;
    resp->body = NULL;
    resp->text = NULL;
    resp->content_type = NULL;
    resp->route = NULL;
    resp->etag[0] = '\0';
    bool head = strcmp(req->method, "HEAD") == 0;
    for (size_t t = 0; t < sizeof(route_tables) / sizeof(route_tables[0]); t++) {
        for (const fora__api_route_t *r = route_tables[t]; r->pattern; r++) {
            if (!match(r->pattern, req->path, seg, &nseg)) continue;
            path_known = true;
            resp->route = r->pattern;
            const char *want = r->method ? r->method : "GET";
            if (strcmp(req->method, want) != 0 && !(head && strcmp(want, "GET") == 0)) continue;
            fora_api_role_t need = r->role;
            if (strncmp(r->pattern, "/v1/", 4) == 0 && need < FORA_ROLE_READ) need = FORA_ROLE_READ;
            if (req->role < need) {
                if (req->role == FORA_ROLE_NONE)
                    fora__api_error(resp, FORA_EUNAUTH,
                                    "an API token is required: send Authorization: Bearer TOKEN"
                                    " (create one with `fora token create`)",
                                    "Authorization");
                else
                    fora__api_error(resp, FORA_EFORBIDDEN, "this route needs an admin token",
                                    "Authorization");
                return;
            }
            if (r->needs_db && (conn == NULL || PQstatus(conn) != CONNECTION_OK)) {
                fora__api_error(resp, FORA_EDB, "the database is unreachable", NULL);
                return;
            }
            fora__api_ctx_t ctx = {.conn = conn, .req = req, .resp = resp};
            for (int i = 0; i < nseg; i++)
                ctx.seg[i] = seg[i];
            int64_t stamp[3];
            uint64_t hash = 0;
            char *key = NULL;
            if (req->use_cache && nseg > 0 && cacheable(r->pattern) &&
                cache_stamp(conn, seg[0], stamp)) {
                key = cache_key(req, &hash);
                char *hit = cache_get(key, hash, stamp, resp->etag);
                if (hit) {
                    free(key);
                    resp->status = 200;
                    resp->text = hit;
                    resp->content_type = "application/json";
                    return;
                }
            }
            r->fn(&ctx);
            if (key && resp->status == 200 && resp->body) {
                char *text = json_dumps(resp->body, JSON_COMPACT | JSON_PRESERVE_ORDER);
                if (text) {
                    fora_api_etag(text, strlen(text), resp->etag);
                    cache_put(key, hash, stamp, text, resp->etag);
                    key = NULL;
                    json_decref(resp->body);
                    resp->body = NULL;
                    resp->text = text;
                    resp->content_type = "application/json";
                }
            }
            free(key);
            if (resp->body == NULL && resp->text == NULL)
                fora__api_error(resp, FORA_EINTERNAL, "out of memory building JSON", NULL);
            return;
        }
    }
    if (path_known) {
        char msg[200];
        snprintf(msg, sizeof(msg), "method %.20s is not allowed here", req->method);
        fora__api_error(resp, FORA_EMETHOD, msg, req->method);
        return;
    }
    char msg[300];
    snprintf(msg, sizeof(msg), "no route \"%.200s\"", req->path);
    fora__api_error(resp, FORA_ENOTFOUND, msg, "path");
}

/* ---- request targets ----------------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s in place ('+' is a space in a query). */
static bool url_decode(char *s, bool query)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p == '%') {
            int hi = hexval(p[1]), lo = hi >= 0 ? hexval(p[2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return false;
            *o++ = (char)(hi * 16 + lo);
            p += 2;
        } else if (*p == '+' && query) {
            *o++ = ' ';
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return true;
}

fora_err_t fora_api_parse_target(char *buf, const char **path, fora_api_param_t *params, size_t max,
                                 size_t *nparams, fora_diag_t *diag)
{
    char *q = strchr(buf, '?');
    *nparams = 0;
    if (q) *q++ = '\0';
    if (!url_decode(buf, false))
        return fora_diag_set(diag, FORA_EINVAL, "bad percent escape in the path");
    *path = buf;
    while (q && *q) {
        char *amp = strchr(q, '&');
        if (amp) *amp = '\0';
        if (*q) {
            if (*nparams == max)
                return fora_diag_set(diag, FORA_EINVAL, "more than %zu query parameters", max);
            char *eq = strchr(q, '=');
            if (eq) *eq++ = '\0';
            if (!url_decode(q, true) || (eq && !url_decode(eq, true)))
                return fora_diag_set(diag, FORA_EINVAL, "bad percent escape in the query");
            params[*nparams].key = q;
            params[*nparams].value = eq ? eq : "";
            (*nparams)++;
        }
        q = amp ? amp + 1 : NULL;
    }
    return FORA_OK;
}
