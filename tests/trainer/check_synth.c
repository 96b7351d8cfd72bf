/*
 * check_synth.c - synthetic bars: deterministic, valid, on the grid, closed at weekends, with
 * volatility regimes and intraday seasonality, and identical through the store and a CSV.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../check_main.h"
#include "base/csv.h"
#include "base/timeutil.h"
#include "market/synth.h"
#include "store/store.h"
#include "testutil.h"

#define JAN1 1704067200 /* 2024-01-01 */
#define JUL1 1719792000 /* 2024-07-01 */

START_TEST(test_deterministic)
{
    tr_synth_params p = tr_synth_params_default("EURUSD", JAN1, JUL1, 7);
    tr_bars a = {0}, b = {0}, c = {0};
    tr_error e;
    ck_assert_int_eq(tr_synth_generate(&p, &a, NULL, &e), TR_OK);
    ck_assert_int_eq(tr_synth_generate(&p, &b, NULL, &e), TR_OK);
    ck_assert_uint_eq(a.n, b.n);
    ck_assert(memcmp(a.v, b.v, a.n * sizeof *a.v) == 0);
    p.seed = 8;
    ck_assert_int_eq(tr_synth_generate(&p, &c, NULL, &e), TR_OK);
    ck_assert(memcmp(a.v, c.v, a.n * sizeof *a.v) != 0);
    /* a fixed value pins the generator across machines and versions */
    ck_assert_double_eq(a.v[0].open, 1.1);
    tr_bars_free(&a), tr_bars_free(&b), tr_bars_free(&c);
}
END_TEST

START_TEST(test_valid_grid_weekends)
{
    tr_synth_params p = tr_synth_params_default("USDJPY", JAN1, JUL1, 7);
    tr_bars a = {0};
    tr_error e;
    int dec;
    ck_assert_int_eq(tr_synth_generate(&p, &a, &dec, &e), TR_OK);
    ck_assert_int_eq(dec, 3);
    size_t weekend_gaps = 0;
    for (size_t i = 0; i < a.n; i++) {
        const tr_bar *b = &a.v[i];
        ck_assert_ptr_null(tr_bar_invalid(b));
        ck_assert_int_eq(b->t % 900, 0);
        ck_assert_int_ne(tr_weekday(b->t), 5); /* no Saturday bars */
        ck_assert(fabs(b->close * 1000 - round(b->close * 1000)) < 1e-6);
        if (i > 0) {
            ck_assert_int_gt(b->t, a.v[i - 1].t);
            if (b->t - a.v[i - 1].t > 900) {
                ck_assert_int_eq(b->t - a.v[i - 1].t, 48 * 3600 + 900);
                weekend_gaps++;
            }
        }
        ck_assert(b->close > 100 && b->close < 220);
    }
    ck_assert_uint_eq(weekend_gaps, 26);
    /* Monday 2024-01-01 to Monday 2024-07-01: 118 open hours in the first week, 25 full weeks
     * of 120 hours, and the last Sunday's 2 hours: 3120 hours of 4 bars */
    ck_assert_uint_eq(a.n, 3120 * 4);
    tr_bars_free(&a);
}
END_TEST

START_TEST(test_regimes_and_seasonality)
{
    tr_synth_params p = tr_synth_params_default("EURUSD", JAN1, JUL1, 7);
    tr_bars a = {0};
    tr_error e;
    ck_assert_int_eq(tr_synth_generate(&p, &a, NULL, &e), TR_OK);
    double busy = 0, quiet = 0;
    size_t nb = 0, nq = 0;
    double vmin = INFINITY, vmax = 0;
    for (size_t i = 1; i < a.n; i++) {
        double r = fabs(log(a.v[i].close / a.v[i - 1].close));
        int hour = (int)(a.v[i].t % 86400 / 3600);
        if (hour >= 13 && hour < 16) {
            busy += r;
            nb++;
        } else if (hour >= 0 && hour < 4) {
            quiet += r;
            nq++;
        }
    }
    ck_assert_msg(busy / (double)nb > 1.5 * quiet / (double)nq, "busy %g quiet %g",
                  busy / (double)nb, quiet / (double)nq);
    /* one-day realised volatility varies by more than 2x across the half year (regimes) */
    for (size_t i = 96; i + 96 < a.n; i += 96) {
        double s = 0;
        for (size_t j = i; j < i + 96; j++) {
            double r = log(a.v[j].close / a.v[j - 1].close);
            s += r * r;
        }
        vmin = fmin(vmin, s);
        vmax = fmax(vmax, s);
    }
    ck_assert_msg(sqrt(vmax / vmin) > 2.0, "vol range %g", sqrt(vmax / vmin));
    tr_bars_free(&a);
}
END_TEST

START_TEST(test_store_and_csv_agree)
{
    char *dir = tu_tempdir();
    char *csv = tu_path(dir, "s.csv");
    tr_synth_params p = tr_synth_params_default("EURUSD", JAN1, JAN1 + 30 * 86400, 3);
    tr_bars a = {0}, b = {0};
    tr_error e;
    int dec;
    ck_assert_int_eq(tr_synth_generate(&p, &a, &dec, &e), TR_OK);
    ck_assert_int_eq(tr_csv_write(csv, a.v, a.n, dec, &e), TR_OK);
    tr_store *s;
    char *sdir = tu_path(dir, "store");
    ck_assert_int_eq(tr_store_open(sdir, &(tr_store_options){.create = 1}, &s, &e), TR_OK);
    free(sdir);
    ck_assert_int_eq(tr_store_bars_put(s, "EURUSD", 900, a.v, a.n, 0, NULL, &e), TR_OK);
    tr_csv_options o = tr_csv_options_default(900);
    tr_csv_data d;
    ck_assert_int_eq(tr_csv_read(csv, &o, &d, &e), TR_OK);
    ck_assert_int_eq(tr_store_bars_get(s, "EURUSD", 900, INT64_MIN, INT64_MAX, &b, &e), TR_OK);
    ck_assert_uint_eq(d.bars.n, a.n);
    ck_assert_uint_eq(b.n, a.n);
    for (size_t i = 0; i < a.n; i++) {
        ck_assert(tr_bar_equal(&d.bars.v[i], &a.v[i]));
        ck_assert(tr_bar_equal(&b.v[i], &a.v[i]));
    }
    tr_csv_data_free(&d);
    tr_bars_free(&a), tr_bars_free(&b);
    tr_store_close(s);
    tu_rmtree(dir);
    free(csv);
    free(dir);
}
END_TEST

START_TEST(test_bad_params)
{
    tr_bars a = {0};
    tr_error e;
    tr_synth_params p = tr_synth_params_default("eur", JAN1, JUL1, 7);
    ck_assert_int_eq(tr_synth_generate(&p, &a, NULL, &e), TR_ERR_INVALID);
    p = tr_synth_params_default("EURUSD", JUL1, JAN1, 7);
    ck_assert_int_eq(tr_synth_generate(&p, &a, NULL, &e), TR_ERR_INVALID);
    ck_assert_uint_eq(a.n, 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trainer_synth");
    TCase *tc = tcase_create("synth");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_deterministic);
    tcase_add_test(tc, test_valid_grid_weekends);
    tcase_add_test(tc, test_regimes_and_seasonality);
    tcase_add_test(tc, test_store_and_csv_agree);
    tcase_add_test(tc, test_bad_params);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(suite)
