/*
 * server/api_keyplayers.c - routes of the key-player analysis (issue 3):
 * member metrics, key players by method, disruption curves, communities,
 * thread statistics, concentration, role validation, network metadata and
 * graph export.  All read the tables of migrations/0003_keyplayers.sql for
 * one run (the latest completed run with "keyplayers", or ?run=).
 *
 * Column names reach SQL only from the static tables below, never from the
 * client: sort and method parameters are matched against them first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "strbuf.h"

/* Member metrics a list can be sorted by (API name, SQL expression, descending by default). */
static const struct {
    const char *name;
    const char *col;
    bool desc;
} member_fields[] = {
    {"composite_rank", "x.composite_rank", false},
    {"composite_score", "x.composite_score", true},
    {"posts", "x.posts", true},
    {"threads_started", "x.threads_started", true},
    {"threads", "x.threads", true},
    {"boards", "x.boards", true},
    {"in_degree", "x.in_degree", true},
    {"out_degree", "x.out_degree", true},
    {"in_strength", "x.in_strength", true},
    {"out_strength", "x.out_strength", true},
    {"pagerank", "x.pagerank", true},
    {"betweenness", "x.betweenness", true},
    {"closeness", "x.closeness", true},
    {"closeness_wf", "x.closeness_wf", true},
    {"harmonic", "x.harmonic", true},
    {"eigenvector", "x.eigenvector", true},
    {"coreness", "x.coreness", true},
    {"constraint", "x.burt_constraint", false},
    {"effective_size", "x.effective_size", true},
    {"clustering", "x.clustering", true},
    {"community", "x.community", false},
    {"ext_id", "m.ext_id", false},
};
#define N_MEMBER_FIELDS (sizeof(member_fields) / sizeof(member_fields[0]))

/* The sortable names, NULL-terminated, into the caller's names (no shared state between threads).
 */
static const char *const *member_field_names(const char *names[N_MEMBER_FIELDS + 1])
{
    for (size_t i = 0; i < N_MEMBER_FIELDS; i++)
        names[i] = member_fields[i].name;
    names[N_MEMBER_FIELDS] = NULL;
    return names;
}

/* The JSON of a member row x (run_member_metrics) joined with members m. */
#define MEMBER_JSON                                                                                \
    "(jsonb_build_object('id', m.id, 'ext_id', m.ext_id, 'status', m.status,"                      \
    "  'registered_at', m.registered_at, 'banned_at', m.banned_at,"                                \
    "  'constraint', x.burt_constraint)"                                                           \
    " || (to_jsonb(x) - 'run_id' - 'member_id' - 'burt_constraint' - 'ext_id' - 'ord'))"

/* The forum and run of a result route; false when an error was answered. */
/* The forum and the run of this file's analysis (404 answered when missing). */
static bool forum_run(fora__api_ctx_t *ctx, char *forum, char *run)
{
    return fora__api_forum_run(ctx, "keyplayers", forum, run);
}

