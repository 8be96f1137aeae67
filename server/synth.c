/*
 * server/synth.c - `fora synth`: a seeded generator of synthetic forums with
 * planted ground truth.  The model and its constants are documented in
 * api-docs/synth.md; keep the two in step.
 *
 * Generation runs in three phases:
 *   1. members: activity group, key players, registration, home board, bans
 *      (about 32 bytes per member, sorted by registration so member ids grow
 *      with registration time);
 *   2. the scale factor that makes the expected number of posts equal the
 *      target, computed exactly from the planted exposures;
 *   3. month by month: each active member-month draws its posts and events
 *      (Poisson), their times come from a circadian profile in local time, the
 *      month's buffer is radix-sorted by time and streamed out, assigning posts
 *      to threads (preferential attachment among recent threads) and replies.
 * Thread state lives only in a bounded pool of slots: a thread can be joined
 * only while one of its posts is among the last `window` posts (or while it
 * sits in one of the two rings of fresh threads that moderators answer), so
 * at most window + 2 * ring threads are alive.
 */
#include "fora/synth.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <jansson.h>

#include "fora/csv.h"
#include "fora/progress.h"

/* ---- the model's constants (api-docs/synth.md, "Model") ---------------- */

enum { G_LURKERS, G_BROWSERS, G_INTERESTED, G_ESCALATORS, G_VESTED, G_MANAGERS, NGROUPS };

typedef struct group_model {
    const char *name;
    double share;        /* planted share (van der Bruggen 2023) */
    double zero_infl;    /* probability of a structural zero member-month */
    double b0, b1, b2;   /* unscaled log rate = b0 + b1 k + b2 k^2, k = months since reg. */
    double event_weight; /* relative involvement in non-posting events */
    const char *shape;   /* the trajectory in words */
} group_model_t;

static const group_model_t GROUPS[NGROUPS] = {
    {"lurkers", 0.588, 0.97, -1.2, 0.0, 0.0, 1.5,
     "near zero: structural zeros with rare single posts, flat"},
    {"browsers", 0.091, 0.0, -2.3, 0.0, 0.0, 1.0, "low, constant"},
    {"interested", 0.111, 0.0, -0.3, -0.08, 0.0, 0.8, "moderate onset, declining"},
    {"escalators", 0.158, 0.0, -2.4, 0.09, -0.0006, 0.8, "low onset, rising"},
    {"vested", 0.045, 0.0, 0.6, 0.0, 0.0, 0.6, "high from the forum's first week, stable"},
    {"managers", 0.008, 0.0, 1.5, 0.004, 0.0, 0.6, "very high, long careers, slowly rising"},
};

/* Local hour-of-day profile in percent: trough at 05:00, peak at 21:00. */
static const double HOUR_PROFILE[24] = {5.0, 3.5, 2.3, 1.5, 1.0, 0.7, 1.0, 1.6, 2.4, 3.2, 3.8, 4.2,
                                        4.6, 4.6, 4.5, 4.6, 5.1, 5.5, 6.1, 6.6, 7.0, 8.0, 7.0, 6.2};

static const char *const CATEGORIES[] = {"market", "tech", "social", "security", "meta"};
#define NCATEGORIES 5

static const char *const EVENT_KINDS[] = {"visit", "click", "download"};
static const double EVENT_KIND_P[] = {0.70, 0.20, 0.10};

#define SECS_PER_DAY 86400
#define VESTED_REG_SECS (7 * SECS_PER_DAY) /* vested register in the first week */
#define MANAGER_REG_SHARE 0.25             /* managers register in the first quarter */
#define BOARD_ZIPF 0.8                     /* board popularity ~ 1 / rank^0.8 */
#define HOME_BOARD_P 0.6                   /* new thread / event in the home board */
#define P_NEW_THREAD 0.12                  /* a post starts a new thread */
#define REPLY_FIRST_P 0.45                 /* reply to the thread's first post */
#define REPLY_LATEST_P 0.35                /* reply to the thread's latest post */
#define RECENT_KEPT 4                      /* last posts kept per thread */
#define WINDOW_DAYS 7.0                    /* urn: posts of about a week */
#define WINDOW_MIN 64
#define WINDOW_MAX (1 << 20)
#define FRESH_RING 4096               /* at most this many fresh threads ... */
#define FRESH_AGE (14 * SECS_PER_DAY) /* ... started in the last 14 days */
#define NEWCOMER_MONTHS 1             /* newcomer: k <= 1 */
#define KEY_ANSWER_P 0.85             /* key player answers a fresh thread ... */
#define KEY_NEWCOMER_P 0.5            /* ... preferring a newcomer's one */
#define KEY_REPLY_FIRST_P 0.70        /* ... replying to the starter's post */
#define KEY_RATE_MULT 2.0             /* key players post at 2x managers' rate */
#define ADMINS 2
#define MAX_MEMBERS 100000000LL
#define MAX_POSTS 10000000000LL
#define MAX_BOARDS 1000000LL
#define MAX_MONTHS 1200
#define MAX_START 250000000000LL   /* keeps every timestamp before year 9999 */
#define DEFAULT_START 1420070400LL /* 2015-01-01T00:00:00Z */

enum { FLAG_KEY = 1, FLAG_ADMIN = 2 };

typedef struct member {
    int64_t reg;       /* registration, Unix seconds */
    int64_t ban;       /* ban time, or 0 */
    int32_t home;      /* home board, 0-based */
    int32_t reg_month; /* calendar month of registration */
    int32_t orig;      /* index before sorting (tie-break) */
    uint8_t group;
    uint8_t flags;
} member_t;

typedef struct tslot {
    int64_t thread_id;
    int64_t first_post;
    int64_t recent[RECENT_KEPT]; /* recent[(n - 1) % RECENT_KEPT] is the latest */
    int64_t n;                   /* posts so far */
    int64_t created;             /* time of the first post */
    int32_t refs;                /* urn and ring entries naming this slot */
} tslot_t;

/* Threads started in the last FRESH_AGE seconds, oldest first. */
typedef struct ring {
    int32_t slot[FRESH_RING];
    int32_t n, pos; /* entries; next write position */
} ring_t;

