/*
 * cli.c - exit codes, error printing, option scanning and the value parsers shared by the
 * commands (cli.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "cli/cli.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/csv.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "cycles/cycle.h"
#include "cycles/rank.h"
#include "cycles/schedule.h"
#include "registry/registry.h"

const char *tr_cli_models_dir;
const char *tr_cli_family;
tr_family tr_cli_fam = {.name = TR_FAMILY_DEFAULT};
int tr_cli_json_errors;

tr_code tr_cli_store_open(const char *location, int create, tr_store **out, tr_error *err)
{
    tr_store_options o = {
        .create = create, .models_dir = tr_cli_models_dir, .family = tr_cli_family};
    return tr_store_open(tr_store_location(location), &o, out, err);
}

double tr_cli_now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

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

const char *tr_cli_exit_name(int exit_code)
{
    static const char *const names[] = {"ok",          "internal", "usage",     "bad_data",
                                        "conflict",    "store",    "not_found", "out_of_memory",
                                        "unsupported", "stale"};
    if (exit_code < 0 || exit_code >= (int)(sizeof names / sizeof names[0]))
        return "internal";
    return names[exit_code];
}

/* {"error":{"code":..,"exit":..,"message":..[,"command":..]}} on standard error. */
static void json_error(int exit_code, const char *message, const char *cmd)
{
    tr_sb b = {0};
    tr_sb_printf(&b, "{\"error\":{\"code\":\"%s\",\"exit\":%d,\"message\":",
                 tr_cli_exit_name(exit_code), exit_code);
    tr_sb_json_str(&b, message);
    if (cmd) {
        tr_sb_printf(&b, ",\"command\":");
        tr_sb_json_str(&b, cmd);
    }
    tr_sb_printf(&b, "}}\n");
    if (b.oom)
        fprintf(stderr,
                "{\"error\":{\"code\":\"out_of_memory\",\"exit\":%d,"
                "\"message\":\"out of memory\"}}\n",
                EXIT_NOMEM);
    else
        fputs(b.p, stderr);
    tr_sb_free(&b);
}

int tr_cli_fail(const tr_error *e)
{
    int ex = tr_cli_exit_code(e->code);
    if (tr_cli_json_errors)
        json_error(ex, e->msg, NULL);
    else
        fprintf(stderr, "aifx-train: error: %s\n", e->msg);
    return ex;
}

int tr_cli_error(int exit_code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (tr_cli_json_errors)
        json_error(exit_code, msg, NULL);
    else
        fprintf(stderr, "aifx-train: error: %s\n", msg);
    return exit_code;
}

int tr_cli_usage(const char *cmd, const char *what, const char *arg)
{
    if (tr_cli_json_errors) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s%s%s", what, arg ? " " : "", arg ? arg : "");
        json_error(EXIT_USAGE, msg, cmd);
        return EXIT_USAGE;
    }
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

int tr_cli_parse_u64(const char *s, int base, uint64_t lo, uint64_t hi, uint64_t *out)
{
    /* strtoull skips blanks and takes a sign (negating in unsigned arithmetic): refused here,
     * so that "-1" is not read as 18446744073709551615 */
    if (!isxdigit((unsigned char)s[0]))
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, base);
    if (*end || errno == ERANGE || v < lo || v > hi)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

int tr_cli_parse_time(const char *s, int64_t *t)
{
    return tr_time_parse(s, strlen(s), 0, t);
}

int tr_cli_parse_hhmm(const char *s, int *minute)
{
    int h, m, used = 0;
    if (sscanf(s, "%2d:%2d%n", &h, &m, &used) != 2 || s[used] || h < 0 || h > 23 || m < 0 || m > 59)
        return -1;
    *minute = h * 60 + m;
    return 0;
}

int tr_cli_opt_pair(const char *v, void *dst)
{
    (void)dst;
    return tr_pair_valid(v) ? 0 : -1;
}

int tr_cli_opt_one_pair(const char *v, void *dst)
{
    if (!tr_pair_valid(v))
        return -1;
    *(const char **)dst = v;
    return 0;
}

int tr_cli_opt_version(const char *v, void *dst)
{
    (void)dst;
    return tr_version_name_valid(v) ? 0 : -1;
}

int tr_cli_parse_pairs(const char *s, int cap, tr_cli_pairs *p)
{
    if (cap > TR_CLI_PAIRS_MAX)
        cap = TR_CLI_PAIRS_MAX;
    int n = p->n;
    for (const char *q = s;; q++) {
        size_t k = strcspn(q, ",");
        if (k == 0 || k >= TR_PAIR_MAX)
            return -1; /* "", "A,,B", "A," or a name too long */
        if (n >= cap)
            return -2;
        memcpy(p->name[n], q, k);
        p->name[n][k] = '\0';
        if (!tr_pair_valid(p->name[n]))
            return -1;
        n++;
        q += k;
        if (!*q)
            break;
    }
    for (; p->n < n; p->n++)
        p->v[p->n] = p->name[p->n];
    return 0;
}

