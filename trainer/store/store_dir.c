/*
 * store_dir.c - the embedded directory store, the default backend. Its two larger formats live
 * beside it (registry_text.c, signal_log.c), its job queue too (jobs_dir.c); what remains here,
 * the bars file, the locks and the glue of each method (the queue's eight are one-line calls, the
 * registry commit's fence check among them), is about 1,000 lines and reads best together.
 *
 * Layout of a store directory (docs/schema.md has the byte-level format):
 *   aifx-store               "aifx-store 1\n": marks the directory and gives the layout version
 *   lock                     empty; writers hold flock(LOCK_EX) on it for a whole read-merge-write
 *   bars/<PAIR>_<TF>.bars    one series per (pair, timeframe), e.g. bars/EURUSD_15m.bars
 *   registry.aifx            the registry: versions, training log, activation history (text,
 *                            "AIFXREG 1 1 <body bytes> <crc32>\n" then the body of
 *                            tr_registry_encode); replaced atomically as a whole on each commit
 *   signals/                 trading signals, one segment per pair and month (signal_log.h);
 *                            a store of an older program has signals.aifx instead, one file of
 *                            the same lines, moved into signals/ by the first writer
 *   models/<version>.ckpt    checkpoints (libaifxnn's format); models/runs/ holds runs in progress
 *   lock.<cycle>             flock'ed by a running cycle (full, incremental)
 *   outbox/<sink>.state      a notification sink's delivery state (small; replaced atomically
 *                            per attempt, so the registry file is not rewritten by deliveries)
 *   outbox/<sink>.lock       flock'ed by the sender that holds the sink
 *   jobs.aifx                the job queue (jobs_dir.h), replaced atomically per change
 *   jobs/<id>.<gen>.lock     flock'ed by the worker that holds job id under generation gen;
 *                            jobs/wake is touched by an enqueue, for the idle workers
 *
 * A .bars file is a 64-byte header followed by count records of 48 bytes, every field
 * little-endian and written one by one:
 *   header  0 magic "AIFXBARS" | 8 u16 major = 1 | 10 u16 minor = 0 | 12 u32 header size = 64
 *          16 u32 record size = 48 | 20 i32 timeframe seconds | 24 pair, 16 bytes NUL-padded
 *          40 u64 count | 48 i64 first bar time (0 if empty) | 56 u32 CRC-32 of all records
 *          60 u32 CRC-32 of header bytes 0..59
 *   record  0 i64 t | 8 f64 open | 16 f64 high | 24 f64 low | 32 f64 close | 40 f64 volume
 * Records are strictly ascending in t. A reader checks the size against count before trusting
 * anything, then both checksums, then the order; a range read finds its first record by binary
 * search. 130,000 bars are 6.2 MB and load in a few tens of milliseconds.
 *
 * Writes: the merged series is encoded in memory and written with tr_file_write_atomic (temporary
 * file, fsync, rename, fsync of bars/), under the store lock, so two writers never lose each
 * other's bars and a crash leaves either the old or the new file.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* flock */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aifxnn.h" /* aifx_crc32 */
#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "store/backend.h"
#include "store/jobs_dir.h"
#include "store/outbox_dir.h"
#include "store/registry_text.h"
#include "store/signal_log.h"

#define LAYOUT_VERSION 1
#define BARS_MAJOR     1
#define BARS_MINOR     0
#define HEADER_SIZE    64
#define RECORD_SIZE    48

typedef struct dir_store {
    tr_store base;          /* first member: a tr_store * points at the dir_store */
    tr_jobs_dir_holds jobs; /* the queued jobs this handle holds (jobs_dir.h) */
} dir_store;

/* ---- little-endian fields ------------------------------------------------------------------ */

static void put_u16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}
static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static void put_f64(unsigned char *p, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    put_u64(p, v);
}
static uint16_t get_u16(const unsigned char *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}
static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}
static double get_f64(const unsigned char *p)
{
    uint64_t v = get_u64(p);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

static void encode_bar(unsigned char *p, const tr_bar *b)
{
    put_u64(p, (uint64_t)b->t);
    put_f64(p + 8, b->open);
    put_f64(p + 16, b->high);
    put_f64(p + 24, b->low);
    put_f64(p + 32, b->close);
    put_f64(p + 40, b->volume);
}

static void decode_bar(const unsigned char *p, tr_bar *b)
{
    b->t = (int64_t)get_u64(p);
    b->open = get_f64(p + 8);
    b->high = get_f64(p + 16);
    b->low = get_f64(p + 24);
    b->close = get_f64(p + 32);
    b->volume = get_f64(p + 40);
}

/* ---- paths and the lock -------------------------------------------------------------------- */

static tr_code series_path(const tr_store *s, const char *pair, int32_t tf, char *buf, size_t size,
                           tr_error *err)
{
    char name[16];
    int w = snprintf(buf, size, "%s/bars/%s_%s.bars", s->location, pair,
                     tr_timeframe_name(tf, name, sizeof name));
    if (w < 0 || (size_t)w >= size)
        return tr_fail(err, TR_ERR_INVALID, "store path too long: %s", s->location);
    return TR_OK;
}

tr_code tr_store_dir_lock(const char *dir, int *fd_out, tr_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return tr_fail(err, TR_ERR_IO, "%s: cannot open lock file: %s", path, strerror(errno));
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            int e = errno;
            close(fd);
            return tr_fail(err, TR_ERR_IO, "%s: cannot lock: %s", path, strerror(e));
        }
    }
    *fd_out = fd;
    return TR_OK;
}

