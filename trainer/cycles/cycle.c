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
    o.min_samples = 100;
    o.lr = 1e-4f;
    o.epochs = 10;
    o.batch = 32;
    o.gate_metric = TR_GATE_MACRO_F1;
    o.gate_days = 7;
    o.seed = 42;
    return o;
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

int64_t tr_wall_now(void)
{
    return (int64_t)time(NULL);
}

double tr_mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int64_t tr_time_minus_months(int64_t t, int months)
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t secs = t - days * 86400;
    int64_t y;
    int m, d;
    tr_civil_from_days(days, &y, &m, &d);
    int64_t mm = y * 12 + (m - 1) - months;
    y = mm >= 0 ? mm / 12 : -((-mm + 11) / 12);
    m = (int)(mm - y * 12) + 1;
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    int ml = mdays[m - 1] + (m == 2 && leap);
    if (d > ml)
        d = ml;
    return tr_days_from_civil(y, m, d) * 86400 + secs;
}

tr_code tr_store_pairs(tr_store *store, int32_t tf, char (*pairs)[TR_PAIR_MAX], int max, int *n,
                       tr_error *err)
{
    tr_series_info *list;
    size_t nl;
    *n = 0;
    tr_code rc = tr_store_series_list(store, &list, &nl, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < nl && *n < max; i++)
        if (list[i].timeframe == tf)
            snprintf(pairs[(*n)++], TR_PAIR_MAX, "%s", list[i].pair);
    free(list);
    if (*n == 0) {
        char tfn[16];
        return tr_fail(err, TR_ERR_NOTFOUND, "store %s has no series at %s", store->location,
                       tr_timeframe_name(tf, tfn, sizeof tfn));
    }
    return TR_OK;
}

tr_code tr_fail_aifx(tr_error *err, aifx_status st, const char *what)
{
    tr_code c = st == AIFX_ERR_NOMEM      ? TR_ERR_NOMEM
                : st == AIFX_ERR_IO       ? TR_ERR_IO
                : st == AIFX_ERR_CHECKSUM ? TR_ERR_CHECKSUM
                : st == AIFX_ERR_VERSION  ? TR_ERR_VERSION
                : st == AIFX_ERR_FORMAT || st == AIFX_ERR_TRUNCATED || st == AIFX_ERR_ARCH
                    ? TR_ERR_FORMAT
                : st == AIFX_ERR_DIVERGED || st == AIFX_ERR_NONFINITE ? TR_ERR_DATA
                                                                      : TR_ERR_INVALID;
    return tr_fail(err, c, "%s: %s", what, aifx_strerror(st));
}

tr_code tr_checkpoint_save_verified(tr_store *store, const aifx_model *m, tr_version *rec,
                                    tr_error *err)
{
    char path[4400], msg[512];
    snprintf(rec->checkpoint, sizeof rec->checkpoint, "%s.ckpt", rec->version);
    snprintf(path, sizeof path, "%s/%s", store->models_dir, rec->checkpoint);
    tr_code rc0 = tr_mkdir_p(store->models_dir, err);
    if (rc0)
        return rc0;
    aifx_status st = aifx_model_save(m, path, 0, msg, sizeof msg);
    if (st != AIFX_OK)
        return tr_fail(err, TR_ERR_IO, "saving version %s: %s", rec->version, msg);
    char *data;
    size_t len;
    tr_code rc = tr_file_read(path, &data, &len, err);
    if (rc)
        return rc;
    aifx_model *back = NULL;
    st = aifx_model_load_buffer(data, len, &back, msg, sizeof msg);
    if (st == AIFX_OK) {
        aifx_model *mm = (aifx_model *)(uintptr_t)m; /* read-only access to the block */
        size_t np = aifx_net_n_params(aifx_model_net(mm));
        if (np != aifx_net_n_params(aifx_model_net(back)) ||
            memcmp(aifx_net_params(aifx_model_net(mm)), aifx_net_params(aifx_model_net(back)),
                   np * sizeof(float)) != 0)
            rc = tr_fail(err, TR_ERR_CHECKSUM,
                         "checkpoint %s of version %s reads back different parameters", path,
                         rec->version);
    } else {
        rc = tr_fail(err, TR_ERR_FORMAT, "checkpoint of version %s does not verify: %s",
                     rec->version, msg);
    }
    aifx_model_free(back);
    if (!rc) {
        rec->ckpt_crc = aifx_crc32(0, data, len);
        rec->ckpt_size = (int64_t)len;
    } else {
        unlink(path);
    }
    free(data);
    return rc;
}