int tr_cli_pairs_join(const tr_cli_pairs *p, char *out, size_t size)
{
    size_t used = 0;
    if (size)
        out[0] = '\0';
    for (int i = 0; i < p->n; i++) {
        int w = snprintf(out + used, size - used, "%s%s", i ? "," : "", p->v[i]);
        if (w < 0 || (size_t)w >= size - used)
            return -1;
        used += (size_t)w;
    }
    return 0;
}

int tr_cli_opt_hours(const char *v, void *dst)
{
    double h;
    if (tr_cli_parse_double(v, DBL_MIN, 1e6, &h))
        return -1;
    *(int64_t *)dst = (int64_t)(h * 3600);
    return 0;
}

int tr_cli_opt_hhmm(const char *v, void *dst)
{
    return tr_cli_parse_hhmm(v, dst);
}

int tr_cli_opt_monitor(const char *v, void *dst)
{
    int *m = dst;
    if (strcmp(v, "loss") == 0)
        *m = AIFX_MONITOR_VAL_LOSS;
    else if (strcmp(v, "macro_f1") == 0)
        *m = AIFX_MONITOR_VAL_MACRO_F1;
    else
        return -1;
    return 0;
}

int tr_cli_opt_labels(const char *v, void *dst)
{
    return tr_label_kind_parse(v, dst);
}

int tr_cli_opt_decision(const char *v, void *dst)
{
    return tr_decision_parse(v, dst);
}

int tr_cli_opt_gate_metric(const char *v, void *dst)
{
    return tr_gate_metric_parse(v, dst);
}

int tr_cli_opt_score(const char *v, void *dst)
{
    return tr_score_method_parse(v, dst);
}

int tr_cli_opt_weights(const char *v, void *dst)
{
    tr_rank_weights *w = dst;
    double x[4];
    int used = 0;
    if (sscanf(v, "%lf,%lf,%lf,%lf%n", &x[0], &x[1], &x[2], &x[3], &used) != 4 || v[used] != '\0' ||
        !isfinite(x[0] + x[1] + x[2] + x[3]))
        return -1;
    w->win_rate = x[0];
    w->sharpe = x[1];
    w->avg_pnl = x[2];
    w->drawdown = x[3];
    return 0;
}

