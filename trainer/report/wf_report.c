/*
 * wf_report.c - the walk-forward evaluation's Markdown report, its equity picture and its JSON
 * (wf_report.h, docs/walkforward.md). Formatting only: every figure comes from the result.
 */
#define _POSIX_C_SOURCE 200809L

#include "report/wf_report.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "market/labels.h"
#include "report/plot.h"

static const char *day(int64_t t, char *buf, size_t size)
{
    int64_t y;
    int m, d;
    tr_civil_from_days(t >= 0 ? t / 86400 : -((-t + 86399) / 86400), &y, &m, &d);
    if (t % 86400 == 0)
        snprintf(buf, size, "%04lld-%02d-%02d", (long long)y, m, d);
    else
        tr_time_format(t, buf, size);
    return buf;
}

void tr_wf_report_stem(const tr_wf_result *r, char *stem, size_t size)
{
    int64_t y1, y2;
    int m1, d1, m2, d2;
    tr_civil_from_days(r->from / 86400, &y1, &m1, &d1);
    tr_civil_from_days(r->to / 86400, &y2, &m2, &d2);
    snprintf(stem, size, "walkforward-%04lld%02d%02d-%04lld%02d%02d-%s", (long long)y1, m1, d1,
             (long long)y2, m2, d2, r->key);
}

/* v with `decimals` decimals and the unit (or "-" when it is not finite). */
static void num(tr_sb *b, int decimals, double v, const char *unit)
{
    if (isfinite(v))
        tr_sb_printf(b, "%.*f%s", decimals, v, unit);
    else
        tr_sb_printf(b, "-");
}

static void figs_row(tr_sb *b, const char *name, const tr_wf_figs *f, double f1)
{
    tr_sb_printf(b, "| %s | %" PRId64 " | ", name, f->trades);
    num(b, 1, f->trades ? 100 * f->win_rate : NAN, "%");
    tr_sb_printf(b, " | %.1f | %.2f | %.2f%% | ", f->net_pips, f->sharpe, 100 * f->max_drawdown);
    num(b, 3, f1, "");
    tr_sb_printf(b, " |\n");
}

static void pairs_text(const tr_wf_result *r, char *out, size_t size)
{
    out[0] = '\0';
    for (int i = 0; i < r->n_pairs; i++) {
        size_t n = strlen(out);
        snprintf(out + n, size - n, "%s%s", i ? ", " : "", r->pairs[i]);
    }
}

