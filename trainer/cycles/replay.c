/*
 * replay.c - the replay of the loop on history (replay.h). One step per bar close; the work of a
 * step is one push of each pair's new bar into the pair's feature stream (market/featstream.h),
 * one LSTM window, and the position monitor from its first open signal; cycles run only when the
 * scheduler finds one due.
 *
 * The features of a prediction. predict computes them in batch over the last
 * TR_PREDICT_MAX_HISTORY bars (tr_predict_window). The replay keeps a stream per pair as
 * aifx-serve does (cycles/livefeat.c): built from those same last bars, extended one bar per
 * step, built anew after TR_PREDICT_MAX_HISTORY pushes. Its window equals the batch's bit for bit
 * (the seeds of the recursive indicators have decayed below a double's resolution after about
 * 700 bars: docs/features.md, "Streaming"; tests/trainer/check_livefeat.c and check_replay.c);
 * O(1) per bar instead of O(5,000).
 */
#define _POSIX_C_SOURCE 200809L

#include "cycles/replay.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aifxnn.h"
#include "base/csv.h"
#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "cycles/abtest.h"
#include "cycles/cycle.h"
#include "cycles/testhook.h"
#include "market/featstream.h"
#include "market/featureset.h"
#include "market/labels.h"
#include "market/outcome.h"
#include "report/timeline.h"

tr_replay_opts tr_replay_opts_default(void)
{
    tr_replay_opts o;
    memset(&o, 0, sizeof o);
    o.timeframe = 900;
    o.due = tr_due_opts_default();
    o.due.clock = tr_clock_as_of; /* the simulated clock stands at each slot time */
    o.flush_steps = 96;
    return o;
}

void tr_replay_result_free(tr_replay_result *r)
{
    if (!r)
        return;
    free(r->timeline);
    r->timeline = NULL;
}

typedef struct series {
    char pair[TR_PAIR_MAX];
    tr_bars bars;                /* the whole file */
    double *atr;                 /* (bars.n) ATR(14), as the backtest's */
    size_t nv;                   /* bars visible at the clock */
    size_t n_sync;               /* bars known to be in the store */
    tr_signal *sigs;             /* (n_sigs) this pair's signals, ascending bar time */
    unsigned char *dirty;        /* (n_sigs) outcome changed since the last write */
    size_t n_sigs, cap, n_saved; /* sigs[0, n_saved) are in the store */
    size_t first_open;           /* sigs[0, first_open) have final outcomes */
    tr_bt_params bt;
    tr_featstream *fs; /* features of bars [fs_from, fs_to); NULL until the first prediction */
    size_t fs_from, fs_to;
} series;

enum { REPLAY_KEEP_ROWS = 256 }; /* the longest window the stream serves (livefeat's) */

#define REPLAY_MODELS 8

typedef struct replay {
    tr_store *store;
    const tr_replay_opts *o;
    series s[TR_REPLAY_MAX_PAIRS];
    int n;
    tr_registry reg; /* as of the last cycle run: the active version, the A/B tests */
    char active[TR_VERSION_MAX];
    struct {
        char version[TR_VERSION_MAX];
        aifx_model *m;
    } cache[REPLAY_MODELS]; /* the models that serve: the active one and A/B arms */
    int n_steps_model;      /* the largest T of the cached models */
    double *feat;           /* (TR_PREDICT_MAX_HISTORY, TR_N_FEATURES) */
    float *x;               /* (T, TR_N_FEATURES) */
    char state_path[4200];
    char state_key[512];
} replay;

static void replay_free(replay *r)
{
    for (int i = 0; i < r->n; i++) {
        tr_bars_free(&r->s[i].bars);
        free(r->s[i].atr);
        free(r->s[i].sigs);
        free(r->s[i].dirty);
        tr_featstream_free(r->s[i].fs);
    }
    for (int i = 0; i < REPLAY_MODELS; i++)
        aifx_model_free(r->cache[i].m);
    tr_registry_free(&r->reg);
    free(r->feat);
    free(r->x);
}

/* ---- loading ----------------------------------------------------------------------------- */

