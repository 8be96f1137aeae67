/*
 * server/cmd_survival.c - `fora survival --csv FILE`: Kaplan-Meier curves,
 * medians, horizons and the log-rank test of a time,event[,group] CSV, as
 * one JSON document on stdout (api-docs/survival.md).
 *
 * The CSV streams through fora_csv_next() into three column arrays; group
 * labels are interned in a string pool and numbered in sorted order (as R
 * numbers the levels of a factor), then analysis/survival.c does the rest.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "fora/csv.h"
#include "fora/idmap.h"
#include "fora/survival.h"

/* Bounds on what one command reads: the log-rank variance is G x G. */
#define SURV_MAX_GROUPS 1000
#define SURV_MAX_HORIZONS 1000

static const char survival_usage[] =
    "Usage: fora survival --csv FILE [--horizons T1,T2,...] [--conf LEVEL] [--no-curve]\n"
    "Kaplan-Meier survival curves with Greenwood standard errors and log-scale\n"
    "confidence intervals, median survival with its interval and, when the file\n"
    "has two or more groups, the log-rank test, as R's survfit and survdiff\n"
    "compute them.  Prints one JSON document (api-docs/survival.md).\n"
    "  --csv FILE        CSV (plain or .gz) with the header time,event or\n"
    "                    time,event,group: time >= 0, event 1 (event) or\n"
    "                    0 (censored), group any non-empty label\n"
    "  --horizons LIST   comma-separated times at which to report every curve\n"
    "  --conf LEVEL      confidence level of the intervals, 0 < LEVEL < 1 (0.95)\n"
    "  --no-curve        leave out the per-time rows (medians, horizons and the\n"
    "                    test only)\n"
    "Exit codes: 0 ok, 2 bad option, 3 malformed CSV (file:line and field named),\n"
    "4 no such file.\n";

/* The observations read from the CSV, in file order. */
typedef struct obs {
    double *time;
    uint8_t *event;
    int32_t *group; /* NULL without a group column */
    size_t n, cap;
    fora_strpool_t labels; /* group labels, in order of first appearance */
} obs_t;

static void obs_destroy(obs_t *o)
{
    free(o->time);
    free(o->event);
    free(o->group);
    fora_strpool_destroy(&o->labels);
}

static fora_err_t obs_grow(obs_t *o, bool grouped, fora_diag_t *diag)
{
    size_t cap = o->cap == 0 ? 4096 : o->cap * 2;
    double *t = realloc(o->time, cap * sizeof(*t));
    if (t != NULL) o->time = t;
    uint8_t *e = t != NULL ? realloc(o->event, cap * sizeof(*e)) : NULL;
    if (e != NULL) o->event = e;
    int32_t *g = NULL;
    if (e != NULL && grouped && (g = realloc(o->group, cap * sizeof(*g))) != NULL) o->group = g;
    if (t == NULL || e == NULL || (grouped && g == NULL))
        return fora_diag_set(diag, FORA_ENOMEM, "out of memory after %zu observations", o->n);
    o->cap = cap;
    return FORA_OK;
}

/* s without leading and trailing blanks, in place. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t len = strlen(s);
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
        s[--len] = '\0';
    return s;
}

/* A finite number taking all of s, or false. */
static bool parse_double(const char *s, double *out)
{
    char *end;
    if (*s == '\0') return false;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v)) return false;
    *out = v;
    return true;
}

enum { COL_TIME, COL_EVENT, COL_GROUP, NCOLS };
static const char *const col_names[NCOLS] = {"time", "event", "group"};

