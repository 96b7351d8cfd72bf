/*
 * check_kernel.c - the packed recurrent product (kernel.c) and its dispatch.
 *
 * aifx__gemm_packed against a double reference over odd shapes (rows not a multiple of the
 * 6-row micro-kernel, columns not a multiple of the 16-wide panel, K = 1); both packings; and
 * whole networks of odd shapes (H not a multiple of the vector width, B = 1, T = 1, B above the
 * 48-row block) trained and served on every kernel path this CPU runs: the paths agree to
 * rounding and each is the same to the byte run after run. Speed is measured in bench/ only.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aifxnn.h"
#include "check_kpath.h"
#include "check_main.h"
#include "internal.h"

static void fill(aifx_rng *r, size_t n, float *x)
{
    for (size_t i = 0; i < n; i++)
        x[i] = 2.0f * aifx__rng_float(r) - 1.0f;
}

START_TEST(test_dispatch)
{
    ck_assert(aifx__kernel_path_supported(AIFX_KPATH_BLAS));
    ck_assert(!aifx__kernel_path_supported(AIFX_KPATH_COUNT));
    ck_assert(!aifx__set_kernel_path(AIFX_KPATH_COUNT));
    const int chosen = aifx__kernel_path();
    ck_assert(aifx__kernel_path_supported(chosen));
    ck_assert(aifx__set_kernel_path(AIFX_KPATH_BLAS));
    ck_assert_int_eq(aifx__kernel_path(), AIFX_KPATH_BLAS);
    kpath_leave();
    ck_assert_int_eq(aifx__kernel_path(), chosen);
    /* the load-time choice is the fastest path the CPU has */
    if (aifx__kernel_path_supported(AIFX_KPATH_AVX2))
        ck_assert_int_eq(chosen, AIFX_KPATH_AVX2);
    fprintf(stderr, "kernel path chosen at load time: %s\n", kpath_names[chosen]);
}
END_TEST

/* C (m, n) = A (m, k) B (k, n) + C0 (or without C0), B given as src (trans: src^T) */
START_TEST(test_gemm_packed_reference)
{
    static const int ms[] = {1, 2, 5, 6, 7, 13, 49};
    static const int ns[] = {1, 4, 15, 16, 17, 33, 68};
    static const int ks[] = {1, 3, 17, 64};
    aifx_rng r;
    aifx_rng_seed(&r, 77);
    for (int trans = 0; trans <= 1; trans++)
        for (size_t im = 0; im < sizeof ms / sizeof ms[0]; im++)
            for (size_t in = 0; in < sizeof ns / sizeof ns[0]; in++)
                for (size_t ik = 0; ik < sizeof ks / sizeof ks[0]; ik++)
                    for (int zero = 0; zero <= 1; zero++) {
                        const int m = ms[im], n = ns[in], k = ks[ik];
                        const int lda = k + 3, ldc = n + 2, ld = (trans ? k : n) + 1;
                        float *a = malloc(sizeof(float) * (size_t)m * lda);
                        float *src = malloc(sizeof(float) * (size_t)(trans ? n : k) * ld);
                        float *c = malloc(sizeof(float) * (size_t)m * ldc);
                        float *c0 = malloc(sizeof(float) * (size_t)m * ldc);
                        float *bp = malloc(sizeof(float) * aifx__panel_floats(k, n));
                        fill(&r, (size_t)m * lda, a);
                        fill(&r, (size_t)(trans ? n : k) * ld, src);
                        fill(&r, (size_t)m * ldc, c0);
                        memcpy(c, c0, sizeof(float) * (size_t)m * ldc);
                        aifx__pack_panels(k, n, src, ld, trans, bp);
                        aifx__gemm_packed(m, n, k, a, lda, bp, c, ldc, zero);
                        for (int i = 0; i < m; i++) {
                            for (int j = 0; j < n; j++) {
                                double s = zero ? 0.0 : c0[(size_t)i * ldc + j], mag = fabs(s);
                                for (int kk = 0; kk < k; kk++) {
                                    double b =
                                        trans ? src[(size_t)j * ld + kk] : src[(size_t)kk * ld + j];
                                    s += (double)a[(size_t)i * lda + kk] * b;
                                    mag += fabs((double)a[(size_t)i * lda + kk] * b);
                                }
                                double got = c[(size_t)i * ldc + j];
                                ck_assert_msg(fabs(got - s) <= 1e-6 * (mag + 1.0),
                                              "m %d n %d k %d trans %d zero %d: C[%d][%d] = %.9g, "
                                              "expected %.9g",
                                              m, n, k, trans, zero, i, j, got, s);
                            }
                            /* the padding columns of C are not touched */
                            for (int j = n; j < ldc; j++)
                                ck_assert(c[(size_t)i * ldc + j] == c0[(size_t)i * ldc + j]);
                        }
                        free(a), free(src), free(c), free(c0), free(bp);
                    }
}
END_TEST

