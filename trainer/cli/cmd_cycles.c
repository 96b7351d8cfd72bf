/*
 * cmd_cycles.c - the loop around the cycles: rank (the monthly ranking and retention), run-due
 * (the scheduler), replay (months of the loop on history). docs/cli.md, docs/operations.md.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/timeutil.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/print.h"
#include "cycles/driftcheck.h"
#include "cycles/family_opts.h"
#include "cycles/jobs.h"
#include "cycles/monitor.h"
#include "cycles/rank.h"
#include "cycles/replay.h"
#include "cycles/schedule.h"
#include "market/dq.h"
#include "store/store.h"

const char tr_cli_help_rank[] =
    "usage: aifx-train rank [--as-of TIME] [--score raw|rank] [--weights W,S,P,D]\n"
    "                       [--min-trades N] [--window-days N] [--retain-months N] [--no-guard]\n"
    "                       [--json] [--store DIR]\n"
    "\n"
    "  The monthly ranking (docs/ranking.md): every non-deprecated version is backtested on the\n"
    "  bars of the last 30 days after the end of its own data window and scored\n"
    "  0.3 x win rate + 0.3 x Sharpe + 0.2 x average PnL (pips/trade) + 0.2 x (1 - max drawdown)\n"
    "  (--score rank: each term's rank among the eligible versions, in [0, 1]). Versions with\n"
    "  fewer than 20 trades are reported but not eligible, and so are versions that fail the\n"
    "  guard against collapse: a predicted buy+sell share on their own validation part (full)\n"
    "  or gate window (daily) outside [0.5x, 2x] of the labels' (noted \"collapsed\" or\n"
    "  \"overtrades\" with the figures; --no-guard turns it off). The best eligible version is\n"
    "  activated (no change when it is active); daily versions more than 3 months old are\n"
    "  retired (checkpoint deleted, record kept); full versions and the active one are kept.\n"
    "  Ages count from TIME, not from the wall clock: on a store of history give --as-of.\n"
    "  A ranking that could evaluate no version changes nothing and says why (skipped); a\n"
    "  damaged checkpoint of the active version fails it (exit 5), changing nothing.\n"
    "  A Markdown report goes to <store>/reports/rank-YYYY-MM-DD.md.\n";

int tr_cli_cmd_rank(tr_cli_args *a)
{
    const char *store_dir = NULL;
    tr_cli_out oo = {0, 0, 0, 0};
    tr_rank_opts o = tr_rank_opts_default();
    tr_family_rank_opts(&tr_cli_fam, &o);
    o.as_of = tr_wall_now();
    const tr_cli_optdef opts[] = {
        OPT_OUTPUT(oo, store_dir),
        OPT_TIME("--as-of", &o.as_of),
        OPT_CALL("--score", &o.method, tr_cli_opt_score, "(raw, rank)"),
        OPT_CALL("--weights", &o.w, tr_cli_opt_weights, "(four numbers W,S,P,D)"),
        OPT_INT("--min-trades", &o.min_trades, 0, 1000000, NULL),
        OPT_INT("--window-days", &o.window_days, 1, 3660, NULL),
        OPT_INT("--retain-months", &o.retain_months, 1, 1200, NULL),
        OPT_FLAG("--no-guard", &o.no_guard),
    };
    TR_CLI_SCAN(a, opts);
    tr_error e;
    tr_error_clear(&e);
    tr_store *st;
    if (tr_cli_store_open(store_dir, 0, &st, &e))
        return tr_cli_fail(&e);
    tr_rank_result r;
    tr_code rc = tr_rank_run(st, &o, &r, &e);
    tr_store_close(st);
    if (rc) {
        tr_rank_result_free(&r);
        return tr_cli_fail(&e);
    }
    tr_cli_print_rank(&o, &r, oo.json);
    tr_rank_result_free(&r);
    return EXIT_OK;
}

const char tr_cli_help_run_due[] =
    "usage: aifx-train run-due [--as-of TIME] [--daily-at HH:MM] [--weekly-at DAY,HH:MM]\n"
    "                          [--monthly-at D,HH:MM] [--max-retries N]\n"
    "                          [--disable incremental|full|rank|abtest|monitor|drift ...]\n"
    "                          [--ab ...] [--labels K] [--decision D] [--rule-min-trades N]\n"
    "                          [--min-samples N] [--force-training] [--quiet] [--json]\n"
    "                          [--enqueue [--family F] [--max-attempts N]] [--store DIR]\n"
    "\n"
    "  Runs the cycles due at TIME (default now), UTC: the daily fine-tune (incremental) at\n"
    "  02:00, the weekly full retrain on Sunday at 01:00, the monthly ranking on the 1st at\n"
    "  00:00. A cycle is due when its latest scheduled time is not covered by a completed or\n"
    "  skipped log row; it runs once, as of that time (missed periods are caught up once). A\n"
    "  failed cycle is retried at the next call, up to 3 failed attempts per scheduled time.\n"
    "  Another run-due on the store: exit 4, nothing run. The abtest slot (00:30 daily) looks\n"
    "  at running A/B tests; the drift slot (03:00 daily) compares the last 7 days with the\n"
    "  active version's data (see drift --help). The position monitor runs first at every call "
    "(see monitor\n"
    "  --help). --ab: the weekly retrain starts an A/B test (see full --help).\n"
    "  In an extreme market (a pair's last 24 hours 3x as volatile as its 60 days before, or a\n"
    "  gap of 10 mean true ranges; docs/monitoring.md) the fine-tune and the retrain are\n"
    "  logged skipped with the figures; --force-training runs them anyway.\n"
    "  --min-samples N: the daily fine-tune's minimum of labeled windows in its 24 hours\n"
    "  (default 40 per stored pair, see incremental --help). --labels, --decision and\n"
    "  --rule-min-trades are the weekly retrain's (see full --help).\n"
    "  --enqueue: the due slots become jobs of the store's queue (one per slot and family, as\n"
    "  enqueue-due adds them: without --family the default family's and every defined one's;\n"
    "  --max-attempts, default 3) for `aifx-train worker` to run, instead of running here; the\n"
    "  position monitor still runs here, for each of those families.\n"
    "  docs/operations.md.\n";

int tr_cli_cmd_run_due(tr_cli_args *a)
{
    const char *store_dir = NULL;
    tr_cli_out oo = {0, 0, isatty(2), 0};
    tr_due_opts o = tr_due_opts_default();
    tr_error e;
    tr_error_clear(&e);
    if (tr_family_due_opts(&tr_cli_fam, &o, &e))
        return tr_cli_fail(&e);
    o.as_of = tr_wall_now();
    int enqueue = 0, max_attempts = 3;
    const tr_cli_optdef opts[] = {
        OPT_OUTPUT(oo, store_dir),
        OPT_FLAG("--enqueue", &enqueue),
        OPT_INT("--max-attempts", &max_attempts, 1, 100, NULL),
        OPT_AB_PLAN(o.full),
        OPT_MODEL_RULE(o.full),
        OPT_TIME("--as-of", &o.as_of),
        OPT_CALL("--daily-at", &o.sched.minute[TR_SLOT_DAILY], tr_cli_opt_hhmm, "(HH:MM)"),
        OPT_CALL("--weekly-at", &o.sched, tr_cli_opt_weekly, "(DAY,HH:MM, DAY mon..sun)"),
        OPT_CALL("--monthly-at", &o.sched, tr_cli_opt_monthly, "(D,HH:MM, D 1..28)"),
        OPT_INT("--max-retries", &o.sched.max_retries, 1, 1000, NULL),
        OPT_CALL("--disable", &o.sched, tr_cli_opt_disable,
                 "(incremental, full, rank, abtest, monitor, drift)"),
        OPT_FLAG("--force-training", &o.force_training),
        OPT_INT("--min-samples", &o.incr.min_samples, 1, 1000000, NULL),
    };
    TR_CLI_SCAN(a, opts);
    if (!oo.json) {
        o.full.on_event = tr_cli_print_event;
        o.full.user = &oo;
        o.incr.on_event = tr_cli_print_event;
        o.incr.user = &oo;
    }
    tr_store *st;
    if (tr_cli_store_open(store_dir, 0, &st, &e))
        return tr_cli_fail(&e);
    if (max_attempts != 3 && !enqueue) {
        tr_store_close(st);
        return tr_cli_usage(a->cmd, "--max-attempts goes with --enqueue", NULL);
    }
    tr_due_result r;
    tr_enqueue_result q;
    tr_code rc = enqueue ? tr_run_due_enqueue(st, &o, tr_cli_family, max_attempts, &r, &q, &e)
                         : tr_run_due(st, &o, &r, &e);
    tr_cli_print_end_bar(&oo);
    tr_cli_notify_after(st, 10, oo.quiet || oo.json); /* notify.conf's sinks, at most 10 s */
    tr_store_close(st);
    if (rc)
        return tr_cli_fail(&e);
    if (enqueue)
        tr_cli_print_due_enqueue(o.as_of, &r, &q, oo.json);
    else
        tr_cli_print_due(o.as_of, &r, oo.json);
    if (r.first_error)
        return tr_cli_error(tr_cli_exit_code(r.first_error),
                            "a cycle failed (kept in the log; retried at the next call)");
    return EXIT_OK;
}

