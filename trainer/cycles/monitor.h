/*
 * monitor.h - the position monitor, live: every open signal of the store resolved on the bars
 * stored so far, with the backtest's exit rule and one book per A/B arm (market/outcome.h), the
 * same code the replay runs after each bar. It runs as the "monitor" cycle (due at every
 * run-due call, schedule.h), as `aifx-train monitor`, and in aifx-serve --schedule.
 *
 * Idempotent: the outcomes are a function of the bars and the signals, so a second run with no
 * new bar changes nothing and writes nothing. A run and a reported outcome never interleave: both
 * hold the store's cycle lock "monitor" (a run that finds it taken is skipped: the other run does
 * the work; a report waits for it).
 *
 * Production figures (the original schema's model_versions.production_*) are not a second copy
 * kept in step: they are computed from the signals' outcomes whenever they are read
 * (tr_prod_figs_compute, outcome.h), by versions show, GET /v1/versions and the PostgreSQL views.
 */
#ifndef AIFXT_MONITOR_H
#define AIFXT_MONITOR_H

#include <stddef.h>
#include <stdint.h>

#include "cycles/cycledef.h"
#include "market/outcome.h"
#include "store/store.h"

typedef struct tr_monitor_result {
    int n_series;         /* series (pair, timeframe) with signals */
    int n_walked;         /* of them, with an open signal: bars read and the walk run */
    size_t n_signals;     /* signals read */
    size_t n_open_before; /* not final before the run */
    size_t n_open_after;
    size_t n_changed; /* signals whose outcome fields changed (and were written) */
    size_t n_closed;  /* of them, trades closed now: "win" or "loss" */
    int skipped;      /* 1: another monitor run held the lock; nothing done */
    double seconds;
} tr_monitor_result;

/* Resolves every open signal on the bars that closed by as_of (0: now). TR_OK with
 * res->skipped when another run holds the lock. */
tr_code tr_monitor_run(tr_store *store, int64_t as_of, tr_monitor_result *res, tr_error *err);

/* The signal with the given id: TR_ERR_NOTFOUND naming it when there is none. On a directory
 * store this reads every segment (ids are not indexed; a report is one call per closed trade). */
tr_code tr_signal_find(tr_store *store, int64_t id, tr_signal *out, tr_error *err);

/* Records a real outcome reported by the backend for signal id (tr_outcome_report): it replaces
 * the simulated one and the monitor never changes it again. Reporting the same values twice is a
 * no-op; reporting other values for a signal already reported replaces them (the backend's last
 * word counts). out (optional) receives the stored signal; on TR_ERR_INVALID, field (optional)
 * the field refused (tr_outcome_report_refused). Waits up to 10 s for a monitor run in
 * progress. */
tr_code tr_signal_report_outcome(tr_store *store, int64_t id, const char *outcome, double pnl_pips,
                                 int64_t closed_at, tr_signal *out, const char **field,
                                 tr_error *err);

/* Production figures of each of n versions (names), from the store's signals read once. */
tr_code tr_prod_figs_read(tr_store *store, const char *const *versions, size_t n, tr_prod_figs *out,
                          tr_error *err);

extern const tr_cycle_def tr_cycle_monitor_def;

#endif
