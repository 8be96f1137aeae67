/*
 * server/cmd_serve.c - `fora serve` (libmicrohttpd) and `fora show ROUTE`.
 *
 * Both answer through fora_api_handle(), so `fora show` prints exactly what
 * the server sends.  The server runs a pool of MHD threads; each request
 * borrows a PostgreSQL connection from a small pool (one connection per
 * thread at a time, as libpq requires) and returns it, dropping it when it
 * broke so the next request reconnects: while the database is down requests
 * get 503 and the server keeps running.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "cli.h"
#include "fora/api.h"
#include "fora/progress.h"
#include "assets.h"
#include "strbuf.h"
#include "worker.h"

#define MAX_PARAMS 32
#define POOL_MAX 8
#define MAX_BODY (64 * 1024)

/* ---- output ------------------------------------------------------------------ */

static int exit_code_for_status(int status)
{
    if (status < 400) return 0;
    if (status == 404) return fora_err_exit_code(FORA_ENOTFOUND);
    if (status == 503) return fora_err_exit_code(FORA_EDB);
    if (status < 500) return fora_err_exit_code(FORA_EINVAL);
    return fora_err_exit_code(FORA_EINTERNAL);
}

static const char show_usage[] =
    "Usage: fora show [options] ROUTE\n"
    "Print the JSON document the API serves for ROUTE (e.g. /v1/forums or\n"
    "'/v1/forums/beer/runs?limit=5'), without a server.  The exit code is 0 for\n"
    "a 2xx/3xx answer, otherwise that of the error (4 not found, 2 bad\n"
    "parameter, 9 database unavailable).\n"
    "  --csv   print a list route's items as CSV (as Accept: text/csv does)\n";

int fora_cmd_show(int argc, char **argv)
{
    fora_cli_t cli = {0};
    fora_diag_t diag = FORA_DIAG_INIT;
    enum { OPT_CSV = FORA_OPT_FIRST_OWN };
    static const struct option opts[] = {
        FORA_CLI_COMMON_OPTIONS, {"csv", no_argument, NULL, OPT_CSV}, {NULL, 0, NULL, 0}};
    fora_api_param_t params[MAX_PARAMS];
    bool csv = false;
    /* the command line has the database's own access: every route is open to it */
    fora_api_request_t req = {.method = "GET", .role = FORA_ROLE_ADMIN, .params = params};
    fora_api_response_t resp;
    PGconn *conn = NULL;
    int c;

    fora_dbconf_from_env(&cli.db);
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int r = fora_cli_common(&cli, c, show_usage);
        if (r < 0) return 0;
        if (r > 0) continue;
        if (c == OPT_CSV)
            csv = true;
        else
            return fora_cli_usage_error("show", "unknown option");
    }
    if (optind != argc - 1) return fora_cli_usage_error("show", "expected one ROUTE");
    char *target = fora_xstrdup(argv[optind]);
    if (fora_api_parse_target(target, &req.path, params, MAX_PARAMS, &req.nparams, &diag) !=
        FORA_OK) {
        free(target);
        return fora_cli_fail(&diag);
    }
    cli.db.quiet = true;
    /* a database problem becomes the API's 503 document, as the server would send */
    if (fora_cli_connect(&cli, false, &conn, &diag) != FORA_OK) {
        PQfinish(conn);
        conn = NULL;
    }
    fora_api_handle(conn, &req, &resp);
    char *table = csv && resp.status == 200 && resp.body ? fora_api_csv(resp.body) : NULL;
    if (csv && resp.status == 200 && resp.body && table == NULL) {
        fprintf(stderr, "fora show: %s is not a list route: no CSV (its JSON follows)\n", req.path);
    }
    if (table) {
        fputs(table, stdout);
        free(table);
    } else if (resp.text) {
        fputs(resp.text, stdout);
        free(resp.text);
    } else {
        char *text = json_dumps(resp.body, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", text ? text : "null");
        free(text);
    }
    json_decref(resp.body);
    PQfinish(conn);
    free(target);
    return exit_code_for_status(resp.status);
}

/* ---- connection pool ---------------------------------------------------------------- */

typedef struct conn_pool {
    pthread_mutex_t mu;
    PGconn *idle[POOL_MAX];
    int nidle;
    fora_dbconf_t db;     /* always a plain connection string: see fora_cmd_serve() */
    char set_timeout[64]; /* "SET statement_timeout = ..." for new connections, or "" */
} conn_pool_t;

