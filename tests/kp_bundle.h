/*
 * tests/kp_bundle.h - load a CSV bundle (api-docs/csv-bundle.md) or a SNAP
 * temporal edge list straight into a snapshot, without PostgreSQL, for the
 * key-player reference test and benchmark.  Test and bench code only: the
 * server loads snapshots from the database (server/snapshot_load.c).
 *
 * Text identifiers get dense database ids in file order (boards 1.., members
 * 1.., threads 1.., posts 1..); the member's external id is its member_id.
 * Rows are added in file order; a post's reply_to may point forward.
 */
#ifndef KP_BUNDLE_H
#define KP_BUNDLE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fora/csv.h"
#include "fora/snapshot.h"
#include "fora/timeparse.h"

/* a string -> int64 hash map (open addressing), good enough for tests */
typedef struct {
    char **key;
    int64_t *val;
    size_t cap, n;
} kp_smap_t;

static inline uint64_t kp_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

static inline void kp_smap_grow(kp_smap_t *m);

static inline void kp_smap_put(kp_smap_t *m, const char *k, int64_t v)
{
    if (2 * (m->n + 1) > m->cap) kp_smap_grow(m);
    size_t i = kp_hash(k) & (m->cap - 1);
    while (m->key[i]) {
        if (strcmp(m->key[i], k) == 0) {
            m->val[i] = v;
            return;
        }
        i = (i + 1) & (m->cap - 1);
    }
    m->key[i] = strdup(k);
    m->val[i] = v;
    m->n++;
}

static inline void kp_smap_grow(kp_smap_t *m)
{
    kp_smap_t big = {0};
    big.cap = m->cap ? 2 * m->cap : 1024;
    big.key = calloc(big.cap, sizeof(char *));
    big.val = calloc(big.cap, sizeof(int64_t));
    for (size_t i = 0; i < m->cap; i++)
        if (m->key[i]) {
            size_t j = kp_hash(m->key[i]) & (big.cap - 1);
            while (big.key[j])
                j = (j + 1) & (big.cap - 1);
            big.key[j] = m->key[i];
            big.val[j] = m->val[i];
            big.n++;
        }
    free(m->key);
    free(m->val);
    *m = big;
}

static inline int64_t kp_smap_get(const kp_smap_t *m, const char *k)
{
    if (!m->cap) return -1;
    size_t i = kp_hash(k) & (m->cap - 1);
    while (m->key[i]) {
        if (strcmp(m->key[i], k) == 0) return m->val[i];
        i = (i + 1) & (m->cap - 1);
    }
    return -1;
}

static inline void kp_smap_free(kp_smap_t *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->key[i]);
    free(m->key);
    free(m->val);
    memset(m, 0, sizeof(*m));
}

#define KP_DIE(...)                                                                                \
    do {                                                                                           \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        exit(1);                                                                                   \
    } while (0)

/* open DIR/NAME.csv.gz or DIR/NAME.csv and map the header's columns */
static inline fora_csv_reader_t *kp_open(const char *dir, const char *name, int ncols,
                                         const char *const *cols, int *idx)
{
    char path[4096];
    fora_diag_t d = FORA_DIAG_INIT;
    fora_csv_reader_t *r = NULL;
    snprintf(path, sizeof path, "%s/%s.csv.gz", dir, name);
    if (fora_csv_open(path, &r, &d) != FORA_OK) {
        fora_diag_clear(&d);
        snprintf(path, sizeof path, "%s/%s.csv", dir, name);
        if (fora_csv_open(path, &r, &d) != FORA_OK) KP_DIE("%s", d.msg);
    }
    size_t nf;
    char **f;
    size_t *len;
    int64_t line;
    if (fora_csv_next(r, &nf, &f, &len, &line, &d) != FORA_OK) KP_DIE("%s: no header", path);
    for (int c = 0; c < ncols; c++) {
        idx[c] = -1;
        for (size_t j = 0; j < nf; j++)
            if (strcmp(f[j], cols[c]) == 0) idx[c] = (int)j;
    }
    return r;
}

static inline const char *kp_field(char **f, size_t nf, int idx)
{
    return (idx >= 0 && (size_t)idx < nf) ? f[idx] : "";
}

