/*
 * check_killmatrix.c - issue 19's kill matrix: SIGKILL at every rename and unlink of `full`,
 * `run-due` and of the recording of a signal (`predict`), and at a ladder of them in `replay`.
 * `strace -f -e inject=rename,...,unlinkat:signal=KILL:when=N` kills the program at its N-th rename
 * or unlink, for N = 1, 2, ... until a run completes untouched: `full` with the call not done
 * (error=ENOENT with the kill, as if the process died just before it), run-due (the weekly retrain,
 * the ranking, the daily fine-tune and its gate) with the call done (the process gone before its
 * next step). After each kill the same command again (`full --resume`, run-due) must end in the
 * store an uninterrupted run leaves: the same version records (wall-clock fields aside), log,
 * activations and checkpoint bytes, no run file and no temporary file anywhere. Skips, saying so,
 * when strace is not installed (Debian package strace, scripts/lib/deps.sh) or ptrace is not
 * allowed.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check_main.h"
#include "base/csv.h"
#include "base/fsutil.h"
#include "base/timeutil.h"
#include "cycles/replay.h"
#include "cycles/schedule.h"
#include "market/synth.h"
#include "store/store.h"
#include "testutil.h"

#define FULL_ARGS "full --as-of 2024-05-01 --months 2 --hidden 8 --epochs 3 --patience 1 --quiet"
#define INJECT    "inject=rename,renameat,renameat2,unlink,unlinkat:signal=KILL"

/* The program's runs under strace without LeakSanitizer, which needs ptrace itself (an ASan
 * build), keeping the caller's other ASan options. */
#define NO_LSAN "ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0\" "

/* The suite's binary doubles as the program run-due with the tests' tiny cycles: with
 * AIFX_KM_RUN_DUE=<store> and AIFX_KM_AS_OF=<time> in its environment it runs tr_run_due on that
 * store (tu_tiny_due's settings, 2 epochs of fine-tuning) before main and exits 0 when every due
 * cycle completed or skipped. */
__attribute__((constructor)) static void run_due_driver(void)
{
    const char *store = getenv("AIFX_KM_RUN_DUE"), *iso = getenv("AIFX_KM_AS_OF");
    if (!store || !iso)
        return;
    tr_store *st;
    tr_error e;
    int64_t t;
    if (tr_time_parse(iso, strlen(iso), 0, &t) != 0 || tr_store_open(store, NULL, &st, &e) != TR_OK)
        _exit(20);
    tr_due_opts o = tr_due_opts_default(); /* tu_tiny_due's settings (Check is not running) */
    o.as_of = t;
    o.full.months = 2;
    o.full.n_hidden = 8;
    o.full.max_epochs = 2;
    o.full.patience = 1;
    o.full.decision = TR_DECISION_ARGMAX;
    o.rank.min_trades = 0;
    o.incr.epochs = 2;
    tr_due_result r;
    tr_code rc = tr_run_due(st, &o, &r, &e);
    tr_store_close(st);
    _exit(rc ? 21 : r.first_error ? 22 : 0);
}

/* And the replay: with AIFX_KM_REPLAY=<store>, AIFX_KM_CSV0 and AIFX_KM_CSV1 (EURUSD, USDJPY) it
 * runs (or continues) the tests' tiny replay (tu_tiny_replay's week and tiny cycles) and exits 0
 * when it completed. */
__attribute__((constructor)) static void replay_driver(void)
{
    const char *store = getenv("AIFX_KM_REPLAY");
    char *csv[2] = {getenv("AIFX_KM_CSV0"), getenv("AIFX_KM_CSV1")};
    if (!store || !csv[0] || !csv[1])
        return;
    static const char *const pairs[2] = {"EURUSD", "USDJPY"};
    tr_store *st;
    tr_error e;
    if (tr_store_open(store, &(tr_store_options){.create = 1}, &st, &e) != TR_OK)
        _exit(20);
    /* tu_tiny_replay's settings, without its Check assertions (Check is not running here) */
    tr_replay_opts o = tr_replay_opts_default();
    for (int p = 0; p < 2; p++) {
        o.csv[p] = csv[p];
        o.pair[p] = pairs[p];
    }
    o.n_pairs = 2;
    if (tr_time_parse("2025-02-26", 10, 0, &o.from) || tr_time_parse("2025-03-05", 10, 0, &o.to))
        _exit(22);
    o.due.full.months = 1;
    o.due.full.decision = TR_DECISION_ARGMAX;
    o.due.full.n_hidden = 8;
    o.due.full.max_epochs = 2;
    o.due.full.patience = 1;
    o.due.incr.epochs = 2;
    o.due.rank.min_trades = 0;
    tr_replay_result r;
    tr_code rc = tr_replay_run(st, &o, &r, &e);
    if (!rc)
        tr_replay_result_free(&r);
    tr_store_close(st);
    _exit(rc ? 21 : 0);
}

