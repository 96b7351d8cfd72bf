/*
 * internal.h - private declarations shared by the library's modules (and reachable from the
 * test suites, which link the static library). Nothing here is installed.
 */
#ifndef AIFX_INTERNAL_H
#define AIFX_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "aifxnn.h"

#define AIFX_ALIGN 64 /* bytes: a cache line, and enough for any SIMD load */

/* ---- allocation (alloc.c): one allocator so that tests can inject failures ---- */

/* 64-byte-aligned, zeroed allocation of n floats; NULL on failure or overflow. */
float *aifx__falloc(size_t n);
void *aifx__malloc(size_t bytes);
void *aifx__calloc(size_t count, size_t size);
void aifx__free(void *p);
/* Tests: make the n-th allocation from now (1 = the next) fail, in this thread; 0 disarms. */
void aifx__alloc_fail_after(int n);

/* ---- checks ---- */
int aifx__all_finite(size_t n, const float *x);

/* ---- BLAS / LAPACK wrapper (blas.c, the only file that includes cblas.h / lapacke.h) ---- */

/* C (m, n) = alpha * op(A) op(B) + beta * C, row-major, op = transpose when trans_* != 0. */
void aifx__gemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                const float *b, int ldb, float beta, float *c, int ldc);
/* q (rows, cols), rows >= cols: orthonormal columns from the QR decomposition of the Gaussian
 * matrix g (rows, cols, in double, overwritten), with column signs fixed so that diag(R) > 0. */
aifx_status aifx__orthonormal_columns(int rows, int cols, double *g, float *q);

/* ---- packed-panel products (kernel.c) ----
 * The per-step recurrent products run on the weights packed once per call into panels of
 * AIFX_PANEL_NR columns (aifx__pack_panels) with the library's own micro-kernel, when the CPU
 * has one (AIFX_KPATH_AVX2); otherwise through OpenBLAS (AIFX_KPATH_BLAS). The path is chosen
 * when the library loads; tests force each one in turn with aifx__set_kernel_path. */
#define AIFX_PANEL_NR 16
enum { AIFX_KPATH_BLAS = 0, AIFX_KPATH_AVX2 = 1, AIFX_KPATH_COUNT = 2 };
int aifx__kernel_path(void);
/* 1 if this CPU and build can run path p */
int aifx__kernel_path_supported(int path);
/* Tests only (not thread-safe): use path p from now on, 1 if it can run here (else unchanged);
 * p < 0 restores the choice made at load time. */
int aifx__set_kernel_path(int path);
/* floats of the packed form of a (k, n) operand */
size_t aifx__panel_floats(int k, int n);
/* dst = B (k, n) packed, where B = src (k, n; ld) or, with trans, src^T for src (n, k; ld) */
void aifx__pack_panels(int k, int n, const float *src, int ld, int trans, float *dst);
/* The k rows of B (k, n) into rows [0, k) of an operand packed with kp rows: dst points at
 * its row r to fill rows [r, r + k) (dst + r * AIFX_PANEL_NR) */
void aifx__pack_panel_rows(int kp, int k, int n, const float *src, int ld, int trans, float *dst);
/* C (m, n; ldc) = A (m, k; lda) B (+ C unless zero), B packed by aifx__pack_panels; every
 * element summed in k order, whatever m and the position of the row. */
void aifx__gemm_packed(int m, int n, int k, const float *a, int lda, const float *bp, float *c,
                       int ldc, int zero);
/* The same with A = [A1 A2] (m, k1 + k2) given as two operands (A2 NULL or k2 = 0: none) and B
 * packed with kp >= k1 + k2 rows: x_t W_ih^T + h_{t-1} W_hh^T in one pass. */
void aifx__gemm_packed2(int m, int n, int k1, const float *a1, int lda1, int k2, const float *a2,
                        int lda2, int kp, const float *bp, float *c, int ldc, int zero);

/* ---- random numbers (rng.c) ---- */
uint64_t aifx__rng_next(aifx_rng *rng);
float aifx__rng_float(aifx_rng *rng);   /* [0, 1), 24 bits */
double aifx__rng_normal(aifx_rng *rng); /* N(0, 1), Box-Muller in double */

/* ---- loss (loss.c) ---- */
/* Unchecked core of aifx_softmax_xent: arguments already validated. */
void aifx__softmax_xent(int n, int n_classes, const float *logits, const int32_t *labels,
                        const float *class_weights, float *probs, float *loss, float *dlogits);
/* AIFX_OK if class_weights (C) are all finite and >= 0. */
aifx_status aifx__check_weights(int n_classes, const float *class_weights);
/* AIFX_OK if labels (n) lie in [0, C) and class_weights (C, optional) are finite and >= 0. */
aifx_status aifx__check_targets(int n, int n_classes, const int32_t *labels,
                                const float *class_weights);

/* ---- Adam (adam.c) ---- */
/* Replaces the configuration after validating it; the moments and step are kept. */
aifx_status aifx__adam_set_config(aifx_adam *adam, const aifx_adam_config *config);

