/* models.c - checkpoints of registered versions (models.h). */
#define _POSIX_C_SOURCE 200809L

#include "data/models.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"

tr_code tr_fail_aifx(tr_error *err, aifx_status st, const char *what)
{
    tr_code c = st == AIFX_ERR_NOMEM      ? TR_ERR_NOMEM
                : st == AIFX_ERR_IO       ? TR_ERR_IO
                : st == AIFX_ERR_CHECKSUM ? TR_ERR_CHECKSUM
                : st == AIFX_ERR_VERSION  ? TR_ERR_VERSION
                : st == AIFX_ERR_FORMAT || st == AIFX_ERR_TRUNCATED || st == AIFX_ERR_ARCH
                    ? TR_ERR_FORMAT
                : st == AIFX_ERR_DIVERGED || st == AIFX_ERR_NONFINITE ? TR_ERR_DATA
                                                                      : TR_ERR_INVALID;
    return tr_fail(err, c, "%s: %s", what, aifx_strerror(st));
}

tr_code tr_checkpoint_save_verified(tr_store *store, const aifx_model *m, tr_version *rec,
                                    tr_error *err)
{
    char path[4400], msg[512];
    snprintf(rec->checkpoint, sizeof rec->checkpoint, "%s.ckpt", rec->version);
    char dir[4400];
    tr_code rc0 = tr_store_path(store, TR_AREA_MODELS, rec->checkpoint, path, sizeof path, err);
    if (!rc0)
        rc0 = tr_store_path(store, TR_AREA_MODELS, NULL, dir, sizeof dir, err);
    if (!rc0)
        rc0 = tr_mkdir_p(dir, err);
    if (rc0)
        return rc0;
    /* a save of this version killed before its rename left a temporary file (the library's
     * random suffix); the version's name is this cycle's alone, under its lock */
    (void)tr_tmp_remove_all(path);
    aifx_status st = aifx_model_save(m, path, 0, msg, sizeof msg);
    if (st != AIFX_OK)
        return tr_fail(err, TR_ERR_IO, "saving version %s: %s", rec->version, msg);
    char *data;
    size_t len;
    tr_code rc = tr_file_read(path, &data, &len, err);
    if (rc)
        return rc;
    aifx_model *back = NULL;
    st = aifx_model_load_buffer(data, len, &back, msg, sizeof msg);
    if (st == AIFX_OK) {
        aifx_model *mm = (aifx_model *)(uintptr_t)m; /* read-only access to the block */
        size_t np = aifx_net_n_params(aifx_model_net(mm));
        if (np != aifx_net_n_params(aifx_model_net(back)) ||
            memcmp(aifx_net_params(aifx_model_net(mm)), aifx_net_params(aifx_model_net(back)),
                   np * sizeof(float)) != 0)
            rc = tr_fail(err, TR_ERR_CHECKSUM,
                         "checkpoint %s of version %s reads back different parameters", path,
                         rec->version);
    } else {
        rc = tr_fail(err, TR_ERR_FORMAT, "checkpoint of version %s does not verify: %s",
                     rec->version, msg);
    }
    aifx_model_free(back);
    if (!rc) {
        rec->ckpt_crc = aifx_crc32(0, data, len);
        rec->ckpt_size = (int64_t)len;
    } else {
        unlink(path);
    }
    free(data);
    return rc;
}

tr_code tr_checkpoint_load(tr_store *store, const tr_version *rec, aifx_model **out, tr_error *err)
{
    char path[4400], msg[512];
    *out = NULL;
    if (!tr_version_usable(rec))
        return tr_fail(err, TR_ERR_INVALID, "version %s is not usable (status %s)", rec->version,
                       tr_version_status_name(rec->status));
    char *data;
    tr_code rc0 = tr_store_path(store, TR_AREA_MODELS, rec->checkpoint, path, sizeof path, err);
    if (rc0)
        return rc0;
    size_t len;
    tr_code rc = tr_file_read(path, &data, &len, err);
    if (rc == TR_ERR_NOTFOUND) {
        /* the registry records a file that is not there: damage like a changed file, unless
         * the version is retired and its file was deleted on purpose */
        if (rec->deprecated_at)
            return tr_fail(err, TR_ERR_INVALID,
                           "version %s is retired (%s): its checkpoint %s was deleted",
                           rec->version, rec->deprecation_reason, path);
        return tr_fail(err, TR_ERR_CHECKSUM,
                       "checkpoint %s of version %s is missing (the registry records %lld bytes)",
                       path, rec->version, (long long)rec->ckpt_size);
    }
    if (rc)
        return rc; /* TR_ERR_IO naming the file, or TR_ERR_NOMEM */
    if ((int64_t)len != rec->ckpt_size || aifx_crc32(0, data, len) != rec->ckpt_crc) {
        free(data);
        return tr_fail(err, TR_ERR_CHECKSUM,
                       "checkpoint %s of version %s does not match the registry (size %zu, "
                       "recorded %lld, or checksum)",
                       path, rec->version, len, (long long)rec->ckpt_size);
    }
    aifx_status st = aifx_model_load_buffer(data, len, out, msg, sizeof msg);
    free(data);
    if (st != AIFX_OK)
        return tr_fail(err, TR_ERR_FORMAT, "version %s: %s", rec->version, msg);
    return TR_OK;
}
