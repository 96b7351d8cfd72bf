/*
 * main.c - aifx-serve's entry: options (one table), the token file, the start, the signals and
 * the drain. Exit codes: 0 after a clean stop (SIGTERM, SIGINT), 1 internal error, 2 usage,
 * 5 store or file error (the store, the token file, the access log, the address), 6 a missing
 * directory store. docs/operations.md "aifx-serve".
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/threads.h"
#include "base/timeutil.h"
#include "serve/http.h"

enum { EX_OK = 0, EX_INTERNAL = 1, EX_USAGE = 2, EX_STORE = 5, EX_NOTFOUND = 6 };

#define CHARTJS_DEFAULT "/usr/share/javascript/chart.js/chart.min.js"

static const char usage[] =
    "usage: aifx-serve [--store LOC] [--listen ADDR:PORT] [--token-file FILE] [options]\n"
    "\n"
    "  The ML API over HTTP/1.1 (docs/api-http.md): predictions, bars, versions, activation,\n"
    "  rollback, A/B tests, health and Prometheus metrics; a read-only dashboard at /.\n"
    "\n"
    "options:\n"
    "  --store LOC          the store: a directory (default $AIFX_STORE, else ./aifx-data) or\n"
    "                       a PostgreSQL URI or \"host=... dbname=...\" string\n"
    "  --models-dir DIR     checkpoints (default $AIFX_MODELS_DIR, else the store's)\n"
    "  --listen ADDR:PORT   default 127.0.0.1:8080; port 0: any free port. The address\n"
    "                       listened on is printed as one line on stdout when ready\n"
    "  --allow-remote       allow an ADDR that is not loopback (put TLS in front of it)\n"
    "  --token-file FILE    bearer token (its first line) that every POST must present;\n"
    "                       without it every POST is refused with 401\n"
    "  --access-log FILE    JSON lines, one per request ('-': stderr); SIGHUP reopens it\n"
    "  --threads N          worker threads, each with its own store handle (default 2)\n"
    "  --max-body BYTES     largest request body (default 1048576)\n"
    "  --max-connections N  connections at once (default 64)\n"
    "  --timeout S          seconds a connection may stay idle (default 30)\n"
    "  --timeframe TF       timeframe of requests that name none (default: the family's,\n"
    "                       15m for the default family)\n"
    "  --family NAME        the model family served, with its versions, active model and\n"
    "                       signals (default: the store's default family)\n"
    "  --model-cache N      versions kept loaded besides the active one (default 4)\n"
    "  --schedule           run the due cycles (aifx-train run-due) every minute in a thread\n"
    "  --schedule-every S   seconds between those runs (default 60)\n"
    "  --train-threads N|auto  threads that train a model in those cycles (default\n"
    "                       $AIFX_TRAIN_THREADS, else auto: this process's CPUs, at most 2)\n"
    "  --enqueue            with --schedule: enqueue the due slots as jobs for\n"
    "                       `aifx-train worker` (run-due --enqueue) instead of running them\n"
    "  --drain S            seconds SIGTERM waits for requests in flight (default 10)\n"
    "  --chartjs PATH       Chart.js for the dashboard's charts (GET /), served as\n"
    "                       /assets/chart.min.js (default: Debian's libjs-chart.js,\n"
    "                       " CHARTJS_DEFAULT ")\n"
    "  --help, --version\n"
    "\n"
    "exit codes: 0 stopped by SIGTERM or SIGINT, 1 internal error, 2 usage, 5 store or file\n"
    "error, 6 no store at LOC\n";

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

void serve_log_event(const char *event, const char *version, const char *message)
{
    char ts[32];
    json_t *j = json_pack("{s:s, s:s, s:s}", "time", tr_time_format(tr_wall_now(), ts, sizeof ts),
                          "event", event, "message", message ? message : "");
    if (j && version)
        json_object_set_new(j, "version", json_string(version));
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!s)
        return;
    pthread_mutex_lock(&log_mu);
    fprintf(stderr, "%s\n", s);
    fflush(stderr);
    pthread_mutex_unlock(&log_mu);
    free(s);
}

typedef struct options {
    const char *store, *models_dir, *listen, *token_file, *access_log, *timeframe, *chartjs,
        *family, *train_threads;
    int allow_remote, schedule, enqueue, help, version;
    long threads, max_body, max_conn, timeout, model_cache, schedule_every, drain;
} options;

typedef enum { O_STR, O_LONG, O_FLAG } okind;

typedef struct optdef {
    const char *name;
    okind kind;
    size_t off;
    long min, max;
} optdef;

#define OSTR(n, m)                                                                                 \
    {                                                                                              \
        n, O_STR, offsetof(options, m), 0, 0                                                       \
    }
#define OFLAG(n, m)                                                                                \
    {                                                                                              \
        n, O_FLAG, offsetof(options, m), 0, 0                                                      \
    }
#define OLONG(n, m, lo, hi)                                                                        \
    {                                                                                              \
        n, O_LONG, offsetof(options, m), lo, hi                                                    \
    }

static const optdef optdefs[] = {
    OSTR("--store", store),
    OSTR("--models-dir", models_dir),
    OSTR("--listen", listen),
    OSTR("--token-file", token_file),
    OSTR("--access-log", access_log),
    OSTR("--timeframe", timeframe),
    OSTR("--family", family),
    OSTR("--chartjs", chartjs),
    OSTR("--train-threads", train_threads),
    OFLAG("--allow-remote", allow_remote),
    OFLAG("--schedule", schedule),
    OFLAG("--enqueue", enqueue),
    OFLAG("--help", help),
    OFLAG("-h", help),
    OFLAG("--version", version),
    OLONG("--threads", threads, 1, 64),
    OLONG("--max-body", max_body, 1, 1L << 30),
    OLONG("--max-connections", max_conn, 1, 100000),
    OLONG("--timeout", timeout, 1, 86400),
    OLONG("--model-cache", model_cache, 1, 64),
    OLONG("--schedule-every", schedule_every, 1, 86400),
    OLONG("--drain", drain, 0, 3600),
};

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "aifx-serve: %s%s%s\n%s", what, arg ? " " : "", arg ? arg : "", usage);
    return EX_USAGE;
}

static int parse_options(int argc, char **argv, options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *eq = strchr(a, '=');
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        const optdef *d = NULL;
        for (size_t k = 0; k < sizeof optdefs / sizeof optdefs[0]; k++)
            if (strlen(optdefs[k].name) == nl && strncmp(optdefs[k].name, a, nl) == 0)
                d = &optdefs[k];
        if (!d)
            return usage_error("unknown option", a);
        char *dst = (char *)o + d->off;
        if (d->kind == O_FLAG) {
            if (eq)
                return usage_error("takes no value:", a);
            *(int *)(void *)dst = 1;
            continue;
        }
        const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!v || !v[0])
            return usage_error("missing value of", d->name);
        if (d->kind == O_STR) {
            *(const char **)(void *)dst = v;
            continue;
        }
        char *end;
        errno = 0;
        long x = strtol(v, &end, 10);
        if (*end || errno || x < d->min || x > d->max) {
            char what[96];
            snprintf(what, sizeof what, "bad %s (an integer in %ld..%ld):", d->name, d->min,
                     d->max);
            return usage_error(what, v);
        }
        *(long *)(void *)dst = x;
    }
    return EX_OK;
}

/* The token: the file's first line, without its line end. Never printed. */
static int read_token(const char *path, char *out, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "aifx-serve: cannot read the token file %s: %s\n", path, strerror(errno));
        return EX_STORE;
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & 077))
        serve_log_event("token_file_mode", NULL,
                        "the token file is readable by other users; chmod 600 it");
    int ok = fgets(out, (int)size, f) != NULL;
    fclose(f);
    size_t n = ok ? strcspn(out, "\r\n") : 0;
    if (ok)
        out[n] = '\0';
    if (n == 0 || n + 1 >= size) {
        fprintf(stderr,
                "aifx-serve: the token file %s must hold a token of 1 to %zu characters "
                "on its first line\n",
                path, size - 2);
        return EX_STORE;
    }
    return EX_OK;
}

