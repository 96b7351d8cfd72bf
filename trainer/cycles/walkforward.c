/*
 * walkforward.c - the walk-forward evaluation (walkforward.h, docs/walkforward.md).
 *
 * One scoring dataset D is built once from the work store: every window whose last bar lies in
 * [from, to), no split (data/dataset.h no_split), labelled with the walk's label kind, its
 * features computed over all the work store's bars (so a window's features are the ones the
 * weekly cycle computes). D's samples are ordered by pair, then time; step k's windows are the
 * subsequence with last-bar times in [t_k, e_k), and a "view" of D (a copy of the struct whose
 * test part is that subsequence) lets the library's prediction, figures and backtest run on a
 * step unchanged. The model never sees D: it is trained by tr_cycle_full on the bars before t_k.
 *
 * A step's file (step-NNN.txt) holds everything the report and the whole-range figures need:
 * its figures, the random draws' net pips, and the two signal sequences; the whole range is
 * recomputed from those files and D at the end of every call, so it is the same whether the
 * steps came from this call or an earlier one.
 *
 * At about 1,250 lines it is over the trainer's usual 800: its sections (the generator, the
 * state, a step's file, setup, one step, the whole range) share the walk's private state and
 * its file format, which nothing else needs; the step file's reader and writer are the first to
 * move out if it grows.
 */
#define _POSIX_C_SOURCE 200809L

#include "cycles/walkforward.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "cycles/testhook.h"
#include "data/eval.h"
#include "data/models.h"
#include "market/decide.h"
#include "market/featureset.h"

#define WF_MAX_STEPS    2000
#define WF_LABEL_AHEAD  (14 * 86400) /* bars copied past `to`, for the last windows' labels */
#define WF_TOPUP_ROUNDS 4            /* rounds of extra random entries towards the target */

tr_wf_opts tr_wf_opts_default(void)
{
    tr_wf_opts o;
    memset(&o, 0, sizeof o);
    o.step_days = 7;
    o.full = tr_full_opts_default();
    o.draws = 1000;
    return o;
}

int tr_wf_step_parse(const char *s, tr_wf_opts *o)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (errno || end == s || s[0] < '0' || s[0] > '9' || n < 1 || n > 9999 || !end[0] || end[1])
        return -1;
    if (end[0] == 'd' || end[0] == 'w') {
        o->step_days = (int)n * (end[0] == 'w' ? 7 : 1);
        o->step_months = 0;
    } else if (end[0] == 'm') {
        o->step_months = (int)n;
        o->step_days = 0;
    } else {
        return -1;
    }
    return 0;
}

static void step_text(const tr_wf_opts *o, char *out, size_t size)
{
    if (o->step_months > 0)
        snprintf(out, size, "%dm", o->step_months);
    else if (o->step_days % 7 == 0)
        snprintf(out, size, "%dw", o->step_days / 7);
    else
        snprintf(out, size, "%dd", o->step_days);
}

/* The start of step k (from the anchor, so that month ends do not drift). */
static int64_t step_start(const tr_wf_opts *o, size_t k)
{
    if (o->step_months > 0)
        return tr_time_minus_months(o->from, -(int)k * o->step_months);
    return o->from + (int64_t)k * o->step_days * 86400;
}

size_t tr_wf_steps(const tr_wf_opts *o, int64_t *starts, size_t max)
{
    if (o->from >= o->to || (o->step_days < 1) == (o->step_months < 1) || o->step_days < 0 ||
        o->step_months < 0)
        return 0;
    size_t n = 0;
    for (int64_t t = o->from; t < o->to && n <= WF_MAX_STEPS; t = step_start(o, ++n))
        if (starts && n < max)
            starts[n] = t;
    return n;
}

/* ---- random numbers: splitmix64 as a counter-based generator -------------------------------- */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

typedef struct wf_rng {
    uint64_t state;
} wf_rng;

/* The stream of (seed, step, draw, pair). */
static wf_rng rng_for(uint64_t seed, size_t step, int draw, int pair)
{
    uint64_t h = mix64(seed ^ 0x77616c6b666f7277ull); /* "walkforw" */
    h = mix64(h ^ (uint64_t)step);
    h = mix64(h ^ (uint64_t)(unsigned)draw);
    h = mix64(h ^ (uint64_t)(unsigned)pair);
    wf_rng r = {h};
    return r;
}

static uint64_t rng_next(wf_rng *r)
{
    r->state += 0x9E3779B97F4A7C15ull;
    return mix64(r->state);
}

/* Uniform in [0, m): the top 53 bits as a fraction of m (a bias below 2^-40 for m < 2^13). */
static size_t rng_below(wf_rng *r, size_t m)
{
    double u = (double)(rng_next(r) >> 11) * 0x1.0p-53;
    size_t v = (size_t)(u * (double)m);
    return v < m ? v : m - 1;
}

/* ---- the walk's state ----------------------------------------------------------------------- */

typedef struct wf {
    const tr_wf_opts *o;
    tr_store *src, *work;
    int lock;
    char dir[4400];
    char args[4096];
    const char *pp[TR_WF_MAX_PAIRS];
    int64_t *starts; /* (n_steps + 1): the steps' bounds, the last one `to` */
    size_t n_steps;
    tr_dataset *ds; /* D: every window of [from, to + WF_LABEL_AHEAD) */
    tr_rows rows;
    tr_sample *range; /* (n_range) D's windows in [from, to), in D's order */
    size_t n_range;
    uint32_t *step_of; /* (n_range) the step of each */
    /* the same windows grouped by step (D's order within a step): step k's are
     * by_step[step_off[k] .. step_off[k + 1]), by_step_at giving each one's index in range */
    tr_sample *by_step;
    size_t *by_step_at;
    size_t *step_off; /* (n_steps + 1) */
    tr_wf_result *res;
} wf;

static void stage(const wf *w, const char *fmt, ...) TR_PRINTF(2, 3);
static void stage(const wf *w, const char *fmt, ...)
{
    if (!w->o->on_event)
        return;
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    tr_event ev = {TR_EV_STAGE, "walkforward", text, NULL};
    w->o->on_event(&ev, w->o->user);
}

static int64_t sample_time(const tr_dataset *ds, tr_sample s)
{
    return ds->series[s.series].bars.v[s.index].t;
}

/* A view of D whose test part is the given windows (borrowed): the library's prediction,
 * figures and backtest read only n, samples and series. Never freed with tr_dataset_free. */
