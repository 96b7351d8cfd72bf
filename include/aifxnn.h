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
    AIFX_ERR_CHECKSUM,  /* a file's checksum does not match its contents */
    AIFX_ERR_TRUNCATED, /* a file is shorter than its header or a length field says */
    AIFX_ERR_ARCH,      /* a file's architecture does not match its parameters or scaler */
    AIFX_ERR_DIVERGED   /* training met a non-finite loss or gradient and stopped */
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
/* Uniform double in (0, 1) with 53 random bits: (k + 1/2) / 2^53, never 0 or 1. */
AIFX_API aifx_status aifx_rng_double(aifx_rng *rng, double *out);
/* Standard normal N(0, 1): Box-Muller over two aifx_rng_double draws, one value per call. */
AIFX_API aifx_status aifx_rng_normal(aifx_rng *rng, double *out);

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
    /* Worker threads of aifx_net_forward and aifx_net_backward, 0 or 1 (the same): none, 1 ..
     * AIFX_MAX_THREADS: the batch is split over them (each calls BLAS from its own thread, so
     * run OpenBLAS with one thread then). Results are bit-identical run after run; on the packed
     * kernel path (CPUs with AVX2 and FMA) they are also the same bytes at every thread count,
     * on the BLAS path different counts may differ in the last bits. The net owns its threads from
     * aifx_net_new to aifx_net_free; they sleep between calls and do not survive fork() (make
     * such nets after forking). aifx_net_predict ignores it. */
    int n_threads;
} aifx_net_config;

#define AIFX_MAX_THREADS 64

#define AIFX_MAX_LAYERS 16

/* F 38, T 20, 1 layer, H 64, C 3, max_batch 64, dropout 0, n_threads 1. */
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
 * states. Fails with AIFX_ERR_NONFINITE if x holds a NaN or infinity. Not thread-safe on one net.
 */
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
 * writes the parameters). AIFX_ERR_NONFINITE if x, or the probabilities (extreme weights),
 * hold a NaN or infinity. */
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

/* CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320, as zlib's crc32): pass crc 0 to start,
 * the previous result to continue. Thread-safe. */
AIFX_API uint32_t aifx_crc32(uint32_t crc, const void *data, size_t n);

/* ---------------------------------------------------------------------------------------------
 * The model: a network with its standard scaler, optimizer, training progress, names and
 * metadata; fit, evaluate, predict, save and load. This is the API a service links against.
 */
typedef struct aifx_model aifx_model;

#define AIFX_MAX_CLASSES 16

typedef struct aifx_model_config {
    int n_features; /* F */
    int n_steps;    /* T */
    int n_layers;
    int n_hidden;
    int n_classes; /* 2 .. AIFX_MAX_CLASSES */
    float dropout;
    int batch_size; /* training mini-batch */
    uint64_t seed;  /* initialisation, shuffling and dropout all draw from it */
    /* Worker threads of training and evaluation (aifx_net_config.n_threads: the batch is split
     * over them, each calling BLAS from its own thread). A run-time setting, not part of the
     * model: checkpoints do not store it, and a loaded model has 1 (aifx_model_set_threads). On
     * CPUs with AVX2 and FMA training gives the same bytes at every count. */
    int n_threads;
} aifx_model_config;

/* F 38, T 20, 1 layer, H 64, C 3, dropout 0.2, batch 64, seed 42, n_threads 1. */
AIFX_API aifx_model_config aifx_model_config_default(void);

/* A model with Keras-initialised weights, an identity scaler (mean 0, scale 1), Adam with
 * aifx_adam_config_default(), no training progress, feature names "f0".., class names "c0"..
 * and empty metadata. */
AIFX_API aifx_status aifx_model_new(const aifx_model_config *config, aifx_model **out);
AIFX_API void aifx_model_free(aifx_model *model);
AIFX_API aifx_status aifx_model_get_config(const aifx_model *model, aifx_model_config *out);
/* Sets the worker threads of training and evaluation (1 .. AIFX_MAX_THREADS; see
 * aifx_model_config.n_threads). Not while another thread uses the model. A given thread count
 * gives bit-identical results run after run. AIFX_ERR_INVALID for a count out of range; on
 * AIFX_ERR_NOMEM the model keeps its previous threads. */
AIFX_API aifx_status aifx_model_set_threads(aifx_model *model, int n_threads);
/* The model's network (owned by the model), for direct access to its parameters. */
AIFX_API aifx_net *aifx_model_net(aifx_model *model);

