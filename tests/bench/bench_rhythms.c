/*
 * tests/bench/bench_rhythms.c - times the hourly profile and the
 * Kaplan-Meier estimate on a snapshot built straight from a `fora synth`
 * CSV bundle (no PostgreSQL: the snapshot is filled with the same builder
 * calls the loader uses).  Built and run by bench_rhythms.sh.
 *
 * Usage: bench_rhythms BUNDLE_DIR
 * Prints one line per step: "step seconds detail".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_errno.h>

#include "fora/csv.h"
#include "fora/longevity.h"
#include "fora/rhythms.h"
#include "fora/snapshot.h"
#include "fora/survival.h"
#include "fora/timeparse.h"
#include "fora/tzmap_load.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU seconds of this process, to tell a busy machine from a slow step */
static double cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const fora_diag_t *d)
{
    fprintf(stderr, "bench_rhythms: %s\n", d->msg);
    exit(1);
}

static int64_t num(const char *s)
{
    return *s ? strtoll(s, NULL, 10) : FORA_ID_NONE;
}

static int64_t when(const char *s, size_t len)
{
    int64_t us;
    if (len == 0) return FORA_TIME_NONE;
    if (!fora_time_parse(s, len, &us)) {
        fprintf(stderr, "bench_rhythms: bad time \"%s\"\n", s);
        exit(1);
    }
    return us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
}

typedef void (*row_fn)(fora_snapshot_t *s, char **f, size_t *len, fora_diag_t *d);

static void each_row(const char *dir, const char *file, fora_snapshot_t *s, row_fn fn)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    fora_diag_t d = FORA_DIAG_INIT;
    fora_csv_reader_t *r = NULL;
    if (fora_csv_open(path, &r, &d) != FORA_OK) die(&d);
    size_t n;
    char **f;
    size_t *len;
    int64_t line;
    bool header = true;
    fora_err_t e;
    while ((e = fora_csv_next(r, &n, &f, &len, &line, &d)) == FORA_OK) {
        if (header) {
            header = false;
            continue;
        }
        fn(s, f, len, &d);
        if (d.code != FORA_OK) die(&d);
    }
    if (e != FORA_ENOTFOUND) die(&d);
    fora_csv_close(r);
}

