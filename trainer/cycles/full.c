/*
 * full.c - the weekly full retrain (docs/registry.md, "full").
 *
 * The last `months` months of bars before as_of of every pair at the timeframe, split 70/15/15
 * with the embargo (dataset.h); the scaler fit on the training windows; class-weighted
 * cross-entropy with balanced weights from the training part; trained from scratch for at most
 * max_epochs epochs with early stopping on the validation loss (patience 8) and the best epoch's
 * weights restored; evaluated on all three parts and backtested on the test part; saved and
 * verified; registered as the next version with its log row, in one registry transaction. It is
 * activated only when no version is active (verdict "first_model"). Labels: barrier (the
 * default, chosen on walk-forward evidence, docs/results.md) or reversal (o->labels, labels.h),
 * recorded in the version's hyper JSON and the checkpoint's metadata as "labels":{"kind":...}.
 *
 * Resume: after every epoch the model with its whole training state (optimizer, progress, best
 * weights, generator) is saved to <models>/runs/full.ckpt, and runs/full.state records the run's
 * as-of time and version. The epoch history travels inside that checkpoint (its metadata, one
 * file, one rename): per epoch the curves and whether the monitored value improved, and "end"
 * after the epoch that ends training. The cycle decides early stopping itself from those flags
 * (the library's rule, fit.c: stop after an epoch that did not improve once `patience` epochs
 * in a row did not, from the second epoch on), so the checkpoint of the last epoch already says
 * that training is over. An epoch that improves first saves the model's weights to
 * runs/full.best. `--resume` loads the checkpoint: before the end it continues training exactly
 * where the run stopped; after it, it takes the best weights from runs/full.best and trains no
 * further, so a run killed anywhere between its last epoch and its registry commit records what
 * an uninterrupted one does (epochs, history, figures, checkpoint bytes).
 *
 * A completed cycle removes runs/ (runs/full.state last). A `--resume` that finds the run's
 * version already registered (killed after the commit, before that) only removes the leftovers
 * and reports the registered version: nothing is trained or logged again.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/threads.h"
#include "base/timeutil.h"
#include "cycles/abtest.h"
#include "cycles/cycle.h"
#include "cycles/driftcheck.h"
#include "cycles/testhook.h"

/* The run's epoch history: the curves in rec, per epoch whether the monitored value improved,
 * and whether training ended after the last one. */
typedef struct run_history {
    unsigned char improved[TR_HISTORY_MAX];
    int ended;
} run_history;

typedef struct fit_ctx {
    const tr_cycle_ctx *ctx;
    aifx_model *model;
    tr_version *rec; /* receives the training curves */
    run_history *hist;
    const char *ckpt_path;
    const char *best_path;
    int max_epochs, patience;
    int wait;        /* epochs since the last improvement (the early-stopping counter) */
    int interrupted; /* the epoch after which the test hook stopped the run, 0: none */
    int lock;        /* the cycle lock's token, checked before each epoch's files are written */
    int lock_lost;   /* another run took the lock (lock_err says how): stop, write nothing */
    tr_error lock_err;
    aifx_status save_status;
    char save_msg[256];
} fit_ctx;

static const char history_magic[] = "aifx-history 2\n";

/* The history as text: "aifx-history 2", then "epoch train val f1 lr improved" lines, then
 * "end" when training is over. NULL when out of memory (free the result). */
static char *history_text(const tr_version *rec, const run_history *h)
{
    tr_sb b = {0};
    tr_sb_printf(&b, "%s", history_magic);
    for (int i = 0; i < rec->n_history; i++)
        tr_sb_printf(&b, "%d %.9g %.9g %.9g %.9g %d\n", i + 1, (double)rec->hist_train_loss[i],
                     (double)rec->hist_val_loss[i], (double)rec->hist_val_macro_f1[i],
                     (double)rec->hist_lr[i], h->improved[i] ? 1 : 0);
    if (h->ended)
        tr_sb_printf(&b, "end\n");
    if (b.oom || !b.p) {
        tr_sb_free(&b);
        return NULL;
    }
    return b.p;
}

/* Parses history_text's form into rec and h; -1 when text is not one. */
static int history_parse(const char *text, tr_version *rec, run_history *h)
{
    rec->n_history = 0;
    memset(h, 0, sizeof *h);
    if (!text || strncmp(text, history_magic, sizeof history_magic - 1) != 0)
        return -1;
    const char *p = text + sizeof history_magic - 1;
    while (*p) {
        if (strcmp(p, "end\n") == 0) {
            h->ended = 1;
            return rec->n_history > 0 ? 0 : -1;
        }
        int e, imp, used = 0;
        float tl, vl, f1, lr;
        if (sscanf(p, "%d %g %g %g %g %d\n%n", &e, &tl, &vl, &f1, &lr, &imp, &used) != 6 ||
            used == 0 || e != rec->n_history + 1 || e > TR_HISTORY_MAX || (imp != 0 && imp != 1))
            return -1;
        rec->hist_train_loss[e - 1] = tl;
        rec->hist_val_loss[e - 1] = vl;
        rec->hist_val_macro_f1[e - 1] = f1;
        rec->hist_lr[e - 1] = lr;
        h->improved[e - 1] = (unsigned char)imp;
        rec->n_history = e;
        p += used;
    }
    return 0;
}

