/*
 * abtest.h - A/B tests between two model versions (docs/abtest.md): which version serves a bar,
 * starting and stopping a test, and its analysis at each look with the statistics of abstat.h.
 *
 * Assignment. While a test runs on a pair, every new bar of that pair is served by arm B when
 * u(test, pair, bar time) < split, else by arm A, where u is a seeded 64-bit hash (splitmix64
 * finaliser over the test's seed, id, pair and bar open time) mapped to [0, 1). No random draw:
 * the same bar always goes to the same arm, on every host and after a restart. The signal is
 * recorded with the arm's version and the test id.
 *
 * Outcomes. Each arm trades its own book per pair (outcome.h, tr_outcomes_resolve_books): an
 * arm's position is never closed by the other arm's signal, so each arm's trades are the ones its
 * own signals would have made. A trade is a signal whose outcome is "win" or "loss"; its PnL is
 * net pips.
 *
 * Looks. A running test is analysed once a day by the scheduler's "abtest" slot (schedule.h)
 * and whenever `ab report` asks (a report does not record a look). The information fraction of
 * a look is max(elapsed / planned days, min(trades A, trades B) / min_trades), at most 1; the
 * planned end is reached at 1. tr_ab_decide (abstat.h) gives the call: before the end only an
 * O'Brien-Fleming boundary crossing ends the test early; at the end a, b, tie or insufficient.
 * A winner needs at least min_trades trades in each arm (the test's, or 30), at the end too
 * (else insufficient). When a test ends with a winner that is not the active version, the
 * winner is activated through the activation history (reason "ab_test", the test's figures as
 * evidence) in the same transaction that ends the test; otherwise the active version stays.
 * When the incumbent (arm A) of a test started by the weekly retrain (full --ab) wins, nothing
 * is activated: the active version is A or the daily fine-tune that has replaced it since, and
 * reverting to A would undo the daily cycle's work.
 */
#ifndef AIFXT_ABTEST_H
#define AIFXT_ABTEST_H

#include <stddef.h>
#include <stdint.h>

#include "cycles/cycledef.h"
#include "market/abstat.h"
#include "registry/registry.h"
#include "report/ab_report.h"
#include "store/store.h"

/* u in [0, 1) of the assignment hash. */
double tr_ab_unit(const tr_ab_test *t, const char *pair, int64_t bar_time);
/* 1 when the bar goes to arm B, 0 for arm A. */
int tr_ab_assign(const tr_ab_test *t, const char *pair, int64_t bar_time);
/* The running test whose pair set holds pair, or NULL. */
const tr_ab_test *tr_ab_running_for(const tr_registry *reg, const char *pair);
/* The running test that version is an arm of, or NULL. */
const tr_ab_test *tr_ab_test_of(const tr_registry *reg, const char *version);
/* The version that serves the bar: the arm's version during a test on pair (*test set to it),
 * else the active version (*test NULL). NULL when nothing is active and no test runs. */
const char *tr_ab_serving(const tr_registry *reg, const char *pair, int64_t bar_time,
                          const tr_ab_test **test);

typedef struct tr_ab_start_opts {
    const char *a, *b;  /* versions: a the control (usually the active one), b the challenger */
    const char *pairs;  /* comma-separated pair set, NULL or "" for every pair */
    double split;       /* share of bars to B (default 0.5) */
    int days;           /* planned duration (default 7) */
    int64_t min_trades; /* planned trades per arm; 0 = the end date alone (default 0) */
    uint64_t seed;      /* 0: derived from the id and start time */
    int64_t as_of;      /* start time (simulated in a replay); 0: the wall clock */
    const char *origin; /* "manual" (default) or "full" */
} tr_ab_start_opts;

tr_ab_start_opts tr_ab_start_opts_default(void);

/* The next free id: "ab<N+1>" for the largest N in use. */
void tr_ab_next_id(const tr_registry *reg, char *out, size_t size);
/* The seed a test gets when none is given: a hash of its id and start time. */
uint64_t tr_ab_default_seed(const char *id, int64_t started_at);

/* A new running test as o describes it, with the next free id of reg (not registered: put it
 * in a transaction). TR_ERR_INVALID for a bad plan or pair set. */
tr_code tr_ab_new(const tr_registry *reg, const tr_ab_start_opts *o, tr_ab_test *out,
                  tr_error *err);

/* Registers a new running test with the next free id ("ab1", "ab2", ...). The registry's rules
 * apply (both versions usable, no running test on an overlapping pair set). */
tr_code tr_ab_start(tr_store *store, const tr_ab_start_opts *o, tr_ab_test *out, tr_error *err);

/* Analyses the test id as of as_of from the recorded signals (as_of 0: the wall clock). Does not
 * change the store. TR_ERR_NOTFOUND for an unknown id. */
tr_code tr_ab_analyse(tr_store *store, const char *id, int64_t as_of, tr_ab_report *out,
                      tr_error *err);

/* Stops a running test by hand: status stopped, end reason "stopped" (note appended), the last
 * figures kept, no verdict and no activation. TR_ERR_CONFLICT when it is not running. */
tr_code tr_ab_stop(tr_store *store, const char *id, int64_t as_of, const char *note,
                   tr_ab_report *out, tr_error *err);

/* The scheduler's look (the "abtest" cycle) at every running test as of ctx->as_of, ctx's clock
 * stamped on activations: records the look, ends tests whose call is final and activates
 * winners, all in one transaction with one "abtest" log row. *n_tests (optional) receives the
 * tests analysed, *n_ended the tests ended; summary (optional, size bytes) a one-line account. */
tr_code tr_ab_look(const tr_cycle_ctx *ctx, int *n_tests, int *n_ended, char *summary, size_t size,
                   tr_error *err);
/* The same as of as_of on the wall clock. */
tr_code tr_ab_check(tr_store *store, int64_t as_of, int *n_tests, int *n_ended, char *summary,
                    size_t size, tr_error *err);

/* The report as JSON, into a malloc'd string (NULL when out of memory); the Markdown one is
 * report/ab_report.h's tr_ab_report_markdown. */
char *tr_ab_report_json(const tr_ab_report *r);

#endif
