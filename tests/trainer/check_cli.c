/*
 * check_cli.c - aifx-train as a user runs it: every documented exit code (docs/cli.md) and the
 * messages that name the file, line, pair or store.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check_main.h"
#include "testutil.h"

static char *dir;

/* "aifx-train ARGS" with output captured in dir/out.txt; the exit status (testutil.h). */
#define run(...)         tu_run(AIFX_TRAIN_EXE, dir, __VA_ARGS__)
#define output_has(text) tu_output_has(dir, text)

static void setup(void)
{
    dir = tu_tempdir();
}

static void teardown(void)
{
    tu_rmtree(dir);
    free(dir);
}

START_TEST(test_exit_codes)
{
    char *store = tu_path(dir, "store"), *csv = tu_path(dir, "a.csv");
    char *bad = tu_write(dir, "bad.csv",
                         "timestamp,open,high,low,close,volume\n"
                         "2024-01-02T00:00:00Z,1.1,1.2,1.0,1.15,5\n"
                         "2024-01-02T00:10:00Z,1.1,1.2,1.0,1.15,5\n");
    ck_assert_int_eq(run("--help"), 0);
    ck_assert_int_eq(run("ingest --help"), 0);
    ck_assert_int_eq(run("frobnicate"), 2);
    ck_assert_int_eq(run("ingest --pair EURUSD"), 2);
    ck_assert_int_eq(run("ingest --pair eur/usd --csv x"), 2);
    ck_assert_int_eq(run("ingest --pair EURUSD --csv x --timeframe 7m"), 2);
    /* synth into a CSV, ingest it; again (no-op); a bad file (3); a conflict (4) */
    ck_assert_int_eq(
        run("synth --pair EURUSD --from 2024-01-01 --to 2024-02-01 --seed 7 --csv %s", csv), 0);
    ck_assert_int_eq(run("ingest --pair EURUSD --csv %s --store %s", csv, store), 0);
    ck_assert(output_has("2208 added, 0 unchanged, 0 replaced"));
    ck_assert_int_eq(run("ingest --pair EURUSD --csv %s --store %s", csv, store), 0);
    ck_assert(output_has("0 added, 2208 unchanged"));
    ck_assert_int_eq(run("ingest --pair EURUSD --csv %s --store %s", bad, store), 3);
    ck_assert(output_has("bad.csv:3: timestamp 2024-01-02T00:10:00Z is off the 15m bar grid"));
    ck_assert_int_eq(run("synth --pair EURUSD --from 2024-01-01 --to 2024-02-01 --seed 8 "
                         "--store %s",
                         store),
                     4);
    ck_assert(output_has("EURUSD 15m bar 2024-01-01T00:00:00Z conflicts"));
    ck_assert_int_eq(run("synth --pair EURUSD --from 2024-01-01 --to 2024-02-01 --seed 8 "
                         "--replace --store %s",
                         store),
                     0);
    ck_assert_int_eq(run("bars --store %s", store), 0);
    ck_assert(output_has("EURUSD     15m        2208"));
    /* datasets: too little data (6), a missing pair (6), a missing store (6), a good one (0) */
    ck_assert_int_eq(run("dataset --from 2024-01-01 --to 2024-02-01 --store %s", store), 0);
    ck_assert_int_eq(run("dataset --from 2024-01-01 --to 2024-01-03 --store %s", store), 6);
    ck_assert_int_eq(
        run("dataset --pair GBPUSD --from 2024-01-01 --to 2024-02-01 --store %s", store), 6);
    ck_assert(output_has("GBPUSD 15m"));
    ck_assert_int_eq(run("dataset --from 2024-01-01 --to 2024-02-01 --store %s/none", dir), 6);
    ck_assert_int_eq(
        run("dataset --from 2024-01-01 --to 2024-02-01 --embargo 10 --store %s", store), 2);
    ck_assert_int_eq(run("dataset --from 2024-01-01 --to 2024-02-01 --describe --store %s", store),
                     0);
    ck_assert(output_has("class weights (train"));
    ck_assert(output_has("atr_ratio"));
    /* a damaged store file (5), and PostgreSQL in this build (8) */
    char *f = tu_path(store, "bars/EURUSD_15m.bars");
    FILE *fp = fopen(f, "r+b");
    fseek(fp, 500, SEEK_SET);
    fputc(0x55, fp);
    fclose(fp);
    ck_assert_int_eq(run("dataset --from 2024-01-01 --to 2024-02-01 --store %s", store), 5);
    ck_assert(output_has("EURUSD_15m.bars: data checksum mismatch"));
    /* a PostgreSQL store whose server is not there (a socket directory that does not exist:
     * never a real server): a store error, or unsupported in a build without PostgreSQL */
#ifdef AIFX_WITH_POSTGRESQL
    ck_assert_int_eq(run("bars --store 'postgresql:///x?host=/nonexistent-aifx-pg'"), 5);
    ck_assert(output_has("cannot connect to PostgreSQL"));
#else
    ck_assert_int_eq(run("bars --store 'postgresql:///x?host=/nonexistent-aifx-pg'"), 8);
#endif
    free(f);
    free(store), free(csv), free(bad);
}
END_TEST

