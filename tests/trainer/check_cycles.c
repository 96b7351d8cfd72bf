/*
 * check_cycles.c - the cycles on synthetic bars with a tiny model: the deploy gate's rule, a full
 * retrain registered and activated as the first model, a second one registered but not
 * activated, a failed cycle that leaves only a failed log row, an interrupted run resumed to the
 * same weights as an uninterrupted one, the daily fine-tune with its recorded verdict, a skipped
 * day, and predict (recorded signal, stale data refused).
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check_main.h"
#include "base/fsutil.h"
#include "base/threads.h"
#include "base/timeutil.h"
#include "cycles/cycle.h"
#include "cycles/schedule.h"
#include "cycles/testhook.h"
#include "market/synth.h"
#include "store/store.h"
#include "testutil.h"

/* A store with 5 months of synthetic EURUSD and USDJPY bars. */
static tr_store *make_store(const char *dir)
{
    tr_store *st;
    tr_error e;
    ck_assert_int_eq(tr_store_open(dir, &(tr_store_options){.create = 1}, &st, &e), TR_OK);
    static const char *pairs[2] = {"EURUSD", "USDJPY"};
    for (int p = 0; p < 2; p++) {
        tr_synth_params sp =
            tr_synth_params_default(pairs[p], T("2024-01-01"), T("2024-05-10"), (uint64_t)(7 + p));
        tr_bars b = {0};
        ck_assert_int_eq(tr_synth_generate(&sp, &b, NULL, &e), TR_OK);
        ck_assert_int_eq(tr_store_bars_put(st, pairs[p], 900, b.v, b.n, 0, NULL, &e), TR_OK);
        tr_bars_free(&b);
    }
    return st;
}

static tr_full_opts tiny_full(int64_t as_of)
{
    tr_full_opts o = tr_full_opts_default();
    o.decision = TR_DECISION_ARGMAX; /* mechanics on an untrained net: no edge to find */
    o.as_of = as_of;
    o.months = 2;
    o.n_hidden = 8;
    o.max_epochs = 3;
    o.patience = 2;
    return o;
}

START_TEST(test_gate_rule)
{
    char v[16];
    ck_assert_int_eq(tr_gate_decide(TR_GATE_MACRO_F1, 0.40, 0.40, 0, v, sizeof v), 1);
    ck_assert_str_eq(v, "blessed"); /* a tie goes to the candidate */
    ck_assert_int_eq(tr_gate_decide(TR_GATE_MACRO_F1, 0.41, 0.40, 0, v, sizeof v), 1);
    ck_assert_int_eq(tr_gate_decide(TR_GATE_MACRO_F1, 0.39, 0.40, 0, v, sizeof v), 0);
    ck_assert_str_eq(v, "not_blessed");
    ck_assert_int_eq(tr_gate_decide(TR_GATE_LOSS, 0.9, 1.0, 0, v, sizeof v), 1);
    ck_assert_int_eq(tr_gate_decide(TR_GATE_LOSS, 1.1, 1.0, 0, v, sizeof v), 0);
    ck_assert_int_eq(tr_gate_decide(TR_GATE_ACCURACY, NAN, 0.5, 0, v, sizeof v), 0);
    ck_assert_int_eq(tr_gate_decide(TR_GATE_MACRO_F1, 0.1, 0.9, 1, v, sizeof v), 1);
    ck_assert_str_eq(v, "forced");
    int m;
    ck_assert_int_eq(tr_gate_metric_parse("loss", &m), 0);
    ck_assert_int_eq(m, TR_GATE_LOSS);
    ck_assert_int_eq(tr_gate_metric_parse("f1", &m), -1);
}
END_TEST

