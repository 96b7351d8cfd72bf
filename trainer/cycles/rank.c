/*
 * rank.c - the monthly ranking, retention and its report (rank.h, docs/ranking.md).
 *
 *   raw score  = w_win * win_rate + w_sharpe * sharpe + w_pnl * avg_pips + w_dd * (1 - max_dd)
 *   rank score = sum_k w_k * r_k,  r_k = (position of the version's term k among the m eligible
 *                versions, 0 = worst, ties averaged) / (m - 1), r_k = 1 when m = 1
 */
#define _POSIX_C_SOURCE 200809L

#include "cycles/rank.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cycles/abtest.h"
#include "cycles/cycle.h"
#include "base/fsutil.h"
#include "report/plot.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

tr_rank_opts tr_rank_opts_default(void)
{
    tr_rank_opts o;
    memset(&o, 0, sizeof o);
    o.timeframe = 900;
    o.window_days = 30;
    o.min_trades = 20;
    o.method = TR_SCORE_RAW;
    o.w.win_rate = 0.3;
    o.w.sharpe = 0.3;
    o.w.avg_pnl = 0.2;
    o.w.drawdown = 0.2;
    o.retain_months = 3;
    return o;
}

static const char *const method_names[2] = {"raw", "rank"};

const char *tr_score_method_name(int method)
{
    return method >= 0 && method < 2 ? method_names[method] : "?";
}

int tr_score_method_parse(const char *s, int *method)
{
    for (int i = 0; i < 2; i++)
        if (strcmp(s, method_names[i]) == 0) {
            *method = i;
            return 0;
        }
    return -1;
}

double tr_rank_score_raw(const tr_rank_weights *w, double win_rate, double sharpe, double avg_pips,
                         double max_drawdown)
{
    return w->win_rate * win_rate + w->sharpe * sharpe + w->avg_pnl * avg_pips +
           w->drawdown * (1.0 - max_drawdown);
}

void tr_rank_eligibility(tr_rank_entry *e, int min_trades)
{
    if (!e->evaluated) {
        e->eligible = 0;
        return;
    }
    e->eligible = e->bt.trades >= min_trades;
    if (!e->eligible)
        snprintf(e->note, sizeof e->note, "%lld trades, below the minimum of %d",
                 (long long)e->bt.trades, min_trades);
}

/* Term k of an entry, oriented so that higher is better. */
static double term(const tr_rank_entry *e, int k)
{
    switch (k) {
    case 0:
        return e->bt.win_rate;
    case 1:
        return e->bt.sharpe;
    case 2:
        return e->bt.avg_pips;
    default:
        return -e->bt.max_drawdown;
    }
}

/* 1 when a is to be preferred to b (a, b indices into e) at equal scores. */
static int better(const tr_rank_entry *e, size_t a, size_t b)
{
    double d = e[a].score - e[b].score;
    if (fabs(d) > 1e-12)
        return d > 0;
    if (e[a].was_active != e[b].was_active)
        return e[a].was_active;
    return a > b; /* the later-registered version */
}

long tr_rank_order(tr_rank_entry *e, size_t n, const tr_rank_weights *w, int method)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        m += e[i].eligible != 0;
    const double wk[4] = {w->win_rate, w->sharpe, w->avg_pnl, w->drawdown};
    for (size_t i = 0; i < n; i++) {
        e[i].rank = 0;
        e[i].norm = NAN;
        e[i].raw = e[i].evaluated ? tr_rank_score_raw(w, e[i].bt.win_rate, e[i].bt.sharpe,
                                                      e[i].bt.avg_pips, e[i].bt.max_drawdown)
                                  : NAN;
        if (!e[i].eligible)
            continue;
        double s = 0;
        for (int k = 0; k < 4; k++) {
            double v = term(&e[i], k), less = 0, equal = 0;
            for (size_t j = 0; j < n; j++) {
                if (!e[j].eligible)
                    continue;
                double u = term(&e[j], k);
                if (u < v)
                    less += 1;
                else if (u == v)
                    equal += 1;
            }
            double pos = less + (equal - 1) / 2; /* 0 = worst, m - 1 = best */
            s += wk[k] * (m > 1 ? pos / (double)(m - 1) : 1.0);
        }
        e[i].norm = s;
    }
    for (size_t i = 0; i < n; i++)
        e[i].score = method == TR_SCORE_RANK ? e[i].norm : e[i].raw;
    /* ranks: 1 + the number of eligible entries preferred to this one */
    long best = -1;
    for (size_t i = 0; i < n; i++) {
        if (!e[i].eligible)
            continue;
        int r = 1;
        for (size_t j = 0; j < n; j++)
            if (j != i && e[j].eligible && better(e, j, i))
                r++;
        e[i].rank = r;
        if (r == 1)
            best = (long)i;
    }
    return best;
}

