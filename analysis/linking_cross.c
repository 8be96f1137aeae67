/*
 * analysis/linking_cross.c - account linking across two forums: the
 * comparable components of both forums' fingerprints, top-k both ways by
 * blocked CBLAS products, candidate pairs, evaluation against known pairs
 * and the synthetic migration split (fora/linking_cross.h,
 * api-docs/linking.md "Across forums").
 */
#include "fora/linking_cross.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cblas.h>

#include "linking_internal.h"

const char *const fora_link_cross_view_names[FORA_LINK_CROSS_NVIEWS] = {"time", "time_category"};

fora_link_view_t fora_link_cross_view_get(fora_link_cross_view_id_t v)
{
    fora_link_view_t w = {{1.0f, 1.0f, 0.5f, 0.0f, 0.0f}};
    if (v == FORA_LINK_CROSS_VIEW_TIME_CAT) w.w[FORA_LINK_CATEGORY] = 0.5f;
    return w;
}

const char *fora_link_cross_note_text(fora_link_cross_note_t n)
{
    switch (n) {
    case FORA_LINK_CROSS_NOTE_NO_OVERLAP:
        return "the forums have no overlap in time: nobody can be seen active on both at once; "
               "hour-of-week, gaps and session shape describe routine, not dates, and are "
               "still compared (as for a migration from one forum to the other)";
    case FORA_LINK_CROSS_NOTE_NO_SHARED_CATEGORY:
        return "the forums share fewer than two board category names: the category component "
               "is not compared";
    case FORA_LINK_CROSS_NOTE_A_EMPTY:
        return "forum A has no member with posts: there is nothing to compare";
    case FORA_LINK_CROSS_NOTE_B_EMPTY:
        return "forum B has no member with posts: there is nothing to compare";
    }
    return "unknown";
}

void fora_link_cross_opts_default(fora_link_cross_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    fora_link_opts_default(&o->fp);
    o->frame = FORA_LINK_CROSS_FRAME_COMMON;
    o->centre = FORA_LINK_CROSS_CENTRE_FORUM;
    o->view = FORA_LINK_CROSS_VIEW_TIME;
    o->k = 10;
    o->min_posts = 3;
}

void fora_link_cross_destroy(fora_link_cross_t *c)
{
    if (c == NULL) return;
    fora_link_fp_destroy(c->fp);
    free(c->row_a);
    free(c->row_b);
    free(c->skipped_a);
    free(c->skipped_b);
    free(c->reason_a);
    free(c->reason_b);
    free(c->top_ab);
    free(c->score_ab);
    free(c->top_ba);
    free(c->score_ba);
    free(c->pairs);
    free(c->shared_cat_a);
    free(c);
}

/* Normalises v[0..n); false (and zeroed) when it is zero. */

/* Posts per category index of s (size s->categories.n). */
static int64_t *category_counts(const fora_snapshot_t *s)
{
    int64_t *cnt = calloc((size_t)(s->categories.n > 0 ? s->categories.n : 1), sizeof(*cnt));
    if (!cnt) return NULL;
    for (int32_t p = 0; p < s->posts.n; p++)
        cnt[s->boards.category[s->threads.board[s->posts.thread[p]]]]++;
    return cnt;
}

typedef struct {
    int64_t total;
    int32_t ka, kb;
} shared_t;

static int shared_cmp(const void *x, const void *y)
{
    const shared_t *a = x, *b = y;
    if (a->total != b->total) return a->total > b->total ? -1 : 1;
    return a->ka < b->ka ? -1 : a->ka > b->ka;
}

/* Category column of every category index of s (-1: not shared). */
static fora_err_t shared_categories(const fora_snapshot_t *a, const fora_snapshot_t *b,
                                    fora_link_cross_t *c, int32_t **col_a, int32_t **col_b,
                                    fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    int64_t *ca = category_counts(a), *cb = category_counts(b);
    shared_t *sh = malloc(sizeof(*sh) * (size_t)(a->categories.n > 0 ? a->categories.n : 1));
    *col_a = malloc(sizeof(int32_t) * (size_t)(a->categories.n > 0 ? a->categories.n : 1));
    *col_b = malloc(sizeof(int32_t) * (size_t)(b->categories.n > 0 ? b->categories.n : 1));
    if (!ca || !cb || !sh || !*col_a || !*col_b) {
        err = fora_diag_set(diag, FORA_ENOMEM, "out of memory matching category names");
        goto out;
    }
    int32_t n = 0;
    for (int32_t k = 0; k < a->categories.n; k++) {
        (*col_a)[k] = -1;
        if (ca[k] == 0) continue;
        const char *name = fora_strpool_get(&a->categories, k);
        int32_t kb = fora_snapshot_category_index(b, name);
        if (kb < 0 || cb[kb] == 0) continue;
        sh[n].total = ca[k] + cb[kb];
        sh[n].ka = k;
        sh[n].kb = kb;
        n++;
    }
    for (int32_t k = 0; k < b->categories.n; k++)
        (*col_b)[k] = -1;
    qsort(sh, (size_t)n, sizeof(*sh), shared_cmp);
    if (n > FORA_LINK_MAX_CATEGORIES) n = FORA_LINK_MAX_CATEGORIES;
    if (n < 2) {
        c->notes |= FORA_LINK_CROSS_NOTE_NO_SHARED_CATEGORY;
        n = 0;
    }
    c->shared_cat_a = malloc(sizeof(int32_t) * (size_t)(n > 0 ? n : 1));
    if (!c->shared_cat_a) {
        err = fora_diag_set(diag, FORA_ENOMEM, "out of memory matching category names");
        goto out;
    }
    for (int32_t i = 0; i < n; i++) {
        (*col_a)[sh[i].ka] = i;
        (*col_b)[sh[i].kb] = i;
        c->shared_cat_a[i] = sh[i].ka;
    }
    c->nshared = n;
out:
    free(ca);
    free(cb);
    free(sh);
    return err;
}

