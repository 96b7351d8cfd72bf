/*
 * check_abstat.c - the A/B statistics (trainer/abstat.c) against independent references:
 *  - fixtures/abstat_cases.txt, written by gen_abstat.py from SciPy 1.10 (norm, t, ttest_ind,
 *    ttest_ind_from_stats) and the textbook formulas, each value cross-checked there against a
 *    50-digit mpmath computation (worst SciPy/mpmath difference 1e-13): Phi, Phi^-1 down to 1e-308,
 *    the t CDF, z-tests, Welch tests (summary figures and raw trades), sample sizes, with the
 *    edge-case conventions of abstat.h. Tolerance: 1e-9 relative (absolute 1e-14 beside values of
 *    order one that are 0), on every figure including p-values down to 1e-268: the code measures
 *    about 1e-13 (the report below prints the worst), so 1e-9 leaves room for another libm's erfc
 *    and log1p while still catching any error of formula, branch or convention.
 *  - published group-sequential figures: Lan-DeMets O'Brien-Fleming-type boundaries for 5 equal
 *    looks at two-sided 0.05, 4.877 3.357 2.680 2.290 2.031 (DeMets & Lan 1994; R ldbounds,
 *    gsDesign sfLDOF; rounded, so within 0.005), and 2.963 1.969 for 2 looks; the overall
 *    level of repeated 1.96 tests, 0.083 / 0.142 / 0.193 at 2 / 5 / 10 looks (Armitage, McPherson
 *    & Rowe 1969; Jennison & Turnbull 2000, table 1.1); Pocock's 2.413 and O'Brien-Fleming's
 *    2.040 for 5 looks (Jennison & Turnbull tables 2.1, 2.3) spending 0.05.
 *  - Monte Carlo: 200,000 seeded Brownian paths observed at the looks: the boundaries' crossing
 *    rate is 0.05 within 3 sigma at equal and unequal looks, and 1.96 at every look gives 0.142;
 *    2,000 simulated A/B tests under H0 through tr_ab_decide stay within alpha while "Welch
 *    p < 0.05 at any look" does not.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check_main.h"
#include "aifxnn.h"
#include "market/abstat.h"

#define FIX           TRAINER_FIXTURES
#define REL           1e-9
#define ABS_NEAR_ZERO 1e-14

/* ---- Fixture --------------------------------------------------------------------------------- */

enum { K_CDF, K_PPF, K_TCDF, K_Z, K_WELCH, K_NPROP, K_NMEAN, K_RAW, N_KINDS };
static const char *const kind_name[N_KINDS] = {"cdf",   "ppf",   "tcdf",  "z",
                                               "welch", "nprop", "nmean", "raw"};
static double worst[N_KINDS];

/* got == want within REL relative (abs_floor absolute); NAN and infinities must match exactly. */
static void near(int kind, int line, const char *what, double got, double want, double abs_floor)
{
    if (isnan(want)) {
        ck_assert_msg(isnan(got), "line %d %s: got %.17g, want nan", line, what, got);
        return;
    }
    if (isinf(want) || want == 0.0) {
        ck_assert_msg(fabs(got - want) <= abs_floor || got == want,
                      "line %d %s: got %.17g, want %.17g", line, what, got, want);
        return;
    }
    double err = fabs(got - want);
    ck_assert_msg(err <= REL * fabs(want) + abs_floor,
                  "line %d %s: got %.17g, want %.17g (rel %.3g)", line, what, got, want,
                  err / fabs(want));
    if (err / fabs(want) > worst[kind])
        worst[kind] = err / fabs(want);
}

/* Reads n numbers from *p. */
static void nums(const char **p, double *out, int n, int line)
{
    for (int i = 0; i < n; i++) {
        char *end;
        out[i] = strtod(*p, &end);
        ck_assert_msg(end != *p, "fixture line %d: number %d missing", line, i + 1);
        *p = end;
    }
}

static void check_raw(const char *p, int line)
{
    double v, e[11];
    tr_ab_arm arm[2] = {tr_ab_arm_empty(), tr_ab_arm_empty()};
    tr_ab_arm sums[2];
    for (int s = 0; s < 2; s++) {
        double sum = 0.0, sumsq = 0.0;
        nums(&p, &v, 1, line);
        int n = (int)v;
        for (int i = 0; i < n; i++) {
            double x;
            nums(&p, &x, 1, line);
            tr_ab_arm_add(&arm[s], x, x > 0.0);
            sum += x;
            sumsq += x * x;
        }
        sums[s] = tr_ab_arm_from_sums((size_t)n, arm[s].wins, sum, sumsq);
    }
    nums(&p, e, 11, line);
    near(K_RAW, line, "mean A", arm[0].mean, e[0], 0.0);
    near(K_RAW, line, "var A", tr_ab_arm_var(&arm[0]), e[1], 0.0);
    near(K_RAW, line, "mean B", arm[1].mean, e[2], 0.0);
    near(K_RAW, line, "var B", tr_ab_arm_var(&arm[1]), e[3], 0.0);
    ck_assert_uint_eq(arm[0].wins, (size_t)e[4]);
    ck_assert_uint_eq(arm[1].wins, (size_t)e[5]);
    tr_ab_zfigs z;
    tr_ab_tfigs t;
    ck_assert_int_eq(tr_ab_ztest(arm[0].n, arm[0].wins, arm[1].n, arm[1].wins, &z, NULL), TR_OK);
    near(K_RAW, line, "z", z.z, e[6], ABS_NEAR_ZERO);
    near(K_RAW, line, "z p", z.p, e[7], 0.0);
    ck_assert_int_eq(tr_ab_welch(arm[0].n, arm[0].mean, tr_ab_arm_var(&arm[0]), arm[1].n,
                                 arm[1].mean, tr_ab_arm_var(&arm[1]), &t, NULL),
                     TR_OK);
    near(K_RAW, line, "t", t.t, e[8], ABS_NEAR_ZERO);
    near(K_RAW, line, "df", t.df, e[9], 0.0);
    near(K_RAW, line, "t p", t.p, e[10], 0.0);
    /* the raw-sums arm agrees to the digits its cancellation leaves (PnL ~ 1000 +- 0.3: ~1e-7) */
    for (int s = 0; s < 2; s++)
        ck_assert_double_eq_tol(tr_ab_arm_var(&sums[s]), tr_ab_arm_var(&arm[s]),
                                1e-6 * tr_ab_arm_var(&arm[s]));
}