START_TEST(test_full_incremental_predict)
{
    char *dir = tu_tempdir();
    tr_store *st = make_store(dir);
    tr_error e;
    tr_cycle_result *r = calloc(1, sizeof *r);
    /* a failure (no data before the as-of time) logs a failed row and nothing else */
    tr_full_opts o = tiny_full(T("2023-06-01"));
    ck_assert_int_ne(tr_cycle_full(st, &o, r, &e), TR_OK);
    tr_registry reg;
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    ck_assert_uint_eq(reg.n_versions, 0);
    ck_assert_uint_eq(reg.n_log, 1);
    ck_assert_int_eq(reg.log[0].status, TR_LOG_FAILED);
    ck_assert(reg.log[0].error[0] != '\0');
    tr_registry_free(&reg);
    /* the first full model is v1.0 and becomes active */
    o = tiny_full(T("2024-05-01"));
    ck_assert_msg(tr_cycle_full(st, &o, r, &e) == TR_OK, "%s", e.msg);
    ck_assert_str_eq(r->version, "v1.0");
    ck_assert(r->activated);
    ck_assert_str_eq(r->verdict, "first_model");
    ck_assert_int_eq(r->rec.type, TR_VT_FULL);
    ck_assert(r->rec.figs[2].n > 0 && r->rec.n_samples[0] > r->rec.n_samples[2]);
    /* the second is v1.1, registered, not activated */
    o = tiny_full(T("2024-05-08"));
    ck_assert_msg(tr_cycle_full(st, &o, r, &e) == TR_OK, "%s", e.msg);
    ck_assert_str_eq(r->version, "v1.1");
    ck_assert(!r->activated);
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    ck_assert_uint_eq(reg.n_versions, 2);
    ck_assert_uint_eq(reg.n_log, 3);
    ck_assert_str_eq(tr_registry_active(&reg)->version, "v1.0");
    ck_assert_uint_eq(reg.n_activations, 1);
    /* the checkpoint on disk is the one the registry describes */
    aifx_model *m = NULL;
    ck_assert_int_eq(tr_checkpoint_load(st, &reg.versions[1], &m, &e), TR_OK);
    aifx_model_free(m);
    tr_registry_free(&reg);

    /* a daily fine-tune on a weekday: a verdict with both figures */
    tr_incr_opts io = tr_incr_opts_default();
    io.as_of = T("2024-05-09"); /* Thursday: Wednesday's bars */
    io.no_guard = 1; /* the gate's mechanics on an untrained net (the guard: check_guards.c) */
    ck_assert_msg(tr_cycle_incremental(st, &io, r, &e) == TR_OK, "%s", e.msg);
    ck_assert_int_eq(r->status, TR_LOG_COMPLETED);
    ck_assert_str_eq(r->version, "v1.0-daily-20240509");
    ck_assert(strcmp(r->verdict, "blessed") == 0 || strcmp(r->verdict, "not_blessed") == 0);
    ck_assert(isfinite(r->candidate_value) && isfinite(r->active_value));
    ck_assert_int_eq(r->activated, strcmp(r->verdict, "blessed") == 0);
    /* the same day again: refused, nothing logged */
    ck_assert_int_eq(tr_cycle_incremental(st, &io, r, &e), TR_ERR_CONFLICT);
    /* a Sunday: Saturday holds no bars, skipped with a logged reason */
    io.as_of = T("2024-05-05");
    ck_assert_int_eq(tr_cycle_incremental(st, &io, r, &e), TR_OK);
    ck_assert_int_eq(r->status, TR_LOG_SKIPPED);
    /* forced */
    io.as_of = T("2024-05-08");
    io.force = 1;
    ck_assert_msg(tr_cycle_incremental(st, &io, r, &e) == TR_OK, "%s", e.msg);
    ck_assert_str_eq(r->verdict, "forced");
    ck_assert(r->activated);
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    ck_assert_uint_eq(reg.n_log, 6);
    ck_assert_int_eq(reg.log[4].status, TR_LOG_SKIPPED);
    ck_assert(strstr(reg.log[4].reason, "labeled windows") != NULL);
    ck_assert_str_eq(reg.log[5].verdict, "forced");
    ck_assert_str_eq(reg.log[3].gate_metric, "macro_f1");
    const tr_version *act = tr_registry_active(&reg);
    ck_assert_str_eq(act->version, "v1.0-daily-20240508");
    ck_assert_str_eq(act->parent, reg.log[5].parent);
    ck_assert_str_eq(reg.activations[reg.n_activations - 1].reason, "forced");
    tr_registry_free(&reg);

    /* predict: the newest bar, recorded; stale data refused */
    tr_predict_opts po;
    memset(&po, 0, sizeof po);
    po.pair = "EURUSD";
    po.timeframe = 900;
    po.as_of = T("2024-05-09T12:00");
    po.max_age = 7200;
    po.record = 1;
    tr_prediction p;
    ck_assert_msg(tr_predict(st, &po, &p, &e) == TR_OK, "%s", e.msg);
    ck_assert_int_eq(p.sig.bar_time, T("2024-05-09T11:45"));
    ck_assert_str_eq(p.sig.model_version, "v1.0-daily-20240508");
    ck_assert(fabs(p.sig.probs[0] + p.sig.probs[1] + p.sig.probs[2] - 1) < 1e-4);
    ck_assert_int_eq(p.sig.id, 1);
    po.as_of = T("2024-05-20");
    ck_assert_int_eq(tr_predict(st, &po, &p, &e), TR_ERR_STALE);
    ck_assert(strstr(e.msg, "EURUSD") != NULL);
    po.pair = "GBPUSD";
    po.as_of = T("2024-05-09T12:00");
    ck_assert_int_eq(tr_predict(st, &po, &p, &e), TR_ERR_NOTFOUND);
    tr_signal *sigs;
    size_t ns;
    ck_assert_int_eq(tr_store_signals_get(st, "EURUSD", INT64_MIN, INT64_MAX, &sigs, &ns, &e),
                     TR_OK);
    ck_assert_uint_eq(ns, 1);
    free(sigs);

    /* evaluate a version on a window */
    tr_eval_report *er = calloc(1, sizeof *er);
    tr_equity eq;
    ck_assert_int_eq(tr_evaluate_version(st, "v1.1", NULL, 0, 900, T("2024-04-20"), T("2024-05-08"),
                                         NULL, er, &eq, &e),
                     TR_OK);
    ck_assert_int_eq(er->n_pairs, 2);
    ck_assert(er->figs.n > 100);
    /* the equity curve: one point per trade of both pairs, by exit time, ending at the total */
    ck_assert_int_eq((int64_t)eq.n, er->bt.trades);
    for (size_t i = 1; i < eq.n; i++)
        ck_assert(eq.t[i - 1] <= eq.t[i]);
    if (eq.n)
        ck_assert_double_eq_tol(eq.pips[eq.n - 1], er->bt.total_pips, 1e-9);
    tr_equity_free(&eq);
    ck_assert_int_eq(tr_evaluate_version(st, "v4.4", NULL, 0, 900, T("2024-04-20"), T("2024-05-08"),
                                         NULL, er, NULL, &e),
                     TR_ERR_NOTFOUND);
    ck_assert(strstr(e.msg, "v4.4") != NULL);
    free(er);
    free(r);
    tr_store_close(st);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* Parameters of a registered version's checkpoint. */
static float *params_of(tr_store *st, const char *version, size_t *n)
{
    tr_registry reg;
    tr_error e;
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    const tr_version *v = tr_registry_find(&reg, version);
    ck_assert_ptr_nonnull(v);
    aifx_model *m;
    ck_assert_int_eq(tr_checkpoint_load(st, v, &m, &e), TR_OK);
    *n = aifx_net_n_params(aifx_model_net(m));
    float *p = malloc(*n * sizeof *p);
    memcpy(p, aifx_net_params(aifx_model_net(m)), *n * sizeof *p);
    aifx_model_free(m);
    tr_registry_free(&reg);
    return p;
}

static int stop_epoch;

/* The test hook: interrupts the full retrain after epoch stop_epoch, as if killed. */
static int stop_after_epoch(const char *cycle, int epoch)
{
    (void)cycle;
    return epoch >= stop_epoch;
}

START_TEST(test_resume_exact)
{
    char *d1 = tu_tempdir(), *d2 = tu_tempdir();
    tr_store *s1 = make_store(d1), *s2 = make_store(d2);
    tr_error e;
    tr_cycle_result *r = calloc(1, sizeof *r);
    tr_full_opts o = tiny_full(T("2024-05-01"));
    o.max_epochs = 4;
    o.patience = 10;
    ck_assert_msg(tr_cycle_full(s1, &o, r, &e) == TR_OK, "%s", e.msg);
    /* interrupted after epoch 2 (as if killed): no version, no log row, the run kept */
    stop_epoch = 2;
    tr_testhook_epoch = stop_after_epoch;
    ck_assert_int_ne(tr_cycle_full(s2, &o, r, &e), TR_OK);
    tr_testhook_epoch = NULL;
    tr_registry reg;
    ck_assert_int_eq(tr_store_registry_read(s2, &reg, &e), TR_OK);
    ck_assert_uint_eq(reg.n_versions + reg.n_log, 0);
    tr_registry_free(&reg);
    char *state = tu_path(d2, "models/runs/full.state");
    ck_assert_int_eq(access(state, F_OK), 0);
    o.resume = 1;
    o.as_of = 0; /* taken from the run */
    ck_assert_msg(tr_cycle_full(s2, &o, r, &e) == TR_OK, "%s", e.msg);
    ck_assert_int_eq(r->resumed_epoch, 2);
    ck_assert_str_eq(r->version, "v1.0");
    ck_assert_int_ne(access(state, F_OK), 0);
    size_t n1, n2;
    float *p1 = params_of(s1, "v1.0", &n1), *p2 = params_of(s2, "v1.0", &n2);
    ck_assert_uint_eq(n1, n2);
    ck_assert_int_eq(memcmp(p1, p2, n1 * sizeof(float)), 0);
    free(p1);
    free(p2);
    free(state);
    free(r);
    tr_store_close(s1);
    tr_store_close(s2);
    tu_rmtree(d1);
    tu_rmtree(d2);
    free(d1);
    free(d2);
}
END_TEST

static void assert_same_version(tr_store *a, tr_store *b, const char *version);

/* The training threads are a speed setting only (base/threads.h): on the packed kernel path a
 * full retrain at 1 thread, the same at 3 threads, and one interrupted at 2 threads and resumed
 * at 1 register the same version to the byte, and so do their daily fine-tunes at 1 and 2
 * threads. H = 40 makes 4H = 160 weight rows, two of the library's fixed 128-row pieces. */
START_TEST(test_threads_same_bytes)
{
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        fprintf(stderr, "test_threads_same_bytes: no AVX2 and FMA here (BLAS path: the bits "
                        "may depend on the thread count), skipped\n");
        return;
    }
    char *d[3] = {tu_tempdir(), tu_tempdir(), tu_tempdir()};
    tr_store *s[3];
    for (int i = 0; i < 3; i++)
        s[i] = make_store(d[i]);
    tr_error e;
    tr_cycle_result *r = calloc(1, sizeof *r);
    tr_full_opts o = tiny_full(T("2024-05-01"));
    o.n_hidden = 40;
    o.max_epochs = 3;
    o.patience = 10;
    const int threads[3] = {1, 3, 2};
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(tr_train_threads_set(threads[i]), 0);
        ck_assert_int_eq(tr_train_threads(), threads[i]);
        if (i == 2) { /* killed after epoch 1, resumed at 1 thread */
            stop_epoch = 1;
            tr_testhook_epoch = stop_after_epoch;
            ck_assert_int_ne(tr_cycle_full(s[i], &o, r, &e), TR_OK);
            tr_testhook_epoch = NULL;
            ck_assert_int_eq(tr_train_threads_set(1), 0);
            tr_full_opts ro = o;
            ro.resume = 1;
            ro.as_of = 0;
            ck_assert_msg(tr_cycle_full(s[i], &ro, r, &e) == TR_OK, "%s", e.msg);
            ck_assert_int_eq(r->resumed_epoch, 1);
        } else {
            ck_assert_msg(tr_cycle_full(s[i], &o, r, &e) == TR_OK, "%s", e.msg);
        }
        ck_assert_str_eq(r->version, "v1.0");
        tr_incr_opts io = tr_incr_opts_default();
        io.as_of = T("2024-05-09");
        io.no_guard = 1;
        io.force = 1;
        ck_assert_int_eq(tr_train_threads_set(i == 0 ? 1 : 2), 0);
        ck_assert_msg(tr_cycle_incremental(s[i], &io, r, &e) == TR_OK, "%s", e.msg);
        ck_assert_str_eq(r->version, "v1.0-daily-20240509");
    }
    const char *versions[2] = {"v1.0", "v1.0-daily-20240509"};
    for (int v = 0; v < 2; v++)
        for (int i = 1; i < 3; i++) {
            size_t n0, n1;
            float *p0 = params_of(s[0], versions[v], &n0), *p1 = params_of(s[i], versions[v], &n1);
            ck_assert_uint_eq(n0, n1);
            ck_assert_msg(memcmp(p0, p1, n0 * sizeof(float)) == 0,
                          "%s of store %d differs from 1 thread's", versions[v], i);
            assert_same_version(s[0], s[i], versions[v]);
            free(p0);
            free(p1);
        }
    ck_assert_int_eq(tr_train_threads_set(TR_TRAIN_THREADS_MAX + 1), -1);
    int n = -1;
    ck_assert_int_eq(tr_train_threads_parse("auto", &n), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(tr_train_threads_parse("2", &n), 0);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(tr_train_threads_parse("0", &n), -1);
    ck_assert_int_eq(tr_train_threads_parse("2x", &n), -1);
    ck_assert_int_eq(tr_train_threads_set(1), 0);
    free(r);
    for (int i = 0; i < 3; i++) {
        tr_store_close(s[i]);
        tu_rmtree(d[i]);
        free(d[i]);
    }
}
END_TEST

