/*
 * fora/recompute.h - running a forum's analyses as one analysis run.
 *
 * A run is recorded as 'running' (committed at once, so a crash leaves a
 * trace), the forum is loaded into a snapshot, every analysis computes from
 * it, and all results plus the run's 'completed' status are written in one
 * transaction: readers see the whole run or none of it.  A failure rolls the
 * results back and records the run as 'failed' with its error; the previous
 * run stays the one served.  While a run is being computed its process holds
 * a session advisory lock on the run id; a 'running' run whose lock is free
 * was interrupted, and the next recompute marks it failed.
 *
 * Thread safety: igraph is not thread-safe here; call from one thread.
 */
#ifndef FORA_RECOMPUTE_H
#define FORA_RECOMPUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

#include "fora/error.h"
#include "fora/centrality.h"
#include "fora/disruption.h"
#include "fora/graphs.h"
#include "fora/keyplayer.h"
#include "fora/trajectories.h"

typedef struct fora_recompute_opts {
    fora_graph_opts_t graph; /* reply rule, self-loops, window */
    uint64_t seed;           /* seeds every random choice of the run (stored in its params) */
    const char *only;        /* comma-separated analyses to run (NULL: all; summary always) */
    bool quiet;              /* no progress lines */
    /*
     * called (when not NULL) as the run moves on, before each phase:
     * "loading", a step's name, "storing"; phase `done` (0-based) of `total`
     */
    void (*progress)(void *arg, int64_t run_id, const char *what, int done, int total);
    void *progress_arg;
    struct {
        fora_centrality_opts_t centrality; /* graph and seed are the run's */
        fora_composite_weights_t weights;
        fora_kpp_opts_t kpp;               /* seed is the run's */
        fora_disruption_opts_t disruption; /* seed is the run's */
        const char *staff_labels;          /* NULL: FORA_STAFF_LABELS */
        int32_t max_thread_members;        /* co-participation cap */
        int32_t lorenz_points;
    } kp; /* the keyplayers analysis (api-docs/keyplayers.md) */
    fora_traj_opts_t
        traj; /* the trajectories analysis; seed is the run's (api-docs/trajectories.md) */
    const char *link_with; /* the linking_cross analysis: the other forum (name or id); NULL: none
                              (api-docs/linking.md, "Across forums") */
} fora_recompute_opts_t;

/* Member status labels that count as staff in role validation, by default. */
#define FORA_STAFF_LABELS "administrator,admin,moderator,staff"

/* Sets every option to its documented default (seed 1, all analyses). */
void fora_recompute_opts_init(fora_recompute_opts_t *o);

/*
 * The run options that can be given by name, as text: the same names on the
 * command line (--name, with '_' as '-'), in POST .../recompute parameters
 * and in a queued job's params.  NULL-terminated.
 */
extern const char *const fora_recompute_option_names[];

/*
 * Sets option `name` of o from `value`: seed (0..2^63-1), only (analyses),
 * from / to (timestamps, see fora/timeparse.h), reply_rule, weights
 * ("metric:w,..."), staff_labels, kpp_k (1..1000), repetitions (1..1000),
 * and the trajectories options traj_NAME for each NAME of
 * fora_traj_opts_set() (traj_period, traj_time, traj_model, traj_zero_order,
 * traj_order, traj_kmin, traj_kmax, traj_starts, traj_min_share,
 * traj_exposure, traj_labels), and link_with (another forum's name or id, for the
 * linking_cross analysis; checked when the run computes).
 * String values (only, staff_labels, link_with) are kept by pointer: value must
 * outlive o.  EINVAL naming the option and the accepted values otherwise;
 * EINVAL for from >= to once both are set.
 */
fora_err_t fora_recompute_opts_set(fora_recompute_opts_t *o, const char *name, const char *value,
                                   fora_diag_t *diag) FORA_MUST_CHECK;

typedef struct fora_recompute_result {
    int64_t run_id;
    int64_t watermark; /* data_version the run saw */
    double seconds;    /* wall time */
} fora_recompute_result_t;

/*
 * The name of the i-th analysis a run computes, in order (as stored in
 * analysis_runs.analyses and accepted by opts.only), or NULL past the last.
 */
const char *fora_recompute_step_name(size_t i);

/* EINVAL naming the first unknown analysis in the comma-separated list only. */
fora_err_t fora_recompute_check_only(const char *only, fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * Recomputes forum `forum_id`.  Returns FORA_OK and the run in *res; or the
 * error of the step that failed (the run is then recorded as failed, and its
 * id is still in res->run_id when it could be created).
 */
fora_err_t fora_recompute_forum(PGconn *conn, int64_t forum_id, const fora_recompute_opts_t *opts,
                                fora_recompute_result_t *res, fora_diag_t *diag) FORA_MUST_CHECK;

/* Marks runs left 'running' by a process that is gone as failed. */
fora_err_t fora_recompute_sweep(PGconn *conn, int64_t *swept, fora_diag_t *diag) FORA_MUST_CHECK;

#endif /* FORA_RECOMPUTE_H */
