/*
 * check_jobs.c - the job queue (store.h, cycles/jobs.h; docs/operations.md section 8) on both
 * backends: every case but the server's restart runs on a directory store (always) and on the
 * private test server of scripts/lib/pg.sh ($AIFX_TEST_PG; those runs skip with a message
 * without it), each run in a fresh store or database of its own. The checks go through the
 * store's interface, so that they read the same on both:
 *   two enqueuers racing (two processes released at the same instant) enqueue each slot once;
 *   a claimed job whose lease lapses is claimed by another worker (a new fencing generation);
 *       the first worker's heartbeat, completion, failure and registry commit are refused, and
 *       nothing of its commit lands; the holder's commit marks the job done in its own
 *       transaction; a family's jobs run one at a time in slot order;
 *   a failing job is retried after 30 s * 2^attempts, then dead with its error; jobs retry
 *       queues it again; jobs list, show and retry on the command line;
 *   on the directory store, a job whose holder let go (its handle closed, its process dead) is
 *       claimed again at once, before its lease lapses;
 *   SIGTERM in the middle of a retrain: the job is finished and recorded, the next one left,
 *       exit 0;
 *   worker --concurrency 2 --once drains what enqueue-due queued and exits 0;
 *   two worker processes drain a queue of the slots of four days (tiny models), each slot run
 *       and logged exactly once, then stop on SIGTERM with exit 0;
 *   a worker killed with kill -9 in the middle of a retrain: another worker claims the job (on
 *       PostgreSQL when its lease lapses, on a directory at once) and completes it; one version,
 *       one log row;
 *   a worker stopped (SIGSTOP) in the middle of a retrain past its lease, then continued: the
 *       other worker holds the job, the stalled worker's commit is refused ("lost its job
 *       lease"), one version, one completed row, one activation;
 *   a slot logged while its job runs, its holder then gone (on a directory store, a crash
 *       between the registry's write and the job file's): the next worker ends the job "not
 *       due" without running it again;
 *   run-due --enqueue queues the due slots instead of running them (and runs the monitor);
 *   PostgreSQL only: the server stopped and started under an idle worker: it waits, then runs
 *       the next job.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include <check.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../check_main.h"
#include "base/timeutil.h"
#include "cycles/cycle.h"
#include "cycles/jobs.h"
#include "cycles/schedule.h"
#include "market/synth.h"
#include "pgutil.h"
#include "store/store.h"
#include "testutil.h"

#define M15 900

/* The backends of a loop test's _i. */
enum { BK_DIR = 0, BK_PG = 1, BK_COUNT = 2 };

typedef struct fixture {
    int backend;
    char *ci;  /* the PostgreSQL database (BK_PG) */
    char *loc; /* the store: ci, or <dir>/store */
    char *dir, *models;
    char cwd[4096];
} fixture;

static int fx_open(fixture *f, int backend)
{
    memset(f, 0, sizeof *f);
    f->backend = backend;
    if (backend == BK_PG) {
        if (!pu_server())
            return 0;
        f->ci = pu_create_db(1);
    }
    f->dir = tu_tempdir();
    f->models = tu_path(f->dir, "models");
    setenv("AIFX_MODELS_DIR", f->models, 1);
    f->loc = backend == BK_PG ? strdup(f->ci) : tu_path(f->dir, "store");
    ck_assert_ptr_nonnull(getcwd(f->cwd, sizeof f->cwd));
    ck_assert_int_eq(chdir(f->dir), 0);
    return 1;
}

static void fx_close(fixture *f)
{
    ck_assert_int_eq(chdir(f->cwd), 0);
    unsetenv("AIFX_MODELS_DIR");
    if (f->ci)
        pu_drop_db(f->ci);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f->models);
    free(f->loc);
}

static tr_store *open_ok(const char *location)
{
    tr_store *s;
    tr_error e;
    tr_store_options o = {.create = 1, .models_dir = getenv("AIFX_MODELS_DIR")};
    tr_code rc = tr_store_open(location, &o, &s, &e);
    ck_assert_msg(rc == TR_OK, "open %s: %s", location, e.msg);
    return s;
}

/* ---- what the store holds, through its interface ------------------------------------------- */

/* The jobs, newest slot first (the caller frees *list). */
static size_t jobs_of(const fixture *f, tr_job **list)
{
    tr_store *s = open_ok(f->loc);
    tr_error e;
    size_t n;
    ck_assert_msg(tr_store_job_list(s, NULL, 0, list, &n, &e) == TR_OK, "%s", e.msg);
    tr_store_close(s);
    return n;
}

/* Jobs in state (< 0: all) with attempts (< 0: any). */
static long long n_jobs(const fixture *f, int state, int attempts)
{
    tr_job *l;
    size_t n = jobs_of(f, &l);
    long long c = 0;
    for (size_t i = 0; i < n; i++)
        c += (state < 0 || (int)l[i].state == state) && (attempts < 0 || l[i].attempts == attempts);
    free(l);
    return c;
}

/* The one job of the store with cycle (NULL: the first listed). */
static tr_job job_of(const fixture *f, const char *cycle)
{
    tr_job *l, j;
    size_t n = jobs_of(f, &l);
    memset(&j, 0, sizeof j);
    for (size_t i = 0; i < n; i++)
        if (!cycle || strcmp(l[i].cycle, cycle) == 0) {
            j = l[i];
            break;
        }
    free(l);
    return j;
}

static void reg_of(const fixture *f, tr_registry *reg)
{
    tr_store *s = open_ok(f->loc);
    tr_error e;
    ck_assert_msg(tr_store_registry_read(s, reg, &e) == TR_OK, "%s", e.msg);
    tr_store_close(s);
}

/* Versions of type (< 0: any). */
static long long n_versions(const fixture *f, int type)
{
    tr_registry reg;
    reg_of(f, &reg);
    long long c = 0;
    for (size_t i = 0; i < reg.n_versions; i++)
        c += type < 0 || (int)reg.versions[i].type == type;
    tr_registry_free(&reg);
    return c;
}