static tr_code lock_store(const tr_store *s, int *fd_out, tr_error *err)
{
    return tr_store_dir_lock(s->location, fd_out, err);
}

static void unlock_store(int fd)
{
    if (fd >= 0)
        close(fd); /* closing the descriptor releases the flock */
}

/* ---- reading a series file ----------------------------------------------------------------- */

/* Checks the 64-byte header (magic, version, sizes, header checksum, identity). */
static tr_code check_header(const char *path, const unsigned char *h, const char *pair, int32_t tf,
                            uint64_t *count, tr_error *err)
{
    if (memcmp(h, "AIFXBARS", 8) != 0)
        return tr_fail(err, TR_ERR_FORMAT, "%s: not a bars file (bad magic)", path);
    if (get_u16(h + 8) > BARS_MAJOR)
        return tr_fail(err, TR_ERR_VERSION,
                       "%s: format version %u.%u is newer than this program reads (%d.%d)", path,
                       get_u16(h + 8), get_u16(h + 10), BARS_MAJOR, BARS_MINOR);
    if (get_u32(h + 60) != aifx_crc32(0, h, 60))
        return tr_fail(err, TR_ERR_CHECKSUM, "%s: header checksum mismatch", path);
    if (get_u16(h + 8) != BARS_MAJOR || get_u32(h + 12) != HEADER_SIZE ||
        get_u32(h + 16) != RECORD_SIZE)
        return tr_fail(err, TR_ERR_FORMAT, "%s: unexpected header or record size", path);
    char hp[TR_PAIR_MAX];
    memcpy(hp, h + 24, 16);
    hp[15] = '\0';
    if ((pair && strcmp(hp, pair) != 0) || (tf && (int32_t)get_u32(h + 20) != tf))
        return tr_fail(err, TR_ERR_FORMAT, "%s: holds %s at %d s, not %s at %d s", path, hp,
                       (int)(int32_t)get_u32(h + 20), pair ? pair : "?", (int)tf);
    *count = get_u64(h + 40);
    return TR_OK;
}

/* Reads and verifies a whole series file. *data (malloc'd) holds the file; records start at
 * HEADER_SIZE. A missing file is TR_ERR_NOTFOUND. */
static tr_code read_series(const char *path, const char *pair, int32_t tf, char **data,
                           size_t *count, tr_error *err)
{
    size_t len;
    *count = 0;
    tr_code rc = tr_file_read(path, data, &len, err);
    if (rc)
        return rc;
    const unsigned char *p = (const unsigned char *)*data;
    uint64_t n = 0;
    if (len < HEADER_SIZE) {
        rc = tr_fail(err, TR_ERR_FORMAT, "%s: truncated: %zu bytes, shorter than the header", path,
                     len);
        goto fail;
    }
    rc = check_header(path, p, pair, tf, &n, err);
    if (rc)
        goto fail;
    if (n > (SIZE_MAX - HEADER_SIZE) / RECORD_SIZE || len != HEADER_SIZE + n * RECORD_SIZE) {
        rc = tr_fail(err, TR_ERR_FORMAT,
                     "%s: truncated or padded: the header says %llu bars (%llu bytes), the file "
                     "has %zu bytes",
                     path, (unsigned long long)n,
                     (unsigned long long)(HEADER_SIZE + n * RECORD_SIZE), len);
        goto fail;
    }
    if (get_u32(p + 56) != aifx_crc32(0, p + HEADER_SIZE, (size_t)n * RECORD_SIZE)) {
        rc =
            tr_fail(err, TR_ERR_CHECKSUM, "%s: data checksum mismatch (the file is corrupt)", path);
        goto fail;
    }
    for (size_t i = 1; i < n; i++) {
        if ((int64_t)get_u64(p + HEADER_SIZE + i * RECORD_SIZE) <=
            (int64_t)get_u64(p + HEADER_SIZE + (i - 1) * RECORD_SIZE)) {
            rc = tr_fail(err, TR_ERR_FORMAT, "%s: bars out of order at record %zu", path, i);
            goto fail;
        }
    }
    *count = (size_t)n;
    return TR_OK;
fail:
    free(*data);
    *data = NULL;
    return rc;
}

