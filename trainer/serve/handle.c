/*
 * handle.c - serve_handle (serve.h): one request to one response, without libmicrohttpd.
 *
 * The route table maps (method, path template) to a handler; a path that matches a template
 * with another method is 405 with Allow, a path that matches none 404. Every POST needs
 * "Authorization: Bearer <token>" equal to the token file's first line (compared in constant
 * time); without a token file every POST is 401. Then the body: over --max-body 413, JSON that
 * jansson refuses 400 (with line and column), a member of the wrong type or an unknown member
 * 400 naming the field; only then is the store touched, so a bad request changes nothing.
 *
 * Store errors map to statuses in one place (reply_tr): an unknown pair, version, test or
 * signal 404; a request the core's rules refuse (TR_ERR_INVALID) or bars that fail validation
 * (TR_ERR_DATA) 422; a conflict with stored bars or versions, or stale data, 409; an
 * unreachable store (TR_ERR_STORE) 503 with Retry-After: 5, after which this thread's store
 * handle is reopened by the next request; anything else 500.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/csv.h"
#include "base/timeutil.h"
#include "cycles/abtest.h"
#include "cycles/cycle.h"
#include "data/ingest.h"
#include "market/featureset.h"
#include "market/labels.h"
#include "serve/serve.h"

#define TIME_MAX         253402300799LL /* 9999-12-31T23:59:59Z */
#define RETRY_AFTER      5
#define JSON_TYPE        "application/json"
#define LIST_LIMIT       1000
#define LIST_LIMIT_MAX   100000
#define DEFAULT_MAX_AGE  7200 /* seconds, as aifx-train predict */
#define PAIRS_MAX_IN_ONE 16

/* ---- responses ----------------------------------------------------------------------------- */

/* Takes j (a new reference) as the response body. */
static void reply_json(serve_response *res, int status, json_t *j)
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

static void reply_error(serve_response *res, int status, const char *code, const char *field,
                        const char *fmt, ...) TR_PRINTF(5, 6);

static void reply_error(serve_response *res, int status, const char *code, const char *field,
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
static void reply_tr(serve_response *res, tr_code rc, const tr_error *e, const char *field)
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
static json_t *num(double v)
{
    json_t *j = json_real(v);
    return j ? j : json_null();
}

static json_t *time_or_null(int64_t t)
{
    char buf[32];
    return t ? json_string(tr_time_format(t, buf, sizeof buf)) : json_null();
}

static json_t *str_or_null(const char *s)
{
    return s && s[0] ? json_string(s) : json_null();
}

/* A record's JSON text from the core (registry.h: derived from its field table) as a value. */
static json_t *record(char *text)
{
    json_t *j = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    free(text);
    return j ? j : json_null();
}

/* ---- reading a request --------------------------------------------------------------------- */

typedef struct member {
    const char *key;
    int type; /* JSON_STRING, JSON_INTEGER, JSON_REAL (any number), JSON_TRUE (a boolean),
                 JSON_ARRAY, JSON_OBJECT; -1: a time (string or integer); -2: string or array */
} member;

static const char *type_name(int type)
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

static int type_ok(const json_t *v, int type)
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
static json_t *read_body(const serve_request *req, serve_response *res, const member *ms,
                         size_t n)
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
        if (!json_is_null(v) && !type_ok(v, ms[i].type)) {
            reply_error(res, 400, "wrong_type", key, "'%s' must be %s", key,
                        type_name(ms[i].type));
            json_decref(j);
            return NULL;
        }
    }
    return j;
}

/* A member: NULL when absent or null. */
static json_t *opt(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_null(v) ? NULL : v;
}

static const char *opt_str(const json_t *o, const char *key)
{
    json_t *v = opt(o, key);
    return v ? json_string_value(v) : NULL;
}

/* A time value (string or integer, type-checked by read_body) into *t: 0, or -1 after 400. */
static int json_time(const json_t *v, const char *field, int64_t *t, serve_response *res)
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
static const char *query(const serve_request *req, const char *key)
{
    for (size_t i = 0; i < req->n_query; i++)
        if (req->query[i].key && strcmp(req->query[i].key, key) == 0)
            return req->query[i].value ? req->query[i].value : "";
    return NULL;
}

