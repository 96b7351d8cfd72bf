/*
 * check_jobs.c - the PostgreSQL job queue (store.h, cycles/jobs.h; docs/operations.md, "A job
 * queue on PostgreSQL") on the private test server of scripts/lib/pg.sh ($AIFX_TEST_PG; every
 * case skips with a message without it), each case in a fresh database of its own:
 *   two enqueuers racing (two processes released at the same instant) enqueue each slot once;
 *   a claimed job whose lease lapses is claimed by another worker (a new fencing generation);
 *       the first worker's heartbeat, completion, failure and registry commit are refused, and
 *       nothing of its commit lands; the holder's commit marks the job done in its own
 *       transaction;
 *   a failing job is retried after 30 s * 2^attempts, then dead with its error; jobs retry
 *       queues it again; jobs list, show and retry on the command line; the directory store
 *       has no queue (exit 8);
 *   SIGTERM in the middle of a retrain: the job is finished and recorded, the next one left,
 *       exit 0;
 *   worker --concurrency 2 --once drains what enqueue-due queued and exits 0;
 *   two worker processes drain a queue of the slots of four days (tiny models), each slot run
 *       and logged exactly once, then stop on SIGTERM with exit 0;
 *   a worker killed with kill -9 in the middle of a retrain: another worker claims the job when
 *       its lease lapses and completes it; one version, one log row;
 *   a worker stopped (SIGSTOP) in the middle of a retrain past its lease, then continued: the
 *       other worker holds the job, the stalled worker's commit is refused ("lost its job
 *       lease"), one version, one completed row, one activation;
 *   the server stopped and started under an idle worker: it waits, then runs the next job.
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

typedef struct fixture {
    char *ci, *dir, *models;
    char cwd[4096];
} fixture;

static int fx_open(fixture *f)
{
    memset(f, 0, sizeof *f);
    if (!pu_server())
        return 0;
    f->ci = pu_create_db(1);
    f->dir = tu_tempdir();
    f->models = tu_path(f->dir, "models");
    setenv("AIFX_MODELS_DIR", f->models, 1);
    ck_assert_ptr_nonnull(getcwd(f->cwd, sizeof f->cwd));
    ck_assert_int_eq(chdir(f->dir), 0);
    return 1;
}

static void fx_close(fixture *f)
{
    ck_assert_int_eq(chdir(f->cwd), 0);
    unsetenv("AIFX_MODELS_DIR");
    pu_drop_db(f->ci);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f->models);
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

static long long value(const fixture *f, const char *sql)
{
    return pu_value(f->ci, sql);
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
        execl(AIFX_TRAIN_EXE, AIFX_TRAIN_EXE, "worker", "--store", f->ci, "--lease-seconds", lease,
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

/* Waits until sql's count reaches want (1) or seconds pass (0). */
static int wait_count(const fixture *f, const char *sql, long long want, double seconds, child *a,
                      child *b)
{
    double end = tu_now() + seconds;
    while (tu_now() < end) {
        if (value(f, sql) == want)
            return 1;
        if (a)
            child_read(a, NULL, 0.1);
        if (b)
            child_read(b, NULL, 0.1);
        if (!a && !b)
            usleep(100000);
    }
    return 0;
}

/* ---- two enqueuers ------------------------------------------------------------------------- */

