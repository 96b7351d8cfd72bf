/*
 * check_pg.c - what only the PostgreSQL store has, on the private test server of
 * scripts/lib/pg.sh ($AIFX_TEST_PG; every case skips with a message without it), each case in a
 * fresh database of its own:
 *   migrations: a new database is refused until `db migrate`; migrate twice changes nothing;
 *       two migrations at once apply it once; a schema_migrations row from the future is
 *       refused by every command and by migrate; a directory store has no schema; a server that
 *       is not there is a store error naming the location without its password;
 *   events: `aifx-train listen` sees new_market_data, training_completed and model_deployed
 *       with their payloads; transactions that fail at COMMIT (after their NOTIFY) announce
 *       nothing and write nothing;
 *   hostile input: quotes, semicolons and SQL in metadata are stored and read back verbatim;
 *       pair and version names with them are refused by the name rules (before any SQL, shown
 *       in the fault case with the server down) and kept verbatim when given to the backend
 *       directly;
 *   fault: the server stopped in the middle of a full retrain (aifx-train full, stopped with
 *       SIGSTOP after its first epoch while the server goes down): exit 5 with a clear error,
 *       no new row, the active model unchanged; the server started again, run-due catches up;
 *   two run-due processes against one database run each due cycle exactly once;
 *   a week's replay ends in the same versions, activations, log and signals as on a
 *       directory store.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include <check.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../check_main.h"
#include "base/csv.h"
#include "base/fsutil.h"
#include "base/timeutil.h"
#include "cycles/replay.h"
#include "cycles/schedule.h"
#include "market/synth.h"
#include "pgutil.h"
#include "store/backend.h" /* the backend table, reached directly */
#include "store/sql/migrations.h"
#include "store/store.h"
#include "testutil.h"

#define M15 900

/* A fresh database (migrated when asked), a temporary directory for models, the cwd there. */
typedef struct fixture {
    char *ci, *dir, *models;
    char cwd[4096];
} fixture;

static int fx_open(fixture *f, int migrate)
{
    memset(f, 0, sizeof *f);
    if (!pu_server())
        return 0;
    f->ci = pu_create_db(migrate);
    f->dir = tu_tempdir();
    f->models = tu_path(f->dir, "models");
    setenv("AIFX_MODELS_DIR", f->models, 1);
    ck_assert_ptr_nonnull(getcwd(f->cwd, sizeof f->cwd));
    ck_assert_int_eq(chdir(f->dir), 0); /* nothing lands in the build tree */
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
    /* the models directory as the command line gives it to the store ($AIFX_MODELS_DIR, which the
     * fixture sets for the program's runs) */
    tr_store_options o = {.create = 1, .models_dir = getenv("AIFX_MODELS_DIR")};
    tr_code rc = tr_store_open(location, &o, &s, &e);
    ck_assert_msg(rc == TR_OK, "open %s: %s", location, e.msg);
    return s;
}

#define run(dir, ...) tu_run(AIFX_TRAIN_EXE, dir, __VA_ARGS__)

/* ---- a child process with its output on a pipe ------------------------------------------- */

typedef struct child {
    pid_t pid;
    int fd;          /* its standard output and error */
    char buf[65536]; /* everything read so far */
    size_t n;
} child;

static void child_start(child *c, char *const argv[])
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
        execv(argv[0], argv);
        _exit(127);
    }
    close(p[1]);
    c->fd = p[0];
}

/* Reads until text appears in the output (1) or the time is up or the output ends (0). */
static int child_wait_for(child *c, const char *text, double seconds)
{
    double end = tu_now() + seconds;
    while (!strstr(c->buf, text)) {
        double left = end - tu_now();
        if (left <= 0)
            return 0;
        struct pollfd pf = {c->fd, POLLIN, 0};
        if (poll(&pf, 1, (int)(left * 1000) + 1) <= 0)
            continue;
        ssize_t k = read(c->fd, c->buf + c->n, sizeof c->buf - 1 - c->n);
        if (k <= 0)
            return strstr(c->buf, text) != NULL;
        c->n += (size_t)k;
        c->buf[c->n] = '\0';
    }
    return 1;
}

