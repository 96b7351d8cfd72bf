/*
 * predict.c - POST /v1/predict and POST /v1/bars.
 *
 * A prediction is tr_predict's (cycles/predict.c), step by step, on the server's shared state:
 * the bars closed by as_of, the version the newest bar is served by (a pinned version, the arm
 * of a running A/B test on the pair, else the active model of the snapshot), the same history
 * and staleness checks with the same messages, the probabilities from features.c (the live
 * features when the as-of time is not before the newest bar they hold, equal to the batch bit
 * for bit; else tr_predict_window, the very code of aifx-train predict over the bars closed by
 * then), the same signal recorded with tr_store_signal_put.
 * So the server and `aifx-train predict` agree to the bit for a store, pair and as-of time (the
 * HTTP suite checks it).
 *
 * New bars become a tr_csv_data, as a CSV's would, and go through tr_ingest_bars, the second
 * half of `aifx-train ingest`: the same validation in the store layer (values, grid, order) and
 * the same all-or-nothing write. This file only locates the bar the rule refused, to name it.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/csv.h"
#include "base/timeutil.h"
#include "cycles/abtest.h"
#include "cycles/cycle.h"
#include "data/ingest.h"
#include "market/featureset.h"
#include "market/labels.h"
#include "serve/handlers.h"

#define DEFAULT_MAX_AGE 7200 /* seconds, as aifx-train predict */

/* The bars closed by as_of that a prediction needs: the newest TR_PREDICT_MAX_HISTORY of them
 * are those tr_predict uses, so a window holding at least that many gives the same features.
 * A shorter window is the whole history when the series starts inside it (asked of the series
 * list, which costs a header per series); otherwise the series is read from its start. */
static tr_code read_history(tr_store *st, const char *pair, int32_t tf, int64_t as_of,
                            tr_bars *bars, tr_error *err)
{
    int64_t to = as_of - tf + 1;
    int64_t from = to - (int64_t)tf * TR_PREDICT_MAX_HISTORY * 3; /* weekends and holidays */
    tr_code rc = tr_store_bars_get(st, pair, tf, from, to, bars, err);
    if (rc || bars->n >= TR_PREDICT_MAX_HISTORY)
        return rc;
    tr_series_info *list;
    size_t n;
    rc = tr_store_series_list(st, &list, &n, err);
    if (rc)
        return rc;
    int whole = 0;
    for (size_t i = 0; i < n; i++)
        if (list[i].timeframe == tf && strcmp(list[i].pair, pair) == 0)
            whole = list[i].first >= from;
    free(list);
    if (whole)
        return TR_OK;
    tr_bars_free(bars);
    return tr_store_bars_get(st, pair, tf, INT64_MIN, to, bars, err);
}

