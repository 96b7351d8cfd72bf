/*
 * models.h - the registry's checkpoints on disk: a version's model saved and verified before it
 * is registered, and loaded only when its size and CRC-32 match the record.
 */
#ifndef AIFXT_MODELS_H
#define AIFXT_MODELS_H

#include "aifxnn.h"
#include "base/err.h"
#include "registry/registry.h"
#include "store/store.h"

/* An aifx_status as a tr_code with a message. */
tr_code tr_fail_aifx(tr_error *err, aifx_status st, const char *what);

/* Saves the model (without training state) as <models_dir>/<version>.ckpt, loads it back and
 * compares the parameters, and records path, size and CRC-32 in rec. Temporary files of an
 * earlier save of the same version that was killed ("<version>.ckpt.tmp.*") are removed first. */
tr_code tr_checkpoint_save_verified(tr_store *store, const aifx_model *m, tr_version *rec,
                                    tr_error *err);
/* Loads a registered version's checkpoint after checking its size and CRC-32 against the
 * record. Damage is TR_ERR_CHECKSUM (a missing file, another size or CRC-32), TR_ERR_FORMAT (the
 * library refuses the bytes) or TR_ERR_IO (unreadable): exit 5, the store-damage code, never
 * TR_ERR_NOTFOUND, which means an unknown version. A retired version whose file retention
 * deleted is TR_ERR_INVALID (not usable), saying so. */
tr_code tr_checkpoint_load(tr_store *store, const tr_version *rec, aifx_model **out, tr_error *err);
#endif
