/*
 * server/import.c - CSV bundle import: parse and check in C, COPY into
 * staging tables, resolve and merge in SQL, all in one transaction.
 *
 * Why the work is split this way: C sees the file and line of every row, so
 * everything that can be checked on one row (field count, identifiers,
 * timestamps, labels) is checked while streaming, with an exact position in
 * the message.  What needs other rows (duplicates, references into the
 * database, a post older than its thread) is checked in SQL on staging tables
 * that keep each row's line number, so those messages are exact too.  Tables
 * are merged in dependency order (boards, members, threads, posts, events,
 * links), each resolving its references against what is already merged, so a
 * rejected row makes the rows that need it dangling and they are rejected in
 * turn.
 */
#include "fora/import.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fora/csv.h"
#include "fora/db.h"
#include "fora/progress.h"
#include "fora/timeparse.h"

#define MAX_ID_LEN 128
#define MAX_LABEL_LEN 64
#define COPY_FLUSH (1 << 18)

typedef enum col_type {
    COL_ID,        /* required identifier */
    COL_ID_OPT,    /* optional identifier (reference) */
    COL_TS,        /* required timestamp */
    COL_TS_OPT,    /* optional timestamp */
    COL_LABEL,     /* required label, at most 64 bytes */
    COL_LABEL_OPT, /* optional label */
    COL_KIND,      /* event kind: [a-z][a-z0-9_]{0,31} */
    COL_PSEUDO,    /* optional pseudonym, at most 128 bytes */
} col_type_t;

typedef struct col_spec {
    const char *name;
    col_type_t type;
} col_spec_t;

typedef struct file_spec {
    const char *name;    /* base name: "posts" */
    const char *staging; /* staging table */
    bool required;       /* the bundle must have it */
    int ncols;
    col_spec_t cols[6];
} file_spec_t;

static const file_spec_t file_specs[FORA_FILE_COUNT] = {
    [FORA_FILE_BOARDS] = {"boards",
                          "stg_boards",
                          true,
                          3,
                          {{"board_id", COL_ID},
                           {"parent_id", COL_ID_OPT},
                           {"category", COL_LABEL_OPT}}},
    [FORA_FILE_MEMBERS] = {"members",
                           "stg_members",
                           true,
                           5,
                           {{"member_id", COL_ID},
                            {"pseudonym", COL_PSEUDO},
                            {"registered_at", COL_TS_OPT},
                            {"status", COL_LABEL_OPT},
                            {"banned_at", COL_TS_OPT}}},
    [FORA_FILE_THREADS] = {"threads",
                           "stg_threads",
                           true,
                           4,
                           {{"thread_id", COL_ID},
                            {"board_id", COL_ID},
                            {"starter_id", COL_ID_OPT},
                            {"created_at", COL_TS}}},
    [FORA_FILE_POSTS] = {"posts",
                         "stg_posts",
                         true,
                         5,
                         {{"post_id", COL_ID},
                          {"thread_id", COL_ID},
                          {"author_id", COL_ID_OPT},
                          {"created_at", COL_TS},
                          {"reply_to", COL_ID_OPT}}},
    [FORA_FILE_EVENTS] = {"events",
                          "stg_events",
                          false,
                          4,
                          {{"member_id", COL_ID},
                           {"kind", COL_KIND},
                           {"occurred_at", COL_TS},
                           {"board_id", COL_ID_OPT}}},
    [FORA_FILE_LINKS] = {"links",
                         "stg_links",
                         false,
                         4,
                         {{"member_id", COL_ID},
                          {"other_forum", COL_LABEL_OPT},
                          {"other_member_id", COL_ID},
                          {"source", COL_LABEL}}},
};

/* Staging tables: the line number, then the columns in file_specs order. */
static const char *staging_ddl =
    "CREATE TEMP TABLE stg_boards (line bigint, ext text, parent text, category text)"
    " ON COMMIT DROP;"
    "CREATE TEMP TABLE stg_members (line bigint, ext text, pseudonym text,"
    " registered_at timestamptz, status text, banned_at timestamptz) ON COMMIT DROP;"
    "CREATE TEMP TABLE stg_threads (line bigint, ext text, board text, starter text,"
    " created_at timestamptz) ON COMMIT DROP;"
    "CREATE TEMP TABLE stg_posts (line bigint, ext text, thread text, author text,"
    " created_at timestamptz, reply_to text, id bigint) ON COMMIT DROP;"
    "CREATE TEMP TABLE stg_events (line bigint, member text, kind text,"
    " occurred_at timestamptz, board text) ON COMMIT DROP;"
    "CREATE TEMP TABLE stg_links (line bigint, member text, other_forum text,"
    " other_member text, source text) ON COMMIT DROP;";

/* The staging columns that receive each file column, in file_specs order. */
static const char *const staging_cols[FORA_FILE_COUNT][6] = {
    [FORA_FILE_BOARDS] = {"ext", "parent", "category"},
    [FORA_FILE_MEMBERS] = {"ext", "pseudonym", "registered_at", "status", "banned_at"},
    [FORA_FILE_THREADS] = {"ext", "board", "starter", "created_at"},
    [FORA_FILE_POSTS] = {"ext", "thread", "author", "created_at", "reply_to"},
    [FORA_FILE_EVENTS] = {"member", "kind", "occurred_at", "board"},
    [FORA_FILE_LINKS] = {"member", "other_forum", "other_member", "source"},
};

const char *fora_bundle_file_name(fora_bundle_file_t f)
{
    return (unsigned)f < FORA_FILE_COUNT ? file_specs[f].name : "?";
}

typedef struct importer {
    PGconn *conn;
    const fora_import_opts_t *opts;
    fora_import_stats_t *stats;
    fora_diag_t *diag;
    const char *dir;
    char path[FORA_FILE_COUNT][PATH_MAX]; /* "" when the optional file is absent */
    char forum_name[MAX_LABEL_LEN + 1];
    char source[512];
    char timezone[MAX_LABEL_LEN + 1];
    bool have_source, have_timezone;
    char forum_id[24]; /* as text, the $1 of every statement */
    fora_csv_writer_t *rejects;
    long errors;           /* rows rejected so far */
    char bulk_tables[160]; /* tables inserted in bulk, comma-separated */
    char *copybuf;
    size_t copylen, copycap;
} importer_t;

/* ---- rejecting rows ------------------------------------------------------ */

/*
 * Reports a bad row.  Returns FORA_OK when it may be rejected (and records
 * it), or EPARSE with the message in diag when the import must stop.
 */
static fora_err_t bad_row(importer_t *im, const char *file, int64_t line, const char *field,
                          const char *fmt, ...) FORA_PRINTF(5, 6);

