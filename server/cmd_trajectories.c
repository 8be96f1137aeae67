/*
 * server/cmd_trajectories.c - `fora trajectories fit --wide-csv FILE`: group-
 * based trajectory models of a members x periods count table, one JSON
 * document on stdout (api-docs/trajectories.md).
 *
 * The CSV (header row, an id column, one count column per period) streams
 * through fora_csv_next() into a dense row-major matrix; analysis/gbtm.c fits
 * each K of the range asked.
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
#include "fora/gbtm.h"
#include "fora/trajectories.h"

#define TRAJ_MAX_MEMBERS 10000000

static const char trajectories_usage[] =
    "Usage: fora trajectories fit --wide-csv FILE [--model poisson|zip|ziptau]\n"
    "           [--order N|D1,D2,...] [--zero-order Z] [--groups A-B] [--starts N]\n"
    "           [--seed S] [--max-iter N]\n"
    "           [--members] [--no-se] [--min-share P]\n"
    "Group-based trajectory models (Nagin's GBTM) of a count table, for every\n"
    "number of groups K in A..B.  Prints one JSON document (api-docs/trajectories.md).\n"
    "  --wide-csv FILE  CSV (plain or .gz): a header row, an id column, then one\n"
    "                   column of whole counts >= 0 per period\n"
    "  --model M        poisson, zip (constant zero inflation per group) or ziptau\n"
    "                   (crimCV's ZIP(tau): logit p = -tau log lambda) (poisson)\n"
    "  --order N        polynomial order in time of every group, 0..3 (2); or one\n"
    "                   order per group (e.g. 3,2,2,1) for K = their number, the\n"
    "                   other K using the largest (the fit assigns the orders to\n"
    "                   groups; each group reports its own)\n"
    "  --zero-order Z   zip: order of the zero-inflation logit in time, 0..3 (0)\n"
    "  --groups A-B     numbers of groups to fit, e.g. 1-6 or 3 (1-4)\n"
    "  --starts N       seeded starts per K (10)\n"
    "  --seed S         seed of the starts (1)\n"
    "  --max-iter N     EM iterations per start (5000)\n"
    "  --members        also print each member's posterior probabilities and group\n"
    "  --no-se          skip standard errors and bands\n"
    "  --min-share P    a fit is admissible only if every group has pi >= P;\n"
    "                   best_bic_K is the smallest BIC among admissible fits (0)\n"
    "Time: period p = 0..T-1 enters as x = (p - c) / c with c = (T-1)/2, so x runs\n"
    "from -1 to 1 (monomials 1, x, x^2, x^3).\n"
    "Exit codes: 0 ok, 2 bad option, 3 malformed CSV (file:line and column named),\n"
    "4 no such file, 12 every start failed numerically.\n";

typedef struct table {
    double *y;      /* n x T */
    char **ids;     /* n */
    char **periods; /* T column names */
    size_t n, T, cap;
} table_t;

static void table_destroy(table_t *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->ids[i]);
    for (size_t k = 0; k < t->T; k++)
        if (t->periods != NULL) free(t->periods[k]);
    free(t->ids);
    free(t->periods);
    free(t->y);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t len = strlen(s);
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
        s[--len] = '\0';
    return s;
}

