/*
 * rank.c - the monthly ranking, retention and its report (rank.h, docs/ranking.md).
 *
 *   raw score  = w_win * win_rate + w_sharpe * sharpe + w_pnl * avg_pips + w_dd * (1 - max_dd)
 *   rank score = sum_k w_k * r_k,  r_k = (position of the version's term k among the m eligible
 *                versions, 0 = worst, ties averaged) / (m - 1), r_k = 1 when m = 1
 *
 * Eligibility also asks the guard against collapse (cycle.h, tr_guard_check) on the version's
 * stored figures of its validation part (full) or gate window (daily): a version that predicts
 * buy+sell outside [0.5x, 2x] of the labels' share there is reported with the figures in its note
 * and never activated.
 */
#define _POSIX_C_SOURCE 200809L

#include "cycles/rank.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "cycles/abtest.h"
#include "cycles/cycle.h"
#include "data/evalset.h"
#include "data/models.h"

tr_rank_opts tr_rank_opts_default(void)
{
    tr_rank_opts o;
    memset(&o, 0, sizeof o);
    o.timeframe = 900;
    o.window_days = 30;
    o.min_trades = 20;
    o.method = TR_SCORE_RAW;
    o.w.win_rate = 0.3;
    o.w.sharpe = 0.3;
    o.w.avg_pnl = 0.2;
    o.w.drawdown = 0.2;
    o.retain_months = 3;
    return o;
}

static const char *const method_names[2] = {"raw", "rank"};

const char *tr_score_method_name(int method)
{
    return method >= 0 && method < 2 ? method_names[method] : "?";
}

int tr_score_method_parse(const char *s, int *method)
{
    for (int i = 0; i < 2; i++)
        if (strcmp(s, method_names[i]) == 0) {
            *method = i;
            return 0;
        }
    return -1;
}

double tr_rank_score_raw(const tr_rank_weights *w, double win_rate, double sharpe, double avg_pips,
                         double max_drawdown)
{
    return w->win_rate * win_rate + w->sharpe * sharpe + w->avg_pnl * avg_pips +
           w->drawdown * (1.0 - max_drawdown);
}

void tr_rank_eligibility(tr_rank_entry *e, int min_trades)
{
    if (!e->evaluated) {
        e->eligible = 0;
        return;
    }
    e->eligible = e->bt.trades >= min_trades;
    if (!e->eligible)
        snprintf(e->note, sizeof e->note, "%lld trades, below the minimum of %d",
                 (long long)e->bt.trades, min_trades);
}

/* Term k of an entry, oriented so that higher is better. */
static double term(const tr_rank_entry *e, int k)
{
    switch (k) {
    case 0:
        return e->bt.win_rate;
    case 1:
        return e->bt.sharpe;
    case 2:
        return e->bt.avg_pips;
    default:
        return -e->bt.max_drawdown;
    }
}

/* 1 when a is to be preferred to b (a, b indices into e) at equal scores. */
static int better(const tr_rank_entry *e, size_t a, size_t b)
{
    double d = e[a].score - e[b].score;
    if (fabs(d) > 1e-12)
        return d > 0;
    if (e[a].was_active != e[b].was_active)
        return e[a].was_active;
    return a > b; /* the later-registered version */
}

long tr_rank_order(tr_rank_entry *e, size_t n, const tr_rank_weights *w, int method)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        m += e[i].eligible != 0;
    const double wk[4] = {w->win_rate, w->sharpe, w->avg_pnl, w->drawdown};
    for (size_t i = 0; i < n; i++) {
        e[i].rank = 0;
        e[i].norm = NAN;
        e[i].raw = e[i].evaluated ? tr_rank_score_raw(w, e[i].bt.win_rate, e[i].bt.sharpe,
                                                      e[i].bt.avg_pips, e[i].bt.max_drawdown)
                                  : NAN;
        if (!e[i].eligible)
            continue;
        double s = 0;
        for (int k = 0; k < 4; k++) {
            double v = term(&e[i], k), less = 0, equal = 0;
            for (size_t j = 0; j < n; j++) {
                if (!e[j].eligible)
                    continue;
                double u = term(&e[j], k);
                if (u < v)
                    less += 1;
                else if (u == v)
                    equal += 1;
            }
            double pos = less + (equal - 1) / 2; /* 0 = worst, m - 1 = best */
            s += wk[k] * (m > 1 ? pos / (double)(m - 1) : 1.0);
        }
        e[i].norm = s;
    }
    for (size_t i = 0; i < n; i++)
        e[i].score = method == TR_SCORE_RANK ? e[i].norm : e[i].raw;
    /* ranks: 1 + the number of eligible entries preferred to this one */
    long best = -1;
    for (size_t i = 0; i < n; i++) {
        if (!e[i].eligible)
            continue;
        int r = 1;
        for (size_t j = 0; j < n; j++)
            if (j != i && e[j].eligible && better(e, j, i))
                r++;
        e[i].rank = r;
        if (r == 1)
            best = (long)i;
    }
    return best;
}

