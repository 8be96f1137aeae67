/*
 * server/run_linking.c - the "linking" step: whole-history fingerprints of
 * every member, the top-10 similar members of each (combined view, with
 * per-component cosines), and the retrieval evaluation (episodes of 1, 3,
 * 5, 7 and 9 posts, 1000 queries; 300 synthetic sybils), stored in the
 * tables of migrations/0008_linking.sql (api-docs/linking.md).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fora/linking.h"
#include "fora/tzmap_load.h"
#include "recompute_internal.h"

#define LINK_K 10
#define LINK_QUERIES 1000
#define LINK_SYBILS 300
#define LINK_MIN_HALF 3
#define LINK_BALANCED 2 /* episodes per member in the balanced protocol */
/* rows ranked per evaluation: larger forums are measured on a sample of whole members */
#define LINK_MAX_ROWS 50000

static const int link_lengths[] = {1, 3, 5, 7, 9};
#define NLENGTHS ((int)(sizeof(link_lengths) / sizeof(link_lengths[0])))

typedef struct eval_row {
    int protocol; /* 0 episodes, 1 sybils, 2 episodes with two per member */
    int len;
    int32_t per_member; /* rows kept per member (0: all) */
    int32_t rows;
    bool have;
    fora_link_eval_t ev;
    char reason[256];
} eval_row_t;

typedef struct link_state {
    fora_link_fp_t *fp;
    int32_t *idx; /* fp->n x LINK_K */
    float *score;
    eval_row_t eval[2 * NLENGTHS + 1];
    int neval;
} link_state_t;

static void destroy(void *state)
{
    link_state_t *st = state;
    if (st == NULL) return;
    fora_link_fp_destroy(st->fp);
    free(st->idx);
    free(st->score);
    free(st);
}

static void params(const fora_recompute_opts_t *o, json_t *obj)
{
    (void)o;
    json_t *lens = json_array();
    for (int i = 0; i < NLENGTHS; i++)
        json_array_append_new(lens, json_integer(link_lengths[i]));
    json_object_set_new(obj, "linking",
                        json_pack("{s:i, s:i, s:o, s:i, s:i, s:i}", "k", LINK_K, "queries",
                                  LINK_QUERIES, "episode_lengths", lens, "sybils", LINK_SYBILS,
                                  "balanced_per_member", LINK_BALANCED, "max_rows", LINK_MAX_ROWS));
}

/* Evaluates fp into row e; a forum without two rows of one member gives a reason. */
static fora_err_t eval_into(const fora_link_fp_t *fp, const int32_t *target, uint64_t seed,
                            eval_row_t *e, fora_diag_t *diag)
{
    fora_diag_t d = FORA_DIAG_INIT;
    e->rows = fp->n;
    const fora_link_eval_opts_t eo = {.queries = LINK_QUERIES,
                                      .per_member = e->per_member,
                                      .max_rows = LINK_MAX_ROWS,
                                      .fit = true,
                                      .seed = seed};
    fora_err_t err = fora_link_evaluate_ex(fp, target, &eo, &e->ev, &d);
    if (err == FORA_ENOTFOUND) {
        snprintf(e->reason, sizeof e->reason, "%s", d.msg);
        return FORA_OK;
    }
    if (err != FORA_OK) return fora_diag_set(diag, err, "%s", d.msg);
    e->rows = e->ev.rows;
    e->have = true;
    return FORA_OK;
}