/* Under the sanitizers (a -O0 build) the hundred-odd runs take longer than a suite may, and the
 * matrix checks crash consistency, not memory: the Release build runs it. The resume paths it
 * drives run in-process under the sanitizers in check_cycles.c. */
#if defined(__SANITIZE_ADDRESS__)
#define KM_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KM_SANITIZED 1
#endif
#endif
#ifndef KM_SANITIZED
#define KM_SANITIZED 0
#endif

/* 1 when the matrix can run; else says why not. */
static int have_strace(void)
{
    if (KM_SANITIZED) {
        fprintf(stderr, "check_killmatrix: a sanitizer build: the kill matrix runs in the "
                        "Release build only, skipped\n");
        return 0;
    }
    if (system("command -v strace > /dev/null 2>&1") == 0 &&
        system("strace -f -qq -o /dev/null true > /dev/null 2>&1") == 0) /* ptrace allowed */
        return 1;
    fprintf(stderr, "check_killmatrix: strace is not installed (or ptrace is not allowed): "
                    "the kill matrix is skipped\n");
    return 0;
}

/* A store with 4 months of synthetic EURUSD and USDJPY bars at dir. */
static void make_store(const char *dir)
{
    tr_store *st;
    tr_error e;
    ck_assert_int_eq(tr_store_open(dir, &(tr_store_options){.create = 1}, &st, &e), TR_OK);
    static const char *pairs[2] = {"EURUSD", "USDJPY"};
    for (int p = 0; p < 2; p++) {
        tr_synth_params sp =
            tr_synth_params_default(pairs[p], T("2024-01-01"), T("2024-05-02"), (uint64_t)(7 + p));
        tr_bars b = {0};
        ck_assert_int_eq(tr_synth_generate(&sp, &b, NULL, &e), TR_OK);
        ck_assert_int_eq(tr_store_bars_put(st, pairs[p], 900, b.v, b.n, 0, NULL, &e), TR_OK);
        tr_bars_free(&b);
    }
    tr_store_close(st);
}

static void copy_tree(const char *from, const char *to)
{
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", to, from, to);
    ck_assert_int_eq(system(cmd), 0);
}

