/*
 * cmd_data.c - the market data commands: ingest (a CSV into the store), synth (synthetic bars),
 * dataset (the training windows of a period), bars (the stored series). docs/cli.md.
 */
#define _POSIX_C_SOURCE 200809L

#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/csv.h"
#include "base/timeutil.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/print.h"
#include "cycles/family_opts.h"
#include "data/dataset.h"
#include "data/ingest.h"
#include "market/synth.h"
#include "store/store.h"

const char tr_cli_help_ingest[] =
    "usage: aifx-train ingest --pair PAIR --timeframe TF --csv FILE [--format FMT]\n"
    "                         [--tz-offset H|EET] [--replace] [--store DIR]\n"
    "\n"
    "  --pair PAIR        e.g. EURUSD (3-15 characters A-Z 0-9)\n"
    "  --timeframe TF     15m, 1h, ... (bars must lie on this grid); default 15m\n"
    "  --csv FILE         the file to read\n"
    "  --format FMT       auto (default), generic, yfinance, mt4\n"
    "  --tz-offset H      hours east of UTC of times without a zone (MT4 server time), may be\n"
    "                     fractional (5.5); EET for the EET/EEST rule of most MT4 brokers\n"
    "  --replace          overwrite stored bars that differ (otherwise a conflict is an error)\n";

const char tr_cli_help_synth[] =
    "usage: aifx-train synth --pair PAIR --from DATE --to DATE [--seed N] [--timeframe TF]\n"
    "                        [--csv FILE] [--replace] [--store DIR]\n"
    "\n"
    "  Deterministic synthetic bars (random walk, volatility regimes, intraday seasonality,\n"
    "  weekend gaps) for from <= t < to; into the store, or into FILE with --csv.\n"
    "  --seed N           default 1\n";

const char tr_cli_help_dataset[] =
    "usage: aifx-train dataset [--pair P[,Q] ...] --from DATE --to DATE [--describe]\n"
    "                          [--timeframe TF] [--window T] [--k K] [--m M] [--h H]\n"
    "                          [--embargo BARS] [--max-gap BARS] [--store DIR]\n"
    "\n"
    "  Windows of T bars x 38 features labelled at their last bar (in [from, to)), pooled over\n"
    "  the pairs (--pair repeated or a comma list, --pairs an alias; default: every pair stored\n"
    "  at the timeframe), split 70/15/15 in time with an embargo. --describe prints counts per\n"
    "  split and class, class weights and feature ranges.\n"
    "  Defaults: T 20, k 6, m 1.0, h 16, embargo T + max(k, h), max gap 4 bars.\n";

const char tr_cli_help_bars[] = "usage: aifx-train bars [--store DIR]\n"
                                "  Lists the stored series: pair, timeframe, bars, first, last.\n";

/* ---- commands ------------------------------------------------------------------------------- */

int tr_cli_cmd_ingest(tr_cli_args *a)
{
    const char *pair = NULL, *csv = NULL, *store_dir = NULL, *tfs = NULL, *fmt = "auto";
    char tfbuf[16];
    int replace = 0;
    tr_csv_options o = tr_csv_options_default(0); /* the timeframe once it is known */
    const tr_cli_optdef opts[] = {
        OPT_FLAG("--replace", &replace),
        OPT_PAIR(&pair),
        OPT_STR("--csv", &csv),
        OPT_STR("--store", &store_dir),
        OPT_STR("--timeframe", &tfs),
        OPT_STR("--format", &fmt),
        OPT_CALL("--tz-offset", &o, tr_cli_opt_tz_offset, "(hours, a multiple of 0.25, or EET)"),
    };
    TR_CLI_SCAN(a, opts);
    if (!pair || !csv)
        return tr_cli_usage(a->cmd, "--pair and --csv are required", NULL);
    int32_t tf;
    if (!tfs) /* the family's; 15m for the default one */
        tr_timeframe_name(tr_family_timeframe(&tr_cli_fam), tfbuf, sizeof tfbuf), tfs = tfbuf;
    if (tr_timeframe_parse(tfs, &tf))
        return tr_cli_usage(a->cmd, "bad timeframe:", tfs);
    o.timeframe = tf;
    if (tr_csv_format_parse(fmt, &o.format))
        return tr_cli_usage(a->cmd, "bad format (auto, generic, yfinance, mt4):", fmt);
    tr_error e;
    tr_error_clear(&e);
    tr_store *st = NULL;
    /* the file first: a file that does not validate creates no store */
    double t0 = tr_cli_now_seconds();
    tr_csv_data data;
    tr_code rc = tr_csv_read(csv, &o, &data, &e);
    if (rc)
        return tr_cli_fail(&e);
    tr_ingest_result r;
    rc = tr_cli_store_open(store_dir, 1, &st, &e);
    if (!rc)
        rc = tr_ingest_bars(st, pair, csv, &data, tf, replace, &r, &e);
    double dt = tr_cli_now_seconds() - t0;
    tr_csv_data_free(&data);
    tr_store_close(st);
    if (rc)
        return tr_cli_fail(&e);
    tr_cli_print_ingest(pair, tf, csv, &r, dt);
    return EXIT_OK;
}

