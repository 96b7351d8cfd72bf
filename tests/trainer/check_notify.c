/*
 * check_notify.c - notifications: the events a registry commit announces (the outbox), their
 * delivery to webhook sinks through a real local receiver (tests/notify/receiver.py, Python 3
 * standard library, on 127.0.0.1 at an ephemeral port), and the sender's promises: every event
 * delivered once per sink by idempotency key, in order per sink, through 429 (retry_after
 * respected), 500 (retried) and a hanging receiver (timeout, retried); 4xx given up at once; a
 * sender killed with SIGKILL mid-delivery loses nothing (the event is sent again with the same
 * key); a change that fails or rolls back announces nothing; webhook URLs never in any output.
 * Every store case runs on a directory store and, with $AIFX_TEST_PG, on PostgreSQL.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../check_main.h"
#include "base/fsutil.h"
#include "base/timeutil.h"
#include "data/notify.h"
#include "pgutil.h"
#include "registry/registry.h"
#include "store/store.h"
#include "testutil.h"

#define RECEIVER AIFX_DOCS_DIR "/../tests/notify/receiver.py"
#define SECRET   "TOKEN-Zq81xSecret"

static void nap(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* ---- the receiver ------------------------------------------------------------------------- */

typedef struct rcv {
    pid_t pid;
    int port;
    char *dir;
} rcv;

static void rcv_start(rcv *r, const char *base, const char *script_json)
{
    r->dir = tu_path(base, "rcv");
    ck_assert_int_eq(mkdir(r->dir, 0755), 0);
    char *script = tu_write(r->dir, "script.json", script_json);
    r->pid = fork();
    ck_assert_int_ge(r->pid, 0);
    if (r->pid == 0) {
        execlp("python3", "python3", RECEIVER, "--dir", r->dir, "--script", script, (char *)NULL);
        _exit(127);
    }
    free(script);
    char *port = tu_path(r->dir, "port");
    r->port = 0;
    for (int i = 0; i < 200 && !r->port; i++) {
        FILE *f = fopen(port, "r");
        if (f) {
            if (fscanf(f, "%d", &r->port) != 1)
                r->port = 0;
            fclose(f);
        }
        if (!r->port)
            nap(0.025);
    }
    free(port);
    ck_assert_msg(r->port > 0, "the receiver did not start");
}

static void rcv_stop(rcv *r)
{
    if (r->pid > 0) {
        kill(r->pid, SIGTERM);
        waitpid(r->pid, NULL, 0);
    }
    free(r->dir);
    r->pid = 0;
}

/* One recorded request. */
typedef struct req {
    int seq;
    double t;
    char path[256], answer[32], key[128], ua[64], ctype[64];
    long bytes;
} req;

/* The requests so far (at most max). */
static int rcv_log(const rcv *r, req *out, int max)
{
    char *path = tu_path(r->dir, "log");
    FILE *f = fopen(path, "r");
    free(path);
    if (!f)
        return 0;
    int n = 0;
    char line[2048];
    while (n < max && fgets(line, sizeof line, f)) {
        req *q = &out[n];
        memset(q, 0, sizeof *q);
        char *fld[8];
        int k = 0;
        for (char *p = line; k < 8 && p;) {
            fld[k++] = p;
            p = strpbrk(p, "\t\n");
            if (p)
                *p++ = '\0';
        }
        if (k < 8)
            continue;
        q->seq = atoi(fld[0]);
        q->t = atof(fld[1]);
        snprintf(q->path, sizeof q->path, "%s", fld[2]);
        snprintf(q->answer, sizeof q->answer, "%s", fld[3]);
        snprintf(q->key, sizeof q->key, "%s", fld[4]);
        snprintf(q->ua, sizeof q->ua, "%s", fld[5]);
        snprintf(q->ctype, sizeof q->ctype, "%s", fld[6]);
        q->bytes = atol(fld[7]);
        n++;
    }
    fclose(f);
    return n;
}

/* The file DIR/<name>-<seq> of the receiver, malloc'd (NUL-terminated). */
static char *rcv_file(const rcv *r, const char *name, int seq)
{
    char rel[64];
    snprintf(rel, sizeof rel, "%s-%d", name, seq);
    char *path = tu_path(r->dir, rel);
    char *data = NULL;
    size_t len;
    tr_error e;
    ck_assert_msg(tr_file_read(path, &data, &len, &e) == TR_OK, "%s", e.msg);
    free(path);
    return data;
}

/* The event id at the end of an idempotency key "aifx-<sink>-<id>". */
static long key_event(const char *key)
{
    const char *d = strrchr(key, '-');
    return d ? atol(d + 1) : -1;
}

/* Checks the requests to the sink at path prefix: each event of 1..n answered 2xx exactly once
 * (by key), the first request of each event in ascending order, and every request after the
 * event's 2xx... none (an event delivered is not sent again). Returns the requests to it. */
