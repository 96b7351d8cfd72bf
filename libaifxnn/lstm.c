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

/*
 * Elementwise kernels. glibc's tanhf (through expm1f) and expf dominated the profile (60% of a
 * W1 training step), so the gate code uses its own branch-free exp, sigmoid and tanh on vectors
 * of 16 floats (GCC/Clang vector extensions). The functions that loop over them are compiled
 * three times (AVX-512F, AVX2, plain x86-64 SSE2) and the best one for the CPU is picked when the
 * library loads (target_clones / ifunc); the maths, and so the results on a given CPU, do not
 * depend on the thread count.
 *   exp:  Cephes' expf: x = n ln2 + r, |r| <= ln2/2, e^r by a degree-7 polynomial, 2^n from the
 *         exponent bits; x clamped to [-87.3, 88.3] (results stay normal and finite); ~1 ulp.
 *   sigm: 1 / (1 + exp(-x)), the three gates' and tanh's divisions shared (gates4).
 *   tanh: |x| < 0.625: Cephes' odd polynomial x + x^3 P(x^2) (no cancellation near 0);
 *         else sign(x) (1 - 2 / (exp(2|x|) + 1)); ~2 ulp.
 */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && !defined(__clang__) &&     \
    !defined(AIFX_NO_CLONES)
#define AIFX_CLONES                                                                            \
    __attribute__((target_clones("avx512f", "avx2", "default"),             \
                   optimize("fp-contract=fast")))
#else
#define AIFX_CLONES
#endif

/* The helpers return 64-byte vectors and take them through pointers (the macros below wrap the
 * values in compound literals); they are always inlined, so the ABI remark compilers make about
 * such vectors outside AVX-512 code (-Wpsabi) concerns no real call. */
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
#define AIFX_INLINE static inline __attribute__((always_inline))

#define VW 16 /* floats per vector */
typedef float vf __attribute__((vector_size(VW * sizeof(float))));
typedef int32_t vi __attribute__((vector_size(VW * sizeof(float))));

AIFX_INLINE vf vsplat(float a)
{
    return (vf){a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a};
}

/* n (<= VW) floats from p, the rest 0 */
AIFX_INLINE vf vload(const float *p, int n)
{
    vf v = vsplat(0.0f);
    if (n == VW)
        memcpy(&v, p, sizeof(v));
    else
        memcpy(&v, p, (size_t)n * sizeof(float));
    return v;
}

AIFX_INLINE void vstore_p(float *p, const vf *v, int n)
{
    if (n == VW)
        memcpy(p, v, sizeof(*v));
    else
        memcpy(p, v, (size_t)n * sizeof(float));
}
#define VSTORE(p, v, n) vstore_p((p), (const vf[1]){(v)}, (n))

/* mask ? a : b, lane by lane */
#define VSEL(mask, a, b) ((vf)(((mask) & (vi)(a)) | (~(mask) & (vi)(b))))

/* exp(x) for x already in [-87.3, 88.3] */
AIFX_INLINE vf vexp_in_range_p(const vf *px)
{
    const vf x = *px;
    const vf magic = vsplat(12582912.0f); /* 1.5 * 2^23: adding it rounds to an integer */
    vf n = (x * vsplat(1.44269504088896341f) + magic) - magic;
    vf r = x - n * vsplat(0.693359375f);
    r = r - n * vsplat(-2.12194440e-4f);
    vf p = vsplat(1.9875691500e-4f);
    p = p * r + vsplat(1.3981999507e-3f);
    p = p * r + vsplat(8.3334519073e-3f);
    p = p * r + vsplat(4.1665795894e-2f);
    p = p * r + vsplat(1.6666665459e-1f);
    p = p * r + vsplat(5.0000001201e-1f);
    vf y = p * (r * r) + r + vsplat(1.0f);
    vi e = (__builtin_convertvector(n, vi) + 127) << 23; /* 2^n, n in [-126, 127] */
    return y * (vf)e;
}

#define VEXP_IN_RANGE(x) vexp_in_range_p((const vf[1]){(x)})