static void board(fora_snapshot_t *s, char **f, size_t *len, fora_diag_t *d)
{
    (void)len;
    if (fora_snapshot_add_board(s, num(f[0]), f[0], FORA_ID_NONE, f[1], d) != FORA_OK) die(d);
}
static void member(fora_snapshot_t *s, char **f, size_t *len, fora_diag_t *d)
{
    if (fora_snapshot_add_member(s, num(f[0]), f[0], when(f[1], len[1]), f[2], when(f[3], len[3]),
                                 d) != FORA_OK)
        die(d);
}
static void thread(fora_snapshot_t *s, char **f, size_t *len, fora_diag_t *d)
{
    if (fora_snapshot_add_thread(s, num(f[0]), f[0], num(f[1]), num(f[2]), when(f[3], len[3]), d) !=
        FORA_OK)
        die(d);
}
static void post(fora_snapshot_t *s, char **f, size_t *len, fora_diag_t *d)
{
    if (fora_snapshot_add_post(s, num(f[0]), num(f[1]), num(f[2]), when(f[3], len[3]), num(f[4]),
                               d) != FORA_OK)
        die(d);
}
static void event(fora_snapshot_t *s, char **f, size_t *len, fora_diag_t *d)
{
    if (fora_snapshot_add_event(s, num(f[0]), f[1], when(f[2], len[2]), num(f[3]), d) != FORA_OK)
        die(d);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_rhythms BUNDLE_DIR\n");
        return 2;
    }
    gsl_set_error_handler_off();
    const char *dir = argv[1];
    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *s = NULL;
    double t = now();
    if (fora_snapshot_create(1, "synth", "Europe/Amsterdam", 1, &s, &d) != FORA_OK) die(&d);
    each_row(dir, "boards.csv", s, board);
    each_row(dir, "members.csv", s, member);
    each_row(dir, "threads.csv", s, thread);
    each_row(dir, "posts.csv", s, post);
    each_row(dir, "events.csv", s, event);
    if (fora_snapshot_finish(s, &d) != FORA_OK) die(&d);
    printf("build_snapshot %.2f members=%d posts=%d threads=%d events=%d\n", now() - t,
           s->members.n, s->posts.n, s->threads.n, s->events.n);

    /* the hourly profile: zone table + hourly series + hour-of-day box plots (drop 2 %) */
    t = now();
    double c0 = cpu();
    fora_tzmap_t *tz = NULL;
    if (fora_tzmap_load(s->forum.timezone, s->posts.created_at[0],
                        s->posts.created_at[s->posts.n - 1], &tz, &d) != FORA_OK)
        die(&d);
    double t_tz = now() - t;
    fora_series_opts_t so;
    fora_series_opts_init(&so);
    so.bin = FORA_BIN_HOUR;
    fora_series_t *r = NULL;
    if (fora_series_compute(s, tz, &so, &r, &d) != FORA_OK) die(&d);
    double t_series = now() - t;
    fora_profile_t *p = NULL;
    if (fora_profile_compute(r, FORA_PROFILE_HOUR_OF_DAY, FORA_MEASURE_POSTS, -1, 2, &p, &d) !=
        FORA_OK)
        die(&d);
    double t_profile = now() - t;
    printf("hourly_profile %.2f cpu=%.2f tz=%.3f series=%.2f bins=%zu peak_hour_mean=", t_profile,
           cpu() - c0, t_tz, t_series, r->nbins);
    size_t best = 0;
    for (size_t h = 0; h < 24; h++)
        if (p->slots[h].mean > p->slots[best].mean) best = h;
    printf("%.1f@%zu\n", p->slots[best].mean, best);
    fora_profile_destroy(p);

    /* the heat map and a category split on the same data, for the record */
    t = now();
    if (fora_profile_compute(r, FORA_PROFILE_WEEK_HOUR, FORA_MEASURE_ACTIVE, -1, 2, &p, &d) !=
        FORA_OK)
        die(&d);
    printf("heatmap_from_series %.2f\n", now() - t);
    fora_profile_destroy(p);
    fora_series_destroy(r);
    t = now();
    so.split = FORA_SPLIT_CATEGORY;
    if (fora_series_compute(s, tz, &so, &r, &d) != FORA_OK) die(&d);
    printf("hourly_series_by_category %.2f groups=%zu\n", now() - t, r->ngroups);
    fora_series_destroy(r);

    /* Kaplan-Meier: observations + curves, medians, horizons and log-rank by status */
    t = now();
    c0 = cpu();
    fora_longevity_opts_t lo;
    fora_longevity_opts_init(&lo);
    lo.group_by = FORA_LIFE_GROUP_STATUS;
    fora_longevity_t *l = NULL;
    if (fora_longevity_members(s, &lo, &l, &d) != FORA_OK) die(&d);
    double t_obs = now() - t;
    fora_survival_opts_t sv;
    fora_survival_opts_init(&sv);
    double hz[] = {2, 5, 60, 70};
    sv.horizons = hz;
    sv.nhorizons = 4;
    fora_survival_t *km = NULL;
    if (fora_longevity_survival(l, &sv, &km, &d) != FORA_OK) die(&d);
    printf("kaplan_meier %.2f cpu=%.2f observations=%zu obs=%.2f events=%lld groups=%zu rows=%zu "
           "logrank_chisq=%.1f\n",
           now() - t, cpu() - c0, l->n, t_obs, (long long)km->all.events, km->ngroups,
           km->all.nrows, km->logrank ? km->logrank->chisq : 0.0);
    fora_survival_destroy(km);
    fora_longevity_destroy(l);
    t = now();
    lo.group_by = FORA_LIFE_GROUP_CATEGORY;
    if (fora_longevity_threads(s, &lo, &l, &d) != FORA_OK) die(&d);
    if (fora_longevity_survival(l, &sv, &km, &d) != FORA_OK) die(&d);
    printf("thread_kaplan_meier %.2f observations=%zu\n", now() - t, l->n);
    fora_survival_destroy(km);
    fora_longevity_destroy(l);

    t = now();
    fora_engagement_t *e = NULL;
    if (fora_engagement_compute(s, "download", 100, &e, &d) != FORA_OK) die(&d);
    printf("engagement %.2f share_posters=%.3f share_downloaders=%.3f\n", now() - t,
           e->share_posters, e->share_downloaders);
    fora_engagement_destroy(e);
    fora_tzmap_destroy(tz);
    fora_snapshot_destroy(s);
    return 0;
}
