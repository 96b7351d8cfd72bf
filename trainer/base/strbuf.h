/*
 * strbuf.h - a growable text buffer for serialisation and JSON; an allocation failure is sticky
 * (oom set, later appends do nothing) so that callers check once at the end.
 */
#ifndef AIFXT_STRBUF_H
#define AIFXT_STRBUF_H

#include <stddef.h>

#include "base/err.h"

typedef struct tr_sb {
    char *p; /* NUL-terminated when non-NULL */
    size_t n, cap;
    int oom;
} tr_sb;

void tr_sb_printf(tr_sb *b, const char *fmt, ...) TR_PRINTF(2, 3);
void tr_sb_put(tr_sb *b, const char *s, size_t n);
/* A JSON string literal, quotes included. */
void tr_sb_json_str(tr_sb *b, const char *s);
/* A JSON number; NaN and infinities become null. */
void tr_sb_json_num(tr_sb *b, double v);
void tr_sb_free(tr_sb *b);

#endif
