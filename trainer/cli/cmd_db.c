/*
 * cmd_db.c - `aifx-train db migrate` (the schema of a PostgreSQL store) and `aifx-train listen`
 * (its events, one line each as they arrive). docs/cli.md.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/timeutil.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/print.h"
#include "data/models.h"
#include "store/store.h"

const char tr_cli_help_db[] =
    "usage: aifx-train db migrate [--store LOCATION] [--pg-schema NAME]\n"
    "                             [--backend-schema NAME] [--backend-views] [--backend-signals]\n"
    "                             [--bars-from TABLE [--bars-columns KEY=COL,...]\n"
    "                              [--bars-timeframes LABEL=TF,...] [--bars-pairs LABEL=PAIR,...]\n"
    "                              [--bars-notify]]\n"
    "\n"
    "  Brings a PostgreSQL store's schema up to this program's version: applies the missing\n"
    "  numbered migrations in order, each in its own transaction, recorded in\n"
    "  schema_migrations. Running it again changes nothing. A schema newer than the program is\n"
    "  refused (exit 5). One migration at a time per database (an advisory lock).\n"
    "  LOCATION: postgresql://user@host/db, or a libpq string such as\n"
    "  \"host=/run/postgresql dbname=aifx\"; default $AIFX_STORE. The PG* variables apply.\n"
    "  Everything of the store lives in its own schema: --pg-schema, else $AIFX_PG_SCHEMA, else\n"
    "  aifx (every other command takes it from $AIFX_PG_SCHEMA); a store of an earlier program\n"
    "  (in public) is moved into it. Beside a backend's tables (docs/schema.md 5.6):\n"
    "  --backend-views creates the original design's model_training_log, model_ab_test and\n"
    "  model_versions as views in the backend's schema (--backend-schema, default public);\n"
    "  --backend-signals adds the design's model_version and ab_test_id columns to its\n"
    "  trading_signals; --bars-from TABLE reads bars from the backend's table instead of the\n"
    "  store's own (read-only), --bars-notify adds a trigger there that sends new_market_data.\n"
    "  What is set up is recorded in the store and kept by later runs.\n"
    "\n"
    "       aifx-train db upload [--store LOCATION] [--models-dir DIR]\n"
    "\n"
    "  Stores in the database the checkpoints (and drift references) of registered versions\n"
    "  that it lacks, from this host's models directory, each only when the file matches the\n"
    "  registry's CRC-32 and size: for versions registered before model files (migration 009),\n"
    "  so that every host can load them. Running it again changes nothing. Prints how many\n"
    "  were stored and names the versions found nowhere (exit 5 when there are any).\n"
    "\n"
    "       aifx-train db files [--store LOCATION] [--prefix P]\n"
    "       aifx-train db get NAME [--store LOCATION] [--out PATH]\n"
    "\n"
    "  The files a PostgreSQL store keeps (checkpoints, drift references, the ranking's reports\n"
    "  and pictures under reports/): files lists them (name, kind, bytes, CRC-32, stored at),\n"
    "  get writes one, checked against its CRC-32, to PATH (default: its file name in the\n"
    "  current directory), atomically.\n";

const char tr_cli_help_listen[] =
    "usage: aifx-train listen [--store LOCATION] [--channel C]... [--count N]\n"
    "                         [--timeout SECONDS]\n"
    "\n"
    "  Prints the store's events as they arrive, one line each: the channel, a tab, the JSON\n"
    "  payload. Channels: new_market_data, training_completed, model_deployed, new_prediction,\n"
    "  signal_outcome (default: all five). Stops after N events (exit 0), or after SECONDS (exit 0 "
    "without --count; exit 6\n"
    "  when fewer than N events came). \"listening\" on standard error says it has begun.\n"
    "  PostgreSQL stores only (a directory store has no events: exit 8).\n";

/* db upload: the checkpoints the database lacks, from this host's models directory. */
static int db_upload(const char *store, tr_error *e)
{
    tr_store *st;
    if (tr_cli_store_open(store, 0, &st, e))
        return tr_cli_fail(e);
    tr_upload_result r;
    tr_code rc = tr_model_files_upload(st, &r, e);
    if (!rc)
        printf("store %s: %zu versions with a checkpoint: %zu stored already, %zu uploaded, %zu "
               "missing%s%s\n",
               tr_store_name(st), r.n_versions, r.n_stored, r.n_uploaded, r.n_missing,
               r.n_missing ? ": " : "", r.missing);
    if (!rc && r.n_missing)
        rc = tr_fail(e, TR_ERR_CHECKSUM,
                     "%zu versions have their checkpoint neither in the database nor in this "
                     "host's models directory: %s",
                     r.n_missing, r.missing);
    tr_store_close(st);
    return rc ? tr_cli_fail(e) : EXIT_OK;
}

/* db files: the stored files, one line each. */
static int db_files(const char *store, const char *prefix, tr_error *e)
{
    tr_store *st;
    if (tr_cli_store_open(store, 0, &st, e))
        return tr_cli_fail(e);
    tr_file_info *list;
    size_t n;
    tr_code rc = tr_store_file_list(st, prefix, &list, &n, e);
    tr_store_close(st);
    if (rc)
        return tr_cli_fail(e);
    for (size_t i = 0; i < n; i++) {
        char at[32];
        printf("%s\t%s\t%lld\t%08x\t%s\n", list[i].name, list[i].kind, (long long)list[i].size,
               (unsigned)list[i].crc, tr_time_format(list[i].created_at, at, sizeof at));
    }
    free(list);
    return EXIT_OK;
}

