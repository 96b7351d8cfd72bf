/*
 * live_predict.c - aifx-bench-live-predict: the cost of one prediction's features and forward
 * pass, as `predict` computes them (tr_predict_window: the 38 features over the last 5,000 bars,
 * then the model) against aifx-serve's live pair (cycles/livefeat.h: the window from a feature
 * stream, then the model), and the cost of bringing a live pair up to one new bar.
 *
 *   aifx-bench-live-predict [--csv FILE] [--reps N]
 *
 * Without --csv the series is synthetic EUR/USD 15-minute bars (2024-01-01 .. 2024-05-01). The
 * model has the production defaults (T 20, 1 x 64, random weights: the cost does not depend on
 * them). Prints the median of N repetitions (default 200) of each, in microseconds, with the CPU
 * and the OpenBLAS core type, one line per figure.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/csv.h"
#include "base/timeutil.h"
#include "benchutil.h"
#include "cycles/cycle.h"
#include "cycles/livefeat.h"
#include "market/synth.h"

int main(int argc, char **argv)
{
    const char *csv = NULL;
    int reps = 200;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--csv") == 0 && i + 1 < argc)
            csv = argv[++i];
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: aifx-bench-live-predict [--csv FILE] [--reps N]\n");
            return 2;
        }
    }
    if (reps < 10)
        reps = 10;
    tr_error e;
    tr_bars b = {0};
    if (csv) {
        tr_csv_options co = tr_csv_options_default(900);
        tr_csv_data d;
        if (tr_csv_read(csv, &co, &d, &e)) {
            fprintf(stderr, "aifx-bench-live-predict: %s\n", e.msg);
            return 1;
        }
        b = d.bars;
        memset(&d.bars, 0, sizeof d.bars);
        tr_csv_data_free(&d);
    } else {
        int64_t t0, t1;
        tr_time_parse("2024-01-01", 10, 0, &t0);
        tr_time_parse("2024-05-01", 10, 0, &t1);
        tr_synth_params sp = tr_synth_params_default("EURUSD", t0, t1, (uint64_t)5);
        int dec;
        if (tr_synth_generate(&sp, &b, &dec, &e)) {
            fprintf(stderr, "aifx-bench-live-predict: %s\n", e.msg);
            return 1;
        }
    }
    if (b.n < TR_PREDICT_MAX_HISTORY + (size_t)reps + 1) {
        fprintf(stderr, "aifx-bench-live-predict: %zu bars; need %d\n", b.n,
                TR_PREDICT_MAX_HISTORY + reps + 1);
        return 1;
    }
    /* a store holding all but the last reps bars */
    char dir[] = "/tmp/aifx-bench-live-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    tr_store *st;
    tr_put_stats ps;
    size_t n0 = b.n - (size_t)reps;
    if (tr_store_open(dir, &(tr_store_options){.create = 1}, &st, &e) ||
        tr_store_bars_put(st, "EURUSD", 900, b.v, n0, 0, &ps, &e)) {
        fprintf(stderr, "aifx-bench-live-predict: %s\n", e.msg);
        return 1;
    }
    aifx_model *m;
    aifx_model_config c = aifx_model_config_default();
    if (aifx_model_new(&c, &m) != AIFX_OK)
        return 1;
    tr_live_pair *lp;
    if (tr_live_pair_new("EURUSD", 900, &lp, &e) ||
        tr_live_pair_sync(lp, st, b.v[n0 - 1].t + 900, 0, 0, NULL, &e)) {
        fprintf(stderr, "aifx-bench-live-predict: %s\n", e.msg);
        return 1;
    }
    double *feat = malloc((size_t)TR_PREDICT_MAX_HISTORY * TR_N_FEATURES * sizeof *feat);
    float x[20 * TR_N_FEATURES], probs[3];
    double *tb = malloc((size_t)reps * sizeof *tb), *tl = malloc((size_t)reps * sizeof *tl);
    double *ts = malloc((size_t)reps * sizeof *ts);
    if (!feat || !tb || !tl || !ts)
        return 1;
    int best;
    for (int r = 0; r < reps; r++) {
        size_t n = n0 + (size_t)r;
        /* a new bar: stored, then the live pair brought up to it (one read, one push) */
        if (r > 0) {
            if (tr_store_bars_put(st, "EURUSD", 900, &b.v[n - 1], 1, 0, &ps, &e))
                return 1;
            double t = tr_mono_now();
            if (tr_live_pair_sync(lp, st, b.v[n - 1].t + 900, t, 0, NULL, &e)) {
                fprintf(stderr, "aifx-bench-live-predict: %s\n", e.msg);
                return 1;
            }
            ts[r] = tr_mono_now() - t;
        } else {
            ts[r] = 0;
        }
        /* interleaved: the batch, then the live window */
        double t = tr_mono_now();
        if (tr_predict_window(m, NULL, "EURUSD", b.v, n, feat, x, probs, &best, &e))
            return 1;
        tb[r] = tr_mono_now() - t;
        t = tr_mono_now();
        if (tr_live_pair_predict(lp, m, NULL, probs, &best, &e))
            return 1;
        tl[r] = tr_mono_now() - t;
    }
    char cpu[256];
    bu_cpu_name(cpu, sizeof cpu);
    const char *core = getenv("OPENBLAS_CORETYPE");
    printf("cpu: %s; OPENBLAS_CORETYPE %s; 1 thread; %d repetitions, medians\n", cpu,
           core && *core ? core : "unset", reps);
    printf("batch (predict's features over 5,000 bars + forward): %8.1f us\n",
           1e6 * bu_median(tb, reps));
    printf("live  (stream window + forward):                      %8.1f us\n",
           1e6 * bu_median(tl, reps));
    printf("live  sync to one new bar (store read + push):        %8.1f us\n",
           1e6 * bu_median(ts + 1, reps - 1));
    free(feat);
    free(tb);
    free(tl);
    free(ts);
    tr_live_pair_free(lp);
    aifx_model_free(m);
    tr_store_close(st);
    tr_bars_free(&b);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
