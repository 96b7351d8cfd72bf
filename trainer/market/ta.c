/*
 * ta.c - the indicators of ta.h. Windowed sums are recomputed for every bar rather than kept as
 * running sums, so a value at t is bit-for-bit the same whatever the series' first bar is (only
 * the recursive EMA and Wilder families remember the seed; their weight decays geometrically).
 * "Zero" tests follow TA-Lib where it uses TA_IS_ZERO (RSI, DI, ADX, ULTOSC) and compare exactly
 * elsewhere (STOCH, WILLR, CCI), but scale-free: TA-Lib 0.4.0's TA_IS_ZERO is the absolute
 * |v| < 1e-8, which makes RSI depend on the price scale (a pair quoted near 0.01 reaches 1e-8
 * after a few quiet bars). A price-valued quantity (RSI's average move, a sum of true ranges)
 * counts as zero when |v| < 1e-8 |close| (TA-Lib 0.4.0's threshold at a price of 1);
 * percentages (DI+ + DI-) are scale-free already and keep the absolute 1e-8.
 */
#include "market/ta.h"

#include <math.h>

#define IS_ZERO(v) ((v) > -1e-8 && (v) < 1e-8)
/* v, a price-valued quantity, is zero relative to the price ref */
#define IS_ZERO_REL(v, ref) (fabs(v) < 1e-8 * fabs(ref))

static void fill_nan(size_t n, double *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = NAN;
}

void ta_sma(size_t n, const double *x, size_t start, int p, double *out)
{
    fill_nan(n, out);
    for (size_t t = start + (size_t)p - 1; t < n; t++) {
        double s = 0;
        for (int i = 0; i < p; i++)
            s += x[t - (size_t)i];
        out[t] = s / p;
    }
}

void ta_ema(size_t n, const double *x, size_t start, int p, double *out)
{
    fill_nan(n, out);
    size_t first = start + (size_t)p - 1;
    if (first >= n)
        return;
    double k = 2.0 / (p + 1), s = 0;
    for (size_t i = start; i <= first; i++)
        s += x[i];
    double prev = s / p;
    out[first] = prev;
    for (size_t t = first + 1; t < n; t++) {
        prev = (x[t] - prev) * k + prev;
        out[t] = prev;
    }
}

void ta_stddev(size_t n, const double *x, size_t start, int p, double *out)
{
    fill_nan(n, out);
    for (size_t t = start + (size_t)p - 1; t < n; t++) {
        double s = 0, ss = 0;
        for (int i = 0; i < p; i++)
            s += x[t - (size_t)i];
        double mean = s / p;
        for (int i = 0; i < p; i++) {
            double d = x[t - (size_t)i] - mean;
            ss += d * d;
        }
        out[t] = sqrt(ss / p);
    }
}

static double true_range(double h, double l, double prev_close)
{
    double hi = h > prev_close ? h : prev_close;
    double lo = l < prev_close ? l : prev_close;
    return hi - lo;
}

void ta_trange(size_t n, const double *h, const double *l, const double *c, double *out)
{
    fill_nan(n, out);
    for (size_t t = 1; t < n; t++)
        out[t] = true_range(h[t], l[t], c[t - 1]);
}

void ta_atr(size_t n, const double *h, const double *l, const double *c, int p, double *out)
{
    fill_nan(n, out);
    if ((size_t)p >= n)
        return;
    double prev = 0;
    for (size_t t = 1; t <= (size_t)p; t++)
        prev += true_range(h[t], l[t], c[t - 1]);
    prev /= p;
    out[p] = prev;
    for (size_t t = (size_t)p + 1; t < n; t++) {
        prev *= p - 1;
        prev += true_range(h[t], l[t], c[t - 1]);
        prev /= p;
        out[t] = prev;
    }
}

void ta_rsi(size_t n, const double *c, int p, double *out)
{
    fill_nan(n, out);
    if ((size_t)p >= n)
        return;
    double gain = 0, loss = 0;
    for (size_t t = 1; t <= (size_t)p; t++) {
        double d = c[t] - c[t - 1];
        if (d < 0)
            loss -= d;
        else
            gain += d;
    }
    gain /= p;
    loss /= p;
    out[p] = IS_ZERO_REL(gain + loss, c[p]) ? 0.0 : 100.0 * (gain / (gain + loss));
    for (size_t t = (size_t)p + 1; t < n; t++) {
        double d = c[t] - c[t - 1];
        gain *= p - 1;
        loss *= p - 1;
        if (d < 0)
            loss -= d;
        else
            gain += d;
        gain /= p;
        loss /= p;
        out[t] = IS_ZERO_REL(gain + loss, c[t]) ? 0.0 : 100.0 * (gain / (gain + loss));
    }
}

