/*
 * check_livefeat.c - a pair's live features (cycles/livefeat.h) against tr_predict_window's batch
 * over the last 5,000 bars: the same window and the same probabilities at every new bar; when
 * the store is read; a replaced bar rebuilds.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cycles/cycle.h"
#include "cycles/livefeat.h"
#include "market/synth.h"
#include "testutil.h"

static aifx_model *tiny_model(void)
{
    aifx_model_config c = aifx_model_config_default();
    c.n_features = TR_N_FEATURES;
    c.n_classes = 3;
    c.n_steps = 20;
    c.n_hidden = 8;
    c.seed = 7;
    aifx_model *m;
    ck_assert_int_eq(aifx_model_new(&c, &m), AIFX_OK);
    return m;
}

START_TEST(test_live_equals_batch)
{
    char *dir = tu_tempdir();
    tr_store *st;
    tr_error e;
    ck_assert_int_eq(tr_store_open(dir, &(tr_store_options){.create = 1}, &st, &e), TR_OK);
    tr_synth_params sp =
        tr_synth_params_default("EURUSD", T("2024-01-01"), T("2024-05-01"), (uint64_t)5);
    tr_bars b = {0};
    int dec;
    ck_assert_int_eq(tr_synth_generate(&sp, &b, &dec, &e), TR_OK);
    ck_assert_uint_gt(b.n, 7000);
    /* the store holds the first 6,000 bars; then one arrives at a time */
    const size_t n0 = 6000;
    tr_put_stats ps;
    ck_assert_int_eq(tr_store_bars_put(st, "EURUSD", 900, b.v, n0, 0, &ps, &e), TR_OK);
    aifx_model *m = tiny_model();
    tr_live_pair *lp;
    ck_assert_int_eq(tr_live_pair_new("EURUSD", 900, &lp, &e), TR_OK);
    double *feat = malloc((size_t)TR_PREDICT_MAX_HISTORY * TR_N_FEATURES * sizeof *feat);
    float x[20 * TR_N_FEATURES];
    ck_assert_ptr_nonnull(feat);
    size_t n_reads = 0, n_rebuilds = 0;
    for (size_t n = n0; n <= n0 + 200; n++) {
        if (n > n0)
            ck_assert_int_eq(tr_store_bars_put(st, "EURUSD", 900, &b.v[n - 1], 1, 0, &ps, &e),
                             TR_OK);
        int64_t as_of = b.v[n - 1].t + 900;
        /* two requests per bar: the second reads nothing */
        for (int k = 0; k < 2; k++) {
            tr_live_sync w;
            tr_code rc = tr_live_pair_sync(lp, st, as_of + k * 60, (double)n, 0.5, &w, &e);
            ck_assert_msg(rc == TR_OK, "sync at bar %zu: %s", n, e.msg);
            n_reads += (size_t)w.read;
            n_rebuilds += (size_t)w.rebuilt;
            if (k == 1)
                ck_assert(!w.read);
        }
        ck_assert_int_eq(tr_live_pair_last(lp), b.v[n - 1].t);
        size_t want_hist = n < TR_PREDICT_MAX_HISTORY ? n : TR_PREDICT_MAX_HISTORY;
        ck_assert_uint_ge(tr_live_pair_history(lp), want_hist);
        float pb[3], pl[3];
        int bb, bl;
        ck_assert_int_eq(tr_predict_window(m, NULL, "EURUSD", b.v, n, feat, x, pb, &bb, &e), TR_OK);
        ck_assert_int_eq(tr_live_pair_predict(lp, m, NULL, pl, &bl, &e), TR_OK);
        ck_assert_msg(memcmp(pb, pl, sizeof pb) == 0,
                      "bar %zu: batch %.9g %.9g %.9g, live %.9g %.9g %.9g", n, pb[0], pb[1], pb[2],
                      pl[0], pl[1], pl[2]);
        ck_assert_int_eq(bb, bl);
    }
    ck_assert_uint_eq(n_reads, 201);
    ck_assert_uint_eq(n_rebuilds, 1);

    /* the past is the batch's: refused */
    ck_assert_int_eq(tr_live_pair_sync(lp, st, b.v[n0].t, 1e6, 0, NULL, &e), TR_ERR_CONFLICT);
    /* no new bar yet, asked again within the interval: not read */
    tr_live_sync w;
    int64_t late = b.v[n0 + 199].t + 3 * 900;
    ck_assert_int_eq(tr_live_pair_sync(lp, st, late, 2e6, 10, &w, &e), TR_OK);
    ck_assert(w.read && !w.pushed);
    ck_assert_int_eq(tr_live_pair_sync(lp, st, late, 2e6 + 1, 10, &w, &e), TR_OK);
    ck_assert(!w.read);
    ck_assert_int_eq(tr_live_pair_sync(lp, st, late, 2e6 + 11, 10, &w, &e), TR_OK);
    ck_assert(w.read);

    /* the newest bar replaced in the store: the next read rebuilds, and matches the batch */
    tr_bar changed = b.v[n0 + 199];
    changed.close = changed.close * 1.0001;
    if (changed.close > changed.high)
        changed.high = changed.close;
    ck_assert_int_eq(tr_store_bars_put(st, "EURUSD", 900, &changed, 1, 1, &ps, &e), TR_OK);
    b.v[n0 + 199] = changed;
    ck_assert_int_eq(tr_store_bars_put(st, "EURUSD", 900, &b.v[n0 + 200], 1, 0, &ps, &e), TR_OK);
    ck_assert_int_eq(tr_live_pair_sync(lp, st, b.v[n0 + 200].t + 900, 3e6, 0, &w, &e), TR_OK);
    ck_assert(w.read && w.rebuilt);
    float pb[3], pl[3];
    int bb, bl;
    ck_assert_int_eq(tr_predict_window(m, NULL, "EURUSD", b.v, n0 + 201, feat, x, pb, &bb, &e),
                     TR_OK);
    ck_assert_int_eq(tr_live_pair_predict(lp, m, NULL, pl, &bl, &e), TR_OK);
    ck_assert(memcmp(pb, pl, sizeof pb) == 0);

    free(feat);
    tr_live_pair_free(lp);
    aifx_model_free(m);
    tr_bars_free(&b);
    tr_store_close(st);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trainer_livefeat");
    TCase *tc = tcase_create("live");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_live_equals_batch);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
