/*
 * check_checkpoint.c - the checkpoint file: bitwise round trip, exact resume across a process
 * boundary, and every corruption a reader must refuse (truncation at every length, every byte
 * flipped, wrong magic, newer version, absurd sizes, inconsistent architecture), each with its
 * own status and a message naming the file.
 *
 * Exact resume: the suite runs itself again (/proc/self/exe --resume-child IN OUT) so that the
 * second half of the training happens in a fresh process that only has the file.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aifxnn.h"
#include "internal.h"
#include "model_data.h"

static char tmpdir[256];

static void make_tmpdir(void)
{
    if (tmpdir[0])
        return;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/aifx-ckpt-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void path_in_tmp(char *out, size_t n, const char *name)
{
    make_tmpdir();
    snprintf(out, n, "%s/%s", tmpdir, name);
}

static unsigned char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len + 1);
    ck_assert_uint_eq(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

/* ---- a model under training, reproducible from its seed ---- */

static aifx_model_config resume_config(void)
{
    aifx_model_config c = aifx_model_config_default();
    c.n_features = 3, c.n_steps = 5, c.n_layers = 2, c.n_hidden = 10, c.batch_size = 16;
    c.dropout = 0.3f, c.seed = 2024;
    return c;
}

static aifx_fit_config resume_fit(int epochs)
{
    aifx_fit_config fc = aifx_fit_config_default();
    fc.epochs = epochs;
    fc.early_stopping = 1;
    fc.patience = 50; /* tracked, never triggered */
    fc.plateau = 1;
    fc.plateau_patience = 1;
    fc.plateau_factor = 0.7f;
    fc.clip_norm = 1.0f;
    return fc;
}

/* training data with random labels (so the validation loss wanders and the plateau fires) */
static void resume_data(aifx_dataset *tr, aifx_dataset *va, float **x1, int32_t **y1, float **x2,
                        int32_t **y2)
{
    aifx_model_config c = resume_config();
    *tr = make_trend_data(31, 80, c.n_steps, c.n_features, x1, y1);
    *va = make_trend_data(32, 40, c.n_steps, c.n_features, x2, y2);
    aifx_rng r;
    aifx_rng_seed(&r, 33);
    for (size_t i = 0; i < 40; i++)
        (*y2)[i] = (int32_t)(aifx__rng_next(&r) % 3);
}

static int resume_child(const char *in, const char *out)
{
    aifx_dataset tr, va;
    float *x1, *x2;
    int32_t *y1, *y2;
    resume_data(&tr, &va, &x1, &y1, &x2, &y2);
    aifx_model *m;
    char err[256];
    if (aifx_model_load(in, &m, err, sizeof(err)) != AIFX_OK) {
        fprintf(stderr, "child: %s\n", err);
        return 2;
    }
    aifx_fit_config fc = resume_fit(10);
    if (aifx_model_fit(m, &tr, &va, &fc, NULL) != AIFX_OK)
        return 3;
    if (aifx_model_save(m, out, 1, err, sizeof(err)) != AIFX_OK) {
        fprintf(stderr, "child: %s\n", err);
        return 4;
    }
    aifx_model_free(m);
    free(x1), free(y1), free(x2), free(y2);
    return 0;
}