static tr_dataset view_of(const tr_dataset *ds, tr_sample *samples, size_t n)
{
    tr_dataset v = *ds;
    for (int k = 0; k < TR_N_SPLITS; k++) {
        v.samples[k] = k == TR_SPLIT_TEST ? samples : NULL;
        v.n[k] = k == TR_SPLIT_TEST ? n : 0;
    }
    return v;
}

static void figs_of(const tr_bt_figs *b, tr_wf_figs *f)
{
    f->trades = b->trades;
    f->wins = b->wins;
    f->net_pips = b->total_pips;
    f->win_rate = b->win_rate;
    f->sharpe = b->sharpe;
    f->max_drawdown = b->max_drawdown;
}

/* Backtests signals on view v (no threshold: each signal is the strategy's decision). */
static tr_code backtest(const tr_dataset *v, const int8_t *sig, tr_wf_figs *f, tr_bt_figs *pairs,
                        tr_equity *eq, tr_error *err)
{
    tr_bt_figs all;
    tr_code rc = tr_backtest_split_equity(v, TR_SPLIT_TEST, sig, NULL, NULL, &all, pairs, eq, err);
    if (!rc)
        figs_of(&all, f);
    return rc;
}

static double macro_f1(size_t n, const int32_t *y, const int8_t *pred)
{
    if (!n)
        return NAN;
    tr_cls_figs f;
    tr_cls_figs_compute(n, y, pred, NULL, NULL, &f);
    return f.macro_f1;
}

/* The random entries of draw d on step k into sig (the view's n windows): hold everywhere but
 * min(want[s], windows of s) distinct windows of each pair s, each a buy or a sell at even
 * odds. The picks are a prefix of one shuffle per (seed, step, draw, pair): a larger want keeps
 * the entries of a smaller one and adds more. idx: room for n indices. */
