/*
 * cmd_train.c - the training cycles: full (the weekly retrain) and incremental (the daily
 * fine-tune with its deploy gate). docs/cli.md, docs/registry.md.
 */
#define _POSIX_C_SOURCE 200809L

#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/timeutil.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/print.h"
#include "cycles/cycle.h"
#include "cycles/family_opts.h"
#include "store/store.h"

const char tr_cli_help_full[] =
    "usage: aifx-train full [--as-of TIME] [--resume] [--version-base vM.N] [--quiet] [--json]\n"
    "                       [--months N] [--layers N] [--hidden N] [--epochs N] [--patience N]\n"
    "                       [--batch N] [--lr X] [--monitor loss|macro_f1] [--seed N]\n"
    "                       [--class-weight-power X] [--ab [--ab-days N] [--ab-split X]\n"
    "                       [--ab-min-trades N]] [--labels reversal|barrier]\n"
    "                       [--decision cost|argmax] [--rule-min-trades N] [--store DIR]\n"
    "\n"
    "  The weekly full retrain: the last 3 months of 15-minute bars before TIME (default now) of\n"
    "  every stored pair, split 70/15/15 with an embargo, class-weighted, trained from scratch\n"
    "  (at most 100 epochs, early stopping on the validation loss with patience 8, best weights\n"
    "  restored), evaluated and backtested on the test part, registered as the next version\n"
    "  (v1.0, v1.1, ...). It becomes active only when no version is active.\n"
    "  --resume continues an interrupted run from its last epoch checkpoint.\n"
    "  Defaults: 1 layer, 64 hidden units, batch 64, lr 1e-3, dropout 0.2, seed 42,\n"
    "  class weights (n / (3 n_c))^0.5 (--class-weight-power 1: fully balanced).\n"
    "  --ab registers the new version together with an A/B test against the active one (7\n"
    "  days, half of the bars, every pair; see `aifx-train ab --help`), after concluding a\n"
    "  running test whose planned end has come.\n"
    "  --labels: barrier (default: buy where a long opened at the next open would reach its\n"
    "  target of 2 ATR before its stop of 1.5 ATR within 16 bars net of the pair's spread, the\n"
    "  backtest's own trade rule; sell likewise; hold otherwise) or reversal (bottoms buy, tops\n"
    "  sell, docs/features.md). Recorded with the version; its daily fine-tunes inherit it.\n"
    "  The defaults (barrier, cost) earned the least negative net pips in the walk-forward of\n"
    "  docs/results.md; no configuration earned money there.\n"
    "  --decision: how the version turns probabilities into signals (docs/backtest.md). Its\n"
    "  probabilities are calibrated by one temperature fitted on the validation part; cost\n"
    "  (default) trades a buy or sell only when its calibrated probability reaches the\n"
    "  threshold whose validation backtest earned the most pips net of the spread with at\n"
    "  least --rule-min-trades trades (default 30); when none earned, the version is\n"
    "  registered with the verdict no_edge and its signals hold. argmax trades the most\n"
    "  probable class. Recorded with the version; its daily fine-tunes inherit it.\n";

const char tr_cli_help_incremental[] =
    "usage: aifx-train incremental [--as-of TIME] [--force] [--min-samples N]\n"
    "                              [--gate-metric macro_f1|accuracy|loss] [--quiet] [--json]\n"
    "                              [--store DIR]\n"
    "\n"
    "  The daily fine-tune of the active version on the labeled windows of the last 24 hours\n"
    "  (skipped, and logged, under --min-samples windows, default 40 per stored pair: half of\n"
    "  a full day of one pair's 15-minute windows): lr 1e-4, 10 epochs, batch 32, labelled as\n"
    "  the active version was (reversal or barrier), saved as <full version>-daily-YYYYMMDD.\n"
    "  The deploy gate scores it and the active version on the 7 days before the fine-tune data\n"
    "  (with an embargo) and activates it when it is at least as good on the gate metric\n"
    "  (default macro_f1; a tie blesses the candidate) and its predicted buy+sell share there is\n"
    "  within [0.5x, 2x] of the labels' (else verdict \"collapsed\" or \"overtrades\"). --force\n"
    "  activates it whatever the gate says (verdict \"forced\").\n";

