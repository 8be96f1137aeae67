/*
 * server/api_rhythms.c - routes of activity rhythms, longevity and
 * engagement (issue 5; api-docs/rhythms.md).
 *
 * Every route here is parameterised (zone, window, bin, split, horizons,
 * silence ...), so nothing is stored per run: each request takes the forum's
 * snapshot at its current data version from the shared cache
 * (snapshot_cache.h: loaded once per data version), builds the
 * zone table it needs, computes with analysis/rhythms.c or longevity.c and
 * answers.  Parameters are all validated before the database is touched.
 * None of this calls igraph, so it is safe on any HTTP thread.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "api_internal.h"
#include "snapshot_cache.h"
#include "fora/longevity.h"
#include "fora/rhythms.h"
#include "fora/survival.h"
#include "fora/tzmap_load.h"

#define MAX_HORIZONS 100

/* ---- JSON helpers ------------------------------------------------------------ */

/* A number, or null when undefined or not finite: never NaN in JSON. */
static json_t *jnum(bool defined, double v)
{
    return defined && isfinite(v) ? json_real(v) : json_null();
}

static json_t *jutc(int64_t t)
{
    if (t == FORA_TIME_NONE) return json_null();
    fora_local_civil_t c;
    fora_tzmap_civil(t, &c);
    char buf[48];
    snprintf(buf, sizeof(buf), "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)c.year, c.month,
             c.mday, c.hour, c.minute, c.second);
    return json_string(buf);
}

/* Local seconds as a wall-clock time without offset. */
static json_t *jlocal(int64_t L)
{
    fora_local_civil_t c;
    fora_tzmap_civil(L, &c);
    char buf[48];
    snprintf(buf, sizeof(buf), "%04lld-%02d-%02dT%02d:%02d:%02d", (long long)c.year, c.month,
             c.mday, c.hour, c.minute, c.second);
    return json_string(buf);
}

static json_t *jcounts(const int64_t *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_integer(v[i]));
    return a;
}

/* ---- shared parameters ---------------------------------------------------------- */

typedef struct common {
    char forum_id[32];
    const char *zone; /* NULL: the forum's */
    int64_t from, to;
} common_t;

static bool zone_param(fora__api_ctx_t *ctx, const char **zone)
{
    *zone = fora__api_param(ctx->req, "zone");
    if (*zone == NULL) return true;
    fora_diag_t d = FORA_DIAG_INIT;
    if (fora_tzmap_check_zone(*zone, &d) != FORA_OK) {
        fora__api_error(ctx->resp, FORA_EINVAL, d.msg, "zone");
        return false;
    }
    return true;
}

/* Times a window or a date may take: 1900-01-01 .. 2200-01-01 (the zone table spans them). */
#define TIME_MIN INT64_C(-2208988800)
#define TIME_MAX INT64_C(7258118400)

static bool time_param(fora__api_ctx_t *ctx, const char *key, int64_t *out)
{
    if (!fora__api_time_param(ctx, key, out)) return false;
    if (*out != FORA_TIME_NONE && (*out < TIME_MIN || *out > TIME_MAX)) {
        char msg[200];
        snprintf(msg, sizeof(msg), "parameter \"%s\" must be between 1900 and 2200", key);
        fora__api_error(ctx->resp, FORA_EINVAL, msg, key);
        return false;
    }
    return true;
}

static bool window_params(fora__api_ctx_t *ctx, common_t *c)
{
    if (!time_param(ctx, "from", &c->from)) return false;
    if (!time_param(ctx, "to", &c->to)) return false;
    if (c->from != FORA_TIME_NONE && c->to != FORA_TIME_NONE && c->from > c->to) {
        fora__api_error(ctx->resp, FORA_EINVAL, "parameter \"from\" is after \"to\"", "from");
        return false;
    }
    return true;
}

/* The span of every time in s, widened by the window and two days each side. */
static void span_of(const fora_snapshot_t *s, int64_t from, int64_t to, int64_t *t0, int64_t *t1)
{
    int64_t lo = INT64_MAX, hi = INT64_MIN;
#define SEE(t)                                                                                     \
    do {                                                                                           \
        int64_t t_ = (t);                                                                          \
        if (t_ != FORA_TIME_NONE) {                                                                \
            if (t_ < lo) lo = t_;                                                                  \
            if (t_ > hi) hi = t_;                                                                  \
        }                                                                                          \
    } while (0)
    if (s->posts.n > 0) {
        SEE(s->posts.created_at[0]);
        SEE(s->posts.created_at[s->posts.n - 1]);
    }
    if (s->events.n > 0) {
        SEE(s->events.at[0]);
        SEE(s->events.at[s->events.n - 1]);
    }
    for (int32_t m = 0; m < s->members.n; m++) {
        SEE(s->members.registered_at[m]);
        SEE(s->members.banned_at[m]);
    }
    for (int32_t t = 0; t < s->threads.n; t++)
        SEE(s->threads.created_at[t]);
    SEE(from);
    SEE(to);
#undef SEE
    if (lo > hi) lo = hi = 0;
    *t0 = lo - 2 * 86400;
    *t1 = hi + 2 * 86400;
}

/* Loads the snapshot and the zone table; false with the error answered. */
static bool load(fora__api_ctx_t *ctx, const common_t *c, fora_snapshot_t **s, fora_tzmap_t **tz)
{
    fora_diag_t d = FORA_DIAG_INIT;
    *s = NULL;
    *tz = NULL;
    if (fora__snapshot_acquire(ctx->conn, strtoll(c->forum_id, NULL, 10), s, &d) != FORA_OK) {
        fora__api_diag(ctx->resp, &d);
        return false;
    }
    int64_t t0, t1;
    span_of(*s, c->from, c->to, &t0, &t1);
    const char *zone = c->zone ? c->zone : (*s)->forum.timezone;
    if (fora_tzmap_load(zone, t0, t1, tz, &d) != FORA_OK) {
        fora__api_error(ctx->resp, d.code, d.msg, "zone");
        fora__snapshot_release(*s);
        *s = NULL;
        return false;
    }
    return true;
}

