/*
 * net.c - the network: parameter block and views, workspace, and the training step's
 * orchestration (forward through the stacked layers, dropout, dense head, softmax
 * cross-entropy, and backward through all of it), plus the allocation-light inference path.
 *
 * Parameter block (floats, no padding; gradients at the same offsets):
 *   layer l: W_ih (4H, n_in_l) | W_hh (4H, H) | b (4H)       for l = 0 .. L-1
 *   dense:   W (C, H) | b (C)
 * Inverted dropout with rate p multiplies by mask m in {0, 1/(1-p)}, one mask per sequence and
 * unit held fixed over time (Keras' variational dropout), on the input of each layer above the
 * first and on the head's input. Inside the library activations are time-major (T, B, *); the
 * caller's batch-first (B, T, *) arrays are transposed on the way in and out.
 */
#include <limits.h>
#include <string.h>

#include "internal.h"

aifx_net_config aifx_net_config_default(void)
{
    aifx_net_config c = {38, 20, 1, 64, 3, 64, 0.0f, 1};
    return c;
}

#define AIFX_MAX_DIM (1 << 20)

int aifx__net_config_valid(const aifx_net_config *c)
{
    if (c->n_in < 1 || c->n_steps < 1 || c->n_layers < 1 || c->n_layers > AIFX_MAX_LAYERS ||
        c->n_hidden < 1 || c->n_classes < 2 || c->max_batch < 1 || c->n_threads < 0 ||
        c->n_threads > AIFX_MAX_THREADS)
        return 0;
    if (c->n_in > AIFX_MAX_DIM || c->n_steps > AIFX_MAX_DIM || c->n_hidden > AIFX_MAX_DIM / 4 ||
        c->n_classes > AIFX_MAX_DIM || c->max_batch > AIFX_MAX_DIM)
        return 0;
    /* every GEMM dimension (T*B rows, 4H columns) must fit in an int */
    if ((int64_t)c->n_steps * c->max_batch > INT_MAX / 4)
        return 0;
    return c->dropout >= 0.0f && c->dropout < 1.0f; /* false for NaN */
}

size_t aifx__net_param_count(const aifx_net_config *c)
{
    const size_t F = (size_t)c->n_in, H = (size_t)c->n_hidden, C = (size_t)c->n_classes;
    const size_t L = (size_t)c->n_layers;
    /* layer 0: 4H(F + H + 1); each further layer: 4H(2H + 1); head: C(H + 1) */
    return 4 * H * (F + H + 1) + (L - 1) * 4 * H * (2 * H + 1) + C * (H + 1);
}

/* (B, T, n) <-> (T, B, n) */
static void to_time_major(int B, int T, int n, const float *src, float *dst)
{
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            memcpy(dst + ((size_t)t * B + b) * n, src + ((size_t)b * T + t) * n,
                   (size_t)n * sizeof(float));
}

static void to_batch_first(int B, int T, int n, const float *src, float *dst)
{
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            memcpy(dst + ((size_t)b * T + t) * n, src + ((size_t)t * B + b) * n,
                   (size_t)n * sizeof(float));
}

void aifx_net_free(aifx_net *net)
{
    if (!net)
        return;
    for (int l = 0; l < AIFX_MAX_LAYERS; l++) {
        aifx_lstm_layer *ly = &net->layers[l];
        aifx__free(ly->gates);
        aifx__free(ly->hs);
        aifx__free(ly->cs);
        aifx__free(ly->in_drop);
        aifx__free(ly->mask);
        aifx__free(ly->w_hh_t);
    }
    float *bufs[] = {net->params, net->grads,  net->xt,      net->head_mask, net->head_in,
                     net->logits, net->probs,  net->dlogits, net->dh_last,   net->dh,
                     net->dc,     net->dseq_a, net->dseq_b};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
        aifx__free(bufs[i]);
    aifx__pool_free(net->pool);
    aifx__free(net);
}

