/*
 * check_backtest.c - the backtest engine on hand-made price paths whose results are known:
 * target, stop, stop-before-target in one bar, gaps, opposite signals with reversal, maximum
 * holding time, zero-PnL trades, the probability threshold, JPY pips, and the daily Sharpe,
 * Sortino, drawdown and profit factor of a known sequence of trades (values computed by hand:
 * daily returns 0, +1%, -1%, +2%, 0 give Sharpe 5.56915, Sortino 14.19859, drawdown 1%).
 */
#include <check.h>
#include <math.h>

#include "../check_main.h"
#include "market/backtest.h"
#include "market/labels.h"

enum { H = TR_LABEL_HOLD, B = TR_LABEL_BUY, S = TR_LABEL_SELL };

#define MAX_BARS 16

typedef struct {
    tr_bar bars[MAX_BARS];
    int8_t sig[MAX_BARS];
    double atr[MAX_BARS];
    size_t n;
} path;

static void bar(path *p, double o, double h, double l, double c, int8_t s)
{
    tr_bar *b = &p->bars[p->n];
    b->t = (int64_t)p->n * 900;
    b->open = o, b->high = h, b->low = l, b->close = c, b->volume = 1;
    p->sig[p->n] = s;
    p->atr[p->n] = 0.0010;
    p->n++;
}

static tr_bt_result run(const path *p, tr_bt_params prm)
{
    tr_bt_result r;
    tr_error e;
    ck_assert_int_eq(tr_backtest(p->bars, p->n, p->sig, NULL, p->atr, &prm, &r, &e), TR_OK);
    return r;
}

START_TEST(test_long_target)
{
    /* buy at bar 0's close; enter 1.1000 at bar 1's open; stop 1.0985, target 1.1020 */
    path p = {0};
    bar(&p, 1.1000, 1.1000, 1.1000, 1.1000, B);
    bar(&p, 1.1000, 1.1010, 1.0995, 1.1005, H);
    bar(&p, 1.1005, 1.1025, 1.1000, 1.1020, H);
    bar(&p, 1.1020, 1.1020, 1.1020, 1.1020, H);
    tr_bt_result r = run(&p, tr_bt_params_for_pair("EURUSD"));
    ck_assert_uint_eq(r.n_trades, 1);
    const tr_trade *t = &r.trades[0];
    ck_assert_int_eq(t->dir, 1);
    ck_assert_int_eq(t->reason, TR_EXIT_TARGET);
    ck_assert_double_eq_tol(t->entry, 1.1000, 1e-12);
    ck_assert_double_eq_tol(t->exit, 1.1020, 1e-12);
    ck_assert_double_eq_tol(t->pnl_pips, 19.0, 1e-9); /* 20 pips less the 1-pip spread */
    ck_assert_double_eq_tol(t->pnl_frac, 19 * 0.0001 / 1.1, 1e-12);
    ck_assert_int_eq(t->bars, 2);
    ck_assert_int_eq(t->entry_t, 900);
    ck_assert_int_eq(t->exit_t, 1800);
    ck_assert_uint_eq(r.n_wins, 1);
    ck_assert_double_eq(r.win_rate, 1.0);
    ck_assert(isinf(r.profit_factor));
    ck_assert_uint_eq(r.n_signals, 1);
    ck_assert_double_eq_tol(r.signal_freq, 0.25, 1e-12);
    tr_bt_result_free(&r);
}
END_TEST

START_TEST(test_stop_before_target_and_gap)
{
    /* one bar reaches both the stop (1.0985) and the target: the stop is assumed first */
    path p = {0};
    bar(&p, 1.1000, 1.1000, 1.1000, 1.1000, B);
    bar(&p, 1.1000, 1.1005, 1.0995, 1.1000, H);
    bar(&p, 1.1000, 1.1025, 1.0980, 1.1010, H);
    tr_bt_result r = run(&p, tr_bt_params_for_pair("EURUSD"));
    ck_assert_uint_eq(r.n_trades, 1);
    ck_assert_int_eq(r.trades[0].reason, TR_EXIT_STOP);
    ck_assert_double_eq_tol(r.trades[0].pnl_pips, -16.0, 1e-9);
    ck_assert_double_eq(r.win_rate, 0.0);
    ck_assert_double_eq(r.profit_factor, 0.0);
    tr_bt_result_free(&r);
    /* a bar that opens below the stop fills at its open: -30 - 1 */
    path g = {0};
    bar(&g, 1.1000, 1.1000, 1.1000, 1.1000, B);
    bar(&g, 1.1000, 1.1005, 1.0995, 1.1000, H);
    bar(&g, 1.0970, 1.0975, 1.0960, 1.0965, H);
    r = run(&g, tr_bt_params_for_pair("EURUSD"));
    ck_assert_double_eq_tol(r.trades[0].exit, 1.0970, 1e-12);
    ck_assert_double_eq_tol(r.trades[0].pnl_pips, -31.0, 1e-9);
    ck_assert_double_eq_tol(r.max_drawdown, 31 * 0.0001 / 1.1, 1e-12);
    tr_bt_result_free(&r);
}
END_TEST