START_TEST(test_enqueue_race)
{
    fixture f;
    if (!fx_open(&f))
        return;
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
            if (tr_store_open(f.ci, NULL, &s, &e))
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
    ck_assert_int_eq(value(&f, "SELECT count(*) FROM jobs"), 4);
    ck_assert_int_eq(value(&f, "SELECT count(DISTINCT (cycle, slot_time)) FROM jobs"), 4);
    ck_assert_int_eq(value(&f, "SELECT count(*) FROM jobs WHERE cycle = 'monitor'"), 0);
    ck_assert_int_eq(value(&f, "SELECT count(*) FROM jobs WHERE family = 'default' AND "
                               "state = 'queued' AND attempts = 0 AND max_attempts = 3"),
                     4);
    /* once more from the command line: nothing new, each slot named with its job */
    ck_assert_int_eq(run(f.dir, "enqueue-due --as-of 2024-04-04T12:00 --store '%s'", f.ci), 0);
    ck_assert(tu_output_has(f.dir, "queued_already (job "));
    ck_assert_int_eq(value(&f, "SELECT count(*) FROM jobs"), 4);
    /* the store call answers which job holds the slot */
    tr_store *s = open_ok(f.ci);
    tr_error e;
    int ins = -1;
    int64_t id = 0;
    ck_assert_int_eq(tr_store_job_enqueue(s, NULL, "full", T("2024-03-31T01:00"), 3, &ins, &id, &e),
                     TR_OK);
    ck_assert_int_eq(ins, 0);
    ck_assert_int_eq(id, value(&f, "SELECT id FROM jobs WHERE cycle = 'full'"));
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
    if (!fx_open(&f))
        return;
    tr_store *a = open_ok(f.ci), *b = open_ok(f.ci);
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
    ck_assert_int_eq(value(&f, "SELECT count(*) FROM model_training_log"), 0);
    /* the same through the handle's fence, as a worker's cycle commits */
    tr_store_job_fence(a, &fa);
    tr_log_row row;
    tr_log_row_begin(&row, "rank", T("2024-04-01"), T("2024-04-01"), TR_LOG_SKIPPED, NULL, NULL);
    ck_assert_int_eq(tr_cycle_log(a, &row, &e), TR_ERR_CONFLICT);
    tr_store_job_fence(a, NULL);
    ck_assert_int_eq(value(&f, "SELECT count(*) FROM model_training_log"), 0);
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
    ck_assert_int_eq(value(&f, "DELETE FROM model_training_log RETURNING 0"), 0);
    ck_assert_int_eq(commit_done(b, &fb, &e), TR_OK);
    ck_assert_int_eq(value(&f, "SELECT count(*) FROM model_training_log"), 1);
    ck_assert_int_eq(tr_store_job_get(a, id, &ja, &e), TR_OK);
    ck_assert_int_eq(ja.state, TR_JOB_DONE);
    ck_assert_msg(strstr(ja.result, "skipped: fence test"), "%s", ja.result);
    ck_assert_int_ne(ja.finished_at, 0);
    /* B's completion adds its outcome; the done job is never claimed again */
    ck_assert_int_eq(tr_store_job_complete(b, &fb, "skipped: the outcome", &e), TR_OK);
    ck_assert_int_eq(tr_store_job_claim(a, NULL, 1.0, &ja, &got, &e), TR_OK);
    ck_assert_int_eq(got, 0);
    ck_assert_int_eq(value(&f, "SELECT count(*) FROM jobs WHERE state = 'done' AND "
                               "result = 'skipped: the outcome'"),
                     1);
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
    if (!fx_open(&f))
        return;
    tr_store *s = open_ok(f.ci);
    tr_error e;
    int ins, got;
    int64_t id;
    ck_assert_int_eq(tr_store_job_enqueue(s, NULL, "full", T("2024-03-31T01:00"), 2, &ins, &id, &e),
                     TR_OK);
    tr_job j;
    ck_assert_int_eq(tr_store_job_claim(s, NULL, 30, &j, &got, &e), TR_OK);
    ck_assert_int_eq(got, 1);
    tr_job_fence fence = {j.id, j.lease};
    tr_job_state st;
    ck_assert_int_eq(tr_store_job_fail(s, &fence, "no bars in the window", 30, &st, &e), TR_OK);
    ck_assert_int_eq(st, TR_JOB_FAILED);
    /* the first retry waits 30 s * 2^1 on the server's clock */
    ck_assert_int_eq(value(&f, "SELECT round(extract(epoch FROM run_after - now()))::int8 "
                               "FROM jobs"),
                     60);
    ck_assert_int_eq(tr_store_job_claim(s, NULL, 30, &j, &got, &e), TR_OK);
    ck_assert_int_eq(got, 0);
    ck_assert_int_eq(tr_store_job_fail(s, &fence, "again", 30, &st, &e), TR_ERR_CONFLICT);
    ck_assert_int_eq(pu_psql(f.ci, "UPDATE jobs SET run_after = now()", NULL, 0), 0);
    ck_assert_int_eq(tr_store_job_claim(s, NULL, 30, &j, &got, &e), TR_OK);
    ck_assert_int_eq(got, 1);
    ck_assert_int_eq(j.attempts, 2);
    ck_assert_str_eq(j.last_error, "no bars in the window");
    fence = (tr_job_fence){j.id, j.lease};
    ck_assert_int_eq(tr_store_job_fail(s, &fence, "still no bars", 30, &st, &e), TR_OK);
    ck_assert_int_eq(st, TR_JOB_DEAD);
    ck_assert_int_eq(tr_store_job_get(s, id, &j, &e), TR_OK);
    ck_assert_int_eq(j.state, TR_JOB_DEAD);
    ck_assert_str_eq(j.last_error, "still no bars");
    ck_assert_int_ne(j.finished_at, 0);
    ck_assert_int_eq(pu_psql(f.ci, "UPDATE jobs SET run_after = now()", NULL, 0), 0);
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
    tr_store_close(s);

    /* the command line: list, show, retry */
    ck_assert_int_eq(run(f.dir, "jobs list --store '%s'", f.ci), 0);
    ck_assert(tu_output_has(f.dir, "still no bars"));
    ck_assert(tu_output_has(f.dir, "dead"));
    ck_assert_int_eq(run(f.dir, "jobs show %lld --json --store '%s'", (long long)id, f.ci), 0);
    ck_assert(tu_output_has(f.dir, "\"state\":\"dead\""));
    ck_assert(tu_output_has(f.dir, "\"attempts\":2"));
    ck_assert_int_eq(run(f.dir, "jobs retry %lld --store '%s'", (long long)id, f.ci), 0);
    ck_assert_int_eq(value(&f, "SELECT count(*) FROM jobs WHERE state = 'queued' AND "
                               "attempts = 0 AND finished_at IS NULL AND run_after <= now()"),
                     1);
    ck_assert_int_eq(run(f.dir, "jobs retry %lld --store '%s'", (long long)id, f.ci), 4);
    ck_assert(tu_output_has(f.dir, "only a dead or failed job"));
    ck_assert_int_eq(run(f.dir, "jobs show 999 --store '%s'", f.ci), 6);
    ck_assert_int_eq(run(f.dir, "jobs frob --store '%s'", f.ci), 2);
    ck_assert_int_eq(run(f.dir, "jobs show --store '%s'", f.ci), 2);
    /* the directory store has no queue */
    ck_assert_int_eq(run(f.dir, "enqueue-due --store '%s/dirstore'", f.dir), 6);
    ck_assert_int_eq(run(f.dir,
                         "synth --pair EURUSD --from 2024-01-01 --to 2024-01-03 --store "
                         "'%s/dirstore'",
                         f.dir),
                     0);
    ck_assert_int_eq(run(f.dir, "enqueue-due --store '%s/dirstore'", f.dir), 8);
    ck_assert(tu_output_has(f.dir, "needs a PostgreSQL store"));
    ck_assert_int_eq(run(f.dir, "worker --once --store '%s/dirstore'", f.dir), 8);
    fx_close(&f);
}
END_TEST

