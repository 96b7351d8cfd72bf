/*
 * commands.h - the commands of aifx-train: each has a handler of one signature and a help text,
 * defined together in the file of its family (cmd_*.c); main.c lists them in its table with a
 * one-line summary and dispatches. Part of the program, not of aifxcore.
 */
#ifndef AIFXT_COMMANDS_H
#define AIFXT_COMMANDS_H

#include "cli/cli.h"

/* A command handler: scans a->argv[a->i ..] (tr_cli_scan with its option table; --help and -h
 * print a->help), runs the command and returns the process's exit status (docs/cli.md). */
typedef int (*tr_cli_handler)(tr_cli_args *a);

/* One entry of the command table. */
typedef struct tr_cli_command {
    const char *name;
    const char *summary; /* one line, for `aifx-train help` */
    const char *help;    /* the whole help text, for `help NAME`, `NAME --help` and `NAME -h` */
    tr_cli_handler run;
} tr_cli_command;

/* Declares a command's handler tr_cli_cmd_<id> and its help text tr_cli_help_<id>. */
#define TR_CLI_DECLARE(id)                                                                         \
    int tr_cli_cmd_##id(tr_cli_args *a);                                                           \
    extern const char tr_cli_help_##id[]

/* cmd_data.c */
TR_CLI_DECLARE(ingest);
TR_CLI_DECLARE(synth);
TR_CLI_DECLARE(dataset);
TR_CLI_DECLARE(bars);
/* cmd_train.c */
TR_CLI_DECLARE(full);
TR_CLI_DECLARE(incremental);
/* cmd_registry.c */
TR_CLI_DECLARE(activate);
TR_CLI_DECLARE(rollback);
TR_CLI_DECLARE(versions);
TR_CLI_DECLARE(log);
/* cmd_eval.c */
TR_CLI_DECLARE(evaluate);
TR_CLI_DECLARE(backtest);
TR_CLI_DECLARE(predict);
/* cmd_cycles.c */
TR_CLI_DECLARE(rank);
TR_CLI_DECLARE(run_due);
TR_CLI_DECLARE(monitor);
TR_CLI_DECLARE(drift);
TR_CLI_DECLARE(dq);
TR_CLI_DECLARE(replay);
/* cmd_walkforward.c */
TR_CLI_DECLARE(walkforward);
/* cmd_ab.c */
TR_CLI_DECLARE(ab);
/* cmd_db.c */
TR_CLI_DECLARE(db);
TR_CLI_DECLARE(listen);
/* cmd_notify.c; and the delivery at the end of run-due: the store's notify.conf sinks, for at
 * most budget seconds, one line on standard error unless quiet (never changes the exit code) */
TR_CLI_DECLARE(notify);
void tr_cli_notify_after(tr_store *st, double budget, int quiet);

/* cmd_jobs.c */
TR_CLI_DECLARE(enqueue_due);
TR_CLI_DECLARE(worker);
TR_CLI_DECLARE(jobs);
/* cmd_family.c */
TR_CLI_DECLARE(family);

#endif
