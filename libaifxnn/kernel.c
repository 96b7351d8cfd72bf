/*
 * kernel.c - the per-step recurrent product on a packed weight panel (see docs/performance.md).
 *
 * OpenBLAS packs its B operand on every sgemm call, so the recurrent product h_{t-1} W_hh^T
 * (forward) and dz_t W_hh (backward) re-packed the same weights at each of the T steps (16 % of
 * a W3 training step). Here the weights are packed once per forward or backward call into
 * panels of NR = 16 columns, each panel K rows of 16 contiguous floats (zero-padded on the
 * right), and an AVX2/FMA micro-kernel computes MR = 6 rows x 16 columns of C at a time
 * (12 ymm accumulators) straight from the row-major A and the packed panel.
 *
 * Every element of C is summed in the same order, k = 0 .. K-1, whatever row block or thread it
 * falls in, so the results do not depend on the thread count at all, and are the same run to
 * run on a given CPU. The AVX2 code is compiled with a target attribute (no -march) and chosen at
 * load time with __builtin_cpu_supports; on a CPU without AVX2 and FMA, or when a test forces
 * it, the library keeps the OpenBLAS path (AIFX_KPATH_BLAS).
 */
#include <string.h>

#include "internal.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define AIFX_HAVE_AVX2_KERNEL 1
#else
#define AIFX_HAVE_AVX2_KERNEL 0
#endif

#define NR AIFX_PANEL_NR
#define MR 6

static int kernel_path = -1; /* -1: not chosen yet */

int aifx__kernel_path_supported(int path)
{
    switch (path) {
    case AIFX_KPATH_BLAS:
        return 1;
    case AIFX_KPATH_AVX2:
#if AIFX_HAVE_AVX2_KERNEL
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
        return 0;
#endif
    default:
        return 0;
    }
}

static int best_path(void)
{
    return aifx__kernel_path_supported(AIFX_KPATH_AVX2) ? AIFX_KPATH_AVX2 : AIFX_KPATH_BLAS;
}

#if defined(__GNUC__)
__attribute__((constructor)) static void choose_path(void)
{
    if (kernel_path < 0)
        kernel_path = best_path();
}
#endif

int aifx__kernel_path(void)
{
    if (kernel_path < 0)
        kernel_path = best_path();
    return kernel_path;
}

int aifx__set_kernel_path(int path)
{
    if (path < 0) {
        kernel_path = best_path();
        return 1;
    }
    if (!aifx__kernel_path_supported(path))
        return 0;
    kernel_path = path;
    return 1;
}

size_t aifx__panel_floats(int k, int n)
{
    return (size_t)((n + NR - 1) / NR) * NR * (size_t)k;
}

void aifx__pack_panels(int k, int n, const float *src, int ld, int trans, float *dst)
{
    aifx__pack_panel_rows(k, k, n, src, ld, trans, dst);
}

void aifx__pack_panel_rows(int kp, int k, int n, const float *src, int ld, int trans, float *dst)
{
    for (int p0 = 0; p0 < n; p0 += NR) {
        const int w = n - p0 < NR ? n - p0 : NR;
        float *d = dst + (size_t)p0 * kp; /* panel p0 / NR */
        if (trans) {                      /* B[kk][c] = src[c][kk] */
            for (int c = 0; c < w; c++) {
                const float *s = src + (size_t)(p0 + c) * ld;
                for (int kk = 0; kk < k; kk++)
                    d[(size_t)kk * NR + c] = s[kk];
            }
        } else {
            for (int kk = 0; kk < k; kk++)
                memcpy(d + (size_t)kk * NR, src + (size_t)kk * ld + p0, (size_t)w * sizeof(float));
        }
        if (w < NR)
            for (int kk = 0; kk < k; kk++)
                memset(d + (size_t)kk * NR + w, 0, (size_t)(NR - w) * sizeof(float));
    }
}

#if AIFX_HAVE_AVX2_KERNEL

#define AVX2_FN     __attribute__((target("avx2,fma")))
#define AVX2_INLINE static inline __attribute__((target("avx2,fma"), always_inline))

