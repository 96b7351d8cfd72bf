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
 * Store errors map to statuses in one place (reply_tr, reply.c): an unknown pair, version, test or
 * signal 404; a request the core's rules refuse (TR_ERR_INVALID) or bars that fail validation
 * (TR_ERR_DATA) 422; a conflict with stored bars or versions, or stale data, 409; an
 * unreachable store (TR_ERR_STORE) 503 with Retry-After: 5, after which this thread's store
 * handle is reopened by the next request; anything else 500.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "serve/handlers.h"

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
    {"POST", "/v1/signals/{id}/outcome", h_outcome},
    {"GET", "/v1/ab-tests", h_ab_list},
    {"POST", "/v1/ab-tests", h_ab_start},
    {"GET", "/v1/ab-tests/{id}", h_ab_get},
    {"POST", "/v1/ab-tests/{id}/stop", h_ab_stop},
    {"GET", "/v1/ab-tests/{id}/report", h_ab_report},
    {"GET", "/v1/drift", h_drift},
    {"GET", "/v1/data-quality", h_data_quality},
    {"GET", "/", h_dashboard},
    {"GET", "/assets/{name}", h_asset},
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
        reply_error(res, 405, "method_not_allowed", NULL,
                    "%.16s is not allowed on %s (allowed: %s)", method, routes[path_known].tmpl,
                    allow);
        res->allow = strstr(allow, "POST") && strstr(allow, "GET") ? "GET, POST"
                     : strstr(allow, "POST")                       ? "POST"
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
