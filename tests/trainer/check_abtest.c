/*
 * check_abtest.c - A/B tests (abtest.h): the assignment hash against an independent Python
 * computation (values in the comments), its split over 10,000 bars and its independence across
 * tests; which version serves; the start rules; the scheduler's look on recorded signals (an
 * early stop with activation of the winner, a tie at the planned end, not enough data); manual
 * stop; the ranking's retention leaving arms alone; and per-arm books of outcomes.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check_main.h"
#include "base/timeutil.h"
#include "cycles/abtest.h"
#include "cycles/rank.h"
#include "market/backtest.h"
#include "market/labels.h"
#include "market/outcome.h"
#include "market/ta.h"
#include "store/store.h"
#include "testutil.h"

static tr_ab_test mk_test(const char *id, uint64_t seed, double split)
{
    tr_ab_test t;
    memset(&t, 0, sizeof t);
    snprintf(t.id, sizeof t.id, "%s", id);
    t.seed = seed;
    t.split = split;
    return t;
}

/* The hash against the same formula in Python (splitmix64 finaliser over seed ^ FNV-1a(id),
 * then FNV-1a(pair), then the bar time; top 53 bits / 2^53), run once:
 *   unit(0x1234, "ab1", "EURUSD", 1735689600)             = 0.41805580430800415
 *   unit(0xfedcba9876543210, "ab7", "USDJPY", 1735690500) = 0.4851681357159634
 *   unit(1, "ab12", "GBPUSD", -900)                       = 0.7038370780231507
 *   tr_ab_default_seed("ab1", 1735689600)                  = 0x5b45c92d1df8cca0 */
START_TEST(test_hash_reference)
{
    tr_ab_test a = mk_test("ab1", 0x1234, 0.5), b = mk_test("ab7", 0xfedcba9876543210ULL, 0.5),
               c = mk_test("ab12", 1, 0.5);
    ck_assert(tr_ab_unit(&a, "EURUSD", 1735689600) == 0.41805580430800415);
    ck_assert(tr_ab_unit(&b, "USDJPY", 1735690500) == 0.4851681357159634);
    ck_assert(tr_ab_unit(&c, "GBPUSD", -900) == 0.7038370780231507);
    ck_assert(tr_ab_default_seed("ab1", 1735689600) == 0x5b45c92d1df8cca0ULL);
    ck_assert_int_eq(tr_ab_assign(&a, "EURUSD", 1735689600), 1); /* 0.418 < 0.5 */
    a.split = 0.4;
    ck_assert_int_eq(tr_ab_assign(&a, "EURUSD", 1735689600), 0);
}
END_TEST

/* 10,000 consecutive 15-minute bars: the share of B within 3 binomial standard deviations of the
 * split, the same bar always in the same arm, and two tests' assignments independent. */
START_TEST(test_split_and_stability)
{
    static const double splits[3] = {0.5, 0.2, 0.9};
    const int n = 10000;
    const int64_t t0 = T("2025-01-06");
    for (int k = 0; k < 3; k++) {
        tr_ab_test t = mk_test("ab3", tr_ab_default_seed("ab3", t0), splits[k]);
        int nb = 0;
        for (int i = 0; i < n; i++) {
            int arm = tr_ab_assign(&t, "EURUSD", t0 + 900 * (int64_t)i);
            ck_assert_int_eq(arm, tr_ab_assign(&t, "EURUSD", t0 + 900 * (int64_t)i));
            nb += arm;
        }
        double sd = sqrt(n * splits[k] * (1 - splits[k]));
        ck_assert_msg(fabs(nb - n * splits[k]) < 3 * sd, "split %.1f: %d of %d to B", splits[k], nb,
                      n);
    }
    /* another test (id, seed) or another pair: agreement near 50% */
    tr_ab_test x = mk_test("ab3", 11, 0.5), y = mk_test("ab4", 12, 0.5);
    int same_test = 0, same_pair = 0;
    for (int i = 0; i < n; i++) {
        int64_t bt = t0 + 900 * (int64_t)i;
        same_test += tr_ab_assign(&x, "EURUSD", bt) == tr_ab_assign(&y, "EURUSD", bt);
        same_pair += tr_ab_assign(&x, "EURUSD", bt) == tr_ab_assign(&x, "USDJPY", bt);
    }
    ck_assert_msg(abs(same_test - n / 2) < 150, "%d", same_test);
    ck_assert_msg(abs(same_pair - n / 2) < 150, "%d", same_pair);
}
END_TEST