size_t tr_rank_retire_select(const tr_registry *reg, const char *keep, int64_t as_of, int months,
                             size_t *idx)
{
    int64_t limit = tr_time_minus_months(as_of, months);
    size_t n = 0;
    for (size_t i = 0; i < reg->n_versions; i++) {
        const tr_version *v = &reg->versions[i];
        if (v->type != TR_VT_INCREMENTAL || v->deprecated_at || v->is_active)
            continue;
        if (keep && strcmp(v->version, keep) == 0)
            continue;
        if (tr_ab_test_of(reg, v->version))
            continue; /* under a running A/B test: the test decides */
        if (v->as_of < limit)
            idx[n++] = i;
    }
    return n;
}

void tr_rank_result_free(tr_rank_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->entries && i < r->n; i++)
        tr_equity_free(&r->entries[i].equity);
    free(r->entries);
    free(r->retired);
    r->entries = NULL;
    r->retired = NULL;
    r->n = r->n_retired = 0;
}

/* ---- the run -------------------------------------------------------------------------------- */

/* v with the given decimals, or "-" when not finite. */
static void fmt_num(char *buf, size_t size, int decimals, double v)
{
    if (isfinite(v))
        snprintf(buf, size, "%.*f", decimals, v);
    else
        snprintf(buf, size, "-");
}

/* The store's reports directory (store.h). */
static void reports_dir(const tr_store *store, char *out, size_t size)
{
    if (tr_store_path(store, TR_AREA_REPORTS, NULL, out, size, NULL) != TR_OK)
        out[0] = '\0';
}

static void evidence_of(tr_sb *b, const char *key, const tr_rank_entry *e)
{
    tr_sb_printf(b, "\"%s\":", key);
    if (!e) {
        tr_sb_printf(b, "null");
        return;
    }
    tr_sb_printf(b, "{\"version\":");
    tr_sb_json_str(b, e->version);
    if (!e->evaluated) {
        tr_sb_printf(b, ",\"evaluated\":false,\"note\":");
        tr_sb_json_str(b, e->note);
        tr_sb_printf(b, "}");
        return;
    }
    tr_sb_printf(b, ",\"trades\":%lld,\"win_rate\":", (long long)e->bt.trades);
    tr_sb_json_num(b, e->bt.win_rate);
    tr_sb_printf(b, ",\"sharpe\":");
    tr_sb_json_num(b, e->bt.sharpe);
    tr_sb_printf(b, ",\"avg_pips\":");
    tr_sb_json_num(b, e->bt.avg_pips);
    tr_sb_printf(b, ",\"max_drawdown\":");
    tr_sb_json_num(b, e->bt.max_drawdown);
    tr_sb_printf(b, ",\"score\":");
    tr_sb_json_num(b, e->score);
    tr_sb_printf(b, ",\"rank\":%d}", e->rank);
}

/* Notes a picture that could not be drawn (the first reason is kept). */
static void picture_failed(tr_rank_result *r, tr_sb *s, const char *what, const tr_error *e)
{
    tr_sb_printf(s, "\n*%s: picture not drawn (%s).*\n", what, e->msg);
    if (!r->picture_note[0])
        snprintf(r->picture_note, sizeof r->picture_note, "%s: %.400s", what, e->msg);
}

/* x as doubles (times) for a plot. */
static double *times_of(const int64_t *t, size_t n)
{
    double *x = malloc((n ? n : 1) * sizeof *x);
    if (x)
        for (size_t i = 0; i < n; i++)
            x[i] = (double)t[i];
    return x;
}

/* The pictures of the report: files <stem>-equity.png, -confusion.png and -training.png beside
 * it, with their Markdown appended to s. */
