/*
 * tests/unit/test_gbtm.c - the GBTM engine (analysis/gbtm.c, gbtm_fit.c):
 *  - the log-likelihood of tiny data sets against the mixture formula
 *    written out term by term (Poisson, ZIP, ZIP(tau), with an at-risk mask
 *    and an exposure offset);
 *  - ZIP with a time-varying zero inflation (zero_order): its likelihood
 *    written out, and recovery of planted coefficients;
 *  - the analytic gradient against central finite differences of the
 *    log-likelihood, for every model (ZIP with zero_order 0, 1 and 3);
 *  - AvePP, OCC, assigned shares and relative entropy on posteriors worked
 *    out by hand;
 *  - collapsing identical members into patterns changes nothing (the same
 *    log-likelihood at a fixed theta, the same fitted optimum);
 *  - planted groups: BIC picks the planted K and the assignment recovers
 *    them (adjusted Rand index >= 0.9);
 *  - bad input and options: each a clear error naming what is wrong.
 * The TO1adj comparisons with flexmix and crimCV run through the CLI in
 * tests/integration/test_gbtm.sh.
 */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "fora/gbtm.h"
#include "fora_test.h"

static double lpois(double y, double lam)
{
    return y * log(lam) - lam - lgamma(y + 1.0);
}

/* ZIP density with zero probability p. */
static double zipd(double y, double lam, double p)
{
    return y == 0.0 ? p + (1.0 - p) * exp(-lam) : (1.0 - p) * exp(lpois(y, lam));
}

/* 3 members x 3 periods; member 2's first period is not at risk (its count
 * 7 must be ignored) and member 3's last period has half an exposure. */
static const double tiny_y[9] = {1, 0, 0, 7, 2, 3, 0, 4, 1};
static const uint8_t tiny_mask[9] = {1, 1, 1, 0, 1, 1, 1, 1, 1};
static const double tiny_time[3] = {-1.0, 0.0, 1.0};
#define LOG_HALF (-0.69314718055994530942)
static const double tiny_off[9] = {0, 0, 0, 0, 0, 0, 0, 0, LOG_HALF};

static void test_loglik_tiny(void)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    fora_gbtm_data_t d = {3, 3, tiny_y, tiny_mask, tiny_off, tiny_time};
    fora_gbtm_opts_t o;
    fora_gbtm_opts_init(&o);
    o.order = 1;
    const double th2 = 0.4, b1[2] = {-0.5, 0.3}, b2[2] = {1.0, -0.2};
    const double pi2 = exp(th2) / (1.0 + exp(th2)), pi1 = 1.0 - pi2;

    for (int model = 0; model < 3; model++) {
        o.model = (fora_gbtm_model_t)model;
        /* zero-inflation parameters: ZIP logits g_j, ZIP(tau) log tau_j */
        const double z1 = model == FORA_GBTM_ZIP ? -1.2 : log(0.7);
        const double z2 = model == FORA_GBTM_ZIP ? 0.3 : log(1.6);
        double theta[7];
        size_t k = 0;
        theta[k++] = th2;
        theta[k++] = b1[0];
        theta[k++] = b1[1];
        if (model != FORA_GBTM_POISSON) theta[k++] = z1;
        theta[k++] = b2[0];
        theta[k++] = b2[1];
        if (model != FORA_GBTM_POISSON) theta[k++] = z2;
        ASSERT_EQ(k, fora_gbtm_npar(2, &o));

        double expect = 0.0;
        for (int i = 0; i < 3; i++) {
            double L[2] = {1.0, 1.0};
            for (int j = 0; j < 2; j++) {
                const double *b = j == 0 ? b1 : b2, z = j == 0 ? z1 : z2;
                for (int t = 0; t < 3; t++) {
                    if (!tiny_mask[i * 3 + t]) continue;
                    double eta = b[0] + b[1] * tiny_time[t];
                    double lam = exp(eta + tiny_off[i * 3 + t]), y = tiny_y[i * 3 + t];
                    double p = model == FORA_GBTM_ZIP      ? 1.0 / (1.0 + exp(-z))
                               : model == FORA_GBTM_ZIPTAU ? 1.0 / (1.0 + exp(exp(z) * eta))
                                                           : 0.0;
                    L[j] *= zipd(y, lam, p);
                }
            }
            expect += log(pi1 * L[0] + pi2 * L[1]);
        }
        double ll;
        ASSERT_OK(fora_gbtm_loglik(&d, 2, &o, theta, &ll, NULL, &diag), &diag);
        ASSERT_NEAR(ll, expect, 1e-12);
    }
}

