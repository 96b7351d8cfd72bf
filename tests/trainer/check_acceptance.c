/*
 * check_acceptance.c - issue 5's acceptance run on the real data in ../shared/data (skipped,
 * with a message, when that folder is absent, as in a user's clone): ingest eurusd_m15.csv and
 * usdjpy_m15.csv (each timed and printed, not asserted), re-ingest as a no-op, the label shares
 * of both series, a 3-month pooled dataset, described, and the EUR/USD file written back as an
 * MT4 export in EET/EEST server time and read again with the EET rule.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../check_main.h"
#include "base/csv.h"
#include "base/timeutil.h"
#include "data/dataset.h"
#include "data/ingest.h"
#include "market/labels.h"
#include "store/store.h"
#include "testutil.h"

#ifndef AIFX_SHARED_DATA /* defined by aifx_add_check_suite; a fallback for other builds */
#define AIFX_SHARED_DATA "../shared/data"
#endif

static int have_data(void)
{
    struct stat st;
    if (stat(AIFX_SHARED_DATA "/eurusd_m15.csv", &st) == 0 &&
        stat(AIFX_SHARED_DATA "/usdjpy_m15.csv", &st) == 0)
        return 1;
    printf("trainer_acceptance: SKIPPED: %s not found (no ../shared/data in this checkout)\n",
           AIFX_SHARED_DATA);
    return 0;
}

