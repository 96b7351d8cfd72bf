/*
 * cmd_ab.c - `aifx-train ab start|status|stop|report`: A/B tests between versions (abtest.h,
 * docs/abtest.md, docs/cli.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/print.h"
#include "cycles/abtest.h"
#include "registry/registry.h"
#include "store/store.h"

const char tr_cli_help_ab[] =
    "usage: aifx-train ab start --a VERSION --b VERSION [--split 0.5] [--days 7]\n"
    "                           [--min-trades N] [--pair P[,Q] ...] [--seed HEX] [--as-of TIME]\n"
    "       aifx-train ab start A B ...   (shorthand of --a A --b B)\n"
    "       aifx-train ab status [ID] [--as-of TIME] [--json]\n"
    "       aifx-train ab stop ID [--note TEXT] [--as-of TIME]\n"
    "       aifx-train ab report ID [--as-of TIME] [--json]\n"
    "  (each also takes --store LOCATION, and --json; --pairs P,Q is an alias of --pair)\n"
    "\n"
    "  An A/B test serves each new bar of its pairs (default: every pair) with version B when a\n"
    "  seeded hash of (test, pair, bar time) falls below --split, else with version A, and\n"
    "  records the signals with the test's id. Each arm's outcomes come from its own signals.\n"
    "  The scheduler looks once a day (run-due's abtest slot at 00:30 UTC): before the planned\n"
    "  end (--days, or --min-trades per arm) only an O'Brien-Fleming boundary ends it early; at\n"
    "  the end the verdict is a, b, tie or insufficient, and a winner that is not active is\n"
    "  activated. One running test per pair set. `report` analyses without recording a look;\n"
    "  `stop` ends a test by hand with no verdict. docs/abtest.md.\n";

typedef struct ab_args {
    const char *store, *sub, *a, *b, *note, *id, *arg3;
    tr_cli_pairs pairs;
    double split;
    int days;
    int64_t min_trades;
    uint64_t seed;
    int64_t as_of;
    int json;
} ab_args;

static int parse(tr_cli_args *a, ab_args *o)
{
    const tr_cli_optdef opts[] = {
        OPT_FLAG("--json", &o->json),
        OPT_STR("--store", &o->store),
        OPT_VERSION_NAMED("--a", &o->a),
        OPT_VERSION_NAMED("--b", &o->b),
        OPT_PAIRS(&o->pairs, 16), /* the library's bound of a test's pair set */
        OPT_STR("--note", &o->note),
        OPT_SHARE("--split", &o->split),
        OPT_INT("--days", &o->days, 1, 365, "(1..365)"),
        OPT_I64("--min-trades", &o->min_trades, 0, 100000000, NULL),
        OPT_U64("--seed", &o->seed, 16, 1, UINT64_MAX, "(non-zero hexadecimal)"),
        OPT_TIME("--as-of", &o->as_of),
        /* positional, filled in this order; start A B: the arms */
        OPT_POS("SUBCOMMAND", &o->sub),
        OPT_POS("ID", &o->id),
        OPT_POS("B", &o->arg3),
    };
    return tr_cli_scan(a, opts, sizeof opts / sizeof opts[0]);
}

static int list_tests(tr_store *st, int json)
{
    tr_registry reg;
    tr_error e;
    tr_error_clear(&e);
    if (tr_store_registry_read(st, &reg, &e))
        return tr_cli_fail(&e);
    tr_cli_print_ab_tests(&reg, json);
    tr_registry_free(&reg);
    return EXIT_OK;
}

int tr_cli_cmd_ab(tr_cli_args *a)
{
    if (a->i >= a->argc) {
        /* `ab` alone: its help, which lists the subcommands, as the usage error */
        fputs(a->help, stderr);
        return EXIT_USAGE;
    }
    ab_args o;
    memset(&o, 0, sizeof o);
    o.split = 0.5;
    o.days = 7;
    int rc = parse(a, &o);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    const char *sub = o.sub;
    if (!sub)
        return tr_cli_usage(a->cmd, "missing subcommand (start, status, stop, report)", NULL);
    int is_start = strcmp(sub, "start") == 0, is_status = strcmp(sub, "status") == 0;
    int is_stop = strcmp(sub, "stop") == 0, is_report = strcmp(sub, "report") == 0;
    if (!is_start && !is_status && !is_stop && !is_report)
        return tr_cli_usage(a->cmd, "unknown subcommand (start, status, stop, report):", sub);
    if (is_start && o.id) {
        /* ab start A B: the arms as positionals, the shorthand of --a A --b B */
        if (o.a || o.b || !o.arg3)
            return tr_cli_usage(a->cmd, "start takes the arms as --a A --b B, or as A B", NULL);
        if (!tr_version_name_valid(o.id))
            return tr_cli_usage(a->cmd, "bad version name:", o.id);
        if (!tr_version_name_valid(o.arg3))
            return tr_cli_usage(a->cmd, "bad version name:", o.arg3);
        o.a = o.id;
        o.b = o.arg3;
        o.id = o.arg3 = NULL;
    }
    if (o.arg3)
        return tr_cli_usage(a->cmd, "unexpected argument", o.arg3);
    if (is_start && (!o.a || !o.b))
        return tr_cli_usage(a->cmd, "start needs --a VERSION and --b VERSION", NULL);
    char pairs[TR_AB_PAIRS_MAX]; /* the pair set as the library takes it: P,Q */
    if (tr_cli_pairs_join(&o.pairs, pairs, sizeof pairs))
        return tr_cli_usage(a->cmd, "too many pairs for one A/B test", NULL);
    if ((is_stop || is_report) && !o.id)
        return tr_cli_usage(a->cmd, "which test? (an id such as ab1)", NULL);
    tr_store *st;
    tr_error e;
    tr_error_clear(&e);
    if (tr_cli_store_open(o.store, 0, &st, &e))
        return tr_cli_fail(&e);
    int ex = EXIT_OK;
    tr_ab_report *rep = calloc(1, sizeof *rep);
    if (!rep) {
        tr_store_close(st);
        return tr_cli_error(EXIT_NOMEM, "out of memory");
    }
    if (is_start) {
        tr_ab_start_opts so = tr_ab_start_opts_default();
        so.a = o.a;
        so.b = o.b;
        so.pairs = pairs;
        so.split = o.split;
        so.days = o.days;
        so.min_trades = o.min_trades;
        so.seed = o.seed;
        so.as_of = o.as_of;
        tr_ab_test t;
        if (tr_ab_start(st, &so, &t, &e))
            ex = tr_cli_fail(&e);
        else
            tr_cli_print_ab_started(&t, o.json);
    } else if (is_status && !o.id) {
        ex = list_tests(st, o.json);
    } else if (is_stop) {
        if (tr_ab_stop(st, o.id, o.as_of, o.note, rep, &e))
            ex = tr_cli_fail(&e);
        else
            ex = tr_cli_print_ab_report(rep, o.json);
    } else {
        if (tr_ab_analyse(st, o.id, o.as_of, rep, &e))
            ex = tr_cli_fail(&e);
        else
            ex = tr_cli_print_ab_report(rep, o.json);
    }
    free(rep);
    tr_store_close(st);
    return ex;
}
