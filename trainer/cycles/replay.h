/*
 * replay.h - `aifx-train replay`: months of the continuous-learning loop simulated on history
 * (docs/cli.md, docs/operations.md).
 *
 * A simulated clock walks over the bar close times in (from, to] of the given series, one step
 * per close time at which any pair has a new bar (weekends have no steps). The bars before from
 * are history, visible from the start. At each step:
 *   1. the new bars become visible (the clock filters the in-memory series: a bar is visible once
 *      t + timeframe <= clock);
 *   2. the scheduler: when a slot time (daily, weekly, monthly; schedule.h) has passed since the
 *      last check, or a failed cycle waits for its retry, the registry is read and, if a cycle is
 *      due, the visible bars are ingested into the store and tr_run_due runs as of the clock
 *      (nothing else writes the registry, so the steps in between would find nothing due);
 *   3. the active version's prediction for each pair's new bar, computed as tr_predict does it
 *      (the same tr_features_compute over the last min(n, 5,000) closed bars, at least 1,000, the
 *      last T rows, the model's own scaler) and recorded as a signal created at the clock;
 *   4. the position monitor (outcome.h) resolves the signals whose exits occurred.
 * Signals and outcomes are written to the store in batches (every flush_steps steps, before any
 * cycle runs, and at the end), each batch followed by the replay state <store>/replay.state (the
 * arguments and the clock of the last completed step).
 *
 * Restart: started again with the same arguments on the same store, the replay continues after
 * the stored clock. Signals recorded after it (a kill between the signal write and the state
 * write) are recognised by (pair, bar time) and not recorded twice; outcomes are recomputed from
 * the bars; a weekly full retrain killed mid-run resumes from its epoch checkpoint (run-due's
 * rule); a cycle killed before its registry commit runs again. The end state equals an
 * uninterrupted run's except for wall-clock fields (trained_at, started/finished times, seconds,
 * and activation times of the gate, which the cycles take from the wall clock).
 *
 * At the end: a timeline (cycles run, verdicts, activations, retirements; figures per month)
 * as Markdown, returned and written to <store>/reports/replay-<from>-<to>.md.
 */
#ifndef AIFXT_REPLAY_H
#define AIFXT_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "cycles/schedule.h"
#include "store/store.h"

#define TR_REPLAY_MAX_PAIRS 8

typedef struct tr_replay_progress {
    int64_t clock;
    size_t step, n_steps;
    size_t n_signals;         /* recorded so far */
    const tr_due_result *due; /* the cycles run at this step, or NULL */
} tr_replay_progress;

typedef void (*tr_replay_fn)(const tr_replay_progress *p, void *user);

typedef struct tr_replay_opts {
    const char *csv[TR_REPLAY_MAX_PAIRS]; /* generic CSV files (csv.h), one per pair */
    const char *pair[TR_REPLAY_MAX_PAIRS];
    int n_pairs;
    int64_t from, to;     /* the clock runs over bar closes in (from, to] */
    int32_t timeframe;    /* default 900 */
    tr_due_opts due;      /* schedule and cycle settings (as_of set by the replay) */
    int flush_steps;      /* steps between batch writes (default 96) */
    tr_replay_fn on_step; /* called after every step that ran a cycle, and every 96 steps */
    void *user;
} tr_replay_opts;

tr_replay_opts tr_replay_opts_default(void);

typedef struct tr_replay_result {
    size_t n_steps, n_steps_run; /* all steps in (from, to]; run by this call */
    int resumed;                 /* continued a stored replay */
    int stopped;                 /* stopped by the test hook (testhook.h) as if killed */
    size_t n_signals;            /* recorded in (from, to] by the replay, both calls */
    double seconds, seconds_cycles, seconds_predict;
    char *timeline; /* Markdown, malloc'd; free with tr_replay_result_free */
    char report_path[4400];
} tr_replay_result;

/* Runs (or continues) the replay. TR_ERR_CONFLICT when the store holds a replay with other
 * arguments, or bars of a replayed pair after the clock; the CSV's error when a file is bad. */
tr_code tr_replay_run(tr_store *store, const tr_replay_opts *o, tr_replay_result *res,
                      tr_error *err);

void tr_replay_result_free(tr_replay_result *r);

#endif