/* Log rows of cycle (NULL: any) with status (< 0: any). */
static long long n_log(const fixture *f, const char *cycle, int status)
{
    tr_registry reg;
    reg_of(f, &reg);
    long long c = 0;
    for (size_t i = 0; i < reg.n_log; i++)
        c += (!cycle || strcmp(reg.log[i].cycle, cycle) == 0) &&
             (status < 0 || (int)reg.log[i].status == status);
    tr_registry_free(&reg);
    return c;
}

static long long n_activations(const fixture *f)
{
    tr_registry reg;
    reg_of(f, &reg);
    long long c = (long long)reg.n_activations;
    tr_registry_free(&reg);
    return c;
}

#define run(dir, ...) tu_run(AIFX_TRAIN_EXE, dir, __VA_ARGS__)

static void load_bars(tr_store *s, const char *from, const char *to)
{
    static const char *pairs[2] = {"EURUSD", "USDJPY"};
    tr_error e;
    for (int p = 0; p < 2; p++) {
        tr_synth_params sp = tr_synth_params_default(pairs[p], T(from), T(to), (uint64_t)(7 + p));
        tr_bars b = {0};
        ck_assert_int_eq(tr_synth_generate(&sp, &b, NULL, &e), TR_OK);
        ck_assert_int_eq(tr_store_bars_put(s, pairs[p], M15, b.v, b.n, 0, NULL, &e), TR_OK);
        tr_bars_free(&b);
    }
}

/* ---- a worker process with its output on a pipe ------------------------------------------ */

typedef struct child {
    pid_t pid;
    int fd;
    char buf[1 << 16];
    size_t n;
} child;

static void worker_start(child *c, const fixture *f, const char *lease)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    c->n = 0;
    c->buf[0] = '\0';
    c->pid = fork();
    ck_assert_int_ge(c->pid, 0);
    if (c->pid == 0) {
        dup2(p[1], 1);
        dup2(p[1], 2);
        close(p[0]);
        close(p[1]);
        execl(AIFX_TRAIN_EXE, AIFX_TRAIN_EXE, "worker", "--store", f->loc, "--lease-seconds", lease,
              "--poll", "0.5", "--backoff", "0.25", "--months", "2", "--hidden", "8", "--epochs",
              "2", "--patience", "1", "--decision", "argmax", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    c->fd = p[0];
}

/* Reads what the child printed within seconds; 1 when text appeared. */
static int child_read(child *c, const char *text, double seconds)
{
    double end = tu_now() + seconds;
    while (!(text && strstr(c->buf, text))) {
        double left = end - tu_now();
        if (left <= 0)
            return 0;
        struct pollfd pf = {c->fd, POLLIN, 0};
        if (poll(&pf, 1, (int)(left * 1000) + 1) <= 0)
            continue;
        if (c->n + 1 >= sizeof c->buf) /* keep the tail */
            c->n = 0;
        ssize_t k = read(c->fd, c->buf + c->n, sizeof c->buf - 1 - c->n);
        if (k <= 0)
            return text && strstr(c->buf, text) != NULL;
        c->n += (size_t)k;
        c->buf[c->n] = '\0';
    }
    return 1;
}

/* Stops the child with sig and returns its exit status (-1 when a signal ended it). */
static int child_stop(child *c, int sig)
{
    kill(c->pid, sig);
    double end = tu_now() + 120; /* SIGTERM lets the current job finish */
    for (;;) {
        int st;
        if (waitpid(c->pid, &st, WNOHANG) == c->pid) {
            child_read(c, NULL, 0);
            close(c->fd);
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        }
        ck_assert_msg(tu_now() < end, "worker %d did not stop: %s", (int)c->pid, c->buf);
        child_read(c, NULL, 0.2);
    }
}

/* One step of a wait for a condition: reads what the children print for 0.1 s (or sleeps);
 * 0 once the time is up. for (end = ...; !(cond) && waiting(end, a, b);) {} */
static int waiting(double end, child *a, child *b)
{
    if (tu_now() >= end)
        return 0;
    if (a)
        child_read(a, NULL, 0.1);
    if (b)
        child_read(b, NULL, 0.1);
    if (!a && !b)
        usleep(100000);
    return 1;
}

#define WAIT_FOR(ok, cond, seconds, a, b)                                                          \
    for (double end_ = tu_now() + (seconds); !((ok) = (cond)) && waiting(end_, (a), (b));)

/* ---- two enqueuers ------------------------------------------------------------------------- */

START_TEST(test_enqueue_race)
{
    fixture f;
    if (!fx_open(&f, _i))
        return;
    tr_store_close(open_ok(f.loc)); /* a directory store exists before the race */
    int gate[2];
    ck_assert_int_eq(pipe(gate), 0);
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        ck_assert_int_ge(kids[k], 0);
        if (kids[k] == 0) {
            close(gate[1]);
            char c;
            while (read(gate[0], &c, 1) > 0) {
            }
            tr_store *s;
            tr_error e;
            if (tr_store_open(f.loc, NULL, &s, &e))
                _exit(100);
            tr_due_opts o = tu_tiny_due("2024-04-04T12:00");
            tr_enqueue_result r;
            tr_code rc = tr_enqueue_due(s, &o, NULL, 3, &r, &e);
            tr_store_close(s);
            _exit(rc ? 100 : r.n_inserted);
        }
    }
    close(gate[0]);
    close(gate[1]);
    int total = 0;
    for (int k = 0; k < 2; k++) {
        int st;
        ck_assert_int_eq(waitpid(kids[k], &st, 0), kids[k]);
        ck_assert(WIFEXITED(st) && WEXITSTATUS(st) < 100);
        total += WEXITSTATUS(st);
    }
    /* full, rank, incremental and drift are due on an empty log (abtest without a test is not;
     * the monitor is never queued): each once, whoever inserted it */
    ck_assert_int_eq(total, 4);
    tr_job *l;
    size_t n = jobs_of(&f, &l);
    ck_assert_int_eq(n, 4);
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < i; k++) /* distinct (cycle, slot_time) */
            ck_assert(strcmp(l[i].cycle, l[k].cycle) != 0 || l[i].slot_time != l[k].slot_time);
        ck_assert_str_ne(l[i].cycle, "monitor");
        ck_assert_str_eq(l[i].family, "default");
        ck_assert_int_eq(l[i].state, TR_JOB_QUEUED);
        ck_assert_int_eq(l[i].attempts, 0);
        ck_assert_int_eq(l[i].max_attempts, 3);
    }
    free(l);
    /* once more from the command line: nothing new, each slot named with its job */
    ck_assert_int_eq(run(f.dir, "enqueue-due --as-of 2024-04-04T12:00 --store '%s'", f.loc), 0);
    ck_assert(tu_output_has(f.dir, "queued_already (job "));
    ck_assert_int_eq(n_jobs(&f, -1, -1), 4);
    /* the store call answers which job holds the slot */
    tr_store *s = open_ok(f.loc);
    tr_error e;
    int ins = -1;
    int64_t id = 0;
    ck_assert_int_eq(tr_store_job_enqueue(s, NULL, "full", T("2024-03-31T01:00"), 3, &ins, &id, &e),
                     TR_OK);
    ck_assert_int_eq(ins, 0);
    ck_assert_int_eq(id, job_of(&f, "full").id);
    ck_assert_int_eq(
        tr_store_job_enqueue(s, "fx-majors", "full", T("2024-03-31T01:00"), 3, &ins, &id, &e),
        TR_OK);
    ck_assert_int_eq(ins, 1); /* another family is another job */
    ck_assert_int_eq(tr_store_job_enqueue(s, "Bad Name", "full", 0, 3, &ins, &id, &e),
                     TR_ERR_INVALID);
    tr_store_close(s);
    fx_close(&f);
}
END_TEST

