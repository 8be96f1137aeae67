/*
 * analysis/longevity.c - member and thread longevity, activity of those
 * still active, engagement beyond posting (see fora/longevity.h).
 */
#include "fora/longevity.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "fora/idmap.h"

#define PARSER(fn, type, ...)                                                                      \
    fora_err_t fn(const char *s, const char *param, type *out, fora_diag_t *diag)                  \
    {                                                                                              \
        static const char *const names[] = {__VA_ARGS__};                                          \
        int v = 0;                                                                                 \
        fora_err_t e =                                                                             \
            fora_name_parse(s, param, names, (int)(sizeof(names) / sizeof(names[0])), &v, diag);   \
        if (e == FORA_OK) *out = (type)v;                                                          \
        return e;                                                                                  \
    }
PARSER(fora_origin_parse, fora_origin_t, "registration", "first_post")
PARSER(fora_life_event_parse, fora_life_event_t, "ban", "silence", "ban_or_silence")
PARSER(fora_life_group_parse, fora_life_group_t, "none", "status", "category", "cohort", "group")
PARSER(fora_cohort_parse, fora_cohort_t, "month", "quarter", "year")
#undef PARSER

void fora_longevity_opts_init(fora_longevity_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->origin = FORA_ORIGIN_REGISTRATION;
    o->event = FORA_LIFE_BAN_OR_SILENCE;
    o->silence = INT64_C(90) * 86400;
    o->end = FORA_TIME_NONE;
    o->group_by = FORA_LIFE_GROUP_NONE;
    o->cohort = FORA_COHORT_MONTH;
}