START_TEST(test_fixture)
{
    FILE *f = fopen(FIX "/abstat_cases.txt", "r");
    ck_assert_msg(f != NULL, "cannot open " FIX "/abstat_cases.txt");
    static char buf[1 << 16];
    int count[N_KINDS] = {0}, line = 0;
    while (fgets(buf, sizeof buf, f)) {
        line++;
        ck_assert_msg(strchr(buf, '\n') != NULL, "fixture line %d too long", line);
        char kind[16];
        int used = 0;
        if (buf[0] == '#' || sscanf(buf, "%15s%n", kind, &used) != 1)
            continue;
        const char *p = buf + used;
        double x[12];
        int k = -1;
        for (int i = 0; i < N_KINDS; i++)
            if (strcmp(kind, kind_name[i]) == 0)
                k = i;
        ck_assert_msg(k >= 0, "fixture line %d: unknown kind %s", line, kind);
        count[k]++;
        switch (k) {
        case K_CDF:
            nums(&p, x, 2, line);
            near(k, line, "Phi", tr_ab_norm_cdf(x[0]), x[1], 0.0);
            break;
        case K_PPF:
            nums(&p, x, 2, line);
            near(k, line, "Phi^-1", tr_ab_norm_ppf(x[0]), x[1], ABS_NEAR_ZERO);
            break;
        case K_TCDF:
            nums(&p, x, 3, line);
            near(k, line, "T", tr_ab_t_cdf(x[0], x[1]), x[2], 0.0);
            break;
        case K_Z: {
            nums(&p, x, 8, line);
            tr_ab_zfigs z;
            ck_assert_int_eq(
                tr_ab_ztest((size_t)x[0], (size_t)x[1], (size_t)x[2], (size_t)x[3], &z, NULL),
                TR_OK);
            ck_assert_int_eq(z.ok, (int)x[4]);
            near(k, line, "z", z.z, x[5], ABS_NEAR_ZERO);
            near(k, line, "p", z.p, x[6], 0.0);
            near(k, line, "pooled", z.pooled, x[7], 0.0);
            break;
        }
        case K_WELCH: {
            nums(&p, x, 10, line);
            tr_ab_tfigs t;
            ck_assert_int_eq(
                tr_ab_welch((size_t)x[0], x[1], x[2], (size_t)x[3], x[4], x[5], &t, NULL), TR_OK);
            ck_assert_int_eq(t.ok, (int)x[6]);
            near(k, line, "t", t.t, x[7], ABS_NEAR_ZERO);
            near(k, line, "df", t.df, x[8], 0.0);
            near(k, line, "p", t.p, x[9], 0.0);
            break;
        }
        case K_NPROP:
            nums(&p, x, 5, line);
            near(k, line, "n", tr_ab_n_props(x[0], x[1], x[2], x[3]), x[4], 0.0);
            break;
        case K_NMEAN:
            nums(&p, x, 6, line);
            near(k, line, "n", tr_ab_n_means(x[0], x[1], x[2], x[3], x[4]), x[5], 0.0);
            break;
        case K_RAW:
            check_raw(p, line);
            break;
        }
    }
    fclose(f);
    /* the fixture holds what gen_abstat.py writes: no kind may be silently missing */
    static const int at_least[N_KINDS] = {11, 18, 14, 17, 20, 9, 7, 4};
    printf("abstat fixture: %d lines; worst relative error:", line);
    for (int i = 0; i < N_KINDS; i++) {
        ck_assert_msg(count[i] >= at_least[i], "fixture: %d %s cases, want %d", count[i],
                      kind_name[i], at_least[i]);
        printf(" %s %.2g", kind_name[i], worst[i]);
    }
    printf("\n");
}
END_TEST

/* ---- Distributions --------------------------------------------------------------------------- */

START_TEST(test_ppf_tails)
{
    /* scipy.stats.norm.ppf (equal to a 50-digit mpmath root of Phi to 3e-16) */
    ck_assert_double_eq_tol(tr_ab_norm_ppf(1e-300), -37.047096299361201, 37 * 1e-15);
    ck_assert_double_eq_tol(tr_ab_norm_ppf(1e-10), -6.3613409024040557, 6.4 * 1e-15);
    ck_assert_double_eq(tr_ab_norm_ppf(0.5), 0.0);
    ck_assert_double_eq_tol(tr_ab_norm_ppf(1 - 1e-16), 8.2095361516013874, 8.2 * 1e-15);
    ck_assert_double_eq_tol(tr_ab_norm_ppf(0.975), 1.959963984540054, 2e-15);
    ck_assert(isinf(tr_ab_norm_ppf(0.0)) && tr_ab_norm_ppf(0.0) < 0);
    ck_assert(isinf(tr_ab_norm_ppf(1.0)) && tr_ab_norm_ppf(1.0) > 0);
    ck_assert(isnan(tr_ab_norm_ppf(-0.1)));
    ck_assert(isnan(tr_ab_norm_ppf(1.5)));
    ck_assert(isnan(tr_ab_norm_ppf(NAN)));
    /* round trips through Phi over the three regions of AS 241 */
    for (double p = 1e-300; p < 0.5; p *= 7.3) {
        double x = tr_ab_norm_ppf(p);
        ck_assert_msg(fabs(tr_ab_norm_cdf(x) - p) <= 1e-13 * p * (1 + x * x), "p %g", p);
        if (p > 1e-15) /* symmetric where 1 - p is still below 1 (up to its rounding) */
            ck_assert_double_eq_tol(tr_ab_norm_ppf(1 - p), -x, 1e-15 / p + 1e-15);
    }
}
END_TEST