static int check_once_in_order(const req *log, int n_log, const char *prefix, long n_events)
{
    int count = 0;
    long last_first = 0, ok[64] = {0};
    size_t pl = strlen(prefix);
    for (int i = 0; i < n_log; i++) {
        if (strncmp(log[i].path, prefix, pl) != 0)
            continue;
        count++;
        long id = key_event(log[i].key);
        ck_assert_msg(id >= 1 && id <= n_events && id < 64, "%s: key %s", prefix, log[i].key);
        ck_assert_msg(ok[id] == 0, "%s: event %ld sent again after it was delivered", prefix, id);
        if (id != last_first) {
            ck_assert_msg(id == last_first + 1, "%s: event %ld sent after %ld (order)", prefix, id,
                          last_first);
            last_first = id;
        }
        if (log[i].answer[0] == '2')
            ok[id] = 1;
    }
    for (long id = 1; id <= n_events; id++)
        ck_assert_msg(ok[id], "%s: event %ld never delivered", prefix, id);
    return count;
}

/* ---- stores ------------------------------------------------------------------------------- */

typedef struct fixture {
    char *dir;
    char *loc; /* the store's location */
    char *models;
    int pg;
    tr_store *st;
} fixture;

/* Backend 0: a directory store; 1: PostgreSQL (0 returned: skipped, no server). */
static int fx_open(fixture *f, int backend)
{
    memset(f, 0, sizeof *f);
    if (backend == 1 && !pu_server())
        return 0;
    f->dir = tu_tempdir();
    f->models = tu_path(f->dir, "models");
    f->pg = backend == 1;
    f->loc = f->pg ? pu_create_db(1) : tu_path(f->dir, "store");
    tr_store_options o = {.create = 1, .models_dir = f->models};
    tr_error e;
    ck_assert_msg(tr_store_open(f->loc, &o, &f->st, &e) == TR_OK, "%s", e.msg);
    return 1;
}

static void fx_close(fixture *f)
{
    tr_store_close(f->st);
    if (f->pg)
        pu_drop_db(f->loc);
    else
        free(f->loc);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f->models);
}

/* Commits n explicit events kind "note" with payload {"n":first+i}. */
static void add_events(tr_store *st, int first, int n)
{
    tr_outbox_event ev[16];
    ck_assert_int_le(n, 16);
    memset(ev, 0, sizeof ev);
    for (int i = 0; i < n; i++) {
        snprintf(ev[i].kind, sizeof ev[i].kind, "note");
        snprintf(ev[i].payload, sizeof ev[i].payload, "{\"n\":%d}", first + i);
    }
    tr_reg_txn t;
    memset(&t, 0, sizeof t);
    t.events = ev;
    t.n_events = (size_t)n;
    t.now = tr_wall_now();
    tr_error e;
    ck_assert_msg(tr_store_registry_commit(st, &t, &e) == TR_OK, "%s", e.msg);
}

/* The events pending for a new sink that takes every event (backlog -1), by claiming it. */
static size_t outbox_count(tr_store *st, const char *sink, tr_outbox_delivery **list)
{
    int64_t lease, next;
    size_t n;
    tr_error e;
    ck_assert_msg(tr_store_outbox_claim(st, sink, tr_wall_now(), -1, 30, 1000, &lease, list, &n,
                                        &next, &e) == TR_OK,
                  "%s", e.msg);
    tr_store_outbox_release(st, sink, lease);
    return n;
}

static tr_version usable_version(const char *name)
{
    tr_version v;
    memset(&v, 0, sizeof v);
    snprintf(v.version, sizeof v.version, "%s", name);
    v.type = TR_VT_FULL;
    v.status = TR_VS_COMPLETED;
    v.figs[2].macro_f1 = 0.512;
    v.figs[2].accuracy = 0.6;
    v.bt.trades = 42;
    v.bt.win_rate = 0.55;
    v.bt.total_pips = 123.4;
    return v;
}

/* ---- the events of a transaction ---------------------------------------------------------- */