static size_t record_lower_bound(const unsigned char *rec, size_t n, int64_t t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((int64_t)get_u64(rec + mid * RECORD_SIZE) < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ---- the table's functions ----------------------------------------------------------------- */

static tr_code dir_bars_get(tr_store *s, const char *pair, int32_t tf, int64_t from, int64_t to,
                            tr_bars *out, tr_error *err)
{
    char path[4200];
    char *data;
    size_t n;
    tr_code rc = series_path(s, pair, tf, path, sizeof path, err);
    if (rc)
        return rc;
    rc = read_series(path, pair, tf, &data, &n, err);
    if (rc == TR_ERR_NOTFOUND) {
        char tfn[16];
        return tr_fail(err, rc, "store %s has no bars for %s %s", s->safe, pair,
                       tr_timeframe_name(tf, tfn, sizeof tfn));
    }
    if (rc)
        return rc;
    const unsigned char *rec = (const unsigned char *)data + HEADER_SIZE;
    size_t a = record_lower_bound(rec, n, from), b = record_lower_bound(rec, n, to);
    rc = tr_bars_reserve(out, out->n + (b - a), err);
    if (rc == TR_OK) {
        for (size_t i = a; i < b; i++)
            decode_bar(rec + i * RECORD_SIZE, &out->v[out->n++]);
    }
    free(data);
    return rc;
}

static tr_code encode_series(const char *pair, int32_t tf, const tr_bar *bars, size_t n,
                             unsigned char **buf_out, size_t *len_out, tr_error *err)
{
    size_t len = HEADER_SIZE + n * RECORD_SIZE;
    unsigned char *buf = calloc(1, len);
    if (!buf)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory encoding %zu bars of %s", n, pair);
    for (size_t i = 0; i < n; i++)
        encode_bar(buf + HEADER_SIZE + i * RECORD_SIZE, &bars[i]);
    memcpy(buf, "AIFXBARS", 8);
    put_u16(buf + 8, BARS_MAJOR);
    put_u16(buf + 10, BARS_MINOR);
    put_u32(buf + 12, HEADER_SIZE);
    put_u32(buf + 16, RECORD_SIZE);
    put_u32(buf + 20, (uint32_t)tf);
    memcpy(buf + 24, pair, strlen(pair)); /* <= 15 bytes, rest stays NUL */
    put_u64(buf + 40, n);
    put_u64(buf + 48, n ? (uint64_t)bars[0].t : 0);
    put_u32(buf + 56, aifx_crc32(0, buf + HEADER_SIZE, n * RECORD_SIZE));
    put_u32(buf + 60, aifx_crc32(0, buf, 60));
    *buf_out = buf;
    *len_out = len;
    return TR_OK;
}

static tr_code dir_bars_put(tr_store *s, const char *pair, int32_t tf, const tr_bar *bars, size_t n,
                            int replace, tr_put_stats *st, tr_error *err)
{
    char path[4200], tfn[16], ts[32];
    tr_timeframe_name(tf, tfn, sizeof tfn);
    /* validity, grid and order were checked by tr_store_bars_put */
    tr_code rc = series_path(s, pair, tf, path, sizeof path, err);
    if (rc)
        return rc;
    int lock_fd = -1;
    char *old = NULL;
    size_t n_old = 0;
    tr_bar *merged = NULL;
    unsigned char *buf = NULL;
    rc = lock_store(s, &lock_fd, err);
    if (rc)
        return rc;
    rc = read_series(path, pair, tf, &old, &n_old, err);
    if (rc == TR_ERR_NOTFOUND) {
        tr_error_clear(err);
        rc = TR_OK;
    }
    if (rc)
        goto done;
    merged = malloc((n_old + n + 1) * sizeof *merged);
    if (!merged) {
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory merging %zu bars into %s %s", n, pair, tfn);
        goto done;
    }
    const unsigned char *rec = old ? (const unsigned char *)old + HEADER_SIZE : NULL;
    size_t i = 0, j = 0, m = 0;
    while (i < n_old || j < n) {
        tr_bar ob = {0, 0, 0, 0, 0, 0}; /* set when i < n_old, the only case it is read */
        if (i < n_old)
            decode_bar(rec + i * RECORD_SIZE, &ob);
        if (j >= n || (i < n_old && ob.t < bars[j].t)) {
            merged[m++] = ob;
            i++;
        } else if (i >= n_old || bars[j].t < ob.t) {
            merged[m++] = bars[j++];
            st->n_added++;
        } else {
            if (tr_bar_equal(&ob, &bars[j])) {
                st->n_unchanged++;
            } else if (replace) {
                st->n_replaced++;
            } else {
                st->conflict = j;
                rc = tr_fail(err, TR_ERR_CONFLICT,
                             "%s %s bar %s conflicts with the stored bar (stored o/h/l/c/v "
                             "%.10g/%.10g/%.10g/%.10g/%.10g, new %.10g/%.10g/%.10g/%.10g/%.10g); "
                             "use --replace to overwrite",
                             pair, tfn, tr_time_format(ob.t, ts, sizeof ts), ob.open, ob.high,
                             ob.low, ob.close, ob.volume, bars[j].open, bars[j].high, bars[j].low,
                             bars[j].close, bars[j].volume);
                goto done;
            }
            merged[m++] = bars[j++];
            i++;
        }
    }
    if (st->n_added == 0 && st->n_replaced == 0)
        goto done; /* nothing changes: no write at all */
    size_t len = 0;
    rc = encode_series(pair, tf, merged, m, &buf, &len, err);
    if (rc)
        goto done;
    rc = tr_file_write_atomic(path, buf, len, err);
done:
    free(buf);
    free(merged);
    free(old);
    unlock_store(lock_fd);
    return rc;
}

static int series_cmp(const void *a, const void *b)
{
    const tr_series_info *x = a, *y = b;
    int c = strcmp(x->pair, y->pair);
    return c ? c : (x->timeframe > y->timeframe) - (x->timeframe < y->timeframe);
}

static tr_code dir_series_list(tr_store *s, tr_series_info **list, size_t *n_out, tr_error *err)
{
    char dpath[4200], path[4600];
    snprintf(dpath, sizeof dpath, "%s/bars", s->location);
    DIR *d = opendir(dpath);
    if (!d) {
        if (errno == ENOENT)
            return TR_OK;
        return tr_fail(err, TR_ERR_IO, "%s: cannot list: %s", dpath, strerror(errno));
    }
    tr_series_info *v = NULL;
    size_t n = 0, cap = 0;
    tr_code rc = TR_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *nm = e->d_name;
        size_t len = strlen(nm);
        const char *us = strchr(nm, '_');
        if (len < 6 || strcmp(nm + len - 5, ".bars") != 0 || !us)
            continue;
        tr_series_info info;
        memset(&info, 0, sizeof info);
        size_t pl = (size_t)(us - nm);
        char tfs[16];
        size_t tl = len - 5 - pl - 1;
        if (pl >= TR_PAIR_MAX || tl == 0 || tl >= sizeof tfs)
            continue;
        memcpy(info.pair, nm, pl);
        memcpy(tfs, us + 1, tl);
        tfs[tl] = '\0';
        if (!tr_pair_valid(info.pair) || tr_timeframe_parse(tfs, &info.timeframe))
            continue;
        snprintf(path, sizeof path, "%s/%s", dpath, nm);
        char *data;
        size_t count;
        rc = read_series(path, info.pair, info.timeframe, &data, &count, err);
        if (rc)
            break;
        const unsigned char *rec = (const unsigned char *)data + HEADER_SIZE;
        info.count = count;
        info.first = count ? (int64_t)get_u64(rec) : 0;
        info.last = count ? (int64_t)get_u64(rec + (count - 1) * RECORD_SIZE) : 0;
        free(data);
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            tr_series_info *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                rc = tr_fail(err, TR_ERR_NOMEM, "out of memory listing %s", dpath);
                break;
            }
            v = nv;
            cap = nc;
        }
        v[n++] = info;
    }
    closedir(d);
    if (rc) {
        free(v);
        return rc;
    }
    if (n > 1)
        qsort(v, n, sizeof *v, series_cmp);
    *list = v;
    *n_out = n;
    return TR_OK;
}

