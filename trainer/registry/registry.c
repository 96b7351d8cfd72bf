/*
 * registry.c - registry records, naming, the activation rule, and their JSON form (registry.h).
 * The JSON is driven by the field tables of schema.h; the directory store's line format is in
 * store/registry_text.c.
 */
#include "registry/registry.h"

#include "registry/schema.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/timeutil.h"

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
