/*
 * analysis/disruption.c - removal curves by strategy (fora/disruption.h).
 */
#include "fora/disruption.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kp_internal.h"

static const char *const strategy_names[FORA_STRATEGY_COUNT] = {
    "degree", "pagerank", "betweenness", "betweenness_recomputed", "composite", "kpp_neg", "random",
};

const char *fora_strategy_name(fora_strategy_t st)
{
    return (st >= 0 && st < FORA_STRATEGY_COUNT) ? strategy_names[st] : "unknown";
}

fora_err_t fora_strategy_parse(const char *name, fora_strategy_t *out, fora_diag_t *diag)
{
    for (int i = 0; i < FORA_STRATEGY_COUNT; i++)
        if (name && strcmp(name, strategy_names[i]) == 0) {
            *out = (fora_strategy_t)i;
            return FORA_OK;
        }
    return fora_diag_set(diag, FORA_EINVAL,
                         "unknown strategy \"%s\" (accepted: degree, pagerank, betweenness, "
                         "betweenness_recomputed, composite, kpp_neg, random)",
                         name ? name : "");
}

void fora_disruption_opts_init(fora_disruption_opts_t *o)
{
    fora_disruption_opts_t d = FORA_DISRUPTION_OPTS_INIT;
    *o = d;
}

static void curve_free(fora_curve_t *c)
{
    free(c->lcc_share);
    free(c->components);
    free(c->fragmentation);
    free(c->lost_replies);
    free(c->lcc_share_sd);
    free(c->components_sd);
    free(c->fragmentation_sd);
    free(c->lost_replies_sd);
    free(c->order);
    memset(c, 0, sizeof(*c));
}

void fora_disruption_destroy(fora_disruption_t *d)
{
    for (int i = 0; i < FORA_STRATEGY_COUNT; i++)
        curve_free(&d->curves[i]);
    free(d->removed);
    memset(d, 0, sizeof(*d));
}

/* The reverse pass over a full order of the n vertices. */
static fora_err_t curve_pass(const fora__csr_t *a, double total_w, const int32_t *order,
                             const int32_t *removed, int32_t steps, double *lcc_share,
                             double *components, double *fragmentation, double *lost_replies,
                             double *robustness, int32_t *parent, int32_t *size, bool *present)
{
    int32_t n = a->n;
    for (int32_t v = 0; v < n; v++) {
        parent[v] = v;
        size[v] = 1;
        present[v] = false;
    }
    int32_t ncomp = 0, lcc = 0, cnt = 0;
    double sum = 0, alive = 0, rsum = 0;
    int32_t gi = steps - 1;
#define RECORD(r)                                                                                  \
    do {                                                                                           \
        while (gi >= 0 && removed[gi] == (r)) {                                                    \
            int32_t left_ = n - (r);                                                               \
            lcc_share[gi] = n > 0 ? (double)lcc / n : 0;                                           \
            components[gi] = ncomp;                                                                \
            fragmentation[gi] = left_ < 2 ? 0 : 1.0 - sum / ((double)left_ * (left_ - 1));         \
            lost_replies[gi] = total_w > 0 ? 1.0 - alive / total_w : 0;                            \
            gi--;                                                                                  \
        }                                                                                          \
    } while (0)
    while (gi >= 0 && removed[gi] > n)
        gi--;
    RECORD(n);
    for (int32_t p = n - 1; p >= 0; p--) {
        int32_t v = order[p];
        present[v] = true;
        cnt++;
        ncomp++;
        if (lcc < 1) lcc = 1;
        for (int64_t q = a->off[v]; q < a->off[v + 1]; q++) {
            int32_t u = a->adj[q];
            if (!present[u] || u == v) continue;
            alive += a->w ? a->w[q] : 1.0;
            int32_t ra = fora__uf_find(parent, v), rb = fora__uf_find(parent, u);
            if (ra == rb) continue;
            if (size[ra] < size[rb]) {
                int32_t t = ra;
                ra = rb;
                rb = t;
            }
            sum += 2.0 * size[ra] * (double)size[rb];
            parent[rb] = ra;
            size[ra] += size[rb];
            ncomp--;
            if (size[ra] > lcc) lcc = size[ra];
        }
        /* lcc after removing the first p vertices; R sums r = 1..n */
        if (p >= 1) rsum += (double)lcc / n;
        RECORD(p);
    }
#undef RECORD
    if (robustness) *robustness = n > 0 ? rsum / n : 0;
    (void)cnt;
    return FORA_OK;
}

