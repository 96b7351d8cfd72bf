/*
 * featstream.c - the 38-feature row of each new bar from a fixed-size state (featstream.h).
 *
 * Every indicator of ta.c is restated here for one bar t, with the same floating-point operations
 * in the same order, so the stream reproduces tr_features_compute bit for bit:
 *   - windowed sums (SMA, standard deviation, CCI, ULTOSC, slope, stochastic) are recomputed from
 *     a ring of the last RING bars, summed newest first (i = 0 is bar t) as ta.c does; a running
 *     sum would round differently, so none is kept;
 *   - highs and lows of a window are scanned in ta.c's order (it matters for ties only);
 *   - recursive indicators keep ta.c's loop variables: an EMA's seed sum is accumulated oldest
 *     first as its inputs arrive, then E = (x - E) k + E; Wilder's RSI, ATR and directional
 *     movement keep gain/loss, the ATR, +DM/-DM/TR, the DX sum and the ADX.
 * Per-bar inputs that ta.c recomputes wherever it needs them (true range, buying pressure,
 * typical price, log return) are computed once by the same expression and kept in rings: the
 * value is the same double. Windowed indicators are evaluated only from the warm-up on, where a
 * row is emitted; the stochastic's %K chain, whose windows reach back two bars, every bar.
 *
 * The rows are kept in a second ring of keep_rows rows. The whole state is one allocation with no
 * pointers inside, so a clone is one memcpy.
 */
#include "market/featstream.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"

/* Bars of history kept: the longest window reaches 199 bars back (SMA 200). A power of two. */
enum { RING = 256, MASK = RING - 1 };

#define IS_ZERO(v)          ((v) > -1e-8 && (v) < 1e-8)
#define IS_ZERO_REL(v, ref) (fabs(v) < 1e-8 * fabs(ref))

/* One EMA of ta_ema: k = 2/(p+1), seeded with the mean of its first p inputs from bar start. */
typedef struct fs_ema {
    size_t start;
    int p;
    double k, sum, prev;
} fs_ema;

typedef struct fs_row {
    int64_t t;               /* the bar's open time */
    double v[TR_N_FEATURES]; /* its row */
} fs_row;

struct tr_featstream {
    size_t n;    /* bars pushed */
    size_t keep; /* rows kept */
    int64_t last_t;
    /* rings of the last RING bars, index t & MASK */
    double c[RING], h[RING], l[RING];
    double lr[RING];     /* ln(C_t / C_t-1), from t = 1 */
    double tr[RING];     /* true range, from t = 1 */
    double bp[RING];     /* ULTOSC's buying pressure C - min(L, C_t-1), from t = 1 */
    double tp[RING];     /* typical price (H + L + C) / 3 */
    double fk[RING];     /* fast %K, from t = 13 */
    double sk[RING];     /* slow %K, from t = 15 */
    fs_ema ema12, ema26; /* the features' EMAs; ema26 is also MACD's slow EMA */
    fs_ema macd_fast, macd_sig;
    fs_ema trix1, trix2, trix3;
    double trix_prev;                             /* the triple EMA at t - 1 */
    double rsi_gain, rsi_loss;                    /* Wilder averages, sums until t = 14 */
    double atr;                                   /* ATR, the sum of true ranges until t = 14 */
    double dm_plus, dm_minus, dm_tr, sum_dx, adx; /* ta_dmi's pdm, mdm, tr, sum_dx, prev_adx */
    fs_row rows[];                                /* (keep) ring of rows, index t % keep */
};

static void ema_init(fs_ema *e, size_t start, int p)
{
    e->start = start;
    e->p = p;
    e->k = 2.0 / (p + 1);
    e->sum = 0;
    e->prev = NAN;
}

/* The EMA at bar t whose input is x (ta_ema's loop body); NaN before its first value. */
static double ema_push(fs_ema *e, size_t t, double x)
{
    size_t first = e->start + (size_t)e->p - 1;
    if (t < e->start)
        return NAN;
    if (t <= first) {
        e->sum += x;
        if (t < first)
            return NAN;
        e->prev = e->sum / e->p;
        return e->prev;
    }
    e->prev = (x - e->prev) * e->k + e->prev;
    return e->prev;
}