static int query_time(const serve_request *req, const char *key, int64_t *t, serve_response *res)
{
    const char *s = query(req, key);
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

static int query_limit(const serve_request *req, long *limit, serve_response *res)
{
    const char *s = query(req, "limit");
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
static int timeframe_of(const serve_ctx *ctx, const json_t *o, int32_t *tf, serve_response *res)
{
    const char *s = opt_str(o, "timeframe");
    *tf = ctx->cfg.timeframe;
    if (s && tr_timeframe_parse(s, tf) != 0) {
        reply_error(res, 400, "bad_value", "timeframe",
                    "'timeframe' must be a timeframe such as 15m, 1h or 1d, not '%.40s'", s);
        return -1;
    }
    return 0;
}

static int pair_of(const json_t *o, const char **pair, int required, serve_response *res)
{
    *pair = opt_str(o, "pair");
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
static tr_store *store_of(serve_ctx *ctx, serve_response *res)
{
    tr_error e;
    tr_error_clear(&e);
    tr_store *st = serve_store(ctx, &e);
    if (!st) /* a store that went missing is the server's fault, not the request's */
        reply_tr(res, e.code == TR_ERR_STORE ? TR_ERR_STORE : TR_ERR_IO, &e, NULL);
    return st;
}

/* The snapshot, syncing first when there is none yet: NULL after replying. */
static serve_snapshot *snapshot_of(serve_ctx *ctx, tr_store *st, serve_response *res)
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
static void resync(serve_ctx *ctx, tr_store *st)
{
    tr_error e;
    tr_error_clear(&e);
    tr_code rc = serve_models_sync(ctx->models, st, NULL, &e);
    serve_store_check(rc);
}

/* ---- handlers ------------------------------------------------------------------------------ */

typedef void (*handler_fn)(serve_ctx *ctx, const serve_request *req, const char *arg,
                           serve_response *res);

static void h_healthz(serve_ctx *ctx, const serve_request *req, const char *arg,
                      serve_response *res)
{
    (void)ctx;
    (void)req;
    (void)arg;
    reply_json(res, 200, json_pack("{s:s}", "status", "ok"));
}

static void h_readyz(serve_ctx *ctx, const serve_request *req, const char *arg,
                     serve_response *res)
{
    (void)req;
    (void)arg;
    tr_store *st = store_of(ctx, res);
    if (!st)
        return;
    tr_series_info *list;
    size_t n;
    tr_error e;
    tr_error_clear(&e);
    tr_code rc = tr_store_series_list(st, &list, &n, &e);
    if (rc) {
        reply_tr(res, rc, &e, NULL);
        return;
    }
    free(list);
    serve_snapshot *s = snapshot_of(ctx, st, res);
    if (!s)
        return;
    if (!s->active) {
        reply_error(res, 503, "not_ready", NULL,
                    "no active model is loaded (no version is active, or its checkpoint failed "
                    "to load)");
        res->retry_after = RETRY_AFTER;
    } else {
        reply_json(res, 200, json_pack("{s:s, s:s}", "status", "ready", "active_version",
                                       s->active->version));
    }
    serve_snapshot_release(s);
}

static void h_metrics(serve_ctx *ctx, const serve_request *req, const char *arg,
                      serve_response *res)
{
    (void)req;
    (void)arg;
    serve_bar_age ages[64];
    size_t n_ages = 0;
    tr_error e;
    tr_error_clear(&e);
    tr_store *st = serve_store(ctx, &e);
    if (st) {
        tr_series_info *list;
        size_t n;
        tr_code rc = tr_store_series_list(st, &list, &n, &e);
        serve_store_check(rc);
        if (rc == TR_OK) {
            int64_t now = tr_wall_now();
            for (size_t i = 0; i < n && n_ages < 64; i++) {
                if (list[i].timeframe != ctx->cfg.timeframe || list[i].count == 0)
                    continue;
                snprintf(ages[n_ages].pair, sizeof ages[n_ages].pair, "%s", list[i].pair);
                ages[n_ages++].seconds = (double)(now - (list[i].last + list[i].timeframe));
            }
            free(list);
        }
    }
    serve_snapshot *s = serve_snapshot_get(ctx->models);
    size_t len = 0;
    char *text = serve_metrics_render(ctx->metrics, ctx->started_at,
                                      s && s->active ? s->active->version : NULL, ages, n_ages,
                                      &len);
    serve_snapshot_release(s);
    if (!text) {
        reply_error(res, 500, "internal", NULL, "out of memory");
        return;
    }
    res->status = 200;
    res->content_type = "text/plain; version=0.0.4; charset=utf-8";
    res->body = text;
    res->len = len;
}

/* The bars closed by as_of that a prediction needs: the newest TR_PREDICT_MAX_HISTORY of them
 * are those tr_predict uses, so a window holding at least that many gives the same features;
 * a shorter series is read whole. */
static tr_code read_history(tr_store *st, const char *pair, int32_t tf, int64_t as_of,
                            tr_bars *bars, tr_error *err)
{
    int64_t to = as_of - tf + 1;
    int64_t span = (int64_t)tf * TR_PREDICT_MAX_HISTORY * 3; /* weekends and holidays */
    tr_code rc = tr_store_bars_get(st, pair, tf, to - span, to, bars, err);
    if (rc || bars->n >= TR_PREDICT_MAX_HISTORY)
        return rc;
    tr_bars_free(bars);
    return tr_store_bars_get(st, pair, tf, INT64_MIN, to, bars, err);
}

static void h_predict(serve_ctx *ctx, const serve_request *req, const char *arg,
                      serve_response *res)
{
    (void)arg;
    static const member ms[] = {{"pair", JSON_STRING},   {"timeframe", JSON_STRING},
                                {"version", JSON_STRING}, {"as_of", -1},
                                {"record", JSON_TRUE},    {"max_age_hours", JSON_REAL}};
    json_t *b = read_body(req, res, ms, sizeof ms / sizeof ms[0]);
    if (!b)
        return;
    const char *pair, *pin = opt_str(b, "version");
    int32_t tf;
    int64_t as_of = tr_wall_now(), max_age = DEFAULT_MAX_AGE;
    int record = !opt(b, "record") || json_is_true(opt(b, "record"));
    if (pair_of(b, &pair, 1, res) || timeframe_of(ctx, b, &tf, res) ||
        (opt(b, "as_of") && json_time(opt(b, "as_of"), "as_of", &as_of, res))) {
        json_decref(b);
        return;
    }
    if (opt(b, "max_age_hours")) {
        double h = json_number_value(opt(b, "max_age_hours"));
        if (!(h > 0 && h <= 1e6)) {
            reply_error(res, 400, "bad_value", "max_age_hours",
                        "'max_age_hours' must be a number of hours in (0, 1e6]");
            json_decref(b);
            return;
        }
        max_age = (int64_t)(h * 3600);
    }
    if (pin && !tr_version_name_valid(pin)) {
        reply_error(res, 404, "not_found", "version", "version '%.64s' is not in the registry",
                    pin);
        json_decref(b);
        return;
    }
    tr_store *st = store_of(ctx, res);
    serve_snapshot *s = st ? snapshot_of(ctx, st, res) : NULL;
    if (!s) {
        json_decref(b);
        return;
    }
    tr_bars bars = {0};
    serve_model *m = NULL;
    tr_error e;
    tr_error_clear(&e);
    char a[32], c[32], tfn[16];
    tr_timeframe_name(tf, tfn, sizeof tfn);
    tr_code rc = read_history(st, pair, tf, as_of, &bars, &e);
    if (rc) {
        reply_tr(res, rc, &e, rc == TR_ERR_NOTFOUND ? "pair" : NULL);
        goto done;
    }
    if (bars.n == 0) {
        reply_error(res, 404, "not_found", "pair", "%s %s: no bar closed by %s", pair, tfn,
                    tr_time_format(as_of, a, sizeof a));
        goto done;
    }
    const tr_bar *last = &bars.v[bars.n - 1];
    const tr_ab_test *test = NULL;
    const tr_version *serving = NULL;
    if (pin) {
        serving = tr_registry_find(&s->reg, pin);
        if (!serving) {
            /* registered since the last sync? */
            serve_snapshot_release(s);
            resync(ctx, st);
            s = serve_snapshot_get(ctx->models);
            serving = s ? tr_registry_find(&s->reg, pin) : NULL;
        }
        if (!serving) {
            reply_error(res, 404, "not_found", "version", "version %s is not in the registry",
                        pin);
            goto done;
        }
        if (!tr_version_usable(serving)) {
            reply_error(res, 422, "invalid", "version", "version %s is %s, not usable", pin,
                        tr_version_status_name(serving->status));
            goto done;
        }
    } else {
        const char *name = tr_ab_serving(&s->reg, pair, last->t, &test);
        if (test)
            serving = tr_registry_find(&s->reg, name);
    }
    if (serving) {
        rc = serve_model_get(ctx->models, st, serving, &m, &e);
        if (rc) {
            reply_tr(res, rc, &e, pin ? "version" : NULL);
            goto done;
        }
    } else if (s->active) {
        m = s->active; /* the active model as loaded (the old one while a new one fails) */
        __atomic_add_fetch(&m->refs, 1, __ATOMIC_RELAXED);
    } else {
        reply_error(res, 404, "not_found", NULL,
                    "no active version in store %s (run `aifx-train full`)", tr_store_name(st));
        goto done;
    }
    aifx_model_config mc;
    aifx_model_get_config(m->m, &mc);
    if (bars.n < TR_PREDICT_MIN_HISTORY ||
        bars.n < (size_t)TR_FEATURE_WARMUP + (size_t)mc.n_steps) {
        reply_error(res, 404, "not_found", "pair",
                    "%s %s: only %zu bars closed by %s; prediction needs at least %d of history",
                    pair, tfn, bars.n, tr_time_format(as_of, a, sizeof a),
                    TR_PREDICT_MIN_HISTORY);
        goto done;
    }
    int64_t close = last->t + tf;
    if (as_of - close > max_age) {
        reply_error(res, 409, "stale", "as_of",
                    "%s %s: the newest bar closed at %s, %.1f hours before %s (limit %.1f hours; "
                    "ingest newer bars or raise max_age_hours)",
                    pair, tfn, tr_time_format(close, a, sizeof a),
                    (double)(as_of - close) / 3600.0, tr_time_format(as_of, c, sizeof c),
                    (double)max_age / 3600.0);
        goto done;
    }
    float probs[3];
    int best;
    rc = serve_features_predict(ctx->features, pair, tf, bars.v, bars.n, m, probs, &best, &e);
    if (rc) {
        reply_tr(res, rc, &e, NULL);
        goto done;
    }
    tr_signal g;
    memset(&g, 0, sizeof g);
    snprintf(g.pair, sizeof g.pair, "%s", pair);
    g.timeframe = tf;
    g.bar_time = last->t;
    g.signal = best;
    g.confidence = probs[best];
    for (int k = 0; k < 3; k++)
        g.probs[k] = probs[k];
    snprintf(g.model_version, sizeof g.model_version, "%s", m->version);
    if (test)
        snprintf(g.ab_test_id, sizeof g.ab_test_id, "%s", test->id);
    g.created_at = tr_wall_now();
    snprintf(g.outcome, sizeof g.outcome, "open");
    if (record) {
        rc = tr_store_signal_put(st, &g, &e);
        if (rc) {
            reply_tr(res, rc, &e, NULL);
            goto done;
        }
    }
    serve_metrics_prediction(ctx->metrics, g.model_version, tr_label_name(g.signal));
    reply_json(res, 200,
               json_pack("{s:s, s:s, s:s, s:s, s:o, s:{s:o, s:o, s:o}, s:s, s:o, s:o, s:b}",
                         "pair", pair, "timeframe", tfn, "bar_time",
                         tr_time_format(g.bar_time, a, sizeof a), "signal",
                         tr_label_name(g.signal), "confidence", num(g.confidence),
                         "probabilities", "hold", num(g.probs[0]), "buy", num(g.probs[1]),
                         "sell", num(g.probs[2]), "version", g.model_version, "ab_test_id",
                         str_or_null(g.ab_test_id), "signal_id",
                         record ? json_integer(g.id) : json_null(), "recorded", record));
done:
    serve_model_release(m);
    serve_snapshot_release(s);
    tr_bars_free(&bars);
    json_decref(b);
}

/* The index of the first bar that the store's rule (tr_store_bars_put: valid values, on the
 * grid, strictly ascending) refuses, to name it; the rule itself is the core's. */
static size_t bad_bar(const tr_bar *v, size_t n, int32_t tf)
{
    for (size_t i = 0; i < n; i++)
        if (tr_bar_invalid(&v[i]) || v[i].t % tf != 0 || (i > 0 && v[i].t <= v[i - 1].t))
            return i;
    return n;
}

static void h_bars(serve_ctx *ctx, const serve_request *req, const char *arg,
                   serve_response *res)
{
    (void)arg;
    static const member ms[] = {{"pair", JSON_STRING},
                                {"timeframe", JSON_STRING},
                                {"bars", JSON_ARRAY},
                                {"replace", JSON_TRUE}};
    json_t *b = read_body(req, res, ms, sizeof ms / sizeof ms[0]);
    if (!b)
        return;
    const char *pair;
    int32_t tf;
    tr_csv_data data;
    memset(&data, 0, sizeof data);
    char field[48];
    if (pair_of(b, &pair, 1, res) || timeframe_of(ctx, b, &tf, res))
        goto done;
    json_t *arr = opt(b, "bars");
    size_t n = arr ? json_array_size(arr) : 0;
    if (n == 0) {
        reply_error(res, 400, "missing_field", "bars", "'bars' must be a non-empty array");
        goto done;
    }
    tr_error e;
    tr_error_clear(&e);
    data.line = malloc(n * sizeof *data.line);
    if (!data.line || tr_bars_reserve(&data.bars, n, &e)) {
        reply_error(res, 500, "internal", NULL, "out of memory");
        goto done;
    }
    static const char *const keys[] = {"t", "o", "h", "l", "c", "v"};
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(arr, i);
        if (!json_is_object(o)) {
            snprintf(field, sizeof field, "bars[%zu]", i);
            reply_error(res, 400, "wrong_type", field, "%s must be an object {t,o,h,l,c,v}",
                        field);
            goto done;
        }
        const char *key;
        json_t *v;
        json_object_foreach(o, key, v)
        {
            int known = 0;
            for (int k = 0; k < 6; k++)
                known |= strcmp(key, keys[k]) == 0;
            if (!known) {
                snprintf(field, sizeof field, "bars[%zu].%.16s", i, key);
                reply_error(res, 400, "unknown_field", field, "unknown member %s", field);
                goto done;
            }
        }
        double x[5];
        for (int k = 1; k < 6; k++) {
            v = json_object_get(o, keys[k]);
            if (!json_is_number(v)) {
                snprintf(field, sizeof field, "bars[%zu].%s", i, keys[k]);
                reply_error(res, 400, v ? "wrong_type" : "missing_field", field,
                            "%s must be a number", field);
                goto done;
            }
            x[k - 1] = json_number_value(v);
        }
        snprintf(field, sizeof field, "bars[%zu].t", i);
        v = json_object_get(o, "t");
        if (!v || !type_ok(v, -1)) {
            reply_error(res, 400, v ? "wrong_type" : "missing_field", field, "%s must be %s",
                        field, type_name(-1));
            goto done;
        }
        tr_bar bar = {0, x[0], x[1], x[2], x[3], x[4]};
        if (json_time(v, field, &bar.t, res))
            goto done;
        data.bars.v[i] = bar;
        data.line[i] = (long)i;
    }
    data.bars.n = n;
    data.format = TR_CSV_GENERIC;
    tr_store *st = store_of(ctx, res);
    if (!st)
        goto done;
    tr_ingest_result ir;
    tr_code rc =
        tr_ingest_bars(st, pair, "request", &data, tf, json_is_true(opt(b, "replace")), &ir, &e);
    if (rc == TR_ERR_DATA || rc == TR_ERR_INVALID) {
        size_t i = bad_bar(data.bars.v, n, tf);
        char ts[32];
        if (i < n) {
            snprintf(field, sizeof field, "bars[%zu]", i);
            reply_error(res, 422, "invalid_bar", field, "bar %zu (%s) refused: %s", i,
                        tr_time_format(data.bars.v[i].t, ts, sizeof ts), e.msg);
        } else {
            reply_tr(res, rc, &e, "bars");
        }
        goto done;
    }
    if (rc == TR_ERR_CONFLICT) {
        size_t i = ir.put.conflict < n ? ir.put.conflict : 0;
        char ts[32];
        snprintf(field, sizeof field, "bars[%zu]", i);
        reply_error(res, 409, "conflict", field,
                    "bar %zu (%s) differs from the stored bar at that time (send replace: true "
                    "to overwrite); nothing was stored",
                    i, tr_time_format(data.bars.v[i].t, ts, sizeof ts));
        goto done;
    }
    if (rc) {
        reply_tr(res, rc, &e, NULL);
        goto done;
    }
    char t0[32], t1[32], tfn[16];
    reply_json(res, 200,
               json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:s, s:s}", "pair", pair, "timeframe",
                         tr_timeframe_name(tf, tfn, sizeof tfn), "received", (json_int_t)n,
                         "added", (json_int_t)ir.put.n_added, "unchanged",
                         (json_int_t)ir.put.n_unchanged, "replaced",
                         (json_int_t)ir.put.n_replaced, "first",
                         tr_time_format(ir.first, t0, sizeof t0), "last",
                         tr_time_format(ir.last, t1, sizeof t1)));
done:
    tr_csv_data_free(&data);
    json_decref(b);
}

