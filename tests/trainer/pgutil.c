/* pgutil.c - see pgutil.h. */
#define _POSIX_C_SOURCE 200809L

#include "pgutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"
#include "testutil.h"

const char *pu_server(void)
{
    static int told;
#ifndef AIFX_WITH_POSTGRESQL
    if (!told) {
        told = 1;
        fprintf(stderr, "SKIP: PostgreSQL cases (built with AIFX_WITH_POSTGRESQL=OFF)\n");
    }
    return NULL;
#endif
    const char *s = getenv("AIFX_TEST_PG");
    if (s && s[0])
        return s;
    if (!told) {
        told = 1;
        fprintf(stderr, "SKIP: PostgreSQL cases (AIFX_TEST_PG is unset; scripts/test.sh starts a "
                        "private server, or see scripts/lib/pg.sh)\n");
    }
    return NULL;
}

static const char *psql_path(void)
{
    static char path[4200];
    const char *bin = getenv("AIFX_PG_BIN");
    snprintf(path, sizeof path, "%s/psql", bin && bin[0] ? bin : "/usr/lib/postgresql/15/bin");
    if (access(path, X_OK) != 0)
        snprintf(path, sizeof path, "psql");
    return path;
}

/* s with single quotes for the shell */
static void shell_quote(char *out, size_t size, const char *s)
{
    size_t o = 0;
    if (o + 1 < size)
        out[o++] = '\'';
    for (; *s && o + 5 < size; s++) {
        if (*s == '\'') {
            memcpy(out + o, "'\\''", 4);
            o += 4;
        } else {
            out[o++] = *s;
        }
    }
    out[o++] = '\'';
    out[o] = '\0';
}

int pu_psql(const char *conninfo, const char *sql, char *out, size_t size)
{
    /* the store's tables first, as the program sees them */
    const char *schema = getenv("AIFX_PG_SCHEMA");
    char path[160];
    snprintf(path, sizeof path, "%s,public", schema && schema[0] ? schema : TR_PG_DEFAULT_SCHEMA);
    return pu_psql_path(conninfo, path, sql, out, size);
}

int pu_psql_path(const char *conninfo, const char *path, const char *sql, char *out, size_t size)
{
    char *dir = tu_tempdir();
    char *in = tu_write(dir, "in.sql", sql);
    char *res = tu_path(dir, "out.txt");
    char qc[4200], cmd[12000];
    shell_quote(qc, sizeof qc, conninfo);
    snprintf(cmd, sizeof cmd,
             "PGOPTIONS='-c search_path=%s' '%s' -X -q -A -t -v ON_ERROR_STOP=1 -d %s -f '%s' > "
             "'%s' 2>&1",
             path, psql_path(), qc, in, res);
    int st = system(cmd);
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    FILE *f = fopen(res, "r");
    if (f) {
        char buf[8192];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        while (n > 0 && buf[n - 1] == '\n')
            buf[--n] = '\0';
        if (rc != 0)
            fprintf(stderr, "psql failed (%d): %s\n", rc, buf);
        if (out && size)
            snprintf(out, size, "%s", buf);
    } else if (out && size) {
        out[0] = '\0';
    }
    tu_rmtree(dir);
    free(in);
    free(res);
    free(dir);
    return rc;
}

long long pu_value(const char *conninfo, const char *sql)
{
    char buf[256];
    if (pu_psql(conninfo, sql, buf, sizeof buf) != 0)
        return -1;
    char *end;
    long long v = strtoll(buf, &end, 10);
    return end == buf ? -1 : v;
}

char *pu_create_db(int migrate)
{
    static int counter;
    const char *server = pu_server();
    if (!server)
        return NULL;
    char name[64], sql[256];
    snprintf(name, sizeof name, "aifxt_%ld_%d", (long)getpid(), ++counter);
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s; CREATE DATABASE %s;", name, name);
    if (pu_psql(server, sql, NULL, 0) != 0)
        abort();
    char *ci = malloc(4096);
    if (!ci)
        abort();
    snprintf(ci, 4096, "%s dbname=%s", server, name); /* a later keyword wins */
    if (migrate) {
        tr_migrate_result r;
        tr_error e;
        if (tr_store_migrate(ci, &r, &e) != TR_OK) {
            fprintf(stderr, "migrate %s: %s\n", ci, e.msg);
            abort();
        }
    }
    return ci;
}

void pu_drop_db(char *conninfo)
{
    if (!conninfo)
        return;
    const char *p = strstr(conninfo, " dbname=aifxt_");
    if (p && pu_server()) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE);", p + 8);
        pu_psql(pu_server(), sql, NULL, 0);
    }
    free(conninfo);
}

int pu_run_env(const char *var)
{
    const char *cmd = getenv(var);
    if (!cmd || !cmd[0])
        return -1;
    char full[8192];
    snprintf(full, sizeof full, "%s > /dev/null 2>&1", cmd);
    int st = system(full);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int pu_fixture_open(pu_fixture *f)
{
    memset(f, 0, sizeof *f);
    if (!pu_server())
        return 0;
    f->ci = pu_create_db(1);
    f->dir = tu_tempdir();
    f->models = tu_path(f->dir, "models");
    setenv("AIFX_MODELS_DIR", f->models, 1);
    return 1;
}

void pu_fixture_close(pu_fixture *f)
{
    unsetenv("AIFX_MODELS_DIR");
    pu_drop_db(f->ci);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f->models);
    memset(f, 0, sizeof *f);
}