/* Borrows a connection; NULL when the database cannot be reached. */
static PGconn *pool_get(conn_pool_t *p)
{
    PGconn *conn = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->nidle > 0) conn = p->idle[--p->nidle];
    pthread_mutex_unlock(&p->mu);
    if (conn && PQstatus(conn) == CONNECTION_OK) return conn;
    PQfinish(conn);
    fora_diag_t diag = FORA_DIAG_INIT;
    if (fora_db_connect(&p->db, &conn, &diag) != FORA_OK) {
        fprintf(stderr, "{\"level\":\"error\",\"msg\":\"database unreachable\"}\n");
        return NULL;
    }
    if (p->set_timeout[0] && fora_db_exec(conn, p->set_timeout, &diag) != FORA_OK) {
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

static void pool_put(conn_pool_t *p, PGconn *conn)
{
    if (conn == NULL) return;
    if (PQstatus(conn) != CONNECTION_OK || PQtransactionStatus(conn) != PQTRANS_IDLE) {
        PQfinish(conn);
        return;
    }
    pthread_mutex_lock(&p->mu);
    if (p->nidle < POOL_MAX) {
        p->idle[p->nidle++] = conn;
        conn = NULL;
    }
    pthread_mutex_unlock(&p->mu);
    PQfinish(conn);
}

/* ---- HTTP -------------------------------------------------------------------- */

/* ---- metrics (Prometheus text format) ------------------------------------------ */

/* Upper bounds of the latency histogram, in seconds. */
static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))
#define MAX_SERIES 256

typedef struct series {
    const char *route; /* static pattern, or "unmatched" */
    int status;
    uint64_t count;
    double sum;
    uint64_t bucket[NBUCKETS]; /* cumulative counts are summed at scrape time */
} series_t;

typedef struct metrics {
    pthread_mutex_t mu;
    series_t s[MAX_SERIES];
    int n;
    uint64_t db_unavailable; /* requests answered 503 because the database was unreachable */
    uint64_t dropped;        /* observations that found no free series */
} metrics_t;

static void metrics_observe(metrics_t *m, const char *route, int status, double seconds)
{
    pthread_mutex_lock(&m->mu);
    series_t *x = NULL;
    for (int i = 0; i < m->n && !x; i++)
        if (m->s[i].status == status && strcmp(m->s[i].route, route) == 0) x = &m->s[i];
    if (x == NULL && m->n < MAX_SERIES) {
        x = &m->s[m->n++];
        x->route = route;
        x->status = status;
    }
    if (x) {
        x->count++;
        x->sum += seconds;
        for (size_t b = 0; b < NBUCKETS; b++)
            if (seconds <= buckets[b]) {
                x->bucket[b]++;
                break;
            }
    } else {
        m->dropped++;
    }
    if (status == 503) m->db_unavailable++;
    pthread_mutex_unlock(&m->mu);
}