/* The epoch of the best monitored value (the last improvement), 0 if none. */
static int history_best(const tr_version *rec, const run_history *h)
{
    for (int i = rec->n_history; i >= 1; i--)
        if (h->improved[i - 1])
            return i;
    return 0;
}

static int on_epoch(const aifx_epoch_report *r, void *user)
{
    fit_ctx *c = user;
    if (r->epoch < 1 || r->epoch > TR_HISTORY_MAX) {
        c->save_status = AIFX_ERR_INVALID;
        snprintf(c->save_msg, sizeof c->save_msg, "epoch %d beyond the %d a history keeps",
                 r->epoch, TR_HISTORY_MAX);
        return 1;
    }
    /* the run's files are this run's only while it holds the lock: a server restart can drop it
     * (PostgreSQL) and another run take it; then stop before writing anything */
    if (tr_store_cycle_lock_check(c->ctx->store, c->lock, &c->lock_err) != TR_OK) {
        c->lock_lost = 1;
        return 1;
    }
    tr_version *v = c->rec;
    v->hist_train_loss[r->epoch - 1] = (float)r->train_loss;
    v->hist_val_loss[r->epoch - 1] = (float)r->val_loss;
    v->hist_val_macro_f1[r->epoch - 1] = (float)r->val_macro_f1;
    v->hist_lr[r->epoch - 1] = r->lr;
    v->n_history = r->epoch;
    c->hist->improved[r->epoch - 1] = r->improved != 0;
    /* early stopping (the library's rule, decided here so that this epoch's checkpoint knows) */
    c->wait = r->improved ? 0 : c->wait + 1;
    int stop = !r->improved && c->wait >= c->patience && r->epoch > 1;
    c->hist->ended = stop || r->epoch >= c->max_epochs;
    aifx_status st = AIFX_OK;
    if (r->improved) /* the best weights, before the checkpoint that counts on them */
        st = aifx_model_save(c->model, c->best_path, 0, c->save_msg, sizeof c->save_msg);
    char *text = history_text(v, c->hist);
    if (st == AIFX_OK && !text) {
        st = AIFX_ERR_NOMEM;
        snprintf(c->save_msg, sizeof c->save_msg, "out of memory for the epoch history");
    }
    if (st == AIFX_OK)
        st = aifx_model_set_metadata(c->model, text);
    free(text);
    if (st == AIFX_OK)
        st = aifx_model_save(c->model, c->ckpt_path, 1, c->save_msg, sizeof c->save_msg);
    if (st != AIFX_OK) {
        c->save_status = st;
        if (!c->save_msg[0])
            snprintf(c->save_msg, sizeof c->save_msg, "%s", aifx_strerror(st));
        return 1;
    }
    if (c->ctx->on_event) {
        tr_event ev = {TR_EV_EPOCH, "full", NULL, r};
        c->ctx->on_event(&ev, c->ctx->user);
    }
    if (tr_testhook_epoch && tr_testhook_epoch("full", r->epoch)) {
        c->interrupted = r->epoch;
        return 1;
    }
    return c->hist->ended;
}

/* The test hook at a named point after training (testhook.h): 1 to stop there as if killed. */
static int killed_at(const char *point)
{
    return tr_testhook_point && tr_testhook_point("full", point);
}

/* Removes the run's files: the temporary files first, runs/full.state (the marker that a run
 * exists) last, so that a kill in between leaves a run that --resume finds and cleans. */
static void remove_run(const char *ckpt_path, const char *best_path, const char *history_path,
                       const char *state_path)
{
    const char *const files[4] = {history_path, best_path, ckpt_path, state_path};
    for (int k = 0; k < 4; k++)
        (void)tr_tmp_remove_all(files[k]);
    for (int k = 0; k < 4; k++)
        (void)unlink(files[k]);
}

static void stage(const tr_cycle_ctx *ctx, const char *text)
{
    tr_cycle_stage(ctx, "full", text);
}

