/*
 * check_model.c - the model API: fit (early stopping, best weights, plateau, divergence),
 * evaluate, the scaler, class weights on an imbalanced problem, fine-tuning, and concurrent
 * predict.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aifxnn.h"
#include "check_main.h"
#include "internal.h"
#include "model_data.h"

static aifx_model_config small_config(void)
{
    aifx_model_config c = aifx_model_config_default();
    c.n_features = 3;
    c.n_steps = 6;
    c.n_hidden = 12;
    c.batch_size = 32;
    c.dropout = 0.1f;
    c.seed = 5;
    return c;
}

/* ---- a recording callback ---- */
#define MAX_EPOCHS 64
typedef struct {
    int n;
    double val_loss[MAX_EPOCHS], f1[MAX_EPOCHS];
    float lr[MAX_EPOCHS];
    int improved[MAX_EPOCHS];
    aifx_model *model;
    float *snapshots; /* params after each epoch */
    size_t n_params;
    int stop_after; /* callback asks to stop after this epoch (0 = never) */
} recorder;

static int record(const aifx_epoch_report *r, void *user)
{
    recorder *rec = user;
    ck_assert_int_eq(r->epoch, rec->n + 1);
    ck_assert(r->seconds >= 0.0);
    ck_assert(isfinite(r->train_loss));
    rec->val_loss[rec->n] = r->val_loss;
    rec->f1[rec->n] = r->val_macro_f1;
    rec->lr[rec->n] = r->lr;
    rec->improved[rec->n] = r->improved;
    if (rec->snapshots)
        memcpy(rec->snapshots + (size_t)rec->n * rec->n_params,
               aifx_net_params(aifx_model_net(rec->model)), rec->n_params * sizeof(float));
    rec->n++;
    return rec->stop_after && r->epoch >= rec->stop_after;
}

START_TEST(test_fit_learns_and_evaluates)
{
    aifx_model_config c = small_config();
    float *xr, *xv;
    int32_t *yr, *yv;
    aifx_dataset tr = make_trend_data(1, 600, c.n_steps, c.n_features, &xr, &yr);
    aifx_dataset va = make_trend_data(2, 200, c.n_steps, c.n_features, &xv, &yv);
    aifx_model *m;
    ck_assert_int_eq(aifx_model_new(&c, &m), AIFX_OK);
    ck_assert_int_eq(aifx_model_set_lr(m, 1e-2f), AIFX_OK);
    ck_assert_int_eq(aifx_model_fit_scaler(m, &tr), AIFX_OK);
    float *mean, *scale;
    aifx_model_scaler(m, &mean, &scale);
    ck_assert(fabs(mean[1] - 100.0) < 0.5 && fabs(scale[1] - 5.0) < 0.3);
    aifx_metrics before, after;
    ck_assert_int_eq(aifx_model_evaluate(m, &va, NULL, &before), AIFX_OK);
    aifx_fit_config fc = aifx_fit_config_default();
    fc.epochs = 8;
    recorder rec = {0};
    fc.callback = record;
    fc.user = &rec;
    aifx_fit_result res;
    ck_assert_int_eq(aifx_model_fit(m, &tr, &va, &fc, &res), AIFX_OK);
    ck_assert_int_eq(res.epochs_run, 8);
    ck_assert_int_eq(rec.n, 8);
    ck_assert_int_eq(aifx_model_evaluate(m, &va, NULL, &after), AIFX_OK);
    ck_assert_msg(after.accuracy > 0.9 && after.accuracy > before.accuracy + 0.3,
                  "accuracy %.3f -> %.3f", before.accuracy, after.accuracy);
    ck_assert(after.macro_f1 > 0.9);
    /* the confusion matrix adds up; the reported best is what evaluate now gives */
    int64_t total = 0;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            total += after.confusion[i][j];
    ck_assert_int_eq(total, 200);
    ck_assert_double_eq_tol(after.loss, res.best_score, 1e-9);
    /* a second fit with the same target does nothing */
    ck_assert_int_eq(aifx_model_fit(m, &tr, &va, &fc, &res), AIFX_OK);
    ck_assert_int_eq(res.epochs_run, 0);
    aifx_model_free(m);
    free(xr), free(yr), free(xv), free(yv);
}
END_TEST

/* Early stopping and best weights: replay Keras' rules on the recorded validation losses and
 * require the same stop epoch, best epoch and final weights. Random labels make the model
 * overfit, so the validation loss turns up and stopping happens. */
