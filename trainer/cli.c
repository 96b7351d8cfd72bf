/*
 * cli.c - exit codes, error printing and option scanning shared by the commands (cli.h).
 */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

int tr_cli_exit_code(tr_code rc)
{
    switch (rc) {
    case TR_OK:
        return EXIT_OK;
    case TR_ERR_INVALID:
        return EXIT_USAGE;
    case TR_ERR_DATA:
        return EXIT_DATA;
    case TR_ERR_CONFLICT:
        return EXIT_CONFLICT;
    case TR_ERR_IO:
    case TR_ERR_FORMAT:
    case TR_ERR_VERSION:
    case TR_ERR_CHECKSUM:
    case TR_ERR_STORE:
        return EXIT_STORE;
    case TR_ERR_NOTFOUND:
        return EXIT_NOTFOUND;
    case TR_ERR_NOMEM:
        return EXIT_NOMEM;
    case TR_ERR_UNSUPPORTED:
        return EXIT_UNSUPPORTED;
    case TR_ERR_STALE:
        return EXIT_STALE;
    }
    return EXIT_INTERNAL;
}

int tr_cli_fail(const tr_error *e)
{
    fprintf(stderr, "aifx-train: error: %s\n", e->msg);
    return tr_cli_exit_code(e->code);
}

int tr_cli_usage(const char *cmd, const char *what, const char *arg)
{
    fprintf(stderr, "aifx-train %s: %s%s%s\nTry 'aifx-train %s --help'.\n", cmd, what,
            arg ? " " : "", arg ? arg : "", cmd);
    return EXIT_USAGE;
}

int tr_cli_opt(tr_cli_args *a, const char *name, const char **value, int *missing)
{
    const char *s = a->argv[a->i];
    size_t n = strlen(name);
    if (strncmp(s, name, n) != 0)
        return 0;
    if (s[n] == '=') {
        *value = s + n + 1;
        return 1;
    }
    if (s[n] != '\0')
        return 0;
    if (a->i + 1 >= a->argc) {
        *missing = 1;
        return 1;
    }
    *value = a->argv[++a->i];
    return 1;
}

int tr_cli_parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int tr_cli_parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int tr_cli_parse_time(const char *s, int64_t *t)
{
    return tr_time_parse(s, strlen(s), 0, t);
}
