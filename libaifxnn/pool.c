/*
 * pool.c - the net's worker threads (aifx_net_config.n_threads), a fork-join "parallel for".
 *
 * aifx__pool_run(pool, fn, ctx) calls fn(ctx, k, n) for k = 0 .. n-1, k = 0 on the calling
 * thread and k >= 1 each on its own worker, and returns when all have returned. Work is split by
 * k alone (aifx__split), never by who finishes first, so results depend on the thread count only.
 * Workers wait for the next run by spinning briefly (runs come back to back inside a training
 * step), then sleep on a condition variable (between steps, or while the caller does other work).
 * No global state: each net owns its pool.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "internal.h"

#define SPIN_ROUNDS 4000

struct aifx_pool {
    int n;              /* workers including the caller */
    pthread_t *threads; /* (n - 1) */
    pthread_mutex_t mu;
    pthread_cond_t start_cv, done_cv;
    atomic_uint gen;    /* incremented to start a run */
    atomic_int pending; /* workers still running the current run */
    atomic_int stop;
    void (*fn)(void *ctx, int k, int n);
    void *ctx;
    struct worker {
        aifx_pool *pool;
        int k;
    } * workers; /* (n - 1) */
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    aifx_pool *p = w->pool;
    unsigned seen = 0;
    for (;;) {
        unsigned g = atomic_load(&p->gen);
        for (int s = 0; g == seen && s < SPIN_ROUNDS && !atomic_load(&p->stop); s++) {
            cpu_relax();
            g = atomic_load(&p->gen);
        }
        if (g == seen) {
            pthread_mutex_lock(&p->mu);
            while ((g = atomic_load(&p->gen)) == seen && !atomic_load(&p->stop))
                pthread_cond_wait(&p->start_cv, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->stop))
            return NULL;
        seen = g;
        p->fn(p->ctx, w->k, p->n);
        if (atomic_fetch_sub(&p->pending, 1) == 1) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done_cv);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

int aifx__pool_size(const aifx_pool *pool)
{
    return pool ? pool->n : 1;
}

void aifx__split(int total, int k, int n, int *lo, int *hi)
{
    *lo = (int)((int64_t)total * k / n);
    *hi = (int)((int64_t)total * (k + 1) / n);
}

void aifx__pool_run(aifx_pool *pool, void (*fn)(void *ctx, int k, int n), void *ctx)
{
    if (!pool || pool->n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    pool->fn = fn;
    pool->ctx = ctx;
    atomic_store(&pool->pending, pool->n - 1);
    pthread_mutex_lock(&pool->mu);
    atomic_fetch_add(&pool->gen, 1u);
    pthread_cond_broadcast(&pool->start_cv);
    pthread_mutex_unlock(&pool->mu);
    fn(ctx, 0, pool->n);
    for (int s = 0; atomic_load(&pool->pending) > 0 && s < SPIN_ROUNDS; s++)
        cpu_relax();
    if (atomic_load(&pool->pending) > 0) {
        pthread_mutex_lock(&pool->mu);
        while (atomic_load(&pool->pending) > 0)
            pthread_cond_wait(&pool->done_cv, &pool->mu);
        pthread_mutex_unlock(&pool->mu);
    }
}

static void stop_workers(aifx_pool *p, int started)
{
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, 1);
    pthread_cond_broadcast(&p->start_cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < started; i++)
        pthread_join(p->threads[i], NULL);
}

aifx_status aifx__pool_new(int n_threads, aifx_pool **out)
{
    *out = NULL;
    if (n_threads <= 1)
        return AIFX_OK;
    aifx_pool *p = aifx__calloc(1, sizeof(*p));
    if (!p)
        return AIFX_ERR_NOMEM;
    p->n = n_threads;
    p->threads = aifx__calloc((size_t)n_threads - 1, sizeof(*p->threads));
    p->workers = aifx__calloc((size_t)n_threads - 1, sizeof(*p->workers));
    if (!p->threads || !p->workers) {
        aifx__free(p->threads);
        aifx__free(p->workers);
        aifx__free(p);
        return AIFX_ERR_NOMEM;
    }
    atomic_init(&p->gen, 0u);
    atomic_init(&p->pending, 0);
    atomic_init(&p->stop, 0);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->start_cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    for (int i = 0; i < n_threads - 1; i++) {
        p->workers[i].pool = p;
        p->workers[i].k = i + 1;
        if (pthread_create(&p->threads[i], NULL, worker_main, &p->workers[i]) != 0) {
            stop_workers(p, i);
            p->n = 0; /* nothing left to join */
            aifx__pool_free(p);
            return AIFX_ERR_NOMEM;
        }
    }
    *out = p;
    return AIFX_OK;
}

void aifx__pool_free(aifx_pool *pool)
{
    if (!pool)
        return;
    if (pool->n > 1)
        stop_workers(pool, pool->n - 1);
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->start_cv);
    pthread_cond_destroy(&pool->done_cv);
    aifx__free(pool->threads);
    aifx__free(pool->workers);
    aifx__free(pool);
}
