/*
 * tests/unit/test_pg_snapshot_load.c - fora_snapshot_load() and
 * fora_forum_lookup() against a real PostgreSQL.
 *
 * Needs FORA_TEST_DATABASE_URL (a server on which we may CREATE DATABASE);
 * fails when it is unset.  Works in its own database, fora_t_snapshot,
 * dropped and recreated at the start.
 *
 * Two forums are inserted with their rows interleaved, so that the loaded
 * forum's ids are not one range and the other forum's rows sit between them:
 * the loader must take exactly its own rows.  A fresh database numbers
 * identity columns from 1, which fixes every id below.
 */
#include "fora/db.h"
#include "fora/snapshot_load.h"

#include <stdlib.h>
#include <string.h>

#include "fora_test.h"

#define DBNAME "fora_t_snapshot"

static PGconn *conn;

static void exec_ok(const char *sql)
{
    fora_diag_t d = FORA_DIAG_INIT;
    ASSERT_OK(fora_db_exec(conn, sql, &d), &d);
}

/*
 * forum 1 "other" is created first; forum 2 "alpha" is the one checked.
 *   boards   1 ob (other) | 2 general (parent 4, "main"), 3 sub (parent 2, ""), 4 top ("main")
 *   members  1 om (other), 4 om2 (other) | 2 alice, 3 bob, 5 "ca<TAB>rol\" + newline
 *   threads  2 ot (other) | 1 t1 (board 2, alice), 3 t2 (board 3, deleted starter)
 *   posts    2 (other)    | 1, 3, 4, 5, 6, 7 (see test_posts)
 */
static const char *const setup_sql[] = {
    "INSERT INTO forums (name, source) VALUES ('other', 'x')",
    "INSERT INTO forums (name, timezone) VALUES ('alpha', 'Europe/Berlin')",
    "INSERT INTO forums (name) VALUES ('empty')",
    "UPDATE forums SET data_version = 7 WHERE name = 'alpha'",

    "INSERT INTO boards (forum_id, ext_id) VALUES (1, 'ob')",
    "INSERT INTO boards (forum_id, ext_id, category) VALUES (2, 'general', 'main')",
    "INSERT INTO boards (forum_id, ext_id, parent_id) VALUES (2, 'sub', 2)",
    "INSERT INTO boards (forum_id, ext_id, category) VALUES (2, 'top', 'main')",
    "UPDATE boards SET parent_id = 4 WHERE id = 2", /* a parent with a higher id */

    "INSERT INTO members (forum_id, ext_id) VALUES (1, 'om')",
    "INSERT INTO members (forum_id, ext_id, registered_at, status)"
    " VALUES (2, 'alice', '2020-01-01 00:00:00.5+00', 'admin')",
    "INSERT INTO members (forum_id, ext_id, pseudonym) VALUES (2, 'bob', 'h:1')",
    "INSERT INTO members (forum_id, ext_id) VALUES (1, 'om2')",
    "INSERT INTO members (forum_id, ext_id, registered_at, status, banned_at)"
    " VALUES (2, E'ca\\trol\\\\\\n', '1969-12-31 23:59:59.5+00', 'modérateur',"
    "         '2021-06-01 14:00:00.999999+02')",

    "INSERT INTO threads (forum_id, ext_id, board_id, starter_id, created_at)"
    " VALUES (2, 't1', 2, 2, '2020-02-01 00:00:00+00')",
    "INSERT INTO threads (forum_id, ext_id, board_id, starter_id, created_at)"
    " VALUES (1, 'ot', 1, 1, '2019-01-01 00:00:00+00')",
    "INSERT INTO threads (forum_id, ext_id, board_id, starter_id, created_at)"
    " VALUES (2, 't2', 3, NULL, '2020-03-01 00:00:00+00')",

    "INSERT INTO posts (forum_id, ext_id, thread_id, thread_created_at, author_id, created_at,"
    " reply_to) VALUES (2, 'p1', 1, '2020-02-01 00:00:00+00', 2, '2020-02-01 00:00:00+00', NULL)",
    "INSERT INTO posts (forum_id, ext_id, thread_id, thread_created_at, author_id, created_at)"
    " VALUES (1, 'op', 2, '2019-01-01 00:00:00+00', 4, '2019-01-01 00:00:01+00')",
    "INSERT INTO posts (forum_id, ext_id, thread_id, thread_created_at, author_id, created_at,"
    " reply_to) VALUES (2, 'p3', 1, '2020-02-01 00:00:00+00', 3, '2020-02-01 00:01:40+00', 1)",
    "INSERT INTO posts (forum_id, ext_id, thread_id, thread_created_at, author_id, created_at)"
    " VALUES (2, 'p4', 3, '2020-03-01 00:00:00+00', 5, '2020-03-01 00:00:10+00')",
    "INSERT INTO posts (forum_id, ext_id, thread_id, thread_created_at, author_id, created_at,"
    " reply_to) VALUES (2, 'p5', 1, '2020-02-01 00:00:00+00', NULL, '2020-02-01 00:00:50+00', 3)",
    "INSERT INTO posts (forum_id, ext_id, thread_id, thread_created_at, author_id, created_at,"
    " reply_to) VALUES (2, 'p6', 3, '2020-03-01 00:00:00+00', 2, '2020-03-01 00:00:10+00', 4)",
    "INSERT INTO posts (forum_id, ext_id, thread_id, thread_created_at, author_id, created_at,"
    " reply_to) VALUES (2, 'p7', 1, '2020-02-01 00:00:00+00', 3, '2020-02-01 00:00:50.7+00', 1)",

    /* forum 4: times at the edges of the loader's fast epoch conversion */
    "INSERT INTO forums (name) VALUES ('times')",
    "INSERT INTO members (forum_id, ext_id, registered_at) VALUES"
    " (4, 'a', '1650-03-01 12:00:00.999999+00'), (4, 'b', '1699-12-31 23:59:59.999999+00'),"
    " (4, 'c', '1700-01-01 00:00:00+00'), (4, 'd', '1700-01-01 00:00:00.000001+00'),"
    " (4, 'e', '1969-12-31 23:59:59.999999+00'), (4, 'f', '1970-01-01 00:00:00+00'),"
    " (4, 'g', '2038-01-19 03:14:07.999999+00'), (4, 'h', '2199-12-31 23:59:59.999999+00'),"
    " (4, 'i', '2200-01-01 00:00:00.999999+00'), (4, 'j', '2500-07-01 00:00:00.999999+00'),"
    " (4, 'k', NULL), (4, 'l', '2021-03-28 02:30:00.5+02')",

    "INSERT INTO member_events (forum_id, member_id, kind, occurred_at, board_id)"
    " VALUES (2, 2, 'visit', '2020-05-01 00:00:00+00', 2),"
    "        (2, 5, 'download', '2020-04-01 00:00:00+00', NULL),"
    "        (1, 1, 'visit', '2020-04-15 00:00:00+00', 1),"
    "        (2, 3, 'visit', '2020-05-01 00:00:00+00', NULL)",
};

