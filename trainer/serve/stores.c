/*
 * stores.c - one store handle per thread (store.h: a handle is not thread-safe). A worker thread
 * opens its handle on its first request and keeps it; the handle is closed when the thread ends
 * (a pthread key's destructor) or after a store error (TR_ERR_STORE: the database went away),
 * so that the next request opens a new connection and a PostgreSQL that came back is used
 * again without a restart. With the thread pool of N workers there are at most N handles, plus
 * one each for the watcher and the scheduler.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdlib.h>

#include "serve/serve.h"

static pthread_key_t store_key;
static pthread_once_t store_once = PTHREAD_ONCE_INIT;

static void close_store(void *p)
{
    tr_store_close(p);
}

static void make_key(void)
{
    if (pthread_key_create(&store_key, close_store) != 0)
        abort(); /* only when the process has no keys left at start: nothing can work */
}

tr_store *serve_store(serve_ctx *ctx, tr_error *err)
{
    pthread_once(&store_once, make_key);
    tr_store *st = pthread_getspecific(store_key);
    if (st)
        return st;
    tr_store_options so = {.models_dir = ctx->cfg.models_dir, .family = ctx->cfg.family};
    if (tr_store_open(ctx->cfg.store, &so, &st, err))
        return NULL;
    if (pthread_setspecific(store_key, st) != 0) {
        tr_store_close(st);
        tr_fail(err, TR_ERR_NOMEM, "out of memory keeping a store handle");
        return NULL;
    }
    return st;
}

void serve_store_release(void)
{
    pthread_once(&store_once, make_key);
    tr_store *st = pthread_getspecific(store_key);
    if (st) {
        pthread_setspecific(store_key, NULL);
        tr_store_close(st);
    }
}

void serve_store_check(tr_code rc)
{
    if (rc == TR_ERR_STORE)
        serve_store_release();
}
