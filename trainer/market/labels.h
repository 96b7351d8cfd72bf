/*
 * labels.h - the training targets: reversal labels (bottoms buy, tops sell, everything else
 * hold), or barrier labels (the trades that would have paid).
 *
 * Bar t is a buy when its low is the lowest low of bars t-k..t+k (ties allowed) and within the
 * next h bars some close rises to at least low_t + m ATR(14)_t; a sell when its high is the
 * highest high of bars t-k..t+k and some close within h bars falls to at most high_t - m ATR_t.
 * A bar that qualifies as both (an outside bar at both extremes) is hold. A bar whose label needs
 * a bar that does not exist yet (t + max(k, h) beyond the last bar), or history before the first
 * (t < k, or t before ATR's first value) is unlabeled (TR_LABEL_NONE) and never trained on.
 *
 * Barrier labels (kind TR_LABELS_BARRIER, a triple barrier with the backtest's own trade rule,
 * backtest.h): bar t is a buy when a long opened at bar t+1's open, with the stop and target of
 * ATR_t (sl_atr, tp_atr), exits at its target (tr_bt_exit_walk: gaps fill at the open, the stop
 * first when one bar reaches both, at most max_hold bars) with a PnL above 0 net of the spread;
 * a sell likewise for a short; hold otherwise (stop, time exit, or a target too close to pay the
 * spread). A bar where both would win (possible only with sl_atr > tp_atr) is hold. Unlabeled:
 * ATR_t undefined, or t + max_hold beyond the last bar (the trade's horizon is incomplete, even
 * when its exit is already known: every tail bar is treated alike).
 *
 * The label of t looks at future bars by design: it is the target, never a feature. The dataset
 * module embargoes tr_label_horizon bars after every split boundary so no label sees the next
 * part.
 */
#ifndef AIFXT_LABELS_H
#define AIFXT_LABELS_H

#include <stddef.h>
#include <stdint.h>

#include "base/bars.h"
#include "base/err.h"
#include "market/backtest.h"

enum {
    TR_LABEL_NONE = -1, /* unlabeled */
    TR_LABEL_HOLD = 0,
    TR_LABEL_BUY = 1,
    TR_LABEL_SELL = 2,
    TR_N_CLASSES = 3
};

/* Kinds of labels (tr_label_params.kind; 0, the zero value, is the reversal labels). */
enum { TR_LABELS_REVERSAL = 0, TR_LABELS_BARRIER = 1 };

typedef struct tr_label_params {
    int k;          /* half-width of the extremum window, bars (default 6) */
    double m;       /* move required, in ATR multiples (default 1.0) */
    int h;          /* horizon for the move, bars (default 16) */
    int atr_period; /* ATR period (default 14; both kinds) */
    /* appended: the kind, and the barrier labels' trade rule */
    int kind;           /* TR_LABELS_* (default reversal) */
    tr_bt_params trade; /* barrier: sl_atr, tp_atr, max_hold, spread_pips, pip (threshold
                           unused); default tr_bt_params_for_pair(NULL), and the dataset takes
                           pip and spread from each pair (tr_label_params_for_pair) */
} tr_label_params;

tr_label_params tr_label_params_default(void);

/* The parameters for one pair: barrier labels take the pair's pip and spread (the backtest's
 * defaults, tr_bt_params_for_pair); reversal labels are unchanged. */
tr_label_params tr_label_params_for_pair(const tr_label_params *p, const char *pair);

/* Bars after t that the label of t reads: max(k, h) (reversal), max_hold (barrier). */
int tr_label_horizon(const tr_label_params *p);

/* Checks the kind's parameters: reversal k >= 1, h >= 1, m > 0 and finite; barrier stop and
 * target > 0 and finite, max_hold >= 1, spread >= 0, pip > 0; both atr_period >= 1. */
tr_code tr_label_params_check(const tr_label_params *p, tr_error *err);

/* "reversal", "barrier" (or "?"); parse returns 0 and sets *kind, or -1. */
const char *tr_label_kind_name(int kind);
int tr_label_kind_parse(const char *s, int *kind);

/* Labels n bars into out (n): TR_LABEL_* values. Returns TR_ERR_INVALID on bad parameters,
 * TR_ERR_NOMEM if scratch space cannot be allocated. */
tr_code tr_labels_compute(const tr_bar *bars, size_t n, const tr_label_params *p, int8_t *out,
                          tr_error *err);

/* A static class name: "hold", "buy", "sell" (or "none"). */
const char *tr_label_name(int label);

#endif
