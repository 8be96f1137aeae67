/*
 * server/snapshot_cache.c - the shared snapshot cache (snapshot_cache.h).
 */
#include "snapshot_cache.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "fora/db.h"
#include "fora/snapshot_load.h"

typedef struct entry {
    fora_snapshot_t *snap; /* NULL: free slot */
    int64_t forum_id;
    int64_t version;
    int refs;      /* references handed out and not released */
    bool evicted;  /* no longer in the table: freed with its last reference */
    uint64_t used; /* LRU clock */
} entry_t;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t load_mu = PTHREAD_MUTEX_INITIALIZER; /* one load at a time */
static entry_t slots[FORA_SNAPSHOT_CACHE_SLOTS];
/* evicted snapshots still referenced: freed by their last release */
static entry_t *retired;
static size_t nretired, capretired;
static uint64_t clock_, loads, hits;

/* The slot holding (forum, version), with a new reference; NULL when none. */
static fora_snapshot_t *lookup(int64_t forum_id, int64_t version)
{
    for (int i = 0; i < FORA_SNAPSHOT_CACHE_SLOTS; i++)
        if (slots[i].snap && slots[i].forum_id == forum_id && slots[i].version == version) {
            slots[i].refs++;
            slots[i].used = ++clock_;
            hits++;
            return slots[i].snap;
        }
    return NULL;
}

static void retire(entry_t *e)
{
    if (e->refs == 0) {
        fora_snapshot_destroy(e->snap);
    } else {
        if (nretired == capretired) {
            capretired = capretired ? 2 * capretired : 4;
            retired = fora_xrealloc(retired, capretired * sizeof(*retired));
        }
        retired[nretired++] = *e;
    }
    e->snap = NULL;
}

fora_err_t fora__snapshot_acquire(PGconn *conn, int64_t forum_id, fora_snapshot_t **out,
                                  fora_diag_t *diag)
{
    char id[24];
    *out = NULL;
    snprintf(id, sizeof(id), "%lld", (long long)forum_id);
    const char *p[] = {id};
    PGresult *r = PQexecParams(conn, "SELECT data_version FROM forums WHERE id = $1::bigint", 1,
                               NULL, p, NULL, NULL, 0);
    fora_err_t err = fora_db_check(r, PGRES_TUPLES_OK, "reading the data version", diag);
    if (err == FORA_OK && PQntuples(r) == 0)
        err = fora_diag_set(diag, FORA_ENOTFOUND, "no forum with id %s", id);
    int64_t version = err == FORA_OK ? atoll(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    if (err != FORA_OK) return err;

    pthread_mutex_lock(&mu);
    *out = lookup(forum_id, version);
    pthread_mutex_unlock(&mu);
    if (*out) return FORA_OK;

    /* load outside the table lock; a second request for the same snapshot waits here */
    pthread_mutex_lock(&load_mu);
    pthread_mutex_lock(&mu);
    *out = lookup(forum_id, version);
    pthread_mutex_unlock(&mu);
    if (*out == NULL) {
        fora_snapshot_t *s = NULL;
        err = fora_snapshot_load(conn, forum_id, &s, diag);
        if (err == FORA_OK) {
            pthread_mutex_lock(&mu);
            loads++;
            /* a slot: a free one, else the least recently used */
            int pick = -1;
            for (int i = 0; i < FORA_SNAPSHOT_CACHE_SLOTS && pick < 0; i++)
                if (slots[i].snap == NULL) pick = i;
            if (pick < 0) {
                pick = 0;
                for (int i = 1; i < FORA_SNAPSHOT_CACHE_SLOTS; i++)
                    if (slots[i].used < slots[pick].used) pick = i;
            }
            /* an older version of the same forum is never useful again */
            for (int i = 0; i < FORA_SNAPSHOT_CACHE_SLOTS; i++)
                if (slots[i].snap && slots[i].forum_id == forum_id && i != pick) retire(&slots[i]);
            if (slots[pick].snap) retire(&slots[pick]);
            slots[pick] = (entry_t){.snap = s,
                                    .forum_id = forum_id,
                                    .version = s->forum.data_version,
                                    .refs = 1,
                                    .used = ++clock_};
            pthread_mutex_unlock(&mu);
            *out = s;
        }
    }
    pthread_mutex_unlock(&load_mu);
    return err;
}

void fora__snapshot_release(fora_snapshot_t *s)
{
    if (s == NULL) return;
    pthread_mutex_lock(&mu);
    bool found = false;
    for (int i = 0; i < FORA_SNAPSHOT_CACHE_SLOTS && !found; i++)
        if (slots[i].snap == s) {
            slots[i].refs--;
            found = true;
        }
    for (size_t i = 0; i < nretired && !found; i++)
        if (retired[i].snap == s) {
            found = true;
            if (--retired[i].refs == 0) {
                fora_snapshot_destroy(s);
                retired[i] = retired[--nretired];
            }
        }
    pthread_mutex_unlock(&mu);
    if (!found) fora_panic("snapshot cache: release of a snapshot it never handed out");
}

void fora__snapshot_cache_stats(uint64_t *l, uint64_t *h)
{
    pthread_mutex_lock(&mu);
    *l = loads;
    *h = hits;
    pthread_mutex_unlock(&mu);
}