const char tr_cli_help_drift[] =
    "usage: aifx-train drift [--pair P] [--as-of TIME] [--window DAYS] [--version V] [--json]\n"
    "                        [--store DIR]\n"
    "\n"
    "  Compares the 38 features of the bars in the last DAYS (default 7) before TIME (default\n"
    "  now) with the version's training reference (default the active version), as\n"
    "  Evidently's defaults do: per feature a two-sample Kolmogorov-Smirnov test (<= 1,000\n"
    "  reference rows, drift at p <= 0.05) or the normed Wasserstein distance (drift at >= 0.1),\n"
    "  PSI beside; the dataset drifts when half the features do. The version's recorded\n"
    "  signals in the window are tested against its predicted class shares (chi-square, drift\n"
    "  at p < 0.05). Writes nothing; the daily drift cycle of run-due keeps a report and a log\n"
    "  row per run. docs/monitoring.md.\n";

int tr_cli_cmd_drift(tr_cli_args *a)
{
    const char *store_dir = NULL;
    tr_cli_out oo = {0, 0, 0, 0};
    tr_driftcheck_opts o = tr_driftcheck_opts_default();
    tr_family_drift_opts(&tr_cli_fam, &o);
    o.as_of = tr_wall_now();
    int days = 7;
    const tr_cli_optdef opts[] = {
        OPT_OUTPUT(oo, store_dir),
        OPT_TIME("--as-of", &o.as_of),
        OPT_STR("--pair", &o.pair),
        OPT_VERSION(&o.version),
        OPT_INT("--window", &days, 1, 3650, "(days)"),
    };
    TR_CLI_SCAN(a, opts);
    o.window = (int64_t)days * 86400;
    tr_error e;
    tr_error_clear(&e);
    tr_store *st;
    if (tr_cli_store_open(store_dir, 0, &st, &e))
        return tr_cli_fail(&e);
    tr_driftcheck_result *r = malloc(sizeof *r);
    tr_code rc = r ? tr_driftcheck_run(st, &o, r, &e) : tr_fail(&e, TR_ERR_NOMEM, "out of memory");
    tr_store_close(st);
    if (rc) {
        free(r);
        return tr_cli_fail(&e);
    }
    if (oo.json) {
        char *j = tr_driftcheck_json(r);
        printf("%s\n", j ? j : "null");
        free(j);
    } else {
        char t0[32], t1[32], t2[32];
        printf("drift of %s: %zu rows in (%s, %s] against %zu of its data (from %s)\n", r->version,
               r->n_cur_rows, tr_time_format(r->from, t0, sizeof t0),
               tr_time_format(r->as_of, t1, sizeof t1), r->n_ref_rows,
               tr_time_format(r->ref_from, t2, sizeof t2));
        printf("%-13s %-11s %10s %10s %8s %s\n", "feature", "method", "stat", "p", "psi", "drift");
        for (int f = 0; f < TR_N_FEATURES; f++) {
            const tr_drift_feature *x = &r->features[f];
            printf("%-13s %-11s %10.4g %10.4g %8.4g %s\n", tr_feature_names[f],
                   tr_drift_method_text(x->method), x->stat, x->p, x->psi,
                   x->drift ? "DRIFT" : "-");
        }
        printf("%s\n", r->summary);
    }
    free(r);
    return EXIT_OK;
}

