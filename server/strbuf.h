/*
 * server/strbuf.h - private: a growable NUL-terminated string, for building
 * answers that are not JSON documents (CSV, GraphML/GEXF, /metrics).
 *
 * Start with a zeroed fora__strbuf_t; the calls keep p NUL-terminated once
 * anything was added (p stays NULL until then).  The caller frees p, or
 * hands it on.  Small fixed-size growth: allocation failure aborts
 * (fora_xrealloc), as for every buffer whose size the server bounds.
 */
#ifndef FORA_STRBUF_H
#define FORA_STRBUF_H

#include <stddef.h>

#include "fora/error.h"

typedef struct fora__strbuf {
    char *p;
    size_t len, cap; /* cap > len once p is allocated */
} fora__strbuf_t;

/* Appends s[0..n). */
void fora__strbuf_put(fora__strbuf_t *b, const char *s, size_t n);
/* Appends the string s. */
void fora__strbuf_puts(fora__strbuf_t *b, const char *s);
/* Appends printf output. */
void fora__strbuf_printf(fora__strbuf_t *b, const char *fmt, ...) FORA_PRINTF(2, 3);

#endif /* FORA_STRBUF_H */
