/*
 * fora/linking.h - account linking from structure and timing alone:
 * fingerprints of members and of episodes of their activity, cosine
 * retrieval by blocked matrix products, and the retrieval evaluation of
 * Maneriker et al. (EMNLP 2021, "SYSML") without any text.
 *
 * A *row* is what gets a fingerprint: either a member's whole posting
 * history (episode_len 0) or one *episode*, L consecutive posts of one
 * member (episode_len L; a member's posts are cut from the first one on,
 * the last n mod L posts are left out).  Every row has five components,
 * each L2-normalised on its own (api-docs/linking.md has the formulas):
 *
 *  time group
 *   FORA_LINK_HOW      hour-of-week histogram of the posts (168 bins, local
 *                      time of the forum's zone, Monday 00:00 = bin 0)
 *                      smoothed by a circular Gaussian of sigma hours,
 *                      band-limited to `harmonics` weekly harmonics and kept
 *                      in the orthonormal real Fourier basis (1 + 2H
 *                      columns), so dot products equal those of the smoothed
 *                      168-bin histograms
 *   FORA_LINK_GAP      the gaps before each post of the row since the
 *                      member's previous post, on 16 log2-spaced bins from
 *                      one minute to 11 days, smoothed (1/4, 1/2, 1/4)
 *   FORA_LINK_SESSION  session shape: log posts per session, log session
 *                      minutes (sessions: runs of the member's posts with
 *                      gaps <= session_gap), share of replies, share of
 *                      thread openings; standardised over the rows
 *  context group
 *   FORA_LINK_EMBED    the mean over the row's posts of emb(thread) +
 *                      emb(board), node embeddings learned from
 *                      metapath2vec-style walks member-thread-member and
 *                      member-board-member (alternating) over the whole
 *                      snapshot: PPMI of the walk co-occurrences (window
 *                      `window`, context smoothing 0.75), factorised by a
 *                      seeded randomised subspace iteration; emb = U |L|^1/2
 *   FORA_LINK_CATEGORY distribution of the row's posts over board categories
 *                      (the FORA_LINK_MAX_CATEGORIES busiest, the rest pooled)
 *
 * When `centre` is set each component is centred on its mean over the rows
 * before normalising (reduces the hubness of distributions everybody
 * shares).  A component whose vector is zero (e.g. the gap of a member's
 * very first post) stays zero and its bit is set in zero_mask; similarity
 * with it is 0, never NaN.  The combined fingerprint of a view (a set of
 * weights) is the concatenation of w_c * component_c, normalised: its cosine
 * is sum_c w_c^2 cos_c / (|.| |.|), the weighted mean of the component
 * cosines when no component is zero.
 *
 * Members with no posts (or fewer than L) get no row: they are listed in
 * `skipped` with the reason.
 *
 * Randomness: one GSL MT19937 generator seeded with opts.seed (walks, the
 * subspace iteration's start, query sampling), so results are reproducible.
 * Matrix products use CBLAS (OpenBLAS when the build found it, else GSL's).
 *
 * Ownership: *_create/_compute allocate, the matching _destroy frees.
 * Thread safety: results are immutable; functions are reentrant.  Pure
 * computation, no I/O.
 */
#ifndef FORA_LINKING_H
#define FORA_LINKING_H

#include <stdbool.h>
#include <stdint.h>

#include "fora/error.h"
#include "fora/snapshot.h"
#include "fora/tzmap.h"

enum {
    FORA_LINK_HOW = 0,
    FORA_LINK_GAP,
    FORA_LINK_SESSION,
    FORA_LINK_EMBED,
    FORA_LINK_CATEGORY,
    FORA_LINK_NCOMP
};

/* The component names as reported ("hour_of_week", "gaps", ...). */
extern const char *const fora_link_comp_names[FORA_LINK_NCOMP];

#define FORA_LINK_GAP_BINS 16
#define FORA_LINK_SESSION_DIMS 4
#define FORA_LINK_MAX_CATEGORIES 32
#define FORA_LINK_MAX_EPISODE 1000

/* Why a member has no row. */
typedef enum fora_link_skip {
    FORA_LINK_SKIP_NO_POSTS = 1,  /* no posts */
    FORA_LINK_SKIP_TOO_FEW_POSTS, /* fewer posts than episode_len */
} fora_link_skip_t;

/* The reason's text ("no posts", "fewer posts than the episode length"). */
const char *fora_link_skip_reason(fora_link_skip_t r);

