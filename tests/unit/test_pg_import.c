/*
 * tests/unit/test_pg_import.c - migrations and the CSV bundle importer
 * against a real PostgreSQL: round trips, idempotence, appends, and bad
 * input that must name file, line and field and write nothing.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fora/import.h"
#include "fora_test_pg.h"

static PGconn *conn;

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ASSERT(f != NULL);
    fputs(text, f);
    fclose(f);
}

/* A small forum: 2 boards, 3 members, 2 threads, 4 posts. */
static void write_base_bundle(const char *dir)
{
    write_file(dir, "forum.csv", "name,source,timezone\nsmall,hand-made,Europe/Amsterdam\n");
    write_file(dir, "boards.csv", "board_id,parent_id,category\nb1,,market\nb2,b1,tech\n");
    write_file(dir, "members.csv",
               "member_id,registered_at,status,banned_at\n"
               "alice,2020-01-01T00:00:00Z,admin,\n"
               "bob,1577923200,member,\n" /* 2020-01-02 as Unix seconds */
               "carol,2020-01-03 10:00:00+02:00,member,\n");
    write_file(dir, "threads.csv",
               "thread_id,board_id,starter_id,created_at\n"
               "t1,b1,alice,2020-02-01T10:00:00Z\n"
               "t2,b2,bob,2020-02-02T10:00:00Z\n");
    write_file(dir, "posts.csv",
               "post_id,thread_id,author_id,created_at,reply_to\n"
               "p1,t1,alice,2020-02-01T10:00:00Z,\n"
               "p2,t1,bob,2020-02-01T11:00:00Z,p1\n"
               "p3,t2,bob,2020-02-02T10:00:00Z,\n"
               "p4,t2,,2020-02-02T12:30:00.5Z,p3\n");
    write_file(dir, "events.csv",
               "member_id,kind,occurred_at,board_id\n"
               "carol,visit,2020-02-03T08:00:00Z,b1\n"
               "carol,download,2020-02-03T08:05:00Z,\n");
}

static char *make_dir(void)
{
    char tmpl[] = "/tmp/fora-test-XXXXXX";
    char *d = mkdtemp(tmpl);
    ASSERT(d != NULL);
    return strdup(d);
}

/* 0: the default bulk threshold; 1: every table's batch goes the bulk way */
static int64_t bulk_min_rows;

static fora_err_t import_dir(const char *dir, const char *forum, long max_errors,
                             const char *rejects, fora_import_stats_t *st, fora_diag_t *diag)
{
    fora_import_opts_t o = {.forum = forum,
                            .format = "csv",
                            .quiet = true,
                            .max_errors = max_errors,
                            .rejects_path = rejects,
                            .bulk_min_rows = bulk_min_rows};
    return fora_import_bundle(conn, dir, &o, st, diag);
}

static long long count(const char *sql)
{
    return fora_test_pg_scalar(conn, sql);
}

static void test_migrations_idempotent(void)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    int applied = -1, pending = -1;
    ASSERT_OK(fora_migrate(conn, FORA_SOURCE_DIR "/migrations", true, &applied, &diag), &diag);
    ASSERT_EQ(applied, 0);
    ASSERT_OK(fora_migrate_pending(conn, FORA_SOURCE_DIR "/migrations", &pending, &diag), &diag);
    ASSERT_EQ(pending, 0);
}

