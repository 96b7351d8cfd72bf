/*
 * check_outcome.c - the position monitor (outcome.h): a hand-made path whose outcomes are known
 * (target win, reversal by an opposite signal, a signal in the held direction, a hold, a stop
 * loss, a time exit, a position still open, a signal waiting for its next bar); resolving in
 * steps of one bar gives the same outcomes as resolving once; on a random walk with random
 * signals the resolved signals are exactly tr_backtest's trades; and the store's batch append
 * and update of signals.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check_main.h"
#include "market/backtest.h"
#include "market/labels.h"
#include "market/outcome.h"
#include "market/ta.h"
#include "store/store.h"
#include "testutil.h"

enum { H = TR_LABEL_HOLD, B = TR_LABEL_BUY, S = TR_LABEL_SELL };

#define TF       900
#define MAX_BARS 32

typedef struct {
    tr_bar bars[MAX_BARS];
    double atr[MAX_BARS];
    tr_signal sigs[MAX_BARS];
    size_t n, n_sigs;
} path;

static void bar(path *p, double o, double h, double l, double c, int s)
{
    tr_bar *b = &p->bars[p->n];
    b->t = (int64_t)p->n * TF;
    b->open = o, b->high = h, b->low = l, b->close = c, b->volume = 1;
    p->atr[p->n] = 0.0010;
    if (s >= 0) {
        tr_signal *g = &p->sigs[p->n_sigs++];
        memset(g, 0, sizeof *g);
        g->id = (int64_t)p->n_sigs;
        snprintf(g->pair, sizeof g->pair, "EURUSD");
        g->timeframe = TF;
        g->bar_time = b->t;
        g->signal = s;
        g->confidence = 0.9;
        snprintf(g->model_version, sizeof g->model_version, "v1.0");
        snprintf(g->outcome, sizeof g->outcome, "open");
    }
    p->n++;
}

/* The path of test_hand_made; signals marked in the comments by their index. */
static void hand_made(path *p)
{
    memset(p, 0, sizeof *p);
    /* 0: buy; enters 1.1000 at bar 1, stop 1.0985, target 1.1020; hits the target in bar 2 */
    bar(p, 1.1000, 1.1000, 1.1000, 1.1000, B);
    bar(p, 1.1000, 1.1010, 1.0995, 1.1005, H);  /* 1: hold -> none */
    bar(p, 1.1005, 1.1025, 1.1000, 1.1020, S);  /* 2: sell at the close (flat) */
    bar(p, 1.1020, 1.1022, 1.1015, 1.1018, S);  /* 3: sell while short -> none */
    bar(p, 1.1018, 1.1019, 1.1010, 1.1012, B);  /* 4: buy: reverses at bar 5's open */
    bar(p, 1.1012, 1.1014, 1.0990, 1.0995, -1); /* long 1.1012, stop 1.0997: hit */
    bar(p, 1.0995, 1.1000, 1.0990, 1.0998, B);  /* 5: buy, held 16 bars, no exit */
    for (int i = 0; i < 16; i++)
        bar(p, 1.1000, 1.1005, 1.0995, 1.1001, -1); /* exit at the 16th bar's close */
    bar(p, 1.1001, 1.1003, 1.0999, 1.1002, S);      /* 6: sell: stays open at the end */
    bar(p, 1.1002, 1.1003, 1.1000, 1.1001, B);      /* 7: buy at the last bar: waits */
}

static void resolve(path *p, int64_t as_of, size_t *n_changed)
{
    tr_bt_params prm = tr_bt_params_for_pair("EURUSD");
    tr_error e;
    tr_code rc = tr_outcomes_resolve(p->bars, p->n, p->atr, TF, &prm, as_of, p->sigs, p->n_sigs,
                                     NULL, n_changed, &e);
    ck_assert_msg(rc == TR_OK, "%s", e.msg);
}

