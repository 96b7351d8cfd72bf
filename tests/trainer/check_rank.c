/*
 * check_rank.c - the monthly ranking (rank.h): the raw and rank-normalised scores against hand
 * computations, eligibility, the tie rule, the retention rule at its age boundaries, the
 * registry's refusal to deprecate the active version, and whole rankings on a small synthetic
 * store (activation with evidence, retired files deleted and records kept, the active version
 * never retired, production figures, the report, the lock), the dataset the ranking's versions
 * share (the same figures as tr_evaluate_version's, bit for bit), plus the command's exit codes.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <math.h>
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
#include "cycles/cycledef.h"
#include "cycles/rank.h"
#include "data/evalset.h"
#include "market/synth.h"
#include "report/plot.h"
#include "store/store.h"
#include "testutil.h"

static tr_rank_entry entry(const char *name, double win, double sharpe, double pips, double dd,
                           int64_t trades)
{
    tr_rank_entry e;
    memset(&e, 0, sizeof e);
    snprintf(e.version, sizeof e.version, "%s", name);
    e.evaluated = 1;
    e.bt.win_rate = win;
    e.bt.sharpe = sharpe;
    e.bt.avg_pips = pips;
    e.bt.max_drawdown = dd;
    e.bt.trades = trades;
    return e;
}

START_TEST(test_score_hand)
{
    tr_rank_opts o = tr_rank_opts_default();
    /* 0.3*0.55 + 0.3*1.2 + 0.2*2.5 + 0.2*(1-0.04) = 0.165 + 0.36 + 0.5 + 0.192 */
    ck_assert_double_eq_tol(tr_rank_score_raw(&o.w, 0.55, 1.2, 2.5, 0.04), 1.217, 1e-12);
    tr_rank_weights w = {1, 0, 0, 0};
    ck_assert_double_eq_tol(tr_rank_score_raw(&w, 0.55, 1.2, 2.5, 0.04), 0.55, 1e-12);

    /* three eligible versions and one with too few trades */
    tr_rank_entry e[4] = {entry("A", 0.5, 1.0, 2.0, 0.10, 30), entry("B", 0.6, 0.5, 2.0, 0.05, 30),
                          entry("C", 0.4, 2.0, -1.0, 0.20, 30), entry("D", 0.9, 9.0, 9.0, 0.0, 5)};
    for (int i = 0; i < 4; i++)
        tr_rank_eligibility(&e[i], 20);
    ck_assert(e[0].eligible && e[1].eligible && e[2].eligible && !e[3].eligible);
    ck_assert(strstr(e[3].note, "5 trades") != NULL);
    /* raw: A 0.15+0.3+0.4+0.18 = 1.03, B 0.18+0.15+0.4+0.19 = 0.92, C 0.12+0.6-0.2+0.16 = 0.68 */
    long best = tr_rank_order(e, 4, &o.w, TR_SCORE_RAW);
    ck_assert_int_eq(best, 0);
    ck_assert_double_eq_tol(e[0].raw, 1.03, 1e-12);
    ck_assert_double_eq_tol(e[1].raw, 0.92, 1e-12);
    ck_assert_double_eq_tol(e[2].raw, 0.68, 1e-12);
    ck_assert_int_eq(e[0].rank, 1);
    ck_assert_int_eq(e[1].rank, 2);
    ck_assert_int_eq(e[2].rank, 3);
    ck_assert_int_eq(e[3].rank, 0); /* reported, not ranked */
    ck_assert(isfinite(e[3].raw) && isnan(e[3].norm));
    /* rank-normalised, term positions / (m - 1):
     *   win rate  C 0, A 0.5, B 1      Sharpe  B 0, A 0.5, C 1
     *   avg PnL   C 0, A = B 0.75 (tie: mean of positions 1 and 2, over 2)
     *   drawdown  C 0, A 0.5, B 1 (lower is better)
     * A = 0.15 + 0.15 + 0.15 + 0.1 = 0.55; B = 0.3 + 0 + 0.15 + 0.2 = 0.65; C = 0 + 0.3 = 0.3 */
    best = tr_rank_order(e, 4, &o.w, TR_SCORE_RANK);
    ck_assert_int_eq(best, 1);
    ck_assert_double_eq_tol(e[0].norm, 0.55, 1e-12);
    ck_assert_double_eq_tol(e[1].norm, 0.65, 1e-12);
    ck_assert_double_eq_tol(e[2].norm, 0.30, 1e-12);
    ck_assert_int_eq(e[1].rank, 1);
    ck_assert_int_eq(e[0].rank, 2);
    ck_assert_int_eq(e[2].rank, 3);
    ck_assert(e[1].score == e[1].norm);
    /* a single eligible version scores the sum of the weights */
    e[0].eligible = e[1].eligible = 0;
    ck_assert_int_eq(tr_rank_order(e, 4, &o.w, TR_SCORE_RANK), 2);
    ck_assert_double_eq_tol(e[2].norm, 1.0, 1e-12);
    /* none eligible */
    e[2].eligible = 0;
    ck_assert_int_eq(tr_rank_order(e, 4, &o.w, TR_SCORE_RAW), -1);
}
END_TEST