/* Centres component [o0, o1) of rows [r0, r1) on the mean over their non-zero rows. */
static void centre_rows(double *X, int dim, int32_t r0, int32_t r1, int o0, int o1,
                        const double *mean_in, double *mean_out)
{
    if (mean_out) {
        int64_t used = 0;
        memset(mean_out + o0, 0, (size_t)(o1 - o0) * sizeof(*mean_out));
        for (int32_t r = r0; r < r1; r++) {
            const double *x = X + (size_t)r * dim;
            bool nz = false;
            for (int k = o0; k < o1; k++)
                if (x[k] != 0.0) nz = true;
            if (!nz) continue;
            used++;
            for (int k = o0; k < o1; k++)
                mean_out[k] += x[k];
        }
        for (int k = o0; k < o1; k++)
            mean_out[k] /= used > 0 ? (double)used : 1.0;
        return;
    }
    for (int32_t r = r0; r < r1; r++) {
        double *x = X + (size_t)r * dim;
        bool nz = false;
        for (int k = o0; k < o1; k++)
            if (x[k] != 0.0) nz = true;
        if (!nz) continue; /* a zero component stays zero */
        for (int k = o0; k < o1; k++)
            x[k] -= mean_in[k];
    }
}

/*
 * The rows of f kept (at least min_posts posts): their indices in keep[],
 * *nkeep; row_of[m] the kept row of member m (0-based among the kept) or -1;
 * the members without a kept row, ascending, with their reasons.
 */
static fora_err_t keep_rows(const fora_link_fp_t *f, int32_t M, int min_posts, int32_t *keep,
                            int32_t *nkeep, int32_t *row_of, int32_t *nskip, int32_t **skipped,
                            uint8_t **reason, fora_diag_t *diag)
{
    *nkeep = 0;
    for (int32_t m = 0; m < M; m++)
        row_of[m] = -1;
    for (int32_t r = 0; r < f->n; r++)
        if (f->nposts[r] >= min_posts) {
            row_of[f->member[r]] = *nkeep;
            keep[(*nkeep)++] = r;
        }
    const int32_t ns = M - *nkeep;
    *skipped = malloc(sizeof(**skipped) * (size_t)(ns > 0 ? ns : 1));
    *reason = malloc((size_t)(ns > 0 ? ns : 1));
    if (!*skipped || !*reason)
        return fora_diag_set(diag, FORA_ENOMEM, "out of memory in cross-forum linking");
    int32_t j = 0, i = 0;
    for (int32_t m = 0; m < M; m++) {
        if (row_of[m] >= 0) continue;
        while (j < f->nskipped && f->skipped[j] < m)
            j++;
        (*skipped)[i] = m;
        (*reason)[i++] = j < f->nskipped && f->skipped[j] == m ? f->skip_reason[j]
                                                               : FORA_LINK_CROSS_SKIP_FEW_POSTS;
    }
    *nskip = i;
    return FORA_OK;
}

const char *fora_link_cross_skip_reason(uint8_t r)
{
    if (r == FORA_LINK_CROSS_SKIP_FEW_POSTS)
        return "fewer posts than min_posts: too little to compare";
    return fora_link_skip_reason((fora_link_skip_t)r);
}

typedef struct {
    int32_t a, b, rab, rba;
} cand_t;

static int cand_ab_cmp(const void *x, const void *y)
{
    const cand_t *p = x, *q = y;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    return p->b < q->b ? -1 : p->b > q->b;
}

static int pair_cmp(const void *x, const void *y)
{
    const fora_link_cross_pair_t *p = x, *q = y;
    if (p->score != q->score) return p->score > q->score ? -1 : 1;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    return p->b < q->b ? -1 : p->b > q->b;
}

static int64_t span_first(const fora_snapshot_t *s)
{
    return s->posts.n > 0 ? s->posts.created_at[0] : FORA_TIME_NONE;
}
static int64_t span_last(const fora_snapshot_t *s)
{
    return s->posts.n > 0 ? s->posts.created_at[s->posts.n - 1] : FORA_TIME_NONE;
}

