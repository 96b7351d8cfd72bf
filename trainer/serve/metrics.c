/*
 * metrics.c - the server's Prometheus metrics and their text exposition (format 0.0.4:
 * "# HELP" and "# TYPE" before each family's samples, label values escaped, histogram buckets
 * cumulative in increasing le with le="+Inf" equal to _count).
 *
 * Families (docs/api-http.md lists them with their labels):
 *   aifx_http_requests_total{endpoint,method,status}        counter
 *   aifx_http_request_duration_seconds{endpoint}             histogram, Go's default buckets
 *   aifx_predictions_total{version,signal}                   counter
 *   aifx_active_version_info{version}                        gauge, 1
 *   aifx_model_swaps_total, aifx_model_load_failures_total   counters
 *   aifx_predict_features_total{path}                         counter (live or batch)
 *   aifx_newest_bar_age_seconds{pair}                        gauge, read at scrape time
 *   aifx_cycle_runs_total{cycle,status}                      counter (--schedule)
 *   process_start_time_seconds                               gauge
 * Label sets are bounded: endpoint is a route template (never a raw path), method one of eight
 * names, status an HTTP status, version a registered version, cycle and status the scheduler's
 * names. One mutex guards everything: an increment holds it for a few instructions.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "serve/serve.h"

static const double buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define N_BUCKETS (int)(sizeof buckets / sizeof buckets[0])

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
#define N_METHODS (int)(sizeof methods / sizeof methods[0])

typedef struct req_count {
    int route, method, status;
    uint64_t n;
} req_count;

typedef struct hist {
    uint64_t bucket[N_BUCKETS]; /* not cumulative here; summed when rendered */
    uint64_t count;
    double sum;
} hist;

typedef struct label_count {
    char a[TR_VERSION_MAX], b[32];
    uint64_t n;
} label_count;

typedef struct counts {
    label_count *v;
    size_t n, cap;
} counts;

struct serve_metrics {
    pthread_mutex_t mu;
    req_count *req;
    size_t n_req, cap_req;
    hist *hist; /* (routes + 1): the last one is "unmatched" */
    counts predictions, cycles;
    uint64_t swaps, load_failures;
    uint64_t by_path[2]; /* predictions answered from the live features, and in batch */
};

serve_metrics *serve_metrics_new(void)
{
    serve_metrics *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->hist = calloc((size_t)serve_route_count() + 1, sizeof *m->hist);
    if (!m->hist) {
        free(m);
        return NULL;
    }
    pthread_mutex_init(&m->mu, NULL);
    return m;
}

void serve_metrics_free(serve_metrics *m)
{
    if (!m)
        return;
    free(m->req);
    free(m->hist);
    free(m->predictions.v);
    free(m->cycles.v);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static int method_index(const char *method)
{
    for (int i = 0; i < N_METHODS; i++)
        if (strcmp(method, methods[i]) == 0)
            return i;
    return N_METHODS; /* "other" */
}

void serve_metrics_request(serve_metrics *m, int route, const char *method, int status,
                           double seconds)
{
    if (route < 0 || route > serve_route_count())
        route = serve_route_count();
    int mi = method_index(method ? method : "");
    pthread_mutex_lock(&m->mu);
    size_t i = 0;
    while (i < m->n_req &&
           !(m->req[i].route == route && m->req[i].method == mi && m->req[i].status == status))
        i++;
    if (i == m->n_req && m->n_req == m->cap_req) {
        size_t cap = m->cap_req ? 2 * m->cap_req : 32;
        req_count *v = realloc(m->req, cap * sizeof *v);
        if (v) {
            m->req = v;
            m->cap_req = cap;
        }
    }
    if (i < m->cap_req) {
        if (i == m->n_req)
            m->req[m->n_req++] = (req_count){route, mi, status, 0};
        m->req[i].n++;
    }
    hist *h = &m->hist[route];
    int b = 0;
    while (b < N_BUCKETS && seconds > buckets[b])
        b++;
    if (b < N_BUCKETS)
        h->bucket[b]++;
    h->count++;
    h->sum += seconds;
    pthread_mutex_unlock(&m->mu);
}

/* Adds 1 to (a, b) in c. Under mu. */
static void count_add(counts *c, const char *a, const char *b)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->v[i].a, a) == 0 && strcmp(c->v[i].b, b) == 0) {
            c->v[i].n++;
            return;
        }
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        label_count *v = realloc(c->v, cap * sizeof *v);
        if (!v)
            return;
        c->v = v;
        c->cap = cap;
    }
    label_count *e = &c->v[c->n++];
    snprintf(e->a, sizeof e->a, "%s", a);
    snprintf(e->b, sizeof e->b, "%s", b);
    e->n = 1;
}

void serve_metrics_prediction(serve_metrics *m, const char *version, const char *signal)
{
    pthread_mutex_lock(&m->mu);
    count_add(&m->predictions, version, signal);
    pthread_mutex_unlock(&m->mu);
}

void serve_metrics_predict_path(serve_metrics *m, int live)
{
    pthread_mutex_lock(&m->mu);
    m->by_path[live ? 0 : 1]++;
    pthread_mutex_unlock(&m->mu);
}

void serve_metrics_cycle(serve_metrics *m, const char *cycle, const char *status)
{
    pthread_mutex_lock(&m->mu);
    count_add(&m->cycles, cycle, status);
    pthread_mutex_unlock(&m->mu);
}

void serve_metrics_swap(serve_metrics *m)
{
    pthread_mutex_lock(&m->mu);
    m->swaps++;
    pthread_mutex_unlock(&m->mu);
}

