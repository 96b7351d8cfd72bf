/*
 * ingest.h - a CSV file into the store, all or nothing.
 *
 * The file is read and validated completely (csv.h) before the store is touched; the bars are
 * then merged in one atomic write. Bars identical to stored ones are a no-op; a bar that differs
 * from a stored one at the same time is TR_ERR_CONFLICT naming the file and line, unless replace.
 */
#ifndef AIFXT_INGEST_H
#define AIFXT_INGEST_H

#include "base/csv.h"
#include "market/dq.h"
#include "store/store.h"

typedef struct tr_ingest_result {
    size_t n_read;        /* bars in the file */
    tr_put_stats put;     /* added, unchanged, replaced */
    tr_csv_format format; /* dialect read */
    int64_t first, last;  /* times of the file's first and last bars */
    /* data quality of the bars read (market/dq.h, as of the last bar's close): counts per
     * tr_dq_kind, bars missing in the gaps, the first finding ("" for none). Reported, never
     * acted on: the bars are stored as they are. When bars were added and something was found,
     * a "data_quality" event joins the store's outbox (docs/monitoring.md). */
    tr_dq_summary dq;
} tr_ingest_result;

tr_code tr_ingest_csv(tr_store *store, const char *pair, const char *path,
                      const tr_csv_options *opt, int replace, tr_ingest_result *res, tr_error *err);

/* The second half alone: data, read from path with tr_csv_read at the timeframe, into the store
 * (so that a caller can validate the file before it opens, or creates, a store). */
tr_code tr_ingest_bars(tr_store *store, const char *pair, const char *path, const tr_csv_data *data,
                       int32_t timeframe, int replace, tr_ingest_result *res, tr_error *err);

#endif
