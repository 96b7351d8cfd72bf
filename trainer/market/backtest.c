/*
 * backtest.c - the backtest engine (conventions in docs/backtest.md, formulas from
 * empyrical: Sharpe = mean(r) / sd(r, ddof 1) * sqrt(252), Sortino = mean(r) / sqrt(mean(
 * min(r, 0)^2)) * sqrt(252), max drawdown on compounded equity, here as a positive fraction).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "market/backtest.h"
#include "market/labels.h"

tr_bt_params tr_bt_params_for_pair(const char *pair)
{
    tr_bt_params p = {0.0, 1.5, 2.0, 16, 2.0, 0.0001};
    size_t len = pair ? strlen(pair) : 0;
    if (len >= 3 && strcmp(pair + len - 3, "JPY") == 0)
        p.pip = 0.01;
    if (pair && strcmp(pair, "EURUSD") == 0)
        p.spread_pips = 1.0;
    else if (pair && strcmp(pair, "USDJPY") == 0)
        p.spread_pips = 1.5;
    return p;
}

void tr_bt_result_free(tr_bt_result *r)
{
    if (!r)
        return;
    free(r->trades);
    memset(r, 0, sizeof(*r));
}

static tr_code close_trade(tr_bt_result *r, const tr_bar *bars, const tr_bt_position *pos, size_t i,
                           double price, int reason, const tr_bt_params *p, tr_error *err)
{
    tr_trade *t = &r->trades[r->n_trades++];
    (void)err;
    t->entry_t = bars[pos->entry_i].t;
    t->exit_t = bars[i].t;
    t->dir = pos->dir;
    t->entry = pos->entry;
    t->exit = price;
    t->pnl_pips = tr_bt_pnl_pips(pos->dir, pos->entry, price, p);
    t->pnl_frac = t->pnl_pips * p->pip / pos->entry;
    t->bars = (int)(i - pos->entry_i + 1);
    t->reason = reason;
    return TR_OK;
}

int tr_bt_intrabar_exit(const tr_bar *b, int dir, double sl, double tp, double *price, int *reason)
{
    int why = -1;
    if (dir > 0) {
        if (b->open <= sl)
            *price = b->open, why = TR_EXIT_STOP;
        else if (b->low <= sl)
            *price = sl, why = TR_EXIT_STOP;
        else if (b->open >= tp)
            *price = b->open, why = TR_EXIT_TARGET;
        else if (b->high >= tp)
            *price = tp, why = TR_EXIT_TARGET;
    } else {
        if (b->open >= sl)
            *price = b->open, why = TR_EXIT_STOP;
        else if (b->high >= sl)
            *price = sl, why = TR_EXIT_STOP;
        else if (b->open <= tp)
            *price = b->open, why = TR_EXIT_TARGET;
        else if (b->low <= tp)
            *price = tp, why = TR_EXIT_TARGET;
    }
    if (why < 0)
        return 0;
    if (reason)
        *reason = why;
    return 1;
}

double tr_bt_pnl_pips(int dir, double entry, double exit, const tr_bt_params *p)
{
    return dir * (exit - entry) / p->pip - p->spread_pips;
}

tr_bt_position tr_bt_open(const tr_bar *bars, size_t entry_i, int dir, double atr,
                          const tr_bt_params *p)
{
    tr_bt_position pos;
    pos.dir = dir;
    pos.entry_i = entry_i;
    pos.entry = bars[entry_i].open;
    pos.sl = pos.entry - dir * p->sl_atr * atr;
    pos.tp = pos.entry + dir * p->tp_atr * atr;
    return pos;
}

int tr_bt_exit_walk(const tr_bar *bars, size_t n, const tr_bt_position *pos, const tr_bt_params *p,
                    size_t *exit_i, double *price, int *reason)
{
    for (size_t i = pos->entry_i; i < n; i++) {
        double px;
        int why;
        if (tr_bt_intrabar_exit(&bars[i], pos->dir, pos->sl, pos->tp, &px, &why)) {
            /* stop or target within the bar */
        } else if ((int)(i - pos->entry_i + 1) >= p->max_hold) {
            px = bars[i].close;
            why = TR_EXIT_TIME;
        } else {
            continue;
        }
        if (exit_i)
            *exit_i = i;
        if (price)
            *price = px;
        if (reason)
            *reason = why;
        return 1;
    }
    return 0;
}