/* completes a prefix of distinct vertices into a full order (rest by index) */
static void complete_order(const int32_t *prefix, int32_t len, int32_t n, int32_t *full, bool *mark)
{
    for (int32_t v = 0; v < n; v++)
        mark[v] = false;
    int32_t q = 0;
    for (int32_t i = 0; i < len; i++) {
        full[q++] = prefix[i];
        mark[prefix[i]] = true;
    }
    for (int32_t v = 0; v < n; v++)
        if (!mark[v]) full[q++] = v;
}

fora_err_t fora_disruption_curve(const fora_netgraph_t *g, const int32_t *order, int32_t len,
                                 const int32_t *removed, int32_t steps, double *lcc_share,
                                 double *components, double *fragmentation, double *lost_replies,
                                 double *robustness, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    fora__csr_t a = {0};
    int32_t n = g->n;
    int32_t *full = malloc(sizeof(int32_t) * ((size_t)n + 1));
    int32_t *parent = malloc(sizeof(int32_t) * ((size_t)n + 1));
    int32_t *size = malloc(sizeof(int32_t) * ((size_t)n + 1));
    bool *present = malloc(sizeof(bool) * ((size_t)n + 1));
    if (!full || !parent || !size || !present) {
        err = fora_diag_set(diag, FORA_ENOMEM, "out of memory for a removal curve");
        goto out;
    }
    for (int32_t i = 0; i < len; i++)
        if (order[i] < 0 || order[i] >= n) {
            err = fora_diag_set(diag, FORA_EINVAL, "removal order entry %d is not a vertex", i);
            goto out;
        }
    if ((err = fora__csr_build(&g->u.graph, &g->u.weight, &a, diag)) != FORA_OK) goto out;
    complete_order(order, len, n, full, present);
    err = curve_pass(&a, g->total_replies, full, removed, steps, lcc_share, components,
                     fragmentation, lost_replies, robustness, parent, size, present);
out:
    fora__csr_destroy(&a);
    free(full);
    free(parent);
    free(size);
    free(present);
    return err;
}

/* ---------------------------------------------------------------------- */
/* orders                                                                   */
/* ---------------------------------------------------------------------- */

static fora_err_t order_by_member_key(const fora_netgraph_t *g, const double *member_key,
                                      int32_t *order, fora_diag_t *diag)
{
    int32_t n = g->n;
    double *key = malloc(sizeof(double) * ((size_t)n + 1));
    if (!key) return fora_diag_set(diag, FORA_ENOMEM, "out of memory ordering members");
    for (int32_t v = 0; v < n; v++)
        key[v] = member_key[g->net_member[v]];
    fora_err_t err = fora__order_desc(key, n, order, diag);
    free(key);
    return err;
}

