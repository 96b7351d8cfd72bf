/* eval.c - evaluation of a model on dataset windows, and backtests of its predictions (eval.h). */
#include "data/eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/models.h"
#include "market/ta.h"

tr_code tr_rows_make(const tr_dataset *ds, tr_rows *out, tr_error *err)
{
    memset(out, 0, sizeof *out);
    size_t total = 0;
    for (int s = 0; s < ds->n_series; s++)
        total += ds->series[s].bars.n;
    out->offset = calloc((size_t)ds->n_series + 1, sizeof *out->offset);
    out->rows = malloc((total ? total : 1) * TR_N_FEATURES * sizeof(float));
    if (!out->offset || !out->rows) {
        tr_rows_free(out);
        return tr_fail(err, TR_ERR_NOMEM, "out of memory copying %zu feature rows", total);
    }
    size_t r = 0;
    for (int s = 0; s < ds->n_series; s++) {
        const tr_dataset_series *se = &ds->series[s];
        out->offset[s] = r;
        for (size_t i = 0; i < se->bars.n * TR_N_FEATURES; i++) {
            double v = se->features[i];
            out->rows[r * TR_N_FEATURES + i] = isfinite(v) ? (float)v : 0.0f;
        }
        r += se->bars.n;
    }
    out->n_rows = total;
    return TR_OK;
}

void tr_rows_free(tr_rows *r)
{
    free(r->rows);
    free(r->offset);
    memset(r, 0, sizeof *r);
}

int32_t *tr_split_labels(const tr_dataset *ds, int split)
{
    size_t n = ds->n[split];
    int32_t *y = malloc((n ? n : 1) * sizeof *y);
    if (!y)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        tr_sample smp = ds->samples[split][i];
        y[i] = ds->series[smp.series].labels[smp.index];
    }
    return y;
}

tr_code tr_split_make(const tr_dataset *ds, const tr_rows *rows, int split, tr_split_data *out,
                      tr_error *err)
{
    memset(out, 0, sizeof *out);
    size_t n = ds->n[split];
    out->ends = malloc((n ? n : 1) * sizeof *out->ends);
    out->labels = tr_split_labels(ds, split);
    if (!out->ends || !out->labels) {
        tr_split_free(out);
        return tr_fail(err, TR_ERR_NOMEM, "out of memory indexing %zu windows", n);
    }
    for (size_t i = 0; i < n; i++) {
        tr_sample smp = ds->samples[split][i];
        out->ends[i] = (int64_t)(rows->offset[smp.series] + smp.index);
    }
    out->d.rows = rows->rows;
    out->d.n_rows = rows->n_rows;
    out->d.ends = out->ends;
    out->d.labels = out->labels;
    out->d.n = n;
    return TR_OK;
}

void tr_split_free(tr_split_data *s)
{
    free(s->ends);
    free(s->labels);
    memset(s, 0, sizeof *s);
}

tr_code tr_predict_split(const aifx_model *m, const tr_dataset *ds, const tr_rows *rows, int split,
                         float **probs_out, int8_t **pred_out, tr_error *err)
{
    size_t n = ds->n[split];
    float *probs = malloc((n ? n : 1) * 3 * sizeof *probs);
    int8_t *pred = malloc(n ? n : 1);
    tr_split_data sd;
    tr_code rc = TR_OK;
    if (!probs || !pred) {
        free(probs);
        free(pred);
        return tr_fail(err, TR_ERR_NOMEM, "out of memory predicting %zu windows", n);
    }
    if (n > 0) {
        rc = tr_split_make(ds, rows, split, &sd, err);
        if (rc == TR_OK) {
            aifx_status st = aifx_model_predict_dataset(m, &sd.d, probs);
            tr_split_free(&sd);
            if (st != AIFX_OK)
                rc = tr_fail(err, st == AIFX_ERR_NOMEM ? TR_ERR_NOMEM : TR_ERR_DATA,
                             "prediction failed: %s", aifx_strerror(st));
        }
    }
    if (rc) {
        free(probs);
        free(pred);
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        const float *p = probs + i * 3;
        int best = 0;
        for (int k = 1; k < 3; k++)
            if (p[k] > p[best])
                best = k;
        pred[i] = (int8_t)best;
    }
    *probs_out = probs;
    *pred_out = pred;
    return TR_OK;
}

