/* testutil.h - small helpers shared by the trainer's Check suites (temporary dirs and files). */
#ifndef AIFXT_TESTUTIL_H
#define AIFXT_TESTUTIL_H

#include <stddef.h>

#include "bars.h"

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

#endif
