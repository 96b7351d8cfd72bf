/*
 * check_features.c - golden tests of every indicator and of the 38-feature rows against the
 * reference values of gen_golden.py (committed in fixtures/), the leakage test, and the
 * serving-context test.
 *
 * Tolerance: |c - ref| <= 1e-9 |ref| + 1e-12, and NaN exactly where the reference is NaN (which
 * checks every lookback and TA-Lib's output alignment). The reference sums exactly (fsum) while
 * the C code sums left to right, so agreement is to a few ulps; 1e-9 leaves room for the
 * recursive indicators' accumulated rounding and catches any definitional difference (a wrong
 * seed, divisor or alignment moves values by 1e-3 or more).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check_main.h"
#include "base/csv.h"
#include "base/fsutil.h"
#include "market/featureset.h"
#include "market/ta.h"
#include "testutil.h"

#define FIX  TRAINER_FIXTURES
#define RTOL 1e-9
#define ATOL 1e-12

static tr_bars load_bars(void)
{
    tr_csv_options o = tr_csv_options_default(900);
    tr_csv_data d;
    tr_error e;
    ck_assert_msg(tr_csv_read(FIX "/golden_bars.csv", &o, &d, &e) == TR_OK, "%s", e.msg);
    free(d.line);
    return d.bars;
}

/* A numeric table with a header: cols[c] is (rows) values of column c. */
typedef struct table {
    int n_cols;
    size_t n_rows;
    char names[64][32];
    double *v; /* (rows, cols) */
} table;

static table load_table(const char *path)
{
    table tb;
    memset(&tb, 0, sizeof tb);
    char *text;
    size_t len;
    tr_error e;
    ck_assert_msg(tr_file_read(path, &text, &len, &e) == TR_OK, "%s", e.msg);
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    ck_assert_ptr_nonnull(line);
    for (char *s2 = NULL, *tok = strtok_r(line, ",", &s2); tok; tok = strtok_r(NULL, ",", &s2)) {
        ck_assert_int_lt(tb.n_cols, 64);
        snprintf(tb.names[tb.n_cols++], 32, "%s", tok);
    }
    size_t cap = 1024;
    tb.v = malloc(cap * (size_t)tb.n_cols * sizeof(double));
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        if (tb.n_rows == cap) {
            cap *= 2;
            tb.v = realloc(tb.v, cap * (size_t)tb.n_cols * sizeof(double));
        }
        char *p = line;
        for (int c = 0; c < tb.n_cols; c++) {
            char *end;
            tb.v[tb.n_rows * (size_t)tb.n_cols + (size_t)c] = strtod(p, &end);
            ck_assert_ptr_ne(end, p);
            p = *end == ',' ? end + 1 : end;
        }
        tb.n_rows++;
    }
    free(text);
    return tb;
}

static int column(const table *tb, const char *name)
{
    for (int c = 0; c < tb->n_cols; c++)
        if (strcmp(tb->names[c], name) == 0)
            return c;
    ck_abort_msg("no column %s", name);
    return -1;
}

static void compare(const char *what, size_t t, double got, double ref)
{
    if (isnan(ref)) {
        ck_assert_msg(isnan(got), "%s[%zu]: got %.17g, reference NaN", what, t, got);
        return;
    }
    ck_assert_msg(!isnan(got), "%s[%zu]: got NaN, reference %.17g", what, t, ref);
    ck_assert_msg(fabs(got - ref) <= RTOL * fabs(ref) + ATOL, "%s[%zu]: got %.17g, reference %.17g",
                  what, t, got, ref);
}

static void compare_series(const table *tb, const char *name, const double *got)
{
    int c = column(tb, name);
    for (size_t t = 0; t < tb->n_rows; t++)
        compare(name, t, got[t], tb->v[t * (size_t)tb->n_cols + (size_t)c]);
}

