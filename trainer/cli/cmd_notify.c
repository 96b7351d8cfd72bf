/*
 * cmd_notify.c - `aifx-train notify`: deliver the outbox's events to the configured webhook sinks
 * (once, or in a loop), send a test event, show each sink's deliveries; and the delivery at the
 * end of run-due (tr_cli_notify_after). docs/operations.md, "Notifications". Sink URLs are
 * secrets: only their redacted form (tr_notify_sink.safe) is ever printed.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/timeutil.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "data/notify.h"
#include "store/store.h"

const char tr_cli_help_notify[] =
    "usage: aifx-train notify [test] [--notify KIND=URL]... [--notify-config FILE]\n"
    "                         [--once | --loop] [--budget SECONDS] [--interval SECONDS]\n"
    "                         [--status] [--json] [--store DIR]\n"
    "\n"
    "  Delivers the store's notifications (the outbox: training completed or failed, model\n"
    "  deployed or rolled back, A/B test concluded, monthly report, and alerts) to webhook\n"
    "  sinks: KIND discord, slack or json (the event as is). Sinks come from FILE (default\n"
    "  <store>/notify.conf for a directory store, notify.conf beside the models directory for\n"
    "  PostgreSQL) and from --notify, repeatable. --once (the default): what is due, within\n"
    "  --budget seconds (default 60), then exit; --loop: again every --interval seconds (default\n"
    "  5) until killed. `notify test` adds a test event to the outbox and delivers it. --status:\n"
    "  each sink's deliveries, nothing sent. Every event reaches every sink at least once, in\n"
    "  order, with an Idempotency-Key; a webhook that is down is retried with backoff for 24 h\n"
    "  (exit 0 all the same). URLs are never printed. run-due delivers for 10 s at its end when\n"
    "  notify.conf names sinks. docs/operations.md, \"Notifications\".\n";

#define MAX_SPECS TR_NOTIFY_SINKS_MAX

/* The sinks: the config file (explicit, else the store's notify.conf if it exists), then the
 * --notify specs. */
static tr_code load_sinks(tr_store *st, const char *config, const char *const *specs, int n,
                          tr_notify_config *c, tr_error *err)
{
    tr_code rc;
    if (config && config[0]) {
        tr_notify_config_default(c);
        rc = tr_notify_config_load(c, config, err);
        if (rc == TR_ERR_NOTFOUND)
            rc = tr_fail(err, rc, "no notify config file %s", config);
    } else {
        rc = tr_notify_config_of_store(st, c, err);
    }
    for (int i = 0; i < n && !rc; i++)
        rc = tr_notify_add_sink(c, specs[i], NULL, err);
    return rc;
}

static void print_result(const tr_notify_result *r, int json, double seconds)
{
    if (json) {
        printf("{\"sinks\":%d,\"busy\":%d,\"delivered\":%lld,\"retries\":%lld,\"given_up\":%lld,"
               "\"attempts\":%lld,\"out_of_time\":%s,\"seconds\":%.3f}\n",
               r->n_sinks, r->n_busy, (long long)r->delivered, (long long)r->retries,
               (long long)r->given_up, (long long)r->attempts, r->out_of_time ? "true" : "false",
               seconds);
    } else {
        printf("notify: %lld delivered, %lld to retry, %lld given up, %lld requests to %d sink%s"
               "%s%s in %.1f s\n",
               (long long)r->delivered, (long long)r->retries, (long long)r->given_up,
               (long long)r->attempts, r->n_sinks, r->n_sinks == 1 ? "" : "s",
               r->n_busy ? " (some held by another sender)" : "",
               r->out_of_time ? " (time budget used up)" : "", seconds);
        if (r->last_error[0])
            printf("notify: last failure: %s\n", r->last_error);
    }
    fflush(stdout);
}

static int print_status(tr_store *st, const tr_notify_config *c, int json)
{
    for (int i = 0; i < c->n_sinks; i++) {
        tr_outbox_sink_info in;
        tr_error e;
        if (tr_store_outbox_info(st, c->sinks[i].id, &in, &e))
            return tr_cli_fail(&e);
        char t[32] = "";
        if (in.head_next_at)
            tr_time_format(in.head_next_at, t, sizeof t);
        if (json)
            printf("{\"sink\":\"%s\",\"id\":\"%s\",\"delivered\":%lld,\"given_up\":%lld,"
                   "\"pending\":%lld,\"head_attempts\":%d}\n",
                   c->sinks[i].safe, c->sinks[i].id, (long long)in.delivered,
                   (long long)in.given_up, (long long)in.pending, in.head_attempts);
        else
            printf("%s (%s): %lld delivered, %lld given up, %lld pending", c->sinks[i].safe,
                   c->sinks[i].id, (long long)in.delivered, (long long)in.given_up,
                   (long long)in.pending);
        if (!json && in.head_attempts)
            printf("; the first pending tried %d times%s%s, last error: %s", in.head_attempts,
                   t[0] ? ", next at " : "", t, in.head_error);
        if (!json)
            printf("\n");
    }
    return EXIT_OK;
}