AIFX_INLINE vf vexp_p(const vf *px)
{
    vf x = *px;
    x = VSEL(x > vsplat(88.3f), vsplat(88.3f), x);
    x = VSEL(x < vsplat(-87.3f), vsplat(-87.3f), x);
    return VEXP_IN_RANGE(x);
}
#define VEXP(x) vexp_p((const vf[1]){(x)})

AIFX_INLINE vf vtanh_p(const vf *px)
{
    const vf x = *px;
    const vi sign_bit = (vi)vsplat(-0.0f);
    const vi sign = (vi)x & sign_bit;
    vf ax = (vf)((vi)x & ~sign_bit);
    vf z = x * x;
    vf p = vsplat(-5.70498872745e-3f);
    p = p * z + vsplat(2.06390887954e-2f);
    p = p * z + vsplat(-5.37397155531e-2f);
    p = p * z + vsplat(1.33314422036e-1f);
    p = p * z + vsplat(-3.33332819422e-1f);
    vf small = p * z * x + x;
    vf large = vsplat(1.0f) - vsplat(2.0f) / (VEXP(ax + ax) + vsplat(1.0f));
    large = (vf)((vi)large | sign);
    return VSEL(ax < vsplat(0.625f), small, large);
}

#define VTANH(x) vtanh_p((const vf[1]){(x)})

AIFX_INLINE vf vclamp20_p(const vf *px) /* to [-20, 20] */
{
    vf x = *px;
    x = VSEL(x > vsplat(20.0f), vsplat(20.0f), x);
    return VSEL(x < vsplat(-20.0f), vsplat(-20.0f), x);
}

#define VCLAMP20(x) vclamp20_p((const vf[1]){(x)})

/* i, f, o = sigm(zi, zf, zo), g = tanh(zg) with one division for the four (a vector division
 * costs as much as the rest of the gate maths): with a, b, c, d the four denominators
 * 1 + exp(-z) and exp(2|zg|) + 1, r = 1 / (a b c d) and 1/a = r b c d, etc. The sigmoid inputs
 * are clamped to [-20, 20] (sigm(20) rounds to 1; sigm(-20) = 2.1e-9 stands in for smaller
 * values, an absolute error below 2.1e-9) and tanh's large branch to |zg| <= 9.01 (tanh rounds
 * to 1 there), so that the product stays below 1e34. About 3 ulp. */
AIFX_INLINE void gates4(const vf *z4, vf *i, vf *f, vf *g, vf *o)
{
    const vf zi = z4[0], zf = z4[1], zg = z4[2], zo = z4[3];
    const vf one = vsplat(1.0f);
    vf a = one + VEXP_IN_RANGE(-VCLAMP20(zi));
    vf b = one + VEXP_IN_RANGE(-VCLAMP20(zf));
    vf c = one + VEXP_IN_RANGE(-VCLAMP20(zo));
    const vi sign_bit = (vi)vsplat(-0.0f);
    const vi sign = (vi)zg & sign_bit;
    vf ag = (vf)((vi)zg & ~sign_bit);
    vf agc = VSEL(ag > vsplat(9.01f), vsplat(9.01f), ag);
    vf d = VEXP_IN_RANGE(agc + agc) + one;
    vf ab = a * b, cd = c * d;
    vf r = one / (ab * cd);
    vf r_ab = r * cd, r_cd = r * ab; /* 1/(ab), 1/(cd) */
    *i = r_ab * b;
    *f = r_ab * a;
    *o = r_cd * d;
    vf large = one - vsplat(2.0f) * (r_cd * c);
    large = (vf)((vi)large | sign);
    vf z2 = zg * zg;
    vf p = vsplat(-5.70498872745e-3f);
    p = p * z2 + vsplat(2.06390887954e-2f);
    p = p * z2 + vsplat(-5.37397155531e-2f);
    p = p * z2 + vsplat(1.33314422036e-1f);
    p = p * z2 + vsplat(-3.33332819422e-1f);
    *g = VSEL(ag < vsplat(0.625f), p * z2 * zg + zg, large);
}

