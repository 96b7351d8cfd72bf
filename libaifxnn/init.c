/*
 * init.c - Keras' default initialisation of the network (keras.layers.LSTM and Dense):
 *   W_ih    glorot-uniform over the packed matrix: U(-a, a), a = sqrt(6 / (n_in + 4H))
 *   W_hh    orthogonal (gain 1) on the packed matrix: Keras draws its (H, 4H) recurrent kernel
 *           as the transpose of a (4H, H) matrix with orthonormal columns; our W_hh (4H, H) is
 *           that matrix (our layout is Keras' transposed, PyTorch's).
 *   b       zero, except the forget gate's block [H, 2H), which is 1 (unit_forget_bias)
 *   dense W glorot-uniform U(-a, a), a = sqrt(6 / (H + C));  dense b zero
 * Draw order: layer by layer, W_ih then W_hh, then dense W, each in row-major order of our
 * layout. The result is a pure function of the generator's state.
 */
#include <math.h>
#include <string.h>

#include "internal.h"

static void glorot_uniform(aifx_rng *rng, size_t n, int fan_in, int fan_out, float *w)
{
    const double a = sqrt(6.0 / ((double)fan_in + (double)fan_out));
    for (size_t i = 0; i < n; i++)
        w[i] = (float)((2.0 * aifx__rng_float(rng) - 1.0) * a);
}

aifx_status aifx_net_init(aifx_net *net, aifx_rng *rng)
{
    if (!net || !rng)
        return AIFX_ERR_INVALID;
    const int H = net->cfg.n_hidden, G = 4 * H, C = net->cfg.n_classes;
    double *g = aifx__malloc((size_t)G * H * sizeof(double)); /* (4H, H) Gaussian */
    if (!g)
        return AIFX_ERR_NOMEM;
    float *p = net->params;
    memset(p, 0, net->n_params * sizeof(float));
    aifx_status st = AIFX_OK;
    for (int l = 0; l < net->cfg.n_layers && st == AIFX_OK; l++) {
        const aifx_lstm_layer *ly = &net->layers[l];
        glorot_uniform(rng, (size_t)G * ly->n_in, ly->n_in, G, p + ly->off_w_ih);
        for (size_t i = 0; i < (size_t)G * H; i++)
            g[i] = aifx__rng_normal(rng);
        st = aifx__orthonormal_columns(G, H, g, p + ly->off_w_hh);
        for (int j = 0; j < H; j++)
            p[ly->off_b + (size_t)H + j] = 1.0f;
    }
    if (st == AIFX_OK)
        glorot_uniform(rng, (size_t)C * H, H, C, p + net->off_dense_w);
    aifx__free(g);
    return st;
}