/*
 * ZIP with a time-varying zero inflation, logit p_jt = g_j0 + g_j1 x_t, on the
 * same tiny data (mask and offset): the mixture written out.
 */
static void test_loglik_zip_time(void)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    fora_gbtm_data_t d = {3, 3, tiny_y, tiny_mask, tiny_off, tiny_time};
    fora_gbtm_opts_t o;
    fora_gbtm_opts_init(&o);
    o.model = FORA_GBTM_ZIP;
    o.order = 1;
    o.zero_order = 1;
    const double th2 = -0.3, b[2][2] = {{-0.5, 0.3}, {1.0, -0.2}},
                 g[2][2] = {{-1.2, 0.8}, {0.3, -0.6}};
    const double theta[9] = {th2,     b[0][0], b[0][1], g[0][0], g[0][1],
                             b[1][0], b[1][1], g[1][0], g[1][1]};
    ASSERT_EQ(fora_gbtm_npar(2, &o), 9);
    const double pi2 = exp(th2) / (1.0 + exp(th2)), pi1 = 1.0 - pi2;
    double expect = 0.0;
    for (int i = 0; i < 3; i++) {
        double L[2] = {1.0, 1.0};
        for (int j = 0; j < 2; j++)
            for (int t = 0; t < 3; t++) {
                if (!tiny_mask[i * 3 + t]) continue;
                double x = tiny_time[t], eta = b[j][0] + b[j][1] * x;
                double p = 1.0 / (1.0 + exp(-(g[j][0] + g[j][1] * x)));
                L[j] *= zipd(tiny_y[i * 3 + t], exp(eta + tiny_off[i * 3 + t]), p);
            }
        expect += log(pi1 * L[0] + pi2 * L[1]);
    }
    double ll;
    ASSERT_OK(fora_gbtm_loglik(&d, 2, &o, theta, &ll, NULL, &diag), &diag);
    ASSERT_NEAR(ll, expect, 1e-12);
    /* zero_order 0 is the constant ZIP: g_j1 dropped */
    o.zero_order = 0;
    const double th0[7] = {th2, b[0][0], b[0][1], g[0][0], b[1][0], b[1][1], g[1][0]};
    double ll0, ll1;
    ASSERT_OK(fora_gbtm_loglik(&d, 2, &o, th0, &ll0, NULL, &diag), &diag);
    o.zero_order = 1;
    const double th1[9] = {th2, b[0][0], b[0][1], g[0][0], 0, b[1][0], b[1][1], g[1][0], 0};
    ASSERT_OK(fora_gbtm_loglik(&d, 2, &o, th1, &ll1, NULL, &diag), &diag);
    ASSERT_NEAR(ll0, ll1, 1e-13);
}

/*
 * Planted time-varying zero inflation: two groups, N = 1500, T = 20,
 * group 1 (55 %): log lambda = 1.0, logit p = -1.0 + 1.8 x;
 * group 2 (45 %): log lambda = 2.0 - 0.5 x, logit p = 0.5 - 1.5 x.
 * The zero_order-1 fit recovers the coefficients (within 0.15) and beats the
 * constant ZIP by a wide margin (the nested model cannot be better).
 */
