/*
 * check_drift.c - drift statistics (trainer/market/drift.c) against NumPy and SciPy:
 *  - fixtures/drift_cases.txt, written by scripts/gen_drift_fixtures.py from SciPy 1.10.1 and
 *    NumPy 1.24.2: ks_2samp(method='auto') on small samples (exact, equal and unequal sizes),
 *    ties, identical samples, disjoint supports, and generated samples up to 30,000 rows
 *    (exact to 10,000, asymptotic above); kstwo.sf over every branch of _kolmogn; smirnov;
 *    wasserstein_distance; the reference summary (mean, np.std, quantiles); PSI with
 *    Evidently's empty-bin fill; chi2.sf; chisquare on class counts. Tolerances: statistics
 *    (D, W, mean, sd, quantiles, PSI, chi2) 1e-12 relative; p-values 1e-10 relative (SciPy's
 *    own floating-point algorithms are reproduced operation for operation where they are
 *    exact, and computed in long double where SciPy uses double-double arithmetic, so the
 *    code measures about 1e-13: the worst is printed).
 *  - the sketch of a large reference: its error bounds hold (KS within 1/(2K), normed
 *    Wasserstein within stat_err) on shifted and scaled currents;
 *  - Evidently's verdict rules: KS at <= 1000 reference rows with p <= 0.05, normed
 *    Wasserstein >= 0.1 above, few-values columns, the dataset share >= 0.5, prediction drift;
 *  - the error paths a caller can reach.
 */
#define _POSIX_C_SOURCE 200809L /* getline */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check_main.h"
#include "market/drift.h"

#define FIX      TRAINER_FIXTURES
#define REL_STAT 1e-12
#define REL_P    1e-10

static double worst_stat, worst_p;

/* got == want within rel (relative), exact for 0, infinities and NAN. */
static void near(int line, const char *what, double got, double want, double rel)
{
    if (isnan(want)) {
        ck_assert_msg(isnan(got), "line %d %s: got %.17g, want nan", line, what, got);
        return;
    }
    if (want == 0.0 || isinf(want)) {
        ck_assert_msg(got == want || fabs(got) < 1e-300, "line %d %s: got %.17g, want %.17g", line,
                      what, got, want);
        return;
    }
    double e = fabs(got - want) / fabs(want);
    ck_assert_msg(e <= rel, "line %d %s: got %.17g, want %.17g (rel %.3g)", line, what, got, want,
                  e);
    double *w = rel == REL_P ? &worst_p : &worst_stat;
    if (e > *w)
        *w = e;
}

/* ---- The generator shared with gen_drift_fixtures.py ----------------------------------------- */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double *gen_sample(uint64_t seed, size_t n, double shift, double scale, double grid)
{
    double *x = malloc(n * sizeof *x);
    ck_assert_ptr_nonnull(x);
    uint64_t state = seed;
    for (size_t i = 0; i < n; i++) {
        double s = 0.0;
        for (int k = 0; k < 4; k++)
            s += (double)(splitmix64(&state) >> 11) * (1.0 / 9007199254740992.0);
        double v = shift + scale * (s - 2.0);
        x[i] = grid > 0 ? floor(v / grid) * grid : v;
    }
    return x;
}

/* ---- Fixture --------------------------------------------------------------------------------- */

static double num(char **p, int line)
{
    char *end;
    double v = strtod(*p, &end);
    ck_assert_msg(end != *p, "fixture line %d: number missing", line);
    *p = end;
    return v;
}

static double *nums(char **p, size_t n, int line)
{
    double *x = malloc((n ? n : 1) * sizeof *x);
    ck_assert_ptr_nonnull(x);
    for (size_t i = 0; i < n; i++)
        x[i] = num(p, line);
    return x;
}

static double *gen_from(char **p, size_t *n, int line)
{
    uint64_t seed = (uint64_t)num(p, line);
    *n = (size_t)num(p, line);
    double shift = num(p, line), scale = num(p, line), grid = num(p, line);
    return gen_sample(seed, *n, shift, scale, grid);
}

