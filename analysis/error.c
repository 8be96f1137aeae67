/*
 * analysis/error.c - error names, messages and the diagnostic helpers.
 */
#include "fora/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    const char *msg;
    int http;
    int exitcode;
    const char *api;
} err_table[] = {
#define FORA_ERR_ROW(name, msg, http, exitcode, api) {#name, msg, http, exitcode, api},
    FORA_ERRNO_MAP(FORA_ERR_ROW)
#undef FORA_ERR_ROW
};

const char *fora_err_name(fora_err_t code)
{
    if ((unsigned)code >= FORA_ERR_MAX) return "EUNKNOWN";
    return err_table[code].name;
}

const char *fora_strerror(fora_err_t code)
{
    if ((unsigned)code >= FORA_ERR_MAX) return "unknown error";
    return err_table[code].msg;
}

int fora_err_http_status(fora_err_t code)
{
    if ((unsigned)code >= FORA_ERR_MAX) return 500;
    return err_table[code].http;
}

int fora_err_exit_code(fora_err_t code)
{
    if ((unsigned)code >= FORA_ERR_MAX) return 1;
    return err_table[code].exitcode;
}

const char *fora_err_api_code(fora_err_t code)
{
    if ((unsigned)code >= FORA_ERR_MAX) return "internal";
    return err_table[code].api;
}

fora_err_t fora_diag_vset(fora_diag_t *diag, fora_err_t code, const char *fmt, va_list ap)
{
    if (diag == NULL || code == FORA_OK || diag->code != FORA_OK) return code;
    diag->code = code;
    vsnprintf(diag->msg, sizeof(diag->msg), fmt, ap);
    return code;
}

fora_err_t fora_diag_set(fora_diag_t *diag, fora_err_t code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fora_diag_vset(diag, code, fmt, ap);
    va_end(ap);
    return code;
}

void fora_diag_prefix(fora_diag_t *diag, const char *fmt, ...)
{
    char pre[FORA_DIAG_MAX], old[FORA_DIAG_MAX];
    va_list ap;
    if (diag == NULL || diag->code == FORA_OK) return;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof(pre), fmt, ap);
    va_end(ap);
    memcpy(old, diag->msg, sizeof(old));
    snprintf(diag->msg, sizeof(diag->msg), "%s%s", pre, old);
}

fora_err_t fora_name_parse(const char *s, const char *param, const char *const *names, int n,
                           int *out, fora_diag_t *diag)
{
    if (s != NULL)
        for (int i = 0; i < n; i++)
            if (strcmp(s, names[i]) == 0) {
                *out = i;
                return FORA_OK;
            }
    char allowed[256] = "";
    size_t len = 0;
    for (int i = 0; i < n && len < sizeof(allowed); i++)
        len += (size_t)snprintf(allowed + len, sizeof(allowed) - len, "%s\"%s\"", i ? ", " : "",
                                names[i]);
    return fora_diag_set(diag, FORA_EINVAL, "invalid value \"%s\" for parameter \"%s\": one of %s",
                         s ? s : "", param, allowed);
}

void fora_diag_clear(fora_diag_t *diag)
{
    if (diag == NULL) return;
    diag->code = FORA_OK;
    diag->msg[0] = '\0';
}

void fora_panic(const char *fmt, ...)
{
    va_list ap;
    fputs("fora: fatal: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

void *fora_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL) fora_panic("out of memory allocating %zu bytes", size);
    return p;
}

void *fora_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL) fora_panic("out of memory allocating %zu x %zu bytes", n, size);
    return p;
}

void *fora_xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (p == NULL) fora_panic("out of memory reallocating %zu bytes", size);
    return p;
}

char *fora_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = fora_xmalloc(n);
    memcpy(p, s, n);
    return p;
}