START_TEST(test_derived_events)
{
    tr_registry reg;
    tr_registry_init(&reg);
    tr_error e;
    /* a new version, its log row, the first activation */
    tr_version v1 = usable_version("v1.0"), v2 = usable_version("v1.1");
    tr_log_row row;
    memset(&row, 0, sizeof row);
    snprintf(row.cycle, sizeof row.cycle, "full");
    snprintf(row.version, sizeof row.version, "v1.0");
    snprintf(row.verdict, sizeof row.verdict, "first_model");
    tr_activation act;
    memset(&act, 0, sizeof act);
    snprintf(act.to, sizeof act.to, "v1.0");
    snprintf(act.reason, sizeof act.reason, "first_model");
    snprintf(act.evidence, sizeof act.evidence, "{\"x\":1}");
    tr_reg_txn t;
    memset(&t, 0, sizeof t);
    t.put = &v1;
    t.n_put = 1;
    t.log = &row;
    t.n_log = 1;
    t.activate = &act;
    t.now = T("2025-03-02T01:00:00Z");
    ck_assert_msg(tr_registry_apply(&reg, &t, &e) == TR_OK, "%s", e.msg);
    ck_assert_int_eq(reg.n_events, 2);
    ck_assert_str_eq(reg.events[0].kind, "training_completed");
    ck_assert_int_eq(reg.events[0].id, 1);
    ck_assert_int_eq(reg.events[0].created_at, t.now);
    ck_assert_ptr_nonnull(strstr(reg.events[0].payload, "\"version\":\"v1.0\""));
    ck_assert_ptr_nonnull(strstr(reg.events[0].payload, "\"verdict\":\"first_model\""));
    ck_assert_ptr_nonnull(strstr(reg.events[0].payload, "\"macro_f1\":0.512"));
    ck_assert_ptr_nonnull(strstr(reg.events[0].payload, "\"activated\":true"));
    ck_assert_str_eq(reg.events[1].kind, "model_deployed");
    ck_assert_ptr_nonnull(strstr(reg.events[1].payload, "\"to\":\"v1.0\""));
    ck_assert_ptr_nonnull(strstr(reg.events[1].payload, "\"evidence\":{\"x\":1}"));

    /* a failed log row; a rank row with its report; an explicit event: in that order */
    tr_log_row rows[2];
    memset(rows, 0, sizeof rows);
    snprintf(rows[0].cycle, sizeof rows[0].cycle, "incremental");
    rows[0].status = TR_LOG_FAILED;
    snprintf(rows[0].error, sizeof rows[0].error, "no bars for \"EURUSD\"");
    snprintf(rows[1].cycle, sizeof rows[1].cycle, "rank");
    snprintf(rows[1].verdict, sizeof rows[1].verdict, "unchanged");
    tr_outbox_event x;
    memset(&x, 0, sizeof x);
    snprintf(x.kind, sizeof x.kind, "drift_alert");
    snprintf(x.payload, sizeof x.payload, "{\"psi\":0.3}");
    memset(&t, 0, sizeof t);
    t.log = rows;
    t.n_log = 2;
    t.events = &x;
    t.n_events = 1;
    t.report = "/r/rank-2025-03-01.md";
    t.now = T("2025-03-03T00:00:00Z");
    ck_assert_msg(tr_registry_apply(&reg, &t, &e) == TR_OK, "%s", e.msg);
    ck_assert_int_eq(reg.n_events, 5);
    ck_assert_str_eq(reg.events[2].kind, "training_failed");
    ck_assert_ptr_nonnull(
        strstr(reg.events[2].payload, "\"error\":\"no bars for \\\"EURUSD\\\"\""));
    ck_assert_str_eq(reg.events[3].kind, "monthly_report");
    ck_assert_ptr_nonnull(strstr(reg.events[3].payload, "\"report\":\"/r/rank-2025-03-01.md\""));
    ck_assert_str_eq(reg.events[4].kind, "drift_alert");
    ck_assert_str_eq(reg.events[4].payload, "{\"psi\":0.3}");
    ck_assert_int_eq(reg.events[4].id, 5);
    ck_assert_int_eq(reg.last_event_id, 5);

    /* a rollback; an A/B test that ends, with its winner */
    memset(&t, 0, sizeof t);
    t.put = &v2;
    t.n_put = 1;
    t.now = T("2025-03-04T00:00:00Z");
    ck_assert_msg(tr_registry_apply(&reg, &t, &e) == TR_OK, "%s", e.msg);
    ck_assert_str_eq(reg.events[5].kind, "training_completed");
    tr_ab_test ab;
    memset(&ab, 0, sizeof ab);
    snprintf(ab.id, sizeof ab.id, "ab1");
    snprintf(ab.version_a, sizeof ab.version_a, "v1.0");
    snprintf(ab.version_b, sizeof ab.version_b, "v1.1");
    ab.split = 0.5;
    memset(&t, 0, sizeof t);
    t.ab_put = &ab;
    t.n_ab_put = 1;
    ck_assert_msg(tr_registry_apply(&reg, &t, &e) == TR_OK, "%s", e.msg);
    ck_assert_int_eq(reg.n_events, 6); /* starting a test announces nothing */
    tr_ab_test end = ab;
    end.status = TR_AB_COMPLETED;
    snprintf(end.verdict, sizeof end.verdict, "b");
    snprintf(end.end_reason, sizeof end.end_reason, "min_trades");
    tr_activation a2;
    memset(&a2, 0, sizeof a2);
    snprintf(a2.from, sizeof a2.from, "v1.0");
    snprintf(a2.to, sizeof a2.to, "v1.1");
    snprintf(a2.reason, sizeof a2.reason, "rollback");
    memset(&t, 0, sizeof t);
    t.ab_update = &end;
    t.n_ab_update = 1;
    t.activate = &a2;
    ck_assert_msg(tr_registry_apply(&reg, &t, &e) == TR_OK, "%s", e.msg);
    ck_assert_int_eq(reg.n_events, 8);
    ck_assert_str_eq(reg.events[6].kind, "ab_concluded");
    ck_assert_ptr_nonnull(strstr(reg.events[6].payload, "\"winner\":\"v1.1\""));
    ck_assert_str_eq(reg.events[7].kind, "model_rolled_back");

    /* a bad explicit event refuses the whole transaction; a transaction of events alone is good */
    snprintf(x.kind, sizeof x.kind, "Bad-Kind");
    memset(&t, 0, sizeof t);
    t.events = &x;
    t.n_events = 1;
    ck_assert_int_eq(tr_registry_apply(&reg, &t, &e), TR_ERR_INVALID);
    snprintf(x.kind, sizeof x.kind, "pause");
    snprintf(x.payload, sizeof x.payload, "not json");
    t.put = NULL;
    ck_assert_int_eq(tr_registry_apply(&reg, &t, &e), TR_ERR_INVALID);
    ck_assert_int_eq(reg.n_events, 8);
    snprintf(x.payload, sizeof x.payload, "{}");
    ck_assert_msg(tr_registry_apply(&reg, &t, &e) == TR_OK, "%s", e.msg);
    ck_assert_int_eq(reg.n_events, 9);
    ck_assert_int_eq(reg.events[8].id, 9);
    tr_registry_free(&reg);
}
END_TEST

