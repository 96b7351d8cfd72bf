/*
 * check_dq.c - data-quality checks (trainer/market/dq.c):
 *  - the market-hours rule at the edges: Sunday open and Friday close at 21:00Z under New York
 *    daylight-saving time and 22:00Z outside it, on both sides of the US clock changes;
 *  - hand-made series: a midweek hole is a gap of exactly its missing bars, the weekend and the
 *    first hour after the open are not, a hole running into the Friday close counts only the
 *    open slots; spikes at exactly k ATRs and not below; zero-range and repeated bars; a stale
 *    feed by open-market seconds (not across the weekend); the error paths;
 *  - the shared data (skipped when absent): the counts per kind of all four files (printed;
 *    docs/monitoring.md quotes them), with the facts of ../shared/data/README.md asserted: the
 *    4 flat bars of eurusd_m15, the outage of 2024-07-02 09:00-21:00 (47 bars).
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
#include "market/dq.h"
#include "testutil.h"

#ifndef AIFX_SHARED_DATA
#define AIFX_SHARED_DATA "../shared/data"
#endif

#define M15 900
#define R   0.0625 /* bar range of the hand-made series (a power of 2: exact ATRs) */

START_TEST(test_market_hours)
{
    /* summer (EDT): Sunday 2024-07-07 opens 21:00Z, Friday 2024-07-12 closes 21:00Z */
    ck_assert_int_eq(tr_dq_market_open(T("2024-07-07T20:59:59Z")), 0);
    ck_assert_int_eq(tr_dq_market_open(T("2024-07-07T21:00:00Z")), 1);
    ck_assert_int_eq(tr_dq_market_open(T("2024-07-10T03:00:00Z")), 1);
    ck_assert_int_eq(tr_dq_market_open(T("2024-07-12T20:59:59Z")), 1);
    ck_assert_int_eq(tr_dq_market_open(T("2024-07-12T21:00:00Z")), 0);
    ck_assert_int_eq(tr_dq_market_open(T("2024-07-13T12:00:00Z")), 0);
    /* winter (EST): 22:00Z */
    ck_assert_int_eq(tr_dq_market_open(T("2024-01-07T21:30:00Z")), 0);
    ck_assert_int_eq(tr_dq_market_open(T("2024-01-07T22:00:00Z")), 1);
    ck_assert_int_eq(tr_dq_market_open(T("2024-01-12T21:59:59Z")), 1);
    ck_assert_int_eq(tr_dq_market_open(T("2024-01-12T22:00:00Z")), 0);
    /* the changes: EDT from Sunday 2024-03-10 07:00Z, EST from Sunday 2024-11-03 06:00Z */
    ck_assert_int_eq(tr_dq_market_open(T("2024-03-10T21:00:00Z")), 1);
    ck_assert_int_eq(tr_dq_market_open(T("2024-03-08T21:30:00Z")), 1); /* still EST that Friday */
    ck_assert_int_eq(tr_dq_market_open(T("2024-03-15T21:00:00Z")), 0);
    ck_assert_int_eq(tr_dq_market_open(T("2024-11-01T21:00:00Z")), 0); /* EDT Friday */
    ck_assert_int_eq(tr_dq_market_open(T("2024-11-03T21:30:00Z")), 0); /* EST Sunday */
    ck_assert_int_eq(tr_dq_market_open(T("2024-11-03T22:00:00Z")), 1);
    ck_assert_str_eq(tr_dq_kind_text(TR_DQ_ZERO_RANGE), "zero-range");
    ck_assert_str_eq(tr_dq_kind_text(TR_DQ_N_KINDS), "");
}
END_TEST

/* Bars every 15 minutes over [from, to) while tr_dq_market_open, range R around 1, open =
 * close = 1 -/+ R/4 alternately, plus k 2^-30 so that no two bars are equal (TR = R: exact). */
static tr_bars series(int64_t from, int64_t to)
{
    tr_bars b = {0};
    int k = 0;
    for (int64_t t = from; t < to; t += M15) {
        if (!tr_dq_market_open(t))
            continue;
        double c = (k % 2 ? 1.0 + R / 4 : 1.0 - R / 4) + k * 0x1p-30;
        k++;
        tr_bar bar = {t, c, 1.0 + R / 2, 1.0 - R / 2, c, 10};
        ck_assert_int_eq(tr_bars_push(&b, &bar, NULL), TR_OK);
    }
    return b;
}