static fora_err_t bad_row(importer_t *im, const char *file, int64_t line, const char *field,
                          const char *fmt, ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);

    if (im->errors >= im->opts->max_errors) {
        if (im->opts->max_errors > 0)
            return fora_diag_set(im->diag, FORA_EPARSE,
                                 "more than %ld bad rows (--max-errors); the last: %s:%lld: "
                                 "field \"%s\": %s",
                                 im->opts->max_errors, file, (long long)line, field, reason);
        return fora_diag_set(im->diag, FORA_EPARSE, "%s:%lld: field \"%s\": %s", file,
                             (long long)line, field, reason);
    }
    im->errors++;
    im->stats->rejected++;
    if (im->rejects) {
        char linebuf[24];
        snprintf(linebuf, sizeof(linebuf), "%lld", (long long)line);
        const char *row[] = {file, linebuf, field, reason};
        return fora_csv_write(im->rejects, 4, row, im->diag);
    }
    return FORA_OK;
}

/* ---- checking one field -------------------------------------------------- */

static bool valid_utf8(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f) return false; /* no control characters in labels */
            i++;
            continue;
        }
        if ((c & 0xE0) == 0xC0 && c >= 0xC2)
            n = 1;
        else if ((c & 0xF0) == 0xE0)
            n = 2;
        else if ((c & 0xF8) == 0xF0 && c <= 0xF4)
            n = 3;
        else
            return false;
        if (i + n >= len) return false;
        for (size_t k = 1; k <= n; k++)
            if ((s[i + k] & 0xC0) != 0x80) return false;
        i += n + 1;
    }
    return true;
}

/* Appends s[0..len) to the COPY buffer in COPY text escaping. */
static void copy_put(importer_t *im, const char *s, size_t len)
{
    if (im->copylen + 2 * len + 2 > im->copycap) {
        while (im->copylen + 2 * len + 2 > im->copycap)
            im->copycap *= 2;
        im->copybuf = fora_xrealloc(im->copybuf, im->copycap);
    }
    char *o = im->copybuf + im->copylen;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        switch (c) {
        case '\\':
            *o++ = '\\';
            *o++ = '\\';
            break;
        case '\t':
            *o++ = '\\';
            *o++ = 't';
            break;
        case '\n':
            *o++ = '\\';
            *o++ = 'n';
            break;
        case '\r':
            *o++ = '\\';
            *o++ = 'r';
            break;
        default:
            *o++ = c;
        }
    }
    im->copylen = (size_t)(o - im->copybuf);
}

static void copy_raw(importer_t *im, const char *s)
{
    size_t len = strlen(s);
    if (im->copylen + len + 1 > im->copycap) {
        while (im->copylen + len + 1 > im->copycap)
            im->copycap *= 2;
        im->copybuf = fora_xrealloc(im->copybuf, im->copycap);
    }
    memcpy(im->copybuf + im->copylen, s, len);
    im->copylen += len;
}

static bool valid_kind(const char *s, size_t len)
{
    if (len == 0 || len > 32 || s[0] < 'a' || s[0] > 'z') return false;
    for (size_t i = 1; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    }
    return true;
}

/*
 * Checks one field; on success appends its COPY form.  Returns 1 when the
 * field is fine, 0 when the row was rejected (message recorded), or -1 when
 * the import must stop.
 */
static int put_field(importer_t *im, const file_spec_t *fs, const col_spec_t *col, int64_t line,
                     const char *v, size_t len, int64_t *ts_out)
{
    const char *file = fs->name;
    char fname[32];
    snprintf(fname, sizeof(fname), "%s.csv", file);
    bool optional = col->type == COL_ID_OPT || col->type == COL_TS_OPT ||
                    col->type == COL_LABEL_OPT || col->type == COL_PSEUDO;
    fora_err_t err;

    if (len == 0) {
        if (optional) {
            copy_raw(im, "\\N");
            return 1;
        }
        err = bad_row(im, fname, line, col->name, "value required");
        return err == FORA_OK ? 0 : -1;
    }
    switch (col->type) {
    case COL_ID:
    case COL_ID_OPT:
    case COL_PSEUDO:
        if (len > MAX_ID_LEN) {
            err = bad_row(im, fname, line, col->name, "longer than %d bytes", MAX_ID_LEN);
            return err == FORA_OK ? 0 : -1;
        }
        if (!valid_utf8((const unsigned char *)v, len)) {
            err =
                bad_row(im, fname, line, col->name, "not valid UTF-8 or holds a control character");
            return err == FORA_OK ? 0 : -1;
        }
        copy_put(im, v, len);
        return 1;
    case COL_LABEL:
    case COL_LABEL_OPT:
        if (len > MAX_LABEL_LEN || !valid_utf8((const unsigned char *)v, len)) {
            err = bad_row(im, fname, line, col->name,
                          "not a label (at most %d bytes of UTF-8, no control characters)",
                          MAX_LABEL_LEN);
            return err == FORA_OK ? 0 : -1;
        }
        copy_put(im, v, len);
        return 1;
    case COL_KIND:
        if (!valid_kind(v, len)) {
            err = bad_row(im, fname, line, col->name,
                          "bad event kind \"%.40s\" (lower-case letters, digits, _)", v);
            return err == FORA_OK ? 0 : -1;
        }
        copy_put(im, v, len);
        return 1;
    case COL_TS:
    case COL_TS_OPT: {
        int64_t usec;
        char buf[40];
        if (!fora_time_parse(v, len, &usec)) {
            err = bad_row(im, fname, line, col->name, "bad timestamp \"%.40s\"", v);
            return err == FORA_OK ? 0 : -1;
        }
        fora_time_format_pg(usec, buf);
        copy_raw(im, buf);
        if (ts_out) *ts_out = usec;
        return 1;
    }
    }
    return -1;
}

/* ---- loading one file into staging --------------------------------------- */

static fora_err_t flush_copy(importer_t *im, bool force)
{
    if (im->copylen == 0 || (!force && im->copylen < COPY_FLUSH)) return FORA_OK;
    if (PQputCopyData(im->conn, im->copybuf, (int)im->copylen) != 1)
        return fora_diag_set(im->diag, FORA_EDB, "sending rows to the database: %s",
                             PQerrorMessage(im->conn));
    im->copylen = 0;
    return FORA_OK;
}

static fora_err_t end_copy(importer_t *im, const char *what, bool ok)
{
    fora_err_t err = FORA_OK;
    if (PQputCopyEnd(im->conn, ok ? NULL : "import aborted") != 1)
        err = fora_diag_set(im->diag, FORA_EDB, "ending COPY: %s", PQerrorMessage(im->conn));
    PGresult *res;
    while ((res = PQgetResult(im->conn)) != NULL) {
        if (ok && err == FORA_OK) err = fora_db_check(res, PGRES_COMMAND_OK, what, im->diag);
        PQclear(res);
    }
    return err;
}

