/*
 * schema.c - the field tables of the registry records and the name tables of their
 * enumerations (schema.h). The order of each table is the order of the line format's keys, of
 * the JSON members and of the PostgreSQL columns; the keys and columns are fixed by the file
 * format and by store/sql/001_initial.sql.
 */
#include "registry/schema.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "registry/registry.h"

/* ---- enumerations ------------------------------------------------------------------------- */

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *const vt_names[] = {"full", "incremental"};
static const char *const vs_names[] = {"training", "completed", "failed", "deployed"};
static const char *const ls_names[] = {"completed", "skipped", "failed"};
static const char *const ab_names[] = {"running", "completed", "stopped"};

_Static_assert(N_OF(vt_names) == TR_VT_COUNT, "a name per version type");
_Static_assert(N_OF(vs_names) == TR_VS_COUNT, "a name per version status");
_Static_assert(N_OF(ls_names) == TR_LOG_COUNT, "a name per log status");
_Static_assert(N_OF(ab_names) == TR_AB_COUNT, "a name per A/B status");

const tr_enum_def tr_version_type_enum = {"tr_version_type", "training_type", vt_names,
                                          TR_VT_COUNT};
const tr_enum_def tr_version_status_enum = {"tr_version_status", "version_status", vs_names,
                                            TR_VS_COUNT};
const tr_enum_def tr_log_status_enum = {"tr_log_status", "log_status", ls_names, TR_LOG_COUNT};
const tr_enum_def tr_ab_status_enum = {"tr_ab_status", "ab_status", ab_names, TR_AB_COUNT};

const char *tr_enum_name(const tr_enum_def *e, int v)
{
    return v >= 0 && v < e->n ? e->names[v] : "?";
}

int tr_enum_value(const tr_enum_def *e, const char *s)
{
    for (int i = 0; i < e->n; i++)
        if (strcmp(e->names[i], s) == 0)
            return i;
    return -1;
}

/* ---- field tables ------------------------------------------------------------------------- */

#define MEMBER_SIZE(T, m) sizeof(((T *)0)->m)

/* The members every field has: member m of record T. */
#define FBASE(T, k, col, m, ty, d)                                                                 \
    .key = k, .column = col, .type = ty, .off = offsetof(T, m), .size = MEMBER_SIZE(T, m), .doc = d

/* A scalar or text member m of record T. */
#define F(T, key, col, m, ty, doc)                                                                 \
    {                                                                                              \
        FBASE(T, key, col, m, ty, doc)                                                             \
    }
/* A double that is NaN when a stored form lacks it (a log row's values, "not evaluated"). */
#define FNAN(T, key, col, m, doc)                                                                  \
    {                                                                                              \
        FBASE(T, key, col, m, TR_FT_DOUBLE, doc), .nan_default = 1                                 \
    }
/* An array of n elements (rows > 1: a matrix in JSON). */
#define FARR(T, key, col, m, ty, n, r, doc)                                                        \
    {                                                                                              \
        FBASE(T, key, col, m, ty, doc), .len = n, .rows = r                                        \
    }
/* A list: array member m whose length is the int member cnt. */
#define FLIST(T, key, col, m, ty, cnt, elem, doc)                                                  \
    {                                                                                              \
        FBASE(T, key, col, m, ty, doc), .len = (int)(MEMBER_SIZE(T, m) / sizeof(elem)),            \
                                        .count_off = offsetof(T, cnt)                              \
    }
/* An enumeration e. */
#define FENUM(T, key, col, m, e, doc)                                                              \
    {                                                                                              \
        FBASE(T, key, col, m, TR_FT_ENUM, doc), .enm = &e                                          \
    }
/* An embedded record at offset o (size n) described by schema s. */
#define FGROUP(k, col, o, n, s, prefix, d)                                                         \
    {                                                                                              \
        .key = k, .column = col, .type = TR_FT_GROUP, .off = o, .size = n, .sub = &s,              \
        .key_prefix = prefix, .doc = d                                                             \
    }

