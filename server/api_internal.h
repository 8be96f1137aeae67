/*
 * server/api_internal.h - what the API's route files share (private to server/).
 *
 * The API is split by subject: api.c holds the router and the core routes
 * (forums, runs, summary, health), and each analysis adds its own file
 * (api_keyplayers.c, ...) with a route table that api.c lists once.  A route
 * file uses the helpers below for parameters, errors, forum and run
 * resolution and JSON queries, so every route validates and answers alike.
 *
 * Conventions for handlers:
 *  - validate every parameter before touching the database; a bad one is a
 *    400 whose detail names the parameter (fora__api_error(..., "name"));
 *  - every SQL statement is parameterised (PQexecParams), values as text;
 *  - a handler always leaves resp->status and resp->body set (the helpers
 *    that return false have already set an error document);
 *  - lists answer {"total", "limit", "offset", "items": [...]}.
 *
 * Thread safety: handlers run on any HTTP thread and must not call igraph.
 */
#ifndef FORA_API_INTERNAL_H
#define FORA_API_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fora/api.h"
#include "fora/db.h"

#define FORA_API_DEFAULT_LIMIT 100
#define FORA_API_MAX_LIMIT 1000
#define FORA_API_MAX_SEGS 3

/* The request as a handler sees it: the captured path segments in order. */
typedef struct fora__api_ctx {
    PGconn *conn;                       /* NULL for routes that need no database */
    const fora_api_request_t *req;      /* method, path, decoded parameters */
    const char *seg[FORA_API_MAX_SEGS]; /* "{...}" captures, e.g. seg[0] = forum */
    fora_api_response_t *resp;          /* what the handler fills in */
} fora__api_ctx_t;

typedef void (*fora__api_handler_fn)(fora__api_ctx_t *ctx);

/*
 * One route.  Patterns are literal segments and "{name}" captures (one path
 * segment each, in order, into ctx->seg).  A table ends with {NULL}.
 * Routes under /v1 need at least FORA_ROLE_READ (the router enforces it
 * whatever the table says).
 */
typedef struct fora__api_route {
    const char *pattern;
    fora__api_handler_fn fn;
    bool needs_db;
    const char *method;   /* "GET" (also answers HEAD) or "POST"; NULL: "GET" */
    fora_api_role_t role; /* least role allowed; FORA_ROLE_NONE: public */
} fora__api_route_t;

/* Route tables of the subject files (api.c lists them). */
extern const fora__api_route_t fora__api_routes_keyplayers[];
extern const fora__api_route_t fora__api_routes_jobs[];
extern const fora__api_route_t fora__api_routes_rhythms[];
extern const fora__api_route_t fora__api_routes_trajectories[];
extern const fora__api_route_t fora__api_routes_linking[];

/* ---- answering -------------------------------------------------------------- */

/* Sets an error document and its HTTP status; detail (may be NULL) names the parameter. */
void fora__api_error(fora_api_response_t *resp, fora_err_t code, const char *message,
                     const char *detail);

/* Same, from a diag; database details are logged, not sent (clients see 503). */
void fora__api_diag(fora_api_response_t *resp, const fora_diag_t *diag);

/* 200 with body (a new reference, taken over). */
void fora__api_ok(fora_api_response_t *resp, json_t *body);

/* ---- parameters -------------------------------------------------------------- */

/* The value of query parameter key, or NULL. */
const char *fora__api_param(const fora_api_request_t *req, const char *key);

/* Rejects (400) a parameter not in the NULL-terminated list known. */
bool fora__api_only_params(fora__api_ctx_t *ctx, const char *const *known);

/* Whole number in [min, max], def when absent. */
bool fora__api_int_param(fora__api_ctx_t *ctx, const char *key, long long def, long long min,
                         long long max, long long *out);

/* Finite number in [min, max], def when absent. */
bool fora__api_double_param(fora__api_ctx_t *ctx, const char *key, double def, double min,
                            double max, double *out);