typedef struct fora_link_opts {
    int episode_len;        /* L posts per row; 0: one row per member (default 0) */
    double how_sigma;       /* hour-of-week kernel sigma in hours, > 0 (1.5) */
    int how_harmonics;      /* weekly harmonics kept, 1..84 (28) */
    int64_t session_gap;    /* seconds; a longer gap starts a new session (1800) */
    int embed_dim;          /* embedding columns, 2..128 (32) */
    int walks_per_member;   /* walks started at each posting member, 1..100 (4) */
    int walk_length;        /* member visits per walk, 2..200 (10) */
    int window;             /* co-occurrence window in walk steps, 1..20 (2) */
    int power_iters;        /* subspace iterations, 0..20 (3) */
    bool centre;            /* centre each component before normalising (true) */
    uint64_t seed;          /* RNG seed (1) */
    const fora_tzmap_t *tz; /* the forum's zone; NULL: UTC */
} fora_link_opts_t;

/* Fills *o with the defaults above. */
void fora_link_opts_default(fora_link_opts_t *o);

/* Component weights of a view: combined fingerprint = concat(w_c * comp_c). */
typedef struct fora_link_view {
    float w[FORA_LINK_NCOMP];
} fora_link_view_t;

/* The three views of the evaluation (weights documented in api-docs/linking.md). */
typedef enum {
    FORA_LINK_VIEW_TIME = 0,
    FORA_LINK_VIEW_CONTEXT,
    FORA_LINK_VIEW_BOTH
} fora_link_view_id_t;
#define FORA_LINK_NVIEWS 3
extern const char *const fora_link_view_names[FORA_LINK_NVIEWS]; /* "time", "context", "both" */
/* The weights of view v. */
fora_link_view_t fora_link_view_get(fora_link_view_id_t v);

/* Fingerprints of the rows of one snapshot. */
typedef struct fora_link_fp {
    int32_t n;                        /* rows */
    int32_t dim;                      /* columns of x */
    int32_t off[FORA_LINK_NCOMP + 1]; /* component c is columns [off[c], off[c+1]) */
    float *x;                         /* n x dim, row-major: unit (or zero) components */
    int32_t *member;                  /* member index of row r */
    int32_t *first_post;              /* post index of the row's first post */
    int32_t *nposts;                  /* posts in the row */
    uint8_t *zero_mask;               /* bit c: component c of row r is zero */
    int32_t *row_of_member;           /* member -> first row of the member, or -1 */
    int32_t nskipped;                 /* members without a row */
    int32_t *skipped;                 /* their member indices, ascending */
    uint8_t *skip_reason;             /* fora_link_skip_t of skipped[i] */
    int32_t ncategories;              /* category columns used */
    int32_t episode_len;              /* the option used */
} fora_link_fp_t;

/*
 * Computes the fingerprints of every member (or episode) of s.  EINVAL
 * naming the option that is out of range; ENOMEM; ENUMERIC if the
 * eigen-decomposition of the embedding fails.
 * Time complexity: O(P log T + W * window + (N_nodes * d) * (d + nnz/N_nodes) *
 * power_iters + rows * dim), W = walk tokens (members x walks x length x 2).
 */
fora_err_t fora_link_fingerprints(const fora_snapshot_t *s, const fora_link_opts_t *o,
                                  fora_link_fp_t **out, fora_diag_t *diag) FORA_MUST_CHECK;

void fora_link_fp_destroy(fora_link_fp_t *fp);

/*
 * Fills dst (n x dim floats) with the combined fingerprints of view v: row r
 * is concat(w_c * comp_c) divided by its norm (a zero row stays zero).
 * O(n * dim).
 */
void fora_link_fp_combine(const fora_link_fp_t *fp, const fora_link_view_t *v, float *dst);

/*
 * Similarity of rows a and b: the combined cosine under view v (*total) and
 * each component's cosine (comp[c], 0 when either side is zero).  O(dim).
 */
void fora_link_pair(const fora_link_fp_t *fp, int32_t a, int32_t b, const fora_link_view_t *v,
                    double *total, double comp[FORA_LINK_NCOMP]);

/* Cosine of two float vectors of length d (0 when either is zero; clamped to [-1, 1]).  O(d). */
double fora_link_cosine(const float *a, const float *b, int d);

