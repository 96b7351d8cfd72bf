/*
 * abstat.h - the statistics of an A/B test between two model versions (docs/abtest-statistics.md):
 * the normal and Student t distributions, the two-proportion z-test on win rates, Welch's t-test
 * on mean PnL, sample sizes, O'Brien-Fleming-type group-sequential boundaries (Lan-DeMets
 * alpha spending), and the verdict rule the trainer applies at each look.
 *
 * Arm A is the first argument everywhere; a positive z or t means A did better. Everything here
 * is a pure function of its arguments: no I/O, no global state, thread-safe. Only
 * tr_ab_seq_bounds, tr_ab_seq_crossing and tr_ab_decide allocate (a grid workspace, freed before
 * they return). "Not computable" results are flagged (ok = 0) with NAN figures, never a division
 * by zero.
 */
#ifndef AIFXT_ABSTAT_H
#define AIFXT_ABSTAT_H

#include <stddef.h>

#include "base/err.h"

/* ---- Distributions --------------------------------------------------------------------------- */

/* Standard normal CDF Phi(x) = erfc(-x / sqrt 2) / 2 (libm's erfc: full relative accuracy in the
 * lower tail, about 1e-13 relative at x = -37 where it underflows). Phi(+-INF) = 1, 0; NAN -> NAN.
 */
double tr_ab_norm_cdf(double x);

/* Upper tail 1 - Phi(x) without cancellation: erfc(x / sqrt 2) / 2. */
double tr_ab_norm_sf(double x);

/* Standard normal quantile Phi^-1(p), Wichura's algorithm AS 241 (PPND16, Applied Statistics 37,
 * 1988), relative error about 1e-16 for 1e-300 <= p < 1. p = 0 -> -INF, p = 1 -> +INF, p outside
 * [0, 1] or NAN -> NAN. */
double tr_ab_norm_ppf(double p);

/* Student t CDF with real df > 0: T(x) = I_{df/(df+x^2)}(df/2, 1/2) / 2 for x <= 0 (regularised
 * incomplete beta by its continued fraction, modified Lentz; for df >= 1000 near the centre, the
 * large-df expansion in incomplete gamma functions, where the fraction would cancel). Relative
 * error below 3e-13 for 1 <= df <= 1e15 down to 1e-300 (measured against mpmath). df = +INF gives
 * Phi(x). df <= 0 or NAN -> NAN. */
double tr_ab_t_cdf(double x, double df);

/* Two-sided p of a t statistic, 2 T(-|t|) = I_{df/(df+t^2)}(df/2, 1/2), accurate when tiny. */
double tr_ab_t_p2(double t, double df);

/* Regularised incomplete beta I_x(a, b) for finite a, b > 0, 0 <= x <= 1 (NAN otherwise). The
 * continued fraction loses about a * 1e-16 relative as x -> 1 at large a, except for b = 1/2 (the
 * t distribution's case), which has the expansion. */
double tr_ab_betainc(double a, double b, double x);

/* ---- Accumulating one arm -------------------------------------------------------------------- */

/* One arm's trades without storing them: count, wins, the PnL sum, and Welford's running mean
 * and sum of squared deviations (m2), which stay accurate when the mean is large next to the
 * spread. A zeroed struct (or tr_ab_arm_empty()) is an empty arm. */
typedef struct tr_ab_arm {
    size_t n;    /* trades */
    size_t wins; /* of them, wins (net PnL > 0, the outcome "win") */
    double sum;  /* sum of PnL */
    double mean; /* running mean of PnL (0 when n = 0) */
    double m2;   /* sum of squared deviations from the mean */
} tr_ab_arm;

tr_ab_arm tr_ab_arm_empty(void);

/* Adds one trade's PnL; win is nonzero for a win. O(1), no allocation. */
void tr_ab_arm_add(tr_ab_arm *a, double pnl, int win);

/* Adds the trades of b to a (Chan, Golub and LeVeque's pairwise update), as if added one by one
 * (up to rounding). */
void tr_ab_arm_merge(tr_ab_arm *a, const tr_ab_arm *b);

/* An arm from summary figures: the sample variance var (ddof 1; ignored when n < 2). */
tr_ab_arm tr_ab_arm_from_moments(size_t n, size_t wins, double mean, double var);

/* An arm from raw sums (sum of PnL and of squared PnL); m2 = sumsq - sum^2 / n, clamped at 0,
 * which loses digits when the mean dominates the spread: prefer tr_ab_arm_add. */
tr_ab_arm tr_ab_arm_from_sums(size_t n, size_t wins, double sum, double sumsq);

/* Win rate wins / n (NAN for n = 0). */
double tr_ab_arm_win_rate(const tr_ab_arm *a);

