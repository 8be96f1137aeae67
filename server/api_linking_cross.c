/*
 * server/api_linking_cross.c - the cross-forum linking routes: the ranked
 * candidate pairs between the run's forum and another forum, and one
 * member's most similar accounts in the other forum, from the tables of
 * migrations/0011_linking_cross.sql (run option link_with;
 * api-docs/linking.md, "Across forums").
 */
#include <stdio.h>
#include <string.h>

#include "api_linking_cross.h"
#include "fora/snapshot_load.h"

#define RUN_OBJ FORA_API_RUN_OF_PARAM1

/*
 * The forum ({forum}), the other forum (?other=, name or id; absent: the
 * other forum of the run found) and the run that linked them: ?run=ID, or
 * the latest completed run with results for that pair.  404 (or 400)
 * answered otherwise.
 */
static bool cross_run(fora__api_ctx_t *ctx, char *forum, char *other, char *run)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    const char *oname = fora__api_param(ctx->req, "other");
    if (!fora__api_resolve_forum(ctx, ctx->seg[0], forum, FORA_API_ID_LEN)) return false;
    snprintf(other, FORA_API_ID_LEN, "0");
    if (oname != NULL) {
        int64_t oid;
        if (fora_forum_lookup(ctx->conn, oname, &oid, &diag) != FORA_OK) {
            if (diag.code == FORA_ENOTFOUND || diag.code == FORA_EINVAL)
                fora__api_error(ctx->resp, FORA_ENOTFOUND, diag.msg, "other");
            else
                fora__api_diag(ctx->resp, &diag);
            return false;
        }
        snprintf(other, FORA_API_ID_LEN, "%lld", (long long)oid);
    }
    char want[FORA_API_ID_LEN] = "0";
    if (fora__api_param(ctx->req, "run") != NULL) {
        if (!fora__api_pick_run(ctx, forum, "linking_cross", want, FORA_API_ID_LEN)) return false;
    }
    const char *p[] = {forum, other, want};
    PGresult *res = PQexecParams(ctx->conn,
                                 "SELECT x.run_id, x.other_forum_id FROM run_link_cross x"
                                 " JOIN analysis_runs r ON r.id = x.run_id"
                                 " WHERE r.forum_id = $1::bigint AND r.status = 'completed'"
                                 " AND ($2::bigint = 0 OR x.other_forum_id = $2::bigint)"
                                 " AND ($3::bigint = 0 OR x.run_id = $3::bigint)"
                                 " ORDER BY x.run_id DESC, x.other_forum_id LIMIT 1",
                                 FORA_NPARAMS(p), NULL, p, NULL, NULL, 0);
    if (fora_db_check(res, PGRES_TUPLES_OK, "finding the run", &diag) != FORA_OK) {
        PQclear(res);
        fora__api_diag(ctx->resp, &diag);
        return false;
    }
    if (PQntuples(res) == 0) {
        char msg[300];
        const char *with = oname ? oname : "another forum";
        if (strcmp(want, "0") != 0)
            snprintf(msg, sizeof msg, "run %s did not link with %s%.64s%s", want,
                     oname ? "forum \"" : "", with, oname ? "\"" : "");
        else
            snprintf(msg, sizeof msg,
                     "no completed run of this forum linked with %s%.64s%s (recompute with "
                     "link_with=FORUM)",
                     oname ? "forum \"" : "", with, oname ? "\"" : "");
        PQclear(res);
        fora__api_error(ctx->resp, FORA_ENOTFOUND, msg, "run");
        return false;
    }
    snprintf(run, FORA_API_ID_LEN, "%s", PQgetvalue(res, 0, 0));
    snprintf(other, FORA_API_ID_LEN, "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    return true;
}

#define COMPONENTS                                                                                 \
    "json_build_object('hour_of_week', x.hour_of_week, 'gaps', x.gaps, 'session', x.session,"      \
    " 'category', x.category)"

