/*
 * check_replay.c - the replay (replay.h) on a week of synthetic bars of two pairs with a tiny
 * model: the cycles run on schedule (a ranking before any version fails and is retried at the
 * next step; the weekly retrain, the ranking of the 1st, the daily fine-tunes), one signal per
 * pair and step, every outcome valid and trades resolved; a recorded signal equals tr_predict's for
 * the same bar; a replay stopped as if killed, and one whose state was rewound (signals written but
 * the state not), continue and end in the same state as an uninterrupted one; the timeline and
 * its report; the errors (another replay's state, bars after the clock); and the command.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../check_main.h"
#include "base/csv.h"
#include "base/fsutil.h"
#include "base/timeutil.h"
#include "cycles/cycle.h"
#include "cycles/replay.h"
#include "cycles/testhook.h"
#include "market/synth.h"
#include "store/store.h"
#include "testutil.h"

static const char *const pairs[2] = {"EURUSD", "USDJPY"};

/* Writes the synthetic series of both pairs as CSV files in dir. */
static void write_csvs(const char *dir, char **paths)
{
    tu_write_replay_csvs(dir, pairs, paths, NULL);
}

static tr_store *open_store(const char *dir)
{
    tr_store *st;
    tr_error e;
    ck_assert_int_eq(tr_store_open(dir, &(tr_store_options){.create = 1}, &st, &e), TR_OK);
    return st;
}

static size_t stop_steps;

/* The test hook: stops the replay after stop_steps steps of a call, as if killed. */
static int stop_after_steps(size_t steps_run)
{
    return steps_run >= stop_steps;
}

static void replay_ok(tr_store *st, const tr_replay_opts *o, tr_replay_result *r)
{
    tr_error e;
    tr_code rc = tr_replay_run(st, o, r, &e);
    ck_assert_msg(rc == TR_OK, "replay: %s", e.msg);
}

static int n_rows(const tr_registry *reg, const char *cycle, tr_log_status status)
{
    int n = 0;
    for (size_t i = 0; i < reg->n_log; i++)
        n += strcmp(reg->log[i].cycle, cycle) == 0 && reg->log[i].status == status;
    return n;
}

