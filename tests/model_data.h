/*
 * model_data.h - deterministic synthetic datasets shared by the model and checkpoint suites.
 */
#ifndef AIFX_MODEL_DATA_H
#define AIFX_MODEL_DATA_H

#include <math.h>
#include <stdlib.h>

#include "aifxnn.h"
#include "internal.h"

/* n windows (n, T, F) of noise; the class is 0/1/2 from the trend of feature 0 (falling, rising,
 * flat), which an LSTM learns in a few epochs. Features sit around 100 with scale 5, so the
 * scaler matters. Caller frees rows and labels. */
static inline aifx_dataset make_trend_data(uint64_t seed, size_t n, int T, int F, float **rows,
                                           int32_t **labels)
{
    aifx_rng r;
    aifx_rng_seed(&r, seed);
    float *x = malloc(sizeof(float) * n * (size_t)T * (size_t)F);
    int32_t *y = malloc(sizeof(int32_t) * n);
    for (size_t i = 0; i < n; i++) {
        int cls = (int)(aifx__rng_next(&r) % 3);
        double slope = cls == 0 ? -1.0 : (cls == 1 ? 1.0 : 0.0);
        for (int t = 0; t < T; t++)
            for (int f = 0; f < F; f++) {
                double noise = aifx__rng_normal(&r);
                double v = f == 0 ? slope * t * 0.8 + 0.5 * noise : noise;
                x[(i * (size_t)T + (size_t)t) * (size_t)F + (size_t)f] = (float)(100.0 + 5.0 * v);
            }
        y[i] = cls;
    }
    *rows = x;
    *labels = y;
    aifx_dataset d = {x, n * (size_t)T, NULL, y, n};
    return d;
}

#endif
