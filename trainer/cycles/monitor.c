/*
 * monitor.c - the position monitor, live (monitor.h): per series, the store's signals; when one
 * is open, the series' bars up to as_of, ATR(14) over the whole series (as the replay computes it
 * from the first bar) and the books walked by tr_outcomes_resolve_books; the changed signals are
 * written in one update.
 */
#define _POSIX_C_SOURCE 200809L

#include "cycles/monitor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/timeutil.h"
#include "market/backtest.h"

static void nap(double seconds)
{
    struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* One series: its signals resolved as of as_of, the changed ones written. */
static tr_code monitor_series(tr_store *store, const tr_series_info *si, int64_t as_of,
                              tr_monitor_result *res, tr_error *err)
{
    tr_signal *all = NULL;
    size_t n_all = 0;
    tr_code rc = tr_store_signals_get(store, si->pair, INT64_MIN, INT64_MAX, &all, &n_all, err);
    if (rc)
        return rc;
    /* the series' own signals, in walk order */
    size_t n = 0;
    for (size_t i = 0; i < n_all; i++)
        if (all[i].timeframe == si->timeframe)
            all[n++] = all[i];
    if (n == 0) {
        free(all);
        return TR_OK;
    }
    res->n_series++;
    res->n_signals += n;
    tr_signals_sort(all, n);
    size_t open = 0;
    for (size_t i = 0; i < n; i++)
        open += !tr_outcome_final(&all[i]);
    res->n_open_before += open;
    if (open == 0) {
        free(all);
        return TR_OK;
    }
    res->n_walked++;
    tr_bars bars = {0};
    double *atr = NULL;
    unsigned char *changed = calloc(n, 1);
    tr_signal *upd = NULL;
    if (!changed) {
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory monitoring %s", si->pair);
        goto done;
    }
    rc = tr_store_bars_get(store, si->pair, si->timeframe, INT64_MIN, as_of - si->timeframe + 1,
                           &bars, err);
    if (rc)
        goto done;
    atr = malloc((bars.n ? bars.n : 1) * sizeof *atr);
    if (!atr) {
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory monitoring %s", si->pair);
        goto done;
    }
    rc = tr_outcome_atr(bars.v, bars.n, atr, err);
    if (rc)
        goto done;
    tr_bt_params bt = tr_bt_params_for_pair(si->pair);
    size_t n_changed = 0;
    rc = tr_outcomes_resolve_books(bars.v, bars.n, atr, si->timeframe, &bt, as_of, all, n, changed,
                                   &n_changed, err);
    if (rc)
        goto done;
    size_t m = 0;
    upd = malloc((n_changed ? n_changed : 1) * sizeof *upd);
    if (!upd) {
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory monitoring %s", si->pair);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (!changed[i])
            continue;
        upd[m++] = all[i];
        res->n_closed += strcmp(all[i].outcome, "win") == 0 || strcmp(all[i].outcome, "loss") == 0;
    }
    if (m)
        rc = tr_store_signals_update(store, upd, m, err);
    if (rc)
        goto done;
    res->n_changed += m;
    for (size_t i = 0; i < n; i++)
        res->n_open_after += !tr_outcome_final(&all[i]);
    open = 0;
done:
    res->n_open_after += open; /* on failure, nothing changed */
    free(upd);
    free(changed);
    free(atr);
    tr_bars_free(&bars);
    free(all);
    return rc;
}

tr_code tr_monitor_run(tr_store *store, int64_t as_of, tr_monitor_result *res, tr_error *err)
{
    memset(res, 0, sizeof *res);
    double t0 = tr_mono_now();
    if (as_of == 0)
        as_of = tr_wall_now();
    int lock = -1;
    tr_error le;
    tr_error_clear(&le);
    tr_code rc = tr_store_cycle_lock(store, "monitor", &lock, &le);
    if (rc == TR_ERR_CONFLICT) {
        res->skipped = 1;
        return TR_OK;
    }
    if (rc) {
        if (err)
            *err = le;
        return rc;
    }
    tr_series_info *list = NULL;
    size_t n_list = 0;
    rc = tr_store_series_list(store, &list, &n_list, err);
    for (size_t i = 0; !rc && i < n_list; i++)
        rc = monitor_series(store, &list[i], as_of, res, err);
    free(list);
    tr_store_cycle_unlock(store, lock);
    res->seconds = tr_mono_now() - t0;
    return rc;
}

tr_code tr_signal_find(tr_store *store, int64_t id, tr_signal *out, tr_error *err)
{
    tr_signal *all = NULL;
    size_t n = 0;
    tr_code rc = tr_store_signals_get(store, NULL, INT64_MIN, INT64_MAX, &all, &n, err);
    if (rc)
        return rc;
    size_t i = 0;
    while (i < n && all[i].id != id)
        i++;
    if (i < n)
        *out = all[i];
    else
        rc = tr_fail(err, TR_ERR_NOTFOUND, "store %s: no signal with id %lld", tr_store_name(store),
                     (long long)id);
    free(all);
    return rc;
}

tr_code tr_signal_report_outcome(tr_store *store, int64_t id, const char *outcome, double pnl_pips,
                                 int64_t closed_at, tr_signal *out, const char **field,
                                 tr_error *err)
{
    int lock = -1;
    tr_code rc;
    double t0 = tr_mono_now();
    for (;;) {
        rc = tr_store_cycle_lock(store, "monitor", &lock, err);
        if (rc != TR_ERR_CONFLICT || tr_mono_now() - t0 > 10.0)
            break;
        nap(0.05);
    }
    if (rc)
        return rc;
    tr_signal g;
    rc = tr_signal_find(store, id, &g, err);
    if (!rc) {
        tr_signal before = g;
        if (field)
            *field = tr_outcome_report_refused(&g, outcome, pnl_pips, closed_at);
        rc = tr_outcome_report(&g, outcome, pnl_pips, closed_at, err);
        int same = before.reported && strcmp(before.outcome, g.outcome) == 0 &&
                   before.pnl_pips == g.pnl_pips && before.exit_time == g.exit_time;
        if (!rc && !same)
            rc = tr_store_signals_update(store, &g, 1, err);
        if (!rc && out)
            *out = g;
    }
    tr_store_cycle_unlock(store, lock);
    return rc;
}

tr_code tr_prod_figs_read(tr_store *store, const char *const *versions, size_t n, tr_prod_figs *out,
                          tr_error *err)
{
    tr_signal *all = NULL;
    size_t n_all = 0;
    tr_code rc = tr_store_signals_get(store, NULL, INT64_MIN, INT64_MAX, &all, &n_all, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++)
        tr_prod_figs_compute(all, n_all, versions[i], &out[i]);
    free(all);
    return TR_OK;
}

/* ---- the cycle's table entry ------------------------------------------------------------- */

static tr_code monitor_entry(const tr_cycle_ctx *ctx, const void *opts, tr_cycle_outcome *out,
                             tr_error *err)
{
    (void)opts;
    tr_monitor_result r;
    tr_code rc = tr_monitor_run(ctx->store, ctx->as_of, &r, err);
    if (rc)
        return rc;
    out->status = r.skipped ? TR_LOG_SKIPPED : TR_LOG_COMPLETED;
    if (r.skipped)
        snprintf(out->detail, sizeof out->detail, "another monitor run holds the lock");
    else
        snprintf(out->detail, sizeof out->detail,
                 "%zu signals in %d series, %zu open before, %zu resolved (%zu trades closed), "
                 "%zu open after",
                 r.n_signals, r.n_series, r.n_open_before, r.n_changed, r.n_closed, r.n_open_after);
    if (out->figures)
        *(tr_monitor_result *)out->figures = r;
    return TR_OK;
}

const tr_cycle_def tr_cycle_monitor_def = {
    .name = "monitor",
    .figures = "tr_monitor_result",
    .run = monitor_entry,
};
