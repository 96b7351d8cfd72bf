/*
 * check_csv.c - the CSV dialects, time parsing, every validation error a user can hit, and
 * ingest into the store (all or nothing, re-ingest no-op, conflicts, --replace).
 */
#define _POSIX_C_SOURCE 200809L

#define _DEFAULT_SOURCE /* wait4 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check_main.h"
#include "base/csv.h"
#include "base/timeutil.h"
#include "data/ingest.h"
#include "store/store.h"
#include "testutil.h"

#define FIX TRAINER_FIXTURES
#define M15 900

/* ---- time ----------------------------------------------------------------------------------- */

START_TEST(test_time_parse_forms)
{
    int64_t t;
    ck_assert_int_eq(tr_time_parse("1970-01-01", 10, 0, &t), 0);
    ck_assert_int_eq(t, 0);
    ck_assert_int_eq(tr_time_parse("2023-03-13T19:00:00Z", 20, 0, &t), 0);
    ck_assert_int_eq(t, 1678734000);
    ck_assert_int_eq(tr_time_parse("2023-03-13 21:00:00+02:00", 25, 0, &t), 0);
    ck_assert_int_eq(t, 1678734000);
    ck_assert_int_eq(tr_time_parse("2023-03-13 14:00-0500", 21, 0, &t), 0);
    ck_assert_int_eq(t, 1678734000);
    ck_assert_int_eq(tr_time_parse("2023-03-13T21:00", 16, 7200, &t), 0); /* local, UTC+2 */
    ck_assert_int_eq(t, 1678734000);
    ck_assert_int_eq(tr_time_parse("2024-02-29", 10, 0, &t), 0);
    ck_assert_int_ne(tr_time_parse("2023-02-29", 10, 0, &t), 0);
    ck_assert_int_ne(tr_time_parse("2023-13-01", 10, 0, &t), 0);
    ck_assert_int_ne(tr_time_parse("2023-01-01T24:00", 16, 0, &t), 0);
    ck_assert_int_ne(tr_time_parse("2023-01-01X", 11, 0, &t), 0);
    ck_assert_int_ne(tr_time_parse("2023-01-01T10:00:00.5Z", 22, 0, &t), 0);
    char buf[32];
    ck_assert_str_eq(tr_time_format(1678734000, buf, sizeof buf), "2023-03-13T19:00:00Z");
    ck_assert_str_eq(tr_time_format(-86400, buf, sizeof buf), "1969-12-31T00:00:00Z");
}
END_TEST

START_TEST(test_civil_roundtrip_and_weekday)
{
    for (int64_t d = -800000; d <= 800000; d += 7) {
        int64_t y;
        int m, dd;
        tr_civil_from_days(d, &y, &m, &dd);
        ck_assert_int_eq(tr_days_from_civil(y, m, dd), d);
    }
    ck_assert_int_eq(tr_weekday(T("2024-01-01")), 0); /* a Monday */
    ck_assert_int_eq(tr_weekday(T("2023-03-12")), 6); /* a Sunday */
}
END_TEST

START_TEST(test_eet_rule)
{
    int64_t utc;
    /* winter: UTC+2 */
    ck_assert_int_eq(tr_eet_to_utc(T("2024-01-02T02:00:00Z"), &utc), 0);
    ck_assert_int_eq(utc, T("2024-01-02T00:00:00Z"));
    /* summer: UTC+3 */
    ck_assert_int_eq(tr_eet_to_utc(T("2024-07-01T03:00:00Z"), &utc), 0);
    ck_assert_int_eq(utc, T("2024-07-01T00:00:00Z"));
    /* 2024-03-31: 03:00 local jumps to 04:00; 03:30 does not exist */
    ck_assert_int_ne(tr_eet_to_utc(T("2024-03-31T03:30:00Z"), &utc), 0);
    /* 2024-10-27: 03:00-04:00 local happens twice */
    ck_assert_int_ne(tr_eet_to_utc(T("2024-10-27T03:30:00Z"), &utc), 0);
    ck_assert_int_eq(tr_eet_to_utc(T("2024-10-27T04:30:00Z"), &utc), 0);
    ck_assert_int_eq(utc, T("2024-10-27T02:30:00Z"));
}
END_TEST

