/*
 * aifxnn.h - the public interface of libaifxnn, a small C11 library that trains and serves
 * stacked LSTM classifiers on CBLAS/OpenBLAS.
 *
 * Conventions (see docs/architecture.md and docs/lstm-math.md):
 *  - float32, row-major. Inputs are batch-first: x is (B, T, F), B sequences of T steps of F
 *    features, element x[(b*T + t)*F + f].
 *  - Every function that can fail returns an aifx_status; results come back through
 *    out-pointers. The library never prints, exits or aborts on caller input.
 *  - Sizes of one dimension are int (they flow into BLAS); totals are size_t.
 *  - Objects are opaque handles made by _new and released by _free; _free(NULL) does nothing.
 *    Caller buffers are borrowed for the duration of one call only.
 *  - Thread safety: distinct objects may be used from distinct threads at once. A function on
 *    one object is thread-safe only where its comment says so.
 *  - The library never changes the BLAS thread count; the caller sets it (OPENBLAS_NUM_THREADS).
 */
#ifndef AIFXNN_H
#define AIFXNN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(AIFX_STATIC_DEFINE) || !defined(__GNUC__)
#define AIFX_API
#else
#define AIFX_API __attribute__((visibility("default")))
#endif

#define AIFX_VERSION_MAJOR 0
#define AIFX_VERSION_MINOR 1
#define AIFX_VERSION_PATCH 0

/* ---------------------------------------------------------------------------------------------
 * Status codes. Values only grow at the end; 0 is success.
 */
typedef enum aifx_status {
    AIFX_OK = 0,
    AIFX_ERR_NOMEM,     /* an allocation failed */
    AIFX_ERR_INVALID,   /* invalid argument: NULL pointer, size out of range, mismatched shape */
    AIFX_ERR_NONFINITE, /* NaN or infinity where a finite value is required */
    AIFX_ERR_STATE,     /* call out of order (e.g. backward without a preceding forward) */
    AIFX_ERR_LAPACK,    /* a LAPACK routine reported failure */
    AIFX_ERR_IO,        /* reading or writing a file failed */
    AIFX_ERR_FORMAT,    /* a file is not in the expected format */
    AIFX_ERR_VERSION,   /* a file's format version is newer than this library reads */
    AIFX_ERR_CHECKSUM   /* a file's checksum does not match its contents */
} aifx_status;

/* A static, human-readable text for a status; never NULL (unknown values give a generic text). */
AIFX_API const char *aifx_strerror(aifx_status status);

/* The library's version, "MAJOR.MINOR.PATCH"; static storage. */
AIFX_API const char *aifx_version_string(void);

/* ---------------------------------------------------------------------------------------------
 * Random numbers: xoshiro256** seeded through splitmix64. A plain value type, so that a caller
 * may embed, copy or checkpoint it. There is no global generator; nothing reads the clock.
 */
typedef struct aifx_rng {
    uint64_t s[4];
} aifx_rng;

AIFX_API aifx_status aifx_rng_seed(aifx_rng *rng, uint64_t seed);
/* Next 64 random bits. */
AIFX_API aifx_status aifx_rng_u64(aifx_rng *rng, uint64_t *out);
/* Uniform float in [0, 1) with 24 random bits. */
AIFX_API aifx_status aifx_rng_uniform(aifx_rng *rng, float *out);

/* ---------------------------------------------------------------------------------------------
 * The network: n_layers stacked LSTM layers of n_hidden units over n_in input features, inverted
 * dropout between layers and before the head, and a dense head n_hidden -> n_classes applied to
 * the last step's hidden state, with softmax and class-weighted cross-entropy.
 *
 * All trainable parameters live in one 64-byte-aligned float block; the gradients in a parallel
 * block with the same offsets. Tensors in the block, in this order (PyTorch's layout):
 *   for each layer l:  W_ih (4H, n_in_l)   n_in_0 = n_in, n_in_l = H for l > 0
 *                      W_hh (4H, H)
 *                      b    (4H)            = PyTorch's b_ih + b_hh
 *   dense:             W    (C, H)
 *                      b    (C)
 * Gate blocks within 4H are in the order i, f, g, o (PyTorch and Keras).
 */
typedef struct aifx_net aifx_net;

