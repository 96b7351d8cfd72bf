/*
 * registry.c - the registry over HTTP: GET /v1/versions, GET /v1/versions/{v},
 * POST /v1/versions/{v}/activate, POST /v1/rollback (tr_activate, as aifx-train activate and
 * rollback), GET /v1/log, GET /v1/signals, and the placeholder of POST /v1/signals/{id}/outcome.
 * Records are the core's JSON (registry.h, from the field tables of schema.c), parsed with
 * jansson and embedded.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "cycles/cycle.h"
#include "cycles/monitor.h"
#include "market/labels.h"
#include "serve/handlers.h"

void h_versions(serve_ctx *ctx, const serve_request *req, const char *arg, serve_response *res)
{
    (void)req;
    (void)arg;
    tr_registry reg;
    if (registry_of(ctx, &reg, NULL, res))
        return;
    json_t *list = json_array();
    for (size_t i = 0; i < reg.n_versions; i++) {
        json_t *v = record_value(tr_version_json(&reg.versions[i]));
        json_object_del(v, "history"); /* the curves: GET /v1/versions/{v} has them */
        json_array_append_new(list, v);
    }
    const tr_version *act = tr_registry_active(&reg);
    serve_snapshot *s = serve_snapshot_get(ctx->models);
    reply_json(res, 200,
               json_pack("{s:o, s:o, s:o}", "active", json_str_or_null(act ? act->version : NULL),
                         "serving", json_str_or_null(s && s->active ? s->active->version : NULL),
                         "versions", list));
    serve_snapshot_release(s);
    tr_registry_free(&reg);
}

void h_version(serve_ctx *ctx, const serve_request *req, const char *arg, serve_response *res)
{
    (void)req;
    tr_registry reg;
    if (registry_of(ctx, &reg, NULL, res))
        return;
    const tr_version *v = tr_registry_find(&reg, arg);
    if (!v) {
        reply_error(res, 404, "not_found", "version", "version %s is not in the registry", arg);
        tr_registry_free(&reg);
        return;
    }
    /* with its production figures, from the store's signals (monitor.h) */
    tr_store *st = store_of(ctx, res);
    tr_prod_figs pf;
    tr_error e;
    tr_error_clear(&e);
    const char *name = v->version;
    tr_code rc = st ? tr_prod_figs_read(st, &name, 1, &pf, &e) : TR_ERR_IO;
    if (!st) {
        tr_registry_free(&reg);
        return;
    }
    if (rc) {
        reply_tr(res, rc, &e, NULL);
        tr_registry_free(&reg);
        return;
    }
    json_t *o = record_value(tr_version_json(v));
    json_object_set_new(
        o, "production",
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o}", "predictions",
                  (json_int_t)pf.predictions, "open", (json_int_t)pf.open, "trades",
                  (json_int_t)pf.trades, "wins", (json_int_t)pf.wins, "reported",
                  (json_int_t)pf.reported, "win_rate", json_num_or_null(pf.win_rate), "avg_pnl",
                  json_num_or_null(pf.avg_pnl), "total_pips", json_num_or_null(pf.total_pips),
                  "sharpe_ratio", json_num_or_null(pf.sharpe)));
    reply_json(res, 200, o);
    tr_registry_free(&reg);
}

static void activate(serve_ctx *ctx, const serve_request *req, const char *version,
                     serve_response *res)
{
    static const member ms[] = {{"note", JSON_STRING}};
    json_t *b = read_body(req, res, ms, 1);
    if (!b)
        return;
    tr_store *st = store_of(ctx, res);
    if (!st) {
        json_decref(b);
        return;
    }
    char from[TR_VERSION_MAX] = "", to[TR_VERSION_MAX] = "";
    tr_error e;
    tr_error_clear(&e);
    tr_code rc = tr_activate(st, version, version == NULL, body_str(b, "note"), from, to, &e);
    json_decref(b);
    if (rc) {
        reply_tr(res, rc, &e, version ? "version" : NULL);
        return;
    }
    resync(ctx, st);
    serve_snapshot *s = serve_snapshot_get(ctx->models);
    reply_json(res, 200,
               json_pack("{s:o, s:s, s:o}", "from", json_str_or_null(from), "to", to, "serving",
                         json_str_or_null(s && s->active ? s->active->version : NULL)));
    serve_snapshot_release(s);
}

void h_activate(serve_ctx *ctx, const serve_request *req, const char *arg, serve_response *res)
{
    activate(ctx, req, arg, res);
}

void h_rollback(serve_ctx *ctx, const serve_request *req, const char *arg, serve_response *res)
{
    (void)arg;
    activate(ctx, req, NULL, res);
}

void h_log(serve_ctx *ctx, const serve_request *req, const char *arg, serve_response *res)
{
    (void)arg;
    long limit;
    if (query_limit(req, &limit, res))
        return;
    tr_registry reg;
    if (registry_of(ctx, &reg, NULL, res))
        return;
    json_t *log = json_array(), *acts = json_array();
    size_t from = reg.n_log > (size_t)limit ? reg.n_log - (size_t)limit : 0;
    for (size_t i = from; i < reg.n_log; i++)
        json_array_append_new(log, record_value(tr_log_row_json(&reg.log[i])));
    from = reg.n_activations > (size_t)limit ? reg.n_activations - (size_t)limit : 0;
    for (size_t i = from; i < reg.n_activations; i++)
        json_array_append_new(acts, record_value(tr_activation_json(&reg.activations[i])));
    reply_json(res, 200, json_pack("{s:o, s:o}", "log", log, "activations", acts));
    tr_registry_free(&reg);
}

