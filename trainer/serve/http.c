/*
 * http.c - the thin glue between GNU libmicrohttpd and serve_handle (http.h).
 *
 * Threading: MHD's internal thread pool (--threads, default 2) on poll(). A handler blocks for
 * milliseconds (a store read, features, a forward pass) and the machine has few cores, so more
 * threads than cores buy nothing; what bounds the server is the number of store handles, one
 * per worker thread (a PostgreSQL connection each), which the pool keeps at --threads whatever
 * the number of clients. Thread-per-connection would open a connection per client. The price
 * is head-of-line blocking: a slow request (a large POST /v1/bars) delays the other
 * connections of its worker; raise --threads for that.
 *
 * Limits, all explicit: --max-body (a Content-Length above it is refused with 413 before the
 * body is read; a chunked body that grows past it is discarded and answered 413), the request
 * headers must fit in MEMORY_LIMIT per connection (MHD answers larger ones itself),
 * --max-connections, --timeout seconds of idleness per connection.
 *
 * Each request gets a state on its first callback (start time, body so far); the completion
 * callback writes its access-log line and metrics and frees it. A counter of requests in flight
 * lets SIGTERM drain them after MHD_quiesce_daemon closed the listening socket.
 */
#define _POSIX_C_SOURCE 200809L

#include "serve/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/timeutil.h"

#define MEMORY_LIMIT ((size_t)64 * 1024) /* per connection: the request line and headers */
#define MAX_QUERY    32
#define DISCARD_MAX  8 /* a chunked body over the limit is read up to this many times it */

struct serve_http {
    serve_ctx *ctx;
    struct MHD_Daemon *d;
    int fd;
    int port;
    int in_flight; /* atomic */
    pthread_mutex_t log_mu;
    FILE *log;
    char *log_path;
};

typedef struct conn {
    double t0;
    char *body;
    size_t len, cap;
    size_t discarded;
    int too_large;
    int responded;
    int status;
    size_t bytes;
    int route;
    char method[16];
    char path[256];
    char remote[64];
} conn;

/* ---- the access log ------------------------------------------------------------------------ */

static FILE *open_log(const char *path)
{
    if (strcmp(path, "-") == 0)
        return stderr;
    return fopen(path, "a");
}

int serve_http_reopen_log(serve_http *h)
{
    if (!h->log_path || strcmp(h->log_path, "-") == 0)
        return 0;
    FILE *f = open_log(h->log_path);
    if (!f)
        return -1;
    pthread_mutex_lock(&h->log_mu);
    FILE *old = h->log;
    h->log = f;
    pthread_mutex_unlock(&h->log_mu);
    if (old && old != stderr)
        fclose(old);
    return 0;
}

/* One line: time, method, path, status, bytes, duration_us, remote. Never a header or a body. */
static void access_line(serve_http *h, const conn *c, double seconds)
{
    if (!h->log)
        return;
    char ts[32];
    json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:I, s:I, s:s}", "time",
                          tr_time_format(tr_wall_now(), ts, sizeof ts), "method", c->method, "path",
                          c->path, "status", c->status, "bytes", (json_int_t)c->bytes,
                          "duration_us", (json_int_t)(seconds * 1e6), "remote", c->remote);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!s)
        return;
    pthread_mutex_lock(&h->log_mu);
    fprintf(h->log, "%s\n", s);
    fflush(h->log);
    pthread_mutex_unlock(&h->log_mu);
    free(s);
}

/* ---- the callbacks ------------------------------------------------------------------------- */

typedef struct query_vec {
    serve_kv kv[MAX_QUERY];
    size_t n;
} query_vec;

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    query_vec *q = cls;
    if (q->n < MAX_QUERY)
        q->kv[q->n++] = (serve_kv){key, value};
    return MHD_YES;
}

