/*
 * analysis/snapshot.c - the forum snapshot: building, sorting, lookups.
 *
 * The builder moves through the tables in a fixed order (boards, members,
 * threads, posts, events).  Leaving a table "seals" it: its id map and ext id
 * index are built and its forward references (board parents, post replies)
 * resolved.  Because a thread's board and starter, a post's thread and author
 * and an event's member and board all live in sealed tables, those are
 * resolved to int32 indices as the row is added; only reply_to is kept as a
 * database id (8 bytes per post) until the posts are sealed.
 */
#include "fora/snapshot.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

enum stage { STAGE_BOARDS, STAGE_MEMBERS, STAGE_THREADS, STAGE_POSTS, STAGE_EVENTS, STAGE_DONE };

static const char *const stage_names[] = {"boards", "members", "threads",
                                          "posts",  "events",  "finished snapshot"};

struct fora_snapshot_build {
    enum stage stage;
    bool failed;           /* a call failed: only destroy is allowed */
    int64_t *board_parent; /* database id of each board's parent, or FORA_ID_NONE */
    int64_t *post_reply;   /* database id each post answers, or FORA_ID_NONE */
    int32_t cap_boards, cap_members, cap_threads, cap_posts, cap_events;
};

/* ---------------------------------------------------------------------- */
/* helpers                                                                  */
/* ---------------------------------------------------------------------- */

#define MAX_ROWS (INT32_MAX - 1)

/*
 * Makes room for row n in each of `ncols` columns (cols[k] points at the
 * column pointer, sizes[k] is its element size), doubling the capacity *cap.
 */
static fora_err_t grow_cols(int32_t n, int32_t *cap, size_t ncols, void **const cols[],
                            const size_t sizes[], const char *what, fora_diag_t *diag)
{
    if (n < *cap) return FORA_OK;
    if (n >= MAX_ROWS)
        return fora_diag_set(diag, FORA_ETOOLARGE, "more than %d %s", MAX_ROWS, what);
    int32_t ncap = *cap < 256 ? 256 : (*cap > MAX_ROWS / 2 ? MAX_ROWS : *cap * 2);
    for (size_t k = 0; k < ncols; k++) {
        void *p = realloc(*cols[k], (size_t)ncap * sizes[k]);
        if (p == NULL) return fora_diag_set(diag, FORA_ENOMEM, "%s: %d rows", what, ncap);
        *cols[k] = p;
    }
    *cap = ncap;
    return FORA_OK;
}

/* Shrinks an array of n elements to its size (a no-op when it cannot). */
static void *trim(void *p, int32_t n, size_t size)
{
    if (p == NULL || n == 0) return p;
    void *q = realloc(p, (size_t)n * size);
    return q != NULL ? q : p;
}

static int32_t *alloc_i32(int32_t n)
{
    return malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t));
}

/* ---------------------------------------------------------------------- */
/* lifecycle                                                                */
/* ---------------------------------------------------------------------- */

fora_err_t fora_snapshot_create(int64_t forum_id, const char *name, const char *timezone,
                                int64_t data_version, fora_snapshot_t **out, fora_diag_t *diag)
{
    *out = NULL;
    if (name == NULL) return fora_diag_set(diag, FORA_EINVAL, "snapshot: forum name is NULL");
    fora_snapshot_t *s = fora_xcalloc(1, sizeof(*s));
    s->build = fora_xcalloc(1, sizeof(*s->build));
    s->forum.id = forum_id;
    s->forum.name = fora_xstrdup(name);
    s->forum.timezone = fora_xstrdup(timezone != NULL ? timezone : "UTC");
    s->forum.data_version = data_version;
    *out = s;
    return FORA_OK;
}