START_TEST(test_golden_indicators)
{
    tr_bars b = load_bars();
    table tb = load_table(FIX "/golden_ta.csv");
    size_t n = b.n;
    ck_assert_uint_eq(n, tb.n_rows);
    double *h = malloc(n * sizeof *h), *l = malloc(n * sizeof *l), *c = malloc(n * sizeof *c);
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *z = malloc(n * sizeof *z);
    double *w = malloc(2 * n * sizeof *w);
    for (size_t t = 0; t < n; t++) {
        h[t] = b.v[t].high;
        l[t] = b.v[t].low;
        c[t] = b.v[t].close;
    }
    ta_sma(n, c, 0, 20, x);
    compare_series(&tb, "sma20", x);
    ta_ema(n, c, 0, 12, x);
    compare_series(&tb, "ema12", x);
    ta_ema(n, c, 0, 26, x);
    compare_series(&tb, "ema26", x);
    ta_stddev(n, c, 0, 20, x);
    compare_series(&tb, "stddev20", x);
    ta_trange(n, h, l, c, x);
    compare_series(&tb, "trange", x);
    ta_atr(n, h, l, c, 14, x);
    compare_series(&tb, "atr14", x);
    ta_rsi(n, c, 14, x);
    compare_series(&tb, "rsi14", x);
    ta_macd(n, c, 12, 26, 9, x, y, z, w);
    compare_series(&tb, "macd", x);
    compare_series(&tb, "macd_signal", y);
    compare_series(&tb, "macd_hist", z);
    ta_stoch(n, h, l, c, 14, 3, 3, x, y, w);
    compare_series(&tb, "stoch_k", x);
    compare_series(&tb, "stoch_d", y);
    ta_willr(n, h, l, c, 14, x);
    compare_series(&tb, "willr14", x);
    ta_cci(n, h, l, c, 14, x);
    compare_series(&tb, "cci14", x);
    ta_trix(n, c, 30, x, w);
    compare_series(&tb, "trix30", x);
    ta_ultosc(n, h, l, c, 7, 14, 28, x);
    compare_series(&tb, "ultosc", x);
    ta_dmi(n, h, l, c, 14, x, y, z);
    compare_series(&tb, "adx14", x);
    compare_series(&tb, "plus_di14", y);
    compare_series(&tb, "minus_di14", z);
    ta_aroonosc(n, h, l, 14, x);
    compare_series(&tb, "aroonosc14", x);
    ta_linreg_slope(n, c, 14, x);
    compare_series(&tb, "slope14", x);
    free(h), free(l), free(c), free(x), free(y), free(z), free(w);
    free(tb.v);
    tr_bars_free(&b);
}
END_TEST

START_TEST(test_golden_features)
{
    tr_bars b = load_bars();
    table tb = load_table(FIX "/golden_features.csv");
    ck_assert_int_eq(tb.n_cols, 1 + TR_N_FEATURES);
    double *f = malloc(b.n * TR_N_FEATURES * sizeof *f);
    tr_error e;
    ck_assert_int_eq(tr_features_compute(b.v, b.n, f, &e), TR_OK);
    for (size_t t = 0; t < TR_FEATURE_WARMUP; t++)
        for (int j = 0; j < TR_N_FEATURES; j++)
            ck_assert(isnan(f[t * TR_N_FEATURES + (size_t)j]));
    for (size_t r = 0; r < tb.n_rows; r++) {
        size_t t = (size_t)tb.v[r * (size_t)tb.n_cols];
        for (int j = 0; j < TR_N_FEATURES; j++)
            compare(tr_feature_names[j], t, f[t * TR_N_FEATURES + (size_t)j],
                    tb.v[r * (size_t)tb.n_cols + 1 + (size_t)j]);
    }
    ck_assert_uint_eq(tb.n_rows, b.n - TR_FEATURE_WARMUP);
    free(f);
    free(tb.v);
    tr_bars_free(&b);
}
END_TEST

START_TEST(test_feature_ranges_sane)
{
    /* Bounded oscillators stay in their ranges on a long random walk. */
    enum { N = 5000 };
    tr_bar *bars = malloc(N * sizeof *bars);
    tu_walk(bars, N, 1704067200, 900, 11, 150.0);
    double *f = malloc((size_t)N * TR_N_FEATURES * sizeof *f);
    tr_error e;
    ck_assert_int_eq(tr_features_compute(bars, N, f, &e), TR_OK);
    for (size_t t = TR_FEATURE_WARMUP; t < N; t++) {
        const double *row = f + t * TR_N_FEATURES;
        for (int j = 0; j < TR_N_FEATURES; j++)
            ck_assert_msg(isfinite(row[j]), "%s at %zu", tr_feature_names[j], t);
        ck_assert(row[14] >= 0 && row[14] <= 100);    /* rsi */
        ck_assert(row[18] >= 0 && row[18] <= 100);    /* stoch k */
        ck_assert(row[20] >= -100 && row[20] <= 0);   /* willr */
        ck_assert(row[27] >= -100 && row[27] <= 100); /* aroon osc */
        ck_assert(row[5] >= -1 && row[5] <= 1);       /* bop */
    }
    free(f);
    free(bars);
}
END_TEST

START_TEST(test_leakage)
{
    /* Changing any bar after t leaves every feature at bars <= t unchanged, bit for bit. */
    enum { N = 1500 };
    tr_bar *bars = malloc(N * sizeof *bars), *alt = malloc(N * sizeof *alt);
    tu_walk(bars, N, 1704067200, 900, 12, 1.1);
    double *f = malloc((size_t)N * TR_N_FEATURES * sizeof *f);
    double *g = malloc((size_t)N * TR_N_FEATURES * sizeof *g);
    tr_error e;
    ck_assert_int_eq(tr_features_compute(bars, N, f, &e), TR_OK);
    const size_t cuts[] = {0, 299, 300, 301, 517, 1000, N - 2};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        size_t t = cuts[k];
        memcpy(alt, bars, N * sizeof *alt);
        tu_walk(alt + t + 1, N - t - 1, bars[t + 1].t, 900, 99 + (unsigned)k, 1.5); /* new future */
        ck_assert_int_eq(tr_features_compute(alt, N, g, &e), TR_OK);
        ck_assert(memcmp(f, g, (t + 1) * TR_N_FEATURES * sizeof *f) == 0);
        /* and the future did change something (the test can fail) */
        ck_assert(memcmp(f + (t + 1) * TR_N_FEATURES, g + (t + 1) * TR_N_FEATURES,
                         (N - t - 1) * TR_N_FEATURES * sizeof *f) != 0);
        /* truncating the series at t (what serving sees) gives the same rows too */
        ck_assert_int_eq(tr_features_compute(bars, t + 1, g, &e), TR_OK);
        ck_assert(memcmp(f, g, (t + 1) * TR_N_FEATURES * sizeof *f) == 0);
    }
    free(f), free(g), free(bars), free(alt);
}
END_TEST

