/*
 * synth.h - deterministic synthetic FX bars: a random walk in log price with volatility
 * regimes (a three-state Markov chain), intraday seasonality (quiet Asian night, active London
 * and New York sessions), the weekend closure (Friday 22:00 to Sunday 22:00 UTC, no bars) with a
 * price gap at the reopening, tick-like volume, and prices rounded to the pair's pip decimals.
 *
 * Same parameters, same bars, on every machine: the generator (xoshiro256** seeded through
 * splitmix64 from the seed and the pair name) is explicit and nothing reads the clock.
 */
#ifndef AIFXT_SYNTH_H
#define AIFXT_SYNTH_H

#include <stdint.h>

#include "base/bars.h"
#include "base/err.h"

typedef struct tr_synth_params {
    const char *pair; /* valid pair name; "JPY" in it selects 150.000 and 3 decimals */
    int64_t from, to; /* bars with from <= t < to */
    uint64_t seed;
    int32_t timeframe;  /* seconds, default 900 */
    double start_price; /* 0: 1.10000 (150.000 for JPY pairs) */
    int decimals;       /* 0: 5 (3 for JPY pairs) */
} tr_synth_params;

tr_synth_params tr_synth_params_default(const char *pair, int64_t from, int64_t to, uint64_t seed);

/* Appends the bars to out; *decimals (optional) receives the rounding used. */
tr_code tr_synth_generate(const tr_synth_params *p, tr_bars *out, int *decimals, tr_error *err);

#endif
