/*
 * jobs_dir.c - the job queue of the directory store (jobs_dir.h).
 *
 * <store>/jobs.aifx, text:
 *   "AIFXJOBS 1 0 <body bytes> <crc32 of the body, 8 hex>\n", then the body:
 *   queue  \t next_id=<n>
 *   job    \t id=<n> \t family=<f> \t cycle=<c> \t slot=<t> \t
 * state=queued|running|done|failed|dead \t attempts=<n> \t max_attempts=<n> \t run_after_ms=<t> \t
 * lease=<generation> \t leased_until_ms=<t> \t leased_by=<host:pid> \t created=<t> \t finished=<t>
 *          \t error=<text> \t result=<text>
 * (one line each, fields separated by tabs; times in seconds since the epoch, the two that
 * decide claims in milliseconds; text escapes control characters, '%' and '=' as %XX). Unknown
 * keys are ignored, so a newer minor version reads.
 *
 * Every change is a read-modify-write of the whole file under the store lock (<store>/lock,
 * flock, the lock of every writer of the store) and an atomic replace (temporary file, fsync,
 * rename); readers take no lock. A running job's holder is alive while it holds flock on
 * <store>/jobs/<id>.<generation>.lock, taken by the claim before the claim is written and
 * dropped by the kernel when the process dies. A claim, under the store lock, treats a running
 * job as held only while both its lease (local wall clock) runs and that lock is held; it
 * unlinks the lock files of dead holders it finds.
 *
 * The registry commit of store_dir.c checks the fence and completes the job under the same
 * store lock (tr_jobs_dir_fence_check, tr_jobs_dir_finish). The two files are replaced one after
 * the other: a crash between them leaves the slot logged and the job running; its next claim
 * finds the log covering the slot and the job ends done as "not due" (jobs.c).
 *
 * One file of a little over 800 lines: the file's format, the two kinds of lock and the eight
 * operations read best together, as store_dir.c's do. Its escaped key=value fields are
 * outbox_dir.c's; a shared helper for both is the next step if a third file wants them.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* flock */

#include "store/jobs_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/inotify.h>
#endif

#include "base/fsutil.h"
#include "base/strbuf.h"
#include "store/backend.h"
#include "store/framed.h"

typedef struct jrec {
    tr_job j;
    int64_t run_after_ms, leased_until_ms;
} jrec;

typedef struct queue {
    int64_t next_id;
    jrec *v;
    size_t n, cap;
} queue;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t ms_to_s(int64_t ms)
{
    return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
}

static void who_am_i(char *who, size_t size)
{
    char host[64] = "";
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "?");
    host[sizeof host - 1] = '\0';
    snprintf(who, size, "%s:%ld", host, (long)getpid());
}

/* ---- the file ----------------------------------------------------------------------------- */

static const char *const state_names[TR_JOB_STATE_COUNT] = {"queued", "running", "done", "failed",
                                                            "dead"};

static void paths(const char *dir, char *file, char *sub, size_t size)
{
    snprintf(file, size, "%s/jobs.aifx", dir);
    snprintf(sub, size, "%s/jobs", dir);
}

static void queue_free(queue *q)
{
    free(q->v);
    memset(q, 0, sizeof *q);
}

static jrec *queue_add(queue *q)
{
    if (q->n == q->cap) {
        size_t nc = q->cap ? q->cap * 2 : 32;
        jrec *nv = realloc(q->v, nc * sizeof *nv);
        if (!nv)
            return NULL;
        q->v = nv;
        q->cap = nc;
    }
    jrec *r = &q->v[q->n++];
    memset(r, 0, sizeof *r);
    return r;
}