/* betweenness of the remaining graph (removed vertices' edges dropped) */
static fora_err_t remaining_betweenness(const igraph_t *u, const fora__csr_t *a, const bool *gone,
                                        int32_t left, const fora_disruption_opts_t *o, double *bet,
                                        fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    int32_t n = (int32_t)igraph_vcount(u);
    if (left > o->exact_max && o->recompute_samples < left) {
        /* sampled: Brandes from k sources among the remaining members */
        int32_t k = o->recompute_samples;
        int32_t *alive = malloc(sizeof(int32_t) * ((size_t)left + 1));
        int32_t *pick = malloc(sizeof(int32_t) * ((size_t)k + 1));
        double *acc = calloc((size_t)n + 1, sizeof(double));
        if (!alive || !pick || !acc) {
            err = fora_diag_set(diag, FORA_ENOMEM, "out of memory sampling sources");
        } else {
            int32_t q = 0;
            for (int32_t v = 0; v < n; v++)
                if (!gone[v]) alive[q++] = v;
            err = fora__sample(left, k, pick, diag);
            for (int32_t i = 0; i < k && !err; i++)
                pick[i] = alive[pick[i]];
            if (!err) err = fora__brandes(a, gone, pick, k, acc, diag);
            for (int32_t v = 0; v < n && !err; v++)
                bet[v] = gone[v] ? -INFINITY : acc[v] * 0.5 * (double)left / k;
        }
        free(alive);
        free(pick);
        free(acc);
        return err;
    }
    igraph_vector_int_t edges;
    igraph_t h;
    igraph_vector_t res;
    bool have_e = false, have_h = false, have_r = false;
    if ((err = fora_err_from_igraph(igraph_vector_int_init(&edges, 0), diag, "edges"))) goto out;
    have_e = true;
    for (igraph_integer_t e = 0; e < igraph_ecount(u); e++) {
        igraph_integer_t x = IGRAPH_FROM(u, e), y = IGRAPH_TO(u, e);
        if (gone[x] || gone[y]) continue;
        if ((err = fora_err_from_igraph(igraph_vector_int_push_back(&edges, x), diag, "edges")) ||
            (err = fora_err_from_igraph(igraph_vector_int_push_back(&edges, y), diag, "edges")))
            goto out;
    }
    if ((err = fora_err_from_igraph(igraph_create(&h, &edges, n, IGRAPH_UNDIRECTED), diag,
                                    "remaining graph")))
        goto out;
    have_h = true;
    if ((err = fora_err_from_igraph(igraph_vector_init(&res, n), diag, "vector"))) goto out;
    have_r = true;
    if ((err = fora_err_from_igraph(igraph_betweenness(&h, &res, igraph_vss_all(), false, NULL),
                                    diag, "recomputed betweenness")))
        goto out;
    for (int32_t v = 0; v < n; v++)
        bet[v] = gone[v] ? -INFINITY : VECTOR(res)[v];
out:
    if (have_r) igraph_vector_destroy(&res);
    if (have_h) igraph_destroy(&h);
    if (have_e) igraph_vector_int_destroy(&edges);
    return err;
}

static fora_err_t order_recomputed(const fora_netgraph_t *g, const fora__csr_t *a,
                                   const fora_centrality_t *c, int32_t max_removed,
                                   const fora_disruption_opts_t *o, int32_t *order,
                                   fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    int32_t n = g->n;
    bool *gone = calloc((size_t)n + 1, sizeof(bool));
    double *bet = malloc(sizeof(double) * ((size_t)n + 1));
    int32_t *ord = malloc(sizeof(int32_t) * ((size_t)n + 1));
    if (!gone || !bet || !ord) {
        err = fora_diag_set(diag, FORA_ENOMEM, "out of memory for recomputed betweenness");
        goto out;
    }
    int32_t every = o->recompute_every;
    if (every <= 0) every = max_removed / 10 + (max_removed % 10 != 0);
    if (every < 1) every = 1;
    /* the first batch uses the run's betweenness (same sample as the metrics) */
    for (int32_t v = 0; v < n; v++)
        bet[v] = c->betweenness[g->net_member[v]];
    int32_t r = 0;
    igraph_rng_seed(igraph_rng_default(), o->seed);
    while (r < n) {
        if ((err = fora__order_desc(bet, n, ord, diag)) != FORA_OK) goto out;
        int32_t take = r < max_removed ? every : n - r;
        int32_t q = 0;
        for (int32_t i = 0; i < n && q < take && r < n; i++) {
            int32_t v = ord[i];
            if (gone[v]) continue;
            gone[v] = true;
            order[r++] = v;
            q++;
        }
        if (r >= max_removed || r >= n) {
            /* the rest in the last order */
            for (int32_t i = 0; i < n && r < n; i++)
                if (!gone[ord[i]]) {
                    gone[ord[i]] = true;
                    order[r++] = ord[i];
                }
            break;
        }
        if ((err = remaining_betweenness(&g->u.graph, a, gone, n - r, o, bet, diag))) goto out;
    }
out:
    free(gone);
    free(bet);
    free(ord);
    return err;
}