typedef struct aifx_net_config {
    int n_in;      /* F, input features per step, >= 1 */
    int n_steps;   /* T, sequence length, >= 1 */
    int n_layers;  /* stacked LSTM layers, 1 .. AIFX_MAX_LAYERS */
    int n_hidden;  /* H, units per layer, >= 1 */
    int n_classes; /* C, >= 2 */
    int max_batch; /* largest B that forward and backward accept; workspace is sized for it */
    float dropout; /* inverted-dropout rate in [0, 1) between layers and before the head */
} aifx_net_config;

#define AIFX_MAX_LAYERS 16

/* F 38, T 20, 1 layer, H 64, C 3, max_batch 64, dropout 0. */
AIFX_API aifx_net_config aifx_net_config_default(void);

/* Creates a network with all parameters zero (call aifx_net_init, or write the block).
 * Allocates every buffer forward and backward need for up to max_batch sequences. */
AIFX_API aifx_status aifx_net_new(const aifx_net_config *config, aifx_net **out);
AIFX_API void aifx_net_free(aifx_net *net);

AIFX_API aifx_status aifx_net_get_config(const aifx_net *net, aifx_net_config *out);

/* Number of floats in the parameter block (and in the gradient block); 0 for NULL. */
AIFX_API size_t aifx_net_n_params(const aifx_net *net);
/* The parameter and gradient blocks, owned by the net; NULL for NULL. The caller may read and
 * write them between calls (this is how optimizers, clipping and checkpoints work). */
AIFX_API float *aifx_net_params(aifx_net *net);
AIFX_API float *aifx_net_grads(aifx_net *net);

typedef enum aifx_tensor {
    AIFX_TENSOR_LSTM_W_IH = 0, /* (4H, n_in_l) of layer l */
    AIFX_TENSOR_LSTM_W_HH,     /* (4H, H) of layer l */
    AIFX_TENSOR_LSTM_B,        /* (4H) of layer l: rows 4H, cols 1 */
    AIFX_TENSOR_DENSE_W,       /* (C, H); layer ignored */
    AIFX_TENSOR_DENSE_B        /* (C): rows C, cols 1; layer ignored */
} aifx_tensor;

/* Where a tensor lives in the parameter (and gradient) block: offset in floats, and its shape. */
AIFX_API aifx_status aifx_net_tensor(const aifx_net *net, aifx_tensor which, int layer,
                                     size_t *offset, int *rows, int *cols);

/* Keras initialisation, drawn from rng: W_ih glorot-uniform over the packed (n_in_l, 4H) matrix,
 * W_hh orthogonal (QR of a Gaussian matrix, signs fixed by diag(R)), LSTM biases zero except the
 * forget gate's, which are 1, dense W glorot-uniform, dense b zero. Same seed, same bytes. */
AIFX_API aifx_status aifx_net_init(aifx_net *net, aifx_rng *rng);

/* Forward pass for training over n_batch (1 .. max_batch) sequences x (B, T, F), keeping what
 * backward needs in the net's workspace. dropout_rng: NULL runs without dropout (evaluation);
 * otherwise dropout masks are drawn from it (one mask per sequence and unit, the same at every
 * time step). Optional outputs (NULL to skip): probs (B, C) softmax probabilities, h_last (B, H)
 * the top layer's last hidden state (before dropout), seq (B, T, H) the top layer's hidden
 * states. Fails with AIFX_ERR_NONFINITE if x holds a NaN or infinity. Not thread-safe on one net. */
AIFX_API aifx_status aifx_net_forward(aifx_net *net, int n_batch, const float *x,
                                      aifx_rng *dropout_rng, float *probs, float *h_last,
                                      float *seq);

/* Backward pass through time for the last forward: the loss is the class-weighted softmax
 * cross-entropy, normalised as PyTorch does,
 *     loss = sum_b w[y_b] * -log p[b, y_b] / sum_b w[y_b],
 * (0, with zero gradients, if every sample has weight 0). labels (B) in [0, C); class_weights
 * (C), finite and >= 0, or NULL for all ones. Writes the loss and overwrites the gradient block
 * with d loss / d params; dx (B, T, F), optional, receives d loss / d x. May be called once per
 * forward (it consumes the cached activations). Not thread-safe on one net. */