void h_predict(serve_ctx *ctx, const serve_request *req, const char *arg, serve_response *res)
{
    (void)arg;
    static const member ms[] = {{"pair", JSON_STRING},    {"timeframe", JSON_STRING},
                                {"version", JSON_STRING}, {"as_of", -1},
                                {"record", JSON_TRUE},    {"max_age_hours", JSON_REAL}};
    json_t *b = read_body(req, res, ms, sizeof ms / sizeof ms[0]);
    if (!b)
        return;
    const char *pair, *pin = body_str(b, "version");
    int32_t tf;
    int64_t as_of = tr_wall_now(), max_age = DEFAULT_MAX_AGE;
    int record = !body_opt(b, "record") || json_is_true(body_opt(b, "record"));
    if (pair_of(b, &pair, 1, res) || timeframe_of(ctx, b, &tf, res) ||
        (body_opt(b, "as_of") && body_time(body_opt(b, "as_of"), "as_of", &as_of, res))) {
        json_decref(b);
        return;
    }
    if (body_opt(b, "max_age_hours")) {
        double h = json_number_value(body_opt(b, "max_age_hours"));
        if (!(h > 0 && h <= 1e6)) {
            reply_error(res, 400, "bad_value", "max_age_hours",
                        "'max_age_hours' must be a number of hours in (0, 1e6]");
            json_decref(b);
            return;
        }
        max_age = (int64_t)(h * 3600);
    }
    if (pin && !tr_version_name_valid(pin)) {
        reply_error(res, 404, "not_found", "version", "version '%.64s' is not in the registry",
                    pin);
        json_decref(b);
        return;
    }
    tr_store *st = store_of(ctx, res);
    serve_snapshot *s = st ? snapshot_of(ctx, st, res) : NULL;
    if (!s) {
        json_decref(b);
        return;
    }
    tr_bars bars = {0};
    serve_model *m = NULL;
    tr_error e;
    tr_error_clear(&e);
    char a[32], c[32], tfn[16];
    tr_timeframe_name(tf, tfn, sizeof tfn);
    /* the live features when as_of is not before their newest bar, else the bars read now */
    int64_t newest = INT64_MIN;
    size_t history = 0;
    tr_code rc = serve_live_sync(ctx->features, st, pair, tf, as_of, &newest, &history, &e);
    int live = rc == TR_OK;
    if (rc == TR_ERR_CONFLICT) {
        rc = read_history(st, pair, tf, as_of, &bars, &e);
        history = bars.n;
        newest = bars.n ? bars.v[bars.n - 1].t : INT64_MIN;
    }
    if (rc) {
        reply_tr(res, rc, &e, rc == TR_ERR_NOTFOUND ? "pair" : NULL);
        goto done;
    }
    if (newest == INT64_MIN) {
        reply_error(res, 404, "not_found", "pair", "%s %s: no bar closed by %s", pair, tfn,
                    tr_time_format(as_of, a, sizeof a));
        goto done;
    }
    const tr_bar last_bar = {.t = newest};
    const tr_bar *last = &last_bar;
    const tr_ab_test *test = NULL;
    const tr_version *serving = NULL;
    if (pin) {
        serving = tr_registry_find(&s->reg, pin);
        if (!serving) {
            /* registered since the last sync? */
            serve_snapshot_release(s);
            resync(ctx, st);
            s = serve_snapshot_get(ctx->models);
            serving = s ? tr_registry_find(&s->reg, pin) : NULL;
        }
        if (!serving) {
            reply_error(res, 404, "not_found", "version", "version %s is not in the registry", pin);
            goto done;
        }
        if (!tr_version_usable(serving)) {
            reply_error(res, 422, "invalid", "version", "version %s is %s, not usable", pin,
                        tr_version_status_name(serving->status));
            goto done;
        }
    } else {
        const char *name = tr_ab_serving(&s->reg, pair, last->t, &test);
        if (test)
            serving = tr_registry_find(&s->reg, name);
    }
    if (serving) {
        rc = serve_model_get(ctx->models, st, serving, &m, &e);
        if (rc) {
            reply_tr(res, rc, &e, pin ? "version" : NULL);
            goto done;
        }
    } else if (s->active) {
        m = s->active; /* the active model as loaded (the old one while a new one fails) */
        __atomic_add_fetch(&m->refs, 1, __ATOMIC_RELAXED);
    } else {
        reply_error(res, 404, "not_found", NULL,
                    "no active version in store %s (run `aifx-train full`)", tr_store_name(st));
        goto done;
    }
    aifx_model_config mc;
    aifx_model_get_config(m->m, &mc);
    if (history < TR_PREDICT_MIN_HISTORY ||
        history < (size_t)TR_FEATURE_WARMUP + (size_t)mc.n_steps) {
        reply_error(res, 404, "not_found", "pair",
                    "%s %s: only %zu bars closed by %s; prediction needs at least %d of history",
                    pair, tfn, history, tr_time_format(as_of, a, sizeof a), TR_PREDICT_MIN_HISTORY);
        goto done;
    }
    int64_t close = last->t + tf;
    if (as_of - close > max_age) {
        reply_error(res, 409, "stale", "as_of",
                    "%s %s: the newest bar closed at %s, %.1f hours before %s (limit %.1f hours; "
                    "ingest newer bars or raise max_age_hours)",
                    pair, tfn, tr_time_format(close, a, sizeof a), (double)(as_of - close) / 3600.0,
                    tr_time_format(as_of, c, sizeof c), (double)max_age / 3600.0);
        goto done;
    }
    float probs[3];
    int best;
    rc = live ? serve_live_predict(ctx->features, pair, tf, newest, m, probs, &best, &e)
              : TR_ERR_CONFLICT;
    serve_metrics_predict_path(ctx->metrics, rc != TR_ERR_CONFLICT);
    if (rc == TR_ERR_CONFLICT) {
        /* the past, or the live window moved on meanwhile: the batch over the bars closed by
         * as_of */
        rc = bars.n ? TR_OK : read_history(st, pair, tf, as_of, &bars, &e);
        if (!rc && (!bars.n || bars.v[bars.n - 1].t != newest))
            rc = tr_fail(&e, TR_ERR_CONFLICT, "%s: the bars changed while predicting; retry", pair);
        if (!rc)
            rc = serve_features_predict(ctx->features, pair, tf, bars.v, bars.n, m, probs, &best,
                                        &e);
    }
    if (rc) {
        reply_tr(res, rc, &e, NULL);
        goto done;
    }
    tr_signal g;
    memset(&g, 0, sizeof g);
    snprintf(g.pair, sizeof g.pair, "%s", pair);
    g.timeframe = tf;
    g.bar_time = last->t;
    g.signal = best;
    g.confidence = probs[best];
    for (int k = 0; k < 3; k++)
        g.probs[k] = probs[k];
    snprintf(g.model_version, sizeof g.model_version, "%s", m->version);
    if (test)
        snprintf(g.ab_test_id, sizeof g.ab_test_id, "%s", test->id);
    g.created_at = tr_wall_now();
    snprintf(g.outcome, sizeof g.outcome, "open");
    if (record) {
        rc = tr_store_signal_put(st, &g, &e);
        if (rc) {
            reply_tr(res, rc, &e, NULL);
            goto done;
        }
    }
    serve_metrics_prediction(ctx->metrics, g.model_version, tr_label_name(g.signal));
    reply_json(res, 200,
               json_pack("{s:s, s:s, s:s, s:s, s:o, s:{s:o, s:o, s:o}, s:s, s:o, s:o, s:b}", "pair",
                         pair, "timeframe", tfn, "bar_time",
                         tr_time_format(g.bar_time, a, sizeof a), "signal", tr_label_name(g.signal),
                         "confidence", json_num_or_null(g.confidence), "probabilities", "hold",
                         json_num_or_null(g.probs[0]), "buy", json_num_or_null(g.probs[1]), "sell",
                         json_num_or_null(g.probs[2]), "version", g.model_version, "ab_test_id",
                         json_str_or_null(g.ab_test_id), "signal_id",
                         record ? json_integer(g.id) : json_null(), "recorded", record));
done:
    serve_model_release(m);
    serve_snapshot_release(s);
    tr_bars_free(&bars);
    json_decref(b);
}