typedef struct synth {
    const fora_synth_opts_t *o;
    gsl_rng *rng;
    gsl_ran_discrete_t *hour_tab, *board_tab, *group_tab, *kind_tab;
    int months;
    int64_t start, end;
    int64_t *mbound;            /* months + 1 month boundaries (UTC calendar months) */
    int64_t ndays;              /* local days covering [start, end) */
    int64_t *local_hour;        /* ndays*24: UTC instant of each local hour's start */
    int64_t *mday_lo, *mday_hi; /* per month: first and last local day it touches */
    member_t *mem;              /* n members, sorted by registration (index + 1 = member_id) */
    int64_t n;
    int key_players;              /* resolved count (opts.key_players -1 = automatic) */
    int admins;                   /* admins chosen */
    double scale;                 /* s: expected posts == opts.posts */
    double *rate;                 /* NGROUPS * months: exp(b0 + b1 k + b2 k^2) */
    double ev_mean[NGROUPS];      /* mean events over a member's active life */
    int64_t group_count[NGROUPS]; /* members per group (after key-player top-up) */
    /* thread machinery */
    tslot_t *slots;      /* window + 2 * FRESH_RING + 1 thread slots */
    int32_t *free_slots; /* stack of unused slots */
    int32_t nfree;
    int32_t *urn; /* ring of the last `window` posts' thread slots */
    int32_t window, urn_n, urn_pos;
    ring_t newcomer; /* fresh threads started by newcomers */
    ring_t fresh;    /* fresh threads started by anyone but key players */
    int64_t next_thread, next_post;
    /* month buffers: (time - month start) << 32 | member index */
    uint64_t *pbuf, *ebuf, *tmp;
    size_t pcap, ecap, tcap, pn, en;
    fora_synth_stats_t st;
} synth_t;

void fora_synth_opts_default(fora_synth_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->members = 10000;
    o->posts = 100000;
    o->boards = 20;
    o->months = 60;
    o->seed = 1;
    o->timezone = "Europe/Amsterdam";
    o->forum_name = "synth";
    o->key_players = -1;
    o->ban_rate = 0.05;
    o->events_per_member = 5.0;
    o->gzip = false;
    o->quiet = false;
    o->start_time = DEFAULT_START;
}

/* ---- small helpers --------------------------------------------------------- */

static char *fmt_i64(char *buf, int64_t v)
{
    char tmp[24];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    char *p = buf;
    if (v < 0) *p++ = '-';
    while (n)
        *p++ = tmp[--n];
    *p = '\0';
    return buf;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Howard Hinnant's civil_from_days. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static void put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

/* ISO-8601 UTC, "2015-01-01T12:00:00Z"; t within years 0..9999. */
static char *fmt_time(char *buf, int64_t t)
{
    int64_t days = floor_div(t, SECS_PER_DAY), sod = t - days * SECS_PER_DAY, y;
    int mo, d;
    civil_from_days(days, &y, &mo, &d);
    put2(buf, (int)(y / 100));
    put2(buf + 2, (int)(y % 100));
    buf[4] = '-';
    put2(buf + 5, mo);
    buf[7] = '-';
    put2(buf + 8, d);
    buf[10] = 'T';
    put2(buf + 11, (int)(sod / 3600));
    buf[13] = ':';
    put2(buf + 14, (int)(sod / 60 % 60));
    buf[16] = ':';
    put2(buf + 17, (int)(sod % 60));
    buf[19] = 'Z';
    buf[20] = '\0';
    return buf;
}

/* Uniform integer in [0, n), n >= 1 (n may exceed 2^32). */
static uint64_t uniform_u64(gsl_rng *r, uint64_t n)
{
    if (n <= 1) return 0;
    if (n <= 0xffffffffULL) return gsl_rng_uniform_int(r, (unsigned long)n);
    uint64_t v = (uint64_t)(gsl_rng_uniform(r) * (double)n);
    return v < n ? v : n - 1;
}

/* Poisson by inversion with one uniform for small means; GSL above 30. */
static int64_t poisson(gsl_rng *r, double mu)
{
    if (!(mu > 0.0)) return 0;
    if (mu > 30.0) return (int64_t)gsl_ran_poisson(r, mu);
    double u = gsl_rng_uniform(r);
    double p = exp(-mu), c = p;
    int64_t k = 0;
    while (u > c && k < 1000) {
        k++;
        p *= mu / (double)k;
        c += p;
    }
    return k;
}

static bool is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* mkdir -p */
static fora_err_t make_dirs(const char *path, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    char *p = fora_xstrdup(path);
    size_t len = strlen(p);
    while (len > 1 && p[len - 1] == '/')
        p[--len] = '\0';
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0') continue;
        char saved = *s;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            err = fora_diag_set(diag, FORA_EIO, "could not create directory \"%s\": %s", p,
                                strerror(errno));
            goto out;
        }
        *s = saved;
        if (saved == '\0') break;
    }
    if (!is_dir(p)) err = fora_diag_set(diag, FORA_EIO, "\"%s\" is not a directory", p);
out:
    free(p);
    return err;
}

static char *join_path(const char *dir, const char *name, const char *ext)
{
    size_t n = strlen(dir) + strlen(name) + strlen(ext) + 2;
    char *s = fora_xmalloc(n);
    snprintf(s, n, "%s/%s%s", dir, name, ext);
    return s;
}

static fora_err_t open_csv(const char *dir, const char *name, bool gz, fora_csv_writer_t **w,
                           fora_diag_t *diag)
{
    char *path = join_path(dir, name, gz ? ".csv.gz" : ".csv");
    fora_err_t err = fora_csv_create(path, w, diag);
    free(path);
    return err;
}

static fora_err_t finish_csv(fora_csv_writer_t **w, fora_diag_t *diag)
{
    fora_err_t err = fora_csv_finish(*w, diag);
    *w = NULL;
    return err;
}

/* ---- options ------------------------------------------------------------- */

static bool zone_exists(const char *zone)
{
    if (zone[0] == '\0' || zone[0] == '/' || strlen(zone) > 200) return false;
    for (const char *p = zone; *p; p++) {
        char c = *p;
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '/' || c == '_' || c == '-' || c == '+';
        if (!ok) return false;
    }
    if (strstr(zone, "//") != NULL) return false;
    const char *dir = getenv("TZDIR");
    if (dir == NULL || dir[0] == '\0') dir = "/usr/share/zoneinfo";
    char *path = join_path(dir, zone, "");
    struct stat sb;
    bool ok = stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
    free(path);
    return ok;
}

