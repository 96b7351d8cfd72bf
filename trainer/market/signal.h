/*
 * signal.h - a served prediction (a row of trading_signals) and the limits of the names it
 * carries. A signal is market data's own record: the position monitor (outcome.h) resolves it,
 * the store keeps it, the cycles and the service make it.
 */
#ifndef AIFXT_SIGNAL_H
#define AIFXT_SIGNAL_H

#include <stdint.h>

#include "base/bars.h"

/* One served prediction (trading_signals). Outcome fields are filled by the position monitor
 * (outcome.h): outcome "open" until resolved, then "win", "loss" or "none" (no position). */
typedef struct tr_signal {
    int64_t id; /* assigned by signal_put: 1, 2, ... */
    char pair[TR_PAIR_MAX];
    int32_t timeframe;
    int64_t bar_time;  /* open time of the bar whose close the signal is for */
    int signal;        /* TR_LABEL_HOLD, BUY, SELL */
    double confidence; /* probability of the signalled class */
    double probs[3];   /* hold, buy, sell */
    char model_version[TR_VERSION_MAX];
    char ab_test_id[TR_VERSION_MAX]; /* "" outside an A/B test */
    int64_t created_at;
    char outcome[8]; /* "open", "win", "loss", "none" */
    int64_t exit_time;
    double exit_price, pnl_pips, pnl_percent;
    int reported; /* 1: the outcome was reported by the backend (a real trade's result, POST
                     /v1/signals/{id}/outcome), which takes precedence over the simulated one */
} tr_signal;

#endif
