/*
 * server/snapshot_cache.h - private: forum snapshots shared by the routes
 * that compute per request (activity, survival, engagement).
 *
 * Loading a snapshot costs about a second per million posts, far more than
 * the statistics computed from it, so the server keeps the most recently
 * used snapshots (FORA_SNAPSHOT_CACHE_SLOTS) and hands out references.  A
 * cached snapshot is used only while the forum's data_version is the one it
 * was read at: every acquire asks the database for the current version (one
 * indexed lookup), so an import is seen by the next request.  Concurrent
 * requests for a snapshot that is not cached wait for one load.
 *
 * Snapshots are immutable once finished, so any number of threads may read
 * the one they hold.  The cache is process-wide (one mutex); `fora show`
 * uses it too, for one request.
 */
#ifndef FORA_SNAPSHOT_CACHE_H
#define FORA_SNAPSHOT_CACHE_H

#include <stdint.h>
#include <libpq-fe.h>

#include "fora/error.h"
#include "fora/snapshot.h"

#define FORA_SNAPSHOT_CACHE_SLOTS 4

/*
 * A reference to forum `forum_id`'s snapshot at its current data version,
 * loaded with fora_snapshot_load() when the cache has none.  *out must be
 * given back with fora__snapshot_release() and must not be modified.
 * ENOTFOUND for an unknown forum; the loader's errors.
 */
fora_err_t fora__snapshot_acquire(PGconn *conn, int64_t forum_id, fora_snapshot_t **out,
                                  fora_diag_t *diag) FORA_MUST_CHECK;

/* Gives back a reference (NULL is fine); an evicted snapshot is freed with its last one. */
void fora__snapshot_release(fora_snapshot_t *s);

/* Loads and hits so far (for tests and /metrics). */
void fora__snapshot_cache_stats(uint64_t *loads, uint64_t *hits);

#endif /* FORA_SNAPSHOT_CACHE_H */