/* The end state of the store at dir equals the reference's at ref. */
static void assert_same_store(const char *ref, const char *dir, int n)
{
    tr_store *a, *b;
    tr_error e;
    ck_assert_int_eq(tr_store_open(ref, NULL, &a, &e), TR_OK);
    ck_assert_int_eq(tr_store_open(dir, NULL, &b, &e), TR_OK);
    tr_registry ra, rb;
    ck_assert_int_eq(tr_store_registry_read(a, &ra, &e), TR_OK);
    ck_assert_int_eq(tr_store_registry_read(b, &rb, &e), TR_OK);
    ck_assert_msg(ra.n_versions == rb.n_versions, "kill %d: %zu versions", n, rb.n_versions);
    for (size_t i = 0; i < ra.n_versions; i++) {
        const tr_version *x = &ra.versions[i], *y = &rb.versions[i];
        ck_assert_str_eq(x->version, y->version);
        ck_assert_int_eq(x->status, y->status);
        ck_assert_int_eq(x->as_of, y->as_of);
        ck_assert_msg(x->epochs == y->epochs && x->n_history == y->n_history,
                      "kill %d: %d epochs (%d in history), uninterrupted %d (%d)", n, y->epochs,
                      y->n_history, x->epochs, x->n_history);
        ck_assert_int_eq(x->best_epoch, y->best_epoch);
        size_t nh = (size_t)x->n_history * sizeof(float);
        ck_assert_int_eq(memcmp(x->hist_train_loss, y->hist_train_loss, nh), 0);
        ck_assert_int_eq(memcmp(x->hist_val_loss, y->hist_val_loss, nh), 0);
        ck_assert_int_eq(memcmp(x->hist_val_macro_f1, y->hist_val_macro_f1, nh), 0);
        ck_assert_int_eq(memcmp(x->hist_lr, y->hist_lr, nh), 0);
        for (int k = 0; k < 3; k++)
            ck_assert_int_eq(memcmp(&x->figs[k], &y->figs[k], sizeof x->figs[k]), 0);
        ck_assert_int_eq(memcmp(&x->bt, &y->bt, sizeof x->bt), 0);
        ck_assert_msg(x->ckpt_crc == y->ckpt_crc && x->ckpt_size == y->ckpt_size,
                      "kill %d: checkpoint differs", n);
        ck_assert_int_eq(x->is_active, y->is_active);
    }
    ck_assert_msg(ra.n_log == rb.n_log, "kill %d: %zu log rows, uninterrupted %zu", n, rb.n_log,
                  ra.n_log);
    for (size_t i = 0; i < ra.n_log; i++) {
        ck_assert_int_eq(ra.log[i].status, rb.log[i].status);
        ck_assert_str_eq(ra.log[i].version, rb.log[i].version);
        ck_assert_str_eq(ra.log[i].verdict, rb.log[i].verdict);
    }
    ck_assert_uint_eq(ra.n_activations, rb.n_activations);
    for (size_t i = 0; i < ra.n_versions; i++) {
        char pa[4400], pb[4400];
        char *da, *db;
        size_t la, lb;
        ck_assert_int_eq(
            tr_store_path(a, TR_AREA_MODELS, ra.versions[i].checkpoint, pa, sizeof pa, &e), TR_OK);
        ck_assert_int_eq(
            tr_store_path(b, TR_AREA_MODELS, rb.versions[i].checkpoint, pb, sizeof pb, &e), TR_OK);
        ck_assert_int_eq(tr_file_read(pa, &da, &la, &e), TR_OK);
        ck_assert_msg(tr_file_read(pb, &db, &lb, &e) == TR_OK, "kill %d: %s", n, e.msg);
        ck_assert_msg(la == lb && memcmp(da, db, la) == 0, "kill %d: %s differs", n, pb);
        free(da);
        free(db);
    }
    tr_registry_free(&ra);
    tr_registry_free(&rb);
    tr_store_close(a);
    tr_store_close(b);
    /* nothing left behind: no run files, no temporary file */
    char cmd[8400];
    snprintf(cmd, sizeof cmd,
             "test -z \"$(ls -A '%s/models/runs' 2>/dev/null)\" && "
             "test -z \"$(find '%s' -name '*.tmp.*')\"",
             dir, dir);
    ck_assert_msg(system(cmd) == 0, "kill %d: leftovers in %s", n, dir);
}

START_TEST(test_kill_matrix_full)
{
    if (!have_strace())
        return;
    char *root = tu_tempdir();
    char *tpl = tu_path(root, "template"), *ref = tu_path(root, "ref"), *run = tu_path(root, "run");
    make_store(tpl);
    copy_tree(tpl, ref);
    ck_assert_int_eq(tu_run(AIFX_TRAIN_EXE, root, FULL_ARGS " --store '%s'", ref), 0);
    /* before the call; run-due's matrix below kills after it (also inside the full retrain) */
    static const char *const how[1] = {":error=ENOENT"};
    for (int mode = 0; mode < 1; mode++) {
        int completed = 0, kills = 0;
        for (int n = 1; n <= 200 && !completed; n++) {
            copy_tree(tpl, run);
            int rc = tu_run("env", root,
                            NO_LSAN "strace -f -qq -o /dev/null -e " INJECT
                                    "%s:when=%d '%s' " FULL_ARGS " --store '%s'",
                            how[mode], n, AIFX_TRAIN_EXE, run);
            if (rc == 0) {
                completed = 1; /* the n-th call never came: the run is whole */
            } else {
                kills++;
                ck_assert_msg(rc == 137 || rc == -1, "kill %d%s: exit %d", n, how[mode], rc);
                int r2 = tu_run(AIFX_TRAIN_EXE, root, FULL_ARGS " --resume --store '%s'", run);
                ck_assert_msg(r2 == 0, "kill %d%s: the rerun exits %d", n, how[mode], r2);
            }
            assert_same_store(ref, run, n);
        }
        ck_assert(completed);
        ck_assert_int_gt(kills, 5);
    }
    free(tpl);
    free(ref);
    free(run);
    tu_rmtree(root);
    free(root);
}
END_TEST

