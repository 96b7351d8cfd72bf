/*
 * cmd_jobs.c - the job queue's commands (docs/operations.md section 8, "A job queue"):
 * enqueue-due (the scheduler step), worker (claims and runs jobs), jobs list|show|retry.
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/timeutil.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/print.h"
#include "cycles/jobs.h"
#include "store/store.h"

const char tr_cli_help_enqueue_due[] =
    "usage: aifx-train enqueue-due [--as-of TIME] [--family F] [--max-attempts N]\n"
    "                              [--daily-at HH:MM] [--weekly-at DAY,HH:MM]\n"
    "                              [--monthly-at D,HH:MM] [--disable CYCLE] [--max-retries N]\n"
    "                              [--json] [--store S]\n"
    "\n"
    "  The scheduler step of the job queue: one job per slot that run-due would run\n"
    "  now (the same slots, times and due rule; docs/operations.md), unique on (family, cycle,\n"
    "  slot), so several enqueuers on several hosts add each slot once. Workers are woken by a\n"
    "  NOTIFY on the channel jobs. The monitor, due at every call, is not queued: run it with\n"
    "  run-due (its other slots disabled) or aifx-serve --schedule. --max-attempts: a job's\n"
    "  attempts before it is dead (default 3). run-due --enqueue does the same and runs the\n"
    "  monitor. Without --family: the default family and every family defined in the store, each\n"
    "  by its own log and schedule settings (docs/families.md). PostgreSQL (hosts that share\n"
    "  it), or a directory store (one host).\n";

int tr_cli_cmd_enqueue_due(tr_cli_args *a)
{
    const char *store_dir = NULL;
    tr_cli_out oo = {0, 0, 0, 0};
    tr_due_opts o = tr_due_opts_default();
    o.as_of = tr_wall_now();
    int max_attempts = 3;
    const tr_cli_optdef opts[] = {
        OPT_OUTPUT(oo, store_dir),
        OPT_TIME("--as-of", &o.as_of),
        OPT_INT("--max-attempts", &max_attempts, 1, 100, NULL),
        OPT_CALL("--daily-at", &o.sched.minute[TR_SLOT_DAILY], tr_cli_opt_hhmm, "(HH:MM)"),
        OPT_CALL("--weekly-at", &o.sched, tr_cli_opt_weekly, "(DAY,HH:MM, DAY mon..sun)"),
        OPT_CALL("--monthly-at", &o.sched, tr_cli_opt_monthly, "(D,HH:MM, D 1..28)"),
        OPT_INT("--max-retries", &o.sched.max_retries, 1, 1000, NULL),
        OPT_CALL("--disable", &o.sched, tr_cli_opt_disable,
                 "(incremental, full, rank, abtest, monitor, drift)"),
    };
    TR_CLI_SCAN(a, opts);
    tr_error e;
    tr_error_clear(&e);
    tr_store *st;
    if (tr_cli_store_open(store_dir, 0, &st, &e))
        return tr_cli_fail(&e);
    tr_enqueue_result r;
    tr_code rc = tr_enqueue_due(st, &o, tr_cli_family, max_attempts, &r, &e);
    tr_store_close(st);
    if (rc)
        return tr_cli_fail(&e);
    if (!oo.quiet || oo.json)
        tr_cli_print_enqueue(o.as_of, &r, oo.json);
    return EXIT_OK;
}

const char tr_cli_help_worker[] =
    "usage: aifx-train worker [--concurrency N] [--once] [--lease-seconds S] [--family F]\n"
    "                         [--poll S] [--backoff S] [--months N] [--hidden N] [--epochs N]\n"
    "                         [--patience N] [--min-samples N] [--force-training] [--labels L]\n"
    "                         [--decision D] [--ab] [--json] [--quiet] [--store S]\n"
    "\n"
    "  Runs the job queue's jobs (enqueue-due fills it): claims the first runnable job (on\n"
    "  PostgreSQL FOR UPDATE SKIP LOCKED; on a directory store under its lock, with a file lock\n"
    "  that frees the job at once when the worker dies), holds it by a lease of S seconds\n"
    "  (default 60) renewed every\n"
    "  S/3 by a heartbeat thread, and runs its slot's cycle as run-due would, the job marked\n"
    "  done in the cycle's own registry commit. A worker that stalls past its lease loses the\n"
    "  job to another and its late commit is refused (the lease generation is a fencing token).\n"
    "  A failed attempt n runs again after --backoff * 2^n seconds (default 30), and the job is\n"
    "  dead after its --max-attempts (jobs list, jobs retry). Waits for a NOTIFY on jobs (a\n"
    "  directory store: inotify on <store>/jobs/wake), with a poll every --poll seconds\n"
    "  (default 5); a database that is down, at start or later, is waited for (exit 5 with\n"
    "  --once). --once: exit when no job is runnable.\n"
    "  --concurrency N: N worker processes. SIGTERM or SIGINT: finish the current job, exit 0.\n"
    "  The options of the weekly retrain and the daily fine-tune are run-due's.\n";

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void print_job(const tr_worker_result *r, void *user)
{
    const tr_cli_out *oo = user;
    if (!oo->quiet || oo->json)
        tr_cli_print_worker_job(r, oo->json);
}

/* SIGTERM and SIGINT set stop_flag. restart: system calls interrupted by them resume (a
 * worker's training and its files must not see EINTR; its waits for a NOTIFY use poll, which is
 * never restarted, so it still sees the stop at once); the parent of --concurrency takes them
 * without restart, so that its wait returns to pass the signal on. */