/* GET /v1/forums/{forum}/members */
static void h_members(fora__api_ctx_t *ctx)
{
    static const char *const known[] = {"run",        "limit",  "offset",    "sort", "community",
                                        "in_network", "status", "min_posts", NULL};
    static const char *const booleans[] = {"false", "true", NULL};
    fora__api_page_t pg;
    char forum[24], run[24], sql[4096], comm_s[24], minp_s[24];
    const char *names[N_MEMBER_FIELDS + 1];
    long long comm, minp;
    int sort, innet;
    bool desc;
    if (!fora__api_only_params(ctx, known) || !fora__api_page_param(ctx, &pg) ||
        !fora__api_sort_param(ctx, member_field_names(names), 0, false, &sort, &desc) ||
        !fora__api_int_param(ctx, "community", -1, 0, INT32_MAX, &comm) ||
        !fora__api_int_param(ctx, "min_posts", 0, 0, INT64_MAX, &minp) ||
        !fora__api_enum_param(ctx, "in_network", booleans, -1, &innet) ||
        !forum_run(ctx, forum, run))
        return;
    if (fora__api_param(ctx->req, "sort") == NULL) desc = member_fields[sort].desc;
    snprintf(comm_s, sizeof(comm_s), "%lld", comm);
    snprintf(minp_s, sizeof(minp_s), "%lld", minp);
    const char *status = fora__api_param(ctx->req, "status");
    const char *p[] = {run,    pg.limit_s, pg.offset_s,
                       comm_s, minp_s,     innet < 0 ? NULL : booleans[innet],
                       status, forum};
    /* filter, count and page on the bare rows; build JSON for the page only */
    snprintf(sql, sizeof(sql),
             "WITH sel AS MATERIALIZED (SELECT x.*, m.ext_id FROM run_member_metrics x"
             "  JOIN members m ON m.forum_id = $8::bigint AND m.id = x.member_id"
             "  WHERE x.run_id = $1::bigint AND ($4::int < 0 OR x.community = $4::int)"
             "  AND x.posts >= $5::bigint AND ($6::boolean IS NULL OR x.in_network = $6::boolean)"
             "  AND ($7::text IS NULL OR m.status = $7)),"
             " page AS (SELECT x.*, row_number() OVER () AS ord FROM"
             "  (SELECT * FROM sel x ORDER BY %s %s NULLS LAST, x.member_id"
             "   LIMIT $2::int OFFSET $3::int) x)"
             " SELECT json_build_object('run', (SELECT " FORA_API_RUN_JSON
             "   FROM analysis_runs r JOIN forums f ON f.id = r.forum_id WHERE r.id = $1::bigint),"
             " 'total', (SELECT count(*) FROM sel), 'limit', $2::int, 'offset', $3::int,"
             " 'sort', '%s%s',"
             " 'items', COALESCE((SELECT json_agg(" MEMBER_JSON " ORDER BY x.ord)"
             "  FROM page x JOIN members m ON m.forum_id = $8::bigint AND m.id = x.member_id),"
             "  '[]'::json))",
             member_fields[sort].col, desc ? "DESC" : "ASC", desc ? "-" : "",
             member_fields[sort].name);
    fora__api_reply_query(ctx, sql, FORA_NPARAMS(p), p, NULL, NULL);
}

/* GET /v1/forums/{forum}/members/{member}: {member} is the member's ext_id. */
static void h_member(fora__api_ctx_t *ctx)
{
    static const char *const known[] = {"run", NULL};
    char forum[24], run[24];
    if (!fora__api_only_params(ctx, known) || !forum_run(ctx, forum, run)) return;
    const char *p[] = {run, ctx->seg[1], forum};
    /* ranks: 1 + members of the run ahead on each metric (constraint: lower is ahead) */
    fora__api_reply_query(
        ctx,
        "SELECT json_build_object('run', (SELECT " FORA_API_RUN_JSON
        "   FROM analysis_runs r JOIN forums f ON f.id = r.forum_id WHERE r.id = $1::bigint),"
        " 'member', " MEMBER_JSON ","
        " 'ranks', (SELECT json_build_object('of', count(*),"
        "   'posts', 1 + count(*) FILTER (WHERE o.posts > x.posts),"
        "   'in_degree', 1 + count(*) FILTER (WHERE o.in_degree > x.in_degree),"
        "   'out_degree', 1 + count(*) FILTER (WHERE o.out_degree > x.out_degree),"
        "   'in_strength', 1 + count(*) FILTER (WHERE o.in_strength > x.in_strength),"
        "   'out_strength', 1 + count(*) FILTER (WHERE o.out_strength > x.out_strength),"
        "   'pagerank', 1 + count(*) FILTER (WHERE o.pagerank > x.pagerank),"
        "   'betweenness', 1 + count(*) FILTER (WHERE o.betweenness > x.betweenness),"
        "   'closeness', 1 + count(*) FILTER (WHERE o.closeness > x.closeness),"
        "   'harmonic', 1 + count(*) FILTER (WHERE o.harmonic > x.harmonic),"
        "   'eigenvector', 1 + count(*) FILTER (WHERE o.eigenvector > x.eigenvector),"
        "   'coreness', 1 + count(*) FILTER (WHERE o.coreness > x.coreness),"
        "   'constraint', CASE WHEN x.burt_constraint IS NULL THEN NULL ELSE 1 + count(*)"
        "     FILTER (WHERE o.burt_constraint < x.burt_constraint) END,"
        "   'effective_size', 1 + count(*) FILTER (WHERE o.effective_size > x.effective_size),"
        "   'clustering', 1 + count(*) FILTER (WHERE o.clustering > x.clustering))"
        "   FROM run_member_metrics o WHERE o.run_id = x.run_id),"
        " 'keyplayer_sets', COALESCE((SELECT json_agg(json_build_object('method', s.method,"
        "   'position', s.position) ORDER BY s.method) FROM run_keyplayer_sets s"
        "   WHERE s.run_id = x.run_id AND s.member_id = x.member_id), '[]'::json))"
        " FROM members m JOIN run_member_metrics x ON x.member_id = m.id AND x.run_id = $1::bigint"
        " WHERE m.forum_id = $3::bigint AND m.ext_id = $2",
        FORA_NPARAMS(p), p, "no such member in this run (members who never posted are not listed)",
        "member");
}

