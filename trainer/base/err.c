/* err.c - formatting of trainer errors (see err.h). */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>

/* The length of the valid UTF-8 sequence at s (1..4), or 0 when the bytes there are not one
 * (overlong forms, surrogates and code points above U+10FFFF included). */
static int utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    int n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
    if (!n)
        return 0;
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    unsigned c1 = s[1];
    if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0) || (c == 0xf0 && c1 < 0x90) ||
        (c == 0xf4 && c1 >= 0x90))
        return 0;
    return n;
}

/* Messages quote outside input (a CSV field, a header, a request): control characters and bytes
 * that are not UTF-8 become '?', so an error never writes raw bytes to a terminal or a log. */
static void make_printable(char *msg)
{
    unsigned char *p = (unsigned char *)msg;
    while (*p) {
        if (*p < 0x80) {
            if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
                *p = '?';
            p++;
            continue;
        }
        int n = utf8_len(p);
        if (n)
            p += n;
        else
            *p++ = '?';
    }
}

tr_code tr_fail(tr_error *err, tr_code code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        make_printable(err->msg);
        err->code = code;
    }
    return code;
}

void tr_error_clear(tr_error *err)
{
    if (err) {
        err->code = TR_OK;
        err->msg[0] = '\0';
    }
}

const char *tr_code_text(tr_code code)
{
    switch (code) {
    case TR_OK:
        return "success";
    case TR_ERR_NOMEM:
        return "out of memory";
    case TR_ERR_INVALID:
        return "invalid argument";
    case TR_ERR_DATA:
        return "bad input data";
    case TR_ERR_CONFLICT:
        return "conflict with stored data";
    case TR_ERR_IO:
        return "input/output error";
    case TR_ERR_FORMAT:
        return "bad file format";
    case TR_ERR_VERSION:
        return "unsupported format version";
    case TR_ERR_CHECKSUM:
        return "checksum mismatch";
    case TR_ERR_NOTFOUND:
        return "not found";
    case TR_ERR_UNSUPPORTED:
        return "unsupported";
    case TR_ERR_STALE:
        return "stale data";
    case TR_ERR_STORE:
        return "database error";
    }
    return "unknown error";
}
