/*
 * framed.h - the store's small framed text files: a header line "MAGIC MAJOR MINOR BYTES CRC"
 * (CRC-32 of the body, hex) and the body's lines. The job queue (jobs.aifx) and the outbox's
 * sink states use it; a reader checks the header, the version and the checksum before it
 * trusts a line.
 */
#ifndef AIFXT_FRAMED_H
#define AIFXT_FRAMED_H

#include <stddef.h>

#include "base/err.h"

/* Reads path whole into *data (malloc'd, the caller frees it) and sets *head to the offset of
 * the body. what names the file in messages ("a job queue file"). A file that does not start
 * with magic is TR_ERR_FORMAT, a major version above max_major TR_ERR_VERSION, a body of
 * another size or checksum TR_ERR_CHECKSUM (nothing returned for those); a missing file is
 * tr_file_read's TR_ERR_NOTFOUND. */
tr_code tr_framed_read(const char *path, const char *magic, const char *what, unsigned max_major,
                       char **data, size_t *len, size_t *head, tr_error *err);

#endif
