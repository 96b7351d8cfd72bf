/*
 * check_schedule.c - run-due (schedule.h): the latest scheduled time of each slot across day,
 * week and month boundaries; the due rule as a table of as-of times against log states; a
 * missed run caught up once; retries up to the limit with the error kept; a killed weekly
 * retrain resumed for its own slot only; the lock, with two processes started together; and the
 * command's exit codes.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check_main.h"
#include "base/fsutil.h"
#include "base/timeutil.h"
#include "cycles/cycle.h"
#include "cycles/schedule.h"
#include "cycles/testhook.h"
#include "market/synth.h"
#include "store/store.h"
#include "testutil.h"

START_TEST(test_latest)
{
    tr_schedule s = tr_schedule_default();
    static const struct {
        const char *as_of, *daily, *weekly, *monthly;
    } rows[] = {
        /* 2024-06-05 is a Wednesday; 2024-06-02 a Sunday */
        {"2024-06-05T01:59:59", "2024-06-04T02:00", "2024-06-02T01:00", "2024-06-01T00:00"},
        {"2024-06-05T02:00", "2024-06-05T02:00", "2024-06-02T01:00", "2024-06-01T00:00"},
        {"2024-06-02T00:59", "2024-06-01T02:00", "2024-05-26T01:00", "2024-06-01T00:00"},
        {"2024-06-02T01:00", "2024-06-01T02:00", "2024-06-02T01:00", "2024-06-01T00:00"},
        {"2024-05-31T23:59", "2024-05-31T02:00", "2024-05-26T01:00", "2024-05-01T00:00"},
        {"2024-01-01T00:00", "2023-12-31T02:00", "2023-12-31T01:00", "2024-01-01T00:00"},
        {"2023-12-31T23:59", "2023-12-31T02:00", "2023-12-31T01:00", "2023-12-01T00:00"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int64_t t = T(rows[i].as_of);
        ck_assert_msg(tr_sched_latest(&s, TR_SLOT_DAILY, t) == T(rows[i].daily), "daily %s",
                      rows[i].as_of);
        ck_assert_msg(tr_sched_latest(&s, TR_SLOT_WEEKLY, t) == T(rows[i].weekly), "weekly %s",
                      rows[i].as_of);
        ck_assert_msg(tr_sched_latest(&s, TR_SLOT_MONTHLY, t) == T(rows[i].monthly), "monthly %s",
                      rows[i].as_of);
    }
    /* configured: Wednesday 23:30, the 15th at 06:00 */
    s.weekday = 2;
    s.minute[TR_SLOT_WEEKLY] = 23 * 60 + 30;
    s.monthday = 15;
    s.minute[TR_SLOT_MONTHLY] = 6 * 60;
    ck_assert_int_eq(tr_sched_latest(&s, TR_SLOT_WEEKLY, T("2024-06-05T23:29")),
                     T("2024-05-29T23:30"));
    ck_assert_int_eq(tr_sched_latest(&s, TR_SLOT_WEEKLY, T("2024-06-05T23:30")),
                     T("2024-06-05T23:30"));
    ck_assert_int_eq(tr_sched_latest(&s, TR_SLOT_MONTHLY, T("2024-03-15T05:59")),
                     T("2024-02-15T06:00"));
}
END_TEST

/* Every slot's cycle is an entry of the table of cycles; the clocks. */
START_TEST(test_cycle_table)
{
    for (int k = 0; k < TR_N_SLOTS; k++) {
        const tr_cycle_def *d = tr_cycle_find(tr_slot_cycle(k));
        ck_assert_ptr_nonnull(d);
        ck_assert_str_eq(d->name, tr_slot_cycle(k));
        ck_assert(d->run != NULL);
    }
    size_t n = 0;
    while (tr_cycles[n])
        n++;
    ck_assert_uint_eq(n, 6);
    ck_assert_ptr_null(tr_cycle_find("nope"));
    ck_assert(tr_cycle_find("full")->pending != NULL);
    ck_assert(tr_cycle_find("abtest")->idle != NULL);
    tr_cycle_ctx ctx = {NULL, T("2024-03-01T00:00"), tr_clock_as_of, 0, NULL, NULL};
    ck_assert_int_eq(tr_cycle_now(&ctx), T("2024-03-01T00:00"));
    ctx.clock = NULL;
    ck_assert_int_gt(tr_cycle_now(&ctx), T("2024-03-01T00:00")); /* the wall clock */
}
END_TEST