int tr_cli_cmd_synth(tr_cli_args *a)
{
    const char *pair = NULL, *csv = NULL, *store_dir = NULL, *tfs = "15m", *from = NULL;
    const char *to = NULL;
    uint64_t seed = 1;
    int replace = 0;
    const tr_cli_optdef opts[] = {
        OPT_FLAG("--replace", &replace),
        OPT_PAIR(&pair),
        OPT_STR("--csv", &csv),
        OPT_STR("--store", &store_dir),
        OPT_STR("--timeframe", &tfs),
        OPT_STR("--from", &from),
        OPT_STR("--to", &to),
        OPT_U64("--seed", &seed, 10, 0, UINT64_MAX, NULL),
    };
    TR_CLI_SCAN(a, opts);
    if (!pair || !from || !to)
        return tr_cli_usage(a->cmd, "--pair, --from and --to are required", NULL);
    tr_synth_params p = tr_synth_params_default(pair, 0, 0, 0);
    if (tr_timeframe_parse(tfs, &p.timeframe))
        return tr_cli_usage(a->cmd, "bad timeframe:", tfs);
    if (tr_cli_parse_time(from, &p.from))
        return tr_cli_usage(a->cmd, "bad --from date:", from);
    if (tr_cli_parse_time(to, &p.to))
        return tr_cli_usage(a->cmd, "bad --to date:", to);
    p.seed = seed;
    tr_error e;
    tr_error_clear(&e);
    tr_bars bars = {0};
    int dec;
    tr_code rc = tr_synth_generate(&p, &bars, &dec, &e);
    if (rc)
        return tr_cli_fail(&e);
    if (csv) {
        rc = tr_csv_write(csv, bars.v, bars.n, dec, &e);
        if (!rc)
            tr_cli_print_synth(pair, p.timeframe, bars.n, seed, csv, NULL);
    } else {
        tr_store *st;
        tr_put_stats ps;
        rc = tr_cli_store_open(store_dir, 1, &st, &e);
        if (!rc) {
            rc = tr_store_bars_put(st, pair, p.timeframe, bars.v, bars.n, replace, &ps, &e);
            if (!rc)
                tr_cli_print_synth(pair, p.timeframe, bars.n, seed, tr_store_name(st), &ps);
            tr_store_close(st);
        }
    }
    tr_bars_free(&bars);
    return rc ? tr_cli_fail(&e) : EXIT_OK;
}

/* The error of a dataset with no pair given on a store without series at tf: names the store's
 * last bar (the newest of its series, at any timeframe) and the timeframe to use instead. */
static tr_code no_series_error(tr_store *st, int32_t tf, const tr_series_info *list, size_t n,
                               tr_error *e)
{
    char tfn[16], tfl[16], last[32];
    tr_timeframe_name(tf, tfn, sizeof tfn);
    const tr_series_info *newest = NULL;
    for (size_t i = 0; i < n; i++)
        if (list[i].count && (!newest || list[i].last > newest->last))
            newest = &list[i];
    if (!newest)
        return tr_fail(e, TR_ERR_NOTFOUND,
                       "store %s has no series at %s: it holds no bars yet "
                       "(aifx-train ingest or synth)",
                       tr_store_name(st), tfn);
    return tr_fail(e, TR_ERR_NOTFOUND,
                   "store %s has no series at %s; its last bar is %s %s at %s "
                   "(try --timeframe %s)",
                   tr_store_name(st), tfn, newest->pair,
                   tr_timeframe_name(newest->timeframe, tfl, sizeof tfl),
                   tr_time_format(newest->last, last, sizeof last), tfl);
}

