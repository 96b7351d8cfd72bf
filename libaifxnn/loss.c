/*
 * loss.c - softmax, class-weighted cross-entropy, balanced class weights.
 *
 * For logits z (n, C), labels y and class weights w:
 *   p_ij = exp(z_ij - lse_i) with lse_i = m_i + log sum_j exp(z_ij - m_i), m_i = max_j z_ij
 *   loss = sum_i w_{y_i} (lse_i - z_{i,y_i}) / W,   W = sum_i w_{y_i}   (PyTorch's weighted mean)
 *   d loss / d z_ij = w_{y_i} (p_ij - [j = y_i]) / W
 * W = 0 (every sample weighted 0) gives loss 0 and zero gradients rather than 0/0.
 * Sums run in double. Balanced weights (scikit-learn's "balanced"): w_c = n / (C n_c), and 0 for
 * a class with n_c = 0.
 */
#include <math.h>

#include "internal.h"

void aifx__softmax_xent(int n, int n_classes, const float *logits, const int32_t *labels,
                        const float *class_weights, float *probs, float *loss, float *dlogits)
{
    const int C = n_classes;
    double lsum = 0.0, wsum = 0.0;
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * C;
        double m = z[0], s = 0.0;
        for (int j = 1; j < C; j++)
            m = z[j] > m ? z[j] : m;
        for (int j = 0; j < C; j++)
            s += exp((double)z[j] - m);
        /* s >= 1: the largest logit contributes exp(0) */
        // cppcheck-suppress invalidFunctionArg
        double lse = m + log(s);
        if (probs)
            for (int j = 0; j < C; j++)
                probs[(size_t)i * C + j] = (float)exp((double)z[j] - lse);
        if (labels) {
            double wi = class_weights ? class_weights[labels[i]] : 1.0;
            lsum += wi * (lse - z[labels[i]]);
            wsum += wi;
        }
    }
    if (loss)
        *loss = wsum > 0.0 ? (float)(lsum / wsum) : 0.0f;
    if (!dlogits)
        return;
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * C;
        float *d = dlogits + (size_t)i * C;
        double wi = class_weights ? class_weights[labels[i]] : 1.0;
        double scale = wsum > 0.0 ? wi / wsum : 0.0;
        double m = z[0], s = 0.0;
        for (int j = 1; j < C; j++)
            m = z[j] > m ? z[j] : m;
        for (int j = 0; j < C; j++)
            s += exp((double)z[j] - m);
        /* s >= 1: the largest logit contributes exp(0) */
        // cppcheck-suppress invalidFunctionArg
        double lse = m + log(s);
        for (int j = 0; j < C; j++)
            d[j] = (float)(scale * (exp((double)z[j] - lse) - (j == labels[i] ? 1.0 : 0.0)));
    }
}

static int labels_valid(int n, const int32_t *labels, int n_classes)
{
    for (int i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= n_classes)
            return 0;
    return 1;
}

aifx_status aifx__check_weights(int n_classes, const float *w)
{
    if (!w)
        return AIFX_ERR_INVALID;
    if (!aifx__all_finite((size_t)n_classes, w))
        return AIFX_ERR_NONFINITE;
    for (int c = 0; c < n_classes; c++)
        if (!(w[c] >= 0.0f))
            return AIFX_ERR_INVALID;
    return AIFX_OK;
}

/* Shared argument check for the net and the standalone loss. */
aifx_status aifx__check_targets(int n, int n_classes, const int32_t *labels,
                                const float *class_weights)
{
    if (!labels || !labels_valid(n, labels, n_classes))
        return AIFX_ERR_INVALID;
    return class_weights ? aifx__check_weights(n_classes, class_weights) : AIFX_OK;
}

aifx_status aifx_softmax_xent(int n, int n_classes, const float *logits, const int32_t *labels,
                              const float *class_weights, float *probs, float *loss, float *dlogits)
{
    if (n < 1 || n_classes < 2 || !logits)
        return AIFX_ERR_INVALID;
    if ((loss || dlogits) || labels) {
        aifx_status st = aifx__check_targets(n, n_classes, labels, class_weights);
        if (st != AIFX_OK)
            return st;
    }
    if (!aifx__all_finite((size_t)n * n_classes, logits))
        return AIFX_ERR_NONFINITE;
    aifx__softmax_xent(n, n_classes, logits, labels, class_weights, probs, loss, dlogits);
    return AIFX_OK;
}

aifx_status aifx_class_weights_balanced(size_t n, const int32_t *labels, int n_classes,
                                        float *weights)
{
    if (n == 0 || !labels || n_classes < 2 || !weights)
        return AIFX_ERR_INVALID;
    size_t *count = aifx__calloc((size_t)n_classes, sizeof(size_t));
    if (!count)
        return AIFX_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        if (labels[i] < 0 || labels[i] >= n_classes) {
            aifx__free(count);
            return AIFX_ERR_INVALID;
        }
        count[labels[i]]++;
    }
    for (int c = 0; c < n_classes; c++)
        weights[c] = count[c] ? (float)((double)n / ((double)n_classes * (double)count[c])) : 0.0f;
    aifx__free(count);
    return AIFX_OK;
}