/* ta_sma over the ring r at bar t (t >= p - 1 from the input's start). */
static double ring_sma(const double *r, size_t t, int p)
{
    double s = 0;
    for (int i = 0; i < p; i++)
        s += r[(t - (size_t)i) & MASK];
    return s / p;
}

/* ta_stddev over the ring r at bar t: two passes, population divisor. */
static double ring_stddev(const double *r, size_t t, int p)
{
    double s = 0, ss = 0;
    for (int i = 0; i < p; i++)
        s += r[(t - (size_t)i) & MASK];
    double mean = s / p;
    for (int i = 0; i < p; i++) {
        double d = r[(t - (size_t)i) & MASK] - mean;
        ss += d * d;
    }
    return sqrt(ss / p);
}

/* ta.c's hh_ll: highest high and lowest low of bars t-p+1..t, in the same order. */
static void ring_hh_ll(const tr_featstream *fs, size_t t, int p, double *hh, double *ll)
{
    double hi = fs->h[t & MASK], lo = fs->l[t & MASK];
    for (int i = 1; i < p; i++) {
        size_t j = (t - (size_t)i) & MASK;
        if (fs->h[j] > hi)
            hi = fs->h[j];
        if (fs->l[j] < lo)
            lo = fs->l[j];
    }
    *hh = hi;
    *ll = lo;
}

static double true_range(double h, double l, double prev_close)
{
    double hi = h > prev_close ? h : prev_close;
    double lo = l < prev_close ? l : prev_close;
    return hi - lo;
}

tr_code tr_featstream_new(size_t keep_rows, tr_featstream **out, tr_error *err)
{
    *out = NULL;
    if (keep_rows == 0)
        return tr_fail(err, TR_ERR_INVALID, "a feature stream must keep at least 1 row");
    if (keep_rows > (SIZE_MAX - sizeof(tr_featstream)) / sizeof(fs_row))
        return tr_fail(err, TR_ERR_INVALID, "a feature stream cannot keep %zu rows", keep_rows);
    tr_featstream *fs = malloc(sizeof(tr_featstream) + keep_rows * sizeof(fs_row));
    if (!fs)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory for a feature stream of %zu rows",
                       keep_rows);
    memset(fs, 0, sizeof *fs);
    fs->keep = keep_rows;
    fs->last_t = INT64_MIN;
    ema_init(&fs->ema12, 0, 12);
    ema_init(&fs->ema26, 0, 26);
    /* ta_macd: the fast EMA seeded on bars 14..25, the signal on the line's values 25..33 */
    ema_init(&fs->macd_fast, 26 - 12, 12);
    ema_init(&fs->macd_sig, 26 - 1, 9);
    /* ta_trix: each EMA seeded on the first 30 values of the previous one */
    ema_init(&fs->trix1, 0, 30);
    ema_init(&fs->trix2, 29, 30);
    ema_init(&fs->trix3, 2 * 29, 30);
    fs->trix_prev = NAN;
    *out = fs;
    return TR_OK;
}

void tr_featstream_free(tr_featstream *fs)
{
    free(fs);
}

tr_featstream *tr_featstream_clone(const tr_featstream *fs)
{
    size_t size = sizeof(tr_featstream) + fs->keep * sizeof(fs_row);
    tr_featstream *c = malloc(size);
    if (c)
        memcpy(c, fs, size);
    return c;
}

size_t tr_featstream_count(const tr_featstream *fs)
{
    return fs->n;
}

int64_t tr_featstream_last_time(const tr_featstream *fs)
{
    return fs->last_t;
}

/* ta_rsi's loop body at bar t >= 1; the RSI from t = p on, NaN before. */
static double rsi_push(tr_featstream *fs, size_t t, int p)
{
    double c = fs->c[t & MASK], d = c - fs->c[(t - 1) & MASK];
    if (t < (size_t)p) {
        if (d < 0)
            fs->rsi_loss -= d;
        else
            fs->rsi_gain += d;
        return NAN;
    }
    if (t == (size_t)p) {
        if (d < 0)
            fs->rsi_loss -= d;
        else
            fs->rsi_gain += d;
        fs->rsi_gain /= p;
        fs->rsi_loss /= p;
    } else {
        fs->rsi_gain *= p - 1;
        fs->rsi_loss *= p - 1;
        if (d < 0)
            fs->rsi_loss -= d;
        else
            fs->rsi_gain += d;
        fs->rsi_gain /= p;
        fs->rsi_loss /= p;
    }
    double g = fs->rsi_gain, lo = fs->rsi_loss;
    return IS_ZERO_REL(g + lo, c) ? 0.0 : 100.0 * (g / (g + lo));
}

