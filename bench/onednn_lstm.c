/*
 * onednn_lstm.c - aifx-onednn-lstm: the LSTM of aifx-bench's workloads through oneDNN's C API
 * (Debian libdnnl-dev, oneDNN 2.x), for the ratio in compare.sh. Built only when oneDNN is found.
 *
 *   aifx-onednn-lstm [--workload W1|W2|W3|all] [--threads N] [--reps R] [--min-time S] [--json]
 *
 * Per layer one oneDNN LSTM primitive (layer 0: 38 -> H, layer 1: H -> H; oneDNN stacks layers
 * in one primitive only when their input and hidden sizes agree), time-major tnc activations,
 * zero initial state, gates i f g o (oneDNN's order too), one bias per gate.
 *   train    samples/s of: weight reorders from the user's ldigo/ldgo layout into the
 *            primitives' own (weights change every step in training, so these are part of a
 *            step), forward training, backward (data and weights)
 *   infer    sequences/s of forward inference at batch 256 (weights reordered once)
 *   latency  median microseconds of one batch-1 forward inference
 *   rss      ru_maxrss of the process (one process per workload in compare.sh)
 * What it leaves out, against aifx-bench: the dense head, softmax cross-entropy and Adam (the
 * gradient on the top layer's output is a fixed tensor over all T steps, and diff weights stay
 * in oneDNN's layout), and the batch-first to time-major transpose. It cannot skip the input
 * gradient of the first layer, which aifx-bench does not compute. FLOPs per sample use
 * aifx-bench's formula (docs/performance.md), so the GFLOP/s compare like for like.
 * Threads: oneDNN here runs on OpenMP; --threads N re-executes the program with
 * OMP_NUM_THREADS=N when the environment says otherwise (the runtime reads it at load).
 */
#define _POSIX_C_SOURCE 200809L

#include <dnnl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

enum { N_STEPS = 20, N_IN = 38, N_CLASSES = 3, INFER_BATCH = 256, MAX_LAYERS = 2 };

typedef struct workload {
    const char *name;
    int batch, layers, hidden;
} workload;

static const workload workloads[] = {{"W1", 32, 1, 64}, {"W2", 64, 2, 128}, {"W3", 256, 1, 256}};
#define N_WORKLOADS 3

#define CHECK(call)                                                                                \
    do {                                                                                           \
        dnnl_status_t s_ = (call);                                                                 \
        if (s_ != dnnl_success) {                                                                  \
            fprintf(stderr, "aifx-onednn-lstm: %s failed (%d) at line %d\n", #call, (int)s_,       \
                    __LINE__);                                                                     \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static dnnl_engine_t engine;
static dnnl_stream_t stream;

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

static double train_flops(const workload *w)
{
    double fwd = 0.0;
    for (int l = 0; l < w->layers; l++)
        fwd += 2.0 * N_STEPS * 4.0 * w->hidden * ((l == 0 ? N_IN : w->hidden) + w->hidden);
    return 3.0 * (fwd + 2.0 * w->hidden * N_CLASSES);
}

static dnnl_memory_desc_t md(int ndims, const dnnl_dims_t dims, dnnl_format_tag_t tag)
{
    dnnl_memory_desc_t d;
    CHECK(dnnl_memory_desc_init_by_tag(&d, ndims, dims, dnnl_f32, tag));
    return d;
}

static dnnl_memory_t mem(const dnnl_memory_desc_t *d, float fill)
{
    dnnl_memory_t m;
    CHECK(dnnl_memory_create(&m, d, engine, DNNL_MEMORY_ALLOCATE));
    void *p;
    CHECK(dnnl_memory_get_data_handle(m, &p));
    size_t n = dnnl_memory_desc_get_size(d) / sizeof(float);
    float *f = p;
    unsigned s = 12345u;
    for (size_t i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        f[i] = fill * ((float)(s >> 8) / 16777216.0f - 0.5f);
    }
    return m;
}

/* A memory in the layout want; with a reorder from user when the layouts differ. */
typedef struct converted {
    dnnl_memory_t m;
    dnnl_primitive_t reorder; /* NULL when user is already in the layout */
    dnnl_memory_t from;
} converted;

static converted convert(dnnl_memory_t user, const dnnl_memory_desc_t *want)
{
    converted c = {user, NULL, user};
    const dnnl_memory_desc_t *have;
    CHECK(dnnl_memory_get_memory_desc(user, &have));
    if (dnnl_memory_desc_equal(have, want))
        return c;
    dnnl_primitive_desc_t rpd;
    c.m = mem(want, 0.0f);
    CHECK(dnnl_reorder_primitive_desc_create(&rpd, have, engine, want, engine, NULL));
    CHECK(dnnl_primitive_create(&c.reorder, rpd));
    CHECK(dnnl_primitive_desc_destroy(rpd));
    return c;
}

static void run_convert(const converted *c)
{
    if (!c->reorder)
        return;
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, c->from}, {DNNL_ARG_TO, c->m}};
    CHECK(dnnl_primitive_execute(c->reorder, stream, 2, args));
}