START_TEST(test_registry_commands)
{
    char *store = tu_path(dir, "s");
    static const char *const helps[] = {"full", "incremental", "activate", "rollback", "versions",
                                        "log",  "evaluate",    "backtest", "predict"};
    for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++) {
        ck_assert_int_eq(run("%s --help", helps[i]), 0);
        ck_assert(output_has("usage: aifx-train"));
        ck_assert_int_eq(run("%s --bogus", helps[i]), 2);
    }
    ck_assert_int_eq(run("versions --store %s", store), 6); /* no store */
    ck_assert_int_eq(run("synth --pair EURUSD --from 2024-01-01 --to 2024-03-08 --store %s", store),
                     0);
    ck_assert_int_eq(run("synth --pair USDJPY --from 2024-01-01 --to 2024-03-08 --seed 3 "
                         "--store %s",
                         store),
                     0);
    ck_assert_int_eq(run("versions --store %s", store), 0);
    ck_assert_int_eq(run("versions show v9.9 --store %s", store), 6);
    ck_assert(output_has("version v9.9 is not in the registry"));
    ck_assert_int_eq(run("activate --store %s", store), 2);
    ck_assert_int_eq(run("activate 'v1;rm' --store %s", store), 2);
    ck_assert_int_eq(run("activate v9.9 --store %s", store), 6);
    ck_assert(output_has("v9.9"));
    ck_assert_int_eq(run("rollback --store %s", store), 6);
    ck_assert_int_eq(run("predict --pair EURUSD --as-of 2024-03-01 --store %s", store), 6);
    ck_assert(output_has("no active version"));
    ck_assert_int_eq(run("incremental --as-of 2024-03-01 --store %s", store), 6);
    /* a failed cycle: exit 6, a failed log row */
    ck_assert_int_eq(run("full --as-of 2019-01-01 --quiet --store %s", store), 6);
    ck_assert_int_eq(run("log --store %s", store), 0);
    ck_assert(output_has("failed"));
    /* a small full retrain, then another (argmax: an untrained net has no edge to trade) */
    ck_assert_int_eq(run("full --as-of 2024-03-01 --months 1 --epochs 2 --hidden 8 --quiet "
                         "--decision argmax --store %s",
                         store),
                     0);
    ck_assert(output_has("full: version v1.0"));
    ck_assert(output_has("activated: no version was active"));
    ck_assert_int_eq(run("full --as-of 2024-03-05 --months 1 --epochs 2 --hidden 8 --json "
                         "--decision argmax --store %s",
                         store),
                     0);
    ck_assert(output_has("{\"event\":\"epoch\",\"cycle\":\"full\",\"epoch\":1"));
    ck_assert(output_has("\"version\":\"v1.1\",\"activated\":false"));
    ck_assert_int_eq(run("versions --json --store %s", store), 0);
    ck_assert(output_has("\"version\":\"v1.1\""));
    ck_assert_int_eq(run("versions show v1.0 --store %s", store), 0);
    ck_assert(output_has("ACTIVE"));
    ck_assert_int_eq(run("activate v1.1 --reason 'try it' --store %s", store), 0);
    ck_assert(output_has("activated: v1.0 -> v1.1"));
    ck_assert_int_eq(run("rollback --store %s", store), 0);
    ck_assert(output_has("rolled back: v1.1 -> v1.0"));
    ck_assert_int_eq(run("log --activations --json --store %s", store), 0);
    ck_assert(output_has("\"reason\":\"rollback\""));
    /* evaluate, backtest, predict */
    ck_assert_int_eq(run("evaluate --version v1.1 --from 2024-02-20 --to 2024-03-05 --json "
                         "--store %s",
                         store),
                     0);
    ck_assert(output_has("\"classification\":{\"n\":"));
    ck_assert_int_eq(
        run("evaluate --version v1.1 --from 2024-03-05 --to 2024-02-20 --store %s", store), 2);
    ck_assert_int_eq(run("backtest --version v1.1 --from 2024-02-20 --to 2024-03-05 --spread x "
                         "--store %s",
                         store),
                     2);
    ck_assert_int_eq(run("backtest --version v1.1 --from 2024-02-20 --to 2024-03-05 "
                         "--threshold 0.5 --store %s",
                         store),
                     0);
    ck_assert(output_has("backtest (all pairs)"));
    ck_assert_int_eq(run("predict --pair EURUSD --as-of 2024-03-06T10:00 --json --store %s", store),
                     0);
    ck_assert(output_has("\"bar_time\":\"2024-03-06T09:45:00Z\""));
    ck_assert(output_has("\"version\":\"v1.0\""));
    ck_assert_int_eq(run("predict --pair EURUSD --as-of 2024-03-20 --store %s", store), 9);
    ck_assert(output_has("EURUSD 15m: the newest bar closed"));
    ck_assert_int_eq(run("incremental --as-of 2024-03-06 --json --store %s", store), 0);
    ck_assert(output_has("\"version\":\"v1.0-daily-20240306\""));
    ck_assert_int_eq(run("incremental --as-of 2024-03-06 --store %s", store), 4);
    ck_assert(output_has("already exists"));
    /* a truncated registry: exit 5, naming the file */
    char *reg = tu_path(store, "registry.aifx");
    ck_assert_int_eq(truncate(reg, 100), 0);
    ck_assert_int_eq(run("versions --store %s", store), 5);
    ck_assert(output_has("registry.aifx: truncated"));
    free(reg);
    free(store);
}
END_TEST