static fora_err_t read_csv(const char *path, obs_t *o, fora_diag_t *diag)
{
    fora_err_t err;
    fora_csv_reader_t *r = NULL;
    size_t nf, *lens, nheader;
    char **fields;
    int64_t line;
    int pos[NCOLS] = {-1, -1, -1};

    if ((err = fora_csv_open(path, &r, diag)) != FORA_OK) return err;
    err = fora_csv_next(r, &nf, &fields, &lens, &line, diag);
    if (err == FORA_ENOTFOUND) {
        err = fora_diag_set(diag, FORA_EPARSE, "%s:1: empty file (a header row is required)", path);
        goto out;
    }
    if (err != FORA_OK) goto out;
    nheader = nf;
    for (size_t i = 0; i < nf; i++) {
        char *h = fields[i];
        if (i == 0 && (unsigned char)h[0] == 0xEF && (unsigned char)h[1] == 0xBB &&
            (unsigned char)h[2] == 0xBF)
            h += 3; /* UTF-8 byte-order mark */
        h = trim(h);
        int c;
        for (c = 0; c < NCOLS; c++)
            if (strcmp(h, col_names[c]) == 0) break;
        if (c == NCOLS) {
            err = fora_diag_set(diag, FORA_EPARSE,
                                "%s:%lld: unknown column \"%s\" (expected time,event[,group])",
                                path, (long long)line, h);
            goto out;
        }
        if (pos[c] >= 0) {
            err = fora_diag_set(diag, FORA_EPARSE, "%s:%lld: column \"%s\" appears twice", path,
                                (long long)line, h);
            goto out;
        }
        pos[c] = (int)i;
    }
    for (int c = 0; c < COL_GROUP; c++) {
        if (pos[c] < 0) {
            err = fora_diag_set(diag, FORA_EPARSE, "%s:%lld: required column \"%s\" missing", path,
                                (long long)line, col_names[c]);
            goto out;
        }
    }
    const bool grouped = pos[COL_GROUP] >= 0;

    for (;;) {
        err = fora_csv_next(r, &nf, &fields, &lens, &line, diag);
        if (err == FORA_ENOTFOUND) {
            err = FORA_OK;
            break;
        }
        if (err != FORA_OK) goto out;
        if (nf == 1 && lens[0] == 0) continue; /* blank line */
        if (nf != nheader) {
            err = fora_diag_set(diag, FORA_EPARSE, "%s:%lld: %zu fields where the header has %zu",
                                path, (long long)line, nf, nheader);
            goto out;
        }
        if (o->n == o->cap && (err = obs_grow(o, grouped, diag)) != FORA_OK) goto out;
        if (o->n == (size_t)UINT32_MAX) {
            err = fora_diag_set(diag, FORA_ETOOLARGE, "%s:%lld: more than %lu observations", path,
                                (long long)line, (unsigned long)UINT32_MAX);
            goto out;
        }

        const char *ts = trim(fields[pos[COL_TIME]]);
        double t;
        if (!parse_double(ts, &t)) {
            err = fora_diag_set(diag, FORA_EPARSE,
                                "%s:%lld: field \"time\": \"%s\" is not a finite number", path,
                                (long long)line, ts);
            goto out;
        }
        if (t < 0.0) {
            err = fora_diag_set(diag, FORA_EPARSE, "%s:%lld: field \"time\": negative time \"%s\"",
                                path, (long long)line, ts);
            goto out;
        }
        const char *es = trim(fields[pos[COL_EVENT]]);
        if (strcmp(es, "0") != 0 && strcmp(es, "1") != 0) {
            err = fora_diag_set(diag, FORA_EPARSE,
                                "%s:%lld: field \"event\": \"%s\" must be 0 (censored) or 1 "
                                "(event)",
                                path, (long long)line, es);
            goto out;
        }
        o->time[o->n] = t;
        o->event[o->n] = es[0] == '1';
        if (grouped) {
            size_t gi = (size_t)pos[COL_GROUP];
            int32_t g;
            if (lens[gi] == 0) {
                err = fora_diag_set(diag, FORA_EPARSE, "%s:%lld: field \"group\": empty label",
                                    path, (long long)line);
                goto out;
            }
            if (memchr(fields[gi], '\0', lens[gi]) != NULL) {
                err = fora_diag_set(diag, FORA_EPARSE, "%s:%lld: field \"group\": NUL in label",
                                    path, (long long)line);
                goto out;
            }
            if ((err = fora_strpool_intern(&o->labels, fields[gi], lens[gi], &g, diag)) != FORA_OK)
                goto out;
            if (o->labels.n > SURV_MAX_GROUPS) {
                err = fora_diag_set(diag, FORA_ETOOLARGE, "%s:%lld: more than %d groups", path,
                                    (long long)line, SURV_MAX_GROUPS);
                goto out;
            }
            o->group[o->n] = g;
        }
        o->n++;
    }
    if (grouped && o->group == NULL) {
        /* a header with a group column and no rows */
        o->group = malloc(sizeof(*o->group));
        if (o->group == NULL) err = fora_diag_set(diag, FORA_ENOMEM, "out of memory");
    }
out:
    fora_csv_close(r);
    return err;
}

/* Labels sort as numbers when every one is a number (R's factor of a numeric
 * column), else bytewise. */
typedef struct label_key {
    const char *s;
    double v;
    bool numeric;
    int32_t index;
} label_key_t;