static fora_err_t check_opts(const fora_synth_opts_t *o, fora_diag_t *diag)
{
    const char *bad = "invalid value \"%lld\" for option \"%s\": %s";
    if (o->members < 1 || o->members > MAX_MEMBERS)
        return fora_diag_set(diag, FORA_EINVAL, bad, (long long)o->members, "members",
                             "must be between 1 and 100000000");
    if (o->posts < 0 || o->posts > MAX_POSTS)
        return fora_diag_set(diag, FORA_EINVAL, bad, (long long)o->posts, "posts",
                             "must be between 0 and 10000000000");
    if (o->boards < 1 || o->boards > MAX_BOARDS)
        return fora_diag_set(diag, FORA_EINVAL, bad, (long long)o->boards, "boards",
                             "must be between 1 and 1000000");
    if (o->months < 1 || o->months > MAX_MONTHS)
        return fora_diag_set(diag, FORA_EINVAL, bad, (long long)o->months, "months",
                             "must be between 1 and 1200");
    if (o->key_players < -1 || o->key_players > o->members)
        return fora_diag_set(diag, FORA_EINVAL, bad, (long long)o->key_players, "key_players",
                             "must be -1 (automatic) or between 0 and the number of members");
    if (!(o->ban_rate >= 0.0 && o->ban_rate < 1.0))
        return fora_diag_set(diag, FORA_EINVAL,
                             "invalid value \"%g\" for option \"ban_rate\": must be at least 0 "
                             "and below 1",
                             o->ban_rate);
    if (!(o->events_per_member >= 0.0 && o->events_per_member <= 1e6))
        return fora_diag_set(diag, FORA_EINVAL,
                             "invalid value \"%g\" for option \"events_per_member\": must be "
                             "between 0 and 1000000",
                             o->events_per_member);
    if (o->start_time < 0 || o->start_time > MAX_START)
        return fora_diag_set(diag, FORA_EINVAL, bad, (long long)o->start_time, "start_time",
                             "must be between 0 and 250000000000 (Unix seconds)");
    if (o->forum_name == NULL || o->forum_name[0] == '\0')
        return fora_diag_set(diag, FORA_EINVAL,
                             "invalid value \"\" for option \"forum_name\": must not be empty");
    if (o->timezone == NULL || !zone_exists(o->timezone))
        return fora_diag_set(diag, FORA_EINVAL,
                             "invalid value \"%s\" for option \"timezone\": unknown time zone "
                             "(no such file in the zoneinfo database)",
                             o->timezone ? o->timezone : "");
    return FORA_OK;
}

/* ---- calendar: months and the local-hour table ------------------------- */

static void month_bounds(synth_t *s)
{
    struct tm tm0;
    time_t t0 = (time_t)s->start;
    gmtime_r(&t0, &tm0);
    for (int m = 0; m <= s->months; m++) {
        struct tm tm = tm0;
        tm.tm_mon += m;
        tm.tm_isdst = 0;
        s->mbound[m] = (int64_t)timegm(&tm);
    }
    s->end = s->mbound[s->months];
}

static int64_t days_from_tm(const struct tm *tm)
{
    struct tm t = *tm;
    t.tm_hour = t.tm_min = t.tm_sec = 0;
    t.tm_isdst = 0;
    return floor_div((int64_t)timegm(&t), SECS_PER_DAY);
}

/*
 * Builds local_hour[d*24 + h] = the UTC instant at which local hour h of local
 * day d (counted from the local date of `start`) begins, with the C library's
 * zone database: TZ is set to the zone, mktime() does the conversion, and TZ
 * is restored.  Hours that do not exist (spring-forward gaps) get what
 * mktime() normalises them to; the table is kept non-decreasing.
 */
static fora_err_t local_table(synth_t *s, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    const char *old = getenv("TZ");
    char *saved = old ? fora_xstrdup(old) : NULL;
    size_t zl = strlen(s->o->timezone) + 2;
    char *tz = fora_xmalloc(zl);
    snprintf(tz, zl, ":%s", s->o->timezone);
    setenv("TZ", tz, 1);
    tzset();

    struct tm first, last;
    time_t t0 = (time_t)s->start, t1 = (time_t)(s->end - 1);
    localtime_r(&t0, &first);
    localtime_r(&t1, &last);
    s->ndays = days_from_tm(&last) - days_from_tm(&first) + 1;
    s->local_hour = malloc((size_t)s->ndays * 24 * sizeof(int64_t));
    if (s->local_hour == NULL) {
        err = fora_diag_set(diag, FORA_ENOMEM, "no memory for the local-time table");
        goto out;
    }
    int64_t prev = INT64_MIN;
    for (int64_t i = 0; i < s->ndays * 24; i++) {
        struct tm tm = first;
        tm.tm_mday += (int)(i / 24);
        tm.tm_hour = (int)(i % 24);
        tm.tm_min = tm.tm_sec = 0;
        tm.tm_isdst = -1;
        int64_t t = (int64_t)mktime(&tm);
        if (t < prev) t = prev;
        s->local_hour[i] = prev = t;
    }
out:
    if (saved) {
        setenv("TZ", saved, 1);
    } else {
        unsetenv("TZ");
    }
    tzset();
    free(saved);
    free(tz);
    return err;
}

/* Local day containing UTC instant t (clamped to the table). */
static int64_t local_day(const synth_t *s, int64_t t)
{
    int64_t lo = 0, hi = s->ndays - 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo + 1) / 2;
        if (s->local_hour[mid * 24] <= t) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    return lo;
}