/* ---- the registry ------------------------------------------------------------------------- */

#define REG_MAJOR 1
#define REG_MINOR 1 /* 1.1: the outbox's event lines */

static void registry_path(const tr_store *s, char *buf, size_t size)
{
    snprintf(buf, size, "%s/registry.aifx", s->scope);
}

static tr_code read_registry(const char *path, tr_registry *reg, tr_error *err)
{
    char *data;
    size_t len;
    tr_registry_init(reg);
    tr_code rc = tr_file_read(path, &data, &len, err);
    if (rc == TR_ERR_NOTFOUND) {
        tr_error_clear(err);
        return TR_OK; /* an empty registry */
    }
    if (rc)
        return rc;
    const char *nl = memchr(data, '\n', len);
    unsigned major = 0, minor = 0;
    unsigned long long body = 0;
    unsigned crc = 0;
    char magic[16];
    int ok = nl && (size_t)(nl - data) < 128 &&
             sscanf(data, "%15s %u %u %llu %x", magic, &major, &minor, &body, &crc) == 5 &&
             strcmp(magic, "AIFXREG") == 0;
    if (!ok) {
        free(data);
        return tr_fail(err, TR_ERR_FORMAT, "%s: not a registry file (bad header)", path);
    }
    if (major > REG_MAJOR) {
        free(data);
        return tr_fail(err, TR_ERR_VERSION,
                       "%s: registry format %u.%u is newer than this program reads (%d.x)", path,
                       major, minor, REG_MAJOR);
    }
    size_t head = (size_t)(nl - data) + 1;
    if (body != len - head) {
        free(data);
        return tr_fail(err, TR_ERR_FORMAT,
                       "%s: truncated or padded: the header says %llu bytes of records, the file "
                       "has %zu",
                       path, body, len - head);
    }
    if (aifx_crc32(0, data + head, len - head) != (uint32_t)crc) {
        free(data);
        return tr_fail(err, TR_ERR_CHECKSUM, "%s: checksum mismatch (the registry is corrupt)",
                       path);
    }
    rc = tr_registry_decode(path, data + head, len - head, reg, err);
    free(data);
    return rc;
}

static tr_code dir_registry_read(tr_store *s, tr_registry *reg, tr_error *err)
{
    char path[4200];
    registry_path(s, path, sizeof path);
    tr_code rc = read_registry(path, reg, err);
    /* the outbox is read through outbox_claim (store.h); its last id stays */
    free(reg->events);
    reg->events = NULL;
    reg->n_events = 0;
    return rc;
}

static tr_code dir_registry_commit(tr_store *s, const tr_reg_txn *txn, tr_error *err)
{
    char path[4200];
    registry_path(s, path, sizeof path);
    int lock_fd = -1;
    tr_code rc = lock_store(s, &lock_fd, err);
    if (rc)
        return rc;
    tr_registry reg;
    char *body = NULL;
    size_t blen = 0;
    tr_sb out = {0};
    char job_cycle[TR_JOB_CYCLE_MAX] = "";
    int64_t job_slot = 0;
    rc = read_registry(path, &reg, err);
    if (!rc && txn->job) /* the fencing token of a queued job, under the same lock */
        rc = tr_jobs_dir_fence_check(s->location, s->safe, txn->job, job_cycle, sizeof job_cycle,
                                     &job_slot, err);
    if (rc)
        goto done;
    rc = tr_registry_apply(&reg, txn, err);
    if (rc)
        goto done;
    rc = tr_registry_encode(&reg, &body, &blen, err);
    if (rc)
        goto done;
    tr_sb_printf(&out, "AIFXREG %d %d %zu %08x\n", REG_MAJOR, REG_MINOR, blen,
                 (unsigned)aifx_crc32(0, body, blen));
    tr_sb_put(&out, body, blen);
    if (out.oom) {
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory writing %s", path);
        goto done;
    }
    rc = tr_file_write_atomic(path, out.p, out.n, err);
    if (!rc && txn->job) {
        /* the job's end, when this commit logs its slot; a failure here leaves it to the
         * worker's completion (or to the next claim, which finds the slot covered) */
        tr_error je;
        (void)tr_jobs_dir_finish(s->location, txn, job_cycle, job_slot, &je);
    }
done:
    tr_sb_free(&out);
    free(body);
    tr_registry_free(&reg);
    unlock_store(lock_fd);
    return rc;
}

