/*
 * check_dataset.c - windows, time split with embargo, gap policy, scaler on training rows only,
 * balanced class weights, option checks, the history kept before the range, and building from the
 * store.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check_main.h"
#include "base/timeutil.h"
#include "data/dataset.h"
#include "testutil.h"

#define M15 900
#define MON 1704067200 /* 2024-01-01T00:00:00Z, a Monday */

/* A walk of n bars on the 15-minute grid without the weekend closure (Friday 22:00 to Sunday
 * 22:00 UTC) and without the bars of [gap_from, gap_to). Returns the number kept. */
static size_t market_walk(tr_bar *out, size_t n, unsigned seed, double price, int64_t gap_from,
                          int64_t gap_to)
{
    tr_bar *all = malloc(2 * n * sizeof *all);
    tu_walk(all, 2 * n, MON, M15, seed, price);
    size_t m = 0;
    for (size_t i = 0; i < 2 * n && m < n; i++) {
        int64_t t = all[i].t;
        int wd = tr_weekday(t);
        int64_t sec = t % 86400;
        int closed = (wd == 4 && sec >= 22 * 3600) || wd == 5 || (wd == 6 && sec < 22 * 3600);
        if (closed || (t >= gap_from && t < gap_to))
            continue;
        out[m++] = all[i];
    }
    free(all);
    return m;
}

START_TEST(test_scaler_and_weights)
{
    double a[TR_N_FEATURES], b[TR_N_FEATURES], c[TR_N_FEATURES];
    for (int f = 0; f < TR_N_FEATURES; f++) {
        a[f] = 1;
        b[f] = 3;
        c[f] = f == 0 ? 3 : 5;
    }
    const double *rows[3] = {a, b, c};
    double mean[TR_N_FEATURES], sd[TR_N_FEATURES];
    tr_scaler_fit(3, rows, mean, sd);
    ck_assert_double_eq_tol(mean[1], 3.0, 1e-15);
    ck_assert_double_eq_tol(sd[1], sqrt(8.0 / 3.0), 1e-15);
    ck_assert_double_eq_tol(mean[0], 7.0 / 3.0, 1e-15);
    tr_scaler_fit(2, rows, mean, sd); /* rows a, b: feature values 1 and 3 -> sd 1 */
    ck_assert_double_eq_tol(sd[5], 1.0, 1e-15);
    const double *same[2] = {a, a};
    tr_scaler_fit(2, same, mean, sd);
    ck_assert_double_eq(sd[0], 1.0); /* constant feature: sd 1, not 0 */
    size_t count[3] = {80, 10, 10};
    double w[3];
    tr_class_weights(count, 3, w);
    ck_assert_double_eq_tol(w[0], 100.0 / 240.0, 1e-15);
    ck_assert_double_eq_tol(w[1], 100.0 / 30.0, 1e-15);
    size_t absent[3] = {90, 10, 0};
    tr_class_weights(absent, 3, w);
    ck_assert_double_eq(w[2], 0.0);
    ck_assert_double_eq_tol(w[1], 100.0 / 30.0, 1e-15);
}
END_TEST

static tr_dataset *two_pairs(const tr_dataset_options *o, size_t n, int64_t gap_from,
                             int64_t gap_to)
{
    tr_bar *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    size_t na = market_walk(a, n, 21, 1.1, gap_from, gap_to);
    size_t nb = market_walk(b, n, 22, 150.0, 0, 0);
    const char *pairs[2] = {"EURUSD", "USDJPY"};
    const tr_bar *bars[2] = {a, b};
    size_t nn[2] = {na, nb};
    tr_dataset *ds;
    tr_error e;
    ck_assert_msg(tr_dataset_from_bars(pairs, bars, nn, 2, M15, o, &ds, &e) == TR_OK, "%s", e.msg);
    free(a);
    free(b);
    return ds;
}