START_TEST(test_t_and_beta)
{
    /* closed forms: df 1 is Cauchy, T(x) = 1/2 + atan(x)/pi; df 2: 1/2 + x / (2 sqrt(2 + x^2)) */
    for (double x = -50; x <= 50; x += 3.7) {
        ck_assert_double_eq_tol(tr_ab_t_cdf(x, 1.0), 0.5 + atan(x) / 3.14159265358979323846, 1e-14);
        ck_assert_double_eq_tol(tr_ab_t_cdf(x, 2.0), 0.5 + x / (2 * sqrt(2 + x * x)), 1e-14);
    }
    ck_assert_double_eq(tr_ab_t_cdf(-3.0, INFINITY), tr_ab_norm_cdf(-3.0));
    /* large df tends to the normal: |T - Phi| ~ phi(x)(x + x^3)/(4 df) */
    ck_assert_double_eq_tol(tr_ab_t_cdf(-2.0, 1e12), tr_ab_norm_cdf(-2.0), 1e-12);
    ck_assert(isnan(tr_ab_t_cdf(1.0, 0.0)));
    ck_assert(isnan(tr_ab_t_cdf(1.0, -2.0)));
    ck_assert(isnan(tr_ab_t_cdf(NAN, 3.0)));
    ck_assert_double_eq(tr_ab_t_cdf(-INFINITY, 3.0), 0.0);
    ck_assert_double_eq(tr_ab_t_cdf(INFINITY, 3.0), 1.0);
    ck_assert_double_eq(tr_ab_t_p2(0.0, 7.0), 1.0);
    ck_assert_double_eq_tol(tr_ab_t_p2(-2.0, 9.0), 2 * tr_ab_t_cdf(-2.0, 9.0), 1e-16);
    /* I_x(a, 1) = x^a; I_x(1, b) = 1 - (1 - x)^b; I_x(a, b) = 1 - I_{1-x}(b, a) */
    ck_assert_double_eq_tol(tr_ab_betainc(3.5, 1.0, 0.3), pow(0.3, 3.5), 1e-16);
    ck_assert_double_eq_tol(tr_ab_betainc(1.0, 40.0, 0.05), 1 - pow(0.95, 40.0), 1e-15);
    ck_assert_double_eq_tol(tr_ab_betainc(12.0, 30.0, 0.25) + tr_ab_betainc(30.0, 12.0, 0.75), 1.0,
                            1e-14);
    ck_assert_double_eq(tr_ab_betainc(2.0, 3.0, 0.0), 0.0);
    ck_assert_double_eq(tr_ab_betainc(2.0, 3.0, 1.0), 1.0);
    ck_assert(isnan(tr_ab_betainc(0.0, 3.0, 0.5)));
    ck_assert(isnan(tr_ab_betainc(2.0, 3.0, 1.5)));
}
END_TEST

/* ---- Arms and tests -------------------------------------------------------------------------- */

START_TEST(test_arm_accumulation)
{
    /* PnL near 1e9 with unit spread: Welford keeps the variance, the raw sums cannot */
    tr_ab_arm a = tr_ab_arm_empty(), h1 = tr_ab_arm_empty(), h2 = tr_ab_arm_empty();
    const double xs[6] = {1e9 + 1, 1e9 - 1, 1e9 + 2, 1e9 - 2, 1e9 + 3, 1e9 - 3};
    double sum = 0, sumsq = 0;
    for (int i = 0; i < 6; i++) {
        tr_ab_arm_add(&a, xs[i], i % 2 == 0);
        tr_ab_arm_add(i < 2 ? &h1 : &h2, xs[i], i % 2 == 0);
        sum += xs[i];
        sumsq += xs[i] * xs[i];
    }
    ck_assert_uint_eq(a.n, 6);
    ck_assert_uint_eq(a.wins, 3);
    ck_assert_double_eq(a.mean, 1e9);
    ck_assert_double_eq_tol(tr_ab_arm_var(&a), 28.0 / 5.0, 1e-12); /* 2 (1 + 4 + 9) / 5 */
    tr_ab_arm_merge(&h1, &h2);
    ck_assert_uint_eq(h1.n, 6);
    ck_assert_uint_eq(h1.wins, 3);
    ck_assert_double_eq(h1.sum, a.sum);
    ck_assert_double_eq_tol(h1.mean, a.mean, 1e-6);
    ck_assert_double_eq_tol(tr_ab_arm_var(&h1), 28.0 / 5.0, 1e-9);
    tr_ab_arm e = tr_ab_arm_empty();
    tr_ab_arm_merge(&e, &a); /* into an empty arm */
    ck_assert_double_eq(e.m2, a.m2);
    tr_ab_arm_merge(&e, &(tr_ab_arm){0}); /* an empty arm changes nothing */
    ck_assert_uint_eq(e.n, 6);
    /* raw sums lose the variance entirely at this offset (documented) */
    tr_ab_arm s = tr_ab_arm_from_sums(6, 3, sum, sumsq);
    ck_assert_double_eq(s.mean, 1e9);
    ck_assert(fabs(tr_ab_arm_var(&s) - 5.6) > 0.5);
    tr_ab_arm m = tr_ab_arm_from_moments(6, 3, 1e9, 5.6);
    ck_assert_double_eq_tol(m.m2, a.m2, 1e-9);
    /* Sharpe per trade: mean / sd; 0 when undefined */
    tr_ab_arm r = tr_ab_arm_empty();
    tr_ab_arm_add(&r, 1.0, 1);
    ck_assert_double_eq(tr_ab_arm_sharpe(&r), 0.0);
    ck_assert(isnan(tr_ab_arm_var(&r)));
    tr_ab_arm_add(&r, 3.0, 1);
    ck_assert_double_eq_tol(tr_ab_arm_sharpe(&r), 2.0 / sqrt(2.0), 1e-15);
    tr_ab_arm_add(&r, -4.0, 0);
    ck_assert_double_eq_tol(tr_ab_arm_sharpe(&r), 0.0, 1e-15);
    ck_assert_double_eq_tol(tr_ab_arm_win_rate(&r), 2.0 / 3.0, 1e-15);
    tr_ab_arm c = tr_ab_arm_from_moments(5, 5, 2.0, 0.0);
    ck_assert_double_eq(tr_ab_arm_sharpe(&c), 0.0);
    ck_assert(isnan(tr_ab_arm_win_rate(&(tr_ab_arm){0})));
}
END_TEST

