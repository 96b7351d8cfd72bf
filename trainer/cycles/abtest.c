/*
 * abtest.c - A/B tests between versions (abtest.h, docs/abtest.md).
 */
#include "cycles/abtest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/timeutil.h"
#include "cycles/cycle.h"

/* ---- assignment --------------------------------------------------------------------------- */

/* splitmix64's finaliser (Steele, Lea and Flood 2014): a bijective 64-bit mixer. */
static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* FNV-1a over a string (Fowler, Noll, Vo). */
static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

double tr_ab_unit(const tr_ab_test *t, const char *pair, int64_t bar_time)
{
    uint64_t h = mix64(t->seed ^ fnv1a(t->id));
    h = mix64(h ^ fnv1a(pair));
    h = mix64(h ^ (uint64_t)bar_time);
    return (double)(h >> 11) * 0x1p-53;
}

int tr_ab_assign(const tr_ab_test *t, const char *pair, int64_t bar_time)
{
    return tr_ab_unit(t, pair, bar_time) < t->split;
}

const tr_ab_test *tr_ab_running_for(const tr_registry *reg, const char *pair)
{
    for (size_t i = 0; i < reg->n_abtests; i++)
        if (reg->abtests[i].status == TR_AB_RUNNING &&
            tr_ab_pairs_overlap(reg->abtests[i].pairs, pair))
            return &reg->abtests[i];
    return NULL;
}

const tr_ab_test *tr_ab_test_of(const tr_registry *reg, const char *version)
{
    for (size_t i = 0; i < reg->n_abtests; i++) {
        const tr_ab_test *t = &reg->abtests[i];
        if (t->status == TR_AB_RUNNING &&
            (strcmp(t->version_a, version) == 0 || strcmp(t->version_b, version) == 0))
            return t;
    }
    return NULL;
}

const char *tr_ab_serving(const tr_registry *reg, const char *pair, int64_t bar_time,
                          const tr_ab_test **test)
{
    const tr_ab_test *t = tr_ab_running_for(reg, pair);
    if (test)
        *test = t;
    if (t)
        return tr_ab_assign(t, pair, bar_time) ? t->version_b : t->version_a;
    const tr_version *a = tr_registry_active(reg);
    return a ? a->version : NULL;
}

/* ---- start -------------------------------------------------------------------------------- */

void tr_ab_next_id(const tr_registry *reg, char *out, size_t size)
{
    long next = 1;
    for (size_t i = 0; i < reg->n_abtests; i++) {
        long k;
        char rest;
        if (sscanf(reg->abtests[i].id, "ab%ld%c", &k, &rest) == 1 && k >= next)
            next = k + 1;
    }
    snprintf(out, size, "ab%ld", next);
}

uint64_t tr_ab_default_seed(const char *id, int64_t started_at)
{
    return mix64(fnv1a(id) ^ (uint64_t)started_at);
}

tr_ab_start_opts tr_ab_start_opts_default(void)
{
    tr_ab_start_opts o;
    memset(&o, 0, sizeof o);
    o.split = 0.5;
    o.days = 7;
    o.origin = "manual";
    return o;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Validates and sorts a comma-separated pair set into out. */
static tr_code normalise_pairs(const char *in, char *out, size_t size, tr_error *err)
{
    out[0] = '\0';
    if (!in || !in[0])
        return TR_OK;
    char list[16][TR_PAIR_MAX];
    int n = 0;
    for (const char *p = in; *p;) {
        size_t k = strcspn(p, ",");
        if (k == 0 || k >= TR_PAIR_MAX || n == 16)
            return tr_fail(err, TR_ERR_INVALID, "bad pair set '%s'", in);
        memcpy(list[n], p, k);
        list[n][k] = '\0';
        if (!tr_pair_valid(list[n]))
            return tr_fail(err, TR_ERR_INVALID, "bad pair name '%s'", list[n]);
        n++;
        p += k + (p[k] == ',');
    }
    qsort(list, (size_t)n, sizeof list[0], cmp_str);
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        if (i && strcmp(list[i], list[i - 1]) == 0)
            continue;
        int w = snprintf(out + used, size - used, "%s%s", used ? "," : "", list[i]);
        if (w < 0 || (size_t)w >= size - used)
            return tr_fail(err, TR_ERR_INVALID, "pair set '%s' is too long", in);
        used += (size_t)w;
    }
    return TR_OK;
}

