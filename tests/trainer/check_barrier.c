/*
 * check_barrier.c - the barrier labels (labels.h, kind TR_LABELS_BARRIER) and the trade rule they
 * share with the backtest (backtest.h, tr_bt_exit_walk), on hand-made price paths whose labels
 * are worked out by hand, plus their agreement with tr_backtest on a random walk and their use
 * in a dataset (horizon, embargo, each pair's spread).
 *
 * Hand-made paths: ATR period 1, so ATR_t is bar t's true range. Bar 0 closes at 100; the signal
 * bar 1 opens and closes at 100 with high 100.5 and low 99.5: ATR_1 = 1. A position opened at
 * bar 2's open (100) with stop 1.5 and target 2 ATR: long stop 98.5, target 102; short stop
 * 101.5, target 98. Pip 0.01, spread 1 pip, at most 4 bars (bars 2..5), so label 1 needs
 * bar 5 (n >= 6).
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../check_main.h"
#include "data/dataset.h"
#include "market/backtest.h"
#include "market/labels.h"
#include "market/ta.h"
#include "testutil.h"

enum { MAXB = 16 };

typedef struct {
    tr_bar b[MAXB];
    size_t n;
} path;

static void bar(path *p, double o, double h, double l, double c)
{
    tr_bar *x = &p->b[p->n];
    x->t = 1704067200 + (int64_t)p->n * 900;
    x->open = o, x->high = h, x->low = l, x->close = c, x->volume = 1;
    p->n++;
}

/* Bars 0 and 1 (ATR_1 = 1); the position opens at bar 2's open, 100. */
static path start(void)
{
    path p;
    memset(&p, 0, sizeof p);
    bar(&p, 100, 100.2, 99.8, 100);
    bar(&p, 100, 100.5, 99.5, 100);
    return p;
}

/* Flat bars at c up to n bars. */
static void pad(path *p, double c, size_t n)
{
    while (p->n < n)
        bar(p, c, c + 0.1, c - 0.1, c);
}

static tr_label_params barrier_params(double spread_pips)
{
    tr_label_params lp = tr_label_params_default();
    lp.kind = TR_LABELS_BARRIER;
    lp.atr_period = 1;
    lp.trade.sl_atr = 1.5;
    lp.trade.tp_atr = 2.0;
    lp.trade.max_hold = 4;
    lp.trade.pip = 0.01;
    lp.trade.spread_pips = spread_pips;
    return lp;
}

/* The label of bar 1. */
static int label1(const path *p, const tr_label_params *lp)
{
    int8_t y[MAXB];
    tr_error e;
    ck_assert_msg(tr_labels_compute(p->b, p->n, lp, y, &e) == TR_OK, "%s", e.msg);
    return y[1];
}

START_TEST(test_target_is_buy_or_sell)
{
    tr_label_params lp = barrier_params(1);
    path p = start();
    bar(&p, 100, 101, 99.6, 100.8);    /* bar 2: inside both */
    bar(&p, 100.8, 102.1, 100.5, 102); /* bar 3: long target 102; short stop 101.5 */
    pad(&p, 102, 6);
    ck_assert_int_eq(label1(&p, &lp), TR_LABEL_BUY);
    /* the mirror: a short's target */
    p = start();
    bar(&p, 100, 100.4, 99, 99.2);
    bar(&p, 99.2, 99.5, 97.9, 98);
    pad(&p, 98, 6);
    ck_assert_int_eq(label1(&p, &lp), TR_LABEL_SELL);
    /* the long reaches neither barrier (a time exit, with a profit) and the short is stopped:
     * hold */
    p = start();
    bar(&p, 100, 101.9, 99.9, 101.8);
    pad(&p, 101.8, 6);
    ck_assert_int_eq(label1(&p, &lp), TR_LABEL_HOLD);
}
END_TEST