/* One of the NULL-terminated values; *out is its index, def when absent. */
bool fora__api_enum_param(fora__api_ctx_t *ctx, const char *key, const char *const *values, int def,
                          int *out);

/*
 * A timestamp (the CSV bundle's formats: ISO 8601 with an optional zone, or
 * Unix seconds) as Unix seconds, or FORA_TIME_NONE when absent.
 */
bool fora__api_time_param(fora__api_ctx_t *ctx, const char *key, int64_t *out);

/* limit (1..FORA_API_MAX_LIMIT, default FORA_API_DEFAULT_LIMIT) and offset. */
typedef struct fora__api_page {
    long long limit;
    long long offset;
    char limit_s[24]; /* the same as text, for SQL parameters */
    char offset_s[24];
} fora__api_page_t;
bool fora__api_page_param(fora__api_ctx_t *ctx, fora__api_page_t *page);

/*
 * sort=NAME or sort=-NAME (descending) where NAME is one of the
 * NULL-terminated allowed list; *idx is its index (def when absent, with
 * *desc = def_desc).  The caller maps idx to a column it wrote itself, so no
 * client text ever reaches SQL.
 */
bool fora__api_sort_param(fora__api_ctx_t *ctx, const char *const *allowed, int def, bool def_desc,
                          int *idx, bool *desc);

/* ---- database ------------------------------------------------------------------ */

/*
 * The number of SQL parameters in a local array p[] of text values: pass it
 * instead of a hand-written count, so a parameter added to p[] but not to
 * the count (or the other way round) cannot reach libpq, which would read
 * past the array.
 */
#define FORA_NPARAMS(p) ((int)(sizeof(p) / sizeof((p)[0])))

/*
 * Runs sql (one row, one json column) with text params and parses the value
 * into *out (NULL when no row or SQL NULL).
 */
fora_err_t fora__api_query_json(PGconn *conn, const char *sql, int n, const char *const *p,
                                json_t **out, fora_diag_t *diag);

/*
 * Answers with the document sql builds: 200, or 404 with not_found (naming
 * not_found_detail) when it returns no row, or the error.
 */
void fora__api_reply_query(fora__api_ctx_t *ctx, const char *sql, int n, const char *const *p,
                           const char *not_found, const char *not_found_detail);

/* Resolves a forum by name or id into its id as text (404 "forum" when unknown). */
bool fora__api_resolve_forum(fora__api_ctx_t *ctx, const char *key, char *id, size_t len);

/*
 * Picks the run a result route reads: ?run=ID (which must belong to the
 * forum, be completed and, when analysis is not NULL, have computed it) or
 * the latest completed run that computed analysis.  404 "run" otherwise.
 */
bool fora__api_pick_run(fora__api_ctx_t *ctx, const char *forum_id, const char *analysis, char *run,
                        size_t len);

/*
 * Resolves ctx->seg[0] into forum (its id as text) and picks the run of
 * `analysis` into run (both buffers of FORA_API_ID_LEN bytes); false with
 * the 404 answered.  The preamble of every stored-result route.
 */
#define FORA_API_ID_LEN 24
bool fora__api_forum_run(fora__api_ctx_t *ctx, const char *analysis, char *forum, char *run);

/*
 * The "run" object of run $1 as a scalar subquery, for documents that are
 * not built from a join with the run.
 */
#define FORA_API_RUN_OF_PARAM1                                                                     \
    "(SELECT " FORA_API_RUN_JSON " FROM analysis_runs r JOIN forums f ON f.id = r.forum_id"        \
    " WHERE r.id = $1::bigint)"

/*
 * SQL for the "run" object every result document carries, for a run r
 * joined with its forum f.
 */
#define FORA_API_RUN_JSON                                                                          \
    "json_build_object('id', r.id, 'finished_at', r.finished_at, 'watermark', r.watermark,"        \
    " 'stale', r.watermark < f.data_version, 'params', r.params)"

#endif /* FORA_API_INTERNAL_H */