char *tr_wf_report_markdown(const tr_wf_result *r)
{
    tr_sb b = {0};
    char a[40], c[40], pairs[TR_WF_MAX_PAIRS * (TR_PAIR_MAX + 2)], stem[160];
    pairs_text(r, pairs, sizeof pairs);
    tr_wf_report_stem(r, stem, sizeof stem);
    tr_sb_printf(&b, "# Walk-forward evaluation: %s, %s to %s\n\n", pairs,
                 day(r->from, a, sizeof a), day(r->to, c, sizeof c));
    tr_sb_printf(&b,
                 "%zu step%s of %s. At each step a model is trained as the weekly full retrain "
                 "would train it as of the step's start (%s labels; %s), and scored on the "
                 "windows whose last bar lies in the step: bars it never saw. Net pips are "
                 "after the spread. Beside it, on the same windows: always-hold, the RSI(14) "
                 "30/70 rule, and random entry with as many trades per pair and step as the "
                 "model's rule (%d draws, seed %" PRIu64 "). Key %s. Method, formulas and what "
                 "the p-value means: docs/walkforward.md.\n\n",
                 r->n_steps, r->n_steps == 1 ? "" : "s", r->step_text,
                 tr_label_kind_name(r->labels), r->hyper, r->n_draws, r->seed, r->key);

    tr_sb_printf(&b, "## The whole range\n\n");
    tr_sb_printf(&b,
                 "Every step's signals in sequence through one backtest (a position open at a "
                 "step's end is carried into the next, as under the weekly retrain); %" PRId64
                 " windows.\n\n",
                 r->n_windows);
    tr_sb_printf(&b, "| strategy | trades | win rate | net pips | Sharpe | max drawdown | "
                     "macro-F1 |\n|---|---:|---:|---:|---:|---:|---:|\n");
    figs_row(&b, "model, decision rule", &r->rule, r->f1_rule);
    figs_row(&b, "model, argmax", &r->argmax, r->f1_argmax);
    figs_row(&b, "always hold", &r->hold, r->f1_hold);
    figs_row(&b, "RSI(14) 30/70", &r->rsi, r->f1_rsi);
    tr_sb_printf(&b, "| random entry, median of %d draws | %.1f | - | ", r->n_draws,
                 r->random.mean_trades);
    num(&b, 1, r->random.median, "");
    tr_sb_printf(&b, " (5%%: ");
    num(&b, 1, r->random.p05, "");
    tr_sb_printf(&b, ", 95%%: ");
    num(&b, 1, r->random.p95, "");
    tr_sb_printf(&b, ") | - | - | - |\n\n");
    if (isfinite(r->random.p_value))
        tr_sb_printf(&b,
                     "Permutation p-value of the model's net pips (decision rule) against random "
                     "entry: p = (1 + %" PRId64 ") / (1 + %d) = **%.4f**. Log loss: ",
                     r->random.n_ge, r->n_draws, r->random.p_value);
    else
        tr_sb_printf(&b, "No p-value: the decision rule made no trade, so there is nothing to "
                         "compare with random entry. Log loss: ");
    num(&b, 4, r->nll_cal, "");
    tr_sb_printf(&b, " calibrated, ");
    num(&b, 4, r->nll_raw, "");
    tr_sb_printf(&b, " raw.\n\n");

    tr_sb_printf(&b, "## Steps: the models\n\n");
    tr_sb_printf(&b, "| step | as of | version | trained on | epochs | windows | rule | "
                     "macro-F1 rule | argmax | hold | RSI | log loss cal. | raw |\n"
                     "|---:|---|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|\n");
    for (size_t k = 0; k < r->n_steps; k++) {
        const tr_wf_step *s = &r->steps[k];
        char f[40], t[40], rule[64];
        if (s->no_edge)
            snprintf(rule, sizeof rule, "no edge: hold");
        else
            snprintf(rule, sizeof rule, "T %.3f, p >= %.2f",
                     s->temperature > 0 ? s->temperature : 1, s->threshold);
        tr_sb_printf(&b, "| %zu | %s | %s | %s .. %s | %d (best %d) | %" PRId64 " | %s | ", k + 1,
                     day(s->start, a, sizeof a), s->version, day(s->data_from, f, sizeof f),
                     day(s->data_to, t, sizeof t), s->epochs, s->best_epoch, s->n_windows, rule);
        num(&b, 3, s->f1_rule, "");
        tr_sb_printf(&b, " | ");
        num(&b, 3, s->f1_argmax, "");
        tr_sb_printf(&b, " | ");
        num(&b, 3, s->f1_hold, "");
        tr_sb_printf(&b, " | ");
        num(&b, 3, s->f1_rsi, "");
        tr_sb_printf(&b, " | ");
        num(&b, 4, s->nll_cal, "");
        tr_sb_printf(&b, " | ");
        num(&b, 4, s->nll_raw, "");
        tr_sb_printf(&b, " |\n");
    }

    tr_sb_printf(&b, "\n## Steps: net pips after the spread\n\n");
    tr_sb_printf(&b, "Each step backtested on its own (flat at its end).\n\n");
    tr_sb_printf(&b,
                 "| step | rule trades | win rate | net pips | Sharpe | max DD | argmax trades | "
                 "net pips | RSI trades | net pips | random median | 5%% .. 95%% | p |\n"
                 "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|\n");
    for (size_t k = 0; k < r->n_steps; k++) {
        const tr_wf_step *s = &r->steps[k];
        tr_sb_printf(&b, "| %zu | %" PRId64 " | ", k + 1, s->rule.trades);
        num(&b, 1, s->rule.trades ? 100 * s->rule.win_rate : NAN, "%");
        tr_sb_printf(&b,
                     " | %.1f | %.2f | %.2f%% | %" PRId64 " | %.1f | %" PRId64 " | %.1f | %.1f | "
                     "%.1f .. %.1f | ",
                     s->rule.net_pips, s->rule.sharpe, 100 * s->rule.max_drawdown, s->argmax.trades,
                     s->argmax.net_pips, s->rsi.trades, s->rsi.net_pips, s->random.median,
                     s->random.p05, s->random.p95);
        num(&b, 4, s->random.p_value, "");
        tr_sb_printf(&b, " |\n");
    }
    int64_t beat = 0;
    for (size_t k = 0; k < r->n_steps; k++)
        beat += r->steps[k].rule.net_pips > r->steps[k].random.median;
    tr_sb_printf(
        &b, "\nThe model's rule earned more than the random median in %" PRId64 " of %zu steps.\n",
        beat, r->n_steps);

    tr_sb_printf(&b, "\n## Equity\n\n");
    if (r->picture_note[0])
        tr_sb_printf(&b, "No picture: %s.\n", r->picture_note);
    else
        tr_sb_printf(&b,
                     "Cumulative net pips over the whole range (all pairs, by trade exit; the "
                     "random entry's median over its draws, day by day):\n\n![equity](%s.png)\n",
                     stem);
    tr_sb_printf(&b,
                 "\nComputed in %.1f s by this run (%zu of %zu steps read from the work "
                 "directory).\n",
                 r->seconds, r->n_resumed, r->n_steps);
    if (b.oom) {
        tr_sb_free(&b);
        return NULL;
    }
    return b.p;
}

