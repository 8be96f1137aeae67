/*
 * server/recompute_internal.h - how an analysis plugs into a run (private to server/).
 *
 * A run computes a list of steps.  Each step computes from the run's
 * snapshot while no transaction is open (compute), then writes its results
 * inside the run's single transaction (store), after every step has
 * computed: a failure in any step rolls back every step's rows.  A step
 * keeps whatever it computed in its own state object, freed by destroy.
 *
 * Adding an analysis: write server/run_NAME.c defining a fora__run_step_t,
 * declare it below and list it in recompute.c's step table.
 *
 * Thread safety: steps run on the one analysis thread (igraph is not
 * thread-safe here).
 */
#ifndef FORA_RECOMPUTE_INTERNAL_H
#define FORA_RECOMPUTE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "fora/error.h"
#include "fora/recompute.h"
#include "fora/snapshot.h"

typedef struct fora__run_ctx {
    PGconn *conn;
    const char *run; /* the run id as text, for SQL parameters */
    int64_t run_id;
    const fora_snapshot_t *snap; /* finished, immutable */
    const fora_recompute_opts_t *opts;
} fora__run_ctx_t;

typedef struct fora__run_step {
    const char *name; /* as stored in analysis_runs.analyses and given to --only */
    /* adds the step's parameters to the run's params object (NULL: none) */
    void (*params)(const fora_recompute_opts_t *opts, json_t *obj);
    /* computes into a new *state (no transaction open) */
    fora_err_t (*compute)(const fora__run_ctx_t *ctx, void **state, fora_diag_t *diag);
    /* writes state's rows (inside the run's transaction) */
    fora_err_t (*store)(const fora__run_ctx_t *ctx, void *state, fora_diag_t *diag);
    void (*destroy)(void *state); /* NULL-safe on state */
} fora__run_step_t;

extern const fora__run_step_t fora__run_step_summary;
extern const fora__run_step_t fora__run_step_keyplayers;
extern const fora__run_step_t fora__run_step_trajectories;
extern const fora__run_step_t fora__run_step_linking;
extern const fora__run_step_t fora__run_step_linking_cross; /* run_linking_cross.c */

/* ---- helpers for store() ---------------------------------------------------- */

/* Runs one parameterised statement (text parameters) that returns no rows or some. */
fora_err_t fora__run_exec(PGconn *conn, const char *what, const char *sql, int n,
                          const char *const *p, fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * A growable buffer of COPY text-format rows.  Append values with the
 * fora__copy_* calls (each value is followed by a tab; fora__copy_end_row
 * turns the last tab into a newline), then send it with fora__copy_send.
 */
typedef struct fora__copy_buf {
    char *data;
    size_t len, cap;
} fora__copy_buf_t;

void fora__copy_int(fora__copy_buf_t *b, int64_t v);
/* A finite double with 17 significant digits; NaN or infinity become NULL (\N). */
void fora__copy_double(fora__copy_buf_t *b, double v);
void fora__copy_null(fora__copy_buf_t *b);
/* A text value, escaped for COPY. */
void fora__copy_text(fora__copy_buf_t *b, const char *s);
/* Raw text (already valid COPY text, e.g. a JSON array literal without tabs or backslashes). */
void fora__copy_raw(fora__copy_buf_t *b, const char *s);
void fora__copy_end_row(fora__copy_buf_t *b);
void fora__copy_free(fora__copy_buf_t *b);

/* Sends b with `copy_sql` ("COPY t (cols) FROM STDIN"), then empties b. */
fora_err_t fora__copy_send(PGconn *conn, const char *copy_sql, fora__copy_buf_t *b,
                           fora_diag_t *diag) FORA_MUST_CHECK;

#endif /* FORA_RECOMPUTE_INTERNAL_H */
