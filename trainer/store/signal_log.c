/*
 * signal_log.c - the directory store's trading signals, split by pair and month (signal_log.h).
 *
 * Costs: an append rewrites the one segment (pair, month) it lands in and the id counter; an
 * outcome update rewrites the segments of the signals it changes; a read of a pair and a range
 * parses only the months that overlap the range. None depends on how many signals the store
 * holds in other months or pairs. Parsing is one pass over each line, bounded by the line.
 */
#define _POSIX_C_SOURCE 200809L

#include "store/signal_log.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aifxnn.h" /* aifx_crc32 */
#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

/* 2 1 adds an 18th field (reported); 2 0 segments, and 17-field lines kept verbatim from them,
 * are read as before (reported 0) */
static const char seg_magic[] = "AIFXSIG 2 1\n";
static const char seg_magic_20[] = "AIFXSIG 2 0\n";
static const char id_magic[] = "AIFXSIGID 1\n";

#define SIG_FIELDS   18
#define SIG_LINE_MAX 1024
#define PATH_MAX_SIG 4400

/* ---- the line codec -------------------------------------------------------------------------- */

void tr_siglog_encode(tr_sb *b, const tr_signal *g)
{
    tr_sb line = {0};
    tr_sb_printf(&line,
                 "%lld\t%s\t%d\t%lld\t%d\t%.9g\t%.9g\t%.9g\t%.9g\t%s\t%s\t%lld\t%s\t%lld\t%.17g"
                 "\t%.17g\t%.17g\t%d",
                 (long long)g->id, g->pair, (int)g->timeframe, (long long)g->bar_time, g->signal,
                 g->confidence, g->probs[0], g->probs[1], g->probs[2], g->model_version,
                 g->ab_test_id[0] ? g->ab_test_id : "-", (long long)g->created_at,
                 g->outcome[0] ? g->outcome : "open", (long long)g->exit_time, g->exit_price,
                 g->pnl_pips, g->pnl_percent, g->reported ? 1 : 0);
    if (line.oom) {
        b->oom = 1;
    } else {
        tr_sb_printf(b, "%08x\t", (unsigned)aifx_crc32(0, line.p, line.n));
        tr_sb_put(b, line.p, line.n);
        tr_sb_put(b, "\n", 1);
    }
    tr_sb_free(&line);
}

static int hex8(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 8; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return -1;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return 0;
}

/* Whole-field numbers: the field must be consumed entirely. */
static int field_i64(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno)
        return -1;
    *out = (int64_t)v;
    return 0;
}

static int field_f64(const char *s, double *out)
{
    char *end;
    *out = strtod(s, &end);
    return end == s || *end ? -1 : 0;
}

static int field_text(const char *s, char *out, size_t size)
{
    size_t n = strlen(s);
    if (n == 0 || n >= size)
        return -1;
    memcpy(out, s, n + 1);
    return 0;
}

