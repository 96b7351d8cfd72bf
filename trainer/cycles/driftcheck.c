/*
 * driftcheck.c - drift of the live data against a version's training data (driftcheck.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "cycles/driftcheck.h"
#include "cycles/family_opts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aifxnn.h" /* aifx_crc32 */
#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "cycles/cycle.h"
#include "market/dq.h"
#include "market/labels.h"

enum { WARM_BARS = 1000 }; /* bars before a window, as prediction's history minimum */

tr_driftcheck_opts tr_driftcheck_opts_default(void)
{
    tr_driftcheck_opts o;
    memset(&o, 0, sizeof o);
    o.window = 7 * 86400;
    o.timeframe = 900;
    return o;
}

/* Appends to *rows (n_rows x 38, grown) the finite feature rows of pair's bars that opened in
 * [from, to), computed over those bars and WARM_BARS before them. */
static tr_code window_rows(tr_store *store, const char *pair, int32_t tf, int64_t from, int64_t to,
                           double **rows, size_t *n_rows, size_t *cap, tr_error *err)
{
    tr_bars bars = {0};
    tr_code rc =
        tr_store_bars_get(store, pair, tf, from - (int64_t)tf * WARM_BARS * 3, to, &bars, err);
    if (rc)
        return rc;
    size_t k0 = 0;
    while (k0 < bars.n && bars.v[k0].t < from)
        k0++;
    size_t start = k0 > WARM_BARS ? k0 - WARM_BARS : 0;
    size_t n = bars.n - start;
    double *feat = n ? malloc(n * TR_N_FEATURES * sizeof *feat) : NULL;
    if (n && !feat) {
        tr_bars_free(&bars);
        return tr_fail(err, TR_ERR_NOMEM, "out of memory for the features of %s", pair);
    }
    if (n)
        rc = tr_features_compute(bars.v + start, n, feat, err);
    for (size_t i = k0 - start; !rc && i < n; i++) {
        const double *row = feat + i * TR_N_FEATURES;
        int ok = 1;
        for (int f = 0; f < TR_N_FEATURES && ok; f++)
            ok = isfinite(row[f]);
        if (!ok)
            continue;
        if (*n_rows == *cap) {
            size_t nc = *cap ? 2 * *cap : 4096;
            double *v = realloc(*rows, nc * TR_N_FEATURES * sizeof *v);
            if (!v) {
                rc = tr_fail(err, TR_ERR_NOMEM, "out of memory for the features of %s", pair);
                break;
            }
            *rows = v;
            *cap = nc;
        }
        memcpy(*rows + *n_rows * TR_N_FEATURES, row, TR_N_FEATURES * sizeof *row);
        (*n_rows)++;
    }
    free(feat);
    tr_bars_free(&bars);
    return rc;
}

static const char ref_magic[] = "AIFXREF 1 0\n";

static tr_code ref_path(tr_store *store, const char *version, char *path, size_t size,
                        tr_error *err)
{
    char name[TR_VERSION_MAX + 8];
    snprintf(name, sizeof name, "%s.ref", version);
    return tr_store_path(store, TR_AREA_MODELS, name, path, size, err);
}

