/*
 * fora/synth.h - a seeded generator of synthetic forums with planted ground
 * truth (`fora synth`).
 *
 * fora_synth_write() writes a CSV bundle (api-docs/csv-bundle.md) of one
 * synthetic forum - forum.csv, boards.csv, members.csv, threads.csv,
 * posts.csv, events.csv - plus the truth that was planted in it:
 * truth_members.csv (member_id, group, is_key_player) and truth.json.  The
 * model (activity groups with known posting trajectories, heavy-tailed
 * threads, replies, planted moderators, bans, circadian times in the forum's
 * zone, non-posting events) and the exact coefficients are documented in
 * api-docs/synth.md.
 *
 * All randomness comes from one GSL MT19937 generator seeded with opts.seed,
 * so the same options give byte-identical files.  Posts and threads are
 * generated month by month in time order, so memory does not grow with the
 * number of posts: it is about 40 bytes per member, plus 16 bytes per post
 * and event of the busiest month, plus a fixed window of active threads.
 *
 * Ownership: nothing is allocated for the caller; strings in the options are
 * borrowed for the duration of the call.
 * Thread safety: fora_synth_write() sets the TZ environment variable and
 * calls tzset() while it builds its local-time table, then restores TZ; do not
 * call it while other threads use getenv/setenv or local-time functions.
 */
#ifndef FORA_SYNTH_H
#define FORA_SYNTH_H

#include <stdbool.h>
#include <stdint.h>

#include "fora/error.h"

/* Options of the generator.  Fill with fora_synth_opts_default() first. */
typedef struct fora_synth_opts {
    int64_t members;          /* accounts, >= 1; default 10000 */
    int64_t posts;            /* target total posts, >= 0; default 100000 (hit within a few %) */
    int64_t boards;           /* boards, >= 1; default 20 */
    int months;               /* span in calendar months (UTC), 1..1200; default 60 */
    uint64_t seed;            /* RNG seed; default 1 (see api-docs/synth.md for folding) */
    const char *timezone;     /* IANA zone of the forum's local time; default "Europe/Amsterdam" */
    const char *forum_name;   /* forum.csv name; default "synth" */
    int key_players;          /* planted moderators; -1 (default) = max(3, members/2000),
                                 capped at members */
    double ban_rate;          /* share of members banned, 0 <= x < 1; default 0.05 */
    double events_per_member; /* mean non-posting events per member, >= 0; default 5 */
    bool gzip;                /* write *.csv.gz instead of *.csv */
    bool quiet;               /* no progress output on stderr */
    int64_t start_time;       /* Unix seconds of the forum's first instant, >= 0;
                                 default 1420070400 (2015-01-01T00:00:00Z) */
} fora_synth_opts_t;

/* What was written.  replies == posts - threads (every non-first post replies). */
typedef struct fora_synth_stats {
    int64_t members;
    int64_t boards;
    int64_t threads;
    int64_t posts;
    int64_t events;
    int64_t replies;
    int64_t banned;
} fora_synth_stats_t;

/* Fills *o with the defaults listed above. */
void fora_synth_opts_default(fora_synth_opts_t *o);

/*
 * Generates the forum described by *o and writes the bundle and the truth
 * files into out_dir, which is created (with missing parents) if needed.
 * Existing files of the same names are overwritten; on failure the folder may
 * hold partial files.
 *
 * o         the options (not modified).
 * out_dir   the folder to write into.
 * stats     OUT: counts of what was written; may be NULL.
 * diag      detail of a failure; may be NULL.
 *
 * Returns FORA_OK; FORA_EINVAL for a bad option (diag names it: "members",
 * "posts", "boards", "months", "timezone", "forum_name", "key_players",
 * "ban_rate", "events_per_member", "start_time"); FORA_ENOMEM when the
 * per-member or per-month arrays cannot be allocated; FORA_EIO when the
 * folder or a file cannot be created or written (diag names the path).
 *
 * Time: O(members * months + posts + events), plus a sort of each month's
 * posts and events (linear radix sort).
 */
fora_err_t fora_synth_write(const fora_synth_opts_t *o, const char *out_dir,
                            fora_synth_stats_t *stats, fora_diag_t *diag) FORA_MUST_CHECK;

#endif /* FORA_SYNTH_H */