static void test_zip_time_planted(void)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    enum { N = 1500, T = 20 };
    static double y[N * T], time[T];
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 11);
    for (int t = 0; t < T; t++)
        time[t] = -1.0 + 2.0 * t / (T - 1);
    const double B[2][2] = {{1.0, 0.0}, {2.0, -0.5}}, G[2][2] = {{-1.0, 1.8}, {0.5, -1.5}};
    for (int i = 0; i < N; i++) {
        int g = gsl_rng_uniform(rng) < 0.55 ? 0 : 1;
        for (int t = 0; t < T; t++) {
            double x = time[t], p = 1.0 / (1.0 + exp(-(G[g][0] + G[g][1] * x)));
            y[i * T + t] = gsl_rng_uniform(rng) < p
                               ? 0.0
                               : (double)gsl_ran_poisson(rng, exp(B[g][0] + B[g][1] * x));
        }
    }
    fora_gbtm_data_t d = {N, T, y, NULL, NULL, time};
    fora_gbtm_opts_t o;
    fora_gbtm_opts_init(&o);
    o.model = FORA_GBTM_ZIP;
    o.order = 1;
    o.starts = 3;
    o.zero_order = 1;
    fora_gbtm_fit_t *f = NULL, *f0 = NULL;
    ASSERT_OK(fora_gbtm_fit(&d, 2, &o, &f, &diag), &diag);
    ASSERT(f->converged && f->se_defined);
    ASSERT_EQ(f->npar, 9);
    for (int j = 0; j < 2; j++) {
        const fora_gbtm_group_t *g = &f->groups[j];
        ASSERT_EQ(g->zero_order, 1);
        for (int k = 0; k < 2; k++) {
            ASSERT_NEAR(g->coef[k], B[j][k], 0.15);
            ASSERT_NEAR(g->zero_coefs[k], G[j][k], 0.15);
            ASSERT(g->zero_ses[k] > 0 && g->zero_ses[k] < 0.2);
        }
        ASSERT_NEAR(g->zero_coef, g->zero_coefs[0], 0);
        /* p_jt as served */
        double s = g->zero_coefs[0] + g->zero_coefs[1] * time[T - 1];
        ASSERT_NEAR(g->zero_prob[T - 1], 1.0 / (1.0 + exp(-s)), 1e-12);
    }
    ASSERT_NEAR(f->groups[0].pi, 0.55, 0.04);
    o.zero_order = 0;
    ASSERT_OK(fora_gbtm_fit(&d, 2, &o, &f0, &diag), &diag);
    ASSERT_EQ(f0->npar, 7);
    fprintf(stderr, "zip zero_order 1: loglik %.3f, constant zip %.3f\n", f->loglik, f0->loglik);
    ASSERT(f->loglik > f0->loglik + 100);
    ASSERT(f->bic < f0->bic);
    fora_gbtm_fit_destroy(f);
    fora_gbtm_fit_destroy(f0);
    gsl_rng_free(rng);
}

static void check_gradient_z(fora_gbtm_model_t model, int order, size_t K, int zero_order)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    enum { N = 40, T = 8 };
    static double y[N * T], off[N * T], time[T];
    static uint8_t mask[N * T];
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 7);
    for (int t = 0; t < T; t++)
        time[t] = -1.0 + 2.0 * t / (T - 1);
    for (int i = 0; i < N * T; i++) {
        y[i] = gsl_rng_uniform(rng) < 0.5 ? 0.0 : (double)gsl_ran_poisson(rng, 2.0);
        mask[i] = gsl_rng_uniform(rng) < 0.9;
        off[i] = gsl_rng_uniform(rng) < 0.2 ? log(gsl_rng_uniform_pos(rng)) : 0.0;
    }
    fora_gbtm_data_t d = {N, T, y, mask, off, time};
    fora_gbtm_opts_t o;
    fora_gbtm_opts_init(&o);
    o.model = model;
    o.order = order;
    o.zero_order = zero_order;
    size_t m = fora_gbtm_npar(K, &o);
    double theta[64], grad[64], tp[64];
    for (size_t k = 0; k < m; k++)
        theta[k] = 0.6 * gsl_rng_uniform(rng) - 0.3;
    double ll;
    ASSERT_OK(fora_gbtm_loglik(&d, K, &o, theta, &ll, grad, &diag), &diag);
    for (size_t k = 0; k < m; k++) {
        double h = 1e-5, lp, lm;
        memcpy(tp, theta, m * sizeof(double));
        tp[k] = theta[k] + h;
        ASSERT_OK(fora_gbtm_loglik(&d, K, &o, tp, &lp, NULL, &diag), &diag);
        tp[k] = theta[k] - h;
        ASSERT_OK(fora_gbtm_loglik(&d, K, &o, tp, &lm, NULL, &diag), &diag);
        double fd = (lp - lm) / (2.0 * h);
        if (!(fabs(fd - grad[k]) <= 1e-5 * fmax(1.0, fabs(fd))))
            FORA_FAIL("model %d K %zu: d/dtheta_%zu analytic %.10g vs finite difference %.10g",
                      (int)model, K, k, grad[k], fd);
    }
    gsl_rng_free(rng);
}

