/*
 * server/run_keyplayers.c - the "keyplayers" step: per-member centrality,
 * composite rank, key-player sets, role validation, disruption curves,
 * communities, thread statistics and concentration (issue 3), stored in the
 * tables of migrations/0003_keyplayers.sql.
 *
 * Computing is analysis/ (centrality.c, keyplayer.c, disruption.c,
 * forumstats.c, projection.c); this file only sequences the calls and turns
 * their arrays into COPY rows and one JSON document.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fora/centrality.h"
#include "fora/disruption.h"
#include "fora/forumstats.h"
#include "fora/keyplayer.h"
#include "fora/projection.h"
#include "recompute_internal.h"

typedef struct kp_state {
    fora_netgraph_t g;
    bool have_g;
    fora_centrality_t c;
    fora_composite_t comp;
    fora_kpp_t neg, pos;
    fora_validation_t val;
    fora_disruption_t dis;
    fora_communities_t comm;
    fora_thread_stats_t ts;
    fora_concentration_t conc;
    fora_projection_info_t proj;
    int64_t proj_edges;
} kp_state_t;

static void destroy(void *p)
{
    kp_state_t *st = p;
    if (st == NULL) return;
    if (st->have_g) fora_netgraph_destroy(&st->g);
    fora_centrality_destroy(&st->c);
    fora_composite_destroy(&st->comp);
    fora_kpp_destroy(&st->neg);
    fora_kpp_destroy(&st->pos);
    fora_disruption_destroy(&st->dis);
    fora_communities_destroy(&st->comm);
    fora_thread_stats_destroy(&st->ts);
    fora_concentration_destroy(&st->conc);
    free(st);
}

/* The centrality options of a run: its graph window and seed, the rest as configured. */
static void centrality_opts(const fora_recompute_opts_t *o, fora_centrality_opts_t *co)
{
    *co = o->kp.centrality;
    co->graph = o->graph;
    co->seed = o->seed;
}

