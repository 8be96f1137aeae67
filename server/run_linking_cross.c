/*
 * server/run_linking_cross.c - the "linking_cross" step: when the run option
 * link_with names another forum, the run's forum (A) is compared with it (B)
 * as `fora link pairs` does (default options): the candidate pairs with
 * their per-component cosines and the summary (notes, members compared,
 * evaluation against member_links) are stored in the tables of
 * migrations/0011_linking_cross.sql (api-docs/linking.md, "Across forums").
 * Without link_with the run does not compute the step (recompute.c, wanted()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fora/snapshot_load.h"
#include "linking_cross_json.h"
#include "recompute_internal.h"

typedef struct cross_state {
    fora_snapshot_t *b;
    fora_link_cross_t *c;
    json_t *summary;
} cross_state_t;

static void destroy(void *state)
{
    cross_state_t *st = state;
    if (st == NULL) return;
    fora_link_cross_destroy(st->c);
    fora_snapshot_destroy(st->b);
    json_decref(st->summary);
    free(st);
}

static void params(const fora_recompute_opts_t *o, json_t *obj)
{
    if (o->link_with == NULL) return;
    fora_link_cross_opts_t c;
    fora_link_cross_opts_default(&c);
    json_object_set_new(obj, "linking_cross",
                        json_pack("{s:s, s:i, s:i, s:s, s:s, s:s}", "link_with", o->link_with, "k",
                                  c.k, "min_posts", c.min_posts, "view",
                                  fora_link_cross_view_names[c.view], "frame",
                                  fora__link_cross_frame_names[c.frame], "centre",
                                  fora__link_cross_centre_names[c.centre]));
}

static fora_err_t compute(const fora__run_ctx_t *ctx, void **state, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    int32_t *pa = NULL, *pb = NULL, nknown = 0;
    *state = NULL;
    if (ctx->opts->link_with == NULL) return FORA_OK;
    cross_state_t *st = fora_xcalloc(1, sizeof(*st));
    int64_t other;
    if ((err = fora_forum_lookup(ctx->conn, ctx->opts->link_with, &other, diag)) != FORA_OK)
        goto out;
    if (other == ctx->snap->forum.id) {
        err = fora_diag_set(diag, FORA_EINVAL, "link_with must name another forum than the run's");
        goto out;
    }
    if ((err = fora_snapshot_load(ctx->conn, other, &st->b, diag)) != FORA_OK) goto out;
    if ((err = fora__link_cross_known_pairs(ctx->conn, ctx->snap, st->b, &pa, &pb, &nknown,
                                            diag)) != FORA_OK)
        goto out;
    fora_link_cross_opts_t o;
    fora_link_cross_opts_default(&o);
    if ((err = fora__link_cross_zoned(ctx->snap, st->b, &o, &st->c, diag)) != FORA_OK) goto out;
    st->summary = fora__link_cross_summary(ctx->snap, st->b, st->c, &o, pa, pb, nknown, diag);
    if (st->summary == NULL) {
        err = diag->code;
        goto out;
    }
    *state = st;
    st = NULL;
out:
    if (err != FORA_OK) fora_diag_prefix(diag, "linking_cross: ");
    destroy(st);
    free(pa);
    free(pb);
    return err;
}

#define COPY_PAIRS                                                                                 \
    "COPY run_link_cross_pairs (run_id, other_forum_id, rank, member_id, other_id, similarity,"    \
    " mutual, rank_for_member, rank_for_other, posts, other_posts, hour_of_week, gaps, session,"   \
    " category) FROM STDIN"

static fora_err_t store(const fora__run_ctx_t *ctx, void *state, fora_diag_t *diag)
{
    cross_state_t *st = state;
    if (st == NULL) return FORA_OK;
    const fora_snapshot_t *a = ctx->snap, *b = st->b;
    const fora_link_cross_t *c = st->c;
    fora__copy_buf_t buf = {0};
    fora_err_t err;
    char other[24];
    snprintf(other, sizeof other, "%lld", (long long)b->forum.id);
    char *sum = json_dumps(st->summary, JSON_COMPACT);
    if (sum == NULL) return fora_diag_set(diag, FORA_ENOMEM, "out of memory");
    const char *p[] = {ctx->run, other, sum};
    err = fora__run_exec(ctx->conn, "storing the cross-forum summary",
                         "INSERT INTO run_link_cross (run_id, other_forum_id, summary)"
                         " VALUES ($1::bigint, $2::bigint, $3::jsonb)",
                         3, p, diag);
    free(sum);
    if (err != FORA_OK) return err;
    for (int32_t i = 0; i < c->npairs; i++) {
        const fora_link_cross_pair_t *q = &c->pairs[i];
        double tot, comp[FORA_LINK_NCOMP];
        fora_link_cross_similarity(c, q->a, q->b, c->view, &tot, comp);
        fora__copy_int(&buf, ctx->run_id);
        fora__copy_int(&buf, b->forum.id);
        fora__copy_int(&buf, i + 1);
        fora__copy_int(&buf, a->members.id[q->a]);
        fora__copy_int(&buf, b->members.id[q->b]);
        fora__copy_double(&buf, tot);
        fora__copy_raw(&buf, q->mutual ? "t" : "f");
        if (q->rank_ab)
            fora__copy_int(&buf, q->rank_ab);
        else
            fora__copy_null(&buf);
        if (q->rank_ba)
            fora__copy_int(&buf, q->rank_ba);
        else
            fora__copy_null(&buf);
        fora__copy_int(&buf, c->fp->nposts[c->row_a[q->a]]);
        fora__copy_int(&buf, c->fp->nposts[c->row_b[q->b]]);
        fora__copy_double(&buf, comp[FORA_LINK_HOW]);
        fora__copy_double(&buf, comp[FORA_LINK_GAP]);
        fora__copy_double(&buf, comp[FORA_LINK_SESSION]);
        if (c->nshared > 0)
            fora__copy_double(&buf, comp[FORA_LINK_CATEGORY]);
        else
            fora__copy_null(&buf);
        fora__copy_end_row(&buf);
        if (buf.len > ((size_t)8 << 20) &&
            (err = fora__copy_send(ctx->conn, COPY_PAIRS, &buf, diag)) != FORA_OK)
            goto out;
    }
    if (buf.len > 0 && (err = fora__copy_send(ctx->conn, COPY_PAIRS, &buf, diag)) != FORA_OK)
        goto out;
    for (int32_t i = 0; i < c->nskipped_a; i++) {
        fora__copy_int(&buf, ctx->run_id);
        fora__copy_int(&buf, b->forum.id);
        fora__copy_int(&buf, a->members.id[c->skipped_a[i]]);
        fora__copy_text(&buf, fora_link_cross_skip_reason(c->reason_a[i]));
        fora__copy_end_row(&buf);
    }
    if (buf.len > 0)
        err = fora__copy_send(ctx->conn,
                              "COPY run_link_cross_skipped (run_id, other_forum_id, member_id,"
                              " reason) FROM STDIN",
                              &buf, diag);
out:
    fora__copy_free(&buf);
    return err;
}

const fora__run_step_t fora__run_step_linking_cross = {
    .name = "linking_cross",
    .params = params,
    .compute = compute,
    .store = store,
    .destroy = destroy,
};