START_TEST(test_resume_exact)
{
    aifx_dataset tr, va;
    float *x1, *x2;
    int32_t *y1, *y2;
    resume_data(&tr, &va, &x1, &y1, &x2, &y2);
    aifx_model_config c = resume_config();
    char straight[512], half[512], resumed[512], err[256];
    path_in_tmp(straight, sizeof(straight), "straight.ckpt");
    path_in_tmp(half, sizeof(half), "half.ckpt");
    path_in_tmp(resumed, sizeof(resumed), "resumed.ckpt");

    aifx_model *m;
    ck_assert_int_eq(aifx_model_new(&c, &m), AIFX_OK);
    ck_assert_int_eq(aifx_model_fit_scaler(m, &tr), AIFX_OK);
    aifx_fit_config fc = resume_fit(10);
    aifx_fit_result res;
    ck_assert_int_eq(aifx_model_fit(m, &tr, &va, &fc, &res), AIFX_OK);
    ck_assert_int_eq(res.epochs_run, 10);
    float lr_end;
    aifx_model_get_lr(m, &lr_end);
    ck_assert_msg(lr_end < 1e-3f, "the plateau never fired, so resume would not test it");
    ck_assert_int_eq(aifx_model_save(m, straight, 1, err, sizeof(err)), AIFX_OK);
    aifx_model_free(m);

    ck_assert_int_eq(aifx_model_new(&c, &m), AIFX_OK);
    ck_assert_int_eq(aifx_model_fit_scaler(m, &tr), AIFX_OK);
    fc = resume_fit(5);
    ck_assert_int_eq(aifx_model_fit(m, &tr, &va, &fc, &res), AIFX_OK);
    ck_assert_int_eq(res.epochs_run, 5);
    ck_assert_int_eq(aifx_model_save(m, half, 1, err, sizeof(err)), AIFX_OK);
    aifx_model_free(m);

    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        execl("/proc/self/exe", "check_checkpoint", "--resume-child", half, resumed, (char *)NULL);
        _exit(127);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed: %d", status);

    size_t na, nb;
    unsigned char *a = read_file(straight, &na), *b = read_file(resumed, &nb);
    ck_assert_uint_eq(na, nb);
    ck_assert_msg(memcmp(a, b, na) == 0, "10 epochs straight and 5 + 5 differ");
    free(a), free(b);
    free(x1), free(y1), free(x2), free(y2);
}
END_TEST

START_TEST(test_round_trip)
{
    aifx_dataset tr, va;
    float *x1, *x2;
    int32_t *y1, *y2;
    resume_data(&tr, &va, &x1, &y1, &x2, &y2);
    aifx_model_config c = resume_config();
    aifx_model *m, *l;
    ck_assert_int_eq(aifx_model_new(&c, &m), AIFX_OK);
    aifx_model_fit_scaler(m, &tr);
    const char *feats[3] = {"rsi_14", "macd_hist", "atr_norm"};
    const char *classes[3] = {"buy", "sell", "hold"};
    aifx_model_set_feature_names(m, feats);
    aifx_model_set_class_names(m, classes);
    aifx_model_set_metadata(m, "{\"version\":\"v1.0\",\"pair\":\"EURUSD\"}");
    aifx_fit_config fc = resume_fit(3);
    ck_assert_int_eq(aifx_model_fit(m, &tr, &va, &fc, NULL), AIFX_OK);
    char p1[512], p2[512], p3[512], err[256];
    path_in_tmp(p1, sizeof(p1), "rt1.ckpt");
    path_in_tmp(p2, sizeof(p2), "rt2.ckpt");
    path_in_tmp(p3, sizeof(p3), "serve.ckpt");
    for (int state = 0; state <= 1; state++) {
        ck_assert_int_eq(aifx_model_save(m, p1, state, err, sizeof(err)), AIFX_OK);
        ck_assert_int_eq(aifx_model_load(p1, &l, err, sizeof(err)), AIFX_OK);
        ck_assert_int_eq(aifx_model_save(l, p2, state, err, sizeof(err)), AIFX_OK);
        size_t na, nb;
        unsigned char *a = read_file(p1, &na), *b = read_file(p2, &nb);
        ck_assert_uint_eq(na, nb);
        ck_assert_int_eq(memcmp(a, b, na), 0);
        ck_assert_uint_eq(na % 64, 0);
        free(a), free(b);
        ck_assert_str_eq(aifx_model_feature_name(l, 1), "macd_hist");
        ck_assert_str_eq(aifx_model_class_name(l, 0), "buy");
        ck_assert_str_eq(aifx_model_metadata(l), "{\"version\":\"v1.0\",\"pair\":\"EURUSD\"}");
        float pm[40 * 3], pl[40 * 3];
        ck_assert_int_eq(aifx_model_predict(m, 40, x2, pm, NULL), AIFX_OK);
        ck_assert_int_eq(aifx_model_predict(l, 40, x2, pl, NULL), AIFX_OK);
        ck_assert_int_eq(memcmp(pm, pl, sizeof(pm)), 0);
        aifx_model_free(l);
    }
    /* the serving copy (no training state) is smaller and loads with no progress */
    ck_assert_int_eq(aifx_model_save(m, p3, 0, err, sizeof(err)), AIFX_OK);
    ck_assert_int_eq(aifx_model_load(p3, &l, err, sizeof(err)), AIFX_OK);
    ck_assert_int_eq(l->prog.epoch, 0);
    aifx_model_free(l);
    /* saving over an existing file replaces it and leaves no temporary behind */
    ck_assert_int_eq(aifx_model_save(m, p1, 1, err, sizeof(err)), AIFX_OK);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "ls %s | grep -q tmp", tmpdir);
    ck_assert_int_ne(system(cmd), 0);
    /* a directory that does not exist: AIFX_ERR_IO and a message naming the file */
    ck_assert_int_eq(aifx_model_save(m, "/nonexistent-dir/x.ckpt", 1, err, sizeof(err)),
                     AIFX_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent-dir/x.ckpt"));
    ck_assert_int_eq(aifx_model_load("/nonexistent-dir/x.ckpt", &l, err, sizeof(err)), AIFX_ERR_IO);
    ck_assert_ptr_null(l);
    aifx_model_free(m);
    free(x1), free(y1), free(x2), free(y2);
}
END_TEST

