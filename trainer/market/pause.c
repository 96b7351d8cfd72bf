/*
 * pause.c - the extreme-market pause (pause.h; thresholds and their evidence in
 * docs/monitoring.md).
 *
 *   TR_i = max(h_i, c_{i-1}) - min(l_i, c_{i-1})   if t_i - t_{i-1} <= max_bar_gap
 *        = h_i - l_i                               otherwise (first bar after a closure)
 *   ratio = mean_{recent} TR / mean_{reference} TR,   gap = max_{recent} |o_i - c_{i-1}|
 *   pause = ratio >= vol_ratio  or  gap / mean_{reference} TR >= gap_atr
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "market/pause.h"

tr_pause_opts tr_pause_opts_default(void)
{
    tr_pause_opts o = {86400, 60 * 86400, 3600, 3.0, 10.0, 24, 480, 0.0};
    return o;
}

static double true_range(const tr_bar *b, size_t i, int64_t max_bar_gap)
{
    if (i == 0 || b[i].t - b[i - 1].t > max_bar_gap)
        return b[i].high - b[i].low;
    double pc = b[i - 1].close;
    return fmax(b[i].high, pc) - fmin(b[i].low, pc);
}

tr_code tr_pause_check(const tr_bar *bars, size_t n, int64_t as_of, const tr_pause_opts *o,
                       tr_pause *out, tr_error *err)
{
    memset(out, 0, sizeof *out);
    out->recent_tr = out->ref_tr = out->ratio = out->gap = out->gap_atr = NAN;
    if (o->window <= 0 || o->ref_window <= 0 || o->max_bar_gap <= 0 || !(o->vol_ratio > 0.0) ||
        !(o->gap_atr > 0.0) || !(o->ref_tr >= 0.0) || !isfinite(o->ref_tr))
        return tr_fail(err, TR_ERR_INVALID, "pause: invalid options");
    out->vol_threshold = o->vol_ratio;
    out->gap_threshold = o->gap_atr;
    size_t end = tr_bars_lower_bound(bars, n, as_of);
    size_t mid = tr_bars_lower_bound(bars, end, as_of - o->window);
    size_t beg = tr_bars_lower_bound(bars, mid, as_of - o->window - o->ref_window);
    out->n_recent = end - mid;
    out->n_ref = mid - beg;
    double sum = 0.0, gap = 0.0;
    for (size_t i = mid; i < end; i++) {
        sum += true_range(bars, i, o->max_bar_gap);
        if (i > 0 && fabs(bars[i].open - bars[i - 1].close) > gap) {
            gap = fabs(bars[i].open - bars[i - 1].close);
            out->gap_t = bars[i].t;
        }
    }
    if (out->n_recent > 0)
        out->recent_tr = sum / (double)out->n_recent;
    out->gap = gap;
    if (o->ref_tr > 0.0) {
        out->ref_tr = o->ref_tr;
    } else if (out->n_ref > 0) {
        double rs = 0.0;
        for (size_t i = beg; i < mid; i++)
            rs += true_range(bars, i, o->max_bar_gap);
        out->ref_tr = rs / (double)out->n_ref;
    }
    if (out->n_recent < o->min_recent || (o->ref_tr <= 0.0 && out->n_ref < o->min_ref)) {
        snprintf(out->reason, sizeof out->reason,
                 "no verdict: %zu recent bars (need %zu), %zu reference bars (need %zu)",
                 out->n_recent, o->min_recent, out->n_ref, o->ref_tr > 0.0 ? 0 : o->min_ref);
        return TR_OK;
    }
    if (!(out->ref_tr > 0.0)) {
        snprintf(out->reason, sizeof out->reason, "no verdict: the reference has no range");
        return TR_OK;
    }
    out->ok = 1;
    out->ratio = out->recent_tr / out->ref_tr;
    out->gap_atr = out->gap / out->ref_tr;
    int vol = out->ratio >= o->vol_ratio, gapped = out->gap_atr >= o->gap_atr;
    out->pause = vol || gapped;
    if (vol && gapped)
        snprintf(out->reason, sizeof out->reason,
                 "pause: volatility %.2fx the reference (>= %g) and a gap of %.1f ATR (>= %g)",
                 out->ratio, o->vol_ratio, out->gap_atr, o->gap_atr);
    else if (vol)
        snprintf(out->reason, sizeof out->reason,
                 "pause: volatility %.2fx the reference (>= %g); largest gap %.1f ATR", out->ratio,
                 o->vol_ratio, out->gap_atr);
    else if (gapped)
        snprintf(out->reason, sizeof out->reason,
                 "pause: a gap of %.1f ATR (>= %g); volatility %.2fx the reference", out->gap_atr,
                 o->gap_atr, out->ratio);
    else
        snprintf(out->reason, sizeof out->reason,
                 "no pause: volatility %.2fx the reference (< %g), largest gap %.1f ATR (< %g)",
                 out->ratio, o->vol_ratio, out->gap_atr, o->gap_atr);
    return TR_OK;
}
