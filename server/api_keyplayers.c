/*
 * server/api_keyplayers.c - routes of the key-player analysis (issue 3).
 */
#include "api_internal.h"

const fora__api_route_t fora__api_routes_keyplayers[] = {
    {NULL, NULL, false},
};
