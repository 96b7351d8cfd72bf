/*
 * jobs.c - enqueue-due and the worker (jobs.h; docs/operations.md section 8, "A job queue").
 *
 * A worker's job, in order: claim (the store's FOR UPDATE SKIP LOCKED, a lease and its fencing
 * generation); start the heartbeat thread (its own store handle: a handle is not thread-safe),
 * which renews the lease every third of it and stops at the first refusal; re-read the log (a
 * slot that run-due or an earlier attempt covered meanwhile is done without running); set the
 * job's fence on the handle, so that every registry commit of the cycle carries it and the one
 * that logs the slot completed or skipped marks the job done in its own transaction; run the
 * slot as run-due would (tr_run_slot); clear the fence; stop the heartbeat; record the end:
 * complete (the one-line outcome), or fail (retried after backoff, dead at max_attempts). Every
 * record is fenced: a worker that lost its lease while it ran (stalled, cut off) records nothing
 * and its commits were refused, so the job's new holder is the only one that lands.
 */
#define _POSIX_C_SOURCE 200809L

#include "cycles/jobs.h"

#include "cycles/cycledef.h"
#include "cycles/family_opts.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Calls fn(handle, user, err) with a handle in the family named, or (family NULL or "") in the
 * default family and then every family defined in the store, by name: store itself when it is
 * in that family, else a handle opened for the call. Stops at the first error. */
typedef tr_code (*family_fn)(tr_store *st, void *user, tr_error *err);

static tr_code each_family(tr_store *store, const char *family, family_fn fn, void *user,
                           tr_error *err)
{
    int all = !family || !family[0];
    tr_family *list = NULL;
    size_t n = 0;
    if (all) {
        tr_code rc = tr_store_family_list(store, &list, &n, err);
        if (rc)
            return rc;
    }
    tr_code rc = TR_OK;
    for (size_t i = 0; i <= (all ? n : 0) && !rc; i++) {
        const char *name = !all ? family : i == 0 ? TR_FAMILY_DEFAULT : list[i - 1].name;
        if (strcmp(name, tr_store_family_name(store)) == 0) {
            rc = fn(store, user, err);
            continue;
        }
        tr_store *fs;
        rc = tr_store_open_family(store, name, &fs, err);
        if (!rc)
            rc = fn(fs, user, err);
        tr_store_close(fs);
    }
    free(list);
    return rc;
}

typedef struct enqueue_ctx {
    const tr_due_opts *o;
    int max_attempts;
    tr_enqueue_result *res;
} enqueue_ctx;

/* Enqueues the due slots of one family, through a handle in it, by its schedule settings. */
static tr_code enqueue_family(tr_store *store, void *user, tr_error *err)
{
    const enqueue_ctx *c = user;
    tr_enqueue_result *res = c->res;
    const tr_family *fam = tr_store_family(store);
    tr_schedule sched = c->o->sched;
    tr_code rc = tr_family_schedule(fam, &sched, err);
    if (rc)
        return rc;
    tr_registry reg;
    rc = tr_store_registry_read(store, &reg, err);
    if (rc)
        return rc;
    for (int k = 0; k < TR_N_SLOTS && !rc; k++) {
        if (tr_slot_every_call(k))
            continue; /* the monitor runs in process */
        if (res->n_items == (int)(sizeof res->items / sizeof res->items[0])) {
            rc = tr_fail(err, TR_ERR_INVALID, "more than %d families to enqueue at once",
                         TR_ENQUEUE_FAMILIES);
            break;
        }
        tr_enqueue_item *it = &res->items[res->n_items++];
        it->slot = k;
        snprintf(it->family, sizeof it->family, "%s", fam->name);
        it->latest = tr_sched_latest(&sched, k, c->o->as_of);
        if (!sched.enabled[k]) {
            it->due = -1;
            continue;
        }
        it->due = tr_sched_due(&reg, tr_slot_cycle(k), it->latest, sched.max_retries, NULL, NULL);
        if (it->due != TR_DUE_YES)
            continue;
        rc = tr_store_job_enqueue(store, fam->name, tr_slot_cycle(k), it->latest, c->max_attempts,
                                  &it->inserted, &it->id, err);
        res->n_inserted += it->inserted;
    }
    tr_registry_free(&reg);
    return rc;
}