static json_t *head(const fora_snapshot_t *s, const fora_tzmap_t *tz)
{
    return json_pack("{s:s, s:I, s:s}", "forum", s->forum.name, "data_version",
                     (json_int_t)s->forum.data_version, "zone", tz ? tz->zone : "UTC");
}

/* ---- trajectory groups (issue 4) as a split ---------------------------------------- */

/*
 * The groups of a run's selected trajectory model as a per-member group
 * array over the snapshot's members: group g (0-based) is the run's group
 * g + 1, labelled "g+1" (the number, so that `group=` is unambiguous when
 * two groups carry the same rule label) and named by its rule label.
 * Members the run did not assign (no posts, or registered after the run)
 * are -1: they count in the totals only.
 */
typedef struct traj_groups {
    char run[24];
    int32_t n;
    int32_t *member_group; /* s->members.n entries */
    char **labels;         /* n: "1", "2", ... */
    char **names;          /* n: rule labels ("lurker", ...) */
} traj_groups_t;

static void traj_groups_free(traj_groups_t *tg)
{
    for (int32_t g = 0; g < tg->n; g++) {
        free(tg->labels[g]);
        free(tg->names[g]);
    }
    free(tg->labels);
    free(tg->names);
    free(tg->member_group);
    memset(tg, 0, sizeof(*tg));
}

/* Reads the groups of ?run= (or the latest run with trajectories); false with the error answered.
 */
static bool traj_groups_load(fora__api_ctx_t *ctx, const char *forum_id, const fora_snapshot_t *s,
                             traj_groups_t *tg)
{
    fora_diag_t d = FORA_DIAG_INIT;
    memset(tg, 0, sizeof(*tg));
    if (!fora__api_pick_run(ctx, forum_id, "trajectories", tg->run, sizeof(tg->run))) return false;
    const char *p[] = {tg->run};
    PGresult *res = PQexecParams(ctx->conn,
                                 "SELECT grp, label FROM run_trajectory_groups"
                                 " WHERE run_id = $1::bigint ORDER BY grp",
                                 FORA_NPARAMS(p), NULL, p, NULL, NULL, 0);
    if (fora_db_check(res, PGRES_TUPLES_OK, "reading the trajectory groups", &d) != FORA_OK)
        goto fail;
    int32_t k = (int32_t)PQntuples(res);
    tg->labels = fora_xcalloc((size_t)k + 1, sizeof(char *));
    tg->names = fora_xcalloc((size_t)k + 1, sizeof(char *));
    for (int32_t g = 0; g < k; g++) {
        if (atoi(PQgetvalue(res, g, 0)) != g + 1) {
            fora_diag_set(&d, FORA_ESCHEMA, "trajectory groups of run %s are not numbered 1..%d",
                          tg->run, (int)k);
            goto fail;
        }
        tg->labels[g] = fora_xstrdup(PQgetvalue(res, g, 0));
        tg->names[g] = fora_xstrdup(PQgetvalue(res, g, 1));
        tg->n = g + 1;
    }
    PQclear(res);
    res = PQexecParams(
        ctx->conn, "SELECT member_id, grp FROM run_trajectory_members WHERE run_id = $1::bigint",
        FORA_NPARAMS(p), NULL, p, NULL, NULL, 0);
    if (fora_db_check(res, PGRES_TUPLES_OK, "reading the trajectory members", &d) != FORA_OK)
        goto fail;
    size_t nm = s->members.n > 0 ? (size_t)s->members.n : 1;
    tg->member_group = fora_xmalloc(nm * sizeof(int32_t));
    for (int32_t m = 0; m < s->members.n; m++)
        tg->member_group[m] = -1;
    for (int i = 0, rows = PQntuples(res); i < rows; i++) {
        int32_t m = fora_idmap_get(&s->members.by_id, strtoll(PQgetvalue(res, i, 0), NULL, 10));
        int g = atoi(PQgetvalue(res, i, 1));
        if (m >= 0 && g >= 1 && g <= tg->n) tg->member_group[m] = g - 1;
    }
    PQclear(res);
    return true;
fail:
    PQclear(res);
    fora__api_diag(ctx->resp, &d);
    traj_groups_free(tg);
    return false;
}

/* "run" is read only with a trajectory split; false (400) otherwise. */
static bool run_needs_trajectory(fora__api_ctx_t *ctx, bool trajectory)
{
    if (trajectory || fora__api_param(ctx->req, "run") == NULL) return true;
    fora__api_error(ctx->resp, FORA_EINVAL,
                    "parameter \"run\" picks the run of the trajectory groups: it needs"
                    " split=trajectory (group_by=trajectory for survival)",
                    "run");
    return false;
}

/* Adds "name" (the rule label) to each group object of arr when tg has groups. */
static void name_groups(json_t *arr, const traj_groups_t *tg)
{
    if (tg->n == 0) return;
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        if (i < (size_t)tg->n) json_object_set_new(o, "name", json_string(tg->names[i]));
    }
}

static const char *const bin_values[] = {"hour", "day", "week", "month", NULL};
/* Index i is fora_split_t i ("trajectory" is FORA_SPLIT_GROUP over traj_groups_t). */
static const char *const split_values[] = {"none", "category", "status", "trajectory", NULL};
static const char *const measure_values[] = {"posts", "active_members", "new_members",
                                             "new_threads", NULL};