static fora_err_t read_wide(const char *path, table_t *tb, fora_diag_t *diag)
{
    fora_err_t err;
    fora_csv_reader_t *r = NULL;
    size_t nf, *lens;
    char **fields;
    int64_t line;

    if ((err = fora_csv_open(path, &r, diag)) != FORA_OK) return err;
    err = fora_csv_next(r, &nf, &fields, &lens, &line, diag);
    if (err == FORA_ENOTFOUND) {
        err = fora_diag_set(diag, FORA_EPARSE, "%s:1: empty file (a header row is required)", path);
        goto out;
    }
    if (err != FORA_OK) goto out;
    if (nf < 2) {
        err = fora_diag_set(diag, FORA_EPARSE,
                            "%s:%lld: the header needs an id column and at least one period "
                            "column",
                            path, (long long)line);
        goto out;
    }
    tb->T = nf - 1;
    tb->periods = calloc(tb->T, sizeof(char *));
    if (tb->periods == NULL) goto nomem;
    for (size_t k = 0; k < tb->T; k++)
        tb->periods[k] = fora_xstrdup(trim(fields[k + 1]));
    for (;;) {
        err = fora_csv_next(r, &nf, &fields, &lens, &line, diag);
        if (err == FORA_ENOTFOUND) {
            err = FORA_OK;
            break;
        }
        if (err != FORA_OK) goto out;
        if (nf == 1 && lens[0] == 0) continue; /* blank line */
        if (nf != tb->T + 1) {
            err = fora_diag_set(diag, FORA_EPARSE, "%s:%lld: %zu fields where the header has %zu",
                                path, (long long)line, nf, tb->T + 1);
            goto out;
        }
        if (tb->n == TRAJ_MAX_MEMBERS) {
            err = fora_diag_set(diag, FORA_ETOOLARGE, "%s:%lld: more than %d members", path,
                                (long long)line, TRAJ_MAX_MEMBERS);
            goto out;
        }
        if (tb->n == tb->cap) {
            size_t cap = tb->cap == 0 ? 1024 : 2 * tb->cap;
            double *y = realloc(tb->y, cap * tb->T * sizeof(double));
            if (y == NULL) goto nomem;
            tb->y = y;
            char **ids = realloc(tb->ids, cap * sizeof(char *));
            if (ids == NULL) goto nomem;
            tb->ids = ids;
            tb->cap = cap;
        }
        for (size_t k = 0; k < tb->T; k++) {
            const char *s = trim(fields[k + 1]);
            char *end;
            errno = 0;
            double v = strtod(s, &end);
            if (*s == '\0' || end == s || *end != '\0' || errno == ERANGE || !isfinite(v)) {
                err = fora_diag_set(diag, FORA_EPARSE,
                                    "%s:%lld: column \"%s\" (field %zu): \"%s\" is not a number",
                                    path, (long long)line, tb->periods[k], k + 2, s);
                goto out;
            }
            if (v < 0.0) {
                err = fora_diag_set(diag, FORA_EPARSE,
                                    "%s:%lld: column \"%s\" (field %zu): negative count \"%s\"",
                                    path, (long long)line, tb->periods[k], k + 2, s);
                goto out;
            }
            if (v != floor(v) || v > 1e9) {
                err = fora_diag_set(diag, FORA_EPARSE,
                                    "%s:%lld: column \"%s\" (field %zu): \"%s\" is not a whole "
                                    "count",
                                    path, (long long)line, tb->periods[k], k + 2, s);
                goto out;
            }
            tb->y[tb->n * tb->T + k] = v;
        }
        tb->ids[tb->n] = fora_xstrdup(trim(fields[0]));
        tb->n++;
    }
    if (tb->n == 0)
        err = fora_diag_set(diag, FORA_EPARSE, "%s: no members (only a header row)", path);
    goto out;
nomem:
    err = fora_diag_set(diag, FORA_ENOMEM, "%s: out of memory after %zu rows", path, tb->n);
out:
    fora_csv_close(r);
    return err;
}

static json_t *num(bool defined, double v)
{
    return defined && isfinite(v) ? json_real(v) : json_null();
}

static json_t *num_array(const double *v, size_t n, bool defined)
{
    json_t *a = json_array();
    for (size_t k = 0; a != NULL && k < n; k++)
        json_array_append_new(a, num(defined, v[k]));
    return a;
}

