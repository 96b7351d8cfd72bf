/*
 * timeline.h - the replay's timeline (docs/operations.md): what the simulated loop did, as
 * Markdown, from plain data the replay gathers (cycles/replay.c): the registry at the end, each
 * A/B test's analysis, and every pair's signals with their outcomes.
 *
 * Times of activations are on the simulated clock: the ranking's and an A/B test's are stamped
 * with their slot time, the gate's and the first model's are the as-of time of the version they
 * activated.
 */
#ifndef AIFXT_TIMELINE_H
#define AIFXT_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/strbuf.h"
#include "market/signal.h"
#include "registry/registry.h"
#include "report/ab_report.h"

#define TR_TIMELINE_MAX_PAIRS 8

typedef struct tr_timeline {
    const char *pair[TR_TIMELINE_MAX_PAIRS];
    const tr_signal *sigs[TR_TIMELINE_MAX_PAIRS]; /* each pair's signals, ascending bar time */
    size_t n_sigs[TR_TIMELINE_MAX_PAIRS];
    int n_pairs;
    int64_t from, to; /* the replayed period (from, to] */
    int32_t timeframe;
    size_t n_steps, n_steps_run;
    int resumed;
    double seconds, seconds_cycles, seconds_predict;
    const char *active;     /* the active version at the end, "" or NULL for none */
    const tr_registry *reg; /* at the end */
    const tr_ab_report *ab; /* (reg->n_abtests) each test's analysis ... */
    const int *ab_ok;       /* ... where its entry is 1 (a test without one is left out) */
} tr_timeline;

/* Appends the timeline to b. TR_ERR_NOMEM when out of memory. */
tr_code tr_timeline_render(const tr_timeline *t, tr_sb *b, tr_error *err);

#endif
