/*
 * abstat.c - A/B test statistics (abstat.h; formulas, conventions and citations in
 * docs/abtest-statistics.md).
 *
 * Normal: Phi(x) = erfc(-x / sqrt 2) / 2. Phi^-1: Wichura's AS 241 (PPND16), rational
 * approximations of degree 7 in r = 0.180625 - q^2 for |q| = |p - 1/2| <= 0.425, and in
 * r = sqrt(-log min(p, 1 - p)) - 1.6 (r <= 5) or - 5 beyond; the coefficients are the paper's.
 *
 * Student t: for x <= 0, T(x) = I_y(nu/2, 1/2) / 2 with y = nu / (nu + x^2). The regularised
 * incomplete beta is I_x(a, b) = x^a (1-x)^b / (a B(a, b)) / (1 + d1 / (1 + d2 / (1 + ...))) with
 * d_{2m} = m (b - m) x / ((a + 2m - 1)(a + 2m)), d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)
 * (a + 2m + 1)) (DLMF 8.17.22), evaluated by the modified Lentz method (Numerical Recipes 6.4),
 * and through I_x(a, b) = 1 - I_{1-x}(b, a) when x >= (a + 1) / (a + b + 2). The prefactor is
 * taken in logs, with 1 - x passed exactly (never recomputed) and log B(a, b) from Stirling's
 * series where an argument is >= 10, so that lgamma(a) - lgamma(a + b) does not cancel at large df.
 *
 * Group-sequential boundaries: at information fraction t the standardised statistic is
 * Z = S / sqrt(t) with S a Brownian motion under H0. The sub-density of S_j on the paths that have
 * not stopped, g_j(s) = integral over |u| < c_{j-1} sqrt(t_{j-1}) of g_{j-1}(u) phi_sd(s - u) du
 * (sd = sqrt(t_j - t_{j-1})), is tabulated look by look on a uniform Simpson grid (Armitage,
 * McPherson and Rowe 1969; Jennison and Turnbull 2000, ch. 19), and the probability of stopping
 * at look j integrates g_{j-1} against the two normal tails beyond +-c_j sqrt(t_j).
 */
#include <math.h>
#include <stdlib.h>

#include "market/abstat.h"

#define SQRT1_2      0.70710678118654752440 /* 1 / sqrt(2) */
#define INV_SQRT_2PI 0.39894228040143267794 /* 1 / sqrt(2 pi) */
#define LN_SQRT_2PI  0.91893853320467274178 /* log sqrt(2 pi) */

/* ---- Normal ---------------------------------------------------------------------------------- */

double tr_ab_norm_cdf(double x)
{
    return 0.5 * erfc(-x * SQRT1_2);
}

double tr_ab_norm_sf(double x)
{
    return 0.5 * erfc(x * SQRT1_2);
}

static double norm_pdf(double x)
{
    return INV_SQRT_2PI * exp(-0.5 * x * x);
}

/* c[0] + c[1] r + ... + c[7] r^7 */
static double poly7(const double *c, double r)
{
    double s = c[7];
    for (int i = 6; i >= 0; i--)
        s = s * r + c[i];
    return s;
}

double tr_ab_norm_ppf(double p)
{
    /* Wichura (1988), AS 241, PPND16: numerators and denominators, lowest degree first */
    static const double a[8] = {3.3871328727963666080e0,  1.3314166789178437745e+2,
                                1.9715909503065514427e+3, 1.3731693765509461125e+4,
                                4.5921953931549871457e+4, 6.7265770927008700853e+4,
                                3.3430575583588128105e+4, 2.5090809287301226727e+3};
    static const double b[8] = {1.00000000000000000000e0, 4.2313330701600911252e+1,
                                6.8718700749205790830e+2, 5.3941960214247511077e+3,
                                2.1213794301586595867e+4, 3.9307895800092710610e+4,
                                2.8729085735721942674e+4, 5.2264952788528545610e+3};
    static const double c[8] = {1.42343711074968357734e0,  4.63033784615654529590e0,
                                5.76949722146069140550e0,  3.64784832476320460504e0,
                                1.27045825245236838258e0,  2.41780725177450611770e-1,
                                2.27238449892691845833e-2, 7.74545014278341407640e-4};
    static const double d[8] = {1.00000000000000000000e0,  2.05319162663775882187e0,
                                1.67638483018380384940e0,  6.89767334985100004550e-1,
                                1.48103976427480074590e-1, 1.51986665636164571966e-2,
                                5.47593808499534494600e-4, 1.05075007164441684324e-9};
    static const double e[8] = {6.65790464350110377720e0,  5.46378491116411436990e0,
                                1.78482653991729133580e0,  2.96560571828504891230e-1,
                                2.65321895265761230930e-2, 1.24266094738807843860e-3,
                                2.71155556874348757815e-5, 2.01033439929228813265e-7};
    static const double f[8] = {1.00000000000000000000e0,  5.99832206555887937690e-1,
                                1.36929880922735805310e-1, 1.48753612908506148525e-2,
                                7.86869131145613259100e-4, 1.84631831751005468180e-5,
                                1.42151175831644588870e-7, 2.04426310338993978564e-15};
    if (!(p >= 0.0 && p <= 1.0))
        return NAN;
    if (p == 0.0)
        return -INFINITY;
    if (p == 1.0)
        return INFINITY;
    double q = p - 0.5;
    if (fabs(q) <= 0.425) {
        double r = 0.180625 - q * q;
        return q * poly7(a, r) / poly7(b, r);
    }
    double r = sqrt(-log(q < 0.0 ? p : 1.0 - p)); /* 1 - p is exact for p >= 1/2 */
    double x =
        r <= 5.0 ? poly7(c, r - 1.6) / poly7(d, r - 1.6) : poly7(e, r - 5.0) / poly7(f, r - 5.0);
    return q < 0.0 ? -x : x;
}