static inline int64_t kp_time(const char *s)
{
    int64_t us;
    if (!*s) return FORA_TIME_NONE;
    if (!fora_time_parse(s, strlen(s), &us)) KP_DIE("bad time \"%s\"", s);
    return us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
}

/* Loads the CSV bundle in dir. */
static inline fora_snapshot_t *kp_load_bundle(const char *dir)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *s = NULL;
    kp_smap_t boards = {0}, members = {0}, threads = {0}, posts = {0};
    size_t nf;
    char **f;
    size_t *len;
    int64_t line;
    int idx[5];
    if (fora_snapshot_create(1, "bundle", NULL, 1, &s, &d) != FORA_OK) KP_DIE("%s", d.msg);

    static const char *const bc[] = {"board_id", "parent_id", "category"};
    fora_csv_reader_t *r = kp_open(dir, "boards", 3, bc, idx);
    int64_t nb = 0;
    /* parents may point forward: ids first */
    while (fora_csv_next(r, &nf, &f, &len, &line, &d) == FORA_OK)
        kp_smap_put(&boards, kp_field(f, nf, idx[0]), ++nb);
    fora_csv_close(r);
    r = kp_open(dir, "boards", 3, bc, idx);
    while (fora_csv_next(r, &nf, &f, &len, &line, &d) == FORA_OK) {
        const char *par = kp_field(f, nf, idx[1]);
        if (fora_snapshot_add_board(s, kp_smap_get(&boards, kp_field(f, nf, idx[0])),
                                    kp_field(f, nf, idx[0]),
                                    *par ? kp_smap_get(&boards, par) : FORA_ID_NONE,
                                    kp_field(f, nf, idx[2]), &d) != FORA_OK)
            KP_DIE("%s", d.msg);
    }
    fora_csv_close(r);

    static const char *const mc[] = {"member_id", "registered_at", "status", "banned_at"};
    r = kp_open(dir, "members", 4, mc, idx);
    int64_t nm = 0;
    while (fora_csv_next(r, &nf, &f, &len, &line, &d) == FORA_OK) {
        const char *id = kp_field(f, nf, idx[0]);
        kp_smap_put(&members, id, ++nm);
        if (fora_snapshot_add_member(s, nm, id, kp_time(kp_field(f, nf, idx[1])),
                                     kp_field(f, nf, idx[2]), kp_time(kp_field(f, nf, idx[3])),
                                     &d) != FORA_OK)
            KP_DIE("%s", d.msg);
    }
    fora_csv_close(r);

    static const char *const tc[] = {"thread_id", "board_id", "starter_id", "created_at"};
    r = kp_open(dir, "threads", 4, tc, idx);
    int64_t nt = 0;
    while (fora_csv_next(r, &nf, &f, &len, &line, &d) == FORA_OK) {
        const char *id = kp_field(f, nf, idx[0]), *st = kp_field(f, nf, idx[2]);
        kp_smap_put(&threads, id, ++nt);
        if (fora_snapshot_add_thread(s, nt, id, kp_smap_get(&boards, kp_field(f, nf, idx[1])),
                                     *st ? kp_smap_get(&members, st) : FORA_ID_NONE,
                                     kp_time(kp_field(f, nf, idx[3])), &d) != FORA_OK)
            KP_DIE("%s", d.msg);
    }
    fora_csv_close(r);

    static const char *const pc[] = {"post_id", "thread_id", "author_id", "created_at", "reply_to"};
    r = kp_open(dir, "posts", 5, pc, idx);
    int64_t np = 0;
    while (fora_csv_next(r, &nf, &f, &len, &line, &d) == FORA_OK)
        kp_smap_put(&posts, kp_field(f, nf, idx[0]), ++np);
    fora_csv_close(r);
    r = kp_open(dir, "posts", 5, pc, idx);
    np = 0;
    while (fora_csv_next(r, &nf, &f, &len, &line, &d) == FORA_OK) {
        const char *au = kp_field(f, nf, idx[2]), *rt = kp_field(f, nf, idx[4]);
        if (fora_snapshot_add_post(s, ++np, kp_smap_get(&threads, kp_field(f, nf, idx[1])),
                                   *au ? kp_smap_get(&members, au) : FORA_ID_NONE,
                                   kp_time(kp_field(f, nf, idx[3])),
                                   *rt ? kp_smap_get(&posts, rt) : FORA_ID_NONE, &d) != FORA_OK)
            KP_DIE("%s", d.msg);
    }
    fora_csv_close(r);
    if (fora_snapshot_finish(s, &d) != FORA_OK) KP_DIE("%s", d.msg);
    kp_smap_free(&boards);
    kp_smap_free(&members);
    kp_smap_free(&threads);
    kp_smap_free(&posts);
    return s;
}

