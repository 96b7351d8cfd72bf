/*
 * check_guards.c - the guards of issue 15: the guard against collapse (cycle.h, tr_guard_check)
 * on hand-made classification figures, in the incremental gate (tr_gate_decide_guarded) and in
 * the ranking (a stored version's figures rewritten to a collapsed and an over-trading one); the
 * daily fine-tune's minimum sample count (tr_incr_min_samples), with a one-pair store that
 * fine-tunes in run-due where the former fixed 100 skipped; and the label kind travelling from
 * `full --labels barrier` to the version's hyper JSON and the daily fine-tune.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check_main.h"
#include "base/fsutil.h"
#include "cycles/cycle.h"
#include "cycles/rank.h"
#include "cycles/schedule.h"
#include "market/synth.h"
#include "store/store.h"
#include "testutil.h"

/* Figures of n windows with predicted and true buy/sell shares. */
static tr_cls_figs figs(int64_t n, double buy, double sell, double tbuy, double tsell)
{
    tr_cls_figs f;
    memset(&f, 0, sizeof f);
    f.n = n;
    f.buy_share = buy;
    f.sell_share = sell;
    f.true_buy_share = tbuy;
    f.true_sell_share = tsell;
    f.macro_f1 = 0.4;
    return f;
}

START_TEST(test_guard_rule)
{
    char v[16], why[200];
    /* the labels trade 10% of the windows */
    tr_cls_figs f = figs(881, 0.05, 0.05, 0.05, 0.05); /* 1x */
    ck_assert_int_eq(tr_guard_check(&f, v, sizeof v, why, sizeof why), 0);
    ck_assert_str_eq(why, "");
    f = figs(881, 0.03, 0.02, 0.05, 0.05); /* 0.5x exactly: inside */
    ck_assert_int_eq(tr_guard_check(&f, v, sizeof v, why, sizeof why), 0);
    f = figs(881, 0.10, 0.10, 0.05, 0.05); /* 2x exactly: inside */
    ck_assert_int_eq(tr_guard_check(&f, v, sizeof v, why, sizeof why), 0);
    /* the collapsed sell class of issue 15: 0.41x */
    f = figs(881, 0.037, 0.004, 0.05, 0.05);
    ck_assert_int_eq(tr_guard_check(&f, v, sizeof v, why, sizeof why), 1);
    ck_assert_str_eq(v, "collapsed");
    ck_assert_msg(strstr(why, "predicted buy+sell 0.041 vs labels 0.100 (0.41x") != NULL, "%s",
                  why);
    ck_assert(strstr(why, "881 windows") != NULL);
    /* and the over-trading one: 2.02x */
    f = figs(500, 0.101, 0.101, 0.05, 0.05);
    ck_assert_int_eq(tr_guard_check(&f, v, sizeof v, why, sizeof why), 1);
    ck_assert_str_eq(v, "overtrades");
    ck_assert_msg(strstr(why, "(2.02x") != NULL, "%s", why);
    /* always hold on windows whose labels trade: collapsed (0x) */
    f = figs(500, 0, 0, 0.02, 0.01);
    ck_assert_int_eq(tr_guard_check(&f, v, sizeof v, NULL, 0), 1);
    ck_assert_str_eq(v, "collapsed");
    /* labels without a trade: any trade over-trades; none is fine */
    f = figs(500, 0.01, 0, 0, 0);
    ck_assert_int_eq(tr_guard_check(&f, v, sizeof v, why, sizeof why), 1);
    ck_assert_str_eq(v, "overtrades");
    ck_assert(strstr(why, "no labels") != NULL);
    f = figs(500, 0, 0, 0, 0);
    ck_assert_int_eq(tr_guard_check(&f, v, sizeof v, why, sizeof why), 0);
    /* no windows: no evidence, no verdict */
    f = figs(0, 0, 0, 0, 0);
    ck_assert_int_eq(tr_guard_check(&f, v, sizeof v, why, sizeof why), 0);
    ck_assert_int_eq(tr_guard_check(NULL, v, sizeof v, why, sizeof why), 0);
}
END_TEST