static void check_gradient(fora_gbtm_model_t model, int order, size_t K)
{
    check_gradient_z(model, order, K, 0);
}

static void test_gradient(void)
{
    check_gradient_z(FORA_GBTM_ZIP, 2, 2, 1);
    check_gradient_z(FORA_GBTM_ZIP, 1, 3, 3);
    check_gradient(FORA_GBTM_POISSON, 2, 3);
    check_gradient(FORA_GBTM_ZIP, 3, 2);
    check_gradient(FORA_GBTM_ZIPTAU, 3, 3);
    check_gradient(FORA_GBTM_ZIPTAU, 0, 1);
}

static void test_diagnostics(void)
{
    /* assigned: members 1, 2 to group 1 (largest posteriors 0.9, 0.8), member 3
     * to group 2 (0.7).  AvePP = 0.85 and 0.7; OCC_1 = (0.85/0.15)/(0.6/0.4)
     * = 34/9, OCC_2 = (0.7/0.3)/(0.4/0.6) = 3.5; entropy
     * 1 - [H(.9,.1) + H(.8,.2) + H(.3,.7)] / (3 ln 2) = 0.30926180409755444. */
    const double post[6] = {0.9, 0.1, 0.8, 0.2, 0.3, 0.7}, pi[2] = {0.6, 0.4};
    fora_gbtm_group_t g[2] = {{0}};
    double ent;
    bool ent_def;
    fora_gbtm_diagnostics(post, NULL, 3, 2, pi, g, &ent, &ent_def);
    ASSERT_NEAR(g[0].assigned_share, 2.0 / 3.0, 1e-15);
    ASSERT_NEAR(g[1].assigned_share, 1.0 / 3.0, 1e-15);
    ASSERT(g[0].avepp_defined && g[1].avepp_defined);
    ASSERT_NEAR(g[0].avepp, 0.85, 1e-15);
    ASSERT_NEAR(g[1].avepp, 0.7, 1e-15);
    ASSERT(g[0].occ_defined && g[1].occ_defined);
    ASSERT_NEAR(g[0].occ, 34.0 / 9.0, 1e-14);
    ASSERT_NEAR(g[1].occ, 3.5, 1e-14);
    ASSERT(ent_def);
    ASSERT_NEAR(ent, 0.30926180409755444, 1e-14);

    /* weights: the same as repeating the rows */
    const double post2[4] = {0.9, 0.1, 0.3, 0.7}, w[2] = {2.0, 1.0};
    const double post3[6] = {0.9, 0.1, 0.9, 0.1, 0.3, 0.7};
    fora_gbtm_group_t a[2] = {{0}}, b[2] = {{0}};
    double ea, eb;
    fora_gbtm_diagnostics(post2, w, 2, 2, pi, a, &ea, &ent_def);
    fora_gbtm_diagnostics(post3, NULL, 3, 2, pi, b, &eb, &ent_def);
    ASSERT_NEAR(a[0].avepp, b[0].avepp, 1e-15);
    ASSERT_NEAR(a[0].assigned_share, b[0].assigned_share, 1e-15);
    ASSERT_NEAR(ea, eb, 1e-15);

    /* nobody assigned to group 2; a certain assignment has no OCC */
    const double post4[4] = {1.0, 0.0, 0.6, 0.4};
    fora_gbtm_diagnostics(post4, NULL, 2, 2, pi, g, &ent, &ent_def);
    ASSERT(!g[1].avepp_defined && isnan(g[1].avepp));
    ASSERT(!g[1].occ_defined && isnan(g[1].occ));
    ASSERT_NEAR(g[0].avepp, 0.8, 1e-15);
    /* one group: entropy undefined */
    const double one[2] = {1.0, 1.0}, pi1[1] = {1.0};
    fora_gbtm_diagnostics(one, NULL, 2, 1, pi1, g, &ent, &ent_def);
    ASSERT(!ent_def && isnan(ent));
    ASSERT(!g[0].occ_defined);
}

