/*
 * handlers.h - what the handler files share (private to serve/): the handlers of the route
 * table (handle.c), one file per family (health.c, predict.c, registry.c, abtest.c,
 * dashboard.c), and the helpers of reply.c that read a request and write a response.
 *
 * A handler gets the request, the path's one {parameter} (or NULL) and fills the response;
 * it validates every member before it touches the store, and reports errors with reply_error
 * or reply_tr (the one mapping of core codes to statuses).
 */
#ifndef AIFXS_HANDLERS_H
#define AIFXS_HANDLERS_H

#include <jansson.h>

#include "serve/serve.h"

#define TIME_MAX       253402300799LL /* 9999-12-31T23:59:59Z */
#define RETRY_AFTER    5
#define LIST_LIMIT     1000
#define LIST_LIMIT_MAX 100000

typedef void (*handler_fn)(serve_ctx *ctx, const serve_request *req, const char *arg,
                           serve_response *res);

#define HANDLER(name)                                                                              \
    void name(serve_ctx *ctx, const serve_request *req, const char *arg, serve_response *res)
HANDLER(h_healthz);
HANDLER(h_readyz);
HANDLER(h_metrics);
HANDLER(h_predict);
HANDLER(h_bars);
HANDLER(h_versions);
HANDLER(h_version);
HANDLER(h_activate);
HANDLER(h_rollback);
HANDLER(h_log);
HANDLER(h_signals);
HANDLER(h_drift);
HANDLER(h_data_quality);
HANDLER(h_outcome);
HANDLER(h_ab_list);
HANDLER(h_ab_start);
HANDLER(h_ab_get);
HANDLER(h_ab_stop);
HANDLER(h_ab_report);
HANDLER(h_dashboard);
HANDLER(h_asset);

/* ---- responses (reply.c) -------------------------------------------------------------------- */

/* Takes j (a new reference) as a JSON response body with status. */
void reply_json(serve_response *res, int status, json_t *j);
/* {"error": {"code", "message", "field"}} with status; field NULL: null. */
void reply_error(serve_response *res, int status, const char *code, const char *field,
                 const char *fmt, ...) TR_PRINTF(5, 6);
/* A core error: TR_ERR_NOTFOUND 404, INVALID and DATA 422, CONFLICT and STALE 409, STORE 503
 * with Retry-After (and this thread's store handle closed), UNSUPPORTED 501, others 500. */
void reply_tr(serve_response *res, tr_code rc, const tr_error *e, const char *field);
/* A number, null when not finite. */
json_t *json_num_or_null(double v);
/* An ISO 8601 time, null for 0. */
json_t *json_time_or_null(int64_t t);
/* A string, null for "" or NULL. */
json_t *json_str_or_null(const char *s);
/* A record's JSON text from the core (registry.h, derived from its field table) as a value;
 * frees text. */
json_t *record_value(char *text);

/* ---- requests (reply.c) --------------------------------------------------------------------- */

typedef struct member {
    const char *key;
    int type; /* JSON_STRING, JSON_INTEGER, JSON_REAL (any number), JSON_TRUE (a boolean),
                 JSON_ARRAY, JSON_OBJECT; -1: a time (string or integer); -2: string or array */
} member;

/* The body as an object whose members are all in ms (n) with their types (null counts as
 * absent); an empty body is {}. NULL after replying 400. */
json_t *read_body(const serve_request *req, serve_response *res, const member *ms, size_t n);
int member_type_ok(const json_t *v, int type);
const char *member_type_name(int type);
/* A member, NULL when absent or null; its string. */
json_t *body_opt(const json_t *o, const char *key);
const char *body_str(const json_t *o, const char *key);
/* A time member (string or integer) into *t: 0, or -1 after replying 400. */
int body_time(const json_t *v, const char *field, int64_t *t, serve_response *res);
/* The timeframe member or the server's default; the pair member (valid): 0, or -1 after 400. */
int timeframe_of(const serve_ctx *ctx, const json_t *o, int32_t *tf, serve_response *res);
int pair_of(const json_t *o, const char **pair, int required, serve_response *res);
/* A query parameter ("" when given without a value), NULL when absent. */
const char *query_get(const serve_request *req, const char *key);
/* A time parameter into *t (left alone when absent), the limit parameter: 0, or -1 after 400. */
int query_time(const serve_request *req, const char *key, int64_t *t, serve_response *res);
int query_limit(const serve_request *req, long *limit, serve_response *res);

/* ---- the store (reply.c) -------------------------------------------------------------------- */

/* This thread's store: NULL after replying 503 (or 500). */
tr_store *store_of(serve_ctx *ctx, serve_response *res);
/* The snapshot with a reference, syncing when there is none yet: NULL after replying. */
serve_snapshot *snapshot_of(serve_ctx *ctx, tr_store *st, serve_response *res);
/* After a registry change made through this server: the new state published before the answer
 * (a failure is the watcher's to retry). */
void resync(serve_ctx *ctx, tr_store *st);
/* The registry through this thread's store into reg (free it): 0, or -1 after replying. */
int registry_of(serve_ctx *ctx, tr_registry *reg, tr_store **st_out, serve_response *res);

#endif
