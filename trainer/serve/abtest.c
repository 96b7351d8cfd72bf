/*
 * abtest.c - A/B tests over HTTP (aifx-train ab): GET /v1/ab-tests, POST /v1/ab-tests (start),
 * GET /v1/ab-tests/{id}, POST /v1/ab-tests/{id}/stop, GET /v1/ab-tests/{id}/report
 * (tr_ab_analyse). Starting and stopping resync the snapshot, so that the next prediction is
 * routed by the new state.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "cycles/abtest.h"
#include "serve/handlers.h"

#define PAIRS_MAX_IN_ONE 16

void h_ab_list(serve_ctx *ctx, const serve_request *req, const char *arg, serve_response *res)
{
    (void)req;
    (void)arg;
    tr_registry reg;
    if (registry_of(ctx, &reg, NULL, res))
        return;
    json_t *arr = json_array();
    for (size_t i = 0; i < reg.n_abtests; i++)
        json_array_append_new(arr, record_value(tr_ab_test_json(&reg.abtests[i])));
    reply_json(res, 200, json_pack("{s:o}", "ab_tests", arr));
    tr_registry_free(&reg);
}

void h_ab_start(serve_ctx *ctx, const serve_request *req, const char *arg, serve_response *res)
{
    (void)arg;
    static const member ms[] = {{"a", JSON_STRING},     {"b", JSON_STRING},
                                {"pairs", -2},          {"split", JSON_REAL},
                                {"days", JSON_INTEGER}, {"min_trades", JSON_INTEGER},
                                {"seed", JSON_STRING},  {"as_of", -1}};
    json_t *b = read_body(req, res, ms, sizeof ms / sizeof ms[0]);
    if (!b)
        return;
    tr_ab_start_opts o = tr_ab_start_opts_default();
    char pairs[TR_AB_PAIRS_MAX] = "";
    o.a = body_str(b, "a");
    o.b = body_str(b, "b");
    const char *bad = NULL;
    if (!o.a || !tr_version_name_valid(o.a))
        bad = "a";
    else if (!o.b || !tr_version_name_valid(o.b))
        bad = "b";
    if (bad) {
        reply_error(res, 400, body_opt(b, bad) ? "bad_value" : "missing_field", bad,
                    "'%s' must name a version (such as v1.0)", bad);
        goto done;
    }
    json_t *p = body_opt(b, "pairs");
    if (json_is_string(p)) {
        snprintf(pairs, sizeof pairs, "%s", json_string_value(p));
    } else if (p) {
        size_t used = 0, i;
        json_t *x;
        if (json_array_size(p) > PAIRS_MAX_IN_ONE) {
            reply_error(res, 422, "invalid", "pairs", "at most %d pairs in one A/B test",
                        PAIRS_MAX_IN_ONE);
            goto done;
        }
        json_array_foreach(p, i, x)
        {
            if (!json_is_string(x) || !tr_pair_valid(json_string_value(x))) {
                reply_error(res, 400, "bad_value", "pairs",
                            "'pairs' must be pair names (EURUSD), one string each");
                goto done;
            }
            used += (size_t)snprintf(pairs + used, sizeof pairs - used, "%s%s", i ? "," : "",
                                     json_string_value(x));
        }
    }
    if (body_opt(b, "split"))
        o.split = json_number_value(body_opt(b, "split"));
    if (body_opt(b, "days")) {
        json_int_t d = json_integer_value(body_opt(b, "days"));
        if (d < 1 || d > 365) {
            reply_error(res, 400, "bad_value", "days", "'days' must be in 1..365");
            goto done;
        }
        o.days = (int)d;
    }
    if (body_opt(b, "min_trades")) {
        json_int_t t = json_integer_value(body_opt(b, "min_trades"));
        if (t < 0 || t > 100000000) {
            reply_error(res, 400, "bad_value", "min_trades", "'min_trades' must be in 0..1e8");
            goto done;
        }
        o.min_trades = t;
    }
    if (body_opt(b, "seed")) {
        const char *s = body_str(b, "seed");
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 16);
        if (!s[0] || *end || errno || v == 0 || s[0] == '-') {
            reply_error(res, 400, "bad_value", "seed",
                        "'seed' must be a non-zero hexadecimal string");
            goto done;
        }
        o.seed = v;
    }
    if (body_opt(b, "as_of") && body_time(body_opt(b, "as_of"), "as_of", &o.as_of, res))
        goto done;
    o.pairs = pairs;
    tr_store *st = store_of(ctx, res);
    if (!st)
        goto done;
    tr_ab_test t;
    tr_error e;
    tr_error_clear(&e);
    tr_code rc = tr_ab_start(st, &o, &t, &e);
    if (rc) {
        reply_tr(res, rc, &e, NULL);
        goto done;
    }
    resync(ctx, st);
    reply_json(res, 201, record_value(tr_ab_test_json(&t)));
done:
    json_decref(b);
}

void h_ab_get(serve_ctx *ctx, const serve_request *req, const char *arg, serve_response *res)
{
    (void)req;
    tr_registry reg;
    if (registry_of(ctx, &reg, NULL, res))
        return;
    const tr_ab_test *t = tr_registry_find_ab(&reg, arg);
    if (t)
        reply_json(res, 200, record_value(tr_ab_test_json(t)));
    else
        reply_error(res, 404, "not_found", "id", "no A/B test %s", arg);
    tr_registry_free(&reg);
}

static void reply_report(serve_response *res, int status, const tr_ab_report *r)
{
    json_t *j = record_value(tr_ab_report_json(r));
    reply_json(res, status, j);
}

void h_ab_stop(serve_ctx *ctx, const serve_request *req, const char *arg, serve_response *res)
{
    static const member ms[] = {{"note", JSON_STRING}, {"as_of", -1}};
    json_t *b = read_body(req, res, ms, 2);
    if (!b)
        return;
    int64_t as_of = 0;
    tr_ab_report *r = NULL;
    if (body_opt(b, "as_of") && body_time(body_opt(b, "as_of"), "as_of", &as_of, res))
        goto done;
    tr_store *st = store_of(ctx, res);
    if (!st)
        goto done;
    r = calloc(1, sizeof *r);
    if (!r) {
        reply_error(res, 500, "internal", NULL, "out of memory");
        goto done;
    }
    tr_error e;
    tr_error_clear(&e);
    tr_code rc = tr_ab_stop(st, arg, as_of, body_str(b, "note"), r, &e);
    if (rc) {
        reply_tr(res, rc, &e, rc == TR_ERR_NOTFOUND ? "id" : NULL);
        goto done;
    }
    resync(ctx, st);
    reply_report(res, 200, r);
done:
    free(r);
    json_decref(b);
}

void h_ab_report(serve_ctx *ctx, const serve_request *req, const char *arg, serve_response *res)
{
    int64_t as_of = 0;
    if (query_time(req, "as_of", &as_of, res))
        return;
    tr_store *st = store_of(ctx, res);
    if (!st)
        return;
    tr_ab_report *r = calloc(1, sizeof *r);
    if (!r) {
        reply_error(res, 500, "internal", NULL, "out of memory");
        return;
    }
    tr_error e;
    tr_error_clear(&e);
    tr_code rc = tr_ab_analyse(st, arg, as_of, r, &e);
    if (rc)
        reply_tr(res, rc, &e, rc == TR_ERR_NOTFOUND ? "id" : NULL);
    else
        reply_report(res, 200, r);
    free(r);
}
