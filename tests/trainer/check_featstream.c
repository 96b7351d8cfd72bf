/*
 * check_featstream.c - the streaming features (market/featstream.h) against the batch
 * (tr_features_compute) over the same bars: every row bit for bit (memcmp, so -0 against +0 or
 * two NaN encodings would fail too) on synthetic bars, flat bars, gaps in time, the warm-up
 * boundary and the real EUR/USD and USD/JPY 15-minute files (../shared/data, skipped with a
 * message when absent); the refusals (a bar out of order or invalid) leave the stream unchanged;
 * window()'s errors; clone(). And the service's case: a stream started at the first bar of a long
 * history against the batch over only the last 5,000 bars (what prediction computes), which differ
 * only through the recursive indicators' seeds: within SEED_ATOL over the last 20 rows.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../check_main.h"
#include "base/csv.h"
#include "base/timeutil.h"
#include "cycles/cycle.h"
#include "market/featstream.h"
#include "market/synth.h"
#include "testutil.h"

#ifndef AIFX_SHARED_DATA /* defined by aifx_add_check_suite; a fallback for other builds */
#define AIFX_SHARED_DATA "../shared/data"
#endif

#define NF      TR_N_FEATURES
#define JAN1    1704067200             /* 2024-01-01T00:00:00Z, a Monday */
#define HISTORY TR_PREDICT_MAX_HISTORY /* the bars prediction computes features over */
#define WINDOW  20                     /* rows of a model's window */
/* |stream - batch over the last HISTORY bars| over the last WINDOW rows. Measured 0 on both real
 * files at every sampled bar (the seeds' weight after 4,700 bars, below 1e-128 for TRIX's EMAs,
 * the slowest at 29/31 per bar, is far below one ulp, and recursions that agree once stay equal).
 * The bound does not demand 0, which a rounding difference kept alive in a recursion could break,
 * but stays 100 times below what a seed or definition error produces (only the warm-up of
 * context: 2e-7 on ADX). */
#define SEED_ATOL 1e-9

/* The rows of bars[0..n) pushed one by one into a stream keeping keep rows: out (n, NF). The
 * stream is returned for further checks (the caller frees it). */
static tr_featstream *stream_rows(const tr_bar *bars, size_t n, size_t keep, double *out)
{
    tr_featstream *fs;
    tr_error e;
    ck_assert_int_eq(tr_featstream_new(keep, &fs, &e), TR_OK);
    for (size_t t = 0; t < n; t++) {
        ck_assert_msg(tr_featstream_push(fs, &bars[t], out + t * NF, &e) == TR_OK, "bar %zu: %s", t,
                      e.msg);
        ck_assert_uint_eq(tr_featstream_count(fs), t + 1);
        ck_assert_int_eq(tr_featstream_last_time(fs), bars[t].t);
    }
    return fs;
}

/* a and b (n, NF) are the same bytes; a failure names the first feature and bar that differ. */
static void assert_identical(const double *a, const double *b, size_t n, const char *what)
{
    for (size_t t = 0; t < n; t++) {
        if (memcmp(a + t * NF, b + t * NF, NF * sizeof *a) == 0)
            continue;
        for (int f = 0; f < NF; f++) {
            double x = a[t * NF + (size_t)f], y = b[t * NF + (size_t)f];
            ck_assert_msg(memcmp(&x, &y, sizeof x) == 0,
                          "%s: %s at bar %zu: stream %.17g, batch %.17g (diff %.3g)", what,
                          tr_feature_names[f], t, x, y, x - y);
        }
    }
}

/* The window of the last T rows equals the batch's rows converted to float. */
static void assert_window(const tr_featstream *fs, const double *batch, size_t n, size_t T)
{
    float *x = malloc(T * NF * sizeof *x);
    tr_error e;
    ck_assert_msg(tr_featstream_window(fs, T, x, &e) == TR_OK, "%s", e.msg);
    for (size_t i = 0; i < T * NF; i++) {
        float ref = (float)batch[(n - T) * NF + i];
        ck_assert_msg(memcmp(&x[i], &ref, sizeof ref) == 0, "window row %zu %s: %.9g vs %.9g",
                      i / NF, tr_feature_names[i % NF], (double)x[i], (double)ref);
    }
    free(x);
}