aifx_status aifx_net_new(const aifx_net_config *config, aifx_net **out)
{
    if (!out)
        return AIFX_ERR_INVALID;
    *out = NULL;
    if (!config || !aifx__net_config_valid(config))
        return AIFX_ERR_INVALID;
    aifx_net *net = aifx__calloc(1, sizeof(*net));
    if (!net)
        return AIFX_ERR_NOMEM;
    net->cfg = *config;
    const size_t T = (size_t)config->n_steps, B = (size_t)config->max_batch;
    const size_t F = (size_t)config->n_in, H = (size_t)config->n_hidden;
    const size_t C = (size_t)config->n_classes, L = (size_t)config->n_layers;
    const int drop = config->dropout > 0.0f;

    size_t off = 0;
    for (size_t l = 0; l < L; l++) {
        aifx_lstm_layer *ly = &net->layers[l];
        ly->n_in = (int)(l == 0 ? F : H);
        ly->n_hidden = (int)H;
        ly->off_w_ih = off;
        off += 4 * H * (size_t)ly->n_in;
        ly->off_w_hh = off;
        off += 4 * H * H;
        ly->off_b = off;
        off += 4 * H;
    }
    net->off_dense_w = off;
    off += C * H;
    net->off_dense_b = off;
    off += C;
    net->n_params = off; /* == aifx__net_param_count(config), which check_net asserts */

    int ok = (net->params = aifx__falloc(off)) && (net->grads = aifx__falloc(off));
    for (size_t l = 0; ok && l < L; l++) {
        aifx_lstm_layer *ly = &net->layers[l];
        ok = (ly->gates = aifx__falloc(T * B * 4 * H)) &&
             (ly->hs = aifx__falloc((T + 1) * B * H)) && (ly->cs = aifx__falloc((T + 1) * B * H)) &&
             (ly->w_hh_t = aifx__falloc(aifx__lstm_pack_floats(ly->n_in, (int)H)));
        if (ok && l > 0 && drop)
            ok = (ly->in_drop = aifx__falloc(T * B * H)) && (ly->mask = aifx__falloc(B * H));
    }
    const size_t seq = T * B * (F > H ? F : H);
    ok = ok && (net->xt = aifx__falloc(T * B * F)) && (net->head_in = aifx__falloc(B * H)) &&
         (net->logits = aifx__falloc(B * C)) && (net->probs = aifx__falloc(B * C)) &&
         (net->dlogits = aifx__falloc(B * C)) && (net->dh_last = aifx__falloc(B * H)) &&
         (net->dh = aifx__falloc(B * H)) && (net->dc = aifx__falloc(B * H)) &&
         (net->dseq_a = aifx__falloc(seq)) && (net->dseq_b = aifx__falloc(seq));
    const int n_threads = config->n_threads > 1 ? config->n_threads : 1;
    ok = ok && aifx__pool_new(n_threads, &net->pool) == AIFX_OK;
    if (ok && drop)
        ok = (net->head_mask = aifx__falloc(B * H)) != NULL;
    if (!ok) {
        aifx_net_free(net);
        return AIFX_ERR_NOMEM;
    }
    *out = net;
    return AIFX_OK;
}

aifx_status aifx__net_set_threads(aifx_net *net, int n_threads)
{
    aifx_pool *pool = NULL;
    if (aifx__pool_new(n_threads, &pool) != AIFX_OK)
        return AIFX_ERR_NOMEM;
    aifx__pool_free(net->pool);
    net->pool = pool;
    net->cfg.n_threads = n_threads;
    return AIFX_OK;
}

aifx_status aifx_net_get_config(const aifx_net *net, aifx_net_config *out)
{
    if (!net || !out)
        return AIFX_ERR_INVALID;
    *out = net->cfg;
    return AIFX_OK;
}

size_t aifx_net_n_params(const aifx_net *net)
{
    return net ? net->n_params : 0;
}

float *aifx_net_params(aifx_net *net)
{
    return net ? net->params : NULL;
}