/* ---- two workers drain a queue ------------------------------------------------------------------
 */

START_TEST(test_two_workers_drain)
{
    fixture f;
    if (!fx_open(&f))
        return;
    tr_store *s = open_ok(f.ci);
    load_bars(s, "2024-01-01", "2024-04-10");
    tr_store_close(s);
    /* the slots of four days: the retrain of Sunday March 31st, the ranking of April 1st, and
     * each day's fine-tune and drift check up to April 4th (several enqueue-due calls, as cron
     * would make them; each call adds what is due then) */
    static const char *const days[4] = {"2024-04-01T12:00", "2024-04-02T12:00", "2024-04-03T12:00",
                                        "2024-04-04T12:00"};
    for (int d = 0; d < 4; d++)
        ck_assert_int_eq(run(f.dir, "enqueue-due --as-of %s --store '%s'", days[d], f.ci), 0);
    long long n_jobs = value(&f, "SELECT count(*) FROM jobs");
    ck_assert_int_ge(n_jobs, 8);
    child a, b;
    worker_start(&a, &f, "20");
    worker_start(&b, &f, "20");
    int drained =
        wait_count(&f, "SELECT count(*) FROM jobs WHERE state = 'done'", n_jobs, 80, &a, &b);
    int ca = child_stop(&a, SIGTERM), cb = child_stop(&b, SIGTERM);
    char dump[4096] = "";
    pu_psql(f.ci,
            "SELECT id, cycle, slot_time, state, attempts, left(result, 40), left(last_error, 60) "
            "FROM jobs ORDER BY id",
            dump, sizeof dump);
    ck_assert_msg(drained, "not drained:\n%s\nA:\n%s\nB:\n%s", dump, a.buf, b.buf);
    ck_assert_msg(ca == 0 && cb == 0, "SIGTERM: exits %d and %d", ca, cb);
    fprintf(stderr, "two workers drained %lld jobs:\n%s\n", n_jobs, dump);
    /* each job done once: one covering log row at its slot, or (a job retried after a later
     * slot of its cycle ran, as run-due catches up) none, done as not due; no row twice */
    ck_assert_int_eq(value(&f, "SELECT count(*) FROM jobs j WHERE (SELECT count(*) FROM "
                               "model_training_log l WHERE l.cycle = j.cycle AND "
                               "l.scheduled_for = j.slot_time AND l.status IN ('completed', "
                               "'skipped')) = CASE WHEN j.result LIKE 'not due:%' THEN 0 ELSE 1 "
                               "END"),
                     n_jobs);
    ck_assert_int_eq(value(&f, "SELECT count(*) FROM jobs j WHERE j.result LIKE 'not due:%' AND "
                               "NOT EXISTS (SELECT 1 FROM model_training_log l WHERE l.cycle = "
                               "j.cycle AND l.scheduled_for > j.slot_time AND l.status IN "
                               "('completed', 'skipped'))"),
                     0);
    ck_assert_int_eq(value(&f, "SELECT count(*) FROM (SELECT cycle, scheduled_for FROM "
                               "model_training_log WHERE status IN ('completed', 'skipped') "
                               "GROUP BY 1, 2 HAVING count(*) > 1) x"),
                     0);
    ck_assert_int_eq(value(&f, "SELECT count(*) FROM jobs WHERE attempts = 1"), n_jobs);
    ck_assert_int_eq(value(&f, "SELECT count(*) FROM model_versions WHERE type = 'full'"), 1);
    ck_assert_int_eq(value(&f, "SELECT count(*) FROM model_versions"),
                     value(&f, "SELECT count(*) FROM model_training_log WHERE status = "
                               "'completed' AND cycle IN ('full', 'incremental')"));
    fx_close(&f);
}
END_TEST