/* The registry through this thread's store: 0, or -1 after replying. */
static int registry_of(serve_ctx *ctx, tr_registry *reg, tr_store **st_out, serve_response *res)
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

static void h_versions(serve_ctx *ctx, const serve_request *req, const char *arg,
                       serve_response *res)
{
    (void)req;
    (void)arg;
    tr_registry reg;
    if (registry_of(ctx, &reg, NULL, res))
        return;
    json_t *list = json_array();
    for (size_t i = 0; i < reg.n_versions; i++) {
        json_t *v = record(tr_version_json(&reg.versions[i]));
        json_object_del(v, "history"); /* the curves: GET /v1/versions/{v} has them */
        json_array_append_new(list, v);
    }
    const tr_version *act = tr_registry_active(&reg);
    serve_snapshot *s = serve_snapshot_get(ctx->models);
    reply_json(res, 200,
               json_pack("{s:o, s:o, s:o}", "active", str_or_null(act ? act->version : NULL),
                         "serving", str_or_null(s && s->active ? s->active->version : NULL),
                         "versions", list));
    serve_snapshot_release(s);
    tr_registry_free(&reg);
}

static void h_version(serve_ctx *ctx, const serve_request *req, const char *arg,
                      serve_response *res)
{
    (void)req;
    tr_registry reg;
    if (registry_of(ctx, &reg, NULL, res))
        return;
    const tr_version *v = tr_registry_find(&reg, arg);
    if (v)
        reply_json(res, 200, record(tr_version_json(v)));
    else
        reply_error(res, 404, "not_found", "version", "version %s is not in the registry", arg);
    tr_registry_free(&reg);
}

