/*
 * tests/unit/test_synth.c - fora_synth_write(): options, determinism,
 * referential integrity of the bundle, and the planted truth (group shares,
 * trajectories, key players, bans, circadian profile in the forum's zone).
 */
#define _GNU_SOURCE /* nftw's FTW_DEPTH/FTW_PHYS */
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fora/csv.h"
#include "fora/synth.h"
#include "fora_test.h"

/* ---- helpers ----------------------------------------------------------- */

typedef struct table {
    size_t ncols, nrows;
    char **header; /* ncols */
    char **cells;  /* nrows * ncols */
} table_t;

static table_t load(const char *dir, const char *name)
{
    table_t t = {0, 0, NULL, NULL};
    char path[512];
    fora_diag_t d = FORA_DIAG_INIT;
    fora_csv_reader_t *r = NULL;
    size_t cap = 0, nf;
    char **f;
    size_t *lens;
    int64_t line;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    ASSERT_OK(fora_csv_open(path, &r, &d), &d);
    ASSERT_OK(fora_csv_next(r, &nf, &f, &lens, &line, &d), &d);
    t.ncols = nf;
    t.header = calloc(nf, sizeof(char *));
    for (size_t i = 0; i < nf; i++)
        t.header[i] = strdup(f[i]);
    for (;;) {
        fora_err_t e = fora_csv_next(r, &nf, &f, &lens, &line, &d);
        if (e == FORA_ENOTFOUND) break;
        ASSERT_OK(e, &d);
        ASSERT_EQ(nf, t.ncols);
        if ((t.nrows + 1) * t.ncols > cap) {
            cap = cap ? cap * 2 : 1024 * t.ncols;
            t.cells = realloc(t.cells, cap * sizeof(char *));
        }
        for (size_t i = 0; i < nf; i++)
            t.cells[t.nrows * t.ncols + i] = strdup(f[i]);
        t.nrows++;
    }
    fora_csv_close(r);
    return t;
}

static void table_free(table_t *t)
{
    for (size_t i = 0; i < t->ncols; i++)
        free(t->header[i]);
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->header);
    free(t->cells);
}

static size_t col(const table_t *t, const char *name)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (strcmp(t->header[i], name) == 0) return i;
    FORA_FAIL("no column \"%s\"", name);
}

static const char *cell(const table_t *t, size_t row, size_t c)
{
    return t->cells[row * t->ncols + c];
}

static int64_t num(const char *s)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*s == '\0' || *end != '\0') FORA_FAIL("not an integer: \"%s\"", s);
    return v;
}

/* "2015-01-01T12:00:00Z" -> Unix seconds */
static int64_t ts(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    char z = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &z) != 7 ||
        z != 'Z' || strlen(s) != 20)
        FORA_FAIL("bad timestamp \"%s\"", s);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb;
    (void)flag;
    (void)f;
    return remove(p);
}

static void rm_rf(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *make_tmp(void)
{
    char tmpl[] = "/tmp/fora_test_synth_XXXXXX";
    char *d = mkdtemp(tmpl);
    ASSERT(d != NULL);
    return strdup(d);
}

static bool same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    ASSERT(fa != NULL && fb != NULL);
    bool same = true;
    for (;;) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb) {
            same = false;
            break;
        }
        if (ca == EOF) break;
    }
    fclose(fa);
    fclose(fb);
    return same;
}

static const char *const FILES[] = {"forum.csv", "boards.csv", "members.csv",       "threads.csv",
                                    "posts.csv", "events.csv", "truth_members.csv", "truth.json"};
#define NFILES (sizeof(FILES) / sizeof(FILES[0]))

static const char *const GROUP_NAMES[] = {"lurkers",    "browsers", "interested",
                                          "escalators", "vested",   "managers"};
static const double GROUP_SHARES[] = {0.588, 0.091, 0.111, 0.158, 0.045, 0.008};

static int group_index(const char *name)
{
    for (int g = 0; g < 6; g++)
        if (strcmp(name, GROUP_NAMES[g]) == 0) return g;
    FORA_FAIL("unknown group \"%s\"", name);
}

/* ---- the shared medium-size forum ---------------------------------------- */

static char *g_dir;
static fora_synth_opts_t g_opts;
static fora_synth_stats_t g_stats;