/* ---- Incomplete beta and Student t ----------------------------------------------------------- */

/* lgamma(x) - ((x - 1/2) log x - x + log sqrt(2 pi)) for x >= 10: Stirling's series
 * sum B_2k / (2k (2k - 1) x^(2k - 1)), eight terms (error below 1e-17 at x = 10). */
static double stirling_delta(double x)
{
    double r = 1.0 / x, r2 = r * r;
    return r * (1.0 / 12 +
                r2 * (-1.0 / 360 +
                      r2 * (1.0 / 1260 +
                            r2 * (-1.0 / 1680 +
                                  r2 * (1.0 / 1188 +
                                        r2 * (-691.0 / 360360 +
                                              r2 * (1.0 / 156 + r2 * (-3617.0 / 122400))))))));
}

/* log B(a, b) for a, b > 0 without the cancellation of lgamma differences at large arguments
 * (and without lgamma, whose signgam is global state). */
static double log_beta(double a, double b)
{
    if (a < b) {
        double s = a;
        a = b;
        b = s;
    }
    /* now a >= b; (a - 1/2) log(a / (a + b)) = -(a - 1/2) log1p(b / a) */
    if (b >= 10.0)
        return LN_SQRT_2PI - 0.5 * log(a + b) - (a - 0.5) * log1p(b / a) +
               (b - 0.5) * log(b / (a + b)) + stirling_delta(a) + stirling_delta(b) -
               stirling_delta(a + b);
    if (a >= 10.0) /* log Gamma(b) + [log Gamma(a) - log Gamma(a + b)] */
        return log(tgamma(b)) - (a - 0.5) * log1p(b / a) - b * log(a + b) + b + stirling_delta(a) -
               stirling_delta(a + b);
    return log(tgamma(a)) + log(tgamma(b)) - log(tgamma(a + b));
}

/* 1 + d1 / (1 + d2 / (1 + ...)) of DLMF 8.17.22 by the modified Lentz method. It converges
 * quickly for x < (a + 1) / (a + b + 2), in O(sqrt(max(a, b))) terms at worst. */
static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300, eps = 1e-15;
    const long max_terms = 4000000;
    /* c and d carry from one term to the next (modified Lentz), so they live outside the loop */
    // cppcheck-suppress variableScope
    double f = 1.0, c = 1.0, d = 0.0;
    for (long n = 1; n <= max_terms; n++) {
        double m = (double)(n / 2), dn;
        if (n % 2 == 0)
            dn = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
        else
            dn = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
        d = 1.0 + dn * d;
        if (fabs(d) < tiny)
            d = tiny;
        c = 1.0 + dn / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1.0 / d;
        double delta = c * d;
        f *= delta;
        if (fabs(delta - 1.0) < eps)
            break;
    }
    return f;
}

/* I_x(a, 1/2) for large a and x >= 1/e, where the continued fraction cancels (its odd partial
 * numerators tend to -1 as x -> 1 and a grows: a relative error of about a * 1e-16). With
 * t = e^-u, B(a, b) I_x(a, b) = integral from -log x to infinity of e^(-nu u) u^(b-1) h(u) du,
 * nu = a + (b - 1)/2, h(u) = (sinh(u/2) / (u/2))^(b-1) = sum d_k u^2k; termwise,
 * I_x(a, b) = nu^-b / B(a, b) sum d_k nu^-2k Gamma(b + 2k, z), z = -nu log x: the large-a
 * expansion behind DiDonato and Morris's BGRAT (ACM TOMS 708, 1992). For b = 1/2,
 * Gamma(1/2, z) = sqrt(pi) erfc(sqrt z), and Gamma(c + 1, z) = c Gamma(c, z) + z^c e^-z gives the
 * rest with positive terms only. The terms shrink like (log x / 2 pi)^2k. */