/* ---- a lapsed lease and the fence ------------------------------------------------------------ */

static tr_code commit_done(tr_store *st, const tr_job_fence *fence, tr_error *e)
{
    tr_log_row row;
    tr_log_row_begin(&row, "rank", T("2024-04-01"), T("2024-04-01"), TR_LOG_SKIPPED, NULL, NULL);
    snprintf(row.reason, sizeof row.reason, "fence test");
    tr_reg_txn txn;
    memset(&txn, 0, sizeof txn);
    txn.log = &row;
    txn.n_log = 1;
    txn.now = row.finished_at;
    txn.job = fence;
    return tr_store_registry_commit(st, &txn, e);
}

START_TEST(test_lease_lapse_and_fence)
{
    fixture f;
    if (!fx_open(&f, _i))
        return;
    tr_store *a = open_ok(f.loc), *b = open_ok(f.loc);
    tr_error e;
    int ins, got;
    int64_t id;
    ck_assert_int_eq(tr_store_job_enqueue(a, NULL, "rank", T("2024-04-01"), 3, &ins, &id, &e),
                     TR_OK);
    tr_job ja, jb;
    ck_assert_int_eq(tr_store_job_claim(a, NULL, 1.0, &ja, &got, &e), TR_OK);
    ck_assert_int_eq(got, 1);
    ck_assert_int_eq(ja.id, id);
    ck_assert_int_eq(ja.state, TR_JOB_RUNNING);
    ck_assert_int_eq(ja.attempts, 1);
    ck_assert_int_eq(ja.lease, 1);
    ck_assert_ptr_nonnull(strchr(ja.leased_by, ':')); /* host:pid */
    /* held: nobody else gets it; a heartbeat keeps it */
    ck_assert_int_eq(tr_store_job_claim(b, NULL, 1.0, &jb, &got, &e), TR_OK);
    ck_assert_int_eq(got, 0);
    tr_job_fence fa = {ja.id, ja.lease};
    usleep(600000);
    ck_assert_int_eq(tr_store_job_heartbeat(a, &fa, 1.0, &e), TR_OK);
    usleep(600000); /* 1.2 s after the claim, 0.6 s after the heartbeat */
    ck_assert_int_eq(tr_store_job_claim(b, NULL, 1.0, &jb, &got, &e), TR_OK);
    ck_assert_int_eq(got, 0);
    /* A stalls past its lease: B claims the job, a new generation */
    usleep(1100000);
    ck_assert_int_eq(tr_store_job_claim(b, NULL, 30.0, &jb, &got, &e), TR_OK);
    ck_assert_int_eq(got, 1);
    ck_assert_int_eq(jb.id, id);
    ck_assert_int_eq(jb.attempts, 2);
    ck_assert_int_eq(jb.lease, 2);
    ck_assert_msg(strstr(jb.last_error, "lapsed"), "%s", jb.last_error);
    /* everything of A's is refused: heartbeat, completion, failure, and its registry commit */
    ck_assert_int_eq(tr_store_job_heartbeat(a, &fa, 1.0, &e), TR_ERR_CONFLICT);
    ck_assert_int_eq(tr_store_job_complete(a, &fa, "late", &e), TR_ERR_CONFLICT);
    ck_assert_int_eq(tr_store_job_fail(a, &fa, "late", 30, NULL, &e), TR_ERR_CONFLICT);
    ck_assert_int_eq(commit_done(a, &fa, &e), TR_ERR_CONFLICT);
    ck_assert_msg(strstr(e.msg, "lost its job lease"), "%s", e.msg);
    ck_assert_int_eq(n_log(&f, NULL, -1), 0);
    /* the same through the handle's fence, as a worker's cycle commits */
    tr_store_job_fence(a, &fa);
    tr_log_row row;
    tr_log_row_begin(&row, "rank", T("2024-04-01"), T("2024-04-01"), TR_LOG_SKIPPED, NULL, NULL);
    ck_assert_int_eq(tr_cycle_log(a, &row, &e), TR_ERR_CONFLICT);
    tr_store_job_fence(a, NULL);
    ck_assert_int_eq(n_log(&f, NULL, -1), 0);
    ck_assert_int_eq(tr_store_job_get(a, id, &ja, &e), TR_OK);
    ck_assert_int_eq(ja.state, TR_JOB_RUNNING);
    ck_assert_int_eq(ja.lease, 2);
    /* B's commits land; one that logs another slot leaves the job running, the one that logs
     * the job's slot marks it done in the same transaction */
    tr_job_fence fb = {jb.id, jb.lease};
    tr_store_job_fence(b, &fb);
    tr_log_row_begin(&row, "rank", T("2024-03-01"), T("2024-03-01"), TR_LOG_SKIPPED, NULL, NULL);
    ck_assert_int_eq(tr_cycle_log(b, &row, &e), TR_OK);
    tr_store_job_fence(b, NULL);
    ck_assert_int_eq(tr_store_job_get(a, id, &ja, &e), TR_OK);
    ck_assert_int_eq(ja.state, TR_JOB_RUNNING);
    ck_assert_int_eq(n_log(&f, "rank", TR_LOG_SKIPPED), 1);
    ck_assert_int_eq(commit_done(b, &fb, &e), TR_OK);
    ck_assert_int_eq(n_log(&f, "rank", TR_LOG_SKIPPED), 2);
    ck_assert_int_eq(tr_store_job_get(a, id, &ja, &e), TR_OK);
    ck_assert_int_eq(ja.state, TR_JOB_DONE);
    ck_assert_msg(strstr(ja.result, "skipped: fence test"), "%s", ja.result);
    ck_assert_int_ne(ja.finished_at, 0);
    /* B's completion adds its outcome; the done job is never claimed again */
    ck_assert_int_eq(tr_store_job_complete(b, &fb, "skipped: the outcome", &e), TR_OK);
    ck_assert_int_eq(tr_store_job_claim(a, NULL, 1.0, &ja, &got, &e), TR_OK);
    ck_assert_int_eq(got, 0);
    ck_assert_int_eq(tr_store_job_get(a, id, &ja, &e), TR_OK);
    ck_assert_str_eq(ja.result, "skipped: the outcome");
    ck_assert_int_eq(ja.state, TR_JOB_DONE);
    /* a family's jobs run one at a time; another family's run beside them */
    int64_t id3, id4, id5;
    ck_assert_int_eq(
        tr_store_job_enqueue(a, NULL, "incremental", T("2024-04-02T02:00"), 3, &ins, &id3, &e),
        TR_OK);
    ck_assert_int_eq(
        tr_store_job_enqueue(a, NULL, "drift", T("2024-04-02T03:00"), 3, &ins, &id4, &e), TR_OK);
    ck_assert_int_eq(
        tr_store_job_enqueue(a, "hourly", "drift", T("2024-04-02T03:00"), 3, &ins, &id5, &e),
        TR_OK);
    ck_assert_int_eq(tr_store_job_claim(a, NULL, 30.0, &ja, &got, &e), TR_OK);
    ck_assert_int_eq(ja.id, id3); /* slot order */
    ck_assert_int_eq(tr_store_job_claim(b, NULL, 30.0, &jb, &got, &e), TR_OK);
    ck_assert_int_eq(got, 1);
    ck_assert_int_eq(jb.id, id5); /* not id4: its family is busy */
    ck_assert_int_eq(tr_store_job_claim(b, "default", 30.0, &jb, &got, &e), TR_OK);
    ck_assert_int_eq(got, 0);
    fa = (tr_job_fence){ja.id, ja.lease};
    ck_assert_int_eq(tr_store_job_complete(a, &fa, "done", &e), TR_OK);
    ck_assert_int_eq(tr_store_job_claim(b, "default", 30.0, &jb, &got, &e), TR_OK);
    ck_assert_int_eq(jb.id, id4);
    /* a commit for a job that is not there is refused too */
    tr_job_fence nobody = {id + 100, 1};
    ck_assert_int_eq(commit_done(a, &nobody, &e), TR_ERR_CONFLICT);
    tr_store_close(a);
    tr_store_close(b);
    fx_close(&f);
}
END_TEST