#define T1 INT64_C(1580515200) /* 2020-02-01 00:00:00 UTC */
#define T2 INT64_C(1583020800) /* 2020-03-01 00:00:00 UTC */

static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static void setup(void)
{
    const char *url = getenv("FORA_TEST_DATABASE_URL");
    if (url == NULL || url[0] == '\0')
        FORA_FAIL("FORA_TEST_DATABASE_URL is not set: this test needs a PostgreSQL server on "
                  "which it may CREATE DATABASE (ctest sets it; to run by hand, e.g. "
                  "FORA_TEST_DATABASE_URL=\"host=/tmp/pgt user=postgres dbname=postgres\")");

    PGconn *admin = PQconnectdb(url);
    if (PQstatus(admin) != CONNECTION_OK)
        FORA_FAIL("cannot connect to FORA_TEST_DATABASE_URL: %s", PQerrorMessage(admin));
    PQsetNoticeProcessor(admin, ignore_notice, NULL);
    conn = admin;
    exec_ok("DROP DATABASE IF EXISTS " DBNAME " WITH (FORCE)");
    exec_ok("CREATE DATABASE " DBNAME);
    PQfinish(admin);

    /* the URL may be key=value or a URI: expand it as dbname, then override dbname */
    const char *keys[] = {"dbname", "dbname", NULL};
    const char *vals[] = {url, DBNAME, NULL};
    conn = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(conn) != CONNECTION_OK)
        FORA_FAIL("cannot connect to %s: %s", DBNAME, PQerrorMessage(conn));
    ASSERT_STR_EQ(PQdb(conn), DBNAME);

    fora_diag_t d = FORA_DIAG_INIT;
    ASSERT_OK(fora_migrate(conn, FORA_SOURCE_DIR "/migrations", true, NULL, &d), &d);
    exec_ok("BEGIN");
    for (size_t i = 0; i < sizeof(setup_sql) / sizeof(setup_sql[0]); i++)
        exec_ok(setup_sql[i]);
    exec_ok("COMMIT");
}

