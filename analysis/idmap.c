/*
 * analysis/idmap.c - int64 -> int32 maps, string pools and the radix sort.
 */
#include "fora/idmap.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* int64 -> int32 map                                                       */
/* ---------------------------------------------------------------------- */

fora_err_t fora_idmap_build(fora_idmap_t *m, const int64_t *ids, int32_t n, int32_t *dup,
                            fora_diag_t *diag)
{
    memset(m, 0, sizeof(*m));
    if (dup != NULL) *dup = -1;
    if (n <= 0) return FORA_OK;

    int64_t lo = ids[0], hi = ids[0];
    for (int32_t i = 1; i < n; i++) {
        if (ids[i] < lo) lo = ids[i];
        if (ids[i] > hi) hi = ids[i];
    }
    /* the range as unsigned, which cannot overflow */
    uint64_t range = (uint64_t)hi - (uint64_t)lo + 1;

    if (range == (uint64_t)n) {
        bool contiguous = true;
        for (int32_t i = 0; i < n && contiguous; i++)
            contiguous = ids[i] == lo + i;
        if (contiguous) {
            m->contiguous = true;
            m->min = lo;
            m->range = range;
            m->n = n;
            return FORA_OK;
        }
    }
    if (range != 0 && range - 1 < 4 * (uint64_t)n) {
        int32_t *d = malloc(range * sizeof(*d));
        if (d == NULL)
            return fora_diag_set(diag, FORA_ENOMEM, "id map of %llu slots",
                                 (unsigned long long)range);
        memset(d, 0xff, range * sizeof(*d)); /* all -1 */
        for (int32_t i = 0; i < n; i++) {
            uint64_t k = (uint64_t)ids[i] - (uint64_t)lo;
            if (d[k] >= 0) {
                free(d);
                if (dup != NULL) *dup = i;
                return fora_diag_set(diag, FORA_EINVAL, "duplicate id %lld", (long long)ids[i]);
            }
            d[k] = i;
        }
        m->dense = d;
        m->min = lo;
        m->range = range;
        m->n = n;
        return FORA_OK;
    }

    /* smallest power of two with n <= 0.7 * slots */
    uint64_t slots = 16;
    while ((uint64_t)n * 10 > slots * 7)
        slots *= 2;
    int64_t *keys = malloc(slots * sizeof(*keys));
    int32_t *vals = malloc(slots * sizeof(*vals));
    if (keys == NULL || vals == NULL) {
        free(keys);
        free(vals);
        return fora_diag_set(diag, FORA_ENOMEM, "id map of %llu slots", (unsigned long long)slots);
    }
    memset(vals, 0xff, slots * sizeof(*vals));
    uint64_t mask = slots - 1;
    for (int32_t i = 0; i < n; i++) {
        uint64_t s = fora_hash_u64((uint64_t)ids[i]) & mask;
        while (vals[s] >= 0) {
            if (keys[s] == ids[i]) {
                free(keys);
                free(vals);
                if (dup != NULL) *dup = i;
                return fora_diag_set(diag, FORA_EINVAL, "duplicate id %lld", (long long)ids[i]);
            }
            s = (s + 1) & mask;
        }
        keys[s] = ids[i];
        vals[s] = i;
    }
    m->keys = keys;
    m->vals = vals;
    m->mask = mask;
    m->n = n;
    return FORA_OK;
}

fora_err_t fora_idmap_remap(fora_idmap_t *m, const int32_t *perm, fora_diag_t *diag)
{
    if (m->contiguous) {
        int32_t *d = malloc(m->range * sizeof(*d));
        if (d == NULL)
            return fora_diag_set(diag, FORA_ENOMEM, "id map of %llu slots",
                                 (unsigned long long)m->range);
        memcpy(d, perm, m->range * sizeof(*d));
        m->dense = d;
        m->contiguous = false;
    } else if (m->dense != NULL) {
        for (uint64_t k = 0; k < m->range; k++)
            if (m->dense[k] >= 0) m->dense[k] = perm[m->dense[k]];
    } else if (m->vals != NULL) {
        for (uint64_t k = 0; k <= m->mask; k++)
            if (m->vals[k] >= 0) m->vals[k] = perm[m->vals[k]];
    }
    return FORA_OK;
}

size_t fora_idmap_bytes(const fora_idmap_t *m)
{
    if (m->dense != NULL) return (size_t)m->range * sizeof(int32_t);
    if (m->keys != NULL) return (size_t)(m->mask + 1) * (sizeof(int64_t) + sizeof(int32_t));
    return 0;
}

void fora_idmap_destroy(fora_idmap_t *m)
{
    free(m->dense);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof(*m));
}