tr_code tr_ab_new(const tr_registry *reg, const tr_ab_start_opts *o, tr_ab_test *out, tr_error *err)
{
    memset(out, 0, sizeof *out);
    if (!o->a || !o->b)
        return tr_fail(err, TR_ERR_INVALID, "an A/B test needs two versions (--a and --b)");
    if (!(o->split > 0 && o->split < 1) || o->days < 1 || o->days > 365 || o->min_trades < 0)
        return tr_fail(err, TR_ERR_INVALID,
                       "bad A/B test plan (split %g, %d days, %lld trades): split in (0, 1), "
                       "1 to 365 days",
                       o->split, o->days, (long long)o->min_trades);
    tr_ab_test *t = out;
    tr_code rc = normalise_pairs(o->pairs, t->pairs, sizeof t->pairs, err);
    if (rc)
        return rc;
    tr_ab_next_id(reg, t->id, sizeof t->id);
    snprintf(t->version_a, sizeof t->version_a, "%s", o->a);
    snprintf(t->version_b, sizeof t->version_b, "%s", o->b);
    t->split = o->split;
    t->started_at = o->as_of ? o->as_of : tr_wall_now();
    t->planned_end = t->started_at + (int64_t)o->days * 86400;
    t->min_trades = o->min_trades;
    t->seed = o->seed ? o->seed : tr_ab_default_seed(t->id, t->started_at);
    t->status = TR_AB_RUNNING;
    snprintf(t->origin, sizeof t->origin, "%s", o->origin ? o->origin : "manual");
    return TR_OK;
}

tr_code tr_ab_start(tr_store *store, const tr_ab_start_opts *o, tr_ab_test *out, tr_error *err)
{
    tr_registry reg;
    tr_code rc = tr_store_registry_read(store, &reg, err);
    if (rc)
        return rc;
    rc = tr_ab_new(&reg, o, out, err);
    tr_registry_free(&reg);
    if (rc)
        return rc;
    tr_reg_txn txn;
    memset(&txn, 0, sizeof txn);
    txn.ab_put = out;
    txn.n_ab_put = 1;
    txn.now = out->started_at;
    return tr_store_registry_commit(store, &txn, err);
}

/* ---- analysis ----------------------------------------------------------------------------- */

static double info_fraction(const tr_ab_test *t, int64_t as_of, const tr_ab_arm arm[2])
{
    double span = (double)(t->planned_end - t->started_at);
    double f = span > 0 ? (double)(as_of - t->started_at) / span : 1.0;
    if (t->min_trades > 0) {
        size_t n = arm[0].n < arm[1].n ? arm[0].n : arm[1].n;
        double g = (double)n / (double)t->min_trades;
        if (g > f)
            f = g;
    }
    return f < 0 ? 0 : f > 1 ? 1 : f;
}

/* The analysis of t from the signals (all pairs, ascending); record appends the look to
 * out->test when it is a new one. */