static fora_err_t load_file(importer_t *im, fora_bundle_file_t f)
{
    const file_spec_t *fs = &file_specs[f];
    fora_csv_reader_t *r = NULL;
    fora_err_t err;
    size_t nf, *lens;
    char **fields;
    int64_t line;
    int map[FORA_DIAG_MAX]; /* header position -> spec column */
    int pos[6];             /* spec column -> header position, -1 absent */
    size_t ncols;
    char fname[32];
    bool copying = false;
    fora_progress_t prog;
    struct stat st;
    int64_t size = stat(im->path[f], &st) == 0 ? (int64_t)st.st_size : -1;

    snprintf(fname, sizeof(fname), "%s.csv", fs->name);
    if ((err = fora_csv_open(im->path[f], &r, im->diag)) != FORA_OK) return err;
    err = fora_csv_next(r, &nf, &fields, &lens, &line, im->diag);
    if (err == FORA_ENOTFOUND) {
        err = fora_diag_set(im->diag, FORA_EPARSE, "%s:1: empty file (a header row is required)",
                            fname);
        goto out;
    }
    if (err != FORA_OK) goto out;
    ncols = nf;
    for (int c = 0; c < fs->ncols; c++)
        pos[c] = -1;
    for (size_t i = 0; i < nf; i++) {
        const char *h = fields[i];
        if (i == 0 && (unsigned char)h[0] == 0xEF && (unsigned char)h[1] == 0xBB &&
            (unsigned char)h[2] == 0xBF)
            h += 3; /* UTF-8 byte-order mark */
        map[i] = -1;
        for (int c = 0; c < fs->ncols; c++)
            if (strcmp(h, fs->cols[c].name) == 0) map[i] = c;
        if (map[i] < 0) {
            err = fora_diag_set(im->diag, FORA_EPARSE, "%s:%lld: unknown column \"%s\"", fname,
                                (long long)line, h);
            goto out;
        }
        if (pos[map[i]] >= 0) {
            err = fora_diag_set(im->diag, FORA_EPARSE, "%s:%lld: column \"%s\" appears twice",
                                fname, (long long)line, h);
            goto out;
        }
        pos[map[i]] = (int)i;
    }
    for (int c = 0; c < fs->ncols; c++) {
        bool required = fs->cols[c].type == COL_ID || fs->cols[c].type == COL_TS ||
                        fs->cols[c].type == COL_KIND || fs->cols[c].type == COL_LABEL;
        if (required && pos[c] < 0) {
            err = fora_diag_set(im->diag, FORA_EPARSE, "%s:%lld: required column \"%s\" missing",
                                fname, (long long)line, fs->cols[c].name);
            goto out;
        }
    }

    char sql[128];
    /* the file's columns by name, so staging-only columns take their defaults */
    size_t n = (size_t)snprintf(sql, sizeof(sql), "COPY %s (line", fs->staging);
    for (int c = 0; c < fs->ncols; c++)
        n += (size_t)snprintf(sql + n, sizeof(sql) - n, ", %s", staging_cols[f][c]);
    snprintf(sql + n, sizeof(sql) - n, ") FROM STDIN");
    PGresult *res = PQexec(im->conn, sql);
    err = fora_db_check(res, PGRES_COPY_IN, "starting COPY", im->diag);
    PQclear(res);
    if (err != FORA_OK) goto out;
    copying = true;

    fora_progress_begin(&prog, im->opts->quiet, fname, -1);
    int64_t rows = 0;
    for (;;) {
        err = fora_csv_next(r, &nf, &fields, &lens, &line, im->diag);
        if (err == FORA_ENOTFOUND) {
            err = FORA_OK;
            break;
        }
        if (err != FORA_OK) goto out;
        if (nf == 1 && lens[0] == 0) continue; /* blank line */
        rows++;
        if (nf != ncols) {
            err = bad_row(im, fname, line, "*", "%zu fields where the header has %zu", nf, ncols);
            if (err != FORA_OK) goto out;
            continue;
        }
        size_t mark = im->copylen;
        int64_t ts[6] = {0};
        int ok = 1;
        char num[24];
        snprintf(num, sizeof(num), "%lld", (long long)line);
        copy_raw(im, num);
        for (int c = 0; c < fs->ncols && ok == 1; c++) {
            copy_raw(im, "\t");
            if (pos[c] < 0) {
                copy_raw(im, "\\N");
                continue;
            }
            ts[c] = INT64_MIN;
            ok = put_field(im, fs, &fs->cols[c], line, fields[pos[c]], lens[pos[c]], &ts[c]);
        }
        if (ok == 1 && f == FORA_FILE_MEMBERS && pos[2] >= 0 && pos[4] >= 0 && lens[pos[2]] > 0 &&
            lens[pos[4]] > 0 && ts[4] < ts[2]) {
            err = bad_row(im, fname, line, "banned_at", "banned before registered_at");
            ok = err == FORA_OK ? 0 : -1;
        }
        if (ok < 0) {
            err = im->diag->code;
            goto out;
        }
        if (ok == 0) {
            im->copylen = mark; /* drop the rejected row */
            continue;
        }
        copy_raw(im, "\n");
        im->stats->read[f]++;
        if ((err = flush_copy(im, false)) != FORA_OK) goto out;
        if ((rows & 4095) == 0) {
            int64_t off = fora_csv_offset(r);
            if (off > 0 && size > 0)
                prog.total = (int64_t)((double)rows * (double)size / (double)off);
            fora_progress_update(&prog, rows);
        }
    }
    prog.done = rows;
    fora_progress_end(&prog);
    if ((err = flush_copy(im, true)) != FORA_OK) goto out;
    copying = false;
    err = end_copy(im, "loading staging rows", true);
out:
    if (copying) (void)end_copy(im, "aborting COPY", false);
    im->copylen = 0;
    fora_csv_close(r);
    return err;
}

/* ---- SQL helpers ---------------------------------------------------------- */

/* Executes sql with $1 = the forum's id and $2 = its name, as far as it uses them. */
static PGresult *exec_forum(importer_t *im, const char *sql)
{
    const char *params[] = {im->forum_id, im->forum_name};
    int nparams = strstr(sql, "$2") ? 2 : (strstr(sql, "$1") ? 1 : 0);
    return PQexecParams(im->conn, sql, nparams, NULL, params, NULL, NULL, 0);
}

/* Runs sql (see exec_forum); *affected (may be NULL) gets the row count. */
static fora_err_t run(importer_t *im, const char *what, const char *sql, int64_t *affected)
{
    PGresult *res = exec_forum(im, sql);
    ExecStatusType want =
        PQresultStatus(res) == PGRES_TUPLES_OK ? PGRES_TUPLES_OK : PGRES_COMMAND_OK;
    fora_err_t err = fora_db_check(res, want, what, im->diag);
    if (err == FORA_OK && affected) *affected = atoll(PQcmdTuples(res));
    PQclear(res);
    return err;
}

/*
 * Runs a check query returning (line, value) of bad rows in `table`, ordered
 * by line.  Each is reported as "FILE:LINE: field FIELD: REASON "value"" and
 * rejected (deleted from `table` by line) when max_errors allows.  *nbad
 * (may be NULL) gets how many rows were rejected.
 */