/* The version records of two stores are the same, wall-clock fields (trained_at, seconds,
 * deployed_at) aside. */
static void assert_same_version(tr_store *a, tr_store *b, const char *version)
{
    tr_registry ra, rb;
    tr_error e;
    ck_assert_int_eq(tr_store_registry_read(a, &ra, &e), TR_OK);
    ck_assert_int_eq(tr_store_registry_read(b, &rb, &e), TR_OK);
    const tr_version *x = tr_registry_find(&ra, version), *y = tr_registry_find(&rb, version);
    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_nonnull(y);
    ck_assert_int_eq(x->type, y->type);
    ck_assert_int_eq(x->status, y->status);
    ck_assert_str_eq(x->parent, y->parent);
    ck_assert_int_eq(x->as_of, y->as_of);
    ck_assert_int_eq(x->data_from, y->data_from);
    ck_assert_int_eq(x->data_to, y->data_to);
    ck_assert_int_eq(memcmp(x->n_samples, y->n_samples, sizeof x->n_samples), 0);
    ck_assert_str_eq(x->hyper, y->hyper);
    ck_assert_int_eq(memcmp(x->class_weight, y->class_weight, sizeof x->class_weight), 0);
    ck_assert_int_eq(x->epochs, y->epochs);
    ck_assert_int_eq(x->best_epoch, y->best_epoch);
    ck_assert_int_eq(x->n_history, y->n_history);
    size_t nh = (size_t)x->n_history * sizeof(float);
    ck_assert_int_eq(memcmp(x->hist_train_loss, y->hist_train_loss, nh), 0);
    ck_assert_int_eq(memcmp(x->hist_val_loss, y->hist_val_loss, nh), 0);
    ck_assert_int_eq(memcmp(x->hist_val_macro_f1, y->hist_val_macro_f1, nh), 0);
    ck_assert_int_eq(memcmp(x->hist_lr, y->hist_lr, nh), 0);
    for (int k = 0; k < 3; k++)
        ck_assert_int_eq(memcmp(&x->figs[k], &y->figs[k], sizeof x->figs[k]), 0);
    ck_assert_int_eq(memcmp(&x->bt, &y->bt, sizeof x->bt), 0);
    ck_assert_str_eq(x->checkpoint, y->checkpoint);
    ck_assert_uint_eq(x->ckpt_crc, y->ckpt_crc);
    ck_assert_int_eq(x->ckpt_size, y->ckpt_size);
    ck_assert_int_eq(x->is_active, y->is_active);
    ck_assert_int_eq(x->deprecated_at, y->deprecated_at);
    ck_assert_uint_eq(ra.n_log, rb.n_log);
    for (size_t i = 0; i < ra.n_log; i++) {
        ck_assert_int_eq(ra.log[i].status, rb.log[i].status);
        ck_assert_str_eq(ra.log[i].verdict, rb.log[i].verdict);
        ck_assert_str_eq(ra.log[i].reason, rb.log[i].reason);
        ck_assert(ra.log[i].candidate_value == rb.log[i].candidate_value);
    }
    ck_assert_uint_eq(ra.n_activations, rb.n_activations);
    tr_registry_free(&ra);
    tr_registry_free(&rb);
}