void serve_metrics_load_failure(serve_metrics *m)
{
    pthread_mutex_lock(&m->mu);
    m->load_failures++;
    pthread_mutex_unlock(&m->mu);
}

/* A label value with \\, \" and \n escaped. */
static void label(tr_sb *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            tr_sb_printf(b, "\\%c", *s);
        else if (*s == '\n')
            tr_sb_printf(b, "\\n");
        else
            tr_sb_put(b, s, 1);
    }
}

static void family(tr_sb *b, const char *name, const char *type, const char *help)
{
    tr_sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

char *serve_metrics_render(serve_metrics *m, int64_t started_at, const char *active,
                           const serve_bar_age *ages, size_t n_ages, size_t *len)
{
    tr_sb b = {0};
    int nr = serve_route_count();
    pthread_mutex_lock(&m->mu);
    family(&b, "aifx_http_requests_total", "counter", "HTTP requests answered.");
    for (size_t i = 0; i < m->n_req; i++) {
        const req_count *r = &m->req[i];
        tr_sb_printf(&b, "aifx_http_requests_total{endpoint=\"");
        label(&b, serve_route_name(r->route));
        tr_sb_printf(&b, "\",method=\"%s\",status=\"%d\"} %llu\n",
                     r->method < N_METHODS ? methods[r->method] : "other", r->status,
                     (unsigned long long)r->n);
    }
    family(&b, "aifx_http_request_duration_seconds", "histogram",
           "Time from the request's headers to its response, by route.");
    for (int r = 0; r <= nr; r++) {
        const hist *h = &m->hist[r];
        if (h->count == 0)
            continue;
        uint64_t cum = 0;
        for (int k = 0; k < N_BUCKETS; k++) {
            cum += h->bucket[k];
            tr_sb_printf(&b, "aifx_http_request_duration_seconds_bucket{endpoint=\"");
            label(&b, serve_route_name(r));
            tr_sb_printf(&b, "\",le=\"%g\"} %llu\n", buckets[k], (unsigned long long)cum);
        }
        tr_sb_printf(&b, "aifx_http_request_duration_seconds_bucket{endpoint=\"");
        label(&b, serve_route_name(r));
        tr_sb_printf(&b, "\",le=\"+Inf\"} %llu\n", (unsigned long long)h->count);
        tr_sb_printf(&b, "aifx_http_request_duration_seconds_sum{endpoint=\"");
        label(&b, serve_route_name(r));
        tr_sb_printf(&b, "\"} %.9g\n", h->sum);
        tr_sb_printf(&b, "aifx_http_request_duration_seconds_count{endpoint=\"");
        label(&b, serve_route_name(r));
        tr_sb_printf(&b, "\"} %llu\n", (unsigned long long)h->count);
    }
    family(&b, "aifx_predictions_total", "counter", "Predictions served, by version and signal.");
    for (size_t i = 0; i < m->predictions.n; i++) {
        tr_sb_printf(&b, "aifx_predictions_total{version=\"");
        label(&b, m->predictions.v[i].a);
        tr_sb_printf(&b, "\",signal=\"");
        label(&b, m->predictions.v[i].b);
        tr_sb_printf(&b, "\"} %llu\n", (unsigned long long)m->predictions.v[i].n);
    }
    family(&b, "aifx_active_version_info", "gauge", "The version serving as the active one.");
    if (active && active[0]) {
        tr_sb_printf(&b, "aifx_active_version_info{version=\"");
        label(&b, active);
        tr_sb_printf(&b, "\"} 1\n");
    }
    family(&b, "aifx_predict_features_total", "counter",
           "Predictions by where their features came from: the live state, or a batch over the "
           "bars closed by an as-of time in the past.");
    tr_sb_printf(&b, "aifx_predict_features_total{path=\"live\"} %llu\n",
                 (unsigned long long)m->by_path[0]);
    tr_sb_printf(&b, "aifx_predict_features_total{path=\"batch\"} %llu\n",
                 (unsigned long long)m->by_path[1]);
    family(&b, "aifx_model_swaps_total", "counter", "Changes of the active model while serving.");
    tr_sb_printf(&b, "aifx_model_swaps_total %llu\n", (unsigned long long)m->swaps);
    family(&b, "aifx_model_load_failures_total", "counter",
           "Checkpoints that failed to load (the old model kept serving).");
    tr_sb_printf(&b, "aifx_model_load_failures_total %llu\n", (unsigned long long)m->load_failures);
    family(&b, "aifx_newest_bar_age_seconds", "gauge",
           "Seconds since the newest stored bar of the pair closed.");
    for (size_t i = 0; i < n_ages; i++) {
        tr_sb_printf(&b, "aifx_newest_bar_age_seconds{pair=\"");
        label(&b, ages[i].pair);
        tr_sb_printf(&b, "\"} %.0f\n", ages[i].seconds);
    }
    family(&b, "aifx_cycle_runs_total", "counter",
           "Cycles run by --schedule, by cycle and outcome.");
    for (size_t i = 0; i < m->cycles.n; i++) {
        tr_sb_printf(&b, "aifx_cycle_runs_total{cycle=\"");
        label(&b, m->cycles.v[i].a);
        tr_sb_printf(&b, "\",status=\"");
        label(&b, m->cycles.v[i].b);
        tr_sb_printf(&b, "\"} %llu\n", (unsigned long long)m->cycles.v[i].n);
    }
    pthread_mutex_unlock(&m->mu);
    family(&b, "process_start_time_seconds", "gauge",
           "Start time of the process since the Unix epoch in seconds.");
    tr_sb_printf(&b, "process_start_time_seconds %lld\n", (long long)started_at);
    if (b.oom) {
        tr_sb_free(&b);
        return NULL;
    }
    *len = b.n;
    return b.p;
}
