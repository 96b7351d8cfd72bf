/*
 * incremental.c - the daily fine-tune and its deploy gate (docs/registry.md, "incremental").
 *
 * Windows:  fine-tune  labeled windows whose last bar is in [as_of - 24 h, as_of)
 *           gate       labeled windows whose last bar is in [g0, g1), g1 = as_of - 24 h - E bars,
 *                      g0 = g1 - gate_days; E = T + max(k, h) is the embargo, so no gate window
 *                      or label overlaps a fine-tune window (the gate is out of the fine-tune's
 *                      data).
 * The active version (with its scaler, which is never refit) is copied into a model with batch
 * 32, its progress and optimizer reset, and trained 10 epochs at lr 1e-4 with the class weights
 * of its full ancestor, no early stopping (there is no validation set within 24 hours). Both
 * models are scored on the gate window; the candidate is activated when it is at least as good
 * (tr_gate_decide) and passes the guard against collapse on that window (tr_guard_check: its
 * predicted buy+sell share within [0.5x, 2x] of the labels'; verdicts "collapsed", "overtrades"),
 * or with --force. Version, log row (with the verdict and both figures) and activation commit
 * together.
 *
 * Labels: the parent's kind (its hyper JSON, tr_hyper_label_kind), for the fine-tune data and the
 * gate window alike, recorded again in the daily version's hyper. Too few fine-tune windows
 * (min_samples, default tr_incr_min_samples: 40 per pair at 15 minutes) is a logged skip.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/threads.h"
#include "base/timeutil.h"
#include "cycles/cycle.h"

static int on_epoch(const aifx_epoch_report *r, void *user)
{
    const tr_cycle_ctx *ctx = user;
    if (ctx->on_event) {
        tr_event ev = {TR_EV_EPOCH, "incremental", NULL, r};
        ctx->on_event(&ev, ctx->user);
    }
    return 0;
}

static void stage(const tr_cycle_ctx *ctx, const char *text)
{
    tr_cycle_stage(ctx, "incremental", text);
}

/* A window's dataset, labelled as label says; *ds NULL (and TR_OK) when it holds no usable
 * sample. */
static tr_code window_dataset(tr_store *store, const char *const *pairs, int n_pairs, int32_t tf,
                              const tr_label_params *label, int64_t from, int64_t to,
                              tr_dataset **ds, tr_error *err)
{
    tr_dataset_options d = tr_dataset_options_default();
    d.label = *label;
    d.from = from;
    d.to = to;
    d.no_split = 1;
    d.empty_ok = 1;
    *ds = NULL;
    return tr_dataset_build(store, pairs, n_pairs, tf, &d, ds, err);
}

/* The candidate: a copy of the active model with a new batch size. */
static tr_code copy_model(aifx_model *src, int batch, uint64_t seed, aifx_model **out,
                          tr_error *err)
{
    aifx_model_config c;
    aifx_model_get_config(src, &c);
    c.batch_size = batch;
    c.seed = seed;
    c.n_threads = tr_train_threads();
    aifx_model *m;
    aifx_status st = aifx_model_new(&c, &m);
    if (st != AIFX_OK)
        return tr_fail_aifx(err, st, "creating the candidate");
    aifx_net *a = aifx_model_net(src), *b = aifx_model_net(m);
    memcpy(aifx_net_params(b), aifx_net_params(a), aifx_net_n_params(a) * sizeof(float));
    float *m0, *s0, *m1, *s1;
    aifx_model_scaler(src, &m0, &s0);
    aifx_model_scaler(m, &m1, &s1);
    memcpy(m1, m0, (size_t)c.n_features * sizeof(float));
    memcpy(s1, s0, (size_t)c.n_features * sizeof(float));
    const char *fn[256], *cn[AIFX_MAX_CLASSES];
    int ok = c.n_features <= 256;
    for (int i = 0; ok && i < c.n_features; i++)
        ok = (fn[i] = aifx_model_feature_name(src, i)) != NULL;
    for (int i = 0; ok && i < c.n_classes; i++)
        ok = (cn[i] = aifx_model_class_name(src, i)) != NULL;
    if (ok)
        st = aifx_model_set_feature_names(m, fn);
    if (ok && st == AIFX_OK)
        st = aifx_model_set_class_names(m, cn);
    if (!ok || st != AIFX_OK) {
        aifx_model_free(m);
        return tr_fail(err, TR_ERR_FORMAT, "the active model's names cannot be copied");
    }
    *out = m;
    return TR_OK;
}

