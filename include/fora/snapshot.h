/*
 * fora/snapshot.h - one forum in memory: the single input of every analysis.
 *
 * A snapshot holds the structure of one forum (boards, members, threads,
 * posts, member events) as columnar arrays indexed by dense 0-based indices:
 * member i is members.id[i], members.registered_at[i], ...  Every reference
 * between rows is already resolved to an index (-1 for "none"), so analyses
 * never see database ids; they map results back through the id columns.
 *
 * Invariants of a finished snapshot:
 *  - posts are ordered by (created_at, id); events by (at, member, kind,
 *    board).  So a time window is a contiguous index range (see
 *    fora_snapshot_post_window) and post i was written no later than i+1.
 *  - boards, members and threads keep the order in which they were added
 *    (the loader adds them in id order).
 *  - times are Unix seconds (floor of the stored microsecond time), with
 *    FORA_TIME_NONE for NULL; labels (board category, member status, event
 *    kind) are indices into a per-snapshot string table.
 *  - external ids and labels live in one string pool per table, never one
 *    malloc per row.
 *
 * Memory: 28 bytes per post (+ up to 4 per post for the post id map), 20 per
 * event, about 40 + ext id length per member and thread.  10 M posts, 1 M
 * members, 0.5 M threads and 2 M events take about 430 MB.
 *
 * Building: fora_snapshot_create(), then the add_* functions table by table
 * in the order boards, members, threads, posts, events (a table may be
 * empty; rows of a table come in one block), then fora_snapshot_finish().
 * The loader (fora/snapshot_load.h) and the tests use the same calls.
 * References are given as database ids and resolved as rows are added: a
 * thread names its board and starter, which must have been added before; a
 * board's parent and a post's reply_to may point forward within their table
 * and are resolved when the table is complete.  Posts may be added in any
 * order; finish sorts them and renumbers reply_to.
 *
 * Ownership: fora_snapshot_create() allocates, fora_snapshot_destroy() frees
 * everything.  After a builder call fails the snapshot can only be destroyed.
 * Thread safety: a finished snapshot is immutable and can be read from any
 * number of threads; building needs one thread.
 *
 * Pure computation: no I/O.
 */
#ifndef FORA_SNAPSHOT_H
#define FORA_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fora/error.h"
#include "fora/idmap.h"

/* A NULL time. */
#define FORA_TIME_NONE INT64_MIN
/* A NULL reference (database id) in the builder calls. */
#define FORA_ID_NONE INT64_MIN

typedef struct fora_snapshot_build fora_snapshot_build_t; /* builder state (private) */

typedef struct fora_snapshot {
    struct {
        int64_t id;           /* forums.id */
        char *name;           /* forums.name */
        char *timezone;       /* IANA zone of the forum's local time, e.g. "UTC" */
        int64_t data_version; /* forums.data_version the snapshot was read at */
    } forum;

    struct {
        int32_t n;
        int64_t *id;        /* database id */
        fora_strpool_t ext; /* ext ids, string i for board i (indexed) */
        int32_t *parent;    /* parent board index, or -1 */
        int32_t *category;  /* index into categories */
        fora_idmap_t by_id; /* database id -> board index */
    } boards;

    struct {
        int32_t n;
        int64_t *id;
        fora_strpool_t ext;
        int64_t *registered_at; /* or FORA_TIME_NONE */
        int32_t *status;        /* index into statuses */
        int64_t *banned_at;     /* or FORA_TIME_NONE */
        fora_idmap_t by_id;
    } members;

    struct {
        int32_t n;
        int64_t *id;
        fora_strpool_t ext;
        int32_t *board;   /* board index */
        int32_t *starter; /* member index, or -1 (deleted account) */
        int64_t *created_at;
        int32_t *first_post; /* index of the thread's earliest post, or -1 (no posts) */
        fora_idmap_t by_id;
    } threads;

    struct {
        int32_t n;
        int64_t *id;
        int64_t *created_at; /* non-decreasing in the post index */
        int32_t *thread;     /* thread index */
        int32_t *author;     /* member index, or -1 (deleted account) */
        int32_t *reply_to;   /* POST index of the post answered, or -1 */
        fora_idmap_t by_id;
    } posts;

    struct {
        int32_t n;
        int32_t *member; /* member index */
        int32_t *kind;   /* index into kinds */
        int64_t *at;     /* non-decreasing in the event index */
        int32_t *board;  /* board index, or -1 */
    } events;

    fora_strpool_t categories; /* board category labels ("" included when used) */
    fora_strpool_t statuses;   /* member status labels */
    fora_strpool_t kinds;      /* event kinds */

    fora_snapshot_build_t *build; /* NULL once finished */
} fora_snapshot_t;