size_t tr_rank_retire_select(const tr_registry *reg, const char *keep, int64_t as_of, int months,
                             size_t *idx)
{
    int64_t limit = tr_time_minus_months(as_of, months);
    size_t n = 0;
    for (size_t i = 0; i < reg->n_versions; i++) {
        const tr_version *v = &reg->versions[i];
        if (v->type != TR_VT_INCREMENTAL || v->deprecated_at || v->is_active)
            continue;
        if (keep && strcmp(v->version, keep) == 0)
            continue;
        if (tr_ab_test_of(reg, v->version))
            continue; /* under a running A/B test: the test decides */
        if (v->as_of < limit)
            idx[n++] = i;
    }
    return n;
}

void tr_rank_result_free(tr_rank_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->entries && i < r->n; i++)
        tr_equity_free(&r->entries[i].equity);
    free(r->entries);
    free(r->retired);
    r->entries = NULL;
    r->retired = NULL;
    r->n = r->n_retired = 0;
}

/* ---- the run -------------------------------------------------------------------------------- */

/* The store's reports directory (store.h). */
static void reports_dir(const tr_store *store, char *out, size_t size)
{
    if (tr_store_path(store, TR_AREA_REPORTS, NULL, out, size, NULL) != TR_OK)
        out[0] = '\0';
}

static void evidence_of(tr_sb *b, const char *key, const tr_rank_entry *e)
{
    tr_sb_printf(b, "\"%s\":", key);
    if (!e) {
        tr_sb_printf(b, "null");
        return;
    }
    tr_sb_printf(b, "{\"version\":");
    tr_sb_json_str(b, e->version);
    if (!e->evaluated) {
        tr_sb_printf(b, ",\"evaluated\":false,\"note\":");
        tr_sb_json_str(b, e->note);
        tr_sb_printf(b, "}");
        return;
    }
    tr_sb_printf(b, ",\"trades\":%lld,\"win_rate\":", (long long)e->bt.trades);
    tr_sb_json_num(b, e->bt.win_rate);
    tr_sb_printf(b, ",\"sharpe\":");
    tr_sb_json_num(b, e->bt.sharpe);
    tr_sb_printf(b, ",\"avg_pips\":");
    tr_sb_json_num(b, e->bt.avg_pips);
    tr_sb_printf(b, ",\"max_drawdown\":");
    tr_sb_json_num(b, e->bt.max_drawdown);
    tr_sb_printf(b, ",\"score\":");
    tr_sb_json_num(b, e->score);
    tr_sb_printf(b, ",\"rank\":%d}", e->rank);
}

/* The guard's figures of a version (tr_guard_figs) as evidence: "guard":{...}. */
static void evidence_guard(tr_sb *b, const tr_version *v)
{
    const char *where = "";
    const tr_cls_figs *f = tr_guard_figs(v, &where);
    tr_sb_printf(b, "\"guard\":{\"on\":\"%s\",\"n\":%lld,\"predicted\":", where, (long long)f->n);
    tr_sb_json_num(b, f->buy_share + f->sell_share);
    tr_sb_printf(b, ",\"labels\":");
    tr_sb_json_num(b, f->true_buy_share + f->true_sell_share);
    tr_sb_printf(b, ",\"band\":[%g,%g]}", TR_GUARD_LOW, TR_GUARD_HIGH);
}

/* Deletes the checkpoint files of the versions this ranking's commit retired (names[n]), each
 * only when reg, read after the commit landed, records it retired by retention: never before the
 * record says so, never a file of a version the commit did not retire. */