static void analyse(const tr_ab_test *t, const tr_signal *sigs, size_t n_sigs, int64_t as_of,
                    int record, tr_ab_report *out)
{
    memset(out, 0, sizeof *out);
    out->test = *t;
    out->as_of = as_of;
    out->arm[0] = tr_ab_arm_empty();
    out->arm[1] = tr_ab_arm_empty();
    for (size_t i = 0; i < n_sigs; i++) {
        const tr_signal *g = &sigs[i];
        if (strcmp(g->ab_test_id, t->id) != 0 || g->bar_time >= as_of)
            continue;
        int k = strcmp(g->model_version, t->version_b) == 0;
        out->n_pred[k]++;
        /* a trade counts once its exit bar had closed by as_of, so that an analysis as of a
         * past time (an ended test's report) sees what the look at that time saw */
        int win = strcmp(g->outcome, "win") == 0;
        int closed = (win || strcmp(g->outcome, "loss") == 0) &&
                     g->exit_time + (int64_t)g->timeframe <= as_of;
        if (closed)
            tr_ab_arm_add(&out->arm[k], g->pnl_pips, win);
        else if (strcmp(g->outcome, "none") != 0) /* open, or closed after as_of */
            out->n_open[k]++;
    }
    for (int k = 0; k < 2; k++) {
        out->total_pips[k] = out->arm[k].sum;
        out->avg_pips[k] = out->arm[k].n ? out->arm[k].sum / (double)out->arm[k].n : NAN;
        out->win_rate[k] = tr_ab_arm_win_rate(&out->arm[k]);
    }
    double f = info_fraction(t, as_of, out->arm);
    out->info_frac = f;
    out->at_end = f >= 1.0;
    double looks[TR_AB_LOOKS_MAX];
    int n = t->n_looks;
    memcpy(looks, t->look_frac, (size_t)n * sizeof looks[0]);
    if ((n == 0 || f > looks[n - 1]) && n < TR_AB_LOOKS_MAX && f > 0)
        looks[n++] = f; /* a new look */
    else if (n > 0 && out->at_end)
        looks[n - 1] = 1.0; /* the end, at the last look's slot */
    if (record && n > t->n_looks) {
        out->test.n_looks = n;
        memcpy(out->test.look_frac, looks, (size_t)n * sizeof looks[0]);
    }
    out->test.n_pred_a = out->n_pred[0];
    out->test.n_pred_b = out->n_pred[1];
    tr_ab_plan plan = tr_ab_plan_default();
    if (t->min_trades > 0)
        plan.min_trades = (size_t)t->min_trades;
    if (n == 0) {
        out->v.call = TR_AB_CONTINUE;
        snprintf(out->stats_error, sizeof out->stats_error, "no information yet (fraction 0)");
        return;
    }
    tr_error e;
    if (tr_ab_decide(&out->arm[0], &out->arm[1], looks, n, out->at_end, &plan, &out->v, &e)) {
        memset(&out->v, 0, sizeof out->v);
        out->v.call = TR_AB_CONTINUE;
        snprintf(out->stats_error, sizeof out->stats_error, "%.250s", e.msg);
        return;
    }
    out->stats_ok = 1;
    /* a winner needs the planned minimum of trades in both arms, at the end too: significance
     * on a handful of trades is not evidence enough to activate a version */
    size_t least = out->arm[0].n < out->arm[1].n ? out->arm[0].n : out->arm[1].n;
    if ((out->v.call == TR_AB_A || out->v.call == TR_AB_B) && least < plan.min_trades)
        out->v.call = out->at_end ? TR_AB_INSUFFICIENT : TR_AB_CONTINUE;
}

/* The registry, the test id (NULL: every running test, *t NULL) and the signals from the
 * earliest start among them; *as_of 0 becomes the wall clock. */
static tr_code load(tr_store *store, const char *id, int64_t *as_of, tr_registry *reg,
                    const tr_ab_test **t, tr_signal **sigs, size_t *n_sigs, tr_error *err)
{
    if (!*as_of)
        *as_of = tr_wall_now();
    *sigs = NULL;
    *n_sigs = 0;
    tr_code rc = tr_store_registry_read(store, reg, err);
    if (rc)
        return rc;
    *t = id ? tr_registry_find_ab(reg, id) : NULL;
    if (id && !*t) {
        tr_registry_free(reg);
        return tr_fail(err, TR_ERR_NOTFOUND, "A/B test %s does not exist in store %s", id,
                       tr_store_name(store));
    }
    int64_t from = INT64_MAX;
    for (size_t i = 0; i < reg->n_abtests; i++)
        if ((id && &reg->abtests[i] == *t) || (!id && reg->abtests[i].status == TR_AB_RUNNING))
            from = reg->abtests[i].started_at < from ? reg->abtests[i].started_at : from;
    if (from == INT64_MAX)
        return TR_OK;
    rc = tr_store_signals_get(store, NULL, from, INT64_MAX, sigs, n_sigs, err);
    if (rc)
        tr_registry_free(reg);
    return rc;
}