static const char *const new_member_values[] = {"first_post", "registration", NULL};

/* The index of group `label` in r, or -1 (answered 400) when absent.  NULL label: -2. */
static int32_t group_index(fora__api_ctx_t *ctx, const fora_series_t *r, const char *label)
{
    if (label == NULL) return -2;
    for (size_t g = 0; g < r->ngroups; g++)
        if (strcmp(r->group_labels[g], label) == 0) return (int32_t)g;
    char msg[300];
    snprintf(msg, sizeof(msg), "no group \"%.200s\" in split \"%s\"", label,
             split_values[r->split]);
    fora__api_error(ctx->resp, FORA_EINVAL, msg, "group");
    return -1;
}

/* ---- /activity/series ---------------------------------------------------------------- */

static void h_series(fora__api_ctx_t *ctx)
{
    static const char *const known[] = {"zone",        "from",   "to",    "bin",     "split",
                                        "measure",     "window", "align", "max_lag", "conf",
                                        "new_members", "group",  "value", "run",     NULL};
    static const char *const align_values[] = {"right", "center", NULL};
    static const char *const value_values[] = {"count", "share", NULL};
    common_t c = {0};
    int bin, split, measure, align, newm, value;
    long long window, max_lag;
    double conf;
    if (!fora__api_only_params(ctx, known) || !zone_param(ctx, &c.zone) ||
        !window_params(ctx, &c) ||
        !fora__api_enum_param(ctx, "bin", bin_values, FORA_BIN_WEEK, &bin) ||
        !fora__api_enum_param(ctx, "split", split_values, FORA_SPLIT_NONE, &split) ||
        !fora__api_enum_param(ctx, "measure", measure_values, FORA_MEASURE_POSTS, &measure) ||
        !fora__api_enum_param(ctx, "align", align_values, FORA_ALIGN_CENTER, &align) ||
        !fora__api_enum_param(ctx, "new_members", new_member_values, 0, &newm) ||
        !fora__api_enum_param(ctx, "value", value_values, 0, &value) ||
        !fora__api_int_param(ctx, "window", 5, 1, 10000, &window) ||
        !fora__api_int_param(ctx, "max_lag", 52, 1, 10000, &max_lag) ||
        !fora__api_double_param(ctx, "conf", 0.95, 0.5, 0.999999, &conf))
        return;
    if (align == FORA_ALIGN_CENTER && window % 2 == 0) {
        fora__api_error(ctx->resp, FORA_EINVAL,
                        "parameter \"window\" must be odd for a centred rolling mean", "window");
        return;
    }
    const char *glabel = fora__api_param(ctx->req, "group");
    if (glabel != NULL && split == FORA_SPLIT_NONE) {
        fora__api_error(ctx->resp, FORA_EINVAL, "parameter \"group\" needs a split", "group");
        return;
    }
    if (!run_needs_trajectory(ctx, split == FORA_SPLIT_GROUP)) return;
    if (value == 1 && glabel == NULL) {
        fora__api_error(ctx->resp, FORA_EINVAL, "parameter \"value\": a share needs a group",
                        "value");
        return;
    }
    if (!fora__api_resolve_forum(ctx, ctx->seg[0], c.forum_id, sizeof(c.forum_id))) return;
    fora_snapshot_t *s = NULL;
    fora_tzmap_t *tz = NULL;
    fora_series_t *r = NULL;
    fora_acf_t *acf = NULL;
    bool *use = NULL;
    double *packed = NULL;
    double *v = NULL, *rm = NULL;
    bool *def = NULL;
    traj_groups_t tg = {0};
    fora_diag_t d = FORA_DIAG_INIT;
    if (!load(ctx, &c, &s, &tz)) return;
    if (split == FORA_SPLIT_GROUP && !traj_groups_load(ctx, c.forum_id, s, &tg)) goto out;
    fora_series_opts_t so;
    fora_series_opts_init(&so);
    so.bin = (fora_bin_t)bin;
    so.split = (fora_split_t)split;
    so.member_group = tg.member_group;
    so.ngroups = tg.n;
    so.group_labels = (const char *const *)tg.labels;
    so.from = c.from;
    so.to = c.to;
    so.new_members = (fora_new_member_t)newm;
    if (fora_series_compute(s, tz, &so, &r, &d) != FORA_OK) {
        fora__api_diag(ctx->resp, &d);
        goto out;
    }
    int32_t g = group_index(ctx, r, glabel);
    if (g == -1) goto out;
    if (g < 0) g = -1;
    size_t n = r->nbins, na = n ? n : 1;
    v = fora_xmalloc(na * sizeof(double));
    rm = fora_xmalloc(na * sizeof(double));
    def = fora_xmalloc(na * sizeof(bool));
    use = fora_xmalloc(na * sizeof(bool));
    packed = fora_xmalloc(na * sizeof(double));
    fora_err_t ve = value == 1 ? fora_series_share_values(r, (fora_measure_t)measure, g, v, use, &d)
                               : fora_series_values(r, (fora_measure_t)measure, g, v, &d);
    if (ve != FORA_OK ||
        fora_rolling_mean(v, n, (size_t)window, (fora_align_t)align, rm, def, &d) != FORA_OK) {
        fora__api_error(ctx->resp, d.code, d.msg, "window");
        goto out;
    }
    size_t nu = 0; /* the defined values, in order (all of them for counts) */
    for (size_t b = 0; b < n; b++) {
        if (value == 0) use[b] = true;
        if (use[b]) packed[nu++] = v[b];
    }
    if (value == 1) {
        /* a rolling mean is defined only where every share in its window is */
        size_t back = align == FORA_ALIGN_CENTER ? (size_t)(window - 1) / 2 : (size_t)window - 1;
        for (size_t b = 0; b < n; b++)
            for (size_t k = 0; def[b] && k < (size_t)window; k++)
                if (!use[b - back + k]) def[b] = false;
    }
    fora_trend_t tr;
    if (fora_trend_fit(NULL, v, use, n, conf, &tr, &d) != FORA_OK ||
        fora_acf_compute(packed, nu, (size_t)max_lag, &acf, &d) != FORA_OK) {
        fora__api_diag(ctx->resp, &d);
        goto out;
    }
    json_t *doc = head(s, tz);
    json_object_set_new(doc, "bin", json_string(fora_bin_name(r->bin)));
    json_object_set_new(doc, "split", json_string(split_values[r->split]));
    if (tg.n > 0) json_object_set_new(doc, "trajectory_run", json_integer(atoll(tg.run)));
    json_object_set_new(doc, "new_members", json_string(new_member_values[newm]));
    json_t *bins = json_array();
    for (size_t b = 0; b < n; b++) {
        json_t *o = json_object();
        json_object_set_new(o, "local_start", jlocal(r->local_start[b]));
        json_object_set_new(o, "utc_start", jutc(r->utc_start[b]));
        json_object_set_new(o, "utc_end", jutc(r->utc_end[b]));
        for (int m = 0; m < FORA_MEASURE_N; m++)
            json_object_set_new(o, fora_measure_name((fora_measure_t)m),
                                json_integer(r->count[m][b]));
        json_array_append_new(bins, o);
    }
    json_object_set_new(doc, "bins", bins);
    json_t *groups = json_array();
    for (size_t k = 0; k < r->ngroups; k++) {
        json_t *o = json_pack("{s:s}", "label", r->group_labels[k]);
        for (int m = 0; m < FORA_MEASURE_N; m++)
            json_object_set_new(o, fora_measure_name((fora_measure_t)m),
                                jcounts(r->group_count[m] + k * n, n));
        json_array_append_new(groups, o);
    }
    name_groups(groups, &tg);
    json_object_set_new(doc, "groups", groups);
    json_t *st = json_object();
    json_object_set_new(st, "measure", json_string(measure_values[measure]));
    json_object_set_new(st, "group", glabel ? json_string(glabel) : json_null());
    json_object_set_new(st, "value", json_string(value_values[value]));
    if (value == 1) {
        json_t *sv = json_array();
        for (size_t b = 0; b < n; b++)
            json_array_append_new(sv, jnum(use[b], v[b]));
        json_object_set_new(st, "values", sv);
    }
    json_t *roll = json_array();
    for (size_t b = 0; b < n; b++)
        json_array_append_new(roll, jnum(def[b], rm[b]));
    json_object_set_new(st, "rolling_mean",
                        json_pack("{s:I, s:s, s:o}", "window", (json_int_t)window, "align",
                                  align_values[align], "values", roll));
    json_object_set_new(st, "trend",
                        json_pack("{s:I, s:f, s:o, s:o, s:o, s:o, s:o, s:o}", "n", (json_int_t)tr.n,
                                  "conf", conf, "slope_per_bin", jnum(tr.defined, tr.slope),
                                  "intercept", jnum(tr.defined, tr.intercept), "slope_se",
                                  jnum(tr.ci_defined, tr.slope_se), "slope_lower",
                                  jnum(tr.ci_defined, tr.slope_lower), "slope_upper",
                                  jnum(tr.ci_defined, tr.slope_upper), "intercept_se",
                                  jnum(tr.ci_defined, tr.intercept_se)));
    json_t *ac = json_array(), *b95 = json_array(), *b99 = json_array();
    for (size_t k = 0; k <= acf->max_lag; k++) {
        json_array_append_new(ac, jnum(acf->defined, acf->r[k]));
        json_array_append_new(b95, jnum(acf->defined && k > 0, acf->bartlett95[k]));
        json_array_append_new(b99, jnum(acf->defined && k > 0, acf->bartlett99[k]));
    }
    json_object_set_new(
        st, "acf",
        json_pack(
            "{s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "max_lag", (json_int_t)acf->max_lag, "r", ac,
            "white_noise_95", jnum(acf->n > 0, acf->white95), "white_noise_99",
            jnum(acf->n > 0, acf->white99), "bartlett_95", b95, "bartlett_99", b99, "seasonal_lag",
            acf->seasonal_defined ? json_integer((json_int_t)acf->seasonal_lag) : json_null()));
    json_object_set_new(doc, "stats", st);
    fora__api_ok(ctx->resp, doc);
out:
    free(use);
    free(packed);
    free(v);
    free(rm);
    free(def);
    fora_acf_destroy(acf);
    fora_series_destroy(r);
    traj_groups_free(&tg);
    fora_tzmap_destroy(tz);
    fora__snapshot_release(s);
}

