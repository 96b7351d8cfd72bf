#!/usr/bin/python3
"""Reference values for check_abstat.c (trainer/abstat.c), written to fixtures/abstat_cases.txt.

The values come from SciPy (scipy.stats: norm, t, ttest_ind, ttest_ind_from_stats) and from the
textbook formulas, written here without statsmodels:
  two-proportion z-test (statsmodels proportions_ztest, two-sample, pooled, two-sided):
      z = (p1 - p2) / sqrt(pb (1 - pb) (1/n1 + 1/n2)), pb = (x1 + x2) / (n1 + n2),
      p = 2 norm.sf(|z|)
  Welch: t and p from scipy.stats.ttest_ind_from_stats(equal_var=False) (or ttest_ind on raw
      trades), df = (v1/n1 + v2/n2)^2 / ((v1/n1)^2/(n1-1) + (v2/n2)^2/(n2-1))
  sample size per arm: ceil((z_{1-a/2} + z_{power})^2 * var / diff^2), z from norm.ppf
Where abstat.h defines a convention for an edge case that SciPy leaves undefined (an empty arm,
pooled rate 0 or 1, zero variances), the convention is written here explicitly.

Every SciPy value is checked against an independent 50-digit mpmath computation (incomplete beta,
erfc, root of the normal CDF); the script stops if any disagrees by more than 1e-12 relative,
and prints the worst disagreement. Run with the system Python that has SciPy and mpmath
(Debian: python3-scipy, python3-mpmath):
    /usr/bin/python3 tests/trainer/gen_abstat.py
Deterministic (seeded random trades). CI does not run it: the fixture is committed.

Lines (whitespace-separated, %.17g; nan and inf as C's strtod reads them; '#' comments):
  cdf   x                                  Phi(x)
  ppf   p                                  Phi^-1(p)
  tcdf  x df                               T_df(x)
  z     n1 x1 n2 x2                        ok z p pooled
  welch n1 mean1 var1 n2 mean2 var2        ok t df p
  nprop p1 p2 alpha power                  n
  nmean d sd1 sd2 alpha power              n
  raw   nA a_1..a_nA nB b_1..b_nB          meanA varA meanB varB winsA winsB z p_z t df p_t
"""
import math
import os
import random

import mpmath as mp
import numpy as np
import scipy
from scipy import stats

mp.mp.dps = 50
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "abstat_cases.txt")
NAN = float("nan")
INF = float("inf")
worst = {}


def g(x):
    """%.17g, exact round trip; nan, inf, -inf spelled as strtod reads them."""
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    return "%.17g" % float(x)


def agree(kind, ref, exact, tol=1e-12):
    """Checks a SciPy value against the mpmath one; records the worst relative difference."""
    ref = float(ref)
    if math.isnan(ref) or math.isinf(ref) or ref == 0.0:
        assert ref == float(exact) or (math.isnan(ref) and mp.isnan(exact)), (kind, ref, exact)
        return
    rel = abs(mp.mpf(ref) - exact) / abs(exact)
    worst[kind] = max(worst.get(kind, 0.0), float(rel))
    assert rel <= tol, (kind, ref, exact, float(rel))


def mp_t_two_tail(t, df):
    """2 T_df(-|t|) = I_{df/(df+t^2)}(df/2, 1/2), 50 digits."""
    t, df = mp.mpf(t), mp.mpf(df)
    return mp.betainc(df / 2, mp.mpf(1) / 2, 0, df / (df + t * t), regularized=True)


def case_cdf(x):
    v = stats.norm.cdf(x)
    agree("cdf", v, mp.ncdf(mp.mpf(x)))
    return "cdf %s  %s" % (g(x), g(v))


def case_ppf(p):
    v = stats.norm.ppf(p)
    if 0 < p < 1:
        pm = mp.mpf(p)
        root = mp.findroot(lambda x: mp.ncdf(x) - pm, mp.mpf(v))
        agree("ppf", v, root)
    return "ppf %s  %s" % (g(p), g(v))