static void delete_retired_files(tr_store *store, const tr_registry *reg,
                                 const char (*names)[TR_VERSION_MAX], size_t n)
{
    for (size_t k = 0; k < n; k++) {
        const tr_version *v = tr_registry_find(reg, names[k]);
        if (!v || !v->deprecated_at || strncmp(v->deprecation_reason, "retention", 9) != 0 ||
            v->is_active || !v->checkpoint[0])
            continue;
        char path[4400];
        if (tr_store_path(store, TR_AREA_MODELS, v->checkpoint, path, sizeof path, NULL) == TR_OK)
            (void)unlink(path); /* absent already: fine */
        if (tr_store_has_files(
                store)) { /* and the database's copy (a retry deletes what is left) */
            (void)tr_store_file_delete(store, v->checkpoint, NULL);
            char ref[TR_VERSION_MAX + 8];
            snprintf(ref, sizeof ref, "%s.ref", v->version);
            (void)tr_store_file_delete(store, ref, NULL);
        }
    }
}

/* The ranking's report under the store's reports directory (rank_report.h). */
static tr_code write_report(tr_store *store, const tr_rank_opts *o, tr_rank_result *res,
                            const tr_registry *reg, tr_error *err)
{
    char dir[4200];
    reports_dir(store, dir, sizeof dir);
    tr_rank_rules rules = {.as_of = o->as_of,
                           .window_days = o->window_days,
                           .min_trades = o->min_trades,
                           .method = o->method,
                           .w = o->w,
                           .retain_months = o->retain_months,
                           .method_name = tr_score_method_name(o->method)};
    tr_code rc =
        tr_rank_report_write(&rules, res, reg, dir, res->report_path, sizeof res->report_path, err);
    /* on PostgreSQL the report and its pictures go to the database too, for every host */
    if (rc || !tr_store_has_files(store))
        return rc;
    rc = tr_report_file_store(store, res->report_path, "report", err);
    static const char *const pictures[] = {"-equity.png", "-confusion.png", "-training.png",
                                           "-drift.png"};
    size_t stem = strlen(res->report_path); /* without ".md" */
    stem -= stem > 3 ? 3 : 0;
    for (size_t k = 0; !rc && k < sizeof pictures / sizeof pictures[0]; k++) {
        char path[4500];
        snprintf(path, sizeof path, "%.*s%s", (int)stem, res->report_path, pictures[k]);
        if (access(path, F_OK) == 0) /* a picture that could not be drawn is absent */
            rc = tr_report_file_store(store, path, "picture", err);
    }
    return rc;
}

/* The windows of the ranking, one per label kind, each built at most once: every version whose
 * window starts at the ranking's (all but those trained within it) is evaluated on the same bars,
 * features and samples (data/evalset.h). */
typedef struct rank_sets {
    tr_eval_set set[2];
    int state[2]; /* 0 not tried, 1 built, -1 failed: tr_evaluate_version gives each its error */
} rank_sets;

static tr_eval_set *shared_set(rank_sets *sets, tr_store *store, const tr_rank_opts *o, int64_t w0,
                               const tr_version *v)
{
    int k = tr_hyper_label_kind(v->hyper);
    if (k != TR_LABELS_REVERSAL && k != TR_LABELS_BARRIER)
        return NULL;
    if (sets->state[k] == 0) {
        tr_error ignored;
        sets->state[k] = tr_eval_set_build(store, o->timeframe, w0, o->as_of, k, &sets->set[k],
                                           &ignored) == TR_OK
                             ? 1
                             : -1;
    }
    return sets->state[k] == 1 ? &sets->set[k] : NULL;
}