START_TEST(test_early_stopping_restores_best)
{
    aifx_model_config c = small_config();
    c.dropout = 0.0f;
    float *xr, *xv;
    int32_t *yr, *yv;
    aifx_dataset tr = make_trend_data(3, 64, c.n_steps, c.n_features, &xr, &yr);
    aifx_dataset va = make_trend_data(4, 64, c.n_steps, c.n_features, &xv, &yv);
    aifx_rng r;
    aifx_rng_seed(&r, 77);
    for (size_t i = 0; i < 64; i++) /* random labels: nothing to learn but noise */
        yr[i] = (int32_t)(aifx__rng_next(&r) % 3), yv[i] = (int32_t)(aifx__rng_next(&r) % 3);
    aifx_model *m;
    ck_assert_int_eq(aifx_model_new(&c, &m), AIFX_OK);
    aifx_model_set_lr(m, 3e-2f);
    aifx_model_fit_scaler(m, &tr);
    size_t np = aifx_net_n_params(aifx_model_net(m));
    recorder rec = {.model = m, .n_params = np};
    rec.snapshots = malloc(sizeof(float) * np * MAX_EPOCHS);
    aifx_fit_config fc = aifx_fit_config_default();
    fc.epochs = 60;
    fc.early_stopping = 1;
    fc.patience = 3;
    fc.min_delta = 1e-3f;
    fc.callback = record;
    fc.user = &rec;
    aifx_fit_result res;
    ck_assert_int_eq(aifx_model_fit(m, &tr, &va, &fc, &res), AIFX_OK);
    /* the oracle */
    double best = INFINITY;
    int best_epoch = 0, wait = 0, stop_epoch = 0;
    for (int e = 0; e < rec.n; e++) {
        wait++;
        if (rec.val_loss[e] < best - 1e-3) {
            best = rec.val_loss[e];
            best_epoch = e + 1;
            wait = 0;
            ck_assert(rec.improved[e]);
        } else if (wait >= 3 && e > 0) {
            stop_epoch = e + 1;
            break;
        }
    }
    ck_assert_msg(stop_epoch > 0 && stop_epoch < 60, "no early stop in %d epochs", rec.n);
    ck_assert_int_eq(rec.n, stop_epoch);
    ck_assert_int_eq(res.stopped_early, 1);
    ck_assert_int_eq(res.best_epoch, best_epoch);
    ck_assert_int_eq(stop_epoch, best_epoch + 3);
    ck_assert_double_eq(res.best_score, best);
    ck_assert_int_eq(memcmp(aifx_net_params(aifx_model_net(m)),
                            rec.snapshots + (size_t)(best_epoch - 1) * np, np * sizeof(float)),
                     0);
    /* a stopped run stays stopped */
    ck_assert_int_eq(aifx_model_fit(m, &tr, &va, &fc, &res), AIFX_OK);
    ck_assert_int_eq(res.epochs_run, 0);
    free(rec.snapshots);
    aifx_model_free(m);
    free(xr), free(yr), free(xv), free(yv);
}
END_TEST

/* ReduceLROnPlateau: the learning rates reported per epoch against a replay of Keras' rule. */
START_TEST(test_plateau)
{
    aifx_model_config c = small_config();
    float *xr, *xv;
    int32_t *yr, *yv;
    aifx_dataset tr = make_trend_data(5, 64, c.n_steps, c.n_features, &xr, &yr);
    aifx_dataset va = make_trend_data(6, 64, c.n_steps, c.n_features, &xv, &yv);
    aifx_rng r;
    aifx_rng_seed(&r, 78);
    for (size_t i = 0; i < 64; i++)
        yr[i] = (int32_t)(aifx__rng_next(&r) % 3), yv[i] = (int32_t)(aifx__rng_next(&r) % 3);
    aifx_model *m;
    ck_assert_int_eq(aifx_model_new(&c, &m), AIFX_OK);
    aifx_model_set_lr(m, 3e-2f);
    aifx_model_fit_scaler(m, &tr);
    recorder rec = {0};
    aifx_fit_config fc = aifx_fit_config_default();
    fc.epochs = 20;
    fc.plateau = 1;
    fc.plateau_patience = 2;
    fc.plateau_factor = 0.5f;
    fc.plateau_cooldown = 1;
    fc.plateau_min_lr = 5e-3f;
    fc.callback = record;
    fc.user = &rec;
    ck_assert_int_eq(aifx_model_fit(m, &tr, &va, &fc, NULL), AIFX_OK);
    ck_assert_int_eq(rec.n, 20);
    double best = INFINITY;
    int wait = 0, cooldown = 0, reductions = 0;
    float lr = 3e-2f;
    for (int e = 0; e < rec.n; e++) {
        ck_assert_msg(rec.lr[e] == lr, "epoch %d: lr %g, expected %g", e + 1, (double)rec.lr[e],
                      (double)lr);
        if (cooldown > 0) {
            cooldown--;
            wait = 0;
        }
        if (rec.val_loss[e] < best - 1e-4) {
            best = rec.val_loss[e];
            wait = 0;
        } else if (cooldown == 0 && ++wait >= 2 && lr > 5e-3f) {
            float next = lr * 0.5f;
            lr = next > 5e-3f ? next : 5e-3f;
            cooldown = 1;
            wait = 0;
            reductions++;
        }
    }
    ck_assert_msg(reductions >= 2, "only %d reductions", reductions);
    float final_lr;
    aifx_model_get_lr(m, &final_lr);
    ck_assert_float_eq(final_lr, lr);
    aifx_model_free(m);
    free(xr), free(yr), free(xv), free(yv);
}
END_TEST