START_TEST(test_opposite_signal_reverses)
{
    /* sell at bar 0, short from 1.1000; a buy at bar 1's close closes it at bar 2's open
     * (1.0990: +10 - 1.0) and opens a long there, which the last bar's close ends */
    path p = {0};
    bar(&p, 1.1000, 1.1000, 1.1000, 1.1000, S);
    bar(&p, 1.1000, 1.1002, 1.0992, 1.0994, B);
    bar(&p, 1.0990, 1.0996, 1.0988, 1.0995, H);
    bar(&p, 1.0995, 1.1000, 1.0990, 1.0998, H);
    tr_bt_result r = run(&p, tr_bt_params_for_pair("EURUSD"));
    ck_assert_uint_eq(r.n_trades, 2);
    ck_assert_int_eq(r.trades[0].dir, -1);
    ck_assert_int_eq(r.trades[0].reason, TR_EXIT_OPPOSITE);
    ck_assert_double_eq_tol(r.trades[0].pnl_pips, 9.0, 1e-9);
    ck_assert_int_eq(r.trades[1].dir, 1);
    ck_assert_double_eq_tol(r.trades[1].entry, 1.0990, 1e-12);
    ck_assert_int_eq(r.trades[1].reason, TR_EXIT_END);
    ck_assert_double_eq_tol(r.trades[1].pnl_pips, 8.0 - 1.0, 1e-9);
    ck_assert_uint_eq(r.n_buy, 1);
    ck_assert_uint_eq(r.n_sell, 1);
    tr_bt_result_free(&r);
}
END_TEST

START_TEST(test_time_exit_and_zero_pnl)
{
    /* flat prices, no spread: held 3 bars, closed at the third bar's close with PnL exactly 0,
     * which counts as neither a win nor a loss */
    path p = {0};
    bar(&p, 1.2, 1.2, 1.2, 1.2, B);
    for (int i = 0; i < 5; i++)
        bar(&p, 1.2, 1.2, 1.2, 1.2, H);
    tr_bt_params prm = tr_bt_params_for_pair("EURUSD");
    prm.max_hold = 3;
    prm.spread_pips = 0.0;
    tr_bt_result r = run(&p, prm);
    ck_assert_uint_eq(r.n_trades, 1);
    ck_assert_int_eq(r.trades[0].reason, TR_EXIT_TIME);
    ck_assert_int_eq(r.trades[0].bars, 3);
    ck_assert_int_eq(r.trades[0].exit_t, 3 * 900);
    ck_assert_double_eq(r.trades[0].pnl_pips, 0.0);
    ck_assert_uint_eq(r.n_zero, 1);
    ck_assert_uint_eq(r.n_wins + r.n_losses, 0);
    ck_assert_double_eq(r.win_rate, 0.0);
    tr_bt_result_free(&r);
}
END_TEST

START_TEST(test_threshold_and_warmup)
{
    path p = {0};
    bar(&p, 1.1, 1.1, 1.1, 1.1, B);
    bar(&p, 1.1, 1.1, 1.1, 1.1, S);
    bar(&p, 1.1, 1.1, 1.1, 1.1, H);
    float prob[3] = {0.45f, 0.9f, 0.9f};
    p.atr[1] = NAN; /* no ATR yet at bar 1: its signal counts but opens nothing */
    tr_bt_params prm = tr_bt_params_for_pair("EURUSD");
    prm.threshold = 0.5;
    tr_bt_result r;
    tr_error e;
    ck_assert_int_eq(tr_backtest(p.bars, p.n, p.sig, prob, p.atr, &prm, &r, &e), TR_OK);
    ck_assert_uint_eq(r.n_signals, 1);
    ck_assert_uint_eq(r.n_trades, 0);
    tr_bt_result_free(&r);
    prm.sl_atr = 0;
    ck_assert_int_eq(tr_backtest(p.bars, p.n, p.sig, prob, p.atr, &prm, &r, &e), TR_ERR_INVALID);
}
END_TEST

