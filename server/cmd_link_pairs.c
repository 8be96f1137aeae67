/*
 * server/cmd_link_pairs.c - `fora link pairs`: account linking across two
 * forums (analysis/linking_cross.c, api-docs/linking.md "Across forums") on
 * forums loaded from the database, as JSON on stdout: the ranked candidate
 * pairs for review, optionally one member's most similar accounts in the
 * other forum, and the evaluation against the known pairs of member_links
 * between the two forums (read for the evaluation only, never as input).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "cmd_link_pairs.h"
#include "fora/linking_cross.h"
#include "fora/snapshot_load.h"
#include "fora/tzmap_load.h"

static const char pairs_usage[] =
    "Usage: fora link pairs --forum A --other B [--k K] [--limit N] [--member EXT_ID]\n"
    "                       [--view time|time_category] [--frame common|local]\n"
    "                       [--centre forum|pooled|none] [--min-posts N]\n"
    "Account linking across two forums from timing alone (api-docs/linking.md,\n"
    "\"Across forums\"): every member of A with at least N posts is compared with\n"
    "every such member of B on hour of week, gaps, session shape (and board\n"
    "categories whose names both forums use); the context embedding is per forum\n"
    "and not comparable.  Prints as JSON the candidate pairs (each member's K best\n"
    "in the other forum, both ways, merged, best first; the first N), with each\n"
    "component's cosine and whether the pair is mutual; with --member, that member\n"
    "of A's K most similar members of B; and, when member_links holds pairs between\n"
    "A and B, MRR and recall@10 of finding them beside the random baseline.\n"
    "  --forum A, --other B  the two forums (names or ids)\n"
    "  --k K                 neighbours per member each way, 1..1000 (10)\n"
    "  --limit N             candidate pairs printed, 0..100000 (50)\n"
    "  --member EXT_ID       a member of A: its K most similar members of B\n"
    "  --view VIEW           ranking: time (hour_of_week 1, gaps 1, session 0.5) or\n"
    "                        time_category (and category 0.5); time\n"
    "  --frame FRAME         common: both forums' posts in A's zone (a person keeps\n"
    "                        their clock); local: each forum in its own zone; common\n"
    "  --centre MODE         forum: subtract each forum's mean profile; pooled; none\n"
    "  --min-posts N         members with fewer posts are not compared, 1..1000 (3)\n"
    "Exit codes: 0 ok, 2 bad option, 4 no such forum or member.\n";

#define JSON_FLAGS (JSON_INDENT(2) | JSON_REAL_PRECISION(6))

static const char *const frame_names[2] = {"common", "local"};
static const char *const centre_names[3] = {"forum", "pooled", "none"};

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* ISO 8601 UTC of a Unix time, or null. */
static json_t *iso(int64_t t)
{
    if (t == FORA_TIME_NONE) return json_null();
    time_t tt = (time_t)t;
    struct tm tm;
    char buf[32];
    if (gmtime_r(&tt, &tm) == NULL) return json_null();
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(buf);
}

/* Loads forum `name`. */
static fora_err_t load_forum(PGconn *conn, const char *name, fora_snapshot_t **s, fora_diag_t *diag)
{
    int64_t id;
    fora_err_t err = fora_forum_lookup(conn, name, &id, diag);
    if (err == FORA_OK) err = fora_snapshot_load(conn, id, s, diag);
    return err;
}

static void span(const fora_snapshot_t *s, int64_t *t0, int64_t *t1)
{
    if (s->posts.n == 0) return;
    if (s->posts.created_at[0] < *t0) *t0 = s->posts.created_at[0];
    if (s->posts.created_at[s->posts.n - 1] > *t1) *t1 = s->posts.created_at[s->posts.n - 1];
}