/* Answers the request now (after the body, or at once when its Content-Length is too large). */
static enum MHD_Result respond(serve_http *h, struct MHD_Connection *mc, conn *c, const char *url,
                               const char *method)
{
    query_vec q;
    q.n = 0;
    MHD_get_connection_values(mc, MHD_GET_ARGUMENT_KIND, collect_arg, &q);
    serve_request req = {
        .method = method,
        .path = url,
        .query = q.kv,
        .n_query = q.n,
        .authorization = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Authorization"),
        .body = c->too_large ? NULL : c->body,
        .body_len = c->too_large ? 0 : c->len,
        .body_too_large = c->too_large,
    };
    serve_response res;
    serve_handle(h->ctx, &req, &res);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(res.len, res.body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(res.body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            res.content_type ? res.content_type : "application/json");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
                            res.cache_control ? res.cache_control : "no-store");
    if (res.csp) {
        MHD_add_response_header(r, "Content-Security-Policy", res.csp);
        MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    }
    if (res.retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", res.retry_after);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    if (res.allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, res.allow);
    if (res.status == 401)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    enum MHD_Result ok = MHD_queue_response(mc, (unsigned)res.status, r);
    MHD_destroy_response(r);
    c->responded = 1;
    c->status = res.status;
    c->bytes = res.len;
    c->route = res.route;
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    serve_http *h = cls;
    conn *c = *con_cls;
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c)
            return MHD_NO;
        *con_cls = c;
        __atomic_add_fetch(&h->in_flight, 1, __ATOMIC_SEQ_CST);
        c->t0 = tr_mono_now();
        snprintf(c->method, sizeof c->method, "%s", method);
        snprintf(c->path, sizeof c->path, "%s", url);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        const struct sockaddr *sa = ci ? ci->client_addr : NULL;
        if (sa && sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, c->remote,
                      sizeof c->remote);
        else if (sa && sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                      c->remote, sizeof c->remote);
        const char *cl = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Content-Length");
        if (cl) {
            char *end;
            errno = 0;
            unsigned long long n = strtoull(cl, &end, 10);
            if (errno || *end || n > h->ctx->cfg.max_body) {
                c->too_large = 1;
                return respond(h, mc, c, url, method); /* MHD discards the body and closes */
            }
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (c->too_large) {
            c->discarded += n;
            return c->discarded > DISCARD_MAX * h->ctx->cfg.max_body ? MHD_NO : MHD_YES;
        }
        if (c->len + n > h->ctx->cfg.max_body) {
            c->too_large = 1;
            c->discarded = c->len + n;
            free(c->body);
            c->body = NULL;
            c->len = c->cap = 0;
            return MHD_YES;
        }
        if (c->len + n > c->cap) {
            size_t cap = c->cap ? c->cap : 4096;
            while (cap < c->len + n)
                cap *= 2;
            char *b = realloc(c->body, cap);
            if (!b)
                return MHD_NO;
            c->body = b;
            c->cap = cap;
        }
        memcpy(c->body + c->len, upload_data, n);
        c->len += n;
        return MHD_YES;
    }
    if (c->responded)
        return MHD_YES;
    return respond(h, mc, c, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)mc;
    (void)toe;
    serve_http *h = cls;
    conn *c = *con_cls;
    if (!c)
        return;
    *con_cls = NULL;
    if (c->responded) {
        double sec = tr_mono_now() - c->t0;
        serve_metrics_request(h->ctx->metrics, c->route, c->method, c->status, sec);
        access_line(h, c, sec);
    }
    free(c->body);
    free(c);
    __atomic_sub_fetch(&h->in_flight, 1, __ATOMIC_SEQ_CST);
}

static void on_mhd_log(void *cls, const char *fm, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fm, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    serve_log_event("http", NULL, msg);
}

/* ---- the listening socket ------------------------------------------------------------------ */

/* Parses "A.B.C.D:PORT" or "[v6]:PORT" into ss; 0, or -1. *loopback: 127.0.0.0/8 or ::1. */
static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len, int *loopback)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return -1;
    size_t hl = (size_t)(colon - s);
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || errno || port < 0 || port > 65535)
        return -1;
    memset(ss, 0, sizeof *ss);
    if (s[0] == '[') {
        if (hl < 3 || s[hl - 1] != ']' || hl - 2 >= sizeof host)
            return -1;
        memcpy(host, s + 1, hl - 2);
        host[hl - 2] = '\0';
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)(void *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
            return -1;
        *loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
        *len = sizeof *a;
        return 0;
    }
    if (hl >= sizeof host)
        return -1;
    memcpy(host, s, hl);
    host[hl] = '\0';
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    struct sockaddr_in *a = (struct sockaddr_in *)(void *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
        return -1;
    *loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    *len = sizeof *a;
    return 0;
}