void tr_cls_figs_compute(size_t n, const int32_t *labels, const int8_t *pred, const float *probs,
                         const double *class_weight, tr_cls_figs *o)
{
    memset(o, 0, sizeof *o);
    o->n = (int64_t)n;
    double wl = 0, ws = 0;
    size_t correct = 0;
    for (size_t i = 0; i < n; i++) {
        int y = labels[i], p = pred[i];
        o->confusion[y][p]++;
        correct += y == p;
        if (probs) {
            double w = class_weight ? class_weight[y] : 1.0;
            double pr = probs[i * 3 + (size_t)y];
            wl += w * -log(pr > 1e-12 ? pr : 1e-12);
            ws += w;
        }
    }
    o->loss = probs ? (ws > 0 ? wl / ws : 0.0) : NAN;
    o->accuracy = n ? (double)correct / (double)n : 0.0;
    int n_present = 0;
    double f1sum = 0;
    int64_t pred_c[3] = {0, 0, 0}, true_c[3] = {0, 0, 0};
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < 3; k++) {
            true_c[c] += o->confusion[c][k];
            pred_c[c] += o->confusion[k][c];
        }
    for (int c = 0; c < 3; c++) {
        double tp = (double)o->confusion[c][c];
        o->precision[c] = pred_c[c] ? tp / (double)pred_c[c] : 0.0;
        o->recall[c] = true_c[c] ? tp / (double)true_c[c] : 0.0;
        double s = o->precision[c] + o->recall[c];
        o->f1[c] = s > 0 ? 2 * o->precision[c] * o->recall[c] / s : 0.0;
        if (true_c[c] || pred_c[c]) {
            n_present++;
            f1sum += o->f1[c];
        }
    }
    o->macro_f1 = n_present ? f1sum / n_present : 0.0;
    double dn = n ? (double)n : 1.0;
    o->buy_share = (double)pred_c[1] / dn;
    o->sell_share = (double)pred_c[2] / dn;
    o->true_buy_share = (double)true_c[1] / dn;
    o->true_sell_share = (double)true_c[2] / dn;
}

static void figs_from_result(const tr_bt_result *r, tr_bt_figs *f)
{
    memset(f, 0, sizeof *f);
    f->trades = (int64_t)r->n_trades;
    f->wins = (int64_t)r->n_wins;
    f->n_signals = (int64_t)r->n_signals;
    f->n_bars = (int64_t)r->n_bars;
    f->win_rate = r->win_rate;
    f->total_pips = r->total_pips;
    f->avg_pips = r->avg_pips;
    f->total_return = r->total_return;
    f->sharpe = r->sharpe;
    f->sortino = r->sortino;
    f->max_drawdown = r->max_drawdown;
    f->profit_factor = r->profit_factor;
    f->signal_freq = r->signal_freq;
}

tr_bt_override tr_bt_override_none(void)
{
    tr_bt_override o = {-1, -1, -1, -1, -1};
    return o;
}

void tr_equity_free(tr_equity *eq)
{
    if (!eq)
        return;
    free(eq->t);
    free(eq->pips);
    memset(eq, 0, sizeof *eq);
}

/* Appends a pair's trades (as exit time, pnl) to eq; the pips are summed up at the end. */
static int equity_add(tr_equity *eq, const tr_bt_result *r)
{
    if (!r->n_trades)
        return 0;
    int64_t *t = realloc(eq->t, (eq->n + r->n_trades) * sizeof *t);
    if (t)
        eq->t = t;
    double *p = realloc(eq->pips, (eq->n + r->n_trades) * sizeof *p);
    if (p)
        eq->pips = p;
    if (!t || !p)
        return -1;
    for (size_t i = 0; i < r->n_trades; i++) {
        eq->t[eq->n] = r->trades[i].exit_t;
        eq->pips[eq->n] = r->trades[i].pnl_pips;
        eq->n++;
    }
    return 0;
}