/* Reads to the end and returns the exit status (-1 if killed by a signal). */
static int child_finish(child *c)
{
    child_wait_for(c, "\x01never\x01", 600);
    close(c->fd);
    int st;
    ck_assert_int_eq(waitpid(c->pid, &st, 0), c->pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- migrations ------------------------------------------------------------------------------ */

START_TEST(test_migrations)
{
    fixture f;
    if (!fx_open(&f, 0))
        return;
    tr_store *s;
    tr_error e;
    /* a new database: refused until migrated */
    ck_assert_int_eq(tr_store_open(f.ci, &(tr_store_options){.create = 1}, &s, &e), TR_ERR_VERSION);
    const int latest = tr_pg_migrations[tr_pg_n_migrations - 1].version;
    char want[128];
    snprintf(want, sizeof want,
             "schema at version 0, this program needs %d: run aifx-train db "
             "migrate",
             latest);
    ck_assert_msg(strstr(e.msg, want) != NULL, "%s", e.msg);
    ck_assert_int_eq(run(f.dir, "bars --store '%s'", f.ci), 5);
    ck_assert(tu_output_has(f.dir, "db migrate"));
    /* two migrations at once: one applies, the other waits and finds it current */
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        ck_assert_int_ge(kids[k], 0);
        if (kids[k] == 0) {
            tr_migrate_result r;
            _exit(tr_store_migrate(f.ci, &r, &e) == TR_OK ? 0 : 1);
        }
    }
    for (int k = 0; k < 2; k++) {
        int st;
        ck_assert_int_eq(waitpid(kids[k], &st, 0), kids[k]);
        ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    ck_assert_int_eq(pu_value(f.ci, "SELECT count(*) FROM schema_migrations"), latest);
    /* migrate again (the command): nothing to do, nothing changed; everything is in the store's
     * own schema, nothing in public */
    long long n_objects = pu_value(f.ci, "SELECT count(*) FROM pg_class WHERE relnamespace = "
                                         "'aifx'::regnamespace");
    ck_assert_int_gt(n_objects, 10);
    ck_assert_int_eq(pu_value(f.ci, "SELECT count(*) FROM pg_class WHERE relnamespace = "
                                    "'public'::regnamespace"),
                     0);
    ck_assert_int_eq(run(f.dir, "db migrate --store '%s'", f.ci), 0);
    snprintf(want, sizeof want, "schema at version %d, current; nothing to do", latest);
    ck_assert(tu_output_has(f.dir, want));
    ck_assert_int_eq(pu_value(f.ci, "SELECT count(*) FROM schema_migrations"), latest);
    ck_assert_int_eq(pu_value(f.ci, "SELECT count(*) FROM pg_class WHERE relnamespace = "
                                    "'aifx'::regnamespace"),
                     n_objects);
    s = open_ok(f.ci);
    char dir[4400];
    ck_assert_int_eq(tr_store_path(s, TR_AREA_MODELS, NULL, dir, sizeof dir, &e), TR_OK);
    ck_assert_str_eq(dir, f.models); /* the models directory given to open */
    ck_assert_int_eq(tr_store_path(s, TR_AREA_FILES, NULL, dir, sizeof dir, &e), TR_OK);
    ck_assert_str_eq(dir, f.dir); /* beside the models */
    tr_store_close(s);
    /* a schema from the future: refused by every command and by migrate */
    ck_assert_int_eq(
        pu_psql(f.ci, "INSERT INTO schema_migrations VALUES (999, '999_future');", NULL, 0), 0);
    ck_assert_int_eq(tr_store_open(f.ci, &(tr_store_options){.create = 1}, &s, &e), TR_ERR_VERSION);
    ck_assert_ptr_nonnull(strstr(e.msg, "schema at version 999 is newer than this program knows"));
    ck_assert_int_eq(run(f.dir, "versions --store '%s'", f.ci), 5);
    ck_assert(tu_output_has(f.dir, "newer than this program"));
    ck_assert_int_eq(run(f.dir, "db migrate --store '%s'", f.ci), 5);
    ck_assert(tu_output_has(f.dir, "newer than this program"));
    /* a directory store has no schema; the default models directory of a PostgreSQL store */
    ck_assert_int_eq(run(f.dir, "db migrate --store '%s/dirstore'", f.dir), 8);
    ck_assert_int_eq(run(f.dir, "db"), 2);
    ck_assert_int_eq(run(f.dir, "db frobnicate"), 2);
    ck_assert_int_eq(run(f.dir, "db --help"), 0);
    fx_close(&f);
}
END_TEST

START_TEST(test_unreachable)
{
#ifndef AIFX_WITH_POSTGRESQL
    fprintf(stderr, "SKIP: built without PostgreSQL (AIFX_WITH_POSTGRESQL=OFF)\n");
    return;
#endif
    tr_store *s;
    tr_error e;
    char *dir = tu_tempdir();
    /* a URI with a password, a keyword string with one: neither shows in the message */
    char loc[4300];
    snprintf(loc, sizeof loc, "postgresql://aifx:s3cret@/aifx?host=%s&port=1", dir);
    ck_assert_int_eq(tr_store_open(loc, NULL, &s, &e), TR_ERR_STORE);
    ck_assert_ptr_nonnull(strstr(e.msg, "cannot connect to PostgreSQL"));
    ck_assert_ptr_nonnull(strstr(e.msg, "postgresql://aifx:***@/aifx?host="));
    ck_assert_ptr_null(strstr(e.msg, "s3cret"));
    snprintf(loc, sizeof loc, "host=%s port=1 password='s3 cret' dbname=aifx", dir);
    ck_assert_int_eq(tr_store_open(loc, NULL, &s, &e), TR_ERR_STORE);
    ck_assert_ptr_nonnull(strstr(e.msg, "password=*** dbname=aifx"));
    ck_assert_ptr_null(strstr(e.msg, "s3"));
    snprintf(loc, sizeof loc, "postgresql://aifx:s3cret@/aifx?host=%s&port=1", dir);
    ck_assert_int_eq(run(dir, "bars --store '%s'", loc), 5);
    ck_assert(tu_output_has(dir, "cannot connect"));
    ck_assert(!tu_output_has(dir, "s3cret"));
    /* which locations are PostgreSQL */
    ck_assert(tr_store_location_is_pg("postgres://h/db"));
    ck_assert(tr_store_location_is_pg("dbname=aifx"));
    ck_assert(tr_store_location_is_pg("host=/run/pg dbname=aifx"));
    ck_assert(!tr_store_location_is_pg("./aifx-data"));
    ck_assert(!tr_store_location_is_pg("/data/a=b"));
    /* listen on a directory store */
    ck_assert_int_eq(run(dir,
                         "synth --pair EURUSD --from 2024-01-01 --to 2024-01-02 --store "
                         "'%s/d'",
                         dir),
                     0);
    ck_assert_int_eq(run(dir, "listen --timeout 1 --store '%s/d'", dir), 8);
    ck_assert_int_eq(run(dir, "listen --count 0 --store '%s/d'", dir), 2);
    ck_assert_int_eq(run(dir, "--models-dir"), 2);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* ---- events ------------------------------------------------------------------------------------
 */

static void bars_of(tr_bar *b, size_t n, int64_t t0, unsigned seed)
{
    tu_walk(b, n, t0, M15, seed, 1.1);
}

static tr_version version_named(const char *name)
{
    tr_version v;
    memset(&v, 0, sizeof v);
    snprintf(v.version, sizeof v.version, "%s", name);
    v.status = TR_VS_COMPLETED;
    v.type = TR_VT_FULL;
    return v;
}

/* A commit-time failure for a test: a deferred constraint trigger that raises at COMMIT for
 * market_data rows of pair ZZZFAIL and model_versions rows named v9.9. */
static const char fail_at_commit_sql[] =
    "CREATE FUNCTION aifxt_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION "
    "'refused at commit by the test'; END $$;\n"
    "CREATE CONSTRAINT TRIGGER aifxt_fail_md AFTER INSERT ON market_data DEFERRABLE INITIALLY "
    "DEFERRED FOR EACH ROW WHEN (NEW.pair = 'ZZZFAIL') EXECUTE FUNCTION aifxt_fail();\n"
    "CREATE CONSTRAINT TRIGGER aifxt_fail_mv AFTER INSERT ON model_versions DEFERRABLE INITIALLY "
    "DEFERRED FOR EACH ROW WHEN (NEW.version = 'v9.9') EXECUTE FUNCTION aifxt_fail();\n";

START_TEST(test_events)
{
    fixture f;
    if (!fx_open(&f, 1))
        return;
    ck_assert_int_eq(pu_psql(f.ci, fail_at_commit_sql, NULL, 0), 0);
    tr_store *s = open_ok(f.ci);
    tr_error e;
    child c;
    char *const argv[] = {AIFX_TRAIN_EXE, "listen", "--store", f.ci, "--count", "3",
                          "--timeout",    "60",     NULL};
    child_start(&c, argv);
    ck_assert_msg(child_wait_for(&c, "listening on", 30), "listen: %s", c.buf);

    /* a commit that fails at COMMIT, after its NOTIFY: nothing announced, nothing written */
    tr_bar b[10];
    bars_of(b, 10, T("2024-01-02"), 1);
    tr_put_stats st;
    tr_code rc = s->ops->bars_put(s, "ZZZFAIL", M15, b, 10, 0, &st, &e);
    ck_assert_int_ne(rc, TR_OK);
    ck_assert_ptr_nonnull(strstr(e.msg, "refused at commit by the test"));
    tr_version v99 = version_named("v9.9");
    tr_reg_txn t = {0};
    t.put = &v99;
    t.n_put = 1;
    ck_assert_int_ne(tr_store_registry_commit(s, &t, &e), TR_OK);
    ck_assert_ptr_nonnull(strstr(e.msg, "refused at commit"));
    ck_assert_int_eq(pu_value(f.ci, "SELECT count(*) FROM market_data"), 0);
    ck_assert_int_eq(pu_value(f.ci, "SELECT count(*) FROM model_versions"), 0);
    /* a put that adds nothing announces nothing either (the events below are the first) */

    /* then the real events, in order */
    ck_assert_int_eq(tr_store_bars_put(s, "EURUSD", M15, b, 10, 0, &st, &e), TR_OK);
    ck_assert_int_eq(tr_store_bars_put(s, "EURUSD", M15, b, 10, 0, &st, &e), TR_OK);
    tr_version v = version_named("v1.0");
    tr_log_row lr;
    memset(&lr, 0, sizeof lr);
    snprintf(lr.cycle, sizeof lr.cycle, "full");
    snprintf(lr.version, sizeof lr.version, "v1.0");
    lr.candidate_value = lr.active_value = NAN;
    tr_activation a = {0, "", "v1.0", 0, "first_model", "{}"};
    t = (tr_reg_txn){0};
    t.put = &v;
    t.n_put = 1;
    t.log = &lr;
    t.n_log = 1;
    t.activate = &a;
    t.now = T("2024-01-05T00:00");
    ck_assert_int_eq(tr_store_registry_commit(s, &t, &e), TR_OK);
    ck_assert_int_eq(child_finish(&c), 0);
    const char *l1 = strstr(c.buf, "new_market_data\t");
    const char *l2 = strstr(c.buf, "training_completed\t");
    const char *l3 = strstr(c.buf, "model_deployed\t");
    ck_assert_msg(l1 && l2 && l3 && l1 < l2 && l2 < l3, "events: %s", c.buf);
    ck_assert_ptr_nonnull(strstr(c.buf,
                                 "new_market_data\t{\"pair\":\"EURUSD\",\"timeframe\":\"15m\","
                                 "\"n_added\":10,\"first\":\"2024-01-02T00:00:00Z\","
                                 "\"last\":\"2024-01-02T02:15:00Z\"}\n"));
    ck_assert_ptr_nonnull(strstr(c.buf, "training_completed\t{\"version\":\"v1.0\",\"type\":"
                                        "\"full\",\"status\":\"deployed\",\"cycle\":\"full\"}\n"));
    ck_assert_ptr_nonnull(strstr(c.buf, "model_deployed\t{\"from\":\"\",\"to\":\"v1.0\",\"reason\":"
                                        "\"first_model\",\"at\":\"2024-01-05T00:00:00Z\"}\n"));
    ck_assert_ptr_null(strstr(c.buf, "ZZZFAIL"));
    ck_assert_ptr_null(strstr(c.buf, "v9.9"));

    /* a listener that times out with fewer events than asked: exit 6; one channel only */
    ck_assert_int_eq(run(f.dir,
                         "listen --store '%s' --channel model_deployed --count 1 "
                         "--timeout 0.5",
                         f.ci),
                     6);
    ck_assert_int_eq(run(f.dir, "listen --store '%s' --channel 'bad;name' --timeout 0.5", f.ci), 2);

    /* a recorded signal and its outcome: new_prediction, then signal_outcome */
    char *const argv2[] = {AIFX_TRAIN_EXE,
                           "listen",
                           "--store",
                           f.ci,
                           "--channel",
                           "new_prediction",
                           "--channel",
                           "signal_outcome",
                           "--count",
                           "2",
                           "--timeout",
                           "60",
                           NULL};
    child_start(&c, argv2);
    ck_assert_msg(child_wait_for(&c, "listening on", 30), "listen: %s", c.buf);
    tr_signal g;
    memset(&g, 0, sizeof g);
    snprintf(g.pair, sizeof g.pair, "EURUSD");
    g.timeframe = M15;
    g.bar_time = b[5].t;
    g.signal = 1; /* buy */
    g.confidence = g.probs[1] = 0.75;
    g.probs[0] = 0.25;
    snprintf(g.model_version, sizeof g.model_version, "v1.0");
    snprintf(g.outcome, sizeof g.outcome, "open");
    ck_assert_int_eq(tr_store_signal_put(s, &g, &e), TR_OK);
    snprintf(g.outcome, sizeof g.outcome, "win");
    g.exit_time = b[7].t;
    g.pnl_pips = 12.5;
    g.reported = 1;
    ck_assert_int_eq(tr_store_signals_update(s, &g, 1, &e), TR_OK);
    ck_assert_int_eq(child_finish(&c), 0);
    char want[512];
    snprintf(want, sizeof want,
             "new_prediction\t{\"count\":1,\"signals\":[{\"id\":%lld,\"pair\":\"EURUSD\","
             "\"bar_time\":\"2024-01-02T01:15:00Z\",\"signal\":\"buy\",\"model_version\":\"v1.0\","
             "\"ab_test_id\":null}],\"more\":0}\n",
             (long long)g.id);
    ck_assert_msg(strstr(c.buf, want) != NULL, "events: %s", c.buf);
    ck_assert_msg(strstr(c.buf, "signal_outcome\t{\"count\":1,") &&
                      strstr(c.buf, "\"outcome\":\"win\",\"pnl_pips\":12.5,\"reported\":true}"),
                  "events: %s", c.buf);
    tr_signal *back;
    size_t nb;
    ck_assert_int_eq(tr_store_signals_get(s, "EURUSD", INT64_MIN, INT64_MAX, &back, &nb, &e),
                     TR_OK);
    ck_assert_uint_eq(nb, 1);
    ck_assert(back[0].reported && strcmp(back[0].outcome, "win") == 0);
    free(back);
    tr_store_close(s);
    fx_close(&f);
}
END_TEST

/* ---- hostile input -------------------------------------------------------------------------- */

static const char *const evil[] = {
    "'); DROP TABLE model_versions; --",
    "\"quoted\" 'single' ;semi; \\backslash\\ $1 $$dollar$$ %s %n",
    "line\nbreak\ttab; DELETE FROM market_data WHERE '1'='1",
};

START_TEST(test_hostile)
{
    fixture f;
    if (!fx_open(&f, 1))
        return;
    tr_store *s = open_ok(f.ci);
    tr_error e;
    /* metadata with quotes, semicolons and SQL: stored and read back verbatim */
    tr_version v = version_named("v1.0");
    snprintf(v.hyper, sizeof v.hyper, "{\"note\": \"%s\", \"x\": \"'; DROP TABLE x; --\"}",
             "'); DROP TABLE model_versions; --");
    snprintf(v.deprecation_reason, sizeof v.deprecation_reason, "%s", evil[1]);
    snprintf(v.error, sizeof v.error, "%s", evil[2]);
    snprintf(v.checkpoint, sizeof v.checkpoint, "%s", evil[0]);
    snprintf(v.parent, sizeof v.parent, "%s", evil[1]);
    tr_log_row lr;
    memset(&lr, 0, sizeof lr);
    snprintf(lr.cycle, sizeof lr.cycle, "full';--");
    snprintf(lr.reason, sizeof lr.reason, "%s", evil[0]);
    snprintf(lr.error, sizeof lr.error, "%s", evil[2]);
    snprintf(lr.verdict, sizeof lr.verdict, "a'b\"c;d");
    lr.candidate_value = lr.active_value = NAN;
    tr_activation a = {0, "", "v1.0", 0, "x'); --", ""};
    snprintf(a.evidence, sizeof a.evidence, "{\"why\": \"%s\"}",
             "'); DROP TABLE model_versions; --");
    tr_reg_txn t = {0};
    t.put = &v;
    t.n_put = 1;
    t.log = &lr;
    t.n_log = 1;
    t.activate = &a;
    t.now = 1700000000;
    ck_assert_int_eq(tr_store_registry_commit(s, &t, &e), TR_OK);
    tr_version v2 = version_named("v1.1");
    tr_reg_txn t2 = {0};
    t2.put = &v2;
    t2.n_put = 1;
    ck_assert_int_eq(tr_store_registry_commit(s, &t2, &e), TR_OK);
    tr_ab_test ab;
    memset(&ab, 0, sizeof ab);
    snprintf(ab.id, sizeof ab.id, "ab1");
    snprintf(ab.version_a, sizeof ab.version_a, "v1.0");
    snprintf(ab.version_b, sizeof ab.version_b, "v1.1");
    snprintf(ab.origin, sizeof ab.origin, "m'; --");
    snprintf(ab.result, sizeof ab.result, "%s", evil[1]); /* not even JSON */
    ab.split = 0.5;
    tr_reg_txn t3 = {0};
    t3.ab_put = &ab;
    t3.n_ab_put = 1;
    ck_assert_msg(tr_store_registry_commit(s, &t3, &e) == TR_OK, "%s", e.msg);

    tr_registry reg;
    ck_assert_int_eq(tr_store_registry_read(s, &reg, &e), TR_OK);
    ck_assert_uint_eq(reg.n_versions, 2);
    ck_assert_str_eq(reg.versions[0].hyper, v.hyper);
    ck_assert_str_eq(reg.versions[0].deprecation_reason, evil[1]);
    ck_assert_str_eq(reg.versions[0].error, evil[2]);
    ck_assert_str_eq(reg.versions[0].checkpoint, evil[0]);
    ck_assert_str_eq(reg.versions[0].parent, evil[1]);
    ck_assert_str_eq(reg.log[0].cycle, lr.cycle);
    ck_assert_str_eq(reg.log[0].reason, evil[0]);
    ck_assert_str_eq(reg.log[0].error, evil[2]);
    ck_assert_str_eq(reg.log[0].verdict, lr.verdict);
    ck_assert_str_eq(reg.activations[0].reason, a.reason);
    ck_assert_str_eq(reg.activations[0].evidence, a.evidence);
    ck_assert_str_eq(reg.abtests[0].origin, ab.origin);
    ck_assert_str_eq(reg.abtests[0].result, evil[1]);
    tr_registry_free(&reg);
    /* the JSON is queryable as jsonb (and NULL where it is not JSON) */
    char out[512];
    ck_assert_int_eq(pu_psql(f.ci,
                             "SELECT hyperparameters->>'note' FROM model_versions WHERE "
                             "version = 'v1.0';",
                             out, sizeof out),
                     0);
    ck_assert_str_eq(out, "'); DROP TABLE model_versions; --");
    ck_assert_int_eq(pu_value(f.ci, "SELECT count(*) FROM model_ab_test WHERE result IS NULL"), 1);
    ck_assert_int_eq(pu_value(f.ci, "SELECT count(*) FROM model_versions"), 2);

    /* names with such characters: refused by the program's name rules */
    tr_bar b[5];
    bars_of(b, 5, T("2024-01-02"), 2);
    tr_put_stats st;
    ck_assert_int_eq(
        tr_store_bars_put(s, "EUR'; DROP TABLE market_data; --", M15, b, 5, 0, &st, &e),
        TR_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.msg, "bad pair name 'EUR'; DROP TABLE market_data; --'"));
    tr_version bad = version_named("v1'; DROP TABLE model_versions; --");
    t2.put = &bad;
    ck_assert_int_eq(tr_store_registry_commit(s, &t2, &e), TR_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.msg, "bad version name"));
    ck_assert_int_eq(run(f.dir,
                         "synth --pair \"EUR'; DROP TABLE x; --\" --from 2024-01-01 --to "
                         "2024-01-02 --store '%s'",
                         f.ci),
                     2);
    ck_assert(tu_output_has(f.dir, "bad pair name"));
    ck_assert_int_eq(
        run(f.dir, "activate \"v1.0'; DROP TABLE model_versions; --\" --store '%s'", f.ci), 2);
    ck_assert(tu_output_has(f.dir, "v1.0'; DROP TABLE model_versions; --"));
    ck_assert_int_eq(run(f.dir, "full --version-base \"v2'; --\" --store '%s'", f.ci), 2);
    /* given to the backend directly, such names are kept verbatim */
    const char *pairs[2] = {"E'U;R\"--", "'); DROP TABLE market_data; --"};
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(s->ops->bars_put(s, pairs[k], M15, b, 5, 0, &st, &e), TR_OK);
        ck_assert_uint_eq(st.n_added, 5);
        tr_bars got = {0};
        ck_assert_int_eq(s->ops->bars_get(s, pairs[k], M15, INT64_MIN, INT64_MAX, &got, &e), TR_OK);
        ck_assert_uint_eq(got.n, 5);
        ck_assert(tr_bar_equal(&got.v[4], &b[4]));
        tr_bars_free(&got);
    }
    tr_series_info *list;
    size_t n;
    ck_assert_int_eq(tr_store_series_list(s, &list, &n, &e), TR_OK);
    ck_assert_uint_eq(n, 1); /* the long name does not fit a series name; the short one does */
    ck_assert_str_eq(list[0].pair, pairs[0]);
    free(list);
    ck_assert_int_eq(pu_value(f.ci, "SELECT count(DISTINCT pair) FROM market_data"), 2);
    tr_store_close(s);
    fx_close(&f);
}
END_TEST

