/*
 * csv.h - reading bar CSV files in three dialects, validating every line, and writing the
 * generic dialect.
 *
 *   generic   timestamp,open,high,low,close,volume   ISO 8601 (as in ../shared/data); a header
 *             line naming the columns is optional (without one the order above is assumed).
 *   yfinance  Date or Datetime,Open,High,Low,Close[,Adj Close][,Volume]; also the multi-row
 *             header of yfinance >= 0.2.51 ("Price,...", "Ticker,...", "Datetime,,,").
 *   mt4       MetaTrader's history export, no header: YYYY.MM.DD,HH:MM,open,high,low,close,volume
 *
 * Times without a zone designator are local times at the options' zone (a fixed offset, or the
 * EET/EEST server-clock rule); with one ("Z", "+02:00") they are converted from it.
 *
 * Validation (each failure is TR_ERR_DATA, "FILE:LINE: what"): unparsable numbers or times, a
 * wrong number of fields, non-finite or non-positive prices, high below max(open, close), low
 * above min(open, close), negative volume, timestamps not strictly ascending, timestamps off the
 * timeframe grid (multiples of the timeframe since the epoch). One bad line rejects the file.
 */
#ifndef AIFXT_CSV_H
#define AIFXT_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "base/bars.h"
#include "base/err.h"

typedef enum tr_csv_format {
    TR_CSV_AUTO = 0,
    TR_CSV_GENERIC,
    TR_CSV_YFINANCE,
    TR_CSV_MT4
} tr_csv_format;

typedef enum tr_tz_mode {
    TR_TZ_FIXED = 0, /* local = UTC + tz_offset */
    TR_TZ_EET        /* EET/EEST with EU daylight-saving rules (most MT4 servers) */
} tr_tz_mode;

typedef struct tr_csv_options {
    tr_csv_format format;
    int32_t timeframe; /* seconds, > 0: bars must lie on this grid */
    tr_tz_mode tz_mode;
    int32_t tz_offset; /* seconds east of UTC, for TR_TZ_FIXED */
} tr_csv_options;

typedef struct tr_csv_data {
    tr_bars bars;         /* validated, strictly ascending, on the grid */
    long *line;           /* (bars.n) 1-based line number of each bar in the file */
    tr_csv_format format; /* the dialect read (auto resolved) */
} tr_csv_data;

/* Options with format auto, UTC, and the given timeframe. */
tr_csv_options tr_csv_options_default(int32_t timeframe);

/* Reads and validates a file. On failure out is empty and err names the file and line. */
tr_code tr_csv_read(const char *path, const tr_csv_options *opt, tr_csv_data *out, tr_error *err);

/* The same on text[0..len) (which must be followed by a NUL); name is used in messages. */
tr_code tr_csv_parse(const char *name, const char *text, size_t len, const tr_csv_options *opt,
                     tr_csv_data *out, tr_error *err);

void tr_csv_data_free(tr_csv_data *data);

/* Writes bars in the generic dialect with a header, prices with `decimals` digits, atomically. */
tr_code tr_csv_write(const char *path, const tr_bar *bars, size_t n, int decimals, tr_error *err);

/* "auto", "generic", "yfinance", "mt4" -> format; returns 0 on success, -1 otherwise. */
int tr_csv_format_parse(const char *s, tr_csv_format *format);
const char *tr_csv_format_name(tr_csv_format format);

#endif