fora_err_t fora_link_cross_compute(const fora_snapshot_t *a, const fora_snapshot_t *b,
                                   const fora_link_cross_opts_t *o, fora_link_cross_t **out,
                                   fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    fora_link_cross_t *c = NULL;
    fora_link_fp_t *fa = NULL, *fb = NULL, *fp = NULL;
    int32_t *col_a = NULL, *col_b = NULL, *keep_a = NULL, *keep_b = NULL, *act = NULL, *grp = NULL,
            *qa = NULL, *qb = NULL, *idx = NULL;
    double *X = NULL, *mean = NULL, *mean2 = NULL;
    float *W = NULL, *score = NULL;
    cand_t *cand = NULL;

    *out = NULL;
    if (o->k < 1 || o->k > 1000)
        return fora_diag_set(diag, FORA_EINVAL, "k must be 1..1000, not %d", o->k);
    if (o->fp.episode_len != 0)
        return fora_diag_set(diag, FORA_EINVAL,
                             "cross-forum linking compares whole histories: episode_len must be "
                             "0, not %d",
                             o->fp.episode_len);
    if (o->min_posts < 1 || o->min_posts > 1000)
        return fora_diag_set(diag, FORA_EINVAL, "min_posts must be 1..1000, not %d", o->min_posts);
    if ((unsigned)o->frame > FORA_LINK_CROSS_FRAME_LOCAL)
        return fora_diag_set(diag, FORA_EINVAL, "frame must be common or local");
    if ((unsigned)o->centre > FORA_LINK_CROSS_CENTRE_NONE)
        return fora_diag_set(diag, FORA_EINVAL, "centre must be forum, pooled or none");
    if ((unsigned)o->view >= FORA_LINK_CROSS_NVIEWS)
        return fora_diag_set(diag, FORA_EINVAL, "view must be time or time_category");

    /* each forum's fingerprints: raw (uncentred) components; the embedding is
     * not compared, so it is computed as cheaply as the options allow */
    fora_link_opts_t fo = o->fp;
    fo.episode_len = 0;
    fo.centre = false;
    fo.embed_dim = 2;
    fo.walks_per_member = 1;
    fo.walk_length = 2;
    fo.window = 1;
    fo.power_iters = 0;
    fo.tz = o->tz_a;
    if ((err = fora_link_fingerprints(a, &fo, &fa, diag)) != FORA_OK) goto out;
    fo.tz = o->frame == FORA_LINK_CROSS_FRAME_LOCAL ? o->tz_b : o->tz_a;
    if ((err = fora_link_fingerprints(b, &fo, &fb, diag)) != FORA_OK) goto out;

    c = calloc(1, sizeof(*c));
    fp = calloc(1, sizeof(*fp));
    if (!c || !fp) goto nomem;
    c->fp = fp;
    c->k = o->k;
    c->view = o->view;
    c->members_a = a->members.n;
    c->members_b = b->members.n;
    c->row_a = malloc(sizeof(int32_t) * (size_t)(a->members.n > 0 ? a->members.n : 1));
    c->row_b = malloc(sizeof(int32_t) * (size_t)(b->members.n > 0 ? b->members.n : 1));
    keep_a = malloc(sizeof(int32_t) * (size_t)(fa->n > 0 ? fa->n : 1));
    keep_b = malloc(sizeof(int32_t) * (size_t)(fb->n > 0 ? fb->n : 1));
    if (!c->row_a || !c->row_b || !keep_a || !keep_b) goto nomem;
    if ((err = keep_rows(fa, a->members.n, o->min_posts, keep_a, &c->na, c->row_a, &c->nskipped_a,
                         &c->skipped_a, &c->reason_a, diag)) != FORA_OK)
        goto out;
    if ((err = keep_rows(fb, b->members.n, o->min_posts, keep_b, &c->nb, c->row_b, &c->nskipped_b,
                         &c->skipped_b, &c->reason_b, diag)) != FORA_OK)
        goto out;
    for (int32_t m = 0; m < b->members.n; m++)
        if (c->row_b[m] >= 0) c->row_b[m] += c->na;
    if (c->na == 0) c->notes |= FORA_LINK_CROSS_NOTE_A_EMPTY;
    if (c->nb == 0) c->notes |= FORA_LINK_CROSS_NOTE_B_EMPTY;
    c->a_first = span_first(a);
    c->a_last = span_last(a);
    c->b_first = span_first(b);
    c->b_last = span_last(b);
    if (a->posts.n > 0 && b->posts.n > 0) {
        int64_t lo = c->a_first > c->b_first ? c->a_first : c->b_first;
        int64_t hi = c->a_last < c->b_last ? c->a_last : c->b_last;
        c->overlap = hi > lo ? hi - lo : 0;
        if (hi < lo) c->notes |= FORA_LINK_CROSS_NOTE_NO_OVERLAP;
    } else {
        c->notes |= FORA_LINK_CROSS_NOTE_NO_OVERLAP;
    }
    if ((err = shared_categories(a, b, c, &col_a, &col_b, diag)) != FORA_OK) goto out;

    /* the stacked rows: A's then B's; embedding without columns */
    const int nhow = fa->off[FORA_LINK_HOW + 1] - fa->off[FORA_LINK_HOW];
    fp->off[FORA_LINK_HOW] = 0;
    fp->off[FORA_LINK_GAP] = nhow;
    fp->off[FORA_LINK_SESSION] = nhow + FORA_LINK_GAP_BINS;
    fp->off[FORA_LINK_EMBED] = fp->off[FORA_LINK_SESSION] + FORA_LINK_SESSION_DIMS;
    fp->off[FORA_LINK_CATEGORY] = fp->off[FORA_LINK_EMBED];
    fp->off[FORA_LINK_NCOMP] = fp->off[FORA_LINK_CATEGORY] + c->nshared;
    fp->dim = fp->off[FORA_LINK_NCOMP];
    fp->ncategories = c->nshared;
    const int dim = fp->dim;
    const int32_t n = c->na + c->nb, na = c->na;
    fp->n = n;
    const size_t n1 = (size_t)(n > 0 ? n : 1);
    fp->x = malloc(n1 * (size_t)dim * sizeof(*fp->x));
    fp->member = malloc(n1 * sizeof(*fp->member));
    fp->first_post = malloc(n1 * sizeof(*fp->first_post));
    fp->nposts = malloc(n1 * sizeof(*fp->nposts));
    fp->zero_mask = calloc(n1, 1);
    X = calloc(n1 * (size_t)dim, sizeof(*X));
    if (!fp->x || !fp->member || !fp->first_post || !fp->nposts || !fp->zero_mask || !X) goto nomem;
    for (int32_t r = 0; r < n; r++) {
        const fora_link_fp_t *src = r < na ? fa : fb;
        const int32_t sr = r < na ? keep_a[r] : keep_b[r - na];
        const float *sx = src->x + (size_t)sr * src->dim;
        double *x = X + (size_t)r * dim;
        for (int k = 0; k < nhow; k++)
            x[k] = sx[src->off[FORA_LINK_HOW] + k];
        for (int k = 0; k < FORA_LINK_GAP_BINS; k++)
            x[fp->off[FORA_LINK_GAP] + k] = sx[src->off[FORA_LINK_GAP] + k];
        for (int k = 0; k < FORA_LINK_SESSION_DIMS; k++)
            x[fp->off[FORA_LINK_SESSION] + k] = sx[src->off[FORA_LINK_SESSION] + k];
        fp->member[r] = src->member[sr];
        fp->first_post[r] = src->first_post[sr];
        fp->nposts[r] = src->nposts[sr];
    }
    /* category distribution over the shared names */
    if (c->nshared > 0) {
        for (int side = 0; side < 2; side++) {
            const fora_snapshot_t *s = side ? b : a;
            const int32_t *col = side ? col_b : col_a;
            const int32_t *rowm = side ? c->row_b : c->row_a;
            for (int32_t p = 0; p < s->posts.n; p++) {
                int32_t m = s->posts.author[p];
                if (m < 0 || rowm[m] < 0) continue;
                int32_t k = col[s->boards.category[s->threads.board[s->posts.thread[p]]]];
                if (k >= 0) X[(size_t)rowm[m] * dim + fp->off[FORA_LINK_CATEGORY] + k] += 1;
            }
        }
        for (int32_t r = 0; r < n; r++)
            fora__link_unit(X + (size_t)r * dim + fp->off[FORA_LINK_CATEGORY], c->nshared);
    }
    /* centring (the session is standardised within each forum already) */
    mean = calloc((size_t)dim, sizeof(*mean));
    mean2 = calloc((size_t)dim, sizeof(*mean2));
    if (!mean || !mean2) goto nomem;
    static const int centred[3] = {FORA_LINK_HOW, FORA_LINK_GAP, FORA_LINK_CATEGORY};
    for (int ci = 0; ci < 3; ci++) {
        const int cc = centred[ci], o0 = fp->off[cc], o1 = fp->off[cc + 1];
        if (o1 == o0) continue;
        if (o->centre == FORA_LINK_CROSS_CENTRE_FORUM) {
            centre_rows(X, dim, 0, na, o0, o1, NULL, mean);
            centre_rows(X, dim, na, n, o0, o1, NULL, mean2);
            centre_rows(X, dim, 0, na, o0, o1, mean, NULL);
            centre_rows(X, dim, na, n, o0, o1, mean2, NULL);
        } else if (o->centre == FORA_LINK_CROSS_CENTRE_POOLED) {
            centre_rows(X, dim, 0, n, o0, o1, NULL, mean);
            centre_rows(X, dim, 0, n, o0, o1, mean, NULL);
        }
    }
    for (int32_t r = 0; r < n; r++) {
        double *x = X + (size_t)r * dim;
        for (int cc = 0; cc < FORA_LINK_NCOMP; cc++)
            if (!fora__link_unit(x + fp->off[cc], fp->off[cc + 1] - fp->off[cc]))
                fp->zero_mask[r] |= (uint8_t)(1u << cc);
        for (int k = 0; k < dim; k++)
            fp->x[(size_t)r * dim + k] = (float)x[k];
    }

    /* top-k both ways on the rows with a non-zero combined vector */
    const int k = o->k;
    c->top_ab = malloc(sizeof(int32_t) * (size_t)(na > 0 ? na : 1) * (size_t)k);
    c->score_ab = malloc(sizeof(float) * (size_t)(na > 0 ? na : 1) * (size_t)k);
    c->top_ba = malloc(sizeof(int32_t) * (size_t)(c->nb > 0 ? c->nb : 1) * (size_t)k);
    c->score_ba = malloc(sizeof(float) * (size_t)(c->nb > 0 ? c->nb : 1) * (size_t)k);
    W = malloc(n1 * (size_t)dim * sizeof(*W));
    act = malloc(n1 * sizeof(*act));
    grp = malloc(n1 * sizeof(*grp));
    qa = malloc(n1 * sizeof(*qa));
    qb = malloc(n1 * sizeof(*qb));
    if (!c->top_ab || !c->score_ab || !c->top_ba || !c->score_ba || !W || !act || !grp || !qa ||
        !qb)
        goto nomem;
    for (size_t i = 0; i < (size_t)na * k; i++) {
        c->top_ab[i] = -1;
        c->score_ab[i] = 0;
    }
    for (size_t i = 0; i < (size_t)c->nb * k; i++) {
        c->top_ba[i] = -1;
        c->score_ba[i] = 0;
    }
    const fora_link_view_t view = fora_link_cross_view_get(o->view);
    fora_link_fp_combine(fp, &view, W);
    int32_t nact = 0, nqa = 0, nqb = 0;
    for (int32_t r = 0; r < n; r++) {
        const float *w = W + (size_t)r * dim;
        bool nz = false;
        for (int j = 0; j < dim && !nz; j++)
            nz = w[j] != 0.0f;
        if (!nz) {
            if (r < na)
                c->nzero_a++;
            else
                c->nzero_b++;
            continue;
        }
        if (nact != r) memmove(W + (size_t)nact * dim, w, (size_t)dim * sizeof(*W));
        act[nact] = r;
        grp[nact] = r < na ? 0 : 1;
        if (r < na)
            qa[nqa++] = nact;
        else
            qb[nqb++] = nact;
        nact++;
    }
    int64_t ncand = 0;
    if (nqa > 0 && nqb > 0) {
        int32_t nq = nqa > nqb ? nqa : nqb;
        idx = malloc(sizeof(*idx) * (size_t)nq * (size_t)k);
        score = malloc(sizeof(*score) * (size_t)nq * (size_t)k);
        cand = malloc(sizeof(*cand) * ((size_t)nqa + (size_t)nqb) * (size_t)k);
        if (!idx || !score || !cand) goto nomem;
        for (int side = 0; side < 2; side++) {
            const int32_t *q = side ? qb : qa;
            const int32_t nqs = side ? nqb : nqa;
            if ((err = fora_link_topk(W, nact, dim, q, nqs, grp, k, idx, score, diag)) != FORA_OK)
                goto out;
            for (int32_t i = 0; i < nqs; i++) {
                const int32_t r = act[q[i]];
                const int32_t self = fp->member[r];
                int32_t *top = side ? c->top_ba + (size_t)(r - na) * k : c->top_ab + (size_t)r * k;
                float *sc = side ? c->score_ba + (size_t)(r - na) * k : c->score_ab + (size_t)r * k;
                for (int j = 0; j < k; j++) {
                    const int32_t o2 = idx[(size_t)i * k + j];
                    if (o2 < 0) break;
                    const int32_t other = fp->member[act[o2]];
                    top[j] = other;
                    sc[j] = score[(size_t)i * k + j];
                    cand_t *e = &cand[ncand++];
                    e->a = side ? other : self;
                    e->b = side ? self : other;
                    e->rab = side ? 0 : j + 1;
                    e->rba = side ? j + 1 : 0;
                }
            }
        }
    }
    /* candidate pairs: the union of both lists, merged, scored exactly */
    if (ncand > 0) qsort(cand, (size_t)ncand, sizeof(*cand), cand_ab_cmp);
    int64_t np = 0;
    for (int64_t i = 0; i < ncand; i++) {
        if (np > 0 && cand[np - 1].a == cand[i].a && cand[np - 1].b == cand[i].b) {
            if (cand[i].rab) cand[np - 1].rab = cand[i].rab;
            if (cand[i].rba) cand[np - 1].rba = cand[i].rba;
        } else {
            cand[np++] = cand[i];
        }
    }
    c->pairs = malloc(sizeof(*c->pairs) * (size_t)(np > 0 ? np : 1));
    if (!c->pairs) goto nomem;
    for (int64_t i = 0; i < np; i++) {
        fora_link_cross_pair_t *p = &c->pairs[i];
        double tot, comp[FORA_LINK_NCOMP];
        fora_link_pair(fp, c->row_a[cand[i].a], c->row_b[cand[i].b], &view, &tot, comp);
        p->a = cand[i].a;
        p->b = cand[i].b;
        p->score = (float)tot;
        p->rank_ab = (int16_t)cand[i].rab;
        p->rank_ba = (int16_t)cand[i].rba;
        p->mutual = cand[i].rab > 0 && cand[i].rba > 0;
    }
    c->npairs = (int32_t)np;
    qsort(c->pairs, (size_t)np, sizeof(*c->pairs), pair_cmp);
    *out = c;
    c = NULL;
    goto out;
nomem:
    err = fora_diag_set(diag, FORA_ENOMEM, "out of memory in cross-forum linking");
out:
    fora_link_cross_destroy(c);
    fora_link_fp_destroy(fa);
    fora_link_fp_destroy(fb);
    free(col_a);
    free(col_b);
    free(keep_a);
    free(keep_b);
    free(act);
    free(grp);
    free(qa);
    free(qb);
    free(idx);
    free(X);
    free(mean);
    free(mean2);
    free(W);
    free(score);
    free(cand);
    return err;
}

