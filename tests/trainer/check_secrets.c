/*
 * check_secrets.c - no command prints a store's password.
 *
 * Every command that takes --store is run against a PostgreSQL location that holds a password,
 * in the two forms libpq reads (a URI's user info and a keyword/value string), with the server
 * up (a migrated database with bars, versions and signals, so that commands reach their success
 * and their no-data paths) and down (a socket nobody listens on), and with $PGPASSWORD set too.
 * Standard output and standard error together must never contain the password; each command
 * must exit normally (not by a signal). The private test server trusts its socket, so it
 * accepts any password; what is checked is only what the program prints.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check_main.h"
#include "pgutil.h"
#include "testutil.h"

#define SECRET   "Pw7Secret-XYZZY"
#define PGSECRET "EnvPw-QUUX42"

#define run(dir, ...) tu_run(AIFX_TRAIN_EXE, dir, __VA_ARGS__)

/* The commands, with arguments that reach the store; --store LOCATION is appended. */
static const char *const commands[] = {
    "bars",
    "bars --json",
    "dataset --as-of 2024-03-01T00:00:00Z",
    "full --as-of 2024-03-01T00:00:00Z --months 1 --hidden 4 --epochs 1 --quiet",
    "full --as-of 2030-03-01T00:00:00Z --months 1 --hidden 4 --epochs 1 --quiet",
    "incremental --as-of 2024-03-02T03:00:00Z --epochs 1 --quiet",
    "incremental --as-of 2030-03-02T03:00:00Z --epochs 1 --quiet",
    "versions",
    "versions --json",
    "versions show v1.0",
    "versions show v9.9",
    "log",
    "log --activations --json",
    "activate v1.0",
    "activate v9.9",
    "rollback",
    "evaluate v1.0 --from 2024-02-01T00:00:00Z --to 2024-03-01T00:00:00Z",
    "evaluate v1.0 --from 2030-02-01T00:00:00Z --to 2030-03-01T00:00:00Z",
    "backtest v1.0 --from 2024-02-01T00:00:00Z --to 2024-03-01T00:00:00Z",
    "predict --pair EURUSD --as-of 2024-03-01T00:00:00Z",
    "predict --pair EURUSD --as-of 2030-03-01T00:00:00Z",
    "rank --as-of 2024-03-01T00:00:00Z",
    "rank",
    "run-due --as-of 2024-03-01T00:00:00Z",
    "monitor --as-of 2024-03-01T00:00:00Z",
    "monitor --json",
    "drift --pair EURUSD --as-of 2024-03-01T00:00:00Z",
    "drift --version v9.9 --json",
    "dq --pair EURUSD --as-of 2024-03-01T00:00:00Z",
    "dq --json",
    "notify --status",
    "notify --once --json",
    "ab start --a v1.0 --b v1.0",
    "ab status",
    "ab report ab1",
    "ab stop ab1",
    "ab report ab9 --json",
    "db migrate",
    "listen --count 1 --timeout 0.2",
    "enqueue-due --as-of 2024-03-02T12:00:00Z",
    "jobs list",
    "worker --once --months 1 --hidden 4 --epochs 1 --quiet",
    "jobs list --json",
    "jobs show 1 --json",
    "jobs retry 1",
    "ingest --pair GBPUSD --csv /nonexistent/bars.csv",
    "synth --pair GBPUSD --from 2024-01-01 --to 2024-01-02",
    "replay --csv /nonexistent/a.csv --pair EURUSD --from 2024-01-01 --to 2024-01-02",
};

/* Runs every command against location; none may print SECRET or PGSECRET. */
static void run_all(const char *dir, const char *location, const char *what)
{
    char quoted[2048];
    snprintf(quoted, sizeof quoted, "'%s'", location);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        int rc = run(dir, "%s --store %s", commands[i], quoted);
        ck_assert_msg(rc >= 0, "%s: `%s` did not exit normally", what, commands[i]);
        ck_assert_msg(!tu_output_has(dir, SECRET), "%s: `%s` printed the password", what,
                      commands[i]);
        ck_assert_msg(!tu_output_has(dir, PGSECRET), "%s: `%s` printed $PGPASSWORD", what,
                      commands[i]);
    }
}

/* The keyword/value and URI forms of a location with a password: host and port come from the
 * test server's connection string, the database from db. */
static void locations(const char *server, const char *db, int port_override, char *kv,
                      size_t kv_size, char *uri, size_t uri_size)
{
    char host[512] = "", port[32] = "";
    const char *h = strstr(server, "host="), *p = strstr(server, "port=");
    if (h)
        sscanf(h + 5, "%511s", host);
    if (p)
        sscanf(p + 5, "%31s", port);
    if (port_override)
        snprintf(port, sizeof port, "%d", port_override);
    snprintf(kv, kv_size, "host=%s port=%s user=postgres dbname=%s password=%s", host, port, db,
             SECRET);
    snprintf(uri, uri_size, "postgresql://postgres:%s@/%s?host=%s&port=%s", SECRET, db, host, port);
}

START_TEST(test_no_command_prints_the_password)
{
    const char *server = pu_server();
    if (!server)
        return;
    char *ci = pu_create_db(1);
    const char *d = strstr(ci, " dbname=aifxt_"); /* the last dbname, which wins */
    ck_assert_ptr_nonnull(d);
    d++;
    char db[128];
    sscanf(d + 7, "%127s", db);
    char *dir = tu_tempdir();
    setenv("PGPASSWORD", PGSECRET, 1);
    char *models = tu_path(dir, "models");
    setenv("AIFX_MODELS_DIR", models, 1);

    char kv[2048], uri[2048];
    locations(server, db, 0, kv, sizeof kv, uri, sizeof uri);
    /* a store with bars, a version and a signal, through the location with the password */
    ck_assert_int_eq(
        run(dir, "synth --pair EURUSD --from 2023-11-01 --to 2024-03-02 --store '%s'", kv), 0);
    ck_assert_msg(!tu_output_has(dir, SECRET), "synth printed the password");
    ck_assert_int_eq(run(dir,
                         "full --as-of 2024-03-01T00:00:00Z --months 1 --hidden 4 --epochs 1 "
                         "--quiet --store '%s'",
                         uri),
                     0);
    ck_assert_int_eq(pu_value(ci, "SELECT count(*) FROM model_versions"), 1);

    run_all(dir, kv, "server up, keyword/value");
    run_all(dir, uri, "server up, URI");
    /* the server down: nothing listens on port 1 of the server's socket directory */
    locations(server, db, 1, kv, sizeof kv, uri, sizeof uri);
    run_all(dir, kv, "server down, keyword/value");
    ck_assert(tu_output_has(dir, "***")); /* the location is named, redacted */
    run_all(dir, uri, "server down, URI");

    unsetenv("PGPASSWORD");
    unsetenv("AIFX_MODELS_DIR");
    tu_rmtree(dir);
    free(dir);
    free(models);
    pu_drop_db(ci);
}
END_TEST

static Suite *secrets_suite(void)
{
    Suite *s = suite_create("secrets");
    TCase *tc = tcase_create("secrets");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_no_command_prints_the_password);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(secrets_suite)