static pthread_t main_thread;

/* A stop or reopen signal delivered to another thread, passed on to main's sigwait
 * (pthread_kill is async-signal-safe in glibc). */
static void forward_signal(int sig)
{
    pthread_kill(main_thread, sig);
}

int main(int argc, char **argv)
{
    options o;
    memset(&o, 0, sizeof o);
    o.listen = "127.0.0.1:8080";
    o.threads = 2;
    o.max_body = 1L << 20;
    o.max_conn = 64;
    o.timeout = 30;
    o.model_cache = 4;
    o.schedule_every = 60;
    o.drain = 10;
    o.chartjs = CHARTJS_DEFAULT;
    o.train_threads = getenv("AIFX_TRAIN_THREADS");
    int ex = parse_options(argc, argv, &o);
    if (ex)
        return ex;
    int n_train_threads = 0;
    if (o.train_threads && tr_train_threads_parse(o.train_threads, &n_train_threads) != 0)
        return usage_error("bad --train-threads (" TR_TRAIN_THREADS_RANGE "):", o.train_threads);
    tr_train_threads_set(n_train_threads);
    if (o.help) {
        fputs(usage, stdout);
        return EX_OK;
    }
    if (o.version) {
        printf("aifx-serve %s (libaifxnn %s)\n", SERVE_VERSION, aifx_version_string());
        return EX_OK;
    }
    if (o.enqueue && !o.schedule)
        return usage_error("--enqueue needs --schedule", NULL);
    int32_t tf = 900;
    if (o.timeframe && tr_timeframe_parse(o.timeframe, &tf))
        return usage_error("bad --timeframe:", o.timeframe);
    if (o.family && !tr_family_is_default(o.family) && !tr_family_name_valid(o.family))
        return usage_error("bad --family:", o.family);
    if (!o.models_dir) {
        const char *md = getenv("AIFX_MODELS_DIR");
        o.models_dir = md && md[0] ? md : NULL;
    }
    static char token[1024];
    if (o.token_file && (ex = read_token(o.token_file, token, sizeof token)))
        return ex;

    /* signals: handled by this thread with sigwait; every thread made later inherits the mask */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    /* threads made before main (OpenBLAS's workers, at load) do not block them: a signal the
     * kernel gives one of them would take its default action and kill the process; forwarded
     * here instead, to this thread's sigwait */
    main_thread = pthread_self();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    serve_config cfg = {
        .store = tr_store_location(o.store),
        .models_dir = o.models_dir,
        .family = o.family,
        .timeframe = tf,
        .token = o.token_file ? token : NULL,
        .max_body = (size_t)o.max_body,
        .model_cache = (int)o.model_cache,
        .web = serve_web_assets,
        .n_web = serve_web_n_assets,
        .chartjs = o.chartjs,
        .schedule_enqueue = o.enqueue,
    };
    serve_ctx *ctx = serve_ctx_new(&cfg);
    if (!ctx) {
        fprintf(stderr, "aifx-serve: out of memory\n");
        return EX_INTERNAL;
    }
    /* the store once at start: a missing directory or a bad location is the operator's to fix
     * now; an unreachable database is not fatal (readyz says 503 until it answers) */
    tr_error e;
    tr_error_clear(&e);
    tr_store *st = serve_store(ctx, &e);
    if (!st && e.code != TR_ERR_STORE) {
        fprintf(stderr, "aifx-serve: %s\n", e.msg);
        serve_ctx_free(ctx);
        return e.code == TR_ERR_NOTFOUND ? EX_NOTFOUND : EX_STORE;
    }
    if (st && !o.timeframe) /* the family's bars */
        ctx->cfg.timeframe = tr_family_timeframe(tr_store_family(st));
    if (st) {
        char msg[1200];
        snprintf(msg, sizeof msg, "store %s", tr_store_name(st));
        serve_log_event("start", NULL, msg);
        tr_code rc = serve_models_sync(ctx->models, st, NULL, &e);
        if (rc)
            serve_log_event("registry_read_failed", NULL, e.msg);
        serve_store_release();
    } else {
        serve_log_event("store_unavailable", NULL, e.msg);
    }

    /* read at each request (a package upgrade needs no restart); missing, the page has no charts */
    if (access(o.chartjs, R_OK) != 0) {
        char msg[1200];
        snprintf(msg, sizeof msg, "Chart.js %.1000s: %s; the dashboard will show no charts",
                 o.chartjs, strerror(errno));
        serve_log_event("chartjs_missing", NULL, msg);
    }

    serve_http_opts ho = {
        .listen = o.listen,
        .allow_remote = o.allow_remote,
        .threads = (unsigned)o.threads,
        .max_conn = (unsigned)o.max_conn,
        .timeout = (unsigned)o.timeout,
        .access_log = o.access_log,
    };
    serve_http *h = serve_http_start(ctx, &ho, &e);
    if (!h) {
        fprintf(stderr, "aifx-serve: %s\n", e.msg);
        serve_ctx_free(ctx);
        return e.code == TR_ERR_INVALID ? EX_USAGE : EX_STORE;
    }
    serve_workers *w = serve_workers_start(ctx, o.schedule, (int)o.schedule_every);
    if (!w) {
        fprintf(stderr, "aifx-serve: cannot start the worker threads\n");
        serve_http_stop(h);
        serve_ctx_free(ctx);
        return EX_INTERNAL;
    }
    char host[64];
    const char *colon = strrchr(o.listen, ':');
    snprintf(host, sizeof host, "%.*s", (int)(colon - o.listen), o.listen);
    printf("aifx-serve: listening on http://%s:%d\n", host, serve_http_port(h));
    fflush(stdout);

    for (;;) {
        int sig = 0;
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            if (serve_http_reopen_log(h))
                serve_log_event("access_log_reopen_failed", NULL, strerror(errno));
            continue;
        }
        break;
    }
    serve_log_event("stop", NULL, "draining requests in flight");
    serve_http_quiesce(h);
    int left = serve_http_drain(h, (double)o.drain);
    if (left > 0) {
        char msg[96];
        snprintf(msg, sizeof msg, "%d requests still in flight after %ld s", left, o.drain);
        serve_log_event("drain_timeout", NULL, msg);
    }
    serve_http_stop(h);
    if (serve_workers_stop(w, (double)o.drain)) {
        serve_log_event("stop", NULL,
                        "a scheduled cycle is still running: it stops with the process and the "
                        "next run-due resumes it");
        /* the scheduler still uses the context: leave both to the exit */
        return EX_OK;
    }
    serve_store_release();
    serve_ctx_free(ctx);
    serve_log_event("stopped", NULL, "");
    return EX_OK;
}
