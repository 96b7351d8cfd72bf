/*
 * check_parity.c - parity of libaifxnn with PyTorch on committed fixtures.
 *
 * tests/torch_parity.py builds nn.LSTM(F, H, num_layers=L, batch_first=True) + nn.Linear(H, C)
 * on the last step + nn.CrossEntropyLoss(weight) + torch.optim.Adam for L = 1 and 2, and writes
 * every input, weight, output, gradient and updated weight to tests/fixtures/torch_lstm_l<L>.txt
 * (format: tests/fixtures/README.md). This suite loads each file, runs the same computation with
 * the library and requires agreement within:
 *   probs, h_last, seq, loss, loss_step<k>:  |ours - torch| <= 1e-6 absolute
 *   grads, dx:        |ours - torch| <= 1e-5 * max(|torch|, 1e-2)   (relative, with an absolute
 *                     floor of 1e-7 for gradients near zero)
 *   params_step<k>:   |ours - torch| <= 1e-5 absolute (Adam's step, about lr * g / |g| early on,
 *                     amplifies the rounding of small gradients)
 * These are ten times tighter than issue 2 asks (1e-5 forward, 1e-4 gradients); the errors seen
 * with OpenBLAS are about 6e-8 forward, 1.1e-6 scaled for gradients and 2.4e-7 for parameters.
 * The worst error seen per tensor is printed to stderr. torch is not needed to run it.
 */
#define _POSIX_C_SOURCE 200809L /* mkstemp, fdopen */

#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aifxnn.h"
#include "check_kpath.h"
#include "check_main.h"

#ifndef AIFX_TEST_FIXTURES
#define AIFX_TEST_FIXTURES "tests/fixtures"
#endif

#define TOL_FWD    1e-6 /* absolute: probs, h_last, seq, losses */
#define TOL_PARAMS 1e-5 /* absolute: parameters after each Adam step */
#define TOL_GRAD   1e-5 /* relative: gradients and dx ... */
#define GRAD_FLOOR 1e-2 /* ... with |torch| taken as at least this */

#define N_ADAM_STEPS 3
#define MAX_TENSORS  32
#define NAME_LEN     32

static const char *const fixture_files[] = {"torch_lstm_l1.txt", "torch_lstm_l2.txt"};

/* --------------------------------------------------------------------------------------------
 * Fixture file: '#' comments, `config B T F H L C`, then `tensor <name> <count>` or
 * `itensor <name> <count>` header lines, each followed by one line of <count> values.
 */
typedef struct fx_tensor {
    char name[NAME_LEN];
    size_t count;
    float *f;   /* (count) for `tensor` */
    int32_t *i; /* (count) for `itensor` */
} fx_tensor;

typedef struct fixture {
    int has_config;
    int B, T, F, H, L, C;
    int n_tensors;
    fx_tensor t[MAX_TENSORS];
} fixture;

static void fixture_free(fixture *fx)
{
    for (int k = 0; k < fx->n_tensors; k++) {
        free(fx->t[k].f);
        free(fx->t[k].i);
    }
    memset(fx, 0, sizeof *fx);
}

/* Reads one line of any length into *buf (grown as needed), without its '\n'.
 * Returns 1 on a line, 0 at end of file, -1 on a read or allocation error. */
static int read_line(FILE *f, char **buf, size_t *cap)
{
    size_t len = 0;
    if (*buf == NULL) {
        *cap = 256;
        *buf = malloc(*cap);
        if (*buf == NULL)
            return -1;
    }
    for (;;) {
        if (fgets(*buf + len, (int)(*cap - len), f) == NULL) {
            if (ferror(f))
                return -1;
            if (len == 0)
                return 0;
            break; /* last line without '\n' */
        }
        len += strlen(*buf + len);
        if (len > 0 && (*buf)[len - 1] == '\n') {
            (*buf)[--len] = '\0';
            break;
        }
        if (len + 1 < *cap)
            continue; /* embedded NUL or end of file: fgets will tell on the next call */
        char *grown = realloc(*buf, *cap * 2);
        if (grown == NULL)
            return -1;
        *buf = grown;
        *cap *= 2;
    }
    if (len > 0 && (*buf)[len - 1] == '\r')
        (*buf)[--len] = '\0';
    return 1;
}

#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static int
parse_error(char *err, size_t n_err, const char *path, long line, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line > 0)
        snprintf(err, n_err, "%s:%ld: %s", path, line, msg);
    else
        snprintf(err, n_err, "%s: %s", path, msg);
    return 0;
}

