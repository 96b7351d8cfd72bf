/*
 * model.c - the model object: a network with its standard scaler, optimizer, generator, names,
 * metadata and training progress; the scaler, prediction and evaluation.
 *
 * Scaler: mean_f = (1/N) sum_r x_rf and scale_f = sqrt((1/N) sum_r (x_rf - mean_f)^2)
 * (population deviation, as scikit-learn's StandardScaler), over the N distinct rows that the
 * training windows cover; scale_f = 1 where it is 0. Inputs become (x - mean) / scale, the
 * same function for training batches and for prediction.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define AIFX_MAX_NAME     255
#define AIFX_MAX_METADATA (16u << 20)

aifx_model_config aifx_model_config_default(void)
{
    aifx_model_config c = {38, 20, 1, 64, 3, 0.2f, 64, 42, 1};
    return c;
}

static aifx_net_config net_config(const aifx_model_config *c)
{
    aifx_net_config n = aifx_net_config_default(); /* fields appended later keep defaults */
    n.n_in = c->n_features;
    n.n_steps = c->n_steps;
    n.n_layers = c->n_layers;
    n.n_hidden = c->n_hidden;
    n.n_classes = c->n_classes;
    n.max_batch = c->batch_size;
    n.dropout = c->dropout;
    n.n_threads = c->n_threads;
    return n;
}

int aifx__model_config_valid(const aifx_model_config *c)
{
    aifx_net_config n = net_config(c);
    return c->n_classes <= AIFX_MAX_CLASSES && aifx__net_config_valid(&n);
}

static void free_names(char **names, int count)
{
    if (!names)
        return;
    for (int i = 0; i < count; i++)
        aifx__free(names[i]);
    aifx__free(names);
}