/* ---- /activity/profile and /activity/heatmap ------------------------------------------- */

static json_t *jbox(const fora_box_t *b)
{
    bool d = b->defined;
    return json_pack(
        "{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I}", "n", (json_int_t)b->n,
        "mean", jnum(d, b->mean), "median", jnum(d, b->median), "q1", jnum(d, b->q1), "q3",
        jnum(d, b->q3), "iqr", jnum(d, b->iqr), "min", jnum(d, b->min), "max", jnum(d, b->max),
        "whisker_low", jnum(d, b->whisker_low), "whisker_high", jnum(d, b->whisker_high),
        "outliers_low", (json_int_t)b->outliers_low, "outliers_high", (json_int_t)b->outliers_high);
}

static json_t *jshare(const fora_share_t *sh, size_t from, size_t n)
{
    json_t *p = json_array(), *a = json_array();
    for (size_t i = from; i < from + n; i++) {
        json_array_append_new(p, jnum(sh->posts_defined[i], sh->posts[i]));
        json_array_append_new(a, jnum(sh->active_defined[i], sh->active[i]));
    }
    return json_pack("{s:o, s:o}", "posts", p, "active_members", a);
}

static void profile_common(fora__api_ctx_t *ctx, bool heatmap)
{
    static const char *const known[] = {"zone",  "from",  "to",   "kind", "measure",
                                        "split", "group", "drop", "run",  NULL};
    static const char *const kind_values[] = {"hour_of_day", "day_of_week", NULL};
    common_t c = {0};
    int kind = 0, split, measure;
    double drop;
    if (!fora__api_only_params(ctx, known) || !zone_param(ctx, &c.zone) ||
        !window_params(ctx, &c) ||
        (!heatmap && !fora__api_enum_param(ctx, "kind", kind_values, 0, &kind)) ||
        !fora__api_enum_param(ctx, "split", split_values, FORA_SPLIT_NONE, &split) ||
        !fora__api_enum_param(ctx, "measure", measure_values, FORA_MEASURE_POSTS, &measure) ||
        !fora__api_double_param(ctx, "drop", 0, 0, 99.999, &drop))
        return;
    if (heatmap && fora__api_param(ctx->req, "kind") != NULL) {
        fora__api_error(ctx->resp, FORA_EINVAL, "the heat map has no parameter \"kind\"", "kind");
        return;
    }
    const char *glabel = fora__api_param(ctx->req, "group");
    if (glabel != NULL && split == FORA_SPLIT_NONE) {
        fora__api_error(ctx->resp, FORA_EINVAL, "parameter \"group\" needs a split", "group");
        return;
    }
    if (!run_needs_trajectory(ctx, split == FORA_SPLIT_GROUP)) return;
    fora_profile_kind_t pk = heatmap     ? FORA_PROFILE_WEEK_HOUR
                             : kind == 0 ? FORA_PROFILE_HOUR_OF_DAY
                                         : FORA_PROFILE_DAY_OF_WEEK;
    if (!fora__api_resolve_forum(ctx, ctx->seg[0], c.forum_id, sizeof(c.forum_id))) return;
    fora_snapshot_t *s = NULL;
    fora_tzmap_t *tz = NULL;
    fora_series_t *r = NULL;
    fora_profile_t *p = NULL;
    fora_share_t *sh = NULL;
    traj_groups_t tg = {0};
    fora_diag_t d = FORA_DIAG_INIT;
    if (!load(ctx, &c, &s, &tz)) return;
    if (split == FORA_SPLIT_GROUP && !traj_groups_load(ctx, c.forum_id, s, &tg)) goto out;
    fora_series_opts_t so;
    fora_series_opts_init(&so);
    so.bin = pk == FORA_PROFILE_DAY_OF_WEEK ? FORA_BIN_DAY : FORA_BIN_HOUR;
    so.split = (fora_split_t)split;
    so.member_group = tg.member_group;
    so.ngroups = tg.n;
    so.group_labels = (const char *const *)tg.labels;
    so.from = c.from;
    so.to = c.to;
    if (fora_series_compute(s, tz, &so, &r, &d) != FORA_OK) {
        fora__api_diag(ctx->resp, &d);
        goto out;
    }
    int32_t g = group_index(ctx, r, glabel);
    if (g == -1) goto out;
    if (g < 0) g = -1;
    if (fora_profile_compute(r, pk, (fora_measure_t)measure, g, drop, &p, &d) != FORA_OK ||
        (g >= 0 && fora_share_compute(r, pk, g, &sh, &d) != FORA_OK)) {
        fora__api_diag(ctx->resp, &d);
        goto out;
    }
    json_t *doc = head(s, tz);
    json_object_set_new(doc, "kind", json_string(heatmap ? "week_hour" : kind_values[kind]));
    json_object_set_new(doc, "measure", json_string(measure_values[measure]));
    json_object_set_new(doc, "split", json_string(split_values[split]));
    json_object_set_new(doc, "group", glabel ? json_string(glabel) : json_null());
    if (tg.n > 0) {
        json_object_set_new(doc, "trajectory_run", json_integer(atoll(tg.run)));
        if (g >= 0) json_object_set_new(doc, "group_name", json_string(tg.names[g]));
    }
    json_object_set_new(doc, "drop_percent", json_real(drop));
    json_object_set_new(doc, "periods", json_integer((json_int_t)p->samples));
    json_object_set_new(doc, "dropped", json_integer((json_int_t)p->dropped));
    static const char *const days[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                       "Friday", "Saturday", "Sunday"};
    if (heatmap) {
        json_t *rows = json_array();
        for (size_t wd = 0; wd < 7; wd++) {
            json_t *cells = json_array();
            for (size_t h = 0; h < 24; h++)
                json_array_append_new(cells, jbox(&p->slots[wd * 24 + h]));
            json_t *row = json_pack("{s:s, s:o}", "day", days[wd], "hours", cells);
            if (sh) json_object_set_new(row, "share", jshare(sh, wd * 24, 24));
            json_array_append_new(rows, row);
        }
        json_object_set_new(doc, "days", rows);
    } else {
        json_t *slots = json_array();
        for (size_t i = 0; i < p->nslots; i++) {
            json_t *o = jbox(&p->slots[i]);
            if (pk == FORA_PROFILE_HOUR_OF_DAY)
                json_object_set_new(o, "hour", json_integer((json_int_t)i));
            else
                json_object_set_new(o, "day", json_string(days[i]));
            json_array_append_new(slots, o);
        }
        json_object_set_new(doc, "slots", slots);
    }
    if (sh) {
        json_t *o = jshare(sh, 0, sh->nslots);
        json_object_set_new(o, "posts_amplitude",
                            jnum(sh->posts_amplitude_defined, sh->posts_amplitude));
        json_object_set_new(o, "active_members_amplitude",
                            jnum(sh->active_amplitude_defined, sh->active_amplitude));
        json_object_set_new(doc, "share", o);
    } else {
        json_object_set_new(doc, "share", json_null());
    }
    fora__api_ok(ctx->resp, doc);
out:
    fora_share_destroy(sh);
    fora_profile_destroy(p);
    fora_series_destroy(r);
    traj_groups_free(&tg);
    fora_tzmap_destroy(tz);
    fora__snapshot_release(s);
}