START_TEST(test_timeframes)
{
    int32_t s;
    char buf[16];
    ck_assert_int_eq(tr_timeframe_parse("15m", &s), 0);
    ck_assert_int_eq(s, 900);
    ck_assert_int_eq(tr_timeframe_parse("1h", &s), 0);
    ck_assert_int_eq(s, 3600);
    ck_assert_int_eq(tr_timeframe_parse("1d", &s), 0);
    ck_assert_int_eq(s, 86400);
    ck_assert_int_ne(tr_timeframe_parse("7m", &s), 0); /* does not divide a day */
    ck_assert_int_ne(tr_timeframe_parse("2d", &s), 0);
    ck_assert_int_ne(tr_timeframe_parse("m", &s), 0);
    ck_assert_int_ne(tr_timeframe_parse("15x", &s), 0);
    ck_assert_str_eq(tr_timeframe_name(900, buf, sizeof buf), "15m");
    ck_assert_str_eq(tr_timeframe_name(14400, buf, sizeof buf), "4h");
    ck_assert(tr_pair_valid("EURUSD"));
    ck_assert(!tr_pair_valid("eurusd"));
    ck_assert(!tr_pair_valid("EUR/USD"));
    ck_assert(!tr_pair_valid("../X"));
}
END_TEST

/* ---- dialects ------------------------------------------------------------------------------- */

START_TEST(test_generic_file)
{
    tr_csv_options o = tr_csv_options_default(M15);
    tr_csv_data d;
    tr_error e;
    ck_assert_int_eq(tr_csv_read(FIX "/generic_ok.csv", &o, &d, &e), TR_OK);
    ck_assert_int_eq(d.format, TR_CSV_GENERIC);
    ck_assert_uint_eq(d.bars.n, 3);
    ck_assert_int_eq(d.bars.v[0].t, T("2024-01-02T00:00:00Z"));
    ck_assert_double_eq(d.bars.v[1].high, 1.101);
    ck_assert_double_eq(d.bars.v[2].volume, 143);
    ck_assert_int_eq(d.line[2], 4);
    tr_csv_data_free(&d);
}
END_TEST

START_TEST(test_generic_headerless_and_crlf)
{
    const char *text = "2024-01-02T00:00:00Z,1.1,1.2,1.0,1.15,5\r\n\r\n"
                       "2024-01-02T00:15:00Z,1.15,1.2,1.1,1.12,6\r\n";
    tr_csv_options o = tr_csv_options_default(M15);
    tr_csv_data d;
    tr_error e;
    ck_assert_int_eq(tr_csv_parse("x.csv", text, strlen(text), &o, &d, &e), TR_OK);
    ck_assert_uint_eq(d.bars.n, 2);
    ck_assert_int_eq(d.line[1], 3);
    tr_csv_data_free(&d);
}
END_TEST

START_TEST(test_yfinance_files)
{
    tr_csv_options o = tr_csv_options_default(M15);
    tr_csv_data d;
    tr_error e;
    ck_assert_int_eq(tr_csv_read(FIX "/yfinance_ok.csv", &o, &d, &e), TR_OK);
    ck_assert_int_eq(d.format, TR_CSV_YFINANCE);
    ck_assert_uint_eq(d.bars.n, 3);
    ck_assert_int_eq(d.bars.v[2].t, T("2024-01-02T00:30:00Z")); /* 01:30+01:00 */
    ck_assert_double_eq(d.bars.v[2].close, 1.10015);            /* Close, not Adj Close */
    tr_csv_data_free(&d);
    o.format = TR_CSV_YFINANCE;
    ck_assert_int_eq(tr_csv_read(FIX "/yfinance_multi.csv", &o, &d, &e), TR_OK);
    ck_assert_uint_eq(d.bars.n, 2);
    ck_assert_double_eq(d.bars.v[0].open, 1.1);
    ck_assert_double_eq(d.bars.v[0].high, 1.1005);
    ck_assert_double_eq(d.bars.v[0].close, 1.1002);
    ck_assert_int_eq(d.line[0], 4);
    tr_csv_data_free(&d);
}
END_TEST

