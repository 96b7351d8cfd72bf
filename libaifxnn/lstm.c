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
 *   dW_ih = sum_t dz_t^T x_t   dW_hh = sum_t dz_t^T h_{t-1}   db = sum_t sum_b dz_t   dx_t = dz_t
 * W_ih
 *
 * Layout makes the big products single GEMMs: the input projection of all T steps is one
 * (T*B, n_in) x (n_in, 4H) product before the recurrence; dW_ih, dW_hh and dx are one GEMM each
 * after it, over the time-major (T*B, *) buffers. Only h_{t-1} W_hh^T and dz_t W_hh run per step.
 * On the packed kernel path (kernel.c, CPUs with AVX2 and FMA) the per-step products read weights
 * packed once per call, and forward folds the input projection into them:
 * z_t = [x_t h_{t-1}] [W_ih^T; W_hh^T], one block of rows at a time, each block's cell right after;
 * backward computes a block's dh_{t-1} = dz_t W_hh and dx_t = dz_t W_ih right after its dz_t.
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
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && !defined(__clang__) &&      \
    !defined(AIFX_NO_CLONES)
#define AIFX_CLONES                                                                                \
    __attribute__((target_clones("avx512f", "avx2", "default"), optimize("fp-contract=fast")))
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

#define CELL_VW      16
#define CELL_ATTR    AIFX_CLONES
#define CELL_LINKAGE static
#define CELL_FN(x)   generic_##x
#include "cell_impl.h"

void aifx__lstm_cell(int n_batch, int n_hidden, const float *bias, float *z, const float *c_prev,
                     float *c, float *h, int keep_gates)
{
    if (aifx__kernel_path() == AIFX_KPATH_AVX2)
        aifx__lstm_cell_avx2(n_batch, n_hidden, bias, z, c_prev, c, h, keep_gates);
    else
        generic_lstm_cell(n_batch, n_hidden, bias, z, c_prev, c, h, keep_gates);
}

