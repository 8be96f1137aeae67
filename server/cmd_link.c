/*
 * server/cmd_link.c - `fora link eval` and `fora link similar`: account
 * linking from structure and timing (analysis/linking.c,
 * api-docs/linking.md) on a forum loaded from the database, as JSON on
 * stdout.
 *
 *   eval     the SYSML retrieval protocol: for each episode length, kappa
 *            sampled query episodes rank every other episode; MRR, R@10 and
 *            mean rank per view (time, context, both) beside the analytic
 *            random baseline; optionally synthetic sybils (members split in
 *            two at a random post, whole-history fingerprints)
 *   similar  the k members whose whole-history fingerprints are closest to a
 *            member's, each with its per-component cosines
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "cmd_link_pairs.h"
#include "fora/linking.h"
#include "fora/snapshot_load.h"
#include "fora/tzmap_load.h"

static const char link_usage[] =
    "Usage: fora link eval --forum NAME [--episode-len L[,L...]] [--queries K] [--seed S]\n"
    "                      [--sybils N]\n"
    "       fora link similar --forum NAME --member EXT_ID [--k K] [--view VIEW] [--seed S]\n"
    "       fora link pairs --forum A --other B [...]   (across forums; fora link pairs --help)\n"
    "Account linking from structure and timing only (api-docs/linking.md).\n"
    "eval: retrieval of another episode by the same member, as in Maneriker et al.\n"
    "(2021): MRR, recall@10 and mean rank of the time-only, context-only and\n"
    "combined fingerprints beside the random baseline, as JSON, on all episodes and on\n"
    "a pool of two per member (`balanced`), with view weights fitted on one half of\n"
    "the members and measured on the other (`weights`).\n"
    "  --forum NAME        the forum (name or id; import the bundled sample with\n"
    "                      `fora import --forum beer server/sample/beer`)\n"
    "  --episode-len LIST  posts per episode, each 1..1000 (1,3,5,7,9)\n"
    "  --queries K         query episodes sampled per length, 1..100000 (1000)\n"
    "  --seed S            seed of the walks, the embedding and the sampling (1)\n"
    "  --sybils N          also split N members with >= 6 posts into two accounts\n"
    "                      at a random post and retrieve the other half (0: no)\n"
    "similar: the K (10) members closest to EXT_ID by whole-history fingerprint\n"
    "under VIEW (time, context or both; both), with each component's cosine.\n"
    "Exit codes: 0 ok, 2 bad option, 4 no such forum or member.\n";

#define JSON_FLAGS (JSON_INDENT(2) | JSON_REAL_PRECISION(6))

/* A finite real, or null (never NaN in the output). */
static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *metrics_json(const fora_link_metrics_t *m)
{
    return json_pack("{s:o, s:o, s:o}", "mrr", num(m->mrr), "recall_at_10", num(m->recall10),
                     "mean_rank", num(m->mean_rank));
}