/* Sample variance m2 / (n - 1) (NAN for n < 2). */
double tr_ab_arm_var(const tr_ab_arm *a);

/* Per-trade Sharpe ratio mean / sd (sample sd, ddof 1; not annualised, no risk-free rate: trades
 * are not evenly spaced in time). 0 when undefined (n < 2 or sd = 0), as in backtest.h. */
double tr_ab_arm_sharpe(const tr_ab_arm *a);

/* ---- Tests ----------------------------------------------------------------------------------- */

/* Two-proportion z-test with pooled variance (statsmodels proportions_ztest on two samples,
 * two-sided, value 0): z = (p1 - p2) / sqrt(pb (1 - pb) (1/n1 + 1/n2)), pb = (x1 + x2)/(n1 + n2),
 * p = 2 (1 - Phi(|z|)). Conventions: an arm with no trades -> ok = 0, z = p = NAN; pb = 0 or 1
 * (all losses or all wins in both arms) -> z = 0, p = 1. */
typedef struct tr_ab_zfigs {
    double p1, p2; /* win rates (NAN for an empty arm) */
    double pooled; /* pb */
    double z, p;
    int ok; /* 1 computable */
} tr_ab_zfigs;

/* TR_ERR_INVALID when x1 > n1 or x2 > n2 (out is then set as not computable). */
tr_code tr_ab_ztest(size_t n1, size_t x1, size_t n2, size_t x2, tr_ab_zfigs *out, tr_error *err);

/* Welch's unequal-variance t-test (scipy.stats.ttest_ind(equal_var=False), two-sided), from each
 * arm's count, mean and sample variance: t = (m1 - m2) / sqrt(v1/n1 + v2/n2), Welch-Satterthwaite
 * df = (v1/n1 + v2/n2)^2 / ((v1/n1)^2/(n1-1) + (v2/n2)^2/(n2-1)), p = 2 T_df(-|t|). Conventions:
 * n < 2 in an arm -> ok = 0, t = df = p = NAN; both variances 0 -> df = n1 + n2 - 2 and t = 0,
 * p = 1 if the means are equal, else t = +-INF, p = 0; one variance 0 is the ordinary formula. */
typedef struct tr_ab_tfigs {
    double diff; /* m1 - m2 */
    double se;   /* sqrt(v1/n1 + v2/n2) */
    double t, df, p;
    int ok; /* 1 computable */
} tr_ab_tfigs;

/* TR_ERR_INVALID for a negative or non-finite variance or a non-finite mean (in an arm with
 * n >= 2), with out set as not computable. */
tr_code tr_ab_welch(size_t n1, double mean1, double var1, size_t n2, double mean2, double var2,
                    tr_ab_tfigs *out, tr_error *err);

/* ---- Sample size (fixed horizon) ------------------------------------------------------------- */

/* Trades per arm to detect win rates p1 vs p2 with a two-sided test at alpha and the given
 * power: ceil((z_{1-alpha/2} + z_{power})^2 (p1(1-p1) + p2(1-p2)) / (p1 - p2)^2). INFINITY when
 * p1 = p2; NAN for arguments outside 0 <= p <= 1, 0 < alpha < 1, 0 < power < 1. */
double tr_ab_n_props(double p1, double p2, double alpha, double power);

/* Trades per arm to detect a difference d of mean PnL with standard deviations sd1, sd2:
 * ceil((z_{1-alpha/2} + z_{power})^2 (sd1^2 + sd2^2) / d^2). INFINITY when d = 0 (whatever the
 * sd); 0 when d != 0 and sd1 = sd2 = 0; NAN for a non-finite d, negative or non-finite sd, or bad
 * alpha, power. */
double tr_ab_n_means(double d, double sd1, double sd2, double alpha, double power);

/* ---- Group-sequential boundaries ------------------------------------------------------------- */