/* ---------------------------------------------------------------------- */
/* string pool                                                              */
/* ---------------------------------------------------------------------- */

/* FNV-1a, then mixed: short ids like "m123" differ only in their last bytes. */
static uint64_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= UINT64_C(0x100000001b3);
    }
    return fora_hash_u64(h);
}

static bool str_equal(const fora_strpool_t *p, int32_t i, const char *s, size_t len)
{
    const char *t = p->data + p->off[i];
    /* the stored string's length is the distance to the next offset (or end) less its NUL */
    size_t tlen = (i + 1 < p->n ? p->off[i + 1] : p->len) - p->off[i] - 1;
    return tlen == len && memcmp(t, s, len) == 0;
}

/* Inserts string i into the index (which has room); returns an equal string's index or -1. */
static int32_t index_insert(fora_strpool_t *p, int32_t i)
{
    const char *s = p->data + p->off[i];
    size_t len = (i + 1 < p->n ? p->off[i + 1] : p->len) - p->off[i] - 1;
    uint32_t mask = p->nslots - 1;
    uint32_t k = (uint32_t)hash_bytes(s, len) & mask;
    while (p->slots[k] >= 0) {
        if (str_equal(p, p->slots[k], s, len)) return p->slots[k];
        k = (k + 1) & mask;
    }
    p->slots[k] = i;
    return -1;
}

/* Allocates an index of `nslots` slots and inserts all strings; EINVAL on a duplicate. */
static fora_err_t index_rebuild(fora_strpool_t *p, uint32_t nslots, int32_t *dup, fora_diag_t *diag)
{
    int32_t *slots = malloc((size_t)nslots * sizeof(*slots));
    if (slots == NULL) return fora_diag_set(diag, FORA_ENOMEM, "string index of %u slots", nslots);
    memset(slots, 0xff, (size_t)nslots * sizeof(*slots));
    free(p->slots);
    p->slots = slots;
    p->nslots = nslots;
    for (int32_t i = 0; i < p->n; i++) {
        if (index_insert(p, i) >= 0) {
            free(p->slots);
            p->slots = NULL;
            p->nslots = 0;
            if (dup != NULL) *dup = i;
            return fora_diag_set(diag, FORA_EINVAL, "duplicate string \"%s\"",
                                 fora_strpool_get(p, i));
        }
    }
    return FORA_OK;
}

static uint32_t slots_for(int32_t n)
{
    uint32_t s = 16;
    while ((uint64_t)s <= 2 * (uint64_t)n)
        s *= 2;
    return s;
}

fora_err_t fora_strpool_append(fora_strpool_t *p, const char *s, size_t len, int32_t *index,
                               fora_diag_t *diag)
{
    if (p->n == INT32_MAX - 1)
        return fora_diag_set(diag, FORA_ETOOLARGE, "more than %d strings", INT32_MAX - 1);
    if (p->len + len + 1 > UINT32_MAX)
        return fora_diag_set(diag, FORA_ETOOLARGE, "more than 4 GiB of identifiers");
    if (p->n == p->off_cap) {
        int32_t cap =
            p->off_cap < 64 ? 64 : (p->off_cap > INT32_MAX / 2 ? INT32_MAX : p->off_cap * 2);
        uint32_t *off = realloc(p->off, (size_t)cap * sizeof(*off));
        if (off == NULL) return fora_diag_set(diag, FORA_ENOMEM, "string table of %d entries", cap);
        p->off = off;
        p->off_cap = cap;
    }
    if (p->len + len + 1 > p->data_cap) {
        size_t cap = p->data_cap < 1024 ? 1024 : p->data_cap * 2;
        while (cap < p->len + len + 1)
            cap *= 2;
        char *data = realloc(p->data, cap);
        if (data == NULL) return fora_diag_set(diag, FORA_ENOMEM, "string pool of %zu bytes", cap);
        p->data = data;
        p->data_cap = cap;
    }
    memcpy(p->data + p->len, s, len);
    p->data[p->len + len] = '\0';
    p->off[p->n] = (uint32_t)p->len;
    p->len += len + 1;
    int32_t i = p->n++;
    if (p->slots != NULL) {
        if ((uint64_t)p->n * 2 >= p->nslots) {
            fora_err_t err = index_rebuild(p, slots_for(p->n), NULL, diag);
            if (err != FORA_OK) return err;
        } else {
            (void)index_insert(p, i);
        }
    }
    if (index != NULL) *index = i;
    return FORA_OK;
}

