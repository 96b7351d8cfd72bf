/*
 * fit.c - the training loop: seeded per-epoch shuffling, mini-batches, class weights, global-norm
 * clipping, Adam, validation figures, and Keras' EarlyStopping and ReduceLROnPlateau logic
 * (keras/src/callbacks/early_stopping.py, reduce_lr_on_plateau.py), resumable exactly.
 *
 * Improvement of a monitored value v over the best b, with min_delta d:
 *   loss (lower is better): v < b - d;   macro-F1 (higher is better): v > b + d.
 * Early stopping, after each epoch e (0-based over the whole run):
 *   wait += 1; if improved: best = v, best weights = weights, wait = 0;
 *   else if wait >= patience and e > 0: stop.
 * Plateau: if cooling down, cooldown -= 1 and wait = 0; if improved (own best): wait = 0;
 *   else if not cooling down: wait += 1, and at wait >= patience, if lr > min_lr,
 *   lr = max(lr * factor, min_lr), cooldown = configured cooldown, wait = 0.
 * At the end of training (epochs reached, early stop or the callback), with restore_best the
 * best epoch's weights replace the current ones; the last epoch's weights are kept aside
 * (resume_params) so that a later fit continues from them exactly as an uninterrupted run would.
 * The shuffle restarts from the identity order each epoch, so the generator is the whole state.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <string.h>
#include <time.h>

#include "internal.h"

aifx_fit_config aifx_fit_config_default(void)
{
    aifx_fit_config c;
    memset(&c, 0, sizeof(c));
    c.epochs = 10;
    c.shuffle = 1;
    c.monitor = AIFX_MONITOR_VAL_LOSS;
    c.restore_best = 1;
    c.plateau_patience = 10;
    c.plateau_factor = 0.1f;
    c.plateau_min_delta = 1e-4f;
    return c;
}

static int fit_config_valid(const aifx_fit_config *c, int n_classes, int have_val)
{
    if (c->epochs < 0 || c->patience < 0 || !(c->min_delta >= 0.0f) || !isfinite(c->min_delta))
        return 0;
    if (!(c->clip_norm >= 0.0f) || !isfinite(c->clip_norm))
        return 0;
    if (c->monitor != AIFX_MONITOR_VAL_LOSS && c->monitor != AIFX_MONITOR_VAL_MACRO_F1)
        return 0;
    if (c->monitor == AIFX_MONITOR_VAL_MACRO_F1 && !have_val)
        return 0;
    if (c->plateau &&
        (c->plateau_patience < 0 || !(c->plateau_factor > 0.0f) || !(c->plateau_factor < 1.0f) ||
         !(c->plateau_min_delta >= 0.0f) || !isfinite(c->plateau_min_delta) ||
         c->plateau_cooldown < 0 || !(c->plateau_min_lr >= 0.0f) || !isfinite(c->plateau_min_lr)))
        return 0;
    return !c->class_weights || aifx__check_weights(n_classes, c->class_weights) == AIFX_OK;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int improves(int monitor, double v, double best, double min_delta)
{
    return monitor == AIFX_MONITOR_VAL_MACRO_F1 ? v > best + min_delta : v < best - min_delta;
}

/* Uniform in [0, bound) without modulo bias (rejection of the short top range). */
static uint64_t rng_below(aifx_rng *rng, uint64_t bound)
{
    const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t r;
    do
        r = aifx__rng_next(rng);
    while (r >= limit);
    return r % bound;
}