tr_code tr_drift_reference_save(tr_store *store, const tr_version *rec, const tr_dataset *ds,
                                tr_error *err)
{
    size_t n = ds->n[TR_SPLIT_TRAIN];
    if (n == 0)
        return tr_fail(err, TR_ERR_INVALID, "no training rows for the drift reference");
    tr_drift_reference *ref = calloc(1, sizeof *ref);
    double *col = malloc(n * sizeof *col);
    tr_code rc = ref && col ? TR_OK : tr_fail(err, TR_ERR_NOMEM, "out of memory");
    double vol = 0;
    size_t n_vol = 0;
    for (int f = 0; !rc && f < TR_N_FEATURES; f++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            const tr_sample *sm = &ds->samples[TR_SPLIT_TRAIN][i];
            double v = ds->series[sm->series].features[(size_t)sm->index * TR_N_FEATURES + f];
            if (isfinite(v))
                col[m++] = v;
        }
        if (f == 28)
            for (size_t i = 0; i < m; i++)
                vol += col[i], n_vol++;
        rc = m ? tr_drift_ref_build(col, m, &ref->features[f], err)
               : tr_fail(err, TR_ERR_DATA, "feature %s has no finite training row",
                         tr_feature_names[f]);
    }
    if (!rc) {
        ref->n_rows = n;
        ref->realised_vol = n_vol ? vol / (double)n_vol : NAN;
        for (int c = 0; c < 3; c++) {
            ref->true_counts[c] = (int64_t)ds->class_count[TR_SPLIT_TRAIN][c];
            for (int t = 0; t < 3; t++)
                ref->pred_counts[c] += rec->figs[0].confusion[t][c];
        }
    }
    char path[4400];
    if (!rc)
        rc = ref_path(store, rec->version, path, sizeof path, err);
    size_t ml = sizeof ref_magic - 1, len = ml + sizeof *ref + 4;
    unsigned char *buf = rc ? NULL : malloc(len);
    if (!rc && !buf)
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory");
    if (!rc) {
        memcpy(buf, ref_magic, ml);
        memcpy(buf + ml, ref, sizeof *ref);
        uint32_t crc = aifx_crc32(0, buf, ml + sizeof *ref);
        for (int k = 0; k < 4; k++)
            buf[ml + sizeof *ref + (size_t)k] = (unsigned char)(crc >> (8 * k));
        rc = tr_file_write_atomic(path, buf, len, err);
    }
    free(buf);
    free(col);
    free(ref);
    return rc;
}

tr_code tr_drift_reference_load(tr_store *store, const char *version, tr_drift_reference *out,
                                tr_error *err)
{
    char path[4400], *text = NULL;
    size_t len = 0, ml = sizeof ref_magic - 1;
    tr_code rc = ref_path(store, version, path, sizeof path, err);
    if (!rc)
        rc = tr_file_read(path, &text, &len, err);
    if (rc == TR_ERR_NOTFOUND && tr_store_has_files(store)) {
        /* trained on another host: the copy stored with the version (a few KiB, not cached) */
        char name[TR_VERSION_MAX + 8];
        snprintf(name, sizeof name, "%s.ref", version);
        rc = tr_store_file_get(store, name, &text, &len, NULL, err);
    }
    if (rc)
        return rc == TR_ERR_IO ? tr_fail(err, TR_ERR_NOTFOUND, "no drift reference") : rc;
    uint32_t crc = 0;
    int ok = len == ml + sizeof *out + 4 && memcmp(text, ref_magic, ml) == 0;
    for (int k = 0; ok && k < 4; k++)
        crc |= (uint32_t)(unsigned char)text[ml + sizeof *out + (size_t)k] << (8 * k);
    ok = ok && crc == aifx_crc32(0, text, ml + sizeof *out);
    if (ok)
        memcpy(out, text + ml, sizeof *out);
    free(text);
    return ok ? TR_OK : tr_fail(err, TR_ERR_NOTFOUND, "%s: not a drift reference", path);
}

