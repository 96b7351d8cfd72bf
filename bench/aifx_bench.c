/*
 * aifx_bench.c - aifx-bench: training, inference and latency figures of libaifxnn on the fixed
 * workloads of issue 4, next to the sgemm peak of the same OpenBLAS in the same run.
 *
 * Workloads (all: x (B, T=20, F=38), gates i f g o, zero initial state, dense H -> 3 on the last
 * step, class weights [1, 1, 0.5], Adam lr 1e-3, no dropout):
 *   W1 "seed"     B  32, 1 layer, H  64
 *   W2 "stacked"  B  64, 2 layers, H 128
 *   W3 "wide"     B 256, 1 layer, H 256
 * Figures per workload, each the median of --reps repetitions after a warm-up:
 *   train    samples/s of a full step: aifx_net_forward + aifx_net_backward + aifx_adam_step
 *   infer    sequences/s of aifx_net_predict at batch 256 (with --threads N, N threads each
 *            predict B/N sequences on the one net: the API's documented way to parallelise it)
 *   latency  median microseconds of one batch-1 aifx_net_predict, over many single calls
 *   rss      peak resident memory (getrusage ru_maxrss) of the process that ran the workload
 * FLOPs per training sample are counted analytically (docs/performance.md):
 *   fwd = sum_l 2 T 4H (n_in_l + H) + 2 H C,  train = 3 fwd  (each forward GEMM has two
 *   backward GEMMs of the same size: the weight gradient and the input gradient);
 * achieved GFLOP/s = train FLOPs * samples/s, and its fraction of cblas_sgemm's GFLOP/s on a
 * 2048^3 product measured in this run with OpenBLAS at --threads threads.
 *
 * Threads: --threads N sets the net's n_threads (the library splits the batch over N workers,
 * each calling single-threaded BLAS) and the sgemm probe's OpenBLAS threads. The OpenBLAS thread
 * count in force during the workloads is 1 unless --blas-threads M says otherwise. The library
 * itself never changes the BLAS thread count; this program does, and prints what is in force.
 *
 * Memory: each workload and the sgemm probe run in a forked child process, so that each peak
 * RSS belongs to one workload alone and the probe's 48 MiB of matrices count for none of them.
 *
 * Exit status: 0 success, 1 a library call failed, 2 bad command line.
 */
#define _POSIX_C_SOURCE 200809L

#include <cblas.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aifxnn.h"

enum { N_STEPS = 20, N_IN = 38, N_CLASSES = 3, INFER_BATCH = 256, MAX_WORKERS = 64 };

typedef struct workload {
    const char *name;
    const char *label;
    int batch;
    int layers;
    int hidden;
} workload;

static const workload workloads[] = {
    {"W1", "seed", 32, 1, 64},
    {"W2", "stacked", 64, 2, 128},
    {"W3", "wide", 256, 1, 256},
};
#define N_WORKLOADS ((int)(sizeof(workloads) / sizeof(workloads[0])))

typedef struct options {
    int which;        /* index into workloads, or -1 for all */
    int threads;      /* library threads and sgemm-probe BLAS threads */
    int blas_threads; /* OpenBLAS threads during the workloads */
    int json;
    int reps;         /* timed repetitions per figure */
    double min_rep_s; /* minimum duration of one repetition */
    int skip_peak;    /* skip the sgemm probe */
    int only;         /* 0 every figure, 1 training only, 2 inference only (for perf record) */
} options;

/* What one child process sends back through its pipe. */
typedef struct result {
    int ok;
    double train_step_s;   /* median seconds per training step */
    double train_sps;      /* samples/s */
    double infer_sps;      /* sequences/s at batch 256 */
    double latency_us;     /* median batch-1 predict */
    double rss_mib;        /* ru_maxrss */
    double sgemm_gflops;   /* probe only */
    double final_loss;     /* last training loss (a sanity figure) */
    int blas_threads_used; /* openblas_get_num_threads() in the child */
} result;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double peak_rss_mib(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1.0;
    return (double)ru.ru_maxrss / 1024.0; /* Linux: kilobytes */
}