/* The weights of view v on both folds: [{component: w, ...}, {...}]. */
static json_t *weights_json(const fora_link_eval_t *ev, int v)
{
    json_t *a = json_array();
    for (int f = 0; f < 2; f++) {
        json_t *o = json_object();
        for (int c = 0; c < FORA_LINK_NCOMP; c++)
            json_object_set_new(o, fora_link_comp_names[c], json_real(ev->weights[f][v].w[c]));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *eval_json(const fora_link_eval_t *ev)
{
    json_t *views = json_object();
    for (int v = 0; v < FORA_LINK_NVIEWS; v++) {
        json_t *m = metrics_json(&ev->view[v]);
        json_object_set_new(m, "fitted", json_boolean(ev->fitted));
        json_object_set_new(m, "weights", weights_json(ev, v));
        json_object_set_new(views, fora_link_view_names[v], m);
    }
    const double rnd = ev->random.mrr;
    json_t *ratio = json_object();
    for (int v = 0; v < FORA_LINK_NVIEWS; v++)
        json_object_set_new(ratio, fora_link_view_names[v],
                            rnd > 0 ? num(ev->view[v].mrr / rnd) : json_null());
    /* the most any fingerprint could show against this baseline: MRR <= 1 */
    return json_pack("{s:i, s:i, s:i, s:i, s:o, s:o, s:o, s:o}", "per_member", ev->per_member,
                     "queries", ev->queries, "candidates", ev->candidates, "eligible", ev->eligible,
                     "views", views, "random", metrics_json(&ev->random), "mrr_over_random", ratio,
                     "max_mrr_over_random", rnd > 0 ? num(1.0 / rnd) : json_null());
}

/* Loads forum `name` and a zone table over its posts. */
static fora_err_t load(const fora_cli_t *cli, const char *name, fora_snapshot_t **s,
                       fora_tzmap_t **tz, fora_diag_t *diag)
{
    PGconn *conn = NULL;
    int64_t id;
    fora_err_t err;
    if ((err = fora_cli_connect(cli, true, &conn, diag)) != FORA_OK) return err;
    if ((err = fora_forum_lookup(conn, name, &id, diag)) == FORA_OK)
        err = fora_snapshot_load(conn, id, s, diag);
    PQfinish(conn);
    if (err != FORA_OK) return err;
    int64_t t0 = 0, t1 = 0;
    if ((*s)->posts.n > 0) {
        t0 = (*s)->posts.created_at[0];
        t1 = (*s)->posts.created_at[(*s)->posts.n - 1];
    }
    return fora_tzmap_load((*s)->forum.timezone, t0, t1, tz, diag);
}

static bool parse_lengths(const char *arg, int *L, int *n)
{
    char buf[256];
    if (snprintf(buf, sizeof buf, "%s", arg) >= (int)sizeof buf) {
        fora_cli_usage_error("link", "--episode-len is too long");
        return false;
    }
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        long long v;
        if (*n == 16) {
            fora_cli_usage_error("link", "--episode-len: at most 16 lengths");
            return false;
        }
        if (!fora_cli_parse_int("link", "episode-len", tok, 1, FORA_LINK_MAX_EPISODE, &v))
            return false;
        L[(*n)++] = (int)v;
    }
    if (*n == 0) {
        fora_cli_usage_error("link", "--episode-len needs at least one length");
        return false;
    }
    return true;
}

static int link_eval(const fora_cli_t *cli, const char *forum, const int *L, int nL, int kappa,
                     uint64_t seed, int nsybils)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    fora_snapshot_t *s = NULL, *ns = NULL;
    fora_tzmap_t *tz = NULL;
    fora_link_fp_t *fp = NULL;
    fora_link_context_t *lctx = NULL;
    int32_t *pair = NULL, *target = NULL;
    json_t *doc = NULL, *eps = NULL;
    int rc = 0;

    if (load(cli, forum, &s, &tz, &diag) != FORA_OK) goto fail;
    fora_link_opts_t o;
    fora_link_opts_default(&o);
    o.seed = seed;
    o.tz = tz;
    /* one embedding for every length, as the recompute step */
    if (fora_link_context_compute(s, &o, &lctx, &diag) != FORA_OK) goto fail;
    doc = json_pack("{s:s, s:s, s:I, s:i, s:i, s:i, s:[]}", "forum", s->forum.name, "timezone",
                    s->forum.timezone, "seed", (json_int_t)seed, "queries_requested", kappa,
                    "members", s->members.n, "posts", s->posts.n, "episodes");
    if (doc == NULL) goto nomem;
    eps = json_object_get(doc, "episodes");
    for (int i = 0; i < nL; i++) {
        o.episode_len = L[i];
        if (fora_link_fingerprints_with(s, &o, lctx, &fp, &diag) != FORA_OK) goto fail;
        fora_link_eval_t ev;
        json_t *e;
        fora_link_eval_opts_t eo = {.queries = kappa, .per_member = 0, .fit = true, .seed = seed};
        fora_err_t err = fora_link_evaluate_ex(fp, NULL, &eo, &ev, &diag);
        if (err == FORA_ENOTFOUND) {
            /* too few episodes of one member at this length: say so, keep going */
            e = json_pack("{s:i, s:i, s:i, s:s}", "episode_len", L[i], "rows", fp->n,
                          "skipped_members", fp->nskipped, "reason", diag.msg);
            fora_diag_clear(&diag);
        } else if (err != FORA_OK) {
            goto fail;
        } else {
            e = eval_json(&ev);
            if (e != NULL) {
                json_object_set_new(e, "episode_len", json_integer(L[i]));
                json_object_set_new(e, "rows", json_integer(fp->n));
                json_object_set_new(e, "skipped_members", json_integer(fp->nskipped));
                /* the member-balanced pool: one query-target pair per member */
                fora_link_eval_t bal;
                eo.per_member = 2;
                if (fora_link_evaluate_ex(fp, NULL, &eo, &bal, &diag) != FORA_OK) {
                    json_decref(e);
                    goto fail;
                }
                json_t *b = eval_json(&bal);
                if (b == NULL) {
                    json_decref(e);
                    goto nomem;
                }
                json_object_set_new(b, "rows", json_integer(bal.rows));
                json_object_set_new(e, "balanced", b);
            }
        }
        fora_link_fp_destroy(fp);
        fp = NULL;
        if (e == NULL || json_array_append_new(eps, e) != 0) goto nomem;
    }
    if (nsybils > 0) {
        int32_t npairs = 0;
        const int32_t min_half = 3;
        if (fora_link_sybil_split(s, nsybils, min_half, seed, &ns, &pair, &npairs, &diag) !=
            FORA_OK)
            goto fail;
        target = malloc(sizeof(*target) * (size_t)(ns->members.n > 0 ? ns->members.n : 1));
        if (target == NULL) goto nomem;
        for (int32_t m = 0; m < ns->members.n; m++)
            target[m] = pair[m] < 0 ? -1 : (m < pair[m] ? m : pair[m]);
        o.episode_len = 0;
        if (fora_link_fingerprints(ns, &o, &fp, &diag) != FORA_OK) goto fail;
        fora_link_eval_t ev;
        fora_link_eval_opts_t eo = {.queries = kappa, .per_member = 0, .fit = true, .seed = seed};
        if (fora_link_evaluate_ex(fp, target, &eo, &ev, &diag) != FORA_OK) goto fail;
        json_t *e = eval_json(&ev);
        if (e == NULL) goto nomem;
        json_object_set_new(e, "split_members", json_integer(npairs));
        json_object_set_new(e, "min_posts_per_half", json_integer(min_half));
        json_object_set_new(e, "rows", json_integer(fp->n));
        if (json_object_set_new(doc, "sybils", e) != 0) goto nomem;
    } else {
        json_object_set_new(doc, "sybils", json_null());
    }
    if (fora_cli_print_json(doc, JSON_FLAGS, &diag) != FORA_OK) goto fail;
    goto out;
nomem:
    fora_diag_set(&diag, FORA_ENOMEM, "out of memory building the JSON");
fail:
    rc = fora_cli_fail(&diag);
out:
    json_decref(doc);
    fora_link_fp_destroy(fp);
    fora_link_context_destroy(lctx);
    free(pair);
    free(target);
    fora_snapshot_destroy(ns);
    fora_tzmap_destroy(tz);
    fora_snapshot_destroy(s);
    return rc;
}