static json_t *jreal(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static void params(const fora_recompute_opts_t *o, json_t *obj)
{
    fora_centrality_opts_t co;
    centrality_opts(o, &co);
    json_t *w = json_object();
    for (int m = 0; m < FORA_METRIC_COUNT; m++)
        if (o->kp.weights.w[m] > 0)
            json_object_set_new(w, fora_metric_name((fora_metric_t)m),
                                json_real(o->kp.weights.w[m]));
    json_object_set_new(
        obj, "keyplayers",
        json_pack("{s:f, s:i, s:i, s:f, s:f, s:o, s:{s:i, s:i, s:i, s:i, s:b}, s:{s:f, s:i},"
                  " s:s, s:i, s:i}",
                  "damping", co.damping, "exact_max", (int)co.exact_max, "samples", (int)co.samples,
                  "delta", co.delta, "resolution", co.resolution, "weights", w, "kpp", "k",
                  (int)o->kp.kpp.k, "swap_passes", (int)o->kp.kpp.max_swap_passes, "d",
                  (int)o->kp.kpp.d, "candidates", (int)o->kp.kpp.candidates, "distance_weighted",
                  o->kp.kpp.distance_weighted, "disruption", "max_fraction",
                  o->kp.disruption.max_fraction, "repetitions", (int)o->kp.disruption.repetitions,
                  "staff_labels", o->kp.staff_labels ? o->kp.staff_labels : FORA_STAFF_LABELS,
                  "max_thread_members", (int)o->kp.max_thread_members, "lorenz_points",
                  (int)o->kp.lorenz_points));
}

static fora_err_t compute(const fora__run_ctx_t *ctx, void **state, fora_diag_t *diag)
{
    const fora_snapshot_t *s = ctx->snap;
    const fora_recompute_opts_t *o = ctx->opts;
    kp_state_t *st = fora_xcalloc(1, sizeof(*st));
    fora_centrality_opts_t co;
    fora_kpp_opts_t ko = o->kp.kpp;
    fora_disruption_opts_t dopt = o->kp.disruption;
    bool *staff = NULL;
    fora_err_t err;

    centrality_opts(o, &co);
    ko.seed = o->seed;
    dopt.seed = o->seed;
    if ((err = fora_centrality_compute(s, &co, &st->c, diag)) != FORA_OK) goto out;
    if ((err = fora_netgraph_build(s, &o->graph, &st->g, diag)) != FORA_OK) goto out;
    st->have_g = true;
    if ((err = fora_composite_rank(&st->c, &o->kp.weights, &st->comp, diag)) != FORA_OK) goto out;
    if ((err = fora_kpp_neg(&st->g, &ko, &st->neg, diag)) != FORA_OK) goto out;
    if ((err = fora_kpp_pos(&st->g, &ko, &st->pos, diag)) != FORA_OK) goto out;
    staff = fora_xcalloc(s->members.n > 0 ? (size_t)s->members.n : 1, sizeof(*staff));
    (void)fora_staff_labels(s, o->kp.staff_labels, staff);
    if ((err = fora_validate_roles(&st->c, &st->comp, staff, 0, &st->val, diag)) != FORA_OK)
        goto out;
    if ((err = fora_disruption_run(&st->g, &st->c, &st->comp, &st->neg, NULL, 0, &dopt, &st->dis,
                                   diag)) != FORA_OK)
        goto out;
    if ((err = fora_communities_summarise(&st->g, &st->c, 10, &st->comm, diag)) != FORA_OK)
        goto out;
    if ((err = fora_thread_stats(s, &o->graph, &st->ts, diag)) != FORA_OK) goto out;
    if ((err = fora_concentration(s, &o->graph, o->kp.lorenz_points, &st->conc, diag)) != FORA_OK)
        goto out;
    /* only the summary is reported: count it without building the ~10 M edge graph */
    if ((err = fora_coparticipation_count(s, &o->graph, o->kp.max_thread_members, &st->proj,
                                          &st->proj_edges, diag)) != FORA_OK)
        goto out;

out:
    free(staff);
    if (err != FORA_OK) {
        destroy(st);
        return err;
    }
    *state = st;
    return FORA_OK;
}

/* ---- storing -------------------------------------------------------------------- */

static fora_err_t store_members(const fora__run_ctx_t *ctx, const kp_state_t *st, fora_diag_t *diag)
{
    const fora_snapshot_t *s = ctx->snap;
    const fora_centrality_t *c = &st->c;
    fora__copy_buf_t b = {0};
    fora_err_t err = FORA_OK;
    char pct[64 * FORA_METRIC_COUNT];

    for (int32_t i = 0; i < c->n; i++) {
        if (c->posts[i] == 0 && !c->in_network[i]) continue;
        fora__copy_int(&b, ctx->run_id);
        fora__copy_int(&b, s->members.id[i]);
        fora__copy_int(&b, c->posts[i]);
        fora__copy_int(&b, c->threads_started[i]);
        fora__copy_int(&b, c->threads[i]);
        fora__copy_int(&b, c->boards[i]);
        fora__copy_raw(&b, c->in_network[i] ? "t" : "f");
        fora__copy_int(&b, c->in_degree[i]);
        fora__copy_int(&b, c->out_degree[i]);
        fora__copy_double(&b, c->in_strength[i]);
        fora__copy_double(&b, c->out_strength[i]);
        fora__copy_double(&b, c->pagerank[i]);
        fora__copy_double(&b, c->betweenness[i]);
        fora__copy_double(&b, c->betweenness_norm[i]);
        fora__copy_double(&b, c->closeness[i]);
        fora__copy_double(&b, c->closeness_wf[i]);
        fora__copy_double(&b, c->harmonic[i]);
        fora__copy_double(&b, c->eigenvector[i]);
        fora__copy_int(&b, c->coreness[i]);
        fora__copy_double(&b, c->constraint[i]); /* NAN -> NULL */
        fora__copy_double(&b, c->effective_size[i]);
        fora__copy_double(&b, c->clustering[i]);
        if (c->community[i] >= 0)
            fora__copy_int(&b, c->community[i]);
        else
            fora__copy_null(&b);
        if (c->component[i] >= 0)
            fora__copy_int(&b, c->component[i]);
        else
            fora__copy_null(&b);
        fora__copy_double(&b, st->comp.score[i]);
        fora__copy_int(&b, st->comp.rank[i]);
        size_t n = 0;
        pct[n++] = '{';
        for (int m = 0; m < FORA_METRIC_COUNT; m++) {
            if (st->comp.pct[m] == NULL) continue;
            n += (size_t)snprintf(pct + n, sizeof(pct) - n, "%s\"%s\": %.6f", n > 1 ? ", " : "",
                                  fora_metric_name((fora_metric_t)m), st->comp.pct[m][i]);
        }
        snprintf(pct + n, sizeof(pct) - n, "}");
        fora__copy_raw(&b, pct);
        fora__copy_end_row(&b);
    }
    if (b.len > 0)
        err = fora__copy_send(ctx->conn,
                              "COPY run_member_metrics (run_id, member_id, posts, threads_started,"
                              " threads, boards, in_network, in_degree, out_degree, in_strength,"
                              " out_strength, pagerank, betweenness, betweenness_norm, closeness,"
                              " closeness_wf, harmonic, eigenvector, coreness, burt_constraint,"
                              " effective_size, clustering, community, component,"
                              " composite_score, composite_rank, composite_pct) FROM STDIN",
                              &b, diag);
    fora__copy_free(&b);
    return err;
}

/* Writes "{id,id,...}" of the member ids of idx[0..n) into b as one value. */
static void copy_member_array(fora__copy_buf_t *b, const fora_snapshot_t *s, const int32_t *idx,
                              int32_t n)
{
    size_t cap = 2 + (size_t)n * 21, len = 0;
    char *t = fora_xmalloc(cap + 1);
    t[len++] = '{';
    for (int32_t i = 0; i < n; i++)
        len += (size_t)snprintf(t + len, cap + 1 - len, "%s%lld", i ? "," : "",
                                (long long)s->members.id[idx[i]]);
    t[len++] = '}';
    t[len] = '\0';
    fora__copy_raw(b, t);
    free(t);
}

static fora_err_t store_sets(const fora__run_ctx_t *ctx, const kp_state_t *st, fora_diag_t *diag)
{
    fora__copy_buf_t b = {0};
    fora_err_t err = FORA_OK;
    const fora_kpp_t *sets[2] = {&st->neg, &st->pos};
    const char *names[2] = {"kpp_neg", "kpp_pos"};
    for (int k = 0; k < 2; k++)
        for (int32_t i = 0; i < sets[k]->k; i++) {
            fora__copy_int(&b, ctx->run_id);
            fora__copy_raw(&b, names[k]);
            fora__copy_int(&b, i + 1);
            fora__copy_int(&b, ctx->snap->members.id[sets[k]->members[i]]);
            fora__copy_double(&b, sets[k]->gain[i]);
            fora__copy_end_row(&b);
        }
    if (b.len > 0)
        err = fora__copy_send(ctx->conn,
                              "COPY run_keyplayer_sets (run_id, method, position, member_id, gain)"
                              " FROM STDIN",
                              &b, diag);
    fora__copy_free(&b);
    return err;
}

static void copy_sd(fora__copy_buf_t *b, const double *sd, int32_t j)
{
    if (sd)
        fora__copy_double(b, sd[j]);
    else
        fora__copy_null(b);
}

static fora_err_t store_disruption(const fora__run_ctx_t *ctx, const kp_state_t *st,
                                   fora_diag_t *diag)
{
    const fora_disruption_t *d = &st->dis;
    fora__copy_buf_t b = {0};
    fora_err_t err = FORA_OK;
    for (int32_t k = 0; k < d->n_curves; k++) {
        const fora_curve_t *cv = &d->curves[k];
        const char *name = fora_strategy_name(cv->strategy);
        for (int32_t j = 0; j < d->steps; j++) {
            fora__copy_int(&b, ctx->run_id);
            fora__copy_raw(&b, name);
            fora__copy_int(&b, j);
            fora__copy_int(&b, d->removed[j]);
            fora__copy_double(&b, cv->lcc_share[j]);
            fora__copy_double(&b, cv->components[j]);
            fora__copy_double(&b, cv->fragmentation[j]);
            fora__copy_double(&b, cv->lost_replies[j]);
            copy_sd(&b, cv->lcc_share_sd, j);
            copy_sd(&b, cv->components_sd, j);
            copy_sd(&b, cv->fragmentation_sd, j);
            copy_sd(&b, cv->lost_replies_sd, j);
            fora__copy_end_row(&b);
        }
    }
    if (b.len > 0 &&
        (err = fora__copy_send(ctx->conn,
                               "COPY run_disruption (run_id, strategy, step, removed, lcc_share,"
                               " components, fragmentation, lost_replies, lcc_share_sd,"
                               " components_sd, fragmentation_sd, lost_replies_sd) FROM STDIN",
                               &b, diag)) != FORA_OK)
        goto out;
    for (int32_t k = 0; k < d->n_curves; k++) {
        const fora_curve_t *cv = &d->curves[k];
        fora__copy_int(&b, ctx->run_id);
        fora__copy_raw(&b, fora_strategy_name(cv->strategy));
        fora__copy_int(&b, cv->repetitions);
        fora__copy_double(&b, cv->robustness);
        fora__copy_double(&b, cv->robustness_sd);
        copy_member_array(&b, ctx->snap, cv->order, cv->order ? d->max_removed : 0);
        fora__copy_end_row(&b);
    }
    if (b.len > 0)
        err = fora__copy_send(ctx->conn,
                              "COPY run_disruption_strategies (run_id, strategy, repetitions,"
                              " robustness, robustness_sd, first_removed) FROM STDIN",
                              &b, diag);
out:
    fora__copy_free(&b);
    return err;
}

static fora_err_t store_communities(const fora__run_ctx_t *ctx, const kp_state_t *st,
                                    fora_diag_t *diag)
{
    fora__copy_buf_t b = {0};
    fora_err_t err = FORA_OK;
    for (int32_t k = 0; k < st->comm.n; k++) {
        const fora_community_info_t *ci = &st->comm.items[k];
        fora__copy_int(&b, ctx->run_id);
        fora__copy_int(&b, k);
        fora__copy_int(&b, ci->size);
        fora__copy_double(&b, ci->internal);
        fora__copy_double(&b, ci->total);
        copy_member_array(&b, ctx->snap, ci->top, ci->n_top);
        fora__copy_end_row(&b);
    }
    if (b.len > 0)
        err = fora__copy_send(ctx->conn,
                              "COPY run_communities (run_id, community, size, internal, total,"
                              " top_members) FROM STDIN",
                              &b, diag);
    fora__copy_free(&b);
    return err;
}

static void copy_validation_row(fora__copy_buf_t *b, int64_t run, const char *name,
                                const fora_validation_row_t *r)
{
    fora__copy_int(b, run);
    fora__copy_raw(b, name);
    fora__copy_double(b, r->auc); /* NAN -> NULL */
    fora__copy_double(b, r->precision_k);
    fora__copy_int(b, r->hits_k);
    fora__copy_end_row(b);
}

static fora_err_t store_validation(const fora__run_ctx_t *ctx, const kp_state_t *st,
                                   fora_diag_t *diag)
{
    fora__copy_buf_t b = {0};
    for (int m = 0; m < FORA_METRIC_COUNT; m++)
        copy_validation_row(&b, ctx->run_id, fora_metric_name((fora_metric_t)m),
                            &st->val.metric[m]);
    copy_validation_row(&b, ctx->run_id, "composite", &st->val.composite);
    fora_err_t err = fora__copy_send(ctx->conn,
                                     "COPY run_role_validation (run_id, metric, auc, precision_k,"
                                     " hits_k) FROM STDIN",
                                     &b, diag);
    fora__copy_free(&b);
    return err;
}

static fora_err_t store_edges(const fora__run_ctx_t *ctx, const kp_state_t *st, fora_diag_t *diag)
{
    const fora_netgraph_t *g = &st->g;
    fora__copy_buf_t b = {0};
    fora_err_t err = FORA_OK;
    igraph_integer_t m = igraph_ecount(&g->r.graph);
    for (igraph_integer_t e = 0; e < m; e++) {
        fora__copy_int(&b, ctx->run_id);
        fora__copy_int(&b, ctx->snap->members.id[g->net_member[IGRAPH_FROM(&g->r.graph, e)]]);
        fora__copy_int(&b, ctx->snap->members.id[g->net_member[IGRAPH_TO(&g->r.graph, e)]]);
        fora__copy_double(&b, VECTOR(g->r.weight)[e]);
        fora__copy_end_row(&b);
    }
    if (b.len > 0)
        err = fora__copy_send(ctx->conn,
                              "COPY run_reply_edges (run_id, source_id, target_id, weight)"
                              " FROM STDIN",
                              &b, diag);
    fora__copy_free(&b);
    return err;
}

static json_t *kpp_json(const fora_kpp_t *k, bool neg)
{
    json_t *o = json_pack("{s:i, s:o, s:o, s:i, s:I}", "k", (int)k->k, "objective",
                          jreal(k->objective), "objective_base", jreal(k->objective_base), "swaps",
                          (int)k->swaps, "seed", (json_int_t)k->seed);
    if (neg) {
        json_object_set_new(o, "distance_weighted_fragmentation", jreal(k->dwf));
        json_object_set_new(o, "distance_weighted_fragmentation_base", jreal(k->dwf_base));
        json_object_set_new(o, "distance_weighted_sampled", json_boolean(k->dwf_sampled));
        json_object_set_new(o, "samples", json_integer(k->samples));
    }
    return o;
}

static json_t *doc_json(const fora__run_ctx_t *ctx, const kp_state_t *st)
{
    const fora_centrality_t *c = &st->c;
    const fora_recompute_opts_t *o = ctx->opts;
    json_t *weights = json_object(), *sizes = json_array(), *bins = json_array(),
           *lorenz = json_array();
    for (int m = 0; m < FORA_METRIC_COUNT; m++)
        if (st->comp.weights.w[m] > 0)
            json_object_set_new(weights, fora_metric_name((fora_metric_t)m),
                                json_real(st->comp.weights.w[m]));
    for (int32_t i = 0; i < st->ts.n_sizes; i++)
        json_array_append_new(sizes,
                              json_pack("{s:I, s:I}", "size", (json_int_t)st->ts.size_value[i],
                                        "threads", (json_int_t)st->ts.size_count[i]));
    for (int32_t i = 0; i < st->ts.n_bins; i++) {
        const fora_size_bin_t *bn = &st->ts.bins[i];
        json_array_append_new(bins, json_pack("{s:I, s:I, s:I, s:o, s:o}", "size_from",
                                              (json_int_t)bn->lo, "size_to", (json_int_t)bn->hi,
                                              "threads", (json_int_t)bn->threads, "mean_activity",
                                              jreal(bn->mean_activity), "median_activity",
                                              jreal(bn->median_activity)));
    }
    for (int32_t i = 0; i < st->conc.n_lorenz; i++)
        json_array_append_new(
            lorenz, json_pack("[o, o]", jreal(st->conc.lorenz_x[i]), jreal(st->conc.lorenz_y[i])));
    return json_pack(
        "{s:{s:i, s:i, s:I, s:I, s:I, s:o, s:b, s:i, s:o, s:o, s:o, s:i, s:o, s:o},"
        " s:{s:o}, s:{s:o, s:o}, s:{s:s, s:i, s:i, s:i},"
        " s:{s:i, s:i, s:i, s:o, s:i, s:I},"
        " s:{s:i, s:o, s:o, s:o},"
        " s:{s:i, s:I, s:o, s:o, s:o, s:o},"
        " s:{s:i, s:I, s:I, s:I, s:I}}",
        "network", "members", (int)c->n, "network_members", (int)c->n_network, "edges",
        (json_int_t)c->n_edges, "undirected_edges", (json_int_t)c->n_uedges, "seed",
        (json_int_t)c->seed, "damping", jreal(c->damping), "sampled", c->sampled, "samples",
        (int)c->samples, "delta", jreal(c->delta), "betweenness_error", jreal(c->betweenness_error),
        "harmonic_error", jreal(c->harmonic_error), "communities", (int)c->n_communities,
        "modularity", jreal(c->modularity), "resolution", jreal(c->resolution),
        /* composite */
        "composite", "weights", weights,
        /* key-player sets */
        "kpp", "kpp_neg", kpp_json(&st->neg, true), "kpp_pos", kpp_json(&st->pos, false),
        /* validation */
        "validation", "staff_labels", o->kp.staff_labels ? o->kp.staff_labels : FORA_STAFF_LABELS,
        "staff", (int)st->val.n_staff, "members", (int)st->val.n_members, "k", (int)st->val.k,
        /* disruption */
        "disruption", "network_members", (int)st->dis.n, "max_removed", (int)st->dis.max_removed,
        "steps", (int)st->dis.steps, "max_fraction", jreal(st->dis.opts.max_fraction),
        "repetitions", (int)st->dis.opts.repetitions, "seed", (json_int_t)st->dis.opts.seed,
        /* threads */
        "threads", "threads", (int)st->ts.n_threads, "spearman_size_activity",
        jreal(st->ts.spearman), "size_distribution", sizes, "size_bins", bins,
        /* concentration */
        "concentration", "active_members", (int)st->conc.n_active, "posts",
        (json_int_t)st->conc.posts, "gini", jreal(st->conc.gini), "top1_share",
        jreal(st->conc.top1_share), "top10_share", jreal(st->conc.top10_share), "lorenz", lorenz,
        /* co-participation projection */
        "coparticipation", "max_thread_members", (int)o->kp.max_thread_members, "threads_used",
        (json_int_t)st->proj.threads_used, "threads_skipped", (json_int_t)st->proj.threads_skipped,
        "pairs", (json_int_t)st->proj.pairs, "edges", (json_int_t)st->proj_edges);
}

static fora_err_t store(const fora__run_ctx_t *ctx, void *state, fora_diag_t *diag)
{
    const kp_state_t *st = state;
    fora_err_t err;
    if ((err = store_members(ctx, st, diag)) != FORA_OK ||
        (err = store_sets(ctx, st, diag)) != FORA_OK ||
        (err = store_disruption(ctx, st, diag)) != FORA_OK ||
        (err = store_communities(ctx, st, diag)) != FORA_OK ||
        (err = store_validation(ctx, st, diag)) != FORA_OK ||
        (err = store_edges(ctx, st, diag)) != FORA_OK)
        return err;
    json_t *doc = doc_json(ctx, st);
    char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(doc);
    if (text == NULL) return fora_diag_set(diag, FORA_ENOMEM, "building the key-player document");
    const char *p[] = {ctx->run, text};
    err = fora__run_exec(ctx->conn, "storing the key-player document",
                         "INSERT INTO run_keyplayer_doc (run_id, doc) VALUES ($1, $2::jsonb)", 2, p,
                         diag);
    free(text);
    return err;
}

const fora__run_step_t fora__run_step_keyplayers = {
    .name = "keyplayers", .params = params, .compute = compute, .store = store, .destroy = destroy};