/* ---- trading signals ---------------------------------------------------------------------- */

/* The log lives in <store>/signals/ (signal_log.h). Stores of older programs kept every signal in
 * one file, signals.aifx ("AIFXSIG 1 0\n" and the same lines); the first writer moves it into the
 * log under the store's lock, and readers read it until then. */

static const char legacy_magic[] = "AIFXSIG 1 0\n";

static void signals_dir(const tr_store *s, char *buf, size_t size)
{
    snprintf(buf, size, "%s/signals", s->scope);
}

/* Reads every record of the single-file log at path into a malloc'd array (ids as stored).
 * Every record must be whole: that program never wrote a partial line either. */
static tr_code read_legacy(const char *path, tr_signal **list, size_t *n_list, tr_error *err)
{
    char *data;
    size_t len;
    *list = NULL;
    *n_list = 0;
    tr_code rc = tr_file_read(path, &data, &len, err);
    if (rc)
        return rc;
    size_t ml = sizeof legacy_magic - 1, pos = ml, cap = 0;
    if (len < ml || memcmp(data, legacy_magic, ml) != 0) {
        free(data);
        return tr_fail(err, TR_ERR_FORMAT, "%s: not a signals file (bad header)", path);
    }
    int line = 1;
    while (!rc && pos < len) {
        line++;
        const char *ls = data + pos;
        const char *nl = memchr(ls, '\n', len - pos);
        if (!nl) {
            rc = tr_fail(err, TR_ERR_FORMAT,
                         "%s:%d: record without its end of line (the file "
                         "was cut)",
                         path, line);
            break;
        }
        size_t ll = (size_t)(nl - ls);
        if (*n_list == cap) {
            size_t nc = cap ? cap * 2 : 64;
            tr_signal *nv = realloc(*list, nc * sizeof *nv);
            if (!nv) {
                rc = tr_fail(err, TR_ERR_NOMEM, "out of memory reading %s", path);
                break;
            }
            *list = nv;
            cap = nc;
        }
        int r = tr_siglog_decode(ls, ll, &(*list)[*n_list]);
        if (r > 0)
            rc = tr_fail(err, TR_ERR_CHECKSUM, "%s:%d: damaged signal record (checksum)", path,
                         line);
        else if (r < 0)
            rc = tr_fail(err, TR_ERR_FORMAT, "%s:%d: malformed signal record", path, line);
        else
            (*n_list)++;
        pos += ll + 1;
    }
    free(data);
    if (rc) {
        free(*list);
        *list = NULL;
        *n_list = 0;
    }
    return rc;
}

/* Moves signals.aifx into the log, once; the caller holds the store lock. */
static tr_code migrate_signals(const tr_store *s, tr_error *err)
{
    char dir[4200], legacy[4200], done[4300];
    signals_dir(s, dir, sizeof dir);
    if (tr_siglog_exists(dir))
        return TR_OK;
    snprintf(legacy, sizeof legacy, "%s/signals.aifx", s->scope);
    tr_signal *all;
    size_t n;
    tr_code rc = read_legacy(legacy, &all, &n, err);
    if (rc == TR_ERR_NOTFOUND) {
        tr_error_clear(err);
        return TR_OK;
    }
    if (rc)
        return rc;
    rc = tr_siglog_import(dir, all, n, err);
    free(all);
    snprintf(done, sizeof done, "%s/signals.aifx.migrated", s->scope);
    if (!rc && rename(legacy, done) != 0)
        rc = tr_fail(err, TR_ERR_IO, "%s: cannot set aside after moving it to %s: %s", legacy, dir,
                     strerror(errno));
    return rc;
}

/* A write to the log under the store lock, after moving an older store's file into it: an
 * append of add (n), or the outcomes of upd (n). */
static tr_code signals_write(tr_store *s, tr_signal *add, const tr_signal *upd, size_t n,
                             tr_error *err)
{
    char dir[4200];
    signals_dir(s, dir, sizeof dir);
    int lock_fd = -1;
    tr_code rc = lock_store(s, &lock_fd, err);
    if (rc)
        return rc;
    rc = migrate_signals(s, err);
    if (!rc)
        rc = add ? tr_siglog_append(dir, add, n, err) : tr_siglog_update(dir, upd, n, err);
    unlock_store(lock_fd);
    return rc;
}

/* Validates and records n signals (signal_log.h: ids in order, a stored one returned as is). */
static tr_code dir_signals_append(tr_store *s, tr_signal *sigs, size_t n, tr_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (!tr_pair_valid(sigs[i].pair) || sigs[i].timeframe <= 0 ||
            !tr_version_name_valid(sigs[i].model_version))
            return tr_fail(err, TR_ERR_INVALID, "signal %zu of %zu: bad pair, timeframe or version",
                           i + 1, n);
    return signals_write(s, sigs, NULL, n, err);
}

/* One signal: an append of one. */
static tr_code dir_signal_put(tr_store *s, tr_signal *sig, tr_error *err)
{
    return dir_signals_append(s, sig, 1, err);
}