START_TEST(test_test_edge_cases)
{
    tr_ab_zfigs z;
    tr_error err;
    /* no trades in one arm: not computable, no division */
    ck_assert_int_eq(tr_ab_ztest(0, 0, 10, 4, &z, NULL), TR_OK);
    ck_assert_int_eq(z.ok, 0);
    ck_assert(isnan(z.z) && isnan(z.p) && isnan(z.p1));
    ck_assert_double_eq_tol(z.p2, 0.4, 1e-15);
    /* all wins, all losses */
    ck_assert_int_eq(tr_ab_ztest(10, 10, 3, 3, &z, NULL), TR_OK);
    ck_assert(z.ok && z.z == 0.0 && z.p == 1.0);
    ck_assert_int_eq(tr_ab_ztest(10, 0, 3, 0, &z, NULL), TR_OK);
    ck_assert(z.ok && z.z == 0.0 && z.p == 1.0);
    /* wins beyond trades */
    ck_assert_int_eq(tr_ab_ztest(3, 4, 3, 0, &z, &err), TR_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "exceed"));
    ck_assert_int_eq(z.ok, 0);

    tr_ab_tfigs t;
    ck_assert_int_eq(tr_ab_welch(1, 1.0, 0.0, 30, 0.0, 1.0, &t, NULL), TR_OK);
    ck_assert(!t.ok && isnan(t.t) && isnan(t.p) && isnan(t.df));
    ck_assert_int_eq(tr_ab_welch(5, 1.0, 0.0, 7, 1.0, 0.0, &t, NULL), TR_OK);
    ck_assert(t.ok && t.t == 0.0 && t.p == 1.0 && t.df == 10.0);
    ck_assert_int_eq(tr_ab_welch(5, 0.5, 0.0, 7, 1.0, 0.0, &t, NULL), TR_OK);
    ck_assert(t.ok && isinf(t.t) && t.t < 0 && t.p == 0.0);
    /* one variance zero: df is the other arm's n - 1 */
    ck_assert_int_eq(tr_ab_welch(5, 0.5, 0.0, 7, 1.0, 2.0, &t, NULL), TR_OK);
    ck_assert_double_eq_tol(t.df, 6.0, 1e-12);
    ck_assert_int_eq(tr_ab_welch(5, 0.5, -1.0, 7, 1.0, 2.0, &t, &err), TR_ERR_INVALID);
    ck_assert_int_eq(tr_ab_welch(5, NAN, 1.0, 7, 1.0, 2.0, &t, &err), TR_ERR_INVALID);
    ck_assert_int_eq(t.ok, 0);
    /* huge variances: the scaled df formula does not overflow */
    ck_assert_int_eq(tr_ab_welch(10, 0.0, 1e300, 10, 0.0, 1e300, &t, NULL), TR_OK);
    ck_assert_double_eq_tol(t.df, 18.0, 1e-12);
}
END_TEST

START_TEST(test_sample_sizes)
{
    /* conventions.md section 7 */
    ck_assert_double_eq(tr_ab_n_props(0.50, 0.55, 0.05, 0.8), 1562);
    ck_assert_double_eq(tr_ab_n_props(0.50, 0.53, 0.05, 0.8), 4353);
    ck_assert_double_eq(tr_ab_n_props(0.50, 0.60, 0.05, 0.8), 385);
    ck_assert_double_eq(tr_ab_n_means(0.2, 1.0, 1.0, 0.05, 0.8), 393); /* 392.4 rounded up */
    ck_assert_double_eq(tr_ab_n_means(-0.1, 1.0, 1.0, 0.05, 0.8), 1570);
    ck_assert(isinf(tr_ab_n_props(0.5, 0.5, 0.05, 0.8)));
    ck_assert(isinf(tr_ab_n_means(0.0, 1.0, 1.0, 0.05, 0.8)));
    ck_assert(isinf(tr_ab_n_means(0.0, 0.0, 0.0, 0.05, 0.8)));
    ck_assert_double_eq(tr_ab_n_means(0.3, 0.0, 0.0, 0.05, 0.8), 0.0);
    ck_assert(isnan(tr_ab_n_props(1.2, 0.5, 0.05, 0.8)));
    ck_assert(isnan(tr_ab_n_props(0.4, 0.5, 0.0, 0.8)));
    ck_assert(isnan(tr_ab_n_props(0.4, 0.5, 0.05, 1.0)));
    ck_assert(isnan(tr_ab_n_means(0.1, -1.0, 1.0, 0.05, 0.8)));
    ck_assert(isnan(tr_ab_n_means(NAN, 1.0, 1.0, 0.05, 0.8)));
}
END_TEST

/* ---- Group-sequential boundaries ------------------------------------------------------------- */

static const double equal5[5] = {0.2, 0.4, 0.6, 0.8, 1.0};