/* ta_atr at bar t >= 1; NaN before t = p. */
static double atr_push(tr_featstream *fs, size_t t, int p)
{
    double range = fs->tr[t & MASK];
    if (t < (size_t)p) {
        fs->atr += range;
        return NAN;
    }
    if (t == (size_t)p) {
        fs->atr += range;
        fs->atr /= p;
        return fs->atr;
    }
    fs->atr *= p - 1;
    fs->atr += range;
    fs->atr /= p;
    return fs->atr;
}

/* ta_dmi's loop body at bar t >= 1: +DI and -DI from t = p, ADX from t = 2p - 1, NaN before. */
static void dmi_push(tr_featstream *fs, size_t t, int p, double *adx, double *pdi, double *mdi)
{
    size_t i = t & MASK, j = (t - 1) & MASK;
    double up = fs->h[i] - fs->h[j], down = fs->l[j] - fs->l[i];
    double plus = (up > 0 && up > down) ? up : 0.0;
    double minus = (down > 0 && down > up) ? down : 0.0;
    double range = fs->tr[i];
    *adx = *pdi = *mdi = NAN;
    if (t < (size_t)p) {
        fs->dm_plus += plus;
        fs->dm_minus += minus;
        fs->dm_tr += range;
        return;
    }
    fs->dm_plus = fs->dm_plus - fs->dm_plus / p + plus;
    fs->dm_minus = fs->dm_minus - fs->dm_minus / p + minus;
    fs->dm_tr = fs->dm_tr - fs->dm_tr / p + range;
    double dp = 0, dm = 0, dx = 0;
    int have_dx = 0;
    if (!IS_ZERO_REL(fs->dm_tr, fs->c[i])) {
        dp = 100.0 * (fs->dm_plus / fs->dm_tr);
        dm = 100.0 * (fs->dm_minus / fs->dm_tr);
        if (!IS_ZERO(dp + dm)) {
            dx = 100.0 * (fabs(dm - dp) / (dm + dp));
            have_dx = 1;
        }
    }
    *pdi = dp;
    *mdi = dm;
    if (t < 2 * (size_t)p - 1) {
        fs->sum_dx += dx;
    } else if (t == 2 * (size_t)p - 1) {
        fs->sum_dx += dx;
        fs->adx = fs->sum_dx / p;
        *adx = fs->adx;
    } else {
        if (have_dx)
            fs->adx = (fs->adx * (p - 1) + dx) / p;
        *adx = fs->adx;
    }
}

/* ta_cci at bar t >= p - 1. */
static double cci_at(const tr_featstream *fs, size_t t, int p)
{
    double mean = 0, md = 0;
    for (int i = 0; i < p; i++)
        mean += fs->tp[(t - (size_t)i) & MASK];
    mean /= p;
    for (int i = 0; i < p; i++)
        md += fabs(fs->tp[(t - (size_t)i) & MASK] - mean);
    double num = fs->tp[t & MASK] - mean;
    return (num != 0.0 && md / p > 1e-12 * fabs(mean)) ? num / (0.015 * (md / p)) : 0.0;
}

/* ta_ultosc(7, 14, 28) at bar t >= 28. */
static double ultosc_at(const tr_featstream *fs, size_t t)
{
    const int per[3] = {7, 14, 28};
    const double wt[3] = {4.0, 2.0, 1.0};
    double acc = 0;
    for (int k = 0; k < 3; k++) {
        double bp = 0, tr = 0;
        for (int i = 0; i < per[k]; i++) {
            size_t j = (t - (size_t)i) & MASK;
            bp += fs->bp[j];
            tr += fs->tr[j];
        }
        if (!IS_ZERO_REL(tr, fs->c[t & MASK]))
            acc += wt[k] * (bp / tr);
    }
    return 100.0 * (acc / 7.0);
}

