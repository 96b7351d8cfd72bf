/*
 * registry_text.c - the directory store's registry line format (registry_text.h), driven by the
 * field tables of registry/schema.h: a record's line is its kind, then key=value for every leaf
 * field in table order (groups flattened: "train.macro_f1", "bt.sharpe").
 */
#include "store/registry_text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "registry/schema.h"
#include "store/framed.h"

/* The record kinds, in the order their lines are written. */
enum { K_VERSION, K_LOG, K_ACTIVATION, K_ABTEST, K_EVENT, K_COUNT };

static const struct {
    const char *name;
    const tr_schema *schema;
} kinds[K_COUNT] = {
    [K_VERSION] = {"version", &tr_version_schema},
    [K_LOG] = {"log", &tr_log_row_schema},
    [K_ACTIVATION] = {"activation", &tr_activation_schema},
    [K_ABTEST] = {"abtest", &tr_ab_test_schema},
    [K_EVENT] = {"event", &tr_outbox_event_schema}, /* the outbox (older programs skip it) */
};

/* The array of records of kind k in reg (to grow it), and where its count is. */
static void **records_of(tr_registry *reg, int k, size_t **n)
{
    switch (k) {
    case K_VERSION:
        *n = &reg->n_versions;
        return (void **)&reg->versions;
    case K_LOG:
        *n = &reg->n_log;
        return (void **)&reg->log;
    case K_ACTIVATION:
        *n = &reg->n_activations;
        return (void **)&reg->activations;
    case K_ABTEST:
        *n = &reg->n_abtests;
        return (void **)&reg->abtests;
    default:
        *n = &reg->n_events;
        return (void **)&reg->events;
    }
}

/* The leaves of every kind, computed once per encode or decode. */
typedef struct kind_leaves {
    tr_leaf l[TR_SCHEMA_LEAVES_MAX];
    size_t n;
} kind_leaves;

static int all_leaves(kind_leaves *kl)
{
    for (int k = 0; k < K_COUNT; k++) {
        kl[k].n = tr_schema_leaves(kinds[k].schema, kl[k].l, TR_SCHEMA_LEAVES_MAX);
        if (!kl[k].n)
            return -1;
    }
    return 0;
}

/* The number of elements of a list: its count member, clamped to the capacity. */
static int list_len(const tr_leaf *l, const char *rec)
{
    int n = *(const int *)(const void *)(rec + l->count_off);
    return n < 0 ? 0 : n > l->f->len ? l->f->len : n;
}

/* ---- writing ------------------------------------------------------------------------------ */

static void put_value(tr_sb *b, const tr_leaf *l, const char *rec)
{
    const tr_field *f = l->f;
    const char *p = rec + l->off;
    switch (f->type) {
    case TR_FT_TEXT:
    case TR_FT_JSON:
        tr_framed_put_escaped(b, p);
        break;
    case TR_FT_INT64:
    case TR_FT_TIME:
        tr_sb_printf(b, "%lld", (long long)*(const int64_t *)(const void *)p);
        break;
    case TR_FT_INT:
    case TR_FT_BOOL:
        tr_sb_printf(b, "%d", *(const int *)(const void *)p);
        break;
    case TR_FT_ENUM:
        tr_sb_printf(b, "%s", tr_enum_name(f->enm, *(const int *)(const void *)p));
        break;
    case TR_FT_U32:
        tr_sb_printf(b, "%08x", (unsigned)*(const uint32_t *)(const void *)p);
        break;
    case TR_FT_U64:
        tr_sb_printf(b, "%016llx", (unsigned long long)*(const uint64_t *)(const void *)p);
        break;
    case TR_FT_DOUBLE:
        tr_sb_printf(b, "%.17g", *(const double *)(const void *)p);
        break;
    case TR_FT_DOUBLES:
    case TR_FT_DOUBLE_LIST: {
        int n = f->type == TR_FT_DOUBLES ? f->len : list_len(l, rec);
        for (int i = 0; i < n; i++)
            tr_sb_printf(b, "%s%.17g", i ? "," : "", ((const double *)(const void *)p)[i]);
        break;
    }
    case TR_FT_FLOAT_LIST: {
        int n = list_len(l, rec);
        for (int i = 0; i < n; i++)
            tr_sb_printf(b, "%s%.9g", i ? "," : "", (double)((const float *)(const void *)p)[i]);
        break;
    }
    case TR_FT_INT64S:
        for (int i = 0; i < f->len; i++)
            tr_sb_printf(b, "%s%lld", i ? "," : "",
                         (long long)((const int64_t *)(const void *)p)[i]);
        break;
    case TR_FT_GROUP: /* flattened away */
        break;
    }
}