static tr_code load_series(replay *r, int i, tr_error *err)
{
    const tr_replay_opts *o = r->o;
    series *s = &r->s[i];
    snprintf(s->pair, sizeof s->pair, "%s", o->pair[i]);
    tr_csv_options co = tr_csv_options_default(o->timeframe);
    tr_csv_data d;
    tr_code rc = tr_csv_read(o->csv[i], &co, &d, err);
    if (rc)
        return rc;
    s->bars = d.bars;
    memset(&d.bars, 0, sizeof d.bars);
    tr_csv_data_free(&d);
    size_t n = s->bars.n;
    s->atr = malloc((n ? n : 1) * sizeof *s->atr);
    if (!s->atr)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory for %s", o->csv[i]);
    rc = tr_outcome_atr(s->bars.v, n, s->atr, err);
    if (rc)
        return rc;
    s->bt = tr_bt_params_for_pair(s->pair);
    /* the signals already stored for the pair (a resumed replay's) */
    rc = tr_store_signals_get(r->store, s->pair, INT64_MIN, INT64_MAX, &s->sigs, &s->n_sigs, err);
    if (rc)
        return rc;
    tr_signals_sort(s->sigs, s->n_sigs);
    s->cap = s->n_sigs;
    s->n_saved = s->n_sigs;
    s->dirty = calloc(s->n_sigs ? s->n_sigs : 1, 1);
    if (!s->dirty)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory");
    return TR_OK;
}

/* ---- state ----------------------------------------------------------------------------------- */

static tr_code state_write(replay *r, int64_t clock, int done, tr_error *err)
{
    char text[700];
    int n = snprintf(text, sizeof text, "%s\tclock=%lld\tdone=%d\n", r->state_key, (long long)clock,
                     done);
    return tr_file_write_atomic(r->state_path, text, (size_t)n, err);
}

/* *clock: the stored clock when the state matches the arguments; TR_ERR_CONFLICT when it does
 * not; TR_ERR_NOTFOUND when there is none. */
static tr_code state_read(replay *r, int64_t *clock, int *done, tr_error *err)
{
    char *text = NULL;
    size_t len;
    tr_code rc = tr_file_read(r->state_path, &text, &len, err);
    if (rc)
        return rc;
    size_t kl = strlen(r->state_key);
    long long c = 0;
    int d = 0;
    if (len <= kl || memcmp(text, r->state_key, kl) != 0 ||
        sscanf(text + kl, "\tclock=%lld\tdone=%d", &c, &d) != 2) {
        rc = tr_fail(err, TR_ERR_CONFLICT,
                     "%s holds a replay with other arguments (%.*s); use another store or "
                     "remove that file",
                     r->state_path, (int)strcspn(text, "\n"), text);
        free(text);
        return rc;
    }
    free(text);
    *clock = (int64_t)c;
    *done = d;
    return TR_OK;
}

/* ---- writing signals --------------------------------------------------------------------- */

static tr_code flush(replay *r, int64_t clock, tr_error *err)
{
    size_t n_new = 0, n_upd = 0;
    for (int i = 0; i < r->n; i++) {
        series *s = &r->s[i];
        n_new += s->n_sigs - s->n_saved;
        for (size_t k = 0; k < s->n_saved; k++)
            n_upd += s->dirty[k];
    }
    size_t total = n_new > n_upd ? n_new : n_upd;
    tr_signal *buf = malloc((total ? total : 1) * sizeof *buf);
    if (!buf)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory writing signals");
    size_t j = 0;
    for (int i = 0; i < r->n; i++)
        for (size_t k = r->s[i].n_saved; k < r->s[i].n_sigs; k++)
            buf[j++] = r->s[i].sigs[k];
    tr_code rc = tr_store_signals_append(r->store, buf, n_new, err);
    if (rc)
        goto done;
    j = 0;
    for (int i = 0; i < r->n; i++) {
        series *s = &r->s[i];
        for (size_t k = s->n_saved; k < s->n_sigs; k++) {
            s->sigs[k].id = buf[j++].id;
            s->dirty[k] = 0;
        }
    }
    j = 0;
    for (int i = 0; i < r->n; i++)
        for (size_t k = 0; k < r->s[i].n_saved; k++)
            if (r->s[i].dirty[k])
                buf[j++] = r->s[i].sigs[k];
    rc = tr_store_signals_update(r->store, buf, n_upd, err);
    if (rc)
        goto done;
    for (int i = 0; i < r->n; i++) {
        series *s = &r->s[i];
        memset(s->dirty, 0, s->n_sigs);
        s->n_saved = s->n_sigs;
    }
    rc = state_write(r, clock, 0, err);
done:
    free(buf);
    return rc;
}