/* ta_aroonosc at bar t >= p: bars t-p..t, the latest index on ties. */
static double aroonosc_at(const tr_featstream *fs, size_t t, int p)
{
    size_t hi = t - (size_t)p, lo = hi;
    for (size_t j = t - (size_t)p + 1; j <= t; j++) {
        if (fs->h[j & MASK] >= fs->h[hi & MASK])
            hi = j;
        if (fs->l[j & MASK] <= fs->l[lo & MASK])
            lo = j;
    }
    return (100.0 / p) * ((double)hi - (double)lo);
}

/* ta_linreg_slope at bar t >= p - 1. */
static double slope_at(const tr_featstream *fs, size_t t, int p)
{
    double sum_x = p * (p - 1) * 0.5;
    double sum_x2 = p * (p - 1) * (2.0 * p - 1) / 6.0;
    double divisor = sum_x * sum_x - p * sum_x2;
    double sxy = 0, sy = 0;
    for (int i = 0; i < p; i++) {
        double v = fs->c[(t - (size_t)i) & MASK];
        sxy += i * v;
        sy += v;
    }
    return (p * sxy - sum_x * sy) / divisor;
}

tr_code tr_featstream_push(tr_featstream *fs, const tr_bar *bar, double *row, tr_error *err)
{
    const double two_pi = 6.283185307179586476925286766559;
    char a[32];
    if (!bar)
        return tr_fail(err, TR_ERR_INVALID, "no bar to push");
    if (fs->n > 0 && bar->t <= fs->last_t) {
        char b[32];
        return tr_fail(
            err, TR_ERR_INVALID, "bar at %s pushed after the bar at %s: times must increase",
            tr_time_format(bar->t, a, sizeof a), tr_time_format(fs->last_t, b, sizeof b));
    }
    const char *why = tr_bar_invalid(bar);
    if (why)
        return tr_fail(err, TR_ERR_DATA, "bar at %s: %s", tr_time_format(bar->t, a, sizeof a), why);

    const size_t t = fs->n, i = t & MASK;
    const double C = bar->close;
    fs->c[i] = C;
    fs->h[i] = bar->high;
    fs->l[i] = bar->low;
    fs->tp[i] = (bar->high + bar->low + C) / 3.0;
    if (t > 0) {
        size_t j = (t - 1) & MASK;
        fs->lr[i] = log(C / fs->c[j]);
        fs->tr[i] = true_range(bar->high, bar->low, fs->c[j]);
        double tl = bar->low < fs->c[j] ? bar->low : fs->c[j];
        fs->bp[i] = C - tl;
    } else {
        fs->lr[i] = fs->tr[i] = fs->bp[i] = NAN;
    }

    /* the recursive indicators, every bar */
    double ema12 = ema_push(&fs->ema12, t, C), ema26 = ema_push(&fs->ema26, t, C);
    double fast = ema_push(&fs->macd_fast, t, C);
    double macd = t >= 25 ? fast - ema26 : NAN;
    double msig = ema_push(&fs->macd_sig, t, macd);
    double e3 = ema_push(&fs->trix3, t, ema_push(&fs->trix2, t, ema_push(&fs->trix1, t, C)));
    double trix = t >= 3 * 29 + 1 ? (e3 / fs->trix_prev - 1.0) * 100.0 : NAN;
    fs->trix_prev = e3;
    double rsi = NAN, atr = NAN, adx = NAN, pdi = NAN, mdi = NAN;
    if (t >= 1) {
        rsi = rsi_push(fs, t, 14);
        atr = atr_push(fs, t, 14);
        dmi_push(fs, t, 14, &adx, &pdi, &mdi);
    }
    /* the stochastic's chain: fast %K (14), slow %K = SMA3 of it, %D = SMA3 of slow %K */
    if (t >= 13) {
        double hh, ll;
        ring_hh_ll(fs, t, 14, &hh, &ll);
        double diff = (hh - ll) / 100.0;
        fs->fk[i] = diff != 0.0 ? (C - ll) / diff : 0.0;
    }
    if (t >= 15)
        fs->sk[i] = ring_sma(fs->fk, t, 3);

    fs_row *r = &fs->rows[t % fs->keep];
    r->t = bar->t;
    double *v = r->v;
    if (t < TR_FEATURE_WARMUP) {
        for (int f = 0; f < TR_N_FEATURES; f++)
            v[f] = NAN;
    } else {
        double sma20 = ring_sma(fs->c, t, 20), sma50 = ring_sma(fs->c, t, 50);
        double sma200 = ring_sma(fs->c, t, 200), sd20 = ring_stddev(fs->c, t, 20);
        double rng = bar->high - bar->low, hh, ll;
        v[0] = fs->lr[i];
        v[1] = C / fs->c[(t - 4) & MASK] - 1.0;
        v[2] = C / fs->c[(t - 16) & MASK] - 1.0;
        v[3] = C / fs->c[(t - 96) & MASK] - 1.0;
        v[4] = rng / C;
        v[5] = rng > 0 ? (C - bar->open) / rng : 0.0;
        v[6] = C / sma20 - 1.0;
        v[7] = C / sma50 - 1.0;
        v[8] = C / sma200 - 1.0;
        v[9] = C / ema12 - 1.0;
        v[10] = C / ema26 - 1.0;
        v[11] = ema12 / ema26 - 1.0;
        v[12] = sma20 / sma50 - 1.0;
        v[13] = slope_at(fs, t, 14) / C;
        v[14] = rsi;
        v[15] = macd / C;
        v[16] = msig / C;
        v[17] = (macd - msig) / C;
        v[18] = fs->sk[i];
        v[19] = ring_sma(fs->sk, t, 3);
        ring_hh_ll(fs, t, 14, &hh, &ll);
        double diff = (hh - ll) / -100.0;
        v[20] = (diff != 0.0 ? (hh - C) / diff : 0.0) + 0.0; /* -0 prints as 0 */
        v[21] = cci_at(fs, t, 14);
        v[22] = trix;
        v[23] = ultosc_at(fs, t);
        v[24] = adx;
        v[25] = pdi;
        v[26] = mdi;
        v[27] = aroonosc_at(fs, t, 14);
        v[28] = 100.0 * atr / C;
        double width = 4.0 * sd20; /* featureset.c's bands */
        v[29] = width > 1e-12 * sma20 ? (C - (sma20 - 2.0 * sd20)) / width : 0.5;
        v[30] = width / sma20;
        v[31] = ring_stddev(fs->lr, t, 20);
        v[32] = ring_stddev(fs->lr, t, 96);
        double trsma = ring_sma(fs->tr, t, 96);
        v[33] = trsma > 0 ? atr / trsma : 1.0;
        int64_t sec = bar->t % 86400;
        if (sec < 0)
            sec += 86400;
        double tod = two_pi * (double)(sec / 60) / 1440.0;
        double dow = two_pi * tr_weekday(bar->t) / 7.0;
        v[34] = sin(tod);
        v[35] = cos(tod);
        v[36] = sin(dow);
        v[37] = cos(dow);
    }
    if (row)
        memcpy(row, v, sizeof r->v);
    fs->n = t + 1;
    fs->last_t = bar->t;
    return TR_OK;
}