tr_code tr_ab_analyse(tr_store *store, const char *id, int64_t as_of, tr_ab_report *out,
                      tr_error *err)
{
    memset(out, 0, sizeof *out);
    tr_registry reg;
    const tr_ab_test *t;
    tr_signal *sigs;
    size_t n;
    tr_code rc = load(store, id, &as_of, &reg, &t, &sigs, &n, err);
    if (rc)
        return rc;
    /* an ended test is analysed as it stood at its end */
    if (t->status != TR_AB_RUNNING && t->ended_at && t->ended_at < as_of)
        as_of = t->ended_at;
    analyse(t, sigs, n, as_of, 0, out);
    free(sigs);
    tr_registry_free(&reg);
    return TR_OK;
}

/* The figures of a report as the test's result JSON. */
static void result_json(const tr_ab_report *r, char *out, size_t size)
{
    tr_sb b = {0};
    char ts[32];
    tr_sb_printf(&b, "{\"as_of\":\"%s\",\"info_frac\":", tr_time_format(r->as_of, ts, sizeof ts));
    tr_sb_json_num(&b, r->info_frac);
    tr_sb_printf(&b, ",\"at_end\":%s,\"looks\":%d", r->at_end ? "true" : "false", r->test.n_looks);
    for (int k = 0; k < 2; k++) {
        tr_sb_printf(&b, ",\"%s\":{\"version\":", k ? "b" : "a");
        tr_sb_json_str(&b, k ? r->test.version_b : r->test.version_a);
        tr_sb_printf(&b, ",\"predictions\":%lld,\"trades\":%zu,\"wins\":%zu,\"open\":%lld",
                     (long long)r->n_pred[k], r->arm[k].n, r->arm[k].wins, (long long)r->n_open[k]);
        tr_sb_printf(&b, ",\"win_rate\":");
        tr_sb_json_num(&b, r->win_rate[k]);
        tr_sb_printf(&b, ",\"total_pips\":");
        tr_sb_json_num(&b, r->total_pips[k]);
        tr_sb_printf(&b, ",\"avg_pips\":");
        tr_sb_json_num(&b, r->avg_pips[k]);
        tr_sb_printf(&b, ",\"sharpe_per_trade\":");
        tr_sb_json_num(&b, k ? r->v.sharpe_b : r->v.sharpe_a);
        tr_sb_printf(&b, "}");
    }
    const tr_ab_verdict *v = &r->v;
    tr_sb_printf(&b, ",\"z_test\":{\"z\":");
    tr_sb_json_num(&b, v->z.z);
    tr_sb_printf(&b, ",\"p\":");
    tr_sb_json_num(&b, v->z.p);
    tr_sb_printf(&b, "},\"welch\":{\"t\":");
    tr_sb_json_num(&b, v->t.t);
    tr_sb_printf(&b, ",\"df\":");
    tr_sb_json_num(&b, v->t.df);
    tr_sb_printf(&b, ",\"p\":");
    tr_sb_json_num(&b, v->t.p);
    tr_sb_printf(&b, "},\"z_welch\":");
    tr_sb_json_num(&b, v->z_welch);
    tr_sb_printf(&b, ",\"boundary\":");
    tr_sb_json_num(&b, v->boundary);
    tr_sb_printf(&b, ",\"n_needed_win_rate\":");
    tr_sb_json_num(&b, v->n_props);
    tr_sb_printf(&b, ",\"n_needed_pnl\":");
    tr_sb_json_num(&b, v->n_means);
    tr_sb_printf(&b, ",\"call\":");
    tr_sb_json_str(&b, r->stats_ok ? tr_ab_call_text(v->call) : "");
    if (!r->stats_ok) {
        tr_sb_printf(&b, ",\"note\":");
        tr_sb_json_str(&b, r->stats_error);
    }
    tr_sb_printf(&b, "}");
    if (b.oom || !b.p || b.n >= size)
        snprintf(out, size, "{\"error\":\"result does not fit\"}");
    else
        snprintf(out, size, "%s", b.p);
    tr_sb_free(&b);
}