static void make_forum(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_synth_opts_default(&g_opts);
    g_opts.members = 20000;
    g_opts.posts = 120000;
    g_opts.seed = 42;
    g_opts.quiet = true;
    g_dir = make_tmp();
    char sub[600];
    snprintf(sub, sizeof(sub), "%s/nested/out", g_dir); /* created with its parents */
    ASSERT_OK(fora_synth_write(&g_opts, sub, &g_stats, &d), &d);
    free(g_dir);
    g_dir = strdup(sub);
}

/* ---- cases --------------------------------------------------------------- */

static void expect_einval(const fora_synth_opts_t *o, const char *option)
{
    fora_diag_t d = FORA_DIAG_INIT;
    char *dir = make_tmp();
    fora_err_t e = fora_synth_write(o, dir, NULL, &d);
    ASSERT_EQ(e, FORA_EINVAL);
    char quoted[64];
    snprintf(quoted, sizeof(quoted), "\"%s\"", option);
    if (strstr(d.msg, quoted) == NULL) FORA_FAIL("diag \"%s\" does not name %s", d.msg, quoted);
    rm_rf(dir);
    free(dir);
}

static void test_bad_options(void)
{
    fora_synth_opts_t o;
    fora_synth_opts_default(&o);
    o.quiet = true;
    o.members = 0;
    expect_einval(&o, "members");
    fora_synth_opts_default(&o);
    o.posts = -1;
    expect_einval(&o, "posts");
    fora_synth_opts_default(&o);
    o.months = 0;
    expect_einval(&o, "months");
    fora_synth_opts_default(&o);
    o.boards = 0;
    expect_einval(&o, "boards");
    fora_synth_opts_default(&o);
    o.timezone = "Mars/Olympus_Mons";
    expect_einval(&o, "timezone");
    o.timezone = "../../etc/passwd";
    expect_einval(&o, "timezone");
    o.timezone = "";
    expect_einval(&o, "timezone");
    fora_synth_opts_default(&o);
    o.ban_rate = 1.5;
    expect_einval(&o, "ban_rate");
    fora_synth_opts_default(&o);
    o.events_per_member = -1;
    expect_einval(&o, "events_per_member");
    fora_synth_opts_default(&o);
    o.members = 10;
    o.key_players = 11;
    expect_einval(&o, "key_players");

    /* an output "folder" that is a file: EIO naming it */
    fora_diag_t d = FORA_DIAG_INIT;
    char *dir = make_tmp();
    char file[600];
    snprintf(file, sizeof(file), "%s/plain", dir);
    FILE *f = fopen(file, "w");
    ASSERT(f != NULL);
    fclose(f);
    fora_synth_opts_default(&o);
    o.members = 10;
    o.posts = 10;
    o.quiet = true;
    ASSERT_EQ(fora_synth_write(&o, file, NULL, &d), FORA_EIO);
    ASSERT(strstr(d.msg, "plain") != NULL);
    rm_rf(dir);
    free(dir);
}

static void test_determinism(void)
{
    fora_synth_opts_t o;
    fora_diag_t d = FORA_DIAG_INIT;
    fora_synth_stats_t s1, s2, s3;
    fora_synth_opts_default(&o);
    o.members = 1500;
    o.posts = 15000;
    o.months = 24;
    o.seed = 7;
    o.quiet = true;
    char *a = make_tmp(), *b = make_tmp(), *c = make_tmp();

    /* TZ is restored whether it was set ... */
    setenv("TZ", "America/New_York", 1);
    ASSERT_OK(fora_synth_write(&o, a, &s1, &d), &d);
    ASSERT(getenv("TZ") != NULL);
    ASSERT_STR_EQ(getenv("TZ"), "America/New_York");
    /* ... or not */
    unsetenv("TZ");
    ASSERT_OK(fora_synth_write(&o, b, &s2, &d), &d);
    ASSERT(getenv("TZ") == NULL);
    o.seed = 8;
    ASSERT_OK(fora_synth_write(&o, c, &s3, &d), &d);

    ASSERT_EQ(s1.posts, s2.posts);
    ASSERT_EQ(s1.threads, s2.threads);
    ASSERT_EQ(s1.events, s2.events);
    char pa[600], pb[600], pc[600];
    for (size_t i = 0; i < NFILES; i++) {
        snprintf(pa, sizeof(pa), "%s/%s", a, FILES[i]);
        snprintf(pb, sizeof(pb), "%s/%s", b, FILES[i]);
        if (!same_file(pa, pb))
            FORA_FAIL("%s differs between two runs with the same seed", FILES[i]);
    }
    const char *differ[] = {"members.csv", "threads.csv", "posts.csv", "events.csv",
                            "truth_members.csv"};
    for (size_t i = 0; i < 5; i++) {
        snprintf(pa, sizeof(pa), "%s/%s", a, differ[i]);
        snprintf(pc, sizeof(pc), "%s/%s", c, differ[i]);
        if (same_file(pa, pc)) FORA_FAIL("%s is the same for seeds 7 and 8", differ[i]);
    }
    rm_rf(a);
    rm_rf(b);
    rm_rf(c);
    free(a);
    free(b);
    free(c);
}