static const char *kill_point; /* the named point the hook stops at */

static int kill_at_point(const char *cycle, const char *point)
{
    (void)cycle;
    return strcmp(point, kill_point) == 0;
}

/* The run's directory holds nothing (no run file, no temporary file). */
static void assert_runs_empty(const char *dir)
{
    char *runs = tu_path(dir, "models/runs");
    char cmd[4600];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s' 2>/dev/null)\"", runs);
    ck_assert_msg(system(cmd) == 0, "%s is not empty", runs);
    free(runs);
}

/* A run killed anywhere between its last epoch and its registry commit (the last epoch's
 * checkpoint written, training over, evaluation and backtest done, the version's checkpoint
 * saved) and resumed records exactly what an uninterrupted run does: the same epochs, history,
 * figures and checkpoint bytes; early stopping fires in this run, so a resumed run that trained
 * on would show. */
START_TEST(test_resume_every_window)
{
    char *d0 = tu_tempdir();
    tr_store *s0 = make_store(d0);
    tr_error e;
    tr_cycle_result *r = calloc(1, sizeof *r);
    tr_full_opts o = tiny_full(T("2024-05-01"));
    o.max_epochs = 12;
    o.patience = 1;
    o.monitor = AIFX_MONITOR_VAL_MACRO_F1; /* noisy on this data: it stops within a few epochs */
    ck_assert_msg(tr_cycle_full(s0, &o, r, &e) == TR_OK, "%s", e.msg);
    int epochs = r->rec.epochs;
    ck_assert_msg(epochs < o.max_epochs, "early stopping did not fire (%d epochs)", epochs);
    ck_assert_int_eq(r->rec.n_history, epochs);
    static const char *const points[] = {"epoch", "trained", "evaluated", "saved"};
    for (int k = 0; k < 4; k++) {
        char *d = tu_tempdir();
        tr_store *st = make_store(d);
        if (k == 0) {
            stop_epoch = epochs; /* after the last epoch's checkpoint */
            tr_testhook_epoch = stop_after_epoch;
        } else {
            kill_point = points[k];
            tr_testhook_point = kill_at_point;
        }
        ck_assert_int_ne(tr_cycle_full(st, &o, r, &e), TR_OK);
        tr_testhook_epoch = NULL;
        tr_testhook_point = NULL;
        tr_full_opts ro = o;
        ro.resume = 1;
        ro.as_of = 0;
        ck_assert_msg(tr_cycle_full(st, &ro, r, &e) == TR_OK, "%s: %s", points[k], e.msg);
        ck_assert_int_eq(r->resumed_epoch, epochs);
        ck_assert_str_eq(r->version, "v1.0");
        assert_same_version(s0, st, "v1.0");
        assert_runs_empty(d);
        tr_store_close(st);
        tu_rmtree(d);
        free(d);
    }
    free(r);
    tr_store_close(s0);
    tu_rmtree(d0);
    free(d0);
}
END_TEST