/* The Prometheus exposition of m, plus recompute durations read from the database. */
static char *metrics_text(metrics_t *m, PGconn *conn)
{
    fora__strbuf_t b = {0};
    fora__strbuf_puts(&b, "");
    pthread_mutex_lock(&m->mu);
    fora__strbuf_printf(
        &b, "# HELP fora_http_requests_total HTTP requests answered, by route and status.\n"
            "# TYPE fora_http_requests_total counter\n");
    for (int i = 0; i < m->n; i++)
        fora__strbuf_printf(&b, "fora_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                            m->s[i].route, m->s[i].status, (unsigned long long)m->s[i].count);
    fora__strbuf_printf(
        &b, "# HELP fora_http_request_duration_seconds Time to answer, by route and status.\n"
            "# TYPE fora_http_request_duration_seconds histogram\n");
    for (int i = 0; i < m->n; i++) {
        uint64_t cum = 0;
        for (size_t k = 0; k < NBUCKETS; k++) {
            cum += m->s[i].bucket[k];
            fora__strbuf_printf(
                &b,
                "fora_http_request_duration_seconds_bucket{route=\"%s\",status=\"%d\","
                "le=\"%g\"} %llu\n",
                m->s[i].route, m->s[i].status, buckets[k], (unsigned long long)cum);
        }
        fora__strbuf_printf(
            &b,
            "fora_http_request_duration_seconds_bucket{route=\"%s\",status=\"%d\","
            "le=\"+Inf\"} %llu\n"
            "fora_http_request_duration_seconds_sum{route=\"%s\",status=\"%d\"} %.6f\n"
            "fora_http_request_duration_seconds_count{route=\"%s\",status=\"%d\"} %llu\n",
            m->s[i].route, m->s[i].status, (unsigned long long)m->s[i].count, m->s[i].route,
            m->s[i].status, m->s[i].sum, m->s[i].route, m->s[i].status,
            (unsigned long long)m->s[i].count);
    }
    fora__strbuf_printf(
        &b,
        "# HELP fora_db_unavailable_total Requests answered 503: database unreachable.\n"
        "# TYPE fora_db_unavailable_total counter\n"
        "fora_db_unavailable_total %llu\n",
        (unsigned long long)m->db_unavailable);
    uint64_t hits, misses;
    fora_api_cache_stats(&hits, &misses);
    fora__strbuf_printf(&b,
                        "# HELP fora_result_cache_requests_total Cacheable requests by outcome.\n"
                        "# TYPE fora_result_cache_requests_total counter\n"
                        "fora_result_cache_requests_total{outcome=\"hit\"} %llu\n"
                        "fora_result_cache_requests_total{outcome=\"miss\"} %llu\n",
                        (unsigned long long)hits, (unsigned long long)misses);
    uint64_t sq, sr;
    fora_api_stamp_stats(&sq, &sr);
    fora__strbuf_printf(&b,
                        "# HELP fora_result_stamps_total Stamp reads of cacheable requests:"
                        " from the database, or remembered between change notifications.\n"
                        "# TYPE fora_result_stamps_total counter\n"
                        "fora_result_stamps_total{source=\"database\"} %llu\n"
                        "fora_result_stamps_total{source=\"remembered\"} %llu\n",
                        (unsigned long long)sq, (unsigned long long)sr);
    pthread_mutex_unlock(&m->mu);
    /* recompute durations are recorded by whichever process ran them: read them back */
    PGresult *r =
        conn ? PQexec(conn, "SELECT f.name, r.status, count(*),"
                            " COALESCE(sum(extract(epoch FROM r.finished_at - r.started_at)), 0)"
                            " FROM analysis_runs r JOIN forums f ON f.id = r.forum_id"
                            " WHERE r.finished_at IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2")
             : NULL;
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK) {
        fora__strbuf_printf(
            &b, "# HELP fora_recompute_runs_total Finished analysis runs, by forum and status.\n"
                "# TYPE fora_recompute_runs_total counter\n");
        for (int i = 0; i < PQntuples(r); i++)
            fora__strbuf_printf(&b, "fora_recompute_runs_total{forum=\"%s\",status=\"%s\"} %s\n",
                                PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2));
        fora__strbuf_printf(&b, "# HELP fora_recompute_seconds_total Wall time of finished runs.\n"
                                "# TYPE fora_recompute_seconds_total counter\n");
        for (int i = 0; i < PQntuples(r); i++)
            fora__strbuf_printf(&b, "fora_recompute_seconds_total{forum=\"%s\",status=\"%s\"} %s\n",
                                PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 3));
    }
    PQclear(r);
    return b.p;
}

/* ---- authentication ------------------------------------------------------------ */

/*
 * Recently checked tokens, so that most requests cost no database query.  An
 * entry is trusted for TOKEN_TTL seconds: a revoked token stops working
 * within that time (api-docs/README.md says so).
 */
#define TOKEN_SLOTS 64
#define TOKEN_TTL 10.0

typedef struct token_cache {
    pthread_mutex_t mu;
    struct {
        char token[64]; /* "" = empty slot */
        fora_api_role_t role;
        int64_t id;     /* api_tokens.id */
        double checked; /* fora_now_seconds() of the database check */
    } slot[TOKEN_SLOTS];
} token_cache_t;

static size_t token_slot(const char *t)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *t; t++)
        h = (h ^ (unsigned char)*t) * 1099511628211ULL;
    return (size_t)(h % TOKEN_SLOTS);
}

/*
 * The role of a bearer token: FORA_ROLE_NONE when it is unknown or revoked.
 * FORA_EDB when the database cannot be asked.
 */