static void random_order(int32_t n, uint64_t seed, int32_t *order)
{
    uint64_t state = fora__mix64(seed ^ 0x5851f42d4c957f2dULL);
    for (int32_t v = 0; v < n; v++)
        order[v] = v;
    for (int32_t i = n - 1; i > 0; i--) {
        state = fora__mix64(state);
        int32_t j = (int32_t)(state % (uint64_t)(i + 1));
        int32_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

/* ---------------------------------------------------------------------- */
/* the run                                                                  */
/* ---------------------------------------------------------------------- */

static bool curve_alloc(fora_curve_t *cv, int32_t steps, bool sd)
{
    size_t k = (size_t)steps + 1;
    cv->lcc_share = calloc(k, sizeof(double));
    cv->components = calloc(k, sizeof(double));
    cv->fragmentation = calloc(k, sizeof(double));
    cv->lost_replies = calloc(k, sizeof(double));
    bool ok = cv->lcc_share && cv->components && cv->fragmentation && cv->lost_replies;
    if (sd) {
        cv->lcc_share_sd = calloc(k, sizeof(double));
        cv->components_sd = calloc(k, sizeof(double));
        cv->fragmentation_sd = calloc(k, sizeof(double));
        cv->lost_replies_sd = calloc(k, sizeof(double));
        ok = ok && cv->lcc_share_sd && cv->components_sd && cv->fragmentation_sd &&
             cv->lost_replies_sd;
    }
    return ok;
}

fora_err_t fora_disruption_run(const fora_netgraph_t *g, const fora_centrality_t *c,
                               const fora_composite_t *composite, const fora_kpp_t *kpp,
                               const fora_strategy_t *which, int32_t n_which,
                               const fora_disruption_opts_t *o, fora_disruption_t *out,
                               fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    fora_disruption_opts_t opts;
    fora__csr_t a = {0};
    int32_t *order = NULL, *parent = NULL, *size = NULL, *prefix = NULL;
    bool *present = NULL;
    double *key = NULL, *tmp[4] = {NULL, NULL, NULL, NULL};
    static const fora_strategy_t all[FORA_STRATEGY_COUNT] = {
        FORA_STRATEGY_DEGREE,      FORA_STRATEGY_PAGERANK,
        FORA_STRATEGY_BETWEENNESS, FORA_STRATEGY_BETWEENNESS_RECOMPUTED,
        FORA_STRATEGY_COMPOSITE,   FORA_STRATEGY_KPP_NEG,
        FORA_STRATEGY_RANDOM,
    };

    memset(out, 0, sizeof(*out));
    if (o)
        opts = *o;
    else
        fora_disruption_opts_init(&opts);
    if (!(opts.max_fraction > 0 && opts.max_fraction <= 1))
        return fora_diag_set(diag, FORA_EINVAL, "max_fraction must be in (0, 1], not %g",
                             opts.max_fraction);
    if (opts.repetitions < 1)
        return fora_diag_set(diag, FORA_EINVAL, "repetitions must be at least 1, not %d",
                             opts.repetitions);
    if (opts.exact_max < 1 || opts.recompute_samples < 1)
        return fora_diag_set(diag, FORA_EINVAL,
                             "exact_max and recompute_samples must be at least 1");
    if (!which) {
        which = all;
        n_which = FORA_STRATEGY_COUNT;
    }
    if (n_which < 0 || n_which > FORA_STRATEGY_COUNT)
        return fora_diag_set(diag, FORA_EINVAL, "bad number of strategies %d", n_which);
    for (int32_t i = 0; i < n_which; i++) {
        if (which[i] < 0 || which[i] >= FORA_STRATEGY_COUNT)
            return fora_diag_set(diag, FORA_EINVAL, "unknown strategy %d", (int)which[i]);
        for (int32_t j = 0; j < i; j++)
            if (which[j] == which[i])
                return fora_diag_set(diag, FORA_EINVAL, "strategy \"%s\" asked for twice",
                                     fora_strategy_name(which[i]));
        if (which[i] == FORA_STRATEGY_COMPOSITE && !composite)
            return fora_diag_set(diag, FORA_EINVAL,
                                 "the composite strategy needs a composite rank");
        if (which[i] == FORA_STRATEGY_KPP_NEG && !kpp)
            return fora_diag_set(diag, FORA_EINVAL, "the kpp_neg strategy needs a KPP-Neg set");
    }
    out->opts = opts;
    int32_t n = g->n;
    out->n = n;
    int32_t maxr = (int32_t)ceil(opts.max_fraction * n - 1e-9);
    if (maxr > n) maxr = n;
    if (maxr < 0) maxr = 0;
    out->max_removed = maxr;
    /* the grid */
    int32_t stride = maxr / 200 + (maxr % 200 != 0);
    if (stride < 1) stride = 1;
    out->removed = malloc(sizeof(int32_t) * ((size_t)maxr + 2));
    if (!out->removed) goto oom;
    int32_t steps = 0;
    for (int32_t r = 0; r <= maxr;) {
        out->removed[steps++] = r;
        if (r == maxr) break;
        r = r < 100 ? r + 1 : r + stride;
        if (r > maxr) r = maxr;
    }
    out->steps = steps;
    if (n == 0) goto out;

    if ((err = fora__csr_build(&g->u.graph, &g->u.weight, &a, diag)) != FORA_OK) goto out;
    order = malloc(sizeof(int32_t) * ((size_t)n + 1));
    prefix = malloc(sizeof(int32_t) * ((size_t)n + 1));
    parent = malloc(sizeof(int32_t) * ((size_t)n + 1));
    size = malloc(sizeof(int32_t) * ((size_t)n + 1));
    present = malloc(sizeof(bool) * ((size_t)n + 1));
    key = malloc(sizeof(double) * ((size_t)g->n_members + (size_t)n + 1));
    for (int i = 0; i < 4; i++)
        tmp[i] = malloc(sizeof(double) * ((size_t)steps + 1));
    if (!order || !prefix || !parent || !size || !present || !key || !tmp[0] || !tmp[1] ||
        !tmp[2] || !tmp[3])
        goto oom;

    for (int32_t wi = 0; wi < n_which; wi++) {
        fora_strategy_t st = which[wi];
        fora_curve_t *cv = &out->curves[out->n_curves++];
        cv->strategy = st;
        cv->repetitions = st == FORA_STRATEGY_RANDOM ? opts.repetitions : 1;
        if (!curve_alloc(cv, steps, st == FORA_STRATEGY_RANDOM)) goto oom;
        if (st == FORA_STRATEGY_RANDOM) {
            double rs = 0, rs2 = 0;
            for (int32_t rep = 0; rep < opts.repetitions; rep++) {
                double R;
                random_order(n, opts.seed + (uint64_t)rep, order);
                curve_pass(&a, g->total_replies, order, out->removed, steps, tmp[0], tmp[1], tmp[2],
                           tmp[3], &R, parent, size, present);
                rs += R;
                rs2 += R * R;
                for (int32_t s = 0; s < steps; s++) {
                    cv->lcc_share[s] += tmp[0][s];
                    cv->components[s] += tmp[1][s];
                    cv->fragmentation[s] += tmp[2][s];
                    cv->lost_replies[s] += tmp[3][s];
                    cv->lcc_share_sd[s] += tmp[0][s] * tmp[0][s];
                    cv->components_sd[s] += tmp[1][s] * tmp[1][s];
                    cv->fragmentation_sd[s] += tmp[2][s] * tmp[2][s];
                    cv->lost_replies_sd[s] += tmp[3][s] * tmp[3][s];
                }
            }
            double R = opts.repetitions;
#define MEANSD(m, sq)                                                                              \
    do {                                                                                           \
        double mu_ = (m) / R, var_ = R > 1 ? ((sq)-R * mu_ * mu_) / (R - 1) : 0;                   \
        (m) = mu_;                                                                                 \
        (sq) = var_ > 0 ? sqrt(var_) : 0;                                                          \
    } while (0)
            MEANSD(rs, rs2);
            cv->robustness = rs;
            cv->robustness_sd = rs2;
            for (int32_t s = 0; s < steps; s++) {
                MEANSD(cv->lcc_share[s], cv->lcc_share_sd[s]);
                MEANSD(cv->components[s], cv->components_sd[s]);
                MEANSD(cv->fragmentation[s], cv->fragmentation_sd[s]);
                MEANSD(cv->lost_replies[s], cv->lost_replies_sd[s]);
            }
#undef MEANSD
            continue;
        }
        switch (st) {
        case FORA_STRATEGY_DEGREE:
            for (int32_t v = 0; v < n; v++)
                key[v] = (double)(a.off[v + 1] - a.off[v]);
            err = fora__order_desc(key, n, order, diag);
            break;
        case FORA_STRATEGY_PAGERANK:
            err = order_by_member_key(g, c->pagerank, order, diag);
            break;
        case FORA_STRATEGY_BETWEENNESS:
            err = order_by_member_key(g, c->betweenness, order, diag);
            break;
        case FORA_STRATEGY_COMPOSITE:
            err = order_by_member_key(g, composite->score, order, diag);
            break;
        case FORA_STRATEGY_BETWEENNESS_RECOMPUTED:
            err = order_recomputed(g, &a, c, maxr, &opts, order, diag);
            break;
        case FORA_STRATEGY_KPP_NEG: {
            int32_t q = 0;
            for (int32_t i = 0; i < kpp->k; i++) {
                int32_t m = kpp->members[i];
                if (m >= 0 && m < g->n_members && g->member_net[m] >= 0)
                    prefix[q++] = g->member_net[m];
            }
            /* then by degree */
            for (int32_t v = 0; v < n; v++)
                key[v] = (double)(a.off[v + 1] - a.off[v]);
            int32_t *deg_order = order;
            if ((err = fora__order_desc(key, n, deg_order, diag))) break;
            for (int32_t v = 0; v < n; v++)
                present[v] = false;
            for (int32_t i = 0; i < q; i++)
                present[prefix[i]] = true;
            for (int32_t i = 0; i < n; i++)
                if (!present[deg_order[i]]) prefix[q++] = deg_order[i];
            memcpy(order, prefix, sizeof(int32_t) * (size_t)n);
            break;
        }
        default:
            break;
        }
        if (err) goto out;
        cv->order = malloc(sizeof(int32_t) * ((size_t)maxr + 1));
        if (!cv->order) goto oom;
        for (int32_t i = 0; i < maxr; i++)
            cv->order[i] = g->net_member[order[i]];
        curve_pass(&a, g->total_replies, order, out->removed, steps, cv->lcc_share, cv->components,
                   cv->fragmentation, cv->lost_replies, &cv->robustness, parent, size, present);
    }
    goto out;
oom:
    err = fora_diag_set(diag, FORA_ENOMEM, "out of memory for the disruption simulation");
out:
    fora__csr_destroy(&a);
    free(order);
    free(prefix);
    free(parent);
    free(size);
    free(present);
    free(key);
    for (int i = 0; i < 4; i++)
        free(tmp[i]);
    if (err) fora_disruption_destroy(out);
    return err;
}
