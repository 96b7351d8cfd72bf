/*
 * cell_avx2.c - the cell's elementwise work (cell_impl.h) on 8-float vectors for AVX2 + FMA, the
 * kernel path AIFX_KPATH_AVX2 (kernel.c). lstm.c's 16-float form, compiled for AVX2, kept two
 * ymm per value and spilled most of its ~40 vector constants: the forward cell was 30 % of a
 * W1 training step. Only called when the CPU has AVX2 and FMA.
 *
 * Also batch-1 inference's step, aifx__lstm_step1_avx2: OpenBLAS's sgemv read W_hh at 30-65 B/ns
 * where these dot products reach 60-93, the L2's rate (H = 128, 256 KiB; docs/performance.md),
 * so the product is our own: 8 rows at a time, a dot product per row over W_hh as it lies in
 * the parameter block (row-major (4H, H) is already the layout a GEMV wants: no packing, no copy
 * kept in the net, nothing to invalidate when the parameters change, and predict stays const and
 * thread-safe). The gate rows of 8 units (i, f, g, o) go straight into the cell, so the cell's
 * arithmetic overlaps the weight stream.
 */
#include <stdint.h>
#include <string.h>

#include "internal.h"

#if defined(__GNUC__) && defined(__x86_64__)
#if defined(__clang__)
#define CELL_ATTR __attribute__((target("avx2,fma")))
#else
#define CELL_ATTR __attribute__((target("avx2,fma"), optimize("fp-contract=fast")))
#endif
/* as in lstm.c: always-inlined helpers, vectors through pointers (no real call, no ABI) */
#pragma GCC diagnostic ignored "-Wpsabi"
#define AIFX_INLINE static inline __attribute__((always_inline, target("avx2,fma")))
#define CELL_VW     8
#define CELL_LINKAGE
#define CELL_FN(x) aifx__##x##_avx2
#include "cell_impl.h"

#include <immintrin.h>

#define AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma")))

/* 8 sums of 8 lanes each into one vector, lane r = the sum of a[r], in a fixed tree */
AVX2_INLINE __m256 hsum8x8(const __m256 *a)
{
    const __m256 t0 = _mm256_hadd_ps(a[0], a[1]), t1 = _mm256_hadd_ps(a[2], a[3]);
    const __m256 t2 = _mm256_hadd_ps(a[4], a[5]), t3 = _mm256_hadd_ps(a[6], a[7]);
    const __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);
    return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20),
                         _mm256_permute2f128_ps(u0, u1, 0x31));
}

/* Lane r (< n <= 8) = row r of W (ldw) . x over k columns, lanes n .. 7 zero: one 8-lane
 * accumulator per row (8 rows: 8 independent FMA chains, the latency hidden), the last k % 8
 * columns through the mask tail, then hsum8x8. A fixed order: the same bytes run to run. */
AVX2_INLINE __m256 dot_rows(const int n, int k, const float *w, size_t ldw, const float *x,
                            __m256i tail)
{
    __m256 acc[8];
#pragma GCC unroll 8
    for (int r = 0; r < 8; r++)
        acc[r] = _mm256_setzero_ps();
    int kk = 0;
    for (; kk + 8 <= k; kk += 8) {
        const __m256 xv = _mm256_loadu_ps(x + kk);
#pragma GCC unroll 8
        for (int r = 0; r < n; r++)
            acc[r] = _mm256_fmadd_ps(_mm256_loadu_ps(w + r * ldw + kk), xv, acc[r]);
    }
    if (kk < k) {
        const __m256 xv = _mm256_maskload_ps(x + kk, tail);
#pragma GCC unroll 8
        for (int r = 0; r < n; r++)
            acc[r] = _mm256_fmadd_ps(_mm256_maskload_ps(w + r * ldw + kk, tail), xv, acc[r]);
    }
    return hsum8x8(acc);
}

/* Units j .. j+n-1 of a batch-1 step (n = 8 in the main loop, inlined with a constant) */
AVX2_INLINE void step1_chunk(int H, const float *w_hh, const float *hp, const float *zx,
                             const float *bias, float *c, float *h, int j, int n, __m256i tail)
{
    vf z4[4];
    for (int q = 0; q < 4; q++) {
        vf zq = vload(zx + q * H + j, n);
        if (hp) {
            const __m256 s = dot_rows(n, H, w_hh + (size_t)(q * H + j) * H, (size_t)H, hp, tail);
            zq = zq + (vf)s;
        }
        if (bias)
            zq += vload(bias + q * H + j, n);
        z4[q] = zq;
    }
    vf i, f, g, o;
    gates4(z4, &i, &f, &g, &o);
    vf cn = i * g;
    if (hp)
        cn = cn + f * vload(c + j, n);
    VSTORE(c + j, cn, n);
    VSTORE(h + j, o * VTANH(cn), n);
}

CELL_ATTR
void aifx__proj_rows_avx2(int m, int n, int k, const float *x, const float *w, float *z)
{
    const __m256i tail =
        _mm256_cmpgt_epi32(_mm256_set1_epi32(k % 8), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    int j = 0;
    for (; j + 8 <= n; j += 8) /* 8 rows of W stay in L1 over the m rows of x */
        for (int t = 0; t < m; t++)
            _mm256_storeu_ps(z + (size_t)t * n + j,
                             dot_rows(8, k, w + (size_t)j * k, (size_t)k, x + (size_t)t * k, tail));
    if (j < n)
        for (int t = 0; t < m; t++) {
            const __m256 s =
                dot_rows(n - j, k, w + (size_t)j * k, (size_t)k, x + (size_t)t * k, tail);
            VSTORE(z + (size_t)t * n + j, (vf)s, n - j);
        }
}

CELL_ATTR
void aifx__lstm_step1_avx2(int n_hidden, const float *w_hh, const float *h_prev, const float *zx,
                           const float *bias, float *c, float *h)
{
    const int H = n_hidden;
    const __m256i tail =
        _mm256_cmpgt_epi32(_mm256_set1_epi32(H % 8), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    int j = 0;
    for (; j + 8 <= H; j += 8)
        step1_chunk(H, w_hh, h_prev, zx, bias, c, h, j, 8, tail);
    if (j < H)
        step1_chunk(H, w_hh, h_prev, zx, bias, c, h, j, H - j, tail);
}
#else
/* not reached: the AVX2 path is never chosen on other targets */
void aifx__lstm_cell_avx2(int n_batch, int n_hidden, const float *bias, float *z,
                          const float *c_prev, float *c, float *h, int keep_gates)
{
    (void)n_batch, (void)n_hidden, (void)bias, (void)z, (void)c_prev, (void)c, (void)h;
    (void)keep_gates;
}
void aifx__cell_backward_avx2(int n_batch, int n_hidden, float *z, const float *ct, const float *cp,
                              const float *dh, const float *up, float *dc)
{
    (void)n_batch, (void)n_hidden, (void)z, (void)ct, (void)cp, (void)dh, (void)up, (void)dc;
}
void aifx__proj_rows_avx2(int m, int n, int k, const float *x, const float *w, float *z)
{
    (void)m, (void)n, (void)k, (void)x, (void)w, (void)z;
}
void aifx__lstm_step1_avx2(int n_hidden, const float *w_hh, const float *h_prev, const float *zx,
                           const float *bias, float *c, float *h)
{
    (void)n_hidden, (void)w_hh, (void)h_prev, (void)zx, (void)bias, (void)c, (void)h;
}
#endif