static void catch_stop(int restart)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

static int work(const char *store_dir, const tr_worker_opts *o, int once, double poll,
                tr_cli_out *oo)
{
    catch_stop(1);
    tr_error e;
    tr_error_clear(&e);
    tr_store *st;
    /* a database that is down or restarting when the worker starts is waited for, as the loop
     * waits for it later (a store that is missing or refuses this program is an error now) */
    tr_code rc;
    int told = 0;
    while ((rc = tr_cli_store_open(store_dir, 0, &st, &e)) == TR_ERR_STORE && !once && !stop_flag) {
        if (!told)
            fprintf(stderr, "aifx-train worker: %s; waiting for the store\n", e.msg);
        told = 1;
        for (double waited = 0; waited < poll && !stop_flag; waited += 0.25)
            (void)nanosleep(&(struct timespec){0, 250000000L}, NULL);
    }
    if (rc == TR_ERR_STORE && stop_flag)
        return EXIT_OK; /* stopped while waiting */
    if (rc)
        return tr_cli_fail(&e);
    rc = tr_worker_loop(st, o, once, poll, &stop_flag, print_job, oo, &e);
    tr_cli_print_end_bar(oo);
    tr_store_close(st);
    return rc ? tr_cli_fail(&e) : EXIT_OK;
}

int tr_cli_cmd_worker(tr_cli_args *a)
{
    const char *store_dir = NULL;
    tr_cli_out oo = {0, 0, isatty(2), 0};
    tr_worker_opts o = tr_worker_opts_default();
    int concurrency = 1, once = 0;
    double poll = 5;
    const tr_cli_optdef opts[] = {
        OPT_OUTPUT(oo, store_dir),
        OPT_INT("--concurrency", &concurrency, 1, 64, NULL),
        OPT_FLAG("--once", &once),
        OPT_DBL("--lease-seconds", &o.lease_seconds, 1, 86400, "(1..86400)"),
        OPT_DBL("--poll", &poll, 0.1, 3600, "(0.1..3600)"),
        OPT_DBL("--backoff", &o.backoff_base, 0, 86400, "(0..86400)"),
        OPT_AB_PLAN(o.due.full),
        OPT_MODEL_RULE(o.due.full),
        OPT_INT("--months", &o.due.full.months, 1, 120, NULL),
        OPT_INT("--hidden", &o.due.full.n_hidden, 1, 1024, NULL),
        OPT_INT("--epochs", &o.due.full.max_epochs, 1, 100, "(1..100)"),
        OPT_INT("--patience", &o.due.full.patience, 1, 100, NULL),
        OPT_INT("--min-samples", &o.due.incr.min_samples, 1, 1000000, NULL),
        OPT_FLAG("--force-training", &o.due.force_training),
    };
    TR_CLI_SCAN(a, opts);
    o.family = tr_cli_family;
    if (!oo.json) {
        o.due.full.on_event = tr_cli_print_event;
        o.due.full.user = &oo;
        o.due.incr.on_event = tr_cli_print_event;
        o.due.incr.user = &oo;
    }
    if (concurrency == 1)
        return work(store_dir, &o, once, poll, &oo);
    /* N processes, each with its own connection; the signal is passed on to them */
    catch_stop(0);
    pid_t kids[64];
    int n = 0, code = EXIT_OK;
    fflush(NULL);
    for (; n < concurrency; n++) {
        kids[n] = fork();
        if (kids[n] < 0) {
            code = tr_cli_error(EXIT_INTERNAL, "cannot start worker %d: fork failed", n + 1);
            break;
        }
        if (kids[n] == 0)
            _exit(work(store_dir, &o, once, poll, &oo));
    }
    int left = n, forwarded = 0;
    while (left > 0) {
        if (stop_flag && !forwarded) {
            for (int k = 0; k < n; k++)
                kill(kids[k], SIGTERM);
            forwarded = 1;
        }
        int status;
        pid_t p = waitpid(-1, &status, 0);
        if (p < 0)
            continue; /* a signal: passed on above */
        left--;
        int c = WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_INTERNAL;
        if (c && !code)
            code = c;
    }
    return code;
}