/* A change that fails announces nothing; one that commits announces its events, on every store. */
START_TEST(test_failed_change_announces_nothing)
{
    fixture f;
    if (!fx_open(&f, _i))
        return;
    tr_error e;
    tr_version v = usable_version("v1.0");
    tr_reg_txn t;
    memset(&t, 0, sizeof t);
    t.put = &v;
    t.n_put = 1;
    t.now = tr_wall_now();
    ck_assert_msg(tr_store_registry_commit(f.st, &t, &e) == TR_OK, "%s", e.msg);
    /* refused by the rules (the name is taken), with an explicit event: nothing of it */
    tr_outbox_event x;
    memset(&x, 0, sizeof x);
    snprintf(x.kind, sizeof x.kind, "note");
    snprintf(x.payload, sizeof x.payload, "{\"lost\":true}");
    t.events = &x;
    t.n_events = 1;
    ck_assert_int_eq(tr_store_registry_commit(f.st, &t, &e), TR_ERR_CONFLICT);
    if (f.pg) {
        /* refused at COMMIT, after the outbox rows were inserted: rolled back with them */
        ck_assert_int_eq(
            pu_psql(f.loc,
                    "CREATE FUNCTION aifxt_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    "RAISE EXCEPTION 'refused at commit by the test'; END $$;\n"
                    "CREATE CONSTRAINT TRIGGER aifxt_fail_mv AFTER INSERT ON model_versions "
                    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.version = 'v9.9') "
                    "EXECUTE FUNCTION aifxt_fail();\n",
                    NULL, 0),
            0);
        tr_version v99 = usable_version("v9.9");
        t.put = &v99;
        ck_assert_int_ne(tr_store_registry_commit(f.st, &t, &e), TR_OK);
        ck_assert_ptr_nonnull(strstr(e.msg, "refused at commit"));
        ck_assert_int_eq(pu_value(f.loc, "SELECT count(*) FROM outbox"), 1);
    }
    tr_outbox_delivery *list;
    size_t n = outbox_count(f.st, "check", &list);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(list[0].ev.kind, "training_completed");
    ck_assert_int_eq(list[0].ev.id, 1);
    free(list);
    /* the registry read does not carry the outbox, only its last id */
    tr_registry reg;
    ck_assert_msg(tr_store_registry_read(f.st, &reg, &e) == TR_OK, "%s", e.msg);
    ck_assert_int_eq(reg.n_events, 0);
    ck_assert_int_eq(reg.last_event_id, 1);
    tr_registry_free(&reg);
    fx_close(&f);
}
END_TEST

/* ---- delivery ----------------------------------------------------------------------------- */

static void config_for(tr_notify_config *c, const rcv *r, const char *const *paths,
                       const char *const *kinds, int n)
{
    tr_notify_config_default(c);
    c->timeout = 1;
    c->connect_timeout = 1;
    c->retry_base = 0.3;
    c->retry_max = 2;
    for (int i = 0; i < n; i++) {
        char spec[512];
        tr_error e;
        snprintf(spec, sizeof spec, "%s=http://127.0.0.1:%d%s/api/webhooks/77/" SECRET, kinds[i],
                 r->port, paths[i]);
        ck_assert_msg(tr_notify_add_sink(c, spec, NULL, &e) == TR_OK, "%s", e.msg);
    }
}

/* Five events to three sinks: one answers 429 (retry_after 1.2 s) then 500 then 200s, one hangs
 * past the timeout once, one answers 200. All delivered once each, in order, within the call. */
