/*
 * check_labels.c - reversal labels on hand-made series whose labels are worked out by hand.
 *
 * Series "V": close_t = 90 + 0.5 |t - 20|, high = close + 0.5, low = close - 0.5, open =
 * previous close. Every true range is 1, so with atr_period 1 the ATR is exactly 1 at every bar.
 * The only bottom is t = 20 (low 89.5); the closes after it are 90.5, 91, 91.5, ..., so a move
 * of m ATR from the low is first reached at bar 20 + 2m - 1 (m a multiple of 0.5).
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../check_main.h"
#include "market/labels.h"

enum { N = 41 };

static void v_series(tr_bar *b, double sign)
{
    for (int t = 0; t < N; t++) {
        double c = 100 + sign * (-10 + 0.5 * fabs(t - 20.0));
        b[t].t = 1704067200 + t * 900;
        b[t].close = c;
        b[t].high = c + 0.5;
        b[t].low = c - 0.5;
        b[t].open = t ? b[t - 1].close : c;
        b[t].volume = 1;
    }
}

static tr_label_params params(int k, double m, int h)
{
    tr_label_params p = tr_label_params_default(); /* reversal */
    p.k = k;
    p.m = m;
    p.h = h;
    p.atr_period = 1;
    return p;
}

START_TEST(test_bottom_is_buy)
{
    tr_bar b[N];
    int8_t y[N];
    v_series(b, 1);
    tr_label_params p = params(3, 1.0, 4);
    ck_assert_int_eq(tr_labels_compute(b, N, &p, y, NULL), TR_OK);
    for (int t = 0; t < N; t++) {
        if (t < 3 || t >= N - 4)
            ck_assert_msg(y[t] == TR_LABEL_NONE, "t=%d: %d", t, y[t]);
        else if (t == 20)
            ck_assert_int_eq(y[t], TR_LABEL_BUY);
        else
            ck_assert_msg(y[t] == TR_LABEL_HOLD, "t=%d: %d", t, y[t]);
    }
}
END_TEST

START_TEST(test_top_is_sell)
{
    tr_bar b[N];
    int8_t y[N];
    v_series(b, -1); /* an inverted V: the top at t = 20 */
    tr_label_params p = params(3, 1.0, 4);
    ck_assert_int_eq(tr_labels_compute(b, N, &p, y, NULL), TR_OK);
    ck_assert_int_eq(y[20], TR_LABEL_SELL);
    for (int t = 3; t < N - 4; t++)
        if (t != 20)
            ck_assert_int_eq(y[t], TR_LABEL_HOLD);
}
END_TEST

START_TEST(test_move_threshold_and_horizon)
{
    tr_bar b[N];
    int8_t y[N];
    v_series(b, 1);
    /* low 89.5; closes after: 90.5 (t21), 91 (t22), 91.5, 92, 92.5 (t25). */
    tr_label_params p = params(3, 1.0, 1); /* needs 90.5 by t21: exactly reached */
    ck_assert_int_eq(tr_labels_compute(b, N, &p, y, NULL), TR_OK);
    ck_assert_int_eq(y[20], TR_LABEL_BUY);
    p = params(3, 1.25, 1); /* needs 90.75 by t21: no */
    ck_assert_int_eq(tr_labels_compute(b, N, &p, y, NULL), TR_OK);
    ck_assert_int_eq(y[20], TR_LABEL_HOLD);
    p = params(3, 3.0, 4); /* needs 92.5, first reached at t25 = t + 5 > h */
    ck_assert_int_eq(tr_labels_compute(b, N, &p, y, NULL), TR_OK);
    ck_assert_int_eq(y[20], TR_LABEL_HOLD);
    p = params(3, 3.0, 5); /* reached at t + h */
    ck_assert_int_eq(tr_labels_compute(b, N, &p, y, NULL), TR_OK);
    ck_assert_int_eq(y[20], TR_LABEL_BUY);
}
END_TEST

START_TEST(test_extremum_window)
{
    tr_bar b[N];
    int8_t y[N];
    v_series(b, 1);
    /* a lower low 4 bars after the bottom: outside k = 3, inside k = 4 */
    b[24].low = 89.0;
    tr_label_params p = params(3, 1.0, 4);
    ck_assert_int_eq(tr_labels_compute(b, N, &p, y, NULL), TR_OK);
    ck_assert_int_eq(y[20], TR_LABEL_BUY);
    p = params(4, 1.0, 4);
    ck_assert_int_eq(tr_labels_compute(b, N, &p, y, NULL), TR_OK);
    ck_assert_int_eq(y[20], TR_LABEL_HOLD);
    /* an equal low is a tie: both bars remain bottoms */
    v_series(b, 1);
    b[21].low = 89.5;
    p = params(3, 1.0, 4);
    ck_assert_int_eq(tr_labels_compute(b, N, &p, y, NULL), TR_OK);
    ck_assert_int_eq(y[20], TR_LABEL_BUY);
    ck_assert_int_eq(y[21], TR_LABEL_BUY); /* low 89.5, closes reach 90.5 at t23 */
}
END_TEST

