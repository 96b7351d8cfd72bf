/*
 * features.c - the one place where a pair's bars become a model's probabilities in the server.
 *
 * The live path (serve_live_sync, serve_live_predict): per (pair, timeframe) a live feature
 * state (cycles/livefeat.h), built from the same last TR_PREDICT_MAX_HISTORY stored bars that
 * tr_predict reads and then extended one new bar at a time, so a prediction costs the model's
 * forward pass over a window it already holds instead of the 38 features over 5,000 bars; the
 * state reads the store only when a newer bar can have closed by the request's as-of time. Its
 * windows equal the batch's bit for bit (tests/trainer/check_livefeat.c). The probabilities are
 * kept per (pair, newest bar, model), so repeated requests for the same bar cost a lookup.
 *
 * The batch path (serve_features_predict): a request for the past (an as-of time before the
 * newest bar the live state holds) gets tr_predict_window over the bars closed by then, the very
 * code aifx-train predict and the replay use, cached per (pair, timeframe, model) on a copy of
 * the bars it was computed over.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "cycles/cycle.h"
#include "cycles/livefeat.h"
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

#define N_LIVE 32 /* (pair, timeframe) series served live */

/* A live series: its feature state and the last probabilities per model, under its own lock. */
typedef struct lentry {
    pthread_mutex_t mu;
    int used;
    char pair[TR_PAIR_MAX];
    int32_t tf;
    tr_live_pair *lp;
    /* the last answer: probabilities of (version, crc) for the window ending at newest */
    char version[TR_VERSION_MAX];
    uint32_t model_crc;
    int64_t newest;
    float probs[3];
    int best;
} lentry;

struct serve_features {
    pthread_mutex_t mu;
    fentry e[N_ENTRIES];
    uint64_t tick;
    lentry live[N_LIVE]; /* slots taken under mu, never given back */
};

serve_features *serve_features_new(void)
{
    serve_features *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    pthread_mutex_init(&f->mu, NULL);
    for (int i = 0; i < N_LIVE; i++)
        pthread_mutex_init(&f->live[i].mu, NULL);
    return f;
}

void serve_features_free(serve_features *f)
{
    if (!f)
        return;
    for (int i = 0; i < N_ENTRIES; i++)
        free(f->e[i].bars);
    for (int i = 0; i < N_LIVE; i++) {
        tr_live_pair_free(f->live[i].lp);
        pthread_mutex_destroy(&f->live[i].mu);
    }
    pthread_mutex_destroy(&f->mu);
    free(f);
}

/* The live entry of (pair, tf), locked; NULL when every slot is taken by other series. */
static lentry *live_lock(serve_features *f, const char *pair, int32_t tf, tr_error *err)
{
    lentry *hit = NULL;
    pthread_mutex_lock(&f->mu);
    for (int i = 0; i < N_LIVE && !hit; i++)
        if (f->live[i].used && f->live[i].tf == tf && strcmp(f->live[i].pair, pair) == 0)
            hit = &f->live[i];
    for (int i = 0; i < N_LIVE && !hit; i++)
        if (!f->live[i].used) {
            tr_live_pair *lp;
            if (tr_live_pair_new(pair, tf, &lp, err) != TR_OK)
                break;
            hit = &f->live[i];
            hit->used = 1;
            hit->lp = lp;
            hit->tf = tf;
            snprintf(hit->pair, sizeof hit->pair, "%s", pair);
        }
    pthread_mutex_unlock(&f->mu);
    if (hit)
        pthread_mutex_lock(&hit->mu);
    return hit;
}

tr_code serve_live_sync(serve_features *f, tr_store *st, const char *pair, int32_t tf,
                        int64_t as_of, int64_t *newest, size_t *history, tr_error *err)
{
    lentry *le = live_lock(f, pair, tf, err);
    if (!le)
        return tr_fail(err, TR_ERR_CONFLICT, "no live slot for %s", pair);
    tr_code rc = tr_live_pair_sync(le->lp, st, as_of, tr_mono_now(), 0, NULL, err);
    *newest = tr_live_pair_last(le->lp);
    *history = tr_live_pair_history(le->lp);
    pthread_mutex_unlock(&le->mu);
    return rc;
}

void serve_live_invalidate(serve_features *f, const char *pair, int32_t tf)
{
    /* the next sync rereads from the newest bar held: dropping the state is enough and rare */
    tr_error e;
    lentry *le = live_lock(f, pair, tf, &e);
    if (!le)
        return;
    tr_live_pair *fresh;
    if (tr_live_pair_new(pair, tf, &fresh, &e) == TR_OK) {
        tr_live_pair_free(le->lp);
        le->lp = fresh;
        le->newest = INT64_MIN;
    }
    pthread_mutex_unlock(&le->mu);
}

tr_code serve_live_predict(serve_features *f, const char *pair, int32_t tf, int64_t newest,
                           const serve_model *m, float probs[3], int *best, tr_error *err)
{
    lentry *le = live_lock(f, pair, tf, err);
    if (!le)
        return tr_fail(err, TR_ERR_CONFLICT, "no live slot for %s", pair);
    tr_code rc = TR_OK;
    if (tr_live_pair_last(le->lp) != newest) {
        rc = tr_fail(err, TR_ERR_CONFLICT, "%s: the live window moved", pair);
    } else if (le->newest == newest && le->model_crc == m->crc &&
               strcmp(le->version, m->version) == 0) {
        memcpy(probs, le->probs, sizeof le->probs);
        *best = le->best;
    } else {
        rc = tr_live_pair_predict(le->lp, m->m, &m->rule, probs, best, err);
        if (!rc) {
            le->newest = newest;
            le->model_crc = m->crc;
            snprintf(le->version, sizeof le->version, "%s", m->version);
            memcpy(le->probs, probs, sizeof le->probs);
            le->best = *best;
        }
    }
    pthread_mutex_unlock(&le->mu);
    return rc;
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
        rc = tr_predict_window(m->m, &m->rule, pair, bars, n, feat, x, probs, best, err);
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