static char *dup_text(const char *s, size_t len)
{
    char *d = aifx__malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

aifx_status aifx__set_names(char ***dst, int count, const char *const *names)
{
    for (int i = 0; i < count; i++) {
        size_t len = names[i] ? strlen(names[i]) : 0;
        if (len == 0 || len > AIFX_MAX_NAME)
            return AIFX_ERR_INVALID;
    }
    char **copy = aifx__calloc((size_t)count, sizeof(char *));
    if (!copy)
        return AIFX_ERR_NOMEM;
    for (int i = 0; i < count; i++) {
        copy[i] = dup_text(names[i], strlen(names[i]));
        if (!copy[i]) {
            free_names(copy, count);
            return AIFX_ERR_NOMEM;
        }
    }
    free_names(*dst, count);
    *dst = copy;
    return AIFX_OK;
}

static aifx_status default_names(char ***dst, int count, char prefix)
{
    char **names = aifx__calloc((size_t)count, sizeof(char *));
    if (!names)
        return AIFX_ERR_NOMEM;
    for (int i = 0; i < count; i++) {
        char buf[16];
        int len = 0;
        buf[len++] = prefix;
        char digits[12];
        int nd = 0;
        for (int v = i; nd == 0 || v > 0; v /= 10)
            digits[nd++] = (char)('0' + v % 10);
        while (nd > 0)
            buf[len++] = digits[--nd];
        names[i] = dup_text(buf, (size_t)len);
        if (!names[i]) {
            free_names(names, count);
            return AIFX_ERR_NOMEM;
        }
    }
    *dst = names;
    return AIFX_OK;
}

void aifx_model_free(aifx_model *m)
{
    if (!m)
        return;
    aifx_net_free(m->net);
    aifx_adam_free(m->adam);
    aifx__free(m->mean);
    aifx__free(m->scale);
    free_names(m->feature_names, m->cfg.n_features);
    free_names(m->class_names, m->cfg.n_classes);
    aifx__free(m->metadata);
    aifx__free(m->best_params);
    aifx__free(m->resume_params);
    aifx__free(m);
}

aifx_status aifx__model_alloc(const aifx_model_config *cfg, aifx_model **out)
{
    *out = NULL;
    aifx_model *m = aifx__calloc(1, sizeof(*m));
    if (!m)
        return AIFX_ERR_NOMEM;
    m->cfg = *cfg;
    aifx_net_config nc = net_config(cfg);
    aifx_status st = aifx_net_new(&nc, &m->net);
    if (st != AIFX_OK) {
        aifx__free(m);
        return st;
    }
    const size_t F = (size_t)cfg->n_features, n = aifx_net_n_params(m->net);
    aifx_adam_config ac = aifx_adam_config_default();
    st = aifx_adam_new(n, &ac, &m->adam);
    if (st == AIFX_OK &&
        (!(m->mean = aifx__falloc(F)) || !(m->scale = aifx__falloc(F)) ||
         !(m->best_params = aifx__falloc(n)) || !(m->resume_params = aifx__falloc(n)) ||
         !(m->metadata = dup_text("", 0))))
        st = AIFX_ERR_NOMEM;
    if (st == AIFX_OK)
        st = default_names(&m->feature_names, cfg->n_features, 'f');
    if (st == AIFX_OK)
        st = default_names(&m->class_names, cfg->n_classes, 'c');
    if (st != AIFX_OK) {
        aifx_model_free(m);
        return st;
    }
    for (size_t f = 0; f < F; f++)
        m->scale[f] = 1.0f;
    *out = m;
    return AIFX_OK;
}

aifx_status aifx_model_new(const aifx_model_config *config, aifx_model **out)
{
    if (!out)
        return AIFX_ERR_INVALID;
    *out = NULL;
    if (!config || !aifx__model_config_valid(config))
        return AIFX_ERR_INVALID;
    aifx_model *m;
    aifx_status st = aifx__model_alloc(config, &m);
    if (st != AIFX_OK)
        return st;
    aifx_rng_seed(&m->rng, config->seed);
    st = aifx_net_init(m->net, &m->rng);
    if (st != AIFX_OK) {
        aifx_model_free(m);
        return st;
    }
    *out = m;
    return AIFX_OK;
}

aifx_status aifx_model_get_config(const aifx_model *model, aifx_model_config *out)
{
    if (!model || !out)
        return AIFX_ERR_INVALID;
    *out = model->cfg;
    return AIFX_OK;
}

aifx_status aifx_model_set_threads(aifx_model *model, int n_threads)
{
    if (!model || n_threads < 1 || n_threads > AIFX_MAX_THREADS)
        return AIFX_ERR_INVALID;
    aifx_status st = aifx__net_set_threads(model->net, n_threads);
    if (st == AIFX_OK)
        model->cfg.n_threads = n_threads;
    return st;
}

aifx_net *aifx_model_net(aifx_model *model)
{
    return model ? model->net : NULL;
}

/* ---- datasets ---- */

aifx_status aifx__dataset_check(const aifx_model *m, const aifx_dataset *d, int need_labels)
{
    if (!d || !d->rows || d->n == 0)
        return AIFX_ERR_INVALID;
    const size_t T = (size_t)m->cfg.n_steps;
    if (d->ends) {
        for (size_t i = 0; i < d->n; i++)
            if (d->ends[i] < (int64_t)T - 1 || (uint64_t)d->ends[i] >= d->n_rows)
                return AIFX_ERR_INVALID;
    } else if (d->n > SIZE_MAX / T || d->n_rows != d->n * T) {
        return AIFX_ERR_INVALID;
    }
    if (need_labels) {
        if (!d->labels)
            return AIFX_ERR_INVALID;
        for (size_t i = 0; i < d->n; i++)
            if (d->labels[i] < 0 || d->labels[i] >= m->cfg.n_classes)
                return AIFX_ERR_INVALID;
    }
    return AIFX_OK;
}

static const float *window_start(const aifx_model *m, const aifx_dataset *d, size_t i)
{
    const size_t T = (size_t)m->cfg.n_steps, F = (size_t)m->cfg.n_features;
    size_t first = d->ends ? (size_t)d->ends[i] + 1 - T : i * T;
    return d->rows + first * F;
}

void aifx__scale_rows(const aifx_model *m, size_t n_rows, const float *src, float *dst)
{
    const size_t F = (size_t)m->cfg.n_features;
    for (size_t r = 0; r < n_rows; r++)
        for (size_t f = 0; f < F; f++)
            dst[r * F + f] = (src[r * F + f] - m->mean[f]) / m->scale[f];
}

void aifx__gather_window(const aifx_model *m, const aifx_dataset *d, size_t i, float *dst)
{
    aifx__scale_rows(m, (size_t)m->cfg.n_steps, window_start(m, d, i), dst);
}

aifx_status aifx_model_fit_scaler(aifx_model *model, const aifx_dataset *train)
{
    if (!model)
        return AIFX_ERR_INVALID;
    aifx_status st = aifx__dataset_check(model, train, 0);
    if (st != AIFX_OK)
        return st;
    const size_t F = (size_t)model->cfg.n_features, T = (size_t)model->cfg.n_steps;
    unsigned char *used = aifx__calloc(train->n_rows, 1);
    double *sum = aifx__calloc(F, sizeof(double)), *sq = aifx__calloc(F, sizeof(double));
    if (!used || !sum || !sq) {
        st = AIFX_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < train->n; i++) {
        size_t first = train->ends ? (size_t)train->ends[i] + 1 - T : i * T;
        memset(used + first, 1, T);
    }
    size_t n = 0;
    for (size_t r = 0; r < train->n_rows; r++) {
        if (!used[r])
            continue;
        const float *row = train->rows + r * F;
        if (!aifx__all_finite(F, row)) {
            st = AIFX_ERR_NONFINITE;
            goto out;
        }
        for (size_t f = 0; f < F; f++)
            sum[f] += row[f];
        n++;
    }
    for (size_t f = 0; f < F; f++)
        sum[f] /= (double)n;
    for (size_t r = 0; r < train->n_rows; r++) {
        if (!used[r])
            continue;
        for (size_t f = 0; f < F; f++) {
            double dv = train->rows[r * F + f] - sum[f];
            sq[f] += dv * dv;
        }
    }
    for (size_t f = 0; f < F; f++) {
        double sd = sqrt(sq[f] / (double)n);
        model->mean[f] = (float)sum[f];
        model->scale[f] = sd > 0.0 && isfinite(sd) ? (float)sd : 1.0f;
    }
out:
    aifx__free(used);
    aifx__free(sum);
    aifx__free(sq);
    return st;
}

aifx_status aifx_model_scaler(aifx_model *model, float **mean, float **scale)
{
    if (!model || !mean || !scale)
        return AIFX_ERR_INVALID;
    *mean = model->mean;
    *scale = model->scale;
    return AIFX_OK;
}

/* ---- prediction and evaluation ---- */

size_t aifx_model_predict_workspace(const aifx_model *model, int n)
{
    if (!model || n < 1)
        return 0;
    size_t x = (size_t)n * model->cfg.n_steps * model->cfg.n_features;
    return x + aifx_net_predict_workspace(model->net, n);
}

aifx_status aifx_model_predict(const aifx_model *model, int n, const float *x, float *probs,
                               float *work)
{
    if (!model || !x || !probs || n < 1)
        return AIFX_ERR_INVALID;
    const size_t rows = (size_t)n * model->cfg.n_steps;
    if (!aifx__all_finite(rows * model->cfg.n_features, x))
        return AIFX_ERR_NONFINITE;
    float *own = NULL;
    if (!work) {
        own = work = aifx__falloc(aifx_model_predict_workspace(model, n));
        if (!own)
            return AIFX_ERR_NOMEM;
    }
    aifx__scale_rows(model, rows, x, work);
    aifx_status st =
        aifx_net_predict(model->net, n, work, probs, work + rows * model->cfg.n_features);
    aifx__free(own);
    return st;
}

#define AIFX_EVAL_CHUNK 256

/* One share of aifx_model_predict_dataset: chunks k, k + n, k + 2n, ... of `chunk` windows. */
typedef struct predict_share {
    const aifx_model *model;
    const aifx_dataset *data;
    float *probs;
    int chunk, k, n;
    aifx_status st;
} predict_share;

static void *predict_chunks(void *arg)
{
    predict_share *s = arg;
    const aifx_model *model = s->model;
    const aifx_dataset *data = s->data;
    const int C = model->cfg.n_classes, chunk = s->chunk;
    const size_t TF = (size_t)model->cfg.n_steps * model->cfg.n_features;
    const int last = (int)(data->n % (size_t)chunk);
    /* the workspace need is not monotonic in the batch size (the inference path chunks its input
     * projection by rows), so size it for both batch sizes this loop uses */
    size_t nw = aifx_net_predict_workspace(model->net, chunk);
    if (last > 0 && aifx_net_predict_workspace(model->net, last) > nw)
        nw = aifx_net_predict_workspace(model->net, last);
    float *x = aifx__falloc((size_t)chunk * TF);
    float *work = aifx__falloc(nw);
    s->st = x && work ? AIFX_OK : AIFX_ERR_NOMEM;
    const size_t step = (size_t)chunk * (size_t)s->n;
    for (size_t i0 = (size_t)s->k * chunk; i0 < data->n && s->st == AIFX_OK; i0 += step) {
        int b = data->n - i0 < (size_t)chunk ? (int)(data->n - i0) : chunk;
        for (int k = 0; k < b; k++)
            aifx__gather_window(model, data, i0 + (size_t)k, x + (size_t)k * TF);
        s->st = aifx_net_predict(model->net, b, x, s->probs + i0 * (size_t)C, work);
    }
    aifx__free(x);
    aifx__free(work);
    return NULL;
}

/* The chunks are fixed (AIFX_EVAL_CHUNK windows, the last one shorter) whatever the thread
 * count, and each is one aifx_net_predict call, so the bytes do not depend on the count. The
 * threads are made per call rather than taken from the net's workers: those serve one caller at a
 * time, and this function is thread-safe. */
aifx_status aifx_model_predict_dataset(const aifx_model *model, const aifx_dataset *data,
                                       float *probs)
{
    if (!model || !probs)
        return AIFX_ERR_INVALID;
    aifx_status st = aifx__dataset_check(model, data, 0);
    if (st != AIFX_OK)
        return st;
    const int chunk = data->n < AIFX_EVAL_CHUNK ? (int)data->n : AIFX_EVAL_CHUNK;
    const size_t n_chunks = (data->n + (size_t)chunk - 1) / (size_t)chunk;
    int n = model->cfg.n_threads > 1 ? model->cfg.n_threads : 1;
    if ((size_t)n > n_chunks)
        n = (int)n_chunks;
    predict_share shares[AIFX_MAX_THREADS] = {{0}};
    pthread_t tids[AIFX_MAX_THREADS];
    int started[AIFX_MAX_THREADS] = {0};
    for (int k = 0; k < n; k++)
        shares[k] = (predict_share){model, data, probs, chunk, k, n, AIFX_OK};
    for (int k = 1; k < n; k++)
        started[k] = pthread_create(&tids[k], NULL, predict_chunks, &shares[k]) == 0;
    predict_chunks(&shares[0]);
    for (int k = 1; k < n; k++) {
        if (started[k])
            pthread_join(tids[k], NULL);
        else /* no thread to be had: this one does the share, to the same bytes */
            predict_chunks(&shares[k]);
        if (st == AIFX_OK)
            st = shares[k].st;
    }
    return shares[0].st != AIFX_OK ? shares[0].st : st;
}

aifx_status aifx_model_evaluate(const aifx_model *model, const aifx_dataset *data,
                                const float *class_weights, aifx_metrics *out)
{
    if (!model || !out)
        return AIFX_ERR_INVALID;
    aifx_status st = aifx__dataset_check(model, data, 1);
    if (st != AIFX_OK)
        return st;
    const int C = model->cfg.n_classes;
    if (class_weights && (st = aifx__check_weights(C, class_weights)) != AIFX_OK)
        return st;
    float *probs = aifx__falloc(data->n * (size_t)C);
    if (!probs)
        return AIFX_ERR_NOMEM;
    st = aifx_model_predict_dataset(model, data, probs);
    if (st == AIFX_OK) {
        memset(out, 0, sizeof(*out));
        out->n_classes = C;
        double lsum = 0.0, wsum = 0.0;
        for (size_t i = 0; i < data->n; i++) {
            const float *p = probs + i * (size_t)C;
            int y = data->labels[i], best = 0;
            for (int c = 1; c < C; c++)
                best = p[c] > p[best] ? c : best;
            out->confusion[y][best]++;
            double w = class_weights ? class_weights[y] : 1.0;
            double py = p[y] > 1e-30f ? p[y] : 1e-30; /* probs underflow before the log does */
            lsum += w * -log(py);
            wsum += w;
        }
        out->loss = wsum > 0.0 ? lsum / wsum : 0.0;
        aifx__metrics_finish(out);
    }
    aifx__free(probs);
    return st;
}

/* ---- optimizer, progress, names ---- */

aifx_status aifx_model_set_lr(aifx_model *model, float lr)
{
    return model ? aifx_adam_set_lr(model->adam, lr) : AIFX_ERR_INVALID;
}

aifx_status aifx_model_get_lr(const aifx_model *model, float *lr)
{
    if (!model || !lr)
        return AIFX_ERR_INVALID;
    aifx_adam_config c;
    aifx_adam_get_config(model->adam, &c);
    *lr = c.lr;
    return AIFX_OK;
}

aifx_status aifx_model_set_optimizer(aifx_model *model, const aifx_adam_config *config)
{
    if (!model || !config)
        return AIFX_ERR_INVALID;
    return aifx__adam_set_config(model->adam, config);
}

aifx_status aifx_model_reset_progress(aifx_model *model, int reset_optimizer)
{
    if (!model)
        return AIFX_ERR_INVALID;
    memset(&model->prog, 0, sizeof(model->prog));
    return reset_optimizer ? aifx_adam_reset(model->adam) : AIFX_OK;
}

aifx_status aifx_model_set_feature_names(aifx_model *model, const char *const *names)
{
    if (!model || !names)
        return AIFX_ERR_INVALID;
    return aifx__set_names(&model->feature_names, model->cfg.n_features, names);
}

aifx_status aifx_model_set_class_names(aifx_model *model, const char *const *names)
{
    if (!model || !names)
        return AIFX_ERR_INVALID;
    return aifx__set_names(&model->class_names, model->cfg.n_classes, names);
}

aifx_status aifx_model_set_metadata(aifx_model *model, const char *text)
{
    if (!model || !text)
        return AIFX_ERR_INVALID;
    size_t len = strlen(text);
    if (len > AIFX_MAX_METADATA)
        return AIFX_ERR_INVALID;
    char *copy = dup_text(text, len);
    if (!copy)
        return AIFX_ERR_NOMEM;
    aifx__free(model->metadata);
    model->metadata = copy;
    return AIFX_OK;
}

const char *aifx_model_feature_name(const aifx_model *model, int i)
{
    return model && i >= 0 && i < model->cfg.n_features ? model->feature_names[i] : NULL;
}

const char *aifx_model_class_name(const aifx_model *model, int i)
{
    return model && i >= 0 && i < model->cfg.n_classes ? model->class_names[i] : NULL;
}

const char *aifx_model_metadata(const aifx_model *model)
{
    return model ? model->metadata : NULL;
}