static fora_err_t check(importer_t *im, fora_bundle_file_t f, const char *table, const char *field,
                        const char *reason, const char *sql, int64_t *nbad)
{
    char fname[32], what[128];
    fora_err_t err;

    if (nbad) *nbad = 0;
    snprintf(fname, sizeof(fname), "%s.csv", file_specs[f].name);
    snprintf(what, sizeof(what), "checking %s %s", fname, field);
    PGresult *res = exec_forum(im, sql);
    if ((err = fora_db_check(res, PGRES_TUPLES_OK, what, im->diag)) != FORA_OK) goto out;
    int n = PQntuples(res);
    if (n == 0) goto out;
    size_t cap = 64, len = 0;
    char *lines = fora_xmalloc(cap);
    lines[len++] = '{';
    for (int i = 0; i < n; i++) {
        const char *value = PQgetisnull(res, i, 1) ? "" : PQgetvalue(res, i, 1);
        err =
            bad_row(im, fname, atoll(PQgetvalue(res, i, 0)), field, "%s \"%.60s\"", reason, value);
        if (err != FORA_OK) {
            free(lines);
            goto out;
        }
        const char *l = PQgetvalue(res, i, 0);
        size_t ll = strlen(l);
        if (len + ll + 3 > cap) lines = fora_xrealloc(lines, cap = 2 * (cap + ll + 3));
        if (i > 0) lines[len++] = ',';
        memcpy(lines + len, l, ll);
        len += ll;
    }
    lines[len++] = '}';
    lines[len] = '\0';
    char del[128];
    snprintf(del, sizeof(del), "DELETE FROM %s WHERE line = ANY($1::bigint[])", table);
    const char *dparams[] = {lines};
    PGresult *dres = PQexecParams(im->conn, del, 1, NULL, dparams, NULL, NULL, 0);
    err = fora_db_check(dres, PGRES_COMMAND_OK, "removing rejected rows", im->diag);
    PQclear(dres);
    free(lines);
    if (nbad) *nbad = n;
out:
    PQclear(res);
    return err;
}

#define LIMIT_BAD " ORDER BY 1 LIMIT 1000"

/* Rejects all but the first row of each duplicated identifier. */
static fora_err_t check_duplicates(importer_t *im, fora_bundle_file_t f, const char *table,
                                   const char *field)
{
    char sql[400];
    snprintf(sql, sizeof(sql),
             "SELECT line, ext FROM (SELECT line, ext, row_number() OVER (PARTITION BY ext "
             "ORDER BY line) AS k FROM %s) d WHERE k > 1" LIMIT_BAD,
             table);
    return check(im, f, table, field, "duplicate identifier", sql, NULL);
}

/* ---- bulk inserts ------------------------------------------------------------ */

#define BULK_MIN_ROWS 50000 /* a batch at least this large (default) ... */
#define BULK_MIN_SHARE 0.1  /* ... and this share of the table is inserted in bulk */

/*
 * Runs an INSERT of about `rows` new rows into `table`.  For a large batch
 * the table's foreign keys (but one to forums), the unique constraints no
 * foreign key depends on, and its plain secondary indexes are dropped first
 * and re-created after the insert,
 * inside the import's transaction: PostgreSQL then checks each key with one
 * join over the table and builds each index with one sort, instead of a
 * locked lookup and a random index insertion per row -- many times faster
 * at millions of rows (what pg_restore does).  The price is an exclusive
 * lock on the table and those it references until the import commits, so
 * recomputes wait for it; a small append keeps per-row maintenance and light
 * locks.
 */