tr_code tr_driftcheck_run(tr_store *store, const tr_driftcheck_opts *o, tr_driftcheck_result *r,
                          tr_error *err)
{
    memset(r, 0, sizeof *r);
    int32_t tf = o->timeframe > 0 ? o->timeframe : 900;
    int64_t as_of = o->as_of ? o->as_of : tr_wall_now();
    int64_t window = o->window > 0 ? o->window : 7 * 86400;
    tr_registry reg;
    tr_code rc = tr_store_registry_read(store, &reg, err);
    if (rc)
        return rc;
    const tr_version *v =
        o->version ? tr_registry_find(&reg, o->version) : tr_registry_active(&reg);
    if (!v) {
        rc = o->version
                 ? tr_fail(err, TR_ERR_NOTFOUND, "version %s is not in the registry", o->version)
                 : tr_fail(err, TR_ERR_NOTFOUND, "no active version in store %s",
                           tr_store_name(store));
        tr_registry_free(&reg);
        return rc;
    }
    snprintf(r->version, sizeof r->version, "%s", v->version);
    /* the lineage, to find the stored reference of a daily version's full root */
    char root[TR_VERSION_MAX];
    snprintf(root, sizeof root, "%s", v->version);
    size_t n_chain = reg.n_versions;
    char(*chain)[2][TR_VERSION_MAX] = calloc(n_chain + 1, sizeof *chain);
    if (!chain) {
        tr_registry_free(&reg);
        return tr_fail(err, TR_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n_chain; i++) {
        snprintf(chain[i][0], sizeof chain[i][0], "%s", reg.versions[i].version);
        snprintf(chain[i][1], sizeof chain[i][1], "%s", reg.versions[i].parent);
    }
    r->as_of = as_of;
    r->from = as_of - window;
    r->ref_from = v->data_from;
    r->ref_to = v->data_to;
    /* the reference classes: the version's predictions on its training part */
    for (int t = 0; t < 3; t++)
        for (int p = 0; p < 3; p++)
            r->ref_counts[p] +=
                (size_t)(v->figs[0].confusion[t][p] > 0 ? v->figs[0].confusion[t][p] : 0);
    tr_registry_free(&reg);

    char pairs[32][TR_PAIR_MAX];
    int n_pairs = 0;
    if (o->pair) {
        if (tr_pair_valid(o->pair)) {
            snprintf(pairs[0], sizeof pairs[0], "%s", o->pair);
            n_pairs = 1;
        } else {
            rc = tr_fail(err, TR_ERR_INVALID, "bad pair name '%s'", o->pair);
        }
    } else {
        rc = tr_store_pairs(store, tf, pairs, 32, &n_pairs, err);
    }
    r->n_pairs = n_pairs;
    double *ref = NULL, *cur = NULL, *col = NULL;
    size_t n_ref = 0, cap_ref = 0, n_cur = 0, cap_cur = 0;
    tr_drift_ref *refs = rc ? NULL : calloc(TR_N_FEATURES, sizeof *refs);
    if (!rc && !refs)
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory for the drift references");
    if (rc) {
        free(chain);
        return rc;
    }
    for (int i = 0; !rc && i < n_pairs; i++) {
        rc = window_rows(store, pairs[i], tf, r->ref_from, r->ref_to, &ref, &n_ref, &cap_ref, err);
        if (!rc)
            rc = window_rows(store, pairs[i], tf, r->from + 1, as_of + 1, &cur, &n_cur, &cap_cur,
                             err);
    }
    r->n_ref_rows = n_ref;
    r->n_cur_rows = n_cur;
    if (!rc && (n_ref == 0 || n_cur == 0)) {
        char a[32], b[32];
        rc = n_ref == 0 ? tr_fail(err, TR_ERR_NOTFOUND,
                                  "no bars of version %s's data window (%s .. %s) in the store",
                                  r->version, tr_time_format(r->ref_from, a, sizeof a),
                                  tr_time_format(r->ref_to, b, sizeof b))
                        : tr_fail(err, TR_ERR_NOTFOUND, "no bars in the %lld days before %s",
                                  (long long)(window / 86400), tr_time_format(as_of, a, sizeof a));
    }
    /* the reference stored at training time (the version's, or its full root's), else the
     * version's data window recomputed from the bars */
    tr_drift_reference *stored = rc ? NULL : malloc(sizeof *stored);
    int have_stored = 0;
    for (int hop = 0; stored && hop < 64 && root[0] && !have_stored; hop++) {
        tr_error le;
        have_stored = tr_drift_reference_load(store, root, stored, &le) == TR_OK;
        if (!have_stored) {
            const char *par = NULL;
            for (size_t i = 0; i < n_chain; i++)
                if (strcmp(chain[i][0], root) == 0)
                    par = chain[i][1];
            snprintf(root, sizeof root, "%s", par ? par : "");
        }
    }
    if (have_stored) {
        memcpy(refs, stored->features, sizeof stored->features);
        r->n_ref_rows = stored->n_rows;
        for (int c = 0; c < 3; c++)
            r->ref_counts[c] = (size_t)(stored->pred_counts[c] > 0 ? stored->pred_counts[c] : 0);
        snprintf(r->ref_source, sizeof r->ref_source, "training");
    } else {
        snprintf(r->ref_source, sizeof r->ref_source, "bars");
        col = rc ? NULL : malloc(n_ref * sizeof *col);
        if (!rc && !col)
            rc = tr_fail(err, TR_ERR_NOMEM, "out of memory for the drift references");
        for (int f = 0; !rc && f < TR_N_FEATURES; f++) {
            for (size_t k = 0; k < n_ref; k++)
                col[k] = ref[k * TR_N_FEATURES + f];
            rc = tr_drift_ref_build(col, n_ref, &refs[f], err);
        }
    }
    free(stored);
    tr_drift_opts dopt = tr_drift_opts_default();
    if (!rc)
        rc = tr_drift_dataset_test(refs, TR_N_FEATURES, cur, n_cur, &dopt, r->features, &r->dataset,
                                   err);
    /* prediction drift: the version's recorded signals in the window */
    tr_signal *sigs = NULL;
    size_t n_sigs = 0;
    if (!rc)
        rc = tr_store_signals_get(store, o->pair, r->from + 1, as_of + 1, &sigs, &n_sigs, err);
    for (size_t k = 0; !rc && k < n_sigs; k++)
        if (strcmp(sigs[k].model_version, r->version) == 0 && sigs[k].timeframe == tf &&
            sigs[k].signal >= 0 && sigs[k].signal < 3)
            r->cur_counts[sigs[k].signal]++;
    free(sigs);
    size_t n_cur_sig = r->cur_counts[0] + r->cur_counts[1] + r->cur_counts[2];
    size_t n_ref_sig = r->ref_counts[0] + r->ref_counts[1] + r->ref_counts[2];
    if (!rc && n_cur_sig && n_ref_sig) {
        rc = tr_drift_predictions(r->ref_counts, r->cur_counts, 3, 0.05, &r->pred, err);
        r->pred_tested = !rc;
    }
    if (!rc) {
        int n = snprintf(r->summary, sizeof r->summary,
                         "%d of %d features drifted (share %.2f): %s; predictions: ",
                         r->dataset.n_drifted, r->dataset.n_features, r->dataset.share,
                         r->dataset.drift ? "DATASET DRIFT" : "no dataset drift");
        if (n > 0 && (size_t)n < sizeof r->summary) {
            if (r->pred_tested)
                snprintf(r->summary + n, sizeof r->summary - (size_t)n, "p = %.3g, %s", r->pred.p,
                         r->pred.drift ? "DRIFT" : "no drift");
            else
                snprintf(r->summary + n, sizeof r->summary - (size_t)n,
                         "no signal of %s in the window", r->version);
        }
    }
    free(col);
    free(ref);
    free(cur);
    free(refs);
    free(chain);
    return rc;
}

static void num(tr_sb *b, const char *key, double x)
{
    if (isfinite(x))
        tr_sb_printf(b, "\"%s\":%.10g", key, x);
    else
        tr_sb_printf(b, "\"%s\":null", key);
}

char *tr_driftcheck_json(const tr_driftcheck_result *r)
{
    tr_sb b = {0};
    char t[4][32];
    tr_sb_printf(&b,
                 "{\"version\":\"%s\",\"as_of\":\"%s\",\"from\":\"%s\",\"reference\":{\"from\":"
                 "\"%s\",\"to\":\"%s\",\"rows\":%zu,\"source\":\"%s\"},\"rows\":%zu,\"pairs\":%d,",
                 r->version, tr_time_format(r->as_of, t[0], sizeof t[0]),
                 tr_time_format(r->from, t[1], sizeof t[1]),
                 tr_time_format(r->ref_from, t[2], sizeof t[2]),
                 tr_time_format(r->ref_to, t[3], sizeof t[3]), r->n_ref_rows, r->ref_source,
                 r->n_cur_rows, r->n_pairs);
    tr_sb_printf(&b, "\"dataset\":{\"drift\":%s,\"drifted\":%d,\"features\":%d,",
                 r->dataset.drift ? "true" : "false", r->dataset.n_drifted, r->dataset.n_features);
    num(&b, "share", r->dataset.share);
    tr_sb_printf(&b, ",\"psi_drifted\":%d},\"features\":[", r->dataset.n_psi_drifted);
    for (int f = 0; f < TR_N_FEATURES; f++) {
        const tr_drift_feature *x = &r->features[f];
        tr_sb_printf(&b, "%s{\"name\":\"%s\",\"method\":\"%s\",", f ? "," : "", tr_feature_names[f],
                     tr_drift_method_text(x->method));
        num(&b, "stat", x->stat);
        tr_sb_printf(&b, ",");
        num(&b, "p", x->p);
        tr_sb_printf(&b, ",");
        num(&b, "threshold", x->threshold);
        tr_sb_printf(&b, ",\"drift\":%s,", x->drift ? "true" : "false");
        num(&b, "psi", x->psi);
        tr_sb_printf(&b, "}");
    }
    tr_sb_printf(&b, "],\"predictions\":{\"reference\":[%zu,%zu,%zu],\"current\":[%zu,%zu,%zu],",
                 r->ref_counts[0], r->ref_counts[1], r->ref_counts[2], r->cur_counts[0],
                 r->cur_counts[1], r->cur_counts[2]);
    if (r->pred_tested) {
        num(&b, "chi2", r->pred.chi2);
        tr_sb_printf(&b, ",");
        num(&b, "p", r->pred.p);
        tr_sb_printf(&b, ",\"drift\":%s}", r->pred.drift ? "true" : "false");
    } else {
        tr_sb_printf(&b, "\"chi2\":null,\"p\":null,\"drift\":null}");
    }
    tr_sb_printf(&b, ",\"summary\":");
    tr_sb_json_str(&b, r->summary);
    tr_sb_printf(&b, "}");
    if (b.oom) {
        tr_sb_free(&b);
        return NULL;
    }
    return b.p;
}

/* ---- the watch: data quality and production alerts ----------------------------------------- */

/* P(X <= k) for X ~ Binomial(n, p), summed in log space. */
static double binom_cdf(int64_t k, int64_t n, double p)
{
    if (p <= 0)
        return 1.0;
    if (p >= 1)
        return k >= n ? 1.0 : 0.0;
    double s = 0, lp = log(p), lq = log1p(-p);
    for (int64_t i = 0; i <= k && i <= n; i++)
        s += exp(lgamma((double)n + 1) - lgamma((double)i + 1) - lgamma((double)(n - i) + 1) +
                 (double)i * lp + (double)(n - i) * lq);
    return s > 1 ? 1.0 : s;
}

static void add_line(char *buf, size_t size, const char *line)
{
    size_t n = strlen(buf);
    if (n < size)
        snprintf(buf + n, size - n, "%s%s", n ? "; " : "", line);
}

tr_code tr_watch_run(tr_store *store, int64_t as_of, int32_t tf, tr_watch_result *w, tr_error *err)
{
    memset(w, 0, sizeof *w);
    w->p_winrate = w->t_pnl = w->live_share = w->val_share = NAN;
    char pairs[32][TR_PAIR_MAX];
    int n_pairs = 0;
    tr_error local;
    tr_code rc = tr_store_pairs(store, tf, pairs, 32, &n_pairs, &local);
    if (rc && rc != TR_ERR_NOTFOUND) {
        if (err)
            *err = local;
        return rc;
    }
    rc = TR_OK;
    tr_dq_opts dq = tr_dq_opts_default();
    dq.timeframe = tf;
    for (int i = 0; !rc && i < n_pairs; i++) {
        tr_bars bars = {0};
        /* three days, so that the ATR of the spike rule has its history; findings of the last
         * day only */
        rc = tr_store_bars_get(store, pairs[i], tf, as_of - 3 * 86400, as_of - tf + 1, &bars, err);
        if (rc)
            break;
        tr_dq_report r;
        memset(&r, 0, sizeof r);
        rc = tr_dq_check(bars.v, bars.n, as_of, &dq, &r, err);
        if (!rc)
            tr_dq_summarize(&r, pairs[i], as_of - 86400, &w->dq);
        tr_dq_report_free(&r);
        tr_bars_free(&bars);
    }
    if (rc)
        return rc;
    /* the active version's live figures */
    tr_registry reg;
    rc = tr_store_registry_read(store, &reg, err);
    if (rc)
        return rc;
    const tr_version *v = tr_registry_active(&reg);
    if (!v) {
        tr_registry_free(&reg);
        return TR_OK;
    }
    tr_signal *sigs = NULL;
    size_t n = 0;
    rc = tr_store_signals_get(store, NULL, as_of - 30 * 86400, as_of + 1, &sigs, &n, err);
    double sum = 0, sum2 = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        const tr_signal *g = &sigs[i];
        if (strcmp(g->model_version, v->version) != 0 || g->timeframe != tf)
            continue;
        int win = strcmp(g->outcome, "win") == 0;
        if ((win || strcmp(g->outcome, "loss") == 0) && g->exit_time <= as_of) {
            w->live_trades++;
            w->live_wins += win;
            sum += g->pnl_pips;
            sum2 += g->pnl_pips * g->pnl_pips;
        }
        if (g->bar_time > as_of - 7 * 86400) {
            w->live_signals++;
            w->live_trading += g->signal != TR_LABEL_HOLD;
        }
    }
    free(sigs);
    char line[200];
    if (!rc && w->live_trades >= 30 && v->bt.trades >= 20) {
        double p0 = (double)v->bt.wins / (double)v->bt.trades;
        w->p_winrate = binom_cdf(w->live_wins, w->live_trades, p0);
        double nn = (double)w->live_trades, mean = sum / nn;
        double var = (sum2 - nn * mean * mean) / (nn - 1);
        if (var > 0)
            w->t_pnl = (mean - v->bt.avg_pips) / sqrt(var / nn);
        if (w->p_winrate < 0.01) {
            w->alert_winrate = 1;
            snprintf(line, sizeof line,
                     "%s wins %lld of %lld live trades against a backtest win rate of %.3f "
                     "(binomial p %.2g < 0.01)",
                     v->version, (long long)w->live_wins, (long long)w->live_trades, p0,
                     w->p_winrate);
            add_line(w->alerts, sizeof w->alerts, line);
        }
        if (isfinite(w->t_pnl) && w->t_pnl < -2.33) {
            w->alert_pnl = 1;
            snprintf(line, sizeof line,
                     "%s averages %.2f pips a live trade against %.2f in its backtest (t %.2f "
                     "< -2.33)",
                     v->version, mean, v->bt.avg_pips, w->t_pnl);
            add_line(w->alerts, sizeof w->alerts, line);
        }
    }
    w->val_share = v->figs[1].buy_share + v->figs[1].sell_share;
    if (!rc && w->live_signals >= 96 && w->val_share > 0) {
        w->live_share = (double)w->live_trading / (double)w->live_signals;
        double ratio = w->live_share / w->val_share;
        if (ratio < 0.5 || ratio > 2.0) {
            w->alert_collapse = 1;
            snprintf(line, sizeof line,
                     "%s's buy+sell share of the last 7 days is %.3f, %.2fx its validation "
                     "share %.3f (%s)",
                     v->version, w->live_share, ratio, w->val_share,
                     ratio < 0.5 ? "collapsed" : "overtrades");
            add_line(w->alerts, sizeof w->alerts, line);
        }
    }
    tr_registry_free(&reg);
    return rc;
}

