/*
 * cmd_eval.c - a version's figures: evaluate (classification and backtest on a period),
 * backtest, predict (the active version's signal for a pair's newest bar). docs/cli.md.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/print.h"
#include "cycles/cycle.h"
#include "cycles/family_opts.h"
#include "data/eval.h"
#include "store/store.h"

const char tr_cli_help_evaluate[] =
    "usage: aifx-train evaluate --version V --from TIME --to TIME [--pair P[,Q] ...] [--json]\n"
    "                           [--store DIR]\n"
    "       aifx-train evaluate V --from TIME --to TIME ...   (V: shorthand of --version V)\n"
    "  Classification figures of version V on the labeled windows whose last bar is in\n"
    "  [from, to): confusion matrix, per-class precision, recall and F1, macro-F1, accuracy,\n"
    "  the buy/sell share of predictions and labels, and the backtest of its signals.\n"
    "  Only bars before --to are read, so the last max(k, h) bars before it (16 by default)\n"
    "  have no label yet and are not scored. To reproduce a full run's test figures, give\n"
    "  --to the run's as-of time (the end of its data window, `versions show V`).\n";

const char tr_cli_help_backtest[] =
    "usage: aifx-train backtest --version V --from TIME --to TIME [--pair P[,Q] ...]\n"
    "                           [--threshold P] [--sl-atr X] [--tp-atr X] [--max-hold BARS]\n"
    "                           [--spread PIPS] [--json] [--store DIR]\n"
    "       aifx-train backtest V --from TIME --to TIME ...   (V: shorthand of --version V)\n"
    "  Backtests version V's signals on [from, to) pair by pair (docs/backtest.md): trades, win\n"
    "  rate, PnL in pips and percent, Sharpe, Sortino, max drawdown, profit factor.\n"
    "  Defaults: threshold 0, stop 1.5 ATR, target 2 ATR, 16 bars, spread per pair.\n";

const char tr_cli_help_predict[] =
    "usage: aifx-train predict --pair P [--as-of TIME] [--max-age HOURS] [--no-record] [--json]\n"
    "                          [--store DIR]\n"
    "  The active version's signal for the pair's newest closed bar: signal, confidence,\n"
    "  probabilities, version and bar time, recorded as a trading signal. Needs at least 1000\n"
    "  bars of history; refuses (exit 9) when the newest bar closed more than --max-age hours\n"
    "  (default 2) before TIME (default now).\n";

static int evaluate_or_backtest(tr_cli_args *a, int backtest)
{
    const char *store_dir = NULL, *version = NULL, *from = NULL, *to = NULL;
    tr_cli_pairs pairs = {0};
    tr_cli_out oo = {0, 0, 0, 0};
    tr_bt_override ovr = tr_bt_override_none();
    const tr_cli_optdef opts[] = {
        OPT_OUTPUT(oo, store_dir),
        OPT_VERSION(&version),
        OPT_STR("--from", &from),
        OPT_STR("--to", &to),
        OPT_PAIRS(&pairs, 8),
        /* the backtest's settings: last, backtest only */
        OPT_INT("--max-hold", &ovr.max_hold, 1, 100000, NULL),
        OPT_DBL("--threshold", &ovr.threshold, 0, 1e300, NULL),
        OPT_DBL("--sl-atr", &ovr.sl_atr, 0, 1e300, NULL),
        OPT_DBL("--tp-atr", &ovr.tp_atr, 0, 1e300, NULL),
        OPT_DBL("--spread", &ovr.spread_pips, 0, 1e300, NULL),
    };
    int sc = tr_cli_scan(a, opts, sizeof opts / sizeof opts[0] - (backtest ? 0 : 5));
    if (sc)
        return sc < 0 ? EXIT_OK : sc;
    if (!version || !from || !to)
        return tr_cli_usage(a->cmd, "--version (or a VERSION), --from and --to are required", NULL);
    int64_t f, t;
    if (tr_cli_parse_time(from, &f))
        return tr_cli_usage(a->cmd, "bad --from time:", from);
    if (tr_cli_parse_time(to, &t))
        return tr_cli_usage(a->cmd, "bad --to time:", to);
    if (f >= t)
        return tr_cli_usage(a->cmd, "--from must be before --to", NULL);
    tr_error e;
    tr_error_clear(&e);
    tr_store *st;
    if (tr_cli_store_open(store_dir, 0, &st, &e))
        return tr_cli_fail(&e);
    tr_eval_report *r = calloc(1, sizeof *r);
    if (!r) {
        tr_store_close(st);
        return tr_cli_error(EXIT_NOMEM, "out of memory");
    }
    tr_code rc = tr_evaluate_version(st, version, pairs.v, pairs.n,
                                     tr_family_timeframe(&tr_cli_fam), f, t, &ovr, r, NULL, &e);
    tr_store_close(st);
    if (rc) {
        free(r);
        return tr_cli_fail(&e);
    }
    tr_cli_print_eval(r, version, from, to, f, t, backtest, oo.json);
    free(r);
    return EXIT_OK;
}

int tr_cli_cmd_evaluate(tr_cli_args *a)
{
    return evaluate_or_backtest(a, 0);
}

int tr_cli_cmd_backtest(tr_cli_args *a)
{
    return evaluate_or_backtest(a, 1);
}

int tr_cli_cmd_predict(tr_cli_args *a)
{
    const char *store_dir = NULL;
    tr_cli_out oo = {0, 0, 0, 0};
    tr_predict_opts o;
    memset(&o, 0, sizeof o);
    o.timeframe = tr_family_timeframe(&tr_cli_fam);
    o.max_age = o.timeframe > 3600 ? 2 * o.timeframe : 7200; /* a bar late by one, at most */
    o.record = 1;
    o.as_of = tr_wall_now();
    const tr_cli_optdef opts[] = {
        OPT_OUTPUT(oo, store_dir),
        OPT_CLEAR("--no-record", &o.record),
        OPT_PAIR(&o.pair),
        OPT_TIME("--as-of", &o.as_of),
        OPT_CALL("--max-age", &o.max_age, tr_cli_opt_hours, "(hours)"),
    };
    TR_CLI_SCAN(a, opts);
    if (!o.pair)
        return tr_cli_usage(a->cmd, "--pair is required", NULL);
    tr_error e;
    tr_error_clear(&e);
    tr_store *st;
    if (tr_cli_store_open(store_dir, 0, &st, &e))
        return tr_cli_fail(&e);
    tr_prediction p;
    tr_code rc = tr_predict(st, &o, &p, &e);
    tr_store_close(st);
    if (rc)
        return tr_cli_fail(&e);
    tr_cli_print_prediction(&p, o.record, oo.json);
    return EXIT_OK;
}
