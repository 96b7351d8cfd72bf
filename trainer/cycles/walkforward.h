/*
 * walkforward.h - `aifx-train walkforward`: the weekly retrain replayed over a range, each model
 * scored on the step after its as-of time, on bars it never saw, beside three baselines
 * (docs/walkforward.md).
 *
 * Steps start at from, from + step, ... while before to; step k scores [t_k, min(t_{k+1}, to)).
 * The bars of the chosen pairs are copied once into a work store (a directory store inside the
 * work directory), from the first training window's start, with the features' warm-up, to a
 * fortnight past to (the labels of the last windows look ahead). At each step tr_cycle_full runs
 * on the work store as of t_k with the caller's options, exactly the weekly cycle (the months
 * before t_k, 70/15/15 with the embargo, early stopping); its registered version's checkpoint is
 * loaded and scored on the windows whose last bar lies in the step, labelled with the same kind:
 *   - the model twice: (a) argmax of the raw probabilities, (b) the version's decision rule
 *     (market/decide.h): macro-F1, log loss (raw, and calibrated with the rule's temperature),
 *     and the backtest (data/eval.h tr_backtest_split: trades, win rate, net pips after the
 *     spread, Sharpe, maximum drawdown), each step on its own (flat at the step's end);
 *   - always-hold, the RSI(14) 30/70 rule (tr_baseline_rsi), on the same windows;
 *   - random entry: per draw, as many signals per pair as the rule variant made trades there, at
 *     distinct random windows with random direction, through the same backtest; the distribution
 *     of net pips (median, 5% and 95%) and the permutation p-value of the model's net pips,
 *     p = (1 + #{draws >= model}) / (1 + draws).
 * The whole range: each strategy's signals of all steps in sequence through one backtest; the
 * random draws likewise (draw d is the union of its entries of every step).
 *
 * Random numbers: splitmix64 (Steele, Lea and Flood 2014) used as a counter-based generator,
 * keyed by (seed, step, draw, pair): the same seed gives the same draws, whatever steps an
 * earlier call computed.
 *
 * Resume: the work directory holds, under wf-<key> (key: CRC-32 of the arguments), the work
 * store and one durable file per finished step (step-NNN.txt, atomic writes). Started again with
 * the same arguments, a run takes the finished steps from their files, resumes an interrupted
 * weekly retrain from its epoch checkpoint (full --resume), and reuses a registered version of
 * the step's as-of time: the report is the same, byte for byte, but for its run-time line.
 */
#ifndef AIFXT_WALKFORWARD_H
#define AIFXT_WALKFORWARD_H

#include <stddef.h>
#include <stdint.h>

#include "cycles/cycle.h"
#include "report/wf_report.h"
#include "store/store.h"

typedef struct tr_wf_opts {
    int64_t from, to;         /* the scored range [from, to) */
    int step_days;            /* a step of N days (7: a week), or */
    int step_months;          /* of N calendar months; exactly one of the two is > 0 */
    const char *const *pairs; /* NULL (n_pairs 0): every pair stored at the timeframe */
    int n_pairs;
    tr_full_opts full;    /* the training: months, model and label options (as_of, resume,
                             version_base and the A/B plan are the walk's own) */
    int draws;            /* random-entry draws, >= 1 (default 1000) */
    const char *work;     /* the work directory; NULL: <runs>/walkforward of a directory
                             store (required for a PostgreSQL store) */
    tr_event_fn on_event; /* progress: stage events of "walkforward", and full's */
    void *user;
} tr_wf_opts;

tr_wf_opts tr_wf_opts_default(void);

/* Parses a step "Nd", "Nw" or "Nm" (N 1..9999) into o's step_days / step_months; -1 when s is
 * not one (N = 0 included). */
int tr_wf_step_parse(const char *s, tr_wf_opts *o);

/* The steps' start times of o (at most max) into starts; returns how many there are (also when
 * more than max), 0 for a bad range or step. */
size_t tr_wf_steps(const tr_wf_opts *o, int64_t *starts, size_t max);

/* Runs (or continues) the walk on store and writes its report to the store's reports area.
 * Bad options are TR_ERR_INVALID naming the option (--step, --to, --draws, ...); a pair without
 * bars at the timeframe is TR_ERR_NOTFOUND naming it; a step whose training fails is its error,
 * prefixed with the step. res is filled on TR_OK (free it with tr_wf_result_free), empty on
 * failure; the test hook tr_testhook_wf_step stops the run after a step with TR_ERR_IO. */
tr_code tr_walkforward_run(tr_store *store, const tr_wf_opts *o, tr_wf_result *res, tr_error *err);

#endif