static int parse_long(const char **s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(*s, &end, 10);
    if (end == *s || errno != 0 || (*end != '\0' && *end != ' ' && *end != '\t'))
        return 0;
    *out = v;
    *s = end;
    return 1;
}

static int at_end(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return *s == '\0';
}

/* Parses the values line of a tensor into t. */
static int parse_values(const char *s, fx_tensor *t, int integer)
{
    for (size_t k = 0; k < t->count; k++) {
        char *end;
        errno = 0;
        if (integer) {
            long v = strtol(s, &end, 10);
            if (end == s || errno != 0 || v < INT32_MIN || v > INT32_MAX)
                return 0;
            t->i[k] = (int32_t)v;
        } else {
            float v = strtof(s, &end);
            if (end == s || errno == ERANGE || !isfinite(v))
                return 0;
            t->f[k] = v;
        }
        if (*end != '\0' && *end != ' ' && *end != '\t')
            return 0;
        s = end;
    }
    return at_end(s);
}

/* Loads path into fx; on failure returns 0 with a message naming the file and line in err. */
static int fixture_load(const char *path, fixture *fx, char *err, size_t n_err)
{
    memset(fx, 0, sizeof *fx);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return parse_error(err, n_err, path, 0, "cannot open: %s", strerror(errno));
    char *buf = NULL;
    size_t cap = 0;
    long line = 0;
    int ok = 1, r;
    while (ok && (r = read_line(f, &buf, &cap)) == 1) {
        line++;
        const char *s = buf;
        if (s[0] == '#' || at_end(s))
            continue;
        if (strncmp(s, "config ", 7) == 0) {
            long v[6];
            s += 7;
            for (int k = 0; k < 6 && ok; k++)
                ok = parse_long(&s, &v[k]) && v[k] >= 1 && v[k] <= 100000;
            if (!ok || !at_end(s) || fx->has_config) {
                ok = parse_error(err, n_err, path, line, "malformed or repeated config line");
                break;
            }
            fx->B = (int)v[0], fx->T = (int)v[1], fx->F = (int)v[2];
            fx->H = (int)v[3], fx->L = (int)v[4], fx->C = (int)v[5];
            fx->has_config = 1;
            continue;
        }
        int integer;
        if (strncmp(s, "tensor ", 7) == 0)
            integer = 0, s += 7;
        else if (strncmp(s, "itensor ", 8) == 0)
            integer = 1, s += 8;
        else {
            ok = parse_error(err, n_err, path, line, "unexpected line \"%.40s\"", s);
            break;
        }
        if (fx->n_tensors == MAX_TENSORS) {
            ok = parse_error(err, n_err, path, line, "more than %d tensors", MAX_TENSORS);
            break;
        }
        fx_tensor *t = &fx->t[fx->n_tensors];
        size_t name_len = strcspn(s, " \t");
        long count;
        if (name_len == 0 || name_len >= NAME_LEN) {
            ok = parse_error(err, n_err, path, line, "bad tensor name");
            break;
        }
        memcpy(t->name, s, name_len);
        t->name[name_len] = '\0';
        s += name_len;
        if (!parse_long(&s, &count) || count < 1 || count > 10000000 || !at_end(s)) {
            ok = parse_error(err, n_err, path, line, "bad count for tensor %s", t->name);
            break;
        }
        t->count = (size_t)count;
        if (integer)
            t->i = malloc(t->count * sizeof *t->i);
        else
            t->f = malloc(t->count * sizeof *t->f);
        fx->n_tensors++; /* owns the buffer from here on */
        if (t->i == NULL && t->f == NULL) {
            ok = parse_error(err, n_err, path, line, "out of memory");
            break;
        }
        r = read_line(f, &buf, &cap);
        line++;
        if (r != 1) {
            ok = parse_error(err, n_err, path, line, "missing values of tensor %s", t->name);
            break;
        }
        if (!parse_values(buf, t, integer)) {
            ok = parse_error(err, n_err, path, line, "malformed values of tensor %s (want %zu %s)",
                             t->name, t->count, integer ? "integers" : "finite floats");
            break;
        }
    }
    if (ok && r < 0)
        ok = parse_error(err, n_err, path, line, "read error");
    if (ok && !fx->has_config)
        ok = parse_error(err, n_err, path, line, "no config line");
    free(buf);
    fclose(f);
    if (!ok)
        fixture_free(fx);
    return ok;
}