/* ---- LSTM layer (lstm.c) ----
 * A layer's tensors are views into the net's parameter and gradient blocks. All activations are
 * time-major inside the library: row t*B + b of a (T, B, *) buffer is step t of sequence b. */
typedef struct aifx_lstm_layer {
    int n_in;        /* input features of this layer */
    int n_hidden;    /* H */
    size_t off_w_ih; /* (4H, n_in) */
    size_t off_w_hh; /* (4H, H) */
    size_t off_b;    /* (4H) */
    /* training workspace, sized for max_batch */
    /* (T, B, 4H): activated i, f, g, o after forward; d pre-activation after backward */
    float *gates;
    float *hs;      /* (T+1, B, H): hs[0] = h_0 = 0, hs[t+1] = h_t */
    float *cs;      /* (T+1, B, H): cs[0] = c_0 = 0, cs[t+1] = c_t */
    float *in_drop; /* (T, B, n_in): dropped-out input (layers above the first, dropout > 0) */
    float *mask;    /* (B, n_in): inverted-dropout mask on the input, 0 or 1/(1-p) */
    float *w_hh_t;  /* AIFX_KPATH_BLAS: (H, 4H), W_hh transposed at each training forward,
                     * so that the per-step product is a plain NN GEMM (much faster for
                     * small B). Packed path: [W_ih^T; W_hh^T] packed by each forward, W_hh
                     * and (when dx is wanted) W_ih packed by each backward
                     * (aifx__lstm_pack_floats floats) */
} aifx_lstm_layer;

/* One time step of the cell over B rows: z (B, 4H) holds pre-activations i, f, g, o without the
 * bias, bias (4H, or NULL for none) is added, and z receives the activated gates when keep_gates
 * is nonzero (training; inference passes 0 and z is left as it was); c_prev (B, H, or NULL for
 * c_0 = 0), c, h are (B, H). c may alias c_prev, h anything else. */
/* The cell's 8-float AVX2 + FMA form (cell_avx2.c), for AIFX_KPATH_AVX2; cell_backward's
 * arguments are lstm.c's: z (B, 4H) activated gates in, dz out; ct, cp c_t and c_{t-1}; dh the
 * gradient from step t+1, up the one from above (or NULL); dc in and out. */
void aifx__lstm_cell_avx2(int n_batch, int n_hidden, const float *bias, float *z,
                          const float *c_prev, float *c, float *h, int keep_gates);
void aifx__cell_backward_avx2(int n_batch, int n_hidden, float *z, const float *ct, const float *cp,
                              const float *dh, const float *up, float *dc);
/* One step of batch-1 inference (AIFX_KPATH_AVX2), the recurrent product fused with the cell:
 * z = zx + W_hh h_prev (+ bias) gate by gate for 8 units at a time, straight into the cell, so the
 * cell's arithmetic overlaps the stream of W_hh (4H, H; row-major, as it lies in the parameter
 * block: a dot product per row, no packing, nothing kept between calls). zx (4H) is x_t W_ih^T;
 * h_prev (H) NULL for h_0 = c_0 = 0; c (H) c_{t-1} in, c_t out; h (H) out, not h_prev. Each
 * z element: 8-lane sums over k, the last H % 8 through a mask, a fixed reduction tree, zx
 * plus that, plus the bias: the same bytes run to run (not aifx__gemm_packed's k order). */
void aifx__lstm_step1_avx2(int n_hidden, const float *w_hh, const float *h_prev, const float *zx,
                           const float *bias, float *c, float *h);
/* z (m, n) = x (m, k) W^T for W (n, k), all row-major and dense: batch-1 inference's input
 * projection of all T steps (m = T), the dot products of aifx__lstm_step1_avx2, 8 rows of W
 * at a time kept in L1 over the m rows of x. */
void aifx__proj_rows_avx2(int m, int n, int k, const float *x, const float *w, float *z);
/* floats of a layer's w_hh_t buffer for n_in inputs and hidden size H */
size_t aifx__lstm_pack_floats(int n_in, int n_hidden);
void aifx__lstm_cell(int n_batch, int n_hidden, const float *bias, float *z, const float *c_prev,
                     float *c, float *h, int keep_gates);
/* Worker threads of a net (pool.c): aifx__pool_run calls fn(ctx, k, n) for k = 0 .. n-1 (k = 0
 * on the caller) and returns when all are done; a NULL pool runs fn(ctx, 0, 1). aifx__split gives
 * part k of n of [0, total): [total k / n, total (k+1) / n). */
typedef struct aifx_pool aifx_pool;
/* Replaces the net's workers (1 .. AIFX_MAX_THREADS); the net is unchanged on failure. */
aifx_status aifx__net_set_threads(aifx_net *net, int n_threads);
aifx_status aifx__pool_new(int n_threads, aifx_pool **out); /* *out = NULL for n_threads <= 1 */
void aifx__pool_free(aifx_pool *pool);
int aifx__pool_size(const aifx_pool *pool);
void aifx__pool_run(aifx_pool *pool, void (*fn)(void *ctx, int k, int n), void *ctx);
void aifx__split(int total, int k, int n, int *lo, int *hi);

