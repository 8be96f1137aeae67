/*
 * server/tzmap_load.c - time-zone tables from the C library (see fora/tzmap_load.h).
 */
#include "fora/tzmap_load.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STEP (3 * 3600)

/* TZ is process-wide: one table is built at a time. */
static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

static bool name_ok(const char *zone)
{
    size_t len = strlen(zone);
    if (len == 0 || len > 255 || zone[0] == '/' || zone[len - 1] == '/') return false;
    const char *comp = zone;
    for (const char *p = zone;; p++) {
        if (*p == '/' || *p == '\0') {
            size_t cl = (size_t)(p - comp);
            if (cl == 0) return false;
            if (comp[0] == '.') return false; /* ".", "..", hidden files */
            if (*p == '\0') break;
            comp = p + 1;
            continue;
        }
        char c = *p;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '+' || c == '-'))
            return false;
    }
    return true;
}

fora_err_t fora_tzmap_check_zone(const char *zone, fora_diag_t *diag)
{
    if (zone == NULL || *zone == '\0')
        return fora_diag_set(diag, FORA_EINVAL, "time zone name is empty");
    if (!name_ok(zone)) return fora_diag_set(diag, FORA_EINVAL, "unknown time zone \"%s\"", zone);
    const char *dir = getenv("TZDIR");
    if (dir == NULL || *dir == '\0') dir = "/usr/share/zoneinfo";
    char path[4096];
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, zone) >= sizeof(path))
        return fora_diag_set(diag, FORA_EINVAL, "unknown time zone \"%s\"", zone);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fora_diag_set(diag, FORA_EINVAL, "unknown time zone \"%s\"", zone);
    struct stat st;
    char magic[4] = {0};
    bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && read(fd, magic, 4) == 4 &&
              memcmp(magic, "TZif", 4) == 0;
    close(fd);
    if (!ok) return fora_diag_set(diag, FORA_EINVAL, "unknown time zone \"%s\"", zone);
    return FORA_OK;
}

static int32_t offset_at(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (localtime_r(&tt, &tm) == NULL) return 0;
    return (int32_t)tm.tm_gmtoff;
}

fora_err_t fora_tzmap_load(const char *zone, int64_t from, int64_t to, fora_tzmap_t **out,
                           fora_diag_t *diag)
{
    fora_err_t err = fora_tzmap_check_zone(zone, diag);
    if (err != FORA_OK) return err;
    if (from == INT64_MIN || to == INT64_MIN || to < from)
        return fora_diag_set(diag, FORA_EINVAL, "time zone \"%s\": bad span", zone);
    if (to - from > FORA_TZMAP_MAX_SPAN)
        return fora_diag_set(diag, FORA_EINVAL, "time zone \"%s\": span longer than 1000 years",
                             zone);

    size_t cap = 64, n = 0;
    int64_t *start = fora_xmalloc(cap * sizeof(int64_t));
    int32_t *offset = fora_xmalloc(cap * sizeof(int32_t));
    char *saved = NULL;
    size_t zl = strlen(zone) + 2;
    char *tz = fora_xmalloc(zl);
    snprintf(tz, zl, ":%s", zone);

    pthread_mutex_lock(&tz_lock);
    const char *old = getenv("TZ");
    saved = old ? fora_xstrdup(old) : NULL;
    setenv("TZ", tz, 1);
    tzset();

    start[0] = from;
    offset[0] = offset_at(from);
    n = 1;
    int64_t cur = from;
    while (cur < to && err == FORA_OK) {
        int64_t b = to - cur > STEP ? cur + STEP : to;
        /* every change in (cur, b]: bisect for the first instant whose offset differs */
        while (offset_at(b) != offset[n - 1]) {
            int64_t lo = cur, hi = b; /* offset(lo) == last, offset(hi) != last */
            while (hi - lo > 1) {
                int64_t mid = lo + (hi - lo) / 2;
                if (offset_at(mid) == offset[n - 1])
                    lo = mid;
                else
                    hi = mid;
            }
            if (n == FORA_TZMAP_MAX_SEGMENTS) {
                err = fora_diag_set(diag, FORA_ETOOLARGE,
                                    "time zone \"%s\": more than %d offset changes in the span",
                                    zone, FORA_TZMAP_MAX_SEGMENTS - 1);
                break;
            }
            if (n == cap) {
                cap *= 2;
                start = fora_xrealloc(start, cap * sizeof(int64_t));
                offset = fora_xrealloc(offset, cap * sizeof(int32_t));
            }
            start[n] = hi;
            offset[n] = offset_at(hi);
            n++;
            cur = hi;
        }
        cur = b;
    }

    if (saved) {
        setenv("TZ", saved, 1);
    } else {
        unsetenv("TZ");
    }
    tzset();
    pthread_mutex_unlock(&tz_lock);

    if (err == FORA_OK) err = fora_tzmap_create(zone, start, offset, n, out, diag);
    free(saved);
    free(tz);
    free(start);
    free(offset);
    return err;
}