/* ---- a store with two versions ------------------------------------------------------------ */

static char *dir;
static tr_store *st;

static void put_version(const char *name, int type, int64_t as_of)
{
    tr_version v;
    memset(&v, 0, sizeof v);
    snprintf(v.version, sizeof v.version, "%s", name);
    v.type = type;
    v.status = TR_VS_COMPLETED;
    v.as_of = v.data_to = as_of;
    snprintf(v.checkpoint, sizeof v.checkpoint, "%s.ckpt", name);
    tr_reg_txn txn;
    memset(&txn, 0, sizeof txn);
    txn.put = &v;
    txn.n_put = 1;
    tr_activation a;
    memset(&a, 0, sizeof a);
    tr_registry reg;
    tr_error e;
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    if (!tr_registry_active(&reg)) {
        snprintf(a.to, sizeof a.to, "%s", name);
        snprintf(a.reason, sizeof a.reason, "first_model");
        txn.activate = &a;
    }
    tr_registry_free(&reg);
    txn.now = as_of;
    ck_assert_int_eq(tr_store_registry_commit(st, &txn, &e), TR_OK);
}

static void setup(void)
{
    dir = tu_tempdir();
    tr_error e;
    ck_assert_int_eq(tr_store_open(dir, &(tr_store_options){.create = 1}, &st, &e), TR_OK);
    put_version("v1.0", TR_VT_FULL, T("2025-01-05"));
    put_version("v1.1", TR_VT_FULL, T("2025-01-12"));
}

static void teardown(void)
{
    tr_store_close(st);
    tu_rmtree(dir);
    free(dir);
}

static tr_ab_test start(const char *a, const char *b, const char *pairs, int days,
                        int64_t min_trades, tr_code expect)
{
    tr_ab_start_opts o = tr_ab_start_opts_default();
    o.a = a;
    o.b = b;
    o.pairs = pairs;
    o.days = days;
    o.min_trades = min_trades;
    o.as_of = T("2025-01-12T01:00");
    tr_ab_test t;
    tr_error e;
    tr_code rc = tr_ab_start(st, &o, &t, &e);
    ck_assert_msg(rc == expect, "%d: %s", rc, e.msg);
    return t;
}

/* Signals of a test: for each of n bars from t0, the arm the hash gives, with an outcome drawn
 * from the arm's (win probability, win pips, loss pips). */
static void put_signals(const tr_ab_test *t, int64_t t0, int n, double pw_a, double pw_b,
                        unsigned seed)
{
    tr_signal *s = calloc((size_t)n, sizeof *s);
    unsigned x = seed;
    for (int i = 0; i < n; i++) {
        tr_signal *g = &s[i];
        snprintf(g->pair, sizeof g->pair, "EURUSD");
        g->timeframe = 900;
        g->bar_time = t0 + 900 * (int64_t)i;
        g->signal = TR_LABEL_BUY;
        g->confidence = 0.6;
        int arm = tr_ab_assign(t, g->pair, g->bar_time);
        snprintf(g->model_version, sizeof g->model_version, "%s",
                 arm ? t->version_b : t->version_a);
        snprintf(g->ab_test_id, sizeof g->ab_test_id, "%s", t->id);
        x = x * 1103515245u + 12345u;
        double u = (double)((x >> 8) & 0xffff) / 65536.0;
        int win = u < (arm ? pw_b : pw_a);
        snprintf(g->outcome, sizeof g->outcome, "%s", win ? "win" : "loss");
        /* pips vary a little so that the variances are not zero */
        g->pnl_pips = win ? 10.0 + (double)(i % 7) : -10.0 - (double)(i % 5);
    }
    tr_error e;
    ck_assert_int_eq(tr_store_signals_append(st, s, (size_t)n, &e), TR_OK);
    free(s);
}