int tr_siglog_decode(const char *line, size_t n, tr_signal *g)
{
    char buf[SIG_LINE_MAX];
    uint32_t crc;
    if (n < 10 || n >= sizeof buf || line[8] != '\t' || hex8(line, &crc))
        return -1;
    if (aifx_crc32(0, line + 9, n - 9) != crc)
        return 1;
    memcpy(buf, line + 9, n - 9);
    buf[n - 9] = '\0';
    char *f[SIG_FIELDS];
    int k = 0;
    for (char *p = buf; k < SIG_FIELDS; k++) {
        f[k] = p;
        char *t = strchr(p, '\t');
        if (!t) {
            k++;
            break;
        }
        *t = '\0';
        p = t + 1;
        if (k == SIG_FIELDS - 1)
            return -1; /* more fields than a record has */
    }
    if (k != SIG_FIELDS && k != SIG_FIELDS - 1) /* 17: a line of format 2 0 */
        return -1;
    memset(g, 0, sizeof *g);
    int64_t tf, sig;
    int bad = field_i64(f[0], &g->id) || field_text(f[1], g->pair, sizeof g->pair) ||
              field_i64(f[2], &tf) || field_i64(f[3], &g->bar_time) || field_i64(f[4], &sig) ||
              field_f64(f[5], &g->confidence) || field_f64(f[6], &g->probs[0]) ||
              field_f64(f[7], &g->probs[1]) || field_f64(f[8], &g->probs[2]) ||
              field_text(f[9], g->model_version, sizeof g->model_version) ||
              field_text(f[10], g->ab_test_id, sizeof g->ab_test_id) ||
              field_i64(f[11], &g->created_at) ||
              field_text(f[12], g->outcome, sizeof g->outcome) || field_i64(f[13], &g->exit_time) ||
              field_f64(f[14], &g->exit_price) || field_f64(f[15], &g->pnl_pips) ||
              field_f64(f[16], &g->pnl_percent);
    int64_t rep = 0;
    if (k == SIG_FIELDS)
        bad = bad || field_i64(f[17], &rep) || rep < 0 || rep > 1;
    g->reported = (int)rep;
    if (bad || tf <= 0 || tf > INT32_MAX || sig < 0 || sig > 2 || g->id < 1)
        return -1;
    g->timeframe = (int32_t)tf;
    g->signal = (int)sig;
    if (strcmp(g->ab_test_id, "-") == 0)
        g->ab_test_id[0] = '\0';
    return 0;
}

/* ---- segments -------------------------------------------------------------------------------- */

/* The month of a bar: year * 12 + month - 1. */
static int64_t month_of(int64_t t)
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400), y;
    int m, d;
    tr_civil_from_days(days, &y, &m, &d);
    return y * 12 + (m - 1);
}

/* The first second of a month key. */
static int64_t month_start(int64_t key)
{
    int64_t y = key >= 0 ? key / 12 : -((-key + 11) / 12);
    int m = (int)(key - y * 12) + 1;
    return tr_days_from_civil(y, m, 1) * 86400;
}

static tr_code seg_path(const char *dir, const char *pair, int64_t key, char *out, size_t size,
                        tr_error *err)
{
    int64_t y = key >= 0 ? key / 12 : -((-key + 11) / 12);
    int m = (int)(key - y * 12) + 1;
    int w = snprintf(out, size, "%s/%s/%04lld-%02d.sig", dir, pair, (long long)y, m);
    if (w < 0 || (size_t)w >= size)
        return tr_fail(err, TR_ERR_INVALID, "signal log path too long under %s", dir);
    return TR_OK;
}

/* One segment in memory: its records, and each record's line in text (for unchanged ones). */
typedef struct segment {
    char pair[TR_PAIR_MAX];
    int64_t key;
    char path[PATH_MAX_SIG];
    char *text; /* the file, or NULL when new */
    tr_signal *v;
    size_t n, cap;
    size_t *line_off, *line_len; /* in text; line_len 0 for a record to encode */
    int dirty;
} segment;

static void seg_free(segment *s)
{
    free(s->text);
    free(s->v);
    free(s->line_off);
    free(s->line_len);
    memset(s, 0, sizeof *s);
}

static int seg_grow(segment *s)
{
    if (s->n < s->cap)
        return 0;
    size_t nc = s->cap ? 2 * s->cap : 64;
    tr_signal *v = realloc(s->v, nc * sizeof *v);
    if (!v)
        return -1;
    s->v = v;
    size_t *o = realloc(s->line_off, nc * sizeof *o);
    if (!o)
        return -1;
    s->line_off = o;
    size_t *l = realloc(s->line_len, nc * sizeof *l);
    if (!l)
        return -1;
    s->line_len = l;
    s->cap = nc;
    return 0;
}

/* Parses the segment file at path (already read into s->text, len bytes) into s; each record is
 * checked, and must belong to the segment's pair and month. */