static const fx_tensor *fixture_get(const fixture *fx, const char *path, const char *name,
                                    size_t count, int integer)
{
    for (int k = 0; k < fx->n_tensors; k++) {
        const fx_tensor *t = &fx->t[k];
        if (strcmp(t->name, name) != 0)
            continue;
        ck_assert_msg(t->count == count, "%s: tensor %s has %zu values, expected %zu", path, name,
                      t->count, count);
        ck_assert_msg(integer ? t->i != NULL : t->f != NULL, "%s: tensor %s should be %s", path,
                      name, integer ? "itensor" : "tensor");
        return t;
    }
    ck_abort_msg("%s: tensor %s missing", path, name);
    return NULL;
}

/* --------------------------------------------------------------------------------------------
 * Comparison. rel = 0: |ours - ref| <= tol; rel = 1: |ours - ref| <= tol * max(|ref|, floor).
 */
static void compare(const char *path, const char *what, size_t n, const float *ours,
                    const float *ref, double tol, int rel)
{
    double worst = -1.0, worst_abs = 0.0;
    size_t at = 0;
    for (size_t k = 0; k < n; k++) {
        double d = fabs((double)ours[k] - (double)ref[k]);
        double scale = rel ? fmax(fabs((double)ref[k]), GRAD_FLOOR) : 1.0;
        double e = isnan(d) ? INFINITY : d / scale;
        if (e > worst) {
            worst = e;
            worst_abs = d;
            at = k;
        }
    }
    fprintf(stderr,
            "  %-14s n=%-4zu worst %s error %.3g (abs %.3g) at [%zu]: ours %.9g torch %.9g\n", what,
            n, rel ? "scaled" : "abs", worst, worst_abs, at, (double)ours[at], (double)ref[at]);
    ck_assert_msg(worst <= tol,
                  "%s: %s differs from torch at [%zu]: ours %.9g, torch %.9g (|diff| %.3g, %s "
                  "error %.3g > tolerance %.3g)",
                  path, what, at, (double)ours[at], (double)ref[at], worst_abs,
                  rel ? "scaled" : "abs", worst, tol);
}

/* The parameter block's layout must be the one the fixtures are written in. */
static void check_layout(const char *path, const aifx_net *net, int F, int H, int L, int C)
{
    size_t expect = 0, off;
    int rows, cols;
    for (int l = 0; l < L; l++) {
        int n_in = l == 0 ? F : H;
        const struct {
            aifx_tensor which;
            const char *name;
            int rows, cols;
        } want[3] = {{AIFX_TENSOR_LSTM_W_IH, "W_ih", 4 * H, n_in},
                     {AIFX_TENSOR_LSTM_W_HH, "W_hh", 4 * H, H},
                     {AIFX_TENSOR_LSTM_B, "b", 4 * H, 1}};
        for (int k = 0; k < 3; k++) {
            ck_assert_msg(aifx_net_tensor(net, want[k].which, l, &off, &rows, &cols) == AIFX_OK,
                          "%s: aifx_net_tensor(%s, layer %d) failed", path, want[k].name, l);
            ck_assert_msg(off == expect && rows == want[k].rows && cols == want[k].cols,
                          "%s: layer %d %s at offset %zu (%d x %d), expected %zu (%d x %d)", path,
                          l, want[k].name, off, rows, cols, expect, want[k].rows, want[k].cols);
            expect += (size_t)want[k].rows * (size_t)want[k].cols;
        }
    }
    ck_assert_int_eq(aifx_net_tensor(net, AIFX_TENSOR_DENSE_W, 0, &off, &rows, &cols), AIFX_OK);
    ck_assert_msg(off == expect && rows == C && cols == H,
                  "%s: dense W at offset %zu (%d x %d), expected %zu (%d x %d)", path, off, rows,
                  cols, expect, C, H);
    expect += (size_t)C * (size_t)H;
    ck_assert_int_eq(aifx_net_tensor(net, AIFX_TENSOR_DENSE_B, 0, &off, &rows, &cols), AIFX_OK);
    ck_assert_msg(off == expect && rows == C && cols == 1,
                  "%s: dense b at offset %zu (%d x %d), expected %zu (%d x 1)", path, off, rows,
                  cols, expect, C);
    expect += (size_t)C;
    ck_assert_msg(aifx_net_n_params(net) == expect, "%s: %zu parameters, layout sums to %zu", path,
                  aifx_net_n_params(net), expect);
}

