/*
 * watch.c - GET /v1/drift (the newest report of the daily drift slot) and GET /v1/data-quality
 * (the stored bars' findings of the last days), for the dashboard and for monitoring
 * (docs/monitoring.md).
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/timeutil.h"
#include "market/dq.h"
#include "serve/handlers.h"

void h_drift(serve_ctx *ctx, const serve_request *req, const char *arg, serve_response *res)
{
    (void)req;
    (void)arg;
    tr_store *st = store_of(ctx, res);
    if (!st)
        return;
    char dir[4400], newest[256] = "";
    tr_error e;
    tr_error_clear(&e);
    if (tr_store_path(st, TR_AREA_REPORTS, NULL, dir, sizeof dir, &e) == TR_OK) {
        DIR *d = opendir(dir);
        const struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
            size_t n = strlen(de->d_name);
            /* drift-YYYY-MM-DDTHHMM.json: the names sort as the times do */
            if (n > 11 && n < sizeof newest && strncmp(de->d_name, "drift-", 6) == 0 &&
                strcmp(de->d_name + n - 5, ".json") == 0 && strcmp(de->d_name, newest) > 0)
                snprintf(newest, sizeof newest, "%s", de->d_name);
        }
        if (d)
            closedir(d);
    }
    if (!newest[0]) {
        reply_error(res, 404, "not_found", NULL,
                    "no drift report yet (run-due's daily drift slot writes one)");
        return;
    }
    char path[4700];
    snprintf(path, sizeof path, "%s/%s", dir, newest);
    json_error_t je;
    json_t *rep = json_load_file(path, 0, &je);
    if (!rep || !json_is_object(rep)) {
        json_decref(rep);
        reply_error(res, 500, "internal", NULL, "drift report %s is damaged", newest);
        return;
    }
    /* the summary of the report: the per-feature table stays in the file */
    json_t *names = json_array();
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(rep, "features"), i, f)
    {
        if (json_is_true(json_object_get(f, "drift")))
            json_array_append(names, json_object_get(f, "name"));
    }
    json_t *out = json_pack(
        "{s:O?, s:O?, s:O?, s:O?, s:O?, s:o, s:s}", "version", json_object_get(rep, "version"),
        "as_of", json_object_get(rep, "as_of"), "summary", json_object_get(rep, "summary"),
        "dataset", json_object_get(rep, "dataset"), "predictions",
        json_object_get(rep, "predictions"), "drifted_features", names, "report", newest);
    json_decref(rep);
    reply_json(res, 200, out);
}

void h_data_quality(serve_ctx *ctx, const serve_request *req, const char *arg, serve_response *res)
{
    (void)arg;
    int64_t as_of = tr_wall_now();
    if (query_time(req, "as_of", &as_of, res))
        return;
    long days = 1;
    const char *ds = query_get(req, "days");
    if (ds) {
        char *end;
        days = strtol(ds, &end, 10);
        if (!*ds || *end || days < 1 || days > 366) {
            reply_error(res, 400, "bad_value", "days", "'days' must be a whole number 1..366");
            return;
        }
    }
    tr_store *st = store_of(ctx, res);
    if (!st)
        return;
    tr_error e;
    tr_error_clear(&e);
    char pairs[32][TR_PAIR_MAX];
    int n = 0;
    tr_code rc = tr_store_pairs(st, ctx->cfg.timeframe, pairs, 32, &n, &e);
    if (rc == TR_ERR_NOTFOUND) {
        reply_error(res, 404, "not_found", NULL, "no bars in the store yet");
        return;
    }
    if (rc) {
        reply_tr(res, rc, &e, NULL);
        return;
    }
    tr_dq_opts dq = tr_dq_opts_default();
    dq.timeframe = ctx->cfg.timeframe;
    json_t *list = json_array();
    for (int i = 0; !rc && i < n; i++) {
        tr_bars bars = {0};
        rc = tr_store_bars_get(st, pairs[i], ctx->cfg.timeframe, as_of - (days + 2) * 86400,
                               as_of - ctx->cfg.timeframe + 1, &bars, &e);
        tr_dq_report r;
        memset(&r, 0, sizeof r);
        if (!rc)
            rc = tr_dq_check(bars.v, bars.n, as_of, &dq, &r, &e);
        tr_dq_summary sm;
        memset(&sm, 0, sizeof sm);
        if (!rc) {
            tr_dq_summarize(&r, NULL, as_of - days * 86400, &sm);
            json_array_append_new(
                list,
                json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "pair", pairs[i], "bars",
                          (json_int_t)bars.n, "gap", (json_int_t)sm.count[TR_DQ_GAP],
                          "missing_bars", (json_int_t)sm.missing_bars, "stale",
                          (json_int_t)sm.count[TR_DQ_STALE], "spike",
                          (json_int_t)sm.count[TR_DQ_SPIKE], "zero_range",
                          (json_int_t)sm.count[TR_DQ_ZERO_RANGE], "repeat",
                          (json_int_t)sm.count[TR_DQ_REPEAT], "first", json_str_or_null(sm.first)));
        }
        tr_dq_report_free(&r);
        tr_bars_free(&bars);
    }
    if (rc) {
        json_decref(list);
        reply_tr(res, rc, &e, NULL);
        return;
    }
    char t[32];
    reply_json(res, 200,
               json_pack("{s:s, s:I, s:o}", "as_of", tr_time_format(as_of, t, sizeof t), "days",
                         (json_int_t)days, "pairs", list));
}