/* Pushes and compares every row with the batch, and the window of the last rows. */
static void check_stream(const tr_bar *bars, size_t n, size_t keep, const char *what)
{
    double *f = malloc(n * NF * sizeof *f), *g = malloc(n * NF * sizeof *g);
    tr_error e;
    ck_assert_int_eq(tr_features_compute(bars, n, f, &e), TR_OK);
    tr_featstream *fs = stream_rows(bars, n, keep, g);
    assert_identical(g, f, n, what);
    size_t ready = n > TR_FEATURE_WARMUP ? n - TR_FEATURE_WARMUP : 0;
    size_t T = keep < ready ? keep : ready;
    if (T > 0)
        assert_window(fs, f, n, T);
    tr_featstream_free(fs);
    free(f), free(g);
}

static tr_bars synth(const char *pair, int64_t from, int64_t to, uint64_t seed)
{
    tr_synth_params p = tr_synth_params_default(pair, from, to, seed);
    tr_bars b = {0};
    tr_error e;
    ck_assert_msg(tr_synth_generate(&p, &b, NULL, &e) == TR_OK, "%s", e.msg);
    return b;
}

START_TEST(test_synth_identical)
{
    /* three months of both pairs (weekend closures, regimes, pip rounding: many ties of highs
     * and lows), with rows kept in rings of several sizes, one of them not a power of two */
    static const char *pairs[2] = {"EURUSD", "USDJPY"};
    for (int p = 0; p < 2; p++) {
        tr_bars b = synth(pairs[p], JAN1, JAN1 + 91 * 86400, 17 + (uint64_t)p);
        ck_assert_uint_gt(b.n, 6000);
        check_stream(b.v, b.n, 256, pairs[p]);
        check_stream(b.v, b.n, 1, pairs[p]);
        check_stream(b.v, b.n, 37, pairs[p]);
        tr_bars_free(&b);
    }
}
END_TEST

START_TEST(test_flat_bars)
{
    /* H = L = O = C: a flat start longer than the warm-up, single flat bars inside a walk, and a
     * flat stretch longer than every window: every zero-range branch (BOP, %K, %R, CCI, RSI,
     * DI, ULTOSC, the bands, the ATR ratio) is taken, on both sides of the warm-up */
    enum { N = 1600 };
    tr_bar *bars = malloc(N * sizeof *bars);
    tu_walk(bars, N, JAN1, 900, 5, 1.1);
    for (size_t t = 0; t < N; t++) {
        double prev = t == 0 ? 1.1 : bars[t - 1].close;
        if (t < 350 || (t >= 900 && t < 1150) || t % 41 == 0) {
            bars[t].open = bars[t].high = bars[t].low = bars[t].close = prev;
        } else { /* the walk's bar scaled to open at the previous close */
            double k = prev / bars[t].open;
            bars[t].open = prev;
            bars[t].high *= k, bars[t].low *= k, bars[t].close *= k;
        }
        ck_assert_ptr_null(tr_bar_invalid(&bars[t]));
    }
    check_stream(bars, N, 64, "flat");

    /* the flat rows take the documented zero-range values (so the branches were reached) */
    double *row = malloc(NF * sizeof *row);
    tr_featstream *fs;
    tr_error e;
    ck_assert_int_eq(tr_featstream_new(4, &fs, &e), TR_OK);
    for (size_t t = 0; t < 1149; t++)
        ck_assert_int_eq(tr_featstream_push(fs, &bars[t], row, &e), TR_OK);
    /* bar 1148 ends 249 flat bars: every window but SMA200's and the 96-bar ones is flat */
    static const int zero[] = {0, 4, 5, 14, 18, 19, 20, 21, 23, 25, 26, 27};
    for (size_t k = 0; k < sizeof zero / sizeof zero[0]; k++)
        ck_assert_msg(row[zero[k]] == 0, "%s: %.17g on a flat window", tr_feature_names[zero[k]],
                      row[zero[k]]);
    ck_assert_msg(row[29] == 0.5, "bb_pctb: %.17g on a flat window", row[29]);
    /* the width is the two-pass deviation's rounding noise (a mean of 20 equal values need not
     * round to that value), which is why %B treats a width below 1e-12 of the price as flat */
    ck_assert_msg(fabs(row[30]) < 1e-12, "bb_width: %.17g on a flat window", row[30]);
    ck_assert_uint_eq(tr_featstream_count(fs), 1149);
    tr_featstream_free(fs);
    free(row);
    free(bars);
}
END_TEST