START_TEST(test_obf_published)
{
    const double published[5] = {4.877, 3.357, 2.680, 2.290, 2.031};
    double z[10], p[10];
    ck_assert_int_eq(tr_ab_seq_bounds(equal5, 5, 0.05, z, NULL), TR_OK);
    for (int j = 0; j < 5; j++)
        ck_assert_msg(fabs(z[j] - published[j]) < 0.005, "look %d: %.5f vs %.3f", j + 1, z[j],
                      published[j]);
    printf("OBF bounds, 5 equal looks: %.6f %.6f %.6f %.6f %.6f\n", z[0], z[1], z[2], z[3], z[4]);
    /* they spend exactly alpha, look by look as the spending function says */
    ck_assert_int_eq(tr_ab_seq_crossing(equal5, 5, z, p, NULL), TR_OK);
    for (int j = 0; j < 5; j++) {
        double want = 4 * tr_ab_norm_sf(-tr_ab_norm_ppf(0.0125) / sqrt(equal5[j]));
        ck_assert_double_eq_tol(p[j], want, 1e-9);
    }
    ck_assert_double_eq_tol(p[4], 0.05, 1e-9);
    /* one look at the end: the fixed-sample critical value */
    const double one = 1.0;
    ck_assert_int_eq(tr_ab_seq_bounds(&one, 1, 0.05, z, NULL), TR_OK);
    ck_assert_double_eq_tol(z[0], 1.959963984540054, 1e-12);
    /* two looks (gsDesign sfLDOF: 2.963, 1.969) */
    const double two[2] = {0.5, 1.0};
    ck_assert_int_eq(tr_ab_seq_bounds(two, 2, 0.05, z, NULL), TR_OK);
    ck_assert(fabs(z[0] - 2.963) < 0.0005 && fabs(z[1] - 1.969) < 0.0005);
    /* a look's boundary depends only on the looks so far */
    double z5[5];
    tr_ab_seq_bounds(equal5, 5, 0.05, z5, NULL);
    ck_assert_int_eq(tr_ab_seq_bounds(equal5, 3, 0.05, z, NULL), TR_OK);
    for (int j = 0; j < 3; j++)
        ck_assert_double_eq_tol(z[j], z5[j], 1e-7);
    /* a look right after another adds nothing: it cannot stop, the next look spends its share */
    const double twin[6] = {0.2, 0.2 + 1e-8, 0.4, 0.6, 0.6 + 1e-7, 1.0};
    const int kept[4] = {0, 2, 3, 5};
    ck_assert_int_eq(tr_ab_seq_bounds(twin, 6, 0.05, z, NULL), TR_OK);
    ck_assert(isinf(z[1]) && isinf(z[4]));
    const double kept_t[4] = {0.2, 0.4, 0.6, 1.0};
    double zk[4];
    tr_ab_seq_bounds(kept_t, 4, 0.05, zk, NULL);
    for (int j = 0; j < 4; j++)
        ck_assert_double_eq_tol(z[kept[j]], zk[j], 1e-12);
    /* ... while looks 4e-6 apart are both kept and computed, on a fine grid */
    const double near2[4] = {0.5, 0.500002, 0.8, 1.0};
    ck_assert_int_eq(tr_ab_seq_bounds(near2, 4, 0.05, z, NULL), TR_OK);
    ck_assert(isfinite(z[1]) && z[1] > z[0]);
    ck_assert_int_eq(tr_ab_seq_crossing(near2, 4, z, p, NULL), TR_OK);
    ck_assert_double_eq_tol(p[3], 0.05, 1e-7);
    /* a look too early to spend anything cannot stop */
    const double early[2] = {0.001, 1.0};
    ck_assert_int_eq(tr_ab_seq_bounds(early, 2, 0.05, z, NULL), TR_OK);
    ck_assert(isinf(z[0]));
    ck_assert_double_eq_tol(z[1], 1.959963984540054, 1e-9);
}
END_TEST

START_TEST(test_crossing_published)
{
    double t[10], z[10], p[10];
    /* repeated 1.96 tests: 0.083, 0.142, 0.193 at 2, 5, 10 equal looks */
    const int ks[3] = {2, 5, 10};
    const double level[3] = {0.083, 0.142, 0.193};
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < ks[i]; j++) {
            t[j] = (j + 1.0) / ks[i];
            z[j] = 1.959963984540054;
        }
        ck_assert_int_eq(tr_ab_seq_crossing(t, ks[i], z, p, NULL), TR_OK);
        ck_assert_msg(fabs(p[ks[i] - 1] - level[i]) < 0.0005, "%d looks: %.5f", ks[i],
                      p[ks[i] - 1]);
        if (ks[i] == 5)
            printf("1.96 at 5 equal looks: overall level %.6f\n", p[4]);
    }
    /* Pocock 2.413 and O'Brien-Fleming 2.040 sqrt(5/j), 5 looks, level 0.05 */
    for (int j = 0; j < 5; j++)
        z[j] = 2.413;
    tr_ab_seq_crossing(equal5, 5, z, p, NULL);
    ck_assert_double_eq_tol(p[4], 0.05, 2e-4);
    for (int j = 0; j < 5; j++)
        z[j] = 2.040 * sqrt(5.0 / (j + 1));
    tr_ab_seq_crossing(equal5, 5, z, p, NULL);
    ck_assert_double_eq_tol(p[4], 0.05, 2e-4);
    /* a boundary that never stops crosses nothing */
    for (int j = 0; j < 5; j++)
        z[j] = INFINITY;
    tr_ab_seq_crossing(equal5, 5, z, p, NULL);
    ck_assert_double_eq(p[4], 0.0);
}
END_TEST