static void check_ks(const double *a, size_t n1, const double *b, size_t n2, char *p, int line)
{
    double d = num(&p, line), pv = num(&p, line);
    int exact = (int)num(&p, line);
    tr_drift_ks ks;
    ck_assert_int_eq(tr_drift_ks_2samp(a, n1, b, n2, &ks, NULL), TR_OK);
    near(line, "D", ks.d, d, REL_STAT);
    near(line, "p", ks.p, pv, REL_P);
    ck_assert_int_eq(ks.exact, exact);
    /* symmetric in the two samples */
    tr_drift_ks sk;
    ck_assert_int_eq(tr_drift_ks_2samp(b, n2, a, n1, &sk, NULL), TR_OK);
    ck_assert_double_eq(sk.d, ks.d);
    near(line, "p swapped", sk.p, pv, REL_P);
}

enum { K_KS, K_KSGEN, K_KSTWO, K_SMIRNOV, K_WD, K_WDGEN, K_REF, K_PSI, K_CHI2, K_PRED, N_KINDS };
static const char *const kind_name[N_KINDS] = {"ks",    "ksgen", "kstwo", "smirnov", "wd",
                                               "wdgen", "ref",   "psi",   "chi2sf",  "pred"};

START_TEST(test_fixture)
{
    FILE *f = fopen(FIX "/drift_cases.txt", "r");
    ck_assert_msg(f != NULL, "cannot open " FIX "/drift_cases.txt");
    char *buf = NULL;
    size_t cap = 0;
    int count[N_KINDS] = {0}, line = 0;
    while (getline(&buf, &cap, f) > 0) {
        line++;
        char kind[16];
        int used = 0;
        if (buf[0] == '#' || sscanf(buf, "%15s%n", kind, &used) != 1)
            continue;
        char *p = buf + used;
        int k = -1;
        for (int i = 0; i < N_KINDS; i++)
            if (strcmp(kind, kind_name[i]) == 0)
                k = i;
        ck_assert_msg(k >= 0, "fixture line %d: unknown kind %s", line, kind);
        count[k]++;
        switch (k) {
        case K_KS:
        case K_WD: {
            size_t n1 = (size_t)num(&p, line), n2 = (size_t)num(&p, line);
            double *a = nums(&p, n1, line), *b = nums(&p, n2, line);
            if (k == K_KS) {
                check_ks(a, n1, b, n2, p, line);
            } else {
                double w;
                ck_assert_int_eq(tr_drift_wasserstein(a, n1, b, n2, &w, NULL), TR_OK);
                near(line, "W", w, num(&p, line), REL_STAT);
            }
            free(a), free(b);
            break;
        }
        case K_KSGEN:
        case K_WDGEN: {
            size_t n1, n2;
            double *a = gen_from(&p, &n1, line), *b = gen_from(&p, &n2, line);
            if (k == K_KSGEN) {
                check_ks(a, n1, b, n2, p, line);
            } else {
                double w;
                ck_assert_int_eq(tr_drift_wasserstein(a, n1, b, n2, &w, NULL), TR_OK);
                near(line, "W", w, num(&p, line), REL_STAT);
            }
            free(a), free(b);
            break;
        }
        case K_KSTWO: {
            int n = (int)num(&p, line);
            double x = num(&p, line);
            near(line, "kstwo.sf", tr_drift_kstwo_sf(x, n), num(&p, line), REL_P);
            break;
        }
        case K_SMIRNOV: {
            int n = (int)num(&p, line);
            double e = num(&p, line);
            near(line, "smirnov", tr_drift_smirnov(n, e), num(&p, line), REL_P);
            break;
        }
        case K_REF: {
            size_t n = (size_t)num(&p, line);
            double *x = nums(&p, n, line);
            tr_drift_ref *r = malloc(sizeof *r);
            ck_assert_ptr_nonnull(r);
            ck_assert_int_eq(tr_drift_ref_build(x, n, r, NULL), TR_OK);
            ck_assert_uint_eq(r->n, n);
            near(line, "mean", r->mean, num(&p, line), REL_STAT);
            near(line, "sd", r->sd, num(&p, line), REL_STAT);
            ck_assert_double_eq(r->min, num(&p, line));
            ck_assert_double_eq(r->max, num(&p, line));
            for (int q = 0; q < TR_DRIFT_DECILES; q++)
                near(line, "decile", r->decile[q], num(&p, line), REL_STAT);
            ck_assert_int_eq(r->n_sketch, (int)n); /* <= 1000: the whole sample */
            ck_assert_double_eq(r->sketch_w1, 0.0);
            free(r), free(x);
            break;
        }
        case K_PSI: {
            size_t nr = (size_t)num(&p, line), nc = (size_t)num(&p, line);
            double *a = nums(&p, nr, line), *b = nums(&p, nc, line);
            tr_drift_ref *r = malloc(sizeof *r);
            ck_assert_ptr_nonnull(r);
            ck_assert_int_eq(tr_drift_ref_build(a, nr, r, NULL), TR_OK);
            tr_drift_psi psi;
            ck_assert_int_eq(tr_drift_psi_compute(r, b, nc, &psi, NULL), TR_OK);
            near(line, "psi", psi.psi, num(&p, line), REL_STAT);
            for (int i = 0; i < TR_DRIFT_BINS; i++)
                near(line, "ref share", psi.ref_share[i], num(&p, line), REL_STAT);
            for (int i = 0; i < TR_DRIFT_BINS; i++)
                near(line, "cur share", psi.cur_share[i], num(&p, line), REL_STAT);
            free(r), free(a), free(b);
            break;
        }
        case K_CHI2: {
            double x = num(&p, line);
            int df = (int)num(&p, line);
            near(line, "chi2.sf", tr_drift_chi2_sf(x, df), num(&p, line), REL_P);
            break;
        }
        case K_PRED: {
            int nk = (int)num(&p, line);
            size_t rc[TR_DRIFT_MAX_CLASSES], cc[TR_DRIFT_MAX_CLASSES];
            for (int i = 0; i < nk; i++)
                rc[i] = (size_t)num(&p, line);
            for (int i = 0; i < nk; i++)
                cc[i] = (size_t)num(&p, line);
            tr_drift_pred pr;
            ck_assert_int_eq(tr_drift_predictions(rc, cc, nk, 0.05, &pr, NULL), TR_OK);
            near(line, "chi2", pr.chi2, num(&p, line), REL_STAT);
            double pv = num(&p, line);
            near(line, "p", pr.p, pv, REL_P);
            ck_assert_int_eq(pr.drift, pv < 0.05);
            break;
        }
        }
    }
    free(buf);
    fclose(f);
    static const int at_least[N_KINDS] = {18, 11, 37, 10, 5, 3, 5, 5, 17, 6};
    for (int i = 0; i < N_KINDS; i++)
        ck_assert_msg(count[i] >= at_least[i], "fixture: %d %s cases, want %d", count[i],
                      kind_name[i], at_least[i]);
    printf("drift fixture: %d lines; worst relative error: statistics %.2g, p-values %.2g\n", line,
           worst_stat, worst_p);
}
END_TEST

