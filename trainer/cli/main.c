/*
 * main.c - aifx-train's command line: parses arguments, calls the modules, prints, exits.
 * The only file that prints to the terminal or exits; exit codes are documented in docs/cli.md.
 */
#define _POSIX_C_SOURCE 200809L

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cmd_ab.h"
#include "cli/cmd_db.h"
#include "base/csv.h"
#include "cycles/cycle.h"
#include "data/dataset.h"
#include "data/ingest.h"
#include "cycles/rank.h"
#include "cycles/replay.h"
#include "cycles/schedule.h"
#include "store/store.h"
#include "base/strbuf.h"
#include "market/synth.h"
#include "base/timeutil.h"

#define AIFX_TRAIN_VERSION "0.1.0"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- option scanning ------------------------------------------------------------------------ */

typedef tr_cli_args args;

static int parse_time_arg(const char *s, int64_t *t)
{
    return tr_cli_parse_time(s, t);
}

static int parse_hhmm(const char *s, int *minute)
{
    int h, m, used = 0;
    if (sscanf(s, "%2d:%2d%n", &h, &m, &used) != 2 || s[used] || h < 0 || h > 23 || m < 0 || m > 59)
        return -1;
    *minute = h * 60 + m;
    return 0;
}

/* The options every registry command takes, and those of the weekly retrain's A/B test. */
#define COMMON_OPTS(oo, store)                                                                     \
    OPT_FLAG("--json", &(oo).json), OPT_FLAG("--quiet", &(oo).quiet),                             \
        OPT_FLAG("-q", &(oo).quiet), OPT_STR("--store", &(store))
#define AB_OPTS(fo)                                                                                \
    OPT_FLAG("--ab", &(fo).ab), OPT_INT("--ab-days", &(fo).ab_days, 1, 365, NULL),                \
        OPT_DBL("--ab-split", &(fo).ab_split, 1e-9, 1 - 1e-9, "(a share in (0, 1))"),            \
        OPT_I64("--ab-min-trades", &(fo).ab_min_trades, 0, 100000000, NULL)

/* Scans a command's options from argv[2]; returns from the command on --help (exit 0) or a
 * usage error. */
#define SCAN_OPTS(a, help, opts, n)                                                                \
    do {                                                                                           \
        (a)->i = 2;                                                                                \
        int sc_ = tr_cli_scan((a), (help), (opts), (n));                                           \
        if (sc_)                                                                                   \
            return sc_ < 0 ? EXIT_OK : sc_;                                                        \
    } while (0)

/* ---- option values (tr_cli_optdef TR_OPT_CALL and TR_OPT_LIST checks) ------------------------ */

static int parse_seed(const char *v, void *dst)
{
    long n;
    if (tr_cli_parse_int(v, 0, 2147483647L, &n))
        return -1;
    *(uint64_t *)dst = (uint64_t)n;
    return 0;
}

static int parse_monitor(const char *v, void *dst)
{
    int *m = dst;
    if (strcmp(v, "loss") == 0)
        *m = AIFX_MONITOR_VAL_LOSS;
    else if (strcmp(v, "macro_f1") == 0)
        *m = AIFX_MONITOR_VAL_MACRO_F1;
    else
        return -1;
    return 0;
}

static int parse_gate_metric(const char *v, void *dst)
{
    return tr_gate_metric_parse(v, dst);
}

static int parse_score(const char *v, void *dst)
{
    return tr_score_method_parse(v, dst);
}

static int check_pair(const char *v, void *dst)
{
    (void)dst;
    return tr_pair_valid(v) ? 0 : -1;
}

/* Hours, as seconds. */
static int parse_hours(const char *v, void *dst)
{
    double h;
    if (tr_cli_parse_double(v, DBL_MIN, 1e6, &h))
        return -1;
    *(int64_t *)dst = (int64_t)(h * 3600);
    return 0;
}

/* W,S,P,D: the ranking's weights. */
static int parse_weights(const char *v, void *dst)
{
    tr_rank_weights *w = dst;
    double x[4];
    int used = 0;
    if (sscanf(v, "%lf,%lf,%lf,%lf%n", &x[0], &x[1], &x[2], &x[3], &used) != 4 ||
        v[used] != '\0' || !isfinite(x[0] + x[1] + x[2] + x[3]))
        return -1;
    w->win_rate = x[0];
    w->sharpe = x[1];
    w->avg_pnl = x[2];
    w->drawdown = x[3];
    return 0;
}

static int parse_hhmm_opt(const char *v, void *dst)
{
    return parse_hhmm(v, dst);
}

