/*
 * workers.c - the two threads beside the HTTP pool (http.h), each with its own store handle.
 *
 * The watcher keeps the snapshot (models.c) in step with the registry, so that an activation
 * made anywhere (aifx-train activate, a cycle of a cron run-due, another server) is served
 * without a restart. On PostgreSQL it waits on the model_deployed channel (tr_store_listen) for
 * at most a second and syncs after every event or timeout (the re-read also picks up what sends
 * no event, such as an A/B test started with the CLI). A directory store has no events: every
 * second the watcher stats <store>/registry.aifx (docs/schema.md: the registry is that one file,
 * replaced by a rename on every commit, so a commit always changes its inode) and re-reads the
 * registry only when the file changed, or at least once a minute. Measured on this machine: a
 * stat is microseconds, a read of a registry of 2 versions 0.26 ms and of 50 versions 3.5 ms,
 * which grows with the versions a year of dailies registers (a second is what TensorFlow
 * Serving's file-system poll defaults to). A store error closes the handle and the next round
 * reconnects.
 *
 * The scheduler (--schedule) calls tr_run_due every --schedule-every seconds (default 60), as
 * `aifx-train run-due` does from cron: the cycle locks it takes are the store's, so a cron
 * run-due elsewhere and this thread never run one cycle twice. With --enqueue it calls
 * tr_run_due_enqueue instead (run-due --enqueue): the monitor runs here, the due slots become
 * jobs of the store's queue for `aifx-train worker` processes (counted as "enqueued"). Training
 * runs on this thread only; requests never wait for it. Each run's outcomes are counted in
 * aifx_cycle_runs_total and logged as JSON lines. After each round the store's notifications
 * (notify.conf) are delivered for at most 10 s, as at the end of run-due.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/timeutil.h"
#include "cycles/family_opts.h"
#include "cycles/jobs.h"
#include "cycles/schedule.h"
#include "data/notify.h"
#include "serve/http.h"

struct serve_workers {
    serve_ctx *ctx;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    int sched_done; /* the scheduler's thread has returned */
    int every;      /* seconds between runs */
    int has_watcher, has_sched;
    pthread_t watcher, sched;
};

/* Waits up to seconds or until stop; returns stop. */
static int pause_for(serve_workers *w, double seconds)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long ns = ts.tv_nsec + (long long)((seconds - (double)(long long)seconds) * 1e9);
    ts.tv_sec += (time_t)seconds + (time_t)(ns / 1000000000LL);
    ts.tv_nsec = (long)(ns % 1000000000LL);
    pthread_mutex_lock(&w->mu);
    while (!w->stop && pthread_cond_timedwait(&w->cv, &w->mu, &ts) == 0)
        ;
    int stop = w->stop;
    pthread_mutex_unlock(&w->mu);
    return stop;
}

static int stopping(serve_workers *w)
{
    pthread_mutex_lock(&w->mu);
    int s = w->stop;
    pthread_mutex_unlock(&w->mu);
    return s;
}

static tr_store *open_store(serve_ctx *ctx, const char *who)
{
    tr_store *st = NULL;
    tr_store_options so = {.models_dir = ctx->cfg.models_dir, .family = ctx->cfg.family};
    tr_error e;
    tr_error_clear(&e);
    if (tr_store_open(ctx->cfg.store, &so, &st, &e)) {
        char msg[1200];
        snprintf(msg, sizeof msg, "%s: %s", who, e.msg);
        serve_log_event("store_unavailable", NULL, msg);
        return NULL;
    }
    return st;
}

/* An event on model_deployed: stop waiting and sync now (or stop when the server stops). */
static int on_event(const char *channel, const char *payload, void *user)
{
    (void)payload;
    return channel != NULL || stopping(user);
}

/* The identity of a file: changes with every rename over it. */
typedef struct file_id {
    int ok;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} file_id;