static double sigm(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

/* The batch-1 kernels (AVX2 path only) against double references: aifx__proj_rows_avx2 over
 * odd m, n, k (k % 8 != 0 takes the masked tail), aifx__lstm_step1_avx2 over H below, at and
 * around 8, with and without h_{t-1} (t = 0), bias or none. */
START_TEST(test_batch1_kernels_reference)
{
    if (!aifx__kernel_path_supported(AIFX_KPATH_AVX2)) {
        fprintf(stderr, "kernel path avx2: not available on this CPU, skipped\n");
        return;
    }
    aifx_rng r;
    aifx_rng_seed(&r, 4242);
    static const int ms[] = {1, 3, 20}, ns[] = {4, 12, 20, 36}, ks[] = {1, 5, 8, 13, 38};
    for (size_t im = 0; im < 3; im++)
        for (size_t in = 0; in < 4; in++)
            for (size_t ik = 0; ik < 5; ik++) {
                const int m = ms[im], n = ns[in], k = ks[ik];
                float *x = malloc(sizeof(float) * m * k), *w = malloc(sizeof(float) * n * k);
                float *z = malloc(sizeof(float) * m * n);
                fill(&r, (size_t)m * k, x);
                fill(&r, (size_t)n * k, w);
                aifx__proj_rows_avx2(m, n, k, x, w, z);
                for (int t = 0; t < m; t++)
                    for (int j = 0; j < n; j++) {
                        double s = 0, mag = 0;
                        for (int kk = 0; kk < k; kk++) {
                            s += (double)x[t * k + kk] * w[j * k + kk];
                            mag += fabs((double)x[t * k + kk] * w[j * k + kk]);
                        }
                        ck_assert_msg(fabs(z[t * n + j] - s) <= 1e-6 * (mag + 1.0),
                                      "proj m %d n %d k %d: z[%d][%d] = %.9g, expected %.9g", m, n,
                                      k, t, j, z[t * n + j], s);
                    }
                free(x), free(w), free(z);
            }
    static const int hs[] = {1, 3, 7, 8, 9, 16, 17, 33};
    for (size_t ih = 0; ih < sizeof hs / sizeof hs[0]; ih++)
        for (int first = 0; first <= 1; first++)
            for (int with_bias = 0; with_bias <= 1; with_bias++) {
                const int H = hs[ih], G = 4 * H;
                float *w = malloc(sizeof(float) * G * H), *hp = malloc(sizeof(float) * H);
                float *zx = malloc(sizeof(float) * G), *bias = malloc(sizeof(float) * G);
                float *c = malloc(sizeof(float) * H), *c0 = malloc(sizeof(float) * H);
                float *h = malloc(sizeof(float) * H);
                fill(&r, (size_t)G * H, w);
                fill(&r, (size_t)H, hp);
                fill(&r, (size_t)G, zx);
                fill(&r, (size_t)G, bias);
                fill(&r, (size_t)H, c0);
                memcpy(c, c0, sizeof(float) * H);
                aifx__lstm_step1_avx2(H, w, first ? NULL : hp, zx, with_bias ? bias : NULL, c, h);
                for (int j = 0; j < H; j++) {
                    double zq[4];
                    for (int q = 0; q < 4; q++) {
                        const int row = q * H + j;
                        double s = zx[row] + (with_bias ? bias[row] : 0.0);
                        for (int kk = 0; kk < H && !first; kk++)
                            s += (double)w[(size_t)row * H + kk] * hp[kk];
                        zq[q] = s;
                    }
                    const double ig = sigm(zq[0]), fg = sigm(zq[1]), gg = tanh(zq[2]);
                    const double og = sigm(zq[3]);
                    const double cn = ig * gg + (first ? 0.0 : fg * c0[j]), hn = og * tanh(cn);
                    ck_assert_msg(fabs(c[j] - cn) <= 1e-5 && fabs(h[j] - hn) <= 1e-5,
                                  "step1 H %d t0 %d bias %d: unit %d c %.9g (%.9g) h %.9g (%.9g)",
                                  H, first, with_bias, j, c[j], cn, h[j], hn);
                }
                free(w), free(hp), free(zx), free(bias), free(c), free(c0), free(h);
            }
}
END_TEST

typedef struct {
    int L, H, B, T;
} shape;

/* odd shapes: H below, at and around the vector widths; B = 1, B above the 48-row block; T = 1 */
static const shape shapes[] = {
    {1, 1, 1, 1},   {1, 5, 1, 3},  {2, 7, 3, 1},  {1, 13, 7, 5},  {1, 16, 2, 4},
    {2, 17, 50, 3}, {1, 33, 1, 6}, {3, 20, 5, 2}, {1, 64, 53, 4}, {2, 24, 1, 1},
};

typedef struct {
    float *probs, *pred, *grads, *dx;
    size_t n;
} outputs;

/* forward + backward + predict of a fresh net of shape s on kernel path p */
static void run_shape(const shape *s, int p, outputs *o)
{
    ck_assert(aifx__set_kernel_path(p));
    const int F = 6, C = 3;
    aifx_net_config c = {.n_in = F,
                         .n_steps = s->T,
                         .n_layers = s->L,
                         .n_hidden = s->H,
                         .n_classes = C,
                         .max_batch = s->B,
                         .dropout = 0.0f};
    aifx_net *net;
    ck_assert_int_eq(aifx_net_new(&c, &net), AIFX_OK);
    aifx_rng r;
    aifx_rng_seed(&r, 1000 + (uint64_t)s->H * 7 + (uint64_t)s->B);
    ck_assert_int_eq(aifx_net_init(net, &r), AIFX_OK);
    o->n = aifx_net_n_params(net);
    float *pf = aifx_net_params(net);
    for (size_t k = 0; k < o->n; k++) /* away from the init's zeros and ones */
        pf[k] += 0.3f * (aifx__rng_float(&r) - 0.5f);
    const size_t nx = (size_t)s->B * s->T * F;
    float *x = malloc(sizeof(float) * nx);
    int32_t *y = malloc(sizeof(int32_t) * (size_t)s->B);
    fill(&r, nx, x);
    for (int b = 0; b < s->B; b++)
        y[b] = b % C;
    o->probs = malloc(sizeof(float) * (size_t)s->B * C);
    o->pred = malloc(sizeof(float) * (size_t)s->B * C);
    o->grads = malloc(sizeof(float) * o->n);
    o->dx = malloc(sizeof(float) * nx);
    float loss;
    ck_assert_int_eq(aifx_net_forward(net, s->B, x, NULL, o->probs, NULL, NULL), AIFX_OK);
    ck_assert_int_eq(aifx_net_backward(net, y, NULL, &loss, o->dx), AIFX_OK);
    memcpy(o->grads, aifx_net_grads(net), sizeof(float) * o->n);
    ck_assert_int_eq(aifx_net_predict(net, s->B, x, o->pred, NULL), AIFX_OK);
    free(x), free(y);
    aifx_net_free(net);
    kpath_leave();
}

static void free_outputs(outputs *o)
{
    free(o->probs), free(o->pred), free(o->grads), free(o->dx);
}

static double worst_diff(size_t n, const float *a, const float *b, int rel)
{
    double w = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (rel)
            d /= fmax(fabs((double)b[i]), 1e-3);
        w = d > w ? d : w;
    }
    return w;
}

