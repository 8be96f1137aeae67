/*
 * tests/unit/test_stackexchange.c - the Stack Exchange dump converter.
 *
 * tests/data/se-mini/ is a hand-written dump whose every row exercises one
 * rule of the mapping (see the comments on the expected rows); the expected
 * bundle below was worked out by hand from it.  Every text attribute in the
 * fixture contains the word "Zymurgy", which must not reach the bundle.
 */
#include "fora/stackexchange.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "fora/csv.h"
#include "fora_test.h"

#define MINI FORA_TEST_DATA "/se-mini"
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The documented figures of server/sample/README.md (beer.stackexchange.com, 2020-06-01). */
#define BEER_USERS 6863
#define BEER_QUESTIONS 1029
#define BEER_ANSWERS 2277
#define BEER_COMMENTS 3509

static char *make_tmpdir(void)
{
    char tmpl[] = "/tmp/fora-se-test-XXXXXX";
    char *d = mkdtemp(tmpl);
    ASSERT(d != NULL);
    return strdup(d);
}

static char *path_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    ASSERT(p != NULL);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Removes a folder holding plain files only, as every folder made here does. */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char *p = path_in(dir, e->d_name);
        struct stat sb;
        if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
            remove_tree(p);
        else
            unlink(p);
        free(p);
    }
    closedir(d);
    rmdir(dir);
}

/* Asserts that the CSV file holds exactly `rows` (fields joined with ','). */
static void expect_rows(const char *dir, const char *name, const char *const *rows, size_t n)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    fora_csv_reader_t *r = NULL;
    char *path = path_in(dir, name);
    size_t nf, *lens;
    char **fields;
    int64_t line;
    char joined[1024];

    ASSERT_OK(fora_csv_open(path, &r, &diag), &diag);
    for (size_t i = 0; i < n; i++) {
        fora_err_t err = fora_csv_next(r, &nf, &fields, &lens, &line, &diag);
        if (err != FORA_OK) FORA_FAIL("%s: row %zu missing (expected \"%s\")", path, i, rows[i]);
        size_t len = 0;
        joined[0] = '\0';
        for (size_t f = 0; f < nf; f++) {
            len += (size_t)snprintf(joined + len, sizeof(joined) - len, "%s%s", f ? "," : "",
                                    fields[f]);
            ASSERT(len < sizeof(joined));
        }
        if (strcmp(joined, rows[i]) != 0)
            FORA_FAIL("%s:%lld: \"%s\" != expected \"%s\"", path, (long long)line, joined, rows[i]);
    }
    fora_err_t err = fora_csv_next(r, &nf, &fields, &lens, &line, &diag);
    if (err != FORA_ENOTFOUND) FORA_FAIL("%s: more than the %zu expected rows", path, n);
    fora_csv_close(r);
    free(path);
}

/* Asserts that no file in dir contains `needle` (checked on the decompressed bytes). */
static void expect_absent(const char *dir, const char *needle)
{
    DIR *d = opendir(dir);
    ASSERT(d != NULL);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char *p = path_in(dir, e->d_name);
        gzFile gz = gzopen(p, "rb");
        ASSERT(gz != NULL);
        static char buf[1 << 20];
        int n = gzread(gz, buf, sizeof(buf) - 1);
        ASSERT(n >= 0);
        buf[n] = '\0';
        if (strstr(buf, needle) != NULL) FORA_FAIL("%s contains \"%s\"", p, needle);
        gzclose(gz);
        free(p);
        files++;
    }
    closedir(d);
    ASSERT_EQ(files, 6);
}

static bool file_exists(const char *dir, const char *name)
{
    struct stat sb;
    char *p = path_in(dir, name);
    bool ok = stat(p, &sb) == 0;
    free(p);
    return ok;
}

/* ---------------------------------------------------------------- se-mini */

static const char *const mini_forum[] = {
    "name,source,timezone",
    "mini,hand-written fixture,UTC",
};

static const char *const mini_members[] = {
    "member_id,pseudonym,registered_at,status,banned_at",
    "-1,,2014-01-01T00:00:00.000,system,",   /* Community bot */
    "2,,2014-01-02T08:00:00.000,moderator,", /* Constable badge; reputation 5 */
    "3,,2014-01-03T09:15:30.250,rep_200,",   /* 250, only an Autobiographer badge */
    "4,,2014-01-04T00:00:00.000,rep_15,",    /* 15; no LastAccessDate */
    "5,,2014-01-05T00:00:00.000,rep_10000,", /* 10000; a tag badge is no rank */
    "6,,2014-01-06T00:00:00.000,rep_1000,",  /* 2999 */
    "7,,2014-01-07T00:00:00.000,moderator,", /* Sheriff badge (listed first in Badges.xml) */
    "8,,2014-01-08T00:00:00.000,rep_1,",     /* 14 */
};