/* Methods of /keyplayers: the two sets, the composite, or any metric. */
static const char *const methods[] = {
    "composite",   "kpp_neg",      "kpp_pos",    "posts",          "in_degree", "out_degree",
    "in_strength", "out_strength", "pagerank",   "betweenness",    "closeness", "harmonic",
    "eigenvector", "coreness",     "constraint", "effective_size", NULL};

/* GET /v1/forums/{forum}/keyplayers?method=... */
static void h_keyplayers(fora__api_ctx_t *ctx)
{
    static const char *const known[] = {"run", "method", "limit", "offset", NULL};
    fora__api_page_t pg;
    char forum[24], run[24], sql[4096];
    int method;
    if (!fora__api_only_params(ctx, known) || !fora__api_page_param(ctx, &pg) ||
        !fora__api_enum_param(ctx, "method", methods, 0, &method) || !forum_run(ctx, forum, run))
        return;
    const char *p[] = {run, pg.limit_s, pg.offset_s, methods[method]};
    if (method == 1 || method == 2) {
        fora__api_reply_query(
            ctx,
            "SELECT json_build_object('run', " FORA_API_RUN_JSON ", 'method', $4::text,"
            " 'set', d.doc->'kpp'->$4::text,"
            " 'total', (SELECT count(*) FROM run_keyplayer_sets WHERE run_id = r.id"
            "   AND method = $4), 'limit', $2::int, 'offset', $3::int,"
            " 'items', COALESCE((SELECT json_agg(j ORDER BY position) FROM"
            "  (SELECT s.position, jsonb_build_object('rank', s.position, 'gain', s.gain,"
            "    'member', " MEMBER_JSON ") AS j"
            "   FROM run_keyplayer_sets s JOIN members m ON m.forum_id = r.forum_id"
            "    AND m.id = s.member_id"
            "   JOIN run_member_metrics x ON x.run_id = s.run_id AND x.member_id = s.member_id"
            "   WHERE s.run_id = r.id AND s.method = $4 ORDER BY s.position"
            "   LIMIT $2::int OFFSET $3::int) y), '[]'::json))"
            " FROM analysis_runs r JOIN forums f ON f.id = r.forum_id"
            " JOIN run_keyplayer_doc d ON d.run_id = r.id WHERE r.id = $1::bigint",
            FORA_NPARAMS(p), p, "the run has no key-player sets", "run");
        return;
    }
    /* a ranking by one column; the column comes from member_fields, never the client */
    const char *col = "x.composite_rank", *dir = "ASC", *value = "x.composite_score";
    for (size_t i = 0; method > 0 && i < N_MEMBER_FIELDS; i++)
        if (strcmp(member_fields[i].name, methods[method]) == 0) {
            col = value = member_fields[i].col;
            dir = member_fields[i].desc ? "DESC" : "ASC";
        }
    snprintf(sql, sizeof(sql),
             "WITH page AS (SELECT x.*, $3::int + row_number() OVER () AS ord FROM"
             "  (SELECT * FROM run_member_metrics x WHERE x.run_id = $1::bigint"
             "   AND %s IS NOT NULL ORDER BY %s %s, x.member_id"
             "   LIMIT $2::int OFFSET $3::int) x)"
             " SELECT json_build_object('run', " FORA_API_RUN_JSON ", 'method', $4::text,"
             " 'total', (SELECT count(*) FROM run_member_metrics x WHERE x.run_id = r.id"
             "   AND %s IS NOT NULL), 'limit', $2::int, 'offset', $3::int,"
             " 'items', COALESCE((SELECT json_agg(jsonb_build_object('rank', x.ord,"
             "   'value', %s, 'member', " MEMBER_JSON ") ORDER BY x.ord)"
             "   FROM page x JOIN members m ON m.forum_id = r.forum_id AND m.id = x.member_id),"
             "  '[]'::json))"
             " FROM analysis_runs r JOIN forums f ON f.id = r.forum_id WHERE r.id = $1::bigint",
             col, col, dir, col, value);
    fora__api_reply_query(ctx, sql, FORA_NPARAMS(p), p, NULL, NULL);
}