START_TEST(test_hand_made)
{
    path p;
    hand_made(&p);
    size_t nc;
    resolve(&p, p.bars[p.n - 1].t + TF, &nc);
    const tr_signal *g = p.sigs;
    ck_assert_str_eq(g[0].outcome, "win");
    ck_assert_int_eq(g[0].exit_time, 2 * TF);
    ck_assert_double_eq_tol(g[0].exit_price, 1.1020, 1e-12);
    ck_assert_double_eq_tol(g[0].pnl_pips, 19.0, 1e-9); /* 20 pips less the 1-pip spread */
    ck_assert_double_eq_tol(g[0].pnl_percent, 19 * 0.0001 / 1.1 * 100, 1e-12);
    ck_assert_str_eq(g[1].outcome, "none");
    /* short 1.1020 at bar 3's open, closed at bar 5's open 1.1012 by the opposite signal */
    ck_assert_str_eq(g[2].outcome, "win");
    ck_assert_int_eq(g[2].exit_time, 5 * TF);
    ck_assert_double_eq_tol(g[2].pnl_pips, 8.0 - 1.0, 1e-9);
    ck_assert_str_eq(g[3].outcome, "none");
    /* long 1.1012 at bar 5, stop 1.1012 - 0.0015 = 1.0997 within bar 5 */
    ck_assert_str_eq(g[4].outcome, "loss");
    ck_assert_int_eq(g[4].exit_time, 5 * TF);
    ck_assert_double_eq_tol(g[4].exit_price, 1.0997, 1e-12);
    ck_assert_double_eq_tol(g[4].pnl_pips, -16.0, 1e-9);
    /* long 1.1000 at bar 7, 16 bars held: closes at bar 22's close 1.1001, 1 pip less the
     * spread: 0 (to rounding), not a win */
    ck_assert_str_eq(g[5].outcome, "loss");
    ck_assert_int_eq(g[5].exit_time, 22 * TF);
    ck_assert_double_eq_tol(g[5].exit_price, 1.1001, 1e-12);
    ck_assert_double_eq_tol(g[5].pnl_pips, 0.0, 1e-6);
    ck_assert_str_eq(g[6].outcome, "open");
    ck_assert_str_eq(g[7].outcome, "open");
    ck_assert_uint_eq(nc, 6);
    /* nothing changes on a second call; a final outcome is never rewritten */
    resolve(&p, p.bars[p.n - 1].t + TF, &nc);
    ck_assert_uint_eq(nc, 0);
}
END_TEST

START_TEST(test_steps_equal_once)
{
    path once, steps;
    hand_made(&once);
    hand_made(&steps);
    size_t nc;
    resolve(&once, once.bars[once.n - 1].t + TF, &nc);
    for (size_t i = 0; i <= steps.n; i++)
        resolve(&steps, (int64_t)i * TF, &nc);
    for (size_t k = 0; k < once.n_sigs; k++) {
        ck_assert_str_eq(steps.sigs[k].outcome, once.sigs[k].outcome);
        ck_assert_int_eq(steps.sigs[k].exit_time, once.sigs[k].exit_time);
        ck_assert(steps.sigs[k].pnl_pips == once.sigs[k].pnl_pips);
    }
    /* before bar 2 closed, signal 0's position was open and signal 2 unknown */
    hand_made(&steps);
    resolve(&steps, 2 * TF, &nc);
    ck_assert_str_eq(steps.sigs[0].outcome, "open");
    ck_assert_str_eq(steps.sigs[1].outcome, "none");
}
END_TEST

START_TEST(test_parity_with_backtest)
{
    enum { N = 3000 };
    tr_bar *bars = malloc(N * sizeof *bars);
    double *h = malloc(N * sizeof *h), *l = malloc(N * sizeof *l), *c = malloc(N * sizeof *c);
    double *atr = malloc(N * sizeof *atr);
    int8_t *sig = malloc(N);
    float *prob = malloc(N * sizeof *prob);
    tr_signal *sigs = calloc(N, sizeof *sigs);
    ck_assert(bars && h && l && c && atr && sig && prob && sigs);
    tu_walk(bars, N, 1735689600, TF, 7, 1.1);
    for (size_t i = 0; i < N; i++)
        h[i] = bars[i].high, l[i] = bars[i].low, c[i] = bars[i].close;
    ta_atr(N, h, l, c, 14, atr);
    unsigned s = 12345;
    for (size_t i = 0; i < N; i++) {
        s = s * 1103515245u + 12345u;
        unsigned r = (s >> 16) % 10;
        sig[i] = r < 1 ? B : (r < 2 ? S : H);
        prob[i] = (float)((s >> 8) % 100) / 100.0f;
        tr_signal *g = &sigs[i];
        g->id = (int64_t)i + 1;
        g->bar_time = bars[i].t;
        g->signal = sig[i];
        g->confidence = prob[i];
        snprintf(g->outcome, sizeof g->outcome, "open");
    }
    tr_bt_params prm = tr_bt_params_for_pair("EURUSD");
    prm.threshold = 0.3;
    tr_bt_result r;
    tr_error e;
    ck_assert_int_eq(tr_backtest(bars, N, sig, prob, atr, &prm, &r, &e), TR_OK);
    ck_assert_uint_gt(r.n_trades, 50);
    size_t nc;
    ck_assert_int_eq(
        tr_outcomes_resolve(bars, N, atr, TF, &prm, bars[N - 1].t + TF, sigs, N, NULL, &nc, &e),
        TR_OK);
    size_t k = 0, n_open = 0;
    for (size_t i = 0; i < N; i++) {
        const tr_signal *g = &sigs[i];
        if (strcmp(g->outcome, "open") == 0) {
            n_open++;
            continue;
        }
        if (strcmp(g->outcome, "none") == 0)
            continue;
        ck_assert_uint_lt(k, r.n_trades);
        const tr_trade *t = &r.trades[k++];
        ck_assert_int_eq(t->entry_t, g->bar_time + TF);
        ck_assert_int_eq(t->exit_t, g->exit_time);
        ck_assert(t->exit == g->exit_price);
        ck_assert(t->pnl_pips == g->pnl_pips);
        ck_assert_str_eq(g->outcome, t->pnl_pips > 0 ? "win" : "loss");
    }
    /* the backtest closes the last position at the end of the data; the monitor keeps it open */
    size_t n_end = r.n_trades > 0 && r.trades[r.n_trades - 1].reason == TR_EXIT_END;
    ck_assert_uint_eq(k + n_end, r.n_trades);
    ck_assert_uint_le(n_open, 2);
    tr_bt_result_free(&r);
    free(bars), free(h), free(l), free(c), free(atr), free(sig), free(prob), free(sigs);
}
END_TEST

