/*
 * lstm.c - one LSTM layer, forward and backward through time (see docs/lstm-math.md).
 *
 * Per step t, for a batch of B rows, with gates packed i, f, g, o in blocks of H:
 *   z_t = x_t W_ih^T + h_{t-1} W_hh^T + b                               (B, 4H)
 *   i = sigma(z_i)  f = sigma(z_f)  g = tanh(z_g)  o = sigma(z_o)
 *   c_t = f * c_{t-1} + i * g        h_t = o * tanh(c_t)
 * Backward, with dh_t the total gradient on h_t (from above and from step t+1) and dc the
 * gradient carried on c from step t+1:
 *   dc_t = dc + dh_t * o * (1 - tanh^2 c_t)
 *   dz_i = dc_t g i(1-i)   dz_f = dc_t c_{t-1} f(1-f)   dz_g = dc_t i (1-g^2)
 *   dz_o = dh_t tanh(c_t) o(1-o)       dc <- dc_t f       dh_{t-1} += dz_t W_hh
 *   dW_ih = sum_t dz_t^T x_t   dW_hh = sum_t dz_t^T h_{t-1}   db = sum_t sum_b dz_t   dx_t = dz_t W_ih
 *
 * Layout makes the big products single GEMMs: the input projection of all T steps is one
 * (T*B, n_in) x (n_in, 4H) product before the recurrence; dW_ih, dW_hh and dx are one GEMM each
 * after it, over the time-major (T*B, *) buffers. Only h_{t-1} W_hh^T and dz_t W_hh run per step.
 * No allocation: every buffer is the layer's workspace or the caller's.
 */
#include <math.h>
#include <string.h>

#include "internal.h"

static inline float sigmoidf(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

void aifx__lstm_cell(int n_batch, int n_hidden, float *z, const float *c_prev, float *c, float *h)
{
    const int H = n_hidden;
    for (int b = 0; b < n_batch; b++) {
        float *zb = z + (size_t)b * 4 * H;           /* (4H) */
        const float *cpb = c_prev ? c_prev + (size_t)b * H : NULL;
        float *cb = c + (size_t)b * H, *hb = h + (size_t)b * H;
        for (int j = 0; j < H; j++) {
            float i = sigmoidf(zb[j]);
            float f = sigmoidf(zb[H + j]);
            float g = tanhf(zb[2 * H + j]);
            float o = sigmoidf(zb[3 * H + j]);
            float cn = i * g + (cpb ? f * cpb[j] : 0.0f);
            zb[j] = i;
            zb[H + j] = f;
            zb[2 * H + j] = g;
            zb[3 * H + j] = o;
            cb[j] = cn;
            hb[j] = o * tanhf(cn);
        }
    }
}

void aifx__lstm_forward(const aifx_lstm_layer *l, const float *params, int n_steps, int n_batch,
                        const float *x)
{
    const int H = l->n_hidden, G = 4 * H, T = n_steps, B = n_batch;
    const float *w_ih = params + l->off_w_ih; /* (4H, n_in) */
    const float *w_hh = params + l->off_w_hh; /* (4H, H) */
    const float *bias = params + l->off_b;    /* (4H) */
    const size_t bh = (size_t)B * H;

    memset(l->hs, 0, bh * sizeof(float)); /* h_0 = 0 */
    memset(l->cs, 0, bh * sizeof(float)); /* c_0 = 0 */
    for (size_t r = 0; r < (size_t)T * B; r++)
        memcpy(l->gates + r * G, bias, (size_t)G * sizeof(float));
    /* gates (T*B, 4H) += x (T*B, n_in) W_ih^T */
    aifx__gemm(0, 1, T * B, G, l->n_in, 1.0f, x, l->n_in, w_ih, l->n_in, 1.0f, l->gates, G);
    for (int t = 0; t < T; t++) {
        float *z = l->gates + (size_t)t * B * G; /* (B, 4H) */
        if (t > 0) /* z += h_{t-1} W_hh^T; h_0 = 0 contributes nothing */
            aifx__gemm(0, 1, B, G, H, 1.0f, l->hs + (size_t)t * bh, H, w_hh, H, 1.0f, z, G);
        aifx__lstm_cell(B, H, z, l->cs + (size_t)t * bh, l->cs + (size_t)(t + 1) * bh,
                        l->hs + (size_t)(t + 1) * bh);
    }
}

void aifx__lstm_backward(aifx_lstm_layer *l, const float *params, float *grads, int n_steps,
                         int n_batch, const float *x, const float *dh_seq, const float *dh_last,
                         float *dx, float *dh, float *dc)
{
    const int H = l->n_hidden, G = 4 * H, T = n_steps, B = n_batch;
    const float *w_ih = params + l->off_w_ih;
    const float *w_hh = params + l->off_w_hh;
    const size_t bh = (size_t)B * H;

    memset(dh, 0, bh * sizeof(float)); /* (B, H) gradient on h_t from step t+1 */
    memset(dc, 0, bh * sizeof(float)); /* (B, H) gradient on c_t from step t+1 */
    for (int t = T - 1; t >= 0; t--) {
        float *z = l->gates + (size_t)t * B * G;         /* (B, 4H) activated -> dz */
        const float *ct = l->cs + (size_t)(t + 1) * bh;  /* (B, H) */
        const float *cp = l->cs + (size_t)t * bh;        /* (B, H) */
        const float *up = dh_seq ? dh_seq + (size_t)t * bh : (t == T - 1 ? dh_last : NULL);
        for (int b = 0; b < B; b++) {
            float *zb = z + (size_t)b * G;
            size_t r = (size_t)b * H;
            for (int j = 0; j < H; j++) {
                float i = zb[j], f = zb[H + j], g = zb[2 * H + j], o = zb[3 * H + j];
                float dht = dh[r + j] + (up ? up[r + j] : 0.0f);
                float tc = tanhf(ct[r + j]);
                float dct = dc[r + j] + dht * o * (1.0f - tc * tc);
                zb[j] = dct * g * i * (1.0f - i);
                zb[H + j] = dct * cp[r + j] * f * (1.0f - f);
                zb[2 * H + j] = dct * i * (1.0f - g * g);
                zb[3 * H + j] = dht * tc * o * (1.0f - o);
                dc[r + j] = dct * f;
            }
        }
        if (t > 0) /* dh_{t-1} = dz_t W_hh: (B, 4H) x (4H, H) */
            aifx__gemm(0, 0, B, H, G, 1.0f, z, G, w_hh, H, 0.0f, dh, H);
    }
    /* gates now hold dz (T*B, 4H) */
    float *g_w_ih = grads + l->off_w_ih, *g_w_hh = grads + l->off_w_hh, *g_b = grads + l->off_b;
    aifx__gemm(1, 0, G, l->n_in, T * B, 1.0f, l->gates, G, x, l->n_in, 1.0f, g_w_ih, l->n_in);
    if (T > 1) /* h_0 = 0: start at t = 1, pairing dz_t with h_{t-1} = hs[t] */
        aifx__gemm(1, 0, G, H, (T - 1) * B, 1.0f, l->gates + (size_t)B * G, G, l->hs + bh, H,
                   1.0f, g_w_hh, H);
    for (size_t r = 0; r < (size_t)T * B; r++) {
        const float *zr = l->gates + r * G;
        for (int k = 0; k < G; k++)
            g_b[k] += zr[k];
    }
    if (dx) /* dx (T*B, n_in) = dz (T*B, 4H) W_ih (4H, n_in) */
        aifx__gemm(0, 0, T * B, l->n_in, G, 1.0f, l->gates, G, w_ih, l->n_in, 0.0f, dx, l->n_in);
}
