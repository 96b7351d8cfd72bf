/*
 * check_monitor.c - the position monitor, live (cycles/monitor.h): the same outcomes as the
 * replay on the same bars and signals, idempotent, outcomes reported by the backend kept, the
 * production figures, and the loop closed without a replay (predict on each new bar, run-due,
 * an A/B look with trades). On the directory store, and on PostgreSQL when $AIFX_TEST_PG is set.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/csv.h"
#include "cycles/abtest.h"
#include "cycles/cycle.h"
#include "cycles/monitor.h"
#include "cycles/replay.h"
#include "cycles/schedule.h"
#include "market/synth.h"
#include "pgutil.h"
#include "testutil.h"

static const char *const pairs[2] = {"EURUSD", "USDJPY"};

static void write_csvs(const char *dir, char **paths, tr_bars *keep)
{
    tu_write_replay_csvs(dir, pairs, paths, keep);
}

static tr_signal *all_signals(tr_store *st, size_t *n)
{
    tr_signal *v;
    tr_error e;
    ck_assert_int_eq(tr_store_signals_get(st, NULL, INT64_MIN, INT64_MAX, &v, n, &e), TR_OK);
    return v;
}

static const tr_signal *by_id(const tr_signal *v, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].id == id)
            return &v[i];
    ck_abort_msg("no signal %lld", (long long)id);
    return NULL;
}

static void monitor_ok(tr_store *st, int64_t as_of, tr_monitor_result *r)
{
    tr_error e;
    tr_code rc = tr_monitor_run(st, as_of, r, &e);
    ck_assert_msg(rc == TR_OK, "monitor: %s", e.msg);
    ck_assert(!r->skipped);
}

/* The replay's outcomes, reset to open, are resolved again by the monitor to the same values;
 * a second run changes nothing; a reported outcome is kept by the monitor and counted. */
static void replay_then_monitor(tr_store *st, const char *dir)
{
    char *csv[2];
    write_csvs(dir, csv, NULL);
    tr_replay_opts o = tu_tiny_replay(csv, pairs);
    o.due.full.ab = 1; /* the retrain of March 2nd starts an A/B test: two books per pair */
    tr_replay_result rr;
    tr_error e;
    tr_code rc = tr_replay_run(st, &o, &rr, &e);
    ck_assert_msg(rc == TR_OK, "replay: %s", e.msg);
    tr_replay_result_free(&rr);

    size_t n;
    tr_signal *ref = all_signals(st, &n);
    size_t n_ab = 0, n_closed = 0, n_open = 0;
    tr_signal *reset = malloc(n * sizeof *reset);
    ck_assert_ptr_nonnull(reset);
    for (size_t i = 0; i < n; i++) {
        n_ab += ref[i].ab_test_id[0] != '\0';
        n_closed += strcmp(ref[i].outcome, "win") == 0 || strcmp(ref[i].outcome, "loss") == 0;
        n_open += strcmp(ref[i].outcome, "open") == 0;
        reset[i] = ref[i];
        snprintf(reset[i].outcome, sizeof reset[i].outcome, "open");
        reset[i].exit_time = 0;
        reset[i].exit_price = reset[i].pnl_pips = reset[i].pnl_percent = 0;
    }
    ck_assert_msg(n_ab > 0 && n_closed > 20, "%zu A/B signals, %zu trades", n_ab, n_closed);
    ck_assert_int_eq(tr_store_signals_update(st, reset, n, &e), TR_OK);

    tr_monitor_result r;
    monitor_ok(st, o.to, &r);
    ck_assert_int_eq(r.n_series, 2);
    ck_assert_uint_eq(r.n_signals, n);
    ck_assert_uint_eq(r.n_open_before, n);
    ck_assert_uint_eq(r.n_open_after, n_open);
    ck_assert_uint_eq(r.n_closed, n_closed);
    size_t m;
    tr_signal *got = all_signals(st, &m);
    ck_assert_uint_eq(m, n);
    for (size_t i = 0; i < n; i++) {
        const tr_signal *a = &ref[i], *b = by_id(got, m, ref[i].id);
        ck_assert_msg(strcmp(a->outcome, b->outcome) == 0, "signal %lld: replay %s, monitor %s",
                      (long long)a->id, a->outcome, b->outcome);
        ck_assert_int_eq(a->exit_time, b->exit_time);
        ck_assert(a->exit_price == b->exit_price && a->pnl_pips == b->pnl_pips &&
                  a->pnl_percent == b->pnl_percent);
    }
    free(got);

    /* idempotent: nothing changes, nothing is written */
    monitor_ok(st, o.to, &r);
    ck_assert_uint_eq(r.n_changed, 0);
    ck_assert_uint_eq(r.n_open_before, n_open);

    /* a real outcome reported for a resolved trade replaces the simulated one and stays */
    const tr_signal *t = NULL;
    for (size_t i = 0; i < n && !t; i++)
        if (strcmp(ref[i].outcome, "win") == 0)
            t = &ref[i];
    ck_assert_ptr_nonnull(t);
    tr_prod_figs before, after;
    const char *ver = t->model_version;
    ck_assert_int_eq(tr_prod_figs_read(st, &ver, 1, &before, &e), TR_OK);
    tr_signal g;
    ck_assert_int_eq(tr_signal_report_outcome(st, t->id, "loss", -7.5, t->bar_time + 3600, &g, &e),
                     TR_OK);
    ck_assert(g.reported);
    ck_assert_str_eq(g.outcome, "loss");
    monitor_ok(st, o.to, &r);
    ck_assert_uint_eq(r.n_changed, 0);
    tr_signal back;
    ck_assert_int_eq(tr_signal_find(st, t->id, &back, &e), TR_OK);
    ck_assert(back.reported && strcmp(back.outcome, "loss") == 0 && back.pnl_pips == -7.5 &&
              back.exit_time == t->bar_time + 3600);
    ck_assert_int_eq(tr_prod_figs_read(st, &ver, 1, &after, &e), TR_OK);
    ck_assert_int_eq(after.trades, before.trades);
    ck_assert_int_eq(after.wins, before.wins - 1);
    ck_assert_int_eq(after.reported, before.reported + 1);
    ck_assert_double_eq_tol(after.total_pips, before.total_pips - t->pnl_pips - 7.5, 1e-9);
    /* the same report again is a no-op; bad reports change nothing and name the field */
    ck_assert_int_eq(
        tr_signal_report_outcome(st, t->id, "loss", -7.5, t->bar_time + 3600, NULL, &e), TR_OK);
    ck_assert_int_eq(tr_signal_report_outcome(st, t->id, "maybe", 1, t->bar_time + 60, NULL, &e),
                     TR_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.msg, "outcome"));
    ck_assert_int_eq(tr_signal_report_outcome(st, t->id, "win", NAN, t->bar_time + 60, NULL, &e),
                     TR_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.msg, "pnl_pips"));
    ck_assert_int_eq(tr_signal_report_outcome(st, t->id, "win", 1, t->bar_time, NULL, &e),
                     TR_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.msg, "closed_at"));
    ck_assert_int_eq(tr_signal_report_outcome(st, 99999999, "win", 1, t->bar_time + 60, NULL, &e),
                     TR_ERR_NOTFOUND);
    ck_assert_int_eq(tr_signal_find(st, t->id, &back, &e), TR_OK);
    ck_assert(back.reported && strcmp(back.outcome, "loss") == 0 && back.pnl_pips == -7.5);
    free(ref);
    free(reset);
    free(csv[0]);
    free(csv[1]);
}