/* Analytic FLOPs of one training sample; see the file comment. */
static double train_flops(const workload *w)
{
    double fwd = 0.0;
    for (int l = 0; l < w->layers; l++) {
        double n_in = l == 0 ? N_IN : w->hidden;
        fwd += 2.0 * N_STEPS * 4.0 * w->hidden * (n_in + w->hidden);
    }
    fwd += 2.0 * w->hidden * N_CLASSES;
    return 3.0 * fwd;
}

/* ---- the sgemm probe: C (n, n) = A B, n = 2048 --------------------------------------------- */

static void probe_sgemm(const options *o, result *r)
{
    const int n = 2048;
    const size_t nn = (size_t)n * n;
    float *a = malloc(nn * sizeof(float)), *b = malloc(nn * sizeof(float));
    float *c = malloc(nn * sizeof(float));
    if (!a || !b || !c) {
        free(a), free(b), free(c);
        return;
    }
    for (size_t i = 0; i < nn; i++) {
        a[i] = (float)((i * 7) % 13) / 13.0f - 0.5f;
        b[i] = (float)((i * 5) % 11) / 11.0f - 0.5f;
        c[i] = 0.0f;
    }
    openblas_set_num_threads(o->threads);
    r->blas_threads_used = openblas_get_num_threads();
    double t[16];
    const int reps = o->reps < 3 ? 3 : (o->reps > 16 ? 16 : o->reps);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c,
                n); /* warm-up */
    for (int k = 0; k < reps; k++) {
        double t0 = now_s();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c,
                    n);
        t[k] = now_s() - t0;
    }
    r->sgemm_gflops = 2.0 * n * (double)n * n / median(t, reps) / 1e9;
    r->ok = 1;
    free(a), free(b), free(c);
}

/* ---- inference: N threads each predict a slice of the batch on the one net ------------------ */

typedef struct predict_job {
    const aifx_net *net;
    int n_batch;
    const float *x; /* (n_batch, T, F) */
    float *probs;   /* (n_batch, C) */
    float *work;
    aifx_status st;
} predict_job;

static void *predict_worker(void *arg)
{
    predict_job *j = arg;
    j->st = aifx_net_predict(j->net, j->n_batch, j->x, j->probs, j->work);
    return NULL;
}

/* Runs n_jobs predictions, jobs 1.. on new threads and job 0 on this one. */
static aifx_status predict_parallel(predict_job *jobs, int n_jobs)
{
    pthread_t tid[MAX_WORKERS];
    int started = 0;
    for (int k = 1; k < n_jobs; k++, started++)
        if (pthread_create(&tid[k], NULL, predict_worker, &jobs[k]) != 0)
            break;
    predict_worker(&jobs[0]);
    for (int k = 1; k <= started; k++)
        pthread_join(tid[k], NULL);
    if (started != n_jobs - 1)
        return AIFX_ERR_NOMEM;
    for (int k = 0; k < n_jobs; k++)
        if (jobs[k].st != AIFX_OK)
            return jobs[k].st;
    return AIFX_OK;
}

/* ---- one workload ---------------------------------------------------------------------------- */

static int check(aifx_status st, const char *what)
{
    if (st == AIFX_OK)
        return 0;
    fprintf(stderr, "aifx-bench: %s failed: %s\n", what, aifx_strerror(st));
    return 1;
}

static int fill_random(aifx_rng *rng, size_t n, float *x)
{
    for (size_t i = 0; i < n; i++) {
        float u;
        if (aifx_rng_uniform(rng, &u) != AIFX_OK)
            return 1;
        x[i] = 2.0f * u - 1.0f;
    }
    return 0;
}

/* Repeats fn until min_s has passed; returns seconds per call. */
typedef int (*step_fn)(void *ctx);

static int time_calls(step_fn fn, void *ctx, double min_s, double *per_call)
{
    long calls = 0;
    double t0 = now_s(), t1;
    do {
        if (fn(ctx))
            return 1;
        calls++;
        t1 = now_s();
    } while (t1 - t0 < min_s);
    *per_call = (t1 - t0) / (double)calls;
    return 0;
}