static fora_err_t compute(const fora__run_ctx_t *ctx, void **state, fora_diag_t *diag)
{
    const fora_snapshot_t *s = ctx->snap;
    fora_err_t err = FORA_OK;
    fora_tzmap_t *tz = NULL;
    fora_link_fp_t *fp = NULL;
    fora_snapshot_t *ns = NULL;
    int32_t *pair = NULL, *target = NULL;
    float *x = NULL;
    link_state_t *st = fora_xcalloc(1, sizeof(*st));

    int64_t t0 = 0, t1 = 0;
    if (s->posts.n > 0) {
        t0 = s->posts.created_at[0];
        t1 = s->posts.created_at[s->posts.n - 1];
    }
    if ((err = fora_tzmap_load(s->forum.timezone, t0, t1, &tz, diag)) != FORA_OK) goto out;
    fora_link_opts_t o;
    fora_link_opts_default(&o);
    o.seed = ctx->opts->seed;
    o.tz = tz;

    /* members: fingerprints and top-k */
    if ((err = fora_link_fingerprints(s, &o, &st->fp, diag)) != FORA_OK) goto out;
    const size_t n = (size_t)st->fp->n;
    x = malloc((n > 0 ? n : 1) * (size_t)st->fp->dim * sizeof(*x));
    st->idx = malloc((n > 0 ? n : 1) * LINK_K * sizeof(*st->idx));
    st->score = malloc((n > 0 ? n : 1) * LINK_K * sizeof(*st->score));
    if (!x || !st->idx || !st->score) {
        err = fora_diag_set(diag, FORA_ENOMEM, "linking: out of memory for %zu members", n);
        goto out;
    }
    const fora_link_view_t both = fora_link_view_get(FORA_LINK_VIEW_BOTH);
    fora_link_fp_combine(st->fp, &both, x);
    /* exact: at ~114 columns the projected search is no faster (tests/bench/RESULTS.md) */
    if ((err = fora_link_topk(x, st->fp->n, st->fp->dim, NULL, st->fp->n, NULL, LINK_K, st->idx,
                              st->score, diag)) != FORA_OK)
        goto out;
    free(x);
    x = NULL;

    /* the evaluation: episodes by length, then sybils */
    for (int i = 0; i < NLENGTHS; i++) {
        eval_row_t *e = &st->eval[st->neval++];
        e->protocol = 0;
        e->len = link_lengths[i];
        o.episode_len = link_lengths[i];
        if ((err = fora_link_fingerprints(s, &o, &fp, diag)) != FORA_OK) goto out;
        err = eval_into(fp, NULL, ctx->opts->seed, e, diag);
        if (err == FORA_OK) {
            eval_row_t *b = &st->eval[st->neval++];
            b->protocol = 2;
            b->len = link_lengths[i];
            b->per_member = LINK_BALANCED;
            err = eval_into(fp, NULL, ctx->opts->seed, b, diag);
        }
        fora_link_fp_destroy(fp);
        fp = NULL;
        if (err != FORA_OK) goto out;
    }
    eval_row_t *e = &st->eval[st->neval++];
    e->protocol = 1;
    e->len = 0;
    int32_t npairs = 0;
    fora_diag_t d = FORA_DIAG_INIT;
    err = fora_link_sybil_split(s, LINK_SYBILS, LINK_MIN_HALF, ctx->opts->seed, &ns, &pair, &npairs,
                                &d);
    if (err == FORA_ENOTFOUND) {
        snprintf(e->reason, sizeof e->reason, "%s", d.msg);
        err = FORA_OK;
    } else if (err != FORA_OK) {
        fora_diag_set(diag, err, "%s", d.msg);
        goto out;
    } else {
        target = malloc(sizeof(*target) * (size_t)(ns->members.n > 0 ? ns->members.n : 1));
        if (!target) {
            err = fora_diag_set(diag, FORA_ENOMEM, "linking: out of memory");
            goto out;
        }
        for (int32_t m = 0; m < ns->members.n; m++)
            target[m] = pair[m] < 0 ? -1 : (m < pair[m] ? m : pair[m]);
        o.episode_len = 0;
        if ((err = fora_link_fingerprints(ns, &o, &fp, diag)) != FORA_OK) goto out;
        if ((err = eval_into(fp, target, ctx->opts->seed, e, diag)) != FORA_OK) goto out;
    }
    *state = st;
    st = NULL;
out:
    if (err != FORA_OK) fora_diag_prefix(diag, "linking: ");
    destroy(st);
    free(x);
    free(pair);
    free(target);
    fora_link_fp_destroy(fp);
    fora_snapshot_destroy(ns);
    fora_tzmap_destroy(tz);
    return err;
}

/* The weights of view v on both folds as JSON text (buf of `size` bytes). */
static const char *weights_text(const fora_link_eval_t *ev, int v, char *buf, size_t size)
{
    size_t n = 0;
    n += (size_t)snprintf(buf + n, size - n, "[");
    for (int f = 0; f < 2 && n < size; f++) {
        n += (size_t)snprintf(buf + n, size - n, "%s{", f ? ", " : "");
        for (int c = 0; c < FORA_LINK_NCOMP && n < size; c++)
            n += (size_t)snprintf(buf + n, size - n, "%s\"%s\": %.6g", c ? ", " : "",
                                  fora_link_comp_names[c], (double)ev->weights[f][v].w[c]);
        if (n < size) n += (size_t)snprintf(buf + n, size - n, "}");
    }
    if (n < size) snprintf(buf + n, size - n, "]");
    return buf;
}