START_TEST(test_gaps)
{
    /* times with gaps of 1 to 3000 bars (features run over consecutive stored bars, whatever the
     * clock says), and times before 1970 (negative seconds of the day, the weekday) */
    enum { N = 2500 };
    tr_bar *bars = malloc(N * sizeof *bars);
    static const int64_t t0[2] = {JAN1, -86400 * 400 - 900};
    for (int k = 0; k < 2; k++) {
        tu_walk(bars, N, t0[k], 900, 31 + (unsigned)k, 150.0);
        unsigned long long s = 99;
        int64_t t = t0[k];
        for (size_t i = 0; i < N; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            unsigned r = (unsigned)(s >> 33) % 100;
            t += 900 * (r < 80 ? 1 : r < 95 ? 1 + (int64_t)(r % 4) : 1 + (int64_t)(r * 30));
            bars[i].t = t;
        }
        check_stream(bars, N, 300, k == 0 ? "gaps" : "gaps before 1970");
    }
    free(bars);
}
END_TEST

START_TEST(test_warmup_boundary)
{
    enum { N = TR_FEATURE_WARMUP + 3 };
    tr_bar bars[N];
    tu_walk(bars, N, JAN1, 900, 7, 1.1);
    double f[N * NF], row[NF];
    float x[NF];
    tr_error e;
    ck_assert_int_eq(tr_features_compute(bars, N, f, &e), TR_OK);
    tr_featstream *fs;
    ck_assert_int_eq(tr_featstream_new(8, &fs, &e), TR_OK);
    ck_assert_uint_eq(tr_featstream_count(fs), 0);
    ck_assert_int_eq(tr_featstream_last_time(fs), INT64_MIN);
    ck_assert_int_eq(tr_featstream_window(fs, 1, x, &e), TR_ERR_NOTFOUND);
    for (size_t t = 0; t < N; t++) {
        ck_assert_int_eq(tr_featstream_push(fs, &bars[t], row, &e), TR_OK);
        ck_assert(memcmp(row, f + t * NF, sizeof row) == 0);
        int warm = t >= TR_FEATURE_WARMUP;
        for (int j = 0; j < NF; j++)
            ck_assert_msg(warm ? isfinite(row[j]) : isnan(row[j]), "%s at bar %zu",
                          tr_feature_names[j], t);
        /* a window of 1 exists from the first row past the warm-up (bar 300) */
        tr_code rc = tr_featstream_window(fs, 1, x, &e);
        ck_assert_int_eq(rc, warm ? TR_OK : TR_ERR_NOTFOUND);
        if (!warm)
            ck_assert_msg(strstr(e.msg, "needs 301 bars") != NULL, "%s", e.msg);
    }
    /* 3 rows are ready: a window of 3 is the rows of bars 300..302, of 4 is refused */
    float w[3 * NF];
    ck_assert_int_eq(tr_featstream_window(fs, 3, w, &e), TR_OK);
    for (size_t i = 0; i < 3 * NF; i++)
        ck_assert(w[i] == (float)f[TR_FEATURE_WARMUP * NF + i]);
    ck_assert_int_eq(tr_featstream_window(fs, 4, w, &e), TR_ERR_NOTFOUND);
    tr_featstream_free(fs);
}
END_TEST