START_TEST(test_start_rules_and_serving)
{
    tr_ab_test t = start("v1.0", "v1.1", "USDJPY,EURUSD", 7, 0, TR_OK);
    ck_assert_str_eq(t.id, "ab1");
    ck_assert_str_eq(t.pairs, "EURUSD,USDJPY"); /* sorted */
    ck_assert_int_eq(t.planned_end, T("2025-01-19T01:00"));
    start("v1.0", "v1.1", "EURUSD", 7, 0, TR_ERR_CONFLICT); /* overlapping pair set */
    start("v1.0", "v9.9", "GBPUSD", 7, 0, TR_ERR_NOTFOUND);
    start("v1.0", "v1.0", "GBPUSD", 7, 0, TR_ERR_INVALID);
    tr_ab_test t2 = start("v1.1", "v1.0", "GBPUSD", 3, 0, TR_OK);
    ck_assert_str_eq(t2.id, "ab2");
    /* serving: an arm on a tested pair, the active version elsewhere */
    tr_registry reg;
    tr_error e;
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    int64_t bt = T("2025-01-13T10:00");
    const tr_ab_test *which;
    const char *v = tr_ab_serving(&reg, "EURUSD", bt, &which);
    ck_assert_ptr_nonnull(which);
    ck_assert_str_eq(which->id, "ab1");
    ck_assert_str_eq(v, tr_ab_assign(which, "EURUSD", bt) ? "v1.1" : "v1.0");
    v = tr_ab_serving(&reg, "AUDUSD", bt, &which);
    ck_assert_ptr_null(which);
    ck_assert_str_eq(v, "v1.0");
    /* the ranking's retention never selects an arm of a running test */
    tr_registry_free(&reg);
    put_version("v1.0-daily-20240101", TR_VT_INCREMENTAL, T("2024-01-01"));
    put_version("v1.0-daily-20240102", TR_VT_INCREMENTAL, T("2024-01-02"));
    start("v1.0-daily-20240102", "v1.0", "AUDUSD", 3, 0, TR_OK);
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    size_t idx[16];
    size_t n = tr_rank_retire_select(&reg, "v1.0", T("2025-01-20"), 3, idx);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(reg.versions[idx[0]].version, "v1.0-daily-20240101");
    tr_registry_free(&reg);
}
END_TEST

/* B much better than A: the daily looks end the test early on the O'Brien-Fleming boundary and
 * activate B, in one transaction with the "abtest" log row. */