/* Samples: n windows of T steps over a matrix of feature rows (n_rows, F), unscaled.
 * With ends, window i is rows[ends[i] - T + 1 .. ends[i]] (windows may overlap, which is how a
 * series of bars is windowed without copying); without (NULL), rows holds n consecutive
 * windows, (n, T, F), and n_rows must be n * T. labels (n) in [0, C), may be NULL for predict-
 * only uses. */
typedef struct aifx_dataset {
    const float *rows;
    size_t n_rows;
    const int64_t *ends;
    const int32_t *labels;
    size_t n;
} aifx_dataset;

/* The standard scaler: per feature, mean and population standard deviation over the rows that
 * the dataset's windows cover (each row once); a feature with zero deviation gets scale 1.
 * Training and prediction then use (x - mean) / scale. Non-finite rows are AIFX_ERR_NONFINITE
 * and leave the scaler unchanged. fit does not refit it: a fine-tuned model keeps its scaler. */
AIFX_API aifx_status aifx_model_fit_scaler(aifx_model *model, const aifx_dataset *train);
/* mean and scale (F floats each, owned by the model); writable (to restore a scaler). */
AIFX_API aifx_status aifx_model_scaler(aifx_model *model, float **mean, float **scale);

typedef enum aifx_monitor {
    AIFX_MONITOR_VAL_LOSS = 0,    /* lower is better */
    AIFX_MONITOR_VAL_MACRO_F1 = 1 /* higher is better */
} aifx_monitor;

typedef struct aifx_epoch_report {
    int epoch;           /* 1-based, counted over the model's whole training progress */
    int n_epochs;        /* the fit's target */
    double train_loss;   /* mean weighted loss over the epoch's batches */
    double val_loss;     /* NAN without a validation set */
    double val_accuracy; /* NAN without a validation set */
    double val_macro_f1; /* NAN without a validation set */
    float lr;            /* the learning rate the epoch trained with */
    double seconds;      /* wall time of the epoch */
    int improved;        /* the monitored value improved on the best so far */
} aifx_epoch_report;

/* Called after every epoch; return nonzero to stop training after it (then, as at any end of
 * training, the best weights are restored if restore_best is set). */
typedef int (*aifx_epoch_callback)(const aifx_epoch_report *report, void *user);

typedef struct aifx_fit_config {
    int epochs;                 /* train until the model has this many epochs in total */
    int shuffle;                /* reshuffle the training windows every epoch (seeded) */
    const float *class_weights; /* (C) or NULL; also weights the validation loss */
    float clip_norm;            /* global-norm gradient clipping; 0 = off */
    aifx_monitor monitor;       /* for early stopping, best weights and plateau; without a
                                   validation set the training loss is monitored */
    int early_stopping;         /* Keras EarlyStopping */
    int patience;
    float min_delta;
    int restore_best; /* at the end of training restore the best epoch's weights */
    int plateau;      /* Keras ReduceLROnPlateau on the same monitor */
    int plateau_patience;
    float plateau_factor; /* (0, 1) */
    float plateau_min_delta;
    int plateau_cooldown;
    float plateau_min_lr;
    aifx_epoch_callback callback; /* optional */
    void *user;
} aifx_fit_config;

/* epochs 10, shuffle on, no class weights, no clipping, monitor val_loss, early stopping off
 * (patience 0, min_delta 0), restore_best on, plateau off (patience 10, factor 0.1, min_delta
 * 1e-4, cooldown 0, min_lr 0): Keras' defaults. */
AIFX_API aifx_fit_config aifx_fit_config_default(void);

typedef struct aifx_fit_result {
    int epochs_run;    /* epochs trained by this call */
    int epoch;         /* the model's total epochs after it */
    int stopped_early; /* early stopping or the callback ended training */
    int best_epoch;    /* 1-based epoch of the best monitored value, 0 if none */
    double best_score; /* the best monitored value */
} aifx_fit_result;

/* Trains from the model's current progress to config->epochs epochs in total, resumable:
 * training 5 epochs, saving with training state, loading and training to 10 gives the same
 * bytes as training 10 at once (same seed and BLAS thread count). val may be NULL. A
 * non-finite loss or gradient ends training with AIFX_ERR_DIVERGED, the best weights (if any)
 * in place. result is optional. Not thread-safe on one model. */
AIFX_API aifx_status aifx_model_fit(aifx_model *model, const aifx_dataset *train,
                                    const aifx_dataset *val, const aifx_fit_config *config,
                                    aifx_fit_result *result);

/* Fine-tuning: forget the training progress (epoch count, best score and weights, counters) so
 * that the next fit starts a new run; with reset_optimizer the Adam moments and step are zeroed
 * too. The scaler and the weights are kept. */
