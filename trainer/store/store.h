/*
 * store.h - the trainer's store: one small table of functions, one implementation per backend.
 *
 * The cycles reach persistent data only through tr_store_* calls, so a backend can be swapped
 * without touching them. Implemented today: the embedded directory store (store_dir.c), the
 * default, at --store DIR, else $AIFX_STORE, else ./aifx-data; and PostgreSQL (store_pg.c) at a
 * postgresql:// or postgres:// URI or a libpq keyword/value string (built with
 * AIFX_WITH_POSTGRESQL; otherwise such a location is TR_ERR_UNSUPPORTED).
 *
 * The table holds only what is implemented: market data (bars); the registry (model versions,
 * the training log and the activation history, read as a whole and changed by transactions,
 * registry.h); trading signals; and a lock per cycle. A/B tests (docs/schema.md) will be appended
 * to tr_store_ops; no entry exists before it works. Checkpoint files live in a directory on disk
 * on every backend (tr_store.models_dir); the registry records their paths and checksums.
 *
 * Concurrency: writers serialise on a store-wide lock; readers need no lock because every write
 * replaces a file atomically (a reader sees the old or the new series, never a mix). A store
 * handle is not thread-safe; open one per thread.
 */
#ifndef AIFXT_STORE_H
#define AIFXT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/bars.h"
#include "base/err.h"
#include "market/signal.h"
#include "registry/registry.h"

#define TR_STORE_DEFAULT_DIR "./aifx-data"

typedef struct tr_store tr_store;

/* What a bars_put did. */
typedef struct tr_put_stats {
    size_t n_added;     /* bars new to the store */
    size_t n_unchanged; /* bars identical to stored ones (a no-op) */
    size_t n_replaced;  /* stored bars overwritten (only with replace) */
    size_t conflict;    /* on TR_ERR_CONFLICT: index in the input of the first conflicting bar */
} tr_put_stats;

/* One stored series. */
typedef struct tr_series_info {
    char pair[TR_PAIR_MAX];
    int32_t timeframe; /* seconds */
    size_t count;
    int64_t first, last; /* open times of the first and last bars */
} tr_series_info;


/* An event callback (listen): channel and payload (JSON) of one event, or channel NULL once when
 * listening has begun. Returns non-zero to stop listening. */
typedef int (*tr_listen_fn)(const char *channel, const char *payload, void *user);

typedef struct tr_store_ops {
    const char *name; /* "dir" */
    void (*close)(tr_store *store);
    /* Merges bars (n, strictly ascending, valid, on the grid) into the series (pair, timeframe).
     * A bar at a time already stored must be identical unless replace is set; otherwise nothing
     * is written and TR_ERR_CONFLICT names the time. All or nothing, atomic and durable. */
    tr_code (*bars_put)(tr_store *store, const char *pair, int32_t timeframe, const tr_bar *bars,
                        size_t n, int replace, tr_put_stats *stats, tr_error *err);
    /* Appends to out the stored bars with from <= t < to, ascending. A series that does not
     * exist is TR_ERR_NOTFOUND; an existing series with no bar in the range gives zero bars. */
    tr_code (*bars_get)(tr_store *store, const char *pair, int32_t timeframe, int64_t from,
                        int64_t to, tr_bars *out, tr_error *err);
    /* Lists the stored series into a malloc'd array (*list, *n), sorted by pair then timeframe;
     * the caller frees *list. */
    tr_code (*series_list)(tr_store *store, tr_series_info **list, size_t *n, tr_error *err);
    /* Reads the whole registry into reg (initialised by the call; the caller frees it). An
     * empty store has an empty registry. A damaged registry is an error naming it. */
    tr_code (*registry_read)(tr_store *store, tr_registry *reg, tr_error *err);
    /* Applies txn with tr_registry_apply to the current registry and stores the result: all of
     * it or nothing, atomic and durable, serialised with other writers. */
    tr_code (*registry_commit)(tr_store *store, const tr_reg_txn *txn, tr_error *err);
    /* Records a signal, assigning sig->id; durable on return. */
    tr_code (*signal_put)(tr_store *store, tr_signal *sig, tr_error *err);
    /* The signals of pair (NULL: all) with from <= bar_time < to, in recording order, into a
     * malloc'd array the caller frees. */
    tr_code (*signals_get)(tr_store *store, const char *pair, int64_t from, int64_t to,
                           tr_signal **list, size_t *n, tr_error *err);
    /* Takes the lock of a cycle ("full", "incremental") without waiting: TR_ERR_CONFLICT when
     * another process holds it. *token is released with cycle_unlock (also released when the
     * process dies). */
    tr_code (*cycle_lock)(tr_store *store, const char *cycle, int *token, tr_error *err);
    void (*cycle_unlock)(tr_store *store, int token);
    /* Records n signals at once, assigning their ids in order; one atomic, durable write. */
    tr_code (*signals_append)(tr_store *store, tr_signal *sigs, size_t n, tr_error *err);
    /* Replaces the outcome fields (outcome, exit_time, exit_price, pnl_pips, pnl_percent) of the
     * stored signals with the ids of sigs (n); one atomic, durable write. An unknown id is
     * TR_ERR_NOTFOUND and nothing is written. */
    tr_code (*signals_update)(tr_store *store, const tr_signal *sigs, size_t n, tr_error *err);
    /* Waits for events on the channels (n names: new_market_data, training_completed,
     * model_deployed) for at most timeout seconds (< 0: no limit), calling fn once with channel
     * NULL when listening has begun, then once per event as it arrives; returns TR_OK when fn
     * returns non-zero or the time is up. Events are sent by the commits that cause them, so
     * only committed changes are announced. The directory store has none: TR_ERR_UNSUPPORTED. */
    tr_code (*listen)(tr_store *store, const char *const *channels, size_t n, double timeout,
                      tr_listen_fn fn, void *user, tr_error *err);
} tr_store_ops;