START_TEST(test_replay_week)
{
    char *dir = tu_tempdir(), *csv[2];
    write_csvs(dir, csv);
    char *sa = tu_path(dir, "a"), *sb = tu_path(dir, "b"), *sc = tu_path(dir, "c");
    tr_store *a = open_store(sa), *b = open_store(sb), *c = open_store(sc);
    tr_replay_opts o = tu_tiny_replay(csv, pairs);
    tr_replay_result r;
    tr_error e;

    /* uninterrupted */
    double t0 = tu_now();
    replay_ok(a, &o, &r);
    fprintf(stderr, "replay of %zu steps: %.2f s\n", r.n_steps, tu_now() - t0);
    if (getenv("AIFX_REPLAY_DEBUG"))
        fputs(r.timeline, stderr);
    ck_assert_uint_gt(r.n_steps, 400);
    ck_assert_uint_eq(r.n_steps_run, r.n_steps);
    ck_assert(!r.resumed && !r.stopped);
    ck_assert_ptr_nonnull(r.timeline);
    ck_assert_ptr_nonnull(strstr(r.timeline, "## Per month"));
    ck_assert_ptr_nonnull(strstr(r.timeline, "| 2025-03 |"));
    ck_assert_ptr_nonnull(strstr(r.timeline, "| v1.0 | first_model |"));
    char *text;
    size_t len;
    ck_assert_int_eq(tr_file_read(r.report_path, &text, &len, &e), TR_OK);
    ck_assert_uint_eq(len, strlen(r.timeline));
    free(text);
    tr_registry reg;
    ck_assert_int_eq(tr_store_registry_read(a, &reg, &e), TR_OK);
    /* Feb 1st: no version yet, so the ranking is skipped (not failed and retried) */
    ck_assert_int_eq(n_rows(&reg, "rank", TR_LOG_FAILED), 0);
    ck_assert_int_eq(n_rows(&reg, "rank", TR_LOG_SKIPPED), 1);
    ck_assert_int_eq(n_rows(&reg, "rank", TR_LOG_COMPLETED), 1); /* Mar 1st */
    ck_assert_int_eq(n_rows(&reg, "full", TR_LOG_COMPLETED), 2); /* Feb 23rd, Mar 2nd */
    ck_assert_int_ge(n_rows(&reg, "incremental", TR_LOG_COMPLETED), 3);
    ck_assert_ptr_nonnull(tr_registry_find(&reg, "v1.1"));
    char active[TR_VERSION_MAX];
    snprintf(active, sizeof active, "%s", tr_registry_active(&reg)->version);
    tr_registry_free(&reg);
    size_t n_steps = r.n_steps, n_signals = r.n_signals;
    tr_replay_result_free(&r);

    /* one signal per pair and step (both pairs have a bar at every step), valid outcomes */
    tr_signal *sigs;
    size_t n;
    ck_assert_int_eq(tr_store_signals_get(a, NULL, INT64_MIN, INT64_MAX, &sigs, &n, &e), TR_OK);
    ck_assert_uint_eq(n, n_signals);
    ck_assert_uint_eq(n, 2 * n_steps);
    size_t n_trades = 0, n_open = 0;
    const tr_signal *last_eur = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *oc = sigs[i].outcome;
        ck_assert(!strcmp(oc, "open") || !strcmp(oc, "none") || !strcmp(oc, "win") ||
                  !strcmp(oc, "loss"));
        n_trades += !strcmp(oc, "win") || !strcmp(oc, "loss");
        n_open += !strcmp(oc, "open");
        if (!strcmp(oc, "win"))
            ck_assert(sigs[i].pnl_pips > 0 && sigs[i].exit_time > sigs[i].bar_time);
        ck_assert_int_eq(sigs[i].created_at, sigs[i].bar_time + 900);
        if (!strcmp(sigs[i].pair, "EURUSD"))
            last_eur = &sigs[i];
    }
    ck_assert_uint_gt(n_trades, 5);
    ck_assert_uint_le(n_open, 4); /* at most a position and a waiting signal per pair */

    /* the newest signal is tr_predict's for its bar */
    ck_assert_str_eq(last_eur->model_version, active);
    tr_predict_opts po = {"EURUSD", 900, last_eur->bar_time + 900, 3600, 0};
    tr_prediction pr;
    ck_assert_int_eq(tr_predict(a, &po, &pr, &e), TR_OK);
    ck_assert_int_eq(pr.sig.bar_time, last_eur->bar_time);
    ck_assert_int_eq(pr.sig.signal, last_eur->signal);
    for (int k = 0; k < 3; k++) /* the store keeps 9 significant digits */
        ck_assert_double_eq_tol(pr.sig.probs[k], last_eur->probs[k], 1e-8);
    free(sigs);

    /* stopped as if killed after 150 steps (the last write at step 96), then continued */
    tr_replay_opts ok = o;
    stop_steps = 150;
    tr_testhook_step = stop_after_steps;
    replay_ok(b, &ok, &r);
    tr_testhook_step = NULL;
    ck_assert(r.stopped);
    tr_replay_result_free(&r);
    replay_ok(b, &o, &r);
    ck_assert(r.resumed);
    ck_assert_uint_lt(r.n_steps_run, r.n_steps);
    tr_replay_result_free(&r);
    tu_assert_same_state(a, b, 0);

    /* signals written but the state not (killed between the two writes): after a stop, the
     * state is rewound to the earliest clock the writes allow, the step before the last ingest
     * (made for a cycle, right after a state write) */
    stop_steps = 230;
    ok.flush_steps = 10;
    tr_testhook_step = stop_after_steps;
    replay_ok(c, &ok, &r);
    tr_testhook_step = NULL;
    tr_replay_result_free(&r);
    tr_series_info *list;
    size_t n_list;
    ck_assert_int_eq(tr_store_series_list(c, &list, &n_list, &e), TR_OK);
    ck_assert_uint_eq(n_list, 2);
    int64_t rewind = list[0].last > list[1].last ? list[0].last : list[1].last;
    free(list);
    char *state = tu_path(sc, "replay.state");
    ck_assert_int_eq(tr_file_read(state, &text, &len, &e), TR_OK);
    char *cl = strstr(text, "\tclock=");
    ck_assert_ptr_nonnull(cl);
    ck_assert_int_gt(strtoll(cl + 7, NULL, 10), rewind);
    snprintf(cl, len - (size_t)(cl - text) + 1, "\tclock=%lld\tdone=0\n", (long long)rewind);
    ck_assert_int_eq(tr_file_write_atomic(state, text, strlen(text), &e), TR_OK);
    free(text);
    free(state);
    ck_assert_int_eq(tr_store_signals_get(c, NULL, rewind, INT64_MAX, &sigs, &n, &e), TR_OK);
    free(sigs);
    ck_assert_uint_gt(n, 10); /* signals after the rewound clock: not to be recorded twice */
    replay_ok(c, &o, &r);
    tr_replay_result_free(&r);
    tu_assert_same_state(a, c, 0);

    /* another replay's state in the store */
    tr_replay_opts other = o;
    other.to = T("2025-03-04");
    ck_assert_int_eq(tr_replay_run(a, &other, &r, &e), TR_ERR_CONFLICT);
    ck_assert_ptr_nonnull(strstr(e.msg, "replay.state"));

    tr_store_close(a);
    tr_store_close(b);
    tr_store_close(c);
    tu_rmtree(dir);
    free(dir), free(sa), free(sb), free(sc), free(csv[0]), free(csv[1]);
}
END_TEST

