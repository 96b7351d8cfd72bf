/*
 * registry.c - registry records, naming, the activation rule, and their text and JSON forms
 * (registry.h). The fields of each record are described once, in tables (name, type, offset),
 * from which the line format, its parser and the JSON are all driven.
 */
#include "registry/registry.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/timeutil.h"

/* ---- field tables ------------------------------------------------------------------------- */

enum {
    F_STR,
    F_I64,
    F_INT,
    F_DBL,
    F_U32,
    F_DBL3,
    F_I64_3,
    F_CM,
    F_TIME,
    F_VT,
    F_VS,
    F_LS,
    F_ABS,  /* A/B test status */
    F_U64,  /* 16 hex digits */
    F_FARR, /* float array; its length is the int at cnt_off */
    F_DARR  /* double array; its length is the int at cnt_off */
};

typedef struct field {
    const char *key;
    int type;
    size_t off, size;
    size_t cnt_off; /* F_FARR, F_DARR: offset of the int holding the length */
} field;

#define FS(T, k, m)                                                                                \
    {                                                                                              \
        k, F_STR, offsetof(T, m), sizeof(((T *)0)->m), 0                                           \
    }
#define FX(T, k, m, ty)                                                                            \
    {                                                                                              \
        k, ty, offsetof(T, m), sizeof(((T *)0)->m), 0                                              \
    }

static const field version_fields[] = {
    FS(tr_version, "version", version),
    FX(tr_version, "type", type, F_VT),
    FS(tr_version, "parent", parent),
    FX(tr_version, "status", status, F_VS),
    FX(tr_version, "trained_at", trained_at, F_TIME),
    FX(tr_version, "as_of", as_of, F_TIME),
    FX(tr_version, "data_from", data_from, F_TIME),
    FX(tr_version, "data_to", data_to, F_TIME),
    FX(tr_version, "n_samples", n_samples, F_I64_3),
    FS(tr_version, "hyper", hyper),
    FX(tr_version, "class_weight", class_weight, F_DBL3),
    FX(tr_version, "epochs", epochs, F_INT),
    FX(tr_version, "best_epoch", best_epoch, F_INT),
    FX(tr_version, "seconds", seconds, F_DBL),
    FS(tr_version, "checkpoint", checkpoint),
    FX(tr_version, "ckpt_crc", ckpt_crc, F_U32),
    FX(tr_version, "ckpt_size", ckpt_size, F_I64),
    FX(tr_version, "is_active", is_active, F_INT),
    FX(tr_version, "deployed_at", deployed_at, F_TIME),
    FX(tr_version, "deprecated_at", deprecated_at, F_TIME),
    FS(tr_version, "deprecation_reason", deprecation_reason),
    FS(tr_version, "error", error),
};

static const field cls_fields[] = {
    FX(tr_cls_figs, "n", n, F_I64),
    FX(tr_cls_figs, "loss", loss, F_DBL),
    FX(tr_cls_figs, "accuracy", accuracy, F_DBL),
    FX(tr_cls_figs, "macro_f1", macro_f1, F_DBL),
    FX(tr_cls_figs, "precision", precision, F_DBL3),
    FX(tr_cls_figs, "recall", recall, F_DBL3),
    FX(tr_cls_figs, "f1", f1, F_DBL3),
    FX(tr_cls_figs, "confusion", confusion, F_CM),
    FX(tr_cls_figs, "buy_share", buy_share, F_DBL),
    FX(tr_cls_figs, "sell_share", sell_share, F_DBL),
    FX(tr_cls_figs, "true_buy_share", true_buy_share, F_DBL),
    FX(tr_cls_figs, "true_sell_share", true_sell_share, F_DBL),
};

static const field bt_fields[] = {
    FX(tr_bt_figs, "trades", trades, F_I64),
    FX(tr_bt_figs, "wins", wins, F_I64),
    FX(tr_bt_figs, "n_signals", n_signals, F_I64),
    FX(tr_bt_figs, "n_bars", n_bars, F_I64),
    FX(tr_bt_figs, "win_rate", win_rate, F_DBL),
    FX(tr_bt_figs, "total_pips", total_pips, F_DBL),
    FX(tr_bt_figs, "avg_pips", avg_pips, F_DBL),
    FX(tr_bt_figs, "total_return", total_return, F_DBL),
    FX(tr_bt_figs, "sharpe", sharpe, F_DBL),
    FX(tr_bt_figs, "sortino", sortino, F_DBL),
    FX(tr_bt_figs, "max_drawdown", max_drawdown, F_DBL),
    FX(tr_bt_figs, "profit_factor", profit_factor, F_DBL),
    FX(tr_bt_figs, "signal_freq", signal_freq, F_DBL),
};

static const field log_fields[] = {
    FX(tr_log_row, "id", id, F_I64),
    FS(tr_log_row, "cycle", cycle),
    FX(tr_log_row, "as_of", as_of, F_TIME),
    FX(tr_log_row, "started_at", started_at, F_TIME),
    FX(tr_log_row, "finished_at", finished_at, F_TIME),
    FX(tr_log_row, "status", status, F_LS),
    FS(tr_log_row, "reason", reason),
    FS(tr_log_row, "version", version),
    FS(tr_log_row, "parent", parent),
    FS(tr_log_row, "verdict", verdict),
    FS(tr_log_row, "gate_metric", gate_metric),
    FX(tr_log_row, "candidate_value", candidate_value, F_DBL),
    FX(tr_log_row, "active_value", active_value, F_DBL),
    FS(tr_log_row, "error", error),
};

static const field act_fields[] = {
    FX(tr_activation, "id", id, F_I64),  FS(tr_activation, "from", from),
    FS(tr_activation, "to", to),         FX(tr_activation, "at", at, F_TIME),
    FS(tr_activation, "reason", reason), FS(tr_activation, "evidence", evidence),
};