/* ---- retries, dead, jobs retry -----------------------------------------------------------------
 */

START_TEST(test_retry_to_dead)
{
    fixture f;
    if (!fx_open(&f, _i))
        return;
    tr_store *s = open_ok(f.loc);
    tr_error e;
    int ins, got;
    int64_t id, id3;
    ck_assert_int_eq(tr_store_job_enqueue(s, NULL, "full", T("2024-03-31T01:00"), 2, &ins, &id, &e),
                     TR_OK);
    tr_job j;
    ck_assert_int_eq(tr_store_job_claim(s, NULL, 30, &j, &got, &e), TR_OK);
    ck_assert_int_eq(got, 1);
    tr_job_fence fence = {j.id, j.lease};
    tr_job_state st;
    ck_assert_int_eq(tr_store_job_fail(s, &fence, "no bars in the window", 30, &st, &e), TR_OK);
    ck_assert_int_eq(st, TR_JOB_FAILED);
    /* the first retry waits 30 s * 2^1 on the store's clock */
    ck_assert_int_eq(tr_store_job_get(s, id, &j, &e), TR_OK);
    ck_assert_int_eq(j.state, TR_JOB_FAILED);
    ck_assert_msg(j.run_after - tr_wall_now() >= 59 && j.run_after - tr_wall_now() <= 61,
                  "retry in %lld s", (long long)(j.run_after - tr_wall_now()));
    ck_assert_int_eq(tr_store_job_claim(s, NULL, 30, &j, &got, &e), TR_OK);
    ck_assert_int_eq(got, 0);
    ck_assert_int_eq(tr_store_job_fail(s, &fence, "again", 30, &st, &e), TR_ERR_CONFLICT);
    /* with a short backoff: claimed again once it ends, then dead at max_attempts */
    ck_assert_int_eq(
        tr_store_job_enqueue(s, NULL, "incremental", T("2024-04-01T02:00"), 2, &ins, &id3, &e),
        TR_OK);
    ck_assert_int_eq(tr_store_job_claim(s, NULL, 30, &j, &got, &e), TR_OK);
    ck_assert_int_eq(got, 1);
    ck_assert_int_eq(j.id, id3);
    fence = (tr_job_fence){j.id, j.lease};
    ck_assert_int_eq(tr_store_job_fail(s, &fence, "no bars in the window", 0.1, &st, &e), TR_OK);
    ck_assert_int_eq(st, TR_JOB_FAILED);
    ck_assert_int_eq(tr_store_job_claim(s, NULL, 30, &j, &got, &e), TR_OK);
    ck_assert_int_eq(got, 0); /* 0.2 s to wait */
    usleep(400000);
    ck_assert_int_eq(tr_store_job_claim(s, NULL, 30, &j, &got, &e), TR_OK);
    ck_assert_int_eq(got, 1);
    ck_assert_int_eq(j.id, id3);
    ck_assert_int_eq(j.attempts, 2);
    ck_assert_str_eq(j.last_error, "no bars in the window");
    fence = (tr_job_fence){j.id, j.lease};
    ck_assert_int_eq(tr_store_job_fail(s, &fence, "still no bars", 0.1, &st, &e), TR_OK);
    ck_assert_int_eq(st, TR_JOB_DEAD);
    ck_assert_int_eq(tr_store_job_get(s, id3, &j, &e), TR_OK);
    ck_assert_int_eq(j.state, TR_JOB_DEAD);
    ck_assert_str_eq(j.last_error, "still no bars");
    ck_assert_int_ne(j.finished_at, 0);
    usleep(500000);
    ck_assert_int_eq(tr_store_job_claim(s, NULL, 30, &j, &got, &e), TR_OK);
    ck_assert_int_eq(got, 0); /* dead stays dead */
    /* a lapsed lease with no attempt left is dead too (nothing claimed) */
    int64_t id2;
    ck_assert_int_eq(tr_store_job_enqueue(s, NULL, "rank", T("2024-04-01"), 1, &ins, &id2, &e),
                     TR_OK);
    ck_assert_int_eq(tr_store_job_claim(s, NULL, 0.2, &j, &got, &e), TR_OK);
    ck_assert_int_eq(got, 1);
    usleep(400000);
    ck_assert_int_eq(tr_store_job_claim(s, NULL, 30, &j, &got, &e), TR_OK);
    ck_assert_int_eq(got, 0);
    ck_assert_int_eq(tr_store_job_get(s, id2, &j, &e), TR_OK);
    ck_assert_int_eq(j.state, TR_JOB_DEAD);
    ck_assert_msg(strstr(j.last_error, "lapsed"), "%s", j.last_error);
    /* a holder that lets go (its handle closed, as when its process dies): on a directory the
     * job is claimed again at once, its flock gone; on PostgreSQL when its lease lapses */
    int64_t id4;
    ck_assert_int_eq(
        tr_store_job_enqueue(s, "other", "drift", T("2024-04-01T03:00"), 3, &ins, &id4, &e), TR_OK);
    tr_store *x = open_ok(f.loc);
    ck_assert_int_eq(tr_store_job_claim(x, "other", 30, &j, &got, &e), TR_OK);
    ck_assert_int_eq(got, 1);
    tr_store_close(x);
    ck_assert_int_eq(tr_store_job_claim(s, "other", 30, &j, &got, &e), TR_OK);
    if (f.backend == BK_DIR) {
        ck_assert_int_eq(got, 1);
        ck_assert_int_eq(j.id, id4);
        ck_assert_int_eq(j.attempts, 2);
        ck_assert_int_eq(j.lease, 2);
        ck_assert_msg(strstr(j.last_error, "ended without an outcome"), "%s", j.last_error);
        fence = (tr_job_fence){j.id, j.lease};
        ck_assert_int_eq(tr_store_job_complete(s, &fence, "done", &e), TR_OK);
    } else {
        ck_assert_int_eq(got, 0);
    }
    tr_store_close(s);

    /* the command line: list, show, retry */
    ck_assert_int_eq(run(f.dir, "jobs list --store '%s'", f.loc), 0);
    ck_assert(tu_output_has(f.dir, "still no bars"));
    ck_assert(tu_output_has(f.dir, "dead"));
    ck_assert_int_eq(run(f.dir, "jobs show %lld --json --store '%s'", (long long)id3, f.loc), 0);
    ck_assert(tu_output_has(f.dir, "\"state\":\"dead\""));
    ck_assert(tu_output_has(f.dir, "\"attempts\":2"));
    ck_assert_int_eq(run(f.dir, "jobs retry %lld --store '%s'", (long long)id3, f.loc), 0);
    j = job_of(&f, "incremental");
    ck_assert_int_eq(j.state, TR_JOB_QUEUED);
    ck_assert_int_eq(j.attempts, 0);
    ck_assert_int_eq(j.finished_at, 0);
    ck_assert_int_le(j.run_after, tr_wall_now() + 1); /* PostgreSQL rounds to the second */
    ck_assert_int_eq(run(f.dir, "jobs retry %lld --store '%s'", (long long)id3, f.loc), 4);
    ck_assert(tu_output_has(f.dir, "only a dead or failed job"));
    ck_assert_int_eq(run(f.dir, "jobs retry %lld --store '%s'", (long long)id, f.loc), 0);
    ck_assert_int_eq(run(f.dir, "jobs show 999 --store '%s'", f.loc), 6);
    ck_assert_int_eq(run(f.dir, "jobs frob --store '%s'", f.loc), 2);
    ck_assert_int_eq(run(f.dir, "jobs show --store '%s'", f.loc), 2);
    ck_assert_int_eq(run(f.dir, "enqueue-due --store '%s/nostore'", f.dir), 6);
    fx_close(&f);
}
END_TEST