void fora_snapshot_destroy(fora_snapshot_t *s)
{
    if (s == NULL) return;
    free(s->forum.name);
    free(s->forum.timezone);

    free(s->boards.id);
    fora_strpool_destroy(&s->boards.ext);
    free(s->boards.parent);
    free(s->boards.category);
    fora_idmap_destroy(&s->boards.by_id);

    free(s->members.id);
    fora_strpool_destroy(&s->members.ext);
    free(s->members.registered_at);
    free(s->members.status);
    free(s->members.banned_at);
    fora_idmap_destroy(&s->members.by_id);

    free(s->threads.id);
    fora_strpool_destroy(&s->threads.ext);
    free(s->threads.board);
    free(s->threads.starter);
    free(s->threads.created_at);
    free(s->threads.first_post);
    fora_idmap_destroy(&s->threads.by_id);

    free(s->posts.id);
    free(s->posts.created_at);
    free(s->posts.thread);
    free(s->posts.author);
    free(s->posts.reply_to);
    fora_idmap_destroy(&s->posts.by_id);

    free(s->events.member);
    free(s->events.kind);
    free(s->events.at);
    free(s->events.board);

    fora_strpool_destroy(&s->categories);
    fora_strpool_destroy(&s->statuses);
    fora_strpool_destroy(&s->kinds);

    if (s->build != NULL) {
        free(s->build->board_parent);
        free(s->build->post_reply);
        free(s->build);
    }
    free(s);
}

size_t fora_snapshot_bytes(const fora_snapshot_t *s)
{
    size_t b = sizeof(*s) + strlen(s->forum.name) + strlen(s->forum.timezone) + 2;
    b += (size_t)s->boards.n * (8 + 4 + 4) + fora_strpool_bytes(&s->boards.ext) +
         fora_idmap_bytes(&s->boards.by_id);
    b += (size_t)s->members.n * (8 + 8 + 4 + 8) + fora_strpool_bytes(&s->members.ext) +
         fora_idmap_bytes(&s->members.by_id);
    b += (size_t)s->threads.n * (8 + 4 + 4 + 8 + 4) + fora_strpool_bytes(&s->threads.ext) +
         fora_idmap_bytes(&s->threads.by_id);
    b += (size_t)s->posts.n * (8 + 8 + 4 + 4 + 4) + fora_idmap_bytes(&s->posts.by_id);
    b += (size_t)s->events.n * (4 + 4 + 8 + 4);
    b += fora_strpool_bytes(&s->categories) + fora_strpool_bytes(&s->statuses) +
         fora_strpool_bytes(&s->kinds);
    return b;
}

/* ---------------------------------------------------------------------- */
/* sealing                                                                  */
/* ---------------------------------------------------------------------- */

/* Builds the id map and ext id index of a table; `what` is its singular name. */
static fora_err_t index_table(fora_idmap_t *by_id, fora_strpool_t *ext, const int64_t *ids,
                              int32_t n, const char *what, fora_diag_t *diag)
{
    int32_t dup = -1;
    if (fora_idmap_build(by_id, ids, n, &dup, NULL) != FORA_OK) {
        if (dup < 0) return fora_diag_set(diag, FORA_ENOMEM, "%s id map", what);
        return fora_diag_set(diag, FORA_EINVAL, "duplicate %s id %lld", what, (long long)ids[dup]);
    }
    if (ext == NULL) return FORA_OK;
    if (fora_strpool_index(ext, &dup, NULL) != FORA_OK) {
        if (dup < 0) return fora_diag_set(diag, FORA_ENOMEM, "%s ext id index", what);
        return fora_diag_set(diag, FORA_EINVAL, "duplicate %s ext id \"%s\" (id %lld)", what,
                             fora_strpool_get(ext, dup), (long long)ids[dup]);
    }
    fora_strpool_shrink(ext);
    return FORA_OK;
}

static fora_err_t seal_boards(fora_snapshot_t *s, fora_diag_t *diag)
{
    int32_t n = s->boards.n;
    s->boards.id = trim(s->boards.id, n, sizeof(int64_t));
    s->boards.category = trim(s->boards.category, n, sizeof(int32_t));
    fora_err_t err = index_table(&s->boards.by_id, &s->boards.ext, s->boards.id, n, "board", diag);
    if (err != FORA_OK) return err;
    int32_t *parent = alloc_i32(n);
    if (parent == NULL) return fora_diag_set(diag, FORA_ENOMEM, "board parents");
    for (int32_t i = 0; i < n; i++) {
        int64_t pid = s->build->board_parent[i];
        parent[i] = -1;
        if (pid == FORA_ID_NONE) continue;
        int32_t p = fora_idmap_get(&s->boards.by_id, pid);
        if (p < 0 || p == i) {
            free(parent);
            return fora_diag_set(diag, FORA_EINVAL, "board %lld: %s parent %lld",
                                 (long long)s->boards.id[i], p < 0 ? "unknown" : "own",
                                 (long long)pid);
        }
        parent[i] = p;
    }
    s->boards.parent = parent;
    free(s->build->board_parent);
    s->build->board_parent = NULL;
    return FORA_OK;
}