/* an array whose length is the int member c of the same record */
#define FA(T, k, m, ty, c)                                                                         \
    {                                                                                              \
        k, ty, offsetof(T, m), sizeof(((T *)0)->m), offsetof(T, c)                                 \
    }

static const field history_fields[] = {
    FX(tr_version, "n_history", n_history, F_INT),
    FA(tr_version, "hist_train_loss", hist_train_loss, F_FARR, n_history),
    FA(tr_version, "hist_val_loss", hist_val_loss, F_FARR, n_history),
    FA(tr_version, "hist_val_macro_f1", hist_val_macro_f1, F_FARR, n_history),
    FA(tr_version, "hist_lr", hist_lr, F_FARR, n_history),
};

static const field ab_fields[] = {
    FS(tr_ab_test, "id", id),
    FS(tr_ab_test, "version_a", version_a),
    FS(tr_ab_test, "version_b", version_b),
    FS(tr_ab_test, "pairs", pairs),
    FX(tr_ab_test, "split", split, F_DBL),
    FX(tr_ab_test, "seed", seed, F_U64),
    FX(tr_ab_test, "started_at", started_at, F_TIME),
    FX(tr_ab_test, "planned_end", planned_end, F_TIME),
    FX(tr_ab_test, "min_trades", min_trades, F_I64),
    FX(tr_ab_test, "status", status, F_ABS),
    FX(tr_ab_test, "ended_at", ended_at, F_TIME),
    FS(tr_ab_test, "origin", origin),
    FS(tr_ab_test, "verdict", verdict),
    FS(tr_ab_test, "end_reason", end_reason),
    FX(tr_ab_test, "n_looks", n_looks, F_INT),
    FA(tr_ab_test, "look_frac", look_frac, F_DARR, n_looks),
    FX(tr_ab_test, "n_pred_a", n_pred_a, F_I64),
    FX(tr_ab_test, "n_pred_b", n_pred_b, F_I64),
    FS(tr_ab_test, "result", result),
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *const split_prefix[3] = {"train.", "val.", "test."};

/* ---- names -------------------------------------------------------------------------------- */

static const char *const vt_names[] = {"full", "incremental"};
static const char *const vs_names[] = {"training", "completed", "failed", "deployed"};
static const char *const ls_names[] = {"completed", "skipped", "failed"};
static const char *const abs_names[] = {"running", "completed", "stopped"};

const char *tr_version_type_name(int t)
{
    return t >= 0 && t < 2 ? vt_names[t] : "?";
}
const char *tr_version_status_name(int s)
{
    return s >= 0 && s < 4 ? vs_names[s] : "?";
}
const char *tr_log_status_name(int s)
{
    return s >= 0 && s < 3 ? ls_names[s] : "?";
}
const char *tr_ab_status_name(int s)
{
    return s >= 0 && s < 3 ? abs_names[s] : "?";
}

static int name_index(const char *const *names, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

int tr_version_usable(const tr_version *v)
{
    return v->status == TR_VS_COMPLETED || v->status == TR_VS_DEPLOYED;
}

/* ---- the registry in memory --------------------------------------------------------------- */

void tr_registry_init(tr_registry *reg)
{
    memset(reg, 0, sizeof *reg);
}

void tr_registry_free(tr_registry *reg)
{
    if (!reg)
        return;
    free(reg->versions);
    free(reg->log);
    free(reg->activations);
    free(reg->abtests);
    tr_registry_init(reg);
}

const tr_version *tr_registry_find(const tr_registry *reg, const char *version)
{
    for (size_t i = 0; i < reg->n_versions; i++)
        if (strcmp(reg->versions[i].version, version) == 0)
            return &reg->versions[i];
    return NULL;
}

const tr_version *tr_registry_active(const tr_registry *reg)
{
    for (size_t i = 0; i < reg->n_versions; i++)
        if (reg->versions[i].is_active)
            return &reg->versions[i];
    return NULL;
}

tr_code tr_registry_get(const tr_registry *reg, const char *version, const tr_version **out,
                        tr_error *err)
{
    *out = tr_registry_find(reg, version);
    if (!*out)
        return tr_fail(err, TR_ERR_NOTFOUND, "version %s is not in the registry", version);
    return TR_OK;
}

int tr_version_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= TR_VERSION_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '.' && c != '-' && c != '_')))
            return 0;
    }
    return 1;
}

int tr_version_parse_full(const char *s, int *major, int *minor)
{
    int a, b, used = 0;
    if (s[0] != 'v' || sscanf(s + 1, "%d.%d%n", &a, &b, &used) != 2 || s[1 + used] != '\0' ||
        a < 0 || b < 0 || s[1] < '0' || s[1] > '9')
        return -1;
    /* no signs or spaces inside: the text must be digits '.' digits */
    for (const char *p = s + 1; *p; p++)
        if (!((*p >= '0' && *p <= '9') || *p == '.'))
            return -1;
    *major = a;
    *minor = b;
    return 0;
}

tr_code tr_registry_next_full(const tr_registry *reg, const char *base, char *out, size_t size,
                              tr_error *err)
{
    int ma, mi;
    if (base && base[0]) {
        if (tr_version_parse_full(base, &ma, &mi))
            return tr_fail(err, TR_ERR_INVALID,
                           "bad version base '%s' (expected v<major>.<minor>, e.g. v3.2)", base);
        if (tr_registry_find(reg, base))
            return tr_fail(err, TR_ERR_CONFLICT, "version %s already exists", base);
        snprintf(out, size, "%s", base);
        return TR_OK;
    }
    int best_ma = -1, best_mi = -1;
    for (size_t i = 0; i < reg->n_versions; i++) {
        const tr_version *v = &reg->versions[i];
        if (v->type != TR_VT_FULL || tr_version_parse_full(v->version, &ma, &mi))
            continue;
        if (ma > best_ma || (ma == best_ma && mi > best_mi)) {
            best_ma = ma;
            best_mi = mi;
        }
    }
    if (best_ma < 0)
        snprintf(out, size, "v1.0");
    else
        snprintf(out, size, "v%d.%d", best_ma, best_mi + 1);
    return TR_OK;
}

