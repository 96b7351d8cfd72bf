/*
 * featureset.c - the 38-feature row per bar (see featureset.h and docs/features.md). Named so
 * that its header does not shadow the C library's <features.h>.
 *
 *   #   name          formula (C close, O open, H high, L low; indicators from ta.c)
 *   0   logret_1      ln(C_t / C_t-1)
 *   1   ret_4         C_t / C_t-4 - 1                      (ROCP 4)
 *   2   ret_16        C_t / C_t-16 - 1                     (ROCP 16)
 *   3   ret_96        C_t / C_t-96 - 1                     (ROCP 96)
 *   4   range         (H - L) / C
 *   5   bop           (C - O) / (H - L), 0 if H = L        (BOP)
 *   6   c_sma20       C / SMA(C,20) - 1
 *   7   c_sma50       C / SMA(C,50) - 1
 *   8   c_sma200      C / SMA(C,200) - 1
 *   9   c_ema12       C / EMA(C,12) - 1
 *   10  c_ema26       C / EMA(C,26) - 1
 *   11  ema12_ema26   EMA(C,12) / EMA(C,26) - 1
 *   12  sma20_sma50   SMA(C,20) / SMA(C,50) - 1
 *   13  slope14       LINEARREG_SLOPE(C,14) / C
 *   14  rsi14         RSI(C,14)
 *   15  macd          MACD(12,26,9) line / C
 *   16  macd_signal   MACD signal / C
 *   17  macd_hist     MACD histogram / C
 *   18  stoch_k       STOCH(14,3,SMA,3,SMA) slow %K
 *   19  stoch_d       slow %D
 *   20  willr14       WILLR(14)
 *   21  cci14         CCI(14)
 *   22  trix30        TRIX(30)
 *   23  ultosc        ULTOSC(7,14,28)
 *   24  adx14         ADX(14)
 *   25  plus_di14     PLUS_DI(14)
 *   26  minus_di14    MINUS_DI(14)
 *   27  aroonosc14    AROONOSC(14)
 *   28  natr14        100 ATR(14) / C                      (NATR)
 *   29  bb_pctb       (C - lower) / (upper - lower), BBANDS(20, 2, 2, SMA); 0.5 if flat
 *   30  bb_width      (upper - lower) / middle
 *   31  vol20         STDDEV(logret_1, 20)
 *   32  vol96         STDDEV(logret_1, 96)
 *   33  atr_ratio     ATR(14) / SMA(TRANGE, 96)
 *   34  tod_sin       sin(2 pi minute_of_day / 1440), UTC
 *   35  tod_cos       cos(...)
 *   36  dow_sin       sin(2 pi weekday / 7), Monday = 0 ... Sunday = 6, UTC
 *   37  dow_cos       cos(...)
 */
#include "market/featureset.h"

#include <math.h>
#include <stdlib.h>

#include "base/timeutil.h"
#include "market/ta.h"

const char *const tr_feature_names[TR_N_FEATURES] = {
    "logret_1", "ret_4",    "ret_16",      "ret_96",    "range",       "bop",         "c_sma20",
    "c_sma50",  "c_sma200", "c_ema12",     "c_ema26",   "ema12_ema26", "sma20_sma50", "slope14",
    "rsi14",    "macd",     "macd_signal", "macd_hist", "stoch_k",     "stoch_d",     "willr14",
    "cci14",    "trix30",   "ultosc",      "adx14",     "plus_di14",   "minus_di14",  "aroonosc14",
    "natr14",   "bb_pctb",  "bb_width",    "vol20",     "vol96",       "atr_ratio",   "tod_sin",
    "tod_cos",  "dow_sin",  "dow_cos"};

enum { N_TMP = 32 };