START_TEST(test_gap_through_the_stop)
{
    tr_label_params lp = barrier_params(1);
    path p = start();
    bar(&p, 100, 100.5, 99.5, 100);
    /* bar 3 opens at 98.3, below the long stop (98.5) but above the short target (98), then
     * rallies through the long target: the long is stopped at the open; the short is stopped by
     * the rally (101.5) before reaching 98 */
    bar(&p, 98.3, 102.5, 98.3, 102.4);
    pad(&p, 102.4, 6);
    ck_assert_int_eq(label1(&p, &lp), TR_LABEL_HOLD);
    tr_bt_position pos = tr_bt_open(p.b, 2, 1, 1.0, &lp.trade);
    ck_assert_double_eq_tol(pos.sl, 98.5, 1e-12);
    ck_assert_double_eq_tol(pos.tp, 102, 1e-12);
    size_t xi;
    double px;
    int why;
    ck_assert_int_eq(tr_bt_exit_walk(p.b, p.n, &pos, &lp.trade, &xi, &px, &why), 1);
    ck_assert_uint_eq(xi, 3);
    ck_assert_int_eq(why, TR_EXIT_STOP);
    ck_assert_double_eq_tol(px, 98.3, 1e-12); /* filled at the open, below the stop */
    /* a gap through the short's target is a sell filled at the open */
    p = start();
    bar(&p, 100, 100.5, 99.5, 100);
    bar(&p, 97.5, 97.8, 97.2, 97.6);
    pad(&p, 97.6, 6);
    ck_assert_int_eq(label1(&p, &lp), TR_LABEL_SELL);
    pos = tr_bt_open(p.b, 2, -1, 1.0, &lp.trade);
    ck_assert_int_eq(tr_bt_exit_walk(p.b, p.n, &pos, &lp.trade, &xi, &px, &why), 1);
    ck_assert_int_eq(why, TR_EXIT_TARGET);
    ck_assert_double_eq_tol(px, 97.5, 1e-12);
    ck_assert_double_eq_tol(tr_bt_pnl_pips(-1, 100, px, &lp.trade), 249, 1e-9);
}
END_TEST

START_TEST(test_both_barriers_in_one_bar)
{
    tr_label_params lp = barrier_params(1);
    path p = start();
    bar(&p, 100, 100.5, 99.5, 100);
    bar(&p, 100, 102.5, 98, 101); /* reaches 102 and 98.5: the stop first, for both sides */
    pad(&p, 101, 6);
    ck_assert_int_eq(label1(&p, &lp), TR_LABEL_HOLD);
    /* the same bar without the dip to the long stop: a buy */
    p = start();
    bar(&p, 100, 100.5, 99.5, 100);
    bar(&p, 100, 102.5, 98.6, 101);
    pad(&p, 101, 6);
    ck_assert_int_eq(label1(&p, &lp), TR_LABEL_BUY);
    /* the entry bar itself counts: a target reached in bar 2 */
    p = start();
    bar(&p, 100, 102, 99.9, 101.9);
    pad(&p, 101.9, 6);
    ck_assert_int_eq(label1(&p, &lp), TR_LABEL_BUY);
}
END_TEST

START_TEST(test_horizon)
{
    tr_label_params lp = barrier_params(1);
    /* the target in bar 5, the 4th bar of the trade: a buy */
    path p = start();
    pad(&p, 100, 5);
    bar(&p, 100, 102.2, 99.9, 102);
    pad(&p, 102, 8);
    ck_assert_int_eq(label1(&p, &lp), TR_LABEL_BUY);
    /* in bar 6, one bar after the horizon: hold */
    p = start();
    pad(&p, 100, 6);
    bar(&p, 100, 102.2, 99.9, 102);
    pad(&p, 102, 8);
    ck_assert_int_eq(label1(&p, &lp), TR_LABEL_HOLD);
    lp.trade.max_hold = 5; /* a longer horizon reaches it */
    ck_assert_int_eq(label1(&p, &lp), TR_LABEL_BUY);
    ck_assert_int_eq(tr_label_horizon(&lp), 5);
}
END_TEST

