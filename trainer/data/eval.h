/*
 * eval.h - a model on a dataset: the library's view of the windows, predictions, classification
 * figures (confusion matrix, per-class precision/recall/F1, macro-F1, buy/sell shares) and the
 * backtest of the predictions, plus the two baselines of docs/results.md.
 *
 * The windows go to the library unscaled (aifx_dataset over one float matrix of every series'
 * feature rows, with window ends); the model applies its own scaler. So training, evaluation and
 * prediction share one path: tr_features_compute -> float rows -> the model's scaler -> the net.
 */
#ifndef AIFXT_EVAL_H
#define AIFXT_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "aifxnn.h"
#include "data/dataset.h"
#include "market/backtest.h"
#include "market/decide.h"
#include "registry/registry.h"

/* Every series' feature rows as floats, (n_rows, TR_N_FEATURES); warm-up rows (NaN) are 0 and
 * never inside a window. */
typedef struct tr_rows {
    float *rows;
    size_t n_rows;
    size_t *offset; /* (n_series): first row of each series */
} tr_rows;

tr_code tr_rows_make(const tr_dataset *ds, tr_rows *out, tr_error *err);
void tr_rows_free(tr_rows *r);

/* A split as an aifx_dataset (borrowing rows; ends and labels owned here). */
typedef struct tr_split_data {
    aifx_dataset d;
    int64_t *ends;
    int32_t *labels;
} tr_split_data;

tr_code tr_split_make(const tr_dataset *ds, const tr_rows *rows, int split, tr_split_data *out,
                      tr_error *err);
void tr_split_free(tr_split_data *s);

/* Class probabilities (n, 3) and predicted classes (n) of the model for a split's windows. */
tr_code tr_predict_split(const aifx_model *m, const tr_dataset *ds, const tr_rows *rows, int split,
                         float **probs, int8_t **pred, tr_error *err);

/* Figures from labels and predictions; probs (n, 3) and class_weight (3) give the weighted loss
 * (NAN without probs; class_weight NULL means ones). */
void tr_cls_figs_compute(size_t n, const int32_t *labels, const int8_t *pred, const float *probs,
                         const double *class_weight, tr_cls_figs *out);

/* Backtest settings that replace the per-pair defaults (tr_bt_params_for_pair); a negative value
 * keeps the default. */
typedef struct tr_bt_override {
    double threshold, sl_atr, tp_atr, spread_pips;
    int max_hold;
} tr_bt_override;

/* All defaults (every field -1). */
tr_bt_override tr_bt_override_none(void);

/* The equity curve of a backtest over all pairs: cumulative net pips after each closed trade,
 * trades ordered by exit time (ties by pair order). */
typedef struct tr_equity {
    size_t n;
    int64_t *t;   /* (n) exit times */
    double *pips; /* (n) cumulative net pips */
} tr_equity;

void tr_equity_free(tr_equity *eq);

/* Backtests the predictions of a split, pair by pair, over the bars from the split's first to
 * its last sample of that pair (a signal at a sample's bar; other bars carry none), and combines
 * the pairs (registry.h, tr_bt_figs). ovr: NULL for the defaults. per_pair (n_series) is
 * optional. */
tr_code tr_backtest_split(const tr_dataset *ds, int split, const int8_t *pred, const float *probs,
                          const tr_bt_override *ovr, tr_bt_figs *all, tr_bt_figs *per_pair,
                          tr_error *err);
/* The same, also giving the equity curve (eq, freed with tr_equity_free; empty on error). */
tr_code tr_backtest_split_equity(const tr_dataset *ds, int split, const int8_t *pred,
                                 const float *probs, const tr_bt_override *ovr, tr_bt_figs *all,
                                 tr_bt_figs *per_pair, tr_equity *eq, tr_error *err);

/* Chooses a version's decision rule on split (the validation part) of ds from the model's raw
 * probabilities probs (n x 3) and the labels (market/decide.h): the temperature minimising the
 * split's log loss, the reliability tables before and after (rel_raw, rel_cal, optional), and,
 * when cost_aware, the threshold among tr_rule_candidate's whose backtest of the split (the
 * per-pair defaults, net of the spread) earns the most pips with at least min_trades trades (ties:
 * the lower threshold); no_edge when none earns more than 0 pips with that many trades. Without
 * cost_aware the threshold is 0 (argmax) and val_trades/val_pips are its backtest's. */
tr_code tr_rule_fit(const tr_dataset *ds, int split, const float *probs, const int32_t *labels,
                    int cost_aware, int64_t min_trades, tr_rule *out, tr_reliability *rel_raw,
                    tr_reliability *rel_cal, tr_error *err);

/* The simple rule baseline: buy when RSI(14) < 30, sell when RSI(14) > 70, else hold, at the
 * window's last bar. pred (n of the split). */
void tr_baseline_rsi(const tr_dataset *ds, int split, int8_t *pred);

/* A split's labels as int32 (n). NULL when out of memory. */
int32_t *tr_split_labels(const tr_dataset *ds, int split);

/* Evaluation of a registered version on any window (evaluate and backtest commands). */
typedef struct tr_eval_report {
    char version[TR_VERSION_MAX];
    int64_t from, to;
    int n_pairs;
    char pairs[8][TR_PAIR_MAX];
    tr_cls_figs figs;
    tr_bt_figs bt;
    tr_bt_figs bt_pairs[8];
} tr_eval_report;

/* pairs NULL (n_pairs 0): every pair stored at the timeframe. equity (optional) receives the
 * backtest's equity curve (tr_equity_free). */
tr_code tr_evaluate_version(tr_store *store, const char *version, const char *const *pairs,
                            int n_pairs, int32_t timeframe, int64_t from, int64_t to,
                            const tr_bt_override *ovr, tr_eval_report *out, tr_equity *equity,
                            tr_error *err);

/* Scores loaded version v (model m) on every window of ds, a no_split dataset (its windows are
 * the TR_SPLIT_TEST part) with its feature rows: the classification figures of the argmax into
 * out->figs, and the backtest of the version's rule's signals (ovr, NULL for the defaults) into
 * out->bt and out->bt_pairs, equity (optional) receiving its curve. The one scoring of evaluate
 * and of the ranking's shared evaluation set (evalset.h). */
tr_code tr_score_windows(const aifx_model *m, const tr_version *v, const tr_dataset *ds,
                         const tr_rows *rows, const tr_bt_override *ovr, tr_eval_report *out,
                         tr_equity *equity, tr_error *err);

#endif