static void draw_pictures(tr_rank_result *r, const tr_registry *reg,
                          const char *dir, const char *stem, tr_sb *s)
{
    char path[4400];
    tr_error e;
    const char *active = r->activated ? r->best : r->active_before;
    tr_sb_printf(s, "\n## Pictures\n");
    /* equity: the top three eligible and the active version */
    {
        tr_plot_series ser[4];
        double *xs[4] = {NULL, NULL, NULL, NULL};
        char names[4][TR_VERSION_MAX + 16];
        int n = 0;
        for (int rank = 1; rank <= 3; rank++)
            for (size_t i = 0; i < r->n; i++)
                if (r->entries[i].rank == rank && n < 4) {
                    const tr_rank_entry *en = &r->entries[i];
                    snprintf(names[n], sizeof names[n], "#%d %s%s", rank, en->version,
                             strcmp(en->version, active) == 0 ? " (active)" : "");
                    xs[n] = times_of(en->equity.t, en->equity.n);
                    ser[n] = (tr_plot_series){names[n], en->equity.n, xs[n], en->equity.pips};
                    n++;
                }
        int have_active = 0;
        for (int k = 0; k < n; k++)
            have_active |= strstr(names[k], " (active)") != NULL;
        for (size_t i = 0; i < r->n && !have_active && active[0]; i++) {
            const tr_rank_entry *en = &r->entries[i];
            if (strcmp(en->version, active) != 0 || !en->evaluated)
                continue;
            snprintf(names[n], sizeof names[n], "%s (active)", en->version);
            xs[n] = times_of(en->equity.t, en->equity.n);
            ser[n] = (tr_plot_series){names[n], en->equity.n, xs[n], en->equity.pips};
            n++;
        }
        int ok = 1;
        for (int k = 0; k < n; k++)
            ok &= xs[k] != NULL;
        snprintf(path, sizeof path, "%s/%s-equity.png", dir, stem);
        tr_plot_panel p = {"Equity on each version's ranking window", "trade exit (UTC)",
                           "cumulative net pips", 1, ser, n};
        if (n == 0) {
            tr_sb_printf(s, "\nNo evaluated version: no equity curves.\n");
        } else if (!ok) {
            e.code = TR_ERR_NOMEM;
            snprintf(e.msg, sizeof e.msg, "out of memory");
            picture_failed(r, s, "equity curves", &e);
        } else if (tr_plot_lines(path, 960, 520, &p, 1, &e)) {
            picture_failed(r, s, "equity curves", &e);
        } else {
            r->n_pictures++;
            tr_sb_printf(s,
                         "\nEquity curves (cumulative net pips after each trade, all pairs) of "
                         "the top eligible versions and the active one:\n\n![equity](%s-equity.png)"
                         "\n",
                         stem);
        }
        for (int k = 0; k < n; k++)
            free(xs[k]);
    }
    /* the confusion matrix of the active version on its window */
    {
        const tr_rank_entry *en = NULL;
        for (size_t i = 0; i < r->n; i++)
            if (strcmp(r->entries[i].version, active) == 0 && r->entries[i].evaluated)
                en = &r->entries[i];
        snprintf(path, sizeof path, "%s/%s-confusion.png", dir, stem);
        static const char *const names[3] = {"hold", "buy", "sell"};
        char title[128];
        snprintf(title, sizeof title, "%s: true (rows) vs predicted", active);
        if (!en) {
            tr_sb_printf(s, "\nThe active version was not evaluated: no confusion matrix.\n");
        } else if (tr_plot_confusion(path, title, &en->figs.confusion[0][0], names, &e)) {
            picture_failed(r, s, "confusion matrix", &e);
        } else {
            r->n_pictures++;
            tr_sb_printf(s,
                         "\nConfusion matrix of the active version %s on its window (%lld "
                         "windows):\n\n![confusion](%s-confusion.png)\n",
                         active, (long long)en->figs.n, stem);
        }
    }
    /* the training curves of the newest full version that has them */
    {
        const tr_version *v = NULL;
        for (size_t i = 0; i < reg->n_versions; i++)
            if (reg->versions[i].type == TR_VT_FULL && reg->versions[i].n_history > 0)
                v = &reg->versions[i];
        snprintf(path, sizeof path, "%s/%s-training.png", dir, stem);
        if (!v) {
            tr_sb_printf(s, "\nNo full version has recorded training curves.\n");
        } else {
            int n = v->n_history;
            double ep[TR_HISTORY_MAX], tl[TR_HISTORY_MAX], vl[TR_HISTORY_MAX], f1[TR_HISTORY_MAX];
            for (int i = 0; i < n; i++) {
                ep[i] = i + 1;
                tl[i] = v->hist_train_loss[i];
                vl[i] = v->hist_val_loss[i];
                f1[i] = v->hist_val_macro_f1[i];
            }
            tr_plot_series loss[2] = {{"train loss", (size_t)n, ep, tl},
                                      {"validation loss", (size_t)n, ep, vl}};
            tr_plot_series f1s[1] = {{"validation macro-F1", (size_t)n, ep, f1}};
            char t1[160];
            snprintf(t1, sizeof t1, "%s: weighted cross-entropy per epoch (best epoch %d)",
                     v->version, v->best_epoch);
            tr_plot_panel p[2] = {{t1, "epoch", "loss", 0, loss, 2},
                                  {"validation macro-F1", "epoch", "macro-F1", 0, f1s, 1}};
            if (tr_plot_lines(path, 960, 720, p, 2, &e)) {
                picture_failed(r, s, "training curves", &e);
            } else {
                r->n_pictures++;
                tr_sb_printf(s,
                             "\nTraining curves of the newest full version %s (%d epochs, best "
                             "%d):\n\n![training](%s-training.png)\n",
                             v->version, n, v->best_epoch, stem);
            }
        }
    }
}