/* The same for run-due with every cycle due (the weekly retrain, the ranking, the daily
 * fine-tune with its gate): killed after its N-th rename or unlink, then run again. */
START_TEST(test_kill_matrix_run_due)
{
    if (!have_strace())
        return;
    char *root = tu_tempdir();
    char *tpl = tu_path(root, "template"), *ref = tu_path(root, "ref"), *run = tu_path(root, "run");
    make_store(tpl);
    copy_tree(tpl, ref);
#define DRIVER "AIFX_KM_AS_OF=2024-05-01T03:00 AIFX_KM_RUN_DUE="
    ck_assert_int_eq(tu_run("env", root, DRIVER "'%s' /proc/%ld/exe", ref, (long)getpid()), 0);
    int completed = 0, kills = 0;
    for (int n = 1; n <= 200 && !completed; n++) {
        copy_tree(tpl, run);
        int rc = tu_run("env", root,
                        NO_LSAN DRIVER "'%s' strace -f -qq -o /dev/null -e " INJECT
                                       ":when=%d /proc/%ld/exe",
                        run, n, (long)getpid());
        if (rc == 0) {
            completed = 1;
        } else {
            kills++;
            ck_assert_msg(rc == 137 || rc == -1, "run-due kill %d: exit %d", n, rc);
            int r2 = tu_run("env", root, DRIVER "'%s' /proc/%ld/exe", run, (long)getpid());
            ck_assert_msg(r2 == 0, "run-due kill %d: the rerun exits %d", n, r2);
        }
        assert_same_store(ref, run, n);
    }
#undef DRIVER
    ck_assert(completed);
    ck_assert_int_gt(kills, 10);
    free(tpl);
    free(ref);
    free(run);
    tu_rmtree(root);
    free(root);
}
END_TEST

/* Signal recording: `predict` killed at each rename or unlink of its recording (the id counter,
 * then the pair's month of the signal log), then run again: the log holds the signal once, as
 * an uninterrupted predict records it (ids may skip one, never repeat), and no temporary file. */
static void assert_same_signals(const char *ref, const char *dir, int n)
{
    tr_store *a, *b;
    tr_error e;
    ck_assert_int_eq(tr_store_open(ref, NULL, &a, &e), TR_OK);
    ck_assert_int_eq(tr_store_open(dir, NULL, &b, &e), TR_OK);
    tr_signal *x, *y;
    size_t nx, ny;
    ck_assert_int_eq(tr_store_signals_get(a, NULL, INT64_MIN, INT64_MAX, &x, &nx, &e), TR_OK);
    ck_assert_msg(tr_store_signals_get(b, NULL, INT64_MIN, INT64_MAX, &y, &ny, &e) == TR_OK,
                  "kill %d: %s", n, e.msg);
    ck_assert_msg(nx == ny, "kill %d: %zu signals, uninterrupted %zu", n, ny, nx);
    for (size_t i = 0; i < nx; i++) {
        ck_assert_str_eq(x[i].pair, y[i].pair);
        ck_assert_int_eq(x[i].bar_time, y[i].bar_time);
        ck_assert_int_eq(x[i].signal, y[i].signal);
        ck_assert_str_eq(x[i].model_version, y[i].model_version);
        ck_assert_int_eq(memcmp(x[i].probs, y[i].probs, sizeof x[i].probs), 0);
        ck_assert(i == 0 || y[i].id > y[i - 1].id);
    }
    free(x);
    free(y);
    tr_store_close(a);
    tr_store_close(b);
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "test -z \"$(find '%s' -name '*.tmp.*')\"", dir);
    ck_assert_msg(system(cmd) == 0, "kill %d: leftovers in %s", n, dir);
}

#define PREDICT_ARGS "predict --pair EURUSD --as-of 2024-05-01T12:00"

