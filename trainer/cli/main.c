/*
 * main.c - aifx-train's entry: the table of commands and the dispatcher. Each command's options,
 * help and work live in the file of its family (commands.h); results are printed by print.c.
 * Exit codes are documented in docs/cli.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/threads.h"
#include "cli/cli.h"
#include "cli/commands.h"

#define AIFX_TRAIN_VERSION "0.1.0"

/* The commands, in the order `aifx-train help` lists them. */
static const tr_cli_command commands[] = {
    {"ingest", "load a CSV of bars into the store (all or nothing)", tr_cli_help_ingest,
     tr_cli_cmd_ingest},
    {"synth", "generate deterministic synthetic bars into the store or a CSV", tr_cli_help_synth,
     tr_cli_cmd_synth},
    {"dataset", "build the training windows for a period and describe them", tr_cli_help_dataset,
     tr_cli_cmd_dataset},
    {"bars", "list the series in the store", tr_cli_help_bars, tr_cli_cmd_bars},
    {"full", "the weekly full retrain: train, evaluate, backtest, register a version",
     tr_cli_help_full, tr_cli_cmd_full},
    {"incremental", "the daily fine-tune of the active version, with the deploy gate",
     tr_cli_help_incremental, tr_cli_cmd_incremental},
    {"activate", "make a version active", tr_cli_help_activate, tr_cli_cmd_activate},
    {"rollback", "back to the previous active version", tr_cli_help_rollback, tr_cli_cmd_rollback},
    {"versions", "list the registered versions (versions show V: one in full)",
     tr_cli_help_versions, tr_cli_cmd_versions},
    {"log", "the training log (--activations: the activation history)", tr_cli_help_log,
     tr_cli_cmd_log},
    {"evaluate", "classification figures and backtest of a version on a period",
     tr_cli_help_evaluate, tr_cli_cmd_evaluate},
    {"backtest", "backtest a version's signals on a period", tr_cli_help_backtest,
     tr_cli_cmd_backtest},
    {"predict", "the active version's signal for a pair's newest bar (recorded)",
     tr_cli_help_predict, tr_cli_cmd_predict},
    {"rank", "the monthly ranking: score versions, activate the best, retire old dailies",
     tr_cli_help_rank, tr_cli_cmd_rank},
    {"run-due", "run the cycles that are due (daily, weekly, monthly), for cron or a timer",
     tr_cli_help_run_due, tr_cli_cmd_run_due},
    {"monitor", "the position monitor: resolve open signals' outcomes on the stored bars",
     tr_cli_help_monitor, tr_cli_cmd_monitor},
    {"drift", "the live data's drift from a version's training data (features, predictions)",
     tr_cli_help_drift, tr_cli_cmd_drift},
    {"dq", "data quality of the stored bars: gaps, a stale feed, spikes, flat and repeated bars",
     tr_cli_help_dq, tr_cli_cmd_dq},
    {"replay", "simulate months of the loop on history: predictions, outcomes, run-due",
     tr_cli_help_replay, tr_cli_cmd_replay},
    {"walkforward", "walk-forward evidence: retrain at each step, score the next against baselines",
     tr_cli_help_walkforward, tr_cli_cmd_walkforward},
    {"ab", "A/B tests between versions: start, status, stop, report", tr_cli_help_ab,
     tr_cli_cmd_ab},
    {"db", "db migrate: create or upgrade a PostgreSQL store's schema", tr_cli_help_db,
     tr_cli_cmd_db},
    {"listen", "print a PostgreSQL store's events as they arrive", tr_cli_help_listen,
     tr_cli_cmd_listen},
    {"notify", "deliver notifications (outbox) to Discord, Slack or JSON webhooks",
     tr_cli_help_notify, tr_cli_cmd_notify},
    {"enqueue-due", "queue a job per due slot (PostgreSQL job queue), for cron or a timer",
     tr_cli_help_enqueue_due, tr_cli_cmd_enqueue_due},
    {"worker", "run the queued jobs: claim, lease, heartbeat, run the cycle, complete",
     tr_cli_help_worker, tr_cli_cmd_worker},
    {"jobs", "the job queue: jobs list, jobs show ID, jobs retry ID", tr_cli_help_jobs,
     tr_cli_cmd_jobs},
    {"family", "model families: family add NAME, family list, family show NAME", tr_cli_help_family,
     tr_cli_cmd_family},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const char usage_tail[] =
    "\n"
    "common options:\n"
    "  --store DIR   the store (default $AIFX_STORE, else ./aifx-data); or a PostgreSQL\n"
    "                database: postgresql://user@host/db or \"host=... dbname=...\"\n"
    "  --models-dir DIR  checkpoints (default $AIFX_MODELS_DIR, else <store>/models, for\n"
    "                PostgreSQL ./aifx-models); reports go beside it on PostgreSQL\n"
    "  --family NAME the model family (its pairs, timeframe, settings and versions; default:\n"
    "                the store's default family, every pair at 15m); docs/families.md\n"
    "  --train-threads N|auto  threads that train a model (default $AIFX_TRAIN_THREADS, else\n"
    "                auto: this process's CPUs, at most 2); the same bytes at any count on\n"
    "                CPUs with AVX2 and FMA (docs/performance.md)\n"
    "  --help, -h    help for a command (or: aifx-train help COMMAND);  aifx-train --version\n"
    "\n"
    "exit codes: 0 ok, 1 internal error, 2 usage, 3 bad input data, 4 conflict with stored\n"
    "bars or versions, 5 store or file error, 6 not found, 7 out of memory, 8 unsupported,\n"
    "9 stale data (docs/cli.md)\n";

/* The global usage, from the table's one-line summaries. */
static void print_usage(FILE *f)
{
    fputs("usage: aifx-train <command> [options]\n\ncommands:\n", f);
    for (size_t k = 0; k < N_COMMANDS; k++)
        fprintf(f, "  %-12s %s\n", commands[k].name, commands[k].summary);
    fputs(usage_tail, f);
}

static const tr_cli_command *find_command(const char *name)
{
    for (size_t k = 0; k < N_COMMANDS; k++)
        if (strcmp(name, commands[k].name) == 0)
            return &commands[k];
    return NULL;
}

static int unknown_command(const char *name)
{
    if (tr_cli_json_errors)
        return tr_cli_error(EXIT_USAGE, "unknown command '%s'", name);
    fprintf(stderr, "aifx-train: unknown command '%s'\n", name);
    print_usage(stderr);
    return EXIT_USAGE;
}

/* Takes "name VALUE" (or name=VALUE), anywhere, out of argv into *dst: an option every store
 * this process opens gets (tr_cli_store_open). 0, or the exit code. */
static int take_global(int *argc, char **argv, const char *name, const char **dst)
{
    size_t nl = strlen(name);
    for (int i = 1; i < *argc; i++) {
        const char *s = argv[i], *v = NULL;
        int used = 0;
        if (strcmp(s, name) == 0) {
            if (i + 1 >= *argc) {
                if (tr_cli_json_errors)
                    return tr_cli_error(EXIT_USAGE, "missing value of %s", name);
                fprintf(stderr, "aifx-train: missing value of %s\n", name);
                return EXIT_USAGE;
            }
            v = argv[i + 1];
            used = 2;
        } else if (strncmp(s, name, nl) == 0 && s[nl] == '=') {
            v = s + nl + 1;
            used = 1;
        }
        if (!used)
            continue;
        if (!v[0]) {
            if (tr_cli_json_errors)
                return tr_cli_error(EXIT_USAGE, "bad %s '%s'", name, v);
            fprintf(stderr, "aifx-train: bad %s '%s'\n", name, v);
            return EXIT_USAGE;
        }
        *dst = v;
        for (int j = i; j + used <= *argc; j++)
            argv[j] = argv[j + used]; /* argv[argc] is NULL and moves along */
        *argc -= used;
        i--;
    }
    return EXIT_OK;
}

/* With --family NAME: reads the family's definition from the store the command names (its
 * --store, else $AIFX_STORE, else the default), so that the command starts from the family's
 * settings and its own options override them. A family the store lacks is an error now. */
static int load_family(int argc, char **argv)
{
    if (tr_family_is_default(tr_cli_family))
        return EXIT_OK;
    if (!tr_family_name_valid(tr_cli_family))
        return tr_cli_error(EXIT_USAGE,
                            "bad --family '%s' (1 to 63 characters a-z 0-9 _ -, starting with a "
                            "letter)",
                            tr_cli_family);
    const char *loc = NULL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--store") == 0 && i + 1 < argc)
            loc = argv[++i];
        else if (strncmp(argv[i], "--store=", 8) == 0)
            loc = argv[i] + 8;
    }
    tr_error e;
    tr_error_clear(&e);
    tr_store *st;
    if (tr_cli_store_open(loc, 0, &st, &e))
        return tr_cli_fail(&e);
    tr_cli_fam = *tr_store_family(st);
    tr_store_close(st);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    /* a command given --json reports its errors as JSON too, usage errors included: known
     * before the scan, which may fail before it reaches --json */
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--json") == 0)
            tr_cli_json_errors = 1;
    tr_cli_models_dir = getenv("AIFX_MODELS_DIR");
    int ex = take_global(&argc, argv, "--models-dir", &tr_cli_models_dir);
    if (!ex)
        ex = take_global(&argc, argv, "--family", &tr_cli_family);
    const char *threads = getenv("AIFX_TRAIN_THREADS");
    if (!ex)
        ex = take_global(&argc, argv, "--train-threads", &threads);
    if (ex)
        return ex;
    int n_threads = 0;
    if (threads && tr_train_threads_parse(threads, &n_threads) != 0) {
        if (tr_cli_json_errors)
            return tr_cli_error(EXIT_USAGE, "bad --train-threads '%s' (" TR_TRAIN_THREADS_RANGE ")",
                                threads);
        fprintf(stderr, "aifx-train: bad --train-threads '%s' (" TR_TRAIN_THREADS_RANGE ")\n",
                threads);
        return EXIT_USAGE;
    }
    tr_train_threads_set(n_threads);
    if (argc < 2) {
        print_usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--version") == 0) {
        printf("aifx-train %s\n", AIFX_TRAIN_VERSION);
        return EXIT_OK;
    }
    if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        if (argc < 3) {
            print_usage(stdout);
            return EXIT_OK;
        }
        const tr_cli_command *c = find_command(argv[2]);
        if (!c)
            return unknown_command(argv[2]);
        fputs(c->help, stdout);
        return EXIT_OK;
    }
    const tr_cli_command *c = find_command(name);
    if (!c)
        return unknown_command(name);
    if (strcmp(c->name, "family") != 0 && (ex = load_family(argc, argv)) != EXIT_OK)
        return ex;
    tr_cli_args a = {argc, 2, argv, c->name, c->help};
    return c->run(&a);
}