static fora_err_t bulk_insert(importer_t *im, const char *table, int64_t rows, const char *what,
                              const char *sql, int64_t *affected)
{
    fora_err_t err = FORA_OK;
    PGresult *defs = NULL;
    const char *p[] = {table};
    bool bulk = false;

    if (rows >= (im->opts->bulk_min_rows > 0 ? im->opts->bulk_min_rows : BULK_MIN_ROWS)) {
        PGresult *r = PQexecParams(im->conn,
                                   "SELECT greatest(reltuples, 0)::bigint FROM pg_class"
                                   " WHERE oid = $1::regclass",
                                   1, NULL, p, NULL, NULL, 0);
        if ((err = fora_db_check(r, PGRES_TUPLES_OK, "sizing a table", im->diag)) != FORA_OK) {
            PQclear(r);
            return err;
        }
        bulk = (double)rows >= BULK_MIN_SHARE * (double)atoll(PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    if (bulk) {
        /* (drop statement, re-create statement) for each foreign key and plain index */
        defs =
            PQexecParams(im->conn,
                         "SELECT format('ALTER TABLE %I DROP CONSTRAINT %I', $1::text, conname),"
                         "       format('ALTER TABLE %I ADD CONSTRAINT %I %s', $1::text, conname,"
                         "              pg_get_constraintdef(oid))"
                         " FROM pg_constraint c WHERE conrelid = $1::regclass AND (contype = 'f'"
                         "  OR (contype = 'u' AND NOT EXISTS (SELECT 1 FROM pg_constraint f"
                         "      WHERE f.contype = 'f' AND f.conindid = c.conindid)))"
                         " AND confrelid <> 'forums'::regclass"
                         " UNION ALL"
                         " SELECT format('DROP INDEX %s', i.indexrelid::regclass),"
                         "        pg_get_indexdef(i.indexrelid)"
                         " FROM pg_index i WHERE i.indrelid = $1::regclass AND NOT i.indisunique"
                         " AND NOT i.indisprimary",
                         1, NULL, p, NULL, NULL, 0);
        if ((err = fora_db_check(defs, PGRES_TUPLES_OK, "listing keys and indexes", im->diag)) !=
            FORA_OK)
            goto out;
        for (int i = 0; i < PQntuples(defs); i++)
            if ((err = fora_db_exec(im->conn, PQgetvalue(defs, i, 0), im->diag)) != FORA_OK)
                goto out;
    }
    if ((err = run(im, what, sql, affected)) != FORA_OK) goto out;
    if (bulk) {
        size_t used = strlen(im->bulk_tables);
        snprintf(im->bulk_tables + used, sizeof(im->bulk_tables) - used, "%s%s", used ? ", " : "",
                 table);
    }
    for (int i = 0; bulk && i < PQntuples(defs); i++)
        if ((err = fora_db_exec(im->conn, PQgetvalue(defs, i, 1), im->diag)) != FORA_OK) goto out;
out:
    PQclear(defs);
    return err;
}

/* The number of rows of a staging or resolution table matching `where`. */
static fora_err_t count_rows(importer_t *im, const char *table, const char *where, int64_t *n)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE %s", table, where);
    PGresult *r = PQexec(im->conn, sql);
    fora_err_t err = fora_db_check(r, PGRES_TUPLES_OK, "counting rows", im->diag);
    if (err == FORA_OK) *n = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    return err;
}

/* ---- merging, table by table ------------------------------------------------ */

static fora_err_t merge_boards(importer_t *im)
{
    fora_err_t err;
    int64_t n = 0, m = 0;
    if ((err = check_duplicates(im, FORA_FILE_BOARDS, "stg_boards", "board_id")) != FORA_OK)
        return err;
    for (;;) { /* a rejected board orphans its children: repeat until none */
        int64_t nbad;
        err = check(im, FORA_FILE_BOARDS, "stg_boards", "parent_id", "unknown board",
                    "SELECT s.line, s.parent FROM stg_boards s WHERE s.parent IS NOT NULL"
                    " AND NOT EXISTS (SELECT 1 FROM stg_boards p WHERE p.ext = s.parent)"
                    " AND NOT EXISTS (SELECT 1 FROM boards p WHERE p.forum_id = $1"
                    " AND p.ext_id = s.parent)" LIMIT_BAD,
                    &nbad);
        if (err != FORA_OK) return err;
        if (nbad == 0) break;
    }
    if ((err = check(im, FORA_FILE_BOARDS, "stg_boards", "parent_id", "board is its own parent",
                     "SELECT line, parent FROM stg_boards WHERE parent = ext" LIMIT_BAD, NULL)))
        return err;
    if ((err = run(im, "merging boards",
                   "INSERT INTO boards (forum_id, ext_id, category)"
                   " SELECT $1, ext, COALESCE(category, '') FROM stg_boards"
                   " ON CONFLICT (forum_id, ext_id) DO UPDATE SET category = EXCLUDED.category"
                   " WHERE EXCLUDED.category <> '' AND boards.category <> EXCLUDED.category",
                   &n)) != FORA_OK)
        return err;
    if ((err = run(im, "linking boards to their parents",
                   "UPDATE boards b SET parent_id = p.id FROM stg_boards s"
                   " JOIN boards p ON p.forum_id = $1 AND p.ext_id = s.parent"
                   " WHERE b.forum_id = $1 AND b.ext_id = s.ext"
                   " AND b.parent_id IS DISTINCT FROM p.id",
                   &m)) != FORA_OK)
        return err;
    /* a parent chain that comes back to its start is impossible */
    PGresult *res = PQexecParams(
        im->conn,
        "WITH RECURSIVE walk (start, cur, depth) AS ("
        " SELECT id, parent_id, 1 FROM boards WHERE forum_id = $1 AND parent_id IS NOT NULL"
        " UNION ALL SELECT w.start, b.parent_id, w.depth + 1 FROM walk w"
        " JOIN boards b ON b.forum_id = $1 AND b.id = w.cur"
        " WHERE b.parent_id IS NOT NULL AND w.cur <> w.start AND w.depth < 1000)"
        " SELECT b.ext_id FROM walk w JOIN boards b ON b.forum_id = $1 AND b.id = w.start"
        " WHERE w.cur = w.start LIMIT 1",
        1, NULL, (const char *[]){im->forum_id}, NULL, NULL, 0);
    if ((err = fora_db_check(res, PGRES_TUPLES_OK, "checking board parents", im->diag)) ==
            FORA_OK &&
        PQntuples(res) > 0)
        err = fora_diag_set(im->diag, FORA_EPARSE,
                            "boards.csv: field \"parent_id\": board \"%s\" is its own ancestor "
                            "(a cycle of parents)",
                            PQgetvalue(res, 0, 0));
    PQclear(res);
    im->stats->changed[FORA_FILE_BOARDS] = n + m;
    return err;
}

static fora_err_t merge_members(importer_t *im)
{
    fora_err_t err;
    if ((err = check_duplicates(im, FORA_FILE_MEMBERS, "stg_members", "member_id")) != FORA_OK)
        return err;
    /* an empty field leaves what is known; a new value replaces it */
    int64_t updated = 0, added = 0, rows;
    if ((err = run(im, "updating members",
                   "UPDATE members m SET"
                   " pseudonym = COALESCE(s.pseudonym, m.pseudonym),"
                   " registered_at = COALESCE(s.registered_at, m.registered_at),"
                   " status = CASE WHEN COALESCE(s.status, '') = '' THEN m.status"
                   "          ELSE s.status END,"
                   " banned_at = COALESCE(s.banned_at, m.banned_at)"
                   " FROM stg_members s WHERE m.forum_id = $1 AND m.ext_id = s.ext"
                   " AND ((s.pseudonym IS NOT NULL AND s.pseudonym IS DISTINCT FROM m.pseudonym)"
                   "  OR (s.registered_at IS NOT NULL"
                   "      AND s.registered_at IS DISTINCT FROM m.registered_at)"
                   "  OR (COALESCE(s.status, '') <> '' AND s.status <> m.status)"
                   "  OR (s.banned_at IS NOT NULL AND s.banned_at IS DISTINCT FROM m.banned_at))",
                   &updated)) != FORA_OK)
        return err;
    if ((err = run(im, "finding new members",
                   "CREATE TEMP TABLE new_members ON COMMIT DROP AS SELECT s.* FROM stg_members s"
                   " WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.forum_id = $1"
                   " AND m.ext_id = s.ext)",
                   &rows)) != FORA_OK)
        return err;
    err = bulk_insert(im, "members", rows, "merging members",
                      "INSERT INTO members (forum_id, ext_id, pseudonym, registered_at, status,"
                      " banned_at) SELECT $1, ext, pseudonym, registered_at,"
                      " COALESCE(status, ''), banned_at FROM new_members",
                      &added);
    im->stats->changed[FORA_FILE_MEMBERS] = updated + added;
    return err;
}

static fora_err_t merge_threads(importer_t *im)
{
    fora_err_t err;
    if ((err = check_duplicates(im, FORA_FILE_THREADS, "stg_threads", "thread_id")) != FORA_OK)
        return err;
    if ((err = run(im, "resolving threads",
                   "CREATE TEMP TABLE res_threads ON COMMIT DROP AS"
                   " SELECT s.line, s.ext, s.board, b.id AS board_id, s.starter,"
                   " m.id AS starter_id, s.created_at, e.id AS existing"
                   " FROM stg_threads s"
                   " LEFT JOIN threads e ON e.forum_id = $1 AND e.ext_id = s.ext"
                   " LEFT JOIN boards b ON b.forum_id = $1 AND b.ext_id = s.board"
                   " LEFT JOIN members m ON m.forum_id = $1 AND m.ext_id = s.starter",
                   NULL)) != FORA_OK)
        return err;
    if ((err = check(im, FORA_FILE_THREADS, "res_threads", "board_id", "unknown board",
                     "SELECT line, board FROM res_threads WHERE existing IS NULL"
                     " AND board_id IS NULL" LIMIT_BAD,
                     NULL)) != FORA_OK)
        return err;
    if ((err = check(im, FORA_FILE_THREADS, "res_threads", "starter_id", "unknown member",
                     "SELECT line, starter FROM res_threads WHERE existing IS NULL"
                     " AND starter IS NOT NULL AND starter_id IS NULL" LIMIT_BAD,
                     NULL)) != FORA_OK)
        return err;
    int64_t rows;
    if ((err = count_rows(im, "res_threads", "existing IS NULL", &rows)) != FORA_OK) return err;
    return bulk_insert(im, "threads", rows, "merging threads",
                       "INSERT INTO threads (forum_id, ext_id, board_id, starter_id, created_at)"
                       " SELECT $1, ext, board_id, starter_id, created_at FROM res_threads"
                       " WHERE existing IS NULL",
                       &im->stats->changed[FORA_FILE_THREADS]);
}

static fora_err_t merge_posts(importer_t *im)
{
    fora_err_t err;
    if ((err = check_duplicates(im, FORA_FILE_POSTS, "stg_posts", "post_id")) != FORA_OK)
        return err;
    /*
     * New posts get their ids from the table's own sequence here, so that a
     * reply to a post of the same bundle resolves in the same pass.
     */
    /*
     * A post already stored keeps its id; a new one takes the id drawn in
     * staging.  A reply target is looked up among stored posts first, then
     * among the bundle's new ones.
     */
    const char *sql =
        "CREATE TEMP TABLE res_posts ON COMMIT DROP AS"
        " SELECT s.line, s.ext, COALESCE(e.id, s.id) AS id, e.id IS NOT NULL AS existing,"
        " s.thread, t.id AS thread_id, t.created_at AS thread_created_at, s.author,"
        " m.id AS author_id, s.created_at, s.reply_to, COALESCE(p.id, x.id) AS reply_id,"
        " p.id IS NULL AND x.id IS NOT NULL AS reply_in_batch"
        " FROM stg_posts s"
        " LEFT JOIN posts e ON e.forum_id = $1 AND e.ext_id = s.ext"
        " LEFT JOIN threads t ON t.forum_id = $1 AND t.ext_id = s.thread"
        " LEFT JOIN members m ON m.forum_id = $1 AND m.ext_id = s.author"
        " LEFT JOIN posts p ON p.forum_id = $1 AND p.ext_id = s.reply_to"
        " LEFT JOIN stg_posts x ON x.ext = s.reply_to";
    if ((err = run(im, "resolving posts", sql, NULL)) != FORA_OK) return err;
    static const struct {
        const char *field, *reason, *sql;
    } checks[] = {
        {"thread_id", "unknown thread",
         "SELECT line, thread FROM res_posts WHERE NOT existing AND thread_id IS NULL" LIMIT_BAD},
        {"author_id", "unknown member",
         "SELECT line, author FROM res_posts WHERE NOT existing AND author IS NOT NULL"
         " AND author_id IS NULL" LIMIT_BAD},
        {"reply_to", "unknown post",
         "SELECT line, reply_to FROM res_posts WHERE NOT existing AND reply_to IS NOT NULL"
         " AND reply_id IS NULL" LIMIT_BAD},
        {"reply_to", "post replies to itself",
         "SELECT line, reply_to FROM res_posts WHERE NOT existing AND reply_id = id" LIMIT_BAD},
        {"created_at", "post is older than its thread, created at",
         "SELECT line, thread_created_at FROM res_posts WHERE NOT existing"
         " AND created_at < thread_created_at" LIMIT_BAD},
    };
    int64_t rejected = 0;
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        int64_t nbad;
        err = check(im, FORA_FILE_POSTS, "res_posts", checks[i].field, checks[i].reason,
                    checks[i].sql, &nbad);
        if (err != FORA_OK) return err;
        rejected += nbad;
    }
    while (rejected > 0) { /* replies to rejected posts cannot stay */
        err = check(im, FORA_FILE_POSTS, "res_posts", "reply_to", "replies to a rejected post",
                    "SELECT r.line, r.reply_to FROM res_posts r WHERE r.reply_in_batch"
                    " AND NOT EXISTS (SELECT 1 FROM res_posts x WHERE x.id = r.reply_id)" LIMIT_BAD,
                    &rejected);
        if (err != FORA_OK) return err;
    }
    int64_t rows;
    if ((err = count_rows(im, "res_posts", "NOT existing", &rows)) != FORA_OK) return err;
    return bulk_insert(im, "posts", rows, "merging posts",
                       "INSERT INTO posts (id, forum_id, ext_id, thread_id, thread_created_at,"
                       " author_id, created_at, reply_to) OVERRIDING SYSTEM VALUE"
                       " SELECT id, $1, ext, thread_id, thread_created_at, author_id, created_at,"
                       " reply_id FROM res_posts WHERE NOT existing",
                       &im->stats->changed[FORA_FILE_POSTS]);
}