/* The ranking as of ctx->as_of, its changes stamped by ctx's clock. */
static tr_code rank_run(const tr_cycle_ctx *ctx, const tr_rank_opts *opts, tr_rank_result *res,
                        tr_error *err)
{
    tr_error local;
    if (!err)
        err = &local;
    memset(res, 0, sizeof *res);
    tr_store *store = ctx->store;
    tr_rank_opts ro = *opts;
    ro.as_of = ctx->as_of;
    const tr_rank_opts *o = &ro;
    if (o->window_days < 1 || o->min_trades < 0 || o->retain_months < 1)
        return tr_fail(err, TR_ERR_INVALID,
                       "bad ranking options (window %d days, minimum %d trades, retain %d months)",
                       o->window_days, o->min_trades, o->retain_months);
    double mono0 = tr_mono_now();
    int64_t started = tr_wall_now();
    int64_t now = tr_cycle_now(ctx);
    int lock = -1;
    tr_code rc = tr_store_cycle_lock(store, "rank", &lock, err);
    if (rc)
        return rc;
    tr_registry reg;
    tr_signal *sigs = NULL;
    size_t n_sigs = 0, *ridx = NULL;
    tr_version *upd = NULL;
    tr_eval_report *er = NULL;
    rank_sets sets;
    memset(&sets, 0, sizeof sets);
    int logged = 0;
    rc = tr_store_registry_read(store, &reg, err);
    if (rc) {
        tr_store_cycle_unlock(store, lock);
        return rc;
    }
    if (reg.n_versions == 0) {
        rc = tr_fail(err, TR_ERR_NOTFOUND, "no version to rank in store %s", tr_store_name(store));
        goto done;
    }
    const tr_version *act0 = tr_registry_active(&reg);
    snprintf(res->active_before, sizeof res->active_before, "%s", act0 ? act0->version : "");
    if (act0) {
        /* the active version's checkpoint must be sound whatever the evaluation finds: a damaged
         * one fails the ranking before it changes anything (exit 5), as predict would */
        aifx_model *m = NULL;
        rc = tr_checkpoint_load(store, act0, &m, err);
        aifx_model_free(m);
        if (rc)
            goto fail;
    }
    res->entries = calloc(reg.n_versions, sizeof *res->entries);
    ridx = malloc(reg.n_versions * sizeof *ridx);
    upd = calloc(reg.n_versions, sizeof *upd);
    er = calloc(1, sizeof *er);
    if (!res->entries || !ridx || !upd || !er) {
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory");
        goto done;
    }
    const int64_t w0 = o->as_of - (int64_t)o->window_days * 86400;
    rc = tr_store_signals_get(store, NULL, w0, o->as_of, &sigs, &n_sigs, err);
    if (rc)
        goto fail;
    res->prod_signals_total = (int64_t)n_sigs;
    for (size_t i = 0; i < n_sigs; i++)
        res->prod_resolved_total +=
            strcmp(sigs[i].outcome, "win") == 0 || strcmp(sigs[i].outcome, "loss") == 0;

    /* evaluate every non-deprecated version on the bars after its data window */
    for (size_t i = 0; i < reg.n_versions; i++) {
        const tr_version *v = &reg.versions[i];
        if (v->deprecated_at)
            continue;
        tr_rank_entry *e = &res->entries[res->n++];
        snprintf(e->version, sizeof e->version, "%s", v->version);
        e->type = v->type;
        e->was_active = v->is_active;
        e->from = v->data_to > w0 ? v->data_to : w0;
        e->to = o->as_of;
        e->raw = e->norm = e->score = NAN;
        e->prod_win_rate = e->prod_total_pips = e->prod_avg_pips = NAN;
        for (size_t k = 0; k < n_sigs; k++) {
            if (strcmp(sigs[k].model_version, v->version) != 0)
                continue;
            e->prod_signals++;
            int win = strcmp(sigs[k].outcome, "win") == 0;
            if (!win && strcmp(sigs[k].outcome, "loss") != 0)
                continue;
            if (e->prod_resolved++ == 0)
                e->prod_total_pips = 0;
            e->prod_wins += win;
            e->prod_total_pips += sigs[k].pnl_pips;
        }
        if (e->prod_resolved) {
            e->prod_win_rate = (double)e->prod_wins / (double)e->prod_resolved;
            e->prod_avg_pips = e->prod_total_pips / (double)e->prod_resolved;
        }
        if (!tr_version_usable(v)) {
            snprintf(e->note, sizeof e->note, "status %s", tr_version_status_name(v->status));
            continue;
        }
        if (e->from >= e->to) {
            snprintf(e->note, sizeof e->note,
                     "no bars after its data window before the as-of "
                     "time");
            continue;
        }
        tr_error ee;
        tr_code erc;
        tr_eval_set *set = e->from == w0 ? shared_set(&sets, store, o, w0, v) : NULL;
        if (set)
            erc = tr_eval_set_version(set, store, v, er, &e->equity, &ee);
        else
            erc = tr_evaluate_version(store, v->version, NULL, 0, o->timeframe, e->from, e->to,
                                      NULL, er, &e->equity, &ee);
        if (erc == TR_ERR_NOMEM) {
            rc = tr_fail(err, TR_ERR_NOMEM, "out of memory");
            goto fail;
        }
        if (erc) {
            snprintf(e->note, sizeof e->note, "not evaluated: %.490s", ee.msg);
            continue;
        }
        e->evaluated = 1;
        e->figs = er->figs;
        e->bt = er->bt;
        res->n_evaluated++;
    }
    if (res->n_evaluated == 0) {
        /* no evidence: nothing is activated, retired or deleted; the skip is logged */
        char t0[32], t1[32];
        const char *why = "";
        for (size_t i = 0; i < res->n && !why[0]; i++)
            why = res->entries[i].note;
        res->skipped = 1;
        /* the store's last bar(s), from the no-data explanation (data/dataset.c), rather than
         * its first 80 characters: with them, the skip tells where to rank (--as-of) */
        const char *last = strstr(why, "the store's last bar");
        const char *shown = last ? last : why[0] ? why : "no version to evaluate";
        int n_why = last ? (int)strcspn(last, ";") : 80;
        snprintf(res->skip_reason, sizeof res->skip_reason,
                 "no version could be evaluated on [%s, %s) (%.*s): nothing activated or "
                 "retired; rank as of a time within the stored bars (--as-of)",
                 tr_time_format(w0, t0, sizeof t0), tr_time_format(o->as_of, t1, sizeof t1),
                 n_why > 160 ? 160 : n_why, shown);
        tr_log_row row;
        tr_log_row_begin(&row, "rank", o->as_of, started, TR_LOG_SKIPPED, NULL, res->active_before);
        snprintf(row.reason, sizeof row.reason, "%.250s", res->skip_reason);
        rc = tr_cycle_log(store, &row, err);
        if (rc)
            goto done; /* the registry cannot be written: nothing of ours applied */
        logged = 1;
        goto report;
    }
    int n_guarded = 0; /* eligible by trades, refused by the guard */
    for (size_t i = 0; i < res->n; i++) {
        tr_rank_entry *e = &res->entries[i];
        tr_rank_eligibility(e, o->min_trades);
        const tr_ab_test *t = tr_ab_test_of(&reg, e->version);
        if (t) {
            /* a version under test is left alone: reported, never activated by the ranking */
            e->eligible = 0;
            snprintf(e->note, sizeof e->note, "under A/B test %s (%s vs %s): the test decides",
                     t->id, t->version_a, t->version_b);
        }
        /* the guard against collapse, on the version's own validation part or gate window */
        const tr_version *gv = tr_registry_find(&reg, e->version);
        const char *where = "";
        char gverdict[16], why[200];
        if (e->eligible && gv && !o->no_guard &&
            tr_guard_check(tr_guard_figs(gv, &where), gverdict, sizeof gverdict, why, sizeof why)) {
            e->eligible = 0;
            n_guarded++;
            snprintf(e->note, sizeof e->note, "%s on its %s: never activated", why, where);
        }
    }
    /* a version without an edge (its rule holds every bar) is never preferred to one with */
    int edge = 0;
    for (size_t i = 0; i < res->n; i++) {
        const tr_version *v = tr_registry_find(&reg, res->entries[i].version);
        edge |= res->entries[i].eligible && v && !v->rule.no_edge;
    }
    for (size_t i = 0; i < res->n; i++) {
        tr_rank_entry *e = &res->entries[i];
        const tr_version *v = tr_registry_find(&reg, e->version);
        if (edge && e->eligible && v && v->rule.no_edge) {
            e->eligible = 0;
            snprintf(e->note, sizeof e->note,
                     "no edge on its validation part (its signals hold): a version with one is "
                     "eligible");
        }
        res->n_eligible += e->eligible;
    }
    long best = tr_rank_order(res->entries, res->n, &o->w, o->method);
    const tr_rank_entry *be = best >= 0 ? &res->entries[best] : NULL;
    const tr_rank_entry *ae = NULL;
    for (size_t i = 0; i < res->n; i++)
        if (res->entries[i].was_active)
            ae = &res->entries[i];
    if (be)
        snprintf(res->best, sizeof res->best, "%s", be->version);
    tr_activation a;
    memset(&a, 0, sizeof a);
    const tr_ab_test *active_test =
        res->active_before[0] ? tr_ab_test_of(&reg, res->active_before) : NULL;
    int do_activate = be && strcmp(be->version, res->active_before) != 0 && !active_test;
    if (active_test)
        snprintf(res->ab_hold, sizeof res->ab_hold, "%s", active_test->id);
    const char *keep = do_activate ? be->version : res->active_before;
    if (do_activate) {
        snprintf(a.from, sizeof a.from, "%s", res->active_before);
        snprintf(a.to, sizeof a.to, "%s", be->version);
        snprintf(a.reason, sizeof a.reason, "rank");
        tr_sb b = {0};
        char t0[32], t1[32];
        tr_sb_printf(&b,
                     "{\"by\":\"rank\",\"as_of\":\"%s\",\"window_days\":%d,\"method\":\"%s\","
                     "\"weights\":[%g,%g,%g,%g],\"min_trades\":%d,\"eligible\":%d,",
                     tr_time_format(o->as_of, t0, sizeof t0), o->window_days,
                     tr_score_method_name(o->method), o->w.win_rate, o->w.sharpe, o->w.avg_pnl,
                     o->w.drawdown, o->min_trades, res->n_eligible);
        evidence_of(&b, "best", be);
        tr_sb_printf(&b, ",");
        evidence_of(&b, "active", ae);
        const tr_version *bv = tr_registry_find(&reg, be->version);
        if (bv) {
            tr_sb_printf(&b, ",");
            evidence_guard(&b, bv);
        }
        tr_sb_printf(&b, ",\"window\":[\"%s\",", tr_time_format(be->from, t0, sizeof t0));
        tr_sb_printf(&b, "\"%s\"]}", tr_time_format(be->to, t1, sizeof t1));
        if (b.oom || !b.p || b.n >= sizeof a.evidence) {
            tr_sb_free(&b);
            rc = tr_fail(err, TR_ERR_NOMEM, "ranking evidence does not fit");
            goto fail;
        }
        snprintf(a.evidence, sizeof a.evidence, "%s", b.p);
        tr_sb_free(&b);
    }
    /* retention */
    size_t n_ret = tr_rank_retire_select(&reg, keep, o->as_of, o->retain_months, ridx);
    if (n_ret) {
        res->retired = calloc(n_ret, sizeof *res->retired);
        if (!res->retired) {
            rc = tr_fail(err, TR_ERR_NOMEM, "out of memory");
            goto fail;
        }
    }
    char lim[32];
    tr_time_format(tr_time_minus_months(o->as_of, o->retain_months), lim, sizeof lim);
    for (size_t i = 0; i < n_ret; i++) {
        upd[i] = reg.versions[ridx[i]];
        upd[i].deprecated_at = now;
        char ta[32];
        snprintf(upd[i].deprecation_reason, sizeof upd[i].deprecation_reason,
                 "retention: daily version as of %s, before %s (%d months before the ranking)",
                 tr_time_format(upd[i].as_of, ta, sizeof ta), lim, o->retain_months);
        snprintf(res->retired[i], TR_VERSION_MAX, "%s", upd[i].version);
    }
    res->n_retired = n_ret;
    /* the log row, then one transaction for everything */
    tr_log_row row;
    tr_log_row_begin(&row, "rank", o->as_of, started, TR_LOG_COMPLETED, res->best,
                     res->active_before);
    snprintf(row.verdict, sizeof row.verdict, "%s",
             do_activate   ? "activated"
             : active_test ? "held_by_ab"
             : be          ? "unchanged"
                           : "none_eligible");
    snprintf(row.gate_metric, sizeof row.gate_metric, "score_%s", tr_score_method_name(o->method));
    row.candidate_value = be ? be->score : NAN;
    row.active_value = ae ? ae->score : NAN;
    int w = snprintf(row.reason, sizeof row.reason, "%zu ranked, %d eligible, %zu retired", res->n,
                     res->n_eligible, n_ret);
    if (n_guarded && w > 0 && (size_t)w < sizeof row.reason)
        snprintf(row.reason + w, sizeof row.reason - (size_t)w,
                 "; %d refused by the guard against collapse (collapsed or overtrades)", n_guarded);
    tr_reg_txn txn;
    memset(&txn, 0, sizeof txn);
    txn.update = upd;
    txn.n_update = n_ret;
    txn.log = &row;
    txn.n_log = 1;
    txn.activate = do_activate ? &a : NULL;
    txn.now = now;
    /* the monthly_report event names the report, written right after the commit */
    char report_dir[4200], report_path[4400];
    reports_dir(store, report_dir, sizeof report_dir);
    tr_rank_report_path(report_dir, o->as_of, report_path, sizeof report_path);
    txn.report = report_path;
    rc = tr_store_registry_commit(store, &txn, err);
    if (rc) {
        if (rc == TR_ERR_CONFLICT)
            goto done; /* someone else changed it: nothing of ours applied; report as is */
        goto fail;
    }
    logged = 1;
    res->activated = do_activate;
    /* files of the retired versions, after the records say so */
    tr_registry after;
    if (n_ret && tr_store_registry_read(store, &after, NULL) == TR_OK) {
        delete_retired_files(store, &after, (const char(*)[TR_VERSION_MAX])res->retired, n_ret);
        tr_registry_free(&after);
    }
report:
    rc = write_report(store, o, res, &reg, err);
    goto done;
fail:
    if (!logged)
        tr_cycle_log_failure(store, "rank", o->as_of, started, "", res->active_before, err);
done:
    res->seconds = tr_mono_now() - mono0;
    tr_eval_set_free(&sets.set[0]);
    tr_eval_set_free(&sets.set[1]);
    free(er);
    free(upd);
    free(ridx);
    free(sigs);
    tr_registry_free(&reg);
    tr_store_cycle_unlock(store, lock);
    return rc;
}

