/*
 * check_rng.c - the generator against the published reference outputs of splitmix64 and
 * xoshiro256**, and the distributions drawn from it.
 */
#include <check.h>
#include <math.h>

#include "aifxnn.h"
#include "check_main.h"
#include "internal.h"

START_TEST(test_xoshiro_reference)
{
    /* xoshiro256** from state {1, 2, 3, 4}: the first outputs of the authors' reference code */
    aifx_rng r = {{1, 2, 3, 4}};
    const uint64_t want[4] = {11520u, 0u, 1509978240u, 1215971899390074240u};
    for (int i = 0; i < 4; i++) {
        uint64_t v;
        ck_assert_int_eq(aifx_rng_u64(&r, &v), AIFX_OK);
        ck_assert_uint_eq(v, want[i]);
    }
}
END_TEST

START_TEST(test_seed_splitmix)
{
    /* seeding runs splitmix64 from the seed; its first output for seed 0 is 0xe220a8397b1dcdaf */
    aifx_rng r;
    ck_assert_int_eq(aifx_rng_seed(&r, 0), AIFX_OK);
    ck_assert_uint_eq(r.s[0], 0xe220a8397b1dcdafull);
    ck_assert_uint_eq(r.s[1], 0x6e789e6aa1b965f4ull);
}
END_TEST

START_TEST(test_uniform_and_normal)
{
    aifx_rng r;
    aifx_rng_seed(&r, 42);
    const int n = 200000;
    double s = 0, s2 = 0, ns = 0, ns2 = 0;
    float lo = 1, hi = 0;
    for (int i = 0; i < n; i++) {
        float u;
        ck_assert_int_eq(aifx_rng_uniform(&r, &u), AIFX_OK);
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
        s += u;
        s2 += (double)u * u;
        double z = aifx__rng_normal(&r);
        ns += z;
        ns2 += z * z;
    }
    ck_assert(lo >= 0.0f && hi < 1.0f);
    /* mean 1/2 and variance 1/12 within ~5 standard errors */
    ck_assert_double_eq_tol(s / n, 0.5, 5 * sqrt(1.0 / 12 / n));
    ck_assert_double_eq_tol(s2 / n - (s / n) * (s / n), 1.0 / 12, 0.002);
    ck_assert_double_eq_tol(ns / n, 0.0, 5 / sqrt(n));
    ck_assert_double_eq_tol(ns2 / n, 1.0, 0.02);
}
END_TEST

START_TEST(test_invalid)
{
    uint64_t v;
    float f;
    aifx_rng r;
    ck_assert_int_eq(aifx_rng_seed(NULL, 1), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_rng_u64(NULL, &v), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_rng_u64(&r, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_rng_uniform(NULL, &f), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_rng_uniform(&r, NULL), AIFX_ERR_INVALID);
}
END_TEST

static Suite *rng_suite(void)
{
    Suite *s = suite_create("rng");
    TCase *tc = tcase_create("rng");
    tcase_add_test(tc, test_xoshiro_reference);
    tcase_add_test(tc, test_seed_splitmix);
    tcase_add_test(tc, test_uniform_and_normal);
    tcase_add_test(tc, test_invalid);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(rng_suite)