START_TEST(test_bars_after_clock)
{
    char *dir = tu_tempdir(), *csv[2];
    write_csvs(dir, csv);
    char *sd = tu_path(dir, "s");
    tr_store *st = open_store(sd);
    tr_error e;
    tr_csv_data d;
    tr_csv_options co = tr_csv_options_default(900);
    ck_assert_int_eq(tr_csv_read(csv[0], &co, &d, &e), TR_OK);
    ck_assert_int_eq(tr_store_bars_put(st, "EURUSD", 900, d.bars.v, d.bars.n, 0, NULL, &e), TR_OK);
    tr_csv_data_free(&d);
    tr_replay_opts o = tu_tiny_replay(csv, pairs);
    tr_replay_result r;
    ck_assert_int_eq(tr_replay_run(st, &o, &r, &e), TR_ERR_CONFLICT);
    ck_assert_ptr_nonnull(strstr(e.msg, "EURUSD bars after"));
    /* bad arguments */
    o.pair[1] = "EURUSD";
    ck_assert_int_eq(tr_replay_run(st, &o, &r, &e), TR_ERR_INVALID);
    o = tu_tiny_replay(csv, pairs);
    o.to = o.from;
    ck_assert_int_eq(tr_replay_run(st, &o, &r, &e), TR_ERR_INVALID);
    o = tu_tiny_replay(csv, pairs);
    o.csv[1] = "/nonexistent/x.csv";
    ck_assert_int_ne(tr_replay_run(st, &o, &r, &e), TR_OK);
    ck_assert_ptr_nonnull(strstr(e.msg, "/nonexistent/x.csv"));
    tr_store_close(st);
    tu_rmtree(dir);
    free(dir), free(sd), free(csv[0]), free(csv[1]);
}
END_TEST

#define run(...) tu_run(AIFX_TRAIN_EXE, NULL, __VA_ARGS__)

START_TEST(test_command_usage)
{
    ck_assert_int_eq(run("replay --help"), 0);
    ck_assert_int_eq(run("replay --csv x.csv --from 2025-01-01 --to 2025-02-01"), 2);
    ck_assert_int_eq(run("replay --csv x.csv --pair EURUSD --to 2025-02-01"), 2);
    ck_assert_int_eq(run("replay --csv x.csv --pair EURUSD --from 2025-02-01 --to 2025-01-01"), 2);
    ck_assert_int_eq(run("replay --csv x.csv --pair eur/usd --from 2025-01-01 --to 2025-02-01"), 2);
}
END_TEST

static Suite *replay_suite(void)
{
    Suite *s = suite_create("replay");
    TCase *tc = tcase_create("replay");
    tcase_set_timeout(tc, 280);
    tcase_add_test(tc, test_replay_week);
    tcase_add_test(tc, test_bars_after_clock);
    tcase_add_test(tc, test_command_usage);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(replay_suite)