/* Ingests the visible bars not yet in the store. */
static tr_code sync_bars(replay *r, tr_error *err)
{
    for (int i = 0; i < r->n; i++) {
        series *s = &r->s[i];
        if (s->nv <= s->n_sync)
            continue;
        tr_put_stats ps;
        tr_code rc = tr_store_bars_put(r->store, s->pair, r->o->timeframe, s->bars.v + s->n_sync,
                                       s->nv - s->n_sync, 0, &ps, err);
        if (rc)
            return rc;
        s->n_sync = s->nv;
    }
    return TR_OK;
}

/* ---- the model ---------------------------------------------------------------------------- */

/* The cached model of version, or NULL. */
static aifx_model *cached(const replay *r, const char *version)
{
    for (int i = 0; i < REPLAY_MODELS; i++)
        if (r->cache[i].m && strcmp(r->cache[i].version, version) == 0)
            return r->cache[i].m;
    return NULL;
}

/* Is version needed to serve (the active one, or an arm of a running A/B test)? */
static int serving(const tr_registry *reg, const char *version)
{
    const tr_version *a = tr_registry_active(reg);
    return (a && strcmp(a->version, version) == 0) || tr_ab_test_of(reg, version) != NULL;
}

static tr_code load_one(replay *r, const tr_version *v, tr_error *err)
{
    if (cached(r, v->version))
        return TR_OK;
    int slot = -1;
    for (int i = 0; i < REPLAY_MODELS && slot < 0; i++)
        if (!r->cache[i].m)
            slot = i;
    if (slot < 0)
        return tr_fail(err, TR_ERR_INVALID, "replay: more than %d versions serve at once",
                       REPLAY_MODELS);
    aifx_model *m = NULL;
    tr_code rc = tr_checkpoint_load(r->store, v, &m, err);
    if (rc)
        return rc;
    aifx_model_config mc;
    aifx_model_get_config(m, &mc);
    if (mc.n_features != TR_N_FEATURES || mc.n_classes != 3) {
        aifx_model_free(m);
        return tr_fail(err, TR_ERR_FORMAT, "version %s is not a 38-feature, 3-class model",
                       v->version);
    }
    if (mc.n_steps > r->n_steps_model) {
        float *x = realloc(r->x, (size_t)mc.n_steps * TR_N_FEATURES * sizeof *x);
        if (!x) {
            aifx_model_free(m);
            return tr_fail(err, TR_ERR_NOMEM, "out of memory");
        }
        r->x = x;
        r->n_steps_model = mc.n_steps;
    }
    r->cache[slot].m = m;
    snprintf(r->cache[slot].version, sizeof r->cache[slot].version, "%s", v->version);
    return TR_OK;
}

/* Re-reads the registry and loads the models that serve now (the active version and the arms of
 * running A/B tests), dropping the others. */
static tr_code load_active(replay *r, tr_error *err)
{
    tr_registry reg;
    tr_code rc = tr_store_registry_read(r->store, &reg, err);
    if (rc)
        return rc;
    tr_registry_free(&r->reg);
    r->reg = reg;
    for (int i = 0; i < REPLAY_MODELS; i++)
        if (r->cache[i].m && !serving(&r->reg, r->cache[i].version)) {
            aifx_model_free(r->cache[i].m);
            r->cache[i].m = NULL;
        }
    const tr_version *a = tr_registry_active(&r->reg);
    snprintf(r->active, sizeof r->active, "%s", a ? a->version : "");
    for (size_t i = 0; i < r->reg.n_versions && !rc; i++)
        if (serving(&r->reg, r->reg.versions[i].version))
            rc = load_one(r, &r->reg.versions[i], err);
    return rc;
}