typedef struct train_ctx {
    aifx_net *net;
    aifx_adam *adam;
    int batch;
    const float *x;
    const int32_t *labels;
    const float *class_weights;
    float loss;
} train_ctx;

static int train_step(void *arg)
{
    train_ctx *c = arg;
    return check(aifx_net_forward(c->net, c->batch, c->x, NULL, NULL, NULL, NULL), "forward") ||
           check(aifx_net_backward(c->net, c->labels, c->class_weights, &c->loss, NULL),
                 "backward") ||
           check(aifx_adam_step(c->adam, aifx_net_params(c->net), aifx_net_grads(c->net)),
                 "adam_step");
}

typedef struct infer_ctx {
    predict_job *jobs;
    int n_jobs;
} infer_ctx;

static int infer_call(void *arg)
{
    infer_ctx *c = arg;
    return check(predict_parallel(c->jobs, c->n_jobs), "predict");
}

static void run_workload(const workload *w, const options *o, result *r)
{
    openblas_set_num_threads(o->blas_threads);
    r->blas_threads_used = openblas_get_num_threads();

    aifx_net_config cfg = aifx_net_config_default();
    cfg.n_in = N_IN;
    cfg.n_steps = N_STEPS;
    cfg.n_layers = w->layers;
    cfg.n_hidden = w->hidden;
    cfg.n_classes = N_CLASSES;
    cfg.max_batch = w->batch;
    cfg.dropout = 0.0f;
    cfg.n_threads = o->threads;

    const size_t seq = (size_t)N_STEPS * N_IN;
    const int n_jobs = o->threads < INFER_BATCH ? o->threads : INFER_BATCH;
    const float class_weights[N_CLASSES] = {1.0f, 1.0f, 0.5f};
    aifx_net *net = NULL;
    aifx_adam *adam = NULL;
    aifx_rng rng;
    float *x = malloc(INFER_BATCH * seq * sizeof(float));           /* (256, T, F) */
    float *probs = malloc(INFER_BATCH * N_CLASSES * sizeof(float)); /* (256, C) */
    int32_t *labels = malloc((size_t)w->batch * sizeof(int32_t));   /* (B) */
    float *work[MAX_WORKERS] = {NULL};
    predict_job jobs[MAX_WORKERS];
    double t[64];
    const int reps = o->reps > 64 ? 64 : o->reps;
    aifx_adam_config acfg = aifx_adam_config_default();
    acfg.lr = 1e-3f;

    if (!x || !probs || !labels || check(aifx_rng_seed(&rng, 42), "rng_seed") ||
        fill_random(&rng, INFER_BATCH * seq, x) || check(aifx_net_new(&cfg, &net), "net_new") ||
        check(aifx_net_init(net, &rng), "net_init") ||
        check(aifx_adam_new(aifx_net_n_params(net), &acfg, &adam), "adam_new"))
        goto out;
    for (int b = 0; b < w->batch; b++) {
        uint64_t u;
        aifx_rng_u64(&rng, &u);
        labels[b] = (int32_t)(u % N_CLASSES);
    }

    /* training */
    train_ctx tc = {net, adam, w->batch, x, labels, class_weights, 0.0f};
    if (o->only == 2)
        goto inference;
    if (time_calls(train_step, &tc, o->min_rep_s, &t[0])) /* warm-up */
        goto out;
    for (int k = 0; k < reps; k++)
        if (time_calls(train_step, &tc, o->min_rep_s, &t[k]))
            goto out;
    r->train_step_s = median(t, reps);
    r->train_sps = w->batch / r->train_step_s;
    r->final_loss = tc.loss;
    if (o->only == 1)
        goto done;

inference:
    /* inference at batch 256, the batch split over n_jobs threads */
    for (int k = 0; k < n_jobs; k++) {
        int b0 = INFER_BATCH * k / n_jobs, b1 = INFER_BATCH * (k + 1) / n_jobs;
        jobs[k] = (predict_job){net,  b1 - b0, x + (size_t)b0 * seq, probs + (size_t)b0 * N_CLASSES,
                                NULL, AIFX_OK};
        work[k] = malloc(aifx_net_predict_workspace(net, b1 - b0) * sizeof(float));
        if (!work[k])
            goto out;
        jobs[k].work = work[k];
    }
    infer_ctx ic = {jobs, n_jobs};
    if (time_calls(infer_call, &ic, o->min_rep_s, &t[0]))
        goto out;
    for (int k = 0; k < reps; k++)
        if (time_calls(infer_call, &ic, o->min_rep_s, &t[k]))
            goto out;
    r->infer_sps = INFER_BATCH / median(t, reps);
    if (o->only == 2)
        goto done;

    /* batch-1 latency: every call timed on its own */
    {
        enum { MAX_CALLS = 20000 };
        static double lat[MAX_CALLS];
        int n = 0;
        double t0 = now_s(), budget = o->min_rep_s * reps;
        for (int k = 0; k < 20; k++) /* warm-up */
            if (check(aifx_net_predict(net, 1, x, probs, work[0]), "predict"))
                goto out;
        while (n < MAX_CALLS && (n < 100 || now_s() - t0 < budget)) {
            double s = now_s();
            if (check(aifx_net_predict(net, 1, x + (size_t)(n % INFER_BATCH) * seq, probs, work[0]),
                      "predict"))
                goto out;
            lat[n++] = now_s() - s;
        }
        r->latency_us = 1e6 * median(lat, n);
    }
done:
    r->rss_mib = peak_rss_mib();
    r->ok = 1;
out:
    for (int k = 0; k < MAX_WORKERS; k++)
        free(work[k]);
    aifx_adam_free(adam);
    aifx_net_free(net);
    free(x), free(probs), free(labels);
}

