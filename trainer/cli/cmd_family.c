/*
 * cmd_family.c - aifx-train family: model families (registry/family.h, docs/families.md).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/print.h"
#include "cycles/family_opts.h"

const char tr_cli_help_family[] =
    "usage: aifx-train family add NAME [--file F] [--pairs P,Q] [--timeframe TF]\n"
    "                  [--labels L] [--decision D] [--layers N] [--hidden N] [--epochs N]\n"
    "                  [--batch N] [--months N] [--weekday DAY] [--disable CYCLE,...]\n"
    "                  [--json] [--store S]\n"
    "       aifx-train family list [--json] [--store S]\n"
    "       aifx-train family show NAME [--json] [--store S]\n"
    "\n"
    "  A model family is a named set of pairs at one timeframe with its own settings and its\n"
    "  own versions (v1.0, v1.1, ... of its own), active version, gate, ranking, A/B tests and\n"
    "  signals; every command works in one with --family NAME. The family 'default' (every\n"
    "  stored pair at 15m, the built-in settings) needs no definition. add: from a file of\n"
    "  'key = value' lines (keys: pairs, timeframe, labels, decision, layers, hidden, epochs,\n"
    "  batch, months, weekday, disable) and/or the options, which override the file. Adding a\n"
    "  name again with the same definition changes nothing; another definition is refused\n"
    "  (exit 4): a family's versions were trained by its definition. Windows stated in time\n"
    "  (the retrain's months, the fine-tune's day, the gate's week, the ranking's 30 days) keep\n"
    "  their number of bars at the family's timeframe (docs/families.md).\n";

/* The options of family add, each a key of the definition. */
typedef struct fam_opt {
    const char *key;
    const char *value;
} fam_opt;

int tr_cli_cmd_family(tr_cli_args *a)
{
    const char *store_dir = NULL, *sub = NULL, *name = NULL, *file = NULL;
    tr_cli_out oo = {0, 0, 0, 0};
    fam_opt set[] = {{"pairs", NULL},  {"timeframe", NULL}, {"labels", NULL}, {"decision", NULL},
                     {"layers", NULL}, {"hidden", NULL},    {"epochs", NULL}, {"batch", NULL},
                     {"months", NULL}, {"weekday", NULL},   {"disable", NULL}};
    const tr_cli_optdef opts[] = {
        OPT_OUTPUT(oo, store_dir),
        OPT_STR("--file", &file),
        OPT_STR("--pairs", &set[0].value),
        OPT_STR("--timeframe", &set[1].value),
        OPT_STR("--labels", &set[2].value),
        OPT_STR("--decision", &set[3].value),
        OPT_STR("--layers", &set[4].value),
        OPT_STR("--hidden", &set[5].value),
        OPT_STR("--epochs", &set[6].value),
        OPT_STR("--batch", &set[7].value),
        OPT_STR("--months", &set[8].value),
        OPT_STR("--weekday", &set[9].value),
        OPT_STR("--disable", &set[10].value),
        OPT_POS("subcommand", &sub),
        OPT_POS("family name", &name),
    };
    TR_CLI_SCAN(a, opts);
    if (!sub)
        return tr_cli_usage(a->cmd, "missing subcommand (add, list, show)", NULL);
    int is_add = strcmp(sub, "add") == 0, is_list = strcmp(sub, "list") == 0;
    int is_show = strcmp(sub, "show") == 0;
    if (!is_add && !is_list && !is_show)
        return tr_cli_usage(a->cmd, "unknown subcommand (add, list, show):", sub);
    if (is_list && name)
        return tr_cli_usage(a->cmd, "list takes no name:", name);
    if (!is_list && !name)
        return tr_cli_usage(a->cmd, "a family name is needed", NULL);
    int n_set = 0;
    for (size_t k = 0; k < sizeof set / sizeof set[0]; k++)
        n_set += set[k].value != NULL;
    if (!is_add && (file || n_set))
        return tr_cli_usage(a->cmd, "only add takes a definition", NULL);
    tr_error e;
    tr_error_clear(&e);
    tr_family f;
    if (is_add) {
        /* the definition first, checked before the store is touched */
        char *text = NULL;
        size_t len = 0;
        if (file && tr_file_read(file, &text, &len, &e))
            return tr_cli_fail(&e);
        tr_code rc =
            tr_family_parse(name, text ? text : "", len, file ? file : "definition", &f, &e);
        free(text);
        for (size_t k = 0; !rc && k < sizeof set / sizeof set[0]; k++) {
            if (!set[k].value)
                continue;
            tr_error e1;
            tr_error_clear(&e1);
            if (tr_family_set(&f, set[k].key, set[k].value, &e1))
                rc = tr_fail(&e, TR_ERR_INVALID, "--%s: %s", set[k].key, e1.msg);
        }
        if (!rc)
            rc = tr_family_check(&f, &e);
        if (rc)
            return tr_cli_fail(&e);
    }
    tr_store *st;
    if (tr_cli_store_open(store_dir, 0, &st, &e))
        return tr_cli_fail(&e);
    tr_code rc;
    if (is_add) {
        rc = tr_store_family_add(st, &f, &e);
        if (!rc)
            rc = tr_store_family_get(st, f.name, &f, &e);
        if (!rc && (!oo.quiet || oo.json))
            tr_cli_print_family(&f, oo.json);
    } else if (is_show) {
        rc = tr_store_family_get(st, name, &f, &e);
        if (!rc)
            tr_cli_print_family(&f, oo.json);
    } else {
        tr_family *list = NULL;
        size_t n = 0;
        rc = tr_store_family_list(st, &list, &n, &e);
        if (!rc)
            tr_cli_print_families(list, n, oo.json);
        free(list);
    }
    tr_store_close(st);
    return rc ? tr_cli_fail(&e) : EXIT_OK;
}