/* One step of the backward elementwise work (cell_impl.h) on the kernel path's cell */
static void cell_backward(int n_batch, int n_hidden, float *z, const float *ct, const float *cp,
                          const float *dh, const float *up, float *dc)
{
    if (aifx__kernel_path() == AIFX_KPATH_AVX2)
        aifx__cell_backward_avx2(n_batch, n_hidden, z, ct, cp, dh, up, dc);
    else
        generic_cell_backward(n_batch, n_hidden, z, ct, cp, dh, up, dc);
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

size_t aifx__lstm_pack_floats(int n_in, int n_hidden)
{
    const int H = n_hidden, G = 4 * H;
    size_t n = (size_t)G * H; /* the BLAS path's transpose */
    /* backward: W_hh (4H, H) and, for dx, W_ih (4H, n_in), each in panels */
    const size_t fwd = aifx__panel_floats(n_in + H, G);
    const size_t bwd = aifx__panel_floats(G, H) + aifx__panel_floats(G, n_in);
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
    if (aifx__kernel_path() != AIFX_KPATH_BLAS) { /* w_hh_t holds [W_ih^T; W_hh^T] packed */
        const int n_in = l->n_in;
        for (int t = 0; t < j->T; t++)
            for (int r0 = b0; r0 < b1; r0 += ROW_BLOCK) {
                const int nr = b1 - r0 < ROW_BLOCK ? b1 - r0 : ROW_BLOCK;
                float *z = l->gates + ((size_t)t * B + r0) * G; /* (nr, 4H) */
                const size_t o = (size_t)r0 * H;
                /* z = x_t W_ih^T + h_{t-1} W_hh^T in one pass; h_0 = 0 contributes nothing */
                aifx__gemm_packed2(nr, G, n_in, j->x + ((size_t)t * B + r0) * n_in, n_in,
                                   t > 0 ? H : 0, l->hs + t * bh + o, H, n_in + H, w_hh_t, z, G, 1);
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
        aifx__lstm_cell(nb, H, bias, z, t > 0 ? l->cs + t * bh + o : NULL, l->cs + (t + 1) * bh + o,
                        l->hs + (t + 1) * bh + o, 1);
    }
}

void aifx__lstm_forward(const aifx_lstm_layer *l, const float *params, int n_steps, int n_batch,
                        const float *x, aifx_pool *pool)
{
    const size_t bh = (size_t)n_batch * l->n_hidden;
    lstm_job j = {l, params, NULL, n_steps, n_batch, x, NULL, NULL, NULL, NULL, NULL};
    memset(l->hs, 0, bh * sizeof(float)); /* h_0 = 0 */
    memset(l->cs, 0, bh * sizeof(float)); /* c_0 = 0 */
    const int H = l->n_hidden, G = 4 * H;
    const float *w_hh = params + l->off_w_hh; /* (4H, H) -> w_hh_t (H, 4H) */
    if (aifx__kernel_path() != AIFX_KPATH_BLAS) {
        /* [W_ih^T; W_hh^T] (n_in + H, 4H) in panels; no separate input projection */
        const int kp = l->n_in + H;
        aifx__pack_panel_rows(kp, l->n_in, G, params + l->off_w_ih, l->n_in, 1, l->w_hh_t);
        aifx__pack_panel_rows(kp, H, G, w_hh, H, 1, l->w_hh_t + (size_t)l->n_in * AIFX_PANEL_NR);
        aifx__pool_run(pool, forward_recurrence, &j);
        return;
    }
    for (int r0 = 0; r0 < G; r0 += 16) /* in 16 x 16 tiles */
        for (int c0 = 0; c0 < H; c0 += 16)
            for (int r = r0; r < r0 + 16 && r < G; r++)
                for (int c = c0; c < c0 + 16 && c < H; c++)
                    l->w_hh_t[(size_t)c * G + r] = w_hh[(size_t)r * H + c];
    aifx__pool_run(pool, forward_projection, &j);
    aifx__pool_run(pool, forward_recurrence, &j);
}

/* backward through time for sequences [b0, b1) */
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
    float *dh = j->dh + o, *dc = j->dc + o;        /* (nb, H) */
    memset(dh, 0, (size_t)nb * H * sizeof(float)); /* gradient on h_t from step t+1 */
    memset(dc, 0, (size_t)nb * H * sizeof(float)); /* gradient on c_t from step t+1 */
    if (aifx__kernel_path() != AIFX_KPATH_BLAS) {  /* w_hh_t holds W_hh packed */
        for (int t = T - 1; t >= 0; t--)
            for (int r0 = b0; r0 < b1; r0 += ROW_BLOCK) {
                const int nr = b1 - r0 < ROW_BLOCK ? b1 - r0 : ROW_BLOCK;
                const size_t o2 = (size_t)r0 * H, d = (size_t)(r0 - b0) * H;
                float *z = l->gates + ((size_t)t * B + r0) * G; /* (nr, 4H) activated -> dz */
                const float *up =
                    j->dh_seq ? j->dh_seq + t * bh + o2 : (t == T - 1 ? j->dh_last + o2 : NULL);
                cell_backward(nr, H, z, l->cs + (t + 1) * bh + o2, l->cs + t * bh + o2, dh + d, up,
                              dc + d);
                if (t > 0) /* dh_{t-1} = dz_t W_hh: (nr, 4H) x (4H, H) */
                    aifx__gemm_packed(nr, H, G, z, G, l->w_hh_t, dh + d, H, 1);
                if (j->dx) /* dx_t = dz_t W_ih: (nr, 4H) x (4H, n_in), while dz is in L2 */
                    aifx__gemm_packed(nr, l->n_in, G, z, G, l->w_hh_t + aifx__panel_floats(G, H),
                                      j->dx + ((size_t)t * B + r0) * l->n_in, l->n_in, 1);
            }
        return;
    }
    for (int t = T - 1; t >= 0; t--) {
        float *z = l->gates + ((size_t)t * B + b0) * G; /* (nb, 4H) activated -> dz */
        const float *up = j->dh_seq ? j->dh_seq + t * bh + o : (t == T - 1 ? j->dh_last + o : NULL);
        cell_backward(nb, H, z, l->cs + (t + 1) * bh + o, l->cs + t * bh + o, dh, up, dc);
        if (t > 0) /* dh_{t-1} = dz_t W_hh: (nb, 4H) x (4H, H) */
            aifx__gemm(0, 0, nb, H, G, 1.0f, z, G, w_hh, H, 0.0f, dh, H);
    }
}

/* db[g0, g1) += the column sums of dz (T*B, 4H), rows in the order of the recurrence: t from
 * T-1 down to 0, sequences in order. Each element's sum has one order whatever the thread count
 * (a split of the batch would associate it differently), so results do not depend on it. */
typedef float colv __attribute__((vector_size(32)));

AIFX_CLONES
static void bias_gradient(int T, int B, int G, const float *dz, int g0, int g1, float *db)
{
    int g = g0;
    for (; g + 64 <= g1; g += 64) { /* 64 columns in 8 vector sums, a row's 256 bytes at a time */
        colv a[8];
        memcpy(a, db + g, sizeof a);
        for (int t = T - 1; t >= 0; t--)
            for (int b = 0; b < B; b++) {
                colv r[8];
                memcpy(r, dz + ((size_t)t * B + b) * G + g, sizeof r);
                for (int q = 0; q < 8; q++)
                    a[q] += r[q];
            }
        memcpy(db + g, a, sizeof a);
    }
    for (; g < g1; g++) {
        float a = db[g];
        for (int t = T - 1; t >= 0; t--)
            for (int b = 0; b < B; b++)
                a += dz[((size_t)t * B + b) * G + g];
        db[g] = a;
    }
}

/* The weight-gradient rows (4H) go to BLAS in two fixed pieces (the second may be shorter),
 * whatever the thread count: an sgemm element's bits depend on the shape of the call it is computed
 * in (OpenBLAS picks other kernels for the tails of M), so the pieces, not the workers, decide each
 * element's sums, and workers take whole pieces. Two, of at least 128 rows: each piece packs the
 * other operand (T*B rows) again and runs OpenBLAS at a smaller M, which cost 5 % of a W3 step
 * at 1 thread with pieces of 128 rows (bench, same process); two pieces are what two workers
 * had before. A third worker and more wait for this part. */
static int wg_rows(int G)
{
    int r = ((G + 1) / 2 + 15) / 16 * 16;
    return r < 128 ? 128 : r;
}

/* bias and weight gradients rows [g0, g1) of (4H, *), and dx rows [r0, r1) of (T*B, n_in) */
static void backward_weights(void *arg, int k, int n)
{
    const lstm_job *j = arg;
    const aifx_lstm_layer *l = j->l;
    const int H = l->n_hidden, G = 4 * H, TB = j->T * j->B, n_in = l->n_in;
    const size_t bh = (size_t)j->B * H;
    const int rows = wg_rows(G);
    int c0, c1, r0, r1;
    aifx__split((G + rows - 1) / rows, k, n, &c0, &c1);
    aifx__split(TB, k, n, &r0, &r1);
    /* gates hold dz (T*B, 4H): dW_ih = dz^T x, dW_hh = dz^T h_{t-1} (from t = 1: h_0 = 0) */
    for (int c = c0; c < c1; c++) {
        const int g0 = c * rows, g1 = g0 + rows < G ? g0 + rows : G;
        bias_gradient(j->T, j->B, G, l->gates, g0, g1, j->grads + l->off_b);
        aifx__gemm(1, 0, g1 - g0, n_in, TB, 1.0f, l->gates + g0, G, j->x, n_in, 1.0f,
                   j->grads + l->off_w_ih + (size_t)g0 * n_in, n_in);
        if (j->T > 1)
            aifx__gemm(1, 0, g1 - g0, H, TB - j->B, 1.0f, l->gates + (size_t)j->B * G + g0, G,
                       l->hs + bh, H, 1.0f, j->grads + l->off_w_hh + (size_t)g0 * H, H);
    }
    /* dx (T*B, n_in) = dz (T*B, 4H) W_ih (4H, n_in); the packed path did it per block */
    if (j->dx && r1 > r0 && aifx__kernel_path() == AIFX_KPATH_BLAS)
        aifx__gemm(0, 0, r1 - r0, n_in, G, 1.0f, l->gates + (size_t)r0 * G, G,
                   j->params + l->off_w_ih, n_in, 0.0f, j->dx + (size_t)r0 * n_in, n_in);
}

void aifx__lstm_backward(aifx_lstm_layer *l, const float *params, float *grads, int n_steps,
                         int n_batch, const float *x, const float *dh_seq, const float *dh_last,
                         float *dx, float *dh, float *dc, aifx_pool *pool)
{
    lstm_job j = {l, params, grads, n_steps, n_batch, x, dh_seq, dh_last, dx, dh, dc};
    const int G = 4 * l->n_hidden;
    if (aifx__kernel_path() != AIFX_KPATH_BLAS) { /* in panels, once for all T steps */
        aifx__pack_panels(G, l->n_hidden, params + l->off_w_hh, l->n_hidden, 0, l->w_hh_t);
        if (dx) /* W_ih (4H, n_in) after W_hh, for dx_t in the recurrence's blocks */
            aifx__pack_panels(G, l->n_in, params + l->off_w_ih, l->n_in, 0,
                              l->w_hh_t + aifx__panel_floats(G, l->n_hidden));
    }
    aifx__pool_run(pool, backward_recurrence, &j);
    aifx__pool_run(pool, backward_weights, &j);
}