START_TEST(test_seq_invalid)
{
    double z[4], p[4];
    tr_error err;
    const double backwards[3] = {0.5, 0.4, 1.0}, over[2] = {0.5, 1.2}, zero[2] = {0.0, 1.0};
    const double same[2] = {0.5, 0.5}, close[2] = {0.5, 0.5 + 1e-9};
    ck_assert_int_eq(tr_ab_seq_bounds(backwards, 3, 0.05, z, &err), TR_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "look 2"));
    ck_assert_int_eq(tr_ab_seq_bounds(over, 2, 0.05, z, &err), TR_ERR_INVALID);
    ck_assert_int_eq(tr_ab_seq_bounds(zero, 2, 0.05, z, &err), TR_ERR_INVALID);
    ck_assert_int_eq(tr_ab_seq_bounds(same, 2, 0.05, z, &err), TR_ERR_INVALID);
    z[0] = z[1] = 1.96;
    ck_assert_int_eq(tr_ab_seq_crossing(close, 2, z, p, &err), TR_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "too close"));
    ck_assert_int_eq(tr_ab_seq_bounds(equal5, 0, 0.05, z, &err), TR_ERR_INVALID);
    ck_assert_int_eq(tr_ab_seq_bounds(equal5, 2, 0.0, z, &err), TR_ERR_INVALID);
    ck_assert_int_eq(tr_ab_seq_bounds(equal5, 2, 1.0, z, &err), TR_ERR_INVALID);
    z[0] = -1.0;
    z[1] = 2.0;
    ck_assert_int_eq(tr_ab_seq_crossing(equal5, 2, z, p, &err), TR_ERR_INVALID);
}
END_TEST

/* Brownian paths observed at the looks: the share that crosses |z| >= bound at some look. */
static double mc_crossing(const double *t, int k, const double *bound, int n_paths, uint64_t seed)
{
    aifx_rng rng;
    ck_assert_int_eq(aifx_rng_seed(&rng, seed), AIFX_OK);
    int crossed = 0;
    for (int i = 0; i < n_paths; i++) {
        double s = 0.0, prev = 0.0;
        for (int j = 0; j < k; j++) {
            double e;
            aifx_rng_normal(&rng, &e);
            s += e * sqrt(t[j] - prev);
            prev = t[j];
            if (fabs(s / sqrt(t[j])) >= bound[j]) {
                crossed++;
                break;
            }
        }
    }
    return (double)crossed / n_paths;
}

START_TEST(test_obf_monte_carlo)
{
    const int n = 200000;
    double z[5], flat[5];
    tr_ab_seq_bounds(equal5, 5, 0.05, z, NULL);
    double sd = sqrt(0.05 * 0.95 / n);
    double r = mc_crossing(equal5, 5, z, n, 1);
    printf("Monte Carlo, %d paths: OBF at 5 equal looks %.5f (0.05 +- %.5f)", n, r, 3 * sd);
    ck_assert_msg(fabs(r - 0.05) < 3 * sd, "OBF crossing rate %.5f", r);
    /* unequal looks, as a scheduler takes them */
    const double uneq[5] = {0.13, 0.41, 0.47, 0.86, 1.0};
    tr_ab_seq_bounds(uneq, 5, 0.05, z, NULL);
    r = mc_crossing(uneq, 5, z, n, 2);
    printf(", unequal looks %.5f", r);
    ck_assert_msg(fabs(r - 0.05) < 3 * sd, "OBF crossing rate, unequal looks %.5f", r);
    /* peeking: 1.96 at every look */
    for (int j = 0; j < 5; j++)
        flat[j] = 1.959963984540054;
    r = mc_crossing(equal5, 5, flat, n, 3);
    printf(", 1.96 at 5 looks %.5f\n", r);
    ck_assert_msg(fabs(r - 0.14169) < 3 * sqrt(0.14169 * 0.85831 / n), "1.96 x 5: %.5f", r);
}
END_TEST

/* ---- The verdict ----------------------------------------------------------------------------- */

/* An arm of n trades with the given wins, mean and sd (sample), made exactly. */
static tr_ab_arm arm_of(size_t n, size_t wins, double mean, double sd)
{
    return tr_ab_arm_from_moments(n, wins, mean, sd * sd);
}