/* ---- two workers drain a queue ------------------------------------------------------------------
 */

START_TEST(test_two_workers_drain)
{
    fixture f;
    if (!fx_open(&f, _i))
        return;
    tr_store *s = open_ok(f.loc);
    load_bars(s, "2024-01-01", "2024-04-10");
    tr_store_close(s);
    /* the slots of four days: the retrain of Sunday March 31st, the ranking of April 1st, and
     * each day's fine-tune and drift check up to April 4th (several enqueue-due calls, as cron
     * would make them; each call adds what is due then) */
    static const char *const days[4] = {"2024-04-01T12:00", "2024-04-02T12:00", "2024-04-03T12:00",
                                        "2024-04-04T12:00"};
    for (int d = 0; d < 4; d++)
        ck_assert_int_eq(run(f.dir, "enqueue-due --as-of %s --store '%s'", days[d], f.loc), 0);
    long long n_all = n_jobs(&f, -1, -1);
    ck_assert_int_ge(n_all, 8);
    child a, b;
    worker_start(&a, &f, "20");
    worker_start(&b, &f, "20");
    int drained;
    WAIT_FOR(drained, n_jobs(&f, TR_JOB_DONE, -1) == n_all, 80, &a, &b)
    {
    }
    int ca = child_stop(&a, SIGTERM), cb = child_stop(&b, SIGTERM);
    char dump[4096] = "";
    tr_job *l;
    size_t n = jobs_of(&f, &l);
    for (size_t i = 0; i < n; i++) {
        size_t used = strlen(dump);
        snprintf(dump + used, sizeof dump - used, "%lld %s %lld %s %d %.40s %.60s\n",
                 (long long)l[i].id, l[i].cycle, (long long)l[i].slot_time,
                 tr_job_state_name(l[i].state), l[i].attempts, l[i].result, l[i].last_error);
    }
    ck_assert_msg(drained, "not drained:\n%s\nA:\n%s\nB:\n%s", dump, a.buf, b.buf);
    ck_assert_msg(ca == 0 && cb == 0, "SIGTERM: exits %d and %d", ca, cb);
    fprintf(stderr, "two workers drained %lld jobs (%s store):\n%s\n", n_all,
            f.backend == BK_PG ? "PostgreSQL" : "directory", dump);
    /* each job done once, in one attempt: one covering log row at its slot, or (a job retried
     * after a later slot of its cycle ran, as run-due catches up) none, done as not due, with a
     * later covering row; no slot covered twice */
    tr_registry reg;
    reg_of(&f, &reg);
    for (size_t i = 0; i < n; i++) {
        int covering = 0, later = 0;
        for (size_t k = 0; k < reg.n_log; k++) {
            const tr_log_row *r = &reg.log[k];
            if (strcmp(r->cycle, l[i].cycle) != 0 ||
                (r->status != TR_LOG_COMPLETED && r->status != TR_LOG_SKIPPED))
                continue;
            covering += r->as_of == l[i].slot_time;
            later += r->as_of > l[i].slot_time;
        }
        int not_due = strncmp(l[i].result, "not due:", 8) == 0;
        ck_assert_msg(covering == (not_due ? 0 : 1), "job %lld: %d covering rows\n%s",
                      (long long)l[i].id, covering, dump);
        ck_assert(!not_due || later > 0);
        ck_assert_int_eq(l[i].attempts, 1);
    }
    for (size_t k = 0; k < reg.n_log; k++)
        for (size_t m = 0; m < k; m++)
            ck_assert(reg.log[k].status == TR_LOG_FAILED || reg.log[m].status == TR_LOG_FAILED ||
                      strcmp(reg.log[k].cycle, reg.log[m].cycle) != 0 ||
                      reg.log[k].as_of != reg.log[m].as_of);
    tr_registry_free(&reg);
    free(l);
    ck_assert_int_eq(n_versions(&f, TR_VT_FULL), 1);
    ck_assert_int_eq(n_versions(&f, -1), n_log(&f, "full", TR_LOG_COMPLETED) +
                                             n_log(&f, "incremental", TR_LOG_COMPLETED));
    fx_close(&f);
}
END_TEST

