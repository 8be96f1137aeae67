/*
 * fora/linking_cross.h - account linking ACROSS two forums: fingerprints of
 * the members of forum A and of forum B on the components that mean the
 * same thing in both, each A member's most similar B members (and back),
 * a ranked list of candidate pairs for review, and the evaluation of that
 * ranking against known pairs (never used as input), with a synthetic
 * migration protocol whose truth is known.  api-docs/linking.md, "Across
 * forums", has the definitions and the measured numbers.
 *
 * Components compared (from fora_link_fingerprints() on each snapshot,
 * whole-history rows, then selected and re-centred here):
 *   FORA_LINK_HOW      hour-of-week profile.  Frame COMMON (default): both
 *                      forums' posts are placed in the same zone (tz_a) - a
 *                      person's routine follows their own clock, the same
 *                      instant is the same hour of their day whichever forum
 *                      it is posted on.  Frame LOCAL: each forum in its own
 *                      zone (right when each forum's audience lives in its
 *                      zone and the accounts are different people's
 *                      counterparts; not for one person posting on both).
 *   FORA_LINK_GAP      inter-post gaps on log2 bins (zone-free)
 *   FORA_LINK_SESSION  session shape (standardised within each forum by
 *                      fora_link_fingerprints)
 *   FORA_LINK_CATEGORY distribution of the member's posts over the board
 *                      category NAMES used by both forums (at most
 *                      FORA_LINK_MAX_CATEGORIES, the busiest over both; posts
 *                      in other categories are left out); zero when the
 *                      forums share fewer than two names
 * FORA_LINK_EMBED is not compared: each forum's embedding is learned from
 * its own walks and its axes are arbitrary (a rotation, sign flips and a
 * different basis per forum), so cosines between two forums' embeddings
 * mean nothing; it has no columns here and is always in zero_mask.
 *
 * Centring (opts.centre): FORUM (default) subtracts from each component
 * each forum's own mean over its members before normalising - it removes
 * the rhythm and gap profile every member of that forum shares (the
 * forum's audience, its moderation pace) so what is compared is how a
 * member deviates from their own forum; POOLED subtracts the mean of both
 * forums' members; NONE compares the normalised raw profiles.
 *
 * Ownership: fora_link_cross_compute() allocates, fora_link_cross_destroy()
 * frees.  Thread safety: results are immutable, functions reentrant.  Pure
 * computation, no I/O.
 */
#ifndef FORA_LINKING_CROSS_H
#define FORA_LINKING_CROSS_H

#include <stdbool.h>
#include <stdint.h>

#include "fora/error.h"
#include "fora/linking.h"
#include "fora/snapshot.h"
#include "fora/tzmap.h"

typedef enum {
    FORA_LINK_CROSS_FRAME_COMMON = 0, /* both forums in tz_a */
    FORA_LINK_CROSS_FRAME_LOCAL,      /* A in tz_a, B in tz_b */
} fora_link_cross_frame_t;

typedef enum {
    FORA_LINK_CROSS_CENTRE_FORUM = 0, /* each forum on its own mean */
    FORA_LINK_CROSS_CENTRE_POOLED,    /* both on the mean over both */
    FORA_LINK_CROSS_CENTRE_NONE,
} fora_link_cross_centre_t;

/* The views of the cross comparison. */
typedef enum {
    FORA_LINK_CROSS_VIEW_TIME = 0, /* hour_of_week 1, gaps 1, session 0.5 */
    FORA_LINK_CROSS_VIEW_TIME_CAT, /* the same and category 0.5 */
} fora_link_cross_view_id_t;
#define FORA_LINK_CROSS_NVIEWS 2
extern const char
    *const fora_link_cross_view_names[FORA_LINK_CROSS_NVIEWS]; /* "time", "time_category" */
fora_link_view_t fora_link_cross_view_get(fora_link_cross_view_id_t v);

/* Notes on the comparison as a whole (bits of fora_link_cross_t.notes). */
typedef enum {
    FORA_LINK_CROSS_NOTE_NO_OVERLAP = 1u << 0,         /* the forums' post spans do not overlap */
    FORA_LINK_CROSS_NOTE_NO_SHARED_CATEGORY = 1u << 1, /* fewer than two shared category names */
    FORA_LINK_CROSS_NOTE_A_EMPTY = 1u << 2,            /* forum A has no member with posts */
    FORA_LINK_CROSS_NOTE_B_EMPTY = 1u << 3,            /* forum B has no member with posts */
} fora_link_cross_note_t;
#define FORA_LINK_CROSS_NNOTES 4