static double betainc_large_a_half(double a, double x, double y)
{
    enum { N_TERMS = 40 };
    double g[N_TERMS], d[N_TERMS]; /* (N_TERMS): sinh(v)/v in w = u^2, and its power -1/2 */
    double fact = 1.0;             /* (2k + 1)! 4^k */
    g[0] = d[0] = 1.0;
    for (int k = 1; k < N_TERMS; k++) {
        fact *= (2.0 * k) * (2.0 * k + 1) * 4.0;
        g[k] = 1.0 / fact;
        double s = 0.0; /* J. C. P. Miller's recurrence for a power p = -1/2 of a series */
        for (int j = 1; j <= k; j++)
            s += (0.5 * j - k) * g[j] * d[k - j];
        d[k] = s / k;
    }
    double nu = a - 0.25, lx = x > 0.5 ? log1p(-y) : log(x), z = -nu * lx;
    double gam = 1.7724538509055160273 * erfc(sqrt(z)); /* nu^-2k Gamma(1/2 + 2k, z) */
    double e = sqrt(z) * exp(-z);                       /* nu^-2k z^(1/2 + 2k) e^-z */
    double sum = gam, inv_nu2 = 1.0 / (nu * nu);
    for (int k = 0; k + 1 < N_TERMS; k++) {
        double c = 0.5 + 2 * k;
        gam = (c * (c + 1) * gam + (c + 1 + z) * e) * inv_nu2;
        e *= z * z * inv_nu2;
        double term = d[k + 1] * gam;
        sum += term;
        if (fabs(term) <= 1e-17 * sum)
            break;
    }
    return exp(-log_beta(a, 0.5) - 0.5 * log(nu)) * sum;
}

/* I_x(a, b) with y = 1 - x given separately (exactly, by the caller). */
static double betainc_xy(double a, double b, double x, double y)
{
    if (x <= 0.0)
        return 0.0;
    if (y <= 0.0)
        return 1.0;
    if (b == 0.5 && a >= 500.0 && x >= 0.36787944117144233) /* x >= 1/e */
        return betainc_large_a_half(a, x, y);
    double lx = x > 0.5 ? log1p(-y) : log(x);
    double ly = y > 0.5 ? log1p(-x) : log(y);
    double lfront = a * lx + b * ly - log_beta(a, b);
    if (x < (a + 1.0) / (a + b + 2.0))
        return exp(lfront - log(a)) / beta_cf(a, b, x);
    return 1.0 - exp(lfront - log(b)) / beta_cf(b, a, y);
}

double tr_ab_betainc(double a, double b, double x)
{
    if (!(a > 0.0 && b > 0.0 && x >= 0.0 && x <= 1.0) || isinf(a) || isinf(b))
        return NAN;
    return betainc_xy(a, b, x, 1.0 - x);
}

/* 2 P(T <= -|t|) for a finite df > 0: I_x(df/2, 1/2), x = df / (df + t^2) = 1 / (1 + r^2). */
static double t_two_tail(double t, double df)
{
    double r = fabs(t) / sqrt(df), r2 = r * r;
    if (isinf(r2))
        return 0.0;
    return betainc_xy(0.5 * df, 0.5, 1.0 / (1.0 + r2), r2 / (1.0 + r2));
}

double tr_ab_t_p2(double t, double df)
{
    if (isnan(t) || !(df > 0.0))
        return NAN;
    if (isinf(df))
        return erfc(fabs(t) * SQRT1_2);
    return t_two_tail(t, df);
}

double tr_ab_t_cdf(double x, double df)
{
    if (isnan(x) || !(df > 0.0))
        return NAN;
    if (isinf(df))
        return tr_ab_norm_cdf(x);
    double tail = 0.5 * t_two_tail(x, df);
    return x <= 0.0 ? tail : 1.0 - tail;
}

/* ---- Arms ------------------------------------------------------------------------------------ */

tr_ab_arm tr_ab_arm_empty(void)
{
    tr_ab_arm a = {0, 0, 0.0, 0.0, 0.0};
    return a;
}

void tr_ab_arm_add(tr_ab_arm *a, double pnl, int win)
{
    a->n++;
    a->wins += win != 0;
    a->sum += pnl;
    double delta = pnl - a->mean;
    a->mean += delta / (double)a->n;
    a->m2 += delta * (pnl - a->mean);
}