bool fora_link_cross_similarity(const fora_link_cross_t *c, int32_t ma, int32_t mb,
                                fora_link_cross_view_id_t v, double *total,
                                double comp[FORA_LINK_NCOMP])
{
    *total = 0;
    for (int k = 0; k < FORA_LINK_NCOMP; k++)
        comp[k] = 0;
    int32_t ra = c->row_a[ma], rb = c->row_b[mb];
    if (ra < 0 || rb < 0) return false;
    const fora_link_view_t w = fora_link_cross_view_get(v);
    fora_link_pair(c->fp, ra, rb, &w, total, comp);
    return true;
}

/* ---------------------------------------------------------------------- */
/* evaluation                                                               */
/* ---------------------------------------------------------------------- */

typedef struct {
    int32_t q, p; /* query row, positive row */
} kp_t;

static int kp_cmp(const void *x, const void *y)
{
    const kp_t *a = x, *b = y;
    if (a->q != b->q) return a->q < b->q ? -1 : 1;
    return a->p < b->p ? -1 : a->p > b->p;
}

#define CROSS_QB 32

/*
 * One direction: queries are the distinct q of kp (sorted by q, p), each
 * ranks the rows [c0, c0 + nc) of X; its positives are its p's.
 */
static fora_err_t eval_dir(const fora_link_fp_t *fp, const kp_t *kp, int32_t nk, int32_t c0,
                           int32_t nc, fora_link_cross_dir_t *out, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    const int dim = fp->dim;
    float *X = malloc(sizeof(*X) * (size_t)(fp->n > 0 ? fp->n : 1) * (size_t)dim);
    float *qbuf = malloc(sizeof(*qbuf) * CROSS_QB * (size_t)dim);
    float *S = malloc(sizeof(*S) * CROSS_QB * (size_t)(nc > 0 ? nc : 1));
    uint8_t *pos = calloc((size_t)(nc > 0 ? nc : 1), 1);
    int32_t *qstart = malloc(sizeof(*qstart) * (size_t)(nk + 1));
    if (!X || !qbuf || !S || !pos || !qstart) {
        err = fora_diag_set(diag, FORA_ENOMEM, "out of memory in the cross-forum evaluation");
        goto out;
    }
    int32_t nq = 0;
    for (int32_t i = 0; i < nk; i++)
        if (i == 0 || kp[i].q != kp[i - 1].q) qstart[nq++] = i;
    qstart[nq] = nk;
    out->queries = nq;
    out->candidates = nc;
    double rr = 0, rec = 0, mr = 0;
    for (int32_t i = 0; i < nq; i++) {
        double x, y;
        const int64_t m = qstart[i + 1] - qstart[i];
        fora_link_random_expect(nc, m, 10, &x, &y);
        rr += x;
        rec += y;
        mr += (double)(nc + 1) / (double)(m + 1);
    }
    out->random.mrr = nq ? rr / nq : 0;
    out->random.recall10 = nq ? rec / nq : 0;
    out->random.mean_rank = nq ? mr / nq : 0;
    for (int v = 0; v < FORA_LINK_CROSS_NVIEWS; v++) {
        const fora_link_view_t w = fora_link_cross_view_get((fora_link_cross_view_id_t)v);
        fora_link_fp_combine(fp, &w, X);
        double mrr = 0, r10 = 0, mrank = 0;
        for (int32_t q0 = 0; q0 < nq; q0 += CROSS_QB) {
            const int32_t nb = nq - q0 < CROSS_QB ? nq - q0 : CROSS_QB;
            for (int32_t i = 0; i < nb; i++)
                memcpy(qbuf + (size_t)i * dim, X + (size_t)kp[qstart[q0 + i]].q * dim,
                       (size_t)dim * sizeof(*qbuf));
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, nc, dim, 1.0f, qbuf, dim,
                        X + (size_t)c0 * dim, dim, 0.0f, S, nc);
            for (int32_t i = 0; i < nb; i++) {
                const int32_t qi = q0 + i;
                const float *srow = S + (size_t)i * nc;
                float best = -INFINITY;
                for (int32_t j = qstart[qi]; j < qstart[qi + 1]; j++) {
                    const int32_t pj = kp[j].p - c0;
                    pos[pj] = 1;
                    if (srow[pj] > best) best = srow[pj];
                }
                int64_t greater = 0, ties = 0, m = 0;
                for (int32_t j = 0; j < nc; j++) {
                    if (pos[j]) {
                        if (srow[j] == best) m++;
                    } else if (srow[j] > best) {
                        greater++;
                    } else if (srow[j] == best) {
                        ties++;
                    }
                }
                for (int32_t j = qstart[qi]; j < qstart[qi + 1]; j++)
                    pos[kp[j].p - c0] = 0;
                const double rank = fora_link_rank(greater, ties, m);
                mrr += 1.0 / rank;
                r10 += rank <= 10.0 ? 1.0 : 0.0;
                mrank += rank;
            }
        }
        out->view[v].mrr = nq ? mrr / nq : 0;
        out->view[v].recall10 = nq ? r10 / nq : 0;
        out->view[v].mean_rank = nq ? mrank / nq : 0;
    }