/* 95/5 imbalance: the minority class shifts feature 0 by one standard deviation. Unweighted
 * training collapses to the majority (the Bayes threshold is 3.4 sd out: minority recall under
 * 1%); balanced weights move it to 0.5 sd (recall near 69%). */
static void imbalanced(uint64_t seed, size_t n, float **rows, int32_t **labels, aifx_dataset *d)
{
    const int T = 4, F = 2;
    aifx_rng r;
    aifx_rng_seed(&r, seed);
    float *x = malloc(sizeof(float) * n * T * F);
    int32_t *y = malloc(sizeof(int32_t) * n);
    for (size_t i = 0; i < n; i++) {
        y[i] = aifx__rng_float(&r) < 0.05f ? 1 : 0;
        float level = (float)aifx__rng_normal(&r) + (y[i] ? 1.0f : 0.0f);
        for (int t = 0; t < T; t++) {
            x[(i * T + t) * F] = level;
            x[(i * T + t) * F + 1] = (float)aifx__rng_normal(&r);
        }
    }
    *rows = x;
    *labels = y;
    *d = (aifx_dataset){x, n * T, NULL, y, n};
}

static double minority_recall(int weighted, double *majority_recall)
{
    aifx_model_config c = aifx_model_config_default();
    c.n_features = 2, c.n_steps = 4, c.n_hidden = 8, c.n_classes = 2, c.dropout = 0.0f;
    c.batch_size = 64, c.seed = 9;
    float *xr, *xt;
    int32_t *yr, *yt;
    aifx_dataset tr, te;
    imbalanced(10, 4000, &xr, &yr, &tr);
    imbalanced(11, 4000, &xt, &yt, &te);
    float w[2];
    ck_assert_int_eq(aifx_class_weights_balanced(tr.n, yr, 2, w), AIFX_OK);
    aifx_model *m;
    ck_assert_int_eq(aifx_model_new(&c, &m), AIFX_OK);
    aifx_model_set_lr(m, 1e-2f);
    aifx_model_fit_scaler(m, &tr);
    aifx_fit_config fc = aifx_fit_config_default();
    fc.epochs = 12;
    fc.restore_best = 0;
    fc.class_weights = weighted ? w : NULL;
    ck_assert_int_eq(aifx_model_fit(m, &tr, NULL, &fc, NULL), AIFX_OK);
    aifx_metrics mt;
    ck_assert_int_eq(aifx_model_evaluate(m, &te, NULL, &mt), AIFX_OK);
    aifx_model_free(m);
    free(xr), free(yr), free(xt), free(yt);
    *majority_recall = mt.recall[0];
    return mt.recall[1];
}

START_TEST(test_class_weights_imbalance)
{
    double maj_u, maj_w;
    double unweighted = minority_recall(0, &maj_u);
    double weighted = minority_recall(1, &maj_w);
    fprintf(stderr,
            "95/5 problem: minority recall unweighted %.3f, balanced %.3f "
            "(majority recall %.3f, %.3f)\n",
            unweighted, weighted, maj_u, maj_w);
    ck_assert_msg(unweighted < 0.05, "unweighted minority recall %.3f", unweighted);
    ck_assert_msg(weighted > 0.5, "weighted minority recall %.3f", weighted);
    ck_assert(maj_u > 0.99 && maj_w > 0.5);
}
END_TEST