/* _i = fixture * AIFX_KPATH_COUNT + kernel path: every fixture on every path the CPU runs */
START_TEST(test_torch_parity)
{
    char path[1024], err[512];
    const int kpath = _i % AIFX_KPATH_COUNT;
    if (!kpath_enter(kpath))
        return;
    snprintf(path, sizeof path, "%s/%s", AIFX_TEST_FIXTURES, fixture_files[_i / AIFX_KPATH_COUNT]);
    fixture fx;
    ck_assert_msg(fixture_load(path, &fx, err, sizeof err), "%s", err);
    fprintf(stderr, "%s (kernel path %s)\n", path, kpath_names[kpath]);

    const int B = fx.B, T = fx.T, F = fx.F, H = fx.H, L = fx.L, C = fx.C;
    ck_assert_msg(L <= AIFX_MAX_LAYERS, "%s: %d layers", path, L);
    const size_t n_x = (size_t)B * T * F;

    aifx_net_config cfg = aifx_net_config_default();
    cfg.n_in = F;
    cfg.n_steps = T;
    cfg.n_layers = L;
    cfg.n_hidden = H;
    cfg.n_classes = C;
    cfg.max_batch = B;
    cfg.dropout = 0.0f;
    aifx_net *net = NULL;
    ck_assert_int_eq(aifx_net_new(&cfg, &net), AIFX_OK);
    const size_t n = aifx_net_n_params(net);
    check_layout(path, net, F, H, L, C);

    const fx_tensor *x = fixture_get(&fx, path, "x", n_x, 0);
    const fx_tensor *labels = fixture_get(&fx, path, "labels", (size_t)B, 1);
    const fx_tensor *cw = fixture_get(&fx, path, "class_weights", (size_t)C, 0);
    const fx_tensor *params0 = fixture_get(&fx, path, "params0", n, 0);
    for (int b = 0; b < B; b++)
        ck_assert_msg(labels->i[b] >= 0 && labels->i[b] < C, "%s: label %d out of range", path,
                      (int)labels->i[b]);

    float *params = aifx_net_params(net);
    float *grads = aifx_net_grads(net);
    ck_assert_ptr_nonnull(params);
    ck_assert_ptr_nonnull(grads);
    memcpy(params, params0->f, n * sizeof *params);

    float *probs = malloc((size_t)B * C * sizeof *probs);   /* (B, C) */
    float *h_last = malloc((size_t)B * H * sizeof *h_last); /* (B, H) */
    float *seq = malloc((size_t)B * T * H * sizeof *seq);   /* (B, T, H) */
    float *dx = malloc(n_x * sizeof *dx);                   /* (B, T, F) */
    ck_assert(probs != NULL && h_last != NULL && seq != NULL && dx != NULL);

    float loss = NAN;
    ck_assert_int_eq(aifx_net_forward(net, B, x->f, NULL, probs, h_last, seq), AIFX_OK);
    ck_assert_int_eq(aifx_net_backward(net, labels->i, cw->f, &loss, dx), AIFX_OK);

    compare(path, "probs", (size_t)B * C, probs,
            fixture_get(&fx, path, "probs", (size_t)B * C, 0)->f, TOL_FWD, 0);
    compare(path, "loss", 1, &loss, fixture_get(&fx, path, "loss", 1, 0)->f, TOL_FWD, 0);
    /* the inference path (its own packed recurrent product for B > 1) against the same probs */
    ck_assert_int_eq(aifx_net_predict(net, B, x->f, probs, NULL), AIFX_OK);
    compare(path, "predict", (size_t)B * C, probs,
            fixture_get(&fx, path, "probs", (size_t)B * C, 0)->f, TOL_FWD, 0);
    /* batch 1, one sequence per call (on the packed path: the fused batch-1 step) */
    for (int b = 0; b < B; b++)
        ck_assert_int_eq(
            aifx_net_predict(net, 1, x->f + (size_t)b * T * F, probs + (size_t)b * C, NULL),
            AIFX_OK);
    compare(path, "predict batch 1", (size_t)B * C, probs,
            fixture_get(&fx, path, "probs", (size_t)B * C, 0)->f, TOL_FWD, 0);
    compare(path, "h_last", (size_t)B * H, h_last,
            fixture_get(&fx, path, "h_last", (size_t)B * H, 0)->f, TOL_FWD, 0);
    compare(path, "seq", (size_t)B * T * H, seq,
            fixture_get(&fx, path, "seq", (size_t)B * T * H, 0)->f, TOL_FWD, 0);
    compare(path, "grads", n, grads, fixture_get(&fx, path, "grads", n, 0)->f, TOL_GRAD, 1);
    compare(path, "dx", n_x, dx, fixture_get(&fx, path, "dx", n_x, 0)->f, TOL_GRAD, 1);

    /* Adam on the same batch: each step is forward, backward, step. */
    aifx_adam_config acfg = aifx_adam_config_default();
    acfg.lr = 1e-2f;
    acfg.beta1 = 0.9f;
    acfg.beta2 = 0.999f;
    acfg.eps = 1e-8f;
    acfg.weight_decay = 0.0f;
    aifx_adam *adam = NULL;
    ck_assert_int_eq(aifx_adam_new(n, &acfg, &adam), AIFX_OK);
    for (int k = 1; k <= N_ADAM_STEPS; k++) {
        char name[NAME_LEN];
        ck_assert_int_eq(aifx_net_forward(net, B, x->f, NULL, NULL, NULL, NULL), AIFX_OK);
        ck_assert_int_eq(aifx_net_backward(net, labels->i, cw->f, &loss, NULL), AIFX_OK);
        snprintf(name, sizeof name, "loss_step%d", k);
        compare(path, name, 1, &loss, fixture_get(&fx, path, name, 1, 0)->f, TOL_FWD, 0);
        ck_assert_int_eq(aifx_adam_step(adam, params, grads), AIFX_OK);
        snprintf(name, sizeof name, "params_step%d", k);
        compare(path, name, n, params, fixture_get(&fx, path, name, n, 0)->f, TOL_PARAMS, 0);
    }

    aifx_adam_free(adam);
    free(probs);
    free(h_last);
    free(seq);
    free(dx);
    aifx_net_free(net);
    fixture_free(&fx);
    kpath_leave();
}
END_TEST