START_TEST(test_help)
{
    /* every command: `help NAME`, `NAME --help` and `NAME -h` print its usage and exit 0 */
    static const char *const names[] = {
        "ingest",   "synth",    "dataset", "bars",     "full",     "incremental", "activate",
        "rollback", "versions", "log",     "evaluate", "backtest", "predict",     "rank",
        "run-due",  "replay",   "ab",      "db",       "listen"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char usage[64];
        snprintf(usage, sizeof usage, "usage: aifx-train %s", names[i]);
        ck_assert_int_eq(run("help %s", names[i]), 0);
        ck_assert_msg(output_has(usage), "help %s", names[i]);
        ck_assert_int_eq(run("%s --help", names[i]), 0);
        ck_assert_msg(output_has(usage), "%s --help", names[i]);
        ck_assert_int_eq(run("%s -h", names[i]), 0);
        ck_assert_msg(output_has(usage), "%s -h", names[i]);
    }
    /* the global usage lists every command with its summary */
    ck_assert_int_eq(run("help"), 0);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char line[64];
        snprintf(line, sizeof line, "  %-12s ", names[i]);
        ck_assert_msg(output_has(line), "help lists %s", names[i]);
    }
    ck_assert_int_eq(run("-h"), 0);
    ck_assert(output_has("usage: aifx-train <command>"));
    ck_assert_int_eq(run("%s", ""), 2);
    ck_assert_int_eq(run("help frobnicate"), 2);
    ck_assert(output_has("unknown command 'frobnicate'"));
}
END_TEST

