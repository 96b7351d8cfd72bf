/*
 * cli.h - what the command files of aifx-train share (main.c and cmd_*.c): exit codes, the error
 * printer, usage errors, option scanning and the one set of option value parsers. Part of the
 * program, not of aifxcore: these print.
 */
#ifndef AIFXT_CLI_H
#define AIFXT_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "base/bars.h"
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

/* --family NAME, NULL when not given (set by main), and the family's definition read from the
 * store before the command runs (the default family's when none was named): a command starts
 * from its settings (cycles/family_opts.h) and its own options override them. The job queue's
 * commands take the name as a filter: without it they work on every family. */
extern const char *tr_cli_family;
extern tr_family tr_cli_fam;

/* Opens the store at location (NULL: $AIFX_STORE, else the default), with the models directory
 * and the family of the command line. */
tr_code tr_cli_store_open(const char *location, int create, tr_store **out, tr_error *err);

/* 1 when the command line holds --json (set by main before the command runs): errors are then
 * printed as one JSON object on standard error, {"error":{"code":..,"exit":..,"message":..}}. */
extern int tr_cli_json_errors;

/* The exit code of an error code, and the name of an exit code in a JSON error ("not_found"). */
int tr_cli_exit_code(tr_code rc);
const char *tr_cli_exit_name(int exit_code);
/* Prints "aifx-train: error: <message>" on standard error (or the JSON object); returns the exit
 * code. */
int tr_cli_fail(const tr_error *e);
/* The same for a message composed here, with its exit code. */
int tr_cli_error(int exit_code, const char *fmt, ...) TR_PRINTF(2, 3);
/* Prints a usage error naming the command (and arg); returns EXIT_USAGE. */
int tr_cli_usage(const char *cmd, const char *what, const char *arg);

/* A monotonic clock in seconds, for the durations the commands print. */
double tr_cli_now_seconds(void);

/* A command's arguments, as the dispatcher (main.c) hands them to its handler: argv[1] is the
 * command's name (cmd), argv[i] the next to scan (2 at first), help its --help text. */
typedef struct tr_cli_args {
    int argc, i;
    char **argv;
    const char *cmd;
    const char *help;
} tr_cli_args;

/* If argv[i] is --name followed by a value, or --name=value: sets *value (advancing over a
 * separate value) and returns 1; a missing value sets *missing. Else 0. */
int tr_cli_opt(tr_cli_args *a, const char *name, const char **value, int *missing);
/* The kinds of option of a table (tr_cli_optdef). */
enum {
    TR_OPT_FLAG,    /* no value: *(int *)dst = 1 */
    TR_OPT_CLEAR,   /* no value: *(int *)dst = 0 */
    TR_OPT_STR,     /* *(const char **)dst = value */
    TR_OPT_INT,     /* *(int *)dst, an integer in [lo, hi] */
    TR_OPT_I64,     /* *(int64_t *)dst, an integer in [lo, hi] */
    TR_OPT_DOUBLE,  /* *(double *)dst, a finite number in [lo, hi] */
    TR_OPT_FLOAT,   /* *(float *)dst, a finite number in [lo, hi] */
    TR_OPT_TIME,    /* *(int64_t *)dst, a UTC time */
    TR_OPT_U64,     /* *(uint64_t *)dst, digits in base (10 or 16) within [ulo, uhi] */
    TR_OPT_CALL,    /* fn(value, dst) == 0 */
    TR_OPT_LIST,    /* dst is const char *[hi], *count the number stored; fn (optional) checks */
    TR_OPT_PAIRS,   /* dst a tr_cli_pairs: one pair or a comma list, repeatable, at most hi */
    TR_OPT_VERSION, /* *(const char **)dst, a version name, at most once (with its positional) */
    TR_OPT_POS      /* a positional argument (name: its label), once; fn (optional) checks */
};

/* The pairs of a command (TR_OPT_PAIRS): --pair P, repeated, or --pair P,Q; v[0 .. n) point into
 * name, in the order given, for the library's const char *pairs[]. */
#define TR_CLI_PAIRS_MAX 64
typedef struct tr_cli_pairs {
    int n;
    char name[TR_CLI_PAIRS_MAX][TR_PAIR_MAX];
    const char *v[TR_CLI_PAIRS_MAX];
} tr_cli_pairs;

