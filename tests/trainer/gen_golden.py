#!/usr/bin/env python3
"""Reference values for the trainer's golden tests (check_features.c).

Writes, under fixtures/:
  golden_bars.csv      800 deterministic 15-minute OHLCV bars (generic CSV dialect)
  golden_ta.csv        the indicators of trainer/ta.c on those bars, TA-Lib definitions
  golden_features.csv  the 38 features of trainer/features.c

This is an independent computation written from the indicator definitions (TA-Lib's
documentation and source comments, Wilder 1978, Lane, Williams, Lambert, Appel, Hutson), not a
translation of the C code: sums are exact (math.fsum), windows are sliced lists, and every
recursive indicator is written as its defining recurrence. Standard library only.
Values are written with repr() (17 significant digits, exact round trip); "nan" where a value
is not defined. Run: python3 tests/trainer/gen_golden.py   (deterministic; no clock, no seed input)
"""
import math
import os

N = 800
T0 = 1704067200  # 2024-01-01T00:00:00Z, a Monday
TF = 900
NAN = float("nan")
HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "fixtures")


def rng(seed):
    """64-bit LCG (Knuth MMIX constants); yields floats in [0, 1)."""
    s = seed
    while True:
        s = (s * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        yield (s >> 11) / float(1 << 53)


def make_bars():
    r = rng(20240101)
    bars = []
    c = 1.10000
    for i in range(N):
        if 500 <= i < 520:  # a perfectly flat stretch: zero ranges everywhere
            bars.append((T0 + i * TF, c, c, c, c, 0.0))
            continue
        o = c
        step = (next(r) - 0.5) * 0.0016 + (0.0004 if 300 <= i < 400 else 0.0)
        c = round(o + step, 5)
        hi = round(max(o, c) + next(r) * 0.0006, 5)
        lo = round(min(o, c) - next(r) * 0.0006, 5)
        if i % 37 == 0:  # equal highs and lows to exercise ties
            hi, lo = max(o, c), min(o, c)
        v = float(int(200 + next(r) * 800))
        bars.append((T0 + i * TF, o, hi, lo, c, v))
    return bars


def sma(x, p, start=0):
    out = [NAN] * len(x)
    for t in range(start + p - 1, len(x)):
        out[t] = math.fsum(x[t - p + 1:t + 1]) / p
    return out


def ema(x, p, start=0):
    """EMA with k = 2/(p+1), seeded by the simple average of the first p valid inputs."""
    out = [NAN] * len(x)
    first = start + p - 1
    if first >= len(x):
        return out
    k = 2.0 / (p + 1)
    out[first] = math.fsum(x[start:first + 1]) / p
    for t in range(first + 1, len(x)):
        out[t] = out[t - 1] + k * (x[t] - out[t - 1])
    return out


def pstdev(x, p, start=0):
    out = [NAN] * len(x)
    for t in range(start + p - 1, len(x)):
        w = x[t - p + 1:t + 1]
        m = math.fsum(w) / p
        out[t] = math.sqrt(math.fsum((v - m) ** 2 for v in w) / p)
    return out


def trange(H, L, C):
    return [NAN] + [max(H[t], C[t - 1]) - min(L[t], C[t - 1]) for t in range(1, len(C))]


def wilder(values, p, first):
    """Wilder's average: mean of values[first-p+1..first], then (prev*(p-1) + v)/p."""
    out = [NAN] * len(values)
    out[first] = math.fsum(values[first - p + 1:first + 1]) / p
    for t in range(first + 1, len(values)):
        out[t] = (out[t - 1] * (p - 1) + values[t]) / p
    return out


def atr(H, L, C, p):
    return wilder(trange(H, L, C), p, p)


def rsi(C, p):
    gains = [NAN] + [max(C[t] - C[t - 1], 0.0) for t in range(1, len(C))]
    losses = [NAN] + [max(C[t - 1] - C[t], 0.0) for t in range(1, len(C))]
    ag, al = wilder(gains, p, p), wilder(losses, p, p)
    out = [NAN] * len(C)
    for t in range(p, len(C)):
        s = ag[t] + al[t]
        out[t] = 0.0 if abs(s) < 1e-8 * abs(C[t]) else 100.0 * ag[t] / s
    return out


def macd(C, fast, slow, signal):
    # TA-Lib aligns the seeds: the fast EMA's SMA seed ends on the same bar as the slow one's.
    ef = ema(C, fast, start=slow - fast)
    es = ema(C, slow)
    line = [NAN] * len(C)
    for t in range(slow - 1, len(C)):
        line[t] = ef[t] - es[t]
    sig = ema(line, signal, start=slow - 1)
    first = slow - 1 + signal - 1
    m, s, h = [NAN] * len(C), [NAN] * len(C), [NAN] * len(C)
    for t in range(first, len(C)):
        m[t], s[t], h[t] = line[t], sig[t], line[t] - sig[t]
    return m, s, h


def stoch(H, L, C, fk, sk, sd):
    fast = [NAN] * len(C)
    for t in range(fk - 1, len(C)):
        hh, ll = max(H[t - fk + 1:t + 1]), min(L[t - fk + 1:t + 1])
        fast[t] = 0.0 if hh == ll else 100.0 * (C[t] - ll) / (hh - ll)
    k = sma(fast, sk, start=fk - 1)
    d = sma(k, sd, start=fk + sk - 2)
    first = fk + sk + sd - 3
    k = [v if t >= first else NAN for t, v in enumerate(k)]
    return k, d


def willr(H, L, C, p):
    out = [NAN] * len(C)
    for t in range(p - 1, len(C)):
        hh, ll = max(H[t - p + 1:t + 1]), min(L[t - p + 1:t + 1])
        out[t] = 0.0 if hh == ll else -100.0 * (hh - C[t]) / (hh - ll)
    return out


def cci(H, L, C, p):
    tp = [(h + l + c) / 3.0 for h, l, c in zip(H, L, C)]
    out = [NAN] * len(C)
    for t in range(p - 1, len(C)):
        w = tp[t - p + 1:t + 1]
        m = math.fsum(w) / p
        md = math.fsum(abs(v - m) for v in w) / p
        num = tp[t] - m
        out[t] = num / (0.015 * md) if (num != 0.0 and md > 1e-12 * abs(m)) else 0.0
    return out


def trix(C, p):
    e1 = ema(C, p)
    e2 = ema(e1, p, start=p - 1)
    e3 = ema(e2, p, start=2 * (p - 1))
    out = [NAN] * len(C)
    for t in range(3 * (p - 1) + 1, len(C)):
        out[t] = 100.0 * (e3[t] / e3[t - 1] - 1.0)
    return out


def ultosc(H, L, C, p1, p2, p3):
    bp = [NAN] + [C[t] - min(L[t], C[t - 1]) for t in range(1, len(C))]
    tr = trange(H, L, C)
    out = [NAN] * len(C)
    for t in range(p3, len(C)):
        acc = 0.0
        for p, w in ((p1, 4.0), (p2, 2.0), (p3, 1.0)):
            sb, st = math.fsum(bp[t - p + 1:t + 1]), math.fsum(tr[t - p + 1:t + 1])
            if abs(st) >= 1e-8 * abs(C[t]):
                acc += w * sb / st
        out[t] = 100.0 * acc / 7.0
    return out


def dmi(H, L, C, p):
    """Wilder's directional movement as TA-Lib seeds it: plain sums over bars 1..p-1, then from
    bar p on s = s - s/p + x; DI from bar p; ADX = mean of DX over bars p..2p-1, then Wilder."""
    n = len(C)
    pdm, mdm, tr = [0.0] * n, [0.0] * n, trange(H, L, C)
    for t in range(1, n):
        up, down = H[t] - H[t - 1], L[t - 1] - L[t]
        pdm[t] = up if (up > 0 and up > down) else 0.0
        mdm[t] = down if (down > 0 and down > up) else 0.0
    sp, sm, st = math.fsum(pdm[1:p]), math.fsum(mdm[1:p]), math.fsum(tr[1:p])
    pdi, mdi, adx = [NAN] * n, [NAN] * n, [NAN] * n
    dxs = []
    prev = None
    for t in range(p, n):
        sp, sm, st = sp - sp / p + pdm[t], sm - sm / p + mdm[t], st - st / p + tr[t]
        dp = dm = 0.0
        dx = None
        if abs(st) >= 1e-8 * abs(C[t]):
            dp, dm = 100.0 * sp / st, 100.0 * sm / st
            if abs(dp + dm) >= 1e-8:
                dx = 100.0 * abs(dm - dp) / (dm + dp)
        pdi[t], mdi[t] = dp, dm
        if t <= 2 * p - 1:
            dxs.append(dx if dx is not None else 0.0)
            if t == 2 * p - 1:
                prev = math.fsum(dxs) / p
                adx[t] = prev
        else:
            if dx is not None:
                prev = (prev * (p - 1) + dx) / p
            adx[t] = prev
    return adx, pdi, mdi


def aroonosc(H, L, p):
    out = [NAN] * len(H)
    for t in range(p, len(H)):
        w = range(t - p, t + 1)
        hi = max(w, key=lambda j: (H[j], j))  # the latest index among equal highs
        lo = max(w, key=lambda j: (-L[j], j))  # the latest index among equal lows
        out[t] = 100.0 / p * (hi - lo)
    return out


def linreg_slope(x, p):
    out = [NAN] * len(x)
    xs = list(range(p))
    mx = math.fsum(xs) / p
    sxx = math.fsum((i - mx) ** 2 for i in xs)
    for t in range(p - 1, len(x)):
        w = x[t - p + 1:t + 1]
        my = math.fsum(w) / p
        out[t] = math.fsum((i - mx) * (w[i] - my) for i in xs) / sxx
    return out


def weekday(ts):
    return (ts // 86400 + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0


def features(bars):
    t_, O, H, L, C, _ = zip(*bars)
    O, H, L, C = list(O), list(H), list(L), list(C)
    n = len(C)
    lr = [NAN] + [math.log(C[t] / C[t - 1]) for t in range(1, n)]
    s20, s50, s200 = sma(C, 20), sma(C, 50), sma(C, 200)
    e12, e26 = ema(C, 12), ema(C, 26)
    sl = linreg_slope(C, 14)
    r = rsi(C, 14)
    m, ms, mh = macd(C, 12, 26, 9)
    k, d = stoch(H, L, C, 14, 3, 3)
    wr = willr(H, L, C, 14)
    cc = cci(H, L, C, 14)
    tx = trix(C, 30)
    uo = ultosc(H, L, C, 7, 14, 28)
    ax, pd, md = dmi(H, L, C, 14)
    ar = aroonosc(H, L, 14)
    a14 = atr(H, L, C, 14)
    sd20 = pstdev(C, 20)
    v20, v96 = pstdev(lr, 20, start=1), pstdev(lr, 96, start=1)
    trs = sma(trange(H, L, C), 96, start=1)
    rows = []
    for t in range(n):
        if t < 300:
            rows.append([NAN] * 38)
            continue
        rng_ = H[t] - L[t]
        upper, lower = s20[t] + 2 * sd20[t], s20[t] - 2 * sd20[t]
        width = upper - lower
        mod = t_[t] % 86400 // 60
        tod = 2 * math.pi * mod / 1440
        dow = 2 * math.pi * weekday(t_[t]) / 7
        rows.append([
            lr[t], C[t] / C[t - 4] - 1, C[t] / C[t - 16] - 1, C[t] / C[t - 96] - 1,
            rng_ / C[t], (C[t] - O[t]) / rng_ if rng_ > 0 else 0.0,
            C[t] / s20[t] - 1, C[t] / s50[t] - 1, C[t] / s200[t] - 1,
            C[t] / e12[t] - 1, C[t] / e26[t] - 1, e12[t] / e26[t] - 1, s20[t] / s50[t] - 1,
            sl[t] / C[t], r[t], m[t] / C[t], ms[t] / C[t], mh[t] / C[t], k[t], d[t], wr[t],
            cc[t], tx[t], uo[t], ax[t], pd[t], md[t], ar[t], 100 * a14[t] / C[t],
            (C[t] - lower) / width if width > 1e-12 * s20[t] else 0.5, width / s20[t],
            v20[t], v96[t], a14[t] / trs[t] if trs[t] > 0 else 1.0,
            math.sin(tod), math.cos(tod), math.sin(dow), math.cos(dow)])
    ta = {
        "sma20": s20, "ema12": e12, "ema26": e26, "stddev20": sd20, "trange": trange(H, L, C),
        "atr14": a14, "rsi14": r, "macd": m, "macd_signal": ms, "macd_hist": mh,
        "stoch_k": k, "stoch_d": d, "willr14": wr, "cci14": cc, "trix30": tx, "ultosc": uo,
        "adx14": ax, "plus_di14": pd, "minus_di14": md, "aroonosc14": ar, "slope14": sl,
    }
    return rows, ta


def fmt(v):
    return "nan" if v != v else repr(v)


def iso(ts):
    days, sec = divmod(ts, 86400)
    # civil from days (Gregorian), for the timestamps of the CSV
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    y = yoe + era * 400 + (m <= 2)
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (y, m, d, sec // 3600, sec // 60 % 60, sec % 60)


def main():
    # The C test reads the bars back from the CSV text, so compute on the values of that text.
    bars = [(b[0], float("%.5f" % b[1]), float("%.5f" % b[2]), float("%.5f" % b[3]),
             float("%.5f" % b[4]), b[5]) for b in make_bars()]
    rows, ta = features(bars)
    with open(os.path.join(FIX, "golden_bars.csv"), "w") as f:
        f.write("timestamp,open,high,low,close,volume\n")
        for b in bars:
            f.write("%s,%.5f,%.5f,%.5f,%.5f,%d\n" % (iso(b[0]), b[1], b[2], b[3], b[4], b[5]))
    names = list(ta)
    with open(os.path.join(FIX, "golden_ta.csv"), "w") as f:
        f.write("index," + ",".join(names) + "\n")
        for t in range(N):
            f.write("%d,%s\n" % (t, ",".join(fmt(ta[k][t]) for k in names)))
    with open(os.path.join(FIX, "golden_features.csv"), "w") as f:
        f.write("index," + ",".join("f%d" % i for i in range(38)) + "\n")
        for t in range(300, N):
            f.write("%d,%s\n" % (t, ",".join(fmt(v) for v in rows[t])))


if __name__ == "__main__":
    main()