/* ---- corruption ---- */

static unsigned char *valid_file(size_t *n)
{
    aifx_model_config c = resume_config();
    aifx_dataset tr, va;
    float *x1, *x2;
    int32_t *y1, *y2;
    resume_data(&tr, &va, &x1, &y1, &x2, &y2);
    aifx_model *m;
    ck_assert_int_eq(aifx_model_new(&c, &m), AIFX_OK);
    aifx_fit_config fc = resume_fit(2);
    fc.restore_best = 1;
    ck_assert_int_eq(aifx_model_fit(m, &tr, &va, &fc, NULL), AIFX_OK);
    char p[512], err[256];
    path_in_tmp(p, sizeof(p), "valid.ckpt");
    ck_assert_int_eq(aifx_model_save(m, p, 1, err, sizeof(err)), AIFX_OK);
    aifx_model_free(m);
    free(x1), free(y1), free(x2), free(y2);
    return read_file(p, n);
}

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const unsigned char *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void wr64(unsigned char *p, uint64_t v)
{
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

/* Recomputes every section CRC and the header CRC (layout: docs/checkpoint-format.md), so
 * that a test can reach the checks behind the checksums. */
static void reseal_header(unsigned char *b)
{
    uint32_t ns = rd32(b + 24);
    uint32_t crc = aifx_crc32(0, b, 60);
    wr32(b + 60, aifx_crc32(crc, b + 64, 32 * (size_t)ns));
}

static void reseal(unsigned char *b)
{
    uint32_t ns = rd32(b + 24);
    for (uint32_t i = 0; i < ns; i++) {
        unsigned char *e = b + 64 + 32 * i;
        wr32(e + 24, aifx_crc32(0, b + rd64(e + 8), (size_t)rd64(e + 16)));
    }
    reseal_header(b);
}

static unsigned char *section(unsigned char *b, uint32_t id, uint64_t *size)
{
    uint32_t ns = rd32(b + 24);
    for (uint32_t i = 0; i < ns; i++) {
        unsigned char *e = b + 64 + 32 * i;
        if (rd32(e) == id) {
            if (size)
                *size = rd64(e + 16);
            return b + rd64(e + 8);
        }
    }
    ck_abort_msg("no section %u", (unsigned)id);
    return NULL;
}

static aifx_status try_load(const unsigned char *b, size_t n, char *err, size_t errlen)
{
    aifx_model *m = (aifx_model *)1;
    aifx_status st = aifx_model_load_buffer(b, n, &m, err, errlen);
    if (st == AIFX_OK)
        aifx_model_free(m);
    else
        ck_assert_ptr_null(m);
    return st;
}

START_TEST(test_truncated_everywhere)
{
    size_t n;
    unsigned char *b = valid_file(&n);
    char err[256];
    ck_assert_int_eq(try_load(b, n, err, sizeof(err)), AIFX_OK);
    for (size_t len = 0; len < n; len++) {
        aifx_status st = try_load(b, len, err, sizeof(err));
        ck_assert_msg(st == AIFX_ERR_TRUNCATED, "length %zu of %zu: %s", len, n, aifx_strerror(st));
    }
    /* and through a file on disk, cut at each section's start and end */
    char p[512];
    path_in_tmp(p, sizeof(p), "cut.ckpt");
    uint32_t ns = rd32(b + 24);
    for (uint32_t i = 0; i < ns; i++) {
        const unsigned char *e = b + 64 + 32 * i;
        size_t cuts[2] = {(size_t)rd64(e + 8), (size_t)(rd64(e + 8) + rd64(e + 16))};
        for (int k = 0; k < 2; k++) {
            if (cuts[k] >= n)
                continue;
            FILE *f = fopen(p, "wb");
            fwrite(b, 1, cuts[k], f);
            fclose(f);
            aifx_model *m;
            ck_assert_int_eq(aifx_model_load(p, &m, err, sizeof(err)), AIFX_ERR_TRUNCATED);
            ck_assert_ptr_nonnull(strstr(err, p));
        }
    }
    free(b);
}
END_TEST

START_TEST(test_every_byte_flipped)
{
    size_t n;
    unsigned char *b = valid_file(&n);
    char err[256];
    int by_status[32] = {0};
    for (size_t i = 0; i < n; i++) {
        b[i] ^= 0x5a;
        aifx_status st = try_load(b, n, err, sizeof(err));
        b[i] ^= 0x5a;
        ck_assert_msg(st != AIFX_OK, "flipping byte %zu of %zu went unnoticed", i, n);
        by_status[st]++;
    }
    ck_assert(by_status[AIFX_ERR_CHECKSUM] > 0 && by_status[AIFX_ERR_FORMAT] > 0);
    free(b);
}
END_TEST

START_TEST(test_header_cases)
{
    size_t n;
    unsigned char *b = valid_file(&n);
    char err[256];
    /* wrong magic */
    b[0] = 'X';
    ck_assert_int_eq(try_load(b, n, err, sizeof(err)), AIFX_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "magic"));
    b[0] = 'A';
    /* newer major version: refused with its own status */
    b[8] = 2;
    reseal(b);
    ck_assert_int_eq(try_load(b, n, err, sizeof(err)), AIFX_ERR_VERSION);
    ck_assert_ptr_nonnull(strstr(err, "2.0"));
    /* newer minor version of the same major loads */
    b[8] = 1;
    b[10] = 9;
    reseal(b);
    ck_assert_int_eq(try_load(b, n, err, sizeof(err)), AIFX_OK);
    b[10] = 0;
    reseal(b);
    /* bad header checksum */
    b[44] = 1;
    ck_assert_int_eq(try_load(b, n, err, sizeof(err)), AIFX_ERR_CHECKSUM);
    b[44] = 0;
    /* a file longer than it says */
    unsigned char *longer = calloc(n + 64, 1);
    memcpy(longer, b, n);
    ck_assert_int_eq(try_load(longer, n + 64, err, sizeof(err)), AIFX_ERR_FORMAT);
    free(longer);
    /* a section table anywhere but right after the header: the bytes between would escape
     * every check */
    wr64(b + 32, 128);
    reseal_header(b);
    ck_assert_int_eq(try_load(b, n, err, sizeof(err)), AIFX_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "section table"));
    wr64(b + 32, 64);
    reseal_header(b);
    /* reserved fields and flags are ignored (a later minor version may use them) */
    wr32(b + 28, 0xdeadbeef);
    wr32(b + 64 + 4, 1);
    wr32(b + 64 + 28, 2);
    reseal_header(b);
    ck_assert_int_eq(try_load(b, n, err, sizeof(err)), AIFX_OK);
    /* an unknown id is skipped; the same unknown id twice is refused */
    uint32_t ids[2] = {rd32(b + 64), rd32(b + 96)};
    wr32(b + 64, 7);
    reseal_header(b);
    ck_assert_int_eq(try_load(b, n, err, sizeof(err)), AIFX_ERR_FORMAT); /* ARCH is missing */
    ck_assert_ptr_nonnull(strstr(err, "missing"));
    wr32(b + 96, 7);
    reseal_header(b);
    ck_assert_int_eq(try_load(b, n, err, sizeof(err)), AIFX_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "twice"));
    wr32(b + 64, ids[0]);
    wr32(b + 96, ids[1]);
    reseal_header(b);
    ck_assert_int_eq(try_load(b, n, err, sizeof(err)), AIFX_OK);
    /* a section claiming 2^40 floats in a small file: refused without allocating */
    uint32_t ns = rd32(b + 24);
    for (uint32_t i = 0; i < ns; i++)
        if (rd32(b + 64 + 32 * i) == 2)
            wr64(b + 64 + 32 * i + 16, (uint64_t)4 << 40);
    reseal_header(b); /* the section's own CRC cannot be computed over bytes it does not have */
    ck_assert_int_eq(try_load(b, n, err, sizeof(err)), AIFX_ERR_TRUNCATED);
    ck_assert_ptr_nonnull(strstr(err, "PARAMS"));
    free(b);
}
END_TEST

