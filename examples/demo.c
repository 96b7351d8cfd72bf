/*
 * demo.c - trains a small LSTM classifier with the public API of libaifxnn only, on generated
 * sequences, and prints its training loss falling and its accuracy on held-out sequences rising.
 *
 * Data: each sequence is T steps of a noisy level, v_t = v_0 + s t + u_t, with u_t uniform in
 * [-NOISE, NOISE]. Its class is the sign of the trend s: 0 falling (s < 0), 1 rising (s > 0),
 * 2 flat (s = 0, noise only). The F = 4 features of step t are v_t, v_t - v_{t-1} (0 at t = 0),
 * a pure-noise distractor in [-1, 1], and t / (T - 1). One seeded aifx_rng makes the data, the
 * initial weights and the shuffling, so every run prints the same numbers (same BLAS threads).
 *
 * Model: 1 LSTM layer of H = 16 units, dense head to C = 3 classes, batches of 32, Adam.
 * Exit status: 0 when training ran and the mean loss of the last epoch is below the first's;
 * 1 otherwise (a library call failed, or the loss did not fall).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "aifxnn.h"

enum {
    N_IN = 4,       /* F */
    N_STEPS = 12,   /* T */
    N_HIDDEN = 16,  /* H */
    N_CLASSES = 3,  /* C */
    BATCH = 32,     /* B */
    N_TRAIN = 1024, /* training sequences, a multiple of BATCH */
    N_TEST = 512,   /* held-out sequences */
    N_EPOCHS = 30,
    REPORT_EVERY = 3 /* epochs between printed lines */
};

#define NOISE 0.15f
#define SEED  20240601u

static const char *const class_names[N_CLASSES] = {"falling", "rising", "flat"};

/* Prints the failing call and its status text; returns nonzero on failure. */
static int failed(aifx_status st, const char *what)
{
    if (st == AIFX_OK)
        return 0;
    fprintf(stderr, "aifx-demo: %s failed: %s\n", what, aifx_strerror(st));
    return 1;
}

/* Uniform float in [lo, hi). */
static aifx_status uniform(aifx_rng *rng, float lo, float hi, float *out)
{
    float u;
    aifx_status st = aifx_rng_uniform(rng, &u);
    *out = lo + (hi - lo) * u;
    return st;
}

/* n sequences into x (n, T, F) with their classes in y (n). */
static aifx_status make_data(aifx_rng *rng, int n, float *x, int32_t *y)
{
    aifx_status st = AIFX_OK;
    for (int b = 0; b < n && st == AIFX_OK; b++) {
        uint64_t r;
        float level, slope, u, prev = 0.0f;
        if ((st = aifx_rng_u64(rng, &r)) != AIFX_OK ||
            (st = uniform(rng, -1.0f, 1.0f, &level)) != AIFX_OK ||
            (st = uniform(rng, 0.02f, 0.05f, &slope)) != AIFX_OK)
            break;
        y[b] = (int32_t)(r % N_CLASSES);
        if (y[b] == 0)
            slope = -slope;
        else if (y[b] == 2)
            slope = 0.0f;
        for (int t = 0; t < N_STEPS; t++) {
            float *f = x + ((size_t)b * N_STEPS + t) * N_IN; /* (F) */
            float v, distractor;
            if ((st = uniform(rng, -NOISE, NOISE, &u)) != AIFX_OK ||
                (st = uniform(rng, -1.0f, 1.0f, &distractor)) != AIFX_OK)
                break;
            v = level + slope * (float)t + u;
            f[0] = v;
            f[1] = t > 0 ? v - prev : 0.0f;
            f[2] = distractor;
            f[3] = (float)t / (float)(N_STEPS - 1);
            prev = v;
        }
    }
    return st;
}

static int argmax(const float *p) /* p (C) */
{
    int best = 0;
    for (int j = 1; j < N_CLASSES; j++)
        if (p[j] > p[best])
            best = j;
    return best;
}