AIFX_API aifx_status aifx_net_backward(aifx_net *net, const int32_t *labels,
                                       const float *class_weights, float *loss, float *dx);

/* Floats of workspace that aifx_net_predict needs for n_batch sequences. */
AIFX_API size_t aifx_net_predict_workspace(const aifx_net *net, int n_batch);

/* Inference without dropout and without training caches: probs (B, C) for x (B, T, F); n_batch
 * is not limited by max_batch. work: at least aifx_net_predict_workspace(net, n_batch) floats,
 * or NULL to have the call allocate (and free) its own. Thread-safe: it reads the net and
 * writes only its arguments, so many threads may predict on one net at once (while nothing
 * writes the parameters). */
AIFX_API aifx_status aifx_net_predict(const aifx_net *net, int n_batch, const float *x,
                                      float *probs, float *work);

/* ---------------------------------------------------------------------------------------------
 * Loss and class weights (standalone; the net uses the same code).
 */

/* Softmax of logits (n, C) into probs (optional) and the class-weighted cross-entropy with the
 * normalisation documented at aifx_net_backward into *loss; dlogits (n, C), optional, receives
 * d loss / d logits. class_weights NULL means all ones. Thread-safe. */
AIFX_API aifx_status aifx_softmax_xent(int n, int n_classes, const float *logits,
                                       const int32_t *labels, const float *class_weights,
                                       float *probs, float *loss, float *dlogits);

/* Balanced class weights as scikit-learn computes them: w_c = n / (C * n_c). A class absent
 * from the labels (n_c = 0) gets weight 0. Labels outside [0, C) are AIFX_ERR_INVALID. */
AIFX_API aifx_status aifx_class_weights_balanced(size_t n, const int32_t *labels, int n_classes,
                                                 float *weights);

/* ---------------------------------------------------------------------------------------------
 * Adam, in PyTorch's form: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps). With weight_decay > 0 the decay is
 * decoupled (AdamW): p *= 1 - lr * weight_decay before the update.
 */
typedef struct aifx_adam aifx_adam;

typedef struct aifx_adam_config {
    float lr;           /* > 0 */
    float beta1;        /* [0, 1) */
    float beta2;        /* [0, 1) */
    float eps;          /* > 0 */
    float weight_decay; /* >= 0, decoupled */
} aifx_adam_config;

/* lr 1e-3, betas 0.9 and 0.999, eps 1e-8 (PyTorch), weight_decay 0. */
AIFX_API aifx_adam_config aifx_adam_config_default(void);

/* An optimizer for n parameters, its moments zero and its step count 0. */
AIFX_API aifx_status aifx_adam_new(size_t n, const aifx_adam_config *config, aifx_adam **out);
AIFX_API void aifx_adam_free(aifx_adam *adam);

/* One update of params (n) with grads (n); non-finite gradients are AIFX_ERR_NONFINITE and
 * leave params and state untouched. */
AIFX_API aifx_status aifx_adam_step(aifx_adam *adam, float *params, const float *grads);

AIFX_API aifx_status aifx_adam_get_config(const aifx_adam *adam, aifx_adam_config *out);
/* Changes the learning rate (for schedules and fine-tuning); the moments are kept. */
AIFX_API aifx_status aifx_adam_set_lr(aifx_adam *adam, float lr);
/* Zeroes the moments and the step count. */
AIFX_API aifx_status aifx_adam_reset(aifx_adam *adam);

/* Access to the state for checkpoints: m and v (n floats each, owned by the optimizer, writable)
 * and the step count. Any out-pointer may be NULL. */
AIFX_API aifx_status aifx_adam_state(aifx_adam *adam, size_t *n, float **m, float **v,
                                     int64_t *step);
AIFX_API aifx_status aifx_adam_set_step(aifx_adam *adam, int64_t step);

/* Global-norm clipping as torch.nn.utils.clip_grad_norm_: with norm the L2 norm of grads (n),
 * if norm > max_norm every gradient is scaled by max_norm / (norm + 1e-6). The norm before
 * clipping goes to *norm_out (optional). Non-finite gradients are AIFX_ERR_NONFINITE, unchanged. */
AIFX_API aifx_status aifx_clip_grad_norm(size_t n, float *grads, float max_norm, float *norm_out);

#ifdef __cplusplus
}
#endif

#endif /* AIFXNN_H */