START_TEST(test_delivery_through_429_500_and_a_hang)
{
    fixture f;
    if (!fx_open(&f, _i))
        return;
    rcv r;
    rcv_start(&r, f.dir,
              "{\"/a\": [\"429:1.2\", \"500\", \"200\", \"500\"], \"/b\": [\"hang:4\"]}");
    add_events(f.st, 1, 3);
    tr_notify_config c;
    const char *paths[] = {"/a", "/b", "/c"}, *kinds[] = {"json", "discord", "slack"};
    config_for(&c, &r, paths, kinds, 3);
    add_events(f.st, 4, 2);
    tr_notify_result res;
    tr_error e;
    double t0 = tu_now();
    ck_assert_msg(tr_notify_deliver(f.st, &c, tr_wall_now(), 25, &res, &e) == TR_OK, "%s", e.msg);
    double took = tu_now() - t0;
    ck_assert_msg(res.delivered == 15 && res.given_up == 0 && !res.out_of_time,
                  "delivered %lld, given up %lld, out of time %d: %s", (long long)res.delivered,
                  (long long)res.given_up, res.out_of_time, res.last_error);
    ck_assert_int_eq(res.retries, 4); /* /a: 429, 500, then 500 on event 2; /b: the hang */
    ck_assert_msg(took < 12, "took %.1f s", took);
    req log[64];
    int n = rcv_log(&r, log, 64);
    ck_assert_int_eq(n, 19);
    ck_assert_int_eq(check_once_in_order(log, n, "/a/", 5), 8);
    ck_assert_int_eq(check_once_in_order(log, n, "/b/", 5), 6);
    ck_assert_int_eq(check_once_in_order(log, n, "/c/", 5), 5);
    /* /a: the retry after 429 waited retry_after (1.2 s); after 500 the backoff (>= 0.3 s) */
    const req *a[8];
    int na = 0;
    for (int i = 0; i < n; i++)
        if (strncmp(log[i].path, "/a/", 3) == 0)
            a[na++] = &log[i];
    ck_assert_str_eq(a[0]->answer, "429:1.2");
    ck_assert_msg(a[1]->t - a[0]->t >= 1.15, "retried %.3f s after the 429", a[1]->t - a[0]->t);
    ck_assert_str_eq(a[1]->answer, "500");
    ck_assert_msg(a[2]->t - a[1]->t >= 0.29, "retried %.3f s after the 500", a[2]->t - a[1]->t);
    ck_assert_str_eq(a[1]->key, a[0]->key);
    ck_assert_str_eq(a[2]->key, a[0]->key);
    /* /b: the hang was cut by the timeout (1 s), not waited for (4 s) */
    const req *b[2];
    int nb = 0;
    for (int i = 0; i < n && nb < 2; i++)
        if (strncmp(log[i].path, "/b/", 3) == 0)
            b[nb++] = &log[i];
    ck_assert_str_eq(b[0]->answer, "hang:4");
    ck_assert_str_eq(b[0]->key, b[1]->key);
    ck_assert_msg(b[1]->t - b[0]->t >= 1.0 && b[1]->t - b[0]->t < 3.5,
                  "retried %.3f s after the hang", b[1]->t - b[0]->t);
    /* the headers and formats */
    for (int i = 0; i < n; i++) {
        ck_assert_msg(strncmp(log[i].ua, "aifx/", 5) == 0, "User-Agent %s", log[i].ua);
        ck_assert_str_eq(log[i].ctype, "application/json");
        char *body = rcv_file(&r, "body", log[i].seq), *hdr = rcv_file(&r, "headers", log[i].seq);
        if (log[i].path[1] == 'a') {
            ck_assert_msg(strstr(body, "\"kind\":\"note\"") && strstr(body, "\"payload\":{\"n\":"),
                          "%s", body);
        } else if (log[i].path[1] == 'b') {
            ck_assert_msg(strstr(body, "\"content\":") && strstr(body, "\"embeds\":[{"), "%s",
                          body);
            ck_assert_ptr_nonnull(strstr(hdr, "?wait=true"));
        } else {
            ck_assert_msg(strstr(body, "\"text\":") && strstr(body, "\"blocks\":[{"), "%s", body);
        }
        ck_assert_ptr_nonnull(strstr(hdr, "webhook-id: aifx-"));
        free(body);
        free(hdr);
    }
    /* delivered is delivered: a second call sends nothing */
    ck_assert_msg(tr_notify_deliver(f.st, &c, tr_wall_now(), 5, &res, &e) == TR_OK, "%s", e.msg);
    ck_assert_int_eq(res.attempts, 0);
    ck_assert_int_eq(rcv_log(&r, log, 64), 19);
    tr_outbox_sink_info in;
    ck_assert_msg(tr_store_outbox_info(f.st, c.sinks[0].id, &in, &e) == TR_OK, "%s", e.msg);
    ck_assert_int_eq(in.delivered, 5);
    ck_assert_int_eq(in.pending, 0);
    rcv_stop(&r);
    fx_close(&f);
}
END_TEST

/* A 404 gives the event up at once (recorded) and the next event goes; a sink down keeps its
 * event pending with the retry time, without blocking the call past its budget. */
