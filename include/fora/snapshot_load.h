/*
 * fora/snapshot_load.h - reading a forum snapshot from PostgreSQL (server
 * side; analysis/ never includes this).
 *
 * The loader reads one forum's boards, members, threads, posts and member
 * events with one `COPY (SELECT ...) TO STDOUT (FORMAT binary)` per table
 * (big-endian int8 ids, timestamptz converted here to whole Unix seconds,
 * floored), all inside a
 * single REPEATABLE READ READ ONLY transaction so the tables form one
 * consistent snapshot, and builds it with the fora_snapshot_add_* calls.
 * Rows come in id order per table, so boards, members and threads get their
 * indices in id order; posts are then sorted by (created_at, id).
 *
 * Cost: linear in the forum's size.  Memory: the finished snapshot (see
 * fora/snapshot.h) plus, while sorting, about 40 bytes per post.
 *
 * Ownership: *out is the caller's (fora_snapshot_destroy()).
 * Thread safety: one PGconn per thread, as always with libpq.
 */
#ifndef FORA_SNAPSHOT_LOAD_H
#define FORA_SNAPSHOT_LOAD_H

#include <stdint.h>

#include <libpq-fe.h>

#include "fora/error.h"
#include "fora/snapshot.h"

/*
 * Loads forum `forum_id` into a new snapshot *out.  conn must be idle (not
 * inside a transaction): the loader opens and ends its own.
 * ENOTFOUND when there is no such forum; EDB for a server error (diag has
 * its message); EPARSE when a row cannot be parsed; EINVAL when the data
 * break the snapshot's rules (e.g. a dangling reference); ENOMEM.  On error
 * *out is NULL and the connection is back to idle.
 */
fora_err_t fora_snapshot_load(PGconn *conn, int64_t forum_id, fora_snapshot_t **out,
                              fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * Finds a forum by its name or its numeric id (a string of digits; forum
 * names start with a letter, so the two cannot be confused) and puts its id
 * in *forum_id.  ENOTFOUND `forum "NAME" not found`; EINVAL for NULL or an
 * empty string; EDB.
 */
fora_err_t fora_forum_lookup(PGconn *conn, const char *name_or_id, int64_t *forum_id,
                             fora_diag_t *diag) FORA_MUST_CHECK;

#endif /* FORA_SNAPSHOT_LOAD_H */