static void test_failed_migration_changes_nothing(void)
{
    char *dir = make_dir();
    write_file(dir, "0001_ok.sql", "CREATE TABLE mig_a (x int);");
    write_file(dir, "0002_bad.sql", "CREATE TABLE mig_b (x int); SELECT 1/0;");
    PGconn *admin = fora_test_pg_connect("postgres");
    PQclear(PQexec(admin, "DROP DATABASE IF EXISTS fora_t_migfail WITH (FORCE)"));
    PQclear(PQexec(admin, "CREATE DATABASE fora_t_migfail"));
    PQfinish(admin);
    PGconn *c = fora_test_pg_connect("fora_t_migfail");
    fora_diag_t diag = FORA_DIAG_INIT;
    int applied = -1, pending = -1;
    ASSERT_EQ(fora_migrate(c, dir, true, &applied, &diag), FORA_EDB);
    ASSERT(strstr(diag.msg, "0002_bad.sql") != NULL);
    ASSERT(strstr(diag.msg, "division by zero") != NULL);
    ASSERT_EQ(applied, 1);
    ASSERT_EQ(fora_test_pg_scalar(c, "SELECT count(*) FROM pg_tables WHERE tablename = 'mig_a'"),
              1);
    ASSERT_EQ(fora_test_pg_scalar(c, "SELECT count(*) FROM pg_tables WHERE tablename = 'mig_b'"),
              0);
    ASSERT_EQ(fora_test_pg_scalar(c, "SELECT count(*) FROM schema_migrations"), 1);
    fora_diag_clear(&diag);
    ASSERT_OK(fora_migrate_pending(c, dir, &pending, &diag), &diag);
    ASSERT_EQ(pending, 1);
    PQfinish(c);
    free(dir);
}

static void test_base_import_and_reimport(void)
{
    char *dir = make_dir();
    write_base_bundle(dir);
    fora_diag_t diag = FORA_DIAG_INIT;
    fora_import_stats_t st;
    ASSERT_OK(import_dir(dir, NULL, 0, NULL, &st, &diag), &diag);
    ASSERT_EQ(st.read[FORA_FILE_POSTS], 4);
    ASSERT_EQ(st.changed[FORA_FILE_POSTS], 4);
    ASSERT_EQ(st.changed[FORA_FILE_MEMBERS], 3);
    ASSERT_EQ(st.changed[FORA_FILE_EVENTS], 2);
    ASSERT_EQ(st.data_version, 1);
    ASSERT_EQ(count("SELECT count(*) FROM forums WHERE name = 'small'"
                    " AND timezone = 'Europe/Amsterdam' AND source = 'hand-made'"),
              1);
    /* timestamps: Unix seconds and offsets normalised to UTC */
    ASSERT_EQ(count("SELECT extract(epoch FROM registered_at) FROM members WHERE ext_id = 'bob'"),
              1577923200);
    ASSERT_EQ(count("SELECT extract(epoch FROM registered_at) FROM members"
                    " WHERE ext_id = 'carol'"),
              1578038400); /* 2020-01-03T08:00:00Z */
    ASSERT_EQ(count("SELECT extract(microseconds FROM created_at) FROM posts WHERE ext_id = 'p4'"),
              500000);
    /* references resolved inside the bundle */
    ASSERT_EQ(count("SELECT count(*) FROM posts p JOIN posts q ON q.id = p.reply_to"
                    " WHERE p.ext_id = 'p2' AND q.ext_id = 'p1'"),
              1);
    ASSERT_EQ(count("SELECT count(*) FROM boards c JOIN boards p ON p.id = c.parent_id"
                    " WHERE c.ext_id = 'b2' AND p.ext_id = 'b1'"),
              1);
    ASSERT_EQ(count("SELECT count(*) FROM posts WHERE author_id IS NULL"), 1);

    /* the same files again: nothing changes, not even the data version */
    fora_diag_clear(&diag);
    ASSERT_OK(import_dir(dir, NULL, 0, NULL, &st, &diag), &diag);
    for (int f = 0; f < FORA_FILE_COUNT; f++)
        ASSERT_EQ(st.changed[f], 0);
    ASSERT_EQ(st.data_version, 1);
    ASSERT_EQ(count("SELECT count(*) FROM posts WHERE forum_id = (SELECT id FROM forums"
                    " WHERE name = 'small')"),
              4);
    ASSERT_EQ(count("SELECT count(*) FROM imports"), 2);

    /* newer posts append; a changed member is updated; the version moves */
    write_file(dir, "members.csv",
               "member_id,registered_at,status,banned_at\n"
               "alice,2020-01-01T00:00:00Z,admin,\n"
               "bob,1577923200,banned,2020-03-01T00:00:00Z\n"
               "carol,2020-01-03 10:00:00+02:00,member,\n"
               "dave,2020-02-20T00:00:00Z,,\n");
    write_file(dir, "posts.csv",
               "post_id,thread_id,author_id,created_at,reply_to\n"
               "p1,t1,alice,2020-02-01T10:00:00Z,\n"
               "p2,t1,bob,2020-02-01T11:00:00Z,p1\n"
               "p3,t2,bob,2020-02-02T10:00:00Z,\n"
               "p4,t2,,2020-02-02T12:30:00.5Z,p3\n"
               "p5,t1,dave,2020-02-21T10:00:00Z,p2\n"
               "p6,t2,carol,2020-02-22T10:00:00Z,p5\n");
    fora_diag_clear(&diag);
    ASSERT_OK(import_dir(dir, NULL, 0, NULL, &st, &diag), &diag);
    ASSERT_EQ(st.changed[FORA_FILE_POSTS], 2);
    ASSERT_EQ(st.changed[FORA_FILE_MEMBERS], 2); /* bob banned, dave new */
    ASSERT_EQ(st.changed[FORA_FILE_THREADS], 0);
    ASSERT_EQ(st.data_version, 2);
    ASSERT_EQ(count("SELECT count(*) FROM members WHERE ext_id = 'bob' AND status = 'banned'"
                    " AND banned_at IS NOT NULL"),
              1);
    ASSERT_EQ(count("SELECT count(*) FROM posts p JOIN posts q ON q.id = p.reply_to"
                    " WHERE p.ext_id = 'p6' AND q.ext_id = 'p5'"),
              1);
    free(dir);
}

