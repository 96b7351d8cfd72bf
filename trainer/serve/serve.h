/*
 * serve.h - aifx-serve, the ML API as a long-running HTTP service (docs/api-http.md,
 * docs/operations.md "aifx-serve").
 *
 * The files:
 *   http.c      the thin glue to GNU libmicrohttpd: bodies, limits, the access log, drain
 *   handle.c    serve_handle: one request (method, path, query, the Authorization header, body)
 *               to one response, with no libmicrohttpd in sight, so that tests and the fuzzer
 *               (tests/fuzz/fuzz_serve.c) call it directly; the route table and the token
 *   health.c, predict.c, registry.c, abtest.c   the handlers, one file per family
 *   dashboard.c the read-only dashboard page at / and its files under /assets/ (web/, embedded
 *               at build time, and Chart.js read from --chartjs)
 *   reply.c     what the handlers share (handlers.h): responses, errors, reading a body
 *   models.c    the shared, reference-counted models and registry snapshot, swapped atomically
 *   features.c  the one place where a pair's features become a model's probabilities
 *   metrics.c   the Prometheus counters and their exposition
 *   stores.c    one store handle per thread, opened lazily, reopened after a store error
 *   workers.c   the registry watcher and the --schedule thread
 *   main.c      options, the token file, signals, start and drain
 * It links aifxcore (everything it does to the store goes through the core's functions: the
 * same validation, routing and transactions as aifx-train) and jansson for every JSON text.
 */
#ifndef AIFXS_SERVE_H
#define AIFXS_SERVE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "aifxnn.h"
#include "base/err.h"
#include "registry/registry.h"
#include "store/store.h"

#define SERVE_VERSION "0.1.0"

typedef struct serve_metrics serve_metrics;
typedef struct serve_models serve_models;
typedef struct serve_features serve_features;

/* A file of the dashboard (trainer/serve/web/), embedded at build time as C data
 * (trainer/serve/web/embed.cmake writes serve_web_assets[] into the build tree). */
typedef struct serve_asset {
    const char *name;          /* "app.js" */
    const unsigned char *data; /* (len) bytes, followed by a NUL */
    size_t len;
} serve_asset;
extern const serve_asset serve_web_assets[];
extern const size_t serve_web_n_assets;

/* What the handlers need to know of the command line. */
typedef struct serve_config {
    const char *store;      /* the location as given (may hold a password: never printed) */
    const char *models_dir; /* NULL: the backend's default */
    const char *family;     /* the model family served (NULL: the default one) */
    int32_t timeframe;      /* default of requests that name none (seconds) */
    const char *token;      /* the bearer token, NULL when there is no token file: every
                               mutating endpoint then answers 401 */
    size_t max_body;        /* bytes */
    int model_cache;        /* models kept loaded besides the active one (LRU) */
    const serve_asset *web; /* (n_web) the dashboard's files; NULL: no dashboard (GET / is 404) */
    size_t n_web;
    const char *chartjs;  /* Chart.js, read at each GET /assets/chart.min.js; NULL: none (404) */
    int schedule_enqueue; /* --schedule --enqueue: due slots become jobs of the store's queue */
} serve_config;

/* One server: configuration and the shared state. Every member is safe to use from any thread
 * (the config is read-only once serving starts). */
typedef struct serve_ctx {
    serve_config cfg;
    serve_metrics *metrics;
    serve_models *models;
    serve_features *features;
    int64_t started_at; /* wall clock, for process_start_time_seconds */
} serve_ctx;

/* A query parameter, already percent-decoded. */
typedef struct serve_kv {
    const char *key, *value;
} serve_kv;

typedef struct serve_request {
    const char *method;    /* "GET", "POST", ... */
    const char *path;      /* without the query: "/v1/versions/v1.0" */
    const serve_kv *query; /* (n_query) */
    size_t n_query;
    const char *authorization; /* the Authorization header, NULL when absent */
    const char *body;          /* (body_len) bytes, not NUL-terminated; NULL when empty */
    size_t body_len;
    int body_too_large; /* the body exceeded cfg.max_body and was not kept */
} serve_request;

typedef struct serve_response {
    int status; /* HTTP status */
    char *body; /* malloc'd, (len) bytes; the caller frees it */
    size_t len;
    const char *content_type; /* static */
    int retry_after;          /* seconds for a Retry-After header, 0 for none */
    const char *allow;        /* static Allow header of a 405, NULL otherwise */
    int route;                /* index of the route template matched, for the metrics' label */
    /* static Cache-Control header; NULL: "no-store" */
    const char *cache_control;
    /* static Content-Security-Policy header, sent with X-Content-Type-Options: nosniff; NULL:
     * neither */
    const char *csp;
} serve_response;

/* Creates the shared state for cfg (which is copied; its strings must outlive the context).
 * NULL when out of memory. */
serve_ctx *serve_ctx_new(const serve_config *cfg);
void serve_ctx_free(serve_ctx *ctx);

/* Handles one request: fills res (status, body, headers). Never fails: an error is a response.
 * Thread-safe: any number of threads may handle requests on one context at once. */
void serve_handle(serve_ctx *ctx, const serve_request *req, serve_response *res);

/* The route template of route index r ("/v1/versions/{v}"), for the metrics; "unmatched" for a
 * path that matched no route. */
const char *serve_route_name(int r);
/* The number of route templates (indexes 0 .. n-1; n is "unmatched"). */
int serve_route_count(void);

/* ---- stores.c: one store handle per thread ------------------------------------------------- */

