/*
 * ta.h - technical indicators with TA-Lib's definitions (TA_COMPATIBILITY_DEFAULT, unstable
 * period 0), written from those definitions (docs/features.md cites each one).
 *
 * Every function reads input arrays of n values and writes an output array of n values aligned
 * with the input: out[t] is the indicator at bar t, NaN where TA-Lib would not output a value
 * (t below the lookback, counted from the first valid input `start` where there is one). So
 * out[t] depends on inputs at indices <= t only. Scratch arrays ("work") are borrowed for the
 * call. No function allocates, fails or keeps state.
 */
#ifndef AIFXT_TA_H
#define AIFXT_TA_H

#include <stddef.h>

/* Simple moving average of x[start..]: out[t] = mean(x[t-p+1..t]) for t >= start+p-1. */
void ta_sma(size_t n, const double *x, size_t start, int p, double *out);

/* Exponential moving average, k = 2/(p+1), seeded with the SMA of x[start..start+p-1] at
 * t = start+p-1, then out[t] = out[t-1] + k (x[t] - out[t-1]). */
void ta_ema(size_t n, const double *x, size_t start, int p, double *out);

/* Population standard deviation (divisor p) of x[t-p+1..t] for t >= start+p-1, two-pass. */
void ta_stddev(size_t n, const double *x, size_t start, int p, double *out);

/* True range max(h, c[t-1]) - min(l, c[t-1]) for t >= 1 (TRANGE). */
void ta_trange(size_t n, const double *h, const double *l, const double *c, double *out);

/* ATR: the first value at t = p is the mean of TR[1..p]; then (prev (p-1) + TR) / p. */
void ta_atr(size_t n, const double *h, const double *l, const double *c, int p, double *out);

/* RSI with Wilder smoothing: first average gain/loss over the changes of bars 1..p (out at p). */
void ta_rsi(size_t n, const double *c, int p, double *out);

/* MACD(fast, slow, signal) with TA-Lib's alignment: the slow EMA is seeded on bars 0..slow-1,
 * the fast EMA on bars slow-fast..slow-1 (so both seeds end at the same bar), the signal EMA on
 * the MACD line's first `signal` values. All three outputs start at slow-1 + signal-1.
 * work: (2n). */
void ta_macd(size_t n, const double *c, int fast, int slow, int signal, double *macd, double *sig,
             double *hist, double *work);

/* Slow stochastic (STOCH with SMA smoothing): fast %K over fastk bars, slow %K = SMA(slowk) of
 * fast %K, slow %D = SMA(slowd) of slow %K. A zero high-low range gives fast %K 0. work: (n). */
void ta_stoch(size_t n, const double *h, const double *l, const double *c, int fastk, int slowk,
              int slowd, double *k, double *d, double *work);

/* Williams %R over p bars: -100 (HH - c) / (HH - LL); 0 on a zero range. */
void ta_willr(size_t n, const double *h, const double *l, const double *c, int p, double *out);

/* CCI over p bars of the typical price (h+l+c)/3: (tp - mean) / (0.015 mean |tp - mean|);
 * 0 when the numerator is 0 or the mean deviation is below 1e-12 of the mean (a flat window). */
void ta_cci(size_t n, const double *h, const double *l, const double *c, int p, double *out);

/* TRIX: 100 x the one-bar rate of change of EMA(EMA(EMA(c, p), p), p). Lookback 3(p-1)+1.
 * work: (2n). */
void ta_trix(size_t n, const double *c, int p, double *out, double *work);

/* Ultimate oscillator over p1 < p2 < p3 bars of buying pressure c - min(l, c[t-1]) and true
 * range: 100 (4 a1 + 2 a2 + a3) / 7 with a = sum(bp) / sum(tr). Lookback p3. */
void ta_ultosc(size_t n, const double *h, const double *l, const double *c, int p1, int p2, int p3,
               double *out);

/* +DI, -DI (from t = p) and ADX (from t = 2p-1), Wilder's directional movement as TA-Lib
 * computes it. Any output may be NULL. */
void ta_dmi(size_t n, const double *h, const double *l, const double *c, int p, double *adx,
            double *pdi, double *mdi);

/* Aroon oscillator over the p+1 bars t-p..t: (100/p) (index of the highest high - index of the
 * lowest low), the latest index on ties. */
void ta_aroonosc(size_t n, const double *h, const double *l, int p, double *out);

/* Least-squares slope per bar of x[t-p+1..t] against 0..p-1 (LINEARREG_SLOPE). */
void ta_linreg_slope(size_t n, const double *x, int p, double *out);

#endif