static void copy_metrics(fora__copy_buf_t *b, const fora__run_ctx_t *ctx, const eval_row_t *e,
                         const char *view, const fora_link_metrics_t *m, int v)
{
    fora__copy_int(b, ctx->run_id);
    static const char *const protocol[] = {"episodes", "sybils", "episodes_balanced"};
    fora__copy_text(b, protocol[e->protocol]);
    fora__copy_int(b, e->len);
    fora__copy_text(b, view);
    fora__copy_int(b, e->rows);
    fora__copy_int(b, e->have ? e->ev.queries : 0);
    fora__copy_int(b, e->have ? e->ev.candidates : (e->rows > 0 ? e->rows - 1 : 0));
    if (m) {
        fora__copy_double(b, m->mrr);
        fora__copy_double(b, m->recall10);
        fora__copy_double(b, m->mean_rank);
        fora__copy_null(b);
    } else {
        fora__copy_null(b);
        fora__copy_null(b);
        fora__copy_null(b);
        fora__copy_text(b, e->reason);
    }
    if (m && v >= 0) {
        char w[512];
        fora__copy_text(b, e->ev.fitted ? "t" : "f");
        fora__copy_text(b, weights_text(&e->ev, v, w, sizeof w));
    } else {
        fora__copy_null(b);
        fora__copy_null(b);
    }
    fora__copy_end_row(b);
}

static fora_err_t store(const fora__run_ctx_t *ctx, void *state, fora_diag_t *diag)
{
    link_state_t *st = state;
    const fora_snapshot_t *s = ctx->snap;
    fora__copy_buf_t b = {0};
    fora_err_t err;
    if (st == NULL) return FORA_OK;

    for (int i = 0; i < st->neval; i++) {
        const eval_row_t *e = &st->eval[i];
        if (!e->have) {
            copy_metrics(&b, ctx, e, "both", NULL, -1);
            continue;
        }
        for (int v = 0; v < FORA_LINK_NVIEWS; v++)
            copy_metrics(&b, ctx, e, fora_link_view_names[v], &e->ev.view[v], v);
        copy_metrics(&b, ctx, e, "random", &e->ev.random, -1);
    }
    err = fora__copy_send(ctx->conn,
                          "COPY run_link_eval (run_id, protocol, episode_len, view, rows, queries,"
                          " candidates, mrr, recall_at_10, mean_rank, reason, fitted, weights)"
                          " FROM STDIN",
                          &b, diag);
    if (err != FORA_OK) goto out;

    const fora_link_fp_t *fp = st->fp;
    const fora_link_view_t both = fora_link_view_get(FORA_LINK_VIEW_BOTH);
    for (int32_t r = 0; r < fp->n; r++) {
        for (int j = 0; j < LINK_K; j++) {
            int32_t o = st->idx[(size_t)r * LINK_K + j];
            if (o < 0) break;
            double total, comp[FORA_LINK_NCOMP];
            fora_link_pair(fp, r, o, &both, &total, comp);
            fora__copy_int(&b, ctx->run_id);
            fora__copy_int(&b, s->members.id[fp->member[r]]);
            fora__copy_int(&b, j + 1);
            fora__copy_int(&b, s->members.id[fp->member[o]]);
            fora__copy_double(&b, total);
            for (int c = 0; c < FORA_LINK_NCOMP; c++)
                fora__copy_double(&b, comp[c]);
            fora__copy_end_row(&b);
        }
        if (b.len > ((size_t)8 << 20) &&
            (err = fora__copy_send(ctx->conn,
                                   "COPY run_link_similar (run_id, member_id, rank, other_id,"
                                   " similarity, hour_of_week, gaps, session, embedding, category)"
                                   " FROM STDIN",
                                   &b, diag)) != FORA_OK)
            goto out;
    }
    if (b.len > 0 &&
        (err = fora__copy_send(ctx->conn,
                               "COPY run_link_similar (run_id, member_id, rank, other_id,"
                               " similarity, hour_of_week, gaps, session, embedding, category)"
                               " FROM STDIN",
                               &b, diag)) != FORA_OK)
        goto out;
    for (int32_t i = 0; i < fp->nskipped; i++) {
        fora__copy_int(&b, ctx->run_id);
        fora__copy_int(&b, s->members.id[fp->skipped[i]]);
        fora__copy_text(&b, fora_link_skip_reason(fp->skip_reason[i]));
        fora__copy_end_row(&b);
    }
    if (b.len > 0)
        err = fora__copy_send(
            ctx->conn, "COPY run_link_skipped (run_id, member_id, reason) FROM STDIN", &b, diag);
out:
    fora__copy_free(&b);
    return err;
}

const fora__run_step_t fora__run_step_linking = {"linking", params, compute, store, destroy};