/* Adds a test event to the outbox (in its own registry commit). */
static tr_code add_test_event(tr_store *st, tr_error *err)
{
    tr_outbox_event ev;
    memset(&ev, 0, sizeof ev);
    snprintf(ev.kind, sizeof ev.kind, "test");
    snprintf(ev.payload, sizeof ev.payload,
             "{\"message\":\"aifx notification test\",\"by\":\"aifx-train notify test\"}");
    tr_reg_txn txn;
    memset(&txn, 0, sizeof txn);
    txn.events = &ev;
    txn.n_events = 1;
    txn.now = tr_wall_now();
    return tr_store_registry_commit(st, &txn, err);
}

int tr_cli_cmd_notify(tr_cli_args *a)
{
    const char *store_dir = NULL, *config = NULL, *sub = NULL;
    const char *specs[MAX_SPECS];
    int n_specs = 0, once = 0, loop = 0, status = 0, json = 0;
    double budget = 60, interval = 5;
    const tr_cli_optdef opts[] = {
        OPT_STR("--store", &store_dir),
        OPT_LIST("--notify", specs, MAX_SPECS, &n_specs, NULL),
        OPT_STR("--notify-config", &config),
        OPT_FLAG("--once", &once),
        OPT_FLAG("--loop", &loop),
        OPT_FLAG("--status", &status),
        OPT_FLAG("--json", &json),
        OPT_DBL("--budget", &budget, 0.1, 86400, "(seconds)"),
        OPT_DBL("--interval", &interval, 0.1, 86400, "(seconds)"),
        OPT_POS("test", &sub),
    };
    TR_CLI_SCAN(a, opts);
    if (sub && strcmp(sub, "test") != 0)
        return tr_cli_usage(a->cmd, "unknown subcommand", sub);
    if (once && loop)
        return tr_cli_usage(a->cmd, "give --once or --loop, not both", NULL);
    tr_error e;
    tr_error_clear(&e);
    tr_store *st;
    if (tr_cli_store_open(store_dir, 0, &st, &e))
        return tr_cli_fail(&e);
    tr_notify_config *c = malloc(sizeof *c);
    int ex = EXIT_OK;
    if (!c) {
        tr_store_close(st);
        return tr_cli_error(EXIT_NOMEM, "out of memory");
    }
    if (load_sinks(st, config, specs, n_specs, c, &e)) {
        ex = tr_cli_fail(&e);
        goto done;
    }
    if (c->n_sinks == 0) {
        ex = tr_cli_error(EXIT_USAGE, "no notification sink: give --notify KIND=URL or write %s",
                          TR_NOTIFY_CONF_NAME);
        goto done;
    }
    if (status) {
        ex = print_status(st, c, json);
        goto done;
    }
    if (sub && add_test_event(st, &e)) {
        ex = tr_cli_fail(&e);
        goto done;
    }
    for (;;) {
        double t0 = tr_cli_now_seconds();
        tr_notify_result r;
        if (tr_notify_deliver(st, c, tr_wall_now(), budget, &r, &e)) {
            ex = tr_cli_fail(&e);
            if (!loop)
                goto done;
        }
        if (!loop || r.attempts || r.last_error[0])
            print_result(&r, json, tr_cli_now_seconds() - t0);
        if (!loop)
            break;
        double wait = interval;
        int64_t now = tr_wall_now();
        if (r.next_due > now && (double)(r.next_due - now) < wait)
            wait = (double)(r.next_due - now);
        struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
        nanosleep(&ts, NULL);
    }
done:
    free(c);
    tr_store_close(st);
    return ex;
}

void tr_cli_notify_after(tr_store *st, double budget, int quiet)
{
    tr_notify_config *c = malloc(sizeof *c);
    tr_error e;
    tr_error_clear(&e);
    if (!c)
        return;
    if (load_sinks(st, NULL, NULL, 0, c, &e)) {
        fprintf(stderr, "aifx-train: notify: %s\n", e.msg);
    } else if (c->n_sinks > 0) {
        tr_notify_result r;
        tr_code rc = tr_notify_deliver(st, c, tr_wall_now(), budget, &r, &e);
        if (rc)
            fprintf(stderr, "aifx-train: notify: %s\n", e.msg);
        else if (!quiet && (r.attempts || r.last_error[0]))
            fprintf(stderr, "notify: %lld delivered, %lld to retry, %lld given up%s%s\n",
                    (long long)r.delivered, (long long)r.retries, (long long)r.given_up,
                    r.last_error[0] ? "; last failure: " : "", r.last_error);
    }
    free(c);
}
