/*
 * check_adam.c - Adam against hand-computed values, decoupled weight decay, clipping, state.
 */
#include <check.h>
#include <math.h>

#include "aifxnn.h"
#include "check_main.h"
#include "internal.h"

START_TEST(test_adam_hand_values)
{
    /* lr 0.1, betas 0.9/0.999, eps 1e-8, p0 = 1, gradients 0.5, -0.25, 0.125. By hand (double):
     * t=1: m = 0.05, v = 0.00025, m^ = 0.5, v^ = 0.25, p = 1 - 0.1*0.5/(0.5+1e-8) = 0.900000002
     * t=2: m = 0.02, v = 0.00031225, p = 0.8733662987078463
     * t=3: m = 0.0305, v = 0.00032756275, p = 0.8393233849166541 */
    aifx_adam_config c = aifx_adam_config_default();
    c.lr = 0.1f;
    aifx_adam *a;
    ck_assert_int_eq(aifx_adam_new(1, &c, &a), AIFX_OK);
    float p = 1.0f;
    const float g[3] = {0.5f, -0.25f, 0.125f};
    const double want_p[3] = {0.900000002, 0.8733662987078463, 0.8393233849166541};
    const double want_m[3] = {0.05, 0.02, 0.0305};
    const double want_v[3] = {0.00025, 0.00031225, 0.00032756275};
    for (int t = 0; t < 3; t++) {
        ck_assert_int_eq(aifx_adam_step(a, &p, &g[t]), AIFX_OK);
        float *m, *v;
        int64_t step;
        ck_assert_int_eq(aifx_adam_state(a, NULL, &m, &v, &step), AIFX_OK);
        ck_assert_int_eq(step, t + 1);
        ck_assert_double_eq_tol(p, want_p[t], 2e-7);
        /* float32 betas: 1 - 0.9f and 1 - 0.999f carry relative errors 2.4e-7 and 1.3e-5 */
        ck_assert_double_eq_tol(m[0], want_m[t], 1e-7);
        ck_assert_double_eq_tol(v[0], want_v[t], 2e-5 * want_v[t]);
    }
    aifx_adam_free(a);
}
END_TEST

START_TEST(test_adamw_decoupled)
{
    /* p0 = 2, wd 0.5, lr 0.1, g 0.5: p = 2 (1 - 0.05) - 0.1 * 0.5 / (0.5 + 1e-8) = 1.800000002 */
    aifx_adam_config c = aifx_adam_config_default();
    c.lr = 0.1f;
    c.weight_decay = 0.5f;
    aifx_adam *a;
    ck_assert_int_eq(aifx_adam_new(1, &c, &a), AIFX_OK);
    float p = 2.0f, g = 0.5f;
    ck_assert_int_eq(aifx_adam_step(a, &p, &g), AIFX_OK);
    ck_assert_double_eq_tol(p, 1.800000002, 2e-7);
    aifx_adam_free(a);
}
END_TEST

START_TEST(test_adam_state_ops)
{
    aifx_adam_config c = aifx_adam_config_default();
    aifx_adam *a;
    ck_assert_int_eq(aifx_adam_new(2, &c, &a), AIFX_OK);
    float p[2] = {1, 1}, g[2] = {1, -1};
    ck_assert_int_eq(aifx_adam_step(a, p, g), AIFX_OK);
    /* a non-finite gradient is refused and leaves everything as it was */
    float bad[2] = {1, INFINITY}, before[2] = {p[0], p[1]};
    ck_assert_int_eq(aifx_adam_step(a, p, bad), AIFX_ERR_NONFINITE);
    ck_assert_float_eq(p[0], before[0]);
    ck_assert_float_eq(p[1], before[1]);
    int64_t step;
    aifx_adam_state(a, NULL, NULL, NULL, &step);
    ck_assert_int_eq(step, 1);
    ck_assert_int_eq(aifx_adam_set_lr(a, 1e-4f), AIFX_OK);
    aifx_adam_config got;
    ck_assert_int_eq(aifx_adam_get_config(a, &got), AIFX_OK);
    ck_assert_float_eq(got.lr, 1e-4f);
    ck_assert_int_eq(aifx_adam_reset(a), AIFX_OK);
    float *m;
    size_t n;
    aifx_adam_state(a, &n, &m, NULL, &step);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(step, 0);
    ck_assert_float_eq(m[0], 0.0f);
    ck_assert_int_eq(aifx_adam_set_step(a, 7), AIFX_OK);
    aifx_adam_state(a, NULL, NULL, NULL, &step);
    ck_assert_int_eq(step, 7);
    aifx_adam_free(a);
    aifx_adam_free(NULL);
}
END_TEST