tr_code tr_registry_daily_name(const char *parent, int64_t as_of, char *out, size_t size,
                               tr_error *err)
{
    char root[TR_VERSION_MAX];
    snprintf(root, sizeof root, "%s", parent);
    char *d = strstr(root, "-daily-");
    if (d)
        *d = '\0';
    int64_t y;
    int m, dd;
    int64_t days = as_of >= 0 ? as_of / 86400 : -((-as_of + 86399) / 86400);
    tr_civil_from_days(days, &y, &m, &dd);
    int w = snprintf(out, size, "%s-daily-%04lld%02d%02d", root, (long long)y, m, dd);
    if (w < 0 || (size_t)w >= size || !tr_version_name_valid(out))
        return tr_fail(err, TR_ERR_INVALID, "daily version name for %s is too long", parent);
    return TR_OK;
}

tr_code tr_registry_rollback_target(const tr_registry *reg, char *out, size_t size, tr_error *err)
{
    size_t n = reg->n_activations;
    const char **stack = malloc((n + 1) * sizeof *stack);
    if (!stack)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory");
    size_t top = 0;
    for (size_t i = 0; i < n; i++) {
        const tr_activation *a = &reg->activations[i];
        if (strcmp(a->reason, "rollback") == 0 && top > 0)
            top--;
        else
            stack[top++] = a->to;
    }
    tr_code rc = TR_OK;
    if (top < 2)
        rc = tr_fail(err, TR_ERR_NOTFOUND,
                     "no previous active version to roll back to (%zu activation%s recorded)", n,
                     n == 1 ? "" : "s");
    else
        snprintf(out, size, "%s", stack[top - 2]);
    free(stack);
    return rc;
}

/* ---- the one place that changes the registry ---------------------------------------------- */

int tr_ab_pairs_overlap(const char *a, const char *b)
{
    if (!a[0] || !b[0])
        return 1; /* "" is every pair */
    for (const char *p = a; *p;) {
        size_t n = strcspn(p, ",");
        for (const char *q = b; *q;) {
            size_t m = strcspn(q, ",");
            if (m == n && memcmp(p, q, n) == 0)
                return 1;
            q += m + (q[m] == ',');
        }
        p += n + (p[n] == ',');
    }
    return 0;
}

const tr_ab_test *tr_registry_find_ab(const tr_registry *reg, const char *id)
{
    for (size_t i = 0; i < reg->n_abtests; i++)
        if (strcmp(reg->abtests[i].id, id) == 0)
            return &reg->abtests[i];
    return NULL;
}

/* The version named v as it will be after txn: from its puts or updates, else the registry. */
static const tr_version *version_after(const tr_registry *reg, const tr_reg_txn *txn,
                                       const char *v)
{
    for (size_t i = 0; i < txn->n_put; i++)
        if (strcmp(txn->put[i].version, v) == 0)
            return &txn->put[i];
    for (size_t i = 0; i < txn->n_update; i++)
        if (strcmp(txn->update[i].version, v) == 0)
            return &txn->update[i];
    return tr_registry_find(reg, v);
}

/* The state of test id after txn (its update if any, else the registry's). */
static const tr_ab_test *ab_after(const tr_registry *reg, const tr_reg_txn *txn, const char *id)
{
    for (size_t i = 0; i < txn->n_ab_update; i++)
        if (strcmp(txn->ab_update[i].id, id) == 0)
            return &txn->ab_update[i];
    return tr_registry_find_ab(reg, id);
}