/* Imports a broken variant of the base bundle; expects code and a message part. */
static void expect_rejected(const char *file, const char *text, fora_err_t code,
                            const char *message)
{
    char *dir = make_dir();
    write_base_bundle(dir);
    if (file) write_file(dir, file, text);
    long long forums = count("SELECT count(*) FROM forums");
    long long posts = count("SELECT count(*) FROM posts");
    long long imports = count("SELECT count(*) FROM imports");
    fora_diag_t diag = FORA_DIAG_INIT;
    fora_import_stats_t st;
    fora_err_t err = import_dir(dir, "broken", 0, NULL, &st, &diag);
    if (err != code || strstr(diag.msg, message) == NULL)
        FORA_FAIL("expected code %d with \"%s\", got %d: %s", code, message, err, diag.msg);
    /* nothing half-imported: not even the forum row */
    ASSERT_EQ(count("SELECT count(*) FROM forums"), forums);
    ASSERT_EQ(count("SELECT count(*) FROM posts"), posts);
    ASSERT_EQ(count("SELECT count(*) FROM imports"), imports);
    free(dir);
}

static void test_bad_input(void)
{
    const char *ph = "post_id,thread_id,author_id,created_at,reply_to\n";
    char buf[1024];

    snprintf(buf, sizeof(buf), "%sp1,t1,alice,2020-02-01T10:00:00Z,\np2,t1,bob,2020-13-01,p1\n",
             ph);
    expect_rejected("posts.csv", buf, FORA_EPARSE,
                    "posts.csv:3: field \"created_at\": bad timestamp \"2020-13-01\"");
    snprintf(buf, sizeof(buf), "%sp1,t1,alice,2020-02-01T10:00:00Z,\np2,t9,bob,2020-03-01,p1\n",
             ph);
    expect_rejected("posts.csv", buf, FORA_EPARSE,
                    "posts.csv:3: field \"thread_id\": unknown thread \"t9\"");
    snprintf(buf, sizeof(buf), "%sp1,t1,alice,2020-02-01T10:00:00Z,p7\n", ph);
    expect_rejected("posts.csv", buf, FORA_EPARSE,
                    "posts.csv:2: field \"reply_to\": unknown post \"p7\"");
    snprintf(buf, sizeof(buf), "%sp1,t1,zed,2020-02-01T10:00:00Z,\n", ph);
    expect_rejected("posts.csv", buf, FORA_EPARSE,
                    "posts.csv:2: field \"author_id\": unknown member \"zed\"");
    snprintf(buf, sizeof(buf), "%sp1,t1,alice,2020-01-31T10:00:00Z,\n", ph);
    expect_rejected("posts.csv", buf, FORA_EPARSE,
                    "posts.csv:2: field \"created_at\": post is older than its thread");
    snprintf(buf, sizeof(buf),
             "%sp1,t1,alice,2020-02-01T10:00:00Z,\np1,t1,bob,2020-02-01T11:00:00Z,\n", ph);
    expect_rejected("posts.csv", buf, FORA_EPARSE,
                    "posts.csv:3: field \"post_id\": duplicate identifier \"p1\"");
    snprintf(buf, sizeof(buf), "%sp1,t1,alice\n", ph);
    expect_rejected("posts.csv", buf, FORA_EPARSE,
                    "posts.csv:2: field \"*\": 3 fields where the header has 5");
    expect_rejected("posts.csv", "post_id,thread_id,body,created_at\n", FORA_EPARSE,
                    "posts.csv:1: unknown column \"body\"");
    expect_rejected("posts.csv", "post_id,author_id,created_at\n", FORA_EPARSE,
                    "posts.csv:1: required column \"thread_id\" missing");
    expect_rejected("posts.csv", "post_id,thread_id,created_at\n\"p1,t1,2020-02-01\n", FORA_EPARSE,
                    "posts.csv:2: unterminated quoted field");
    expect_rejected("members.csv", "member_id,registered_at,banned_at\nm1,2020-02-01,2020-01-01\n",
                    FORA_EPARSE, "members.csv:2: field \"banned_at\": banned before registered_at");
    expect_rejected("boards.csv", "board_id,parent_id\nb1,b2\nb2,b1\n", FORA_EPARSE,
                    "is its own ancestor");
    expect_rejected("events.csv", "member_id,kind,occurred_at\ncarol,Visit!,2020-02-01\n",
                    FORA_EPARSE, "events.csv:2: field \"kind\": bad event kind");
    expect_rejected("forum.csv", "name,timezone\nbroken,Mars/Olympus\n", FORA_EINVAL,
                    "unknown time zone \"Mars/Olympus\"");
    char *dir = make_dir();
    write_base_bundle(dir);
    char path[600];
    snprintf(path, sizeof(path), "%s/threads.csv", dir);
    unlink(path);
    fora_diag_t diag = FORA_DIAG_INIT;
    fora_import_stats_t st;
    ASSERT_EQ(import_dir(dir, "broken", 0, NULL, &st, &diag), FORA_ENOTFOUND);
    ASSERT(strstr(diag.msg, "threads.csv") != NULL);
    free(dir);
}

