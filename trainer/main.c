/*
 * main.c - aifx-train's command line: parses arguments, calls the modules, prints, exits.
 * The only file that prints to the terminal or exits; exit codes are documented in docs/cli.md.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csv.h"
#include "dataset.h"
#include "ingest.h"
#include "store.h"
#include "synth.h"
#include "timeutil.h"

#define AIFX_TRAIN_VERSION "0.1.0"

enum {
    EXIT_OK = 0,
    EXIT_INTERNAL = 1,
    EXIT_USAGE = 2,
    EXIT_DATA = 3,
    EXIT_CONFLICT = 4,
    EXIT_STORE = 5,
    EXIT_NOTFOUND = 6,
    EXIT_NOMEM = 7,
    EXIT_UNSUPPORTED = 8
};

static int exit_code(tr_code rc)
{
    switch (rc) {
    case TR_OK: return EXIT_OK;
    case TR_ERR_INVALID: return EXIT_USAGE;
    case TR_ERR_DATA: return EXIT_DATA;
    case TR_ERR_CONFLICT: return EXIT_CONFLICT;
    case TR_ERR_IO:
    case TR_ERR_FORMAT:
    case TR_ERR_VERSION:
    case TR_ERR_CHECKSUM: return EXIT_STORE;
    case TR_ERR_NOTFOUND: return EXIT_NOTFOUND;
    case TR_ERR_NOMEM: return EXIT_NOMEM;
    case TR_ERR_UNSUPPORTED: return EXIT_UNSUPPORTED;
    }
    return EXIT_INTERNAL;
}

static int fail(const tr_error *e)
{
    fprintf(stderr, "aifx-train: error: %s\n", e->msg);
    return exit_code(e->code);
}

static int usage_error(const char *cmd, const char *what, const char *arg)
{
    fprintf(stderr, "aifx-train %s: %s%s%s\nTry 'aifx-train %s --help'.\n", cmd, what,
            arg ? " " : "", arg ? arg : "", cmd);
    return EXIT_USAGE;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- option scanning ------------------------------------------------------------------------ */

typedef struct args {
    int argc, i;
    char **argv;
    const char *cmd;
} args;

