/*
 * outcome.h - the position monitor: resolves recorded signals into outcomes (win or loss, PnL)
 * with the backtest engine's rules (backtest.h, docs/backtest.md).
 *
 * One pair's signals, in bar order, are traded as the backtest would trade them: a buy or sell
 * signal at a bar's close (with probability >= threshold) opens a position at the next bar's
 * open, one position at a time; it exits at the stop or target (ATR multiples from the entry, ATR
 * at the signal bar; stop before target within a bar; a gap fills at the open), at the next open
 * after an opposite signal (which opens the reverse position), or at the close of the max_hold-th
 * bar. The signal that opened a position receives its outcome when the exit occurs: "win" (net
 * PnL > 0) or "loss" (<= 0), exit_time (open time of the exit bar), exit_price, pnl_pips (net of
 * the spread) and pnl_percent (pnl_pips x pip / entry x 100). A signal that opens no position
 * (hold, below the threshold, the direction already held, no ATR, or a bar not in the series)
 * becomes "none" as soon as that is known. A position still open at as_of stays "open" (there is
 * no end-of-data exit: the monitor runs live), as does a signal whose next bar has not closed.
 *
 * Incremental: signals whose outcome is not "open" are final and never changed; the walk starts
 * flat at the first "open" signal (nothing can be open before it), so calling again with a later
 * as_of continues the same trades. Same bars, signals and parameters: same outcomes.
 */
#ifndef AIFXT_OUTCOME_H
#define AIFXT_OUTCOME_H

#include <stddef.h>
#include <stdint.h>

#include "base/bars.h"
#include "base/err.h"
#include "market/backtest.h"
#include "market/signal.h"

/* Resolves what can be resolved by as_of. bars (n): the pair's series, ascending; only bars that
 * closed by as_of (t + timeframe <= as_of) are used. atr (n): ATR at each bar (as the backtest's,
 * ta_atr with period 14 over the same series). sigs (n_sigs): the pair's signals, ascending
 * bar_time, changed in place; changed (n_sigs, optional) is set to 1 where a signal changed.
 * *n_changed (optional) counts them. TR_ERR_INVALID for bad parameters or unordered signals. */
tr_code tr_outcomes_resolve(const tr_bar *bars, size_t n, const double *atr, int32_t timeframe,
                            const tr_bt_params *p, int64_t as_of, tr_signal *sigs, size_t n_sigs,
                            unsigned char *changed, size_t *n_changed, tr_error *err);

/* The same, with each book traded on its own: the production signals (no A/B test id) form one
 * book, and each (A/B test, version) another, so an arm's position is never closed by the other
 * arm's signal (abtest.h). Without A/B signals this is tr_outcomes_resolve. */
tr_code tr_outcomes_resolve_books(const tr_bar *bars, size_t n, const double *atr,
                                  int32_t timeframe, const tr_bt_params *p, int64_t as_of,
                                  tr_signal *sigs, size_t n_sigs, unsigned char *changed,
                                  size_t *n_changed, tr_error *err);

/* 1 when the outcome is final ("win", "loss", "none", or any reported outcome). */
int tr_outcome_final(const tr_signal *sig);

/* ATR(14) at each of n bars, as the backtest and the monitor use it (ta_atr over the series from
 * its first bar). atr: n doubles. TR_ERR_NOMEM only. */
tr_code tr_outcome_atr(const tr_bar *bars, size_t n, double *atr, tr_error *err);

/* Sorts signals into the order the walk needs: bar time, then id. */
void tr_signals_sort(tr_signal *sigs, size_t n);

/* A real outcome reported by the backend's position service, applied to sig: outcome "win" or
 * "loss" (a reported trade always closed), pnl_pips net as the backend counts it, closed_at the
 * exit time (> the signal's bar time). pnl_percent is left as the monitor had it when the signal
 * was resolved, else 0 (the backend reports pips). The signal becomes reported: final, never
 * changed by the monitor again, and its position counts as closed at closed_at in its book (the
 * walk restarts flat after it). TR_ERR_INVALID naming the field for a bad value. */
tr_code tr_outcome_report(tr_signal *sig, const char *outcome, double pnl_pips, int64_t closed_at,
                          tr_error *err);

/* The field tr_outcome_report refuses for sig, as a request names it ("outcome", "pnl_pips",
 * "closed_at", or "id" for a hold, which opened no position), or NULL when it accepts them. */
const char *tr_outcome_report_refused(const tr_signal *sig, const char *outcome, double pnl_pips,
                                      int64_t closed_at);

/* A version's production figures, as the original schema's model_versions.production_*: from
 * the signals it served (the store's trading_signals), A/B arms included: they reached users.
 * Outcomes "win" and "loss" count as trades, simulated by the monitor or reported. */
typedef struct tr_prod_figs {
    int64_t predictions; /* signals recorded */
    int64_t open;        /* not yet resolved */
    int64_t trades;      /* closed: "win" or "loss" */
    int64_t wins;        /* net pnl > 0 */
    int64_t reported;    /* of the trades, outcomes reported by the backend */
    double win_rate;     /* wins / trades; NAN without trades */
    double total_pips;   /* sum of pnl_pips over the trades (0 without) */
    double avg_pnl;      /* mean pnl_pips per trade; NAN without trades */
    double sharpe;       /* per trade, not annualised: mean(pnl_pips) / sd(pnl_pips, ddof 1);
                            NAN with fewer than 2 trades or no variation */
} tr_prod_figs;

/* The figures of version over sigs (any order). */
void tr_prod_figs_compute(const tr_signal *sigs, size_t n, const char *version, tr_prod_figs *out);

#endif