static void test_gzip(void)
{
    fora_synth_opts_t o;
    fora_diag_t d = FORA_DIAG_INIT;
    fora_synth_stats_t st;
    fora_synth_opts_default(&o);
    o.members = 300;
    o.posts = 3000;
    o.months = 6;
    o.gzip = true;
    o.quiet = true;
    o.timezone = "UTC";
    char *dir = make_tmp();
    ASSERT_OK(fora_synth_write(&o, dir, &st, &d), &d);
    char p[600];
    snprintf(p, sizeof(p), "%s/posts.csv", dir);
    ASSERT(access(p, F_OK) != 0);
    snprintf(p, sizeof(p), "%s/posts.csv.gz", dir);
    FILE *f = fopen(p, "rb");
    ASSERT(f != NULL);
    ASSERT_EQ(fgetc(f), 0x1f); /* gzip magic */
    ASSERT_EQ(fgetc(f), 0x8b);
    fclose(f);
    table_t posts = load(dir, "posts.csv.gz");
    ASSERT_EQ(posts.nrows, st.posts);
    table_free(&posts);
    table_t members = load(dir, "truth_members.csv.gz");
    ASSERT_EQ(members.nrows, 300);
    table_free(&members);
    rm_rf(dir);
    free(dir);
}

/* Every reference resolves; time order; replies earlier and in the same thread. */
static void test_integrity(void)
{
    table_t boards = load(g_dir, "boards.csv"), members = load(g_dir, "members.csv");
    table_t threads = load(g_dir, "threads.csv"), posts = load(g_dir, "posts.csv");
    table_t events = load(g_dir, "events.csv"), forum = load(g_dir, "forum.csv");

    ASSERT_EQ(forum.nrows, 1);
    ASSERT_STR_EQ(cell(&forum, 0, col(&forum, "timezone")), "Europe/Amsterdam");
    ASSERT_STR_EQ(cell(&forum, 0, col(&forum, "name")), "synth");
    ASSERT_EQ(boards.nrows, g_opts.boards);
    ASSERT_EQ(members.nrows, g_opts.members);
    ASSERT_EQ(threads.nrows, g_stats.threads);
    ASSERT_EQ(posts.nrows, g_stats.posts);
    ASSERT_EQ(events.nrows, g_stats.events);
    ASSERT_EQ(g_stats.replies, g_stats.posts - g_stats.threads);

    size_t bid = col(&boards, "board_id"), bcat = col(&boards, "category");
    for (size_t i = 0; i < boards.nrows; i++) {
        ASSERT_EQ(num(cell(&boards, i, bid)), (int64_t)i + 1);
        ASSERT(strlen(cell(&boards, i, bcat)) > 0);
    }

    int64_t nm = (int64_t)members.nrows;
    int64_t *reg = calloc((size_t)nm + 1, sizeof(int64_t));
    int64_t *ban = calloc((size_t)nm + 1, sizeof(int64_t));
    size_t mid = col(&members, "member_id"), mreg = col(&members, "registered_at");
    size_t mban = col(&members, "banned_at");
    int64_t start = g_opts.start_time, end_max = start + (int64_t)g_opts.months * 31 * 86400;
    for (size_t i = 0; i < members.nrows; i++) {
        int64_t id = num(cell(&members, i, mid));
        ASSERT_EQ(id, (int64_t)i + 1);
        reg[id] = ts(cell(&members, i, mreg));
        ASSERT(reg[id] >= start && reg[id] < end_max);
        if (i > 0) ASSERT(reg[id] >= reg[id - 1]); /* ids follow registration */
        const char *b = cell(&members, i, mban);
        if (*b) ban[id] = ts(b);
    }

    int64_t nt = (int64_t)threads.nrows;
    int64_t *tcreated = calloc((size_t)nt + 1, sizeof(int64_t));
    int64_t *tstarter = calloc((size_t)nt + 1, sizeof(int64_t));
    int64_t *tfirst = calloc((size_t)nt + 1, sizeof(int64_t));
    size_t tid = col(&threads, "thread_id"), tb = col(&threads, "board_id");
    size_t ts_ = col(&threads, "starter_id"), tc = col(&threads, "created_at");
    for (size_t i = 0; i < threads.nrows; i++) {
        int64_t id = num(cell(&threads, i, tid));
        ASSERT_EQ(id, (int64_t)i + 1);
        int64_t b = num(cell(&threads, i, tb));
        ASSERT(b >= 1 && b <= g_opts.boards);
        tstarter[id] = num(cell(&threads, i, ts_));
        ASSERT(tstarter[id] >= 1 && tstarter[id] <= nm);
        tcreated[id] = ts(cell(&threads, i, tc));
        if (i > 0) ASSERT(tcreated[id] >= tcreated[id - 1]);
    }

    int64_t np = (int64_t)posts.nrows;
    int64_t *pthread = calloc((size_t)np + 1, sizeof(int64_t));
    size_t pid = col(&posts, "post_id"), pt = col(&posts, "thread_id");
    size_t pa = col(&posts, "author_id"), pc = col(&posts, "created_at");
    size_t pr = col(&posts, "reply_to");
    int64_t prev = INT64_MIN;
    for (size_t i = 0; i < posts.nrows; i++) {
        int64_t id = num(cell(&posts, i, pid));
        ASSERT_EQ(id, (int64_t)i + 1);
        int64_t th = num(cell(&posts, i, pt));
        ASSERT(th >= 1 && th <= nt);
        pthread[id] = th;
        int64_t a = num(cell(&posts, i, pa));
        ASSERT(a >= 1 && a <= nm);
        int64_t t = ts(cell(&posts, i, pc));
        ASSERT(t >= prev); /* non-decreasing */
        prev = t;
        ASSERT(t >= tcreated[th]);
        ASSERT(t >= reg[a]);
        if (ban[a]) ASSERT(t < ban[a]); /* banned members stop at the ban */
        const char *r = cell(&posts, i, pr);
        if (tfirst[th] == 0) {
            /* the thread's first post: starts it, replies to nothing */
            tfirst[th] = id;
            ASSERT_EQ(*r, '\0');
            ASSERT_EQ(t, tcreated[th]);
            ASSERT_EQ(a, tstarter[th]);
        } else {
            int64_t to = num(r);
            ASSERT(to >= 1 && to < id);
            ASSERT_EQ(pthread[to], th);
        }
    }
    for (int64_t th = 1; th <= nt; th++)
        ASSERT(tfirst[th] != 0); /* no empty thread */

    size_t em = col(&events, "member_id"), ek = col(&events, "kind");
    size_t eo = col(&events, "occurred_at"), eb = col(&events, "board_id");
    prev = INT64_MIN;
    for (size_t i = 0; i < events.nrows; i++) {
        int64_t a = num(cell(&events, i, em));
        ASSERT(a >= 1 && a <= nm);
        const char *k = cell(&events, i, ek);
        ASSERT(strcmp(k, "visit") == 0 || strcmp(k, "click") == 0 || strcmp(k, "download") == 0);
        int64_t t = ts(cell(&events, i, eo));
        ASSERT(t >= prev);
        prev = t;
        ASSERT(t >= reg[a]);
        if (ban[a]) ASSERT(t < ban[a]);
        int64_t b = num(cell(&events, i, eb));
        ASSERT(b >= 1 && b <= g_opts.boards);
    }

    free(reg);
    free(ban);
    free(tcreated);
    free(tstarter);
    free(tfirst);
    free(pthread);
    table_free(&boards);
    table_free(&members);
    table_free(&threads);
    table_free(&posts);
    table_free(&events);
    table_free(&forum);
}