static tr_code seg_parse(segment *s, const char *path, size_t len, tr_error *err)
{
    const char *text = s->text;
    size_t ml = sizeof seg_magic - 1;
    if (len < ml || (memcmp(text, seg_magic, ml) != 0 && memcmp(text, seg_magic_20, ml) != 0)) {
        if (len >= 9 && memcmp(text, "AIFXSIG ", 8) == 0 && text[8] > '2')
            return tr_fail(err, TR_ERR_VERSION, "%s: signals format newer than this program reads",
                           path);
        return tr_fail(err, TR_ERR_FORMAT, "%s: not a signal log segment (bad header)", path);
    }
    size_t pos = ml;
    int line = 1;
    while (pos < len) {
        line++;
        const char *ls = text + pos;
        const char *nl = memchr(ls, '\n', len - pos);
        if (!nl)
            return tr_fail(err, TR_ERR_FORMAT,
                           "%s:%d: record without its end of line (the file was cut: nothing "
                           "writes a partial record)",
                           path, line);
        size_t ll = (size_t)(nl - ls);
        if (seg_grow(s))
            return tr_fail(err, TR_ERR_NOMEM, "out of memory reading %s", path);
        tr_signal *g = &s->v[s->n];
        int r = tr_siglog_decode(ls, ll, g);
        if (r > 0)
            return tr_fail(err, TR_ERR_CHECKSUM, "%s:%d: damaged signal record (checksum)", path,
                           line);
        if (r < 0 || strcmp(g->pair, s->pair) != 0 || month_of(g->bar_time) != s->key)
            return tr_fail(err, TR_ERR_FORMAT, "%s:%d: malformed signal record", path, line);
        s->line_off[s->n] = pos;
        s->line_len[s->n] = ll + 1;
        s->n++;
        pos += ll + 1;
    }
    return TR_OK;
}

/* Loads the segment (pair, key) of dir into s; a missing file is an empty segment. */
static tr_code seg_load(segment *s, const char *dir, const char *pair, int64_t key, tr_error *err)
{
    memset(s, 0, sizeof *s);
    snprintf(s->pair, sizeof s->pair, "%s", pair);
    s->key = key;
    tr_code rc = seg_path(dir, pair, key, s->path, sizeof s->path, err);
    if (rc)
        return rc;
    size_t len;
    rc = tr_file_read(s->path, &s->text, &len, err);
    if (rc == TR_ERR_NOTFOUND) {
        tr_error_clear(err);
        s->text = NULL;
        return TR_OK;
    }
    if (rc)
        return rc;
    return seg_parse(s, s->path, len, err);
}

static tr_code seg_write(const segment *s, const char *dir, tr_error *err)
{
    char sub[PATH_MAX_SIG];
    snprintf(sub, sizeof sub, "%s/%s", dir, s->pair);
    tr_code rc = tr_mkdir_p(sub, err);
    if (rc)
        return rc;
    tr_sb out = {0};
    tr_sb_put(&out, seg_magic, sizeof seg_magic - 1);
    for (size_t i = 0; i < s->n; i++) {
        if (s->line_len[i])
            tr_sb_put(&out, s->text + s->line_off[i], s->line_len[i]);
        else
            tr_siglog_encode(&out, &s->v[i]);
    }
    if (out.oom)
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory writing %s", s->path);
    else
        rc = tr_file_write_atomic(s->path, out.p, out.n, err);
    tr_sb_free(&out);
    return rc;
}

/* The loaded segments of one operation, found by (pair, key). */
typedef struct seg_set {
    segment *v;
    size_t n, cap;
} seg_set;

static void set_free(seg_set *ss)
{
    for (size_t i = 0; i < ss->n; i++)
        seg_free(&ss->v[i]);
    free(ss->v);
}

static tr_code set_get(seg_set *ss, const char *dir, const char *pair, int64_t bar_time,
                       segment **out, tr_error *err)
{
    int64_t key = month_of(bar_time);
    for (size_t i = 0; i < ss->n; i++)
        if (ss->v[i].key == key && strcmp(ss->v[i].pair, pair) == 0) {
            *out = &ss->v[i];
            return TR_OK;
        }
    if (ss->n == ss->cap) {
        size_t nc = ss->cap ? 2 * ss->cap : 4;
        segment *v = realloc(ss->v, nc * sizeof *v);
        if (!v)
            return tr_fail(err, TR_ERR_NOMEM, "out of memory in the signal log");
        ss->v = v;
        ss->cap = nc;
    }
    segment *s = &ss->v[ss->n];
    tr_code rc = seg_load(s, dir, pair, key, err);
    if (rc) {
        seg_free(s);
        return rc;
    }
    ss->n++;
    *out = s;
    return TR_OK;
}