START_TEST(test_spread_makes_a_tiny_target_a_hold)
{
    /* the target is 2 ATR = 2.00 = 200 pips away */
    path p = start();
    bar(&p, 100, 100.5, 99.5, 100);
    bar(&p, 100, 102.05, 99.9, 102); /* filled at 102 exactly */
    pad(&p, 102, 6);
    tr_label_params lp = barrier_params(199);
    ck_assert_int_eq(label1(&p, &lp), TR_LABEL_BUY); /* nets 1 pip */
    lp = barrier_params(200);
    ck_assert_int_eq(label1(&p, &lp), TR_LABEL_HOLD); /* nets 0: not a win, as in the backtest */
    lp = barrier_params(250);
    ck_assert_int_eq(label1(&p, &lp), TR_LABEL_HOLD);
}
END_TEST

START_TEST(test_tail_and_warmup_unlabeled)
{
    tr_label_params lp = barrier_params(1);
    path p = start();
    /* a steady rise of 1 a bar, ranges 1.15: from bar 2 on ATR is 1.15, the target 2.3 above
     * the entry is reached in the trade's third bar, the stop never */
    for (int i = 0; i < 10; i++) {
        double o = p.b[p.n - 1].close;
        bar(&p, o, o + 1.1, o - 0.05, o + 1);
    }
    ck_assert_uint_eq(p.n, 12);
    int8_t y[MAXB];
    ck_assert_int_eq(tr_labels_compute(p.b, p.n, &lp, y, NULL), TR_OK);
    ck_assert_int_eq(y[0], TR_LABEL_NONE); /* no ATR yet (period 1: from bar 1) */
    /* label t reads bars t+1 .. t+4: the last 4 bars are unlabeled, as the reversal labels
     * leave their tail, even bar 8 whose long already reaches its target in bar 11 */
    tr_bt_position pos = tr_bt_open(p.b, 9, 1, 1.15, &lp.trade);
    size_t xi = 0;
    int why = -1;
    ck_assert_int_eq(tr_bt_exit_walk(p.b, p.n, &pos, &lp.trade, &xi, NULL, &why), 1);
    ck_assert_uint_eq(xi, 11);
    ck_assert_int_eq(why, TR_EXIT_TARGET);
    for (size_t t = 1; t < p.n; t++) {
        if (t + 4 >= p.n)
            ck_assert_msg(y[t] == TR_LABEL_NONE, "t=%zu: %d", t, y[t]);
        else
            ck_assert_msg(y[t] == TR_LABEL_BUY, "t=%zu: %d", t, y[t]);
    }
    /* n too short for any label */
    ck_assert_int_eq(tr_labels_compute(p.b, 4, &lp, y, NULL), TR_OK);
    for (int t = 0; t < 4; t++)
        ck_assert_int_eq(y[t], TR_LABEL_NONE);
}
END_TEST

/* The label is the backtest's verdict on a lone signal: on a random walk, bar t is a buy exactly
 * when tr_backtest with a single buy signal at t makes one trade that exits at its target with a
 * positive PnL, and a sell likewise. */