/* Loads tests/data/gbtm/TO1adj_wide.csv (no quoting, integers) as n x 31. */
static double *load_to1adj(size_t *n)
{
    FILE *f = fopen(FORA_TEST_DATA "/gbtm/TO1adj_wide.csv", "r");
    ASSERT(f != NULL);
    char line[4096];
    ASSERT(fgets(line, sizeof(line), f) != NULL);
    double *y = malloc(400 * 31 * sizeof(double));
    *n = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        char *p = line, *end;
        strtol(p, &end, 10);
        p = end;
        for (int t = 0; t < 31; t++) {
            ASSERT(*p == ',');
            y[*n * 31 + (size_t)t] = strtod(p + 1, &end);
            p = end;
        }
        (*n)++;
    }
    fclose(f);
    ASSERT_EQ(*n, 378);
    return y;
}

static void test_collapse(void)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    size_t n;
    double *base = load_to1adj(&n);
    /* every member three times */
    double *y = malloc(3 * n * 31 * sizeof(double)), time[31];
    for (size_t r = 0; r < 3; r++)
        memcpy(y + r * n * 31, base, n * 31 * sizeof(double));
    for (int t = 0; t < 31; t++)
        time[t] = (t - 15) / 15.0;
    fora_gbtm_data_t d = {3 * n, 31, y, NULL, NULL, time};
    fora_gbtm_opts_t o;
    fora_gbtm_opts_init(&o);
    o.model = FORA_GBTM_ZIPTAU;
    o.order = 2;
    o.starts = 4;
    fora_gbtm_fit_t *fc = NULL, *fu = NULL;
    ASSERT_OK(fora_gbtm_fit(&d, 3, &o, &fc, &diag), &diag);
    o.collapse = false;
    ASSERT_OK(fora_gbtm_fit(&d, 3, &o, &fu, &diag), &diag);
    ASSERT(fc->npatterns < n); /* TO1adj has a few identical members */
    ASSERT_EQ(fu->npatterns, 3 * n);
    ASSERT_NEAR(fc->loglik, fu->loglik, 1e-9);
    /* at the same theta the two give the same log-likelihood and gradient */
    double llc, llu, gc[64], gu[64];
    o.collapse = true;
    ASSERT_OK(fora_gbtm_loglik(&d, 3, &o, fc->theta, &llc, gc, &diag), &diag);
    o.collapse = false;
    ASSERT_OK(fora_gbtm_loglik(&d, 3, &o, fc->theta, &llu, gu, &diag), &diag);
    ASSERT_NEAR(llc, llu, 1e-12);
    ASSERT_NEAR(llc, fc->loglik, 1e-12);
    for (size_t k = 0; k < fc->npar; k++)
        ASSERT_NEAR(gc[k], gu[k], 1e-8);
    for (size_t j = 0; j < 3; j++) {
        ASSERT_NEAR(fc->groups[j].pi, fu->groups[j].pi, 1e-6);
        ASSERT_NEAR(fc->groups[j].avepp, fu->groups[j].avepp, 1e-6);
    }
    /* each copy of a member has the same posterior */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < 3; j++)
            ASSERT(fc->posterior[i * 3 + j] == fc->posterior[(i + 2 * n) * 3 + j]);
    fora_gbtm_fit_destroy(fc);
    fora_gbtm_fit_destroy(fu);
    free(y);
    free(base);
}

