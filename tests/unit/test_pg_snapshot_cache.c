/*
 * tests/unit/test_pg_snapshot_cache.c - the shared snapshot cache: one load
 * per data version, a new load after the data changed, references that
 * outlive eviction, and concurrent first requests sharing one load.
 */
#include <pthread.h>

#include "fora_test_pg.h"
#include "snapshot_cache.h"

#define DBNAME "fora_t_snapcache"

static PGconn *conn;

static void exec_ok(const char *sql)
{
    PGresult *r = PQexec(conn, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        FORA_FAIL("%s: %s", sql, PQerrorMessage(conn));
    PQclear(r);
}

static fora_snapshot_t *acquire(int64_t forum)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *s = NULL;
    ASSERT_OK(fora__snapshot_acquire(conn, forum, &s, &d), &d);
    ASSERT(s != NULL);
    return s;
}

static void *thread_acquire(void *arg)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *s = NULL;
    PGconn *c = fora_test_pg_connect(DBNAME);
    ASSERT_OK(fora__snapshot_acquire(c, *(int64_t *)arg, &s, &d), &d);
    PQfinish(c);
    return s;
}

int main(void)
{
    uint64_t loads, hits;
    fora_diag_t d = FORA_DIAG_INIT;
    conn = fora_test_pg_fresh(DBNAME);
    for (int f = 1; f <= 6; f++) {
        char sql[256];
        snprintf(sql, sizeof(sql), "INSERT INTO forums (name) VALUES ('f%d')", f);
        exec_ok(sql);
    }
    exec_ok("INSERT INTO boards (forum_id, ext_id) VALUES (1, 'b')");
    exec_ok("INSERT INTO members (forum_id, ext_id) VALUES (1, 'm')");
    exec_ok("INSERT INTO threads (forum_id, ext_id, board_id, starter_id, created_at)"
            " VALUES (1, 't', 1, 1, '2020-01-01Z')");
    exec_ok("INSERT INTO posts (forum_id, ext_id, thread_id, thread_created_at, author_id,"
            " created_at) VALUES (1, 'p1', 1, '2020-01-01Z', 1, '2020-01-01Z')");

    /* one load, then hits: the same snapshot */
    fora_snapshot_t *a = acquire(1), *b = acquire(1);
    ASSERT(a == b);
    ASSERT_EQ(a->posts.n, 1);
    fora__snapshot_cache_stats(&loads, &hits);
    ASSERT_EQ(loads, 1);
    ASSERT_EQ(hits, 1);

    /* new data (a new data version): the next acquire loads again; a still sees the old data */
    exec_ok("INSERT INTO posts (forum_id, ext_id, thread_id, thread_created_at, author_id,"
            " created_at) VALUES (1, 'p2', 1, '2020-01-01Z', 1, '2020-01-02Z')");
    exec_ok("UPDATE forums SET data_version = data_version + 1 WHERE id = 1");
    fora_snapshot_t *c = acquire(1);
    ASSERT(c != a);
    ASSERT_EQ(c->posts.n, 2);
    ASSERT_EQ(a->posts.n, 1); /* retired but alive while referenced */
    fora__snapshot_release(a);
    fora__snapshot_release(b); /* the last reference frees it (ASan checks) */
    fora__snapshot_release(c);
    fora__snapshot_cache_stats(&loads, &hits);
    ASSERT_EQ(loads, 2);

    /* more forums than slots: the least recently used is evicted, the others stay */
    for (int64_t f = 2; f <= 1 + FORA_SNAPSHOT_CACHE_SLOTS; f++)
        fora__snapshot_release(acquire(f));
    fora__snapshot_cache_stats(&loads, &hits);
    ASSERT_EQ(loads, 2 + FORA_SNAPSHOT_CACHE_SLOTS);
    fora__snapshot_release(acquire(1 + FORA_SNAPSHOT_CACHE_SLOTS)); /* still cached */
    uint64_t loads2, hits2;
    fora__snapshot_cache_stats(&loads2, &hits2);
    ASSERT_EQ(loads2, loads);
    ASSERT_EQ(hits2, hits + 1);
    fora__snapshot_release(acquire(1)); /* forum 1 was the least recently used: loaded again */
    fora__snapshot_cache_stats(&loads2, &hits2);
    ASSERT_EQ(loads2, loads + 1);

    /* concurrent first requests for one forum share one load */
    int64_t six = 6;
    ASSERT(FORA_SNAPSHOT_CACHE_SLOTS < 6);
    fora__snapshot_cache_stats(&loads, &hits);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(pthread_create(&t[i], NULL, thread_acquire, &six), 0);
    void *got[4];
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], &got[i]);
    for (int i = 1; i < 4; i++)
        ASSERT(got[i] == got[0]);
    fora__snapshot_cache_stats(&loads2, &hits2);
    ASSERT_EQ(loads2, loads + 1);
    ASSERT_EQ(hits2, hits + 3);
    for (int i = 0; i < 4; i++)
        fora__snapshot_release(got[i]);

    /* an unknown forum */
    fora_snapshot_t *none = NULL;
    ASSERT_EQ(fora__snapshot_acquire(conn, 99, &none, &d), FORA_ENOTFOUND);
    ASSERT(none == NULL);
    PQfinish(conn);
    printf("test_pg_snapshot_cache: ok\n");
    return 0;
}
