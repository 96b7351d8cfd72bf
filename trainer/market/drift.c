/*
 * drift.c - feature and prediction drift (drift.h; formulas and sources in docs/monitoring.md).
 *
 * Two-sample KS, exact (SciPy 1.10 scipy/stats/_stats_py.py and _stats_pythran.py, Hodges
 * 1958, Viehmann 2021): for n1 = n2 = n and h = n D,
 *   P = 2 sum_{k>=1} (-1)^(k-1) C(2n, n - kh) / C(2n, n), by the Horner form of
 *   _compute_prob_outside_square; otherwise the lattice paths from (0, 0) to (m, n) (m >= n)
 *   that leave |x/m - y/n| < h / lcm, counted as a proportion column by column with
 *   A(x, y) = (x A(x - 1, y) + y A(x, y - 1)) / (x + y) (Viehmann's recursion for 1 - p).
 * Asymptotic: kstwo.sf(D, round(m n / (m + n))), the one-sample two-sided distribution, by the
 * branches of Simard and L'Ecuyer (2011) as scipy.stats._ksstats._kolmogn codes them:
 *   n D <= 1 (Ruben-Gambino): 1 - n! / n^n (2 n D - 1)^n;  n D >= n - 1: 2 (1 - D)^n;
 *   D >= 0.5 or n D^2 large: 2 smirnov(n, D), Birnbaum-Tingey's
 *     Pr(D+ >= e) = e sum_{v=0}^{floor(n(1-e))} C(n, v) (e + v/n)^(v-1) (1 - e - v/n)^(n-v),
 *     summed here in long double logarithms;
 *   the body: 1 - Durbin's matrix H^n (Marsaglia, Tsang and Wang 2003) or, for large n, the
 *     Pelz-Good series (1976).
 * Wasserstein-1 of two ECDFs U, V: sum over the merged sorted values of |U - V| times the gap
 * to the next value (scipy.stats._stats_py._cdf_distance with p = 1).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "market/drift.h"

#define KS_MAX_AUTO_N 10000 /* SciPy's MAX_AUTO_N: exact up to this many rows on each side */
#define E128          128
#define DRIFT_PI      3.14159265358979323846
#define PI_SQUARED    9.8696044010893586188
#define SQRT2PI       2.5066282746310005024
#define LOG_2PI       1.8378770664093454836
#define SQRT3         1.7320508075688772935

