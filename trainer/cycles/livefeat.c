/*
 * livefeat.c - a pair's features kept live (livefeat.h): a feature stream, rebuilt from the last
 * TR_PREDICT_MAX_HISTORY stored bars, then extended with each new bar.
 */
#include "cycles/livefeat.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "cycles/cycle.h"
#include "market/featstream.h"

enum { LIVE_KEEP_ROWS = 256 }; /* the longest window a model may ask for */

struct tr_live_pair {
    char pair[TR_PAIR_MAX];
    int32_t tf;
    tr_featstream *fs;
    tr_bar last;        /* the newest bar pushed, as stored */
    size_t history;     /* bars behind the newest, as tr_predict counts them */
    size_t since_build; /* bars pushed since the last build */
    double last_read;   /* monotonic time of the last read that found nothing new */
    int have_read;
};

tr_code tr_live_pair_new(const char *pair, int32_t tf, tr_live_pair **out, tr_error *err)
{
    *out = NULL;
    if (!tr_pair_valid(pair) || tf <= 0)
        return tr_fail(err, TR_ERR_INVALID, "live features: bad pair '%s' or timeframe",
                       pair ? pair : "");
    tr_live_pair *lp = calloc(1, sizeof *lp);
    if (!lp)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory for the live features of %s", pair);
    snprintf(lp->pair, sizeof lp->pair, "%s", pair);
    lp->tf = tf;
    lp->last.t = INT64_MIN;
    *out = lp;
    return TR_OK;
}

void tr_live_pair_free(tr_live_pair *lp)
{
    if (!lp)
        return;
    tr_featstream_free(lp->fs);
    free(lp);
}

int64_t tr_live_pair_last(const tr_live_pair *lp)
{
    return lp->fs ? lp->last.t : INT64_MIN;
}

size_t tr_live_pair_history(const tr_live_pair *lp)
{
    return lp->fs ? lp->history : 0;
}

static int same_bar(const tr_bar *a, const tr_bar *b)
{
    return a->t == b->t && a->open == b->open && a->high == b->high && a->low == b->low &&
           a->close == b->close && a->volume == b->volume;
}

/* A new stream over the last TR_PREDICT_MAX_HISTORY of bars (n), replacing lp's on success. */
static tr_code build(tr_live_pair *lp, const tr_bar *bars, size_t n, tr_error *err)
{
    tr_featstream *fs;
    tr_code rc = tr_featstream_new(LIVE_KEEP_ROWS, &fs, err);
    if (rc)
        return rc;
    size_t k = n > TR_PREDICT_MAX_HISTORY ? n - TR_PREDICT_MAX_HISTORY : 0;
    for (size_t i = k; !rc && i < n; i++)
        rc = tr_featstream_push(fs, &bars[i], NULL, err);
    if (rc) {
        tr_featstream_free(fs);
        return rc;
    }
    tr_featstream_free(lp->fs);
    lp->fs = fs;
    lp->last = n ? bars[n - 1] : (tr_bar){.t = INT64_MIN};
    lp->history = n - k;
    lp->since_build = 0;
    return TR_OK;
}

tr_code tr_live_pair_sync(tr_live_pair *lp, tr_store *store, int64_t as_of, double now,
                          double min_interval, tr_live_sync *what, tr_error *err)
{
    tr_live_sync local;
    if (!what)
        what = &local;
    memset(what, 0, sizeof *what);
    const int64_t tf = lp->tf;
    if (lp->fs && lp->last.t != INT64_MIN) {
        if (as_of < lp->last.t + tf)
            return tr_fail(err, TR_ERR_CONFLICT,
                           "%s: as-of time before the close of the newest bar held", lp->pair);
        if (as_of < lp->last.t + 2 * tf)
            return TR_OK; /* the next bar has not closed yet */
        if (lp->have_read && now - lp->last_read < min_interval)
            return TR_OK; /* asked a moment ago: not there yet */
    }
    /* from the newest bar held on (to check it), or everything for a first build */
    int full = !lp->fs || lp->last.t == INT64_MIN || lp->since_build >= TR_PREDICT_MAX_HISTORY;
    tr_bars bars = {0};
    tr_code rc = tr_store_bars_get(store, lp->pair, lp->tf, full ? INT64_MIN : lp->last.t,
                                   as_of - tf + 1, &bars, err);
    if (rc)
        return rc;
    what->read = 1;
    if (!full && (bars.n == 0 || !same_bar(&bars.v[0], &lp->last))) {
        /* the bar we hold changed or went: build anew from the whole series */
        tr_bars_free(&bars);
        full = 1;
        rc = tr_store_bars_get(store, lp->pair, lp->tf, INT64_MIN, as_of - tf + 1, &bars, err);
        if (rc)
            return rc;
    }
    if (full) {
        rc = build(lp, bars.v, bars.n, err);
        if (!rc) {
            what->rebuilt = 1;
            what->pushed = lp->history;
        }
    } else {
        tr_featstream *next = tr_featstream_clone(lp->fs);
        if (!next)
            rc = tr_fail(err, TR_ERR_NOMEM, "out of memory for the live features of %s", lp->pair);
        for (size_t i = 1; !rc && i < bars.n; i++)
            rc = tr_featstream_push(next, &bars.v[i], NULL, err);
        if (!rc) {
            tr_featstream_free(lp->fs);
            lp->fs = next;
            if (bars.n > 1) {
                lp->last = bars.v[bars.n - 1];
                lp->history += bars.n - 1;
                lp->since_build += bars.n - 1;
                what->pushed = bars.n - 1;
            }
        } else {
            tr_featstream_free(next);
        }
    }
    tr_bars_free(&bars);
    if (!rc) {
        lp->have_read = what->pushed == 0;
        lp->last_read = now;
    }
    return rc;
}

tr_code tr_live_pair_predict(const tr_live_pair *lp, const aifx_model *m, const tr_rule *rule,
                             float probs[3], int *best, tr_error *err)
{
    aifx_model_config mc;
    aifx_model_get_config(m, &mc);
    if (!lp->fs || lp->last.t == INT64_MIN)
        return tr_fail(err, TR_ERR_NOTFOUND, "%s: no bars", lp->pair);
    if (mc.n_features != TR_N_FEATURES || mc.n_classes != 3 || mc.n_steps < 1 ||
        mc.n_steps > LIVE_KEEP_ROWS)
        return tr_fail(err, TR_ERR_FORMAT,
                       "the model is not a 38-feature, 3-class model with "
                       "at most 256 steps");
    float x[LIVE_KEEP_ROWS * TR_N_FEATURES];
    tr_code rc = tr_featstream_window(lp->fs, (size_t)mc.n_steps, x, err);
    if (rc)
        return rc;
    return tr_predict_rows(m, rule, x, probs, best, err);
}