START_TEST(test_mt4_offsets)
{
    tr_csv_options o = tr_csv_options_default(M15);
    tr_csv_data d;
    tr_error e;
    o.tz_mode = TR_TZ_EET;
    ck_assert_int_eq(tr_csv_read(FIX "/mt4_eet.csv", &o, &d, &e), TR_OK);
    ck_assert_int_eq(d.format, TR_CSV_MT4);
    ck_assert_uint_eq(d.bars.n, 3);
    ck_assert_int_eq(d.bars.v[0].t, T("2024-01-02T00:00:00Z"));
    ck_assert_int_eq(d.bars.v[2].t, T("2024-07-01T00:00:00Z"));
    tr_csv_data_free(&d);
    o.tz_mode = TR_TZ_FIXED;
    o.tz_offset = 2 * 3600;
    ck_assert_int_eq(tr_csv_read(FIX "/mt4_eet.csv", &o, &d, &e), TR_OK);
    ck_assert_int_eq(d.bars.v[2].t, T("2024-07-01T01:00:00Z"));
    tr_csv_data_free(&d);
}
END_TEST

/* Other common exports, recognised from their header line. */
START_TEST(test_more_dialects)
{
    tr_csv_options o = tr_csv_options_default(M15);
    o.tz_offset = 2 * 3600; /* only for times without a zone: not Unix or "Gmt time" */
    tr_csv_data d;
    tr_error e;
    /* date and time of day in two columns (times with or without seconds) */
    ck_assert_msg(tr_csv_read(FIX "/split_date_time.csv", &o, &d, &e) == TR_OK, "%s", e.msg);
    ck_assert_int_eq(d.format, TR_CSV_GENERIC);
    ck_assert_uint_eq(d.bars.n, 3);
    ck_assert_int_eq(d.bars.v[0].t, T("2024-01-01T22:00:00Z")); /* local UTC+2 */
    ck_assert_int_eq(d.bars.v[2].t, T("2024-01-01T22:30:00Z"));
    ck_assert_double_eq(d.bars.v[2].volume, 143);
    tr_csv_data_free(&d);
    o.tz_offset = 0;
    /* ';' between the fields (spreadsheet exports of some locales), '.' decimals */
    static const char semi[] = "timestamp;open;high;low;close;volume\n"
                               "2024-01-02T00:00:00Z;1.1;1.2;1.0;1.15;5\n";
    ck_assert_msg(tr_csv_parse("semi.csv", semi, sizeof semi - 1, &o, &d, &e) == TR_OK, "%s",
                  e.msg);
    ck_assert_uint_eq(d.bars.n, 1);
    ck_assert_double_eq(d.bars.v[0].close, 1.15);
    tr_csv_data_free(&d);
    /* MetaTrader 5: tabs, <NAMES>, YYYY.MM.DD and HH:MM:SS, tick volume, CRLF */
    ck_assert_msg(tr_csv_read(FIX "/mt5_tabs.csv", &o, &d, &e) == TR_OK, "%s", e.msg);
    ck_assert_uint_eq(d.bars.n, 2);
    ck_assert_int_eq(d.bars.v[1].t, T("2024-01-02T00:15:00Z"));
    ck_assert_double_eq(d.bars.v[1].close, 1.1008);
    ck_assert_double_eq(d.bars.v[1].volume, 98); /* <TICKVOL>, not <VOL> */
    tr_csv_data_free(&d);
    /* Dukascopy: "Gmt time" DD.MM.YYYY HH:MM:SS.mmm, UTC whatever the options' offset */
    o.tz_offset = 3 * 3600;
    ck_assert_msg(tr_csv_read(FIX "/dukascopy.csv", &o, &d, &e) == TR_OK, "%s", e.msg);
    ck_assert_uint_eq(d.bars.n, 2);
    ck_assert_int_eq(d.bars.v[0].t, T("2024-01-02T00:00:00Z"));
    ck_assert_double_eq(d.bars.v[0].volume, 1234.56);
    tr_csv_data_free(&d);
    /* TradingView: time as Unix seconds (UTC by definition), or ISO 8601 */
    ck_assert_msg(tr_csv_read(FIX "/tradingview_unix.csv", &o, &d, &e) == TR_OK, "%s", e.msg);
    ck_assert_uint_eq(d.bars.n, 2);
    ck_assert_int_eq(d.bars.v[0].t, T("2024-01-02T00:00:00Z"));
    ck_assert_double_eq(d.bars.v[1].volume, 98);
    tr_csv_data_free(&d);
    o.tz_offset = 0;
    ck_assert_msg(tr_csv_read(FIX "/tradingview_iso.csv", &o, &d, &e) == TR_OK, "%s", e.msg);
    ck_assert_uint_eq(d.bars.n, 2);
    ck_assert_int_eq(d.bars.v[1].t, T("2024-01-02T00:15:00Z"));
    ck_assert_double_eq(d.bars.v[1].volume, 0);
    tr_csv_data_free(&d);
    /* Unix milliseconds */
    const char *ms = "time,open,high,low,close\n1704153600000,1.1,1.2,1.0,1.15\n";
    ck_assert_int_eq(tr_csv_parse("x.csv", ms, strlen(ms), &o, &d, &e), TR_OK);
    ck_assert_int_eq(d.bars.v[0].t, T("2024-01-02T00:00:00Z"));
    tr_csv_data_free(&d);
}
END_TEST