static tr_code read_state(const char *path, int64_t *as_of, char *version, size_t size,
                          tr_error *err)
{
    char *text;
    size_t len;
    tr_code rc = tr_file_read(path, &text, &len, err);
    if (rc)
        return rc;
    long long t = 0;
    char v[TR_VERSION_MAX];
    int ok = sscanf(text, "aifx-run 1 full as_of=%lld version=%63s", &t, v) == 2 &&
             tr_version_name_valid(v);
    free(text);
    if (!ok)
        return tr_fail(err, TR_ERR_FORMAT, "%s: not a run state file", path);
    *as_of = t;
    snprintf(version, size, "%s", v);
    return TR_OK;
}

/* The label settings as a JSON object: {"kind":"reversal","k":..,"m":..,"h":..,"atr":..} or
 * {"kind":"barrier","stop_atr":..,"target_atr":..,"max_hold":..,"atr":..,"spread":"pair"}.
 * The kind comes first; tr_hyper_label_kind reads it back (incremental inherits it). */
static void labels_json(tr_sb *b, const tr_label_params *l)
{
    if (l->kind == TR_LABELS_BARRIER)
        tr_sb_printf(b,
                     "{\"kind\":\"barrier\",\"stop_atr\":%g,\"target_atr\":%g,\"max_hold\":%d,"
                     "\"atr\":%d,\"spread\":\"pair\"}",
                     l->trade.sl_atr, l->trade.tp_atr, l->trade.max_hold, l->atr_period);
    else
        tr_sb_printf(b, "{\"kind\":\"reversal\",\"k\":%d,\"m\":%g,\"h\":%d,\"atr\":%d}", l->k, l->m,
                     l->h, l->atr_period);
}

static void hyper_json(const tr_full_opts *o, const tr_dataset *ds, char *out, size_t size)
{
    tr_sb b = {0};
    tr_sb_printf(&b,
                 "{\"model\":\"lstm\",\"n_features\":%d,\"n_steps\":%d,\"n_layers\":%d,"
                 "\"n_hidden\":%d,\"n_classes\":3,\"dropout\":%g,\"batch\":%d,\"lr\":%g,"
                 "\"optimizer\":\"adam\",\"max_epochs\":%d,\"early_stopping\":{\"monitor\":\"%s\","
                 "\"patience\":%d},\"restore_best\":true,\"seed\":%llu,\"months\":%d,"
                 "\"timeframe\":%d,\"labels\":",
                 TR_N_FEATURES, ds->opt.window, o->n_layers, o->n_hidden, (double)o->dropout,
                 o->batch, (double)o->lr, o->max_epochs,
                 o->monitor == AIFX_MONITOR_VAL_MACRO_F1 ? "val_macro_f1" : "val_loss", o->patience,
                 (unsigned long long)o->seed, o->months, (int)o->timeframe);
    labels_json(&b, &ds->opt.label);
    tr_sb_printf(&b, ",\"split\":[%g,%g],\"embargo\":%d,\"class_weight\":\"balanced^%g\"}",
                 ds->opt.train_frac, ds->opt.val_frac,
                 ds->opt.embargo ? ds->opt.embargo
                                 : ds->opt.window + tr_label_horizon(&ds->opt.label),
                 o->class_weight_power);
    snprintf(out, size, "%s", b.oom || !b.p ? "{}" : b.p);
    tr_sb_free(&b);
}

static tr_code new_model(const tr_full_opts *o, const tr_dataset *ds, const tr_split_data *train,
                         aifx_model **out, tr_error *err)
{
    aifx_model_config mc = aifx_model_config_default();
    mc.n_features = TR_N_FEATURES;
    mc.n_steps = ds->opt.window;
    mc.n_layers = o->n_layers;
    mc.n_hidden = o->n_hidden;
    mc.n_classes = 3;
    mc.dropout = o->dropout;
    mc.batch_size = o->batch;
    mc.seed = o->seed;
    mc.n_threads = tr_train_threads();
    aifx_model *m;
    aifx_status st = aifx_model_new(&mc, &m);
    if (st != AIFX_OK)
        return tr_fail_aifx(err, st, "creating the model");
    static const char *const classes[3] = {"hold", "buy", "sell"};
    st = aifx_model_fit_scaler(m, &train->d);
    if (st == AIFX_OK)
        st = aifx_model_set_feature_names(m, tr_feature_names);
    if (st == AIFX_OK)
        st = aifx_model_set_class_names(m, classes);
    if (st == AIFX_OK) {
        aifx_adam_config ac = aifx_adam_config_default();
        ac.lr = o->lr;
        st = aifx_model_set_optimizer(m, &ac);
    }
    if (st != AIFX_OK) {
        aifx_model_free(m);
        return tr_fail_aifx(err, st, "preparing the model");
    }
    *out = m;
    return TR_OK;
}