START_TEST(test_early_stop_activates_winner)
{
    tr_ab_test t = start("v1.0", "v1.1", "", 7, 0, TR_OK);
    put_signals(&t, T("2025-01-12T01:15"), 1600, 0.30, 0.70, 7); /* ~16.7 days of bars */
    tr_error e;
    int nt, ne;
    char summary[512];
    /* looks on days 1, 2, ...: the first ones (fractions 1/7, 2/7) need |z| of about 7 and 4.5 */
    int64_t day = T("2025-01-13T00:30");
    int ended_at = 0;
    for (int d = 0; d < 6 && !ended_at; d++) {
        ck_assert_int_eq(
            tr_ab_check(st, day + 86400 * (int64_t)d, &nt, &ne, summary, sizeof summary, &e),
            TR_OK);
        ck_assert_int_eq(nt, 1);
        if (ne)
            ended_at = d + 1;
    }
    ck_assert_msg(ended_at > 0 && ended_at < 6, "ended at look %d: %s", ended_at, summary);
    tr_registry reg;
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    const tr_ab_test *s = tr_registry_find_ab(&reg, "ab1");
    ck_assert_int_eq(s->status, TR_AB_COMPLETED);
    ck_assert_str_eq(s->verdict, "b");
    ck_assert_str_eq(s->end_reason, "early_stop");
    ck_assert_int_eq(s->n_looks, ended_at);
    for (int k = 1; k < s->n_looks; k++)
        ck_assert(s->look_frac[k] > s->look_frac[k - 1]);
    ck_assert(strstr(s->result, "\"call\":\"b\"") != NULL);
    ck_assert_str_eq(tr_registry_active(&reg)->version, "v1.1");
    const tr_activation *a = &reg.activations[reg.n_activations - 1];
    ck_assert_str_eq(a->reason, "ab_test");
    ck_assert_str_eq(a->from, "v1.0");
    ck_assert(strstr(a->evidence, "\"test\":\"ab1\"") != NULL);
    const tr_log_row *l = &reg.log[reg.n_log - 1];
    ck_assert_str_eq(l->cycle, "abtest");
    ck_assert_str_eq(l->verdict, "activated");
    tr_registry_free(&reg);
    /* an ended test is not looked at again, and stopping it is a conflict */
    ck_assert_int_eq(tr_ab_check(st, day + 86400 * 7, &nt, &ne, NULL, 0, &e), TR_OK);
    ck_assert_int_eq(nt, 0);
    tr_ab_report rep;
    ck_assert_int_eq(tr_ab_stop(st, "ab1", 0, "late", &rep, &e), TR_ERR_CONFLICT);
}
END_TEST

/* Equal arms: no early stop; at the planned end a tie with enough trades. */
START_TEST(test_tie_at_planned_end)
{
    tr_ab_test t = start("v1.0", "v1.1", "", 7, 0, TR_OK);
    put_signals(&t, T("2025-01-12T01:15"), 640, 0.5, 0.5, 3);
    tr_error e;
    int nt, ne;
    for (int d = 1; d <= 6; d++) {
        ck_assert_int_eq(
            tr_ab_check(st, T("2025-01-12T00:30") + 86400 * (int64_t)d, &nt, &ne, NULL, 0, &e),
            TR_OK);
        ck_assert_int_eq(ne, 0);
    }
    tr_ab_report rep;
    ck_assert_int_eq(tr_ab_analyse(st, "ab1", T("2025-01-19T01:00"), &rep, &e), TR_OK);
    ck_assert(rep.at_end);
    ck_assert_int_eq((int)(rep.n_pred[0] + rep.n_pred[1]), 640);
    ck_assert(rep.arm[0].n > 200 && rep.arm[1].n > 200);
    ck_assert_int_eq(tr_ab_check(st, T("2025-01-19T01:00"), &nt, &ne, NULL, 0, &e), TR_OK);
    ck_assert_int_eq(ne, 1);
    tr_registry reg;
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    const tr_ab_test *s = tr_registry_find_ab(&reg, "ab1");
    ck_assert_str_eq(s->verdict, "tie");
    ck_assert_str_eq(s->end_reason, "planned_end");
    ck_assert_str_eq(tr_registry_active(&reg)->version, "v1.0"); /* unchanged */
    tr_registry_free(&reg);
    /* the report of an ended test is as it stood at its end */
    ck_assert_int_eq(tr_ab_analyse(st, "ab1", T("2025-03-01"), &rep, &e), TR_OK);
    ck_assert_int_eq(rep.as_of, T("2025-01-19T01:00"));
    char *md = tr_ab_report_markdown(&rep);
    ck_assert(strstr(md, "**Verdict: tie**") != NULL);
    free(md);
}
END_TEST

