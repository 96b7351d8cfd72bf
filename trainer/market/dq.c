/*
 * dq.c - data-quality checks of a bar series (dq.h; rules and the findings on the shared data
 * in docs/monitoring.md).
 *
 * New York time = UTC - 4 h from the second Sunday of March 07:00Z to the first Sunday of
 * November 06:00Z, UTC - 5 h otherwise; closed from Friday 17:00 to Sunday 17:00 New York.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "market/dq.h"
#include "market/ta.h"

const char *tr_dq_kind_text(tr_dq_kind k)
{
    static const char *const names[TR_DQ_N_KINDS] = {"gap", "stale", "spike", "zero-range",
                                                     "repeat"};
    return (unsigned)k < TR_DQ_N_KINDS ? names[k] : "";
}

tr_dq_opts tr_dq_opts_default(void)
{
    tr_dq_opts o = {900, 14, 10.0, 1800, 3600};
    return o;
}

/* UTC time of the n-th (1-based) Sunday of month m of year y at hour h. */
static int64_t nth_sunday(int64_t y, int m, int nth, int h)
{
    int64_t day1 = tr_days_from_civil(y, m, 1);
    int wd = tr_weekday(day1 * 86400); /* 0 Monday .. 6 Sunday */
    int64_t first = day1 + (6 - wd);
    return (first + 7 * (nth - 1)) * 86400 + (int64_t)h * 3600;
}

/* Seconds east of UTC of New York at t: -4 h (EDT) or -5 h (EST). */
static int64_t ny_offset(int64_t t)
{
    int64_t y;
    int m, d;
    tr_civil_from_days(t >= 0 ? t / 86400 : (t - 86399) / 86400, &y, &m, &d);
    int64_t start = nth_sunday(y, 3, 2, 7), end = nth_sunday(y, 11, 1, 6);
    return (t >= start && t < end) ? -4 * 3600 : -5 * 3600;
}

/* Seconds since Sunday 17:00 New York (0 .. 7 days); the market is open below 5 days. */
static int64_t since_week_open(int64_t t)
{
    int64_t local = t + ny_offset(t);
    int wd = tr_weekday(local);                                    /* 0 Monday .. 6 Sunday */
    int64_t sod = ((local % 86400) + 86400) % 86400;               /* seconds of the local day */
    int64_t since_sunday0 = (int64_t)((wd + 1) % 7) * 86400 + sod; /* from Sunday 00:00 */
    return ((since_sunday0 - 17 * 3600) % (7 * 86400) + 7 * 86400) % (7 * 86400);
}

int tr_dq_market_open(int64_t t)
{
    return since_week_open(t) < 5 * 86400;
}

/* Open and past the grace: a bar is expected in the slot opening at t. */
static int expected(int64_t t, int64_t grace)
{
    int64_t s = since_week_open(t);
    return s >= grace && s < 5 * 86400;
}

static tr_code add(tr_dq_report *r, const tr_dq_finding *f, tr_error *err)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        tr_dq_finding *v = realloc(r->v, cap * sizeof *v);
        if (v == NULL)
            return tr_fail(err, TR_ERR_NOMEM, "data quality: out of memory (%zu findings)", cap);
        r->v = v;
        r->cap = cap;
    }
    r->v[r->n++] = *f;
    r->count[f->kind]++;
    return TR_OK;
}

