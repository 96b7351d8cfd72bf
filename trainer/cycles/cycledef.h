/*
 * cycledef.h - the one cycle interface: a cycle is a table entry (tr_cycle_def) run with a
 * context (tr_cycle_ctx) into a common outcome (tr_cycle_outcome), as store/backend.h's method
 * table is for the store backends. The scheduler (schedule.c) and the replay run cycles only
 * through their entries, found by name in tr_cycles[] (cycles.c).
 *
 * The context carries what every cycle needs from its caller: the store, the as-of time, the
 * clock, resume, and the event sink. The clock stamps what a cycle records "when" (activations,
 * retirements, the end of an A/B test): the wall clock live, and in the replay the simulated
 * clock, which stands at the slot time the cycle runs as of (tr_clock_as_of). A cycle's own
 * settings are its option struct (tr_full_opts, tr_incr_opts, tr_rank_opts; NULL: the defaults),
 * whose as_of and resume fields the entry ignores in favour of the context's; the options' event
 * sink serves only when the context has none.
 *
 * Adding a cycle: one file defining `const tr_cycle_def tr_cycle_<name>` and one row in
 * tr_cycles[] (cycles.c); a scheduled one also gets a row in schedule.c's slot table.
 */
#ifndef AIFXT_CYCLEDEF_H
#define AIFXT_CYCLEDEF_H

#include <stddef.h>
#include <stdint.h>

#include "aifxnn.h"
#include "base/err.h"
#include "registry/registry.h"
#include "store/store.h"

enum { TR_EV_STAGE = 0, TR_EV_EPOCH = 1 };

typedef struct tr_event {
    int kind;                       /* TR_EV_* */
    const char *cycle;              /* "full", "incremental" */
    const char *text;               /* TR_EV_STAGE: what starts now */
    const aifx_epoch_report *epoch; /* TR_EV_EPOCH */
} tr_event;

typedef void (*tr_event_fn)(const tr_event *ev, void *user);

typedef struct tr_cycle_ctx tr_cycle_ctx;

/* A clock: the time to stamp now, in seconds since the epoch (UTC). */
typedef int64_t (*tr_clock_fn)(const tr_cycle_ctx *ctx);

struct tr_cycle_ctx {
    tr_store *store;
    int64_t as_of;        /* the cycle's time (run-due: the slot time); 0: now */
    tr_clock_fn clock;    /* NULL: the wall clock */
    int resume;           /* continue an interrupted run (the cycles that have one) */
    tr_event_fn on_event; /* progress (NULL: none) */
    void *user;
};

/* The wall clock. */
int64_t tr_clock_wall(const tr_cycle_ctx *ctx);
/* The replay's simulated clock: it stands at the context's as-of time. */
int64_t tr_clock_as_of(const tr_cycle_ctx *ctx);
/* The context's clock now (the wall clock when it has none). */
int64_t tr_cycle_now(const tr_cycle_ctx *ctx);
/* Sends a stage event of cycle to the context's sink, if any. */
void tr_cycle_stage(const tr_cycle_ctx *ctx, const char *cycle, const char *text);

/* What any cycle's run came to. */
typedef struct tr_cycle_outcome {
    int status;                   /* TR_LOG_COMPLETED, TR_LOG_SKIPPED or TR_LOG_FAILED */
    char version[TR_VERSION_MAX]; /* produced (rank: the best version), "" if none */
    char verdict[16];             /* the gate's or the first model's, "" if none */
    int activated;                /* the cycle changed the active version */
    char detail[1024];            /* verdict and reason, or a one-line account */
    void *figures; /* in: NULL, or the cycle's own result to fill as well (the entry's
                      `figures` names its type); out: unchanged */
} tr_cycle_outcome;

typedef struct tr_cycle_def {
    const char *name;    /* as in the training log and the schedule */
    const char *figures; /* the type outcome->figures may point to: "tr_cycle_result" (full,
                            incremental), "tr_rank_result" (rank), NULL for none */
    /* Runs the cycle. TR_OK with out->status completed or skipped (the skip logged with its
     * reason); on failure the error, with the failed log row committed when the cycle got far
     * enough to log one. opts: the cycle's option struct, NULL for the defaults. */
    tr_code (*run)(const tr_cycle_ctx *ctx, const void *opts, tr_cycle_outcome *out, tr_error *err);
    /* Optional: 1 when an interrupted run as of exactly ctx->as_of waits to be continued (the
     * scheduler then runs the cycle with resume set). */
    int (*pending)(const tr_cycle_ctx *ctx);
    /* Optional: 1 when the cycle has nothing to do at slot time t, whatever its log says (the
     * A/B look without a running test); such a slot is not due. */
    int (*idle)(const tr_registry *reg, int64_t t);
    /* Optional: removes what a run that completed (its changes committed) left behind when it
     * was killed before its own cleanup (full: runs/); never touches an unfinished run. The
     * scheduler calls it for a slot that its log already covers. */
    void (*tidy)(const tr_cycle_ctx *ctx);
} tr_cycle_def;

/* The registry of cycles (cycles.c), NULL-terminated. */
extern const tr_cycle_def *const tr_cycles[];

/* The entry named name, or NULL. */
const tr_cycle_def *tr_cycle_find(const char *name);

#endif