static void remove_bars(tr_bars *b, int64_t from, int64_t to)
{
    size_t j = 0;
    for (size_t i = 0; i < b->n; i++)
        if (b->v[i].t < from || b->v[i].t >= to)
            b->v[j++] = b->v[i];
    b->n = j;
}

static size_t count_kind(const tr_dq_report *r, tr_dq_kind k)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += r->v[i].kind == k;
    return n;
}

START_TEST(test_gaps)
{
    /* two weeks of summer, a weekend in between */
    tr_bars b = series(T("2024-07-07T21:00:00Z"), T("2024-07-19T21:00:00Z"));
    tr_dq_opts o = tr_dq_opts_default();
    tr_dq_report r = {0};
    ck_assert_int_eq(tr_dq_check(b.v, b.n, 0, &o, &r, NULL), TR_OK);
    ck_assert_uint_eq(r.n, 0); /* the weekend is no gap, and the series is clean */
    tr_dq_report_free(&r);
    /* a midweek hole of 3 bars; the first hour of the second week missing (grace); a hole
     * from Friday 20:30Z through the close (2 open slots) */
    remove_bars(&b, T("2024-07-10T10:15:00Z"), T("2024-07-10T11:00:00Z"));
    remove_bars(&b, T("2024-07-14T21:00:00Z"), T("2024-07-14T22:00:00Z"));
    remove_bars(&b, T("2024-07-12T20:30:00Z"), T("2024-07-12T21:00:00Z"));
    ck_assert_int_eq(tr_dq_check(b.v, b.n, 0, &o, &r, NULL), TR_OK);
    ck_assert_uint_eq(r.count[TR_DQ_GAP], 2);
    ck_assert_uint_eq(r.n, 2);
    ck_assert_int_eq(r.v[0].kind, TR_DQ_GAP);
    ck_assert_int_eq(r.v[0].t, T("2024-07-10T10:15:00Z"));
    ck_assert_int_eq(r.v[0].t_end, T("2024-07-10T11:00:00Z"));
    ck_assert_double_eq(r.v[0].value, 3);
    ck_assert_int_eq(r.v[1].t, T("2024-07-12T20:30:00Z"));
    ck_assert_double_eq(r.v[1].value, 2);
    ck_assert_uint_eq(r.missing_bars, 5);
    ck_assert_int_eq(b.v[r.v[0].index].t, r.v[0].t_end);
    tr_dq_report_free(&r);
    /* without the grace the missing first hour counts too: the Friday hole then runs across
     * the weekend into it, one gap of 2 + 4 bars */
    o.open_grace = 0;
    ck_assert_int_eq(tr_dq_check(b.v, b.n, 0, &o, &r, NULL), TR_OK);
    ck_assert_uint_eq(r.count[TR_DQ_GAP], 2);
    ck_assert_double_eq(r.v[1].value, 6);
    ck_assert_int_eq(r.v[1].t_end, T("2024-07-14T22:00:00Z"));
    ck_assert_uint_eq(r.missing_bars, 9);
    tr_dq_report_free(&r);
    tr_bars_free(&b);
}
END_TEST

/* One day of bars (ATR exactly R throughout) with bar 50 changed by edit; the findings. */
static tr_dq_report day_with(void (*edit)(tr_bar *b))
{
    tr_bars b = series(T("2024-01-08T00:00:00Z"), T("2024-01-09T00:00:00Z"));
    ck_assert_uint_eq(b.n, 96);
    edit(b.v);
    tr_dq_opts o = tr_dq_opts_default();
    tr_dq_report r = {0};
    ck_assert_int_eq(tr_dq_check(b.v, b.n, 0, &o, &r, NULL), TR_OK);
    ck_assert_uint_eq(b.n, 96); /* every bar still there */
    tr_bars_free(&b);
    return r;
}

static void range_10(tr_bar *b)
{
    b[50].high = 1.0 + 5 * R, b[50].low = 1.0 - 5 * R;
}

static void range_9_9(tr_bar *b)
{
    b[50].high = 1.0 + 4.95 * R, b[50].low = 1.0 - 4.95 * R;
    /* and later a zero-range bar and a repeat (volume does not matter) */
    b[80].open = b[80].high = b[80].low = b[80].close = 1.0;
    int64_t t = b[90].t;
    b[90] = b[89];
    b[90].t = t;
    b[90].volume = 99;
}