/* Appends the pairs of s (one pair name or a comma list: "EURUSD", "EURUSD,USDJPY") to p, at most
 * cap in all: 0, or -1 for a bad name or an empty item (p unchanged), -2 for too many. */
int tr_cli_parse_pairs(const char *s, int cap, tr_cli_pairs *p);
/* The pairs as one comma list (the A/B test's form) into out: 0, or -1 when it does not fit. */
int tr_cli_pairs_join(const tr_cli_pairs *p, char *out, size_t size);

/* One option of a command: --name VALUE, --name=VALUE, or a flag. */
typedef struct tr_cli_optdef {
    const char *name;
    int kind;
    void *dst;
    double lo, hi;    /* INT, I64, DOUBLE, FLOAT: the accepted range; LIST: hi the capacity */
    const char *hint; /* shown after the option's name when its value is bad, e.g. "(1..4)" */
    /* named instead of the option in that message ("pair name"), or NULL */
    const char *label;
    int (*fn)(const char *value, void *dst); /* CALL, LIST: 0 when value is good */
    int *count;                              /* LIST */
    int base;                                /* U64 */
    uint64_t ulo, uhi;                       /* U64: doubles cannot hold every 64-bit bound */
} tr_cli_optdef;

/* Table entries (designated, so that unnamed fields are zero). */
/* One entry a line reads better than the formatter's braces. */
/* clang-format off */
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
#define OPT_U64(n, d, b, l, h, ht)                                                                 \
    {.name = (n), .kind = TR_OPT_U64, .dst = (d), .base = (b), .ulo = (l), .uhi = (h), .hint = (ht)}
#define OPT_POS_CHECKED(label, d, f)                                                               \
    {.name = (label), .kind = TR_OPT_POS, .dst = (d), .fn = (f)}
/* The pairs of a command that takes several: --pair, repeatable and taking a comma list, and its
 * alias --pairs (d a tr_cli_pairs, cap at most TR_CLI_PAIRS_MAX). */
#define OPT_PAIRS(d, cap)                                                                          \
    {.name = "--pair", .kind = TR_OPT_PAIRS, .dst = (d), .hi = (cap)},                            \
        {.name = "--pairs", .kind = TR_OPT_PAIRS, .dst = (d), .hi = (cap)}
/* The pair of a command that takes one: --pair P (d a const char *); a bad one is a "bad pair
 * name", as these commands have always said. */
#define OPT_PAIR(d)                                                                                \
    {.name = "--pair", .kind = TR_OPT_CALL, .dst = (d), .fn = tr_cli_opt_one_pair,                 \
     .hint = "(one pair, 3-15 characters A-Z 0-9)", .label = "pair name"}
/* A version option (n, such as "--a") of a command: a valid version name, given once. */
#define OPT_VERSION_NAMED(n, d) {.name = (n), .kind = TR_OPT_VERSION, .dst = (d)}
/* The version of a command that takes one: --version V, or V alone as its shorthand (a positional
 * slot, filled after the positionals listed before it in the table). */
#define OPT_VERSION(d)                                                                             \
    OPT_VERSION_NAMED("--version", d), OPT_POS_CHECKED("version name", d, tr_cli_opt_version)

/* The output options every registry and cycle command takes (oo a tr_cli_out, print.h), and
 * --store. */
#define OPT_OUTPUT(oo, store)                                                                      \
    OPT_FLAG("--json", &(oo).json), OPT_FLAG("--quiet", &(oo).quiet),                             \
        OPT_FLAG("-q", &(oo).quiet), OPT_STR("--store", &(store))

/* The seed of a training run (full): decimal, 0..2^31-1, the range full has always accepted. */
#define OPT_TRAIN_SEED(n, d) OPT_U64(n, d, 10, 0, 2147483647u, "(0..2147483647)")
/* The share of bars an A/B test gives to version B (ab start --split, --ab-split): one bound for
 * every command. The library takes (0, 1); a share closer to 0 or 1 than one bar in a million
 * would give an arm no bar in any test of realistic length, so it is refused as a typo. */
#define TR_CLI_SHARE_MIN 1e-6
#define OPT_SHARE(n, d) OPT_DBL(n, d, TR_CLI_SHARE_MIN, 1 - TR_CLI_SHARE_MIN, "(a share in (0, 1))")
/* The plan of an A/B test started by a weekly retrain (full, run-due, replay): fo is a
 * tr_full_opts. */
