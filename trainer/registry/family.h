/*
 * family.h - model families: a named set of pairs at one timeframe with its own model, label,
 * decision and schedule settings, and its own lineage of versions (docs/families.md).
 *
 * A store holds any number of families. Each has its own registry (versions v1.0, v1.1, ... of
 * its own, its active version, training log, A/B tests and outbox), its own signals and its own
 * cycle locks; the bars are shared by every family of the store, by (pair, timeframe). The
 * family "default" is implicit: every stored pair at 15 minutes with the built-in settings,
 * which is what a store was before families, so existing stores and scripts keep working.
 *
 * A definition is a short text of "key = value" lines (a file given to `family add --file`, and
 * the form a store keeps), parsed and written here so both backends read the same thing:
 *
 *     # EUR/USD and USD/JPY on hourly bars
 *     pairs = EURUSD,USDJPY
 *     timeframe = 1h
 *     labels = barrier
 *     hidden = 64
 *
 * Settings a definition leaves out (0 here) take the built-in defaults.
 */
#ifndef AIFXT_FAMILY_H
#define AIFXT_FAMILY_H

#include <stddef.h>
#include <stdint.h>

#include "base/bars.h"
#include "base/err.h"

#define TR_FAMILY_NAME_MAX  64
#define TR_FAMILY_PAIRS_MAX 8
#define TR_FAMILY_DEFAULT   "default"
#define TR_FAMILY_TEXT_MAX  4096 /* a definition's text, at most */
#define TR_BASE_TIMEFRAME   900  /* the timeframe the built-in windows are stated for */

typedef struct tr_family {
    char name[TR_FAMILY_NAME_MAX];
    int32_t timeframe;                            /* seconds; 0: 900 */
    int n_pairs;                                  /* 0: every pair stored at the timeframe */
    char pairs[TR_FAMILY_PAIRS_MAX][TR_PAIR_MAX]; /* sorted, distinct */
    int labels;                                   /* TR_LABELS_* + 1; 0: the default */
    int decision;                                 /* TR_DECISION_* + 1; 0: the default */
    int n_layers, n_hidden, max_epochs, batch;    /* 0: the default */
    int months;                                   /* the retrain's window; 0: scaled default */
    int weekday;                                  /* the weekly retrain's day, 0 Monday .. 6 Sunday,
                                                     + 1; 0: the default (Sunday) */
    char disable[96];                             /* cycles the schedule does not run, comma-
                                                     separated ("drift,abtest"); checked by
                                                     tr_family_apply (cycles/family_opts.h) */
    int64_t created_at;                           /* set by the store when added */
} tr_family;

/* The implicit family "default" (all zeros but the name). */
tr_family tr_family_default(void);

/* 1 when name can name a family: 1..63 characters a-z 0-9 _ -, starting with a letter. */
int tr_family_name_valid(const char *name);

/* 1 for NULL, "" and "default". */
int tr_family_is_default(const char *name);

/* The family's timeframe (900 when unset). */
int32_t tr_family_timeframe(const tr_family *f);

/* How many bars of the family's timeframe stand for one 15-minute bar of a window the built-in
 * settings state in time (the fine-tune's day, the gate's week, the ranking's 30 days...):
 * timeframe / 900, at least 1. A window keeps its number of bars at every timeframe. */
int tr_family_scale(const tr_family *f);

/* Parses a definition's text (len bytes; see above) into f, named name (the text may not name
 * another). Unknown keys, bad values and duplicate keys are TR_ERR_INVALID naming the source
 * (what: a file name or "definition"), the line and the key. */
tr_code tr_family_parse(const char *name, const char *text, size_t len, const char *what,
                        tr_family *f, tr_error *err);

/* Sets one key (as a line "key = value" would), for the command line's options. */
tr_code tr_family_set(tr_family *f, const char *key, const char *value, tr_error *err);

/* Writes f's definition (the keys it sets, one per line, in a fixed order) into buf: the number
 * of bytes it needs, as snprintf. */
int tr_family_format(const tr_family *f, char *buf, size_t size);

#endif