static fora_snapshot_t *load(int64_t forum)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *s = NULL;
    ASSERT_OK(fora_snapshot_load(conn, forum, &s, &d), &d);
    ASSERT(s != NULL);
    ASSERT(s->build == NULL);
    ASSERT_EQ(PQtransactionStatus(conn), PQTRANS_IDLE);
    return s;
}

static void test_forum_boards_members(void)
{
    fora_snapshot_t *s = load(2);
    ASSERT_EQ(s->forum.id, 2);
    ASSERT_STR_EQ(s->forum.name, "alpha");
    ASSERT_STR_EQ(s->forum.timezone, "Europe/Berlin");
    ASSERT_EQ(s->forum.data_version, 7);

    ASSERT_EQ(s->boards.n, 3);
    static const int64_t bid[] = {2, 3, 4};
    static const char *const bext[] = {"general", "sub", "top"};
    static const int32_t bparent[] = {2, 0, -1};
    static const char *const bcat[] = {"main", "", "main"};
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(s->boards.id[i], bid[i]);
        ASSERT_STR_EQ(fora_snapshot_board_ext(s, i), bext[i]);
        ASSERT_EQ(s->boards.parent[i], bparent[i]);
        ASSERT_STR_EQ(fora_snapshot_board_category(s, i), bcat[i]);
        ASSERT_EQ(fora_snapshot_board_by_id(s, bid[i]), i);
    }
    ASSERT_EQ(s->categories.n, 2);
    ASSERT_EQ(fora_snapshot_board_by_id(s, 1), -1); /* the other forum's */
    ASSERT_EQ(fora_snapshot_board_by_ext(s, "ob"), -1);

    ASSERT_EQ(s->members.n, 3);
    static const int64_t mid[] = {2, 3, 5};
    static const char *const mext[] = {"alice", "bob", "ca\trol\\\n"};
    static const int64_t mreg[] = {1577836800, FORA_TIME_NONE, -1}; /* floor(-0.5) = -1 */
    static const char *const mstatus[] = {"admin", "", "modérateur"};
    static const int64_t mban[] = {FORA_TIME_NONE, FORA_TIME_NONE, 1622548800};
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(s->members.id[i], mid[i]);
        ASSERT_STR_EQ(fora_snapshot_member_ext(s, i), mext[i]);
        ASSERT_EQ(s->members.registered_at[i], mreg[i]);
        ASSERT_STR_EQ(fora_snapshot_member_status(s, i), mstatus[i]);
        ASSERT_EQ(s->members.banned_at[i], mban[i]);
        ASSERT_EQ(fora_snapshot_member_by_id(s, mid[i]), i);
        ASSERT_EQ(fora_snapshot_member_by_ext(s, mext[i]), i);
    }
    ASSERT_EQ(fora_snapshot_member_by_id(s, 4), -1);
    ASSERT_EQ(fora_snapshot_member_by_ext(s, "om"), -1);
    fora_snapshot_destroy(s);
}

