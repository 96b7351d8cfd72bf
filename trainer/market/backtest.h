/*
 * backtest.h - a bar-by-bar backtest of a model's signals on one pair (docs/backtest.md).
 *
 * A buy or sell signal at a bar's close (optionally only when its probability reaches a
 * threshold) opens a position at the next bar's open. It exits at the stop loss or take profit
 * (ATR multiples from the entry, ATR taken at the signal bar), at the next open after an
 * opposite signal (which then opens the reverse position), after a maximum holding time (at that
 * bar's close), or at the last bar's close. One position at a time. A spread in pips is charged
 * per round trip. Within one bar the stop is assumed hit before the target (conservative); a bar
 * that opens beyond a level fills at its open.
 */
#ifndef AIFXT_BACKTEST_H
#define AIFXT_BACKTEST_H

#include <stddef.h>
#include <stdint.h>

#include "base/bars.h"
#include "base/err.h"

typedef struct tr_bt_params {
    double threshold;   /* minimum probability of the signalled class; 0 takes every signal */
    double sl_atr;      /* stop-loss distance, ATR multiples (default 1.5) */
    double tp_atr;      /* take-profit distance, ATR multiples (default 2.0) */
    int max_hold;       /* bars a position may be held, >= 1 (default 16) */
    double spread_pips; /* cost per round trip (default from tr_bt_default_spread) */
    double pip;         /* price of one pip: 0.0001, or 0.01 for JPY quotes */
} tr_bt_params;

/* Defaults for a pair: pip 0.01 when the quote currency is JPY, else 0.0001; spread 1.0 pip for
 * EURUSD, 1.5 for USDJPY, 2.0 otherwise (typical retail spreads, configurable). */
tr_bt_params tr_bt_params_for_pair(const char *pair);

enum { TR_EXIT_STOP = 0, TR_EXIT_TARGET, TR_EXIT_OPPOSITE, TR_EXIT_TIME, TR_EXIT_END };

typedef struct tr_trade {
    int64_t entry_t, exit_t; /* open times of the entry and exit bars */
    int dir;                 /* +1 long (buy), -1 short (sell) */
    double entry, exit;      /* prices */
    double pnl_pips;         /* net of the spread */
    double pnl_frac;         /* net return as a fraction of the entry price */
    int bars;                /* bars held, entry bar included */
    int reason;              /* TR_EXIT_* */
} tr_trade;

typedef struct tr_bt_result {
    size_t n_bars;
    size_t n_signals;                          /* buy/sell signals taken (after the threshold) */
    size_t n_buy, n_sell;                      /* of them */
    size_t n_trades, n_wins, n_losses, n_zero; /* win: net pnl > 0; zero: exactly 0 */
    double win_rate;                           /* n_wins / n_trades (0 without trades) */
    double total_pips, avg_pips;
    double total_return; /* compounded: prod(1 + pnl_frac) - 1 */
    double avg_return;   /* mean pnl_frac */
    double sharpe;       /* daily returns, sqrt(252), rf 0, sample sd; 0 if undefined */
    double sortino; /* daily returns, sqrt(252), downside sqrt(mean(min(r,0)^2)); 0 if undefined */
    double max_drawdown;  /* of compounded equity after each trade, a positive fraction */
    double profit_factor; /* gross win pips / gross loss pips; 0 without losses and wins, */
                          /* INFINITY with wins and no losses */
    double signal_freq;   /* n_signals / n_bars */
    size_t n_days;        /* UTC days with bars, the sample of the daily returns */
    tr_trade *trades;     /* (n_trades), owned; free with tr_bt_result_free */
} tr_bt_result;

/* The exit of an open position within bar b, if any: a gap beyond a level fills at the open
 * (stop first), then the stop before the target. dir +1 long, -1 short. Returns 1 and sets
 * *price and *reason (TR_EXIT_STOP or TR_EXIT_TARGET; reason may be NULL) when it closes. Shared
 * by the backtest and the resolution of recorded signals (outcome.c). */
int tr_bt_intrabar_exit(const tr_bar *b, int dir, double sl, double tp, double *price, int *reason);

/* ---- the trade rule, shared by the backtest, the outcomes of live signals and the barrier
 * labels (labels.h): one definition of where a position exits ---------------------------------- */

/* A position opened at bar entry_i's open: levels from that open and the signal bar's ATR. */
typedef struct tr_bt_position {
    int dir;        /* +1 long, -1 short, 0 none */
    size_t entry_i; /* the entry bar */
    double entry;   /* its open */
    double sl, tp;  /* entry -/+ dir x sl_atr x ATR, entry +/- dir x tp_atr x ATR */
} tr_bt_position;

/* Opens a position in direction dir (+1/-1) at bars[entry_i].open with the ATR of the signal
 * bar (the bar before). */
tr_bt_position tr_bt_open(const tr_bar *bars, size_t entry_i, int dir, double atr,
                          const tr_bt_params *p);

/* Where a position exits when nothing else closes it first (no opposite signal): walking bars
 * pos->entry_i .. n-1, the first bar where tr_bt_intrabar_exit closes it (stop, or target), else
 * the close of its max_hold-th bar (entry bar included, TR_EXIT_TIME). Returns 1 and sets
 * *exit_i, *price and *reason (each may be NULL) when the exit lies within the n bars; 0 when the
 * bars end before it (the position would still be open after bar n-1). */
int tr_bt_exit_walk(const tr_bar *bars, size_t n, const tr_bt_position *pos, const tr_bt_params *p,
                    size_t *exit_i, double *price, int *reason);

/* Net PnL in pips of a trade: dir x (exit - entry) / pip - spread. */
double tr_bt_pnl_pips(int dir, double entry, double exit, const tr_bt_params *p);

/* Runs the backtest over n bars. signal (n): TR_LABEL_HOLD/BUY/SELL (anything else is no
 * signal); prob (n, optional): the probability of each bar's signalled class; atr (n): ATR at
 * each bar, non-finite or <= 0 where undefined (no entry there). */
tr_code tr_backtest(const tr_bar *bars, size_t n, const int8_t *signal, const float *prob,
                    const double *atr, const tr_bt_params *p, tr_bt_result *out, tr_error *err);

void tr_bt_result_free(tr_bt_result *r);

#endif