START_TEST(test_value_parsers)
{
    /* one parser per kind of value, and one bound for an A/B test's share, whatever the command;
     * all refused while scanning, before any store is opened */
    ck_assert_int_eq(run("ab start --a v1.0 --b v1.1 --split 0.0000001 --store %s/none", dir), 2);
    ck_assert(output_has("bad --split (a share in (0, 1)): 0.0000001"));
    ck_assert_int_eq(run("full --ab --ab-split 0.0000001 --store %s/none", dir), 2);
    ck_assert(output_has("bad --ab-split (a share in (0, 1)): 0.0000001"));
    ck_assert_int_eq(run("run-due --ab-split 1 --store %s/none", dir), 2);
    ck_assert(output_has("bad --ab-split"));
    /* a bounded number without a hint of its own names its range */
    ck_assert_int_eq(run("full --months 0 --store %s/none", dir), 2);
    ck_assert(output_has("bad --months (1..120): 0"));
    ck_assert_int_eq(run("rank --window-days 0 --store %s/none", dir), 2);
    ck_assert(output_has("bad --window-days (1..3660): 0"));
    ck_assert_int_eq(run("backtest --version v1.0 --spread -1 --store %s/none", dir), 2);
    ck_assert(output_has("bad --spread (>= 0): -1"));
    /* the global --train-threads, anywhere on the line, before the command's own options */
    ck_assert_int_eq(run("versions --train-threads 0 --store %s/none", dir), 2);
    ck_assert(output_has("bad --train-threads '0' (auto or 1 .. 64)"));
    ck_assert_int_eq(run("--train-threads=65 versions --store %s/none", dir), 2);
    ck_assert_int_eq(run("--train-threads auto versions --store %s/none", dir), 6);
    ck_assert_int_eq(run("versions --train-threads 3 --store %s/none", dir), 6);
    /* a share at the bound is taken: the command goes on to the (missing) store */
    ck_assert_int_eq(run("full --ab --ab-split 0.000001 --store %s/none", dir), 6);
    /* seeds: decimal for the trainer and the generator, non-zero hexadecimal for an A/B test;
     * no sign, no overflow */
    ck_assert_int_eq(run("full --seed -1 --store %s/none", dir), 2);
    ck_assert(output_has("bad --seed (0..2147483647): -1"));
    ck_assert_int_eq(run("full --seed 2147483648 --store %s/none", dir), 2);
    ck_assert_int_eq(run("full --seed 0x10 --store %s/none", dir), 2);
    ck_assert_int_eq(run("synth --pair EURUSD --from 2024-01-01 --to 2024-01-02 --seed -1"), 2);
    ck_assert(output_has("bad --seed: -1"));
    ck_assert_int_eq(run("synth --pair EURUSD --from 2024-01-01 --to 2024-01-02 "
                         "--seed 18446744073709551616"),
                     2);
    ck_assert_int_eq(run("ab start --a v1.0 --b v1.1 --seed 0 --store %s/none", dir), 2);
    ck_assert(output_has("bad --seed (non-zero hexadecimal): 0"));
    ck_assert_int_eq(run("ab start --a v1.0 --b v1.1 --seed 12g --store %s/none", dir), 2);
    ck_assert_int_eq(run("ab start --a v1.0 --b v1.1 --seed ffff --store %s/none", dir), 6);
    /* hours east of UTC in quarter hours, or EET */
    ck_assert_int_eq(run("ingest --pair EURUSD --csv x.csv --tz-offset 5.3"), 2);
    ck_assert(output_has("bad --tz-offset (hours, a multiple of 0.25, or EET): 5.3"));
    /* times: the same message for --as-of on every command */
    ck_assert_int_eq(run("predict --pair EURUSD --as-of yesterday --store %s/none", dir), 2);
    ck_assert(output_has("bad --as-of time: yesterday"));
    ck_assert_int_eq(run("ab status --as-of yesterday --store %s/none", dir), 2);
    ck_assert(output_has("bad --as-of time: yesterday"));
}
END_TEST

/* A store with two pairs and two small versions, v1.0 (active) and v1.1. */
static char *two_versions(void)
{
    char *store = tu_path(dir, "s");
    ck_assert_int_eq(run("synth --pair EURUSD --from 2024-01-01 --to 2024-03-08 --store %s", store),
                     0);
    ck_assert_int_eq(run("synth --pair USDJPY --from 2024-01-01 --to 2024-03-08 --seed 3 "
                         "--store %s",
                         store),
                     0);
    ck_assert_int_eq(run("full --as-of 2024-03-01 --months 1 --epochs 2 --hidden 8 --quiet "
                         "--store %s",
                         store),
                     0);
    ck_assert_int_eq(run("full --as-of 2024-03-05 --months 1 --epochs 2 --hidden 8 --quiet "
                         "--store %s",
                         store),
                     0);
    return store;
}

