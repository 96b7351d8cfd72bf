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

#endif