static tr_code push_signal(series *s, const tr_signal *g, tr_error *err)
{
    if (s->n_sigs == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 1024;
        tr_signal *v = realloc(s->sigs, nc * sizeof *v);
        if (!v)
            return tr_fail(err, TR_ERR_NOMEM, "out of memory for signals");
        s->sigs = v;
        unsigned char *d = realloc(s->dirty, nc);
        if (!d)
            return tr_fail(err, TR_ERR_NOMEM, "out of memory for signals");
        s->dirty = d;
        s->cap = nc;
    }
    s->dirty[s->n_sigs] = 0;
    s->sigs[s->n_sigs++] = *g;
    return TR_OK;
}

/* Brings the pair's stream to its visible bars: pushes the bars since the last step, or builds
 * it from the last TR_PREDICT_MAX_HISTORY visible bars (the batch's) when there is none yet,
 * when TR_PREDICT_MAX_HISTORY bars were pushed since it was built, or when more than that many
 * are missing. */
static tr_code stream_sync(series *s, tr_error *err)
{
    size_t nv = s->nv;
    tr_code rc = TR_OK;
    if (!s->fs || nv - s->fs_to > TR_PREDICT_MAX_HISTORY ||
        nv - s->fs_from > 2 * (size_t)TR_PREDICT_MAX_HISTORY) {
        tr_featstream_free(s->fs);
        s->fs = NULL;
        rc = tr_featstream_new(REPLAY_KEEP_ROWS, &s->fs, err);
        if (rc)
            return rc;
        s->fs_from = s->fs_to = nv > TR_PREDICT_MAX_HISTORY ? nv - TR_PREDICT_MAX_HISTORY : 0;
    }
    for (; !rc && s->fs_to < nv; s->fs_to++)
        rc = tr_featstream_push(s->fs, &s->bars.v[s->fs_to], NULL, err);
    if (rc) { /* a bar the stream refuses: none of it is kept */
        tr_featstream_free(s->fs);
        s->fs = NULL;
    }
    return rc;
}

/* tr_predict_window's result for the pair's visible bars, from the stream: the last T rows, the
 * model, the version's rule. TR_ERR_DATA for a non-finite feature, as the batch. */
static tr_code predict_stream(series *s, const aifx_model *m, const tr_rule *rule, float *x,
                              float probs[3], int *best, tr_error *err)
{
    aifx_model_config mc;
    aifx_model_get_config(m, &mc);
    tr_code rc = stream_sync(s, err);
    if (!rc)
        rc = tr_featstream_window(s->fs, (size_t)mc.n_steps, x, err);
    if (rc)
        return rc;
    return tr_predict_rows(m, rule, x, probs, best, err);
}

/* The signal of the version that serves the pair's newest visible bar (the active one, or an A/B
 * arm: tr_ab_serving, as predict does), through tr_predict_window (the code predict uses); no
 * signal where predict would refuse (too little history, a non-finite feature). */
