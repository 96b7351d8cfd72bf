/*
 * check_kpath.h - run a test once per kernel path of the library (see kernel.c): loop tests
 * take the path from their loop index, force it, and skip the paths this CPU cannot run.
 */
#ifndef AIFX_CHECK_KPATH_H
#define AIFX_CHECK_KPATH_H

#include <stdio.h>

#include "internal.h"

static const char *const kpath_names[AIFX_KPATH_COUNT] = {"blas", "avx2"};

/* Forces path p; 0 (and a note on stderr) when this CPU cannot run it. */
static inline int kpath_enter(int p)
{
    if (!aifx__set_kernel_path(p)) {
        fprintf(stderr, "kernel path %s: not available on this CPU, skipped\n", kpath_names[p]);
        return 0;
    }
    return 1;
}

/* Back to the path chosen at load time (CK_FORK=no runs every test in one process). */
static inline void kpath_leave(void)
{
    aifx__set_kernel_path(-1);
}

#endif