static tr_code dir_signals_update(tr_store *s, const tr_signal *sigs, size_t n, tr_error *err)
{
    return signals_write(s, NULL, sigs, n, err);
}

static int cmp_sig_id(const void *a, const void *b)
{
    int64_t x = ((const tr_signal *)a)->id, y = ((const tr_signal *)b)->id;
    return (x > y) - (x < y);
}

static tr_code dir_signals_get(tr_store *s, const char *pair, int64_t from, int64_t to,
                               tr_signal **list, size_t *n, tr_error *err)
{
    char dir[4200], legacy[4200];
    signals_dir(s, dir, sizeof dir);
    *list = NULL;
    *n = 0;
    if (tr_siglog_exists(dir))
        return tr_siglog_get(dir, pair, from, to, list, n, err);
    /* not moved yet: the older program's file, if any */
    snprintf(legacy, sizeof legacy, "%s/signals.aifx", s->scope);
    tr_signal *all;
    size_t n_all;
    tr_code rc = read_legacy(legacy, &all, &n_all, err);
    if (rc == TR_ERR_NOTFOUND) {
        tr_error_clear(err);
        return tr_siglog_get(dir, pair, from, to, list, n, err); /* a log without a counter */
    }
    if (rc)
        return rc;
    size_t k = 0;
    for (size_t i = 0; i < n_all; i++)
        if ((!pair || strcmp(pair, all[i].pair) == 0) && all[i].bar_time >= from &&
            all[i].bar_time < to)
            all[k++] = all[i];
    qsort(all, k, sizeof *all, cmp_sig_id);
    *list = all;
    *n = k;
    return TR_OK;
}

/* ---- cycle locks -------------------------------------------------------------------------- */

static tr_code dir_cycle_lock(tr_store *s, const char *cycle, int *token, tr_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/lock.%s", s->scope, cycle);
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    if (fd < 0)
        return tr_fail(err, TR_ERR_IO, "%s: cannot open lock file: %s", path, strerror(errno));
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        if (e == EINTR)
            continue;
        close(fd);
        if (e == EWOULDBLOCK)
            return tr_fail(err, TR_ERR_CONFLICT,
                           "another %s cycle is running on store %s (%s is locked)", cycle,
                           s->location, path);
        return tr_fail(err, TR_ERR_IO, "%s: cannot lock: %s", path, strerror(e));
    }
    *token = fd;
    return TR_OK;
}

/* A flock is held as long as the descriptor is open: never lost. */
static tr_code dir_cycle_lock_check(tr_store *s, int token, tr_error *err)
{
    if (token < 0)
        return tr_fail(err, TR_ERR_INVALID, "store %s: no cycle lock %d is held", s->safe, token);
    return TR_OK;
}

static void dir_cycle_unlock(tr_store *s, int token)
{
    (void)s;
    if (token >= 0)
        close(token);
}

/* The directory store announces one channel, "jobs" (an enqueue or a retry of its job queue,
 * seen through jobs_dir.h's wake file); the others need PostgreSQL. */
static tr_code dir_listen(tr_store *s, const char *const *ch, size_t n, double timeout,
                          tr_listen_fn fn, void *user, tr_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ch[i], "jobs") != 0)
            return tr_fail(err, TR_ERR_UNSUPPORTED,
                           "store %s: a directory store has no events but the job queue's "
                           "(listen on %s needs a PostgreSQL store)",
                           s->location, ch[i]);
    if (fn(NULL, NULL, user))
        return TR_OK;
    double end = tr_mono_now() + timeout;
    for (;;) {
        double left = timeout < 0 ? -1 : end - tr_mono_now();
        if (timeout >= 0 && left <= 0)
            return TR_OK;
        int woken = 0;
        tr_code rc = tr_jobs_dir_wait(s->location, &((dir_store *)s)->jobs, left, &woken, err);
        if (rc)
            return rc;
        if (woken && fn("jobs", "{}", user))
            return TR_OK;
        if (!woken && timeout < 0)
            return TR_OK; /* a signal */
    }
}

/* ---- the outbox (outbox_dir.h) ----------------------------------------------------------- */

static tr_code dir_outbox_claim(tr_store *s, const char *sink, int64_t now, int64_t backlog,
                                double lease_seconds, size_t max, int64_t *lease,
                                tr_outbox_delivery **list, size_t *n, int64_t *next_due,
                                tr_error *err)
{
    (void)lease_seconds; /* a flock lasts as long as the claim's descriptor */
    char path[4200];
    registry_path(s, path, sizeof path);
    tr_registry reg;
    tr_code rc = read_registry(path, &reg, err);
    if (!rc)
        rc = tr_outbox_dir_claim(s->scope, &reg, sink, now, backlog, max, lease, list, n, next_due,
                                 err);
    tr_registry_free(&reg);
    return rc;
}

static tr_code dir_outbox_record(tr_store *s, const char *sink, int64_t lease,
                                 const tr_outbox_attempt *a, tr_error *err)
{
    return tr_outbox_dir_record(s->scope, sink, lease, a, err);
}

static void dir_outbox_release(tr_store *s, const char *sink, int64_t lease)
{
    (void)s, (void)sink;
    tr_outbox_dir_release(lease);
}

