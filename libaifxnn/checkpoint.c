/*
 * checkpoint.c - the checkpoint file (specified byte by byte in docs/checkpoint-format.md).
 *
 * A 64-byte header (magic "AIFXCKPT", major.minor version, file size, section count, header
 * CRC-32), a table of 32-byte section entries (id, offset, size, CRC-32), then the sections,
 * each at a 64-byte-aligned offset. Every field is little-endian and fixed-width, written one by
 * one (no struct is ever written raw). The writer builds the file in memory and saves it
 * atomically; the reader checks every length against the buffer before it allocates anything,
 * then every checksum, then the architecture against the tensor sizes.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define CK_MAGIC        "AIFXCKPT"
#define CK_MAJOR        1
#define CK_MINOR        0
#define CK_HEADER       64
#define CK_ENTRY        32
#define CK_ALIGN        64
#define CK_MAX_FILE     ((uint64_t)1 << 40) /* sanity bound on what a reader accepts */
#define CK_MAX_SECTIONS 64
/* T and the batch size are not bounded by the tensors' sizes, yet the training workspace grows
 * with L T B H: a reader refuses architectures whose workspace would pass 1 GiB. */
#define CK_MAX_WORKSPACE ((uint64_t)1 << 27) /* floats: 512 MiB */

/* The fuzz build (scripts/fuzz.sh) compares no checksums, so that mutated inputs reach the
 * parser behind them; FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION is the usual name for it. */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define CRC_MISMATCH(a, b) ((void)(a), (void)(b), 0)
#else
#define CRC_MISMATCH(a, b) ((a) != (b))
#endif

enum {
    SEC_ARCH = 1,
    SEC_PARAMS = 2,
    SEC_SCALER = 3,
    SEC_FEATURE_NAMES = 4,
    SEC_CLASS_NAMES = 5,
    SEC_METADATA = 6,
    SEC_OPTIMIZER = 16,
    SEC_PROGRESS = 17,
    SEC_BEST_PARAMS = 18,
    SEC_RESUME_PARAMS = 19,
    SEC_MAX_ID = 20 /* ids at or above are skipped by this reader (later minor versions) */
};

#define ARCH_SIZE      48
#define PROGRESS_SIZE  88
#define OPTIMIZER_HEAD 32

static const char *section_name(uint32_t id)
{
    switch (id) {
    case SEC_ARCH:
        return "ARCH";
    case SEC_PARAMS:
        return "PARAMS";
    case SEC_SCALER:
        return "SCALER";
    case SEC_FEATURE_NAMES:
        return "FEATURE_NAMES";
    case SEC_CLASS_NAMES:
        return "CLASS_NAMES";
    case SEC_METADATA:
        return "METADATA";
    case SEC_OPTIMIZER:
        return "OPTIMIZER";
    case SEC_PROGRESS:
        return "PROGRESS";
    case SEC_BEST_PARAMS:
        return "BEST_PARAMS";
    case SEC_RESUME_PARAMS:
        return "RESUME_PARAMS";
    default:
        return "unknown";
    }
}

#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static aifx_status
fail(char *err, size_t errlen, const char *file, aifx_status st, const char *fmt, ...);

static aifx_status fail(char *err, size_t errlen, const char *file, aifx_status st, const char *fmt,
                        ...)
{
    if (err && errlen) {
        int k = snprintf(err, errlen, "checkpoint '%s': ", file);
        if (k >= 0 && (size_t)k < errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
            va_end(ap);
        }
    }
    return st;
}

/* ---- little-endian fields ---- */

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

