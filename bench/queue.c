/*
 * queue.c - aifx-bench-queue: the job queue's own costs (store.h, "the job queue"; figures in
 * docs/performance.md, "Issue 17: the job queue"), on any store.
 *
 *   aifx-bench-queue overhead --store LOC [--jobs N] [--backlog B]
 *       N no-op jobs (default 200) through the calls a worker makes, each timed: enqueue,
 *       claim, heartbeat, complete; and the registry commit that logs a slot with the job's
 *       fence (the fence check and the job's completion in the commit) against the same commit
 *       without a fence. B finished jobs (default 0) are in the queue first: the directory
 *       store rewrites its whole jobs file per change, so its costs grow with the queue.
 *       Prints the median and the 90th percentile of each call, in milliseconds.
 *   aifx-bench-queue drain --store LOC [--jobs N] [--families K] [--workers W] [--work S]
 *                          [--wait]
 *       N jobs (default 24) spread over K families (default 8) drained by W worker processes
 *       (default 1), each job S seconds (default 2) of CPU time in arithmetic in place of a
 *       cycle: what the queue lets W workers do with independent families (a family's jobs run
 *       one at a time). --wait: each job waits S seconds instead (a job that holds its worker
 *       without a core: the queue's own dispatch, free of the machine's load). A worker with
 *       nothing runnable polls every 10 ms. Prints the wall time and the jobs per minute.
 *
 *   aifx-bench-queue burn [--jobs N] [--workers W] [--work S]
 *       the same N jobs of S CPU seconds split over W processes with no queue: what the machine
 *       gives W processes at the time (the drain's yardstick on a shared machine).
 *
 * The store must exist (a PostgreSQL one migrated: aifx-train db migrate); bench/queue.sh makes
 * both kinds and runs every figure.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"
#include "cycles/cycle.h"
#include "store/store.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static tr_store *open_store(const char *loc)
{
    tr_store *s;
    tr_error e;
    tr_store_options o = {.create = 1};
    if (tr_store_open(loc, &o, &s, &e) != TR_OK) {
        fprintf(stderr, "aifx-bench-queue: %s\n", e.msg);
        exit(1);
    }
    return s;
}

static void check(tr_code rc, const tr_error *e, const char *what)
{
    if (rc != TR_OK) {
        fprintf(stderr, "aifx-bench-queue: %s: %s\n", what, e->msg);
        exit(1);
    }
}

/* The 90th percentile of v (n >= 1), which is sorted in place. */
static double p90(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bu_cmp_double);
    return v[(int)ceil(0.9 * n) - 1];
}

enum { OP_ENQUEUE, OP_CLAIM, OP_HEARTBEAT, OP_COMPLETE, OP_COMMIT_FENCED, OP_COMMIT_PLAIN, N_OPS };
static const char *const op_names[N_OPS] = {"enqueue",  "claim",        "heartbeat",
                                            "complete", "commit+fence", "commit (no fence)"};

/* A registry commit that logs cycle "drift" skipped as of t, with fence (NULL: none). */
static tr_code log_slot(tr_store *s, int64_t t, const tr_job_fence *fence, tr_error *e)
{
    tr_log_row row;
    tr_log_row_begin(&row, "drift", t, t, TR_LOG_SKIPPED, NULL, NULL);
    snprintf(row.reason, sizeof row.reason, "bench");
    tr_reg_txn txn;
    memset(&txn, 0, sizeof txn);
    txn.log = &row;
    txn.n_log = 1;
    txn.now = t;
    txn.job = fence;
    return tr_store_registry_commit(s, &txn, e);
}