START_TEST(test_divergence)
{
    aifx_model_config c = small_config();
    float *xr;
    int32_t *yr;
    aifx_dataset tr = make_trend_data(12, 128, c.n_steps, c.n_features, &xr, &yr);
    aifx_model *m;
    ck_assert_int_eq(aifx_model_new(&c, &m), AIFX_OK);
    aifx_model_fit_scaler(m, &tr);
    aifx_fit_config fc = aifx_fit_config_default();
    fc.epochs = 2;
    ck_assert_int_eq(aifx_model_fit(m, &tr, NULL, &fc, NULL), AIFX_OK);
    size_t np = aifx_net_n_params(aifx_model_net(m));
    float *good = malloc(np * sizeof(float));
    memcpy(good, aifx_net_params(aifx_model_net(m)), np * sizeof(float));
    /* an absurd learning rate blows the weights up; training must stop with its own status and
     * leave the best weights (here: the restored best of the first run) in place */
    aifx_model_reset_progress(m, 1);
    ck_assert_int_eq(aifx_model_set_lr(m, 3e38f), AIFX_OK); /* two steps overflow float32 */
    fc.epochs = 50;
    aifx_fit_result res;
    ck_assert_int_eq(aifx_model_fit(m, &tr, NULL, &fc, &res), AIFX_ERR_DIVERGED);
    ck_assert(res.epochs_run < 50);
    const float *p = aifx_net_params(aifx_model_net(m));
    ck_assert(aifx__all_finite(np, p));
    ck_assert_int_eq(res.best_epoch, 0); /* diverged in its first epoch: no best yet, so the */
    ck_assert_int_eq(memcmp(p, good, np * sizeof(float)), 0); /* starting weights come back */
    ck_assert_int_eq(res.stopped_early, 1);
    free(good);
    aifx_model_free(m);
    free(xr), free(yr);
}
END_TEST

START_TEST(test_finetune)
{
    aifx_model_config c = small_config();
    float *xr;
    int32_t *yr;
    aifx_dataset tr = make_trend_data(13, 96, c.n_steps, c.n_features, &xr, &yr);
    aifx_model *m;
    ck_assert_int_eq(aifx_model_new(&c, &m), AIFX_OK);
    aifx_model_fit_scaler(m, &tr);
    float mean0 = m->mean[0];
    aifx_fit_config fc = aifx_fit_config_default();
    fc.epochs = 2;
    ck_assert_int_eq(aifx_model_fit(m, &tr, NULL, &fc, NULL), AIFX_OK);
    int64_t step;
    aifx_adam_state(m->adam, NULL, NULL, NULL, &step);
    ck_assert_int_eq(step, 2 * 3); /* 96 / 32 batches per epoch */
    /* keep the optimizer: the step count goes on */
    ck_assert_int_eq(aifx_model_reset_progress(m, 0), AIFX_OK);
    ck_assert_int_eq(aifx_model_set_lr(m, 1e-4f), AIFX_OK);
    aifx_fit_result res;
    ck_assert_int_eq(aifx_model_fit(m, &tr, NULL, &fc, &res), AIFX_OK);
    ck_assert_int_eq(res.epochs_run, 2);
    aifx_adam_state(m->adam, NULL, NULL, NULL, &step);
    ck_assert_int_eq(step, 12);
    float lr;
    aifx_model_get_lr(m, &lr);
    ck_assert_float_eq(lr, 1e-4f);
    ck_assert_float_eq(m->mean[0], mean0); /* the scaler is kept */
    /* reset it: the count starts again */
    ck_assert_int_eq(aifx_model_reset_progress(m, 1), AIFX_OK);
    ck_assert_int_eq(aifx_model_fit(m, &tr, NULL, &fc, &res), AIFX_OK);
    aifx_adam_state(m->adam, NULL, NULL, NULL, &step);
    ck_assert_int_eq(step, 6);
    aifx_model_free(m);
    free(xr), free(yr);
}
END_TEST

/* ---- concurrent predict ---- */
typedef struct {
    const aifx_model *m;
    const float *x;
    float *probs;
    int n, T, F, C;
} job;

static void *predict_many(void *arg)
{
    job *j = arg;
    for (int rep = 0; rep < 20; rep++)
        for (int i = 0; i < j->n; i++) /* batch-1 calls, each allocating its own workspace */
            if (aifx_model_predict(j->m, 1, j->x + (size_t)i * j->T * j->F,
                                   j->probs + (size_t)i * j->C, NULL) != AIFX_OK)
                return (void *)1;
    return NULL;
}