def case_tcdf(x, df):
    v = stats.t.cdf(x, df)
    tail = mp_t_two_tail(x, df) / 2
    agree("tcdf", v, tail if x <= 0 else 1 - tail)
    return "tcdf %s %s  %s" % (g(x), g(df), g(v))


def ztest(n1, x1, n2, x2):
    """(ok, z, p, pooled) with abstat.h's conventions for the edge cases."""
    pooled = (x1 + x2) / (n1 + n2) if n1 + n2 else NAN
    if n1 == 0 or n2 == 0:
        return 0, NAN, NAN, pooled
    if x1 + x2 == 0 or x1 + x2 == n1 + n2:
        return 1, 0.0, 1.0, pooled  # convention: no variance, no difference
    p1, p2 = x1 / n1, x2 / n2
    z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    p = 2 * stats.norm.sf(abs(z))
    # independent: exact rationals to 50 digits
    P1, P2 = mp.mpf(x1) / n1, mp.mpf(x2) / n2
    PB = mp.mpf(x1 + x2) / (n1 + n2)
    Z = (P1 - P2) / mp.sqrt(PB * (1 - PB) * (mp.mpf(1) / n1 + mp.mpf(1) / n2))
    agree("z", z, Z)
    agree("z_p", p, mp.erfc(abs(Z) / mp.sqrt(2)), 1e-10 if abs(z) > 8 else 1e-12)
    return 1, z, p, pooled


def case_z(n1, x1, n2, x2):
    ok, z, p, pooled = ztest(n1, x1, n2, x2)
    return "z %d %d %d %d  %d %s %s %s" % (n1, x1, n2, x2, ok, g(z), g(p), g(pooled))


def welch_df(n1, v1, n2, v2):
    a, b = v1 / n1, v2 / n2
    return (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n2 - 1))


def welch(n1, m1, v1, n2, m2, v2):
    """(ok, t, df, p) with abstat.h's conventions."""
    if n1 < 2 or n2 < 2:
        return 0, NAN, NAN, NAN
    if v1 == 0 and v2 == 0:  # convention (SciPy gives nan or inf with df 1)
        d = m1 - m2
        return 1, (0.0 if d == 0 else math.copysign(INF, d)), float(n1 + n2 - 2), \
            (1.0 if d == 0 else 0.0)
    res = stats.ttest_ind_from_stats(m1, math.sqrt(v1), n1, m2, math.sqrt(v2), n2,
                                     equal_var=False)
    t, p = float(res.statistic), float(res.pvalue)
    df = welch_df(n1, v1, n2, v2)
    A, B = mp.mpf(v1) / n1, mp.mpf(v2) / n2
    T = (mp.mpf(m1) - mp.mpf(m2)) / mp.sqrt(A + B)
    DF = (A + B) ** 2 / (A * A / (n1 - 1) + B * B / (n2 - 1))
    agree("welch_t", t, T)
    agree("welch_df", df, DF)
    agree("welch_p", p, mp_t_two_tail(T, DF), 1e-10)
    return 1, t, df, p


def case_welch(n1, m1, v1, n2, m2, v2):
    ok, t, df, p = welch(n1, m1, v1, n2, m2, v2)
    return "welch %d %s %s %d %s %s  %d %s %s %s" % (n1, g(m1), g(v1), n2, g(m2), g(v2), ok,
                                                      g(t), g(df), g(p))


def zz(alpha, power):
    return (stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) ** 2


def check_ceil(v):
    """The rounded-up size must not sit within 1e-6 of an integer (C and Python could round a
    last bit apart there)."""
    if math.isfinite(v) and v > 0:
        assert abs(v - round(v)) > 1e-6, v
    return math.ceil(v) if math.isfinite(v) else v