static void test_totals(void)
{
    ASSERT_NEAR(g_stats.posts, g_opts.posts, 0.03);
    ASSERT_NEAR(g_stats.events, (double)g_opts.members * g_opts.events_per_member, 0.03);
    /* heavy-tailed threads: mean around 1/p_new, largest far above it */
    double mean = (double)g_stats.posts / (double)g_stats.threads;
    ASSERT(mean > 5 && mean < 12);
    table_t posts = load(g_dir, "posts.csv");
    int64_t *size = calloc((size_t)g_stats.threads + 1, sizeof(int64_t));
    int64_t max = 0, singles = 0;
    size_t pt = col(&posts, "thread_id");
    for (size_t i = 0; i < posts.nrows; i++)
        size[num(cell(&posts, i, pt))]++;
    for (int64_t t = 1; t <= g_stats.threads; t++) {
        if (size[t] > max) max = size[t];
        singles += size[t] == 1;
    }
    ASSERT(max > 20 * mean);
    ASSERT(singles > g_stats.threads / 5);
    free(size);
    table_free(&posts);
}

/* Group shares, key players, admins and bans as planted. */
static void test_planted_members(void)
{
    table_t truth = load(g_dir, "truth_members.csv"), members = load(g_dir, "members.csv");
    ASSERT_EQ(truth.nrows, members.nrows);
    size_t tg = col(&truth, "group"), tk = col(&truth, "is_key_player"),
           tid = col(&truth, "member_id");
    size_t ms = col(&members, "status"), mr = col(&members, "registered_at");
    size_t mb = col(&members, "banned_at");
    int64_t count[6] = {0}, keys = 0, admins = 0, banned = 0, n = (int64_t)truth.nrows;
    int64_t key_expected = g_opts.members / 2000 > 3 ? g_opts.members / 2000 : 3;
    int64_t end = g_opts.start_time + (int64_t)g_opts.months * 31 * 86400;

    for (size_t i = 0; i < truth.nrows; i++) {
        ASSERT_EQ(num(cell(&truth, i, tid)), (int64_t)i + 1);
        int g = group_index(cell(&truth, i, tg));
        count[g]++;
        const char *status = cell(&members, i, ms);
        int64_t reg = ts(cell(&members, i, mr));
        const char *b = cell(&members, i, mb);
        bool key = strcmp(cell(&truth, i, tk), "1") == 0;
        if (key) {
            keys++;
            ASSERT_STR_EQ(status, "moderator");
            ASSERT_STR_EQ(cell(&truth, i, tg), "managers");
        } else {
            ASSERT_STR_EQ(cell(&truth, i, tk), "0");
        }
        if (strcmp(status, "admin") == 0) admins++;
        if (*b) {
            banned++;
            ASSERT_STR_EQ(status, "banned");
            int64_t bt = ts(b);
            ASSERT(bt > reg);
            ASSERT(bt < end);
        } else {
            ASSERT(strcmp(status, "banned") != 0);
        }
        if (g == 4) ASSERT(reg < g_opts.start_time + 7 * 86400); /* vested: first week */
    }
    for (int g = 0; g < 6; g++) {
        double p = GROUP_SHARES[g] / 1.001; /* the published shares sum to 100.1 % */
        double se = sqrt(p * (1 - p) / (double)n);
        double got = (double)count[g] / (double)n;
        if (fabs(got - p) > 4.5 * se)
            FORA_FAIL("group %s: share %.4f, planted %.4f (se %.4f)", GROUP_NAMES[g], got, p, se);
    }
    ASSERT_EQ(keys, key_expected);
    ASSERT_EQ(admins, 2);
    ASSERT_EQ(banned, (int64_t)llround(g_opts.ban_rate * (double)n));
    ASSERT_EQ(banned, g_stats.banned);
    table_free(&truth);
    table_free(&members);
}

