/*
 * server/assets.h - private: static files built into the binary.
 *
 * The build lists them in CMakeLists.txt (FORA_ASSETS, "url=file" pairs) and
 * scripts/embed.cmake turns them into one generated C file, so `fora serve`
 * answers /v1/openapi.json, /docs and the dashboard from memory: nothing is
 * read from disk at run time and nothing is fetched from a CDN.
 */
#ifndef FORA_ASSETS_H
#define FORA_ASSETS_H

#include <stddef.h>

typedef struct fora__asset {
    const char *path;          /* URL path, e.g. "/v1/openapi.json" */
    const unsigned char *data; /* len bytes, followed by a NUL */
    size_t len;
    const char *name; /* the source file's name (its extension gives the type) */
} fora__asset_t;

/* Every asset; the table ends with {NULL}. */
extern const fora__asset_t fora__assets[];

/* The asset at URL path, or NULL. */
const fora__asset_t *fora__asset_find(const char *path);

/* The Content-Type for a file name, by its extension. */
const char *fora__asset_type(const char *name);

#endif /* FORA_ASSETS_H */