/* ---- --concurrency and --once ------------------------------------------------------------------
 */

START_TEST(test_concurrency_once)
{
    fixture f;
    if (!fx_open(&f))
        return;
    tr_store *s = open_ok(f.ci);
    load_bars(s, "2024-01-01", "2024-04-10");
    tr_store_close(s);
    ck_assert_int_eq(run(f.dir, "enqueue-due --as-of 2024-04-01T12:00 --json --store '%s'", f.ci),
                     0);
    ck_assert(tu_output_has(f.dir, "\"enqueued\":4"));
    /* two processes; a family's jobs run one at a time, so one of them finds nothing runnable
     * and ends at once (--once), the other runs the four in slot order */
    ck_assert_int_eq(run(f.dir,
                         "worker --concurrency 2 --once --json --months 2 --hidden 8 --epochs 2 "
                         "--patience 1 --decision argmax --store '%s'",
                         f.ci),
                     0);
    ck_assert(tu_output_has(f.dir, "\"end\":\"done\""));
    ck_assert_int_eq(value(&f, "SELECT count(*) FROM jobs WHERE state = 'done' AND attempts = 1"),
                     4);
    ck_assert_int_eq(value(&f, "SELECT count(*) FROM jobs WHERE leased_until IS NOT NULL"), 0);
    ck_assert_int_eq(run(f.dir, "worker --once --store '%s'", f.ci), 0); /* nothing left */
    fx_close(&f);
}
END_TEST

/* ---- SIGTERM in the middle of a job: finished, then exit 0 -------------------------------------
 */

START_TEST(test_sigterm_finishes_job)
{
    fixture f;
    if (!fx_open(&f))
        return;
    tr_store *s = open_ok(f.ci);
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
    ck_assert_int_eq(value(&f, "SELECT count(*) FROM jobs WHERE cycle = 'full' AND state = "
                               "'done'"),
                     1);
    ck_assert_int_eq(value(&f, "SELECT count(*) FROM jobs WHERE cycle = 'rank' AND state = "
                               "'queued'"),
                     1);
    ck_assert_int_eq(value(&f, "SELECT count(*) FROM model_versions"), 1);
    fx_close(&f);
}
END_TEST