static tr_code predict_bar(replay *r, series *s, int64_t clock, tr_error *err)
{
    if (s->nv == 0)
        return TR_OK;
    const tr_bar *last = &s->bars.v[s->nv - 1];
    const tr_ab_test *test = NULL;
    const char *version = tr_ab_serving(&r->reg, s->pair, last->t, &test);
    aifx_model *m = version ? cached(r, version) : NULL;
    if (!m)
        return TR_OK;
    aifx_model_config mc;
    aifx_model_get_config(m, &mc);
    if (s->nv < TR_PREDICT_MIN_HISTORY || s->nv < (size_t)TR_FEATURE_WARMUP + (size_t)mc.n_steps)
        return TR_OK;
    /* recorded before a restart: not twice */
    if (s->n_sigs && s->sigs[s->n_sigs - 1].bar_time >= last->t)
        return TR_OK;
    float probs[3];
    int best;
    tr_error skip;
    const tr_version *vr = tr_registry_find(&r->reg, version);
    tr_code rc = mc.n_steps <= REPLAY_KEEP_ROWS
                     ? predict_stream(s, m, vr ? &vr->rule : NULL, r->x, probs, &best, &skip)
                     : tr_predict_window(m, vr ? &vr->rule : NULL, s->pair, s->bars.v, s->nv,
                                         r->feat, r->x, probs, &best, &skip);
    if (rc == TR_ERR_DATA) /* a non-finite feature: predict would refuse, so no signal */
        return TR_OK;
    if (rc) {
        if (err)
            *err = skip;
        return rc;
    }
    tr_signal g;
    memset(&g, 0, sizeof g);
    snprintf(g.pair, sizeof g.pair, "%s", s->pair);
    g.timeframe = r->o->timeframe;
    g.bar_time = last->t;
    g.signal = best;
    g.confidence = probs[best];
    for (int k = 0; k < 3; k++)
        g.probs[k] = probs[k];
    snprintf(g.model_version, sizeof g.model_version, "%s", version);
    if (test)
        snprintf(g.ab_test_id, sizeof g.ab_test_id, "%s", test->id);
    g.created_at = clock;
    snprintf(g.outcome, sizeof g.outcome, "open");
    return push_signal(s, &g, err);
}

/* ---- the timeline ----------------------------------------------------------------------- */

_Static_assert(TR_REPLAY_MAX_PAIRS <= TR_TIMELINE_MAX_PAIRS, "the timeline holds every pair");

/* The timeline (report/timeline.h) from the store's registry, the replay's signals and each
 * A/B test's analysis at its end (or at the end of the replay while it runs). */
static tr_code build_timeline(replay *r, const tr_replay_result *res, tr_sb *b, tr_error *err)
{
    const tr_replay_opts *o = r->o;
    tr_registry reg;
    tr_code rc = tr_store_registry_read(r->store, &reg, err);
    if (rc)
        return rc;
    tr_timeline tl;
    memset(&tl, 0, sizeof tl);
    tl.from = o->from;
    tl.to = o->to;
    tl.timeframe = o->timeframe;
    tl.n_steps = res->n_steps;
    tl.n_steps_run = res->n_steps_run;
    tl.resumed = res->resumed;
    tl.seconds = res->seconds;
    tl.seconds_cycles = res->seconds_cycles;
    tl.seconds_predict = res->seconds_predict;
    tl.active = r->active;
    tl.reg = &reg;
    tl.n_pairs = r->n;
    for (int i = 0; i < r->n; i++) {
        tl.pair[i] = r->s[i].pair;
        tl.sigs[i] = r->s[i].sigs;
        tl.n_sigs[i] = r->s[i].n_sigs;
    }
    tr_ab_report *ab = calloc(reg.n_abtests ? reg.n_abtests : 1, sizeof *ab);
    int *ab_ok = calloc(reg.n_abtests ? reg.n_abtests : 1, sizeof *ab_ok);
    if (!ab || !ab_ok) {
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory");
    } else {
        for (size_t i = 0; i < reg.n_abtests; i++) {
            const tr_ab_test *t = &reg.abtests[i];
            tr_error ae;
            ab_ok[i] = tr_ab_analyse(r->store, t->id, t->ended_at ? t->ended_at : o->to, &ab[i],
                                     &ae) == TR_OK;
        }
        tl.ab = ab;
        tl.ab_ok = ab_ok;
        rc = tr_timeline_render(&tl, b, err);
    }
    free(ab);
    free(ab_ok);
    tr_registry_free(&reg);
    return rc;
}

