/*
 * driftcheck.h - drift of the live data against a version's training data (docs/monitoring.md):
 * `aifx-train drift` and the daily "drift" cycle (03:00 UTC, schedule.h).
 *
 * Reference: the 38 features of the version's data window ([data_from, data_to) of its registry
 * record) over the store's bars of every pair checked, summarised per feature by
 * tr_drift_ref_build (market/drift.h: deciles, moments, a 1,000-value sketch). It is computed
 * from the stored bars when needed rather than stored at training time: the same bars give the
 * same reference, and a replaced bar inside an old window would change it (say so if it
 * matters). The reference class shares are the version's predictions on its training part (the
 * column sums of its stored confusion matrix).
 * Current: the features of the bars that opened in (as_of - window, as_of], and the classes of
 * the version's recorded signals in that window.
 * Verdicts as Evidently's defaults (market/drift.h): per feature KS (<= 1,000 reference rows) or
 * normed Wasserstein, PSI beside; the dataset drifts at a drifted share >= 0.5; prediction drift
 * by a chi-square test of the signal classes against the reference shares.
 *
 * The cycle keeps every run: a JSON report under the store's reports directory
 * (drift-YYYY-MM-DDTHHMM.json) and a training-log row "drift" whose reason sums it up; when the
 * dataset or the predictions drift, a "drift" event joins the outbox in the same commit
 * (docs/operations.md, "Notifications").
 */
#ifndef AIFXT_DRIFTCHECK_H
#define AIFXT_DRIFTCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "cycles/cycledef.h"
#include "data/dataset.h"
#include "market/dq.h"
#include "market/drift.h"
#include "market/featureset.h"
#include "store/store.h"

typedef struct tr_driftcheck_opts {
    const char *pair;    /* NULL: every pair stored at the timeframe */
    const char *version; /* NULL: the active one */
    int64_t as_of;       /* 0: now */
    int64_t window;      /* seconds of current data (default 7 days) */
    int32_t timeframe;   /* default 900 */
} tr_driftcheck_opts;

tr_driftcheck_opts tr_driftcheck_opts_default(void);

/* The reference of a full version, written at training time beside its checkpoint
 * (<models>/<version>.ref, both stores keep checkpoints there): per feature the summary of its
 * training part's rows (tr_drift_ref: deciles, moments, a 1,000-value sketch), the training
 * part's true and predicted class counts, and its realised volatility (mean natr14). A file of
 * this program's own layout (a cache, not an interchange format: "AIFXREF 1 0", the structs, a
 * CRC-32); a file that fails its checks is ignored and the reference recomputed. */
typedef struct tr_drift_reference {
    tr_drift_ref features[TR_N_FEATURES];
    size_t n_rows;
    int64_t true_counts[3], pred_counts[3]; /* hold, buy, sell */
    double realised_vol;                    /* mean natr14 of the training rows, % */
} tr_drift_reference;

/* Builds and writes rec's reference from ds's training rows (the last bar of each training
 * window) and rec's stored training figures. */
tr_code tr_drift_reference_save(tr_store *store, const tr_version *rec, const tr_dataset *ds,
                                tr_error *err);
/* Reads version's reference; TR_ERR_NOTFOUND when it has none (or it is damaged). */
tr_code tr_drift_reference_load(tr_store *store, const char *version, tr_drift_reference *out,
                                tr_error *err);

typedef struct tr_driftcheck_result {
    char version[TR_VERSION_MAX];
    int64_t as_of, from, ref_from, ref_to;
    int n_pairs;
    size_t n_ref_rows, n_cur_rows;
    tr_drift_feature features[TR_N_FEATURES];
    tr_drift_dataset dataset;
    size_t ref_counts[3], cur_counts[3]; /* hold, buy, sell */
    int pred_tested;                     /* 0 when no signal of the version is in the window */
    tr_drift_pred pred;
    char ref_source[16]; /* "training" (the stored reference) or "bars" */
    char summary[256];
    char report_path[4400]; /* the JSON report (the cycle; "" for the command) */
} tr_driftcheck_result;

/* The analysis (nothing written). TR_ERR_NOTFOUND naming what is missing (no active version, no
 * bars in the reference or current window). */
tr_code tr_driftcheck_run(tr_store *store, const tr_driftcheck_opts *o, tr_driftcheck_result *r,
                          tr_error *err);

/* The result as one JSON object (malloc'd; NULL when out of memory). */
char *tr_driftcheck_json(const tr_driftcheck_result *r);

/* The daily watch besides drift (the same cycle): data quality of every pair's last day
 * (market/dq.h: gaps in market hours, a stale feed, spikes, zero-range and repeated bars), and
 * the active version's production alerts:
 *  - win rate: its closed trades of the last 30 days (at least 30) against the win rate its
 *    backtest promised (at least 20 trades there): alert when the binomial lower tail
 *    P(X <= wins | n, p_backtest) < 0.01;
 *  - mean PnL: alert when the one-sample t statistic of the trades' pips against the
 *    backtest's mean is below -2.33 (one-sided 1 %, normal approximation) with n >= 30;
 *  - collapse: its buy+sell share among its signals of the last 7 days (at least 96) outside
 *    [0.5x, 2x] of its validation part's predicted share (the deploy guard's band).
 * Each alert and a data-quality finding of the last day becomes an outbox event in the commit of
 * the cycle's log row. */
typedef struct tr_watch_result {
    tr_dq_summary dq; /* the findings of the pairs' last day */
    int64_t live_trades, live_wins, live_signals, live_trading;
    double p_winrate, t_pnl, live_share, val_share;
    int alert_winrate, alert_pnl, alert_collapse;
    char alerts[512]; /* one line each, "" when none */
} tr_watch_result;

tr_code tr_watch_run(tr_store *store, int64_t as_of, int32_t tf, tr_watch_result *w, tr_error *err);

extern const tr_cycle_def tr_cycle_drift_def;

#endif