/* adjusted Rand index of two labelings with K classes each */
static double ari(const int32_t *a, const int32_t *b, size_t n, size_t K)
{
    double c[8][8] = {{0}}, ra[8] = {0}, rb[8] = {0};
    for (size_t i = 0; i < n; i++) {
        c[a[i]][b[i]] += 1;
        ra[a[i]] += 1;
        rb[b[i]] += 1;
    }
    double sij = 0, sa = 0, sb = 0, nn = (double)n * (n - 1) / 2;
    for (size_t i = 0; i < K; i++) {
        sa += ra[i] * (ra[i] - 1) / 2;
        sb += rb[i] * (rb[i] - 1) / 2;
        for (size_t j = 0; j < K; j++)
            sij += c[i][j] * (c[i][j] - 1) / 2;
    }
    double e = sa * sb / nn;
    return (sij - e) / (0.5 * (sa + sb) - e);
}

static void test_planted(void)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    enum { N = 900, T = 24 };
    static double y[N * T], time[T];
    static int32_t truth[N];
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 42);
    for (int t = 0; t < T; t++)
        time[t] = -1.0 + 2.0 * t / (T - 1);
    /* rare low posters (60 %), escalators (25 %), early heavy decliners (15 %) */
    for (int i = 0; i < N; i++) {
        double u = gsl_rng_uniform(rng);
        int g = u < 0.6 ? 0 : (u < 0.85 ? 1 : 2);
        truth[i] = g;
        for (int t = 0; t < T; t++) {
            double x = time[t];
            double eta = g == 0 ? -1.6 : (g == 1 ? 0.2 + 1.3 * x : 1.5 - 1.2 * x - 0.5 * x * x);
            y[i * T + t] = (double)gsl_ran_poisson(rng, exp(eta));
        }
    }
    fora_gbtm_data_t d = {N, T, y, NULL, NULL, time};
    fora_gbtm_opts_t o;
    fora_gbtm_opts_init(&o);
    o.order = 2;
    o.starts = 5;
    double best_bic = INFINITY;
    size_t best_k = 0;
    for (size_t K = 1; K <= 5; K++) {
        fora_gbtm_fit_t *f = NULL;
        ASSERT_OK(fora_gbtm_fit(&d, K, &o, &f, &diag), &diag);
        ASSERT(f->converged);
        ASSERT(f->starts_at_best >= 1);
        if (f->bic < best_bic) {
            best_bic = f->bic;
            best_k = K;
        }
        if (K == 3) {
            double r = ari(truth, f->assigned, N, 3);
            if (!(r >= 0.9)) FORA_FAIL("adjusted Rand index %.4f < 0.9", r);
            /* groups come by increasing mean rate: the low group first */
            ASSERT_NEAR(f->groups[0].pi, 0.6, 0.05);
            ASSERT_NEAR(f->groups[0].coef[0], -1.6, 0.1);
            ASSERT(f->se_defined);
            for (size_t j = 0; j < 3; j++) {
                ASSERT(f->groups[j].avepp > 0.9);
                ASSERT(f->groups[j].se[0] > 0.0 && f->groups[j].se[0] < 0.2);
                for (size_t t = 0; t < T; t++)
                    ASSERT(f->groups[j].lower[t] < f->groups[j].lambda[t] &&
                           f->groups[j].lambda[t] < f->groups[j].upper[t]);
            }
        }
        fora_gbtm_fit_destroy(f);
    }
    ASSERT_EQ(best_k, 3);
    gsl_rng_free(rng);
}