AIFX_API aifx_status aifx_model_reset_progress(aifx_model *model, int reset_optimizer);
AIFX_API aifx_status aifx_model_set_lr(aifx_model *model, float lr);
AIFX_API aifx_status aifx_model_get_lr(const aifx_model *model, float *lr);
/* Replaces the optimizer's configuration (lr, betas, eps, weight decay), keeping its state. */
AIFX_API aifx_status aifx_model_set_optimizer(aifx_model *model, const aifx_adam_config *config);

/* Classification figures. Per class c: precision = TP/(TP+FP), recall = TP/(TP+FN), F1 their
 * harmonic mean, each 0 where its denominator is 0 (scikit-learn's zero_division=0). macro_f1
 * averages F1 over the classes that occur in the labels or the predictions (scikit-learn's
 * default label set); 0 if none. loss uses the normalisation of aifx_net_backward. */
typedef struct aifx_metrics {
    int n_classes;
    int64_t n;
    int64_t confusion[AIFX_MAX_CLASSES][AIFX_MAX_CLASSES]; /* [true][predicted] */
    double precision[AIFX_MAX_CLASSES];
    double recall[AIFX_MAX_CLASSES];
    double f1[AIFX_MAX_CLASSES];
    int64_t support[AIFX_MAX_CLASSES];   /* true count per class */
    int64_t predicted[AIFX_MAX_CLASSES]; /* predicted count per class */
    double accuracy;
    double macro_f1;
    double loss;
} aifx_metrics;

/* Figures on a labelled dataset (without dropout). class_weights (C) or NULL for the loss. */
AIFX_API aifx_status aifx_model_evaluate(const aifx_model *model, const aifx_dataset *data,
                                         const float *class_weights, aifx_metrics *out);

/* Class probabilities probs (n, C) for every window of data (labels not needed), through the
 * scaler and the inference path in chunks; what a backtest needs. Thread-safe like
 * aifx_model_predict. */
AIFX_API aifx_status aifx_model_predict_dataset(const aifx_model *model, const aifx_dataset *data,
                                                float *probs);

/* Floats of workspace aifx_model_predict needs for n sequences. */
AIFX_API size_t aifx_model_predict_workspace(const aifx_model *model, int n);
/* Class probabilities probs (n, C) for n raw (unscaled) sequences x (n, T, F): the model's
 * scaler, then the network without dropout and without training caches. work: at least
 * aifx_model_predict_workspace(model, n) floats, or NULL to allocate per call. Thread-safe:
 * any number of threads may predict on one model at once while nothing modifies it. */
AIFX_API aifx_status aifx_model_predict(const aifx_model *model, int n, const float *x,
                                        float *probs, float *work);

/* Names and metadata, stored in checkpoints. Names are copied; each must be 1..255 bytes of
 * text without NUL. Metadata is free-form text (the trainer stores JSON), up to 16 MiB. */
AIFX_API aifx_status aifx_model_set_feature_names(aifx_model *model, const char *const *names);
AIFX_API aifx_status aifx_model_set_class_names(aifx_model *model, const char *const *names);
AIFX_API aifx_status aifx_model_set_metadata(aifx_model *model, const char *text);
/* Borrowed pointers, valid until the model changes or is freed; NULL for a bad index. */
AIFX_API const char *aifx_model_feature_name(const aifx_model *model, int i);
AIFX_API const char *aifx_model_class_name(const aifx_model *model, int i);
AIFX_API const char *aifx_model_metadata(const aifx_model *model);

/* Checkpoints (format: docs/checkpoint-format.md). Saving is atomic: a temporary file in the
 * same directory, flushed and fsync'ed, renamed over path, then the directory fsync'ed; a
 * crash leaves the old file or the new one. with_training_state adds the optimizer's state,
 * the training progress, the best weights and the generator, so that fit resumes exactly.
 * err (optional, errlen bytes) receives a message naming the file and what was wrong. */
AIFX_API aifx_status aifx_model_save(const aifx_model *model, const char *path,
                                     int with_training_state, char *err, size_t errlen);
/* Validates everything before trusting it (sizes against the file size before any allocation,
 * magic, version, checksums, architecture against parameters); a newer major version is
 * AIFX_ERR_VERSION, an older minor version loads. */
AIFX_API aifx_status aifx_model_load(const char *path, aifx_model **out, char *err, size_t errlen);
/* The same from a checkpoint held in memory (n bytes). */
AIFX_API aifx_status aifx_model_load_buffer(const void *data, size_t n, aifx_model **out, char *err,
                                            size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* AIFXNN_H */
