/*
 * dataset.h - leak-free training sets: windows of T bars x 38 features, labelled at the window's
 * last bar, pooled across pairs, split in time 70/15/15 with an embargo, scaled by statistics of
 * the training part only, with balanced class weights from the training part.
 *
 * Sample selection, for each pair's series (bars before `to` only, so nothing after the as-of
 * time is read; the bars before `from` serve as history):
 *   - the last bar's time is in [from, to);
 *   - all T rows have features (the first row is at or after the warm-up);
 *   - the last bar has a label (the unlabeled tail before `to` is never used);
 *   - no unexpected gap lies inside the window or the label's horizon: between consecutive bars
 *     from the window's first bar to H bars after its last (H = tr_label_horizon: max(k, h) for
 *     reversal labels, max_hold for barrier labels), a gap of more than
 *     max_gap_bars missing bars that is not the weekend closure excludes the sample (see
 *     docs/features.md, "Gaps").
 * History: the features and labels of a series are computed from its bars up to `to`, starting
 * TR_DATASET_CONTEXT bars before the first bar at or after `from` (or at its first bar, when
 * fewer are stored). Every indicator of the 38 features is either a window of at most 200 bars or
 * a recursion whose seed has decayed below a double's resolution after about 700 bars
 * (docs/features.md, "Streaming"), so a sample's rows are those of the whole stored history, bit
 * for bit, while the cost no longer grows with the history (issue 18).
 * Split: the candidates of all pairs are ordered by time; the cut times are the 70% and 85%
 * quantiles. Embargo: in each series, a sample of a part is dropped unless at least `embargo`
 * bars (default and minimum T + H) separate it from the first bar of the next part, so
 * no training window or label overlaps a validation window, and likewise validation/test.
 */
#ifndef AIFXT_DATASET_H
#define AIFXT_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "base/bars.h"
#include "base/err.h"
#include "market/featureset.h"
#include "market/labels.h"
#include "store/store.h"

/* Bars of history kept before `from` (the header comment): 5,000, prediction's. */
#define TR_DATASET_CONTEXT 5000

enum { TR_SPLIT_TRAIN = 0, TR_SPLIT_VAL = 1, TR_SPLIT_TEST = 2, TR_N_SPLITS = 3 };

typedef struct tr_dataset_options {
    int window;            /* T, bars per window (default 20) */
    tr_label_params label; /* default reversal, k 6, m 1.0, h 16, ATR 14; kind barrier: the
                              trade rule, with each pair's pip and spread */
    double train_frac;     /* default 0.70 */
    double val_frac;       /* default 0.15; the test part is the rest */
    int embargo;           /* bars; 0 means T + H; smaller values are refused */
    int max_gap_bars;      /* default 4 (one hour of 15-minute bars) */
    int64_t from, to;      /* sample times: from <= t < to */
    int no_split;          /* evaluation windows: every usable sample goes to the test part
                              (no split, no embargo; the scaler is then fit on those rows and
                              is not meant for training); at least 1 sample instead of 10 */
    int empty_ok;          /* too few usable samples is TR_OK with *out NULL (a window that
                              may hold nothing), not TR_ERR_NOTFOUND */
} tr_dataset_options;

/* One pair's data. */
typedef struct tr_dataset_series {
    char pair[TR_PAIR_MAX];
    tr_bars bars;     /* every stored bar before `to` */
    double *features; /* (bars.n, TR_N_FEATURES) */
    int8_t *labels;   /* (bars.n) */
} tr_dataset_series;

typedef struct tr_sample {
    uint32_t series; /* index into series */
    uint32_t index;  /* the window's last bar in that series */
} tr_sample;

typedef struct tr_dataset {
    tr_dataset_options opt;
    int32_t timeframe;
    int n_series;
    tr_dataset_series *series;
    tr_sample *samples[TR_N_SPLITS]; /* time-ordered within each series */
    size_t n[TR_N_SPLITS];
    size_t class_count[TR_N_SPLITS][TR_N_CLASSES];
    int64_t first[TR_N_SPLITS], last[TR_N_SPLITS]; /* times of the first and last samples */
    int64_t cut[2];                                /* first times of val and test */
    double mean[TR_N_FEATURES], sd[TR_N_FEATURES]; /* the scaler, from training rows only */
    double class_weight[TR_N_CLASSES];             /* n / (C n_c) over training; 0 if n_c = 0 */
    double fmin[TR_N_SPLITS][TR_N_FEATURES], fmax[TR_N_SPLITS][TR_N_FEATURES]; /* raw */
    /* where the bars in [from, to) went */
    size_t n_in_range, n_warmup, n_unlabeled, n_gap, n_embargo;
} tr_dataset;

tr_dataset_options tr_dataset_options_default(void);

/* Builds the dataset for pairs (n_pairs >= 1) at one timeframe from the store. Errors name the
 * pair (TR_ERR_NOTFOUND for a pair without bars, or with fewer than 10 usable samples; with
 * opt->empty_ok the latter is TR_OK and *out NULL). */
tr_code tr_dataset_build(tr_store *store, const char *const *pairs, int n_pairs, int32_t timeframe,
                         const tr_dataset_options *opt, tr_dataset **out, tr_error *err);

/* The same from bars in memory (one array per pair), for tests and the later cycles. */
tr_code tr_dataset_from_bars(const char *const *pairs, const tr_bar *const *bars,
                             const size_t *n_bars, int n_pairs, int32_t timeframe,
                             const tr_dataset_options *opt, tr_dataset **out, tr_error *err);

void tr_dataset_free(tr_dataset *ds);

/* Writes sample i of a split: x (T, TR_N_FEATURES) scaled with the dataset's scaler, and its
 * label. Thread-safe (reads only). */
void tr_dataset_window(const tr_dataset *ds, int split, size_t i, float *x, int32_t *label);

/* Fits the scaler: mean and population standard deviation of rows (n, TR_N_FEATURES), double;
 * a standard deviation below 1e-12 becomes 1 (a constant feature is centred, not blown up). */
void tr_scaler_fit(size_t n, const double *const *rows, double *mean, double *sd);

/* Balanced class weights from counts: n / (C n_c), 0 for an absent class. */
void tr_class_weights(const size_t *count, int n_classes, double *weight);

#endif