START_TEST(test_semantic_cases)
{
    size_t n;
    char err[256];
    unsigned char *b = valid_file(&n);
    /* architecture that implies 2^20 hidden units: parameter count mismatch, no allocation */
    unsigned char *arch = section(b, 1, NULL);
    wr32(arch + 12, 1u << 18);
    reseal(b);
    ck_assert_int_eq(try_load(b, n, err, sizeof(err)), AIFX_ERR_ARCH);
    free(b);
    /* T x batch that would need a giant workspace */
    b = valid_file(&n);
    arch = section(b, 1, NULL);
    wr32(arch + 4, 100000);
    wr32(arch + 20, 1000);
    reseal(b);
    ck_assert_int_eq(try_load(b, n, err, sizeof(err)), AIFX_ERR_ARCH);
    ck_assert_ptr_nonnull(strstr(err, "workspace"));
    free(b);
    /* zero classes */
    b = valid_file(&n);
    arch = section(b, 1, NULL);
    wr32(arch + 16, 0);
    reseal(b);
    ck_assert_int_eq(try_load(b, n, err, sizeof(err)), AIFX_ERR_ARCH);
    free(b);
    /* NaN in the parameters */
    b = valid_file(&n);
    unsigned char *par = section(b, 2, NULL);
    wr32(par + 8, 0x7fc00000u);
    reseal(b);
    ck_assert_int_eq(try_load(b, n, err, sizeof(err)), AIFX_ERR_NONFINITE);
    free(b);
    /* a zero scale in the scaler */
    b = valid_file(&n);
    uint64_t ssz;
    unsigned char *sc = section(b, 3, &ssz);
    wr32(sc + ssz / 2, 0);
    reseal(b);
    ck_assert_int_eq(try_load(b, n, err, sizeof(err)), AIFX_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "SCALER"));
    /* a subnormal scale (found by the fuzzer): x / 4e-40 overflows for ordinary inputs */
    wr32(sc + ssz / 2, 0x00046000u);
    reseal(b);
    ck_assert_int_eq(try_load(b, n, err, sizeof(err)), AIFX_ERR_FORMAT);
    free(b);
    /* a name longer than its section */
    b = valid_file(&n);
    unsigned char *fn = section(b, 4, NULL);
    wr32(fn + 4, 100000);
    reseal(b);
    ck_assert_int_eq(try_load(b, n, err, sizeof(err)), AIFX_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "FEATURE_NAMES"));
    free(b);
    /* a wrong class-name count */
    b = valid_file(&n);
    wr32(section(b, 5, NULL), 4);
    reseal(b);
    ck_assert_int_eq(try_load(b, n, err, sizeof(err)), AIFX_ERR_ARCH);
    free(b);
    /* a progress section whose best epoch lies in the future */
    b = valid_file(&n);
    unsigned char *pg = section(b, 17, NULL);
    wr32(pg + 16, 99);
    reseal(b);
    ck_assert_int_eq(try_load(b, n, err, sizeof(err)), AIFX_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "PROGRESS"));
    free(b);
    /* NULLs */
    aifx_model *m;
    ck_assert_int_eq(aifx_model_load_buffer(NULL, 10, &m, err, sizeof(err)), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_model_load_buffer(err, 10, NULL, NULL, 0), AIFX_ERR_INVALID);
    ck_assert_int_eq(aifx_model_save(NULL, "x", 0, NULL, 0), AIFX_ERR_INVALID);
}
END_TEST

