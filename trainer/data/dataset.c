/* dataset.c - windows, labels, time split with embargo, scaler and class weights (dataset.h). */
#include "data/dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"

tr_dataset_options tr_dataset_options_default(void)
{
    tr_dataset_options o;
    memset(&o, 0, sizeof o);
    o.window = 20;
    o.label = tr_label_params_default();
    o.train_frac = 0.70;
    o.val_frac = 0.15;
    o.embargo = 0;
    o.max_gap_bars = 4;
    o.from = INT64_MIN;
    o.to = INT64_MAX;
    return o;
}

void tr_scaler_fit(size_t n, const double *const *rows, double *mean, double *sd)
{
    for (int f = 0; f < TR_N_FEATURES; f++) {
        double s = 0;
        for (size_t i = 0; i < n; i++)
            s += rows[i][f];
        double m = n ? s / (double)n : 0.0, ss = 0;
        for (size_t i = 0; i < n; i++) {
            double d = rows[i][f] - m;
            ss += d * d;
        }
        double v = n ? sqrt(ss / (double)n) : 0.0;
        mean[f] = m;
        sd[f] = v < 1e-12 ? 1.0 : v;
    }
}

void tr_class_weights(const size_t *count, int n_classes, double *weight)
{
    size_t n = 0;
    for (int c = 0; c < n_classes; c++)
        n += count[c];
    for (int c = 0; c < n_classes; c++)
        weight[c] = count[c] ? (double)n / ((double)n_classes * (double)count[c]) : 0.0;
}

void tr_dataset_free(tr_dataset *ds)
{
    if (!ds)
        return;
    for (int s = 0; s < ds->n_series; s++) {
        tr_bars_free(&ds->series[s].bars);
        free(ds->series[s].features);
        free(ds->series[s].labels);
    }
    free(ds->series);
    for (int k = 0; k < TR_N_SPLITS; k++)
        free(ds->samples[k]);
    free(ds);
}

/* 1 when the missing interval between bars at a and b (a < b) is the weekend closure: it
 * contains a Saturday noon UTC and lasts at most four days. */