START_TEST(test_version_and_pair_options)
{
    char *store = two_versions();
    /* a version: --version V on every command that takes one, V alone as its shorthand */
    ck_assert_int_eq(run("activate --version v1.1 --store %s", store), 0);
    ck_assert(output_has("activated: v1.0 -> v1.1"));
    ck_assert_int_eq(run("activate v1.0 --store %s", store), 0);
    ck_assert(output_has("activated: v1.1 -> v1.0"));
    ck_assert_int_eq(run("activate v1.0 --version v1.1 --store %s", store), 2);
    ck_assert(output_has("more than one version: v1.0 and v1.1"));
    ck_assert_int_eq(run("activate --version 'v1;rm' --store %s", store), 2);
    ck_assert(output_has("bad --version"));
    ck_assert_int_eq(run("versions show --version v1.1 --store %s", store), 0);
    ck_assert(output_has("version      v1.1"));
    ck_assert_int_eq(run("versions --version v1.1 --json --store %s", store), 0);
    ck_assert(output_has("\"version\":\"v1.1\""));
    ck_assert_int_eq(
        run("evaluate v1.1 --from 2024-02-20 --to 2024-03-05 --json --store %s", store), 0);
    ck_assert(output_has("\"version\":\"v1.1\""));
    /* pairs: --pair repeated or a comma list, --pairs an alias, on every command taking pairs */
    ck_assert_int_eq(run("backtest --version v1.1 --from 2024-02-20 --to 2024-03-05 --json "
                         "--pair EURUSD,USDJPY --store %s",
                         store),
                     0);
    ck_assert(output_has("\"pairs\":{\"EURUSD\":"));
    ck_assert(output_has(",\"USDJPY\":"));
    ck_assert_int_eq(run("evaluate --version v1.1 --from 2024-02-20 --to 2024-03-05 --json "
                         "--pairs USDJPY --store %s",
                         store),
                     0);
    ck_assert(output_has("\"pairs\":{\"USDJPY\":"));
    ck_assert_int_eq(run("dataset --pair EURUSD,USDJPY --from 2024-02-01 --to 2024-03-01 "
                         "--describe --store %s",
                         store),
                     0);
    ck_assert(output_has("dataset: 2 pairs (EURUSD, USDJPY)"));
    ck_assert_int_eq(run("dataset --pair EURUSD,eurusd --from 2024-02-01 --to 2024-03-01 "
                         "--store %s",
                         store),
                     2);
    ck_assert(output_has("bad --pair (a pair or a comma list: EURUSD,USDJPY): EURUSD,eurusd"));
    ck_assert_int_eq(
        run("dataset --pair EURUSD, --from 2024-02-01 --to 2024-03-01 --store %s", store), 2);
    ck_assert_int_eq(run("predict --pair EURUSD,USDJPY --store %s", store), 2);
    ck_assert(output_has("bad pair name (one pair, 3-15 characters A-Z 0-9): EURUSD,USDJPY"));
    ck_assert_int_eq(run("replay --csv a.csv --csv b.csv --pair EURUSD,bad/x --from 2024-03-01 "
                         "--to 2024-03-02 --store %s",
                         store),
                     2);
    ck_assert(output_has("bad --pair"));
    /* an A/B test's two arms: --a/--b, or A B; its pairs like every command's */
    ck_assert_int_eq(
        run("ab start v1.0 v1.1 --pair USDJPY,EURUSD --as-of 2024-03-06 --store %s", store), 0);
    ck_assert(output_has("started A/B test ab1: v1.0 (A) vs v1.1 (B) on EURUSD,USDJPY"));
    ck_assert_int_eq(run("ab stop ab1 --as-of 2024-03-06T01:00 --store %s", store), 0);
    ck_assert_int_eq(run("ab start --a v1.0 --b v1.1 --pair EURUSD --pairs USDJPY "
                         "--as-of 2024-03-06T02:00 --store %s",
                         store),
                     0);
    ck_assert(output_has("started A/B test ab2: v1.0 (A) vs v1.1 (B) on EURUSD,USDJPY"));
    ck_assert_int_eq(run("ab start v1.0 --b v1.1 --store %s", store), 2);
    ck_assert_int_eq(run("ab start --a v1.0 --a v1.1 --store %s", store), 2);
    free(store);
}
END_TEST