START_TEST(test_concurrent_predict)
{
    aifx_model_config c = small_config();
    float *xr;
    int32_t *yr;
    const int n = 64;
    aifx_dataset tr = make_trend_data(14, (size_t)n, c.n_steps, c.n_features, &xr, &yr);
    aifx_model *m;
    ck_assert_int_eq(aifx_model_new(&c, &m), AIFX_OK);
    aifx_model_fit_scaler(m, &tr);
    float serial[64 * 3];
    ck_assert_int_eq(aifx_model_predict(m, n, xr, serial, NULL), AIFX_OK);
    enum { N_THREADS = 4 };
    pthread_t th[N_THREADS];
    job jobs[N_THREADS];
    float out[N_THREADS][64 * 3];
    for (int k = 0; k < N_THREADS; k++) {
        jobs[k] = (job){m, xr, out[k], n, c.n_steps, c.n_features, 3};
        ck_assert_int_eq(pthread_create(&th[k], NULL, predict_many, &jobs[k]), 0);
    }
    for (int k = 0; k < N_THREADS; k++) {
        void *ret;
        pthread_join(th[k], &ret);
        ck_assert_ptr_null(ret);
        /* batch 1 and batch 64 run different GEMM shapes: agree to rounding */
        for (int i = 0; i < n * 3; i++)
            ck_assert_float_eq_tol(out[k][i], serial[i], 1e-6f);
        ck_assert_int_eq(memcmp(out[k], out[0], sizeof(out[0])), 0);
    }
    aifx_model_free(m);
    free(xr), free(yr);
}
END_TEST

