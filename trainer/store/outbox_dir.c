/*
 * outbox_dir.c - a sink's delivery state on the directory store (outbox_dir.h).
 *
 * <store>/outbox/<sink>.state, text:
 *   "AIFXSINK 1 0 <body bytes> <crc32 of the body, 8 hex>\n", then the body:
 *   sink   \t start_after=<id> \t done_through=<id> \t delivered=<n> \t given_up=<n>
 *   event  \t id=<id> \t state=retry|delivered|given_up \t attempts=<n> \t first_at=<t>
 *          \t last_at=<t> \t next_at=<t> \t http=<status> \t error=<text, %XX escapes>
 * (one line each, fields separated by tabs, times in seconds since the epoch). Events up to
 * done_through are settled (delivered or given up); an event line is kept for every event after
 * it that was tried, and for the last KEEP_SETTLED settled ones (what notify --status shows).
 * Unknown keys and line kinds are ignored, so a newer minor version reads.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* flock */

#include "store/outbox_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/strbuf.h"
#include "store/framed.h"

#define KEEP_SETTLED 16
#define MAX_ENTRIES  64

typedef struct entry {
    int64_t id;
    int state; /* tr_outbox_state */
    int attempts;
    int64_t first_at, last_at, next_at;
    int http;
    char error[256];
} entry;

typedef struct sink_state {
    int64_t start_after, done_through, delivered, given_up;
    entry e[MAX_ENTRIES]; /* ascending ids */
    size_t n;
} sink_state;

static const char *const state_names[] = {"retry", "delivered", "given_up"};

static void paths(const char *dir, const char *sink, char *state, char *lock, size_t size)
{
    snprintf(state, size, "%s/outbox/%s.state", dir, sink);
    snprintf(lock, size, "%s/outbox/%s.lock", dir, sink);
}

/* ---- the file ----------------------------------------------------------------------------- */

static tr_code write_state(const char *path, const sink_state *st, tr_error *err)
{
    tr_sb body = {0};
    tr_sb_printf(&body,
                 "sink\tstart_after=%" PRId64 "\tdone_through=%" PRId64 "\tdelivered=%" PRId64
                 "\tgiven_up=%" PRId64 "\n",
                 st->start_after, st->done_through, st->delivered, st->given_up);
    for (size_t i = 0; i < st->n; i++) {
        const entry *e = &st->e[i];
        tr_sb_printf(&body,
                     "event\tid=%" PRId64 "\tstate=%s\tattempts=%d\tfirst_at=%" PRId64
                     "\tlast_at=%" PRId64 "\tnext_at=%" PRId64 "\thttp=%d\terror=",
                     e->id, state_names[e->state], e->attempts, e->first_at, e->last_at, e->next_at,
                     e->http);
        tr_framed_put_escaped(&body, e->error);
        tr_sb_put(&body, "\n", 1);
    }
    tr_code rc = tr_framed_write(path, "AIFXSINK", 1, 0, &body, err);
    tr_sb_free(&body);
    return rc;
}

/* Reads the state; a missing file is TR_ERR_NOTFOUND (a sink never claimed). */
static tr_code read_state(const char *path, sink_state *st, tr_error *err)
{
    memset(st, 0, sizeof *st);
    char *data;
    size_t len;
    size_t head = 0;
    tr_code rc = tr_framed_read(path, "AIFXSINK", "a sink state file", 1, &data, &len, &head, err);
    if (rc)
        return rc;
    int bad = 0;
    for (size_t pos = head; pos < len && !bad;) {
        const char *ls = data + pos;
        const char *e = memchr(ls, '\n', len - pos);
        size_t ll = e ? (size_t)(e - ls) : len - pos;
        pos += ll + 1;
        if (ll > 5 && memcmp(ls, "sink\t", 5) == 0) {
            st->start_after = tr_framed_field_i64(ls, ll, "start_after", &bad);
            st->done_through = tr_framed_field_i64(ls, ll, "done_through", &bad);
            st->delivered = tr_framed_field_i64(ls, ll, "delivered", &bad);
            st->given_up = tr_framed_field_i64(ls, ll, "given_up", &bad);
        } else if (ll > 6 && memcmp(ls, "event\t", 6) == 0 && st->n < MAX_ENTRIES) {
            entry *en = &st->e[st->n];
            char sv[16] = "";
            en->id = tr_framed_field_i64(ls, ll, "id", &bad);
            en->attempts = (int)tr_framed_field_i64(ls, ll, "attempts", &bad);
            en->first_at = tr_framed_field_i64(ls, ll, "first_at", &bad);
            en->last_at = tr_framed_field_i64(ls, ll, "last_at", &bad);
            en->next_at = tr_framed_field_i64(ls, ll, "next_at", &bad);
            en->http = (int)tr_framed_field_i64(ls, ll, "http", &bad);
            (void)tr_framed_field(ls, ll, "error", en->error, sizeof en->error);
            bad |= tr_framed_field(ls, ll, "state", sv, sizeof sv);
            en->state = -1;
            for (int k = 0; k < 3; k++)
                if (strcmp(sv, state_names[k]) == 0)
                    en->state = k;
            bad |= en->state < 0 || (st->n && en->id <= st->e[st->n - 1].id);
            st->n++;
        }
    }
    free(data);
    if (bad)
        return tr_fail(err, TR_ERR_FORMAT, "%s: malformed line", path);
    return TR_OK;
}