static void activate(serve_ctx *ctx, const serve_request *req, const char *version,
                     serve_response *res)
{
    static const member ms[] = {{"note", JSON_STRING}};
    json_t *b = read_body(req, res, ms, 1);
    if (!b)
        return;
    tr_store *st = store_of(ctx, res);
    if (!st) {
        json_decref(b);
        return;
    }
    char from[TR_VERSION_MAX] = "", to[TR_VERSION_MAX] = "";
    tr_error e;
    tr_error_clear(&e);
    tr_code rc = tr_activate(st, version, version == NULL, opt_str(b, "note"), from, to, &e);
    json_decref(b);
    if (rc) {
        reply_tr(res, rc, &e, version ? "version" : NULL);
        return;
    }
    resync(ctx, st);
    serve_snapshot *s = serve_snapshot_get(ctx->models);
    reply_json(res, 200,
               json_pack("{s:o, s:s, s:o}", "from", str_or_null(from), "to", to, "serving",
                         str_or_null(s && s->active ? s->active->version : NULL)));
    serve_snapshot_release(s);
}

static void h_activate(serve_ctx *ctx, const serve_request *req, const char *arg,
                       serve_response *res)
{
    activate(ctx, req, arg, res);
}

static void h_rollback(serve_ctx *ctx, const serve_request *req, const char *arg,
                       serve_response *res)
{
    (void)arg;
    activate(ctx, req, NULL, res);
}

