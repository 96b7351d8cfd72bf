/*
 * timeutil.c - civil calendar arithmetic (the days-from-civil algorithm on 400-year eras of
 * 146097 days), ISO 8601 parsing, timeframes, and the EU daylight-saving rule for EET.
 */
#define _POSIX_C_SOURCE 200809L

#include "base/timeutil.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

int64_t tr_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;                         /* [0, 399] */
    int64_t mp = (m + 9) % 12;                           /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + d - 1;            /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

void tr_civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
    int64_t z = days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int tr_weekday(int64_t t)
{
    int64_t days = floor_div(t, 86400);
    /* 1970-01-01 was a Thursday (3 with Monday = 0). */
    int64_t w = (days + 3) % 7;
    return (int)(w < 0 ? w + 7 : w);
}

static int days_in_month(int64_t y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

/* Reads exactly n digits at s[*i]; returns -1 if they are not all digits. */
static int digits(const char *s, size_t len, size_t *i, int n, int *out)
{
    int v = 0;
    for (int k = 0; k < n; k++) {
        if (*i >= len || s[*i] < '0' || s[*i] > '9')
            return -1;
        v = v * 10 + (s[*i] - '0');
        (*i)++;
    }
    *out = v;
    return 0;
}

int tr_time_parse(const char *s, size_t len, int32_t default_offset, int64_t *t)
{
    size_t i = 0;
    int y, mo, d, hh = 0, mi = 0, ss = 0;
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (digits(s, len, &i, 4, &y) || i >= len || s[i++] != '-' || digits(s, len, &i, 2, &mo) ||
        i >= len || s[i++] != '-' || digits(s, len, &i, 2, &d))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return -1;
    int64_t offset = default_offset;
    if (i < len) {
        if (s[i] != 'T' && s[i] != ' ')
            return -1;
        i++;
        if (digits(s, len, &i, 2, &hh) || i >= len || s[i++] != ':' || digits(s, len, &i, 2, &mi))
            return -1;
        if (i < len && s[i] == ':') {
            i++;
            if (digits(s, len, &i, 2, &ss))
                return -1;
            if (i < len && s[i] == '.') {
                i++;
                size_t n0 = i;
                while (i < len && s[i] >= '0' && s[i] <= '9') {
                    if (s[i] != '0')
                        return -1; /* bars start on whole seconds */
                    i++;
                }
                if (i == n0)
                    return -1;
            }
        }
        if (hh > 23 || mi > 59 || ss > 59)
            return -1;
        if (i < len) {
            if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len) { /* RFC 3339 allows "z" */
                offset = 0;
                i++;
            } else if (s[i] == '+' || s[i] == '-') {
                int sign = s[i] == '-' ? -1 : 1, oh, om;
                i++;
                if (digits(s, len, &i, 2, &oh))
                    return -1;
                if (i < len && s[i] == ':')
                    i++;
                if (digits(s, len, &i, 2, &om) || oh > 14 || om > 59)
                    return -1;
                offset = sign * (oh * 3600 + om * 60);
            } else {
                return -1;
            }
        }
    }
    if (i != len)
        return -1;
    *t = tr_days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss - offset;
    return 0;
}

char *tr_time_format(int64_t t, char *buf, size_t size)
{
    int64_t days = floor_div(t, 86400), y;
    int64_t sec = t - days * 86400;
    int m, d;
    tr_civil_from_days(days, &y, &m, &d);
    snprintf(buf, size, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, m, d, (int)(sec / 3600),
             (int)(sec / 60 % 60), (int)(sec % 60));
    return buf;
}

int tr_timeframe_parse(const char *s, int32_t *seconds)
{
    size_t len = strlen(s);
    if (len < 2 || len > 6)
        return -1;
    long n = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        n = n * 10 + (s[i] - '0');
    }
    long unit;
    switch (s[len - 1]) {
    case 'm':
        unit = 60;
        break;
    case 'h':
        unit = 3600;
        break;
    case 'd':
        unit = 86400;
        break;
    default:
        return -1;
    }
    long sec = n * unit;
    if (n <= 0 || sec > 86400 || 86400 % sec != 0)
        return -1;
    *seconds = (int32_t)sec;
    return 0;
}

char *tr_timeframe_name(int32_t seconds, char *buf, size_t size)
{
    if (seconds % 86400 == 0)
        snprintf(buf, size, "%dd", (int)(seconds / 86400));
    else if (seconds % 3600 == 0)
        snprintf(buf, size, "%dh", (int)(seconds / 3600));
    else
        snprintf(buf, size, "%dm", (int)(seconds / 60));
    return buf;
}

int tr_pair_valid(const char *pair)
{
    size_t n = pair ? strlen(pair) : 0;
    if (n < 3 || n > 15)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((pair[i] >= 'A' && pair[i] <= 'Z') || (pair[i] >= '0' && pair[i] <= '9')))
            return 0;
    return 1;
}

/* 01:00 UTC on the last Sunday of month m of year y. */
static int64_t last_sunday_0100(int64_t y, int m)
{
    int64_t day = tr_days_from_civil(y, m, days_in_month(y, m));
    int w = tr_weekday(day * 86400);
    return (day - (w + 1) % 7) * 86400 + 3600;
}

static int eet_is_summer(int64_t utc)
{
    int64_t y;
    int m, d;
    tr_civil_from_days(floor_div(utc, 86400), &y, &m, &d);
    return utc >= last_sunday_0100(y, 3) && utc < last_sunday_0100(y, 10);
}

int tr_eet_to_utc(int64_t local, int64_t *utc)
{
    int64_t summer = local - 3 * 3600, winter = local - 2 * 3600;
    int ok_summer = eet_is_summer(summer), ok_winter = !eet_is_summer(winter);
    if (ok_summer == ok_winter)
        return -1; /* skipped (neither) or repeated (both) wall-clock hour */
    *utc = ok_summer ? summer : winter;
    return 0;
}

int32_t tr_eet_offset(int64_t utc)
{
    return eet_is_summer(utc) ? 3 * 3600 : 2 * 3600;
}

int64_t tr_wall_now(void)
{
    return (int64_t)time(NULL);
}

double tr_mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int64_t tr_time_minus_months(int64_t t, int months)
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t secs = t - days * 86400;
    int64_t y;
    int m, d;
    tr_civil_from_days(days, &y, &m, &d);
    int64_t mm = y * 12 + (m - 1) - months;
    y = mm >= 0 ? mm / 12 : -((-mm + 11) / 12);
    m = (int)(mm - y * 12) + 1;
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    int ml = mdays[m - 1] + (m == 2 && leap);
    if (d > ml)
        d = ml;
    return tr_days_from_civil(y, m, d) * 86400 + secs;
}