static fora_err_t seal_members(fora_snapshot_t *s, fora_diag_t *diag)
{
    int32_t n = s->members.n;
    s->members.id = trim(s->members.id, n, sizeof(int64_t));
    s->members.registered_at = trim(s->members.registered_at, n, sizeof(int64_t));
    s->members.status = trim(s->members.status, n, sizeof(int32_t));
    s->members.banned_at = trim(s->members.banned_at, n, sizeof(int64_t));
    return index_table(&s->members.by_id, &s->members.ext, s->members.id, n, "member", diag);
}

static fora_err_t seal_threads(fora_snapshot_t *s, fora_diag_t *diag)
{
    int32_t n = s->threads.n;
    s->threads.id = trim(s->threads.id, n, sizeof(int64_t));
    s->threads.board = trim(s->threads.board, n, sizeof(int32_t));
    s->threads.starter = trim(s->threads.starter, n, sizeof(int32_t));
    s->threads.created_at = trim(s->threads.created_at, n, sizeof(int64_t));
    return index_table(&s->threads.by_id, &s->threads.ext, s->threads.id, n, "thread", diag);
}

/*
 * Stable-sorts perm (indices into a column) by col[perm[i]]: gathers the keys
 * in perm's order and radix-sorts them carrying perm.  keys, ktmp, vtmp:
 * scratch of n entries.
 */
static void sort_perm_i64(uint32_t *perm, size_t n, const int64_t *col, uint64_t *keys,
                          uint64_t *ktmp, uint32_t *vtmp)
{
    for (size_t i = 0; i < n; i++)
        keys[i] = fora_radix_key_i64(col[perm[i]]);
    fora_radix_sort_u64(keys, perm, n, ktmp, vtmp);
}

/* new[j] = old[perm[j]] for an int64 column; frees the old one.  NULL on ENOMEM. */
static int64_t *permute_i64(int64_t *old, const uint32_t *perm, int32_t n)
{
    int64_t *c = malloc((size_t)(n > 0 ? n : 1) * sizeof(*c));
    if (c == NULL) return NULL;
    for (int32_t j = 0; j < n; j++)
        c[j] = old[perm[j]];
    free(old);
    return c;
}

static int32_t *permute_i32(int32_t *old, const uint32_t *perm, int32_t n)
{
    int32_t *c = alloc_i32(n);
    if (c == NULL) return NULL;
    for (int32_t j = 0; j < n; j++)
        c[j] = old[perm[j]];
    free(old);
    return c;
}

/*
 * Posts: builds the id map, resolves reply_to, sorts by (created_at, id)
 * (LSD: first by id, then stably by time), renumbers and fills first_post.
 */