START_TEST(test_give_up_and_down)
{
    fixture f;
    if (!fx_open(&f, _i))
        return;
    rcv r;
    rcv_start(&r, f.dir, "{\"/g\": [\"404\"], \"/h\": [\"500\", \"500\", \"500\", \"500\"]}");
    add_events(f.st, 1, 2);
    tr_notify_config c;
    const char *paths[] = {"/g", "/h"}, *kinds[] = {"json", "json"};
    config_for(&c, &r, paths, kinds, 2);
    c.retry_base = 5; /* /h's retry falls after the budget */
    c.retry_max = 10;
    tr_notify_result res;
    tr_error e;
    double t0 = tu_now();
    ck_assert_msg(tr_notify_deliver(f.st, &c, tr_wall_now(), 3, &res, &e) == TR_OK, "%s", e.msg);
    ck_assert_msg(tu_now() - t0 < 3.5, "took %.1f s", tu_now() - t0);
    ck_assert_int_eq(res.given_up, 1);
    ck_assert_int_eq(res.delivered, 1); /* /g: event 2; /h: none */
    ck_assert_msg(res.next_due > tr_wall_now(), "next due %lld", (long long)res.next_due);
    ck_assert_ptr_nonnull(strstr(res.last_error, "HTTP 500"));
    ck_assert_ptr_null(strstr(res.last_error, SECRET));
    tr_outbox_sink_info in;
    ck_assert_msg(tr_store_outbox_info(f.st, c.sinks[0].id, &in, &e) == TR_OK, "%s", e.msg);
    ck_assert_int_eq(in.given_up, 1);
    ck_assert_int_eq(in.delivered, 1);
    ck_assert_msg(tr_store_outbox_info(f.st, c.sinks[1].id, &in, &e) == TR_OK, "%s", e.msg);
    ck_assert_int_eq(in.pending, 2);
    ck_assert_int_eq(in.head_attempts, 1);
    ck_assert_ptr_nonnull(strstr(in.head_error, "HTTP 500"));
    /* not due yet: a call now sends nothing to /h */
    ck_assert_msg(tr_notify_deliver(f.st, &c, tr_wall_now(), 2, &res, &e) == TR_OK, "%s", e.msg);
    ck_assert_int_eq(res.attempts, 0);
    /* past the give-up time: the next failure gives it up, and the order moves on */
    c.give_up = 1;
    ck_assert_msg(tr_notify_deliver(f.st, &c, tr_wall_now() + 10, 3, &res, &e) == TR_OK, "%s",
                  e.msg);
    ck_assert_int_eq(res.given_up, 2);
    ck_assert_ptr_nonnull(strstr(res.last_error, "gave up after"));
    rcv_stop(&r);
    fx_close(&f);
}
END_TEST

/* Two senders at once on one sink: one holds it, the other is told at once (busy). */
START_TEST(test_one_sender_per_sink)
{
    fixture f;
    if (!fx_open(&f, _i))
        return;
    add_events(f.st, 1, 2);
    tr_store *other;
    tr_store_options o = {.models_dir = f.models};
    tr_error e;
    ck_assert_msg(tr_store_open(f.loc, &o, &other, &e) == TR_OK, "%s", e.msg);
    int64_t l1, l2, next;
    tr_outbox_delivery *list = NULL;
    size_t n;
    ck_assert_msg(tr_store_outbox_claim(f.st, "s1", tr_wall_now(), -1, 30, 10, &l1, &list, &n,
                                        &next, &e) == TR_OK,
                  "%s", e.msg);
    ck_assert_int_eq(n, 2);
    free(list);
    ck_assert_int_eq(
        tr_store_outbox_claim(other, "s1", tr_wall_now(), -1, 30, 10, &l2, &list, &n, &next, &e),
        TR_ERR_CONFLICT);
    /* another sink is free */
    ck_assert_msg(tr_store_outbox_claim(other, "s2", tr_wall_now(), -1, 30, 10, &l2, &list, &n,
                                        &next, &e) == TR_OK,
                  "%s", e.msg);
    free(list);
    tr_store_outbox_release(other, "s2", l2);
    tr_outbox_attempt a;
    memset(&a, 0, sizeof a);
    a.event_id = 1;
    a.state = TR_OUTBOX_DELIVERED;
    a.at = tr_wall_now();
    a.http_status = 200;
    ck_assert_msg(tr_store_outbox_record(f.st, "s1", l1, &a, &e) == TR_OK, "%s", e.msg);
    tr_store_outbox_release(f.st, "s1", l1);
    ck_assert_msg(tr_store_outbox_claim(other, "s1", tr_wall_now(), -1, 30, 10, &l2, &list, &n,
                                        &next, &e) == TR_OK,
                  "%s", e.msg);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(list[0].ev.id, 2);
    free(list);
    if (f.pg) {
        /* a stale holder (its lease taken over) records nothing: the fencing token */
        ck_assert_int_eq(pu_psql(f.loc,
                                 "UPDATE outbox_sink SET leased_until = now() - "
                                 "interval '1 s' WHERE sink = 's1'",
                                 NULL, 0),
                         0);
        int64_t l3;
        ck_assert_msg(tr_store_outbox_claim(f.st, "s1", tr_wall_now(), -1, 30, 10, &l3, &list, &n,
                                            &next, &e) == TR_OK,
                      "%s", e.msg);
        free(list);
        a.event_id = 2;
        ck_assert_int_eq(tr_store_outbox_record(other, "s1", l2, &a, &e), TR_ERR_CONFLICT);
        ck_assert_msg(tr_store_outbox_record(f.st, "s1", l3, &a, &e) == TR_OK, "%s", e.msg);
        tr_store_outbox_release(f.st, "s1", l3);
    }
    tr_store_outbox_release(other, "s1", l2);
    tr_store_close(other);
    fx_close(&f);
}
END_TEST

