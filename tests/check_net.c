/*
 * check_net.c - the network object: configuration and argument checks, the parameter layout,
 * Keras initialisation, forward/predict agreement, dropout, determinism, call order, and
 * clean failure under injected allocation failures.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aifxnn.h"
#include "check_kpath.h"
#include "check_main.h"
#include "internal.h"

static aifx_net_config small_config(int n_layers, float dropout)
{
    aifx_net_config c = {.n_in = 5,
                         .n_steps = 6,
                         .n_layers = n_layers,
                         .n_hidden = 8,
                         .n_classes = 3,
                         .max_batch = 7,
                         .dropout = dropout};
    return c;
}

static aifx_net *make_net(int n_layers, float dropout, uint64_t seed)
{
    aifx_net_config c = small_config(n_layers, dropout);
    aifx_net *net;
    ck_assert_int_eq(aifx_net_new(&c, &net), AIFX_OK);
    aifx_rng r;
    aifx_rng_seed(&r, seed);
    ck_assert_int_eq(aifx_net_init(net, &r), AIFX_OK);
    return net;
}

static void fill(aifx_rng *r, size_t n, float *x)
{
    for (size_t i = 0; i < n; i++)
        x[i] = 2.0f * aifx__rng_float(r) - 1.0f;
}

START_TEST(test_config_and_layout)
{
    aifx_net_config d = aifx_net_config_default();
    ck_assert_int_eq(d.n_in, 38);
    ck_assert_int_eq(d.n_steps, 20);
    ck_assert_int_eq(d.n_classes, 3);
    aifx_net *net = make_net(2, 0.0f, 1);
    const int F = 5, H = 8, C = 3;
    /* PyTorch's count less one bias vector per layer */
    size_t want = (size_t)4 * H * F + 4 * H * H + 4 * H + 4 * H * H + 4 * H * H + 4 * H + C * H + C;
    ck_assert_uint_eq(aifx_net_n_params(net), want);
    size_t off;
    int rows, cols;
    ck_assert_int_eq(aifx_net_tensor(net, AIFX_TENSOR_LSTM_W_IH, 1, &off, &rows, &cols), AIFX_OK);
    ck_assert_uint_eq(off, (size_t)4 * H * F + 4 * H * H + 4 * H);
    ck_assert_int_eq(rows, 4 * H);
    ck_assert_int_eq(cols, H);
    ck_assert_int_eq(aifx_net_tensor(net, AIFX_TENSOR_DENSE_B, 0, &off, &rows, &cols), AIFX_OK);
    ck_assert_uint_eq(off, want - C);
    ck_assert_int_eq(aifx_net_tensor(net, AIFX_TENSOR_LSTM_B, 2, &off, &rows, &cols),
                     AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_net_tensor(net, (aifx_tensor)99, 0, &off, &rows, &cols),
                     AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_net_tensor(net, AIFX_TENSOR_LSTM_B, 0, NULL, &rows, &cols),
                     AIFX_ERR_INVALID);
    aifx_net_config got;
    ck_assert_int_eq(aifx_net_get_config(net, &got), AIFX_OK);
    ck_assert_int_eq(got.n_layers, 2);
    ck_assert_uint_eq((uintptr_t)aifx_net_params(net) % AIFX_ALIGN, 0);
    aifx_net_free(net);
    aifx_net_free(NULL);
    ck_assert_uint_eq(aifx_net_n_params(NULL), 0);
    ck_assert_ptr_null(aifx_net_params(NULL));
    ck_assert_ptr_null(aifx_net_grads(NULL));
}
END_TEST

