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
 * the temporary file is removed and path is unchanged. */
tr_code tr_file_write_atomic(const char *path, const void *data, size_t n, tr_error *err);

/* Creates the directory and its missing parents (mode 0777 & ~umask); existing is fine. */
tr_code tr_mkdir_p(const char *path, tr_error *err);

#endif
