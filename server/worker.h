/*
 * server/worker.h - private: the recompute queue's workers (recompute_jobs).
 *
 * A worker claims the oldest queued job (FOR UPDATE SKIP LOCKED), holds the
 * advisory lock (1, job id) while it runs the job's recompute, records the
 * progress on a second connection (the run's own connection is inside its
 * transaction while storing), and completes or fails the job.  Any number
 * of workers, in any number of processes and machines, may share a database.
 *
 * Thread safety: igraph is process-wide and not thread-safe, so a process
 * runs at most one worker (fora serve's worker thread or fora worker).
 */
#ifndef FORA_WORKER_H
#define FORA_WORKER_H

#include <signal.h>
#include <stdbool.h>
#include <libpq-fe.h>

#include "fora/db.h"
#include "fora/error.h"

/*
 * Marks jobs left 'running' by a worker that is gone as failed; then claims
 * and runs one queued job.  *did is false when the queue was empty.  The
 * error is about the queue itself (database); a failed recompute fails its
 * job and returns FORA_OK.
 */
fora_err_t fora_worker_run_one(PGconn *conn, PGconn *progress_conn, const char *name, bool quiet,
                               bool *did, fora_diag_t *diag) FORA_MUST_CHECK;

typedef struct fora_worker_loop {
    fora_dbconf_t db; /* how to connect (reconnects after a failure) */
    double poll;      /* seconds between looks at an empty queue */
    bool quiet;
    bool once;                   /* stop when the queue is empty */
    volatile sig_atomic_t *stop; /* set to stop after the current job */
} fora_worker_loop_t;

/* Runs jobs until *stop (or, with once, an empty queue).  Returns an exit code. */
int fora_worker_loop(fora_worker_loop_t *w);

#endif /* FORA_WORKER_H */