/*
 * Loads a SNAP temporal edge list (gzip "SRC TGT UNIXTS" lines) as a forum in
 * which every member has one thread (their "wall", opened at the earliest
 * time) and every interaction SRC -> TGT is a post by SRC in TGT's wall.
 * With `anchors`, every wall also gets an anchor post by its owner at the
 * earliest time and every interaction answers it: under
 * FORA_REPLY_EXPLICIT_ONLY the reply graph is exactly the edge list
 * (self-loops dropped by the analyses).  Without, only the interactions are
 * posts (for timing fingerprints, which the anchors' shared instant would
 * distort).
 */
static inline fora_snapshot_t *kp_load_snap_ex(const char *path, bool anchors)
{
    gzFile z = gzopen(path, "rb");
    if (!z) KP_DIE("cannot open %s", path);
    size_t cap = 1 << 20, m = 0;
    int64_t *e = malloc(sizeof(int64_t) * 3 * cap);
    char buf[256];
    int64_t maxid = 0, tmin = INT64_MAX;
    while (gzgets(z, buf, sizeof buf)) {
        long long a, b, t;
        if (sscanf(buf, "%lld %lld %lld", &a, &b, &t) != 3) continue;
        if (m == cap) {
            cap *= 2;
            e = realloc(e, sizeof(int64_t) * 3 * cap);
        }
        e[3 * m] = a;
        e[3 * m + 1] = b;
        e[3 * m + 2] = t;
        m++;
        if (a > maxid) maxid = a;
        if (b > maxid) maxid = b;
        if (t < tmin) tmin = t;
    }
    gzclose(z);
    char *used = calloc((size_t)maxid + 1, 1);
    for (size_t i = 0; i < m; i++)
        used[e[3 * i]] = used[e[3 * i + 1]] = 1;
    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *s = NULL;
    if (fora_snapshot_create(1, "snap", NULL, 1, &s, &d) != FORA_OK) KP_DIE("%s", d.msg);
    if (fora_snapshot_add_board(s, 1, "all", FORA_ID_NONE, NULL, &d) != FORA_OK)
        KP_DIE("%s", d.msg);
    for (int64_t u = 0; u <= maxid; u++)
        if (used[u]) {
            char ext[32];
            snprintf(ext, sizeof ext, "%lld", (long long)u);
            if (fora_snapshot_add_member(s, u + 1, ext, FORA_TIME_NONE, "", FORA_TIME_NONE, &d))
                KP_DIE("%s", d.msg);
        }
    for (int64_t u = 0; u <= maxid; u++)
        if (used[u]) {
            char ext[32];
            snprintf(ext, sizeof ext, "t%lld", (long long)u);
            if (fora_snapshot_add_thread(s, u + 1, ext, 1, u + 1, tmin, &d) != FORA_OK)
                KP_DIE("%s", d.msg);
        }
    for (int64_t u = 0; anchors && u <= maxid; u++)
        if (used[u] && fora_snapshot_add_post(s, u + 1, u + 1, u + 1, tmin, FORA_ID_NONE, &d))
            KP_DIE("%s", d.msg);
    for (size_t i = 0; i < m; i++)
        if (fora_snapshot_add_post(s, maxid + 2 + (int64_t)i, e[3 * i + 1] + 1, e[3 * i] + 1,
                                   e[3 * i + 2], anchors ? e[3 * i + 1] + 1 : FORA_ID_NONE,
                                   &d) != FORA_OK)
            KP_DIE("%s", d.msg);
    if (fora_snapshot_finish(s, &d) != FORA_OK) KP_DIE("%s", d.msg);
    free(used);
    free(e);
    return s;
}

static inline fora_snapshot_t *kp_load_snap(const char *path)
{
    return kp_load_snap_ex(path, true);
}

#endif