tr_code tr_enqueue_due(tr_store *store, const tr_due_opts *o, const char *family, int max_attempts,
                       tr_enqueue_result *res, tr_error *err)
{
    memset(res, 0, sizeof *res);
    enqueue_ctx c = {o, max_attempts, res};
    return each_family(store, family, enqueue_family, &c, err);
}

typedef struct monitor_ctx {
    const tr_due_opts *in_process; /* every slot disabled but the ones due at every call */
    tr_due_result *due;            /* the first family's outcomes */
    int calls;
} monitor_ctx;

/* run-due's in-process slots (the monitor) of one family; after the first family only the
 * first error is kept. */
static tr_code monitor_family(tr_store *store, void *user, tr_error *err)
{
    monitor_ctx *c = user;
    tr_due_result other = {.first_error = TR_OK};
    tr_due_result *r = c->calls++ ? &other : c->due;
    tr_code rc = tr_run_due(store, c->in_process, r, err);
    if (!rc && r == &other && other.first_error && !c->due->first_error)
        c->due->first_error = other.first_error;
    return rc;
}

tr_code tr_run_due_enqueue(tr_store *store, const tr_due_opts *o, const char *family,
                           int max_attempts, tr_due_result *due, tr_enqueue_result *enq,
                           tr_error *err)
{
    memset(enq, 0, sizeof *enq);
    memset(due, 0, sizeof *due);
    tr_due_opts in_process = *o;
    for (int k = 0; k < TR_N_SLOTS; k++)
        in_process.sched.enabled[k] &= tr_slot_every_call(k);
    monitor_ctx c = {&in_process, due, 0};
    tr_code rc = each_family(store, family, monitor_family, &c, err);
    if (rc)
        return rc;
    return tr_enqueue_due(store, o, family, max_attempts, enq, err);
}

tr_worker_opts tr_worker_opts_default(void)
{
    tr_worker_opts o;
    memset(&o, 0, sizeof o);
    o.due = tr_due_opts_default();
    o.lease_seconds = 60;
    o.backoff_base = TR_JOB_BACKOFF_BASE;
    return o;
}

/* ---- the heartbeat thread ------------------------------------------------------------------ */

typedef struct heartbeat {
    tr_store *store; /* the thread's own handle */
    tr_job_fence fence;
    double lease;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop, lost;
    pthread_t th;
    int running;
} heartbeat;

