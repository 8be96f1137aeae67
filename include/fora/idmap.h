/*
 * fora/idmap.h - dense indexing: maps from external keys (int64 database ids,
 * strings) to dense 0-based int32 indices, and the radix sort that the
 * snapshot and graph builders use to order millions of rows in linear time.
 *
 * fora_idmap_t maps int64 -> int32.  Database ids are GENERATED ALWAYS AS
 * IDENTITY, so one forum's ids are usually a nearly dense range.  Three
 * representations, chosen by fora_idmap_build():
 *  - contiguous: the ids are exactly min, min+1, ... in index order (a forum
 *    imported in one go): index = id - min, no memory and no cache miss;
 *  - dense, when max - min < 4n: a direct offset array (4 bytes per id in
 *    the range, one memory access per lookup);
 *  - otherwise an open-addressing hash table (linear probing, load <= 0.7,
 *    12 bytes per slot).
 *
 * fora_strpool_t stores n strings back to back in one buffer (each
 * NUL-terminated) with one offset per string, never one malloc per string.
 * It can carry a hash index (string -> index) used for interning labels and
 * for looking rows up by external id.
 *
 * Pure computation: no I/O.  Ownership: the caller owns the structs (stack
 * or embedded is fine); _destroy frees what they point to and is safe on a
 * zeroed struct.  Thread safety: concurrent lookups on a map or pool that is
 * no longer modified are safe; modification needs exclusive access.
 */
#ifndef FORA_IDMAP_H
#define FORA_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fora/error.h"

/* ---------------------------------------------------------------------- */
/* int64 -> int32 map                                                       */
/* ---------------------------------------------------------------------- */

typedef struct fora_idmap {
    int32_t n;       /* keys mapped */
    bool contiguous; /* contiguous mode: key min + i maps to i */
    /* dense mode (dense != NULL): dense[key - min] = index or -1 */
    int32_t *dense;
    int64_t min;    /* smallest key (contiguous and dense modes) */
    uint64_t range; /* max - min + 1 (contiguous and dense modes) */
    /* hash mode (keys != NULL): slot i holds keys[i] -> vals[i]; vals[i] == -1: empty */
    int64_t *keys;
    int32_t *vals;
    uint64_t mask; /* slots - 1; slots is a power of two */
} fora_idmap_t;

/*
 * Builds m so that it maps ids[i] to i for i in [0, n).  m need not be
 * initialised and is overwritten.  On a duplicate id returns EINVAL, sets
 * *dup (may be NULL) to the index of the second occurrence, and leaves m
 * zeroed (nothing to destroy); ENOMEM when memory runs out.  The diag message
 * is "duplicate id N".
 * Time complexity: O(n) expected.  Memory: none when contiguous,
 * 4 * (max - min + 1) bytes when dense, else 17 to 35 bytes per id.
 */
fora_err_t fora_idmap_build(fora_idmap_t *m, const int64_t *ids, int32_t n, int32_t *dup,
                            fora_diag_t *diag) FORA_MUST_CHECK;