out:
    free(X);
    free(qbuf);
    free(S);
    free(pos);
    free(qstart);
    return err;
}

fora_err_t fora_link_cross_evaluate(const fora_link_cross_t *c, const int32_t *pa,
                                    const int32_t *pb, int32_t n, fora_link_cross_eval_t *out,
                                    fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    memset(out, 0, sizeof(*out));
    out->pairs = n;
    kp_t *ab = malloc(sizeof(*ab) * (size_t)(n > 0 ? n : 1));
    kp_t *ba = malloc(sizeof(*ba) * (size_t)(n > 0 ? n : 1));
    if (!ab || !ba) {
        err = fora_diag_set(diag, FORA_ENOMEM, "out of memory in the cross-forum evaluation");
        goto out;
    }
    int32_t nu = 0;
    for (int32_t i = 0; i < n; i++) {
        if (pa[i] < 0 || pa[i] >= c->members_a || pb[i] < 0 || pb[i] >= c->members_b) {
            err = fora_diag_set(diag, FORA_EINVAL, "known pair %d: member index out of range", i);
            goto out;
        }
        const int32_t ra = c->row_a[pa[i]], rb = c->row_b[pb[i]];
        if (ra < 0 || rb < 0) {
            out->unfingerprinted++;
            continue;
        }
        ab[nu].q = ra;
        ab[nu].p = rb;
        ba[nu].q = rb;
        ba[nu].p = ra;
        nu++;
    }
    /* duplicates (the same pair from two sources) count once */
    qsort(ab, (size_t)nu, sizeof(*ab), kp_cmp);
    int32_t nd = 0;
    for (int32_t i = 0; i < nu; i++)
        if (nd == 0 || ab[nd - 1].q != ab[i].q || ab[nd - 1].p != ab[i].p) ab[nd++] = ab[i];
    nu = nd;
    for (int32_t i = 0; i < nu; i++) {
        ba[i].q = ab[i].p;
        ba[i].p = ab[i].q;
    }
    qsort(ba, (size_t)nu, sizeof(*ba), kp_cmp);
    out->usable = nu;
    if (nu == 0) {
        err = fora_diag_set(diag, FORA_ENOTFOUND,
                            "no known pair can be evaluated: %d pairs given, %d with a member "
                            "without posts",
                            n, out->unfingerprinted);
        goto out;
    }
    if ((err = eval_dir(c->fp, ab, nu, c->na, c->nb, &out->ab, diag)) != FORA_OK) goto out;
    if ((err = eval_dir(c->fp, ba, nu, 0, c->na, &out->ba, diag)) != FORA_OK) goto out;

    /* the candidate list against the known pairs (ab is sorted by (row a, row b)) */
    int32_t hit10 = 0, hit100 = 0, nmut = 0, hitmut = 0;
    for (int32_t i = 0; i < c->npairs; i++) {
        const fora_link_cross_pair_t *p = &c->pairs[i];
        kp_t key = {c->row_a[p->a], c->row_b[p->b]};
        const bool known = bsearch(&key, ab, (size_t)nu, sizeof(*ab), kp_cmp) != NULL;
        if (known) {
            out->in_candidates++;
            if (i < 10) hit10++;
            if (i < 100) hit100++;
        }
        if (p->mutual) {
            nmut++;
            if (known) {
                hitmut++;
                out->in_mutual++;
            }
        }
    }
    out->mutual_pairs = nmut;
    const int32_t n10 = c->npairs < 10 ? c->npairs : 10, n100 = c->npairs < 100 ? c->npairs : 100;
    out->precision_at_10 = n10 > 0 ? (double)hit10 / n10 : 0;
    out->precision_at_100 = n100 > 0 ? (double)hit100 / n100 : 0;
    out->mutual_precision = nmut > 0 ? (double)hitmut / nmut : 0;
out:
    free(ab);
    free(ba);
    return err;
}