/* Orders the trades by exit time (stable: insertion sort, the pairs' lists are each sorted) and
 * accumulates the pips. */
static void equity_finish(tr_equity *eq)
{
    for (size_t i = 1; i < eq->n; i++) {
        int64_t t = eq->t[i];
        double p = eq->pips[i];
        size_t j = i;
        for (; j > 0 && eq->t[j - 1] > t; j--) {
            eq->t[j] = eq->t[j - 1];
            eq->pips[j] = eq->pips[j - 1];
        }
        eq->t[j] = t;
        eq->pips[j] = p;
    }
    for (size_t i = 1; i < eq->n; i++)
        eq->pips[i] += eq->pips[i - 1];
}

tr_code tr_backtest_split(const tr_dataset *ds, int split, const int8_t *pred, const float *probs,
                          const tr_bt_override *ovr, tr_bt_figs *all, tr_bt_figs *per_pair,
                          tr_error *err)
{
    return tr_backtest_split_equity(ds, split, pred, probs, ovr, all, per_pair, NULL, err);
}

tr_code tr_backtest_split_equity(const tr_dataset *ds, int split, const int8_t *pred,
                                 const float *probs, const tr_bt_override *ovr, tr_bt_figs *all,
                                 tr_bt_figs *per_pair, tr_equity *eq, tr_error *err)
{
    memset(all, 0, sizeof *all);
    if (eq)
        memset(eq, 0, sizeof *eq);
    double gross_win = 0, gross_loss = 0, growth = 1.0;
    int n_pairs_bt = 0;
    size_t n = ds->n[split];
    for (int s = 0; s < ds->n_series; s++) {
        const tr_dataset_series *se = &ds->series[s];
        size_t lo = SIZE_MAX, hi = 0;
        for (size_t i = 0; i < n; i++) {
            tr_sample smp = ds->samples[split][i];
            if ((int)smp.series != s)
                continue;
            if (smp.index < lo)
                lo = smp.index;
            if (smp.index > hi)
                hi = smp.index;
        }
        if (per_pair)
            memset(&per_pair[s], 0, sizeof per_pair[s]);
        if (lo == SIZE_MAX)
            continue;
        size_t nb = hi - lo + 1;
        int8_t *sig = malloc(nb);
        float *pr = malloc(nb * sizeof *pr);
        double *h = malloc(se->bars.n * sizeof *h), *l = malloc(se->bars.n * sizeof *l);
        double *c = malloc(se->bars.n * sizeof *c), *atr = malloc(se->bars.n * sizeof *atr);
        tr_code rc = TR_OK;
        if (!sig || !pr || !h || !l || !c || !atr) {
            rc = tr_fail(err, TR_ERR_NOMEM, "out of memory backtesting %s", se->pair);
        } else {
            for (size_t i = 0; i < se->bars.n; i++) {
                h[i] = se->bars.v[i].high;
                l[i] = se->bars.v[i].low;
                c[i] = se->bars.v[i].close;
            }
            ta_atr(se->bars.n, h, l, c, 14, atr);
            memset(sig, -1, nb);
            for (size_t i = 0; i < nb; i++)
                pr[i] = 0;
            for (size_t i = 0; i < n; i++) {
                tr_sample smp = ds->samples[split][i];
                if ((int)smp.series != s)
                    continue;
                sig[smp.index - lo] = pred[i];
                pr[smp.index - lo] = probs ? probs[i * 3 + (size_t)pred[i]] : 1.0f;
            }
            tr_bt_params p = tr_bt_params_for_pair(se->pair);
            if (ovr) {
                if (ovr->threshold >= 0)
                    p.threshold = ovr->threshold;
                if (ovr->sl_atr >= 0)
                    p.sl_atr = ovr->sl_atr;
                if (ovr->tp_atr >= 0)
                    p.tp_atr = ovr->tp_atr;
                if (ovr->spread_pips >= 0)
                    p.spread_pips = ovr->spread_pips;
                if (ovr->max_hold >= 0)
                    p.max_hold = ovr->max_hold;
            }
            tr_bt_result r;
            memset(&r, 0, sizeof r);
            rc = tr_backtest(se->bars.v + lo, nb, sig, pr, atr + lo, &p, &r, err);
            if (!rc) {
                tr_bt_figs f;
                figs_from_result(&r, &f);
                if (per_pair)
                    per_pair[s] = f;
                all->trades += f.trades;
                all->wins += f.wins;
                all->n_signals += f.n_signals;
                all->n_bars += f.n_bars;
                all->total_pips += f.total_pips;
                growth *= 1.0 + f.total_return;
                all->sharpe += f.sharpe;
                all->sortino += f.sortino;
                if (f.max_drawdown > all->max_drawdown)
                    all->max_drawdown = f.max_drawdown;
                for (size_t t = 0; t < r.n_trades; t++) {
                    if (r.trades[t].pnl_pips > 0)
                        gross_win += r.trades[t].pnl_pips;
                    else
                        gross_loss -= r.trades[t].pnl_pips;
                }
                n_pairs_bt++;
                if (eq && equity_add(eq, &r))
                    rc = tr_fail(err, TR_ERR_NOMEM, "out of memory");
            }
            tr_bt_result_free(&r);
        }
        free(sig);
        free(pr);
        free(h);
        free(l);
        free(c);
        free(atr);
        if (rc) {
            tr_equity_free(eq);
            return rc;
        }
    }
    if (eq)
        equity_finish(eq);
    all->win_rate = all->trades ? (double)all->wins / (double)all->trades : 0.0;
    all->avg_pips = all->trades ? all->total_pips / (double)all->trades : 0.0;
    all->total_return = growth - 1.0;
    if (n_pairs_bt) {
        all->sharpe /= n_pairs_bt;
        all->sortino /= n_pairs_bt;
    }
    all->profit_factor = gross_loss > 0 ? gross_win / gross_loss : gross_win > 0 ? INFINITY : 0.0;
    all->signal_freq = all->n_bars ? (double)all->n_signals / (double)all->n_bars : 0.0;
    return TR_OK;
}