/* The monthly report to Discord: multipart with payload_json, the Markdown and its picture. */
START_TEST(test_monthly_report_attachments)
{
    fixture f;
    if (!fx_open(&f, _i))
        return;
    rcv r;
    rcv_start(&r, f.dir, "{}");
    char *md = tu_write(f.dir, "rank-2025-03-01.md",
                        "# Ranking\n\n![equity](rank-2025-03-01-equity.png)\n");
    char *png = tu_write(f.dir, "rank-2025-03-01-equity.png", "\x89PNG\r\n\x1a\nfakepicture");
    tr_log_row row;
    memset(&row, 0, sizeof row);
    snprintf(row.cycle, sizeof row.cycle, "rank");
    snprintf(row.verdict, sizeof row.verdict, "activated");
    snprintf(row.version, sizeof row.version, "v1.0");
    row.candidate_value = row.active_value = NAN;
    tr_reg_txn t;
    memset(&t, 0, sizeof t);
    t.log = &row;
    t.n_log = 1;
    t.report = md;
    t.now = tr_wall_now();
    tr_error e;
    ck_assert_msg(tr_store_registry_commit(f.st, &t, &e) == TR_OK, "%s", e.msg);
    tr_notify_config c;
    const char *paths[] = {"/m"}, *kinds[] = {"discord"};
    config_for(&c, &r, paths, kinds, 1);
    tr_notify_result res;
    ck_assert_msg(tr_notify_deliver(f.st, &c, tr_wall_now(), 10, &res, &e) == TR_OK, "%s", e.msg);
    ck_assert_int_eq(res.delivered, 1);
    req log[4];
    ck_assert_int_eq(rcv_log(&r, log, 4), 1);
    ck_assert_str_eq(log[0].ctype, "multipart/form-data");
    char *body = rcv_file(&r, "body", 1);
    ck_assert_ptr_nonnull(strstr(body, "name=\"payload_json\""));
    ck_assert_ptr_nonnull(strstr(body, "\"attachments\":[{\"id\":0,\"filename\":\"rank-"));
    ck_assert_ptr_nonnull(strstr(body, "name=\"files[0]\"; filename=\"rank-2025-03-01.md\""));
    ck_assert_ptr_nonnull(
        strstr(body, "name=\"files[1]\"; filename=\"rank-2025-03-01-equity.png\""));
    ck_assert_ptr_nonnull(strstr(body, "# Ranking"));
    ck_assert_ptr_nonnull(strstr(body, "Monthly ranking"));
    free(body);
    free(md);
    free(png);
    rcv_stop(&r);
    fx_close(&f);
}
END_TEST

/* ---- the program: kill -9 mid-delivery, secrets ------------------------------------------- */

#define run(dir, ...) tu_run(AIFX_TRAIN_EXE, dir, __VA_ARGS__)

START_TEST(test_kill9_mid_delivery_loses_nothing)
{
    fixture f;
    if (!fx_open(&f, _i))
        return;
    rcv r;
    rcv_start(&r, f.dir, "{\"/k\": [\"200\", \"hang:20\"]}");
    /* the sender's timeout (5 s) is past the kill; its budget (6 s) bounds a PostgreSQL lease */
    add_events(f.st, 1, 4);
    char conf[4200], text[512];
    tr_error e;
    ck_assert(tr_store_path(f.st, TR_AREA_FILES, "notify.conf", conf, sizeof conf, &e) == TR_OK);
    snprintf(text, sizeof text,
             "# test sinks\ntimeout=5\nretry_base=0.3\njson=http://127.0.0.1:%d/k/" SECRET
             " name=killme\n",
             r.port);
    FILE *cf = fopen(conf, "w");
    ck_assert_ptr_nonnull(cf);
    fputs(text, cf);
    fclose(cf);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        dup2(fd, 2);
        execl(AIFX_TRAIN_EXE, AIFX_TRAIN_EXE, "--models-dir", f.models, "notify", "--once",
              "--budget", "6", "--store", f.loc, (char *)NULL);
        _exit(127);
    }
    /* the second request (event 2) has arrived and hangs: kill the sender there */
    req log[32];
    int n = 0;
    for (int i = 0; i < 400 && n < 2; i++) {
        n = rcv_log(&r, log, 32);
        if (n < 2)
            nap(0.025);
    }
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    int status;
    waitpid(pid, &status, 0);
    ck_assert(WIFSIGNALED(status));
    /* again: event 2 is sent again with the same key, then 3 and 4; nothing lost. A PostgreSQL
     * claim of the dead sender lapses after its lease (budget + 5 s). */
    double t0 = tu_now();
    int code;
    do {
        code =
            run(f.dir, "--models-dir '%s' notify --once --budget 3 --store '%s'", f.models, f.loc);
        n = rcv_log(&r, log, 32);
        if (n < 5)
            sleep(1);
    } while (code == 0 && n < 5 && tu_now() - t0 < 25);
    ck_assert_int_eq(code, 0);
    ck_assert_int_eq(n, 5);
    ck_assert_int_eq(check_once_in_order(log, n, "/k/", 4), 5);
    ck_assert_str_eq(log[1].key, log[2].key); /* at-least-once, one key */
    ck_assert_int_eq(key_event(log[1].key), 2);
    ck_assert_str_eq(log[1].key, "aifx-killme-2");
    ck_assert(!tu_output_has(f.dir, SECRET));
    rcv_stop(&r);
    fx_close(&f);
}
END_TEST