/* ---------------------------------------------------------------------- */
/* synthetic migration                                                      */
/* ---------------------------------------------------------------------- */

fora_err_t fora_link_migration_split(const fora_snapshot_t *s, int64_t cut, fora_snapshot_t **a,
                                     fora_snapshot_t **b, int32_t **pair_b, int32_t *npairs,
                                     fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    const int32_t M = s->members.n, T = s->threads.n, P = s->posts.n;
    fora_snapshot_t *sa = NULL, *sb = NULL;
    int32_t *ia = NULL, *ib = NULL, *pairs = NULL, *bfirst = NULL;
    uint8_t *before = NULL, *after = NULL, *tb = NULL, *ta = NULL;
    char *name = NULL, *ext = NULL;
    size_t extcap = 0;

    *a = *b = NULL;
    *pair_b = NULL;
    *npairs = 0;
    int32_t lo, hi;
    fora_snapshot_post_window(s, FORA_TIME_NONE, cut, &lo, &hi);
    const int32_t cutp = hi; /* posts [0, cutp) are before the cut */
    if (cutp == 0 || cutp == P)
        return fora_diag_set(diag, FORA_EINVAL,
                             "migration split: the cut leaves %s without posts (%d before, %d "
                             "from it on)",
                             cutp == 0 ? "the first forum" : "the second forum", cutp, P - cutp);
    const size_t M1 = (size_t)(M > 0 ? M : 1), T1 = (size_t)(T > 0 ? T : 1);
    before = calloc(M1, 1);
    after = calloc(M1, 1);
    ta = calloc(T1, 1);
    tb = calloc(T1, 1);
    ia = malloc(M1 * sizeof(*ia));
    ib = malloc(M1 * sizeof(*ib));
    bfirst = malloc(T1 * sizeof(*bfirst));
    if (!before || !after || !ta || !tb || !ia || !ib || !bfirst) goto nomem;
    for (int32_t t = 0; t < T; t++)
        bfirst[t] = -1;
    for (int32_t p = 0; p < P; p++) {
        const int32_t m = s->posts.author[p], t = s->posts.thread[p];
        if (p < cutp) {
            ta[t] = 1;
            if (m >= 0) before[m] = 1;
        } else {
            tb[t] = 1;
            if (bfirst[t] < 0) bfirst[t] = p;
            if (m >= 0) after[m] = 1;
        }
    }
    size_t nl = strlen(s->forum.name) + 16;
    name = malloc(nl);
    if (!name) goto nomem;

    /* A: members who posted before the cut or never */
    snprintf(name, nl, "%s~before", s->forum.name);
    if ((err = fora_snapshot_create(s->forum.id, name, s->forum.timezone, s->forum.data_version,
                                    &sa, diag)) != FORA_OK)
        goto out;
    if ((err = fora__link_copy_boards(sa, s, diag)) != FORA_OK) goto out;
    int32_t na = 0;
    for (int32_t m = 0; m < M; m++) {
        ia[m] = -1;
        if (!before[m] && after[m]) continue;
        ia[m] = na++;
        if ((err = fora_snapshot_add_member(
                 sa, s->members.id[m], fora_snapshot_member_ext(s, m), s->members.registered_at[m],
                 fora_snapshot_member_status(s, m), s->members.banned_at[m], diag)) != FORA_OK)
            goto out;
    }
    for (int32_t t = 0; t < T; t++) {
        if (!ta[t]) continue;
        const int32_t st = s->threads.starter[t];
        if ((err =
                 fora_snapshot_add_thread(sa, s->threads.id[t], fora_snapshot_thread_ext(s, t),
                                          s->boards.id[s->threads.board[t]],
                                          st >= 0 && ia[st] >= 0 ? s->members.id[st] : FORA_ID_NONE,
                                          s->threads.created_at[t], diag)) != FORA_OK)
            goto out;
    }
    for (int32_t p = 0; p < cutp; p++) {
        const int32_t m = s->posts.author[p], rt = s->posts.reply_to[p];
        if ((err = fora_snapshot_add_post(
                 sa, s->posts.id[p], s->threads.id[s->posts.thread[p]],
                 m >= 0 ? s->members.id[m] : FORA_ID_NONE, s->posts.created_at[p],
                 rt >= 0 && rt < cutp ? s->posts.id[rt] : FORA_ID_NONE, diag)) != FORA_OK)
            goto out;
    }
    if ((err = fora_snapshot_finish(sa, diag)) != FORA_OK) goto out;

    /* B: a new account (new id, "EXT~after") for every member who posted from the cut on */
    snprintf(name, nl, "%s~after", s->forum.name);
    if ((err = fora_snapshot_create(s->forum.id + 1, name, s->forum.timezone, s->forum.data_version,
                                    &sb, diag)) != FORA_OK)
        goto out;
    if ((err = fora__link_copy_boards(sb, s, diag)) != FORA_OK) goto out;
    int32_t nb = 0;
    for (int32_t m = 0; m < M; m++) {
        ib[m] = -1;
        if (!after[m]) continue;
        ib[m] = nb++;
        const char *e = fora_snapshot_member_ext(s, m);
        size_t len = strlen(e) + 8;
        if (len > extcap) {
            free(ext);
            ext = malloc(len);
            extcap = len;
            if (!ext) goto nomem;
        }
        snprintf(ext, len, "%s~after", e);
        if ((err = fora_snapshot_add_member(sb, (int64_t)ib[m] + 1, ext, FORA_TIME_NONE,
                                            fora_snapshot_member_status(s, m), FORA_TIME_NONE,
                                            diag)) != FORA_OK)
            goto out;
    }
    for (int32_t t = 0; t < T; t++) {
        if (!tb[t]) continue;
        /* started in B only when its first post is from the cut on */
        const int32_t st = s->threads.starter[t], f = s->threads.first_post[t];
        const bool starts_here = f >= cutp;
        const int64_t sid =
            starts_here && st >= 0 && ib[st] >= 0 ? (int64_t)ib[st] + 1 : FORA_ID_NONE;
        if ((err = fora_snapshot_add_thread(
                 sb, s->threads.id[t], fora_snapshot_thread_ext(s, t),
                 s->boards.id[s->threads.board[t]], sid,
                 starts_here ? s->threads.created_at[t] : s->posts.created_at[bfirst[t]], diag)) !=
            FORA_OK)
            goto out;
    }
    for (int32_t p = cutp; p < P; p++) {
        const int32_t m = s->posts.author[p], rt = s->posts.reply_to[p];
        if ((err = fora_snapshot_add_post(
                 sb, s->posts.id[p], s->threads.id[s->posts.thread[p]],
                 m >= 0 ? (int64_t)ib[m] + 1 : FORA_ID_NONE, s->posts.created_at[p],
                 rt >= cutp ? s->posts.id[rt] : FORA_ID_NONE, diag)) != FORA_OK)
            goto out;
    }
    if ((err = fora_snapshot_finish(sb, diag)) != FORA_OK) goto out;

    pairs = malloc(sizeof(*pairs) * (size_t)(na > 0 ? na : 1));
    if (!pairs) goto nomem;
    int32_t np = 0;
    for (int32_t m = 0; m < M; m++) {
        if (ia[m] < 0) continue;
        pairs[ia[m]] = ib[m];
        if (ib[m] >= 0) np++;
    }
    *a = sa;
    *b = sb;
    sa = sb = NULL;
    *pair_b = pairs;
    pairs = NULL;
    *npairs = np;
    goto out;
nomem:
    err = fora_diag_set(diag, FORA_ENOMEM, "out of memory in the migration split");
out:
    fora_snapshot_destroy(sa);
    fora_snapshot_destroy(sb);
    free(ia);
    free(ib);
    free(pairs);
    free(bfirst);
    free(before);
    free(after);
    free(ta);
    free(tb);
    free(name);
    free(ext);
    return err;
}