/* ---- The sketch ------------------------------------------------------------------------------ */

START_TEST(test_sketch_bounds)
{
    size_t n = 20000;
    double *x = gen_sample(101, n, 0.0, 1.0, 0.0);
    tr_drift_ref *r = malloc(sizeof *r);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(tr_drift_ref_build(x, n, r, NULL), TR_OK);
    ck_assert_int_eq(r->n_sketch, TR_DRIFT_SKETCH);
    for (int i = 1; i < r->n_sketch; i++)
        ck_assert(r->sketch[i - 1] <= r->sketch[i]);
    ck_assert(r->sketch_w1 > 0.0 && r->sketch_w1 < 0.01 * r->sd);
    double w_full;
    ck_assert_int_eq(tr_drift_wasserstein(x, n, r->sketch, TR_DRIFT_SKETCH, &w_full, NULL), TR_OK);
    ck_assert_double_eq_tol(r->sketch_w1, w_full, 1e-15);
    /* the bin shares of a continuous sample are the deciles' 10 % each */
    for (int b = 0; b < TR_DRIFT_BINS; b++)
        ck_assert_double_eq_tol(r->bin_share[b], 0.1, 1.0 / (double)n);
    tr_drift_opts o = tr_drift_opts_default();
    const double shifts[4] = {0.0, 0.05, 0.2, 1.0}, scales[3] = {1.0, 0.5, 3.0};
    for (int s = 0; s < 4; s++)
        for (int c = 0; c < 3; c++) {
            size_t m = 3000;
            double *y = gen_sample(200 + (uint64_t)(s * 3 + c), m, shifts[s], scales[c], 0.0);
            tr_drift_feature f;
            ck_assert_int_eq(tr_drift_feature_test(r, y, m, &o, &f, NULL), TR_OK);
            ck_assert_int_eq(f.method, TR_DRIFT_WASSERSTEIN);
            double w;
            ck_assert_int_eq(tr_drift_wasserstein(x, n, y, m, &w, NULL), TR_OK);
            ck_assert_msg(fabs(f.stat - w / r->sd) <= f.stat_err + 1e-15,
                          "normed W %.6g vs full %.6g, bound %.3g", f.stat, w / r->sd, f.stat_err);
            ck_assert_int_eq(f.drift, f.stat >= 0.1);
            /* KS against the sketch: within 1/(2K) of KS against the whole reference */
            tr_drift_ks full, sk;
            ck_assert_int_eq(tr_drift_ks_2samp(x, n, y, m, &full, NULL), TR_OK);
            ck_assert_int_eq(tr_drift_ks_2samp(r->sketch, TR_DRIFT_SKETCH, y, m, &sk, NULL), TR_OK);
            ck_assert_msg(fabs(full.d - sk.d) <= 0.5 / TR_DRIFT_SKETCH + 1e-15, "D %.6g vs %.6g",
                          sk.d, full.d);
            free(y);
        }
    ck_assert_int_eq(tr_drift_ref_build(x, n, r, NULL), TR_OK); /* deterministic */
    tr_drift_ref *r2 = malloc(sizeof *r2);
    ck_assert_ptr_nonnull(r2);
    ck_assert_int_eq(tr_drift_ref_build(x, n, r2, NULL), TR_OK);
    ck_assert(memcmp(r->sketch, r2->sketch, sizeof r->sketch) == 0);
    free(r2), free(r), free(x);
}
END_TEST

