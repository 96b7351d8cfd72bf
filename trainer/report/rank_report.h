/*
 * rank_report.h - the monthly ranking's result (one line per version, the decision, the
 * retirements) and its Markdown report with pictures, written under the store's reports
 * directory by the ranking (cycles/rank.c, docs/ranking.md). A picture that cannot be drawn is
 * noted in the report (and in the result's picture_note) and does not fail the report.
 */
#ifndef AIFXT_RANK_REPORT_H
#define AIFXT_RANK_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "data/eval.h"
#include "registry/registry.h"

enum { TR_SCORE_RAW = 0, TR_SCORE_RANK = 1 };

typedef struct tr_rank_weights {
    double win_rate, sharpe, avg_pnl, drawdown; /* default 0.3, 0.3, 0.2, 0.2 */
} tr_rank_weights;

/* One version's line of the ranking. */
typedef struct tr_rank_entry {
    char version[TR_VERSION_MAX];
    int type;                /* TR_VT_* */
    int was_active;          /* active when the ranking started */
    int64_t from, to;        /* its evaluation window; from >= to: nothing to evaluate */
    int evaluated;           /* 1 when the backtest ran */
    char note[512];          /* why not evaluated or not eligible */
    tr_cls_figs figs;        /* classification figures on the window */
    tr_bt_figs bt;           /* backtest on the window */
    int eligible;            /* evaluated with at least min_trades trades */
    double raw, norm, score; /* raw and rank-normalised scores (NAN when not eligible: norm;
                                NAN when not evaluated: raw); score = the chosen one */
    int rank;                /* 1 = best among the eligible; 0 when not eligible */
    /* production: recorded signals of this version with bar times in [as_of - window, as_of) */
    int64_t prod_signals, prod_resolved, prod_wins;
    double prod_win_rate, prod_total_pips, prod_avg_pips; /* NAN without resolved signals */
    tr_equity equity; /* the backtest's equity curve on the window (owned) */
} tr_rank_entry;

typedef struct tr_rank_result {
    tr_rank_entry *entries; /* (n), in registry order; free with tr_rank_result_free */
    size_t n;
    int n_eligible;
    char best[TR_VERSION_MAX]; /* "" when none is eligible */
    char active_before[TR_VERSION_MAX];
    int activated;                   /* 1 when best replaced the active version */
    char ab_hold[TR_VERSION_MAX];    /* the running A/B test of the active version, which keeps
                                        the ranking from replacing it ("" when none) */
    char (*retired)[TR_VERSION_MAX]; /* (n_retired) */
    size_t n_retired;
    int64_t prod_signals_total, prod_resolved_total; /* over all versions in the window */
    int n_evaluated;                                 /* versions backtested on their window */
    int skipped;           /* 1: no version could be evaluated, so nothing was changed (no
                              activation, no retirement, no file deleted); logged as skipped */
    char skip_reason[512]; /* why, "" when not skipped */
    char report_path[4400];
    int n_pictures;         /* PNGs written beside the report */
    char picture_note[512]; /* why a picture is missing, "" when all were drawn */
    double seconds;
} tr_rank_result;

/* The ranking's rules as the report states them. */
typedef struct tr_rank_rules {
    int64_t as_of;
    int window_days;
    int min_trades;
    int method; /* TR_SCORE_* */
    tr_rank_weights w;
    int retain_months;
    const char *method_name;
} tr_rank_rules;

/* Writes the report of r to <dir>/rank-YYYY-MM-DD.md (the day of rules->as_of; path receives
 * it) with its PNGs beside it (r->n_pictures, r->picture_note updated); reg gives the training
 * curves of the newest full version. */
/* The report's path for a ranking as of as_of: <dir>/rank-YYYY-MM-DD.md. */
void tr_rank_report_path(const char *dir, int64_t as_of, char *path, size_t size);
tr_code tr_rank_report_write(const tr_rank_rules *rules, tr_rank_result *r, const tr_registry *reg,
                             const char *dir, char *path, size_t size, tr_error *err);

#endif