/* K rows of the product: c0, c1 (M rows of 16) += A (M, K; lda) B (K, 16, packed) */
#define UKR_ROWS(K, a, lda, bp)                                                                    \
    for (int k = 0; k < (K); k++) {                                                                \
        const __m256 b0 = _mm256_loadu_ps((bp) + (size_t)k * NR);                                  \
        const __m256 b1 = _mm256_loadu_ps((bp) + (size_t)k * NR + 8);                              \
        _Pragma("GCC unroll 6") for (int r = 0; r < M; r++)                                        \
        {                                                                                          \
            const __m256 av = _mm256_broadcast_ss((a) + r * (lda) + k);                            \
            c0[r] = _mm256_fmadd_ps(av, b0, c0[r]);                                                \
            c1[r] = _mm256_fmadd_ps(av, b1, c1[r]);                                                \
        }                                                                                          \
    }

/* C (M rows, 16 columns, ldc) (+)= [A1 A2] (M, K1 + K2) B (K1 + K2, 16, packed), A1's columns
 * first: two operands side by side without copying them into one (x_t and h_{t-1}) */
AVX2_INLINE void ukr(const int M, int K1, const float *a1, size_t lda1, int K2, const float *a2,
                     size_t lda2, const float *bp, float *c, size_t ldc, int zero)
{
    __m256 c0[MR], c1[MR];
#pragma GCC unroll 6
    for (int r = 0; r < M; r++) {
        if (zero) {
            c0[r] = _mm256_setzero_ps();
            c1[r] = _mm256_setzero_ps();
        } else {
            c0[r] = _mm256_loadu_ps(c + r * ldc);
            c1[r] = _mm256_loadu_ps(c + r * ldc + 8);
        }
    }
    UKR_ROWS(K1, a1, lda1, bp)
    UKR_ROWS(K2, a2, lda2, bp + (size_t)K1 * NR)
#pragma GCC unroll 6
    for (int r = 0; r < M; r++) {
        _mm256_storeu_ps(c + r * ldc, c0[r]);
        _mm256_storeu_ps(c + r * ldc + 8, c1[r]);
    }
}

#define UKR_M(M)                                                                                   \
    static AVX2_FN void ukr##M(int K1, const float *a1, size_t lda1, int K2, const float *a2,      \
                               size_t lda2, const float *bp, float *c, size_t ldc, int zero)       \
    {                                                                                              \
        ukr(M, K1, a1, lda1, K2, a2, lda2, bp, c, ldc, zero);                                      \
    }
UKR_M(1)
UKR_M(2)
UKR_M(3)
UKR_M(4)
UKR_M(5)
UKR_M(6)

typedef void (*ukr_fn)(int, const float *, size_t, int, const float *, size_t, const float *,
                       float *, size_t, int);
static const ukr_fn ukrs[MR + 1] = {NULL, ukr1, ukr2, ukr3, ukr4, ukr5, ukr6};

/* One row (batch-1 inference): P panels at once, 2P independent accumulators, so that the
 * FMA latency is hidden (the 6-row kernel with one row would wait on it at every k). The sums
 * run in the same k order as the 6-row kernel's. */
AVX2_INLINE void row_panels(const int P, int k1, const float *a1, int k2, const float *a2,
                            size_t kp, const float *bp, float *c, int zero)
{
    __m256 acc[8];
#pragma GCC unroll 8
    for (int q = 0; q < 2 * P; q++)
        acc[q] = zero ? _mm256_setzero_ps() : _mm256_loadu_ps(c + q * 8);
    for (int k = 0; k < k1; k++) {
        const __m256 av = _mm256_broadcast_ss(a1 + k);
#pragma GCC unroll 8
        for (int q = 0; q < 2 * P; q++)
            acc[q] = _mm256_fmadd_ps(
                av, _mm256_loadu_ps(bp + (q / 2) * kp * NR + (size_t)k * NR + (q % 2) * 8), acc[q]);
    }
    const float *b2 = bp + (size_t)k1 * NR;
    for (int k = 0; k < k2; k++) {
        const __m256 av = _mm256_broadcast_ss(a2 + k);
#pragma GCC unroll 8
        for (int q = 0; q < 2 * P; q++)
            acc[q] = _mm256_fmadd_ps(
                av, _mm256_loadu_ps(b2 + (q / 2) * kp * NR + (size_t)k * NR + (q % 2) * 8), acc[q]);
    }
#pragma GCC unroll 8
    for (int q = 0; q < 2 * P; q++)
        _mm256_storeu_ps(c + q * 8, acc[q]);
}

