/*
 * registry.c - registry records, naming, the activation rule, and their JSON form (registry.h).
 * The JSON is driven by the field tables of schema.h; the directory store's line format is in
 * store/registry_text.c.
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */

#include "registry/registry.h"

#include "registry/schema.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/timeutil.h"
#include "market/labels.h"

/* ---- names -------------------------------------------------------------------------------- */

const char *tr_version_type_name(int t)
{
    return tr_enum_name(&tr_version_type_enum, t);
}
const char *tr_version_status_name(int s)
{
    return tr_enum_name(&tr_version_status_enum, s);
}
const char *tr_log_status_name(int s)
{
    return tr_enum_name(&tr_log_status_enum, s);
}
const char *tr_ab_status_name(int s)
{
    return tr_enum_name(&tr_ab_status_enum, s);
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
    free(reg->events);
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
static const tr_version *version_after(const tr_registry *reg, const tr_reg_txn *txn, const char *v)
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
    tr_outbox_event *ev = NULL;
    size_t n_ev = 0;
    rc = tr_registry_txn_events(txn, &ev, &n_ev, err);
    if (rc)
        return rc;
    if (n_ev) {
        tr_outbox_event *ne = realloc(reg->events, (reg->n_events + n_ev) * sizeof *ne);
        if (!ne) {
            free(ev);
            return tr_fail(err, TR_ERR_NOMEM, "out of memory");
        }
        reg->events = ne;
    }
    /* allocate the room, then apply (nothing below can fail) */
    tr_version *nv = realloc(reg->versions, (reg->n_versions + txn->n_put + 1) * sizeof *nv);
    if (nv)
        reg->versions = nv;
    tr_log_row *nl = nv ? realloc(reg->log, (reg->n_log + txn->n_log + 1) * sizeof *nl) : NULL;
    if (nl)
        reg->log = nl;
    tr_activation *na =
        nl ? realloc(reg->activations, (reg->n_activations + 2) * sizeof *na) : NULL;
    if (na)
        reg->activations = na;
    tr_ab_test *nab =
        na ? realloc(reg->abtests, (reg->n_abtests + txn->n_ab_put + 1) * sizeof *nab) : NULL;
    if (!nab) {
        free(ev);
        return tr_fail(err, TR_ERR_NOMEM, "out of memory");
    }
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
    for (size_t i = 0; i < n_ev; i++) {
        ev[i].id = ++reg->last_event_id;
        reg->events[reg->n_events++] = ev[i];
    }
    free(ev);
    return TR_OK;
}

/* ---- the outbox: what a transaction announces --------------------------------------------- */

int tr_outbox_kind_valid(const char *k)
{
    size_t n = strnlen(k, TR_OUTBOX_KIND_MAX);
    if (n == 0 || n >= TR_OUTBOX_KIND_MAX || !(k[0] >= 'a' && k[0] <= 'z'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') || k[i] == '_'))
            return 0;
    return 1;
}

/* The events being built: an array that grows, and the payload of the one being written. */
typedef struct ev_list {
    tr_outbox_event *v;
    size_t n, cap;
    int64_t now;
    int oom;
    const char *family; /* NULL for the default family */
} ev_list;

/* Appends an event of kind with the payload b (consumed); sets oom when it cannot. A payload too
 * long for the record is replaced by one that says so (the event is never lost). */
static void ev_add(ev_list *l, const char *kind, tr_sb *b)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 4;
        tr_outbox_event *nv = realloc(l->v, nc * sizeof *nv);
        if (!nv) {
            l->oom = 1;
            tr_sb_free(b);
            return;
        }
        l->v = nv;
        l->cap = nc;
    }
    if (b->oom || !b->p) {
        l->oom = 1;
        tr_sb_free(b);
        return;
    }
    if (l->family && b->n >= 2 && b->p[0] == '{') { /* the family first */
        tr_sb f = {0};
        tr_sb_printf(&f, "{\"family\":");
        tr_sb_json_str(&f, l->family);
        tr_sb_printf(&f, "%s%s", b->p[1] == '}' ? "" : ",", b->p + 1);
        tr_sb_free(b);
        *b = f;
        if (b->oom || !b->p) {
            l->oom = 1;
            tr_sb_free(b);
            return;
        }
    }
    tr_outbox_event *e = &l->v[l->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->kind, sizeof e->kind, "%s", kind);
    e->created_at = l->now;
    if (b->n < sizeof e->payload)
        memcpy(e->payload, b->p, b->n + 1);
    else
        snprintf(e->payload, sizeof e->payload, "{\"truncated\":true,\"bytes\":%zu}", b->n);
    tr_sb_free(b);
}