typedef struct layer {
    dnnl_primitive_t fwd, bwd, inf;
    converted wl_f, wi_f, wl_b, wi_b, wl_i, wi_i;
    dnnl_memory_t src, bias, dst, ws, diff_src, diff_dst, dwl, dwi, db, inf_src, inf_dst;
} layer;

static const dnnl_memory_desc_t *query(dnnl_primitive_desc_t pd, dnnl_query_t what)
{
    return dnnl_primitive_desc_query_md(pd, what, 0);
}

/* One layer n_in -> H over x (T, B, n_in) given by src (NULL: its own random input). */
static void make_layer(layer *L, int B, int n_in, int H, dnnl_memory_t src, dnnl_memory_t inf_src)
{
    const dnnl_dims_t d_src = {N_STEPS, B, n_in}, d_dst = {N_STEPS, B, H};
    const dnnl_dims_t d_wl = {1, 1, n_in, 4, H}, d_wi = {1, 1, H, 4, H}, d_b = {1, 1, 4, H};
    const dnnl_dims_t d_isrc = {N_STEPS, INFER_BATCH, n_in}, d_idst = {N_STEPS, INFER_BATCH, H};
    dnnl_memory_desc_t m_src = md(3, d_src, dnnl_tnc), m_dst = md(3, d_dst, dnnl_tnc);
    dnnl_memory_desc_t m_wl = md(5, d_wl, dnnl_ldigo), m_wi = md(5, d_wi, dnnl_ldigo);
    dnnl_memory_desc_t m_b = md(4, d_b, dnnl_ldgo);
    dnnl_memory_desc_t a_wl = md(5, d_wl, dnnl_format_tag_any);
    dnnl_memory_desc_t a_wi = md(5, d_wi, dnnl_format_tag_any);
    dnnl_memory_desc_t m_isrc = md(3, d_isrc, dnnl_tnc), m_idst = md(3, d_idst, dnnl_tnc);
    const dnnl_rnn_direction_t dir = dnnl_unidirectional_left2right;

    dnnl_rnn_desc_t fd, bd, id;
    dnnl_primitive_desc_t fpd, bpd, ipd;
    CHECK(dnnl_lstm_forward_desc_init(&fd, dnnl_forward_training, dir, &m_src, NULL, NULL, &a_wl,
                                      &a_wi, &m_b, &m_dst, NULL, NULL, 0));
    CHECK(dnnl_primitive_desc_create(&fpd, &fd, NULL, engine, NULL));
    CHECK(dnnl_lstm_backward_desc_init(&bd, dnnl_backward, dir, &m_src, NULL, NULL, &a_wl, &a_wi,
                                       &m_b, &m_dst, NULL, NULL, &m_src, NULL, NULL, &a_wl, &a_wi,
                                       &m_b, &m_dst, NULL, NULL, 0));
    CHECK(dnnl_primitive_desc_create(&bpd, &bd, NULL, engine, fpd));
    CHECK(dnnl_lstm_forward_desc_init(&id, dnnl_forward_inference, dir, &m_isrc, NULL, NULL, &a_wl,
                                      &a_wi, &m_b, &m_idst, NULL, NULL, 0));
    CHECK(dnnl_primitive_desc_create(&ipd, &id, NULL, engine, NULL));

    dnnl_memory_t wl = mem(&m_wl, 0.2f), wi = mem(&m_wi, 0.2f);
    L->bias = mem(&m_b, 0.1f);
    L->src = src ? src : mem(&m_src, 2.0f);
    L->inf_src = inf_src ? inf_src : mem(&m_isrc, 2.0f);
    L->dst = mem(&m_dst, 0.0f);
    L->inf_dst = mem(&m_idst, 0.0f);
    L->ws = mem(query(fpd, dnnl_query_workspace_md), 0.0f);
    L->diff_src = mem(&m_src, 0.0f);
    L->diff_dst = mem(&m_dst, 0.01f);
    L->dwl = mem(query(bpd, dnnl_query_diff_weights_md), 0.0f);
    L->dwi = mem(dnnl_primitive_desc_query_md(bpd, dnnl_query_diff_weights_md, 1), 0.0f);
    L->db = mem(&m_b, 0.0f);
    L->wl_f = convert(wl, dnnl_primitive_desc_query_md(fpd, dnnl_query_weights_md, 0));
    L->wi_f = convert(wi, dnnl_primitive_desc_query_md(fpd, dnnl_query_weights_md, 1));
    L->wl_b = convert(wl, dnnl_primitive_desc_query_md(bpd, dnnl_query_weights_md, 0));
    L->wi_b = convert(wi, dnnl_primitive_desc_query_md(bpd, dnnl_query_weights_md, 1));
    L->wl_i = convert(wl, dnnl_primitive_desc_query_md(ipd, dnnl_query_weights_md, 0));
    L->wi_i = convert(wi, dnnl_primitive_desc_query_md(ipd, dnnl_query_weights_md, 1));
    CHECK(dnnl_primitive_create(&L->fwd, fpd));
    CHECK(dnnl_primitive_create(&L->bwd, bpd));
    CHECK(dnnl_primitive_create(&L->inf, ipd));
    dnnl_primitive_desc_destroy(fpd);
    dnnl_primitive_desc_destroy(bpd);
    dnnl_primitive_desc_destroy(ipd);
    run_convert(&L->wl_i);
    run_convert(&L->wi_i);
}