tr_code tr_rank_run(tr_store *store, const tr_rank_opts *o, tr_rank_result *res, tr_error *err)
{
    tr_cycle_ctx ctx = {store, o->as_of, NULL, 0, NULL, NULL};
    return rank_run(&ctx, o, res, err);
}

/* The table entry: with nothing registered yet the ranking is skipped (logged), not failed. */
static tr_code rank_entry(const tr_cycle_ctx *ctx, const void *opts, tr_cycle_outcome *out,
                          tr_error *err)
{
    void *figures = out->figures;
    memset(out, 0, sizeof *out);
    out->figures = figures;
    tr_registry reg;
    tr_code rc = tr_store_registry_read(ctx->store, &reg, err);
    if (rc)
        return rc;
    size_t n_versions = reg.n_versions;
    tr_registry_free(&reg);
    if (n_versions == 0) {
        tr_log_row row;
        tr_log_row_begin(&row, "rank", ctx->as_of, tr_wall_now(), TR_LOG_SKIPPED, NULL, NULL);
        snprintf(row.reason, sizeof row.reason, "no version to rank yet");
        rc = tr_cycle_log(ctx->store, &row, err);
        if (!rc) {
            out->status = TR_LOG_SKIPPED;
            snprintf(out->detail, sizeof out->detail, "%s", row.reason);
        }
        return rc;
    }
    tr_rank_opts def = tr_rank_opts_default();
    tr_rank_result own;
    memset(&own, 0, sizeof own);
    tr_rank_result *rr = figures ? figures : &own;
    rc = rank_run(ctx, opts ? opts : &def, rr, err);
    out->status = rc ? TR_LOG_FAILED : rr->skipped ? TR_LOG_SKIPPED : TR_LOG_COMPLETED;
    if (!rc && rr->skipped) {
        snprintf(out->detail, sizeof out->detail, "%s", rr->skip_reason);
    } else if (!rc) {
        out->activated = rr->activated;
        snprintf(out->version, sizeof out->version, "%s", rr->best);
        snprintf(out->detail, sizeof out->detail,
                 "%zu ranked, %d eligible, best %s%s, %zu retired, report %.600s", rr->n,
                 rr->n_eligible, rr->best[0] ? rr->best : "none",
                 rr->activated ? " (activated)" : "", rr->n_retired, rr->report_path);
    }
    if (!figures)
        tr_rank_result_free(&own);
    return rc;
}

const tr_cycle_def tr_cycle_rank_def = {
    .name = "rank",
    .figures = "tr_rank_result",
    .run = rank_entry,
};