/* The A/B rules of a transaction (registry.h). */
static tr_code check_ab(const tr_registry *reg, const tr_reg_txn *txn, tr_error *err)
{
    for (size_t i = 0; i < txn->n_ab_update; i++) {
        const tr_ab_test *u = &txn->ab_update[i];
        const tr_ab_test *old = tr_registry_find_ab(reg, u->id);
        if (!old)
            return tr_fail(err, TR_ERR_NOTFOUND, "A/B test %s does not exist", u->id);
        if (old->status != TR_AB_RUNNING)
            return tr_fail(err, TR_ERR_CONFLICT, "A/B test %s has already ended (%s)", u->id,
                           tr_ab_status_name(old->status));
        if (strcmp(old->version_a, u->version_a) || strcmp(old->version_b, u->version_b) ||
            strcmp(old->pairs, u->pairs) || old->split != u->split || old->seed != u->seed ||
            old->started_at != u->started_at)
            return tr_fail(err, TR_ERR_INVALID,
                           "A/B test %s: versions, pairs, split, seed and start are fixed", u->id);
        for (size_t j = 0; j < i; j++)
            if (strcmp(txn->ab_update[j].id, u->id) == 0)
                return tr_fail(err, TR_ERR_CONFLICT, "A/B test %s updated twice", u->id);
    }
    for (size_t i = 0; i < txn->n_ab_put; i++) {
        const tr_ab_test *t = &txn->ab_put[i];
        if (!tr_version_name_valid(t->id))
            return tr_fail(err, TR_ERR_INVALID, "bad A/B test id '%s'", t->id);
        if (tr_registry_find_ab(reg, t->id))
            return tr_fail(err, TR_ERR_CONFLICT, "A/B test %s already exists", t->id);
        for (size_t j = 0; j < i; j++)
            if (strcmp(txn->ab_put[j].id, t->id) == 0)
                return tr_fail(err, TR_ERR_CONFLICT, "A/B test %s added twice", t->id);
        if (t->status != TR_AB_RUNNING)
            return tr_fail(err, TR_ERR_INVALID, "A/B test %s must start running", t->id);
        if (!(t->split > 0.0 && t->split < 1.0))
            return tr_fail(err, TR_ERR_INVALID, "A/B test %s: split %g is not in (0, 1)", t->id,
                           t->split);
        if (strcmp(t->version_a, t->version_b) == 0)
            return tr_fail(err, TR_ERR_INVALID, "A/B test %s compares %s with itself", t->id,
                           t->version_a);
        const char *arm[2] = {t->version_a, t->version_b};
        for (int k = 0; k < 2; k++) {
            const tr_version *v = version_after(reg, txn, arm[k]);
            if (!v)
                return tr_fail(err, TR_ERR_NOTFOUND, "version %s is not in the registry", arm[k]);
            if (!tr_version_usable(v) || v->deprecated_at)
                return tr_fail(err, TR_ERR_INVALID,
                               "version %s is not usable for an A/B test (%s%s)", arm[k],
                               v->deprecated_at ? "deprecated" : "status ",
                               v->deprecated_at ? "" : tr_version_status_name(v->status));
        }
        /* at most one running test per pair set */
        for (size_t j = 0; j < reg->n_abtests; j++) {
            const tr_ab_test *o = ab_after(reg, txn, reg->abtests[j].id);
            if (o->status == TR_AB_RUNNING && tr_ab_pairs_overlap(o->pairs, t->pairs))
                return tr_fail(err, TR_ERR_CONFLICT,
                               "A/B test %s (%s vs %s) is running on an overlapping pair set",
                               o->id, o->version_a, o->version_b);
        }
        for (size_t j = 0; j < i; j++)
            if (tr_ab_pairs_overlap(txn->ab_put[j].pairs, t->pairs))
                return tr_fail(err, TR_ERR_CONFLICT, "two A/B tests on overlapping pair sets");
    }
    /* a version under a running test is not deprecated */
    for (size_t i = 0; i < txn->n_update; i++) {
        const tr_version *v = &txn->update[i];
        if (!v->deprecated_at)
            continue;
        for (size_t j = 0; j < reg->n_abtests + txn->n_ab_put; j++) {
            const tr_ab_test *t = j < reg->n_abtests ? ab_after(reg, txn, reg->abtests[j].id)
                                                     : &txn->ab_put[j - reg->n_abtests];
            if (t->status == TR_AB_RUNNING &&
                (strcmp(t->version_a, v->version) == 0 || strcmp(t->version_b, v->version) == 0))
                return tr_fail(err, TR_ERR_INVALID,
                               "version %s is under A/B test %s and cannot be deprecated",
                               v->version, t->id);
        }
    }
    return TR_OK;
}

tr_code tr_registry_apply(tr_registry *reg, const tr_reg_txn *txn, tr_error *err)
{
    /* validate everything first */
    for (size_t i = 0; i < txn->n_put; i++) {
        const char *name = txn->put[i].version;
        if (!tr_version_name_valid(name))
            return tr_fail(err, TR_ERR_INVALID, "bad version name '%s'", name);
        if (tr_registry_find(reg, name))
            return tr_fail(err, TR_ERR_CONFLICT, "version %s already exists", name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(txn->put[j].version, name) == 0)
                return tr_fail(err, TR_ERR_CONFLICT, "version %s added twice", name);
    }
    for (size_t i = 0; i < txn->n_update; i++)
        if (!tr_registry_find(reg, txn->update[i].version))
            return tr_fail(err, TR_ERR_NOTFOUND, "version %s is not in the registry",
                           txn->update[i].version);
    const tr_activation *a = txn->activate;
    const tr_version *target = NULL;
    if (a) {
        const tr_version *cur = tr_registry_active(reg);
        const char *cur_name = cur ? cur->version : "";
        if (strcmp(cur_name, a->from) != 0)
            return tr_fail(err, TR_ERR_CONFLICT,
                           "the active version changed meanwhile (expected '%s', found '%s')",
                           a->from, cur_name);
        for (size_t i = 0; i < txn->n_put && !target; i++)
            if (strcmp(txn->put[i].version, a->to) == 0)
                target = &txn->put[i];
        for (size_t i = 0; i < txn->n_update && !target; i++)
            if (strcmp(txn->update[i].version, a->to) == 0)
                target = &txn->update[i];
        if (!target)
            target = tr_registry_find(reg, a->to);
        if (!target)
            return tr_fail(err, TR_ERR_NOTFOUND, "version %s is not in the registry", a->to);
        if (!tr_version_usable(target))
            return tr_fail(err, TR_ERR_INVALID, "version %s is not usable (status %s%s%s)", a->to,
                           tr_version_status_name(target->status), target->error[0] ? ": " : "",
                           target->error);
        if (target->deprecated_at)
            return tr_fail(err, TR_ERR_INVALID, "version %s is deprecated (%s)", a->to,
                           target->deprecation_reason);
        if (strcmp(a->from, a->to) == 0)
            return tr_fail(err, TR_ERR_INVALID, "version %s is already active", a->to);
    }
    /* the version active after this transaction is never deprecated by it */
    {
        const tr_version *cur = tr_registry_active(reg);
        const char *after = a ? a->to : cur ? cur->version : "";
        for (size_t i = 0; i < txn->n_update; i++)
            if (txn->update[i].deprecated_at && strcmp(txn->update[i].version, after) == 0)
                return tr_fail(err, TR_ERR_INVALID, "version %s is active and cannot be deprecated",
                               after);
    }
    tr_code rc = check_ab(reg, txn, err);
    if (rc)
        return rc;
    /* allocate the room, then apply (nothing below can fail) */
    tr_version *nv = realloc(reg->versions, (reg->n_versions + txn->n_put + 1) * sizeof *nv);
    if (!nv)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory");
    reg->versions = nv;
    tr_log_row *nl = realloc(reg->log, (reg->n_log + txn->n_log + 1) * sizeof *nl);
    if (!nl)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory");
    reg->log = nl;
    tr_activation *na = realloc(reg->activations, (reg->n_activations + 2) * sizeof *na);
    if (!na)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory");
    reg->activations = na;
    tr_ab_test *nab = realloc(reg->abtests, (reg->n_abtests + txn->n_ab_put + 1) * sizeof *nab);
    if (!nab)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory");
    reg->abtests = nab;
    for (size_t i = 0; i < txn->n_ab_update; i++)
        for (size_t j = 0; j < reg->n_abtests; j++)
            if (strcmp(reg->abtests[j].id, txn->ab_update[i].id) == 0)
                reg->abtests[j] = txn->ab_update[i];
    for (size_t i = 0; i < txn->n_ab_put; i++)
        reg->abtests[reg->n_abtests++] = txn->ab_put[i];
    for (size_t i = 0; i < txn->n_update; i++) {
        tr_version *v = NULL;
        for (size_t j = 0; j < reg->n_versions && !v; j++)
            if (strcmp(reg->versions[j].version, txn->update[i].version) == 0)
                v = &reg->versions[j];
        int was_active = v->is_active;
        *v = txn->update[i];
        v->is_active = was_active; /* only an activation changes it */
    }
    for (size_t i = 0; i < txn->n_put; i++) {
        reg->versions[reg->n_versions] = txn->put[i];
        reg->versions[reg->n_versions].is_active = 0;
        reg->n_versions++;
    }
    int64_t next_id = reg->n_log ? reg->log[reg->n_log - 1].id + 1 : 1;
    for (size_t i = 0; i < txn->n_log; i++) {
        reg->log[reg->n_log] = txn->log[i];
        reg->log[reg->n_log].id = next_id++;
        reg->n_log++;
    }
    if (a) {
        for (size_t i = 0; i < reg->n_versions; i++) {
            tr_version *v = &reg->versions[i];
            if (v->is_active)
                v->is_active = 0;
            if (strcmp(v->version, a->to) == 0) {
                v->is_active = 1;
                v->status = TR_VS_DEPLOYED;
                v->deployed_at = txn->now;
            }
        }
        tr_activation rec = *a;
        rec.id = reg->n_activations ? reg->activations[reg->n_activations - 1].id + 1 : 1;
        rec.at = txn->now;
        reg->activations[reg->n_activations++] = rec;
    }
    return TR_OK;
}