START_TEST(test_refused_bars)
{
    enum { N = 700 };
    tr_bar *bars = malloc(N * sizeof *bars);
    tu_walk(bars, N, JAN1, 900, 8, 1.1);
    double *f = malloc(N * NF * sizeof *f), row[NF];
    tr_error e;
    ck_assert_int_eq(tr_features_compute(bars, N, f, &e), TR_OK);
    tr_featstream *fs;
    ck_assert_int_eq(tr_featstream_new(16, &fs, &e), TR_OK);
    for (size_t t = 0; t < N; t++) {
        if (t == 1 || t == 400) {
            char a[32], b[32];
            tr_time_format(bars[t - 1].t, a, sizeof a);
            /* the same time again, then an earlier one: both named in the message */
            tr_bar same = bars[t - 1];
            ck_assert_int_eq(tr_featstream_push(fs, &same, row, &e), TR_ERR_INVALID);
            ck_assert_msg(strstr(e.msg, a) != NULL, "%s", e.msg);
            tr_bar early = bars[t];
            early.t = bars[t - 1].t - 3600;
            tr_time_format(early.t, b, sizeof b);
            ck_assert_int_eq(tr_featstream_push(fs, &early, row, &e), TR_ERR_INVALID);
            ck_assert_msg(strstr(e.msg, a) != NULL && strstr(e.msg, b) != NULL, "%s", e.msg);
            /* invalid values: refused as data */
            tr_bar bad = bars[t];
            bad.close = NAN;
            ck_assert_int_eq(tr_featstream_push(fs, &bad, row, &e), TR_ERR_DATA);
            bad = bars[t];
            bad.high = bad.low * 0.5;
            ck_assert_int_eq(tr_featstream_push(fs, &bad, row, &e), TR_ERR_DATA);
            bad = bars[t];
            bad.low = -1;
            ck_assert_int_eq(tr_featstream_push(fs, &bad, row, &e), TR_ERR_DATA);
            ck_assert_int_eq(tr_featstream_push(fs, NULL, row, &e), TR_ERR_INVALID);
            /* and nothing changed */
            ck_assert_uint_eq(tr_featstream_count(fs), t);
            ck_assert_int_eq(tr_featstream_last_time(fs), bars[t - 1].t);
        }
        ck_assert_int_eq(tr_featstream_push(fs, &bars[t], row, &e), TR_OK);
        ck_assert_msg(memcmp(row, f + t * NF, sizeof row) == 0, "bar %zu after a refusal", t);
    }
    /* the row pointer is optional */
    tr_bar next = bars[N - 1];
    next.t += 900;
    ck_assert_int_eq(tr_featstream_push(fs, &next, NULL, &e), TR_OK);
    ck_assert_uint_eq(tr_featstream_count(fs), N + 1);
    tr_featstream_free(fs);
    free(f), free(bars);
}
END_TEST

START_TEST(test_window_errors)
{
    tr_featstream *fs;
    tr_error e;
    ck_assert_int_eq(tr_featstream_new(0, &fs, &e), TR_ERR_INVALID);
    ck_assert_ptr_null(fs);
    ck_assert_int_eq(tr_featstream_new(SIZE_MAX, &fs, &e), TR_ERR_INVALID);
    ck_assert_ptr_null(fs);
    tr_featstream_free(NULL);

    /* a quiet walk at 1e-200, then a jump to 1e200: ln(C_t/C_t-1) and the returns overflow to
     * +inf, in the stream as in the batch; the window refuses it naming the feature and time */
    enum { N = 400, K = 8 };
    tr_bar *bars = malloc((N + 1) * sizeof *bars);
    tu_walk(bars, N + 1, JAN1, 900, 9, 1e-200);
    bars[N].open = bars[N].low = bars[N - 1].close;
    bars[N].high = bars[N].close = 1e200;
    ck_assert_ptr_null(tr_bar_invalid(&bars[N]));
    double *f = malloc((N + 1) * NF * sizeof *f);
    ck_assert_int_eq(tr_features_compute(bars, N + 1, f, &e), TR_OK);
    ck_assert(isinf(f[N * NF]));
    ck_assert_int_eq(tr_featstream_new(K, &fs, &e), TR_OK);
    float x[(K + 1) * NF];
    ck_assert_int_eq(tr_featstream_window(fs, 1, x, &e), TR_ERR_NOTFOUND);
    double *g = malloc((N + 1) * NF * sizeof *g);
    for (size_t t = 0; t < N; t++)
        ck_assert_int_eq(tr_featstream_push(fs, &bars[t], g + t * NF, &e), TR_OK);
    ck_assert_int_eq(tr_featstream_window(fs, K, x, &e), TR_OK); /* finite at 1e-200 */
    ck_assert_int_eq(tr_featstream_window(fs, 0, x, &e), TR_ERR_INVALID);
    ck_assert_int_eq(tr_featstream_window(fs, K + 1, x, &e), TR_ERR_INVALID);
    ck_assert_msg(strstr(e.msg, "keeps 8") != NULL, "%s", e.msg);
    ck_assert_int_eq(tr_featstream_window(fs, 1, NULL, &e), TR_ERR_INVALID);
    ck_assert_int_eq(tr_featstream_push(fs, &bars[N], g + N * NF, &e), TR_OK);
    assert_identical(g, f, N + 1, "overflow");
    ck_assert_int_eq(tr_featstream_window(fs, K, x, &e), TR_ERR_DATA);
    char when[32];
    tr_time_format(bars[N].t, when, sizeof when);
    ck_assert_msg(strstr(e.msg, "logret_1") && strstr(e.msg, when), "%s", e.msg);
    tr_featstream_free(fs);
    free(f), free(g), free(bars);
}
END_TEST

