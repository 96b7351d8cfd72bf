/*
 * evalset.h - one window's dataset built once and shared by the evaluations of many versions
 * (the monthly ranking evaluates every version not retired on the same 30 days).
 *
 * tr_evaluate_version (eval.h) reads every stored bar before the window's end, computes the 38
 * features and the labels over all of them and builds the window's samples, once per version:
 * the same work for every version with the same window and label kind, growing with the stored
 * history. A set does it once; tr_eval_set_version then loads the version, predicts the set's
 * windows and backtests them exactly as tr_evaluate_version does, so the report and the equity
 * curve are the same bit for bit (tests/trainer/check_rank.c compares the two).
 */
#ifndef AIFXT_EVALSET_H
#define AIFXT_EVALSET_H

#include <stdint.h>

#include "data/eval.h"
#include "store/store.h"

typedef struct tr_eval_set {
    int32_t timeframe;
    int64_t from, to;
    int label_kind; /* tr_hyper_label_kind of the versions it serves */
    int n_pairs;
    char pairs[8][TR_PAIR_MAX]; /* every pair stored at the timeframe, as tr_evaluate_version's */
    tr_dataset *ds;
    tr_rows rows;
} tr_eval_set;

/* Builds the set of [from, to) at timeframe for label_kind over every stored pair, as
 * tr_evaluate_version with pairs NULL would. On failure *out holds nothing (free is harmless) and
 * err the error tr_evaluate_version would give for a version with a sound checkpoint. */
tr_code tr_eval_set_build(tr_store *store, int32_t timeframe, int64_t from, int64_t to,
                          int label_kind, tr_eval_set *out, tr_error *err);
void tr_eval_set_free(tr_eval_set *set);

/* tr_evaluate_version(store, v->version, NULL, 0, set's timeframe, from, to, NULL, out, equity)
 * for a version v whose label kind is the set's (TR_ERR_INVALID otherwise); v is its registry
 * record. The set is only read: versions may be evaluated one after another on one set. */
tr_code tr_eval_set_version(const tr_eval_set *set, tr_store *store, const tr_version *v,
                            tr_eval_report *out, tr_equity *equity, tr_error *err);

#endif