void tr_ab_arm_merge(tr_ab_arm *a, const tr_ab_arm *b)
{
    if (b->n == 0)
        return;
    if (a->n == 0) {
        *a = *b;
        return;
    }
    double na = (double)a->n, nb = (double)b->n, n = na + nb;
    double delta = b->mean - a->mean;
    a->mean += delta * (nb / n);
    a->m2 += b->m2 + delta * delta * (na * nb / n);
    a->n += b->n;
    a->wins += b->wins;
    a->sum += b->sum;
}

tr_ab_arm tr_ab_arm_from_moments(size_t n, size_t wins, double mean, double var)
{
    tr_ab_arm a = {n, wins, 0.0, 0.0, 0.0};
    if (n == 0)
        return a;
    a.mean = mean;
    a.sum = mean * (double)n;
    a.m2 = n >= 2 ? var * (double)(n - 1) : 0.0;
    return a;
}

tr_ab_arm tr_ab_arm_from_sums(size_t n, size_t wins, double sum, double sumsq)
{
    tr_ab_arm a = {n, wins, sum, 0.0, 0.0};
    if (n == 0)
        return a;
    a.mean = sum / (double)n;
    a.m2 = fmax(0.0, sumsq - sum * a.mean);
    return a;
}

double tr_ab_arm_win_rate(const tr_ab_arm *a)
{
    return a->n ? (double)a->wins / (double)a->n : NAN;
}

double tr_ab_arm_var(const tr_ab_arm *a)
{
    return a->n >= 2 ? a->m2 / (double)(a->n - 1) : NAN;
}

double tr_ab_arm_sharpe(const tr_ab_arm *a)
{
    if (a->n < 2)
        return 0.0;
    double sd = sqrt(tr_ab_arm_var(a));
    return sd > 0.0 ? a->mean / sd : 0.0;
}

/* ---- Tests ----------------------------------------------------------------------------------- */

tr_code tr_ab_ztest(size_t n1, size_t x1, size_t n2, size_t x2, tr_ab_zfigs *out, tr_error *err)
{
    tr_ab_zfigs r = {NAN, NAN, NAN, NAN, NAN, 0};
    if (x1 > n1 || x2 > n2) {
        *out = r;
        return tr_fail(err, TR_ERR_INVALID, "z-test: wins (%zu, %zu) exceed trades (%zu, %zu)", x1,
                       x2, n1, n2);
    }
    if (n1)
        r.p1 = (double)x1 / (double)n1;
    if (n2)
        r.p2 = (double)x2 / (double)n2;
    if (n1 + n2)
        r.pooled = (double)(x1 + x2) / (double)(n1 + n2);
    if (n1 == 0 || n2 == 0) {
        *out = r;
        return TR_OK;
    }
    r.ok = 1;
    if (x1 + x2 == 0 || x1 + x2 == n1 + n2) {
        r.z = 0.0; /* no variance: the arms cannot differ */
        r.p = 1.0;
    } else {
        double se = sqrt(r.pooled * (1.0 - r.pooled) * (1.0 / (double)n1 + 1.0 / (double)n2));
        r.z = (r.p1 - r.p2) / se;
        r.p = erfc(fabs(r.z) * SQRT1_2);
    }
    *out = r;
    return TR_OK;
}

tr_code tr_ab_welch(size_t n1, double mean1, double var1, size_t n2, double mean2, double var2,
                    tr_ab_tfigs *out, tr_error *err)
{
    tr_ab_tfigs r = {NAN, NAN, NAN, NAN, NAN, 0};
    *out = r;
    if (n1 < 2 || n2 < 2)
        return TR_OK;
    if (!isfinite(mean1) || !isfinite(mean2) || !isfinite(var1) || !isfinite(var2) || var1 < 0.0 ||
        var2 < 0.0)
        return tr_fail(err, TR_ERR_INVALID, "Welch test: bad moments (mean %g, %g; var %g, %g)",
                       mean1, mean2, var1, var2);
    double a = var1 / (double)n1, b = var2 / (double)n2, s = a + b;
    r.diff = mean1 - mean2;
    r.se = sqrt(s);
    r.ok = 1;
    if (s == 0.0) {
        r.df = (double)n1 + (double)n2 - 2.0;
        r.t = r.diff == 0.0 ? 0.0 : copysign(INFINITY, r.diff);
        r.p = r.diff == 0.0 ? 1.0 : 0.0;
    } else {
        double ra = a / s, rb = b / s; /* the df formula, scaled: no overflow of squares */
        r.df = 1.0 / (ra * ra / (double)(n1 - 1) + rb * rb / (double)(n2 - 1));
        r.t = r.diff / r.se;
        r.p = tr_ab_t_p2(r.t, r.df);
    }
    *out = r;
    return TR_OK;
}