const char tr_cli_help_jobs[] =
    "usage: aifx-train jobs list [--family F] [--limit N] [--json] [--store S]\n"
    "       aifx-train jobs show ID [--json] [--store S]\n"
    "       aifx-train jobs retry ID [--store S]\n"
    "\n"
    "  The job queue: list the jobs, newest slot first (state queued, running,\n"
    "  done, failed: waiting for its retry, dead: out of attempts), with each one's result or\n"
    "  last error; show one in full (its lease: generation, holder, until when); retry a dead\n"
    "  or failed job now, its attempts reset (exit 4 for a job in another state, 6 for an\n"
    "  unknown one).\n";

int tr_cli_cmd_jobs(tr_cli_args *a)
{
    const char *store_dir = NULL, *sub = NULL, *id_text = NULL;
    tr_cli_out oo = {0, 0, 0, 0};
    int limit = 0;
    const tr_cli_optdef opts[] = {
        OPT_OUTPUT(oo, store_dir),
        OPT_INT("--limit", &limit, 0, 1000000, NULL),
        OPT_POS("subcommand", &sub),
        OPT_POS("job id", &id_text),
    };
    TR_CLI_SCAN(a, opts);
    if (!sub)
        return tr_cli_usage(a->cmd, "missing subcommand (list, show, retry)", NULL);
    int is_list = strcmp(sub, "list") == 0, is_show = strcmp(sub, "show") == 0;
    int is_retry = strcmp(sub, "retry") == 0;
    if (!is_list && !is_show && !is_retry)
        return tr_cli_usage(a->cmd, "unknown subcommand (list, show, retry):", sub);
    long id = 0;
    if (is_list && id_text)
        return tr_cli_usage(a->cmd, "list takes no job id:", id_text);
    if (!is_list && (!id_text || tr_cli_parse_int(id_text, 1, 2147483647L, &id)))
        return tr_cli_usage(a->cmd, "a job id (1, 2, ...) is needed, not", id_text ? id_text : "");
    tr_error e;
    tr_error_clear(&e);
    tr_store *st;
    if (tr_cli_store_open(store_dir, 0, &st, &e))
        return tr_cli_fail(&e);
    tr_code rc;
    if (is_list) {
        tr_job *list = NULL;
        size_t n = 0;
        rc = tr_store_job_list(st, tr_cli_family, (size_t)limit, &list, &n, &e);
        if (!rc)
            tr_cli_print_jobs(list, n, oo.json);
        free(list);
    } else if (is_show) {
        tr_job j;
        rc = tr_store_job_get(st, id, &j, &e);
        if (!rc)
            tr_cli_print_job(&j, oo.json);
    } else {
        rc = tr_store_job_retry(st, id, &e);
        if (!rc && !oo.quiet)
            printf("job %ld queued again\n", id);
    }
    tr_store_close(st);
    return rc ? tr_cli_fail(&e) : EXIT_OK;
}