/* Forward cell on units j .. j+n-1 of one row; see aifx__lstm_cell. Inlined with n = VW in the
 * main loop (plain vector loads and stores) and once more for the tail. */
AIFX_INLINE void cell_chunk(int H, const float *bias, float *zb, const float *cpb, float *cb,
                            float *hb, int j, int n, int keep_gates)
{
    vf zi = vload(zb + j, n), zf = vload(zb + H + j, n);
    vf zg = vload(zb + 2 * H + j, n), zo = vload(zb + 3 * H + j, n);
    if (bias) {
        zi += vload(bias + j, n);
        zf += vload(bias + H + j, n);
        zg += vload(bias + 2 * H + j, n);
        zo += vload(bias + 3 * H + j, n);
    }
    vf i, f, g, o;
    const vf z4[4] = {zi, zf, zg, zo};
    gates4(z4, &i, &f, &g, &o);
    vf cn = i * g;
    if (cpb)
        cn = cn + f * vload(cpb + j, n);
    if (keep_gates) {
        VSTORE(zb + j, i, n);
        VSTORE(zb + H + j, f, n);
        VSTORE(zb + 2 * H + j, g, n);
        VSTORE(zb + 3 * H + j, o, n);
    }
    VSTORE(cb + j, cn, n);
    VSTORE(hb + j, o * VTANH(cn), n);
}

AIFX_CLONES
void aifx__lstm_cell(int n_batch, int n_hidden, const float *bias, float *z, const float *c_prev,
                     float *c, float *h, int keep_gates)
{
    const int H = n_hidden;
    for (int b = 0; b < n_batch; b++) {
        float *zb = z + (size_t)b * 4 * H; /* (4H) */
        const float *cpb = c_prev ? c_prev + (size_t)b * H : NULL;
        float *cb = c + (size_t)b * H, *hb = h + (size_t)b * H;
        int j = 0;
        if (keep_gates) { /* two copies of the loop, the flag a constant in each */
            for (; j + VW <= H; j += VW)
                cell_chunk(H, bias, zb, cpb, cb, hb, j, VW, 1);
            if (j < H)
                cell_chunk(H, bias, zb, cpb, cb, hb, j, H - j, 1);
        } else {
            for (; j + VW <= H; j += VW)
                cell_chunk(H, bias, zb, cpb, cb, hb, j, VW, 0);
            if (j < H)
                cell_chunk(H, bias, zb, cpb, cb, hb, j, H - j, 0);
        }
    }
}

/* Backward cell on units j .. j+n-1 of one row; see cell_backward. */
AIFX_INLINE void cell_backward_chunk(int H, float *zb, const float *ct, const float *cp,
                                     const float *dh, const float *up, float *dc, float *db,
                                     int j, int n)
{
    vf i = vload(zb + j, n), f = vload(zb + H + j, n);
    vf g = vload(zb + 2 * H + j, n), o = vload(zb + 3 * H + j, n);
    vf dht = vload(dh + j, n);
    if (up)
        dht = dht + vload(up + j, n);
    vf tc = VTANH(vload(ct + j, n));
    vf one = vsplat(1.0f);
    vf dct = vload(dc + j, n) + dht * o * (one - tc * tc);
    vf di = dct * g * i * (one - i);
    vf df = dct * vload(cp + j, n) * f * (one - f);
    vf dg = dct * i * (one - g * g);
    vf dO = dht * tc * o * (one - o);
    VSTORE(zb + j, di, n);
    VSTORE(zb + H + j, df, n);
    VSTORE(zb + 2 * H + j, dg, n);
    VSTORE(zb + 3 * H + j, dO, n);
    VSTORE(dc + j, dct * f, n);
    VSTORE(db + j, vload(db + j, n) + di, n);
    VSTORE(db + H + j, vload(db + H + j, n) + df, n);
    VSTORE(db + 2 * H + j, vload(db + 2 * H + j, n) + dg, n);
    VSTORE(db + 3 * H + j, vload(db + 3 * H + j, n) + dO, n);
}

