/*
 * server/api_jobs.c - the recompute queue over HTTP: queue a forum's
 * recompute (admin), follow a job.  Workers (server/worker.c) run the jobs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "fora/recompute.h"

#define JOB_JSON                                                                                   \
    "json_build_object('id', j.id, 'url', '/v1/jobs/' || j.id,"                                    \
    " 'forum', json_build_object('id', f.id, 'name', f.name), 'status', j.status,"                 \
    " 'params', j.params, 'progress', j.progress, 'run_id', j.run_id,"                             \
    " 'run_url', CASE WHEN j.run_id IS NULL THEN NULL"                                             \
    "   ELSE '/v1/forums/' || f.name || '/summary?run=' || j.run_id END,"                           \
    " 'worker', j.worker, 'created_at', j.created_at, 'started_at', j.started_at,"                 \
    " 'finished_at', j.finished_at, 'error', j.error)"

/*
 * POST /v1/forums/{forum}/recompute?seed=N&only=a,b&...: every run option of
 * fora_recompute_option_names, validated here, stored as text in the job.
 */
static void h_queue(fora__api_ctx_t *ctx)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    fora_recompute_opts_t check;
    char forum[24], token[24];
    if (!fora__api_only_params(ctx, fora_recompute_option_names)) return;
    fora_recompute_opts_init(&check);
    json_t *params = json_object();
    for (size_t i = 0; i < ctx->req->nparams; i++) {
        const fora_api_param_t *pr = &ctx->req->params[i];
        if (fora_recompute_opts_set(&check, pr->key, pr->value, &diag) != FORA_OK) {
            json_decref(params);
            fora__api_error(ctx->resp, FORA_EINVAL, diag.msg, pr->key);
            return;
        }
        json_object_set_new(params, pr->key, json_string(pr->value));
    }
    char *params_s = json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(params);
    if (params_s == NULL || !fora__api_resolve_forum(ctx, ctx->seg[0], forum, sizeof(forum))) {
        free(params_s);
        return;
    }
    snprintf(token, sizeof(token), "%lld", (long long)ctx->req->token_id);
    const char *p[] = {forum, params_s, token};
    json_t *doc = NULL;
    /* the same request while one is still queued returns that job: no pile-up */
    fora_err_t err = fora__api_query_json(
        ctx->conn,
        "WITH old AS (SELECT j.id FROM recompute_jobs j WHERE j.forum_id = $1::bigint"
        "  AND j.status = 'queued' AND j.params = $2::jsonb ORDER BY j.id LIMIT 1),"
        " new AS (INSERT INTO recompute_jobs (forum_id, params, requested_by)"
        "  SELECT $1::bigint, $2::jsonb, NULLIF($3::bigint, 0)"
        "  WHERE NOT EXISTS (SELECT 1 FROM old) RETURNING id)"
        " SELECT json_build_object('job', json_build_object('id', x.id, 'url',"
        "  '/v1/jobs/' || x.id, 'status', 'queued', 'forum', f.name, 'params', $2::jsonb))"
        " FROM (SELECT id FROM new UNION ALL SELECT id FROM old) x, forums f"
        " WHERE f.id = $1::bigint",
        FORA_NPARAMS(p), p, &doc, &diag);
    free(params_s);
    if (err != FORA_OK) {
        fora__api_diag(ctx->resp, &diag);
        return;
    }
    if (doc == NULL) {
        fora__api_error(ctx->resp, FORA_EINTERNAL, "the job was not queued", NULL);
        return;
    }
    fora__api_ok(ctx->resp, doc);
    ctx->resp->status = 202;
    snprintf(ctx->resp->location, sizeof(ctx->resp->location), "/v1/jobs/%lld",
             (long long)json_integer_value(json_object_get(json_object_get(doc, "job"), "id")));
}

/* GET /v1/jobs/{id} */
static void h_job(fora__api_ctx_t *ctx)
{
    static const char *const known[] = {NULL};
    char *end;
    long long id = strtoll(ctx->seg[0], &end, 10);
    if (!fora__api_only_params(ctx, known)) return;
    if (*end != '\0' || id <= 0) {
        fora__api_error(ctx->resp, FORA_ENOTFOUND, "a job id is a positive whole number", "job");
        return;
    }
    const char *p[] = {ctx->seg[0]};
    fora__api_reply_query(ctx,
                          "SELECT " JOB_JSON " FROM recompute_jobs j JOIN forums f"
                          " ON f.id = j.forum_id WHERE j.id = $1::bigint",
                          FORA_NPARAMS(p), p, "no such job", "job");
}

/* GET /v1/jobs?status=&forum=&limit=&offset= */
static void h_jobs(fora__api_ctx_t *ctx)
{
    static const char *const known[] = {"status", "forum", "limit", "offset", NULL};
    static const char *const statuses[] = {"queued", "running", "completed", "failed", NULL};
    fora__api_page_t pg;
    char forum[24] = "0";
    int st;
    if (!fora__api_only_params(ctx, known) || !fora__api_page_param(ctx, &pg) ||
        !fora__api_enum_param(ctx, "status", statuses, -1, &st))
        return;
    const char *fk = fora__api_param(ctx->req, "forum");
    if (fk && !fora__api_resolve_forum(ctx, fk, forum, sizeof(forum))) return;
    const char *p[] = {pg.limit_s, pg.offset_s, st < 0 ? NULL : statuses[st], forum};
    fora__api_reply_query(
        ctx,
        "WITH sel AS (SELECT j.* FROM recompute_jobs j WHERE ($3::text IS NULL OR j.status = $3)"
        "  AND ($4::bigint = 0 OR j.forum_id = $4::bigint))"
        " SELECT json_build_object('total', (SELECT count(*) FROM sel),"
        " 'limit', $1::int, 'offset', $2::int,"
        " 'items', COALESCE((SELECT json_agg(x.js ORDER BY x.id DESC) FROM"
        "  (SELECT j.id, " JOB_JSON " AS js FROM sel j JOIN forums f ON f.id = j.forum_id"
        "   ORDER BY j.id DESC LIMIT $1::int OFFSET $2::int) x), '[]'::json))",
        FORA_NPARAMS(p), p, NULL, NULL);
}

const fora__api_route_t fora__api_routes_jobs[] = {
    {"/v1/forums/{forum}/recompute", h_queue, true, "POST", FORA_ROLE_ADMIN},
    {"/v1/jobs", h_jobs, true, NULL, FORA_ROLE_READ},
    {"/v1/jobs/{job}", h_job, true, NULL, FORA_ROLE_READ},
    {NULL, NULL, false, NULL, FORA_ROLE_NONE},
};
