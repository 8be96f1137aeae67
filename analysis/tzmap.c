/*
 * analysis/tzmap.c - UTC-offset segment tables (see fora/tzmap.h).
 */
#include "fora/tzmap.h"

#include <stdlib.h>
#include <string.h>

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return q;
}

fora_err_t fora_tzmap_create(const char *zone, const int64_t *start, const int32_t *offset,
                             size_t n, fora_tzmap_t **out, fora_diag_t *diag)
{
    fora_tzmap_t *m = NULL;
    if (zone == NULL || *zone == '\0')
        return fora_diag_set(diag, FORA_EINVAL, "time zone name is empty");
    if (n == 0 || start == NULL || offset == NULL)
        return fora_diag_set(diag, FORA_EINVAL, "time zone \"%s\": no segments", zone);
    if (n > FORA_TZMAP_MAX_SEGMENTS)
        return fora_diag_set(diag, FORA_ETOOLARGE,
                             "time zone \"%s\": %zu segments, at most %d are allowed", zone, n,
                             FORA_TZMAP_MAX_SEGMENTS);
    for (size_t i = 0; i < n; i++) {
        if (offset[i] > FORA_TZMAP_MAX_OFFSET || offset[i] < -FORA_TZMAP_MAX_OFFSET)
            return fora_diag_set(diag, FORA_EINVAL,
                                 "time zone \"%s\": segment %zu has offset %d s, beyond +-%d", zone,
                                 i, (int)offset[i], FORA_TZMAP_MAX_OFFSET);
        if (i > 0 && start[i] <= start[i - 1])
            return fora_diag_set(diag, FORA_EINVAL,
                                 "time zone \"%s\": segment %zu does not start after segment %zu",
                                 zone, i, i - 1);
    }
    m = fora_xcalloc(1, sizeof(*m));
    m->zone = fora_xstrdup(zone);
    m->start = fora_xmalloc(n * sizeof(int64_t));
    m->offset = fora_xmalloc(n * sizeof(int32_t));
    m->lend = fora_xmalloc(n * sizeof(int64_t));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k > 0 && offset[i] == m->offset[k - 1]) continue; /* merge equal neighbours */
        m->start[k] = start[i];
        m->offset[k] = offset[i];
        k++;
    }
    m->n = k;
    for (size_t i = 0; i < k; i++)
        m->lend[i] = i + 1 < k ? m->start[i + 1] + m->offset[i] : INT64_MAX;
    /* local segment starts and ends must both increase (lookups binary-search them) */
    for (size_t i = 1; i < k; i++) {
        int64_t lstart = m->start[i] + m->offset[i];
        int64_t prev_lstart = m->start[i - 1] + m->offset[i - 1];
        if (m->lend[i] <= m->lend[i - 1] || (i > 1 && lstart <= prev_lstart)) {
            fora_tzmap_destroy(m);
            return fora_diag_set(diag, FORA_EINVAL,
                                 "time zone \"%s\": segment %zu is shorter than the offset "
                                 "changes around it",
                                 zone, i);
        }
    }
    *out = m;
    return FORA_OK;
}

fora_err_t fora_tzmap_create_fixed(const char *zone, int32_t offset, fora_tzmap_t **out,
                                   fora_diag_t *diag)
{
    int64_t s = 0;
    return fora_tzmap_create(zone, &s, &offset, 1, out, diag);
}

void fora_tzmap_destroy(fora_tzmap_t *m)
{
    if (m == NULL) return;
    free(m->zone);
    free(m->start);
    free(m->offset);
    free(m->lend);
    free(m);
}

size_t fora_tzmap_segment(const fora_tzmap_t *m, int64_t t)
{
    /* the last segment whose start is <= t (segment 0 for anything earlier) */
    size_t lo = 0, hi = m->n; /* answer in [lo, hi) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->start[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

int64_t fora_tzmap_cursor_local(fora_tzmap_cursor_t *c, int64_t t)
{
    const fora_tzmap_t *m = c->m;
    size_t s = c->seg;
    if (s > 0 && t < m->start[s]) {
        s = fora_tzmap_segment(m, t);
    } else {
        while (s + 1 < m->n && t >= m->start[s + 1])
            s++;
    }
    c->seg = s;
    return t + m->offset[s];
}

/* The first segment whose local end is > L (lend increases). */
static size_t first_lend_above(const fora_tzmap_t *m, int64_t L)
{
    size_t lo = 0, hi = m->n - 1; /* the last segment's lend is INT64_MAX */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->lend[mid] > L)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

int64_t fora_tzmap_utc_of_local(const fora_tzmap_t *m, int64_t L)
{
    size_t j = first_lend_above(m, L);
    int64_t t = L - m->offset[j];
    if (j > 0 && t < m->start[j]) t = m->start[j];
    return t;
}

bool fora_tzmap_local_exists(const fora_tzmap_t *m, int64_t L0, int64_t L1)
{
    size_t j = first_lend_above(m, L0);
    if (j == 0) return true; /* segment 0 reaches back to -infinity */
    return m->start[j] + m->offset[j] < L1;
}

int64_t fora_tzmap_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void fora_tzmap_civil(int64_t L, fora_local_civil_t *out)
{
    int64_t day = floor_div(L, 86400);
    int64_t sod = L - day * 86400;
    out->day = day;
    out->hour = (int)(sod / 3600);
    out->minute = (int)(sod % 3600 / 60);
    out->second = (int)(sod % 60);
    /* 1970-01-01 was a Thursday (ISO weekday 3 counting Monday as 0) */
    out->weekday = (int)(day + 3 - floor_div(day + 3, 7) * 7);
    out->week_day = day - out->weekday;
    /* Hinnant's civil_from_days */
    int64_t z = day + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    out->mday = (int)(doy - (153 * mp + 2) / 5 + 1);
    out->month = (int)(mp < 10 ? mp + 3 : mp - 9);
    out->year = yoe + era * 400 + (out->month <= 2);
}
