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
 * deleted is TR_ERR_INVALID (not usable), saying so.
 * On a store that keeps files (PostgreSQL, store.h) the bytes come from the first of: the models
 * directory's <checkpoint> when it matches the record (the host that trained it, a store from
 * before model files), this host's cache, the database (then written to the cache); a version
 * whose bytes are nowhere is TR_ERR_CHECKSUM naming it. */
tr_code tr_checkpoint_load(tr_store *store, const tr_version *rec, aifx_model **out, tr_error *err);

/* Where the bytes of a load came from, and what was wrong on the way. */
typedef enum tr_file_source {
    TR_FROM_LOCAL = 0, /* the models directory */
    TR_FROM_CACHE,     /* this host's cache of the database's files */
    TR_FROM_DATABASE   /* fetched from the database (and cached) */
} tr_file_source;
typedef struct tr_fetch_info {
    tr_file_source source;
    char path[4400]; /* the local or cache file read or written ("" when none) */
    char note[1024]; /* "" or what was repaired: a damaged cache file (named) fetched again, a
                        cache file that could not be written */
} tr_fetch_info;

/* tr_checkpoint_load, saying where the bytes came from (info may be NULL). */
tr_code tr_checkpoint_load_info(tr_store *store, const tr_version *rec, aifx_model **out,
                                tr_fetch_info *info, tr_error *err);

/* The bytes of the stored file name of a store that keeps files, which must have crc and size,
 * through this host's cache, <models_dir>/cache/<crc>-<size>-<name, '/' as '_'>: a cache file
 * that verifies is used; a missing one, or a damaged one (named in info->note), is fetched from
 * the database, verified against crc and size, and written to the cache atomically (a temporary
 * file, fsync, rename). A name the database does not have is TR_ERR_NOTFOUND; bytes in the
 * database that differ from crc and size are TR_ERR_CHECKSUM. The caller frees *data. */
tr_code tr_model_file_fetch(tr_store *store, const char *name, uint32_t crc, int64_t size,
                            char **data, size_t *len, tr_fetch_info *info, tr_error *err);

/* The files a registry change stores with a new version (tr_reg_txn.files): its checkpoint
 * (with its recorded CRC-32 and size) and, when the models directory has it, its drift
 * reference (<version>.ref). */
typedef struct tr_version_files {
    tr_reg_file f[2];
    size_t n;
    char path[2][4400];
    char name[2][TR_FILE_NAME_MAX];
} tr_version_files;
tr_code tr_version_files_of(tr_store *store, const tr_version *rec, tr_version_files *out,
                            tr_error *err);

/* What tr_model_files_upload did. */
typedef struct tr_upload_result {
    size_t n_versions; /* registered versions with a checkpoint */
    size_t n_stored;   /* whose checkpoint the database had already */
    size_t n_uploaded; /* stored now from the models directory */
    size_t n_missing;  /* neither in the database nor a matching file here */
    char missing[512]; /* their names, comma-separated, as far as they fit */
} tr_upload_result;

/* Stores in the database of a store that keeps files the checkpoints (and drift references) of
 * registered versions that it lacks, from this host's models directory, each only when the file
 * matches its record's CRC-32 and size (aifx-train db upload; for stores registered before model
 * files). TR_ERR_UNSUPPORTED on a directory store. */
tr_code tr_model_files_upload(tr_store *store, tr_upload_result *res, tr_error *err);

/* Stores a report file written under the store's reports directory (path) in the database of a
 * store that keeps files, as "reports/<file name>" of kind ("report", "picture"); TR_OK doing
 * nothing on a directory store. */
tr_code tr_report_file_store(tr_store *store, const char *path, const char *kind, tr_error *err);
#endif
