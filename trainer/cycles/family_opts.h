/*
 * family_opts.h - a model family's settings (registry/family.h) applied to the cycles' options.
 *
 * The family sets the timeframe and the pairs (through its store handle), and the model, label,
 * decision and schedule settings it names. Windows the built-in settings state in time for 15
 * minutes keep their number of bars at the family's timeframe (scale s = timeframe / 900, 4 at
 * 1h, 16 at 4h): the retrain's 3 months (3 s months), the fine-tune's day and the gate's 7 days,
 * the A/B test's 7 days, the ranking's 30 days and the drift check's 7 days are all multiplied by
 * s. Indicator periods, the window of 20 bars and the label horizon are counted in bars already,
 * so they cover s times as long. The schedule's times are not scaled: the fine-tune still runs
 * daily, on its last s days. docs/families.md says why.
 *
 * Each function sets what the family decides into options that hold the built-in defaults; a
 * command applies it before its own flags, which override it.
 */
#ifndef AIFXT_FAMILY_OPTS_H
#define AIFXT_FAMILY_OPTS_H

#include "cycles/cycle.h"
#include "cycles/driftcheck.h"
#include "cycles/rank.h"
#include "cycles/schedule.h"
#include "registry/family.h"

/* TR_OK when every name of f->disable is a scheduled cycle (incremental, full, rank, abtest,
 * drift); else TR_ERR_INVALID naming it. */
tr_code tr_family_check(const tr_family *f, tr_error *err);

void tr_family_full_opts(const tr_family *f, tr_full_opts *o);
void tr_family_incr_opts(const tr_family *f, tr_incr_opts *o);
void tr_family_rank_opts(const tr_family *f, tr_rank_opts *o);
void tr_family_drift_opts(const tr_family *f, tr_driftcheck_opts *o);
/* The family's schedule settings on sched: its weekday, and its disabled cycles turned off (the
 * others left as they are); TR_ERR_INVALID as tr_family_check. */
tr_code tr_family_schedule(const tr_family *f, tr_schedule *sched, tr_error *err);
/* All of the above, and the schedule: TR_ERR_INVALID as tr_family_check. */
tr_code tr_family_due_opts(const tr_family *f, tr_due_opts *o, tr_error *err);

#endif
