/* ingest.c - CSV to store (see ingest.h). */
#include "data/ingest.h"

#include <stdio.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/timeutil.h"
#include "market/dq.h"

/* The findings of the bars read, into res, and an outbox event when bars were added and
 * something was found. Best effort: a check or an event that fails loses no bar (they are
 * stored) and is not the ingest's error. */
static void data_quality(tr_store *store, const char *pair, int32_t tf, const tr_bars *bars,
                         tr_ingest_result *res)
{
    tr_dq_opts o = tr_dq_opts_default();
    o.timeframe = tf;
    tr_dq_report r;
    memset(&r, 0, sizeof r);
    tr_error e;
    if (tr_dq_check(bars->v, bars->n, bars->v[bars->n - 1].t + tf, &o, &r, &e) != TR_OK)
        return;
    tr_dq_summarize(&r, pair, INT64_MIN, &res->dq);
    tr_dq_report_free(&r);
    if (!res->dq.n || !res->put.n_added)
        return;
    tr_outbox_event ev;
    memset(&ev, 0, sizeof ev);
    snprintf(ev.kind, sizeof ev.kind, "data_quality");
    tr_sb p = {0};
    tr_sb_printf(&p, "{\"pair\":");
    tr_sb_json_str(&p, pair);
    tr_sb_printf(&p,
                 ",\"source\":\"ingest\",\"gap\":%zu,\"missing_bars\":%zu,\"stale\":%zu,"
                 "\"spike\":%zu,\"zero_range\":%zu,\"repeat\":%zu,\"first\":",
                 res->dq.count[TR_DQ_GAP], res->dq.missing_bars, res->dq.count[TR_DQ_STALE],
                 res->dq.count[TR_DQ_SPIKE], res->dq.count[TR_DQ_ZERO_RANGE],
                 res->dq.count[TR_DQ_REPEAT]);
    tr_sb_json_str(&p, res->dq.first);
    tr_sb_printf(&p, "}");
    snprintf(ev.payload, sizeof ev.payload, "%s", p.oom ? "{}" : p.p);
    tr_sb_free(&p);
    tr_reg_txn t;
    memset(&t, 0, sizeof t);
    t.events = &ev;
    t.n_events = 1;
    t.now = tr_wall_now();
    (void)tr_store_registry_commit(store, &t, &e);
}

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
    if (!rc)
        data_quality(store, pair, timeframe, &data->bars, res);
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
