/*
 * cmd_walkforward.c - walkforward: the weekly retrain replayed over a range, each model scored
 * on the step after it against always-hold, RSI and random entry. docs/cli.md,
 * docs/walkforward.md.
 */
#define _POSIX_C_SOURCE 200809L

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/print.h"
#include "cycles/family_opts.h"
#include "cycles/walkforward.h"
#include "store/store.h"

const char tr_cli_help_walkforward[] =
    "usage: aifx-train walkforward --from D --to D [--step 1w|1m|Nd] [--pair P[,Q] ...]\n"
    "                              [--months 3] [--layers N] [--hidden N] [--epochs N]\n"
    "                              [--patience N] [--batch N] [--lr X] [--monitor loss|macro_f1]\n"
    "                              [--class-weight-power X] [--seed N]\n"
    "                              [--labels reversal|barrier] [--decision cost|argmax]\n"
    "                              [--rule-min-trades N] [--draws 1000] [--work DIR]\n"
    "                              [--quiet] [--json] [--store DIR]\n"
    "\n"
    "  Walk-forward evidence: at each step start t (--from, then every --step, default 1w, while\n"
    "  before --to) a model is trained exactly as the weekly full retrain would train it as of\n"
    "  t (the --months before t, with full's model and label options), then scored on the\n"
    "  windows whose last bar lies in [t, next step): macro-F1, log loss (calibrated), trades,\n"
    "  win rate, net pips after the spread, Sharpe, maximum drawdown, for the plain argmax and\n"
    "  for the version's decision rule; beside it always-hold, the RSI(14) 30/70 rule and\n"
    "  random entry with as many trades (--draws draws, seeded by --seed), with the permutation\n"
    "  p-value of the model's net pips against it, per step and over the whole range.\n"
    "  Pairs: default every stored pair. The store is only read: the bars are copied into a work\n"
    "  store in --work DIR (default <models>/runs/walkforward; required for PostgreSQL), one\n"
    "  folder per set of arguments. Killed, it continues when started again with the same\n"
    "  arguments. Writes <store>/reports/walkforward-FROM-TO-KEY.md and .png.\n"
    "  docs/walkforward.md.\n";

/* --step Nd|Nw|Nm */
static int opt_step(const char *v, void *dst)
{
    return tr_wf_step_parse(v, dst);
}

static void print_text(const tr_wf_result *r)
{
    printf("walk-forward %s: %zu steps of %s, %d draws (%zu steps from the work directory)\n",
           r->key, r->n_steps, r->step_text, r->n_draws, r->n_resumed);
    printf("%-24s %7s %9s %10s %8s %9s %8s\n", "whole range", "trades", "win rate", "net pips",
           "Sharpe", "max DD", "macro-F1");
    const tr_wf_figs *f[4] = {&r->rule, &r->argmax, &r->hold, &r->rsi};
    const double f1[4] = {r->f1_rule, r->f1_argmax, r->f1_hold, r->f1_rsi};
    static const char *const names[4] = {"model, decision rule", "model, argmax", "always hold",
                                         "RSI(14) 30/70"};
    for (int i = 0; i < 4; i++)
        printf("%-24s %7lld %8.1f%% %10.1f %8.2f %8.2f%% %8.3f\n", names[i],
               (long long)f[i]->trades, 100 * f[i]->win_rate, f[i]->net_pips, f[i]->sharpe,
               100 * f[i]->max_drawdown, f1[i]);
    printf("%-24s %7.1f %9s %10.1f  (5%%: %.1f, 95%%: %.1f)\n", "random entry, median",
           r->random.mean_trades, "", r->random.median, r->random.p05, r->random.p95);
    if (isfinite(r->random.p_value))
        printf("p-value of the model's net pips against random entry: %.4f (%lld of %d draws at "
               "or above it)\n",
               r->random.p_value, (long long)r->random.n_ge, r->n_draws);
    else
        printf("no p-value: the decision rule made no trade\n");
    printf("report: %s\n", r->report_path);
    if (r->picture_note[0])
        printf("no picture: %s\n", r->picture_note);
    printf("work directory: %s\n", r->work_dir);
    printf("%.1f s\n", r->seconds);
}

int tr_cli_cmd_walkforward(tr_cli_args *a)
{
    const char *store_dir = NULL;
    tr_cli_out oo = {0, 0, isatty(2), 0};
    tr_cli_pairs pairs = {0};
    tr_wf_opts o = tr_wf_opts_default();
    o.from = o.to = INT64_MIN;
    tr_full_opts *f = &o.full;
    tr_family_full_opts(&tr_cli_fam, f);
    const tr_cli_optdef opts[] = {
        OPT_OUTPUT(oo, store_dir),
        OPT_TIME("--from", &o.from),
        OPT_TIME("--to", &o.to),
        OPT_CALL("--step", &o, opt_step, "(Nd, Nw or Nm with N >= 1: 1w, 1m, 10d)"),
        OPT_PAIRS(&pairs, TR_WF_MAX_PAIRS),
        OPT_INT("--months", &f->months, 1, 120, NULL),
        OPT_INT("--layers", &f->n_layers, 1, 4, "(1..4)"),
        OPT_INT("--hidden", &f->n_hidden, 1, 1024, NULL),
        OPT_INT("--epochs", &f->max_epochs, 1, 100, "(1..100)"),
        OPT_INT("--patience", &f->patience, 1, 100, NULL),
        OPT_INT("--batch", &f->batch, 1, 4096, NULL),
        OPT_TRAIN_SEED("--seed", &f->seed),
        OPT_FLT("--lr", &f->lr, FLT_MIN, 1, "(0 < lr <= 1)"),
        OPT_DBL("--class-weight-power", &f->class_weight_power, 0, 2, "(0..2)"),
        OPT_CALL("--monitor", &f->monitor, tr_cli_opt_monitor, "(loss, macro_f1)"),
        OPT_MODEL_RULE(*f),
        OPT_INT("--draws", &o.draws, 1, 1000000, NULL),
        OPT_STR("--work", &o.work),
    };
    TR_CLI_SCAN(a, opts);
    if (o.from == INT64_MIN)
        return tr_cli_usage(a->cmd, "missing --from", NULL);
    if (o.to == INT64_MIN)
        return tr_cli_usage(a->cmd, "missing --to", NULL);
    if (o.to <= o.from)
        return tr_cli_usage(a->cmd, "--to must be after --from", NULL);
    o.pairs = pairs.v;
    o.n_pairs = pairs.n;
    if (!oo.json) { /* --json: one object on standard output, no progress lines */
        o.on_event = tr_cli_print_event;
        o.user = &oo;
    }
    tr_error e;
    tr_error_clear(&e);
    tr_store *st;
    if (tr_cli_store_open(store_dir, 0, &st, &e))
        return tr_cli_fail(&e);
    tr_wf_result *r = calloc(1, sizeof *r);
    tr_code rc = r ? tr_walkforward_run(st, &o, r, &e) : tr_fail(&e, TR_ERR_NOMEM, "out of memory");
    tr_cli_print_end_bar(&oo);
    tr_store_close(st);
    if (rc) {
        tr_wf_result_free(r);
        free(r);
        return tr_cli_fail(&e);
    }
    if (oo.json) {
        char *j = tr_wf_json(r);
        printf("%s\n", j ? j : "null");
        free(j);
    } else {
        print_text(r);
    }
    tr_wf_result_free(r);
    free(r);
    return EXIT_OK;
}
