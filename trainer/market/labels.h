/*
 * labels.h - reversal labels: bottoms (buy), tops (sell), and everything else (hold).
 *
 * Bar t is a buy when its low is the lowest low of bars t-k..t+k (ties allowed) and within the
 * next h bars some close rises to at least low_t + m ATR(14)_t; a sell when its high is the
 * highest high of bars t-k..t+k and some close within h bars falls to at most high_t - m ATR_t.
 * A bar that qualifies as both (an outside bar at both extremes) is hold. A bar whose label needs
 * a bar that does not exist yet (t + max(k, h) beyond the last bar), or history before the first
 * (t < k, or t before ATR's first value) is unlabeled (TR_LABEL_NONE) and never trained on.
 *
 * The label of t looks at future bars by design: it is the target, never a feature. The dataset
 * module embargoes max(k, h) bars after every split boundary so no label sees the next part.
 */
#ifndef AIFXT_LABELS_H
#define AIFXT_LABELS_H

#include <stddef.h>
#include <stdint.h>

#include "base/bars.h"
#include "base/err.h"

enum {
    TR_LABEL_NONE = -1, /* unlabeled */
    TR_LABEL_HOLD = 0,
    TR_LABEL_BUY = 1,
    TR_LABEL_SELL = 2,
    TR_N_CLASSES = 3
};

typedef struct tr_label_params {
    int k;          /* half-width of the extremum window, bars (default 6) */
    double m;       /* move required, in ATR multiples (default 1.0) */
    int h;          /* horizon for the move, bars (default 16) */
    int atr_period; /* ATR period (default 14) */
} tr_label_params;

tr_label_params tr_label_params_default(void);

/* Bars after t that the label of t reads: max(k, h). */
int tr_label_horizon(const tr_label_params *p);

/* Checks k >= 1, h >= 1, m > 0 and finite, atr_period >= 1. */
tr_code tr_label_params_check(const tr_label_params *p, tr_error *err);

/* Labels n bars into out (n): TR_LABEL_* values. Returns TR_ERR_INVALID on bad parameters,
 * TR_ERR_NOMEM if scratch space cannot be allocated. */
tr_code tr_labels_compute(const tr_bar *bars, size_t n, const tr_label_params *p, int8_t *out,
                          tr_error *err);

/* A static class name: "hold", "buy", "sell" (or "none"). */
const char *tr_label_name(int label);

#endif