/* ---------------------------------------------------------------------- */
/* building                                                                 */
/* ---------------------------------------------------------------------- */

/*
 * Starts an empty snapshot of forum `forum_id` called `name` (copied) in
 * time zone `timezone` (copied; NULL: "UTC") at `data_version`.  *out gets
 * the snapshot; EINVAL when name is NULL.  O(1).
 */
fora_err_t fora_snapshot_create(int64_t forum_id, const char *name, const char *timezone,
                                int64_t data_version, fora_snapshot_t **out,
                                fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * Adds board `id` with external id `ext` (non-empty), parent board
 * `parent_id` (FORA_ID_NONE: none; may be a board added later) and category
 * label `category` (NULL: "").  The parent is resolved when the boards are
 * complete; EINVAL then if it is unknown or the board itself.
 * Amortised O(1 + |ext| + |category|).
 */
fora_err_t fora_snapshot_add_board(fora_snapshot_t *s, int64_t id, const char *ext,
                                   int64_t parent_id, const char *category,
                                   fora_diag_t *diag) FORA_MUST_CHECK;

/* Adds member `id`; times may be FORA_TIME_NONE; status NULL: "". */
fora_err_t fora_snapshot_add_member(fora_snapshot_t *s, int64_t id, const char *ext,
                                    int64_t registered_at, const char *status, int64_t banned_at,
                                    fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * Adds thread `id` in board `board_id` started by member `starter_id`
 * (FORA_ID_NONE: deleted account) at `created_at`.  EINVAL for an unknown
 * board or member.  The first thread added completes boards and members:
 * duplicate ids or ext ids among them are reported (EINVAL) by this call.
 */
fora_err_t fora_snapshot_add_thread(fora_snapshot_t *s, int64_t id, const char *ext,
                                    int64_t board_id, int64_t starter_id, int64_t created_at,
                                    fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * Adds post `id` in thread `thread_id` by member `author_id` (FORA_ID_NONE:
 * deleted account) at `created_at` (not FORA_TIME_NONE), answering post
 * `reply_to_id` (FORA_ID_NONE: none; may be added later).  EINVAL for an
 * unknown thread or member; an unknown reply_to is reported when the posts
 * are complete.
 */
fora_err_t fora_snapshot_add_post(fora_snapshot_t *s, int64_t id, int64_t thread_id,
                                  int64_t author_id, int64_t created_at, int64_t reply_to_id,
                                  fora_diag_t *diag) FORA_MUST_CHECK;

/* Adds an event of member `member_id` of `kind` at `at` in board `board_id` (or FORA_ID_NONE). */
fora_err_t fora_snapshot_add_event(fora_snapshot_t *s, int64_t member_id, const char *kind,
                                   int64_t at, int64_t board_id, fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * Completes the snapshot: resolves the remaining references, sorts posts by
 * (created_at, id) and renumbers reply_to to post indices, sorts events,
 * fills threads.first_post, builds the id and ext id indices and trims
 * spare capacity.  EINVAL for a duplicate id or ext id or an unknown
 * reference (diag names the row); ENOMEM.
 * Time complexity: O(B + M + T + P + E + total ext id length) expected (radix
 * sorts).  Peak extra memory: about 40 bytes per post.
 */
fora_err_t fora_snapshot_finish(fora_snapshot_t *s, fora_diag_t *diag) FORA_MUST_CHECK;

/* Frees s and everything it holds.  s may be NULL. */
void fora_snapshot_destroy(fora_snapshot_t *s);

/* Bytes held by s (arrays, pools and indices). */
size_t fora_snapshot_bytes(const fora_snapshot_t *s);

/* ---------------------------------------------------------------------- */
/* accessors and lookups (finished snapshots)                               */
/* ---------------------------------------------------------------------- */

static inline const char *fora_snapshot_board_ext(const fora_snapshot_t *s, int32_t i)
{
    return fora_strpool_get(&s->boards.ext, i);
}
static inline const char *fora_snapshot_member_ext(const fora_snapshot_t *s, int32_t i)
{
    return fora_strpool_get(&s->members.ext, i);
}
static inline const char *fora_snapshot_thread_ext(const fora_snapshot_t *s, int32_t i)
{
    return fora_strpool_get(&s->threads.ext, i);
}
static inline const char *fora_snapshot_board_category(const fora_snapshot_t *s, int32_t i)
{
    return fora_strpool_get(&s->categories, s->boards.category[i]);
}
static inline const char *fora_snapshot_member_status(const fora_snapshot_t *s, int32_t i)
{
    return fora_strpool_get(&s->statuses, s->members.status[i]);
}
static inline const char *fora_snapshot_event_kind(const fora_snapshot_t *s, int32_t i)
{
    return fora_strpool_get(&s->kinds, s->events.kind[i]);
}

/* Index of the row with database id `id`, or -1.  O(1) expected. */
static inline int32_t fora_snapshot_board_by_id(const fora_snapshot_t *s, int64_t id)
{
    return fora_idmap_get(&s->boards.by_id, id);
}
static inline int32_t fora_snapshot_member_by_id(const fora_snapshot_t *s, int64_t id)
{
    return fora_idmap_get(&s->members.by_id, id);
}
static inline int32_t fora_snapshot_thread_by_id(const fora_snapshot_t *s, int64_t id)
{
    return fora_idmap_get(&s->threads.by_id, id);
}
static inline int32_t fora_snapshot_post_by_id(const fora_snapshot_t *s, int64_t id)
{
    return fora_idmap_get(&s->posts.by_id, id);
}

/* Index of the row with external id `ext`, or -1.  O(|ext|) expected. */
static inline int32_t fora_snapshot_board_by_ext(const fora_snapshot_t *s, const char *ext)
{
    return fora_strpool_find(&s->boards.ext, ext, strlen(ext));
}
static inline int32_t fora_snapshot_member_by_ext(const fora_snapshot_t *s, const char *ext)
{
    return fora_strpool_find(&s->members.ext, ext, strlen(ext));
}
static inline int32_t fora_snapshot_thread_by_ext(const fora_snapshot_t *s, const char *ext)
{
    return fora_strpool_find(&s->threads.ext, ext, strlen(ext));
}

/* Index of a label in its string table, or -1 when the snapshot does not use it. */
static inline int32_t fora_snapshot_category_index(const fora_snapshot_t *s, const char *label)
{
    return fora_strpool_find(&s->categories, label, strlen(label));
}
static inline int32_t fora_snapshot_status_index(const fora_snapshot_t *s, const char *label)
{
    return fora_strpool_find(&s->statuses, label, strlen(label));
}
static inline int32_t fora_snapshot_kind_index(const fora_snapshot_t *s, const char *label)
{
    return fora_strpool_find(&s->kinds, label, strlen(label));
}

/* ---------------------------------------------------------------------- */
/* time windows                                                             */
/* ---------------------------------------------------------------------- */

/*
 * A time window is [from, to) in Unix seconds; FORA_TIME_NONE for either
 * bound leaves that side open.  A NULL time (FORA_TIME_NONE) lies only in the
 * window open on both sides.
 */
static inline bool fora_time_in_window(int64_t t, int64_t from, int64_t to)
{
    if (t == FORA_TIME_NONE) return from == FORA_TIME_NONE && to == FORA_TIME_NONE;
    return (from == FORA_TIME_NONE || t >= from) && (to == FORA_TIME_NONE || t < to);
}

/*
 * The posts created in [from, to) are exactly the indices [*lo, *hi)
 * (*lo == *hi when none, including when from >= to).  O(log P).
 */
void fora_snapshot_post_window(const fora_snapshot_t *s, int64_t from, int64_t to, int32_t *lo,
                               int32_t *hi);

/* The events in [from, to): indices [*lo, *hi).  O(log E). */
void fora_snapshot_event_window(const fora_snapshot_t *s, int64_t from, int64_t to, int32_t *lo,
                                int32_t *hi);

#endif /* FORA_SNAPSHOT_H */