static const char *const strategies[] = {
    "degree",    "pagerank", "betweenness", "betweenness_recomputed",
    "composite", "kpp_neg",  "random",      NULL};

/* GET /v1/forums/{forum}/disruption[?strategy=NAME] */
static void h_disruption(fora__api_ctx_t *ctx)
{
    static const char *const known[] = {"run", "strategy", NULL};
    char forum[24], run[24];
    int st;
    if (!fora__api_only_params(ctx, known) ||
        !fora__api_enum_param(ctx, "strategy", strategies, -1, &st) || !forum_run(ctx, forum, run))
        return;
    const char *p[] = {run, st < 0 ? NULL : strategies[st]};
    fora__api_reply_query(
        ctx,
        "SELECT json_build_object('run', " FORA_API_RUN_JSON ","
        " 'grid', d.doc->'disruption',"
        " 'strategies', COALESCE((SELECT json_agg(json_build_object('strategy', s.strategy,"
        "   'repetitions', s.repetitions, 'robustness', s.robustness,"
        "   'robustness_sd', s.robustness_sd,"
        "   'first_removed', (SELECT COALESCE(json_agg(m.ext_id ORDER BY u.ord), '[]'::json)"
        "     FROM unnest(s.first_removed) WITH ORDINALITY u(id, ord)"
        "     JOIN members m ON m.forum_id = r.forum_id AND m.id = u.id),"
        "   'curve', (SELECT json_agg(json_build_object('removed', c.removed,"
        "     'lcc_share', c.lcc_share, 'components', c.components,"
        "     'fragmentation', c.fragmentation, 'lost_replies', c.lost_replies,"
        "     'lcc_share_sd', c.lcc_share_sd, 'components_sd', c.components_sd,"
        "     'fragmentation_sd', c.fragmentation_sd, 'lost_replies_sd', c.lost_replies_sd)"
        "     ORDER BY c.step) FROM run_disruption c WHERE c.run_id = s.run_id"
        "     AND c.strategy = s.strategy)) ORDER BY s.robustness, s.strategy)"
        "   FROM run_disruption_strategies s WHERE s.run_id = r.id"
        "   AND ($2::text IS NULL OR s.strategy = $2)), '[]'::json))"
        " FROM analysis_runs r JOIN forums f ON f.id = r.forum_id"
        " JOIN run_keyplayer_doc d ON d.run_id = r.id WHERE r.id = $1::bigint",
        FORA_NPARAMS(p), p, "the run has no disruption results", "run");
}

/* GET /v1/forums/{forum}/communities */
static void h_communities(fora__api_ctx_t *ctx)
{
    static const char *const known[] = {"run", "limit", "offset", NULL};
    fora__api_page_t pg;
    char forum[24], run[24];
    if (!fora__api_only_params(ctx, known) || !fora__api_page_param(ctx, &pg) ||
        !forum_run(ctx, forum, run))
        return;
    const char *p[] = {run, pg.limit_s, pg.offset_s};
    fora__api_reply_query(
        ctx,
        "SELECT json_build_object('run', " FORA_API_RUN_JSON ","
        " 'modularity', d.doc->'network'->'modularity',"
        " 'resolution', d.doc->'network'->'resolution',"
        " 'seed', d.doc->'network'->'seed',"
        " 'total', (SELECT count(*) FROM run_communities WHERE run_id = r.id),"
        " 'limit', $2::int, 'offset', $3::int,"
        " 'items', COALESCE((SELECT json_agg(j ORDER BY community) FROM"
        "  (SELECT c.community, json_build_object('community', c.community, 'size', c.size,"
        "    'internal_weight', c.internal, 'total_weight', c.total,"
        "    'top_members', (SELECT COALESCE(json_agg(json_build_object('id', m.id,"
        "      'ext_id', m.ext_id, 'status', m.status) ORDER BY u.ord), '[]'::json)"
        "      FROM unnest(c.top_members) WITH ORDINALITY u(id, ord)"
        "      JOIN members m ON m.forum_id = r.forum_id AND m.id = u.id)) AS j"
        "   FROM run_communities c WHERE c.run_id = r.id ORDER BY c.community"
        "   LIMIT $2::int OFFSET $3::int) y), '[]'::json))"
        " FROM analysis_runs r JOIN forums f ON f.id = r.forum_id"
        " JOIN run_keyplayer_doc d ON d.run_id = r.id WHERE r.id = $1::bigint",
        FORA_NPARAMS(p), p, "the run has no communities", "run");
}