START_TEST(test_split_embargo_and_windows)
{
    tr_dataset_options o = tr_dataset_options_default();
    tr_dataset *ds = two_pairs(&o, 8000, 0, 0);
    const size_t T = 20, E = 36;
    size_t total = 0;
    for (int k = 0; k < TR_N_SPLITS; k++) {
        ck_assert_uint_gt(ds->n[k], 0);
        total += ds->n[k];
        size_t cc = 0;
        for (int c = 0; c < TR_N_CLASSES; c++)
            cc += ds->class_count[k][c];
        ck_assert_uint_eq(cc, ds->n[k]);
    }
    ck_assert_uint_eq(ds->n_in_range,
                      total + ds->n_warmup + ds->n_unlabeled + ds->n_gap + ds->n_embargo);
    ck_assert_uint_gt(ds->n_embargo, 0);
    /* time order of the parts, and roughly 70/15/15 */
    ck_assert_int_lt(ds->last[0], ds->cut[0]);
    ck_assert_int_ge(ds->first[1], ds->cut[0]);
    ck_assert_int_lt(ds->last[1], ds->cut[1]);
    ck_assert_int_ge(ds->first[2], ds->cut[1]);
    ck_assert(fabs((double)ds->n[0] / (double)total - 0.70) < 0.02);
    /* embargo per series: the last train index + T + max(k, h) < the first val index */
    for (int s = 0; s < 2; s++) {
        size_t last_train = 0, first_val = SIZE_MAX, last_val = 0, first_test = SIZE_MAX;
        for (size_t i = 0; i < ds->n[0]; i++)
            if (ds->samples[0][i].series == (uint32_t)s && ds->samples[0][i].index > last_train)
                last_train = ds->samples[0][i].index;
        for (size_t i = 0; i < ds->n[1]; i++) {
            if (ds->samples[1][i].series != (uint32_t)s)
                continue;
            if (ds->samples[1][i].index < first_val)
                first_val = ds->samples[1][i].index;
            if (ds->samples[1][i].index > last_val)
                last_val = ds->samples[1][i].index;
        }
        for (size_t i = 0; i < ds->n[2]; i++)
            if (ds->samples[2][i].series == (uint32_t)s && ds->samples[2][i].index < first_test)
                first_test = ds->samples[2][i].index;
        /* a val window starts at first_val - T + 1; the train label ends at last_train + 16 */
        ck_assert_uint_gt(first_val - T + 1, last_train + 16);
        ck_assert_uint_ge(first_val - last_train, E + 1);
        ck_assert_uint_ge(first_test - last_val, E + 1);
    }
    /* every sample: full feature rows, a label */
    for (int k = 0; k < TR_N_SPLITS; k++) {
        for (size_t i = 0; i < ds->n[k]; i++) {
            tr_sample smp = ds->samples[k][i];
            ck_assert_uint_ge(smp.index, TR_FEATURE_WARMUP + T - 1);
            ck_assert_int_ge(ds->series[smp.series].labels[smp.index], 0);
        }
    }
    /* the scaler comes from the training rows only */
    double mean0 = 0;
    for (size_t i = 0; i < ds->n[0]; i++) {
        tr_sample smp = ds->samples[0][i];
        mean0 += ds->series[smp.series].features[(size_t)smp.index * TR_N_FEATURES + 14];
    }
    mean0 /= (double)ds->n[0];
    ck_assert_double_eq_tol(ds->mean[14], mean0, 1e-9);
    /* class weights from the training counts */
    double w[3];
    tr_class_weights(ds->class_count[0], 3, w);
    for (int c = 0; c < 3; c++)
        ck_assert_double_eq(ds->class_weight[c], w[c]);
    /* a window: T rows ending at the sample's bar, scaled */
    float x[20 * TR_N_FEATURES];
    int32_t y;
    tr_dataset_window(ds, TR_SPLIT_VAL, 5, x, &y);
    tr_sample smp = ds->samples[1][5];
    const double *row = ds->series[smp.series].features;
    ck_assert_int_eq(y, ds->series[smp.series].labels[smp.index]);
    for (int f = 0; f < TR_N_FEATURES; f++) {
        double last =
            (row[(size_t)smp.index * TR_N_FEATURES + (size_t)f] - ds->mean[f]) / ds->sd[f];
        double first =
            (row[(size_t)(smp.index - 19) * TR_N_FEATURES + (size_t)f] - ds->mean[f]) / ds->sd[f];
        ck_assert_float_eq_tol(x[19 * TR_N_FEATURES + f], (float)last,
                               1e-5f * (1 + fabsf((float)last)));
        ck_assert_float_eq_tol(x[f], (float)first, 1e-5f * (1 + fabsf((float)first)));
    }
    tr_dataset_free(ds);
}
END_TEST