/* ---- every validation error: code TR_ERR_DATA and a message naming file and line ------------ */

static const struct bad_case {
    const char *text, *expect;
} bad_cases[] = {
    {"timestamp,open,high,low,close,volume\n2024-01-02T00:00:00Z,1.1,1.2,1.0\n",
     "x.csv:2: expected 6 fields"},
    {"timestamp;open;high;low;close\n2024-01-02T00:00:00Z;1,1;1,2;1,0;1,1\n",
     "x.csv:2: unparsable open '1,1' (a decimal comma"},
    {"timestamp,open,high,low,close,volume\n2024-01-02T00:00:00Z,1.1,1.2x,1.0,1.1,5\n",
     "x.csv:2: unparsable high"},
    {"timestamp,open,high,low,close,volume\n2024-01-02T00:00:00Z,1.1,,1.0,1.1,5\n",
     "x.csv:2: unparsable high"},
    {"timestamp,open,high,low,close,volume\n2024-01-02T00:00:00Z,nan,1.2,1.0,1.1,5\n",
     "x.csv:2: unparsable open"},
    {"timestamp,open,high,low,close,volume\n2024-01-02T00:00:00Z,1e999,1.2,1.0,1.1,5\n",
     "x.csv:2: a price is not a finite number"},
    {"timestamp,open,high,low,close,volume\n2024-01-02T00:00:00Z,0,1.2,0,1.1,5\n",
     "x.csv:2: a price is zero or negative"},
    {"timestamp,open,high,low,close,volume\n2024-01-02T00:00:00Z,-1.1,1.2,-1.3,1.1,5\n",
     "x.csv:2: a price is zero or negative"},
    {"timestamp,open,high,low,close,volume\n2024-01-02T00:00:00Z,1.1,1.15,1.0,1.16,5\n",
     "x.csv:2: high is below max(open, close)"},
    {"timestamp,open,high,low,close,volume\n2024-01-02T00:00:00Z,1.1,1.2,1.12,1.15,5\n",
     "x.csv:2: low is above min(open, close)"},
    {"timestamp,open,high,low,close,volume\n2024-01-02T00:00:00Z,1.1,1.2,1.0,1.15,-5\n",
     "x.csv:2: the volume is negative"},
    {"timestamp,open,high,low,close,volume\n2024-01-02T00:15:00Z,1.1,1.2,1.0,1.15,5\n2024-01-02T00:"
     "00:00Z,1.1,1.2,1.0,1.15,5\n",
     "x.csv:3: timestamp 2024-01-02T00:00:00Z is before the previous bar's"},
    {"timestamp,open,high,low,close,volume\n2024-01-02T00:15:00Z,1.1,1.2,1.0,1.15,5\n2024-01-02T00:"
     "15:00Z,1.1,1.2,1.0,1.15,5\n",
     "x.csv:3: timestamp 2024-01-02T00:15:00Z is equal to"},
    {"timestamp,open,high,low,close,volume\n2024-01-02T00:15:00Z,1.1,1.2,1.0,1.15,5\n2024-01-02T00:"
     "20:00Z,1.1,1.2,1.0,1.15,5\n",
     "x.csv:3: timestamp 2024-01-02T00:20:00Z is off the 15m bar grid"},
    {"timestamp,open,high,low,close,volume\n2024-13-02T00:15:00Z,1.1,1.2,1.0,1.15,5\n",
     "x.csv:2: unparsable timestamp"},
    {"timestamp,open,high,close,volume\n", "x.csv:1: the generic header has no 'low' column"},
    {"hello world\n", "x.csv:1: cannot detect the CSV format: the first column 'hello world'"},
    {"timestamp,open,high,low,cls,vlm\n",
     "x.csv:1: the generic header has no 'close' column (unrecognised: 'cls', 'vlm')"},
    {"time,open,high,low,close,close\n",
     "x.csv:1: the header names column 'close' twice (columns 5 and 6)"},
    {"open,high,low,close,date\n",
     "x.csv:1: cannot detect the CSV format: the first column 'open'"},
    {"date,hour,open,high,low,close\n2024-01-02,00:00,1.1,1.2,1.0,1.15\n2024-01-02,00:15,1.1,1.2,1."
     "0,1.15\n",
     "holds dates without a time of day"},
    {"date,time,open,high,low,close\n2024-01-02,0015,1.1,1.2,1.0,1.15\n",
     "x.csv:2: unparsable timestamp '2024-01-02 0015'"},
    {"Gmt time,Open,High,Low,Close,Volume\n02.01.2024 00:00:00.500,1.1,1.2,1.0,1.15,3\n",
     "x.csv:2: unparsable timestamp"},
    {"\xff\xfe<\0D\0", "x.csv:1: the file is UTF-16"},
    {"timestamp,open,high,low,close,volume\n", "x.csv: no bars in the file"},
    {"", "x.csv: no bars in the file"},
    {"2024.01.02,00:15,1.1,1.2,1.0,1.15,5\n2024.01.02,00:30,1.1,1.2,1.0,1.15\n",
     "x.csv:2: expected 7 fields, found 6"},
    {"2024.01.02,0015,1.1,1.2,1.0,1.15,5\n", "x.csv:1: unparsable date or time"},
    /* raw bytes are quoted as '?': control characters and bytes that are not UTF-8; UTF-8 stays */
    {"\x1b[2J\x01\xc3\xa9\xff\xc3,open\n", "x.csv:1: cannot detect the CSV format: the first "
                                           "column '?[2J?\xc3\xa9?"
                                           "?'"},
};