static json_t *fit_json(const fora_gbtm_fit_t *f, const table_t *tb, const double *time,
                        bool members)
{
    json_t *groups = json_array();
    for (size_t j = 0; j < f->K; j++) {
        const fora_gbtm_group_t *g = &f->groups[j];
        json_t *traj = json_array();
        for (size_t t = 0; t < f->nperiods; t++)
            json_array_append_new(traj, json_pack("{s:s, s:f, s:o, s:o, s:o, s:o}", "period",
                                                  tb->periods[t], "time", time[t], "lambda",
                                                  num(true, g->lambda[t]), "lower",
                                                  num(f->se_defined, g->lower[t]), "upper",
                                                  num(f->se_defined, g->upper[t]), "zero_prob",
                                                  num(true, g->zero_prob[t])));
        json_t *go = json_pack("{s:I, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "group",
                               (json_int_t)(j + 1), "order", g->order, "pi", num(true, g->pi),
                               "pi_se", num(f->se_defined || f->K == 1, g->pi_se), "assigned_share",
                               num(true, g->assigned_share), "avepp",
                               num(g->avepp_defined, g->avepp), "occ", num(g->occ_defined, g->occ),
                               "coef", num_array(g->coef, (size_t)g->order + 1, true), "se",
                               num_array(g->se, (size_t)g->order + 1, f->se_defined));
        if (f->model == FORA_GBTM_ZIP) {
            json_object_set_new(go, "zero_logit", num(true, g->zero_coef));
            json_object_set_new(go, "zero_logit_se", num(f->se_defined, g->zero_se));
            json_object_set_new(go, "zero_order", json_integer(g->zero_order));
            json_object_set_new(go, "zero_coef",
                                num_array(g->zero_coefs, (size_t)g->zero_order + 1, true));
            json_object_set_new(go, "zero_se",
                                num_array(g->zero_ses, (size_t)g->zero_order + 1, f->se_defined));
        } else if (f->model == FORA_GBTM_ZIPTAU) {
            json_object_set_new(go, "tau", num(true, exp(g->zero_coef)));
            json_object_set_new(go, "log_tau", num(true, g->zero_coef));
            json_object_set_new(go, "log_tau_se", num(f->se_defined, g->zero_se));
        }
        json_object_set_new(go, "trajectory", traj);
        json_array_append_new(groups, go);
    }
    json_t *o = json_pack(
        "{s:I, s:f, s:I, s:f, s:f, s:f, s:f, s:o, s:b, s:i, s:f, s:I, s:I, s:I, s:b, s:I, s:o}",
        "K", (json_int_t)f->K, "loglik", f->loglik, "npar", (json_int_t)f->npar, "bic", f->bic,
        "bic_members", f->bic, "bic_person_periods", f->bic_cells, "aic", f->aic, "entropy",
        num(f->entropy_defined, f->entropy), "converged", f->converged, "iterations", f->iterations,
        "grad_norm", f->grad_norm, "starts", (json_int_t)f->starts, "starts_at_best",
        (json_int_t)f->starts_at_best, "starts_failed", (json_int_t)f->starts_failed, "se_defined",
        f->se_defined, "patterns", (json_int_t)f->npatterns, "groups", groups);
    if (o != NULL && members) {
        json_t *ms = json_array();
        for (size_t i = 0; i < f->nmembers; i++)
            json_array_append_new(ms, json_pack("{s:s, s:I, s:o}", "id", tb->ids[i], "group",
                                                (json_int_t)(f->assigned[i] + 1), "posterior",
                                                num_array(f->posterior + i * f->K, f->K, true)));
        json_object_set_new(o, "members", ms);
    }
    return o;
}

static bool parse_range(const char *s, long long *a, long long *b)
{
    char *end;
    errno = 0;
    *a = strtoll(s, &end, 10);
    if (end == s || errno != 0) return false;
    if (*end == '\0') {
        *b = *a;
        return true;
    }
    if (*end != '-') return false;
    const char *t = end + 1;
    *b = strtoll(t, &end, 10);
    return end != t && *end == '\0' && errno == 0;
}

