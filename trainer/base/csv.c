/*
 * csv.c - the three bar CSV dialects (see csv.h). The whole file is read into memory and parsed
 * line by line; fields are split on commas (no quoting: none of the dialects quotes), trimmed of
 * blanks and of one pair of surrounding double quotes. Numbers are plain decimals (digits, one
 * point, an optional sign and exponent), parsed with strtod in the "C" locale.
 */
#include "base/csv.h"

#include <ctype.h>
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
    int n_fields;                                   /* fields every data line must have */
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
    case TR_CSV_AUTO: return "auto";
    case TR_CSV_GENERIC: return "generic";
    case TR_CSV_YFINANCE: return "yfinance";
    case TR_CSV_MT4: return "mt4";
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

/* Splits a line into at most MAX_FIELDS fields; returns the total number of fields found. */
static int split(const char *line, size_t len, field *f)
{
    int count = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || line[i] == ',') {
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

static int field_is(field f, const char *name)
{
    size_t n = strlen(name);
    if (f.n != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)f.p[i]) != name[i])
            return 0;
    return 1;
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

/* Maps a header line's names to columns. Returns 0, or -1 with *missing naming a column. */
static int map_header(const field *f, int n, tr_csv_format format, colmap *m, const char **missing)
{
    m->time = m->clock = m->open = m->high = m->low = m->close = m->volume = -1;
    m->n_fields = n;
    for (int i = 0; i < n && i < MAX_FIELDS; i++) {
        if (m->time < 0 && (field_is(f[i], "timestamp") || field_is(f[i], "time") ||
                            field_is(f[i], "date") || field_is(f[i], "datetime") ||
                            (i == 0 && format == TR_CSV_YFINANCE && field_is(f[i], "price"))))
            m->time = i;
        else if (field_is(f[i], "open"))
            m->open = i;
        else if (field_is(f[i], "high"))
            m->high = i;
        else if (field_is(f[i], "low"))
            m->low = i;
        else if (field_is(f[i], "close"))
            m->close = i;
        else if (field_is(f[i], "volume") || field_is(f[i], "tick_volume") ||
                 field_is(f[i], "tickvol"))
            m->volume = i;
    }
    *missing = m->time < 0    ? (format == TR_CSV_YFINANCE ? "Date or Datetime" : "timestamp")
               : m->open < 0  ? "open"
               : m->high < 0  ? "high"
               : m->low < 0   ? "low"
               : m->close < 0 ? "close"
                              : NULL;
    return *missing ? -1 : 0;
}

