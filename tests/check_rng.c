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

START_TEST(test_double_and_normal)
{
    /* (k + 1/2) / 2^53 from the top 53 bits: state {1,2,3,4} gives 11520 first, whose top 53
     * bits are 11520 >> 11 = 5, so the first double is 5.5 / 2^53; never 0; moments right */
    aifx_rng r = {{1, 2, 3, 4}};
    double d, z;
    ck_assert_int_eq(aifx_rng_double(&r, &d), AIFX_OK);
    ck_assert_double_eq(d, 5.5 * 0x1.0p-53);
    aifx_rng_seed(&r, 9);
    const int n = 200000;
    double s = 0, s2 = 0, zs = 0, zs2 = 0, z4 = 0;
    for (int i = 0; i < n; i++) {
        aifx_rng_double(&r, &d);
        ck_assert(d > 0.0 && d < 1.0);
        s += d;
        s2 += d * d;
        ck_assert_int_eq(aifx_rng_normal(&r, &z), AIFX_OK);
        zs += z;
        zs2 += z * z;
        z4 += z * z * z * z;
    }
    ck_assert_double_eq_tol(s / n, 0.5, 5 * sqrt(1.0 / 12 / n));
    ck_assert_double_eq_tol(s2 / n - (s / n) * (s / n), 1.0 / 12, 0.002);
    ck_assert_double_eq_tol(zs / n, 0.0, 5 / sqrt(n));
    ck_assert_double_eq_tol(zs2 / n, 1.0, 0.02);
    ck_assert_double_eq_tol(z4 / n, 3.0, 0.15); /* Gaussian kurtosis */
    ck_assert_int_eq(aifx_rng_double(NULL, &d), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_rng_normal(&r, NULL), AIFX_ERR_INVALID);
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
    tcase_add_test(tc, test_double_and_normal);
    tcase_add_test(tc, test_invalid);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(rng_suite)