static int listen_on(const serve_http_opts *o, int *port, tr_error *err)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int loopback = 0;
    if (parse_listen(o->listen, &ss, &len, &loopback)) {
        tr_fail(err, TR_ERR_INVALID, "bad --listen '%s' (ADDR:PORT, e.g. 127.0.0.1:8080)",
                o->listen);
        return -1;
    }
    if (!loopback && !o->allow_remote) {
        tr_fail(err, TR_ERR_INVALID,
                "--listen %s is not a loopback address: add --allow-remote to serve other "
                "hosts (and put TLS in front, docs/operations.md)",
                o->listen);
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 128) != 0) {
        tr_fail(err, TR_ERR_IO, "cannot listen on %s: %s", o->listen, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    struct sockaddr_storage got;
    socklen_t gl = sizeof got;
    if (getsockname(fd, (struct sockaddr *)&got, &gl) != 0) {
        tr_fail(err, TR_ERR_IO, "getsockname: %s", strerror(errno));
        close(fd);
        return -1;
    }
    *port = ntohs(got.ss_family == AF_INET6
                      ? ((const struct sockaddr_in6 *)(const void *)&got)->sin6_port
                      : ((const struct sockaddr_in *)(const void *)&got)->sin_port);
    return fd;
}

serve_http *serve_http_start(serve_ctx *ctx, const serve_http_opts *o, tr_error *err)
{
    serve_http *h = calloc(1, sizeof *h);
    if (!h) {
        tr_fail(err, TR_ERR_NOMEM, "out of memory");
        return NULL;
    }
    h->ctx = ctx;
    pthread_mutex_init(&h->log_mu, NULL);
    if (o->access_log) {
        h->log_path = strdup(o->access_log);
        h->log = h->log_path ? open_log(o->access_log) : NULL;
        if (!h->log) {
            tr_fail(err, TR_ERR_IO, "cannot open the access log %s: %s", o->access_log,
                    strerror(errno));
            serve_http_stop(h);
            return NULL;
        }
    }
    h->fd = listen_on(o, &h->port, err);
    if (h->fd < 0) {
        serve_http_stop(h);
        return NULL;
    }
    /* poll(), not epoll: libmicrohttpd 0.9.75 aborts ("Failed to remove listen FD from epoll
     * set") when MHD_quiesce_daemon races a pool worker that has taken the listening socket out
     * of its epoll set; with poll the quiesce only marks the socket. At the 16 connections of
     * the bench the two measure the same (docs/performance.md). */
    unsigned flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    unsigned threads = o->threads < 1 ? 1 : o->threads;
    /* the logger first, so that MHD's own messages of the other options go through it too */
    h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,                  /* */
                            MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, (void *)NULL, /* */
                            MHD_OPTION_LISTEN_SOCKET, h->fd,                      /* */
                            MHD_OPTION_THREAD_POOL_SIZE, threads,                 /* */
                            MHD_OPTION_CONNECTION_LIMIT, o->max_conn,             /* */
                            MHD_OPTION_CONNECTION_TIMEOUT, o->timeout,            /* */
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, MEMORY_LIMIT,     /* */
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,         /* */
                            MHD_OPTION_END);
    if (!h->d) {
        tr_fail(err, TR_ERR_IO, "libmicrohttpd did not start on %s", o->listen);
        close(h->fd);
        h->fd = -1;
        serve_http_stop(h);
        return NULL;
    }
    return h;
}

int serve_http_port(const serve_http *h)
{
    return h->port;
}

void serve_http_quiesce(serve_http *h)
{
    if (h->d && h->fd >= 0) {
        MHD_socket fd = MHD_quiesce_daemon(h->d);
        if (fd != MHD_INVALID_SOCKET)
            close(fd); /* ours now: MHD gives it back */
        h->fd = -1;
    }
}

int serve_http_drain(serve_http *h, double seconds)
{
    double end = tr_mono_now() + seconds;
    int n;
    while ((n = __atomic_load_n(&h->in_flight, __ATOMIC_SEQ_CST)) > 0 && tr_mono_now() < end) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return n;
}

void serve_http_stop(serve_http *h)
{
    if (!h)
        return;
    if (h->d)
        MHD_stop_daemon(h->d); /* closes the listening socket when it was not quiesced */
    if (h->log && h->log != stderr)
        fclose(h->log);
    free(h->log_path);
    pthread_mutex_destroy(&h->log_mu);
    free(h);
}