static entry *find_entry(sink_state *st, int64_t id)
{
    for (size_t i = 0; i < st->n; i++)
        if (st->e[i].id == id)
            return &st->e[i];
    return NULL;
}

/* ---- the operations ----------------------------------------------------------------------- */

tr_code tr_outbox_dir_claim(const char *dir, const tr_registry *reg, const char *sink, int64_t now,
                            int64_t backlog, size_t max, int64_t *lease, tr_outbox_delivery **list,
                            size_t *n, int64_t *next_due, tr_error *err)
{
    char spath[4300], lpath[4300], odir[4200];
    snprintf(odir, sizeof odir, "%s/outbox", dir);
    paths(dir, sink, spath, lpath, sizeof spath);
    tr_code rc = tr_mkdir_p(odir, err);
    if (rc)
        return rc;
    int fd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return tr_fail(err, TR_ERR_IO, "%s: cannot open: %s", lpath, strerror(errno));
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        if (e == EINTR)
            continue;
        close(fd);
        if (e == EWOULDBLOCK)
            return tr_fail(err, TR_ERR_CONFLICT, "sink %s is being delivered by another sender",
                           sink);
        return tr_fail(err, TR_ERR_IO, "%s: cannot lock: %s", lpath, strerror(e));
    }
    sink_state *st = malloc(sizeof *st);
    if (!st) {
        close(fd);
        return tr_fail(err, TR_ERR_NOMEM, "out of memory");
    }
    rc = read_state(spath, st, err);
    if (rc == TR_ERR_NOTFOUND) {
        /* a new sink: the events of the last `backlog` seconds are its first */
        tr_error_clear(err);
        memset(st, 0, sizeof *st);
        for (size_t i = 0; backlog >= 0 && i < reg->n_events; i++) {
            if (reg->events[i].created_at >= now - backlog)
                break;
            st->start_after = reg->events[i].id;
        }
        st->done_through = st->start_after;
        rc = write_state(spath, st, err);
    }
    if (rc)
        goto fail;
    int64_t after = st->start_after > st->done_through ? st->start_after : st->done_through;
    size_t k = 0;
    while (k < reg->n_events && reg->events[k].id <= after)
        k++;
    if (k < reg->n_events) {
        const entry *h = find_entry(st, reg->events[k].id);
        if (h && h->next_at > now) {
            *next_due = h->next_at;
        } else {
            size_t m = reg->n_events - k < max ? reg->n_events - k : max;
            *list = calloc(m, sizeof **list);
            if (!*list) {
                rc = tr_fail(err, TR_ERR_NOMEM, "out of memory");
                goto fail;
            }
            for (size_t i = 0; i < m; i++) {
                tr_outbox_delivery *d = &(*list)[i];
                d->ev = reg->events[k + i];
                const entry *en = find_entry(st, d->ev.id);
                if (en) {
                    d->attempts = en->attempts;
                    d->first_attempt_at = en->first_at;
                    d->next_attempt_at = en->next_at;
                    snprintf(d->last_error, sizeof d->last_error, "%s", en->error);
                }
            }
            *n = m;
        }
    }
    free(st);
    *lease = fd;
    return TR_OK;