/* The note's text (one sentence saying what it means for the result). */
const char *fora_link_cross_note_text(fora_link_cross_note_t n);

/*
 * Why a member has no row: fora_link_skip_t (no posts), or this - fewer
 * than opts.min_posts posts.  A member with one post is one hour-of-week
 * bin, no gap and a session of one: thousands of such members look alike,
 * and their coincidental near-1 cosines would fill the candidate list.
 */
#define FORA_LINK_CROSS_SKIP_FEW_POSTS 16
/* The reason's text ("no posts", "fewer posts than min_posts: too little to compare"). */
const char *fora_link_cross_skip_reason(uint8_t r);

typedef struct fora_link_cross_opts {
    fora_link_opts_t fp;             /* how_sigma, how_harmonics, session_gap are used; episode_len
                                        must be 0; tz, centre and the embedding options are set here */
    const fora_tzmap_t *tz_a;        /* forum A's zone (NULL: UTC) */
    const fora_tzmap_t *tz_b;        /* forum B's zone (NULL: UTC; frame LOCAL only) */
    fora_link_cross_frame_t frame;   /* COMMON */
    fora_link_cross_centre_t centre; /* FORUM */
    fora_link_cross_view_id_t view;  /* ranking view: TIME */
    int k;                           /* neighbours kept each way, 1..1000 (10) */
    int min_posts;                   /* members with fewer posts get no row, 1..1000 (3) */
} fora_link_cross_opts_t;

void fora_link_cross_opts_default(fora_link_cross_opts_t *o);

/* One candidate pair: member a of A and member b of B. */
typedef struct fora_link_cross_pair {
    int32_t a, b;    /* member indices in A and in B */
    float score;     /* combined cosine under the ranking view */
    int16_t rank_ab; /* rank of b among a's top-k (1..k), 0: not there */
    int16_t rank_ba; /* rank of a among b's top-k, 0: not there */
    bool mutual;     /* each is in the other's top-k */
} fora_link_cross_pair_t;

typedef struct fora_link_cross {
    /* Stacked fingerprints: rows [0, na) are A's members, [na, na + nb) B's;
     * fp->member[r] is the member index in its own forum; row_of_member and
     * skipped of fp are unused (NULL / 0), see row_a, row_b, skipped_*. */
    fora_link_fp_t *fp;
    int32_t na, nb;
    int32_t members_a, members_b;   /* members of A and of B */
    int32_t *row_a;                 /* A member -> row, or -1 (size A's members) */
    int32_t *row_b;                 /* B member -> row (>= na), or -1 */
    int32_t nskipped_a, nskipped_b; /* members without a row and why */
    int32_t *skipped_a, *skipped_b; /* member indices, ascending */
    uint8_t *reason_a, *reason_b;   /* fora_link_skip_t or FORA_LINK_CROSS_SKIP_FEW_POSTS */
    int32_t nzero_a, nzero_b;       /* rows whose every compared component is zero */
    int k;
    int32_t *top_ab; /* na x k: B member indices, best first, -1 past the end */
    float *score_ab; /* na x k */
    int32_t *top_ba; /* nb x k: A member indices */
    float *score_ba;
    int32_t npairs;                           /* candidate pairs: union of both top-k lists */
    fora_link_cross_pair_t *pairs;            /* by score descending, then a, then b */
    int32_t nshared;                          /* category names used by both forums (columns) */
    int32_t *shared_cat_a;                    /* their indices in A's category table */
    int64_t a_first, a_last, b_first, b_last; /* post time spans (FORA_TIME_NONE: no posts) */
    int64_t overlap;                          /* seconds both spans share (0 when none) */
    uint32_t notes;                           /* fora_link_cross_note_t bits */
    fora_link_cross_view_id_t view;           /* the ranking view */
} fora_link_cross_t;

