/*
 * analysis/graphs.c - member reply graph, member-thread graph, summary.
 *
 * Every builder works the same way: one pass over the posts in the window
 * emits a packed 64-bit key per (source, target) occurrence (source in the
 * high half), a radix sort groups equal keys, and each run of equal keys
 * becomes one edge whose weight is the run's length.  The edge list goes to
 * igraph in a single igraph_create().
 */
#include "fora/graphs.h"

#include <stdlib.h>
#include <string.h>

fora_err_t fora_err_from_igraph(igraph_error_t e, fora_diag_t *diag, const char *what)
{
    if (e == IGRAPH_SUCCESS) return FORA_OK;
    return fora_diag_set(diag, e == IGRAPH_ENOMEM ? FORA_ENOMEM : FORA_EINTERNAL, "%s: %s", what,
                         igraph_strerror(e));
}

void fora_graph_opts_init(fora_graph_opts_t *o)
{
    const fora_graph_opts_t d = FORA_GRAPH_OPTS_INIT;
    *o = d;
}

static const char *const rule_names[] = {"explicit_or_starter", "explicit_only", "starter_only"};

const char *fora_reply_rule_name(fora_reply_rule_t rule)
{
    if ((unsigned)rule >= sizeof(rule_names) / sizeof(rule_names[0])) return "unknown";
    return rule_names[rule];
}

fora_err_t fora_reply_rule_parse(const char *name, fora_reply_rule_t *out, fora_diag_t *diag)
{
    for (size_t i = 0; i < sizeof(rule_names) / sizeof(rule_names[0]); i++) {
        if (name != NULL && strcmp(name, rule_names[i]) == 0) {
            *out = (fora_reply_rule_t)i;
            return FORA_OK;
        }
    }
    return fora_diag_set(diag, FORA_EINVAL,
                         "unknown reply rule \"%s\" (expected \"explicit_or_starter\", "
                         "\"explicit_only\" or \"starter_only\")",
                         name != NULL ? name : "");
}

/* The thread starter as target of post p by author a, or -1 for the opening post. */
static int32_t starter_target(const fora_snapshot_t *s, int32_t p, int32_t a)
{
    int32_t th = s->posts.thread[p];
    int32_t st = s->threads.starter[th];
    if (s->threads.first_post[th] == p && st == a) return -1;
    return st;
}

int32_t fora_reply_target(const fora_snapshot_t *s, const fora_graph_opts_t *o, int32_t post)
{
    int32_t a = s->posts.author[post];
    if (a < 0) return -1;
    int32_t r = s->posts.reply_to[post], t = -1;
    switch (o->rule) {
    case FORA_REPLY_EXPLICIT_OR_STARTER:
        t = r >= 0 ? s->posts.author[r] : starter_target(s, post, a);
        break;
    case FORA_REPLY_EXPLICIT_ONLY:
        t = r >= 0 ? s->posts.author[r] : -1;
        break;
    case FORA_REPLY_STARTER_ONLY:
        t = starter_target(s, post, a);
        break;
    }
    if (t < 0 || (t == a && !o->keep_self_loops)) return -1;
    return t;
}

/* ---------------------------------------------------------------------- */
/* keys                                                                     */
/* ---------------------------------------------------------------------- */

static inline uint64_t pack(uint32_t a, uint32_t b)
{
    return (uint64_t)a << 32 | b;
}

/* A sorted multiset of packed pairs. */
typedef struct keyset {
    uint64_t *keys;
    size_t n;
} keyset_t;

enum key_kind { KEYS_REPLY, KEYS_MEMBER_THREAD };

