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
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "fora/api.h"
#include "fora/progress.h"

#define MAX_PARAMS 32
#define POOL_MAX 8

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
    "parameter, 9 database unavailable).\n";

int fora_cmd_show(int argc, char **argv)
{
    fora_cli_t cli = {0};
    fora_diag_t diag = FORA_DIAG_INIT;
    static const struct option opts[] = {FORA_CLI_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
    fora_api_param_t params[MAX_PARAMS];
    fora_api_request_t req = {.method = "GET", .params = params};
    fora_api_response_t resp;
    PGconn *conn = NULL;
    int c;

    fora_dbconf_from_env(&cli.db);
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int r = fora_cli_common(&cli, c, show_usage);
        if (r < 0) return 0;
        if (r == 0) return fora_cli_usage_error("show", "unknown option");
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
    if (resp.text) {
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
    fora_dbconf_t db; /* always a plain connection string: see fora_cmd_serve() */
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

typedef struct server {
    conn_pool_t pool;
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

static const char index_html[] =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>fora</title></head>"
    "<body style=\"font-family:sans-serif;max-width:46em;margin:2em auto\">"
    "<h1>fora</h1><p>Network science on forum structure. This server answers the JSON API; "
    "the dashboard is not built yet.</p><ul>"
    "<li><a href=\"/v1/forums\">/v1/forums</a> &mdash; forums and their latest analysis run</li>"
    "<li>/v1/forums/{forum} &mdash; one forum (name or id)</li>"
    "<li>/v1/forums/{forum}/runs &mdash; its analysis runs</li>"
    "<li>/v1/forums/{forum}/summary &mdash; the snapshot summary of the latest run</li>"
    "<li><a href=\"/healthz\">/healthz</a>, <a href=\"/readyz\">/readyz</a></li>"
    "</ul><p>Try <a href=\"/v1/forums/beer/summary\">/v1/forums/beer/summary</a>.</p>"
    "</body></html>";

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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **req_cls)
{
    server_t *srv = cls;
    (void)version;
    (void)upload_data;
    if (*req_cls == NULL) { /* first call: headers only */
        *req_cls = srv;
        return MHD_YES;
    }
    if (*upload_size) { /* no route takes a body: discard it */
        *upload_size = 0;
        return MHD_YES;
    }
    double t0 = fora_now_seconds();
    if (strcmp(url, "/") == 0 && strcmp(method, "GET") == 0)
        return send_body(mc, 200, "text/html; charset=utf-8", index_html, sizeof(index_html) - 1,
                         false);

    fora_api_param_t params[MAX_PARAMS];
    collect_t col = {params, 0, false};
    MHD_get_connection_values(mc, MHD_GET_ARGUMENT_KIND, collect_arg, &col);
    fora_api_request_t req = {.method = method, .path = url, .params = params, .nparams = col.n};
    fora_api_response_t resp = {0};
    PGconn *conn = NULL;
    if (col.overflow) {
        resp.status = 400;
        resp.body = fora_api_error_body(FORA_EINVAL, "too many query parameters", NULL);
    } else {
        bool needs_db = strcmp(url, "/healthz") != 0;
        if (needs_db) conn = pool_get(&srv->pool);
        fora_api_handle(conn, &req, &resp);
        pool_put(&srv->pool, conn);
    }
    const char *type = resp.text ? resp.content_type : "application/json";
    char *text = resp.text ? resp.text : json_dumps(resp.body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(resp.body);
    enum MHD_Result ret;
    if (text == NULL) {
        static const char oom[] =
            "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";
        ret = send_body(mc, 500, "application/json", oom, sizeof(oom) - 1, false);
    } else {
        ret = send_body(mc, resp.status, type, text, strlen(text), true);
        free(text);
    }
    fprintf(stderr, "{\"method\":\"%s\",\"path\":\"%s\",\"status\":%d,\"ms\":%.2f}\n", method, url,
            resp.status, (fora_now_seconds() - t0) * 1000.0);
    return ret;
}

static const char serve_usage[] =
    "Usage: fora serve [options]\n"
    "Serve the JSON API (see api-docs/) until interrupted (Ctrl-C, SIGTERM).\n"
    "Refuses to start when the database schema is behind (run `fora migrate`).\n"
    "  --bind ADDR    address to listen on (default 127.0.0.1)\n"
    "  --port N       port (default 8080)\n"
    "  --threads N    HTTP worker threads (default 4)\n";

int fora_cmd_serve(int argc, char **argv)
{
    fora_cli_t cli = {0};
    fora_diag_t diag = FORA_DIAG_INIT;
    enum { OPT_BIND = FORA_OPT_FIRST_OWN, OPT_PORT, OPT_THREADS };
    static const struct option opts[] = {FORA_CLI_COMMON_OPTIONS,
                                         {"bind", required_argument, NULL, OPT_BIND},
                                         {"port", required_argument, NULL, OPT_PORT},
                                         {"threads", required_argument, NULL, OPT_THREADS},
                                         {NULL, 0, NULL, 0}};
    const char *bind = "127.0.0.1";
    long long port = 8080, threads = 4;
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
        default:
            return fora_cli_usage_error("serve", "unknown option");
        }
    }
    if (optind != argc) return fora_cli_usage_error("serve", "unexpected argument");

    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, bind, &addr.sin_addr) != 1)
        return fora_cli_usage_error("serve", "--bind must be an IPv4 address, not \"%s\"", bind);

    PGconn *conn = NULL;
    if (fora_cli_connect(&cli, true, &conn, &diag) != FORA_OK) return fora_cli_fail(&diag);

    server_t srv = {0};
    pthread_mutex_init(&srv.pool.mu, NULL);
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
    pool_put(&srv.pool, conn);

    /* block the stop signals in every thread; the main thread waits for them */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_EPOLL, (uint16_t)port, NULL,
        NULL, on_request, &srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "fora: could not listen on %s:%lld (in use?)\n", bind, port);
        pool_put(&srv.pool, NULL);
        return fora_err_exit_code(FORA_EIO);
    }
    printf("fora serving on http://%s:%lld/  (JSON API: /v1/forums; Ctrl-C stops)\n", bind, port);
    fflush(stdout);
    int sig;
    sigwait(&stop, &sig);
    fprintf(stderr, "fora: stopping (signal %d)\n", sig);
    MHD_stop_daemon(d);
    for (int i = 0; i < srv.pool.nidle; i++)
        PQfinish(srv.pool.idle[i]);
    pthread_mutex_destroy(&srv.pool.mu);
    return 0;
}