/* Too few trades at the end: insufficient; a manual stop: no verdict, no activation. */
START_TEST(test_insufficient_and_stop)
{
    tr_ab_test t = start("v1.0", "v1.1", "EURUSD", 2, 0, TR_OK);
    put_signals(&t, T("2025-01-12T01:15"), 12, 0.2, 0.9, 5);
    tr_error e;
    int nt, ne;
    ck_assert_int_eq(tr_ab_check(st, T("2025-01-14T01:00"), &nt, &ne, NULL, 0, &e), TR_OK);
    tr_registry reg;
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    ck_assert_str_eq(tr_registry_find_ab(&reg, "ab1")->verdict, "insufficient");
    ck_assert_str_eq(tr_registry_active(&reg)->version, "v1.0");
    tr_registry_free(&reg);
    tr_ab_test u = start("v1.1", "v1.0", "EURUSD", 7, 100, TR_OK);
    ck_assert_str_eq(u.id, "ab2");
    tr_ab_report rep;
    ck_assert_int_eq(tr_ab_stop(st, "ab2", T("2025-01-13"), "operator", &rep, &e), TR_OK);
    ck_assert_int_eq(rep.test.status, TR_AB_STOPPED);
    ck_assert_str_eq(rep.test.end_reason, "stopped: operator");
    ck_assert_str_eq(rep.test.verdict, "");
    ck_assert_int_eq(tr_ab_stop(st, "ab9", 0, NULL, &rep, &e), TR_ERR_NOTFOUND);
    ck_assert(strstr(e.msg, "ab9") != NULL);
}
END_TEST

/* Per-arm books: interleaving the two arms' signals on one pair gives each arm the outcomes it
 * has alone, and differs from trading them as one book. */
START_TEST(test_books)
{
    enum { N = 3000 };
    tr_bar *bars = malloc(N * sizeof *bars);
    tu_walk(bars, N, T("2025-01-06"), 900, 17, 1.1);
    double *h = malloc(N * sizeof *h), *l = malloc(N * sizeof *l), *c = malloc(N * sizeof *c),
           *atr = malloc(N * sizeof *atr);
    for (int i = 0; i < N; i++) {
        h[i] = bars[i].high;
        l[i] = bars[i].low;
        c[i] = bars[i].close;
    }
    ta_atr(N, h, l, c, 14, atr);
    tr_bt_params p = tr_bt_params_for_pair("EURUSD");
    tr_ab_test t = mk_test("ab1", 99, 0.5);
    snprintf(t.version_a, sizeof t.version_a, "v1.0");
    snprintf(t.version_b, sizeof t.version_b, "v1.1");
    tr_signal *all = calloc(N, sizeof *all), *arm[2];
    arm[0] = calloc(N, sizeof *all);
    arm[1] = calloc(N, sizeof *all);
    size_t na[2] = {0, 0};
    unsigned x = 1;
    for (int i = 100; i < N - 1; i++) {
        tr_signal *g = &all[i - 100];
        snprintf(g->pair, sizeof g->pair, "EURUSD");
        g->bar_time = bars[i].t;
        x = x * 1103515245u + 12345u;
        g->signal = (int)((x >> 16) % 3);
        g->confidence = 0.9;
        int k = tr_ab_assign(&t, "EURUSD", g->bar_time);
        snprintf(g->model_version, sizeof g->model_version, "%s", k ? "v1.1" : "v1.0");
        snprintf(g->ab_test_id, sizeof g->ab_test_id, "ab1");
        snprintf(g->outcome, sizeof g->outcome, "open");
        arm[k][na[k]++] = *g;
    }
    size_t n = N - 101;
    tr_signal *one = malloc(n * sizeof *one);
    memcpy(one, all, n * sizeof *one);
    tr_error e;
    int64_t as_of = bars[N - 1].t + 900;
    ck_assert_int_eq(
        tr_outcomes_resolve_books(bars, N, atr, 900, &p, as_of, all, n, NULL, NULL, &e), TR_OK);
    for (int k = 0; k < 2; k++)
        ck_assert_int_eq(
            tr_outcomes_resolve(bars, N, atr, 900, &p, as_of, arm[k], na[k], NULL, NULL, &e),
            TR_OK);
    ck_assert_int_eq(tr_outcomes_resolve(bars, N, atr, 900, &p, as_of, one, n, NULL, NULL, &e),
                     TR_OK);
    size_t j[2] = {0, 0};
    int differs = 0;
    for (size_t i = 0; i < n; i++) {
        int k = strcmp(all[i].model_version, "v1.1") == 0;
        const tr_signal *alone = &arm[k][j[k]++];
        ck_assert_str_eq(all[i].outcome, alone->outcome);
        ck_assert(all[i].pnl_pips == alone->pnl_pips);
        differs |= strcmp(all[i].outcome, one[i].outcome) != 0;
    }
    ck_assert(differs); /* one shared book would have traded otherwise */
    free(one);
    free(all);
    free(arm[0]);
    free(arm[1]);
    free(bars);
    free(h);
    free(l);
    free(c);
    free(atr);
}
END_TEST