/* The loader must reject what it cannot read, naming the file, so a broken fixture cannot
 * pass silently. */
START_TEST(test_fixture_loader_rejects)
{
    static const char *const bad[] = {
        "config 4 5 6 7 1\n",                       /* five ints */
        "config 4 5 6 7 1 3\ntensor x 3\n1 2\n",    /* too few values */
        "config 4 5 6 7 1 3\ntensor x 2\n1 2 3\n",  /* too many values */
        "config 4 5 6 7 1 3\ntensor x 2\n1 zz\n",   /* not a number */
        "config 4 5 6 7 1 3\ntensor x 2\n",         /* values line missing */
        "config 4 5 6 7 1 3\nitensor y 2\n1 2.5\n", /* not an integer */
        "config 4 5 6 7 1 3\nwhat 1\n",             /* unknown line */
        "# only a comment\n",                       /* no config */
    };
    char path[64], err[512];
    fixture fx;
    snprintf(path, sizeof path, "/nonexistent/aifx-parity.txt");
    ck_assert(!fixture_load(path, &fx, err, sizeof err));
    ck_assert_msg(strstr(err, path) != NULL, "message \"%s\" does not name the file", err);
    for (size_t k = 0; k <= sizeof bad / sizeof bad[0]; k++) {
        int good = k == sizeof bad / sizeof bad[0];
        snprintf(path, sizeof path, "/tmp/aifx-parity-XXXXXX");
        int fd = mkstemp(path);
        ck_assert_msg(fd >= 0, "mkstemp: %s", strerror(errno));
        FILE *f = fdopen(fd, "w");
        ck_assert_ptr_nonnull(f);
        fputs(good ? "# c\nconfig 1 2 3 4 1 2\ntensor x 2\n1.5 -2e-3\nitensor y 1\n7" : bad[k], f);
        fclose(f);
        int ok = fixture_load(path, &fx, err, sizeof err);
        remove(path);
        if (good)
            break;
        ck_assert_msg(!ok, "bad fixture %zu was accepted", k);
        ck_assert_msg(strstr(err, path) != NULL, "message \"%s\" does not name the file", err);
    }
    ck_assert_msg(fx.has_config, "%s", err); /* the well-formed file (no final newline) loads */
    ck_assert_int_eq(fx.n_tensors, 2);
    ck_assert(fx.t[0].f[0] == 1.5f && fx.t[0].f[1] == -2e-3f && fx.t[1].i[0] == 7);
    fixture_free(&fx);
}
END_TEST

static Suite *parity_suite(void)
{
    Suite *s = suite_create("parity");
    TCase *tc = tcase_create("torch");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_torch_parity, 0,
                        (int)(sizeof fixture_files / sizeof fixture_files[0]) * AIFX_KPATH_COUNT);
    tcase_add_test(tc, test_fixture_loader_rejects);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(parity_suite)