/* run-due delivers at its end what its cycles announced (here: failed cycles on too few bars). */
START_TEST(test_run_due_delivers)
{
    fixture f;
    if (!fx_open(&f, _i))
        return;
    rcv r;
    rcv_start(&r, f.dir, "{}");
    ck_assert_int_eq(run(f.dir,
                         "--models-dir '%s' synth --pair EURUSD --from 2025-01-01 --to 2025-01-03 "
                         "--store '%s'",
                         f.models, f.loc),
                     0);
    char conf[4200], text[256];
    tr_error e;
    ck_assert(tr_store_path(f.st, TR_AREA_FILES, "notify.conf", conf, sizeof conf, &e) == TR_OK);
    snprintf(text, sizeof text, "json=http://127.0.0.1:%d/rd/" SECRET "\n", r.port);
    FILE *cf = fopen(conf, "w");
    ck_assert_ptr_nonnull(cf);
    fputs(text, cf);
    fclose(cf);
    run(f.dir, "--models-dir '%s' run-due --as-of 2025-01-03T03:00 --store '%s'", f.models, f.loc);
    ck_assert(!tu_output_has(f.dir, SECRET));
    req log[8];
    int n = rcv_log(&r, log, 8);
    ck_assert_int_eq(n, 2); /* the weekly retrain and the daily fine-tune failed */
    char *body = rcv_file(&r, "body", 1);
    ck_assert_msg(strstr(body, "\"kind\":\"training_failed\"") &&
                      strstr(body, "\"cycle\":\"full\""),
                  "%s", body);
    free(body);
    unlink(conf);
    rcv_stop(&r);
    fx_close(&f);
}
END_TEST

/* No output of notify shows a sink's URL (token, path), whatever the webhook does. */
START_TEST(test_urls_never_printed)
{
    fixture f;
    if (!fx_open(&f, _i))
        return;
    rcv r;
    rcv_start(&r, f.dir, "{\"/s\": [\"500\", \"404\"]}");
    add_events(f.st, 1, 1);
    char live[512], dead[512];
    snprintf(live, sizeof live,
             "discord=http://u:pw" SECRET "@127.0.0.1:%d/s/api/webhooks/9/" SECRET "?x=" SECRET,
             r.port);
    snprintf(dead, sizeof dead, "slack=http://127.0.0.1:1/services/T0/B0/" SECRET);
    const char *const forms[] = {
        "notify --once --budget 2",
        "notify --once --budget 2 --json",
        "notify --status",
        "notify test --budget 2",
        "notify --once --budget 2 --notify 'discord=ftp://x/" SECRET "'",
        "notify --once --budget 2 --notify 'teams=http://x/" SECRET "'",
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        int code = run(f.dir, "--models-dir '%s' %s --notify '%s' --notify '%s' --store '%s'",
                       f.models, forms[i], live, dead, f.loc);
        ck_assert_msg(code >= 0, "%s: killed", forms[i]);
        ck_assert_msg(!tu_output_has(f.dir, SECRET), "%s printed the URL", forms[i]);
        ck_assert_msg(!tu_output_has(f.dir, "/9/"), "%s printed the URL's path", forms[i]);
    }
    /* the sinks are named in their redacted form */
    ck_assert_int_eq(run(f.dir, "--models-dir '%s' notify --status --notify '%s' --store '%s'",
                         f.models, live, f.loc),
                     0);
    char want[128];
    snprintf(want, sizeof want, "discord:http://127.0.0.1:%d/***", r.port);
    ck_assert_msg(tu_output_has(f.dir, want), "no %s", want);
    /* nor is it stored: the delivery state and the outbox know the sink by its id */
    if (!f.pg) {
        char cmd[4400];
        snprintf(cmd, sizeof cmd, "grep -rq '%s' '%s/store'", SECRET, f.dir);
        ck_assert_int_ne(system(cmd), 0);
    } else {
        ck_assert_int_eq(pu_value(f.loc, "SELECT count(*) FROM outbox_delivery WHERE error LIKE "
                                         "'%" SECRET "%' OR sink LIKE '%" SECRET "%'"),
                         0);
    }
    char red[192];
    tr_notify_redact("discord", "https://discord.com/api/webhooks/123/" SECRET, red, sizeof red);
    ck_assert_str_eq(red, "discord:https://discord.com/api/webhooks/***");
    tr_notify_redact("slack", "https://hooks.slack.com/services/T1/B2/" SECRET, red, sizeof red);
    ck_assert_str_eq(red, "slack:https://hooks.slack.com/services/***");
    rcv_stop(&r);
    fx_close(&f);
}
END_TEST

static Suite *notify_suite(void)
{
    Suite *s = suite_create("notify");
    TCase *tc = tcase_create("events");
    tcase_add_test(tc, test_derived_events);
    tcase_add_loop_test(tc, test_failed_change_announces_nothing, 0, 2);
    tcase_add_loop_test(tc, test_one_sender_per_sink, 0, 2);
    suite_add_tcase(s, tc);
    TCase *td = tcase_create("delivery");
    tcase_set_timeout(td, 120);
    tcase_add_loop_test(td, test_delivery_through_429_500_and_a_hang, 0, 2);
    tcase_add_loop_test(td, test_give_up_and_down, 0, 2);
    tcase_add_loop_test(td, test_monthly_report_attachments, 0, 2);
    tcase_add_loop_test(td, test_kill9_mid_delivery_loses_nothing, 0, 2);
    tcase_add_loop_test(td, test_urls_never_printed, 0, 2);
    tcase_add_loop_test(td, test_run_due_delivers, 0, 2);
    suite_add_tcase(s, td);
    return s;
}

AIFX_CHECK_MAIN(notify_suite)