static void put_f32(unsigned char *p, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    put_u32(p, v);
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

static float get_f32(const unsigned char *p)
{
    uint32_t v = get_u32(p);
    float f;
    memcpy(&f, &v, 4);
    return f;
}

static double get_f64(const unsigned char *p)
{
    uint64_t v = get_u64(p);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

static void put_floats(unsigned char *p, size_t n, const float *x)
{
    for (size_t i = 0; i < n; i++)
        put_f32(p + 4 * i, x[i]);
}

static void get_floats(const unsigned char *p, size_t n, float *x)
{
    for (size_t i = 0; i < n; i++)
        x[i] = get_f32(p + 4 * i);
}

/* ---- writer ---- */

typedef struct {
    uint32_t id;
    uint64_t size;
} sec_plan;

static size_t names_size(char **names, int count)
{
    size_t s = 4;
    for (int i = 0; i < count; i++)
        s += 4 + strlen(names[i]);
    return s;
}

static void put_names(unsigned char *p, char **names, int count)
{
    put_u32(p, (uint32_t)count);
    p += 4;
    for (int i = 0; i < count; i++) {
        size_t len = strlen(names[i]);
        put_u32(p, (uint32_t)len);
        memcpy(p + 4, names[i], len);
        p += 4 + len;
    }
}

static uint64_t align_up(uint64_t v)
{
    return (v + CK_ALIGN - 1) / CK_ALIGN * CK_ALIGN;
}

/* The whole file in a new buffer. */
static aifx_status serialise(const aifx_model *m, int with_state, unsigned char **out,
                             size_t *out_n)
{
    const size_t n = aifx_net_n_params(m->net), F = (size_t)m->cfg.n_features;
    sec_plan plan[10];
    int ns = 0;
    plan[ns++] = (sec_plan){SEC_ARCH, ARCH_SIZE};
    plan[ns++] = (sec_plan){SEC_PARAMS, 4 * n};
    plan[ns++] = (sec_plan){SEC_SCALER, 8 * F};
    plan[ns++] = (sec_plan){SEC_FEATURE_NAMES, names_size(m->feature_names, m->cfg.n_features)};
    plan[ns++] = (sec_plan){SEC_CLASS_NAMES, names_size(m->class_names, m->cfg.n_classes)};
    plan[ns++] = (sec_plan){SEC_METADATA, strlen(m->metadata)};
    if (with_state) {
        plan[ns++] = (sec_plan){SEC_OPTIMIZER, OPTIMIZER_HEAD + 8 * n};
        plan[ns++] = (sec_plan){SEC_PROGRESS, PROGRESS_SIZE};
        plan[ns++] = (sec_plan){SEC_BEST_PARAMS, 4 * n};
        if (m->prog.restored)
            plan[ns++] = (sec_plan){SEC_RESUME_PARAMS, 4 * n};
    }
    uint64_t offs[10], pos = align_up(CK_HEADER + (uint64_t)CK_ENTRY * ns);
    for (int i = 0; i < ns; i++) {
        offs[i] = pos;
        pos = align_up(pos + plan[i].size);
    }
    unsigned char *buf = aifx__calloc((size_t)pos, 1);
    if (!buf)
        return AIFX_ERR_NOMEM;
    const float *params = m->net->params;
    for (int i = 0; i < ns; i++) {
        unsigned char *p = buf + offs[i];
        switch (plan[i].id) {
        case SEC_ARCH:
            put_u32(p + 0, (uint32_t)m->cfg.n_features);
            put_u32(p + 4, (uint32_t)m->cfg.n_steps);
            put_u32(p + 8, (uint32_t)m->cfg.n_layers);
            put_u32(p + 12, (uint32_t)m->cfg.n_hidden);
            put_u32(p + 16, (uint32_t)m->cfg.n_classes);
            put_u32(p + 20, (uint32_t)m->cfg.batch_size);
            put_f32(p + 24, m->cfg.dropout);
            put_u64(p + 32, m->cfg.seed);
            put_u64(p + 40, (uint64_t)n);
            break;
        case SEC_PARAMS:
            put_floats(p, n, params);
            break;
        case SEC_SCALER:
            put_floats(p, F, m->mean);
            put_floats(p + 4 * F, F, m->scale);
            break;
        case SEC_FEATURE_NAMES:
            put_names(p, m->feature_names, m->cfg.n_features);
            break;
        case SEC_CLASS_NAMES:
            put_names(p, m->class_names, m->cfg.n_classes);
            break;
        case SEC_METADATA:
            memcpy(p, m->metadata, plan[i].size);
            break;
        case SEC_OPTIMIZER: {
            aifx_adam_config ac;
            float *mo, *vo;
            int64_t step;
            aifx_adam_get_config(m->adam, &ac);
            aifx_adam_state(m->adam, NULL, &mo, &vo, &step);
            put_f32(p + 0, ac.lr);
            put_f32(p + 4, ac.beta1);
            put_f32(p + 8, ac.beta2);
            put_f32(p + 12, ac.eps);
            put_f32(p + 16, ac.weight_decay);
            put_u64(p + 24, (uint64_t)step);
            put_floats(p + OPTIMIZER_HEAD, n, mo);
            put_floats(p + OPTIMIZER_HEAD + 4 * n, n, vo);
            break;
        }
        case SEC_PROGRESS: {
            const aifx_progress *g = &m->prog;
            const int32_t v[10] = {g->epoch,      g->stopped, g->monitor,      g->has_best,
                                   g->best_epoch, g->wait,    g->plateau_wait, g->cooldown,
                                   g->restored,   0};
            for (int k = 0; k < 10; k++)
                put_u32(p + 4 * k, (uint32_t)v[k]);
            put_f64(p + 40, g->best_score);
            put_f64(p + 48, g->plateau_best);
            for (int k = 0; k < 4; k++)
                put_u64(p + 56 + 8 * k, m->rng.s[k]);
            break;
        }
        case SEC_BEST_PARAMS:
            put_floats(p, n, m->best_params);
            break;
        case SEC_RESUME_PARAMS:
            put_floats(p, n, m->resume_params);
            break;
        }
    }
    for (int i = 0; i < ns; i++) {
        unsigned char *e = buf + CK_HEADER + (size_t)CK_ENTRY * i;
        put_u32(e + 0, plan[i].id);
        put_u64(e + 8, offs[i]);
        put_u64(e + 16, plan[i].size);
        put_u32(e + 24, aifx_crc32(0, buf + offs[i], (size_t)plan[i].size));
    }
    memcpy(buf, CK_MAGIC, 8);
    put_u16(buf + 8, CK_MAJOR);
    put_u16(buf + 10, CK_MINOR);
    put_u32(buf + 12, CK_HEADER);
    put_u64(buf + 16, pos);
    put_u32(buf + 24, (uint32_t)ns);
    put_u64(buf + 32, CK_HEADER);
    uint32_t crc = aifx_crc32(0, buf, 60);
    crc = aifx_crc32(crc, buf + CK_HEADER, (size_t)CK_ENTRY * ns);
    put_u32(buf + 60, crc);
    *out = buf;
    *out_n = (size_t)pos;
    return AIFX_OK;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

aifx_status aifx_model_save(const aifx_model *model, const char *path, int with_training_state,
                            char *err, size_t errlen)
{
    if (!model || !path || !*path)
        return fail(err, errlen, path ? path : "(null)", AIFX_ERR_INVALID, "invalid argument");
    unsigned char *buf;
    size_t n;
    aifx_status st = serialise(model, with_training_state, &buf, &n);
    if (st != AIFX_OK)
        return fail(err, errlen, path, st, "out of memory building the file");
    size_t plen = strlen(path);
    char *tmp = aifx__malloc(plen + 16), *dir = aifx__malloc(plen + 2);
    if (!tmp || !dir) {
        aifx__free(buf);
        aifx__free(tmp);
        aifx__free(dir);
        return fail(err, errlen, path, AIFX_ERR_NOMEM, "out of memory");
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp.XXXXXX", 12);
    const char *slash = strrchr(path, '/');
    if (slash) {
        size_t dl = slash == path ? 1 : (size_t)(slash - path);
        memcpy(dir, path, dl);
        dir[dl] = '\0';
    } else {
        memcpy(dir, ".", 2);
    }
    const char *what = "creating a temporary file";
    int fd = mkstemp(tmp);
    if (fd < 0)
        goto io_error;
    what = "writing";
    if (write_all(fd, buf, n) != 0)
        goto io_error_unlink;
    what = "flushing (fsync)";
    if (fsync(fd) != 0)
        goto io_error_unlink;
    what = "closing";
    int rc = close(fd);
    fd = -1;
    if (rc != 0)
        goto io_error_unlink;
    what = "renaming the temporary file over it";
    if (rename(tmp, path) != 0)
        goto io_error_unlink;
    int dfd = open(dir, O_RDONLY);
    if (dfd >= 0) { /* make the rename durable; a failure here leaves a complete file */
        fsync(dfd);
        close(dfd);
    }
    aifx__free(buf);
    aifx__free(tmp);
    aifx__free(dir);
    return AIFX_OK;
io_error_unlink : {
    int e = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    errno = e;
}
io_error:
    st = fail(err, errlen, path, AIFX_ERR_IO, "%s: %s", what, strerror(errno));
    aifx__free(buf);
    aifx__free(tmp);
    aifx__free(dir);
    return st;
}

/* ---- reader ---- */

typedef struct {
    const unsigned char *p;
    uint64_t size;
    int present;
} sec_view;

static aifx_status parse_names(const sec_view *s, int count, char ***dst, const char *file,
                               const char *what, char *err, size_t errlen)
{
    if (s->size < 4)
        return fail(err, errlen, file, AIFX_ERR_FORMAT, "%s: shorter than its count", what);
    uint32_t c = get_u32(s->p);
    if (c != (uint32_t)count)
        return fail(err, errlen, file, AIFX_ERR_ARCH, "%s: %u names for %d entries", what,
                    (unsigned)c, count);
    const char **names = aifx__calloc((size_t)count, sizeof(char *));
    char *text = aifx__malloc((size_t)s->size); /* NUL-terminated copies, packed */
    if (!names || !text) {
        aifx__free(names);
        aifx__free(text);
        return fail(err, errlen, file, AIFX_ERR_NOMEM, "out of memory");
    }
    aifx_status st = AIFX_OK;
    uint64_t pos = 4;
    char *t = text;
    for (int i = 0; i < count && st == AIFX_OK; i++) {
        if (s->size - pos < 4) {
            st = fail(err, errlen, file, AIFX_ERR_FORMAT, "%s: name %d runs past the section", what,
                      i);
            break;
        }
        uint32_t len = get_u32(s->p + pos);
        pos += 4;
        if (len == 0 || len > 255 || len > s->size - pos || memchr(s->p + pos, '\0', len) != NULL) {
            st = fail(err, errlen, file, AIFX_ERR_FORMAT, "%s: name %d has a bad length (%u)", what,
                      i, (unsigned)len);
            break;
        }
        memcpy(t, s->p + pos, len);
        t[len] = '\0';
        names[i] = t;
        t += len + 1;
        pos += len;
    }
    if (st == AIFX_OK && pos != s->size)
        st = fail(err, errlen, file, AIFX_ERR_FORMAT, "%s: %llu bytes after the last name", what,
                  (unsigned long long)(s->size - pos));
    if (st == AIFX_OK && aifx__set_names(dst, count, names) != AIFX_OK)
        st = fail(err, errlen, file, AIFX_ERR_NOMEM, "out of memory");
    aifx__free(names);
    aifx__free(text);
    return st;
}

static aifx_status load(const unsigned char *b, size_t n, const char *file, aifx_model **out,
                        char *err, size_t errlen)
{
    if (n < CK_HEADER)
        return fail(err, errlen, file, AIFX_ERR_TRUNCATED,
                    "%zu bytes, shorter than the %d-byte header", n, CK_HEADER);
    if (memcmp(b, CK_MAGIC, 8) != 0)
        return fail(err, errlen, file, AIFX_ERR_FORMAT, "not a checkpoint (bad magic)");
    uint16_t major = get_u16(b + 8), minor = get_u16(b + 10);
    if (major > CK_MAJOR)
        return fail(err, errlen, file, AIFX_ERR_VERSION,
                    "format version %u.%u is newer than this library reads (%d.x)", (unsigned)major,
                    (unsigned)minor, CK_MAJOR);
    if (major != CK_MAJOR || get_u32(b + 12) != CK_HEADER)
        return fail(err, errlen, file, AIFX_ERR_FORMAT, "unknown format version %u.%u",
                    (unsigned)major, (unsigned)minor);
    uint64_t fsize = get_u64(b + 16), table = get_u64(b + 32);
    uint32_t ns = get_u32(b + 24);
    if (fsize > n)
        return fail(err, errlen, file, AIFX_ERR_TRUNCATED,
                    "the header says %llu bytes but there are %zu", (unsigned long long)fsize, n);
    if (fsize < n)
        return fail(err, errlen, file, AIFX_ERR_FORMAT, "%zu bytes after the declared end",
                    n - (size_t)fsize);
    if (table != CK_HEADER) /* else bytes between the header and the table escape every check */
        return fail(err, errlen, file, AIFX_ERR_FORMAT, "section table at offset %llu, not %d",
                    (unsigned long long)table, CK_HEADER);
    if (ns > (n - table) / CK_ENTRY)
        return fail(err, errlen, file, AIFX_ERR_TRUNCATED,
                    "a section table of %u entries at offset %llu runs past the end", (unsigned)ns,
                    (unsigned long long)table);
    uint32_t crc = aifx_crc32(0, b, 60);
    crc = aifx_crc32(crc, b + table, (size_t)ns * CK_ENTRY);
    if (CRC_MISMATCH(crc, get_u32(b + 60)))
        return fail(err, errlen, file, AIFX_ERR_CHECKSUM, "header or section table checksum");

    if (ns > CK_MAX_SECTIONS)
        return fail(err, errlen, file, AIFX_ERR_FORMAT, "%u sections (at most %d)", (unsigned)ns,
                    CK_MAX_SECTIONS);
    const uint64_t table_end = table + (uint64_t)ns * CK_ENTRY;
    for (uint32_t i = 0; i < ns; i++) { /* bounds first: nothing is read through a bad entry */
        const unsigned char *e = b + table + (size_t)i * CK_ENTRY;
        uint32_t id = get_u32(e);
        uint64_t off = get_u64(e + 8), size = get_u64(e + 16);
        if (off % CK_ALIGN != 0 || off < table_end)
            return fail(err, errlen, file, AIFX_ERR_FORMAT,
                        "section %s (id %u) at a bad offset %llu", section_name(id), (unsigned)id,
                        (unsigned long long)off);
        if (off > n || size > n - off)
            return fail(err, errlen, file, AIFX_ERR_TRUNCATED,
                        "section %s (id %u): %llu bytes at offset %llu run past the end (%zu)",
                        section_name(id), (unsigned)id, (unsigned long long)size,
                        (unsigned long long)off, n);
    }
    /* in order of (offset, size): no overlap, and every byte outside the sections (padding) is
     * zero, so that no byte of the file escapes a check */
    uint64_t covered = table_end, last_off = 0, last_size = 0;
    for (uint32_t k = 0; k < ns; k++) {
        uint64_t off = UINT64_MAX, size = UINT64_MAX;
        for (uint32_t i = 0; i < ns; i++) {
            const unsigned char *e = b + table + (size_t)i * CK_ENTRY;
            uint64_t o = get_u64(e + 8), z = get_u64(e + 16);
            int after = k == 0 || o > last_off || (o == last_off && z > last_size);
            if (after && (o < off || (o == off && z < size))) {
                off = o;
                size = z;
            }
        }
        if (off == UINT64_MAX || off < covered)
            return fail(err, errlen, file, AIFX_ERR_FORMAT, "sections overlap at offset %llu",
                        (unsigned long long)(off == UINT64_MAX ? last_off : off));
        for (uint64_t q = covered; q < off; q++)
            if (b[q] != 0)
                return fail(err, errlen, file, AIFX_ERR_FORMAT,
                            "nonzero byte at offset %llu outside every section",
                            (unsigned long long)q);
        covered = off + size;
        last_off = off;
        last_size = size;
    }
    for (uint64_t q = covered; q < n; q++)
        if (b[q] != 0)
            return fail(err, errlen, file, AIFX_ERR_FORMAT,
                        "nonzero byte at offset %llu after the last section",
                        (unsigned long long)q);

    sec_view sec[SEC_MAX_ID] = {{0}};
    for (uint32_t i = 0; i < ns; i++) {
        const unsigned char *e = b + table + (size_t)i * CK_ENTRY;
        uint32_t id = get_u32(e);
        uint64_t off = get_u64(e + 8), size = get_u64(e + 16);
        if (CRC_MISMATCH(aifx_crc32(0, b + off, (size_t)size), get_u32(e + 24)))
            return fail(err, errlen, file, AIFX_ERR_CHECKSUM, "section %s (id %u) checksum",
                        section_name(id), (unsigned)id);
        for (uint32_t j = 0; j < i; j++) /* any id, known or not, appears at most once */
            if (get_u32(b + table + (size_t)j * CK_ENTRY) == id)
                return fail(err, errlen, file, AIFX_ERR_FORMAT, "section %s (id %u) appears twice",
                            section_name(id), (unsigned)id);
        if (id == 0 || id >= SEC_MAX_ID)
            continue; /* a later minor version's section */
        sec[id] = (sec_view){b + off, size, 1};
    }
    static const uint32_t required[] = {SEC_ARCH,          SEC_PARAMS,      SEC_SCALER,
                                        SEC_FEATURE_NAMES, SEC_CLASS_NAMES, SEC_METADATA};
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        if (!sec[required[i]].present)
            return fail(err, errlen, file, AIFX_ERR_FORMAT, "section %s is missing",
                        section_name(required[i]));

    /* architecture, then every size it implies, before allocating */
    if (sec[SEC_ARCH].size != ARCH_SIZE)
        return fail(err, errlen, file, AIFX_ERR_FORMAT, "section ARCH is %llu bytes, not %d",
                    (unsigned long long)sec[SEC_ARCH].size, ARCH_SIZE);
    const unsigned char *a = sec[SEC_ARCH].p;
    aifx_model_config cfg;
    cfg.n_features = (int)get_u32(a + 0);
    cfg.n_steps = (int)get_u32(a + 4);
    cfg.n_layers = (int)get_u32(a + 8);
    cfg.n_hidden = (int)get_u32(a + 12);
    cfg.n_classes = (int)get_u32(a + 16);
    cfg.batch_size = (int)get_u32(a + 20);
    cfg.dropout = get_f32(a + 24);
    cfg.seed = get_u64(a + 32);
    cfg.n_threads = 1; /* a run-time setting, not stored */
    uint64_t n_params = get_u64(a + 40);
    if (!aifx__model_config_valid(&cfg))
        return fail(err, errlen, file, AIFX_ERR_ARCH,
                    "invalid architecture (F %d, T %d, layers %d, H %d, C %d, batch %d)",
                    cfg.n_features, cfg.n_steps, cfg.n_layers, cfg.n_hidden, cfg.n_classes,
                    cfg.batch_size);
    const uint64_t work = (uint64_t)cfg.n_layers * (uint64_t)cfg.n_steps *
                          (uint64_t)cfg.batch_size * (6 * (uint64_t)cfg.n_hidden + 2);
    if (work > CK_MAX_WORKSPACE)
        return fail(err, errlen, file, AIFX_ERR_ARCH,
                    "T %d x batch %d x H %d x %d layers needs a workspace over 512 MiB",
                    cfg.n_steps, cfg.batch_size, cfg.n_hidden, cfg.n_layers);
    aifx_net_config nc = aifx_net_config_default();
    nc.n_in = cfg.n_features;
    nc.n_layers = cfg.n_layers;
    nc.n_hidden = cfg.n_hidden;
    nc.n_classes = cfg.n_classes;
    const uint64_t want = aifx__net_param_count(&nc), F = (uint64_t)cfg.n_features;
    if (n_params != want || sec[SEC_PARAMS].size != 4 * want)
        return fail(err, errlen, file, AIFX_ERR_ARCH,
                    "the architecture has %llu parameters; ARCH says %llu and PARAMS holds "
                    "%llu bytes",
                    (unsigned long long)want, (unsigned long long)n_params,
                    (unsigned long long)sec[SEC_PARAMS].size);
    if (sec[SEC_SCALER].size != 8 * F)
        return fail(err, errlen, file, AIFX_ERR_ARCH, "SCALER is %llu bytes for %llu features",
                    (unsigned long long)sec[SEC_SCALER].size, (unsigned long long)F);
    const int has_state = sec[SEC_PROGRESS].present;
    if (has_state && (!sec[SEC_OPTIMIZER].present || !sec[SEC_BEST_PARAMS].present))
        return fail(err, errlen, file, AIFX_ERR_FORMAT,
                    "PROGRESS without OPTIMIZER and BEST_PARAMS");
    if (sec[SEC_OPTIMIZER].present && sec[SEC_OPTIMIZER].size != OPTIMIZER_HEAD + 8 * want)
        return fail(err, errlen, file, AIFX_ERR_ARCH, "OPTIMIZER size does not match");
    if (has_state && sec[SEC_PROGRESS].size != PROGRESS_SIZE)
        return fail(err, errlen, file, AIFX_ERR_FORMAT, "PROGRESS size is not %d", PROGRESS_SIZE);
    for (int id = SEC_BEST_PARAMS; id <= SEC_RESUME_PARAMS; id++)
        if (sec[id].present && sec[id].size != 4 * want)
            return fail(err, errlen, file, AIFX_ERR_ARCH, "%s size does not match",
                        section_name((uint32_t)id));
    if (has_state && get_u32(sec[SEC_PROGRESS].p + 32) && !sec[SEC_RESUME_PARAMS].present)
        return fail(err, errlen, file, AIFX_ERR_FORMAT, "PROGRESS says restored, no RESUME_PARAMS");
    if (sec[SEC_METADATA].size > (16u << 20) ||
        memchr(sec[SEC_METADATA].p, '\0', (size_t)sec[SEC_METADATA].size))
        return fail(err, errlen, file, AIFX_ERR_FORMAT, "METADATA is not text");

    aifx_model *m;
    aifx_status st = aifx__model_alloc(&cfg, &m);
    if (st != AIFX_OK)
        return fail(err, errlen, file, st, "allocating the model: %s", aifx_strerror(st));
    const size_t np = (size_t)want;
    get_floats(sec[SEC_PARAMS].p, np, m->net->params);
    get_floats(sec[SEC_SCALER].p, (size_t)F, m->mean);
    get_floats(sec[SEC_SCALER].p + 4 * F, (size_t)F, m->scale);
    if (!aifx__all_finite(np, m->net->params)) {
        st = fail(err, errlen, file, AIFX_ERR_NONFINITE, "PARAMS holds a NaN or infinity");
        goto bad;
    }
    for (size_t f = 0; f < (size_t)F; f++)
        if (!isfinite(m->mean[f]) || !isnormal(m->scale[f]) || !(m->scale[f] > 0.0f)) {
            st = fail(err, errlen, file, AIFX_ERR_FORMAT, "SCALER feature %zu is invalid", f);
            goto bad;
        }
    if ((st = parse_names(&sec[SEC_FEATURE_NAMES], cfg.n_features, &m->feature_names, file,
                          "FEATURE_NAMES", err, errlen)) != AIFX_OK ||
        (st = parse_names(&sec[SEC_CLASS_NAMES], cfg.n_classes, &m->class_names, file,
                          "CLASS_NAMES", err, errlen)) != AIFX_OK)
        goto bad;
    {
        size_t ml = (size_t)sec[SEC_METADATA].size;
        char *meta = aifx__malloc(ml + 1);
        if (!meta) {
            st = fail(err, errlen, file, AIFX_ERR_NOMEM, "out of memory");
            goto bad;
        }
        memcpy(meta, sec[SEC_METADATA].p, ml);
        meta[ml] = '\0';
        aifx__free(m->metadata);
        m->metadata = meta;
    }
    aifx_rng_seed(&m->rng, cfg.seed); /* without a PROGRESS section: the seed's stream */
    if (sec[SEC_OPTIMIZER].present) {
        const unsigned char *o = sec[SEC_OPTIMIZER].p;
        aifx_adam_config ac = {get_f32(o), get_f32(o + 4), get_f32(o + 8), get_f32(o + 12),
                               get_f32(o + 16)};
        uint64_t step = get_u64(o + 24);
        float *mo, *vo;
        aifx_adam_state(m->adam, NULL, &mo, &vo, NULL);
        get_floats(o + OPTIMIZER_HEAD, np, mo);
        get_floats(o + OPTIMIZER_HEAD + 4 * np, np, vo);
        if (aifx__adam_set_config(m->adam, &ac) != AIFX_OK || step > INT64_MAX ||
            aifx_adam_set_step(m->adam, (int64_t)step) != AIFX_OK || !aifx__all_finite(np, mo) ||
            !aifx__all_finite(np, vo)) {
            st = fail(err, errlen, file, AIFX_ERR_FORMAT, "OPTIMIZER holds invalid values");
            goto bad;
        }
    }
    if (has_state) {
        const unsigned char *p = sec[SEC_PROGRESS].p;
        aifx_progress *g = &m->prog;
        int32_t v[9];
        for (int k = 0; k < 9; k++)
            v[k] = (int32_t)get_u32(p + 4 * k);
        g->epoch = v[0];
        g->stopped = v[1];
        g->monitor = v[2];
        g->has_best = v[3];
        g->best_epoch = v[4];
        g->wait = v[5];
        g->plateau_wait = v[6];
        g->cooldown = v[7];
        g->restored = v[8];
        g->best_score = get_f64(p + 40);
        g->plateau_best = get_f64(p + 48);
        for (int k = 0; k < 4; k++)
            m->rng.s[k] = get_u64(p + 56 + 8 * k);
        if (g->epoch < 0 || g->best_epoch < 0 || g->best_epoch > g->epoch || g->wait < 0 ||
            g->plateau_wait < 0 || g->cooldown < 0 ||
            (g->monitor != AIFX_MONITOR_VAL_LOSS && g->monitor != AIFX_MONITOR_VAL_MACRO_F1) ||
            (m->rng.s[0] | m->rng.s[1] | m->rng.s[2] | m->rng.s[3]) == 0) {
            st = fail(err, errlen, file, AIFX_ERR_FORMAT, "PROGRESS holds invalid values");
            goto bad;
        }
        get_floats(sec[SEC_BEST_PARAMS].p, np, m->best_params);
        if (g->restored)
            get_floats(sec[SEC_RESUME_PARAMS].p, np, m->resume_params);
    }
    *out = m;
    return AIFX_OK;
bad:
    aifx_model_free(m);
    return st;
}

aifx_status aifx_model_load_buffer(const void *data, size_t n, aifx_model **out, char *err,
                                   size_t errlen)
{
    if (!out)
        return fail(err, errlen, "<memory>", AIFX_ERR_INVALID, "invalid argument");
    *out = NULL;
    if (!data)
        return fail(err, errlen, "<memory>", AIFX_ERR_INVALID, "invalid argument");
    return load(data, n, "<memory>", out, err, errlen);
}

aifx_status aifx_model_load(const char *path, aifx_model **out, char *err, size_t errlen)
{
    if (!out || !path)
        return fail(err, errlen, path ? path : "(null)", AIFX_ERR_INVALID, "invalid argument");
    *out = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return fail(err, errlen, path, AIFX_ERR_IO, "cannot open: %s", strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return fail(err, errlen, path, AIFX_ERR_IO, "not a regular file");
    }
    if ((uint64_t)sb.st_size > CK_MAX_FILE) {
        close(fd);
        return fail(err, errlen, path, AIFX_ERR_FORMAT, "%lld bytes is too large",
                    (long long)sb.st_size);
    }
    size_t n = (size_t)sb.st_size;
    unsigned char *buf = aifx__malloc(n);
    if (!buf) {
        close(fd);
        return fail(err, errlen, path, AIFX_ERR_NOMEM, "out of memory reading %zu bytes", n);
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    aifx_status st = got == n ? load(buf, n, path, out, err, errlen)
                              : fail(err, errlen, path, AIFX_ERR_IO, "read failed");
    aifx__free(buf);
    return st;
}