typedef struct pair {
    int64_t author, thread;
} pair_t;

static int cmp_pair(const void *a, const void *b)
{
    const pair_t *x = a, *y = b;
    if (x->author != y->author) return x->author < y->author ? -1 : 1;
    return (x->thread > y->thread) - (x->thread < y->thread);
}

static int64_t *g_distinct;

static int cmp_rank(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    if (g_distinct[x] != g_distinct[y]) return g_distinct[x] > g_distinct[y] ? -1 : 1;
    return (x > y) - (x < y);
}

/* Calendar months since 2015-01 (the shared forum's start). */
static int month_index(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    return (tm.tm_year - 115) * 12 + tm.tm_mon;
}

/*
 * Key players are among the top members by distinct threads replied in, reply
 * across many boards, and answer newcomers' threads far more than others do.
 */
static void test_key_players_central(void)
{
    table_t posts = load(g_dir, "posts.csv"), truth = load(g_dir, "truth_members.csv");
    table_t threads = load(g_dir, "threads.csv"), members = load(g_dir, "members.csv");
    int64_t nm = (int64_t)truth.nrows;
    pair_t *pairs = malloc(posts.nrows * sizeof(pair_t));
    size_t n = 0, pa = col(&posts, "author_id"), pt = col(&posts, "thread_id");
    size_t pr = col(&posts, "reply_to");
    for (size_t i = 0; i < posts.nrows; i++) {
        if (*cell(&posts, i, pr) == '\0') continue;
        pairs[n].author = num(cell(&posts, i, pa));
        pairs[n].thread = num(cell(&posts, i, pt));
        n++;
    }
    qsort(pairs, n, sizeof(pair_t), cmp_pair);
    g_distinct = calloc((size_t)nm + 1, sizeof(int64_t));
    for (size_t i = 0; i < n; i++)
        if (i == 0 || cmp_pair(&pairs[i], &pairs[i - 1]) != 0) g_distinct[pairs[i].author]++;

    int64_t *order = malloc((size_t)nm * sizeof(int64_t));
    for (int64_t i = 0; i < nm; i++)
        order[i] = i + 1;
    qsort(order, (size_t)nm, sizeof(int64_t), cmp_rank);
    int64_t *rank = calloc((size_t)nm + 1, sizeof(int64_t));
    for (int64_t i = 0; i < nm; i++)
        rank[order[i]] = i;

    /* each thread's board, and whether a newcomer (k <= 1) started it */
    int64_t *tboard = calloc(threads.nrows + 1, sizeof(int64_t));
    bool *tnew = calloc(threads.nrows + 1, sizeof(bool));
    size_t tsc = col(&threads, "starter_id"), tca = col(&threads, "created_at");
    size_t mr = col(&members, "registered_at");
    for (size_t i = 0; i < threads.nrows; i++) {
        tboard[i + 1] = num(cell(&threads, i, col(&threads, "board_id")));
        int64_t st = num(cell(&threads, i, tsc));
        int k = month_index(ts(cell(&threads, i, tca))) -
                month_index(ts(cell(&members, (size_t)st - 1, mr)));
        tnew[i + 1] = k <= 1;
    }
    size_t tk = col(&truth, "is_key_player");
    double key_rep = 0, key_new = 0, other_rep = 0, other_new = 0;
    for (size_t j = 0; j < n; j++) {
        bool key = strcmp(cell(&truth, (size_t)pairs[j].author - 1, tk), "1") == 0;
        *(key ? &key_rep : &other_rep) += 1;
        *(key ? &key_new : &other_new) += tnew[pairs[j].thread];
    }
    ASSERT(key_rep > 0 && other_rep > 0);
    if (key_new / key_rep < 2.5 * (other_new / other_rep))
        FORA_FAIL("key players: %.3f of replies in newcomers' threads, others %.3f",
                  key_new / key_rep, other_new / other_rep);

    int64_t keys = 0;
    for (int64_t i = 0; i < nm; i++) {
        if (strcmp(cell(&truth, (size_t)i, tk), "1") != 0) continue;
        keys++;
        int64_t id = i + 1;
        bool seen[64] = {false};
        int nb = 0;
        for (size_t j = 0; j < n; j++) {
            if (pairs[j].author != id) continue;
            int64_t b = tboard[pairs[j].thread];
            if (b < 64 && !seen[b]) {
                seen[b] = true;
                nb++;
            }
        }
        if (rank[id] >= 2 * 10)
            FORA_FAIL("key player %lld ranks %lld by distinct threads replied in (%lld)",
                      (long long)id, (long long)rank[id], (long long)g_distinct[id]);
        ASSERT(nb >= g_opts.boards / 2); /* across many boards */
    }
    ASSERT_EQ(keys, 10);
    free(tboard);
    free(tnew);
    free(rank);
    free(order);
    free(g_distinct);
    free(pairs);
    table_free(&posts);
    table_free(&truth);
    table_free(&threads);
    table_free(&members);
}

