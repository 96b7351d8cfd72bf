/*
 * framed.h - the store's small framed text files: a header line "MAGIC MAJOR MINOR BYTES CRC"
 * (CRC-32 of the body, hex) and the body's lines. The job queue (jobs.aifx) and the outbox's
 * sink states use it; a reader checks the header, the version and the checksum before it
 * trusts a line.
 */
#ifndef AIFXT_FRAMED_H
#define AIFXT_FRAMED_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/strbuf.h"

/* Reads path whole into *data (malloc'd, the caller frees it) and sets *head to the offset of
 * the body. what names the file in messages ("a job queue file"). A file that does not start
 * with magic is TR_ERR_FORMAT, a major version above max_major TR_ERR_VERSION, a body of
 * another size or checksum TR_ERR_CHECKSUM (nothing returned for those); a missing file is
 * tr_file_read's TR_ERR_NOTFOUND. */
tr_code tr_framed_read(const char *path, const char *magic, const char *what, unsigned max_major,
                       char **data, size_t *len, size_t *head, tr_error *err);

/* Writes "magic major minor <bytes> <crc>\n" and body to path atomically (tr_file_write_atomic);
 * body may have run out of memory (then TR_ERR_NOMEM naming path, nothing written). */
tr_code tr_framed_write(const char *path, const char *magic, unsigned major, unsigned minor,
                        const tr_sb *body, tr_error *err);

/* A body line is "kind\tkey=value\tkey=value...": values with a control character, '%' or '='
 * are written %XX (the registry's lines too, registry_text.c). put_escaped appends such a value;
 * unescape reads s[0..n) into out (size bytes), -1 on a bad escape or a value that does not fit;
 * field unescapes key's value of the line ls[0..ll) into out (0, or -1 when it is absent or
 * bad); field_i64 reads a whole number, setting *bad when it is absent or not one. */
void tr_framed_put_escaped(tr_sb *b, const char *s);
int tr_framed_unescape(const char *s, size_t n, char *out, size_t size);
int tr_framed_field(const char *ls, size_t ll, const char *key, char *out, size_t size);
int64_t tr_framed_field_i64(const char *ls, size_t ll, const char *key, int *bad);

#endif