START_TEST(test_invalid_arguments)
{
    aifx_model_config c = small_config(), bad = c;
    aifx_model *m = (aifx_model *)1;
    bad.n_classes = AIFX_MAX_CLASSES + 1;
    ck_assert_int_eq(aifx_model_new(&bad, &m), AIFX_ERR_INVALID);
    ck_assert_ptr_null(m);
    bad = c, bad.batch_size = 0;
    ck_assert_int_eq(aifx_model_new(&bad, &m), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_model_new(NULL, &m), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_model_new(&c, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_model_new(&c, &m), AIFX_OK);
    float *xr;
    int32_t *yr;
    aifx_dataset d = make_trend_data(15, 40, c.n_steps, c.n_features, &xr, &yr);
    aifx_fit_config fc = aifx_fit_config_default();
    /* datasets */
    aifx_dataset e = d;
    e.n_rows = d.n_rows - 1;
    ck_assert_int_eq(aifx_model_fit(m, &e, NULL, &fc, NULL), AIFX_ERR_INVALID);
    int64_t ends[2] = {4, 10}; /* window ending at row 4 would start before row 0 (T = 6) */
    e = d, e.ends = ends, e.n = 2;
    ck_assert_int_eq(aifx_model_fit(m, &e, NULL, &fc, NULL), AIFX_ERR_INVALID);
    ends[0] = (int64_t)d.n_rows; /* past the last row */
    ck_assert_int_eq(aifx_model_fit(m, &e, NULL, &fc, NULL), AIFX_ERR_INVALID);
    e = d, e.labels = NULL;
    ck_assert_int_eq(aifx_model_fit(m, &e, NULL, &fc, NULL), AIFX_ERR_INVALID);
    yr[3] = 3;
    ck_assert_int_eq(aifx_model_fit(m, &d, NULL, &fc, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_model_evaluate(m, &d, NULL, &(aifx_metrics){0}), AIFX_ERR_INVALID);
    yr[3] = 0;
    /* fit configuration */
    aifx_fit_config bf = fc;
    bf.monitor = AIFX_MONITOR_VAL_MACRO_F1; /* needs a validation set */
    ck_assert_int_eq(aifx_model_fit(m, &d, NULL, &bf, NULL), AIFX_ERR_INVALID);
    bf = fc, bf.plateau = 1, bf.plateau_factor = 1.0f;
    ck_assert_int_eq(aifx_model_fit(m, &d, NULL, &bf, NULL), AIFX_ERR_INVALID);
    bf = fc, bf.clip_norm = -1.0f;
    ck_assert_int_eq(aifx_model_fit(m, &d, NULL, &bf, NULL), AIFX_ERR_INVALID);
    const float wneg[3] = {1, -1, 1};
    bf = fc, bf.class_weights = wneg;
    ck_assert_int_eq(aifx_model_fit(m, &d, NULL, &bf, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_model_fit(m, &d, NULL, NULL, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_model_fit(NULL, &d, NULL, &fc, NULL), AIFX_ERR_INVALID);
    /* a non-finite row: the scaler refuses and stays as it was; predict refuses */
    xr[7] = NAN;
    ck_assert_int_eq(aifx_model_fit_scaler(m, &d), AIFX_ERR_NONFINITE);
    ck_assert_float_eq(m->mean[0], 0.0f);
    ck_assert_float_eq(m->scale[0], 1.0f);
    float p[3];
    ck_assert_int_eq(aifx_model_predict(m, 1, xr, p, NULL), AIFX_ERR_NONFINITE);
    ck_assert_int_eq(aifx_model_predict(m, 0, xr, p, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_model_predict(NULL, 1, xr, p, NULL), AIFX_ERR_INVALID);
    /* names and metadata */
    const char *names3[3] = {"buy", "sell", "hold"};
    const char *bad3[3] = {"buy", "", "hold"};
    ck_assert_int_eq(aifx_model_set_class_names(m, names3), AIFX_OK);
    ck_assert_str_eq(aifx_model_class_name(m, 2), "hold");
    ck_assert_int_eq(aifx_model_set_class_names(m, bad3), AIFX_ERR_INVALID);
    ck_assert_str_eq(aifx_model_class_name(m, 1), "sell");
    ck_assert_ptr_null(aifx_model_class_name(m, 3));
    ck_assert_str_eq(aifx_model_feature_name(m, 2), "f2");
    ck_assert_int_eq(aifx_model_set_metadata(m, "{\"pair\":\"EURUSD\"}"), AIFX_OK);
    ck_assert_str_eq(aifx_model_metadata(m), "{\"pair\":\"EURUSD\"}");
    ck_assert_int_eq(aifx_model_set_metadata(m, NULL), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_model_set_lr(m, 0.0f), AIFX_ERR_INVALID);
    aifx_model_free(m);
    aifx_model_free(NULL);
    free(xr), free(yr);
}
END_TEST

START_TEST(test_metrics_undefined_classes)
{
    /* class 2 never occurs and is never predicted; class 1 occurs but is never predicted:
     * precision 0 (not NaN), and macro-F1 averages over classes 0 and 1 only */
    aifx_metrics m = {0};
    m.n_classes = 3;
    m.confusion[0][0] = 8;
    m.confusion[1][0] = 2;
    aifx__metrics_finish(&m);
    ck_assert_double_eq(m.precision[1], 0.0);
    ck_assert_double_eq(m.recall[1], 0.0);
    ck_assert_double_eq(m.f1[2], 0.0);
    ck_assert_double_eq_tol(m.precision[0], 0.8, 1e-12);
    ck_assert_double_eq_tol(m.f1[0], 2 * 0.8 / 1.8, 1e-12);
    ck_assert_double_eq_tol(m.macro_f1, (2 * 0.8 / 1.8) / 2, 1e-12);
    ck_assert_double_eq_tol(m.accuracy, 0.8, 1e-12);
    ck_assert_int_eq(m.support[1], 2);
    ck_assert_int_eq(m.predicted[0], 10);
}
END_TEST

/* Evaluation runs in chunks of 256 windows; the last chunk (here 250) must fit the workspace
 * too. The inference path's need is not monotonic in the batch size: with T = 20 its input
 * projection takes ceil(1024 / B) steps at a time, 1250 rows for B = 250 against 1024 for 256.
 * Under ASan this wrote past the buffer before the fix; the figures must equal a one-by-one
 * evaluation. */
START_TEST(test_evaluate_uneven_chunks)
{
    aifx_model_config c = small_config();
    c.n_steps = 20;
    float *x;
    int32_t *y;
    aifx_dataset d = make_trend_data(16, 506, c.n_steps, c.n_features, &x, &y);
    aifx_model *m;
    ck_assert_int_eq(aifx_model_new(&c, &m), AIFX_OK);
    aifx_model_fit_scaler(m, &d);
    aifx_metrics all;
    ck_assert_int_eq(aifx_model_evaluate(m, &d, NULL, &all), AIFX_OK);
    int64_t correct = 0;
    for (size_t i = 0; i < d.n; i++) {
        float p[3];
        ck_assert_int_eq(aifx_model_predict(m, 1, x + i * c.n_steps * c.n_features, p, NULL),
                         AIFX_OK);
        int best = p[1] > p[0] ? 1 : 0;
        best = p[2] > p[best] ? 2 : best;
        correct += best == y[i];
    }
    ck_assert_int_eq(all.n, 506);
    ck_assert_double_eq_tol(all.accuracy, (double)correct / 506.0, 1e-12);
    aifx_model_free(m);
    free(x), free(y);
}
END_TEST

/* aifx_model_predict_dataset splits its fixed 256-window chunks over the model's threads: 1, 2
 * and 3 threads (1,300 windows: 5 full chunks and one of 20, dealt unevenly) give the same
 * bytes, and so do four callers at once on the one 3-thread model (the function is
 * thread-safe: its threads are its own, not the net's workers). */
typedef struct dataset_job {
    const aifx_model *m;
    const aifx_dataset *d;
    float *probs;
} dataset_job;

static void *predict_dataset_job(void *arg)
{
    dataset_job *j = arg;
    return aifx_model_predict_dataset(j->m, j->d, j->probs) == AIFX_OK ? NULL : (void *)1;
}

START_TEST(test_predict_dataset_threads)
{
    aifx_model_config c = small_config();
    float *x;
    int32_t *y;
    const size_t n = 1300;
    aifx_dataset d = make_trend_data(17, n, c.n_steps, c.n_features, &x, &y);
    aifx_model *m;
    ck_assert_int_eq(aifx_model_new(&c, &m), AIFX_OK);
    aifx_model_fit_scaler(m, &d);
    float *one = malloc(n * 3 * sizeof(float)), *p = malloc(n * 3 * sizeof(float));
    ck_assert_int_eq(aifx_model_predict_dataset(m, &d, one), AIFX_OK);
    for (int t = 2; t <= 3; t++) {
        ck_assert_int_eq(aifx_model_set_threads(m, t), AIFX_OK);
        memset(p, 0xff, n * 3 * sizeof(float));
        ck_assert_int_eq(aifx_model_predict_dataset(m, &d, p), AIFX_OK);
        ck_assert_mem_eq(p, one, n * 3 * sizeof(float));
    }
    enum { N_CALLERS = 4 };
    pthread_t th[N_CALLERS];
    dataset_job jobs[N_CALLERS];
    float *out[N_CALLERS];
    for (int k = 0; k < N_CALLERS; k++) {
        out[k] = malloc(n * 3 * sizeof(float));
        jobs[k] = (dataset_job){m, &d, out[k]};
        ck_assert_int_eq(pthread_create(&th[k], NULL, predict_dataset_job, &jobs[k]), 0);
    }
    for (int k = 0; k < N_CALLERS; k++) {
        void *ret;
        pthread_join(th[k], &ret);
        ck_assert_ptr_null(ret);
        ck_assert_mem_eq(out[k], one, n * 3 * sizeof(float));
        free(out[k]);
    }
    /* the probabilities are the batch predictions of the same windows */
    float *direct = malloc(256 * 3 * sizeof(float));
    ck_assert_int_eq(
        aifx_model_predict(m, 256, x + (size_t)1024 * c.n_steps * c.n_features, direct, NULL),
        AIFX_OK);
    ck_assert_mem_eq(direct, one + 1024 * 3, 256 * 3 * sizeof(float));
    free(direct);
    free(one), free(p);
    aifx_model_free(m);
    free(x), free(y);
}
END_TEST

/* n_threads in the model's config reaches the net's workers: two threads repeat their bytes run
 * after run, a model set to two threads after creation trains exactly as one made with two, and a
 * checkpoint does not carry the setting (a loaded model has one thread). */
static void fit_threads(int n_cfg, int n_set, float *params_out, size_t n_params)
{
    aifx_model_config c = small_config();
    c.n_threads = n_cfg;
    float *xr;
    int32_t *yr;
    aifx_dataset tr = make_trend_data(5, 256, c.n_steps, c.n_features, &xr, &yr);
    aifx_model *m;
    ck_assert_int_eq(aifx_model_new(&c, &m), AIFX_OK);
    if (n_set)
        ck_assert_int_eq(aifx_model_set_threads(m, n_set), AIFX_OK);
    aifx_model_config got;
    ck_assert_int_eq(aifx_model_get_config(m, &got), AIFX_OK);
    ck_assert_int_eq(got.n_threads, n_set ? n_set : n_cfg);
    aifx_fit_config fc = aifx_fit_config_default();
    fc.epochs = 2;
    ck_assert_int_eq(aifx_model_fit(m, &tr, NULL, &fc, NULL), AIFX_OK);
    ck_assert_uint_eq(aifx_net_n_params(aifx_model_net(m)), n_params);
    memcpy(params_out, aifx_net_params(aifx_model_net(m)), n_params * sizeof(float));
    aifx_model_free(m);
    free(xr), free(yr);
}

START_TEST(test_model_threads)
{
    aifx_model_config c = small_config();
    aifx_model *m;
    ck_assert_int_eq(aifx_model_new(&c, &m), AIFX_OK);
    const size_t n = aifx_net_n_params(aifx_model_net(m));
    ck_assert_int_eq(aifx_model_set_threads(m, 0), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_model_set_threads(m, AIFX_MAX_THREADS + 1), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_model_set_threads(NULL, 2), AIFX_ERR_INVALID);
    char err[256];
    char path[] = "/tmp/aifx-threads-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(aifx_model_set_threads(m, 3), AIFX_OK);
    ck_assert_int_eq(aifx_model_save(m, path, 1, err, sizeof err), AIFX_OK);
    aifx_model *back;
    ck_assert_int_eq(aifx_model_load(path, &back, err, sizeof err), AIFX_OK);
    aifx_model_config got;
    ck_assert_int_eq(aifx_model_get_config(back, &got), AIFX_OK);
    ck_assert_int_eq(got.n_threads, 1);
    aifx_model_free(back);
    aifx_model_free(m);
    unlink(path);
    c.n_threads = AIFX_MAX_THREADS + 1;
    ck_assert_int_eq(aifx_model_new(&c, &m), AIFX_ERR_INVALID);

    float *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float));
    float *s = malloc(n * sizeof(float));
    fit_threads(2, 0, a, n);
    fit_threads(2, 0, b, n);
    fit_threads(1, 2, s, n);
    ck_assert_mem_eq(a, b, n * sizeof(float));
    ck_assert_mem_eq(a, s, n * sizeof(float));
    if (aifx__kernel_path() == AIFX_KPATH_AVX2) { /* 1 thread trains the bytes of 2 (check_net) */
        fit_threads(1, 0, b, n);
        ck_assert_mem_eq(a, b, n * sizeof(float));
    }
    free(a), free(b), free(s);
}
END_TEST

START_TEST(test_windows_by_index)
{
    /* windows given by end rows over one series equal the same windows laid out (n, T, F) */
    aifx_model_config c = small_config();
    aifx_model *m;
    ck_assert_int_eq(aifx_model_new(&c, &m), AIFX_OK);
    const int T = c.n_steps, F = c.n_features;
    float series[40 * 3];
    aifx_rng r;
    aifx_rng_seed(&r, 3);
    for (int i = 0; i < 40 * F; i++)
        series[i] = aifx__rng_float(&r);
    int64_t ends[4] = {5, 17, 18, 39};
    int32_t y[4] = {0, 1, 2, 1};
    aifx_dataset byidx = {series, 40, ends, y, 4};
    float laid[4 * 6 * 3];
    for (int i = 0; i < 4; i++)
        memcpy(laid + i * T * F, series + (ends[i] - T + 1) * F, sizeof(float) * T * F);
    aifx_dataset flat = {laid, 4 * (size_t)T, NULL, y, 4};
    aifx_metrics a, b;
    ck_assert_int_eq(aifx_model_evaluate(m, &byidx, NULL, &a), AIFX_OK);
    ck_assert_int_eq(aifx_model_evaluate(m, &flat, NULL, &b), AIFX_OK);
    ck_assert_double_eq(a.loss, b.loss);
    /* the scaler sees each covered row once: rows 0..5, 12..18, 34..39 = 19 rows */
    ck_assert_int_eq(aifx_model_fit_scaler(m, &byidx), AIFX_OK);
    double s = 0;
    int rows[] = {0, 1, 2, 3, 4, 5, 12, 13, 14, 15, 16, 17, 18, 34, 35, 36, 37, 38, 39};
    for (int i = 0; i < 19; i++)
        s += series[rows[i] * F];
    ck_assert_double_eq_tol(m->mean[0], s / 19, 1e-6);
    aifx_model_free(m);
}
END_TEST

static Suite *model_suite(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("model");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, test_fit_learns_and_evaluates);
    tcase_add_test(tc, test_early_stopping_restores_best);
    tcase_add_test(tc, test_plateau);
    tcase_add_test(tc, test_class_weights_imbalance);
    tcase_add_test(tc, test_divergence);
    tcase_add_test(tc, test_finetune);
    tcase_add_test(tc, test_concurrent_predict);
    tcase_add_test(tc, test_invalid_arguments);
    tcase_add_test(tc, test_metrics_undefined_classes);
    tcase_add_test(tc, test_windows_by_index);
    tcase_add_test(tc, test_evaluate_uneven_chunks);
    tcase_add_test(tc, test_model_threads);
    tcase_add_test(tc, test_predict_dataset_threads);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(model_suite)