/* Routes that serve one part of the run's document. */
static void doc_part(fora__api_ctx_t *ctx, const char *sql_part)
{
    static const char *const known[] = {"run", NULL};
    char forum[24], run[24], sql[1024];
    if (!fora__api_only_params(ctx, known) || !forum_run(ctx, forum, run)) return;
    const char *p[] = {run};
    snprintf(sql, sizeof(sql),
             "SELECT json_build_object('run', " FORA_API_RUN_JSON ", %s)"
             " FROM analysis_runs r JOIN forums f ON f.id = r.forum_id"
             " JOIN run_keyplayer_doc d ON d.run_id = r.id WHERE r.id = $1::bigint",
             sql_part);
    fora__api_reply_query(ctx, sql, FORA_NPARAMS(p), p, "the run has no key-player results", "run");
}

static void h_threads(fora__api_ctx_t *ctx)
{
    doc_part(ctx, "'threads', d.doc->'threads'");
}

static void h_concentration(fora__api_ctx_t *ctx)
{
    doc_part(ctx, "'concentration', d.doc->'concentration'");
}

static void h_network(fora__api_ctx_t *ctx)
{
    doc_part(ctx, "'network', d.doc->'network', 'composite', d.doc->'composite',"
                  " 'kpp', d.doc->'kpp', 'coparticipation', d.doc->'coparticipation'");
}

/* GET /v1/forums/{forum}/validation */
static void h_validation(fora__api_ctx_t *ctx)
{
    static const char *const known[] = {"run", NULL};
    char forum[24], run[24];
    if (!fora__api_only_params(ctx, known) || !forum_run(ctx, forum, run)) return;
    const char *p[] = {run};
    fora__api_reply_query(
        ctx,
        "SELECT json_build_object('run', " FORA_API_RUN_JSON ","
        " 'staff_labels', d.doc->'validation'->'staff_labels',"
        " 'staff', d.doc->'validation'->'staff', 'members', d.doc->'validation'->'members',"
        " 'k', d.doc->'validation'->'k',"
        " 'items', COALESCE((SELECT json_agg(json_build_object('metric', v.metric, 'auc', v.auc,"
        "   'precision_at_k', v.precision_k, 'hits_at_k', v.hits_k)"
        "   ORDER BY v.auc DESC NULLS LAST, v.metric) FROM run_role_validation v"
        "   WHERE v.run_id = r.id), '[]'::json))"
        " FROM analysis_runs r JOIN forums f ON f.id = r.forum_id"
        " JOIN run_keyplayer_doc d ON d.run_id = r.id WHERE r.id = $1::bigint",
        FORA_NPARAMS(p), p, "the run has no validation results", "run");
}

/* ---- graph export -------------------------------------------------------------- */

/* Appends s escaped for XML text and attribute values. */
static void sb_xml(fora__strbuf_t *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            fora__strbuf_puts(b, "&amp;");
            break;
        case '<':
            fora__strbuf_puts(b, "&lt;");
            break;
        case '>':
            fora__strbuf_puts(b, "&gt;");
            break;
        case '"':
            fora__strbuf_puts(b, "&quot;");
            break;
        case '\'':
            fora__strbuf_puts(b, "&apos;");
            break;
        default:
            /* XML 1.0 has no other control characters than tab, newline, return */
            if ((unsigned char)*s >= 0x20 || *s == '\t' || *s == '\n' || *s == '\r')
                fora__strbuf_put(b, s, 1);
        }
    }
}