/* ---- child processes ------------------------------------------------------------------------- */

/* Runs fn in a forked child and copies its result back; 0 on success. */
static int in_child(void (*fn)(const workload *, const options *, result *), const workload *w,
                    const options *o, result *r)
{
    int fd[2];
    memset(r, 0, sizeof(*r));
    if (pipe(fd) != 0)
        return 1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]), close(fd[1]);
        return 1;
    }
    if (pid == 0) {
        close(fd[0]);
        result cr;
        memset(&cr, 0, sizeof(cr));
        fn(w, o, &cr);
        ssize_t n = write(fd[1], &cr, sizeof(cr));
        _exit(n == (ssize_t)sizeof(cr) && cr.ok ? 0 : 1);
    }
    close(fd[1]);
    size_t got = 0;
    while (got < sizeof(*r)) {
        ssize_t n = read(fd[0], (char *)r + got, sizeof(*r) - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return !(got == sizeof(*r) && WIFEXITED(status) && WEXITSTATUS(status) == 0 && r->ok);
}

static void probe_adapter(const workload *w, const options *o, result *r)
{
    (void)w;
    probe_sgemm(o, r);
}

/* ---- environment ----------------------------------------------------------------------------- */

static void cpu_model(char *buf, size_t n)
{
    snprintf(buf, n, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *p = strchr(line, ':');
            if (p) {
                p++;
                while (*p == ' ' || *p == '\t')
                    p++;
                p[strcspn(p, "\n")] = '\0';
                snprintf(buf, n, "%s", p);
            }
            break;
        }
    }
    fclose(f);
}

static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

static void usage(FILE *f)
{
    fprintf(f, "usage: aifx-bench [--workload W1|W2|W3|all] [--threads N] [--blas-threads M]\n"
               "                  [--reps R] [--min-time SECONDS] [--no-peak] [--json]\n"
               "                  [--only train|infer]\n"
               "  --threads N       library threads (aifx_net_config.n_threads) and the OpenBLAS\n"
               "                    threads of the 2048^3 sgemm probe (default 1)\n"
               "  --blas-threads M  OpenBLAS threads during the workloads (default 1)\n"
               "  --reps R          timed repetitions per figure, medians reported (default 5)\n"
               "  --min-time S      minimum seconds per repetition (default 0.2)\n"
               "  --no-peak         skip the sgemm probe\n"
               "  --json            one JSON object on stdout instead of the table\n"
               "  --only WHAT       only the training or only the batch-256 inference figure (a\n"
               "                    process for perf record to sample); the others print as 0\n");
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi)
        return 1;
    *out = (int)v;
    return 0;
}

