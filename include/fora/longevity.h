/*
 * fora/longevity.h - how long members and threads last, and engagement
 * beyond posting.
 *
 * Member longevity turns a snapshot into right-censored observations
 * (time, event, group) for fora/survival.h (Kaplan-Meier with Greenwood
 * intervals, medians, horizons, log-rank): survival analysis itself is not
 * repeated here.  Definitions (api-docs/rhythms.md):
 *  - origin: registered_at, or the member's first post (members without one
 *    are left out, counted in `excluded`, as are members whose origin is
 *    after the end);
 *  - the end of the data: opts.end, or else the latest time in the snapshot
 *    (posts, member events, registrations, bans);
 *  - a member's last activity: their latest post or member event, or the
 *    origin when there is none (or when it is earlier);
 *  - events: a ban (banned_at <= end; a ban before the origin counts at time
 *    0), falling silent (end - last activity >= opts.silence: the event is
 *    at the last activity), or whichever of the two comes first; everyone
 *    else is censored at the end;
 *  - times are in days (seconds / 86400).
 * Thread lifespans: first to last post; a thread "dies" at its last post
 * when that is at least opts.silence before the end, otherwise it is
 * censored at the end.
 *
 * Ownership: *_compute allocates, *_destroy frees.  Thread safety:
 * reentrant.  Pure computation, no I/O.
 */
#ifndef FORA_LONGEVITY_H
#define FORA_LONGEVITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fora/error.h"
#include "fora/snapshot.h"
#include "fora/survival.h"
#include "fora/tzmap.h"

typedef enum fora_origin { FORA_ORIGIN_REGISTRATION, FORA_ORIGIN_FIRST_POST } fora_origin_t;

typedef enum fora_life_event {
    FORA_LIFE_BAN,
    FORA_LIFE_SILENCE,
    FORA_LIFE_BAN_OR_SILENCE
} fora_life_event_t;

typedef enum fora_life_group {
    FORA_LIFE_GROUP_NONE,
    FORA_LIFE_GROUP_STATUS,   /* member status */
    FORA_LIFE_GROUP_CATEGORY, /* board category of the member's first post (thread's board) */
    FORA_LIFE_GROUP_COHORT,   /* registration cohort (opts.cohort), in local time of opts.tz */
    FORA_LIFE_GROUP_GROUP     /* opts.member_group */
} fora_life_group_t;

typedef enum fora_cohort {
    FORA_COHORT_MONTH,   /* label "2024-03" */
    FORA_COHORT_QUARTER, /* "2024-Q1" */
    FORA_COHORT_YEAR     /* "2024" */
} fora_cohort_t;

/* Names: "registration" "first_post"; "ban" "silence" "ban_or_silence"; "none" "status"
 * "category" "cohort" "group"; "month" "quarter" "year".  Parsers: EINVAL naming `param`. */
fora_err_t fora_origin_parse(const char *s, const char *param, fora_origin_t *out,
                             fora_diag_t *diag) FORA_MUST_CHECK;
fora_err_t fora_life_event_parse(const char *s, const char *param, fora_life_event_t *out,
                                 fora_diag_t *diag) FORA_MUST_CHECK;
fora_err_t fora_life_group_parse(const char *s, const char *param, fora_life_group_t *out,
                                 fora_diag_t *diag) FORA_MUST_CHECK;
fora_err_t fora_cohort_parse(const char *s, const char *param, fora_cohort_t *out,
                             fora_diag_t *diag) FORA_MUST_CHECK;

typedef struct fora_longevity_opts {
    fora_origin_t origin;        /* FORA_ORIGIN_REGISTRATION */
    fora_life_event_t event;     /* FORA_LIFE_BAN_OR_SILENCE */
    int64_t silence;             /* seconds without activity that count as leaving (90 days), > 0 */
    int64_t end;                 /* FORA_TIME_NONE: the latest time in the snapshot */
    fora_life_group_t group_by;  /* FORA_LIFE_GROUP_NONE */
    fora_cohort_t cohort;        /* FORA_COHORT_MONTH */
    const fora_tzmap_t *tz;      /* for cohorts; NULL: UTC */
    const int32_t *member_group; /* GROUP: group of member i in [0, ngroups), or -1 (left out) */
    int32_t ngroups;
    const char *const *group_labels; /* GROUP: labels, or NULL for "0", "1", ... */
} fora_longevity_opts_t;

/* Sets the defaults above. */
void fora_longevity_opts_init(fora_longevity_opts_t *o);

/* Right-censored observations, one per member (or thread) taken. */
typedef struct fora_longevity {
    size_t n;            /* observations */
    int32_t *index;      /* n: the member (thread) index of each, increasing */
    double *time;        /* n: days from the origin to the event or to the end */
    uint8_t *event;      /* n: 1 = event, 0 = censored */
    int32_t *group;      /* n group indices; NULL without grouping */
    int64_t *origin;     /* n: the origin, Unix seconds */
    size_t ngroups;      /* 0 without grouping */
    char **group_labels; /* ngroups labels (cohorts in time order; pools in snapshot order) */
    int64_t end;         /* the end used */
    size_t excluded;     /* members (threads) left out */
} fora_longevity_t;