START_TEST(test_config_invalid)
{
    aifx_net *net = (aifx_net *)1;
    aifx_net_config base = small_config(1, 0.0f);
    ck_assert_int_eq(aifx_net_new(NULL, &net), AIFX_ERR_INVALID);
    ck_assert_ptr_null(net);
    ck_assert_int_eq(aifx_net_new(&base, NULL), AIFX_ERR_INVALID);
    aifx_net_config bad[10];
    for (int i = 0; i < 10; i++)
        bad[i] = base;
    bad[0].n_in = 0;
    bad[1].n_steps = -1;
    bad[2].n_layers = 0;
    bad[3].n_layers = AIFX_MAX_LAYERS + 1;
    bad[4].n_hidden = 0;
    bad[5].n_classes = 1;
    bad[6].max_batch = 0;
    bad[7].dropout = 1.0f;
    bad[8].dropout = NAN;
    bad[9].n_steps = 1 << 20; /* T * max_batch would overflow a GEMM dimension */
    bad[9].max_batch = 1 << 20;
    for (int i = 0; i < 10; i++)
        ck_assert_msg(aifx_net_new(&bad[i], &net) == AIFX_ERR_INVALID, "config %d accepted", i);
}
END_TEST

START_TEST(test_init_keras)
{
    aifx_net *net = make_net(2, 0.0f, 7);
    const float *p = aifx_net_params(net);
    const int H = 8, F = 5, C = 3;
    for (int l = 0; l < 2; l++) {
        size_t off;
        int rows, cols;
        /* W_hh (4H, H) has orthonormal columns: W^T W = I */
        aifx_net_tensor(net, AIFX_TENSOR_LSTM_W_HH, l, &off, &rows, &cols);
        for (int a = 0; a < H; a++)
            for (int b = 0; b < H; b++) {
                double dot = 0;
                for (int r = 0; r < 4 * H; r++)
                    dot += (double)p[off + (size_t)r * H + a] * p[off + (size_t)r * H + b];
                ck_assert_double_eq_tol(dot, a == b ? 1.0 : 0.0, 1e-6);
            }
        /* W_ih glorot-uniform within sqrt(6 / (n_in + 4H)), and not all tiny */
        aifx_net_tensor(net, AIFX_TENSOR_LSTM_W_IH, l, &off, &rows, &cols);
        double lim = sqrt(6.0 / ((l == 0 ? F : H) + 4 * H)), amax = 0;
        for (int i = 0; i < rows * cols; i++) {
            ck_assert(fabs(p[off + i]) <= lim);
            amax = fabs(p[off + i]) > amax ? fabs(p[off + i]) : amax;
        }
        ck_assert(amax > 0.8 * lim);
        /* bias: forget block 1, others 0 */
        aifx_net_tensor(net, AIFX_TENSOR_LSTM_B, l, &off, &rows, &cols);
        for (int k = 0; k < 4 * H; k++)
            ck_assert_float_eq(p[off + k], (k >= H && k < 2 * H) ? 1.0f : 0.0f);
    }
    size_t off;
    int rows, cols;
    aifx_net_tensor(net, AIFX_TENSOR_DENSE_W, 0, &off, &rows, &cols);
    for (int i = 0; i < C * H; i++)
        ck_assert(fabs(p[off + i]) <= sqrt(6.0 / (H + C)));
    aifx_net_tensor(net, AIFX_TENSOR_DENSE_B, 0, &off, &rows, &cols);
    for (int i = 0; i < C; i++)
        ck_assert_float_eq(p[off + i], 0.0f);
    /* same seed, same bytes; another seed, other bytes */
    aifx_net *twin = make_net(2, 0.0f, 7), *other = make_net(2, 0.0f, 8);
    size_t bytes = aifx_net_n_params(net) * sizeof(float);
    ck_assert_int_eq(memcmp(aifx_net_params(net), aifx_net_params(twin), bytes), 0);
    ck_assert_int_ne(memcmp(aifx_net_params(net), aifx_net_params(other), bytes), 0);
    ck_assert_int_eq(aifx_net_init(NULL, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_net_init(net, NULL), AIFX_ERR_INVALID);
    aifx_net_free(net);
    aifx_net_free(twin);
    aifx_net_free(other);
}
END_TEST

/* predict (inference path) and forward without dropout give the same probabilities, also for a
 * batch larger than max_batch (predict is not limited by it) and after a larger batch has run. */
START_TEST(test_forward_matches_predict)
{
    if (!kpath_enter(_i))
        return;
    for (int L = 1; L <= 3; L++) {
        aifx_net *net = make_net(L, 0.25f, 11);
        aifx_rng r;
        aifx_rng_seed(&r, 5);
        float x[7 * 6 * 5], pf[7 * 3], pp[7 * 3], h_last[7 * 8], seq[7 * 6 * 8];
        fill(&r, sizeof(x) / sizeof(x[0]), x);
        ck_assert_int_eq(aifx_net_forward(net, 7, x, NULL, pf, NULL, NULL), AIFX_OK);
        /* a smaller batch after a larger one: the first rows must come out the same */
        float pf3[3 * 3];
        ck_assert_int_eq(aifx_net_forward(net, 3, x, NULL, pf3, h_last, seq), AIFX_OK);
        for (int i = 0; i < 9; i++)
            ck_assert_float_eq_tol(pf3[i], pf[i], 1e-6f);
        /* h_last is the last step of seq */
        for (int b = 0; b < 3; b++)
            for (int j = 0; j < 8; j++)
                ck_assert_float_eq(h_last[b * 8 + j], seq[(b * 6 + 5) * 8 + j]);
        ck_assert_int_eq(aifx_net_predict(net, 7, x, pp, NULL), AIFX_OK);
        for (int i = 0; i < 21; i++)
            ck_assert_float_eq_tol(pp[i], pf[i], 1e-6f);
        for (int b = 0; b < 7; b++) {
            double s = pp[b * 3] + pp[b * 3 + 1] + pp[b * 3 + 2];
            ck_assert_double_eq_tol(s, 1.0, 1e-6);
        }
        /* caller workspace, batch 1, and a batch beyond max_batch */
        size_t nw = aifx_net_predict_workspace(net, 1);
        float *w = malloc(nw * sizeof(float));
        float p1[3];
        ck_assert_int_eq(aifx_net_predict(net, 1, x + 6 * 5, p1, w), AIFX_OK);
        for (int j = 0; j < 3; j++)
            ck_assert_float_eq_tol(p1[j], pf[3 + j], 1e-6f);
        free(w);
        float xb[20 * 6 * 5], pb[20 * 3];
        for (int b = 0; b < 20; b++)
            memcpy(xb + b * 30, x + (b % 7) * 30, 30 * sizeof(float));
        ck_assert_int_eq(aifx_net_predict(net, 20, xb, pb, NULL), AIFX_OK);
        for (int b = 0; b < 20; b++)
            for (int j = 0; j < 3; j++)
                ck_assert_float_eq_tol(pb[b * 3 + j], pf[(b % 7) * 3 + j], 1e-6f);
        aifx_net_free(net);
    }
    kpath_leave();
}
END_TEST

START_TEST(test_dropout_training_only)
{
    aifx_net *net = make_net(2, 0.5f, 3);
    aifx_rng r, d1, d2;
    aifx_rng_seed(&r, 9);
    float x[7 * 6 * 5], a[21], b[21], c[21], e[21];
    fill(&r, sizeof(x) / sizeof(x[0]), x);
    aifx_rng_seed(&d1, 1);
    aifx_rng_seed(&d2, 1);
    ck_assert_int_eq(aifx_net_forward(net, 7, x, &d1, a, NULL, NULL), AIFX_OK);
    ck_assert_int_eq(aifx_net_forward(net, 7, x, &d2, b, NULL, NULL), AIFX_OK);
    ck_assert_int_eq(memcmp(a, b, sizeof(a)), 0); /* same generator state, same masks */
    ck_assert_int_eq(aifx_net_forward(net, 7, x, &d1, c, NULL, NULL), AIFX_OK);
    ck_assert_int_ne(memcmp(a, c, sizeof(a)), 0); /* fresh masks */
    ck_assert_int_eq(aifx_net_forward(net, 7, x, NULL, e, NULL, NULL), AIFX_OK);
    ck_assert_int_ne(memcmp(a, e, sizeof(a)), 0); /* evaluation has no dropout */
    /* the head mask holds 0 or 1/(1-p) = 2, about half each, constant across time by design */
    aifx_rng_seed(&d1, 1);
    aifx_net_forward(net, 7, x, &d1, NULL, NULL, NULL);
    int zeros = 0;
    for (int i = 0; i < 7 * 8; i++) {
        ck_assert(net->head_mask[i] == 0.0f || net->head_mask[i] == 2.0f);
        zeros += net->head_mask[i] == 0.0f;
    }
    ck_assert(zeros > 10 && zeros < 46);
    aifx_net_free(net);
}
END_TEST

/* Two training runs from the same seed give the same bytes; the loss falls. */
static void train(uint64_t seed, float *params_out, float *first_loss, float *last_loss)
{
    aifx_net *net = make_net(2, 0.2f, seed);
    aifx_adam *adam;
    aifx_adam_config ac = aifx_adam_config_default();
    ac.lr = 1e-2f;
    ck_assert_int_eq(aifx_adam_new(aifx_net_n_params(net), &ac, &adam), AIFX_OK);
    aifx_rng data, drop;
    aifx_rng_seed(&data, seed + 100);
    aifx_rng_seed(&drop, seed + 200);
    float x[7 * 6 * 5];
    int32_t y[7];
    const float w[3] = {1.0f, 1.0f, 0.5f};
    fill(&data, sizeof(x) / sizeof(x[0]), x);
    for (int b = 0; b < 7; b++) /* class from the sign of the first feature's sum */
    {
        float s = 0;
        for (int t = 0; t < 6; t++)
            s += x[(b * 6 + t) * 5];
        y[b] = s > 0.5f ? 0 : (s < -0.5f ? 1 : 2);
    }
    for (int step = 0; step < 60; step++) {
        float loss;
        ck_assert_int_eq(aifx_net_forward(net, 7, x, &drop, NULL, NULL, NULL), AIFX_OK);
        ck_assert_int_eq(aifx_net_backward(net, y, w, &loss, NULL), AIFX_OK);
        ck_assert_int_eq(
            aifx_clip_grad_norm(aifx_net_n_params(net), aifx_net_grads(net), 5.0f, NULL), AIFX_OK);
        ck_assert_int_eq(aifx_adam_step(adam, aifx_net_params(net), aifx_net_grads(net)), AIFX_OK);
        if (step == 0)
            *first_loss = loss;
        *last_loss = loss;
    }
    memcpy(params_out, aifx_net_params(net), aifx_net_n_params(net) * sizeof(float));
    aifx_adam_free(adam);
    aifx_net_free(net);
}

START_TEST(test_training_deterministic)
{
    if (!kpath_enter(_i))
        return;
    aifx_net_config c = small_config(2, 0.2f);
    aifx_net *probe;
    aifx_net_new(&c, &probe);
    size_t n = aifx_net_n_params(probe);
    aifx_net_free(probe);
    float *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float));
    float l0a, l1a, l0b, l1b;
    train(21, a, &l0a, &l1a);
    train(21, b, &l0b, &l1b);
    ck_assert_int_eq(memcmp(a, b, n * sizeof(float)), 0);
    ck_assert_float_eq(l1a, l1b);
    ck_assert_msg(l1a < 0.5f * l0a, "loss did not fall: %g -> %g", (double)l0a, (double)l1a);
    free(a);
    free(b);
    kpath_leave();
}
END_TEST