static void json_time(tr_sb *b, const char *key, int64_t t)
{
    tr_sb_printf(b, ",\"%s\":", key);
    if (t) {
        char ts[32];
        tr_sb_json_str(b, tr_time_format(t, ts, sizeof ts));
    } else {
        tr_sb_printf(b, "null");
    }
}

static void json_key_str(tr_sb *b, const char *key, const char *v)
{
    tr_sb_printf(b, ",\"%s\":", key);
    tr_sb_json_str(b, v);
}

static void json_key_num(tr_sb *b, const char *key, double v)
{
    tr_sb_printf(b, ",\"%s\":", key);
    tr_sb_json_num(b, v);
}

/* The log row of txn that names version v, or NULL. */
static const tr_log_row *log_of(const tr_reg_txn *txn, const char *v)
{
    for (size_t i = 0; i < txn->n_log; i++)
        if (strcmp(txn->log[i].version, v) == 0)
            return &txn->log[i];
    return NULL;
}

static void training_completed(ev_list *l, const tr_reg_txn *txn, const tr_version *v)
{
    const tr_log_row *r = log_of(txn, v->version);
    tr_sb b = {0};
    tr_sb_printf(&b, "{\"version\":");
    tr_sb_json_str(&b, v->version);
    json_key_str(&b, "type", tr_version_type_name(v->type));
    json_key_str(&b, "parent", v->parent);
    json_key_str(&b, "cycle", r ? r->cycle : tr_version_type_name(v->type));
    json_key_str(&b, "verdict", r ? r->verdict : "");
    json_key_str(&b, "gate_metric", r ? r->gate_metric : "");
    json_key_num(&b, "candidate_value", r ? r->candidate_value : NAN);
    json_key_num(&b, "active_value", r ? r->active_value : NAN);
    json_time(&b, "as_of", v->as_of);
    json_time(&b, "data_from", v->data_from);
    json_time(&b, "data_to", v->data_to);
    tr_sb_printf(&b, ",\"epochs\":%d,\"best_epoch\":%d", v->epochs, v->best_epoch);
    json_key_num(&b, "seconds", v->seconds);
    const tr_cls_figs *t = &v->figs[2];
    tr_sb_printf(&b, ",\"test\":{\"n\":%lld", (long long)t->n);
    json_key_num(&b, "accuracy", t->accuracy);
    json_key_num(&b, "macro_f1", t->macro_f1);
    json_key_num(&b, "loss", t->loss);
    tr_sb_printf(&b, "},\"backtest\":{\"trades\":%lld", (long long)v->bt.trades);
    json_key_num(&b, "win_rate", v->bt.win_rate);
    json_key_num(&b, "total_pips", v->bt.total_pips);
    json_key_num(&b, "sharpe", v->bt.sharpe);
    json_key_num(&b, "max_drawdown", v->bt.max_drawdown);
    json_key_num(&b, "profit_factor", v->bt.profit_factor);
    tr_sb_printf(&b, "},\"activated\":%s}",
                 txn->activate && strcmp(txn->activate->to, v->version) == 0 ? "true" : "false");
    ev_add(l, "training_completed", &b);
}

static void log_event(ev_list *l, const tr_reg_txn *txn, const tr_log_row *r, const char *kind)
{
    tr_sb b = {0};
    tr_sb_printf(&b, "{\"cycle\":");
    tr_sb_json_str(&b, r->cycle);
    json_key_str(&b, "status", tr_log_status_name(r->status));
    json_time(&b, "as_of", r->as_of);
    json_time(&b, "started_at", r->started_at);
    json_time(&b, "finished_at", r->finished_at);
    json_key_str(&b, "version", r->version);
    json_key_str(&b, "parent", r->parent);
    json_key_str(&b, "reason", r->reason);
    if (strcmp(kind, "training_failed") == 0) {
        json_key_str(&b, "error", r->error);
    } else {
        json_key_str(&b, "verdict", r->verdict);
        json_key_str(&b, "score", r->gate_metric);
        json_key_num(&b, "best_value", r->candidate_value);
        json_key_num(&b, "active_value", r->active_value);
        tr_sb_printf(&b, ",\"report\":");
        if (txn->report && txn->report[0])
            tr_sb_json_str(&b, txn->report);
        else
            tr_sb_printf(&b, "null");
    }
    tr_sb_printf(&b, "}");
    ev_add(l, kind, &b);
}

