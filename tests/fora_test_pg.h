/*
 * tests/fora_test_pg.h - a fresh, migrated database for one PostgreSQL test.
 *
 * FORA_TEST_DATABASE_URL (set by ctest's "pg" fixture) names a scratch
 * server; fora_test_pg_fresh("name") drops and recreates database "name"
 * there, applies the migrations and returns a connection to it.  A missing
 * URL or server fails the test: nothing is skipped.
 */
#ifndef FORA_TEST_PG_H
#define FORA_TEST_PG_H

#include <stdio.h>
#include <stdlib.h>

#include <libpq-fe.h>

#include "fora/db.h"
#include "fora_test.h"

static inline const char *fora_test_pg_url(void)
{
    const char *url = getenv("FORA_TEST_DATABASE_URL");
    if (url == NULL || *url == '\0')
        FORA_FAIL(
            "FORA_TEST_DATABASE_URL is not set: run this test through ctest (the pg fixture)");
    return url;
}

static inline PGconn *fora_test_pg_connect(const char *dbname)
{
    char info[2048];
    snprintf(info, sizeof(info), "%s dbname=%s", fora_test_pg_url(), dbname);
    PGconn *c = PQconnectdb(info);
    if (PQstatus(c) != CONNECTION_OK) FORA_FAIL("cannot connect: %s", PQerrorMessage(c));
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    return c;
}

static inline PGconn *fora_test_pg_fresh(const char *dbname)
{
    char sql[256];
    PGconn *admin = fora_test_pg_connect("postgres");
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", dbname);
    PGresult *r = PQexec(admin, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) FORA_FAIL("%s", PQerrorMessage(admin));
    PQclear(r);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", dbname);
    r = PQexec(admin, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) FORA_FAIL("%s", PQerrorMessage(admin));
    PQclear(r);
    PQfinish(admin);
    PGconn *c = fora_test_pg_connect(dbname);
    fora_diag_t diag = FORA_DIAG_INIT;
    int applied = -1;
    ASSERT_OK(fora_migrate(c, FORA_SOURCE_DIR "/migrations", true, &applied, &diag), &diag);
    ASSERT(applied > 0);
    return c;
}

/* The single value of a one-row, one-column query, as a number. */
static inline long long fora_test_pg_scalar(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        FORA_FAIL("query failed: %s: %s", sql, PQerrorMessage(c));
    long long v = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

#endif /* FORA_TEST_PG_H */
