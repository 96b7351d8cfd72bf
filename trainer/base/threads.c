/*
 * threads.c - the threads that train and evaluate models (threads.h).
 */
#define _GNU_SOURCE
#include "base/threads.h"

#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

static int train_threads; /* 0: not set yet */

static int default_threads(void)
{
    cpu_set_t set;
    int n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
    return n < 1 ? 1 : n > 2 ? 2 : n;
}

int tr_train_threads_set(int n)
{
    if (n < 0 || n > TR_TRAIN_THREADS_MAX)
        return -1;
    train_threads = n ? n : default_threads();
    /* OpenBLAS's own threads: one (a symbol of OpenBLAS only, so looked up, not linked) */
    void (*set)(int);
    *(void **)&set = dlsym(RTLD_DEFAULT, "openblas_set_num_threads"); /* POSIX's idiom */
    if (set)
        set(1);
    return 0;
}

int tr_train_threads(void)
{
    if (!train_threads)
        tr_train_threads_set(0);
    return train_threads;
}

int tr_train_threads_parse(const char *s, int *n)
{
    if (!s)
        return -1;
    if (strcmp(s, "auto") == 0) {
        *n = 0;
        return 0;
    }
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > TR_TRAIN_THREADS_MAX)
        return -1;
    *n = (int)v;
    return 0;
}
