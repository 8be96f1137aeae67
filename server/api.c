/*
 * server/api.c - route table and handlers of the JSON API.
 *
 * Handlers let PostgreSQL build each document with json_build_object() and
 * json_agg() (one round trip, no per-row C code), parse it into Jansson and
 * wrap it.  Every statement is parameterised.
 */
#include "fora/api.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fora/db.h"
#include "fora/snapshot_load.h"

#define DEFAULT_LIMIT 100
#define MAX_LIMIT 1000

json_t *fora_api_error_body(fora_err_t code, const char *message, const char *detail)
{
    return json_pack("{s:{s:s, s:s, s:s?}}", "error", "code", fora_err_api_code(code), "message",
                     message ? message : fora_strerror(code), "detail", detail);
}

static void reply_error(fora_api_response_t *resp, fora_err_t code, const char *message,
                        const char *detail)
{
    resp->status = fora_err_http_status(code);
    resp->body = fora_api_error_body(code, message, detail);
}

static void reply_diag(fora_api_response_t *resp, const fora_diag_t *diag)
{
    /* database detail is for the log, not for clients */
    if (diag->code == FORA_EDB)
        reply_error(resp, diag->code, "the database is unavailable", NULL);
    else
        reply_error(resp, diag->code, diag->msg, NULL);
}

/* ---- parameters ------------------------------------------------------------ */

static const char *param(const fora_api_request_t *req, const char *key)
{
    for (size_t i = 0; i < req->nparams; i++)
        if (strcmp(req->params[i].key, key) == 0) return req->params[i].value;
    return NULL;
}

/* Rejects parameters a route does not know, so a typo is not silently ignored. */
static bool only_params(const fora_api_request_t *req, const char *const *known,
                        fora_api_response_t *resp)
{
    for (size_t i = 0; i < req->nparams; i++) {
        bool ok = false;
        for (const char *const *k = known; *k && !ok; k++)
            ok = strcmp(req->params[i].key, *k) == 0;
        if (!ok) {
            char msg[160];
            snprintf(msg, sizeof(msg), "unknown parameter \"%.64s\"", req->params[i].key);
            reply_error(resp, FORA_EINVAL, msg, req->params[i].key);
            return false;
        }
    }
    return true;
}

static bool int_param(const fora_api_request_t *req, const char *key, long long def, long long min,
                      long long max, long long *out, fora_api_response_t *resp)
{
    const char *v = param(req, key);
    *out = def;
    if (v == NULL) return true;
    char *end;
    long long n = strtoll(v, &end, 10);
    if (*v == '\0' || *end != '\0' || n < min || n > max) {
        char msg[200];
        snprintf(msg, sizeof(msg), "parameter \"%s\" must be a whole number from %lld to %lld", key,
                 min, max);
        reply_error(resp, FORA_EINVAL, msg, key);
        return false;
    }
    *out = n;
    return true;
}

/* ---- running queries ------------------------------------------------------- */

/*
 * Runs sql (one row, one json column) with text params and parses the value.
 * *out is NULL when the query returned no row.
 */
static fora_err_t query_json(PGconn *conn, const char *sql, int n, const char *const *p,
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

/* Resolves a forum by name or id (fora_forum_lookup) into its id as text. */
static bool resolve_forum(PGconn *conn, const char *key, char *id, size_t len,
                          fora_api_response_t *resp)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    int64_t forum_id;
    if (fora_forum_lookup(conn, key, &forum_id, &diag) != FORA_OK) {
        if (diag.code == FORA_ENOTFOUND)
            reply_error(resp, FORA_ENOTFOUND, diag.msg, "forum");
        else
            reply_diag(resp, &diag);
        return false;
    }
    snprintf(id, len, "%lld", (long long)forum_id);
    return true;
}

/* ---- handlers ------------------------------------------------------------- */

/* The JSON of a forum row f, with its latest completed run. */
#define FORUM_JSON                                                                                 \
    "json_build_object('id', f.id, 'name', f.name, 'source', f.source,"                            \
    " 'timezone', f.timezone, 'data_version', f.data_version,"                                     \
    " 'latest_run', (SELECT json_build_object('id', r.id, 'finished_at', r.finished_at,"           \
    "   'watermark', r.watermark, 'stale', r.watermark < f.data_version)"                          \
    "   FROM analysis_runs r WHERE r.forum_id = f.id AND r.status = 'completed'"                   \
    "   ORDER BY r.id DESC LIMIT 1))"