static void *hb_main(void *arg)
{
    heartbeat *h = arg;
    pthread_mutex_lock(&h->mu);
    while (!h->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        double every = h->lease / 3;
        ts.tv_sec += (time_t)every;
        ts.tv_nsec += (long)((every - (double)(time_t)every) * 1e9);
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        int w = pthread_cond_timedwait(&h->cv, &h->mu, &ts);
        if (h->stop || w != ETIMEDOUT)
            continue;
        pthread_mutex_unlock(&h->mu);
        tr_error e;
        tr_code rc = tr_store_job_heartbeat(h->store, &h->fence, h->lease, &e);
        pthread_mutex_lock(&h->mu);
        if (rc == TR_ERR_CONFLICT) {
            h->lost = 1; /* another worker holds the job: the commits will be refused */
            break;
        }
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

static void hb_start(heartbeat *h, tr_store *store, const tr_job_fence *f, double lease)
{
    memset(h, 0, sizeof *h);
    h->fence = *f;
    h->lease = lease;
    tr_error e;
    if (tr_store_reopen(store, &h->store, &e) != TR_OK)
        return; /* no heartbeat: the lease may lapse, and the fence keeps the commit safe */
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    if (pthread_create(&h->th, NULL, hb_main, h) == 0)
        h->running = 1;
}

/* Stops the thread; returns 1 when it found the lease lost. */
static int hb_stop(heartbeat *h)
{
    if (h->running) {
        pthread_mutex_lock(&h->mu);
        h->stop = 1;
        pthread_cond_signal(&h->cv);
        pthread_mutex_unlock(&h->mu);
        pthread_join(h->th, NULL);
        pthread_mutex_destroy(&h->mu);
        pthread_cond_destroy(&h->cv);
    }
    tr_store_close(h->store);
    return h->lost;
}

/* ---- one job ------------------------------------------------------------------------------- */

/* The settings a job runs with: the built-in defaults, then its family's, then the worker's own
 * options where they differ from the defaults (a worker started with --epochs 5 trains every
 * family's retrains for 5 epochs at most). */
static tr_code job_opts(const tr_family *fam, const tr_due_opts *mine, tr_due_opts *out,
                        tr_error *err)
{
    const tr_due_opts def = tr_due_opts_default();
    *out = def;
    tr_code rc = tr_family_due_opts(fam, out, err);
    if (rc)
        return rc;
#define KEEP(f)                                                                                    \
    if (memcmp(&mine->f, &def.f, sizeof def.f) != 0)                                               \
    out->f = mine->f
    KEEP(full.months);
    KEEP(full.n_layers);
    KEEP(full.n_hidden);
    KEEP(full.batch);
    KEEP(full.max_epochs);
    KEEP(full.patience);
    KEEP(full.lr);
    KEEP(full.dropout);
    KEEP(full.seed);
    KEEP(full.class_weight_power);
    KEEP(full.labels);
    KEEP(full.decision);
    KEEP(full.min_trades);
    KEEP(full.ab);
    KEEP(full.ab_days);
    KEEP(full.ab_split);
    KEEP(full.ab_min_trades);
    KEEP(full.on_event);
    KEEP(full.user);
    KEEP(incr.min_samples);
    KEEP(incr.lr);
    KEEP(incr.epochs);
    KEEP(incr.batch);
    KEEP(incr.gate_metric);
    KEEP(incr.force);
    KEEP(incr.seed);
    KEEP(incr.no_guard);
    KEEP(incr.on_event);
    KEEP(incr.user);
    KEEP(rank.min_trades);
    KEEP(rank.no_guard);
    KEEP(clock);
    KEEP(force_training);
#undef KEEP
    return TR_OK;
}

tr_code tr_worker_run_one(tr_store *store, const tr_worker_opts *o, tr_worker_result *res,
                          tr_error *err)
{
    memset(res, 0, sizeof *res);
    tr_code rc = tr_store_job_claim(store, o->family, o->lease_seconds, &res->job, &res->got, err);
    if (rc || !res->got)
        return rc;
    const tr_job *j = &res->job;
    tr_job_fence f = {j->id, j->lease};
    int slot = tr_slot_of_cycle(j->cycle);
    tr_error ce;
    tr_error_clear(&ce);
    tr_code crc = TR_OK;
    heartbeat hb;
    hb_start(&hb, store, &f, o->lease_seconds);
    /* the job runs in its family: a handle of its own when the worker's is another's */
    tr_store *queue = store, *fs = NULL;
    tr_due_opts jo = o->due;
    if (strcmp(j->family, tr_store_family_name(store)) != 0) {
        crc = tr_store_open_family(store, j->family, &fs, &ce);
        if (!crc)
            store = fs;
    }
    if (!crc)
        crc = job_opts(tr_store_family(store), &o->due, &jo, &ce);
    if (crc) {
        res->outcome = TR_RUN_FAILED;
    } else if (slot < 0 || tr_slot_every_call(slot)) {
        crc = tr_fail(&ce, TR_ERR_INVALID, "no scheduled slot runs a cycle named %s", j->cycle);
        res->outcome = TR_RUN_FAILED;
    } else {
        tr_registry reg;
        crc = tr_store_registry_read(store, &reg, &ce);
        int due = TR_DUE_YES;
        if (!crc) {
            /* the job's own attempts decide when to give up, not the log's failed rows */
            due = tr_sched_due(&reg, j->cycle, j->slot_time, INT_MAX, NULL, NULL);
            tr_registry_free(&reg);
        }
        if (!crc && due == TR_DUE_NO) {
            res->outcome = TR_RUN_NOT_DUE;
            snprintf(res->detail, sizeof res->detail, "not due: the log covers the slot");
            /* as run-due does for a covered slot: what a completed run killed before its
             * cleanup left behind goes */
            const tr_cycle_def *def = tr_cycle_find(j->cycle);
            tr_cycle_ctx tctx = {store, j->slot_time, jo.clock, 0, NULL, NULL};
            if (def && def->tidy)
                def->tidy(&tctx);
        } else if (!crc) {
            tr_due_item it;
            tr_store_job_fence(store, &f);
            crc = tr_run_slot(store, &jo, slot, j->slot_time, &it, &ce);
            tr_store_job_fence(store, NULL);
            res->outcome = it.outcome;
            /* "VERSION: detail", cut to fit */
            snprintf(res->detail, sizeof res->detail, "%s%s", it.version,
                     it.version[0] && it.detail[0] ? ": " : "");
            size_t used = strlen(res->detail), k = strlen(it.detail);
            if (k > sizeof res->detail - 1 - used)
                k = sizeof res->detail - 1 - used;
            memcpy(res->detail + used, it.detail, k);
            res->detail[used + k] = '\0';
        } else {
            res->outcome = TR_RUN_FAILED;
        }
    }
    tr_store_close(fs);
    store = queue; /* the job's records go through the worker's handle */
    res->lost = hb_stop(&hb);
    tr_error re;
    tr_code wrc;
    if (!crc) {
        wrc = tr_store_job_complete(store, &f, res->detail, &re);
        res->state = TR_JOB_DONE;
    } else {
        snprintf(res->detail, sizeof res->detail, "%s", ce.msg);
        wrc = tr_store_job_fail(store, &f, ce.msg, o->backoff_base, &res->state, &re);
    }
    if (wrc == TR_ERR_CONFLICT) {
        res->lost = 1; /* the job is another worker's now */
        snprintf(res->detail, sizeof res->detail, "%s", re.msg);
    } else if (wrc) {
        *err = re;
        return wrc;
    }
    return TR_OK;
}

/* ---- the loop ------------------------------------------------------------------------------ */

typedef struct waiter {
    volatile sig_atomic_t *stop;
    int woken;
} waiter;

static int wake(const char *channel, const char *payload, void *user)
{
    (void)payload;
    waiter *w = user;
    if (channel)
        w->woken = 1; /* a job was enqueued or retried */
    return w->woken || *w->stop;
}

tr_code tr_worker_loop(tr_store *store, const tr_worker_opts *o, int once, double poll_seconds,
                       volatile sig_atomic_t *stop,
                       void (*on_job)(const tr_worker_result *r, void *user), void *user,
                       tr_error *err)
{
    static const char *const channels[1] = {"jobs"};
    while (!*stop) {
        tr_worker_result r;
        tr_code rc = tr_worker_run_one(store, o, &r, err);
        if (rc == TR_ERR_STORE && !once) {
            /* the server is down or restarting: the handle reconnects at its next statement;
             * a job in flight keeps its lease until it lapses, then runs again elsewhere */
            for (double waited = 0; waited < poll_seconds && !*stop; waited += 1)
                (void)nanosleep(&(struct timespec){1, 0}, NULL);
            continue;
        }
        if (rc)
            return rc;
        if (r.got) {
            if (on_job)
                on_job(&r, user);
            continue;
        }
        if (once)
            break;
        /* wait for a NOTIFY, in slices of a second so that a stop is seen soon; the poll
         * interval bounds the wait for a retry whose backoff ends (no NOTIFY announces it) */
        waiter w = {stop, 0};
        for (double waited = 0; waited < poll_seconds && !w.woken && !*stop; waited += 1) {
            double slice = poll_seconds - waited < 1 ? poll_seconds - waited : 1;
            rc = tr_store_listen(store, channels, 1, slice, wake, &w, err);
            if (rc == TR_ERR_STORE)
                break; /* lost: the next claim reconnects (or waits, above) */
            if (rc)
                return rc;
        }
    }
    return TR_OK;
}
