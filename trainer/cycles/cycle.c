/* cycle.c - what the cycles share: defaults, the gate, verified checkpoints (cycle.h). */
#define _POSIX_C_SOURCE 200809L

#include "cycles/cycle.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

tr_full_opts tr_full_opts_default(void)
{
    tr_full_opts o;
    memset(&o, 0, sizeof o);
    o.months = 3;
    o.timeframe = 900;
    o.n_layers = 1;
    o.n_hidden = 64;
    o.batch = 64;
    o.max_epochs = 100;
    o.patience = 8;
    o.lr = 1e-3f;
    o.dropout = 0.2f;
    o.monitor = AIFX_MONITOR_VAL_LOSS;
    o.class_weight_power = 0.5;
    o.labels = TR_LABELS_BARRIER; /* chosen on walk-forward evidence (docs/results.md) */
    o.seed = 42;
    o.ab_days = 7;
    o.ab_split = 0.5;
    return o;
}

tr_incr_opts tr_incr_opts_default(void)
{
    tr_incr_opts o;
    memset(&o, 0, sizeof o);
    o.timeframe = 900;
    o.min_samples = 0; /* tr_incr_min_samples */
    o.window = 86400;
    o.lr = 1e-4f;
    o.epochs = 10;
    o.batch = 32;
    o.gate_metric = TR_GATE_MACRO_F1;
    o.gate_days = 7;
    o.seed = 42;
    return o;
}

int64_t tr_clock_wall(const tr_cycle_ctx *ctx)
{
    (void)ctx;
    return tr_wall_now();
}

int64_t tr_clock_as_of(const tr_cycle_ctx *ctx)
{
    return ctx->as_of;
}

int64_t tr_cycle_now(const tr_cycle_ctx *ctx)
{
    return ctx->clock ? ctx->clock(ctx) : tr_wall_now();
}

void tr_cycle_stage(const tr_cycle_ctx *ctx, const char *cycle, const char *text)
{
    if (ctx->on_event) {
        tr_event ev = {TR_EV_STAGE, cycle, text, NULL};
        ctx->on_event(&ev, ctx->user);
    }
}

tr_cycle_ctx tr_cycle_ctx_sink(const tr_cycle_ctx *ctx, tr_event_fn fn, void *user)
{
    tr_cycle_ctx c = *ctx;
    if (!c.on_event) {
        c.on_event = fn;
        c.user = user;
    }
    return c;
}

tr_code tr_cycle_run_training(const tr_cycle_ctx *ctx, const void *opts, tr_train_fn train,
                              tr_cycle_outcome *out, tr_error *err)
{
    void *figures = out->figures;
    memset(out, 0, sizeof *out);
    out->figures = figures;
    tr_cycle_result *res = figures ? figures : calloc(1, sizeof *res);
    if (!res)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory");
    tr_code rc = train(ctx, opts, res, err);
    out->status = rc ? TR_LOG_FAILED : res->status;
    snprintf(out->version, sizeof out->version, "%s", res->version);
    snprintf(out->verdict, sizeof out->verdict, "%s", res->verdict);
    out->activated = res->activated;
    if (!rc) {
        int w = snprintf(out->detail, sizeof out->detail, "%s%s%.900s", res->verdict,
                         res->verdict[0] && res->reason[0] ? ": " : "", res->reason);
        if (res->resumed_epoch > 0 && w > 0 && (size_t)w < sizeof out->detail)
            snprintf(out->detail + w, sizeof out->detail - (size_t)w,
                     " (interrupted run resumed after epoch %d)", res->resumed_epoch);
    }
    if (!figures)
        free(res);
    return rc;
}

static const char *const gate_names[3] = {"macro_f1", "accuracy", "loss"};

const char *tr_gate_metric_name(int metric)
{
    return metric >= 0 && metric < 3 ? gate_names[metric] : "?";
}

int tr_gate_metric_parse(const char *s, int *metric)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(s, gate_names[i]) == 0) {
            *metric = i;
            return 0;
        }
    return -1;
}

double tr_gate_value(int metric, const tr_cls_figs *f)
{
    return metric == TR_GATE_ACCURACY ? f->accuracy
           : metric == TR_GATE_LOSS   ? f->loss
                                      : f->macro_f1;
}

int tr_gate_decide(int metric, double cand, double active, int force, char *verdict, size_t size)
{
    int ok;
    if (!isfinite(cand))
        ok = 0;
    else if (!isfinite(active))
        ok = 1; /* the active version cannot be scored there: any finite candidate is better */
    else if (metric == TR_GATE_LOSS)
        ok = cand <= active + 1e-12;
    else
        ok = cand >= active - 1e-12;
    if (force) {
        snprintf(verdict, size, "forced");
        return 1;
    }
    snprintf(verdict, size, "%s", ok ? "blessed" : "not_blessed");
    return ok;
}

int tr_incr_min_samples(int n_pairs, int32_t timeframe, const tr_label_params *label)
{
    return tr_incr_min_samples_window(n_pairs, timeframe, 86400, label);
}

int tr_incr_min_samples_window(int n_pairs, int32_t timeframe, int64_t window,
                               const tr_label_params *label)
{
    if (window <= 0)
        window = 86400;
    int per_day = timeframe > 0 ? (int)(window / timeframe) : 0;
    int per_pair = (per_day - tr_label_horizon(label)) / 2;
    if (per_pair < 1)
        per_pair = 1;
    return (n_pairs > 0 ? n_pairs : 1) * per_pair;
}