static void h_forums(PGconn *conn, const fora_api_request_t *req, const char *forum,
                     fora_api_response_t *resp)
{
    static const char *const known[] = {"limit", "offset", NULL};
    long long limit, offset;
    fora_diag_t diag = FORA_DIAG_INIT;
    json_t *doc;
    (void)forum;
    if (!only_params(req, known, resp) ||
        !int_param(req, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT, &limit, resp) ||
        !int_param(req, "offset", 0, 0, INT32_MAX, &offset, resp))
        return;
    char l[24], o[24];
    snprintf(l, sizeof(l), "%lld", limit);
    snprintf(o, sizeof(o), "%lld", offset);
    const char *p[] = {l, o};
    if (query_json(conn,
                   "SELECT json_build_object('total', (SELECT count(*) FROM forums),"
                   " 'limit', $1::int, 'offset', $2::int,"
                   " 'items', COALESCE((SELECT json_agg(x.j ORDER BY x.name) FROM"
                   "  (SELECT " FORUM_JSON " AS j, f.name FROM forums f ORDER BY f.name"
                   "   LIMIT $1::int OFFSET $2::int) x), '[]'::json))",
                   2, p, &doc, &diag) != FORA_OK) {
        reply_diag(resp, &diag);
        return;
    }
    resp->status = 200;
    resp->body = doc;
}

static void h_forum(PGconn *conn, const fora_api_request_t *req, const char *forum,
                    fora_api_response_t *resp)
{
    static const char *const known[] = {NULL};
    fora_diag_t diag = FORA_DIAG_INIT;
    char id[24];
    json_t *doc;
    if (!only_params(req, known, resp) || !resolve_forum(conn, forum, id, sizeof(id), resp)) return;
    const char *p[] = {id};
    if (query_json(conn, "SELECT " FORUM_JSON " FROM forums f WHERE f.id = $1::bigint", 1, p, &doc,
                   &diag) != FORA_OK) {
        reply_diag(resp, &diag);
        return;
    }
    resp->status = 200;
    resp->body = doc;
}

static void h_runs(PGconn *conn, const fora_api_request_t *req, const char *forum,
                   fora_api_response_t *resp)
{
    static const char *const known[] = {"limit", "offset", "status", NULL};
    long long limit, offset;
    fora_diag_t diag = FORA_DIAG_INIT;
    char id[24];
    json_t *doc;
    const char *status = param(req, "status");
    if (!only_params(req, known, resp) ||
        !int_param(req, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT, &limit, resp) ||
        !int_param(req, "offset", 0, 0, INT32_MAX, &offset, resp))
        return;
    if (status && strcmp(status, "running") && strcmp(status, "completed") &&
        strcmp(status, "failed")) {
        reply_error(resp, FORA_EINVAL, "parameter \"status\" must be running, completed or failed",
                    "status");
        return;
    }
    if (!resolve_forum(conn, forum, id, sizeof(id), resp)) return;
    char l[24], o[24];
    snprintf(l, sizeof(l), "%lld", limit);
    snprintf(o, sizeof(o), "%lld", offset);
    const char *p[] = {id, l, o, status};
    if (query_json(conn,
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
                   4, p, &doc, &diag) != FORA_OK) {
        reply_diag(resp, &diag);
        return;
    }
    resp->status = 200;
    resp->body = doc;
}

/*
 * Picks the run a result route reads: ?run=ID (which must belong to the forum
 * and be completed) or the latest completed one.  404 when there is none.
 */
