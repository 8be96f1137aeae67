/*
 * server/linking_cross_json.c - the known pairs of two forums and the JSON
 * summary of a cross-forum comparison, shared by `fora link pairs` and the
 * "linking_cross" run step (linking_cross_json.h).
 */
#include "linking_cross_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fora/db.h"
#include "fora/tzmap_load.h"

const char *const fora__link_cross_frame_names[2] = {"common", "local"};
const char *const fora__link_cross_centre_names[3] = {"forum", "pooled", "none"};

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

fora_err_t fora__link_cross_known_pairs(PGconn *conn, const fora_snapshot_t *a,
                                        const fora_snapshot_t *b, int32_t **pa, int32_t **pb,
                                        int32_t *n, fora_diag_t *diag)
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

json_t *fora__link_cross_components(const fora_link_cross_t *c, const double comp[FORA_LINK_NCOMP])
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

json_t *fora__link_cross_summary(const fora_snapshot_t *a, const fora_snapshot_t *b,
                                 const fora_link_cross_t *c, const fora_link_cross_opts_t *o,
                                 const int32_t *pa, const int32_t *pb, int32_t nknown,
                                 fora_diag_t *diag)
{
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
    json_t *doc = json_pack("{s:o, s:o, s:s, s:s, s:s, s:i, s:i, s:I, s:o, s:o, s:o, s:s}", "forum",
                            side_json(a, c->na, c->nskipped_a, c->reason_a, c->nzero_a), "other",
                            side_json(b, c->nb, c->nskipped_b, c->reason_b, c->nzero_b), "view",
                            fora_link_cross_view_names[o->view], "frame",
                            fora__link_cross_frame_names[o->frame], "centre",
                            fora__link_cross_centre_names[o->centre], "k", o->k, "min_posts",
                            o->min_posts, "overlap_seconds", (json_int_t)c->overlap, "notes", notes,
                            "components", comps, "shared_categories", shared, "not_compared",
                            "embedding: learned per forum, its axes mean nothing across forums");
    if (doc == NULL) goto nomem;
    json_t *ev = NULL;
    if (nknown == 0) {
        ev = json_pack("{s:i, s:s}", "known_pairs", 0, "reason",
                       "member_links holds no pair between these two forums");
    } else {
        fora_link_cross_eval_t e;
        fora_diag_t d = FORA_DIAG_INIT;
        fora_err_t err = fora_link_cross_evaluate(c, pa, pb, nknown, &e, &d);
        if (err == FORA_ENOTFOUND) {
            ev = json_pack("{s:i, s:s}", "known_pairs", nknown, "reason", d.msg);
        } else if (err != FORA_OK) {
            fora_diag_set(diag, err, "%s", d.msg);
            json_decref(doc);
            return NULL;
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
    if (ev == NULL || json_object_set_new(doc, "evaluation", ev) != 0) {
        json_decref(doc);
        goto nomem;
    }
    return doc;
nomem:
    fora_diag_set(diag, FORA_ENOMEM, "out of memory building the JSON");
    return NULL;
}

static void span(const fora_snapshot_t *s, int64_t *t0, int64_t *t1)
{
    if (s->posts.n == 0) return;
    if (s->posts.created_at[0] < *t0) *t0 = s->posts.created_at[0];
    if (s->posts.created_at[s->posts.n - 1] > *t1) *t1 = s->posts.created_at[s->posts.n - 1];
}

fora_err_t fora__link_cross_zoned(const fora_snapshot_t *a, const fora_snapshot_t *b,
                                  const fora_link_cross_opts_t *opts, fora_link_cross_t **out,
                                  fora_diag_t *diag)
{
    fora_tzmap_t *tza = NULL, *tzb = NULL;
    fora_link_cross_opts_t o = *opts;
    fora_err_t err;
    *out = NULL;
    /* A's zone over both spans (the common frame puts B's posts in it too) */
    int64_t t0 = INT64_MAX, t1 = INT64_MIN;
    span(a, &t0, &t1);
    if (o.frame == FORA_LINK_CROSS_FRAME_COMMON) span(b, &t0, &t1);
    if (t0 > t1) t0 = t1 = 0;
    if ((err = fora_tzmap_load(a->forum.timezone, t0, t1, &tza, diag)) != FORA_OK) goto out;
    t0 = INT64_MAX, t1 = INT64_MIN;
    span(b, &t0, &t1);
    if (t0 > t1) t0 = t1 = 0;
    if ((err = fora_tzmap_load(b->forum.timezone, t0, t1, &tzb, diag)) != FORA_OK) goto out;
    o.tz_a = tza;
    o.tz_b = tzb;
    err = fora_link_cross_compute(a, b, &o, out, diag);
out:
    fora_tzmap_destroy(tza);
    fora_tzmap_destroy(tzb);
    return err;
}