START_TEST(test_adam_invalid)
{
    aifx_adam_config c = aifx_adam_config_default();
    aifx_adam *a = (aifx_adam *)&c; /* must be reset to NULL on failure */
    ck_assert_int_eq(aifx_adam_new(0, &c, &a), AIFX_ERR_INVALID);
    ck_assert_ptr_null(a);
    ck_assert_int_eq(aifx_adam_new(3, NULL, &a), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_adam_new(3, &c, NULL), AIFX_ERR_INVALID);
    aifx_adam_config bad[5] = {c, c, c, c, c};
    bad[0].lr = 0.0f;
    bad[1].beta1 = 1.0f;
    bad[2].beta2 = -0.1f;
    bad[3].eps = 0.0f;
    bad[4].weight_decay = NAN;
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(aifx_adam_new(3, &bad[i], &a), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_adam_new(3, &c, &a), AIFX_OK);
    float p[3] = {0}, g[3] = {0};
    ck_assert_int_eq(aifx_adam_step(NULL, p, g), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_adam_step(a, NULL, g), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_adam_step(a, p, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_adam_set_lr(a, -1.0f), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_adam_set_lr(a, NAN), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_adam_set_step(a, -1), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_adam_reset(NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_adam_state(NULL, NULL, NULL, NULL, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_adam_get_config(a, NULL), AIFX_ERR_INVALID);
    aifx_adam_free(a);
    /* allocation failure: nothing leaks, NULL comes back */
    for (int k = 1; k <= 3; k++) {
        aifx__alloc_fail_after(k);
        aifx_status st = aifx_adam_new(3, &c, &a);
        aifx__alloc_fail_after(0);
        ck_assert_int_eq(st, AIFX_ERR_NOMEM);
        ck_assert_ptr_null(a);
    }
}
END_TEST

/* The vectorised update gives the bits of the scalar formula, over a length with a tail (37 =
 * 4 x 8 + 5), with and without weight decay, for 3 steps. */
START_TEST(test_adam_bits_match_scalar)
{
    enum { N = 37 };
    for (int wd = 0; wd <= 1; wd++) {
        aifx_adam_config c = aifx_adam_config_default();
        c.lr = 1e-2f;
        c.weight_decay = wd ? 0.1f : 0.0f;
        aifx_adam *a;
        ck_assert_int_eq(aifx_adam_new(N, &c, &a), AIFX_OK);
        float p[N], q[N], g[N], m[N] = {0}, v[N] = {0};
        aifx_rng r;
        aifx_rng_seed(&r, 9);
        for (int i = 0; i < N; i++)
            p[i] = q[i] = aifx__rng_float(&r) - 0.5f;
        for (int t = 1; t <= 3; t++) {
            for (int i = 0; i < N; i++)
                g[i] = (aifx__rng_float(&r) - 0.5f) * (float)(i + 1);
            ck_assert_int_eq(aifx_adam_step(a, p, g), AIFX_OK);
            const float step_size = (float)((double)c.lr / (1.0 - pow((double)c.beta1, t)));
            const float bc2_sqrt = (float)sqrt(1.0 - pow((double)c.beta2, t));
            const float decay = 1.0f - c.lr * c.weight_decay;
            for (int i = 0; i < N; i++) {
                m[i] = m[i] * c.beta1 + g[i] * (1.0f - c.beta1);
                v[i] = v[i] * c.beta2 + g[i] * g[i] * (1.0f - c.beta2);
                if (wd)
                    q[i] *= decay;
                float denom = sqrtf(v[i]) / bc2_sqrt + c.eps;
                q[i] -= step_size * (m[i] / denom);
            }
            for (int i = 0; i < N; i++)
                ck_assert_msg(p[i] == q[i], "step %d, weight decay %d, [%d]: %.9g vs %.9g", t, wd,
                              i, (double)p[i], (double)q[i]);
        }
        aifx_adam_free(a);
    }
}
END_TEST

START_TEST(test_clip)
{
    /* (3, 4) has norm 5: clipped to 1 it becomes (3, 4) / (5 + 1e-6) */
    float g[2] = {3.0f, 4.0f}, norm;
    ck_assert_int_eq(aifx_clip_grad_norm(2, g, 1.0f, &norm), AIFX_OK);
    ck_assert_float_eq_tol(norm, 5.0f, 1e-6f);
    ck_assert_double_eq_tol(g[0], 3.0 / (5.0 + 1e-6), 1e-7);
    ck_assert_double_eq_tol(g[1], 4.0 / (5.0 + 1e-6), 1e-7);
    /* below the limit: unchanged */
    float h[2] = {0.3f, 0.4f};
    ck_assert_int_eq(aifx_clip_grad_norm(2, h, 1.0f, NULL), AIFX_OK);
    ck_assert_float_eq(h[0], 0.3f);
    ck_assert_float_eq(h[1], 0.4f);
    float bad[2] = {NAN, 1.0f};
    ck_assert_int_eq(aifx_clip_grad_norm(2, bad, 1.0f, NULL), AIFX_ERR_NONFINITE);
    ck_assert_float_eq(bad[1], 1.0f);
    ck_assert_int_eq(aifx_clip_grad_norm(0, g, 1.0f, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_clip_grad_norm(2, NULL, 1.0f, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_clip_grad_norm(2, g, 0.0f, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_clip_grad_norm(2, g, INFINITY, NULL), AIFX_ERR_INVALID);
}
END_TEST

static Suite *adam_suite(void)
{
    Suite *s = suite_create("adam");
    TCase *tc = tcase_create("adam");
    tcase_add_test(tc, test_adam_hand_values);
    tcase_add_test(tc, test_adamw_decoupled);
    tcase_add_test(tc, test_adam_state_ops);
    tcase_add_test(tc, test_adam_invalid);
    tcase_add_test(tc, test_adam_bits_match_scalar);
    tcase_add_test(tc, test_clip);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(adam_suite)