/* ---- fault: the server stops during a full retrain ----------------------------------------- */

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

START_TEST(test_fault_server_stops)
{
    fixture f;
    if (!fx_open(&f, 1))
        return;
    if (!getenv("AIFX_TEST_PG_STOP") || !getenv("AIFX_TEST_PG_START")) {
        fprintf(stderr, "SKIP: fault case (AIFX_TEST_PG_STOP/START unset)\n");
        fx_close(&f);
        return;
    }
    tr_store *s = open_ok(f.ci);
    tr_error e;
    load_bars(s, "2024-01-01", "2024-04-10");
    /* v1.0, active, by the weekly slot of Sunday March 31st */
    tr_due_opts o = tu_tiny_due("2024-04-01T00:30");
    o.sched.enabled[TR_SLOT_DAILY] = o.sched.enabled[TR_SLOT_MONTHLY] = 0;
    tr_due_result r;
    ck_assert_int_eq(tr_run_due(s, &o, &r, &e), TR_OK);
    tr_registry reg;
    ck_assert_int_eq(tr_store_registry_read(s, &reg, &e), TR_OK);
    ck_assert_uint_eq(reg.n_versions, 1);
    ck_assert_str_eq(tr_registry_active(&reg)->version, "v1.0");
    size_t n_log = reg.n_log, n_act = reg.n_activations;
    tr_registry_free(&reg);

    /* the next weekly retrain as a command; stopped after its first epoch while the server goes
     * down, then let go */
    char *mdir = tu_path(f.dir, "cli-models");
    char *const argv[] = {AIFX_TRAIN_EXE,
                          "--models-dir",
                          mdir,
                          "full",
                          "--as-of",
                          "2024-04-07T01:00",
                          "--months",
                          "2",
                          "--hidden",
                          "8",
                          "--epochs",
                          "2",
                          "--patience",
                          "1",
                          "--store",
                          f.ci,
                          NULL};
    child c;
    child_start(&c, argv);
    ck_assert_msg(child_wait_for(&c, "epoch 1/", 120), "full: %s", c.buf);
    ck_assert_int_eq(kill(c.pid, SIGSTOP), 0);
    ck_assert_int_eq(pu_run_env("AIFX_TEST_PG_STOP"), 0);
    ck_assert_int_eq(kill(c.pid, SIGCONT), 0);
    int code = child_finish(&c);
    fprintf(stderr, "full with the server stopped after its first epoch (exit %d):\n%s", code,
            c.buf);
    ck_assert_msg(code == 5, "full exited %d: %s", code, c.buf);
    ck_assert_msg(strstr(c.buf, "aifx-train: error: store ") && strstr(c.buf, "connection"),
                  "full: %s", c.buf);
    struct stat sb;
    ck_assert_int_eq(stat(mdir, &sb), 0); /* --models-dir before the command was honoured */

    /* with the server down: opening is a store error naming the location; the name rules
     * refuse bad names without reaching SQL (the handle's connection is gone, so a statement
     * would have been a store error too) */
    tr_store *down;
    ck_assert_int_eq(tr_store_open(f.ci, NULL, &down, &e), TR_ERR_STORE);
    ck_assert_ptr_nonnull(strstr(e.msg, f.ci));
    tr_bar b[3];
    bars_of(b, 3, T("2024-05-01"), 3);
    ck_assert_int_eq(
        tr_store_bars_put(s, "EUR'; DROP TABLE market_data; --", M15, b, 3, 0, NULL, &e),
        TR_ERR_INVALID);
    tr_signal g;
    memset(&g, 0, sizeof g);
    snprintf(g.pair, sizeof g.pair, "EURUSD");
    g.timeframe = M15;
    snprintf(g.model_version, sizeof g.model_version, "v1'; --");
    ck_assert_int_eq(tr_store_signal_put(s, &g, &e), TR_ERR_INVALID);
    ck_assert_int_eq(tr_store_bars_put(s, "EURUSD", M15, b, 3, 0, NULL, &e), TR_ERR_STORE);
    ck_assert_int_eq(tr_store_registry_read(s, &reg, &e), TR_ERR_STORE);
    tr_store_close(s);
    ck_assert_int_eq(run(f.dir, "versions --store '%s'", f.ci), 5);

    /* up again: no partial rows, the active model unchanged */
    ck_assert_int_eq(pu_run_env("AIFX_TEST_PG_START"), 0);
    s = open_ok(f.ci);
    ck_assert_int_eq(tr_store_registry_read(s, &reg, &e), TR_OK);
    ck_assert_uint_eq(reg.n_versions, 1);
    ck_assert_uint_eq(reg.n_log, n_log);
    ck_assert_uint_eq(reg.n_activations, n_act);
    ck_assert_str_eq(tr_registry_active(&reg)->version, "v1.0");
    tr_registry_free(&reg);
    ck_assert_int_eq(pu_value(f.ci, "SELECT count(*) FROM model_versions"), 1);
    ck_assert_int_eq(pu_value(f.ci, "SELECT count(*) FROM model_activations"), (long long)n_act);
    /* run-due catches up: the missed weekly retrain runs once */
    o = tu_tiny_due("2024-04-07T12:00");
    o.sched.enabled[TR_SLOT_DAILY] = o.sched.enabled[TR_SLOT_MONTHLY] = 0;
    ck_assert_msg(tr_run_due(s, &o, &r, &e) == TR_OK, "%s", e.msg);
    ck_assert_int_eq(tu_log_rows(s, "full", T("2024-04-07T01:00"), TR_LOG_COMPLETED), 1);
    ck_assert_int_eq(tr_store_registry_read(s, &reg, &e), TR_OK);
    ck_assert_uint_eq(reg.n_versions, 2);
    ck_assert_str_eq(reg.versions[1].version, "v1.1");
    ck_assert_str_eq(tr_registry_active(&reg)->version, "v1.0");
    tr_registry_free(&reg);
    ck_assert_int_eq(tr_run_due(s, &o, &r, &e), TR_OK); /* nothing more is due */
    ck_assert_int_eq(tu_log_rows(s, "full", T("2024-04-07T01:00"), -1), 1);
    tr_store_close(s);
    free(mdir);
    fx_close(&f);
}
END_TEST