START_TEST(test_real_data)
{
    if (!have_data())
        return;
    static const char *pairs[2] = {"EURUSD", "USDJPY"};
    static const char *files[2] = {AIFX_SHARED_DATA "/eurusd_m15.csv",
                                   AIFX_SHARED_DATA "/usdjpy_m15.csv"};
    static const size_t expect[2] = {65534, 64861}; /* ../shared/data/README.md */
    char *dir = tu_tempdir();
    tr_store *st;
    tr_error e;
    ck_assert_int_eq(tr_store_open(dir, &(tr_store_options){.create = 1}, &st, &e), TR_OK);
    tr_csv_options o = tr_csv_options_default(900);
    for (int p = 0; p < 2; p++) {
        tr_ingest_result r;
        double t0 = tu_now();
        ck_assert_msg(tr_ingest_csv(st, pairs[p], files[p], &o, 0, &r, &e) == TR_OK, "%s", e.msg);
        double dt = tu_now() - t0;
        printf("trainer_acceptance: ingest %s: %zu bars in %.3f s\n", pairs[p], r.n_read, dt);
        ck_assert_uint_eq(r.n_read, expect[p]);
        ck_assert_uint_eq(r.put.n_added, expect[p]);
        ck_assert_int_eq(tr_ingest_csv(st, pairs[p], files[p], &o, 0, &r, &e), TR_OK);
        ck_assert_uint_eq(r.put.n_unchanged, expect[p]); /* re-ingest: a no-op */
        ck_assert_uint_eq(r.put.n_added, 0);
    }
    /* label shares over each whole series, default parameters */
    for (int p = 0; p < 2; p++) {
        tr_bars b = {0};
        ck_assert_int_eq(tr_store_bars_get(st, pairs[p], 900, INT64_MIN, INT64_MAX, &b, &e), TR_OK);
        int8_t *y = malloc(b.n);
        tr_label_params lp = tr_label_params_default();
        ck_assert_int_eq(tr_labels_compute(b.v, b.n, &lp, y, &e), TR_OK);
        size_t c[4] = {0, 0, 0, 0};
        for (size_t i = 0; i < b.n; i++)
            c[y[i] + 1]++;
        size_t n = c[1] + c[2] + c[3];
        printf("trainer_acceptance: labels %s (k 6, m 1.0, h 16): %zu labelled, hold %.2f%%, "
               "buy %.2f%%, sell %.2f%%, unlabeled %zu\n",
               pairs[p], n, 100.0 * (double)c[1] / (double)n, 100.0 * (double)c[2] / (double)n,
               100.0 * (double)c[3] / (double)n, c[0]);
        ck_assert(c[2] > n / 100 && c[2] < n / 5); /* buy between 1% and 20% */
        ck_assert(c[3] > n / 100 && c[3] < n / 5);
        free(y);
        tr_bars_free(&b);
    }
    /* a 3-month pooled dataset */
    tr_dataset_options opt = tr_dataset_options_default();
    opt.from = T("2025-03-01");
    opt.to = T("2025-06-01");
    tr_dataset *ds;
    double t0 = tu_now();
    ck_assert_msg(tr_dataset_build(st, pairs, 2, 900, &opt, &ds, &e) == TR_OK, "%s", e.msg);
    printf("trainer_acceptance: dataset 2025-03-01..2025-06-01 built in %.3f s: bars in range "
           "%zu (warm-up %zu, unlabeled %zu, gap %zu, embargo %zu)\n",
           tu_now() - t0, ds->n_in_range, ds->n_warmup, ds->n_unlabeled, ds->n_gap, ds->n_embargo);
    static const char *names[3] = {"train", "val", "test"};
    for (int k = 0; k < TR_N_SPLITS; k++) {
        ck_assert_uint_gt(ds->n[k], 1000);
        printf("trainer_acceptance:   %-5s %6zu samples: hold %zu, buy %zu, sell %zu\n", names[k],
               ds->n[k], ds->class_count[k][0], ds->class_count[k][1], ds->class_count[k][2]);
    }
    printf("trainer_acceptance:   class weights hold %.4f buy %.4f sell %.4f\n",
           ds->class_weight[0], ds->class_weight[1], ds->class_weight[2]);
    ck_assert_uint_eq(ds->n_series, 2);
    ck_assert(ds->class_weight[1] > 1 && ds->class_weight[0] < 1);
    tr_dataset_free(ds);
    tr_store_close(st);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_mt4_eet_roundtrip)
{
    /* The real files were converted from MT4 server time (EET/EEST) to UTC. Write
     * eurusd_m15.csv back as an MT4 export in server time and read it with --tz-offset EET: every
     * bar must come back at the same UTC time, across all the clock changes of 2023-2025. */
    if (!have_data())
        return;
    tr_csv_options o = tr_csv_options_default(900);
    tr_csv_data d, m;
    tr_error e;
    ck_assert_int_eq(tr_csv_read(AIFX_SHARED_DATA "/eurusd_m15.csv", &o, &d, &e), TR_OK);
    size_t cap = d.bars.n * 96 + 1, used = 0;
    char *text = malloc(cap);
    for (size_t i = 0; i < d.bars.n; i++) {
        const tr_bar *b = &d.bars.v[i];
        char iso[32];
        tr_time_format(b->t + tr_eet_offset(b->t), iso, sizeof iso);
        /* YYYY-MM-DDTHH:MM:SSZ -> YYYY.MM.DD,HH:MM */
        used += (size_t)snprintf(text + used, cap - used,
                                 "%.4s.%.2s.%.2s,%.5s,%.5f,%.5f,%.5f,%.5f,%.0f\r\n", iso, iso + 5,
                                 iso + 8, iso + 11, b->open, b->high, b->low, b->close, b->volume);
    }
    o.tz_mode = TR_TZ_EET;
    ck_assert_msg(tr_csv_parse("mt4", text, used, &o, &m, &e) == TR_OK, "%s", e.msg);
    ck_assert_int_eq(m.format, TR_CSV_MT4);
    ck_assert_uint_eq(m.bars.n, d.bars.n);
    for (size_t i = 0; i < d.bars.n; i++)
        ck_assert(tr_bar_equal(&m.bars.v[i], &d.bars.v[i]));
    printf("trainer_acceptance: %zu EUR/USD bars round-tripped through MT4 server time (EET)\n",
           m.bars.n);
    tr_csv_data_free(&d);
    tr_csv_data_free(&m);
    free(text);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trainer_acceptance");
    TCase *tc = tcase_create("shared_data");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_real_data);
    tcase_add_test(tc, test_mt4_eet_roundtrip);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(suite)