int tr_cli_opt_weekly(const char *v, void *dst)
{
    static const char *const days[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    tr_schedule *sc = dst;
    for (int d = 0; d < 7; d++)
        if (strncmp(v, days[d], 3) == 0 && v[3] == ',' &&
            tr_cli_parse_hhmm(v + 4, &sc->minute[TR_SLOT_WEEKLY]) == 0) {
            sc->weekday = d;
            return 0;
        }
    return -1;
}

int tr_cli_opt_monthly(const char *v, void *dst)
{
    tr_schedule *sc = dst;
    int d = 0, used = 0;
    if (sscanf(v, "%2d,%n", &d, &used) != 1 || used == 0 || d < 1 || d > 28 ||
        tr_cli_parse_hhmm(v + used, &sc->minute[TR_SLOT_MONTHLY]))
        return -1;
    sc->monthday = d;
    return 0;
}

int tr_cli_opt_disable(const char *v, void *dst)
{
    tr_schedule *sc = dst;
    for (int j = 0; j < TR_N_SLOTS; j++)
        if (strcmp(v, tr_slot_cycle(j)) == 0) {
            sc->enabled[j] = 0;
            return 0;
        }
    return -1;
}

int tr_cli_opt_tz_offset(const char *v, void *dst)
{
    tr_csv_options *o = dst;
    if (strcmp(v, "EET") == 0 || strcmp(v, "eet") == 0) {
        o->tz_mode = TR_TZ_EET;
        return 0;
    }
    /* whole quarter hours within +-14: every zone in use (India +5:30, Nepal +5:45) */
    double hours;
    if (tr_cli_parse_double(v, -14, 14, &hours) || fabs(hours * 4 - round(hours * 4)) > 1e-9)
        return -1;
    o->tz_mode = TR_TZ_FIXED;
    o->tz_offset = (int32_t)lround(hours * 3600);
    return 0;
}

/* The value of def v: 0 when it was good and stored. */
static int store_value(const tr_cli_optdef *d, const char *v)
{
    long n;
    double x;
    switch (d->kind) {
    case TR_OPT_POS:
    case TR_OPT_VERSION:
        if (d->kind == TR_OPT_VERSION ? tr_cli_opt_version(v, NULL) : d->fn && d->fn(v, NULL))
            return -1;
        *(const char **)d->dst = v;
        return 0;
    case TR_OPT_STR:
        *(const char **)d->dst = v;
        return 0;
    case TR_OPT_INT:
        if (tr_cli_parse_int(v, (long)d->lo, (long)d->hi, &n))
            return -1;
        *(int *)d->dst = (int)n;
        return 0;
    case TR_OPT_I64:
        if (tr_cli_parse_int(v, (long)d->lo, (long)d->hi, &n))
            return -1;
        *(int64_t *)d->dst = n;
        return 0;
    case TR_OPT_DOUBLE:
    case TR_OPT_FLOAT:
        if (tr_cli_parse_double(v, d->lo, d->hi, &x))
            return -1;
        if (d->kind == TR_OPT_DOUBLE)
            *(double *)d->dst = x;
        else
            *(float *)d->dst = (float)x;
        return 0;
    case TR_OPT_TIME:
        return tr_cli_parse_time(v, (int64_t *)d->dst);
    case TR_OPT_U64:
        return tr_cli_parse_u64(v, d->base, d->ulo, d->uhi, (uint64_t *)d->dst);
    case TR_OPT_CALL:
        return d->fn(v, d->dst);
    case TR_OPT_LIST:
        if (d->fn && d->fn(v, NULL))
            return -1;
        ((const char **)d->dst)[(*d->count)++] = v;
        return 0;
    case TR_OPT_PAIRS:
        return tr_cli_parse_pairs(v, (int)d->hi, d->dst);
    }
    return -1;
}

/* The accepted range of a numeric option that has no hint of its own, as "(1..120)", "(>= 0)"
 * or "(> 0)" (docs/cli.md: a bad value names the range when there is one); 0 when none. */
static int range_hint(const tr_cli_optdef *d, char *out, size_t size)
{
    if (d->kind == TR_OPT_INT || d->kind == TR_OPT_I64) {
        snprintf(out, size, "(%.0f..%.0f)", d->lo, d->hi);
        return 1;
    }
    if (d->kind != TR_OPT_DOUBLE && d->kind != TR_OPT_FLOAT)
        return 0;
    char lo[32] = "", hi[32] = "";
    if (d->lo > 0 && d->lo <= DBL_MIN)
        snprintf(lo, sizeof lo, "> 0");
    else if (d->lo > -DBL_MAX)
        snprintf(lo, sizeof lo, ">= %g", d->lo);
    if (d->hi < 1e300)
        snprintf(hi, sizeof hi, "<= %g", d->hi);
    if (!lo[0] && !hi[0])
        return 0;
    snprintf(out, size, "(%s%s%s)", lo, lo[0] && hi[0] ? ", " : "", hi);
    return 1;
}

int tr_cli_scan(tr_cli_args *a, const tr_cli_optdef *defs, size_t n)
{
    for (; a->i < a->argc; a->i++) {
        const char *s = a->argv[a->i], *v = NULL;
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            fputs(a->help, stdout);
            return -1;
        }
        const tr_cli_optdef *d = NULL;
        int missing = 0;
        for (size_t k = 0; k < n && !d; k++) {
            if (defs[k].kind == TR_OPT_POS)
                continue;
            if (defs[k].kind == TR_OPT_FLAG || defs[k].kind == TR_OPT_CLEAR) {
                if (strcmp(s, defs[k].name) == 0)
                    d = &defs[k];
            } else if (tr_cli_opt(a, defs[k].name, &v, &missing)) {
                d = &defs[k];
            }
        }
        if (!d && s[0] != '-') {
            for (size_t k = 0; k < n && !d; k++)
                if (defs[k].kind == TR_OPT_POS && !*(const char **)defs[k].dst)
                    d = &defs[k];
            if (!d)
                return tr_cli_usage(a->cmd, "unexpected argument", s);
            v = s;
        }
        if (!d)
            return tr_cli_usage(a->cmd, "unknown option", s);
        if (d->kind == TR_OPT_FLAG || d->kind == TR_OPT_CLEAR) {
            *(int *)d->dst = d->kind == TR_OPT_FLAG;
            continue;
        }
        if (missing)
            return tr_cli_usage(a->cmd, "missing value after", s);
        if (d->kind == TR_OPT_VERSION && *(const char **)d->dst) {
            char what[96];
            snprintf(what, sizeof what, "more than one version: %.60s and", *(const char **)d->dst);
            return tr_cli_usage(a->cmd, what, v);
        }
        int bad = d->kind == TR_OPT_LIST && *d->count >= (int)d->hi ? -2 : store_value(d, v);
        if (bad == -2) {
            char what[96];
            snprintf(what, sizeof what, "too many %s (at most %d)", d->name, (int)d->hi);
            return tr_cli_usage(a->cmd, what, NULL);
        }
        if (bad) {
            static const char *const hints[] = {
                [TR_OPT_PAIRS] = "(a pair or a comma list: EURUSD,USDJPY)",
                [TR_OPT_VERSION] = "(letters, digits, '.', '-', '_')",
            };
            const char *hint = d->hint                                         ? d->hint
                               : d->kind < (int)(sizeof hints / sizeof *hints) ? hints[d->kind]
                                                                               : NULL;
            char range[64];
            if (!hint && range_hint(d, range, sizeof range))
                hint = range;
            char what[160];
            snprintf(what, sizeof what, "bad %s%s%s%s:", d->label ? d->label : d->name,
                     d->kind == TR_OPT_TIME ? " time" : "", hint ? " " : "", hint ? hint : "");
            return tr_cli_usage(a->cmd, what, v);
        }
    }
    return 0;
}