START_TEST(test_bad_input)
{
    const struct bad_case *c = &bad_cases[_i];
    tr_csv_options o = tr_csv_options_default(M15);
    tr_csv_data d;
    tr_error e;
    tr_error_clear(&e);
    tr_code rc = tr_csv_parse("x.csv", c->text, strlen(c->text), &o, &d, &e);
    ck_assert_int_eq(rc, TR_ERR_DATA);
    ck_assert_msg(strstr(e.msg, c->expect) != NULL, "case %d: message '%s' lacks '%s'", _i, e.msg,
                  c->expect);
    ck_assert_ptr_null(d.bars.v);
    ck_assert_ptr_null(d.line);
}
END_TEST

START_TEST(test_eet_skipped_hour_is_error)
{
    const char *text = "2024.03.31,03:30,1.1,1.2,1.0,1.15,5\n";
    tr_csv_options o = tr_csv_options_default(M15);
    o.tz_mode = TR_TZ_EET;
    tr_csv_data d;
    tr_error e;
    ck_assert_int_eq(tr_csv_parse("x.csv", text, strlen(text), &o, &d, &e), TR_ERR_DATA);
    ck_assert_ptr_nonnull(strstr(e.msg, "x.csv:1: local time does not exist or is ambiguous"));
}
END_TEST