START_TEST(test_gate_with_guard)
{
    char v[16], why[200];
    tr_cls_figs ok = figs(800, 0.06, 0.05, 0.05, 0.05);
    tr_cls_figs collapsed = figs(800, 0.03, 0.01, 0.05, 0.05);
    tr_cls_figs over = figs(800, 0.15, 0.12, 0.05, 0.05);
    /* a better candidate within the band: blessed */
    ck_assert_int_eq(
        tr_gate_decide_guarded(TR_GATE_MACRO_F1, 0.45, 0.40, &ok, 0, v, sizeof v, why, sizeof why),
        1);
    ck_assert_str_eq(v, "blessed");
    ck_assert_str_eq(why, "");
    /* a better candidate that collapsed: refused */
    ck_assert_int_eq(tr_gate_decide_guarded(TR_GATE_MACRO_F1, 0.45, 0.40, &collapsed, 0, v,
                                            sizeof v, why, sizeof why),
                     0);
    ck_assert_str_eq(v, "collapsed");
    ck_assert(strstr(why, "0.40x") != NULL);
    /* one that over-trades: refused */
    ck_assert_int_eq(
        tr_gate_decide_guarded(TR_GATE_LOSS, 0.9, 1.0, &over, 0, v, sizeof v, why, sizeof why), 0);
    ck_assert_str_eq(v, "overtrades");
    ck_assert(strstr(why, "2.70x") != NULL);
    /* a worse one stays not_blessed, with the guard's figures noted */
    ck_assert_int_eq(tr_gate_decide_guarded(TR_GATE_MACRO_F1, 0.30, 0.40, &collapsed, 0, v,
                                            sizeof v, why, sizeof why),
                     0);
    ck_assert_str_eq(v, "not_blessed");
    ck_assert(strstr(why, "collapsed") != NULL);
    /* --force is the operator's override */
    ck_assert_int_eq(tr_gate_decide_guarded(TR_GATE_MACRO_F1, 0.45, 0.40, &collapsed, 1, v,
                                            sizeof v, why, sizeof why),
                     1);
    ck_assert_str_eq(v, "forced");
    /* without figures: the metric alone, as tr_gate_decide */
    ck_assert_int_eq(
        tr_gate_decide_guarded(TR_GATE_MACRO_F1, 0.40, 0.40, NULL, 0, v, sizeof v, NULL, 0), 1);
    ck_assert_str_eq(v, "blessed");
    /* the figures the guard reads of a version */
    tr_version fv;
    memset(&fv, 0, sizeof fv);
    fv.type = TR_VT_FULL;
    const char *where;
    ck_assert_ptr_eq(tr_guard_figs(&fv, &where), &fv.figs[TR_SPLIT_VAL]);
    ck_assert_str_eq(where, "validation part");
    fv.type = TR_VT_INCREMENTAL;
    ck_assert_ptr_eq(tr_guard_figs(&fv, &where), &fv.figs[2]);
    ck_assert_str_eq(where, "gate window");
}
END_TEST

START_TEST(test_min_samples_rule_and_hyper)
{
    tr_label_params rev = tr_label_params_default(), bar = rev;
    bar.kind = TR_LABELS_BARRIER;
    ck_assert_int_eq(tr_incr_min_samples(1, 900, &rev), 40);
    ck_assert_int_eq(tr_incr_min_samples(2, 900, &rev), 80);
    ck_assert_int_eq(tr_incr_min_samples(8, 900, &rev), 320);
    ck_assert_int_eq(tr_incr_min_samples(1, 900, &bar), 40);
    bar.trade.max_hold = 32;
    ck_assert_int_eq(tr_incr_min_samples(1, 900, &bar), 32);  /* (96 - 32) / 2 */
    ck_assert_int_eq(tr_incr_min_samples(1, 3600, &rev), 4);  /* (24 - 16) / 2 */
    ck_assert_int_eq(tr_incr_min_samples(3, 14400, &rev), 3); /* at least 1 a pair */
    ck_assert_int_eq(tr_incr_opts_default().min_samples, 0);  /* the rule, not a constant */

    ck_assert_int_eq(tr_hyper_label_kind("{\"labels\":{\"kind\":\"barrier\",\"max_hold\":16}}"),
                     TR_LABELS_BARRIER);
    ck_assert_int_eq(tr_hyper_label_kind("{\"labels\":{\"kind\":\"reversal\",\"k\":6}}"),
                     TR_LABELS_REVERSAL);
    /* versions registered before the kind existed */
    ck_assert_int_eq(tr_hyper_label_kind("{\"labels\":{\"k\":6,\"m\":1,\"h\":16,\"atr\":14}}"),
                     TR_LABELS_REVERSAL);
    ck_assert_int_eq(tr_hyper_label_kind(""), TR_LABELS_REVERSAL);
    ck_assert_int_eq(tr_hyper_label_kind(NULL), TR_LABELS_REVERSAL);
    /* "kind":"barrier" outside the labels object does not count */
    ck_assert_int_eq(tr_hyper_label_kind("{\"labels\":{\"k\":6},\"x\":{\"kind\":\"barrier\"}}"),
                     TR_LABELS_REVERSAL);
}
END_TEST