static fora_err_t merge_events(importer_t *im)
{
    fora_err_t err;
    if ((err = run(im, "resolving events",
                   "CREATE TEMP TABLE res_events ON COMMIT DROP AS"
                   " SELECT s.line, s.member, m.id AS member_id, s.kind, s.occurred_at,"
                   " s.board, b.id AS board_id FROM stg_events s"
                   " LEFT JOIN members m ON m.forum_id = $1 AND m.ext_id = s.member"
                   " LEFT JOIN boards b ON b.forum_id = $1 AND b.ext_id = s.board",
                   NULL)) != FORA_OK)
        return err;
    if ((err = check(im, FORA_FILE_EVENTS, "res_events", "member_id", "unknown member",
                     "SELECT line, member FROM res_events WHERE member_id IS NULL" LIMIT_BAD,
                     NULL)) != FORA_OK)
        return err;
    if ((err = check(im, FORA_FILE_EVENTS, "res_events", "board_id", "unknown board",
                     "SELECT line, board FROM res_events WHERE board IS NOT NULL"
                     " AND board_id IS NULL" LIMIT_BAD,
                     NULL)) != FORA_OK)
        return err;
    int64_t rows;
    if ((err = count_rows(im, "res_events", "true", &rows)) != FORA_OK) return err;
    /*
     * An event is its member, kind, time and board: keep one of each from the
     * bundle and only those not yet stored (an anti-join rather than
     * ON CONFLICT, so a bulk insert may drop the unique index meanwhile).
     */
    return bulk_insert(im, "member_events", rows, "merging events",
                       "INSERT INTO member_events (forum_id, member_id, kind, occurred_at,"
                       " board_id)"
                       " SELECT $1, r.member_id, r.kind, r.occurred_at, r.board_id FROM"
                       " (SELECT member_id, kind, occurred_at, board_id FROM res_events"
                       "  GROUP BY 1, 2, 3, 4) r"
                       " WHERE NOT EXISTS (SELECT 1 FROM member_events e"
                       "  WHERE e.forum_id = $1 AND e.member_id = r.member_id"
                       "  AND e.kind = r.kind AND e.occurred_at = r.occurred_at"
                       "  AND COALESCE(e.board_id, -1) = COALESCE(r.board_id, -1))",
                       &im->stats->changed[FORA_FILE_EVENTS]);
}

static fora_err_t merge_links(importer_t *im)
{
    fora_err_t err;
    if ((err = run(im, "resolving links",
                   "CREATE TEMP TABLE res_links ON COMMIT DROP AS"
                   " SELECT s.line, s.member, m.id AS member_id,"
                   " COALESCE(s.other_forum, $2) AS other_forum, f.id AS other_forum_id,"
                   " s.other_member, o.id AS other_id, s.source FROM stg_links s"
                   " LEFT JOIN members m ON m.forum_id = $1 AND m.ext_id = s.member"
                   " LEFT JOIN forums f ON f.name = COALESCE(s.other_forum, $2)"
                   " LEFT JOIN members o ON o.forum_id = f.id AND o.ext_id = s.other_member",
                   NULL)) != FORA_OK)
        return err;
    static const struct {
        const char *field, *reason, *sql;
    } checks[] = {
        {"member_id", "unknown member",
         "SELECT line, member FROM res_links WHERE member_id IS NULL" LIMIT_BAD},
        {"other_forum", "unknown forum",
         "SELECT line, other_forum FROM res_links WHERE other_forum_id IS NULL" LIMIT_BAD},
        {"other_member_id", "unknown member",
         "SELECT line, other_member FROM res_links WHERE other_forum_id IS NOT NULL"
         " AND other_id IS NULL" LIMIT_BAD},
        {"other_member_id", "an account cannot be linked to itself",
         "SELECT line, other_member FROM res_links WHERE other_id = member_id" LIMIT_BAD},
    };
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
        if ((err = check(im, FORA_FILE_LINKS, "res_links", checks[i].field, checks[i].reason,
                         checks[i].sql, NULL)) != FORA_OK)
            return err;
    return run(im, "merging links",
               "INSERT INTO member_links (forum_a, member_a, forum_b, member_b, source)"
               " SELECT CASE WHEN member_id < other_id THEN $1::bigint ELSE other_forum_id END,"
               " least(member_id, other_id),"
               " CASE WHEN member_id < other_id THEN other_forum_id ELSE $1::bigint END,"
               " greatest(member_id, other_id), source FROM res_links"
               " ON CONFLICT DO NOTHING",
               &im->stats->changed[FORA_FILE_LINKS]);
}

