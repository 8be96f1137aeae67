/*
 * server/api_linking_cross.h - private: the cross-forum linking handlers
 * (api_linking_cross.c), routed by api_linking.c.
 */
#ifndef FORA_API_LINKING_CROSS_H
#define FORA_API_LINKING_CROSS_H

#include "api_internal.h"

/* GET /v1/forums/{forum}/linking/candidates?other=B */
void fora__api_linking_candidates(fora__api_ctx_t *ctx);

/* GET /v1/forums/{forum}/members/{member}/similar?other=B */
void fora__api_linking_similar_other(fora__api_ctx_t *ctx);

#endif /* FORA_API_LINKING_CROSS_H */