void fora__api_linking_candidates(fora__api_ctx_t *ctx)
{
    static const char *const known[] = {"run", "other", "limit", "offset", NULL};
    char forum[FORA_API_ID_LEN], other[FORA_API_ID_LEN], run[FORA_API_ID_LEN];
    fora__api_page_t page;
    if (!fora__api_only_params(ctx, known) || !fora__api_page_param(ctx, &page) ||
        !cross_run(ctx, forum, other, run))
        return;
    const char *p[] = {run, other, forum, page.limit_s, page.offset_s};
    fora__api_reply_query(
        ctx,
        "SELECT json_build_object('run', " RUN_OBJ ","
        " 'other', (SELECT json_build_object('id', f.id, 'name', f.name) FROM forums f"
        "   WHERE f.id = $2::bigint),"
        " 'summary', c.summary,"
        " 'total', (SELECT count(*) FROM run_link_cross_pairs x"
        "   WHERE x.run_id = $1::bigint AND x.other_forum_id = $2::bigint),"
        " 'limit', $4::int, 'offset', $5::int,"
        " 'items', COALESCE((SELECT json_agg(json_build_object('rank', x.rank,"
        "   'member', json_build_object('id', a.id, 'ext_id', a.ext_id),"
        "   'other_member', json_build_object('id', b.id, 'ext_id', b.ext_id),"
        "   'similarity', x.similarity, 'mutual', x.mutual, 'rank_for_member', x.rank_for_member,"
        "   'rank_for_other', x.rank_for_other, 'posts', x.posts, 'other_posts', x.other_posts,"
        "   'components', " COMPONENTS ") ORDER BY x.rank)"
        "   FROM (SELECT * FROM run_link_cross_pairs WHERE run_id = $1::bigint"
        "     AND other_forum_id = $2::bigint ORDER BY rank LIMIT $4::int OFFSET $5::int) x"
        "   JOIN members a ON a.forum_id = $3::bigint AND a.id = x.member_id"
        "   JOIN members b ON b.forum_id = $2::bigint AND b.id = x.other_id), '[]'::json))"
        " FROM run_link_cross c WHERE c.run_id = $1::bigint AND c.other_forum_id = $2::bigint",
        FORA_NPARAMS(p), p, "the run has no cross-forum results", "run");
}

void fora__api_linking_similar_other(fora__api_ctx_t *ctx)
{
    static const char *const known[] = {"run", "other", NULL};
    char forum[FORA_API_ID_LEN], other[FORA_API_ID_LEN], run[FORA_API_ID_LEN];
    if (!fora__api_only_params(ctx, known) || !cross_run(ctx, forum, other, run)) return;
    const char *p[] = {run, other, forum, ctx->seg[1]};
    fora__api_reply_query(
        ctx,
        "SELECT json_build_object('run', " RUN_OBJ ","
        " 'other', (SELECT json_build_object('id', f.id, 'name', f.name) FROM forums f"
        "   WHERE f.id = $2::bigint),"
        " 'member', json_build_object('id', m.id, 'ext_id', m.ext_id),"
        " 'reason', (SELECT k.reason FROM run_link_cross_skipped k WHERE k.run_id = $1::bigint"
        "   AND k.other_forum_id = $2::bigint AND k.member_id = m.id),"
        " 'items', COALESCE((SELECT json_agg(json_build_object('rank', x.rank_for_member,"
        "   'member', json_build_object('id', b.id, 'ext_id', b.ext_id),"
        "   'similarity', x.similarity, 'mutual', x.mutual, 'posts', x.other_posts,"
        "   'components', " COMPONENTS ") ORDER BY x.rank_for_member)"
        "   FROM run_link_cross_pairs x JOIN members b ON b.forum_id = $2::bigint"
        "   AND b.id = x.other_id WHERE x.run_id = $1::bigint AND x.other_forum_id = $2::bigint"
        "   AND x.member_id = m.id AND x.rank_for_member IS NOT NULL), '[]'::json))"
        " FROM members m WHERE m.forum_id = $3::bigint AND m.ext_id = $4",
        FORA_NPARAMS(p), p, "no such member in this forum", "member");
}