static json_t *signal_json(const tr_signal *g)
{
    char tfn[16], bt[32];
    int open = strcmp(g->outcome, "open") == 0;
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:{s:o, s:o, s:o}, s:s, s:o, s:o, s:s, "
                     "s:o, s:o, s:o, s:o, s:o}",
                     "id", (json_int_t)g->id, "pair", g->pair, "timeframe",
                     tr_timeframe_name(g->timeframe, tfn, sizeof tfn), "bar_time",
                     tr_time_format(g->bar_time, bt, sizeof bt), "signal", tr_label_name(g->signal),
                     "confidence", json_num_or_null(g->confidence), "probabilities", "hold",
                     json_num_or_null(g->probs[0]), "buy", json_num_or_null(g->probs[1]), "sell",
                     json_num_or_null(g->probs[2]), "version", g->model_version, "ab_test_id",
                     json_str_or_null(g->ab_test_id), "created_at",
                     json_time_or_null(g->created_at), "outcome", g->outcome, "exit_time",
                     json_time_or_null(g->exit_time), "exit_price",
                     open ? json_null() : json_num_or_null(g->exit_price), "pnl_pips",
                     open ? json_null() : json_num_or_null(g->pnl_pips), "pnl_percent",
                     open ? json_null() : json_num_or_null(g->pnl_percent), "reported",
                     json_boolean(g->reported));
}

void h_signals(serve_ctx *ctx, const serve_request *req, const char *arg, serve_response *res)
{
    (void)arg;
    long limit;
    int64_t from = 0, to = TIME_MAX;
    const char *pair = query_get(req, "pair"), *version = query_get(req, "version");
    if (pair && !tr_pair_valid(pair)) {
        reply_error(res, 400, "bad_value", "pair",
                    "'pair' must be 3 to 15 characters A-Z and 0-9 (EURUSD)");
        return;
    }
    if (query_limit(req, &limit, res) || query_time(req, "from", &from, res) ||
        query_time(req, "to", &to, res))
        return;
    if (from >= to) {
        reply_error(res, 400, "bad_value", "from", "'from' must be before 'to'");
        return;
    }
    tr_store *st = store_of(ctx, res);
    if (!st)
        return;
    tr_signal *list;
    size_t n;
    tr_error e;
    tr_error_clear(&e);
    tr_code rc = tr_store_signals_get(st, pair, from, to, &list, &n, &e);
    if (rc) {
        reply_tr(res, rc, &e, rc == TR_ERR_NOTFOUND ? "pair" : NULL);
        return;
    }
    json_t *arr = json_array();
    size_t kept = 0;
    for (size_t i = n; i-- > 0 && kept < (size_t)limit;) /* the newest `limit` */
        if (!version || strcmp(list[i].model_version, version) == 0) {
            json_array_insert_new(arr, 0, signal_json(&list[i]));
            kept++;
        }
    free(list);
    reply_json(res, 200, json_pack("{s:I, s:o}", "count", (json_int_t)kept, "signals", arr));
}

void h_outcome(serve_ctx *ctx, const serve_request *req, const char *arg, serve_response *res)
{
    static const member ms[] = {
        {"outcome", JSON_STRING}, {"pnl_pips", JSON_REAL}, {"closed_at", -1}};
    char *end = NULL;
    long long id = strtoll(arg, &end, 10);
    if (!*arg || *end || id < 1) {
        reply_error(res, 404, "not_found", "id", "no signal with id '%.32s'", arg);
        return;
    }
    json_t *b = read_body(req, res, ms, sizeof ms / sizeof ms[0]);
    if (!b)
        return;
    const char *outcome = body_str(b, "outcome");
    int64_t closed_at = 0;
    const char *missing = !outcome                    ? "outcome"
                          : !body_opt(b, "pnl_pips")  ? "pnl_pips"
                          : !body_opt(b, "closed_at") ? "closed_at"
                                                      : NULL;
    if (missing) {
        reply_error(res, 400, "missing_field", missing, "'%s' is required", missing);
        json_decref(b);
        return;
    }
    if (body_time(body_opt(b, "closed_at"), "closed_at", &closed_at, res)) {
        json_decref(b);
        return;
    }
    double pnl = json_number_value(body_opt(b, "pnl_pips"));
    tr_store *st = store_of(ctx, res);
    if (!st) {
        json_decref(b);
        return;
    }
    tr_signal g;
    tr_error e;
    tr_error_clear(&e);
    const char *field = NULL; /* the field the core refused */
    tr_code rc = tr_signal_report_outcome(st, (int64_t)id, outcome, pnl, closed_at, &g, &field, &e);
    json_decref(b);
    if (rc == TR_ERR_INVALID) {
        reply_error(res, 422, "invalid", field ? field : "id", "%s", e.msg);
        return;
    }
    if (rc) {
        reply_tr(res, rc, &e, rc == TR_ERR_NOTFOUND ? "id" : NULL);
        return;
    }
    reply_json(res, 200, signal_json(&g));
}