START_TEST(test_verdict_rules)
{
    tr_ab_plan plan = tr_ab_plan_default();
    tr_ab_verdict v;
    const double looks2[2] = {0.2, 0.4}, end5[5] = {0.2, 0.4, 0.6, 0.8, 0.95};
    ck_assert_double_eq(plan.alpha, 0.05);
    ck_assert_str_eq(tr_ab_call_text(TR_AB_CONTINUE), "");
    ck_assert_str_eq(tr_ab_call_text(TR_AB_A), "a");
    ck_assert_str_eq(tr_ab_call_text(TR_AB_B), "b");
    ck_assert_str_eq(tr_ab_call_text(TR_AB_TIE), "tie");
    ck_assert_str_eq(tr_ab_call_text(TR_AB_INSUFFICIENT), "insufficient");

    /* early look, p ~ 1e-3 (|Z| 3.3 < 3.357): not enough to stop at look 2 */
    tr_ab_arm a = arm_of(200, 120, 1.0, 3.0), b = arm_of(200, 100, 0.0, 3.0);
    ck_assert_int_eq(tr_ab_decide(&a, &b, looks2, 2, 0, &plan, &v, NULL), TR_OK);
    ck_assert_int_eq(v.call, TR_AB_CONTINUE);
    ck_assert_double_eq_tol(v.boundary, 3.357, 0.0005);
    ck_assert(v.z_welch > 3.0 && v.z_welch < v.boundary);
    /* the same figures, far stronger: A stops the test early */
    a = arm_of(200, 130, 1.5, 3.0);
    ck_assert_int_eq(tr_ab_decide(&a, &b, looks2, 2, 0, &plan, &v, NULL), TR_OK);
    ck_assert_int_eq(v.call, TR_AB_A);
    ck_assert(v.z_welch > v.boundary && v.z.z > 0);
    /* and symmetric for B */
    ck_assert_int_eq(tr_ab_decide(&b, &a, looks2, 2, 0, &plan, &v, NULL), TR_OK);
    ck_assert_int_eq(v.call, TR_AB_B);
    ck_assert(v.z_welch < -v.boundary);
    /* win rate pointing the other way: keep running */
    tr_ab_arm a_fewer_wins = arm_of(200, 90, 1.5, 3.0);
    ck_assert_int_eq(tr_ab_decide(&a_fewer_wins, &b, looks2, 2, 0, &plan, &v, NULL), TR_OK);
    ck_assert_int_eq(v.call, TR_AB_CONTINUE);
    /* equal win rates (z = 0) do not agree in direction either */
    tr_ab_arm a_same_wins = arm_of(200, 100, 1.5, 3.0);
    ck_assert_int_eq(tr_ab_decide(&a_same_wins, &b, looks2, 2, 0, &plan, &v, NULL), TR_OK);
    ck_assert_int_eq(v.call, TR_AB_CONTINUE);
    /* below min_trades no early stop, however extreme */
    tr_ab_arm sa = arm_of(20, 18, 5.0, 0.5), sb = arm_of(20, 2, -5.0, 0.5);
    ck_assert_int_eq(tr_ab_decide(&sa, &sb, looks2, 2, 0, &plan, &v, NULL), TR_OK);
    ck_assert_int_eq(v.call, TR_AB_CONTINUE);
    plan.min_trades = 20;
    ck_assert_int_eq(tr_ab_decide(&sa, &sb, looks2, 2, 0, &plan, &v, NULL), TR_OK);
    ck_assert_int_eq(v.call, TR_AB_A);
    plan = tr_ab_plan_default();

    /* the planned end with only the final look: Welch p < alpha decides. t 2.0 at df 398 */
    a = arm_of(200, 110, 0.6, 3.0);
    b = arm_of(200, 100, 0.0, 3.0);
    const double only_end = 0.7; /* at_end: counts as t = 1 */
    ck_assert_int_eq(tr_ab_decide(&a, &b, &only_end, 1, 1, &plan, &v, NULL), TR_OK);
    ck_assert_double_eq_tol(v.boundary, 1.959963984540054, 1e-9);
    ck_assert(v.t.p < 0.05 && v.t.p > 0.04);
    ck_assert_int_eq(v.call, TR_AB_A);
    /* ... after 4 interim looks the final boundary is 2.031 (plain 1.96 there would make the
     * overall level 0.057): the same data is a tie */
    ck_assert_int_eq(tr_ab_decide(&a, &b, end5, 5, 1, &plan, &v, NULL), TR_OK);
    ck_assert_double_eq_tol(v.boundary, 2.031, 0.0005);
    ck_assert_int_eq(v.call, TR_AB_TIE);
    /* a look an instant before the end: the end still decides, with the end's boundary */
    const double just_before[5] = {0.2, 0.4, 0.6, 0.8, 1.0 - 1e-7};
    a = arm_of(200, 110, 0.7, 3.0);
    ck_assert_int_eq(tr_ab_decide(&a, &b, just_before, 5, 1, &plan, &v, NULL), TR_OK);
    ck_assert_double_eq_tol(v.boundary, 2.031, 0.0005);
    ck_assert_int_eq(v.call, TR_AB_A);
    double stop5[6] = {0.2, 0.4, 0.6, 0.8, 1.0 - 1e-7, 1.0}; /* the same, both looks kept */
    ck_assert_int_eq(tr_ab_decide(&a, &b, stop5, 5, 0, &plan, &v, NULL), TR_OK);
    ck_assert_int_eq(v.call, TR_AB_A); /* the interim look just before the end decides too */
    ck_assert_double_eq_tol(v.boundary, 2.031, 0.0005);
    ck_assert_int_eq(tr_ab_decide(&a, &b, stop5, 6, 0, &plan, &v, NULL), TR_OK);
    ck_assert(isinf(v.boundary)); /* not flagged as the end: t = 1 right after adds nothing */
    ck_assert_int_eq(v.call, TR_AB_CONTINUE);
    /* at the end a significant win rate the other way vetoes the winner */
    a = arm_of(400, 170, 1.5, 3.0);
    b = arm_of(400, 210, 0.0, 3.0);
    ck_assert_int_eq(tr_ab_decide(&a, &b, &only_end, 1, 1, &plan, &v, NULL), TR_OK);
    ck_assert(v.z.p < 0.05 && v.z.z < 0 && v.t.t > 0 && v.t.p < 0.05);
    ck_assert_int_eq(v.call, TR_AB_TIE);
    /* ... while a non-significant contrary win rate does not */
    a = arm_of(400, 195, 1.5, 3.0);
    ck_assert_int_eq(tr_ab_decide(&a, &b, &only_end, 1, 1, &plan, &v, NULL), TR_OK);
    ck_assert_int_eq(v.call, TR_AB_A);
    /* too few trades: insufficient; no trades in an arm: insufficient, figures NAN */
    tr_ab_arm fa = arm_of(12, 6, 0.1, 1.0), fb = arm_of(15, 7, 0.0, 1.0), none = {0};
    ck_assert_int_eq(tr_ab_decide(&fa, &fb, &only_end, 1, 1, &plan, &v, NULL), TR_OK);
    ck_assert_int_eq(v.call, TR_AB_INSUFFICIENT);
    ck_assert_int_eq(tr_ab_decide(&fa, &none, &only_end, 1, 1, &plan, &v, NULL), TR_OK);
    ck_assert_int_eq(v.call, TR_AB_INSUFFICIENT);
    ck_assert(!v.z.ok && !v.t.ok && isnan(v.boundary) && isnan(v.n_means));
    ck_assert_int_eq(tr_ab_decide(&fa, &none, &only_end, 1, 0, &plan, &v, NULL), TR_OK);
    ck_assert_int_eq(v.call, TR_AB_CONTINUE);
    plan.min_trades = 10;
    ck_assert_int_eq(tr_ab_decide(&fa, &fb, &only_end, 1, 1, &plan, &v, NULL), TR_OK);
    ck_assert_int_eq(v.call, TR_AB_TIE);
    plan = tr_ab_plan_default();

    /* the figures */
    a = arm_of(300, 165, 0.4, 2.0);
    b = arm_of(250, 125, 0.1, 2.5);
    ck_assert_int_eq(tr_ab_decide(&a, &b, looks2, 2, 0, &plan, &v, NULL), TR_OK);
    ck_assert_double_eq(v.n_props, tr_ab_n_props(0.55, 0.5, 0.05, 0.8));
    ck_assert_double_eq(v.n_means, tr_ab_n_means(0.3, 2.0, 2.5, 0.05, 0.8));
    ck_assert_double_eq_tol(v.sharpe_a, 0.2, 1e-12);
    ck_assert_double_eq_tol(v.sharpe_b, 0.04, 1e-12);
    ck_assert_double_eq_tol(v.z_welch, -tr_ab_norm_ppf(v.t.p / 2), 1e-12);

    /* bad input */
    tr_error err;
    ck_assert_int_eq(tr_ab_decide(&a, &b, looks2, 0, 0, &plan, &v, &err), TR_ERR_INVALID);
    const double bad_looks[2] = {0.4, 0.2};
    ck_assert_int_eq(tr_ab_decide(&a, &b, bad_looks, 2, 0, &plan, &v, &err), TR_ERR_INVALID);
    ck_assert_int_eq(tr_ab_decide(&a, &b, bad_looks, 2, 1, &plan, &v, &err), TR_ERR_INVALID);
    const double after_end[2] = {0.5, 1.0}; /* at_end makes the last 1: the previous must be < 1 */
    ck_assert_int_eq(tr_ab_decide(&a, &b, after_end, 2, 1, &plan, &v, &err), TR_OK);
    tr_ab_arm bad = {3, 4, 0.0, 0.0, 0.0};
    ck_assert_int_eq(tr_ab_decide(&bad, &b, looks2, 2, 0, &plan, &v, &err), TR_ERR_INVALID);
    plan.alpha = 1.5;
    ck_assert_int_eq(tr_ab_decide(&a, &b, looks2, 2, 0, &plan, &v, &err), TR_ERR_INVALID);
}
END_TEST