START_TEST(test_missing_file)
{
    tr_csv_options o = tr_csv_options_default(M15);
    tr_csv_data d;
    tr_error e;
    ck_assert_int_eq(tr_csv_read("/nonexistent/x.csv", &o, &d, &e), TR_ERR_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(e.msg, "/nonexistent/x.csv"));
}
END_TEST

/* Memory follows the line, not the file: ingest of a 64 MiB file whose third line never ends
 * fails naming that line, having held far less than the file (the child's peak RSS), and a file
 * that fails creates no store at a new path. */
START_TEST(test_ingest_bounded_memory_and_no_store)
{
    char *dir = tu_tempdir();
    char *path = tu_path(dir, "garbage.csv");
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("timestamp,open,high,low,close,volume\n"
          "2024-01-02T00:00:00Z,1.10000,1.10050,1.09950,1.10020,120\n",
          f);
    static char junk[1 << 16];
    memset(junk, 'x', sizeof junk);
    for (int i = 0; i < 1024; i++)
        ck_assert_uint_eq(fwrite(junk, 1, sizeof junk, f), sizeof junk);
    ck_assert_int_eq(fclose(f), 0);
    char *store = tu_path(dir, "new-store");
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "'%s' ingest --pair EURUSD --csv '%s' --store '%s' > '%s/out.txt' 2>&1",
             AIFX_TRAIN_EXE, path, store, dir);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    int status;
    struct rusage ru;
    ck_assert_int_eq(wait4(pid, &status, 0, &ru), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 3);
    ck_assert(tu_output_has(dir, "garbage.csv:3: line longer than"));
    /* ru_maxrss is in KiB; the file is 65,536 KiB. A sanitizer build's shadow memory and
     * quarantine make its RSS no measure of the program's own: the bound is checked in the
     * Release build only. */
#if !defined(__SANITIZE_ADDRESS__)
    ck_assert_msg(ru.ru_maxrss < 32 * 1024, "peak RSS %ld KiB for a 64 MiB file", ru.ru_maxrss);
#endif
    struct stat sb;
    ck_assert_int_eq(stat(store, &sb), -1); /* no store made */
    tu_rmtree(dir);
    free(store);
    free(path);
    free(dir);
}
END_TEST

/* ---- ingest ---------------------------------------------------------------------------------- */

static const char *good = "timestamp,open,high,low,close,volume\n"
                          "2024-01-02T00:00:00Z,1.10000,1.10050,1.09950,1.10020,120\n"
                          "2024-01-02T00:15:00Z,1.10020,1.10100,1.10000,1.10080,98\n"
                          "2024-01-02T00:30:00Z,1.10080,1.10090,1.10010,1.10015,143\n";