START_TEST(test_agrees_with_the_backtest)
{
    enum { N = 1500 };
    tr_bar *b = malloc(N * sizeof *b);
    int8_t *y = malloc(N), *sig = malloc(N);
    double *h = malloc(N * sizeof *h), *l = malloc(N * sizeof *l), *c = malloc(N * sizeof *c);
    double *atr = malloc(N * sizeof *atr);
    tu_walk(b, N, 1704067200, 900, 5, 1.1);
    tr_label_params lp = tr_label_params_default();
    lp.kind = TR_LABELS_BARRIER;
    lp = tr_label_params_for_pair(&lp, "EURUSD");
    ck_assert_double_eq(lp.trade.spread_pips, 1.0);
    ck_assert_int_eq(tr_labels_compute(b, N, &lp, y, NULL), TR_OK);
    for (size_t i = 0; i < N; i++)
        h[i] = b[i].high, l[i] = b[i].low, c[i] = b[i].close;
    ta_atr(N, h, l, c, lp.atr_period, atr);
    size_t counts[4] = {0, 0, 0, 0};
    for (size_t t = 0; t < N; t++) {
        counts[y[t] + 1]++;
        if (y[t] == TR_LABEL_NONE) {
            ck_assert(t + 16 >= N || t < 14);
            continue;
        }
        int pays[2];
        for (int d = 0; d < 2; d++) {
            memset(sig, TR_LABEL_HOLD, N);
            sig[t] = d == 0 ? TR_LABEL_BUY : TR_LABEL_SELL;
            tr_bt_result r;
            /* the bars up to the label's horizon: a trade still open would end at the data's end,
             * which is the horizon's time exit bar */
            ck_assert_int_eq(tr_backtest(b, t + 17, sig, NULL, atr, &lp.trade, &r, NULL), TR_OK);
            ck_assert_uint_eq(r.n_trades, 1);
            pays[d] = r.trades[0].reason == TR_EXIT_TARGET && r.trades[0].pnl_pips > 0;
            tr_bt_result_free(&r);
        }
        int expect = pays[0] == pays[1] ? TR_LABEL_HOLD : pays[0] ? TR_LABEL_BUY : TR_LABEL_SELL;
        ck_assert_msg(y[t] == expect, "t=%zu: label %d, backtest %d", t, y[t], expect);
    }
    /* a walk of this volatility has all three classes */
    ck_assert_uint_gt(counts[TR_LABEL_BUY + 1], 20);
    ck_assert_uint_gt(counts[TR_LABEL_SELL + 1], 20);
    ck_assert_uint_gt(counts[TR_LABEL_HOLD + 1], 20);
    free(b);
    free(y);
    free(sig);
    free(h);
    free(l);
    free(c);
    free(atr);
}
END_TEST

/* In a dataset: the horizon is max_hold (unlabeled tail, embargo), and each pair's labels charge
 * that pair's spread in its pips. */
START_TEST(test_dataset)
{
    enum { N = 3000 };
    tr_bar *a = malloc(N * sizeof *a), *j = malloc(N * sizeof *j);
    tu_walk(a, N, 1704067200, 900, 11, 1.1);
    tu_walk(j, N, 1704067200, 900, 12, 150.0);
    const char *pairs[2] = {"EURUSD", "USDJPY"};
    const tr_bar *bars[2] = {a, j};
    size_t nn[2] = {N, N};
    tr_dataset_options o = tr_dataset_options_default();
    o.label.kind = TR_LABELS_BARRIER;
    o.label.trade.max_hold = 12;
    o.max_gap_bars = 1000000;
    tr_dataset *ds;
    tr_error e;
    ck_assert_msg(tr_dataset_from_bars(pairs, bars, nn, 2, 900, &o, &ds, &e) == TR_OK, "%s", e.msg);
    ck_assert_uint_eq(ds->n_unlabeled, 2 * 12); /* each series' last max_hold bars */
    for (int s = 0; s < 2; s++) {
        tr_label_params lp = tr_label_params_for_pair(&o.label, pairs[s]);
        ck_assert_double_eq(lp.trade.pip, s == 0 ? 0.0001 : 0.01);
        ck_assert_double_eq(lp.trade.spread_pips, s == 0 ? 1.0 : 1.5);
        int8_t *y = malloc(N);
        ck_assert_int_eq(tr_labels_compute(bars[s], N, &lp, y, NULL), TR_OK);
        ck_assert_int_eq(memcmp(y, ds->series[s].labels, N), 0);
        /* and a different spread would label differently somewhere: the pair's is the one used */
        lp.trade.spread_pips = 1000;
        int8_t *z = malloc(N);
        ck_assert_int_eq(tr_labels_compute(bars[s], N, &lp, z, NULL), TR_OK);
        ck_assert(memcmp(z, ds->series[s].labels, N) != 0);
        free(y);
        free(z);
    }
    /* the embargo is T + max_hold = 32 bars: the last training sample is 33 bars before the
     * first validation one (36 + 1 with the reversal labels' max(k, h)) */
    for (int s = 0; s < 2; s++) {
        size_t last_train = 0, first_val = SIZE_MAX;
        for (size_t i = 0; i < ds->n[TR_SPLIT_TRAIN]; i++)
            if ((int)ds->samples[TR_SPLIT_TRAIN][i].series == s)
                last_train = ds->samples[TR_SPLIT_TRAIN][i].index;
        for (size_t i = 0; i < ds->n[TR_SPLIT_VAL]; i++)
            if ((int)ds->samples[TR_SPLIT_VAL][i].series == s && first_val == SIZE_MAX)
                first_val = ds->samples[TR_SPLIT_VAL][i].index;
        ck_assert_uint_eq(first_val - last_train, (size_t)(20 + 12 + 1));
    }
    tr_dataset_free(ds);
    /* the reversal labels stay the default */
    ck_assert_int_eq(tr_dataset_options_default().label.kind, TR_LABELS_REVERSAL);
    free(a);
    free(j);
}
END_TEST

