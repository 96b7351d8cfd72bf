#!/usr/bin/python3
"""Reference values for check_decide.c (trainer/market/decide.c), written to
fixtures/calib_cases.txt.

Temperature scaling (Guo, Pleiss, Sun, Weinberger, "On Calibration of Modern Neural Networks",
ICML 2017): p_T = softmax(log(p) / T), T minimising the mean negative log-likelihood of the
labels. The reference T comes from scipy.optimize.minimize_scalar (method "bounded", on
u = log T in [log 0.05, log 20], xatol 1e-10), checked against a dense grid (the grid's best
point must not beat SciPy's). The expected calibration error uses 15 equal-width bins of the
confidence (the largest calibrated probability), bin b = (b/15, (b+1)/15] (a confidence of 0
in the first bin), ECE = sum_b n_b/n |acc_b - conf_b|, acc the share whose argmax is the label.

Probabilities are float32, as the model gives them; the reference computes in float64 from
those float32 values, as the C code does. Deterministic (seeded). CI does not run it: the
fixture is committed. Regenerate with Debian's python3-numpy and python3-scipy:
    /usr/bin/python3 tests/trainer/gen_calib.py

Lines ('#' comments; %.17g):
  case N                      then N lines "p0 p1 p2 label" (p as float32 %.9g)
  expect T nll_1 nll_T ece_raw ece_T
"""
import os

import numpy as np
from scipy.optimize import minimize_scalar

BINS = 15


def calibrate(p, t):
    if t == 1.0:  # decide.c leaves the model's probabilities as they are (no renormalising)
        return p
    with np.errstate(divide="ignore"):
        z = np.where(p > 0, np.log(p) / t, -np.inf)
    m = z.max(axis=1, keepdims=True)
    e = np.where(np.isfinite(z), np.exp(z - m), 0.0)
    return e / e.sum(axis=1, keepdims=True)


def nll(p, y, t):
    q = calibrate(p, t)[np.arange(len(y)), y]
    return float(np.mean(-np.log(np.maximum(q, 1e-12))))


def ece(p, y, t):
    q = calibrate(p, t)
    k = q.argmax(axis=1)
    conf = q[np.arange(len(y)), k]
    b = np.floor(conf * BINS).astype(int)
    b = np.minimum(b, BINS - 1)
    edge = (b > 0) & (conf * BINS == b)
    b = np.where(edge, b - 1, b)
    total = 0.0
    for i in range(BINS):
        m = b == i
        if m.any():
            total += m.sum() / len(y) * abs((k[m] == y[m]).mean() - conf[m].mean())
    return total


def case(rng, n, scale, sharp):
    """n windows: logits of scale `scale`; labels drawn from softmax(sharp * logits), so the
    model is over- (sharp < 1) or under-confident (sharp > 1)."""
    logits = rng.normal(0, scale, (n, 3))
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = (p / p.sum(axis=1, keepdims=True)).astype(np.float32)
    truth = np.exp(sharp * logits)
    truth /= truth.sum(axis=1, keepdims=True)
    y = np.array([rng.choice(3, p=row) for row in truth])
    return p, y


def main():
    rng = np.random.default_rng(20261203)
    out = ["# reference values of temperature scaling and ECE (gen_calib.py; do not edit)"]
    specs = [(200, 2.0, 0.5), (500, 1.0, 1.0), (300, 3.0, 2.0), (50, 0.5, 0.3), (1000, 1.5, 0.8)]
    for n, scale, sharp in specs:
        p, y = case(rng, n, scale, sharp)
        pd = p.astype(np.float64)
        r = minimize_scalar(lambda u: nll(pd, y, np.exp(u)), bounds=(np.log(0.05), np.log(20)),
                            method="bounded", options={"xatol": 1e-10})
        t = float(np.exp(r.x))
        grid = np.exp(np.linspace(np.log(0.05), np.log(20), 4001))
        gbest = min(nll(pd, y, g) for g in grid)
        assert gbest >= nll(pd, y, t) - 1e-12, (gbest, nll(pd, y, t))
        out.append("case %d" % n)
        for i in range(n):
            out.append("%.9g %.9g %.9g %d" % (p[i, 0], p[i, 1], p[i, 2], y[i]))
        out.append("expect %.17g %.17g %.17g %.17g %.17g" % (
            t, nll(pd, y, 1.0), nll(pd, y, t), ece(pd, y, 1.0), ece(pd, y, t)))
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "calib_cases.txt")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