/* The evidence of an activation by a test: the test, its call and the main figures, compact
 * enough for the activation record (the full figures stay in the test's result). */
static void evidence_json(const tr_ab_report *r, char *out, size_t size)
{
    const tr_ab_test *t = &r->test;
    const tr_ab_verdict *v = &r->v;
    tr_sb b = {0};
    tr_sb_printf(&b, "{\"by\":\"ab_test\",\"test\":");
    tr_sb_json_str(&b, t->id);
    tr_sb_printf(&b, ",\"call\":");
    tr_sb_json_str(&b, tr_ab_call_text(v->call));
    tr_sb_printf(&b, ",\"info_frac\":");
    tr_sb_json_num(&b, r->info_frac);
    for (int k = 0; k < 2; k++) {
        tr_sb_printf(&b, ",\"%s\":{\"version\":", k ? "b" : "a");
        tr_sb_json_str(&b, k ? t->version_b : t->version_a);
        tr_sb_printf(&b, ",\"trades\":%zu,\"win_rate\":", r->arm[k].n);
        tr_sb_json_num(&b, r->win_rate[k]);
        tr_sb_printf(&b, ",\"avg_pips\":");
        tr_sb_json_num(&b, r->avg_pips[k]);
        tr_sb_printf(&b, "}");
    }
    tr_sb_printf(&b, ",\"welch_p\":");
    tr_sb_json_num(&b, v->t.p);
    tr_sb_printf(&b, ",\"z_p\":");
    tr_sb_json_num(&b, v->z.p);
    tr_sb_printf(&b, ",\"boundary\":");
    tr_sb_json_num(&b, v->boundary);
    tr_sb_printf(&b, "}");
    if (b.oom || !b.p || b.n >= size)
        snprintf(out, size, "{\"by\":\"ab_test\",\"test\":\"%.60s\"}", t->id);
    else
        snprintf(out, size, "%s", b.p);
    tr_sb_free(&b);
}

tr_code tr_ab_stop(tr_store *store, const char *id, int64_t as_of, const char *note,
                   tr_ab_report *out, tr_error *err)
{
    memset(out, 0, sizeof *out);
    tr_registry reg;
    const tr_ab_test *t;
    tr_signal *sigs;
    size_t n;
    tr_code rc = load(store, id, &as_of, &reg, &t, &sigs, &n, err);
    if (rc)
        return rc;
    if (t->status != TR_AB_RUNNING) {
        rc = tr_fail(err, TR_ERR_CONFLICT, "A/B test %s is not running (%s)", id,
                     tr_ab_status_name(t->status));
    } else {
        analyse(t, sigs, n, as_of, 0, out);
        tr_ab_test u = out->test;
        u.status = TR_AB_STOPPED;
        u.ended_at = as_of;
        snprintf(u.end_reason, sizeof u.end_reason, "stopped%s%.50s", note && note[0] ? ": " : "",
                 note ? note : "");
        result_json(out, u.result, sizeof u.result);
        tr_reg_txn txn;
        memset(&txn, 0, sizeof txn);
        txn.ab_update = &u;
        txn.n_ab_update = 1;
        txn.now = as_of;
        rc = tr_store_registry_commit(store, &txn, err);
        if (!rc)
            out->test = u;
    }
    free(sigs);
    tr_registry_free(&reg);
    return rc;
}