static const char *const mini_events[] = {
    "member_id,kind,occurred_at,board_id", "-1,visit,2014-01-01T00:00:00.000,",
    "2,visit,2014-06-01T12:00:00.000,",    "3,visit,2014-05-01T00:00:00.000,",
    "5,visit,2014-07-01T00:00:00.000,",    "6,visit,2014-07-02T00:00:00.000,",
    "7,visit,2014-07-03T00:00:00.000,",    "8,visit,2014-07-04T00:00:00.000,",
};

static const char *const mini_boards[] = {
    "board_id,parent_id,category",
    "hops,,tag",          /* first of <hops><ipa> */
    "untagged,,untagged", /* question 4 has no Tags */
    "wine,,tag",
    "spirits,,tag", /* first of |spirits|whisky| (newer dumps) */
};

static const char *const mini_threads[] = {
    "thread_id,board_id,starter_id,created_at", "1,hops,3,2014-02-01T10:00:00.000",
    "4,untagged,,2014-02-02T11:59:59.500", /* owner 9 not in Users; comment c7 is earlier */
    "5,wine,5,2014-02-02T09:00:00.000",    /* answer 3 predates the question */
    "10,spirits,-1,2014-02-04T00:00:00.000",
};

static const char *const mini_posts[] = {
    "post_id,thread_id,author_id,created_at,reply_to",
    "1,1,3,2014-02-01T10:00:00.000,",
    "2,1,2,2014-02-01T11:00:00.000,1",
    "4,4,,2014-02-02T12:00:00.000,", /* owner 9 missing from Users.xml */
    "5,5,5,2014-02-03T08:00:00.000,",
    "6,4,,2014-02-03T09:30:00.123,4", /* no OwnerUserId */
    "10,10,-1,2014-02-04T00:00:00.000,",
    "11,1,,2014-02-05T10:00:00.000,1", /* owner 9 missing from Users.xml */
    "3,5,4,2014-02-02T09:00:00.000,5", /* came before its question: written after it */
    "c1,1,2,2014-02-01T10:30:00.000,1",
    "c3,5,,2014-02-02T09:10:00.000,3", /* no UserId */
    "c5,4,,2014-02-03T10:00:00.000,6", /* user 9 missing */
    "c7,4,3,2014-02-02T11:59:59.5,4",  /* written as it appears */
};

static void expect_mini_bundle(const char *out, const char *suffix)
{
    char name[64];
#define EXPECT(base, rows)                                                                         \
    do {                                                                                           \
        snprintf(name, sizeof(name), "%s%s", base, suffix);                                        \
        expect_rows(out, name, rows, ARRAY_LEN(rows));                                             \
    } while (0)
    EXPECT("forum", mini_forum);
    EXPECT("members", mini_members);
    EXPECT("events", mini_events);
    EXPECT("boards", mini_boards);
    EXPECT("threads", mini_threads);
    EXPECT("posts", mini_posts);
#undef EXPECT
    expect_absent(out, "Zymurgy");
}

static void expect_mini_stats(const fora_se_stats_t *st)
{
    ASSERT_EQ(st->users, 8);
    ASSERT_EQ(st->questions, 4);
    ASSERT_EQ(st->answers, 4);  /* 2, 3, 6, 11 */
    ASSERT_EQ(st->comments, 4); /* c1, c3, c5, c7 */
    ASSERT_EQ(st->boards, 4);
    ASSERT_EQ(st->skipped_posts, 3);    /* tag wiki 7 and 8, answer 9 to unknown question 99 */
    ASSERT_EQ(st->skipped_comments, 3); /* on tag wiki 7, on skipped answer 9, on unknown 1000 */
    ASSERT_EQ(st->visits, 7);
}

static void test_mini(void)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    fora_se_stats_t st;
    fora_se_opts_t opts = {.forum_name = "mini", .source = "hand-written fixture", .quiet = true};
    char *tmp = make_tmpdir();
    char *out = path_in(tmp, "bundle/nested"); /* created with its parent */

    ASSERT_OK(fora_se_convert(MINI, out, &opts, &st, &diag), &diag);
    expect_mini_stats(&st);
    expect_mini_bundle(out, ".csv");
    ASSERT(!file_exists(out, "posts.csv.gz"));

    /* Converting again over the same folder gives the same bundle. */
    ASSERT_OK(fora_se_convert(MINI, out, &opts, &st, &diag), &diag);
    expect_mini_bundle(out, ".csv");

    remove_tree(tmp);
    free(out);
    free(tmp);
}

