/* bars.c - bar arrays and the validity rule (see bars.h). */
#include "base/bars.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

tr_code tr_bars_reserve(tr_bars *bars, size_t cap, tr_error *err)
{
    if (cap <= bars->cap)
        return TR_OK;
    if (cap > SIZE_MAX / sizeof(tr_bar))
        return tr_fail(err, TR_ERR_NOMEM, "too many bars (%zu)", cap);
    tr_bar *v = realloc(bars->v, cap * sizeof(tr_bar));
    if (!v)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory for %zu bars", cap);
    bars->v = v;
    bars->cap = cap;
    return TR_OK;
}

tr_code tr_bars_push(tr_bars *bars, const tr_bar *bar, tr_error *err)
{
    if (bars->n == bars->cap) {
        tr_code rc = tr_bars_reserve(bars, bars->cap ? bars->cap * 2 : 1024, err);
        if (rc)
            return rc;
    }
    bars->v[bars->n++] = *bar;
    return TR_OK;
}

void tr_bars_free(tr_bars *bars)
{
    if (!bars)
        return;
    free(bars->v);
    bars->v = NULL;
    bars->n = bars->cap = 0;
}

const char *tr_bar_invalid(const tr_bar *b)
{
    if (!isfinite(b->open) || !isfinite(b->high) || !isfinite(b->low) || !isfinite(b->close))
        return "a price is not a finite number";
    if (!isfinite(b->volume))
        return "the volume is not a finite number";
    if (b->open <= 0 || b->high <= 0 || b->low <= 0 || b->close <= 0)
        return "a price is zero or negative";
    if (b->high < b->open || b->high < b->close)
        return "high is below max(open, close)";
    if (b->low > b->open || b->low > b->close)
        return "low is above min(open, close)";
    if (b->volume < 0)
        return "the volume is negative";
    return NULL;
}

size_t tr_bars_lower_bound(const tr_bar *bars, size_t n, int64_t time)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (bars[mid].t < time)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int tr_bar_equal(const tr_bar *a, const tr_bar *b)
{
    return a->t == b->t && memcmp(&a->open, &b->open, sizeof(double)) == 0 &&
           memcmp(&a->high, &b->high, sizeof(double)) == 0 &&
           memcmp(&a->low, &b->low, sizeof(double)) == 0 &&
           memcmp(&a->close, &b->close, sizeof(double)) == 0 &&
           memcmp(&a->volume, &b->volume, sizeof(double)) == 0;
}
