/*
 * csv.c - the bar CSV dialects (see csv.h). The whole file is read into memory and parsed line
 * by line; fields are split on commas, or on tabs when the first line has tabs and no comma
 * (MetaTrader 5), without quoting (none of the dialects quotes), and trimmed of blanks and of
 * one pair of surrounding double quotes. Numbers are plain decimals (digits, one point, an
 * optional sign and exponent), parsed with strtod in the "C" locale.
 *
 * Besides csv.h's three dialects, a header line maps columns by name, which reads the common
 * exports: "date,time,open,..." (date and time of day in two columns), MetaTrader 5's
 * "<DATE>\t<TIME>\t<OPEN>..." (tabs, "YYYY.MM.DD" and "HH:MM:SS"), Dukascopy's "Gmt time,Open,..."
 * ("DD.MM.YYYY HH:MM:SS.mmm", UTC) and TradingView's "time,open,..." (Unix seconds or ISO 8601).
 * A header that cannot be mapped is refused naming the missing or repeated column.
 */
#include "base/csv.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/timeutil.h"

#define MAX_FIELDS 16

typedef struct field {
    const char *p;
    size_t n;
} field;

typedef struct colmap {
    int time, clock, open, high, low, close, volume; /* field indices; -1 if absent */
    int n_fields;                                    /* fields every data line must have */
    int utc; /* the time column is UTC whatever the options say (Dukascopy's "Gmt time") */
} colmap;

tr_csv_options tr_csv_options_default(int32_t timeframe)
{
    tr_csv_options o;
    o.format = TR_CSV_AUTO;
    o.timeframe = timeframe;
    o.tz_mode = TR_TZ_FIXED;
    o.tz_offset = 0;
    return o;
}

int tr_csv_format_parse(const char *s, tr_csv_format *format)
{
    static const char *names[] = {"auto", "generic", "yfinance", "mt4"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *format = (tr_csv_format)i;
            return 0;
        }
    }
    return -1;
}

const char *tr_csv_format_name(tr_csv_format format)
{
    switch (format) {
    case TR_CSV_AUTO:
        return "auto";
    case TR_CSV_GENERIC:
        return "generic";
    case TR_CSV_YFINANCE:
        return "yfinance";
    case TR_CSV_MT4:
        return "mt4";
    }
    return "?";
}

static field trim(field f)
{
    while (f.n > 0 && (f.p[0] == ' ' || f.p[0] == '\t')) {
        f.p++;
        f.n--;
    }
    while (f.n > 0 && (f.p[f.n - 1] == ' ' || f.p[f.n - 1] == '\t'))
        f.n--;
    if (f.n >= 2 && f.p[0] == '"' && f.p[f.n - 1] == '"') {
        f.p++;
        f.n -= 2;
    }
    return f;
}

/* Splits a line on sep into at most MAX_FIELDS fields; returns the number of fields found. */
static int split(const char *line, size_t len, char sep, field *f)
{
    int count = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || line[i] == sep) {
            if (count < MAX_FIELDS) {
                field x = {line + start, i - start};
                f[count] = trim(x);
            }
            count++;
            start = i + 1;
        }
    }
    return count;
}

/* A header name compares case-insensitively, without MetaTrader 5's angle brackets
 * ("<DATE>" is "date"). */
static int field_is(field f, const char *name)
{
    if (f.n >= 2 && f.p[0] == '<' && f.p[f.n - 1] == '>') {
        f.p++;
        f.n -= 2;
    }
    size_t n = strlen(name);
    if (f.n != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)f.p[i]) != name[i])
            return 0;
    return 1;
}

static int all_digits(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)p[i]))
            return 0;
    return n > 0;
}

/* "YYYY-MM-DD", "YYYY.MM.DD", "YYYY/MM/DD" or "DD.MM.YYYY" into ISO "YYYY-MM-DD" at out (10
 * bytes); 0, or -1 for another form. */
static int iso_date(const char *p, size_t n, char *out)
{
    if (n < 10)
        return -1;
    if (isdigit((unsigned char)p[0]) && (p[4] == '-' || p[4] == '.' || p[4] == '/') &&
        p[7] == p[4]) {
        memcpy(out, p, 10);
    } else if (p[2] == '.' && p[5] == '.') { /* Dukascopy: day first */
        memcpy(out, p + 6, 4);
        memcpy(out + 5, p + 3, 2);
        memcpy(out + 8, p, 2);
    } else {
        return -1;
    }
    out[4] = out[7] = '-';
    return 0;
}