static void figures(const tr_bar *bars, size_t n, tr_bt_result *r)
{
    double gross_win = 0, gross_loss = 0, sum_frac = 0, equity = 1.0, peak = 1.0, mdd = 0;
    for (size_t k = 0; k < r->n_trades; k++) {
        const tr_trade *t = &r->trades[k];
        r->total_pips += t->pnl_pips;
        sum_frac += t->pnl_frac;
        if (t->pnl_pips > 0)
            r->n_wins++, gross_win += t->pnl_pips;
        else if (t->pnl_pips < 0)
            r->n_losses++, gross_loss -= t->pnl_pips;
        else
            r->n_zero++;
        equity *= 1.0 + t->pnl_frac;
        peak = equity > peak ? equity : peak;
        double dd = (peak - equity) / peak;
        mdd = dd > mdd ? dd : mdd;
    }
    if (r->n_trades) {
        r->win_rate = (double)r->n_wins / (double)r->n_trades;
        r->avg_pips = r->total_pips / (double)r->n_trades;
        r->avg_return = sum_frac / (double)r->n_trades;
    }
    r->total_return = equity - 1.0;
    r->max_drawdown = mdd;
    r->profit_factor = gross_loss > 0 ? gross_win / gross_loss : (gross_win > 0 ? INFINITY : 0.0);
    r->signal_freq = n ? (double)r->n_signals / (double)n : 0.0;

    /* daily returns over the UTC days that have bars: a day's return compounds the trades that
     * closed on it; a day without a closed trade returns 0 */
    double s = 0, s2 = 0, down2 = 0;
    size_t days = 0, k = 0;
    for (size_t i = 0; i < n;) {
        int64_t day = bars[i].t >= 0 ? bars[i].t / 86400 : (bars[i].t - 86399) / 86400;
        while (i < n && (bars[i].t >= 0 ? bars[i].t / 86400 : (bars[i].t - 86399) / 86400) == day)
            i++;
        double g = 1.0;
        while (k < r->n_trades && r->trades[k].exit_t < (day + 1) * 86400)
            g *= 1.0 + r->trades[k++].pnl_frac;
        double ret = g - 1.0;
        s += ret;
        s2 += ret * ret;
        down2 += ret < 0 ? ret * ret : 0.0;
        days++;
    }
    r->n_days = days;
    if (days >= 2) {
        double mean = s / (double)days;
        double var = (s2 - (double)days * mean * mean) / (double)(days - 1);
        double sd = var > 0 ? sqrt(var) : 0.0;
        double downside = sqrt(down2 / (double)days);
        r->sharpe = sd > 0 ? mean / sd * sqrt(252.0) : 0.0;
        r->sortino = downside > 0 ? mean / downside * sqrt(252.0) : 0.0;
    }
}

tr_code tr_backtest(const tr_bar *bars, size_t n, const int8_t *signal, const float *prob,
                    const double *atr, const tr_bt_params *p, tr_bt_result *out, tr_error *err)
{
    if (!out)
        return tr_fail(err, TR_ERR_INVALID, "backtest: no result");
    memset(out, 0, sizeof(*out));
    if ((n && (!bars || !signal || !atr)) || !p)
        return tr_fail(err, TR_ERR_INVALID, "backtest: missing input");
    if (!(p->sl_atr > 0) || !(p->tp_atr > 0) || p->max_hold < 1 || !(p->spread_pips >= 0) ||
        !(p->pip > 0) || !(p->threshold >= 0 && p->threshold <= 1) || !isfinite(p->sl_atr) ||
        !isfinite(p->tp_atr) || !isfinite(p->spread_pips))
        return tr_fail(err, TR_ERR_INVALID,
                       "backtest: invalid parameters (stop %g, target %g "
                       "ATR, hold %d, spread %g, pip %g, threshold %g)",
                       p->sl_atr, p->tp_atr, p->max_hold, p->spread_pips, p->pip, p->threshold);
    out->n_bars = n;
    /* at most one trade per bar */
    out->trades = calloc(n ? n : 1, sizeof(tr_trade));
    if (!out->trades)
        return tr_fail(err, TR_ERR_NOMEM, "backtest: out of memory for %zu bars", n);
    tr_bt_position pos = {0};
    int pending = 0;      /* direction to enter at this bar's open (0 none) */
    int pending_exit = 0; /* close the open position at this bar's open (opposite signal) */
    double pending_atr = 0;
    /* the open position's own exit (tr_bt_exit_walk), unless an opposite signal comes first */
    int has_exit = 0, exit_reason = 0;
    size_t exit_i = 0;
    double exit_price = 0;
    for (size_t i = 0; i < n; i++) {
        const tr_bar *b = &bars[i];
        if (pending_exit && pos.dir) {
            close_trade(out, bars, &pos, i, b->open, TR_EXIT_OPPOSITE, p, err);
            pos.dir = 0;
        }
        if (pending && !pos.dir) {
            pos = tr_bt_open(bars, i, pending, pending_atr, p);
            has_exit = tr_bt_exit_walk(bars, n, &pos, p, &exit_i, &exit_price, &exit_reason);
        }
        pending = pending_exit = 0;
        if (pos.dir && has_exit && exit_i == i) {
            close_trade(out, bars, &pos, i, exit_price, exit_reason, p, err);
            pos.dir = 0;
        }
        /* the signal at this bar's close */
        int s = signal[i] == TR_LABEL_BUY ? 1 : (signal[i] == TR_LABEL_SELL ? -1 : 0);
        if (s && prob && !((double)prob[i] >= p->threshold))
            s = 0;
        if (!s)
            continue;
        out->n_signals++;
        s > 0 ? out->n_buy++ : out->n_sell++;
        if (i + 1 >= n || !isfinite(atr[i]) || !(atr[i] > 0))
            continue;
        if (pos.dir == -s) { /* opposite: close and reverse at the next open */
            pending_exit = 1;
            pending = s;
            pending_atr = atr[i];
        } else if (!pos.dir) {
            pending = s;
            pending_atr = atr[i];
        }
    }
    if (pos.dir && n)
        close_trade(out, bars, &pos, n - 1, bars[n - 1].close, TR_EXIT_END, p, err);
    figures(bars, n, out);
    return TR_OK;
}
