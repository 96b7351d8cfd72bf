/*
 * rank.h - the monthly ranking (docs/ranking.md): every non-deprecated version scored on the
 * bars it was not trained on, the best eligible one activated with the scores as evidence, old
 * daily versions retired, and a Markdown report written under the store's reports/ directory.
 *
 * Score of a version, from the backtest of its signals on [max(as_of - 30 days, end of its data
 * window), as_of):
 *   raw:  w_win * win_rate + w_sharpe * sharpe + w_pnl * avg_pips + w_dd * (1 - max_drawdown)
 *         win rate and drawdown are fractions in [0, 1], Sharpe is annualised on daily returns
 *         (sqrt(252), docs/backtest.md), average PnL is in pips per trade net of the spread;
 *   rank: the same weights on each term's rank among the eligible versions, scaled to [0, 1]
 *         (1 the best: highest win rate, Sharpe and PnL, lowest drawdown; ties share the mean
 *         rank), so no term dominates by its unit.
 * A version is eligible with at least min_trades trades in its window and when it passes the
 * guard against collapse (cycle.h, tr_guard_check) on its own validation part (full) or gate
 * window (daily): otherwise its note gives the verdict ("collapsed", "overtrades") and the
 * figures. Only eligible versions are ranked and can be activated. Ties (within 1e-12) go to
 * the active version, then to the later-registered one.
 *
 * Everything the ranking changes (the activation, the retired versions, its log row) is one
 * registry transaction (registry.h), committed under the store lock; the checkpoint files of the
 * versions that commit retired are deleted after it landed, and no other file. Evidence first:
 * a ranking that could evaluate no version (no bars in any window, as with an as-of time after
 * the stored bars) changes nothing and logs a skip with the reason; retention counts from the
 * ranking's as-of time. The active version's checkpoint is verified before anything else: damage
 * (size or CRC-32 mismatch, missing, unreadable) fails the ranking with that error (exit 5) and
 * only its failed log row is written. The report's pictures (PNG, plot.h) sit beside it:
 * equity curves of the top three eligible versions and the active one, the confusion matrix of
 * the version active after the ranking, and the training curves of the newest full version; a
 * picture that cannot be drawn is noted in the report and does not fail the ranking. Nothing
 * here prints.
 */
#ifndef AIFXT_RANK_H
#define AIFXT_RANK_H

#include <stddef.h>
#include <stdint.h>

#include "data/eval.h"
#include "registry/registry.h"
#include "report/rank_report.h"
#include "store/store.h"

typedef struct tr_rank_opts {
    int64_t as_of;     /* the ranking's time; bars before it only */
    int32_t timeframe; /* default 900 */
    int window_days;   /* default 30 */
    int min_trades;    /* eligibility, default 20 */
    int method;        /* TR_SCORE_RAW (default) or TR_SCORE_RANK */
    tr_rank_weights w;
    int retain_months; /* daily versions whose as-of time is more than this many calendar
                          months before as_of are retired; default 3 */
    int no_guard;      /* appended: 1 turns the guard against collapse off (rank --no-guard) */
} tr_rank_opts;

tr_rank_opts tr_rank_opts_default(void);

/* The raw score of one version's figures (hand-computable; see the header comment). */
double tr_rank_score_raw(const tr_rank_weights *w, double win_rate, double sharpe, double avg_pips,
                         double max_drawdown);

/* Fills norm (and rank order) of the eligible entries: each term's rank among them scaled to
 * [0, 1] (a single eligible entry gets 1 for every term), weighted by w. Sets score from the
 * method, and rank (1 = best) with the tie rule of the header comment. Returns the index of the
 * best entry or -1 when none is eligible. */
long tr_rank_order(tr_rank_entry *e, size_t n, const tr_rank_weights *w, int method);

/* Eligibility: evaluated and trades >= min_trades (note says why not). */
void tr_rank_eligibility(tr_rank_entry *e, int min_trades);

/* The daily versions to retire at as_of: type incremental, not deprecated, not named keep (the
 * version active after the ranking), and whose as-of time is strictly before as_of minus
 * months calendar months. Writes their indices in reg->versions to idx (room for
 * reg->n_versions) and returns how many. */
size_t tr_rank_retire_select(const tr_registry *reg, const char *keep, int64_t as_of, int months,
                             size_t *idx);

/* Runs the ranking (see the header comment). TR_ERR_NOTFOUND when no version is registered;
 * TR_ERR_CONFLICT when another ranking holds the lock or the active version changed meanwhile;
 * TR_ERR_CHECKSUM, TR_ERR_FORMAT or TR_ERR_IO when the active version's checkpoint is damaged.
 * Another version that cannot be evaluated (no bars after its window, a damaged checkpoint) is
 * reported with the reason and is not eligible; when no version at all was evaluated the result
 * is TR_OK with res->skipped and nothing changed. */
tr_code tr_rank_run(tr_store *store, const tr_rank_opts *o, tr_rank_result *res, tr_error *err);

void tr_rank_result_free(tr_rank_result *r);

const char *tr_score_method_name(int method);
int tr_score_method_parse(const char *s, int *method);

#endif