static void zero(dnnl_memory_t m)
{
    void *p;
    const dnnl_memory_desc_t *d;
    CHECK(dnnl_memory_get_data_handle(m, &p));
    CHECK(dnnl_memory_get_memory_desc(m, &d));
    memset(p, 0, dnnl_memory_desc_get_size(d));
}

static void train_step(layer *ls, int n)
{
    for (int l = 0; l < n; l++) {
        layer *L = &ls[l];
        run_convert(&L->wl_f);
        run_convert(&L->wi_f);
        dnnl_exec_arg_t a[6] = {
            {DNNL_ARG_SRC_LAYER, L->src},       {DNNL_ARG_WEIGHTS_LAYER, L->wl_f.m},
            {DNNL_ARG_WEIGHTS_ITER, L->wi_f.m}, {DNNL_ARG_BIAS, L->bias},
            {DNNL_ARG_DST_LAYER, L->dst},       {DNNL_ARG_WORKSPACE, L->ws}};
        CHECK(dnnl_primitive_execute(L->fwd, stream, 6, a));
    }
    for (int l = n - 1; l >= 0; l--) {
        layer *L = &ls[l];
        run_convert(&L->wl_b);
        run_convert(&L->wi_b);
        zero(L->dwl), zero(L->dwi), zero(L->db);
        dnnl_exec_arg_t a[11] = {{DNNL_ARG_SRC_LAYER, L->src},
                                 {DNNL_ARG_WEIGHTS_LAYER, L->wl_b.m},
                                 {DNNL_ARG_WEIGHTS_ITER, L->wi_b.m},
                                 {DNNL_ARG_BIAS, L->bias},
                                 {DNNL_ARG_DST_LAYER, L->dst},
                                 {DNNL_ARG_WORKSPACE, L->ws},
                                 {DNNL_ARG_DIFF_DST_LAYER, L->diff_dst},
                                 {DNNL_ARG_DIFF_SRC_LAYER, L->diff_src},
                                 {DNNL_ARG_DIFF_WEIGHTS_LAYER, L->dwl},
                                 {DNNL_ARG_DIFF_WEIGHTS_ITER, L->dwi},
                                 {DNNL_ARG_DIFF_BIAS, L->db}};
        CHECK(dnnl_primitive_execute(L->bwd, stream, 11, a));
    }
    CHECK(dnnl_stream_wait(stream));
}