static int cmp_label(const void *a, const void *b)
{
    const label_key_t *x = a, *y = b;
    if (x->numeric) {
        if (x->v < y->v) return -1;
        if (x->v > y->v) return 1;
    }
    return strcmp(x->s, y->s);
}

/* order[k] = the label index of the k-th group; rank[label] = its group. */
static fora_err_t order_labels(const fora_strpool_t *p, int32_t *order, int32_t *rank,
                               fora_diag_t *diag)
{
    size_t n = (size_t)p->n;
    label_key_t *keys = calloc(n > 0 ? n : 1, sizeof(*keys));
    if (keys == NULL) return fora_diag_set(diag, FORA_ENOMEM, "out of memory");
    bool numeric = true;
    for (size_t i = 0; i < n; i++) {
        keys[i].s = fora_strpool_get(p, (int32_t)i);
        keys[i].index = (int32_t)i;
        if (!parse_double(keys[i].s, &keys[i].v)) numeric = false;
    }
    for (size_t i = 0; i < n; i++)
        keys[i].numeric = numeric;
    qsort(keys, n, sizeof(*keys), cmp_label);
    for (size_t k = 0; k < n; k++) {
        order[k] = keys[k].index;
        rank[keys[k].index] = (int32_t)k;
    }
    free(keys);
    return FORA_OK;
}

/* ---- JSON ------------------------------------------------------------- */

/*
 * The document is written piece by piece: the small parts (medians,
 * horizons, the test) are Jansson values dumped with JSON_INDENT(2), and the
 * curve rows, which can number millions, are formatted one per line straight
 * onto the stream, so memory stays that of the result however long the
 * curves.  Numbers are formatted as Jansson formats them (%.17g, ".0" added
 * to integral values); an undefined number is null, never NaN.
 */

#define JSON_FLAGS (JSON_INDENT(2) | JSON_REAL_PRECISION(17))

/* A number, or null where it is undefined (never NaN or Inf in the output). */
static json_t *num(bool defined, double v)
{
    return defined && isfinite(v) ? json_real(v) : json_null();
}

static void put_real(FILE *f, bool defined, double v)
{
    char buf[40];
    if (!defined || !isfinite(v)) {
        fputs("null", f);
        return;
    }
    snprintf(buf, sizeof(buf), "%.17g", v);
    fputs(buf, f);
    if (strpbrk(buf, ".eE") == NULL) fputs(".0", f);
}

/* Writes s with `indent` spaces after every newline. */
static void put_indented(FILE *f, const char *s, size_t len, int indent)
{
    for (size_t i = 0; i < len; i++) {
        fputc(s[i], f);
        if (s[i] == '\n') fprintf(f, "%*s", indent, "");
    }
}

/* Dumps v (a new reference, consumed) at nesting `indent`; false on OOM. */
static bool put_value(FILE *f, json_t *v, int indent)
{
    char *s = v != NULL ? json_dumps(v, JSON_FLAGS) : NULL;
    json_decref(v);
    if (s == NULL) return false;
    put_indented(f, s, strlen(s), indent);
    free(s);
    return true;
}

static json_t *json_point(const fora_survival_point_t *p)
{
    return json_pack("{s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:b}", "time", json_real(p->time),
                     "n_risk", (json_int_t)p->n_risk, "surv", json_real(p->surv), "std_err",
                     num(p->se_defined, p->std_err), "lower", num(p->se_defined, p->lower), "upper",
                     num(p->se_defined, p->upper), "cum_event", json_real(p->cum_event),
                     "beyond_last", p->beyond_last);
}

static void put_row(FILE *f, const fora_survival_row_t *r)
{
    fputs("{\"time\": ", f);
    put_real(f, true, r->time);
    fprintf(f, ", \"n_risk\": %lld, \"n_event\": %lld, \"n_censor\": %lld, \"surv\": ",
            (long long)r->n_risk, (long long)r->n_event, (long long)r->n_censor);
    put_real(f, true, r->surv);
    fputs(", \"std_err\": ", f);
    put_real(f, r->se_defined, r->std_err);
    fputs(", \"std_err_log\": ", f);
    put_real(f, r->se_defined, r->std_err_log);
    fputs(", \"lower\": ", f);
    put_real(f, r->se_defined, r->lower);
    fputs(", \"upper\": ", f);
    put_real(f, r->se_defined, r->upper);
    fputs(", \"cum_event\": ", f);
    put_real(f, true, r->cum_event);
    fputc('}', f);
}

