/*
 * server/snapshot_load.c - one forum from PostgreSQL into a fora_snapshot_t.
 *
 * Why COPY in binary format: it streams rows without building a PGresult for
 * a whole table (10 M posts would need gigabytes), and binary rows cost the
 * server no number or timestamp formatting and this side no parsing: ids
 * are big-endian int8s, times int8 microseconds since 2000-01-01 UTC
 * (absolute, so the session's TimeZone does not matter).
 *
 * Boards, members and threads are read in id order (their index order is
 * then the same on every load, which keeps analysis results reproducible);
 * posts and events arrive in whatever order the scan yields and are sorted
 * by the snapshot builder.
 */
#include "fora/snapshot_load.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fora/db.h"

/*
 * A cursor over one binary COPY row: an int16 field count, then per field an
 * int32 length (-1 for NULL) and that many bytes, all big-endian.
 */
typedef struct cursor {
    const unsigned char *p;   /* the next unread byte */
    const unsigned char *end; /* one past the row */
    int k;                    /* index of the next field */
    int nfields;              /* the row's field count */
    const char *table;        /* for messages */
    const char *const *cols;  /* column names, for messages */
    int64_t line;             /* 1-based row number within the COPY */
    char text[2][256];        /* NUL-terminated copies of the row's text fields */
    int ntext;                /* text slots used in this row */
} cursor_t;

/* PostgreSQL's epoch (2000-01-01) in Unix microseconds. */
#define PG_EPOCH_USEC INT64_C(946684800000000)

/* ---------------------------------------------------------------------- */
/* parsing                                                                  */
/* ---------------------------------------------------------------------- */

/* Parses a decimal int64 (optional '-'); false on junk or overflow. */
static bool parse_i64(const char *s, size_t len, int64_t *out)
{
    bool neg = false;
    size_t i = 0;
    if (len > 0 && s[0] == '-') {
        neg = true;
        i = 1;
    }
    if (i == len || len - i > 19) return false;
    uint64_t v = 0;
    for (; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9) return false;
        v = v * 10 + d;
    }
    /* 19 digits fit in uint64 without wrapping; check the signed range */
    if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX) return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

