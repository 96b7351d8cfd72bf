/*
 * check_pause.c - the extreme-market pause (trainer/market/pause.c):
 *  - hand-made bars with known true ranges: the ratio at exactly the threshold pauses (>=), just
 *    below does not; a gap of exactly 10 reference ATRs pauses; the weekend closure's gap does
 *    not count as range; too few bars gives no verdict; a given reference range replaces the
 *    window's;
 *  - synthetic bars (synth.h): calm weeks do not pause, the same weeks with the last day's bar
 *    ranges blown up 4x do, and a 12-ATR reopening gap does;
 *  - the shared data (skipped when absent): USD/JPY pauses on 2024-08-05 (the carry-trade
 *    unwind), never in the calm month of 2023-09 on either pair, and over every hour of both
 *    15-minute files the days that trip are few (listed; docs/monitoring.md quotes them).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../check_main.h"
#include "base/csv.h"
#include "base/timeutil.h"
#include "market/pause.h"
#include "market/synth.h"
#include "testutil.h"

#ifndef AIFX_SHARED_DATA
#define AIFX_SHARED_DATA "../shared/data"
#endif

#define M15 900
#define R   0.0625 /* bar range of the hand-made series */

/* n bars every 15 minutes from t0, close = open = 1, range r (high 1 + r/2, low 1 - r/2):
 * TR = r for every bar after the first. With r a power of 2 the sums below are exact. */
static tr_bar *flat_bars(size_t n, int64_t t0, double r)
{
    tr_bar *b = calloc(n, sizeof *b);
    ck_assert_ptr_nonnull(b);
    for (size_t i = 0; i < n; i++) {
        b[i].t = t0 + (int64_t)i * M15;
        b[i].open = b[i].close = 1.0;
        b[i].high = 1.0 + r / 2;
        b[i].low = 1.0 - r / 2;
        b[i].volume = 1;
    }
    return b;
}

START_TEST(test_threshold_edges)
{
    /* 10 days of bars (no closures), the last day's ranges scaled */
    size_t n = 10 * 96;
    int64_t t0 = T("2024-03-04T00:00:00Z");
    int64_t as_of = t0 + (int64_t)n * M15;
    tr_pause_opts o = tr_pause_opts_default();
    const double scale[3] = {3.0, 2.99, 1.0};
    for (int s = 0; s < 3; s++) {
        tr_bar *b = flat_bars(n, t0, R);
        for (size_t i = n - 96; i < n; i++) {
            b[i].high = 1.0 + scale[s] * R / 2;
            b[i].low = 1.0 - scale[s] * R / 2;
        }
        tr_pause p;
        ck_assert_int_eq(tr_pause_check(b, n, as_of, &o, &p, NULL), TR_OK);
        ck_assert_int_eq(p.ok, 1);
        ck_assert_uint_eq(p.n_recent, 96);
        ck_assert_uint_eq(p.n_ref, n - 96);
        ck_assert_double_eq_tol(p.ratio, scale[s], 1e-12);
        if (s == 0)
            ck_assert_double_eq(p.ratio, 3.0); /* exactly at the threshold: >= pauses */
        ck_assert_int_eq(p.pause, s == 0);
        ck_assert_ptr_nonnull(strstr(p.reason, s == 0 ? "pause: volatility 3.00x" : "no pause"));
        ck_assert_double_eq(p.vol_threshold, 3.0);
        free(b);
    }
    /* a gap of exactly 10 reference ATRs in the last day pauses, 9.9 not */
    const double gap[2] = {10 * R, 9.9 * R};
    for (int g = 0; g < 2; g++) {
        tr_bar *b = flat_bars(n, t0, R);
        for (size_t i = n - 40; i < n; i++) { /* the level moves up by the gap */
            b[i].open += gap[g], b[i].close += gap[g], b[i].high += gap[g], b[i].low += gap[g];
        }
        tr_pause p;
        ck_assert_int_eq(tr_pause_check(b, n, as_of, &o, &p, NULL), TR_OK);
        ck_assert_double_eq_tol(p.gap_atr, gap[g] / R, 1e-12);
        ck_assert_int_eq(p.gap_t, b[n - 40].t);
        ck_assert_int_eq(p.pause, g == 0);
        if (g == 0)
            ck_assert_ptr_nonnull(strstr(p.reason, "gap of 10.0 ATR"));
        free(b);
    }
    /* the same gap after a closure (the bars before a 2-day hole) is a gap, not range */
    {
        tr_bar *b = flat_bars(n, t0, R);
        for (size_t i = n - 40; i < n; i++) {
            b[i].t += 2 * 86400;
            b[i].open += 5 * R, b[i].close += 5 * R, b[i].high += 5 * R, b[i].low += 5 * R;
        }
        tr_pause p;
        ck_assert_int_eq(tr_pause_check(b, n, b[n - 1].t + M15, &o, &p, NULL), TR_OK);
        ck_assert_uint_eq(p.n_recent, 40);
        ck_assert_double_eq(p.recent_tr, R); /* high - low at the reopening */
        ck_assert_double_eq(p.gap_atr, 5.0);
        ck_assert_int_eq(p.pause, 0);
        free(b);
    }
    /* not enough bars: no verdict, no pause */
    {
        tr_bar *b = flat_bars(200, t0, R);
        tr_pause p;
        ck_assert_int_eq(tr_pause_check(b, 200, t0 + 200 * M15, &o, &p, NULL), TR_OK);
        ck_assert_int_eq(p.ok, 0);
        ck_assert_int_eq(p.pause, 0);
        ck_assert_ptr_nonnull(strstr(p.reason, "no verdict"));
        /* the version's reference range instead of the window: a verdict from 24 bars */
        o.ref_tr = R / 4;
        ck_assert_int_eq(tr_pause_check(b, 200, t0 + 200 * M15, &o, &p, NULL), TR_OK);
        ck_assert_int_eq(p.ok, 1);
        ck_assert_double_eq_tol(p.ratio, 4.0, 1e-12);
        ck_assert_int_eq(p.pause, 1);
        free(b);
    }
    /* bad options */
    tr_error e;
    tr_pause p;
    o = tr_pause_opts_default();
    o.vol_ratio = 0.0;
    ck_assert_int_eq(tr_pause_check(NULL, 0, 0, &o, &p, &e), TR_ERR_INVALID);
    o = tr_pause_opts_default();
    o.window = 0;
    ck_assert_int_eq(tr_pause_check(NULL, 0, 0, &o, &p, &e), TR_ERR_INVALID);
}
END_TEST

