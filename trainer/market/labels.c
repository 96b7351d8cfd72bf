/* labels.c - reversal labels (see labels.h for the definition). O(n (k + h)). */
#include "market/labels.h"

#include <math.h>
#include <stdlib.h>

#include "market/ta.h"

tr_label_params tr_label_params_default(void)
{
    tr_label_params p = {6, 1.0, 16, 14};
    return p;
}

int tr_label_horizon(const tr_label_params *p)
{
    return p->k > p->h ? p->k : p->h;
}

tr_code tr_label_params_check(const tr_label_params *p, tr_error *err)
{
    if (p->k < 1 || p->k > 10000)
        return tr_fail(err, TR_ERR_INVALID, "label k must be in 1..10000 (got %d)", p->k);
    if (p->h < 1 || p->h > 10000)
        return tr_fail(err, TR_ERR_INVALID, "label h must be in 1..10000 (got %d)", p->h);
    if (!(p->m > 0) || !isfinite(p->m))
        return tr_fail(err, TR_ERR_INVALID, "label m must be a positive number (got %g)", p->m);
    if (p->atr_period < 1 || p->atr_period > 10000)
        return tr_fail(err, TR_ERR_INVALID, "label ATR period must be in 1..10000 (got %d)",
                       p->atr_period);
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
