/*
 * features.c - the one place where a pair's bars become a model's probabilities in the server
 * (serve_features_predict, serve.h). Everything the server predicts goes through this function,
 * so that a streaming feature engine can replace its inside without touching the handlers.
 *
 * Today it calls tr_predict_window (cycles/cycle.h), the very code aifx-train predict and the
 * replay use: the 38 features over the last min(n, TR_PREDICT_MAX_HISTORY) bars, then the last
 * T rows through the model's scaler and network. Its result is cached per (pair, timeframe,
 * model): the entry holds a copy of the bars the features were computed over, the model
 * (version and checkpoint CRC-32) and the probabilities; a request whose bars are the same
 * (the newest bar's time first, then all of them compared with memcmp, which costs
 * microseconds where a CRC-32 of the 240 kB cost a millisecond) with the same model is answered
 * from the entry, so the features are recomputed only when a new bar arrived, a stored bar was
 * replaced, or the model changed. Computing happens outside the lock; two threads that miss at
 * once both compute the same numbers.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cycles/cycle.h"
#include "market/featureset.h"
#include "serve/serve.h"

#define N_ENTRIES 16 /* pairs x models in use; each holds up to 240 kB of bars */

typedef struct fentry {
    int used;
    uint64_t tick; /* last use, for replacement */
    char pair[TR_PAIR_MAX];
    int32_t tf;
    char version[TR_VERSION_MAX];
    uint32_t model_crc;
    int64_t newest; /* open time of the newest bar */
    size_t n;       /* bars the features were computed over */
    tr_bar *bars;   /* (n) a copy of them */
    float probs[3];
    int best;
} fentry;

struct serve_features {
    pthread_mutex_t mu;
    fentry e[N_ENTRIES];
    uint64_t tick;
};

serve_features *serve_features_new(void)
{
    serve_features *f = calloc(1, sizeof *f);
    if (f)
        pthread_mutex_init(&f->mu, NULL);
    return f;
}

void serve_features_free(serve_features *f)
{
    if (!f)
        return;
    for (int i = 0; i < N_ENTRIES; i++)
        free(f->e[i].bars);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

/* The entry of (pair, tf, model) or, with make, the one to replace; NULL. Under mu. */
static fentry *find(serve_features *f, const char *pair, int32_t tf, const serve_model *m, int make)
{
    fentry *victim = &f->e[0];
    for (int i = 0; i < N_ENTRIES; i++) {
        fentry *e = &f->e[i];
        if (e->used && e->tf == tf && e->model_crc == m->crc && strcmp(e->pair, pair) == 0 &&
            strcmp(e->version, m->version) == 0)
            return e;
        if (!e->used || (victim->used && e->tick < victim->tick))
            victim = e;
    }
    return make ? victim : NULL;
}

tr_code serve_features_predict(serve_features *f, const char *pair, int32_t tf, const tr_bar *bars,
                               size_t n, const serve_model *m, float probs[3], int *best,
                               tr_error *err)
{
    if (n == 0)
        return tr_fail(err, TR_ERR_INVALID, "%s: no bars", pair);
    size_t used = n < TR_PREDICT_MAX_HISTORY ? n : TR_PREDICT_MAX_HISTORY;
    const tr_bar *window = bars + (n - used);
    int64_t newest = bars[n - 1].t;
    pthread_mutex_lock(&f->mu);
    fentry *e = find(f, pair, tf, m, 0);
    if (e && e->newest == newest && e->n == used &&
        memcmp(e->bars, window, used * sizeof *window) == 0) {
        memcpy(probs, e->probs, sizeof e->probs);
        *best = e->best;
        e->tick = ++f->tick;
        pthread_mutex_unlock(&f->mu);
        return TR_OK;
    }
    pthread_mutex_unlock(&f->mu);

    aifx_model_config mc;
    aifx_model_get_config(m->m, &mc);
    double *feat = malloc(used * TR_N_FEATURES * sizeof *feat);        /* (used, F) */
    float *x = malloc((size_t)mc.n_steps * TR_N_FEATURES * sizeof *x); /* (T, F) */
    tr_code rc = TR_OK;
    if (!feat || !x)
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory computing features");
    else
        rc = tr_predict_window(m->m, pair, bars, n, feat, x, probs, best, err);
    free(feat);
    free(x);
    if (rc)
        return rc;

    tr_bar *copy = malloc(used * sizeof *copy);
    if (!copy)
        return TR_OK; /* answered, not cached */
    memcpy(copy, window, used * sizeof *copy);
    pthread_mutex_lock(&f->mu);
    e = find(f, pair, tf, m, 1);
    tr_bar *old = e->bars;
    e->bars = copy;
    e->used = 1;
    e->tick = ++f->tick;
    snprintf(e->pair, sizeof e->pair, "%s", pair);
    e->tf = tf;
    snprintf(e->version, sizeof e->version, "%s", m->version);
    e->model_crc = m->crc;
    e->newest = newest;
    e->n = used;
    memcpy(e->probs, probs, sizeof e->probs);
    e->best = *best;
    pthread_mutex_unlock(&f->mu);
    free(old);
    return TR_OK;
}