/*
 * Top-k neighbours of every query row among all rows of a matrix: x (n x d,
 * rows unit or zero, row-major), queries q[0..nq) (row indices; NULL: all
 * rows), skipping the query row itself and, when `group` is non-NULL, every
 * row with the same group (e.g. rows of the same member).  Scores are dot
 * products computed by cblas_sgemm on blocks of queries x rows, each query
 * keeping a k-heap; ties are broken by the lower row index.  Results: idx and
 * score (nq x k, best first; -1 and 0 past the available rows).
 * EINVAL for k < 1 or k > 1000; ENOMEM.
 * All rows against all (q NULL, nq == n) computes only the blocks on and above
 * the diagonal of the symmetric score matrix and feeds both rows' heaps.
 * Time complexity: O(nq * n * d) flops + O(nq * n) comparisons + O(nq * k log k).
 * Memory: one block of scores (FORA_LINK_BLOCK^2 floats) plus the heaps.
 */
#define FORA_LINK_BLOCK 1024
fora_err_t fora_link_topk(const float *x, int32_t n, int32_t d, const int32_t *q, int32_t nq,
                          const int32_t *group, int k, int32_t *idx, float *score,
                          fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * Approximate all-rows top-k for large n: the rows are projected on the top
 * `proj_dim` right singular vectors of x (eigenvectors of x'x, GSL), the
 * `cand` best rows of each query are found in the projection by
 * fora_link_topk, and re-ranked by their exact dot products on x; so every
 * reported score is exact, and only a neighbour that the projection ranks
 * below `cand` can be missed.  proj_dim >= d (or 0) is fora_link_topk.
 * EINVAL unless 1 <= k <= cand <= 1000; ENOMEM; ENUMERIC.
 * Time complexity: O(n d^2 + n^2 proj_dim + n cand d).
 */
fora_err_t fora_link_topk_projected(const float *x, int32_t n, int32_t d, const int32_t *group,
                                    int k, int proj_dim, int cand, int32_t *idx, float *score,
                                    fora_diag_t *diag) FORA_MUST_CHECK;

/* ---- evaluation ------------------------------------------------------- */

/*
 * Rank of the first positive for one query: `greater` rows that are not
 * positives score above the best positive, `ties` non-positives equal it and
 * `m` positives share that best score; the expected rank under random
 * tie-breaking is 1 + greater + ties / (m + 1).
 */
static inline double fora_link_rank(int64_t greater, int64_t ties, int64_t m)
{
    return 1.0 + (double)greater + (double)ties / (double)(m + 1);
}

/*
 * Expected reciprocal rank and recall@k of the first of m positives among
 * N candidates (m positives, N - m others) in a uniformly random order.
 * O(N).
 */
void fora_link_random_expect(int64_t N, int64_t m, int k, double *rr, double *recall);

typedef struct fora_link_metrics {
    double mrr;       /* mean reciprocal rank of the first same-member row */
    double recall10;  /* share of queries with it in the top 10 */
    double mean_rank; /* mean rank */
} fora_link_metrics_t;

typedef struct fora_link_eval {
    int32_t per_member;                         /* rows kept per member (0: all) */
    int32_t rows;                               /* rows taking part */
    bool sampled;                               /* rows sampled by max_rows */
    int32_t queries;                            /* queries evaluated */
    int32_t candidates;                         /* rows ranked per query (rows - 1) */
    int32_t eligible;                           /* rows whose member has another row */
    fora_link_metrics_t view[FORA_LINK_NVIEWS]; /* per view */
    fora_link_metrics_t random;                 /* analytic random-order baseline */
    bool fitted;                                /* weights fitted (fora_link_evaluate_ex) */
    int32_t fold_queries[2];                    /* queries of each fold */
    /* the weights fold f fitted (used on the other fold's queries); fixed when !fitted */
    fora_link_view_t weights[2][FORA_LINK_NVIEWS];
} fora_link_eval_t;

/*
 * The retrieval protocol with the fixed view weights over all rows
 * (fora_link_evaluate_ex with per_member 0 and no fitting):
 * `kappa` query rows sampled without replacement
 * (seeded) among rows whose member has at least one other row (all of them
 * when fewer), each ranks every other row by its combined cosine under each
 * view; a positive is a row of the same member (or, when `target` is
 * non-NULL - one entry per member of the snapshot - a row of a member with
 * the same target: for sybils, target[m] = the smaller index of m and its
 * other half; target -1 never matches and is never queried).  Fills *out.  ENOTFOUND when no row
 * has a positive (with a clear message); ENOMEM. Time complexity: O(kappa * n * dim);
 * memory n x dim floats (one view at a time).
 */
fora_err_t fora_link_evaluate(const fora_link_fp_t *fp, const int32_t *target, int32_t kappa,
                              uint64_t seed, fora_link_eval_t *out,
                              fora_diag_t *diag) FORA_MUST_CHECK;

/* Options of the evaluation.  Fill with fora_link_eval_opts_default() first. */
typedef struct fora_link_eval_opts {
    int32_t queries;    /* kappa: query rows sampled, >= 1 (1000) */
    int32_t per_member; /* rows kept per member (or target): 0 all, or >= 2 (0) */
    int32_t max_rows;   /* more rows taking part: a random sample of whole members
                           (or targets) whose rows fit; 0 no limit (0) */
    bool fit;           /* fit each view's weights on half the members (true) */
    uint64_t seed;      /* query sample, the member-balanced pool, the folds (1) */
} fora_link_eval_opts_t;

void fora_link_eval_opts_default(fora_link_eval_opts_t *o);

/*
 * The protocol of fora_link_evaluate with two refinements.
 *
 * Member-balanced pool (per_member >= 2): each member (or target) keeps at
 * most per_member of its rows, chosen at random (seeded, independently of the
 * query sample), and the others take no part, neither as queries nor as
 * candidates; rows of target -1 all stay as distractors.  per_member 2 gives
 * one query-target pair per member with several rows and one distractor per
 * member with one, as in author-retrieval benchmarks with a query and a target
 * episode per author.  In the pooled protocol (per_member 0) a few prolific
 * members own most rows, so the random baseline is high and bounds what any
 * fingerprint can show against it: MRR <= 1, so a margin over random of at
 * most 1 / random.
 *
 * Sampled pool (max_rows > 0): when more rows than max_rows take part, whole
 * members (all their rows; rows of target -1 one by one) are taken in a
 * random order (seeded) while they fit, so that a large forum is measured on
 * a sample of its members at a bounded cost; `sampled` says so, and the
 * random baseline is that of the sample.
 *
 * Fitted views (fit): the sampled queries are split in two folds by their
 * member (a seeded hash, so a member's rows share a fold).  On each fold the
 * weights of every view are fitted to maximise that fold's MRR: time over the
 * time components, context over the context components, both over all five
 * started from each fitted ablation, so on its own fold it does at least as
 * well as either.  Coordinate ascent over a grid of
 * squared weights {0, 1/16 .. 16}; each query's candidate list is its best
 * 50 other rows under each component and under the fixed combined view plus
 * its best 32 positives; since those lists favour mixes, a fitted `both`
 * that does not beat the better ablation when the fold's own queries are
 * ranked exactly is replaced by it.  Each fold's weights then rank the other fold's
 * queries exactly, so no query is scored with weights fitted on its own
 * member.  Positives are the fold's own members' other rows - no link from
 * outside the forum is used.  A fold with fewer than 20 queries: no fitting,
 * fixed weights (fitted false).
 *
 * EINVAL for queries < 1, per_member 1 or < 0, max_rows < 0; ENOTFOUND when no row has a
 * positive; ENOMEM.
 * Time complexity: O(queries * rows * dim) flops (twice that when fitting)
 * plus O(queries * rows) per component to select the candidates.  Memory:
 * fp->n x dim floats, twice when the pool is balanced and fitted.
 */
fora_err_t fora_link_evaluate_ex(const fora_link_fp_t *fp, const int32_t *target,
                                 const fora_link_eval_opts_t *opts, fora_link_eval_t *out,
                                 fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * Synthetic sybils: a copy of s in which up to `count` members with at least
 * 2 * min_half posts (sampled, seeded) are split into two accounts at a random
 * post (each half keeps at least min_half posts): the posts from that one on
 * belong to a new member with ext id "EXT~sybil" (and the threads it then
 * opened).  Events are left out.  *pair_of gets, for each member of the new
 * snapshot, the index of its other half, or -1 (caller frees); *npairs the
 * number of members split.  EINVAL for count < 1 or min_half < 1;
 * ENOTFOUND when no member has enough posts; ENOMEM.
 * Time complexity: O(M + T + P) expected.
 */
fora_err_t fora_link_sybil_split(const fora_snapshot_t *s, int32_t count, int32_t min_half,
                                 uint64_t seed, fora_snapshot_t **out, int32_t **pair_of,
                                 int32_t *npairs, fora_diag_t *diag) FORA_MUST_CHECK;

#endif /* FORA_LINKING_H */
