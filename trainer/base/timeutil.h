/*
 * timeutil.h - UTC calendar arithmetic, ISO 8601 parsing and formatting, bar timeframes and the
 * EET/EEST server-clock rule, without the C library's time zone machinery (no TZ, no clock).
 *
 * Times are int64_t seconds since 1970-01-01T00:00:00Z (proleptic Gregorian, no leap seconds).
 */
#ifndef AIFXT_TIMEUTIL_H
#define AIFXT_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Days since 1970-01-01 of the civil date y-m-d (m 1..12, d 1..31). */
int64_t tr_days_from_civil(int64_t y, int m, int d);
/* The civil date of a day number (inverse of tr_days_from_civil). */
void tr_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
/* Day of the week of a time: 0 = Monday ... 6 = Sunday. */
int tr_weekday(int64_t t);

/* Parses s[0..len) as one of
 *   YYYY-MM-DD
 *   YYYY-MM-DD[T| ]HH:MM[:SS[.fff]][Z|+HH:MM|-HH:MM|+HHMM]
 * Without a zone designator the time is local time at default_offset seconds east of UTC
 * (0 for UTC). Fractional seconds must be zero. Returns 0 and sets *t on success, -1 otherwise. */
int tr_time_parse(const char *s, size_t len, int32_t default_offset, int64_t *t);

/* Writes t as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 32 bytes); returns buf. */
char *tr_time_format(int64_t t, char *buf, size_t size);

/* Parses a timeframe "1m", "5m", "15m", "30m", "1h", "4h", "1d" (any N followed by m, h or d
 * dividing a day evenly) into seconds. Returns 0 on success, -1 otherwise. */
int tr_timeframe_parse(const char *s, int32_t *seconds);
/* The canonical name of a timeframe ("15m", "1h", "1d") into buf; returns buf. */
char *tr_timeframe_name(int32_t seconds, char *buf, size_t size);

/* A pair name is 3 to 15 characters of A-Z and 0-9 (so it is safe in a file name). */
int tr_pair_valid(const char *pair);

/* EET/EEST, the server clock of most MT4 brokers: UTC+2, and UTC+3 from the last Sunday of March
 * 01:00 UTC to the last Sunday of October 01:00 UTC (EU rules). Converts a local wall-clock time
 * (seconds since the epoch as if it were UTC) to UTC. Returns 0 on success, -1 when the local time
 * does not exist (skipped hour in spring) or is ambiguous (repeated hour in autumn). */
int tr_eet_to_utc(int64_t local, int64_t *utc);

/* The EET/EEST offset east of UTC at a UTC time: 7200 or 10800 seconds. */
int32_t tr_eet_offset(int64_t utc);

/* Wall-clock seconds since the epoch. */
int64_t tr_wall_now(void);
/* Monotonic seconds, for durations. */
double tr_mono_now(void);
/* t minus a number of calendar months (the day clamped to the month's length). */
int64_t tr_time_minus_months(int64_t t, int months);

#endif
