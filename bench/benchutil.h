/*
 * benchutil.h - what the trainer's small bench programs share: the median of repeated timings
 * and the CPU's name for the figure's caption. Header-only (each bench is one file).
 */
#ifndef AIFX_BENCHUTIL_H
#define AIFX_BENCHUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bu_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of v (n >= 1), which is sorted in place. */
static inline double bu_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bu_cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* /proc/cpuinfo's first "model name", or "unknown CPU". */
static inline void bu_cpu_name(char *buf, size_t size)
{
    snprintf(buf, size, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        const char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon) {
            snprintf(buf, size, "%.100s", colon + 2);
            buf[strcspn(buf, "\n")] = 0;
            break;
        }
    }
    fclose(f);
}

#endif
