/* ingest.c - CSV to store (see ingest.h). */
#include "data/ingest.h"

#include <string.h>

tr_code tr_ingest_bars(tr_store *store, const char *pair, const char *path, const tr_csv_data *data,
                       int32_t timeframe, int replace, tr_ingest_result *res, tr_error *err)
{
    memset(res, 0, sizeof *res);
    res->n_read = data->bars.n;
    res->format = data->format;
    res->first = data->bars.v[0].t;
    res->last = data->bars.v[data->bars.n - 1].t;
    tr_code rc = tr_store_bars_put(store, pair, timeframe, data->bars.v, data->bars.n, replace,
                                   &res->put, err);
    if (rc == TR_ERR_CONFLICT && err) {
        char msg[sizeof err->msg];
        memcpy(msg, err->msg, sizeof msg);
        tr_fail(err, rc, "%s:%ld: %s", path, data->line[res->put.conflict], msg);
    }
    return rc;
}

tr_code tr_ingest_csv(tr_store *store, const char *pair, const char *path,
                      const tr_csv_options *opt, int replace, tr_ingest_result *res, tr_error *err)
{
    tr_csv_data data;
    memset(res, 0, sizeof *res);
    tr_code rc = tr_csv_read(path, opt, &data, err);
    if (rc)
        return rc;
    rc = tr_ingest_bars(store, pair, path, &data, opt->timeframe, replace, res, err);
    tr_csv_data_free(&data);
    return rc;
}