/* Splitmix64's finaliser: the hash of a key. */
static inline uint64_t fora_hash_u64(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

/* The index mapped to `id`, or -1.  O(1) expected. */
static inline int32_t fora_idmap_get(const fora_idmap_t *m, int64_t id)
{
    if (m->contiguous) {
        uint64_t k = (uint64_t)id - (uint64_t)m->min;
        return k < m->range ? (int32_t)k : -1;
    }
    if (m->dense != NULL) {
        uint64_t k = (uint64_t)id - (uint64_t)m->min;
        return k < m->range ? m->dense[k] : -1;
    }
    if (m->keys == NULL) return -1;
    for (uint64_t i = fora_hash_u64((uint64_t)id) & m->mask;; i = (i + 1) & m->mask) {
        if (m->vals[i] < 0) return -1;
        if (m->keys[i] == id) return m->vals[i];
    }
}

/*
 * Replaces every mapped index v by perm[v] (after the rows were reordered,
 * perm[old] = new; perm must be a permutation of 0..n-1).  A contiguous map
 * becomes dense, which allocates: ENOMEM, and then m is unchanged.  O(slots).
 */
fora_err_t fora_idmap_remap(fora_idmap_t *m, const int32_t *perm,
                            fora_diag_t *diag) FORA_MUST_CHECK;

/* Bytes the map holds. */
size_t fora_idmap_bytes(const fora_idmap_t *m);

/* Frees m's arrays and zeroes it.  m may be zeroed already. */
void fora_idmap_destroy(fora_idmap_t *m);

/* ---------------------------------------------------------------------- */
/* string pool                                                              */
/* ---------------------------------------------------------------------- */

typedef struct fora_strpool {
    int32_t n;       /* strings */
    char *data;      /* the strings, each NUL-terminated, back to back */
    uint32_t *off;   /* off[i]: offset of string i in data (n entries) */
    size_t len;      /* bytes of data used */
    size_t data_cap; /* bytes of data allocated */
    int32_t off_cap; /* entries of off allocated */
    int32_t *slots;  /* hash index, -1 = empty; NULL while not indexed */
    uint32_t nslots; /* power of two, > 2 * n when indexed */
} fora_strpool_t;

/* String i (0 <= i < n), NUL-terminated. */
static inline const char *fora_strpool_get(const fora_strpool_t *p, int32_t i)
{
    return p->data + p->off[i];
}

/*
 * Appends a copy of s[0..len) (which must not contain NUL) as string n, and
 * keeps the index current if there is one.  *index (may be NULL) gets the
 * new string's index.  ETOOLARGE past 2^31-1 strings or 4 GiB of text;
 * ENOMEM.  Amortised O(len).
 */
fora_err_t fora_strpool_append(fora_strpool_t *p, const char *s, size_t len, int32_t *index,
                               fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * Interning: sets *index to the index of the string equal to s[0..len),
 * appending it first if it is not there.  Builds the index on first use.
 * Amortised O(len) expected.
 */
fora_err_t fora_strpool_intern(fora_strpool_t *p, const char *s, size_t len, int32_t *index,
                               fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * Builds (or rebuilds) the hash index over all strings.  EINVAL if two
 * strings are equal: *dup (may be NULL) gets the index of the second one, and
 * the pool is left without an index.  O(total length) expected.
 */
fora_err_t fora_strpool_index(fora_strpool_t *p, int32_t *dup, fora_diag_t *diag) FORA_MUST_CHECK;

/* The index of the string equal to s[0..len), or -1 (also when not indexed). */
int32_t fora_strpool_find(const fora_strpool_t *p, const char *s, size_t len);

/* Releases unused capacity (after the last append).  Never fails. */
void fora_strpool_shrink(fora_strpool_t *p);

/* Bytes the pool holds. */
size_t fora_strpool_bytes(const fora_strpool_t *p);

/* Frees the pool and zeroes it.  p may be zeroed already. */
void fora_strpool_destroy(fora_strpool_t *p);

/* ---------------------------------------------------------------------- */
/* radix sort                                                               */
/* ---------------------------------------------------------------------- */

/*
 * Sorts keys[0..n) ascending, moving vals[i] (may be NULL) along with
 * keys[i]; stable, so equal keys keep the order of their vals.  An LSD radix
 * sort with 11-bit digits that skips every digit position on which all keys
 * agree: keys spanning a range of 2^b cost ceil(b/11) passes.  ktmp (n
 * entries) and vtmp (n entries, or NULL when vals is) are scratch space.
 * Time complexity: O(n * passes), at most 6 passes.
 */
void fora_radix_sort_u64(uint64_t *keys, uint32_t *vals, size_t n, uint64_t *ktmp, uint32_t *vtmp);

/* The order-preserving map of a signed key onto unsigned ones. */
static inline uint64_t fora_radix_key_i64(int64_t x)
{
    return (uint64_t)x ^ (UINT64_C(1) << 63);
}

#endif /* FORA_IDMAP_H */