tr_code tr_checkpoint_load(tr_store *store, const tr_version *rec, aifx_model **out, tr_error *err)
{
    char path[4400], msg[512];
    *out = NULL;
    if (!tr_version_usable(rec))
        return tr_fail(err, TR_ERR_INVALID, "version %s is not usable (status %s)", rec->version,
                       tr_version_status_name(rec->status));
    snprintf(path, sizeof path, "%s/%s", store->models_dir, rec->checkpoint);
    char *data;
    size_t len;
    tr_code rc = tr_file_read(path, &data, &len, err);
    if (rc == TR_ERR_NOTFOUND)
        return tr_fail(err, TR_ERR_NOTFOUND, "checkpoint %s of version %s is missing", path,
                       rec->version);
    if (rc)
        return rc;
    if ((int64_t)len != rec->ckpt_size || aifx_crc32(0, data, len) != rec->ckpt_crc) {
        free(data);
        return tr_fail(err, TR_ERR_CHECKSUM,
                       "checkpoint %s of version %s does not match the registry (size %zu, "
                       "recorded %lld, or checksum)",
                       path, rec->version, len, (long long)rec->ckpt_size);
    }
    aifx_status st = aifx_model_load_buffer(data, len, out, msg, sizeof msg);
    free(data);
    if (st != AIFX_OK)
        return tr_fail(err, TR_ERR_FORMAT, "version %s: %s", rec->version, msg);
    return TR_OK;
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

tr_code tr_evaluate_version(tr_store *store, const char *version, const char *const *pairs,
                            int n_pairs, int32_t timeframe, int64_t from, int64_t to,
                            const tr_bt_override *ovr, tr_eval_report *out, tr_equity *equity,
                            tr_error *err)
{
    memset(out, 0, sizeof *out);
    if (equity)
        memset(equity, 0, sizeof *equity);
    snprintf(out->version, sizeof out->version, "%s", version);
    out->from = from;
    out->to = to;
    tr_registry reg;
    tr_code rc = tr_store_registry_read(store, &reg, err);
    if (rc)
        return rc;
    const tr_version *v;
    aifx_model *m = NULL;
    tr_dataset *ds = NULL;
    tr_rows rows = {0};
    float *probs = NULL;
    int8_t *pred = NULL;
    int32_t *y = NULL;
    rc = tr_registry_get(&reg, version, &v, err);
    if (!rc)
        rc = tr_checkpoint_load(store, v, &m, err);
    if (rc)
        goto done;
    if (n_pairs == 0) {
        rc = tr_store_pairs(store, timeframe, out->pairs, 8, &out->n_pairs, err);
        if (rc)
            goto done;
    } else {
        if (n_pairs > 8) {
            rc = tr_fail(err, TR_ERR_INVALID, "at most 8 pairs");
            goto done;
        }
        for (int i = 0; i < n_pairs; i++)
            snprintf(out->pairs[i], TR_PAIR_MAX, "%s", pairs[i]);
        out->n_pairs = n_pairs;
    }
    const char *pp[8];
    for (int i = 0; i < out->n_pairs; i++)
        pp[i] = out->pairs[i];
    tr_dataset_options d = tr_dataset_options_default();
    d.from = from;
    d.to = to;
    d.no_split = 1;
    rc = tr_dataset_build(store, pp, out->n_pairs, timeframe, &d, &ds, err);
    if (!rc)
        rc = tr_rows_make(ds, &rows, err);
    if (!rc)
        rc = tr_predict_split(m, ds, &rows, TR_SPLIT_TEST, &probs, &pred, err);
    if (rc)
        goto done;
    y = tr_split_labels(ds, TR_SPLIT_TEST);
    if (!y) {
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory");
        goto done;
    }
    tr_cls_figs_compute(ds->n[TR_SPLIT_TEST], y, pred, probs, v->class_weight, &out->figs);
    rc = tr_backtest_split_equity(ds, TR_SPLIT_TEST, pred, probs, ovr, &out->bt, out->bt_pairs,
                                  equity, err);
done:
    free(y);
    free(probs);
    free(pred);
    tr_rows_free(&rows);
    tr_dataset_free(ds);
    aifx_model_free(m);
    tr_registry_free(&reg);
    return rc;
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