START_TEST(test_params_and_names)
{
    tr_label_params lp = tr_label_params_default();
    ck_assert_int_eq(lp.kind, TR_LABELS_REVERSAL);
    ck_assert_int_eq(tr_label_horizon(&lp), 16);
    lp.kind = TR_LABELS_BARRIER;
    ck_assert_int_eq(tr_label_params_check(&lp, NULL), TR_OK);
    ck_assert_int_eq(tr_label_horizon(&lp), 16);
    ck_assert_double_eq(lp.trade.sl_atr, 1.5);
    ck_assert_double_eq(lp.trade.tp_atr, 2.0);
    lp.k = 0; /* reversal parameters do not matter to barrier labels */
    ck_assert_int_eq(tr_label_params_check(&lp, NULL), TR_OK);
    tr_error e;
    lp.trade.tp_atr = 0;
    ck_assert_int_eq(tr_label_params_check(&lp, &e), TR_ERR_INVALID);
    ck_assert(strstr(e.msg, "barrier") != NULL);
    lp.trade.tp_atr = 2;
    lp.trade.max_hold = 0;
    ck_assert_int_eq(tr_label_params_check(&lp, NULL), TR_ERR_INVALID);
    lp.trade.max_hold = 16;
    lp.trade.pip = 0;
    ck_assert_int_eq(tr_label_params_check(&lp, NULL), TR_ERR_INVALID);
    lp.trade.pip = 0.0001;
    lp.kind = 7;
    ck_assert_int_eq(tr_label_params_check(&lp, NULL), TR_ERR_INVALID);
    int8_t y[4];
    tr_bar b[4];
    memset(b, 0, sizeof b);
    ck_assert_int_eq(tr_labels_compute(b, 4, &lp, y, NULL), TR_ERR_INVALID);
    int kind = -1;
    ck_assert_int_eq(tr_label_kind_parse("barrier", &kind), 0);
    ck_assert_int_eq(kind, TR_LABELS_BARRIER);
    ck_assert_int_eq(tr_label_kind_parse("reversal", &kind), 0);
    ck_assert_int_eq(kind, TR_LABELS_REVERSAL);
    ck_assert_int_eq(tr_label_kind_parse("triple", &kind), -1);
    ck_assert_str_eq(tr_label_kind_name(TR_LABELS_BARRIER), "barrier");
    ck_assert_str_eq(tr_label_kind_name(9), "?");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trainer_barrier");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_target_is_buy_or_sell);
    tcase_add_test(tc, test_gap_through_the_stop);
    tcase_add_test(tc, test_both_barriers_in_one_bar);
    tcase_add_test(tc, test_horizon);
    tcase_add_test(tc, test_spread_makes_a_tiny_target_a_hold);
    tcase_add_test(tc, test_tail_and_warmup_unlabeled);
    tcase_add_test(tc, test_agrees_with_the_backtest);
    tcase_add_test(tc, test_dataset);
    tcase_add_test(tc, test_params_and_names);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(suite)