/* One step of the backward elementwise work over B rows (see the file comment): z (B, 4H)
 * activated gates in, dz out; ct, cp (B, H) c_t and c_{t-1}; dh (B, H) the gradient from step
 * t+1, up (B, H) the one from above (or NULL); dc (B, H) in and out; db (4H) += column sums of
 * dz, row by row in order. */
AIFX_CLONES
static void cell_backward(int n_batch, int n_hidden, float *z, const float *ct, const float *cp,
                          const float *dh, const float *up, float *dc, float *db)
{
    const int H = n_hidden;
    for (int b = 0; b < n_batch; b++) {
        const size_t r = (size_t)b * H;
        float *zb = z + (size_t)b * 4 * H;
        const float *upb = up ? up + r : NULL;
        int j = 0;
        for (; j + VW <= H; j += VW)
            cell_backward_chunk(H, zb, ct + r, cp + r, dh + r, upb, dc + r, db, j, VW);
        if (j < H)
            cell_backward_chunk(H, zb, ct + r, cp + r, dh + r, upb, dc + r, db, j, H - j);
    }
}

/* The arguments of one layer's pass, shared by the workers of a pool run. */
typedef struct lstm_job {
    const aifx_lstm_layer *l;
    const float *params;
    float *grads;
    int T, B;
    const float *x;       /* (T, B, n_in) */
    const float *dh_seq;  /* (T, B, H) or NULL */
    const float *dh_last; /* (B, H) */
    float *dx, *dh, *dc;
    float *db_part;       /* (n, 4H) */
} lstm_job;

/* gates rows [r0, r1) of (T*B, 4H) = x W_ih^T, the bias is added in the cell */
static void forward_projection(void *arg, int k, int n)
{
    const lstm_job *j = arg;
    const aifx_lstm_layer *l = j->l;
    const int G = 4 * l->n_hidden;
    int r0, r1;
    aifx__split(j->T * j->B, k, n, &r0, &r1);
    if (r1 > r0)
        aifx__gemm(0, 1, r1 - r0, G, l->n_in, 1.0f, j->x + (size_t)r0 * l->n_in, l->n_in,
                   j->params + l->off_w_ih, l->n_in, 0.0f, l->gates + (size_t)r0 * G, G);
}

size_t aifx__lstm_pack_floats(int n_hidden)
{
    const int H = n_hidden, G = 4 * H;
    size_t n = (size_t)G * H; /* the BLAS path's transpose */
    const size_t fwd = aifx__panel_floats(H, G), bwd = aifx__panel_floats(G, H);
    if (fwd > n)
        n = fwd;
    return bwd > n ? bwd : n;
}

/* Rows per block of the packed path: the block's products over all panels, then its cell, while
 * its rows of z (and of h_{t-1}) are still in L2 (48 x 5 KiB for W3). */
#define ROW_BLOCK 48

/* the recurrence for sequences [b0, b1) */
static void forward_recurrence(void *arg, int k, int n)
{
    const lstm_job *j = arg;
    const aifx_lstm_layer *l = j->l;
    const int H = l->n_hidden, G = 4 * H, B = j->B;
    const float *w_hh_t = l->w_hh_t;          /* (H, 4H) */
    const float *bias = j->params + l->off_b; /* (4H) */
    const size_t bh = (size_t)B * H;
    int b0, b1;
    aifx__split(B, k, n, &b0, &b1);
    const int nb = b1 - b0;
    if (nb < 1)
        return;
    if (aifx__kernel_path() != AIFX_KPATH_BLAS) { /* w_hh_t holds W_hh^T packed */
        for (int t = 0; t < j->T; t++)
            for (int r0 = b0; r0 < b1; r0 += ROW_BLOCK) {
                const int nr = b1 - r0 < ROW_BLOCK ? b1 - r0 : ROW_BLOCK;
                float *z = l->gates + ((size_t)t * B + r0) * G; /* (nr, 4H) */
                const size_t o = (size_t)r0 * H;
                if (t > 0) /* z += h_{t-1} W_hh^T; h_0 = 0 contributes nothing */
                    aifx__gemm_packed(nr, G, H, l->hs + t * bh + o, H, w_hh_t, z, G, 0);
                aifx__lstm_cell(nr, H, bias, z, t > 0 ? l->cs + t * bh + o : NULL,
                                l->cs + (t + 1) * bh + o, l->hs + (t + 1) * bh + o, 1);
            }
        return;
    }
    for (int t = 0; t < j->T; t++) {
        float *z = l->gates + ((size_t)t * B + b0) * G; /* (nb, 4H) */
        const size_t o = (size_t)b0 * H;
        if (t > 0) /* z += h_{t-1} W_hh^T; h_0 = 0 contributes nothing */
            aifx__gemm(0, 0, nb, G, H, 1.0f, l->hs + t * bh + o, H, w_hh_t, G, 1.0f, z, G);
        aifx__lstm_cell(nb, H, bias, z, t > 0 ? l->cs + t * bh + o : NULL,
                        l->cs + (t + 1) * bh + o, l->hs + (t + 1) * bh + o, 1);
    }
}