tr_code tr_ab_look(const tr_cycle_ctx *ctx, int *n_tests, int *n_ended, char *summary, size_t size,
                   tr_error *err)
{
    tr_store *store = ctx->store;
    int64_t as_of = ctx->as_of;
    int64_t started = tr_wall_now();
    if (n_tests)
        *n_tests = 0;
    if (n_ended)
        *n_ended = 0;
    if (summary && size)
        summary[0] = '\0';
    tr_registry reg;
    const tr_ab_test *none;
    tr_signal *sigs;
    size_t n_sigs;
    tr_code rc = load(store, NULL, &as_of, &reg, &none, &sigs, &n_sigs, err);
    if (rc)
        return rc;
    size_t nt = 0;
    for (size_t i = 0; i < reg.n_abtests; i++)
        nt += reg.abtests[i].status == TR_AB_RUNNING;
    tr_ab_test *upd = calloc(nt ? nt : 1, sizeof *upd);
    tr_ab_report *rep = calloc(1, sizeof *rep);
    if (!upd || !rep) {
        free(upd);
        free(rep);
        free(sigs);
        tr_registry_free(&reg);
        return tr_fail(err, TR_ERR_NOMEM, "out of memory");
    }
    const tr_version *act = tr_registry_active(&reg);
    tr_activation a;
    memset(&a, 0, sizeof a);
    int activate = 0, ended = 0;
    char winner[TR_VERSION_MAX] = "";
    tr_sb s = {0};
    size_t k = 0;
    for (size_t i = 0; i < reg.n_abtests; i++) {
        const tr_ab_test *t = &reg.abtests[i];
        if (t->status != TR_AB_RUNNING)
            continue;
        analyse(t, sigs, n_sigs, as_of, 1, rep);
        tr_ab_test *u = &upd[k++];
        *u = rep->test;
        const char *call = rep->stats_ok ? tr_ab_call_text(rep->v.call) : "";
        tr_sb_printf(&s, "%s%s (%s vs %s): look %d at %.2f, %zu vs %zu trades", k > 1 ? "; " : "",
                     t->id, t->version_a, t->version_b, u->n_looks, rep->info_frac, rep->arm[0].n,
                     rep->arm[1].n);
        if (rep->stats_ok && rep->v.t.ok)
            tr_sb_printf(&s, ", Welch p %.3g (|z| %.2f vs boundary %.2f)", rep->v.t.p,
                         fabs(rep->v.z_welch), rep->v.boundary);
        result_json(rep, u->result, sizeof u->result);
        if (!rep->stats_ok || rep->v.call == TR_AB_CONTINUE) {
            tr_sb_printf(&s, ", continue");
            continue;
        }
        ended++;
        u->status = TR_AB_COMPLETED;
        u->ended_at = as_of;
        snprintf(u->verdict, sizeof u->verdict, "%s", call);
        double span = (double)(t->planned_end - t->started_at);
        int time_up = span <= 0 || as_of >= t->planned_end;
        snprintf(u->end_reason, sizeof u->end_reason, "%s",
                 !rep->at_end ? "early_stop"
                 : time_up    ? "planned_end"
                              : "min_trades");
        tr_sb_printf(&s, ", ended (%s): %s", u->end_reason, call);
        const char *win = rep->v.call == TR_AB_A   ? t->version_a
                          : rep->v.call == TR_AB_B ? t->version_b
                                                   : NULL;
        if (!win)
            continue;
        if (rep->v.call == TR_AB_A && strcmp(t->origin, "full") == 0) {
            /* the incumbent of a weekly test won: the active version (it, or the daily
             * fine-tune that has replaced it since) stays */
            tr_sb_printf(&s, ", the incumbent won: the active version stays");
        } else if (act && strcmp(act->version, win) == 0) {
            tr_sb_printf(&s, ", %s already active", win);
        } else if (activate) {
            tr_sb_printf(&s, ", %s not activated (another winner was activated first)", win);
        } else {
            activate = 1;
            snprintf(winner, sizeof winner, "%s", win);
            snprintf(a.from, sizeof a.from, "%s", act ? act->version : "");
            snprintf(a.to, sizeof a.to, "%s", win);
            snprintf(a.reason, sizeof a.reason, "ab_test");
            evidence_json(rep, a.evidence, sizeof a.evidence);
            tr_sb_printf(&s, ", %s activated", win);
        }
    }
    if (n_tests)
        *n_tests = (int)k;
    if (n_ended)
        *n_ended = ended;
    tr_log_row row;
    tr_log_row_begin(&row, "abtest", as_of, started, k ? TR_LOG_COMPLETED : TR_LOG_SKIPPED,
                     winner[0] ? winner : NULL, act ? act->version : NULL);
    snprintf(row.verdict, sizeof row.verdict, "%s", activate ? "activated" : ended ? "ended" : "");
    snprintf(row.reason, sizeof row.reason, "%.255s", k ? (s.p ? s.p : "") : "no running A/B test");
    if (summary && size)
        snprintf(summary, size, "%s", k ? (s.p ? s.p : "") : "no running A/B test");
    tr_reg_txn txn;
    memset(&txn, 0, sizeof txn);
    txn.ab_update = upd;
    txn.n_ab_update = k;
    txn.log = &row;
    txn.n_log = 1;
    txn.activate = activate ? &a : NULL;
    txn.now = tr_cycle_now(ctx);
    rc = s.oom ? tr_fail(err, TR_ERR_NOMEM, "out of memory")
               : tr_store_registry_commit(store, &txn, err);
    tr_sb_free(&s);
    free(upd);
    free(rep);
    free(sigs);
    tr_registry_free(&reg);
    return rc;
}