static tr_code write_report(tr_store *store, const tr_rank_opts *o, tr_rank_result *r,
                            const tr_registry *reg, char *path, size_t size, tr_error *err)
{
    char dir[4200], t0[32], t1[32], a[32], b[32], c[32], d[32], x[32], y[32];
    reports_dir(store, dir, sizeof dir);
    tr_code rc = tr_mkdir_p(dir, err);
    if (rc)
        return rc;
    int64_t y0;
    int mo, dd;
    int64_t days = o->as_of >= 0 ? o->as_of / 86400 : -((-o->as_of + 86399) / 86400);
    tr_civil_from_days(days, &y0, &mo, &dd);
    char stem[64];
    snprintf(stem, sizeof stem, "rank-%04lld-%02d-%02d", (long long)y0, mo, dd);
    snprintf(path, size, "%s/%s.md", dir, stem);
    tr_sb s = {0};
    tr_sb_printf(&s, "# Ranking as of %s\n\n", tr_time_format(o->as_of, t0, sizeof t0));
    tr_sb_printf(&s,
                 "Each version is backtested on the bars of the last %d days that lie after the "
                 "end of its own data window (docs/ranking.md). Score method **%s**: "
                 "%.3g x win rate + %.3g x Sharpe + %.3g x average PnL + %.3g x (1 - max "
                 "drawdown)%s. Eligible with at least %d trades.\n\n",
                 o->window_days, tr_score_method_name(o->method), o->w.win_rate, o->w.sharpe,
                 o->w.avg_pnl, o->w.drawdown,
                 o->method == TR_SCORE_RAW
                     ? ", win rate and drawdown as fractions, Sharpe annualised on daily returns, "
                       "average PnL in pips per trade net of the spread"
                     : ", each term replaced by its rank among the eligible versions scaled to "
                       "[0, 1]",
                 o->min_trades);
    tr_sb_printf(&s, "| rank | version | type | active | trades | win rate | Sharpe | avg pips | "
                     "max DD | raw score | rank score | note |\n");
    tr_sb_printf(&s, "|---:|---|---|:-:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for (size_t i = 0; i < r->n; i++) {
        const tr_rank_entry *e = &r->entries[i];
        fmt_num(a, sizeof a, 4, e->evaluated ? e->bt.win_rate : NAN);
        fmt_num(b, sizeof b, 3, e->evaluated ? e->bt.sharpe : NAN);
        fmt_num(c, sizeof c, 2, e->evaluated ? e->bt.avg_pips : NAN);
        fmt_num(d, sizeof d, 4, e->evaluated ? e->bt.max_drawdown : NAN);
        fmt_num(x, sizeof x, 4, e->raw);
        fmt_num(y, sizeof y, 4, e->norm);
        char rk[16];
        if (e->rank)
            snprintf(rk, sizeof rk, "%d", e->rank);
        else
            snprintf(rk, sizeof rk, "-");
        tr_sb_printf(&s, "| %s | %s | %s | %s | %lld | %s | %s | %s | %s | %s | %s | %s |\n", rk,
                     e->version, tr_version_type_name(e->type), e->was_active ? "*" : "",
                     (long long)e->bt.trades, a, b, c, d, x, y, e->eligible ? "eligible" : e->note);
    }
    tr_sb_printf(&s, "\n## Decision\n\n");
    if (!r->best[0])
        tr_sb_printf(&s, "No version is eligible; the active version (%s) is unchanged.\n",
                     r->active_before[0] ? r->active_before : "none");
    else if (r->activated)
        tr_sb_printf(&s, "Activated **%s** (was %s), with the scores as evidence.\n", r->best,
                     r->active_before[0] ? r->active_before : "none");
    else if (r->ab_hold[0] && strcmp(r->best, r->active_before) != 0)
        tr_sb_printf(&s,
                     "The active version %s is under A/B test %s: the ranking leaves it (best "
                     "eligible: %s).\n",
                     r->active_before, r->ab_hold, r->best);
    else
        tr_sb_printf(&s, "The best eligible version, **%s**, is already active: no change.\n",
                     r->best);
    if (r->n_retired) {
        tr_sb_printf(&s,
                     "\nRetired (daily versions older than %d months; checkpoints deleted, "
                     "records kept):",
                     o->retain_months);
        for (size_t i = 0; i < r->n_retired; i++)
            tr_sb_printf(&s, "%s %s", i ? "," : "", r->retired[i]);
        tr_sb_printf(&s, "\n");
    } else {
        tr_sb_printf(&s, "\nNo version retired.\n");
    }
    tr_sb_printf(&s, "\n## Production\n\n");
    if (r->prod_resolved_total == 0)
        tr_sb_printf(&s,
                     "%lld recorded signal(s) in the window, none with an outcome recorded: no "
                     "production figures.\n",
                     (long long)r->prod_signals_total);
    else
        tr_sb_printf(&s,
                     "%lld recorded signals in the window, %lld with outcomes (per version "
                     "below).\n",
                     (long long)r->prod_signals_total, (long long)r->prod_resolved_total);
    tr_sb_printf(&s, "\n## Versions\n");
    for (size_t i = 0; i < r->n; i++) {
        const tr_rank_entry *e = &r->entries[i];
        tr_sb_printf(&s, "\n### %s (%s%s)\n\n", e->version, tr_version_type_name(e->type),
                     e->was_active ? ", active" : "");
        if (e->from < e->to)
            tr_sb_printf(&s, "Window %s .. %s.", tr_time_format(e->from, t0, sizeof t0),
                         tr_time_format(e->to, t1, sizeof t1));
        if (!e->evaluated) {
            tr_sb_printf(&s, " Not evaluated: %s.\n", e->note);
            continue;
        }
        const tr_cls_figs *f = &e->figs;
        const tr_bt_figs *t = &e->bt;
        tr_sb_printf(&s,
                     "\n\n- classification: %lld windows, accuracy %.4f, macro-F1 %.4f, "
                     "predicted buy %.2f%% sell %.2f%% (true %.2f%% / %.2f%%)\n",
                     (long long)f->n, f->accuracy, f->macro_f1, 100 * f->buy_share,
                     100 * f->sell_share, 100 * f->true_buy_share, 100 * f->true_sell_share);
        tr_sb_printf(&s,
                     "- backtest: %lld trades, win rate %.4f, total %.1f pips (avg %.2f), return "
                     "%.4f%%, Sharpe %.3f, Sortino %.3f, max drawdown %.4f%%, profit factor "
                     "%.3f\n",
                     (long long)t->trades, t->win_rate, t->total_pips, t->avg_pips,
                     100 * t->total_return, t->sharpe, t->sortino, 100 * t->max_drawdown,
                     t->profit_factor);
        fmt_num(x, sizeof x, 4, e->raw);
        fmt_num(y, sizeof y, 4, e->norm);
        tr_sb_printf(&s, "- score: raw %s, rank %s%s\n", x, y,
                     e->eligible ? "" : " (not eligible)");
        if (e->prod_resolved)
            tr_sb_printf(&s,
                         "- production: %lld signals, %lld with outcomes, win rate %.4f, "
                         "total %.1f pips (avg %.2f)\n",
                         (long long)e->prod_signals, (long long)e->prod_resolved, e->prod_win_rate,
                         e->prod_total_pips, e->prod_avg_pips);
        else
            tr_sb_printf(&s, "- production: %lld signals, no outcomes recorded\n",
                         (long long)e->prod_signals);
    }
    draw_pictures(r, reg, dir, stem, &s);
    if (s.oom || !s.p) {
        tr_sb_free(&s);
        return tr_fail(err, TR_ERR_NOMEM, "out of memory");
    }
    rc = tr_file_write_atomic(path, s.p, s.n, err);
    tr_sb_free(&s);
    return rc;
}