static tr_code dir_outbox_info(tr_store *s, const char *sink, tr_outbox_sink_info *info,
                               tr_error *err)
{
    char path[4200];
    registry_path(s, path, sizeof path);
    tr_registry reg;
    tr_code rc = read_registry(path, &reg, err);
    if (!rc)
        rc = tr_outbox_dir_info(s->scope, &reg, sink, info, err);
    tr_registry_free(&reg);
    return rc;
}

/* ---- the job queue (jobs_dir.h) ------------------------------------------------------------ */

static tr_code dir_job_enqueue(tr_store *s, const char *family, const char *cycle,
                               int64_t slot_time, int max_attempts, int *inserted, int64_t *id,
                               tr_error *err)
{
    return tr_jobs_dir_enqueue(s->location, family, cycle, slot_time, max_attempts, inserted, id,
                               err);
}

static tr_code dir_job_claim(tr_store *s, const char *family, double lease_seconds, tr_job *job,
                             int *got, tr_error *err)
{
    return tr_jobs_dir_claim(s->location, &((dir_store *)s)->jobs, family, lease_seconds, job, got,
                             err);
}

static tr_code dir_job_heartbeat(tr_store *s, const tr_job_fence *f, double lease_seconds,
                                 tr_error *err)
{
    return tr_jobs_dir_heartbeat(s->location, s->safe, f, lease_seconds, err);
}

static tr_code dir_job_complete(tr_store *s, const tr_job_fence *f, const char *result,
                                tr_error *err)
{
    return tr_jobs_dir_complete(s->location, s->safe, &((dir_store *)s)->jobs, f, result, err);
}

static tr_code dir_job_fail(tr_store *s, const tr_job_fence *f, const char *error,
                            double backoff_base, tr_job_state *state, tr_error *err)
{
    return tr_jobs_dir_fail(s->location, s->safe, &((dir_store *)s)->jobs, f, error, backoff_base,
                            state, err);
}

static tr_code dir_job_list(tr_store *s, const char *family, size_t max, tr_job **list, size_t *n,
                            tr_error *err)
{
    return tr_jobs_dir_list(s->location, family, max, list, n, err);
}

static tr_code dir_job_get(tr_store *s, int64_t id, tr_job *job, tr_error *err)
{
    return tr_jobs_dir_get(s->location, s->safe, id, job, err);
}

static tr_code dir_job_retry(tr_store *s, int64_t id, tr_error *err)
{
    return tr_jobs_dir_retry(s->location, s->safe, id, err);
}

static void dir_close(tr_store *s)
{
    tr_jobs_dir_holds_release(s->location, &((dir_store *)s)->jobs);
    free(s);
}

/* ---- model families (family.h): families/<name>/family.conf ------------------------------- */

static tr_code read_family(const tr_store *s, const char *name, tr_family *f, tr_error *err)
{
    char path[TR_STORE_PATH_MAX + 160];
    snprintf(path, sizeof path, "%s/families/%s/family.conf", s->location, name);
    char *text;
    size_t len;
    tr_code rc = tr_file_read(path, &text, &len, err);
    if (rc == TR_ERR_NOTFOUND) {
        tr_error_clear(err);
        return tr_fail(err, TR_ERR_NOTFOUND, "store %s has no family '%s'", s->safe, name);
    }
    if (rc)
        return rc;
    rc = tr_family_parse(name, text, len, path, f, err);
    free(text);
    if (!rc) {
        struct stat st;
        if (stat(path, &st) == 0)
            f->created_at = (int64_t)st.st_mtime;
    }
    return rc;
}

static tr_code dir_family_put(tr_store *s, const tr_family *f, tr_error *err)
{
    int lock_fd = -1;
    tr_code rc = lock_store(s, &lock_fd, err);
    if (rc)
        return rc;
    char text[TR_FAMILY_TEXT_MAX], mine[TR_FAMILY_TEXT_MAX];
    tr_family old;
    rc = read_family(s, f->name, &old, err);
    if (rc == TR_OK) {
        tr_family_format(&old, text, sizeof text);
        tr_family_format(f, mine, sizeof mine);
        if (strcmp(text, mine) != 0)
            rc = tr_fail(err, TR_ERR_CONFLICT,
                         "store %s has a family '%s' already, with another definition", s->safe,
                         f->name);
        goto done;
    }
    if (rc != TR_ERR_NOTFOUND)
        goto done;
    tr_error_clear(err);
    char dir[TR_STORE_PATH_MAX + 160], path[TR_STORE_PATH_MAX + 200];
    snprintf(dir, sizeof dir, "%s/families/%s", s->location, f->name);
    snprintf(path, sizeof path, "%s/family.conf", dir);
    rc = tr_mkdir_p(dir, err);
    if (!rc) {
        int n = tr_family_format(f, text, sizeof text);
        rc = n < 0 || (size_t)n >= sizeof text
                 ? tr_fail(err, TR_ERR_INVALID, "family %s: definition too long", f->name)
                 : tr_file_write_atomic(path, text, (size_t)n, err);
    }
done:
    unlock_store(lock_fd);
    return rc;
}

static tr_code dir_family_get(tr_store *s, const char *name, tr_family *f, tr_error *err)
{
    return read_family(s, name, f, err);
}

static int cmp_family(const void *a, const void *b)
{
    return strcmp(((const tr_family *)a)->name, ((const tr_family *)b)->name);
}