static void ab_concluded(ev_list *l, const tr_ab_test *t)
{
    tr_sb b = {0};
    tr_sb_printf(&b, "{\"id\":");
    tr_sb_json_str(&b, t->id);
    json_key_str(&b, "version_a", t->version_a);
    json_key_str(&b, "version_b", t->version_b);
    json_key_str(&b, "pairs", t->pairs);
    json_key_str(&b, "status", tr_ab_status_name(t->status));
    json_key_str(&b, "verdict", t->verdict);
    const char *w = strcmp(t->verdict, "a") == 0   ? t->version_a
                    : strcmp(t->verdict, "b") == 0 ? t->version_b
                                                   : NULL;
    tr_sb_printf(&b, ",\"winner\":");
    if (w)
        tr_sb_json_str(&b, w);
    else
        tr_sb_printf(&b, "null");
    json_key_str(&b, "end_reason", t->end_reason);
    json_time(&b, "started_at", t->started_at);
    json_time(&b, "ended_at", t->ended_at);
    tr_sb_printf(&b, ",\"n_pred_a\":%lld,\"n_pred_b\":%lld}", (long long)t->n_pred_a,
                 (long long)t->n_pred_b);
    ev_add(l, "ab_concluded", &b);
}

static void activation(ev_list *l, const tr_activation *a, int64_t at)
{
    int rb = strcmp(a->reason, "rollback") == 0;
    tr_sb b = {0};
    tr_sb_printf(&b, "{\"from\":");
    tr_sb_json_str(&b, a->from);
    json_key_str(&b, "to", a->to);
    json_key_str(&b, "reason", a->reason);
    json_time(&b, "at", at);
    /* the evidence is JSON text already; anything else is carried as a string */
    tr_sb_printf(&b, ",\"evidence\":");
    if (a->evidence[0] == '{')
        tr_sb_printf(&b, "%s", a->evidence);
    else
        tr_sb_printf(&b, "null");
    tr_sb_printf(&b, "}");
    ev_add(l, rb ? "model_rolled_back" : "model_deployed", &b);
}

tr_code tr_registry_txn_events(const tr_reg_txn *txn, tr_outbox_event **out, size_t *n,
                               tr_error *err)
{
    *out = NULL;
    *n = 0;
    for (size_t i = 0; i < txn->n_events; i++) {
        const tr_outbox_event *e = &txn->events[i];
        size_t pl = strnlen(e->payload, sizeof e->payload);
        if (!tr_outbox_kind_valid(e->kind))
            return tr_fail(err, TR_ERR_INVALID, "event %zu: bad kind '%.31s'", i + 1, e->kind);
        if (pl == sizeof e->payload || pl < 2 || e->payload[0] != '{' || e->payload[pl - 1] != '}')
            return tr_fail(err, TR_ERR_INVALID,
                           "event %zu (%s): the payload must be one JSON object under %d bytes",
                           i + 1, e->kind, TR_OUTBOX_PAYLOAD_MAX);
    }
    ev_list l = {
        NULL,
        0,
        0,
        txn->now,
        0,
        txn->family && txn->family[0] && strcmp(txn->family, "default") != 0 ? txn->family : NULL};
    for (size_t i = 0; i < txn->n_put; i++)
        if (tr_version_usable(&txn->put[i]))
            training_completed(&l, txn, &txn->put[i]);
    for (size_t i = 0; i < txn->n_log; i++) {
        const tr_log_row *r = &txn->log[i];
        if (r->status == TR_LOG_FAILED)
            log_event(&l, txn, r, "training_failed");
        else if (strcmp(r->cycle, "rank") == 0 && r->status == TR_LOG_COMPLETED)
            log_event(&l, txn, r, "monthly_report");
    }
    for (size_t i = 0; i < txn->n_ab_update; i++)
        if (txn->ab_update[i].status != TR_AB_RUNNING)
            ab_concluded(&l, &txn->ab_update[i]);
    if (txn->activate)
        activation(&l, txn->activate, txn->now);
    for (size_t i = 0; i < txn->n_events && !l.oom; i++) {
        if (l.n == l.cap) {
            size_t nc = l.cap ? l.cap * 2 : 4;
            tr_outbox_event *nv = realloc(l.v, nc * sizeof *nv);
            if (!nv) {
                l.oom = 1;
                break;
            }
            l.v = nv;
            l.cap = nc;
        }
        tr_outbox_event *e = &l.v[l.n++];
        *e = txn->events[i];
        e->id = 0;
        e->created_at = txn->now;
    }
    if (l.oom) {
        free(l.v);
        return tr_fail(err, TR_ERR_NOMEM, "out of memory");
    }
    *out = l.v;
    *n = l.n;
    return TR_OK;
}

char *tr_outbox_event_json(const tr_outbox_event *ev)
{
    char ts[32];
    tr_sb b = {0};
    tr_sb_printf(&b, "{\"id\":%lld,\"kind\":", (long long)ev->id);
    tr_sb_json_str(&b, ev->kind);
    tr_sb_printf(&b, ",\"created_at\":");
    tr_sb_json_str(&b, tr_time_format(ev->created_at, ts, sizeof ts));
    tr_sb_printf(&b, ",\"payload\":%s}", ev->payload[0] ? ev->payload : "{}");
    if (b.oom) {
        tr_sb_free(&b);
        return NULL;
    }
    return b.p;
}

