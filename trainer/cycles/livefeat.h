/*
 * livefeat.h - a pair's 38 features kept live for a long-running service (aifx-serve): a
 * feature stream (market/featstream.h) fed from the store's bars one new bar at a time, instead
 * of tr_predict_window's batch over the last 5,000 bars at every prediction.
 *
 * Equality with the batch. The stream is built from the same last TR_PREDICT_MAX_HISTORY bars
 * the batch would use, then extended bar by bar; a row of the stream then differs from the batch
 * over the last 5,000 bars only through the seeds of the recursive indicators, which have
 * decayed below a double's resolution after about 700 bars (docs/features.md, "Streaming"), so
 * the model sees the same window bit for bit (tests/trainer/check_livefeat.c compares them at
 * every bar of a long series).
 *
 * Freshness. A sync reads the store only when a newer bar can have closed by as_of (the next
 * bar's close is at or before as_of), and then at most once per min_interval seconds of
 * monotonic time (a bar that is late to arrive is not polled for at every request). It reads
 * only the bars from its newest one on, and checks that its newest bar is still the stored one:
 * a replaced bar, or a series that no longer reaches it, rebuilds the stream. After
 * TR_PREDICT_MAX_HISTORY bars pushed since the last build it rebuilds as well, so a bar changed
 * deeper in history is picked up within that many bars.
 *
 * Not thread-safe: one per pair, under the caller's lock.
 */
#ifndef AIFXT_LIVEFEAT_H
#define AIFXT_LIVEFEAT_H

#include <stddef.h>
#include <stdint.h>

#include "aifxnn.h"
#include "base/err.h"
#include "market/decide.h"
#include "store/store.h"

typedef struct tr_live_pair tr_live_pair;

/* A live feature state for pair at timeframe tf, empty until the first sync. */
tr_code tr_live_pair_new(const char *pair, int32_t tf, tr_live_pair **out, tr_error *err);
void tr_live_pair_free(tr_live_pair *lp);

/* What a sync did. */
typedef struct tr_live_sync {
    int read;      /* 1 when the store was read */
    int rebuilt;   /* 1 when the stream was built anew */
    size_t pushed; /* bars pushed */
} tr_live_sync;

/* Brings the state up to the bars that closed by as_of (see the header comment). now: the
 * caller's monotonic clock in seconds (tr_mono_now); min_interval: seconds between two reads
 * that find nothing new (0: read whenever a bar can be due). TR_ERR_CONFLICT when as_of is
 * before the close of the newest bar the state holds (a prediction for the past: the caller
 * computes it in batch); the store's error when it cannot be read (the state is unchanged). */
tr_code tr_live_pair_sync(tr_live_pair *lp, tr_store *store, int64_t as_of, double now,
                          double min_interval, tr_live_sync *what, tr_error *err);

/* The open time of the newest bar held (INT64_MIN when none), and how many bars of history are
 * behind it (as tr_predict counts them: at most TR_PREDICT_MAX_HISTORY when it was built, plus
 * the bars pushed since). */
int64_t tr_live_pair_last(const tr_live_pair *lp);
size_t tr_live_pair_history(const tr_live_pair *lp);

/* The model's probabilities for the window of the model's T rows ending at the newest bar,
 * calibrated and decided by rule (NULL: the identity) as tr_predict_window does. TR_ERR_DATA
 * naming a non-finite feature and its bar. */
tr_code tr_live_pair_predict(const tr_live_pair *lp, const aifx_model *m, const tr_rule *rule,
                             float probs[3], int *best, tr_error *err);

#endif