const char tr_cli_help_dq[] =
    "usage: aifx-train dq [--pair P] [--as-of TIME] [--days N] [--json] [--store DIR]\n"
    "\n"
    "  Data quality of the stored bars of the last N days (default 7) before TIME (default\n"
    "  now), per pair: gaps in market hours (Sunday 17:00 to Friday 17:00 New York), a stale\n"
    "  feed (no bar for 30 minutes of open market), spikes (a range or move of 10 ATRs),\n"
    "  zero-range and repeated bars, each with its bar times and figures. Nothing is changed\n"
    "  or dropped. The daily drift cycle checks the last day and sends an event when it finds\n"
    "  something. docs/monitoring.md.\n";

int tr_cli_cmd_dq(tr_cli_args *a)
{
    const char *store_dir = NULL, *pair = NULL;
    tr_cli_out oo = {0, 0, 0, 0};
    int64_t as_of = tr_wall_now();
    int days = 7;
    const int32_t tf = tr_family_timeframe(&tr_cli_fam);
    const tr_cli_optdef opts[] = {
        OPT_OUTPUT(oo, store_dir),
        OPT_TIME("--as-of", &as_of),
        OPT_STR("--pair", &pair),
        OPT_INT("--days", &days, 1, 36500, NULL),
    };
    TR_CLI_SCAN(a, opts);
    tr_error e;
    tr_error_clear(&e);
    tr_store *st;
    if (tr_cli_store_open(store_dir, 0, &st, &e))
        return tr_cli_fail(&e);
    char pairs[32][TR_PAIR_MAX];
    int n = 0;
    tr_code rc = TR_OK;
    if (pair) {
        snprintf(pairs[0], sizeof pairs[0], "%.15s", pair);
        n = 1;
    } else {
        rc = tr_store_pairs(st, tf, pairs, 32, &n, &e);
    }
    tr_dq_opts dq = tr_dq_opts_default();
    dq.timeframe = tf;
    if (oo.json)
        printf("{\"pairs\":[");
    for (int i = 0; !rc && i < n; i++) {
        tr_bars bars = {0};
        rc = tr_store_bars_get(st, pairs[i], tf, as_of - ((int64_t)days + 2) * 86400,
                               as_of - tf + 1, &bars, &e);
        tr_dq_report r;
        memset(&r, 0, sizeof r);
        if (!rc)
            rc = tr_dq_check(bars.v, bars.n, as_of, &dq, &r, &e);
        char t0[32], t1[32];
        if (!rc && oo.json)
            printf("%s{\"pair\":\"%s\",\"findings\":[", i ? "," : "", pairs[i]);
        else if (!rc)
            printf("%s: %zu bars\n", pairs[i], bars.n);
        int k = 0;
        for (size_t j = 0; !rc && j < r.n; j++) {
            const tr_dq_finding *f = &r.v[j];
            if (f->t_end < as_of - (int64_t)days * 86400 && f->kind != TR_DQ_STALE)
                continue;
            tr_time_format(f->t, t0, sizeof t0);
            tr_time_format(f->t_end, t1, sizeof t1);
            if (oo.json)
                printf("%s{\"kind\":\"%s\",\"from\":\"%s\",\"to\":\"%s\",\"value\":%.6g,"
                       "\"limit\":%.6g}",
                       k ? "," : "", tr_dq_kind_text(f->kind), t0, t1, f->value, f->limit);
            else
                printf("  %-10s %s .. %s  %.6g (limit %.6g)\n", tr_dq_kind_text(f->kind), t0, t1,
                       f->value, f->limit);
            k++;
        }
        if (!rc && oo.json)
            printf("]}");
        else if (!rc && k == 0)
            printf("  no finding\n");
        tr_dq_report_free(&r);
        tr_bars_free(&bars);
    }
    if (oo.json && !rc)
        printf("]}\n");
    tr_store_close(st);
    return rc ? tr_cli_fail(&e) : EXIT_OK;
}