/* ---- the line format ---------------------------------------------------------------------- */

static void put_escaped(tr_sb *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\t' || c == '\n' || c == '\r' || c == '%' || c == '=')
            tr_sb_printf(b, "%%%02X", c);
        else
            tr_sb_put(b, s, 1);
    }
}

/* The length of an array field: its count member, clamped to the array's capacity. */
static int array_len(const field *f, const char *base)
{
    int n = *(const int *)(const void *)(base + f->cnt_off);
    int cap = (int)(f->size / (f->type == F_FARR ? sizeof(float) : sizeof(double)));
    return n < 0 ? 0 : n > cap ? cap : n;
}

static void put_value(tr_sb *b, const field *f, const char *base)
{
    const char *p = base + f->off;
    switch (f->type) {
    case F_STR:
        put_escaped(b, p);
        break;
    case F_I64:
    case F_TIME:
        tr_sb_printf(b, "%lld", (long long)*(const int64_t *)(const void *)p);
        break;
    case F_INT:
    case F_VT:
    case F_VS:
    case F_LS:
    case F_ABS: {
        int v = *(const int *)(const void *)p;
        if (f->type == F_VT)
            tr_sb_printf(b, "%s", tr_version_type_name(v));
        else if (f->type == F_VS)
            tr_sb_printf(b, "%s", tr_version_status_name(v));
        else if (f->type == F_LS)
            tr_sb_printf(b, "%s", tr_log_status_name(v));
        else if (f->type == F_ABS)
            tr_sb_printf(b, "%s", tr_ab_status_name(v));
        else
            tr_sb_printf(b, "%d", v);
        break;
    }
    case F_U32:
        tr_sb_printf(b, "%08x", (unsigned)*(const uint32_t *)(const void *)p);
        break;
    case F_U64:
        tr_sb_printf(b, "%016llx", (unsigned long long)*(const uint64_t *)(const void *)p);
        break;
    case F_FARR:
    case F_DARR: {
        int n = array_len(f, base);
        for (int i = 0; i < n; i++) {
            if (f->type == F_FARR)
                tr_sb_printf(b, "%s%.9g", i ? "," : "",
                             (double)((const float *)(const void *)p)[i]);
            else
                tr_sb_printf(b, "%s%.17g", i ? "," : "", ((const double *)(const void *)p)[i]);
        }
        break;
    }
    case F_DBL:
        tr_sb_printf(b, "%.17g", *(const double *)(const void *)p);
        break;
    case F_DBL3: {
        const double *d = (const double *)(const void *)p;
        tr_sb_printf(b, "%.17g,%.17g,%.17g", d[0], d[1], d[2]);
        break;
    }
    case F_I64_3:
    case F_CM: {
        const int64_t *d = (const int64_t *)(const void *)p;
        int n = f->type == F_CM ? 9 : 3;
        for (int i = 0; i < n; i++)
            tr_sb_printf(b, "%s%lld", i ? "," : "", (long long)d[i]);
        break;
    }
    }
}

static void put_fields(tr_sb *b, const field *fs, size_t n, const void *rec, const char *prefix)
{
    for (size_t i = 0; i < n; i++) {
        tr_sb_printf(b, "\t%s%s=", prefix, fs[i].key);
        put_value(b, &fs[i], rec);
    }
}

