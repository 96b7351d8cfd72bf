/*
 * bars.h - OHLCV bars, a growable array of them, and the validity rule every stored bar obeys.
 *
 * A bar is identified by (pair, timeframe, t) where t is the UTC time its interval opens, in
 * seconds since the epoch, on the timeframe's grid (t is a multiple of the timeframe). Prices
 * are binary64; volume is the source's volume (tick volume for MT4 data), >= 0.
 */
#ifndef AIFXT_BARS_H
#define AIFXT_BARS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define TR_PAIR_MAX    16 /* bytes of a pair name ("EURUSD"), with the NUL */
#define TR_VERSION_MAX 64 /* bytes of a version or A/B test name, with the NUL */

typedef struct tr_bar {
    int64_t t; /* open time, UTC seconds */
    double open, high, low, close;
    double volume; /* >= 0 */
} tr_bar;

typedef struct tr_bars {
    tr_bar *v; /* (n) in ascending t */
    size_t n, cap;
} tr_bars;

/* Appends one bar (copied). Returns TR_OK or TR_ERR_NOMEM (bars unchanged). */
tr_code tr_bars_push(tr_bars *bars, const tr_bar *bar, tr_error *err);
/* Ensures room for cap bars in total. */
tr_code tr_bars_reserve(tr_bars *bars, size_t cap, tr_error *err);
/* Frees the array and zeroes the struct; NULL does nothing. */
void tr_bars_free(tr_bars *bars);

/* NULL when the bar's values are valid; otherwise a static text saying why not: a non-finite
 * value, a price <= 0, high below max(open, close), low above min(open, close), a negative volume.
 */
const char *tr_bar_invalid(const tr_bar *bar);

/* Index of the first bar with t >= time in the ascending array (n if none). */
size_t tr_bars_lower_bound(const tr_bar *bars, size_t n, int64_t time);

/* Equality of every field, bit for bit (re-ingesting the same text gives the same doubles). */
int tr_bar_equal(const tr_bar *a, const tr_bar *b);

#endif