#define OPT_AB_PLAN(fo)                                                                            \
    OPT_FLAG("--ab", &(fo).ab), OPT_INT("--ab-days", &(fo).ab_days, 1, 365, NULL),                \
        OPT_SHARE("--ab-split", &(fo).ab_split),                                                   \
        OPT_I64("--ab-min-trades", &(fo).ab_min_trades, 0, 100000000, NULL)
/* What a weekly retrain learns and how its version decides (full, run-due, replay): fo is a
 * tr_full_opts. */
#define OPT_MODEL_RULE(fo)                                                                         \
    OPT_CALL("--labels", &(fo).labels, tr_cli_opt_labels, "(reversal, barrier)"),                 \
        OPT_CALL("--decision", &(fo).decision, tr_cli_opt_decision, "(cost, argmax)"),             \
        OPT_I64("--rule-min-trades", &(fo).min_trades, 1, 100000000, NULL)
/* clang-format on */

/* Scans a->argv[a->i ..] against defs (n): "--help" or "-h" prints a->help and returns -1 (the
 * command then exits 0); each option sets its destination; an unknown option, a missing or bad
 * value, or an unexpected argument prints a usage error and returns EXIT_USAGE. 0 when everything
 * was good. */
int tr_cli_scan(tr_cli_args *a, const tr_cli_optdef *defs, size_t n);

/* Scans a command's options (the table opts) with tr_cli_scan; returns from the calling handler
 * on --help (exit 0) or a usage error. */
#define TR_CLI_SCAN(a, opts)                                                                       \
    do {                                                                                           \
        int sc_ = tr_cli_scan((a), (opts), sizeof(opts) / sizeof((opts)[0]));                      \
        if (sc_)                                                                                   \
            return sc_ < 0 ? EXIT_OK : sc_;                                                        \
    } while (0)

/* ---- the value parsers: every command parses a kind of value with the same function --------- */

/* Integer and real numbers within [lo, hi], unsigned 64-bit numbers in base 10 or 16 within
 * [lo, hi] (no sign, no blanks), and UTC times (timeutil.h forms); 0 on success. */
int tr_cli_parse_int(const char *s, long lo, long hi, long *out);
int tr_cli_parse_double(const char *s, double lo, double hi, double *out);
int tr_cli_parse_u64(const char *s, int base, uint64_t lo, uint64_t hi, uint64_t *out);
int tr_cli_parse_time(const char *s, int64_t *t);
/* HH:MM, as minutes after midnight. */
int tr_cli_parse_hhmm(const char *s, int *minute);

/* TR_OPT_CALL and TR_OPT_LIST checks: 0 when v is good (and, for CALL, stored in dst). */
int tr_cli_opt_pair(const char *v, void *dst);        /* a valid pair name; dst unused */
int tr_cli_opt_one_pair(const char *v, void *dst);    /* const char *: a valid pair name */
int tr_cli_opt_version(const char *v, void *dst);     /* a valid version name; dst unused */
int tr_cli_opt_hours(const char *v, void *dst);       /* int64_t seconds, from hours > 0 */
int tr_cli_opt_hhmm(const char *v, void *dst);        /* int minutes */
int tr_cli_opt_monitor(const char *v, void *dst);     /* int: loss, macro_f1 */
int tr_cli_opt_gate_metric(const char *v, void *dst); /* int: TR_GATE_* */
int tr_cli_opt_labels(const char *v, void *dst);      /* int: TR_LABELS_* (reversal, barrier) */
int tr_cli_opt_decision(const char *v, void *dst);    /* int: TR_DECISION_* (cost, argmax) */
int tr_cli_opt_score(const char *v, void *dst);       /* int: raw, rank */
int tr_cli_opt_weights(const char *v, void *dst);     /* tr_rank_weights: W,S,P,D */
int tr_cli_opt_weekly(const char *v, void *dst);      /* tr_schedule: DAY,HH:MM */
int tr_cli_opt_monthly(const char *v, void *dst);     /* tr_schedule: D,HH:MM */
int tr_cli_opt_disable(const char *v, void *dst);     /* tr_schedule: a slot's cycle name */
int tr_cli_opt_tz_offset(const char *v, void *dst);   /* tr_csv_options: hours east, or EET */

#endif