/* The known pairs between a and b (member indices, oriented a -> b). */
static fora_err_t known_pairs(PGconn *conn, const fora_snapshot_t *a, const fora_snapshot_t *b,
                              int32_t **pa, int32_t **pb, int32_t *n, fora_diag_t *diag)
{
    char ida[24], idb[24];
    snprintf(ida, sizeof ida, "%lld", (long long)a->forum.id);
    snprintf(idb, sizeof idb, "%lld", (long long)b->forum.id);
    const char *p[2] = {ida, idb};
    PGresult *r = PQexecParams(
        conn,
        "SELECT DISTINCT CASE WHEN forum_a = $1::bigint THEN member_a ELSE member_b END,"
        " CASE WHEN forum_a = $1::bigint THEN member_b ELSE member_a END"
        " FROM member_links WHERE (forum_a = $1::bigint AND forum_b = $2::bigint)"
        " OR (forum_a = $2::bigint AND forum_b = $1::bigint) ORDER BY 1, 2",
        2, NULL, p, NULL, NULL, 0);
    fora_err_t err = fora_db_check(r, PGRES_TUPLES_OK, "reading member_links", diag);
    *pa = *pb = NULL;
    *n = 0;
    if (err == FORA_OK) {
        int rows = PQntuples(r);
        *pa = malloc(sizeof(int32_t) * (size_t)(rows > 0 ? rows : 1));
        *pb = malloc(sizeof(int32_t) * (size_t)(rows > 0 ? rows : 1));
        if (!*pa || !*pb) {
            err = fora_diag_set(diag, FORA_ENOMEM, "out of memory reading member_links");
        } else {
            for (int i = 0; i < rows; i++) {
                int32_t ma = fora_snapshot_member_by_id(a, strtoll(PQgetvalue(r, i, 0), NULL, 10));
                int32_t mb = fora_snapshot_member_by_id(b, strtoll(PQgetvalue(r, i, 1), NULL, 10));
                if (ma < 0 || mb < 0) continue; /* not in the snapshot */
                (*pa)[*n] = ma;
                (*pb)[(*n)++] = mb;
            }
        }
    }
    PQclear(r);
    return err;
}

static json_t *components_json(const fora_link_cross_t *c, const double comp[FORA_LINK_NCOMP])
{
    json_t *o = json_object();
    json_object_set_new(o, "hour_of_week", num(comp[FORA_LINK_HOW]));
    json_object_set_new(o, "gaps", num(comp[FORA_LINK_GAP]));
    json_object_set_new(o, "session", num(comp[FORA_LINK_SESSION]));
    json_object_set_new(o, "category",
                        c->nshared > 0 ? num(comp[FORA_LINK_CATEGORY]) : json_null());
    return o;
}

static json_t *side_json(const fora_snapshot_t *s, int32_t rows, int32_t nskipped,
                         const uint8_t *reason, int32_t nzero)
{
    json_t *sk = json_object();
    for (int32_t i = 0; i < nskipped; i++) {
        const char *why = fora_link_cross_skip_reason(reason[i]);
        json_t *v = json_object_get(sk, why);
        json_object_set_new(sk, why, json_integer(v ? json_integer_value(v) + 1 : 1));
    }
    return json_pack("{s:s, s:s, s:i, s:i, s:o, s:i, s:o, s:o}", "name", s->forum.name, "timezone",
                     s->forum.timezone, "members", s->members.n, "compared", rows, "not_compared",
                     sk, "all_components_zero", nzero, "first_post",
                     iso(s->posts.n ? s->posts.created_at[0] : FORA_TIME_NONE), "last_post",
                     iso(s->posts.n ? s->posts.created_at[s->posts.n - 1] : FORA_TIME_NONE));
}

static json_t *metrics_json(const fora_link_metrics_t *m)
{
    return json_pack("{s:o, s:o, s:o}", "mrr", num(m->mrr), "recall_at_10", num(m->recall10),
                     "mean_rank", num(m->mean_rank));
}

static json_t *dir_json(const fora_link_cross_dir_t *d)
{
    json_t *views = json_object(), *ratio = json_object();
    for (int v = 0; v < FORA_LINK_CROSS_NVIEWS; v++) {
        json_object_set_new(views, fora_link_cross_view_names[v], metrics_json(&d->view[v]));
        json_object_set_new(ratio, fora_link_cross_view_names[v],
                            d->random.mrr > 0 ? num(d->view[v].mrr / d->random.mrr) : json_null());
    }
    return json_pack("{s:i, s:i, s:o, s:o, s:o}", "queries", d->queries, "candidates",
                     d->candidates, "views", views, "random", metrics_json(&d->random),
                     "mrr_over_random", ratio);
}

