/* testutil.h - small helpers shared by the trainer's Check suites (temporary dirs and files). */
#ifndef AIFXT_TESTUTIL_H
#define AIFXT_TESTUTIL_H

#include <stddef.h>

#include "base/bars.h"
#include "cycles/replay.h"
#include "cycles/schedule.h"
#include "registry/registry.h"
#include "store/store.h"

/* Creates a fresh directory under $TMPDIR or /tmp and returns its malloc'd path. */
char *tu_tempdir(void);
/* Removes a directory tree (files and subdirectories); ignores errors. */
void tu_rmtree(const char *path);
/* Writes text to dir/name and returns the malloc'd path. */
char *tu_write(const char *dir, const char *name, const char *text);
/* dir/name into a malloc'd string. */
char *tu_path(const char *dir, const char *name);
/* A deterministic random-walk series of n valid bars on the tf grid starting at t0. */
void tu_walk(tr_bar *bars, size_t n, int64_t t0, int tf, unsigned seed, double price);
/* Seconds of monotonic time. */
double tu_now(void);

/* Runs `exe ARGS` (ARGS from fmt) through the shell with standard output and error into
 * dir/out.txt, or discarded when dir is NULL. Returns the exit status, or -1 if the program did
 * not exit normally (a signal), which no test expects. */
int tu_run(const char *exe, const char *dir, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* dir/out.txt (of the last tu_run) contains text (the first 1 MiB is searched). */
int tu_output_has(const char *dir, const char *text);

/* A UTC time from ISO text (timeutil.h forms); a parse failure fails the test. */
int64_t tu_time(const char *iso);
#define T(iso) tu_time(iso)

/* run-due options for tests: as of iso, the cycles shrunk to seconds (2 months of data, 8 hidden
 * units, 2 epochs, patience 1; every version eligible for the ranking). */
tr_due_opts tu_tiny_due(const char *iso);
/* The replay of two pairs (csv[2], pairs[2]) from Wednesday 2025-02-26 to Wednesday 2025-03-05
 * with cycles shrunk likewise (1 month of data, 2 epochs of fine-tuning): the ranking of
 * February 1st comes before any version (skipped), the weekly retrain of Sunday the 23rd makes
 * v1.0, the ranking of March 1st and the retrain of Sunday March 2nd run at the first bar of the
 * week. */
tr_replay_opts tu_tiny_replay(char **csv, const char *const *pairs);
/* The synthetic series tu_tiny_replay expects: pairs[p] from 2025-01-15 to 2025-03-06 (seed
 * 11 + p) written as dir/<PAIR>.csv; csv[p] receives the malloc'd paths; keep (optional)
 * receives the bars. */
void tu_write_replay_csvs(const char *dir, const char *const *pairs, char **csv, tr_bars *keep);
/* Starts two processes that open the store at location and call run-due (tu_tiny_due(iso)) at the
 * same moment. Each must either run (exit 0) or find the other's lock (exit 4); returns how many
 * ran. Any other outcome fails the test. */
int tu_two_run_due(const char *location, const char *iso);
/* The end states of two stores are the same: the signals (matched by pair and bar time; all
 * fields but ids and wall times; probabilities within prob_tol, 0 for equal), the versions, the
 * log and the activations (all but wall-clock fields). */
void tu_assert_same_state(tr_store *a, tr_store *b, double prob_tol);
/* Log rows of cycle with as-of time as_of and status (-1: any). */
int tu_log_rows(tr_store *st, const char *cycle, int64_t as_of, int status);

/* Records with every field set to something a text, JSON or SQL round trip would damage (NaN,
 * -0, infinities, subnormals, extreme integers, escapes), for exact round-trip tests; k varies
 * the numbers of a version; pairs is the A/B test's pair set. */
void tu_full_version(tr_version *v, const char *name, int k);
void tu_full_ab(tr_ab_test *t, const char *id, const char *pairs);
/* Fails naming the first byte where two records differ. */
void tu_assert_same_bytes(const void *a, const void *b, size_t n, const char *what);

#endif