const char tr_cli_help_monitor[] =
    "usage: aifx-train monitor [--as-of TIME] [--json] [--store DIR]\n"
    "\n"
    "  The position monitor, once: every open signal of the store is resolved on the bars that\n"
    "  closed by TIME (default now) with the backtest's trade rule, one book per A/B arm, as the\n"
    "  replay does (docs/backtest.md). Outcomes reported by the backend are kept. Running it\n"
    "  again with no new bar changes nothing. run-due runs it first at every call, aifx-serve\n"
    "  --schedule every minute. Another monitor running: nothing done (skipped, exit 0).\n";

int tr_cli_cmd_monitor(tr_cli_args *a)
{
    const char *store_dir = NULL;
    tr_cli_out oo = {0, 0, 0, 0};
    int64_t as_of = tr_wall_now();
    const tr_cli_optdef opts[] = {
        OPT_OUTPUT(oo, store_dir),
        OPT_TIME("--as-of", &as_of),
    };
    TR_CLI_SCAN(a, opts);
    tr_error e;
    tr_error_clear(&e);
    tr_store *st;
    if (tr_cli_store_open(store_dir, 0, &st, &e))
        return tr_cli_fail(&e);
    tr_monitor_result r;
    tr_code rc = tr_monitor_run(st, as_of, &r, &e);
    tr_store_close(st);
    if (rc)
        return tr_cli_fail(&e);
    tr_cli_print_monitor(as_of, &r, oo.json);
    return EXIT_OK;
}