/* ---- JSON --------------------------------------------------------------------------------- */

/* The members of record rec described by s, a group as a nested object. */
static void json_fields(tr_sb *b, const tr_schema *s, const char *rec)
{
    char ts[32];
    for (size_t i = 0; i < s->n_fields; i++) {
        const tr_field *f = &s->fields[i];
        const char *p = rec + f->off;
        tr_sb_printf(b, "%s\"%s\":", i ? "," : "", f->key);
        switch (f->type) {
        case TR_FT_GROUP:
            tr_sb_printf(b, "{");
            json_fields(b, f->sub, p);
            tr_sb_printf(b, "}");
            break;
        case TR_FT_TEXT:
            tr_sb_json_str(b, p);
            break;
        case TR_FT_JSON: /* already JSON text */
            tr_sb_printf(b, "%s", p[0] ? p : "null");
            break;
        case TR_FT_TIME: {
            int64_t t = *(const int64_t *)(const void *)p;
            if (t == 0)
                tr_sb_printf(b, "null");
            else
                tr_sb_json_str(b, tr_time_format(t, ts, sizeof ts));
            break;
        }
        case TR_FT_INT64:
            tr_sb_printf(b, "%lld", (long long)*(const int64_t *)(const void *)p);
            break;
        case TR_FT_INT:
        case TR_FT_BOOL:
            tr_sb_printf(b, "%d", *(const int *)(const void *)p);
            break;
        case TR_FT_ENUM:
            tr_sb_json_str(b, tr_enum_name(f->enm, *(const int *)(const void *)p));
            break;
        case TR_FT_U32:
            tr_sb_printf(b, "\"%08x\"", (unsigned)*(const uint32_t *)(const void *)p);
            break;
        case TR_FT_U64:
            tr_sb_printf(b, "\"%016llx\"", (unsigned long long)*(const uint64_t *)(const void *)p);
            break;
        case TR_FT_DOUBLE:
            tr_sb_json_num(b, *(const double *)(const void *)p);
            break;
        case TR_FT_DOUBLES:
        case TR_FT_FLOAT_LIST:
        case TR_FT_DOUBLE_LIST: {
            int n = f->len;
            if (f->type != TR_FT_DOUBLES) {
                /* the count member, clamped to the capacity */
                n = *(const int *)(const void *)(rec + f->count_off);
                n = n < 0 ? 0 : n > f->len ? f->len : n;
            }
            tr_sb_printf(b, "[");
            for (int k = 0; k < n; k++) {
                if (k)
                    tr_sb_printf(b, ",");
                tr_sb_json_num(b, f->type == TR_FT_FLOAT_LIST
                                      ? (double)((const float *)(const void *)p)[k]
                                      : ((const double *)(const void *)p)[k]);
            }
            tr_sb_printf(b, "]");
            break;
        }
        case TR_FT_INT64S: {
            const int64_t *d = (const int64_t *)(const void *)p;
            int per_row = f->rows > 1 ? f->len / f->rows : f->len;
            tr_sb_printf(b, "%s", f->rows > 1 ? "[[" : "[");
            for (int k = 0; k < f->len; k++) {
                if (k)
                    tr_sb_printf(b, "%s", k % per_row ? "," : "],[");
                tr_sb_printf(b, "%lld", (long long)d[k]);
            }
            tr_sb_printf(b, "%s", f->rows > 1 ? "]]" : "]");
            break;
        }
        }
    }
}

static char *record_json(const tr_schema *s, const void *rec)
{
    tr_sb b = {0};
    tr_sb_printf(&b, "{");
    json_fields(&b, s, rec);
    tr_sb_printf(&b, "}");
    if (b.oom) {
        tr_sb_free(&b);
        return NULL;
    }
    return b.p;
}

char *tr_version_json(const tr_version *v)
{
    return record_json(&tr_version_schema, v);
}

char *tr_ab_test_json(const tr_ab_test *t)
{
    return record_json(&tr_ab_test_schema, t);
}

char *tr_log_row_json(const tr_log_row *r)
{
    return record_json(&tr_log_row_schema, r);
}

char *tr_activation_json(const tr_activation *a)
{
    return record_json(&tr_activation_schema, a);
}

int tr_hyper_label_kind(const char *hyper)
{
    const char *l = hyper ? strstr(hyper, "\"labels\":{") : NULL;
    if (!l)
        return TR_LABELS_REVERSAL;
    const char *end = strchr(l, '}');
    const char *k = strstr(l, "\"kind\":\"barrier\"");
    return k && end && k < end ? TR_LABELS_BARRIER : TR_LABELS_REVERSAL;
}