/* ---- Sample size ----------------------------------------------------------------------------- */

/* (z_{1-alpha/2} + z_{power})^2, NAN for bad arguments */
static double z_sum_sq(double alpha, double power)
{
    if (!(alpha > 0.0 && alpha < 1.0 && power > 0.0 && power < 1.0))
        return NAN;
    double z = -tr_ab_norm_ppf(0.5 * alpha) + tr_ab_norm_ppf(power);
    return z * z;
}

double tr_ab_n_props(double p1, double p2, double alpha, double power)
{
    double zz = z_sum_sq(alpha, power);
    if (isnan(zz) || !(p1 >= 0.0 && p1 <= 1.0 && p2 >= 0.0 && p2 <= 1.0))
        return NAN;
    if (p1 == p2)
        return INFINITY;
    double d = p1 - p2;
    return ceil(zz * (p1 * (1.0 - p1) + p2 * (1.0 - p2)) / (d * d));
}

double tr_ab_n_means(double d, double sd1, double sd2, double alpha, double power)
{
    double zz = z_sum_sq(alpha, power);
    if (isnan(zz) || !isfinite(d) || !(sd1 >= 0.0 && sd2 >= 0.0) || isinf(sd1) || isinf(sd2))
        return NAN;
    if (d == 0.0)
        return INFINITY;
    return ceil(zz * (sd1 * sd1 + sd2 * sd2) / (d * d));
}

/* ---- Group-sequential boundaries ------------------------------------------------------------- */

#define SEQ_ZMAX    10.0 /* grids end at |z| = 10: P(|Z| > 10) = 1.5e-23 */
#define SEQ_H0      0.02 /* the largest grid step, z units */
#define SEQ_K       16.0 /* at least 16 steps per sd of the increments on either side */
#define SEQ_CUT     10.0 /* the kernel phi is cut at 10 sd (relative weight 2e-22) */
#define SEQ_MIN_GAP 2e-6 /* looks closer than 2e-6 t_j: one look (grids <= 226,275 points) */
#define SEQ_RUN     64   /* kernel values by recurrence between two exp */

typedef struct seq_grid {
    double lo, h; /* first point and step, S units */
    int m;        /* intervals, even: m + 1 points */
    double *w;    /* (m + 1): Simpson weight x sub-density g at each point */
} seq_grid;

/* The step of look j's grid (S units): fine enough for g_j's own scale (sd of the increment into
 * look j) and for the kernel of the next increment. */
static double seq_step(const double *t, int k, int j)
{
    double sd_in = sqrt(j ? t[j] - t[j - 1] : t[0]);
    double h = fmin(SEQ_H0 * sqrt(t[j]), sd_in / SEQ_K);
    if (j + 1 < k)
        h = fmin(h, sqrt(t[j + 1] - t[j]) / SEQ_K);
    return h;
}

static int seq_intervals(double half, double h)
{
    double m = 2.0 * ceil(half / h);
    return m < 2.0 ? 2 : (int)m;
}

/* Lays look j's grid over |s| < min(c, SEQ_ZMAX) sqrt(t_j). */
static void seq_grid_set(seq_grid *g, const double *t, int k, int j, double c)
{
    double half = fmin(c, SEQ_ZMAX) * sqrt(t[j]);
    g->m = seq_intervals(half, seq_step(t, k, j));
    g->h = 2.0 * half / g->m;
    g->lo = -half;
}

static double simpson_weight(int i, int m, double h)
{
    return (i == 0 || i == m ? 1.0 : i % 2 ? 4.0 : 2.0) * h / 3.0;
}

/* Probability of stopping at look j (>= 1) with critical value c, from the previous grid, and
 * (if dp) its derivative in c. */
static double seq_cross(const seq_grid *g, double sq_t, double sd, double c, double *dp)
{
    double p = 0.0, dens = 0.0;
    if (isinf(c)) {
        if (dp)
            *dp = 0.0;
        return 0.0;
    }
    double b = c * sq_t;
    for (int i = 0; i <= g->m; i++) {
        double u = g->lo + i * g->h;
        double lo = (-b - u) / sd, hi = (u - b) / sd; /* both tails as lower tails */
        p += g->w[i] * 0.5 * (erfc(-lo * SQRT1_2) + erfc(-hi * SQRT1_2));
        if (dp)
            dens += g->w[i] * (norm_pdf(lo) + norm_pdf(hi));
    }
    if (dp)
        *dp = -dens * sq_t / sd;
    return p;
}

/* The c at which look j stops with probability target (> 0), by Newton's method on
 * log P(c) - log target, safeguarded by bisection. */