void ta_macd(size_t n, const double *c, int fast, int slow, int signal, double *macd, double *sig,
             double *hist, double *work)
{
    double *ef = work, *es = work + n;
    ta_ema(n, c, (size_t)(slow - fast), fast, ef);
    ta_ema(n, c, 0, slow, es);
    size_t line0 = (size_t)slow - 1, first = line0 + (size_t)signal - 1;
    fill_nan(n, macd);
    for (size_t t = line0; t < n; t++)
        macd[t] = ef[t] - es[t];
    ta_ema(n, macd, line0, signal, sig);
    fill_nan(n, hist);
    for (size_t t = 0; t < n; t++) {
        if (t < first) {
            macd[t] = sig[t] = NAN;
        } else {
            hist[t] = macd[t] - sig[t];
        }
    }
}

/* Highest high and lowest low of bars t-p+1..t. */
static void hh_ll(const double *h, const double *l, size_t t, int p, double *hh, double *ll)
{
    double hi = h[t], lo = l[t];
    for (int i = 1; i < p; i++) {
        if (h[t - (size_t)i] > hi)
            hi = h[t - (size_t)i];
        if (l[t - (size_t)i] < lo)
            lo = l[t - (size_t)i];
    }
    *hh = hi;
    *ll = lo;
}

void ta_stoch(size_t n, const double *h, const double *l, const double *c, int fastk, int slowk,
              int slowd, double *k, double *d, double *work)
{
    double *fk = work;
    fill_nan(n, fk);
    for (size_t t = (size_t)fastk - 1; t < n; t++) {
        double hh, ll;
        hh_ll(h, l, t, fastk, &hh, &ll);
        double diff = (hh - ll) / 100.0;
        fk[t] = diff != 0.0 ? (c[t] - ll) / diff : 0.0;
    }
    ta_sma(n, fk, (size_t)fastk - 1, slowk, k);
    ta_sma(n, k, (size_t)(fastk + slowk) - 2, slowd, d);
    for (size_t t = 0; t < n && t < (size_t)(fastk + slowk + slowd) - 3; t++)
        k[t] = NAN;
}

void ta_willr(size_t n, const double *h, const double *l, const double *c, int p, double *out)
{
    fill_nan(n, out);
    for (size_t t = (size_t)p - 1; t < n; t++) {
        double hh, ll;
        hh_ll(h, l, t, p, &hh, &ll);
        double diff = (hh - ll) / -100.0;
        out[t] = diff != 0.0 ? (hh - c[t]) / diff : 0.0;
    }
}

void ta_cci(size_t n, const double *h, const double *l, const double *c, int p, double *out)
{
    fill_nan(n, out);
    for (size_t t = (size_t)p - 1; t < n; t++) {
        double mean = 0, md = 0;
        for (int i = 0; i < p; i++) {
            size_t j = t - (size_t)i;
            mean += (h[j] + l[j] + c[j]) / 3.0;
        }
        mean /= p;
        for (int i = 0; i < p; i++) {
            size_t j = t - (size_t)i;
            md += fabs((h[j] + l[j] + c[j]) / 3.0 - mean);
        }
        double num = (h[t] + l[t] + c[t]) / 3.0 - mean;
        /* TA-Lib tests md != 0; on a flat window rounding leaves md a few ulps above 0 and the
         * ratio is noise, so a mean deviation below 1e-12 of the price counts as 0. */
        out[t] = (num != 0.0 && md / p > 1e-12 * fabs(mean)) ? num / (0.015 * (md / p)) : 0.0;
    }
}

void ta_trix(size_t n, const double *c, int p, double *out, double *work)
{
    double *e1 = work, *e2 = work + n;
    size_t lb = (size_t)p - 1;
    ta_ema(n, c, 0, p, e1);
    ta_ema(n, e1, lb, p, e2);
    ta_ema(n, e2, 2 * lb, p, e1); /* e1 now holds the triple EMA, valid from 3(p-1) */
    fill_nan(n, out);
    for (size_t t = 3 * lb + 1; t < n; t++)
        out[t] = (e1[t] / e1[t - 1] - 1.0) * 100.0;
}