static void h_profile(fora__api_ctx_t *ctx)
{
    profile_common(ctx, false);
}

static void h_heatmap(fora__api_ctx_t *ctx)
{
    profile_common(ctx, true);
}

/* ---- /survival/members and /survival/threads -------------------------------------------- */

static bool horizons_param(fora__api_ctx_t *ctx, double *h, size_t *n)
{
    const char *v = fora__api_param(ctx->req, "horizons");
    *n = 0;
    if (v == NULL) return true;
    const char *p = v;
    while (*p) {
        char *end;
        double x = strtod(p, &end);
        if (end == p || !isfinite(x) || x < 0 || (*end != ',' && *end != '\0') ||
            *n == MAX_HORIZONS) {
            fora__api_error(ctx->resp, FORA_EINVAL,
                            "parameter \"horizons\" must be up to 100 comma-separated "
                            "non-negative numbers of days",
                            "horizons");
            return false;
        }
        h[(*n)++] = x;
        p = *end == ',' ? end + 1 : end;
        if (*end == ',' && *p == '\0') {
            fora__api_error(ctx->resp, FORA_EINVAL, "parameter \"horizons\" ends with a comma",
                            "horizons");
            return false;
        }
    }
    return true;
}

static json_t *jcurve(const fora_survival_curve_t *c, bool rows)
{
    json_t *o = json_pack("{s:I, s:I}", "n", (json_int_t)c->n, "events", (json_int_t)c->events);
    const fora_survival_median_t *m = &c->median;
    json_object_set_new(o, "median",
                        json_pack("{s:o, s:o, s:o}", "time", jnum(m->reached, m->time), "lower",
                                  jnum(m->lower_reached, m->lower), "upper",
                                  jnum(m->upper_reached, m->upper)));
    if (rows) {
        json_t *a = json_array();
        for (size_t i = 0; i < c->nrows; i++) {
            const fora_survival_row_t *r = &c->rows[i];
            json_array_append_new(
                a,
                json_pack("{s:f, s:I, s:I, s:I, s:f, s:o, s:o, s:o, s:f}", "time", r->time,
                          "n_risk", (json_int_t)r->n_risk, "n_event", (json_int_t)r->n_event,
                          "n_censor", (json_int_t)r->n_censor, "surv", r->surv, "std_err",
                          jnum(r->se_defined, r->std_err), "lower", jnum(r->se_defined, r->lower),
                          "upper", jnum(r->se_defined, r->upper), "cum_event", r->cum_event));
        }
        json_object_set_new(o, "curve", a);
    }
    return o;
}