/* Copies src to dst, gzip-compressed. */
static void gzip_copy(const char *src, const char *dst)
{
    FILE *in = fopen(src, "rb");
    gzFile gz = gzopen(dst, "wb");
    char buf[4096];
    size_t n;
    ASSERT(in != NULL && gz != NULL);
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        ASSERT_EQ(gzwrite(gz, buf, (unsigned)n), n);
    fclose(in);
    ASSERT_EQ(gzclose(gz), Z_OK);
}

static void test_mini_gzip(void)
{
    static const char *const files[] = {"Users.xml", "Posts.xml", "Comments.xml", "Badges.xml"};
    fora_diag_t diag = FORA_DIAG_INIT;
    fora_se_stats_t st;
    fora_se_opts_t opts = {
        .forum_name = "mini", .source = "hand-written fixture", .quiet = true, .gzip = true};
    char *dump = make_tmpdir();
    char *out = make_tmpdir();

    for (size_t i = 0; i < ARRAY_LEN(files); i++) {
        char gzname[64];
        snprintf(gzname, sizeof(gzname), "%s.gz", files[i]);
        char *src = path_in(MINI, files[i]), *dst = path_in(dump, gzname);
        gzip_copy(src, dst);
        free(src);
        free(dst);
    }
    ASSERT_OK(fora_se_convert(dump, out, &opts, &st, &diag), &diag);
    expect_mini_stats(&st);
    expect_mini_bundle(out, ".csv.gz");
    ASSERT(!file_exists(out, "posts.csv"));

    /* The output really is gzip. */
    char *p = path_in(out, "posts.csv.gz");
    FILE *f = fopen(p, "rb");
    ASSERT(f != NULL);
    ASSERT_EQ(fgetc(f), 0x1f);
    ASSERT_EQ(fgetc(f), 0x8b);
    fclose(f);
    free(p);

    remove_tree(dump);
    remove_tree(out);
    free(dump);
    free(out);
}

static void test_defaults(void)
{
    static const char *const forum[] = {"name,source,timezone",
                                        "stackexchange,stackexchange data dump,UTC"};
    fora_diag_t diag = FORA_DIAG_INIT;
    char *out = make_tmpdir();
    fora_se_opts_t quiet = {.quiet = true};

    /* Unset names take their defaults; stats may be NULL. */
    ASSERT_OK(fora_se_convert(MINI, out, &quiet, NULL, &diag), &diag);
    expect_rows(out, "forum.csv", forum, ARRAY_LEN(forum));
    expect_rows(out, "threads.csv", mini_threads, ARRAY_LEN(mini_threads));
    remove_tree(out);
    free(out);
}

/* ----------------------------------------------------------------- errors */

static void test_malformed_xml(void)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    fora_se_opts_t opts = {.quiet = true};
    char *out = make_tmpdir();

    ASSERT_EQ(fora_se_convert(MINI "/malformed", out, &opts, NULL, &diag), FORA_EPARSE);
    ASSERT_EQ(diag.code, FORA_EPARSE);
    if (strstr(diag.msg, "Posts.xml:4:") == NULL) FORA_FAIL("message \"%s\"", diag.msg);
    if (strstr(diag.msg, "malformed XML") == NULL) FORA_FAIL("message \"%s\"", diag.msg);
    remove_tree(out);
    free(out);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char *p = path_in(dir, name);
    FILE *f = fopen(p, "w");
    ASSERT(f != NULL);
    fputs(text, f);
    ASSERT_EQ(fclose(f), 0);
    free(p);
}

/* A dump of three files; expects `code` with a message containing `want`. */
static void expect_failure(const char *users, const char *posts, const char *comments,
                           fora_err_t code, const char *want)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    fora_se_opts_t opts = {.quiet = true};
    char *dump = make_tmpdir();
    char *out = make_tmpdir();

    write_file(dump, "Users.xml", users);
    write_file(dump, "Posts.xml", posts);
    write_file(dump, "Comments.xml", comments);
    ASSERT_EQ(fora_se_convert(dump, out, &opts, NULL, &diag), code);
    if (strstr(diag.msg, want) == NULL) FORA_FAIL("\"%s\" not in \"%s\"", want, diag.msg);
    remove_tree(dump);
    remove_tree(out);
    free(dump);
    free(out);
}