/* This thread's handle on the store, opened on first use. NULL with err set when it cannot be
 * opened (TR_ERR_STORE: the database is unreachable). */
tr_store *serve_store(serve_ctx *ctx, tr_error *err);
/* After a call on this thread's handle failed with rc: a store error (TR_ERR_STORE) closes the
 * handle, so that the next request reconnects. */
void serve_store_check(tr_code rc);
/* Closes this thread's handle (threads that end close theirs by themselves). */
void serve_store_release(void);

/* ---- models.c: shared models and the registry snapshot ------------------------------------- */

/* A loaded version: immutable once made, shared by every thread, freed when the last reference
 * goes. aifx_model_predict is thread-safe on one model (aifxnn.h), so no lock and no clone. */
typedef struct serve_model {
    int refs; /* atomic (__atomic builtins) */
    char version[TR_VERSION_MAX];
    uint32_t crc; /* of the checkpoint file: a version's identity on disk */
    aifx_model *m;
    tr_rule rule; /* the version's decision rule (market/decide.h) */
} serve_model;

/* What the request path reads: the registry as last read and the model serving as the active
 * version. Immutable, reference counted, replaced as a whole. */
typedef struct serve_snapshot {
    int refs;
    tr_registry reg;
    serve_model *active; /* NULL when no version is active or none could be loaded yet; when the
                            newly active version failed to load, the one that served before */
    int64_t read_at;     /* wall clock of the registry read */
} serve_snapshot;

serve_models *serve_models_new(serve_ctx *ctx, int capacity);
void serve_models_free(serve_models *ms);

/* The current snapshot with a reference (release it), or NULL before the first sync. */
serve_snapshot *serve_snapshot_get(serve_models *ms);
void serve_snapshot_release(serve_snapshot *s);
void serve_model_release(serve_model *m);

/* The model of registered version rec with a reference (release it): from the cache, else
 * loaded from its checkpoint through store (and cached). A load failure is logged and counted. */
tr_code serve_model_get(serve_models *ms, tr_store *store, const tr_version *rec, serve_model **out,
                        tr_error *err);

/* Reads the registry through store and publishes a new snapshot: the active version's model
 * loaded beside the old one first, then both swapped in at once; requests holding the old
 * snapshot finish on it. A load failure keeps the old model serving (logged, counted, retried
 * after a while). *changed (optional) is 1 when the active model changed. */
tr_code serve_models_sync(serve_models *ms, tr_store *store, int *changed, tr_error *err);

/* ---- features.c ---------------------------------------------------------------------------- */

serve_features *serve_features_new(void);
void serve_features_free(serve_features *f);

/* The probabilities of model m for the window ending at the newest of bars[0..n) of pair at
 * timeframe tf (the same numbers as tr_predict's), and the argmax class. Cached per pair by the
 * newest bar's time, a checksum of the bars used and the model: recomputed only when a new bar
 * arrived (or the bars or the model changed). */
tr_code serve_features_predict(serve_features *f, const char *pair, int32_t tf, const tr_bar *bars,
                               size_t n, const serve_model *m, float probs[3], int *best,
                               tr_error *err);

/* The live path: brings pair's live features up to as_of (reading the store only when a newer
 * bar can have closed) and gives the newest bar's open time (INT64_MIN: no bar) and the bars of
 * history behind it, as tr_predict counts them. TR_ERR_CONFLICT when as_of is before the newest
 * bar the live state holds (the caller takes the batch path); the store's errors. */
tr_code serve_live_sync(serve_features *f, tr_store *st, const char *pair, int32_t tf,
                        int64_t as_of, int64_t *newest, size_t *history, tr_error *err);
/* Model m's probabilities for the window ending at newest (kept per model); TR_ERR_CONFLICT when
 * another request moved the live state past newest meanwhile (the caller takes the batch path). */
tr_code serve_live_predict(serve_features *f, const char *pair, int32_t tf, int64_t newest,
                           const serve_model *m, float probs[3], int *best, tr_error *err);
/* Drops pair's live state (after bars were written through this server). */
void serve_live_invalidate(serve_features *f, const char *pair, int32_t tf);

/* ---- metrics.c ----------------------------------------------------------------------------- */

serve_metrics *serve_metrics_new(void);
void serve_metrics_free(serve_metrics *m);
/* One request done: its route, method, status and duration. */
void serve_metrics_request(serve_metrics *m, int route, const char *method, int status,
                           double seconds);
void serve_metrics_prediction(serve_metrics *m, const char *version, const char *signal);
void serve_metrics_swap(serve_metrics *m);
/* One prediction's features: live 1 from the live state, 0 in batch. */
void serve_metrics_predict_path(serve_metrics *m, int live);
void serve_metrics_load_failure(serve_metrics *m);
void serve_metrics_cycle(serve_metrics *m, const char *cycle, const char *status);
/* The exposition (text format 0.0.4) into a malloc'd string; active: the active version
 * (NULL: none); ages: newest bar ages per pair (n). */
typedef struct serve_bar_age {
    char pair[TR_PAIR_MAX];
    double seconds;
} serve_bar_age;
char *serve_metrics_render(serve_metrics *m, int64_t started_at, const char *active,
                           const serve_bar_age *ages, size_t n, size_t *len);

/* ---- logging (main.c) ---------------------------------------------------------------------- */

/* An event as one JSON line on stderr: {"time":...,"event":event,"message":...} plus the
 * version when given. Never a secret: callers pass store names through tr_store_name. */
void serve_log_event(const char *event, const char *version, const char *message);

#endif