/* each path: the same bytes twice, predict = forward; every path against the BLAS path */
START_TEST(test_paths_odd_shapes)
{
    const shape *s = &shapes[_i];
    outputs ref;
    run_shape(s, AIFX_KPATH_BLAS, &ref);
    const size_t nx = (size_t)s->B * s->T * 6, np = (size_t)s->B * 3;
    for (int p = 0; p < AIFX_KPATH_COUNT; p++) {
        if (!aifx__kernel_path_supported(p)) {
            fprintf(stderr, "kernel path %s: not available on this CPU, skipped\n", kpath_names[p]);
            continue;
        }
        outputs a, b;
        run_shape(s, p, &a);
        run_shape(s, p, &b);
        ck_assert_msg(memcmp(a.probs, b.probs, np * sizeof(float)) == 0 &&
                          memcmp(a.pred, b.pred, np * sizeof(float)) == 0 &&
                          memcmp(a.grads, b.grads, a.n * sizeof(float)) == 0 &&
                          memcmp(a.dx, b.dx, nx * sizeof(float)) == 0,
                      "path %s, L %d H %d B %d T %d: not the same bytes run to run", kpath_names[p],
                      s->L, s->H, s->B, s->T);
        const double e_pred = worst_diff(np, a.pred, a.probs, 0);
        const double e_probs = worst_diff(np, a.probs, ref.probs, 0);
        const double e_grads = worst_diff(a.n, a.grads, ref.grads, 1);
        const double e_dx = worst_diff(nx, a.dx, ref.dx, 1);
        fprintf(stderr,
                "path %s L %d H %d B %d T %d: predict-forward %.2g, vs blas: probs %.2g, "
                "grads %.2g, dx %.2g\n",
                kpath_names[p], s->L, s->H, s->B, s->T, e_pred, e_probs, e_grads, e_dx);
        ck_assert_msg(e_pred <= 1e-6, "predict differs from forward by %g", e_pred);
        ck_assert_msg(e_probs <= 1e-6, "probs differ from the BLAS path by %g", e_probs);
        ck_assert_msg(e_grads <= 1e-4, "gradients differ from the BLAS path by %g", e_grads);
        ck_assert_msg(e_dx <= 1e-4, "dx differs from the BLAS path by %g", e_dx);
        free_outputs(&a);
        free_outputs(&b);
    }
    free_outputs(&ref);
}
END_TEST