static void test_threads_posts_events(void)
{
    fora_snapshot_t *s = load(2);

    ASSERT_EQ(s->threads.n, 2);
    ASSERT_EQ(s->threads.id[0], 1);
    ASSERT_EQ(s->threads.id[1], 3);
    ASSERT_STR_EQ(fora_snapshot_thread_ext(s, 0), "t1");
    ASSERT_STR_EQ(fora_snapshot_thread_ext(s, 1), "t2");
    ASSERT_EQ(s->threads.board[0], 0);
    ASSERT_EQ(s->threads.board[1], 1);
    ASSERT_EQ(s->threads.starter[0], 0);
    ASSERT_EQ(s->threads.starter[1], -1);
    ASSERT_EQ(s->threads.created_at[0], T1);
    ASSERT_EQ(s->threads.created_at[1], T2);

    /*
     * By (floor(created_at), id): p1 T1; p5 T1+50; p7 T1+50.7 -> T1+50, after p5
     * by id; p3 T1+100; p4 T2+10; p6 T2+10, after p4 by id.
     */
    ASSERT_EQ(s->posts.n, 6);
    static const int64_t pid[] = {1, 5, 7, 3, 4, 6};
    static const int64_t pt[] = {T1, T1 + 50, T1 + 50, T1 + 100, T2 + 10, T2 + 10};
    static const int32_t pthread[] = {0, 0, 0, 0, 1, 1};
    static const int32_t pauthor[] = {0, -1, 1, 1, 2, 0};
    static const int32_t preply[] = {-1, 3, 0, 0, -1, 4};
    for (int i = 0; i < 6; i++) {
        ASSERT_EQ(s->posts.id[i], pid[i]);
        ASSERT_EQ(s->posts.created_at[i], pt[i]);
        ASSERT_EQ(s->posts.thread[i], pthread[i]);
        ASSERT_EQ(s->posts.author[i], pauthor[i]);
        ASSERT_EQ(s->posts.reply_to[i], preply[i]);
        ASSERT_EQ(fora_snapshot_post_by_id(s, pid[i]), i);
    }
    ASSERT_EQ(fora_snapshot_post_by_id(s, 2), -1);
    ASSERT_EQ(s->threads.first_post[0], 0);
    ASSERT_EQ(s->threads.first_post[1], 4);

    /* events by (at, member, kind, board) */
    ASSERT_EQ(s->events.n, 3);
    static const int64_t eat[] = {1585699200, 1588291200, 1588291200};
    static const int32_t emember[] = {2, 0, 1};
    static const char *const ekind[] = {"download", "visit", "visit"};
    static const int32_t eboard[] = {-1, 0, -1};
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(s->events.at[i], eat[i]);
        ASSERT_EQ(s->events.member[i], emember[i]);
        ASSERT_STR_EQ(fora_snapshot_event_kind(s, i), ekind[i]);
        ASSERT_EQ(s->events.board[i], eboard[i]);
    }
    fora_snapshot_destroy(s);
}

static void test_other_and_empty(void)
{
    fora_snapshot_t *s = load(1);
    ASSERT_STR_EQ(s->forum.name, "other");
    ASSERT_STR_EQ(s->forum.timezone, "UTC");
    ASSERT_EQ(s->boards.n, 1);
    ASSERT_EQ(s->members.n, 2);
    ASSERT_EQ(s->members.id[0], 1);
    ASSERT_EQ(s->members.id[1], 4);
    ASSERT_EQ(s->threads.n, 1);
    ASSERT_EQ(s->posts.n, 1);
    ASSERT_EQ(s->posts.id[0], 2);
    ASSERT_EQ(s->posts.author[0], 1);
    ASSERT_EQ(s->events.n, 1);
    fora_snapshot_destroy(s);

    s = load(3);
    ASSERT_STR_EQ(s->forum.name, "empty");
    ASSERT_EQ(s->boards.n + s->members.n + s->threads.n + s->posts.n + s->events.n, 0);
    fora_snapshot_destroy(s);
}

/* Every loaded time equals floor(extract(epoch ...)) computed by the server. */
static void test_time_edges(void)
{
    fora_snapshot_t *s = load(4);
    PGresult *res = PQexec(conn, "SELECT floor(extract(epoch FROM registered_at))::bigint"
                                 " FROM members WHERE forum_id = 4 ORDER BY id");
    ASSERT_EQ(PQresultStatus(res), PGRES_TUPLES_OK);
    ASSERT_EQ(PQntuples(res), 12);
    ASSERT_EQ(s->members.n, 12);
    for (int i = 0; i < 12; i++) {
        int64_t want = PQgetisnull(res, i, 0) ? FORA_TIME_NONE : atoll(PQgetvalue(res, i, 0));
        if (s->members.registered_at[i] != want)
            FORA_FAIL("member %s: registered_at %lld, expected %lld",
                      fora_snapshot_member_ext(s, i), (long long)s->members.registered_at[i],
                      (long long)want);
    }
    PQclear(res);
    ASSERT_EQ(s->members.registered_at[4], -1);         /* 1969-12-31 23:59:59.999999 */
    ASSERT_EQ(s->members.registered_at[6], 2147483647); /* 2038-01-19 03:14:07.999999 */
    ASSERT_EQ(s->members.registered_at[10], FORA_TIME_NONE);
    fora_snapshot_destroy(s);
}