static fora_err_t seal_posts(fora_snapshot_t *s, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    int32_t n = s->posts.n;
    uint32_t *perm = NULL, *vtmp = NULL;
    uint64_t *keys = NULL, *ktmp = NULL;
    int32_t *rank = NULL, *reply = NULL, *first = NULL;
    size_t un = (size_t)(n > 0 ? n : 1);

    s->posts.id = trim(s->posts.id, n, sizeof(int64_t));
    s->posts.created_at = trim(s->posts.created_at, n, sizeof(int64_t));
    s->posts.thread = trim(s->posts.thread, n, sizeof(int32_t));
    s->posts.author = trim(s->posts.author, n, sizeof(int32_t));
    err = index_table(&s->posts.by_id, NULL, s->posts.id, n, "post", diag);
    if (err != FORA_OK) goto out;

    /* reply_to database ids -> post indices in the order added */
    reply = alloc_i32(n);
    if (reply == NULL) goto nomem;
    for (int32_t i = 0; i < n; i++) {
        int64_t rid = s->build->post_reply[i];
        reply[i] = -1;
        if (rid == FORA_ID_NONE) continue;
        reply[i] = fora_idmap_get(&s->posts.by_id, rid);
        if (reply[i] < 0 || reply[i] == i) {
            err = fora_diag_set(diag, FORA_EINVAL, "post %lld: %s reply_to %lld",
                                (long long)s->posts.id[i], reply[i] < 0 ? "unknown" : "own id as",
                                (long long)rid);
            goto out;
        }
    }
    free(s->build->post_reply);
    s->build->post_reply = NULL;

    perm = malloc(un * sizeof(*perm));
    vtmp = malloc(un * sizeof(*vtmp));
    keys = malloc(un * sizeof(*keys));
    ktmp = malloc(un * sizeof(*ktmp));
    if (perm == NULL || vtmp == NULL || keys == NULL || ktmp == NULL) goto nomem;
    for (int32_t i = 0; i < n; i++)
        perm[i] = (uint32_t)i;
    sort_perm_i64(perm, (size_t)n, s->posts.id, keys, ktmp, vtmp);
    sort_perm_i64(perm, (size_t)n, s->posts.created_at, keys, ktmp, vtmp);
    free(keys);
    free(ktmp);
    free(vtmp);
    keys = ktmp = NULL;
    vtmp = NULL;

    bool identity = true;
    for (int32_t j = 0; j < n && identity; j++)
        identity = perm[j] == (uint32_t)j;
    if (!identity) {
        rank = alloc_i32(n);
        if (rank == NULL) goto nomem;
        for (int32_t j = 0; j < n; j++)
            rank[perm[j]] = j;
        int64_t *c64;
        int32_t *c32;
        if ((c64 = permute_i64(s->posts.id, perm, n)) == NULL) goto nomem;
        s->posts.id = c64;
        if ((c64 = permute_i64(s->posts.created_at, perm, n)) == NULL) goto nomem;
        s->posts.created_at = c64;
        if ((c32 = permute_i32(s->posts.thread, perm, n)) == NULL) goto nomem;
        s->posts.thread = c32;
        if ((c32 = permute_i32(s->posts.author, perm, n)) == NULL) goto nomem;
        s->posts.author = c32;
        c32 = alloc_i32(n);
        if (c32 == NULL) goto nomem;
        for (int32_t j = 0; j < n; j++) {
            int32_t r = reply[perm[j]];
            c32[j] = r < 0 ? -1 : rank[r];
        }
        free(reply);
        reply = c32;
        if ((err = fora_idmap_remap(&s->posts.by_id, rank, diag)) != FORA_OK) goto out;
    }
    s->posts.reply_to = reply;
    reply = NULL;

    first = alloc_i32(s->threads.n);
    if (first == NULL) goto nomem;
    for (int32_t t = 0; t < s->threads.n; t++)
        first[t] = -1;
    for (int32_t j = 0; j < n; j++)
        if (first[s->posts.thread[j]] < 0) first[s->posts.thread[j]] = j;
    s->threads.first_post = first;
    first = NULL;
    goto out;

nomem:
    err = fora_diag_set(diag, FORA_ENOMEM, "sorting %d posts", n);
out:
    free(perm);
    free(vtmp);
    free(keys);
    free(ktmp);
    free(rank);
    free(reply);
    free(first);
    return err;
}

/* Events: sorted by (at, member, kind, board) as three stable radix sorts. */
static fora_err_t seal_events(fora_snapshot_t *s, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    int32_t n = s->events.n;
    size_t un = (size_t)(n > 0 ? n : 1);
    uint32_t *perm = malloc(un * sizeof(*perm)), *vtmp = malloc(un * sizeof(*vtmp));
    uint64_t *keys = malloc(un * sizeof(*keys)), *ktmp = malloc(un * sizeof(*ktmp));
    if (perm == NULL || vtmp == NULL || keys == NULL || ktmp == NULL) goto nomem;

    for (int32_t i = 0; i < n; i++) {
        perm[i] = (uint32_t)i;
        keys[i] = (uint64_t)(uint32_t)s->events.kind[i] << 32 | (uint32_t)(s->events.board[i] + 1);
    }
    fora_radix_sort_u64(keys, perm, (size_t)n, ktmp, vtmp);
    for (int32_t i = 0; i < n; i++)
        keys[i] = (uint64_t)(uint32_t)s->events.member[perm[i]];
    fora_radix_sort_u64(keys, perm, (size_t)n, ktmp, vtmp);
    sort_perm_i64(perm, (size_t)n, s->events.at, keys, ktmp, vtmp);
    free(keys);
    free(ktmp);
    free(vtmp);
    keys = ktmp = NULL;
    vtmp = NULL;

    int64_t *c64;
    int32_t *c32;
    if ((c64 = permute_i64(s->events.at, perm, n)) == NULL) goto nomem;
    s->events.at = c64;
    if ((c32 = permute_i32(s->events.member, perm, n)) == NULL) goto nomem;
    s->events.member = c32;
    if ((c32 = permute_i32(s->events.kind, perm, n)) == NULL) goto nomem;
    s->events.kind = c32;
    if ((c32 = permute_i32(s->events.board, perm, n)) == NULL) goto nomem;
    s->events.board = c32;
    goto out;

nomem:
    err = fora_diag_set(diag, FORA_ENOMEM, "sorting %d events", n);
out:
    free(perm);
    free(vtmp);
    free(keys);
    free(ktmp);
    return err;
}

