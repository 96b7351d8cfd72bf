/*
 * check_walkforward.c - the walk-forward evaluation (cycles/walkforward.h) on synthetic bars of
 * one pair with a tiny model (3 weekly steps, 1 month of training, 8 hidden units, 2 epochs):
 * the steps cover the range and no step trains on the bars it scores; the random baseline's
 * p-value and quantiles are the direct count over its draws; the same seed gives the same report
 * (in another work directory), another seed another one; a walk killed after a step, or inside
 * a step's training, continues to the same report as an uninterrupted walk; bad arguments are
 * named; and the command.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check_main.h"
#include "base/fsutil.h"
#include "base/timeutil.h"
#include "cycles/testhook.h"
#include "cycles/walkforward.h"
#include "market/labels.h"
#include "market/synth.h"
#include "report/plot.h"
#include "store/store.h"
#include "testutil.h"

/* A store in dir/store with EURUSD from 2024-11-01 to 2025-02-15 (synthetic, seed 5). */
static tr_store *make_store(const char *dir)
{
    char *loc = tu_path(dir, "store");
    tr_store_options so = {.create = 1};
    tr_store *st;
    tr_error e;
    ck_assert_int_eq(tr_store_open(loc, &so, &st, &e), TR_OK);
    free(loc);
    tr_synth_params p = tr_synth_params_default("EURUSD", T("2024-11-01"), T("2025-02-15"), 5);
    tr_bars bars = {0};
    ck_assert_int_eq(tr_synth_generate(&p, &bars, NULL, &e), TR_OK);
    tr_put_stats ps;
    ck_assert_int_eq(tr_store_bars_put(st, "EURUSD", 900, bars.v, bars.n, 0, &ps, &e), TR_OK);
    tr_bars_free(&bars);
    return st;
}

/* Three weekly steps from Monday 2025-01-06, the cycles shrunk to about a second each. */
static tr_wf_opts tiny(const char *work)
{
    tr_wf_opts o = tr_wf_opts_default();
    o.from = T("2025-01-06");
    o.to = T("2025-01-27");
    o.step_days = 7;
    o.full.months = 1;
    o.full.n_hidden = 8;
    o.full.max_epochs = 2;
    o.full.patience = 1;
    o.full.seed = 7;
    o.draws = 200;
    o.work = work;
    /* a tiny model's cost-aware rule finds no edge (no trades): these walks decide by the
     * calibrated argmax, so that the random baseline has trades to match */
    o.full.decision = TR_DECISION_ARGMAX;
    return o;
}

/* The report's text without its run-time line ("Computed in ..."). */
static char *report_text(const tr_wf_result *r)
{
    char *text;
    size_t len;
    tr_error e;
    ck_assert_msg(tr_file_read(r->report_path, &text, &len, &e) == TR_OK, "%s", e.msg);
    char *line = strstr(text, "\nComputed in ");
    ck_assert_ptr_nonnull(line);
    char *eol = strchr(line + 1, '\n');
    ck_assert_ptr_nonnull(eol);
    memmove(line + 1, eol + 1, strlen(eol + 1) + 1);
    return text;
}

/* Runs the walk o on st; the report without its run-time line, or NULL when the run failed
 * (then *rc says how). */
static char *walk(tr_store *st, const tr_wf_opts *o, tr_wf_result *r, tr_code *rc, tr_error *e)
{
    *rc = tr_walkforward_run(st, o, r, e);
    return *rc ? NULL : report_text(r);
}