static void infer(layer *ls, int n)
{
    for (int l = 0; l < n; l++) {
        layer *L = &ls[l];
        dnnl_exec_arg_t a[5] = {{DNNL_ARG_SRC_LAYER, L->inf_src},
                                {DNNL_ARG_WEIGHTS_LAYER, L->wl_i.m},
                                {DNNL_ARG_WEIGHTS_ITER, L->wi_i.m},
                                {DNNL_ARG_BIAS, L->bias},
                                {DNNL_ARG_DST_LAYER, L->inf_dst}};
        CHECK(dnnl_primitive_execute(L->inf, stream, 5, a));
    }
    CHECK(dnnl_stream_wait(stream));
}

static double per_call_train(layer *ls, int n, double min_s)
{
    long calls = 0;
    double t0 = now_s(), t1;
    do {
        train_step(ls, n);
        calls++;
        t1 = now_s();
    } while (t1 - t0 < min_s);
    return (t1 - t0) / (double)calls;
}

static double per_call_infer(layer *ls, int n, double min_s)
{
    long calls = 0;
    double t0 = now_s(), t1;
    do {
        infer(ls, n);
        calls++;
        t1 = now_s();
    } while (t1 - t0 < min_s);
    return (t1 - t0) / (double)calls;
}

typedef struct figures {
    double train_sps, step_s, infer_sps, latency_us, rss_mib;
} figures;