void tr_baseline_rsi(const tr_dataset *ds, int split, int8_t *pred)
{
    for (size_t i = 0; i < ds->n[split]; i++) {
        tr_sample smp = ds->samples[split][i];
        double rsi = ds->series[smp.series].features[(size_t)smp.index * TR_N_FEATURES + 14];
        pred[i] = (int8_t)(rsi < 30 ? TR_LABEL_BUY : rsi > 70 ? TR_LABEL_SELL : TR_LABEL_HOLD);
    }
}

tr_code tr_evaluate_version(tr_store *store, const char *version, const char *const *pairs,
                            int n_pairs, int32_t timeframe, int64_t from, int64_t to,
                            const tr_bt_override *ovr, tr_eval_report *out, tr_equity *equity,
                            tr_error *err)
{
    memset(out, 0, sizeof *out);
    if (equity)
        memset(equity, 0, sizeof *equity);
    snprintf(out->version, sizeof out->version, "%s", version);
    out->from = from;
    out->to = to;
    tr_registry reg;
    tr_code rc = tr_store_registry_read(store, &reg, err);
    if (rc)
        return rc;
    const tr_version *v;
    aifx_model *m = NULL;
    tr_dataset *ds = NULL;
    tr_rows rows = {0};
    rc = tr_registry_get(&reg, version, &v, err);
    if (!rc)
        rc = tr_checkpoint_load(store, v, &m, err);
    if (rc)
        goto done;
    if (n_pairs == 0) {
        rc = tr_store_pairs(store, timeframe, out->pairs, 8, &out->n_pairs, err);
        if (rc)
            goto done;
    } else {
        if (n_pairs > 8) {
            rc = tr_fail(err, TR_ERR_INVALID, "at most 8 pairs");
            goto done;
        }
        for (int i = 0; i < n_pairs; i++)
            snprintf(out->pairs[i], TR_PAIR_MAX, "%s", pairs[i]);
        out->n_pairs = n_pairs;
    }
    const char *pp[8];
    for (int i = 0; i < out->n_pairs; i++)
        pp[i] = out->pairs[i];
    tr_dataset_options d = tr_dataset_options_default();
    d.from = from;
    d.to = to;
    d.no_split = 1;
    d.label.kind = tr_hyper_label_kind(v->hyper); /* scored on the labels it learned */
    rc = tr_dataset_build(store, pp, out->n_pairs, timeframe, &d, &ds, err);
    if (!rc)
        rc = tr_rows_make(ds, &rows, err);
    if (!rc)
        rc = tr_score_windows(m, v, ds, &rows, ovr, out, equity, err);
done:
    tr_rows_free(&rows);
    tr_dataset_free(ds);
    aifx_model_free(m);
    tr_registry_free(&reg);
    return rc;
}

