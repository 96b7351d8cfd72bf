/*
 * cmd_registry.c - the registry's commands: activate, rollback, versions (and versions show),
 * log (and log --activations). docs/cli.md, docs/registry.md.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/print.h"
#include "cycles/cycle.h"
#include "cycles/monitor.h"
#include "registry/registry.h"
#include "store/store.h"

const char tr_cli_help_activate[] =
    "usage: aifx-train activate --version V [--reason TEXT] [--json] [--store DIR]\n"
    "       aifx-train activate V ...   (V: shorthand of --version V)\n"
    "  Makes version V the active version, recorded in the activation history.\n";

const char tr_cli_help_rollback[] =
    "usage: aifx-train rollback [--reason TEXT] [--json] [--store DIR]\n"
    "  Re-activates the version that was active before the current one (the history replayed as\n"
    "  a stack: repeated rollbacks walk further back).\n";

const char tr_cli_help_versions[] =
    "usage: aifx-train versions [--json] [--store DIR]\n"
    "       aifx-train versions show --version V [--json] [--store DIR]\n"
    "       aifx-train versions show V ...  or  aifx-train versions --version V ...\n"
    "  Lists the registered versions, or shows one with all its figures.\n";

const char tr_cli_help_log[] =
    "usage: aifx-train log [--json] [--activations] [--store DIR]\n"
    "  The training log (one row per cycle run: completed, skipped or failed, with the gate's\n"
    "  verdict and both figures), or with --activations the activation history.\n";

static int activate_or_rollback(tr_cli_args *a, int rollback)
{
    const char *store_dir = NULL, *version = NULL, *note = "";
    tr_cli_out oo = {0, 0, 0, 0};
    const tr_cli_optdef opts[] = {
        OPT_OUTPUT(oo, store_dir), OPT_STR("--reason", &note),
        OPT_VERSION(&version), /* last: rollback takes none */
    };
    /* rollback takes no version: the table without its last two entries */
    int sc = tr_cli_scan(a, opts, sizeof opts / sizeof opts[0] - (size_t)(rollback ? 2 : 0));
    if (sc)
        return sc < 0 ? EXIT_OK : sc;
    if (!rollback && !version)
        return tr_cli_usage(a->cmd, "which version? (aifx-train activate --version V)", NULL);
    tr_error e;
    tr_error_clear(&e);
    tr_store *st;
    if (tr_cli_store_open(store_dir, 0, &st, &e))
        return tr_cli_fail(&e);
    char from[TR_VERSION_MAX], to[TR_VERSION_MAX];
    tr_code rc = tr_activate(st, version, rollback, note, from, to, &e);
    tr_store_close(st);
    if (rc)
        return tr_cli_fail(&e);
    tr_cli_print_activation(from, to, rollback, oo.json);
    return EXIT_OK;
}

int tr_cli_cmd_activate(tr_cli_args *a)
{
    return activate_or_rollback(a, 0);
}

int tr_cli_cmd_rollback(tr_cli_args *a)
{
    return activate_or_rollback(a, 1);
}

/* Reads the registry of the existing store at location: 0, or the exit code of the failure. */
static int read_registry(const char *location, tr_registry *reg)
{
    tr_error e;
    tr_error_clear(&e);
    tr_store *st;
    if (tr_cli_store_open(location, 0, &st, &e))
        return tr_cli_fail(&e);
    tr_code rc = tr_store_registry_read(st, reg, &e);
    tr_store_close(st);
    return rc ? tr_cli_fail(&e) : EXIT_OK;
}

int tr_cli_cmd_versions(tr_cli_args *a)
{
    const char *store_dir = NULL, *show = NULL;
    tr_cli_out oo = {0, 0, 0, 0};
    const char *word = NULL;
    const tr_cli_optdef opts[] = {
        OPT_OUTPUT(oo, store_dir), OPT_POS("show", &word),
        OPT_VERSION(&show), /* after "show": versions show V */
    };
    TR_CLI_SCAN(a, opts);
    if (word && (strcmp(word, "show") != 0 || !show))
        return tr_cli_usage(a->cmd, "which version? (versions show --version V)", NULL);
    tr_registry reg;
    int ex;
    if (show) {
        /* the version with its production figures, from the store's signals */
        tr_error e;
        tr_error_clear(&e);
        tr_store *st;
        if (tr_cli_store_open(store_dir, 0, &st, &e))
            return tr_cli_fail(&e);
        const tr_version *v = NULL;
        tr_prod_figs pf;
        tr_code rc = tr_store_registry_read(st, &reg, &e);
        if (rc) {
            tr_store_close(st);
            return tr_cli_fail(&e);
        }
        rc = tr_registry_get(&reg, show, &v, &e);
        const char *name = v ? v->version : "";
        if (!rc)
            rc = tr_prod_figs_read(st, &name, 1, &pf, &e);
        tr_store_close(st);
        ex = rc ? tr_cli_fail(&e) : EXIT_OK;
        if (!rc)
            tr_cli_print_version(v, &pf, oo.json);
        tr_registry_free(&reg);
        return ex;
    }
    ex = read_registry(store_dir, &reg);
    if (ex)
        return ex;
    {
        tr_cli_print_versions(&reg, oo.json);
    }
    tr_registry_free(&reg);
    return ex;
}

int tr_cli_cmd_log(tr_cli_args *a)
{
    const char *store_dir = NULL;
    int acts = 0;
    tr_cli_out oo = {0, 0, 0, 0};
    const tr_cli_optdef opts[] = {
        OPT_OUTPUT(oo, store_dir),
        OPT_FLAG("--activations", &acts),
    };
    TR_CLI_SCAN(a, opts);
    tr_registry reg;
    int ex = read_registry(store_dir, &reg);
    if (ex)
        return ex;
    if (acts)
        tr_cli_print_activations(&reg, oo.json);
    else
        tr_cli_print_log(&reg, oo.json);
    tr_registry_free(&reg);
    return EXIT_OK;
}