/* ---- the id counter -------------------------------------------------------------------------- */

static tr_code ids_read(const char *dir, int64_t *next, int *present, tr_error *err)
{
    char path[PATH_MAX_SIG];
    snprintf(path, sizeof path, "%s/next-id", dir);
    char *text;
    size_t len;
    *present = 0;
    *next = 1;
    tr_code rc = tr_file_read(path, &text, &len, err);
    if (rc == TR_ERR_NOTFOUND) {
        tr_error_clear(err);
        return TR_OK;
    }
    if (rc)
        return rc;
    size_t ml = sizeof id_magic - 1;
    int64_t v = 0;
    int ok = len > ml && memcmp(text, id_magic, ml) == 0 && text[len - 1] == '\n';
    if (ok) {
        text[len - 1] = '\0';
        ok = field_i64(text + ml, &v) == 0 && v >= 1;
    }
    free(text);
    if (!ok)
        return tr_fail(err, TR_ERR_FORMAT, "%s: damaged signal id counter", path);
    *next = v;
    *present = 1;
    return TR_OK;
}

static tr_code ids_write(const char *dir, int64_t next, tr_error *err)
{
    char path[PATH_MAX_SIG], text[64];
    snprintf(path, sizeof path, "%s/next-id", dir);
    int n = snprintf(text, sizeof text, "%s%lld\n", id_magic, (long long)next);
    return tr_file_write_atomic(path, text, (size_t)n, err);
}

/* ---- reading ----------------------------------------------------------------------------------
 */

typedef struct sig_list {
    tr_signal *v;
    size_t n, cap;
} sig_list;

static int list_push(sig_list *l, const tr_signal *g)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? 2 * l->cap : 64;
        tr_signal *v = realloc(l->v, nc * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = nc;
    }
    l->v[l->n++] = *g;
    return 0;
}

/* Reads the segments of one pair's folder that overlap [from, to) into l. */
static tr_code read_pair(const char *dir, const char *pair, int64_t from, int64_t to, sig_list *l,
                         int64_t *max_id, tr_error *err)
{
    char sub[PATH_MAX_SIG];
    snprintf(sub, sizeof sub, "%s/%s", dir, pair);
    DIR *d = opendir(sub);
    if (!d) {
        if (errno == ENOENT)
            return TR_OK;
        return tr_fail(err, TR_ERR_IO, "%s: cannot list the signal log: %s", sub, strerror(errno));
    }
    tr_code rc = TR_OK;
    struct dirent *e;
    while (!rc && (e = readdir(d)) != NULL) {
        int y, m;
        char tail[8];
        if (sscanf(e->d_name, "%4d-%2d.%3s", &y, &m, tail) != 3 || strcmp(tail, "sig") != 0 ||
            strlen(e->d_name) != 11 || m < 1 || m > 12)
            continue; /* temporary files and others */
        int64_t key = (int64_t)y * 12 + (m - 1);
        if (month_start(key + 1) <= from || month_start(key) >= to)
            continue;
        segment s;
        rc = seg_load(&s, dir, pair, key, err);
        for (size_t i = 0; !rc && i < s.n; i++) {
            const tr_signal *g = &s.v[i];
            if (max_id && g->id > *max_id)
                *max_id = g->id;
            if (g->bar_time >= from && g->bar_time < to && list_push(l, g))
                rc = tr_fail(err, TR_ERR_NOMEM, "out of memory reading %s", s.path);
        }
        seg_free(&s);
    }
    closedir(d);
    return rc;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = ((const tr_signal *)a)->id, y = ((const tr_signal *)b)->id;
    return (x > y) - (x < y);
}

