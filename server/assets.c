/*
 * server/assets.c - lookups in the table of built-in static files.
 */
#include "assets.h"

#include <string.h>

const fora__asset_t *fora__asset_find(const char *path)
{
    for (const fora__asset_t *a = fora__assets; a->path; a++)
        if (strcmp(a->path, path) == 0) return a;
    return NULL;
}

const char *fora__asset_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".yaml", "application/yaml"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0) return types[i].type;
    return "application/octet-stream";
}