/* Writes a curve object at nesting `indent`; label NULL for "all".  False on OOM. */
static bool put_curve(FILE *f, const fora_survival_curve_t *c, const char *label, size_t nhorizons,
                      bool with_rows, int indent)
{
    const fora_survival_median_t *m = &c->median;
    json_t *head = json_object(), *hz = json_array();
    bool ok = head != NULL && hz != NULL;
    if (ok && label != NULL) ok = json_object_set_new(head, "label", json_string(label)) == 0;
    ok = ok && json_object_set_new(head, "n", json_integer((json_int_t)c->n)) == 0 &&
         json_object_set_new(head, "events", json_integer((json_int_t)c->events)) == 0 &&
         json_object_set_new(head, "median",
                             json_pack("{s:o, s:o, s:o}", "time", num(m->reached, m->time), "lower",
                                       num(m->lower_reached, m->lower), "upper",
                                       num(m->upper_reached, m->upper))) == 0;
    for (size_t h = 0; ok && h < nhorizons; h++)
        ok = json_array_append_new(hz, json_point(&c->horizons[h])) == 0;
    if (ok) {
        ok = json_object_set_new(head, "horizons", hz) == 0;
        hz = NULL; /* taken, even on failure */
    }
    char *s = ok ? json_dumps(head, JSON_FLAGS) : NULL;
    json_decref(hz);
    json_decref(head);
    if (s == NULL) return false;
    if (!with_rows) {
        put_indented(f, s, strlen(s), indent);
        free(s);
        return true;
    }
    /* the head ends in "\n}": write it open, then the rows, then close it */
    size_t len = strlen(s);
    put_indented(f, s, len - 2, indent);
    free(s);
    fprintf(f, ",\n%*s\"curve\": [", indent + 2, "");
    for (size_t i = 0; i < c->nrows; i++) {
        fprintf(f, "%s\n%*s", i > 0 ? "," : "", indent + 4, "");
        put_row(f, &c->rows[i]);
    }
    if (c->nrows > 0) fprintf(f, "\n%*s", indent + 2, "");
    fprintf(f, "]\n%*s}", indent, "");
    return true;
}

static json_t *json_logrank(const fora_survival_logrank_t *lr, const fora_strpool_t *labels,
                            const int32_t *order)
{
    size_t G = lr->ngroups;
    /* the arrays belong to o from the start, so one json_decref() frees all */
    json_t *o = json_pack("{s:f, s:i, s:o, s:b, s:[], s:[], s:[], s:[], s:[]}", "chisq", lr->chisq,
                          "df", lr->df, "p", num(lr->p_defined, lr->p), "generalised",
                          lr->generalised, "groups", "n", "observed", "expected", "variance");
    if (o == NULL) return NULL;
    json_t *g = json_object_get(o, "groups"), *n = json_object_get(o, "n"),
           *obs = json_object_get(o, "observed"), *exp = json_object_get(o, "expected"),
           *var = json_object_get(o, "variance");
    bool ok = true;
    for (size_t i = 0; ok && i < G; i++) {
        json_t *row = json_array();
        ok = json_array_append_new(var, row) == 0 &&
             json_array_append_new(g, json_string(fora_strpool_get(labels, order[i]))) == 0 &&
             json_array_append_new(n, json_integer((json_int_t)lr->n[i])) == 0 &&
             json_array_append_new(obs, json_real(lr->observed[i])) == 0 &&
             json_array_append_new(exp, json_real(lr->expected[i])) == 0;
        for (size_t j = 0; ok && j < G; j++)
            ok = json_array_append_new(row, json_real(lr->variance[i * G + j])) == 0;
    }
    if (ok) return o;
    json_decref(o);
    return NULL;
}

/* The whole document; false when out of memory. */
static bool put_document(FILE *f, const fora_survival_t *res, const fora_strpool_t *labels,
                         const int32_t *order, size_t nhorizons, bool with_rows)
{
    fputs("{\n  \"conf\": ", f);
    put_real(f, true, res->conf);
    fputs(",\n  \"all\": ", f);
    if (!put_curve(f, &res->all, NULL, nhorizons, with_rows, 2)) return false;
    fputs(",\n  \"groups\": [", f);
    for (size_t g = 0; g < res->ngroups; g++) {
        fprintf(f, "%s\n    ", g > 0 ? "," : "");
        if (!put_curve(f, &res->groups[g], fora_strpool_get(labels, order[g]), nhorizons, with_rows,
                       4))
            return false;
    }
    fputs(res->ngroups > 0 ? "\n  ],\n  \"logrank\": " : "],\n  \"logrank\": ", f);
    if (res->logrank == NULL)
        fputs("null", f);
    else if (!put_value(f, json_logrank(res->logrank, labels, order), 2))
        return false;
    fputs("\n}\n", f);
    return true;
}