static void h_log(serve_ctx *ctx, const serve_request *req, const char *arg,
                  serve_response *res)
{
    (void)arg;
    long limit;
    if (query_limit(req, &limit, res))
        return;
    tr_registry reg;
    if (registry_of(ctx, &reg, NULL, res))
        return;
    json_t *log = json_array(), *acts = json_array();
    size_t from = reg.n_log > (size_t)limit ? reg.n_log - (size_t)limit : 0;
    for (size_t i = from; i < reg.n_log; i++)
        json_array_append_new(log, record(tr_log_row_json(&reg.log[i])));
    from = reg.n_activations > (size_t)limit ? reg.n_activations - (size_t)limit : 0;
    for (size_t i = from; i < reg.n_activations; i++)
        json_array_append_new(acts, record(tr_activation_json(&reg.activations[i])));
    reply_json(res, 200, json_pack("{s:o, s:o}", "log", log, "activations", acts));
    tr_registry_free(&reg);
}

static json_t *signal_json(const tr_signal *g)
{
    char tfn[16], bt[32];
    int open = strcmp(g->outcome, "open") == 0;
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:{s:o, s:o, s:o}, s:s, s:o, s:o, s:s, "
                     "s:o, s:o, s:o, s:o}",
                     "id", (json_int_t)g->id, "pair", g->pair, "timeframe",
                     tr_timeframe_name(g->timeframe, tfn, sizeof tfn), "bar_time",
                     tr_time_format(g->bar_time, bt, sizeof bt), "signal",
                     tr_label_name(g->signal), "confidence", num(g->confidence),
                     "probabilities", "hold", num(g->probs[0]), "buy", num(g->probs[1]), "sell",
                     num(g->probs[2]), "version", g->model_version, "ab_test_id",
                     str_or_null(g->ab_test_id), "created_at", time_or_null(g->created_at),
                     "outcome", g->outcome, "exit_time", time_or_null(g->exit_time),
                     "exit_price", open ? json_null() : num(g->exit_price), "pnl_pips",
                     open ? json_null() : num(g->pnl_pips), "pnl_percent",
                     open ? json_null() : num(g->pnl_percent));
}