int tr_cli_cmd_dataset(tr_cli_args *a)
{
    tr_cli_pairs pairs = {0};
    int describe = 0;
    const char *store_dir = NULL, *tfs = "15m", *from = NULL, *to = NULL;
    tr_dataset_options o = tr_dataset_options_default();
    const tr_cli_optdef opts[] = {
        OPT_FLAG("--describe", &describe),
        OPT_PAIRS(&pairs, TR_CLI_PAIRS_MAX),
        OPT_STR("--store", &store_dir),
        OPT_STR("--timeframe", &tfs),
        OPT_STR("--from", &from),
        OPT_STR("--to", &to),
        OPT_INT("--window", &o.window, 1, 10000, NULL),
        OPT_INT("--k", &o.label.k, 1, 10000, NULL),
        OPT_INT("--h", &o.label.h, 1, 10000, NULL),
        OPT_INT("--embargo", &o.embargo, 1, 1000000, NULL),
        OPT_INT("--max-gap", &o.max_gap_bars, 0, 1000000, NULL),
        OPT_DBL("--m", &o.label.m, DBL_MIN, 1e9, NULL),
    };
    TR_CLI_SCAN(a, opts);
    if (!from || !to)
        return tr_cli_usage(a->cmd, "--from and --to are required", NULL);
    int32_t tf;
    if (tr_timeframe_parse(tfs, &tf))
        return tr_cli_usage(a->cmd, "bad timeframe:", tfs);
    if (tr_cli_parse_time(from, &o.from))
        return tr_cli_usage(a->cmd, "bad --from date:", from);
    if (tr_cli_parse_time(to, &o.to))
        return tr_cli_usage(a->cmd, "bad --to date:", to);
    tr_error e;
    tr_error_clear(&e);
    tr_store *st;
    tr_code rc = tr_cli_store_open(store_dir, 0, &st, &e);
    if (rc)
        return tr_cli_fail(&e);
    tr_series_info *list = NULL;
    size_t n_list = 0;
    if (pairs.n == 0) {
        rc = tr_store_series_list(st, &list, &n_list, &e);
        for (size_t i = 0; i < n_list && !rc; i++)
            if (list[i].timeframe == tf && pairs.n < TR_CLI_PAIRS_MAX)
                pairs.v[pairs.n++] = list[i].pair;
        if (!rc && pairs.n == 0)
            rc = no_series_error(st, tf, list, n_list, &e);
    }
    tr_dataset *ds = NULL;
    double t0 = tr_cli_now_seconds();
    if (!rc)
        rc = tr_dataset_build(st, pairs.v, pairs.n, tf, &o, &ds, &e);
    double dt = tr_cli_now_seconds() - t0;
    tr_store_close(st);
    if (rc) {
        free(list);
        return tr_cli_fail(&e);
    }
    tr_cli_print_dataset(ds, describe, dt);
    tr_dataset_free(ds);
    free(list);
    return EXIT_OK;
}

int tr_cli_cmd_bars(tr_cli_args *a)
{
    const char *store_dir = NULL;
    const tr_cli_optdef opts[] = {OPT_STR("--store", &store_dir)};
    TR_CLI_SCAN(a, opts);
    tr_error e;
    tr_error_clear(&e);
    tr_store *st;
    tr_code rc = tr_cli_store_open(store_dir, 0, &st, &e);
    if (rc)
        return tr_cli_fail(&e);
    tr_series_info *list;
    size_t n;
    rc = tr_store_series_list(st, &list, &n, &e);
    if (!rc) {
        tr_cli_print_series(list, n);
        free(list);
    }
    tr_store_close(st);
    return rc ? tr_cli_fail(&e) : EXIT_OK;
}