/* ---- the bundle --------------------------------------------------------------- */

/* Finds NAME.csv or NAME.csv.gz in the bundle; "" when neither exists. */
static void find_file(const char *dir, const char *name, char *out, size_t len)
{
    struct stat st;
    snprintf(out, len, "%s/%s.csv", dir, name);
    if (stat(out, &st) == 0) return;
    snprintf(out, len, "%s/%s.csv.gz", dir, name);
    if (stat(out, &st) == 0) return;
    out[0] = '\0';
}

/* Reads forum.csv's single data row, if the file exists. */
static fora_err_t read_forum_file(importer_t *im)
{
    char path[PATH_MAX];
    fora_csv_reader_t *r = NULL;
    size_t nf, nh, *lens;
    char **fields, *header[3] = {NULL, NULL, NULL};
    int64_t line;
    fora_err_t err;

    find_file(im->dir, "forum", path, sizeof(path));
    if (path[0] == '\0') return FORA_OK;
    if ((err = fora_csv_open(path, &r, im->diag)) != FORA_OK) return err;
    if ((err = fora_csv_next(r, &nh, &fields, &lens, &line, im->diag)) != FORA_OK) {
        if (err == FORA_ENOTFOUND) err = FORA_OK; /* empty: no settings */
        goto out;
    }
    if (nh > 3) {
        err = fora_diag_set(im->diag, FORA_EPARSE, "forum.csv:1: more than 3 columns");
        goto out;
    }
    for (size_t i = 0; i < nh; i++) {
        if (strcmp(fields[i], "name") && strcmp(fields[i], "source") &&
            strcmp(fields[i], "timezone")) {
            err = fora_diag_set(im->diag, FORA_EPARSE, "forum.csv:1: unknown column \"%s\"",
                                fields[i]);
            goto out;
        }
        header[i] = fora_xstrdup(fields[i]);
    }
    err = fora_csv_next(r, &nf, &fields, &lens, &line, im->diag);
    if (err == FORA_ENOTFOUND) {
        err = FORA_OK;
        goto out;
    }
    if (err != FORA_OK) goto out;
    if (nf != nh) {
        err = fora_diag_set(im->diag, FORA_EPARSE,
                            "forum.csv:%lld: %zu fields where the header "
                            "has %zu",
                            (long long)line, nf, nh);
        goto out;
    }
    for (size_t i = 0; i < nh; i++) {
        if (lens[i] == 0) continue;
        if (strcmp(header[i], "name") == 0 && im->forum_name[0] == '\0')
            snprintf(im->forum_name, sizeof(im->forum_name), "%s", fields[i]);
        else if (strcmp(header[i], "source") == 0 && !im->have_source) {
            snprintf(im->source, sizeof(im->source), "%s", fields[i]);
            im->have_source = true;
        } else if (strcmp(header[i], "timezone") == 0 && !im->have_timezone) {
            snprintf(im->timezone, sizeof(im->timezone), "%s", fields[i]);
            im->have_timezone = true;
        }
    }
out:
    for (int i = 0; i < 3; i++)
        free(header[i]);
    fora_csv_close(r);
    return err;
}

/* Creates or updates the forum row and locks it for the rest of the import. */
static fora_err_t upsert_forum(importer_t *im)
{
    PGresult *res;
    fora_err_t err;

    if (im->have_timezone) {
        const char *p[] = {im->timezone};
        res = PQexecParams(im->conn, "SELECT fora_is_timezone($1)", 1, NULL, p, NULL, NULL, 0);
        err = fora_db_check(res, PGRES_TUPLES_OK, "checking the time zone", im->diag);
        if (err == FORA_OK && strcmp(PQgetvalue(res, 0, 0), "t") != 0)
            err = fora_diag_set(im->diag, FORA_EINVAL,
                                "unknown time zone \"%s\" (use an IANA name such as "
                                "\"Europe/Amsterdam\")",
                                im->timezone);
        PQclear(res);
        if (err != FORA_OK) return err;
    }
    const char *p[] = {im->forum_name, im->have_source ? im->source : NULL,
                       im->have_timezone ? im->timezone : NULL};
    res = PQexecParams(im->conn,
                       "INSERT INTO forums (name, source, timezone)"
                       " VALUES ($1, COALESCE($2, ''), COALESCE($3, 'UTC'))"
                       " ON CONFLICT (name) DO UPDATE SET"
                       " source = COALESCE($2, forums.source),"
                       " timezone = COALESCE($3, forums.timezone)"
                       " RETURNING id, (xmax = 0) AS created",
                       3, NULL, p, NULL, NULL, 0);
    err = fora_db_check(res, PGRES_TUPLES_OK, "creating the forum", im->diag);
    if (err == FORA_OK) {
        snprintf(im->forum_id, sizeof(im->forum_id), "%s", PQgetvalue(res, 0, 0));
        im->stats->forum_id = atoll(im->forum_id);
    } else if (strstr(im->diag->msg, "forums_name_check")) {
        fora_diag_clear(im->diag);
        err = fora_diag_set(im->diag, FORA_EINVAL,
                            "bad forum name \"%s\" (a letter, then up to 62 letters, digits, "
                            "'_', '.' or '-')",
                            im->forum_name);
    }
    PQclear(res);
    if (err != FORA_OK) return err;
    /* one import per forum at a time; other forums go on in parallel */
    char sql[96];
    snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%s, 1)", im->forum_id);
    return fora_db_exec(im->conn, sql, im->diag);
}