START_TEST(test_steps_cover_and_never_train_on_scored_bars)
{
    char *dir = tu_tempdir(), *work = tu_path(dir, "work");
    tr_store *st = make_store(dir);
    tr_wf_opts o = tiny(work);
    o.full.decision = TR_DECISION_COST; /* the default: each version's rule as chosen */
    tr_wf_result r;
    tr_error e;
    tr_code rc;
    char *text = walk(st, &o, &r, &rc, &e);
    ck_assert_msg(rc == TR_OK, "%s", e.msg);
    ck_assert_uint_eq(r.n_steps, 3);
    ck_assert_int_eq(r.steps[0].start, o.from);
    ck_assert_int_eq(r.steps[2].end, o.to);
    int64_t windows = 0;
    for (size_t k = 0; k < r.n_steps; k++) {
        const tr_wf_step *s = &r.steps[k];
        if (k)
            ck_assert_int_eq(s->start, r.steps[k - 1].end);
        ck_assert_int_eq(s->end - s->start, 7 * 86400);
        /* trained on the month before the step only, scored on the step only */
        ck_assert_int_le(s->data_to, s->start);
        ck_assert_int_eq(s->data_to, s->start);
        ck_assert_int_eq(s->data_from, tr_time_minus_months(s->start, 1));
        ck_assert_int_gt(s->n_windows, 300);
        ck_assert_int_ge(s->first_t, s->start);
        ck_assert_int_lt(s->last_t, s->end);
        for (size_t j = 0; j < k; j++)
            ck_assert_str_ne(s->version, r.steps[j].version);
        windows += s->n_windows;
        /* the rule trades only the argmax's class (calibration keeps the argmax), only above
         * its threshold, never with no edge; threshold 0 is the argmax */
        for (int64_t i = 0; i < s->n_windows; i++) {
            int8_t rule = s->pred_rule[i], best = s->pred_argmax[i];
            ck_assert(rule == TR_LABEL_HOLD || rule == best);
            ck_assert(!s->no_edge || rule == TR_LABEL_HOLD);
            ck_assert(s->no_edge || s->threshold > 0 || rule == best);
        }
        ck_assert_int_eq(s->hold.trades, 0);
        /* no trade of the rule: no p-value (not 1, which would read as a finding) */
        ck_assert(s->rule.trades > 0 || isnan(s->random.p_value));
        ck_assert(isfinite(s->nll_cal) && s->nll_cal > 0);
        ck_assert(isfinite(s->f1_rule) && s->f1_rule >= 0 && s->f1_rule <= 1);
    }
    ck_assert_int_eq(windows, r.n_windows);
    ck_assert(tr_plot_is_png(r.picture_path));
    ck_assert_ptr_nonnull(strstr(text, "| 3 | 2025-01-20 | v1.2 | 2024-12-20 .. 2025-01-20 |"));
    char *json = tr_wf_json(&r);
    ck_assert_ptr_nonnull(json);
    ck_assert_ptr_nonnull(strstr(json, "\"steps\":[{\"start\":\"2025-01-06T00:00:00Z\""));
    free(json);
    free(text);
    tr_wf_result_free(&r);
    tr_store_close(st);
    tu_rmtree(dir);
    free(work);
    free(dir);
}
END_TEST

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The random baseline of one step or of the whole range against a direct count over draws. */
static void check_random(const tr_wf_random *x, const double *draws, int n, double model)
{
    int ge = 0;
    double *s = malloc((size_t)n * sizeof *s);
    for (int d = 0; d < n; d++) {
        ge += draws[d] >= model;
        s[d] = draws[d];
    }
    qsort(s, (size_t)n, sizeof *s, cmp_d);
    ck_assert_int_eq(x->n_ge, ge);
    ck_assert_double_eq_tol(x->p_value, (1.0 + ge) / (1.0 + n), 1e-15);
    /* n = 200: the median halfway between the 100th and 101st, the 5% at 0.05 x 199 = 9.95 */
    ck_assert_double_eq_tol(x->median, (s[99] + s[100]) / 2, 1e-9);
    ck_assert_double_eq_tol(x->p05, s[9] + 0.95 * (s[10] - s[9]), 1e-9);
    ck_assert(s[0] < s[n - 1]); /* the draws differ */
    free(s);
}

START_TEST(test_random_baseline_pvalue_is_the_direct_count)
{
    char *dir = tu_tempdir(), *work = tu_path(dir, "work");
    tr_store *st = make_store(dir);
    tr_wf_opts o = tiny(work);
    tr_wf_result r;
    tr_error e;
    tr_code rc;
    char *text = walk(st, &o, &r, &rc, &e);
    ck_assert_msg(rc == TR_OK, "%s", e.msg);
    for (size_t k = 0; k < r.n_steps; k++) {
        const tr_wf_step *s = &r.steps[k];
        check_random(&s->random, s->draws, o.draws, s->rule.net_pips);
        /* as many trades as the model's rule, on average within a few percent */
        ck_assert_int_eq(s->random.target_trades, s->rule.trades);
        ck_assert_int_gt(s->rule.trades, 0);
        ck_assert_double_le(fabs(s->random.mean_trades - (double)s->rule.trades),
                            0.05 * (double)s->rule.trades + 1);
    }
    check_random(&r.random, r.draws, o.draws, r.rule.net_pips);
    char want[128];
    snprintf(want, sizeof want, "p = (1 + %lld) / (1 + 200) = **%.4f**", (long long)r.random.n_ge,
             r.random.p_value);
    ck_assert_ptr_nonnull(strstr(text, want));
    free(text);
    tr_wf_result_free(&r);
    tr_store_close(st);
    tu_rmtree(dir);
    free(work);
    free(dir);
}
END_TEST