float *aifx_net_grads(aifx_net *net)
{
    return net ? net->grads : NULL;
}

aifx_status aifx_net_tensor(const aifx_net *net, aifx_tensor which, int layer, size_t *offset,
                            int *rows, int *cols)
{
    if (!net || !offset || !rows || !cols)
        return AIFX_ERR_INVALID;
    const int H = net->cfg.n_hidden;
    if (which == AIFX_TENSOR_DENSE_W || which == AIFX_TENSOR_DENSE_B) {
        int w = which == AIFX_TENSOR_DENSE_W;
        *offset = w ? net->off_dense_w : net->off_dense_b;
        *rows = net->cfg.n_classes;
        *cols = w ? H : 1;
        return AIFX_OK;
    }
    if (layer < 0 || layer >= net->cfg.n_layers)
        return AIFX_ERR_INVALID;
    const aifx_lstm_layer *ly = &net->layers[layer];
    *rows = 4 * H;
    switch (which) {
    case AIFX_TENSOR_LSTM_W_IH:
        *offset = ly->off_w_ih;
        *cols = ly->n_in;
        return AIFX_OK;
    case AIFX_TENSOR_LSTM_W_HH:
        *offset = ly->off_w_hh;
        *cols = H;
        return AIFX_OK;
    case AIFX_TENSOR_LSTM_B:
        *offset = ly->off_b;
        *cols = 1;
        return AIFX_OK;
    default:
        return AIFX_ERR_INVALID;
    }
}

static void draw_mask(aifx_rng *rng, size_t n, float p, float *mask)
{
    const float keep = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++)
        mask[i] = aifx__rng_float(rng) < p ? 0.0f : keep;
}

/* dst (T, B, H) = src (T, B, H) * mask (B, H) broadcast over time; dst may alias src. */
static void apply_mask(int T, int B, int H, const float *mask, const float *src, float *dst)
{
    const size_t bh = (size_t)B * H;
    for (size_t t = 0; t < (size_t)T; t++)
        for (size_t k = 0; k < bh; k++)
            dst[t * bh + k] = src[t * bh + k] * mask[k];
}

/* logits (B, C) = in (B, H) W^T + b */
static void dense_forward(const aifx_net *net, int B, const float *in, float *logits)
{
    const int H = net->cfg.n_hidden, C = net->cfg.n_classes;
    const float *w = net->params + net->off_dense_w, *bias = net->params + net->off_dense_b;
    for (int b = 0; b < B; b++)
        memcpy(logits + (size_t)b * C, bias, (size_t)C * sizeof(float));
    aifx__gemm(0, 1, B, C, H, 1.0f, in, H, w, H, 1.0f, logits, C);
}

/* The input of layer l > 0: the layer below's h_1 .. h_T, through dropout when it is on. */
static const float *layer_input(const aifx_net *net, int l, int B)
{
    if (l == 0)
        return net->xt;
    if (net->dropout_on)
        return net->layers[l].in_drop;
    return net->layers[l - 1].hs + (size_t)B * net->cfg.n_hidden;
}