void aifx__lstm_forward(const aifx_lstm_layer *l, const float *params, int n_steps, int n_batch,
                        const float *x, aifx_pool *pool)
{
    const size_t bh = (size_t)n_batch * l->n_hidden;
    lstm_job j = {l, params, NULL, n_steps, n_batch, x, NULL, NULL, NULL, NULL, NULL, NULL};
    memset(l->hs, 0, bh * sizeof(float)); /* h_0 = 0 */
    memset(l->cs, 0, bh * sizeof(float)); /* c_0 = 0 */
    const int H = l->n_hidden, G = 4 * H;
    const float *w_hh = params + l->off_w_hh; /* (4H, H) -> w_hh_t (H, 4H) */
    if (aifx__kernel_path() != AIFX_KPATH_BLAS)
        aifx__pack_panels(H, G, w_hh, H, 1, l->w_hh_t); /* W_hh^T (H, 4H) in panels */
    else
        for (int r0 = 0; r0 < G; r0 += 16) /* in 16 x 16 tiles */
            for (int c0 = 0; c0 < H; c0 += 16)
                for (int r = r0; r < r0 + 16 && r < G; r++)
                    for (int c = c0; c < c0 + 16 && c < H; c++)
                        l->w_hh_t[(size_t)c * G + r] = w_hh[(size_t)r * H + c];
    aifx__pool_run(pool, forward_projection, &j);
    aifx__pool_run(pool, forward_recurrence, &j);
}

/* backward through time for sequences [b0, b1); bias gradients into db_part row k */
static void backward_recurrence(void *arg, int k, int n)
{
    const lstm_job *j = arg;
    const aifx_lstm_layer *l = j->l;
    const int H = l->n_hidden, G = 4 * H, B = j->B, T = j->T;
    const float *w_hh = j->params + l->off_w_hh;
    const size_t bh = (size_t)B * H;
    int b0, b1;
    aifx__split(B, k, n, &b0, &b1);
    const int nb = b1 - b0;
    if (nb < 1)
        return;
    const size_t o = (size_t)b0 * H;
    float *dh = j->dh + o, *dc = j->dc + o; /* (nb, H) */
    float *db = n > 1 ? j->db_part + (size_t)k * G : j->grads + l->off_b;
    memset(dh, 0, (size_t)nb * H * sizeof(float)); /* gradient on h_t from step t+1 */
    memset(dc, 0, (size_t)nb * H * sizeof(float)); /* gradient on c_t from step t+1 */
    if (n > 1)
        memset(db, 0, (size_t)G * sizeof(float));
    if (aifx__kernel_path() != AIFX_KPATH_BLAS) { /* w_hh_t holds W_hh packed */
        for (int t = T - 1; t >= 0; t--)
            for (int r0 = b0; r0 < b1; r0 += ROW_BLOCK) {
                const int nr = b1 - r0 < ROW_BLOCK ? b1 - r0 : ROW_BLOCK;
                const size_t o2 = (size_t)r0 * H, d = (size_t)(r0 - b0) * H;
                float *z = l->gates + ((size_t)t * B + r0) * G; /* (nr, 4H) activated -> dz */
                const float *up = j->dh_seq ? j->dh_seq + t * bh + o2
                                            : (t == T - 1 ? j->dh_last + o2 : NULL);
                cell_backward(nr, H, z, l->cs + (t + 1) * bh + o2, l->cs + t * bh + o2, dh + d,
                              up, dc + d, db);
                if (t > 0) /* dh_{t-1} = dz_t W_hh: (nr, 4H) x (4H, H) */
                    aifx__gemm_packed(nr, H, G, z, G, l->w_hh_t, dh + d, H, 1);
            }
        return;
    }
    for (int t = T - 1; t >= 0; t--) {
        float *z = l->gates + ((size_t)t * B + b0) * G; /* (nb, 4H) activated -> dz */
        const float *up = j->dh_seq ? j->dh_seq + t * bh + o : (t == T - 1 ? j->dh_last + o : NULL);
        cell_backward(nb, H, z, l->cs + (t + 1) * bh + o, l->cs + t * bh + o, dh, up, dc, db);
        if (t > 0) /* dh_{t-1} = dz_t W_hh: (nb, 4H) x (4H, H) */
            aifx__gemm(0, 0, nb, H, G, 1.0f, z, G, w_hh, H, 0.0f, dh, H);
    }
}