/* Runs the weekly (full set) or daily (incr set) cycle on the store: *out receives the result
 * (the caller frees it) and 0 is returned, or the exit code of the failure. */
static int run_cycle(const char *store_dir, tr_cli_out *oo, const tr_full_opts *full,
                     const tr_incr_opts *incr, tr_cycle_result **out)
{
    tr_error e;
    tr_error_clear(&e);
    tr_store *st;
    *out = NULL;
    if (tr_cli_store_open(store_dir, 0, &st, &e))
        return tr_cli_fail(&e);
    tr_cycle_result *r = calloc(1, sizeof *r);
    if (!r) {
        tr_store_close(st);
        return EXIT_NOMEM;
    }
    tr_code rc = full ? tr_cycle_full(st, full, r, &e) : tr_cycle_incremental(st, incr, r, &e);
    tr_cli_print_end_bar(oo);
    tr_store_close(st);
    if (rc) {
        free(r);
        return tr_cli_fail(&e);
    }
    *out = r;
    return EXIT_OK;
}

int tr_cli_cmd_full(tr_cli_args *a)
{
    const char *store_dir = NULL;
    tr_cli_out oo = {0, 0, isatty(2), 0};
    tr_full_opts o = tr_full_opts_default();
    tr_family_full_opts(&tr_cli_fam, &o);
    const tr_cli_optdef opts[] = {
        OPT_OUTPUT(oo, store_dir),
        OPT_AB_PLAN(o),
        OPT_FLAG("--resume", &o.resume),
        OPT_TIME("--as-of", &o.as_of),
        OPT_STR("--version-base", &o.version_base),
        OPT_INT("--months", &o.months, 1, 120, NULL),
        OPT_INT("--layers", &o.n_layers, 1, 4, "(1..4)"),
        OPT_INT("--hidden", &o.n_hidden, 1, 1024, NULL),
        OPT_INT("--epochs", &o.max_epochs, 1, 100, "(1..100)"),
        OPT_INT("--patience", &o.patience, 1, 100, NULL),
        OPT_INT("--batch", &o.batch, 1, 4096, NULL),
        OPT_TRAIN_SEED("--seed", &o.seed),
        OPT_FLT("--lr", &o.lr, FLT_MIN, 1, "(0 < lr <= 1)"),
        OPT_DBL("--class-weight-power", &o.class_weight_power, 0, 2, "(0..2)"),
        OPT_CALL("--monitor", &o.monitor, tr_cli_opt_monitor, "(loss, macro_f1)"),
        OPT_MODEL_RULE(o),
    };
    TR_CLI_SCAN(a, opts);
    o.on_event = tr_cli_print_event;
    o.user = &oo;
    tr_cycle_result *r;
    int ex = run_cycle(store_dir, &oo, &o, NULL, &r);
    if (ex)
        return ex;
    tr_cli_print_full(r, oo.json);
    free(r);
    return EXIT_OK;
}

int tr_cli_cmd_incremental(tr_cli_args *a)
{
    const char *store_dir = NULL;
    tr_cli_out oo = {0, 0, isatty(2), 0};
    tr_incr_opts o = tr_incr_opts_default();
    tr_family_incr_opts(&tr_cli_fam, &o);
    o.as_of = tr_wall_now();
    const tr_cli_optdef opts[] = {
        OPT_OUTPUT(oo, store_dir),
        OPT_FLAG("--force", &o.force),
        OPT_TIME("--as-of", &o.as_of),
        OPT_INT("--min-samples", &o.min_samples, 1, 1000000, NULL),
        OPT_CALL("--gate-metric", &o.gate_metric, tr_cli_opt_gate_metric,
                 "(macro_f1, accuracy, loss)"),
    };
    TR_CLI_SCAN(a, opts);
    o.on_event = tr_cli_print_event;
    o.user = &oo;
    tr_cycle_result *r;
    int ex = run_cycle(store_dir, &oo, NULL, &o, &r);
    if (ex)
        return ex;
    tr_cli_print_incremental(r, o.gate_metric, oo.json);
    free(r);
    return EXIT_OK;
}