def case_nprop(p1, p2, alpha, power):
    n = INF if p1 == p2 else check_ceil(zz(alpha, power) * (p1 * (1 - p1) + p2 * (1 - p2)) /
                                        (p1 - p2) ** 2)
    return "nprop %s %s %s %s  %s" % (g(p1), g(p2), g(alpha), g(power), g(float(n)))


def case_nmean(d, s1, s2, alpha, power):
    n = INF if d == 0 else check_ceil(zz(alpha, power) * (s1 * s1 + s2 * s2) / d ** 2)
    return "nmean %s %s %s %s %s  %s" % (g(d), g(s1), g(s2), g(alpha), g(power), g(float(n)))


def case_raw(a, b):
    """Trades given one by one: SciPy on the raw samples (ttest_ind, numpy mean and var)."""
    a, b = np.array(a, dtype=float), np.array(b, dtype=float)
    wa, wb = int((a > 0).sum()), int((b > 0).sum())
    ma, mb = float(np.mean(a)), float(np.mean(b))
    va, vb = float(np.var(a, ddof=1)), float(np.var(b, ddof=1))
    agree("raw_mean", ma, mp.fsum(mp.mpf(x) for x in a) / len(a))
    ok, z, pz, _ = ztest(len(a), wa, len(b), wb)
    res = stats.ttest_ind(a, b, equal_var=False)
    t, p = float(res.statistic), float(res.pvalue)
    df = welch_df(len(a), va, len(b), vb)
    agree("raw_p", p, mp_t_two_tail(t, df), 1e-10)
    vals = lambda xs: " ".join(g(float(x)) for x in xs)
    return "raw %d %s %d %s  %s %s %s %s %d %d %s %s %s %s %s" % (
        len(a), vals(a), len(b), vals(b), g(ma), g(va), g(mb), g(vb), wa, wb, g(z), g(pz), g(t),
        g(df), g(p))