tr_code tr_registry_encode(const tr_registry *reg, char **text, size_t *len, tr_error *err)
{
    tr_sb b = {0};
    for (size_t i = 0; i < reg->n_versions; i++) {
        const tr_version *v = &reg->versions[i];
        tr_sb_printf(&b, "version");
        put_fields(&b, version_fields, N_OF(version_fields), v, "");
        for (int k = 0; k < 3; k++)
            put_fields(&b, cls_fields, N_OF(cls_fields), &v->figs[k], split_prefix[k]);
        put_fields(&b, bt_fields, N_OF(bt_fields), &v->bt, "bt.");
        put_fields(&b, history_fields, N_OF(history_fields), v, "");
        tr_sb_put(&b, "\n", 1);
    }
    for (size_t i = 0; i < reg->n_log; i++) {
        tr_sb_printf(&b, "log");
        put_fields(&b, log_fields, N_OF(log_fields), &reg->log[i], "");
        tr_sb_put(&b, "\n", 1);
    }
    for (size_t i = 0; i < reg->n_activations; i++) {
        tr_sb_printf(&b, "activation");
        put_fields(&b, act_fields, N_OF(act_fields), &reg->activations[i], "");
        tr_sb_put(&b, "\n", 1);
    }
    for (size_t i = 0; i < reg->n_abtests; i++) {
        tr_sb_printf(&b, "abtest");
        put_fields(&b, ab_fields, N_OF(ab_fields), &reg->abtests[i], "");
        tr_sb_put(&b, "\n", 1);
    }
    if (b.oom) {
        tr_sb_free(&b);
        return tr_fail(err, TR_ERR_NOMEM, "out of memory encoding the registry");
    }
    if (!b.p)
        tr_sb_put(&b, "", 0);
    if (b.oom || !b.p) {
        tr_sb_free(&b);
        return tr_fail(err, TR_ERR_NOMEM, "out of memory encoding the registry");
    }
    *text = b.p;
    *len = b.n;
    return TR_OK;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Unescapes s[0..n) into out (size bytes); -1 on a bad escape or if it does not fit. */
static int unescape(const char *s, size_t n, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            c = (char)(h * 16 + l);
            i += 2;
        }
        if (o + 1 >= size)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

static int parse_list(const char *v, int is_int, int n, void *out)
{
    const char *p = v;
    for (int i = 0; i < n; i++) {
        char *end;
        if (is_int)
            ((int64_t *)out)[i] = strtoll(p, &end, 10);
        else
            ((double *)out)[i] = strtod(p, &end);
        if (end == p)
            return -1;
        if (i + 1 < n) {
            if (*end != ',')
                return -1;
            p = end + 1;
        } else if (*end) {
            return -1;
        }
    }
    return 0;
}

static int set_value(const field *f, char *base, const char *v)
{
    char *p = base + f->off, *end;
    switch (f->type) {
    case F_STR:
        return 0; /* done by the caller (escapes) */
    case F_I64:
    case F_TIME:
        *(int64_t *)(void *)p = strtoll(v, &end, 10);
        return end == v || *end ? -1 : 0;
    case F_INT: {
        long x = strtol(v, &end, 10);
        *(int *)(void *)p = (int)x;
        return end == v || *end ? -1 : 0;
    }
    case F_VT:
    case F_VS:
    case F_LS:
    case F_ABS: {
        int i = f->type == F_VT   ? name_index(vt_names, 2, v)
                : f->type == F_VS ? name_index(vs_names, 4, v)
                : f->type == F_LS ? name_index(ls_names, 3, v)
                                  : name_index(abs_names, 3, v);
        *(int *)(void *)p = i;
        return i < 0 ? -1 : 0;
    }
    case F_U32: {
        unsigned long x = strtoul(v, &end, 16);
        *(uint32_t *)(void *)p = (uint32_t)x;
        return end == v || *end ? -1 : 0;
    }
    case F_U64: {
        unsigned long long x = strtoull(v, &end, 16);
        *(uint64_t *)(void *)p = (uint64_t)x;
        return end == v || *end ? -1 : 0;
    }
    case F_FARR:
    case F_DARR: {
        /* as many values as the count member says (it precedes the array in the record) */
        int n = *(const int *)(const void *)(base + f->cnt_off);
        int cap = (int)(f->size / (f->type == F_FARR ? sizeof(float) : sizeof(double)));
        if (n < 0 || n > cap)
            return -1;
        if (n == 0)
            return *v ? -1 : 0;
        double tmp[TR_HISTORY_MAX > TR_AB_LOOKS_MAX ? TR_HISTORY_MAX : TR_AB_LOOKS_MAX];
        if (parse_list(v, 0, n, tmp))
            return -1;
        for (int i = 0; i < n; i++) {
            if (f->type == F_FARR)
                ((float *)(void *)p)[i] = (float)tmp[i];
            else
                ((double *)(void *)p)[i] = tmp[i];
        }
        return 0;
    }
    case F_DBL:
        *(double *)(void *)p = strtod(v, &end);
        return end == v || *end ? -1 : 0;
    case F_DBL3:
        return parse_list(v, 0, 3, p);
    case F_I64_3:
        return parse_list(v, 1, 3, p);
    case F_CM:
        return parse_list(v, 1, 9, p);
    }
    return -1;
}

/* Sets the field named key (after prefix) of rec; 0 when unknown (ignored) or set, -1 when bad. */
static int set_field(const field *fs, size_t n, void *rec, const char *key, const char *raw,
                     size_t raw_len, char *scratch, size_t scratch_size)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(fs[i].key, key) != 0)
            continue;
        if (fs[i].type == F_STR)
            return unescape(raw, raw_len, (char *)rec + fs[i].off, fs[i].size);
        if (unescape(raw, raw_len, scratch, scratch_size))
            return -1;
        return set_value(&fs[i], (char *)rec, scratch);
    }
    return 0;
}

static int grow_array(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 16;
    void *p = realloc(*arr, nc * elem);
    if (!p)
        return -1;
    *arr = p;
    *cap = nc;
    return 0;
}