/*
 * Fingerprints a and b (fora_link_fingerprints() on each, with a minimal
 * embedding that is discarded), keeps the members with at least
 * opts.min_posts posts (the others are in skipped_* with the reason) and
 * the compared components, centres
 * them (opts.centre) and normalises, and finds for every A row its k
 * nearest B rows and for every B row its k nearest A rows under the
 * ranking view, by blocked CBLAS products (fora_link_topk on the stacked
 * rows with A and B as the two groups, so A never matches A).  Rows whose
 * compared components are all zero are left out of the search (their
 * lists are empty).  EINVAL naming a bad option; ENOMEM; ENUMERIC.
 * Time complexity: O(fingerprints of a and b + (na + nb)^2 * dim) flops,
 * dim = 1 + 2H + 16 + 4 + nshared; memory O((na + nb) * (dim + k)).
 */
fora_err_t fora_link_cross_compute(const fora_snapshot_t *a, const fora_snapshot_t *b,
                                   const fora_link_cross_opts_t *o, fora_link_cross_t **out,
                                   fora_diag_t *diag) FORA_MUST_CHECK;

void fora_link_cross_destroy(fora_link_cross_t *c);

/*
 * Similarity of member ma of A and member mb of B: combined cosine under
 * view v (*total) and each component's cosine (comp[FORA_LINK_EMBED] is
 * always 0: not compared).  false (and zeros) when either has no row.  O(dim).
 */
bool fora_link_cross_similarity(const fora_link_cross_t *c, int32_t ma, int32_t mb,
                                fora_link_cross_view_id_t v, double *total,
                                double comp[FORA_LINK_NCOMP]);

/* Retrieval metrics of one direction. */
typedef struct fora_link_cross_dir {
    int32_t queries;                                  /* members queried */
    int32_t candidates;                               /* rows of the other forum ranked */
    fora_link_metrics_t view[FORA_LINK_CROSS_NVIEWS]; /* per view */
    fora_link_metrics_t random;                       /* analytic random-order baseline */
} fora_link_cross_dir_t;

typedef struct fora_link_cross_eval {
    int32_t pairs;            /* known pairs given */
    int32_t usable;           /* both members fingerprinted */
    int32_t unfingerprinted;  /* pairs with a member without a row (not evaluated) */
    fora_link_cross_dir_t ab; /* each A member of a pair ranks all B rows */
    fora_link_cross_dir_t ba; /* each B member ranks all A rows */
    int32_t in_candidates;    /* usable pairs that are in the candidate list */
    int32_t in_mutual;        /* usable pairs that are mutual candidates */
    int32_t mutual_pairs;     /* mutual pairs in the list */
    double precision_at_10;   /* share of known pairs among the 10 best candidates */
    double precision_at_100;  /* ... among the 100 best (fewer when the list is shorter) */
    double mutual_precision;  /* share of known pairs among the mutual candidates */
} fora_link_cross_eval_t;

/*
 * Evaluates c against n known pairs (pa[i] a member of A, pb[i] of B):
 * for each A member of a usable pair, every B row ranked by combined
 * cosine under each view; the first of its known B accounts gives the rank
 * (ties in expectation, fora_link_rank), so MRR, R@10 and mean rank; and
 * the same from B to A; beside the analytic random baseline
 * (fora_link_random_expect).  Also the precision of the candidate list.
 * Known pairs are used here only, never as input of the fingerprints or
 * the ranking.  ENOTFOUND (message says why) when no pair is usable;
 * EINVAL for a member index out of range.
 * Time complexity: O(queries * (na + nb) * dim + npairs).
 */
fora_err_t fora_link_cross_evaluate(const fora_link_cross_t *c, const int32_t *pa,
                                    const int32_t *pb, int32_t n, fora_link_cross_eval_t *out,
                                    fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * Synthetic migration: forum s cut at instant `cut` into A (the posts
 * before it, with the threads that have one, and every member who posted
 * before it or never posted) and B (the posts from `cut` on, with their
 * threads; every member who posted then gets a NEW account "EXT~after"
 * with a new database id; a thread's starter is their B account or none,
 * a reply to a post before the cut is no reply).  *pair_b gets, for each
 * member of A, the index of their B account or -1 (caller frees);
 * *npairs the members with both.  The two forums do not overlap in time
 * by construction.  EINVAL when either side has no post; ENOMEM.
 * Time complexity: O(M + T + P) expected.
 */
fora_err_t fora_link_migration_split(const fora_snapshot_t *s, int64_t cut, fora_snapshot_t **a,
                                     fora_snapshot_t **b, int32_t **pair_b, int32_t *npairs,
                                     fora_diag_t *diag) FORA_MUST_CHECK;

#endif /* FORA_LINKING_CROSS_H */