def main():
    lines = ["# generated by gen_abstat.py (SciPy %s, NumPy %s, mpmath %s); do not edit"
             % (scipy.__version__, np.__version__, mp.__version__)]
    # Phi and Phi^-1, from the far tails to the centre (AS 241's three regions: |p-1/2| <=
    # 0.425, r = sqrt(-log min(p, 1-p)) <= 5, r > 5)
    for x in (-37.5, -20.0, -10.0, -5.0, -1.959963984540054, -0.3, 0.0, 0.7, 1.959963984540054,
              5.0, 8.25):
        lines.append(case_cdf(x))
    for p in (1e-300, 2.2250738585072014e-308, 1e-100, 1e-10, 1e-5, 0.0125, 0.025, 0.07, 0.075,
              0.3, 0.5, 0.6, 0.925, 0.975, 0.99, 0.9999, 1 - 1e-10, 1 - 1e-16):
        lines.append(case_ppf(p))
    # Student t CDF at real df, both tails, small to huge df
    for x, df in ((-2.5, 3.0), (1.0, 1.0), (-0.5, 0.7), (-40.0, 2.5), (2.0, 1e6), (-6.0, 30.0),
                  (-1000.0, 5.0), (0.1, 1e9), (-3.3, 17.25), (0.0, 4.0), (-9.0, 123.456),
                  (-35.0, 4.6e6), (1.5, 2.0), (-0.01, 1e4)):
        lines.append(case_tcdf(x, df))
    # two-proportion z-test
    for c in ((100, 55, 100, 50), (1562, 859, 1562, 781), (0, 0, 50, 25), (50, 25, 0, 0),
              (0, 0, 0, 0), (30, 30, 40, 40), (25, 0, 35, 0), (20, 20, 20, 0), (1, 1, 2, 0),
              (10_000_000, 5_010_000, 10_000_000, 5_000_000), (100_000, 90_000, 100_000, 10_000),
              (5000, 2700, 5000, 2300), (37, 20, 412, 180), (40, 20, 60, 30), (3, 2, 1_000_000,
              500_000), (7, 1, 9, 8), (2, 1, 2, 1)):
        lines.append(case_z(*c))
    # Welch
    for c in ((50, 1.2, 4.0, 60, 0.8, 2.5), (30, 0.5, 1.0, 30, 0.0, 1.0),
              (1, 3.0, 0.0, 20, 1.0, 2.0), (0, 0.0, 0.0, 12, 1.0, 1.0),
              (10, 2.0, 0.0, 12, 2.0, 0.0), (10, 2.5, 0.0, 12, 2.0, 0.0),
              (10, 2.0, 0.0, 12, 2.5, 0.0), (15, 1.0, 0.0, 25, 0.4, 3.0),
              (2, 1.0, 0.5, 2, -1.0, 2.0), (2_000_000, 0.01, 1.0, 3_000_000, 0.008, 1.5),
              (5_000_000, 0.02, 1.0, 5_000_000, 0.0, 1.0), (12, 5.0, 100.0, 200, 1.0, 0.25),
              (40, -0.3, 1.2, 35, 0.4, 0.9), (3, 10.0, 0.01, 3, 0.0, 0.01),
              (100, 0.001, 1.0, 100, 0.0, 1.0), (80, 1e6 + 0.5, 0.01, 90, 1e6, 0.02),
              (2, 0.0, 100.0, 1000, 0.0, 0.001), (2, 0.5, 100.0, 1000, 0.0, 0.001),
              (31, -12.5, 310.0, 29, 3.25, 95.0), (400, 2.1, 45.0, 9, -7.0, 900.0)):
        lines.append(case_welch(*c))
    # sample sizes (conventions.md section 7: 1562, 4353, 385; d = 0.2 sd: 393)
    for c in ((0.5, 0.55, 0.05, 0.8), (0.5, 0.53, 0.05, 0.8), (0.5, 0.6, 0.05, 0.8),
              (0.55, 0.5, 0.05, 0.8), (0.5, 0.5, 0.05, 0.8), (0.1, 0.12, 0.01, 0.9),
              (0.0, 1.0, 0.05, 0.8), (0.3, 0.31, 0.05, 0.8), (0.62, 0.48, 0.1, 0.5)):
        lines.append(case_nprop(*c))
    for c in ((0.2, 1.0, 1.0, 0.05, 0.8), (0.1, 1.0, 1.0, 0.05, 0.8), (0.0, 1.0, 1.0, 0.05, 0.8),
              (1.0, 0.0, 0.0, 0.05, 0.8), (0.5, 2.0, 3.0, 0.01, 0.95),
              (-0.3, 1.5, 0.7, 0.05, 0.8), (2.5, 40.0, 25.0, 0.05, 0.8)):
        lines.append(case_nmean(*c))
    # trades one by one (Welford in C), PnL in pips with 1 decimal; fat tails and a skew
    rng = random.Random(20240601)
    t3 = lambda: rng.gauss(0, 1) / math.sqrt(rng.gammavariate(1.5, 2.0) / 3.0)
    raw_sets = [
        ([round(rng.gauss(2.0, 10.0), 1) for _ in range(25)],
         [round(rng.gauss(-1.0, 12.0), 1) for _ in range(31)]),
        ([round(8 * t3() + 1.5, 1) for _ in range(60)], [round(8 * t3(), 1) for _ in range(45)]),
        ([round(rng.choice((-15.0, 20.0)) + rng.gauss(0, 1), 1) for _ in range(12)],
         [round(rng.choice((-15.0, 20.0, 20.0)) + rng.gauss(0, 1), 1) for _ in range(9)]),
        ([1000.5 + round(rng.gauss(0, 0.3), 1) for _ in range(8)],
         [1000.0 + round(rng.gauss(0, 0.3), 1) for _ in range(7)]),
    ]
    for a, b in raw_sets:
        lines.append(case_raw(a, b))
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %s (%d cases)" % (OUT, len(lines) - 1))
    for k in sorted(worst):
        print("  SciPy vs mpmath, worst relative difference, %-9s %.3g" % (k, worst[k]))


if __name__ == "__main__":
    main()
