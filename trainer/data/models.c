/* models.c - checkpoints of registered versions (models.h). */
#define _POSIX_C_SOURCE 200809L

#include "data/models.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/threads.h"

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

/* ---- the cache of a store's files ------------------------------------------------------------ */

static tr_code cache_path(tr_store *store, const char *name, uint32_t crc, int64_t size, char *out,
                          size_t n, tr_error *err)
{
    char file[TR_FILE_NAME_MAX + 48];
    int k = snprintf(file, sizeof file, "%08x-%lld-", (unsigned)crc, (long long)size);
    for (const char *c = name; *c && (size_t)k + 1 < sizeof file; c++)
        file[k++] = *c == '/' ? '_' : *c;
    file[k] = '\0';
    return tr_store_path(store, TR_AREA_CACHE, file, out, n, err);
}

/* Writes the cache file atomically: "<path>.tmp.<pid>" created exclusively (another thread of
 * this process writing the same file makes this one give up: the file is coming), written,
 * fsync'ed, renamed over path; the directory fsync'ed. */
static tr_code cache_write(const char *path, const char *data, size_t n, tr_error *err)
{
    char tmp[4500], dir[4400];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    tr_code rc = tr_mkdir_p(dir, err);
    if (rc)
        return rc;
    (void)tr_tmp_sweep_dead(dir);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0)
        return errno == EEXIST
                   ? TR_OK
                   : tr_fail(err, TR_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    size_t done = 0;
    int ok = 1;
    while (ok && done < n) {
        ssize_t w = write(fd, data + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        ok = w > 0;
        if (ok)
            done += (size_t)w;
    }
    int e = errno;
    ok = ok && fsync(fd) == 0;
    e = ok ? 0 : e ? e : errno;
    if (close(fd) != 0 && ok) {
        ok = 0;
        e = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        ok = 0;
        e = errno;
    }
    if (!ok) {
        unlink(tmp);
        return tr_fail(err, TR_ERR_IO, "%s: writing the cache file failed: %s", path, strerror(e));
    }
    int dfd = open(dir, O_RDONLY);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return TR_OK;
}

static int bytes_match(const char *data, size_t len, uint32_t crc, int64_t size)
{
    return (int64_t)len == size && aifx_crc32(0, data, len) == crc;
}

tr_code tr_model_file_fetch(tr_store *store, const char *name, uint32_t crc, int64_t size,
                            char **data, size_t *len, tr_fetch_info *info, tr_error *err)
{
    tr_fetch_info local;
    if (!info)
        info = &local;
    *data = NULL;
    *len = 0;
    char path[4400];
    tr_code rc = cache_path(store, name, crc, size, path, sizeof path, err);
    if (rc)
        return rc;
    snprintf(info->path, sizeof info->path, "%s", path);
    char *d;
    size_t n;
    tr_error ce;
    rc = tr_file_read(path, &d, &n, &ce);
    if (rc == TR_OK && bytes_match(d, n, crc, size)) {
        info->source = TR_FROM_CACHE;
        *data = d;
        *len = n;
        return TR_OK;
    }
    if (rc == TR_OK) {
        free(d);
        snprintf(info->note, sizeof info->note,
                 "cache file %.900s is damaged (%zu bytes, or another CRC-32): fetched again from "
                 "the database",
                 path, n);
        (void)unlink(path);
    } else if (rc != TR_ERR_NOTFOUND) {
        snprintf(info->note, sizeof info->note, "cache file unreadable: %.900s", ce.msg);
    }
    uint32_t got_crc;
    rc = tr_store_file_get(store, name, &d, &n, &got_crc, err);
    if (rc)
        return rc;
    if (!bytes_match(d, n, crc, size)) {
        free(d);
        return tr_fail(err, TR_ERR_CHECKSUM,
                       "store %s: file %s in the database does not match the registry (%zu bytes, "
                       "CRC-32 %08x; recorded %lld bytes, %08x)",
                       tr_store_name(store), name, n, (unsigned)got_crc, (long long)size,
                       (unsigned)crc);
    }
    info->source = TR_FROM_DATABASE;
    tr_error we;
    if (cache_write(path, d, n, &we) != TR_OK) { /* loaded all the same; next time fetched again */
        size_t used = strlen(info->note);
        snprintf(info->note + used, sizeof info->note - used, "%s%.900s", used ? "; " : "", we.msg);
    }
    *data = d;
    *len = n;
    return TR_OK;
}

/* ---- loading a version ----------------------------------------------------------------------- */

tr_code tr_checkpoint_load(tr_store *store, const tr_version *rec, aifx_model **out, tr_error *err)
{
    return tr_checkpoint_load_info(store, rec, out, NULL, err);
}

tr_code tr_checkpoint_load_info(tr_store *store, const tr_version *rec, aifx_model **out,
                                tr_fetch_info *info, tr_error *err)
{
    char path[4400], msg[512];
    tr_fetch_info local;
    if (!info)
        info = &local;
    memset(info, 0, sizeof *info);
    *out = NULL;
    if (!tr_version_usable(rec))
        return tr_fail(err, TR_ERR_INVALID, "version %s is not usable (status %s)", rec->version,
                       tr_version_status_name(rec->status));
    char *data;
    tr_code rc0 = tr_store_path(store, TR_AREA_MODELS, rec->checkpoint, path, sizeof path, err);
    if (rc0)
        return rc0;
    snprintf(info->path, sizeof info->path, "%s", path);
    size_t len;
    tr_code rc = tr_file_read(path, &data, &len, err);
    int local_ok =
        rc == TR_OK && (int64_t)len == rec->ckpt_size && aifx_crc32(0, data, len) == rec->ckpt_crc;
    if (!local_ok && tr_store_has_files(store) && tr_file_name_valid(rec->checkpoint)) {
        /* not here (another host trained it), or not this version's (a models directory that
         * several databases share): the database's copy, through the cache */
        if (rc == TR_OK)
            free(data);
        char *d;
        size_t n;
        tr_error fe;
        tr_code frc = tr_model_file_fetch(store, rec->checkpoint, rec->ckpt_crc, rec->ckpt_size, &d,
                                          &n, info, &fe);
        if (frc == TR_OK) {
            data = d;
            len = n;
            rc = TR_OK;
            local_ok = 1;
        } else if (frc == TR_ERR_NOTFOUND) {
            if (rec->deprecated_at)
                return tr_fail(err, TR_ERR_INVALID,
                               "version %s is retired (%s): its checkpoint %s was deleted",
                               rec->version, rec->deprecation_reason, rec->checkpoint);
            return tr_fail(err, TR_ERR_CHECKSUM,
                           "version %s: its checkpoint %s is missing: not in the database of "
                           "store %s, and %s %s (registered before model files? `aifx-train db "
                           "upload` on the host that has it stores it)%s%.300s",
                           rec->version, rec->checkpoint, tr_store_name(store),
                           rc == TR_ERR_NOTFOUND ? "no file" : "no matching file", path,
                           info->note[0] ? "; " : "", info->note);
        } else {
            return tr_fail(err, frc, "version %s: %s", rec->version, fe.msg);
        }
    }
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
    if (!local_ok) {
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
    /* evaluated (and fine-tuned) on the process's threads (base/threads.h); a model loads with
     * one. Without memory for the workers it keeps one: the same bytes, slower. */
    (void)aifx_model_set_threads(*out, tr_train_threads());
    return TR_OK;
}

/* ---- files stored with a version, and reports ------------------------------------------------ */

tr_code tr_version_files_of(tr_store *store, const tr_version *rec, tr_version_files *out,
                            tr_error *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name[0], sizeof out->name[0], "%s", rec->checkpoint);
    snprintf(out->name[1], sizeof out->name[1], "%s.ref", rec->version);
    for (int k = 0; k < 2; k++) {
        tr_code rc = tr_store_path(store, TR_AREA_MODELS, out->name[k], out->path[k],
                                   sizeof out->path[k], err);
        if (rc)
            return rc;
        if (k == 1 && access(out->path[k], F_OK) != 0)
            break; /* no drift reference (a fine-tune's is its root's) */
        tr_reg_file *f = &out->f[out->n++];
        f->name = out->name[k];
        f->path = out->path[k];
        f->kind = k == 0 ? "checkpoint" : "reference";
        f->crc = k == 0 ? rec->ckpt_crc : 0;
        f->size = k == 0 ? rec->ckpt_size : -1;
    }
    return TR_OK;
}

tr_code tr_report_file_store(tr_store *store, const char *path, const char *kind, tr_error *err)
{
    if (!tr_store_has_files(store))
        return TR_OK;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char name[TR_FILE_NAME_MAX];
    if (snprintf(name, sizeof name, "reports/%s", base) >= (int)sizeof name)
        return tr_fail(err, TR_ERR_INVALID, "report file name %s is too long", base);
    char *data;
    size_t len;
    tr_code rc = tr_file_read(path, &data, &len, err);
    if (rc)
        return rc;
    rc = tr_store_file_put(store, name, kind, data, len, err);
    free(data);
    return rc;
}

tr_code tr_model_files_upload(tr_store *store, tr_upload_result *res, tr_error *err)
{
    memset(res, 0, sizeof *res);
    tr_file_info *list;
    size_t n_list;
    tr_code rc = tr_store_file_list(store, NULL, &list, &n_list, err);
    if (rc)
        return rc;
    tr_registry reg;
    rc = tr_store_registry_read(store, &reg, err);
    if (rc) {
        free(list);
        return rc;
    }
    for (size_t i = 0; i < reg.n_versions && !rc; i++) {
        const tr_version *v = &reg.versions[i];
        if (!v->checkpoint[0] || !tr_file_name_valid(v->checkpoint))
            continue;
        res->n_versions++;
        int have = 0;
        for (size_t j = 0; j < n_list && !have; j++)
            have = strcmp(list[j].name, v->checkpoint) == 0 && list[j].crc == v->ckpt_crc &&
                   list[j].size == v->ckpt_size;
        if (have) {
            res->n_stored++;
            continue;
        }
        tr_version_files vf;
        char *data = NULL;
        size_t len = 0;
        rc = tr_version_files_of(store, v, &vf, err);
        if (!rc && (tr_file_read(vf.path[0], &data, &len, NULL) != TR_OK ||
                    !bytes_match(data, len, v->ckpt_crc, v->ckpt_size))) {
            size_t used = strlen(res->missing);
            snprintf(res->missing + used, sizeof res->missing - used, "%s%s", used ? ", " : "",
                     v->version);
            res->n_missing++;
            free(data);
            continue;
        }
        for (size_t k = 0; !rc && k < vf.n; k++) {
            char *d = data;
            size_t n = len;
            if (k > 0 && (rc = tr_file_read(vf.path[k], &d, &n, err)) != TR_OK)
                break;
            rc = tr_store_file_put(store, vf.f[k].name, vf.f[k].kind, d, n, err);
            if (k > 0)
                free(d);
        }
        free(data);
        if (!rc)
            res->n_uploaded++;
    }
    tr_registry_free(&reg);
    free(list);
    return rc;
}
