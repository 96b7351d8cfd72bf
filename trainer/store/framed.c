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

tr_code tr_framed_write(const char *path, const char *magic, unsigned major, unsigned minor,
                        const tr_sb *body, tr_error *err)
{
    tr_sb out = {0};
    tr_sb_printf(&out, "%s %u %u %zu %08x\n", magic, major, minor, body->n,
                 (unsigned)aifx_crc32(0, body->p ? body->p : "", body->n));
    if (body->p)
        tr_sb_put(&out, body->p, body->n);
    tr_code rc = body->oom || out.oom ? tr_fail(err, TR_ERR_NOMEM, "out of memory writing %s", path)
                                      : tr_file_write_atomic(path, out.p, out.n, err);
    tr_sb_free(&out);
    return rc;
}

void tr_framed_put_escaped(tr_sb *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == '%' || c == '=')
            tr_sb_printf(b, "%%%02X", c);
        else
            tr_sb_put(b, s, 1);
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int tr_framed_unescape(const char *s, size_t n, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            c = (char)(h * 16 + l);
            i += 2;
        }
        if (o + 1 >= size)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

int tr_framed_field(const char *ls, size_t ll, const char *key, char *out, size_t size)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i < ll;) {
        const char *f = ls + i;
        const char *end = memchr(f, '\t', ll - i);
        size_t fl = end ? (size_t)(end - f) : ll - i;
        if (fl > kl && memcmp(f, key, kl) == 0 && f[kl] == '=')
            return tr_framed_unescape(f + kl + 1, fl - kl - 1, out, size);
        i += fl + 1;
    }
    return -1;
}

int64_t tr_framed_field_i64(const char *ls, size_t ll, const char *key, int *bad)
{
    char v[32];
    char *end;
    if (tr_framed_field(ls, ll, key, v, sizeof v)) {
        *bad = 1;
        return 0;
    }
    long long x = strtoll(v, &end, 10);
    if (end == v || *end)
        *bad = 1;
    return (int64_t)x;
}