int main(int argc, char **argv)
{
    options o = {-1, 1, 1, 0, 5, 0.2, 0, 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0) {
            o.json = 1;
        } else if (strcmp(a, "--no-peak") == 0) {
            o.skip_peak = 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (v && strcmp(a, "--workload") == 0) {
            i++;
            o.which = -2;
            if (strcmp(v, "all") == 0)
                o.which = -1;
            for (int k = 0; k < N_WORKLOADS; k++)
                if (strcmp(v, workloads[k].name) == 0)
                    o.which = k;
            if (o.which == -2) {
                fprintf(stderr, "aifx-bench: unknown workload '%s'\n", v);
                return 2;
            }
        } else if (v && strcmp(a, "--only") == 0) {
            i++;
            if (strcmp(v, "train") == 0) {
                o.only = 1;
            } else if (strcmp(v, "infer") == 0) {
                o.only = 2;
            } else {
                fprintf(stderr, "aifx-bench: --only wants train or infer, not '%s'\n", v);
                return 2;
            }
        } else if (v && strcmp(a, "--threads") == 0) {
            i++;
            if (parse_int(v, 1, MAX_WORKERS, &o.threads)) {
                fprintf(stderr, "aifx-bench: --threads wants 1..%d, not '%s'\n", MAX_WORKERS, v);
                return 2;
            }
        } else if (v && strcmp(a, "--blas-threads") == 0) {
            i++;
            if (parse_int(v, 1, MAX_WORKERS, &o.blas_threads)) {
                fprintf(stderr, "aifx-bench: --blas-threads wants 1..%d, not '%s'\n", MAX_WORKERS,
                        v);
                return 2;
            }
        } else if (v && strcmp(a, "--reps") == 0) {
            i++;
            if (parse_int(v, 1, 64, &o.reps)) {
                fprintf(stderr, "aifx-bench: --reps wants 1..64, not '%s'\n", v);
                return 2;
            }
        } else if (v && strcmp(a, "--min-time") == 0) {
            i++;
            char *end;
            o.min_rep_s = strtod(v, &end);
            if (*end || end == v || !(o.min_rep_s > 0.0 && o.min_rep_s < 60.0)) {
                fprintf(stderr, "aifx-bench: --min-time wants seconds in (0, 60), not '%s'\n", v);
                return 2;
            }
        } else {
            usage(stderr);
            return 2;
        }
    }

    char cpu[256], date[64];
    cpu_model(cpu, sizeof(cpu));
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
    const char *coretype = getenv("OPENBLAS_CORETYPE");
    const char *env_threads = getenv("OPENBLAS_NUM_THREADS");
    const char *corename = openblas_get_corename();
    const char *blas_config = openblas_get_config();

    result peak;
    memset(&peak, 0, sizeof(peak));
    if (!o.skip_peak && in_child(probe_adapter, NULL, &o, &peak)) {
        fprintf(stderr, "aifx-bench: the sgemm probe failed\n");
        return 1;
    }

    result res[N_WORKLOADS];
    int status = 0;
    for (int k = 0; k < N_WORKLOADS; k++) {
        memset(&res[k], 0, sizeof(res[k]));
        if (o.which >= 0 && o.which != k)
            continue;
        if (in_child(run_workload, &workloads[k], &o, &res[k])) {
            fprintf(stderr, "aifx-bench: workload %s failed\n", workloads[k].name);
            status = 1;
        }
    }

    if (o.json) {
        printf("{\"program\": \"aifx\", \"date\": \"%s\", \"cpu\": ", date);
        json_string(cpu);
        printf(", \"blas\": ");
        json_string(blas_config ? blas_config : "unknown");
        printf(", \"openblas_corename\": ");
        json_string(corename ? corename : "unknown");
        printf(", \"OPENBLAS_CORETYPE\": ");
        json_string(coretype ? coretype : "");
        printf(", \"OPENBLAS_NUM_THREADS\": ");
        json_string(env_threads ? env_threads : "");
        printf(", \"threads\": %d, \"blas_threads\": %d, \"sgemm_threads\": %d"
               ", \"sgemm_2048_gflops\": %.2f, \"workloads\": [",
               o.threads, o.blas_threads, peak.blas_threads_used, peak.sgemm_gflops);
        int first = 1;
        for (int k = 0; k < N_WORKLOADS; k++) {
            if (!res[k].ok)
                continue;
            const workload *w = &workloads[k];
            double fl = train_flops(w), gf = fl * res[k].train_sps / 1e9;
            printf("%s\n  {\"workload\": \"%s\", \"batch\": %d, \"layers\": %d, \"hidden\": %d, "
                   "\"steps\": %d, \"features\": %d, \"blas_threads_used\": %d, "
                   "\"train_samples_per_s\": %.1f, \"train_step_ms\": %.4f, "
                   "\"infer_seq_per_s_b256\": %.1f, \"latency_b1_us\": %.2f, "
                   "\"peak_rss_mib\": %.1f, \"flops_per_train_sample\": %.0f, "
                   "\"train_gflops\": %.2f, \"frac_sgemm_peak\": %.4f, \"final_loss\": %.5f}",
                   first ? "" : ",", w->name, w->batch, w->layers, w->hidden, N_STEPS, N_IN,
                   res[k].blas_threads_used, res[k].train_sps, 1e3 * res[k].train_step_s,
                   res[k].infer_sps, res[k].latency_us, res[k].rss_mib, fl, gf,
                   peak.sgemm_gflops > 0 ? gf / peak.sgemm_gflops : 0.0, res[k].final_loss);
            first = 0;
        }
        printf("\n]}\n");
    } else {
        printf("aifx-bench  libaifxnn %s  %s\n", aifx_version_string(), date);
        printf("cpu               %s\n", cpu);
        printf("blas              %s\n", blas_config ? blas_config : "unknown");
        printf("openblas core     %s  (OPENBLAS_CORETYPE=%s)\n", corename ? corename : "unknown",
               coretype ? coretype : "<unset>");
        printf("threads           library %d, OpenBLAS in workloads %d, OpenBLAS in sgemm probe "
               "%d  (OPENBLAS_NUM_THREADS=%s)\n",
               o.threads, res[o.which >= 0 ? o.which : 0].blas_threads_used, peak.blas_threads_used,
               env_threads ? env_threads : "<unset>");
        printf("sgemm 2048^3      %.1f GFLOP/s\n", peak.sgemm_gflops);
        printf("repetitions       %d x >= %.2f s after a warm-up; medians\n\n", o.reps,
               o.min_rep_s);
        printf("%-3s %4s %2s %4s | %10s %9s %8s %7s | %10s | %9s | %8s\n", "wl", "B", "L", "H",
               "train/s", "MFLOP/smp", "GFLOP/s", "%peak", "infer/s", "lat b1 us", "rss MiB");
        for (int k = 0; k < N_WORKLOADS; k++) {
            if (!res[k].ok)
                continue;
            const workload *w = &workloads[k];
            double fl = train_flops(w), gf = fl * res[k].train_sps / 1e9;
            printf("%-3s %4d %2d %4d | %10.0f %9.2f %8.1f %6.1f%% | %10.0f | %9.1f | %8.1f\n",
                   w->name, w->batch, w->layers, w->hidden, res[k].train_sps, fl / 1e6, gf,
                   peak.sgemm_gflops > 0 ? 100.0 * gf / peak.sgemm_gflops : 0.0, res[k].infer_sps,
                   res[k].latency_us, res[k].rss_mib);
        }
    }
    return status;
}