/* ---- --concurrency and --once ------------------------------------------------------------------
 */

START_TEST(test_concurrency_once)
{
    fixture f;
    if (!fx_open(&f, _i))
        return;
    tr_store *s = open_ok(f.loc);
    load_bars(s, "2024-01-01", "2024-04-10");
    tr_store_close(s);
    ck_assert_int_eq(run(f.dir, "enqueue-due --as-of 2024-04-01T12:00 --json --store '%s'", f.loc),
                     0);
    ck_assert(tu_output_has(f.dir, "\"enqueued\":4"));
    /* two processes; a family's jobs run one at a time, so one of them finds nothing runnable
     * and ends at once (--once), the other runs the four in slot order */
    ck_assert_int_eq(run(f.dir,
                         "worker --concurrency 2 --once --json --months 2 --hidden 8 --epochs 2 "
                         "--patience 1 --decision argmax --store '%s'",
                         f.loc),
                     0);
    ck_assert(tu_output_has(f.dir, "\"end\":\"done\""));
    ck_assert_int_eq(n_jobs(&f, TR_JOB_DONE, 1), 4);
    tr_job *l;
    size_t n = jobs_of(&f, &l);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(l[i].leased_until, 0);
    free(l);
    ck_assert_int_eq(run(f.dir, "worker --once --store '%s'", f.loc), 0); /* nothing left */
    fx_close(&f);
}
END_TEST

/* ---- a crash between the registry's write and the job's end -------------------------------------
 */

/* The directory store writes the registry and jobs.aifx one after the other: a worker killed in
 * between leaves the slot logged and the job running. Here the slot is logged without the job's
 * fence (as if the job file's write never happened) and the holder goes: the next worker finds
 * the log covering the slot and ends the job "not due", running nothing again. On PostgreSQL the
 * same covers a slot run by hand while its job waited. */
START_TEST(test_logged_slot_ends_job)
{
    fixture f;
    if (!fx_open(&f, _i))
        return;
    tr_store *s = open_ok(f.loc);
    load_bars(s, "2024-01-01", "2024-04-10");
    tr_error e;
    int ins, got;
    int64_t id;
    ck_assert_int_eq(tr_store_job_enqueue(s, NULL, "rank", T("2024-04-01"), 3, &ins, &id, &e),
                     TR_OK);
    tr_job j;
    ck_assert_int_eq(tr_store_job_claim(s, NULL, 0.5, &j, &got, &e), TR_OK);
    ck_assert_int_eq(got, 1);
    tr_log_row row;
    tr_log_row_begin(&row, "rank", T("2024-04-01"), T("2024-04-01"), TR_LOG_SKIPPED, NULL, NULL);
    snprintf(row.reason, sizeof row.reason, "logged before the crash");
    ck_assert_int_eq(tr_cycle_log(s, &row, &e), TR_OK); /* no fence: the job stays running */
    tr_store_close(s);
    ck_assert_int_eq(job_of(&f, "rank").state, TR_JOB_RUNNING);
    usleep(600000); /* PostgreSQL: the lease lapses (a directory: the holder's lock is gone) */
    ck_assert_int_eq(run(f.dir, "worker --once --store '%s'", f.loc), 0);
    j = job_of(&f, "rank");
    ck_assert_int_eq(j.state, TR_JOB_DONE);
    ck_assert_int_eq(j.attempts, 2);
    ck_assert_msg(strstr(j.result, "not due: the log covers the slot"), "%s", j.result);
    ck_assert_int_eq(n_log(&f, "rank", -1), 1); /* not run again */
    fx_close(&f);
}
END_TEST

