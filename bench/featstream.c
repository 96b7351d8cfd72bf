/*
 * featstream.c - aifx-bench-featstream [--runs R] [--csv FILE]: what one new bar costs the
 * prediction service, computed two ways over the same bars:
 *   batch   tr_features_compute over the last 5,000 bars (what prediction does today);
 *   push    tr_featstream_push of one bar into a stream that has seen the history
 *           (market/featstream.h), timed over 5,000 consecutive pushes past the warm-up.
 * Each figure is the median of R runs (default 15) after one untimed run. The bars are 15-minute
 * synthetic EUR/USD (market/synth.h, seed 1, 2024) or the 15-minute CSV file given.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/csv.h"
#include "benchutil.h"
#include "market/featstream.h"
#include "market/synth.h"

enum { HISTORY = 5000, PUSHES = 5000 };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    int runs = 15;
    const char *csv = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--csv") == 0 && i + 1 < argc) {
            csv = argv[++i];
        } else {
            fprintf(stderr, "usage: aifx-bench-featstream [--runs R] [--csv FILE]\n");
            return 2;
        }
    }
    if (runs < 1)
        runs = 1;
    tr_error e;
    tr_bars bars = {0};
    if (csv) {
        tr_csv_options o = tr_csv_options_default(900);
        tr_csv_data d;
        if (tr_csv_read(csv, &o, &d, &e) != TR_OK) {
            fprintf(stderr, "aifx-bench-featstream: %s\n", e.msg);
            return 1;
        }
        free(d.line);
        bars = d.bars;
    } else {
        tr_synth_params p = tr_synth_params_default("EURUSD", 1704067200, 1735689600, 1);
        if (tr_synth_generate(&p, &bars, NULL, &e) != TR_OK) {
            fprintf(stderr, "aifx-bench-featstream: %s\n", e.msg);
            return 1;
        }
    }
    if (bars.n < HISTORY + PUSHES) {
        fprintf(stderr, "aifx-bench-featstream: %zu bars, at least %d needed\n", bars.n,
                HISTORY + PUSHES);
        tr_bars_free(&bars);
        return 1;
    }
    const size_t n = bars.n, start = n - PUSHES; /* the pushes timed: bars start..n-1 */
    double *feat = malloc((size_t)HISTORY * TR_N_FEATURES * sizeof *feat);
    double *t_batch = malloc((size_t)runs * sizeof *t_batch);
    double *t_push = malloc((size_t)runs * sizeof *t_push);
    tr_featstream *warm = NULL;
    int rc = 1;
    if (!feat || !t_batch || !t_push || tr_featstream_new(256, &warm, &e) != TR_OK) {
        fprintf(stderr, "aifx-bench-featstream: out of memory\n");
        goto done;
    }
    for (size_t t = 0; t < start; t++)
        if (tr_featstream_push(warm, &bars.v[t], NULL, &e) != TR_OK) {
            fprintf(stderr, "aifx-bench-featstream: %s\n", e.msg);
            goto done;
        }

    double row[TR_N_FEATURES], sink = 0;
    for (int r = -1; r < runs; r++) { /* run -1 warms the caches, untimed */
        double t0 = now();
        if (tr_features_compute(bars.v + n - HISTORY, HISTORY, feat, &e) != TR_OK) {
            fprintf(stderr, "aifx-bench-featstream: %s\n", e.msg);
            goto done;
        }
        double t1 = now();
        sink += feat[(HISTORY - 1) * TR_N_FEATURES];
        tr_featstream *fs = tr_featstream_clone(warm);
        if (!fs) {
            fprintf(stderr, "aifx-bench-featstream: out of memory\n");
            goto done;
        }
        double t2 = now();
        for (size_t t = start; t < n; t++)
            if (tr_featstream_push(fs, &bars.v[t], row, &e) != TR_OK) {
                fprintf(stderr, "aifx-bench-featstream: %s\n", e.msg);
                tr_featstream_free(fs);
                goto done;
            }
        double t3 = now();
        sink += row[0];
        tr_featstream_free(fs);
        if (r >= 0) {
            t_batch[r] = t1 - t0;
            t_push[r] = (t3 - t2) / PUSHES;
        }
    }
    char cpu[128];
    bu_cpu_name(cpu, sizeof cpu);
    double mb = bu_median(t_batch, runs), mp = bu_median(t_push, runs);
    printf("aifx-bench-featstream: %s, %zu bars (%s), median of %d runs\n", cpu, n,
           csv ? csv : "synthetic EURUSD 15m", runs);
    printf("  batch  tr_features_compute over %d bars  %10.1f us  (%.3f us per bar)\n", HISTORY,
           1e6 * mb, 1e6 * mb / HISTORY);
    printf("  push   tr_featstream_push of one bar     %10.3f us\n", 1e6 * mp);
    printf("  a new bar costs the batch %.0f times what it costs the stream (checksum %g)\n",
           mb / mp, sink);
    rc = 0;
done:
    tr_featstream_free(warm);
    free(feat), free(t_batch), free(t_push);
    tr_bars_free(&bars);
    return rc;
}
