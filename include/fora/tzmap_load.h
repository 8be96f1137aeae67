/*
 * fora/tzmap_load.h - building a time-zone table (fora/tzmap.h) from the C
 * library's zone database.
 *
 * Why the C library and not PostgreSQL: analyses also run without a database
 * (`fora survival`, benchmarks, unit tests), and glibc reads the same IANA
 * tzdata files (Debian's tzdata package, /usr/share/zoneinfo) that PostgreSQL
 * is built against on Debian.
 *
 * How: the zone name is first checked against the zone database folder
 * ($TZDIR, or /usr/share/zoneinfo): it must name a regular file there that
 * starts with the TZif magic, because glibc silently treats an unknown TZ
 * as UTC.  Then TZ is set to ":ZONE", tzset() is called, and localtime_r()'s
 * tm_gmtoff is sampled every 3 hours across the span; every change found is
 * located to the second by bisection (a change and its reversal less than 3
 * hours apart would be missed; tzdata has none).  TZ is restored afterwards.
 *
 * Thread safety: TZ is process-wide state.  The function holds a private
 * mutex while it changes TZ, so concurrent calls are safe with each other;
 * but nothing else in the process may read or set TZ, or call local-time
 * functions, meanwhile (fora_synth_write() also sets TZ, without this mutex:
 * do not run the two at once).
 */
#ifndef FORA_TZMAP_LOAD_H
#define FORA_TZMAP_LOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "fora/error.h"
#include "fora/tzmap.h"

/* The longest span a table may be built for: 1000 years. */
#define FORA_TZMAP_MAX_SPAN (INT64_C(1000) * 366 * 86400)

/*
 * Whether `zone` names a zone of the database: a relative path of letters,
 * digits and "/_+-" components (no "." or ".." components, at most 255
 * bytes) to a TZif file under $TZDIR or /usr/share/zoneinfo.  EINVAL
 * `unknown time zone "ZONE"` (or why the name is malformed) otherwise.
 * O(|zone|) plus one open().
 */
fora_err_t fora_tzmap_check_zone(const char *zone, fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * Builds the table of `zone` for the UTC span [from, to] (from <= to, at most
 * FORA_TZMAP_MAX_SPAN; the table's first segment starts at `from`).  EINVAL
 * for an unknown zone (naming it) or a bad span; ETOOLARGE for more than
 * FORA_TZMAP_MAX_SEGMENTS changes.  Time complexity: O((to - from) / 3 h)
 * localtime_r() calls plus O(log(3 h)) per change.
 */
fora_err_t fora_tzmap_load(const char *zone, int64_t from, int64_t to, fora_tzmap_t **out,
                           fora_diag_t *diag) FORA_MUST_CHECK;

#endif /* FORA_TZMAP_LOAD_H */