/* weight gradients rows [g0, g1) of (4H, *), and dx rows [r0, r1) of (T*B, n_in) */
static void backward_weights(void *arg, int k, int n)
{
    const lstm_job *j = arg;
    const aifx_lstm_layer *l = j->l;
    const int H = l->n_hidden, G = 4 * H, TB = j->T * j->B, n_in = l->n_in;
    const size_t bh = (size_t)j->B * H;
    int g0, g1, r0, r1;
    aifx__split(G, k, n, &g0, &g1);
    aifx__split(TB, k, n, &r0, &r1);
    /* gates hold dz (T*B, 4H): dW_ih = dz^T x, dW_hh = dz^T h_{t-1} (from t = 1: h_0 = 0) */
    if (g1 > g0) {
        aifx__gemm(1, 0, g1 - g0, n_in, TB, 1.0f, l->gates + g0, G, j->x, n_in, 1.0f,
                   j->grads + l->off_w_ih + (size_t)g0 * n_in, n_in);
        if (j->T > 1)
            aifx__gemm(1, 0, g1 - g0, H, TB - j->B, 1.0f, l->gates + (size_t)j->B * G + g0, G,
                       l->hs + bh, H, 1.0f, j->grads + l->off_w_hh + (size_t)g0 * H, H);
    }
    if (j->dx && r1 > r0) /* dx (T*B, n_in) = dz (T*B, 4H) W_ih (4H, n_in) */
        aifx__gemm(0, 0, r1 - r0, n_in, G, 1.0f, l->gates + (size_t)r0 * G, G,
                   j->params + l->off_w_ih, n_in, 0.0f, j->dx + (size_t)r0 * n_in, n_in);
}

void aifx__lstm_backward(aifx_lstm_layer *l, const float *params, float *grads, int n_steps,
                         int n_batch, const float *x, const float *dh_seq, const float *dh_last,
                         float *dx, float *dh, float *dc, float *db_part, aifx_pool *pool)
{
    lstm_job j = {l, params, grads, n_steps, n_batch, x, dh_seq, dh_last, dx, dh, dc, db_part};
    const int n = aifx__pool_size(pool), G = 4 * l->n_hidden;
    if (aifx__kernel_path() != AIFX_KPATH_BLAS) /* W_hh (4H, H) in panels, once for all T steps */
        aifx__pack_panels(G, l->n_hidden, params + l->off_w_hh, l->n_hidden, 0, l->w_hh_t);
    aifx__pool_run(pool, backward_recurrence, &j);
    if (n > 1) { /* the workers' bias gradients, summed in worker order */
        float *g_b = grads + l->off_b;
        for (int k = 0; k < n; k++)
            for (int i = 0; i < G; i++)
                g_b[i] += db_part[(size_t)k * G + i];
    }
    aifx__pool_run(pool, backward_weights, &j);
}