START_TEST(test_synthetic)
{
    int64_t from = T("2024-01-01T00:00:00Z"), to = T("2024-03-29T00:00:00Z"); /* a Friday */
    tr_synth_params sp = tr_synth_params_default("EURUSD", from, to, 42);
    tr_bars bars = {0};
    ck_assert_int_eq(tr_synth_generate(&sp, &bars, NULL, NULL), TR_OK);
    tr_pause_opts o = tr_pause_opts_default();
    int calm_trips = 0, evaluated = 0;
    for (size_t i = 6000; i < bars.n; i += 4) {
        tr_pause p;
        ck_assert_int_eq(tr_pause_check(bars.v, bars.n, bars.v[i].t, &o, &p, NULL), TR_OK);
        evaluated += p.ok;
        calm_trips += p.pause;
    }
    ck_assert_int_gt(evaluated, 0);
    ck_assert_int_eq(calm_trips, 0);
    /* blow up the last day's ranges 4x around each bar's close */
    tr_bar *b = malloc(bars.n * sizeof *b);
    ck_assert_ptr_nonnull(b);
    memcpy(b, bars.v, bars.n * sizeof *b);
    int64_t as_of = b[bars.n - 1].t + M15;
    for (size_t i = tr_bars_lower_bound(b, bars.n, as_of - 86400); i < bars.n; i++) {
        double c = b[i].close;
        b[i].open = c + 4 * (b[i].open - c);
        b[i].high = c + 4 * (b[i].high - c);
        b[i].low = c + 4 * (b[i].low - c);
    }
    tr_pause p;
    ck_assert_int_eq(tr_pause_check(b, bars.n, as_of, &o, &p, NULL), TR_OK);
    ck_assert_int_eq(p.ok, 1);
    ck_assert_msg(p.pause == 1 && p.ratio > 3.0, "%s", p.reason);
    /* a reopening gap of 12 ATR at the last Sunday's first bar */
    memcpy(b, bars.v, bars.n * sizeof *b);
    size_t re = bars.n - 1;
    while (b[re].t - b[re - 1].t <= 3600)
        re--;
    ck_assert_int_eq(tr_pause_check(b, bars.n, b[re].t + 6 * 3600, &o, &p, NULL), TR_OK);
    double shift = 12 * p.ref_tr;
    for (size_t i = re; i < bars.n; i++)
        b[i].open += shift, b[i].high += shift, b[i].low += shift, b[i].close += shift;
    ck_assert_int_eq(tr_pause_check(b, bars.n, b[re].t + 6 * 3600, &o, &p, NULL), TR_OK);
    ck_assert_msg(p.pause == 1 && p.gap_atr >= 10.0 && p.ratio < 3.0, "%s", p.reason);
    ck_assert_int_eq(p.gap_t, b[re].t);
    free(b);
    tr_bars_free(&bars);
}
END_TEST

/* ---- The shared data ------------------------------------------------------------------------- */

static int have_data(void)
{
    struct stat st;
    if (stat(AIFX_SHARED_DATA "/eurusd_m15.csv", &st) == 0 &&
        stat(AIFX_SHARED_DATA "/usdjpy_m15.csv", &st) == 0)
        return 1;
    printf("trainer_pause: SKIPPED: %s not found (no ../shared/data in this checkout)\n",
           AIFX_SHARED_DATA);
    return 0;
}

