/* store.c - backend selection and argument checks in front of the store's function table. */
#include "store.h"

#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

const char *tr_store_location(const char *explicit_location)
{
    if (explicit_location && explicit_location[0])
        return explicit_location;
    const char *env = getenv("AIFX_STORE");
    if (env && env[0])
        return env;
    return TR_STORE_DEFAULT_DIR;
}

tr_code tr_store_open(const char *location, int create, tr_store **out, tr_error *err)
{
    *out = NULL;
    if (!location || !location[0])
        return tr_fail(err, TR_ERR_INVALID, "empty store location");
    if (strncmp(location, "postgresql://", 13) == 0 || strncmp(location, "postgres://", 11) == 0)
        return tr_fail(err, TR_ERR_UNSUPPORTED,
                       "store %s: this build has no PostgreSQL backend (use a directory)",
                       location);
    return tr_store_dir_open(location, create, out, err);
}

void tr_store_close(tr_store *store)
{
    if (store)
        store->ops->close(store);
}

static tr_code check_series(const char *pair, int32_t timeframe, tr_error *err)
{
    if (!tr_pair_valid(pair))
        return tr_fail(err, TR_ERR_INVALID,
                       "bad pair name '%s' (3 to 15 characters A-Z, 0-9, e.g. EURUSD)",
                       pair ? pair : "(null)");
    if (timeframe <= 0 || timeframe > 86400 || 86400 % timeframe != 0)
        return tr_fail(err, TR_ERR_INVALID, "bad timeframe of %d seconds", (int)timeframe);
    return TR_OK;
}

tr_code tr_store_bars_put(tr_store *store, const char *pair, int32_t timeframe, const tr_bar *bars,
                          size_t n, int replace, tr_put_stats *stats, tr_error *err)
{
    tr_put_stats local;
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    tr_code rc = check_series(pair, timeframe, err);
    if (rc)
        return rc;
    if (n > 0 && !bars)
        return tr_fail(err, TR_ERR_INVALID, "no bars given");
    return store->ops->bars_put(store, pair, timeframe, bars, n, replace, stats, err);
}

tr_code tr_store_bars_get(tr_store *store, const char *pair, int32_t timeframe, int64_t from,
                          int64_t to, tr_bars *out, tr_error *err)
{
    tr_code rc = check_series(pair, timeframe, err);
    if (rc)
        return rc;
    if (from > to)
        return tr_fail(err, TR_ERR_INVALID, "empty time range (from after to)");
    return store->ops->bars_get(store, pair, timeframe, from, to, out, err);
}

tr_code tr_store_series_list(tr_store *store, tr_series_info **list, size_t *n, tr_error *err)
{
    *list = NULL;
    *n = 0;
    return store->ops->series_list(store, list, n, err);
}

tr_code tr_store_registry_read(tr_store *store, tr_registry *reg, tr_error *err)
{
    tr_registry_init(reg);
    return store->ops->registry_read(store, reg, err);
}

tr_code tr_store_registry_commit(tr_store *store, const tr_reg_txn *txn, tr_error *err)
{
    if (!txn)
        return tr_fail(err, TR_ERR_INVALID, "no registry change given");
    return store->ops->registry_commit(store, txn, err);
}

tr_code tr_store_signal_put(tr_store *store, tr_signal *sig, tr_error *err)
{
    tr_code rc = check_series(sig->pair, sig->timeframe, err);
    if (rc)
        return rc;
    if (!tr_version_name_valid(sig->model_version))
        return tr_fail(err, TR_ERR_INVALID, "signal with a bad model version '%s'",
                       sig->model_version);
    return store->ops->signal_put(store, sig, err);
}

tr_code tr_store_signals_get(tr_store *store, const char *pair, int64_t from, int64_t to,
                             tr_signal **list, size_t *n, tr_error *err)
{
    *list = NULL;
    *n = 0;
    return store->ops->signals_get(store, pair, from, to, list, n, err);
}

tr_code tr_store_cycle_lock(tr_store *store, const char *cycle, int *token, tr_error *err)
{
    return store->ops->cycle_lock(store, cycle, token, err);
}

void tr_store_cycle_unlock(tr_store *store, int token)
{
    store->ops->cycle_unlock(store, token);
}