/* ---- run-due --enqueue ------------------------------------------------------------------------
 */

START_TEST(test_run_due_enqueue)
{
    fixture f;
    if (!fx_open(&f, _i))
        return;
    tr_store *s = open_ok(f.loc);
    load_bars(s, "2024-01-01", "2024-04-10");
    tr_store_close(s);
    ck_assert_int_eq(run(f.dir, "run-due --max-attempts 2 --store '%s'", f.loc), 2);
    ck_assert(tu_output_has(f.dir, "--max-attempts goes with --enqueue"));
    ck_assert_int_eq(run(f.dir, "run-due --enqueue --family x --store '%s'", f.loc), 6);
    /* the due slots are queued, not run; the monitor runs here */
    ck_assert_int_eq(
        run(f.dir, "run-due --enqueue --as-of 2024-04-01T12:00 --json --store '%s'", f.loc), 0);
    ck_assert(tu_output_has(f.dir, "\"enqueued\":4"));
    ck_assert(tu_output_has(f.dir, "\"cycle\":\"monitor\""));
    ck_assert(!tu_output_has(f.dir, "\"outcome\":\"disabled\""));
    ck_assert_int_eq(n_jobs(&f, TR_JOB_QUEUED, 0), 4);
    ck_assert_int_eq(n_log(&f, NULL, -1), 0);
    ck_assert_int_eq(n_versions(&f, -1), 0);
    /* a second scheduler (another host's, aifx-serve --schedule --enqueue) adds nothing */
    ck_assert_int_eq(run(f.dir, "run-due --enqueue --as-of 2024-04-01T12:00 --store '%s'", f.loc),
                     0);
    ck_assert(tu_output_has(f.dir, "queued_already (job "));
    ck_assert_int_eq(n_jobs(&f, -1, -1), 4);
    /* a worker runs them; run-due then finds every slot covered */
    ck_assert_int_eq(run(f.dir,
                         "worker --once --quiet --months 2 --hidden 8 --epochs 2 --patience 1 "
                         "--decision argmax --store '%s'",
                         f.loc),
                     0);
    ck_assert_int_eq(n_jobs(&f, TR_JOB_DONE, 1), 4);
    ck_assert_int_eq(n_versions(&f, TR_VT_FULL), 1);
    long long rows = n_log(&f, NULL, -1);
    ck_assert_int_eq(run(f.dir, "run-due --as-of 2024-04-01T12:00 --json --store '%s'", f.loc), 0);
    ck_assert(tu_output_has(f.dir, "\"cycle\":\"full\",\"scheduled\":\"2024-03-31T01:00:00Z\","
                                   "\"outcome\":\"not_due\""));
    ck_assert_int_eq(n_log(&f, NULL, -1), rows);
    ck_assert_int_eq(n_versions(&f, -1), 1);
    fx_close(&f);
}
END_TEST

/* ---- SIGTERM in the middle of a job: finished, then exit 0 -------------------------------------
 */

START_TEST(test_sigterm_finishes_job)
{
    fixture f;
    if (!fx_open(&f, _i))
        return;
    tr_store *s = open_ok(f.loc);
    load_bars(s, "2024-01-01", "2024-04-10");
    tr_error e;
    int ins;
    int64_t id;
    ck_assert_int_eq(tr_store_job_enqueue(s, NULL, "full", T("2024-03-31T01:00"), 3, &ins, &id, &e),
                     TR_OK);
    ck_assert_int_eq(tr_store_job_enqueue(s, NULL, "rank", T("2024-04-01T00:00"), 3, &ins, &id, &e),
                     TR_OK);
    tr_store_close(s);
    child a;
    worker_start(&a, &f, "20");
    ck_assert_msg(child_read(&a, "full: training", 60), "worker: %s", a.buf);
    ck_assert_int_eq(child_stop(&a, SIGTERM), 0);
    ck_assert_msg(strstr(a.buf, "attempt 1: done"), "worker: %s", a.buf);
    /* the retrain finished and was recorded; the next job was left for another worker */
    ck_assert_int_eq(job_of(&f, "full").state, TR_JOB_DONE);
    ck_assert_int_eq(job_of(&f, "rank").state, TR_JOB_QUEUED);
    ck_assert_int_eq(n_versions(&f, -1), 1);
    fx_close(&f);
}
END_TEST

/* ---- kill -9 in the middle of a job
 * -------------------------------------------------------------- */