static double seq_solve(const seq_grid *g, double sq_t, double sd, double target)
{
    double lo = 0.0, hi = -tr_ab_norm_ppf(0.5 * target); /* P(hi) <= 2 Phi(-hi) = target */
    if (seq_cross(g, sq_t, sd, lo, NULL) <= target)
        return 0.0;
    while (seq_cross(g, sq_t, sd, hi, NULL) > target)
        hi += 1.0;
    double c = hi;
    for (int it = 0; it < 200 && hi - lo > 1e-14 * hi; it++) {
        double dp, p = seq_cross(g, sq_t, sd, c, &dp);
        if (p > target)
            lo = c;
        else
            hi = c;
        double next = 0.5 * (lo + hi);
        if (p > 0.0 && dp < 0.0) {
            double newton = c - (log(p) - log(target)) * p / dp;
            if (newton > lo && newton < hi)
                next = newton;
        }
        if (fabs(next - c) <= 1e-14 * c)
            return next;
        c = next;
    }
    return c;
}

/* Tabulates g_j = Simpson weight x sub-density on the grid `to`, from the previous look's `from`
 * (already weighted), for the increment sd. Along the uniform grid the kernel needs few exp: with
 * v_q = (s - u_q) / sd falling by delta = h / sd, e^(-v_q^2/2) is multiplied by
 * r_q = e^(v_q delta - delta^2/2), and r_q by e^(-delta^2); reseeded every SEQ_RUN points, the
 * recurrence drifts by at most SEQ_RUN^2 1e-16 / 2 = 2e-13. */
static void seq_propagate(const seq_grid *from, seq_grid *to, double sd)
{
    double reach = SEQ_CUT * sd, inv_sd = 1.0 / sd, delta = from->h * inv_sd;
    double kappa = exp(-delta * delta);
    for (int i = 0; i <= to->m; i++) {
        double s = to->lo + i * to->h, acc = 0.0;
        double first = ceil((s - reach - from->lo) / from->h);
        double last = floor((s + reach - from->lo) / from->h);
        int a = first < 0.0 ? 0 : (int)first;
        int b = last > from->m ? from->m : (int)last;
        for (int q0 = a; q0 <= b; q0 += SEQ_RUN) {
            double v = (s - (from->lo + q0 * from->h)) * inv_sd;
            double e = exp(-0.5 * v * v), r = exp(v * delta - 0.5 * delta * delta);
            int q1 = b - q0 < SEQ_RUN ? b : q0 + SEQ_RUN - 1;
            for (int q = q0; q <= q1; q++) {
                acc += from->w[q] * e;
                e *= r;
                r *= kappa;
            }
        }
        to->w[i] = acc * INV_SQRT_2PI * inv_sd * simpson_weight(i, to->m, to->h);
    }
}

static tr_code seq_check(const double *t, int k, tr_error *err)
{
    if (k < 1 || !t)
        return tr_fail(err, TR_ERR_INVALID, "sequential test: %d looks", k);
    for (int j = 0; j < k; j++) {
        double prev = j ? t[j - 1] : 0.0;
        if (!(t[j] > prev && t[j] <= 1.0))
            return tr_fail(err, TR_ERR_INVALID,
                           "sequential test: look %d at information fraction %g (after %g); "
                           "fractions must increase strictly within (0, 1]",
                           j + 1, t[j], prev);
    }
    return TR_OK;
}

/* The recursion over looks whose gaps are all >= SEQ_MIN_GAP: bounds (z_in NULL: z_out solved
 * from alpha's spending) or crossing probabilities (z_in given: cumulative into p_cum). */