static fora_err_t seal(fora_snapshot_t *s, enum stage st, fora_diag_t *diag)
{
    switch (st) {
    case STAGE_BOARDS:
        return seal_boards(s, diag);
    case STAGE_MEMBERS:
        return seal_members(s, diag);
    case STAGE_THREADS:
        return seal_threads(s, diag);
    case STAGE_POSTS:
        return seal_posts(s, diag);
    case STAGE_EVENTS:
        return seal_events(s, diag);
    case STAGE_DONE:
        break;
    }
    return FORA_OK;
}

/* Moves the builder on to stage `to`, sealing the tables left behind. */
static fora_err_t advance(fora_snapshot_t *s, enum stage to, fora_diag_t *diag)
{
    fora_snapshot_build_t *b = s->build;
    if (b == NULL || b->failed)
        return fora_diag_set(diag, FORA_EINVAL, "snapshot: %s",
                             b == NULL ? "already finished" : "a previous builder call failed");
    if (to < b->stage) {
        b->failed = true;
        return fora_diag_set(diag, FORA_EINVAL, "snapshot: %s added after %s", stage_names[to],
                             stage_names[b->stage]);
    }
    while (b->stage < to) {
        fora_err_t err = seal(s, b->stage, diag);
        if (err != FORA_OK) {
            b->failed = true;
            return err;
        }
        b->stage++;
    }
    return FORA_OK;
}

/* Marks the builder failed and passes err on. */
static fora_err_t fail(fora_snapshot_t *s, fora_err_t err)
{
    if (err != FORA_OK && s->build != NULL) s->build->failed = true;
    return err;
}

/* ---------------------------------------------------------------------- */
/* add_*                                                                    */
/* ---------------------------------------------------------------------- */

static fora_err_t check_ext(const char *ext, const char *what, int64_t id, fora_diag_t *diag)
{
    if (ext == NULL || ext[0] == '\0')
        return fora_diag_set(diag, FORA_EINVAL, "%s %lld: empty ext id", what, (long long)id);
    return FORA_OK;
}

fora_err_t fora_snapshot_add_board(fora_snapshot_t *s, int64_t id, const char *ext,
                                   int64_t parent_id, const char *category, fora_diag_t *diag)
{
    fora_err_t err = advance(s, STAGE_BOARDS, diag);
    if (err != FORA_OK) return err;
    if ((err = check_ext(ext, "board", id, diag)) != FORA_OK) return fail(s, err);
    int32_t n = s->boards.n;
    void **const cols[] = {(void **)&s->boards.id, (void **)&s->boards.category,
                           (void **)&s->build->board_parent};
    const size_t sizes[] = {sizeof(int64_t), sizeof(int32_t), sizeof(int64_t)};
    err = grow_cols(n, &s->build->cap_boards, 3, cols, sizes, "boards", diag);
    if (err != FORA_OK) return fail(s, err);
    if (category == NULL) category = "";
    int32_t cat;
    err = fora_strpool_intern(&s->categories, category, strlen(category), &cat, diag);
    if (err == FORA_OK) err = fora_strpool_append(&s->boards.ext, ext, strlen(ext), NULL, diag);
    if (err != FORA_OK) return fail(s, err);
    s->boards.id[n] = id;
    s->boards.category[n] = cat;
    s->build->board_parent[n] = parent_id;
    s->boards.n++;
    return FORA_OK;
}