static void run(const workload *w, int reps, double min_s, figures *f)
{
    layer ls[MAX_LAYERS], l1[MAX_LAYERS];
    double t[64];
    /* training and batch-256 inference */
    for (int l = 0; l < w->layers; l++)
        make_layer(&ls[l], w->batch, l == 0 ? N_IN : w->hidden, w->hidden, l ? ls[l - 1].dst : NULL,
                   l ? ls[l - 1].inf_dst : NULL);
    for (int l = 1; l < w->layers; l++) /* the gradient flows down */
        ls[l - 1].diff_dst = ls[l].diff_src;
    per_call_train(ls, w->layers, min_s);
    for (int k = 0; k < reps; k++)
        t[k] = per_call_train(ls, w->layers, min_s);
    f->step_s = median(t, reps);
    f->train_sps = w->batch / f->step_s;
    per_call_infer(ls, w->layers, min_s);
    for (int k = 0; k < reps; k++)
        t[k] = per_call_infer(ls, w->layers, min_s);
    f->infer_sps = INFER_BATCH / median(t, reps);
    /* batch-1 latency: training primitives are built for batch 1 too, only inference is timed */
    for (int l = 0; l < w->layers; l++)
        make_layer(&l1[l], 1, l == 0 ? N_IN : w->hidden, w->hidden, NULL,
                   l ? l1[l - 1].inf_dst : NULL);
    static double lat[20000];
    int n = 0;
    /* l1's inference primitives are for batch 256: build batch-1 ones on l1's weights */
    {
        const dnnl_dims_t d_x = {N_STEPS, 1, N_IN};
        dnnl_memory_desc_t m_x = md(3, d_x, dnnl_tnc);
        dnnl_memory_t x1 = mem(&m_x, 2.0f);
        dnnl_primitive_t p1[MAX_LAYERS];
        dnnl_memory_t out1[MAX_LAYERS], wl1[MAX_LAYERS], wi1[MAX_LAYERS];
        for (int l = 0; l < w->layers; l++) {
            int n_in = l == 0 ? N_IN : w->hidden, H = w->hidden;
            const dnnl_dims_t d_src = {N_STEPS, 1, n_in}, d_dst = {N_STEPS, 1, H};
            const dnnl_dims_t d_wl = {1, 1, n_in, 4, H}, d_wi = {1, 1, H, 4, H}, d_b = {1, 1, 4, H};
            dnnl_memory_desc_t m_src = md(3, d_src, dnnl_tnc), m_dst = md(3, d_dst, dnnl_tnc);
            dnnl_memory_desc_t a_wl = md(5, d_wl, dnnl_format_tag_any);
            dnnl_memory_desc_t a_wi = md(5, d_wi, dnnl_format_tag_any), m_b = md(4, d_b, dnnl_ldgo);
            dnnl_rnn_desc_t id;
            dnnl_primitive_desc_t ipd;
            CHECK(dnnl_lstm_forward_desc_init(&id, dnnl_forward_inference,
                                              dnnl_unidirectional_left2right, &m_src, NULL, NULL,
                                              &a_wl, &a_wi, &m_b, &m_dst, NULL, NULL, 0));
            CHECK(dnnl_primitive_desc_create(&ipd, &id, NULL, engine, NULL));
            converted cl = convert(l1[l].wl_f.from,
                                   dnnl_primitive_desc_query_md(ipd, dnnl_query_weights_md, 0));
            converted ci = convert(l1[l].wi_f.from,
                                   dnnl_primitive_desc_query_md(ipd, dnnl_query_weights_md, 1));
            run_convert(&cl);
            run_convert(&ci);
            wl1[l] = cl.m, wi1[l] = ci.m;
            out1[l] = mem(&m_dst, 0.0f);
            CHECK(dnnl_primitive_create(&p1[l], ipd));
            dnnl_primitive_desc_destroy(ipd);
        }
        double budget = min_s * reps, t0 = now_s();
        for (int k = -20; n < 20000 && (n < 100 || now_s() - t0 < budget); k++) {
            double s = now_s();
            dnnl_memory_t in = x1;
            for (int l = 0; l < w->layers; l++) {
                dnnl_exec_arg_t a[5] = {{DNNL_ARG_SRC_LAYER, in},
                                        {DNNL_ARG_WEIGHTS_LAYER, wl1[l]},
                                        {DNNL_ARG_WEIGHTS_ITER, wi1[l]},
                                        {DNNL_ARG_BIAS, l1[l].bias},
                                        {DNNL_ARG_DST_LAYER, out1[l]}};
                CHECK(dnnl_primitive_execute(p1[l], stream, 5, a));
                in = out1[l];
            }
            CHECK(dnnl_stream_wait(stream));
            if (k >= 0)
                lat[n++] = now_s() - s;
        }
    }
    f->latency_us = 1e6 * median(lat, n);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    f->rss_mib = (double)ru.ru_maxrss / 1024.0;
}