tr_code tr_csv_parse(const char *name, const char *text, size_t len, const tr_csv_options *opt,
                     tr_csv_data *out, tr_error *err)
{
    memset(out, 0, sizeof *out);
    if (!opt || opt->timeframe <= 0)
        return tr_fail(err, TR_ERR_INVALID, "%s: no timeframe given", name);
    tr_csv_format format = opt->format;
    colmap m = {-1, -1, -1, -1, -1, -1, -1, 0};
    int mapped = 0, data_seen = 0;
    size_t cap_lines = 0;
    size_t pos = 0;
    long lineno = 0;
    tr_code rc = TR_OK;
    char tbuf[64];

    if (len >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB &&
        (unsigned char)text[2] == 0xBF)
        pos = 3;
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + (nl ? 1 : 0);
        lineno++;
        /* n is 0 for an empty line (nl == line), which cppcheck does not see */
        // cppcheck-suppress knownConditionTrueFalse
        if (n > 0 && line[n - 1] == '\r')
            n--;
        size_t k = 0;
        while (k < n && (line[k] == ' ' || line[k] == '\t'))
            k++;
        if (k == n)
            continue; /* blank line */

        field f[MAX_FIELDS];
        int nf = split(line, n, f);

        if (!mapped) {
            if (format == TR_CSV_AUTO) {
                if (looks_mt4(line, n))
                    format = TR_CSV_MT4;
                else if (field_is(f[0], "date") || field_is(f[0], "datetime") ||
                         field_is(f[0], "price"))
                    format = TR_CSV_YFINANCE;
                else if (field_is(f[0], "timestamp") || field_is(f[0], "time") ||
                         isdigit((unsigned char)f[0].p[0]))
                    format = TR_CSV_GENERIC;
                else {
                    rc = tr_fail(err, TR_ERR_DATA,
                                 "%s:%ld: cannot detect the CSV format (use --format)", name, lineno);
                    goto fail;
                }
            }
            mapped = 1;
            if (format == TR_CSV_MT4) {
                colmap mt = {0, 1, 2, 3, 4, 5, 6, 7};
                m = mt;
            } else if (isdigit((unsigned char)f[0].p[0]) && format == TR_CSV_GENERIC) {
                colmap g = {0, -1, 1, 2, 3, 4, 5, 6};
                m = g;
                if (nf == 5) {
                    m.volume = -1;
                    m.n_fields = 5;
                }
            } else {
                const char *missing;
                if (map_header(f, nf, format, &m, &missing)) {
                    rc = tr_fail(err, TR_ERR_DATA, "%s:%ld: the %s header has no '%s' column",
                                 name, lineno, tr_csv_format_name(format), missing);
                    goto fail;
                }
                continue;
            }
        }
        /* yfinance >= 0.2.51 writes two more header rows: "Ticker,X,..." and "Datetime,,,". */
        if (format == TR_CSV_YFINANCE && !data_seen &&
            (field_is(f[0], "ticker") || field_is(f[0], "date") || field_is(f[0], "datetime")))
            continue;
        data_seen = 1;

        if (nf != m.n_fields) {
            rc = tr_fail(err, TR_ERR_DATA, "%s:%ld: expected %d fields, found %d", name, lineno,
                         m.n_fields, nf);
            goto fail;
        }
        tr_bar b;
        int64_t t;
        int trc;
        if (format == TR_CSV_MT4) {
            field d = f[m.time], c = f[m.clock];
            if (d.n != 10 || d.p[4] != '.' || d.p[7] != '.' || (c.n != 5 && c.n != 8)) {
                rc = tr_fail(err, TR_ERR_DATA, "%s:%ld: unparsable date or time '%.*s,%.*s'",
                             name, lineno, (int)d.n, d.p, (int)c.n, c.p);
                goto fail;
            }
            memcpy(tbuf, d.p, 10);
            tbuf[4] = tbuf[7] = '-';
            tbuf[10] = ' ';
            memcpy(tbuf + 11, c.p, c.n);
            trc = to_utc(tbuf, 11 + c.n, 0, opt, &t);
        } else {
            field d = f[m.time];
            trc = to_utc(d.p, d.n, has_zone(d), opt, &t);
        }
        if (trc == -2) {
            rc = tr_fail(err, TR_ERR_DATA,
                         "%s:%ld: local time does not exist or is ambiguous under EET/EEST",
                         name, lineno);
            goto fail;
        }
        if (trc) {
            field d = f[m.time];
            rc = tr_fail(err, TR_ERR_DATA, "%s:%ld: unparsable timestamp '%.*s'", name, lineno,
                         (int)d.n, d.p);
            goto fail;
        }
        b.t = t;
        const int idx[5] = {m.open, m.high, m.low, m.close, m.volume};
        static const char *names[5] = {"open", "high", "low", "close", "volume"};
        double *dst[5] = {&b.open, &b.high, &b.low, &b.close, &b.volume};
        b.volume = 0;
        for (int i = 0; i < 5; i++) {
            if (idx[i] < 0)
                continue;
            if (parse_num(f[idx[i]], dst[i])) {
                rc = tr_fail(err, TR_ERR_DATA, "%s:%ld: unparsable %s '%.*s'", name, lineno,
                             names[i], (int)f[idx[i]].n, f[idx[i]].p);
                goto fail;
            }
        }
        const char *why = tr_bar_invalid(&b);
        if (why) {
            rc = tr_fail(err, TR_ERR_DATA,
                         "%s:%ld: %s (open %.10g, high %.10g, low %.10g, close %.10g, volume %.10g)",
                         name, lineno, why, b.open, b.high, b.low, b.close, b.volume);
            goto fail;
        }
        int64_t r = b.t % opt->timeframe;
        if (r != 0) {
            char tf[16];
            rc = tr_fail(err, TR_ERR_DATA, "%s:%ld: timestamp %s is off the %s bar grid", name,
                         lineno, tr_time_format(b.t, tbuf, sizeof tbuf),
                         tr_timeframe_name(opt->timeframe, tf, sizeof tf));
            goto fail;
        }
        if (out->bars.n > 0 && b.t <= out->bars.v[out->bars.n - 1].t) {
            char prev[32];
            rc = tr_fail(err, TR_ERR_DATA,
                         "%s:%ld: timestamp %s is %s the previous bar's %s (line %ld): bars must "
                         "be strictly ascending",
                         name, lineno, tr_time_format(b.t, tbuf, sizeof tbuf),
                         b.t == out->bars.v[out->bars.n - 1].t ? "equal to" : "before",
                         tr_time_format(out->bars.v[out->bars.n - 1].t, prev, sizeof prev),
                         out->line[out->bars.n - 1]);
            goto fail;
        }
        if (out->bars.n == cap_lines) {
            size_t nc = cap_lines ? cap_lines * 2 : 1024;
            long *nl2 = realloc(out->line, nc * sizeof *nl2);
            if (!nl2) {
                rc = tr_fail(err, TR_ERR_NOMEM, "%s: out of memory", name);
                goto fail;
            }
            out->line = nl2;
            cap_lines = nc;
        }
        out->line[out->bars.n] = lineno;
        rc = tr_bars_push(&out->bars, &b, err);
        if (rc)
            goto fail;
    }
    if (out->bars.n == 0) {
        rc = tr_fail(err, TR_ERR_DATA, "%s: no bars in the file", name);
        goto fail;
    }
    out->format = format;
    return TR_OK;
fail:
    tr_csv_data_free(out);
    return rc;
}

tr_code tr_csv_read(const char *path, const tr_csv_options *opt, tr_csv_data *out, tr_error *err)
{
    char *text;
    size_t len;
    memset(out, 0, sizeof *out);
    tr_code rc = tr_file_read(path, &text, &len, err);
    if (rc)
        return rc;
    rc = tr_csv_parse(path, text, len, opt, out, err);
    free(text);
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
        int w = snprintf(buf + used, cap - used, "%s,%.*f,%.*f,%.*f,%.*f,%.17g\n",
                         tr_time_format(bars[i].t, ts, sizeof ts), decimals, bars[i].open, decimals,
                         bars[i].high, decimals, bars[i].low, decimals, bars[i].close,
                         bars[i].volume);
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