fora_err_t fora_snapshot_add_member(fora_snapshot_t *s, int64_t id, const char *ext,
                                    int64_t registered_at, const char *status, int64_t banned_at,
                                    fora_diag_t *diag)
{
    fora_err_t err = advance(s, STAGE_MEMBERS, diag);
    if (err != FORA_OK) return err;
    if ((err = check_ext(ext, "member", id, diag)) != FORA_OK) return fail(s, err);
    int32_t n = s->members.n;
    void **const cols[] = {(void **)&s->members.id, (void **)&s->members.registered_at,
                           (void **)&s->members.status, (void **)&s->members.banned_at};
    const size_t sizes[] = {sizeof(int64_t), sizeof(int64_t), sizeof(int32_t), sizeof(int64_t)};
    err = grow_cols(n, &s->build->cap_members, 4, cols, sizes, "members", diag);
    if (err != FORA_OK) return fail(s, err);
    if (status == NULL) status = "";
    int32_t st;
    err = fora_strpool_intern(&s->statuses, status, strlen(status), &st, diag);
    if (err == FORA_OK) err = fora_strpool_append(&s->members.ext, ext, strlen(ext), NULL, diag);
    if (err != FORA_OK) return fail(s, err);
    s->members.id[n] = id;
    s->members.registered_at[n] = registered_at;
    s->members.status[n] = st;
    s->members.banned_at[n] = banned_at;
    s->members.n++;
    return FORA_OK;
}

/* Resolves an optional member reference of row `what` `id`. */
static fora_err_t member_ref(const fora_snapshot_t *s, int64_t mid, int32_t *out, const char *what,
                             int64_t id, const char *field, fora_diag_t *diag)
{
    *out = -1;
    if (mid == FORA_ID_NONE) return FORA_OK;
    *out = fora_idmap_get(&s->members.by_id, mid);
    if (*out < 0)
        return fora_diag_set(diag, FORA_EINVAL, "%s %lld: unknown %s %lld", what, (long long)id,
                             field, (long long)mid);
    return FORA_OK;
}

fora_err_t fora_snapshot_add_thread(fora_snapshot_t *s, int64_t id, const char *ext,
                                    int64_t board_id, int64_t starter_id, int64_t created_at,
                                    fora_diag_t *diag)
{
    fora_err_t err = advance(s, STAGE_THREADS, diag);
    if (err != FORA_OK) return err;
    if ((err = check_ext(ext, "thread", id, diag)) != FORA_OK) return fail(s, err);
    int32_t board = fora_idmap_get(&s->boards.by_id, board_id), starter;
    if (board < 0)
        return fail(s, fora_diag_set(diag, FORA_EINVAL, "thread %lld: unknown board %lld",
                                     (long long)id, (long long)board_id));
    err = member_ref(s, starter_id, &starter, "thread", id, "starter", diag);
    if (err != FORA_OK) return fail(s, err);
    int32_t n = s->threads.n;
    void **const cols[] = {(void **)&s->threads.id, (void **)&s->threads.board,
                           (void **)&s->threads.starter, (void **)&s->threads.created_at};
    const size_t sizes[] = {sizeof(int64_t), sizeof(int32_t), sizeof(int32_t), sizeof(int64_t)};
    err = grow_cols(n, &s->build->cap_threads, 4, cols, sizes, "threads", diag);
    if (err == FORA_OK) err = fora_strpool_append(&s->threads.ext, ext, strlen(ext), NULL, diag);
    if (err != FORA_OK) return fail(s, err);
    s->threads.id[n] = id;
    s->threads.board[n] = board;
    s->threads.starter[n] = starter;
    s->threads.created_at[n] = created_at;
    s->threads.n++;
    return FORA_OK;
}

fora_err_t fora_snapshot_add_post(fora_snapshot_t *s, int64_t id, int64_t thread_id,
                                  int64_t author_id, int64_t created_at, int64_t reply_to_id,
                                  fora_diag_t *diag)
{
    fora_err_t err = advance(s, STAGE_POSTS, diag);
    if (err != FORA_OK) return err;
    int32_t thread = fora_idmap_get(&s->threads.by_id, thread_id), author;
    if (thread < 0)
        return fail(s, fora_diag_set(diag, FORA_EINVAL, "post %lld: unknown thread %lld",
                                     (long long)id, (long long)thread_id));
    if (created_at == FORA_TIME_NONE)
        return fail(s, fora_diag_set(diag, FORA_EINVAL, "post %lld: no created_at", (long long)id));
    err = member_ref(s, author_id, &author, "post", id, "author", diag);
    if (err != FORA_OK) return fail(s, err);
    int32_t n = s->posts.n;
    void **const cols[] = {(void **)&s->posts.id, (void **)&s->posts.created_at,
                           (void **)&s->posts.thread, (void **)&s->posts.author,
                           (void **)&s->build->post_reply};
    const size_t sizes[] = {sizeof(int64_t), sizeof(int64_t), sizeof(int32_t), sizeof(int32_t),
                            sizeof(int64_t)};
    err = grow_cols(n, &s->build->cap_posts, 5, cols, sizes, "posts", diag);
    if (err != FORA_OK) return fail(s, err);
    s->posts.id[n] = id;
    s->posts.created_at[n] = created_at;
    s->posts.thread[n] = thread;
    s->posts.author[n] = author;
    s->build->post_reply[n] = reply_to_id;
    s->posts.n++;
    return FORA_OK;
}