/* ---- two run-due processes ---------------------------------------------------------------------
 */

START_TEST(test_two_run_due)
{
    fixture f;
    if (!fx_open(&f, 1))
        return;
    tr_store *s = open_ok(f.ci);
    load_bars(s, "2024-01-01", "2024-05-10");
    tr_store_close(s);
    ck_assert_int_ge(tu_two_run_due(f.ci, "2024-04-04T12:00"), 1);
    s = open_ok(f.ci);
    ck_assert_int_eq(tu_log_rows(s, "full", T("2024-03-31T01:00"), -1), 1);
    ck_assert_int_eq(tu_log_rows(s, "rank", T("2024-04-01T00:00"), -1), 1);
    ck_assert_int_eq(tu_log_rows(s, "incremental", T("2024-04-04T02:00"), -1), 1);
    tr_registry reg;
    tr_error e;
    ck_assert_int_eq(tr_store_registry_read(s, &reg, &e), TR_OK);
    ck_assert_uint_eq(reg.n_versions, 2); /* v1.0 and one daily */
    tr_registry_free(&reg);
    tr_store_close(s);
    fx_close(&f);
}
END_TEST

/* ---- the replay on both stores ------------------------------------------------------------------
 */

static const char *const rpairs[2] = {"EURUSD", "USDJPY"};

