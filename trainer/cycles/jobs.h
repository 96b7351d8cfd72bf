/*
 * jobs.h - the job queue's two sides above the store (docs/operations.md section 8, "A job
 * queue"): the scheduler step that enqueues one job per due slot, and the worker that
 * claims a job, runs its slot's cycle with the job's fence in its registry commit, and records
 * how it ended. The queue itself (claims, leases, fencing, retries) is the store's (store.h).
 *
 * Due-ness is the scheduler's (schedule.h: tr_sched_latest, tr_sched_due), and a job runs
 * through the same tr_run_slot as run-due (the extreme-market pause, the cycle's table entry,
 * its failed row in the log), so a queued slot ends as run-due would have ended it. The monitor
 * slot, due at every call and never logged, is not queued: run it in process (run-due
 * --enqueue, or aifx-serve --schedule --enqueue, tr_run_due_enqueue).
 */
#ifndef AIFXT_JOBS_H
#define AIFXT_JOBS_H

#include <signal.h>
#include <stdint.h>

#include "cycles/schedule.h"
#include "store/store.h"

#define TR_ENQUEUE_FAMILIES 128 /* families one enqueue-due call looks at, at most */

/* What enqueue-due did with each slot of each family. */
typedef struct tr_enqueue_item {
    char family[TR_FAMILY_NAME_MAX];
    int slot;
    int64_t latest; /* the slot time */
    int due;        /* TR_DUE_*, or -1 for a disabled slot */
    int inserted;   /* a new job (0: the job existed already, or not due) */
    int64_t id;     /* the job's id when due */
} tr_enqueue_item;

typedef struct tr_enqueue_result {
    tr_enqueue_item items[TR_N_SLOTS * TR_ENQUEUE_FAMILIES];
    int n_items;
    int n_inserted;
} tr_enqueue_result;

/* Enqueues a job (max_attempts each) for each enabled logged slot of o->sched that is due as of
 * o->as_of (its latest slot time, due by the family's training log), for the family named, or
 * (family NULL or "") for the default family and every family defined in the store, each with
 * its own schedule settings (its weekday, its disabled cycles). Two callers at once enqueue each
 * slot once. More than TR_ENQUEUE_FAMILIES families is TR_ERR_INVALID (nothing skipped
 * silently). */
tr_code tr_enqueue_due(tr_store *store, const tr_due_opts *o, const char *family, int max_attempts,
                       tr_enqueue_result *res, tr_error *err);

/* run-due --enqueue and aifx-serve --schedule --enqueue: the slots due at every call (the
 * monitor) run in process as run-due runs them (under its lock: TR_ERR_CONFLICT when another
 * run-due holds it, nothing done), and the logged slots that are due are enqueued as jobs
 * (tr_enqueue_due) for the workers instead of run. due receives the in-process slots' outcomes
 * (the others TR_RUN_DISABLED), enq the enqueued ones. */
tr_code tr_run_due_enqueue(tr_store *store, const tr_due_opts *o, const char *family,
                           int max_attempts, tr_due_result *due, tr_enqueue_result *enq,
                           tr_error *err);

typedef struct tr_worker_opts {
    tr_due_opts due;      /* the cycles' settings (its as_of and sched are not used) */
    const char *family;   /* NULL or "": jobs of every family */
    double lease_seconds; /* default 60; renewed every third of it */
    double backoff_base;  /* a failed attempt n runs again after backoff_base * 2^n (30) */
} tr_worker_opts;

tr_worker_opts tr_worker_opts_default(void);

/* How one claimed job ended. */
typedef struct tr_worker_result {
    int got;            /* a job was claimed */
    tr_job job;         /* as claimed */
    int outcome;        /* TR_RUN_* (TR_RUN_NOT_DUE: the log covered the slot already) */
    int lost;           /* the lease was lost to another worker: nothing of this run committed */
    tr_job_state state; /* what the job became: done, failed, dead (when not lost) */
    char detail[1024];
} tr_worker_result;

/* Claims one job and runs it (see the header comment); a heartbeat thread with its own store
 * handle renews the lease every third of lease_seconds. TR_OK with res->got 0 when no job is
 * runnable; TR_OK for any run that ended (its end in res: a failed cycle is recorded on the job
 * and retried later, a lost lease refuses the run's commits); an error only when the queue
 * cannot be reached. */
tr_code tr_worker_run_one(tr_store *store, const tr_worker_opts *o, tr_worker_result *res,
                          tr_error *err);

/* Runs jobs until *stop is set (checked between jobs: the current one is finished) or, with
 * once, until no job is runnable; waits for a NOTIFY on "jobs" between polls of poll_seconds.
 * on_job (NULL: none) is called after each job. Without once, a server that is down or restarts
 * (TR_ERR_STORE) is waited for, a poll interval at a time; with once it ends the loop. */
tr_code tr_worker_loop(tr_store *store, const tr_worker_opts *o, int once, double poll_seconds,
                       volatile sig_atomic_t *stop,
                       void (*on_job)(const tr_worker_result *r, void *user), void *user,
                       tr_error *err);

#endif
