/* labels.c - reversal labels, O(n (k + h)), and barrier labels, O(n max_hold) (labels.h). */
#include "market/labels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "market/ta.h"

tr_label_params tr_label_params_default(void)
{
    tr_label_params p = {6, 1.0, 16, 14, TR_LABELS_REVERSAL, tr_bt_params_for_pair(NULL)};
    return p;
}

tr_label_params tr_label_params_for_pair(const tr_label_params *p, const char *pair)
{
    tr_label_params q = *p;
    if (q.kind == TR_LABELS_BARRIER) {
        tr_bt_params d = tr_bt_params_for_pair(pair);
        q.trade.pip = d.pip;
        q.trade.spread_pips = d.spread_pips;
    }
    return q;
}

int tr_label_horizon(const tr_label_params *p)
{
    if (p->kind == TR_LABELS_BARRIER)
        return p->trade.max_hold;
    return p->k > p->h ? p->k : p->h;
}

static const char *const kind_names[2] = {"reversal", "barrier"};

const char *tr_label_kind_name(int kind)
{
    return kind >= 0 && kind < 2 ? kind_names[kind] : "?";
}

int tr_label_kind_parse(const char *s, int *kind)
{
    for (int i = 0; s && i < 2; i++)
        if (strcmp(s, kind_names[i]) == 0) {
            *kind = i;
            return 0;
        }
    return -1;
}

static tr_code check_barrier(const tr_label_params *p, tr_error *err)
{
    const tr_bt_params *b = &p->trade;
    if (!(b->sl_atr > 0) || !isfinite(b->sl_atr) || !(b->tp_atr > 0) || !isfinite(b->tp_atr))
        return tr_fail(err, TR_ERR_INVALID,
                       "barrier labels: stop and target must be positive ATR multiples (got %g, "
                       "%g)",
                       b->sl_atr, b->tp_atr);
    if (b->max_hold < 1 || b->max_hold > 10000)
        return tr_fail(err, TR_ERR_INVALID, "barrier labels: max hold must be in 1..10000 (got %d)",
                       b->max_hold);
    if (!(b->spread_pips >= 0) || !isfinite(b->spread_pips) || !(b->pip > 0) || !isfinite(b->pip))
        return tr_fail(err, TR_ERR_INVALID,
                       "barrier labels: spread must be >= 0 and pip > 0 (got %g, %g)",
                       b->spread_pips, b->pip);
    return TR_OK;
}

tr_code tr_label_params_check(const tr_label_params *p, tr_error *err)
{
    if (p->kind != TR_LABELS_REVERSAL && p->kind != TR_LABELS_BARRIER)
        return tr_fail(err, TR_ERR_INVALID, "unknown kind of labels %d", p->kind);
    if (p->atr_period < 1 || p->atr_period > 10000)
        return tr_fail(err, TR_ERR_INVALID, "label ATR period must be in 1..10000 (got %d)",
                       p->atr_period);
    if (p->kind == TR_LABELS_BARRIER)
        return check_barrier(p, err);
    if (p->k < 1 || p->k > 10000)
        return tr_fail(err, TR_ERR_INVALID, "label k must be in 1..10000 (got %d)", p->k);
    if (p->h < 1 || p->h > 10000)
        return tr_fail(err, TR_ERR_INVALID, "label h must be in 1..10000 (got %d)", p->h);
    if (!(p->m > 0) || !isfinite(p->m))
        return tr_fail(err, TR_ERR_INVALID, "label m must be a positive number (got %g)", p->m);
    return TR_OK;
}

const char *tr_label_name(int label)
{
    switch (label) {
    case TR_LABEL_HOLD:
        return "hold";
    case TR_LABEL_BUY:
        return "buy";
    case TR_LABEL_SELL:
        return "sell";
    default:
        return "none";
    }
}

/* 1 when a position in direction dir opened at bar i's open (ATR of bar i-1) exits at its
 * target with a positive net PnL: the backtest's trade rule (tr_bt_exit_walk). */
static int pays(const tr_bar *bars, size_t n, size_t i, int dir, double atr, const tr_bt_params *p)
{
    tr_bt_position pos = tr_bt_open(bars, i, dir, atr, p);
    double price;
    int reason;
    return tr_bt_exit_walk(bars, n, &pos, p, NULL, &price, &reason) && reason == TR_EXIT_TARGET &&
           tr_bt_pnl_pips(dir, pos.entry, price, p) > 0;
}

/* Barrier labels (labels.h): the trade entered at t+1's open, walked over t+1 .. t+max_hold. */
static void barrier(const tr_bar *bars, size_t n, const double *atr, const tr_bt_params *p,
                    int8_t *out)
{
    size_t hz = (size_t)p->max_hold;
    for (size_t t = 0; t < n; t++) {
        if (t + hz >= n || !isfinite(atr[t]) || !(atr[t] > 0)) {
            out[t] = TR_LABEL_NONE;
            continue;
        }
        /* the walk ends at max_hold bars (TR_EXIT_TIME), within bars[0 .. t + hz] */
        int buy = pays(bars, t + hz + 1, t + 1, 1, atr[t], p);
        int sell = pays(bars, t + hz + 1, t + 1, -1, atr[t], p);
        out[t] = (int8_t)(buy == sell ? TR_LABEL_HOLD : buy ? TR_LABEL_BUY : TR_LABEL_SELL);
    }
}

tr_code tr_labels_compute(const tr_bar *bars, size_t n, const tr_label_params *p, int8_t *out,
                          tr_error *err)
{
    tr_code rc = tr_label_params_check(p, err);
    if (rc)
        return rc;
    if (n == 0)
        return TR_OK;
    double *buf = malloc(4 * n * sizeof *buf);
    if (!buf)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory labelling %zu bars", n);
    double *h = buf, *l = buf + n, *c = buf + 2 * n, *atr = buf + 3 * n;
    for (size_t t = 0; t < n; t++) {
        h[t] = bars[t].high;
        l[t] = bars[t].low;
        c[t] = bars[t].close;
    }
    ta_atr(n, h, l, c, p->atr_period, atr);
    if (p->kind == TR_LABELS_BARRIER) {
        barrier(bars, n, atr, &p->trade, out);
        free(buf);
        return TR_OK;
    }
    size_t k = (size_t)p->k, hz = (size_t)p->h, ahead = (size_t)tr_label_horizon(p);
    for (size_t t = 0; t < n; t++) {
        if (t < k || t + ahead >= n || isnan(atr[t])) {
            out[t] = TR_LABEL_NONE;
            continue;
        }
        int bottom = 1, top = 1;
        for (size_t j = t - k; j <= t + k; j++) {
            if (l[j] < l[t])
                bottom = 0;
            if (h[j] > h[t])
                top = 0;
        }
        double move = p->m * atr[t];
        int up = 0, down = 0;
        for (size_t j = t + 1; j <= t + hz; j++) {
            if (c[j] >= l[t] + move)
                up = 1;
            if (c[j] <= h[t] - move)
                down = 1;
        }
        int buy = bottom && up, sell = top && down;
        /* both can be set (a bar that is both extremes): then hold, as when neither is */
        out[t] = (int8_t)(buy == sell ? TR_LABEL_HOLD : buy ? TR_LABEL_BUY : TR_LABEL_SELL);
    }
    free(buf);
    return TR_OK;
}