static json_t *components_json(const double comp[FORA_LINK_NCOMP])
{
    json_t *o = json_object();
    for (int c = 0; c < FORA_LINK_NCOMP; c++)
        json_object_set_new(o, fora_link_comp_names[c], num(comp[c]));
    return o;
}

static int link_similar(const fora_cli_t *cli, const char *forum, const char *member, int k,
                        fora_link_view_id_t view, uint64_t seed)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    fora_snapshot_t *s = NULL;
    fora_tzmap_t *tz = NULL;
    fora_link_fp_t *fp = NULL;
    float *x = NULL, *score = NULL;
    int32_t *idx = NULL;
    json_t *doc = NULL;
    int rc = 0;

    if (load(cli, forum, &s, &tz, &diag) != FORA_OK) goto fail;
    int32_t m = fora_snapshot_member_by_ext(s, member);
    if (m < 0) {
        fora_diag_set(&diag, FORA_ENOTFOUND, "member \"%s\" not found in forum \"%s\"", member,
                      s->forum.name);
        goto fail;
    }
    fora_link_opts_t o;
    fora_link_opts_default(&o);
    o.seed = seed;
    o.tz = tz;
    if (fora_link_fingerprints(s, &o, &fp, &diag) != FORA_OK) goto fail;
    const fora_link_view_t w = fora_link_view_get(view);
    doc = json_pack("{s:s, s:s, s:s, s:i, s:I}", "forum", s->forum.name, "member", member, "view",
                    fora_link_view_names[view], "k", k, "seed", (json_int_t)seed);
    if (doc == NULL) goto nomem;
    const int32_t r = fp->row_of_member[m];
    if (r < 0) {
        /* no fingerprint: say why instead of inventing neighbours */
        const char *why = "no posts";
        for (int32_t i = 0; i < fp->nskipped; i++)
            if (fp->skipped[i] == m) why = fora_link_skip_reason(fp->skip_reason[i]);
        json_object_set_new(doc, "reason", json_string(why));
        json_object_set_new(doc, "similar", json_array());
    } else {
        x = malloc(sizeof(*x) * (size_t)fp->n * (size_t)fp->dim);
        idx = malloc(sizeof(*idx) * (size_t)k);
        score = malloc(sizeof(*score) * (size_t)k);
        if (!x || !idx || !score) goto nomem;
        fora_link_fp_combine(fp, &w, x);
        if (fora_link_topk(x, fp->n, fp->dim, &r, 1, NULL, k, idx, score, &diag) != FORA_OK)
            goto fail;
        json_t *arr = json_array();
        json_object_set_new(doc, "reason", json_null());
        json_object_set_new(doc, "posts", json_integer(fp->nposts[r]));
        json_t *zero = json_array();
        for (int c = 0; c < FORA_LINK_NCOMP; c++)
            if (fp->zero_mask[r] & (1u << c))
                json_array_append_new(zero, json_string(fora_link_comp_names[c]));
        json_object_set_new(doc, "zero_components", zero);
        json_object_set_new(doc, "similar", arr);
        for (int j = 0; j < k && idx[j] >= 0; j++) {
            double total, comp[FORA_LINK_NCOMP];
            fora_link_pair(fp, r, idx[j], &w, &total, comp);
            int32_t om = fp->member[idx[j]];
            json_t *e = json_pack("{s:s, s:i, s:o, s:o}", "ext_id", fora_snapshot_member_ext(s, om),
                                  "posts", fp->nposts[idx[j]], "similarity", num(total),
                                  "components", components_json(comp));
            if (e == NULL || json_array_append_new(arr, e) != 0) goto nomem;
        }
    }
    if (fora_cli_print_json(doc, JSON_FLAGS, &diag) != FORA_OK) goto fail;
    goto out;