/* Deletes the checkpoint files of versions retired by the ranking (also ones a crash left behind
 * between the commit and the deletion). */
static void delete_retired_files(tr_store *store, const tr_registry *reg)
{
    for (size_t i = 0; i < reg->n_versions; i++) {
        const tr_version *v = &reg->versions[i];
        if (!v->deprecated_at || strncmp(v->deprecation_reason, "retention", 9) != 0 ||
            !v->checkpoint[0])
            continue;
        char path[4400];
        if (tr_store_path(store, TR_AREA_MODELS, v->checkpoint, path, sizeof path, NULL) == TR_OK)
            (void)unlink(path); /* absent already: fine */
    }
}

/* The ranking as of ctx->as_of, its changes stamped by ctx's clock. */
static tr_code rank_run(const tr_cycle_ctx *ctx, const tr_rank_opts *opts, tr_rank_result *res,
                        tr_error *err)
{
    tr_error local;
    if (!err)
        err = &local;
    memset(res, 0, sizeof *res);
    tr_store *store = ctx->store;
    tr_rank_opts ro = *opts;
    ro.as_of = ctx->as_of;
    const tr_rank_opts *o = &ro;
    if (o->window_days < 1 || o->min_trades < 0 || o->retain_months < 1)
        return tr_fail(err, TR_ERR_INVALID,
                       "bad ranking options (window %d days, minimum %d trades, retain %d months)",
                       o->window_days, o->min_trades, o->retain_months);
    double mono0 = tr_mono_now();
    int64_t started = tr_wall_now();
    int64_t now = tr_cycle_now(ctx);
    int lock = -1;
    tr_code rc = tr_store_cycle_lock(store, "rank", &lock, err);
    if (rc)
        return rc;
    tr_registry reg;
    tr_signal *sigs = NULL;
    size_t n_sigs = 0, *ridx = NULL;
    tr_version *upd = NULL;
    tr_eval_report *er = NULL;
    int logged = 0;
    rc = tr_store_registry_read(store, &reg, err);
    if (rc) {
        tr_store_cycle_unlock(store, lock);
        return rc;
    }
    if (reg.n_versions == 0) {
        rc = tr_fail(err, TR_ERR_NOTFOUND, "no version to rank in store %s", tr_store_name(store));
        goto done;
    }
    const tr_version *act0 = tr_registry_active(&reg);
    snprintf(res->active_before, sizeof res->active_before, "%s", act0 ? act0->version : "");
    res->entries = calloc(reg.n_versions, sizeof *res->entries);
    ridx = malloc(reg.n_versions * sizeof *ridx);
    upd = calloc(reg.n_versions, sizeof *upd);
    er = calloc(1, sizeof *er);
    if (!res->entries || !ridx || !upd || !er) {
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory");
        goto done;
    }
    const int64_t w0 = o->as_of - (int64_t)o->window_days * 86400;
    rc = tr_store_signals_get(store, NULL, w0, o->as_of, &sigs, &n_sigs, err);
    if (rc)
        goto fail;
    res->prod_signals_total = (int64_t)n_sigs;
    for (size_t i = 0; i < n_sigs; i++)
        res->prod_resolved_total +=
            strcmp(sigs[i].outcome, "win") == 0 || strcmp(sigs[i].outcome, "loss") == 0;

    /* evaluate every non-deprecated version on the bars after its data window */
    for (size_t i = 0; i < reg.n_versions; i++) {
        const tr_version *v = &reg.versions[i];
        if (v->deprecated_at)
            continue;
        tr_rank_entry *e = &res->entries[res->n++];
        snprintf(e->version, sizeof e->version, "%s", v->version);
        e->type = v->type;
        e->was_active = v->is_active;
        e->from = v->data_to > w0 ? v->data_to : w0;
        e->to = o->as_of;
        e->raw = e->norm = e->score = NAN;
        e->prod_win_rate = e->prod_total_pips = e->prod_avg_pips = NAN;
        for (size_t k = 0; k < n_sigs; k++) {
            if (strcmp(sigs[k].model_version, v->version) != 0)
                continue;
            e->prod_signals++;
            int win = strcmp(sigs[k].outcome, "win") == 0;
            if (!win && strcmp(sigs[k].outcome, "loss") != 0)
                continue;
            if (e->prod_resolved++ == 0)
                e->prod_total_pips = 0;
            e->prod_wins += win;
            e->prod_total_pips += sigs[k].pnl_pips;
        }
        if (e->prod_resolved) {
            e->prod_win_rate = (double)e->prod_wins / (double)e->prod_resolved;
            e->prod_avg_pips = e->prod_total_pips / (double)e->prod_resolved;
        }
        if (!tr_version_usable(v)) {
            snprintf(e->note, sizeof e->note, "status %s", tr_version_status_name(v->status));
            continue;
        }
        if (e->from >= e->to) {
            snprintf(e->note, sizeof e->note,
                     "no bars after its data window before the as-of "
                     "time");
            continue;
        }
        tr_error ee;
        tr_code erc = tr_evaluate_version(store, v->version, NULL, 0, o->timeframe, e->from, e->to,
                                          NULL, er, &e->equity, &ee);
        if (erc == TR_ERR_NOMEM) {
            rc = tr_fail(err, TR_ERR_NOMEM, "out of memory");
            goto fail;
        }
        if (erc) {
            snprintf(e->note, sizeof e->note, "not evaluated: %.200s", ee.msg);
            continue;
        }
        e->evaluated = 1;
        e->figs = er->figs;
        e->bt = er->bt;
    }
    for (size_t i = 0; i < res->n; i++) {
        tr_rank_entry *e = &res->entries[i];
        tr_rank_eligibility(e, o->min_trades);
        const tr_ab_test *t = tr_ab_test_of(&reg, e->version);
        if (t) {
            /* a version under test is left alone: reported, never activated by the ranking */
            e->eligible = 0;
            snprintf(e->note, sizeof e->note, "under A/B test %s (%s vs %s): the test decides",
                     t->id, t->version_a, t->version_b);
        }
        res->n_eligible += e->eligible;
    }
    long best = tr_rank_order(res->entries, res->n, &o->w, o->method);
    const tr_rank_entry *be = best >= 0 ? &res->entries[best] : NULL;
    const tr_rank_entry *ae = NULL;
    for (size_t i = 0; i < res->n; i++)
        if (res->entries[i].was_active)
            ae = &res->entries[i];
    if (be)
        snprintf(res->best, sizeof res->best, "%s", be->version);
    tr_activation a;
    memset(&a, 0, sizeof a);
    const tr_ab_test *active_test =
        res->active_before[0] ? tr_ab_test_of(&reg, res->active_before) : NULL;
    int do_activate = be && strcmp(be->version, res->active_before) != 0 && !active_test;
    if (active_test)
        snprintf(res->ab_hold, sizeof res->ab_hold, "%s", active_test->id);
    const char *keep = do_activate ? be->version : res->active_before;
    if (do_activate) {
        snprintf(a.from, sizeof a.from, "%s", res->active_before);
        snprintf(a.to, sizeof a.to, "%s", be->version);
        snprintf(a.reason, sizeof a.reason, "rank");
        tr_sb b = {0};
        char t0[32], t1[32];
        tr_sb_printf(&b,
                     "{\"by\":\"rank\",\"as_of\":\"%s\",\"window_days\":%d,\"method\":\"%s\","
                     "\"weights\":[%g,%g,%g,%g],\"min_trades\":%d,\"eligible\":%d,",
                     tr_time_format(o->as_of, t0, sizeof t0), o->window_days,
                     tr_score_method_name(o->method), o->w.win_rate, o->w.sharpe, o->w.avg_pnl,
                     o->w.drawdown, o->min_trades, res->n_eligible);
        evidence_of(&b, "best", be);
        tr_sb_printf(&b, ",");
        evidence_of(&b, "active", ae);
        tr_sb_printf(&b, ",\"window\":[\"%s\",", tr_time_format(be->from, t0, sizeof t0));
        tr_sb_printf(&b, "\"%s\"]}", tr_time_format(be->to, t1, sizeof t1));
        if (b.oom || !b.p || b.n >= sizeof a.evidence) {
            tr_sb_free(&b);
            rc = tr_fail(err, TR_ERR_NOMEM, "ranking evidence does not fit");
            goto fail;
        }
        snprintf(a.evidence, sizeof a.evidence, "%s", b.p);
        tr_sb_free(&b);
    }
    /* retention */
    size_t n_ret = tr_rank_retire_select(&reg, keep, o->as_of, o->retain_months, ridx);
    if (n_ret) {
        res->retired = calloc(n_ret, sizeof *res->retired);
        if (!res->retired) {
            rc = tr_fail(err, TR_ERR_NOMEM, "out of memory");
            goto fail;
        }
    }
    char lim[32];
    tr_time_format(tr_time_minus_months(o->as_of, o->retain_months), lim, sizeof lim);
    for (size_t i = 0; i < n_ret; i++) {
        upd[i] = reg.versions[ridx[i]];
        upd[i].deprecated_at = now;
        char ta[32];
        snprintf(upd[i].deprecation_reason, sizeof upd[i].deprecation_reason,
                 "retention: daily version as of %s, before %s (%d months before the ranking)",
                 tr_time_format(upd[i].as_of, ta, sizeof ta), lim, o->retain_months);
        snprintf(res->retired[i], TR_VERSION_MAX, "%s", upd[i].version);
    }
    res->n_retired = n_ret;
    /* the log row, then one transaction for everything */
    tr_log_row row;
    tr_log_row_begin(&row, "rank", o->as_of, started, TR_LOG_COMPLETED, res->best,
                     res->active_before);
    snprintf(row.verdict, sizeof row.verdict, "%s",
             do_activate   ? "activated"
             : active_test ? "held_by_ab"
             : be          ? "unchanged"
                           : "none_eligible");
    snprintf(row.gate_metric, sizeof row.gate_metric, "score_%s", tr_score_method_name(o->method));
    row.candidate_value = be ? be->score : NAN;
    row.active_value = ae ? ae->score : NAN;
    snprintf(row.reason, sizeof row.reason, "%zu ranked, %d eligible, %zu retired", res->n,
             res->n_eligible, n_ret);
    tr_reg_txn txn;
    memset(&txn, 0, sizeof txn);
    txn.update = upd;
    txn.n_update = n_ret;
    txn.log = &row;
    txn.n_log = 1;
    txn.activate = do_activate ? &a : NULL;
    txn.now = now;
    rc = tr_store_registry_commit(store, &txn, err);
    if (rc) {
        if (rc == TR_ERR_CONFLICT)
            goto done; /* someone else changed it: nothing of ours applied; report as is */
        goto fail;
    }
    logged = 1;
    res->activated = do_activate;
    /* files of the retired versions, after the records say so */
    tr_registry after;
    if (tr_store_registry_read(store, &after, NULL) == TR_OK) {
        delete_retired_files(store, &after);
        tr_registry_free(&after);
    }
    rc = write_report(store, o, res, &reg, res->report_path, sizeof res->report_path, err);
    goto done;
fail:
    if (!logged)
        tr_cycle_log_failure(store, "rank", o->as_of, started, "", res->active_before, err);
done:
    res->seconds = tr_mono_now() - mono0;
    free(er);
    free(upd);
    free(ridx);
    free(sigs);
    tr_registry_free(&reg);
    tr_store_cycle_unlock(store, lock);
    return rc;
}

