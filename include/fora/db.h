/*
 * fora/db.h - connecting to PostgreSQL, the embedded cluster, migrations.
 *
 * fora talks to one database.  With a connection string (FORA_DATABASE_URL or
 * --database-url) it uses that server and nothing else.  Without one it
 * manages a private PostgreSQL 15 cluster under the data folder
 * (FORA_DATA_DIR, default ./var): initdb on first use, pg_ctl start/stop,
 * listening only on a Unix socket inside the folder (and on 127.0.0.1:PORT
 * when a port is asked for), trust authentication on that socket only.
 * Starting is idempotent and serialised with a lock file, so several fora
 * processes can share the cluster.
 *
 * When fora runs as root, the cluster's files and processes belong to the
 * unprivileged "postgres" account (PostgreSQL refuses to run as root).
 *
 * Ownership: connections returned here are closed with PQfinish().
 * Thread safety: one PGconn per thread.
 */
#ifndef FORA_DB_H
#define FORA_DB_H

#include <stdbool.h>
#include <libpq-fe.h>

#include "fora/error.h"

typedef struct fora_dbconf {
    const char *url;      /* libpq connection string; NULL: embedded cluster */
    const char *data_dir; /* embedded cluster's folder; NULL: "./var" */
    int port;             /* embedded: also listen on 127.0.0.1:port; 0: socket only */
    bool quiet;           /* no notes on stderr (e.g. "starting database") */
} fora_dbconf_t;

/* Fills c from FORA_DATABASE_URL, FORA_DATA_DIR and FORA_PORT. */
void fora_dbconf_from_env(fora_dbconf_t *c);

/* True when c selects the embedded cluster. */
bool fora_dbconf_embedded(const fora_dbconf_t *c);

/*
 * Embedded cluster control.  start: initdb if needed, start if not running,
 * create the database "fora" if missing; a no-op when already up.  stop: a
 * fast, clean shutdown; a no-op when not running.  status: prints whether it
 * runs and the connection string to use with psql into buf.
 * EINVAL when c names an external server; EEXTERNAL when initdb or pg_ctl
 * fail (diag quotes their log).
 */
fora_err_t fora_db_start(const fora_dbconf_t *c, fora_diag_t *diag) FORA_MUST_CHECK;
fora_err_t fora_db_stop(const fora_dbconf_t *c, fora_diag_t *diag) FORA_MUST_CHECK;
fora_err_t fora_db_status(const fora_dbconf_t *c, bool *running, char *conninfo, size_t len,
                          fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * The connection string for c's database `dbname` (NULL: the configured one,
 * "fora" for the embedded cluster).  Written into buf (at least 1024 bytes
 * advisable); EINVAL when it does not fit.
 */
fora_err_t fora_db_conninfo(const fora_dbconf_t *c, const char *dbname, char *buf, size_t len,
                            fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * Connects; for the embedded cluster, starts it first when needed.  EDB when
 * the server cannot be reached (diag has libpq's message).
 */
fora_err_t fora_db_connect(const fora_dbconf_t *c, PGconn **out, fora_diag_t *diag) FORA_MUST_CHECK;

/* Runs one SQL command without parameters; EDB with the server's message. */
fora_err_t fora_db_exec(PGconn *conn, const char *sql, fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * Checks a result: FORA_OK when its status is `expect`; otherwise records
 * "WHAT: server message" as EDB (or ESCHEMA for an undefined table) and
 * returns it.  Does not PQclear.
 */
fora_err_t fora_db_check(const PGresult *res, ExecStatusType expect, const char *what,
                         fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * Applies the numbered migrations (NNNN_name.sql) in `dir` that are not yet
 * recorded in schema_migrations, each in its own transaction, in order.
 * *applied (may be NULL) counts those applied.  A failed migration rolls back
 * and stops: EDB naming the file.
 */
fora_err_t fora_migrate(PGconn *conn, const char *dir, bool quiet, int *applied,
                        fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * Compares schema_migrations with the files in `dir`: *pending gets the
 * number not yet applied.  ESCHEMA when the database has a migration the
 * files do not know (the binary is older than the schema).
 */
fora_err_t fora_migrate_pending(PGconn *conn, const char *dir, int *pending,
                                fora_diag_t *diag) FORA_MUST_CHECK;

/* The migrations folder: FORA_MIGRATIONS_DIR, else the source tree's. */
const char *fora_migrations_dir(void);

#endif /* FORA_DB_H */