/* The thread pool: bad counts are refused; training at 2 threads is reproducible to the byte. On
 * the packed kernel path it also gives the bytes of 1 and 3 threads (3 splits the 7 sequences
 * unevenly; H = 37 makes 4H = 148 weight rows, a 128-row piece and a 20-row one, so the pieces
 * land on different workers at each count): no sum's order depends on the split. The BLAS path
 * hands OpenBLAS row ranges that depend on the split, and OpenBLAS's bits depend on the shape
 * of a call: there it agrees with 1 thread to rounding. */
static void train_threads(int n_threads, size_t n, float *params_out)
{
    aifx_net_config c = small_config(2, 0.2f);
    c.n_hidden = 37;
    c.n_threads = n_threads;
    aifx_net *net;
    ck_assert_int_eq(aifx_net_new(&c, &net), AIFX_OK);
    ck_assert_uint_eq(aifx_net_n_params(net), n);
    aifx_rng r, data, drop;
    aifx_rng_seed(&r, 31);
    ck_assert_int_eq(aifx_net_init(net, &r), AIFX_OK);
    aifx_adam *adam;
    aifx_adam_config ac = aifx_adam_config_default();
    ck_assert_int_eq(aifx_adam_new(n, &ac, &adam), AIFX_OK);
    aifx_rng_seed(&data, 32);
    aifx_rng_seed(&drop, 33);
    float x[7 * 6 * 5];
    int32_t y[7] = {0, 1, 2, 0, 1, 2, 0};
    fill(&data, sizeof(x) / sizeof(x[0]), x);
    for (int step = 0; step < 20; step++) {
        float loss;
        ck_assert_int_eq(aifx_net_forward(net, 7, x, &drop, NULL, NULL, NULL), AIFX_OK);
        ck_assert_int_eq(aifx_net_backward(net, y, NULL, &loss, NULL), AIFX_OK);
        ck_assert_int_eq(aifx_adam_step(adam, aifx_net_params(net), aifx_net_grads(net)), AIFX_OK);
    }
    memcpy(params_out, aifx_net_params(net), n * sizeof(float));
    aifx_adam_free(adam);
    aifx_net_free(net);
}