aifx_status aifx_net_forward(aifx_net *net, int n_batch, const float *x, aifx_rng *dropout_rng,
                             float *probs, float *h_last, float *seq)
{
    if (!net || !x || n_batch < 1 || n_batch > net->cfg.max_batch)
        return AIFX_ERR_INVALID;
    const int B = n_batch, T = net->cfg.n_steps, F = net->cfg.n_in, H = net->cfg.n_hidden;
    const int C = net->cfg.n_classes;
    const float p = net->cfg.dropout;
    net->n_batch = 0;
    if (!aifx__all_finite((size_t)B * T * F, x))
        return AIFX_ERR_NONFINITE;
    net->dropout_on = dropout_rng != NULL && p > 0.0f;

    to_time_major(B, T, F, x, net->xt);
    for (int l = 0; l < net->cfg.n_layers; l++) {
        aifx_lstm_layer *ly = &net->layers[l];
        if (l > 0 && net->dropout_on) {
            draw_mask(dropout_rng, (size_t)B * H, p, ly->mask);
            apply_mask(T, B, H, ly->mask, net->layers[l - 1].hs + (size_t)B * H, ly->in_drop);
        }
        aifx__lstm_forward(ly, net->params, T, B, layer_input(net, l, B), net->pool);
    }
    const aifx_lstm_layer *top = &net->layers[net->cfg.n_layers - 1];
    const float *h_T = top->hs + (size_t)T * B * H; /* (B, H) */
    if (net->dropout_on) {
        draw_mask(dropout_rng, (size_t)B * H, p, net->head_mask);
        apply_mask(1, B, H, net->head_mask, h_T, net->head_in);
    } else {
        memcpy(net->head_in, h_T, (size_t)B * H * sizeof(float));
    }
    dense_forward(net, B, net->head_in, net->logits);
    aifx__softmax_xent(B, C, net->logits, NULL, NULL, net->probs, NULL, NULL);

    if (probs)
        memcpy(probs, net->probs, (size_t)B * C * sizeof(float));
    if (h_last)
        memcpy(h_last, h_T, (size_t)B * H * sizeof(float));
    if (seq)
        to_batch_first(B, T, H, top->hs + (size_t)B * H, seq);
    net->n_batch = B;
    return AIFX_OK;
}

aifx_status aifx_net_backward(aifx_net *net, const int32_t *labels, const float *class_weights,
                              float *loss, float *dx)
{
    if (!net || !loss)
        return AIFX_ERR_INVALID;
    if (net->n_batch == 0)
        return AIFX_ERR_STATE;
    const int B = net->n_batch, T = net->cfg.n_steps, H = net->cfg.n_hidden;
    const int C = net->cfg.n_classes, L = net->cfg.n_layers;
    aifx_status st = aifx__check_targets(B, C, labels, class_weights);
    if (st != AIFX_OK)
        return st;
    net->n_batch = 0; /* backward consumes the cached activations */

    aifx__softmax_xent(B, C, net->logits, labels, class_weights, NULL, loss, net->dlogits);
    memset(net->grads, 0, net->n_params * sizeof(float));
    /* head: dW (C, H) = dlogits^T head_in; db = column sums; d head_in (B, H) = dlogits W */
    float *g_w = net->grads + net->off_dense_w, *g_b = net->grads + net->off_dense_b;
    aifx__gemm(1, 0, C, H, B, 1.0f, net->dlogits, C, net->head_in, H, 0.0f, g_w, H);
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++)
            g_b[c] += net->dlogits[(size_t)b * C + c];
    aifx__gemm(0, 0, B, H, C, 1.0f, net->dlogits, C, net->params + net->off_dense_w, H, 0.0f,
               net->dh_last, H);
    if (net->dropout_on)
        apply_mask(1, B, H, net->head_mask, net->dh_last, net->dh_last);

    const float *dseq = NULL; /* gradient on the current layer's h_1 .. h_T, NULL for the top */
    float *bufs[2] = {net->dseq_a, net->dseq_b};
    for (int l = L - 1; l >= 0; l--) {
        aifx_lstm_layer *ly = &net->layers[l];
        float *dxl = (l > 0 || dx) ? bufs[l & 1] : NULL;
        aifx__lstm_backward(ly, net->params, net->grads, T, B, layer_input(net, l, B), dseq,
                            net->dh_last, dxl, net->dh, net->dc, net->pool);
        if (l > 0 && net->dropout_on)
            apply_mask(T, B, H, ly->mask, dxl, dxl);
        dseq = dxl;
    }
    if (dx)
        to_batch_first(B, T, net->cfg.n_in, dseq, dx);
    return AIFX_OK;
}

/* Inference keeps little: the input projection runs over chunks of PREDICT_ROWS rows (Tc steps
 * of B sequences, big enough for an efficient GEMM), layers below the top keep their output
 * sequence for the layer above (two buffers, alternating), and the top layer keeps only h_{t-1}
 * and h_t. (W3 at batch 256: 5 MiB instead of 31.) */