/* Collects and sorts the pair keys of the posts in o's window. */
static fora_err_t collect_keys(const fora_snapshot_t *s, const fora_graph_opts_t *o,
                               enum key_kind kind, keyset_t *ks, fora_diag_t *diag)
{
    int32_t lo, hi;
    fora_snapshot_post_window(s, o->from, o->to, &lo, &hi);
    size_t cap = (size_t)(hi - lo) + 1;
    uint64_t *keys = malloc(cap * sizeof(*keys));
    uint64_t *tmp = NULL;
    size_t n = 0;
    if (keys == NULL) goto nomem;
    if (kind == KEYS_REPLY) {
        for (int32_t p = lo; p < hi; p++) {
            int32_t t = fora_reply_target(s, o, p);
            if (t >= 0) keys[n++] = pack((uint32_t)s->posts.author[p], (uint32_t)t);
        }
    } else {
        for (int32_t p = lo; p < hi; p++) {
            int32_t a = s->posts.author[p];
            if (a >= 0) keys[n++] = pack((uint32_t)a, (uint32_t)s->posts.thread[p]);
        }
    }
    tmp = malloc((n + 1) * sizeof(*tmp));
    if (tmp == NULL) goto nomem;
    fora_radix_sort_u64(keys, NULL, n, tmp, NULL);
    free(tmp);
    ks->keys = keys;
    ks->n = n;
    return FORA_OK;
nomem:
    free(keys);
    return fora_diag_set(diag, FORA_ENOMEM, "collecting edges of %d posts", hi - lo);
}

static size_t count_runs(const keyset_t *ks)
{
    size_t e = 0;
    for (size_t i = 0; i < ks->n; i++)
        if (i == 0 || ks->keys[i] != ks->keys[i - 1]) e++;
    return e;
}

/*
 * Turns a sorted keyset into an igraph edge list and weights: one edge per
 * run, the second vertex offset by `offset_b` (the thread vertices of the
 * bipartite graph).  edges and weight are initialised here.
 */
static fora_err_t runs_to_edges(const keyset_t *ks, igraph_integer_t offset_b,
                                igraph_vector_int_t *edges, igraph_vector_t *weight,
                                bool *have_edges, bool *have_weight, fora_diag_t *diag)
{
    size_t ne = count_runs(ks);
    fora_err_t err = fora_err_from_igraph(igraph_vector_int_init(edges, (igraph_integer_t)(2 * ne)),
                                          diag, "edge list");
    if (err != FORA_OK) return err;
    *have_edges = true;
    err = fora_err_from_igraph(igraph_vector_init(weight, (igraph_integer_t)ne), diag, "weights");
    if (err != FORA_OK) return err;
    *have_weight = true;
    igraph_integer_t e = -1;
    for (size_t i = 0; i < ks->n; i++) {
        uint64_t k = ks->keys[i];
        if (i == 0 || k != ks->keys[i - 1]) {
            e++;
            VECTOR(*edges)[2 * e] = (igraph_integer_t)(k >> 32);
            VECTOR(*edges)[2 * e + 1] = (igraph_integer_t)(k & UINT32_MAX) + offset_b;
        }
        VECTOR(*weight)[e] += 1.0;
    }
    return FORA_OK;
}

/* ---------------------------------------------------------------------- */
/* builders                                                                 */
/* ---------------------------------------------------------------------- */

static const fora_graph_opts_t *opts_or_default(const fora_graph_opts_t *o,
                                                fora_graph_opts_t *storage)
{
    if (o != NULL) return o;
    fora_graph_opts_init(storage);
    return storage;
}

fora_err_t fora_graph_reply(const fora_snapshot_t *s, const fora_graph_opts_t *o,
                            fora_wgraph_t *out, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    fora_graph_opts_t dflt;
    keyset_t ks = {NULL, 0};
    igraph_vector_int_t edges;
    bool have_edges = false, have_weight = false;

    o = opts_or_default(o, &dflt);
    if ((err = collect_keys(s, o, KEYS_REPLY, &ks, diag)) != FORA_OK) goto out;
    err = runs_to_edges(&ks, 0, &edges, &out->weight, &have_edges, &have_weight, diag);
    if (err != FORA_OK) goto out;
    free(ks.keys);
    ks.keys = NULL;
    err = fora_err_from_igraph(igraph_create(&out->graph, &edges, s->members.n, IGRAPH_DIRECTED),
                               diag, "reply graph");
out:
    free(ks.keys);
    if (have_edges) igraph_vector_int_destroy(&edges);
    if (err != FORA_OK && have_weight) igraph_vector_destroy(&out->weight);
    return err;
}

