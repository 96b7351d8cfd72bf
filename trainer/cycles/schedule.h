/*
 * schedule.h - the scheduler behind `aifx-train run-due` (docs/operations.md): which cycles are
 * due at a time, and running them.
 *
 * Four slots (configurable): the daily fine-tune (incremental) at 02:00 UTC, the weekly full
 * retrain on Sunday at 01:00 UTC, the monthly ranking on the 1st at 00:00 UTC, and the daily look
 * at running A/B tests ("abtest", abtest.h) at 00:30 UTC, due only while a test runs; and the
 * drift check ("drift", driftcheck.h) at 03:00 UTC; and the
 * position monitor ("monitor", monitor.h), due at every call and run before the others, so that
 * the A/B look and the ranking see every outcome the stored bars decide. The fine-tune and the
 * retrain are paused in an extreme market (marketpause.h): such a slot is logged skipped with the
 * pair, the rule and its figures, unless force_training. The monitor's runs are not
 * written to the training log (one a minute would drown it), completed or failed: a failure is
 * the call's outcome (and aifx-serve's metrics), and the next call tries again. A cycle's
 * latest scheduled time L is the last slot at or before the as-of time. The cycle is due when no
 * completed or skipped log row of it has an as-of time >= L; it then runs once with as-of time L
 * (as if it had run on time), so missed slots before L are caught up by one run, not one per
 * missed period. Failed rows at >= L count as attempts: after max_retries of them the slot is
 * given up (the errors stay in the log) until the next slot.
 *
 * Two run-due processes never run the same cycle twice: the whole decide-and-run is done under
 * the store's cycle lock "run-due" (a second process gets TR_ERR_CONFLICT and runs nothing), and
 * due-ness is decided from the registry read after the lock was taken.
 */
#ifndef AIFXT_SCHEDULE_H
#define AIFXT_SCHEDULE_H

#include <stdint.h>

#include "cycles/cycle.h"
#include "cycles/rank.h"
#include "registry/registry.h"
#include "store/store.h"

enum {
    TR_SLOT_DAILY = 0,
    TR_SLOT_WEEKLY = 1,
    TR_SLOT_MONTHLY = 2,
    TR_SLOT_ABTEST = 3,  /* the daily look at running A/B tests (abtest.h), 00:30 */
    TR_SLOT_MONITOR = 4, /* the position monitor (monitor.h): due at every call, run first */
    TR_SLOT_DRIFT = 5,   /* the daily drift check (driftcheck.h), 03:00 */
    TR_N_SLOTS = 6
};

typedef struct tr_schedule {
    int minute[TR_N_SLOTS]; /* minute of the day (UTC): 120, 60, 0, 30, monitor unused, 180 */
    int weekday;            /* weekly slot: 0 Monday .. 6 Sunday (default 6) */
    int monthday;           /* monthly slot: 1..28 (default 1) */
    int enabled[TR_N_SLOTS];
    int max_retries; /* failed attempts per slot before it is given up (default 3) */
} tr_schedule;

tr_schedule tr_schedule_default(void);

/* The cycle run by a slot: "incremental", "full", "rank", "abtest", "monitor" (schedule.c's slot
 * table, each an entry of tr_cycles[], cycledef.h). */
const char *tr_slot_cycle(int slot);

/* The latest scheduled time of a slot at or before t (the monitor's: t). */
int64_t tr_sched_latest(const tr_schedule *s, int slot, int64_t t);

enum { TR_DUE_NO = 0, TR_DUE_YES = 1, TR_DUE_GAVE_UP = 2 };

/* Whether cycle is due for the slot time latest, from the log in reg: TR_DUE_NO when a completed
 * or skipped row of it has as_of >= latest, or when its entry (cycledef.h) says it is idle then
 * ("abtest" without a running test); TR_DUE_GAVE_UP when max_retries failed rows have;
 * else TR_DUE_YES. n_failed (optional) receives the failed rows counted; last_error (optional)
 * the newest one's error (pointing into reg). */
int tr_sched_due(const tr_registry *reg, const char *cycle, int64_t latest, int max_retries,
                 int *n_failed, const char **last_error);

enum {
    TR_RUN_NOT_DUE = 0,
    TR_RUN_COMPLETED,
    TR_RUN_SKIPPED,
    TR_RUN_FAILED,
    TR_RUN_GAVE_UP,
    TR_RUN_DISABLED
};

typedef struct tr_due_item {
    int slot;
    int64_t latest;               /* the slot time, also the as-of time of the run */
    int outcome;                  /* TR_RUN_* */
    int attempt;                  /* 1 for the first run of this slot, 2 for the first retry... */
    char version[TR_VERSION_MAX]; /* produced or, for rank, the best version */
    char detail[1024];            /* verdict and reason, or the error */
} tr_due_item;

typedef struct tr_due_result {
    tr_due_item items[TR_N_SLOTS]; /* in the order run: by slot time */
    int n_items;
    tr_code first_error; /* TR_OK, or the code of the first cycle that failed in this call */
} tr_due_result;

/* The cycles' settings; their as_of fields are replaced by the slot times (the cycles' context,
 * cycledef.h). */
typedef struct tr_due_opts {
    int64_t as_of;
    tr_schedule sched;
    tr_full_opts full; /* resumed when its entry finds a killed run of the slot */
    tr_incr_opts incr;
    tr_rank_opts rank;
    tr_clock_fn clock;  /* the cycles' clock: NULL the wall clock; the replay's tr_clock_as_of
                           stamps activations and retirements with the slot time */
    int force_training; /* run the fine-tune and the retrain even in an extreme market */
} tr_due_opts;

tr_due_opts tr_due_opts_default(void);

/* Runs every due cycle (see the header comment). Returns TR_ERR_CONFLICT when another run-due
 * holds the lock (nothing run), another error when the store cannot be read; otherwise TR_OK
 * with each slot's outcome in res (a cycle's failure is an outcome, logged, with its code in
 * res->first_error). */
tr_code tr_run_due(tr_store *store, const tr_due_opts *o, tr_due_result *res, tr_error *err);

const char *tr_run_outcome_name(int outcome);

/* The slot that runs cycle (TR_SLOT_*), or -1. */
int tr_slot_of_cycle(const char *cycle);
/* 1 for a slot due at every call and never logged (the monitor): not a job of the queue. */
int tr_slot_every_call(int slot);

/* Runs one logged slot's cycle as of its slot time t as run-due does when it is due (the caller
 * decided that, with tr_sched_due): the extreme-market pause first, then the cycle through its
 * table entry; a failure is logged (a failed row, added when the cycle could not write it) and
 * returned with its error, it->outcome TR_RUN_FAILED. The job queue's worker runs its jobs
 * with it (jobs.h). */
tr_code tr_run_slot(tr_store *store, const tr_due_opts *o, int slot, int64_t t, tr_due_item *it,
                    tr_error *err);

#endif