static fora_err_t field_error(const cursor_t *c, const char *what, fora_diag_t *diag)
{
    return fora_diag_set(diag, FORA_EPARSE, "%s row %" PRId64 ": column %s: %s", c->table, c->line,
                         c->k < c->nfields ? c->cols[c->k] : "?", what);
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/*
 * The next field's bytes: *data and *len, *data NULL for SQL NULL.  EPARSE
 * when the row has no more fields or a length runs past its end.
 */
static fora_err_t next_field(cursor_t *c, const unsigned char **data, int32_t *len,
                             fora_diag_t *diag)
{
    if (c->k >= c->nfields || c->end - c->p < 4) return field_error(c, "missing", diag);
    int32_t n = (int32_t)be32(c->p);
    c->p += 4;
    if (n < 0) {
        *data = NULL;
        *len = 0;
        return FORA_OK;
    }
    if (c->end - c->p < n) return field_error(c, "truncated", diag);
    *data = c->p;
    *len = n;
    c->p += n;
    return FORA_OK;
}

/* The next field as an int8; `none` for NULL when nullable.  EPARSE otherwise. */
static fora_err_t next_i64(cursor_t *c, bool nullable, int64_t none, int64_t *out,
                           fora_diag_t *diag)
{
    const unsigned char *f = NULL;
    int32_t len = 0;
    fora_err_t err = next_field(c, &f, &len, diag);
    if (err != FORA_OK) return err;
    if (f == NULL) {
        if (!nullable) return field_error(c, "NULL", diag);
        *out = none;
    } else if (len != 8) {
        return field_error(c, "not an int8", diag);
    } else {
        *out = be64(f);
    }
    c->k++;
    return FORA_OK;
}

/*
 * The next field as a timestamptz in Unix seconds (floor, also before
 * 1970); FORA_TIME_NONE for NULL when nullable.  Infinite times are refused.
 */
static fora_err_t next_time(cursor_t *c, bool nullable, int64_t *out, fora_diag_t *diag)
{
    int64_t us = 0;
    fora_err_t err = next_i64(c, nullable, INT64_MIN, &us, diag);
    if (err != FORA_OK) return err;
    if (us == INT64_MIN && nullable) {
        *out = FORA_TIME_NONE;
        return FORA_OK;
    }
    c->k--; /* for the message, if any */
    if (us == INT64_MIN || us == INT64_MAX) return field_error(c, "infinite timestamp", diag);
    c->k++;
    int64_t unix_us = us + PG_EPOCH_USEC;
    int64_t q = unix_us / 1000000;
    *out = (unix_us % 1000000 < 0) ? q - 1 : q;
    return FORA_OK;
}

/* The next field as a NUL-terminated string (NULL for SQL NULL). */
static fora_err_t next_str(cursor_t *c, const char **out, fora_diag_t *diag)
{
    const unsigned char *f = NULL;
    int32_t len = 0;
    fora_err_t err = next_field(c, &f, &len, diag);
    if (err != FORA_OK) return err;
    if (f == NULL) {
        *out = NULL;
    } else {
        /* text columns are bounded by the schema (ids 128 bytes, labels 64) */
        if (c->ntext == 2 || (size_t)len >= sizeof(c->text[0]) || memchr(f, 0, (size_t)len))
            return field_error(c, "text too long or holding a NUL byte", diag);
        char *t = c->text[c->ntext++];
        memcpy(t, f, (size_t)len);
        t[len] = '\0';
        *out = t;
    }
    c->k++;
    return FORA_OK;
}

/* Checks that the row has no field left. */
static fora_err_t row_end(const cursor_t *c, fora_diag_t *diag)
{
    if (c->k != c->nfields || c->p != c->end)
        return fora_diag_set(diag, FORA_EPARSE, "%s row %" PRId64 ": %d fields, expected %d",
                             c->table, c->line, c->nfields, c->k);
    return FORA_OK;
}

/* ---------------------------------------------------------------------- */
/* tables                                                                   */
/* ---------------------------------------------------------------------- */

typedef fora_err_t (*row_fn)(fora_snapshot_t *s, cursor_t *c, fora_diag_t *diag);

/* (locals are zeroed only to quiet -O3 maybe-uninitialized false positives) */
static const char *const board_cols[] = {"id", "ext_id", "parent_id", "category"};
static fora_err_t board_row(fora_snapshot_t *s, cursor_t *c, fora_diag_t *diag)
{
    int64_t id = 0, parent = 0;
    const char *ext, *cat;
    fora_err_t err;
    if ((err = next_i64(c, false, 0, &id, diag)) != FORA_OK) return err;
    if ((err = next_str(c, &ext, diag)) != FORA_OK) return err;
    if ((err = next_i64(c, true, FORA_ID_NONE, &parent, diag)) != FORA_OK) return err;
    if ((err = next_str(c, &cat, diag)) != FORA_OK) return err;
    if ((err = row_end(c, diag)) != FORA_OK) return err;
    return fora_snapshot_add_board(s, id, ext, parent, cat, diag);
}

static const char *const member_cols[] = {"id", "ext_id", "registered_at", "status", "banned_at"};
static fora_err_t member_row(fora_snapshot_t *s, cursor_t *c, fora_diag_t *diag)
{
    int64_t id = 0, reg = 0, ban = 0;
    const char *ext, *status;
    fora_err_t err;
    if ((err = next_i64(c, false, 0, &id, diag)) != FORA_OK) return err;
    if ((err = next_str(c, &ext, diag)) != FORA_OK) return err;
    if ((err = next_time(c, true, &reg, diag)) != FORA_OK) return err;
    if ((err = next_str(c, &status, diag)) != FORA_OK) return err;
    if ((err = next_time(c, true, &ban, diag)) != FORA_OK) return err;
    if ((err = row_end(c, diag)) != FORA_OK) return err;
    return fora_snapshot_add_member(s, id, ext, reg, status, ban, diag);
}

static const char *const thread_cols[] = {"id", "ext_id", "board_id", "starter_id", "created_at"};
static fora_err_t thread_row(fora_snapshot_t *s, cursor_t *c, fora_diag_t *diag)
{
    int64_t id = 0, board = 0, starter = 0, created = 0;
    const char *ext;
    fora_err_t err;
    if ((err = next_i64(c, false, 0, &id, diag)) != FORA_OK) return err;
    if ((err = next_str(c, &ext, diag)) != FORA_OK) return err;
    if ((err = next_i64(c, false, 0, &board, diag)) != FORA_OK) return err;
    if ((err = next_i64(c, true, FORA_ID_NONE, &starter, diag)) != FORA_OK) return err;
    if ((err = next_time(c, false, &created, diag)) != FORA_OK) return err;
    if ((err = row_end(c, diag)) != FORA_OK) return err;
    return fora_snapshot_add_thread(s, id, ext, board, starter, created, diag);
}

static const char *const post_cols[] = {"id", "thread_id", "author_id", "created_at", "reply_to"};
static fora_err_t post_row(fora_snapshot_t *s, cursor_t *c, fora_diag_t *diag)
{
    int64_t id = 0, thread = 0, author = 0, created = 0, reply = 0;
    fora_err_t err;
    if ((err = next_i64(c, false, 0, &id, diag)) != FORA_OK) return err;
    if ((err = next_i64(c, false, 0, &thread, diag)) != FORA_OK) return err;
    if ((err = next_i64(c, true, FORA_ID_NONE, &author, diag)) != FORA_OK) return err;
    if ((err = next_time(c, false, &created, diag)) != FORA_OK) return err;
    if ((err = next_i64(c, true, FORA_ID_NONE, &reply, diag)) != FORA_OK) return err;
    if ((err = row_end(c, diag)) != FORA_OK) return err;
    return fora_snapshot_add_post(s, id, thread, author, created, reply, diag);
}

static const char *const event_cols[] = {"member_id", "kind", "occurred_at", "board_id"};
static fora_err_t event_row(fora_snapshot_t *s, cursor_t *c, fora_diag_t *diag)
{
    int64_t member = 0, at = 0, board = 0;
    const char *kind;
    fora_err_t err;
    if ((err = next_i64(c, false, 0, &member, diag)) != FORA_OK) return err;
    if ((err = next_str(c, &kind, diag)) != FORA_OK) return err;
    if ((err = next_time(c, false, &at, diag)) != FORA_OK) return err;
    if ((err = next_i64(c, true, FORA_ID_NONE, &board, diag)) != FORA_OK) return err;
    if ((err = row_end(c, diag)) != FORA_OK) return err;
    return fora_snapshot_add_event(s, member, kind, at, board, diag);
}

static const struct table {
    const char *name;
    const char *select; /* %s: the forum id */
    const char *const *cols;
    row_fn fn;
} tables[] = {
    /* clang-format off */
    {"boards",
     "SELECT id, ext_id, parent_id, category"
     " FROM boards WHERE forum_id = %s ORDER BY id",
     board_cols, board_row},
    {"members",
     "SELECT id, ext_id, registered_at, status, banned_at"
     " FROM members WHERE forum_id = %s ORDER BY id",
     member_cols, member_row},
    {"threads",
     "SELECT id, ext_id, board_id, starter_id, created_at"
     " FROM threads WHERE forum_id = %s ORDER BY id",
     thread_cols, thread_row},
    {"posts",
     "SELECT id, thread_id, author_id, created_at, reply_to"
     " FROM posts WHERE forum_id = %s",
     post_cols, post_row},
    {"member_events",
     "SELECT member_id, kind, occurred_at, board_id"
     " FROM member_events WHERE forum_id = %s",
     event_cols, event_row},
    /* clang-format on */
};

/*
 * Streams one table through COPY and hands each row to its row function.
 * After a row fails, the rest of the stream is drained (libpq offers no
 * cheaper way back to an idle connection) and the first error returned.
 */
static fora_err_t copy_table(PGconn *conn, const struct table *t, const char *forum,
                             fora_snapshot_t *s, fora_diag_t *diag)
{
    char select[1024], sql[1100];
    fora_err_t err = FORA_OK;
    char *buf = NULL;
    int len;

    snprintf(select, sizeof(select), t->select, forum);
    snprintf(sql, sizeof(sql), "COPY (%s) TO STDOUT (FORMAT binary)", select);
    PGresult *res = PQexec(conn, sql);
    char what[64];
    snprintf(what, sizeof(what), "reading %s", t->name);
    err = fora_db_check(res, PGRES_COPY_OUT, what, diag);
    PQclear(res);
    if (err != FORA_OK) return err;

    static const unsigned char signature[11] = {'P',  'G',  'C',  'O',  'P', 'Y',
                                                '\n', 0377, '\r', '\n', 0};
    cursor_t c;
    memset(&c, 0, sizeof(c));
    c.table = t->name;
    c.cols = t->cols;
    bool header = true, trailer = false;
    while ((len = PQgetCopyData(conn, &buf, 0)) > 0) {
        const unsigned char *p = (const unsigned char *)buf, *end = p + len;
        if (err == FORA_OK && header) {
            /* the file header rides in front of the first row */
            if (len < 19 || memcmp(p, signature, 11) != 0 || end - (p + 19) < (long)be32(p + 15))
                err = fora_diag_set(diag, FORA_EPARSE, "%s: bad binary COPY header", t->name);
            else
                p += 19 + be32(p + 15);
            header = false;
        }
        if (err == FORA_OK && end - p >= 2) {
            int16_t nf = (int16_t)(p[0] << 8 | p[1]);
            if (nf == -1) {
                trailer = true;
            } else {
                c.line++;
                c.p = p + 2;
                c.end = end;
                c.k = 0;
                c.nfields = nf;
                c.ntext = 0;
                err = t->fn(s, &c, diag);
            }
        }
        PQfreemem(buf);
        buf = NULL;
    }
    if (err == FORA_OK && len == -1 && !trailer)
        err =
            fora_diag_set(diag, FORA_EPARSE, "%s: binary COPY ended without its trailer", t->name);
    if (len == -2) err = fora_diag_set(diag, FORA_EDB, "%s: %s", what, PQerrorMessage(conn));
    /* the COPY's final status, then the end of the command */
    while ((res = PQgetResult(conn)) != NULL) {
        fora_err_t e = fora_db_check(res, PGRES_COMMAND_OK, what, diag);
        if (err == FORA_OK) err = e;
        PQclear(res);
    }
    return err;
}

fora_err_t fora_snapshot_load(PGconn *conn, int64_t forum_id, fora_snapshot_t **out,
                              fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    fora_snapshot_t *s = NULL;
    PGresult *res = NULL;
    bool in_tx = false;
    char forum[24];

    *out = NULL;
    if (PQtransactionStatus(conn) != PQTRANS_IDLE)
        return fora_diag_set(diag, FORA_EINVAL,
                             "loading a snapshot: the connection is busy or inside a transaction");
    snprintf(forum, sizeof(forum), "%" PRId64, forum_id);

    /* one consistent view of all tables; read only so nothing can be written by mistake */
    err = fora_db_exec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", diag);
    if (err != FORA_OK) goto out;
    in_tx = true;

    const char *params[] = {forum};
    res = PQexecParams(conn, "SELECT name, timezone, data_version FROM forums WHERE id = $1", 1,
                       NULL, params, NULL, NULL, 0);
    if ((err = fora_db_check(res, PGRES_TUPLES_OK, "reading the forum", diag)) != FORA_OK) goto out;
    if (PQntuples(res) != 1) {
        err = fora_diag_set(diag, FORA_ENOTFOUND, "forum %s not found", forum);
        goto out;
    }
    int64_t version = 0;
    if (!parse_i64(PQgetvalue(res, 0, 2), (size_t)PQgetlength(res, 0, 2), &version)) {
        err = fora_diag_set(diag, FORA_EPARSE, "forum %s: bad data_version", forum);
        goto out;
    }
    err = fora_snapshot_create(forum_id, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), version, &s,
                               diag);
    if (err != FORA_OK) goto out;
    PQclear(res);
    res = NULL;

    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
        if ((err = copy_table(conn, &tables[i], forum, s, diag)) != FORA_OK) goto out;

    err = fora_db_exec(conn, "COMMIT", diag);
    in_tx = false;
    if (err != FORA_OK) goto out;
    /* sorting happens after the transaction: no need to hold its snapshot open */
    if ((err = fora_snapshot_finish(s, diag)) != FORA_OK) goto out;
    *out = s;
    s = NULL;
out:
    PQclear(res);
    if (in_tx && PQstatus(conn) == CONNECTION_OK) PQclear(PQexec(conn, "ROLLBACK"));
    fora_snapshot_destroy(s);
    return err;
}