static void test_bad_rows(void)
{
    static const char *const users =
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<users>\n"
        "  <row Id=\"1\" Reputation=\"1\" CreationDate=\"2014-01-01T00:00:00.000\" />\n"
        "</users>\n";
    static const char *const posts =
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<posts>\n"
        "  <row Id=\"1\" PostTypeId=\"1\" CreationDate=\"2014-02-01T00:00:00.000\" />\n"
        "</posts>\n";
    static const char *const comments = "<comments>\n</comments>\n";

    expect_failure("<users>\n<row Id=\"1\" />\n</users>\n", posts, comments, FORA_EPARSE,
                   "Users.xml:2: row has no \"CreationDate\"");
    expect_failure(users, "<posts>\n<row PostTypeId=\"1\" />\n</posts>\n", comments, FORA_EPARSE,
                   "Posts.xml:2: row has no \"Id\"");
    expect_failure(users,
                   "<posts>\n\n<row Id=\"1\" PostTypeId=\"1\" CreationDate=\"2014-02-30T00:00:00\" "
                   "/>\n</posts>\n",
                   comments, FORA_EPARSE, "Posts.xml:3: bad CreationDate \"2014-02-30T00:00:00\"");
    expect_failure(users, posts, "<comments>\n<row Id=\"x1\" />\n</comments>\n", FORA_EPARSE,
                   "Comments.xml:2: bad Id \"x1\"");
    expect_failure(users, "<users>\n</users>\n", comments, FORA_EPARSE,
                   "root element is <users>, expected <posts>");
    expect_failure(users,
                   "<posts>\n"
                   "<row Id=\"1\" PostTypeId=\"1\" CreationDate=\"2014-02-01T00:00:00\" />\n"
                   "<row Id=\"1\" PostTypeId=\"1\" CreationDate=\"2014-02-01T00:00:00\" />\n"
                   "</posts>\n",
                   comments, FORA_EPARSE, "Posts.xml:3: duplicate Id \"1\"");
    expect_failure(users, posts, "", FORA_EPARSE, "Comments.xml:1:0: malformed XML");
}

static void test_missing_file(void)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    fora_se_opts_t opts = {.quiet = true};
    char *dump = make_tmpdir();
    char *out = path_in(dump, "out");

    write_file(dump, "Users.xml", "<users/>");
    write_file(dump, "Comments.xml", "<comments/>");
    ASSERT_EQ(fora_se_convert(dump, out, &opts, NULL, &diag), FORA_ENOTFOUND);
    if (strstr(diag.msg, "\"Posts.xml\"") == NULL) FORA_FAIL("message \"%s\"", diag.msg);
    /* Nothing is written when an input is missing. */
    struct stat sb;
    ASSERT(stat(out, &sb) != 0);
    remove_tree(dump);
    free(out);
    free(dump);
}

/* --------------------------------------------------------- bundled sample */

static int64_t count_rows(const char *name, const char *header)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    fora_csv_reader_t *r = NULL;
    char *path = path_in(FORA_SOURCE_DIR "/server/sample/beer", name);
    size_t nf, *lens;
    char **fields;
    int64_t line, rows = 0;
    char joined[256];
    size_t len = 0;

    ASSERT_OK(fora_csv_open(path, &r, &diag), &diag);
    ASSERT_OK(fora_csv_next(r, &nf, &fields, &lens, &line, &diag), &diag);
    for (size_t f = 0; f < nf; f++)
        len +=
            (size_t)snprintf(joined + len, sizeof(joined) - len, "%s%s", f ? "," : "", fields[f]);
    ASSERT_STR_EQ(joined, header);
    fora_err_t err;
    while ((err = fora_csv_next(r, &nf, &fields, &lens, &line, &diag)) == FORA_OK)
        rows++;
    ASSERT_EQ(err, FORA_ENOTFOUND);
    fora_csv_close(r);
    free(path);
    return rows;
}

static void test_bundled_sample(void)
{
    ASSERT_EQ(count_rows("posts.csv.gz", "post_id,thread_id,author_id,created_at,reply_to"),
              BEER_QUESTIONS + BEER_ANSWERS + BEER_COMMENTS);
    ASSERT_EQ(count_rows("threads.csv.gz", "thread_id,board_id,starter_id,created_at"),
              BEER_QUESTIONS);
    ASSERT_EQ(count_rows("members.csv.gz", "member_id,pseudonym,registered_at,status,banned_at"),
              BEER_USERS);
}

int main(void)
{
    FORA_RUN(test_mini);
    FORA_RUN(test_mini_gzip);
    FORA_RUN(test_defaults);
    FORA_RUN(test_malformed_xml);
    FORA_RUN(test_bad_rows);
    FORA_RUN(test_missing_file);
    FORA_RUN(test_bundled_sample);
    return 0;
}