START_TEST(test_clone)
{
    /* a clone continues independently: each side equals the batch of its own series */
    enum { N = 900, CUT = 500 };
    tr_bar *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b);
    tu_walk(a, N, JAN1, 900, 3, 1.1);
    memcpy(b, a, CUT * sizeof *b);
    tu_walk(b + CUT, N - CUT, a[CUT].t, 900, 4, 1.2);
    double *fa = malloc(N * NF * sizeof *fa), *fb = malloc(N * NF * sizeof *fb);
    double *ga = malloc(N * NF * sizeof *ga), *gb = malloc(N * NF * sizeof *gb);
    tr_error e;
    ck_assert_int_eq(tr_features_compute(a, N, fa, &e), TR_OK);
    ck_assert_int_eq(tr_features_compute(b, N, fb, &e), TR_OK);
    tr_featstream *fs;
    ck_assert_int_eq(tr_featstream_new(50, &fs, &e), TR_OK);
    for (size_t t = 0; t < CUT; t++)
        ck_assert_int_eq(tr_featstream_push(fs, &a[t], ga + t * NF, &e), TR_OK);
    memcpy(gb, ga, CUT * NF * sizeof *gb);
    tr_featstream *cl = tr_featstream_clone(fs);
    ck_assert_ptr_nonnull(cl);
    ck_assert_uint_eq(tr_featstream_count(cl), CUT);
    ck_assert_int_eq(tr_featstream_last_time(cl), a[CUT - 1].t);
    for (size_t t = CUT; t < N; t++) {
        ck_assert_int_eq(tr_featstream_push(cl, &b[t], gb + t * NF, &e), TR_OK);
        ck_assert_int_eq(tr_featstream_push(fs, &a[t], ga + t * NF, &e), TR_OK);
    }
    assert_identical(ga, fa, N, "original");
    assert_identical(gb, fb, N, "clone");
    assert_window(fs, fa, N, 50);
    assert_window(cl, fb, N, 50);
    ck_assert(memcmp(fa + (N - 1) * NF, fb + (N - 1) * NF, NF * sizeof *fa) != 0);
    tr_featstream_free(fs);
    tr_featstream_free(cl);
    free(a), free(b), free(fa), free(fb), free(ga), free(gb);
}
END_TEST

/* The service's case at bar `end` (exclusive) of bars: stream rows g (from bar 0) against the batch
 * over only the last `hist` bars (hist >= TR_FEATURE_WARMUP + WINDOW), over the last WINDOW rows.
 * Returns the largest absolute difference and names its feature in *worst. */
static double seed_diff(const tr_bar *bars, size_t end, size_t hist, const double *g,
                        double *scratch, int *worst)
{
    tr_error e;
    ck_assert_int_eq(tr_features_compute(bars + end - hist, hist, scratch, &e), TR_OK);
    double max = 0;
    for (size_t r = hist - WINDOW; r < hist; r++)
        for (int j = 0; j < NF; j++) {
            double a = g[(end - hist + r) * NF + (size_t)j], b = scratch[r * NF + (size_t)j];
            ck_assert_msg(isfinite(a) && isfinite(b), "%s at bar %zu", tr_feature_names[j],
                          end - hist + r);
            if (fabs(a - b) > max) {
                max = fabs(a - b);
                *worst = j;
            }
        }
    return max;
}

/* The service's case sampled every `step` bars (from the last one back to bar 2 hist) of a
 * series whose stream rows are g (while end >= step, so that end - step does not wrap). */
