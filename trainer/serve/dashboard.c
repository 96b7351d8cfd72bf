/*
 * dashboard.c - GET / (the dashboard page) and GET /assets/{name} (its script, its style sheet
 * and Chart.js): a static page whose script reads the JSON endpoints (docs/api-http.md,
 * "Dashboard"). Read-only: GETs only, no token, nothing of the configuration in the page.
 *
 * The page's own files (trainer/serve/web/) are compiled into the program (cfg.web, from
 * web/embed.cmake), so an installed aifx-serve needs no data directory. Chart.js is Debian's
 * libjs-chart.js, read from cfg.chartjs (--chartjs) at each request: a missing file is a 404
 * that names the package (not the path), and the page still fills its tables without charts.
 *
 * Headers: the Content-Type of each file's extension; a Content-Security-Policy that lets the
 * page load scripts, styles and data from this server only (no inline script or style, no other
 * origin, no frames); Cache-Control "no-cache" for the embedded files (they change with the
 * program, and are a few KiB) and a day for Chart.js (it changes with its package).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "serve/handlers.h"

#define CHARTJS_NAME "chart.min.js"
#define CHARTJS_MAX  ((long)16 << 20) /* bytes: Chart.js 3 is 0.2 MB */
#define CHARTJS_MISSING                                                                            \
    "Chart.js is not installed on this server (%s): the operator installs Debian's "               \
    "libjs-chart.js or points --chartjs at chart.min.js; the dashboard shows its tables without "  \
    "charts"
#define PAGE_CSP                                                                                   \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "                    \
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "                 \
    "frame-ancestors 'none'"

/* The Content-Type of a file name by its extension. */
static const char *content_type_of(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
    };
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        size_t l = strlen(types[i].ext);
        if (n > l && strcmp(name + n - l, types[i].ext) == 0)
            return types[i].type;
    }
    return "application/octet-stream";
}

/* Answers len bytes of data (copied) as the file name, with the page's headers. */
static void reply_file(serve_response *res, const char *name, const void *data, size_t len,
                       const char *cache_control)
{
    char *body = malloc(len ? len : 1);
    if (!body) {
        reply_error(res, 500, "internal", NULL, "out of memory");
        return;
    }
    memcpy(body, data, len);
    res->status = 200;
    res->body = body;
    res->len = len;
    res->content_type = content_type_of(name);
    res->cache_control = cache_control;
    res->csp = PAGE_CSP;
}

/* The embedded file called name, NULL when there is none. */
static const serve_asset *web_find(const serve_config *cfg, const char *name)
{
    for (size_t i = 0; cfg->web && i < cfg->n_web; i++)
        if (strcmp(cfg->web[i].name, name) == 0)
            return &cfg->web[i];
    return NULL;
}

void h_dashboard(serve_ctx *ctx, const serve_request *req, const char *arg, serve_response *res)
{
    (void)req;
    (void)arg;
    const serve_asset *a = web_find(&ctx->cfg, "index.html");
    if (!a) {
        reply_error(res, 404, "not_found", NULL, "this aifx-serve was built without its dashboard");
        return;
    }
    reply_file(res, a->name, a->data, a->len, "no-cache");
}

/* Chart.js from the file cfg.chartjs names, read now. The answer never names the path (main.c
 * logs it at start when the file is missing). */
static void chartjs(const serve_ctx *ctx, serve_response *res)
{
    const char *path = ctx->cfg.chartjs;
    if (!path) {
        reply_error(res, 404, "not_found", NULL, CHARTJS_MISSING, "no --chartjs");
        return;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        reply_error(res, 404, "not_found", NULL, CHARTJS_MISSING, strerror(errno));
        return;
    }
    struct stat sb;
    const char *why = NULL;
    if (fstat(fileno(f), &sb) != 0)
        why = strerror(errno);
    else if (!S_ISREG(sb.st_mode))
        why = "not a regular file";
    else if (sb.st_size > CHARTJS_MAX)
        why = "larger than 16 MiB";
    if (why) {
        fclose(f);
        reply_error(res, 404, "not_found", NULL, CHARTJS_MISSING, why);
        return;
    }
    size_t len = (size_t)sb.st_size;
    char *body = malloc(len ? len : 1);
    size_t got = body ? fread(body, 1, len, f) : 0;
    fclose(f);
    if (!body || got != len) {
        free(body);
        reply_error(res, 500, "internal", NULL, "cannot read Chart.js: %s",
                    body ? "the file changed while it was read" : "out of memory");
        return;
    }
    res->status = 200;
    res->body = body;
    res->len = len;
    res->content_type = content_type_of(CHARTJS_NAME);
    res->cache_control = "public, max-age=86400";
    res->csp = PAGE_CSP;
}

void h_asset(serve_ctx *ctx, const serve_request *req, const char *arg, serve_response *res)
{
    (void)req;
    if (strcmp(arg, CHARTJS_NAME) == 0) {
        chartjs(ctx, res);
        return;
    }
    const serve_asset *a = web_find(&ctx->cfg, arg);
    if (!a) {
        reply_error(res, 404, "not_found", "name", "no such asset: %s", arg);
        return;
    }
    reply_file(res, a->name, a->data, a->len, "no-cache");
}
