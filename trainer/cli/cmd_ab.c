/*
 * cmd_ab.c - `aifx-train ab start|status|stop|report`: A/B tests between versions (abtest.h,
 * docs/abtest.md, docs/cli.md).
 */
#include "cli/cmd_ab.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cycles/abtest.h"
#include "cli/cli.h"
#include "store/store.h"
#include "base/timeutil.h"

static const char *help_ab =
    "usage: aifx-train ab start --a VERSION --b VERSION [--split 0.5] [--days 7]\n"
    "                           [--min-trades N] [--pairs P,Q] [--seed HEX] [--as-of TIME]\n"
    "       aifx-train ab status [ID] [--as-of TIME] [--json]\n"
    "       aifx-train ab stop ID [--note TEXT] [--as-of TIME]\n"
    "       aifx-train ab report ID [--as-of TIME] [--json]\n"
    "  (each also takes --store LOCATION)\n"
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
    const char *store, *a, *b, *pairs, *note, *id;
    double split;
    int days;
    int64_t min_trades;
    uint64_t seed;
    int64_t as_of;
    int json;
} ab_args;

/* A non-zero hexadecimal seed. */
static int parse_seed(const char *v, void *dst)
{
    char *end;
    unsigned long long x = strtoull(v, &end, 16);
    if (end == v || *end || x == 0)
        return -1;
    *(uint64_t *)dst = (uint64_t)x;
    return 0;
}

static int parse(tr_cli_args *a, ab_args *o)
{
    const tr_cli_optdef opts[] = {
        OPT_FLAG("--json", &o->json),
        OPT_STR("--store", &o->store),
        OPT_STR("--a", &o->a),
        OPT_STR("--b", &o->b),
        OPT_STR("--pairs", &o->pairs),
        OPT_STR("--note", &o->note),
        OPT_DBL("--split", &o->split, 1e-6, 1 - 1e-6, "(a share in (0, 1))"),
        OPT_INT("--days", &o->days, 1, 365, "(1..365)"),
        OPT_I64("--min-trades", &o->min_trades, 0, 100000000, NULL),
        OPT_CALL("--seed", &o->seed, parse_seed, "(non-zero hexadecimal)"),
        OPT_TIME("--as-of", &o->as_of),
        OPT_POS("ID", &o->id),
    };
    return tr_cli_scan(a, help_ab, opts, sizeof opts / sizeof opts[0]);
}

static int print_report(const tr_ab_report *r, int json)
{
    char *text = json ? tr_ab_report_json(r) : tr_ab_report_markdown(r);
    if (!text) {
        fprintf(stderr, "aifx-train: error: out of memory\n");
        return EXIT_NOMEM;
    }
    fputs(text, stdout);
    if (json)
        fputc('\n', stdout);
    free(text);
    return EXIT_OK;
}

static int list_tests(tr_store *st, int json)
{
    tr_registry reg;
    tr_error e;
    if (tr_store_registry_read(st, &reg, &e))
        return tr_cli_fail(&e);
    if (json) {
        printf("[");
        for (size_t i = 0; i < reg.n_abtests; i++) {
            char *j = tr_ab_test_json(&reg.abtests[i]);
            printf("%s%s", i ? "," : "", j ? j : "null");
            free(j);
        }
        printf("]\n");
    } else if (reg.n_abtests == 0) {
        printf("no A/B test in the store\n");
    } else {
        printf("%-6s %-22s %-22s %-14s %-9s %-17s %-17s %5s %9s %9s  %s\n", "id", "A", "B", "pairs",
               "status", "started", "planned end", "looks", "pred A", "pred B", "verdict");
        for (size_t i = 0; i < reg.n_abtests; i++) {
            const tr_ab_test *t = &reg.abtests[i];
            char a[32], b[32];
            tr_time_format(t->started_at, a, sizeof a);
            tr_time_format(t->planned_end, b, sizeof b);
            printf("%-6s %-22s %-22s %-14s %-9s %-17.16s %-17.16s %5d %9lld %9lld  %s%s%s\n", t->id,
                   t->version_a, t->version_b, t->pairs[0] ? t->pairs : "all",
                   tr_ab_status_name(t->status), a, b, t->n_looks, (long long)t->n_pred_a,
                   (long long)t->n_pred_b, t->verdict[0] ? t->verdict : "-",
                   t->end_reason[0] ? " " : "", t->end_reason);
        }
    }
    tr_registry_free(&reg);
    return EXIT_OK;
}

int tr_cmd_ab(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[2], "--help") == 0) {
        fputs(help_ab, argc < 3 ? stderr : stdout);
        return argc < 3 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[2];
    tr_cli_args a = {argc, 3, argv, "ab"};
    ab_args o;
    memset(&o, 0, sizeof o);
    o.split = 0.5;
    o.days = 7;
    int rc = parse(&a, &o);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    int is_start = strcmp(sub, "start") == 0, is_status = strcmp(sub, "status") == 0;
    int is_stop = strcmp(sub, "stop") == 0, is_report = strcmp(sub, "report") == 0;
    if (!is_start && !is_status && !is_stop && !is_report)
        return tr_cli_usage("ab", "unknown subcommand (start, status, stop, report):", sub);
    if (is_start && (!o.a || !o.b || o.id))
        return tr_cli_usage("ab", "start needs --a VERSION and --b VERSION", NULL);
    if ((is_stop || is_report) && !o.id)
        return tr_cli_usage("ab", "which test? (an id such as ab1)", NULL);
    tr_store *st;
    tr_error e;
    tr_error_clear(&e);
    if (tr_cli_store_open(o.store, 0, &st, &e))
        return tr_cli_fail(&e);
    int ex = EXIT_OK;
    tr_ab_report *rep = calloc(1, sizeof *rep);
    if (!rep) {
        tr_store_close(st);
        fprintf(stderr, "aifx-train: error: out of memory\n");
        return EXIT_NOMEM;
    }
    if (is_start) {
        tr_ab_start_opts so = tr_ab_start_opts_default();
        so.a = o.a;
        so.b = o.b;
        so.pairs = o.pairs;
        so.split = o.split;
        so.days = o.days;
        so.min_trades = o.min_trades;
        so.seed = o.seed;
        so.as_of = o.as_of;
        tr_ab_test t;
        if (tr_ab_start(st, &so, &t, &e)) {
            ex = tr_cli_fail(&e);
        } else if (o.json) {
            char *j = tr_ab_test_json(&t);
            printf("%s\n", j ? j : "null");
            free(j);
        } else {
            char a1[32];
            printf("started A/B test %s: %s (A) vs %s (B) on %s, %.0f%% of bars to B, "
                   "seed %016" PRIx64 ", until %s%s\n",
                   t.id, t.version_a, t.version_b, t.pairs[0] ? t.pairs : "every pair",
                   100 * t.split, t.seed, tr_time_format(t.planned_end, a1, sizeof a1),
                   t.min_trades ? " or the planned trades per arm" : "");
        }
    } else if (is_status && !o.id) {
        ex = list_tests(st, o.json);
    } else if (is_stop) {
        if (tr_ab_stop(st, o.id, o.as_of, o.note, rep, &e))
            ex = tr_cli_fail(&e);
        else
            ex = print_report(rep, o.json);
    } else {
        if (tr_ab_analyse(st, o.id, o.as_of, rep, &e))
            ex = tr_cli_fail(&e);
        else
            ex = print_report(rep, o.json);
    }
    free(rep);
    tr_store_close(st);
    return ex;
}
