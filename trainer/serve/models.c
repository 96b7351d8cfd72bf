/*
 * models.c - the models the server keeps loaded and the registry snapshot the request path
 * reads (serve.h).
 *
 * A serve_model is one loaded checkpoint, immutable, shared by every worker thread: the
 * library's aifx_model_predict is thread-safe on one model ("any number of threads may predict
 * on one model at once while nothing modifies it", aifxnn.h), so there is neither a clone per
 * thread nor a lock around prediction. Models are reference counted: the cache holds one
 * reference to each model it keeps, a snapshot one to its active model, a request one to the
 * model it predicts with; the last release frees the model.
 *
 * The cache is a small LRU of versions (the active one, A/B arms, versions pinned by requests,
 * the version before the last swap so that a rollback is instant), keyed by the version's name
 * and its checkpoint's CRC-32.
 *
 * The snapshot (the registry as last read and the active model) is replaced as a whole under a
 * mutex held for a pointer swap: sync reads the registry, loads a newly active version beside
 * the old one (outside every lock, so requests go on), then publishes the new snapshot. A
 * request holding the old snapshot finishes on the old model. A version that fails to load is
 * logged (a JSON line on stderr) and counted, the old model keeps serving, and the load is
 * retried after RETRY_SECONDS (so a damaged checkpoint is not re-read every second).
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "data/models.h"
#include "market/featureset.h"
#include "serve/serve.h"

#define RETRY_SECONDS 30.0

struct serve_models {
    serve_ctx *ctx;
    pthread_mutex_t mu; /* snap, lru */
    serve_snapshot *snap;
    serve_model **lru; /* (cap) most recently used first; the cache holds a reference to each */
    int n_lru, cap;
    pthread_mutex_t sync_mu; /* one sync at a time; failed_* */
    char failed_version[TR_VERSION_MAX];
    uint32_t failed_crc;
    double failed_at; /* monotonic */
};

static void ref(int *refs)
{
    __atomic_add_fetch(refs, 1, __ATOMIC_RELAXED);
}

static int unref(int *refs)
{
    return __atomic_sub_fetch(refs, 1, __ATOMIC_ACQ_REL) == 0;
}

void serve_model_release(serve_model *m)
{
    if (m && unref(&m->refs)) {
        aifx_model_free(m->m);
        free(m);
    }
}

void serve_snapshot_release(serve_snapshot *s)
{
    if (s && unref(&s->refs)) {
        serve_model_release(s->active);
        tr_registry_free(&s->reg);
        free(s);
    }
}

serve_models *serve_models_new(serve_ctx *ctx, int capacity)
{
    serve_models *ms = calloc(1, sizeof *ms);
    if (!ms)
        return NULL;
    ms->ctx = ctx;
    ms->cap = capacity < 1 ? 1 : capacity;
    ms->lru = calloc((size_t)ms->cap + 1, sizeof *ms->lru);
    if (!ms->lru) {
        free(ms);
        return NULL;
    }
    pthread_mutex_init(&ms->mu, NULL);
    pthread_mutex_init(&ms->sync_mu, NULL);
    return ms;
}

void serve_models_free(serve_models *ms)
{
    if (!ms)
        return;
    serve_snapshot_release(ms->snap);
    for (int i = 0; i < ms->n_lru; i++)
        serve_model_release(ms->lru[i]);
    free(ms->lru);
    pthread_mutex_destroy(&ms->mu);
    pthread_mutex_destroy(&ms->sync_mu);
    free(ms);
}

serve_snapshot *serve_snapshot_get(serve_models *ms)
{
    pthread_mutex_lock(&ms->mu);
    serve_snapshot *s = ms->snap;
    if (s)
        ref(&s->refs);
    pthread_mutex_unlock(&ms->mu);
    return s;
}

/* The cached model of (version, crc) with a reference, moved to the front; NULL. Under mu. */
static serve_model *lru_find(serve_models *ms, const char *version, uint32_t crc)
{
    for (int i = 0; i < ms->n_lru; i++) {
        serve_model *m = ms->lru[i];
        if (m->crc == crc && strcmp(m->version, version) == 0) {
            memmove(ms->lru + 1, ms->lru, (size_t)i * sizeof *ms->lru);
            ms->lru[0] = m;
            ref(&m->refs);
            return m;
        }
    }
    return NULL;
}

