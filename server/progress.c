/*
 * server/progress.c - progress bars and progress lines for long jobs.
 */
#include "fora/progress.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

double fora_now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void fora_progress_begin(fora_progress_t *p, bool quiet, const char *label, int64_t total)
{
    memset(p, 0, sizeof(*p));
    p->out = stderr;
    p->tty = isatty(fileno(stderr)) != 0;
    p->quiet = quiet;
    snprintf(p->label, sizeof(p->label), "%s", label);
    p->total = total;
    p->started = fora_now_seconds();
    p->last_print = p->started;
    p->interval = 5.0;
}

static void print_line(fora_progress_t *p, double now, bool final)
{
    double elapsed = now - p->started;
    double rate = elapsed > 0 ? (double)p->done / elapsed : 0.0;

    if (p->tty && !final) {
        char bar[31];
        int filled = 0;
        if (p->total > 0) {
            filled = (int)(30.0 * (double)p->done / (double)p->total);
            if (filled > 30) filled = 30;
        }
        for (int i = 0; i < 30; i++)
            bar[i] = i < filled ? '#' : (p->total > 0 ? '.' : ' ');
        bar[30] = '\0';
        if (p->phases) {
            fprintf(p->out, "\r%-32s [%s] %lld/%lld  %.1f s   ", p->label, bar, (long long)p->done,
                    (long long)p->total, elapsed);
        } else if (p->total > 0) {
            double eta = rate > 0 ? (double)(p->total - p->done) / rate : 0.0;
            fprintf(p->out, "\r%-20s [%s] %lld/%lld  %.0f/s  eta %.0fs   ", p->label, bar,
                    (long long)p->done, (long long)p->total, rate, eta);
        } else {
            fprintf(p->out, "\r%-20s %lld  %.0f/s   ", p->label, (long long)p->done, rate);
        }
    } else {
        if (p->tty) fputc('\r', p->out);
        fprintf(p->out, "%s: %lld rows%s in %.1f s (%.0f rows/s)%s\n", p->label, (long long)p->done,
                final ? "" : " so far", elapsed, rate, p->tty ? "                    " : "");
    }
    fflush(p->out);
    p->last_print = now;
}

void fora_progress_update(fora_progress_t *p, int64_t done)
{
    p->done = done;
    if (p->quiet) return;
    double now = fora_now_seconds();
    if (now - p->last_print >= (p->tty ? 0.1 : p->interval)) print_line(p, now, false);
}

void fora_progress_draw(fora_progress_t *p)
{
    if (p->quiet) return;
    print_line(p, fora_now_seconds(), false);
}

void fora_progress_end(fora_progress_t *p)
{
    if (p->quiet) return;
    print_line(p, fora_now_seconds(), true);
}
