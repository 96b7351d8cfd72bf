/*
 * check_driftcheck.c - the drift check (cycles/driftcheck.h) on a store: the week after a
 * version's data with its moves blown up five-fold drifts in its range and volatility features,
 * far more than the same week drawn as the generator made it; the daily cycle then keeps a
 * report, a log row and a "drift" event in the outbox; with no version it is a skip that says
 * why.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fsutil.h"
#include "cycles/cycle.h"
#include "cycles/driftcheck.h"
#include "cycles/rank.h"
#include "cycles/schedule.h"
#include "data/ingest.h"
#include "market/dq.h"
#include "market/labels.h"
#include "market/synth.h"
#include "testutil.h"

static tr_store *store_with(const char *dir, double blow_up)
{
    tr_error e;
    tr_store *st;
    ck_assert_int_eq(tr_store_open(dir, &(tr_store_options){.create = 1}, &st, &e), TR_OK);
    tr_synth_params sp =
        tr_synth_params_default("EURUSD", T("2024-01-01"), T("2024-03-15"), (uint64_t)3);
    tr_bars b = {0};
    int dec;
    ck_assert_int_eq(tr_synth_generate(&sp, &b, &dec, &e), TR_OK);
    /* after March 8th: every move from the previous close blown up */
    double prev = 0, prev_new = 0;
    for (size_t i = 0; i < b.n; i++) {
        tr_bar *x = &b.v[i];
        if (x->t >= T("2024-03-08") && blow_up != 1.0) {
            double c0 = prev, base = prev_new;
            double o = base + (x->open - c0) * blow_up, h = base + (x->high - c0) * blow_up;
            double l = base + (x->low - c0) * blow_up, c = base + (x->close - c0) * blow_up;
            prev = x->close;
            x->open = o, x->high = h, x->low = l, x->close = c;
            prev_new = c;
        } else {
            prev = prev_new = x->close;
        }
    }
    tr_put_stats ps;
    ck_assert_int_eq(tr_store_bars_put(st, "EURUSD", 900, b.v, b.n, 0, &ps, &e), TR_OK);
    tr_bars_free(&b);
    return st;
}

static const tr_due_item *slot_of(const tr_due_result *r, int slot)
{
    for (int i = 0; i < r->n_items; i++)
        if (r->items[i].slot == slot)
            return &r->items[i];
    ck_abort_msg("no item for slot %d", slot);
    return NULL;
}

static void train(tr_store *st)
{
    tr_full_opts fo = tr_full_opts_default();
    fo.decision = TR_DECISION_ARGMAX; /* mechanics on an untrained net: no edge to find */
    fo.as_of = T("2024-03-08");
    fo.months = 2;
    fo.n_hidden = 8;
    fo.max_epochs = 2;
    fo.patience = 1;
    tr_cycle_result cr;
    tr_error e;
    tr_code rc = tr_cycle_full(st, &fo, &cr, &e);
    ck_assert_msg(rc == TR_OK, "full: %s", e.msg);
}

