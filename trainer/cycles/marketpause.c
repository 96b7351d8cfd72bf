/* marketpause.c - the pause over a store's pairs (marketpause.h). */
#include "cycles/marketpause.h"

#include <stdio.h>
#include <string.h>

#include "cycles/cycle.h"

tr_code tr_market_pause(tr_store *store, int32_t tf, int64_t as_of, int *paused, tr_pause *which,
                        char *pair, size_t pair_size, char *reason, size_t reason_size,
                        tr_error *err)
{
    *paused = 0;
    if (reason_size)
        reason[0] = '\0';
    if (pair_size)
        pair[0] = '\0';
    char pairs[32][TR_PAIR_MAX];
    int n = 0;
    tr_error local;
    tr_code rc = tr_store_pairs(store, tf, pairs, 32, &n, &local);
    if (rc == TR_ERR_NOTFOUND)
        return TR_OK; /* no bars: nothing to pause (the cycle says what it lacks) */
    if (rc) {
        if (err)
            *err = local;
        return rc;
    }
    tr_pause_opts po = tr_pause_opts_default();
    for (int i = 0; i < n && !*paused; i++) {
        tr_bars bars = {0};
        rc = tr_store_bars_get(store, pairs[i], tf, as_of - po.window - po.ref_window - 86400,
                               as_of, &bars, err);
        if (rc)
            return rc;
        tr_pause p;
        rc = tr_pause_check(bars.v, bars.n, as_of, &po, &p, err);
        tr_bars_free(&bars);
        if (rc)
            return rc;
        if (!p.pause)
            continue;
        *paused = 1;
        if (which)
            *which = p;
        snprintf(pair, pair_size, "%s", pairs[i]);
        snprintf(reason, reason_size,
                 "extreme market on %s: %s (24 h mean true range %.3g, 60-day %.3g, ratio %.2f; "
                 "largest gap %.2f reference TRs)",
                 pairs[i], p.reason, p.recent_tr, p.ref_tr, p.ratio, p.gap_atr);
    }
    return TR_OK;
}
