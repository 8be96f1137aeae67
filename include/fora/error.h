/*
 * fora/error.h - the one error enum of fora, and a diagnostic that carries
 * its detail.
 *
 * Every function that can fail returns fora_err_t (FORA_OK == 0) and puts its
 * results in out-parameters placed last.  The human-readable detail (what and
 * where: file, line, field, parameter) travels in a fora_diag_t that the
 * caller owns; the first error recorded wins, so a low-level message is not
 * overwritten by a vaguer one further up.
 *
 * Messages follow PostgreSQL's style: lower case, no trailing period, user
 * values in quotes.
 *
 * Thread safety: everything here is reentrant; a fora_diag_t belongs to one
 * thread at a time.
 */
#ifndef FORA_ERROR_H
#define FORA_ERROR_H

#include <stdarg.h>
#include <stddef.h>

/* X(name, message, http status, process exit code, API error code) */
#define FORA_ERRNO_MAP(X)                                                                          \
    X(OK, "success", 200, 0, "ok")                                                                 \
    X(EINVAL, "invalid argument", 400, 2, "invalid_parameter")                                     \
    X(EPARSE, "malformed input", 400, 3, "malformed_input")                                        \
    X(ENOTFOUND, "not found", 404, 4, "not_found")                                                 \
    X(EEXIST, "already exists", 409, 5, "conflict")                                                \
    X(ETOOLARGE, "too large", 413, 6, "too_large")                                                 \
    X(ENOMEM, "out of memory", 503, 7, "out_of_memory")                                            \
    X(EIO, "input/output error", 500, 8, "io_error")                                               \
    X(EDB, "database error", 503, 9, "database_unavailable")                                       \
    X(ESCHEMA, "database schema is not current", 503, 10, "schema_not_current")                    \
    X(EEXTERNAL, "external program failed", 500, 11, "external_failure")                           \
    X(ENUMERIC, "numerical failure", 500, 12, "numerical_failure")                                 \
    X(EUNAUTH, "authentication required", 401, 13, "unauthenticated")                              \
    X(EFORBIDDEN, "forbidden", 403, 14, "forbidden")                                               \
    X(EMETHOD, "method not allowed", 405, 15, "method_not_allowed")                                \
    X(EINTERNAL, "internal error", 500, 16, "internal")                                            \
    X(ETIMEOUT, "timed out", 503, 17, "timeout")

typedef enum fora_err {
#define FORA_ERR_ENUM(name, msg, http, exitcode, api) FORA_##name,
    FORA_ERRNO_MAP(FORA_ERR_ENUM)
#undef FORA_ERR_ENUM
        FORA_ERR_MAX
} fora_err_t;

#if defined(__GNUC__)
#define FORA_MUST_CHECK __attribute__((warn_unused_result))
#define FORA_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define FORA_NORETURN __attribute__((noreturn))
#else
#define FORA_MUST_CHECK
#define FORA_PRINTF(fmt, args)
#define FORA_NORETURN
#endif

/* The short name of a code, e.g. "EINVAL"; "EUNKNOWN" when out of range. */
const char *fora_err_name(fora_err_t code);
/* The generic message of a code, e.g. "invalid argument". */
const char *fora_strerror(fora_err_t code);
/* The HTTP status an API error with this code maps to. */
int fora_err_http_status(fora_err_t code);
/* The documented process exit code of a command that failed with this code. */
int fora_err_exit_code(fora_err_t code);
/* The error code string of the API's error shape, e.g. "not_found". */
const char *fora_err_api_code(fora_err_t code);

#define FORA_DIAG_MAX 1024

/* A recorded error: code plus detail.  Initialise with FORA_DIAG_INIT. */
typedef struct fora_diag {
    fora_err_t code;         /* FORA_OK while nothing failed */
    char msg[FORA_DIAG_MAX]; /* detail, NUL-terminated, "" while code==OK */
} fora_diag_t;

#define FORA_DIAG_INIT                                                                             \
    {                                                                                              \
        FORA_OK,                                                                                   \
        {                                                                                          \
            0                                                                                      \
        }                                                                                          \
    }

/*
 * Records code and a printf-style message in diag, unless diag already holds
 * an error (the first one wins).  diag may be NULL.  Returns code, so that
 * "return fora_diag_set(d, FORA_EINVAL, ...)" reads naturally.
 */
fora_err_t fora_diag_set(fora_diag_t *diag, fora_err_t code, const char *fmt, ...)
    FORA_PRINTF(3, 4);
fora_err_t fora_diag_vset(fora_diag_t *diag, fora_err_t code, const char *fmt, va_list ap);
/*
 * Puts a printf-style prefix before the recorded message (which stays
 * truncated to FORA_DIAG_MAX), e.g. to name the step that failed.  Does
 * nothing when diag is NULL or holds no error.
 */
void fora_diag_prefix(fora_diag_t *diag, const char *fmt, ...) FORA_PRINTF(2, 3);
/*
 * *out = the index of s among names[0..n) (the spelling of an enum
 * parameter); EINVAL naming the parameter `param` and listing the accepted
 * names otherwise (s may be NULL).  O(n).
 */
fora_err_t fora_name_parse(const char *s, const char *param, const char *const *names, int n,
                           int *out, fora_diag_t *diag) FORA_MUST_CHECK;
/* Forgets any recorded error. */
void fora_diag_clear(fora_diag_t *diag);

/*
 * Small fixed-size allocations that abort on out-of-memory, like Redis'
 * zmalloc (practice 9).  Anything sized by user input is checked against a
 * limit first and may fail with FORA_ENOMEM instead.
 */
void *fora_xmalloc(size_t size);
void *fora_xcalloc(size_t n, size_t size);
void *fora_xrealloc(void *ptr, size_t size);
char *fora_xstrdup(const char *s);
/* Aborts with a message: for broken invariants and exhausted memory only. */
FORA_NORETURN void fora_panic(const char *fmt, ...) FORA_PRINTF(1, 2);

#endif /* FORA_ERROR_H */