START_TEST(test_gaps)
{
    /* weekends alone exclude nothing; a mid-week outage of 3 hours excludes the windows and
     * label horizons that span it */
    tr_dataset_options o = tr_dataset_options_default();
    tr_dataset *ds = two_pairs(&o, 6000, 0, 0);
    ck_assert_uint_eq(ds->n_gap, 0);
    tr_dataset_free(ds);
    int64_t g0 = MON + 21 * 86400 + 10 * 3600, g1 = g0 + 3 * 3600; /* Monday of week 4 */
    ds = two_pairs(&o, 6000, g0, g1);
    /* samples whose bars i-T+1..i+16 span the gap: it is one of their T - 1 + 16 = 35 steps */
    ck_assert_uint_eq(ds->n_gap, 35);
    for (int k = 0; k < TR_N_SPLITS; k++) {
        for (size_t i = 0; i < ds->n[k]; i++) {
            tr_sample smp = ds->samples[k][i];
            if (smp.series != 0)
                continue;
            const tr_bar *b = ds->series[0].bars.v;
            int64_t a = b[smp.index - 19].t, z = b[smp.index + 16].t;
            ck_assert(!(a < g0 && z >= g1));
        }
    }
    tr_dataset_free(ds);
    /* a 1-hour outage (4 missing bars) is tolerated with the default max gap of 4 bars */
    ds = two_pairs(&o, 6000, g0, g0 + 3600);
    ck_assert_uint_eq(ds->n_gap, 0);
    tr_dataset_free(ds);
}
END_TEST

START_TEST(test_range_and_tail)
{
    tr_dataset_options o = tr_dataset_options_default();
    o.from = MON + 14 * 86400;
    o.to = MON + 42 * 86400;
    tr_dataset *ds = two_pairs(&o, 6000, 0, 0);
    for (int s = 0; s < 2; s++) {
        const tr_bars *b = &ds->series[s].bars;
        ck_assert_int_lt(b->v[b->n - 1].t, o.to); /* nothing at or after `to` is read */
        for (size_t i = b->n - 16; i < b->n; i++)
            ck_assert_int_eq(ds->series[s].labels[i], TR_LABEL_NONE);
    }
    ck_assert_uint_eq(ds->n_unlabeled, 32); /* the last 16 bars of each pair */
    for (int k = 0; k < TR_N_SPLITS; k++) {
        ck_assert_int_ge(ds->first[k], o.from);
        ck_assert_int_lt(ds->last[k], o.to);
    }
    tr_dataset_free(ds);
}
END_TEST

/* The history kept before `from` (TR_DATASET_CONTEXT bars): the series start there, and every
 * sample's rows and label are those computed over the whole series, bit for bit, for reversal
 * and barrier labels. */
START_TEST(test_history_context)
{
    const size_t n = 16000;
    tr_bar *a = malloc(n * sizeof *a);
    size_t na = market_walk(a, n, 23, 1.1, 0, 0);
    double *feat = malloc(na * TR_N_FEATURES * sizeof *feat);
    int8_t *lab = malloc(na);
    tr_error e;
    ck_assert_int_eq(tr_features_compute(a, na, feat, &e), TR_OK);
    const size_t first = 12000; /* the first bar of the range */
    for (int kind = TR_LABELS_REVERSAL; kind <= TR_LABELS_BARRIER; kind++) {
        tr_dataset_options o = tr_dataset_options_default();
        o.label.kind = kind;
        o.from = a[first].t;
        o.to = a[na - 1].t + M15;
        o.no_split = 1;
        tr_label_params lp = tr_label_params_for_pair(&o.label, "EURUSD");
        ck_assert_int_eq(tr_labels_compute(a, na, &lp, lab, &e), TR_OK);
        const char *pairs[1] = {"EURUSD"};
        const tr_bar *bars[1] = {a};
        size_t nn[1] = {na};
        tr_dataset *ds;
        ck_assert_msg(tr_dataset_from_bars(pairs, bars, nn, 1, M15, &o, &ds, &e) == TR_OK, "%s",
                      e.msg);
        const tr_dataset_series *se = &ds->series[0];
        const size_t drop = first - TR_DATASET_CONTEXT;
        ck_assert_uint_eq(se->bars.n, na - drop);
        ck_assert_int_eq(se->bars.v[0].t, a[drop].t);
        ck_assert_uint_gt(ds->n[TR_SPLIT_TEST], 3000);
        for (size_t i = 0; i < ds->n[TR_SPLIT_TEST]; i++) {
            tr_sample sm = ds->samples[TR_SPLIT_TEST][i];
            size_t k = sm.index + drop; /* in the whole series */
            ck_assert_int_ge(a[k].t, o.from);
            ck_assert_int_eq(se->labels[sm.index], lab[k]);
            ck_assert(memcmp(se->features + (sm.index + 1 - 20) * TR_N_FEATURES,
                             feat + (k + 1 - 20) * TR_N_FEATURES,
                             20 * TR_N_FEATURES * sizeof *feat) == 0);
        }
        tr_dataset_free(ds);
    }
    /* from before the context: nothing dropped */
    tr_dataset_options o = tr_dataset_options_default();
    o.from = a[TR_DATASET_CONTEXT - 1].t;
    o.to = a[na - 1].t + M15;
    o.no_split = 1;
    const char *pairs[1] = {"EURUSD"};
    const tr_bar *bars[1] = {a};
    size_t nn[1] = {na};
    tr_dataset *ds;
    ck_assert_int_eq(tr_dataset_from_bars(pairs, bars, nn, 1, M15, &o, &ds, &e), TR_OK);
    ck_assert_uint_eq(ds->series[0].bars.n, na);
    tr_dataset_free(ds);
    free(a);
    free(feat);
    free(lab);
}
END_TEST

