/*
 * rank_report.c - the monthly ranking's Markdown report and its pictures (rank_report.h,
 * docs/ranking.md).
 */
#define _POSIX_C_SOURCE 200809L

#include "report/rank_report.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "report/plot.h"

/* v with the given decimals, or "-" when not finite. */
static void fmt_num(char *buf, size_t size, int decimals, double v)
{
    if (isfinite(v))
        snprintf(buf, size, "%.*f", decimals, v);
    else
        snprintf(buf, size, "-");
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
static void draw_pictures(tr_rank_result *r, const tr_registry *reg, const char *dir,
                          const char *stem, tr_sb *s)
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
        tr_plot_panel p = {"Equity on each version's ranking window",
                           "trade exit (UTC)",
                           "cumulative net pips",
                           1,
                           ser,
                           n};
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

void tr_rank_report_path(const char *dir, int64_t as_of, char *path, size_t size)
{
    int64_t y0;
    int mo, dd;
    int64_t days = as_of >= 0 ? as_of / 86400 : -((-as_of + 86399) / 86400);
    tr_civil_from_days(days, &y0, &mo, &dd);
    snprintf(path, size, "%s/rank-%04lld-%02d-%02d.md", dir, (long long)y0, mo, dd);
}

/* The share of drifted features at each daily drift check of the ranking's window, from the
 * drift slot's reports beside this one (reports/drift-YYYY-MM-DDTHHMM.json, driftcheck.h),
 * against Evidently's dataset threshold of 0.5. */
static void draw_drift(const tr_rank_rules *o, tr_rank_result *r, const char *dir, const char *stem,
                       tr_sb *s)
{
    enum { MAX_CHECKS = 400 };
    double *x = malloc(MAX_CHECKS * sizeof *x), *y = malloc(MAX_CHECKS * sizeof *y);
    size_t n = 0;
    DIR *d = x && y ? opendir(dir) : NULL;
    const struct dirent *de;
    int64_t from = o->as_of - (int64_t)o->window_days * 86400;
    while (d && (de = readdir(d)) != NULL && n < MAX_CHECKS) {
        const char *nm = de->d_name;
        size_t len = strlen(nm);
        int64_t t;
        char iso[32];
        /* drift-2024-03-15T0300.json */
        if (len != 26 || strncmp(nm, "drift-", 6) != 0 || strcmp(nm + len - 5, ".json") != 0)
            continue;
        snprintf(iso, sizeof iso, "%.10sT%.2s:%.2s:00Z", nm + 6, nm + 17, nm + 19);
        if (tr_time_parse(iso, strlen(iso), 0, &t) != 0 || t < from || t > o->as_of)
            continue;
        char path[4400], *text = NULL;
        size_t tl;
        tr_error e;
        snprintf(path, sizeof path, "%s/%s", dir, nm);
        if (tr_file_read(path, &text, &tl, &e) != TR_OK)
            continue;
        const char *sh = strstr(text, "\"dataset\":");
        sh = sh ? strstr(sh, "\"share\":") : NULL;
        if (sh) {
            x[n] = (double)t;
            y[n] = strtod(sh + 8, NULL);
            n++;
        }
        free(text);
    }
    if (d)
        closedir(d);
    /* in time order */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && x[j] < x[j - 1]; j--) {
            double tx = x[j], ty = y[j];
            x[j] = x[j - 1], y[j] = y[j - 1];
            x[j - 1] = tx, y[j - 1] = ty;
        }
    if (n == 0) {
        tr_sb_printf(s, "\nNo drift check in the window (run-due's daily drift slot writes "
                        "them): no drift picture.\n");
    } else {
        double tx[2] = {x[0], x[n - 1]}, ty[2] = {0.5, 0.5};
        tr_plot_series ser[2] = {{"share of drifted features", n, x, y},
                                 {"dataset drift at 0.5 (Evidently)", 2, tx, ty}};
        tr_plot_panel p = {"Feature drift at each daily check",
                           "check (UTC)",
                           "share of the 38 features",
                           1,
                           ser,
                           2};
        char path[4400];
        tr_error e;
        snprintf(path, sizeof path, "%s/%s-drift.png", dir, stem);
        if (tr_plot_lines(path, 960, 360, &p, 1, &e)) {
            picture_failed(r, s, "drift", &e);
        } else {
            r->n_pictures++;
            tr_sb_printf(s,
                         "\nFeature drift of the active version's data at each of the %zu daily "
                         "checks of the window (docs/monitoring.md):\n\n![drift](%s-drift.png)\n",
                         n, stem);
        }
    }
    free(x);
    free(y);
}

tr_code tr_rank_report_write(const tr_rank_rules *o, tr_rank_result *r, const tr_registry *reg,
                             const char *dir, char *path, size_t size, tr_error *err)
{
    char t0[32], t1[32], a[32], b[32], c[32], d[32], x[32], y[32];
    tr_code rc = tr_mkdir_p(dir, err);
    if (rc)
        return rc;
    tr_rank_report_path(dir, o->as_of, path, size);
    /* the pictures' stem: the report's file name without .md */
    char stem[64];
    const char *base = strrchr(path, '/');
    snprintf(stem, sizeof stem, "%.*s", (int)strcspn(base ? base + 1 : path, "."),
             base ? base + 1 : path);
    tr_sb s = {0};
    tr_sb_printf(&s, "# Ranking as of %s\n\n", tr_time_format(o->as_of, t0, sizeof t0));
    tr_sb_printf(&s,
                 "Each version is backtested on the bars of the last %d days that lie after the "
                 "end of its own data window (docs/ranking.md). Score method **%s**: "
                 "%.3g x win rate + %.3g x Sharpe + %.3g x average PnL + %.3g x (1 - max "
                 "drawdown)%s. Eligible with at least %d trades.\n\n",
                 o->window_days, o->method_name, o->w.win_rate, o->w.sharpe, o->w.avg_pnl,
                 o->w.drawdown,
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
    if (r->skipped)
        tr_sb_printf(&s, "Skipped, nothing changed: %s.\n", r->skip_reason);
    else if (!r->best[0])
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
    draw_drift(o, r, dir, stem, &s);
    if (s.oom || !s.p) {
        tr_sb_free(&s);
        return tr_fail(err, TR_ERR_NOMEM, "out of memory");
    }
    rc = tr_file_write_atomic(path, s.p, s.n, err);
    tr_sb_free(&s);
    return rc;
}