START_TEST(test_replay_both_stores)
{
    fixture f;
    if (!fx_open(&f, 1))
        return;
    tr_error e;
    char *csv[2];
    for (int p = 0; p < 2; p++) {
        tr_synth_params sp = tr_synth_params_default(rpairs[p], T("2025-01-15"), T("2025-03-06"),
                                                     (uint64_t)(11 + p));
        tr_bars b = {0};
        int dec;
        ck_assert_int_eq(tr_synth_generate(&sp, &b, &dec, &e), TR_OK);
        char name[32];
        snprintf(name, sizeof name, "%s.csv", rpairs[p]);
        csv[p] = tu_path(f.dir, name);
        ck_assert_int_eq(tr_csv_write(csv[p], b.v, b.n, dec, &e), TR_OK);
        tr_bars_free(&b);
    }
    tr_replay_opts o = tu_tiny_replay(csv, rpairs);
    tr_replay_result r;
    /* the directory store, with its own models */
    unsetenv("AIFX_MODELS_DIR");
    char *sd = tu_path(f.dir, "dirstore");
    tr_store *d = open_ok(sd);
    double t0 = tu_now();
    ck_assert_msg(tr_replay_run(d, &o, &r, &e) == TR_OK, "dir replay: %s", e.msg);
    fprintf(stderr, "replay on the directory store: %.1f s\n", tu_now() - t0);
    tr_replay_result_free(&r);
    /* PostgreSQL, models beside */
    setenv("AIFX_MODELS_DIR", f.models, 1);
    tr_store *p = open_ok(f.ci);
    t0 = tu_now();
    ck_assert_msg(tr_replay_run(p, &o, &r, &e) == TR_OK, "pg replay: %s", e.msg);
    fprintf(stderr, "replay on PostgreSQL: %.1f s\n", tu_now() - t0);
    /* its report and state beside the models directory, not under the connection string */
    ck_assert_msg(strncmp(r.report_path, f.dir, strlen(f.dir)) == 0 &&
                      strstr(r.report_path, "dbname=") == NULL,
                  "report at %s (expected under %s)", r.report_path, f.dir);
    tr_replay_result_free(&r);

    /* the same end state; the directory store keeps probabilities to 9 significant digits */
    tu_assert_same_state(d, p, 1e-8);
    tr_registry reg;
    ck_assert_int_eq(tr_store_registry_read(p, &reg, &e), TR_OK);
    ck_assert_uint_ge(reg.n_versions, 3);
    ck_assert_uint_ge(reg.n_activations, 1);
    tr_registry_free(&reg);
    tr_signal *sigs;
    size_t n_sigs;
    ck_assert_int_eq(tr_store_signals_get(p, NULL, INT64_MIN, INT64_MAX, &sigs, &n_sigs, &e),
                     TR_OK);
    ck_assert_uint_gt(n_sigs, 100);
    free(sigs);
    tr_store_close(d);
    tr_store_close(p);
    free(sd), free(csv[0]), free(csv[1]);
    fx_close(&f);
}
END_TEST