static bool pick_run(PGconn *conn, const fora_api_request_t *req, const char *forum_id, char *run,
                     size_t len, fora_api_response_t *resp)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    long long want;
    if (!int_param(req, "run", 0, 1, INT64_MAX, &want, resp)) return false;
    char w[24];
    snprintf(w, sizeof(w), "%lld", want);
    const char *p[] = {forum_id, w};
    PGresult *res = PQexecParams(conn,
                                 "SELECT id, status FROM analysis_runs WHERE forum_id = $1::bigint"
                                 " AND ($2::bigint = 0 OR id = $2::bigint)"
                                 " AND ($2::bigint <> 0 OR status = 'completed')"
                                 " ORDER BY id DESC LIMIT 1",
                                 2, NULL, p, NULL, NULL, 0);
    if (fora_db_check(res, PGRES_TUPLES_OK, "finding the run", &diag) != FORA_OK) {
        PQclear(res);
        reply_diag(resp, &diag);
        return false;
    }
    bool ok = PQntuples(res) > 0 && strcmp(PQgetvalue(res, 0, 1), "completed") == 0;
    if (!ok) {
        char msg[200];
        if (want == 0)
            snprintf(msg, sizeof(msg),
                     "the forum has no completed analysis run yet "
                     "(run `fora recompute`)");
        else if (PQntuples(res) == 0)
            snprintf(msg, sizeof(msg), "no run %lld for this forum", want);
        else
            snprintf(msg, sizeof(msg), "run %lld is %s, not completed", want,
                     PQgetvalue(res, 0, 1));
        reply_error(resp, FORA_ENOTFOUND, msg, "run");
    } else {
        snprintf(run, len, "%s", PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    return ok;
}

static void h_summary(PGconn *conn, const fora_api_request_t *req, const char *forum,
                      fora_api_response_t *resp)
{
    static const char *const known[] = {"run", NULL};
    fora_diag_t diag = FORA_DIAG_INIT;
    char id[24], run[24];
    json_t *doc;
    if (!only_params(req, known, resp) || !resolve_forum(conn, forum, id, sizeof(id), resp) ||
        !pick_run(conn, req, id, run, sizeof(run), resp))
        return;
    const char *p[] = {run};
    if (query_json(conn,
                   "SELECT json_build_object('run', json_build_object('id', r.id,"
                   " 'finished_at', r.finished_at, 'watermark', r.watermark,"
                   " 'stale', r.watermark < f.data_version, 'params', r.params),"
                   " 'forum', json_build_object('id', f.id, 'name', f.name),"
                   " 'summary', to_jsonb(s) - 'run_id')"
                   " FROM analysis_runs r JOIN forums f ON f.id = r.forum_id"
                   " JOIN run_summary s ON s.run_id = r.id WHERE r.id = $1::bigint",
                   1, p, &doc, &diag) != FORA_OK) {
        reply_diag(resp, &diag);
        return;
    }
    if (doc == NULL) {
        reply_error(resp, FORA_ENOTFOUND, "the run has no summary", "run");
        return;
    }
    resp->status = 200;
    resp->body = doc;
}

static void h_healthz(PGconn *conn, const fora_api_request_t *req, const char *forum,
                      fora_api_response_t *resp)
{
    (void)conn;
    (void)req;
    (void)forum;
    resp->status = 200;
    resp->body = json_pack("{s:s}", "status", "ok");
}

static void h_readyz(PGconn *conn, const fora_api_request_t *req, const char *forum,
                     fora_api_response_t *resp)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    int pending = 0;
    (void)req;
    (void)forum;
    if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
        reply_error(resp, FORA_EDB, "the database is unreachable", NULL);
        return;
    }
    if (fora_migrate_pending(conn, fora_migrations_dir(), &pending, &diag) != FORA_OK) {
        reply_diag(resp, &diag);
        return;
    }
    if (pending > 0) {
        reply_error(resp, FORA_ESCHEMA, "the database schema is behind: run fora migrate", NULL);
        return;
    }
    resp->status = 200;
    resp->body = json_pack("{s:s}", "status", "ready");
}

/* ---- routing ---------------------------------------------------------------- */

typedef void (*handler_fn)(PGconn *, const fora_api_request_t *, const char *,
                           fora_api_response_t *);

/* Patterns: literal segments, "{forum}" captures one segment. */
static const struct {
    const char *pattern;
    handler_fn fn;
    bool needs_db;
} routes[] = {
    {"/healthz", h_healthz, false},
    {"/readyz", h_readyz, true},
    {"/v1/forums", h_forums, true},
    {"/v1/forums/{forum}", h_forum, true},
    {"/v1/forums/{forum}/runs", h_runs, true},
    {"/v1/forums/{forum}/summary", h_summary, true},
};

/* Matches path against pattern; copies the {forum} segment into forum. */
static bool match(const char *pattern, const char *path, char *forum, size_t len)
{
    while (*pattern && *path) {
        if (strncmp(pattern, "{forum}", 7) == 0) {
            size_t n = strcspn(path, "/");
            if (n == 0 || n >= len) return false;
            memcpy(forum, path, n);
            forum[n] = '\0';
            pattern += 7;
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
    char forum[256] = "";
    resp->status = 500;
    resp->body = NULL;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (!match(routes[i].pattern, req->path, forum, sizeof(forum))) continue;
        if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
            reply_error(resp, FORA_EMETHOD, "only GET is allowed here", req->method);
            return;
        }
        if (routes[i].needs_db && (conn == NULL || PQstatus(conn) != CONNECTION_OK)) {
            reply_error(resp, FORA_EDB, "the database is unreachable", NULL);
            return;
        }
        routes[i].fn(conn, req, forum, resp);
        if (resp->body == NULL)
            reply_error(resp, FORA_EINTERNAL, "out of memory building JSON", NULL);
        return;
    }
    char msg[300];
    snprintf(msg, sizeof(msg), "no route \"%.200s\"", req->path);
    reply_error(resp, FORA_ENOTFOUND, msg, "path");
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