/* Posts per member-month of group g over career months k0..k1. */
static double rate(const double *pc, const double *mm, int months, int g, int k0, int k1)
{
    double p = 0, m = 0;
    for (int k = k0; k <= k1 && k < months; k++) {
        p += pc[g * months + k];
        m += mm[g * months + k];
    }
    return m > 0 ? p / m : 0.0;
}

/* Posts per member-month follow the planted trajectories' shapes. */
static void test_trajectories(void)
{
    table_t posts = load(g_dir, "posts.csv"), truth = load(g_dir, "truth_members.csv");
    table_t members = load(g_dir, "members.csv");
    int64_t nm = (int64_t)truth.nrows;
    int *group = malloc((size_t)nm * sizeof(int));
    int *regm = malloc((size_t)nm * sizeof(int));
    bool *banned = malloc((size_t)nm * sizeof(bool));
    size_t tg = col(&truth, "group"), mr = col(&members, "registered_at");
    size_t mb = col(&members, "banned_at");
    int months = g_opts.months;
    for (int64_t i = 0; i < nm; i++) {
        group[i] = group_index(cell(&truth, (size_t)i, tg));
        time_t t = (time_t)ts(cell(&members, (size_t)i, mr));
        struct tm tm;
        gmtime_r(&t, &tm);
        regm[i] = (tm.tm_year - 115) * 12 + tm.tm_mon; /* months since 2015-01 */
        banned[i] = *cell(&members, (size_t)i, mb) != '\0';
    }
    /* posts[g][k] and member-months[g][k], full months of unbanned members (k >= 1) */
    double *pc = calloc((size_t)6 * (size_t)months, sizeof(double));
    double *mm = calloc((size_t)6 * (size_t)months, sizeof(double));
    for (int64_t i = 0; i < nm; i++) {
        if (banned[i]) continue;
        for (int k = 1; regm[i] + k < months; k++)
            mm[group[i] * months + k] += 1;
    }
    size_t pa = col(&posts, "author_id"), pt = col(&posts, "created_at");
    for (size_t j = 0; j < posts.nrows; j++) {
        int64_t a = num(cell(&posts, j, pa)) - 1;
        if (banned[a]) continue;
        time_t t = (time_t)ts(cell(&posts, j, pt));
        struct tm tm;
        gmtime_r(&t, &tm);
        int k = (tm.tm_year - 115) * 12 + tm.tm_mon - regm[a];
        if (k >= 1) pc[group[a] * months + k] += 1;
    }
    double inter_early = rate(pc, mm, months, 2, 1, 6),
           inter_late = rate(pc, mm, months, 2, 25, 36);
    double esc_early = rate(pc, mm, months, 3, 1, 6), esc_late = rate(pc, mm, months, 3, 25, 36);
    double lurk = rate(pc, mm, months, 0, 1, 59), browse = rate(pc, mm, months, 1, 1, 59),
           vested = rate(pc, mm, months, 4, 1, 59);
    double man = rate(pc, mm, months, 5, 1, 59);
    /* interested: exp(-0.08 * ~25) ~ 0.14 of the early rate; escalators rise ~ 5x */
    ASSERT(inter_late < 0.4 * inter_early);
    ASSERT(esc_late > 2.5 * esc_early);
    ASSERT(lurk < 0.02);
    ASSERT(lurk < browse && browse < vested && vested < man);
    /* the planted rate ratio vested/browsers is exp(0.6 + 2.3) ~ 18 */
    ASSERT(vested / browse > 12 && vested / browse < 27);
    free(pc);
    free(mm);
    free(group);
    free(regm);
    free(banned);
    table_free(&posts);
    table_free(&truth);
    table_free(&members);
}