tr_code tr_registry_decode(const char *what, const char *text, size_t len, tr_registry *reg,
                           tr_error *err)
{
    tr_registry_init(reg);
    size_t cap_v = 0, cap_l = 0, cap_a = 0, cap_ab = 0;
    size_t pos = 0;
    int line = 0;
    char key[128], scratch[8192];
    while (pos < len) {
        line++;
        const char *ls = text + pos;
        const char *nl = memchr(ls, '\n', len - pos);
        if (!nl) {
            tr_registry_free(reg);
            return tr_fail(err, TR_ERR_FORMAT, "%s: line %d is not terminated (truncated file)",
                           what, line);
        }
        size_t ll = (size_t)(nl - ls);
        pos += ll + 1;
        const char *tab = memchr(ls, '\t', ll);
        size_t kl = tab ? (size_t)(tab - ls) : ll;
        void *rec = NULL;
        int kind = -1;
        if (kl == 7 && memcmp(ls, "version", 7) == 0) {
            if (grow_array((void **)&reg->versions, &cap_v, reg->n_versions, sizeof(tr_version)))
                goto oom;
            rec = &reg->versions[reg->n_versions];
            memset(rec, 0, sizeof(tr_version));
            kind = 0;
        } else if (kl == 3 && memcmp(ls, "log", 3) == 0) {
            if (grow_array((void **)&reg->log, &cap_l, reg->n_log, sizeof(tr_log_row)))
                goto oom;
            rec = &reg->log[reg->n_log];
            memset(rec, 0, sizeof(tr_log_row));
            kind = 1;
        } else if (kl == 10 && memcmp(ls, "activation", 10) == 0) {
            if (grow_array((void **)&reg->activations, &cap_a, reg->n_activations,
                           sizeof(tr_activation)))
                goto oom;
            rec = &reg->activations[reg->n_activations];
            memset(rec, 0, sizeof(tr_activation));
            kind = 2;
        } else if (kl == 6 && memcmp(ls, "abtest", 6) == 0) {
            if (grow_array((void **)&reg->abtests, &cap_ab, reg->n_abtests, sizeof(tr_ab_test)))
                goto oom;
            rec = &reg->abtests[reg->n_abtests];
            memset(rec, 0, sizeof(tr_ab_test));
            kind = 3;
        } else {
            continue; /* a newer record kind */
        }
        if (kind == 1) {
            reg->log[reg->n_log].candidate_value = NAN;
            reg->log[reg->n_log].active_value = NAN;
        }
        const char *p = tab;
        while (p && p < nl) {
            const char *fs = p + 1;
            const char *fe = memchr(fs, '\t', (size_t)(nl - fs));
            if (!fe)
                fe = nl;
            const char *eq = memchr(fs, '=', (size_t)(fe - fs));
            if (!eq || (size_t)(eq - fs) >= sizeof key) {
                tr_registry_free(reg);
                return tr_fail(err, TR_ERR_FORMAT, "%s: line %d: malformed field", what, line);
            }
            memcpy(key, fs, (size_t)(eq - fs));
            key[eq - fs] = '\0';
            const char *raw = eq + 1;
            size_t rl = (size_t)(fe - raw);
            int bad = 0;
            if (kind == 0) {
                tr_version *v = rec;
                const char *dot = strchr(key, '.');
                if (dot) {
                    size_t pl = (size_t)(dot - key) + 1;
                    for (int k = 0; k < 3; k++)
                        if (strncmp(key, split_prefix[k], pl) == 0 && split_prefix[k][pl] == '\0')
                            bad = set_field(cls_fields, N_OF(cls_fields), &v->figs[k], dot + 1, raw,
                                            rl, scratch, sizeof scratch);
                    if (strncmp(key, "bt.", 3) == 0)
                        bad = set_field(bt_fields, N_OF(bt_fields), &v->bt, key + 3, raw, rl,
                                        scratch, sizeof scratch);
                } else {
                    bad = set_field(version_fields, N_OF(version_fields), v, key, raw, rl, scratch,
                                    sizeof scratch) ||
                          set_field(history_fields, N_OF(history_fields), v, key, raw, rl,
                                    scratch, sizeof scratch);
                }
            } else if (kind == 1) {
                bad = set_field(log_fields, N_OF(log_fields), rec, key, raw, rl, scratch,
                                sizeof scratch);
            } else if (kind == 3) {
                bad = set_field(ab_fields, N_OF(ab_fields), rec, key, raw, rl, scratch,
                                sizeof scratch);
            } else {
                bad = set_field(act_fields, N_OF(act_fields), rec, key, raw, rl, scratch,
                                sizeof scratch);
            }
            if (bad) {
                tr_registry_free(reg);
                return tr_fail(err, TR_ERR_FORMAT, "%s: line %d: bad value of field %s", what, line,
                               key);
            }
            p = fe;
        }
        if (kind == 0) {
            if (!tr_version_name_valid(reg->versions[reg->n_versions].version)) {
                tr_registry_free(reg);
                return tr_fail(err, TR_ERR_FORMAT,
                               "%s: line %d: version record without a valid name", what, line);
            }
            reg->n_versions++;
        } else if (kind == 1) {
            reg->n_log++;
        } else if (kind == 3) {
            if (!reg->abtests[reg->n_abtests].id[0]) {
                tr_registry_free(reg);
                return tr_fail(err, TR_ERR_FORMAT, "%s: line %d: A/B test record without an id",
                               what, line);
            }
            reg->n_abtests++;
        } else {
            reg->n_activations++;
        }
    }
    return TR_OK;
oom:
    tr_registry_free(reg);
    return tr_fail(err, TR_ERR_NOMEM, "out of memory reading %s", what);
}

/* ---- JSON --------------------------------------------------------------------------------- */