tr_code tr_dq_check(const tr_bar *bars, size_t n, int64_t as_of, const tr_dq_opts *o,
                    tr_dq_report *out, tr_error *err)
{
    if (o->timeframe <= 0 || o->atr_period < 1 || !(o->spike_atr > 0.0) || o->stale_after <= 0 ||
        o->open_grace < 0 || o->open_grace >= 5 * 86400)
        return tr_fail(err, TR_ERR_INVALID, "data quality: invalid options");
    for (size_t i = 1; i < n; i++)
        if (bars[i].t <= bars[i - 1].t)
            return tr_fail(err, TR_ERR_INVALID, "data quality: bars out of order at index %zu", i);
    double *buf = calloc(4 * n + 1, sizeof *buf);
    if (buf == NULL)
        return tr_fail(err, TR_ERR_NOMEM, "data quality: out of memory (%zu bars)", n);
    double *h = buf, *l = h + n, *c = l + n, *atr = c + n; /* (n) each */
    for (size_t i = 0; i < n; i++) {
        h[i] = bars[i].high;
        l[i] = bars[i].low;
        c[i] = bars[i].close;
    }
    ta_atr(n, h, l, c, o->atr_period, atr);
    tr_code rc = TR_OK;
    int64_t tf = o->timeframe;
    for (size_t i = 0; i < n && rc == TR_OK; i++) {
        const tr_bar *b = &bars[i];
        if (i > 0 && b->t - bars[i - 1].t > tf) {
            size_t missing = 0;
            int64_t first = 0;
            for (int64_t s = bars[i - 1].t + tf; s < b->t; s += tf)
                if (expected(s, o->open_grace)) {
                    if (missing++ == 0)
                        first = s;
                }
            if (missing > 0) {
                tr_dq_finding f = {TR_DQ_GAP, first, b->t, i, (double)missing, 0.0, 0};
                out->missing_bars += missing;
                rc = add(out, &f, err);
            }
        }
        if (rc == TR_OK && i > 0 && isfinite(atr[i - 1]) && atr[i - 1] > 0.0) {
            double range = (b->high - b->low) / atr[i - 1];
            double ret =
                b->t - bars[i - 1].t == tf ? fabs(b->close - bars[i - 1].close) / atr[i - 1] : 0.0;
            int what = (range >= o->spike_atr) | (ret >= o->spike_atr) << 1;
            if (what) {
                tr_dq_finding f = {TR_DQ_SPIKE,      b->t,         b->t, i,
                                   fmax(range, ret), o->spike_atr, what};
                rc = add(out, &f, err);
            }
        }
        if (rc == TR_OK && b->high == b->low) {
            tr_dq_finding f = {TR_DQ_ZERO_RANGE, b->t, b->t, i, b->close, 0.0, 0};
            rc = add(out, &f, err);
        }
        if (rc == TR_OK && i > 0 && b->open == bars[i - 1].open && b->high == bars[i - 1].high &&
            b->low == bars[i - 1].low && b->close == bars[i - 1].close) {
            tr_dq_finding f = {TR_DQ_REPEAT, b->t, b->t, i, b->close, 0.0, 0};
            rc = add(out, &f, err);
        }
    }
    free(buf);
    if (rc != TR_OK || as_of <= 0 || !tr_dq_market_open(as_of))
        return rc;
    /* open-market seconds since the last bar closed (no bars: nothing to judge) */
    int64_t from = n > 0 ? bars[n - 1].t + tf : as_of;
    int64_t open_s = 0;
    for (int64_t s = from; s < as_of; s += tf) {
        int64_t step = as_of - s < tf ? as_of - s : tf;
        if (expected(s, o->open_grace))
            open_s += step;
    }
    if (open_s > o->stale_after) {
        tr_dq_finding f = {TR_DQ_STALE,    n > 0 ? bars[n - 1].t : 0, as_of, n > 0 ? n - 1 : 0,
                           (double)open_s, (double)o->stale_after,    0};
        rc = add(out, &f, err);
    }
    return rc;
}

void tr_dq_report_free(tr_dq_report *r)
{
    if (r == NULL)
        return;
    free(r->v);
    memset(r, 0, sizeof *r);
}

void tr_dq_summarize(const tr_dq_report *r, const char *pair, int64_t from, tr_dq_summary *s)
{
    for (size_t j = 0; j < r->n; j++) {
        const tr_dq_finding *f = &r->v[j];
        if (f->t_end < from && f->kind != TR_DQ_STALE)
            continue;
        s->count[f->kind]++;
        s->n++;
        if (f->kind == TR_DQ_GAP)
            s->missing_bars += (size_t)f->value;
        if (!s->first[0]) {
            char t[32];
            snprintf(s->first, sizeof s->first, "%s%s%s at %s (%.4g)", pair ? pair : "",
                     pair ? " " : "", tr_dq_kind_text(f->kind), tr_time_format(f->t, t, sizeof t),
                     f->value);
        }
    }
}