/* Month index containing t, for start <= t < end. */
static int month_of(const synth_t *s, int64_t t)
{
    int lo = 0, hi = s->months - 1;
    while (lo < hi) {
        int mid = lo + (hi - lo + 1) / 2;
        if (s->mbound[mid] <= t) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    return lo;
}

/*
 * A time in [lo, hi) whose local hour follows HOUR_PROFILE: a uniform local day
 * in [dlo, dhi], an hour from the profile, a uniform second; retried when it
 * falls outside the window, uniform in the window after 32 misses.
 */
static int64_t sample_time(synth_t *s, int64_t lo, int64_t hi, int64_t dlo, int64_t dhi)
{
    for (int tries = 0; tries < 32; tries++) {
        int64_t d = dlo + (int64_t)uniform_u64(s->rng, (uint64_t)(dhi - dlo + 1));
        size_t h = gsl_ran_discrete(s->rng, s->hour_tab);
        int64_t t = s->local_hour[d * 24 + (int64_t)h] + (int64_t)gsl_rng_uniform_int(s->rng, 3600);
        if (t >= lo && t < hi) return t;
    }
    return lo + (int64_t)uniform_u64(s->rng, (uint64_t)(hi - lo));
}

/* ---- phase 1: members ----------------------------------------------------- */

static int cmp_member(const void *a, const void *b)
{
    const member_t *x = a, *y = b;
    if (x->reg != y->reg) return x->reg < y->reg ? -1 : 1;
    return (x->orig > y->orig) - (x->orig < y->orig);
}

static fora_err_t make_members(synth_t *s, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    int64_t n = s->n;
    int64_t *idx = NULL;
    s->mem = calloc((size_t)n, sizeof(member_t));
    idx = malloc((size_t)n * sizeof(int64_t));
    if (s->mem == NULL || idx == NULL) {
        err = fora_diag_set(diag, FORA_ENOMEM, "no memory for %lld members", (long long)n);
        goto out;
    }

    for (int64_t i = 0; i < n; i++) {
        s->mem[i].group = (uint8_t)gsl_ran_discrete(s->rng, s->group_tab);
        s->mem[i].orig = (int32_t)i;
    }

    /* Key players: uniformly among managers, topped up with converted members. */
    int64_t nm = 0;
    for (int64_t i = 0; i < n; i++)
        if (s->mem[i].group == G_MANAGERS) idx[nm++] = i;
    int64_t want = s->key_players;
    if (nm >= want) {
        for (int64_t j = 0; j < want; j++) {
            int64_t k = j + (int64_t)uniform_u64(s->rng, (uint64_t)(nm - j));
            int64_t t = idx[j];
            idx[j] = idx[k];
            idx[k] = t;
            s->mem[idx[j]].flags |= FLAG_KEY;
        }
    } else {
        for (int64_t j = 0; j < nm; j++)
            s->mem[idx[j]].flags |= FLAG_KEY;
        int64_t no = 0;
        for (int64_t i = 0; i < n; i++)
            if (s->mem[i].group != G_MANAGERS) idx[no++] = i;
        for (int64_t j = 0; j < want - nm; j++) {
            int64_t k = j + (int64_t)uniform_u64(s->rng, (uint64_t)(no - j));
            int64_t t = idx[j];
            idx[j] = idx[k];
            idx[k] = t;
            s->mem[idx[j]].group = G_MANAGERS;
            s->mem[idx[j]].flags |= FLAG_KEY;
        }
    }

    /* Registration and home board. */
    int64_t span = s->end - s->start;
    for (int64_t i = 0; i < n; i++) {
        member_t *m = &s->mem[i];
        int64_t width = span;
        if (m->group == G_VESTED) width = VESTED_REG_SECS < span ? VESTED_REG_SECS : span;
        if (m->group == G_MANAGERS) width = (int64_t)((double)span * MANAGER_REG_SHARE);
        m->reg = s->start + (int64_t)uniform_u64(s->rng, (uint64_t)width);
        m->home = (int32_t)gsl_ran_discrete(s->rng, s->board_tab);
    }
    qsort(s->mem, (size_t)n, sizeof(member_t), cmp_member);
    for (int64_t i = 0; i < n; i++) {
        s->mem[i].reg_month = month_of(s, s->mem[i].reg);
        s->group_count[s->mem[i].group]++;
    }

    /* Admins: the earliest registered members that are not key players. */
    for (int64_t i = 0; i < n && s->admins < ADMINS; i++) {
        if (s->mem[i].flags & FLAG_KEY) continue;
        s->mem[i].flags |= FLAG_ADMIN;
        s->admins++;
    }

    /* Bans: round(ban_rate * members) of the eligible members, uniformly. */
    int64_t ne = 0;
    for (int64_t i = 0; i < n; i++)
        if (!s->mem[i].flags && s->mem[i].reg < s->end - 2 * 3600) idx[ne++] = i;
    int64_t nb = llround(s->o->ban_rate * (double)n);
    if (nb > ne) nb = ne;
    for (int64_t j = 0; j < nb; j++) {
        int64_t k = j + (int64_t)uniform_u64(s->rng, (uint64_t)(ne - j));
        int64_t t = idx[j];
        idx[j] = idx[k];
        idx[k] = t;
        member_t *m = &s->mem[idx[j]];
        m->ban = m->reg + 3600 + (int64_t)uniform_u64(s->rng, (uint64_t)(s->end - m->reg - 3600));
    }
    s->st.banned = nb;
out:
    free(idx);
    return err;
}

/* The end of member m's activity: its ban or the forum's end. */
static int64_t active_end(const synth_t *s, const member_t *m)
{
    return m->ban ? m->ban : s->end;
}

static double member_mult(const member_t *m)
{
    return (m->flags & FLAG_KEY) ? KEY_RATE_MULT : 1.0;
}

/* ---- phase 2: the scale factor -------------------------------------------- */

static void compute_scale(synth_t *s)
{
    s->rate = fora_xmalloc((size_t)NGROUPS * (size_t)s->months * sizeof(double));
    for (int g = 0; g < NGROUPS; g++)
        for (int k = 0; k < s->months; k++)
            s->rate[g * s->months + k] =
                exp(GROUPS[g].b0 + GROUPS[g].b1 * k + GROUPS[g].b2 * (double)k * k);

    double expected = 0.0;
    for (int64_t i = 0; i < s->n; i++) {
        const member_t *m = &s->mem[i];
        int64_t aend = active_end(s, m);
        const double *rate = s->rate + m->group * s->months;
        double sum = 0.0;
        for (int mo = m->reg_month; mo < s->months && s->mbound[mo] < aend; mo++) {
            int64_t lo = m->reg > s->mbound[mo] ? m->reg : s->mbound[mo];
            int64_t hi = aend < s->mbound[mo + 1] ? aend : s->mbound[mo + 1];
            if (hi <= lo) continue;
            sum += rate[mo - m->reg_month] * (double)(hi - lo) /
                   (double)(s->mbound[mo + 1] - s->mbound[mo]);
        }
        expected += sum * (1.0 - GROUPS[m->group].zero_infl) * member_mult(m);
    }
    s->scale = expected > 0.0 ? (double)s->o->posts / expected : 0.0;

    double wsum = 0.0, shsum = 0.0;
    for (int g = 0; g < NGROUPS; g++) {
        wsum += GROUPS[g].share * GROUPS[g].event_weight;
        shsum += GROUPS[g].share;
    }
    for (int g = 0; g < NGROUPS; g++)
        s->ev_mean[g] = s->o->events_per_member * GROUPS[g].event_weight * shsum / wsum;
}

/* ---- phase 3: months ------------------------------------------------------- */

/* Appends (t - month start, member index) to a month buffer. */
static fora_err_t push(uint64_t **buf, size_t *n, size_t *cap, int64_t off, int64_t member,
                       fora_diag_t *diag)
{
    assert(off >= 0 && off < (1 << 22) && member >= 0 && member <= (int64_t)UINT32_MAX);
    uint64_t v = ((uint64_t)off << 32) | (uint64_t)member;
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 65536;
        uint64_t *nb = realloc(*buf, nc * sizeof(uint64_t));
        if (nb == NULL)
            return fora_diag_set(diag, FORA_ENOMEM, "no memory for %zu rows of one month", nc);
        *buf = nb;
        *cap = nc;
    }
    (*buf)[(*n)++] = v;
    return FORA_OK;
}