static void load(const char *path, tr_csv_data *d)
{
    tr_csv_options o = tr_csv_options_default(M15);
    tr_error e;
    ck_assert_msg(tr_csv_read(path, &o, d, &e) == TR_OK, "%s", e.msg);
}

/* Evaluates at the end of every bar that closes an hour (as_of = t + 15 min, t at :45) from
 * as_of >= from to as_of < to; returns the days (YYYY-MM-DD of as_of) that tripped, appended
 * to days (space-separated, "(gap)" when the first trip of the day was the gap rule alone),
 * and their count; *max_ratio receives the largest ratio. */
static double max_gap_atr; /* largest gap seen by trip_days, in reference ATRs */

static int trip_days(const tr_csv_data *d, int64_t from, int64_t to, char *days, size_t cap,
                     double *max_ratio)
{
    tr_pause_opts o = tr_pause_opts_default();
    int count = 0;
    int64_t last_day = -1;
    *max_ratio = 0.0;
    for (size_t i = tr_bars_lower_bound(d->bars.v, d->bars.n, from - M15); i < d->bars.n; i++) {
        int64_t as_of = d->bars.v[i].t + M15;
        if (as_of >= to)
            break;
        if (as_of % 3600 != 0)
            continue;
        tr_pause p;
        ck_assert_int_eq(tr_pause_check(d->bars.v, d->bars.n, as_of, &o, &p, NULL), TR_OK);
        if (p.ok && p.ratio > *max_ratio)
            *max_ratio = p.ratio;
        if (p.ok && p.gap_atr > max_gap_atr)
            max_gap_atr = p.gap_atr;
        int64_t day = (as_of - 1) / 86400;
        if (p.pause && day != last_day) {
            char buf[32];
            tr_time_format(day * 86400, buf, sizeof buf);
            size_t len = strlen(days);
            snprintf(days + len, cap - len, "%s%.10s%s", len ? " " : "", buf,
                     p.ratio >= o.vol_ratio ? "" : " (gap)");
            last_day = day;
            count++;
        }
    }
    return count;
}

START_TEST(test_real_data)
{
    if (!have_data())
        return;
    tr_csv_data jpy, eur;
    load(AIFX_SHARED_DATA "/usdjpy_m15.csv", &jpy);
    load(AIFX_SHARED_DATA "/eurusd_m15.csv", &eur);
    /* the carry-trade unwind: USD/JPY on Monday 2024-08-05 */
    tr_pause_opts o = tr_pause_opts_default();
    tr_pause p;
    ck_assert_int_eq(
        tr_pause_check(jpy.bars.v, jpy.bars.n, T("2024-08-05T12:00:00Z"), &o, &p, NULL), TR_OK);
    printf("trainer_pause: USDJPY 2024-08-05T12:00Z: %s\n", p.reason);
    ck_assert_int_eq(p.ok, 1);
    ck_assert_int_eq(p.pause, 1);
    ck_assert(p.ratio >= 3.0);
    static char days[8192];
    double mx;
    days[0] = 0;
    int n = trip_days(&jpy, T("2024-08-05T00:00:00Z"), T("2024-08-06T00:00:00Z"), days, sizeof days,
                      &mx);
    ck_assert_int_eq(n, 1);
    /* a calm month: September 2023, both pairs, never */
    const tr_csv_data *both[2] = {&jpy, &eur};
    for (int k = 0; k < 2; k++) {
        days[0] = 0;
        n = trip_days(both[k], T("2023-09-01T00:00:00Z"), T("2023-10-01T00:00:00Z"), days,
                      sizeof days, &mx);
        printf("trainer_pause: %s 2023-09: largest ratio %.2f, %d days tripped\n",
               k ? "EURUSD" : "USDJPY", mx, n);
        ck_assert_msg(n == 0, "tripped in the calm month: %s", days);
        ck_assert(mx > 0.0 && mx < 2.0);
    }
    /* every hour of both files: a rare event (a few days a year per pair) */
    int total = 0;
    for (int k = 0; k < 2; k++) {
        days[0] = 0;
        max_gap_atr = 0.0;
        const tr_bars *b = &both[k]->bars;
        n = trip_days(both[k], b->v[0].t, b->v[b->n - 1].t + M15, days, sizeof days, &mx);
        double years = (double)(b->v[b->n - 1].t - b->v[0].t) / (365.25 * 86400);
        printf("trainer_pause: %s: %d days tripped in %.2f years (largest ratio %.2f, largest "
               "gap %.1f ATR): %s\n",
               k ? "EURUSD" : "USDJPY", n, years, mx, max_gap_atr, days);
        ck_assert_msg(n >= 1 && n <= 5 * years, "%d trip days in %.2f years", n, years);
        total += n;
    }
    printf("trainer_pause: %d days tripped in total\n", total);
    tr_csv_data_free(&jpy);
    tr_csv_data_free(&eur);
}
END_TEST

static Suite *pause_suite(void)
{
    Suite *s = suite_create("pause");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_threshold_edges);
    tcase_add_test(tc, test_synthetic);
    tcase_add_test(tc, test_real_data);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(pause_suite)
