/*
 * rng.c - xoshiro256** (Blackman and Vigna, 2018) seeded through splitmix64.
 *
 *   splitmix64: z += 0x9e3779b97f4a7c15; z = (z ^ z>>30) * 0xbf58476d1ce4e5b9;
 *               z = (z ^ z>>27) * 0x94d049bb133111eb; return z ^ z>>31
 *   xoshiro256**: result = rotl(s1 * 5, 7) * 9; t = s1 << 17; s2 ^= s0; s3 ^= s1; s1 ^= s2;
 *                 s0 ^= s3; s2 ^= t; s3 = rotl(s3, 45)
 *
 * Uniform floats take the top 24 bits, doubles the top 53 centred in (0, 1); normals use
 * Box-Muller in double, sqrt(-2 ln u1) cos(2 pi u2). The initialiser's normals draw u1 in (0, 1]
 * and u2 in [0, 1) (its stream is what the published figures were trained from); the public
 * aifx_rng_normal draws both from aifx_rng_double. One Box-Muller serves both.
 */
#include <math.h>

#include "internal.h"

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t splitmix64(uint64_t *z)
{
    uint64_t r = (*z += 0x9e3779b97f4a7c15ull);
    r = (r ^ (r >> 30)) * 0xbf58476d1ce4e5b9ull;
    r = (r ^ (r >> 27)) * 0x94d049bb133111ebull;
    return r ^ (r >> 31);
}

aifx_status aifx_rng_seed(aifx_rng *rng, uint64_t seed)
{
    if (!rng)
        return AIFX_ERR_INVALID;
    uint64_t z = seed;
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&z); /* never all zero: splitmix64 is a bijection of distinct z */
    return AIFX_OK;
}

uint64_t aifx__rng_next(aifx_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

float aifx__rng_float(aifx_rng *rng)
{
    return (float)(aifx__rng_next(rng) >> 40) * 0x1.0p-24f;
}

/* One of Box-Muller's pair is used, which keeps the generator's state a pure function of the
 * number of draws; u1 > 0 keeps the log finite. */
static double box_muller(double u1, double u2)
{
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2);
}

static double rng_double(aifx_rng *rng)
{
    return ((double)(aifx__rng_next(rng) >> 11) + 0.5) * 0x1.0p-53;
}

double aifx__rng_normal(aifx_rng *rng)
{
    double u1 = ((double)(aifx__rng_next(rng) >> 11) + 1.0) * 0x1.0p-53;
    double u2 = (double)(aifx__rng_next(rng) >> 11) * 0x1.0p-53;
    return box_muller(u1, u2);
}

aifx_status aifx_rng_u64(aifx_rng *rng, uint64_t *out)
{
    if (!rng || !out)
        return AIFX_ERR_INVALID;
    *out = aifx__rng_next(rng);
    return AIFX_OK;
}

aifx_status aifx_rng_uniform(aifx_rng *rng, float *out)
{
    if (!rng || !out)
        return AIFX_ERR_INVALID;
    *out = aifx__rng_float(rng);
    return AIFX_OK;
}

aifx_status aifx_rng_double(aifx_rng *rng, double *out)
{
    if (!rng || !out)
        return AIFX_ERR_INVALID;
    *out = rng_double(rng);
    return AIFX_OK;
}

aifx_status aifx_rng_normal(aifx_rng *rng, double *out)
{
    if (!rng || !out)
        return AIFX_ERR_INVALID;
    double u1 = rng_double(rng);
    *out = box_muller(u1, rng_double(rng));
    return AIFX_OK;
}