fail:
    free(st);
    close(fd);
    return rc;
}

tr_code tr_outbox_dir_record(const char *dir, const char *sink, int64_t lease,
                             const tr_outbox_attempt *a, tr_error *err)
{
    char spath[4300], lpath[4300];
    paths(dir, sink, spath, lpath, sizeof spath);
    if (lease < 0 || lease > INT32_MAX || fcntl((int)lease, F_GETFD) == -1)
        return tr_fail(err, TR_ERR_CONFLICT, "sink %s: the claim is not held", sink);
    sink_state *st = malloc(sizeof *st);
    if (!st)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory");
    tr_code rc = read_state(spath, st, err);
    if (rc)
        goto done;
    if (a->event_id <= st->done_through || a->event_id <= st->start_after)
        goto done; /* settled already: nothing changes */
    entry *en = find_entry(st, a->event_id);
    if (!en) {
        /* room for it: drop the oldest settled entries first */
        size_t settled = 0;
        for (size_t i = 0; i < st->n; i++)
            settled += st->e[i].id <= st->done_through;
        if (st->n == MAX_ENTRIES && settled == 0) {
            rc = tr_fail(err, TR_ERR_INVALID, "sink %s: too many events in flight", sink);
            goto done;
        }
        if (st->n == MAX_ENTRIES) {
            memmove(st->e, st->e + 1, (st->n - 1) * sizeof *st->e);
            st->n--;
        }
        size_t at = st->n;
        while (at > 0 && st->e[at - 1].id > a->event_id)
            at--;
        memmove(st->e + at + 1, st->e + at, (st->n - at) * sizeof *st->e);
        st->n++;
        en = &st->e[at];
        memset(en, 0, sizeof *en);
        en->id = a->event_id;
        en->first_at = a->at;
    }
    en->attempts++;
    en->state = (int)a->state;
    en->last_at = a->at;
    en->next_at = a->state == TR_OUTBOX_RETRY ? a->next_at : 0;
    en->http = a->http_status;
    snprintf(en->error, sizeof en->error, "%s", a->error);
    if (a->state != TR_OUTBOX_RETRY) {
        st->done_through = a->event_id;
        if (a->state == TR_OUTBOX_DELIVERED)
            st->delivered++;
        else
            st->given_up++;
        /* keep the last KEEP_SETTLED settled entries */
        size_t settled = 0;
        for (size_t i = 0; i < st->n; i++)
            settled += st->e[i].id <= st->done_through;
        size_t drop = settled > KEEP_SETTLED ? settled - KEEP_SETTLED : 0;
        if (drop) {
            memmove(st->e, st->e + drop, (st->n - drop) * sizeof *st->e);
            st->n -= drop;
        }
    }
    rc = write_state(spath, st, err);
done:
    free(st);
    return rc;
}

void tr_outbox_dir_release(int64_t lease)
{
    if (lease >= 0 && lease <= INT32_MAX)
        close((int)lease); /* closing the descriptor releases the flock */
}

tr_code tr_outbox_dir_info(const char *dir, const tr_registry *reg, const char *sink,
                           tr_outbox_sink_info *info, tr_error *err)
{
    char spath[4300], lpath[4300];
    paths(dir, sink, spath, lpath, sizeof spath);
    sink_state *st = malloc(sizeof *st);
    if (!st)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory");
    tr_code rc = read_state(spath, st, err);
    if (rc == TR_ERR_NOTFOUND) {
        tr_error_clear(err);
        free(st);
        return TR_OK;
    }
    if (!rc) {
        info->start_after = st->start_after;
        info->done_through = st->done_through;
        info->delivered = st->delivered;
        info->given_up = st->given_up;
        int64_t after = st->start_after > st->done_through ? st->start_after : st->done_through;
        int64_t head = 0;
        for (size_t i = 0; i < reg->n_events; i++)
            if (reg->events[i].id > after) {
                info->pending++;
                if (!head)
                    head = reg->events[i].id;
            }
        const entry *h = head ? find_entry(st, head) : NULL;
        if (h) {
            info->head_attempts = h->attempts;
            info->head_next_at = h->next_at;
            snprintf(info->head_error, sizeof info->head_error, "%s", h->error);
        }
    }
    free(st);
    return rc;
}