START_TEST(test_ingest_all_or_nothing)
{
    char *dir = tu_tempdir();
    char *sdir = tu_path(dir, "store");
    const char *bad = "timestamp,open,high,low,close,volume\n"
                      "2024-01-02T00:00:00Z,1.10000,1.10050,1.09950,1.10020,120\n"
                      "2024-01-02T00:15:00Z,1.10020,1.10100,1.10000,1.10080,98\n"
                      "2024-01-02T00:30:00Z,1.10080,1.10000,1.10010,1.10015,143\n";
    char *csv = tu_write(dir, "bad.csv", bad);
    tr_store *s;
    tr_error e;
    ck_assert_int_eq(tr_store_open(sdir, &(tr_store_options){.create = 1}, &s, &e), TR_OK);
    tr_csv_options o = tr_csv_options_default(M15);
    tr_ingest_result r;
    ck_assert_int_eq(tr_ingest_csv(s, "EURUSD", csv, &o, 0, &r, &e), TR_ERR_DATA);
    ck_assert_ptr_nonnull(strstr(e.msg, "bad.csv:4: high is below max(open, close)"));
    tr_bars b = {0};
    ck_assert_int_eq(tr_store_bars_get(s, "EURUSD", M15, INT64_MIN, INT64_MAX, &b, &e),
                     TR_ERR_NOTFOUND); /* nothing stored */
    tr_store_close(s);
    tu_rmtree(dir);
    free(csv);
    free(sdir);
    free(dir);
}
END_TEST

/* A date,time header file ingests every bar (it used to fail on "duplicate timestamps"). */
START_TEST(test_ingest_split_date_time)
{
    char *dir = tu_tempdir();
    char *sdir = tu_path(dir, "store");
    tr_store *s;
    tr_error e;
    ck_assert_int_eq(tr_store_open(sdir, &(tr_store_options){.create = 1}, &s, &e), TR_OK);
    tr_csv_options o = tr_csv_options_default(M15);
    tr_ingest_result r;
    ck_assert_msg(tr_ingest_csv(s, "EURUSD", FIX "/split_date_time.csv", &o, 0, &r, &e) == TR_OK,
                  "%s", e.msg);
    ck_assert_uint_eq(r.n_read, 3);
    tr_bars b = {0};
    ck_assert_int_eq(tr_store_bars_get(s, "EURUSD", M15, INT64_MIN, INT64_MAX, &b, &e), TR_OK);
    ck_assert_uint_eq(b.n, 3);
    ck_assert_int_eq(b.v[1].t, T("2024-01-02T00:15:00Z"));
    tr_bars_free(&b);
    tr_store_close(s);
    tu_rmtree(dir);
    free(sdir);
    free(dir);
}
END_TEST

START_TEST(test_ingest_noop_conflict_replace)
{
    char *dir = tu_tempdir();
    char *sdir = tu_path(dir, "store");
    char *csv = tu_write(dir, "a.csv", good);
    tr_store *s;
    tr_error e;
    ck_assert_int_eq(tr_store_open(sdir, &(tr_store_options){.create = 1}, &s, &e), TR_OK);
    tr_csv_options o = tr_csv_options_default(M15);
    tr_ingest_result r;
    ck_assert_int_eq(tr_ingest_csv(s, "EURUSD", csv, &o, 0, &r, &e), TR_OK);
    ck_assert_uint_eq(r.n_read, 3);
    ck_assert_uint_eq(r.put.n_added, 3);
    /* the same file again: a no-op that does not even rewrite the series file (a write would
     * replace it by rename, giving a new inode) */
    char *series = tu_path(sdir, "bars/EURUSD_15m.bars");
    struct stat st0, st1;
    ck_assert_int_eq(stat(series, &st0), 0);
    ck_assert_int_eq(tr_ingest_csv(s, "EURUSD", csv, &o, 0, &r, &e), TR_OK);
    ck_assert_int_eq(stat(series, &st1), 0);
    ck_assert_uint_eq(st0.st_ino, st1.st_ino);
    free(series);
    ck_assert_uint_eq(r.put.n_added, 0);
    ck_assert_uint_eq(r.put.n_unchanged, 3);
    ck_assert_uint_eq(r.put.n_replaced, 0);
    /* an overlapping file with one new and one different bar: conflict, nothing written */
    const char *other = "timestamp,open,high,low,close,volume\n"
                        "2024-01-02T00:30:00Z,1.10080,1.10090,1.10010,1.10016,143\n"
                        "2024-01-02T00:45:00Z,1.10016,1.10090,1.10010,1.10020,50\n";
    char *csv2 = tu_write(dir, "b.csv", other);
    ck_assert_int_eq(tr_ingest_csv(s, "EURUSD", csv2, &o, 0, &r, &e), TR_ERR_CONFLICT);
    ck_assert_msg(strstr(e.msg, "b.csv:2: EURUSD 15m bar 2024-01-02T00:30:00Z conflicts") != NULL,
                  "%s", e.msg);
    tr_bars b = {0};
    ck_assert_int_eq(tr_store_bars_get(s, "EURUSD", M15, INT64_MIN, INT64_MAX, &b, &e), TR_OK);
    ck_assert_uint_eq(b.n, 3);
    ck_assert_double_eq(b.v[2].close, 1.10015);
    b.n = 0;
    /* with replace: one replaced, one added */
    ck_assert_int_eq(tr_ingest_csv(s, "EURUSD", csv2, &o, 1, &r, &e), TR_OK);
    ck_assert_uint_eq(r.put.n_replaced, 1);
    ck_assert_uint_eq(r.put.n_added, 1);
    ck_assert_int_eq(tr_store_bars_get(s, "EURUSD", M15, INT64_MIN, INT64_MAX, &b, &e), TR_OK);
    ck_assert_uint_eq(b.n, 4);
    ck_assert_double_eq(b.v[2].close, 1.10016);
    tr_bars_free(&b);
    tr_store_close(s);
    tu_rmtree(dir);
    free(csv);
    free(csv2);
    free(sdir);
    free(dir);
}
END_TEST

