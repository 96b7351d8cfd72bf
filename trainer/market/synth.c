/*
 * synth.c - synthetic bars (see synth.h). Per bar of length tf seconds, the log price takes
 * S = 15 sub-steps of N(0, sigma^2 / S) with
 *     sigma = 0.0006 sqrt(tf / 900) x season(hour) x regime,
 * season(h) = 0.45 + 0.55 exp(-(h - 8)^2 / 4) + 0.75 exp(-(h - 14)^2 / 5) (UTC hours: London
 * opens near 8, the New York overlap peaks near 14), regime in {0.6, 1.0, 1.8} switching with
 * probability 1/600 per bar, and a weak pull (1e-4 per bar) of the log price back to the start
 * so that years of bars stay in a realistic band. The first bar after the weekend opens with a
 * jump of N(0, (3 sigma)^2). Open, high, low and close are the rounded first, maximum, minimum
 * and last points of the sub-path, so high >= max(open, close) and low <= min(open, close) hold
 * after rounding. Volume is 300 x season x regime x U(0.7, 1.3), rounded.
 */
#include "market/synth.h"

#include <math.h>
#include <string.h>

#include "aifxnn.h"
#include "base/timeutil.h"

/* The library's generator (xoshiro256** seeded by splitmix64): uniform and normal draws. */
static double uniform(aifx_rng *r)
{
    double u;
    aifx_rng_double(r, &u);
    return u;
}

static double normal(aifx_rng *r)
{
    double z;
    aifx_rng_normal(r, &z);
    return z;
}

static int market_open(int64_t t)
{
    int wd = tr_weekday(t);
    int64_t sec = t % 86400;
    if (sec < 0)
        sec += 86400;
    if (wd == 5)
        return 0; /* Saturday */
    if (wd == 4 && sec >= 22 * 3600)
        return 0; /* Friday after 22:00 */
    if (wd == 6 && sec < 22 * 3600)
        return 0; /* Sunday before 22:00 */
    return 1;
}

static double season(int64_t t)
{
    double h = (double)(((t % 86400) + 86400) % 86400) / 3600.0;
    return 0.45 + 0.55 * exp(-(h - 8) * (h - 8) / 4) + 0.75 * exp(-(h - 14) * (h - 14) / 5);
}

tr_synth_params tr_synth_params_default(const char *pair, int64_t from, int64_t to, uint64_t seed)
{
    tr_synth_params p;
    memset(&p, 0, sizeof p);
    p.pair = pair;
    p.from = from;
    p.to = to;
    p.seed = seed;
    p.timeframe = 900;
    return p;
}

tr_code tr_synth_generate(const tr_synth_params *p, tr_bars *out, int *decimals_out, tr_error *err)
{
    if (!tr_pair_valid(p->pair))
        return tr_fail(err, TR_ERR_INVALID, "bad pair name '%s'", p->pair ? p->pair : "(null)");
    if (p->timeframe <= 0 || 86400 % p->timeframe != 0)
        return tr_fail(err, TR_ERR_INVALID, "bad timeframe of %d seconds", (int)p->timeframe);
    if (p->from >= p->to)
        return tr_fail(err, TR_ERR_INVALID, "empty time range (from is not before to)");
    if ((p->to - p->from) / p->timeframe > 50000000)
        return tr_fail(err, TR_ERR_INVALID, "time range too long (over 50 million bars)");
    int jpy = strstr(p->pair, "JPY") != NULL;
    double price0 = p->start_price > 0 ? p->start_price : jpy ? 150.0 : 1.1;
    int decimals = p->decimals > 0 ? p->decimals : jpy ? 3 : 5;
    if (decimals > 8 || !isfinite(price0))
        return tr_fail(err, TR_ERR_INVALID, "bad start price or decimals");
    double scale = pow(10.0, decimals);

    /* seed: splitmix64 over the seed mixed with an FNV-1a hash of the pair name */
    uint64_t h = 1469598103934665603ull;
    for (const char *c = p->pair; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ull;
    uint64_t x = p->seed ^ h;
    aifx_rng r;
    aifx_rng_seed(&r, x);

    static const double regimes[3] = {0.6, 1.0, 1.8};
    int regime = 1;
    const int S = 15;
    double base = 0.0006 * sqrt((double)p->timeframe / 900.0);
    double lp0 = log(price0), lp = lp0;
    int64_t t = p->from - (((p->from % p->timeframe) + p->timeframe) % p->timeframe);
    if (t < p->from)
        t += p->timeframe;
    int was_closed = 0;
    for (; t < p->to; t += p->timeframe) {
        if (!market_open(t)) {
            was_closed = 1;
            continue;
        }
        if (uniform(&r) < 1.0 / 600.0)
            regime = (regime + 1 + (int)(uniform(&r) * 2)) % 3;
        double sigma = base * season(t) * regimes[regime];
        if (was_closed) {
            lp += 3.0 * sigma * normal(&r);
            was_closed = 0;
        }
        double o = round(exp(lp) * scale) / scale, hi = o, lo = o, c = o;
        double step = sigma / sqrt((double)S);
        for (int k = 0; k < S; k++) {
            lp += step * normal(&r) - 1e-4 / S * (lp - lp0);
            c = round(exp(lp) * scale) / scale;
            if (c > hi)
                hi = c;
            if (c < lo)
                lo = c;
        }
        if (lo <= 0)
            return tr_fail(err, TR_ERR_INVALID, "synthetic price fell to zero (decimals too few)");
        tr_bar b = {t,  o, hi,
                    lo, c, round(300.0 * season(t) * regimes[regime] * (0.7 + 0.6 * uniform(&r)))};
        tr_code rc = tr_bars_push(out, &b, err);
        if (rc)
            return rc;
    }
    if (decimals_out)
        *decimals_out = decimals;
    return TR_OK;
}
