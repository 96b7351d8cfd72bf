/*
 * wf_report.h - the walk-forward evaluation's result (cycles/walkforward.h computes it) and its
 * renderings: the Markdown report with the equity-curve picture, and the JSON of the whole
 * result (docs/walkforward.md).
 *
 * The types live here, below cycles/, so that the report can be written from them alone. Every
 * figure is computed once, by the cycle; this module only formats. The report is a function of
 * the result and of nothing else (no clock), apart from one line that gives the run time, so a
 * resumed run writes the same bytes as an uninterrupted one.
 */
#ifndef AIFXT_WF_REPORT_H
#define AIFXT_WF_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "registry/registry.h"

#define TR_WF_MAX_PAIRS 8

/* One strategy's backtest on a step or over the whole range (data/eval.h tr_bt_figs, the figures
 * the report shows): trades, wins, net pips after the spread, win rate, Sharpe on daily returns
 * (the mean of the pairs'), the worst pair's maximum drawdown (a positive fraction). */
typedef struct tr_wf_figs {
    int64_t trades, wins;
    double net_pips, win_rate, sharpe, max_drawdown;
} tr_wf_figs;

/* The random-entry baseline's distribution of net pips over its draws. */
typedef struct tr_wf_random {
    int64_t target_trades; /* the trades each draw aims at: the model-rule trades */
    double mean_trades;    /* trades the draws made, on average */
    double median, p05, p95;
    int64_t n_ge;   /* draws whose net pips reach the model's: #{draw >= model} */
    double p_value; /* (1 + n_ge) / (1 + draws); NAN when the model made no trade */
} tr_wf_random;

/* One step: a model trained as of start on the months before it, scored on [start, end). */
typedef struct tr_wf_step {
    int64_t start, end;
    char version[TR_VERSION_MAX]; /* in the work store */
    int64_t data_from, data_to;   /* the version's training window (data_to <= start) */
    int epochs, best_epoch;
    double temperature, threshold; /* the version's decision rule */
    int no_edge;
    int64_t n_windows;         /* scored windows, last bar in [start, end) */
    int64_t first_t, last_t;   /* their first and last last-bar times (0 when none) */
    double f1_rule, f1_argmax; /* macro-F1 of the two decisions */
    double f1_hold, f1_rsi;    /* and of the baselines */
    double nll_cal, nll_raw;   /* mean log loss, calibrated (the rule's T) and raw */
    tr_wf_figs rule, argmax, hold, rsi;
    int64_t pair_trades[TR_WF_MAX_PAIRS]; /* the model-rule trades per pair (the draws' target) */
    tr_wf_random random;
    double *draws;      /* (n_draws) net pips of each random draw, in draw order (owned) */
    int32_t *draw_want; /* (n_draws x TR_WF_MAX_PAIRS) the entries each draw placed per pair:
                           the target, topped up where entries fell into open positions */
    int8_t *pred_rule, *pred_argmax; /* (n_windows) the signals, for the whole-range backtest */
} tr_wf_step;

/* A curve of cumulative net pips: (n) times and values. */
typedef struct tr_wf_curve {
    size_t n;
    int64_t *t;
    double *pips;
} tr_wf_curve;

enum {
    TR_WF_CURVE_RULE = 0,
    TR_WF_CURVE_ARGMAX,
    TR_WF_CURVE_RSI,
    TR_WF_CURVE_RANDOM,
    TR_WF_N_CURVES
};

typedef struct tr_wf_result {
    /* the settings, as the report states them */
    int64_t from, to;
    char step_text[16]; /* "1w", "1m", "10d" */
    int n_pairs;
    char pairs[TR_WF_MAX_PAIRS][TR_PAIR_MAX];
    int32_t timeframe;
    int months, labels; /* labels: TR_LABELS_* */
    char hyper[512];    /* the model options, one line */
    int n_draws;
    uint64_t seed;
    char key[16]; /* the arguments' key (hex CRC-32): the work directory, the report name */
    /* the steps */
    tr_wf_step *steps;
    size_t n_steps;
    size_t n_resumed; /* steps read back from the work directory by this call */
    /* the whole range: one backtest of every step's signals in sequence (positions carry over
     * a step boundary as they do under the weekly retrain) */
    int64_t n_windows;
    double f1_rule, f1_argmax, f1_hold, f1_rsi, nll_cal, nll_raw;
    tr_wf_figs rule, argmax, hold, rsi;
    tr_wf_random random;
    double *draws;                     /* (n_draws) each draw's whole-range net pips (owned) */
    tr_wf_curve curve[TR_WF_N_CURVES]; /* equity curves (owned); random: the draws' median */
    char work_dir[4400];
    char report_path[4400], picture_path[4400];
    char picture_note[512]; /* why the picture is missing, "" when it was drawn */
    double seconds;         /* of this call */
} tr_wf_result;

void tr_wf_result_free(tr_wf_result *r);
void tr_wf_step_free(tr_wf_step *s);

/* The report's file name in the reports area: walkforward-YYYYMMDD-YYYYMMDD-<key>.md (and
 * .png); stem receives it without the extension. */
void tr_wf_report_stem(const tr_wf_result *r, char *stem, size_t size);

/* Writes the Markdown report to <dir>/<stem>.md and the equity picture to <dir>/<stem>.png
 * (r->report_path, r->picture_path set; a picture that cannot be drawn is noted in the report
 * and in r->picture_note, and does not fail it). */
tr_code tr_wf_report_write(tr_wf_result *r, const char *dir, tr_error *err);

/* The report's Markdown (malloc'd, NULL when out of memory). */
char *tr_wf_report_markdown(const tr_wf_result *r);

/* The whole result as one JSON object (malloc'd, NULL when out of memory). */
char *tr_wf_json(const tr_wf_result *r);

#endif