START_TEST(test_json_errors)
{
    /* a command given --json prints its error as one JSON object on stderr, with the same exit
     * code; usage errors too; without --json the text is as before */
    ck_assert_int_eq(run("versions --json --store %s/none", dir), 6);
    ck_assert(output_has("{\"error\":{\"code\":\"not_found\",\"exit\":6,"
                         "\"message\":\"no store at "));
    ck_assert(!output_has("aifx-train: error:"));
    ck_assert_int_eq(run("versions --store %s/none", dir), 6);
    ck_assert(output_has("aifx-train: error: no store at "));
    ck_assert_int_eq(run("rank --json --bogus"), 2);
    ck_assert(output_has("{\"error\":{\"code\":\"usage\",\"exit\":2,\"message\":\"unknown option "
                         "--bogus\",\"command\":\"rank\"}}"));
    ck_assert_int_eq(run("predict --pair EURUSD --as-of yesterday --json"), 2);
    ck_assert(output_has("\"message\":\"bad --as-of time: yesterday\""));
    ck_assert_int_eq(run("rank --bogus"), 2);
    ck_assert(output_has("aifx-train rank: unknown option --bogus\nTry 'aifx-train rank --help'."));
    ck_assert_int_eq(run("frobnicate --json"), 2);
    ck_assert(output_has("{\"error\":{\"code\":\"usage\",\"exit\":2,\"message\":\"unknown command "
                         "'frobnicate'\"}}"));
    /* a message with quotes is escaped */
    ck_assert_int_eq(run("ab report 'a\"b' --json --store %s/none", dir), 6);
    ck_assert(output_has("{\"error\":{\"code\":\"not_found\""));
    /* a bad data file, exit 3 */
    char *bad = tu_write(dir, "bad.csv",
                         "timestamp,open,high,low,close,volume\n"
                         "2024-01-02T00:00:00Z,1.1,1.2,1.0,1.15,5\n"
                         "2024-01-02T00:10:00Z,1.1,1.2,1.0,1.15,5\n");
    ck_assert_int_eq(run("replay --csv %s --pair EURUSD --from 2024-01-01 --to 2024-01-03 --json "
                         "--quiet --store %s/r",
                         bad, dir),
                     3);
    ck_assert(output_has("{\"error\":{\"code\":\"bad_data\",\"exit\":3,"));
    free(bad);
    /* run-due: its result on stdout, then the failed cycle's error as JSON */
    ck_assert_int_eq(run("synth --pair EURUSD --from 2024-01-01 --to 2024-01-08 --store %s/s", dir),
                     0);
    ck_assert_int_eq(run("run-due --json --as-of 2024-01-08 --disable incremental --disable rank "
                         "--disable abtest --store %s/s",
                         dir),
                     6);
    ck_assert(output_has("\"outcome\":\"failed\""));
    ck_assert(output_has("{\"error\":{\"code\":\"not_found\",\"exit\":6,\"message\":\"a cycle "
                         "failed (kept in the log; retried at the next call)\"}}"));
}
END_TEST

START_TEST(test_replay_json)
{
    /* replay --json prints one JSON object (no Markdown outside its timeline string) */
    char *csv = tu_path(dir, "e.csv"), *store = tu_path(dir, "r");
    ck_assert_int_eq(run("synth --pair EURUSD --from 2024-03-04 --to 2024-03-06 --csv %s", csv), 0);
    ck_assert_int_eq(run("replay --csv %s --pair EURUSD --from 2024-03-05 --to 2024-03-05T06:00 "
                         "--json --quiet --store %s",
                         csv, store),
                     0);
    ck_assert(output_has("{\"from\":\"2024-03-05T00:00:00Z\",\"to\":\"2024-03-05T06:00:00Z\","
                         "\"pairs\":[\"EURUSD\"],\"steps\":24,\"steps_run\":24,\"resumed\":false,"
                         "\"signals\":0,\"seconds\":"));
    ck_assert(output_has(",\"timeline_markdown\":\"# Replay EURUSD,"));
    char *out = tu_path(dir, "out.txt");
    FILE *f = fopen(out, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fgetc(f), '{');
    fclose(f);
    free(out);
    /* again: the finished replay, resumed */
    ck_assert_int_eq(run("replay --csv %s --pair EURUSD --from 2024-03-05 --to 2024-03-05T06:00 "
                         "--json --store %s",
                         csv, store),
                     0);
    ck_assert(output_has("\"steps_run\":0,\"resumed\":true"));
    free(csv);
    free(store);
}
END_TEST