START_TEST(test_both_is_hold)
{
    /* Flat bars around one outside bar (t20) holding both the highest high and the lowest low of
     * t17..t23 (k = 3); later, inside the horizon h = 8 but outside the window, closes go up 2
     * (t24) and down 4 (t25). ATR (period 1) at t20 is its true range, 2. Both moves happen,
     * so t20 qualifies as buy and as sell: hold. */
    tr_bar b[N];
    int8_t y[N];
    for (int t = 0; t < N; t++) {
        b[t].t = 1704067200 + t * 900;
        b[t].open = b[t].close = 100;
        b[t].high = 100.1;
        b[t].low = 99.9;
        b[t].volume = 1;
    }
    b[20].high = 101;
    b[20].low = 99;
    b[24].close = b[24].high = 102;
    b[25].open = 102;
    b[25].high = 102;
    b[25].close = b[25].low = 96;
    b[26].open = 96;
    b[26].low = 96;
    tr_label_params p = params(3, 1.0, 8);
    ck_assert_int_eq(tr_labels_compute(b, N, &p, y, NULL), TR_OK);
    ck_assert_int_eq(y[20], TR_LABEL_HOLD);
    /* without the fall (t25 closes at 100): only the rise, a buy */
    b[25].close = 100;
    b[25].low = 99.9;
    b[26].open = 100;
    b[26].low = 99.9;
    ck_assert_int_eq(tr_labels_compute(b, N, &p, y, NULL), TR_OK);
    ck_assert_int_eq(y[20], TR_LABEL_BUY);
    /* without the rise (t24 flat), only the fall: a sell */
    b[24].close = 100;
    b[24].high = 100.1;
    b[25].open = 100;
    b[25].close = b[25].low = 96;
    b[26].open = 96;
    b[26].low = 96;
    ck_assert_int_eq(tr_labels_compute(b, N, &p, y, NULL), TR_OK);
    ck_assert_int_eq(y[20], TR_LABEL_SELL);
}
END_TEST

START_TEST(test_locality_and_defaults)
{
    /* The label of t reads bars up to t + max(k, h) and nothing later. */
    tr_bar b[N], c[N];
    int8_t y[N], z[N];
    v_series(b, 1);
    memcpy(c, b, sizeof b);
    tr_label_params p = params(3, 1.0, 4);
    for (int t = 25; t < N; t++) {
        c[t].close = c[t].open = 50;
        c[t].high = 50.5;
        c[t].low = 49.5;
    }
    ck_assert_int_eq(tr_labels_compute(b, N, &p, y, NULL), TR_OK);
    ck_assert_int_eq(tr_labels_compute(c, N, &p, z, NULL), TR_OK);
    for (int t = 0; t + tr_label_horizon(&p) < 25; t++)
        ck_assert_int_eq(y[t], z[t]);
    tr_label_params d = tr_label_params_default();
    ck_assert_int_eq(d.k, 6);
    ck_assert_double_eq(d.m, 1.0);
    ck_assert_int_eq(d.h, 16);
    ck_assert_int_eq(d.atr_period, 14);
    ck_assert_int_eq(tr_label_horizon(&d), 16);
    /* with ATR(14) the first 14 bars are unlabeled too */
    ck_assert_int_eq(tr_labels_compute(b, N, &d, y, NULL), TR_OK);
    for (int t = 0; t < 14; t++)
        ck_assert_int_eq(y[t], TR_LABEL_NONE);
    for (int t = N - 16; t < N; t++)
        ck_assert_int_eq(y[t], TR_LABEL_NONE);
}
END_TEST

START_TEST(test_bad_params)
{
    tr_bar b[N];
    int8_t y[N];
    tr_error e;
    v_series(b, 1);
    tr_label_params p = params(0, 1.0, 4);
    ck_assert_int_eq(tr_labels_compute(b, N, &p, y, &e), TR_ERR_INVALID);
    p = params(3, 0.0, 4);
    ck_assert_int_eq(tr_labels_compute(b, N, &p, y, &e), TR_ERR_INVALID);
    p = params(3, NAN, 4);
    ck_assert_int_eq(tr_labels_compute(b, N, &p, y, &e), TR_ERR_INVALID);
    p = params(3, 1.0, 0);
    ck_assert_int_eq(tr_labels_compute(b, N, &p, y, &e), TR_ERR_INVALID);
    ck_assert_str_eq(tr_label_name(TR_LABEL_SELL), "sell");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trainer_labels");
    TCase *tc = tcase_create("labels");
    tcase_add_test(tc, test_bottom_is_buy);
    tcase_add_test(tc, test_top_is_sell);
    tcase_add_test(tc, test_move_threshold_and_horizon);
    tcase_add_test(tc, test_extremum_window);
    tcase_add_test(tc, test_both_is_hold);
    tcase_add_test(tc, test_locality_and_defaults);
    tcase_add_test(tc, test_bad_params);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(suite)