static void h_signals(serve_ctx *ctx, const serve_request *req, const char *arg,
                      serve_response *res)
{
    (void)arg;
    long limit;
    int64_t from = 0, to = TIME_MAX;
    const char *pair = query(req, "pair"), *version = query(req, "version");
    if (pair && !tr_pair_valid(pair)) {
        reply_error(res, 400, "bad_value", "pair",
                    "'pair' must be 3 to 15 characters A-Z and 0-9 (EURUSD)");
        return;
    }
    if (query_limit(req, &limit, res) || query_time(req, "from", &from, res) ||
        query_time(req, "to", &to, res))
        return;
    if (from >= to) {
        reply_error(res, 400, "bad_value", "from", "'from' must be before 'to'");
        return;
    }
    tr_store *st = store_of(ctx, res);
    if (!st)
        return;
    tr_signal *list;
    size_t n;
    tr_error e;
    tr_error_clear(&e);
    tr_code rc = tr_store_signals_get(st, pair, from, to, &list, &n, &e);
    if (rc) {
        reply_tr(res, rc, &e, rc == TR_ERR_NOTFOUND ? "pair" : NULL);
        return;
    }
    json_t *arr = json_array();
    size_t kept = 0;
    for (size_t i = n; i-- > 0 && kept < (size_t)limit;) /* the newest `limit` */
        if (!version || strcmp(list[i].model_version, version) == 0) {
            json_array_insert_new(arr, 0, signal_json(&list[i]));
            kept++;
        }
    free(list);
    reply_json(res, 200, json_pack("{s:I, s:o}", "count", (json_int_t)kept, "signals", arr));
}

static void h_outcome_placeholder(serve_ctx *ctx, const serve_request *req, const char *arg,
                                  serve_response *res)
{
    /* ==== PLACEHOLDER: POST /v1/signals/{id}/outcome ============================================
     * Recording a signal's outcome comes with the position monitor (another change). Replace
     * this handler; its route row below already requires the token like every POST. */
    (void)ctx;
    (void)req;
    (void)arg;
    reply_error(res, 501, "not_implemented", NULL,
                "recording an outcome over HTTP is not implemented yet");
}

/* ---- A/B tests ------------------------------------------------------------------------------ */

static void h_ab_list(serve_ctx *ctx, const serve_request *req, const char *arg,
                      serve_response *res)
{
    (void)req;
    (void)arg;
    tr_registry reg;
    if (registry_of(ctx, &reg, NULL, res))
        return;
    json_t *arr = json_array();
    for (size_t i = 0; i < reg.n_abtests; i++)
        json_array_append_new(arr, record(tr_ab_test_json(&reg.abtests[i])));
    reply_json(res, 200, json_pack("{s:o}", "ab_tests", arr));
    tr_registry_free(&reg);
}

static void h_ab_start(serve_ctx *ctx, const serve_request *req, const char *arg,
                       serve_response *res)
{
    (void)arg;
    static const member ms[] = {{"a", JSON_STRING},       {"b", JSON_STRING},
                                {"pairs", -2},            {"split", JSON_REAL},
                                {"days", JSON_INTEGER},   {"min_trades", JSON_INTEGER},
                                {"seed", JSON_STRING},    {"as_of", -1}};
    json_t *b = read_body(req, res, ms, sizeof ms / sizeof ms[0]);
    if (!b)
        return;
    tr_ab_start_opts o = tr_ab_start_opts_default();
    char pairs[TR_AB_PAIRS_MAX] = "";
    o.a = opt_str(b, "a");
    o.b = opt_str(b, "b");
    const char *bad = NULL;
    if (!o.a || !tr_version_name_valid(o.a))
        bad = "a";
    else if (!o.b || !tr_version_name_valid(o.b))
        bad = "b";
    if (bad) {
        reply_error(res, 400, opt(b, bad) ? "bad_value" : "missing_field", bad,
                    "'%s' must name a version (such as v1.0)", bad);
        goto done;
    }
    json_t *p = opt(b, "pairs");
    if (json_is_string(p)) {
        snprintf(pairs, sizeof pairs, "%s", json_string_value(p));
    } else if (p) {
        size_t used = 0, i;
        json_t *x;
        if (json_array_size(p) > PAIRS_MAX_IN_ONE) {
            reply_error(res, 422, "invalid", "pairs", "at most %d pairs in one A/B test",
                        PAIRS_MAX_IN_ONE);
            goto done;
        }
        json_array_foreach(p, i, x)
        {
            if (!json_is_string(x) || !tr_pair_valid(json_string_value(x))) {
                reply_error(res, 400, "bad_value", "pairs",
                            "'pairs' must be pair names (EURUSD), one string each");
                goto done;
            }
            used += (size_t)snprintf(pairs + used, sizeof pairs - used, "%s%s", i ? "," : "",
                                     json_string_value(x));
        }
    }
    if (opt(b, "split"))
        o.split = json_number_value(opt(b, "split"));
    if (opt(b, "days")) {
        json_int_t d = json_integer_value(opt(b, "days"));
        if (d < 1 || d > 365) {
            reply_error(res, 400, "bad_value", "days", "'days' must be in 1..365");
            goto done;
        }
        o.days = (int)d;
    }
    if (opt(b, "min_trades")) {
        json_int_t t = json_integer_value(opt(b, "min_trades"));
        if (t < 0 || t > 100000000) {
            reply_error(res, 400, "bad_value", "min_trades", "'min_trades' must be in 0..1e8");
            goto done;
        }
        o.min_trades = t;
    }
    if (opt(b, "seed")) {
        const char *s = opt_str(b, "seed");
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 16);
        if (!s[0] || *end || errno || v == 0 || s[0] == '-') {
            reply_error(res, 400, "bad_value", "seed",
                        "'seed' must be a non-zero hexadecimal string");
            goto done;
        }
        o.seed = v;
    }
    if (opt(b, "as_of") && json_time(opt(b, "as_of"), "as_of", &o.as_of, res))
        goto done;
    o.pairs = pairs;
    tr_store *st = store_of(ctx, res);
    if (!st)
        goto done;
    tr_ab_test t;
    tr_error e;
    tr_error_clear(&e);
    tr_code rc = tr_ab_start(st, &o, &t, &e);
    if (rc) {
        reply_tr(res, rc, &e, NULL);
        goto done;
    }
    resync(ctx, st);
    reply_json(res, 201, record(tr_ab_test_json(&t)));
