/*
 * testhook.h - the cycles' test hooks: function pointers that only the test suites set, so that
 * no production option carries a test's wish. NULL (the default) means no hook.
 *
 *   tr_testhook_epoch   called by the full retrain after each epoch's checkpoint is saved; a
 *                       nonzero return interrupts the run there, as if the process were killed
 *                       (no failed log row; `--resume` / run-due continues it)
 *   tr_testhook_point   called by the full retrain at named points after training: "trained"
 *                       (the fit is over, before evaluation), "evaluated" (after the backtest,
 *                       before the version's checkpoint is saved), "saved" (before the registry
 *                       commit), "committed" (after it, before runs/ is removed); a nonzero
 *                       return stops the run there as if killed (no failed row, no cleanup)
 *   tr_testhook_step    called by the replay before each step with the steps run by this call;
 *                       a nonzero return stops the replay there without its final write, as if
 *                       killed (tr_replay_result.stopped)
 *   tr_testhook_wf_step the walk-forward evaluation, after each step's results file is written,
 *                       with the steps finished so far (this call's and earlier ones'); a
 *                       nonzero return stops the walk there without a report, as if killed
 */
#ifndef AIFXT_TESTHOOK_H
#define AIFXT_TESTHOOK_H

#include <stddef.h>

extern int (*tr_testhook_epoch)(const char *cycle, int epoch);
extern int (*tr_testhook_point)(const char *cycle, const char *point);
extern int (*tr_testhook_step)(size_t steps_run);
extern int (*tr_testhook_wf_step)(size_t steps_done);

#endif