/*
 * Member longevity observations of s.  EINVAL naming a bad option
 * ("silence", "member_group", ...).  O(M + P + E) (+ O(M log M) for
 * cohorts).  An empty snapshot gives n = 0.
 */
fora_err_t fora_longevity_members(const fora_snapshot_t *s, const fora_longevity_opts_t *opts,
                                  fora_longevity_t **out, fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * Thread lifespans: one observation per thread with posts (others are
 * excluded), grouped by board category when group_by is CATEGORY (NONE
 * otherwise; other groupings are EINVAL "group_by").  Uses opts.silence and
 * opts.end.  O(T + P).
 */
fora_err_t fora_longevity_threads(const fora_snapshot_t *s, const fora_longevity_opts_t *opts,
                                  fora_longevity_t **out, fora_diag_t *diag) FORA_MUST_CHECK;

void fora_longevity_destroy(fora_longevity_t *l);

/* Kaplan-Meier, medians, horizons and log-rank of l: fora_survival_compute() on its
 * observations (see fora/survival.h for errors and complexity, O(n) plus the test). */
fora_err_t fora_longevity_survival(const fora_longevity_t *l, const fora_survival_opts_t *so,
                                   fora_survival_t **out, fora_diag_t *diag) FORA_MUST_CHECK;

/* ---------------------------------------------------------------------- */
/* activity of those still active                                           */
/* ---------------------------------------------------------------------- */

/* Medians of one group's members still active at a date. */
typedef struct fora_activity_medians {
    size_t n;        /* members still active */
    bool defined;    /* n >= 1; medians are 0 otherwise */
    double posts;    /* median posts written before the date */
    double replies;  /* median replies received before the date */
    double partners; /* median distinct partners before the date */
} fora_activity_medians_t;

typedef struct fora_activity {
    int64_t at;
    fora_activity_medians_t all;
    size_t ngroups;
    fora_activity_medians_t *groups; /* ngroups, by l's group index */
} fora_activity_t;

/*
 * Among l's members (from fora_longevity_members) still active at `at` -
 * origin <= at, and no event before `at` (origin + time > at when the
 * observation is an event) - the medians of their posts, replies received
 * and distinct partners, all counted over posts created before `at`.  A
 * reply is a post with an explicit reply_to whose author differs from the
 * author answered (deleted accounts take no part); partners are the
 * distinct members a member replied to or was replied to by.  O(P + M)
 * plus a radix sort of the replies.
 */
fora_err_t fora_activity_compute(const fora_snapshot_t *s, const fora_longevity_t *l, int64_t at,
                                 fora_activity_t **out, fora_diag_t *diag) FORA_MUST_CHECK;
void fora_activity_destroy(fora_activity_t *a);

/* ---------------------------------------------------------------------- */
/* engagement beyond posting                                                */
/* ---------------------------------------------------------------------- */

/* One member's involvement. */
typedef struct fora_involvement {
    int32_t member;      /* member index */
    int64_t events;      /* member events */
    int64_t downloads;   /* of which of the download kind */
    int64_t active_days; /* distinct UTC days with an event: the score */
} fora_involvement_t;

typedef struct fora_engagement {
    int64_t members;      /* members of the snapshot */
    int64_t posters;      /* members with at least one post */
    int64_t downloaders;  /* members with at least one download event */
    int64_t downloads;    /* download events */
    bool shares_defined;  /* members > 0 */
    double share_posters; /* posters / members */
    double share_downloaders;
    double span_days;                      /* from the first to the last post or event */
    bool rate_defined;                     /* members > 0 and span_days > 0 */
    double downloads_per_member_fortnight; /* downloads / members / (span_days / 14) */
    size_t nranked;             /* non-posting members with events ranked (at most `limit`) */
    fora_involvement_t *ranked; /* by score, then events, then member index */
    size_t nonposters_with_events;
} fora_engagement_t;

/*
 * Engagement of s: shares of posting and downloading members and the
 * download rate, and non-posting members ranked by involvement score - the
 * number of distinct UTC days on which they had any member event (so a
 * burst of clicks counts once a day), ties broken by their number of events
 * and then by member index.  `download_kind` names the event kind ("download";
 * unknown kinds simply count zero); `limit` caps the ranking.
 * O(M + P + E log E).
 */
fora_err_t fora_engagement_compute(const fora_snapshot_t *s, const char *download_kind,
                                   size_t limit, fora_engagement_t **out,
                                   fora_diag_t *diag) FORA_MUST_CHECK;
void fora_engagement_destroy(fora_engagement_t *e);

#endif /* FORA_LONGEVITY_H */
