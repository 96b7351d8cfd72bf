/*
 * print.h - how aifx-train renders results: text for a person or JSON for a program. The command
 * handlers (cmd_*.c) compute, then call one of these; they print only error lines themselves. The
 * records' own JSON encoders (tr_version_json and the like) stay in registry/ and are called from
 * here.
 */
#ifndef AIFXT_PRINT_H
#define AIFXT_PRINT_H

#include <stddef.h>
#include <stdint.h>

#include "cycles/abtest.h"
#include "cycles/cycle.h"
#include "cycles/jobs.h"
#include "cycles/monitor.h"
#include "cycles/rank.h"
#include "cycles/replay.h"
#include "cycles/schedule.h"
#include "data/dataset.h"
#include "data/ingest.h"
#include "store/store.h"

/* The output settings of a command (--json, --quiet) and the progress bar's state: tty when
 * standard error is a terminal, last_was_bar while a bar line is open there. */
typedef struct tr_cli_out {
    int json, quiet, tty;
    int last_was_bar;
} tr_cli_out;

/* A cycle's progress event (tr_event_fn; user a tr_cli_out): JSON lines on standard output, or
 * a progress bar (on a terminal) or one line per epoch on standard error; nothing when quiet. */
void tr_cli_print_event(const tr_event *ev, void *user);
/* Ends an open progress bar line. */
void tr_cli_print_end_bar(tr_cli_out *o);
/* A replay's progress line (user a tr_cli_out), on standard error. */
void tr_cli_print_replay_step(const tr_replay_progress *p, void *user);

/* ingest (seconds: its duration); synth, into dest (a CSV file, or the store named dest with
 * put its counts); bars: the stored series; dataset, built in seconds: its split sizes, or with
 * describe everything about it. */
void tr_cli_print_ingest(const char *pair, int32_t timeframe, const char *csv,
                         const tr_ingest_result *r, double seconds);
void tr_cli_print_synth(const char *pair, int32_t timeframe, size_t n, uint64_t seed,
                        const char *dest, const tr_put_stats *put);
void tr_cli_print_series(const tr_series_info *list, size_t n);
void tr_cli_print_dataset(const tr_dataset *ds, int describe, double seconds);

/* db migrate: what the migration did. listen: that it listens on the channels (standard error),
 * then each event as it arrives, one line. */
void tr_cli_print_migration(const tr_migrate_result *r);
void tr_cli_print_listening(const char *const *channels, size_t n);
void tr_cli_print_store_event(const char *channel, const char *payload);

/* The results of full and incremental (gate_metric: the incremental's TR_GATE_*). */
void tr_cli_print_full(const tr_cycle_result *r, int json);
void tr_cli_print_incremental(const tr_cycle_result *r, int gate_metric, int json);

/* activate, rollback: the change from one version to another. */
void tr_cli_print_activation(const char *from, const char *to, int rollback, int json);
/* versions show V, versions, log, log --activations. */
/* A version in full, with its production figures (prod, from the store's signals). */
void tr_cli_print_version(const tr_version *v, const tr_prod_figs *prod, int json);
void tr_cli_print_monitor(int64_t as_of, const tr_monitor_result *r, int json);
void tr_cli_print_versions(const tr_registry *reg, int json);
void tr_cli_print_log(const tr_registry *reg, int json);
void tr_cli_print_activations(const tr_registry *reg, int json);

/* evaluate (with the classification figures) or backtest of version on [f, t), given on the
 * command line as from and to. */
void tr_cli_print_eval(const tr_eval_report *r, const char *version, const char *from,
                       const char *to, int64_t f, int64_t t, int backtest, int json);
/* predict: recorded says whether the signal was recorded. */
void tr_cli_print_prediction(const tr_prediction *p, int recorded, int json);

/* rank (with its options), run-due as of as_of, replay of o (seconds: its duration; JSON: one
 * object with the figures and the timeline as a Markdown string). */
void tr_cli_print_rank(const tr_rank_opts *o, const tr_rank_result *r, int json);
void tr_cli_print_due(int64_t as_of, const tr_due_result *r, int json);
void tr_cli_print_replay(const tr_replay_opts *o, const tr_replay_result *r, double seconds,
                         int json);

/* ab start, ab status (the list), and an A/B analysis (ab stop, report, status ID), the last
 * returning the exit code (out of memory). Statistics the analysis could not compute (no look
 * yet, too few trades) are shown as undefined, "-" or null, never as 0. */
void tr_cli_print_ab_started(const tr_ab_test *t, int json);
void tr_cli_print_ab_tests(const tr_registry *reg, int json);
int tr_cli_print_ab_report(const tr_ab_report *r, int json);

/* The job queue (jobs.h): enqueue-due's slots; a worker's job as it ends (one line, or a JSON
 * line); jobs list; jobs show. */
void tr_cli_print_enqueue(int64_t as_of, const tr_enqueue_result *r, int json);
/* run-due --enqueue: the slots run in process (the monitor), then the enqueued ones; one JSON
 * object {"as_of", "cycles", "enqueued", "slots"} with json. */
void tr_cli_print_due_enqueue(int64_t as_of, const tr_due_result *due, const tr_enqueue_result *enq,
                              int json);
void tr_cli_print_worker_job(const tr_worker_result *r, int json);
void tr_cli_print_jobs(const tr_job *list, size_t n, int json);
void tr_cli_print_job(const tr_job *j, int json);
/* A family's definition (family show, family add); the families, one line each (family list). */
void tr_cli_print_family(const tr_family *f, int json);
void tr_cli_print_families(const tr_family *list, size_t n, int json);

#endif