static void expect_error(const fora_gbtm_data_t *d, size_t K, const fora_gbtm_opts_t *o,
                         fora_err_t code, const char *needle)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    fora_gbtm_fit_t *f = NULL;
    fora_err_t err = fora_gbtm_fit(d, K, o, &f, &diag);
    if (err != code) FORA_FAIL("expected error %d, got %d (%s)", (int)code, (int)err, diag.msg);
    ASSERT(f == NULL);
    if (strstr(diag.msg, needle) == NULL) FORA_FAIL("\"%s\" lacks \"%s\"", diag.msg, needle);
}

static void test_bad_input(void)
{
    fora_gbtm_data_t d = {3, 3, tiny_y, tiny_mask, tiny_off, tiny_time};
    fora_gbtm_opts_t o;
    fora_gbtm_opts_init(&o);
    o.order = 0;
    expect_error(&d, 0, &o, FORA_EINVAL, "number of groups 0 out of range");
    expect_error(&d, 21, &o, FORA_EINVAL, "number of groups 21 out of range");
    o.order = 4;
    expect_error(&d, 1, &o, FORA_EINVAL, "polynomial order 4 (group 1) out of range 0..3");
    o.order = 2;
    expect_error(&d, 2, &o, FORA_EINVAL, "3 members are fewer than the 7 parameters");
    o.order = 0;
    o.starts = 0;
    expect_error(&d, 1, &o, FORA_EINVAL, "starts 0 out of range");
    o.starts = 10;
    o.zero_order = 4;
    o.model = FORA_GBTM_ZIP;
    expect_error(&d, 1, &o, FORA_EINVAL, "zero_order 4 out of range 0..3");
    o.zero_order = 1;
    o.model = FORA_GBTM_ZIPTAU;
    expect_error(&d, 1, &o, FORA_EINVAL, "zero_order 1 needs the zip model");
    ASSERT_EQ(fora_gbtm_npar(1, &o), 0);
    o.zero_order = 0;
    o.model = FORA_GBTM_POISSON;
    double bad[9];
    memcpy(bad, tiny_y, sizeof(bad));
    bad[4] = -1.0;
    fora_gbtm_data_t db = {3, 3, bad, tiny_mask, NULL, tiny_time};
    expect_error(&db, 1, &o, FORA_EINVAL, "member 2, period 2: count -1 is not a whole number");
    bad[4] = 1.5;
    expect_error(&db, 1, &o, FORA_EINVAL, "member 2, period 2: count 1.5");
    bad[4] = NAN;
    expect_error(&db, 1, &o, FORA_EINVAL, "member 2, period 2: count nan");
    /* a NaN where not at risk is ignored */
    bad[4] = 2.0;
    bad[3] = NAN;
    fora_diag_t diag = FORA_DIAG_INIT;
    fora_gbtm_fit_t *f = NULL;
    ASSERT_OK(fora_gbtm_fit(&db, 1, &o, &f, &diag), &diag);
    ASSERT_EQ(f->ncells, 8);
    /* one group, order 0, no offset: lambda = mean count = 11 / 8 */
    ASSERT_NEAR(f->groups[0].lambda[0], 11.0 / 8.0, 1e-9);
    ASSERT(f->converged);
    fora_gbtm_fit_destroy(f);
    double boff[9] = {0};
    boff[5] = INFINITY;
    fora_gbtm_data_t dof = {3, 3, tiny_y, tiny_mask, boff, tiny_time};
    expect_error(&dof, 1, &o, FORA_EINVAL, "member 2, period 3: offset is not finite");
    const double btime[3] = {0, NAN, 1};
    fora_gbtm_data_t dt = {3, 3, tiny_y, tiny_mask, NULL, btime};
    expect_error(&dt, 1, &o, FORA_EINVAL, "time of period 2 is not finite");
}

int main(void)
{
    gsl_set_error_handler_off(); /* as server/main.c does */
    FORA_RUN(test_loglik_tiny);
    FORA_RUN(test_loglik_zip_time);
    FORA_RUN(test_gradient);
    FORA_RUN(test_zip_time_planted);
    FORA_RUN(test_diagnostics);
    FORA_RUN(test_collapse);
    FORA_RUN(test_planted);
    FORA_RUN(test_bad_input);
    return 0;
}