/* The index of the first bar that the store's rule (tr_store_bars_put: valid values, on the
 * grid, strictly ascending) refuses, to name it; the rule itself is the core's. */
static size_t bad_bar(const tr_bar *v, size_t n, int32_t tf)
{
    for (size_t i = 0; i < n; i++)
        if (tr_bar_invalid(&v[i]) || v[i].t % tf != 0 || (i > 0 && v[i].t <= v[i - 1].t))
            return i;
    return n;
}

void h_bars(serve_ctx *ctx, const serve_request *req, const char *arg, serve_response *res)
{
    (void)arg;
    static const member ms[] = {{"pair", JSON_STRING},
                                {"timeframe", JSON_STRING},
                                {"bars", JSON_ARRAY},
                                {"replace", JSON_TRUE}};
    json_t *b = read_body(req, res, ms, sizeof ms / sizeof ms[0]);
    if (!b)
        return;
    const char *pair;
    int32_t tf;
    tr_csv_data data;
    memset(&data, 0, sizeof data);
    char field[48];
    if (pair_of(b, &pair, 1, res) || timeframe_of(ctx, b, &tf, res))
        goto done;
    json_t *arr = body_opt(b, "bars");
    size_t n = arr ? json_array_size(arr) : 0;
    if (n == 0) {
        reply_error(res, 400, "missing_field", "bars", "'bars' must be a non-empty array");
        goto done;
    }
    tr_error e;
    tr_error_clear(&e);
    data.line = malloc(n * sizeof *data.line);
    if (!data.line || tr_bars_reserve(&data.bars, n, &e)) {
        reply_error(res, 500, "internal", NULL, "out of memory");
        goto done;
    }
    static const char *const keys[] = {"t", "o", "h", "l", "c", "v"};
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(arr, i);
        if (!json_is_object(o)) {
            snprintf(field, sizeof field, "bars[%zu]", i);
            reply_error(res, 400, "wrong_type", field, "%s must be an object {t,o,h,l,c,v}", field);
            goto done;
        }
        const char *key;
        json_t *v;
        json_object_foreach(o, key, v)
        {
            int known = 0;
            for (int k = 0; k < 6; k++)
                known |= strcmp(key, keys[k]) == 0;
            if (!known) {
                snprintf(field, sizeof field, "bars[%zu].%.16s", i, key);
                reply_error(res, 400, "unknown_field", field, "unknown member %s", field);
                goto done;
            }
        }
        double x[5];
        for (int k = 1; k < 6; k++) {
            v = json_object_get(o, keys[k]);
            if (!json_is_number(v)) {
                snprintf(field, sizeof field, "bars[%zu].%s", i, keys[k]);
                reply_error(res, 400, v ? "wrong_type" : "missing_field", field,
                            "%s must be a number", field);
                goto done;
            }
            x[k - 1] = json_number_value(v);
        }
        snprintf(field, sizeof field, "bars[%zu].t", i);
        v = json_object_get(o, "t");
        if (!v || !member_type_ok(v, -1)) {
            reply_error(res, 400, v ? "wrong_type" : "missing_field", field, "%s must be %s", field,
                        member_type_name(-1));
            goto done;
        }
        tr_bar bar = {0, x[0], x[1], x[2], x[3], x[4]};
        if (body_time(v, field, &bar.t, res))
            goto done;
        data.bars.v[i] = bar;
        data.line[i] = (long)i;
    }
    data.bars.n = n;
    data.format = TR_CSV_GENERIC;
    tr_store *st = store_of(ctx, res);
    if (!st)
        goto done;
    tr_ingest_result ir;
    tr_code rc = tr_ingest_bars(st, pair, "request", &data, tf,
                                json_is_true(body_opt(b, "replace")), &ir, &e);
    if (rc == TR_ERR_DATA || rc == TR_ERR_INVALID) {
        size_t i = bad_bar(data.bars.v, n, tf);
        char ts[32];
        if (i < n) {
            snprintf(field, sizeof field, "bars[%zu]", i);
            reply_error(res, 422, "invalid_bar", field, "bar %zu (%s) refused: %s", i,
                        tr_time_format(data.bars.v[i].t, ts, sizeof ts), e.msg);
        } else {
            reply_tr(res, rc, &e, "bars");
        }
        goto done;
    }
    if (rc == TR_ERR_CONFLICT) {
        size_t i = ir.put.conflict < n ? ir.put.conflict : 0;
        char ts[32];
        snprintf(field, sizeof field, "bars[%zu]", i);
        reply_error(res, 409, "conflict", field,
                    "bar %zu (%s) differs from the stored bar at that time (send replace: true "
                    "to overwrite); nothing was stored",
                    i, tr_time_format(data.bars.v[i].t, ts, sizeof ts));
        goto done;
    }
    if (rc) {
        reply_tr(res, rc, &e, NULL);
        goto done;
    }
    if (ir.put.n_replaced)
        serve_live_invalidate(ctx->features, pair, tf); /* a bar in the past may have changed */
    char t0[32], t1[32], tfn[16];
    reply_json(res, 200,
               json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:s, s:s}", "pair", pair, "timeframe",
                         tr_timeframe_name(tf, tfn, sizeof tfn), "received", (json_int_t)n, "added",
                         (json_int_t)ir.put.n_added, "unchanged", (json_int_t)ir.put.n_unchanged,
                         "replaced", (json_int_t)ir.put.n_replaced, "first",
                         tr_time_format(ir.first, t0, sizeof t0), "last",
                         tr_time_format(ir.last, t1, sizeof t1)));
done:
    tr_csv_data_free(&data);
    json_decref(b);
}