tr_code tr_registry_encode(const tr_registry *reg, char **text, size_t *len, tr_error *err)
{
    kind_leaves *kl = malloc(K_COUNT * sizeof *kl);
    if (!kl || all_leaves(kl)) {
        free(kl);
        return tr_fail(err, TR_ERR_NOMEM, "out of memory encoding the registry");
    }
    const void *recs[K_COUNT] = {reg->versions, reg->log, reg->activations, reg->abtests,
                                 reg->events};
    const size_t counts[K_COUNT] = {reg->n_versions, reg->n_log, reg->n_activations, reg->n_abtests,
                                    reg->n_events};
    tr_sb b = {0};
    for (int k = 0; k < K_COUNT; k++) {
        for (size_t i = 0; i < counts[k]; i++) {
            const char *rec = (const char *)recs[k] + i * kinds[k].schema->size;
            tr_sb_printf(&b, "%s", kinds[k].name);
            for (size_t j = 0; j < kl[k].n; j++) {
                tr_sb_printf(&b, "\t%s=", kl[k].l[j].key);
                put_value(&b, &kl[k].l[j], rec);
            }
            tr_sb_put(&b, "\n", 1);
        }
    }
    free(kl);
    if (!b.oom && !b.p)
        tr_sb_put(&b, "", 0);
    if (b.oom || !b.p) {
        tr_sb_free(&b);
        return tr_fail(err, TR_ERR_NOMEM, "out of memory encoding the registry");
    }
    *text = b.p;
    *len = b.n;
    return TR_OK;
}

/* ---- reading ------------------------------------------------------------------------------ */

/* n comma-separated numbers (int64 when is_int, else double) into out. */
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

/* Sets the (non-text) leaf l of rec from the unescaped value v; -1 when it is bad. */
static int set_value(const tr_leaf *l, char *rec, const char *v)
{
    const tr_field *f = l->f;
    char *p = rec + l->off, *end;
    switch (f->type) {
    case TR_FT_TEXT:
    case TR_FT_JSON:
    case TR_FT_GROUP:
        return -1; /* text is unescaped in place by the caller; groups are flattened */
    case TR_FT_INT64:
    case TR_FT_TIME:
        *(int64_t *)(void *)p = strtoll(v, &end, 10);
        return end == v || *end ? -1 : 0;
    case TR_FT_INT:
    case TR_FT_BOOL: {
        long x = strtol(v, &end, 10);
        *(int *)(void *)p = (int)x;
        return end == v || *end ? -1 : 0;
    }
    case TR_FT_ENUM: {
        int i = tr_enum_value(f->enm, v);
        *(int *)(void *)p = i;
        return i < 0 ? -1 : 0;
    }
    case TR_FT_U32: {
        unsigned long x = strtoul(v, &end, 16);
        *(uint32_t *)(void *)p = (uint32_t)x;
        return end == v || *end ? -1 : 0;
    }
    case TR_FT_U64: {
        unsigned long long x = strtoull(v, &end, 16);
        *(uint64_t *)(void *)p = (uint64_t)x;
        return end == v || *end ? -1 : 0;
    }
    case TR_FT_DOUBLE:
        *(double *)(void *)p = strtod(v, &end);
        return end == v || *end ? -1 : 0;
    case TR_FT_DOUBLES:
        return parse_list(v, 0, f->len, p);
    case TR_FT_INT64S:
        return parse_list(v, 1, f->len, p);
    case TR_FT_FLOAT_LIST:
    case TR_FT_DOUBLE_LIST: {
        /* as many values as the count member says (it precedes the list on the line) */
        int n = *(const int *)(const void *)(rec + l->count_off);
        if (n < 0 || n > f->len)
            return -1;
        if (n == 0)
            return *v ? -1 : 0;
        double *tmp = malloc((size_t)n * sizeof *tmp);
        int bad = !tmp || parse_list(v, 0, n, tmp);
        for (int i = 0; i < n && !bad; i++) {
            if (f->type == TR_FT_FLOAT_LIST)
                ((float *)(void *)p)[i] = (float)tmp[i];
            else
                ((double *)(void *)p)[i] = tmp[i];
        }
        free(tmp);
        return bad ? -1 : 0;
    }
    }
    return -1;
}

/* Sets the field named key of rec; 0 when unknown (ignored) or set, -1 when bad. The search
 * starts at *next, the leaf after the last one found: a record written by this program lists its
 * fields in the leaves' order, so each is found at the first comparison (a version has 85
 * fields, and searching from the first leaf made a registry's decoding quadratic in them: 4 % of
 * a 12-month replay's last month in strcmp). Any order is still accepted. */