START_TEST(test_jpy_pips)
{
    /* USDJPY: pip 0.01, spread 1.5; ATR 0.20 puts the target at 150.40: 40 - 1.5 pips */
    path p = {0};
    bar(&p, 150.00, 150.00, 150.00, 150.00, B);
    bar(&p, 150.00, 150.10, 149.90, 150.05, H);
    bar(&p, 150.05, 150.50, 150.00, 150.45, H);
    for (size_t i = 0; i < p.n; i++)
        p.atr[i] = 0.20;
    tr_bt_params prm = tr_bt_params_for_pair("USDJPY");
    ck_assert_double_eq(prm.pip, 0.01);
    tr_bt_result r = run(&p, prm);
    ck_assert_double_eq_tol(r.trades[0].exit, 150.40, 1e-9);
    ck_assert_double_eq_tol(r.trades[0].pnl_pips, 38.5, 1e-7);
    tr_bt_result_free(&r);
}
END_TEST

START_TEST(test_daily_figures)
{
    /* one bar a day; max_hold 1 makes each trade open->close of the day after its signal:
     * day returns 0, +1%, -1%, +2%, 0 */
    path p = {0};
    const double closes[5] = {1.0, 1.01, 0.99, 1.02, 1.0};
    const int8_t sig[5] = {B, B, B, H, H};
    for (int d = 0; d < 5; d++) {
        double c = closes[d];
        bar(&p, 1.0, fmax(1.0, c), fmin(1.0, c), c, sig[d]);
        p.bars[d].t = (int64_t)d * 86400 + 3600;
        p.atr[d] = 1.0; /* levels far away */
    }
    tr_bt_params prm = tr_bt_params_for_pair("EURUSD");
    prm.max_hold = 1;
    prm.spread_pips = 0.0;
    tr_bt_result r = run(&p, prm);
    ck_assert_uint_eq(r.n_trades, 3);
    ck_assert_uint_eq(r.n_days, 5);
    ck_assert_double_eq_tol(r.sharpe, 5.5691457707070855, 1e-9);
    ck_assert_double_eq_tol(r.sortino, 14.198591479439079, 1e-9);
    ck_assert_double_eq_tol(r.max_drawdown, 0.01, 1e-12);
    ck_assert_double_eq_tol(r.total_return, 0.019898, 1e-12);
    ck_assert_double_eq_tol(r.avg_return, 0.02 / 3, 1e-12);
    ck_assert_double_eq_tol(r.profit_factor, 3.0, 1e-9);
    ck_assert_double_eq_tol(r.win_rate, 2.0 / 3.0, 1e-12);
    ck_assert_double_eq_tol(r.total_pips, 200.0, 1e-7);
    tr_bt_result_free(&r);
}
END_TEST

START_TEST(test_no_bars)
{
    tr_bt_params prm = tr_bt_params_for_pair("EURUSD");
    tr_bt_result r;
    ck_assert_int_eq(tr_backtest(NULL, 0, NULL, NULL, NULL, &prm, &r, NULL), TR_OK);
    ck_assert_uint_eq(r.n_trades, 0);
    ck_assert_double_eq(r.sharpe, 0.0);
    tr_bt_result_free(&r);
}
END_TEST

static Suite *backtest_suite(void)
{
    Suite *s = suite_create("backtest");
    TCase *tc = tcase_create("backtest");
    tcase_add_test(tc, test_long_target);
    tcase_add_test(tc, test_stop_before_target_and_gap);
    tcase_add_test(tc, test_opposite_signal_reverses);
    tcase_add_test(tc, test_time_exit_and_zero_pnl);
    tcase_add_test(tc, test_threshold_and_warmup);
    tcase_add_test(tc, test_jpy_pips);
    tcase_add_test(tc, test_daily_figures);
    tcase_add_test(tc, test_no_bars);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(backtest_suite)