START_TEST(test_ab_report_no_data)
{
    /* an A/B test without a look or a trade: its p-values are undefined, not 0 */
    char *store = two_versions();
    ck_assert_int_eq(run("ab start --a v1.0 --b v1.1 --as-of 2024-03-06 --store %s", store), 0);
    ck_assert_int_eq(run("ab report ab1 --as-of 2024-03-06 --store %s", store), 0);
    ck_assert(output_has("z-test: z -, p -\n"));
    ck_assert(output_has("Welch's t-test: t -, df -, p -\n"));
    ck_assert(output_has("|z| >= - (Welch's t as a normal deviate: -)"));
    ck_assert(!output_has("p 0"));
    ck_assert_int_eq(run("ab report ab1 --as-of 2024-03-06 --json --store %s", store), 0);
    ck_assert(output_has("\"z_test\":{\"z\":null,\"p\":null},\"welch\":{\"t\":null,\"df\":null,"
                         "\"p\":null},\"z_welch\":null,\"boundary\":null"));
    ck_assert_int_eq(run("ab status ab1 --as-of 2024-03-07 --store %s", store), 0);
    ck_assert(!output_has("p 0"));
    free(store);
}
END_TEST

START_TEST(test_lowercase_zone)
{
    /* "z" is the zone designator as "Z" is (RFC 3339) */
    ck_assert_int_eq(run("ab status --as-of 2025-01-01T00:00:00z --store %s/none", dir), 6);
    ck_assert(output_has("no store at"));
    ck_assert_int_eq(run("predict --pair EURUSD --as-of 2025-01-01T00:00z --store %s/none", dir),
                     6);
    char *csv = tu_write(dir, "z.csv",
                         "timestamp,open,high,low,close,volume\n"
                         "2024-01-02T00:00:00z,1.1,1.2,1.0,1.15,5\n"
                         "2024-01-02T00:15:00Z,1.1,1.2,1.0,1.15,5\n");
    ck_assert_int_eq(run("ingest --pair EURUSD --csv %s --store %s/zs", csv, dir), 0);
    ck_assert(output_has("2 added"));
    ck_assert_int_eq(run("ab status --as-of 2025-01-01T00:00:00zz --store %s/none", dir), 2);
    free(csv);
}
END_TEST

START_TEST(test_no_series_names_last_bar)
{
    /* a dataset at a timeframe the store lacks: the error names the store's last bar */
    char *store = tu_path(dir, "s");
    ck_assert_int_eq(run("synth --pair EURUSD --from 2024-01-01 --to 2024-01-08 --store %s", store),
                     0);
    ck_assert_int_eq(
        run("dataset --timeframe 1h --from 2024-01-01 --to 2024-02-01 --store %s", store), 6);
    ck_assert(output_has("has no series at 1h; its last bar is EURUSD 15m at 2024-01-07T23:45:00Z "
                         "(try --timeframe 15m)"));
    /* a store of history and the default as-of (now): the error says which range was searched,
     * where the bars end, and what to give */
    ck_assert_int_eq(run("full --quiet --store %s", store), 6);
    ck_assert(output_has("; searched ["));
    ck_assert(output_has("the store's last bar: EURUSD 2024-01-07T23:45:00Z; give --as-of"));
    ck_assert_int_eq(run("dataset --from 2023-01-01 --to 2023-02-01 --store %s", store), 6);
    ck_assert(output_has("searched [2023-01-01T00:00:00Z, 2023-02-01T00:00:00Z)"));
    free(store);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trainer_cli");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_exit_codes);
    tcase_add_test(tc, test_registry_commands);
    tcase_add_test(tc, test_help);
    tcase_add_test(tc, test_value_parsers);
    tcase_add_test(tc, test_version_and_pair_options);
    tcase_add_test(tc, test_json_errors);
    tcase_add_test(tc, test_replay_json);
    tcase_add_test(tc, test_ab_report_no_data);
    tcase_add_test(tc, test_lowercase_zone);
    tcase_add_test(tc, test_no_series_names_last_bar);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(suite)