/* Times as doubles for the plot (NULL when out of memory; n 0 gives a 1-element buffer). */
static double *times_of(const int64_t *t, size_t n)
{
    double *x = malloc((n ? n : 1) * sizeof *x);
    for (size_t i = 0; x && i < n; i++)
        x[i] = (double)t[i];
    return x;
}

static void draw_picture(tr_wf_result *r, const char *path)
{
    static const char *const names[TR_WF_N_CURVES] = {"model, decision rule", "model, argmax",
                                                      "RSI(14) 30/70", "random entry, median"};
    tr_plot_series ser[TR_WF_N_CURVES];
    double *xs[TR_WF_N_CURVES];
    int ok = 1;
    for (int c = 0; c < TR_WF_N_CURVES; c++) {
        xs[c] = times_of(r->curve[c].t, r->curve[c].n);
        ok &= xs[c] != NULL;
        ser[c] = (tr_plot_series){names[c], r->curve[c].n, xs[c], r->curve[c].pips};
    }
    tr_error e;
    tr_error_clear(&e);
    tr_plot_panel p = {"Walk-forward equity, net of the spread",
                       "UTC",
                       "cumulative net pips",
                       1,
                       ser,
                       TR_WF_N_CURVES};
    if (!ok)
        snprintf(r->picture_note, sizeof r->picture_note, "out of memory");
    else if (tr_plot_lines(path, 960, 520, &p, 1, &e))
        snprintf(r->picture_note, sizeof r->picture_note, "%.500s", e.msg);
    for (int c = 0; c < TR_WF_N_CURVES; c++)
        free(xs[c]);
}

tr_code tr_wf_report_write(tr_wf_result *r, const char *dir, tr_error *err)
{
    char stem[160];
    tr_wf_report_stem(r, stem, sizeof stem);
    snprintf(r->report_path, sizeof r->report_path, "%s/%s.md", dir, stem);
    snprintf(r->picture_path, sizeof r->picture_path, "%s/%s.png", dir, stem);
    r->picture_note[0] = '\0';
    draw_picture(r, r->picture_path);
    char *md = tr_wf_report_markdown(r);
    if (!md)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory for the report");
    tr_code rc = tr_file_write_atomic(r->report_path, md, strlen(md), err);
    free(md);
    return rc;
}

/* ---- JSON ----------------------------------------------------------------------------------- */

static void json_figs(tr_sb *b, const char *name, const tr_wf_figs *f, double f1)
{
    tr_sb_printf(b, "\"%s\":{\"trades\":%" PRId64 ",\"wins\":%" PRId64 ",\"net_pips\":", name,
                 f->trades, f->wins);
    tr_sb_json_num(b, f->net_pips);
    tr_sb_printf(b, ",\"win_rate\":");
    tr_sb_json_num(b, f->win_rate);
    tr_sb_printf(b, ",\"sharpe\":");
    tr_sb_json_num(b, f->sharpe);
    tr_sb_printf(b, ",\"max_drawdown\":");
    tr_sb_json_num(b, f->max_drawdown);
    tr_sb_printf(b, ",\"macro_f1\":");
    tr_sb_json_num(b, f1);
    tr_sb_printf(b, "}");
}

static void json_random(tr_sb *b, const tr_wf_random *x)
{
    tr_sb_printf(b, "\"random\":{\"target_trades\":%" PRId64 ",\"mean_trades\":", x->target_trades);
    tr_sb_json_num(b, x->mean_trades);
    tr_sb_printf(b, ",\"median\":");
    tr_sb_json_num(b, x->median);
    tr_sb_printf(b, ",\"p05\":");
    tr_sb_json_num(b, x->p05);
    tr_sb_printf(b, ",\"p95\":");
    tr_sb_json_num(b, x->p95);
    tr_sb_printf(b, ",\"n_ge\":%" PRId64 ",\"p_value\":", x->n_ge);
    tr_sb_json_num(b, x->p_value);
    tr_sb_printf(b, "}");
}