START_TEST(test_bad_options)
{
    tr_bar b[10];
    tu_walk(b, 10, MON, M15, 1, 1.1);
    const char *pairs[1] = {"EURUSD"};
    const tr_bar *bars[1] = {b};
    size_t n[1] = {10};
    tr_dataset *ds;
    tr_error e;
    tr_dataset_options o = tr_dataset_options_default();
    o.embargo = 35;
    ck_assert_int_eq(tr_dataset_from_bars(pairs, bars, n, 1, M15, &o, &ds, &e), TR_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.msg, "embargo"));
    o = tr_dataset_options_default();
    o.window = 0;
    ck_assert_int_eq(tr_dataset_from_bars(pairs, bars, n, 1, M15, &o, &ds, &e), TR_ERR_INVALID);
    o = tr_dataset_options_default();
    o.from = o.to = 5;
    ck_assert_int_eq(tr_dataset_from_bars(pairs, bars, n, 1, M15, &o, &ds, &e), TR_ERR_INVALID);
    o = tr_dataset_options_default();
    o.train_frac = 0.9;
    o.val_frac = 0.1;
    ck_assert_int_eq(tr_dataset_from_bars(pairs, bars, n, 1, M15, &o, &ds, &e), TR_ERR_INVALID);
    o = tr_dataset_options_default();
    ck_assert_int_eq(tr_dataset_from_bars(pairs, bars, n, 1, M15, &o, &ds, &e), TR_ERR_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(e.msg, "usable samples"));
}
END_TEST

START_TEST(test_from_store)
{
    char *dir = tu_tempdir();
    tr_store *st;
    tr_error e;
    ck_assert_int_eq(tr_store_open(dir, &(tr_store_options){.create = 1}, &st, &e), TR_OK);
    tr_bar *b = malloc(3000 * sizeof *b);
    size_t n = market_walk(b, 3000, 5, 1.1, 0, 0);
    ck_assert_int_eq(tr_store_bars_put(st, "EURUSD", M15, b, n, 0, NULL, &e), TR_OK);
    const char *pairs[2] = {"EURUSD", "GBPUSD"};
    tr_dataset_options o = tr_dataset_options_default();
    tr_dataset *ds;
    ck_assert_int_eq(tr_dataset_build(st, pairs, 1, M15, &o, &ds, &e), TR_OK);
    ck_assert_uint_gt(ds->n[0], 1000);
    tr_dataset_free(ds);
    ck_assert_int_eq(tr_dataset_build(st, pairs, 2, M15, &o, &ds, &e), TR_ERR_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(e.msg, "GBPUSD"));
    tr_store_close(st);
    free(b);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trainer_dataset");
    TCase *tc = tcase_create("dataset");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_scaler_and_weights);
    tcase_add_test(tc, test_split_embargo_and_windows);
    tcase_add_test(tc, test_gaps);
    tcase_add_test(tc, test_range_and_tail);
    tcase_add_test(tc, test_history_context);
    tcase_add_test(tc, test_bad_options);
    tcase_add_test(tc, test_from_store);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(suite)