#define PREDICT_ROWS      1024
#define PREDICT_ROW_BLOCK 48 /* rows per product + cell block on the packed path */

static int predict_chunk_steps(int T, int B)
{
    int tc = (PREDICT_ROWS + B - 1) / B;
    return tc < T ? tc : T;
}

size_t aifx_net_predict_workspace(const aifx_net *net, int n_batch)
{
    if (!net || n_batch < 1 || (int64_t)net->cfg.n_steps * n_batch > INT_MAX / 4)
        return 0;
    const size_t T = (size_t)net->cfg.n_steps, B = (size_t)n_batch;
    const size_t F = (size_t)net->cfg.n_in, H = (size_t)net->cfg.n_hidden;
    const size_t C = (size_t)net->cfg.n_classes, L = (size_t)net->cfg.n_layers;
    const size_t tc = (size_t)predict_chunk_steps(net->cfg.n_steps, n_batch);
    const size_t n_seq = L >= 3 ? 2 : L - 1;
    /* xt (T,B,F) | z (Tc,B,4H) | n_seq sequences (T,B,H) | h ring (2,B,H) | c (B,H) | logits
     * | [W_ih^T; W_hh^T] packed for the fused product (B > 1; the same size on every kernel
     * path), for the layer with the most inputs */
    const size_t pack =
        n_batch > 1 ? aifx__panel_floats((int)((F > H ? F : H) + H), (int)(4 * H)) : 0;
    return T * B * F + tc * B * 4 * H + n_seq * T * B * H + 3 * B * H + B * C + pack;
}

