/*
 * check_store.c - what is particular to the embedded directory store (the behaviour both
 * backends share is in check_store_contract.c): an interleaved merge with no temporary file left,
 * every damaged file a reader can meet (truncated, bad magic, newer version, bad checksums), the
 * store marker, two processes writing one series at once, and the load time of 130,000 bars.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check_main.h"
#include "base/fsutil.h"
#include "store/store.h"
#include "testutil.h"

#define M15 900
#define T0  1704153600 /* 2024-01-02T00:00:00Z */

typedef struct fixture {
    char *dir, *sdir;
    tr_store *s;
} fixture;

static void fx_open(fixture *f)
{
    tr_error e;
    f->dir = tu_tempdir();
    f->sdir = tu_path(f->dir, "store");
    ck_assert_int_eq(tr_store_open(f->sdir, &(tr_store_options){.create = 1}, &f->s, &e), TR_OK);
}

static void fx_close(fixture *f)
{
    tr_store_close(f->s);
    tu_rmtree(f->dir);
    free(f->sdir);
    free(f->dir);
}

START_TEST(test_merge_and_list)
{
    fixture f;
    fx_open(&f);
    tr_bar bars[60], even[30], odd[30];
    tu_walk(bars, 60, T0, M15, 2, 150.0);
    for (int i = 0; i < 30; i++) {
        even[i] = bars[2 * i];
        odd[i] = bars[2 * i + 1];
    }
    tr_error e;
    tr_put_stats st;
    ck_assert_int_eq(tr_store_bars_put(f.s, "USDJPY", M15, odd, 30, 0, &st, &e), TR_OK);
    ck_assert_int_eq(tr_store_bars_put(f.s, "USDJPY", M15, even, 30, 0, &st, &e), TR_OK);
    ck_assert_uint_eq(st.n_added, 30);
    ck_assert_int_eq(tr_store_bars_put(f.s, "EURUSD", 3600, even, 1, 0, &st, &e), TR_OK);
    tr_bars b = {0};
    ck_assert_int_eq(tr_store_bars_get(f.s, "USDJPY", M15, INT64_MIN, INT64_MAX, &b, &e), TR_OK);
    ck_assert_uint_eq(b.n, 60);
    for (int i = 0; i < 60; i++)
        ck_assert(tr_bar_equal(&b.v[i], &bars[i]));
    tr_bars_free(&b);
    tr_series_info *list;
    size_t n;
    ck_assert_int_eq(tr_store_series_list(f.s, &list, &n, &e), TR_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(list[0].pair, "EURUSD");
    ck_assert_int_eq(list[0].timeframe, 3600);
    ck_assert_str_eq(list[1].pair, "USDJPY");
    ck_assert_uint_eq(list[1].count, 60);
    ck_assert_int_eq(list[1].first, T0);
    ck_assert_int_eq(list[1].last, T0 + 59 * M15);
    free(list);
    /* no temporary files are left behind */
    char *bdir = tu_path(f.sdir, "bars");
    DIR *d = opendir(bdir);
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        ck_assert_msg(strstr(de->d_name, ".tmp") == NULL, "left %s", de->d_name);
    closedir(d);
    free(bdir);
    fx_close(&f);
}
END_TEST

/* Writes 10 bars to a fresh store and returns the path of the series file. */
static char *one_series(fixture *f)
{
    tr_bar bars[10];
    tr_error e;
    tu_walk(bars, 10, T0, M15, 4, 1.1);
    ck_assert_int_eq(tr_store_bars_put(f->s, "EURUSD", M15, bars, 10, 0, NULL, &e), TR_OK);
    return tu_path(f->sdir, "bars/EURUSD_15m.bars");
}

static void patch(const char *path, long offset, unsigned char xor_mask, long truncate_to)
{
    FILE *fp = fopen(path, "r+b");
    ck_assert_ptr_nonnull(fp);
    if (xor_mask) {
        fseek(fp, offset, SEEK_SET);
        int c = fgetc(fp);
        fseek(fp, offset, SEEK_SET);
        fputc(c ^ xor_mask, fp);
    }
    fclose(fp);
    if (truncate_to >= 0)
        ck_assert_int_eq(truncate(path, truncate_to), 0);
}

static const struct damage {
    long offset;
    unsigned char mask;
    long truncate_to;
    tr_code expect;
    const char *text;
} damages[] = {
    {0, 0, 64 + 48 * 9 + 20, TR_ERR_FORMAT, "truncated or padded"},
    {0, 0, 30, TR_ERR_FORMAT, "shorter than the header"},
    {64 + 48 * 3 + 17, 0x01, -1, TR_ERR_CHECKSUM, "data checksum mismatch"},
    {0, 0x20, -1, TR_ERR_FORMAT, "bad magic"},
    {8, 0x02, -1, TR_ERR_VERSION, "newer than this program reads"},
    {41, 0x01, -1, TR_ERR_CHECKSUM, "header checksum mismatch"},
};

START_TEST(test_damaged_files)
{
    fixture f;
    fx_open(&f);
    char *path = one_series(&f);
    const struct damage *d = &damages[_i];
    patch(path, d->offset, d->mask, d->truncate_to);
    tr_bars b = {0};
    tr_error e;
    ck_assert_int_eq(tr_store_bars_get(f.s, "EURUSD", M15, INT64_MIN, INT64_MAX, &b, &e),
                     d->expect);
    ck_assert_msg(strstr(e.msg, d->text) && strstr(e.msg, "EURUSD_15m.bars"), "%s", e.msg);
    /* a writer refuses to merge into a damaged file rather than overwrite it */
    tr_bar extra;
    tu_walk(&extra, 1, T0 + 100 * M15, M15, 5, 1.1);
    ck_assert_int_eq(tr_store_bars_put(f.s, "EURUSD", M15, &extra, 1, 0, NULL, &e), d->expect);
    tr_bars_free(&b);
    free(path);
    fx_close(&f);
}
END_TEST

START_TEST(test_store_marker)
{
    char *dir = tu_tempdir();
    char *missing = tu_path(dir, "nothing");
    tr_store *s;
    tr_error e;
    ck_assert_int_eq(tr_store_open(missing, NULL, &s, &e), TR_ERR_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(e.msg, missing));
    char *other = tu_path(dir, "other");
    ck_assert_int_eq(tr_mkdir_p(other, &e), TR_OK);
    free(tu_write(other, "notes.txt", "hello"));
    ck_assert_int_eq(tr_store_open(other, &(tr_store_options){.create = 1}, &s, &e), TR_ERR_FORMAT);
    char *newer = tu_path(dir, "newer");
    ck_assert_int_eq(tr_store_open(newer, &(tr_store_options){.create = 1}, &s, &e), TR_OK);
    tr_store_close(s);
    free(tu_write(newer, "aifx-store", "aifx-store 2\n"));
    ck_assert_int_eq(tr_store_open(newer, NULL, &s, &e), TR_ERR_VERSION);
#ifdef AIFX_WITH_POSTGRESQL /* no server behind that socket directory: a store error */
    ck_assert_int_eq(tr_store_open("postgresql:///aifx?host=/nonexistent-aifx-pg", NULL, &s, &e),
                     TR_ERR_STORE);
#else
    ck_assert_int_eq(tr_store_open("postgresql:///aifx?host=/nonexistent-aifx-pg", NULL, &s, &e),
                     TR_ERR_UNSUPPORTED);
#endif
    ck_assert_str_eq(tr_store_location("x"), "x");
    tu_rmtree(dir);
    free(missing);
    free(other);
    free(newer);
    free(dir);
}
END_TEST

START_TEST(test_two_writers)
{
    /* Two processes each merge 40 single-bar writes into one series; with the lock no write is
     * lost (without it, a read-merge-write race drops bars). */
    fixture f;
    fx_open(&f);
    enum { N = 80 };
    tr_bar bars[N];
    tu_walk(bars, N, T0, M15, 6, 1.1);
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        ck_assert_int_ge(kids[k], 0);
        if (kids[k] == 0) {
            tr_store *s;
            tr_error e;
            int bad = tr_store_open(f.sdir, NULL, &s, &e) != TR_OK;
            for (int i = k; i < N && !bad; i += 2)
                bad = tr_store_bars_put(s, "EURUSD", M15, &bars[i], 1, 0, NULL, &e) != TR_OK;
            if (!bad)
                tr_store_close(s);
            _exit(bad);
        }
    }
    for (int k = 0; k < 2; k++) {
        int status;
        ck_assert_int_eq(waitpid(kids[k], &status, 0), kids[k]);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    tr_bars b = {0};
    tr_error e;
    ck_assert_int_eq(tr_store_bars_get(f.s, "EURUSD", M15, INT64_MIN, INT64_MAX, &b, &e), TR_OK);
    ck_assert_uint_eq(b.n, N);
    for (int i = 0; i < N; i++)
        ck_assert(tr_bar_equal(&b.v[i], &bars[i]));
    tr_bars_free(&b);
    fx_close(&f);
}
END_TEST

START_TEST(test_load_130k)
{
    fixture f;
    fx_open(&f);
    enum { N = 130000 };
    tr_bar *bars = malloc(N * sizeof *bars);
    tu_walk(bars, N, T0, M15, 7, 1.1);
    tr_error e;
    ck_assert_int_eq(tr_store_bars_put(f.s, "EURUSD", M15, bars, N, 0, NULL, &e), TR_OK);
    tr_bars b = {0};
    double t0 = tu_now();
    ck_assert_int_eq(tr_store_bars_get(f.s, "EURUSD", M15, INT64_MIN, INT64_MAX, &b, &e), TR_OK);
    double dt = tu_now() - t0;
    printf("trainer_store: loaded %d bars in %.3f s\n", N, dt);
    ck_assert_uint_eq(b.n, N);
    ck_assert(tr_bar_equal(&b.v[N - 1], &bars[N - 1]));
    tr_bars_free(&b);
    free(bars);
    fx_close(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trainer_store");
    TCase *tc = tcase_create("store");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_merge_and_list);
    tcase_add_loop_test(tc, test_damaged_files, 0, (int)(sizeof damages / sizeof damages[0]));
    tcase_add_test(tc, test_store_marker);
    tcase_add_test(tc, test_two_writers);
    tcase_add_test(tc, test_load_130k);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(suite)
