/*
 * blas.c - the library's only contact with CBLAS and LAPACKE.
 *
 * aifx__gemm is cblas_sgemm in row-major order (cblas_sgemv when A has one row).
 * aifx__orthonormal_columns computes the orthogonal initialiser: for G (rows x cols, rows >= cols)
 * with entries N(0, 1), G = QR by Householder QR (dgeqrf, then dorgqr forms the thin Q), and Q's
 * column j is multiplied by sign(R_jj) so that the result is unique and uniformly (Haar)
 * distributed, as Keras' Orthogonal initialiser and Mezzadri (2007, "How to generate random
 * matrices from the classical compact groups") do. Double precision keeps Q^T Q = I to ~1e-15
 * before the cast to float.
 */
#include <cblas.h>
#include <lapacke.h>

#include "internal.h"

void aifx__gemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                const float *b, int ldb, float beta, float *c, int ldc)
{
    if (m == 1) {
        /* One row (batch-1 inference): c (n) = alpha op(B)^T a + beta c as a GEMV, which reads B
         * once in place. OpenBLAS's sgemm would pack all of B first on every call, and without
         * its small-matrix kernels (e.g. under OPENBLAS_CORETYPE=Haswell) that made batch-1
         * latency 5 to 10 times slower. a is A's only row, or column with stride lda. */
        const int inc_a = trans_a ? lda : 1;
        if (trans_b) /* B (n, k): c = B a */
            cblas_sgemv(CblasRowMajor, CblasNoTrans, n, k, alpha, b, ldb, a, inc_a, beta, c, 1);
        else /* B (k, n): c = B^T a */
            cblas_sgemv(CblasRowMajor, CblasTrans, k, n, alpha, b, ldb, a, inc_a, beta, c, 1);
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

aifx_status aifx__orthonormal_columns(int rows, int cols, double *g, float *q)
{
    if (rows < cols || cols < 1)
        return AIFX_ERR_INVALID;
    double *tau = aifx__malloc((size_t)cols * sizeof(double));
    double *diag = aifx__malloc((size_t)cols * sizeof(double));
    if (!tau || !diag) {
        aifx__free(tau);
        aifx__free(diag);
        return AIFX_ERR_NOMEM;
    }
    aifx_status st = AIFX_OK;
    if (LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, rows, cols, g, cols, tau) != 0) {
        st = AIFX_ERR_LAPACK;
        goto out;
    }
    for (int j = 0; j < cols; j++)
        diag[j] = g[(size_t)j * cols + j];
    if (LAPACKE_dorgqr(LAPACK_ROW_MAJOR, rows, cols, cols, g, cols, tau) != 0) {
        st = AIFX_ERR_LAPACK;
        goto out;
    }
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            double v = g[(size_t)i * cols + j];
            q[(size_t)i * cols + j] = (float)(diag[j] < 0 ? -v : v);
        }
out:
    aifx__free(tau);
    aifx__free(diag);
    return st;
}
