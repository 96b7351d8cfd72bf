/*
 * jobs_dir.h - the directory store's job queue (store.h, "the job queue"; docs/schema.md
 * section 3, "jobs.aifx and jobs/"): the same commands and the same semantics as PostgreSQL's
 * queue, for the workers of one host.
 *
 * <store>/jobs.aifx holds every job (text, a checksum, replaced atomically as a whole by each
 * change, under the store's lock <store>/lock). A claim leases the job on the local clock and
 * increments its fencing generation, as on PostgreSQL; the claiming handle also holds flock on
 * <store>/jobs/<id>.<generation>.lock for as long as it holds the job, so a job whose worker
 * died (kill -9, a crash: the kernel drops the flock) is claimed again at once instead of after
 * its lease. A live worker that stalls past its lease still loses the job to the lease, and its
 * late writes and registry commit are refused by the generation. Idle workers wait on
 * <store>/jobs/wake, which an enqueue and a retry touch (inotify on Linux, else a poll).
 */
#ifndef AIFXT_JOBS_DIR_H
#define AIFXT_JOBS_DIR_H

#include "store/store.h"

#define TR_JOBS_DIR_HOLDS 8

/* A handle's part of the queue: the jobs it holds, each the flock'ed descriptor of its
 * generation's lock file (fd -1: a free entry), and the inotify descriptor its waits keep open
 * (-1 until the first), so that a wake-up between two waits is not lost. tr_jobs_dir_holds_init'ed
 * at open. */
typedef struct tr_jobs_dir_holds {
    struct {
        int fd;
        int64_t id, lease;
    } v[TR_JOBS_DIR_HOLDS];
    int watch;
} tr_jobs_dir_holds;

void tr_jobs_dir_holds_init(tr_jobs_dir_holds *h);
/* Lets go of every job still held (a handle closed mid-job: another worker claims it at once)
 * and closes the watch. */
void tr_jobs_dir_holds_release(const char *dir, tr_jobs_dir_holds *h);

/* The store.h operations on the store directory dir (name: the store as printed). Each takes
 * the store lock for its read-modify-write; readers (list, get) take none. */
tr_code tr_jobs_dir_enqueue(const char *dir, const char *family, const char *cycle,
                            int64_t slot_time, int max_attempts, int *inserted, int64_t *id,
                            tr_error *err);
tr_code tr_jobs_dir_claim(const char *dir, tr_jobs_dir_holds *h, const char *family,
                          double lease_seconds, tr_job *job, int *got, tr_error *err);
tr_code tr_jobs_dir_heartbeat(const char *dir, const char *name, const tr_job_fence *f,
                              double lease_seconds, tr_error *err);
tr_code tr_jobs_dir_complete(const char *dir, const char *name, tr_jobs_dir_holds *h,
                             const tr_job_fence *f, const char *result, tr_error *err);
tr_code tr_jobs_dir_fail(const char *dir, const char *name, tr_jobs_dir_holds *h,
                         const tr_job_fence *f, const char *error, double backoff_base,
                         tr_job_state *state, tr_error *err);
tr_code tr_jobs_dir_list(const char *dir, const char *family, size_t max, tr_job **list, size_t *n,
                         tr_error *err);
tr_code tr_jobs_dir_get(const char *dir, const char *name, int64_t id, tr_job *job, tr_error *err);
tr_code tr_jobs_dir_retry(const char *dir, const char *name, int64_t id, tr_error *err);

/* For a registry commit, the caller holding the store lock: TR_OK when job f is still held
 * under its generation (running, or done by an earlier commit of the same holder), with its
 * cycle and slot time; else TR_ERR_CONFLICT "lost its job lease" (nothing may be committed). */
tr_code tr_jobs_dir_fence_check(const char *dir, const char *name, const tr_job_fence *f,
                                char *cycle, size_t size, int64_t *slot, tr_error *err);
/* After that commit's registry was written, still under the lock: when txn logs the job's cycle
 * completed or skipped as of its slot, marks the job done with that outcome. */
tr_code tr_jobs_dir_finish(const char *dir, const tr_reg_txn *txn, const char *cycle, int64_t slot,
                           tr_error *err);

/* Waits at most timeout seconds (< 0: no limit) for an enqueue or a retry on the store at dir
 * (since h's first wait): *woken 1 when one came. */
tr_code tr_jobs_dir_wait(const char *dir, tr_jobs_dir_holds *h, double timeout, int *woken,
                         tr_error *err);

#endif
