/*
 * fora/import.h - loading a CSV bundle (api-docs/csv-bundle.md) into the
 * database, in one transaction.
 *
 * Each file is parsed and checked in C (field count, required fields,
 * identifiers, timestamps), streamed with COPY into temporary staging tables,
 * then resolved against the forum's existing rows and merged with
 * INSERT ... SELECT: posts, threads and events already present are kept as
 * they are, members and boards are updated when their attributes changed.
 * Any error rolls the whole import back unless opts->max_errors allows the
 * offending rows to be rejected (and reported).
 *
 * Ownership: the caller owns conn, which must not be inside a transaction.
 * Thread safety: one import per connection.
 */
#ifndef FORA_IMPORT_H
#define FORA_IMPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <libpq-fe.h>

#include "fora/error.h"

/* The bundle's files, in the order they are merged. */
typedef enum fora_bundle_file {
    FORA_FILE_BOARDS,
    FORA_FILE_MEMBERS,
    FORA_FILE_THREADS,
    FORA_FILE_POSTS,
    FORA_FILE_EVENTS,
    FORA_FILE_LINKS,
    FORA_FILE_COUNT
} fora_bundle_file_t;

typedef struct fora_import_opts {
    const char *forum;        /* forum name; NULL: forum.csv's name */
    const char *format;       /* recorded in the imports table: "csv", "stackexchange", "synth" */
    const char *source;       /* overrides forum.csv's source */
    const char *timezone;     /* overrides forum.csv's timezone */
    const char *origin;       /* what to record as the imported path; NULL: dir */
    long max_errors;          /* bad rows that may be rejected instead of failing (0) */
    const char *rejects_path; /* where rejected rows are reported; NULL: no report */
    bool quiet;               /* no progress output */
    int64_t bulk_min_rows;    /* a table's batch from this size is inserted in bulk
                                 (keys and indexes rebuilt after); 0: 50000 */
} fora_import_opts_t;

typedef struct fora_import_stats {
    int64_t forum_id;
    int64_t data_version;             /* the forum's version after the import */
    int64_t read[FORA_FILE_COUNT];    /* data rows read per file */
    int64_t changed[FORA_FILE_COUNT]; /* rows inserted or updated per table */
    int64_t rejected;                 /* rows rejected under max_errors */
    double seconds;                   /* wall time */
} fora_import_stats_t;

/* The file's base name without extension, e.g. "posts". */
const char *fora_bundle_file_name(fora_bundle_file_t f);

/*
 * Imports the bundle in folder `dir`.  Returns FORA_OK and fills stats (may be
 * NULL); or EPARSE (a malformed or impossible row: diag names file:line and
 * the field), ENOTFOUND (a required file is missing), EINVAL (bad options,
 * unknown time zone), ETOOLARGE (more bad rows than max_errors), EDB, EIO.
 * On any error nothing is written.
 */
fora_err_t fora_import_bundle(PGconn *conn, const char *dir, const fora_import_opts_t *opts,
                              fora_import_stats_t *stats, fora_diag_t *diag) FORA_MUST_CHECK;

#endif /* FORA_IMPORT_H */