static void return_10(tr_bar *b)
{
    double c = b[49].close + 10 * R;
    b[50].open = b[50].low = c - R / 2;
    b[50].close = b[50].high = c;
}

START_TEST(test_bars)
{
    tr_dq_report r = day_with(range_10);
    ck_assert_uint_eq(r.n, 1);
    ck_assert_int_eq(r.v[0].kind, TR_DQ_SPIKE);
    ck_assert_uint_eq(r.v[0].index, 50);
    ck_assert_double_eq(r.v[0].value, 10.0); /* exactly k ATRs: a spike */
    ck_assert_int_eq(r.v[0].what, 1);
    ck_assert_double_eq(r.v[0].limit, 10.0);
    tr_dq_report_free(&r);
    r = day_with(return_10);
    ck_assert_uint_eq(r.n, 1);
    ck_assert_int_eq(r.v[0].kind, TR_DQ_SPIKE);
    ck_assert_int_eq(r.v[0].what, 2);
    ck_assert_double_eq(r.v[0].value, 10.0);
    tr_dq_report_free(&r);
    r = day_with(range_9_9);
    ck_assert_uint_eq(r.count[TR_DQ_SPIKE], 0);
    ck_assert_uint_eq(r.count[TR_DQ_ZERO_RANGE], 1);
    ck_assert_uint_eq(r.count[TR_DQ_REPEAT], 1);
    ck_assert_uint_eq(r.n, 2);
    ck_assert_uint_eq(r.v[0].index, 80);
    ck_assert_double_eq(r.v[0].value, 1.0);
    ck_assert_uint_eq(r.v[1].index, 90);
    ck_assert_int_eq(r.v[1].kind, TR_DQ_REPEAT);
    ck_assert_uint_eq(count_kind(&r, TR_DQ_REPEAT), 1);
    tr_dq_report_free(&r);
    tr_dq_report_free(NULL);
}
END_TEST

START_TEST(test_stale)
{
    /* last bar Friday 2024-07-12 20:45Z (summer: the market closes at 21:00Z) */
    tr_bars b = series(T("2024-07-12T00:00:00Z"), T("2024-07-12T21:00:00Z"));
    tr_dq_opts o = tr_dq_opts_default();
    tr_dq_report r = {0};
    const struct {
        const char *as_of;
        int stale;
        double secs;
    } cases[] = {
        {"2024-07-13T12:00:00Z", 0, 0},    /* Saturday: closed */
        {"2024-07-14T21:40:00Z", 0, 0},    /* open, but within the first hour's grace */
        {"2024-07-14T22:30:00Z", 0, 0},    /* 30 min of expected bars: not more than 1800 */
        {"2024-07-14T22:40:00Z", 1, 2400}, /* 40 min */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ck_assert_int_eq(tr_dq_check(b.v, b.n, T(cases[k].as_of), &o, &r, NULL), TR_OK);
        ck_assert_msg(r.count[TR_DQ_STALE] == (size_t)cases[k].stale, "%s", cases[k].as_of);
        if (cases[k].stale) {
            ck_assert_int_eq(r.v[r.n - 1].kind, TR_DQ_STALE);
            ck_assert_double_eq(r.v[r.n - 1].value, cases[k].secs);
            ck_assert_int_eq(r.v[r.n - 1].t, T("2024-07-12T20:45:00Z"));
            ck_assert_int_eq(r.v[r.n - 1].t_end, T(cases[k].as_of));
        }
        tr_dq_report_free(&r);
    }
    /* midweek: 31 minutes after the last close */
    remove_bars(&b, T("2024-07-12T10:00:00Z"), T("2024-07-13T00:00:00Z"));
    ck_assert_int_eq(tr_dq_check(b.v, b.n, T("2024-07-12T10:31:00Z"), &o, &r, NULL), TR_OK);
    ck_assert_uint_eq(r.count[TR_DQ_STALE], 1);
    ck_assert_double_eq(r.v[r.n - 1].value, 1860);
    tr_dq_report_free(&r);
    ck_assert_int_eq(tr_dq_check(b.v, b.n, T("2024-07-12T10:30:00Z"), &o, &r, NULL), TR_OK);
    ck_assert_uint_eq(r.count[TR_DQ_STALE], 0);
    tr_dq_report_free(&r);
    /* errors */
    tr_error e;
    tr_bar swap = b.v[3];
    b.v[3] = b.v[4];
    b.v[4] = swap;
    ck_assert_int_eq(tr_dq_check(b.v, b.n, 0, &o, &r, &e), TR_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.msg, "index 4"));
    o.spike_atr = 0;
    ck_assert_int_eq(tr_dq_check(b.v, b.n, 0, &o, &r, &e), TR_ERR_INVALID);
    tr_bars_free(&b);
}
END_TEST

