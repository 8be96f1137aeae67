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
#include "linking_cross_json.h"
#include "fora/linking_cross.h"
#include "fora/snapshot_load.h"

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

/* Loads forum `name`. */
static fora_err_t load_forum(PGconn *conn, const char *name, fora_snapshot_t **s, fora_diag_t *diag)
{
    int64_t id;
    fora_err_t err = fora_forum_lookup(conn, name, &id, diag);
    if (err == FORA_OK) err = fora_snapshot_load(conn, id, s, diag);
    return err;
}

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static int run_pairs(const fora_cli_t *cli, const char *fa, const char *fb,
                     const fora_link_cross_opts_t *opts, long long limit, const char *member)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    PGconn *conn = NULL;
    fora_snapshot_t *a = NULL, *b = NULL;
    fora_link_cross_t *c = NULL;
    int32_t *pa = NULL, *pb = NULL, nknown = 0;
    json_t *doc = NULL;
    int rc = 0;
    const fora_link_cross_opts_t o = *opts;

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
    if (fora__link_cross_known_pairs(conn, a, b, &pa, &pb, &nknown, &diag) != FORA_OK) goto fail;
    PQfinish(conn);
    conn = NULL;
    if (fora__link_cross_zoned(a, b, &o, &c, &diag) != FORA_OK) goto fail;

    doc = fora__link_cross_summary(a, b, c, &o, pa, pb, nknown, &diag);
    if (doc == NULL) goto fail;

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
            "components", fora__link_cross_components(c, comp));
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
                json_t *e = json_pack("{s:i, s:s, s:i, s:o, s:o}", "rank", j + 1, "ext_id",
                                      fora_snapshot_member_ext(b, mb), "posts",
                                      c->fp->nposts[c->row_b[mb]], "similarity", num(tot),
                                      "components", fora__link_cross_components(c, comp));
                if (e == NULL || json_array_append_new(arr, e) != 0) goto nomem;
            }
        }
    }

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
            if (fora_name_parse(optarg, "frame", fora__link_cross_frame_names, 2, &frame, &d) !=
                FORA_OK)
                return fora_cli_usage_error("link", "%s", d.msg);
            break;
        case OPT_CENTRE:
            if (fora_name_parse(optarg, "centre", fora__link_cross_centre_names, 3, &centre, &d) !=
                FORA_OK)
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
