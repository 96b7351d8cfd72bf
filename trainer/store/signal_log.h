/*
 * signal_log.h - the directory store's trading signals: a log split by pair and month, so that
 * recording a signal, resolving outcomes and reading a pair's range cost what they touch, not
 * what is stored.
 *
 * Layout under <store>/signals/:
 *   next-id                 "AIFXSIGID 1\n<next id>\n": ids are 1, 2, ... in recording order and
 *                           never reused (the counter is written before the records it numbers)
 *   <PAIR>/<YYYY-MM>.sig    "AIFXSIG 2 1\n", then one line per signal whose bar opens in that UTC
 *                           month, in recording order: "<crc32 hex8>\t<18 tab-separated fields>"
 *                           (docs/schema.md), the CRC over the fields; segments of format 2 0
 *                           (17 fields, no `reported`) are read too, and their lines kept
 *                           verbatim until a record changes
 * Every file is replaced atomically (base/fsutil.h), so a reader sees a whole segment or the one
 * before; a line that fails its CRC, or a segment that does not end with a newline, is damage,
 * reported naming the file and line, never skipped.
 *
 * A signal is unique per (pair, bar, model version, A/B test): appending one that is stored
 * already returns the stored record (its id, probabilities and outcome) and writes nothing for it.
 *
 * The caller holds the store's write lock for append and update; get needs no lock.
 */
#ifndef AIFXT_SIGNAL_LOG_H
#define AIFXT_SIGNAL_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "market/signal.h"

/* Appends n signals to the log in dir (created if missing), assigning ids in order; a signal
 * already stored is replaced in sigs by the stored record. Each touched segment is rewritten
 * once. */
tr_code tr_siglog_append(const char *dir, tr_signal *sigs, size_t n, tr_error *err);

/* Replaces the outcome fields of the stored signals with the ids of sigs (n), found by their
 * pair and bar time. An id not stored there is TR_ERR_NOTFOUND and nothing is written. */
tr_code tr_siglog_update(const char *dir, const tr_signal *sigs, size_t n, tr_error *err);

/* The signals of pair (NULL: all) with from <= bar_time < to, in recording order (by id), into
 * a malloc'd array. A missing log holds no signal. */
tr_code tr_siglog_get(const char *dir, const char *pair, int64_t from, int64_t to, tr_signal **list,
                      size_t *n, tr_error *err);

/* Writes sigs (n, their ids kept) as the whole log in dir: each (pair, month) segment they fall
 * in is replaced, then the id counter is set past the largest id. Used once, to move the
 * single-file log of an older program into this layout. */
tr_code tr_siglog_import(const char *dir, const tr_signal *sigs, size_t n, tr_error *err);

/* 1 when dir holds a log (its id counter exists). */
int tr_siglog_exists(const char *dir);

/* The line codec, shared with the reader of the older single-file log. encode appends one line
 * (CRC, tab, fields, newline) to b; decode parses the n bytes of one line without its newline
 * (CRC included) into g: 0 when good, 1 on a CRC mismatch, -1 when malformed. */
struct tr_sb;
void tr_siglog_encode(struct tr_sb *b, const tr_signal *g);
int tr_siglog_decode(const char *line, size_t n, tr_signal *g);

#endif