static void random_signals(uint64_t seed, size_t k, int d, const tr_dataset *v,
                           const int32_t *want_of, int8_t *sig, size_t *idx)
{
    size_t n = v->n[TR_SPLIT_TEST];
    const tr_sample *sm = v->samples[TR_SPLIT_TEST];
    memset(sig, TR_LABEL_HOLD, n);
    for (size_t lo = 0; lo < n;) {
        uint32_t s = sm[lo].series;
        size_t hi = lo;
        while (hi < n && sm[hi].series == s)
            hi++;
        size_t m = hi - lo, want = want_of[s] > 0 ? (size_t)want_of[s] : 0;
        if (want > m)
            want = m;
        wf_rng r = rng_for(seed, k, d, (int)s);
        for (size_t j = 0; j < m; j++)
            idx[j] = j;
        for (size_t j = 0; j < want; j++) { /* a partial Fisher-Yates shuffle */
            size_t x = j + rng_below(&r, m - j), t = idx[j];
            idx[j] = idx[x];
            idx[x] = t;
            sig[lo + idx[j]] = (rng_next(&r) >> 63) ? TR_LABEL_SELL : TR_LABEL_BUY;
        }
        lo = hi;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The q-quantile of sorted v (n > 0), linearly interpolated (Hyndman and Fan's type 7). */
static double quantile(const double *v, size_t n, double q)
{
    double h = q * (double)(n - 1);
    size_t i = (size_t)floor(h);
    if (i + 1 >= n)
        return v[n - 1];
    return v[i] + (h - (double)i) * (v[i + 1] - v[i]);
}

/* The distribution of draws (n) against the model's net pips. */
static tr_code random_summary(const double *draws, size_t n, double model, double mean_trades,
                              int64_t target, tr_wf_random *out, tr_error *err)
{
    memset(out, 0, sizeof *out);
    out->target_trades = target;
    out->mean_trades = mean_trades;
    double *s = malloc((n ? n : 1) * sizeof *s);
    if (!s)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory for %zu draws", n);
    memcpy(s, draws, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    for (size_t d = 0; d < n; d++)
        out->n_ge += draws[d] >= model;
    out->median = n ? quantile(s, n, 0.5) : NAN;
    out->p05 = n ? quantile(s, n, 0.05) : NAN;
    out->p95 = n ? quantile(s, n, 0.95) : NAN;
    /* no trade of the model (a no_edge rule): nothing to test, and a p of 1 would read as a
     * finding */
    out->p_value = target > 0 ? (1.0 + (double)out->n_ge) / (1.0 + (double)n) : NAN;
    free(s);
    return TR_OK;
}

/* ---- a step's file ---------------------------------------------------------------------------
 * "aifx-wf-step 1", then "name value" lines of the fields below, "draw X" per draw,
 * "pred_rule DIGITS", "pred_argmax DIGITS" (one digit per window: 0 hold, 1 buy, 2 sell), and
 * "end". Numbers are written with %.17g, so they read back exactly. */

enum { F_I64, F_INT, F_DBL, F_STR };
typedef struct step_field {
    const char *name;
    int type;
    size_t off;
} step_field;

#define SF(n, t, m)                                                                                \
    {                                                                                              \
        n, t, offsetof(tr_wf_step, m)                                                              \
    }
#define SF_FIGS(p, m)                                                                              \
    SF(p ".trades", F_I64, m.trades), SF(p ".wins", F_I64, m.wins),                                \
        SF(p ".net_pips", F_DBL, m.net_pips), SF(p ".win_rate", F_DBL, m.win_rate),                \
        SF(p ".sharpe", F_DBL, m.sharpe), SF(p ".max_drawdown", F_DBL, m.max_drawdown)

static const step_field step_fields[] = {
    SF("start", F_I64, start),
    SF("end", F_I64, end),
    SF("version", F_STR, version),
    SF("data_from", F_I64, data_from),
    SF("data_to", F_I64, data_to),
    SF("epochs", F_INT, epochs),
    SF("best_epoch", F_INT, best_epoch),
    SF("temperature", F_DBL, temperature),
    SF("threshold", F_DBL, threshold),
    SF("no_edge", F_INT, no_edge),
    SF("n_windows", F_I64, n_windows),
    SF("first_t", F_I64, first_t),
    SF("last_t", F_I64, last_t),
    SF("f1_rule", F_DBL, f1_rule),
    SF("f1_argmax", F_DBL, f1_argmax),
    SF("f1_hold", F_DBL, f1_hold),
    SF("f1_rsi", F_DBL, f1_rsi),
    SF("nll_cal", F_DBL, nll_cal),
    SF("nll_raw", F_DBL, nll_raw),
    SF_FIGS("rule", rule),
    SF_FIGS("argmax", argmax),
    SF_FIGS("hold", hold),
    SF_FIGS("rsi", rsi),
    SF("pair_trades.0", F_I64, pair_trades[0]),
    SF("pair_trades.1", F_I64, pair_trades[1]),
    SF("pair_trades.2", F_I64, pair_trades[2]),
    SF("pair_trades.3", F_I64, pair_trades[3]),
    SF("pair_trades.4", F_I64, pair_trades[4]),
    SF("pair_trades.5", F_I64, pair_trades[5]),
    SF("pair_trades.6", F_I64, pair_trades[6]),
    SF("pair_trades.7", F_I64, pair_trades[7]),
    SF("random.target_trades", F_I64, random.target_trades),
    SF("random.mean_trades", F_DBL, random.mean_trades),
    SF("random.median", F_DBL, random.median),
    SF("random.p05", F_DBL, random.p05),
    SF("random.p95", F_DBL, random.p95),
    SF("random.n_ge", F_I64, random.n_ge),
    SF("random.p_value", F_DBL, random.p_value),
};
#define N_STEP_FIELDS (sizeof step_fields / sizeof step_fields[0])
_Static_assert(TR_WF_MAX_PAIRS == 8, "one pair_trades line per pair");

static const char step_magic[] = "aifx-wf-step 1\n";

static char *step_text_make(const tr_wf_step *s, int n_draws)
{
    tr_sb b = {0};
    tr_sb_printf(&b, "%s", step_magic);
    for (size_t i = 0; i < N_STEP_FIELDS; i++) {
        const step_field *f = &step_fields[i];
        const char *p = (const char *)s + f->off;
        int64_t i64;
        int iv;
        double dv;
        switch (f->type) {
        case F_I64:
            memcpy(&i64, p, sizeof i64);
            tr_sb_printf(&b, "%s %" PRId64 "\n", f->name, i64);
            break;
        case F_INT:
            memcpy(&iv, p, sizeof iv);
            tr_sb_printf(&b, "%s %d\n", f->name, iv);
            break;
        case F_DBL:
            memcpy(&dv, p, sizeof dv);
            tr_sb_printf(&b, "%s %.17g\n", f->name, dv);
            break;
        default:
            tr_sb_printf(&b, "%s %s\n", f->name, p);
            break;
        }
    }
    for (int d = 0; d < n_draws; d++) {
        tr_sb_printf(&b, "draw %.17g", s->draws[d]);
        for (int p = 0; p < TR_WF_MAX_PAIRS; p++)
            tr_sb_printf(&b, " %d", (int)s->draw_want[(size_t)d * TR_WF_MAX_PAIRS + (size_t)p]);
        tr_sb_put(&b, "\n", 1);
    }
    const int8_t *preds[2] = {s->pred_rule, s->pred_argmax};
    for (int k = 0; k < 2; k++) {
        tr_sb_printf(&b, "%s ", k ? "pred_argmax" : "pred_rule");
        for (int64_t i = 0; i < s->n_windows; i++)
            tr_sb_put(&b, &"012"[preds[k][i]], 1);
        tr_sb_put(&b, "\n", 1);
    }
    tr_sb_printf(&b, "end\n");
    if (b.oom) {
        tr_sb_free(&b);
        return NULL;
    }
    return b.p;
}

/* Parses one field's value (the rest of the line at v) into s. */
static int field_parse(const step_field *f, const char *v, tr_wf_step *s)
{
    char *p = (char *)s + f->off, *end;
    errno = 0;
    if (f->type == F_STR) {
        size_t n = strcspn(v, "\n");
        if (n == 0 || n >= TR_VERSION_MAX)
            return -1;
        memcpy(p, v, n);
        p[n] = '\0';
        return 0;
    }
    if (f->type == F_DBL) {
        double d = strtod(v, &end);
        memcpy(p, &d, sizeof d);
    } else {
        long long x = strtoll(v, &end, 10);
        if (f->type == F_INT) {
            int iv = (int)x;
            memcpy(p, &iv, sizeof iv);
        } else {
            int64_t i64 = x;
            memcpy(p, &i64, sizeof i64);
        }
    }
    return end == v || *end != '\n' || errno ? -1 : 0;
}

/* Reads a step's file; TR_ERR_FORMAT naming it when it is not one of n_draws draws. */
static tr_code step_read(const char *path, int n_draws, tr_wf_step *s, tr_error *err)
{
    char *text;
    size_t len;
    tr_code rc = tr_file_read(path, &text, &len, err);
    if (rc)
        return rc;
    memset(s, 0, sizeof *s);
    int ok = strncmp(text, step_magic, sizeof step_magic - 1) == 0, seen_end = 0;
    int n_seen = 0, n_fields = 0;
    s->draws = calloc((size_t)n_draws, sizeof *s->draws);
    s->draw_want = calloc((size_t)n_draws * TR_WF_MAX_PAIRS, sizeof *s->draw_want);
    ok &= s->draws != NULL && s->draw_want != NULL;
    for (const char *p = text + sizeof step_magic - 1; ok && *p;) {
        const char *eol = strchr(p, '\n');
        if (!eol) {
            ok = 0;
            break;
        }
        const char *sp = memchr(p, ' ', (size_t)(eol - p));
        if (!sp && strncmp(p, "end\n", 4) == 0) {
            seen_end = eol[1] == '\0'; /* the last line */
            break;
        }
        if (!sp) {
            ok = 0;
            break;
        }
        size_t kn = (size_t)(sp - p);
        const char *v = sp + 1;
        if (kn == 4 && strncmp(p, "draw", 4) == 0) {
            char *end = NULL;
            ok = n_seen < n_draws;
            if (ok)
                s->draws[n_seen] = strtod(v, &end);
            for (int q = 0; ok && q < TR_WF_MAX_PAIRS; q++) {
                const char *x = end;
                long wv = strtol(x, &end, 10);
                ok = end != x && wv >= 0 && wv <= INT32_MAX;
                if (ok)
                    s->draw_want[(size_t)n_seen * TR_WF_MAX_PAIRS + (size_t)q] = (int32_t)wv;
            }
            ok = ok && *end == '\n';
            n_seen += ok;
        } else if ((kn == 9 && strncmp(p, "pred_rule", 9) == 0) ||
                   (kn == 11 && strncmp(p, "pred_argmax", 11) == 0)) {
            size_t n = (size_t)(eol - v);
            ok = s->n_windows >= 0 && n == (size_t)s->n_windows;
            int8_t *a = ok ? malloc(n ? n : 1) : NULL;
            ok &= a != NULL;
            for (size_t i = 0; ok && i < n; i++) {
                ok = v[i] >= '0' && v[i] <= '2';
                a[i] = (int8_t)(v[i] - '0');
            }
            int8_t **dst = kn == 9 ? &s->pred_rule : &s->pred_argmax;
            free(*dst);
            *dst = a;
        } else {
            const step_field *f = NULL;
            for (size_t i = 0; i < N_STEP_FIELDS && !f; i++)
                if (strlen(step_fields[i].name) == kn && strncmp(step_fields[i].name, p, kn) == 0)
                    f = &step_fields[i];
            ok = f && field_parse(f, v, s) == 0;
            n_fields++;
        }
        p = eol + 1;
    }
    free(text);
    if (!ok || !seen_end || n_seen != n_draws || n_fields != (int)N_STEP_FIELDS || !s->pred_rule ||
        !s->pred_argmax) {
        tr_wf_step_free(s);
        return tr_fail(err, TR_ERR_FORMAT,
                       "%s: not a walk-forward step file of %d draws (remove it to compute the "
                       "step again)",
                       path, n_draws);
    }
    return TR_OK;
}

/* ---- setup ---------------------------------------------------------------------------------- */

static void hyper_line(const tr_full_opts *f, char *out, size_t size)
{
    char rule[96];
    if (f->decision == TR_DECISION_ARGMAX)
        snprintf(rule, sizeof rule, "the calibrated argmax");
    else
        snprintf(rule, sizeof rule,
                 "cost-aware, its threshold chosen on at least %" PRId64 " validation trades",
                 f->min_trades > 0 ? f->min_trades : (int64_t)TR_RULE_MIN_TRADES);
    snprintf(out, size,
             "%d month%s of training, %d layer%s x %d hidden, batch %d, lr %g, dropout %g, at "
             "most %d epochs (patience %d, monitor %s), class weights ^%g, seed %" PRIu64
             ", decision rule %s",
             f->months, f->months == 1 ? "" : "s", f->n_layers, f->n_layers == 1 ? "" : "s",
             f->n_hidden, f->batch, (double)f->lr, (double)f->dropout, f->max_epochs, f->patience,
             f->monitor == AIFX_MONITOR_VAL_MACRO_F1 ? "macro_f1" : "loss", f->class_weight_power,
             f->seed, rule);
}

/* Checks the options; TR_ERR_INVALID naming the option at fault. */
static tr_code check_opts(const tr_wf_opts *o, tr_error *err)
{
    if (o->step_days < 0 || o->step_months < 0 || (o->step_days > 0) == (o->step_months > 0))
        return tr_fail(err, TR_ERR_INVALID,
                       "bad --step: a step of N days, weeks or months, N >= 1 (1w, 1m, 10d)");
    if (o->from >= o->to)
        return tr_fail(err, TR_ERR_INVALID, "--to must be after --from");
    if (o->draws < 1 || o->draws > 1000000)
        return tr_fail(err, TR_ERR_INVALID, "bad --draws %d (1..1000000)", o->draws);
    if (o->n_pairs < 0 || o->n_pairs > TR_WF_MAX_PAIRS || (o->n_pairs && !o->pairs))
        return tr_fail(err, TR_ERR_INVALID, "bad --pair: 1 to %d pairs", TR_WF_MAX_PAIRS);
    if (o->full.months < 1 || o->full.months > 120)
        return tr_fail(err, TR_ERR_INVALID, "bad --months %d (1..120)", o->full.months);
    if (o->full.max_epochs < 1 || o->full.max_epochs > TR_HISTORY_MAX)
        return tr_fail(err, TR_ERR_INVALID, "bad --epochs %d (1..%d)", o->full.max_epochs,
                       TR_HISTORY_MAX);
    if (o->full.timeframe <= 0)
        return tr_fail(err, TR_ERR_INVALID, "bad timeframe %d", (int)o->full.timeframe);
    size_t n = tr_wf_steps(o, NULL, 0);
    if (n > WF_MAX_STEPS)
        return tr_fail(err, TR_ERR_INVALID, "--step: more than %d steps from --from to --to",
                       WF_MAX_STEPS);
    return TR_OK;
}

/* The pairs: the given ones, each stored at the timeframe (else TR_ERR_NOTFOUND naming it), or
 * every pair stored there. */
static tr_code resolve_pairs(wf *w, tr_error *err)
{
    const tr_wf_opts *o = w->o;
    tr_wf_result *r = w->res;
    char stored[64][TR_PAIR_MAX];
    int n_stored = 0;
    tr_code rc = tr_store_pairs(w->src, o->full.timeframe, stored, 64, &n_stored, err);
    if (rc == TR_ERR_NOTFOUND && o->n_pairs)
        n_stored = 0, rc = TR_OK;
    if (rc)
        return rc;
    if (!o->n_pairs) {
        if (n_stored > TR_WF_MAX_PAIRS)
            return tr_fail(err, TR_ERR_INVALID,
                           "the store holds %d pairs: choose at most %d with --pair", n_stored,
                           TR_WF_MAX_PAIRS);
        for (int i = 0; i < n_stored; i++)
            snprintf(r->pairs[i], TR_PAIR_MAX, "%s", stored[i]);
        r->n_pairs = n_stored;
    } else {
        for (int i = 0; i < o->n_pairs; i++) {
            const char *p = o->pairs[i];
            int found = 0;
            for (int j = 0; j < n_stored && !found; j++)
                found = strcmp(stored[j], p) == 0;
            if (!found) {
                char tf[16];
                return tr_fail(err, TR_ERR_NOTFOUND, "--pair %.15s: no bars of it at %s in %s", p,
                               tr_timeframe_name(o->full.timeframe, tf, sizeof tf),
                               tr_store_name(w->src));
            }
            for (int j = 0; j < i; j++)
                if (strcmp(o->pairs[j], p) == 0)
                    return tr_fail(err, TR_ERR_INVALID, "--pair %.15s given twice", p);
            snprintf(r->pairs[i], TR_PAIR_MAX, "%s", p);
        }
        r->n_pairs = o->n_pairs;
    }
    for (int i = 0; i < r->n_pairs; i++)
        w->pp[i] = r->pairs[i];
    return TR_OK;
}

/* The arguments as text (the work directory's key is their CRC-32). */
static void args_text(const wf *w, char *out, size_t size)
{
    const tr_wf_opts *o = w->o;
    const tr_wf_result *r = w->res;
    char pairs[TR_WF_MAX_PAIRS * TR_PAIR_MAX + 8] = "";
    for (int i = 0; i < r->n_pairs; i++) {
        if (i)
            strcat(pairs, ",");
        strcat(pairs, r->pairs[i]);
    }
    const tr_full_opts *f = &o->full;
    snprintf(out, size,
             "aifx-walkforward 1\nstore %s\nfrom %" PRId64 "\nto %" PRId64
             "\nstep %s\npairs %s\ntimeframe %d\nmonths %d\nlabels %s\nlayers %d\nhidden %d\n"
             "batch %d\nlr %.9g\ndropout %.9g\nepochs %d\npatience %d\nmonitor %d\n"
             "class_weight_power %.17g\nseed %" PRIu64 "\ndraws %d\ndecision %s\n"
             "rule_min_trades %" PRId64 "\n",
             tr_store_name(w->src), o->from, o->to, r->step_text, pairs, (int)f->timeframe,
             f->months, tr_label_kind_name(f->labels), f->n_layers, f->n_hidden, f->batch,
             (double)f->lr, (double)f->dropout, f->max_epochs, f->patience, f->monitor,
             f->class_weight_power, f->seed, o->draws, tr_decision_name(f->decision),
             f->min_trades);
}

/* The work directory <work>/wf-<key>, its arguments file (the same arguments, or a conflict),
 * the work store and its lock. */
static tr_code open_work(wf *w, tr_error *err)
{
    const tr_wf_opts *o = w->o;
    char base[4096];
    tr_code rc = TR_OK;
    if (o->work && o->work[0]) {
        snprintf(base, sizeof base, "%s", o->work);
    } else if (tr_store_location_is_pg(tr_store_name(w->src))) {
        return tr_fail(err, TR_ERR_INVALID,
                       "--work: a PostgreSQL store needs a work directory for the walk");
    } else {
        rc = tr_store_path(w->src, TR_AREA_RUNS, "walkforward", base, sizeof base, err);
        if (rc)
            return rc;
    }
    args_text(w, w->args, sizeof w->args);
    uint32_t crc = aifx_crc32(0, w->args, strlen(w->args));
    snprintf(w->res->key, sizeof w->res->key, "%08x", (unsigned)crc);
    int n = snprintf(w->dir, sizeof w->dir, "%s/wf-%s", base, w->res->key);
    if (n < 0 || (size_t)n >= sizeof w->dir - 64)
        return tr_fail(err, TR_ERR_INVALID, "--work: the path %s is too long", base);
    snprintf(w->res->work_dir, sizeof w->res->work_dir, "%s", w->dir);
    rc = tr_mkdir_p(w->dir, err);
    if (rc)
        return rc;
    char path[4500];
    snprintf(path, sizeof path, "%s/args", w->dir);
    char *text;
    size_t len;
    rc = tr_file_read(path, &text, &len, err);
    if (rc == TR_ERR_NOTFOUND) {
        rc = tr_file_write_atomic(path, w->args, strlen(w->args), err);
    } else if (!rc) {
        int same = strcmp(text, w->args) == 0;
        free(text);
        if (!same)
            return tr_fail(err, TR_ERR_CONFLICT,
                           "%s holds the walk of other arguments (the same key): remove it", path);
    }
    if (rc)
        return rc;
    snprintf(path, sizeof path, "%s/store", w->dir);
    tr_store_options so = {.create = 1};
    rc = tr_store_open(path, &so, &w->work, err);
    if (!rc)
        rc = tr_store_cycle_lock(w->work, "walkforward", &w->lock, err);
    return rc;
}

/* Copies the pairs' bars once: from the first training window's start, less the warm-up, to
 * WF_LABEL_AHEAD past `to`; a file "bars.done" records that it happened. */
static tr_code copy_bars(wf *w, tr_error *err)
{
    const tr_wf_opts *o = w->o;
    char done[4500];
    snprintf(done, sizeof done, "%s/bars.done", w->dir);
    char *text;
    size_t len;
    if (tr_file_read(done, &text, &len, NULL) == TR_OK) {
        free(text);
        return TR_OK;
    }
    int window = tr_dataset_options_default().window;
    int64_t warm = 2 * (int64_t)(TR_FEATURE_WARMUP + window) * o->full.timeframe + 7 * 86400;
    int64_t lo = tr_time_minus_months(o->from, o->full.months) - warm;
    int64_t hi = o->to + WF_LABEL_AHEAD;
    stage(w, "copying the bars of %d pair%s into the work store", w->res->n_pairs,
          w->res->n_pairs == 1 ? "" : "s");
    for (int i = 0; i < w->res->n_pairs; i++) {
        tr_bars bars = {0};
        tr_put_stats ps;
        tr_code rc = tr_store_bars_get(w->src, w->pp[i], o->full.timeframe, lo, hi, &bars, err);
        if (!rc && bars.n == 0)
            rc = tr_fail(err, TR_ERR_NOTFOUND, "--pair %s: no bars from %s to %s", w->pp[i],
                         "the training window", "--to");
        if (!rc)
            rc = tr_store_bars_put(w->work, w->pp[i], o->full.timeframe, bars.v, bars.n, 0, &ps,
                                   err);
        tr_bars_free(&bars);
        if (rc)
            return rc;
    }
    return tr_file_write_atomic(done, "done\n", 5, err);
}

/* D, the range's windows and their steps. */
static tr_code build_scoring(wf *w, tr_error *err)
{
    const tr_wf_opts *o = w->o;
    tr_dataset_options d = tr_dataset_options_default();
    d.from = o->from;
    d.to = o->to + WF_LABEL_AHEAD;
    d.no_split = 1;
    d.empty_ok = 1;
    d.label.kind = o->full.labels;
    stage(w, "building the scored windows");
    tr_code rc =
        tr_dataset_build(w->work, w->pp, w->res->n_pairs, o->full.timeframe, &d, &w->ds, err);
    if (!rc && w->ds)
        rc = tr_rows_make(w->ds, &w->rows, err);
    if (rc)
        return rc;
    size_t n = w->ds ? w->ds->n[TR_SPLIT_TEST] : 0;
    w->range = malloc((n ? n : 1) * sizeof *w->range);
    w->step_of = malloc((n ? n : 1) * sizeof *w->step_of);
    w->by_step = malloc((n ? n : 1) * sizeof *w->by_step);
    w->by_step_at = malloc((n ? n : 1) * sizeof *w->by_step_at);
    w->step_off = calloc(w->n_steps + 1, sizeof *w->step_off);
    if (!w->range || !w->step_of || !w->by_step || !w->by_step_at || !w->step_off)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory for %zu windows", n);
    for (size_t i = 0; i < n; i++) {
        tr_sample s = w->ds->samples[TR_SPLIT_TEST][i];
        int64_t t = sample_time(w->ds, s);
        if (t < o->from || t >= o->to)
            continue;
        size_t k = 0;
        while (k + 1 < w->n_steps && w->starts[k + 1] <= t)
            k++;
        w->range[w->n_range] = s;
        w->step_of[w->n_range++] = (uint32_t)k;
        w->step_off[k + 1]++;
    }
    for (size_t k = 0; k < w->n_steps; k++)
        w->step_off[k + 1] += w->step_off[k];
    size_t *fill = calloc(w->n_steps ? w->n_steps : 1, sizeof *fill);
    if (!fill)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory for %zu windows", n);
    for (size_t i = 0; i < w->n_range; i++) {
        size_t k = w->step_of[i], j = w->step_off[k] + fill[k]++;
        w->by_step[j] = w->range[i];
        w->by_step_at[j] = i;
    }
    free(fill);
    return TR_OK;
}

/* Step k's windows, in D's order (n of them). */
static tr_sample *step_samples(const wf *w, size_t k, size_t *n)
{
    *n = w->step_off[k + 1] - w->step_off[k];
    return w->by_step + w->step_off[k];
}

/* ---- one step ------------------------------------------------------------------------------- */

/* The version of the work store trained as of t (a full version, usable), or NULL. */
static const tr_version *version_as_of(const tr_registry *reg, int64_t t)
{
    for (size_t i = reg->n_versions; i-- > 0;) {
        const tr_version *v = &reg->versions[i];
        if (v->type == TR_VT_FULL && v->as_of == t &&
            (v->status == TR_VS_COMPLETED || v->status == TR_VS_DEPLOYED))
            return v;
    }
    return NULL;
}

/* Trains (or finds) step k's version into *rec. */
static tr_code step_version(wf *w, size_t k, tr_version *rec, tr_error *err)
{
    tr_registry reg;
    tr_code rc = tr_store_registry_read(w->work, &reg, err);
    if (rc)
        return rc;
    const tr_version *v = version_as_of(&reg, w->starts[k]);
    if (v)
        *rec = *v;
    tr_registry_free(&reg);
    if (v)
        return TR_OK;
    tr_full_opts f = w->o->full;
    f.as_of = w->starts[k];
    f.resume = 1; /* continues an interrupted run as of t_k; a fresh run when there is none */
    f.version_base = NULL;
    f.ab = 0;
    f.on_event = w->o->on_event;
    f.user = w->o->user;
    tr_cycle_result *res = calloc(1, sizeof *res);
    if (!res)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory");
    rc = tr_cycle_full(w->work, &f, res, err);
    if (!rc)
        *rec = res->rec;
    free(res);
    return rc;
}

static tr_code step_compute(wf *w, size_t k, tr_wf_step *s, tr_error *err)
{
    const tr_wf_opts *o = w->o;
    memset(s, 0, sizeof *s);
    s->start = w->starts[k];
    s->end = w->starts[k + 1];
    tr_version *rec = malloc(sizeof *rec);
    size_t n = 0, *idx = NULL;
    tr_sample *sm = step_samples(w, k, &n);
    aifx_model *m = NULL;
    float *probs = NULL;
    int8_t *pred = NULL, *sig = NULL;
    int32_t *y = NULL;
    tr_code rc = TR_OK;
    s->draws = calloc((size_t)o->draws, sizeof *s->draws);
    s->draw_want = calloc((size_t)o->draws * TR_WF_MAX_PAIRS, sizeof *s->draw_want);
    s->pred_rule = malloc(n ? n : 1);
    sig = malloc(n ? n : 1);
    idx = malloc((n ? n : 1) * sizeof *idx);
    if (!rec || !s->draws || !s->draw_want || !s->pred_rule || !sig || !idx) {
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory");
        goto done;
    }
    rc = step_version(w, k, rec, err);
    if (!rc)
        rc = tr_checkpoint_load(w->work, rec, &m, err);
    if (rc)
        goto done;
    snprintf(s->version, sizeof s->version, "%s", rec->version);
    s->data_from = rec->data_from;
    s->data_to = rec->data_to;
    s->epochs = rec->epochs;
    s->best_epoch = rec->best_epoch;
    tr_rule rule = rec->rule; /* a version from before rules reads as the identity */
    s->temperature = rule.temperature;
    s->threshold = rule.threshold;
    s->no_edge = rule.no_edge;
    s->n_windows = (int64_t)n;
    tr_dataset v = w->ds ? view_of(w->ds, sm, n) : (tr_dataset){0};
    if (n) {
        s->first_t = sample_time(w->ds, sm[0]);
        s->last_t = s->first_t;
        for (size_t i = 0; i < n; i++) {
            int64_t t = sample_time(w->ds, sm[i]);
            s->first_t = t < s->first_t ? t : s->first_t;
            s->last_t = t > s->last_t ? t : s->last_t;
        }
        rc = tr_predict_split(m, &v, &w->rows, TR_SPLIT_TEST, &probs, &pred, err);
        if (rc)
            goto done;
        y = tr_split_labels(&v, TR_SPLIT_TEST);
        if (!y) {
            rc = tr_fail(err, TR_ERR_NOMEM, "out of memory");
            goto done;
        }
    }
    s->pred_argmax = pred ? pred : malloc(1);
    pred = NULL;
    if (!s->pred_argmax) {
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        s->pred_rule[i] = (int8_t)tr_rule_decide(&rule, probs + 3 * i, NULL);
    s->f1_rule = macro_f1(n, y, s->pred_rule);
    s->f1_argmax = macro_f1(n, y, s->pred_argmax);
    s->nll_cal = n ? tr_nll(probs, y, n, rule.temperature) : NAN;
    s->nll_raw = n ? tr_nll(probs, y, n, 1.0) : NAN;
    tr_bt_figs per_pair[TR_WF_MAX_PAIRS];
    memset(per_pair, 0, sizeof per_pair);
    if (n) {
        rc = backtest(&v, s->pred_rule, &s->rule, per_pair, NULL, err);
        for (int p = 0; p < w->res->n_pairs; p++)
            s->pair_trades[p] = per_pair[p].trades;
        if (!rc)
            rc = backtest(&v, s->pred_argmax, &s->argmax, NULL, NULL, err);
        memset(sig, TR_LABEL_HOLD, n);
        s->f1_hold = macro_f1(n, y, sig);
        if (!rc)
            rc = backtest(&v, sig, &s->hold, NULL, NULL, err);
        tr_baseline_rsi(&v, TR_SPLIT_TEST, sig);
        s->f1_rsi = macro_f1(n, y, sig);
        if (!rc)
            rc = backtest(&v, sig, &s->rsi, NULL, NULL, err);
    } else {
        s->f1_hold = s->f1_rsi = NAN;
    }
    if (rc)
        goto done;
    double trades = 0;
    for (int d = 0; d < o->draws && n; d++) {
        tr_wf_figs f;
        int32_t *want = s->draw_want + (size_t)d * TR_WF_MAX_PAIRS;
        for (int p = 0; p < TR_WF_MAX_PAIRS; p++)
            want[p] = (int32_t)s->pair_trades[p];
        /* an entry that falls into an open position of its direction opens nothing: top the
         * short pairs up with further entries of the same shuffle, a few rounds at most */
        for (int round = 0;; round++) {
            random_signals(o->full.seed, k, d, &v, want, sig, idx);
            rc = backtest(&v, sig, &f, per_pair, NULL, err);
            if (rc)
                goto done;
            int short_of = 0;
            for (int p = 0; p < w->res->n_pairs; p++)
                if (per_pair[p].trades < s->pair_trades[p]) {
                    want[p] += (int32_t)(s->pair_trades[p] - per_pair[p].trades);
                    short_of = 1;
                }
            if (!short_of || round == WF_TOPUP_ROUNDS)
                break;
        }
        s->draws[d] = f.net_pips;
        trades += (double)f.trades;
    }
    rc = random_summary(s->draws, (size_t)o->draws, s->rule.net_pips, trades / o->draws,
                        s->rule.trades, &s->random, err);
done:
    if (rc)
        tr_wf_step_free(s);
    free(rec);
    free(idx);
    free(sig);
    free(probs);
    free(pred);
    free(y);
    aifx_model_free(m);
    return rc;
}

/* ---- the whole range ------------------------------------------------------------------------ */

/* The signals of all steps in D-range order: step k's n_k signals fill its windows in order. */
static void stitch(const wf *w, int which, int8_t *out)
{
    for (size_t k = 0; k < w->n_steps; k++) {
        const tr_wf_step *s = &w->res->steps[k];
        for (size_t j = w->step_off[k]; j < w->step_off[k + 1]; j++)
            out[w->by_step_at[j]] = (which ? s->pred_argmax : s->pred_rule)[j - w->step_off[k]];
    }
}

static tr_code curve_from(const tr_equity *eq, tr_wf_curve *c, tr_error *err)
{
    c->n = eq->n;
    c->t = malloc((eq->n ? eq->n : 1) * sizeof *c->t);
    c->pips = malloc((eq->n ? eq->n : 1) * sizeof *c->pips);
    if (!c->t || !c->pips)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory");
    if (eq->n) {
        memcpy(c->t, eq->t, eq->n * sizeof *c->t);
        memcpy(c->pips, eq->pips, eq->n * sizeof *c->pips);
    }
    return TR_OK;
}

static tr_code whole_range(wf *w, tr_error *err)
{
    const tr_wf_opts *o = w->o;
    tr_wf_result *r = w->res;
    size_t n = w->n_range;
    tr_dataset v = w->ds ? view_of(w->ds, w->range, n) : (tr_dataset){0};
    int8_t *sig = malloc(n ? n : 1), *part = malloc(n ? n : 1);
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    int32_t *y = n ? tr_split_labels(&v, TR_SPLIT_TEST) : NULL;
    /* the random median curve: a point a day (fewer for a long walk of many draws) */
    int64_t stride =
        86400 * (1 + (int64_t)((double)(o->to - o->from) / 86400.0 * (double)o->draws / 4e6));
    size_t n_days = (size_t)((o->to - o->from + stride - 1) / stride) + 1;
    double *grid = NULL;
    tr_equity eq = {0};
    tr_code rc = TR_OK;
    r->draws = calloc((size_t)o->draws, sizeof *r->draws);
    grid = calloc(n_days * (size_t)o->draws, sizeof *grid);
    if (!sig || !part || !idx || !r->draws || !grid || (n && !y)) {
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory");
        goto done;
    }
    r->n_windows = (int64_t)n;
    double nll_cal = 0, nll_raw = 0;
    for (size_t k = 0; k < w->n_steps; k++) {
        const tr_wf_step *s = &r->steps[k];
        if (s->n_windows) {
            nll_cal += (double)s->n_windows * s->nll_cal;
            nll_raw += (double)s->n_windows * s->nll_raw;
        }
    }
    r->nll_cal = n ? nll_cal / (double)n : NAN;
    r->nll_raw = n ? nll_raw / (double)n : NAN;
    tr_wf_figs *figs[4] = {&r->rule, &r->argmax, &r->hold, &r->rsi};
    double *f1[4] = {&r->f1_rule, &r->f1_argmax, &r->f1_hold, &r->f1_rsi};
    for (int which = 0; which < 4; which++) {
        if (which < 2)
            stitch(w, which, sig);
        else if (which == 2)
            memset(sig, TR_LABEL_HOLD, n);
        else if (n)
            tr_baseline_rsi(&v, TR_SPLIT_TEST, sig);
        *f1[which] = macro_f1(n, y, sig);
        if (!n)
            continue;
        int curve = which == 0 ? TR_WF_CURVE_RULE : which == 1 ? TR_WF_CURVE_ARGMAX : -1;
        if (which == 3)
            curve = TR_WF_CURVE_RSI;
        rc = backtest(&v, sig, figs[which], NULL, curve >= 0 ? &eq : NULL, err);
        if (!rc && curve >= 0)
            rc = curve_from(&eq, &r->curve[curve], err);
        tr_equity_free(&eq);
        if (rc)
            goto done;
    }
    /* the random draws over the whole range: draw d is its entries of every step */
    stage(w, "the random baseline over the whole range (%d draws)", o->draws);
    double trades = 0;
    for (int d = 0; d < o->draws && n; d++) {
        for (size_t k = 0; k < w->n_steps; k++) {
            size_t m;
            tr_sample *sub = step_samples(w, k, &m);
            if (!m)
                continue;
            tr_dataset sv = view_of(w->ds, sub, m);
            random_signals(o->full.seed, k, d, &sv,
                           r->steps[k].draw_want + (size_t)d * TR_WF_MAX_PAIRS, part, idx);
            for (size_t j = 0; j < m; j++)
                sig[w->by_step_at[w->step_off[k] + j]] = part[j];
        }
        tr_wf_figs f;
        rc = backtest(&v, sig, &f, NULL, &eq, err);
        if (rc)
            goto done;
        r->draws[d] = f.net_pips;
        trades += (double)f.trades;
        /* cumulative net pips at each day's end from `from` */
        size_t t = 0;
        double cum = 0;
        for (size_t g = 0; g < n_days; g++) {
            int64_t at = o->from + (int64_t)g * stride;
            if (at > o->to)
                at = o->to;
            while (t < eq.n && eq.t[t] < at)
                cum = eq.pips[t++];
            grid[g * (size_t)o->draws + (size_t)d] = cum;
        }
        tr_equity_free(&eq);
    }
    rc = random_summary(r->draws, (size_t)o->draws, r->rule.net_pips, trades / o->draws,
                        r->rule.trades, &r->random, err);
    if (rc)
        goto done;
    tr_wf_curve *c = &r->curve[TR_WF_CURVE_RANDOM];
    c->t = malloc(n_days * sizeof *c->t);
    c->pips = malloc(n_days * sizeof *c->pips);
    if (!c->t || !c->pips) {
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory");
        goto done;
    }
    c->n = n_days;
    for (size_t g = 0; g < n_days; g++) {
        double *row = grid + g * (size_t)o->draws;
        qsort(row, (size_t)o->draws, sizeof *row, cmp_double);
        int64_t at = o->from + (int64_t)g * stride;
        c->t[g] = at > o->to ? o->to : at;
        c->pips[g] = quantile(row, (size_t)o->draws, 0.5);
    }
done:
    tr_equity_free(&eq);
    free(sig);
    free(part);
    free(idx);
    free(y);
    free(grid);
    return rc;
}

/* ---- the run -------------------------------------------------------------------------------- */

void tr_wf_step_free(tr_wf_step *s)
{
    if (!s)
        return;
    free(s->draws);
    free(s->draw_want);
    free(s->pred_rule);
    free(s->pred_argmax);
    s->draws = NULL;
    s->draw_want = NULL;
    s->pred_rule = s->pred_argmax = NULL;
}

void tr_wf_result_free(tr_wf_result *r)
{
    if (!r)
        return;
    for (size_t k = 0; k < r->n_steps && r->steps; k++)
        tr_wf_step_free(&r->steps[k]);
    free(r->steps);
    free(r->draws);
    for (int c = 0; c < TR_WF_N_CURVES; c++) {
        free(r->curve[c].t);
        free(r->curve[c].pips);
    }
    memset(r, 0, sizeof *r);
}

static tr_code run_steps(wf *w, tr_error *err)
{
    tr_wf_result *r = w->res;
    char t0[32], t1[32];
    for (size_t k = 0; k < w->n_steps; k++) {
        char path[4500];
        snprintf(path, sizeof path, "%s/step-%03zu.txt", w->dir, k);
        tr_wf_step *s = &r->steps[k];
        tr_code rc = step_read(path, w->o->draws, s, err);
        if (rc == TR_OK) {
            if (s->start != w->starts[k] || s->end != w->starts[k + 1] ||
                s->n_windows != (int64_t)(w->step_off[k + 1] - w->step_off[k]))
                return tr_fail(err, TR_ERR_FORMAT, "%s: the step of another walk", path);
            r->n_resumed++;
            continue;
        }
        if (rc != TR_ERR_NOTFOUND)
            return rc;
        stage(w, "step %zu/%zu: as of %s, scoring to %s", k + 1, w->n_steps,
              tr_time_format(w->starts[k], t0, sizeof t0),
              tr_time_format(w->starts[k + 1], t1, sizeof t1));
        tr_error e;
        tr_error_clear(&e);
        rc = step_compute(w, k, s, &e);
        if (rc)
            return tr_fail(err, rc, "step %zu (as of %s): %s", k + 1, t0, e.msg);
        char *text = step_text_make(s, w->o->draws);
        if (!text)
            return tr_fail(err, TR_ERR_NOMEM, "out of memory");
        rc = tr_file_write_atomic(path, text, strlen(text), err);
        free(text);
        if (rc)
            return rc;
        if (tr_testhook_wf_step && tr_testhook_wf_step(k + 1))
            return tr_fail(err, TR_ERR_IO,
                           "walk stopped after step %zu by the test hook; run it again", k + 1);
    }
    return TR_OK;
}

tr_code tr_walkforward_run(tr_store *store, const tr_wf_opts *o, tr_wf_result *res, tr_error *err)
{
    tr_error local;
    if (!err)
        err = &local;
    memset(res, 0, sizeof *res);
    double t0 = tr_mono_now();
    tr_code rc = check_opts(o, err);
    if (rc)
        return rc;
    wf w;
    memset(&w, 0, sizeof w);
    w.o = o;
    w.src = store;
    w.res = res;
    w.lock = -1;
    res->from = o->from;
    res->to = o->to;
    step_text(o, res->step_text, sizeof res->step_text);
    res->timeframe = o->full.timeframe;
    res->months = o->full.months;
    res->labels = o->full.labels;
    res->n_draws = o->draws;
    res->seed = o->full.seed;
    hyper_line(&o->full, res->hyper, sizeof res->hyper);
    w.n_steps = tr_wf_steps(o, NULL, 0);
    w.starts = malloc((w.n_steps + 1) * sizeof *w.starts);
    res->steps = calloc(w.n_steps ? w.n_steps : 1, sizeof *res->steps);
    if (!w.starts || !res->steps) {
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory");
        goto done;
    }
    tr_wf_steps(o, w.starts, w.n_steps);
    w.starts[w.n_steps] = o->to;
    res->n_steps = w.n_steps;
    rc = resolve_pairs(&w, err);
    if (!rc)
        rc = open_work(&w, err);
    if (!rc)
        rc = copy_bars(&w, err);
    if (!rc)
        rc = build_scoring(&w, err);
    if (!rc)
        rc = run_steps(&w, err);
    if (!rc)
        rc = whole_range(&w, err);
    if (!rc) {
        char dir[4400];
        rc = tr_store_path(store, TR_AREA_REPORTS, NULL, dir, sizeof dir, err);
        if (!rc)
            rc = tr_mkdir_p(dir, err);
        res->seconds = tr_mono_now() - t0;
        if (!rc)
            rc = tr_wf_report_write(res, dir, err);
    }
done:
    res->seconds = tr_mono_now() - t0;
    if (rc)
        tr_wf_result_free(res);
    if (w.work)
        tr_store_cycle_unlock(w.work, w.lock);
    tr_store_close(w.work);
    tr_rows_free(&w.rows);
    tr_dataset_free(w.ds);
    free(w.starts);
    free(w.range);
    free(w.step_of);
    free(w.by_step);
    free(w.by_step_at);
    free(w.step_off);
    return rc;
}
