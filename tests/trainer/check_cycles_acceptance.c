/*
 * check_cycles_acceptance.c - issue 6's acceptance run on ../shared/data (skipped, with a
 * message, when that folder is absent): both 15-minute files ingested into a temporary store, a
 * full retrain as of 2025-06-01 (timed and printed, not asserted), its test figures beside two
 * baselines on the same split (always hold; RSI(14) < 30 buy, > 70 sell), a check that it does
 * not collapse to hold (its buy+sell prediction share within a factor of two of the true
 * share), then the daily fine-tunes at 02:00 UTC of 2025-06-02 .. 2025-06-08, each verdict
 * recorded in the training log. The figures go to $AIFX_RESULTS_OUT (default
 * results-acceptance.md in the working directory) as Markdown for docs/results.md.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../check_main.h"
#include "base/timeutil.h"
#include "cycles/cycle.h"
#include "data/eval.h"
#include "data/ingest.h"
#include "store/store.h"
#include "testutil.h"

#ifndef AIFX_SHARED_DATA
#define AIFX_SHARED_DATA "../shared/data"
#endif

static int have_data(void)
{
    struct stat st;
    if (stat(AIFX_SHARED_DATA "/eurusd_m15.csv", &st) == 0 &&
        stat(AIFX_SHARED_DATA "/usdjpy_m15.csv", &st) == 0)
        return 1;
    printf("trainer_cycles_acceptance: SKIPPED: %s not found\n", AIFX_SHARED_DATA);
    return 0;
}

static void row(FILE *md, const char *name, const tr_cls_figs *f, const tr_bt_figs *b)
{
    char line[1024];
    snprintf(line, sizeof line,
             "| %s | %lld | %.4f | %.4f | %.3f / %.3f / %.3f | %.3f / %.3f | %.3f / %.3f | %.2f%% "
             "/ %.2f%% "
             "| %lld | %.3f | %.1f | %.3f | %.2f%% |",
             name, (long long)f->n, f->accuracy, f->macro_f1, f->f1[0], f->f1[1], f->f1[2],
             f->precision[1], f->precision[2], f->recall[1], f->recall[2], 100 * f->buy_share,
             100 * f->sell_share, (long long)b->trades, b->win_rate, b->total_pips, b->sharpe,
             100 * b->max_drawdown);
    printf("trainer_cycles_acceptance: %s\n", line);
    fprintf(md, "%s\n", line);
}

static void confusion(FILE *md, const char *name, const tr_cls_figs *f)
{
    fprintf(md, "\n%s, confusion matrix (rows true, columns predicted: hold, buy, sell):\n\n",
            name);
    fprintf(md, "| true \\ predicted | hold | buy | sell | recall |\n|---|---|---|---|---|\n");
    static const char *cn[3] = {"hold", "buy", "sell"};
    for (int c = 0; c < 3; c++)
        fprintf(md, "| %s | %lld | %lld | %lld | %.3f |\n", cn[c], (long long)f->confusion[c][0],
                (long long)f->confusion[c][1], (long long)f->confusion[c][2], f->recall[c]);
}

START_TEST(test_cycles_on_real_data)
{
    if (!have_data())
        return;
    static const char *pairs[2] = {"EURUSD", "USDJPY"};
    static const char *files[2] = {AIFX_SHARED_DATA "/eurusd_m15.csv",
                                   AIFX_SHARED_DATA "/usdjpy_m15.csv"};
    char *dir = tu_tempdir();
    tr_store *st;
    tr_error e;
    ck_assert_int_eq(tr_store_open(dir, &(tr_store_options){.create = 1}, &st, &e), TR_OK);
    tr_csv_options co = tr_csv_options_default(900);
    for (int p = 0; p < 2; p++) {
        tr_ingest_result ir;
        ck_assert_msg(tr_ingest_csv(st, pairs[p], files[p], &co, 0, &ir, &e) == TR_OK, "%s", e.msg);
    }
    tr_cycle_result *r = calloc(1, sizeof *r);
    tr_full_opts o = tr_full_opts_default();
    o.decision = TR_DECISION_ARGMAX; /* mechanics on an untrained net: no edge to find */
    o.as_of = T("2025-06-01");
    double t0 = tu_now();
    ck_assert_msg(tr_cycle_full(st, &o, r, &e) == TR_OK, "%s", e.msg);
    double dt = tu_now() - t0;
    const tr_version *v = &r->rec;
    printf("trainer_cycles_acceptance: full as of 2025-06-01: %s in %.1f s (training %.1f s), "
           "%d epochs (best %d), windows %lld/%lld/%lld\n",
           v->version, dt, v->seconds, v->epochs, v->best_epoch, (long long)v->n_samples[0],
           (long long)v->n_samples[1], (long long)v->n_samples[2]);
    ck_assert_str_eq(v->version, "v1.0");
    ck_assert(r->activated);

    /* the baselines on the same test split */
    tr_dataset_options dopt = tr_dataset_options_default();
    dopt.from = v->data_from;
    dopt.to = v->data_to;
    tr_dataset *ds;
    ck_assert_int_eq(tr_dataset_build(st, pairs, 2, 900, &dopt, &ds, &e), TR_OK);
    size_t n = ds->n[TR_SPLIT_TEST];
    ck_assert_int_eq((long long)n, v->n_samples[2]);
    int32_t *y = tr_split_labels(ds, TR_SPLIT_TEST);
    int8_t *hold = calloc(n, 1), *rsi = malloc(n);
    tr_baseline_rsi(ds, TR_SPLIT_TEST, rsi);
    tr_cls_figs fh, fr;
    tr_bt_figs bh, br;
    tr_cls_figs_compute(n, y, hold, NULL, NULL, &fh);
    tr_cls_figs_compute(n, y, rsi, NULL, NULL, &fr);
    ck_assert_int_eq(tr_backtest_split(ds, TR_SPLIT_TEST, hold, NULL, NULL, &bh, NULL, &e), TR_OK);
    ck_assert_int_eq(tr_backtest_split(ds, TR_SPLIT_TEST, rsi, NULL, NULL, &br, NULL, &e), TR_OK);
    char ts[2][32];
    const char *out = getenv("AIFX_RESULTS_OUT");
    FILE *md = fopen(out && out[0] ? out : "results-acceptance.md", "w");
    ck_assert_ptr_nonnull(md);
    fprintf(md,
            "Full retrain `%s` as of 2025-06-01 (data %s .. %s; windows train %lld, val %lld, "
            "test %lld), %d epochs (best %d), %.1f s in all (training %.1f s).\n\n",
            v->version, tr_time_format(v->data_from, ts[0], sizeof ts[0]),
            tr_time_format(v->data_to, ts[1], sizeof ts[1]), (long long)v->n_samples[0],
            (long long)v->n_samples[1], (long long)v->n_samples[2], v->epochs, v->best_epoch, dt,
            v->seconds);
    fprintf(md,
            "| model | test windows | accuracy | macro-F1 | F1 hold / buy / sell | precision "
            "buy / sell | recall buy / sell | predicted buy / sell | trades | win rate | pips | "
            "Sharpe | max DD |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    row(md, v->version, &v->figs[2], &v->bt);
    row(md, "always hold", &fh, &bh);
    row(md, "RSI(14) 30/70 rule", &fr, &br);
    fprintf(md, "\nTrue shares on the test part: buy %.2f%%, sell %.2f%%.\n",
            100 * v->figs[2].true_buy_share, 100 * v->figs[2].true_sell_share);
    confusion(md, v->version, &v->figs[2]);

    /* no collapse to hold */
    double pred_share = v->figs[2].buy_share + v->figs[2].sell_share;
    double true_share = v->figs[2].true_buy_share + v->figs[2].true_sell_share;
    printf("trainer_cycles_acceptance: buy+sell share predicted %.4f, true %.4f (ratio %.2f)\n",
           pred_share, true_share, pred_share / true_share);
    ck_assert_msg(pred_share >= 0.5 * true_share && pred_share <= 2.0 * true_share,
                  "collapse: predicted buy+sell share %.4f vs true %.4f", pred_share, true_share);

    /* the daily fine-tunes */
    fprintf(md, "\nDaily fine-tunes at 02:00 UTC (gate: macro-F1 on the 7 days before the "
                "fine-tune data; a tie blesses):\n\n| as of | status | version | verdict | "
                "candidate | active | windows | note |\n|---|---|---|---|---|---|---|---|\n");
    static const char *days[7] = {"2025-06-02T02:00", "2025-06-03T02:00", "2025-06-04T02:00",
                                  "2025-06-05T02:00", "2025-06-06T02:00", "2025-06-07T02:00",
                                  "2025-06-08T02:00"};
    for (int d = 0; d < 7; d++) {
        tr_incr_opts io = tr_incr_opts_default();
        io.as_of = T(days[d]);
        t0 = tu_now();
        ck_assert_msg(tr_cycle_incremental(st, &io, r, &e) == TR_OK, "%s: %s", days[d], e.msg);
        printf("trainer_cycles_acceptance: incremental %s: %s %s %s candidate %.4f active %.4f "
               "(%.1f s) %s\n",
               days[d], tr_log_status_name(r->status), r->version[0] ? r->version : "-", r->verdict,
               r->candidate_value, r->active_value, tu_now() - t0, r->reason);
        fprintf(md, "| %s | %s | %s | %s | %.4f | %.4f | %lld | %s |\n", days[d],
                tr_log_status_name(r->status), r->version[0] ? r->version : "-",
                r->verdict[0] ? r->verdict : "-", r->candidate_value, r->active_value,
                (long long)r->rec.n_samples[0], r->reason);
    }
    tr_registry reg;
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    ck_assert_uint_eq(reg.n_log, 8);
    for (size_t i = 1; i < reg.n_log; i++) {
        const tr_log_row *lr = &reg.log[i];
        ck_assert(lr->status == TR_LOG_COMPLETED || lr->status == TR_LOG_SKIPPED);
        if (lr->status == TR_LOG_COMPLETED)
            ck_assert(strcmp(lr->verdict, "blessed") == 0 ||
                      strcmp(lr->verdict, "not_blessed") == 0);
        else
            ck_assert(lr->reason[0] != '\0');
    }
    fprintf(md, "\nActive after the week: `%s`; activations: %zu.\n",
            tr_registry_active(&reg)->version, reg.n_activations);
    fclose(md);
    tr_registry_free(&reg);
    free(y);
    free(hold);
    free(rsi);
    tr_dataset_free(ds);
    free(r);
    tr_store_close(st);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trainer_cycles_acceptance");
    TCase *tc = tcase_create("shared_data");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_cycles_on_real_data);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(suite)
