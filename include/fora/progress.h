/*
 * fora/progress.h - progress of long jobs (imports, generation, recomputes).
 *
 * On a terminal a one-line bar with count, rate and ETA is redrawn at most
 * ten times a second; otherwise (a pipe, a log file, CI) a plain line is
 * printed at most every `interval` seconds.  Output goes to stderr, so stdout
 * stays clean for JSON.  A quiet progress prints nothing.
 *
 * Ownership: the caller owns the struct (stack is fine); nothing is allocated.
 * Thread safety: one thread per fora_progress_t.
 */
#ifndef FORA_PROGRESS_H
#define FORA_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct fora_progress {
    FILE *out;         /* stderr unless changed after begin */
    bool tty;          /* draw a bar rather than lines */
    bool quiet;        /* print nothing */
    char label[48];    /* what is being counted, e.g. "posts.csv" */
    int64_t total;     /* expected count, or -1 when unknown */
    int64_t done;      /* count so far */
    double started;    /* monotonic seconds at begin */
    double last_print; /* monotonic seconds of the last output */
    double interval;   /* seconds between plain lines (default 5) */
    bool phases;       /* counting phases of a job: the bar shows the elapsed time, not a rate */
} fora_progress_t;

/* Starts counting `label` towards `total` (-1: unknown). */
void fora_progress_begin(fora_progress_t *p, bool quiet, const char *label, int64_t total);
/* Sets the count to `done` and redraws when it is time. */
void fora_progress_update(fora_progress_t *p, int64_t done);
/* Redraws now (a new phase, a new label).  Nothing when quiet. */
void fora_progress_draw(fora_progress_t *p);
/* Prints the final count, elapsed time and rate. */
void fora_progress_end(fora_progress_t *p);
/* Monotonic clock in seconds. */
double fora_now_seconds(void);

#endif /* FORA_PROGRESS_H */
