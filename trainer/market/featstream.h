/*
 * featstream.h - the 38 features of featureset.h computed one bar at a time, for a service that
 * sees each new bar of a pair and must not recompute its whole history.
 *
 * Exactness: pushing bars[0..n) one by one gives, for every bar, the row that
 * tr_features_compute(bars, n, ...) gives, bit for bit (the same floating-point operations in the
 * same order as ta.c and featureset.c; tests/trainer/check_featstream.c compares every row of the
 * real data files). Rows before TR_FEATURE_WARMUP are NaN, as in the batch. A stream started later
 * than the batch's first bar differs only through the seeds of the recursive indicators (EMA,
 * Wilder), which decay geometrically (docs/features.md, "Streaming").
 *
 * Cost: O(1) per push in the length of the series: about a thousand floating-point operations
 * over the indicators' windows (the longest SMA(200)), the batch's work per bar; no allocation
 * after tr_featstream_new. The state is one block: 18,808 bytes plus 312 per kept row (x86-64).
 *
 * A stream is not thread-safe; distinct streams are independent.
 */
#ifndef AIFXT_FEATSTREAM_H
#define AIFXT_FEATSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "base/bars.h"
#include "base/err.h"
#include "market/featureset.h"

typedef struct tr_featstream tr_featstream;

/* A new, empty stream that keeps the last keep_rows feature rows (>= 1; a window of T rows needs
 * keep_rows >= T). *out receives it; the caller frees it with tr_featstream_free. Returns
 * TR_ERR_INVALID for keep_rows 0 or too large to allocate, TR_ERR_NOMEM if allocation fails. */
tr_code tr_featstream_new(size_t keep_rows, tr_featstream **out, tr_error *err);

/* Frees the stream; NULL does nothing. */
void tr_featstream_free(tr_featstream *fs);

/* Appends one bar and computes its row. row (optional, TR_N_FEATURES values) receives the row:
 * NaN before the warm-up, exactly as the batch. Refused, leaving the stream unchanged:
 * TR_ERR_INVALID when bar is NULL or its time is not after the newest bar's (the message names
 * both times), TR_ERR_DATA when its values break the rule of tr_bar_invalid (non-finite, a price
 * <= 0, high or low inconsistent), which every stored bar obeys. */
tr_code tr_featstream_push(tr_featstream *fs, const tr_bar *bar, double *row, tr_error *err);

/* Bars pushed so far. */
size_t tr_featstream_count(const tr_featstream *fs);

/* Open time of the newest bar; INT64_MIN if none. */
int64_t tr_featstream_last_time(const tr_featstream *fs);

/* The rows of the last T bars, oldest first, as float, into x (T, TR_N_FEATURES). Returns
 * TR_ERR_INVALID when x is NULL, T is 0 or T > keep_rows; TR_ERR_NOTFOUND when fewer than T rows
 * are past the warm-up (more bars will cure it: count >= TR_FEATURE_WARMUP + T is enough);
 * TR_ERR_DATA naming the feature and the bar time when a value is not finite. x may be partly
 * written on failure. */
tr_code tr_featstream_window(const tr_featstream *fs, size_t T, float *x, tr_error *err);

/* An independent copy of the stream (one allocation and copy of its block), e.g. to try a bar
 * that may still change; NULL when out of memory. */
tr_featstream *tr_featstream_clone(const tr_featstream *fs);

#endif