static int have_data(void)
{
    struct stat st;
    if (stat(AIFX_SHARED_DATA "/eurusd_m15.csv", &st) == 0 &&
        stat(AIFX_SHARED_DATA "/usdjpy_m15.csv", &st) == 0)
        return 1;
    printf("trainer_dq: SKIPPED: %s not found (no ../shared/data in this checkout)\n",
           AIFX_SHARED_DATA);
    return 0;
}

START_TEST(test_real_data)
{
    if (!have_data())
        return;
    static const struct {
        const char *file;
        int32_t tf;
    } files[4] = {{"eurusd_m15.csv", 900},
                  {"usdjpy_m15.csv", 900},
                  {"eurusd_h1.csv", 3600},
                  {"usdjpy_h1.csv", 3600}};
    for (int k = 0; k < 4; k++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", AIFX_SHARED_DATA, files[k].file);
        tr_csv_options co = tr_csv_options_default(files[k].tf);
        tr_csv_data d;
        tr_error e;
        ck_assert_msg(tr_csv_read(path, &co, &d, &e) == TR_OK, "%s", e.msg);
        tr_dq_opts o = tr_dq_opts_default();
        o.timeframe = files[k].tf;
        tr_dq_report r = {0};
        /* as of one hour after the last bar: stale when that hour is open market (eurusd_m15
         * ends on Friday 06:15Z, 45 minutes of missing bars by then) */
        int64_t as_of = d.bars.v[d.bars.n - 1].t + 3600;
        ck_assert_int_eq(tr_dq_check(d.bars.v, d.bars.n, as_of, &o, &r, NULL), TR_OK);
        printf("trainer_dq: %s: %zu bars: gap %zu (%zu missing bars), stale %zu, spike %zu, "
               "zero-range %zu, repeat %zu\n",
               files[k].file, d.bars.n, r.count[TR_DQ_GAP], r.missing_bars, r.count[TR_DQ_STALE],
               r.count[TR_DQ_SPIKE], r.count[TR_DQ_ZERO_RANGE], r.count[TR_DQ_REPEAT]);
        for (size_t i = 0; i < r.n; i++) {
            ck_assert_uint_eq(r.count[r.v[i].kind] > 0, 1);
            if (r.v[i].kind == TR_DQ_GAP && r.v[i].value >= 8) {
                char a[32], b[32];
                printf("  gap %s -> %s: %.0f bars\n", tr_time_format(r.v[i].t, a, sizeof a),
                       tr_time_format(r.v[i].t_end, b, sizeof b), r.v[i].value);
            }
        }
        if (k == 0) {
            ck_assert_uint_eq(r.count[TR_DQ_ZERO_RANGE], 4); /* README: 4 flat bars */
            int found = 0;
            for (size_t i = 0; i < r.n; i++)
                found += r.v[i].kind == TR_DQ_GAP && r.v[i].t == T("2024-07-02T09:15:00Z") &&
                         r.v[i].t_end == T("2024-07-02T21:00:00Z") && r.v[i].value == 47;
            ck_assert_int_eq(found, 1);
        }
        if (k < 2) { /* the same outage in both M15 files; spikes are rare (news bars) */
            ck_assert_uint_gt(r.count[TR_DQ_GAP], 5);
            ck_assert_uint_lt(r.count[TR_DQ_SPIKE], d.bars.n / 1000);
        }
        tr_dq_report_free(&r);
        tr_csv_data_free(&d);
    }
}
END_TEST

static Suite *dq_suite(void)
{
    Suite *s = suite_create("dq");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_market_hours);
    tcase_add_test(tc, test_gaps);
    tcase_add_test(tc, test_bars);
    tcase_add_test(tc, test_stale);
    tcase_add_test(tc, test_real_data);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(dq_suite)