/* ---- Verdicts -------------------------------------------------------------------------------- */

START_TEST(test_method_choice)
{
    tr_drift_opts o = tr_drift_opts_default();
    tr_drift_ref *r = malloc(sizeof *r);
    ck_assert_ptr_nonnull(r);
    double *x = gen_sample(7, 1001, 0.0, 1.0, 0.0);
    double *same = gen_sample(8, 400, 0.0, 1.0, 0.0), *moved = gen_sample(9, 400, 0.3, 1.0, 0.0);
    tr_drift_feature f;
    /* 1000 reference rows: KS on the whole reference, drift when p <= 0.05 */
    ck_assert_int_eq(tr_drift_ref_build(x, 1000, r, NULL), TR_OK);
    ck_assert_int_eq(tr_drift_feature_test(r, same, 400, &o, &f, NULL), TR_OK);
    ck_assert_int_eq(f.method, TR_DRIFT_KS);
    tr_drift_ks ks;
    ck_assert_int_eq(tr_drift_ks_2samp(x, 1000, same, 400, &ks, NULL), TR_OK);
    ck_assert_double_eq(f.stat, ks.d);
    ck_assert_double_eq(f.p, ks.p);
    ck_assert_double_eq(f.stat_err, 0.0);
    ck_assert_int_eq(f.drift, 0);
    ck_assert_int_eq(tr_drift_feature_test(r, moved, 400, &o, &f, NULL), TR_OK);
    ck_assert(f.p < 1e-4);
    ck_assert_int_eq(f.drift, 1);
    /* the boundary is p <= alpha: alpha set to this very p still drifts */
    o.ks_alpha = f.p;
    ck_assert_int_eq(tr_drift_feature_test(r, moved, 400, &o, &f, NULL), TR_OK);
    ck_assert_int_eq(f.drift, 1);
    o.ks_alpha = f.p / 2;
    ck_assert_int_eq(tr_drift_feature_test(r, moved, 400, &o, &f, NULL), TR_OK);
    ck_assert_int_eq(f.drift, 0);
    o = tr_drift_opts_default();
    /* 1001 rows: normed Wasserstein, W / np.std(ref) */
    ck_assert_int_eq(tr_drift_ref_build(x, 1001, r, NULL), TR_OK);
    ck_assert_int_eq(tr_drift_feature_test(r, moved, 400, &o, &f, NULL), TR_OK);
    ck_assert_int_eq(f.method, TR_DRIFT_WASSERSTEIN);
    ck_assert(isnan(f.p));
    ck_assert(f.stat > 0.1 && f.drift == 1);
    ck_assert_int_eq(tr_drift_feature_test(r, same, 400, &o, &f, NULL), TR_OK);
    ck_assert(f.stat < 0.1 && f.drift == 0);
    /* a constant reference: the norm is 0.001, not 0 */
    double flat[1200], near_flat[10];
    for (int i = 0; i < 1200; i++)
        flat[i] = i % 7;
    for (int i = 0; i < 10; i++)
        near_flat[i] = 3.0 + 0.0001 * i;
    ck_assert_int_eq(tr_drift_ref_build(flat, 1200, r, NULL), TR_OK);
    ck_assert_uint_eq(r->n_distinct, 7);
    for (int i = 0; i < 1200; i++)
        flat[i] = 2.0;
    ck_assert_int_eq(tr_drift_ref_build(flat, 1200, r, NULL), TR_OK);
    ck_assert_double_eq(r->sd, 0.0);
    ck_assert_int_eq(tr_drift_feature_test(r, near_flat, 10, &o, &f, NULL), TR_OK);
    ck_assert_int_eq(f.method, TR_DRIFT_WASSERSTEIN);
    ck_assert_double_eq_tol(f.stat, (1.0 + 0.00045) / 0.001, 1e-9);
    free(x), free(same), free(moved), free(r);
}
END_TEST