START_TEST(test_drift_calm_and_blown_up)
{
    char *dir = tu_tempdir(), *a = tu_path(dir, "calm"), *b = tu_path(dir, "wild");
    tr_store *calm = store_with(a, 1.0), *wild = store_with(b, 5.0);
    tr_error e;
    /* no version yet: the cycle skips, saying why */
    tr_due_opts d = tu_tiny_due("2024-03-15T04:00");
    for (int k = 0; k < TR_N_SLOTS; k++)
        d.sched.enabled[k] = k == TR_SLOT_DRIFT;
    tr_due_result r;
    ck_assert_int_eq(tr_run_due(calm, &d, &r, &e), TR_OK);
    const tr_due_item *it = slot_of(&r, TR_SLOT_DRIFT);
    ck_assert_msg(it->outcome == TR_RUN_SKIPPED && strstr(it->detail, "no active"), "%s",
                  it->detail);
    train(calm);
    train(wild);

    tr_driftcheck_opts o = tr_driftcheck_opts_default();
    o.as_of = T("2024-03-15");
    tr_driftcheck_result *rc = malloc(sizeof *rc), *rw = malloc(sizeof *rw);
    ck_assert_int_eq(tr_driftcheck_run(calm, &o, rc, &e), TR_OK);
    ck_assert_int_eq(tr_driftcheck_run(wild, &o, rw, &e), TR_OK);
    ck_assert_str_eq(rc->version, "v1.0");
    /* the reference written at training time, from the training part's rows */
    ck_assert_str_eq(rc->ref_source, "training");
    tr_drift_reference *stored = malloc(sizeof *stored);
    ck_assert_int_eq(tr_drift_reference_load(calm, "v1.0", stored, &e), TR_OK);
    ck_assert_uint_eq(stored->n_rows, rc->n_ref_rows);
    ck_assert(stored->realised_vol > 0 && stored->true_counts[0] > 0);
    free(stored);
    ck_assert_uint_gt(rc->n_ref_rows, 2000);
    ck_assert_uint_gt(rc->n_cur_rows, 400);
    /* Evidently's defaults are strict: a week of a trending series already moves many level
     * features by a tenth of a standard deviation (the calm week drifts too); the wild week's
     * range and volatility features drift on top */
    ck_assert_msg(rw->dataset.drift, "wild: %s", rw->summary);
    ck_assert_msg(rw->dataset.n_drifted > rc->dataset.n_drifted, "calm: %s; wild: %s", rc->summary,
                  rw->summary);
    static const int range_like[] = {4, 28, 30, 31}; /* range, natr14, bb_width, vol20 */
    for (int i = 0; i < 4; i++) {
        int f = range_like[i];
        ck_assert_msg(rw->features[f].drift && rw->features[f].stat > rc->features[f].stat,
                      "%s: calm %g, wild %g", tr_feature_names[f], rc->features[f].stat,
                      rw->features[f].stat);
    }
    /* scale-free features (time of day) never drift; range-like ones do in the wild week */
    for (int f = 34; f < 38; f++)
        ck_assert_msg(!rw->features[f].drift, "%s drifted", tr_feature_names[f]);
    /* the wild store's cycle: report, log row, event */
    tr_registry reg;
    ck_assert_int_eq(tr_store_registry_read(wild, &reg, &e), TR_OK);
    int64_t events_before = reg.last_event_id;
    tr_registry_free(&reg);
    d.sched.enabled[TR_SLOT_DRIFT] = 1;
    ck_assert_int_eq(tr_run_due(wild, &d, &r, &e), TR_OK);
    it = slot_of(&r, TR_SLOT_DRIFT);
    ck_assert_msg(it->outcome == TR_RUN_COMPLETED, "%s", it->detail);
    ck_assert_ptr_nonnull(strstr(it->detail, "DATASET DRIFT"));
    ck_assert_int_eq(tu_log_rows(wild, "drift", T("2024-03-15T03:00"), TR_LOG_COMPLETED), 1);
    char path[4400];
    ck_assert_int_eq(
        tr_store_path(wild, TR_AREA_REPORTS, "drift-2024-03-15T0300.json", path, sizeof path, &e),
        TR_OK);
    struct stat sb;
    ck_assert_msg(stat(path, &sb) == 0 && sb.st_size > 1000, "%s", path);
    ck_assert_int_eq(tr_store_registry_read(wild, &reg, &e), TR_OK);
    /* the "drift" event, and a "data_quality" one: the feed is stale at 03:00 (its last bar
     * closed at midnight) */
    ck_assert_int_eq(reg.last_event_id, events_before + 2);
    tr_registry_free(&reg);
    /* the monthly report draws the drift checks of its window */
    tr_rank_opts ro = tr_rank_opts_default();
    ro.as_of = T("2024-03-15T05:00");
    ro.min_trades = 0;
    ro.no_guard = 1;
    tr_rank_result rr;
    tr_code rrc = tr_rank_run(wild, &ro, &rr, &e);
    ck_assert_msg(rrc == TR_OK, "rank: %s", e.msg);
    char *md;
    size_t md_len;
    ck_assert_int_eq(tr_file_read(rr.report_path, &md, &md_len, &e), TR_OK);
    ck_assert_msg(strstr(md, "![drift](rank-2024-03-15-drift.png)") != NULL, "%s", md);
    free(md);
    ck_assert_int_eq(
        tr_store_path(wild, TR_AREA_REPORTS, "rank-2024-03-15-drift.png", path, sizeof path, &e),
        TR_OK);
    ck_assert_int_eq(stat(path, &sb), 0);
    tr_rank_result_free(&rr);
    free(rc);
    free(rw);
    tr_store_close(calm);
    tr_store_close(wild);
    tu_rmtree(dir);
    free(dir);
    free(a);
    free(b);
}
END_TEST

/* The watch: a stale feed, and a version that loses where its backtest won and trades far more
 * than on its validation part, each alert with its figures. */