/* ---- the command ------------------------------------------------------ */

static bool parse_horizons(const char *arg, double *out, size_t *n)
{
    char buf[8192];
    if (snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf)) {
        fora_cli_usage_error("survival", "--horizons is too long");
        return false;
    }
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        double v;
        tok = trim(tok);
        if (!parse_double(tok, &v) || v < 0.0) {
            fora_cli_usage_error("survival", "--horizons: \"%s\" is not a time >= 0", tok);
            return false;
        }
        if (*n == SURV_MAX_HORIZONS) {
            fora_cli_usage_error("survival", "--horizons: at most %d times", SURV_MAX_HORIZONS);
            return false;
        }
        out[(*n)++] = v;
    }
    if (*n == 0) {
        fora_cli_usage_error("survival", "--horizons needs at least one time");
        return false;
    }
    return true;
}

int fora_cmd_survival(int argc, char **argv)
{
    fora_cli_t cli = {0};
    fora_diag_t diag = FORA_DIAG_INIT;
    enum { OPT_CSV = FORA_OPT_FIRST_OWN, OPT_HORIZONS, OPT_CONF, OPT_NO_CURVE };
    static const struct option opts[] = {FORA_CLI_COMMON_OPTIONS,
                                         {"csv", required_argument, NULL, OPT_CSV},
                                         {"horizons", required_argument, NULL, OPT_HORIZONS},
                                         {"conf", required_argument, NULL, OPT_CONF},
                                         {"no-curve", no_argument, NULL, OPT_NO_CURVE},
                                         {NULL, 0, NULL, 0}};
    double horizons[SURV_MAX_HORIZONS];
    const char *path = NULL;
    bool with_rows = true;
    fora_survival_opts_t so;
    obs_t o = {0};
    fora_survival_t *res = NULL;
    int32_t *order = NULL, *rank = NULL;
    int c, rc = 0;

    fora_survival_opts_init(&so);
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int r = fora_cli_common(&cli, c, survival_usage);
        if (r < 0) return 0;
        if (r > 0) continue;
        switch (c) {
        case OPT_CSV:
            path = optarg;
            break;
        case OPT_HORIZONS:
            if (!parse_horizons(optarg, horizons, &so.nhorizons)) return 2;
            so.horizons = horizons;
            break;
        case OPT_CONF:
            if (!parse_double(optarg, &so.conf) || !(so.conf > 0.0 && so.conf < 1.0))
                return fora_cli_usage_error(
                    "survival", "--conf must be a number between 0 and 1, not \"%s\"", optarg);
            break;
        case OPT_NO_CURVE:
            with_rows = false;
            break;
        default:
            return fora_cli_usage_error("survival", "unknown option");
        }
    }
    if (optind != argc) return fora_cli_usage_error("survival", "unexpected argument");
    if (path == NULL) return fora_cli_usage_error("survival", "--csv FILE is required");

    if (read_csv(path, &o, &diag) != FORA_OK) goto fail;
    size_t G = o.group != NULL ? (size_t)o.labels.n : 0;
    order = calloc(G > 0 ? G : 1, sizeof(*order));
    rank = calloc(G > 0 ? G : 1, sizeof(*rank));
    if (order == NULL || rank == NULL) {
        fora_diag_set(&diag, FORA_ENOMEM, "out of memory");
        goto fail;
    }
    if (G > 0) {
        if (order_labels(&o.labels, order, rank, &diag) != FORA_OK) goto fail;
        for (size_t i = 0; i < o.n; i++)
            o.group[i] = rank[o.group[i]];
    }
    if (fora_survival_compute(o.time, o.event, G > 0 ? o.group : NULL, o.n, G, &so, &res, &diag) !=
        FORA_OK)
        goto fail;
    /* the columns are no longer needed */
    free(o.time);
    free(o.event);
    free(o.group);
    o.time = NULL;
    o.event = NULL;
    o.group = NULL;

    if (!put_document(stdout, res, &o.labels, order, so.nhorizons, with_rows)) goto nomem;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fora_diag_set(&diag, FORA_EIO, "could not write the JSON to stdout: %s", strerror(errno));
        goto fail;
    }
    goto out;
nomem:
    fora_diag_set(&diag, FORA_ENOMEM, "out of memory building the JSON");
fail:
    rc = fora_cli_fail(&diag);
out:
    fora_survival_destroy(res);
    free(order);
    free(rank);
    obs_destroy(&o);
    return rc;
}
