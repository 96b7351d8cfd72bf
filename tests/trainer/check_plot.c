/*
 * check_plot.c - the report pictures (plot.h): real PNG files of the requested size (the IHDR
 * chunk), different data give different pictures, gaps and empty panels draw, and a picture that
 * cannot be written is an error naming the file that leaves nothing behind (no PNG, no temporary
 * file) and does not end the calling process.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check_main.h"
#include "base/fsutil.h"
#include "report/plot.h"
#include "testutil.h"

/* Width and height from the PNG's IHDR chunk (big-endian at bytes 16..23). */
static void png_size(const char *path, uint32_t *w, uint32_t *h, size_t *len)
{
    char *data;
    tr_error e;
    ck_assert_int_eq(tr_file_read(path, &data, len, &e), TR_OK);
    ck_assert_uint_ge(*len, 24);
    ck_assert_int_eq(memcmp(data + 12, "IHDR", 4), 0);
    const unsigned char *p = (const unsigned char *)data;
    *w = (uint32_t)p[16] << 24 | (uint32_t)p[17] << 16 | (uint32_t)p[18] << 8 | p[19];
    *h = (uint32_t)p[20] << 24 | (uint32_t)p[21] << 16 | (uint32_t)p[22] << 8 | p[23];
    free(data);
}

static int n_entries(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

static int same_file(const char *a, const char *b)
{
    char *x, *y;
    size_t nx, ny;
    tr_error e;
    ck_assert_int_eq(tr_file_read(a, &x, &nx, &e), TR_OK);
    ck_assert_int_eq(tr_file_read(b, &y, &ny, &e), TR_OK);
    int same = nx == ny && memcmp(x, y, nx) == 0;
    free(x);
    free(y);
    return same;
}

START_TEST(test_lines)
{
    char *dir = tu_tempdir();
    enum { N = 200 };
    double t[N], up[N], down[N];
    for (int i = 0; i < N; i++) {
        t[i] = 1735689600.0 + 3600.0 * i; /* 2025-01-01, hourly */
        up[i] = 10.0 * sin(i / 15.0) + i * 0.2;
        down[i] = i == 50 || i == 51 ? NAN : -0.1 * i; /* a gap */
    }
    tr_plot_series s[2] = {{"v1.1", N, t, up}, {"v1.0 (active)", N, t, down}};
    tr_plot_panel p = {"Equity", "exit time (UTC)", "cumulative pips", 1, s, 2};
    char *a = tu_path(dir, "a.png"), *b = tu_path(dir, "b.png");
    tr_error e;
    ck_assert_msg(tr_plot_lines(a, 900, 480, &p, 1, &e) == TR_OK, "%s", e.msg);
    ck_assert(tr_plot_is_png(a));
    uint32_t w, h;
    size_t len;
    png_size(a, &w, &h, &len);
    ck_assert_uint_eq(w, 900);
    ck_assert_uint_eq(h, 480);
    ck_assert_uint_gt(len, 5000); /* lines, axes and text, not a blank page */
    /* other data, another picture; two panels, one of them empty */
    up[100] += 50;
    tr_plot_series none = {"nothing", 0, t, up};
    tr_plot_panel two[2] = {p, {"Empty", "epoch", "loss", 0, &none, 1}};
    ck_assert_msg(tr_plot_lines(b, 900, 480, &p, 1, &e) == TR_OK, "%s", e.msg);
    ck_assert(!same_file(a, b));
    ck_assert_msg(tr_plot_lines(b, 800, 700, two, 2, &e) == TR_OK, "%s", e.msg);
    png_size(b, &w, &h, &len);
    ck_assert_uint_eq(w, 800);
    ck_assert_uint_eq(h, 700);
    ck_assert_int_eq(n_entries(dir), 2); /* no temporary file left */
    /* bad arguments */
    ck_assert_int_eq(tr_plot_lines(b, 800, 700, two, 0, &e), TR_ERR_INVALID);
    free(a);
    free(b);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_confusion)
{
    char *dir = tu_tempdir();
    char *a = tu_path(dir, "cm.png"), *b = tu_path(dir, "cm2.png");
    const char *names[3] = {"hold", "buy", "sell"};
    int64_t cm[3][3] = {{1500, 40, 35}, {60, 25, 3}, {55, 2, 30}};
    tr_error e;
    ck_assert_msg(tr_plot_confusion(a, "v1.0", &cm[0][0], names, &e) == TR_OK, "%s", e.msg);
    uint32_t w, h;
    size_t len;
    png_size(a, &w, &h, &len);
    ck_assert_uint_eq(w, 560);
    ck_assert_uint_eq(h, 520);
    cm[1][1] = 0; /* an empty row and zero cells draw too */
    cm[1][0] = cm[1][2] = 0;
    ck_assert_msg(tr_plot_confusion(b, "v1.0", &cm[0][0], names, &e) == TR_OK, "%s", e.msg);
    ck_assert(!same_file(a, b));
    free(a);
    free(b);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* A file that cannot be written: PLplot fails in the child; the caller gets an error naming the
 * path and carries on. */
START_TEST(test_unwritable)
{
    char *dir = tu_tempdir();
    char *a = tu_path(dir, "no-such-dir/x.png");
    double x[2] = {0, 1}, y[2] = {1, 2};
    tr_plot_series s = {"s", 2, x, y};
    tr_plot_panel p = {"t", "x", "y", 0, &s, 1};
    tr_error e;
    tr_code rc = tr_plot_lines(a, 400, 300, &p, 1, &e);
    ck_assert_int_ne(rc, TR_OK);
    ck_assert_msg(strstr(e.msg, "no-such-dir/x.png") != NULL, "%s", e.msg);
    ck_assert_int_eq(access(a, F_OK), -1);
    ck_assert_int_eq(n_entries(dir), 0);
    /* still alive, and the next picture works */
    char *b = tu_path(dir, "ok.png");
    ck_assert_msg(tr_plot_lines(b, 400, 300, &p, 1, &e) == TR_OK, "%s", e.msg);
    free(a);
    free(b);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

static Suite *plot_suite(void)
{
    Suite *s = suite_create("plot");
    TCase *tc = tcase_create("plot");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_lines);
    tcase_add_test(tc, test_confusion);
    tcase_add_test(tc, test_unwritable);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(plot_suite)
