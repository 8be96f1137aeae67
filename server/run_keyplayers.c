/*
 * server/run_keyplayers.c - the "keyplayers" step: centrality, key-player
 * sets, disruption, communities and concentration of a forum (issue 3).
 */
#include <stdlib.h>

#include "recompute_internal.h"

static fora_err_t compute(const fora__run_ctx_t *ctx, void **state, fora_diag_t *diag)
{
    *state = NULL;
    return FORA_OK;
}

static fora_err_t store(const fora__run_ctx_t *ctx, void *state, fora_diag_t *diag)
{
    return FORA_OK;
}

const fora__run_step_t fora__run_step_keyplayers = {
    .name = "keyplayers", .params = NULL, .compute = compute, .store = store, .destroy = free};