/* The commands: usage errors, start, status, report, stop, and their exit codes. */
START_TEST(test_commands)
{
    const char *exe = AIFX_TRAIN_EXE;
    ck_assert_int_eq(tu_run(exe, dir, "ab --store %s", dir), 2);
    ck_assert_int_eq(tu_run(exe, dir, "ab frobnicate --store %s", dir), 2);
    ck_assert_int_eq(tu_run(exe, dir, "ab start --a v1.0 --store %s", dir), 2);
    ck_assert_int_eq(tu_run(exe, dir, "ab start --a v1.0 --b v1.1 --split 1.5 --store %s", dir), 2);
    ck_assert_int_eq(tu_run(exe, dir, "ab report --store %s", dir), 2);
    ck_assert_int_eq(tu_run(exe, dir, "ab start --a v1.0 --b v9 --store %s", dir), 6);
    ck_assert_int_eq(tu_run(exe, dir,
                            "ab start --a v1.0 --b v1.1 --split 0.25 --days 14 --pairs EURUSD "
                            "--as-of 2025-01-12T01:00 --store %s",
                            dir),
                     0);
    ck_assert(tu_output_has(dir,
                            "started A/B test ab1: v1.0 (A) vs v1.1 (B) on EURUSD, 25% of bars "
                            "to B"));
    ck_assert(tu_output_has(dir, "until 2025-01-26T01:00:00Z"));
    ck_assert_int_eq(tu_run(exe, dir, "ab start --a v1.0 --b v1.1 --store %s", dir), 4);
    ck_assert(tu_output_has(dir, "ab1"));
    ck_assert_int_eq(tu_run(exe, dir, "ab status --store %s", dir), 0);
    ck_assert(tu_output_has(dir, "running"));
    ck_assert_int_eq(tu_run(exe, dir, "ab report ab1 --as-of 2025-01-13 --json --store %s", dir),
                     0);
    ck_assert(tu_output_has(dir, "\"analysis\":{\"as_of\":\"2025-01-13T00:00:00Z\""));
    ck_assert_int_eq(tu_run(exe, dir, "ab report ab7 --store %s", dir), 6);
    ck_assert_int_eq(tu_run(exe, dir, "ab stop ab1 --note test --store %s", dir), 0);
    ck_assert(tu_output_has(dir, "Stopped by hand"));
    ck_assert_int_eq(tu_run(exe, dir, "ab stop ab1 --store %s", dir), 4);
}
END_TEST

static Suite *abtest_suite(void)
{
    Suite *s = suite_create("abtest");
    TCase *pure = tcase_create("hash");
    tcase_add_test(pure, test_hash_reference);
    tcase_add_test(pure, test_split_and_stability);
    tcase_add_test(pure, test_books);
    suite_add_tcase(s, pure);
    TCase *tc = tcase_create("store");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_start_rules_and_serving);
    tcase_add_test(tc, test_early_stop_activates_winner);
    tcase_add_test(tc, test_tie_at_planned_end);
    tcase_add_test(tc, test_insufficient_and_stop);
    tcase_add_test(tc, test_commands);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(abtest_suite)