static int cmd_fit(int argc, char **argv)
{
    fora_cli_t cli = {0};
    fora_diag_t diag = FORA_DIAG_INIT;
    enum {
        OPT_CSV = FORA_OPT_FIRST_OWN,
        OPT_MODEL,
        OPT_ORDER,
        OPT_GROUPS,
        OPT_STARTS,
        OPT_SEED,
        OPT_MAXITER,
        OPT_MEMBERS,
        OPT_NOSE,
        OPT_MINSHARE,
        OPT_ZORDER
    };
    static const struct option opts[] = {FORA_CLI_COMMON_OPTIONS,
                                         {"wide-csv", required_argument, NULL, OPT_CSV},
                                         {"model", required_argument, NULL, OPT_MODEL},
                                         {"order", required_argument, NULL, OPT_ORDER},
                                         {"groups", required_argument, NULL, OPT_GROUPS},
                                         {"starts", required_argument, NULL, OPT_STARTS},
                                         {"seed", required_argument, NULL, OPT_SEED},
                                         {"max-iter", required_argument, NULL, OPT_MAXITER},
                                         {"members", no_argument, NULL, OPT_MEMBERS},
                                         {"no-se", no_argument, NULL, OPT_NOSE},
                                         {"min-share", required_argument, NULL, OPT_MINSHARE},
                                         {"zero-order", required_argument, NULL, OPT_ZORDER},
                                         {NULL, 0, NULL, 0}};
    const char *path = NULL;
    long long kmin = 1, kmax = 4, v;
    bool members = false;
    double min_share = 0.0;
    fora_gbtm_opts_t go;
    table_t tb = {0};
    double *time = NULL;
    json_t *doc = NULL;
    int c, rc = 0;

    fora_gbtm_opts_t go1; /* go with the per-group orders, for K = lists.norders */
    fora_traj_opts_t lists;
    fora_traj_opts_init(&lists);
    fora_gbtm_opts_init(&go);
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int r = fora_cli_common(&cli, c, trajectories_usage);
        if (r < 0) return 0;
        if (r > 0) continue;
        switch (c) {
        case OPT_CSV:
            path = optarg;
            break;
        case OPT_MODEL:
            if (strcmp(optarg, "poisson") == 0)
                go.model = FORA_GBTM_POISSON;
            else if (strcmp(optarg, "zip") == 0)
                go.model = FORA_GBTM_ZIP;
            else if (strcmp(optarg, "ziptau") == 0)
                go.model = FORA_GBTM_ZIPTAU;
            else
                return fora_cli_usage_error(
                    "trajectories", "--model must be poisson, zip or ziptau, not \"%s\"", optarg);
            break;
        case OPT_ORDER:
            if (strchr(optarg, ',') == NULL) {
                if (!fora_cli_parse_int("trajectories", "order", optarg, 0, FORA_GBTM_MAX_ORDER,
                                        &v))
                    return 2;
                go.order = (int)v;
                lists.norders = 0;
                break;
            }
            /* one order per group: the forum analysis' parser */
            if (fora_traj_opts_set(&lists, "order", optarg, &diag) != FORA_OK) {
                fora_diag_prefix(&diag, "--");
                return fora_cli_usage_error("trajectories", "%s", diag.msg);
            }
            go.order = lists.order;
            break;
        case OPT_ZORDER:
            if (!fora_cli_parse_int("trajectories", "zero-order", optarg, 0, FORA_GBTM_MAX_ORDER,
                                    &v))
                return 2;
            go.zero_order = (int)v;
            break;
        case OPT_GROUPS:
            if (!parse_range(optarg, &kmin, &kmax) || kmin < 1 || kmax < kmin ||
                kmax > FORA_GBTM_MAX_GROUPS)
                return fora_cli_usage_error("trajectories",
                                            "--groups must be A-B or K with 1 <= A <= B <= %d, "
                                            "not \"%s\"",
                                            FORA_GBTM_MAX_GROUPS, optarg);
            break;
        case OPT_STARTS:
            if (!fora_cli_parse_int("trajectories", "starts", optarg, 1, FORA_GBTM_MAX_STARTS, &v))
                return 2;
            go.starts = (size_t)v;
            break;
        case OPT_SEED:
            if (!fora_cli_parse_int("trajectories", "seed", optarg, 0, INT64_MAX, &v)) return 2;
            go.seed = (uint64_t)v;
            break;
        case OPT_MAXITER:
            if (!fora_cli_parse_int("trajectories", "max-iter", optarg, 1, 1000000, &v)) return 2;
            go.max_iter = (int)v;
            break;
        case OPT_MEMBERS:
            members = true;
            break;
        case OPT_MINSHARE: {
            char *end;
            errno = 0;
            min_share = strtod(optarg, &end);
            if (end == optarg || *end != '\0' || errno != 0 ||
                !(min_share >= 0.0 && min_share < 1.0))
                return fora_cli_usage_error(
                    "trajectories", "--min-share must be a number in [0, 1), not \"%s\"", optarg);
            break;
        }
        case OPT_NOSE:
            go.se = false;
            break;
        default:
            return fora_cli_usage_error("trajectories", "unknown option");
        }
    }
    if (optind != argc) return fora_cli_usage_error("trajectories", "unexpected argument");
    if (path == NULL) return fora_cli_usage_error("trajectories", "--wide-csv FILE is required");
    if (go.zero_order > 0 && go.model != FORA_GBTM_ZIP)
        return fora_cli_usage_error("trajectories", "--zero-order %d needs --model zip",
                                    go.zero_order);
    if (lists.norders > 0 && ((long long)lists.norders < kmin || (long long)lists.norders > kmax))
        return fora_cli_usage_error("trajectories",
                                    "--order lists %zu orders, so K = %zu must lie in --groups "
                                    "(%lld-%lld)",
                                    lists.norders, lists.norders, kmin, kmax);
    go1 = go;
    go1.orders = lists.norders > 0 ? lists.orders : NULL;

    if (read_wide(path, &tb, &diag) != FORA_OK) goto fail;
    time = malloc(tb.T * sizeof(double));
    if (time == NULL) {
        fora_diag_set(&diag, FORA_ENOMEM, "out of memory");
        goto fail;
    }
    double cen = 0.5 * (double)(tb.T - 1);
    for (size_t t = 0; t < tb.T; t++)
        time[t] = cen > 0 ? ((double)t - cen) / cen : 0.0;
    size_t need = fora_gbtm_npar((size_t)kmax, &go);
    if (tb.n < need) {
        fora_diag_set(&diag, FORA_EINVAL,
                      "%s: %zu members are fewer than the %zu parameters of a %lld-group %s "
                      "model (--groups)",
                      path, tb.n, need, kmax, fora_gbtm_model_name(go.model));
        goto fail;
    }
    fora_gbtm_data_t data = {tb.n, tb.T, tb.y, NULL, NULL, time};
    json_t *fits = json_array();
    json_t *tv = num_array(time, tb.T, true);
    doc = json_pack("{s:s, s:s, s:i, s:I, s:I, s:{s:s, s:o}, s:I, s:o}", "file", path, "model",
                    fora_gbtm_model_name(go.model), "order", go.order, "members", (json_int_t)tb.n,
                    "periods", (json_int_t)tb.T, "time", "basis",
                    "x = (p - (T-1)/2) / ((T-1)/2), p = 0..T-1; eta = b0 + b1 x + b2 x^2 + b3 x^3",
                    "values", tv, "seed", (json_int_t)go.seed, "fits", fits);
    if (doc == NULL) {
        fora_diag_set(&diag, FORA_ENOMEM, "out of memory building the JSON");
        goto fail;
    }
    double best_bic = INFINITY;
    long long best_k = 0;
    for (long long K = kmin; K <= kmax; K++) {
        fora_gbtm_fit_t *f = NULL;
        const fora_gbtm_opts_t *gk = (size_t)K == lists.norders ? &go1 : &go;
        if (fora_gbtm_fit(&data, (size_t)K, gk, &f, &diag) != FORA_OK) goto fail;
        if (!cli.quiet)
            fprintf(stderr, "fora: K=%lld loglik %.6f bic %.3f%s\n", K, f->loglik, f->bic,
                    f->converged ? "" : " (not converged)");
        bool admissible = true;
        for (size_t j = 0; j < f->K; j++)
            if (f->groups[j].pi < min_share) admissible = false;
        if (admissible && f->bic < best_bic) {
            best_bic = f->bic;
            best_k = K;
        }
        json_t *fj = fit_json(f, &tb, time, members);
        json_object_set_new(fj, "admissible", json_boolean(admissible));
        json_array_append_new(fits, fj);
        fora_gbtm_fit_destroy(f);
    }
    json_object_set_new(doc, "min_share", json_real(min_share));
    json_object_set_new(doc, "zero_order", json_integer(go.zero_order));
    if (lists.norders > 0) {
        json_t *ol = json_array();
        for (size_t j = 0; j < lists.norders; j++)
            json_array_append_new(ol, json_integer(lists.orders[j]));
        json_object_set_new(doc, "orders", ol);
    }
    json_object_set_new(doc, "best_bic_K", best_k > 0 ? json_integer(best_k) : json_null());
    if (fora_cli_print_json(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(17), &diag) != FORA_OK)
        goto fail;
    goto out;
fail:
    rc = fora_cli_fail(&diag);
out:
    json_decref(doc);
    free(time);
    table_destroy(&tb);
    return rc;
}

int fora_cmd_trajectories(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(trajectories_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "fit") == 0) return cmd_fit(argc - 1, argv + 1);
    return fora_cli_usage_error("trajectories", "unknown subcommand \"%s\" (expected fit)",
                                argv[1]);
}
