/*
 * tests/ari.h - Hubert & Arabie's adjusted Rand index for the tests that
 * compare a fitted assignment with planted groups.
 */
#ifndef FORA_TEST_ARI_H
#define FORA_TEST_ARI_H

#include <stddef.h>
#include <stdlib.h>

/* The adjusted Rand index of two labelings a (0..ka-1) and b (0..kb-1) of n items.  O(n + ka kb).
 */
static inline double fora_test_ari(const int *a, const int *b, size_t n, int ka, int kb)
{
    double *tab = calloc((size_t)(ka * kb), sizeof *tab), *ra = calloc((size_t)ka, sizeof *ra),
           *rb = calloc((size_t)kb, sizeof *rb);
    if (tab == NULL || ra == NULL || rb == NULL) abort();
    for (size_t i = 0; i < n; i++) {
        tab[a[i] * kb + b[i]] += 1;
        ra[a[i]] += 1;
        rb[b[i]] += 1;
    }
    double sij = 0, sa = 0, sb = 0;
    for (int i = 0; i < ka * kb; i++)
        sij += tab[i] * (tab[i] - 1) / 2;
    for (int i = 0; i < ka; i++)
        sa += ra[i] * (ra[i] - 1) / 2;
    for (int i = 0; i < kb; i++)
        sb += rb[i] * (rb[i] - 1) / 2;
    double pairs = (double)n * ((double)n - 1) / 2, exp_ = sa * sb / pairs;
    free(tab);
    free(ra);
    free(rb);
    return (sij - exp_) / ((sa + sb) / 2 - exp_);
}

#endif /* FORA_TEST_ARI_H */