static void add_horizons(json_t *o, const fora_survival_curve_t *c, size_t nh)
{
    json_t *a = json_array();
    for (size_t i = 0; i < nh && c->horizons; i++) {
        const fora_survival_point_t *p = &c->horizons[i];
        json_array_append_new(a, json_pack("{s:f, s:I, s:f, s:o, s:o, s:f, s:b}", "time", p->time,
                                           "n_risk", (json_int_t)p->n_risk, "surv", p->surv,
                                           "lower", jnum(p->se_defined, p->lower), "upper",
                                           jnum(p->se_defined, p->upper), "cum_event", p->cum_event,
                                           "beyond_last", p->beyond_last));
    }
    json_object_set_new(o, "horizons", a);
}

static json_t *jsurvival(const fora_survival_t *sv, const fora_longevity_t *l, size_t nh, bool rows)
{
    json_t *doc = json_object();
    json_object_set_new(doc, "observations", json_integer((json_int_t)l->n));
    json_object_set_new(doc, "excluded", json_integer((json_int_t)l->excluded));
    json_object_set_new(doc, "end", jutc(l->end));
    json_object_set_new(doc, "conf", json_real(sv->conf));
    json_t *all = jcurve(&sv->all, rows);
    add_horizons(all, &sv->all, nh);
    json_object_set_new(doc, "all", all);
    json_t *groups = json_array();
    for (size_t g = 0; g < sv->ngroups; g++) {
        json_t *o = jcurve(&sv->groups[g], rows);
        json_object_set_new(o, "label", json_string(l->group_labels[g]));
        add_horizons(o, &sv->groups[g], nh);
        json_array_append_new(groups, o);
    }
    json_object_set_new(doc, "groups", groups);
    if (sv->logrank) {
        const fora_survival_logrank_t *lr = sv->logrank;
        json_t *obs = json_array(), *exp = json_array(), *labels = json_array();
        for (size_t g = 0; g < lr->ngroups; g++) {
            json_array_append_new(labels, json_string(l->group_labels[g]));
            json_array_append_new(obs, json_real(lr->observed[g]));
            json_array_append_new(exp, json_real(lr->expected[g]));
        }
        json_object_set_new(doc, "logrank",
                            json_pack("{s:o, s:o, s:i, s:o, s:o, s:o}", "groups", labels, "chisq",
                                      jnum(lr->p_defined, lr->chisq), "df", lr->df, "p",
                                      jnum(lr->p_defined, lr->p), "observed", obs, "expected",
                                      exp));
    } else {
        json_object_set_new(doc, "logrank", json_null());
    }
    return doc;
}

