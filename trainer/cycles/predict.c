/*
 * predict.c - the active version's signal for a pair's newest bar (cycle.h, tr_predict).
 *
 * The bars that have closed by as_of (open time + timeframe <= as_of), at most the last 5,000 and
 * at least TR_PREDICT_MIN_HISTORY (the 38 features need 300 bars of warm-up; 1,000 let the
 * recursive indicators forget their seeds as they did in training), go through the same
 * tr_features_compute as training; the last T rows are the window; the model applies its own
 * scaler. A newest bar that closed more than max_age before as_of is stale: refused
 * (TR_ERR_STALE). The version is the active one, or, while an A/B test runs on the pair, the
 * arm the newest bar is assigned to (abtest.h). The signal is recorded in the store with its
 * model version and A/B test id.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "cycles/abtest.h"
#include "cycles/cycle.h"
#include "market/featureset.h"

tr_code tr_predict(tr_store *store, const tr_predict_opts *o, tr_prediction *out, tr_error *err)
{
    memset(out, 0, sizeof *out);
    if (!tr_pair_valid(o->pair))
        return tr_fail(err, TR_ERR_INVALID, "bad pair name '%s'", o->pair);
    tr_registry reg;
    tr_code rc = tr_store_registry_read(store, &reg, err);
    if (rc)
        return rc;
    aifx_model *m = NULL;
    tr_bars bars = {0};
    double *feat = NULL;
    float *x = NULL;
    /* the bars first: the newest one decides which version serves (an A/B arm or the active) */
    rc = tr_store_bars_get(store, o->pair, o->timeframe, INT64_MIN, o->as_of - o->timeframe + 1,
                           &bars, err);
    if (rc)
        goto done;
    char a[32], b[32], tfn[16];
    tr_timeframe_name(o->timeframe, tfn, sizeof tfn);
    if (bars.n == 0) {
        rc = tr_fail(err, TR_ERR_NOTFOUND, "%s %s: no bar closed by %s", o->pair, tfn,
                     tr_time_format(o->as_of, a, sizeof a));
        goto done;
    }
    const tr_bar *last = &bars.v[bars.n - 1];
    const tr_ab_test *test = NULL;
    const char *serving = tr_ab_serving(&reg, o->pair, last->t, &test);
    const tr_version *active = serving ? tr_registry_find(&reg, serving) : NULL;
    if (!active) {
        rc = tr_fail(err, TR_ERR_NOTFOUND, "no active version in store %s (run `aifx-train full`)",
                     tr_store_name(store));
        goto done;
    }
    tr_fetch_info fi;
    rc = tr_checkpoint_load_info(store, active, &m, &fi, err);
    if (rc)
        goto done;
    snprintf(out->note, sizeof out->note, "%s", fi.note);
    aifx_model_config mc;
    aifx_model_get_config(m, &mc);
    if (mc.n_features != TR_N_FEATURES || mc.n_classes != 3) {
        rc = tr_fail(err, TR_ERR_FORMAT, "version %s is not a 38-feature, 3-class model",
                     active->version);
        goto done;
    }
    if (bars.n < TR_PREDICT_MIN_HISTORY ||
        bars.n < (size_t)TR_FEATURE_WARMUP + (size_t)mc.n_steps) {
        rc = tr_fail(err, TR_ERR_NOTFOUND,
                     "%s %s: only %zu bars closed by %s; prediction needs at least %d of history",
                     o->pair, tfn, bars.n, tr_time_format(o->as_of, a, sizeof a),
                     TR_PREDICT_MIN_HISTORY);
        goto done;
    }
    int64_t close = last->t + o->timeframe;
    if (o->as_of - close > o->max_age) {
        rc = tr_fail(err, TR_ERR_STALE,
                     "%s %s: the newest bar closed at %s, %.1f hours before %s (limit %.1f "
                     "hours; ingest newer bars or raise --max-age)",
                     o->pair, tfn, tr_time_format(close, a, sizeof a),
                     (double)(o->as_of - close) / 3600.0, tr_time_format(o->as_of, b, sizeof b),
                     (double)o->max_age / 3600.0);
        goto done;
    }
    size_t n = bars.n < TR_PREDICT_MAX_HISTORY ? bars.n : TR_PREDICT_MAX_HISTORY;
    feat = malloc(n * TR_N_FEATURES * sizeof *feat);
    x = malloc((size_t)mc.n_steps * TR_N_FEATURES * sizeof *x);
    if (!feat || !x) {
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory computing features");
        goto done;
    }
    float probs[3];
    int best;
    rc = tr_predict_window(m, &active->rule, o->pair, bars.v, bars.n, feat, x, probs, &best, err);
    if (rc)
        goto done;
    tr_signal *g = &out->sig;
    snprintf(g->pair, sizeof g->pair, "%s", o->pair);
    g->timeframe = o->timeframe;
    g->bar_time = last->t;
    g->signal = best;
    g->confidence = probs[best];
    for (int k = 0; k < 3; k++)
        g->probs[k] = probs[k];
    snprintf(g->model_version, sizeof g->model_version, "%s", active->version);
    if (test)
        snprintf(g->ab_test_id, sizeof g->ab_test_id, "%s", test->id);
    g->created_at = tr_wall_now();
    snprintf(g->outcome, sizeof g->outcome, "open");
    out->bar_close = close;
    out->n_history = n;
    if (o->record)
        rc = tr_store_signal_put(store, g, err);
done:
    free(feat);
    free(x);
    tr_bars_free(&bars);
    aifx_model_free(m);
    tr_registry_free(&reg);
    return rc;
}

tr_code tr_predict_rows(const aifx_model *m, const tr_rule *rule, const float *x, float probs[3],
                        int *best, tr_error *err)
{
    aifx_status st = aifx_model_predict(m, 1, x, probs, NULL);
    if (st != AIFX_OK)
        return tr_fail_aifx(err, st, "prediction");
    *best = tr_rule_decide(rule, probs, probs);
    return TR_OK;
}

tr_code tr_predict_window(const aifx_model *m, const tr_rule *rule, const char *pair,
                          const tr_bar *bars, size_t n_bars, double *feat, float *x, float probs[3],
                          int *best, tr_error *err)
{
    aifx_model_config mc;
    aifx_model_get_config(m, &mc);
    const size_t T = (size_t)mc.n_steps;
    size_t n = n_bars < TR_PREDICT_MAX_HISTORY ? n_bars : TR_PREDICT_MAX_HISTORY;
    if (n < T)
        return tr_fail(err, TR_ERR_INVALID, "%s: %zu bars for a window of %zu", pair, n, T);
    const tr_bar *hist = bars + (n_bars - n);
    tr_code rc = tr_features_compute(hist, n, feat, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < T * TR_N_FEATURES; i++) {
        double v = feat[(n - T) * TR_N_FEATURES + i];
        if (!isfinite(v)) {
            char a[32];
            return tr_fail(err, TR_ERR_DATA, "%s: feature %s is not finite at %s", pair,
                           tr_feature_names[i % TR_N_FEATURES],
                           tr_time_format(hist[n - T + i / TR_N_FEATURES].t, a, sizeof a));
        }
        x[i] = (float)v;
    }
    return tr_predict_rows(m, rule, x, probs, best, err);
}