/* Two-sided critical values |z| at looks with information fractions 0 < t[0] < ... < t[k-1] <= 1
 * (k >= 1) for an overall two-sided level alpha (0 < alpha < 1), by Lan-DeMets alpha spending
 * (Biometrika 1983) with the O'Brien-Fleming-type spending function
 * alpha(t) = 4 - 4 Phi(z_{1-alpha/4} / sqrt(t)): look j spends alpha(t_j) - alpha(t_{j-1}), and
 * z_out[j] solves P_H0(no crossing before j, |Z_j| >= z_out[j]) = that increment, computed by
 * the recursive numerical integration of Armitage, McPherson and Rowe (1969) (Jennison and
 * Turnbull 2000, ch. 19) on a Simpson grid. Boundaries depend only on the looks so far, so the
 * looks may come at any (unequal) times and t[k-1] < 1 is allowed. z_out[j] = INFINITY where
 * the increment underflows (t_j below about 0.003 at alpha 0.05), and at a look closer than
 * 2e-6 t_j to the previous look kept: such a look adds no information, cannot stop, and the next
 * look spends its share. Accuracy about 1e-8 in z (for boundaries below 8; above, the look
 * spends under 1e-15). 5 equal looks at alpha 0.05 give 4.877, 3.357, 2.680, 2.290, 2.031; one
 * look at t = 1 gives z_{1-alpha/2} = 1.95996. Each side spends alpha(t) / 2, i.e. Lan-DeMets'
 * one-sided function at level alpha/2, 2 - 2 Phi(z_{1-alpha/4} / sqrt t), as R's ldbounds and
 * gsDesign (sfLDOF) do. Time: about 1 ms for 5 looks, 0.2 s for 200.
 * TR_ERR_INVALID for bad t, k or alpha; TR_ERR_NOMEM. */
tr_code tr_ab_seq_bounds(const double *t, int k, double alpha, double *z_out, tr_error *err);

/* The same integration the other way round: for looks t (k) as above and two-sided critical
 * values z (k; INFINITY for a look that cannot stop), the cumulative probability under H0 that
 * |Z_j| >= z[j] at some look j <= i, into p_cum[i] (k). E.g. 1.96 at 5 equal looks: 0.142.
 * TR_ERR_INVALID also for looks closer than 2e-6 t_j. */
tr_code tr_ab_seq_crossing(const double *t, int k, const double *z, double *p_cum, tr_error *err);

/* ---- The verdict ----------------------------------------------------------------------------- */

typedef enum tr_ab_call {
    TR_AB_CONTINUE = 0, /* before the planned end, no boundary crossed: keep running */
    TR_AB_A,            /* A wins */
    TR_AB_B,            /* B wins */
    TR_AB_TIE,          /* the planned end, no winner, enough trades in both arms */
    TR_AB_INSUFFICIENT  /* the planned end, too few trades in an arm to call a tie */
} tr_ab_call;

/* "" (continue), "a", "b", "tie", "insufficient"; "" for an unknown value. */
const char *tr_ab_call_text(tr_ab_call c);

typedef struct tr_ab_plan {
    double alpha;      /* overall two-sided level (0.05) */
    double power;      /* for the needed sample sizes (0.8) */
    size_t min_trades; /* per arm, to stop early or to call a tie (30) */
} tr_ab_plan;

tr_ab_plan tr_ab_plan_default(void);

typedef struct tr_ab_verdict {
    tr_ab_call call;
    tr_ab_zfigs z;             /* win rates */
    tr_ab_tfigs t;             /* mean PnL: the primary metric */
    double z_welch;            /* Welch's t as the normal deviate of the same two-sided p, signed */
    double boundary;           /* critical |z| at this look (NAN when t is not computable) */
    double n_props;            /* trades per arm to detect the observed win rates at power */
    double n_means;            /* trades per arm to detect the observed mean difference at power */
    double sharpe_a, sharpe_b; /* per-trade Sharpe (tr_ab_arm_sharpe) */
} tr_ab_verdict;

/* The trainer's rule at one look. Mean PnL (Welch) is the primary metric; the win rate
 * (z-test) must not contradict it. looks (n_looks >= 1): the information fractions of every look
 * so far, strictly increasing in (0, 1], the current one last; at_end: the planned end (days or
 * trades) is reached, and then the current look counts as t = 1 (all remaining alpha is spent;
 * a previous look within 2e-6 of the end merges into it, so that the end can always decide).
 * With b = tr_ab_seq_bounds(looks, alpha) at the current look and Z = z_welch:
 *  - before the end: A (B) when both arms have >= max(min_trades, 2) trades, |Z| >= b, and the
 *    z-test's z has the same strict sign as t (computable, nonzero); otherwise CONTINUE;
 *  - at the end: A (B) when |Z| >= b (with only the final look this is Welch p < alpha) and the
 *    z-test does not contradict (its z has t's sign, or its p >= alpha); otherwise TIE when both
 *    arms have >= max(min_trades, 2) trades, else INSUFFICIENT.
 * Converting t to Z through its p (rather than using t as z) keeps small-df tests honest.
 * TR_ERR_INVALID for bad looks, alpha, power or counts (wins > n); TR_ERR_NOMEM. */
tr_code tr_ab_decide(const tr_ab_arm *a, const tr_ab_arm *b, const double *looks, int n_looks,
                     int at_end, const tr_ab_plan *plan, tr_ab_verdict *out, tr_error *err);

#endif
