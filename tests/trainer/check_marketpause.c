/*
 * check_marketpause.c - the extreme-market pause in the scheduler (cycles/marketpause.h): on the
 * shared USD/JPY 15-minute bars, run-due's daily fine-tune is logged skipped with the reason on
 * 2024-08-06 (the 2024-08-05 carry-trade unwind in its last 24 hours) and runs in a calm
 * September 2023; --force-training runs it anyway. Skipped when ../shared/data is absent.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/csv.h"
#include "cycles/marketpause.h"
#include "cycles/schedule.h"
#include "testutil.h"

static tr_store *usdjpy_store(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/usdjpy_m15.csv", AIFX_SHARED_DATA);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "SKIP: %s is absent (the shared data folder)\n", path);
        return NULL;
    }
    tr_csv_options co = tr_csv_options_default(900);
    tr_csv_data d;
    tr_error e;
    ck_assert_int_eq(tr_csv_read(path, &co, &d, &e), TR_OK);
    tr_store *st;
    ck_assert_int_eq(tr_store_open(dir, &(tr_store_options){.create = 1}, &st, &e), TR_OK);
    tr_put_stats ps;
    ck_assert_int_eq(tr_store_bars_put(st, "USDJPY", 900, d.bars.v, d.bars.n, 0, &ps, &e), TR_OK);
    tr_csv_data_free(&d);
    return st;
}

static tr_due_item daily(tr_store *st, const char *iso, int force)
{
    tr_due_opts o = tu_tiny_due(iso);
    for (int k = 0; k < TR_N_SLOTS; k++)
        o.sched.enabled[k] = k == TR_SLOT_DAILY;
    o.force_training = force;
    tr_due_result r;
    tr_error e;
    ck_assert_int_eq(tr_run_due(st, &o, &r, &e), TR_OK);
    for (int i = 0; i < r.n_items; i++)
        if (r.items[i].slot == TR_SLOT_DAILY)
            return r.items[i];
    ck_abort_msg("no daily item");
    return r.items[0];
}

START_TEST(test_pause_on_real_episode)
{
    char *dir = tu_tempdir();
    tr_store *st = usdjpy_store(dir);
    if (!st) {
        tu_rmtree(dir);
        free(dir);
        return;
    }
    /* the rule itself as of the slot */
    int p;
    char pair[TR_PAIR_MAX], reason[256];
    tr_pause pz;
    tr_error e;
    ck_assert_int_eq(tr_market_pause(st, 900, T("2024-08-06T02:00"), &p, &pz, pair, sizeof pair,
                                     reason, sizeof reason, &e),
                     TR_OK);
    ck_assert_msg(p, "no pause on 2024-08-06");
    ck_assert_str_eq(pair, "USDJPY");
    ck_assert(pz.ratio >= 3.0 || pz.gap_atr >= 10.0);

    /* a calm day first (a slot covered later would cover it): not paused, so the fine-tune
     * runs, and fails: no version in this store */
    tr_due_item it = daily(st, "2023-09-14T03:00", 0);
    ck_assert_msg(it.outcome == TR_RUN_FAILED && strstr(it.detail, "no active version"), "%s",
                  it.detail);
    /* run-due: the daily slot of 2024-08-06 is skipped, logged with the reason, announced */
    tr_registry reg;
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    int64_t events = reg.last_event_id;
    tr_registry_free(&reg);
    it = daily(st, "2024-08-06T03:00", 0);
    ck_assert_msg(it.outcome == TR_RUN_SKIPPED, "%s", it.detail);
    ck_assert_ptr_nonnull(strstr(it.detail, "paused: extreme market on USDJPY"));
    ck_assert_int_eq(tu_log_rows(st, "incremental", T("2024-08-06T02:00"), TR_LOG_SKIPPED), 1);
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    ck_assert_int_eq(reg.last_event_id, events + 1); /* the "pause" event */
    tr_registry_free(&reg);
    /* covered: not tried again at the next call of the same day */
    it = daily(st, "2024-08-06T05:00", 0);
    ck_assert_int_eq(it.outcome, TR_RUN_NOT_DUE);

    /* forced in the storm: it runs too */
    it = daily(st, "2024-08-07T03:00", 1);
    ck_assert_msg(it.outcome == TR_RUN_FAILED && strstr(it.detail, "no active version"), "%d %s",
                  it.outcome, it.detail);
    tr_store_close(st);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trainer_marketpause");
    TCase *tc = tcase_create("pause");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_pause_on_real_episode);
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