tr_code tr_features_compute(const tr_bar *bars, size_t n, double *out, tr_error *err)
{
    const double two_pi = 6.283185307179586476925286766559;
    if (n == 0)
        return TR_OK;
    double *buf = malloc(sizeof(double) * n * N_TMP);
    if (!buf)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory computing features of %zu bars", n);
    double *a[N_TMP];
    for (int k = 0; k < N_TMP; k++)
        a[k] = buf + (size_t)k * n;
    double *o = a[0], *h = a[1], *l = a[2], *c = a[3], *lr = a[4];
    double *sma20 = a[5], *sma50 = a[6], *sma200 = a[7], *ema12 = a[8], *ema26 = a[9];
    double *slope = a[10], *rsi = a[11], *macd = a[12], *msig = a[13], *mhist = a[14];
    double *sk = a[15], *sd = a[16], *willr = a[17], *cci = a[18], *trix = a[19];
    double *ult = a[20], *adx = a[21], *pdi = a[22], *mdi = a[23], *aroon = a[24];
    double *atr = a[25], *sd20 = a[26], *vol20 = a[27], *vol96 = a[28], *tr = a[29];
    double *trsma = a[30], *work = a[31]; /* (n) scratch of ta_stoch */

    for (size_t t = 0; t < n; t++) {
        o[t] = bars[t].open;
        h[t] = bars[t].high;
        l[t] = bars[t].low;
        c[t] = bars[t].close;
        lr[t] = t > 0 ? log(c[t] / c[t - 1]) : NAN;
    }
    ta_sma(n, c, 0, 20, sma20);
    ta_sma(n, c, 0, 50, sma50);
    ta_sma(n, c, 0, 200, sma200);
    ta_ema(n, c, 0, 12, ema12);
    ta_ema(n, c, 0, 26, ema26);
    ta_linreg_slope(n, c, 14, slope);
    ta_rsi(n, c, 14, rsi);
    {
        /* MACD needs (2n) of scratch: trix and ult are filled later, lend them now. */
        double *w2 = malloc(sizeof(double) * 2 * n);
        if (!w2) {
            free(buf);
            return tr_fail(err, TR_ERR_NOMEM, "out of memory computing features of %zu bars", n);
        }
        ta_macd(n, c, 12, 26, 9, macd, msig, mhist, w2);
        ta_trix(n, c, 30, trix, w2);
        free(w2);
    }
    ta_stoch(n, h, l, c, 14, 3, 3, sk, sd, work);
    ta_willr(n, h, l, c, 14, willr);
    ta_cci(n, h, l, c, 14, cci);
    ta_ultosc(n, h, l, c, 7, 14, 28, ult);
    ta_dmi(n, h, l, c, 14, adx, pdi, mdi);
    ta_aroonosc(n, h, l, 14, aroon);
    ta_atr(n, h, l, c, 14, atr);
    ta_stddev(n, c, 0, 20, sd20);
    ta_stddev(n, lr, 1, 20, vol20);
    ta_stddev(n, lr, 1, 96, vol96);
    ta_trange(n, h, l, c, tr);
    ta_sma(n, tr, 1, 96, trsma);

    for (size_t t = 0; t < n; t++) {
        double *row = out + t * TR_N_FEATURES;
        if (t < TR_FEATURE_WARMUP) {
            for (int f = 0; f < TR_N_FEATURES; f++)
                row[f] = NAN;
            continue;
        }
        double C = c[t], rng = h[t] - l[t];
        row[0] = lr[t];
        row[1] = C / c[t - 4] - 1.0;
        row[2] = C / c[t - 16] - 1.0;
        row[3] = C / c[t - 96] - 1.0;
        row[4] = rng / C;
        row[5] = rng > 0 ? (C - o[t]) / rng : 0.0;
        row[6] = C / sma20[t] - 1.0;
        row[7] = C / sma50[t] - 1.0;
        row[8] = C / sma200[t] - 1.0;
        row[9] = C / ema12[t] - 1.0;
        row[10] = C / ema26[t] - 1.0;
        row[11] = ema12[t] / ema26[t] - 1.0;
        row[12] = sma20[t] / sma50[t] - 1.0;
        row[13] = slope[t] / C;
        row[14] = rsi[t];
        row[15] = macd[t] / C;
        row[16] = msig[t] / C;
        row[17] = mhist[t] / C;
        row[18] = sk[t];
        row[19] = sd[t];
        row[20] = willr[t] + 0.0; /* -0 (close at the high) prints as 0 */
        row[21] = cci[t];
        row[22] = trix[t];
        row[23] = ult[t];
        row[24] = adx[t];
        row[25] = pdi[t];
        row[26] = mdi[t];
        row[27] = aroon[t];
        row[28] = 100.0 * atr[t] / C;
        double width = 4.0 * sd20[t]; /* upper - lower with nbdev 2 */
        /* a flat window's deviation is rounding noise: treat width below 1e-12 of price as 0 */
        row[29] = width > 1e-12 * sma20[t] ? (C - (sma20[t] - 2.0 * sd20[t])) / width : 0.5;
        row[30] = width / sma20[t];
        row[31] = vol20[t];
        row[32] = vol96[t];
        row[33] = trsma[t] > 0 ? atr[t] / trsma[t] : 1.0;
        int64_t sec = bars[t].t % 86400;
        if (sec < 0)
            sec += 86400;
        double tod = two_pi * (double)(sec / 60) / 1440.0;
        double dow = two_pi * tr_weekday(bars[t].t) / 7.0;
        row[34] = sin(tod);
        row[35] = cos(tod);
        row[36] = sin(dow);
        row[37] = cos(dow);
    }
    free(buf);
    return TR_OK;
}
