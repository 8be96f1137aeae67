/*
 * server/api_trajectories.c - the trajectories routes: model comparison and
 * selected model, a group's members, one member's trajectory.  They read the
 * tables of migrations/0006_trajectories.sql and 0007_trajectories_more.sql
 * (api-docs/trajectories.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "api_internal.h"

/* The forum and the run of this file's analysis (404 answered when missing). */
static bool forum_run(fora__api_ctx_t *ctx, char *forum, char *run)
{
    return fora__api_forum_run(ctx, "trajectories", forum, run);
}

#define RUN_OBJ FORA_API_RUN_OF_PARAM1

#define GROUP_JSON                                                                                 \
    "json_build_object('group', g.grp, 'label', g.label, 'rule_label', g.rule_label,"              \
    " 'label_overridden', g.label_overridden, 'size', g.size, 'pi', g.pi,"                         \
    " 'pi_se', g.pi_se, 'avepp', g.avepp, 'occ', g.occ, 'mean_onset', g.mean_onset,"               \
    " 'mean_duration', g.mean_duration, 'mean_posts', g.mean_posts, 'rate', g.rate,"               \
    " 'first_week_share', g.first_week_share, 'staff_share', g.staff_share, 'slope', g.slope,"     \
    " 'trend', g.trend, 'coef', g.coef, 'zero_coef', g.zero_coef, 'curve', g.curve,"               \
    " 'category_shares', g.category_shares, 'centrality', g.centrality)"

#define MEMBER_JSON                                                                                \
    "json_build_object('id', m.id, 'ext_id', m.ext_id, 'status', m.status, 'group', x.grp,"        \
    " 'posterior', x.posterior, 'onset', x.onset, 'last_month', x.last_month,"                     \
    " 'at_risk_from', x.at_risk_from, 'posts', x.posts, 'first_week', x.first_week,"               \
    " 'trend', json_build_object('defined', x.trend_defined, 'slope', x.slope, 'lower',"           \
    " x.slope_lo, 'upper', x.slope_hi), 'escalating', x.escalating,"                               \
    " 'exposure_first', x.exposure_first, 'exposure_last', x.exposure_last)"

/* GET /v1/forums/{forum}/trajectories */
static void h_trajectories(fora__api_ctx_t *ctx)
{
    static const char *const known[] = {"run", NULL};
    char forum[24], run[24];
    if (!fora__api_only_params(ctx, known) || !forum_run(ctx, forum, run)) return;
    const char *p[] = {run};
    fora__api_reply_query(
        ctx,
        "SELECT json_build_object('run', " RUN_OBJ ", 'analysis', d.doc,"
        " 'models', (SELECT json_agg(json_build_object('k', k, 'fitted', fitted, 'eligible',"
        "   eligible, 'selected', selected, 'loglik', loglik, 'bic', bic, 'bic_cells', bic_cells,"
        "   'aic', aic, 'entropy', entropy, 'npar', npar, 'min_pi', min_pi, 'converged',"
        "   converged, 'starts', starts, 'starts_at_best', starts_at_best) ORDER BY k)"
        "   FROM run_trajectory_models WHERE run_id = d.run_id),"
        " 'groups', COALESCE((SELECT json_agg(" GROUP_JSON " ORDER BY g.grp)"
        "   FROM run_trajectory_groups g WHERE g.run_id = d.run_id), '[]'::json))"
        " FROM run_trajectory_doc d WHERE d.run_id = $1::bigint",
        FORA_NPARAMS(p), p, "the run has no trajectories (the forum has no posts by members)",
        "run");
}

/* Parses the {group} segment: a whole number >= 1; anything else names no group (404 "group"). */
static bool group_seg(fora__api_ctx_t *ctx, char *out, size_t len)
{
    const char *s = ctx->seg[1];
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > 1000) {
        fora__api_error(ctx->resp, FORA_ENOTFOUND, "no such group (groups are numbered from 1)",
                        "group");
        return false;
    }
    snprintf(out, len, "%lld", v);
    return true;
}

/* GET /v1/forums/{forum}/trajectories/groups/{group}/members */
static void h_group_members(fora__api_ctx_t *ctx)
{
    static const char *const known[] = {"run", "limit", "offset", NULL};
    fora__api_page_t pg;
    char forum[24], run[24], grp[24];
    if (!fora__api_only_params(ctx, known) || !group_seg(ctx, grp, sizeof grp) ||
        !fora__api_page_param(ctx, &pg) || !forum_run(ctx, forum, run))
        return;
    const char *p[] = {run, grp, pg.limit_s, pg.offset_s, forum};
    fora__api_reply_query(
        ctx,
        "SELECT json_build_object('run', " RUN_OBJ ", 'group', " GROUP_JSON ","
        " 'total', g.size, 'limit', $3::int, 'offset', $4::int,"
        " 'items', COALESCE((SELECT json_agg(j ORDER BY ord) FROM"
        "  (SELECT " MEMBER_JSON " AS j, row_number() OVER (ORDER BY x.posterior DESC,"
        "    x.member_id) AS ord FROM run_trajectory_members x"
        "   JOIN members m ON m.forum_id = $5::bigint AND m.id = x.member_id"
        "   WHERE x.run_id = $1::bigint AND x.grp = $2::int"
        "   ORDER BY x.posterior DESC, x.member_id LIMIT $3::int OFFSET $4::int) y),"
        "  '[]'::json))"
        " FROM run_trajectory_groups g WHERE g.run_id = $1::bigint AND g.grp = $2::int",
        FORA_NPARAMS(p), p, "no such group in the run's selected model", "group");
}

/* GET /v1/forums/{forum}/members/{member}/trajectory: {member} is the ext_id. */
static void h_member_trajectory(fora__api_ctx_t *ctx)
{
    static const char *const known[] = {"run", NULL};
    char forum[24], run[24];
    if (!fora__api_only_params(ctx, known) || !forum_run(ctx, forum, run)) return;
    const char *p[] = {run, ctx->seg[1], forum};
    fora__api_reply_query(
        ctx,
        "SELECT json_build_object('run', " RUN_OBJ ", 'member', " MEMBER_JSON ","
        " 'posteriors', x.posteriors, 'first_month', d.doc->'first_month',"
        " 'time', d.doc->'time', 'counts', x.counts,"
        " 'group_curve', (SELECT g.curve FROM run_trajectory_groups g"
        "   WHERE g.run_id = x.run_id AND g.grp = x.grp),"
        " 'group_label', (SELECT g.label FROM run_trajectory_groups g"
        "   WHERE g.run_id = x.run_id AND g.grp = x.grp))"
        " FROM members m JOIN run_trajectory_members x ON x.member_id = m.id"
        "  AND x.run_id = $1::bigint JOIN run_trajectory_doc d ON d.run_id = x.run_id"
        " WHERE m.forum_id = $3::bigint AND m.ext_id = $2",
        FORA_NPARAMS(p), p,
        "no such member in this run (members who never posted have no trajectory)", "member");
}

const fora__api_route_t fora__api_routes_trajectories[] = {
    {"/v1/forums/{forum}/trajectories", h_trajectories, true, NULL, FORA_ROLE_READ},
    {"/v1/forums/{forum}/trajectories/groups/{group}/members", h_group_members, true, NULL,
     FORA_ROLE_READ},
    {"/v1/forums/{forum}/members/{member}/trajectory", h_member_trajectory, true, NULL,
     FORA_ROLE_READ},
    {NULL, NULL, false, NULL, FORA_ROLE_NONE},
};