START_TEST(test_same_seed_same_report)
{
    char *dir = tu_tempdir(), *w1 = tu_path(dir, "w1"), *w2 = tu_path(dir, "w2");
    char *w3 = tu_path(dir, "w3");
    tr_store *st = make_store(dir);
    tr_wf_opts o = tiny(w1);
    tr_wf_result r;
    tr_error e;
    tr_code rc;
    char *a = walk(st, &o, &r, &rc, &e);
    ck_assert_msg(rc == TR_OK, "%s", e.msg);
    tr_wf_result_free(&r);
    o.work = w2; /* computed again from nothing, in another work directory */
    char *b = walk(st, &o, &r, &rc, &e);
    ck_assert_msg(rc == TR_OK, "%s", e.msg);
    ck_assert_uint_eq(r.n_resumed, 0);
    ck_assert_str_eq(a, b);
    tr_wf_result_free(&r);
    o.work = w3;
    o.full.seed = 8;
    char *c = walk(st, &o, &r, &rc, &e);
    ck_assert_msg(rc == TR_OK, "%s", e.msg);
    ck_assert_str_ne(a, c);
    tr_wf_result_free(&r);
    free(a);
    free(b);
    free(c);
    tr_store_close(st);
    tu_rmtree(dir);
    free(w1);
    free(w2);
    free(w3);
    free(dir);
}
END_TEST

static size_t stop_after;
static int stop_at_step(size_t steps_done)
{
    return steps_done == stop_after;
}

static int epochs_seen;
static int stop_in_second_training(const char *cycle, int epoch)
{
    (void)cycle;
    (void)epoch;
    return ++epochs_seen == 3; /* the first epoch of the second step's training */
}

START_TEST(test_killed_and_resumed_gives_the_same_report)
{
    char *dir = tu_tempdir(), *w1 = tu_path(dir, "w1"), *w2 = tu_path(dir, "w2");
    char *w3 = tu_path(dir, "w3");
    tr_store *st = make_store(dir);
    tr_wf_opts o = tiny(w1);
    tr_wf_result r;
    tr_error e;
    tr_code rc;
    char *whole = walk(st, &o, &r, &rc, &e);
    ck_assert_msg(rc == TR_OK, "%s", e.msg);
    tr_wf_result_free(&r);

    /* killed after step 1's file: nothing reported, then continued */
    o.work = w2;
    stop_after = 1;
    tr_testhook_wf_step = stop_at_step;
    rc = tr_walkforward_run(st, &o, &r, &e);
    tr_testhook_wf_step = NULL;
    ck_assert_int_eq(rc, TR_ERR_IO);
    ck_assert_ptr_nonnull(strstr(e.msg, "after step 1"));
    char *again = walk(st, &o, &r, &rc, &e);
    ck_assert_msg(rc == TR_OK, "%s", e.msg);
    ck_assert_uint_eq(r.n_resumed, 1);
    ck_assert_str_eq(again, whole);
    tr_wf_result_free(&r);
    free(again);

    /* killed inside step 2's training (after its first epoch): full --resume continues it */
    o.work = w3;
    epochs_seen = 0;
    tr_testhook_epoch = stop_in_second_training;
    rc = tr_walkforward_run(st, &o, &r, &e);
    tr_testhook_epoch = NULL;
    ck_assert_int_eq(rc, TR_ERR_IO);
    ck_assert_ptr_nonnull(strstr(e.msg, "step 2"));
    again = walk(st, &o, &r, &rc, &e);
    ck_assert_msg(rc == TR_OK, "%s", e.msg);
    ck_assert_uint_eq(r.n_resumed, 1);
    ck_assert_str_eq(again, whole);
    /* and a finished walk started again reads every step back */
    tr_wf_result_free(&r);
    free(again);
    again = walk(st, &o, &r, &rc, &e);
    ck_assert_msg(rc == TR_OK, "%s", e.msg);
    ck_assert_uint_eq(r.n_resumed, 3);
    ck_assert_str_eq(again, whole);
    tr_wf_result_free(&r);
    free(again);
    free(whole);
    tr_store_close(st);
    tu_rmtree(dir);
    free(w1);
    free(w2);
    free(w3);
    free(dir);
}
END_TEST

