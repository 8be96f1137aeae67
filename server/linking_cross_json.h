/*
 * server/linking_cross_json.h - private: what `fora link pairs`
 * (cmd_link_pairs.c) and the "linking_cross" run step (run_linking_cross.c)
 * share: the known pairs of member_links between two forums, and the JSON
 * summary of a cross-forum comparison (api-docs/linking.md, "Across forums").
 */
#ifndef FORA_LINKING_CROSS_JSON_H
#define FORA_LINKING_CROSS_JSON_H

#include <jansson.h>
#include <libpq-fe.h>

#include "fora/linking_cross.h"

extern const char *const fora__link_cross_frame_names[2];  /* "common", "local" */
extern const char *const fora__link_cross_centre_names[3]; /* "forum", "pooled", "none" */

/*
 * The pairs of member_links between forums a and b as member indices,
 * oriented a -> b (*pa, *pb, caller frees; pairs whose members are not in
 * the snapshots are left out).  Read for evaluation only.  EDB; ENOMEM.
 * O(pairs).
 */
fora_err_t fora__link_cross_known_pairs(PGconn *conn, const fora_snapshot_t *a,
                                        const fora_snapshot_t *b, int32_t **pa, int32_t **pb,
                                        int32_t *n, fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * fora_link_cross_compute() with the forums' zones loaded (A's zone over both
 * forums' spans for the common frame, B's over B's); o->tz_a and o->tz_b are
 * ignored.  Errors of either.  O(fora_link_cross_compute).
 */
fora_err_t fora__link_cross_zoned(const fora_snapshot_t *a, const fora_snapshot_t *b,
                                  const fora_link_cross_opts_t *o, fora_link_cross_t **out,
                                  fora_diag_t *diag) FORA_MUST_CHECK;

/* {"hour_of_week", "gaps", "session", "category" (null when not compared)}. */
json_t *fora__link_cross_components(const fora_link_cross_t *c, const double comp[FORA_LINK_NCOMP]);

/*
 * The summary document: "forum", "other" (members, compared, reasons of
 * those not compared with counts, post span), options, "overlap_seconds",
 * "notes", "components", "shared_categories", "not_compared", and
 * "evaluation" against the n known pairs (or its "reason").  NULL with diag
 * set on error (ENOMEM).  O(members + evaluation).
 */
json_t *fora__link_cross_summary(const fora_snapshot_t *a, const fora_snapshot_t *b,
                                 const fora_link_cross_t *c, const fora_link_cross_opts_t *o,
                                 const int32_t *pa, const int32_t *pb, int32_t n,
                                 fora_diag_t *diag);

#endif /* FORA_LINKING_CROSS_JSON_H */