/* ---- on a synthetic one-pair store ---------------------------------------------------------- */

static tr_store *one_pair_store(const char *dir, const char *to)
{
    tr_store *st;
    tr_error e;
    ck_assert_int_eq(tr_store_open(dir, &(tr_store_options){.create = 1}, &st, &e), TR_OK);
    tr_synth_params sp = tr_synth_params_default("EURUSD", T("2024-01-01"), T(to), 7);
    tr_bars b = {0};
    ck_assert_int_eq(tr_synth_generate(&sp, &b, NULL, &e), TR_OK);
    ck_assert_int_eq(tr_store_bars_put(st, "EURUSD", 900, b.v, b.n, 0, NULL, &e), TR_OK);
    tr_bars_free(&b);
    return st;
}

static const tr_due_item *slot_item(const tr_due_result *r, int slot)
{
    for (int i = 0; i < r->n_items; i++)
        if (r->items[i].slot == slot)
            return &r->items[i];
    ck_abort_msg("slot %d missing", slot);
    return NULL;
}

/* One 15-minute pair has at most 80 labeled windows a day: under the former fixed 100 every
 * daily slot was skipped; with the default (40 per pair) a weekday fine-tunes in run-due. */
START_TEST(test_one_pair_store_fine_tunes)
{
    char *dir = tu_tempdir();
    tr_store *st = one_pair_store(dir, "2024-04-10");
    tr_error e;
    tr_due_result r;
    /* Thursday: the weekly retrain of Sunday makes v1.0, then the daily slot, with the old
     * fixed minimum of 100 (--min-samples 100): skipped */
    tr_due_opts o = tu_tiny_due("2024-04-04T12:00");
    o.incr.min_samples = 100;
    ck_assert_int_eq(tr_run_due(st, &o, &r, &e), TR_OK);
    ck_assert_msg(slot_item(&r, TR_SLOT_WEEKLY)->outcome == TR_RUN_COMPLETED, "%s",
                  slot_item(&r, TR_SLOT_WEEKLY)->detail);
    const tr_due_item *d = slot_item(&r, TR_SLOT_DAILY);
    ck_assert_msg(d->outcome == TR_RUN_SKIPPED, "%s", d->detail);
    ck_assert_msg(strstr(d->detail, "labeled windows in the last 24 hours (need 100)") != NULL,
                  "%s", d->detail);
    /* Friday, the default: Thursday's windows are enough */
    o = tu_tiny_due("2024-04-05T12:00");
    ck_assert_int_eq(o.incr.min_samples, 0);
    ck_assert_int_eq(tr_run_due(st, &o, &r, &e), TR_OK);
    d = slot_item(&r, TR_SLOT_DAILY);
    ck_assert_msg(d->outcome == TR_RUN_COMPLETED, "%s", d->detail);
    ck_assert_str_eq(d->version, "v1.0-daily-20240405");
    tr_registry reg;
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    const tr_version *v = tr_registry_find(&reg, "v1.0-daily-20240405");
    ck_assert_ptr_nonnull(v);
    ck_assert_msg(v->n_samples[0] >= 40 && v->n_samples[0] < 100, "%lld fine-tune windows",
                  (long long)v->n_samples[0]);
    ck_assert_msg(strstr(v->hyper, "\"min_samples\":40") != NULL, "%s", v->hyper);
    ck_assert_msg(strstr(v->hyper, "\"labels\":{\"kind\":\"barrier\"}") != NULL, "%s", v->hyper);
    /* v1.0 is a barrier version (the default since the walk-forward of docs/results.md), and
     * says so; its fine-tune inherits the kind */
    ck_assert_int_eq(tr_hyper_label_kind(tr_registry_find(&reg, "v1.0")->hyper), TR_LABELS_BARRIER);
    tr_registry_free(&reg);
    tr_store_close(st);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* full --labels barrier: recorded in the hyper JSON; the daily fine-tune labels its data and
 * gate window with barrier labels too, and records it. */
START_TEST(test_barrier_kind_travels)
{
    char *dir = tu_tempdir();
    tr_store *st = one_pair_store(dir, "2024-04-10");
    tr_error e;
    tr_full_opts fo = tr_full_opts_default();
    fo.decision = TR_DECISION_ARGMAX; /* mechanics on an untrained net: no edge to find */
    fo.as_of = T("2024-04-01");
    fo.months = 2;
    fo.n_hidden = 8;
    fo.max_epochs = 2;
    fo.patience = 1;
    fo.labels = TR_LABELS_BARRIER;
    tr_cycle_result *r = calloc(1, sizeof *r);
    ck_assert_msg(tr_cycle_full(st, &fo, r, &e) == TR_OK, "%s", e.msg);
    ck_assert_str_eq(r->version, "v1.0");
    ck_assert_msg(strstr(r->rec.hyper, "\"labels\":{\"kind\":\"barrier\",\"stop_atr\":1.5,"
                                       "\"target_atr\":2,\"max_hold\":16") != NULL,
                  "%s", r->rec.hyper);
    ck_assert_int_eq(tr_hyper_label_kind(r->rec.hyper), TR_LABELS_BARRIER);
    /* the version's test figures are against barrier labels: their shares are the barrier
     * dataset's */
    tr_dataset_options dopt = tr_dataset_options_default();
    dopt.from = r->rec.data_from;
    dopt.to = r->rec.data_to;
    dopt.label.kind = TR_LABELS_BARRIER;
    const char *pairs[1] = {"EURUSD"};
    tr_dataset *ds;
    ck_assert_int_eq(tr_dataset_build(st, pairs, 1, 900, &dopt, &ds, &e), TR_OK);
    ck_assert_int_eq(r->rec.n_samples[2], (int64_t)ds->n[TR_SPLIT_TEST]);
    ck_assert_double_eq_tol(
        r->rec.figs[2].true_buy_share,
        (double)ds->class_count[TR_SPLIT_TEST][TR_LABEL_BUY] / (double)ds->n[TR_SPLIT_TEST], 1e-12);
    tr_dataset_free(ds);

    /* the daily fine-tune inherits the kind */
    tr_incr_opts io = tr_incr_opts_default();
    io.as_of = T("2024-04-04T02:00");
    io.epochs = 1;
    ck_assert_msg(tr_cycle_incremental(st, &io, r, &e) == TR_OK, "%s", e.msg);
    ck_assert_int_eq(r->status, TR_LOG_COMPLETED);
    ck_assert_msg(strstr(r->rec.hyper, "\"labels\":{\"kind\":\"barrier\"}") != NULL, "%s",
                  r->rec.hyper);
    /* its fine-tune figures are against the barrier labels of its 24 hours */
    dopt = tr_dataset_options_default();
    dopt.from = io.as_of - 86400;
    dopt.to = io.as_of;
    dopt.no_split = 1;
    tr_dataset *rev, *bar;
    ck_assert_int_eq(tr_dataset_build(st, pairs, 1, 900, &dopt, &rev, &e), TR_OK);
    dopt.label.kind = TR_LABELS_BARRIER;
    ck_assert_int_eq(tr_dataset_build(st, pairs, 1, 900, &dopt, &bar, &e), TR_OK);
    ck_assert_int_eq(r->rec.n_samples[0], (int64_t)bar->n[TR_SPLIT_TEST]);
    double bar_trade = (double)(bar->class_count[TR_SPLIT_TEST][TR_LABEL_BUY] +
                                bar->class_count[TR_SPLIT_TEST][TR_LABEL_SELL]) /
                       (double)bar->n[TR_SPLIT_TEST];
    double rev_trade = (double)(rev->class_count[TR_SPLIT_TEST][TR_LABEL_BUY] +
                                rev->class_count[TR_SPLIT_TEST][TR_LABEL_SELL]) /
                       (double)rev->n[TR_SPLIT_TEST];
    ck_assert_msg(fabs(bar_trade - rev_trade) > 1e-9, "the two kinds label alike: %g", bar_trade);
    ck_assert_double_eq_tol(r->rec.figs[0].true_buy_share + r->rec.figs[0].true_sell_share,
                            bar_trade, 1e-12);
    tr_dataset_free(rev);
    tr_dataset_free(bar);
    free(r);
    tr_store_close(st);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* Rewrites a stored version's guard figures (tr_guard_figs) to the given shares. */
static void set_guard_figs(tr_store *st, const char *name, double pred, double label)
{
    tr_registry reg;
    tr_error e;
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    tr_version v = *tr_registry_find(&reg, name);
    tr_registry_free(&reg);
    tr_cls_figs *f = &v.figs[v.type == TR_VT_FULL ? TR_SPLIT_VAL : TR_SPLIT_TEST];
    ck_assert_ptr_eq(tr_guard_figs(&v, NULL), f); /* the figures the guard reads */
    f->n = 900;
    f->buy_share = f->sell_share = pred / 2;
    f->true_buy_share = f->true_sell_share = label / 2;
    tr_reg_txn txn;
    memset(&txn, 0, sizeof txn);
    txn.update = &v;
    txn.n_update = 1;
    ck_assert_int_eq(tr_store_registry_commit(st, &txn, &e), TR_OK);
}

/* The ranking never activates a version that fails the guard on its own validation part or
 * gate window, and says why; with figures inside the band the same version is activated. */
START_TEST(test_rank_guard)
{
    char *dir = tu_tempdir();
    tr_store *st = one_pair_store(dir, "2024-06-10");
    tr_error e;
    tr_full_opts fo = tr_full_opts_default();
    fo.decision = TR_DECISION_ARGMAX; /* mechanics on an untrained net: no edge to find */
    fo.months = 2;
    fo.n_hidden = 8;
    fo.max_epochs = 2;
    fo.patience = 1;
    tr_cycle_result *r = calloc(1, sizeof *r);
    fo.as_of = T("2024-03-01");
    ck_assert_msg(tr_cycle_full(st, &fo, r, &e) == TR_OK, "%s", e.msg); /* v1.0, active */
    fo.as_of = T("2024-05-01");
    ck_assert_msg(tr_cycle_full(st, &fo, r, &e) == TR_OK, "%s", e.msg); /* v1.1 */
    free(r);
    tr_rank_opts o = tr_rank_opts_default();
    o.as_of = T("2024-06-01");
    o.min_trades = 0;
    /* v1.0 collapsed, v1.1 over-trades: neither is eligible, nothing changes */
    set_guard_figs(st, "v1.0", 0.041, 0.100);
    set_guard_figs(st, "v1.1", 0.202, 0.100);
    tr_rank_result rr;
    ck_assert_msg(tr_rank_run(st, &o, &rr, &e) == TR_OK, "%s", e.msg);
    ck_assert_uint_eq(rr.n, 2);
    ck_assert_int_eq(rr.n_eligible, 0);
    ck_assert(!rr.activated);
    ck_assert(rr.entries[0].evaluated && rr.entries[1].evaluated);
    ck_assert_msg(strstr(rr.entries[0].note, "collapsed: predicted buy+sell 0.041 vs labels "
                                             "0.100 (0.41x") != NULL,
                  "%s", rr.entries[0].note);
    ck_assert(strstr(rr.entries[0].note, "validation part") != NULL);
    ck_assert_msg(strstr(rr.entries[1].note, "overtrades") != NULL, "%s", rr.entries[1].note);
    ck_assert(strstr(rr.entries[1].note, "2.02x") != NULL);
    tr_rank_result_free(&rr);
    tr_registry reg;
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    ck_assert_str_eq(tr_registry_active(&reg)->version, "v1.0");
    const tr_log_row *lr = &reg.log[reg.n_log - 1];
    ck_assert_str_eq(lr->verdict, "none_eligible");
    ck_assert_msg(strstr(lr->reason, "2 refused by the guard") != NULL, "%s", lr->reason);
    tr_registry_free(&reg);
    /* --no-guard: both are ranked (the guard was what refused them) */
    o.no_guard = 1;
    ck_assert_msg(tr_rank_run(st, &o, &rr, &e) == TR_OK, "%s", e.msg);
    ck_assert_int_eq(rr.n_eligible, 2);
    ck_assert(rr.best[0] != '\0');
    ck_assert_int_eq(rr.activated, strcmp(rr.best, "v1.0") != 0);
    int moved = rr.activated;
    tr_rank_result_free(&rr);
    /* v1.0 active, still collapsed; v1.1 inside the band (1.5x): the guarded ranking activates
     * v1.1, the only eligible version */
    char f[TR_VERSION_MAX], t[TR_VERSION_MAX];
    if (moved)
        ck_assert_int_eq(tr_activate(st, "v1.0", 0, "test", f, t, &e), TR_OK);
    set_guard_figs(st, "v1.1", 0.150, 0.100);
    o.no_guard = 0;
    ck_assert_msg(tr_rank_run(st, &o, &rr, &e) == TR_OK, "%s", e.msg);
    ck_assert_int_eq(rr.n_eligible, 1);
    ck_assert_str_eq(rr.best, "v1.1");
    ck_assert(rr.activated);
    tr_rank_result_free(&rr);
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    ck_assert_str_eq(tr_registry_active(&reg)->version, "v1.1");
    const tr_activation *a = &reg.activations[reg.n_activations - 1];
    ck_assert_str_eq(a->reason, "rank");
    ck_assert_msg(strstr(a->evidence, "\"guard\":{\"on\":\"validation part\",\"n\":900,"
                                      "\"predicted\":0.15") != NULL,
                  "%s", a->evidence);
    tr_registry_free(&reg);
    tr_store_close(st);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* The options on the command line. */
START_TEST(test_cli_options)
{
    char *dir = tu_tempdir();
    char *sd = tu_path(dir, "store");
    ck_assert_int_eq(tu_run(AIFX_TRAIN_EXE, dir, "full --labels triple --store '%s'", sd), 2);
    ck_assert(tu_output_has(dir, "--labels"));
    ck_assert_int_eq(tu_run(AIFX_TRAIN_EXE, dir, "full --help"), 0);
    ck_assert(tu_output_has(dir, "--labels reversal|barrier"));
    ck_assert_int_eq(tu_run(AIFX_TRAIN_EXE, dir, "run-due --min-samples 0 --store '%s'", sd), 2);
    ck_assert_int_eq(tu_run(AIFX_TRAIN_EXE, dir, "run-due --help"), 0);
    ck_assert(tu_output_has(dir, "--min-samples N"));
    ck_assert_int_eq(tu_run(AIFX_TRAIN_EXE, dir,
                            "replay --csv x --pair EURUSD --from 2024-01-01 --to 2024-01-02 "
                            "--min-samples x --store '%s'",
                            sd),
                     2);
    ck_assert(tu_output_has(dir, "--min-samples"));
    ck_assert_int_eq(tu_run(AIFX_TRAIN_EXE, dir, "replay --help"), 0);
    ck_assert(tu_output_has(dir, "--min-samples N"));
    ck_assert_int_eq(tu_run(AIFX_TRAIN_EXE, dir, "rank --help"), 0);
    ck_assert(tu_output_has(dir, "--no-guard"));
    free(sd);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trainer_guards");
    TCase *tc = tcase_create("rules");
    tcase_add_test(tc, test_guard_rule);
    tcase_add_test(tc, test_gate_with_guard);
    tcase_add_test(tc, test_min_samples_rule_and_hyper);
    tcase_add_test(tc, test_cli_options);
    suite_add_tcase(s, tc);
    TCase *tl = tcase_create("store");
    tcase_set_timeout(tl, 300);
    tcase_add_test(tl, test_one_pair_store_fine_tunes);
    tcase_add_test(tl, test_barrier_kind_travels);
    tcase_add_test(tl, test_rank_guard);
    suite_add_tcase(s, tl);
    return s;
}

AIFX_CHECK_MAIN(suite)
