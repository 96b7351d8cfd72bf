/*
 * cell_avx2.c - the cell's elementwise work (cell_impl.h) on 8-float vectors for AVX2 + FMA, the
 * kernel path AIFX_KPATH_AVX2 (kernel.c). lstm.c's 16-float form, compiled for AVX2, kept two
 * ymm per value and spilled most of its ~40 vector constants: the forward cell was 30 % of a
 * W1 training step. Only called when the CPU has AVX2 and FMA.
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
#define AIFX_INLINE static inline __attribute__((always_inline))
#define CELL_VW     8
#define CELL_LINKAGE
#define CELL_FN(x) aifx__##x##_avx2
#include "cell_impl.h"
#else
/* not reached: the AVX2 path is never chosen on other targets */
void aifx__lstm_cell_avx2(int n_batch, int n_hidden, const float *bias, float *z,
                          const float *c_prev, float *c, float *h, int keep_gates)
{
    (void)n_batch, (void)n_hidden, (void)bias, (void)z, (void)c_prev, (void)c, (void)h;
    (void)keep_gates;
}
void aifx__cell_backward_avx2(int n_batch, int n_hidden, float *z, const float *ct, const float *cp,
                              const float *dh, const float *up, float *dc, float *db)
{
    (void)n_batch, (void)n_hidden, (void)z, (void)ct, (void)cp, (void)dh, (void)up, (void)dc;
    (void)db;
}
#endif