nomem:
    fora_diag_set(&diag, FORA_ENOMEM, "out of memory building the JSON");
fail:
    rc = fora_cli_fail(&diag);
out:
    json_decref(doc);
    free(x);
    free(idx);
    free(score);
    fora_link_fp_destroy(fp);
    fora_tzmap_destroy(tz);
    fora_snapshot_destroy(s);
    return rc;
}

int fora_cmd_link(int argc, char **argv)
{
    fora_cli_t cli = {0};
    enum {
        OPT_FORUM = FORA_OPT_FIRST_OWN,
        OPT_LEN,
        OPT_QUERIES,
        OPT_SEED,
        OPT_SYBILS,
        OPT_MEMBER,
        OPT_K,
        OPT_VIEW
    };
    static const struct option opts[] = {FORA_CLI_COMMON_OPTIONS,
                                         {"forum", required_argument, NULL, OPT_FORUM},
                                         {"episode-len", required_argument, NULL, OPT_LEN},
                                         {"queries", required_argument, NULL, OPT_QUERIES},
                                         {"seed", required_argument, NULL, OPT_SEED},
                                         {"sybils", required_argument, NULL, OPT_SYBILS},
                                         {"member", required_argument, NULL, OPT_MEMBER},
                                         {"k", required_argument, NULL, OPT_K},
                                         {"view", required_argument, NULL, OPT_VIEW},
                                         {NULL, 0, NULL, 0}};
    const char *forum = NULL, *member = NULL;
    int L[16] = {1, 3, 5, 7, 9}, nL = 5, view = FORA_LINK_VIEW_BOTH;
    long long kappa = 1000, seed = 1, sybils = 0, k = 10;
    int c;

    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        fputs(link_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    fora_dbconf_from_env(&cli.db);
    const char *sub = argv[1];
    if (strcmp(sub, "pairs") == 0) return fora_cmd_link_pairs(argc - 1, argv + 1);
    if (strcmp(sub, "eval") != 0 && strcmp(sub, "similar") != 0)
        return fora_cli_usage_error("link", "unknown subcommand \"%s\" (eval, similar or pairs)",
                                    sub);
    argc--;
    argv++;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int r = fora_cli_common(&cli, c, link_usage);
        if (r < 0) return 0;
        if (r > 0) continue;
        fora_diag_t d = FORA_DIAG_INIT;
        switch (c) {
        case OPT_FORUM:
            forum = optarg;
            break;
        case OPT_LEN:
            if (!parse_lengths(optarg, L, &nL)) return 2;
            break;
        case OPT_QUERIES:
            if (!fora_cli_parse_int("link", "queries", optarg, 1, 100000, &kappa)) return 2;
            break;
        case OPT_SEED:
            if (!fora_cli_parse_int("link", "seed", optarg, 0, INT64_MAX, &seed)) return 2;
            break;
        case OPT_SYBILS:
            if (!fora_cli_parse_int("link", "sybils", optarg, 0, 1000000, &sybils)) return 2;
            break;
        case OPT_MEMBER:
            member = optarg;
            break;
        case OPT_K:
            if (!fora_cli_parse_int("link", "k", optarg, 1, 1000, &k)) return 2;
            break;
        case OPT_VIEW:
            if (fora_name_parse(optarg, "view", fora_link_view_names, FORA_LINK_NVIEWS, &view,
                                &d) != FORA_OK)
                return fora_cli_usage_error("link", "%s", d.msg);
            break;
        default:
            return fora_cli_usage_error("link", "unknown option");
        }
    }
    if (optind != argc) return fora_cli_usage_error("link", "unexpected argument");
    if (forum == NULL) return fora_cli_usage_error("link", "--forum NAME is required");
    if (strcmp(sub, "eval") == 0)
        return link_eval(&cli, forum, L, nL, (int)kappa, (uint64_t)seed, (int)sybils);
    if (member == NULL) return fora_cli_usage_error("link", "similar needs --member EXT_ID");
    return link_similar(&cli, forum, member, (int)k, (fora_link_view_id_t)view, (uint64_t)seed);
}