done:
    json_decref(b);
}

static void h_ab_get(serve_ctx *ctx, const serve_request *req, const char *arg,
                     serve_response *res)
{
    (void)req;
    tr_registry reg;
    if (registry_of(ctx, &reg, NULL, res))
        return;
    const tr_ab_test *t = tr_registry_find_ab(&reg, arg);
    if (t)
        reply_json(res, 200, record(tr_ab_test_json(t)));
    else
        reply_error(res, 404, "not_found", "id", "no A/B test %s", arg);
    tr_registry_free(&reg);
}

static void reply_report(serve_response *res, int status, const tr_ab_report *r)
{
    json_t *j = record(tr_ab_report_json(r));
    reply_json(res, status, j);
}

static void h_ab_stop(serve_ctx *ctx, const serve_request *req, const char *arg,
                      serve_response *res)
{
    static const member ms[] = {{"note", JSON_STRING}, {"as_of", -1}};
    json_t *b = read_body(req, res, ms, 2);
    if (!b)
        return;
    int64_t as_of = 0;
    tr_ab_report *r = NULL;
    if (opt(b, "as_of") && json_time(opt(b, "as_of"), "as_of", &as_of, res))
        goto done;
    tr_store *st = store_of(ctx, res);
    if (!st)
        goto done;
    r = calloc(1, sizeof *r);
    if (!r) {
        reply_error(res, 500, "internal", NULL, "out of memory");
        goto done;
    }
    tr_error e;
    tr_error_clear(&e);
    tr_code rc = tr_ab_stop(st, arg, as_of, opt_str(b, "note"), r, &e);
    if (rc) {
        reply_tr(res, rc, &e, rc == TR_ERR_NOTFOUND ? "id" : NULL);
        goto done;
    }
    resync(ctx, st);
    reply_report(res, 200, r);
done:
    free(r);
    json_decref(b);
}

static void h_ab_report(serve_ctx *ctx, const serve_request *req, const char *arg,
                        serve_response *res)
{
    int64_t as_of = 0;
    if (query_time(req, "as_of", &as_of, res))
        return;
    tr_store *st = store_of(ctx, res);
    if (!st)
        return;
    tr_ab_report *r = calloc(1, sizeof *r);
    if (!r) {
        reply_error(res, 500, "internal", NULL, "out of memory");
        return;
    }
    tr_error e;
    tr_error_clear(&e);
    tr_code rc = tr_ab_analyse(st, arg, as_of, r, &e);
    if (rc)
        reply_tr(res, rc, &e, rc == TR_ERR_NOTFOUND ? "id" : NULL);
    else
        reply_report(res, 200, r);
    free(r);
}

/* ---- routing ------------------------------------------------------------------------------- */

typedef struct route {
    const char *method;
    const char *tmpl; /* segments; "{x}" matches one segment, passed to the handler */
    handler_fn fn;
} route;

static const route routes[] = {
    {"GET", "/healthz", h_healthz},
    {"GET", "/readyz", h_readyz},
    {"GET", "/metrics", h_metrics},
    {"POST", "/v1/predict", h_predict},
    {"POST", "/v1/bars", h_bars},
    {"GET", "/v1/versions", h_versions},
    {"GET", "/v1/versions/{v}", h_version},
    {"POST", "/v1/versions/{v}/activate", h_activate},
    {"POST", "/v1/rollback", h_rollback},
    {"GET", "/v1/log", h_log},
    {"GET", "/v1/signals", h_signals},
    {"POST", "/v1/signals/{id}/outcome", h_outcome_placeholder}, /* 501, see the handler */
    {"GET", "/v1/ab-tests", h_ab_list},
    {"POST", "/v1/ab-tests", h_ab_start},
    {"GET", "/v1/ab-tests/{id}", h_ab_get},
    {"POST", "/v1/ab-tests/{id}/stop", h_ab_stop},
    {"GET", "/v1/ab-tests/{id}/report", h_ab_report},
};
#define N_ROUTES (int)(sizeof routes / sizeof routes[0])