/* Node attributes exported: column of the query below, GraphML/GEXF type. */
static const struct {
    const char *name;
    const char *type;
} node_attrs[] = {
    {"status", "string"},      {"posts", "long"},
    {"in_degree", "long"},     {"out_degree", "long"},
    {"in_strength", "double"}, {"out_strength", "double"},
    {"pagerank", "double"},    {"betweenness", "double"},
    {"closeness", "double"},   {"harmonic", "double"},
    {"eigenvector", "double"}, {"coreness", "long"},
    {"constraint", "double"},  {"effective_size", "double"},
    {"clustering", "double"},  {"community", "int"},
    {"composite_rank", "int"},
};
#define N_NODE_ATTRS (sizeof(node_attrs) / sizeof(node_attrs[0]))

#define GRAPH_DEFAULT_LIMIT 200
#define GRAPH_MAX_LIMIT 2000

/*
 * format=cytoscape: Cytoscape.js elements JSON for the limit network members
 * best by composite rank (ties by member id) and the reply edges among them.
 * Node data: id (ext id), status, posts, in/out degree, pagerank,
 * betweenness, coreness, community, composite_rank; edge data: source,
 * target, weight (no id: Cytoscape.js gives edges their own, which cannot
 * collide with an ext id).  O(V log V + E) in the database.
 */
static void graph_cytoscape(fora__api_ctx_t *ctx, const char *run, long long limit)
{
    char lim[24];
    snprintf(lim, sizeof(lim), "%lld", limit);
    const char *p[] = {run, lim};
    fora__api_reply_query(
        ctx,
        "WITH top AS (SELECT x.member_id, m.ext_id, m.status, x.posts, x.in_degree, x.out_degree,"
        "   x.pagerank, x.betweenness, x.coreness, x.community, x.composite_rank"
        "   FROM run_member_metrics x JOIN analysis_runs r ON r.id = x.run_id"
        "   JOIN members m ON m.forum_id = r.forum_id AND m.id = x.member_id"
        "   WHERE x.run_id = $1::bigint AND x.in_network"
        "   ORDER BY x.composite_rank NULLS LAST, x.member_id LIMIT $2::int),"
        " e AS (SELECT s.ext_id AS source, t.ext_id AS target, e.weight"
        "   FROM run_reply_edges e JOIN top s ON s.member_id = e.source_id"
        "   JOIN top t ON t.member_id = e.target_id WHERE e.run_id = $1::bigint)"
        " SELECT json_build_object('run', " FORA_API_RUN_JSON ", 'format', 'cytoscape',"
        " 'limit', $2::int,"
        " 'network_members', (SELECT count(*) FROM run_member_metrics"
        "   WHERE run_id = $1::bigint AND in_network),"
        " 'network_edges', (SELECT count(*) FROM run_reply_edges WHERE run_id = $1::bigint),"
        " 'elements', json_build_object("
        "  'nodes', COALESCE((SELECT json_agg(json_build_object('data', json_build_object("
        "    'id', t.ext_id, 'status', t.status, 'posts', t.posts, 'in_degree', t.in_degree,"
        "    'out_degree', t.out_degree, 'pagerank', t.pagerank, 'betweenness', t.betweenness,"
        "    'coreness', t.coreness, 'community', t.community,"
        "    'composite_rank', t.composite_rank))"
        "    ORDER BY t.composite_rank NULLS LAST, t.member_id) FROM top t), '[]'::json),"
        "  'edges', COALESCE((SELECT json_agg(json_build_object('data', json_build_object("
        "    'source', e.source, 'target', e.target, 'weight', e.weight))"
        "    ORDER BY e.source, e.target) FROM e), '[]'::json)))"
        " FROM analysis_runs r JOIN forums f ON f.id = r.forum_id WHERE r.id = $1::bigint",
        FORA_NPARAMS(p), p, "run not found", "run");
}

/*
 * GET /v1/forums/{forum}/graph?format=graphml|gexf|cytoscape&limit=: the
 * run's reply graph with metrics; limit keeps the N network members best by
 * composite rank and the edges among them (default: 200 for cytoscape, the
 * whole network for GraphML and GEXF).
 */