/* ---- Helpers --------------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int all_finite(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

/* A sorted malloc'd copy, or NULL. */
static double *sorted_copy(const double *x, size_t n)
{
    double *s = malloc((n ? n : 1) * sizeof *s);
    if (s == NULL)
        return NULL;
    memcpy(s, x, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    return s;
}

/* Neumaier's compensated sum. */
typedef struct ksum {
    double s, c;
} ksum;

static void ksum_add(ksum *k, double x)
{
    double t = k->s + x;
    if (fabs(k->s) >= fabs(x))
        k->c += (k->s - t) + x;
    else
        k->c += (x - t) + k->s;
    k->s = t;
}

static double clip01(double p)
{
    return p < 0.0 ? 0.0 : (p > 1.0 ? 1.0 : p);
}

/* ---- Reference summary ----------------------------------------------------------------------- */

double tr_drift_quantile(const double *sorted, size_t n, double q)
{
    double h = (double)(n - 1) * q;
    double lo = floor(h);
    size_t i = (size_t)lo;
    if (i >= n - 1)
        return sorted[n - 1];
    double a = sorted[i], b = sorted[i + 1], t = h - lo, d = b - a;
    return t >= 0.5 ? b - d * (1.0 - t) : a + d * t; /* numpy's _lerp */
}

int tr_drift_bin(const tr_drift_ref *ref, double v)
{
    for (int i = 0; i < TR_DRIFT_DECILES; i++)
        if (v <= ref->decile[i])
            return i;
    return TR_DRIFT_DECILES;
}

tr_code tr_drift_ref_build(const double *x, size_t n, tr_drift_ref *out, tr_error *err)
{
    memset(out, 0, sizeof *out);
    if (n == 0 || !all_finite(x, n))
        return tr_fail(err, TR_ERR_INVALID,
                       n == 0 ? "drift reference: no values"
                              : "drift reference: a non-finite value");
    double *s = sorted_copy(x, n);
    if (s == NULL)
        return tr_fail(err, TR_ERR_NOMEM, "drift reference: out of memory (%zu values)", n);
    out->n = n;
    ksum sum = {0.0, 0.0};
    for (size_t i = 0; i < n; i++)
        ksum_add(&sum, s[i]);
    out->mean = (sum.s + sum.c) / (double)n;
    ksum ss = {0.0, 0.0};
    for (size_t i = 0; i < n; i++)
        ksum_add(&ss, (s[i] - out->mean) * (s[i] - out->mean));
    out->sd = sqrt((ss.s + ss.c) / (double)n);
    out->min = s[0];
    out->max = s[n - 1];
    for (int k = 0; k < TR_DRIFT_DECILES; k++)
        out->decile[k] = tr_drift_quantile(s, n, (double)(k + 1) / 10.0);
    size_t count[TR_DRIFT_BINS] = {0};
    for (size_t i = 0; i < n; i++)
        count[tr_drift_bin(out, s[i])]++;
    for (int b = 0; b < TR_DRIFT_BINS; b++)
        out->bin_share[b] = (double)count[b] / (double)n;
    size_t distinct = 1;
    for (size_t i = 1; i < n && distinct <= TR_DRIFT_SKETCH; i++)
        distinct += s[i] != s[i - 1];
    out->n_distinct = distinct;
    if (n <= TR_DRIFT_SKETCH) {
        out->n_sketch = (int)n;
        memcpy(out->sketch, s, n * sizeof *s);
        out->sketch_w1 = 0.0;
    } else {
        out->n_sketch = TR_DRIFT_SKETCH;
        for (size_t i = 0; i < TR_DRIFT_SKETCH; i++) {
            /* floor((2i + 1) n / 2K) in exact integer arithmetic */
            uint64_t r = ((uint64_t)(2 * i + 1) * (uint64_t)n) / (2u * TR_DRIFT_SKETCH);
            out->sketch[i] = s[r];
        }
        out->sketch_w1 = tr_drift_wasserstein_sorted(s, n, out->sketch, TR_DRIFT_SKETCH);
    }
    free(s);
    return TR_OK;
}

/* ---- Wasserstein ----------------------------------------------------------------------------- */

double tr_drift_wasserstein_sorted(const double *u, size_t nu, const double *v, size_t nv)
{
    ksum sum = {0.0, 0.0};
    size_t i = 0, j = 0;
    double prev = 0.0;
    int first = 1;
    while (i < nu || j < nv) {
        size_t ci = i, cj = j; /* ECDF counts on [prev, x) */
        double x = (j >= nv || (i < nu && u[i] <= v[j])) ? u[i++] : v[j++];
        if (!first && x > prev)
            ksum_add(&sum, fabs((double)ci / (double)nu - (double)cj / (double)nv) * (x - prev));
        first = 0;
        prev = x;
    }
    return sum.s + sum.c;
}

tr_code tr_drift_wasserstein(const double *u, size_t nu, const double *v, size_t nv, double *out,
                             tr_error *err)
{
    *out = NAN;
    if (nu == 0 || nv == 0 || !all_finite(u, nu) || !all_finite(v, nv))
        return tr_fail(err, TR_ERR_INVALID, "wasserstein: empty or non-finite sample");
    double *su = sorted_copy(u, nu), *sv = sorted_copy(v, nv);
    if (su == NULL || sv == NULL) {
        free(su), free(sv);
        return tr_fail(err, TR_ERR_NOMEM, "wasserstein: out of memory");
    }
    *out = tr_drift_wasserstein_sorted(su, nu, sv, nv);
    free(su), free(sv);
    return TR_OK;
}

/* ---- The one-sample KS distribution (scipy.stats.kstwo) ------------------------------------- */

double tr_drift_smirnov(int n, double e)
{
    if (!(n > 0 && e >= 0.0 && e <= 1.0))
        return NAN;
    if (e == 0.0)
        return 1.0;
    long double le = e, ln = n, sum = 0.0L, lg_n1 = lgammal(ln + 1.0L);
    long nn = (long)floorl(ln * (1.0L - le));
    for (long v = 0; v <= nn; v++) {
        long double evn = le + (long double)v / ln, omevn = 1.0L - evn;
        long double t = lg_n1 - lgammal((long double)v + 1.0L) - lgammal(ln - v + 1.0L) +
                        (long double)(v - 1) * logl(evn);
        if (n - v > 0) {
            if (omevn <= 0.0L)
                continue;
            t += (long double)(n - v) * logl(omevn);
        }
        sum += expl(t);
    }
    return (double)(le * sum);
}

/* Pr(D_n <= d) by Durbin's matrix, as _kolmogn_DMTW (scaling by 2^128 as there). */
static double kolmogn_dmtw(int n, double d)
{
    if (d >= 1.0)
        return 1.0;
    double nd = n * d;
    if (nd <= 0.5)
        return 0.0;
    int k = (int)ceil(nd);
    double h = k - nd;
    int m = 2 * k - 1;
    size_t mm = (size_t)m * (size_t)m;
    double *buf = calloc(4 * mm + 2 * (size_t)m, sizeof *buf);
    if (buf == NULL)
        return NAN;
    double *H = buf, *P = buf + mm, *T = buf + 2 * mm, *v = buf + 4 * mm, *w = v + m;
    /* (m, m) each */
    double fac = 1.0;
    for (int j = 1; j <= m; j++) {
        v[j - 1] = 1.0 - pow(h, j);
        w[j - 1] = fac;
        fac /= j;
        v[j - 1] *= fac;
    }
    double tt = pow(fmax(2 * h - 1.0, 0.0), m) - 2 * pow(h, m);
    v[m - 1] = (1.0 + tt) * fac;
    for (int i = 1; i < m; i++)
        for (int r = i - 1; r < m; r++)
            H[(size_t)r * m + i] = w[r - (i - 1)];
    for (int r = 0; r < m; r++)
        H[(size_t)r * m] = v[r];
    for (int c = 0; c < m; c++)
        H[(size_t)(m - 1) * m + c] = v[m - 1 - c];
    for (int r = 0; r < m; r++)
        P[(size_t)r * m + r] = 1.0;
    int nn = n, expnt = 0, hexpnt = 0;
    const double ep128 = ldexp(1.0, E128);
    while (nn > 0) {
        if (nn % 2) {
            for (int r = 0; r < m; r++)
                for (int c = 0; c < m; c++) {
                    double s = 0.0;
                    for (int q = 0; q < m; q++)
                        s += P[(size_t)r * m + q] * H[(size_t)q * m + c];
                    T[(size_t)r * m + c] = s;
                }
            memcpy(P, T, mm * sizeof *P);
            expnt += hexpnt;
        }
        for (int r = 0; r < m; r++)
            for (int c = 0; c < m; c++) {
                double s = 0.0;
                for (int q = 0; q < m; q++)
                    s += H[(size_t)r * m + q] * H[(size_t)q * m + c];
                T[(size_t)r * m + c] = s;
            }
        memcpy(H, T, mm * sizeof *H);
        hexpnt *= 2;
        if (fabs(H[(size_t)(k - 1) * m + k - 1]) > ep128) {
            for (size_t q = 0; q < mm; q++)
                H[q] /= ep128;
            hexpnt += E128;
        }
        nn /= 2;
    }
    long double p = P[(size_t)(k - 1) * m + k - 1];
    free(buf);
    for (int i = 1; i <= n; i++) { /* times n! / n^n */
        p = i * p / n;
        if (fabsl(p) < ldexpl(1.0L, -E128)) {
            p *= ldexpl(1.0L, E128);
            expnt -= E128;
        }
    }
    return clip01((double)ldexpl(p, expnt));
}

/* Pr(D_n <= x) by the Pelz-Good series, as _kolmogn_PelzGood. */
static double kolmogn_pelzgood(int n, double x)
{
    if (x <= 0.0)
        return 0.0;
    if (x >= 1.0)
        return 1.0;
    double z = sqrt((double)n) * x;
    double z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2;
    double qlog = -PI_SQUARED / 8 / z2;
    if (qlog < -708)
        return 0.0;
    double q = exp(qlog);
    double pi4 = PI_SQUARED * PI_SQUARED, pi6 = pi4 * PI_SQUARED;
    double k1a = -z2, k1b = PI_SQUARED / 4;
    double k2a = 6 * z6 + 2 * z4, k2b = (2 * z4 - 5 * z2) * PI_SQUARED / 4,
           k2c = pi4 * (1 - 2 * z2) / 16;
    double k3d = pi6 * (5 - 30 * z2) / 64, k3c = pi4 * (-60 * z2 + 212 * z4) / 16,
           k3b = PI_SQUARED * (135 * z4 - 96 * z6) / 4, k3a = -30 * z6 - 90 * z4 * z4;
    double K[4] = {0, 0, 0, 0};
    int maxk = (int)ceil(16 * z / DRIFT_PI);
    for (int k = maxk; k > 0; k--) {
        double m = 2 * k - 1, m2 = m * m, m4 = m2 * m2, m6 = m4 * m2;
        double qp = pow(q, 8 * k);
        const double c[4] = {1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4,
                             k3a + k3b * m2 + k3c * m4 + k3d * m6};
        for (int i = 0; i < 4; i++)
            K[i] = K[i] * qp + c[i];
    }
    const double div[4] = {z, 6 * z4, 72 * pow(z, 7), 6480 * pow(z, 10)};
    for (int i = 0; i < 4; i++)
        K[i] = K[i] * q * SQRT2PI / div[i];
    q = exp(-PI_SQUARED / 2 / z2);
    double sqrt3z = SQRT3 * z, k2extra = 0.0, k3extra = 0.0;
    for (int k = maxk; k > 0; k--) {
        double ks2 = (double)k * k, qp = pow(q, ks2), kspi = DRIFT_PI * k;
        k2extra += ks2 * qp;
        k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ks2 * qp;
    }
    K[2] += k2extra * (PI_SQUARED * SQRT2PI / (-36 * z3));
    K[3] += k3extra * (PI_SQUARED * SQRT2PI / (216 * z6));
    double sum = 0.0;
    for (int i = 0; i < 4; i++)
        sum += K[i] / pow((double)n, i / 2.0);
    return sum;
}

static double log_nfact_div_npown(double n)
{
    static const double c[8] = {-2.955065359477124183e-2,  6.4102564102564102564e-3,
                                -1.9175269175269175269e-3, 8.4175084175084175084e-4,
                                -5.952380952380952381e-4,  7.9365079365079365079e-4,
                                -2.7777777777777777778e-3, 8.3333333333333333333e-2};
    double rn = 1.0 / n, y = rn / n, s = 0.0;
    for (int i = 0; i < 8; i++)
        s = s * y + c[i];
    return log(n) / 2 - n + LOG_2PI / 2 + rn * s;
}

double tr_drift_kstwo_sf(double x, int n)
{
    if (n <= 0 || isnan(x))
        return NAN;
    if (x >= 1.0)
        return 0.0;
    if (x <= 0.0)
        return 1.0;
    double t = n * x;
    if (t <= 1.0) {
        if (t <= 0.5)
            return 1.0;
        double prob;
        if (n <= 140) {
            prob = 1.0;
            for (int i = 1; i <= n; i++)
                prob *= i * (1.0 / n) * (2 * t - 1);
        } else {
            prob = exp(log_nfact_div_npown(n) + n * log(2 * t - 1));
        }
        return clip01(1.0 - prob);
    }
    if (t >= n - 1)
        return clip01(2 * pow(1.0 - x, n));
    if (x >= 0.5)
        return clip01(2 * tr_drift_smirnov(n, x));
    double nx2 = t * x;
    if (n <= 140) {
        /* SciPy uses Pomeranz's recursion for 0.754693 < n x^2 <= 4; Durbin's matrix computes
         * the same exact probability */
        if (nx2 <= 4)
            return clip01(1.0 - kolmogn_dmtw(n, x));
        return clip01(2 * tr_drift_smirnov(n, x));
    }
    if (nx2 >= 370.0)
        return 0.0;
    if (nx2 >= 2.2)
        return clip01(2 * tr_drift_smirnov(n, x));
    double cdf;
    if (nx2 >= 18.0)
        cdf = 1.0;
    else if (n <= 100000 && n * pow(x, 1.5) <= 1.4)
        cdf = kolmogn_dmtw(n, x);
    else
        cdf = kolmogn_pelzgood(n, x);
    return clip01(1.0 - cdf);
}

/* ---- Two-sample KS --------------------------------------------------------------------------- */

/* Pr(D_{n,n} >= h/n), _compute_prob_outside_square. */
static double prob_outside_square(long n, long h)
{
    double P = 0.0;
    for (long k = n / h; k >= 0; k--) {
        double p1 = 1.0;
        for (long j = 0; j < h; j++)
            p1 = (double)(n - k * h - j) * p1 / (double)(n + k * h + j + 1);
        P = p1 * (1.0 - P);
    }
    return 2 * P;
}

static long floor_div(long a, long b) /* b > 0 */
{
    long q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

static long ceil_div(long a, long b) /* b > 0 */
{
    return -floor_div(-a, b);
}

/* 1 - Pr(paths stay strictly inside |x/m - y/n| < h/lcm), _compute_outer_prob_inside_method.
 * NAN when the workspace cannot be allocated. */
static double outer_prob_inside(long m, long n, long g, long h)
{
    if (m < n) {
        long t = m;
        m = n;
        n = t;
    }
    long mg = m / g, ng = n / g;
    long minj = 0, maxj = ceil_div(h, mg);
    if (maxj > n + 1)
        maxj = n + 1;
    long curlen = maxj - minj;
    long lenA = 2 * maxj + 2 < n + 1 ? 2 * maxj + 2 : n + 1;
    double *A = malloc((size_t)lenA * sizeof *A);
    if (A == NULL)
        return NAN;
    for (long j = 0; j < lenA; j++)
        A[j] = j < maxj ? 0.0 : 1.0;
    for (long i = 1; i <= m; i++) {
        long lastminj = minj, lastlen = curlen;
        minj = floor_div(ng * i - h, mg) + 1;
        if (minj < 0)
            minj = 0;
        if (minj > n)
            minj = n;
        maxj = ceil_div(ng * i + h, mg);
        if (maxj > n + 1)
            maxj = n + 1;
        if (maxj <= minj) {
            free(A);
            return 1.0;
        }
        double val = minj == 0 ? 0.0 : 1.0;
        for (long jj = 0; jj < maxj - minj; jj++) {
            long j = jj + minj;
            val = (A[jj + minj - lastminj] * (double)i + val * (double)j) / (double)(i + j);
            A[jj] = val;
        }
        curlen = maxj - minj;
        for (long q = curlen; q < curlen + (lastlen - curlen) && q < lenA; q++)
            A[q] = 1.0;
    }
    double p = A[maxj - minj - 1];
    free(A);
    return p;
}

static long gcd_long(long a, long b)
{
    while (b) {
        long t = a % b;
        a = b;
        b = t;
    }
    return a;
}

tr_drift_ks tr_drift_ks_sorted(const double *a, size_t n1, const double *b, size_t n2)
{
    long g = gcd_long((long)n1, (long)n2);
    int64_t n1g = (int64_t)n1 / g, n2g = (int64_t)n2 / g, lcm = n1g * (int64_t)n2;
    /* max over the values of |i/n1 - j/n2| = |i n2g - j n1g| / lcm, ECDFs right-continuous */
    int64_t hmax = 0;
    size_t i = 0, j = 0;
    while (i < n1 || j < n2) {
        double x = (j >= n2 || (i < n1 && a[i] <= b[j])) ? a[i] : b[j];
        while (i < n1 && a[i] <= x)
            i++;
        while (j < n2 && b[j] <= x)
            j++;
        int64_t diff = (int64_t)i * n2g - (int64_t)j * n1g;
        if (diff < 0)
            diff = -diff;
        if (diff > hmax)
            hmax = diff;
    }
    tr_drift_ks r = {(double)hmax / (double)lcm, NAN, 0};
    if ((n1 > n2 ? n1 : n2) <= KS_MAX_AUTO_N) {
        double p;
        if (hmax == 0)
            p = 1.0;
        else if (n1 == n2)
            p = prob_outside_square((long)n1, (long)hmax);
        else
            p = outer_prob_inside((long)n1, (long)n2, g, (long)hmax);
        if (p >= 0.0 && p <= 1.0) { /* else SciPy switches to the asymptotic form */
            r.p = p;
            r.exact = 1;
            return r;
        }
    }
    double m = (double)(n1 > n2 ? n1 : n2), n = (double)(n1 > n2 ? n2 : n1);
    double en = m * n / (m + n);
    r.p = clip01(tr_drift_kstwo_sf(r.d, (int)nearbyint(en)));
    return r;
}

tr_code tr_drift_ks_2samp(const double *a, size_t n1, const double *b, size_t n2, tr_drift_ks *out,
                          tr_error *err)
{
    out->d = out->p = NAN;
    out->exact = 0;
    if (n1 == 0 || n2 == 0 || n1 > INT32_MAX || n2 > INT32_MAX)
        return tr_fail(err, TR_ERR_INVALID, "ks_2samp: sample sizes %zu and %zu", n1, n2);
    if (!all_finite(a, n1) || !all_finite(b, n2))
        return tr_fail(err, TR_ERR_INVALID, "ks_2samp: a non-finite value");
    double *sa = sorted_copy(a, n1), *sb = sorted_copy(b, n2);
    if (sa == NULL || sb == NULL) {
        free(sa), free(sb);
        return tr_fail(err, TR_ERR_NOMEM, "ks_2samp: out of memory");
    }
    *out = tr_drift_ks_sorted(sa, n1, sb, n2);
    free(sa), free(sb);
    return TR_OK;
}

/* ---- Chi-square ------------------------------------------------------------------------------ */

double tr_drift_chi2_sf(double x, int df)
{
    if (df < 1 || isnan(x))
        return NAN;
    if (x <= 0.0)
        return 1.0;
    if (isinf(x))
        return 0.0;
    double y = x / 2, e = exp(-y), s;
    if (df % 2 == 0) { /* exp(-y) sum_{j < df/2} y^j / j! */
        double term = 1.0;
        s = 1.0;
        for (int j = 1; j < df / 2; j++) {
            term *= y / j;
            s += term;
        }
        return e * s;
    }
    /* erfc(sqrt y) + exp(-y) sum_{j=1}^{(df-1)/2} y^(j - 1/2) / Gamma(j + 1/2) */
    double r = sqrt(y), term = 2 * r / sqrt(DRIFT_PI);
    s = 0.0;
    for (int j = 1; j <= (df - 1) / 2; j++) {
        s += term;
        term *= y / (j + 0.5);
    }
    return erfc(r) + e * s;
}

/* ---- PSI ------------------------------------------------------------------------------------- */

/* Evidently's feel_zeroes on one side. */
static void fill_zeroes(double *share)
{
    double mn = INFINITY;
    for (int b = 0; b < TR_DRIFT_BINS; b++)
        if (share[b] != 0.0 && share[b] < mn)
            mn = share[b];
    double fill = mn <= 0.0001 ? mn / 1e6 : 0.0001;
    for (int b = 0; b < TR_DRIFT_BINS; b++)
        if (share[b] == 0.0)
            share[b] = fill;
}

tr_code tr_drift_psi_compute(const tr_drift_ref *ref, const double *cur, size_t n,
                             tr_drift_psi *out, tr_error *err)
{
    out->psi = NAN;
    if (ref->n == 0 || n == 0 || !all_finite(cur, n))
        return tr_fail(err, TR_ERR_INVALID, "psi: empty reference or current values");
    size_t count[TR_DRIFT_BINS] = {0};
    for (size_t i = 0; i < n; i++)
        count[tr_drift_bin(ref, cur[i])]++;
    for (int b = 0; b < TR_DRIFT_BINS; b++) {
        out->ref_share[b] = ref->bin_share[b];
        out->cur_share[b] = (double)count[b] / (double)n;
    }
    fill_zeroes(out->ref_share);
    fill_zeroes(out->cur_share);
    double psi = 0.0;
    for (int b = 0; b < TR_DRIFT_BINS; b++)
        psi += (out->ref_share[b] - out->cur_share[b]) * log(out->ref_share[b] / out->cur_share[b]);
    out->psi = psi;
    return TR_OK;
}

/* ---- Verdicts -------------------------------------------------------------------------------- */

const char *tr_drift_method_text(tr_drift_method m)
{
    switch (m) {
    case TR_DRIFT_KS:
        return "ks";
    case TR_DRIFT_WASSERSTEIN:
        return "wasserstein";
    case TR_DRIFT_FEW_VALUES:
        return "few-values";
    case TR_DRIFT_NONE:
        break;
    }
    return "none";
}

tr_drift_opts tr_drift_opts_default(void)
{
    tr_drift_opts o = {0.05, 0.1, 0.1, 0.5, TR_DRIFT_SKETCH};
    return o;
}

static int opts_valid(const tr_drift_opts *o)
{
    return o->ks_alpha > 0.0 && o->ks_alpha < 1.0 && o->wd_threshold > 0.0 &&
           isfinite(o->wd_threshold) && o->psi_threshold > 0.0 && isfinite(o->psi_threshold) &&
           o->drift_share > 0.0 && o->drift_share <= 1.0;
}

/* Distinct values of the union of two ascending arrays, counted up to 6. */
static int union_distinct(const double *a, size_t na, const double *b, size_t nb)
{
    int count = 0;
    size_t i = 0, j = 0;
    double last = NAN;
    while ((i < na || j < nb) && count <= 5) {
        double x = (j >= nb || (i < na && a[i] <= b[j])) ? a[i++] : b[j++];
        if (count == 0 || x != last)
            count++;
        last = x;
    }
    return count;
}

tr_code tr_drift_feature_test(const tr_drift_ref *ref, const double *cur, size_t n,
                              const tr_drift_opts *opt, tr_drift_feature *out, tr_error *err)
{
    memset(out, 0, sizeof *out);
    out->stat = out->p = out->psi = out->threshold = NAN;
    if (!opts_valid(opt))
        return tr_fail(err, TR_ERR_INVALID, "drift: invalid options");
    if (ref->n == 0 || ref->n_sketch < 1 || ref->n_sketch > TR_DRIFT_SKETCH)
        return tr_fail(err, TR_ERR_INVALID, "drift: empty reference");
    if (n == 0 || n > INT32_MAX || !all_finite(cur, n))
        return tr_fail(err, TR_ERR_INVALID, "drift: %s current values",
                       n == 0 ? "no" : "too many or non-finite");
    double *s = sorted_copy(cur, n);
    if (s == NULL)
        return tr_fail(err, TR_ERR_NOMEM, "drift: out of memory (%zu values)", n);
    out->n_ref = ref->n;
    out->n_cur = n;
    tr_drift_psi psi;
    tr_drift_psi_compute(ref, s, n, &psi, NULL);
    out->psi = psi.psi;
    out->psi_drift = psi.psi >= opt->psi_threshold;
    size_t ns = (size_t)ref->n_sketch;
    if (ref->n_distinct <= 5 && union_distinct(ref->sketch, ns, s, n) <= 5) {
        out->method = TR_DRIFT_FEW_VALUES;
    } else if (ref->n <= opt->ks_max_ref) {
        tr_drift_ks ks = tr_drift_ks_sorted(ref->sketch, ns, s, n);
        out->method = TR_DRIFT_KS;
        out->stat = ks.d;
        out->p = ks.p;
        out->threshold = opt->ks_alpha;
        out->stat_err = ns < ref->n ? 0.5 / TR_DRIFT_SKETCH : 0.0;
        out->drift = ks.p <= opt->ks_alpha;
    } else {
        double norm = fmax(ref->sd, 0.001);
        out->method = TR_DRIFT_WASSERSTEIN;
        out->stat = tr_drift_wasserstein_sorted(ref->sketch, ns, s, n) / norm;
        out->threshold = opt->wd_threshold;
        out->stat_err = ref->sketch_w1 / norm;
        out->drift = out->stat >= opt->wd_threshold;
    }
    free(s);
    return TR_OK;
}

tr_code tr_drift_dataset_test(const tr_drift_ref *refs, int n_features, const double *rows,
                              size_t n_rows, const tr_drift_opts *opt, tr_drift_feature *out,
                              tr_drift_dataset *ds, tr_error *err)
{
    memset(ds, 0, sizeof *ds);
    if (n_features < 1 || n_rows == 0)
        return tr_fail(err, TR_ERR_INVALID, "drift: %d features, %zu rows", n_features, n_rows);
    double *col = malloc(n_rows * sizeof *col);
    if (col == NULL)
        return tr_fail(err, TR_ERR_NOMEM, "drift: out of memory (%zu rows)", n_rows);
    for (int f = 0; f < n_features; f++) {
        size_t m = 0;
        for (size_t r = 0; r < n_rows; r++) {
            double v = rows[r * (size_t)n_features + (size_t)f];
            if (isfinite(v))
                col[m++] = v;
        }
        tr_code rc = m == 0
                         ? tr_fail(err, TR_ERR_INVALID, "drift: feature %d has no finite value", f)
                         : tr_drift_feature_test(&refs[f], col, m, opt, &out[f], err);
        if (rc != TR_OK) {
            free(col);
            return rc;
        }
        ds->n_drifted += out[f].drift;
        ds->n_psi_drifted += out[f].psi_drift;
    }
    free(col);
    ds->n_features = n_features;
    ds->share = (double)ds->n_drifted / n_features;
    ds->drift = ds->share >= opt->drift_share;
    return TR_OK;
}

/* ---- Prediction drift ------------------------------------------------------------------------ */

tr_code tr_drift_predictions(const size_t *ref_counts, const size_t *cur_counts, int k,
                             double alpha, tr_drift_pred *out, tr_error *err)
{
    memset(out, 0, sizeof *out);
    out->chi2 = out->p = NAN;
    if (k < 2 || k > TR_DRIFT_MAX_CLASSES || !(alpha > 0.0 && alpha < 1.0))
        return tr_fail(err, TR_ERR_INVALID, "prediction drift: %d classes, alpha %g", k, alpha);
    size_t nr = 0, nc = 0;
    for (int c = 0; c < k; c++) {
        nr += ref_counts[c];
        nc += cur_counts[c];
    }
    if (nr == 0 || nc == 0)
        return tr_fail(err, TR_ERR_INVALID, "prediction drift: an empty side (%zu, %zu)", nr, nc);
    out->k = k;
    double knorm = (double)nc / (double)nr, chi2 = 0.0;
    int seen = 0;
    for (int c = 0; c < k; c++) {
        out->ref_share[c] = (double)ref_counts[c] / (double)nr;
        out->cur_share[c] = (double)cur_counts[c] / (double)nc;
        if (ref_counts[c] == 0 && cur_counts[c] == 0)
            continue;
        seen++;
        double e = (double)ref_counts[c] * knorm, o = (double)cur_counts[c];
        chi2 += e > 0.0 ? (o - e) * (o - e) / e : INFINITY;
    }
    out->df = seen - 1;
    if (seen < 2) {
        out->chi2 = 0.0;
        out->p = 1.0;
    } else {
        out->chi2 = chi2;
        out->p = tr_drift_chi2_sf(chi2, out->df);
    }
    out->drift = out->p < alpha;
    return TR_OK;
}