AVX2_FN
static void row_panels4(int k1, const float *a1, int k2, const float *a2, size_t kp,
                        const float *bp, float *c, int zero)
{
    row_panels(4, k1, a1, k2, a2, kp, bp, c, zero);
}

AVX2_FN
static void row_panels1(int k1, const float *a1, int k2, const float *a2, size_t kp,
                        const float *bp, float *c, int zero)
{
    row_panels(1, k1, a1, k2, a2, kp, bp, c, zero);
}

AVX2_FN
static void gemm_packed_avx2(int m, int n, int k1, const float *a1, int lda1, int k2,
                             const float *a2, int lda2, int kp, const float *bp, float *c, int ldc,
                             int zero)
{
    if (m == 1) {
        int p0 = 0;
        for (; p0 + 4 * NR <= n; p0 += 4 * NR)
            row_panels4(k1, a1, k2, a2, (size_t)kp, bp + (size_t)p0 * kp, c + p0, zero);
        for (; p0 < n; p0 += NR) {
            const int w = n - p0 < NR ? n - p0 : NR;
            float tile[NR];
            memcpy(tile, c + p0, (size_t)w * sizeof(float));
            memset(tile + w, 0, (size_t)(NR - w) * sizeof(float));
            row_panels1(k1, a1, k2, a2, (size_t)kp, bp + (size_t)p0 * kp, tile, zero);
            memcpy(c + p0, tile, (size_t)w * sizeof(float));
        }
        return;
    }

    for (int p0 = 0; p0 < n; p0 += NR) { /* the panel stays in L1 over all rows */
        const float *b = bp + (size_t)p0 * kp;
        const int w = n - p0 < NR ? n - p0 : NR;
        for (int i0 = 0; i0 < m; i0 += MR) {
            const int mr = m - i0 < MR ? m - i0 : MR;
            const float *ai = a1 + (size_t)i0 * lda1;
            const float *ai2 = a2 ? a2 + (size_t)i0 * lda2 : NULL;
            float *ci = c + (size_t)i0 * ldc + p0;
            if (w == NR) {
                ukrs[mr](k1, ai, (size_t)lda1, k2, ai2, (size_t)lda2, b, ci, (size_t)ldc, zero);
            } else { /* the right edge through a padded tile, same summation order */
                float tile[MR * NR];
                for (int r = 0; r < mr; r++) {
                    memcpy(tile + r * NR, ci + (size_t)r * ldc, (size_t)w * sizeof(float));
                    memset(tile + r * NR + w, 0, (size_t)(NR - w) * sizeof(float));
                }
                ukrs[mr](k1, ai, (size_t)lda1, k2, ai2, (size_t)lda2, b, tile, NR, zero);
                for (int r = 0; r < mr; r++)
                    memcpy(ci + (size_t)r * ldc, tile + r * NR, (size_t)w * sizeof(float));
            }
        }
    }
}
#endif

void aifx__gemm_packed2(int m, int n, int k1, const float *a1, int lda1, int k2, const float *a2,
                        int lda2, int kp, const float *bp, float *c, int ldc, int zero)
{
    if (k2 <= 0)
        a2 = NULL, k2 = 0;
#if AIFX_HAVE_AVX2_KERNEL
    gemm_packed_avx2(m, n, k1, a1, lda1, k2, a2, lda2, kp, bp, c, ldc, zero);
#else
    /* not reached: aifx__kernel_path() is AIFX_KPATH_BLAS without the AVX2 kernel */
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            const float *b = bp + (size_t)(j / NR) * NR * kp + j % NR;
            float s = zero ? 0.0f : c[(size_t)i * ldc + j];
            for (int kk = 0; kk < k1; kk++)
                s += a1[(size_t)i * lda1 + kk] * b[(size_t)kk * NR];
            for (int kk = 0; kk < k2; kk++)
                s += a2[(size_t)i * lda2 + kk] * b[(size_t)(k1 + kk) * NR];
            c[(size_t)i * ldc + j] = s;
        }
#endif
}

void aifx__gemm_packed(int m, int n, int k, const float *a, int lda, const float *bp, float *c,
                       int ldc, int zero)
{
    aifx__gemm_packed2(m, n, k, a, lda, 0, NULL, 0, k, bp, c, ldc, zero);
}
