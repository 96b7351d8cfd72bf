/*
 * fill_signals.c - aifx-fill-signals STORE N: adds N recorded signals to a store, for the signal
 * log's benchmark (bench/signal_log.sh). Two pairs, one signal per 15-minute bar, going back in
 * time from 2020-01-01 so that they never meet the bars a benchmark then predicts; outcomes
 * resolved ("win"/"loss"), as a store that has run for years holds them. Batches of 10,000, each
 * one append (as the replay records). With --legacy, it writes them instead as the single file
 * signals.aifx of stores made before the split log (ids 1..N), to time the programs of before
 * and the move of such a file into the log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "store/signal_log.h"
#include "store/store.h"

int main(int argc, char **argv)
{
    int legacy = argc == 4 && strcmp(argv[3], "--legacy") == 0;
    if (argc != 3 && !legacy) {
        fprintf(stderr, "usage: aifx-fill-signals STORE N [--legacy]\n");
        return 2;
    }
    long long n = atoll(argv[2]);
    tr_sb file = {0};
    if (legacy)
        tr_sb_put(&file, "AIFXSIG 1 0\n", 12);
    tr_store *st;
    tr_error e;
    if (tr_store_open(argv[1], NULL, &st, &e) != TR_OK) {
        fprintf(stderr, "aifx-fill-signals: %s\n", e.msg);
        return 1;
    }
    enum { BATCH = 10000 };
    tr_signal *b = calloc(BATCH, sizeof *b);
    int64_t t0 = 0;
    tr_time_parse("2020-01-01T00:00:00Z", 20, 0, &t0);
    long long done = 0;
    int rc = 0;
    while (done < n && !rc) {
        size_t k = 0;
        for (; k < BATCH && done < n; k++, done++) {
            tr_signal *g = &b[k];
            memset(g, 0, sizeof *g);
            snprintf(g->pair, sizeof g->pair, "%s", done % 2 ? "USDJPY" : "EURUSD");
            g->timeframe = 900;
            g->bar_time = t0 - 900 * (done / 2 + 1);
            g->signal = (int)(done % 3);
            g->confidence = 0.61;
            g->probs[0] = 0.2, g->probs[1] = 0.61, g->probs[2] = 0.19;
            snprintf(g->model_version, sizeof g->model_version, "v1.0");
            g->created_at = g->bar_time + 900;
            snprintf(g->outcome, sizeof g->outcome, "%s", done % 2 ? "win" : "loss");
            g->exit_time = g->bar_time + 3600;
            g->exit_price = 1.1;
            g->pnl_pips = done % 2 ? 12.5 : -9.5;
        }
        if (legacy) {
            for (size_t i = 0; i < k; i++) {
                b[i].id = done - (long long)k + (long long)i + 1;
                tr_siglog_encode(&file, &b[i]);
            }
        } else if (tr_store_signals_append(st, b, k, &e) != TR_OK) {
            fprintf(stderr, "aifx-fill-signals: %s\n", e.msg);
            rc = 1;
        }
    }
    if (legacy && !rc) {
        char path[4400];
        snprintf(path, sizeof path, "%s/signals.aifx", argv[1]);
        if (file.oom || tr_file_write_atomic(path, file.p, file.n, &e) != TR_OK) {
            fprintf(stderr, "aifx-fill-signals: %s\n", file.oom ? "out of memory" : e.msg);
            rc = 1;
        }
    }
    tr_sb_free(&file);
    free(b);
    tr_store_close(st);
    return rc;
}