void ta_ultosc(size_t n, const double *h, const double *l, const double *c, int p1, int p2, int p3,
               double *out)
{
    fill_nan(n, out);
    const int per[3] = {p1, p2, p3};
    const double wt[3] = {4.0, 2.0, 1.0};
    for (size_t t = (size_t)p3; t < n; t++) {
        double acc = 0;
        for (int k = 0; k < 3; k++) {
            double bp = 0, tr = 0;
            for (int i = 0; i < per[k]; i++) {
                size_t j = t - (size_t)i;
                double tl = l[j] < c[j - 1] ? l[j] : c[j - 1];
                bp += c[j] - tl;
                tr += true_range(h[j], l[j], c[j - 1]);
            }
            if (!IS_ZERO_REL(tr, c[t]))
                acc += wt[k] * (bp / tr);
        }
        out[t] = 100.0 * (acc / 7.0);
    }
}

void ta_dmi(size_t n, const double *h, const double *l, const double *c, int p, double *adx,
            double *pdi, double *mdi)
{
    if (adx)
        fill_nan(n, adx);
    if (pdi)
        fill_nan(n, pdi);
    if (mdi)
        fill_nan(n, mdi);
    if ((size_t)p >= n)
        return;
    double pdm = 0, mdm = 0, tr = 0, sum_dx = 0, prev_adx = 0;
    for (size_t t = 1; t < n; t++) {
        double up = h[t] - h[t - 1], down = l[t - 1] - l[t];
        double plus = (up > 0 && up > down) ? up : 0.0;
        double minus = (down > 0 && down > up) ? down : 0.0;
        double range = true_range(h[t], l[t], c[t - 1]);
        if (t < (size_t)p) { /* the seed: plain sums over bars 1..p-1 */
            pdm += plus;
            mdm += minus;
            tr += range;
            continue;
        }
        pdm = pdm - pdm / p + plus;
        mdm = mdm - mdm / p + minus;
        tr = tr - tr / p + range;
        double dp = 0, dm = 0, dx = 0;
        int have_dx = 0;
        if (!IS_ZERO_REL(tr, c[t])) {
            dp = 100.0 * (pdm / tr);
            dm = 100.0 * (mdm / tr);
            if (!IS_ZERO(dp + dm)) {
                dx = 100.0 * (fabs(dm - dp) / (dm + dp));
                have_dx = 1;
            }
        }
        if (pdi)
            pdi[t] = dp;
        if (mdi)
            mdi[t] = dm;
        if (t < 2 * (size_t)p - 1) {
            sum_dx += dx;
        } else if (t == 2 * (size_t)p - 1) {
            sum_dx += dx;
            prev_adx = sum_dx / p;
            if (adx)
                adx[t] = prev_adx;
        } else {
            if (have_dx)
                prev_adx = (prev_adx * (p - 1) + dx) / p;
            if (adx)
                adx[t] = prev_adx;
        }
    }
}

void ta_aroonosc(size_t n, const double *h, const double *l, int p, double *out)
{
    fill_nan(n, out);
    for (size_t t = (size_t)p; t < n; t++) {
        size_t hi = t - (size_t)p, lo = hi;
        for (size_t j = t - (size_t)p + 1; j <= t; j++) {
            if (h[j] >= h[hi])
                hi = j;
            if (l[j] <= l[lo])
                lo = j;
        }
        out[t] = (100.0 / p) * ((double)hi - (double)lo);
    }
}

void ta_linreg_slope(size_t n, const double *x, int p, double *out)
{
    fill_nan(n, out);
    double sum_x = p * (p - 1) * 0.5;
    double sum_x2 = p * (p - 1) * (2.0 * p - 1) / 6.0;
    double divisor = sum_x * sum_x - p * sum_x2;
    for (size_t t = (size_t)p - 1; t < n; t++) {
        double sxy = 0, sy = 0;
        for (int i = 0; i < p; i++) {
            double v = x[t - (size_t)i];
            sxy += i * v;
            sy += v;
        }
        out[t] = (p * sxy - sum_x * sy) / divisor;
    }
}