START_TEST(test_csv_write_roundtrip)
{
    char *dir = tu_tempdir();
    char *path = tu_path(dir, "w.csv");
    tr_bar bars[50];
    tu_walk(bars, 50, 1704153600, M15, 3, 1.1);
    for (int i = 0; i < 50; i++) { /* prices on 5 decimals, as synth writes them */
        double *p[4] = {&bars[i].open, &bars[i].high, &bars[i].low, &bars[i].close};
        for (int k = 0; k < 4; k++)
            *p[k] = (double)(long long)(*p[k] * 1e5 + 0.5) / 1e5;
    }
    tr_error e;
    ck_assert_int_eq(tr_csv_write(path, bars, 50, 5, &e), TR_OK);
    tr_csv_options o = tr_csv_options_default(M15);
    tr_csv_data d;
    ck_assert_int_eq(tr_csv_read(path, &o, &d, &e), TR_OK);
    ck_assert_uint_eq(d.bars.n, 50);
    for (int i = 0; i < 50; i++)
        ck_assert(tr_bar_equal(&d.bars.v[i], &bars[i]));
    tr_csv_data_free(&d);
    tu_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trainer_csv");
    TCase *tc = tcase_create("time");
    tcase_add_test(tc, test_time_parse_forms);
    tcase_add_test(tc, test_civil_roundtrip_and_weekday);
    tcase_add_test(tc, test_eet_rule);
    tcase_add_test(tc, test_timeframes);
    suite_add_tcase(s, tc);
    tc = tcase_create("dialects");
    tcase_add_test(tc, test_generic_file);
    tcase_add_test(tc, test_generic_headerless_and_crlf);
    tcase_add_test(tc, test_yfinance_files);
    tcase_add_test(tc, test_mt4_offsets);
    tcase_add_test(tc, test_more_dialects);
    tcase_add_test(tc, test_csv_write_roundtrip);
    suite_add_tcase(s, tc);
    tc = tcase_create("validation");
    tcase_add_loop_test(tc, test_bad_input, 0, (int)(sizeof bad_cases / sizeof bad_cases[0]));
    tcase_add_test(tc, test_eet_skipped_hour_is_error);
    tcase_add_test(tc, test_missing_file);
    suite_add_tcase(s, tc);
    tc = tcase_create("ingest");
    tcase_add_test(tc, test_ingest_all_or_nothing);
    tcase_add_test(tc, test_ingest_noop_conflict_replace);
    tcase_add_test(tc, test_ingest_split_date_time);
    tcase_add_test(tc, test_ingest_bounded_memory_and_no_store);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(suite)