static tr_code write_report(replay *r, const char *text, size_t n, tr_replay_result *res,
                            tr_error *err)
{
    char dir[4300], a[40], b[40];
    tr_code rc = tr_store_path(r->store, TR_AREA_REPORTS, NULL, dir, sizeof dir, err);
    if (!rc)
        rc = tr_mkdir_p(dir, err);
    if (rc)
        return rc;
    int64_t y;
    int m, d, m2, d2;
    int64_t y2;
    tr_civil_from_days(r->o->from / 86400, &y, &m, &d);
    tr_civil_from_days(r->o->to / 86400, &y2, &m2, &d2);
    snprintf(a, sizeof a, "%04lld%02d%02d", (long long)y, m, d);
    snprintf(b, sizeof b, "%04lld%02d%02d", (long long)y2, m2, d2);
    snprintf(res->report_path, sizeof res->report_path, "%s/replay-%s-%s.md", dir, a, b);
    return tr_file_write_atomic(res->report_path, text, n, err);
}

/* ---- the walk ---------------------------------------------------------------------------- */

/* The next clock after c: the earliest close time of a pair's next bar, or INT64_MAX. */
static int64_t next_clock(const replay *r, int64_t c)
{
    int64_t best = INT64_MAX;
    for (int i = 0; i < r->n; i++) {
        const series *s = &r->s[i];
        size_t k = s->nv;
        while (k < s->bars.n && s->bars.v[k].t + r->o->timeframe <= c)
            k++;
        if (k < s->bars.n && s->bars.v[k].t + r->o->timeframe < best)
            best = s->bars.v[k].t + r->o->timeframe;
    }
    return best;
}

/* The distinct close times in (from, to] over the pairs. */
static size_t count_steps(const replay *r, int64_t from, int64_t to)
{
    size_t idx[TR_REPLAY_MAX_PAIRS], n = 0;
    int32_t tf = r->o->timeframe;
    for (int i = 0; i < r->n; i++) {
        idx[i] = 0;
        while (idx[i] < r->s[i].bars.n && r->s[i].bars.v[idx[i]].t + tf <= from)
            idx[i]++;
    }
    for (;;) {
        int64_t best = INT64_MAX;
        for (int i = 0; i < r->n; i++)
            if (idx[i] < r->s[i].bars.n && r->s[i].bars.v[idx[i]].t + tf < best)
                best = r->s[i].bars.v[idx[i]].t + tf;
        if (best > to)
            return n;
        n++;
        for (int i = 0; i < r->n; i++)
            if (idx[i] < r->s[i].bars.n && r->s[i].bars.v[idx[i]].t + tf == best)
                idx[i]++;
    }
}

static void advance(replay *r, int64_t c, int *fresh)
{
    for (int i = 0; i < r->n; i++) {
        series *s = &r->s[i];
        size_t k = s->nv;
        while (k < s->bars.n && s->bars.v[k].t + r->o->timeframe <= c)
            k++;
        fresh[i] = k > s->nv;
        s->nv = k;
    }
}

/* The position monitor over the pair's signals from its first one without a final outcome: the
 * walk starts there anyway (outcome.c) with no position open, so the signals before it change
 * nothing, and a step costs what is open rather than every signal recorded. */
static tr_code resolve(replay *r, series *s, int64_t c, tr_error *err)
{
    size_t k = s->first_open;
    tr_code rc = tr_outcomes_resolve_books(s->bars.v, s->nv, s->atr, r->o->timeframe, &s->bt, c,
                                           s->sigs + k, s->n_sigs - k, s->dirty + k, NULL, err);
    while (!rc && s->first_open < s->n_sigs && tr_outcome_final(&s->sigs[s->first_open]))
        s->first_open++;
    return rc;
}