/* db get: one stored file to a local path. */
static int db_get(const char *store, const char *name, const char *out, tr_error *e)
{
    tr_store *st;
    if (tr_cli_store_open(store, 0, &st, e))
        return tr_cli_fail(e);
    char *data;
    size_t len;
    uint32_t crc;
    tr_code rc = tr_store_file_get(st, name, &data, &len, &crc, e);
    tr_store_close(st);
    if (rc)
        return tr_cli_fail(e);
    const char *base = strrchr(name, '/');
    const char *path = out && out[0] ? out : base ? base + 1 : name;
    rc = tr_file_write_atomic(path, data, len, e);
    free(data);
    if (rc)
        return tr_cli_fail(e);
    printf("%s: %zu bytes, CRC-32 %08x, written to %s\n", name, len, (unsigned)crc, path);
    return EXIT_OK;
}

int tr_cli_cmd_db(tr_cli_args *a)
{
    const char *store = NULL, *sub = NULL, *name = NULL, *prefix = NULL, *out = NULL;
    tr_migrate_options mo;
    memset(&mo, 0, sizeof mo);
    const tr_cli_optdef opts[] = {
        OPT_STR("--store", &store),
        OPT_STR("--pg-schema", &mo.schema),
        OPT_STR("--backend-schema", &mo.backend_schema),
        OPT_FLAG("--backend-views", &mo.backend_views),
        OPT_FLAG("--backend-signals", &mo.backend_signals),
        OPT_STR("--bars-from", &mo.bars_table),
        OPT_STR("--bars-columns", &mo.bars_columns),
        OPT_STR("--bars-timeframes", &mo.bars_timeframes),
        OPT_STR("--bars-pairs", &mo.bars_pairs),
        OPT_FLAG("--bars-notify", &mo.bars_notify),
        OPT_STR("--prefix", &prefix),
        OPT_STR("--out", &out),
        OPT_POS("subcommand", &sub),
        OPT_POS("file name", &name),
    };
    TR_CLI_SCAN(a, opts);
    if (!sub)
        return tr_cli_usage(a->cmd, "missing subcommand (migrate, upload, files, get)", NULL);
    int is_get = strcmp(sub, "get") == 0, is_files = strcmp(sub, "files") == 0;
    if (strcmp(sub, "migrate") != 0 && strcmp(sub, "upload") != 0 && !is_get && !is_files)
        return tr_cli_usage(a->cmd, "unknown subcommand", sub);
    if (is_get != (name != NULL))
        return tr_cli_usage(a->cmd, is_get ? "db get: missing file name" : "unexpected argument",
                            name);
    tr_error e;
    tr_error_clear(&e);
    if (strcmp(sub, "upload") == 0)
        return db_upload(store, &e);
    if (is_files || is_get)
        return is_get ? db_get(store, name, out, &e) : db_files(store, prefix, &e);
    tr_migrate_result r;
    if (tr_store_migrate_opts(tr_store_location(store), &mo, &r, &e))
        return tr_cli_fail(&e);
    tr_cli_print_migration(&r);
    if (r.moved_from[0])
        printf("store %s: moved from schema %s into schema %s\n", r.location, r.moved_from,
               r.schema);
    if (r.backend[0])
        printf("store %s: beside the backend: %s\n", r.location, r.backend);
    return EXIT_OK;
}

typedef struct listen_state {
    long count, seen; /* count 0: no limit */
    const char *const *channels;
    size_t n_channels;
} listen_state;

static int on_event(const char *channel, const char *payload, void *user)
{
    listen_state *st = user;
    if (!channel) {
        tr_cli_print_listening(st->channels, st->n_channels);
        return 0;
    }
    tr_cli_print_store_event(channel, payload);
    st->seen++;
    return st->count > 0 && st->seen >= st->count;
}

#define MAX_CHANNELS 16

int tr_cli_cmd_listen(tr_cli_args *a)
{
    const char *store = NULL;
    const char *channels[MAX_CHANNELS];
    int n_channels = 0, count = 0;
    double timeout = -1;
    const tr_cli_optdef opts[] = {
        OPT_STR("--store", &store),
        OPT_LIST("--channel", channels, MAX_CHANNELS, &n_channels, NULL),
        OPT_INT("--count", &count, 1, 2147483647L, "(a positive number)"),
        OPT_DBL("--timeout", &timeout, 0, 1e9, "(seconds)"),
    };
    TR_CLI_SCAN(a, opts);
    if (n_channels == 0) {
        channels[n_channels++] = "new_market_data";
        channels[n_channels++] = "training_completed";
        channels[n_channels++] = "model_deployed";
        channels[n_channels++] = "new_prediction";
        channels[n_channels++] = "signal_outcome";
    }
    tr_error e;
    tr_error_clear(&e);
    tr_store *st;
    if (tr_cli_store_open(store, 0, &st, &e))
        return tr_cli_fail(&e);
    listen_state ls = {count, 0, channels, (size_t)n_channels};
    tr_code rc = tr_store_listen(st, channels, n_channels, timeout, on_event, &ls, &e);
    tr_store_close(st);
    if (rc)
        return tr_cli_fail(&e);
    if (count > 0 && ls.seen < count) {
        tr_fail(&e, TR_ERR_NOTFOUND, "timed out after %g s with %ld of %ld events", timeout,
                ls.seen, (long)count);
        return tr_cli_fail(&e);
    }
    return EXIT_OK;
}