aifx_status aifx_net_predict(const aifx_net *net, int n_batch, const float *x, float *probs,
                             float *work)
{
    if (!net || !x || !probs || n_batch < 1)
        return AIFX_ERR_INVALID;
    const int B = n_batch, T = net->cfg.n_steps, F = net->cfg.n_in, H = net->cfg.n_hidden;
    const int G = 4 * H, C = net->cfg.n_classes, L = net->cfg.n_layers;
    if ((int64_t)T * B > INT_MAX / 4)
        return AIFX_ERR_INVALID;
    if (!aifx__all_finite((size_t)B * T * F, x))
        return AIFX_ERR_NONFINITE;
    float *own = NULL;
    if (!work) {
        own = work = aifx__falloc(aifx_net_predict_workspace(net, n_batch));
        if (!own)
            return AIFX_ERR_NOMEM;
    }
    const size_t bh = (size_t)B * H;
    const int tc = predict_chunk_steps(T, B);
    const int n_seq = L >= 3 ? 2 : L - 1;
    float *xt = work;                  /* (T, B, F) */
    float *z = xt + (size_t)T * B * F; /* (Tc, B, 4H) */
    float *seq[2];                     /* (T, B, H) each, n_seq of them */
    seq[0] = z + (size_t)tc * B * G;
    seq[1] = seq[0] + (n_seq > 1 ? (size_t)T * bh : 0);
    float *ring = seq[0] + (size_t)n_seq * T * bh; /* (2, B, H): h_t of the top layer at t & 1 */
    float *c = ring + 2 * bh;                      /* (B, H) */
    float *logits = c + bh;                        /* (B, C) */
    float *w_pack = logits + (size_t)B * C;        /* [W_ih^T; W_hh^T] in panels, B > 1 */
    /* Batch 1 does not pack: packing the weights costs more than the 20 steps gain (W1 49 us
     * packed against 37 us, W3 590 against 410, measured with the one-row kernel). On the packed
     * path it runs aifx__lstm_step1_avx2 instead, dot products over the row-major W_hh as it lies
     * in the parameter block, fused with the cell; elsewhere OpenBLAS's sgemv. */
    const int packed = B > 1 && aifx__kernel_path() != AIFX_KPATH_BLAS;
    const int fused = B == 1 && aifx__kernel_path() != AIFX_KPATH_BLAS;

    to_time_major(B, T, F, x, xt);
    const float *in = xt, *h_last = NULL;
    for (int l = 0; l < L; l++) {
        const aifx_lstm_layer *ly = &net->layers[l];
        const float *w_ih = net->params + ly->off_w_ih, *w_hh = net->params + ly->off_w_hh;
        const float *bias = net->params + ly->off_b;
        const int top = l == L - 1;
        float *out = top ? ring : seq[l & 1];
        if (packed) { /* z_t = x_t W_ih^T + h_{t-1} W_hh^T and the cell, per block of rows */
            const int n_in = ly->n_in, kp = n_in + H;
            aifx__pack_panel_rows(kp, n_in, G, w_ih, n_in, 1, w_pack);
            aifx__pack_panel_rows(kp, H, G, w_hh, H, 1, w_pack + (size_t)n_in * AIFX_PANEL_NR);
            for (int t = 0; t < T; t++) {
                float *h = out + (size_t)(top ? (t & 1) : t) * bh;
                const float *hp = t > 0 ? out + (size_t)(top ? ((t - 1) & 1) : t - 1) * bh : NULL;
                const float *xt_in = in + (size_t)t * B * n_in;
                for (int r0 = 0; r0 < B; r0 += PREDICT_ROW_BLOCK) {
                    const int nr = B - r0 < PREDICT_ROW_BLOCK ? B - r0 : PREDICT_ROW_BLOCK;
                    const size_t o = (size_t)r0 * H;
                    aifx__gemm_packed2(nr, G, n_in, xt_in + (size_t)r0 * n_in, n_in, hp ? H : 0,
                                       hp ? hp + o : NULL, H, kp, w_pack, z, G, 1);
                    aifx__lstm_cell(nr, H, bias, z, hp ? c + o : NULL, c + o, h + o, 0);
                }
                h_last = h;
            }
            in = out;
            continue;
        }
        for (int t0 = 0; t0 < T; t0 += tc) {
            const int nt = T - t0 < tc ? T - t0 : tc;
            /* z (nt*B, 4H) = in[t0 .. t0+nt) W_ih^T; the bias is added in the cell */
            if (fused) /* batch 1: no sgemm packing for 20 rows */
                aifx__proj_rows_avx2(nt, G, ly->n_in, in + (size_t)t0 * ly->n_in, w_ih, z);
            else
                aifx__gemm(0, 1, nt * B, G, ly->n_in, 1.0f, in + (size_t)t0 * B * ly->n_in,
                           ly->n_in, w_ih, ly->n_in, 0.0f, z, G);
            for (int t = t0; t < t0 + nt; t++) {
                float *zt = z + (size_t)(t - t0) * B * G;
                float *h = out + (size_t)(top ? (t & 1) : t) * bh;
                if (fused) { /* batch 1: product and cell in one pass over W_hh */
                    const float *hp =
                        t > 0 ? out + (size_t)(top ? ((t - 1) & 1) : t - 1) * bh : NULL;
                    aifx__lstm_step1_avx2(H, w_hh, hp, zt, bias, c, h);
                    h_last = h;
                    continue;
                }
                if (t > 0) {
                    const float *hp = out + (size_t)(top ? ((t - 1) & 1) : t - 1) * bh;
                    aifx__gemm(0, 1, B, G, H, 1.0f, hp, H, w_hh, H, 1.0f, zt, G);
                }
                aifx__lstm_cell(B, H, bias, zt, t > 0 ? c : NULL, c, h, 0);
                h_last = h;
            }
        }
        in = out;
    }
    dense_forward(net, B, h_last, logits);
    aifx__softmax_xent(B, C, logits, NULL, NULL, probs, NULL, NULL);
    aifx__free(own);
    /* finite weights can still overflow (inf - inf in a GEMM): never hand out NaN as a signal */
    return aifx__all_finite((size_t)B * C, probs) ? AIFX_OK : AIFX_ERR_NONFINITE;
}