/* Stable LSD radix sort of buf[0..n) on bits 32..53 (the time offset, < 2^22). */
static fora_err_t sort_by_time(synth_t *s, uint64_t *buf, size_t n, fora_diag_t *diag)
{
    if (n < 2) return FORA_OK;
    if (s->tcap < n) {
        uint64_t *nb = realloc(s->tmp, n * sizeof(uint64_t));
        if (nb == NULL) return fora_diag_set(diag, FORA_ENOMEM, "no memory to sort a month");
        s->tmp = nb;
        s->tcap = n;
    }
    uint64_t *src = buf, *dst = s->tmp;
    /* two passes of 11 bits cover offsets below 2^22 s (48 days); ends in buf */
    for (int shift = 32; shift < 54; shift += 11) {
        size_t count[2048] = {0};
        for (size_t i = 0; i < n; i++)
            count[(src[i] >> shift) & 2047]++;
        size_t sum = 0;
        for (int b = 0; b < 2048; b++) {
            size_t c = count[b];
            count[b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[count[(src[i] >> shift) & 2047]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    assert(src == buf);
    return FORA_OK;
}

static void slot_unref(synth_t *s, int32_t slot)
{
    if (--s->slots[slot].refs == 0) s->free_slots[s->nfree++] = slot;
}

static void urn_push(synth_t *s, int32_t slot)
{
    s->slots[slot].refs++;
    if (s->urn_n == s->window) {
        int32_t old = s->urn[s->urn_pos];
        s->urn[s->urn_pos] = slot;
        slot_unref(s, old);
    } else {
        s->urn[s->urn_pos] = slot;
        s->urn_n++;
    }
    s->urn_pos = (s->urn_pos + 1) % s->window;
}

static void ring_push(synth_t *s, ring_t *r, int32_t slot)
{
    s->slots[slot].refs++;
    if (r->n == FRESH_RING) {
        int32_t old = r->slot[r->pos];
        r->slot[r->pos] = slot;
        slot_unref(s, old);
    } else {
        r->slot[r->pos] = slot;
        r->n++;
    }
    r->pos = (r->pos + 1) % FRESH_RING;
}

/* Drops threads started before t - FRESH_AGE (the ring is in time order). */
static void ring_expire(synth_t *s, ring_t *r, int64_t t)
{
    while (r->n > 0) {
        int32_t oldest = (r->pos - r->n + FRESH_RING) % FRESH_RING;
        if (s->slots[r->slot[oldest]].created >= t - FRESH_AGE) break;
        slot_unref(s, r->slot[oldest]);
        r->n--;
    }
}

static int32_t ring_pick(synth_t *s, const ring_t *r)
{
    int32_t oldest = (r->pos - r->n + FRESH_RING) % FRESH_RING;
    return r
        ->slot[(oldest + (int32_t)gsl_rng_uniform_int(s->rng, (unsigned long)r->n)) % FRESH_RING];
}

static int64_t latest(const tslot_t *t)
{
    return t->recent[(t->n - 1) % RECENT_KEPT];
}

typedef struct writers {
    fora_csv_writer_t *posts, *threads, *events;
} writers_t;

/* Assigns one post (time t, author index a, month mo) to a thread and writes it. */
static fora_err_t emit_post(synth_t *s, writers_t *w, int64_t t, int64_t a, int mo,
                            fora_diag_t *diag)
{
    const member_t *m = &s->mem[a];
    int64_t post_id = ++s->next_post;
    int64_t reply_to = 0;
    int32_t slot = -1;
    char b_post[24], b_thread[24], b_author[24], b_time[24], b_reply[24], b_board[24];

    bool key = (m->flags & FLAG_KEY) != 0;
    if (key) {
        ring_expire(s, &s->newcomer, t);
        ring_expire(s, &s->fresh, t);
    }
    if (key && s->fresh.n > 0 && gsl_rng_uniform(s->rng) < KEY_ANSWER_P) {
        /* a moderator answers a fresh thread, a newcomer's when there is one */
        bool nc = s->newcomer.n > 0 && gsl_rng_uniform(s->rng) < KEY_NEWCOMER_P;
        slot = ring_pick(s, nc ? &s->newcomer : &s->fresh);
        const tslot_t *th = &s->slots[slot];
        reply_to = gsl_rng_uniform(s->rng) < KEY_REPLY_FIRST_P ? th->first_post : latest(th);
    } else if (s->urn_n == 0 || gsl_rng_uniform(s->rng) < P_NEW_THREAD) {
        assert(s->nfree > 0);
        slot = s->free_slots[--s->nfree];
        tslot_t *th = &s->slots[slot];
        memset(th, 0, sizeof(*th));
        th->thread_id = ++s->next_thread;
        th->first_post = post_id;
        th->created = t;
        int32_t board = gsl_rng_uniform(s->rng) < HOME_BOARD_P
                            ? m->home
                            : (int32_t)gsl_ran_discrete(s->rng, s->board_tab);
        const char *row[4] = {fmt_i64(b_thread, th->thread_id), fmt_i64(b_board, board + 1),
                              fmt_i64(b_author, a + 1), fmt_time(b_time, t)};
        fora_err_t err = fora_csv_write(w->threads, 4, row, diag);
        if (err) return err;
        s->st.threads++;
        if (!key) {
            ring_push(s, &s->fresh, slot);
            if (mo - m->reg_month <= NEWCOMER_MONTHS) ring_push(s, &s->newcomer, slot);
        }
    } else {
        slot = s->urn[gsl_rng_uniform_int(s->rng, (unsigned long)s->urn_n)];
        const tslot_t *th = &s->slots[slot];
        double u = gsl_rng_uniform(s->rng);
        if (u < REPLY_FIRST_P) {
            reply_to = th->first_post;
        } else if (u < REPLY_FIRST_P + REPLY_LATEST_P) {
            reply_to = latest(th);
        } else {
            int64_t kept = th->n < RECENT_KEPT ? th->n : RECENT_KEPT;
            reply_to = th->recent[gsl_rng_uniform_int(s->rng, (unsigned long)kept)];
        }
    }

    tslot_t *th = &s->slots[slot];
    th->recent[th->n % RECENT_KEPT] = post_id;
    th->n++;
    const char *row[5] = {fmt_i64(b_post, post_id), fmt_i64(b_thread, th->thread_id),
                          fmt_i64(b_author, a + 1), fmt_time(b_time, t),
                          reply_to ? fmt_i64(b_reply, reply_to) : NULL};
    fora_err_t err = fora_csv_write(w->posts, 5, row, diag);
    if (err) return err;
    if (reply_to) s->st.replies++;
    s->st.posts++;
    urn_push(s, slot);
    return FORA_OK;
}

static fora_err_t emit_event(synth_t *s, writers_t *w, int64_t t, int64_t a, fora_diag_t *diag)
{
    char b_member[24], b_time[24], b_board[24];
    const member_t *m = &s->mem[a];
    size_t kind = gsl_ran_discrete(s->rng, s->kind_tab);
    int32_t board = gsl_rng_uniform(s->rng) < HOME_BOARD_P
                        ? m->home
                        : (int32_t)gsl_ran_discrete(s->rng, s->board_tab);
    const char *row[4] = {fmt_i64(b_member, a + 1), EVENT_KINDS[kind], fmt_time(b_time, t),
                          fmt_i64(b_board, board + 1)};
    fora_err_t err = fora_csv_write(w->events, 4, row, diag);
    if (err == FORA_OK) s->st.events++;
    return err;
}

static fora_err_t run_months(synth_t *s, writers_t *w, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    fora_progress_t prog;
    int64_t nreg = 0; /* members registered before the current month's end */
    fora_progress_begin(&prog, s->o->quiet, "synth posts", s->o->posts);

    for (int mo = 0; mo < s->months; mo++) {
        int64_t ms = s->mbound[mo], me = s->mbound[mo + 1];
        double mlen = (double)(me - ms);
        s->pn = s->en = 0;
        while (nreg < s->n && s->mem[nreg].reg < me)
            nreg++;
        for (int64_t i = 0; i < nreg; i++) {
            const member_t *m = &s->mem[i];
            int64_t aend = active_end(s, m);
            if (aend <= ms) continue;
            int64_t lo = m->reg > ms ? m->reg : ms;
            int64_t hi = aend < me ? aend : me;
            if (hi <= lo) continue;
            bool full = lo == ms && hi == me;
            int64_t dlo = full ? s->mday_lo[mo] : local_day(s, lo);
            int64_t dhi = full ? s->mday_hi[mo] : local_day(s, hi - 1);
            double expo = (double)(hi - lo) / mlen;
            const group_model_t *g = &GROUPS[m->group];

            int64_t np = 0;
            if (s->scale > 0.0 &&
                (g->zero_infl <= 0.0 || gsl_rng_uniform(s->rng) >= g->zero_infl)) {
                double mu = s->scale * expo * member_mult(m) *
                            s->rate[m->group * s->months + (mo - m->reg_month)];
                np = poisson(s->rng, mu);
            }
            for (int64_t j = 0; j < np; j++) {
                int64_t t = sample_time(s, lo, hi, dlo, dhi);
                err = push(&s->pbuf, &s->pn, &s->pcap, t - ms, i, diag);
                if (err) goto out;
            }
            if (s->ev_mean[m->group] > 0.0) {
                double mu = s->ev_mean[m->group] * (double)(hi - lo) / (double)(aend - m->reg);
                int64_t ne = poisson(s->rng, mu);
                for (int64_t j = 0; j < ne; j++) {
                    int64_t t = sample_time(s, lo, hi, dlo, dhi);
                    err = push(&s->ebuf, &s->en, &s->ecap, t - ms, i, diag);
                    if (err) goto out;
                }
            }
        }
        if ((err = sort_by_time(s, s->pbuf, s->pn, diag))) goto out;
        if ((err = sort_by_time(s, s->ebuf, s->en, diag))) goto out;
        for (size_t j = 0; j < s->pn; j++) {
            uint64_t v = s->pbuf[j];
            err = emit_post(s, w, ms + (int64_t)(v >> 32), (int64_t)(v & 0xffffffffu), mo, diag);
            if (err) goto out;
            if ((j & 0xffff) == 0) fora_progress_update(&prog, s->st.posts);
        }
        for (size_t j = 0; j < s->en; j++) {
            uint64_t v = s->ebuf[j];
            err = emit_event(s, w, ms + (int64_t)(v >> 32), (int64_t)(v & 0xffffffffu), diag);
            if (err) goto out;
        }
        fora_progress_update(&prog, s->st.posts);
    }
    fora_progress_end(&prog);
out:
    return err;
}

/* ---- the static files and the truth ------------------------------------ */

static fora_err_t write_static(synth_t *s, const char *dir, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    fora_csv_writer_t *wr = NULL;
    bool gz = s->o->gzip;
    char b1[24], b2[24], b3[24];

    if ((err = open_csv(dir, "forum", gz, &wr, diag))) goto out;
    {
        char source[64];
        snprintf(source, sizeof(source), "fora synth seed=%llu", (unsigned long long)s->o->seed);
        const char *h[3] = {"name", "source", "timezone"};
        const char *r[3] = {s->o->forum_name, source, s->o->timezone};
        if ((err = fora_csv_write(wr, 3, h, diag)) || (err = fora_csv_write(wr, 3, r, diag)))
            goto out;
    }
    if ((err = finish_csv(&wr, diag))) goto out;

    if ((err = open_csv(dir, "boards", gz, &wr, diag))) goto out;
    {
        const char *h[2] = {"board_id", "category"};
        if ((err = fora_csv_write(wr, 2, h, diag))) goto out;
        for (int64_t b = 0; b < s->o->boards; b++) {
            const char *r[2] = {fmt_i64(b1, b + 1), CATEGORIES[b % NCATEGORIES]};
            if ((err = fora_csv_write(wr, 2, r, diag))) goto out;
        }
    }
    if ((err = finish_csv(&wr, diag))) goto out;
    s->st.boards = s->o->boards;

    if ((err = open_csv(dir, "members", gz, &wr, diag))) goto out;
    {
        const char *h[4] = {"member_id", "registered_at", "status", "banned_at"};
        if ((err = fora_csv_write(wr, 4, h, diag))) goto out;
        for (int64_t i = 0; i < s->n; i++) {
            const member_t *m = &s->mem[i];
            const char *status = m->ban                    ? "banned"
                                 : (m->flags & FLAG_ADMIN) ? "admin"
                                 : (m->flags & FLAG_KEY)   ? "moderator"
                                                           : "member";
            const char *r[4] = {fmt_i64(b1, i + 1), fmt_time(b2, m->reg), status,
                                m->ban ? fmt_time(b3, m->ban) : NULL};
            if ((err = fora_csv_write(wr, 4, r, diag))) goto out;
        }
    }
    if ((err = finish_csv(&wr, diag))) goto out;
    s->st.members = s->n;

    if ((err = open_csv(dir, "truth_members", gz, &wr, diag))) goto out;
    {
        const char *h[3] = {"member_id", "group", "is_key_player"};
        if ((err = fora_csv_write(wr, 3, h, diag))) goto out;
        for (int64_t i = 0; i < s->n; i++) {
            const member_t *m = &s->mem[i];
            const char *r[3] = {fmt_i64(b1, i + 1), GROUPS[m->group].name,
                                (m->flags & FLAG_KEY) ? "1" : "0"};
            if ((err = fora_csv_write(wr, 3, r, diag))) goto out;
        }
    }
    err = finish_csv(&wr, diag);
out:
    if (wr) (void)fora_csv_finish(wr, NULL);
    return err;
}

static json_t *coef(double b0, double b1, double b2)
{
    return json_pack("{s:f, s:f, s:f}", "b0", b0, "b1", b1, "b2", b2);
}

static fora_err_t write_truth(synth_t *s, const char *dir, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    const fora_synth_opts_t *o = s->o;
    char *path = join_path(dir, "truth", ".json");
    json_t *root = json_object(), *opts = json_object(), *groups = json_array();
    json_t *keys = json_array(), *admins = json_array(), *hours = json_array();
    double shsum = 0.0;

    for (int g = 0; g < NGROUPS; g++)
        shsum += GROUPS[g].share;
    json_object_set_new(opts, "members", json_integer(o->members));
    json_object_set_new(opts, "posts", json_integer(o->posts));
    json_object_set_new(opts, "boards", json_integer(o->boards));
    json_object_set_new(opts, "months", json_integer(o->months));
    if (o->seed <= (uint64_t)INT64_MAX) {
        json_object_set_new(opts, "seed", json_integer((json_int_t)o->seed));
    } else {
        char b[24];
        snprintf(b, sizeof(b), "%llu", (unsigned long long)o->seed);
        json_object_set_new(opts, "seed", json_string(b));
    }
    json_object_set_new(opts, "timezone", json_string(o->timezone));
    json_object_set_new(opts, "forum_name", json_string(o->forum_name));
    json_object_set_new(opts, "key_players", json_integer(s->key_players));
    json_object_set_new(opts, "ban_rate", json_real(o->ban_rate));
    json_object_set_new(opts, "events_per_member", json_real(o->events_per_member));
    json_object_set_new(opts, "gzip", json_boolean(o->gzip));
    json_object_set_new(opts, "start_time", json_integer(o->start_time));

    for (int g = 0; g < NGROUPS; g++) {
        const group_model_t *gm = &GROUPS[g];
        json_t *jg = json_object();
        json_object_set_new(jg, "name", json_string(gm->name));
        json_object_set_new(jg, "share", json_real(gm->share));
        json_object_set_new(jg, "share_normalised", json_real(gm->share / shsum));
        json_object_set_new(jg, "members", json_integer(s->group_count[g]));
        json_object_set_new(jg, "shape", json_string(gm->shape));
        json_object_set_new(jg, "zero_inflation", json_real(gm->zero_infl));
        json_object_set_new(jg, "log_rate", coef(gm->b0, gm->b1, gm->b2));
        /* scale 0 (no posts): log(0) has no JSON form */
        json_object_set_new(jg, "log_rate_scaled",
                            s->scale > 0.0 ? coef(gm->b0 + log(s->scale), gm->b1, gm->b2)
                                           : json_null());
        json_object_set_new(jg, "events_mean", json_real(s->ev_mean[g]));
        json_array_append_new(groups, jg);
    }
    for (int64_t i = 0; i < s->n; i++) {
        if (s->mem[i].flags & FLAG_KEY) json_array_append_new(keys, json_integer(i + 1));
        if (s->mem[i].flags & FLAG_ADMIN) json_array_append_new(admins, json_integer(i + 1));
    }
    for (int h = 0; h < 24; h++)
        json_array_append_new(hours, json_real(HOUR_PROFILE[h] / 100.0));

    json_object_set_new(root, "generator", json_string("fora synth"));
    json_object_set_new(root, "model_version", json_integer(1));
    json_object_set_new(root, "options", opts);
    json_object_set_new(root, "scale", json_real(s->scale));
    json_object_set_new(root, "time_unit",
                        json_string("calendar month (UTC); k = month index "
                                    "minus registration month index"));
    json_object_set_new(root, "groups", groups);
    json_object_set_new(root, "key_player_rate_multiplier", json_real(KEY_RATE_MULT));
    json_object_set_new(root, "hour_profile_local", hours);
    json_object_set_new(root, "threads",
                        json_pack("{s:f, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:f}", "p_new_thread",
                                  P_NEW_THREAD, "window_posts", (json_int_t)s->window, "fresh_ring",
                                  (json_int_t)FRESH_RING, "fresh_days",
                                  (json_int_t)(FRESH_AGE / SECS_PER_DAY), "key_answer_p",
                                  KEY_ANSWER_P, "key_newcomer_p", KEY_NEWCOMER_P,
                                  "key_reply_first_p", KEY_REPLY_FIRST_P, "reply_first_p",
                                  REPLY_FIRST_P, "reply_latest_p", REPLY_LATEST_P));
    json_object_set_new(
        root, "stats",
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "members", (json_int_t)s->st.members,
                  "boards", (json_int_t)s->st.boards, "threads", (json_int_t)s->st.threads, "posts",
                  (json_int_t)s->st.posts, "events", (json_int_t)s->st.events, "replies",
                  (json_int_t)s->st.replies, "banned", (json_int_t)s->st.banned));
    json_object_set_new(root, "key_players", keys);
    json_object_set_new(root, "admins", admins);
    keys = admins = hours = groups = opts = NULL;

    if (json_dump_file(root, path,
                       JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) != 0)
        err = fora_diag_set(diag, FORA_EIO, "could not write \"%s\"", path);
    json_decref(root);
    free(path);
    return err;
}

/* ---- the entry point ------------------------------------------------------ */

static fora_err_t make_tables(synth_t *s, fora_diag_t *diag)
{
    double *w = fora_xmalloc((size_t)s->o->boards * sizeof(double));
    for (int64_t b = 0; b < s->o->boards; b++)
        w[b] = pow((double)(b + 1), -BOARD_ZIPF);
    s->board_tab = gsl_ran_discrete_preproc((size_t)s->o->boards, w);
    free(w);
    double gw[NGROUPS];
    for (int g = 0; g < NGROUPS; g++)
        gw[g] = GROUPS[g].share;
    s->group_tab = gsl_ran_discrete_preproc(NGROUPS, gw);
    s->hour_tab = gsl_ran_discrete_preproc(24, HOUR_PROFILE);
    s->kind_tab = gsl_ran_discrete_preproc(3, EVENT_KIND_P);
    if (!s->board_tab || !s->group_tab || !s->hour_tab || !s->kind_tab)
        return fora_diag_set(diag, FORA_ENOMEM, "no memory for the sampling tables");
    return FORA_OK;
}

fora_err_t fora_synth_write(const fora_synth_opts_t *o, const char *out_dir,
                            fora_synth_stats_t *stats, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    synth_t s;
    writers_t w = {NULL, NULL, NULL};
    memset(&s, 0, sizeof(s));
    if (stats) memset(stats, 0, sizeof(*stats));

    if ((err = check_opts(o, diag))) return err;
    if (out_dir == NULL || out_dir[0] == '\0')
        return fora_diag_set(diag, FORA_EINVAL, "no output folder given");

    s.o = o;
    s.n = o->members;
    s.months = o->months;
    s.start = o->start_time;
    s.key_players =
        o->key_players >= 0 ? o->key_players : (int)(o->members / 2000 > 3 ? o->members / 2000 : 3);
    if (s.key_players > o->members) s.key_players = (int)o->members;

    s.rng = gsl_rng_alloc(gsl_rng_mt19937);
    /* MT19937 takes 32 bits of seed: fold the high half in (0 means GSL's default 4357). */
    gsl_rng_set(s.rng, (unsigned long)((uint32_t)o->seed ^ (uint32_t)(o->seed >> 32)));
    if ((err = make_tables(&s, diag))) goto out;

    s.mbound = fora_xmalloc((size_t)(s.months + 1) * sizeof(int64_t));
    month_bounds(&s);
    if ((err = local_table(&s, diag))) goto out;
    s.mday_lo = fora_xmalloc((size_t)s.months * sizeof(int64_t));
    s.mday_hi = fora_xmalloc((size_t)s.months * sizeof(int64_t));
    for (int m = 0; m < s.months; m++) {
        s.mday_lo[m] = local_day(&s, s.mbound[m]);
        s.mday_hi[m] = local_day(&s, s.mbound[m + 1] - 1);
    }

    if ((err = make_members(&s, diag))) goto out;
    compute_scale(&s);

    double per_day = (double)o->posts / ((double)(s.end - s.start) / SECS_PER_DAY);
    double win = per_day * WINDOW_DAYS;
    s.window = win < WINDOW_MIN ? WINDOW_MIN : win > WINDOW_MAX ? WINDOW_MAX : (int32_t)win;
    int32_t nslots = s.window + 2 * FRESH_RING + 1;
    s.urn = fora_xmalloc((size_t)s.window * sizeof(int32_t));
    s.slots = fora_xcalloc((size_t)nslots, sizeof(tslot_t));
    s.free_slots = fora_xmalloc((size_t)nslots * sizeof(int32_t));
    for (int32_t i = 0; i < nslots; i++)
        s.free_slots[i] = nslots - 1 - i;
    s.nfree = nslots;

    if ((err = make_dirs(out_dir, diag))) goto out;
    if ((err = write_static(&s, out_dir, diag))) goto out;

    if ((err = open_csv(out_dir, "threads", o->gzip, &w.threads, diag))) goto out;
    if ((err = open_csv(out_dir, "posts", o->gzip, &w.posts, diag))) goto out;
    if ((err = open_csv(out_dir, "events", o->gzip, &w.events, diag))) goto out;
    {
        const char *th[4] = {"thread_id", "board_id", "starter_id", "created_at"};
        const char *ph[5] = {"post_id", "thread_id", "author_id", "created_at", "reply_to"};
        const char *eh[4] = {"member_id", "kind", "occurred_at", "board_id"};
        if ((err = fora_csv_write(w.threads, 4, th, diag))) goto out;
        if ((err = fora_csv_write(w.posts, 5, ph, diag))) goto out;
        if ((err = fora_csv_write(w.events, 4, eh, diag))) goto out;
    }
    if ((err = run_months(&s, &w, diag))) goto out;
    if ((err = finish_csv(&w.threads, diag))) goto out;
    if ((err = finish_csv(&w.posts, diag))) goto out;
    if ((err = finish_csv(&w.events, diag))) goto out;
    if ((err = write_truth(&s, out_dir, diag))) goto out;
    if (stats) *stats = s.st;

out:
    (void)fora_csv_finish(w.threads, NULL);
    (void)fora_csv_finish(w.posts, NULL);
    (void)fora_csv_finish(w.events, NULL);
    free(s.pbuf);
    free(s.ebuf);
    free(s.tmp);
    free(s.urn);
    free(s.slots);
    free(s.free_slots);
    free(s.rate);
    free(s.mem);
    free(s.mday_lo);
    free(s.mday_hi);
    free(s.local_hour);
    free(s.mbound);
    if (s.board_tab) gsl_ran_discrete_free(s.board_tab);
    if (s.group_tab) gsl_ran_discrete_free(s.group_tab);
    if (s.hour_tab) gsl_ran_discrete_free(s.hour_tab);
    if (s.kind_tab) gsl_ran_discrete_free(s.kind_tab);
    if (s.rng) gsl_rng_free(s.rng);
    return err;
}