fora_err_t fora_snapshot_add_event(fora_snapshot_t *s, int64_t member_id, const char *kind,
                                   int64_t at, int64_t board_id, fora_diag_t *diag)
{
    fora_err_t err = advance(s, STAGE_EVENTS, diag);
    if (err != FORA_OK) return err;
    int32_t member = fora_idmap_get(&s->members.by_id, member_id), board = -1;
    if (member < 0)
        return fail(s, fora_diag_set(diag, FORA_EINVAL, "event %d: unknown member %lld",
                                     s->events.n + 1, (long long)member_id));
    if (board_id != FORA_ID_NONE && (board = fora_idmap_get(&s->boards.by_id, board_id)) < 0)
        return fail(s, fora_diag_set(diag, FORA_EINVAL, "event %d: unknown board %lld",
                                     s->events.n + 1, (long long)board_id));
    if (kind == NULL || kind[0] == '\0')
        return fail(s, fora_diag_set(diag, FORA_EINVAL, "event %d: empty kind", s->events.n + 1));
    if (at == FORA_TIME_NONE)
        return fail(s, fora_diag_set(diag, FORA_EINVAL, "event %d: no time", s->events.n + 1));
    int32_t n = s->events.n;
    void **const cols[] = {(void **)&s->events.member, (void **)&s->events.kind,
                           (void **)&s->events.at, (void **)&s->events.board};
    const size_t sizes[] = {sizeof(int32_t), sizeof(int32_t), sizeof(int64_t), sizeof(int32_t)};
    err = grow_cols(n, &s->build->cap_events, 4, cols, sizes, "events", diag);
    if (err != FORA_OK) return fail(s, err);
    int32_t k;
    err = fora_strpool_intern(&s->kinds, kind, strlen(kind), &k, diag);
    if (err != FORA_OK) return fail(s, err);
    s->events.member[n] = member;
    s->events.kind[n] = k;
    s->events.at[n] = at;
    s->events.board[n] = board;
    s->events.n++;
    return FORA_OK;
}

fora_err_t fora_snapshot_finish(fora_snapshot_t *s, fora_diag_t *diag)
{
    fora_err_t err = advance(s, STAGE_DONE, diag);
    if (err != FORA_OK) return err;
    /* the label tables stay indexed for lookups by name */
    fora_strpool_shrink(&s->categories);
    fora_strpool_shrink(&s->statuses);
    fora_strpool_shrink(&s->kinds);
    free(s->build);
    s->build = NULL;
    return FORA_OK;
}

/* ---------------------------------------------------------------------- */
/* time windows                                                             */
/* ---------------------------------------------------------------------- */

/* The first index in sorted t[0..n) with t[i] >= x. */
static int32_t lower_bound(const int64_t *t, int32_t n, int64_t x)
{
    int32_t lo = 0, hi = n;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (t[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void window(const int64_t *t, int32_t n, int64_t from, int64_t to, int32_t *lo, int32_t *hi)
{
    *lo = from == FORA_TIME_NONE ? 0 : lower_bound(t, n, from);
    *hi = to == FORA_TIME_NONE ? n : lower_bound(t, n, to);
    if (*hi < *lo) *hi = *lo;
}

void fora_snapshot_post_window(const fora_snapshot_t *s, int64_t from, int64_t to, int32_t *lo,
                               int32_t *hi)
{
    assert(s->build == NULL);
    window(s->posts.created_at, s->posts.n, from, to, lo, hi);
}

void fora_snapshot_event_window(const fora_snapshot_t *s, int64_t from, int64_t to, int32_t *lo,
                                int32_t *hi)
{
    assert(s->build == NULL);
    window(s->events.at, s->events.n, from, to, lo, hi);
}