static tr_code seq_run(const double *t, int k, double alpha, const double *z_in, double *z_out,
                       double *p_cum, tr_error *err)
{
    double most = 0.0; /* the largest grid, for any c */
    for (int j = 0; j + 1 < k; j++)
        most = fmax(most, 2.0 * ceil(SEQ_ZMAX * sqrt(t[j]) / seq_step(t, k, j)));
    size_t n_pts = (size_t)most + 3;
    double *buf = malloc(2 * n_pts * sizeof *buf); /* (2, n_pts) */
    if (!buf)
        return tr_fail(err, TR_ERR_NOMEM, "sequential test: grid of %zu points", n_pts);
    seq_grid ga = {0.0, 0.0, 0, buf}, gb = {0.0, 0.0, 0, buf + n_pts};
    seq_grid *prev = &ga, *cur = &gb;

    /* each side spends alpha_s(t) = 2 - 2 Phi(z_{1-alpha/4} / sqrt t) (Lan-DeMets' function at the
     * one-sided level alpha/2, as R's ldbounds and gsDesign), both sides twice that */
    double z_side = z_in ? 0.0 : -tr_ab_norm_ppf(0.25 * alpha), spent = 0.0, total = 0.0;
    for (int j = 0; j < k; j++) {
        double c, sq_t = sqrt(t[j]);
        if (j == 0) {
            if (z_in) {
                c = z_in[0];
                total = isinf(c) ? 0.0 : erfc(c * SQRT1_2);
            } else {
                spent = 2.0 * erfc(z_side * SQRT1_2 / sq_t); /* 2 alpha_s(t_1) */
                c = spent > 0.0 ? -tr_ab_norm_ppf(0.5 * spent) : INFINITY;
            }
        } else {
            double sd = sqrt(t[j] - t[j - 1]);
            if (z_in) {
                c = z_in[j];
                total += seq_cross(prev, sq_t, sd, c, NULL);
            } else {
                double now = 2.0 * erfc(z_side * SQRT1_2 / sq_t), target = now - spent;
                spent = now;
                c = target > 0.0 ? seq_solve(prev, sq_t, sd, target) : INFINITY;
            }
        }
        if (z_out)
            z_out[j] = c;
        if (p_cum)
            p_cum[j] = total;
        if (j + 1 == k)
            break;
        if (!(c > 0.0)) { /* everything stops here: later looks see nothing */
            for (int q = j + 1; q < k; q++) {
                if (z_out)
                    z_out[q] = 0.0;
                if (p_cum)
                    p_cum[q] = total;
            }
            break;
        }
        seq_grid_set(cur, t, k, j, c);
        if (j == 0) {
            for (int i = 0; i <= cur->m; i++) {
                double s = cur->lo + i * cur->h;
                cur->w[i] = norm_pdf(s / sq_t) / sq_t * simpson_weight(i, cur->m, cur->h);
            }
        } else {
            seq_propagate(prev, cur, sqrt(t[j] - t[j - 1]));
        }
        seq_grid *swap = prev;
        prev = cur;
        cur = swap;
    }
    free(buf);
    return TR_OK;
}

static int seq_close(const double *t, int prev, int j)
{
    return t[j] - t[prev] < SEQ_MIN_GAP * t[j];
}

tr_code tr_ab_seq_bounds(const double *t, int k, double alpha, double *z_out, tr_error *err)
{
    if (!(alpha > 0.0 && alpha < 1.0))
        return tr_fail(err, TR_ERR_INVALID, "sequential test: alpha %g not in (0, 1)", alpha);
    if (!z_out)
        return tr_fail(err, TR_ERR_INVALID, "sequential test: no output");
    tr_code rc = seq_check(t, k, err);
    if (rc)
        return rc;
    /* a look within SEQ_MIN_GAP of the previous one kept adds no information: it cannot stop
     * (INFINITY) and the next look kept spends its share */
    double *kept = malloc(2 * (size_t)k * sizeof *kept); /* (2, k): looks kept, their bounds */
    int *from = malloc((size_t)k * sizeof *from);        /* (k): index into t of each kept */
    if (!kept || !from) {
        free(kept);
        free(from);
        return tr_fail(err, TR_ERR_NOMEM, "sequential test: %d looks", k);
    }
    int n = 1;
    kept[0] = t[0];
    from[0] = 0;
    for (int j = 1; j < k; j++) {
        z_out[j] = INFINITY;
        if (!seq_close(t, from[n - 1], j)) {
            kept[n] = t[j];
            from[n++] = j;
        }
    }
    rc = seq_run(kept, n, alpha, NULL, kept + k, NULL, err);
    for (int i = 0; i < n && rc == TR_OK; i++)
        z_out[from[i]] = kept[k + i];
    free(kept);
    free(from);
    return rc;
}

tr_code tr_ab_seq_crossing(const double *t, int k, const double *z, double *p_cum, tr_error *err)
{
    if (!z || !p_cum)
        return tr_fail(err, TR_ERR_INVALID, "sequential test: no boundaries or output");
    tr_code rc = seq_check(t, k, err);
    if (rc)
        return rc;
    for (int j = 0; j < k; j++) {
        if (!(z[j] >= 0.0))
            return tr_fail(err, TR_ERR_INVALID, "sequential test: boundary %g at look %d", z[j],
                           j + 1);
        if (j > 0 && seq_close(t, j - 1, j))
            return tr_fail(err, TR_ERR_INVALID,
                           "sequential test: looks %d and %d too close together (%.17g, %.17g)", j,
                           j + 1, t[j - 1], t[j]);
    }
    return seq_run(t, k, 0.0, z, NULL, p_cum, err);
}

/* ---- The verdict ----------------------------------------------------------------------------- */