/* Batch-1 inference (on the AVX2 path the fused product-and-cell step, aifx__lstm_step1_avx2)
 * against the same sequences predicted as one batch: equal to rounding, and the same bytes run to
 * run. Shapes: H below, at and around the 8-float vector (the masked tail of the dot products),
 * T = 1 (h_0 = 0 only), stacked layers (a layer's input is the one below's h). */
START_TEST(test_batch1_rows)
{
    if (!kpath_enter(_i))
        return;
    static const shape b1_shapes[] = {{1, 1, 4, 3},  {1, 5, 3, 7},  {2, 8, 4, 5}, {1, 13, 3, 1},
                                      {3, 17, 2, 4}, {1, 33, 5, 6}, {2, 64, 3, 3}};
    const int F = 6, C = 3;
    for (size_t si = 0; si < sizeof b1_shapes / sizeof b1_shapes[0]; si++) {
        const shape *s = &b1_shapes[si];
        aifx_net_config c = {.n_in = F,
                             .n_steps = s->T,
                             .n_layers = s->L,
                             .n_hidden = s->H,
                             .n_classes = C,
                             .max_batch = s->B,
                             .dropout = 0.0f};
        aifx_net *net;
        ck_assert_int_eq(aifx_net_new(&c, &net), AIFX_OK);
        aifx_rng r;
        aifx_rng_seed(&r, 500 + (uint64_t)si);
        ck_assert_int_eq(aifx_net_init(net, &r), AIFX_OK);
        float *pf = aifx_net_params(net);
        for (size_t k = 0; k < aifx_net_n_params(net); k++)
            pf[k] += 0.3f * (aifx__rng_float(&r) - 0.5f);
        const size_t seq = (size_t)s->T * F;
        float *x = malloc(sizeof(float) * s->B * seq);
        float *pb = malloc(sizeof(float) * s->B * C), *p1 = malloc(sizeof(float) * s->B * C);
        float *work = malloc(sizeof(float) * aifx_net_predict_workspace(net, 1));
        fill(&r, s->B * seq, x);
        ck_assert_int_eq(aifx_net_predict(net, s->B, x, pb, NULL), AIFX_OK);
        int same_bits = 1;
        for (int b = 0; b < s->B; b++) {
            float again[3];
            ck_assert_int_eq(aifx_net_predict(net, 1, x + b * seq, p1 + b * C, work), AIFX_OK);
            ck_assert_int_eq(aifx_net_predict(net, 1, x + b * seq, again, NULL), AIFX_OK);
            ck_assert_msg(memcmp(again, p1 + b * C, sizeof again) == 0,
                          "path %s H %d: batch 1 not the same bytes twice", kpath_names[_i], s->H);
            same_bits &= memcmp(p1 + b * C, pb + b * C, C * sizeof(float)) == 0;
        }
        const double e = worst_diff((size_t)s->B * C, p1, pb, 0);
        fprintf(stderr, "path %s L %d H %d T %d: batch 1 vs batch %d: %.2g (%s bits)\n",
                kpath_names[_i], s->L, s->H, s->T, s->B, e, same_bits ? "same" : "different");
        ck_assert_msg(e <= 1e-6, "batch 1 differs from batch %d by %g", s->B, e);
        free(x), free(pb), free(p1), free(work);
        aifx_net_free(net);
    }
    kpath_leave();
}
END_TEST

static Suite *kernel_suite(void)
{
    Suite *s = suite_create("kernel");
    TCase *tc = tcase_create("packed");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_dispatch);
    tcase_add_test(tc, test_gemm_packed_reference);
    tcase_add_test(tc, test_batch1_kernels_reference);
    tcase_add_loop_test(tc, test_paths_odd_shapes, 0, (int)(sizeof shapes / sizeof shapes[0]));
    tcase_add_loop_test(tc, test_batch1_rows, 0, AIFX_KPATH_COUNT);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(kernel_suite)