/* Local hour-of-day peaks at 21:00 and dips at 05:00; in UTC it is shifted. */
static void test_hours(void)
{
    static const double planted[24] = {5.0, 3.5, 2.3, 1.5, 1.0, 0.7, 1.0, 1.6, 2.4, 3.2, 3.8, 4.2,
                                       4.6, 4.6, 4.5, 4.6, 5.1, 5.5, 6.1, 6.6, 7.0, 8.0, 7.0, 6.2};
    table_t posts = load(g_dir, "posts.csv");
    int64_t local[24] = {0}, winter[24] = {0}, summer[24] = {0};
    const char *old = getenv("TZ");
    char *saved = old ? strdup(old) : NULL;
    setenv("TZ", "Europe/Amsterdam", 1);
    tzset();
    size_t pc = col(&posts, "created_at");
    for (size_t i = 0; i < posts.nrows; i++) {
        time_t t = (time_t)ts(cell(&posts, i, pc));
        struct tm lt, ut;
        localtime_r(&t, &lt);
        gmtime_r(&t, &ut);
        local[lt.tm_hour]++;
        if (ut.tm_mon == 11 || ut.tm_mon <= 1) winter[ut.tm_hour]++;
        if (ut.tm_mon >= 5 && ut.tm_mon <= 7) summer[ut.tm_hour]++;
    }
    if (saved) {
        setenv("TZ", saved, 1);
    } else {
        unsetenv("TZ");
    }
    tzset();
    free(saved);

    int lmax = 0, lmin = 0, wmax = 0, smax = 0, wmin = 0, smin = 0;
    double tv = 0;
    for (int h = 0; h < 24; h++) {
        if (local[h] > local[lmax]) lmax = h;
        if (local[h] < local[lmin]) lmin = h;
        if (winter[h] > winter[wmax]) wmax = h;
        if (winter[h] < winter[wmin]) wmin = h;
        if (summer[h] > summer[smax]) smax = h;
        if (summer[h] < summer[smin]) smin = h;
        tv += fabs((double)local[h] / (double)posts.nrows - planted[h] / 100.0);
    }
    ASSERT_EQ(lmax, 21);
    ASSERT_EQ(lmin, 5);
    ASSERT(tv / 2 < 0.02);
    /* Amsterdam is UTC+1 in winter (CET) and UTC+2 in summer (CEST) */
    ASSERT_EQ(wmax, 20);
    ASSERT_EQ(wmin, 4);
    ASSERT_EQ(smax, 19);
    ASSERT_EQ(smin, 3);
    table_free(&posts);
}