/* Whole A/B tests under H0 through tr_ab_decide: 5 looks of 40 trades per arm, PnL with fat
 * tails (normal / sqrt(chi2_3 / 3) ~ t_3, the win a positive PnL). */
START_TEST(test_verdict_monte_carlo)
{
    const int n_tests = 2000, per_look = 40;
    aifx_rng rng;
    aifx_rng_seed(&rng, 20240601);
    tr_ab_plan plan = tr_ab_plan_default();
    int rule = 0, naive = 0;
    for (int i = 0; i < n_tests; i++) {
        tr_ab_arm arm[2] = {tr_ab_arm_empty(), tr_ab_arm_empty()};
        int naive_hit = 0;
        for (int j = 0; j < 5; j++) {
            for (int q = 0; q < 2 * per_look; q++) {
                double e, c = 0;
                aifx_rng_normal(&rng, &e);
                for (int d = 0; d < 3; d++) {
                    double g;
                    aifx_rng_normal(&rng, &g);
                    c += g * g;
                }
                double pnl = e / sqrt(c / 3);
                tr_ab_arm_add(&arm[q % 2], pnl, pnl > 0);
            }
            tr_ab_verdict v;
            ck_assert_int_eq(tr_ab_decide(&arm[0], &arm[1], equal5, j + 1, j == 4, &plan, &v, NULL),
                             TR_OK);
            naive_hit |= v.t.p < 0.05;
            if (v.call == TR_AB_A || v.call == TR_AB_B) {
                rule++;
                break;
            }
            if (j == 4)
                ck_assert_int_eq(v.call, TR_AB_TIE);
            else
                ck_assert_int_eq(v.call, TR_AB_CONTINUE);
        }
        naive += naive_hit;
    }
    double r = (double)rule / n_tests, rn = (double)naive / n_tests;
    printf("Monte Carlo, %d A/B tests under H0 (t3 PnL, 5 looks x 40 trades/arm): verdict "
           "winners %.4f, Welch p < 0.05 at any look %.4f\n",
           n_tests, r, rn);
    ck_assert_msg(r < 0.05 + 3 * sqrt(0.05 * 0.95 / n_tests), "verdict false positives %.4f", r);
    ck_assert_msg(rn > 0.10, "peeking false positives %.4f", rn);
}
END_TEST

static Suite *abstat_suite(void)
{
    Suite *s = suite_create("abstat");
    TCase *tc = tcase_create("abstat");
    tcase_add_test(tc, test_fixture);
    tcase_add_test(tc, test_ppf_tails);
    tcase_add_test(tc, test_t_and_beta);
    tcase_add_test(tc, test_arm_accumulation);
    tcase_add_test(tc, test_test_edge_cases);
    tcase_add_test(tc, test_sample_sizes);
    tcase_add_test(tc, test_obf_published);
    tcase_add_test(tc, test_crossing_published);
    tcase_add_test(tc, test_seq_invalid);
    tcase_add_test(tc, test_verdict_rules);
    suite_add_tcase(s, tc);
    TCase *mc = tcase_create("monte_carlo"); /* about 8 s of the suite's 9 (Release) */
    tcase_add_test(mc, test_obf_monte_carlo);
    tcase_add_test(mc, test_verdict_monte_carlo);
    tcase_set_timeout(mc, 240);
    suite_add_tcase(s, mc);
    return s;
}

AIFX_CHECK_MAIN(abstat_suite)
