/*
 * notify.h - the sender of notifications: the outbox's events (store.h) posted to webhook sinks
 * (Discord, Slack-compatible, generic JSON) with libcurl, at least once, in order per sink, within
 * a bounded time (docs/operations.md, "Notifications").
 *
 * Sinks are configured once: a config file (notify.conf in the store's files area, or
 * --notify-config FILE) and/or KIND=URL specifications (--notify). A webhook URL is a secret: it
 * is kept in tr_notify_sink.url and never printed, logged or stored; tr_notify_sink.safe is the
 * form to print (scheme, host and public path prefix, the rest as three stars), and the outbox
 * knows a sink by its id (the name given, else <kind>-<16 hex digits of a hash of the URL>).
 *
 * Delivery (tr_notify_deliver): per sink, claim it in the store (another sender holding it is
 * skipped, not waited for), post its due events in id order, record each attempt, release it.
 * A 2xx answer delivers; 429 is retried after its retry_after (Discord's JSON body) or Retry-After
 * header; 5xx, 408, a network error or a timeout after the backoff
 *     delay(n) = min(retry_base * 2^(n-1), retry_max) * (1 + j),  j uniform in [0, 0.2)
 * after the n-th failed attempt (defaults 2 s and 1 h: 2, 4, 8, ... 2048 s, then hourly); any
 * other answer (a 3xx or 4xx) gives the event up at once, and so does a failure more than
 * give_up seconds (default 24 h) after the first attempt. A sink waits on its first pending
 * event (order), others go on. A retry due within the call's budget is waited for in the call.
 * Every request carries Idempotency-Key and webhook-id "aifx-<sink id>-<event id>" (the same on
 * every retry), webhook-timestamp, User-Agent "aifx/<version>". The call never takes longer than
 * its budget (each request's timeout is cut to what remains) and never fails because a webhook
 * is down: that is a pending or given-up delivery in the result, not an error.
 *
 * Thread-safety: tr_notify_deliver may run on several threads, each with its own store handle.
 */
#ifndef AIFXT_NOTIFY_H
#define AIFXT_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "store/store.h"

#define TR_NOTIFY_SINKS_MAX 16
#define TR_NOTIFY_URL_MAX   2048
#define TR_NOTIFY_CONF_NAME "notify.conf"

typedef enum tr_sink_kind { TR_SINK_DISCORD = 0, TR_SINK_SLACK, TR_SINK_JSON } tr_sink_kind;

typedef struct tr_notify_sink {
    tr_sink_kind kind;
    char id[TR_OUTBOX_SINK_MAX]; /* the outbox's name of the sink */
    char url[TR_NOTIFY_URL_MAX]; /* a secret: never print it */
    char safe[192];              /* "<kind>:<scheme>://<host>/<public prefix>/" + stars */
} tr_notify_sink;

/* The sinks and the delivery settings (the config file's keys in brackets). */
typedef struct tr_notify_config {
    tr_notify_sink sinks[TR_NOTIFY_SINKS_MAX];
    int n_sinks;
    double connect_timeout; /* seconds per connection (connect_timeout, default 5) */
    double timeout;         /* seconds per request, whole (timeout, default 15) */
    double retry_base;      /* first backoff delay, seconds (retry_base, default 2) */
    double retry_max;       /* longest backoff delay (retry_max, default 3600) */
    double give_up;         /* seconds after the first attempt (give_up, default 86400) */
    int64_t backlog;        /* a new sink gets the events of the last backlog seconds
                               (backlog, default 86400; -1: all) */
} tr_notify_config;

/* The defaults, no sink. */
void tr_notify_config_default(tr_notify_config *c);

/* Adds the sink spec "KIND=URL" (KIND discord, slack or json; URL http:// or https://) named
 * name (NULL or "": from the URL's hash). TR_ERR_INVALID naming the kind (never the URL) when bad;
 * TR_ERR_CONFLICT for a second sink with the same id. */
tr_code tr_notify_add_sink(tr_notify_config *c, const char *spec, const char *name, tr_error *err);

/* Reads a config file: one item a line, '#' starts a comment; "KIND=URL [name=NAME]" adds a sink,
 * "KEY=VALUE" sets a setting (connect_timeout, timeout, retry_base, retry_max, give_up, backlog).
 * A missing file is TR_ERR_NOTFOUND; a bad line TR_ERR_INVALID naming the file and line. */
tr_code tr_notify_config_load(tr_notify_config *c, const char *path, tr_error *err);

/* The defaults and the store's own sinks: <files area>/notify.conf when it exists (none
 * otherwise). Used by run-due's delivery, aifx-train notify without --notify-config, and
 * aifx-serve --schedule. */
tr_code tr_notify_config_of_store(tr_store *st, tr_notify_config *c, tr_error *err);

/* The printable form of a sink URL (kind: "discord", ...): scheme, host and port, a well-known
 * public path prefix (api/webhooks/, services/), then three stars; no user info, token or
 * query. */
void tr_notify_redact(const char *kind, const char *url, char *out, size_t size);

/* What a call did. */
typedef struct tr_notify_result {
    int n_sinks;
    int n_busy;           /* sinks another sender held (skipped) */
    int64_t delivered;    /* events delivered (2xx) by this call */
    int64_t retries;      /* failed attempts that will be retried */
    int64_t given_up;     /* events given up by this call */
    int64_t attempts;     /* requests sent */
    int out_of_time;      /* the budget ended the call with work left */
    int64_t next_due;     /* the earliest retry time of a waiting sink (0: none) */
    char last_error[320]; /* the last failure, with the sink's safe name ("" for none) */
} tr_notify_result;

/* Delivers what is due at now (seconds since the epoch; times advance with the call's own clock)
 * to every sink of c, for at most budget_seconds. TR_OK whatever the webhooks answered; an error
 * only when the store failed (the other sinks are still served). */
tr_code tr_notify_deliver(tr_store *store, const tr_notify_config *c, int64_t now,
                          double budget_seconds, tr_notify_result *res, tr_error *err);

/* The request the sink would get for the event (for the tests): the body
 * (JSON, or multipart/form-data for a Discord monthly_report with files) into a malloc'd
 * *body (*len bytes) and its content type. store NULL: no report files attached. */
tr_code tr_notify_render(tr_store *store, const tr_notify_sink *s, const tr_outbox_event *ev,
                         char **body, size_t *len, char *content_type, size_t ct_size,
                         tr_error *err);

#endif