const char *tr_ab_call_text(tr_ab_call c)
{
    switch (c) {
    case TR_AB_A:
        return "a";
    case TR_AB_B:
        return "b";
    case TR_AB_TIE:
        return "tie";
    case TR_AB_INSUFFICIENT:
        return "insufficient";
    case TR_AB_CONTINUE:
        break;
    }
    return "";
}

tr_ab_plan tr_ab_plan_default(void)
{
    tr_ab_plan p = {0.05, 0.8, 30};
    return p;
}

static int sign_of(double x)
{
    return (x > 0.0) - (x < 0.0);
}

tr_code tr_ab_decide(const tr_ab_arm *a, const tr_ab_arm *b, const double *looks, int n_looks,
                     int at_end, const tr_ab_plan *plan, tr_ab_verdict *out, tr_error *err)
{
    tr_ab_verdict v;
    v.call = TR_AB_CONTINUE;
    v.z = (tr_ab_zfigs){NAN, NAN, NAN, NAN, NAN, 0};
    v.t = (tr_ab_tfigs){NAN, NAN, NAN, NAN, NAN, 0};
    v.z_welch = v.boundary = v.n_props = v.n_means = NAN;
    v.sharpe_a = v.sharpe_b = 0.0;
    *out = v;
    if (!a || !b || !plan || !looks || n_looks < 1)
        return tr_fail(err, TR_ERR_INVALID, "A/B verdict: missing arms, plan or looks");
    if (!(plan->alpha > 0.0 && plan->alpha < 1.0 && plan->power > 0.0 && plan->power < 1.0))
        return tr_fail(err, TR_ERR_INVALID, "A/B verdict: alpha %g or power %g not in (0, 1)",
                       plan->alpha, plan->power);
    tr_code rc = seq_check(looks, n_looks, err); /* as given, before the end's t = 1 */
    if (rc)
        return rc;
    if ((rc = tr_ab_ztest(a->n, a->wins, b->n, b->wins, &v.z, err)))
        return rc;
    double va = a->n >= 2 ? a->m2 / (double)(a->n - 1) : 0.0;
    double vb = b->n >= 2 ? b->m2 / (double)(b->n - 1) : 0.0;
    if ((rc = tr_ab_welch(a->n, a->mean, va, b->n, b->mean, vb, &v.t, err)))
        return rc;

    /* the boundary at the current look; at the end the current look is t = 1 */
    double *lk = malloc(2 * (size_t)n_looks * sizeof *lk); /* (2, n_looks): looks, bounds */
    if (!lk)
        return tr_fail(err, TR_ERR_NOMEM, "A/B verdict: %d looks", n_looks);
    int n = n_looks;
    for (int j = 0; j < n; j++)
        lk[j] = looks[j];
    if (at_end) {
        lk[n - 1] = 1.0;
        /* a look just before the end merges into it (the end must be able to decide) */
        if (n >= 2 && lk[n - 2] < 1.0 && seq_close(lk, n - 2, n - 1))
            lk[--n - 1] = 1.0;
    }
    rc = tr_ab_seq_bounds(lk, n, plan->alpha, lk + n_looks, err);
    double bound = lk[n_looks + n - 1];
    free(lk);
    if (rc)
        return rc;

    v.sharpe_a = tr_ab_arm_sharpe(a);
    v.sharpe_b = tr_ab_arm_sharpe(b);
    if (v.z.ok)
        v.n_props = tr_ab_n_props(v.z.p1, v.z.p2, plan->alpha, plan->power);
    int dir_t = 0, crossed = 0;
    if (v.t.ok) {
        v.n_means = tr_ab_n_means(v.t.diff, sqrt(va), sqrt(vb), plan->alpha, plan->power);
        v.boundary = bound;
        dir_t = sign_of(v.t.t);
        v.z_welch = dir_t * -tr_ab_norm_ppf(0.5 * v.t.p); /* the normal deviate of the same p */
        crossed = dir_t != 0 && fabs(v.z_welch) >= bound;
    }
    int dir_z = v.z.ok ? sign_of(v.z.z) : 0;
    size_t need = plan->min_trades > 2 ? plan->min_trades : 2;
    int enough = a->n >= need && b->n >= need;
    if (!at_end) {
        if (enough && crossed && dir_z == dir_t)
            v.call = dir_t > 0 ? TR_AB_A : TR_AB_B;
    } else {
        int agrees = dir_z == dir_t || !(v.z.p < plan->alpha);
        if (crossed && agrees)
            v.call = dir_t > 0 ? TR_AB_A : TR_AB_B;
        else
            v.call = enough ? TR_AB_TIE : TR_AB_INSUFFICIENT;
    }
    *out = v;
    return TR_OK;
}
