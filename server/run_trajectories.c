/*
 * server/run_trajectories.c - the "trajectories" step: group-based
 * trajectory models of members' monthly posts (fora/trajectories.h), stored
 * in the tables of migrations/0006_trajectories.sql and 0007_trajectories_more.sql.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fora/trajectories.h"
#include "recompute_internal.h"

static void traj_opts(const fora_recompute_opts_t *o, fora_traj_opts_t *to)
{
    *to = o->traj;
    to->seed = o->seed;
}

/* The options as JSON (the run's params and the analysis document). */
static json_t *opts_json(const fora_traj_opts_t *to)
{
    json_t *orders = json_null(), *labels = json_object();
    if (to->norders > 0) {
        orders = json_array();
        for (size_t j = 0; j < to->norders; j++)
            json_array_append_new(orders, json_integer(to->orders[j]));
    }
    for (size_t k = 0; k < to->nlabels; k++) {
        char key[16];
        snprintf(key, sizeof key, "%d", to->label_group[k]);
        json_object_set_new(labels, key, json_string(to->label_text[k]));
    }
    return json_pack("{s:s, s:s, s:s, s:i, s:i, s:o, s:i, s:i, s:i, s:f, s:b, s:o}", "period",
                     fora_traj_period_name(to->period), "time", fora_traj_time_name(to->time),
                     "model", fora_gbtm_model_name(to->model), "zero_order", to->zero_order,
                     "order", to->order, "orders", orders, "kmin", to->kmin, "kmax", to->kmax,
                     "starts", (int)to->starts, "min_share", to->min_share, "exposure",
                     to->exposure, "labels", labels);
}

