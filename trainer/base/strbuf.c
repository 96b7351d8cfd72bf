/* strbuf.c - see strbuf.h. */
#include "base/strbuf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int grow(tr_sb *b, size_t extra)
{
    if (b->oom)
        return -1;
    if (b->n + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + extra + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void tr_sb_put(tr_sb *b, const char *s, size_t n)
{
    if (grow(b, n))
        return;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void tr_sb_printf(tr_sb *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (w < 0 || grow(b, (size_t)w))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)w + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)w;
}

void tr_sb_json_str(tr_sb *b, const char *s)
{
    tr_sb_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            tr_sb_put(b, e, 2);
        } else if (c < 0x20) {
            tr_sb_printf(b, "\\u%04x", c);
        } else {
            tr_sb_put(b, s, 1);
        }
    }
    tr_sb_put(b, "\"", 1);
}

void tr_sb_json_num(tr_sb *b, double v)
{
    if (!isfinite(v))
        tr_sb_put(b, "null", 4);
    else
        tr_sb_printf(b, "%.10g", v);
}

void tr_sb_free(tr_sb *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
    b->oom = 0;
}
