/*
 * outbox_dir.h - the directory store's delivery state of the outbox (docs/schema.md section 3,
 * "outbox/"). The events themselves are lines of registry.aifx, committed with the change they
 * announce; what happened to each of them at each sink lives in one small file per sink,
 * <store>/outbox/<sink>.state, replaced atomically (temporary file, fsync, rename) after every
 * attempt, so a delivery never rewrites the registry and a kill -9 loses at most the attempt in
 * flight (which is then made again: at-least-once). A sender holds flock on
 * <store>/outbox/<sink>.lock while it delivers to the sink; the kernel drops it when the process
 * dies.
 */
#ifndef AIFXT_OUTBOX_DIR_H
#define AIFXT_OUTBOX_DIR_H

#include "store/store.h"

/* The store.h operations for the directory store at dir, reg holding the whole outbox
 * (reg->events, in id order). The lease is the descriptor of the flock'ed lock file. */
tr_code tr_outbox_dir_claim(const char *dir, const tr_registry *reg, const char *sink, int64_t now,
                            int64_t backlog, size_t max, int64_t *lease, tr_outbox_delivery **list,
                            size_t *n, int64_t *next_due, tr_error *err);
tr_code tr_outbox_dir_record(const char *dir, const char *sink, int64_t lease,
                             const tr_outbox_attempt *a, tr_error *err);
void tr_outbox_dir_release(int64_t lease);
tr_code tr_outbox_dir_info(const char *dir, const tr_registry *reg, const char *sink,
                           tr_outbox_sink_info *info, tr_error *err);

#endif