int tr_guard_check(const tr_cls_figs *f, char *verdict, size_t vsize, char *why, size_t wsize)
{
    if (why && wsize)
        why[0] = '\0';
    if (!f || f->n <= 0)
        return 0;
    double pred = f->buy_share + f->sell_share, label = f->true_buy_share + f->true_sell_share;
    const char *v = NULL;
    if (label > 0) {
        double r = pred / label;
        v = r < TR_GUARD_LOW ? "collapsed" : r > TR_GUARD_HIGH ? "overtrades" : NULL;
    } else if (pred > 0) {
        v = "overtrades"; /* trades where the labels see none */
    }
    if (!v)
        return 0;
    if (verdict && vsize)
        snprintf(verdict, vsize, "%s", v);
    if (why && wsize) {
        char ratio[32];
        if (label > 0)
            snprintf(ratio, sizeof ratio, "%.2fx", pred / label);
        else
            snprintf(ratio, sizeof ratio, "no labels");
        snprintf(why, wsize,
                 "%s: predicted buy+sell %.3f vs labels %.3f (%s, outside [%gx, %gx]) on %lld "
                 "windows",
                 v, pred, label, ratio, TR_GUARD_LOW, TR_GUARD_HIGH, (long long)f->n);
    }
    return 1;
}

const tr_cls_figs *tr_guard_figs(const tr_version *v, const char **where)
{
    int full = v->type == TR_VT_FULL;
    if (where)
        *where = full ? "validation part" : "gate window";
    return &v->figs[full ? TR_SPLIT_VAL : TR_SPLIT_TEST];
}

int tr_gate_decide_guarded(int metric, double candidate, double active, const tr_cls_figs *figs,
                           int force, char *verdict, size_t size, char *why, size_t wsize)
{
    char gv[16];
    int bad = tr_guard_check(figs, gv, sizeof gv, why, wsize);
    int ok = tr_gate_decide(metric, candidate, active, force, verdict, size);
    if (ok && bad && !force) {
        snprintf(verdict, size, "%s", gv);
        return 0;
    }
    return ok;
}

void tr_log_row_begin(tr_log_row *row, const char *cycle, int64_t as_of, int64_t started,
                      int status, const char *version, const char *parent)
{
    memset(row, 0, sizeof *row);
    snprintf(row->cycle, sizeof row->cycle, "%s", cycle);
    row->as_of = as_of;
    row->started_at = started;
    row->finished_at = tr_wall_now();
    row->status = status;
    snprintf(row->version, sizeof row->version, "%s", version ? version : "");
    snprintf(row->parent, sizeof row->parent, "%s", parent ? parent : "");
    row->candidate_value = row->active_value = NAN;
}

tr_code tr_cycle_log(tr_store *store, const tr_log_row *row, tr_error *err)
{
    tr_reg_txn txn;
    memset(&txn, 0, sizeof txn);
    txn.log = row;
    txn.n_log = 1;
    txn.now = row->finished_at;
    return tr_store_registry_commit(store, &txn, err);
}

void tr_cycle_log_failure(tr_store *store, const char *cycle, int64_t as_of, int64_t started,
                          const char *version, const char *parent, const tr_error *cause)
{
    tr_log_row row;
    tr_log_row_begin(&row, cycle, as_of, started, TR_LOG_FAILED, version, parent);
    snprintf(row.error, sizeof row.error, "%s", cause->msg);
    tr_error e2;
    (void)tr_cycle_log(store, &row, &e2); /* best effort: the cause is reported */
}

tr_code tr_activate(tr_store *store, const char *version, int rollback, const char *note,
                    char *from_out, char *to_out, tr_error *err)
{
    tr_registry reg;
    tr_code rc = tr_store_registry_read(store, &reg, err);
    if (rc)
        return rc;
    tr_activation a;
    memset(&a, 0, sizeof a);
    const tr_version *cur = tr_registry_active(&reg);
    snprintf(a.from, sizeof a.from, "%s", cur ? cur->version : "");
    if (rollback) {
        rc = tr_registry_rollback_target(&reg, a.to, sizeof a.to, err);
        snprintf(a.reason, sizeof a.reason, "rollback");
    } else {
        const tr_version *v;
        rc = tr_registry_get(&reg, version, &v, err);
        snprintf(a.to, sizeof a.to, "%s", version);
        snprintf(a.reason, sizeof a.reason, "manual");
    }
    if (!rc) {
        const tr_version *v = tr_registry_find(&reg, a.to);
        tr_sb b = {0};
        tr_sb_printf(&b, "{\"by\":\"operator\",\"note\":");
        tr_sb_json_str(&b, note ? note : "");
        if (v)
            tr_sb_printf(&b, ",\"test_macro_f1\":%.6f,\"backtest_trades\":%lld",
                         v->figs[2].macro_f1, (long long)v->bt.trades);
        tr_sb_printf(&b, "}");
        snprintf(a.evidence, sizeof a.evidence, "%s", b.oom || !b.p ? "{}" : b.p);
        tr_sb_free(&b);
        tr_reg_txn txn;
        memset(&txn, 0, sizeof txn);
        txn.activate = &a;
        txn.now = tr_wall_now();
        rc = tr_store_registry_commit(store, &txn, err);
    }
    if (!rc) {
        snprintf(from_out, TR_VERSION_MAX, "%s", a.from);
        snprintf(to_out, TR_VERSION_MAX, "%s", a.to);
    }
    tr_registry_free(&reg);
    return rc;
}