/* Every pair folder of the log (malloc'd names; *n of them). */
static tr_code list_pairs(const char *dir, char (**pairs)[TR_PAIR_MAX], size_t *n, tr_error *err)
{
    *pairs = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return TR_OK;
        return tr_fail(err, TR_ERR_IO, "%s: cannot list the signal log: %s", dir, strerror(errno));
    }
    size_t cap = 0;
    struct dirent *e;
    tr_code rc = TR_OK;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len >= TR_PAIR_MAX || !tr_pair_valid(e->d_name))
            continue;
        if (*n == cap) {
            size_t nc = cap ? 2 * cap : 8;
            char(*v)[TR_PAIR_MAX] = realloc(*pairs, nc * sizeof *v);
            if (!v) {
                rc = tr_fail(err, TR_ERR_NOMEM, "out of memory listing %s", dir);
                break;
            }
            *pairs = v;
            cap = nc;
        }
        memcpy((*pairs)[(*n)++], e->d_name, len + 1);
    }
    closedir(d);
    return rc;
}

static tr_code read_all(const char *dir, const char *pair, int64_t from, int64_t to, sig_list *l,
                        int64_t *max_id, tr_error *err)
{
    if (pair)
        return read_pair(dir, pair, from, to, l, max_id, err);
    char(*pairs)[TR_PAIR_MAX];
    size_t np;
    tr_code rc = list_pairs(dir, &pairs, &np, err);
    for (size_t i = 0; !rc && i < np; i++)
        rc = read_pair(dir, pairs[i], from, to, l, max_id, err);
    free(pairs);
    return rc;
}

tr_code tr_siglog_get(const char *dir, const char *pair, int64_t from, int64_t to, tr_signal **list,
                      size_t *n, tr_error *err)
{
    sig_list l = {0};
    *list = NULL;
    *n = 0;
    tr_code rc = read_all(dir, pair, from, to, &l, NULL, err);
    if (rc) {
        free(l.v);
        return rc;
    }
    if (l.n > 1)
        qsort(l.v, l.n, sizeof *l.v, cmp_id);
    *list = l.v;
    *n = l.n;
    return TR_OK;
}

/* ---- writing ----------------------------------------------------------------------------------
 */

static int same_key(const tr_signal *a, const tr_signal *b)
{
    return a->bar_time == b->bar_time && strcmp(a->model_version, b->model_version) == 0 &&
           strcmp(a->ab_test_id, b->ab_test_id) == 0;
}

tr_code tr_siglog_append(const char *dir, tr_signal *sigs, size_t n, tr_error *err)
{
    if (n == 0)
        return TR_OK;
    tr_code rc = tr_mkdir_p(dir, err);
    if (rc)
        return rc;
    int64_t next;
    int present;
    rc = ids_read(dir, &next, &present, err);
    if (!rc && !present) {
        /* no counter (a new log, or one whose counter was lost): past every stored id */
        sig_list all = {0};
        int64_t max_id = 0;
        rc = read_all(dir, NULL, INT64_MIN, INT64_MAX, &all, &max_id, err);
        free(all.v);
        next = max_id + 1;
    }
    if (rc)
        return rc;
    seg_set ss = {0};
    size_t n_new = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        segment *s;
        rc = set_get(&ss, dir, sigs[i].pair, sigs[i].bar_time, &s, err);
        if (rc)
            break;
        size_t j = 0;
        while (j < s->n && !same_key(&s->v[j], &sigs[i]))
            j++;
        if (j < s->n) { /* stored already (or earlier in this batch): that record stands */
            sigs[i] = s->v[j];
            continue;
        }
        if (seg_grow(s)) {
            rc = tr_fail(err, TR_ERR_NOMEM, "out of memory appending to %s", s->path);
            break;
        }
        sigs[i].id = next + (int64_t)n_new++;
        s->v[s->n] = sigs[i];
        s->line_len[s->n] = 0;
        s->n++;
        s->dirty = 1;
    }
    /* the counter first: a crash before the segments are written skips ids, never reuses one */
    if (!rc && n_new)
        rc = ids_write(dir, next + (int64_t)n_new, err);
    for (size_t k = 0; !rc && k < ss.n; k++)
        if (ss.v[k].dirty)
            rc = seg_write(&ss.v[k], dir, err);
    set_free(&ss);
    return rc;
}