/* Two full retrains on one store across a server restart: A holds the full lock and is stopped
 * after its first epoch; the server restarts (A's session and lock are gone); B takes the lock
 * and completes. A, let go, finds at its next epoch that the lock is no longer its own (the
 * fencing token moved) and stops without writing: one version, B's, whose checkpoint verifies. */
START_TEST(test_two_full_across_restart)
{
    fixture f;
    if (!fx_open(&f, 1))
        return;
    if (!getenv("AIFX_TEST_PG_STOP") || !getenv("AIFX_TEST_PG_START")) {
        fprintf(stderr, "SKIP: two-full case (AIFX_TEST_PG_STOP/START unset)\n");
        fx_close(&f);
        return;
    }
    tr_store *s = open_ok(f.ci);
    load_bars(s, "2024-01-01", "2024-04-10");
    tr_store_close(s);
    char *mdir = tu_path(f.dir, "cli-models");
    char *const argv[] = {AIFX_TRAIN_EXE,
                          "--models-dir",
                          mdir,
                          "full",
                          "--as-of",
                          "2024-04-07T01:00",
                          "--months",
                          "2",
                          "--hidden",
                          "8",
                          "--epochs",
                          "4",
                          "--patience",
                          "4",
                          "--store",
                          f.ci,
                          NULL};
    child a;
    child_start(&a, argv);
    ck_assert_msg(child_wait_for(&a, "epoch 1/", 120), "full A: %s", a.buf);
    ck_assert_int_eq(kill(a.pid, SIGSTOP), 0);
    ck_assert_int_eq(pu_run_env("AIFX_TEST_PG_STOP"), 0);
    ck_assert_int_eq(pu_run_env("AIFX_TEST_PG_START"), 0);
    ck_assert_int_eq(run(f.dir,
                         "--models-dir '%s' full --as-of 2024-04-07T01:00 --months 2 --hidden 8 "
                         "--epochs 4 --patience 4 --quiet --store '%s'",
                         mdir, f.ci),
                     0);
    ck_assert_int_eq(kill(a.pid, SIGCONT), 0);
    int code = child_finish(&a);
    ck_assert_msg(code == 4, "full A exited %d: %s", code, a.buf);
    ck_assert_msg(strstr(a.buf, "lost its full lock") != NULL, "full A: %s", a.buf);
    ck_assert_int_eq(pu_value(f.ci, "SELECT count(*) FROM model_versions"), 1);
    ck_assert_int_eq(
        pu_value(f.ci, "SELECT count(*) FROM model_training_log WHERE status = 'completed'"), 1);
    /* B's checkpoint is whole: its size and CRC match the record */
    ck_assert_int_eq(run(f.dir,
                         "--models-dir '%s' evaluate --version v1.0 --from 2024-03-01 --to "
                         "2024-04-07 --store '%s'",
                         mdir, f.ci),
                     0);
    free(mdir);
    fx_close(&f);
}
END_TEST