tr_code tr_featstream_window(const tr_featstream *fs, size_t T, float *x, tr_error *err)
{
    if (!x || T == 0 || T > fs->keep)
        return tr_fail(err, TR_ERR_INVALID,
                       "a window of %zu rows from a feature stream that keeps %zu (1..%zu)", T,
                       fs->keep, fs->keep);
    size_t ready = fs->n > TR_FEATURE_WARMUP ? fs->n - TR_FEATURE_WARMUP : 0;
    if (T > ready)
        return tr_fail(err, TR_ERR_NOTFOUND,
                       "a window of %zu rows needs %zu bars (%d of warm-up); the stream has %zu", T,
                       (size_t)TR_FEATURE_WARMUP + T, TR_FEATURE_WARMUP, fs->n);
    for (size_t k = 0; k < T; k++) {
        const fs_row *r = &fs->rows[(fs->n - T + k) % fs->keep];
        for (int f = 0; f < TR_N_FEATURES; f++) {
            double v = r->v[f];
            if (!isfinite(v)) {
                char a[32];
                return tr_fail(err, TR_ERR_DATA, "feature %s is not finite (%g) at %s",
                               tr_feature_names[f], v, tr_time_format(r->t, a, sizeof a));
            }
            x[k * TR_N_FEATURES + (size_t)f] = (float)v;
        }
    }
    return TR_OK;
}