/* The retrain as of ctx->as_of (0: now), continuing the interrupted run with ctx->resume. */
static tr_code full_run(const tr_cycle_ctx *ctx, const tr_full_opts *o, tr_cycle_result *res,
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
    char ckpt_path[4400], state_path[4400], history_path[4400], best_path[4400];
    char runs[4400];
    if (o->max_epochs < 1 || o->max_epochs > TR_HISTORY_MAX)
        return tr_fail(err, TR_ERR_INVALID, "bad number of epochs %d (1..%d)", o->max_epochs,
                       TR_HISTORY_MAX);
    tr_code rc = tr_store_path(store, TR_AREA_RUNS, "full.ckpt", ckpt_path, sizeof ckpt_path, err);
    if (!rc) /* the history file of earlier releases, removed with the run */
        rc = tr_store_path(store, TR_AREA_RUNS, "full.history", history_path, sizeof history_path,
                           err);
    if (!rc)
        rc = tr_store_path(store, TR_AREA_RUNS, "full.best", best_path, sizeof best_path, err);
    if (!rc)
        rc = tr_store_path(store, TR_AREA_RUNS, "full.state", state_path, sizeof state_path, err);
    if (!rc)
        rc = tr_store_path(store, TR_AREA_RUNS, NULL, runs, sizeof runs, err);
    if (!rc)
        rc = tr_mkdir_p(runs, err);
    if (rc)
        return rc;
    int lock = -1;
    rc = tr_store_cycle_lock(store, "full", &lock, err);
    if (rc)
        return rc;
    tr_registry reg;
    tr_dataset *ds = NULL;
    tr_rows rows = {0};
    tr_split_data sp[3];
    memset(sp, 0, sizeof sp);
    aifx_model *model = NULL;
    float *probs[3] = {NULL, NULL, NULL};
    int8_t *pred[3] = {NULL, NULL, NULL};
    int64_t as_of = ctx->as_of;
    char version[TR_VERSION_MAX] = "";
    int registry_ok = 0, ckpt_written = 0;
    int interrupted = 0; /* by the test hook: not a failure of the cycle, it resumes */
    tr_version *rec = &res->rec;
    memset(rec, 0, sizeof *rec);
    run_history hist;
    memset(&hist, 0, sizeof hist);

    rc = tr_store_registry_read(store, &reg, err);
    if (rc)
        goto done;
    registry_ok = 1;
    int resuming = ctx->resume && access(state_path, F_OK) == 0;
    if (resuming) {
        int64_t st_as_of = 0;
        rc = read_state(state_path, &st_as_of, version, sizeof version, err);
        if (rc)
            goto fail;
        const tr_version *done_v = tr_registry_find(&reg, version);
        if (done_v && (ctx->as_of == st_as_of || ctx->as_of == 0)) {
            /* killed after its commit, before runs/ was cleaned: the run is complete */
            remove_run(ckpt_path, best_path, history_path, state_path);
            *rec = *done_v;
            snprintf(res->version, sizeof res->version, "%s", version);
            res->status = TR_LOG_COMPLETED;
            res->resumed_epoch = done_v->epochs;
            res->candidate_value = done_v->figs[TR_SPLIT_TEST].macro_f1;
            for (size_t i = reg.n_log; i-- > 0;) {
                const tr_log_row *lr = &reg.log[i];
                if (strcmp(lr->cycle, "full") == 0 && strcmp(lr->version, version) == 0 &&
                    lr->status == TR_LOG_COMPLETED) {
                    snprintf(res->verdict, sizeof res->verdict, "%s", lr->verdict);
                    snprintf(res->reason, sizeof res->reason, "%.200s", lr->reason);
                    break;
                }
            }
            goto done;
        }
        if (done_v) {
            /* the leftovers of a completed run as of another time: a fresh run follows */
            remove_run(ckpt_path, best_path, history_path, state_path);
            resuming = 0;
            version[0] = '\0';
        }
    }
    if (resuming) {
        int64_t st_as_of = 0;
        rc = read_state(state_path, &st_as_of, version, sizeof version, err);
        if (rc)
            goto fail;
        if (ctx->as_of != st_as_of && ctx->as_of != 0) {
            char a[32], b[32];
            rc = tr_fail(err, TR_ERR_INVALID,
                         "--resume: the interrupted run of %s is as of %s, not %s", version,
                         tr_time_format(st_as_of, a, sizeof a),
                         tr_time_format(ctx->as_of, b, sizeof b));
            goto fail;
        }
        as_of = st_as_of;
        char msg[512];
        if (access(ckpt_path, F_OK) == 0) { /* else killed before the first epoch ended */
            aifx_status st = aifx_model_load(ckpt_path, &model, msg, sizeof msg);
            if (st != AIFX_OK) {
                rc = tr_fail(err, TR_ERR_FORMAT, "--resume: %s", msg);
                goto fail;
            }
            if (history_parse(aifx_model_metadata(model), rec, &hist) != 0) {
                rc = tr_fail(err, TR_ERR_FORMAT,
                             "--resume: %s holds no epoch history of this program (a run of an "
                             "earlier release): run full without --resume",
                             ckpt_path);
                goto fail;
            }
            if (hist.ended) {
                /* training was over: its result is the best epoch's weights */
                aifx_model_free(model);
                model = NULL;
                st = aifx_model_load(best_path, &model, msg, sizeof msg);
                if (st != AIFX_OK) {
                    rc = tr_fail(err, TR_ERR_FORMAT, "--resume: the best weights: %s", msg);
                    goto fail;
                }
            }
        }
    } else {
        if (as_of == 0)
            as_of = tr_wall_now();
        remove_run(ckpt_path, best_path, history_path, state_path);
        rc = tr_registry_next_full(&reg, o->version_base, version, sizeof version, err);
        if (rc)
            goto fail;
    }
    snprintf(res->version, sizeof res->version, "%s", version);

    char(*pairs)[TR_PAIR_MAX] = res->pairs;
    rc = tr_store_pairs(store, o->timeframe, pairs, 8, &res->n_pairs, err);
    if (rc)
        goto fail;
    const char *pp[8];
    for (int i = 0; i < res->n_pairs; i++)
        pp[i] = pairs[i];
    tr_dataset_options dopt = tr_dataset_options_default();
    dopt.from = tr_time_minus_months(as_of, o->months);
    dopt.to = as_of;
    dopt.label.kind = o->labels;
    stage(ctx, "building the dataset");
    rc = tr_dataset_build(store, pp, res->n_pairs, o->timeframe, &dopt, &ds, err);
    if (rc)
        goto fail;
    rc = tr_rows_make(ds, &rows, err);
    for (int k = 0; k < 3 && !rc; k++)
        rc = tr_split_make(ds, &rows, k, &sp[k], err);
    if (rc)
        goto fail;
    if (ds->n[TR_SPLIT_VAL] == 0 || ds->n[TR_SPLIT_TEST] == 0) {
        rc = tr_fail(err, TR_ERR_NOTFOUND,
                     "too few samples for a validation and a test part "
                     "(train %zu, val %zu, test %zu)",
                     ds->n[0], ds->n[1], ds->n[2]);
        goto fail;
    }
    if (model) {
        aifx_model_config mc;
        aifx_model_get_config(model, &mc);
        if (mc.n_features != TR_N_FEATURES || mc.n_steps != ds->opt.window) {
            rc = tr_fail(err, TR_ERR_FORMAT, "--resume: %s does not fit this dataset", ckpt_path);
            goto fail;
        }
    } else {
        rc = new_model(o, ds, &sp[0], &model, err);
        if (rc)
            goto fail;
        char text[256];
        snprintf(text, sizeof text, "aifx-run 1 full as_of=%lld version=%s\n", (long long)as_of,
                 version);
        rc = tr_file_write_atomic(state_path, text, strlen(text), err);
        if (rc)
            goto fail;
    }
    double cwd[3];
    float cw[3];
    for (int c = 0; c < 3; c++) {
        cwd[c] = ds->class_weight[c] > 0 ? pow(ds->class_weight[c], o->class_weight_power) : 0.0;
        cw[c] = (float)cwd[c];
    }
    fit_ctx fc;
    memset(&fc, 0, sizeof fc);
    fc.ctx = ctx;
    fc.model = model;
    fc.rec = rec;
    fc.hist = &hist;
    fc.ckpt_path = ckpt_path;
    fc.best_path = best_path;
    fc.max_epochs = o->max_epochs;
    fc.lock = lock;
    fc.patience = o->patience;
    for (int i = rec->n_history; i >= 1 && !hist.improved[i - 1]; i--)
        fc.wait++; /* the counter as the run left it */
    aifx_fit_config fcfg = aifx_fit_config_default();
    fcfg.epochs = o->max_epochs;
    fcfg.class_weights = cw;
    fcfg.monitor = (aifx_monitor)o->monitor;
    fcfg.early_stopping = 0; /* decided in on_epoch, which records it in the checkpoint */
    fcfg.patience = o->patience;
    fcfg.restore_best = 1;
    fcfg.clip_norm = 1.0f;
    fcfg.callback = on_epoch;
    fcfg.user = &fc;
    if (hist.ended) { /* resumed after the end of training: nothing left to train */
        rec->epochs = rec->n_history;
        rec->best_epoch = history_best(rec, &hist);
        res->resumed_epoch = rec->n_history;
    } else {
        aifx_fit_result fr;
        memset(&fr, 0, sizeof fr);
        stage(ctx, "training");
        /* a resumed model was loaded with one thread; should this fail (no memory for the
         * workers) it trains on what it has, to the same bytes on the packed path */
        (void)aifx_model_set_threads(model, tr_train_threads());
        double t0 = tr_mono_now();
        aifx_status st = aifx_model_fit(model, &sp[0].d, &sp[1].d, &fcfg, &fr);
        rec->seconds = tr_mono_now() - t0;
        res->resumed_epoch = fr.epoch - fr.epochs_run;
        if (fc.lock_lost) {
            rc = tr_fail(err, fc.lock_err.code, "%s", fc.lock_err.msg); /* names the store */
            goto fail;
        }
        if (fc.save_status != AIFX_OK) {
            rc = tr_fail(err, TR_ERR_IO, "epoch checkpoint: %s", fc.save_msg);
            goto fail;
        }
        if (st != AIFX_OK) {
            rc = tr_fail_aifx(err, st, "training");
            goto fail;
        }
        if (fc.interrupted) {
            interrupted = 1;
            rc = tr_fail(err, TR_ERR_IO,
                         "training interrupted after epoch %d (test hook); "
                         "continue with --resume",
                         fc.interrupted);
            goto fail;
        }
        rec->epochs = fr.epoch;
        rec->best_epoch = fr.best_epoch;
        if (rec->n_history > fr.epoch)
            rec->n_history = fr.epoch;
    }
    {
        char a[32];
        tr_sb mb = {0};
        tr_sb_printf(&mb,
                     "{\"version\":\"%s\",\"type\":\"full\",\"as_of\":\"%s\",\"features\":"
                     "\"aifx-38\",\"classes\":[\"hold\",\"buy\",\"sell\"],\"labels\":",
                     version, tr_time_format(as_of, a, sizeof a));
        labels_json(&mb, &ds->opt.label);
        tr_sb_printf(&mb, "}");
        aifx_model_set_metadata(model, mb.oom || !mb.p ? "{}" : mb.p);
        tr_sb_free(&mb);
    }
    if (killed_at("trained"))
        goto killed;
    stage(ctx, "evaluating");
    for (int k = 0; k < 3; k++) {
        rc = tr_predict_split(model, ds, &rows, k, &probs[k], &pred[k], err);
        if (rc)
            goto fail;
        tr_cls_figs_compute(ds->n[k], sp[k].labels, pred[k], probs[k], cwd, &rec->figs[k]);
    }
    /* the decision rule, chosen on the validation part only (decide.h); the test part's
     * backtest is the rule's, as predict, the replay and the service will trade it */
    rc = tr_rule_fit(ds, TR_SPLIT_VAL, probs[1], sp[1].labels, o->decision != TR_DECISION_ARGMAX,
                     o->min_trades > 0 ? o->min_trades : TR_RULE_MIN_TRADES, &rec->rule,
                     &res->rel_raw, &res->rel_cal, err);
    if (rc)
        goto fail;
    tr_rule_apply(&rec->rule, ds->n[2], probs[2], pred[2], NULL);
    rc = tr_backtest_split(ds, TR_SPLIT_TEST, pred[2], NULL, NULL, &rec->bt, res->bt_pairs, err);
    if (rc)
        goto fail;
    if (killed_at("evaluated"))
        goto killed;

    snprintf(rec->version, sizeof rec->version, "%s", version);
    rec->type = TR_VT_FULL;
    rec->status = TR_VS_COMPLETED;
    rec->as_of = as_of;
    rec->data_from = dopt.from;
    rec->data_to = dopt.to;
    for (int k = 0; k < 3; k++)
        rec->n_samples[k] = (int64_t)ds->n[k];
    for (int c = 0; c < 3; c++)
        rec->class_weight[c] = cwd[c];
    hyper_json(o, ds, rec->hyper, sizeof rec->hyper);
    stage(ctx, "saving and verifying the checkpoint");
    rc = tr_store_cycle_lock_check(store, lock, err); /* the version's file is ours to write */
    if (!rc)
        rc = tr_checkpoint_save_verified(store, model, rec, err);
    if (rc)
        goto fail;
    ckpt_written = 1;
    /* the drift reference of its training part, beside the checkpoint (driftcheck.h) */
    rc = tr_drift_reference_save(store, rec, ds, err);
    if (rc)
        goto fail;
    rec->trained_at = tr_wall_now();
    if (killed_at("saved"))
        goto killed;

    char ab_note[160] = "";
    tr_ab_test abt;
    int ab_start = 0;
    if (o->ab) {
        /* a test whose planned end has come is concluded first (its winner may become active) */
        int ending = 0;
        for (size_t i = 0; i < reg.n_abtests; i++)
            ending |= reg.abtests[i].status == TR_AB_RUNNING && reg.abtests[i].planned_end <= as_of;
        if (ending) {
            stage(ctx, "concluding the A/B test that reached its planned end");
            tr_cycle_ctx look = *ctx;
            look.as_of = as_of;
            rc = tr_ab_look(&look, NULL, NULL, NULL, 0, err);
            if (!rc) {
                tr_registry_free(&reg);
                registry_ok = 0;
                rc = tr_store_registry_read(store, &reg, err);
                registry_ok = rc == TR_OK;
            }
            if (rc)
                goto fail;
        }
        const tr_version *cur = tr_registry_active(&reg);
        const tr_ab_test *busy = tr_ab_running_for(&reg, "");
        if (!cur) {
            snprintf(ab_note, sizeof ab_note, "; no A/B test: nothing active to test against");
        } else if (rec->rule.no_edge) {
            snprintf(ab_note, sizeof ab_note, "; no A/B test: the new version has no edge");
        } else if (busy) {
            char te[32];
            snprintf(ab_note, sizeof ab_note, "; no A/B test: %s runs until %s", busy->id,
                     tr_time_format(busy->planned_end, te, sizeof te));
        } else {
            tr_ab_start_opts so = tr_ab_start_opts_default();
            so.a = cur->version;
            so.b = version;
            if (o->ab_split > 0)
                so.split = o->ab_split;
            if (o->ab_days > 0)
                so.days = o->ab_days;
            so.min_trades = o->ab_min_trades;
            so.as_of = as_of;
            so.origin = "full";
            rc = tr_ab_new(&reg, &so, &abt, err);
            if (rc)
                goto fail;
            ab_start = 1;
            snprintf(ab_note, sizeof ab_note, "; A/B test %.16s started: %.40s (A) vs %.40s (B)",
                     abt.id, abt.version_a, abt.version_b);
        }
    }

    tr_log_row row;
    tr_log_row_begin(&row, "full", as_of, started, TR_LOG_COMPLETED, version, NULL);
    snprintf(row.gate_metric, sizeof row.gate_metric, "macro_f1");
    row.candidate_value = rec->figs[TR_SPLIT_TEST].macro_f1;
    row.active_value = NAN;
    const tr_version *active = tr_registry_active(&reg);
    tr_activation act;
    memset(&act, 0, sizeof act);
    tr_reg_txn txn;
    memset(&txn, 0, sizeof txn);
    txn.put = rec;
    txn.n_put = 1;
    txn.log = &row;
    txn.n_log = 1;
    txn.now = row.finished_at;
    if (!active) {
        snprintf(row.verdict, sizeof row.verdict, "first_model");
        snprintf(row.reason, sizeof row.reason, "no active version: the first model is activated");
        snprintf(act.to, sizeof act.to, "%s", version);
        snprintf(act.reason, sizeof act.reason, "first_model");
        snprintf(act.evidence, sizeof act.evidence,
                 "{\"cycle\":\"full\",\"test_macro_f1\":%.6f,\"test_accuracy\":%.6f,"
                 "\"test_n\":%lld,\"backtest_trades\":%lld,\"backtest_win_rate\":%.6f}",
                 rec->figs[2].macro_f1, rec->figs[2].accuracy, (long long)rec->figs[2].n,
                 (long long)rec->bt.trades, rec->bt.win_rate);
        txn.activate = &act;
        res->activated = 1;
    } else {
        snprintf(row.parent, sizeof row.parent, "%s", active->version);
        snprintf(row.reason, sizeof row.reason,
                 "registered; %.63s stays active (the ranking and A/B tests choose)%.120s",
                 active->version, ab_note);
        if (ab_start) {
            txn.ab_put = &abt;
            txn.n_ab_put = 1;
        }
    }
    if (rec->rule.no_edge) {
        /* registered and said so: a version without an edge on its validation part signals hold */
        char why[640];
        if (rec->rule.val_trades > 0)
            snprintf(why, sizeof why,
                     "no edge: the best rule on validation (threshold %.2f) made %+.1f pips in "
                     "%lld trades; its signals hold; %s",
                     rec->rule.threshold, rec->rule.val_pips, (long long)rec->rule.val_trades,
                     row.reason);
        else
            snprintf(why, sizeof why,
                     "no edge: no rule made %lld trades on validation; its signals hold; %s",
                     (long long)rec->rule.min_trades, row.reason);
        snprintf(row.verdict, sizeof row.verdict, "no_edge");
        snprintf(row.reason, sizeof row.reason, "%.255s", why);
    }
    snprintf(res->verdict, sizeof res->verdict, "%s", row.verdict);
    snprintf(res->reason, sizeof res->reason, "%s", row.reason);
    res->candidate_value = row.candidate_value;
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
    if (killed_at("committed"))
        goto killed;
    res->status = TR_LOG_COMPLETED;
    remove_run(ckpt_path, best_path, history_path, state_path);
    goto done;
killed:
    /* as if the process died here: no failed row, nothing cleaned up */
    res->status = TR_LOG_FAILED;
    rc = tr_fail(err, TR_ERR_IO, "full cycle stopped by the test hook; continue with --resume");
    goto done;
fail:
    /* the version's file is removed only while the lock is still this run's: after a lost lock
     * the file of that name may be the other run's */
    if (ckpt_written && tr_store_cycle_lock_check(store, lock, NULL) == TR_OK) {
        char path[4400], name[TR_VERSION_MAX + 8];
        if (tr_store_path(store, TR_AREA_MODELS, rec->checkpoint, path, sizeof path, NULL) == TR_OK)
            unlink(path);
        snprintf(name, sizeof name, "%s.ref", rec->version);
        if (tr_store_path(store, TR_AREA_MODELS, name, path, sizeof path, NULL) == TR_OK)
            unlink(path);
    }
    res->status = TR_LOG_FAILED;
    {
        /* an interruption is not a failure of the cycle: it resumes */
        if (registry_ok && !interrupted)
            tr_cycle_log_failure(store, "full", as_of, started, version, "", err);
    }
done:
    res->seconds = tr_mono_now() - mono0;
    for (int k = 0; k < 3; k++) {
        free(probs[k]);
        free(pred[k]);
        tr_split_free(&sp[k]);
    }
    tr_rows_free(&rows);
    tr_dataset_free(ds);
    aifx_model_free(model);
    if (registry_ok)
        tr_registry_free(&reg);
    tr_store_cycle_unlock(store, lock);
    return rc;
}