static void h_graph(fora__api_ctx_t *ctx)
{
    static const char *const known[] = {"run", "format", "limit", NULL};
    static const char *const formats[] = {"graphml", "gexf", "cytoscape", NULL};
    char forum[24], run[24];
    int fmt;
    long long limit;
    fora_diag_t diag = FORA_DIAG_INIT;
    PGresult *nodes = NULL, *edges = NULL;
    fora__strbuf_t b = {0};
    if (!fora__api_only_params(ctx, known) ||
        !fora__api_enum_param(ctx, "format", formats, 0, &fmt) ||
        !fora__api_int_param(ctx, "limit", GRAPH_DEFAULT_LIMIT, 1, GRAPH_MAX_LIMIT, &limit))
        return;
    if (!forum_run(ctx, forum, run)) return;
    if (fmt == 2) {
        graph_cytoscape(ctx, run, limit);
        return;
    }
    /* GraphML and GEXF hold the whole network unless limit is given */
    char lim[24];
    snprintf(lim, sizeof(lim), "%lld", limit);
    const char *p[] = {run, fora__api_param(ctx->req, "limit") ? lim : NULL};
    nodes = PQexecParams(ctx->conn,
                         "WITH top AS (SELECT member_id FROM run_member_metrics"
                         "   WHERE run_id = $1::bigint AND in_network"
                         "   ORDER BY composite_rank NULLS LAST, member_id LIMIT $2::int)"
                         " SELECT m.ext_id, m.status, x.posts, x.in_degree, x.out_degree,"
                         " x.in_strength, x.out_strength, x.pagerank, x.betweenness, x.closeness,"
                         " x.harmonic, x.eigenvector, x.coreness, x.burt_constraint,"
                         " x.effective_size, x.clustering, x.community, x.composite_rank"
                         " FROM run_member_metrics x JOIN top USING (member_id)"
                         " JOIN analysis_runs r ON r.id = x.run_id"
                         " JOIN members m ON m.forum_id = r.forum_id AND m.id = x.member_id"
                         " WHERE x.run_id = $1::bigint ORDER BY m.ext_id",
                         FORA_NPARAMS(p), NULL, p, NULL, NULL, 0);
    if (fora_db_check(nodes, PGRES_TUPLES_OK, "reading graph nodes", &diag) != FORA_OK) goto fail;
    edges = PQexecParams(ctx->conn,
                         "WITH top AS (SELECT member_id FROM run_member_metrics"
                         "   WHERE run_id = $1::bigint AND in_network"
                         "   ORDER BY composite_rank NULLS LAST, member_id LIMIT $2::int)"
                         " SELECT s.ext_id, t.ext_id, e.weight FROM run_reply_edges e"
                         " JOIN top ts ON ts.member_id = e.source_id"
                         " JOIN top tt ON tt.member_id = e.target_id"
                         " JOIN analysis_runs r ON r.id = e.run_id"
                         " JOIN members s ON s.forum_id = r.forum_id AND s.id = e.source_id"
                         " JOIN members t ON t.forum_id = r.forum_id AND t.id = e.target_id"
                         " WHERE e.run_id = $1::bigint ORDER BY s.ext_id, t.ext_id",
                         FORA_NPARAMS(p), NULL, p, NULL, NULL, 0);
    if (fora_db_check(edges, PGRES_TUPLES_OK, "reading graph edges", &diag) != FORA_OK) goto fail;

    fora__strbuf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    if (fmt == 0) {
        fora__strbuf_puts(&b, "<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n");
        for (size_t a = 0; a < N_NODE_ATTRS; a++) {
            fora__strbuf_puts(&b, "  <key id=\"");
            fora__strbuf_puts(&b, node_attrs[a].name);
            fora__strbuf_puts(&b, "\" for=\"node\" attr.name=\"");
            fora__strbuf_puts(&b, node_attrs[a].name);
            fora__strbuf_puts(&b, "\" attr.type=\"");
            fora__strbuf_puts(&b, node_attrs[a].type);
            fora__strbuf_puts(&b, "\"/>\n");
        }
        fora__strbuf_puts(&b, "  <key id=\"weight\" for=\"edge\" attr.name=\"weight\" "
                              "attr.type=\"double\"/>\n"
                              "  <graph id=\"replies\" edgedefault=\"directed\">\n");
    } else {
        fora__strbuf_puts(&b, "<gexf xmlns=\"http://gexf.net/1.3\" version=\"1.3\">\n"
                              "  <graph defaultedgetype=\"directed\">\n"
                              "    <attributes class=\"node\">\n");
        for (size_t a = 0; a < N_NODE_ATTRS; a++) {
            char line[200];
            snprintf(line, sizeof(line), "      <attribute id=\"%zu\" title=\"%s\" type=\"%s\"/>\n",
                     a, node_attrs[a].name,
                     strcmp(node_attrs[a].type, "int") == 0 ? "integer" : node_attrs[a].type);
            fora__strbuf_puts(&b, line);
        }
        fora__strbuf_puts(&b, "    </attributes>\n    <nodes>\n");
    }
    for (int i = 0; i < PQntuples(nodes); i++) {
        fora__strbuf_puts(&b, fmt == 0 ? "    <node id=\"" : "      <node id=\"");
        sb_xml(&b, PQgetvalue(nodes, i, 0));
        if (fmt == 1) {
            fora__strbuf_puts(&b, "\" label=\"");
            sb_xml(&b, PQgetvalue(nodes, i, 0));
        }
        fora__strbuf_puts(&b, fmt == 0 ? "\">" : "\"><attvalues>");
        for (size_t a = 0; a < N_NODE_ATTRS; a++) {
            if (PQgetisnull(nodes, i, (int)a + 1)) continue;
            char head[80];
            if (fmt == 0)
                snprintf(head, sizeof(head), "<data key=\"%s\">", node_attrs[a].name);
            else
                snprintf(head, sizeof(head), "<attvalue for=\"%zu\" value=\"", a);
            fora__strbuf_puts(&b, head);
            sb_xml(&b, PQgetvalue(nodes, i, (int)a + 1));
            fora__strbuf_puts(&b, fmt == 0 ? "</data>" : "\"/>");
        }
        fora__strbuf_puts(&b, fmt == 0 ? "</node>\n" : "</attvalues></node>\n");
    }
    if (fmt == 1) fora__strbuf_puts(&b, "    </nodes>\n    <edges>\n");
    for (int i = 0; i < PQntuples(edges); i++) {
        char id[32];
        snprintf(id, sizeof(id), "%d", i);
        fora__strbuf_puts(&b, fmt == 0 ? "    <edge id=\"e" : "      <edge id=\"");
        fora__strbuf_puts(&b, id);
        fora__strbuf_puts(&b, "\" source=\"");
        sb_xml(&b, PQgetvalue(edges, i, 0));
        fora__strbuf_puts(&b, "\" target=\"");
        sb_xml(&b, PQgetvalue(edges, i, 1));
        if (fmt == 0) {
            fora__strbuf_puts(&b, "\"><data key=\"weight\">");
            fora__strbuf_puts(&b, PQgetvalue(edges, i, 2));
            fora__strbuf_puts(&b, "</data></edge>\n");
        } else {
            fora__strbuf_puts(&b, "\" weight=\"");
            fora__strbuf_puts(&b, PQgetvalue(edges, i, 2));
            fora__strbuf_puts(&b, "\"/>\n");
        }
    }
    fora__strbuf_puts(&b, fmt == 0 ? "  </graph>\n</graphml>\n"
                                   : "    </edges>\n  </graph>\n</gexf>\n");
    PQclear(nodes);
    PQclear(edges);
    ctx->resp->status = 200;
    ctx->resp->text = b.p;
    ctx->resp->content_type = fmt == 0 ? "application/graphml+xml" : "application/gexf+xml";
    return;
fail:
    PQclear(nodes);
    PQclear(edges);
    free(b.p);
    fora__api_diag(ctx->resp, &diag);
}

const fora__api_route_t fora__api_routes_keyplayers[] = {
    {"/v1/forums/{forum}/members", h_members, true, NULL, FORA_ROLE_READ},
    {"/v1/forums/{forum}/members/{member}", h_member, true, NULL, FORA_ROLE_READ},
    {"/v1/forums/{forum}/keyplayers", h_keyplayers, true, NULL, FORA_ROLE_READ},
    {"/v1/forums/{forum}/disruption", h_disruption, true, NULL, FORA_ROLE_READ},
    {"/v1/forums/{forum}/communities", h_communities, true, NULL, FORA_ROLE_READ},
    {"/v1/forums/{forum}/threads/stats", h_threads, true, NULL, FORA_ROLE_READ},
    {"/v1/forums/{forum}/concentration", h_concentration, true, NULL, FORA_ROLE_READ},
    {"/v1/forums/{forum}/network", h_network, true, NULL, FORA_ROLE_READ},
    {"/v1/forums/{forum}/validation", h_validation, true, NULL, FORA_ROLE_READ},
    {"/v1/forums/{forum}/graph", h_graph, true, NULL, FORA_ROLE_READ},
    {NULL, NULL, false, NULL, FORA_ROLE_NONE},
};