fora_err_t fora_forum_lookup(PGconn *conn, const char *name_or_id, int64_t *forum_id,
                             fora_diag_t *diag)
{
    if (name_or_id == NULL || name_or_id[0] == '\0')
        return fora_diag_set(diag, FORA_EINVAL, "no forum given");
    size_t len = strlen(name_or_id);
    bool numeric = strspn(name_or_id, "0123456789") == len;
    int64_t id = 0;
    if (numeric && !parse_i64(name_or_id, len, &id))
        return fora_diag_set(diag, FORA_ENOTFOUND, "forum \"%s\" not found", name_or_id);

    const char *params[] = {name_or_id};
    PGresult *res = PQexecParams(conn,
                                 numeric ? "SELECT id FROM forums WHERE id = $1::bigint"
                                         : "SELECT id FROM forums WHERE name = $1",
                                 1, NULL, params, NULL, NULL, 0);
    fora_err_t err = fora_db_check(res, PGRES_TUPLES_OK, "looking up the forum", diag);
    if (err == FORA_OK && PQntuples(res) != 1)
        err = fora_diag_set(diag, FORA_ENOTFOUND, "forum \"%s\" not found", name_or_id);
    if (err == FORA_OK && !parse_i64(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0), &id))
        err = fora_diag_set(diag, FORA_EPARSE, "forum \"%s\": bad id", name_or_id);
    if (err == FORA_OK) *forum_id = id;
    PQclear(res);
    return err;
}
