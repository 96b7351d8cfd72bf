/*
 * dq.h - data-quality checks of a bar series: findings only, the bars are never changed or
 * dropped (docs/monitoring.md, "Data quality").
 *
 * Market hours (FX): open from Sunday 17:00 to Friday 17:00 New York time, i.e. Sunday
 * 21:00Z / Friday 21:00Z while New York is on daylight-saving time (second Sunday of March,
 * 07:00Z, to first Sunday of November, 06:00Z; US rules since 2007) and 22:00Z otherwise. The
 * first open_grace (1 h) after the Sunday open is not expected to have bars: brokers on an
 * EET server clock start at server Monday 00:00, which is 22:00Z in the weeks when the US and
 * EU clocks disagree. Holidays are not exempt: a Christmas hole during market hours is a gap.
 *
 * Findings:
 *   gap        consecutive bars more than one timeframe apart with expected (market-hours) slots
 *              between them; value = the number of missing bars;
 *   stale      at as_of (when > 0) with the market open, no bar has closed for more than
 *              stale_after seconds of open market; value = those seconds;
 *   spike      a bar's range (high - low) or |close - previous close| (previous bar one
 *              timeframe earlier) >= spike_atr times the ATR(atr_period) of the previous bar
 *              (TA-Lib's ATR, ta.h); value = the larger, in ATRs;
 *   zero-range high == low; value = the price;
 *   repeat     open, high, low and close identical to the previous bar's; value = the close.
 *
 * Pure apart from the report's allocation; no global state, thread-safe.
 */
#ifndef AIFXT_DQ_H
#define AIFXT_DQ_H

#include <stddef.h>
#include <stdint.h>

#include "base/bars.h"
#include "base/err.h"

typedef enum tr_dq_kind {
    TR_DQ_GAP = 0,
    TR_DQ_STALE,
    TR_DQ_SPIKE,
    TR_DQ_ZERO_RANGE,
    TR_DQ_REPEAT,
    TR_DQ_N_KINDS
} tr_dq_kind;

/* "gap", "stale", "spike", "zero-range", "repeat"; "" for an unknown kind. */
const char *tr_dq_kind_text(tr_dq_kind k);

typedef struct tr_dq_opts {
    int32_t timeframe;   /* seconds (900) */
    int atr_period;      /* ATR period for spikes (14) */
    double spike_atr;    /* spike at >= this many ATRs (10) */
    int64_t stale_after; /* stale after this many seconds of open market without a bar (1800) */
    int64_t open_grace;  /* seconds after the Sunday open without expected bars (3600) */
} tr_dq_opts;

tr_dq_opts tr_dq_opts_default(void);

typedef struct tr_dq_finding {
    tr_dq_kind kind;
    int64_t t;     /* the bar's open time; gap: the first missing slot; stale: the last bar */
    int64_t t_end; /* gap: the bar after the hole; stale: as_of; otherwise t */
    size_t index;  /* the bar (gap: the bar after the hole; stale: the last bar) */
    double value;  /* see above */
    double limit;  /* the threshold applied (spike: spike_atr; stale: stale_after; else 0) */
    int what;      /* spike: 1 the range, 2 the return, 3 both; otherwise 0 */
} tr_dq_finding;

typedef struct tr_dq_report {
    tr_dq_finding *v; /* (n) in the order of the bars; the stale finding last */
    size_t n, cap;
    size_t count[TR_DQ_N_KINDS];
    size_t missing_bars; /* total over the gaps */
} tr_dq_report;

/* 1 when the FX market is open at t (UTC seconds) by the rule above (without the grace). */
int tr_dq_market_open(int64_t t);

/* Checks bars (n, strictly ascending open times) and appends findings to a zeroed report.
 * as_of > 0 also checks staleness at that time. TR_ERR_INVALID for bad options or bars out of
 * order; TR_ERR_NOMEM (the report keeps what it had). */
tr_code tr_dq_check(const tr_bar *bars, size_t n, int64_t as_of, const tr_dq_opts *opt,
                    tr_dq_report *out, tr_error *err);

/* Frees the findings and zeroes the report; NULL does nothing. */
void tr_dq_report_free(tr_dq_report *r);

/* What a report holds for a period, as the log rows, events and endpoints report it. */
typedef struct tr_dq_summary {
    size_t count[TR_DQ_N_KINDS];
    size_t n;            /* findings in all */
    size_t missing_bars; /* in the gaps counted */
    char first[160];     /* "[PAIR ]kind at time (value)" of the first one, "" for none */
} tr_dq_summary;

/* Adds to *s the findings of r that end at or after from (a stale feed always counts); pair
 * (NULL: none) prefixes the first finding's text. s starts zeroed. */
void tr_dq_summarize(const tr_dq_report *r, const char *pair, int64_t from, tr_dq_summary *s);

#endif