static fora_err_t finish_import(importer_t *im)
{
    int64_t total = 0;
    for (int f = 0; f < FORA_FILE_COUNT; f++)
        total += im->stats->changed[f];
    char read_json[512], changed_json[512];
    size_t a = 0, b = 0;
    a += (size_t)snprintf(read_json + a, sizeof(read_json) - a, "{");
    b += (size_t)snprintf(changed_json + b, sizeof(changed_json) - b, "{");
    for (int f = 0; f < FORA_FILE_COUNT; f++) {
        a += (size_t)snprintf(read_json + a, sizeof(read_json) - a, "%s\"%s\": %lld", f ? ", " : "",
                              file_specs[f].name, (long long)im->stats->read[f]);
        b += (size_t)snprintf(changed_json + b, sizeof(changed_json) - b, "%s\"%s\": %lld",
                              f ? ", " : "", file_specs[f].name, (long long)im->stats->changed[f]);
    }
    snprintf(read_json + a, sizeof(read_json) - a, "}");
    snprintf(changed_json + b, sizeof(changed_json) - b, "}");
    char rejected[24], bump[4];
    snprintf(rejected, sizeof(rejected), "%lld", (long long)im->stats->rejected);
    snprintf(bump, sizeof(bump), "%d", total > 0 ? 1 : 0);
    const char *p[] = {im->forum_id,
                       im->opts->format ? im->opts->format : "csv",
                       im->opts->origin ? im->opts->origin : im->dir,
                       read_json,
                       changed_json,
                       rejected,
                       bump};
    PGresult *res = PQexecParams(
        im->conn,
        "WITH v AS (UPDATE forums SET data_version = data_version + $7::int"
        " WHERE id = $1 RETURNING data_version)"
        " INSERT INTO imports (forum_id, format, path, started_at, rows_read, rows_inserted,"
        " rows_rejected, data_version)"
        " SELECT $1, $2, $3, now(), $4::jsonb, $5::jsonb, $6, v.data_version FROM v"
        " RETURNING data_version",
        7, NULL, p, NULL, NULL, 0);
    fora_err_t err = fora_db_check(res, PGRES_TUPLES_OK, "recording the import", im->diag);
    if (err == FORA_OK) im->stats->data_version = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    return err;
}

fora_err_t fora_import_bundle(PGconn *conn, const char *dir, const fora_import_opts_t *opts,
                              fora_import_stats_t *stats, fora_diag_t *diag)
{
    importer_t im = {0};
    fora_import_stats_t local;
    fora_err_t err;
    bool in_tx = false;
    double t0 = fora_now_seconds();

    if (stats == NULL) stats = &local;
    memset(stats, 0, sizeof(*stats));
    im.conn = conn;
    im.opts = opts;
    im.stats = stats;
    im.diag = diag;
    im.dir = dir;
    im.copycap = 2 * COPY_FLUSH;
    im.copybuf = fora_xmalloc(im.copycap);
    if (opts->max_errors < 0) {
        err = fora_diag_set(diag, FORA_EINVAL, "--max-errors must be 0 or more");
        goto out;
    }
    if (opts->forum) snprintf(im.forum_name, sizeof(im.forum_name), "%s", opts->forum);
    if (opts->source) {
        snprintf(im.source, sizeof(im.source), "%s", opts->source);
        im.have_source = true;
    }
    if (opts->timezone) {
        snprintf(im.timezone, sizeof(im.timezone), "%s", opts->timezone);
        im.have_timezone = true;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        err =
            fora_diag_set(diag, FORA_ENOTFOUND, "\"%s\" is not a folder holding a CSV bundle", dir);
        goto out;
    }
    if ((err = read_forum_file(&im)) != FORA_OK) goto out;
    if (im.forum_name[0] == '\0') {
        err = fora_diag_set(diag, FORA_EINVAL,
                            "no forum name: pass --forum NAME or put it in forum.csv");
        goto out;
    }
    for (int f = 0; f < FORA_FILE_COUNT; f++) {
        find_file(dir, file_specs[f].name, im.path[f], sizeof(im.path[f]));
        if (im.path[f][0] == '\0' && file_specs[f].required) {
            err = fora_diag_set(diag, FORA_ENOTFOUND, "the bundle \"%s\" has no %s.csv(.gz)", dir,
                                file_specs[f].name);
            goto out;
        }
    }
    if (opts->rejects_path && opts->max_errors > 0 &&
        (err = fora_csv_create(opts->rejects_path, &im.rejects, diag)) == FORA_OK) {
        const char *h[] = {"file", "line", "field", "reason"};
        err = fora_csv_write(im.rejects, 4, h, diag);
    }
    if (err != FORA_OK) goto out;

    if ((err = fora_db_exec(conn, "BEGIN", diag)) != FORA_OK) goto out;
    in_tx = true;
    if ((err = fora_db_exec(conn, "SET LOCAL work_mem = '256MB'", diag)) != FORA_OK) goto out;
    if ((err = fora_db_exec(conn, "SET LOCAL temp_buffers = '256MB'", diag)) != FORA_OK) goto out;
    if ((err = fora_db_exec(conn, "SET LOCAL maintenance_work_mem = '512MB'", diag)) != FORA_OK)
        goto out;
    if ((err = upsert_forum(&im)) != FORA_OK) goto out;
    if ((err = fora_db_exec(conn, staging_ddl, diag)) != FORA_OK) goto out;
    /*
     * A new post's id is drawn from posts' own sequence while copying, so
     * replies within the bundle resolve in one join.  The sequence is named
     * once here: a default calling pg_get_serial_sequence() would look it up
     * for every row.
     */
    if ((err = fora_db_exec(conn,
                            "DO $$ BEGIN EXECUTE format('ALTER TABLE stg_posts ALTER id"
                            " SET DEFAULT nextval(%L::regclass)',"
                            " pg_get_serial_sequence('posts', 'id')); END $$",
                            diag)) != FORA_OK)
        goto out;
    for (int f = 0; f < FORA_FILE_COUNT; f++)
        if (im.path[f][0] && (err = load_file(&im, (fora_bundle_file_t)f)) != FORA_OK) goto out;
    static fora_err_t (*const merge[])(importer_t *) = {merge_boards, merge_members, merge_threads,
                                                        merge_posts,  merge_events,  merge_links};
    for (int f = 0; f < FORA_FILE_COUNT; f++) {
        double ts = fora_now_seconds();
        if ((err = merge[f](&im)) != FORA_OK) goto out;
        if (!opts->quiet && im.path[f][0])
            fprintf(stderr, "fora: merged %s: %lld new or changed rows in %.1f s\n",
                    file_specs[f].name, (long long)stats->changed[f], fora_now_seconds() - ts);
    }
    if ((err = finish_import(&im)) != FORA_OK) goto out;
    if ((err = fora_db_exec(conn, "COMMIT", diag)) != FORA_OK) goto out;
    in_tx = false;
    if (im.bulk_tables[0]) {
        /*
         * Tables that grew in bulk get fresh planner statistics now, not at
         * autovacuum's leisure: the next import's joins and the snapshot
         * loader plan on them.  The data is committed; a failure here only
         * warns.
         */
        char sql[200];
        fora_diag_t warn = FORA_DIAG_INIT;
        snprintf(sql, sizeof(sql), "ANALYZE %s", im.bulk_tables);
        if (fora_db_exec(conn, sql, &warn) != FORA_OK && !opts->quiet)
            fprintf(stderr, "fora: warning: %s\n", warn.msg);
    }
out:
    if (in_tx) PQclear(PQexec(conn, "ROLLBACK"));
    if (err != FORA_OK) stats->data_version = 0;
    fora_err_t ferr = fora_csv_finish(im.rejects, diag);
    if (err == FORA_OK) err = ferr;
    free(im.copybuf);
    stats->seconds = fora_now_seconds() - t0;
    return err;
}
