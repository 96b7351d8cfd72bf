/*
 * featureset.h - the 38 features per bar that every model sees (docs/features.md documents each:
 * formula, parameters, warm-up, TA-Lib equivalent).
 *
 * Causal: the row of bar t is a function of bars 0..t only. Scale-free: prices enter only as
 * ratios, returns, or bounded oscillators, so EUR/USD (about 1.1) and USD/JPY (about 150) share
 * one model. Computed over the series as stored (consecutive stored bars, whatever the clock gap
 * between them; docs/features.md explains the gap policy). Rows t < TR_FEATURE_WARMUP are NaN.
 */
#ifndef AIFXT_FEATURESET_H
#define AIFXT_FEATURESET_H

#include <stddef.h>

#include "base/bars.h"
#include "base/err.h"

#define TR_N_FEATURES 38
/* Bars of history a row needs: the longest lookback (SMA 200: 199 bars) plus a margin for the
 * recursive (EMA, Wilder) indicators to forget their seeds. */
#define TR_FEATURE_WARMUP 300

/* Short names, in column order ("logret_1", ..., "dow_cos"). */
extern const char *const tr_feature_names[TR_N_FEATURES];

/* Computes out (n, TR_N_FEATURES), row-major, from n ascending bars. Rows before the warm-up are
 * NaN. Returns TR_ERR_NOMEM if scratch space cannot be allocated. */
tr_code tr_features_compute(const tr_bar *bars, size_t n, double *out, tr_error *err);

#endif