static json_t *jmedians(const fora_activity_medians_t *m)
{
    return json_pack("{s:I, s:o, s:o, s:o}", "n", (json_int_t)m->n, "posts",
                     jnum(m->defined, m->posts), "replies_received", jnum(m->defined, m->replies),
                     "partners", jnum(m->defined, m->partners));
}

static void survival_common(fora__api_ctx_t *ctx, bool threads)
{
    static const char *const known[] = {"zone",   "origin",   "event", "silence_days", "group_by",
                                        "cohort", "horizons", "conf",  "at",           "curve",
                                        "end",    "run",      NULL};
    static const char *const origin_values[] = {"registration", "first_post", NULL};
    static const char *const event_values[] = {"ban", "silence", "ban_or_silence", NULL};
    /* index i is fora_life_group_t i ("trajectory": FORA_LIFE_GROUP_GROUP over traj_groups_t) */
    static const char *const group_values[] = {"none",   "status",     "category",
                                               "cohort", "trajectory", NULL};
    static const char *const cohort_values[] = {"month", "quarter", "year", NULL};
    static const char *const bool_values[] = {"false", "true", NULL};
    common_t c = {0};
    int origin, event, group_by, cohort, curve;
    long long silence;
    double conf;
    double hz[MAX_HORIZONS];
    size_t nh;
    int64_t at = FORA_TIME_NONE, end = FORA_TIME_NONE;
    if (!fora__api_only_params(ctx, known) || !zone_param(ctx, &c.zone) ||
        !fora__api_enum_param(ctx, "origin", origin_values, 0, &origin) ||
        !fora__api_enum_param(ctx, "event", event_values, threads ? 1 : 2, &event) ||
        !fora__api_enum_param(ctx, "group_by", group_values, 0, &group_by) ||
        !fora__api_enum_param(ctx, "cohort", cohort_values, 0, &cohort) ||
        !fora__api_enum_param(ctx, "curve", bool_values, 1, &curve) ||
        !fora__api_int_param(ctx, "silence_days", 90, 1, 100000, &silence) ||
        !fora__api_double_param(ctx, "conf", 0.95, 0.5, 0.999999, &conf) ||
        !horizons_param(ctx, hz, &nh) || !time_param(ctx, "at", &at) ||
        !time_param(ctx, "end", &end))
        return;
    if (threads) {
        const char *bad = fora__api_param(ctx->req, "origin")   ? "origin"
                          : fora__api_param(ctx->req, "event")  ? "event"
                          : fora__api_param(ctx->req, "at")     ? "at"
                          : fora__api_param(ctx->req, "cohort") ? "cohort"
                                                                : NULL;
        if (bad == NULL && group_by != FORA_LIFE_GROUP_NONE && group_by != FORA_LIFE_GROUP_CATEGORY)
            bad = "group_by";
        if (bad != NULL) {
            char msg[200];
            snprintf(msg, sizeof(msg), "parameter \"%s\" does not apply to threads", bad);
            fora__api_error(ctx->resp, FORA_EINVAL, msg, bad);
            return;
        }
    }
    if (!threads && fora__api_param(ctx->req, "cohort") != NULL &&
        group_by != FORA_LIFE_GROUP_COHORT) {
        fora__api_error(ctx->resp, FORA_EINVAL, "parameter \"cohort\" needs group_by=cohort",
                        "cohort");
        return;
    }
    if (!run_needs_trajectory(ctx, group_by == FORA_LIFE_GROUP_GROUP)) return;
    c.from = end; /* so that the zone table covers it */
    if (!fora__api_resolve_forum(ctx, ctx->seg[0], c.forum_id, sizeof(c.forum_id))) return;
    fora_snapshot_t *s = NULL;
    fora_tzmap_t *tz = NULL;
    fora_longevity_t *l = NULL;
    fora_survival_t *sv = NULL;
    fora_activity_t *act = NULL;
    traj_groups_t tg = {0};
    fora_diag_t d = FORA_DIAG_INIT;
    if (!load(ctx, &c, &s, &tz)) return;
    if (group_by == FORA_LIFE_GROUP_GROUP && !traj_groups_load(ctx, c.forum_id, s, &tg)) goto out;
    fora_longevity_opts_t lo;
    fora_longevity_opts_init(&lo);
    lo.origin = (fora_origin_t)origin;
    lo.event = (fora_life_event_t)event;
    lo.silence = (int64_t)silence * 86400;
    lo.group_by = (fora_life_group_t)group_by;
    lo.cohort = (fora_cohort_t)cohort;
    lo.member_group = tg.member_group;
    lo.ngroups = tg.n;
    lo.group_labels = (const char *const *)tg.labels;
    lo.tz = tz;
    lo.end = end;
    fora_err_t e =
        threads ? fora_longevity_threads(s, &lo, &l, &d) : fora_longevity_members(s, &lo, &l, &d);
    fora_survival_opts_t so;
    fora_survival_opts_init(&so);
    so.conf = conf;
    so.horizons = hz;
    so.nhorizons = nh;
    if (e != FORA_OK || fora_longevity_survival(l, &so, &sv, &d) != FORA_OK ||
        (at != FORA_TIME_NONE && fora_activity_compute(s, l, at, &act, &d) != FORA_OK)) {
        fora__api_diag(ctx->resp, &d);
        goto out;
    }
    json_t *doc = head(s, tz);
    json_t *params =
        json_pack("{s:s, s:I, s:s}", "of", threads ? "threads" : "members", "silence_days",
                  (json_int_t)silence, "group_by", group_values[group_by]);
    if (!threads) {
        json_object_set_new(params, "origin", json_string(origin_values[origin]));
        json_object_set_new(params, "event", json_string(event_values[event]));
        if (group_by == FORA_LIFE_GROUP_COHORT)
            json_object_set_new(params, "cohort", json_string(cohort_values[cohort]));
        if (tg.n > 0) json_object_set_new(params, "trajectory_run", json_integer(atoll(tg.run)));
    }
    json_object_set_new(doc, "params", params);
    json_object_update_new(doc, jsurvival(sv, l, nh, curve == 1));
    name_groups(json_object_get(doc, "groups"), &tg);
    if (act) {
        json_t *o = json_pack("{s:o, s:o}", "at", jutc(act->at), "all", jmedians(&act->all));
        json_t *ga = json_array();
        for (size_t g = 0; g < act->ngroups; g++) {
            json_t *m = jmedians(&act->groups[g]);
            json_object_set_new(m, "label", json_string(l->group_labels[g]));
            json_array_append_new(ga, m);
        }
        name_groups(ga, &tg);
        json_object_set_new(o, "groups", ga);
        json_object_set_new(doc, "still_active", o);
    }
    fora__api_ok(ctx->resp, doc);
out:
    fora_activity_destroy(act);
    fora_survival_destroy(sv);
    fora_longevity_destroy(l);
    traj_groups_free(&tg);
    fora_tzmap_destroy(tz);
    fora__snapshot_release(s);
}