/* Parses one job line into r; 0, or -1 when malformed. */
static int parse_job(const char *ls, size_t ll, jrec *r)
{
    int bad = 0;
    char st[16] = "";
    tr_job *j = &r->j;
    j->id = tr_framed_field_i64(ls, ll, "id", &bad);
    bad |= tr_framed_field(ls, ll, "family", j->family, sizeof j->family);
    bad |= tr_framed_field(ls, ll, "cycle", j->cycle, sizeof j->cycle);
    j->slot_time = tr_framed_field_i64(ls, ll, "slot", &bad);
    bad |= tr_framed_field(ls, ll, "state", st, sizeof st);
    j->state = TR_JOB_STATE_COUNT;
    for (int k = 0; k < TR_JOB_STATE_COUNT; k++)
        if (strcmp(st, state_names[k]) == 0)
            j->state = (tr_job_state)k;
    j->attempts = (int)tr_framed_field_i64(ls, ll, "attempts", &bad);
    j->max_attempts = (int)tr_framed_field_i64(ls, ll, "max_attempts", &bad);
    r->run_after_ms = tr_framed_field_i64(ls, ll, "run_after_ms", &bad);
    j->lease = tr_framed_field_i64(ls, ll, "lease", &bad);
    r->leased_until_ms = tr_framed_field_i64(ls, ll, "leased_until_ms", &bad);
    (void)tr_framed_field(ls, ll, "leased_by", j->leased_by, sizeof j->leased_by);
    j->created_at = tr_framed_field_i64(ls, ll, "created", &bad);
    j->finished_at = tr_framed_field_i64(ls, ll, "finished", &bad);
    (void)tr_framed_field(ls, ll, "error", j->last_error, sizeof j->last_error);
    (void)tr_framed_field(ls, ll, "result", j->result, sizeof j->result);
    j->run_after = ms_to_s(r->run_after_ms);
    j->leased_until = ms_to_s(r->leased_until_ms);
    return bad || j->id <= 0 || j->state == TR_JOB_STATE_COUNT ? -1 : 0;
}

/* Reads the queue; a missing file is an empty queue. */
static tr_code read_queue(const char *dir, queue *q, tr_error *err)
{
    char path[4200], sub[4200];
    paths(dir, path, sub, sizeof path);
    memset(q, 0, sizeof *q);
    q->next_id = 1;
    char *data;
    size_t len;
    size_t head = 0;
    tr_code rc = tr_framed_read(path, "AIFXJOBS", "a job queue file", 1, &data, &len, &head, err);
    if (rc == TR_ERR_NOTFOUND) {
        tr_error_clear(err);
        return TR_OK;
    }
    if (rc)
        return rc;
    int line = 1;
    for (size_t pos = head; pos < len && !rc;) {
        const char *ls = data + pos;
        const char *e = memchr(ls, '\n', len - pos);
        size_t ll = e ? (size_t)(e - ls) : len - pos;
        pos += ll + 1;
        line++;
        if (ll > 6 && memcmp(ls, "queue\t", 6) == 0) {
            int bad = 0;
            q->next_id = tr_framed_field_i64(ls, ll, "next_id", &bad);
            if (bad || q->next_id < 1)
                rc = tr_fail(err, TR_ERR_FORMAT, "%s:%d: malformed queue line", path, line);
        } else if (ll > 4 && memcmp(ls, "job\t", 4) == 0) {
            jrec *r = queue_add(q);
            if (!r)
                rc = tr_fail(err, TR_ERR_NOMEM, "out of memory reading %s", path);
            else if (parse_job(ls, ll, r))
                rc = tr_fail(err, TR_ERR_FORMAT, "%s:%d: malformed job line", path, line);
            else if (r->j.id >= q->next_id)
                q->next_id = r->j.id + 1;
        }
    }
    free(data);
    if (rc)
        queue_free(q);
    return rc;
}

static tr_code write_queue(const char *dir, const queue *q, tr_error *err)
{
    char path[4200], sub[4200];
    paths(dir, path, sub, sizeof path);
    tr_sb body = {0};
    tr_sb_printf(&body, "queue\tnext_id=%" PRId64 "\n", q->next_id);
    for (size_t i = 0; i < q->n; i++) {
        const jrec *r = &q->v[i];
        const tr_job *j = &r->j;
        tr_sb_printf(&body, "job\tid=%" PRId64 "\tfamily=", j->id);
        tr_framed_put_escaped(&body, j->family);
        tr_sb_printf(&body, "\tcycle=");
        tr_framed_put_escaped(&body, j->cycle);
        tr_sb_printf(&body,
                     "\tslot=%" PRId64
                     "\tstate=%s\tattempts=%d\tmax_attempts=%d\trun_after_ms=%" PRId64
                     "\tlease=%" PRId64 "\tleased_until_ms=%" PRId64 "\tleased_by=",
                     j->slot_time, state_names[j->state], j->attempts, j->max_attempts,
                     r->run_after_ms, j->lease, r->leased_until_ms);
        tr_framed_put_escaped(&body, j->leased_by);
        tr_sb_printf(&body, "\tcreated=%" PRId64 "\tfinished=%" PRId64 "\terror=", j->created_at,
                     j->finished_at);
        tr_framed_put_escaped(&body, j->last_error);
        tr_sb_printf(&body, "\tresult=");
        tr_framed_put_escaped(&body, j->result);
        tr_sb_put(&body, "\n", 1);
    }
    tr_code rc = tr_framed_write(path, "AIFXJOBS", 1, 0, &body, err);
    tr_sb_free(&body);
    return rc;
}