struct tr_store {
    const tr_store_ops *ops;
    char location[4096];
    char models_dir[4096]; /* checkpoints: <models_dir>/<version>.ckpt; runs in progress under
                              <models_dir>/runs/. $AIFX_MODELS_DIR (set by --models-dir) wins
                              over the backend's default: <store>/models, ./aifx-models */
    char files_dir[4096];  /* the store's other local files (reports/, replay.state): the store
                              directory itself, or for PostgreSQL the models directory's parent */
};

/* The location to use: explicit (if non-NULL and non-empty), else $AIFX_STORE, else the
 * default. Returns a pointer to one of those strings (never NULL). */
const char *tr_store_location(const char *explicit_location);

/* Opens the store at location, choosing the backend from its form. With create, a missing
 * embedded store directory is created; without it, a missing store is TR_ERR_NOTFOUND.
 * The caller closes *out with tr_store_close. */
tr_code tr_store_open(const char *location, int create, tr_store **out, tr_error *err);

/* Closes the store; NULL does nothing. */
void tr_store_close(tr_store *store);

/* Thin wrappers over the table, which also check arguments (pair name, timeframe, ranges). */
tr_code tr_store_bars_put(tr_store *store, const char *pair, int32_t timeframe, const tr_bar *bars,
                          size_t n, int replace, tr_put_stats *stats, tr_error *err);
tr_code tr_store_bars_get(tr_store *store, const char *pair, int32_t timeframe, int64_t from,
                          int64_t to, tr_bars *out, tr_error *err);
tr_code tr_store_series_list(tr_store *store, tr_series_info **list, size_t *n, tr_error *err);

tr_code tr_store_registry_read(tr_store *store, tr_registry *reg, tr_error *err);
tr_code tr_store_registry_commit(tr_store *store, const tr_reg_txn *txn, tr_error *err);
tr_code tr_store_signal_put(tr_store *store, tr_signal *sig, tr_error *err);
tr_code tr_store_signals_get(tr_store *store, const char *pair, int64_t from, int64_t to,
                             tr_signal **list, size_t *n, tr_error *err);
tr_code tr_store_cycle_lock(tr_store *store, const char *cycle, int *token, tr_error *err);
void tr_store_cycle_unlock(tr_store *store, int token);

/* The batch forms used by the replay (signals_append, signals_update above). */
static inline tr_code tr_store_signals_append(tr_store *store, tr_signal *sigs, size_t n,
                                              tr_error *err)
{
    return n ? store->ops->signals_append(store, sigs, n, err) : TR_OK;
}
static inline tr_code tr_store_signals_update(tr_store *store, const tr_signal *sigs, size_t n,
                                              tr_error *err)
{
    return n ? store->ops->signals_update(store, sigs, n, err) : TR_OK;
}

/* Every pair stored at the timeframe (at most max), sorted. TR_ERR_NOTFOUND when none. */
tr_code tr_store_pairs(tr_store *store, int32_t tf, char (*pairs)[TR_PAIR_MAX], int max, int *n,
                       tr_error *err);

/* 1 when location names a PostgreSQL database: a postgresql:// or postgres:// URI, or a libpq
 * keyword/value string (an '=' before any '/', e.g. "host=/run/pg dbname=aifx"). */
int tr_store_location_is_pg(const char *location);

/* Waits for events (see listen above). */
tr_code tr_store_listen(tr_store *store, const char *const *channels, size_t n, double timeout,
                        tr_listen_fn fn, void *user, tr_error *err);

/* What a migration did. */
typedef struct tr_migrate_result {
    int from, to;       /* schema versions before and after */
    int latest;         /* the newest this program knows */
    char applied[512];  /* names of the migrations applied, comma-separated ("" for none) */
    char location[1024]; /* the store, without its password */
} tr_migrate_result;

/* Brings the schema of the PostgreSQL store at location up to this program's version (aifx-train
 * db migrate): each missing migration in order, each in its own transaction, one migrating
 * process at a time. A schema newer than the program is TR_ERR_VERSION; a directory store has no
 * schema (TR_ERR_UNSUPPORTED). */
tr_code tr_store_migrate(const char *location, tr_migrate_result *res, tr_error *err);

/* The embedded directory backend (store_dir.c). */
tr_code tr_store_dir_open(const char *dir, int create, tr_store **out, tr_error *err);

/* The PostgreSQL backend (store_pg.c; TR_ERR_UNSUPPORTED without AIFX_WITH_POSTGRESQL). Opening
 * needs the current schema: a missing or older one is TR_ERR_VERSION asking for db migrate. */
tr_code tr_store_pg_open(const char *location, tr_store **out, tr_error *err);
tr_code tr_store_pg_migrate(const char *location, tr_migrate_result *res, tr_error *err);

#endif