static tr_code score(const aifx_model *m, const tr_dataset *ds, const double *cw, tr_cls_figs *figs,
                     float **probs, int8_t **pred, tr_error *err)
{
    tr_rows rows;
    tr_code rc = tr_rows_make(ds, &rows, err);
    if (rc)
        return rc;
    rc = tr_predict_split(m, ds, &rows, TR_SPLIT_TEST, probs, pred, err);
    tr_rows_free(&rows);
    if (rc)
        return rc;
    int32_t *y = tr_split_labels(ds, TR_SPLIT_TEST);
    if (!y) {
        free(*probs);
        free(*pred);
        *probs = NULL;
        *pred = NULL;
        return tr_fail(err, TR_ERR_NOMEM, "out of memory");
    }
    tr_cls_figs_compute(ds->n[TR_SPLIT_TEST], y, *pred, *probs, cw, figs);
    free(y);
    return TR_OK;
}

/* The fine-tune as of ctx->as_of. */
static tr_code incr_run(const tr_cycle_ctx *ctx, const tr_incr_opts *o, tr_cycle_result *res,
                        tr_error *err)
{
    tr_store *store = ctx->store;
    tr_error local;
    if (!err)
        err = &local;
    memset(res, 0, sizeof *res);
    res->candidate_value = res->active_value = NAN;
    int64_t started = tr_wall_now();
    double mono0 = tr_mono_now();
    int lock = -1;
    tr_code rc = tr_store_cycle_lock(store, "incremental", &lock, err);
    if (rc)
        return rc;
    tr_registry reg;
    int registry_ok = 0, ckpt_written = 0;
    tr_dataset *ft = NULL, *gate = NULL;
    tr_rows rows = {0};
    tr_split_data sp;
    memset(&sp, 0, sizeof sp);
    aifx_model *active_m = NULL, *cand = NULL;
    float *pa = NULL, *pc = NULL, *pf = NULL;
    int8_t *ya = NULL, *yc = NULL, *yf = NULL;
    char version[TR_VERSION_MAX] = "", parent[TR_VERSION_MAX] = "";
    tr_version *rec = &res->rec;
    memset(rec, 0, sizeof *rec);
    const int64_t as_of = ctx->as_of;

    rc = tr_store_registry_read(store, &reg, err);
    if (rc)
        goto done;
    registry_ok = 1;
    const tr_version *active = tr_registry_active(&reg);
    if (!active) {
        rc = tr_fail(err, TR_ERR_NOTFOUND,
                     "no active version to fine-tune (run `aifx-train full` first)");
        goto fail;
    }
    snprintf(parent, sizeof parent, "%s", active->version);
    rc = tr_registry_daily_name(parent, as_of, version, sizeof version, err);
    if (rc)
        goto fail;
    if (tr_registry_find(&reg, version)) {
        rc = tr_fail(err, TR_ERR_CONFLICT, "version %s already exists (today's fine-tune ran)",
                     version);
        goto done; /* not a failure of the cycle: nothing to log */
    }
    snprintf(res->version, sizeof res->version, "%s", version);
    stage(ctx, "loading the active version");
    rc = tr_checkpoint_load(store, active, &active_m, err);
    if (rc)
        goto fail;
    char pairs[8][TR_PAIR_MAX];
    int n_pairs;
    rc = tr_store_pairs(store, o->timeframe, pairs, 8, &n_pairs, err);
    if (rc)
        goto fail;
    const char *pp[8];
    for (int i = 0; i < n_pairs; i++)
        pp[i] = pairs[i];
    aifx_model_config mc;
    aifx_model_get_config(active_m, &mc);
    tr_dataset_options dd = tr_dataset_options_default();
    dd.label.kind = tr_hyper_label_kind(active->hyper); /* the parent's kind of labels */
    if (mc.n_steps != dd.window || mc.n_features != TR_N_FEATURES) {
        rc = tr_fail(err, TR_ERR_FORMAT, "version %s expects %d x %d windows, not %d x %d", parent,
                     mc.n_steps, mc.n_features, dd.window, TR_N_FEATURES);
        goto fail;
    }
    stage(ctx, "building the fine-tune window");
    int64_t ft_from = as_of - (o->window > 0 ? o->window : 86400);
    rc = window_dataset(store, pp, n_pairs, o->timeframe, &dd.label, ft_from, as_of, &ft, err);
    if (rc)
        goto fail;
    size_t n_ft = ft ? ft->n[TR_SPLIT_TEST] : 0;
    const int min_samples = o->min_samples > 0 ? o->min_samples
                                               : tr_incr_min_samples_window(n_pairs, o->timeframe,
                                                                            o->window, &dd.label);
    if (n_ft < (size_t)min_samples) {
        tr_log_row row;
        tr_log_row_begin(&row, "incremental", as_of, started, TR_LOG_SKIPPED, NULL, parent);
        snprintf(row.reason, sizeof row.reason,
                 "only %zu labeled windows in the last %lld hours (need %d)", n_ft,
                 (long long)((as_of - ft_from) / 3600), min_samples);
        rc = tr_cycle_log(store, &row, err);
        if (rc)
            goto done;
        res->status = TR_LOG_SKIPPED;
        res->version[0] = '\0';
        snprintf(res->reason, sizeof res->reason, "%s", row.reason);
        goto done;
    }
    rc = tr_rows_make(ft, &rows, err);
    if (!rc)
        rc = tr_split_make(ft, &rows, TR_SPLIT_TEST, &sp, err);
    if (!rc)
        rc = copy_model(active_m, o->batch, o->seed, &cand, err);
    if (rc)
        goto fail;
    aifx_status st = aifx_model_reset_progress(cand, 1);
    if (st == AIFX_OK)
        st = aifx_model_set_lr(cand, o->lr);
    if (st != AIFX_OK) {
        rc = tr_fail_aifx(err, st, "preparing the fine-tune");
        goto fail;
    }
    {
        char meta[512], a[32];
        snprintf(meta, sizeof meta,
                 "{\"version\":\"%s\",\"type\":\"incremental\",\"parent\":\"%s\",\"as_of\":\"%s\"}",
                 version, parent, tr_time_format(as_of, a, sizeof a));
        aifx_model_set_metadata(cand, meta);
    }
    float cw[3];
    for (int c = 0; c < 3; c++)
        cw[c] = (float)active->class_weight[c];
    int has_cw = cw[0] > 0 || cw[1] > 0 || cw[2] > 0;
    tr_cycle_ctx ev_ctx = *ctx; /* the epoch callback's */
    aifx_fit_config fcfg = aifx_fit_config_default();
    fcfg.epochs = o->epochs;
    fcfg.class_weights = has_cw ? cw : NULL;
    fcfg.monitor = AIFX_MONITOR_VAL_LOSS; /* without validation: the training loss */
    fcfg.restore_best = 0;
    fcfg.clip_norm = 1.0f;
    fcfg.callback = on_epoch;
    fcfg.user = &ev_ctx;
    stage(ctx, "fine-tuning");
    double t0 = tr_mono_now();
    aifx_fit_result fr;
    st = aifx_model_fit(cand, &sp.d, NULL, &fcfg, &fr);
    rec->seconds = tr_mono_now() - t0;
    if (st != AIFX_OK) {
        rc = tr_fail_aifx(err, st, "fine-tuning");
        goto fail;
    }
    rec->epochs = fr.epoch;
    rec->best_epoch = fr.epoch; /* no restore: the last epoch's weights are kept */
    rc = score(cand, ft, active->class_weight, &rec->figs[0], &pf, &yf, err);
    if (rc)
        goto fail;

    stage(ctx, "gate: scoring both versions on the last 7 days");
    int64_t E = dd.window + tr_label_horizon(&dd.label);
    int64_t g1 = ft_from - E * o->timeframe, g0 = g1 - (int64_t)o->gate_days * 86400;
    rc = window_dataset(store, pp, n_pairs, o->timeframe, &dd.label, g0, g1, &gate, err);
    if (rc)
        goto fail;
    tr_cls_figs fa;
    memset(&fa, 0, sizeof fa);
    double vc = NAN, va = NAN;
    if (gate) {
        rc = score(cand, gate, active->class_weight, &rec->figs[2], &pc, &yc, err);
        if (!rc)
            rc = score(active_m, gate, active->class_weight, &fa, &pa, &ya, err);
        if (!rc) { /* the backtest trades the parent's rule, which the fine-tune inherits */
            tr_rule_apply(&active->rule, gate->n[TR_SPLIT_TEST], pc, yc, pc);
            rc = tr_backtest_split(gate, TR_SPLIT_TEST, yc, pc, NULL, &rec->bt, NULL, err);
        }
        if (rc)
            goto fail;
        vc = tr_gate_value(o->gate_metric, &rec->figs[2]);
        va = tr_gate_value(o->gate_metric, &fa);
    }
    char verdict[16], guard[160];
    int activate =
        tr_gate_decide_guarded(o->gate_metric, vc, va, o->no_guard ? NULL : &rec->figs[2], o->force,
                               verdict, sizeof verdict, guard, sizeof guard);

    snprintf(rec->version, sizeof rec->version, "%s", version);
    rec->type = TR_VT_INCREMENTAL;
    snprintf(rec->parent, sizeof rec->parent, "%s", parent);
    rec->status = TR_VS_COMPLETED;
    rec->as_of = as_of;
    rec->data_from = ft_from;
    rec->data_to = as_of;
    rec->n_samples[0] = (int64_t)n_ft;
    rec->n_samples[2] = gate ? (int64_t)gate->n[TR_SPLIT_TEST] : 0;
    rec->rule = active->rule; /* calibrated and chosen on the full version's validation part */
    for (int c = 0; c < 3; c++)
        rec->class_weight[c] = active->class_weight[c];
    snprintf(rec->hyper, sizeof rec->hyper,
             "{\"model\":\"lstm\",\"n_features\":%d,\"n_steps\":%d,\"n_layers\":%d,"
             "\"n_hidden\":%d,\"fine_tune\":{\"lr\":%g,\"epochs\":%d,\"batch\":%d,"
             "\"min_samples\":%d},\"gate\":{\"metric\":\"%s\",\"days\":%d,\"from\":%lld,"
             "\"to\":%lld,\"tie\":\"candidate\",\"guard\":[%g,%g]},\"labels\":{\"kind\":\"%s\"},"
             "\"parent\":\"%s\"}",
             mc.n_features, mc.n_steps, mc.n_layers, mc.n_hidden, (double)o->lr, o->epochs,
             o->batch, min_samples, tr_gate_metric_name(o->gate_metric), o->gate_days,
             (long long)g0, (long long)g1, TR_GUARD_LOW, TR_GUARD_HIGH,
             tr_label_kind_name(dd.label.kind), parent);
    stage(ctx, "saving and verifying the checkpoint");
    rc = tr_checkpoint_save_verified(store, cand, rec, err);
    if (rc)
        goto fail;
    ckpt_written = 1;
    rec->trained_at = tr_wall_now();

    tr_log_row row;
    tr_log_row_begin(&row, "incremental", as_of, started, TR_LOG_COMPLETED, version, parent);
    snprintf(row.verdict, sizeof row.verdict, "%s", verdict);
    snprintf(row.gate_metric, sizeof row.gate_metric, "%s", tr_gate_metric_name(o->gate_metric));
    row.candidate_value = vc;
    row.active_value = va;
    char a0[32], a1[32];
    snprintf(row.reason, sizeof row.reason,
             "gate %s on %lld windows in [%s, %s): candidate %.6f vs active %s %.6f%s",
             tr_gate_metric_name(o->gate_metric), (long long)rec->n_samples[2],
             tr_time_format(g0, a0, sizeof a0), tr_time_format(g1, a1, sizeof a1), vc, parent, va,
             gate ? "" : " (no gate windows)");
    size_t used = strlen(row.reason);
    if (guard[0] && used < sizeof row.reason) /* the guard's figures, as far as they fit */
        snprintf(row.reason + used, sizeof row.reason - used, "; guard %s", guard);
    tr_activation act;
    memset(&act, 0, sizeof act);
    tr_reg_txn txn;
    memset(&txn, 0, sizeof txn);
    txn.put = rec;
    txn.n_put = 1;
    txn.log = &row;
    txn.n_log = 1;
    txn.now = row.finished_at;
    if (activate) {
        snprintf(act.from, sizeof act.from, "%s", parent);
        snprintf(act.to, sizeof act.to, "%s", version);
        snprintf(act.reason, sizeof act.reason, "%s", o->force ? "forced" : "gate");
        snprintf(act.evidence, sizeof act.evidence,
                 "{\"gate_metric\":\"%s\",\"candidate\":%.9g,\"active\":%.9g,\"window\":"
                 "[\"%s\",\"%s\"],\"n\":%lld,\"verdict\":\"%s\",\"guard\":{\"predicted\":%.6f,"
                 "\"labels\":%.6f,\"band\":[%g,%g],\"note\":\"%s\"}}",
                 tr_gate_metric_name(o->gate_metric), isfinite(vc) ? vc : -1.0,
                 isfinite(va) ? va : -1.0, a0, a1, (long long)rec->n_samples[2], verdict,
                 rec->figs[2].buy_share + rec->figs[2].sell_share,
                 rec->figs[2].true_buy_share + rec->figs[2].true_sell_share, TR_GUARD_LOW,
                 TR_GUARD_HIGH, guard);
        txn.activate = &act;
    }
    stage(ctx, "registering");
    /* the checkpoint (and drift reference) go with the version: on PostgreSQL into the
     * database in the same transaction, so that every host can load it */
    tr_version_files vf;
    rc = tr_version_files_of(store, rec, &vf, err);
    if (rc)
        goto fail;
    txn.files = vf.f;
    txn.n_files = vf.n;
    rc = tr_store_registry_commit(store, &txn, err);
    if (rc)
        goto fail;
    res->status = TR_LOG_COMPLETED;
    res->activated = activate;
    snprintf(res->verdict, sizeof res->verdict, "%s", verdict);
    snprintf(res->reason, sizeof res->reason, "%s", row.reason);
    res->candidate_value = vc;
    res->active_value = va;
    goto done;
fail:
    if (ckpt_written) {
        char path[4400];
        if (tr_store_path(store, TR_AREA_MODELS, rec->checkpoint, path, sizeof path, NULL) == TR_OK)
            unlink(path);
    }
    res->status = TR_LOG_FAILED;
    if (registry_ok)
        tr_cycle_log_failure(store, "incremental", as_of, started, version, parent, err);
done:
    res->seconds = tr_mono_now() - mono0;
    free(pa);
    free(pc);
    free(pf);
    free(ya);
    free(yc);
    free(yf);
    tr_split_free(&sp);
    tr_rows_free(&rows);
    tr_dataset_free(ft);
    tr_dataset_free(gate);
    aifx_model_free(active_m);
    aifx_model_free(cand);
    if (registry_ok)
        tr_registry_free(&reg);
    tr_store_cycle_unlock(store, lock);
    return rc;
}

tr_code tr_cycle_incremental(tr_store *store, const tr_incr_opts *o, tr_cycle_result *res,
                             tr_error *err)
{
    tr_incr_opts def = tr_incr_opts_default();
    if (!o) /* NULL: the defaults, as for the cycle's table entry */
        o = &def;
    tr_cycle_ctx ctx = {store, o->as_of, NULL, 0, o->on_event, o->user};
    return incr_run(&ctx, o, res, err);
}

static tr_code incr_train(const tr_cycle_ctx *ctx, const void *opts, tr_cycle_result *res,
                          tr_error *err)
{
    tr_incr_opts def = tr_incr_opts_default();
    const tr_incr_opts *o = opts ? opts : &def;
    tr_cycle_ctx c = tr_cycle_ctx_sink(ctx, o->on_event, o->user);
    return incr_run(&c, o, res, err);
}

static tr_code incr_entry(const tr_cycle_ctx *ctx, const void *opts, tr_cycle_outcome *out,
                          tr_error *err)
{
    return tr_cycle_run_training(ctx, opts, incr_train, out, err);
}

const tr_cycle_def tr_cycle_incremental_def = {
    .name = "incremental",
    .figures = "tr_cycle_result",
    .run = incr_entry,
};