/* One outbox event: kind and a payload with the version, the as-of time and a text. */
static void event_of(tr_outbox_event *ev, const char *kind, const char *version, const char *ts,
                     const char *what, const char *text, const char *report)
{
    memset(ev, 0, sizeof *ev);
    snprintf(ev->kind, sizeof ev->kind, "%s", kind);
    tr_sb p = {0};
    tr_sb_printf(&p, "{\"version\":");
    tr_sb_json_str(&p, version);
    tr_sb_printf(&p, ",\"as_of\":\"%s\",\"%s\":", ts, what);
    tr_sb_json_str(&p, text);
    if (report) {
        tr_sb_printf(&p, ",\"report\":");
        tr_sb_json_str(&p, report);
    }
    tr_sb_printf(&p, "}");
    snprintf(ev->payload, sizeof ev->payload, "%s", p.oom ? "{}" : p.p);
    tr_sb_free(&p);
}

/* ---- the daily cycle ------------------------------------------------------------------------ */

static tr_code drift_entry(const tr_cycle_ctx *ctx, const void *opts, tr_cycle_outcome *out,
                           tr_error *err)
{
    tr_driftcheck_opts o = tr_driftcheck_opts_default();
    if (opts)
        o = *(const tr_driftcheck_opts *)opts;
    else /* run-due's: the family's timeframe and window */
        tr_family_drift_opts(tr_store_family(ctx->store), &o);
    o.as_of = ctx->as_of ? ctx->as_of : tr_cycle_now(ctx);
    int64_t started = tr_wall_now();
    tr_driftcheck_result *r = malloc(sizeof *r);
    if (!r)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory");
    tr_error e;
    tr_error_clear(&e);
    tr_code rc = tr_driftcheck_run(ctx->store, &o, r, &e);
    tr_log_row row;
    if (rc == TR_ERR_NOTFOUND) {
        /* nothing to compare yet (no version, no bars): a skip that says why */
        tr_log_row_begin(&row, "drift", o.as_of, started, TR_LOG_SKIPPED, NULL, NULL);
        snprintf(row.reason, sizeof row.reason, "%.250s", e.msg);
        rc = tr_cycle_log(ctx->store, &row, err);
        if (!rc) {
            out->status = TR_LOG_SKIPPED;
            snprintf(out->detail, sizeof out->detail, "%s", row.reason);
        }
        free(r);
        return rc;
    }
    if (rc) {
        if (err)
            *err = e;
        tr_cycle_log_failure(ctx->store, "drift", o.as_of, started, "", "", &e);
        free(r);
        return rc;
    }
    /* the report, then the log row (and the event) that point to it */
    char *json = tr_driftcheck_json(r);
    char dir[4400], name[64], ts[32];
    tr_time_format(o.as_of, ts, sizeof ts);
    snprintf(name, sizeof name, "drift-%.10sT%.2s%.2s.json", ts, ts + 11, ts + 14);
    rc = json ? tr_store_path(ctx->store, TR_AREA_REPORTS, NULL, dir, sizeof dir, err)
              : tr_fail(err, TR_ERR_NOMEM, "out of memory");
    if (!rc)
        rc = tr_mkdir_p(dir, err);
    if (!rc)
        rc = tr_store_path(ctx->store, TR_AREA_REPORTS, name, r->report_path, sizeof r->report_path,
                           err);
    if (!rc)
        rc = tr_file_write_atomic(r->report_path, json, strlen(json), err);
    tr_watch_result *w = rc ? NULL : malloc(sizeof *w);
    if (!rc && !w)
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory");
    if (!rc)
        rc = tr_watch_run(ctx->store, o.as_of, o.timeframe, w, err);
    if (!rc) {
        tr_log_row_begin(&row, "drift", o.as_of, started, TR_LOG_COMPLETED, r->version, NULL);
        size_t dq_n = w->dq.n;
        snprintf(row.reason, sizeof row.reason, "%.150s; data quality: %zu finding%s%s%.60s%s",
                 r->summary, dq_n, dq_n == 1 ? "" : "s", dq_n ? " (" : "", w->dq.first,
                 dq_n ? ")" : "");
        tr_reg_txn txn;
        memset(&txn, 0, sizeof txn);
        txn.log = &row;
        txn.n_log = 1;
        txn.now = row.finished_at;
        tr_outbox_event ev[3];
        size_t n_ev = 0;
        if (r->dataset.drift || (r->pred_tested && r->pred.drift))
            event_of(&ev[n_ev++], "drift", r->version, ts, "summary", r->summary, name);
        if (dq_n)
            event_of(&ev[n_ev++], "data_quality", r->version, ts, "first", w->dq.first, NULL);
        if (w->alerts[0])
            event_of(&ev[n_ev++], "production_alert", r->version, ts, "alerts", w->alerts, NULL);
        txn.events = ev;
        txn.n_events = n_ev;
        rc = tr_store_registry_commit(ctx->store, &txn, err);
        if (!rc && w->alerts[0])
            snprintf(out->detail, sizeof out->detail, "%.300s; ALERT: %.500s", r->summary,
                     w->alerts);
    }
    free(w);

    if (!rc) {
        out->status = TR_LOG_COMPLETED;
        snprintf(out->version, sizeof out->version, "%s", r->version);
        if (!out->detail[0])
            snprintf(out->detail, sizeof out->detail, "%s", row.reason);
        if (out->figures)
            *(tr_driftcheck_result *)out->figures = *r;
    }
    free(json);
    free(r);
    return rc;
}

const tr_cycle_def tr_cycle_drift_def = {
    .name = "drift",
    .figures = "tr_driftcheck_result",
    .run = drift_entry,
};
