/*
 * framed.c - the store's framed text files (framed.h).
 */
#include "store/framed.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aifxnn.h" /* aifx_crc32 */
#include "base/fsutil.h"

tr_code tr_framed_read(const char *path, const char *magic, const char *what, unsigned max_major,
                       char **data, size_t *len, size_t *head, tr_error *err)
{
    *data = NULL;
    tr_code rc = tr_file_read(path, data, len, err);
    if (rc)
        return rc;
    const char *d = *data;
    const char *nl = memchr(d, '\n', *len);
    unsigned major = 0, minor = 0, crc = 0;
    unsigned long long body = 0;
    char got[16];
    if (!nl || sscanf(d, "%15s %u %u %llu %x", got, &major, &minor, &body, &crc) != 5 ||
        strcmp(got, magic) != 0)
        rc = tr_fail(err, TR_ERR_FORMAT, "%s: not %s (bad header)", path, what);
    else if (major > max_major)
        rc = tr_fail(err, TR_ERR_VERSION, "%s: format %u.%u is newer than this program reads", path,
                     major, minor);
    else {
        *head = (size_t)(nl - d) + 1;
        if (body != *len - *head || aifx_crc32(0, d + *head, *len - *head) != (uint32_t)crc)
            rc = tr_fail(err, TR_ERR_CHECKSUM, "%s: truncated or damaged (size or checksum)", path);
    }
    if (rc) {
        free(*data);
        *data = NULL;
    }
    return rc;
}