START_TEST(test_kill_matrix_predict)
{
    if (!have_strace())
        return;
    char *root = tu_tempdir();
    char *tpl = tu_path(root, "template"), *ref = tu_path(root, "ref"), *run = tu_path(root, "run");
    make_store(tpl);
    ck_assert_int_eq(tu_run(AIFX_TRAIN_EXE, root, FULL_ARGS " --store '%s'", tpl), 0);
    /* one signal recorded before, so that the kill lands in a log that holds something */
    ck_assert_int_eq(tu_run(AIFX_TRAIN_EXE, root,
                            "predict --pair USDJPY --as-of 2024-05-01T11:00 --store '%s'", tpl),
                     0);
    copy_tree(tpl, ref);
    ck_assert_int_eq(tu_run(AIFX_TRAIN_EXE, root, PREDICT_ARGS " --store '%s'", ref), 0);
    int completed = 0, kills = 0;
    for (int n = 1; n <= 50 && !completed; n++) {
        copy_tree(tpl, run);
        int rc = tu_run("env", root,
                        NO_LSAN "strace -f -qq -o /dev/null -e " INJECT
                                ":when=%d '%s' " PREDICT_ARGS " --store '%s'",
                        n, AIFX_TRAIN_EXE, run);
        if (rc == 0) {
            completed = 1;
        } else {
            kills++;
            ck_assert_msg(rc == 137 || rc == -1, "predict kill %d: exit %d", n, rc);
            int r2 = tu_run(AIFX_TRAIN_EXE, root, PREDICT_ARGS " --store '%s'", run);
            ck_assert_msg(r2 == 0, "predict kill %d: the rerun exits %d", n, r2);
        }
        assert_same_signals(ref, run, n);
    }
    ck_assert(completed);
    ck_assert_int_ge(kills, 2); /* the id counter and the segment */
    free(tpl);
    free(ref);
    free(run);
    tu_rmtree(root);
    free(root);
}
END_TEST

/* The replay, killed at a sample of its renames and unlinks (it makes hundreds: every signal
 * batch, the state file, every cycle's writes), each N on a Fibonacci-like ladder until a run
 * completes untouched, then continued by the same command: the end state equals an uninterrupted
 * replay's (signals, versions, log, activations; wall-clock fields aside) with no temporary
 * file. Sampled rather than every call, to stay within the suite's time. */
START_TEST(test_kill_matrix_replay)
{
    if (!have_strace())
        return;
    char *root = tu_tempdir();
    char *csv[2];
    static const char *const pairs[2] = {"EURUSD", "USDJPY"};
    tr_error e;
    tu_write_replay_csvs(root, pairs, csv, NULL);
    char *ref = tu_path(root, "ref"), *run = tu_path(root, "run");
#define REPLAY "AIFX_KM_CSV0='%s' AIFX_KM_CSV1='%s' AIFX_KM_REPLAY="
    ck_assert_int_eq(
        tu_run("env", root, REPLAY "'%s' /proc/%ld/exe", csv[0], csv[1], ref, (long)getpid()), 0);
    int completed = 0, kills = 0;
    for (int a = 1, b = 2; a <= 100000 && !completed; b += a, a = b - a) {
        char cmd[64];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", run);
        ck_assert_int_eq(system(cmd), 0);
        int rc = tu_run("env", root,
                        NO_LSAN REPLAY "'%s' strace -f -qq -o /dev/null -e " INJECT
                                       ":when=%d /proc/%ld/exe",
                        csv[0], csv[1], run, a, (long)getpid());
        if (rc == 0) {
            completed = 1;
        } else {
            kills++;
            ck_assert_msg(rc == 137 || rc == -1, "replay kill %d: exit %d", a, rc);
            int r2 = tu_run("env", root, REPLAY "'%s' /proc/%ld/exe", csv[0], csv[1], run,
                            (long)getpid());
            ck_assert_msg(r2 == 0, "replay kill %d: the continued replay exits %d", a, r2);
        }
        tr_store *x, *y;
        ck_assert_int_eq(tr_store_open(ref, NULL, &x, &e), TR_OK);
        ck_assert_int_eq(tr_store_open(run, NULL, &y, &e), TR_OK);
        tu_assert_same_state(x, y, 0.0);
        tr_store_close(x);
        tr_store_close(y);
        snprintf(cmd, sizeof cmd, "test -z \"$(find '%s' -name '*.tmp.*')\"", run);
        ck_assert_msg(system(cmd) == 0, "replay kill %d: temporary files left", a);
    }
#undef REPLAY
    ck_assert(completed);
    ck_assert_int_ge(kills, 8);
    free(csv[0]);
    free(csv[1]);
    free(ref);
    free(run);
    tu_rmtree(root);
    free(root);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trainer_killmatrix");
    TCase *tc = tcase_create("killmatrix");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_kill_matrix_full);
    tcase_add_test(tc, test_kill_matrix_run_due);
    tcase_add_test(tc, test_kill_matrix_predict);
    tcase_add_test(tc, test_kill_matrix_replay);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(suite)
