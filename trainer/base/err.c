/* err.c - formatting of trainer errors (see err.h). */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>

tr_code tr_fail(tr_error *err, tr_code code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
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