static tr_code dir_family_list(tr_store *s, tr_family **list, size_t *n, tr_error *err)
{
    *list = NULL;
    *n = 0;
    char dir[TR_STORE_PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/families", s->location);
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT
                   ? TR_OK
                   : tr_fail(err, TR_ERR_IO, "%s: cannot list: %s", dir, strerror(errno));
    tr_code rc = TR_OK;
    size_t cap = 0;
    struct dirent *e;
    while (!rc && (e = readdir(d)) != NULL) {
        if (!tr_family_name_valid(e->d_name) || tr_family_is_default(e->d_name))
            continue;
        tr_family f;
        rc = read_family(s, e->d_name, &f, err);
        if (rc == TR_ERR_NOTFOUND) { /* a directory without a definition: not a family */
            tr_error_clear(err);
            rc = TR_OK;
            continue;
        }
        if (rc)
            break;
        if (*n == cap) {
            size_t nc = cap ? 2 * cap : 8;
            tr_family *g = realloc(*list, nc * sizeof *g);
            if (!g) {
                rc = tr_fail(err, TR_ERR_NOMEM, "out of memory listing families");
                break;
            }
            *list = g;
            cap = nc;
        }
        (*list)[(*n)++] = f;
    }
    closedir(d);
    if (rc) {
        free(*list);
        *list = NULL;
        *n = 0;
        return rc;
    }
    if (*n)
        qsort(*list, *n, sizeof **list, cmp_family);
    return TR_OK;
}

static const tr_store_ops dir_ops = {
    .name = "dir",
    .close = dir_close,
    .bars_put = dir_bars_put,
    .bars_get = dir_bars_get,
    .series_list = dir_series_list,
    .registry_read = dir_registry_read,
    .registry_commit = dir_registry_commit,
    .signal_put = dir_signal_put,
    .signals_get = dir_signals_get,
    .cycle_lock = dir_cycle_lock,
    .cycle_unlock = dir_cycle_unlock,
    .cycle_lock_check = dir_cycle_lock_check,
    .signals_append = dir_signals_append,
    .signals_update = dir_signals_update,
    .listen = dir_listen,
    .outbox_claim = dir_outbox_claim,
    .outbox_record = dir_outbox_record,
    .outbox_release = dir_outbox_release,
    .outbox_info = dir_outbox_info,
    .family_put = dir_family_put,
    .family_get = dir_family_get,
    .family_list = dir_family_list,
    .job_enqueue = dir_job_enqueue,
    .job_claim = dir_job_claim,
    .job_heartbeat = dir_job_heartbeat,
    .job_complete = dir_job_complete,
    .job_fail = dir_job_fail,
    .job_list = dir_job_list,
    .job_get = dir_job_get,
    .job_retry = dir_job_retry,
};
/* ---- opening --------------------------------------------------------------------------------- */

static int dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return 0;
    struct dirent *e;
    int empty = 1;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            empty = 0;
            break;
        }
    }
    closedir(d);
    return empty;
}

tr_code tr_store_dir_open(const char *dir, int create, tr_store **out, tr_error *err)
{
    char marker[4200], bars[4200];
    struct stat st;
    *out = NULL;
    if (strlen(dir) >= 4000)
        return tr_fail(err, TR_ERR_INVALID, "store path too long");
    snprintf(marker, sizeof marker, "%s/aifx-store", dir);
    snprintf(bars, sizeof bars, "%s/bars", dir);
    if (stat(dir, &st) != 0) {
        if (!create)
            return tr_fail(err, TR_ERR_NOTFOUND,
                           "no store at %s (ingest or synth bars first, or give --store)", dir);
    } else if (!S_ISDIR(st.st_mode)) {
        return tr_fail(err, TR_ERR_INVALID, "store %s is not a directory", dir);
    }
    char *text = NULL;
    size_t len;
    tr_code rc = tr_file_read(marker, &text, &len, err);
    if (rc == TR_ERR_NOTFOUND) {
        tr_error_clear(err);
        if (stat(dir, &st) == 0 && !dir_is_empty(dir) && stat(bars, &st) != 0)
            return tr_fail(err, TR_ERR_FORMAT,
                           "%s exists, is not empty and is not an aifx store (no aifx-store file)",
                           dir);
        if (!create)
            return tr_fail(err, TR_ERR_NOTFOUND, "no store at %s (no aifx-store file)", dir);
        rc = tr_mkdir_p(bars, err);
        if (rc)
            return rc;
        static const char init[] = "aifx-store 1\n";
        rc = tr_file_write_atomic(marker, init, sizeof init - 1, err);
        if (rc)
            return rc;
    } else if (rc) {
        return rc;
    } else {
        int version = 0;
        int ok = sscanf(text, "aifx-store %d", &version) == 1;
        free(text);
        if (!ok)
            return tr_fail(err, TR_ERR_FORMAT, "%s: not an aifx store marker", marker);
        if (version > LAYOUT_VERSION)
            return tr_fail(err, TR_ERR_VERSION,
                           "store %s has layout version %d, newer than this program's %d", dir,
                           version, LAYOUT_VERSION);
        rc = tr_mkdir_p(bars, err);
        if (rc)
            return rc;
    }
    dir_store *ds = calloc(1, sizeof *ds);
    if (!ds)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory opening store %s", dir);
    ds->base.ops = &dir_ops;
    tr_jobs_dir_holds_init(&ds->jobs);
    snprintf(ds->base.location, sizeof ds->base.location, "%s", dir);
    snprintf(ds->base.safe, sizeof ds->base.safe, "%s", dir);
    snprintf(ds->base.models_dir, sizeof ds->base.models_dir, "%s/models", dir);
    *out = &ds->base;
    return TR_OK;
}