START_TEST(test_bad_input)
{
    path p;
    hand_made(&p);
    tr_bt_params prm = tr_bt_params_for_pair("EURUSD");
    tr_error e;
    p.sigs[1].bar_time = -TF; /* out of order */
    ck_assert_int_eq(tr_outcomes_resolve(p.bars, p.n, p.atr, TF, &prm, 1 << 30, p.sigs, p.n_sigs,
                                         NULL, NULL, &e),
                     TR_ERR_INVALID);
    hand_made(&p);
    prm.max_hold = 0;
    ck_assert_int_eq(tr_outcomes_resolve(p.bars, p.n, p.atr, TF, &prm, 1 << 30, p.sigs, p.n_sigs,
                                         NULL, NULL, &e),
                     TR_ERR_INVALID);
}
END_TEST

START_TEST(test_store_append_update)
{
    char *dir = tu_tempdir();
    tr_store *st;
    tr_error e;
    ck_assert_int_eq(tr_store_open(dir, &(tr_store_options){.create = 1}, &st, &e), TR_OK);
    path p;
    hand_made(&p);
    ck_assert_int_eq(tr_store_signal_put(st, &p.sigs[0], &e), TR_OK); /* id 1 */
    ck_assert_int_eq(tr_store_signals_append(st, p.sigs + 1, p.n_sigs - 1, &e), TR_OK);
    ck_assert_int_eq(p.sigs[1].id, 2);
    ck_assert_int_eq(p.sigs[p.n_sigs - 1].id, (int64_t)p.n_sigs);
    size_t nc;
    resolve(&p, p.bars[p.n - 1].t + TF, &nc);
    tr_signal upd[2] = {p.sigs[4], p.sigs[0]};
    ck_assert_int_eq(tr_store_signals_update(st, upd, 2, &e), TR_OK);
    tr_signal *list;
    size_t n;
    ck_assert_int_eq(tr_store_signals_get(st, NULL, INT64_MIN, INT64_MAX, &list, &n, &e), TR_OK);
    ck_assert_uint_eq(n, p.n_sigs);
    ck_assert_str_eq(list[0].outcome, "win");
    ck_assert(list[0].pnl_pips == p.sigs[0].pnl_pips);
    ck_assert_str_eq(list[4].outcome, "loss");
    ck_assert(list[4].exit_price == p.sigs[4].exit_price);
    ck_assert_str_eq(list[1].outcome, "open"); /* not in the update */
    free(list);
    /* an unknown id: nothing written */
    upd[0].id = 99;
    ck_assert_int_eq(tr_store_signals_update(st, upd, 2, &e), TR_ERR_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(e.msg, "99"));
    tr_store_close(st);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

static Suite *outcome_suite(void)
{
    Suite *s = suite_create("outcome");
    TCase *tc = tcase_create("outcome");
    tcase_add_test(tc, test_hand_made);
    tcase_add_test(tc, test_steps_equal_once);
    tcase_add_test(tc, test_parity_with_backtest);
    tcase_add_test(tc, test_bad_input);
    tcase_add_test(tc, test_store_append_update);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(outcome_suite)
