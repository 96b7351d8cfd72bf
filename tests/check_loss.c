/*
 * check_loss.c - softmax cross-entropy and balanced class weights against hand computation.
 */
#include <check.h>
#include <math.h>

#include "aifxnn.h"
#include "check_main.h"

START_TEST(test_xent_values)
{
    /* logits (2, 3); by hand: row 0 softmax of (1, 2, 3) = (0.0900306, 0.2447285, 0.6652410),
     * row 1 of (0, 0, ln 2) = (0.25, 0.25, 0.5). Labels 2 and 0, weights (2, 1, 0.5):
     * loss = (0.5 * -ln 0.6652410 + 2 * -ln 0.25) / (0.5 + 2) */
    const float z[6] = {1, 2, 3, 0, 0, (float)log(2.0)};
    const int32_t y[2] = {2, 0};
    const float w[3] = {2.0f, 1.0f, 0.5f};
    float p[6], loss, d[6];
    ck_assert_int_eq(aifx_softmax_xent(2, 3, z, y, w, p, &loss, d), AIFX_OK);
    const double p0[3] = {0.09003057317038046, 0.24472847105479764, 0.6652409557748219};
    for (int j = 0; j < 3; j++)
        ck_assert_double_eq_tol(p[j], p0[j], 1e-7);
    ck_assert_double_eq_tol(p[3], 0.25, 1e-7);
    ck_assert_double_eq_tol(p[5], 0.5, 1e-7);
    double want = (0.5 * -log(p0[2]) + 2.0 * -log(0.25)) / 2.5;
    ck_assert_double_eq_tol(loss, want, 1e-6);
    /* d loss / d z = w_y (p - onehot) / W */
    ck_assert_double_eq_tol(d[2], 0.5 * (p0[2] - 1) / 2.5, 1e-7);
    ck_assert_double_eq_tol(d[0], 0.5 * p0[0] / 2.5, 1e-7);
    ck_assert_double_eq_tol(d[3], 2.0 * (0.25 - 1) / 2.5, 1e-7);
    ck_assert_double_eq_tol(d[5], 2.0 * 0.5 / 2.5, 1e-7);
}
END_TEST

START_TEST(test_xent_extreme_logits)
{
    /* large logits must not overflow: softmax of (1000, 0) is (1, 0) and the loss of label 1 is
     * 1000 */
    const float z[2] = {1000.0f, 0.0f};
    const int32_t y[1] = {1};
    float p[2], loss;
    ck_assert_int_eq(aifx_softmax_xent(1, 2, z, y, NULL, p, &loss, NULL), AIFX_OK);
    ck_assert(isfinite(loss));
    ck_assert_double_eq_tol(loss, 1000.0, 1e-3);
    ck_assert_double_eq_tol(p[0], 1.0, 1e-7);
}
END_TEST

START_TEST(test_xent_zero_weight_total)
{
    /* every sample in a zero-weight class: defined as loss 0 with zero gradient, not 0/0 */
    const float z[4] = {0.3f, -1.0f, 2.0f, 0.0f};
    const int32_t y[2] = {1, 1};
    const float w[2] = {1.0f, 0.0f};
    float loss = -1, d[4];
    ck_assert_int_eq(aifx_softmax_xent(2, 2, z, y, w, NULL, &loss, d), AIFX_OK);
    ck_assert_float_eq(loss, 0.0f);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(d[i], 0.0f);
}
END_TEST

START_TEST(test_xent_invalid)
{
    const float z[4] = {0, 0, 0, 0};
    const int32_t y[2] = {0, 1}, bad[2] = {0, 2}, neg[2] = {-1, 0};
    const float wneg[2] = {1.0f, -1.0f}, wnan[2] = {1.0f, NAN};
    const float znan[4] = {0, NAN, 0, 0};
    float loss;
    ck_assert_int_eq(aifx_softmax_xent(0, 2, z, y, NULL, NULL, &loss, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_softmax_xent(2, 1, z, y, NULL, NULL, &loss, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_softmax_xent(2, 2, NULL, y, NULL, NULL, &loss, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_softmax_xent(2, 2, z, NULL, NULL, NULL, &loss, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_softmax_xent(2, 2, z, bad, NULL, NULL, &loss, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_softmax_xent(2, 2, z, neg, NULL, NULL, &loss, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_softmax_xent(2, 2, z, y, wneg, NULL, &loss, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_softmax_xent(2, 2, z, y, wnan, NULL, &loss, NULL), AIFX_ERR_NONFINITE);
    ck_assert_int_eq(aifx_softmax_xent(2, 2, znan, y, NULL, NULL, &loss, NULL), AIFX_ERR_NONFINITE);
    float p[4];
    ck_assert_int_eq(aifx_softmax_xent(2, 2, z, NULL, NULL, p, NULL, NULL), AIFX_OK);
    ck_assert_float_eq(p[0], 0.5f);
}
END_TEST

START_TEST(test_balanced_weights)
{
    /* 10 labels: 6 of class 0, 3 of class 1, 1 of class 2 -> 10/(3*6), 10/(3*3), 10/(3*1) */
    const int32_t y[10] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 2};
    float w[3];
    ck_assert_int_eq(aifx_class_weights_balanced(10, y, 3, w), AIFX_OK);
    ck_assert_double_eq_tol(w[0], 10.0 / 18.0, 1e-7);
    ck_assert_double_eq_tol(w[1], 10.0 / 9.0, 1e-7);
    ck_assert_double_eq_tol(w[2], 10.0 / 3.0, 1e-6);
    /* a class absent from the labels gets 0 and nothing divides by zero */
    const int32_t y2[4] = {0, 0, 2, 2};
    ck_assert_int_eq(aifx_class_weights_balanced(4, y2, 3, w), AIFX_OK);
    ck_assert_double_eq_tol(w[0], 4.0 / 6.0, 1e-7);
    ck_assert_float_eq(w[1], 0.0f);
    ck_assert_double_eq_tol(w[2], 4.0 / 6.0, 1e-7);
}
END_TEST

START_TEST(test_balanced_invalid)
{
    const int32_t y[3] = {0, 1, 3};
    float w[3];
    ck_assert_int_eq(aifx_class_weights_balanced(3, y, 3, w), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_class_weights_balanced(0, y, 3, w), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_class_weights_balanced(2, NULL, 3, w), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_class_weights_balanced(2, y, 1, w), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_class_weights_balanced(2, y, 3, NULL), AIFX_ERR_INVALID);
}
END_TEST

static Suite *loss_suite(void)
{
    Suite *s = suite_create("loss");
    TCase *tc = tcase_create("loss");
    tcase_add_test(tc, test_xent_values);
    tcase_add_test(tc, test_xent_extreme_logits);
    tcase_add_test(tc, test_xent_zero_weight_total);
    tcase_add_test(tc, test_xent_invalid);
    tcase_add_test(tc, test_balanced_weights);
    tcase_add_test(tc, test_balanced_invalid);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(loss_suite)