START_TEST(test_watch_alerts)
{
    char *dir = tu_tempdir(), *a = tu_path(dir, "s");
    tr_store *st = store_with(a, 1.0);
    train(st);
    tr_error e;
    tr_registry reg;
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    tr_version v = *tr_registry_find(&reg, "v1.0");
    tr_registry_free(&reg);
    v.bt.trades = 100;
    v.bt.wins = 60;
    v.bt.avg_pips = 5.0;
    v.figs[1].buy_share = v.figs[1].sell_share = 0.05;
    tr_reg_txn t = {0};
    t.update = &v;
    t.n_update = 1;
    t.now = T("2024-03-14");
    ck_assert_int_eq(tr_store_registry_commit(st, &t, &e), TR_OK);
    /* 40 losing trades and 100 holds of v1.0 in the last week */
    tr_signal g[140];
    memset(g, 0, sizeof g);
    for (int i = 0; i < 140; i++) {
        snprintf(g[i].pair, sizeof g[i].pair, "EURUSD");
        g[i].timeframe = 900;
        g[i].bar_time = T("2024-03-11") + (int64_t)i * 900;
        g[i].signal = i < 40 ? TR_LABEL_BUY : TR_LABEL_HOLD;
        g[i].confidence = 0.6;
        snprintf(g[i].model_version, sizeof g[i].model_version, "v1.0");
        snprintf(g[i].outcome, sizeof g[i].outcome, "%s", i < 40 ? "loss" : "none");
        g[i].exit_time = i < 40 ? g[i].bar_time + 3600 : 0;
        g[i].pnl_pips = i < 40 ? (i % 2 ? -8.0 : -12.0) : 0;
    }
    ck_assert_int_eq(tr_store_signals_append(st, g, 140, &e), TR_OK);
    tr_watch_result w;
    ck_assert_int_eq(tr_watch_run(st, T("2024-03-15T04:00"), 900, &w, &e), TR_OK);
    ck_assert_int_eq(w.live_trades, 40);
    ck_assert_int_eq(w.live_wins, 0);
    ck_assert(w.alert_winrate && w.p_winrate < 1e-10);
    ck_assert(w.alert_pnl && w.t_pnl < -2.33);
    ck_assert(w.alert_collapse && w.live_share > 0.28 && w.live_share < 0.29);
    ck_assert_ptr_nonnull(strstr(w.alerts, "overtrades"));
    ck_assert_uint_eq(w.dq.count[TR_DQ_STALE], 1); /* no bar since Thursday 23:45 */
    ck_assert_ptr_nonnull(strstr(w.dq.first, "EURUSD"));
    /* the same finding from the command, and the drift command's JSON */
    ck_assert_int_eq(tu_run(AIFX_TRAIN_EXE, dir,
                            "dq --store '%s' --as-of 2024-03-15T04:00:00Z "
                            "--days 2 --json",
                            a),
                     0);
    ck_assert(tu_output_has(dir, "{\"pairs\":[{\"pair\":\"EURUSD\",\"findings\":[{\"kind\":"
                                 "\"stale\",\"from\":\"2024-03-14T23:45:00Z\""));
    ck_assert_int_eq(tu_run(AIFX_TRAIN_EXE, dir, "drift --store '%s' --as-of 2024-03-15 --json", a),
                     0);
    ck_assert(tu_output_has(dir, "\"version\":\"v1.0\"") &&
              tu_output_has(dir, "\"name\":\"natr14\",\"method\":\"wasserstein\""));
    /* a run a moment after the last bar: no finding, and the same alerts */
    ck_assert_int_eq(tr_watch_run(st, T("2024-03-15T00:00"), 900, &w, &e), TR_OK);
    ck_assert_uint_eq(w.dq.count[TR_DQ_STALE], 0);
    ck_assert(w.alert_winrate);
    tr_store_close(st);
    tu_rmtree(dir);
    free(dir);
    free(a);
}
END_TEST

/* Ingest reports the data quality of what it read and announces it, storing every bar. */
START_TEST(test_ingest_reports_quality)
{
    char *dir = tu_tempdir();
    tr_error e;
    tr_store *st;
    ck_assert_int_eq(tr_store_open(dir, &(tr_store_options){.create = 1}, &st, &e), TR_OK);
    tr_synth_params sp =
        tr_synth_params_default("EURUSD", T("2024-03-04"), T("2024-03-08"), (uint64_t)3);
    tr_csv_data d;
    memset(&d, 0, sizeof d);
    int dec;
    ck_assert_int_eq(tr_synth_generate(&sp, &d.bars, &dec, &e), TR_OK);
    /* a hole of 8 bars on Tuesday at 10:00 */
    size_t k = 0;
    while (d.bars.v[k].t < T("2024-03-05T10:00"))
        k++;
    memmove(&d.bars.v[k], &d.bars.v[k + 8], (d.bars.n - k - 8) * sizeof d.bars.v[0]);
    d.bars.n -= 8;
    d.line = calloc(d.bars.n, sizeof *d.line);
    tr_ingest_result r;
    ck_assert_int_eq(tr_ingest_bars(st, "EURUSD", "mem", &d, 900, 0, &r, &e), TR_OK);
    ck_assert_uint_eq(r.put.n_added, d.bars.n);
    ck_assert_uint_eq(r.dq.count[TR_DQ_GAP], 1);
    ck_assert_uint_eq(r.dq.missing_bars, 8);
    ck_assert_ptr_nonnull(strstr(r.dq.first, "EURUSD gap at 2024-03-05T10:00:00Z"));
    tr_registry reg;
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    ck_assert_int_eq(reg.last_event_id, 1); /* the data_quality event */
    tr_registry_free(&reg);
    /* the same bars again: nothing added, nothing announced */
    ck_assert_int_eq(tr_ingest_bars(st, "EURUSD", "mem", &d, 900, 0, &r, &e), TR_OK);
    ck_assert_uint_eq(r.put.n_added, 0);
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    ck_assert_int_eq(reg.last_event_id, 1);
    tr_registry_free(&reg);
    tr_csv_data_free(&d);
    tr_store_close(st);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trainer_driftcheck");
    TCase *tc = tcase_create("drift");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_drift_calm_and_blown_up);
    tcase_add_test(tc, test_watch_alerts);
    tcase_add_test(tc, test_ingest_reports_quality);
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
