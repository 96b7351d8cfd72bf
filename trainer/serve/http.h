/*
 * http.h - the glue between GNU libmicrohttpd and serve_handle (http.c), and the two worker
 * threads of the server (workers.c). Only main.c uses these.
 */
#ifndef AIFXS_HTTP_H
#define AIFXS_HTTP_H

#include "serve/serve.h"

typedef struct serve_http_opts {
    const char *listen;     /* "ADDR:PORT" or "[ADDR6]:PORT"; port 0: an ephemeral one */
    int allow_remote;       /* a non-loopback address is refused without it */
    unsigned threads;       /* the worker pool */
    unsigned max_conn;      /* connections at once */
    unsigned timeout;       /* seconds a connection may stay idle */
    const char *access_log; /* NULL: none; "-": stderr */
} serve_http_opts;

typedef struct serve_http serve_http;

/* Binds, listens and starts the daemon. NULL with err set (the address, the log file). */
serve_http *serve_http_start(serve_ctx *ctx, const serve_http_opts *o, tr_error *err);
/* The port listened on. */
int serve_http_port(const serve_http *h);
/* Stops accepting connections; the requests in flight go on. */
void serve_http_quiesce(serve_http *h);
/* Waits until no request is in flight, at most seconds; returns the number still in flight. */
int serve_http_drain(serve_http *h, double seconds);
/* Stops the daemon (closing idle connections), closes the log, frees h. */
void serve_http_stop(serve_http *h);
/* Reopens the access log (SIGHUP, after a rotation); 0, or -1 when it cannot be opened (the
 * old one is kept). */
int serve_http_reopen_log(serve_http *h);

typedef struct serve_workers serve_workers;

/* Starts the registry watcher (always) and the scheduler (with schedule: tr_run_due every
 * every_seconds, each with its own store handle). NULL when a thread cannot be created. */
serve_workers *serve_workers_start(serve_ctx *ctx, int schedule, int every_seconds);
/* Asks both threads to stop and waits for the watcher, and for the scheduler at most
 * wait_seconds; returns 1 when the scheduler is still inside a cycle (the process may exit:
 * an interrupted cycle resumes at the next run-due), 0 when everything stopped. */
int serve_workers_stop(serve_workers *w, double wait_seconds);

#endif