tr_code tr_cycle_full(tr_store *store, const tr_full_opts *o, tr_cycle_result *res, tr_error *err)
{
    tr_full_opts def = tr_full_opts_default();
    if (!o) /* NULL: the defaults, as for the cycle's table entry */
        o = &def;
    tr_cycle_ctx ctx = {store, o->as_of, NULL, o->resume, o->on_event, o->user};
    return full_run(&ctx, o, res, err);
}

static tr_code full_train(const tr_cycle_ctx *ctx, const void *opts, tr_cycle_result *res,
                          tr_error *err)
{
    tr_full_opts def = tr_full_opts_default();
    const tr_full_opts *o = opts ? opts : &def;
    tr_cycle_ctx c = tr_cycle_ctx_sink(ctx, o->on_event, o->user);
    return full_run(&c, o, res, err);
}

static tr_code full_entry(const tr_cycle_ctx *ctx, const void *opts, tr_cycle_outcome *out,
                          tr_error *err)
{
    return tr_cycle_run_training(ctx, opts, full_train, out, err);
}

/* 1 when runs/full.state holds an interrupted run as of exactly ctx->as_of (its first line
 * "aifx-run 1 full as_of=<t> ..."). */
static int full_pending(const tr_cycle_ctx *ctx)
{
    char path[4400], *text;
    size_t len;
    long long at;
    if (tr_store_path(ctx->store, TR_AREA_RUNS, "full.state", path, sizeof path, NULL) != TR_OK ||
        tr_file_read(path, &text, &len, NULL) != TR_OK)
        return 0;
    int ok = sscanf(text, "aifx-run 1 full as_of=%lld", &at) == 1 && (int64_t)at == ctx->as_of;
    free(text);
    return ok;
}

