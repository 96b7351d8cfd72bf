/*
 * alloc.c - the library's one allocator. Every allocation goes through here so that tests can
 * make the n-th one fail (aifx__alloc_fail_after) and prove that each error path cleans up.
 * Float blocks are 64-byte aligned and zeroed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static _Thread_local int fail_countdown; /* test hook only: 0 = never fail */

void aifx__alloc_fail_after(int n)
{
    fail_countdown = n > 0 ? n : 0;
}

static int should_fail(void)
{
    if (fail_countdown == 0)
        return 0;
    return --fail_countdown == 0;
}

void *aifx__malloc(size_t bytes)
{
    if (should_fail())
        return NULL;
    return malloc(bytes ? bytes : 1);
}

void *aifx__calloc(size_t count, size_t size)
{
    if (should_fail())
        return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

float *aifx__falloc(size_t n)
{
    if (n > (SIZE_MAX - AIFX_ALIGN) / sizeof(float))
        return NULL;
    size_t bytes = n * sizeof(float);
    bytes = (bytes + AIFX_ALIGN - 1) / AIFX_ALIGN * AIFX_ALIGN; /* aligned_alloc wants a multiple */
    if (bytes == 0)
        bytes = AIFX_ALIGN;
    if (should_fail())
        return NULL;
    float *p = aligned_alloc(AIFX_ALIGN, bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

void aifx__free(void *p)
{
    free(p);
}

int aifx__all_finite(size_t n, const float *x)
{
    /* x - x is 0 for finite x and NaN for NaN or infinity; summing keeps the loop branch-free.
     * Eight partial sums (exactly 0 unless a NaN entered, whatever the order) let the compiler
     * use vectors; one float sum in order could not be reassociated. */
    float acc[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            acc[j] += x[i + j] - x[i + j];
    for (; i < n; i++)
        acc[0] += x[i] - x[i];
    float s = 0.0f;
    for (int j = 0; j < 8; j++)
        s += acc[j];
    return s == 0.0f;
}
