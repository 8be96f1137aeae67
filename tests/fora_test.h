/*
 * tests/fora_test.h - the assertions of fora's unit tests (after libuv's).
 *
 * Each test file is one executable whose main() runs its cases with
 * FORA_RUN(case); a failed assertion prints file:line and the values, and the
 * process exits 1.  FORA_TEST_DATA is the tests/data folder.
 */
#ifndef FORA_TEST_H
#define FORA_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORA_FAIL(...)                                                                             \
    do {                                                                                           \
        fprintf(stderr, "%s:%d: assertion failed: ", __FILE__, __LINE__);                          \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        exit(1);                                                                                   \
    } while (0)

#define ASSERT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) FORA_FAIL("%s", #cond);                                                       \
    } while (0)

#define ASSERT_EQ(a, b)                                                                            \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ != b_) FORA_FAIL("%s == %s (%lld != %lld)", #a, #b, a_, b_);                        \
    } while (0)

#define ASSERT_STR_EQ(a, b)                                                                        \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)                                       \
            FORA_FAIL("%s == %s (\"%s\" != \"%s\")", #a, #b, a_ ? a_ : "(null)",                   \
                      b_ ? b_ : "(null)");                                                         \
    } while (0)

/* |a-b| <= tol * max(1, |b|) */
#define ASSERT_NEAR(a, b, tol)                                                                     \
    do {                                                                                           \
        double a_ = (double)(a), b_ = (double)(b), t_ = (double)(tol);                             \
        double s_ = fabs(b_) > 1.0 ? fabs(b_) : 1.0;                                               \
        if (!(fabs(a_ - b_) <= t_ * s_))                                                           \
            FORA_FAIL("%s ~= %s (%.17g vs %.17g, tol %g)", #a, #b, a_, b_, t_);                    \
    } while (0)

/* Asserts that a fora_err_t expression is FORA_OK, printing the diag if not. */
#define ASSERT_OK(expr, diagp)                                                                     \
    do {                                                                                           \
        int e_ = (int)(expr);                                                                      \
        if (e_ != 0) FORA_FAIL("%s returned %d: %s", #expr, e_, (diagp)->msg);                     \
    } while (0)

#define FORA_RUN(fn)                                                                               \
    do {                                                                                           \
        fprintf(stderr, "-- %s\n", #fn);                                                           \
        fn();                                                                                      \
    } while (0)

#endif /* FORA_TEST_H */