fora_err_t fora_graph_member_thread(const fora_snapshot_t *s, const fora_graph_opts_t *o,
                                    fora_bigraph_t *out, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    fora_graph_opts_t dflt;
    keyset_t ks = {NULL, 0};
    igraph_vector_int_t edges;
    bool have_edges = false, have_weight = false, have_types = false, have_graph = false;
    igraph_integer_t nm = s->members.n, nt = s->threads.n;

    o = opts_or_default(o, &dflt);
    if ((err = collect_keys(s, o, KEYS_MEMBER_THREAD, &ks, diag)) != FORA_OK) goto out;
    err = runs_to_edges(&ks, nm, &edges, &out->weight, &have_edges, &have_weight, diag);
    if (err != FORA_OK) goto out;
    free(ks.keys);
    ks.keys = NULL;
    err = fora_err_from_igraph(igraph_create(&out->graph, &edges, nm + nt, IGRAPH_UNDIRECTED), diag,
                               "member-thread graph");
    if (err != FORA_OK) goto out;
    have_graph = true;
    err = fora_err_from_igraph(igraph_vector_bool_init(&out->types, nm + nt), diag,
                               "bipartite types");
    if (err != FORA_OK) goto out;
    have_types = true;
    for (igraph_integer_t v = nm; v < nm + nt; v++)
        VECTOR(out->types)[v] = true;
    out->n_members = s->members.n;
    out->n_threads = s->threads.n;
out:
    free(ks.keys);
    if (have_edges) igraph_vector_int_destroy(&edges);
    if (err != FORA_OK) {
        if (have_types) igraph_vector_bool_destroy(&out->types);
        if (have_graph) igraph_destroy(&out->graph);
        if (have_weight) igraph_vector_destroy(&out->weight);
    }
    return err;
}

fora_err_t fora_graph_undirected(const fora_wgraph_t *in, fora_wgraph_t *out, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    igraph_integer_t nv = igraph_vcount(&in->graph), ne = igraph_ecount(&in->graph);
    igraph_vector_int_t el, edges;
    bool have_el = false, have_edges = false, have_weight = false;
    uint64_t *keys = NULL, *ktmp = NULL;
    uint32_t *idx = NULL, *vtmp = NULL;
    size_t n = (size_t)ne;

    if ((uint64_t)nv > UINT32_MAX || (uint64_t)ne > UINT32_MAX) {
        err = fora_diag_set(diag, FORA_ETOOLARGE, "undirected view: graph too large");
        goto out;
    }
    if (igraph_vector_size(&in->weight) != ne) {
        err = fora_diag_set(diag, FORA_EINVAL, "undirected view: %lld weights for %lld edges",
                            (long long)igraph_vector_size(&in->weight), (long long)ne);
        goto out;
    }
    err = fora_err_from_igraph(igraph_vector_int_init(&el, 0), diag, "edge list");
    if (err != FORA_OK) goto out;
    have_el = true;
    err = fora_err_from_igraph(igraph_get_edgelist(&in->graph, &el, false), diag, "edge list");
    if (err != FORA_OK) goto out;

    keys = malloc((n + 1) * sizeof(*keys));
    ktmp = malloc((n + 1) * sizeof(*ktmp));
    idx = malloc((n + 1) * sizeof(*idx));
    vtmp = malloc((n + 1) * sizeof(*vtmp));
    if (keys == NULL || ktmp == NULL || idx == NULL || vtmp == NULL) {
        err = fora_diag_set(diag, FORA_ENOMEM, "undirected view of %zu edges", n);
        goto out;
    }
    for (size_t e = 0; e < n; e++) {
        uint32_t a = (uint32_t)VECTOR(el)[2 * e], b = (uint32_t)VECTOR(el)[2 * e + 1];
        keys[e] = a <= b ? pack(a, b) : pack(b, a);
        idx[e] = (uint32_t)e;
    }
    igraph_vector_int_destroy(&el);
    have_el = false;
    fora_radix_sort_u64(keys, idx, n, ktmp, vtmp);
    free(ktmp);
    free(vtmp);
    ktmp = NULL;
    vtmp = NULL;

    size_t nu = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || keys[i] != keys[i - 1]) nu++;
    err = fora_err_from_igraph(igraph_vector_int_init(&edges, (igraph_integer_t)(2 * nu)), diag,
                               "edge list");
    if (err != FORA_OK) goto out;
    have_edges = true;
    err = fora_err_from_igraph(igraph_vector_init(&out->weight, (igraph_integer_t)nu), diag,
                               "weights");
    if (err != FORA_OK) goto out;
    have_weight = true;
    igraph_integer_t u = -1;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || keys[i] != keys[i - 1]) {
            u++;
            VECTOR(edges)[2 * u] = (igraph_integer_t)(keys[i] >> 32);
            VECTOR(edges)[2 * u + 1] = (igraph_integer_t)(keys[i] & UINT32_MAX);
        }
        VECTOR(out->weight)[u] += VECTOR(in->weight)[idx[i]];
    }
    err = fora_err_from_igraph(igraph_create(&out->graph, &edges, nv, IGRAPH_UNDIRECTED), diag,
                               "undirected view");