int serve_route_count(void)
{
    return N_ROUTES;
}

const char *serve_route_name(int r)
{
    return r >= 0 && r < N_ROUTES ? routes[r].tmpl : "unmatched";
}

/* 1 when path matches tmpl; the segment of a "{x}" into arg (size bytes). */
static int match(const char *tmpl, const char *path, char *arg, size_t size)
{
    arg[0] = '\0';
    while (*tmpl && *path) {
        if (*tmpl != '/' || *path != '/')
            return 0;
        tmpl++;
        path++;
        const char *te = strchr(tmpl, '/'), *pe = strchr(path, '/');
        size_t tl = te ? (size_t)(te - tmpl) : strlen(tmpl);
        size_t pl = pe ? (size_t)(pe - path) : strlen(path);
        if (tl > 0 && tmpl[0] == '{') {
            if (pl == 0 || pl >= size)
                return 0;
            memcpy(arg, path, pl);
            arg[pl] = '\0';
        } else if (tl != pl || memcmp(tmpl, path, tl) != 0) {
            return 0;
        }
        tmpl += tl;
        path += pl;
    }
    return !*tmpl && !*path;
}

/* The first route with the template of route r (GET and POST /v1/ab-tests share one label). */
static int label_of(int r)
{
    for (int i = 0; i < r; i++)
        if (strcmp(routes[i].tmpl, routes[r].tmpl) == 0)
            return i;
    return r;
}

/* Constant-time comparison of the presented credentials with the token. */
static int token_ok(const char *token, const char *authorization)
{
    static const char prefix[] = "Bearer ";
    if (!token || !authorization || strncmp(authorization, prefix, sizeof prefix - 1) != 0)
        return 0;
    const char *given = authorization + sizeof prefix - 1;
    size_t n = strlen(token), m = strlen(given);
    unsigned diff = (unsigned)(n != m);
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)token[i] ^ (unsigned char)(i < m ? given[i] : 0);
    return diff == 0;
}

void serve_handle(serve_ctx *ctx, const serve_request *req, serve_response *res)
{
    memset(res, 0, sizeof *res);
    res->route = N_ROUTES;
    const char *method = req->method ? req->method : "";
    const char *path = req->path ? req->path : "";
    char arg[TR_VERSION_MAX + 1];
    int found = -1, path_known = -1;
    char allow[32] = "";
    for (int r = 0; r < N_ROUTES; r++) {
        if (!match(routes[r].tmpl, path, arg, sizeof arg))
            continue;
        if (path_known < 0)
            path_known = r;
        if (strcmp(routes[r].method, method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(routes[r].method, "GET") == 0)) {
            found = r;
            break;
        }
        if (!strstr(allow, routes[r].method)) {
            size_t l = strlen(allow);
            snprintf(allow + l, sizeof allow - l, "%s%s", l ? ", " : "", routes[r].method);
        }
    }
    if (found < 0) {
        if (path_known < 0) {
            reply_error(res, 404, "not_found", NULL, "no such endpoint: %.200s", path);
            return;
        }
        res->route = label_of(path_known);
        reply_error(res, 405, "method_not_allowed", NULL, "%.16s is not allowed on %s (allowed: %s)",
                    method, routes[path_known].tmpl, allow);
        res->allow = strstr(allow, "POST") && strstr(allow, "GET") ? "GET, POST"
                     : strstr(allow, "POST")                      ? "POST"
                                                                  : "GET, HEAD";
        return;
    }
    res->route = label_of(found);
    /* a segment in a path is a version name, a test id or a signal id: the same character set */
    match(routes[found].tmpl, path, arg, sizeof arg);
    if (arg[0] && !tr_version_name_valid(arg)) {
        reply_error(res, 404, "not_found", NULL, "no such object: %.64s", arg);
        return;
    }
    if (strcmp(routes[found].method, "POST") == 0) {
        if (!ctx->cfg.token) {
            reply_error(res, 401, "unauthorized", NULL,
                        "this server has no token file (--token-file): it changes nothing");
            return;
        }
        if (!token_ok(ctx->cfg.token, req->authorization)) {
            reply_error(res, 401, "unauthorized", NULL,
                        "missing or wrong 'Authorization: Bearer <token>'");
            return;
        }
    }
    if (req->body_too_large) {
        reply_error(res, 413, "body_too_large", NULL, "the body is larger than %zu bytes",
                    ctx->cfg.max_body);
        return;
    }
    routes[found].fn(ctx, req, arg[0] ? arg : NULL, res);
}

serve_ctx *serve_ctx_new(const serve_config *cfg)
{
    serve_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return NULL;
    ctx->cfg = *cfg;
    ctx->started_at = tr_wall_now();
    ctx->metrics = serve_metrics_new();
    ctx->models = serve_models_new(ctx, cfg->model_cache);
    ctx->features = serve_features_new();
    if (!ctx->metrics || !ctx->models || !ctx->features) {
        serve_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

void serve_ctx_free(serve_ctx *ctx)
{
    if (!ctx)
        return;
    serve_models_free(ctx->models);
    serve_features_free(ctx->features);
    serve_metrics_free(ctx->metrics);
    free(ctx);
}
