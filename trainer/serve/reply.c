/*
 * reply.c - the handlers' helpers (handlers.h): JSON responses and the error shape, the one
 * mapping of core codes to HTTP statuses, reading and checking a body's members and the query,
 * and this thread's store and snapshot.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "serve/handlers.h"

#define JSON_TYPE "application/json"

/* ---- responses ----------------------------------------------------------------------------- */

/* Takes j (a new reference) as the response body. */
void reply_json(serve_response *res, int status, json_t *j)
{
    res->status = status;
    res->content_type = JSON_TYPE;
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(j);
    if (!s) {
        static const char oom[] =
            "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\",\"field\":null}}";
        s = strdup(oom);
        res->status = 500;
    }
    if (!s) {
        res->body = NULL;
        res->len = 0;
        return;
    }
    size_t n = strlen(s);
    s[n] = '\n'; /* json_dumps leaves the NUL; the body is a line */
    res->body = s;
    res->len = n + 1;
}

void reply_error(serve_response *res, int status, const char *code, const char *field,
                 const char *fmt, ...)
{
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *e = json_pack("{s:s, s:s, s:s?}", "code", code, "message", msg, "field", field);
    if (e && !field)
        json_object_set_new(e, "field", json_null());
    reply_json(res, status, e ? json_pack("{s:o}", "error", e) : NULL);
}

/* A core error as a response (the mapping of the file comment). */
void reply_tr(serve_response *res, tr_code rc, const tr_error *e, const char *field)
{
    const char *msg = e && e->msg[0] ? e->msg : tr_code_text(rc);
    switch (rc) {
    case TR_ERR_NOTFOUND:
        reply_error(res, 404, "not_found", field, "%s", msg);
        break;
    case TR_ERR_INVALID:
    case TR_ERR_DATA:
        reply_error(res, 422, rc == TR_ERR_DATA ? "invalid_data" : "invalid", field, "%s", msg);
        break;
    case TR_ERR_CONFLICT:
        reply_error(res, 409, "conflict", field, "%s", msg);
        break;
    case TR_ERR_STALE:
        reply_error(res, 409, "stale", field, "%s", msg);
        break;
    case TR_ERR_STORE:
        serve_store_check(rc);
        reply_error(res, 503, "store_unavailable", NULL, "%s", msg);
        res->retry_after = RETRY_AFTER;
        break;
    case TR_ERR_UNSUPPORTED:
        reply_error(res, 501, "unsupported", field, "%s", msg);
        break;
    default:
        reply_error(res, 500, "internal", field, "%s: %s", tr_code_text(rc), msg);
        break;
    }
}

/* A JSON number, null when not finite (jansson has no NaN). */
json_t *json_num_or_null(double v)
{
    json_t *j = json_real(v);
    return j ? j : json_null();
}

json_t *json_time_or_null(int64_t t)
{
    char buf[32];
    return t ? json_string(tr_time_format(t, buf, sizeof buf)) : json_null();
}

json_t *json_str_or_null(const char *s)
{
    return s && s[0] ? json_string(s) : json_null();
}

/* A record's JSON text from the core (registry.h: derived from its field table) as a value. */
json_t *record_value(char *text)
{
    json_t *j = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    free(text);
    return j ? j : json_null();
}

/* ---- reading a request --------------------------------------------------------------------- */

const char *member_type_name(int type)
{
    switch (type) {
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
        return "a boolean";
    case JSON_ARRAY:
        return "an array";
    case JSON_OBJECT:
        return "an object";
    case -1:
        return "an ISO 8601 time string or integer seconds since the epoch";
    default:
        return "a string or an array of strings";
    }
}

int member_type_ok(const json_t *v, int type)
{
    switch (type) {
    case JSON_STRING:
        return json_is_string(v);
    case JSON_INTEGER:
        return json_is_integer(v);
    case JSON_REAL:
        return json_is_number(v);
    case JSON_TRUE:
        return json_is_boolean(v);
    case JSON_ARRAY:
        return json_is_array(v);
    case JSON_OBJECT:
        return json_is_object(v);
    case -1:
        return json_is_string(v) || json_is_integer(v);
    default:
        return json_is_string(v) || json_is_array(v);
    }
}

/* The body as a JSON object whose members are all in ms (n) with their types (null counts as
 * absent); an empty body is {}. NULL after replying 400 or 413. */
json_t *read_body(const serve_request *req, serve_response *res, const member *ms, size_t n)
{
    json_t *j;
    if (!req->body || req->body_len == 0) {
        j = json_object();
    } else {
        json_error_t je;
        j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
        if (!j) {
            reply_error(res, 400, "malformed_json", NULL,
                        "the body is not valid JSON: %s (line %d, column %d)", je.text, je.line,
                        je.column);
            return NULL;
        }
    }
    if (!json_is_object(j)) {
        json_decref(j);
        reply_error(res, 400, "malformed_json", NULL, "the body must be a JSON object");
        return NULL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v)
    {
        size_t i = 0;
        while (i < n && strcmp(ms[i].key, key) != 0)
            i++;
        if (i == n) {
            reply_error(res, 400, "unknown_field", key, "unknown member '%.100s'", key);
            json_decref(j);
            return NULL;
        }
        if (!json_is_null(v) && !member_type_ok(v, ms[i].type)) {
            reply_error(res, 400, "wrong_type", key, "'%s' must be %s", key,
                        member_type_name(ms[i].type));
            json_decref(j);
            return NULL;
        }
    }
    return j;
}