#define SCHEMA(name, T, table, fields)                                                             \
    const tr_schema name = {#T, table, sizeof(T), fields, N_OF(fields)}

static const tr_field cls_fields[] = {
    F(tr_cls_figs, "n", "n", n, TR_FT_INT64, "samples in the window"),
    F(tr_cls_figs, "loss", "loss", loss, TR_FT_DOUBLE, "mean cross-entropy"),
    F(tr_cls_figs, "accuracy", "accuracy", accuracy, TR_FT_DOUBLE, "share classified right"),
    F(tr_cls_figs, "macro_f1", "macro_f1", macro_f1, TR_FT_DOUBLE, "mean F1 of the classes"),
    FARR(tr_cls_figs, "precision", "precision", precision, TR_FT_DOUBLES, 3, 0,
         "per class: hold, buy, sell"),
    FARR(tr_cls_figs, "recall", "recall", recall, TR_FT_DOUBLES, 3, 0, "per class"),
    FARR(tr_cls_figs, "f1", "f1", f1, TR_FT_DOUBLES, 3, 0, "per class"),
    FARR(tr_cls_figs, "confusion", "confusion", confusion, TR_FT_INT64S, 9, 3,
         "[true][predicted], row-major"),
    F(tr_cls_figs, "buy_share", "buy_share", buy_share, TR_FT_DOUBLE, "of the predictions"),
    F(tr_cls_figs, "sell_share", "sell_share", sell_share, TR_FT_DOUBLE, "of the predictions"),
    F(tr_cls_figs, "true_buy_share", "true_buy_share", true_buy_share, TR_FT_DOUBLE,
      "of the labels"),
    F(tr_cls_figs, "true_sell_share", "true_sell_share", true_sell_share, TR_FT_DOUBLE,
      "of the labels"),
};
SCHEMA(tr_cls_figs_schema, tr_cls_figs, NULL, cls_fields);

static const tr_field bt_fields[] = {
    F(tr_bt_figs, "trades", "trades", trades, TR_FT_INT64, "summed over the pairs"),
    F(tr_bt_figs, "wins", "wins", wins, TR_FT_INT64, "summed"),
    F(tr_bt_figs, "n_signals", "n_signals", n_signals, TR_FT_INT64, "summed"),
    F(tr_bt_figs, "n_bars", "n_bars", n_bars, TR_FT_INT64, "summed"),
    F(tr_bt_figs, "win_rate", "win_rate", win_rate, TR_FT_DOUBLE, "wins / trades"),
    F(tr_bt_figs, "total_pips", "total_pips", total_pips, TR_FT_DOUBLE, "summed"),
    F(tr_bt_figs, "avg_pips", "avg_pips", avg_pips, TR_FT_DOUBLE, "per trade"),
    F(tr_bt_figs, "total_return", "total_return", total_return, TR_FT_DOUBLE, "summed"),
    F(tr_bt_figs, "sharpe", "sharpe", sharpe, TR_FT_DOUBLE, "mean of the pairs'"),
    F(tr_bt_figs, "sortino", "sortino", sortino, TR_FT_DOUBLE, "mean of the pairs'"),
    F(tr_bt_figs, "max_drawdown", "max_drawdown", max_drawdown, TR_FT_DOUBLE, "the worst pair's"),
    F(tr_bt_figs, "profit_factor", "profit_factor", profit_factor, TR_FT_DOUBLE,
      "gross win / gross loss"),
    F(tr_bt_figs, "signal_freq", "signal_freq", signal_freq, TR_FT_DOUBLE, "signals per bar"),
};
SCHEMA(tr_bt_figs_schema, tr_bt_figs, NULL, bt_fields);

/* The training curves are members of tr_version itself, grouped for JSON ("history"). */
static const tr_field history_fields[] = {
    F(tr_version, "n_history", "n_history", n_history, TR_FT_INT, "epochs recorded"),
    FLIST(tr_version, "hist_train_loss", "hist_train_loss", hist_train_loss, TR_FT_FLOAT_LIST,
          n_history, float, "per epoch"),
    FLIST(tr_version, "hist_val_loss", "hist_val_loss", hist_val_loss, TR_FT_FLOAT_LIST, n_history,
          float, "per epoch"),
    FLIST(tr_version, "hist_val_macro_f1", "hist_val_macro_f1", hist_val_macro_f1, TR_FT_FLOAT_LIST,
          n_history, float, "per epoch"),
    FLIST(tr_version, "hist_lr", "hist_lr", hist_lr, TR_FT_FLOAT_LIST, n_history, float,
          "learning rate per epoch"),
};
SCHEMA(tr_history_schema, tr_version, NULL, history_fields);

static const tr_field rule_fields[] = {
    F(tr_rule, "temperature", "temperature", temperature, TR_FT_DOUBLE,
      "calibration T; 0 (before rules) counts as 1"),
    F(tr_rule, "threshold", "threshold", threshold, TR_FT_DOUBLE,
      "minimum calibrated probability of a trade; 0: argmax"),
    F(tr_rule, "no_edge", "no_edge", no_edge, TR_FT_BOOL, "1: every signal is hold"),
    F(tr_rule, "cost_aware", "cost_aware", cost_aware, TR_FT_BOOL,
      "threshold chosen on validation PnL (0: argmax by choice)"),
    F(tr_rule, "min_trades", "min_trades", min_trades, TR_FT_INT64,
      "validation trades a threshold needed"),
    F(tr_rule, "val_trades", "val_trades", val_trades, TR_FT_INT64,
      "the rule's trades on the validation part"),
    FNAN(tr_rule, "val_pips", "val_pips", val_pips, "and its net pips there"),
    FNAN(tr_rule, "ece_raw", "ece_raw", ece_raw, "validation ECE before calibration"),
    FNAN(tr_rule, "ece_cal", "ece_cal", ece_cal, "and after"),
};
SCHEMA(tr_rule_schema, tr_rule, NULL, rule_fields);

#define FIGS(key, k)                                                                               \
    FGROUP(key, key "_", offsetof(tr_version, figs) + (k) * sizeof(tr_cls_figs),                   \
           sizeof(tr_cls_figs), tr_cls_figs_schema, key ".", "classification figures")

static const tr_field version_fields[] = {
    F(tr_version, "version", "version", version, TR_FT_TEXT, "the name (v1.0, v1.0-daily-...)"),
    FENUM(tr_version, "type", "type", type, tr_version_type_enum, "full or incremental"),
    F(tr_version, "parent", "parent_version", parent, TR_FT_TEXT, "\"\" for a full version"),
    FENUM(tr_version, "status", "status", status, tr_version_status_enum,
          "usable: completed or deployed"),
    F(tr_version, "trained_at", "trained_at", trained_at, TR_FT_TIME, "when it was registered"),
    F(tr_version, "as_of", "as_of", as_of, TR_FT_TIME, "the cycle's as-of time"),
    F(tr_version, "data_from", "data_from", data_from, TR_FT_TIME, "sample window [from, to)"),
    F(tr_version, "data_to", "data_to", data_to, TR_FT_TIME, "sample window [from, to)"),
    FARR(tr_version, "n_samples", "n_samples", n_samples, TR_FT_INT64S, 3, 0,
         "train, val, test (incremental: fine-tune, 0, gate)"),
    F(tr_version, "hyper", "hyperparameters_json", hyper, TR_FT_JSON,
      "architecture, optimiser, epochs, label settings"),
    FARR(tr_version, "class_weight", "class_weight", class_weight, TR_FT_DOUBLES, 3, 0,
         "hold, buy, sell"),
    F(tr_version, "epochs", "epochs", epochs, TR_FT_INT, "trained"),
    F(tr_version, "best_epoch", "best_epoch", best_epoch, TR_FT_INT, "kept"),
    F(tr_version, "seconds", "training_seconds", seconds, TR_FT_DOUBLE, "training wall time"),
    F(tr_version, "checkpoint", "checkpoint_path", checkpoint, TR_FT_TEXT,
      "relative to the models directory"),
    F(tr_version, "ckpt_crc", "checkpoint_crc32", ckpt_crc, TR_FT_U32,
      "CRC-32 of the checkpoint file"),
    F(tr_version, "ckpt_size", "checkpoint_size", ckpt_size, TR_FT_INT64, "bytes"),
    F(tr_version, "is_active", "is_active", is_active, TR_FT_BOOL, "at most one version"),
    F(tr_version, "deployed_at", "deployed_at", deployed_at, TR_FT_TIME, "last activation"),
    F(tr_version, "deprecated_at", "deprecated_at", deprecated_at, TR_FT_TIME, "retired"),
    F(tr_version, "deprecation_reason", "deprecation_reason", deprecation_reason, TR_FT_TEXT,
      "why retired"),
    F(tr_version, "error", "error_message", error, TR_FT_TEXT, "why it failed"),
    FIGS("train", 0),
    FIGS("val", 1),
    FIGS("test", 2),
    FGROUP("backtest", "bt_", offsetof(tr_version, bt), sizeof(tr_bt_figs), tr_bt_figs_schema,
           "bt.", "backtest figures"),
    FGROUP("history", "", 0, sizeof(tr_version), tr_history_schema, "", "training curves"),
    FGROUP("rule", "rule_", offsetof(tr_version, rule), sizeof(tr_rule), tr_rule_schema, "rule.",
           "decision rule"),
};
SCHEMA(tr_version_schema, tr_version, "model_versions", version_fields);

static const tr_field log_fields[] = {
    F(tr_log_row, "id", "log_id", id, TR_FT_INT64, "assigned on commit, 1, 2, ..."),
    F(tr_log_row, "cycle", "cycle", cycle, TR_FT_TEXT, "full, incremental"),
    F(tr_log_row, "as_of", "scheduled_for", as_of, TR_FT_TIME, "the cycle's as-of time"),
    F(tr_log_row, "started_at", "started_at", started_at, TR_FT_TIME, ""),
    F(tr_log_row, "finished_at", "finished_at", finished_at, TR_FT_TIME, ""),
    FENUM(tr_log_row, "status", "status", status, tr_log_status_enum, ""),
    F(tr_log_row, "reason", "reason", reason, TR_FT_TEXT, "why skipped, or a note"),
    F(tr_log_row, "version", "version", version, TR_FT_TEXT, "produced, \"\" if none"),
    F(tr_log_row, "parent", "parent_version", parent, TR_FT_TEXT,
      "fine-tuned from / active at the time"),
    F(tr_log_row, "verdict", "verdict", verdict, TR_FT_TEXT,
      "blessed, not_blessed, first_model, forced or \"\""),
    F(tr_log_row, "gate_metric", "gate_metric", gate_metric, TR_FT_TEXT,
      "macro_f1, accuracy, loss"),
    FNAN(tr_log_row, "candidate_value", "candidate_value", candidate_value,
         "NaN when not evaluated"),
    FNAN(tr_log_row, "active_value", "active_value", active_value, "NaN when not evaluated"),
    F(tr_log_row, "error", "error_message", error, TR_FT_TEXT, ""),
};
SCHEMA(tr_log_row_schema, tr_log_row, "model_training_log", log_fields);

static const tr_field act_fields[] = {
    F(tr_activation, "id", "activation_id", id, TR_FT_INT64, "assigned on commit"),
    F(tr_activation, "from", "from_version", from, TR_FT_TEXT, "\"\" when nothing was active"),
    F(tr_activation, "to", "to_version", to, TR_FT_TEXT, ""),
    F(tr_activation, "at", "activated_at", at, TR_FT_TIME, ""),
    F(tr_activation, "reason", "reason", reason, TR_FT_TEXT,
      "first_model, manual, rollback, gate, forced"),
    F(tr_activation, "evidence", "evidence_json", evidence, TR_FT_JSON,
      "the figures that justified it"),
};
SCHEMA(tr_activation_schema, tr_activation, "model_activations", act_fields);

static const tr_field event_fields[] = {
    F(tr_outbox_event, "id", "event_id", id, TR_FT_INT64, "assigned on commit: 1, 2, ..."),
    F(tr_outbox_event, "kind", "kind", kind, TR_FT_TEXT,
      "training_completed, training_failed, model_deployed, ..."),
    F(tr_outbox_event, "created_at", "created_at", created_at, TR_FT_TIME,
      "the transaction's time"),
    F(tr_outbox_event, "payload", "payload_json", payload, TR_FT_JSON, "a JSON object"),
};
SCHEMA(tr_outbox_event_schema, tr_outbox_event, "outbox", event_fields);

static const tr_field ab_fields[] = {
    F(tr_ab_test, "id", "test_id", id, TR_FT_TEXT, "ab1, ab2, ..."),
    F(tr_ab_test, "version_a", "version_a", version_a, TR_FT_TEXT, "control"),
    F(tr_ab_test, "version_b", "version_b", version_b, TR_FT_TEXT, "challenger"),
    F(tr_ab_test, "pairs", "pairs", pairs, TR_FT_TEXT,
      "sorted, comma-separated; \"\" = every pair"),
    F(tr_ab_test, "split", "split", split, TR_FT_DOUBLE, "share of bars assigned to B"),
    F(tr_ab_test, "seed", "seed", seed, TR_FT_U64, "of the assignment hash"),
    F(tr_ab_test, "started_at", "started_at", started_at, TR_FT_TIME, ""),
    F(tr_ab_test, "planned_end", "planned_end", planned_end, TR_FT_TIME, "started_at + days"),
    F(tr_ab_test, "min_trades", "min_trades", min_trades, TR_FT_INT64,
      "planned resolved trades per arm"),
    FENUM(tr_ab_test, "status", "status", status, tr_ab_status_enum, ""),
    F(tr_ab_test, "ended_at", "ended_at", ended_at, TR_FT_TIME, "never while running"),
    F(tr_ab_test, "origin", "origin", origin, TR_FT_TEXT, "manual, full"),
    F(tr_ab_test, "verdict", "verdict", verdict, TR_FT_TEXT, "a, b, tie, insufficient or \"\""),
    F(tr_ab_test, "end_reason", "end_reason", end_reason, TR_FT_TEXT,
      "planned_end, min_trades, early_stop, stopped"),
    F(tr_ab_test, "n_looks", "n_looks", n_looks, TR_FT_INT, "interim analyses made"),
    FLIST(tr_ab_test, "look_frac", "look_frac", look_frac, TR_FT_DOUBLE_LIST, n_looks, double,
          "their information fractions"),
    F(tr_ab_test, "n_pred_a", "n_pred_a", n_pred_a, TR_FT_INT64, "predictions assigned to A"),
    F(tr_ab_test, "n_pred_b", "n_pred_b", n_pred_b, TR_FT_INT64, "predictions assigned to B"),
    F(tr_ab_test, "result", "result_json", result, TR_FT_JSON, "the last analysis"),
};
SCHEMA(tr_ab_test_schema, tr_ab_test, "model_ab_test", ab_fields);

/* ---- flattening --------------------------------------------------------------------------- */

static int leaves(const tr_schema *s, size_t base, const char *kp, const char *cp, tr_leaf *out,
                  size_t max, size_t *n)
{
    for (size_t i = 0; i < s->n_fields; i++) {
        const tr_field *f = &s->fields[i];
        if (f->type == TR_FT_GROUP) {
            char k2[TR_LEAF_NAME_MAX], c2[TR_LEAF_NAME_MAX];
            int a = snprintf(k2, sizeof k2, "%s%s", kp, f->key_prefix);
            int b = snprintf(c2, sizeof c2, "%s%s", cp, f->column);
            if (a < 0 || (size_t)a >= sizeof k2 || b < 0 || (size_t)b >= sizeof c2 ||
                leaves(f->sub, base + f->off, k2, c2, out, max, n))
                return -1;
            continue;
        }
        if (*n >= max)
            return -1;
        tr_leaf *l = &out[(*n)++];
        l->f = f;
        l->off = base + f->off;
        l->count_off = base + f->count_off;
        int a = snprintf(l->key, sizeof l->key, "%s%s", kp, f->key);
        int b = snprintf(l->column, sizeof l->column, "%s%s", cp, f->column);
        if (a < 0 || (size_t)a >= sizeof l->key || b < 0 || (size_t)b >= sizeof l->column)
            return -1;
    }
    return 0;
}

size_t tr_schema_leaves(const tr_schema *s, tr_leaf *out, size_t max)
{
    size_t n = 0;
    return leaves(s, 0, "", "", out, max, &n) ? 0 : n;
}

int tr_schema_leaf(const tr_schema *s, const char *key, tr_leaf *out)
{
    tr_leaf all[TR_SCHEMA_LEAVES_MAX];
    size_t n = tr_schema_leaves(s, all, TR_SCHEMA_LEAVES_MAX);
    for (size_t i = 0; i < n; i++)
        if (strcmp(all[i].key, key) == 0) {
            *out = all[i];
            return 0;
        }
    return -1;
}

/* ---- defaults ----------------------------------------------------------------------------- */

static void nan_defaults(const tr_schema *s, char *rec)
{
    for (size_t i = 0; i < s->n_fields; i++) {
        const tr_field *f = &s->fields[i];
        if (f->type == TR_FT_GROUP)
            nan_defaults(f->sub, rec + f->off);
        else if (f->nan_default)
            *(double *)(void *)(rec + f->off) = NAN;
    }
}

void tr_schema_init(const tr_schema *s, void *rec)
{
    memset(rec, 0, s->size);
    nan_defaults(s, rec);
}

/* ---- the original design's tables (docs/schema.md 5.12) ------------------------------------ */

#define DV(name, type, rec, alias, key, expr, lim)                                                 \
    {                                                                                              \
        name, type, rec, alias, key, expr, lim                                                     \
    }
#define DV_NULL(name, type)                                                                        \
    {                                                                                              \
        name, type, NULL, NULL, NULL, NULL, 0                                                      \
    }
#define LOG(name, type, key)             DV(name, type, &tr_log_row_schema, "l", key, NULL, 0)
#define VER(name, type, key, lim)        DV(name, type, &tr_version_schema, "v", key, NULL, lim)
#define VERX(name, type, key, expr, lim) DV(name, type, &tr_version_schema, "v", key, expr, lim)
#define AB(name, type, key, expr, lim)   DV(name, type, &tr_ab_test_schema, "a", key, expr, lim)

#define N4    9.9999        /* numeric(5,4) */
#define N6_4  99.9999       /* numeric(6,4) */
#define N10_6 9999.999999   /* numeric(10,6) */
#define N10_2 99999999.99   /* numeric(10,2) */
#define N12_2 9999999999.99 /* numeric(12,2) */

static const tr_design_column training_log_cols[] = {
    DV("id", "uuid", NULL, NULL, NULL, "l.id", 0),
    LOG("model_version", "varchar(50)", "version"),
    LOG("training_type", "varchar(20)", "cycle"),
    VER("data_start_date", "timestamp", "data_from", 0),
    VER("data_end_date", "timestamp", "data_to", 0),
    VERX("num_samples", "integer", "n_samples", "(@C[1] + @C[2] + @C[3])", 0),
    VER("training_duration_seconds", "integer", "seconds", 2147483647.0),
    VERX("train_samples", "integer", "n_samples", "@C[1]", 0),
    VERX("val_samples", "integer", "n_samples", "@C[2]", 0),
    VERX("test_samples", "integer", "n_samples", "@C[3]", 0),
    VERX("hyperparameters", "jsonb", "hyper", "@S.aifx_jsonb_or_null(@C)", 0),
    VER("train_loss", "numeric(10,6)", "train.loss", N10_6),
    VER("val_loss", "numeric(10,6)", "val.loss", N10_6),
    VER("test_loss", "numeric(10,6)", "test.loss", N10_6),
    VER("train_accuracy", "numeric(5,4)", "train.accuracy", N4),
    VER("val_accuracy", "numeric(5,4)", "val.accuracy", N4),
    VER("test_accuracy", "numeric(5,4)", "test.accuracy", N4),
    VERX("precision", "numeric(5,4)", "test.precision", "(@C[1] + @C[2] + @C[3]) / 3", N4),
    VERX("recall", "numeric(5,4)", "test.recall", "(@C[1] + @C[2] + @C[3]) / 3", N4),
    VER("f1_score", "numeric(5,4)", "test.macro_f1", N4),
    VER("backtest_win_rate", "numeric(5,4)", "bt.win_rate", N4),
    VER("backtest_sharpe_ratio", "numeric(6,4)", "bt.sharpe", N6_4),
    VER("backtest_max_drawdown", "numeric(6,4)", "bt.max_drawdown", N6_4),
    VER("backtest_total_pnl", "numeric(12,2)", "bt.total_pips", N12_2),
    DV("status", "varchar(20)", NULL, NULL, NULL,
       "CASE WHEN l.status = 'failed' THEN 'failed' ELSE coalesce(v.status::text, 'completed') END",
       0),
    LOG("error_message", "text", "error"),
    VER("model_path", "varchar(255)", "checkpoint", 0),
    DV_NULL("scaler_path", "varchar(255)"),
    DV_NULL("metadata_path", "varchar(255)"),
    LOG("created_at", "timestamp", "started_at"),
    DV("updated_at", "timestamp", &tr_log_row_schema, "l", "finished_at",
       "coalesce(@C, l.started_at)", 0),
};

static const tr_design_column ab_test_cols[] = {
    DV("id", "uuid", NULL, NULL, NULL, "a.id", 0),
    AB("test_name", "varchar(100)", "id", NULL, 0),
    AB("model_a_version", "varchar(50)", "version_a", NULL, 0),
    AB("model_b_version", "varchar(50)", "version_b", NULL, 0),
    AB("traffic_split", "numeric(3,2)", "split", "1 - @C", 9.99), /* the design's is A's share */
    AB("start_date", "timestamp", "started_at", NULL, 0),
    AB("end_date", "timestamp", "ended_at", "coalesce(@C, a.planned_end)", 0),
    AB("model_a_predictions", "integer", "n_pred_a", NULL, 0),
    AB("model_b_predictions", "integer", "n_pred_b", NULL, 0),
    AB("model_a_win_rate", "numeric(5,4)", "result",
       "(@S.aifx_jsonb_or_null(@C) -> 'a' ->> 'win_rate')::float8", N4),
    AB("model_b_win_rate", "numeric(5,4)", "result",
       "(@S.aifx_jsonb_or_null(@C) -> 'b' ->> 'win_rate')::float8", N4),
    AB("model_a_avg_pnl", "numeric(10,2)", "result",
       "(@S.aifx_jsonb_or_null(@C) -> 'a' ->> 'avg_pips')::float8", N10_2),
    AB("model_b_avg_pnl", "numeric(10,2)", "result",
       "(@S.aifx_jsonb_or_null(@C) -> 'b' ->> 'avg_pips')::float8", N10_2),
    AB("p_value", "numeric(6,5)", "result",
       "(@S.aifx_jsonb_or_null(@C) -> 'welch' ->> 'p')::float8", 9.99999),
    AB("is_significant", "boolean", "verdict", "(@C IN ('a', 'b'))", 0),
    AB("winner", "varchar(50)", "verdict",
       "CASE @C WHEN 'a' THEN 'model_a' WHEN 'b' THEN 'model_b' WHEN 'tie' THEN 'tie' END", 0),
    AB("status", "varchar(20)", "status", NULL, 0),
    AB("created_at", "timestamp", "started_at", NULL, 0),
    AB("updated_at", "timestamp", "ended_at", "coalesce(@C, a.started_at)", 0),
};

static const tr_design_column versions_cols[] = {
    DV("id", "uuid", NULL, NULL, NULL, "v.id", 0),
    VER("version", "varchar(50)", "version", 0),
    VER("name", "varchar(100)", "version", 0), /* a version has no other name */
    DV_NULL("description", "text"),
    VER("model_type", "varchar(20)", "type", 0),
    VER("parent_version", "varchar(50)", "parent", 0),
    VER("trained_at", "timestamp", "trained_at", 0),
    DV("training_log_id", "uuid", NULL, NULL, NULL,
       "(SELECT l.id FROM @S.model_training_log l WHERE l.version = v.version ORDER BY l.log_id "
       "LIMIT 1)",
       0),
    VER("is_active", "boolean", "is_active", 0),
    VER("deployed_at", "timestamp", "deployed_at", 0),
    DV("production_predictions", "integer", NULL, NULL, NULL, "coalesce(p.n, 0)", 0),
    DV("production_win_rate", "numeric(5,4)", NULL, NULL, NULL, "p.win_rate", N4),
    DV("production_avg_pnl", "numeric(10,2)", NULL, NULL, NULL, "p.avg_pnl", N10_2),
    DV("production_sharpe_ratio", "numeric(6,4)", NULL, NULL, NULL, "p.sharpe", N6_4),
    VER("stage1_model_path", "varchar(255)", "checkpoint", 0),
    DV_NULL("stage2_model_path", "varchar(255)"),
    DV_NULL("scaler_path", "varchar(255)"),
    DV_NULL("features_path", "varchar(255)"),
    DV_NULL("metadata_path", "varchar(255)"),
    VER("deprecated_at", "timestamp", "deprecated_at", 0),
    VER("deprecated_reason", "text", "deprecation_reason", 0),
    VER("created_at", "timestamp", "trained_at", 0),
    VERX("updated_at", "timestamp", "trained_at", "greatest(@C, v.deployed_at, v.deprecated_at)",
         0),
};

const tr_design_view tr_design_views[] = {
    {"model_training_log",
     "FROM @S.model_training_log l LEFT JOIN @S.model_versions v ON v.version = l.version AND "
     "l.version <> '' WHERE l.cycle IN ('full', 'incremental') AND l.status <> 'skipped'",
     training_log_cols, N_OF(training_log_cols)},
    {"model_ab_test", "FROM @S.model_ab_test a", ab_test_cols, N_OF(ab_test_cols)},
    {"model_versions",
     "FROM @S.model_versions v LEFT JOIN (SELECT t.model_version, count(*) AS n, (count(*) "
     "FILTER (WHERE t.actual_outcome = 'win'))::float8 / nullif(count(*) FILTER (WHERE "
     "t.actual_outcome IN ('win', 'loss')), 0) AS win_rate, avg(t.pnl_pips) FILTER (WHERE "
     "t.actual_outcome IN ('win', 'loss')) AS avg_pnl, avg(t.pnl_pips) FILTER (WHERE "
     "t.actual_outcome IN ('win', 'loss')) / nullif(stddev_samp(t.pnl_pips) FILTER (WHERE "
     "t.actual_outcome IN ('win', 'loss')), 0) AS sharpe FROM @S.trading_signals t GROUP BY "
     "t.model_version) p ON p.model_version = v.version",
     versions_cols, N_OF(versions_cols)},
};
const size_t tr_n_design_views = N_OF(tr_design_views);