/* DAY,HH:MM with DAY mon..sun: the weekly slot. */
static int parse_weekly(const char *v, void *dst)
{
    static const char *const days[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    tr_schedule *sc = dst;
    for (int d = 0; d < 7; d++)
        if (strncmp(v, days[d], 3) == 0 && v[3] == ',' &&
            parse_hhmm(v + 4, &sc->minute[TR_SLOT_WEEKLY]) == 0) {
            sc->weekday = d;
            return 0;
        }
    return -1;
}

/* D,HH:MM with D 1..28: the monthly slot. */
static int parse_monthly(const char *v, void *dst)
{
    tr_schedule *sc = dst;
    int d = 0, used = 0;
    if (sscanf(v, "%2d,%n", &d, &used) != 1 || used == 0 || d < 1 || d > 28 ||
        parse_hhmm(v + used, &sc->minute[TR_SLOT_MONTHLY]))
        return -1;
    sc->monthday = d;
    return 0;
}

/* A slot's cycle name: that slot is disabled. */
static int parse_disable(const char *v, void *dst)
{
    tr_schedule *sc = dst;
    for (int j = 0; j < TR_N_SLOTS; j++)
        if (strcmp(v, tr_slot_cycle(j)) == 0) {
            sc->enabled[j] = 0;
            return 0;
        }
    return -1;
}

/* ---- help texts ----------------------------------------------------------------------------- */

static const char *help_main =
    "usage: aifx-train <command> [options]\n"
    "\n"
    "commands:\n"
    "  ingest    load a CSV of bars into the store (all or nothing)\n"
    "  synth     generate deterministic synthetic bars into the store or a CSV\n"
    "  dataset   build the training windows for a period and describe them\n"
    "  bars      list the series in the store\n"
    "  full      the weekly full retrain: train, evaluate, backtest, register a version\n"
    "  incremental  the daily fine-tune of the active version, with the deploy gate\n"
    "  activate  make a version active;  rollback: back to the previous active version\n"
    "  versions  list the registered versions (versions show V: one in full)\n"
    "  log       the training log (--activations: the activation history)\n"
    "  evaluate  classification figures and backtest of a version on a period\n"
    "  backtest  backtest a version's signals on a period\n"
    "  predict   the active version's signal for a pair's newest bar (recorded)\n"
    "  rank      the monthly ranking: score versions, activate the best, retire old dailies\n"
    "  run-due   run the cycles that are due (daily, weekly, monthly), for cron or a timer\n"
    "  replay    simulate months of the loop on history: predictions, outcomes, run-due\n"
    "  ab        A/B tests between versions: start, status, stop, report\n"
    "  db migrate  create or upgrade a PostgreSQL store's schema\n"
    "  listen    print a PostgreSQL store's events as they arrive\n"
    "\n"
    "common options:\n"
    "  --store DIR   the store (default $AIFX_STORE, else ./aifx-data); or a PostgreSQL\n"
    "                database: postgresql://user@host/db or \"host=... dbname=...\"\n"
    "  --models-dir DIR  checkpoints (default $AIFX_MODELS_DIR, else <store>/models, for\n"
    "                PostgreSQL ./aifx-models); reports go beside it on PostgreSQL\n"
    "  --help        help for a command;  aifx-train --version\n"
    "\n"
    "exit codes: 0 ok, 1 internal error, 2 usage, 3 bad input data, 4 conflict with stored\n"
    "bars or versions, 5 store or file error, 6 not found, 7 out of memory, 8 unsupported,\n"
    "9 stale data (docs/cli.md)\n";

static const char *help_ingest =
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

static const char *help_synth =
    "usage: aifx-train synth --pair PAIR --from DATE --to DATE [--seed N] [--timeframe TF]\n"
    "                        [--csv FILE] [--replace] [--store DIR]\n"
    "\n"
    "  Deterministic synthetic bars (random walk, volatility regimes, intraday seasonality,\n"
    "  weekend gaps) for from <= t < to; into the store, or into FILE with --csv.\n"
    "  --seed N           default 1\n";

static const char *help_dataset =
    "usage: aifx-train dataset [--pair PAIR ...] --from DATE --to DATE [--describe]\n"
    "                          [--timeframe TF] [--window T] [--k K] [--m M] [--h H]\n"
    "                          [--embargo BARS] [--max-gap BARS] [--store DIR]\n"
    "\n"
    "  Windows of T bars x 38 features labelled at their last bar (in [from, to)), pooled over\n"
    "  the pairs (default: every pair stored at the timeframe), split 70/15/15 in time with an\n"
    "  embargo. --describe prints counts per split and class, class weights and feature ranges.\n"
    "  Defaults: T 20, k 6, m 1.0, h 16, embargo T + max(k, h), max gap 4 bars.\n";

static const char *help_bars = "usage: aifx-train bars [--store DIR]\n"
                               "  Lists the stored series: pair, timeframe, bars, first, last.\n";

/* ---- commands ------------------------------------------------------------------------------- */

static int cmd_ingest(args *a)
{
    const char *pair = NULL, *csv = NULL, *store_dir = NULL, *tfs = "15m", *fmt = "auto";
    const char *tz = NULL;
    int replace = 0;
    const tr_cli_optdef opts[] = {
        OPT_FLAG("--replace", &replace),   OPT_STR("--pair", &pair),
        OPT_STR("--csv", &csv),            OPT_STR("--store", &store_dir),
        OPT_STR("--timeframe", &tfs),      OPT_STR("--format", &fmt),
        OPT_STR("--tz-offset", &tz),
    };
    SCAN_OPTS(a, help_ingest, opts, sizeof opts / sizeof opts[0]);
    if (!pair || !csv)
        return tr_cli_usage(a->cmd, "--pair and --csv are required", NULL);
    if (!tr_pair_valid(pair))
        return tr_cli_usage(a->cmd, "bad pair name (3-15 characters A-Z 0-9):", pair);
    int32_t tf;
    if (tr_timeframe_parse(tfs, &tf))
        return tr_cli_usage(a->cmd, "bad timeframe:", tfs);
    tr_csv_options o = tr_csv_options_default(tf);
    if (tr_csv_format_parse(fmt, &o.format))
        return tr_cli_usage(a->cmd, "bad format (auto, generic, yfinance, mt4):", fmt);
    if (tz) {
        if (strcmp(tz, "EET") == 0 || strcmp(tz, "eet") == 0) {
            o.tz_mode = TR_TZ_EET;
        } else {
            char *end;
            double hours = strtod(tz, &end);
            if (end == tz || *end || !(fabs(hours) <= 14) ||
                fabs(hours * 4 - round(hours * 4)) > 1e-9)
                return tr_cli_usage(a->cmd, "bad --tz-offset (hours, a multiple of 0.25, or EET):",
                                   tz);
            o.tz_offset = (int32_t)lround(hours * 3600);
        }
    }
    tr_error e;
    tr_error_clear(&e);
    tr_store *st;
    tr_code rc = tr_cli_store_open(store_dir, 1, &st, &e);
    if (rc)
        return tr_cli_fail(&e);
    tr_ingest_result r;
    double t0 = now_seconds();
    rc = tr_ingest_csv(st, pair, csv, &o, replace, &r, &e);
    double dt = now_seconds() - t0;
    tr_store_close(st);
    if (rc)
        return tr_cli_fail(&e);
    char f0[32], f1[32], tfn[16];
    printf("%s %s: %zu bars from %s (%s, %s to %s) in %.3f s: %zu added, %zu unchanged, "
           "%zu replaced\n",
           pair, tr_timeframe_name(tf, tfn, sizeof tfn), r.n_read, csv,
           tr_csv_format_name(r.format), tr_time_format(r.first, f0, sizeof f0),
           tr_time_format(r.last, f1, sizeof f1), dt, r.put.n_added, r.put.n_unchanged,
           r.put.n_replaced);
    return EXIT_OK;
}

static int cmd_synth(args *a)
{
    const char *pair = NULL, *csv = NULL, *store_dir = NULL, *tfs = "15m", *from = NULL;
    const char *to = NULL, *seed_s = "1";
    int replace = 0;
    const tr_cli_optdef opts[] = {
        OPT_FLAG("--replace", &replace), OPT_STR("--pair", &pair), OPT_STR("--csv", &csv),
        OPT_STR("--store", &store_dir),  OPT_STR("--timeframe", &tfs), OPT_STR("--from", &from),
        OPT_STR("--to", &to),            OPT_STR("--seed", &seed_s),
    };
    SCAN_OPTS(a, help_synth, opts, sizeof opts / sizeof opts[0]);
    if (!pair || !from || !to)
        return tr_cli_usage(a->cmd, "--pair, --from and --to are required", NULL);
    tr_synth_params p = tr_synth_params_default(pair, 0, 0, 0);
    if (!tr_pair_valid(pair))
        return tr_cli_usage(a->cmd, "bad pair name (3-15 characters A-Z 0-9):", pair);
    if (tr_timeframe_parse(tfs, &p.timeframe))
        return tr_cli_usage(a->cmd, "bad timeframe:", tfs);
    if (parse_time_arg(from, &p.from))
        return tr_cli_usage(a->cmd, "bad --from date:", from);
    if (parse_time_arg(to, &p.to))
        return tr_cli_usage(a->cmd, "bad --to date:", to);
    char *end;
    unsigned long long seed = strtoull(seed_s, &end, 10);
    if (end == seed_s || *end || seed_s[0] == '-')
        return tr_cli_usage(a->cmd, "bad --seed:", seed_s);
    p.seed = seed;
    tr_error e;
    tr_error_clear(&e);
    tr_bars bars = {0};
    int dec;
    tr_code rc = tr_synth_generate(&p, &bars, &dec, &e);
    if (rc)
        return tr_cli_fail(&e);
    char tfn[16];
    tr_timeframe_name(p.timeframe, tfn, sizeof tfn);
    if (csv) {
        rc = tr_csv_write(csv, bars.v, bars.n, dec, &e);
        if (!rc)
            printf("%s %s: wrote %zu synthetic bars (seed %llu) to %s\n", pair, tfn, bars.n, seed,
                   csv);
    } else {
        tr_store *st;
        tr_put_stats ps;
        rc = tr_cli_store_open(store_dir, 1, &st, &e);
        if (!rc) {
            rc = tr_store_bars_put(st, pair, p.timeframe, bars.v, bars.n, replace, &ps, &e);
            if (!rc)
                printf("%s %s: %zu synthetic bars (seed %llu) into %s: %zu added, %zu unchanged, "
                       "%zu replaced\n",
                       pair, tfn, bars.n, seed, tr_store_name(st), ps.n_added, ps.n_unchanged,
                       ps.n_replaced);
            tr_store_close(st);
        }
    }
    tr_bars_free(&bars);
    return rc ? tr_cli_fail(&e) : EXIT_OK;
}

static void print_describe(const tr_dataset *ds)
{
    static const char *split_names[TR_N_SPLITS] = {"train", "val", "test"};
    char a[32], b[32], tfn[16];
    printf("dataset: %d pair%s (", ds->n_series, ds->n_series == 1 ? "" : "s");
    for (int s = 0; s < ds->n_series; s++)
        printf("%s%s", s ? ", " : "", ds->series[s].pair);
    printf(") at %s, samples in [%s, %s)\n", tr_timeframe_name(ds->timeframe, tfn, sizeof tfn),
           tr_time_format(ds->opt.from, a, sizeof a), tr_time_format(ds->opt.to, b, sizeof b));
    int E = ds->opt.embargo ? ds->opt.embargo : ds->opt.window + tr_label_horizon(&ds->opt.label);
    printf("window T=%d x %d features; labels k=%d m=%g h=%d ATR(%d); embargo %d bars; "
           "max gap %d bars\n",
           ds->opt.window, TR_N_FEATURES, ds->opt.label.k, ds->opt.label.m, ds->opt.label.h,
           ds->opt.label.atr_period, E, ds->opt.max_gap_bars);
    printf("bars in range %zu: %zu warm-up, %zu unlabeled, %zu across a gap, %zu embargoed\n\n",
           ds->n_in_range, ds->n_warmup, ds->n_unlabeled, ds->n_gap, ds->n_embargo);
    printf("%-6s %-21s %-21s %8s %8s %8s %8s   %6s %6s %6s\n", "split", "first", "last",
           "samples", "hold", "buy", "sell", "hold%", "buy%", "sell%");
    for (int k = 0; k < TR_N_SPLITS; k++) {
        const size_t *c = ds->class_count[k];
        double n = ds->n[k] ? (double)ds->n[k] : 1.0;
        printf("%-6s %-21s %-21s %8zu %8zu %8zu %8zu   %6.2f %6.2f %6.2f\n", split_names[k],
               ds->n[k] ? tr_time_format(ds->first[k], a, sizeof a) : "-",
               ds->n[k] ? tr_time_format(ds->last[k], b, sizeof b) : "-", ds->n[k], c[0], c[1],
               c[2], 100.0 * (double)c[0] / n, 100.0 * (double)c[1] / n, 100.0 * (double)c[2] / n);
    }
    printf("\nclass weights (train, n / (3 n_c)): hold %.4f  buy %.4f  sell %.4f\n\n",
           ds->class_weight[0], ds->class_weight[1], ds->class_weight[2]);
    printf("%-3s %-12s %12s %12s %12s %12s %12s %12s\n", "#", "feature", "train mean",
           "train sd", "train min", "train max", "test min", "test max");
    for (int f = 0; f < TR_N_FEATURES; f++)
        printf("%-3d %-12s %12.4g %12.4g %12.4g %12.4g %12.4g %12.4g\n", f, tr_feature_names[f],
               ds->mean[f], ds->sd[f], ds->fmin[0][f], ds->fmax[0][f],
               ds->n[2] ? ds->fmin[2][f] : NAN, ds->n[2] ? ds->fmax[2][f] : NAN);
}

static int cmd_dataset(args *a)
{
    const char *pairs[64];
    int n_pairs = 0, describe = 0;
    const char *store_dir = NULL, *tfs = "15m", *from = NULL, *to = NULL;
    tr_dataset_options o = tr_dataset_options_default();
    const tr_cli_optdef opts[] = {
        OPT_FLAG("--describe", &describe),
        OPT_LIST("--pair", pairs, 64, &n_pairs, NULL),
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
    SCAN_OPTS(a, help_dataset, opts, sizeof opts / sizeof opts[0]);
    if (!from || !to)
        return tr_cli_usage(a->cmd, "--from and --to are required", NULL);
    int32_t tf;
    if (tr_timeframe_parse(tfs, &tf))
        return tr_cli_usage(a->cmd, "bad timeframe:", tfs);
    if (parse_time_arg(from, &o.from))
        return tr_cli_usage(a->cmd, "bad --from date:", from);
    if (parse_time_arg(to, &o.to))
        return tr_cli_usage(a->cmd, "bad --to date:", to);
    tr_error e;
    tr_error_clear(&e);
    tr_store *st;
    tr_code rc = tr_cli_store_open(store_dir, 0, &st, &e);
    if (rc)
        return tr_cli_fail(&e);
    tr_series_info *list = NULL;
    size_t n_list = 0;
    if (n_pairs == 0) {
        rc = tr_store_series_list(st, &list, &n_list, &e);
        for (size_t i = 0; i < n_list && !rc; i++)
            if (list[i].timeframe == tf && n_pairs < 64)
                pairs[n_pairs++] = list[i].pair;
        if (!rc && n_pairs == 0) {
            char tfn[16];
            rc = tr_fail(&e, TR_ERR_NOTFOUND, "store %s has no series at %s", tr_store_name(st),
                         tr_timeframe_name(tf, tfn, sizeof tfn));
        }
    }
    tr_dataset *ds = NULL;
    double t0 = now_seconds();
    if (!rc)
        rc = tr_dataset_build(st, pairs, n_pairs, tf, &o, &ds, &e);
    double dt = now_seconds() - t0;
    tr_store_close(st);
    if (rc) {
        free(list);
        return tr_cli_fail(&e);
    }
    if (describe) {
        print_describe(ds);
        printf("\nbuilt in %.3f s\n", dt);
    } else {
        printf("dataset: train %zu, val %zu, test %zu samples (built in %.3f s; --describe for "
               "details)\n",
               ds->n[0], ds->n[1], ds->n[2], dt);
    }
    tr_dataset_free(ds);
    free(list);
    return EXIT_OK;
}

static int cmd_bars(args *a)
{
    const char *store_dir = NULL;
    const tr_cli_optdef opts[] = {OPT_STR("--store", &store_dir)};
    SCAN_OPTS(a, help_bars, opts, sizeof opts / sizeof opts[0]);
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
        printf("%-10s %-5s %9s  %-21s %-21s\n", "pair", "tf", "bars", "first", "last");
        for (size_t i = 0; i < n; i++) {
            char tfn[16], f0[32], f1[32];
            printf("%-10s %-5s %9zu  %-21s %-21s\n", list[i].pair,
                   tr_timeframe_name(list[i].timeframe, tfn, sizeof tfn), list[i].count,
                   tr_time_format(list[i].first, f0, sizeof f0),
                   tr_time_format(list[i].last, f1, sizeof f1));
        }
        free(list);
    }
    tr_store_close(st);
    return rc ? tr_cli_fail(&e) : EXIT_OK;
}

/* ---- the registry and the cycles ------------------------------------------------------------ */

static const char *help_full =
    "usage: aifx-train full [--as-of TIME] [--resume] [--version-base vM.N] [--quiet] [--json]\n"
    "                       [--months N] [--layers N] [--hidden N] [--epochs N] [--patience N]\n"
    "                       [--batch N] [--lr X] [--monitor loss|macro_f1] [--seed N]\n"
    "                       [--class-weight-power X] [--ab [--ab-days N] [--ab-split X]\n"
    "                       [--ab-min-trades N]] [--store DIR]\n"
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
    "  running test whose planned end has come.\n";

static const char *help_incremental =
    "usage: aifx-train incremental [--as-of TIME] [--force] [--min-samples N]\n"
    "                              [--gate-metric macro_f1|accuracy|loss] [--quiet] [--json]\n"
    "                              [--store DIR]\n"
    "\n"
    "  The daily fine-tune of the active version on the labeled windows of the last 24 hours\n"
    "  (skipped, and logged, under 100 windows): lr 1e-4, 10 epochs, batch 32, saved as\n"
    "  <full version>-daily-YYYYMMDD. The deploy gate scores it and the active version on the\n"
    "  7 days before the fine-tune data (with an embargo) and activates it when it is at least as\n"
    "  good on the gate metric (default macro_f1; a tie blesses the candidate). --force\n"
    "  activates it whatever the gate says (verdict \"forced\").\n";

static const char *help_activate =
    "usage: aifx-train activate VERSION [--reason TEXT] [--store DIR]\n"
    "  Makes VERSION the active version, recorded in the activation history.\n";

static const char *help_rollback =
    "usage: aifx-train rollback [--reason TEXT] [--store DIR]\n"
    "  Re-activates the version that was active before the current one (the history replayed as\n"
    "  a stack: repeated rollbacks walk further back).\n";

static const char *help_versions =
    "usage: aifx-train versions [--json] [--store DIR]\n"
    "       aifx-train versions show VERSION [--json] [--store DIR]\n"
    "  Lists the registered versions, or shows one with all its figures.\n";

static const char *help_log =
    "usage: aifx-train log [--json] [--activations] [--store DIR]\n"
    "  The training log (one row per cycle run: completed, skipped or failed, with the gate's\n"
    "  verdict and both figures), or with --activations the activation history.\n";

static const char *help_evaluate =
    "usage: aifx-train evaluate --version V --from TIME --to TIME [--pair P ...] [--json]\n"
    "                           [--store DIR]\n"
    "  Classification figures of version V on the labeled windows whose last bar is in\n"
    "  [from, to): confusion matrix, per-class precision, recall and F1, macro-F1, accuracy,\n"
    "  the buy/sell share of predictions and labels, and the backtest of its signals.\n";

static const char *help_backtest =
    "usage: aifx-train backtest --version V --from TIME --to TIME [--pair P ...] [--threshold P]\n"
    "                           [--sl-atr X] [--tp-atr X] [--max-hold BARS] [--spread PIPS]\n"
    "                           [--json] [--store DIR]\n"
    "  Backtests version V's signals on [from, to) pair by pair (docs/backtest.md): trades, win\n"
    "  rate, PnL in pips and percent, Sharpe, Sortino, max drawdown, profit factor.\n"
    "  Defaults: threshold 0, stop 1.5 ATR, target 2 ATR, 16 bars, spread per pair.\n";

static const char *help_predict =
    "usage: aifx-train predict --pair P [--as-of TIME] [--max-age HOURS] [--no-record] [--json]\n"
    "                          [--store DIR]\n"
    "  The active version's signal for the pair's newest closed bar: signal, confidence,\n"
    "  probabilities, version and bar time, recorded as a trading signal. Needs at least 1000\n"
    "  bars of history; refuses (exit 9) when the newest bar closed more than --max-age hours\n"
    "  (default 2) before TIME (default now).\n";

typedef struct out_opts {
    int json, quiet, tty;
    int last_was_bar;
} out_opts;

static void on_event(const tr_event *ev, void *user)
{
    out_opts *o = user;
    if (o->json) {
        if (ev->kind == TR_EV_STAGE) {
            printf("{\"event\":\"stage\",\"cycle\":\"%s\",\"text\":\"%s\"}\n", ev->cycle, ev->text);
        } else {
            const aifx_epoch_report *r = ev->epoch;
            printf("{\"event\":\"epoch\",\"cycle\":\"%s\",\"epoch\":%d,\"n_epochs\":%d,"
                   "\"train_loss\":%.6f,",
                   ev->cycle, r->epoch, r->n_epochs, r->train_loss);
            if (isfinite(r->val_loss))
                printf("\"val_loss\":%.6f,\"val_accuracy\":%.6f,\"val_macro_f1\":%.6f,",
                       r->val_loss, r->val_accuracy, r->val_macro_f1);
            printf("\"lr\":%g,\"seconds\":%.3f,\"improved\":%s}\n", (double)r->lr, r->seconds,
                   r->improved ? "true" : "false");
        }
        fflush(stdout);
        return;
    }
    if (o->quiet)
        return;
    if (ev->kind == TR_EV_STAGE) {
        if (o->last_was_bar)
            fputc('\n', stderr);
        o->last_was_bar = 0;
        fprintf(stderr, "%s: %s\n", ev->cycle, ev->text);
        return;
    }
    const aifx_epoch_report *r = ev->epoch;
    char vals[128] = "";
    if (isfinite(r->val_loss))
        snprintf(vals, sizeof vals, " val_loss %.4f val_acc %.3f val_f1 %.3f", r->val_loss,
                 r->val_accuracy, r->val_macro_f1);
    if (o->tty) {
        int width = 24, done = r->n_epochs > 0 ? r->epoch * width / r->n_epochs : width;
        char bar[32];
        for (int i = 0; i < width; i++)
            bar[i] = i < done ? '#' : '.';
        bar[width] = '\0';
        fprintf(stderr, "\r[%s] epoch %3d/%d loss %.4f%s %5.1fs%s\x1b[K", bar, r->epoch,
                r->n_epochs, r->train_loss, vals, r->seconds, r->improved ? " *" : "");
        o->last_was_bar = 1;
    } else {
        fprintf(stderr, "epoch %d/%d loss %.4f%s %.1fs%s\n", r->epoch, r->n_epochs, r->train_loss,
                vals, r->seconds, r->improved ? " *" : "");
    }
    fflush(stderr);
}

static void end_bar(out_opts *o)
{
    if (o->last_was_bar)
        fputc('\n', stderr);
    o->last_was_bar = 0;
}

static void print_cls(const char *title, const tr_cls_figs *f)
{
    static const char *cn[3] = {"hold", "buy", "sell"};
    printf("%s: %lld windows, accuracy %.4f, macro-F1 %.4f, loss %.4f\n", title, (long long)f->n,
           f->accuracy, f->macro_f1, f->loss);
    printf("  predicted buy %.2f%% sell %.2f%% (true buy %.2f%% sell %.2f%%)\n",
           100 * f->buy_share, 100 * f->sell_share, 100 * f->true_buy_share,
           100 * f->true_sell_share);
    printf("  %-6s %9s %9s %9s   confusion (true \\ predicted: hold buy sell)\n", "class",
           "precision", "recall", "F1");
    for (int c = 0; c < 3; c++)
        printf("  %-6s %9.4f %9.4f %9.4f   %8lld %8lld %8lld\n", cn[c], f->precision[c],
               f->recall[c], f->f1[c], (long long)f->confusion[c][0],
               (long long)f->confusion[c][1], (long long)f->confusion[c][2]);
}

static void print_bt(const char *title, const tr_bt_figs *b)
{
    printf("%s: %lld trades, win rate %.4f, total %.1f pips (avg %.2f), return %.4f%%, "
           "Sharpe %.3f, Sortino %.3f, max drawdown %.4f%%, profit factor %.3f, signals %.4f/bar\n",
           title, (long long)b->trades, b->win_rate, b->total_pips, b->avg_pips,
           100 * b->total_return, b->sharpe, b->sortino, 100 * b->max_drawdown, b->profit_factor,
           b->signal_freq);
}

static void json_cls(const tr_cls_figs *f)
{
    printf("{\"n\":%lld,\"accuracy\":%.6f,\"macro_f1\":%.6f,\"loss\":%.6f,\"buy_share\":%.6f,"
           "\"sell_share\":%.6f,\"true_buy_share\":%.6f,\"true_sell_share\":%.6f,"
           "\"precision\":[%.6f,%.6f,%.6f],\"recall\":[%.6f,%.6f,%.6f],\"f1\":[%.6f,%.6f,%.6f],"
           "\"confusion\":[[%lld,%lld,%lld],[%lld,%lld,%lld],[%lld,%lld,%lld]]}",
           (long long)f->n, f->accuracy, f->macro_f1, f->loss, f->buy_share, f->sell_share,
           f->true_buy_share, f->true_sell_share, f->precision[0], f->precision[1],
           f->precision[2], f->recall[0], f->recall[1], f->recall[2], f->f1[0], f->f1[1], f->f1[2],
           (long long)f->confusion[0][0], (long long)f->confusion[0][1],
           (long long)f->confusion[0][2], (long long)f->confusion[1][0],
           (long long)f->confusion[1][1], (long long)f->confusion[1][2],
           (long long)f->confusion[2][0], (long long)f->confusion[2][1],
           (long long)f->confusion[2][2]);
}

static void json_num(double v)
{
    if (isfinite(v))
        printf("%.6g", v);
    else
        printf("null");
}

static void json_bt(const tr_bt_figs *b)
{
    printf("{\"trades\":%lld,\"wins\":%lld,\"win_rate\":%.6f,\"total_pips\":%.4f,"
           "\"avg_pips\":%.4f,\"total_return\":%.8f,\"sharpe\":%.6f,\"sortino\":%.6f,"
           "\"max_drawdown\":%.8f,\"profit_factor\":",
           (long long)b->trades, (long long)b->wins, b->win_rate, b->total_pips, b->avg_pips,
           b->total_return, b->sharpe, b->sortino, b->max_drawdown);
    json_num(b->profit_factor);
    printf(",\"signal_freq\":%.6f}", b->signal_freq);
}

static int open_existing(const char *store_dir, tr_store **st, tr_error *e)
{
    tr_error_clear(e);
    return tr_cli_store_open(store_dir, 0, st, e) ? -1 : 0;
}

/* Runs the weekly (full set) or daily (incr set) cycle on the store: *out receives the result
 * (the caller frees it) and 0 is returned, or the exit code of the failure. */
static int run_cycle(const char *store_dir, out_opts *oo, const tr_full_opts *full,
                     const tr_incr_opts *incr, tr_cycle_result **out)
{
    tr_error e;
    tr_store *st;
    *out = NULL;
    if (open_existing(store_dir, &st, &e))
        return tr_cli_fail(&e);
    tr_cycle_result *r = calloc(1, sizeof *r);
    if (!r) {
        tr_store_close(st);
        return EXIT_NOMEM;
    }
    tr_code rc = full ? tr_cycle_full(st, full, r, &e) : tr_cycle_incremental(st, incr, r, &e);
    end_bar(oo);
    tr_store_close(st);
    if (rc) {
        free(r);
        return tr_cli_fail(&e);
    }
    *out = r;
    return EXIT_OK;
}

static int cmd_full(args *a)
{
    const char *store_dir = NULL, *as_of_s = NULL;
    out_opts oo = {0, 0, isatty(2), 0};
    tr_full_opts o = tr_full_opts_default();
    const tr_cli_optdef opts[] = {
        COMMON_OPTS(oo, store_dir),
        AB_OPTS(o),
        OPT_FLAG("--resume", &o.resume),
        OPT_STR("--as-of", &as_of_s),
        OPT_STR("--version-base", &o.version_base),
        OPT_INT("--months", &o.months, 1, 120, NULL),
        OPT_INT("--layers", &o.n_layers, 1, 4, "(1..4)"),
        OPT_INT("--hidden", &o.n_hidden, 1, 1024, NULL),
        OPT_INT("--epochs", &o.max_epochs, 1, 100, "(1..100)"),
        OPT_INT("--patience", &o.patience, 1, 100, NULL),
        OPT_INT("--batch", &o.batch, 1, 4096, NULL),
        OPT_CALL("--seed", &o.seed, parse_seed, "(0..2147483647)"),
        OPT_FLT("--lr", &o.lr, FLT_MIN, 1, "(0 < lr <= 1)"),
        OPT_DBL("--class-weight-power", &o.class_weight_power, 0, 2, "(0..2)"),
        OPT_CALL("--monitor", &o.monitor, parse_monitor, "(loss, macro_f1)"),
    };
    SCAN_OPTS(a, help_full, opts, sizeof opts / sizeof opts[0]);
    if (as_of_s && parse_time_arg(as_of_s, &o.as_of))
        return tr_cli_usage(a->cmd, "bad --as-of time:", as_of_s);
    o.on_event = on_event;
    o.user = &oo;
    tr_cycle_result *r;
    int ex = run_cycle(store_dir, &oo, &o, NULL, &r);
    if (ex)
        return ex;
    const tr_version *v2 = &r->rec;
    char t0[32], t1[32];
    if (oo.json) {
        printf("{\"event\":\"result\",\"cycle\":\"full\",\"status\":\"completed\","
               "\"version\":\"%s\","
               "\"activated\":%s,\"verdict\":\"%s\",\"seconds\":%.3f,\"epochs\":%d,"
               "\"best_epoch\":%d,\"resumed_from_epoch\":%d,\"test\":",
               v2->version, r->activated ? "true" : "false", r->verdict, r->seconds, v2->epochs,
               v2->best_epoch, r->resumed_epoch);
        json_cls(&v2->figs[2]);
        printf(",\"backtest\":");
        json_bt(&v2->bt);
        printf("}\n");
    } else {
        printf("full: version %s trained on %s .. %s (%lld train, %lld val, %lld test windows) "
               "in %.1f s: %d epochs, best %d%s\n",
               v2->version, tr_time_format(v2->data_from, t0, sizeof t0),
               tr_time_format(v2->data_to, t1, sizeof t1), (long long)v2->n_samples[0],
               (long long)v2->n_samples[1], (long long)v2->n_samples[2], r->seconds, v2->epochs,
               v2->best_epoch, r->resumed_epoch ? " (resumed)" : "");
        print_cls("test", &v2->figs[2]);
        print_bt("backtest (test part)", &v2->bt);
        for (int p = 0; p < r->n_pairs; p++) {
            char title[64];
            snprintf(title, sizeof title, "  %s", r->pairs[p]);
            print_bt(title, &r->bt_pairs[p]);
        }
        printf("%s\n", r->activated ? "activated: no version was active (first model)"
                                    : r->reason);
    }
    free(r);
    return EXIT_OK;
}

static int cmd_incremental(args *a)
{
    const char *store_dir = NULL, *as_of_s = NULL;
    out_opts oo = {0, 0, isatty(2), 0};
    tr_incr_opts o = tr_incr_opts_default();
    const tr_cli_optdef opts[] = {
        COMMON_OPTS(oo, store_dir),
        OPT_FLAG("--force", &o.force),
        OPT_STR("--as-of", &as_of_s),
        OPT_INT("--min-samples", &o.min_samples, 1, 1000000, NULL),
        OPT_CALL("--gate-metric", &o.gate_metric, parse_gate_metric, "(macro_f1, accuracy, loss)"),
    };
    SCAN_OPTS(a, help_incremental, opts, sizeof opts / sizeof opts[0]);
    o.as_of = tr_wall_now();
    if (as_of_s && parse_time_arg(as_of_s, &o.as_of))
        return tr_cli_usage(a->cmd, "bad --as-of time:", as_of_s);
    o.on_event = on_event;
    o.user = &oo;
    tr_cycle_result *r;
    int ex = run_cycle(store_dir, &oo, NULL, &o, &r);
    if (ex)
        return ex;
    if (oo.json) {
        printf("{\"event\":\"result\",\"cycle\":\"incremental\",\"status\":\"%s\","
               "\"version\":\"%s\","
               "\"verdict\":\"%s\",\"activated\":%s,\"gate_metric\":\"%s\",\"candidate\":",
               tr_log_status_name(r->status), r->version, r->verdict,
               r->activated ? "true" : "false", tr_gate_metric_name(o.gate_metric));
        json_num(r->candidate_value);
        printf(",\"active\":");
        json_num(r->active_value);
        printf(",\"seconds\":%.3f}\n", r->seconds);
    } else if (r->status == TR_LOG_SKIPPED) {
        printf("incremental: skipped: %s\n", r->reason);
    } else {
        printf("incremental: version %s (fine-tuned on %lld windows in %.1f s): %s%s\n  %s\n",
               r->version, (long long)r->rec.n_samples[0], r->seconds, r->verdict,
               r->activated ? ", activated" : ", not activated", r->reason);
    }
    free(r);
    return EXIT_OK;
}

static int activate_or_rollback(args *a, int rollback)
{
    const char *store_dir = NULL, *version = NULL, *note = "";
    out_opts oo = {0, 0, 0, 0};
    const tr_cli_optdef opts[] = {
        COMMON_OPTS(oo, store_dir),
        OPT_STR("--reason", &note),
        OPT_POS("VERSION", &version), /* last: rollback takes none */
    };
    /* rollback takes no VERSION: the table without its last entry */
    SCAN_OPTS(a, rollback ? help_rollback : help_activate, opts,
              sizeof opts / sizeof opts[0] - (size_t)(rollback != 0));
    if (!rollback && !version)
        return tr_cli_usage(a->cmd, "which version? (aifx-train activate VERSION)", NULL);
    if (version && !tr_version_name_valid(version))
        return tr_cli_usage(a->cmd, "bad version name:", version);
    tr_error e;
    tr_store *st;
    if (open_existing(store_dir, &st, &e))
        return tr_cli_fail(&e);
    char from[TR_VERSION_MAX], to[TR_VERSION_MAX];
    tr_code rc = tr_activate(st, version, rollback, note, from, to, &e);
    tr_store_close(st);
    if (rc)
        return tr_cli_fail(&e);
    if (oo.json)
        printf("{\"from\":\"%s\",\"to\":\"%s\",\"reason\":\"%s\"}\n", from, to,
               rollback ? "rollback" : "manual");
    else
        printf("%s: %s -> %s\n", rollback ? "rolled back" : "activated", from[0] ? from : "(none)",
               to);
    return EXIT_OK;
}

static int cmd_activate(args *a)
{
    return activate_or_rollback(a, 0);
}

static int cmd_rollback(args *a)
{
    return activate_or_rollback(a, 1);
}

static int cmd_versions(args *a)
{
    const char *store_dir = NULL, *show = NULL;
    out_opts oo = {0, 0, 0, 0};
    const char *word = NULL;
    const tr_cli_optdef opts[] = {
        COMMON_OPTS(oo, store_dir),
        OPT_POS("show", &word),
        OPT_POS("VERSION", &show),
    };
    SCAN_OPTS(a, help_versions, opts, sizeof opts / sizeof opts[0]);
    if (word && (strcmp(word, "show") != 0 || !show))
        return tr_cli_usage(a->cmd, "which version? (versions show VERSION)", NULL);
    tr_error e;
    tr_store *st;
    if (open_existing(store_dir, &st, &e))
        return tr_cli_fail(&e);
    tr_registry reg;
    tr_code rc = tr_store_registry_read(st, &reg, &e);
    tr_store_close(st);
    if (rc)
        return tr_cli_fail(&e);
    char t0[32], t1[32];
    if (show) {
        const tr_version *v;
        rc = tr_registry_get(&reg, show, &v, &e);
        if (rc) {
            tr_registry_free(&reg);
            return tr_cli_fail(&e);
        }
        if (oo.json) {
            char *j = tr_version_json(v);
            printf("%s\n", j ? j : "null");
            free(j);
        } else {
            printf("version      %s (%s%s%s)\n", v->version, tr_version_type_name(v->type),
                   v->parent[0] ? ", parent " : "", v->parent);
            printf("status       %s%s\n", tr_version_status_name(v->status),
                   v->is_active ? ", ACTIVE" : "");
            printf("trained at   %s, as of %s\n",
                   v->trained_at ? tr_time_format(v->trained_at, t0, sizeof t0) : "-",
                   tr_time_format(v->as_of, t1, sizeof t1));
            printf("data         %s .. ", tr_time_format(v->data_from, t0, sizeof t0));
            printf("%s: %lld / %lld / %lld windows\n", tr_time_format(v->data_to, t1, sizeof t1),
                   (long long)v->n_samples[0], (long long)v->n_samples[1],
                   (long long)v->n_samples[2]);
            printf("training     %d epochs (best %d) in %.1f s\n", v->epochs, v->best_epoch,
                   v->seconds);
            printf("class weight hold %.4f buy %.4f sell %.4f\n", v->class_weight[0],
                   v->class_weight[1], v->class_weight[2]);
            printf("hyper        %s\n", v->hyper);
            printf("checkpoint   %s (%lld bytes, crc32 %08x)\n", v->checkpoint,
                   (long long)v->ckpt_size, (unsigned)v->ckpt_crc);
            if (v->deployed_at)
                printf("deployed at  %s\n", tr_time_format(v->deployed_at, t0, sizeof t0));
            if (v->deprecated_at)
                printf("deprecated   %s: %s\n", tr_time_format(v->deprecated_at, t0, sizeof t0),
                       v->deprecation_reason);
            static const char *names[2][3] = {{"train", "validation", "test"},
                                              {"fine-tune data", "-", "gate window"}};
            for (int k = 0; k < 3; k++)
                if (v->figs[k].n)
                    print_cls(names[v->type == TR_VT_INCREMENTAL][k], &v->figs[k]);
            print_bt(v->type == TR_VT_INCREMENTAL ? "backtest (gate window)"
                                                  : "backtest (test part)",
                     &v->bt);
        }
        tr_registry_free(&reg);
        return EXIT_OK;
    }
    if (oo.json) {
        printf("[");
        for (size_t i = 0; i < reg.n_versions; i++) {
            char *j = tr_version_json(&reg.versions[i]);
            printf("%s%s", i ? ",\n" : "\n", j ? j : "null");
            free(j);
        }
        printf("\n]\n");
    } else {
        printf("%-28s %-11s %-10s %-6s %-20s %8s %8s %7s\n", "version", "type", "status",
               "active", "trained at", "test F1", "gate F1", "trades");
        for (size_t i = 0; i < reg.n_versions; i++) {
            const tr_version *v = &reg.versions[i];
            int inc = v->type == TR_VT_INCREMENTAL;
            char f1[16];
            snprintf(f1, sizeof f1, "%.4f", v->figs[2].macro_f1);
            printf("%-28s %-11s %-10s %-6s %-20s %8s %8s %7lld\n", v->version,
                   tr_version_type_name(v->type), tr_version_status_name(v->status),
                   v->is_active ? "*" : "", tr_time_format(v->trained_at, t0, sizeof t0),
                   inc ? "-" : f1, inc ? f1 : "-", (long long)v->bt.trades);
        }
    }
    tr_registry_free(&reg);
    return EXIT_OK;
}

static int cmd_log(args *a)
{
    const char *store_dir = NULL;
    int acts = 0;
    out_opts oo = {0, 0, 0, 0};
    const tr_cli_optdef opts[] = {
        COMMON_OPTS(oo, store_dir),
        OPT_FLAG("--activations", &acts),
    };
    SCAN_OPTS(a, help_log, opts, sizeof opts / sizeof opts[0]);
    tr_error e;
    tr_store *st;
    if (open_existing(store_dir, &st, &e))
        return tr_cli_fail(&e);
    tr_registry reg;
    tr_code rc = tr_store_registry_read(st, &reg, &e);
    tr_store_close(st);
    if (rc)
        return tr_cli_fail(&e);
    char t0[32];
    if (acts) {
        if (oo.json)
            printf("[");
        for (size_t i = 0; i < reg.n_activations; i++) {
            const tr_activation *x = &reg.activations[i];
            if (oo.json) {
                char *j = tr_activation_json(x);
                printf("%s%s", i ? ",\n" : "\n", j ? j : "null");
                free(j);
            } else {
                printf("%3lld %s %-28s -> %-28s %-11s %s\n", (long long)x->id,
                       tr_time_format(x->at, t0, sizeof t0), x->from[0] ? x->from : "(none)",
                       x->to, x->reason, x->evidence);
            }
        }
        if (oo.json)
            printf("\n]\n");
        tr_registry_free(&reg);
        return EXIT_OK;
    }
    if (oo.json)
        printf("[");
    else
        printf("%4s %-11s %-20s %-9s %-28s %-11s %9s %9s  %s\n", "id", "cycle", "as of",
               "status", "version", "verdict", "candidate", "active", "reason / error");
    for (size_t i = 0; i < reg.n_log; i++) {
        const tr_log_row *r = &reg.log[i];
        if (oo.json) {
            char *j = tr_log_row_json(r);
            printf("%s%s", i ? ",\n" : "\n", j ? j : "null");
            free(j);
        } else {
            printf("%4lld %-11s %-20s %-9s %-28s %-11s %9.4f %9.4f  %s\n", (long long)r->id,
                   r->cycle, tr_time_format(r->as_of, t0, sizeof t0),
                   tr_log_status_name(r->status), r->version[0] ? r->version : "-",
                   r->verdict[0] ? r->verdict : "-", r->candidate_value, r->active_value,
                   r->status == TR_LOG_FAILED ? r->error : r->reason);
        }
    }
    if (oo.json)
        printf("\n]\n");
    tr_registry_free(&reg);
    return EXIT_OK;
}

static int evaluate_or_backtest(args *a, int backtest)
{
    const char *store_dir = NULL, *version = NULL, *from = NULL, *to = NULL, *pairs[8];
    int n_pairs = 0;
    out_opts oo = {0, 0, 0, 0};
    tr_bt_override ovr = tr_bt_override_none();
    const tr_cli_optdef opts[] = {
        COMMON_OPTS(oo, store_dir),
        OPT_STR("--version", &version),
        OPT_STR("--from", &from),
        OPT_STR("--to", &to),
        OPT_LIST("--pair", pairs, 8, &n_pairs, check_pair),
        /* the backtest's settings: last, backtest only */
        OPT_INT("--max-hold", &ovr.max_hold, 1, 100000, NULL),
        OPT_DBL("--threshold", &ovr.threshold, 0, 1e300, NULL),
        OPT_DBL("--sl-atr", &ovr.sl_atr, 0, 1e300, NULL),
        OPT_DBL("--tp-atr", &ovr.tp_atr, 0, 1e300, NULL),
        OPT_DBL("--spread", &ovr.spread_pips, 0, 1e300, NULL),
    };
    SCAN_OPTS(a, backtest ? help_backtest : help_evaluate, opts,
              sizeof opts / sizeof opts[0] - (backtest ? 0 : 5));
    if (!version || !from || !to)
        return tr_cli_usage(a->cmd, "--version, --from and --to are required", NULL);
    int64_t f, t;
    if (parse_time_arg(from, &f))
        return tr_cli_usage(a->cmd, "bad --from time:", from);
    if (parse_time_arg(to, &t))
        return tr_cli_usage(a->cmd, "bad --to time:", to);
    if (f >= t)
        return tr_cli_usage(a->cmd, "--from must be before --to", NULL);
    tr_error e;
    tr_store *st;
    if (open_existing(store_dir, &st, &e))
        return tr_cli_fail(&e);
    tr_eval_report *r = calloc(1, sizeof *r);
    if (!r) {
        tr_store_close(st);
        return EXIT_NOMEM;
    }
    tr_code rc = tr_evaluate_version(st, version, pairs, n_pairs, 900, f, t, &ovr, r, NULL, &e);
    tr_store_close(st);
    if (rc) {
        free(r);
        return tr_cli_fail(&e);
    }
    if (oo.json) {
        printf("{\"version\":\"%s\",\"from\":\"%s\",\"to\":\"%s\"", version, from, to);
        if (!backtest) {
            printf(",\"classification\":");
            json_cls(&r->figs);
        }
        printf(",\"backtest\":");
        json_bt(&r->bt);
        printf(",\"pairs\":{");
        for (int p = 0; p < r->n_pairs; p++) {
            printf("%s\"%s\":", p ? "," : "", r->pairs[p]);
            json_bt(&r->bt_pairs[p]);
        }
        printf("}}\n");
    } else {
        char t0[32], t1[32];
        printf("version %s on %s .. %s\n", version, tr_time_format(f, t0, sizeof t0),
               tr_time_format(t, t1, sizeof t1));
        if (!backtest)
            print_cls("classification", &r->figs);
        print_bt("backtest (all pairs)", &r->bt);
        for (int p = 0; p < r->n_pairs; p++) {
            char title[64];
            snprintf(title, sizeof title, "  %s", r->pairs[p]);
            print_bt(title, &r->bt_pairs[p]);
        }
    }
    free(r);
    return EXIT_OK;
}

static int cmd_evaluate(args *a)
{
    return evaluate_or_backtest(a, 0);
}

static int cmd_backtest(args *a)
{
    return evaluate_or_backtest(a, 1);
}

static int cmd_predict(args *a)
{
    const char *store_dir = NULL, *as_of_s = NULL;
    out_opts oo = {0, 0, 0, 0};
    tr_predict_opts o;
    memset(&o, 0, sizeof o);
    o.timeframe = 900;
    o.max_age = 7200;
    o.record = 1;
    const tr_cli_optdef opts[] = {
        COMMON_OPTS(oo, store_dir),
        OPT_CLEAR("--no-record", &o.record),
        OPT_STR("--pair", &o.pair),
        OPT_STR("--as-of", &as_of_s),
        OPT_CALL("--max-age", &o.max_age, parse_hours, "(hours)"),
    };
    SCAN_OPTS(a, help_predict, opts, sizeof opts / sizeof opts[0]);
    if (!o.pair)
        return tr_cli_usage(a->cmd, "--pair is required", NULL);
    if (!tr_pair_valid(o.pair))
        return tr_cli_usage(a->cmd, "bad pair name (3-15 characters A-Z 0-9):", o.pair);
    o.as_of = tr_wall_now();
    if (as_of_s && parse_time_arg(as_of_s, &o.as_of))
        return tr_cli_usage(a->cmd, "bad --as-of time:", as_of_s);
    tr_error e;
    tr_store *st;
    if (open_existing(store_dir, &st, &e))
        return tr_cli_fail(&e);
    tr_prediction p;
    tr_code rc = tr_predict(st, &o, &p, &e);
    tr_store_close(st);
    if (rc)
        return tr_cli_fail(&e);
    char t0[32];
    const tr_signal *g = &p.sig;
    if (oo.json)
        printf("{\"pair\":\"%s\",\"bar_time\":\"%s\",\"signal\":\"%s\",\"confidence\":%.6f,"
               "\"probabilities\":{\"hold\":%.6f,\"buy\":%.6f,\"sell\":%.6f},\"version\":\"%s\","
               "\"signal_id\":%lld}\n",
               g->pair, tr_time_format(g->bar_time, t0, sizeof t0), tr_label_name(g->signal),
               g->confidence, g->probs[0], g->probs[1], g->probs[2], g->model_version,
               (long long)g->id);
    else
        printf("%s %s: %s (confidence %.4f; hold %.4f buy %.4f sell %.4f) by %s%s\n", g->pair,
               tr_time_format(g->bar_time, t0, sizeof t0), tr_label_name(g->signal),
               g->confidence, g->probs[0], g->probs[1], g->probs[2], g->model_version,
               o.record ? ", recorded" : "");
    return EXIT_OK;
}

static const char *help_rank =
    "usage: aifx-train rank [--as-of TIME] [--score raw|rank] [--weights W,S,P,D]\n"
    "                       [--min-trades N] [--window-days N] [--retain-months N] [--json]\n"
    "                       [--store DIR]\n"
    "\n"
    "  The monthly ranking (docs/ranking.md): every non-deprecated version is backtested on the\n"
    "  bars of the last 30 days after the end of its own data window and scored\n"
    "  0.3 x win rate + 0.3 x Sharpe + 0.2 x average PnL (pips/trade) + 0.2 x (1 - max drawdown)\n"
    "  (--score rank: each term's rank among the eligible versions, in [0, 1]). Versions with\n"
    "  fewer than 20 trades are reported but not eligible. The best eligible version is\n"
    "  activated (no change when it is active); daily versions more than 3 months old are\n"
    "  retired (checkpoint deleted, record kept); full versions and the active one are kept.\n"
    "  A Markdown report goes to <store>/reports/rank-YYYY-MM-DD.md.\n";

static int cmd_rank(args *a)
{
    const char *store_dir = NULL, *as_of_s = NULL;
    out_opts oo = {0, 0, 0, 0};
    tr_rank_opts o = tr_rank_opts_default();
    const tr_cli_optdef opts[] = {
        COMMON_OPTS(oo, store_dir),
        OPT_STR("--as-of", &as_of_s),
        OPT_CALL("--score", &o.method, parse_score, "(raw, rank)"),
        OPT_CALL("--weights", &o.w, parse_weights, "(four numbers W,S,P,D)"),
        OPT_INT("--min-trades", &o.min_trades, 0, 1000000, NULL),
        OPT_INT("--window-days", &o.window_days, 1, 3660, NULL),
        OPT_INT("--retain-months", &o.retain_months, 1, 1200, NULL),
    };
    SCAN_OPTS(a, help_rank, opts, sizeof opts / sizeof opts[0]);
    o.as_of = tr_wall_now();
    if (as_of_s && parse_time_arg(as_of_s, &o.as_of))
        return tr_cli_usage(a->cmd, "bad --as-of time:", as_of_s);
    tr_error e;
    tr_store *st;
    if (open_existing(store_dir, &st, &e))
        return tr_cli_fail(&e);
    tr_rank_result r;
    tr_code rc = tr_rank_run(st, &o, &r, &e);
    tr_store_close(st);
    if (rc) {
        tr_rank_result_free(&r);
        return tr_cli_fail(&e);
    }
    char t0[32];
    if (oo.json) {
        tr_sb rp = {0};
        tr_sb_json_str(&rp, r.report_path);
        printf("{\"as_of\":\"%s\",\"method\":\"%s\",\"weights\":[%g,%g,%g,%g],"
               "\"min_trades\":%d,\"window_days\":%d,\"best\":\"%s\",\"active_before\":\"%s\","
               "\"activated\":%s,\"production_signals\":%lld,\"production_outcomes\":%lld,"
               "\"report\":%s,\"versions\":[",
               tr_time_format(o.as_of, t0, sizeof t0), tr_score_method_name(o.method), o.w.win_rate,
               o.w.sharpe, o.w.avg_pnl, o.w.drawdown, o.min_trades, o.window_days, r.best,
               r.active_before, r.activated ? "true" : "false", (long long)r.prod_signals_total,
               (long long)r.prod_resolved_total, rp.p ? rp.p : "\"\"");
        for (size_t i = 0; i < r.n; i++) {
            const tr_rank_entry *x = &r.entries[i];
            printf("%s{\"version\":\"%s\",\"type\":\"%s\",\"active\":%s,\"evaluated\":%s,"
                   "\"eligible\":%s,\"rank\":%d,\"raw\":",
                   i ? "," : "", x->version, tr_version_type_name(x->type),
                   x->was_active ? "true" : "false", x->evaluated ? "true" : "false",
                   x->eligible ? "true" : "false", x->rank);
            json_num(x->raw);
            printf(",\"rank_score\":");
            json_num(x->norm);
            tr_sb nb = {0};
            tr_sb_json_str(&nb, x->eligible ? "" : x->note);
            printf(",\"note\":%s,\"backtest\":", nb.p ? nb.p : "\"\"");
            tr_sb_free(&nb);
            json_bt(&x->bt);
            printf(",\"production\":{\"signals\":%lld,\"with_outcome\":%lld,\"win_rate\":",
                   (long long)x->prod_signals, (long long)x->prod_resolved);
            json_num(x->prod_win_rate);
            printf(",\"avg_pips\":");
            json_num(x->prod_avg_pips);
            printf("}}");
        }
        tr_sb_free(&rp);
        printf("],\"retired\":[");
        for (size_t i = 0; i < r.n_retired; i++)
            printf("%s\"%s\"", i ? "," : "", r.retired[i]);
        printf("]}\n");
    } else {
        printf("rank as of %s (%s score, weights %g/%g/%g/%g, at least %d trades):\n",
               tr_time_format(o.as_of, t0, sizeof t0), tr_score_method_name(o.method), o.w.win_rate,
               o.w.sharpe, o.w.avg_pnl, o.w.drawdown, o.min_trades);
        printf("%4s %-28s %-11s %-6s %6s %8s %8s %8s %8s %9s %9s  %s\n", "rank", "version", "type",
               "active", "trades", "win", "sharpe", "avg pips", "max dd", "raw", "rank sc", "note");
        for (size_t i = 0; i < r.n; i++) {
            const tr_rank_entry *x = &r.entries[i];
            char rk[16], raw[16], nrm[16];
            snprintf(rk, sizeof rk, x->rank ? "%d" : "-", x->rank);
            snprintf(raw, sizeof raw, isfinite(x->raw) ? "%.4f" : "-", x->raw);
            snprintf(nrm, sizeof nrm, isfinite(x->norm) ? "%.4f" : "-", x->norm);
            printf("%4s %-28s %-11s %-6s %6lld %8.4f %8.3f %8.2f %8.4f %9s %9s  %s\n", rk,
                   x->version, tr_version_type_name(x->type), x->was_active ? "*" : "",
                   (long long)x->bt.trades, x->bt.win_rate, x->bt.sharpe, x->bt.avg_pips,
                   x->bt.max_drawdown, raw, nrm, x->eligible ? "" : x->note);
        }
        if (r.prod_resolved_total == 0)
            printf("production: %lld recorded signals in the window, no outcomes recorded\n",
                   (long long)r.prod_signals_total);
        else
            printf("production: %lld recorded signals in the window, %lld with outcomes\n",
                   (long long)r.prod_signals_total, (long long)r.prod_resolved_total);
        if (!r.best[0])
            printf("no eligible version: active version %s unchanged\n",
                   r.active_before[0] ? r.active_before : "(none)");
        else if (r.activated)
            printf("activated %s (was %s)\n", r.best,
                   r.active_before[0] ? r.active_before : "(none)");
        else
            printf("best eligible version %s is already active: no change\n", r.best);
        printf("retired %zu daily version%s", r.n_retired, r.n_retired == 1 ? "" : "s");
        for (size_t i = 0; i < r.n_retired; i++)
            printf("%s %s", i ? "," : ":", r.retired[i]);
        printf("\nreport: %s\n", r.report_path);
    }
    tr_rank_result_free(&r);
    return EXIT_OK;
}

static const char *help_run_due =
    "usage: aifx-train run-due [--as-of TIME] [--daily-at HH:MM] [--weekly-at DAY,HH:MM]\n"
    "                          [--monthly-at D,HH:MM] [--max-retries N]\n"
    "                          [--disable incremental|full|rank|abtest ...] [--ab ...]\n"
    "                          [--quiet] [--json]\n"
    "                          [--store DIR]\n"
    "\n"
    "  Runs the cycles due at TIME (default now), UTC: the daily fine-tune (incremental) at\n"
    "  02:00, the weekly full retrain on Sunday at 01:00, the monthly ranking on the 1st at\n"
    "  00:00. A cycle is due when its latest scheduled time is not covered by a completed or\n"
    "  skipped log row; it runs once, as of that time (missed periods are caught up once). A\n"
    "  failed cycle is retried at the next call, up to 3 failed attempts per scheduled time.\n"
    "  Another run-due on the store: exit 4, nothing run. The abtest slot (00:30 daily) looks\n"
    "  at running A/B tests. --ab: the weekly retrain starts an A/B test (see full --help).\n"
    "  docs/operations.md.\n";

static int cmd_run_due(args *a)
{
    const char *store_dir = NULL, *as_of_s = NULL;
    out_opts oo = {0, 0, isatty(2), 0};
    tr_due_opts o = tr_due_opts_default();
    const tr_cli_optdef opts[] = {
        COMMON_OPTS(oo, store_dir),
        AB_OPTS(o.full),
        OPT_STR("--as-of", &as_of_s),
        OPT_CALL("--daily-at", &o.sched.minute[TR_SLOT_DAILY], parse_hhmm_opt, "(HH:MM)"),
        OPT_CALL("--weekly-at", &o.sched, parse_weekly, "(DAY,HH:MM, DAY mon..sun)"),
        OPT_CALL("--monthly-at", &o.sched, parse_monthly, "(D,HH:MM, D 1..28)"),
        OPT_INT("--max-retries", &o.sched.max_retries, 1, 1000, NULL),
        OPT_CALL("--disable", &o.sched, parse_disable, "(incremental, full, rank, abtest)"),
    };
    SCAN_OPTS(a, help_run_due, opts, sizeof opts / sizeof opts[0]);
    o.as_of = tr_wall_now();
    if (as_of_s && parse_time_arg(as_of_s, &o.as_of))
        return tr_cli_usage(a->cmd, "bad --as-of time:", as_of_s);
    if (!oo.json) {
        o.full.on_event = on_event;
        o.full.user = &oo;
        o.incr.on_event = on_event;
        o.incr.user = &oo;
    }
    tr_error e;
    tr_store *st;
    if (open_existing(store_dir, &st, &e))
        return tr_cli_fail(&e);
    tr_due_result r;
    tr_code rc = tr_run_due(st, &o, &r, &e);
    end_bar(&oo);
    tr_store_close(st);
    if (rc)
        return tr_cli_fail(&e);
    char t0[32], t1[32];
    if (oo.json)
        printf("{\"as_of\":\"%s\",\"cycles\":[", tr_time_format(o.as_of, t0, sizeof t0));
    for (int i = 0; i < r.n_items; i++) {
        const tr_due_item *it = &r.items[i];
        if (oo.json) {
            printf("%s{\"cycle\":\"%s\",\"scheduled\":\"%s\",\"outcome\":\"%s\",\"attempt\":%d,"
                   "\"version\":\"%s\",\"detail\":",
                   i ? "," : "", tr_slot_cycle(it->slot), tr_time_format(it->latest, t1, sizeof t1),
                   tr_run_outcome_name(it->outcome), it->attempt, it->version);
            tr_sb b = {0};
            tr_sb_json_str(&b, it->detail);
            printf("%s}", b.p ? b.p : "\"\"");
            tr_sb_free(&b);
        } else {
            printf("%-11s scheduled %s: %s", tr_slot_cycle(it->slot),
                   tr_time_format(it->latest, t1, sizeof t1), tr_run_outcome_name(it->outcome));
            if (it->outcome == TR_RUN_FAILED || it->outcome == TR_RUN_COMPLETED ||
                it->outcome == TR_RUN_SKIPPED)
                printf(" (attempt %d)", it->attempt);
            if (it->version[0])
                printf(" %s", it->version);
            if (it->detail[0])
                printf(": %s", it->detail);
            printf("\n");
        }
    }
    if (oo.json)
        printf("]}\n");
    if (r.first_error) {
        fprintf(stderr, "aifx-train: error: a cycle failed (kept in the log; retried at the next "
                        "call)\n");
        return tr_cli_exit_code(r.first_error);
    }
    return EXIT_OK;
}

static const char *help_replay =
    "usage: aifx-train replay --csv FILE --pair P [--csv FILE --pair P ...] --from D --to D\n"
    "                         [--flush-steps N] [--ab [--ab-days N] [--ab-split X]\n"
    "                         [--ab-min-trades N]] [--quiet] [--store DIR]\n"
    "\n"
    "  Walks a simulated clock over the 15-minute bar closes in (--from, --to]: each new bar\n"
    "  becomes visible, the active version's prediction for it is recorded as a signal, the\n"
    "  signals' outcomes are resolved when their exits occur, and run-due's schedule runs the\n"
    "  daily, weekly and monthly cycles as of the clock. Bars before --from are history (the\n"
    "  weekly retrain needs 3 months of them). Prints the timeline and writes it to\n"
    "  <store>/reports/replay-FROM-TO.md. Killed, it continues when started again with the same\n"
    "  arguments (state in <store>/replay.state); another replay's state there: exit 4.\n"
    "  docs/operations.md. --ab: every weekly retrain starts an A/B test (see full --help).\n";

static void on_replay_step(const tr_replay_progress *p, void *user)
{
    const out_opts *oo = user;
    if (oo->quiet)
        return;
    char t[40], t1[40];
    fprintf(stderr, "replay %s: step %zu/%zu, %zu signals\n", tr_time_format(p->clock, t, sizeof t),
            p->step, p->n_steps, p->n_signals);
    for (int i = 0; p->due && i < p->due->n_items; i++) {
        const tr_due_item *it = &p->due->items[i];
        if (it->outcome == TR_RUN_NOT_DUE || it->outcome == TR_RUN_DISABLED)
            continue;
        fprintf(stderr, "  %-11s %s: %s %s%s%.200s\n", tr_slot_cycle(it->slot),
                tr_time_format(it->latest, t1, sizeof t1), tr_run_outcome_name(it->outcome),
                it->version, it->detail[0] ? ": " : "", it->detail);
    }
}

static int cmd_replay(args *a)
{
    const char *store_dir = NULL, *from_s = NULL, *to_s = NULL;
    int n_csv = 0, n_pair = 0;
    out_opts oo = {0, 0, 0, 0};
    tr_replay_opts o = tr_replay_opts_default();
    const tr_cli_optdef opts[] = {
        COMMON_OPTS(oo, store_dir),
        AB_OPTS(o.due.full),
        OPT_LIST("--csv", o.csv, TR_REPLAY_MAX_PAIRS, &n_csv, NULL),
        OPT_LIST("--pair", o.pair, TR_REPLAY_MAX_PAIRS, &n_pair, check_pair),
        OPT_STR("--from", &from_s),
        OPT_STR("--to", &to_s),
        OPT_INT("--flush-steps", &o.flush_steps, 1, 100000, NULL),
    };
    SCAN_OPTS(a, help_replay, opts, sizeof opts / sizeof opts[0]);
    if (n_csv == 0 || n_csv != n_pair)
        return tr_cli_usage(a->cmd, "give one --pair for each --csv", NULL);
    o.n_pairs = n_csv;
    if (!from_s || parse_time_arg(from_s, &o.from))
        return tr_cli_usage(a->cmd, "missing or bad --from time:", from_s);
    if (!to_s || parse_time_arg(to_s, &o.to))
        return tr_cli_usage(a->cmd, "missing or bad --to time:", to_s);
    if (o.from >= o.to)
        return tr_cli_usage(a->cmd, "--from must be before --to", NULL);
    o.on_step = on_replay_step;
    o.user = &oo;
    tr_error e;
    tr_store *st;
    tr_error_clear(&e);
    if (tr_cli_store_open(store_dir, 1, &st, &e))
        return tr_cli_fail(&e);
    double t0 = now_seconds();
    tr_replay_result r;
    tr_code rc = tr_replay_run(st, &o, &r, &e);
    tr_store_close(st);
    if (rc)
        return tr_cli_fail(&e);
    fputs(r.timeline, stdout);
    printf("\nreport: %s\nreplay: %zu steps (%zu run now%s), %zu signals, %.1f s\n", r.report_path,
           r.n_steps, r.n_steps_run, r.resumed ? ", resumed" : "", r.n_signals, now_seconds() - t0);
    tr_replay_result_free(&r);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    /* --models-dir DIR, anywhere: taken out of argv and given to every store this process
     * opens (tr_cli_store_open); $AIFX_MODELS_DIR is its default */
    tr_cli_models_dir = getenv("AIFX_MODELS_DIR");
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i], *v = NULL;
        int used = 0;
        if (strcmp(s, "--models-dir") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "aifx-train: missing value of --models-dir\n");
                return EXIT_USAGE;
            }
            v = argv[i + 1];
            used = 2;
        } else if (strncmp(s, "--models-dir=", 13) == 0) {
            v = s + 13;
            used = 1;
        }
        if (!used)
            continue;
        if (!v[0]) {
            fprintf(stderr, "aifx-train: bad --models-dir '%s'\n", v);
            return EXIT_USAGE;
        }
        tr_cli_models_dir = v;
        for (int j = i; j + used <= argc; j++)
            argv[j] = argv[j + used]; /* argv[argc] is NULL and moves along */
        argc -= used;
        i--;
    }
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(help_main, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("aifx-train %s\n", AIFX_TRAIN_VERSION);
        return EXIT_OK;
    }
    static const struct {
        const char *name;
        int (*fn)(args *a);
    } commands[] = {
        {"ingest", cmd_ingest},     {"synth", cmd_synth},       {"dataset", cmd_dataset},
        {"bars", cmd_bars},         {"full", cmd_full},         {"incremental", cmd_incremental},
        {"activate", cmd_activate}, {"rollback", cmd_rollback}, {"versions", cmd_versions},
        {"log", cmd_log},           {"evaluate", cmd_evaluate}, {"backtest", cmd_backtest},
        {"predict", cmd_predict},   {"rank", cmd_rank},         {"run-due", cmd_run_due},
        {"replay", cmd_replay},
    };
    args a = {argc, 2, argv, argv[1]};
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        if (strcmp(argv[1], commands[k].name) == 0)
            return commands[k].fn(&a);
    if (strcmp(argv[1], "db") == 0)
        return tr_cmd_db(argc, argv, tr_cli_fail);
    if (strcmp(argv[1], "ab") == 0)
        return tr_cmd_ab(argc, argv);
    if (strcmp(argv[1], "listen") == 0)
        return tr_cmd_listen(argc, argv, tr_cli_fail);
    fprintf(stderr, "aifx-train: unknown command '%s'\n%s", argv[1], help_main);
    return EXIT_USAGE;
}