int main(int argc, char **argv)
{
    int which = -1, threads = 0, reps = 5, json = 0;
    double min_s = 0.2;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : "";
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--workload") == 0 && i + 1 < argc) {
            i++;
            which = -2;
            if (strcmp(v, "all") == 0)
                which = -1;
            for (int k = 0; k < N_WORKLOADS; k++)
                if (strcmp(v, workloads[k].name) == 0)
                    which = k;
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            i++;
            threads = atoi(v);
        } else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            i++;
            reps = atoi(v);
        } else if (strcmp(argv[i], "--min-time") == 0 && i + 1 < argc) {
            i++;
            min_s = atof(v);
        } else {
            which = -2;
        }
    }
    if (which == -2 || threads < 0 || threads > 64 || reps < 1 || reps > 64 || !(min_s > 0.0)) {
        fprintf(stderr, "usage: aifx-onednn-lstm [--workload W1|W2|W3|all] [--threads N] "
                        "[--reps R] [--min-time S] [--json]\n");
        return 2;
    }
    const char *omp = getenv("OMP_NUM_THREADS");
    if (threads > 0 && (!omp || atoi(omp) != threads)) {
        char buf[16];
        snprintf(buf, sizeof(buf), "%d", threads);
        setenv("OMP_NUM_THREADS", buf, 1);
        execv("/proc/self/exe", argv);
        fprintf(stderr, "aifx-onednn-lstm: cannot re-execute with OMP_NUM_THREADS: %s\n",
                strerror(errno));
        return 1;
    }
    CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
    const dnnl_version_t *ver = dnnl_version();
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
    figures f[N_WORKLOADS];
    for (int k = 0; k < N_WORKLOADS; k++)
        if (which < 0 || which == k)
            run(&workloads[k], reps, min_s, &f[k]);
    const char *ompv = getenv("OMP_NUM_THREADS");
    if (json) {
        printf("{\"program\": \"onednn\", \"date\": \"%s\", \"blas\": \"oneDNN %d.%d.%d (%s)\", "
               "\"OMP_NUM_THREADS\": \"%s\", \"OPENBLAS_CORETYPE\": \"%s\", \"threads\": %d, "
               "\"workloads\": [",
               date, ver->major, ver->minor, ver->patch,
               ver->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "other", ompv ? ompv : "",
               getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "",
               ompv ? atoi(ompv) : 0);
        int first = 1;
        for (int k = 0; k < N_WORKLOADS; k++) {
            if (which >= 0 && which != k)
                continue;
            const workload *w = &workloads[k];
            double fl = train_flops(w);
            printf("%s\n  {\"workload\": \"%s\", \"batch\": %d, \"layers\": %d, \"hidden\": %d, "
                   "\"train_samples_per_s\": %.1f, \"train_step_ms\": %.4f, "
                   "\"infer_seq_per_s_b256\": %.1f, \"latency_b1_us\": %.2f, "
                   "\"peak_rss_mib\": %.1f, \"flops_per_train_sample\": %.0f, "
                   "\"train_gflops\": %.2f}",
                   first ? "" : ",", w->name, w->batch, w->layers, w->hidden, f[k].train_sps,
                   1e3 * f[k].step_s, f[k].infer_sps, f[k].latency_us, f[k].rss_mib, fl,
                   fl * f[k].train_sps / 1e9);
            first = 0;
        }
        printf("\n]}\n");
    } else {
        printf("aifx-onednn-lstm  oneDNN %d.%d.%d  %s  OMP_NUM_THREADS=%s\n", ver->major,
               ver->minor, ver->patch, date, ompv ? ompv : "<unset>");
        printf("%-3s | %10s %8s | %10s | %9s | %8s\n", "wl", "train/s", "GFLOP/s", "infer/s",
               "lat b1 us", "rss MiB");
        for (int k = 0; k < N_WORKLOADS; k++)
            if (which < 0 || which == k)
                printf("%-3s | %10.0f %8.1f | %10.0f | %9.1f | %8.1f\n", workloads[k].name,
                       f[k].train_sps, train_flops(&workloads[k]) * f[k].train_sps / 1e9,
                       f[k].infer_sps, f[k].latency_us, f[k].rss_mib);
    }
    return 0;
}