static void test_load_errors(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *s = (fora_snapshot_t *)&d; /* must be reset to NULL */
    ASSERT_EQ(fora_snapshot_load(conn, 99, &s, &d), FORA_ENOTFOUND);
    ASSERT(s == NULL);
    ASSERT_STR_EQ(d.msg, "forum 99 not found");
    ASSERT_EQ(PQtransactionStatus(conn), PQTRANS_IDLE); /* rolled back */

    /* inside a caller's transaction: refused, and the transaction is left alone */
    fora_diag_clear(&d);
    exec_ok("BEGIN");
    ASSERT_EQ(fora_snapshot_load(conn, 2, &s, &d), FORA_EINVAL);
    ASSERT_EQ(PQtransactionStatus(conn), PQTRANS_INTRANS);
    exec_ok("ROLLBACK");

    /* a server error (a missing table) is EDB or ESCHEMA and leaves the connection idle */
    fora_diag_clear(&d);
    exec_ok("ALTER TABLE member_events RENAME TO member_events_x");
    fora_err_t err = fora_snapshot_load(conn, 2, &s, &d);
    exec_ok("ALTER TABLE member_events_x RENAME TO member_events");
    ASSERT(err == FORA_ESCHEMA || err == FORA_EDB);
    ASSERT(strstr(d.msg, "reading member_events") != NULL);
    ASSERT(s == NULL);
    ASSERT_EQ(PQtransactionStatus(conn), PQTRANS_IDLE);

    /* and the connection still works */
    s = load(2);
    ASSERT_EQ(s->posts.n, 6);
    fora_snapshot_destroy(s);
}

/* fora_db_check maps SQLSTATEs: undefined table -> ESCHEMA, query_canceled -> ETIMEOUT */
static void test_db_check_codes(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    ASSERT_EQ(fora_db_exec(conn, "SELECT * FROM no_such_table", &d), FORA_ESCHEMA);
    ASSERT(strstr(d.msg, "no_such_table") != NULL);
    fora_diag_clear(&d);
    ASSERT_EQ(fora_db_exec(conn, "SELECT 1 / 0", &d), FORA_EDB);
    ASSERT(strstr(d.msg, "division by zero") != NULL);
    fora_diag_clear(&d);
    exec_ok("SET statement_timeout = '50ms'");
    ASSERT_EQ(fora_db_exec(conn, "SELECT pg_sleep(2)", &d), FORA_ETIMEOUT);
    ASSERT(strstr(d.msg, "statement timeout") != NULL);
    exec_ok("RESET statement_timeout");
    ASSERT_EQ(fora_err_http_status(FORA_ETIMEOUT), 503);
    ASSERT_STR_EQ(fora_err_api_code(FORA_ETIMEOUT), "timeout");
    ASSERT_EQ(fora_err_exit_code(FORA_ETIMEOUT), 17);
}

static void test_lookup(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    int64_t id = -1;
    ASSERT_OK(fora_forum_lookup(conn, "alpha", &id, &d), &d);
    ASSERT_EQ(id, 2);
    ASSERT_OK(fora_forum_lookup(conn, "other", &id, &d), &d);
    ASSERT_EQ(id, 1);
    id = -1;
    ASSERT_OK(fora_forum_lookup(conn, "2", &id, &d), &d);
    ASSERT_EQ(id, 2);

    id = -1;
    ASSERT_EQ(fora_forum_lookup(conn, "nope", &id, &d), FORA_ENOTFOUND);
    ASSERT_STR_EQ(d.msg, "forum \"nope\" not found");
    ASSERT_EQ(id, -1);
    fora_diag_clear(&d);
    ASSERT_EQ(fora_forum_lookup(conn, "42", &id, &d), FORA_ENOTFOUND);
    ASSERT_STR_EQ(d.msg, "forum \"42\" not found");
    fora_diag_clear(&d);
    ASSERT_EQ(fora_forum_lookup(conn, "99999999999999999999999", &id, &d), FORA_ENOTFOUND);
    fora_diag_clear(&d);
    ASSERT_EQ(fora_forum_lookup(conn, "Alpha", &id, &d), FORA_ENOTFOUND); /* names are exact */
    fora_diag_clear(&d);
    ASSERT_EQ(fora_forum_lookup(conn, "", &id, &d), FORA_EINVAL);
    ASSERT_EQ(id, -1);
}

int main(void)
{
    FORA_RUN(setup);
    FORA_RUN(test_forum_boards_members);
    FORA_RUN(test_threads_posts_events);
    FORA_RUN(test_other_and_empty);
    FORA_RUN(test_time_edges);
    FORA_RUN(test_load_errors);
    FORA_RUN(test_db_check_codes);
    FORA_RUN(test_lookup);
    PQfinish(conn);
    return 0;
}