/* ---- reports ------------------------------------------------------------------------------ */

char *tr_ab_report_json(const tr_ab_report *r)
{
    char *j = tr_ab_test_json(&r->test);
    if (!j)
        return NULL;
    char res[4096];
    result_json(r, res, sizeof res);
    tr_sb b = {0};
    tr_sb_printf(&b, "{\"test\":%s,\"analysis\":%s}", j, res);
    free(j);
    if (b.oom) {
        tr_sb_free(&b);
        return NULL;
    }
    return b.p;
}

tr_code tr_ab_check(tr_store *store, int64_t as_of, int *n_tests, int *n_ended, char *summary,
                    size_t size, tr_error *err)
{
    tr_cycle_ctx ctx = {store, as_of, NULL, 0, NULL, NULL};
    return tr_ab_look(&ctx, n_tests, n_ended, summary, size, err);
}

/* The scheduler's daily look: completed when a test was analysed, else skipped. */
static tr_code ab_entry(const tr_cycle_ctx *ctx, const void *opts, tr_cycle_outcome *out,
                        tr_error *err)
{
    (void)opts;
    void *figures = out->figures;
    memset(out, 0, sizeof *out);
    out->figures = figures;
    int n_tests = 0, n_ended = 0;
    tr_code rc = tr_ab_look(ctx, &n_tests, &n_ended, out->detail, sizeof out->detail, err);
    out->status = rc ? TR_LOG_FAILED : n_tests ? TR_LOG_COMPLETED : TR_LOG_SKIPPED;
    return rc;
}

/* Nothing to look at: no test runs that started before the slot time t. */
static int ab_idle(const tr_registry *reg, int64_t t)
{
    for (size_t i = 0; i < reg->n_abtests; i++)
        if (reg->abtests[i].status == TR_AB_RUNNING && reg->abtests[i].started_at < t)
            return 0;
    return 1;
}

const tr_cycle_def tr_cycle_abtest_def = {
    .name = "abtest",
    .figures = NULL,
    .run = ab_entry,
    .idle = ab_idle,
};