tr_code tr_rank_run(tr_store *store, const tr_rank_opts *o, tr_rank_result *res, tr_error *err)
{
    tr_cycle_ctx ctx = {store, o->as_of, NULL, 0, NULL, NULL};
    return rank_run(&ctx, o, res, err);
}

/* The table entry: with nothing registered yet the ranking is skipped (logged), not failed. */
static tr_code rank_entry(const tr_cycle_ctx *ctx, const void *opts, tr_cycle_outcome *out,
                          tr_error *err)
{
    void *figures = out->figures;
    memset(out, 0, sizeof *out);
    out->figures = figures;
    tr_registry reg;
    tr_code rc = tr_store_registry_read(ctx->store, &reg, err);
    if (rc)
        return rc;
    size_t n_versions = reg.n_versions;
    tr_registry_free(&reg);
    if (n_versions == 0) {
        tr_log_row row;
        tr_log_row_begin(&row, "rank", ctx->as_of, tr_wall_now(), TR_LOG_SKIPPED, NULL, NULL);
        snprintf(row.reason, sizeof row.reason, "no version to rank yet");
        rc = tr_cycle_log(ctx->store, &row, err);
        if (!rc) {
            out->status = TR_LOG_SKIPPED;
            snprintf(out->detail, sizeof out->detail, "%s", row.reason);
        }
        return rc;
    }
    tr_rank_opts def = tr_rank_opts_default();
    tr_rank_result own, *rr = figures ? figures : &own;
    rc = rank_run(ctx, opts ? opts : &def, rr, err);
    out->status = rc ? TR_LOG_FAILED : TR_LOG_COMPLETED;
    if (!rc) {
        out->activated = rr->activated;
        snprintf(out->version, sizeof out->version, "%s", rr->best);
        snprintf(out->detail, sizeof out->detail,
                 "%zu ranked, %d eligible, best %s%s, %zu retired, report %.600s", rr->n,
                 rr->n_eligible, rr->best[0] ? rr->best : "none",
                 rr->activated ? " (activated)" : "", rr->n_retired, rr->report_path);
    }
    if (!figures)
        tr_rank_result_free(&own);
    return rc;
}

const tr_cycle_def tr_cycle_rank_def = {
    .name = "rank",
    .figures = "tr_rank_result",
    .run = rank_entry,
};