/* A tiny forum: more key players than managers get converted; no posts is fine. */
static void test_edges(void)
{
    fora_synth_opts_t o;
    fora_diag_t d = FORA_DIAG_INIT;
    fora_synth_stats_t st;
    fora_synth_opts_default(&o);
    o.members = 5;
    o.posts = 0;
    o.months = 1;
    o.events_per_member = 0;
    o.quiet = true;
    char *dir = make_tmp();
    ASSERT_OK(fora_synth_write(&o, dir, &st, &d), &d);
    ASSERT_EQ(st.posts, 0);
    ASSERT_EQ(st.threads, 0);
    ASSERT_EQ(st.events, 0);
    table_t truth = load(dir, "truth_members.csv");
    int keys = 0;
    for (size_t i = 0; i < truth.nrows; i++) {
        if (strcmp(cell(&truth, i, col(&truth, "is_key_player")), "1") == 0) {
            keys++;
            ASSERT_STR_EQ(cell(&truth, i, col(&truth, "group")), "managers");
        }
    }
    ASSERT_EQ(keys, 3);
    table_free(&truth);
    rm_rf(dir);

    o.members = 50;
    o.posts = 2000;
    o.key_players = 0;
    o.ban_rate = 0;
    ASSERT_OK(fora_synth_write(&o, dir, &st, &d), &d);
    ASSERT_NEAR(st.posts, 2000, 0.1);
    ASSERT_EQ(st.banned, 0);
    rm_rf(dir);
    free(dir);
}

int main(void)
{
    FORA_RUN(test_bad_options);
    FORA_RUN(test_determinism);
    FORA_RUN(test_gzip);
    FORA_RUN(test_edges);
    make_forum();
    FORA_RUN(test_integrity);
    FORA_RUN(test_totals);
    FORA_RUN(test_planted_members);
    FORA_RUN(test_key_players_central);
    FORA_RUN(test_trajectories);
    FORA_RUN(test_hours);
    char *root = strdup(g_dir);
    char *p = strstr(root, "/nested");
    if (p) *p = '\0';
    rm_rf(root);
    free(root);
    free(g_dir);
    return 0;
}