static tr_code load(serve_models *ms, tr_store *store, const tr_version *rec, serve_model **out,
                    tr_error *err)
{
    aifx_model *am = NULL;
    tr_fetch_info fi;
    tr_code rc = tr_checkpoint_load_info(store, rec, &am, &fi, err);
    if (rc == TR_OK && fi.note[0]) /* a damaged cache file replaced, say so */
        serve_log_event("model_cache_repaired", rec->version, fi.note);
    if (rc == TR_OK) {
        aifx_model_config mc;
        aifx_model_get_config(am, &mc);
        if (mc.n_features != TR_N_FEATURES || mc.n_classes != 3)
            rc = tr_fail(err, TR_ERR_FORMAT, "version %s is not a 38-feature, 3-class model",
                         rec->version);
    }
    serve_model *m = rc ? NULL : calloc(1, sizeof *m);
    if (rc == TR_OK && !m)
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory loading version %s", rec->version);
    if (rc) {
        aifx_model_free(am);
        serve_metrics_load_failure(ms->ctx->metrics);
        serve_log_event("model_load_failed", rec->version, err ? err->msg : "");
        return rc;
    }
    m->refs = 1;
    snprintf(m->version, sizeof m->version, "%s", rec->version);
    m->crc = rec->ckpt_crc;
    m->m = am;
    m->rule = rec->rule;
    *out = m;
    return TR_OK;
}

tr_code serve_model_get(serve_models *ms, tr_store *store, const tr_version *rec, serve_model **out,
                        tr_error *err)
{
    *out = NULL;
    pthread_mutex_lock(&ms->mu);
    serve_model *m = lru_find(ms, rec->version, rec->ckpt_crc);
    pthread_mutex_unlock(&ms->mu);
    if (m) {
        *out = m;
        return TR_OK;
    }
    /* loaded outside the lock: other requests and the active model are not held up */
    serve_model *fresh;
    tr_code rc = load(ms, store, rec, &fresh, err);
    if (rc)
        return rc;
    serve_model *evicted = NULL;
    pthread_mutex_lock(&ms->mu);
    m = lru_find(ms, rec->version, rec->ckpt_crc); /* another thread loaded it meanwhile */
    if (!m) {
        memmove(ms->lru + 1, ms->lru, (size_t)ms->n_lru * sizeof *ms->lru);
        ms->lru[0] = fresh;
        ref(&fresh->refs); /* the cache's */
        if (++ms->n_lru > ms->cap)
            evicted = ms->lru[--ms->n_lru];
        m = fresh;
        fresh = NULL;
    }
    pthread_mutex_unlock(&ms->mu);
    serve_model_release(fresh);
    serve_model_release(evicted);
    *out = m;
    return TR_OK;
}

static int same_model(const serve_model *a, const serve_model *b)
{
    if (!a || !b)
        return a == b;
    return a->crc == b->crc && strcmp(a->version, b->version) == 0;
}

tr_code serve_models_sync(serve_models *ms, tr_store *store, int *changed, tr_error *err)
{
    if (changed)
        *changed = 0;
    serve_snapshot *s = calloc(1, sizeof *s);
    if (!s)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory reading the registry");
    pthread_mutex_lock(&ms->sync_mu);
    tr_code rc = tr_store_registry_read(store, &s->reg, err);
    if (rc) {
        pthread_mutex_unlock(&ms->sync_mu);
        tr_registry_free(&s->reg);
        free(s);
        return rc;
    }
    s->refs = 1;
    s->read_at = tr_wall_now();
    serve_snapshot *cur = serve_snapshot_get(ms);
    serve_model *old = cur ? cur->active : NULL;
    const tr_version *active = tr_registry_active(&s->reg);
    serve_model *m = NULL;
    if (active) {
        if (old && old->crc == active->ckpt_crc && strcmp(old->version, active->version) == 0) {
            m = old; /* unchanged */
        } else if (strcmp(ms->failed_version, active->version) == 0 &&
                   ms->failed_crc == active->ckpt_crc &&
                   tr_mono_now() - ms->failed_at < RETRY_SECONDS) {
            m = old; /* failed a moment ago: the old model keeps serving until the retry */
        } else {
            tr_error le;
            tr_error_clear(&le);
            if (serve_model_get(ms, store, active, &m, &le) == TR_OK) {
                ms->failed_version[0] = '\0';
            } else {
                snprintf(ms->failed_version, sizeof ms->failed_version, "%s", active->version);
                ms->failed_crc = active->ckpt_crc;
                ms->failed_at = tr_mono_now();
                m = old; /* the old one keeps serving */
            }
        }
        if (m == old && m)
            ref(&m->refs); /* the new snapshot's reference */
    }
    s->active = m;
    int swapped = cur && !same_model(old, m);
    pthread_mutex_lock(&ms->mu);
    serve_snapshot *prev = ms->snap;
    ms->snap = s;
    pthread_mutex_unlock(&ms->mu);
    pthread_mutex_unlock(&ms->sync_mu);
    if (swapped) {
        serve_metrics_swap(ms->ctx->metrics);
        char msg[160];
        snprintf(msg, sizeof msg, "active model %s -> %s", old ? old->version : "(none)",
                 m ? m->version : "(none)");
        serve_log_event("model_swapped", m ? m->version : NULL, msg);
    }
    if (changed)
        *changed = swapped || (!cur && m);
    serve_snapshot_release(prev);
    serve_snapshot_release(cur);
    return TR_OK;
}