static jrec *find(queue *q, int64_t id)
{
    for (size_t i = 0; i < q->n; i++)
        if (q->v[i].j.id == id)
            return &q->v[i];
    return NULL;
}

/* ---- the holders' locks (the store lock is store_dir.c's tr_store_dir_lock) -------------------
 */

static void hold_path(const char *dir, int64_t id, int64_t lease, char *buf, size_t size)
{
    snprintf(buf, size, "%s/jobs/%" PRId64 ".%" PRId64 ".lock", dir, id, lease);
}

/* 1 while some process holds the lock of generation lease of job id (the caller holds the store
 * lock, so no claim can take it meanwhile). A free lock file is the trace of a dead holder: it
 * is removed. */
static int holder_alive(const char *dir, int64_t id, int64_t lease)
{
    char path[4200];
    hold_path(dir, id, lease, path, sizeof path);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : 1; /* unreadable: assume alive, the lease decides */
    int r;
    while ((r = flock(fd, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR) {
    }
    if (r == 0)
        unlink(path);
    close(fd);
    return r != 0; /* held by another (EWOULDBLOCK), or an error: the lease decides */
}

void tr_jobs_dir_holds_init(tr_jobs_dir_holds *h)
{
    for (int i = 0; i < TR_JOBS_DIR_HOLDS; i++) {
        h->v[i].fd = -1;
        h->v[i].id = h->v[i].lease = 0;
    }
    h->watch = -1;
}

/* Lets go of the hold of (id, lease) if this handle has it. */
static void release(const char *dir, tr_jobs_dir_holds *h, int64_t id, int64_t lease)
{
    for (int i = 0; i < TR_JOBS_DIR_HOLDS; i++) {
        if (h->v[i].fd < 0 || h->v[i].id != id || h->v[i].lease != lease)
            continue;
        char path[4200];
        hold_path(dir, id, lease, path, sizeof path);
        unlink(path); /* before the close: a claim never finds it free while it is ours */
        close(h->v[i].fd);
        h->v[i].fd = -1;
    }
}

void tr_jobs_dir_holds_release(const char *dir, tr_jobs_dir_holds *h)
{
    for (int i = 0; i < TR_JOBS_DIR_HOLDS; i++)
        if (h->v[i].fd >= 0)
            release(dir, h, h->v[i].id, h->v[i].lease);
    if (h->watch >= 0)
        close(h->watch);
    h->watch = -1;
}

/* Takes the lock of generation lease of job id into a free entry of h. */
static tr_code hold(const char *dir, tr_jobs_dir_holds *h, int64_t id, int64_t lease, tr_error *err)
{
    int slot = -1;
    for (int i = 0; i < TR_JOBS_DIR_HOLDS && slot < 0; i++)
        if (h->v[i].fd < 0)
            slot = i;
    if (slot < 0)
        return tr_fail(err, TR_ERR_INVALID, "one store handle holds at most %d jobs at a time",
                       TR_JOBS_DIR_HOLDS);
    char path[4200], sub[4200];
    snprintf(sub, sizeof sub, "%s/jobs", dir);
    tr_code rc = tr_mkdir_p(sub, err);
    if (rc)
        return rc;
    hold_path(dir, id, lease, path, sizeof path);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return tr_fail(err, TR_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    int r;
    while ((r = flock(fd, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR) {
    }
    if (r != 0) {
        int e = errno;
        close(fd);
        return tr_fail(err, TR_ERR_IO, "%s: cannot lock: %s", path, strerror(e));
    }
    h->v[slot].fd = fd;
    h->v[slot].id = id;
    h->v[slot].lease = lease;
    return TR_OK;
}

/* ---- wake-ups ------------------------------------------------------------------------------- */

static void wake_workers(const char *dir)
{
    char sub[4200], path[4300];
    snprintf(sub, sizeof sub, "%s/jobs", dir);
    tr_error e;
    if (tr_mkdir_p(sub, &e) != TR_OK)
        return; /* a missed wake-up costs one poll interval */
    snprintf(path, sizeof path, "%s/wake", sub);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0)
        close(fd); /* IN_CLOSE_WRITE for the waiters */
}

tr_code tr_jobs_dir_wait(const char *dir, tr_jobs_dir_holds *h, double timeout, int *woken,
                         tr_error *err)
{
    *woken = 0;
    double end = timeout < 0 ? -1 : (double)now_ms() / 1000 + timeout;
#ifdef __linux__
    if (h->watch < 0) { /* kept open: what arrives between two waits is read by the next */
        char sub[4200];
        snprintf(sub, sizeof sub, "%s/jobs", dir);
        tr_code rc = tr_mkdir_p(sub, err);
        if (rc)
            return rc;
        int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (fd < 0)
            return tr_fail(err, TR_ERR_IO, "%s: inotify: %s", sub, strerror(errno));
        if (inotify_add_watch(fd, sub, IN_CLOSE_WRITE) < 0) {
            int e = errno;
            close(fd);
            return tr_fail(err, TR_ERR_IO, "%s: inotify watch: %s", sub, strerror(e));
        }
        h->watch = fd;
    }
    int fd = h->watch;
    while (!*woken) {
        double left = end < 0 ? 1e9 : end - (double)now_ms() / 1000;
        if (left <= 0)
            break;
        struct pollfd pf = {fd, POLLIN, 0};
        int r = poll(&pf, 1, left > 3600 ? 3600000 : (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR)
            break; /* a signal: let the caller look at its stop flag */
        if (r <= 0)
            continue;
        _Alignas(struct inotify_event) char buf[4096];
        ssize_t n = read(fd, buf, sizeof buf);
        for (ssize_t off = 0; n > 0 && off < n;) {
            const struct inotify_event *ev = (const struct inotify_event *)(buf + off);
            if ((ev->len && strcmp(ev->name, "wake") == 0) || (ev->mask & IN_Q_OVERFLOW))
                *woken = 1; /* an overflow may have dropped a wake-up: look */
            off += (ssize_t)(sizeof *ev + ev->len);
        }
    }
#else
    (void)dir, (void)h, (void)err;
    double left = end < 0 ? 1 : end - (double)now_ms() / 1000;
    if (left > 0) /* no inotify: the caller's poll interval finds the new jobs */
        (void)nanosleep(&(struct timespec){(time_t)left, (long)((left - (time_t)left) * 1e9)},
                        NULL);
#endif
    return TR_OK;
}

/* ---- the operations ------------------------------------------------------------------------- */

static tr_code lost_lease(const char *name, const tr_job_fence *f, const char *what, tr_error *err)
{
    return tr_fail(err, TR_ERR_CONFLICT,
                   "store %s: job %lld lost its job lease (generation %lld: another worker "
                   "claimed it after the lease lapsed); %s",
                   name, (long long)f->id, (long long)f->lease, what);
}

tr_code tr_jobs_dir_enqueue(const char *dir, const char *family, const char *cycle,
                            int64_t slot_time, int max_attempts, int *inserted, int64_t *id,
                            tr_error *err)
{
    int lk = -1;
    queue q;
    tr_code rc = tr_store_dir_lock(dir, &lk, err);
    if (rc)
        return rc;
    rc = read_queue(dir, &q, err);
    if (rc)
        goto done;
    for (size_t i = 0; i < q.n; i++) {
        const tr_job *j = &q.v[i].j;
        if (j->slot_time == slot_time && strcmp(j->family, family) == 0 &&
            strcmp(j->cycle, cycle) == 0) {
            *id = j->id; /* unique on (family, cycle, slot_time) */
            goto done;
        }
    }
    jrec *r = queue_add(&q);
    if (!r) {
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory enqueueing a job");
        goto done;
    }
    int64_t now = now_ms();
    r->j.id = q.next_id++;
    snprintf(r->j.family, sizeof r->j.family, "%s", family);
    snprintf(r->j.cycle, sizeof r->j.cycle, "%s", cycle);
    r->j.slot_time = slot_time;
    r->j.state = TR_JOB_QUEUED;
    r->j.max_attempts = max_attempts;
    r->j.created_at = ms_to_s(now);
    r->run_after_ms = now;
    rc = write_queue(dir, &q, err);
    if (!rc) {
        *inserted = 1;
        *id = r->j.id;
    }
done:
    queue_free(&q);
    close(lk);
    if (!rc && *inserted)
        wake_workers(dir);
    return rc;
}

/* 1 when a running job is still held: its lease runs and its holder is alive. alive[i] caches
 * holder_alive (-1: not asked yet). */
static int held(const char *dir, const queue *q, size_t i, int64_t now, signed char *alive)
{
    const jrec *r = &q->v[i];
    if (r->j.state != TR_JOB_RUNNING || r->leased_until_ms <= now)
        return 0;
    if (alive[i] < 0)
        alive[i] = (signed char)holder_alive(dir, r->j.id, r->j.lease);
    return alive[i];
}

/* Why a running job is no longer held, into buf. */
static void why_lost(const jrec *r, int64_t now, char *buf, size_t size)
{
    char who[128];
    snprintf(who, sizeof who, "%s", r->j.leased_by);
    if (r->leased_until_ms <= now)
        snprintf(buf, size, "the lease of attempt %d lapsed (held by %s)", r->j.attempts, who);
    else
        snprintf(buf, size, "the worker of attempt %d (%s) ended without an outcome", r->j.attempts,
                 who);
}

tr_code tr_jobs_dir_claim(const char *dir, tr_jobs_dir_holds *h, const char *family,
                          double lease_seconds, tr_job *job, int *got, tr_error *err)
{
    int lk = -1;
    queue q;
    signed char *alive = NULL;
    tr_code rc = tr_store_dir_lock(dir, &lk, err);
    if (rc)
        return rc;
    rc = read_queue(dir, &q, err);
    if (rc)
        goto done;
    alive = malloc(q.n + 1);
    if (!alive) {
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory claiming a job");
        goto done;
    }
    memset(alive, -1, q.n + 1);
    const char *fam = family ? family : "";
    int64_t now = now_ms();
    int changed = 0;
    /* a lapsed lease or a dead holder with no attempt left: dead, as a failure would make it */
    for (size_t i = 0; i < q.n; i++) {
        tr_job *j = &q.v[i].j;
        if (j->state != TR_JOB_RUNNING || (fam[0] && strcmp(j->family, fam) != 0) ||
            j->attempts < j->max_attempts || held(dir, &q, i, now, alive))
            continue;
        why_lost(&q.v[i], now, j->last_error, sizeof j->last_error);
        size_t used = strlen(j->last_error);
        snprintf(j->last_error + used, sizeof j->last_error - used, " and no attempt is left");
        j->state = TR_JOB_DEAD;
        j->finished_at = ms_to_s(now);
        q.v[i].leased_until_ms = 0;
        j->leased_until = 0;
        changed = 1;
    }
    /* the first runnable job in slot order of a family with nothing held */
    size_t best = q.n;
    for (size_t i = 0; i < q.n; i++) {
        const jrec *r = &q.v[i];
        const tr_job *j = &r->j;
        if (fam[0] && strcmp(j->family, fam) != 0)
            continue;
        int runnable =
            ((j->state == TR_JOB_QUEUED || j->state == TR_JOB_FAILED) && r->run_after_ms <= now) ||
            (j->state == TR_JOB_RUNNING && !held(dir, &q, i, now, alive));
        if (!runnable ||
            (best < q.n && (q.v[best].j.slot_time < j->slot_time ||
                            (q.v[best].j.slot_time == j->slot_time && q.v[best].j.id < j->id))))
            continue;
        int busy = 0;
        for (size_t k = 0; k < q.n && !busy; k++)
            busy =
                k != i && strcmp(q.v[k].j.family, j->family) == 0 && held(dir, &q, k, now, alive);
        if (!busy)
            best = i;
    }
    if (best < q.n) {
        jrec *r = &q.v[best];
        tr_job *j = &r->j;
        if (j->state == TR_JOB_RUNNING) /* taken over: say from whom */
            why_lost(r, now, j->last_error, sizeof j->last_error);
        rc = hold(dir, h, j->id, j->lease + 1, err);
        if (rc)
            goto done;
        j->state = TR_JOB_RUNNING;
        j->attempts++;
        j->lease++;
        who_am_i(j->leased_by, sizeof j->leased_by);
        r->leased_until_ms = now + (int64_t)llround(lease_seconds * 1000);
        j->leased_until = ms_to_s(r->leased_until_ms);
        changed = 1;
    }
    if (changed)
        rc = write_queue(dir, &q, err);
    if (best < q.n) {
        if (rc) {
            release(dir, h, q.v[best].j.id, q.v[best].j.lease);
        } else {
            *job = q.v[best].j;
            *got = 1;
        }
    }
done:
    free(alive);
    queue_free(&q);
    close(lk);
    return rc;
}

/* The read-modify-write of one job under the store lock: edit(r, now, user) returns 0 to write,
 * 1 when the fence does not hold (nothing written: TR_ERR_CONFLICT). */
typedef int (*edit_fn)(jrec *r, int64_t now, void *user);

static tr_code fenced_edit(const char *dir, const char *name, const tr_job_fence *f, edit_fn edit,
                           void *user, const char *refused, tr_error *err)
{
    int lk = -1;
    queue q;
    tr_code rc = tr_store_dir_lock(dir, &lk, err);
    if (rc)
        return rc;
    rc = read_queue(dir, &q, err);
    if (!rc) {
        jrec *r = find(&q, f->id);
        if (!r || r->j.lease != f->lease || edit(r, now_ms(), user))
            rc = lost_lease(name, f, refused, err);
        else
            rc = write_queue(dir, &q, err);
    }
    queue_free(&q);
    close(lk);
    return rc;
}

static int edit_heartbeat(jrec *r, int64_t now, void *user)
{
    if (r->j.state != TR_JOB_RUNNING)
        return 1;
    r->leased_until_ms = now + (int64_t)llround(*(const double *)user * 1000);
    return 0;
}

tr_code tr_jobs_dir_heartbeat(const char *dir, const char *name, const tr_job_fence *f,
                              double lease_seconds, tr_error *err)
{
    return fenced_edit(dir, name, f, edit_heartbeat, &lease_seconds, "not renewed", err);
}

static void mark_done(jrec *r, const char *result, int64_t now)
{
    r->j.state = TR_JOB_DONE;
    snprintf(r->j.result, sizeof r->j.result, "%s", result);
    r->leased_until_ms = 0;
    if (!r->j.finished_at)
        r->j.finished_at = ms_to_s(now);
}

static int edit_complete(jrec *r, int64_t now, void *user)
{
    if (r->j.state != TR_JOB_RUNNING && r->j.state != TR_JOB_DONE)
        return 1;
    mark_done(r, *(const char **)user, now);
    return 0;
}

tr_code tr_jobs_dir_complete(const char *dir, const char *name, tr_jobs_dir_holds *h,
                             const tr_job_fence *f, const char *result, tr_error *err)
{
    tr_code rc = fenced_edit(dir, name, f, edit_complete, &result, "not completed", err);
    release(dir, h, f->id, f->lease); /* done, or another worker's: ours no more */
    return rc;
}

typedef struct fail_args {
    const char *error;
    double backoff;
    tr_job_state state;
} fail_args;

static int edit_fail(jrec *r, int64_t now, void *user)
{
    fail_args *a = user;
    if (r->j.state != TR_JOB_RUNNING)
        return 1;
    snprintf(r->j.last_error, sizeof r->j.last_error, "%s", a->error);
    r->leased_until_ms = 0;
    if (r->j.attempts >= r->j.max_attempts) {
        r->j.state = TR_JOB_DEAD;
        r->j.finished_at = ms_to_s(now);
    } else {
        r->j.state = TR_JOB_FAILED;
        /* the retry policy of River's and Oban's kind: backoff * 2^attempts */
        double wait = a->backoff * ldexp(1.0, r->j.attempts < 20 ? r->j.attempts : 20);
        r->run_after_ms = now + (int64_t)llround(wait * 1000);
    }
    a->state = r->j.state;
    return 0;
}

tr_code tr_jobs_dir_fail(const char *dir, const char *name, tr_jobs_dir_holds *h,
                         const tr_job_fence *f, const char *error, double backoff_base,
                         tr_job_state *state, tr_error *err)
{
    fail_args a = {error, backoff_base, TR_JOB_FAILED};
    tr_code rc = fenced_edit(dir, name, f, edit_fail, &a, "its failure is not recorded", err);
    release(dir, h, f->id, f->lease);
    *state = a.state;
    return rc;
}

static int newest_first(const void *x, const void *y)
{
    const tr_job *a = x, *b = y;
    if (a->slot_time != b->slot_time)
        return a->slot_time > b->slot_time ? -1 : 1;
    return (a->id < b->id) - (a->id > b->id);
}

tr_code tr_jobs_dir_list(const char *dir, const char *family, size_t max, tr_job **list, size_t *n,
                         tr_error *err)
{
    queue q;
    tr_code rc = read_queue(dir, &q, err);
    if (rc)
        return rc;
    size_t k = 0;
    if (q.n) {
        *list = calloc(q.n, sizeof **list);
        if (!*list) {
            queue_free(&q);
            return tr_fail(err, TR_ERR_NOMEM, "out of memory listing the jobs");
        }
    }
    for (size_t i = 0; i < q.n; i++)
        if (!family || !family[0] || strcmp(q.v[i].j.family, family) == 0)
            (*list)[k++] = q.v[i].j;
    queue_free(&q);
    if (k > 1)
        qsort(*list, k, sizeof **list, newest_first);
    *n = max && k > max ? max : k;
    if (*n == 0) {
        free(*list);
        *list = NULL;
    }
    return TR_OK;
}

tr_code tr_jobs_dir_get(const char *dir, const char *name, int64_t id, tr_job *job, tr_error *err)
{
    queue q;
    tr_code rc = read_queue(dir, &q, err);
    if (rc)
        return rc;
    const jrec *r = find(&q, id);
    if (r)
        *job = r->j;
    else
        rc = tr_fail(err, TR_ERR_NOTFOUND, "store %s: no job %lld", name, (long long)id);
    queue_free(&q);
    return rc;
}

tr_code tr_jobs_dir_retry(const char *dir, const char *name, int64_t id, tr_error *err)
{
    int lk = -1;
    queue q;
    tr_code rc = tr_store_dir_lock(dir, &lk, err);
    if (rc)
        return rc;
    rc = read_queue(dir, &q, err);
    if (!rc) {
        jrec *r = find(&q, id);
        if (!r) {
            rc = tr_fail(err, TR_ERR_NOTFOUND, "store %s: no job %lld", name, (long long)id);
        } else if (r->j.state != TR_JOB_DEAD && r->j.state != TR_JOB_FAILED) {
            rc = tr_fail(err, TR_ERR_CONFLICT,
                         "job %lld is %s: only a dead or failed job is retried", (long long)id,
                         state_names[r->j.state]);
        } else {
            r->j.state = TR_JOB_QUEUED;
            r->j.attempts = 0;
            r->run_after_ms = now_ms();
            r->j.finished_at = 0;
            r->leased_until_ms = 0;
            rc = write_queue(dir, &q, err);
        }
    }
    queue_free(&q);
    close(lk);
    if (!rc)
        wake_workers(dir);
    return rc;
}

/* ---- inside a registry commit ---------------------------------------------------------------- */

tr_code tr_jobs_dir_fence_check(const char *dir, const char *name, const tr_job_fence *f,
                                char *cycle, size_t size, int64_t *slot, tr_error *err)
{
    queue q;
    *slot = 0;
    tr_code rc = read_queue(dir, &q, err);
    if (rc)
        return rc;
    const jrec *r = find(&q, f->id);
    int ok =
        r && r->j.lease == f->lease && (r->j.state == TR_JOB_RUNNING || r->j.state == TR_JOB_DONE);
    if (ok) {
        snprintf(cycle, size, "%s", r->j.cycle);
        *slot = r->j.slot_time;
    }
    queue_free(&q);
    return ok ? TR_OK : lost_lease(name, f, "nothing committed", err);
}

tr_code tr_jobs_dir_finish(const char *dir, const tr_reg_txn *txn, const char *cycle, int64_t slot,
                           tr_error *err)
{
    char result[512];
    if (!tr_store_job_outcome(txn, cycle, slot, result, sizeof result))
        return TR_OK;
    queue q;
    tr_code rc = read_queue(dir, &q, err);
    if (rc)
        return rc;
    jrec *r = find(&q, txn->job->id);
    if (r) {
        r->j.finished_at = 0;
        mark_done(r, result, now_ms());
        rc = write_queue(dir, &q, err);
    }
    queue_free(&q);
    return rc;
}