tr_code tr_siglog_update(const char *dir, const tr_signal *sigs, size_t n, tr_error *err)
{
    seg_set ss = {0};
    tr_code rc = TR_OK;
    for (size_t i = 0; !rc && i < n; i++) {
        segment *s;
        rc = set_get(&ss, dir, sigs[i].pair, sigs[i].bar_time, &s, err);
        if (rc)
            break;
        size_t j = 0;
        while (j < s->n && s->v[j].id != sigs[i].id)
            j++;
        if (j == s->n) {
            rc = tr_fail(err, TR_ERR_NOTFOUND, "%s: no signal with id %lld", s->path,
                         (long long)sigs[i].id);
            break;
        }
        tr_signal *g = &s->v[j];
        snprintf(g->outcome, sizeof g->outcome, "%s", sigs[i].outcome);
        g->exit_time = sigs[i].exit_time;
        g->exit_price = sigs[i].exit_price;
        g->pnl_pips = sigs[i].pnl_pips;
        g->pnl_percent = sigs[i].pnl_percent;
        g->reported = sigs[i].reported;
        s->line_len[j] = 0; /* encode it anew */
        s->dirty = 1;
    }
    /* every id was found before anything is written; each segment is then replaced atomically
     * (a crash between two segments leaves some outcomes to resolve again: the monitor's
     * resolution is a function of bars and signals, so the next run writes the same values) */
    for (size_t k = 0; !rc && k < ss.n; k++)
        if (ss.v[k].dirty)
            rc = seg_write(&ss.v[k], dir, err);
    set_free(&ss);
    return rc;
}

static int cmp_segment(const void *a, const void *b)
{
    const tr_signal *x = a, *y = b;
    int c = strcmp(x->pair, y->pair);
    if (c)
        return c;
    int64_t mx = month_of(x->bar_time), my = month_of(y->bar_time);
    if (mx != my)
        return (mx > my) - (mx < my);
    return (x->id > y->id) - (x->id < y->id);
}

tr_code tr_siglog_import(const char *dir, const tr_signal *sigs, size_t n, tr_error *err)
{
    tr_code rc = tr_mkdir_p(dir, err);
    if (rc)
        return rc;
    tr_signal *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory importing signals into %s", dir);
    memcpy(v, sigs, n * sizeof *v);
    qsort(v, n, sizeof *v, cmp_segment);
    int64_t max_id = 0;
    for (size_t a = 0; !rc && a < n;) {
        size_t b = a;
        int64_t key = month_of(v[a].bar_time);
        while (b < n && strcmp(v[b].pair, v[a].pair) == 0 && month_of(v[b].bar_time) == key)
            b++;
        segment sg;
        memset(&sg, 0, sizeof sg);
        snprintf(sg.pair, sizeof sg.pair, "%s", v[a].pair);
        sg.key = key;
        sg.v = v + a;
        sg.n = b - a;
        sg.line_len = calloc(sg.n, sizeof *sg.line_len);
        if (!tr_pair_valid(sg.pair))
            rc = tr_fail(err, TR_ERR_FORMAT, "signal %lld: bad pair name", (long long)v[a].id);
        else if (!sg.line_len)
            rc = tr_fail(err, TR_ERR_NOMEM, "out of memory importing signals into %s", dir);
        if (!rc)
            rc = seg_path(dir, sg.pair, key, sg.path, sizeof sg.path, err);
        if (!rc)
            rc = seg_write(&sg, dir, err);
        free(sg.line_len);
        for (size_t i = a; i < b; i++)
            if (v[i].id > max_id)
                max_id = v[i].id;
        a = b;
    }
    free(v);
    /* the counter last: its presence says the import is complete */
    if (!rc)
        rc = ids_write(dir, max_id + 1, err);
    return rc;
}

int tr_siglog_exists(const char *dir)
{
    char path[PATH_MAX_SIG];
    struct stat st;
    snprintf(path, sizeof path, "%s/next-id", dir);
    return stat(path, &st) == 0;
}