static void json_time(tr_sb *b, const char *name, int64_t t)
{
    char s[40];
    tr_sb_printf(b, "\"%s\":\"%s\"", name, tr_time_format(t, s, sizeof s));
}

char *tr_wf_json(const tr_wf_result *r)
{
    tr_sb b = {0};
    tr_sb_printf(&b, "{");
    json_time(&b, "from", r->from);
    tr_sb_printf(&b, ",");
    json_time(&b, "to", r->to);
    tr_sb_printf(&b, ",\"step\":\"%s\",\"pairs\":[", r->step_text);
    for (int i = 0; i < r->n_pairs; i++)
        tr_sb_printf(&b, "%s\"%s\"", i ? "," : "", r->pairs[i]);
    tr_sb_printf(&b,
                 "],\"timeframe\":%d,\"months\":%d,\"labels\":\"%s\",\"model\":", (int)r->timeframe,
                 r->months, tr_label_kind_name(r->labels));
    tr_sb_json_str(&b, r->hyper);
    tr_sb_printf(&b, ",\"draws\":%d,\"seed\":%" PRIu64 ",\"key\":\"%s\",\"work_dir\":", r->n_draws,
                 r->seed, r->key);
    tr_sb_json_str(&b, r->work_dir);
    tr_sb_printf(&b, ",\"report\":");
    tr_sb_json_str(&b, r->report_path);
    tr_sb_printf(&b, ",\"picture\":");
    if (r->picture_note[0])
        tr_sb_printf(&b, "null");
    else
        tr_sb_json_str(&b, r->picture_path);
    tr_sb_printf(&b, ",\"seconds\":%.3f,\"steps_resumed\":%zu,\"total\":{\"windows\":%" PRId64 ",",
                 r->seconds, r->n_resumed, r->n_windows);
    json_figs(&b, "model_rule", &r->rule, r->f1_rule);
    tr_sb_printf(&b, ",");
    json_figs(&b, "model_argmax", &r->argmax, r->f1_argmax);
    tr_sb_printf(&b, ",");
    json_figs(&b, "hold", &r->hold, r->f1_hold);
    tr_sb_printf(&b, ",");
    json_figs(&b, "rsi", &r->rsi, r->f1_rsi);
    tr_sb_printf(&b, ",");
    json_random(&b, &r->random);
    tr_sb_printf(&b, ",\"log_loss_calibrated\":");
    tr_sb_json_num(&b, r->nll_cal);
    tr_sb_printf(&b, ",\"log_loss_raw\":");
    tr_sb_json_num(&b, r->nll_raw);
    tr_sb_printf(&b, "},\"steps\":[");
    for (size_t k = 0; k < r->n_steps; k++) {
        const tr_wf_step *s = &r->steps[k];
        tr_sb_printf(&b, "%s{", k ? "," : "");
        json_time(&b, "start", s->start);
        tr_sb_printf(&b, ",");
        json_time(&b, "end", s->end);
        tr_sb_printf(&b, ",\"version\":\"%s\",", s->version);
        json_time(&b, "data_from", s->data_from);
        tr_sb_printf(&b, ",");
        json_time(&b, "data_to", s->data_to);
        tr_sb_printf(&b, ",\"epochs\":%d,\"best_epoch\":%d,\"decision_rule\":{\"temperature\":",
                     s->epochs, s->best_epoch);
        tr_sb_json_num(&b, s->temperature);
        tr_sb_printf(&b, ",\"threshold\":");
        tr_sb_json_num(&b, s->threshold);
        tr_sb_printf(&b, ",\"no_edge\":%s},\"windows\":%" PRId64 ",\"log_loss_calibrated\":",
                     s->no_edge ? "true" : "false", s->n_windows);
        tr_sb_json_num(&b, s->nll_cal);
        tr_sb_printf(&b, ",\"log_loss_raw\":");
        tr_sb_json_num(&b, s->nll_raw);
        tr_sb_printf(&b, ",");
        json_figs(&b, "model_rule", &s->rule, s->f1_rule);
        tr_sb_printf(&b, ",");
        json_figs(&b, "model_argmax", &s->argmax, s->f1_argmax);
        tr_sb_printf(&b, ",");
        json_figs(&b, "hold", &s->hold, s->f1_hold);
        tr_sb_printf(&b, ",");
        json_figs(&b, "rsi", &s->rsi, s->f1_rsi);
        tr_sb_printf(&b, ",");
        json_random(&b, &s->random);
        tr_sb_printf(&b, "}");
    }
    tr_sb_printf(&b, "]}");
    if (b.oom) {
        tr_sb_free(&b);
        return NULL;
    }
    return b.p;
}