int32_t fora_strpool_find(const fora_strpool_t *p, const char *s, size_t len)
{
    if (p->slots == NULL) return -1;
    uint32_t mask = p->nslots - 1;
    for (uint32_t k = (uint32_t)hash_bytes(s, len) & mask;; k = (k + 1) & mask) {
        int32_t i = p->slots[k];
        if (i < 0) return -1;
        if (str_equal(p, i, s, len)) return i;
    }
}

fora_err_t fora_strpool_intern(fora_strpool_t *p, const char *s, size_t len, int32_t *index,
                               fora_diag_t *diag)
{
    if (p->slots == NULL) {
        fora_err_t err = index_rebuild(p, slots_for(p->n), NULL, diag);
        if (err != FORA_OK) return err;
    }
    int32_t i = fora_strpool_find(p, s, len);
    if (i >= 0) {
        *index = i;
        return FORA_OK;
    }
    return fora_strpool_append(p, s, len, index, diag);
}

fora_err_t fora_strpool_index(fora_strpool_t *p, int32_t *dup, fora_diag_t *diag)
{
    if (dup != NULL) *dup = -1;
    return index_rebuild(p, slots_for(p->n), dup, diag);
}

void fora_strpool_shrink(fora_strpool_t *p)
{
    if (p->n < p->off_cap && p->n > 0) {
        uint32_t *off = realloc(p->off, (size_t)p->n * sizeof(*off));
        if (off != NULL) {
            p->off = off;
            p->off_cap = p->n;
        }
    }
    if (p->len < p->data_cap && p->len > 0) {
        char *data = realloc(p->data, p->len);
        if (data != NULL) {
            p->data = data;
            p->data_cap = p->len;
        }
    }
}

size_t fora_strpool_bytes(const fora_strpool_t *p)
{
    return p->data_cap + (size_t)p->off_cap * sizeof(uint32_t) +
           (size_t)p->nslots * sizeof(int32_t);
}

void fora_strpool_destroy(fora_strpool_t *p)
{
    free(p->data);
    free(p->off);
    free(p->slots);
    memset(p, 0, sizeof(*p));
}

/* ---------------------------------------------------------------------- */
/* radix sort                                                               */
/* ---------------------------------------------------------------------- */

#define RADIX_BITS 11
#define RADIX_SIZE (1u << RADIX_BITS)
#define RADIX_PASSES 6 /* ceil(64 / 11) */

void fora_radix_sort_u64(uint64_t *keys, uint32_t *vals, size_t n, uint64_t *ktmp, uint32_t *vtmp)
{
    if (n < 2) return;

    /* One read pass gathers the histograms of all digit positions, and finds
     * the positions on which every key agrees: those passes would not move
     * anything and are skipped. */
    size_t(*count)[RADIX_SIZE] = fora_xcalloc(RADIX_PASSES, sizeof(*count));
    uint64_t differ = 0, first = keys[0];
    bool sorted = true;
    for (size_t i = 0; i < n; i++) {
        uint64_t k = keys[i];
        differ |= k ^ first;
        if (i > 0 && k < keys[i - 1]) sorted = false;
        for (int d = 0; d < RADIX_PASSES; d++)
            count[d][(k >> (d * RADIX_BITS)) & (RADIX_SIZE - 1)]++;
    }
    if (sorted) {
        free(count);
        return;
    }

    uint64_t *ksrc = keys, *kdst = ktmp;
    uint32_t *vsrc = vals, *vdst = vtmp;
    for (int d = 0; d < RADIX_PASSES; d++) {
        int shift = d * RADIX_BITS;
        if (((differ >> shift) & (RADIX_SIZE - 1)) == 0) continue;
        size_t pos = 0;
        for (size_t b = 0; b < RADIX_SIZE; b++) {
            size_t c = count[d][b];
            count[d][b] = pos;
            pos += c;
        }
        size_t *at = count[d];
        if (vsrc != NULL) {
            for (size_t i = 0; i < n; i++) {
                size_t j = at[(ksrc[i] >> shift) & (RADIX_SIZE - 1)]++;
                kdst[j] = ksrc[i];
                vdst[j] = vsrc[i];
            }
        } else {
            for (size_t i = 0; i < n; i++)
                kdst[at[(ksrc[i] >> shift) & (RADIX_SIZE - 1)]++] = ksrc[i];
        }
        uint64_t *kt = ksrc;
        ksrc = kdst;
        kdst = kt;
        uint32_t *vt = vsrc;
        vsrc = vdst;
        vdst = vt;
    }
    if (ksrc != keys) {
        memcpy(keys, ksrc, n * sizeof(*keys));
        if (vals != NULL) memcpy(vals, vsrc, n * sizeof(*vals));
    }
    free(count);
}