START_TEST(test_ties_and_eligibility)
{
    tr_rank_opts o = tr_rank_opts_default();
    tr_rank_entry e[3] = {entry("X", 0.5, 1, 1, 0.1, 20), entry("Y", 0.5, 1, 1, 0.1, 20),
                          entry("Z", 0.5, 1, 1, 0.1, 19)};
    for (int i = 0; i < 3; i++)
        tr_rank_eligibility(&e[i], 20);
    ck_assert(e[0].eligible && e[1].eligible && !e[2].eligible); /* 20 is enough, 19 is not */
    /* equal scores: the later-registered one */
    ck_assert_int_eq(tr_rank_order(e, 3, &o.w, TR_SCORE_RAW), 1);
    /* ... unless the other is active */
    e[0].was_active = 1;
    ck_assert_int_eq(tr_rank_order(e, 3, &o.w, TR_SCORE_RAW), 0);
    ck_assert_int_eq(e[1].rank, 2);
    /* not evaluated: never eligible, whatever the minimum */
    tr_rank_entry n = entry("N", 0, 0, 0, 0, 0);
    n.evaluated = 0;
    tr_rank_eligibility(&n, 0);
    ck_assert(!n.eligible);
    tr_rank_entry z = entry("Z0", 0, 0, 0, 0, 0);
    tr_rank_eligibility(&z, 0);
    ck_assert(z.eligible);
}
END_TEST

static tr_version ver(const char *name, int type, const char *as_of)
{
    tr_version v;
    memset(&v, 0, sizeof v);
    snprintf(v.version, sizeof v.version, "%s", name);
    v.type = type;
    v.status = TR_VS_COMPLETED;
    v.as_of = v.data_to = T(as_of);
    return v;
}

START_TEST(test_retention_select)
{
    tr_version vs[7] = {
        ver("v1.0", TR_VT_FULL, "2023-01-01"),                             /* full: kept */
        ver("v1.0-daily-20240301", TR_VT_INCREMENTAL, "2024-03-01"),       /* exactly 3 months */
        ver("v1.0-daily-20240229", TR_VT_INCREMENTAL, "2024-02-29T23:45"), /* older */
        ver("v1.0-daily-20240101", TR_VT_INCREMENTAL, "2024-01-01"),       /* active: kept */
        ver("v1.0-daily-20240102", TR_VT_INCREMENTAL, "2024-01-02"),       /* to be activated */
        ver("v1.0-daily-20240103", TR_VT_INCREMENTAL, "2024-01-03"),       /* deprecated already */
        ver("v1.0-daily-20240520", TR_VT_INCREMENTAL, "2024-05-20"),       /* recent */
    };
    vs[3].is_active = 1;
    vs[5].deprecated_at = T("2024-05-01");
    tr_registry reg = {.versions = vs, .n_versions = 7};
    size_t idx[7];
    size_t n = tr_rank_retire_select(&reg, "v1.0-daily-20240102", T("2024-06-01"), 3, idx);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(idx[0], 2);
    n = tr_rank_retire_select(&reg, NULL, T("2024-06-01"), 3, idx);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(idx[1], 4);
    /* month ends clamp: 3 months before 2024-05-31 is 2024-02-29 */
    n = tr_rank_retire_select(&reg, "", T("2024-05-31"), 3, idx);
    /* 20240102 only: 2024-02-29T23:45 is not before the limit 2024-02-29T00:00 */
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(idx[0], 4);
    n = tr_rank_retire_select(&reg, "", T("2024-05-29T23:46"), 3, idx);
    ck_assert_uint_eq(n, 2); /* limit 2024-02-29T23:46: now 23:45 is before it */
    ck_assert_uint_eq(idx[0], 2);
}
END_TEST

START_TEST(test_registry_never_deprecates_active)
{
    tr_registry reg;
    tr_registry_init(&reg);
    tr_version v[2] = {ver("v1.0", TR_VT_FULL, "2024-01-01"),
                       ver("v1.1", TR_VT_FULL, "2024-02-01")};
    tr_reg_txn txn;
    memset(&txn, 0, sizeof txn);
    txn.put = v;
    txn.n_put = 2;
    tr_activation a;
    memset(&a, 0, sizeof a);
    snprintf(a.to, sizeof a.to, "v1.0");
    txn.activate = &a;
    tr_error e;
    ck_assert_int_eq(tr_registry_apply(&reg, &txn, &e), TR_OK);
    tr_version dep = reg.versions[0];
    dep.deprecated_at = 1;
    memset(&txn, 0, sizeof txn);
    txn.update = &dep;
    txn.n_update = 1;
    ck_assert_int_eq(tr_registry_apply(&reg, &txn, &e), TR_ERR_INVALID);
    ck_assert(strstr(e.msg, "v1.0") != NULL);
    ck_assert_int_eq(reg.versions[0].deprecated_at, 0);
    /* moving the activation away in the same transaction allows it */
    snprintf(a.from, sizeof a.from, "v1.0");
    snprintf(a.to, sizeof a.to, "v1.1");
    txn.activate = &a;
    ck_assert_int_eq(tr_registry_apply(&reg, &txn, &e), TR_OK);
    ck_assert_int_eq(reg.versions[0].deprecated_at, 1);
    ck_assert(reg.versions[1].is_active);
    /* and the target of an activation cannot be deprecated in the same transaction */
    tr_version dep2 = reg.versions[0];
    snprintf(a.from, sizeof a.from, "v1.1");
    snprintf(a.to, sizeof a.to, "v1.1");
    memset(&txn, 0, sizeof txn);
    dep2 = reg.versions[1];
    dep2.deprecated_at = 2;
    txn.update = &dep2;
    txn.n_update = 1;
    ck_assert_int_eq(tr_registry_apply(&reg, &txn, &e), TR_ERR_INVALID);
    tr_registry_free(&reg);
}
END_TEST

