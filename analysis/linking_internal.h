/*
 * analysis/linking_internal.h - helpers that linking.c and linking_cross.c
 * share (not part of the public API; fora/linking.h is).
 */
#ifndef FORA_LINKING_INTERNAL_H
#define FORA_LINKING_INTERNAL_H

#include <stdbool.h>

#include "fora/error.h"
#include "fora/snapshot.h"

/*
 * Scales v[0..n) to unit length and returns true; a vector whose squared norm
 * is at most 1e-24 is set to zero and false is returned.  O(n).
 */
bool fora__link_unit(double *v, int n);

/* Adds every board of s (id, ext id, parent, category) to ns.  O(boards). */
fora_err_t fora__link_copy_boards(fora_snapshot_t *ns, const fora_snapshot_t *s, fora_diag_t *diag);

#endif /* FORA_LINKING_INTERNAL_H */
