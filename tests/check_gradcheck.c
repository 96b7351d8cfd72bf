/*
 * check_gradcheck.c - the network's analytic gradients against central finite differences.
 *
 * The library computes in float32, where a finite difference is mostly rounding noise. So the
 * test carries its own plain double-precision implementation of the same network (batch-first
 * loops, no BLAS, written from docs/lstm-math.md), checks that the library's forward loss agrees
 * with it, and takes central differences of that double loss with step 1e-6 for every parameter
 * and every input element. The library's float gradients must then agree within
 *     |g - fd| <= 1e-7 + 1e-4 |fd|
 * float32 rounding leaves the worst case near a tenth of that (each run prints it), and a 0.1%
 * error in a single gate's gradient already fails it.
 * The reference uses the library's own dropout masks, so dropout is checked too.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aifxnn.h"
#include "check_kpath.h"
#include "check_main.h"
#include "internal.h"

typedef struct {
    int B, T, F, H, C, L;
    const double *mask[AIFX_MAX_LAYERS]; /* (B, H) on layer l's input, l > 0; NULL = none */
    const double *head_mask;             /* (B, H) or NULL */
} ref_shape;

static double sigm(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

/* The loss of the network in double; p follows the library's parameter layout. */
static double ref_loss(const ref_shape *s, const double *p, const double *x, const int32_t *y,
                       const float *w)
{
    const int B = s->B, T = s->T, H = s->H, C = s->C;
    double *in = malloc(sizeof(double) * (size_t)B * T * (s->F > H ? s->F : H));
    double *out = malloc(sizeof(double) * (size_t)B * T * H);
    memcpy(in, x, sizeof(double) * (size_t)B * T * s->F);
    size_t off = 0;
    int n_in = s->F;
    for (int l = 0; l < s->L; l++) {
        const double *wih = p + off, *whh = wih + 4 * H * n_in, *bias = whh + 4 * H * H;
        off += (size_t)4 * H * n_in + 4 * H * H + 4 * H;
        for (int b = 0; b < B; b++) {
            double h[64] = {0}, c[64] = {0}, z[256];
            for (int t = 0; t < T; t++) {
                const double *xt = in + ((size_t)b * T + t) * n_in;
                for (int k = 0; k < 4 * H; k++) {
                    double a = bias[k];
                    for (int j = 0; j < n_in; j++)
                        a += wih[k * n_in + j] * xt[j];
                    for (int j = 0; j < H; j++)
                        a += whh[k * H + j] * h[j];
                    z[k] = a;
                }
                for (int j = 0; j < H; j++) {
                    double ig = sigm(z[j]), fg = sigm(z[H + j]), gg = tanh(z[2 * H + j]),
                           og = sigm(z[3 * H + j]);
                    c[j] = fg * c[j] + ig * gg;
                    h[j] = og * tanh(c[j]);
                    out[((size_t)b * T + t) * H + j] = h[j];
                }
            }
        }
        n_in = H;
        for (size_t i = 0; i < (size_t)B * T * H; i++) {
            const double *m = l + 1 < s->L ? s->mask[l + 1] : NULL;
            size_t b = i / ((size_t)T * H), j = i % H;
            in[i] = out[i] * (m ? m[b * H + j] : 1.0);
        }
    }
    const double *dw = p + off, *db = dw + (size_t)C * H;
    double lsum = 0, wsum = 0;
    for (int b = 0; b < B; b++) {
        const double *hT = out + ((size_t)b * T + T - 1) * H;
        double logit[8], mx = -1e300, se = 0;
        for (int c = 0; c < C; c++) {
            double a = db[c];
            for (int j = 0; j < H; j++)
                a += dw[c * H + j] * hT[j] * (s->head_mask ? s->head_mask[b * H + j] : 1.0);
            logit[c] = a;
            mx = a > mx ? a : mx;
        }
        for (int c = 0; c < C; c++)
            se += exp(logit[c] - mx);
        double wi = w ? w[y[b]] : 1.0;
        lsum += wi * (mx + log(se) - logit[y[b]]);
        wsum += wi;
    }
    free(in);
    free(out);
    return lsum / wsum;
}

static double worst_ratio; /* max over checks of |g - fd| / tolerance */

static void expect_close(const char *what, size_t k, double g, double fd)
{
    double tol = 1e-7 + 1e-4 * fabs(fd);
    double r = fabs(g - fd) / tol;
    if (r > worst_ratio)
        worst_ratio = r;
    ck_assert_msg(fabs(g - fd) <= tol, "%s[%zu]: analytic %.9g vs finite difference %.9g", what, k,
                  g, fd);
}

/* B <= 3, H <= 64; kpath: the kernel path to force (skipped when the CPU lacks it) */
static void gradcheck_shape(int n_layers, int weighted, float dropout, int B, int T, int H,
                            int kpath)
{
    if (!kpath_enter(kpath))
        return;
    aifx_net_config cfg = {.n_in = 3,
                           .n_steps = T,
                           .n_layers = n_layers,
                           .n_hidden = H,
                           .n_classes = 3,
                           .max_batch = B,
                           .dropout = dropout};
    const int F = cfg.n_in;
    aifx_net *net;
    worst_ratio = 0.0;
    ck_assert_int_eq(aifx_net_new(&cfg, &net), AIFX_OK);
    aifx_rng rng;
    aifx_rng_seed(&rng, 1234 + (uint64_t)n_layers);
    ck_assert_int_eq(aifx_net_init(net, &rng), AIFX_OK);
    size_t n = aifx_net_n_params(net);
    float *pf = aifx_net_params(net);
    for (size_t k = 0; k < n; k++) /* move away from the init's zeros and ones */
        pf[k] += 0.2f * (aifx__rng_float(&rng) - 0.5f);

    float x[3 * 4 * 3];
    for (int i = 0; i < B * T * F; i++)
        x[i] = 2.0f * aifx__rng_float(&rng) - 1.0f;
    int32_t y[3] = {0, 2, 1};
    float w[3] = {1.0f, 2.0f, 0.5f};
    const float *wp = weighted ? w : NULL;

    aifx_rng drop_rng;
    aifx_rng_seed(&drop_rng, 99);
    float loss, dx[3 * 4 * 3];
    ck_assert_int_eq(aifx_net_forward(net, B, x, dropout > 0 ? &drop_rng : NULL, NULL, NULL, NULL),
                     AIFX_OK);
    ck_assert_int_eq(aifx_net_backward(net, y, wp, &loss, dx), AIFX_OK);
    const float *g = aifx_net_grads(net);

    /* the masks the library drew, in double */
    ref_shape s = {B, T, F, H, cfg.n_classes, n_layers, {NULL}, NULL};
    double masks[AIFX_MAX_LAYERS + 1][3 * 64];
    int n_dropped = 0;
    if (dropout > 0) {
        for (int l = 1; l < n_layers; l++) {
            for (int i = 0; i < B * H; i++)
                masks[l][i] = net->layers[l].mask[i];
            s.mask[l] = masks[l];
        }
        for (int i = 0; i < B * H; i++) {
            masks[AIFX_MAX_LAYERS][i] = net->head_mask[i];
            n_dropped += net->head_mask[i] == 0.0f;
        }
        s.head_mask = masks[AIFX_MAX_LAYERS];
        ck_assert_msg(n_dropped > 0 && n_dropped < B * H, "dropout mask is degenerate");
    }

    double *pd = malloc(sizeof(double) * n), xd[3 * 4 * 3];
    for (size_t k = 0; k < n; k++)
        pd[k] = pf[k];
    for (int i = 0; i < B * T * F; i++)
        xd[i] = x[i];
    double l0 = ref_loss(&s, pd, xd, y, wp);
    ck_assert_msg(fabs(l0 - loss) <= 1e-5 * (1 + fabs(l0)), "loss %.9g vs reference %.9g",
                  (double)loss, l0);

    const double h = 1e-6;
    for (size_t k = 0; k < n; k++) {
        double keep = pd[k];
        pd[k] = keep + h;
        double lp = ref_loss(&s, pd, xd, y, wp);
        pd[k] = keep - h;
        double lm = ref_loss(&s, pd, xd, y, wp);
        pd[k] = keep;
        expect_close("param", k, g[k], (lp - lm) / (2 * h));
    }
    for (int i = 0; i < B * T * F; i++) {
        double keep = xd[i];
        xd[i] = keep + h;
        double lp = ref_loss(&s, pd, xd, y, wp);
        xd[i] = keep - h;
        double lm = ref_loss(&s, pd, xd, y, wp);
        xd[i] = keep;
        expect_close("input", (size_t)i, dx[i], (lp - lm) / (2 * h));
    }
    fprintf(stderr,
            "gradcheck %s L=%d B=%d T=%d H=%d weighted=%d dropout=%.1f: %zu params, %d "
            "inputs, worst |g-fd|/tol = %.3g\n",
            kpath_names[kpath], n_layers, B, T, H, weighted, (double)dropout, n, B * T * F,
            worst_ratio);
    free(pd);
    aifx_net_free(net);
    kpath_leave();
}

static void gradcheck(int n_layers, int weighted, float dropout, int kpath)
{
    gradcheck_shape(n_layers, weighted, dropout, 3, 4, 5, kpath);
}

START_TEST(test_grad_1layer)
{
    gradcheck(1, 0, 0.0f, _i);
}
END_TEST
START_TEST(test_grad_1layer_weighted)
{
    gradcheck(1, 1, 0.0f, _i);
}
END_TEST
START_TEST(test_grad_2layer)
{
    gradcheck(2, 0, 0.0f, _i);
}
END_TEST
START_TEST(test_grad_2layer_weighted)
{
    gradcheck(2, 1, 0.0f, _i);
}
END_TEST
START_TEST(test_grad_2layer_dropout)
{
    gradcheck(2, 1, 0.3f, _i);
}
END_TEST
START_TEST(test_grad_3layer_dropout)
{
    gradcheck(3, 0, 0.5f, _i);
}
END_TEST
/* Odd shapes for the packed kernel: H = 17 (4H = 68, neither a multiple of the 16-wide panel),
 * B = 1 (a single row), T = 1 (no recurrent product at all), and B = 3, T = 2, H = 33. */
START_TEST(test_grad_odd_shapes)
{
    gradcheck_shape(1, 0, 0.0f, 1, 4, 17, _i);
    gradcheck_shape(2, 1, 0.0f, 3, 1, 7, _i);
    gradcheck_shape(1, 1, 0.0f, 1, 1, 16, _i);
    gradcheck_shape(2, 0, 0.0f, 3, 2, 33, _i);
}
END_TEST

/* The loss normalisation: PyTorch's weighted mean, sum w l / sum w, not Keras' sum w l / N. */
START_TEST(test_loss_normalisation)
{
    const float logits[2 * 2] = {0.0f, 0.0f, 0.0f, 0.0f}; /* each sample's loss is log 2 */
    const int32_t y[2] = {0, 1};
    const float w[2] = {3.0f, 1.0f};
    float loss;
    ck_assert_int_eq(aifx_softmax_xent(2, 2, logits, y, w, NULL, &loss, NULL), AIFX_OK);
    ck_assert_float_eq_tol(loss, (float)log(2.0), 1e-7f); /* Keras would give 2 log 2 */
}
END_TEST

static Suite *gradcheck_suite(void)
{
    Suite *s = suite_create("gradcheck");
    TCase *tc = tcase_create("finite_differences");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_grad_1layer, 0, AIFX_KPATH_COUNT);
    tcase_add_loop_test(tc, test_grad_1layer_weighted, 0, AIFX_KPATH_COUNT);
    tcase_add_loop_test(tc, test_grad_2layer, 0, AIFX_KPATH_COUNT);
    tcase_add_loop_test(tc, test_grad_2layer_weighted, 0, AIFX_KPATH_COUNT);
    tcase_add_loop_test(tc, test_grad_2layer_dropout, 0, AIFX_KPATH_COUNT);
    tcase_add_loop_test(tc, test_grad_3layer_dropout, 0, AIFX_KPATH_COUNT);
    tcase_add_loop_test(tc, test_grad_odd_shapes, 0, AIFX_KPATH_COUNT);
    tcase_add_test(tc, test_loss_normalisation);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(gradcheck_suite)