/* A member: NULL when absent or null. */
json_t *body_opt(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_null(v) ? NULL : v;
}

const char *body_str(const json_t *o, const char *key)
{
    json_t *v = body_opt(o, key);
    return v ? json_string_value(v) : NULL;
}

/* A time value (string or integer, type-checked by read_body) into *t: 0, or -1 after 400. */
int body_time(const json_t *v, const char *field, int64_t *t, serve_response *res)
{
    if (json_is_integer(v)) {
        json_int_t s = json_integer_value(v);
        if (s >= 0 && s <= TIME_MAX) {
            *t = (int64_t)s;
            return 0;
        }
    } else {
        const char *s = json_string_value(v);
        if (tr_time_parse(s, json_string_length(v), 0, t) == 0 && *t >= 0 && *t <= TIME_MAX)
            return 0;
    }
    reply_error(res, 400, "bad_value", field,
                "'%s' must be an ISO 8601 time (2024-03-01T12:00:00Z) or seconds since the "
                "epoch, between 1970 and 9999",
                field);
    return -1;
}

/* Query parameter key, or NULL. */
const char *query_get(const serve_request *req, const char *key)
{
    for (size_t i = 0; i < req->n_query; i++)
        if (req->query[i].key && strcmp(req->query[i].key, key) == 0)
            return req->query[i].value ? req->query[i].value : "";
    return NULL;
}

int query_time(const serve_request *req, const char *key, int64_t *t, serve_response *res)
{
    const char *s = query_get(req, key);
    if (!s)
        return 0;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (s[0] && !*end && errno == 0 && v >= 0 && v <= TIME_MAX) {
        *t = v;
        return 0;
    }
    if (tr_time_parse(s, strlen(s), 0, t) == 0 && *t >= 0 && *t <= TIME_MAX)
        return 0;
    reply_error(res, 400, "bad_value", key,
                "'%s' must be an ISO 8601 time or seconds since the epoch", key);
    return -1;
}

int query_limit(const serve_request *req, long *limit, serve_response *res)
{
    const char *s = query_get(req, "limit");
    *limit = LIST_LIMIT;
    if (!s)
        return 0;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!s[0] || *end || errno || v < 1 || v > LIST_LIMIT_MAX) {
        reply_error(res, 400, "bad_value", "limit", "'limit' must be an integer in 1..%d",
                    LIST_LIMIT_MAX);
        return -1;
    }
    *limit = v;
    return 0;
}

/* A timeframe member ("15m", "1h") or the default: 0, or -1 after 400. */
int timeframe_of(const serve_ctx *ctx, const json_t *o, int32_t *tf, serve_response *res)
{
    const char *s = body_str(o, "timeframe");
    *tf = ctx->cfg.timeframe;
    if (s && tr_timeframe_parse(s, tf) != 0) {
        reply_error(res, 400, "bad_value", "timeframe",
                    "'timeframe' must be a timeframe such as 15m, 1h or 1d, not '%.40s'", s);
        return -1;
    }
    return 0;
}

int pair_of(const json_t *o, const char **pair, int required, serve_response *res)
{
    *pair = body_str(o, "pair");
    if (!*pair && required) {
        reply_error(res, 400, "missing_field", "pair", "'pair' is required");
        return -1;
    }
    if (*pair && !tr_pair_valid(*pair)) {
        reply_error(res, 400, "bad_value", "pair",
                    "'pair' must be 3 to 15 characters A-Z and 0-9 (EURUSD), not '%.40s'", *pair);
        return -1;
    }
    return 0;
}

/* This thread's store: NULL after replying 503. */
tr_store *store_of(serve_ctx *ctx, serve_response *res)
{
    tr_error e;
    tr_error_clear(&e);
    tr_store *st = serve_store(ctx, &e);
    if (!st) /* a store that went missing is the server's fault, not the request's */
        reply_tr(res, e.code == TR_ERR_STORE ? TR_ERR_STORE : TR_ERR_IO, &e, NULL);
    return st;
}

/* The snapshot, syncing first when there is none yet: NULL after replying. */
serve_snapshot *snapshot_of(serve_ctx *ctx, tr_store *st, serve_response *res)
{
    serve_snapshot *s = serve_snapshot_get(ctx->models);
    if (s)
        return s;
    tr_error e;
    tr_error_clear(&e);
    tr_code rc = serve_models_sync(ctx->models, st, NULL, &e);
    if (rc) {
        reply_tr(res, rc, &e, NULL);
        return NULL;
    }
    return serve_snapshot_get(ctx->models);
}

/* After a registry change through this server: the new state published before the answer, so
 * that the next request sees it (a failure here is the watcher's to retry). */
void resync(serve_ctx *ctx, tr_store *st)
{
    tr_error e;
    tr_error_clear(&e);
    tr_code rc = serve_models_sync(ctx->models, st, NULL, &e);
    serve_store_check(rc);
}

/* The registry through this thread's store: 0, or -1 after replying. */
int registry_of(serve_ctx *ctx, tr_registry *reg, tr_store **st_out, serve_response *res)
{
    tr_store *st = store_of(ctx, res);
    tr_registry_init(reg);
    if (!st)
        return -1;
    tr_error e;
    tr_error_clear(&e);
    tr_code rc = tr_store_registry_read(st, reg, &e);
    if (rc) {
        reply_tr(res, rc, &e, NULL);
        tr_registry_free(reg);
        return -1;
    }
    if (st_out)
        *st_out = st;
    return 0;
}