START_TEST(test_threads)
{
    if (!kpath_enter(_i))
        return;
    aifx_net_config c = small_config(2, 0.2f);
    aifx_net *net = (aifx_net *)1;
    c.n_threads = -1;
    ck_assert_int_eq(aifx_net_new(&c, &net), AIFX_ERR_INVALID);
    c.n_threads = AIFX_MAX_THREADS + 1;
    ck_assert_int_eq(aifx_net_new(&c, &net), AIFX_ERR_INVALID);
    c.n_threads = 1;
    c.n_hidden = 37;
    ck_assert_int_eq(aifx_net_new(&c, &net), AIFX_OK);
    size_t n = aifx_net_n_params(net);
    aifx_net_free(net);
    float *one = malloc(n * sizeof(float)), *a = malloc(n * sizeof(float)),
          *b = malloc(n * sizeof(float)), *three = malloc(n * sizeof(float));
    train_threads(1, n, one);
    train_threads(2, n, a);
    train_threads(2, n, b);
    train_threads(3, n, three);
    ck_assert_int_eq(memcmp(a, b, n * sizeof(float)), 0);
    size_t differ = 0;
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - one[i]);
        differ += memcmp(&a[i], &one[i], sizeof(float)) != 0;
        worst = d > worst ? d : worst;
    }
    if (_i == AIFX_KPATH_AVX2) {
        ck_assert_msg(differ == 0, "2 threads: %zu of %zu parameters differ from 1 (by up to %g)",
                      differ, n, worst);
        ck_assert_int_eq(memcmp(three, one, n * sizeof(float)), 0);
    } else {
        ck_assert_msg(worst < 1e-4, "2 threads drift %g from 1 thread after 20 Adam steps", worst);
    }
    free(one), free(a), free(b), free(three);
    kpath_leave();
}
END_TEST