static tr_log_row row(const char *cycle, const char *as_of, int status)
{
    tr_log_row r;
    memset(&r, 0, sizeof r);
    snprintf(r.cycle, sizeof r.cycle, "%s", cycle);
    r.as_of = T(as_of);
    r.status = status;
    if (status == TR_LOG_FAILED)
        snprintf(r.error, sizeof r.error, "boom at %s", as_of);
    return r;
}

START_TEST(test_due_table)
{
    tr_schedule s = tr_schedule_default();
    enum { C = TR_LOG_COMPLETED, S = TR_LOG_SKIPPED, F = TR_LOG_FAILED };
    static const struct {
        const char *as_of;
        int n;
        struct {
            const char *cycle, *as_of;
            int status;
        } log[4];
        int expect;
        int failed;
    } cases[] = {
        {"2024-06-05T03:00", 0, {{0, 0, 0}}, TR_DUE_YES, 0}, /* empty log */
        {"2024-06-05T03:00", 1, {{"incremental", "2024-06-05T02:00", C}}, TR_DUE_NO, 0},
        {"2024-06-05T03:00", 1, {{"incremental", "2024-06-05T02:00", S}}, TR_DUE_NO, 0},
        {"2024-06-05T03:00", 1, {{"incremental", "2024-06-04T02:00", C}}, TR_DUE_YES, 0},
        {"2024-06-05T01:00", 1, {{"incremental", "2024-06-04T02:00", C}}, TR_DUE_NO, 0},
        /* another cycle's row does not cover it */
        {"2024-06-05T03:00", 1, {{"full", "2024-06-05T02:00", C}}, TR_DUE_YES, 0},
        /* missed for days: one slot to run (the latest), covered once it ran */
        {"2024-06-12T03:00", 1, {{"incremental", "2024-06-05T02:00", C}}, TR_DUE_YES, 0},
        {"2024-06-12T03:00",
         2,
         {{"incremental", "2024-06-05T02:00", C}, {"incremental", "2024-06-12T02:00", C}},
         TR_DUE_NO,
         0},
        /* retries: failures of this slot count; at the limit (3) it is given up */
        {"2024-06-05T03:00", 1, {{"incremental", "2024-06-05T02:00", F}}, TR_DUE_YES, 1},
        {"2024-06-05T03:00",
         3,
         {{"incremental", "2024-06-05T02:00", F},
          {"incremental", "2024-06-05T02:00", F},
          {"incremental", "2024-06-05T02:00", F}},
         TR_DUE_GAVE_UP,
         3},
        /* failures of the previous slot do not count */
        {"2024-06-05T03:00",
         3,
         {{"incremental", "2024-06-04T02:00", F},
          {"incremental", "2024-06-04T02:00", F},
          {"incremental", "2024-06-04T02:00", F}},
         TR_DUE_YES,
         0},
        /* a failure then a success: covered */
        {"2024-06-05T03:00",
         2,
         {{"incremental", "2024-06-05T02:00", F}, {"incremental", "2024-06-05T02:00", C}},
         TR_DUE_NO,
         1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tr_log_row log[4];
        for (int j = 0; j < cases[i].n; j++)
            log[j] = row(cases[i].log[j].cycle, cases[i].log[j].as_of, cases[i].log[j].status);
        tr_registry reg = {.log = log, .n_log = (size_t)cases[i].n};
        int64_t latest = tr_sched_latest(&s, TR_SLOT_DAILY, T(cases[i].as_of));
        int nf = -1;
        const char *last = NULL;
        int due = tr_sched_due(&reg, "incremental", latest, s.max_retries, &nf, &last);
        ck_assert_msg(due == cases[i].expect, "case %zu: due %d, expected %d", i, due,
                      cases[i].expect);
        ck_assert_msg(nf == cases[i].failed, "case %zu: %d failed", i, nf);
        if (cases[i].expect == TR_DUE_GAVE_UP)
            ck_assert_str_eq(last, "boom at 2024-06-05T02:00");
    }
}
END_TEST

/* ---- on a synthetic store ------------------------------------------------------------------- */

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

static int n_log(tr_store *st, const char *cycle)
{
    tr_registry reg;
    tr_error e;
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    int n = 0;
    for (size_t i = 0; i < reg.n_log; i++)
        n += strcmp(reg.log[i].cycle, cycle) == 0;
    tr_registry_free(&reg);
    return n;
}

/* The item of a slot in a run-due result. */
static const tr_due_item *slot_item(const tr_due_result *r, int slot)
{
    for (int i = 0; i < r->n_items; i++)
        if (r->items[i].slot == slot)
            return &r->items[i];
    ck_abort_msg("slot %d missing", slot);
    return NULL;
}

START_TEST(test_run_due_catch_up_and_retries)
{
    char *dir = tu_tempdir();
    tr_store *st = make_store(dir);
    tr_error e;
    tr_due_result r;
    /* no version yet, daily only: the fine-tune fails (no active version), is retried at the
     * next calls up to the limit, with the error kept */
    tr_due_opts o = tu_tiny_due("2024-04-03T12:00"); /* Wednesday */
    o.sched.enabled[TR_SLOT_WEEKLY] = o.sched.enabled[TR_SLOT_MONTHLY] = 0;
    o.sched.max_retries = 2;
    ck_assert_int_eq(tr_run_due(st, &o, &r, &e), TR_OK);
    ck_assert_int_eq(r.n_items, 6);
    /* the position monitor first (no signal: nothing to do), then in slot-time order: weekly,
     * monthly, abtest (nothing to look at), daily */
    ck_assert_int_eq(r.items[0].slot, TR_SLOT_MONITOR);
    ck_assert_msg(r.items[0].outcome == TR_RUN_COMPLETED, "%s", r.items[0].detail);
    ck_assert_int_eq(tu_log_rows(st, "monitor", T("2024-04-03T12:00"), TR_LOG_COMPLETED), 0);
    ck_assert_int_eq(r.items[3].slot, TR_SLOT_ABTEST);
    ck_assert_int_eq(r.items[3].outcome, TR_RUN_NOT_DUE);
    const tr_due_item *d = &r.items[4];
    ck_assert_int_eq(d->slot, TR_SLOT_DAILY);
    ck_assert_int_eq(d->latest, T("2024-04-03T02:00"));
    ck_assert_int_eq(d->outcome, TR_RUN_FAILED);
    ck_assert_int_eq(d->attempt, 1);
    ck_assert(strstr(d->detail, "no active version") != NULL);
    ck_assert_int_eq(r.first_error, TR_ERR_NOTFOUND);
    ck_assert_int_eq(r.items[1].outcome, TR_RUN_DISABLED);
    ck_assert_int_eq(tr_run_due(st, &o, &r, &e), TR_OK);
    ck_assert_int_eq(r.items[4].outcome, TR_RUN_FAILED);
    ck_assert_int_eq(r.items[4].attempt, 2);
    ck_assert_int_eq(tr_run_due(st, &o, &r, &e), TR_OK);
    ck_assert_int_eq(r.items[4].outcome, TR_RUN_GAVE_UP);
    ck_assert(strstr(r.items[4].detail, "no active version") != NULL);
    ck_assert_int_eq(r.first_error, TR_OK);
    ck_assert_int_eq(tu_log_rows(st, "incremental", T("2024-04-03T02:00"), TR_LOG_FAILED), 2);
    /* a failure the cycle itself does not log (its lock is held): run-due logs it */
    o.as_of = T("2024-04-04T12:00");
    int tok;
    ck_assert_int_eq(tr_store_cycle_lock(st, "incremental", &tok, &e), TR_OK);
    ck_assert_int_eq(tr_run_due(st, &o, &r, &e), TR_OK);
    tr_store_cycle_unlock(st, tok);
    ck_assert_int_eq(r.items[4].outcome, TR_RUN_FAILED);
    ck_assert_int_eq(r.first_error, TR_ERR_CONFLICT);
    ck_assert_int_eq(tu_log_rows(st, "incremental", T("2024-04-04T02:00"), TR_LOG_FAILED), 1);

    /* all slots at Thursday 2024-04-04 12:00: monthly (04-01), weekly (Sunday 03-31) run
     * in that order, then the daily retries */
    o = tu_tiny_due("2024-04-04T12:00");
    ck_assert_int_eq(tr_run_due(st, &o, &r, &e), TR_OK);
    ck_assert_int_eq(r.items[1].slot, TR_SLOT_WEEKLY);
    ck_assert_int_eq(r.items[1].latest, T("2024-03-31T01:00"));
    ck_assert_msg(r.items[1].outcome == TR_RUN_COMPLETED, "%s", r.items[1].detail);
    ck_assert_str_eq(r.items[1].version, "v1.0");
    ck_assert_int_eq(r.items[2].slot, TR_SLOT_MONTHLY);
    /* v1.0's data ends a day before: no bars to evaluate it on, so the ranking changes
     * nothing and is logged as skipped, which covers its slot */
    ck_assert_msg(r.items[2].outcome == TR_RUN_SKIPPED, "%s", r.items[2].detail);
    ck_assert(strstr(r.items[2].detail, "no version could be evaluated") != NULL);
    ck_assert_int_eq(r.items[3].slot, TR_SLOT_ABTEST);
    ck_assert_int_eq(r.items[4].slot, TR_SLOT_DAILY);
    ck_assert_int_eq(r.items[4].attempt, 2);
    ck_assert_msg(r.items[4].outcome == TR_RUN_COMPLETED, "%s", r.items[4].detail);
    ck_assert_int_eq(r.first_error, TR_OK);
    /* the same time again: nothing due */
    ck_assert_int_eq(tr_run_due(st, &o, &r, &e), TR_OK);
    for (int i = 1; i < 4; i++)
        ck_assert_int_eq(r.items[i].outcome, TR_RUN_NOT_DUE);
    /* eight days later: seven daily slots and one weekly slot missed, each caught up once */
    int n_inc = n_log(st, "incremental"), n_full = n_log(st, "full"), n_rank = n_log(st, "rank");
    o.as_of = T("2024-04-12T12:00");
    ck_assert_int_eq(tr_run_due(st, &o, &r, &e), TR_OK);
    ck_assert_int_eq(n_log(st, "incremental"), n_inc + 1);
    ck_assert_int_eq(n_log(st, "full"), n_full + 1);
    ck_assert_int_eq(n_log(st, "rank"), n_rank); /* still the April slot */
    ck_assert_int_eq(tu_log_rows(st, "incremental", T("2024-04-12T02:00"), -1), 1);
    ck_assert_int_eq(tu_log_rows(st, "full", T("2024-04-07T01:00"), TR_LOG_COMPLETED), 1);
    ck_assert_int_eq(tr_run_due(st, &o, &r, &e), TR_OK);
    ck_assert_int_eq(n_log(st, "incremental"), n_inc + 1);
    ck_assert_int_eq(n_log(st, "full"), n_full + 1);

    /* the lock: another run-due holds it */
    ck_assert_int_eq(tr_store_cycle_lock(st, "run-due", &tok, &e), TR_OK);
    tr_store *other;
    ck_assert_int_eq(tr_store_open(dir, NULL, &other, &e), TR_OK);
    o.as_of = T("2024-04-13T12:00");
    ck_assert_int_eq(tr_run_due(other, &o, &r, &e), TR_ERR_CONFLICT);
    ck_assert(strstr(e.msg, "another run-due") != NULL);
    tr_store_close(other);
    tr_store_cycle_unlock(st, tok);
    tr_store_close(st);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* A weekly retrain killed mid-run is continued by the next call for the same slot; an
 * interrupted run of an older slot is replaced by a fresh run. */
/* The test hook: interrupts the full retrain after its first epoch, as if killed. */
static int stop_after_epoch_1(const char *cycle, int epoch)
{
    (void)cycle;
    return epoch >= 1;
}

START_TEST(test_resume_killed_full)
{
    char *dir = tu_tempdir();
    tr_store *st = make_store(dir);
    tr_error e;
    tr_due_opts o = tu_tiny_due("2024-04-01T12:00");
    o.sched.enabled[TR_SLOT_DAILY] = o.sched.enabled[TR_SLOT_MONTHLY] = 0;
    o.full.max_epochs = 3;
    o.full.patience = 3;
    tr_full_opts killed = o.full;
    killed.as_of = T("2024-03-31T01:00");
    tr_cycle_result *cr = calloc(1, sizeof *cr);
    tr_testhook_epoch = stop_after_epoch_1;
    ck_assert_int_ne(tr_cycle_full(st, &killed, cr, &e), TR_OK);
    tr_testhook_epoch = NULL;
    ck_assert_int_eq(n_log(st, "full"), 0); /* an interruption logs nothing */
    tr_due_result r;
    ck_assert_int_eq(tr_run_due(st, &o, &r, &e), TR_OK);
    const tr_due_item *W = slot_item(&r, TR_SLOT_WEEKLY);
    ck_assert_msg(W->outcome == TR_RUN_COMPLETED, "%s", W->detail);
    ck_assert_msg(strstr(W->detail, "resumed after epoch 1") != NULL, "%s", W->detail);
    ck_assert_str_eq(W->version, "v1.0");
    ck_assert_int_eq(tu_log_rows(st, "full", T("2024-03-31T01:00"), TR_LOG_COMPLETED), 1);
    /* an interrupted run of the week before: not resumed, a fresh run of this week's slot */
    killed.as_of = T("2024-03-31T01:00");
    killed.version_base = "v2.0";
    tr_testhook_epoch = stop_after_epoch_1;
    ck_assert_int_ne(tr_cycle_full(st, &killed, cr, &e), TR_OK);
    tr_testhook_epoch = NULL;
    o.as_of = T("2024-04-08T12:00");
    ck_assert_int_eq(tr_run_due(st, &o, &r, &e), TR_OK);
    W = slot_item(&r, TR_SLOT_WEEKLY);
    ck_assert_msg(W->outcome == TR_RUN_COMPLETED, "%s", W->detail);
    ck_assert(strstr(W->detail, "resumed") == NULL);
    ck_assert_str_eq(W->version, "v1.1");
    ck_assert_int_eq(tu_log_rows(st, "full", T("2024-04-07T01:00"), TR_LOG_COMPLETED), 1);
    free(cr);
    tr_store_close(st);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_two_processes)
{
    char *dir = tu_tempdir();
    tr_store *st = make_store(dir);
    tr_store_close(st);
    ck_assert_int_ge(tu_two_run_due(dir, "2024-04-04T12:00"), 1);
    ck_assert_int_eq(tr_store_open(dir, NULL, &st, NULL), TR_OK);
    /* each cycle ran exactly once for its slot */
    ck_assert_int_eq(tu_log_rows(st, "full", T("2024-03-31T01:00"), -1), 1);
    ck_assert_int_eq(tu_log_rows(st, "rank", T("2024-04-01T00:00"), -1), 1);
    ck_assert_int_eq(tu_log_rows(st, "incremental", T("2024-04-04T02:00"), -1), 1);
    tr_registry reg;
    ck_assert_int_eq(tr_store_registry_read(st, &reg, NULL), TR_OK);
    ck_assert_uint_eq(reg.n_versions, 2); /* v1.0 and one daily */
    tr_registry_free(&reg);
    tr_store_close(st);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* ---- the command ---------------------------------------------------------------------------- */

#define run(dir, ...) tu_run(AIFX_TRAIN_EXE, dir, __VA_ARGS__)
#define output_has    tu_output_has

START_TEST(test_cli)
{
    char *dir = tu_tempdir();
    char *sd = tu_path(dir, "store");
    ck_assert_int_eq(run(dir, "run-due --store '%s/none'", dir), 6);
    ck_assert_int_eq(run(dir, "run-due --daily-at 25:00 --store '%s'", sd), 2);
    ck_assert(output_has(dir, "bad --daily-at"));
    ck_assert_int_eq(run(dir, "run-due --weekly-at sunday --store '%s'", sd), 2);
    ck_assert_int_eq(run(dir, "run-due --monthly-at 31,00:00 --store '%s'", sd), 2);
    ck_assert_int_eq(run(dir, "run-due --disable weekly --store '%s'", sd), 2);
    ck_assert_int_eq(run(dir, "run-due --help"), 0);
    ck_assert_int_eq(run(dir,
                         "synth --pair EURUSD --from 2024-03-01 --to 2024-04-10 "
                         "--store '%s'",
                         sd),
                     0);
    /* the daily cycle fails without an active version: its code, 6, and the error */
    ck_assert_int_eq(run(dir,
                         "run-due --as-of 2024-04-03T12:00 --disable full --disable rank "
                         "--store '%s'",
                         sd),
                     6);
    ck_assert(output_has(dir, "incremental scheduled 2024-04-03T02:00:00Z: failed (attempt 1)"));
    ck_assert_int_eq(run(dir,
                         "run-due --as-of 2024-04-03T12:00 --disable full --disable rank "
                         "--max-retries 1 --json --store '%s'",
                         sd),
                     0);
    ck_assert(output_has(dir, "\"outcome\":\"gave_up\""));
    tr_store *st;
    tr_error e;
    ck_assert_int_eq(tr_store_open(sd, NULL, &st, &e), TR_OK);
    int tok;
    ck_assert_int_eq(tr_store_cycle_lock(st, "run-due", &tok, &e), TR_OK);
    ck_assert_int_eq(run(dir, "run-due --as-of 2024-04-03T12:00 --store '%s'", sd), 4);
    ck_assert(output_has(dir, "another run-due"));
    tr_store_cycle_unlock(st, tok);
    tr_store_close(st);
    free(sd);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trainer_schedule");
    TCase *tc = tcase_create("schedule");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_latest);
    tcase_add_test(tc, test_cycle_table);
    tcase_add_test(tc, test_due_table);
    tcase_add_test(tc, test_run_due_catch_up_and_retries);
    tcase_add_test(tc, test_resume_killed_full);
    tcase_add_test(tc, test_two_processes);
    tcase_add_test(tc, test_cli);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(suite)