/* Forward through time for training: x (T, B, n_in) time-major. With a pool the input
 * projection is split by rows of (T*B) and the recurrence by sequences. */
void aifx__lstm_forward(const aifx_lstm_layer *l, const float *params, int n_steps, int n_batch,
                        const float *x, aifx_pool *pool);
/* Backward through time. dh_seq (T, B, H): gradient of the loss on every h_t (may be NULL, then
 * dh_last (B, H) is the only gradient, on h_{T-1}). Accumulates into grads (the caller zeroes
 * them); dx (T, B, n_in), optional, receives the gradient of the input. dh, dc: (B, H) scratch.
 * With a pool the recurrence is split by sequences, the bias and weight gradients by rows of the
 * weight matrices, dx by rows (on the packed path dx_t is computed in the recurrence, block by
 * block, right after the block's dz). No element's sum depends on the split: the results are the
 * same bytes at any thread count. */
void aifx__lstm_backward(aifx_lstm_layer *l, const float *params, float *grads, int n_steps,
                         int n_batch, const float *x, const float *dh_seq, const float *dh_last,
                         float *dx, float *dh, float *dc, aifx_pool *pool);

/* ---- the net (net.c) ---- */
int aifx__net_config_valid(const aifx_net_config *c);
/* Floats in the parameter block of a valid configuration (no allocation). */
size_t aifx__net_param_count(const aifx_net_config *c);
struct aifx_net {
    aifx_net_config cfg;
    size_t n_params;
    float *params; /* (n_params), aligned */
    float *grads;  /* (n_params), aligned */
    aifx_lstm_layer layers[AIFX_MAX_LAYERS];
    size_t off_dense_w; /* (C, H) */
    size_t off_dense_b; /* (C) */
    /* training workspace, sized for max_batch B */
    float *xt;        /* (T, B, F) time-major copy of the input */
    float *head_mask; /* (B, H) dropout mask before the head */
    float *head_in;   /* (B, H) head input (last hidden state after dropout) */
    float *logits;    /* (B, C) */
    float *probs;     /* (B, C) */
    float *dlogits;   /* (B, C) */
    float *dh_last;   /* (B, H) */
    float *dh;        /* (B, H) scratch */
    float *dc;        /* (B, H) scratch */
    float *dseq_a;    /* (T, B, max(F, H)): gradient flowing down between layers */
    float *dseq_b;    /* (T, B, max(F, H)) */
    aifx_pool *pool;  /* cfg.n_threads workers, NULL for one thread */
    int n_batch;      /* B of the cached forward, 0 if none */
    int dropout_on;   /* the cached forward used dropout */
};

/* ---- the model (model.c, fit.c, checkpoint.c, metrics.c) ---- */

/* Training progress: everything fit needs, beyond weights and optimizer, to resume exactly. */
typedef struct aifx_progress {
    int32_t epoch;      /* epochs trained in this run */
    int32_t stopped;    /* early stopping or the callback ended the run */
    int32_t monitor;    /* aifx_monitor the best score refers to */
    int32_t has_best;   /* best_params and best_score are set */
    int32_t best_epoch; /* 1-based */
    int32_t wait;       /* early-stopping epochs without improvement */
    int32_t plateau_wait;
    int32_t cooldown; /* plateau cooldown epochs left */
    int32_t restored; /* params hold the best weights; resume_params the last epoch's */
    double best_score;
    double plateau_best;
} aifx_progress;

struct aifx_model {
    aifx_model_config cfg;
    aifx_net *net;
    aifx_adam *adam;
    aifx_rng rng;         /* shuffling and dropout, after initialisation */
    float *mean;          /* (F) scaler */
    float *scale;         /* (F) */
    char **feature_names; /* (F) */
    char **class_names;   /* (C) */
    char *metadata;
    aifx_progress prog;
    float *best_params;   /* (n_params) */
    float *resume_params; /* (n_params) */
};

/* A model around an existing configuration, with zero weights and no initialisation drawn
 * (the checkpoint reader fills it). */
aifx_status aifx__model_alloc(const aifx_model_config *cfg, aifx_model **out);
int aifx__model_config_valid(const aifx_model_config *c);
/* Replaces one of the model's name lists with copies of names (count strings). */
aifx_status aifx__set_names(char ***dst, int count, const char *const *names);
/* (x - mean) / scale over n rows of F features. */
void aifx__scale_rows(const aifx_model *m, size_t n_rows, const float *src, float *dst);
/* Checks a dataset against the model: shapes, windows inside rows, labels if need_labels. */
aifx_status aifx__dataset_check(const aifx_model *m, const aifx_dataset *d, int need_labels);
/* Copies window i of d, scaled, into dst (T, F). */
void aifx__gather_window(const aifx_model *m, const aifx_dataset *d, size_t i, float *dst);
/* Adds predictions to a confusion matrix and turns counts into figures. */
void aifx__metrics_finish(aifx_metrics *out);

#endif /* AIFX_INTERNAL_H */