START_TEST(test_replay_then_monitor_dir)
{
    char *dir = tu_tempdir(), *loc = tu_path(dir, "store");
    tr_store *st;
    tr_error e;
    ck_assert_int_eq(tr_store_open(loc, &(tr_store_options){.create = 1}, &st, &e), TR_OK);
    replay_then_monitor(st, dir);
    tr_store_close(st);
    tu_rmtree(dir);
    free(dir);
    free(loc);
}
END_TEST

/* The loop closed live: bars arrive, each is predicted and recorded (an A/B test routes them),
 * run-due's monitor resolves the outcomes, the A/B look counts trades, the versions' production
 * figures are filled. */
static void live_loop(tr_store *st, const char *dir)
{
    char *csv[2];
    tr_bars bars[2];
    write_csvs(dir, csv, bars);
    tr_error e;
    const int64_t start = T("2025-02-24T00:00"), live = T("2025-02-27T00:00");
    for (int p = 0; p < 2; p++) {
        size_t k = 0;
        while (k < bars[p].n && bars[p].v[k].t < live)
            k++;
        tr_put_stats ps;
        ck_assert_int_eq(tr_store_bars_put(st, pairs[p], 900, bars[p].v, k, 0, &ps, &e), TR_OK);
    }
    /* two versions: v1.0 and v1.1, an A/B test between them on both pairs */
    tr_full_opts fo = tr_full_opts_default();
    fo.decision = TR_DECISION_ARGMAX; /* mechanics on an untrained net: no edge to find */
    fo.months = 1;
    fo.n_hidden = 8;
    fo.max_epochs = 2;
    fo.patience = 1;
    tr_cycle_result cr;
    for (int k = 0; k < 2; k++) {
        fo.as_of = start + k * 3600;
        tr_code rc = tr_cycle_full(st, &fo, &cr, &e);
        ck_assert_msg(rc == TR_OK, "full: %s", e.msg);
    }
    tr_ab_start_opts ao = tr_ab_start_opts_default();
    ao.a = "v1.1";
    ao.b = "v1.0";
    ao.days = 2;
    ao.as_of = live;
    tr_ab_test test;
    ck_assert_int_eq(tr_ab_start(st, &ao, &test, &e), TR_OK);

    /* a day of bars, one at a time: store it, predict it */
    size_t n_pred = 0;
    for (int64_t t = live; t < live + 86400; t += 900) {
        for (int p = 0; p < 2; p++) {
            size_t k = 0;
            while (k < bars[p].n && bars[p].v[k].t < t)
                k++;
            if (k == bars[p].n || bars[p].v[k].t != t)
                continue; /* a gap in the synthetic series */
            tr_put_stats ps;
            ck_assert_int_eq(tr_store_bars_put(st, pairs[p], 900, &bars[p].v[k], 1, 0, &ps, &e),
                             TR_OK);
            tr_predict_opts po = {pairs[p], 900, t + 900, 3600, 1};
            tr_prediction pr;
            tr_code rc = tr_predict(st, &po, &pr, &e);
            ck_assert_msg(rc == TR_OK, "predict %s: %s", pairs[p], e.msg);
            ck_assert_str_eq(pr.sig.ab_test_id, test.id);
            n_pred++;
        }
    }
    ck_assert_uint_gt(n_pred, 150);
    /* run-due a day after the last bar: the monitor runs first, then the A/B look */
    tr_due_opts d = tu_tiny_due("2025-02-28T01:00");
    d.sched.enabled[TR_SLOT_DAILY] = d.sched.enabled[TR_SLOT_WEEKLY] = 0;
    d.sched.enabled[TR_SLOT_MONTHLY] = 0;
    tr_due_result r;
    ck_assert_int_eq(tr_run_due(st, &d, &r, &e), TR_OK);
    ck_assert_int_eq(r.items[0].slot, TR_SLOT_MONITOR);
    ck_assert_msg(r.items[0].outcome == TR_RUN_COMPLETED, "%s", r.items[0].detail);
    ck_assert_ptr_nonnull(strstr(r.items[0].detail, "trades closed"));
    ck_assert_int_eq(r.first_error, TR_OK);
    tr_ab_report rep;
    ck_assert_int_eq(tr_ab_analyse(st, test.id, T("2025-02-28T01:00"), &rep, &e), TR_OK);
    /* the tiny model mostly holds: a few trades per arm, every one resolved by the monitor */
    ck_assert_msg(rep.arm[0].n >= 1 && rep.arm[1].n >= 1, "A/B trades %zu vs %zu", rep.arm[0].n,
                  rep.arm[1].n);
    ck_assert_int_eq(rep.n_pred[0] + rep.n_pred[1], (int64_t)n_pred);
    /* no bar after the last one: the signals of its last bars stay open, the rest are final */
    ck_assert_int_lt(rep.n_open[0] + rep.n_open[1], 20);
    const char *vs[2] = {"v1.0", "v1.1"};
    tr_prod_figs pf[2];
    ck_assert_int_eq(tr_prod_figs_read(st, vs, 2, pf, &e), TR_OK);
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(pf[k].predictions, rep.n_pred[k == 0 ? 1 : 0]);
        ck_assert_int_eq(pf[k].trades, (int64_t)rep.arm[k == 0 ? 1 : 0].n);
        ck_assert(pf[k].win_rate >= 0 && pf[k].win_rate <= 1 && isfinite(pf[k].avg_pnl));
    }
    /* again: nothing new to resolve */
    tr_monitor_result mr;
    monitor_ok(st, T("2025-02-28T01:00"), &mr);
    ck_assert_uint_eq(mr.n_changed, 0);
    for (int p = 0; p < 2; p++) {
        tr_bars_free(&bars[p]);
        free(csv[p]);
    }
}