void fora_longevity_destroy(fora_longevity_t *l)
{
    if (l == NULL) return;
    free(l->index);
    free(l->time);
    free(l->event);
    free(l->group);
    free(l->origin);
    for (size_t g = 0; g < l->ngroups; g++)
        free(l->group_labels[g]);
    free(l->group_labels);
    free(l);
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* The latest time in the snapshot, or FORA_TIME_NONE. */
static int64_t data_end(const fora_snapshot_t *s)
{
    int64_t end = FORA_TIME_NONE;
    if (s->posts.n > 0) end = s->posts.created_at[s->posts.n - 1];
    if (s->events.n > 0) end = max64(end, s->events.at[s->events.n - 1]);
    for (int32_t m = 0; m < s->members.n; m++) {
        if (s->members.registered_at[m] != FORA_TIME_NONE)
            end = max64(end, s->members.registered_at[m]);
        if (s->members.banned_at[m] != FORA_TIME_NONE) end = max64(end, s->members.banned_at[m]);
    }
    return end;
}

static fora_longevity_t *alloc_obs(size_t cap, bool grouped)
{
    fora_longevity_t *l = fora_xcalloc(1, sizeof(*l));
    size_t c = cap ? cap : 1;
    l->index = fora_xmalloc(c * sizeof(int32_t));
    l->time = fora_xmalloc(c * sizeof(double));
    l->event = fora_xmalloc(c * sizeof(uint8_t));
    l->origin = fora_xmalloc(c * sizeof(int64_t));
    if (grouped) l->group = fora_xmalloc(c * sizeof(int32_t));
    return l;
}

static void labels_from_pool(fora_longevity_t *l, const fora_strpool_t *p)
{
    l->ngroups = (size_t)p->n;
    l->group_labels = fora_xcalloc(l->ngroups + 1, sizeof(char *));
    for (int32_t i = 0; i < p->n; i++)
        l->group_labels[i] = fora_xstrdup(fora_strpool_get(p, i));
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int64_t cohort_key(const fora_longevity_opts_t *o, int64_t t)
{
    fora_local_civil_t c;
    fora_tzmap_civil(o->tz ? fora_tzmap_local(o->tz, t) : t, &c);
    switch (o->cohort) {
    case FORA_COHORT_MONTH:
        return c.year * 12 + (c.month - 1);
    case FORA_COHORT_QUARTER:
        return c.year * 4 + (c.month - 1) / 3;
    case FORA_COHORT_YEAR:
        return c.year;
    }
    return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return q;
}

static char *cohort_label(fora_cohort_t c, int64_t key)
{
    char buf[48];
    if (c == FORA_COHORT_MONTH) {
        int64_t y = floor_div(key, 12);
        snprintf(buf, sizeof(buf), "%04lld-%02d", (long long)y, (int)(key - y * 12) + 1);
    } else if (c == FORA_COHORT_QUARTER) {
        int64_t y = floor_div(key, 4);
        snprintf(buf, sizeof(buf), "%04lld-Q%d", (long long)y, (int)(key - y * 4) + 1);
    } else {
        snprintf(buf, sizeof(buf), "%04lld", (long long)key);
    }
    return fora_xstrdup(buf);
}

static fora_err_t check_common(const fora_longevity_opts_t *o, fora_diag_t *diag)
{
    if (o->silence <= 0)
        return fora_diag_set(diag, FORA_EINVAL, "parameter \"silence\" must be positive");
    if ((unsigned)o->origin > FORA_ORIGIN_FIRST_POST)
        return fora_diag_set(diag, FORA_EINVAL, "invalid value for parameter \"origin\"");
    if ((unsigned)o->event > FORA_LIFE_BAN_OR_SILENCE)
        return fora_diag_set(diag, FORA_EINVAL, "invalid value for parameter \"event\"");
    if ((unsigned)o->group_by > FORA_LIFE_GROUP_GROUP)
        return fora_diag_set(diag, FORA_EINVAL, "invalid value for parameter \"group_by\"");
    if ((unsigned)o->cohort > FORA_COHORT_YEAR)
        return fora_diag_set(diag, FORA_EINVAL, "invalid value for parameter \"cohort\"");
    return FORA_OK;
}

fora_err_t fora_longevity_members(const fora_snapshot_t *s, const fora_longevity_opts_t *opts,
                                  fora_longevity_t **out, fora_diag_t *diag)
{
    fora_longevity_opts_t defaults;
    if (opts == NULL) {
        fora_longevity_opts_init(&defaults);
        opts = &defaults;
    }
    fora_err_t err = check_common(opts, diag);
    if (err != FORA_OK) return err;
    int32_t M = s->members.n;
    if (opts->group_by == FORA_LIFE_GROUP_GROUP) {
        if (opts->ngroups < 0)
            return fora_diag_set(diag, FORA_EINVAL, "parameter \"ngroups\" is negative");
        if (opts->member_group == NULL && M > 0)
            return fora_diag_set(diag, FORA_EINVAL,
                                 "group_by \"group\" needs a per-member group array");
        for (int32_t i = 0; i < M; i++)
            if (opts->member_group[i] < -1 || opts->member_group[i] >= opts->ngroups)
                return fora_diag_set(diag, FORA_EINVAL,
                                     "member_group: member \"%s\" has group %d, outside -1..%d",
                                     fora_snapshot_member_ext(s, i), (int)opts->member_group[i],
                                     (int)opts->ngroups - 1);
    }
    bool grouped = opts->group_by != FORA_LIFE_GROUP_NONE;
    int64_t end = opts->end != FORA_TIME_NONE ? opts->end : data_end(s);

    /* first post and last activity per member */
    size_t cm = M > 0 ? (size_t)M : 1;
    int32_t *first = fora_xmalloc(cm * sizeof(int32_t));
    int64_t *last = fora_xmalloc(cm * sizeof(int64_t));
    int64_t *ckey = NULL;
    for (int32_t m = 0; m < M; m++) {
        first[m] = -1;
        last[m] = FORA_TIME_NONE;
    }
    for (int32_t p = 0; p < s->posts.n; p++) {
        int32_t a = s->posts.author[p];
        if (a < 0) continue;
        if (first[a] < 0) first[a] = p;
        last[a] = s->posts.created_at[p];
    }
    for (int32_t e = 0; e < s->events.n; e++)
        last[s->events.member[e]] = max64(last[s->events.member[e]], s->events.at[e]);

    fora_longevity_t *l = alloc_obs((size_t)M, grouped);
    l->end = end;
    if (opts->group_by == FORA_LIFE_GROUP_STATUS) labels_from_pool(l, &s->statuses);
    if (opts->group_by == FORA_LIFE_GROUP_CATEGORY) labels_from_pool(l, &s->categories);
    if (opts->group_by == FORA_LIFE_GROUP_GROUP) {
        l->ngroups = (size_t)opts->ngroups;
        l->group_labels = fora_xcalloc(l->ngroups + 1, sizeof(char *));
        for (size_t g = 0; g < l->ngroups; g++) {
            char buf[24];
            snprintf(buf, sizeof(buf), "%zu", g);
            l->group_labels[g] = fora_xstrdup(
                opts->group_labels && opts->group_labels[g] ? opts->group_labels[g] : buf);
        }
    }
    if (opts->group_by == FORA_LIFE_GROUP_COHORT) {
        ckey = fora_xmalloc(cm * sizeof(int64_t));
        size_t k = 0;
        for (int32_t m = 0; m < M; m++)
            if (s->members.registered_at[m] != FORA_TIME_NONE)
                ckey[k++] = cohort_key(opts, s->members.registered_at[m]);
        qsort(ckey, k, sizeof(int64_t), cmp_i64);
        size_t u = 0;
        for (size_t i = 0; i < k; i++)
            if (u == 0 || ckey[i] != ckey[u - 1]) ckey[u++] = ckey[i];
        l->ngroups = u;
        l->group_labels = fora_xcalloc(u + 1, sizeof(char *));
        for (size_t i = 0; i < u; i++)
            l->group_labels[i] = cohort_label(opts->cohort, ckey[i]);
    }

    size_t n = 0;
    for (int32_t m = 0; m < M; m++) {
        int64_t origin = opts->origin == FORA_ORIGIN_REGISTRATION
                             ? s->members.registered_at[m]
                             : (first[m] >= 0 ? s->posts.created_at[first[m]] : FORA_TIME_NONE);
        if (origin == FORA_TIME_NONE || end == FORA_TIME_NONE || origin > end) {
            l->excluded++;
            continue;
        }
        int32_t g = -1;
        switch (opts->group_by) {
        case FORA_LIFE_GROUP_NONE:
            break;
        case FORA_LIFE_GROUP_STATUS:
            g = s->members.status[m];
            break;
        case FORA_LIFE_GROUP_CATEGORY:
            g = first[m] >= 0 ? s->boards.category[s->threads.board[s->posts.thread[first[m]]]]
                              : -1;
            break;
        case FORA_LIFE_GROUP_COHORT:
            if (s->members.registered_at[m] != FORA_TIME_NONE) {
                int64_t key = cohort_key(opts, s->members.registered_at[m]);
                int64_t *hit = bsearch(&key, ckey, l->ngroups, sizeof(int64_t), cmp_i64);
                g = (int32_t)(hit - ckey);
            }
            break;
        case FORA_LIFE_GROUP_GROUP:
            g = opts->member_group[m];
            break;
        }
        if (grouped && g < 0) {
            l->excluded++;
            continue;
        }
        int64_t act = last[m] == FORA_TIME_NONE ? origin : max64(last[m], origin);
        int64_t ev = INT64_MAX; /* the instant of the event, if any */
        int64_t ban = s->members.banned_at[m];
        if (opts->event != FORA_LIFE_SILENCE && ban != FORA_TIME_NONE && ban <= end)
            ev = max64(ban, origin);
        if (opts->event != FORA_LIFE_BAN && end - act >= opts->silence && act < ev) ev = act;
        l->index[n] = m;
        l->origin[n] = origin;
        l->event[n] = ev != INT64_MAX;
        l->time[n] = (double)((ev != INT64_MAX ? ev : end) - origin) / 86400.0;
        if (grouped) l->group[n] = g;
        n++;
    }
    l->n = n;
    *out = l;
    free(first);
    free(last);
    free(ckey);
    return FORA_OK;
}

fora_err_t fora_longevity_threads(const fora_snapshot_t *s, const fora_longevity_opts_t *opts,
                                  fora_longevity_t **out, fora_diag_t *diag)
{
    fora_longevity_opts_t defaults;
    if (opts == NULL) {
        fora_longevity_opts_init(&defaults);
        opts = &defaults;
    }
    fora_err_t err = check_common(opts, diag);
    if (err != FORA_OK) return err;
    if (opts->group_by != FORA_LIFE_GROUP_NONE && opts->group_by != FORA_LIFE_GROUP_CATEGORY)
        return fora_diag_set(diag, FORA_EINVAL,
                             "parameter \"group_by\": threads group by \"none\" or \"category\"");
    int32_t T = s->threads.n;
    bool grouped = opts->group_by == FORA_LIFE_GROUP_CATEGORY;
    int64_t end = opts->end != FORA_TIME_NONE ? opts->end : data_end(s);
    int64_t *last = fora_xmalloc((T > 0 ? (size_t)T : 1) * sizeof(int64_t));
    for (int32_t t = 0; t < T; t++)
        last[t] = FORA_TIME_NONE;
    for (int32_t p = 0; p < s->posts.n; p++)
        last[s->posts.thread[p]] = s->posts.created_at[p];
    fora_longevity_t *l = alloc_obs((size_t)T, grouped);
    l->end = end;
    if (grouped) labels_from_pool(l, &s->categories);
    size_t n = 0;
    for (int32_t t = 0; t < T; t++) {
        int32_t fp = s->threads.first_post[t];
        if (fp < 0 || end == FORA_TIME_NONE || s->posts.created_at[fp] > end) {
            l->excluded++;
            continue;
        }
        int64_t origin = s->posts.created_at[fp];
        int64_t lp = last[t] < end ? last[t] : end;
        bool died = end - lp >= opts->silence;
        l->index[n] = t;
        l->origin[n] = origin;
        l->event[n] = died;
        l->time[n] = (double)((died ? lp : end) - origin) / 86400.0;
        if (grouped) l->group[n] = s->boards.category[s->threads.board[t]];
        n++;
    }
    l->n = n;
    free(last);
    *out = l;
    return FORA_OK;
}

fora_err_t fora_longevity_survival(const fora_longevity_t *l, const fora_survival_opts_t *so,
                                   fora_survival_t **out, fora_diag_t *diag)
{
    bool grouped = l->group != NULL && l->ngroups > 0;
    return fora_survival_compute(l->time, l->event, grouped ? l->group : NULL, l->n,
                                 grouped ? l->ngroups : 0, so, out, diag);
}

/* ---------------------------------------------------------------------- */
/* activity of those still active                                           */
/* ---------------------------------------------------------------------- */

void fora_activity_destroy(fora_activity_t *a)
{
    if (a == NULL) return;
    free(a->groups);
    free(a);
}

static void medians(double *buf, size_t n, size_t stride, fora_activity_medians_t *out)
{
    /* buf holds n triples (posts, replies, partners) */
    memset(out, 0, sizeof(*out));
    out->n = n;
    if (n == 0) return;
    out->defined = true;
    double *col = fora_xmalloc(n * sizeof(double));
    double *res[3] = {&out->posts, &out->replies, &out->partners};
    for (int c = 0; c < 3; c++) {
        for (size_t i = 0; i < n; i++)
            col[i] = buf[i * stride + (size_t)c];
        gsl_sort(col, 1, n);
        *res[c] = gsl_stats_median_from_sorted_data(col, 1, n);
    }
    free(col);
}

fora_err_t fora_activity_compute(const fora_snapshot_t *s, const fora_longevity_t *l, int64_t at,
                                 fora_activity_t **out, fora_diag_t *diag)
{
    if (at == FORA_TIME_NONE)
        return fora_diag_set(diag, FORA_EINVAL, "parameter \"at\" is missing");
    int32_t M = s->members.n;
    size_t cm = M > 0 ? (size_t)M : 1;
    int64_t *posts = fora_xcalloc(cm, sizeof(int64_t));
    int64_t *replies = fora_xcalloc(cm, sizeof(int64_t));
    int64_t *partners = fora_xcalloc(cm, sizeof(int64_t));
    int32_t lo, hi;
    fora_snapshot_post_window(s, FORA_TIME_NONE, at, &lo, &hi);
    size_t np = (size_t)(hi - lo);
    uint64_t *keys = malloc((np ? np : 1) * sizeof(uint64_t));
    uint64_t *tmp = malloc((np ? np : 1) * sizeof(uint64_t));
    if (keys == NULL || tmp == NULL) {
        free(keys);
        free(tmp);
        free(posts);
        free(replies);
        free(partners);
        return fora_diag_set(diag, FORA_ENOMEM, "no memory for %zu replies", np);
    }
    size_t nk = 0;
    for (int32_t p = lo; p < hi; p++) {
        int32_t a = s->posts.author[p];
        if (a >= 0) posts[a]++;
        int32_t rt = s->posts.reply_to[p];
        if (a < 0 || rt < 0) continue;
        int32_t b = s->posts.author[rt];
        if (b < 0 || b == a) continue;
        replies[b]++;
        uint32_t x = (uint32_t)(a < b ? a : b), y = (uint32_t)(a < b ? b : a);
        keys[nk++] = ((uint64_t)x << 32) | y;
    }
    fora_radix_sort_u64(keys, NULL, nk, tmp, NULL);
    for (size_t i = 0; i < nk; i++) {
        if (i > 0 && keys[i] == keys[i - 1]) continue;
        partners[keys[i] >> 32]++;
        partners[keys[i] & 0xffffffffu]++;
    }
    free(keys);
    free(tmp);

    fora_activity_t *r = fora_xcalloc(1, sizeof(*r));
    r->at = at;
    r->ngroups = l->group ? l->ngroups : 0;
    r->groups = fora_xcalloc(r->ngroups + 1, sizeof(fora_activity_medians_t));
    /* the still-active members, ordered by group (counting sort), as triples */
    size_t G = r->ngroups;
    size_t *start = fora_xcalloc(G + 2, sizeof(size_t));
    bool *alive = fora_xmalloc((l->n ? l->n : 1) * sizeof(bool));
    size_t nalive = 0;
    for (size_t i = 0; i < l->n; i++) {
        int64_t ev_at = l->origin[i] + (int64_t)llround(l->time[i] * 86400.0);
        alive[i] = l->origin[i] <= at && (!l->event[i] || ev_at > at);
        if (!alive[i]) continue;
        nalive++;
        if (G > 0) start[(size_t)l->group[i] + 1]++;
    }
    for (size_t g = 0; g < G; g++)
        start[g + 1] += start[g];
    double *all = fora_xmalloc((nalive ? nalive : 1) * 3 * sizeof(double));
    double *byg = fora_xmalloc((nalive ? nalive : 1) * 3 * sizeof(double));
    size_t k = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (!alive[i]) continue;
        int32_t m = l->index[i];
        double v[3] = {(double)posts[m], (double)replies[m], (double)partners[m]};
        memcpy(all + 3 * k, v, sizeof(v));
        k++;
        if (G > 0) memcpy(byg + 3 * start[l->group[i]]++, v, sizeof(v));
    }
    medians(all, nalive, 3, &r->all);
    /* start[g] now points at the end of group g, which is where group g + 1 begins */
    size_t from = 0;
    for (size_t g = 0; g < G; g++) {
        medians(byg + 3 * from, start[g] - from, 3, &r->groups[g]);
        from = start[g];
    }
    free(all);
    free(byg);
    free(alive);
    free(start);
    free(posts);
    free(replies);
    free(partners);
    *out = r;
    return FORA_OK;
}

/* ---------------------------------------------------------------------- */
/* engagement                                                               */
/* ---------------------------------------------------------------------- */

void fora_engagement_destroy(fora_engagement_t *e)
{
    if (e == NULL) return;
    free(e->ranked);
    free(e);
}

static int cmp_involvement(const void *a, const void *b)
{
    const fora_involvement_t *x = a, *y = b;
    if (x->active_days != y->active_days) return x->active_days > y->active_days ? -1 : 1;
    if (x->events != y->events) return x->events > y->events ? -1 : 1;
    return x->member < y->member ? -1 : x->member > y->member;
}

fora_err_t fora_engagement_compute(const fora_snapshot_t *s, const char *download_kind,
                                   size_t limit, fora_engagement_t **out, fora_diag_t *diag)
{
    if (download_kind == NULL || *download_kind == '\0')
        return fora_diag_set(diag, FORA_EINVAL, "parameter \"download_kind\" is empty");
    int32_t M = s->members.n;
    size_t cm = M > 0 ? (size_t)M : 1;
    int32_t dk = fora_snapshot_kind_index(s, download_kind);
    fora_involvement_t *inv = fora_xcalloc(cm, sizeof(fora_involvement_t));
    int64_t *lastday = fora_xmalloc(cm * sizeof(int64_t));
    bool *posted = fora_xcalloc(cm, sizeof(bool));
    for (int32_t m = 0; m < M; m++) {
        inv[m].member = m;
        lastday[m] = INT64_MIN;
    }
    fora_engagement_t *e = fora_xcalloc(1, sizeof(*e));
    e->members = M;
    for (int32_t p = 0; p < s->posts.n; p++)
        if (s->posts.author[p] >= 0) posted[s->posts.author[p]] = true;
    for (int32_t ev = 0; ev < s->events.n; ev++) {
        int32_t m = s->events.member[ev];
        inv[m].events++;
        if (s->events.kind[ev] == dk) {
            inv[m].downloads++;
            e->downloads++;
        }
        /* events are in time order, so each member's days are too */
        int64_t day = floor_div(s->events.at[ev], 86400);
        if (day != lastday[m]) {
            inv[m].active_days++;
            lastday[m] = day;
        }
    }
    for (int32_t m = 0; m < M; m++) {
        e->posters += posted[m];
        e->downloaders += inv[m].downloads > 0;
    }
    e->shares_defined = M > 0;
    if (M > 0) {
        e->share_posters = (double)e->posters / M;
        e->share_downloaders = (double)e->downloaders / M;
    }
    int64_t t0 = FORA_TIME_NONE, t1 = FORA_TIME_NONE;
    if (s->posts.n > 0) {
        t0 = s->posts.created_at[0];
        t1 = s->posts.created_at[s->posts.n - 1];
    }
    if (s->events.n > 0) {
        int64_t a = s->events.at[0], b = s->events.at[s->events.n - 1];
        t0 = t0 == FORA_TIME_NONE || a < t0 ? a : t0;
        t1 = t1 == FORA_TIME_NONE || b > t1 ? b : t1;
    }
    e->span_days = t0 == FORA_TIME_NONE ? 0 : (double)(t1 - t0) / 86400.0;
    e->rate_defined = M > 0 && e->span_days > 0;
    if (e->rate_defined)
        e->downloads_per_member_fortnight = (double)e->downloads / M / (e->span_days / 14.0);
    size_t k = 0;
    for (int32_t m = 0; m < M; m++)
        if (!posted[m] && inv[m].events > 0) inv[k++] = inv[m];
    e->nonposters_with_events = k;
    qsort(inv, k, sizeof(fora_involvement_t), cmp_involvement);
    e->nranked = k < limit ? k : limit;
    e->ranked = fora_xmalloc((e->nranked ? e->nranked : 1) * sizeof(fora_involvement_t));
    memcpy(e->ranked, inv, e->nranked * sizeof(fora_involvement_t));
    free(inv);
    free(lastday);
    free(posted);
    *out = e;
    return FORA_OK;
}