int main(void)
{
    const size_t seq_floats = (size_t)N_STEPS * N_IN;
    aifx_net_config cfg = aifx_net_config_default();
    aifx_adam_config acfg = aifx_adam_config_default();
    aifx_net *net = NULL;
    aifx_adam *adam = NULL;
    aifx_rng rng;
    float *x_train = malloc(sizeof(float) * N_TRAIN * seq_floats);  /* (N_TRAIN, T, F) */
    float *x_test = malloc(sizeof(float) * N_TEST * seq_floats);    /* (N_TEST, T, F) */
    float *probs_test = malloc(sizeof(float) * N_TEST * N_CLASSES); /* (N_TEST, C) */
    int32_t *y_train = malloc(sizeof(int32_t) * N_TRAIN);           /* (N_TRAIN) */
    int32_t *y_test = malloc(sizeof(int32_t) * N_TEST);             /* (N_TEST) */
    int *order = malloc(sizeof(int) * N_TRAIN);                     /* (N_TRAIN) */
    float x_batch[BATCH * N_STEPS * N_IN];                          /* (B, T, F) */
    float probs_batch[BATCH * N_CLASSES];                           /* (B, C) */
    int32_t y_batch[BATCH];                                         /* (B) */
    double first_loss = 0.0, last_loss = 0.0;
    int status = 1;

    if (!x_train || !x_test || !probs_test || !y_train || !y_test || !order) {
        fprintf(stderr, "aifx-demo: out of memory\n");
        goto done;
    }

    cfg.n_in = N_IN;
    cfg.n_steps = N_STEPS;
    cfg.n_layers = 1;
    cfg.n_hidden = N_HIDDEN;
    cfg.n_classes = N_CLASSES;
    cfg.max_batch = BATCH;
    cfg.dropout = 0.0f;
    acfg.lr = 3e-3f;

    printf("aifx-demo: libaifxnn %s, LSTM F %d T %d H %d C %d, batch %d, %d train / %d test\n",
           aifx_version_string(), N_IN, N_STEPS, N_HIDDEN, N_CLASSES, BATCH, N_TRAIN, N_TEST);
    printf("classes: 0 %s, 1 %s, 2 %s\n", class_names[0], class_names[1], class_names[2]);

    if (failed(aifx_rng_seed(&rng, SEED), "aifx_rng_seed") ||
        failed(make_data(&rng, N_TRAIN, x_train, y_train), "generating training data") ||
        failed(make_data(&rng, N_TEST, x_test, y_test), "generating test data") ||
        failed(aifx_net_new(&cfg, &net), "aifx_net_new") ||
        failed(aifx_net_init(net, &rng), "aifx_net_init") ||
        failed(aifx_adam_new(aifx_net_n_params(net), &acfg, &adam), "aifx_adam_new"))
        goto done;

    printf("%5s  %10s  %9s  %9s\n", "epoch", "train loss", "train acc", "test acc");
    for (int i = 0; i < N_TRAIN; i++)
        order[i] = i;

    for (int epoch = 1; epoch <= N_EPOCHS; epoch++) {
        double loss_sum = 0.0;
        int n_right = 0;

        /* Fisher-Yates shuffle of the training order. */
        for (int i = N_TRAIN - 1; i > 0; i--) {
            uint64_t r;
            if (failed(aifx_rng_u64(&rng, &r), "aifx_rng_u64"))
                goto done;
            int j = (int)(r % (uint64_t)(i + 1)), tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }

        for (int start = 0; start < N_TRAIN; start += BATCH) {
            float loss;
            for (int b = 0; b < BATCH; b++) {
                int k = order[start + b];
                for (size_t i = 0; i < seq_floats; i++)
                    x_batch[b * seq_floats + i] = x_train[k * seq_floats + i];
                y_batch[b] = y_train[k];
            }
            if (failed(aifx_net_forward(net, BATCH, x_batch, NULL, probs_batch, NULL, NULL),
                       "aifx_net_forward") ||
                failed(aifx_net_backward(net, y_batch, NULL, &loss, NULL), "aifx_net_backward") ||
                failed(aifx_adam_step(adam, aifx_net_params(net), aifx_net_grads(net)),
                       "aifx_adam_step"))
                goto done;
            loss_sum += loss;
            for (int b = 0; b < BATCH; b++)
                n_right += argmax(probs_batch + b * N_CLASSES) == y_batch[b];
        }
        last_loss = loss_sum / (N_TRAIN / BATCH);
        if (epoch == 1)
            first_loss = last_loss;

        if (epoch == 1 || epoch % REPORT_EVERY == 0 || epoch == N_EPOCHS) {
            int n_test_right = 0;
            if (failed(aifx_net_predict(net, N_TEST, x_test, probs_test, NULL), "aifx_net_predict"))
                goto done;
            for (int b = 0; b < N_TEST; b++)
                n_test_right += argmax(probs_test + b * N_CLASSES) == y_test[b];
            printf("%5d  %10.4f  %8.1f%%  %8.1f%%\n", epoch, last_loss, 100.0 * n_right / N_TRAIN,
                   100.0 * n_test_right / N_TEST);
        }
    }

    if (last_loss < first_loss) {
        printf("training loss fell from %.4f to %.4f\n", first_loss, last_loss);
        status = 0;
    } else {
        fprintf(stderr, "aifx-demo: training loss did not fall (%.4f -> %.4f)\n", first_loss,
                last_loss);
    }

done:
    aifx_adam_free(adam);
    aifx_net_free(net);
    free(order);
    free(y_test);
    free(y_train);
    free(probs_test);
    free(x_test);
    free(x_train);
    return status;
}
