/*
 * family.c - model family definitions: names, the "key = value" text, defaults (family.h).
 */
#include "registry/family.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "market/decide.h"
#include "market/labels.h"

tr_family tr_family_default(void)
{
    tr_family f;
    memset(&f, 0, sizeof f);
    snprintf(f.name, sizeof f.name, "%s", TR_FAMILY_DEFAULT);
    return f;
}

int tr_family_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 1 || n >= TR_FAMILY_NAME_MAX || !islower((unsigned char)name[0]))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!islower(c) && !isdigit(c) && c != '_' && c != '-')
            return 0;
    }
    return 1;
}

int tr_family_is_default(const char *name)
{
    return !name || !name[0] || strcmp(name, TR_FAMILY_DEFAULT) == 0;
}

int32_t tr_family_timeframe(const tr_family *f)
{
    return f && f->timeframe > 0 ? f->timeframe : TR_BASE_TIMEFRAME;
}

int tr_family_scale(const tr_family *f)
{
    int32_t tf = tr_family_timeframe(f);
    return tf > TR_BASE_TIMEFRAME ? (int)(tf / TR_BASE_TIMEFRAME) : 1;
}

/* ---- keys ----------------------------------------------------------------------------------- */

static int cmp_pair(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static tr_code set_pairs(tr_family *f, const char *v, tr_error *err)
{
    f->n_pairs = 0;
    const char *p = v;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        char one[TR_PAIR_MAX];
        if (n == 0 || n >= sizeof one)
            return tr_fail(err, TR_ERR_INVALID, "pairs: bad pair in '%.80s'", v);
        memcpy(one, p, n);
        one[n] = '\0';
        if (!tr_pair_valid(one))
            return tr_fail(err, TR_ERR_INVALID,
                           "pairs: bad pair name '%s' (3 to 15 characters A-Z, 0-9)", one);
        for (int i = 0; i < f->n_pairs; i++)
            if (strcmp(f->pairs[i], one) == 0)
                return tr_fail(err, TR_ERR_INVALID, "pairs: %s is named twice", one);
        if (f->n_pairs == TR_FAMILY_PAIRS_MAX)
            return tr_fail(err, TR_ERR_INVALID, "pairs: more than %d pairs", TR_FAMILY_PAIRS_MAX);
        memcpy(f->pairs[f->n_pairs++], one, n + 1);
        p = e ? e + 1 : p + strlen(p);
    }
    if (f->n_pairs == 0)
        return tr_fail(err, TR_ERR_INVALID, "pairs: none named");
    qsort(f->pairs, (size_t)f->n_pairs, sizeof f->pairs[0], cmp_pair);
    return TR_OK;
}

static tr_code set_int(int *dst, const char *key, const char *v, int lo, int hi, tr_error *err)
{
    char *end;
    long x = strtol(v, &end, 10);
    if (!v[0] || *end || x < lo || x > hi)
        return tr_fail(err, TR_ERR_INVALID, "%s: '%.40s' is not a whole number in %d..%d", key, v,
                       lo, hi);
    *dst = (int)x;
    return TR_OK;
}

static tr_code set_disable(tr_family *f, const char *v, tr_error *err)
{
    size_t n = strlen(v);
    if (n >= sizeof f->disable)
        return tr_fail(err, TR_ERR_INVALID, "disable: too long");
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)v[i]) && v[i] != ',')
            return tr_fail(err, TR_ERR_INVALID, "disable: '%.80s' is not a list of cycle names", v);
    memcpy(f->disable, v, n + 1);
    return TR_OK;
}

tr_code tr_family_set(tr_family *f, const char *key, const char *v, tr_error *err)
{
    if (strcmp(key, "pairs") == 0)
        return strcmp(v, "all") == 0 ? (f->n_pairs = 0, TR_OK) : set_pairs(f, v, err);
    if (strcmp(key, "timeframe") == 0) {
        int32_t tf;
        if (tr_timeframe_parse(v, &tf) != 0 || tf < TR_BASE_TIMEFRAME || tf > 86400 ||
            tf % TR_BASE_TIMEFRAME != 0 || 86400 % tf != 0)
            return tr_fail(err, TR_ERR_INVALID,
                           "timeframe: '%.40s' is not a timeframe of 15m to 1d dividing a day in "
                           "whole 15-minute steps (15m, 30m, 1h, 2h, 4h, 1d)",
                           v);
        f->timeframe = tf;
        return TR_OK;
    }
    if (strcmp(key, "labels") == 0) {
        int k;
        if (tr_label_kind_parse(v, &k) != 0)
            return tr_fail(err, TR_ERR_INVALID, "labels: '%.40s' is not barrier or reversal", v);
        f->labels = k + 1;
        return TR_OK;
    }
    if (strcmp(key, "decision") == 0) {
        int d;
        if (tr_decision_parse(v, &d) != 0)
            return tr_fail(err, TR_ERR_INVALID, "decision: '%.40s' is not cost or argmax", v);
        f->decision = d + 1;
        return TR_OK;
    }
    if (strcmp(key, "layers") == 0)
        return set_int(&f->n_layers, key, v, 1, 4, err);
    if (strcmp(key, "hidden") == 0)
        return set_int(&f->n_hidden, key, v, 1, 1024, err);
    if (strcmp(key, "epochs") == 0)
        return set_int(&f->max_epochs, key, v, 1, 1000, err);
    if (strcmp(key, "batch") == 0)
        return set_int(&f->batch, key, v, 1, 4096, err);
    if (strcmp(key, "months") == 0)
        return set_int(&f->months, key, v, 1, 120, err);
    if (strcmp(key, "weekday") == 0) {
        static const char *const days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
        for (int i = 0; i < 7; i++)
            if (strcmp(v, days[i]) == 0) {
                f->weekday = i + 1;
                return TR_OK;
            }
        return tr_fail(err, TR_ERR_INVALID, "weekday: '%.40s' is not mon, tue, ... or sun", v);
    }
    if (strcmp(key, "disable") == 0)
        return set_disable(f, v, err);
    return tr_fail(err, TR_ERR_INVALID,
                   "unknown key '%.40s' (pairs, timeframe, labels, decision, layers, hidden, "
                   "epochs, batch, months, weekday, disable)",
                   key);
}