/* 0 and *out on a plain decimal number; -1 otherwise (empty, letters, hex, nan, inf). */
static int parse_num(field f, double *out)
{
    char buf[64];
    if (f.n == 0 || f.n >= sizeof buf)
        return -1;
    for (size_t i = 0; i < f.n; i++) {
        char c = f.p[i];
        if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
            return -1;
    }
    memcpy(buf, f.p, f.n);
    buf[f.n] = '\0';
    char *end;
    *out = strtod(buf, &end);
    return end == buf + f.n ? 0 : -1;
}

static int has_zone(field f)
{
    if (f.n > 0 && (f.p[f.n - 1] == 'Z' || f.p[f.n - 1] == 'z'))
        return 1;
    for (size_t i = 10; i < f.n; i++)
        if (f.p[i] == '+' || f.p[i] == '-')
            return 1;
    return 0;
}

/* Converts the time text (already in ISO form) to UTC under the options' zone rule. */
static int to_utc(const char *s, size_t n, int zoned, const tr_csv_options *opt, int64_t *t)
{
    if (opt->tz_mode == TR_TZ_EET && !zoned) {
        int64_t local;
        if (tr_time_parse(s, n, 0, &local))
            return -1;
        return tr_eet_to_utc(local, t) ? -2 : 0;
    }
    return tr_time_parse(s, n, opt->tz_mode == TR_TZ_FIXED ? opt->tz_offset : 0, t);
}

static int looks_mt4(const char *line, size_t len)
{
    return len >= 11 && isdigit((unsigned char)line[0]) && isdigit((unsigned char)line[3]) &&
           line[4] == '.' && line[7] == '.' && line[10] == ',';
}

static int is_time_name(field f)
{
    return field_is(f, "timestamp") || field_is(f, "time") || field_is(f, "date") ||
           field_is(f, "datetime") || field_is(f, "gmt time");
}