/* ---- on a synthetic store ------------------------------------------------------------------- */

#define run(dir, ...) tu_run(AIFX_TRAIN_EXE, dir, __VA_ARGS__)
#define output_has    tu_output_has

static tr_store *make_store(const char *dir)
{
    tr_store *st;
    tr_error e;
    ck_assert_int_eq(tr_store_open(dir, &(tr_store_options){.create = 1}, &st, &e), TR_OK);
    static const char *pairs[2] = {"EURUSD", "USDJPY"};
    for (int p = 0; p < 2; p++) {
        tr_synth_params sp =
            tr_synth_params_default(pairs[p], T("2024-01-01"), T("2024-06-10"), (uint64_t)(7 + p));
        tr_bars b = {0};
        ck_assert_int_eq(tr_synth_generate(&sp, &b, NULL, &e), TR_OK);
        ck_assert_int_eq(tr_store_bars_put(st, pairs[p], 900, b.v, b.n, 0, NULL, &e), TR_OK);
        tr_bars_free(&b);
    }
    return st;
}

static void full(tr_store *st, const char *as_of, const char *expect)
{
    tr_full_opts o = tr_full_opts_default();
    o.decision = TR_DECISION_ARGMAX; /* mechanics on an untrained net: no edge to find */
    o.as_of = T(as_of);
    o.months = 2;
    o.n_hidden = 8;
    o.max_epochs = 3;
    o.patience = 2;
    tr_cycle_result *r = calloc(1, sizeof *r);
    tr_error e;
    ck_assert_msg(tr_cycle_full(st, &o, r, &e) == TR_OK, "%s", e.msg);
    ck_assert_str_eq(r->version, expect);
    free(r);
}

/* Registers a daily version whose checkpoint is a copy of from's, as of the given time. */
static void fake_daily(tr_store *st, const char *from, const char *name, const char *as_of)
{
    tr_registry reg;
    tr_error e;
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    tr_version v = *tr_registry_find(&reg, from);
    tr_registry_free(&reg);
    char src[4400], dst[4400];
    ck_assert_int_eq(tr_store_path(st, TR_AREA_MODELS, v.checkpoint, src, sizeof src, &e), TR_OK);
    snprintf(v.version, sizeof v.version, "%s", name);
    snprintf(v.checkpoint, sizeof v.checkpoint, "%s.ckpt", name);
    ck_assert_int_eq(tr_store_path(st, TR_AREA_MODELS, v.checkpoint, dst, sizeof dst, &e), TR_OK);
    char *data;
    size_t len;
    ck_assert_int_eq(tr_file_read(src, &data, &len, &e), TR_OK);
    ck_assert_int_eq(tr_file_write_atomic(dst, data, len, &e), TR_OK);
    free(data);
    v.type = TR_VT_INCREMENTAL;
    snprintf(v.parent, sizeof v.parent, "%s", from);
    v.status = TR_VS_COMPLETED;
    v.is_active = 0;
    v.deployed_at = 0;
    v.as_of = v.data_to = T(as_of);
    v.data_from = v.as_of - 86400;
    tr_reg_txn txn;
    memset(&txn, 0, sizeof txn);
    txn.put = &v;
    txn.n_put = 1;
    ck_assert_int_eq(tr_store_registry_commit(st, &txn, &e), TR_OK);
}

static int model_exists(const tr_store *st, const char *name)
{
    char p[4400];
    ck_assert_int_eq(tr_store_path(st, TR_AREA_MODELS, name, p, sizeof p, NULL), TR_OK);
    return access(p, F_OK) == 0;
}

static void put_signal(tr_store *st, const char *version, const char *bar, const char *outcome,
                       double pips)
{
    tr_signal s;
    memset(&s, 0, sizeof s);
    snprintf(s.pair, sizeof s.pair, "EURUSD");
    s.timeframe = 900;
    s.bar_time = T(bar);
    s.signal = 1;
    s.confidence = 0.5;
    snprintf(s.model_version, sizeof s.model_version, "%s", version);
    snprintf(s.outcome, sizeof s.outcome, "%s", outcome);
    s.pnl_pips = pips;
    tr_error e;
    ck_assert_int_eq(tr_store_signal_put(st, &s, &e), TR_OK);
}