/* ---- the text ------------------------------------------------------------------------------- */

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

tr_code tr_family_parse(const char *name, const char *text, size_t len, const char *what,
                        tr_family *f, tr_error *err)
{
    if (!tr_family_name_valid(name) || strcmp(name, TR_FAMILY_DEFAULT) == 0)
        return tr_fail(err, TR_ERR_INVALID,
                       "bad family name '%.80s' (1 to 63 characters a-z 0-9 _ -, starting with a "
                       "letter; 'default' is the implicit family)",
                       name ? name : "(null)");
    if (len > TR_FAMILY_TEXT_MAX)
        return tr_fail(err, TR_ERR_INVALID, "%s: longer than %d bytes", what, TR_FAMILY_TEXT_MAX);
    char own[TR_FAMILY_NAME_MAX]; /* name may point into *f */
    snprintf(own, sizeof own, "%s", name);
    name = own;
    *f = tr_family_default();
    snprintf(f->name, sizeof f->name, "%s", name);
    char buf[TR_FAMILY_TEXT_MAX + 1];
    memcpy(buf, text, len);
    buf[len] = '\0';
    if (memchr(text, '\0', len))
        return tr_fail(err, TR_ERR_INVALID, "%s: holds a NUL byte", what);
    char seen[16][16];
    int n_seen = 0, line = 0;
    char *save = buf;
    while (save) {
        char *l = save;
        char *nl = strchr(l, '\n');
        save = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        line++;
        char *hash = strchr(l, '#');
        if (hash)
            *hash = '\0';
        l = trim(l);
        if (!l[0])
            continue;
        char *eq = strchr(l, '=');
        if (!eq)
            return tr_fail(err, TR_ERR_INVALID, "%s line %d: expected 'key = value'", what, line);
        *eq = '\0';
        char *key = trim(l), *val = trim(eq + 1);
        if (strcmp(key, "name") == 0) {
            if (strcmp(val, name) != 0)
                return tr_fail(err, TR_ERR_INVALID, "%s line %d: name '%.63s' is not '%s'", what,
                               line, val, name);
            continue;
        }
        for (int i = 0; i < n_seen; i++)
            if (strcmp(seen[i], key) == 0)
                return tr_fail(err, TR_ERR_INVALID, "%s line %d: key '%s' is set twice", what, line,
                               key);
        tr_error e1 = {0};
        if (tr_family_set(f, key, val, &e1) != TR_OK)
            return tr_fail(err, TR_ERR_INVALID, "%s line %d: %s", what, line, e1.msg);
        if (n_seen < 16 && strlen(key) < sizeof seen[0])
            snprintf(seen[n_seen++], sizeof seen[0], "%s", key);
    }
    return TR_OK;
}

int tr_family_format(const tr_family *f, char *buf, size_t size)
{
    size_t at = 0;
    int need = 0;
#define PUT(...)                                                                                   \
    do {                                                                                           \
        int k = snprintf(buf ? buf + at : NULL, at < size ? size - at : 0, __VA_ARGS__);           \
        if (k > 0) {                                                                               \
            need += k;                                                                             \
            at = at + (size_t)k < size ? at + (size_t)k : size;                                    \
        }                                                                                          \
    } while (0)
    PUT("name = %s\n", f->name);
    if (f->n_pairs) {
        PUT("pairs = ");
        for (int i = 0; i < f->n_pairs; i++)
            PUT("%s%s", i ? "," : "", f->pairs[i]);
        PUT("\n");
    } else {
        PUT("pairs = all\n");
    }
    char tf[16];
    PUT("timeframe = %s\n", tr_timeframe_name(tr_family_timeframe(f), tf, sizeof tf));
    if (f->labels)
        PUT("labels = %s\n", tr_label_kind_name(f->labels - 1));
    if (f->decision)
        PUT("decision = %s\n", tr_decision_name(f->decision - 1));
    if (f->n_layers)
        PUT("layers = %d\n", f->n_layers);
    if (f->n_hidden)
        PUT("hidden = %d\n", f->n_hidden);
    if (f->max_epochs)
        PUT("epochs = %d\n", f->max_epochs);
    if (f->batch)
        PUT("batch = %d\n", f->batch);
    if (f->months)
        PUT("months = %d\n", f->months);
    if (f->weekday) {
        static const char *const days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
        PUT("weekday = %s\n", days[(f->weekday - 1) % 7]);
    }
    if (f->disable[0])
        PUT("disable = %s\n", f->disable);
#undef PUT
    return need;
}