static fora_err_t authenticate(token_cache_t *tc, conn_pool_t *pool, const char *token,
                               fora_api_role_t *role, int64_t *id)
{
    size_t k = token_slot(token);
    double now = fora_now_seconds();
    *role = FORA_ROLE_NONE;
    if (strlen(token) >= sizeof(tc->slot[0].token)) return FORA_OK; /* not one of ours */
    pthread_mutex_lock(&tc->mu);
    bool hit = strcmp(tc->slot[k].token, token) == 0 && now - tc->slot[k].checked < TOKEN_TTL;
    if (hit) {
        *role = tc->slot[k].role;
        *id = tc->slot[k].id;
    }
    pthread_mutex_unlock(&tc->mu);
    if (hit) return FORA_OK;

    PGconn *conn = pool_get(pool);
    if (conn == NULL) return FORA_EDB;
    const char *p[] = {token};
    /* one statement: look the hash up, and note the use at most once a minute */
    PGresult *r = PQexecParams(
        conn,
        "WITH t AS (SELECT id, role, last_used_at FROM api_tokens"
        "  WHERE hash = sha256(convert_to($1, 'UTF8')) AND revoked_at IS NULL),"
        " u AS (UPDATE api_tokens a SET last_used_at = now() FROM t WHERE a.id = t.id"
        "  AND (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute'))"
        " SELECT role, id FROM t",
        1, NULL, p, NULL, NULL, 0);
    fora_err_t err = PQresultStatus(r) == PGRES_TUPLES_OK ? FORA_OK : FORA_EDB;
    if (err == FORA_OK && PQntuples(r) == 1) {
        *role = strcmp(PQgetvalue(r, 0, 0), "admin") == 0 ? FORA_ROLE_ADMIN : FORA_ROLE_READ;
        *id = atoll(PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    pool_put(pool, conn);
    if (err == FORA_OK && *role != FORA_ROLE_NONE) {
        pthread_mutex_lock(&tc->mu);
        snprintf(tc->slot[k].token, sizeof(tc->slot[k].token), "%s", token);
        tc->slot[k].role = *role;
        tc->slot[k].id = *id;
        tc->slot[k].checked = now;
        pthread_mutex_unlock(&tc->mu);
    }
    return err;
}

typedef struct server {
    conn_pool_t pool;
    metrics_t metrics;
    token_cache_t tokens;
    const char *cors_origin; /* Access-Control-Allow-Origin, or NULL */
} server_t;

typedef struct collect {
    fora_api_param_t *params;
    size_t n;
    bool overflow;
} collect_t;

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    collect_t *c = cls;
    (void)kind;
    if (c->n == MAX_PARAMS) {
        c->overflow = true;
        return MHD_NO;
    }
    c->params[c->n].key = key;
    c->params[c->n].value = value ? value : "";
    c->n++;
    return MHD_YES;
}

static enum MHD_Result send_body(struct MHD_Connection *mc, int status, const char *type,
                                 const char *body, size_t len, bool copy)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, (void *)body, copy ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_PERSISTENT);
    if (r == NULL) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    enum MHD_Result ret = MHD_queue_response(mc, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Whether an If-None-Match header value lists tag (or is "*"). */
static bool etag_matches(const char *inm, const char *tag)
{
    if (inm == NULL) return false;
    if (strcmp(inm, "*") == 0) return true;
    size_t n = strlen(tag);
    for (const char *p = inm; (p = strstr(p, tag)) != NULL; p += n)
        if (p[n] == '\0' || p[n] == ',' || p[n] == ' ') return true;
    return false;
}

/* Whether Accept-Encoding lists gzip with a non-zero quality ("gzip", "gzip;q=0.5"). */
static bool accepts_gzip(const char *ae)
{
    for (const char *p = ae; p && (p = strstr(p, "gzip")) != NULL; p += 4) {
        const char *q = p + 4;
        while (*q == ' ')
            q++;
        if (*q == '\0' || *q == ',') return true;
        if (strncmp(q, ";q=", 3) == 0) return strtod(q + 3, NULL) > 0;
    }
    return false;
}

/* gzip-compresses in[0..len) into a new buffer; NULL on failure. */
static char *gzip_body(const char *in, size_t len, size_t *outlen)
{
    z_stream z = {0};
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
    size_t cap = deflateBound(&z, (uLong)len);
    char *out = malloc(cap);
    if (out == NULL) {
        deflateEnd(&z);
        return NULL;
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *outlen = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

/*
 * Sends an API answer: ETag on every 200, 304 when If-None-Match has it,
 * gzip when asked and worth it, CORS when configured.  Takes over body.
 */
static enum MHD_Result send_api(server_t *srv, struct MHD_Connection *mc, int *statusp,
                                const char *type, char *body, bool head, const char *location,
                                const char *known_tag)
{
    int status = *statusp;
    size_t len = strlen(body);
    char tag[24] = "";
    bool gz = false;
    if (status == 200) {
        if (known_tag && known_tag[0]) /* the result cache's, computed once per answer */
            memcpy(tag, known_tag, sizeof(tag));
        else
            fora_api_etag(body, len, tag);
        const char *inm = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "If-None-Match");
        if (etag_matches(inm, tag)) {
            status = 304;
            len = 0;
        }
    }
    if (len > 1024 &&
        accepts_gzip(MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Accept-Encoding"))) {
        size_t zlen;
        char *z = gzip_body(body, len, &zlen);
        if (z) {
            free(body);
            body = z;
            len = zlen;
            gz = true;
        }
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(head ? 0 : len, body, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(body);
        return MHD_NO;
    }
    if (status != 304) MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    MHD_add_response_header(r, "Vary", "Accept-Encoding");
    if (tag[0]) MHD_add_response_header(r, "ETag", tag);
    if (gz) MHD_add_response_header(r, "Content-Encoding", "gzip");
    if (location && location[0]) MHD_add_response_header(r, "Location", location);
    if (status == 401) MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"fora\"");
    if (srv->cors_origin) {
        MHD_add_response_header(r, "Access-Control-Allow-Origin", srv->cors_origin);
        MHD_add_response_header(r, "Access-Control-Expose-Headers", "ETag");
    }
    enum MHD_Result ret = MHD_queue_response(mc, (unsigned)status, r);
    MHD_destroy_response(r);
    *statusp = status;
    return ret;
}

/* Answers a CORS preflight (OPTIONS) for any path. */
static enum MHD_Result send_preflight(server_t *srv, struct MHD_Connection *mc)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (r == NULL) return MHD_NO;
    if (srv->cors_origin) {
        MHD_add_response_header(r, "Access-Control-Allow-Origin", srv->cors_origin);
        MHD_add_response_header(r, "Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
        MHD_add_response_header(r, "Access-Control-Allow-Headers",
                                "Authorization, If-None-Match, Accept, Accept-Encoding");
        MHD_add_response_header(r, "Access-Control-Max-Age", "600");
    }
    MHD_add_response_header(r, "Allow", "GET, HEAD, OPTIONS");
    enum MHD_Result ret = MHD_queue_response(mc, 204, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **req_cls)
{
    server_t *srv = cls;
    (void)version;
    (void)upload_data;
    if (*req_cls == NULL) { /* first call: headers only */
        *req_cls = fora_xcalloc(1, sizeof(size_t));
        return MHD_YES;
    }
    size_t *body_bytes = *req_cls;
    if (*upload_size) { /* no route reads a body: count it and discard it */
        *body_bytes += *upload_size;
        *upload_size = 0;
        return MHD_YES;
    }
    if (*body_bytes > MAX_BODY) {
        static const char big[] = "{\"error\":{\"code\":\"too_large\",\"message\":"
                                  "\"request bodies are limited to 64 KiB (no route reads one)\","
                                  "\"detail\":null}}";
        metrics_observe(&srv->metrics, "unmatched", 413, 0);
        return send_body(mc, 413, "application/json", big, sizeof(big) - 1, false);
    }
    double t0 = fora_now_seconds();
    const fora__asset_t *asset = fora__asset_find(url);
    if (asset && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)) {
        metrics_observe(&srv->metrics, "static", 200, 0);
        return send_body(mc, 200, fora__asset_type(asset->name), (const char *)asset->data,
                         asset->len, false);
    }
    if (strcmp(method, "OPTIONS") == 0) return send_preflight(srv, mc);
    bool head = strcmp(method, "HEAD") == 0;

    fora_api_param_t params[MAX_PARAMS];
    collect_t col = {params, 0, false};
    MHD_get_connection_values(mc, MHD_GET_ARGUMENT_KIND, collect_arg, &col);
    fora_api_request_t req = {.method = method, .path = url, .params = params, .nparams = col.n};
    fora_api_response_t resp = {0};
    PGconn *conn = NULL;
    char *text = NULL;
    const char *type = "application/json";
    const char *accept = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Accept");
    /* CSV is made from the document, which the cache does not keep */
    req.use_cache = !(accept && strstr(accept, "text/csv"));
    const char *auth = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Authorization");
    fora_err_t auth_err = FORA_OK;
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
        const char *tok = auth + 7;
        while (*tok == ' ')
            tok++;
        auth_err = authenticate(&srv->tokens, &srv->pool, tok, &req.role, &req.token_id);
        if (auth_err == FORA_OK && req.role == FORA_ROLE_NONE) auth_err = FORA_EUNAUTH;
    } else if (auth) {
        auth_err = FORA_EUNAUTH;
    }
    if (auth_err != FORA_OK) {
        resp.status = fora_err_http_status(auth_err);
        resp.body = fora_api_error_body(
            auth_err,
            auth_err == FORA_EDB ? "the database is unreachable"
                                 : "the API token is not valid (unknown, revoked, or not a Bearer"
                                   " token)",
            auth_err == FORA_EDB ? NULL : "Authorization");
    } else if (col.overflow) {
        resp.status = 400;
        resp.body = fora_api_error_body(FORA_EINVAL, "too many query parameters", NULL);
    } else if (strcmp(url, "/metrics") == 0 && (head || strcmp(method, "GET") == 0)) {
        conn = pool_get(&srv->pool);
        resp.status = 200;
        resp.route = "/metrics";
        text = metrics_text(&srv->metrics, conn);
        type = "text/plain; version=0.0.4; charset=utf-8";
        pool_put(&srv->pool, conn);
    } else {
        bool needs_db = strcmp(url, "/healthz") != 0;
        if (needs_db) conn = pool_get(&srv->pool);
        fora_api_handle(conn, &req, &resp);
        pool_put(&srv->pool, conn);
    }
    bool cached_tag = false;
    if (text == NULL && resp.text) {
        text = resp.text;
        type = resp.content_type;
        cached_tag = true; /* resp.etag is text's when set */
    } else if (text == NULL && resp.status == 200 && accept && strstr(accept, "text/csv") &&
               (text = fora_api_csv(resp.body)) != NULL) {
        type = "text/csv; charset=utf-8";
    } else if (text == NULL) {
        text = json_dumps(resp.body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    }
    json_decref(resp.body);
    enum MHD_Result ret;
    if (text == NULL) {
        static const char oom[] =
            "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";
        resp.status = 500;
        ret = send_body(mc, 500, "application/json", oom, sizeof(oom) - 1, false);
    } else {
        ret = send_api(srv, mc, &resp.status, type, text, head, resp.location,
                       cached_tag ? resp.etag : NULL);
    }
    double dt = fora_now_seconds() - t0;
    const char *route = resp.route ? resp.route : "unmatched";
    metrics_observe(&srv->metrics, route, resp.status, dt);
    /* one JSON line per request; the query string is left out (it may carry secrets) */
    json_t *line = json_pack("{s:s, s:s, s:s, s:i, s:f}", "method", method, "path", url, "route",
                             route, "status", resp.status, "ms", dt * 1000.0);
    char *l = line ? json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (l) fprintf(stderr, "%s\n", l);
    free(l);
    json_decref(line);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)mc;
    (void)toe;
    free(*req_cls);
    *req_cls = NULL;
}

/* ---- change notifications ------------------------------------------------------- */

/*
 * LISTEN fora_changes (migrations/0009_change_notify.sql) on a connection of
 * its own, so that the result cache re-reads a forum's stamp only after a
 * change.  While this connection is down the cache reads the stamp on every
 * request (fora_api_changes_listening(false)), and it reconnects every
 * second.  Wakes at least once a second to see `stop`.
 */
typedef struct listener {
    fora_dbconf_t db;
    volatile sig_atomic_t *stop;
} listener_t;

static void *listener_main(void *arg)
{
    listener_t *li = arg;
    PGconn *conn = NULL;
    while (!*li->stop) {
        if (conn == NULL) {
            fora_diag_t d = FORA_DIAG_INIT;
            if (fora_db_connect(&li->db, &conn, &d) != FORA_OK) {
                conn = NULL;
                sleep(1);
                continue;
            }
            PGresult *r = PQexec(conn, "LISTEN fora_changes");
            bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
            PQclear(r);
            if (!ok) {
                PQfinish(conn);
                conn = NULL;
                sleep(1);
                continue;
            }
            fora_api_changes_listening(true);
        }
        struct pollfd pfd = {.fd = PQsocket(conn), .events = POLLIN};
        int n = poll(&pfd, 1, 1000);
        if (n < 0 && errno == EINTR) continue;
        if (n != 0 && (n < 0 || !PQconsumeInput(conn) || PQstatus(conn) != CONNECTION_OK)) {
            fora_api_changes_listening(false);
            fprintf(stderr, "{\"level\":\"warning\",\"msg\":\"change listener lost the"
                            " database; reading stamps per request\"}\n");
            PQfinish(conn);
            conn = NULL;
            continue;
        }
        bool any = false;
        for (PGnotify *nt; (nt = PQnotifies(conn)) != NULL; PQfreemem(nt))
            any = true;
        if (any) fora_api_changes_seen();
    }
    fora_api_changes_listening(false);
    PQfinish(conn);
    return NULL;
}

/* The in-process recompute worker (igraph: at most one per process). */
static void *worker_main(void *arg)
{
    fora_worker_loop(arg);
    return NULL;
}

static const char serve_usage[] =
    "Usage: fora serve [options]\n"
    "Serve the JSON API (see api-docs/) until interrupted (Ctrl-C, SIGTERM).\n"
    "Refuses to start when the database schema is behind (run `fora migrate`).\n"
    "  --bind ADDR    address to listen on (default 127.0.0.1)\n"
    "  --port N       port (default 8080)\n"
    "  --threads N    HTTP worker threads (default 4)\n"
    "  --workers N    recompute workers in this process: 1 (default) or 0; run\n"
    "                 `fora worker` processes for more\n"
    "  --cors-origin O  send Access-Control-Allow-Origin: O (e.g. a dashboard's\n"
    "                 origin, or *) and answer CORS preflights\n"
    "  --tls-cert FILE, --tls-key FILE  serve HTTPS with this PEM certificate\n"
    "                 (chain) and private key (libmicrohttpd with GnuTLS)\n"
    "  --statement-timeout S  cancel a request's database statement after S\n"
    "                 seconds (default 30; 0: no limit): the request gets 503\n";

/* Reads a whole (small) PEM file into a new string; NULL with a message on stderr. */
static char *read_pem(const char *opt, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "fora serve: %s \"%s\": %s\n", opt, path, strerror(errno));
        return NULL;
    }
    char *buf = fora_xmalloc(1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    bool big = n == (1 << 20) - 1 && fgetc(f) != EOF;
    fclose(f);
    buf[n] = '\0';
    if (big || n == 0 || strstr(buf, "-----BEGIN ") == NULL) {
        fprintf(stderr, "fora serve: %s \"%s\" is not a PEM file%s\n", opt, path,
                big ? " (over 1 MiB)" : "");
        free(buf);
        return NULL;
    }
    return buf;
}

int fora_cmd_serve(int argc, char **argv)
{
    fora_cli_t cli = {0};
    fora_diag_t diag = FORA_DIAG_INIT;
    enum {
        OPT_BIND = FORA_OPT_FIRST_OWN,
        OPT_PORT,
        OPT_THREADS,
        OPT_CORS,
        OPT_WORKERS,
        OPT_CERT,
        OPT_KEY,
        OPT_STMT_TIMEOUT
    };
    static const struct option opts[] = {
        FORA_CLI_COMMON_OPTIONS,
        {"bind", required_argument, NULL, OPT_BIND},
        {"port", required_argument, NULL, OPT_PORT},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"cors-origin", required_argument, NULL, OPT_CORS},
        {"workers", required_argument, NULL, OPT_WORKERS},
        {"tls-cert", required_argument, NULL, OPT_CERT},
        {"tls-key", required_argument, NULL, OPT_KEY},
        {"statement-timeout", required_argument, NULL, OPT_STMT_TIMEOUT},
        {NULL, 0, NULL, 0}};
    const char *bind = "127.0.0.1", *cors = NULL, *cert_path = NULL, *key_path = NULL;
    long long port = 8080, threads = 4, workers = 1, stmt_timeout = 30;
    int c;

    fora_dbconf_from_env(&cli.db);
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int r = fora_cli_common(&cli, c, serve_usage);
        if (r < 0) return 0;
        if (r > 0) continue;
        switch (c) {
        case OPT_BIND:
            bind = optarg;
            break;
        case OPT_PORT:
            if (!fora_cli_parse_int("serve", "port", optarg, 1, 65535, &port)) return 2;
            break;
        case OPT_THREADS:
            if (!fora_cli_parse_int("serve", "threads", optarg, 1, 64, &threads)) return 2;
            break;
        case OPT_WORKERS:
            if (!fora_cli_parse_int("serve", "workers", optarg, 0, 1, &workers)) return 2;
            break;
        case OPT_CERT:
            cert_path = optarg;
            break;
        case OPT_KEY:
            key_path = optarg;
            break;
        case OPT_STMT_TIMEOUT:
            if (!fora_cli_parse_int("serve", "statement-timeout", optarg, 0, 86400, &stmt_timeout))
                return 2;
            break;
        case OPT_CORS:
            if (optarg[0] == '\0' || strpbrk(optarg, "\r\n"))
                return fora_cli_usage_error("serve", "--cors-origin must be an origin or *");
            cors = optarg;
            break;
        default:
            return fora_cli_usage_error("serve", "unknown option");
        }
    }
    if (optind != argc) return fora_cli_usage_error("serve", "unexpected argument");
    if ((cert_path == NULL) != (key_path == NULL))
        return fora_cli_usage_error("serve", "--tls-cert and --tls-key go together");
    static char *cert, *key; /* live until the daemon stops */
    if (cert_path) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
            return fora_cli_usage_error("serve", "this libmicrohttpd was built without TLS");
        if ((cert = read_pem("--tls-cert", cert_path)) == NULL ||
            (key = read_pem("--tls-key", key_path)) == NULL) {
            free(cert);
            return 2;
        }
    }

    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, bind, &addr.sin_addr) != 1)
        return fora_cli_usage_error("serve", "--bind must be an IPv4 address, not \"%s\"", bind);

    PGconn *conn = NULL;
    if (fora_cli_connect(&cli, true, &conn, &diag) != FORA_OK) return fora_cli_fail(&diag);

    static server_t srv; /* large (metrics); lives until the daemon stops */
    pthread_mutex_init(&srv.pool.mu, NULL);
    pthread_mutex_init(&srv.metrics.mu, NULL);
    pthread_mutex_init(&srv.tokens.mu, NULL);
    srv.cors_origin = cors;
    /*
     * Request threads only ever connect: they never start the embedded
     * cluster (that forks and can take seconds).  If it is stopped, requests
     * get 503 until it is started again, and then reconnect.
     */
    char conninfo[1024];
    if (fora_db_conninfo(&cli.db, NULL, conninfo, sizeof(conninfo), &diag) != FORA_OK) {
        PQfinish(conn);
        return fora_cli_fail(&diag);
    }
    srv.pool.db.url = conninfo;
    srv.pool.db.quiet = true;
    if (stmt_timeout > 0)
        snprintf(srv.pool.set_timeout, sizeof(srv.pool.set_timeout), "SET statement_timeout = %lld",
                 stmt_timeout * 1000);
    /* the connection handed over below was made before the option: set it there too */
    if (srv.pool.set_timeout[0] && fora_db_exec(conn, srv.pool.set_timeout, &diag) != FORA_OK) {
        PQfinish(conn);
        return fora_cli_fail(&diag);
    }
    pool_put(&srv.pool, conn);

    /* block the stop signals in every thread; the main thread waits for them */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    struct MHD_OptionItem tls[] = {{MHD_OPTION_HTTPS_MEM_KEY, 0, key},
                                   {MHD_OPTION_HTTPS_MEM_CERT, 0, cert},
                                   {MHD_OPTION_END, 0, NULL}};
    if (cert == NULL) tls[0].option = MHD_OPTION_END;
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_EPOLL |
            (cert ? MHD_USE_TLS : 0),
        (uint16_t)port, NULL, NULL, on_request, &srv, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
        MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
    if (d == NULL) {
        if (cert)
            fprintf(stderr,
                    "fora: could not start HTTPS on %s:%lld (port in use, or --tls-cert \"%s\" /"
                    " --tls-key \"%s\" not a matching PEM certificate and key)\n",
                    bind, port, cert_path, key_path);
        else
            fprintf(stderr, "fora: could not listen on %s:%lld (in use?)\n", bind, port);
        pool_put(&srv.pool, NULL);
        return fora_err_exit_code(FORA_EIO);
    }
    static volatile sig_atomic_t worker_stop;
    fora_worker_loop_t wl = {
        .db = srv.pool.db, .poll = 1, .quiet = cli.quiet, .stop = &worker_stop};
    pthread_t wt;
    bool have_worker = workers > 0 && pthread_create(&wt, NULL, worker_main, &wl) == 0;
    static volatile sig_atomic_t listener_stop;
    listener_t li = {.db = srv.pool.db, .stop = &listener_stop};
    pthread_t lt;
    bool have_listener = pthread_create(&lt, NULL, listener_main, &li) == 0;
    printf("fora serving on %s://%s:%lld/  (JSON API: /v1/forums; Ctrl-C stops)\n",
           cert ? "https" : "http", bind, port);
    fflush(stdout);
    int sig;
    sigwait(&stop, &sig);
    fprintf(stderr, "fora: stopping (signal %d)\n", sig);
    MHD_stop_daemon(d);
    listener_stop = 1;
    if (have_listener) pthread_join(lt, NULL);
    worker_stop = 1;
    if (have_worker) pthread_join(wt, NULL); /* a running job finishes first */
    for (int i = 0; i < srv.pool.nidle; i++)
        PQfinish(srv.pool.idle[i]);
    pthread_mutex_destroy(&srv.pool.mu);
    pthread_mutex_destroy(&srv.metrics.mu);
    pthread_mutex_destroy(&srv.tokens.mu);
    free(cert);
    free(key);
    return 0;
}