static int weekend_gap(int64_t a, int64_t b)
{
    if (b - a > 4 * 86400)
        return 0;
    for (int64_t day = a - a % 86400; day <= b; day += 86400) {
        int64_t noon = day + 43200;
        if (noon > a && noon < b && tr_weekday(noon) == 5)
            return 1;
    }
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static tr_code check_options(const tr_dataset_options *o, tr_error *err)
{
    tr_code rc = tr_label_params_check(&o->label, err);
    if (rc)
        return rc;
    if (o->window < 1 || o->window > 10000)
        return tr_fail(err, TR_ERR_INVALID, "window T must be in 1..10000 (got %d)", o->window);
    if (!(o->train_frac > 0) || !(o->val_frac >= 0) || !(o->train_frac + o->val_frac < 1))
        return tr_fail(err, TR_ERR_INVALID, "split fractions %g/%g do not leave a test part",
                       o->train_frac, o->val_frac);
    int need = o->window + tr_label_horizon(&o->label);
    if (o->embargo != 0 && o->embargo < need)
        return tr_fail(err, TR_ERR_INVALID, "embargo of %d bars is below T + label horizon = %d",
                       o->embargo, need);
    if (o->max_gap_bars < 0)
        return tr_fail(err, TR_ERR_INVALID, "max gap must be >= 0 bars");
    if (o->from >= o->to)
        return tr_fail(err, TR_ERR_INVALID, "empty time range (from is not before to)");
    return TR_OK;
}

/* Fills a series' features and labels and marks its candidates in cand (n). */
static tr_code prepare_series(tr_dataset *ds, int s, uint8_t *cand, tr_error *err)
{
    tr_dataset_series *se = &ds->series[s];
    const tr_dataset_options *o = &ds->opt;
    size_t n = se->bars.n;
    const tr_bar *b = se->bars.v;
    se->features = malloc((n ? n : 1) * TR_N_FEATURES * sizeof(double));
    se->labels = malloc(n ? n : 1);
    size_t *gaps = malloc((n + 1) * sizeof *gaps); /* prefix count of unexpected gaps */
    if (!se->features || !se->labels || !gaps) {
        free(gaps);
        return tr_fail(err, TR_ERR_NOMEM, "out of memory preparing %s", se->pair);
    }
    tr_code rc = tr_features_compute(b, n, se->features, err);
    if (!rc) {
        /* barrier labels charge this pair's spread in its pips, as its backtest does */
        tr_label_params lp = tr_label_params_for_pair(&o->label, se->pair);
        rc = tr_labels_compute(b, n, &lp, se->labels, err);
    }
    if (rc) {
        free(gaps);
        return rc;
    }
    int64_t limit = (int64_t)(o->max_gap_bars + 1) * ds->timeframe;
    gaps[0] = 0;
    for (size_t j = 0; j < n; j++) {
        int gap = j > 0 && b[j].t - b[j - 1].t > limit && !weekend_gap(b[j - 1].t, b[j].t);
        gaps[j + 1] = gaps[j] + (size_t)gap; /* gaps[j+1] counts gaps before bars 1..j */
    }
    size_t T = (size_t)o->window, H = (size_t)tr_label_horizon(&o->label);
    for (size_t i = 0; i < n; i++) {
        cand[i] = 0;
        if (b[i].t < o->from || b[i].t >= o->to)
            continue;
        ds->n_in_range++;
        if (i + 1 < T || i + 1 - T < TR_FEATURE_WARMUP) {
            ds->n_warmup++;
            continue;
        }
        if (se->labels[i] < 0) {
            ds->n_unlabeled++;
            continue;
        }
        /* gaps before bars i-T+2 .. i+H (between consecutive bars of window and horizon) */
        size_t lo = i + 2 - T, hi = i + H;
        if (gaps[hi + 1] - gaps[lo] > 0) {
            ds->n_gap++;
            continue;
        }
        cand[i] = 1;
    }
    free(gaps);
    return TR_OK;
}

/* Too few usable samples: TR_ERR_NOTFOUND, or with empty_ok TR_OK and *empty set. */
static tr_code assemble(tr_dataset *ds, uint8_t **cand, int *empty, tr_error *err)
{
    const tr_dataset_options *o = &ds->opt;
    size_t total = 0;
    for (int s = 0; s < ds->n_series; s++)
        for (size_t i = 0; i < ds->series[s].bars.n; i++)
            total += cand[s][i];
    if (total < (o->no_split ? 1u : 10u) && o->empty_ok) {
        *empty = 1;
        return TR_OK;
    }
    if (total < (o->no_split ? 1u : 10u))
        return tr_fail(err, TR_ERR_NOTFOUND,
                       "only %zu usable samples in the range (need at least 10): %zu bars in "
                       "range, %zu in warm-up, %zu unlabeled, %zu across gaps",
                       total, ds->n_in_range, ds->n_warmup, ds->n_unlabeled, ds->n_gap);
    int64_t *times = malloc(total * sizeof *times);
    if (!times)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory splitting %zu samples", total);
    size_t m = 0;
    for (int s = 0; s < ds->n_series; s++)
        for (size_t i = 0; i < ds->series[s].bars.n; i++)
            if (cand[s][i])
                times[m++] = ds->series[s].bars.v[i].t;
    qsort(times, total, sizeof *times, cmp_i64);
    size_t k1 = (size_t)floor((double)total * o->train_frac);
    size_t k2 = (size_t)floor((double)total * (o->train_frac + o->val_frac));
    if (k2 >= total)
        k2 = total - 1;
    ds->cut[0] = times[k1];
    ds->cut[1] = times[k2];
    free(times);
    for (int k = 0; k < TR_N_SPLITS; k++) {
        ds->samples[k] = malloc(total * sizeof(tr_sample));
        if (!ds->samples[k])
            return tr_fail(err, TR_ERR_NOMEM, "out of memory splitting %zu samples", total);
        ds->first[k] = INT64_MAX;
        ds->last[k] = INT64_MIN;
    }
    size_t E = (size_t)(o->embargo ? o->embargo : o->window + tr_label_horizon(&o->label));
    for (int s = 0; s < ds->n_series; s++) {
        const tr_dataset_series *se = &ds->series[s];
        size_t b1 = tr_bars_lower_bound(se->bars.v, se->bars.n, ds->cut[0]);
        size_t b2 = tr_bars_lower_bound(se->bars.v, se->bars.n, ds->cut[1]);
        for (size_t i = 0; i < se->bars.n; i++) {
            if (!cand[s][i])
                continue;
            int64_t t = se->bars.v[i].t;
            int part = o->no_split      ? TR_SPLIT_TEST
                       : t < ds->cut[0] ? TR_SPLIT_TRAIN
                       : t < ds->cut[1] ? TR_SPLIT_VAL
                                        : TR_SPLIT_TEST;
            size_t next = part == TR_SPLIT_TRAIN ? b1 : b2;
            if (part != TR_SPLIT_TEST && i + E >= next) {
                ds->n_embargo++;
                continue;
            }
            tr_sample smp = {(uint32_t)s, (uint32_t)i};
            ds->samples[part][ds->n[part]++] = smp;
            ds->class_count[part][se->labels[i]]++;
            if (t < ds->first[part])
                ds->first[part] = t;
            if (t > ds->last[part])
                ds->last[part] = t;
        }
    }
    int fit_part = o->no_split ? TR_SPLIT_TEST : TR_SPLIT_TRAIN;
    if (ds->n[fit_part] == 0)
        return tr_fail(err, TR_ERR_NOTFOUND, "no training samples left after the embargo");
    /* scaler and ranges */
    const double **rows = malloc(ds->n[fit_part] * sizeof *rows);
    if (!rows)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory fitting the scaler");
    for (size_t i = 0; i < ds->n[fit_part]; i++) {
        tr_sample smp = ds->samples[fit_part][i];
        rows[i] = ds->series[smp.series].features + (size_t)smp.index * TR_N_FEATURES;
    }
    tr_scaler_fit(ds->n[fit_part], rows, ds->mean, ds->sd);
    free(rows);
    tr_class_weights(ds->class_count[fit_part], TR_N_CLASSES, ds->class_weight);
    for (int k = 0; k < TR_N_SPLITS; k++) {
        for (int f = 0; f < TR_N_FEATURES; f++) {
            ds->fmin[k][f] = INFINITY;
            ds->fmax[k][f] = -INFINITY;
        }
        for (size_t i = 0; i < ds->n[k]; i++) {
            tr_sample smp = ds->samples[k][i];
            const double *row = ds->series[smp.series].features + (size_t)smp.index * TR_N_FEATURES;
            for (int f = 0; f < TR_N_FEATURES; f++) {
                if (row[f] < ds->fmin[k][f])
                    ds->fmin[k][f] = row[f];
                if (row[f] > ds->fmax[k][f])
                    ds->fmax[k][f] = row[f];
            }
        }
    }
    return TR_OK;
}

/* Takes ownership of the bars already placed in ds->series. */
/* Drops the bars more than TR_DATASET_CONTEXT before the first one at or after `from`
 * (dataset.h): the rows of the samples keep the same values, at a cost that no longer grows with
 * the stored history. */
static void trim_context(tr_dataset *ds)
{
    if (ds->opt.from == INT64_MIN)
        return;
    for (int s = 0; s < ds->n_series; s++) {
        tr_bars *b = &ds->series[s].bars;
        size_t first = tr_bars_lower_bound(b->v, b->n, ds->opt.from);
        if (first <= TR_DATASET_CONTEXT || first > b->n)
            continue;
        size_t drop = first - TR_DATASET_CONTEXT;
        memmove(b->v, b->v + drop, (b->n - drop) * sizeof *b->v);
        b->n -= drop;
    }
}

static tr_code finish(tr_dataset *ds, tr_dataset **out, tr_error *err)
{
    uint8_t **cand = calloc((size_t)ds->n_series, sizeof *cand);
    tr_code rc = cand ? TR_OK : tr_fail(err, TR_ERR_NOMEM, "out of memory");
    trim_context(ds);
    for (int s = 0; s < ds->n_series && !rc; s++) {
        if (ds->series[s].bars.n > UINT32_MAX) {
            rc = tr_fail(err, TR_ERR_INVALID, "%s: too many bars", ds->series[s].pair);
            break;
        }
        cand[s] = malloc(ds->series[s].bars.n ? ds->series[s].bars.n : 1);
        if (!cand[s])
            rc = tr_fail(err, TR_ERR_NOMEM, "out of memory");
        else
            rc = prepare_series(ds, s, cand[s], err);
    }
    int empty = 0;
    if (!rc)
        rc = assemble(ds, cand, &empty, err);
    if (cand)
        for (int s = 0; s < ds->n_series; s++)
            free(cand[s]);
    free(cand);
    if (rc || empty) {
        tr_dataset_free(ds);
        *out = NULL;
        return rc;
    }
    *out = ds;
    return TR_OK;
}

static tr_code new_dataset(int n_pairs, int32_t timeframe, const tr_dataset_options *opt,
                           tr_dataset **out, tr_error *err)
{
    *out = NULL;
    if (n_pairs < 1)
        return tr_fail(err, TR_ERR_INVALID, "no pair given");
    tr_code rc = check_options(opt, err);
    if (rc)
        return rc;
    tr_dataset *ds = calloc(1, sizeof *ds);
    if (!ds)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory");
    ds->series = calloc((size_t)n_pairs, sizeof *ds->series);
    if (!ds->series) {
        free(ds);
        return tr_fail(err, TR_ERR_NOMEM, "out of memory");
    }
    ds->opt = *opt;
    ds->timeframe = timeframe;
    *out = ds;
    return TR_OK;
}

/* Adds to a no-data error what was searched and what the store holds: the range, each pair's
 * last stored bar, and the option that moves the range (a store of history, whose last bar is
 * long past, needs --as-of). */
static void explain_no_data(tr_store *store, const char *const *pairs, int n_pairs,
                            int32_t timeframe, const tr_dataset_options *opt, tr_error *err)
{
    if (!err)
        return;
    char a[32], b[32], tail[512] = "";
    size_t used = 0;
    tr_series_info *list = NULL;
    size_t n = 0;
    tr_error e2;
    if (tr_store_series_list(store, &list, &n, &e2) == TR_OK) {
        for (int p = 0; p < n_pairs; p++)
            for (size_t i = 0; i < n; i++)
                if (list[i].timeframe == timeframe && strcmp(list[i].pair, pairs[p]) == 0 &&
                    used < sizeof tail)
                    used += (size_t)snprintf(tail + used, sizeof tail - used, "%s%s %s",
                                             used ? ", " : "", pairs[p],
                                             tr_time_format(list[i].last, a, sizeof a));
        free(list);
    }
    char msg[sizeof err->msg + 640];
    snprintf(msg, sizeof msg,
             "%s; searched [%s, %s); the store's last bar%s: %s; give --as-of (or "
             "--from/--to) within the stored bars",
             err->msg, opt->from == INT64_MIN ? "-" : tr_time_format(opt->from, a, sizeof a),
             tr_time_format(opt->to, b, sizeof b), n_pairs > 1 ? "s" : "",
             used ? tail : "none stored");
    size_t len = strlen(msg);
    if (len >= sizeof err->msg)
        len = sizeof err->msg - 1; /* cut: the cause comes first */
    memcpy(err->msg, msg, len);
    err->msg[len] = '\0';
}

tr_code tr_dataset_build(tr_store *store, const char *const *pairs, int n_pairs, int32_t timeframe,
                         const tr_dataset_options *opt, tr_dataset **out, tr_error *err)
{
    tr_dataset *ds;
    tr_code rc = new_dataset(n_pairs, timeframe, opt, &ds, err);
    if (rc)
        return rc;
    for (int s = 0; s < n_pairs; s++) {
        tr_dataset_series *se = &ds->series[s];
        ds->n_series = s + 1;
        if (!tr_pair_valid(pairs[s])) {
            tr_dataset_free(ds);
            return tr_fail(err, TR_ERR_INVALID, "bad pair name '%s'", pairs[s]);
        }
        snprintf(se->pair, sizeof se->pair, "%s", pairs[s]);
        rc = tr_store_bars_get(store, pairs[s], timeframe, INT64_MIN, opt->to, &se->bars, err);
        if (rc) {
            tr_dataset_free(ds);
            return rc;
        }
    }
    rc = finish(ds, out, err);
    if (rc == TR_ERR_NOTFOUND)
        explain_no_data(store, pairs, n_pairs, timeframe, opt, err);
    return rc;
}

tr_code tr_dataset_from_bars(const char *const *pairs, const tr_bar *const *bars,
                             const size_t *n_bars, int n_pairs, int32_t timeframe,
                             const tr_dataset_options *opt, tr_dataset **out, tr_error *err)
{
    tr_dataset *ds;
    tr_code rc = new_dataset(n_pairs, timeframe, opt, &ds, err);
    if (rc)
        return rc;
    for (int s = 0; s < n_pairs; s++) {
        tr_dataset_series *se = &ds->series[s];
        ds->n_series = s + 1;
        if (!tr_pair_valid(pairs[s])) {
            tr_dataset_free(ds);
            return tr_fail(err, TR_ERR_INVALID, "bad pair name '%s'", pairs[s]);
        }
        snprintf(se->pair, sizeof se->pair, "%s", pairs[s]);
        size_t n = tr_bars_lower_bound(bars[s], n_bars[s], opt->to);
        rc = tr_bars_reserve(&se->bars, n ? n : 1, err);
        if (rc) {
            tr_dataset_free(ds);
            return rc;
        }
        if (n)
            memcpy(se->bars.v, bars[s], n * sizeof(tr_bar));
        se->bars.n = n;
    }
    return finish(ds, out, err);
}

void tr_dataset_window(const tr_dataset *ds, int split, size_t i, float *x, int32_t *label)
{
    tr_sample smp = ds->samples[split][i];
    const tr_dataset_series *se = &ds->series[smp.series];
    size_t T = (size_t)ds->opt.window;
    const double *rows = se->features + ((size_t)smp.index + 1 - T) * TR_N_FEATURES;
    for (size_t s = 0; s < T; s++)
        for (int f = 0; f < TR_N_FEATURES; f++)
            x[s * TR_N_FEATURES + (size_t)f] =
                (float)((rows[s * TR_N_FEATURES + (size_t)f] - ds->mean[f]) / ds->sd[f]);
    if (label)
        *label = se->labels[smp.index];
}