out:
    free(keys);
    free(ktmp);
    free(idx);
    free(vtmp);
    if (have_el) igraph_vector_int_destroy(&el);
    if (have_edges) igraph_vector_int_destroy(&edges);
    if (err != FORA_OK && have_weight) igraph_vector_destroy(&out->weight);
    return err;
}

void fora_wgraph_destroy(fora_wgraph_t *g)
{
    igraph_destroy(&g->graph);
    igraph_vector_destroy(&g->weight);
}

void fora_bigraph_destroy(fora_bigraph_t *g)
{
    igraph_destroy(&g->graph);
    igraph_vector_destroy(&g->weight);
    igraph_vector_bool_destroy(&g->types);
}

/* ---------------------------------------------------------------------- */
/* summary                                                                  */
/* ---------------------------------------------------------------------- */

fora_err_t fora_graph_summary(const fora_snapshot_t *s, const fora_graph_opts_t *o,
                              fora_summary_t *out, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    fora_graph_opts_t dflt;
    keyset_t ks = {NULL, 0};
    unsigned char *mark = NULL;
    int32_t lo, hi, elo, ehi;

    o = opts_or_default(o, &dflt);
    memset(out, 0, sizeof(*out));
    out->boards = s->boards.n;
    out->members = s->members.n;
    out->threads = s->threads.n;

    fora_snapshot_post_window(s, o->from, o->to, &lo, &hi);
    fora_snapshot_event_window(s, o->from, o->to, &elo, &ehi);
    out->posts = hi - lo;
    out->events = ehi - elo;
    out->first_post_at = hi > lo ? s->posts.created_at[lo] : FORA_TIME_NONE;
    out->last_post_at = hi > lo ? s->posts.created_at[hi - 1] : FORA_TIME_NONE;

    mark = calloc((size_t)s->members.n + 1, 1);
    if (mark == NULL) {
        err = fora_diag_set(diag, FORA_ENOMEM, "summary of %d members", s->members.n);
        goto out;
    }
    for (int32_t p = lo; p < hi; p++) {
        int32_t a = s->posts.author[p];
        if (a >= 0 && !mark[a]) {
            mark[a] = 1;
            out->posting_members++;
        }
    }

    if ((err = collect_keys(s, o, KEYS_REPLY, &ks, diag)) != FORA_OK) goto out;
    out->replies = (int64_t)ks.n;
    out->reply_graph_weight = (int64_t)ks.n;
    out->reply_graph_edges = (int64_t)count_runs(&ks);
    memset(mark, 0, (size_t)s->members.n + 1);
    for (size_t i = 0; i < ks.n; i++) {
        uint32_t a = (uint32_t)(ks.keys[i] >> 32), b = (uint32_t)(ks.keys[i] & UINT32_MAX);
        if (!mark[a]) out->reply_graph_vertices++;
        mark[a] = 1;
        if (!mark[b]) out->reply_graph_vertices++;
        mark[b] = 1;
    }
    free(ks.keys);
    ks.keys = NULL;

    if ((err = collect_keys(s, o, KEYS_MEMBER_THREAD, &ks, diag)) != FORA_OK) goto out;
    out->bipartite_edges = (int64_t)count_runs(&ks);
out:
    free(ks.keys);
    free(mark);
    return err;
}