static double seed_diff_series(const tr_bar *bars, size_t n, size_t hist, const double *g,
                               size_t step, int *worst)
{
    double *scratch = malloc(hist * NF * sizeof *scratch), max = 0;
    for (size_t end = n; end >= 2 * hist && end >= step; end -= step) {
        int w = 0;
        double d = seed_diff(bars, end, hist, g, scratch, &w);
        if (d > max) {
            max = d;
            *worst = w;
        }
    }
    free(scratch);
    return max;
}

START_TEST(test_service_context_synth)
{
    tr_bars b = synth("EURUSD", JAN1, JAN1 + 160 * 86400, 23);
    ck_assert_uint_gt(b.n, 2 * HISTORY + 1000);
    double *g = malloc(b.n * NF * sizeof *g);
    tr_featstream *fs = stream_rows(b.v, b.n, WINDOW, g);
    int worst = 0;
    double d = seed_diff_series(b.v, b.n, HISTORY, g, 997, &worst);
    ck_assert_msg(d <= SEED_ATOL, "%s differs by %.3g", tr_feature_names[worst], d);
    /* the comparison sees seeds: with just the warm-up of context, TRIX's is still there */
    d = seed_diff_series(b.v, b.n, TR_FEATURE_WARMUP + WINDOW, g, 997, &worst);
    ck_assert_msg(d > 1e-9, "%s differs by %.3g", tr_feature_names[worst], d);
    tr_featstream_free(fs);
    free(g);
    tr_bars_free(&b);
}
END_TEST

static int have_data(void)
{
    struct stat st;
    if (stat(AIFX_SHARED_DATA "/eurusd_m15.csv", &st) == 0 &&
        stat(AIFX_SHARED_DATA "/usdjpy_m15.csv", &st) == 0)
        return 1;
    printf("trainer_featstream: SKIPPED: %s not found (no ../shared/data in this checkout)\n",
           AIFX_SHARED_DATA);
    return 0;
}

START_TEST(test_real_data)
{
    if (!have_data())
        return;
    static const char *files[2] = {AIFX_SHARED_DATA "/eurusd_m15.csv",
                                   AIFX_SHARED_DATA "/usdjpy_m15.csv"};
    for (int p = 0; p < 2; p++) {
        tr_csv_options o = tr_csv_options_default(900);
        tr_csv_data d;
        tr_error e;
        ck_assert_msg(tr_csv_read(files[p], &o, &d, &e) == TR_OK, "%s", e.msg);
        free(d.line);
        const tr_bar *bars = d.bars.v;
        size_t n = d.bars.n;
        ck_assert_uint_gt(n, 60000);
        double *f = malloc(n * NF * sizeof *f), *g = malloc(n * NF * sizeof *g);
        ck_assert_int_eq(tr_features_compute(bars, n, f, &e), TR_OK);
        tr_featstream *fs = stream_rows(bars, n, 256, g);
        assert_identical(g, f, n, files[p]);
        assert_window(fs, f, n, WINDOW);
        assert_window(fs, f, n, 256);
        /* the service: a stream from the file's first bar against prediction's last 5,000 */
        int worst = 0;
        double diff = seed_diff_series(bars, n, HISTORY, g, 2500, &worst);
        printf("trainer_featstream: %s: stream vs batch of the last %d bars, last %d rows: "
               "max |diff| %.3g (%s)\n",
               files[p], HISTORY, WINDOW, diff,
               diff > 0 ? tr_feature_names[worst] : "every feature");
        ck_assert_msg(diff <= SEED_ATOL, "%s differs by %.3g", tr_feature_names[worst], diff);
        /* and with just the warm-up of context the seeds show (ADX: about 2e-7) */
        diff = seed_diff_series(bars, n, TR_FEATURE_WARMUP + WINDOW, g, 2500, &worst);
        ck_assert_msg(diff > 1e-9, "%s differs by %.3g", tr_feature_names[worst], diff);
        tr_featstream_free(fs);
        free(f), free(g);
        tr_bars_free(&d.bars);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trainer_featstream");
    TCase *tc = tcase_create("featstream");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_synth_identical);
    tcase_add_test(tc, test_flat_bars);
    tcase_add_test(tc, test_gaps);
    tcase_add_test(tc, test_warmup_boundary);
    tcase_add_test(tc, test_refused_bars);
    tcase_add_test(tc, test_window_errors);
    tcase_add_test(tc, test_clone);
    tcase_add_test(tc, test_service_context_synth);
    tcase_add_test(tc, test_real_data);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(suite)