START_TEST(test_kill9_mid_job)
{
    fixture f;
    if (!fx_open(&f, _i))
        return;
    tr_store *s = open_ok(f.loc);
    load_bars(s, "2024-01-01", "2024-04-10");
    tr_error e;
    int ins;
    int64_t id;
    ck_assert_int_eq(tr_store_job_enqueue(s, NULL, "full", T("2024-03-31T01:00"), 3, &ins, &id, &e),
                     TR_OK);
    tr_store_close(s);
    child a, b;
    worker_start(&a, &f, "2");
    ck_assert_msg(child_read(&a, "full: training", 60), "worker A: %s", a.buf);
    ck_assert_int_eq(child_stop(&a, SIGKILL), -1);
    /* the dead worker's lease of 2 s still runs: on a directory its flock is gone, so B takes
     * the job at once ("ended without an outcome"); on PostgreSQL when the lease lapses */
    ck_assert_int_eq(n_jobs(&f, TR_JOB_RUNNING, -1), 1);
    worker_start(&b, &f, "20");
    int done;
    WAIT_FOR(done, n_jobs(&f, TR_JOB_DONE, -1) == 1, 60, &b, NULL)
    {
    }
    ck_assert_int_eq(child_stop(&b, SIGTERM), 0);
    ck_assert_msg(done, "B: %s", b.buf);
    tr_job j = job_of(&f, "full");
    ck_assert_int_eq(j.attempts, 2);
    ck_assert_int_eq(j.lease, 2);
    /* on a directory the dead worker's flock is gone: B took the job at once, not after A's
     * lease of 2 s */
    if (f.backend == BK_DIR)
        ck_assert_msg(strstr(j.last_error, "ended without an outcome"), "%s", j.last_error);
    ck_assert_int_eq(n_versions(&f, -1), 1);
    ck_assert_int_eq(n_log(&f, "full", -1), 1);
    fx_close(&f);
}
END_TEST

/* ---- a worker stalled past its lease (SIGSTOP), then let go (SIGCONT) --------------------------
 */

START_TEST(test_stalled_worker_refused)
{
    fixture f;
    if (!fx_open(&f, _i))
        return;
    tr_store *s = open_ok(f.loc);
    load_bars(s, "2024-01-01", "2024-04-10");
    tr_error e;
    int ins;
    int64_t id;
    ck_assert_int_eq(tr_store_job_enqueue(s, NULL, "full", T("2024-03-31T01:00"), 5, &ins, &id, &e),
                     TR_OK);
    tr_store_close(s);
    child a, b;
    worker_start(&a, &f, "2");
    ck_assert_msg(child_read(&a, "full: training", 60), "worker A: %s", a.buf);
    ck_assert_int_eq(kill(a.pid, SIGSTOP), 0);
    /* B takes the job when A's lease lapses; A's session still holds the full cycle's lock, so
     * B's attempt fails and waits for a retry */
    worker_start(&b, &f, "20");
    int ok;
    WAIT_FOR(ok, job_of(&f, "full").lease >= 2, 30, &b, NULL)
    {
    }
    ck_assert(ok);
    WAIT_FOR(ok, job_of(&f, "full").state != TR_JOB_RUNNING || job_of(&f, "full").lease >= 3, 30,
             &b, NULL)
    {
    }
    ck_assert(ok);
    /* A goes on: its registry commit is refused by the fence, nothing of it lands */
    ck_assert_int_eq(kill(a.pid, SIGCONT), 0);
    ck_assert_msg(child_read(&a, "lost its job lease", 60), "worker A: %s", a.buf);
    int done;
    WAIT_FOR(done, n_jobs(&f, TR_JOB_DONE, -1) == 1, 60, &b, NULL)
    {
    }
    int ca = child_stop(&a, SIGTERM), cb = child_stop(&b, SIGTERM);
    ck_assert_msg(done, "A:\n%s\nB:\n%s", a.buf, b.buf);
    ck_assert_int_eq(ca, 0);
    ck_assert_int_eq(cb, 0);
    ck_assert_msg(strstr(a.buf, ": lost ("), "A: %s", a.buf);
    ck_assert_int_eq(n_versions(&f, -1), 1);
    ck_assert_int_eq(n_log(&f, "full", TR_LOG_COMPLETED), 1);
    ck_assert_int_eq(n_activations(&f), 1);
    fx_close(&f);
}
END_TEST

/* ---- the server restarts under an idle worker ---------------------------------------------------
 */

START_TEST(test_server_restart)
{
    fixture f;
    if (!fx_open(&f, BK_PG))
        return;
    if (!getenv("AIFX_TEST_PG_STOP") || !getenv("AIFX_TEST_PG_START")) {
        fprintf(stderr, "SKIP: restart case (AIFX_TEST_PG_STOP/START unset)\n");
        fx_close(&f);
        return;
    }
    child a;
    worker_start(&a, &f, "20");
    child_read(&a, NULL, 1.0); /* idle, listening */
    ck_assert_int_eq(pu_run_env("AIFX_TEST_PG_STOP"), 0);
    child_read(&a, NULL, 1.5);
    ck_assert_int_eq(pu_run_env("AIFX_TEST_PG_START"), 0);
    ck_assert_int_eq(waitpid(a.pid, NULL, WNOHANG), 0); /* it waited for the server */
    tr_store *s = open_ok(f.loc);
    tr_error e;
    int ins;
    int64_t id;
    ck_assert_int_eq(tr_store_job_enqueue(s, NULL, "rank", T("2024-04-01"), 3, &ins, &id, &e),
                     TR_OK);
    tr_store_close(s);
    int done;
    WAIT_FOR(done, n_jobs(&f, TR_JOB_DONE, -1) == 1, 30, &a, NULL)
    {
    }
    ck_assert_int_eq(child_stop(&a, SIGTERM), 0);
    ck_assert_msg(done, "worker: %s", a.buf);
    fx_close(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trainer_jobs");
    TCase *tc = tcase_create("jobs");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_enqueue_race, 0, BK_COUNT);
    tcase_add_loop_test(tc, test_lease_lapse_and_fence, 0, BK_COUNT);
    tcase_add_loop_test(tc, test_retry_to_dead, 0, BK_COUNT);
    tcase_add_loop_test(tc, test_two_workers_drain, 0, BK_COUNT);
    tcase_add_loop_test(tc, test_concurrency_once, 0, BK_COUNT);
    tcase_add_loop_test(tc, test_logged_slot_ends_job, 0, BK_COUNT);
    tcase_add_loop_test(tc, test_run_due_enqueue, 0, BK_COUNT);
    tcase_add_loop_test(tc, test_sigterm_finishes_job, 0, BK_COUNT);
    tcase_add_loop_test(tc, test_kill9_mid_job, 0, BK_COUNT);
    tcase_add_loop_test(tc, test_stalled_worker_refused, 0, BK_COUNT);
    tcase_add_test(tc, test_server_restart);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(suite)