/* Killed after its commit, before runs/ was removed: the run is complete. A `--resume` cleans
 * the leftovers and succeeds (exit 0) without training or logging again; run-due counts the
 * slot as covered and removes the leftovers too. */
START_TEST(test_resume_after_commit)
{
    char *dir = tu_tempdir();
    char *sd = tu_path(dir, "store");
    tr_store *st = make_store(sd);
    tr_error e;
    tr_cycle_result *r = calloc(1, sizeof *r);
    /* the weekly slot of Sunday 2024-05-05 01:00, killed after the commit */
    tr_due_opts due = tu_tiny_due("2024-05-05T01:30");
    for (int k = 0; k < TR_N_SLOTS; k++)
        due.sched.enabled[k] = k == TR_SLOT_WEEKLY;
    tr_full_opts o = due.full;
    o.as_of = T("2024-05-05T01:00");
    kill_point = "committed";
    tr_testhook_point = kill_at_point;
    ck_assert_int_ne(tr_cycle_full(st, &o, r, &e), TR_OK);
    tr_testhook_point = NULL;
    char *state = tu_path(sd, "models/runs/full.state");
    ck_assert_int_eq(access(state, F_OK), 0);
    ck_assert_int_eq(tu_log_rows(st, "full", o.as_of, -1), 1);
    tr_due_result dr;
    ck_assert_msg(tr_run_due(st, &due, &dr, &e) == TR_OK, "%s", e.msg);
    ck_assert_int_eq(dr.first_error, TR_OK);
    for (int i = 0; i < dr.n_items; i++)
        if (dr.items[i].slot == TR_SLOT_WEEKLY)
            ck_assert_int_eq(dr.items[i].outcome, TR_RUN_NOT_DUE);
    ck_assert_int_eq(tu_log_rows(st, "full", o.as_of, -1), 1);
    assert_runs_empty(sd);

    /* the next week's run killed likewise, then `full --resume`: exit 0, nothing logged */
    o.as_of = T("2024-05-08");
    tr_testhook_point = kill_at_point;
    ck_assert_int_ne(tr_cycle_full(st, &o, r, &e), TR_OK);
    tr_testhook_point = NULL;
    ck_assert_int_eq(access(state, F_OK), 0);
    tr_registry reg;
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    size_t n_log = reg.n_log, n_versions = reg.n_versions;
    tr_registry_free(&reg);
    ck_assert_int_eq(tu_run(AIFX_TRAIN_EXE, dir, "full --resume --quiet --store '%s'", sd), 0);
    ck_assert(tu_output_has(dir, "v1.1"));
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    ck_assert_uint_eq(reg.n_log, n_log);
    ck_assert_uint_eq(reg.n_versions, n_versions);
    tr_registry_free(&reg);
    assert_runs_empty(sd);
    /* and the same through the cycle's entry with resume, as run-due would call it */
    o.as_of = T("2024-05-09");
    tr_testhook_point = kill_at_point;
    ck_assert_int_ne(tr_cycle_full(st, &o, r, &e), TR_OK);
    tr_testhook_point = NULL;
    o.resume = 1;
    ck_assert_msg(tr_cycle_full(st, &o, r, &e) == TR_OK, "%s", e.msg);
    ck_assert_str_eq(r->version, "v1.2");
    ck_assert_int_eq(r->status, TR_LOG_COMPLETED);
    ck_assert_int_eq(tu_log_rows(st, "full", o.as_of, TR_LOG_FAILED), 0);
    assert_runs_empty(sd);
    free(state);
    free(r);
    tr_store_close(st);
    free(sd);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* Damages the registry file during training, so that the cycle's final commit fails. */
typedef struct damage_ctx {
    const char *path;
    int done;
} damage_ctx;

static void damage_registry(const tr_event *ev, void *user)
{
    damage_ctx *d = user;
    if (ev->kind == TR_EV_EPOCH && !d->done) {
        tr_error e;
        ck_assert_int_eq(tr_file_write_atomic(d->path, "garbage\n", 8, &e), TR_OK);
        d->done = 1;
    }
}

START_TEST(test_failed_commit_leaves_nothing)
{
    char *dir = tu_tempdir();
    tr_store *st = make_store(dir);
    tr_error e;
    tr_cycle_result *r = calloc(1, sizeof *r);
    tr_full_opts o = tiny_full(T("2024-05-01"));
    ck_assert_msg(tr_cycle_full(st, &o, r, &e) == TR_OK, "%s", e.msg);
    char *reg_path = tu_path(dir, "registry.aifx");
    char *saved;
    size_t len;
    ck_assert_int_eq(tr_file_read(reg_path, &saved, &len, &e), TR_OK);
    damage_ctx d = {reg_path, 0};
    o = tiny_full(T("2024-05-08"));
    o.on_event = damage_registry;
    o.user = &d;
    ck_assert_int_eq(tr_cycle_full(st, &o, r, &e), TR_ERR_FORMAT);
    ck_assert(strstr(e.msg, "registry.aifx") != NULL);
    /* the verified checkpoint of the would-be v1.1 was removed again */
    char *ckpt = tu_path(dir, "models/v1.1.ckpt");
    ck_assert_int_ne(access(ckpt, F_OK), 0);
    /* with the registry restored, it is as before: v1.0 only, still active */
    ck_assert_int_eq(tr_file_write_atomic(reg_path, saved, len, &e), TR_OK);
    tr_registry reg;
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    ck_assert_uint_eq(reg.n_versions, 1);
    ck_assert_uint_eq(reg.n_log, 1);
    ck_assert_str_eq(tr_registry_active(&reg)->version, "v1.0");
    tr_registry_free(&reg);
    /* an existing version base fails before training, with a failed log row */
    o = tiny_full(T("2024-05-08"));
    o.version_base = "v1.0";
    ck_assert_int_eq(tr_cycle_full(st, &o, r, &e), TR_ERR_CONFLICT);
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    ck_assert_uint_eq(reg.n_versions, 1);
    ck_assert_uint_eq(reg.n_log, 2);
    ck_assert_int_eq(reg.log[1].status, TR_LOG_FAILED);
    ck_assert(strstr(reg.log[1].error, "v1.0 already exists") != NULL);
    tr_registry_free(&reg);
    free(ckpt);
    free(saved);
    free(reg_path);
    free(r);
    tr_store_close(st);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_cycle_lock)
{
    char *dir = tu_tempdir();
    tr_store *st = make_store(dir);
    tr_error e;
    int tok;
    ck_assert_int_eq(tr_store_cycle_lock(st, "full", &tok, &e), TR_OK);
    tr_store *other;
    ck_assert_int_eq(tr_store_open(dir, NULL, &other, &e), TR_OK);
    tr_cycle_result *r = calloc(1, sizeof *r);
    tr_full_opts o = tiny_full(T("2024-05-01"));
    ck_assert_int_eq(tr_cycle_full(other, &o, r, &e), TR_ERR_CONFLICT);
    ck_assert(strstr(e.msg, "another full cycle") != NULL);
    tr_store_cycle_unlock(st, tok);
    free(r);
    tr_store_close(other);
    tr_store_close(st);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* Leftover temporary files of a killed writer ("NAME.tmp.PID") are removed by the next atomic
 * write in that directory, and only those whose process is gone. */
START_TEST(test_dead_tmp_files_swept)
{
    char *dir = tu_tempdir();
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0)
        _exit(0);
    int status;
    ck_assert_int_eq(waitpid(child, &status, 0), child); /* reaped: its pid is free now */
    char name[64];
    snprintf(name, sizeof name, "registry.aifx.tmp.%ld", (long)child);
    char *dead = tu_write(dir, name, "half");
    snprintf(name, sizeof name, "signals.aifx.tmp.%ld", (long)getpid());
    char *mine = tu_write(dir, name, "in use"); /* this process: alive */
    char *init = tu_write(dir, "bars.tmp.1", "pid 1 lives");
    char *other = tu_write(dir, "notes.tmp.x1", "not a pid");
    char *target = tu_path(dir, "state");
    tr_error e;
    ck_assert_int_eq(tr_file_write_atomic(target, "x", 1, &e), TR_OK);
    ck_assert_int_ne(access(dead, F_OK), 0);
    ck_assert_int_eq(access(mine, F_OK), 0);
    ck_assert_int_eq(access(init, F_OK), 0);
    ck_assert_int_eq(access(other, F_OK), 0);
    ck_assert_int_eq(access(target, F_OK), 0);
    free(dead);
    free(mine);
    free(init);
    free(other);
    free(target);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trainer_cycles");
    TCase *tc = tcase_create("cycles");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_gate_rule);
    tcase_add_test(tc, test_full_incremental_predict);
    tcase_add_test(tc, test_resume_exact);
    tcase_add_test(tc, test_failed_commit_leaves_nothing);
    tcase_add_test(tc, test_cycle_lock);
    tcase_add_test(tc, test_dead_tmp_files_swept);
    tcase_add_test(tc, test_resume_every_window);
    tcase_add_test(tc, test_resume_after_commit);
    tcase_add_test(tc, test_threads_same_bytes);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(suite)