static void test_max_errors_rejects(void)
{
    char *dir = make_dir();
    write_base_bundle(dir);
    /* line 3 bad time, line 4 replies to it (cascade), line 5 unknown thread */
    write_file(dir, "posts.csv",
               "post_id,thread_id,author_id,created_at,reply_to\n"
               "p1,t1,alice,2020-02-01T10:00:00Z,\n"
               "p2,t1,bob,yesterday,p1\n"
               "p3,t1,bob,2020-02-01T12:00:00Z,p2\n"
               "p4,t9,bob,2020-02-02T12:00:00Z,\n"
               "p5,t2,carol,2020-02-02T12:00:00Z,p1\n");
    char rejects[600];
    snprintf(rejects, sizeof(rejects), "%s/rejects.csv", dir);
    fora_diag_t diag = FORA_DIAG_INIT;
    fora_import_stats_t st;
    ASSERT_EQ(import_dir(dir, "lenient", 2, rejects, &st, &diag), FORA_EPARSE);
    ASSERT(strstr(diag.msg, "more than 2 bad rows") != NULL);
    ASSERT_EQ(count("SELECT count(*) FROM forums WHERE name = 'lenient'"), 0);

    fora_diag_clear(&diag);
    ASSERT_OK(import_dir(dir, "lenient", 10, rejects, &st, &diag), &diag);
    ASSERT_EQ(st.rejected, 3);
    ASSERT_EQ(st.changed[FORA_FILE_POSTS], 2);
    ASSERT_EQ(count("SELECT count(*) FROM posts p JOIN forums f ON f.id = p.forum_id"
                    " WHERE f.name = 'lenient'"),
              2);
    FILE *f = fopen(rejects, "r");
    ASSERT(f != NULL);
    char line[512];
    int n = 0;
    bool saw_cascade = false;
    while (fgets(line, sizeof(line), f)) {
        n++;
        /* p3 replies to p2, which never reached staging */
        if (strstr(line, "posts.csv,4,reply_to,\"unknown post \"\"p2\"\"\"")) saw_cascade = true;
    }
    fclose(f);
    ASSERT_EQ(n, 4); /* header + 3 */
    ASSERT(saw_cascade);
    free(dir);
}