static json_t *jreal(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static void params(const fora_recompute_opts_t *o, json_t *obj)
{
    fora_traj_opts_t to;
    traj_opts(o, &to);
    json_object_set_new(obj, "trajectories", opts_json(&to));
}

static fora_err_t compute(const fora__run_ctx_t *ctx, void **state, fora_diag_t *diag)
{
    fora_traj_opts_t to;
    traj_opts(ctx->opts, &to);
    const fora_snapshot_t *s = ctx->snap;
    bool any = false;
    for (int32_t p = 0; p < s->posts.n && !any; p++)
        any = s->posts.author[p] >= 0;
    if (!any) return FORA_OK; /* no posts by members: no trajectories, nothing stored */
    fora_traj_result_t *r = NULL;
    fora_err_t err = fora_traj_compute(s, &to, &r, diag);
    if (err) return err;
    *state = r;
    return FORA_OK;
}

static void destroy(void *state)
{
    fora_traj_result_destroy(state);
}

/* A JSON array of n doubles (not at risk under mask m, or not finite: null); free() it. */
static char *json_array_str(const double *v, const uint8_t *m, size_t n, bool integers)
{
    size_t need = n * 26 + 3;
    char *s = fora_xmalloc(need), *p = s;
    *p++ = '[';
    for (size_t i = 0; i < n; i++) {
        if (i) *p++ = ',';
        if ((m && !m[i]) || !isfinite(v[i]))
            p += snprintf(p, 8, "null");
        else if (integers)
            p += snprintf(p, 26, "%.0f", v[i]);
        else
            p += snprintf(p, 26, "%.17g", v[i]);
    }
    *p++ = ']';
    *p = '\0';
    return s;
}

static void json_array_text(fora__copy_buf_t *b, const double *v, const uint8_t *m, size_t n,
                            bool integers)
{
    char *s = json_array_str(v, m, n, integers);
    fora__copy_raw(b, s);
    free(s);
}

static fora_err_t store_models(const fora__run_ctx_t *ctx, const fora_traj_result_t *r,
                               fora_diag_t *diag)
{
    fora__copy_buf_t b = {0};
    for (size_t q = 0; q < r->nmodels; q++) {
        const fora_traj_model_t *m = &r->models[q];
        fora__copy_int(&b, ctx->run_id);
        fora__copy_int(&b, (int64_t)m->K);
        fora__copy_raw(&b, m->fitted ? "t" : "f");
        fora__copy_raw(&b, m->eligible ? "t" : "f");
        fora__copy_raw(&b, q == r->selected ? "t" : "f");
        fora__copy_double(&b, m->loglik);
        fora__copy_double(&b, m->bic);
        fora__copy_double(&b, m->bic_cells);
        fora__copy_double(&b, m->aic);
        fora__copy_double(&b, m->entropy);
        if (m->fitted) {
            fora__copy_int(&b, (int64_t)m->npar);
            fora__copy_double(&b, m->min_pi);
            fora__copy_raw(&b, m->converged ? "t" : "f");
            fora__copy_int(&b, (int64_t)m->starts);
            fora__copy_int(&b, (int64_t)m->starts_at_best);
        } else {
            for (int k = 0; k < 5; k++)
                fora__copy_null(&b);
        }
        fora__copy_end_row(&b);
    }
    fora_err_t err =
        fora__copy_send(ctx->conn,
                        "COPY run_trajectory_models (run_id, k, fitted, eligible, selected,"
                        " loglik, bic, bic_cells, aic, entropy, npar, min_pi, converged, starts,"
                        " starts_at_best) FROM STDIN",
                        &b, diag);
    fora__copy_free(&b);
    return err;
}

static fora_err_t store_groups(const fora__run_ctx_t *ctx, const fora_traj_result_t *r,
                               fora_diag_t *diag)
{
    fora__copy_buf_t b = {0};
    fora_err_t err;
    size_t T = r->nperiods;
    for (size_t j = 0; j < r->fit->K; j++) {
        const fora_traj_group_t *g = &r->groups[j];
        const fora_gbtm_group_t *fg = &r->fit->groups[j];
        fora__copy_int(&b, ctx->run_id);
        fora__copy_int(&b, (int64_t)j + 1);
        fora__copy_text(&b, g->label);
        fora__copy_text(&b, g->rule_label);
        fora__copy_raw(&b, g->label_overridden ? "t" : "f");
        {
            /* {"category": share}: labels escaped by jansson, then for COPY */
            json_t *cs = json_object();
            for (size_t c = 0; c < r->ncategories; c++) {
                double v = r->category_share[j * r->ncategories + c];
                json_object_set_new(cs, fora_strpool_get(&ctx->snap->categories, (int32_t)c),
                                    isfinite(v) ? json_real(v) : json_null());
            }
            char *t = json_dumps(cs, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
            json_decref(cs);
            if (t == NULL) {
                fora__copy_free(&b);
                return fora_diag_set(diag, FORA_ENOMEM, "category shares");
            }
            fora__copy_text(&b, t);
            free(t);
        }
        if (fg->zero_coefs != NULL)
            json_array_text(&b, fg->zero_coefs, NULL, (size_t)fg->zero_order + 1, false);
        else if (r->fit->model == FORA_GBTM_ZIPTAU)
            json_array_text(&b, &fg->zero_coef, NULL, 1, false);
        else
            fora__copy_null(&b);
        fora__copy_int(&b, (int64_t)g->size);
        fora__copy_double(&b, g->pi);
        fora__copy_double(&b, fg->pi_se);
        fora__copy_double(&b, g->avepp);
        fora__copy_double(&b, g->occ);
        fora__copy_double(&b, g->mean_onset);
        fora__copy_double(&b, g->mean_duration);
        fora__copy_double(&b, g->mean_posts);
        fora__copy_double(&b, g->rate);
        fora__copy_double(&b, g->first_week_share);
        fora__copy_double(&b, g->staff_share);
        fora__copy_double(&b, g->slope);
        fora__copy_text(&b, fora_traj_trend_name(g->trend));
        json_array_text(&b, fg->coef, NULL, (size_t)fg->order + 1, false);
        /* the curve: three arrays in one object */
        char *l = json_array_str(fg->lambda, NULL, T, false),
             *lo = json_array_str(fg->lower, NULL, T, false),
             *hi = json_array_str(fg->upper, NULL, T, false);
        size_t need = strlen(l) + strlen(lo) + strlen(hi) + 48;
        char *c = fora_xmalloc(need);
        snprintf(c, need, "{\"lambda\":%s,\"lower\":%s,\"upper\":%s}", l, lo, hi);
        fora__copy_raw(&b, c);
        free(c);
        free(l);
        free(lo);
        free(hi);
        fora__copy_end_row(&b);
    }
    err = fora__copy_send(ctx->conn,
                          "COPY run_trajectory_groups (run_id, grp, label, rule_label,"
                          " label_overridden, category_shares, zero_coef, size, pi, pi_se, avepp,"
                          " occ, mean_onset, mean_duration, mean_posts, rate, first_week_share,"
                          " staff_share, slope, trend, coef, curve) FROM STDIN",
                          &b, diag);
    fora__copy_free(&b);
    return err;
}

static fora_err_t store_members(const fora__run_ctx_t *ctx, const fora_traj_result_t *r,
                                fora_diag_t *diag)
{
    fora__copy_buf_t b = {0};
    fora_err_t err = FORA_OK;
    size_t T = r->nperiods, K = r->fit->K;
    for (size_t i = 0; i < r->nmembers; i++) {
        const fora_traj_member_t *m = &r->members[i];
        fora__copy_int(&b, ctx->run_id);
        fora__copy_int(&b, ctx->snap->members.id[m->member]);
        fora__copy_int(&b, m->group + 1);
        fora__copy_double(&b, m->posterior);
        json_array_text(&b, r->fit->posterior + i * K, NULL, K, false);
        fora__copy_int(&b, m->onset);
        fora__copy_int(&b, m->last);
        fora__copy_int(&b, m->at_risk_from);
        fora__copy_int(&b, m->posts);
        fora__copy_raw(&b, m->first_week ? "t" : "f");
        fora__copy_raw(&b, m->trend_defined ? "t" : "f");
        fora__copy_double(&b, m->slope);
        fora__copy_double(&b, m->slope_lo);
        fora__copy_double(&b, m->slope_hi);
        fora__copy_raw(&b, m->escalating ? "t" : "f");
        json_array_text(&b, r->counts + i * T, r->at_risk + i * T, T, true);
        {
            const uint8_t *mk = r->at_risk + i * T;
            size_t a = 0, z = T;
            while (a < T && !mk[a])
                a++;
            while (z > 0 && !mk[z - 1])
                z--;
            fora__copy_double(&b, a < T ? r->exposure[i * T + a] : NAN);
            fora__copy_double(&b, z > 0 ? r->exposure[i * T + z - 1] : NAN);
        }
        fora__copy_end_row(&b);
        if (b.len > (8u << 20) || i + 1 == r->nmembers) {
            err = fora__copy_send(ctx->conn,
                                  "COPY run_trajectory_members (run_id, member_id, grp, posterior,"
                                  " posteriors, onset, last_month, at_risk_from, posts, first_week,"
                                  " trend_defined, slope, slope_lo, slope_hi, escalating, counts,"
                                  " exposure_first, exposure_last) FROM STDIN",
                                  &b, diag);
            if (err) break;
        }
    }
    fora__copy_free(&b);
    return err;
}

/* The mean centrality of each group's members, from the keyplayers rows of the same run
 * (stored before this step in the same transaction); NULL when keyplayers did not run.  Needs
 * the group and member rows. */
static fora_err_t store_centrality(const fora__run_ctx_t *ctx, fora_diag_t *diag)
{
    const char *p[] = {ctx->run};
    return fora__run_exec(
        ctx->conn, "the groups' mean centrality",
        "UPDATE run_trajectory_groups g SET centrality = c.doc FROM"
        " (SELECT x.grp, json_build_object('members', count(*), 'pagerank', avg(k.pagerank),"
        "   'betweenness', avg(k.betweenness), 'degree', avg(k.in_degree + k.out_degree),"
        "   'in_network_share', avg(k.in_network::int)) AS doc"
        "  FROM run_trajectory_members x JOIN run_member_metrics k"
        "   ON k.run_id = x.run_id AND k.member_id = x.member_id"
        "  WHERE x.run_id = $1::bigint GROUP BY x.grp) c"
        " WHERE g.run_id = $1::bigint AND g.grp = c.grp",
        1, p, diag);
}

static json_t *doc_json(const fora_traj_result_t *r, const fora_traj_opts_t *to)
{
    char first[16], start[16];
    snprintf(first, sizeof first, "%04lld-%02lld", (long long)(r->first_month / 12),
             (long long)(r->first_month % 12 + 1));
    /* the date period 0 starts (UTC; periods start at midnight) */
    int64_t mo = fora_traj_month_of(r->first_period_start);
    int64_t day = (r->first_period_start - fora_traj_period_start(FORA_TRAJ_MONTH, mo)) / 86400;
    snprintf(start, sizeof start, "%04lld-%02lld-%02lld", (long long)(mo / 12),
             (long long)(mo % 12 + 1), (long long)day + 1);
    const fora_traj_model_t *sel = &r->models[r->selected];
    json_t *doc = json_pack(
        "{s:s, s:s, s:i, s:i, s:i, s:i, s:f, s:I, s:s, s:I, s:I, s:I, s:I, s:o, s:o, s:b, s:I,"
        " s:I, s:I, s:b}",
        "time", fora_traj_time_name(r->time), "model", fora_gbtm_model_name(to->model), "order",
        to->order, "kmin", to->kmin, "kmax", to->kmax, "starts", (int)to->starts, "min_share",
        to->min_share, "seed", (json_int_t)to->seed, "first_month", first, "periods",
        (json_int_t)r->nperiods, "members", (json_int_t)r->nmembers, "nonposting",
        (json_int_t)r->nonposting, "selected_k", (json_int_t)sel->K, "loglik", jreal(sel->loglik),
        "bic", jreal(sel->bic), "se_defined", r->fit->se_defined, "npatterns",
        (json_int_t)r->fit->npatterns, "cells", (json_int_t)r->fit->ncells, "boundary",
        (json_int_t)r->fit->boundary, "converged", r->fit->converged);
    if (doc == NULL) return NULL;
    json_t *o = opts_json(to);
    json_object_set_new(doc, "period", json_string(fora_traj_period_name(r->period)));
    json_object_set_new(doc, "first_period_start", json_string(start));
    json_object_set_new(doc, "exposure", json_boolean(to->exposure));
    json_object_set_new(doc, "zero_order", json_integer(to->zero_order));
    json_object_set_new(doc, "orders", json_incref(json_object_get(o, "orders")));
    json_object_set_new(doc, "labels", json_incref(json_object_get(o, "labels")));
    json_object_set_new(doc, "labels_ignored", json_integer((json_int_t)r->labels_ignored));
    json_decref(o);
    return doc;
}

static fora_err_t store(const fora__run_ctx_t *ctx, void *state, fora_diag_t *diag)
{
    const fora_traj_result_t *r = state;
    if (r == NULL) return FORA_OK;
    fora_traj_opts_t to;
    traj_opts(ctx->opts, &to);
    fora_err_t err;
    if ((err = store_models(ctx, r, diag)) != FORA_OK ||
        (err = store_groups(ctx, r, diag)) != FORA_OK ||
        (err = store_members(ctx, r, diag)) != FORA_OK ||
        (err = store_centrality(ctx, diag)) != FORA_OK)
        return err;
    json_t *doc = doc_json(r, &to);
    char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(doc);
    if (text == NULL) return fora_diag_set(diag, FORA_ENOMEM, "building the trajectories document");
    const char *p[] = {ctx->run, text};
    err = fora__run_exec(ctx->conn, "storing the trajectories document",
                         "INSERT INTO run_trajectory_doc (run_id, doc) VALUES ($1, $2::jsonb)", 2,
                         p, diag);
    free(text);
    return err;
}

const fora__run_step_t fora__run_step_trajectories = {.name = "trajectories",
                                                      .params = params,
                                                      .compute = compute,
                                                      .store = store,
                                                      .destroy = destroy};
