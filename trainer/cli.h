/*
 * cli.h - what the command files of aifx-train share (main.c, cmd_db.c, cmd_ab.c): exit codes,
 * the error printer, usage errors and option scanning. Part of the program, not of aifxtrain:
 * these print.
 */
#ifndef AIFXT_CLI_H
#define AIFXT_CLI_H

#include <stdint.h>

#include "err.h"

/* The exit codes of docs/cli.md. */
enum {
    EXIT_OK = 0,
    EXIT_INTERNAL = 1,
    EXIT_USAGE = 2,
    EXIT_DATA = 3,
    EXIT_CONFLICT = 4,
    EXIT_STORE = 5,
    EXIT_NOTFOUND = 6,
    EXIT_NOMEM = 7,
    EXIT_UNSUPPORTED = 8,
    EXIT_STALE = 9
};

/* The exit code of an error code. */
int tr_cli_exit_code(tr_code rc);
/* Prints "aifx-train: error: <message>" on standard error; returns the exit code. */
int tr_cli_fail(const tr_error *e);
/* Prints a usage error naming the command (and arg); returns EXIT_USAGE. */
int tr_cli_usage(const char *cmd, const char *what, const char *arg);

/* The arguments being scanned: argv[i] is the current one. */
typedef struct tr_cli_args {
    int argc, i;
    char **argv;
    const char *cmd;
} tr_cli_args;

/* If argv[i] is --name followed by a value, or --name=value: sets *value (advancing over a
 * separate value) and returns 1; a missing value sets *missing. Else 0. */
int tr_cli_opt(tr_cli_args *a, const char *name, const char **value, int *missing);
/* Integer and real numbers within [lo, hi], and UTC times (timeutil.h forms); 0 on success. */
int tr_cli_parse_int(const char *s, long lo, long hi, long *out);
int tr_cli_parse_double(const char *s, double lo, double hi, double *out);
int tr_cli_parse_time(const char *s, int64_t *t);

#endif