static void test_sample_bundle(void)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    fora_import_stats_t st;
    fora_import_opts_t o = {.forum = "beer", .format = "csv", .quiet = true};
    ASSERT_OK(fora_import_bundle(conn, FORA_SOURCE_DIR "/server/sample/beer", &o, &st, &diag),
              &diag);
    /* the figures of server/sample/README.md, read back from the database */
    ASSERT_EQ(count("SELECT count(*) FROM members m JOIN forums f ON f.id = m.forum_id"
                    " WHERE f.name = 'beer'"),
              6863);
    ASSERT_EQ(count("SELECT count(*) FROM threads t JOIN forums f ON f.id = t.forum_id"
                    " WHERE f.name = 'beer'"),
              1029);
    ASSERT_EQ(count("SELECT count(*) FROM posts p JOIN forums f ON f.id = p.forum_id"
                    " WHERE f.name = 'beer'"),
              1029 + 2277 + 3509);
    ASSERT_EQ(st.read[FORA_FILE_POSTS], st.changed[FORA_FILE_POSTS]);
    ASSERT_EQ(count("SELECT count(*) FROM members m JOIN forums f ON f.id = m.forum_id"
                    " WHERE f.name = 'beer' AND status = 'moderator'"),
              6);
    fora_diag_clear(&diag);
    ASSERT_OK(fora_import_bundle(conn, FORA_SOURCE_DIR "/server/sample/beer", &o, &st, &diag),
              &diag);
    for (int f = 0; f < FORA_FILE_COUNT; f++)
        ASSERT_EQ(st.changed[f], 0);
}

/* The schema's keys and indexes, as text: a bulk import must leave them as it found them. */
static char *schema_fingerprint(void)
{
    PGresult *r = PQexec(conn, "SELECT string_agg(d, ';' ORDER BY d) FROM ("
                               " SELECT conname || ':' || pg_get_constraintdef(oid) AS d"
                               " FROM pg_constraint WHERE connamespace = 'public'::regnamespace"
                               " UNION ALL SELECT indexdef FROM pg_indexes"
                               " WHERE schemaname = 'public') x");
    ASSERT(PQresultStatus(r) == PGRES_TUPLES_OK);
    char *s = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return s;
}

static void test_bulk_mode(void)
{
    char *before = schema_fingerprint();
    ASSERT(strstr(before, "posts_forum_id_reply_to_fkey") != NULL);
    ASSERT(strstr(before, "posts_author") != NULL);
    bulk_min_rows = 1;
    conn = fora_test_pg_fresh("fora_t_import_bulk");
    /* the same cases again, every table's batch taking the bulk path */
    test_base_import_and_reimport();
    test_bad_input();
    test_max_errors_rejects();
    char *after = schema_fingerprint();
    ASSERT_STR_EQ(after, before);
    free(before);
    free(after);
}

int main(void)
{
    conn = fora_test_pg_fresh("fora_t_import");
    FORA_RUN(test_migrations_idempotent);
    FORA_RUN(test_failed_migration_changes_nothing);
    FORA_RUN(test_base_import_and_reimport);
    FORA_RUN(test_bad_input);
    FORA_RUN(test_max_errors_rejects);
    FORA_RUN(test_sample_bundle);
    PGconn *plain = conn;
    FORA_RUN(test_bulk_mode);
    PQfinish(conn);
    PQfinish(plain);
    return 0;
}