/* Columns a header may have besides the ones read: not reported as unknown. */
static int is_ignored_name(field f)
{
    static const char *names[] = {"adj close", "vol", "real_volume", "spread", "ticker"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (field_is(f, names[i]))
            return 1;
    return 0;
}

/* Maps a header line's names to columns: a time column (timestamp, time, datetime, date,
 * Gmt time; or a date column and a time column side by side), open, high, low, close and an
 * optional volume (volume, tick_volume, tickvol). Returns 0, or -1 with why (size whylen)
 * naming the missing or repeated column and the columns it did not recognise. */
static int map_header(const field *f, int n, tr_csv_format format, colmap *m, char *why,
                      size_t whylen)
{
    m->time = m->clock = m->open = m->high = m->low = m->close = m->volume = -1;
    m->n_fields = n;
    m->utc = 0;
    char unknown[160] = "";
    size_t ul = 0;
    int date_col = -1, time_col = -1, other_time = -1;
    for (int i = 0; i < n && i < MAX_FIELDS; i++) {
        int *slot = NULL;
        if (field_is(f[i], "date"))
            slot = &date_col;
        else if (field_is(f[i], "time"))
            slot = &time_col;
        else if (is_time_name(f[i]) ||
                 (i == 0 && format == TR_CSV_YFINANCE && field_is(f[i], "price")))
            slot = &other_time;
        else if (field_is(f[i], "open"))
            slot = &m->open;
        else if (field_is(f[i], "high"))
            slot = &m->high;
        else if (field_is(f[i], "low"))
            slot = &m->low;
        else if (field_is(f[i], "close"))
            slot = &m->close;
        else if (field_is(f[i], "volume") || field_is(f[i], "tick_volume") ||
                 field_is(f[i], "tickvol"))
            slot = &m->volume;
        if (slot && *slot >= 0 && slot != &other_time && slot != &m->volume) {
            snprintf(why, whylen, "the header names column '%.*s' twice (columns %d and %d)",
                     (int)f[i].n, f[i].p, *slot + 1, i + 1);
            return -1;
        }
        if (slot && *slot < 0)
            *slot = i;
        if (!slot && !is_ignored_name(f[i]) && ul + f[i].n + 8 < sizeof unknown)
            ul += (size_t)snprintf(unknown + ul, sizeof unknown - ul, "%s'%.*s'", ul ? ", " : "",
                                   (int)f[i].n, f[i].p);
    }
    if (other_time >= 0) { /* timestamp, datetime, Gmt time: one column */
        m->time = other_time;
        m->utc = field_is(f[other_time], "gmt time");
    } else if (date_col >= 0 && time_col >= 0) { /* date and time of day side by side */
        m->time = date_col;
        m->clock = time_col;
    } else {
        m->time = date_col >= 0 ? date_col : time_col;
    }
    const char *missing = m->time < 0
                              ? (format == TR_CSV_YFINANCE ? "Date or Datetime" : "timestamp")
                          : m->open < 0  ? "open"
                          : m->high < 0  ? "high"
                          : m->low < 0   ? "low"
                          : m->close < 0 ? "close"
                                         : NULL;
    if (!missing)
        return 0;
    snprintf(why, whylen, "the %s header has no '%s' column%s%s%s", tr_csv_format_name(format),
             missing, ul ? " (unrecognised: " : "", unknown, ul ? ")" : "");
    return -1;
}

/* The bar time of a data line under the column map: ISO 8601 (with or without a zone), a date
 * and a time of day in two columns, Dukascopy's "DD.MM.YYYY HH:MM:SS.mmm", or Unix seconds
 * (TradingView; 13 digits: milliseconds). 0, -1 unparsable, -2 no such local time (EET). */
static int line_time(const colmap *m, const field *f, const tr_csv_options *opt, int64_t *t)
{
    field d = f[m->time];
    char buf[48];
    if (m->clock < 0 && all_digits(d.p, d.n) && (d.n == 9 || d.n == 10 || d.n == 13)) {
        int64_t v = strtoll(d.p, NULL, 10); /* the digits end at a separator or the line end */
        if (d.n == 13 && v % 1000 != 0)
            return -1;
        *t = d.n == 13 ? v / 1000 : v;
        return 0;
    }
    const char *tp = NULL; /* time of day */
    size_t tn = 0;
    if (m->clock >= 0) {
        if (d.n != 10)
            return -1;
        tp = f[m->clock].p;
        tn = f[m->clock].n;
    } else if (d.n > 11 && d.p[2] == '.' && d.p[5] == '.' && d.p[10] == ' ') {
        tp = d.p + 11;
        tn = d.n - 11;
    }
    if (!tp)
        return to_utc(d.p, d.n, m->utc || has_zone(d), opt, t);
    if (tn > 8 && tp[8] == '.') { /* milliseconds: only ".000" (or ".0") is a bar time */
        for (size_t i = 9; i < tn; i++)
            if (tp[i] != '0')
                return -1;
        tn = 8;
    }
    if ((tn != 5 && tn != 8) || iso_date(d.p, 10, buf))
        return -1;
    buf[10] = 'T';
    memcpy(buf + 11, tp, tn);
    size_t n = 11 + tn;
    if (m->utc)
        buf[n++] = 'Z';
    return to_utc(buf, n, m->utc, opt, t);
}

/* The parser's state between lines. */
typedef struct csv_state {
    const char *name;
    const tr_csv_options *opt;
    tr_csv_format format;
    colmap m;
    int mapped, data_seen;
    size_t cap_lines;
    long lineno;
    char sep;
    tr_csv_data *out;
} csv_state;

static void csv_begin(csv_state *st, const char *name, const tr_csv_options *opt, tr_csv_data *out)
{
    colmap none = {-1, -1, -1, -1, -1, -1, -1, 0, 0};
    memset(st, 0, sizeof *st);
    st->name = name;
    st->opt = opt;
    st->format = opt->format;
    st->m = none;
    st->sep = ',';
    st->out = out;
    memset(out, 0, sizeof *out);
}

/* One line of n bytes (its end of line removed; a first line may start with a byte-order mark). */
static tr_code csv_line(csv_state *st, const char *line, size_t n, tr_error *err)
{
    tr_code rc = TR_OK;
    char tbuf[64];
    st->lineno++;
    if (st->lineno == 1) {
        if (n >= 2 && (((unsigned char)line[0] == 0xFF && (unsigned char)line[1] == 0xFE) ||
                       ((unsigned char)line[0] == 0xFE && (unsigned char)line[1] == 0xFF)))
            return tr_fail(err, TR_ERR_DATA,
                           "%s:1: the file is UTF-16 (as some MetaTrader exports are); convert it "
                           "to UTF-8 first, e.g. iconv -f UTF-16 -t UTF-8",
                           st->name);
        if (n >= 3 && (unsigned char)line[0] == 0xEF && (unsigned char)line[1] == 0xBB &&
            (unsigned char)line[2] == 0xBF)
            line += 3, n -= 3;
    }
    if (n > 0 && line[n - 1] == '\r')
        n--;
    size_t k = 0;
    while (k < n && (line[k] == ' ' || line[k] == '\t'))
        k++;
    if (k == n)
        return TR_OK; /* blank line */

    field f[MAX_FIELDS];
    if (!st->mapped && memchr(line, '\t', n) && !memchr(line, ',', n))
        st->sep = '\t'; /* MetaTrader 5's export */
    else if (!st->mapped && memchr(line, ';', n) && !memchr(line, ',', n))
        st->sep = ';'; /* spreadsheet exports of locales whose list separator is ';' */
    int nf = split(line, n, st->sep, f);

    if (!st->mapped) {
        if (st->format == TR_CSV_AUTO) {
            int has_time_col = 0;
            for (int i = 1; i < nf && i < MAX_FIELDS; i++)
                has_time_col |= field_is(f[i], "time");
            if (looks_mt4(line, n))
                st->format = TR_CSV_MT4;
            else if ((field_is(f[0], "date") && !has_time_col) || field_is(f[0], "datetime") ||
                     field_is(f[0], "price"))
                st->format = TR_CSV_YFINANCE;
            else if (is_time_name(f[0]) || isdigit((unsigned char)f[0].p[0]))
                st->format = TR_CSV_GENERIC;
            else {
                rc = tr_fail(err, TR_ERR_DATA,
                             "%s:%ld: cannot detect the CSV format: the first column '%.*s' "
                             "is not a time column (timestamp, time, date, datetime, Gmt "
                             "time) and the line is no MetaTrader 4 bar (use --format)",
                             st->name, st->lineno, (int)(f[0].n < 40 ? f[0].n : 40), f[0].p);
                return rc;
            }
        }
        st->mapped = 1;
        if (st->format == TR_CSV_MT4) {
            colmap mt = {0, 1, 2, 3, 4, 5, 6, 7, 0};
            st->m = mt;
        } else if (isdigit((unsigned char)f[0].p[0]) && st->format == TR_CSV_GENERIC) {
            colmap g = {0, -1, 1, 2, 3, 4, 5, 6, 0};
            st->m = g;
            if (nf == 5) {
                st->m.volume = -1;
                st->m.n_fields = 5;
            }
        } else {
            char why[320];
            if (map_header(f, nf, st->format, &st->m, why, sizeof why)) {
                rc = tr_fail(err, TR_ERR_DATA, "%s:%ld: %s", st->name, st->lineno, why);
                return rc;
            }
            return TR_OK;
        }
    }
    /* yfinance >= 0.2.51 writes two more header rows: "Ticker,X,..." and "Datetime,,,". */
    if (st->format == TR_CSV_YFINANCE && !st->data_seen &&
        (field_is(f[0], "ticker") || field_is(f[0], "date") || field_is(f[0], "datetime")))
        return TR_OK;
    st->data_seen = 1;

    if (nf != st->m.n_fields) {
        rc = tr_fail(err, TR_ERR_DATA, "%s:%ld: expected %d fields, found %d", st->name, st->lineno,
                     st->m.n_fields, nf);
        return rc;
    }
    tr_bar b;
    int64_t t;
    int trc;
    if (st->format == TR_CSV_MT4) {
        field d = f[st->m.time], c = f[st->m.clock];
        if (d.n != 10 || d.p[4] != '.' || d.p[7] != '.' || (c.n != 5 && c.n != 8)) {
            rc = tr_fail(err, TR_ERR_DATA, "%s:%ld: unparsable date or time '%.*s,%.*s'", st->name,
                         st->lineno, (int)d.n, d.p, (int)c.n, c.p);
            return rc;
        }
        memcpy(tbuf, d.p, 10);
        tbuf[4] = tbuf[7] = '-';
        tbuf[10] = ' ';
        memcpy(tbuf + 11, c.p, c.n);
        trc = to_utc(tbuf, 11 + c.n, 0, st->opt, &t);
    } else {
        trc = line_time(&st->m, f, st->opt, &t);
    }
    if (trc == -2) {
        rc = tr_fail(err, TR_ERR_DATA,
                     "%s:%ld: local time does not exist or is ambiguous under EET/EEST", st->name,
                     st->lineno);
        return rc;
    }
    if (trc) {
        field d = f[st->m.time], c = st->m.clock >= 0 ? f[st->m.clock] : f[st->m.time];
        rc = tr_fail(err, TR_ERR_DATA, "%s:%ld: unparsable timestamp '%.*s%s%.*s'", st->name,
                     st->lineno, (int)d.n, d.p, st->m.clock >= 0 ? " " : "",
                     st->m.clock >= 0 ? (int)c.n : 0, c.p);
        return rc;
    }
    b.t = t;
    const int idx[5] = {st->m.open, st->m.high, st->m.low, st->m.close, st->m.volume};
    static const char *names[5] = {"open", "high", "low", "close", "volume"};
    double *dst[5] = {&b.open, &b.high, &b.low, &b.close, &b.volume};
    b.volume = 0;
    for (int i = 0; i < 5; i++) {
        if (idx[i] < 0)
            continue;
        if (parse_num(f[idx[i]], dst[i])) {
            int comma = memchr(f[idx[i]].p, ',', f[idx[i]].n) != NULL;
            rc = tr_fail(err, TR_ERR_DATA, "%s:%ld: unparsable %s '%.*s'%s", st->name, st->lineno,
                         names[i], (int)f[idx[i]].n, f[idx[i]].p,
                         comma ? " (a decimal comma: write decimals with '.')" : "");
            return rc;
        }
    }
    const char *why = tr_bar_invalid(&b);
    if (why) {
        rc = tr_fail(err, TR_ERR_DATA,
                     "%s:%ld: %s (open %.10g, high %.10g, low %.10g, close %.10g, volume %.10g)",
                     st->name, st->lineno, why, b.open, b.high, b.low, b.close, b.volume);
        return rc;
    }
    int64_t r = b.t % st->opt->timeframe;
    if (r != 0) {
        char tf[16];
        rc = tr_fail(err, TR_ERR_DATA, "%s:%ld: timestamp %s is off the %s bar grid", st->name,
                     st->lineno, tr_time_format(b.t, tbuf, sizeof tbuf),
                     tr_timeframe_name(st->opt->timeframe, tf, sizeof tf));
        return rc;
    }
    if (st->out->bars.n > 0 && b.t <= st->out->bars.v[st->out->bars.n - 1].t) {
        char prev[32];
        /* a date without a time of day on an intraday grid: the time column was not found */
        int date_only = st->format != TR_CSV_MT4 && st->m.clock < 0 && f[st->m.time].n == 10 &&
                        st->opt->timeframe < 86400;
        rc = tr_fail(err, TR_ERR_DATA,
                     "%s:%ld: timestamp %s is %s the previous bar's %s (line %ld): bars must "
                     "be strictly ascending%s",
                     st->name, st->lineno, tr_time_format(b.t, tbuf, sizeof tbuf),
                     b.t == st->out->bars.v[st->out->bars.n - 1].t ? "equal to" : "before",
                     tr_time_format(st->out->bars.v[st->out->bars.n - 1].t, prev, sizeof prev),
                     st->out->line[st->out->bars.n - 1],
                     date_only ? " (the time column holds dates without a time of day; "
                                 "name the time-of-day column 'time')"
                               : "");
        return rc;
    }
    if (st->out->bars.n == st->cap_lines) {
        size_t nc = st->cap_lines ? st->cap_lines * 2 : 1024;
        long *nl2 = realloc(st->out->line, nc * sizeof *nl2);
        if (!nl2) {
            rc = tr_fail(err, TR_ERR_NOMEM, "%s: out of memory", st->name);
            return rc;
        }
        st->out->line = nl2;
        st->cap_lines = nc;
    }
    st->out->line[st->out->bars.n] = st->lineno;
    return tr_bars_push(&st->out->bars, &b, err);
}

static tr_code csv_finish(csv_state *st, tr_error *err)
{
    if (st->out->bars.n == 0)
        return tr_fail(err, TR_ERR_DATA, "%s: no bars in the file", st->name);
    st->out->format = st->format;
    return TR_OK;
}

tr_code tr_csv_parse(const char *name, const char *text, size_t len, const tr_csv_options *opt,
                     tr_csv_data *out, tr_error *err)
{
    memset(out, 0, sizeof *out);
    if (!opt || opt->timeframe <= 0)
        return tr_fail(err, TR_ERR_INVALID, "%s: no timeframe given", name);
    csv_state st;
    csv_begin(&st, name, opt, out);
    tr_code rc = TR_OK;
    size_t pos = 0;
    while (!rc && pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + (nl ? 1 : 0);
        rc = csv_line(&st, line, n, err);
    }
    if (!rc)
        rc = csv_finish(&st, err);
    if (rc)
        tr_csv_data_free(out);
    return rc;
}

/* The longest line a CSV of bars may have: far above any real export's, and a bound on what a
 * file that is no CSV at all (one huge line) makes the reader hold. */
#define CSV_LINE_MAX (64 * 1024)

static tr_code line_too_long(const char *path, long lineno, tr_error *err)
{
    return tr_fail(err, TR_ERR_DATA, "%s:%ld: line longer than %d bytes: not a CSV of bars", path,
                   lineno, CSV_LINE_MAX);
}

tr_code tr_csv_read(const char *path, const tr_csv_options *opt, tr_csv_data *out, tr_error *err)
{
    memset(out, 0, sizeof *out);
    if (!opt || opt->timeframe <= 0)
        return tr_fail(err, TR_ERR_INVALID, "%s: no timeframe given", path);
    FILE *f = fopen(path, "rb");
    if (!f)
        return tr_fail(err, errno == ENOENT ? TR_ERR_NOTFOUND : TR_ERR_IO, "%s: %s", path,
                       strerror(errno));
    /* one line at a time, so that memory follows the longest line and the bars kept, not the
     * file: a file that is not a CSV of bars fails at its first bad line having read only that */
    enum { CHUNK = 1 << 16 };
    char *buf = malloc(CSV_LINE_MAX + CHUNK);
    if (!buf) {
        fclose(f);
        return tr_fail(err, TR_ERR_NOMEM, "%s: out of memory", path);
    }
    csv_state st;
    csv_begin(&st, path, opt, out);
    tr_code rc = TR_OK;
    size_t have = 0; /* bytes in buf: the start of a line not yet ended, then what was read */
    int eof = 0;
    while (!rc && !eof) {
        size_t room = CSV_LINE_MAX + CHUNK - have;
        size_t got = fread(buf + have, 1, room, f);
        eof = got < room;
        have += got;
        size_t pos = 0;
        const char *nl;
        while (!rc && (nl = memchr(buf + pos, '\n', have - pos)) != NULL) {
            size_t n = (size_t)(nl - (buf + pos));
            rc = n > CSV_LINE_MAX ? line_too_long(path, st.lineno + 1, err)
                                  : csv_line(&st, buf + pos, n, err);
            pos += n + 1;
        }
        if (!rc && have - pos > CSV_LINE_MAX)
            rc = line_too_long(path, st.lineno + 1, err);
        if (rc)
            break;
        memmove(buf, buf + pos, have - pos);
        have -= pos;
        if (eof && have) /* the last line, without an end of line */
            rc = csv_line(&st, buf, have, err);
    }
    if (!rc && ferror(f))
        rc = tr_fail(err, TR_ERR_IO, "%s: read error: %s", path, strerror(errno));
    if (!rc)
        rc = csv_finish(&st, err);
    fclose(f);
    free(buf);
    if (rc)
        tr_csv_data_free(out);
    return rc;
}

void tr_csv_data_free(tr_csv_data *data)
{
    if (!data)
        return;
    tr_bars_free(&data->bars);
    free(data->line);
    data->line = NULL;
}

tr_code tr_csv_write(const char *path, const tr_bar *bars, size_t n, int decimals, tr_error *err)
{
    size_t cap = 64 + n * 128, used = 0;
    char *buf = malloc(cap);
    if (!buf)
        return tr_fail(err, TR_ERR_NOMEM, "%s: out of memory", path);
    used += (size_t)snprintf(buf, cap, "timestamp,open,high,low,close,volume\n");
    for (size_t i = 0; i < n; i++) {
        char ts[32];
        int w =
            snprintf(buf + used, cap - used, "%s,%.*f,%.*f,%.*f,%.*f,%.17g\n",
                     tr_time_format(bars[i].t, ts, sizeof ts), decimals, bars[i].open, decimals,
                     bars[i].high, decimals, bars[i].low, decimals, bars[i].close, bars[i].volume);
        if (w < 0 || (size_t)w >= cap - used) {
            free(buf);
            return tr_fail(err, TR_ERR_INVALID, "%s: bar %zu does not fit a CSV line", path, i);
        }
        used += (size_t)w;
    }
    tr_code rc = tr_file_write_atomic(path, buf, used, err);
    free(buf);
    return rc;
}