START_TEST(test_crc32_check_value)
{
    ck_assert_uint_eq(aifx_crc32(0, "123456789", 9), 0xCBF43926u);
    ck_assert_uint_eq(aifx_crc32(aifx_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
}
END_TEST

/* The table-driven CRC equals the definition (the polynomial bit by bit) at every length and
 * alignment around its 8-byte steps, and when chained. */
static uint32_t crc32_bitwise(uint32_t crc, const unsigned char *p, size_t n)
{
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

START_TEST(test_crc32_matches_definition)
{
    unsigned char buf[4096 + 16];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof buf; i++) {
        x = x * 1664525u + 1013904223u;
        buf[i] = (unsigned char)(x >> 24);
    }
    for (size_t off = 0; off < 16; off++)
        for (size_t len = 0; len <= 100; len++)
            ck_assert_uint_eq(aifx_crc32(0x5a5a5a5au, buf + off, len),
                              crc32_bitwise(0x5a5a5a5au, buf + off, len));
    ck_assert_uint_eq(aifx_crc32(0, buf, 4096), crc32_bitwise(0, buf, 4096));
    ck_assert_uint_eq(aifx_crc32(aifx_crc32(0, buf, 1001), buf + 1001, 3000),
                      crc32_bitwise(0, buf, 4001));
}
END_TEST

/* The committed seed corpus of the fuzz target must stay loadable as the format evolves. */
START_TEST(test_fuzz_seeds_load)
{
    const char *names[] = {"tiny.ckpt", "tiny-state.ckpt"};
    for (int i = 0; i < 2; i++) {
        char p[512], err[256];
        snprintf(p, sizeof(p), "%s/../fuzz/corpus/%s", AIFX_TEST_FIXTURES, names[i]);
        aifx_model *m;
        ck_assert_msg(aifx_model_load(p, &m, err, sizeof(err)) == AIFX_OK, "%s", err);
        aifx_model_free(m);
    }
}
END_TEST

static Suite *checkpoint_suite(void)
{
    Suite *s = suite_create("checkpoint");
    TCase *tc = tcase_create("checkpoint");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, test_crc32_check_value);
    tcase_add_test(tc, test_crc32_matches_definition);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_resume_exact);
    tcase_add_test(tc, test_truncated_everywhere);
    tcase_add_test(tc, test_every_byte_flipped);
    tcase_add_test(tc, test_header_cases);
    tcase_add_test(tc, test_semantic_cases);
    tcase_add_test(tc, test_fuzz_seeds_load);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--resume-child") == 0)
        return resume_child(argv[2], argv[3]);
    SRunner *sr = srunner_create(checkpoint_suite());
    srunner_run_all(sr, CK_NORMAL);
    int n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (tmpdir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
    return n_failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