const char tr_cli_help_replay[] =
    "usage: aifx-train replay --csv FILE --pair P [--csv FILE --pair P ...] --from D --to D\n"
    "                         [--flush-steps N] [--ab [--ab-days N] [--ab-split X]\n"
    "                         [--ab-min-trades N]] [--min-samples N] [--disable CYCLE ...]\n"
    "                         [--labels K] [--decision D] [--rule-min-trades N]\n"
    "                         [--quiet] [--json] [--store DIR]\n"
    "\n"
    "  Walks a simulated clock over the 15-minute bar closes in (--from, --to]: each new bar\n"
    "  becomes visible, the active version's prediction for it is recorded as a signal, the\n"
    "  signals' outcomes are resolved when their exits occur, and run-due's schedule runs the\n"
    "  daily, weekly and monthly cycles as of the clock. Bars before --from are history (the\n"
    "  weekly retrain needs 3 months of them). Prints the timeline and writes it to\n"
    "  <store>/reports/replay-FROM-TO.md. Killed, it continues when started again with the same\n"
    "  arguments (state in <store>/replay.state); another replay's state there: exit 4.\n"
    "  The n-th --pair names the n-th --csv (--pair P,Q: a comma list in that order).\n"
    "  --json: one JSON object with the figures, the report's path and the timeline (Markdown).\n"
    "  docs/operations.md. --ab: every weekly retrain starts an A/B test (see full --help).\n"
    "  --disable incremental|full|rank|abtest leaves a scheduled cycle out (e.g. to replay\n"
    "  predictions and outcomes alone).\n"
    "  --min-samples N: the daily fine-tune's minimum of labeled windows (default 40 per pair,\n"
    "  so a one-pair replay fine-tunes on full weekdays; see incremental --help).\n"
    "  --labels, --decision and --rule-min-trades are the weekly retrains' (see full --help).\n";

int tr_cli_cmd_replay(tr_cli_args *a)
{
    const char *store_dir = NULL, *from_s = NULL, *to_s = NULL;
    int n_csv = 0;
    tr_cli_pairs pairs = {0};
    tr_cli_out oo = {0, 0, 0, 0};
    tr_replay_opts o = tr_replay_opts_default();
    o.timeframe = tr_family_timeframe(&tr_cli_fam);
    {
        tr_error fe;
        tr_error_clear(&fe);
        if (tr_family_due_opts(&tr_cli_fam, &o.due, &fe))
            return tr_cli_fail(&fe);
    }
    const tr_cli_optdef opts[] = {
        OPT_OUTPUT(oo, store_dir),
        OPT_AB_PLAN(o.due.full),
        OPT_MODEL_RULE(o.due.full),
        OPT_LIST("--csv", o.csv, TR_REPLAY_MAX_PAIRS, &n_csv, NULL),
        OPT_PAIRS(&pairs, TR_REPLAY_MAX_PAIRS),
        OPT_STR("--from", &from_s),
        OPT_STR("--to", &to_s),
        OPT_INT("--flush-steps", &o.flush_steps, 1, 100000, NULL),
        OPT_CALL("--disable", &o.due.sched, tr_cli_opt_disable,
                 "(incremental, full, rank, abtest)"),
        OPT_INT("--min-samples", &o.due.incr.min_samples, 1, 1000000, NULL),
    };
    TR_CLI_SCAN(a, opts);
    if (n_csv == 0 || n_csv != pairs.n)
        return tr_cli_usage(a->cmd, "give one --pair for each --csv", NULL);
    o.n_pairs = n_csv;
    for (int k = 0; k < pairs.n; k++)
        o.pair[k] = pairs.v[k];
    if (!from_s || tr_cli_parse_time(from_s, &o.from))
        return tr_cli_usage(a->cmd, "missing or bad --from time:", from_s);
    if (!to_s || tr_cli_parse_time(to_s, &o.to))
        return tr_cli_usage(a->cmd, "missing or bad --to time:", to_s);
    if (o.from >= o.to)
        return tr_cli_usage(a->cmd, "--from must be before --to", NULL);
    o.on_step = tr_cli_print_replay_step;
    o.user = &oo;
    if (!oo.json) {
        /* the epochs of the retrains and fine-tunes too, so that a long retrain is no silence */
        o.due.full.on_event = tr_cli_print_event;
        o.due.full.user = &oo;
        o.due.incr.on_event = tr_cli_print_event;
        o.due.incr.user = &oo;
    }
    tr_error e;
    tr_store *st;
    tr_error_clear(&e);
    if (tr_cli_store_open(store_dir, 1, &st, &e))
        return tr_cli_fail(&e);
    double t0 = tr_cli_now_seconds();
    tr_replay_result r;
    tr_code rc = tr_replay_run(st, &o, &r, &e);
    tr_store_close(st);
    if (rc)
        return tr_cli_fail(&e);
    tr_cli_print_replay(&o, &r, tr_cli_now_seconds() - t0, oo.json);
    tr_replay_result_free(&r);
    return EXIT_OK;
}