static void shuffle_order(aifx_rng *rng, size_t n, size_t *order, int shuffle)
{
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    if (!shuffle)
        return;
    for (size_t i = n - 1; i > 0; i--) { /* Fisher-Yates */
        size_t j = (size_t)rng_below(rng, (uint64_t)i + 1);
        size_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

/* One epoch of mini-batch training; *mean_loss is the sample-weighted mean of batch losses. */
static aifx_status train_epoch(aifx_model *m, const aifx_dataset *d, const aifx_fit_config *c,
                               size_t *order, float *xb, int32_t *yb, double *mean_loss)
{
    const int B = m->cfg.batch_size;
    const size_t TF = (size_t)m->cfg.n_steps * m->cfg.n_features;
    const size_t n_params = aifx_net_n_params(m->net);
    float *params = aifx_net_params(m->net), *grads = aifx_net_grads(m->net);
    double sum = 0.0;
    shuffle_order(&m->rng, d->n, order, c->shuffle);
    for (size_t i0 = 0; i0 < d->n; i0 += (size_t)B) {
        int b = d->n - i0 < (size_t)B ? (int)(d->n - i0) : B;
        for (int k = 0; k < b; k++) {
            size_t i = order[i0 + (size_t)k];
            aifx__gather_window(m, d, i, xb + (size_t)k * TF);
            yb[k] = d->labels[i];
        }
        float loss;
        aifx_status st = aifx_net_forward(m->net, b, xb, &m->rng, NULL, NULL, NULL);
        if (st == AIFX_OK)
            st = aifx_net_backward(m->net, yb, c->class_weights, &loss, NULL);
        if (st == AIFX_OK && !isfinite(loss))
            st = AIFX_ERR_NONFINITE;
        if (st == AIFX_OK && c->clip_norm > 0.0f)
            st = aifx_clip_grad_norm(n_params, grads, c->clip_norm, NULL);
        if (st == AIFX_OK)
            st = aifx_adam_step(m->adam, params, grads);
        if (st != AIFX_OK)
            return st;
        sum += (double)loss * b;
    }
    *mean_loss = sum / (double)d->n;
    return AIFX_OK;
}

static void plateau_step(aifx_model *m, const aifx_fit_config *c, double v)
{
    aifx_progress *p = &m->prog;
    if (p->cooldown > 0) {
        p->cooldown--;
        p->plateau_wait = 0;
    }
    if (improves(c->monitor, v, p->plateau_best, c->plateau_min_delta)) {
        p->plateau_best = v;
        p->plateau_wait = 0;
    } else if (p->cooldown == 0 && ++p->plateau_wait >= c->plateau_patience) {
        float lr;
        aifx_model_get_lr(m, &lr);
        if (lr > c->plateau_min_lr) {
            float next = lr * c->plateau_factor;
            aifx_model_set_lr(m, next > c->plateau_min_lr ? next : c->plateau_min_lr);
            p->cooldown = c->plateau_cooldown;
            p->plateau_wait = 0;
        }
    }
}

aifx_status aifx_model_fit(aifx_model *m, const aifx_dataset *train, const aifx_dataset *val,
                           const aifx_fit_config *c, aifx_fit_result *result)
{
    if (!m || !c)
        return AIFX_ERR_INVALID;
    aifx_status st = aifx__dataset_check(m, train, 1);
    if (st == AIFX_OK && val)
        st = aifx__dataset_check(m, val, 1);
    if (st != AIFX_OK)
        return st;
    if (!fit_config_valid(c, m->cfg.n_classes, val != NULL))
        return AIFX_ERR_INVALID;
    aifx_progress *p = &m->prog;
    const int fresh = p->epoch == 0 && !p->has_best;
    if (!fresh && p->monitor != (int32_t)c->monitor)
        return AIFX_ERR_INVALID; /* a run keeps the monitor its best score refers to */
    const int start_epoch = p->epoch;
    const size_t n_params = aifx_net_n_params(m->net);
    float *params = aifx_net_params(m->net);

    if (!p->stopped && p->epoch < c->epochs) {
        const size_t TF = (size_t)m->cfg.n_steps * m->cfg.n_features;
        size_t *order = aifx__calloc(train->n, sizeof(size_t));
        float *xb = aifx__falloc((size_t)m->cfg.batch_size * TF);
        int32_t *yb = aifx__calloc((size_t)m->cfg.batch_size, sizeof(int32_t));
        if (!order || !xb || !yb) {
            aifx__free(order);
            aifx__free(xb);
            aifx__free(yb);
            return AIFX_ERR_NOMEM;
        }
        if (fresh) {
            p->monitor = (int32_t)c->monitor;
            p->best_score = p->plateau_best =
                c->monitor == AIFX_MONITOR_VAL_MACRO_F1 ? -INFINITY : INFINITY;
        }
        if (p->restored) { /* continue from the last epoch's weights, not the restored best */
            memcpy(params, m->resume_params, n_params * sizeof(float));
            p->restored = 0;
        } else if (!p->has_best) { /* the weights to fall back to if the first epoch diverges */
            memcpy(m->best_params, params, n_params * sizeof(float));
        }
        while (p->epoch < c->epochs) {
            double t0 = now_seconds(), train_loss;
            aifx_epoch_report r = {0};
            aifx_model_get_lr(m, &r.lr);
            st = train_epoch(m, train, c, order, xb, yb, &train_loss);
            if (st != AIFX_OK)
                break;
            r.train_loss = train_loss;
            r.val_loss = r.val_accuracy = r.val_macro_f1 = NAN;
            double v = train_loss;
            if (val) {
                aifx_metrics mt;
                st = aifx_model_evaluate(m, val, c->class_weights, &mt);
                if (st != AIFX_OK)
                    break;
                r.val_loss = mt.loss;
                r.val_accuracy = mt.accuracy;
                r.val_macro_f1 = mt.macro_f1;
                v = c->monitor == AIFX_MONITOR_VAL_MACRO_F1 ? mt.macro_f1 : mt.loss;
            }
            if (!isfinite(v)) {
                st = AIFX_ERR_NONFINITE;
                break;
            }
            const int e = p->epoch++; /* 0-based index of the epoch just trained */
            int stop = 0;
            p->wait++;
            if (improves(c->monitor, v, p->best_score, c->min_delta)) {
                p->best_score = v;
                p->best_epoch = e + 1;
                p->has_best = 1;
                p->wait = 0;
                memcpy(m->best_params, params, n_params * sizeof(float));
                r.improved = 1;
            } else if (c->early_stopping && p->wait >= c->patience && e > 0) {
                stop = 1;
            }
            if (c->plateau)
                plateau_step(m, c, v);
            r.epoch = p->epoch;
            r.n_epochs = c->epochs;
            r.seconds = now_seconds() - t0;
            if (c->callback && c->callback(&r, c->user))
                stop = 1;
            if (stop) {
                p->stopped = 1;
                break;
            }
        }
        aifx__free(order);
        aifx__free(xb);
        aifx__free(yb);
        if (st == AIFX_ERR_NONFINITE) { /* TerminateOnNaN: keep the best (or starting) weights */
            memcpy(params, m->best_params, n_params * sizeof(float));
            p->stopped = 1;
            st = AIFX_ERR_DIVERGED;
        } else if (st == AIFX_OK && c->restore_best && p->has_best && p->best_epoch != p->epoch) {
            memcpy(m->resume_params, params, n_params * sizeof(float));
            memcpy(params, m->best_params, n_params * sizeof(float));
            p->restored = 1;
        }
    }
    if (result) {
        result->epochs_run = p->epoch - start_epoch;
        result->epoch = p->epoch;
        result->stopped_early = p->stopped;
        result->best_epoch = p->has_best ? p->best_epoch : 0;
        result->best_score = p->has_best ? p->best_score : NAN;
    }
    return st;
}