/* ---- kill -9 in the middle of a job
 * -------------------------------------------------------------- */

START_TEST(test_kill9_mid_job)
{
    fixture f;
    if (!fx_open(&f))
        return;
    tr_store *s = open_ok(f.ci);
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
    ck_assert_int_eq(value(&f, "SELECT count(*) FROM jobs WHERE state = 'running'"), 1);
    worker_start(&b, &f, "20");
    int done = wait_count(&f, "SELECT count(*) FROM jobs WHERE state = 'done'", 1, 60, &b, NULL);
    ck_assert_int_eq(child_stop(&b, SIGTERM), 0);
    ck_assert_msg(done, "B: %s", b.buf);
    ck_assert_int_eq(value(&f, "SELECT attempts FROM jobs"), 2);
    ck_assert_int_eq(value(&f, "SELECT lease FROM jobs"), 2);
    ck_assert_int_eq(value(&f, "SELECT count(*) FROM model_versions"), 1);
    ck_assert_int_eq(value(&f, "SELECT count(*) FROM model_training_log WHERE cycle = 'full'"), 1);
    fx_close(&f);
}
END_TEST

/* ---- a worker stalled past its lease (SIGSTOP), then let go (SIGCONT) --------------------------
 */

START_TEST(test_stalled_worker_refused)
{
    fixture f;
    if (!fx_open(&f))
        return;
    tr_store *s = open_ok(f.ci);
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
    ck_assert(wait_count(&f, "SELECT count(*) FROM jobs WHERE lease >= 2", 1, 30, &b, NULL));
    ck_assert(wait_count(&f, "SELECT count(*) FROM jobs WHERE state <> 'running' OR lease >= 3", 1,
                         30, &b, NULL));
    /* A goes on: its registry commit is refused by the fence, nothing of it lands */
    ck_assert_int_eq(kill(a.pid, SIGCONT), 0);
    ck_assert_msg(child_read(&a, "lost its job lease", 60), "worker A: %s", a.buf);
    int done = wait_count(&f, "SELECT count(*) FROM jobs WHERE state = 'done'", 1, 60, &b, NULL);
    int ca = child_stop(&a, SIGTERM), cb = child_stop(&b, SIGTERM);
    ck_assert_msg(done, "A:\n%s\nB:\n%s", a.buf, b.buf);
    ck_assert_int_eq(ca, 0);
    ck_assert_int_eq(cb, 0);
    ck_assert_msg(strstr(a.buf, ": lost ("), "A: %s", a.buf);
    ck_assert_int_eq(value(&f, "SELECT count(*) FROM model_versions"), 1);
    ck_assert_int_eq(value(&f, "SELECT count(*) FROM model_training_log WHERE cycle = 'full' AND "
                               "status = 'completed'"),
                     1);
    ck_assert_int_eq(value(&f, "SELECT count(*) FROM model_activations"), 1);
    fx_close(&f);
}
END_TEST

/* ---- the server restarts under an idle worker ---------------------------------------------------
 */

START_TEST(test_server_restart)
{
    fixture f;
    if (!fx_open(&f))
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
    tr_store *s = open_ok(f.ci);
    tr_error e;
    int ins;
    int64_t id;
    ck_assert_int_eq(tr_store_job_enqueue(s, NULL, "rank", T("2024-04-01"), 3, &ins, &id, &e),
                     TR_OK);
    tr_store_close(s);
    int done = wait_count(&f, "SELECT count(*) FROM jobs WHERE state = 'done'", 1, 30, &a, NULL);
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
    tcase_add_test(tc, test_enqueue_race);
    tcase_add_test(tc, test_lease_lapse_and_fence);
    tcase_add_test(tc, test_retry_to_dead);
    tcase_add_test(tc, test_two_workers_drain);
    tcase_add_test(tc, test_concurrency_once);
    tcase_add_test(tc, test_sigterm_finishes_job);
    tcase_add_test(tc, test_kill9_mid_job);
    tcase_add_test(tc, test_stalled_worker_refused);
    tcase_add_test(tc, test_server_restart);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(suite)