static int set_field(const kind_leaves *kl, size_t *next, char *rec, const char *key,
                     const char *raw, size_t raw_len, char *scratch, size_t scratch_size)
{
    for (size_t k = 0; k < kl->n; k++) {
        const size_t i = (*next + k) % kl->n;
        const tr_leaf *l = &kl->l[i];
        if (strcmp(l->key, key) != 0)
            continue;
        *next = i + 1;
        if (l->f->type == TR_FT_TEXT || l->f->type == TR_FT_JSON)
            return tr_framed_unescape(raw, raw_len, rec + l->off, l->f->size);
        if (tr_framed_unescape(raw, raw_len, scratch, scratch_size))
            return -1;
        return set_value(l, rec, scratch);
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

/* The kind named by s[0..n), or -1. */
static int kind_of(const char *s, size_t n)
{
    for (int k = 0; k < K_COUNT; k++)
        if (strlen(kinds[k].name) == n && memcmp(s, kinds[k].name, n) == 0)
            return k;
    return -1;
}

/* A record's own checks after its line; NULL when it is fine, else what is wrong. */
static const char *check_record(int kind, const void *rec)
{
    if (kind == K_VERSION && !tr_version_name_valid(((const tr_version *)rec)->version))
        return "version record without a valid name";
    if (kind == K_ABTEST && !((const tr_ab_test *)rec)->id[0])
        return "A/B test record without an id";
    if (kind == K_EVENT && (((const tr_outbox_event *)rec)->id <= 0 ||
                            !tr_outbox_kind_valid(((const tr_outbox_event *)rec)->kind)))
        return "event record without an id or a valid kind";
    return NULL;
}

tr_code tr_registry_decode(const char *what, const char *text, size_t len, tr_registry *reg,
                           tr_error *err)
{
    tr_registry_init(reg);
    size_t cap[K_COUNT] = {0};
    size_t pos = 0;
    int line = 0;
    char key[128];
    char *scratch = malloc(8192);
    kind_leaves *kl = malloc(K_COUNT * sizeof *kl);
    tr_code rc = TR_OK;
    if (!scratch || !kl || all_leaves(kl))
        goto oom;
    while (pos < len) {
        line++;
        const char *ls = text + pos;
        const char *nl = memchr(ls, '\n', len - pos);
        if (!nl) {
            rc = tr_fail(err, TR_ERR_FORMAT, "%s: line %d is not terminated (truncated file)", what,
                         line);
            goto fail;
        }
        size_t ll = (size_t)(nl - ls);
        pos += ll + 1;
        const char *tab = memchr(ls, '\t', ll);
        int kind = kind_of(ls, tab ? (size_t)(tab - ls) : ll);
        if (kind < 0)
            continue; /* a newer record kind */
        size_t elem = kinds[kind].schema->size, *n;
        void **arr = records_of(reg, kind, &n);
        if (grow_array(arr, &cap[kind], *n, elem))
            goto oom;
        char *rec = (char *)*arr + *n * elem;
        tr_schema_init(kinds[kind].schema, rec); /* what an absent key leaves */
        size_t next = 0;
        for (const char *p = tab; tab && p < nl;) { /* tab NULL: a record with no field */
            const char *fs = p + 1;
            const char *fe = memchr(fs, '\t', (size_t)(nl - fs));
            if (!fe)
                fe = nl;
            const char *eq = memchr(fs, '=', (size_t)(fe - fs));
            if (!eq || (size_t)(eq - fs) >= sizeof key) {
                rc = tr_fail(err, TR_ERR_FORMAT, "%s: line %d: malformed field", what, line);
                goto fail;
            }
            memcpy(key, fs, (size_t)(eq - fs));
            key[eq - fs] = '\0';
            if (set_field(&kl[kind], &next, rec, key, eq + 1, (size_t)(fe - eq - 1), scratch,
                          8192)) {
                rc = tr_fail(err, TR_ERR_FORMAT, "%s: line %d: bad value of field %s", what, line,
                             key);
                goto fail;
            }
            p = fe;
        }
        const char *bad = check_record(kind, rec);
        if (!bad && kind == K_EVENT) {
            int64_t id = ((const tr_outbox_event *)rec)->id;
            if (id <= reg->last_event_id)
                bad = "event ids out of order";
            else
                reg->last_event_id = id;
        }
        if (bad) {
            rc = tr_fail(err, TR_ERR_FORMAT, "%s: line %d: %s", what, line, bad);
            goto fail;
        }
        (*n)++;
    }
    free(scratch);
    free(kl);
    return TR_OK;
oom:
    rc = tr_fail(err, TR_ERR_NOMEM, "out of memory reading %s", what);
fail:
    free(scratch);
    free(kl);
    tr_registry_free(reg);
    return rc;
}
