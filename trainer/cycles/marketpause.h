/*
 * marketpause.h - the extreme-market pause applied to the training cycles (docs/monitoring.md,
 * "The pause rule"; the rule itself is market/pause.h): before the scheduler runs the daily
 * fine-tune or the weekly retrain, every pair stored at the timeframe is checked as of the slot
 * time; when one pauses, the slot is logged `skipped` with the pair, the rule's reason and its
 * figures, and training resumes by itself at the first slot where no pair pauses. run-due
 * --force-training overrides.
 */
#ifndef AIFXT_MARKETPAUSE_H
#define AIFXT_MARKETPAUSE_H

#include <stddef.h>
#include <stdint.h>

#include "market/pause.h"
#include "store/store.h"

/* The verdict over the store's pairs at timeframe tf as of as_of: *paused 1 when a pair pauses
 * (the first such, in pair order, in *which and pair); reason: one line naming the pair, the
 * rule's reason and figures ("" when nothing pauses). A pair with too few bars for a verdict
 * does not pause. */
tr_code tr_market_pause(tr_store *store, int32_t tf, int64_t as_of, int *paused, tr_pause *which,
                        char *pair, size_t pair_size, char *reason, size_t reason_size,
                        tr_error *err);

#endif
