/*
 * fsutil.h - whole-file reads, atomic durable writes and directory creation (POSIX).
 */
#ifndef AIFXT_FSUTIL_H
#define AIFXT_FSUTIL_H

#include <stddef.h>

#include "base/err.h"

/* Reads the whole file into a malloc'd buffer with a terminating NUL (not counted in *len).
 * The caller frees *data. A missing file is TR_ERR_NOTFOUND, other failures TR_ERR_IO. */
tr_code tr_file_read(const char *path, char **data, size_t *len, tr_error *err);

/* Writes n bytes to path atomically and durably: a temporary file in the same directory
 * ("path.tmp.PID"), written, fsync'ed, renamed over path, then the directory fsync'ed. On failure
 * the temporary file is removed and path is unchanged. First it removes the temporary files
 * of dead processes in that directory (tr_tmp_sweep_dead). */
tr_code tr_file_write_atomic(const char *path, const void *data, size_t n, tr_error *err);

/* Removes the files "NAME.tmp.PID" in dir whose process PID no longer exists (kill(PID, 0)
 * fails with ESRCH): what a process killed inside an atomic write leaves. Files of live
 * processes, of this process and of other users' processes are kept. Returns how many went. */
size_t tr_tmp_sweep_dead(const char *dir);

/* Removes every "path.tmp.*" beside path, whatever its suffix (also the random ones of
 * aifx_model_save). Only for a caller that owns path exclusively (holds its cycle lock).
 * Returns how many went. */
size_t tr_tmp_remove_all(const char *path);

/* Creates the directory and its missing parents (mode 0777 & ~umask); existing is fine. */
tr_code tr_mkdir_p(const char *path, tr_error *err);

#endif