static void json_value(tr_sb *b, const field *f, const char *base)
{
    const char *p = base + f->off;
    char ts[32];
    switch (f->type) {
    case F_STR:
        tr_sb_json_str(b, p);
        break;
    case F_TIME: {
        int64_t t = *(const int64_t *)(const void *)p;
        if (t == 0)
            tr_sb_printf(b, "null");
        else
            tr_sb_json_str(b, tr_time_format(t, ts, sizeof ts));
        break;
    }
    case F_I64:
        tr_sb_printf(b, "%lld", (long long)*(const int64_t *)(const void *)p);
        break;
    case F_INT:
        tr_sb_printf(b, "%d", *(const int *)(const void *)p);
        break;
    case F_VT:
        tr_sb_json_str(b, tr_version_type_name(*(const int *)(const void *)p));
        break;
    case F_VS:
        tr_sb_json_str(b, tr_version_status_name(*(const int *)(const void *)p));
        break;
    case F_LS:
        tr_sb_json_str(b, tr_log_status_name(*(const int *)(const void *)p));
        break;
    case F_ABS:
        tr_sb_json_str(b, tr_ab_status_name(*(const int *)(const void *)p));
        break;
    case F_U32:
        tr_sb_printf(b, "\"%08x\"", (unsigned)*(const uint32_t *)(const void *)p);
        break;
    case F_U64:
        tr_sb_printf(b, "\"%016llx\"", (unsigned long long)*(const uint64_t *)(const void *)p);
        break;
    case F_FARR:
    case F_DARR: {
        int n = array_len(f, base);
        tr_sb_printf(b, "[");
        for (int i = 0; i < n; i++) {
            if (i)
                tr_sb_printf(b, ",");
            tr_sb_json_num(b, f->type == F_FARR ? (double)((const float *)(const void *)p)[i]
                                                : ((const double *)(const void *)p)[i]);
        }
        tr_sb_printf(b, "]");
        break;
    }
    case F_DBL:
        tr_sb_json_num(b, *(const double *)(const void *)p);
        break;
    case F_DBL3: {
        const double *d = (const double *)(const void *)p;
        tr_sb_printf(b, "[");
        for (int i = 0; i < 3; i++) {
            if (i)
                tr_sb_printf(b, ",");
            tr_sb_json_num(b, d[i]);
        }
        tr_sb_printf(b, "]");
        break;
    }
    case F_I64_3: {
        const int64_t *d = (const int64_t *)(const void *)p;
        tr_sb_printf(b, "[%lld,%lld,%lld]", (long long)d[0], (long long)d[1], (long long)d[2]);
        break;
    }
    case F_CM: {
        const int64_t *d = (const int64_t *)(const void *)p;
        tr_sb_printf(b, "[[%lld,%lld,%lld],[%lld,%lld,%lld],[%lld,%lld,%lld]]", (long long)d[0],
                     (long long)d[1], (long long)d[2], (long long)d[3], (long long)d[4],
                     (long long)d[5], (long long)d[6], (long long)d[7], (long long)d[8]);
        break;
    }
    }
}

static void json_fields(tr_sb *b, const field *fs, size_t n, const void *rec, int *first)
{
    for (size_t i = 0; i < n; i++) {
        if (fs[i].type == F_STR &&
            (strcmp(fs[i].key, "hyper") == 0 || strcmp(fs[i].key, "result") == 0)) {
            /* already JSON text */
            const char *h = (const char *)rec + fs[i].off;
            tr_sb_printf(b, "%s\"%s\":%s", *first ? "" : ",", fs[i].key, h[0] ? h : "null");
        } else {
            tr_sb_printf(b, "%s\"%s\":", *first ? "" : ",", fs[i].key);
            json_value(b, &fs[i], rec);
        }
        *first = 0;
    }
}

static char *finish_json(tr_sb *b)
{
    if (b->oom) {
        tr_sb_free(b);
        return NULL;
    }
    return b->p;
}

char *tr_version_json(const tr_version *v)
{
    tr_sb b = {0};
    int first = 1;
    tr_sb_printf(&b, "{");
    json_fields(&b, version_fields, N_OF(version_fields), v, &first);
    static const char *const names[3] = {"train", "val", "test"};
    for (int k = 0; k < 3; k++) {
        int f2 = 1;
        tr_sb_printf(&b, ",\"%s\":{", names[k]);
        json_fields(&b, cls_fields, N_OF(cls_fields), &v->figs[k], &f2);
        tr_sb_printf(&b, "}");
    }
    int f3 = 1;
    tr_sb_printf(&b, ",\"backtest\":{");
    json_fields(&b, bt_fields, N_OF(bt_fields), &v->bt, &f3);
    int f4 = 1;
    tr_sb_printf(&b, "},\"history\":{");
    json_fields(&b, history_fields, N_OF(history_fields), v, &f4);
    tr_sb_printf(&b, "}}");
    return finish_json(&b);
}

char *tr_ab_test_json(const tr_ab_test *t)
{
    tr_sb b = {0};
    int first = 1;
    tr_sb_printf(&b, "{");
    json_fields(&b, ab_fields, N_OF(ab_fields), t, &first);
    tr_sb_printf(&b, "}");
    return finish_json(&b);
}

char *tr_log_row_json(const tr_log_row *r)
{
    tr_sb b = {0};
    int first = 1;
    tr_sb_printf(&b, "{");
    json_fields(&b, log_fields, N_OF(log_fields), r, &first);
    tr_sb_printf(&b, "}");
    return finish_json(&b);
}

char *tr_activation_json(const tr_activation *a)
{
    tr_sb b = {0};
    int first = 1;
    tr_sb_printf(&b, "{");
    for (size_t i = 0; i < N_OF(act_fields); i++) {
        if (strcmp(act_fields[i].key, "evidence") == 0) {
            tr_sb_printf(&b, ",\"evidence\":%s", a->evidence[0] ? a->evidence : "null");
            continue;
        }
        tr_sb_printf(&b, "%s\"%s\":", first ? "" : ",", act_fields[i].key);
        json_value(&b, &act_fields[i], (const char *)a);
        first = 0;
    }
    tr_sb_printf(&b, "}");
    return finish_json(&b);
}