START_TEST(test_few_values_and_psi)
{
    tr_drift_opts o = tr_drift_opts_default();
    tr_drift_ref *r = malloc(sizeof *r);
    ck_assert_ptr_nonnull(r);
    double ref[500], cur[100];
    for (int i = 0; i < 500; i++)
        ref[i] = i % 3;
    for (int i = 0; i < 100; i++)
        cur[i] = 2.0;
    ck_assert_int_eq(tr_drift_ref_build(ref, 500, r, NULL), TR_OK);
    tr_drift_feature f;
    ck_assert_int_eq(tr_drift_feature_test(r, cur, 100, &o, &f, NULL), TR_OK);
    ck_assert_int_eq(f.method, TR_DRIFT_FEW_VALUES);
    ck_assert_int_eq(f.drift, 0);
    ck_assert(isnan(f.stat));
    ck_assert(f.psi > 1.0 && f.psi_drift == 1); /* PSI still speaks */
    /* 6 distinct values in total: tested */
    for (int i = 0; i < 100; i++)
        cur[i] = 3.0 + i % 3;
    ck_assert_int_eq(tr_drift_feature_test(r, cur, 100, &o, &f, NULL), TR_OK);
    ck_assert_int_eq(f.method, TR_DRIFT_KS);
    ck_assert_double_eq(f.stat, 1.0);
    ck_assert_int_eq(f.drift, 1);
    ck_assert_str_eq(tr_drift_method_text(TR_DRIFT_FEW_VALUES), "few-values");
    ck_assert_str_eq(tr_drift_method_text(TR_DRIFT_WASSERSTEIN), "wasserstein");
    free(r);
}
END_TEST

START_TEST(test_dataset_share)
{
    /* 4 features, 1200 reference rows each (Wasserstein); features 0..k-1 of the window moved */
    enum { NF = 4, NR = 1200, NC = 300 };
    tr_drift_ref *refs = malloc(NF * sizeof *refs);
    double *rows = malloc(NC * NF * sizeof *rows);
    ck_assert(refs != NULL && rows != NULL);
    for (int j = 0; j < NF; j++) {
        double *x = gen_sample(40 + (uint64_t)j, NR, 0.0, 1.0 + j, 0.0);
        ck_assert_int_eq(tr_drift_ref_build(x, NR, &refs[j], NULL), TR_OK);
        free(x);
    }
    tr_drift_opts o = tr_drift_opts_default();
    for (int moved = 0; moved <= NF; moved++) {
        for (int j = 0; j < NF; j++) {
            double *y =
                gen_sample(60 + (uint64_t)j, NC, j < moved ? 0.5 * (1.0 + j) : 0.0, 1.0 + j, 0.0);
            for (int i = 0; i < NC; i++)
                rows[i * NF + j] = y[i];
            free(y);
        }
        rows[5 * NF + 1] = NAN; /* left out of feature 1 */
        tr_drift_feature out[NF];
        tr_drift_dataset ds;
        ck_assert_int_eq(tr_drift_dataset_test(refs, NF, rows, NC, &o, out, &ds, NULL), TR_OK);
        ck_assert_uint_eq(out[1].n_cur, NC - 1);
        ck_assert_uint_eq(out[0].n_cur, NC);
        ck_assert_int_eq(ds.n_drifted, moved);
        ck_assert_double_eq(ds.share, moved / 4.0);
        ck_assert_int_eq(ds.drift, moved >= 2); /* share >= 0.5 */
    }
    for (int i = 0; i < NC; i++)
        rows[i * NF + 2] = NAN;
    tr_drift_feature out[NF];
    tr_drift_dataset ds;
    tr_error e;
    ck_assert_int_eq(tr_drift_dataset_test(refs, NF, rows, NC, &o, out, &ds, &e), TR_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.msg, "feature 2"));
    free(refs), free(rows);
}
END_TEST