/* The inference path projects the input in chunks of about 1024 rows: with T * B = 20 * 64 =
 * 1280 it takes several chunks, and must still equal the training forward. */
START_TEST(test_predict_chunked)
{
    if (!kpath_enter(_i))
        return;
    for (int L = 1; L <= 3; L++) {
        aifx_net_config c = {.n_in = 5,
                             .n_steps = 20,
                             .n_layers = L,
                             .n_hidden = 8,
                             .n_classes = 3,
                             .max_batch = 64,
                             .dropout = 0.0f};
        aifx_net *net;
        ck_assert_int_eq(aifx_net_new(&c, &net), AIFX_OK);
        aifx_rng r;
        aifx_rng_seed(&r, 40 + (uint64_t)L);
        ck_assert_int_eq(aifx_net_init(net, &r), AIFX_OK);
        float *x = malloc(sizeof(float) * 64 * 20 * 5), pf[64 * 3], pp[64 * 3];
        fill(&r, 64 * 20 * 5, x);
        ck_assert_int_eq(aifx_net_forward(net, 64, x, NULL, pf, NULL, NULL), AIFX_OK);
        ck_assert_int_eq(aifx_net_predict(net, 64, x, pp, NULL), AIFX_OK);
        for (int i = 0; i < 64 * 3; i++)
            ck_assert_float_eq_tol(pp[i], pf[i], 1e-6f);
        free(x);
        aifx_net_free(net);
    }
    kpath_leave();
}
END_TEST

