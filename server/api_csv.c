/*
 * server/api_csv.c - CSV for tabular answers (Accept: text/csv, fora show --csv).
 *
 * A document is tabular when it has an "items" array of objects (every list
 * route).  Each item becomes a row; nested objects are flattened into
 * dotted columns ("member.ext_id"); arrays stay JSON text in one cell.  The
 * columns are the union of the items' keys in first-seen order.  Quoting
 * follows RFC 4180 (only fields with a comma, quote or line break).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fora/api.h"
#include "strbuf.h"

static void put_field(fora__strbuf_t *b, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fora__strbuf_put(b, s, strlen(s));
        return;
    }
    fora__strbuf_put(b, "\"", 1);
    for (const char *q = s; *q; q++) {
        fora__strbuf_put(b, q, 1);
        if (*q == '"') fora__strbuf_put(b, q, 1); /* a quote inside is doubled */
    }
    fora__strbuf_put(b, "\"", 1);
}

/* Collects the flattened column names of object o under prefix into cols. */
static void collect(json_t *cols, const char *prefix, json_t *o)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        char name[512];
        snprintf(name, sizeof(name), "%s%s%s", prefix, prefix[0] ? "." : "", k);
        if (json_is_object(v))
            collect(cols, name, v);
        else if (json_object_get(cols, name) == NULL)
            json_object_set_new(cols, name, json_integer((json_int_t)json_object_size(cols)));
    }
}

/* The value at a dotted path in o, or NULL. */
static json_t *at(json_t *o, const char *path)
{
    char part[512];
    while (o && *path) {
        size_t n = strcspn(path, ".");
        /* a key may itself hold a dot: try the longest match first */
        json_t *whole = json_object_get(o, path);
        if (whole && !json_is_object(whole)) return whole;
        if (n >= sizeof(part)) return NULL;
        memcpy(part, path, n);
        part[n] = '\0';
        o = json_object_get(o, part);
        path += n + (path[n] == '.');
    }
    return o;
}

char *fora_api_csv(json_t *doc)
{
    json_t *items = json_object_get(doc, "items");
    if (!json_is_array(items)) return NULL;
    json_t *cols = json_object();
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) if (json_is_object(it)) collect(cols, "", it);
    size_t nc = json_object_size(cols);
    const char **names = fora_xcalloc(nc ? nc : 1, sizeof(*names));
    const char *k;
    json_t *v;
    json_object_foreach(cols, k, v) names[json_integer_value(v)] = k;
    fora__strbuf_t b = {0};
    fora__strbuf_put(&b, "", 0);
    for (size_t c = 0; c < nc; c++) {
        if (c) fora__strbuf_put(&b, ",", 1);
        put_field(&b, names[c]);
    }
    fora__strbuf_put(&b, "\r\n", 2);
    json_array_foreach(items, i, it)
    {
        for (size_t c = 0; c < nc; c++) {
            if (c) fora__strbuf_put(&b, ",", 1);
            json_t *x = at(it, names[c]);
            if (x == NULL || json_is_null(x)) continue;
            if (json_is_string(x)) {
                put_field(&b, json_string_value(x));
            } else {
                char *t = json_dumps(x, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
                if (t) put_field(&b, t);
                free(t);
            }
        }
        fora__strbuf_put(&b, "\r\n", 2);
    }
    free(names);
    json_decref(cols);
    return b.p;
}