START_TEST(test_bad_arguments_are_named)
{
    char *dir = tu_tempdir(), *work = tu_path(dir, "work");
    tr_store *st = make_store(dir);
    tr_wf_result r;
    tr_error e;
    tr_wf_opts o = tiny(work);
    o.step_days = 0; /* step 0 */
    ck_assert_int_eq(tr_walkforward_run(st, &o, &r, &e), TR_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.msg, "--step"));
    o = tiny(work);
    o.to = o.from; /* --to not after --from */
    ck_assert_int_eq(tr_walkforward_run(st, &o, &r, &e), TR_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.msg, "--to"));
    o = tiny(work);
    o.to = o.from - 86400;
    ck_assert_int_eq(tr_walkforward_run(st, &o, &r, &e), TR_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.msg, "--to"));
    o = tiny(work);
    o.draws = 0;
    ck_assert_int_eq(tr_walkforward_run(st, &o, &r, &e), TR_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.msg, "--draws"));
    o = tiny(work);
    const char *pp[2] = {"EURUSD", "GBPUSD"};
    o.pairs = pp;
    o.n_pairs = 2;
    ck_assert_int_eq(tr_walkforward_run(st, &o, &r, &e), TR_ERR_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(e.msg, "--pair GBPUSD"));

    /* the step's forms */
    tr_wf_opts s = tr_wf_opts_default();
    ck_assert_int_eq(tr_wf_step_parse("1w", &s), 0);
    ck_assert_int_eq(s.step_days, 7);
    ck_assert_int_eq(tr_wf_step_parse("1m", &s), 0);
    ck_assert(s.step_months == 1 && s.step_days == 0);
    ck_assert_int_eq(tr_wf_step_parse("10d", &s), 0);
    ck_assert(s.step_days == 10 && s.step_months == 0);
    const char *bad[] = {"0d", "0", "1", "w", "1y", "-1w", "1w1", " 1w", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(tr_wf_step_parse(bad[i], &s) == -1, "%s", bad[i]);
    /* monthly steps from the anchor: Jan 31, Feb 28, Mar 31 */
    s.from = T("2025-01-31");
    s.to = T("2025-04-01");
    s.step_days = 0;
    s.step_months = 1;
    int64_t starts[4];
    ck_assert_uint_eq(tr_wf_steps(&s, starts, 4), 3);
    ck_assert_int_eq(starts[1], T("2025-02-28"));
    ck_assert_int_eq(starts[2], T("2025-03-31"));

    /* the command names them too */
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "--store %s/store --work %s", dir, work);
    ck_assert_int_eq(tu_run(AIFX_TRAIN_EXE, dir,
                            "walkforward --from 2025-01-06 --to 2025-01-27 --step 0d %s", cmd),
                     2);
    ck_assert(tu_output_has(dir, "bad --step"));
    ck_assert_int_eq(
        tu_run(AIFX_TRAIN_EXE, dir, "walkforward --from 2025-01-27 --to 2025-01-06 %s", cmd), 2);
    ck_assert(tu_output_has(dir, "--to must be after --from"));
    ck_assert_int_eq(tu_run(AIFX_TRAIN_EXE, dir,
                            "walkforward --from 2025-01-06 --to 2025-01-27 --pair GBPUSD --json %s",
                            cmd),
                     6);
    ck_assert(tu_output_has(dir, "\"code\":\"not_found\""));
    ck_assert(tu_output_has(dir, "--pair GBPUSD"));
    ck_assert_int_eq(tu_run(AIFX_TRAIN_EXE, dir, "walkforward --to 2025-01-27 %s", cmd), 2);
    ck_assert(tu_output_has(dir, "missing --from"));
    ck_assert_int_eq(tu_run(AIFX_TRAIN_EXE, NULL, "walkforward --help"), 0);
    tr_store_close(st);
    tu_rmtree(dir);
    free(work);
    free(dir);
}
END_TEST

START_TEST(test_command_json)
{
    char *dir = tu_tempdir(), *work = tu_path(dir, "work");
    tr_store *st = make_store(dir);
    tr_store_close(st);
    ck_assert_int_eq(tu_run(AIFX_TRAIN_EXE, dir,
                            "walkforward --from 2025-01-06 --to 2025-01-20 --step 1w --months 1 "
                            "--hidden 8 --epochs 2 --patience 1 --draws 50 --seed 7 --json "
                            "--store %s/store --work %s",
                            dir, work),
                     0);
    ck_assert(tu_output_has(dir,
                            "{\"from\":\"2025-01-06T00:00:00Z\",\"to\":\"2025-01-20T00:00:00Z\""
                            ",\"step\":\"1w\",\"pairs\":[\"EURUSD\"]"));
    ck_assert(tu_output_has(dir, "\"total\":{\"windows\":"));
    ck_assert(tu_output_has(dir, "\"p_value\":"));
    tu_rmtree(dir);
    free(work);
    free(dir);
}
END_TEST

static Suite *walkforward_suite(void)
{
    Suite *s = suite_create("walkforward");
    TCase *tc = tcase_create("walkforward");
    tcase_set_timeout(tc, 280);
    tcase_add_test(tc, test_steps_cover_and_never_train_on_scored_bars);
    tcase_add_test(tc, test_random_baseline_pvalue_is_the_direct_count);
    tcase_add_test(tc, test_same_seed_same_report);
    tcase_add_test(tc, test_killed_and_resumed_gives_the_same_report);
    tcase_add_test(tc, test_bad_arguments_are_named);
    tcase_add_test(tc, test_command_json);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(walkforward_suite)
