/*
 * pgutil.h - the PostgreSQL side of the trainer's tests: fresh databases on the private server
 * that scripts/lib/pg.sh starts (its connection string in $AIFX_TEST_PG), and SQL through psql
 * for the checks the store interface does not offer (row counts, a row from the future). Tests
 * skip their PostgreSQL cases when $AIFX_TEST_PG is unset; they never touch another server.
 * Test code reaches the server only through the store and psql (store_pg.c stays the only file
 * that includes libpq-fe.h).
 */
#ifndef AIFXT_PGUTIL_H
#define AIFXT_PGUTIL_H

#include <stddef.h>

/* The test server's connection string, or NULL (then prints, once per process, why the
 * PostgreSQL cases are skipped). */
const char *pu_server(void);

/* Creates a database with a unique name (aifxt_<pid>_<n>) and returns the malloc'd connection
 * string that selects it. With migrate, its schema is brought up to date (db migrate). */
char *pu_create_db(int migrate);
/* Drops the database of a connection string from pu_create_db (closing its sessions) and frees
 * the string; NULL does nothing. */
void pu_drop_db(char *conninfo);

/* Runs sql through psql against conninfo (unaligned, tuples only, stop on the first error);
 * the output (at most size - 1 bytes, trailing newline removed) into out when out is non-NULL.
 * Returns psql's exit status. The search path is the store's schema ($AIFX_PG_SCHEMA, else
 * aifx), then public, so that unqualified names are the store's tables. */
int pu_psql(const char *conninfo, const char *sql, char *out, size_t size);
/* The same with the search path given (a comma-separated list of schema names, e.g. "public":
 * what a backend's own session sees). */
int pu_psql_path(const char *conninfo, const char *path, const char *sql, char *out, size_t size);
/* The integer that sql (one row, one column) returns; -1 on any error. */
long long pu_value(const char *conninfo, const char *sql);

/* A test's PostgreSQL case: a fresh migrated database (ci), a temporary directory (dir) and a
 * models directory in it (models, also set as $AIFX_MODELS_DIR for the programs the test runs). */
typedef struct pu_fixture {
    char *ci, *dir, *models;
} pu_fixture;
/* 0 (and nothing made) when there is no test server: the case then returns. */
int pu_fixture_open(pu_fixture *f);
/* Drops the database, removes the directory, unsets $AIFX_MODELS_DIR. */
void pu_fixture_close(pu_fixture *f);

/* Runs a shell command from the environment variable var (AIFX_TEST_PG_STOP, _START);
 * returns its exit status, or -1 when the variable is unset. */
int pu_run_env(const char *var);

#endif