static file_id file_id_of(const char *path)
{
    file_id f;
    memset(&f, 0, sizeof f);
    struct stat sb;
    if (path[0] && stat(path, &sb) == 0) {
        f.ok = 1;
        f.dev = sb.st_dev;
        f.ino = sb.st_ino;
        f.size = sb.st_size;
        f.mtime = sb.st_mtim;
    }
    return f;
}

static int file_id_same(const file_id *a, const file_id *b)
{
    return a->ok && b->ok && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

#define RESYNC_SECONDS 60.0 /* a directory store's registry is re-read at least this often */

static void *watch(void *arg)
{
    serve_workers *w = arg;
    serve_ctx *ctx = w->ctx;
    int pg = tr_store_location_is_pg(ctx->cfg.store);
    static const char *const channels[] = {"model_deployed"};
    tr_store *st = NULL;
    char reg_path[4200] = "";
    file_id last;
    memset(&last, 0, sizeof last);
    double synced_at = 0;
    while (!stopping(w)) {
        if (!st && !(st = open_store(ctx, "registry watcher"))) {
            pause_for(w, 1.0);
            continue;
        }
        tr_error e;
        tr_error_clear(&e);
        tr_code rc = TR_OK;
        file_id now;
        memset(&now, 0, sizeof now);
        if (pg) {
            rc = tr_store_listen(st, channels, 1, 1.0, on_event, w, &e);
        } else {
            pause_for(w, 1.0);
            if (!reg_path[0] &&
                tr_store_path(st, TR_AREA_FILES, "registry.aifx", reg_path, sizeof reg_path, NULL))
                reg_path[0] = '\0';
            now = file_id_of(reg_path);
            if (file_id_same(&now, &last) && tr_mono_now() - synced_at < RESYNC_SECONDS)
                continue; /* unchanged since the last sync */
        }
        if (rc == TR_OK && !stopping(w)) {
            rc = serve_models_sync(ctx->models, st, NULL, &e);
            if (rc == TR_OK) {
                last = now;
                synced_at = tr_mono_now();
            }
        }
        if (rc == TR_ERR_STORE) {
            serve_log_event("store_unavailable", NULL, e.msg);
            tr_store_close(st);
            st = NULL;
            pause_for(w, 1.0);
        } else if (rc) {
            serve_log_event("registry_read_failed", NULL, e.msg);
            pause_for(w, 1.0);
        }
    }
    tr_store_close(st);
    return NULL;
}

/* The store's notifications (data/notify.h, notify.conf's sinks), for at most 10 s after each
 * scheduler round, as run-due does at its end: a webhook that is down never holds the loop. */
static void deliver_notifications(serve_ctx *ctx, tr_store *st)
{
    tr_notify_config *c = malloc(sizeof *c);
    if (!c)
        return;
    tr_error e;
    tr_error_clear(&e);
    if (tr_notify_config_of_store(st, c, &e) != TR_OK) {
        serve_log_event("notify_failed", NULL, e.msg);
    } else if (c->n_sinks > 0) {
        tr_notify_result r;
        if (tr_notify_deliver(st, c, tr_wall_now(), 10.0, &r, &e) != TR_OK)
            serve_log_event("notify_failed", NULL, e.msg);
        else if (r.delivered || r.given_up)
            serve_metrics_cycle(ctx->metrics, "notify", r.given_up ? "given_up" : "delivered");
    }
    free(c);
}

static void *schedule(void *arg)
{
    serve_workers *w = arg;
    serve_ctx *ctx = w->ctx;
    tr_store *st = NULL;
    while (!stopping(w)) {
        if (!st && !(st = open_store(ctx, "scheduler"))) {
            serve_metrics_cycle(ctx->metrics, "run-due", "store_unavailable");
            pause_for(w, w->every);
            continue;
        }
        tr_due_opts o = tr_due_opts_default();
        o.as_of = tr_wall_now();
        tr_due_result r;
        tr_enqueue_result q;
        memset(&q, 0, sizeof q);
        tr_error e;
        tr_error_clear(&e);
        /* the family's settings; its definition was checked when it was added. A serving
         * scheduler that enqueues does so for its own family (run-due --enqueue without
         * --family covers every family) */
        tr_code rc = tr_family_due_opts(tr_store_family(st), &o, &e);
        if (!rc)
            rc = ctx->cfg.schedule_enqueue
                     ? tr_run_due_enqueue(st, &o, tr_store_family_name(st), 3, &r, &q, &e)
                     : tr_run_due(st, &o, &r, &e);
        if (rc == TR_ERR_CONFLICT) {
            serve_metrics_cycle(ctx->metrics, "run-due", "locked");
        } else if (rc) {
            serve_metrics_cycle(ctx->metrics, "run-due",
                                rc == TR_ERR_STORE ? "store_unavailable" : "error");
            serve_log_event("run_due_failed", NULL, e.msg);
            if (rc == TR_ERR_STORE) {
                tr_store_close(st);
                st = NULL;
            }
        } else {
            for (int i = 0; i < r.n_items; i++) {
                const tr_due_item *it = &r.items[i];
                if (it->outcome == TR_RUN_NOT_DUE || it->outcome == TR_RUN_DISABLED)
                    continue;
                serve_metrics_cycle(ctx->metrics, tr_slot_cycle(it->slot),
                                    tr_run_outcome_name(it->outcome));
                char msg[1200];
                snprintf(msg, sizeof msg, "%s %s: %s", tr_slot_cycle(it->slot),
                         tr_run_outcome_name(it->outcome), it->detail);
                serve_log_event("cycle", it->version[0] ? it->version : NULL, msg);
            }
            for (int i = 0; i < q.n_items; i++) {
                const tr_enqueue_item *it = &q.items[i];
                if (!it->inserted)
                    continue; /* not due, or queued by an earlier round or another host */
                serve_metrics_cycle(ctx->metrics, tr_slot_cycle(it->slot), "enqueued");
                char msg[200], t[32];
                snprintf(msg, sizeof msg, "%s enqueued: job %lld for %s", tr_slot_cycle(it->slot),
                         (long long)it->id, tr_time_format(it->latest, t, sizeof t));
                serve_log_event("cycle", NULL, msg);
            }
        }
        if (st)
            deliver_notifications(ctx, st);
        pause_for(w, w->every);
    }
    tr_store_close(st);
    pthread_mutex_lock(&w->mu);
    w->sched_done = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

serve_workers *serve_workers_start(serve_ctx *ctx, int sched, int every_seconds)
{
    serve_workers *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->ctx = ctx;
    w->every = every_seconds > 0 ? every_seconds : 60;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->has_watcher = pthread_create(&w->watcher, NULL, watch, w) == 0;
    if (w->has_watcher && sched)
        w->has_sched = pthread_create(&w->sched, NULL, schedule, w) == 0;
    if (!w->has_watcher || (sched && !w->has_sched)) {
        serve_workers_stop(w, 0);
        return NULL;
    }
    return w;
}

int serve_workers_stop(serve_workers *w, double wait_seconds)
{
    if (!w)
        return 0;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    if (w->has_watcher)
        pthread_join(w->watcher, NULL);
    int still_busy = 0;
    if (w->has_sched) {
        /* a cycle may train for minutes: wait a while, then leave it to be resumed */
        double end = tr_mono_now() + wait_seconds;
        pthread_mutex_lock(&w->mu);
        while (!w->sched_done && tr_mono_now() < end) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 100 * 1000 * 1000;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&w->cv, &w->mu, &ts);
        }
        still_busy = !w->sched_done;
        pthread_mutex_unlock(&w->mu);
        if (!still_busy)
            pthread_join(w->sched, NULL);
    }
    if (still_busy)
        return 1; /* w stays allocated: the thread still uses it until the process exits */
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
    return 0;
}