static int run_pairs(const fora_cli_t *cli, const char *fa, const char *fb,
                     const fora_link_cross_opts_t *opts, long long limit, const char *member)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    PGconn *conn = NULL;
    fora_snapshot_t *a = NULL, *b = NULL;
    fora_tzmap_t *tza = NULL, *tzb = NULL;
    fora_link_cross_t *c = NULL;
    int32_t *pa = NULL, *pb = NULL, nknown = 0;
    json_t *doc = NULL;
    int rc = 0;
    fora_link_cross_opts_t o = *opts;

    if (fora_cli_connect(cli, true, &conn, &diag) != FORA_OK) goto fail;
    if (load_forum(conn, fa, &a, &diag) != FORA_OK) goto fail;
    if (load_forum(conn, fb, &b, &diag) != FORA_OK) goto fail;
    if (a->forum.id == b->forum.id) {
        PQfinish(conn);
        fora_snapshot_destroy(a);
        fora_snapshot_destroy(b);
        return fora_cli_usage_error("link", "--other must be another forum than --forum");
    }
    int32_t mq = -1;
    if (member != NULL && (mq = fora_snapshot_member_by_ext(a, member)) < 0) {
        fora_diag_set(&diag, FORA_ENOTFOUND, "member \"%s\" not found in forum \"%s\"", member,
                      a->forum.name);
        goto fail;
    }
    if (known_pairs(conn, a, b, &pa, &pb, &nknown, &diag) != FORA_OK) goto fail;
    PQfinish(conn);
    conn = NULL;
    /* A's zone over both spans (the common frame puts B's posts in it too) */
    int64_t t0 = INT64_MAX, t1 = INT64_MIN;
    span(a, &t0, &t1);
    if (o.frame == FORA_LINK_CROSS_FRAME_COMMON) span(b, &t0, &t1);
    if (t0 > t1) t0 = t1 = 0;
    if (fora_tzmap_load(a->forum.timezone, t0, t1, &tza, &diag) != FORA_OK) goto fail;
    t0 = INT64_MAX, t1 = INT64_MIN;
    span(b, &t0, &t1);
    if (t0 > t1) t0 = t1 = 0;
    if (fora_tzmap_load(b->forum.timezone, t0, t1, &tzb, &diag) != FORA_OK) goto fail;
    o.tz_a = tza;
    o.tz_b = tzb;
    if (fora_link_cross_compute(a, b, &o, &c, &diag) != FORA_OK) goto fail;

    json_t *notes = json_array(), *comps = json_array(), *shared = json_array();
    for (int i = 0; i < FORA_LINK_CROSS_NNOTES; i++)
        if (c->notes & (1u << i))
            json_array_append_new(
                notes, json_string(fora_link_cross_note_text((fora_link_cross_note_t)(1u << i))));
    json_array_append_new(comps, json_string("hour_of_week"));
    json_array_append_new(comps, json_string("gaps"));
    json_array_append_new(comps, json_string("session"));
    if (c->nshared > 0) json_array_append_new(comps, json_string("category"));
    for (int32_t i = 0; i < c->nshared; i++)
        json_array_append_new(shared,
                              json_string(fora_strpool_get(&a->categories, c->shared_cat_a[i])));
    doc = json_pack("{s:o, s:o, s:s, s:s, s:s, s:i, s:i, s:I, s:o, s:o, s:o, s:s}", "forum",
                    side_json(a, c->na, c->nskipped_a, c->reason_a, c->nzero_a), "other",
                    side_json(b, c->nb, c->nskipped_b, c->reason_b, c->nzero_b), "view",
                    fora_link_cross_view_names[o.view], "frame", frame_names[o.frame], "centre",
                    centre_names[o.centre], "k", o.k, "min_posts", o.min_posts, "overlap_seconds",
                    (json_int_t)c->overlap, "notes", notes, "components", comps,
                    "shared_categories", shared, "not_compared",
                    "embedding: learned per forum, its axes mean nothing across forums");
    if (doc == NULL) goto nomem;

    /* candidate pairs */
    int32_t nmut = 0;
    for (int32_t i = 0; i < c->npairs; i++)
        nmut += c->pairs[i].mutual;
    json_t *items = json_array();
    json_t *cand = json_pack("{s:i, s:i, s:I, s:o}", "total", c->npairs, "mutual", nmut, "limit",
                             (json_int_t)limit, "items", items);
    if (cand == NULL || json_object_set_new(doc, "candidates", cand) != 0) goto nomem;
    for (int32_t i = 0; i < c->npairs && i < limit; i++) {
        const fora_link_cross_pair_t *p = &c->pairs[i];
        double tot, comp[FORA_LINK_NCOMP];
        fora_link_cross_similarity(c, p->a, p->b, o.view, &tot, comp);
        json_t *e = json_pack(
            "{s:i, s:s, s:s, s:o, s:b, s:o, s:o, s:i, s:i, s:o}", "rank", i + 1, "member",
            fora_snapshot_member_ext(a, p->a), "other_member", fora_snapshot_member_ext(b, p->b),
            "similarity", num(tot), "mutual", p->mutual, "rank_for_member",
            p->rank_ab ? json_integer(p->rank_ab) : json_null(), "rank_for_other",
            p->rank_ba ? json_integer(p->rank_ba) : json_null(), "posts",
            c->fp->nposts[c->row_a[p->a]], "other_posts", c->fp->nposts[c->row_b[p->b]],
            "components", components_json(c, comp));
        if (e == NULL || json_array_append_new(items, e) != 0) goto nomem;
    }

    /* one member's neighbours in B */
    if (mq >= 0) {
        json_t *arr = json_array();
        json_t *mj =
            json_pack("{s:s, s:o, s:o}", "ext_id", member, "reason", json_null(), "similar", arr);
        if (mj == NULL || json_object_set_new(doc, "member", mj) != 0) goto nomem;
        const int32_t r = c->row_a[mq];
        if (r < 0) {
            const char *why = "no posts";
            for (int32_t i = 0; i < c->nskipped_a; i++)
                if (c->skipped_a[i] == mq) why = fora_link_cross_skip_reason(c->reason_a[i]);
            json_object_set_new(mj, "reason", json_string(why));
        } else {
            json_object_set_new(mj, "posts", json_integer(c->fp->nposts[r]));
            if (c->top_ab[(size_t)r * c->k] < 0)
                json_object_set_new(mj, "reason",
                                    json_string(c->nb == 0
                                                    ? "the other forum has no member to compare"
                                                    : "every compared component is zero"));
            for (int j = 0; j < c->k; j++) {
                const int32_t mb = c->top_ab[(size_t)r * c->k + j];
                if (mb < 0) break;
                double tot, comp[FORA_LINK_NCOMP];
                fora_link_cross_similarity(c, mq, mb, o.view, &tot, comp);
                json_t *e =
                    json_pack("{s:i, s:s, s:i, s:o, s:o}", "rank", j + 1, "ext_id",
                              fora_snapshot_member_ext(b, mb), "posts", c->fp->nposts[c->row_b[mb]],
                              "similarity", num(tot), "components", components_json(c, comp));
                if (e == NULL || json_array_append_new(arr, e) != 0) goto nomem;
            }
        }
    }

    /* evaluation against member_links */
    json_t *ev = NULL;
    if (nknown == 0) {
        ev = json_pack("{s:i, s:s}", "known_pairs", 0, "reason",
                       "member_links holds no pair between these two forums");
    } else {
        fora_link_cross_eval_t e;
        fora_err_t err = fora_link_cross_evaluate(c, pa, pb, nknown, &e, &diag);
        if (err == FORA_ENOTFOUND) {
            ev = json_pack("{s:i, s:s}", "known_pairs", nknown, "reason", diag.msg);
            fora_diag_clear(&diag);
        } else if (err != FORA_OK) {
            goto fail;
        } else {
            ev = json_pack("{s:i, s:i, s:i, s:o, s:o, s:{s:i, s:i, s:i, s:o, s:o, s:o}}",
                           "known_pairs", e.pairs, "usable", e.usable, "not_compared",
                           e.unfingerprinted, "forum_to_other", dir_json(&e.ab), "other_to_forum",
                           dir_json(&e.ba), "candidate_list", "known_in_list", e.in_candidates,
                           "known_mutual", e.in_mutual, "mutual_pairs", e.mutual_pairs,
                           "precision_at_10", num(e.precision_at_10), "precision_at_100",
                           num(e.precision_at_100), "mutual_precision", num(e.mutual_precision));
        }
    }
    if (ev == NULL || json_object_set_new(doc, "evaluation", ev) != 0) goto nomem;
    if (fora_cli_print_json(doc, JSON_FLAGS, &diag) != FORA_OK) goto fail;
    goto out;
