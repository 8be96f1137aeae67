/*
 * server/api_linking.c - the linking routes: a member's most similar
 * accounts with each component's cosine, and the run's retrieval
 * evaluation.  They read the tables of migrations/0008_linking.sql
 * (api-docs/linking.md).
 */
#include "api_internal.h"
#include "api_linking_cross.h"

/* The forum and the run of this file's analysis (404 answered when missing). */
static bool forum_run(fora__api_ctx_t *ctx, char *forum, char *run)
{
    return fora__api_forum_run(ctx, "linking", forum, run);
}

#define RUN_OBJ FORA_API_RUN_OF_PARAM1

#define METRICS(cond)                                                                              \
    "(array_agg(json_strip_nulls(json_build_object('mrr', mrr, 'recall_at_10', recall_at_10,"      \
    " 'mean_rank', mean_rank, 'fitted', fitted, 'weights', weights))) FILTER (WHERE " cond "))[1]"

/* one evaluation row per (protocol, episode_len): views, random baseline, reason */
#define EVAL_JSON                                                                                  \
    "json_build_object('episode_len', episode_len, 'rows', max(rows), 'queries', max(queries),"    \
    " 'candidates', max(candidates), 'reason', max(reason),"                                       \
    " 'views', CASE WHEN max(reason) IS NULL THEN json_build_object("                              \
    "   'time', " METRICS("view = 'time'") ", 'context', " METRICS(                                \
        "view = 'context'") ","                                                                    \
                            "   'both', " METRICS("view = 'both'") ") END,"                        \
                                                                   " 'random', " METRICS(          \
                                                                       "view = 'random'") ")"

/* GET /v1/forums/{forum}/linking/eval */
static void h_eval(fora__api_ctx_t *ctx)
{
    static const char *const known[] = {"run", NULL};
    char forum[24], run[24];
    if (!fora__api_only_params(ctx, known) || !forum_run(ctx, forum, run)) return;
    const char *p[] = {run};
    fora__api_reply_query(
        ctx,
        "SELECT json_build_object('run', " RUN_OBJ ","
        " 'episodes', COALESCE((SELECT json_agg(j ORDER BY episode_len) FROM"
        "   (SELECT episode_len, " EVAL_JSON " AS j FROM run_link_eval"
        "    WHERE run_id = $1::bigint AND protocol = 'episodes' GROUP BY episode_len) e),"
        "   '[]'::json),"
        " 'episodes_balanced', COALESCE((SELECT json_agg(j ORDER BY episode_len) FROM"
        "   (SELECT episode_len, " EVAL_JSON " AS j FROM run_link_eval"
        "    WHERE run_id = $1::bigint AND protocol = 'episodes_balanced'"
        "    GROUP BY episode_len) e), '[]'::json),"
        " 'sybils', (SELECT " EVAL_JSON " FROM run_link_eval"
        "   WHERE run_id = $1::bigint AND protocol = 'sybils' GROUP BY episode_len))",
        FORA_NPARAMS(p), p, "the run has no linking results", "run");
}

/* GET /v1/forums/{forum}/members/{member}/similar: {member} is the ext_id. */
static void h_similar(fora__api_ctx_t *ctx)
{
    /* ?other=B: the member's most similar accounts in forum B (api_linking_cross.c) */
    if (fora__api_param(ctx->req, "other") != NULL) {
        fora__api_linking_similar_other(ctx);
        return;
    }
    static const char *const known[] = {"run", NULL};
    char forum[24], run[24];
    if (!fora__api_only_params(ctx, known) || !forum_run(ctx, forum, run)) return;
    const char *p[] = {run, ctx->seg[1], forum};
    fora__api_reply_query(
        ctx,
        "SELECT json_build_object('run', " RUN_OBJ ","
        " 'member', json_build_object('id', m.id, 'ext_id', m.ext_id),"
        " 'reason', (SELECT k.reason FROM run_link_skipped k"
        "   WHERE k.run_id = $1::bigint AND k.member_id = m.id),"
        " 'items', COALESCE((SELECT json_agg(json_build_object('rank', x.rank,"
        "   'member', json_build_object('id', o.id, 'ext_id', o.ext_id),"
        "   'similarity', x.similarity, 'components', json_build_object('hour_of_week',"
        "   x.hour_of_week, 'gaps', x.gaps, 'session', x.session, 'embedding', x.embedding,"
        "   'category', x.category)) ORDER BY x.rank)"
        "   FROM run_link_similar x JOIN members o ON o.forum_id = $3::bigint AND o.id = x.other_id"
        "   WHERE x.run_id = $1::bigint AND x.member_id = m.id), '[]'::json))"
        " FROM members m WHERE m.forum_id = $3::bigint AND m.ext_id = $2",
        FORA_NPARAMS(p), p, "no such member in this forum", "member");
}

const fora__api_route_t fora__api_routes_linking[] = {
    {"/v1/forums/{forum}/linking/eval", h_eval, true, NULL, FORA_ROLE_READ},
    {"/v1/forums/{forum}/members/{member}/similar", h_similar, true, NULL, FORA_ROLE_READ},
    {"/v1/forums/{forum}/linking/candidates", fora__api_linking_candidates, true, NULL,
     FORA_ROLE_READ},
    {NULL, NULL, false, NULL, FORA_ROLE_NONE},
};