START_TEST(test_serving_context)
{
    /* With at least 1000 bars of context the recursive indicators have forgotten their seeds:
     * the row of the last bar matches the full-history row to 1e-9 relative. */
    enum { N = 4000, CTX = 1000 };
    tr_bar *bars = malloc(N * sizeof *bars);
    tu_walk(bars, N, 1704067200, 900, 13, 1.1);
    double *f = malloc((size_t)N * TR_N_FEATURES * sizeof *f);
    double *g = malloc((size_t)CTX * TR_N_FEATURES * sizeof *g);
    tr_error e;
    ck_assert_int_eq(tr_features_compute(bars, N, f, &e), TR_OK);
    ck_assert_int_eq(tr_features_compute(bars + N - CTX, CTX, g, &e), TR_OK);
    const double *a = f + (size_t)(N - 1) * TR_N_FEATURES,
                 *b = g + (size_t)(CTX - 1) * TR_N_FEATURES;
    for (int j = 0; j < TR_N_FEATURES; j++)
        ck_assert_msg(fabs(a[j] - b[j]) <= 1e-9 * fabs(a[j]) + 1e-12, "%s: %.17g vs %.17g",
                      tr_feature_names[j], a[j], b[j]);
    free(f), free(g), free(bars);
}
END_TEST

/* Every one of the 38 features is scale-invariant: returns, ratios to a price or an average
 * (c_sma*, range, bop, slope/C, macd/C, natr, bb_*, atr_ratio), oscillators (rsi, stoch, willr,
 * cci, trix, ultosc, adx, di, aroon), volatility of log returns, and the time of day and week.
 * None is an absolute price quantity. So the same pair quoted 1e-4 or 1e4 times larger gives
 * the same rows, to rounding, and in particular the "zero" tests of the indicators must not
 * depend on the price scale (with an absolute 1e-8, rsi14 became 0 on most rows at 1e-4). */
static void check_scaled(const tr_bar *bars, size_t n, double s)
{
    tr_bar *sb = malloc(n * sizeof *sb);
    double *f = malloc(n * TR_N_FEATURES * sizeof *f), *g = malloc(n * TR_N_FEATURES * sizeof *g);
    for (size_t t = 0; t < n; t++) {
        sb[t] = bars[t];
        sb[t].open *= s, sb[t].high *= s, sb[t].low *= s, sb[t].close *= s;
    }
    tr_error e;
    ck_assert_int_eq(tr_features_compute(bars, n, f, &e), TR_OK);
    ck_assert_int_eq(tr_features_compute(sb, n, g, &e), TR_OK);
    for (size_t t = TR_FEATURE_WARMUP; t < n; t++)
        for (int j = 0; j < TR_N_FEATURES; j++) {
            double a = f[t * TR_N_FEATURES + (size_t)j], b = g[t * TR_N_FEATURES + (size_t)j];
            /* 1e-10 absolute: cci, bop and willr divide differences of nearly equal prices,
             * which amplifies the rounding of the scaled prices (cci: 5e-11 seen) */
            ck_assert_msg(fabs(a - b) <= 1e-9 * fabs(a) + 1e-10,
                          "%s[%zu] at price scale %g: %.17g, unscaled %.17g", tr_feature_names[j],
                          t, s, b, a);
        }
    free(sb), free(f), free(g);
}

START_TEST(test_scale_invariance)
{
    tr_bars b = load_bars(); /* EUR/USD-like, with a perfectly flat stretch */
    check_scaled(b.v, b.n, 1e-4);
    check_scaled(b.v, b.n, 1e4);
    tr_bars_free(&b);
    enum { N = 3000 };
    tr_bar *bars = malloc(N * sizeof *bars);
    tu_walk(bars, N, 1704067200, 900, 21, 150.0); /* USD/JPY-like */
    check_scaled(bars, N, 1e-4);
    check_scaled(bars, N, 1e4);
    free(bars);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trainer_features");
    TCase *tc = tcase_create("features");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_golden_indicators);
    tcase_add_test(tc, test_golden_features);
    tcase_add_test(tc, test_feature_ranges_sane);
    tcase_add_test(tc, test_leakage);
    tcase_add_test(tc, test_serving_context);
    tcase_add_test(tc, test_scale_invariance);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(suite)
