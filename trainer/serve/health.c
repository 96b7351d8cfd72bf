/*
 * health.c - GET /healthz (alive, touches nothing), GET /readyz (the store answers and the
 * active model is loaded) and GET /metrics (metrics.c's exposition, with the newest bar's age of
 * each pair read from the store at scrape time).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/timeutil.h"
#include "serve/handlers.h"

void h_healthz(serve_ctx *ctx, const serve_request *req, const char *arg, serve_response *res)
{
    (void)ctx;
    (void)req;
    (void)arg;
    reply_json(res, 200, json_pack("{s:s}", "status", "ok"));
}

void h_readyz(serve_ctx *ctx, const serve_request *req, const char *arg, serve_response *res)
{
    (void)req;
    (void)arg;
    tr_store *st = store_of(ctx, res);
    if (!st)
        return;
    tr_series_info *list;
    size_t n;
    tr_error e;
    tr_error_clear(&e);
    tr_code rc = tr_store_series_list(st, &list, &n, &e);
    if (rc) {
        reply_tr(res, rc, &e, NULL);
        return;
    }
    free(list);
    serve_snapshot *s = snapshot_of(ctx, st, res);
    if (!s)
        return;
    if (!s->active) {
        reply_error(res, 503, "not_ready", NULL,
                    "no active model is loaded (no version is active, or its checkpoint failed "
                    "to load)");
        res->retry_after = RETRY_AFTER;
    } else {
        reply_json(
            res, 200,
            json_pack("{s:s, s:s}", "status", "ready", "active_version", s->active->version));
    }
    serve_snapshot_release(s);
}

void h_metrics(serve_ctx *ctx, const serve_request *req, const char *arg, serve_response *res)
{
    (void)req;
    (void)arg;
    serve_bar_age ages[64];
    size_t n_ages = 0;
    tr_error e;
    tr_error_clear(&e);
    tr_store *st = serve_store(ctx, &e);
    if (st) {
        tr_series_info *list;
        size_t n;
        tr_code rc = tr_store_series_list(st, &list, &n, &e);
        serve_store_check(rc);
        if (rc == TR_OK) {
            int64_t now = tr_wall_now();
            for (size_t i = 0; i < n && n_ages < 64; i++) {
                if (list[i].timeframe != ctx->cfg.timeframe || list[i].count == 0)
                    continue;
                serve_bar_age age = {{0}, (double)(now - (list[i].last + list[i].timeframe))};
                snprintf(age.pair, sizeof age.pair, "%s", list[i].pair);
                ages[n_ages++] = age;
            }
            free(list);
        }
    }
    /* the signals' outcomes by version, read at scrape time (the position monitor and the
     * backend's reports write them; a gauge: the store is the count's only keeper) */
    tr_sb out = {0};
    if (st) {
        tr_signal *sigs = NULL;
        size_t n = 0;
        tr_code rc = tr_store_signals_get(st, NULL, INT64_MIN, INT64_MAX, &sigs, &n, &e);
        serve_store_check(rc);
        if (rc == TR_OK) {
            static const char *const kinds[] = {"open", "win", "loss", "none"};
            struct {
                char version[TR_VERSION_MAX];
                uint64_t n[4], reported;
            } by[64];
            size_t nv = 0;
            for (size_t i = 0; i < n; i++) {
                size_t j = 0;
                while (j < nv && strcmp(by[j].version, sigs[i].model_version) != 0)
                    j++;
                if (j == nv) {
                    if (nv == 64)
                        continue; /* bounded cardinality: the first 64 versions */
                    memset(&by[nv], 0, sizeof by[nv]);
                    snprintf(by[nv].version, sizeof by[nv].version, "%s", sigs[i].model_version);
                    nv++;
                }
                for (int k = 0; k < 4; k++)
                    by[j].n[k] += strcmp(sigs[i].outcome, kinds[k]) == 0;
                by[j].reported += sigs[i].reported != 0;
            }
            free(sigs);
            tr_sb_printf(&out, "# HELP aifx_signal_outcomes Recorded signals by version and "
                               "outcome (open until the position monitor resolves them).\n"
                               "# TYPE aifx_signal_outcomes gauge\n");
            for (size_t j = 0; j < nv; j++)
                for (int k = 0; k < 4; k++)
                    tr_sb_printf(&out, "aifx_signal_outcomes{version=\"%s\",outcome=\"%s\"} %llu\n",
                                 by[j].version, kinds[k], (unsigned long long)by[j].n[k]);
            tr_sb_printf(&out, "# HELP aifx_signal_outcomes_reported Outcomes reported by the "
                               "backend (POST /v1/signals/{id}/outcome), by version.\n"
                               "# TYPE aifx_signal_outcomes_reported gauge\n");
            for (size_t j = 0; j < nv; j++)
                tr_sb_printf(&out, "aifx_signal_outcomes_reported{version=\"%s\"} %llu\n",
                             by[j].version, (unsigned long long)by[j].reported);
        }
    }
    serve_snapshot *s = serve_snapshot_get(ctx->models);
    size_t len = 0;
    char *text =
        serve_metrics_render(ctx->metrics, ctx->started_at,
                             s && s->active ? s->active->version : NULL, ages, n_ages, &len);
    serve_snapshot_release(s);
    if (text && out.n && !out.oom) {
        char *both = malloc(len + out.n + 1);
        if (both) {
            memcpy(both, text, len);
            memcpy(both + len, out.p, out.n + 1);
            len += out.n;
            free(text);
            text = both;
        }
    }
    tr_sb_free(&out);
    if (!text) {
        reply_error(res, 500, "internal", NULL, "out of memory");
        return;
    }
    res->status = 200;
    res->content_type = "text/plain; version=0.0.4; charset=utf-8";
    res->body = text;
    res->len = len;
}