static void h_survival_members(fora__api_ctx_t *ctx)
{
    survival_common(ctx, false);
}

static void h_survival_threads(fora__api_ctx_t *ctx)
{
    survival_common(ctx, true);
}

/* ---- /engagement ---------------------------------------------------------------------- */

static void h_engagement(fora__api_ctx_t *ctx)
{
    static const char *const known[] = {"download_kind", "limit", NULL};
    long long limit;
    if (!fora__api_only_params(ctx, known) ||
        !fora__api_int_param(ctx, "limit", FORA_API_DEFAULT_LIMIT, 0, FORA_API_MAX_LIMIT, &limit))
        return;
    const char *kind = fora__api_param(ctx->req, "download_kind");
    if (kind == NULL) kind = "download";
    if (*kind == '\0') {
        fora__api_error(ctx->resp, FORA_EINVAL, "parameter \"download_kind\" is empty",
                        "download_kind");
        return;
    }
    common_t c = {0};
    c.from = c.to = FORA_TIME_NONE;
    if (!fora__api_resolve_forum(ctx, ctx->seg[0], c.forum_id, sizeof(c.forum_id))) return;
    fora_snapshot_t *s = NULL;
    fora_engagement_t *e = NULL;
    fora_diag_t d = FORA_DIAG_INIT;
    if (fora__snapshot_acquire(ctx->conn, strtoll(c.forum_id, NULL, 10), &s, &d) != FORA_OK ||
        fora_engagement_compute(s, kind, (size_t)limit, &e, &d) != FORA_OK) {
        fora__api_diag(ctx->resp, &d);
        goto out;
    }
    json_t *doc = head(s, NULL);
    json_object_del(doc, "zone");
    json_object_set_new(doc, "download_kind", json_string(kind));
    json_object_set_new(doc, "members", json_integer(e->members));
    json_object_set_new(doc, "posters", json_integer(e->posters));
    json_object_set_new(doc, "downloaders", json_integer(e->downloaders));
    json_object_set_new(doc, "downloads", json_integer(e->downloads));
    json_object_set_new(doc, "share_posters", jnum(e->shares_defined, e->share_posters));
    json_object_set_new(doc, "share_downloaders", jnum(e->shares_defined, e->share_downloaders));
    json_object_set_new(doc, "span_days", json_real(e->span_days));
    json_object_set_new(doc, "downloads_per_member_per_two_weeks",
                        jnum(e->rate_defined, e->downloads_per_member_fortnight));
    json_object_set_new(doc, "non_posters_with_events",
                        json_integer((json_int_t)e->nonposters_with_events));
    json_t *items = json_array();
    for (size_t i = 0; i < e->nranked; i++) {
        const fora_involvement_t *v = &e->ranked[i];
        json_array_append_new(items,
                              json_pack("{s:s, s:I, s:I, s:I, s:I}", "member",
                                        fora_snapshot_member_ext(s, v->member), "score",
                                        (json_int_t)v->active_days, "active_days",
                                        (json_int_t)v->active_days, "events", (json_int_t)v->events,
                                        "downloads", (json_int_t)v->downloads));
    }
    json_object_set_new(doc, "involvement", items);
    fora__api_ok(ctx->resp, doc);
out:
    fora_engagement_destroy(e);
    fora__snapshot_release(s);
}

const fora__api_route_t fora__api_routes_rhythms[] = {
    {"/v1/forums/{forum}/activity/series", h_series, true, NULL, FORA_ROLE_READ},
    {"/v1/forums/{forum}/activity/profile", h_profile, true, NULL, FORA_ROLE_READ},
    {"/v1/forums/{forum}/activity/heatmap", h_heatmap, true, NULL, FORA_ROLE_READ},
    {"/v1/forums/{forum}/survival/members", h_survival_members, true, NULL, FORA_ROLE_READ},
    {"/v1/forums/{forum}/survival/threads", h_survival_threads, true, NULL, FORA_ROLE_READ},
    {"/v1/forums/{forum}/engagement", h_engagement, true, NULL, FORA_ROLE_READ},
    {NULL, NULL, false, NULL, FORA_ROLE_NONE},
};