START_TEST(test_call_errors)
{
    aifx_net *net = make_net(1, 0.0f, 2);
    float x[7 * 6 * 5] = {0}, p[21], loss;
    int32_t y[7] = {0, 1, 2, 0, 1, 2, 0};
    /* backward before any forward, and twice after one */
    ck_assert_int_eq(aifx_net_backward(net, y, NULL, &loss, NULL), AIFX_ERR_STATE);
    ck_assert_int_eq(aifx_net_forward(net, 7, x, NULL, p, NULL, NULL), AIFX_OK);
    ck_assert_int_eq(aifx_net_backward(net, y, NULL, &loss, NULL), AIFX_OK);
    ck_assert_int_eq(aifx_net_backward(net, y, NULL, &loss, NULL), AIFX_ERR_STATE);
    /* bad labels and weights are refused before anything is consumed */
    ck_assert_int_eq(aifx_net_forward(net, 7, x, NULL, p, NULL, NULL), AIFX_OK);
    int32_t bad[7] = {0, 1, 3, 0, 1, 2, 0};
    const float wneg[3] = {1, -1, 1}, winf[3] = {1, INFINITY, 1};
    ck_assert_int_eq(aifx_net_backward(net, bad, NULL, &loss, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_net_backward(net, NULL, NULL, &loss, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_net_backward(net, y, wneg, &loss, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_net_backward(net, y, winf, &loss, NULL), AIFX_ERR_NONFINITE);
    ck_assert_int_eq(aifx_net_backward(net, y, NULL, NULL, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_net_backward(NULL, y, NULL, &loss, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_net_backward(net, y, NULL, &loss, NULL), AIFX_OK);
    /* forward argument checks */
    ck_assert_int_eq(aifx_net_forward(NULL, 7, x, NULL, p, NULL, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_net_forward(net, 0, x, NULL, p, NULL, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_net_forward(net, 8, x, NULL, p, NULL, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_net_forward(net, 7, NULL, NULL, p, NULL, NULL), AIFX_ERR_INVALID);
    x[17] = NAN;
    ck_assert_int_eq(aifx_net_forward(net, 7, x, NULL, p, NULL, NULL), AIFX_ERR_NONFINITE);
    ck_assert_int_eq(aifx_net_backward(net, y, NULL, &loss, NULL), AIFX_ERR_STATE);
    ck_assert_int_eq(aifx_net_predict(net, 7, x, p, NULL), AIFX_ERR_NONFINITE);
    x[17] = -INFINITY;
    ck_assert_int_eq(aifx_net_predict(net, 7, x, p, NULL), AIFX_ERR_NONFINITE);
    x[17] = 0;
    ck_assert_int_eq(aifx_net_predict(NULL, 7, x, p, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_net_predict(net, 0, x, p, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_net_predict(net, 7, NULL, p, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_net_predict(net, 7, x, NULL, NULL), AIFX_ERR_INVALID);
    ck_assert_uint_eq(aifx_net_predict_workspace(NULL, 1), 0);
    ck_assert_uint_eq(aifx_net_predict_workspace(net, 0), 0);
    aifx_net_config got;
    ck_assert_int_eq(aifx_net_get_config(NULL, &got), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_net_get_config(net, NULL), AIFX_ERR_INVALID);
    aifx_net_free(net);
}
END_TEST

START_TEST(test_alloc_failures)
{
    /* make every allocation of net_new fail in turn: NOMEM, NULL out, nothing leaked (ASan) */
    aifx_net_config c = small_config(3, 0.3f);
    int k;
    for (k = 1; k < 200; k++) {
        aifx_net *net = (aifx_net *)1;
        aifx__alloc_fail_after(k);
        aifx_status st = aifx_net_new(&c, &net);
        aifx__alloc_fail_after(0);
        if (st == AIFX_OK) {
            aifx_net_free(net);
            break;
        }
        ck_assert_int_eq(st, AIFX_ERR_NOMEM);
        ck_assert_ptr_null(net);
    }
    ck_assert_msg(k > 10 && k < 200, "net_new made %d allocations", k);
    /* init and predict allocate too */
    aifx_net *net = make_net(1, 0.0f, 4);
    aifx_rng r;
    aifx_rng_seed(&r, 1);
    for (int j = 1; j <= 3; j++) { /* the Gaussian matrix, then QR's tau and diag(R) */
        aifx__alloc_fail_after(j);
        aifx_status st = aifx_net_init(net, &r);
        aifx__alloc_fail_after(0);
        ck_assert_int_eq(st, AIFX_ERR_NOMEM);
    }
    ck_assert_int_eq(aifx_net_init(net, &r), AIFX_OK);
    float x[6 * 5] = {0}, p[3];
    aifx__alloc_fail_after(1);
    ck_assert_int_eq(aifx_net_predict(net, 1, x, p, NULL), AIFX_ERR_NOMEM);
    aifx__alloc_fail_after(0);
    aifx_net_free(net);
}
END_TEST

START_TEST(test_strerror)
{
    for (int s = AIFX_OK; s <= AIFX_ERR_CHECKSUM; s++) {
        const char *t = aifx_strerror((aifx_status)s);
        ck_assert_ptr_nonnull(t);
        ck_assert_str_ne(t, "unknown status");
    }
    ck_assert_str_eq(aifx_strerror((aifx_status)1000), "unknown status");
    ck_assert_str_eq(aifx_version_string(), "0.1.0");
}
END_TEST

static Suite *net_suite(void)
{
    Suite *s = suite_create("net");
    TCase *tc = tcase_create("net");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_config_and_layout);
    tcase_add_test(tc, test_config_invalid);
    tcase_add_test(tc, test_init_keras);
    tcase_add_loop_test(tc, test_forward_matches_predict, 0, AIFX_KPATH_COUNT);
    tcase_add_test(tc, test_dropout_training_only);
    tcase_add_loop_test(tc, test_training_deterministic, 0, AIFX_KPATH_COUNT);
    tcase_add_test(tc, test_call_errors);
    tcase_add_test(tc, test_alloc_failures);
    tcase_add_test(tc, test_strerror);
    tcase_add_loop_test(tc, test_threads, 0, AIFX_KPATH_COUNT);
    tcase_add_loop_test(tc, test_predict_chunked, 0, AIFX_KPATH_COUNT);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(net_suite)