/* A set shared by many versions (data/evalset.h) gives each the report and equity curve of
 * tr_evaluate_version, bit for bit; a version of another label kind is refused. */
START_TEST(test_eval_set_equals_evaluate)
{
    char *dir = tu_tempdir();
    tr_store *st = make_store(dir);
    tr_error e;
    full(st, "2024-03-01", "v1.0");
    full(st, "2024-04-01", "v1.1");
    tr_registry reg;
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    const int64_t from = T("2024-05-01"), to = T("2024-06-01");
    tr_eval_set set;
    /* the versions are barrier versions, the default kind */
    ck_assert_msg(tr_eval_set_build(st, 900, from, to, TR_LABELS_BARRIER, &set, &e) == TR_OK, "%s",
                  e.msg);
    ck_assert_int_eq(set.n_pairs, 2);
    for (size_t i = 0; i < reg.n_versions; i++) {
        const tr_version *v = &reg.versions[i];
        tr_eval_report *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
        tr_equity ea, eb;
        ck_assert_msg(
            tr_evaluate_version(st, v->version, NULL, 0, 900, from, to, NULL, a, &ea, &e) == TR_OK,
            "%s", e.msg);
        ck_assert_msg(tr_eval_set_version(&set, st, v, b, &eb, &e) == TR_OK, "%s", e.msg);
        ck_assert_int_gt(a->figs.n, 0);
        ck_assert(memcmp(a, b, sizeof *a) == 0);
        ck_assert_uint_eq(ea.n, eb.n);
        ck_assert(ea.n == 0 || (memcmp(ea.t, eb.t, ea.n * sizeof *ea.t) == 0 &&
                                memcmp(ea.pips, eb.pips, ea.n * sizeof *ea.pips) == 0));
        tr_equity_free(&ea);
        tr_equity_free(&eb);
        free(a);
        free(b);
    }
    /* another label kind */
    tr_version bv = reg.versions[0];
    snprintf(bv.hyper, sizeof bv.hyper, "{\"labels\":{\"kind\":\"reversal\"}}");
    tr_eval_report *r = calloc(1, sizeof *r);
    ck_assert_int_eq(tr_eval_set_version(&set, st, &bv, r, NULL, &e), TR_ERR_INVALID);
    free(r);
    tr_eval_set_free(&set);
    tr_eval_set_free(&set); /* twice: harmless */
    tr_registry_free(&reg);
    tr_store_close(st);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_rank_store)
{
    char *dir = tu_tempdir();
    tr_store *st = make_store(dir);
    tr_error e;
    tr_rank_opts o = tr_rank_opts_default();
    o.as_of = T("2024-06-01");
    /* the versions here are untrained 8-unit nets, which the guard against collapse refuses
     * (check_guards.c); this test is about the ranking's mechanics */
    o.no_guard = 1;
    tr_rank_result r;
    /* nothing registered yet */
    ck_assert_int_eq(tr_rank_run(st, &o, &r, &e), TR_ERR_NOTFOUND);
    tr_rank_result_free(&r);

    full(st, "2024-03-01", "v1.0"); /* active (first model) */
    full(st, "2024-05-01", "v1.1");
    fake_daily(st, "v1.0", "v1.0-daily-20240115", "2024-01-15"); /* retired */
    fake_daily(st, "v1.0", "v1.0-daily-20240301", "2024-03-01"); /* exactly 3 months */
    fake_daily(st, "v1.0", "v1.0-daily-20240602", "2024-06-02"); /* after the as-of */
    /* active: a version that cannot be scored, so the ranking must activate another */
    char f[TR_VERSION_MAX], t[TR_VERSION_MAX];
    ck_assert_int_eq(tr_activate(st, "v1.0-daily-20240602", 0, "test", f, t, &e), TR_OK);
    put_signal(st, "v1.1", "2024-05-20T10:00", "win", 12.0);
    put_signal(st, "v1.1", "2024-05-21T10:00", "loss", -8.0);
    put_signal(st, "v1.1", "2024-05-22T10:00", "open", 0.0);
    put_signal(st, "v1.1", "2024-04-22T10:00", "win", 5.0); /* before the window */

    /* the lock: another ranking running */
    int tok;
    ck_assert_int_eq(tr_store_cycle_lock(st, "rank", &tok, &e), TR_OK);
    tr_store *other;
    ck_assert_int_eq(tr_store_open(dir, NULL, &other, &e), TR_OK);
    ck_assert_int_eq(tr_rank_run(other, &o, &r, &e), TR_ERR_CONFLICT);
    tr_rank_result_free(&r);
    tr_store_close(other);
    tr_store_cycle_unlock(st, tok);

    o.min_trades = 0;
    ck_assert_msg(tr_rank_run(st, &o, &r, &e) == TR_OK, "%s", e.msg);
    ck_assert_uint_eq(r.n, 5);
    ck_assert_str_eq(r.active_before, "v1.0-daily-20240602");
    ck_assert_int_eq(r.n_eligible, 4); /* v1.0-daily-20240602 has no bars after its window */
    ck_assert(!r.entries[4].evaluated && !r.entries[4].eligible);
    ck_assert(strstr(r.entries[4].note, "no bars after") != NULL);
    /* each version is scored on bars after its own data window */
    ck_assert_int_eq(r.entries[0].from, T("2024-05-02"));
    ck_assert_int_eq(r.entries[1].from, T("2024-05-02"));
    ck_assert_int_eq(r.entries[0].to, T("2024-06-01"));
    /* a daily that is a copy of v1.0 has v1.0's figures */
    ck_assert_int_eq(r.entries[2].bt.trades, r.entries[0].bt.trades);
    ck_assert_double_eq_tol(r.entries[2].raw, r.entries[0].raw, 1e-12);
    /* production figures of v1.1: 3 signals in the window, 2 with outcomes */
    ck_assert_int_eq(r.entries[1].prod_signals, 3);
    ck_assert_int_eq(r.entries[1].prod_resolved, 2);
    ck_assert_double_eq_tol(r.entries[1].prod_win_rate, 0.5, 1e-12);
    ck_assert_double_eq_tol(r.entries[1].prod_avg_pips, 2.0, 1e-12);
    ck_assert(isnan(r.entries[0].prod_win_rate));
    ck_assert_int_eq(r.prod_resolved_total, 2);
    /* the best one, activated unless it is v1.0 */
    ck_assert(r.best[0]);
    int best_i = -1;
    for (size_t i = 0; i < r.n; i++)
        if (r.entries[i].rank == 1)
            best_i = (int)i;
    ck_assert_int_ge(best_i, 0);
    ck_assert_str_eq(r.best, r.entries[best_i].version);
    ck_assert(r.activated);
    /* equal figures (v1.0 and its copies): the later-registered version wins */
    if (strncmp(r.best, "v1.0", 4) == 0)
        ck_assert_str_eq(r.best, "v1.0-daily-20240301");
    /* retention */
    ck_assert_uint_eq(r.n_retired, 1);
    ck_assert_str_eq(r.retired[0], "v1.0-daily-20240115");
    ck_assert(!model_exists(st, "v1.0-daily-20240115.ckpt"));
    /* `versions` shows it retired, not as a healthy completed version */
    char want[128];
    snprintf(want, sizeof want, "%-28s %-11s %-10s", "v1.0-daily-20240115", "incremental",
             "retired");
    ck_assert_int_eq(tu_run(AIFX_TRAIN_EXE, dir, "versions --store '%s'", dir), 0);
    ck_assert_msg(tu_output_has(dir, want), "versions does not show '%s'", want);
    ck_assert(model_exists(st, "v1.0-daily-20240301.ckpt"));
    ck_assert(model_exists(st, "v1.0.ckpt"));
    /* the report */
    char *rp = tu_path(dir, "reports/rank-2024-06-01.md");
    ck_assert_str_eq(r.report_path, rp);
    char *text;
    size_t len;
    ck_assert_int_eq(tr_file_read(rp, &text, &len, &e), TR_OK);
    ck_assert(strstr(text, "| rank | version |") != NULL);
    ck_assert(strstr(text, "### v1.1 (full)") != NULL);
    ck_assert(strstr(text, "win rate 0.5000, total 4.0 pips") != NULL);
    ck_assert(strstr(text, "Retired") != NULL && strstr(text, "v1.0-daily-20240115") != NULL);
    /* its pictures: equity, the active version's confusion matrix, the training curves of the
     * newest full version (which the full cycle recorded) */
    ck_assert_msg(r.n_pictures == 3, "%d pictures: %s", r.n_pictures, r.picture_note);
    static const char *const pics[3] = {"equity", "confusion", "training"};
    for (int k = 0; k < 3; k++) {
        char name[128], link[160];
        snprintf(name, sizeof name, "reports/rank-2024-06-01-%s.png", pics[k]);
        char *pp = tu_path(dir, name);
        ck_assert_msg(tr_plot_is_png(pp), "%s", pp);
        free(pp);
        snprintf(link, sizeof link, "](rank-2024-06-01-%s.png)", pics[k]);
        ck_assert_msg(strstr(text, link) != NULL, "%s", link);
    }
    ck_assert(strstr(text, "Training curves of the newest full version v1.1") != NULL);
    free(text);
    free(rp);
    char r0best[TR_VERSION_MAX];
    snprintf(r0best, sizeof r0best, "%s", r.best);
    tr_rank_result_free(&r);

    tr_registry reg;
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    const tr_version *old = tr_registry_find(&reg, "v1.0-daily-20240115");
    ck_assert_ptr_nonnull(old); /* the record is kept */
    ck_assert(old->deprecated_at != 0);
    ck_assert(strstr(old->deprecation_reason, "retention") != NULL);
    const tr_log_row *lr = &reg.log[reg.n_log - 1];
    ck_assert_str_eq(lr->cycle, "rank");
    ck_assert_int_eq(lr->status, TR_LOG_COMPLETED);
    char best[TR_VERSION_MAX];
    snprintf(best, sizeof best, "%s", tr_registry_active(&reg)->version);
    ck_assert_str_eq(best, r0best);
    const tr_activation *a = &reg.activations[reg.n_activations - 1];
    ck_assert_str_eq(a->reason, "rank");
    ck_assert_str_eq(a->from, "v1.0-daily-20240602");
    ck_assert_str_eq(a->to, best);
    ck_assert(strstr(a->evidence, "\"by\":\"rank\"") != NULL);
    ck_assert(strstr(a->evidence, "\"sharpe\":") != NULL);
    /* the active one had no score */
    ck_assert(strstr(a->evidence, "\"evaluated\":false") != NULL);
    ck_assert_str_eq(lr->verdict, "activated");
    size_t n_act = reg.n_activations;
    tr_registry_free(&reg);

    /* again: the best is active now, so no change; the retired version is not ranked */
    ck_assert_msg(tr_rank_run(st, &o, &r, &e) == TR_OK, "%s", e.msg);
    ck_assert_uint_eq(r.n, 4);
    ck_assert_str_eq(r.best, best);
    ck_assert(!r.activated);
    ck_assert_uint_eq(r.n_retired, 0);
    tr_rank_result_free(&r);
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    ck_assert_uint_eq(reg.n_activations, n_act);
    ck_assert_str_eq(reg.log[reg.n_log - 1].verdict, "unchanged");
    tr_registry_free(&reg);

    /* the active version is never retired: make the 3-month-old daily active, rank three
     * months later with nothing eligible */
    if (strcmp(best, "v1.0-daily-20240301") != 0)
        ck_assert_int_eq(tr_activate(st, "v1.0-daily-20240301", 0, "test", f, t, &e), TR_OK);
    o.as_of = T("2024-06-10");
    o.min_trades = 1000000;
    ck_assert_msg(tr_rank_run(st, &o, &r, &e) == TR_OK, "%s", e.msg);
    ck_assert_str_eq(r.best, "");
    ck_assert(!r.activated);
    ck_assert_uint_eq(r.n_retired, 0); /* the only old daily is the active one */
    ck_assert(model_exists(st, "v1.0-daily-20240301.ckpt"));
    tr_rank_result_free(&r);
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    ck_assert_str_eq(tr_registry_active(&reg)->version, "v1.0-daily-20240301");
    ck_assert_str_eq(reg.log[reg.n_log - 1].verdict, "none_eligible");
    tr_registry_free(&reg);

    tr_store_close(st);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* Registry rows of the rank cycle, deprecated versions and activations. */
static void counts(tr_store *st, size_t *n_log, size_t *n_dep, size_t *n_act)
{
    tr_registry reg;
    tr_error e;
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    *n_log = reg.n_log;
    *n_act = reg.n_activations;
    *n_dep = 0;
    for (size_t i = 0; i < reg.n_versions; i++)
        *n_dep += reg.versions[i].deprecated_at != 0;
    tr_registry_free(&reg);
}

/* Retention acts on evidence only: a ranking that evaluated no version (as of a time long after
 * the stored bars, as the default as-of "now" is on a historical store) changes nothing; the age
 * limit counts from the ranking's as-of time, not the wall clock; only the files of the versions
 * the commit retired are deleted. */
START_TEST(test_rank_evidence_only)
{
    char *dir = tu_tempdir();
    tr_store *st = make_store(dir);
    tr_error e;
    full(st, "2024-03-01", "v1.0"); /* active */
    fake_daily(st, "v1.0", "v1.0-daily-20240115", "2024-01-15");
    fake_daily(st, "v1.0", "v1.0-daily-20240116", "2024-01-16");
    size_t n_log0, n_dep0, n_act0;
    counts(st, &n_log0, &n_dep0, &n_act0);

    /* no bars in the window: skipped, logged with the reason, nothing retired or deleted */
    tr_rank_opts o = tr_rank_opts_default();
    o.min_trades = 0;
    o.as_of = T("2026-12-01");
    tr_rank_result r;
    ck_assert_msg(tr_rank_run(st, &o, &r, &e) == TR_OK, "%s", e.msg);
    ck_assert_int_eq(r.n_evaluated, 0);
    ck_assert(r.skipped);
    ck_assert(strstr(r.skip_reason, "--as-of") != NULL);
    ck_assert_uint_eq(r.n_retired, 0);
    ck_assert(!r.activated);
    tr_rank_result_free(&r);
    ck_assert(model_exists(st, "v1.0-daily-20240115.ckpt"));
    ck_assert(model_exists(st, "v1.0-daily-20240116.ckpt"));
    size_t n_log, n_dep, n_act;
    counts(st, &n_log, &n_dep, &n_act);
    ck_assert_uint_eq(n_log, n_log0 + 1);
    ck_assert_uint_eq(n_dep, n_dep0);
    ck_assert_uint_eq(n_act, n_act0);
    tr_registry reg;
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    ck_assert_int_eq(reg.log[reg.n_log - 1].status, TR_LOG_SKIPPED);
    ck_assert_str_eq(reg.log[reg.n_log - 1].cycle, "rank");
    ck_assert(strstr(reg.log[reg.n_log - 1].reason, "no version could be evaluated") != NULL);
    /* and where the bars are: the store's last bar, whole, in the logged reason */
    ck_assert_msg(strstr(reg.log[reg.n_log - 1].reason, "the store's last bars: EURUSD 2024-") &&
                      strstr(reg.log[reg.n_log - 1].reason, "USDJPY 2024-") &&
                      strstr(reg.log[reg.n_log - 1].reason, "Z): nothing activated"),
                  "%s", reg.log[reg.n_log - 1].reason);
    /* as the scheduler's entry: a skipped outcome, which covers the slot */
    const tr_cycle_def *def = tr_cycle_find("rank");
    tr_cycle_ctx ctx = {st, T("2026-11-01"), NULL, 0, NULL, NULL};
    tr_cycle_outcome out;
    memset(&out, 0, sizeof out);
    ck_assert_int_eq((*def->run)(&ctx, &o, &out, &e), TR_OK);
    ck_assert_int_eq(out.status, TR_LOG_SKIPPED);
    tr_registry_free(&reg);

    /* the age limit counts from the as-of time: in April 2024 the January dailies are younger
     * than 3 months, whatever the wall clock says */
    o.as_of = T("2024-04-10");
    ck_assert_msg(tr_rank_run(st, &o, &r, &e) == TR_OK, "%s", e.msg);
    ck_assert_int_gt(r.n_evaluated, 0);
    ck_assert(!r.skipped);
    ck_assert_uint_eq(r.n_retired, 0);
    tr_rank_result_free(&r);

    /* a version recorded as retired by an earlier ranking (or by another store sharing the
     * models directory) keeps its file: only the versions this commit retires lose theirs */
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    tr_version dep = *tr_registry_find(&reg, "v1.0-daily-20240116");
    tr_registry_free(&reg);
    dep.deprecated_at = T("2024-05-01");
    snprintf(dep.deprecation_reason, sizeof dep.deprecation_reason, "retention: earlier");
    tr_reg_txn txn;
    memset(&txn, 0, sizeof txn);
    txn.update = &dep;
    txn.n_update = 1;
    ck_assert_int_eq(tr_store_registry_commit(st, &txn, &e), TR_OK);
    o.as_of = T("2024-06-01");
    ck_assert_msg(tr_rank_run(st, &o, &r, &e) == TR_OK, "%s", e.msg);
    ck_assert_uint_eq(r.n_retired, 1);
    ck_assert_str_eq(r.retired[0], "v1.0-daily-20240115");
    tr_rank_result_free(&r);
    ck_assert(!model_exists(st, "v1.0-daily-20240115.ckpt"));
    ck_assert(model_exists(st, "v1.0-daily-20240116.ckpt"));
    /* the retired version's missing file is no damage: refused as retired */
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    aifx_model *m = NULL;
    ck_assert_int_eq(tr_checkpoint_load(st, tr_registry_find(&reg, "v1.0-daily-20240115"), &m, &e),
                     TR_ERR_INVALID);
    ck_assert(strstr(e.msg, "retired") != NULL);
    tr_registry_free(&reg);

    tr_store_close(st);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* A damaged or missing checkpoint of the active version fails the ranking with the damage code
 * (exit 5) before it changes anything; a missing file of a registered version is damage, not
 * "not found". */
START_TEST(test_rank_damaged_active)
{
    char *dir = tu_tempdir();
    char *sd = tu_path(dir, "store");
    tr_store *st = make_store(sd);
    tr_error e;
    full(st, "2024-03-01", "v1.0"); /* active */
    full(st, "2024-05-01", "v1.1");
    fake_daily(st, "v1.0", "v1.0-daily-20240115", "2024-01-15"); /* due for retirement */
    char path[4400];
    ck_assert_int_eq(tr_store_path(st, TR_AREA_MODELS, "v1.0.ckpt", path, sizeof path, &e), TR_OK);
    char *good;
    size_t len;
    ck_assert_int_eq(tr_file_read(path, &good, &len, &e), TR_OK);
    char *bad = malloc(len);
    memcpy(bad, good, len);
    bad[len / 2] ^= 0x5a;
    ck_assert_int_eq(tr_file_write_atomic(path, bad, len, &e), TR_OK);
    size_t n_log0, n_dep0, n_act0;
    counts(st, &n_log0, &n_dep0, &n_act0);

    tr_rank_opts o = tr_rank_opts_default();
    o.min_trades = 0;
    o.as_of = T("2024-06-01");
    tr_rank_result r;
    ck_assert_int_eq(tr_rank_run(st, &o, &r, &e), TR_ERR_CHECKSUM);
    ck_assert(strstr(e.msg, "v1.0") != NULL);
    tr_rank_result_free(&r);
    size_t n_log, n_dep, n_act;
    counts(st, &n_log, &n_dep, &n_act);
    ck_assert_uint_eq(n_log, n_log0 + 1); /* the failed row, nothing else */
    ck_assert_uint_eq(n_dep, n_dep0);
    ck_assert_uint_eq(n_act, n_act0);
    ck_assert(model_exists(st, "v1.0-daily-20240115.ckpt"));
    ck_assert_int_eq(run(dir, "rank --as-of 2024-06-01 --min-trades 0 --store '%s'", sd), 5);

    /* the file gone: the same damage code, for the ranking and for any loader */
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(tr_rank_run(st, &o, &r, &e), TR_ERR_CHECKSUM);
    ck_assert(strstr(e.msg, "missing") != NULL);
    tr_rank_result_free(&r);
    ck_assert_int_eq(run(dir, "rank --as-of 2024-06-01 --min-trades 0 --store '%s'", sd), 5);
    tr_registry reg;
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    aifx_model *m = NULL;
    ck_assert_int_eq(tr_checkpoint_load(st, tr_registry_find(&reg, "v1.0"), &m, &e),
                     TR_ERR_CHECKSUM);
    ck_assert_ptr_null(m);
    tr_registry_free(&reg);
    counts(st, &n_log, &n_dep, &n_act);
    ck_assert_uint_eq(n_dep, n_dep0);
    ck_assert_uint_eq(n_act, n_act0);
    ck_assert(model_exists(st, "v1.0-daily-20240115.ckpt"));

    /* restored: the ranking runs */
    ck_assert_int_eq(tr_file_write_atomic(path, good, len, &e), TR_OK);
    ck_assert_msg(tr_rank_run(st, &o, &r, &e) == TR_OK, "%s", e.msg);
    ck_assert_uint_eq(r.n_retired, 1);
    tr_rank_result_free(&r);
    free(good);
    free(bad);
    tr_store_close(st);
    free(sd);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* ---- the command ---------------------------------------------------------------------------- */

START_TEST(test_cli)
{
    char *dir = tu_tempdir();
    char *sd = tu_path(dir, "store");
    ck_assert_int_eq(run(dir, "rank --store '%s/none'", dir), 6);
    ck_assert_int_eq(run(dir, "rank --score best --store '%s'", sd), 2);
    ck_assert(output_has(dir, "bad --score"));
    ck_assert_int_eq(run(dir, "rank --weights 1,2,3 --store '%s'", sd), 2);
    ck_assert_int_eq(run(dir, "rank --as-of yesterday --store '%s'", sd), 2);
    ck_assert_int_eq(run(dir, "rank --frobnicate --store '%s'", sd), 2);
    ck_assert_int_eq(run(dir, "rank --help"), 0);
    ck_assert_int_eq(run(dir,
                         "synth --pair EURUSD --from 2024-01-01 --to 2024-06-10 --seed 7 "
                         "--store '%s'",
                         sd),
                     0);
    ck_assert_int_eq(run(dir, "rank --as-of 2024-06-01 --store '%s'", sd), 6);
    ck_assert(output_has(dir, "no version to rank"));
    ck_assert_int_eq(run(dir,
                         "full --as-of 2024-04-01 --months 2 --hidden 8 --epochs 2 "
                         "--patience 1 --quiet --decision argmax --store '%s'",
                         sd),
                     0);
    /* --no-guard: the 2-epoch v1.0 collapses, and the guard would refuse it (check_guards.c) */
    ck_assert_int_eq(
        run(dir, "rank --as-of 2024-06-01 --min-trades 0 --no-guard --json --store '%s'", sd), 0);
    ck_assert(output_has(dir, "\"best\":\"v1.0\""));
    ck_assert(output_has(dir, "\"production_outcomes\":0"));
    ck_assert_int_eq(
        run(dir, "rank --as-of 2024-06-01 --score rank --weights 1,0,0,0 --no-guard --store '%s'",
            sd),
        0);
    ck_assert(output_has(dir, "is already active: no change"));
    ck_assert(output_has(dir, "no outcomes recorded"));
    /* another ranking holds the lock: exit 4 */
    tr_store *st;
    tr_error e;
    ck_assert_int_eq(tr_store_open(sd, NULL, &st, &e), TR_OK);
    int tok;
    ck_assert_int_eq(tr_store_cycle_lock(st, "rank", &tok, &e), TR_OK);
    ck_assert_int_eq(run(dir, "rank --as-of 2024-06-01 --store '%s'", sd), 4);
    ck_assert(output_has(dir, "another rank cycle"));
    tr_store_cycle_unlock(st, tok);
    tr_store_close(st);
    free(sd);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trainer_rank");
    TCase *tc = tcase_create("rank");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_score_hand);
    tcase_add_test(tc, test_ties_and_eligibility);
    tcase_add_test(tc, test_retention_select);
    tcase_add_test(tc, test_registry_never_deprecates_active);
    tcase_add_test(tc, test_eval_set_equals_evaluate);
    tcase_add_test(tc, test_rank_store);
    tcase_add_test(tc, test_rank_evidence_only);
    tcase_add_test(tc, test_rank_damaged_active);
    tcase_add_test(tc, test_cli);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(suite)
