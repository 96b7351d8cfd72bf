/*
 * cli.h - what the command files of aifx-train share (main.c, cmd_db.c, cmd_ab.c): exit codes,
 * the error printer, usage errors and option scanning. Part of the program, not of aifxtrain:
 * these print.
 */
#ifndef AIFXT_CLI_H
#define AIFXT_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "store/store.h"

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

/* --models-dir (or $AIFX_MODELS_DIR), NULL for the store's default; set by main. */
extern const char *tr_cli_models_dir;

/* Opens the store at location (NULL: $AIFX_STORE, else the default), with the models directory
 * of the command line. */
tr_code tr_cli_store_open(const char *location, int create, tr_store **out, tr_error *err);

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
/* The kinds of option of a table (tr_cli_optdef). */
enum {
    TR_OPT_FLAG,   /* no value: *(int *)dst = 1 */
    TR_OPT_CLEAR,  /* no value: *(int *)dst = 0 */
    TR_OPT_STR,    /* *(const char **)dst = value */
    TR_OPT_INT,    /* *(int *)dst, an integer in [lo, hi] */
    TR_OPT_I64,    /* *(int64_t *)dst, an integer in [lo, hi] */
    TR_OPT_DOUBLE, /* *(double *)dst, a finite number in [lo, hi] */
    TR_OPT_FLOAT,  /* *(float *)dst, a finite number in [lo, hi] */
    TR_OPT_TIME,   /* *(int64_t *)dst, a UTC time */
    TR_OPT_CALL,   /* fn(value, dst) == 0 */
    TR_OPT_LIST,   /* dst is const char *[hi], *count the number stored; fn (optional) checks */
    TR_OPT_POS     /* a positional argument (name: its label), at most once */
};

/* One option of a command: --name VALUE, --name=VALUE, or a flag. */
typedef struct tr_cli_optdef {
    const char *name;
    int kind;
    void *dst;
    double lo, hi;    /* INT, I64, DOUBLE, FLOAT: the accepted range; LIST: hi the capacity */
    const char *hint; /* shown after the option's name when its value is bad, e.g. "(1..4)" */
    int (*fn)(const char *value, void *dst); /* CALL, LIST: 0 when value is good */
    int *count;                              /* LIST */
} tr_cli_optdef;

/* Table entries (designated, so that unnamed fields are zero). */
#define OPT_FLAG(n, d)  {.name = (n), .kind = TR_OPT_FLAG, .dst = (d)}
#define OPT_CLEAR(n, d) {.name = (n), .kind = TR_OPT_CLEAR, .dst = (d)}
#define OPT_STR(n, d)   {.name = (n), .kind = TR_OPT_STR, .dst = (d)}
#define OPT_INT(n, d, l, h, ht) \
    {.name = (n), .kind = TR_OPT_INT, .dst = (d), .lo = (l), .hi = (h), .hint = (ht)}
#define OPT_I64(n, d, l, h, ht) \
    {.name = (n), .kind = TR_OPT_I64, .dst = (d), .lo = (l), .hi = (h), .hint = (ht)}
#define OPT_DBL(n, d, l, h, ht) \
    {.name = (n), .kind = TR_OPT_DOUBLE, .dst = (d), .lo = (l), .hi = (h), .hint = (ht)}
#define OPT_FLT(n, d, l, h, ht) \
    {.name = (n), .kind = TR_OPT_FLOAT, .dst = (d), .lo = (l), .hi = (h), .hint = (ht)}
#define OPT_TIME(n, d) {.name = (n), .kind = TR_OPT_TIME, .dst = (d)}
#define OPT_CALL(n, d, f, ht) \
    {.name = (n), .kind = TR_OPT_CALL, .dst = (d), .fn = (f), .hint = (ht)}
#define OPT_LIST(n, d, cap, cnt, f)                                                                \
    {.name = (n), .kind = TR_OPT_LIST, .dst = (d), .hi = (cap), .count = (cnt), .fn = (f)}
#define OPT_POS(label, d) {.name = (label), .kind = TR_OPT_POS, .dst = (d)}

/* Scans a->argv[a->i ..] against defs (n): "--help" prints help and returns -1 (the command then
 * exits 0); each option sets its destination; an unknown option, a missing or bad value, or an
 * unexpected argument prints a usage error and returns EXIT_USAGE. 0 when everything was good. */
int tr_cli_scan(tr_cli_args *a, const char *help, const tr_cli_optdef *defs, size_t n);

/* Integer and real numbers within [lo, hi], and UTC times (timeutil.h forms); 0 on success. */
int tr_cli_parse_int(const char *s, long lo, long hi, long *out);
int tr_cli_parse_double(const char *s, double lo, double hi, double *out);
int tr_cli_parse_time(const char *s, int64_t *t);

#endif