static int overhead(const char *loc, int n, int backlog)
{
    tr_store *s = open_store(loc);
    tr_error e;
    int ins, got;
    int64_t id;
    tr_job j;
    const int64_t base = 1704067200;    /* 2024-01-01 */
    for (int i = 0; i < backlog; i++) { /* finished jobs of another family, untimed */
        check(tr_store_job_enqueue(s, "backlog", "drift", base + (int64_t)i * 86400, 3, &ins, &id,
                                   &e),
              &e, "enqueue");
        check(tr_store_job_claim(s, "backlog", 60, &j, &got, &e), &e, "claim");
        tr_job_fence f = {j.id, j.lease};
        check(tr_store_job_complete(s, &f, "done", &e), &e, "complete");
    }
    double *t[N_OPS];
    for (int k = 0; k < N_OPS; k++) {
        t[k] = calloc((size_t)n, sizeof(double));
        if (!t[k])
            return 1;
    }
    for (int i = 0; i < n; i++) {
        int64_t slot = base + 86400LL * 4000 + (int64_t)i * 86400;
        double t0 = now();
        check(tr_store_job_enqueue(s, "bench", "drift", slot, 3, &ins, &id, &e), &e, "enqueue");
        double t1 = now();
        check(tr_store_job_claim(s, "bench", 60, &j, &got, &e), &e, "claim");
        double t2 = now();
        if (!got || j.id != id) {
            fprintf(stderr, "aifx-bench-queue: job %lld was not claimed\n", (long long)id);
            return 1;
        }
        tr_job_fence f = {j.id, j.lease};
        check(tr_store_job_heartbeat(s, &f, 60, &e), &e, "heartbeat");
        double t3 = now();
        check(log_slot(s, slot, &f, &e), &e, "fenced commit");
        double t4 = now();
        check(tr_store_job_complete(s, &f, "bench", &e), &e, "complete");
        double t5 = now();
        check(log_slot(s, slot + 3600, NULL, &e), &e, "commit");
        double t6 = now();
        t[OP_ENQUEUE][i] = t1 - t0;
        t[OP_CLAIM][i] = t2 - t1;
        t[OP_HEARTBEAT][i] = t3 - t2;
        t[OP_COMMIT_FENCED][i] = t4 - t3;
        t[OP_COMPLETE][i] = t5 - t4;
        t[OP_COMMIT_PLAIN][i] = t6 - t5;
    }
    tr_store_close(s);
    char cpu[128];
    bu_cpu_name(cpu, sizeof cpu);
    printf("aifx-bench-queue overhead: %s, %d jobs after a backlog of %d, milliseconds\n", cpu, n,
           backlog);
    printf("%-18s %8s %8s\n", "call", "median", "p90");
    double sum = 0;
    for (int k = 0; k < N_OPS; k++) {
        double p = p90(t[k], n), m = bu_median(t[k], n);
        if (k == OP_ENQUEUE || k == OP_CLAIM || k == OP_HEARTBEAT || k == OP_COMPLETE)
            sum += m;
        printf("%-18s %8.3f %8.3f\n", op_names[k], 1e3 * m, 1e3 * p);
        free(t[k]);
    }
    printf("%-18s %8.3f\n", "queue per job", 1e3 * sum);
    printf("(queue per job: enqueue + claim + one heartbeat + complete; a job's fence costs "
           "commit+fence - commit)\n");
    return 0;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* S seconds of this process's CPU time spent in arithmetic, in place of a cycle: workers that
 * share a core take longer in wall time, as training would. */
static double burn(double seconds)
{
    double x = 0, end = cpu_now() + seconds;
    while (cpu_now() < end)
        for (int i = 1; i < 100000; i++)
            x += 1.0 / (double)i;
    return x;
}

static int drain(const char *loc, int n, int families, int workers, double work, int wait_only)
{
    tr_store *s = open_store(loc);
    tr_error e;
    int ins;
    int64_t id;
    for (int i = 0; i < n; i++) { /* family i % K, slots in order within each */
        char fam[32];
        snprintf(fam, sizeof fam, "fam%02d", i % families);
        check(tr_store_job_enqueue(s, fam, "drift", 1704067200 + (int64_t)(i / families) * 86400, 3,
                                   &ins, &id, &e),
              &e, "enqueue");
    }
    tr_store_close(s);
    fflush(NULL);
    double t0 = now();
    for (int w = 0; w < workers; w++) {
        pid_t p = fork();
        if (p < 0)
            return 1;
        if (p > 0)
            continue;
        tr_store *ws = open_store(loc);
        int idle = 0;
        double sink = 0;
        while (idle < 20) { /* 200 ms with nothing runnable and nothing running: done */
            tr_job j;
            int got;
            check(tr_store_job_claim(ws, NULL, 60, &j, &got, &e), &e, "claim");
            if (!got) {
                tr_job *l;
                size_t nl, open = 0;
                check(tr_store_job_list(ws, NULL, 0, &l, &nl, &e), &e, "list");
                for (size_t i = 0; i < nl; i++)
                    open += l[i].state != TR_JOB_DONE;
                free(l);
                idle = open ? 0 : idle + 1;
                (void)nanosleep(&(struct timespec){0, 10000000L}, NULL);
                continue;
            }
            if (wait_only)
                (void)nanosleep(
                    &(struct timespec){(time_t)work, (long)((work - (double)(time_t)work) * 1e9)},
                    NULL);
            else
                sink += burn(work);
            tr_job_fence f = {j.id, j.lease};
            check(tr_store_job_complete(ws, &f, "bench", &e), &e, "complete");
        }
        tr_store_close(ws);
        _exit(sink < 0);
    }
    int bad = 0;
    for (int w = 0; w < workers; w++) {
        int st;
        if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
            bad = 1;
    }
    /* the last 200 ms of idle polls are not draining */
    double wall = now() - t0 - 0.2;
    printf("aifx-bench-queue drain: %d jobs of %.1f s (%s) over %d families, %d workers: %.1f s, "
           "%.1f jobs/min%s\n",
           n, work, wait_only ? "waiting" : "CPU", families, workers, wall, 60.0 * n / wall,
           bad ? " (a worker failed)" : "");
    return bad;
}

/* The same work without a queue: W processes burning N/W jobs of S CPU seconds each, so that a
 * drain's figure can be read against what the machine gives W processes at the time. */
static int burn_only(int n, int workers, double work)
{
    fflush(NULL);
    double t0 = now();
    for (int w = 0; w < workers; w++) {
        pid_t p = fork();
        if (p < 0)
            return 1;
        if (p == 0) {
            double sink = 0;
            for (int i = w; i < n; i += workers)
                sink += burn(work);
            _exit(sink < 0);
        }
    }
    for (int w = 0; w < workers; w++)
        (void)wait(NULL);
    double wall = now() - t0;
    printf("aifx-bench-queue burn: %d jobs of %.1f s, %d processes, no queue: %.1f s, %.1f "
           "jobs/min\n",
           n, work, workers, wall, 60.0 * n / wall);
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "", *loc = NULL;
    int n = -1, backlog = 0, families = 8, workers = 1;
    double work = 2;
    int wait_only = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--wait") == 0) {
            wait_only = 1;
            continue;
        }
        if (!v)
            goto usage;
        if (strcmp(a, "--store") == 0)
            loc = v;
        else if (strcmp(a, "--jobs") == 0)
            n = atoi(v);
        else if (strcmp(a, "--backlog") == 0)
            backlog = atoi(v);
        else if (strcmp(a, "--families") == 0)
            families = atoi(v);
        else if (strcmp(a, "--workers") == 0)
            workers = atoi(v);
        else if (strcmp(a, "--work") == 0)
            work = atof(v);
        else
            goto usage;
        i++;
    }
    if (strcmp(mode, "burn") == 0 && workers >= 1 && workers <= 64 && work >= 0)
        return burn_only(n > 0 ? n : 24, workers, work);
    if (!loc || families < 1 || workers < 1 || workers > 64 || backlog < 0 || !(work >= 0))
        goto usage;
    if (strcmp(mode, "overhead") == 0)
        return overhead(loc, n > 0 ? n : 200, backlog);
    if (strcmp(mode, "drain") == 0)
        return drain(loc, n > 0 ? n : 24, families, workers, work, wait_only);
usage:
    fprintf(stderr, "usage: aifx-bench-queue overhead --store LOC [--jobs N] [--backlog B]\n"
                    "       aifx-bench-queue drain --store LOC [--jobs N] [--families K] "
                    "[--workers W] [--work S] [--wait]\n"
                    "       aifx-bench-queue burn [--jobs N] [--workers W] [--work S]\n");
    return 2;
}