START_TEST(test_live_loop_dir)
{
    char *dir = tu_tempdir(), *loc = tu_path(dir, "store");
    tr_store *st;
    tr_error e;
    ck_assert_int_eq(tr_store_open(loc, &(tr_store_options){.create = 1}, &st, &e), TR_OK);
    live_loop(st, dir);
    tr_store_close(st);
    tu_rmtree(dir);
    free(dir);
    free(loc);
}
END_TEST

START_TEST(test_loops_pg)
{
    if (!pu_server())
        return;
    for (int k = 0; k < 2; k++) {
        char *dir = tu_tempdir();
        char *models = tu_path(dir, "models");
        char *loc = pu_create_db(1);
        tr_store *st;
        tr_error e;
        tr_code rc = tr_store_open(loc, &(tr_store_options){.models_dir = models}, &st, &e);
        ck_assert_msg(rc == TR_OK, "%s", e.msg);
        if (k)
            live_loop(st, dir);
        else
            replay_then_monitor(st, dir);
        tr_store_close(st);
        pu_drop_db(loc);
        tu_rmtree(dir);
        free(dir);
        free(models);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trainer_monitor");
    TCase *tc = tcase_create("monitor");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_replay_then_monitor_dir);
    tcase_add_test(tc, test_live_loop_dir);
    tcase_add_test(tc, test_loops_pg);
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