tr_code tr_replay_run(tr_store *store, const tr_replay_opts *o, tr_replay_result *res,
                      tr_error *err)
{
    memset(res, 0, sizeof *res);
    double t_start = tr_mono_now();
    if (o->n_pairs < 1 || o->n_pairs > TR_REPLAY_MAX_PAIRS)
        return tr_fail(err, TR_ERR_INVALID, "replay: 1 to %d pairs (--csv FILE --pair P)",
                       TR_REPLAY_MAX_PAIRS);
    if (o->from >= o->to)
        return tr_fail(err, TR_ERR_INVALID, "replay: --from must be before --to");
    if (o->timeframe <= 0 || o->flush_steps < 1)
        return tr_fail(err, TR_ERR_INVALID, "replay: bad timeframe or flush interval");
    for (int i = 0; i < o->n_pairs; i++) {
        if (!tr_pair_valid(o->pair[i]) || !o->csv[i])
            return tr_fail(err, TR_ERR_INVALID, "replay: bad pair name '%s'",
                           o->pair[i] ? o->pair[i] : "");
        for (int j = 0; j < i; j++)
            if (strcmp(o->pair[i], o->pair[j]) == 0)
                return tr_fail(err, TR_ERR_INVALID, "replay: pair %s given twice", o->pair[i]);
    }
    replay *r = calloc(1, sizeof *r);
    if (!r)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory");
    r->store = store;
    r->o = o;
    tr_sb sb = {0};
    tr_code rc = TR_OK;
    r->feat = malloc((size_t)TR_PREDICT_MAX_HISTORY * TR_N_FEATURES * sizeof *r->feat);
    if (!r->feat) {
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory");
        goto done;
    }
    /* the state belongs to one store: a directory store keeps it inside; other stores share
     * their files directory, so the file is named after the store's location */
    {
        char name[64];
        tr_store_private_name(store, "replay", ".state", name, sizeof name);
        rc = tr_store_path(store, TR_AREA_FILES, name, r->state_path, sizeof r->state_path, err);
        if (rc)
            goto done;
    }
    {
        tr_sb k = {0};
        tr_sb_printf(&k, "aifx-replay 1\tfrom=%lld\tto=%lld\ttf=%d\tpairs=", (long long)o->from,
                     (long long)o->to, (int)o->timeframe);
        for (int i = 0; i < o->n_pairs; i++)
            tr_sb_printf(&k, "%s%s", i ? "," : "", o->pair[i]);
        snprintf(r->state_key, sizeof r->state_key, "%s", k.p ? k.p : "");
        tr_sb_free(&k);
    }
    int64_t clock = o->from;
    int done_before = 0;
    rc = state_read(r, &clock, &done_before, err);
    if (rc == TR_ERR_NOTFOUND) {
        tr_error_clear(err); /* a new replay (rc is set again below before it is read) */
        clock = o->from;
    } else if (rc) {
        goto done;
    } else {
        res->resumed = 1;
    }
    for (int i = 0; i < o->n_pairs; i++) {
        r->n = i + 1;
        rc = load_series(r, i, err);
        if (rc)
            goto done;
    }
    int fresh[TR_REPLAY_MAX_PAIRS];
    advance(r, clock, fresh);
    /* the store must not hold bars of these pairs beyond the clock (they would be visible to
     * the cycles before their time); a resumed replay may have ingested the bars of the step
     * after its stored clock (a cycle ran there: the state is written before the ingest) */
    {
        int64_t limit = res->resumed ? next_clock(r, clock) : clock;
        tr_series_info *list;
        size_t n_list;
        rc = tr_store_series_list(store, &list, &n_list, err);
        if (rc)
            goto done;
        for (size_t j = 0; j < n_list && !rc; j++)
            for (int i = 0; i < r->n; i++)
                if (list[j].timeframe == o->timeframe && strcmp(list[j].pair, r->s[i].pair) == 0 &&
                    list[j].count && list[j].last + o->timeframe > limit) {
                    char a[40];
                    rc = tr_fail(err, TR_ERR_CONFLICT,
                                 "store %s already holds %s bars after %s (the replay's clock); "
                                 "replay into a store without them",
                                 tr_store_name(store), r->s[i].pair,
                                 tr_time_format(clock, a, sizeof a));
                }
        free(list);
        if (rc)
            goto done;
    }
    for (int i = 0; i < r->n; i++) {
        if (r->s[i].nv == 0) {
            char a[40];
            rc = tr_fail(err, TR_ERR_DATA, "%s: no bar closes by %s (--from)", o->csv[i],
                         tr_time_format(clock, a, sizeof a));
            goto done;
        }
    }
    res->n_steps = count_steps(r, o->from, o->to);
    rc = load_active(r, err);
    if (rc)
        goto done;
    /* the replay is its own position monitor (resolve() after each bar, the same walk): the
     * scheduler's monitor slot would only repeat it */
    tr_due_opts sched = o->due;
    sched.sched.enabled[TR_SLOT_MONITOR] = 0;
    int64_t checked[TR_N_SLOTS];
    for (int k = 0; k < TR_N_SLOTS; k++)
        checked[k] = INT64_MIN;
    int retry = 0;
    size_t since_flush = 0;
    for (int64_t c = next_clock(r, clock); c <= o->to && !done_before; c = next_clock(r, c)) {
        if (tr_testhook_step && tr_testhook_step(res->n_steps_run)) {
            res->stopped = 1;
            goto done; /* as if killed: no final write */
        }
        int64_t prev = clock;
        clock = c;
        advance(r, c, fresh);
        res->n_steps_run++;
        /* the scheduler */
        int check = retry;
        for (int k = 0; k < TR_N_SLOTS; k++)
            if (sched.sched.enabled[k] && tr_sched_latest(&sched.sched, k, c) != checked[k])
                check = 1;
        tr_due_result due;
        int ran = 0;
        if (check) {
            tr_registry reg;
            rc = tr_store_registry_read(store, &reg, err);
            if (rc)
                goto done;
            int any = 0;
            for (int k = 0; k < TR_N_SLOTS; k++) {
                checked[k] = tr_sched_latest(&sched.sched, k, c);
                if (sched.sched.enabled[k])
                    any |= tr_sched_due(&reg, tr_slot_cycle(k), checked[k], sched.sched.max_retries,
                                        NULL, NULL) == TR_DUE_YES;
            }
            tr_registry_free(&reg);
            retry = 0;
            if (any) {
                double t0 = tr_mono_now();
                rc = flush(r, prev, err);
                if (!rc)
                    rc = sync_bars(r, err);
                if (rc)
                    goto done;
                since_flush = 0;
                tr_due_opts d = sched;
                d.as_of = c;
                rc = tr_run_due(store, &d, &due, err);
                if (rc)
                    goto done;
                retry = due.first_error != TR_OK;
                ran = 1;
                rc = load_active(r, err);
                if (rc)
                    goto done;
                res->seconds_cycles += tr_mono_now() - t0;
            }
        }
        /* predictions, then the position monitor */
        double t0 = tr_mono_now();
        for (int i = 0; i < r->n; i++) {
            if (!fresh[i])
                continue;
            rc = predict_bar(r, &r->s[i], c, err);
            if (!rc)
                rc = resolve(r, &r->s[i], c, err);
            if (rc)
                goto done;
        }
        res->seconds_predict += tr_mono_now() - t0;
        if (++since_flush >= (size_t)o->flush_steps) {
            rc = flush(r, c, err);
            if (rc)
                goto done;
            since_flush = 0;
        }
        if (o->on_step && (ran || res->n_steps_run % 96 == 0)) {
            tr_replay_progress p = {c, res->n_steps_run, res->n_steps, 0, ran ? &due : NULL};
            for (int i = 0; i < r->n; i++)
                p.n_signals += r->s[i].n_sigs;
            o->on_step(&p, o->user);
        }
    }
    /* the end: everything written, the store's bars up to the clock */
    rc = flush(r, clock, err);
    if (!rc)
        rc = sync_bars(r, err);
    if (!rc)
        rc = state_write(r, clock, 1, err);
    if (rc)
        goto done;
    for (int i = 0; i < r->n; i++)
        for (size_t k = 0; k < r->s[i].n_sigs; k++)
            res->n_signals += r->s[i].sigs[k].bar_time >= o->from;
    res->seconds = tr_mono_now() - t_start;
    rc = build_timeline(r, res, &sb, err);
    if (rc)
        goto done;
    rc = write_report(r, sb.p, sb.n, res, err);
    if (rc)
        goto done;
    res->timeline = sb.p;
    sb.p = NULL;
done:
    tr_sb_free(&sb);
    replay_free(r);
    free(r);
    return rc;
}