nomem:
    fora_diag_set(&diag, FORA_ENOMEM, "out of memory building the JSON");
fail:
    rc = fora_cli_fail(&diag);
out:
    if (conn) PQfinish(conn);
    json_decref(doc);
    fora_link_cross_destroy(c);
    free(pa);
    free(pb);
    fora_tzmap_destroy(tza);
    fora_tzmap_destroy(tzb);
    fora_snapshot_destroy(a);
    fora_snapshot_destroy(b);
    return rc;
}

int fora_cmd_link_pairs(int argc, char **argv)
{
    fora_cli_t cli = {0};
    enum {
        OPT_FORUM = FORA_OPT_FIRST_OWN,
        OPT_OTHER,
        OPT_K,
        OPT_LIMIT,
        OPT_MEMBER,
        OPT_VIEW,
        OPT_FRAME,
        OPT_CENTRE,
        OPT_MIN_POSTS
    };
    static const struct option opts[] = {FORA_CLI_COMMON_OPTIONS,
                                         {"forum", required_argument, NULL, OPT_FORUM},
                                         {"other", required_argument, NULL, OPT_OTHER},
                                         {"k", required_argument, NULL, OPT_K},
                                         {"limit", required_argument, NULL, OPT_LIMIT},
                                         {"member", required_argument, NULL, OPT_MEMBER},
                                         {"view", required_argument, NULL, OPT_VIEW},
                                         {"frame", required_argument, NULL, OPT_FRAME},
                                         {"centre", required_argument, NULL, OPT_CENTRE},
                                         {"min-posts", required_argument, NULL, OPT_MIN_POSTS},
                                         {NULL, 0, NULL, 0}};
    const char *forum = NULL, *other = NULL, *member = NULL;
    long long k = 10, limit = 50, min_posts = 3;
    int view = FORA_LINK_CROSS_VIEW_TIME, frame = 0, centre = 0;
    int c;

    fora_dbconf_from_env(&cli.db);
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int r = fora_cli_common(&cli, c, pairs_usage);
        if (r < 0) return 0;
        if (r > 0) continue;
        fora_diag_t d = FORA_DIAG_INIT;
        switch (c) {
        case OPT_FORUM:
            forum = optarg;
            break;
        case OPT_OTHER:
            other = optarg;
            break;
        case OPT_MEMBER:
            member = optarg;
            break;
        case OPT_K:
            if (!fora_cli_parse_int("link", "k", optarg, 1, 1000, &k)) return 2;
            break;
        case OPT_LIMIT:
            if (!fora_cli_parse_int("link", "limit", optarg, 0, 100000, &limit)) return 2;
            break;
        case OPT_MIN_POSTS:
            if (!fora_cli_parse_int("link", "min-posts", optarg, 1, 1000, &min_posts)) return 2;
            break;
        case OPT_VIEW:
            if (fora_name_parse(optarg, "view", fora_link_cross_view_names, FORA_LINK_CROSS_NVIEWS,
                                &view, &d) != FORA_OK)
                return fora_cli_usage_error("link", "%s", d.msg);
            break;
        case OPT_FRAME:
            if (fora_name_parse(optarg, "frame", frame_names, 2, &frame, &d) != FORA_OK)
                return fora_cli_usage_error("link", "%s", d.msg);
            break;
        case OPT_CENTRE:
            if (fora_name_parse(optarg, "centre", centre_names, 3, &centre, &d) != FORA_OK)
                return fora_cli_usage_error("link", "%s", d.msg);
            break;
        default:
            return fora_cli_usage_error("link", "unknown option");
        }
    }
    if (optind != argc) return fora_cli_usage_error("link", "unexpected argument");
    if (forum == NULL || other == NULL)
        return fora_cli_usage_error("link", "pairs needs --forum A and --other B");
    fora_link_cross_opts_t o;
    fora_link_cross_opts_default(&o);
    o.k = (int)k;
    o.min_posts = (int)min_posts;
    o.view = (fora_link_cross_view_id_t)view;
    o.frame = (fora_link_cross_frame_t)frame;
    o.centre = (fora_link_cross_centre_t)centre;
    return run_pairs(&cli, forum, other, &o, limit, member);
}