/* Removes runs/ when it holds a run whose version is registered (killed after its commit). */
static void full_tidy(const tr_cycle_ctx *ctx)
{
    char state[4400], ckpt[4400], best[4400], history[4400], v[TR_VERSION_MAX];
    int64_t at;
    if (tr_store_path(ctx->store, TR_AREA_RUNS, "full.state", state, sizeof state, NULL) ||
        tr_store_path(ctx->store, TR_AREA_RUNS, "full.ckpt", ckpt, sizeof ckpt, NULL) ||
        tr_store_path(ctx->store, TR_AREA_RUNS, "full.best", best, sizeof best, NULL) ||
        tr_store_path(ctx->store, TR_AREA_RUNS, "full.history", history, sizeof history, NULL) ||
        access(state, F_OK) != 0 || read_state(state, &at, v, sizeof v, NULL) != TR_OK)
        return;
    int lock = -1;
    if (tr_store_cycle_lock(ctx->store, "full", &lock, NULL) != TR_OK)
        return; /* a full run is at work: its files are its own */
    tr_registry reg;
    if (tr_store_registry_read(ctx->store, &reg, NULL) == TR_OK) {
        if (tr_registry_find(&reg, v))
            remove_run(ckpt, best, history, state);
        tr_registry_free(&reg);
    }
    tr_store_cycle_unlock(ctx->store, lock);
}

const tr_cycle_def tr_cycle_full_def = {
    .name = "full",
    .figures = "tr_cycle_result",
    .run = full_entry,
    .pending = full_pending,
    .tidy = full_tidy,
};