/* If argv[i] is --name (followed by a value) or --name=value, sets *value and advances. */
static int opt_value(args *a, const char *name, const char **value, int *missing)
{
    const char *s = a->argv[a->i];
    size_t n = strlen(name);
    if (strncmp(s, name, n) != 0)
        return 0;
    if (s[n] == '=') {
        *value = s + n + 1;
        return 1;
    }
    if (s[n] != '\0')
        return 0;
    if (a->i + 1 >= a->argc) {
        *missing = 1;
        return 1;
    }
    *value = a->argv[++a->i];
    return 1;
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_time_arg(const char *s, int64_t *t)
{
    return tr_time_parse(s, strlen(s), 0, t);
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
    "\n"
    "common options:\n"
    "  --store DIR   the store (default $AIFX_STORE, else ./aifx-data)\n"
    "  --help        help for a command;  aifx-train --version\n"
    "\n"
    "exit codes: 0 ok, 1 internal error, 2 usage, 3 bad input data, 4 conflict with stored\n"
    "bars, 5 store or file error, 6 not found, 7 out of memory, 8 unsupported (docs/cli.md)\n";

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
    const char *tz = NULL, *v;
    int replace = 0, missing = 0;
    for (a->i = 2; a->i < a->argc; a->i++) {
        const char *s = a->argv[a->i];
        if (strcmp(s, "--help") == 0) {
            fputs(help_ingest, stdout);
            return EXIT_OK;
        } else if (strcmp(s, "--replace") == 0) {
            replace = 1;
        } else if (opt_value(a, "--pair", &v, &missing)) {
            pair = v;
        } else if (opt_value(a, "--csv", &v, &missing)) {
            csv = v;
        } else if (opt_value(a, "--store", &v, &missing)) {
            store_dir = v;
        } else if (opt_value(a, "--timeframe", &v, &missing)) {
            tfs = v;
        } else if (opt_value(a, "--format", &v, &missing)) {
            fmt = v;
        } else if (opt_value(a, "--tz-offset", &v, &missing)) {
            tz = v;
        } else {
            return usage_error(a->cmd, "unknown option", s);
        }
        if (missing)
            return usage_error(a->cmd, "missing value after", s);
    }
    if (!pair || !csv)
        return usage_error(a->cmd, "--pair and --csv are required", NULL);
    if (!tr_pair_valid(pair))
        return usage_error(a->cmd, "bad pair name (3-15 characters A-Z 0-9):", pair);
    int32_t tf;
    if (tr_timeframe_parse(tfs, &tf))
        return usage_error(a->cmd, "bad timeframe:", tfs);
    tr_csv_options o = tr_csv_options_default(tf);
    if (tr_csv_format_parse(fmt, &o.format))
        return usage_error(a->cmd, "bad format (auto, generic, yfinance, mt4):", fmt);
    if (tz) {
        if (strcmp(tz, "EET") == 0 || strcmp(tz, "eet") == 0) {
            o.tz_mode = TR_TZ_EET;
        } else {
            char *end;
            double hours = strtod(tz, &end);
            if (end == tz || *end || !(fabs(hours) <= 14) ||
                fabs(hours * 4 - round(hours * 4)) > 1e-9)
                return usage_error(a->cmd, "bad --tz-offset (hours, a multiple of 0.25, or EET):",
                                   tz);
            o.tz_offset = (int32_t)lround(hours * 3600);
        }
    }
    tr_error e;
    tr_error_clear(&e);
    tr_store *st;
    tr_code rc = tr_store_open(tr_store_location(store_dir), 1, &st, &e);
    if (rc)
        return fail(&e);
    tr_ingest_result r;
    double t0 = now_seconds();
    rc = tr_ingest_csv(st, pair, csv, &o, replace, &r, &e);
    double dt = now_seconds() - t0;
    tr_store_close(st);
    if (rc)
        return fail(&e);
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
    const char *to = NULL, *seed_s = "1", *v;
    int replace = 0, missing = 0;
    for (a->i = 2; a->i < a->argc; a->i++) {
        const char *s = a->argv[a->i];
        if (strcmp(s, "--help") == 0) {
            fputs(help_synth, stdout);
            return EXIT_OK;
        } else if (strcmp(s, "--replace") == 0) {
            replace = 1;
        } else if (opt_value(a, "--pair", &v, &missing)) {
            pair = v;
        } else if (opt_value(a, "--csv", &v, &missing)) {
            csv = v;
        } else if (opt_value(a, "--store", &v, &missing)) {
            store_dir = v;
        } else if (opt_value(a, "--timeframe", &v, &missing)) {
            tfs = v;
        } else if (opt_value(a, "--from", &v, &missing)) {
            from = v;
        } else if (opt_value(a, "--to", &v, &missing)) {
            to = v;
        } else if (opt_value(a, "--seed", &v, &missing)) {
            seed_s = v;
        } else {
            return usage_error(a->cmd, "unknown option", s);
        }
        if (missing)
            return usage_error(a->cmd, "missing value after", s);
    }
    if (!pair || !from || !to)
        return usage_error(a->cmd, "--pair, --from and --to are required", NULL);
    tr_synth_params p = tr_synth_params_default(pair, 0, 0, 0);
    if (!tr_pair_valid(pair))
        return usage_error(a->cmd, "bad pair name (3-15 characters A-Z 0-9):", pair);
    if (tr_timeframe_parse(tfs, &p.timeframe))
        return usage_error(a->cmd, "bad timeframe:", tfs);
    if (parse_time_arg(from, &p.from))
        return usage_error(a->cmd, "bad --from date:", from);
    if (parse_time_arg(to, &p.to))
        return usage_error(a->cmd, "bad --to date:", to);
    char *end;
    unsigned long long seed = strtoull(seed_s, &end, 10);
    if (end == seed_s || *end || seed_s[0] == '-')
        return usage_error(a->cmd, "bad --seed:", seed_s);
    p.seed = seed;
    tr_error e;
    tr_error_clear(&e);
    tr_bars bars = {0};
    int dec;
    tr_code rc = tr_synth_generate(&p, &bars, &dec, &e);
    if (rc)
        return fail(&e);
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
        rc = tr_store_open(tr_store_location(store_dir), 1, &st, &e);
        if (!rc) {
            rc = tr_store_bars_put(st, pair, p.timeframe, bars.v, bars.n, replace, &ps, &e);
            if (!rc)
                printf("%s %s: %zu synthetic bars (seed %llu) into %s: %zu added, %zu unchanged, "
                       "%zu replaced\n",
                       pair, tfn, bars.n, seed, st->location, ps.n_added, ps.n_unchanged,
                       ps.n_replaced);
            tr_store_close(st);
        }
    }
    tr_bars_free(&bars);
    return rc ? fail(&e) : EXIT_OK;
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
    int n_pairs = 0, describe = 0, missing = 0;
    const char *store_dir = NULL, *tfs = "15m", *from = NULL, *to = NULL, *v;
    tr_dataset_options o = tr_dataset_options_default();
    for (a->i = 2; a->i < a->argc; a->i++) {
        const char *s = a->argv[a->i];
        long n;
        if (strcmp(s, "--help") == 0) {
            fputs(help_dataset, stdout);
            return EXIT_OK;
        } else if (strcmp(s, "--describe") == 0) {
            describe = 1;
        } else if (opt_value(a, "--pair", &v, &missing)) {
            if (n_pairs == 64)
                return usage_error(a->cmd, "too many --pair options", NULL);
            if (!missing)
                pairs[n_pairs++] = v;
        } else if (opt_value(a, "--store", &v, &missing)) {
            store_dir = v;
        } else if (opt_value(a, "--timeframe", &v, &missing)) {
            tfs = v;
        } else if (opt_value(a, "--from", &v, &missing)) {
            from = v;
        } else if (opt_value(a, "--to", &v, &missing)) {
            to = v;
        } else if (opt_value(a, "--window", &v, &missing)) {
            if (!missing && parse_int(v, 1, 10000, &n))
                return usage_error(a->cmd, "bad --window:", v);
            o.window = missing ? 0 : (int)n;
        } else if (opt_value(a, "--k", &v, &missing)) {
            if (!missing && parse_int(v, 1, 10000, &n))
                return usage_error(a->cmd, "bad --k:", v);
            o.label.k = missing ? 0 : (int)n;
        } else if (opt_value(a, "--h", &v, &missing)) {
            if (!missing && parse_int(v, 1, 10000, &n))
                return usage_error(a->cmd, "bad --h:", v);
            o.label.h = missing ? 0 : (int)n;
        } else if (opt_value(a, "--embargo", &v, &missing)) {
            if (!missing && parse_int(v, 1, 1000000, &n))
                return usage_error(a->cmd, "bad --embargo:", v);
            o.embargo = missing ? 0 : (int)n;
        } else if (opt_value(a, "--max-gap", &v, &missing)) {
            if (!missing && parse_int(v, 0, 1000000, &n))
                return usage_error(a->cmd, "bad --max-gap:", v);
            o.max_gap_bars = missing ? 0 : (int)n;
        } else if (opt_value(a, "--m", &v, &missing)) {
            char *end;
            o.label.m = missing ? 0 : strtod(v, &end);
            if (!missing && (end == v || *end || !(o.label.m > 0) || !isfinite(o.label.m)))
                return usage_error(a->cmd, "bad --m:", v);
        } else {
            return usage_error(a->cmd, "unknown option", s);
        }
        if (missing)
            return usage_error(a->cmd, "missing value after", s);
    }
    if (!from || !to)
        return usage_error(a->cmd, "--from and --to are required", NULL);
    int32_t tf;
    if (tr_timeframe_parse(tfs, &tf))
        return usage_error(a->cmd, "bad timeframe:", tfs);
    if (parse_time_arg(from, &o.from))
        return usage_error(a->cmd, "bad --from date:", from);
    if (parse_time_arg(to, &o.to))
        return usage_error(a->cmd, "bad --to date:", to);
    tr_error e;
    tr_error_clear(&e);
    tr_store *st;
    tr_code rc = tr_store_open(tr_store_location(store_dir), 0, &st, &e);
    if (rc)
        return fail(&e);
    tr_series_info *list = NULL;
    size_t n_list = 0;
    if (n_pairs == 0) {
        rc = tr_store_series_list(st, &list, &n_list, &e);
        for (size_t i = 0; i < n_list && !rc; i++)
            if (list[i].timeframe == tf && n_pairs < 64)
                pairs[n_pairs++] = list[i].pair;
        if (!rc && n_pairs == 0) {
            char tfn[16];
            rc = tr_fail(&e, TR_ERR_NOTFOUND, "store %s has no series at %s", st->location,
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
        return fail(&e);
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
    const char *store_dir = NULL, *v;
    int missing = 0;
    for (a->i = 2; a->i < a->argc; a->i++) {
        const char *s = a->argv[a->i];
        if (strcmp(s, "--help") == 0) {
            fputs(help_bars, stdout);
            return EXIT_OK;
        } else if (opt_value(a, "--store", &v, &missing)) {
            store_dir = v;
        } else {
            return usage_error(a->cmd, "unknown option", s);
        }
        if (missing)
            return usage_error(a->cmd, "missing value after", s);
    }
    tr_error e;
    tr_error_clear(&e);
    tr_store *st;
    tr_code rc = tr_store_open(tr_store_location(store_dir), 0, &st, &e);
    if (rc)
        return fail(&e);
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
    return rc ? fail(&e) : EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(help_main, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("aifx-train %s\n", AIFX_TRAIN_VERSION);
        return EXIT_OK;
    }
    args a = {argc, 2, argv, argv[1]};
    if (strcmp(argv[1], "ingest") == 0)
        return cmd_ingest(&a);
    if (strcmp(argv[1], "synth") == 0)
        return cmd_synth(&a);
    if (strcmp(argv[1], "dataset") == 0)
        return cmd_dataset(&a);
    if (strcmp(argv[1], "bars") == 0)
        return cmd_bars(&a);
    fprintf(stderr, "aifx-train: unknown command '%s'\n%s", argv[1], help_main);
    return EXIT_USAGE;
}