tr_code tr_score_windows(const aifx_model *m, const tr_version *v, const tr_dataset *ds,
                         const tr_rows *rows, const tr_bt_override *ovr, tr_eval_report *out,
                         tr_equity *equity, tr_error *err)
{
    float *probs = NULL;
    int8_t *pred = NULL;
    int32_t *y = NULL;
    tr_code rc = tr_predict_split(m, ds, rows, TR_SPLIT_TEST, &probs, &pred, err);
    if (rc)
        goto done;
    y = tr_split_labels(ds, TR_SPLIT_TEST);
    if (!y) {
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory");
        goto done;
    }
    /* the classifier's figures on its argmax; the backtest trades the version's rule */
    tr_cls_figs_compute(ds->n[TR_SPLIT_TEST], y, pred, probs, v->class_weight, &out->figs);
    tr_rule_apply(&v->rule, ds->n[TR_SPLIT_TEST], probs, pred, probs);
    rc = tr_backtest_split_equity(ds, TR_SPLIT_TEST, pred, probs, ovr, &out->bt, out->bt_pairs,
                                  equity, err);
done:
    free(y);
    free(probs);
    free(pred);
    return rc;
}

tr_code tr_rule_fit(const tr_dataset *ds, int split, const float *probs, const int32_t *labels,
                    int cost_aware, int64_t min_trades, tr_rule *out, tr_reliability *rel_raw,
                    tr_reliability *rel_cal, tr_error *err)
{
    size_t n = ds->n[split];
    tr_rule r = tr_rule_identity();
    r.cost_aware = cost_aware ? 1 : 0;
    r.min_trades = min_trades;
    r.temperature = tr_temperature_fit(probs, labels, n);
    tr_reliability rel;
    tr_reliability_compute(probs, labels, n, 1.0, &rel);
    r.ece_raw = rel.ece;
    if (rel_raw)
        *rel_raw = rel;
    tr_reliability_compute(probs, labels, n, r.temperature, &rel);
    r.ece_cal = rel.ece;
    if (rel_cal)
        *rel_cal = rel;
    int8_t *pred = malloc(n ? n : 1);
    if (!pred)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory choosing the decision rule");
    int best = -1;
    tr_bt_figs bf = {0};
    for (int i = 0; i < (cost_aware ? TR_RULE_N_CANDIDATES : 1); i++) {
        tr_rule c = r;
        c.threshold = tr_rule_candidate(i);
        tr_rule_apply(&c, n, probs, pred, NULL);
        tr_bt_figs f;
        tr_code rc = tr_backtest_split(ds, split, pred, NULL, NULL, &f, NULL, err);
        if (rc) {
            free(pred);
            return rc;
        }
        if (!cost_aware) {
            best = i;
            bf = f;
            break;
        }
        if (f.trades >= min_trades && (best < 0 || f.total_pips > bf.total_pips)) {
            best = i;
            bf = f;
        }
    }
    free(pred);
    r.threshold = best >= 0 ? tr_rule_candidate(best) : 0.0;
    r.val_trades = best >= 0 ? bf.trades : 0;
    r.val_pips = best >= 0 ? bf.total_pips : NAN;
    r.no_edge = cost_aware && (best < 0 || !(bf.total_pips > 0));
    *out = r;
    return TR_OK;
}