/* ---- fencing: a cycle lock lost to a server restart ------------------------------------------ */

/* Commits one log row through st; returns its code. */
static tr_code commit_log_row(tr_store *st, const char *cycle, tr_error *e)
{
    tr_log_row row;
    tr_log_row_begin(&row, cycle, T("2024-03-01"), T("2024-03-01"), TR_LOG_SKIPPED, NULL, NULL);
    snprintf(row.reason, sizeof row.reason, "fencing test");
    return tr_cycle_log(st, &row, e);
}

/* Run A holds the full lock when the server restarts (its session, and with it the advisory
 * lock, is gone); run B takes the lock. A's check and A's commit are refused by the fencing
 * token, B's commit lands. Without a taker in between, a run that lost its session takes its
 * lock again at the next statement and commits. */
START_TEST(test_lock_fencing_across_restart)
{
    fixture f;
    if (!fx_open(&f, 1))
        return;
    if (!getenv("AIFX_TEST_PG_STOP") || !getenv("AIFX_TEST_PG_START")) {
        fprintf(stderr, "SKIP: fencing case (AIFX_TEST_PG_STOP/START unset)\n");
        fx_close(&f);
        return;
    }
    tr_error e;
    tr_store *a = open_ok(f.ci);
    int ta = -1, tb = -1;
    ck_assert_int_eq(tr_store_cycle_lock(a, "full", &ta, &e), TR_OK);
    ck_assert_int_eq(tr_store_cycle_lock_check(a, ta, &e), TR_OK);
    ck_assert_int_eq(pu_run_env("AIFX_TEST_PG_STOP"), 0);
    ck_assert_int_eq(pu_run_env("AIFX_TEST_PG_START"), 0);
    tr_store *b = open_ok(f.ci);
    ck_assert_int_eq(tr_store_cycle_lock(b, "full", &tb, &e), TR_OK); /* A's lock went */
    ck_assert_int_eq(tr_store_cycle_lock_check(a, ta, &e), TR_ERR_CONFLICT);
    ck_assert_msg(strstr(e.msg, "lost its full lock") != NULL, "%s", e.msg);
    ck_assert_int_eq(commit_log_row(a, "full", &e), TR_ERR_CONFLICT);
    ck_assert_msg(strstr(e.msg, "lost its full lock") != NULL, "%s", e.msg);
    ck_assert_int_eq(pu_value(f.ci, "SELECT count(*) FROM model_training_log"), 0);
    ck_assert_int_eq(commit_log_row(b, "full", &e), TR_OK);
    ck_assert_int_eq(pu_value(f.ci, "SELECT count(*) FROM model_training_log"), 1);
    tr_store_cycle_unlock(a, ta);
    tr_store_cycle_unlock(b, tb);
    tr_store_close(b);

    /* no taker in between: the lock comes back with the connection, and the run commits */
    ck_assert_int_eq(tr_store_cycle_lock(a, "incremental", &ta, &e), TR_OK);
    ck_assert_int_eq(pu_run_env("AIFX_TEST_PG_STOP"), 0);
    ck_assert_int_eq(pu_run_env("AIFX_TEST_PG_START"), 0);
    ck_assert_int_eq(tr_store_cycle_lock_check(a, ta, &e), TR_OK);
    b = open_ok(f.ci);
    ck_assert_int_eq(tr_store_cycle_lock(b, "incremental", &tb, &e), TR_ERR_CONFLICT);
    ck_assert_int_eq(commit_log_row(a, "incremental", &e), TR_OK);
    ck_assert_int_eq(pu_value(f.ci, "SELECT count(*) FROM model_training_log"), 2);
    tr_store_cycle_unlock(a, ta);
    tr_store_close(b);
    tr_store_close(a);
    fx_close(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trainer_pg");
    TCase *tc = tcase_create("pg");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_migrations);
    tcase_add_test(tc, test_unreachable);
    tcase_add_test(tc, test_events);
    tcase_add_test(tc, test_hostile);
    tcase_add_test(tc, test_fault_server_stops);
    tcase_add_test(tc, test_lock_fencing_across_restart);
    tcase_add_test(tc, test_two_full_across_restart);
    tcase_add_test(tc, test_two_run_due);
    tcase_add_test(tc, test_replay_both_stores);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(suite)