START_TEST(test_predictions)
{
    size_t ref[3] = {300, 280, 420}, cur[3] = {0, 0, 50};
    tr_drift_pred p;
    ck_assert_int_eq(tr_drift_predictions(ref, cur, 3, 0.05, &p, NULL), TR_OK);
    ck_assert_int_eq(p.drift, 1);
    ck_assert_double_eq(p.cur_share[2], 1.0);
    /* a class the reference never predicted */
    size_t r2[3] = {500, 0, 500}, c2[3] = {10, 1, 10};
    ck_assert_int_eq(tr_drift_predictions(r2, c2, 3, 0.05, &p, NULL), TR_OK);
    ck_assert(isinf(p.chi2) && p.p == 0.0 && p.drift == 1);
    /* one class on both sides */
    size_t r3[3] = {0, 0, 9}, c3[3] = {0, 0, 4};
    ck_assert_int_eq(tr_drift_predictions(r3, c3, 3, 0.05, &p, NULL), TR_OK);
    ck_assert(p.chi2 == 0.0 && p.p == 1.0 && p.drift == 0 && p.df == 0);
    /* errors */
    tr_error e;
    ck_assert_int_eq(tr_drift_predictions(ref, cur, 1, 0.05, &p, &e), TR_ERR_INVALID);
    ck_assert_int_eq(tr_drift_predictions(ref, cur, 3, 0.0, &p, &e), TR_ERR_INVALID);
    size_t zero[3] = {0, 0, 0};
    ck_assert_int_eq(tr_drift_predictions(ref, zero, 3, 0.05, &p, &e), TR_ERR_INVALID);
}
END_TEST

START_TEST(test_errors)
{
    tr_error e;
    tr_drift_ref *r = malloc(sizeof *r);
    ck_assert_ptr_nonnull(r);
    double x[3] = {1.0, NAN, 2.0}, y[2] = {1.0, 2.0};
    ck_assert_int_eq(tr_drift_ref_build(x, 0, r, &e), TR_ERR_INVALID);
    ck_assert_int_eq(tr_drift_ref_build(x, 3, r, &e), TR_ERR_INVALID);
    tr_drift_ks ks;
    ck_assert_int_eq(tr_drift_ks_2samp(x, 3, y, 2, &ks, &e), TR_ERR_INVALID);
    ck_assert_int_eq(tr_drift_ks_2samp(y, 2, y, 0, &ks, &e), TR_ERR_INVALID);
    double w;
    ck_assert_int_eq(tr_drift_wasserstein(x, 3, y, 2, &w, &e), TR_ERR_INVALID);
    ck_assert(isnan(w));
    ck_assert_int_eq(tr_drift_ref_build(y, 2, r, NULL), TR_OK);
    tr_drift_opts o = tr_drift_opts_default();
    tr_drift_feature f;
    ck_assert_int_eq(tr_drift_feature_test(r, x, 3, &o, &f, &e), TR_ERR_INVALID);
    ck_assert_int_eq(tr_drift_feature_test(r, y, 0, &o, &f, &e), TR_ERR_INVALID);
    o.drift_share = 0.0;
    ck_assert_int_eq(tr_drift_feature_test(r, y, 2, &o, &f, &e), TR_ERR_INVALID);
    tr_drift_psi psi;
    ck_assert_int_eq(tr_drift_psi_compute(r, x, 3, &psi, &e), TR_ERR_INVALID);
    ck_assert(isnan(tr_drift_kstwo_sf(0.5, 0)));
    ck_assert(isnan(tr_drift_chi2_sf(1.0, 0)));
    ck_assert(isnan(tr_drift_smirnov(5, 1.5)));
    free(r);
}
END_TEST

static Suite *drift_suite(void)
{
    Suite *s = suite_create("drift");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_fixture);
    tcase_add_test(tc, test_sketch_bounds);
    tcase_add_test(tc, test_method_choice);
    tcase_add_test(tc, test_few_values_and_psi);
    tcase_add_test(tc, test_dataset_share);
    tcase_add_test(tc, test_predictions);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(drift_suite)
