/*
 * fora/api.h - the HTTP/JSON API's routes, independent of any HTTP server.
 *
 * `fora serve` (libmicrohttpd) and `fora show ROUTE` both call
 * fora_api_handle(), so a route prints exactly the same JSON in both.
 * Every error has one shape: {"error": {"code", "message", "detail"}}.
 *
 * Routes: every one is described in api-docs/openapi.yaml (a test compares
 * that file with the route tables of server/api*.c both ways) and listed by
 * GET /v1/routes.  The router and the helpers route files share are in
 * server/api_internal.h; fora serve adds authentication (req.role), the
 * result cache (req.use_cache), ETag, gzip and CSV around this call.
 *
 * Ownership: the response's body is a new reference the caller decrefs;
 * its text (when not NULL) is malloc'd and freed by the caller.
 * Thread safety: reentrant; conn must be used by one thread at a time.
 */
#ifndef FORA_API_H
#define FORA_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "fora/error.h"

typedef struct fora_api_param {
    const char *key;
    const char *value;
} fora_api_param_t;

/* What a request may do: set by the caller after authentication. */
typedef enum fora_api_role {
    FORA_ROLE_NONE = 0, /* no token: public routes only (/healthz, /readyz) */
    FORA_ROLE_READ = 1, /* a read token: every GET */
    FORA_ROLE_ADMIN = 2 /* an admin token, or `fora show`: also POST (recompute) */
} fora_api_role_t;

typedef struct fora_api_request {
    const char *method;             /* "GET", ... */
    fora_api_role_t role;           /* authenticated role */
    int64_t token_id;               /* the token's id (0: none, or `fora show`) */
    bool use_cache;                 /* may answer from / fill the result cache (fora serve) */
    const char *path;               /* decoded path, no query string */
    const fora_api_param_t *params; /* decoded query parameters */
    size_t nparams;
} fora_api_request_t;

typedef struct fora_api_response {
    int status;               /* HTTP status */
    json_t *body;             /* the JSON document (new reference), or NULL when text is set */
    char *text;               /* a non-JSON body (malloc'd; GraphML, CSV), or NULL */
    const char *content_type; /* of text (static) */
    const char *route;        /* the matched route pattern (static), or NULL: for metrics */
    char location[128];       /* a Location header for 201/202 answers, or "" */
    char etag[24];            /* the ETag of text when the result cache knows it, or "" */
} fora_api_response_t;

/* Answers req; never fails (errors become an error document and status). */
void fora_api_handle(PGconn *conn, const fora_api_request_t *req, fora_api_response_t *resp);

/*
 * The CSV of a tabular document (one with an "items" array: every list
 * route), one row per item with nested objects flattened to dotted columns;
 * NULL when doc is not tabular.  The caller frees the result.
 */
char *fora_api_csv(json_t *doc);

/* Result-cache hits and misses so far (requests with use_cache). */
void fora_api_cache_stats(uint64_t *hits, uint64_t *misses);

/*
 * Change notifications (migrations/0009_change_notify.sql).  While a
 * listener is connected and says so with fora_api_changes_listening(true),
 * the result cache trusts a forum's stamp (data version, newest completed
 * run) until fora_api_changes_seen() reports a notification, so a cached
 * answer costs no query; without a listener every cached request reads the
 * stamp.  Either call forgets every remembered stamp.  Thread-safe; O(1).
 */
void fora_api_changes_listening(bool on);
void fora_api_changes_seen(void);

/* Stamp reads so far: from the database, and remembered ones (for tests and /metrics). */
void fora_api_stamp_stats(uint64_t *queries, uint64_t *remembered);

/* The strong ETag of a body: 64-bit FNV-1a as a quoted hex string.  O(len). */
void fora_api_etag(const char *body, size_t len, char out[24]);

/* Builds the error document for code with message and optional detail. */
json_t *fora_api_error_body(fora_err_t code, const char *message, const char *detail);

/*
 * Splits "PATH?QUERY" into a decoded path and decoded parameters, in place
 * (buf is modified; the results point into it).  At most max parameters;
 * EINVAL for a bad percent escape or too many parameters.
 */
fora_err_t fora_api_parse_target(char *buf, const char **path, fora_api_param_t *params, size_t max,
                                 size_t *nparams, fora_diag_t *diag);

#endif /* FORA_API_H */
