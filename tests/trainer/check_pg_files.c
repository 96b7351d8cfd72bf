/*
 * check_pg_files.c - model files in the database (docs/schema.md 5.16), on the private test
 * server of scripts/lib/pg.sh ($AIFX_TEST_PG; every case skips with a message without it), each
 * case in a fresh database of its own:
 *   two hosts: a version trained by `aifx-train full` with models directory A is predicted by
 *       `aifx-train predict` with models directory B (empty, nothing shared but the database):
 *       the same output; B's load comes from the database, then from B's cache; a damaged cache
 *       file is named and fetched again; a checkpoint missing from the database is an error
 *       naming the version (exit 5 for predict), while host A still loads its own file; `db
 *       upload` from A stores it again, from B it names what is missing; the ranking's report
 *       and pictures, stored by A, are fetched on B (`db get`, a Discord notification); the
 *       daily fine-tune on B starts from A's version and A loads B's;
 *   the transaction: a registry commit that fails at COMMIT leaves neither the version nor its
 *       file; a file that does not match the record, or is missing, fails the commit before
 *       anything is written; a damaged row is refused on read; names are checked; a directory
 *       store ignores the files of a commit and has no stored files.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check_main.h"
#include "base/fsutil.h"
#include "data/models.h"
#include "data/notify.h"
#include "market/synth.h"
#include "pgutil.h"
#include "store/store.h"
#include "testutil.h"

#define M15 900

/* A fresh database, and two "hosts": directories A and B, each with its own models directory. */
typedef struct fixture {
    char *ci, *dir, *host_a, *host_b, *models_a, *models_b;
} fixture;

static int fx_open(fixture *f)
{
    memset(f, 0, sizeof *f);
    if (!pu_server())
        return 0;
    f->ci = pu_create_db(1);
    f->dir = tu_tempdir();
    f->host_a = tu_path(f->dir, "hostA");
    f->host_b = tu_path(f->dir, "hostB");
    tr_error e;
    ck_assert_int_eq(tr_mkdir_p(f->host_a, &e), TR_OK);
    ck_assert_int_eq(tr_mkdir_p(f->host_b, &e), TR_OK);
    f->models_a = tu_path(f->host_a, "models");
    f->models_b = tu_path(f->host_b, "models");
    return 1;
}

static void fx_close(fixture *f)
{
    pu_drop_db(f->ci);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f->host_a);
    free(f->host_b);
    free(f->models_a);
    free(f->models_b);
}

static tr_store *open_host(const char *location, const char *models)
{
    tr_store *s;
    tr_error e;
    tr_store_options o = {.create = 1, .models_dir = models};
    tr_code rc = tr_store_open(location, &o, &s, &e);
    ck_assert_msg(rc == TR_OK, "open %s: %s", location, e.msg);
    return s;
}

static void load_bars(tr_store *s, const char *from, const char *to)
{
    static const char *pairs[2] = {"EURUSD", "USDJPY"};
    tr_error e;
    for (int p = 0; p < 2; p++) {
        tr_synth_params sp = tr_synth_params_default(pairs[p], T(from), T(to), (uint64_t)(7 + p));
        tr_bars b = {0};
        ck_assert_int_eq(tr_synth_generate(&sp, &b, NULL, &e), TR_OK);
        ck_assert_int_eq(tr_store_bars_put(s, pairs[p], M15, b.v, b.n, 0, NULL, &e), TR_OK);
        tr_bars_free(&b);
    }
}

/* The whole of dir/out.txt (of the last tu_run), malloc'd. */
static char *output_of(const char *dir)
{
    char *p = tu_path(dir, "out.txt"), *text;
    size_t len;
    tr_error e;
    ck_assert_int_eq(tr_file_read(p, &text, &len, &e), TR_OK);
    free(p);
    return text;
}

static void assert_same_params(aifx_model *a, aifx_model *b)
{
    size_t n = aifx_net_n_params(aifx_model_net(a));
    ck_assert_uint_eq(n, aifx_net_n_params(aifx_model_net(b)));
    ck_assert(memcmp(aifx_net_params(aifx_model_net(a)), aifx_net_params(aifx_model_net(b)),
                     n * sizeof(float)) == 0);
}

#define run(dir, ...) tu_run(AIFX_TRAIN_EXE, dir, __VA_ARGS__)

static const char predict_args[] =
    "--models-dir '%s' predict --pair EURUSD --as-of 2024-04-08T00:00 --no-record --json "
    "--store '%s'";

START_TEST(test_two_hosts)
{
    fixture f;
    if (!fx_open(&f))
        return;
    tr_error e;
    tr_store *a = open_host(f.ci, f.models_a);
    load_bars(a, "2024-01-01", "2024-04-10");

    /* host A trains v1.0 (the first model: active) */
    ck_assert_msg(run(f.host_a,
                      "--models-dir '%s' full --as-of 2024-04-07T01:00 --months 2 --hidden 8 "
                      "--epochs 2 --patience 1 --store '%s'",
                      f.models_a, f.ci) == 0,
                  "full on host A failed: %s", output_of(f.host_a));
    tr_registry reg;
    ck_assert_int_eq(tr_store_registry_read(a, &reg, &e), TR_OK);
    ck_assert_uint_eq(reg.n_versions, 1);
    tr_version v = reg.versions[0];
    tr_registry_free(&reg);
    ck_assert_str_eq(v.version, "v1.0");
    /* its checkpoint and drift reference in the database, with the registry's CRC and size */
    char sql[512], out[256];
    snprintf(sql, sizeof sql,
             "SELECT kind || ' ' || crc32 || ' ' || size FROM model_files WHERE name = '%s'",
             v.checkpoint);
    ck_assert_int_eq(pu_psql(f.ci, sql, out, sizeof out), 0);
    char want[128];
    snprintf(want, sizeof want, "checkpoint %u %lld", (unsigned)v.ckpt_crc, (long long)v.ckpt_size);
    ck_assert_str_eq(out, want);
    ck_assert_int_eq(pu_value(f.ci, "SELECT count(*) FROM model_files WHERE name = 'v1.0.ref' AND "
                                    "kind = 'reference'"),
                     1);

    /* the same prediction on both hosts: B's models directory is empty, shares nothing */
    ck_assert_msg(run(f.host_a, predict_args, f.models_a, f.ci) == 0, "predict on A: %s",
                  output_of(f.host_a));
    char *pa = output_of(f.host_a);
    struct stat sb;
    ck_assert_int_ne(stat(f.models_b, &sb), 0);
    ck_assert_msg(run(f.host_b, predict_args, f.models_b, f.ci) == 0, "predict on B: %s",
                  output_of(f.host_b));
    char *pb = output_of(f.host_b);
    fprintf(stderr, "predict on host B (models only in the database):\n%s", pb);
    ck_assert_ptr_nonnull(strstr(pa, "\"probabilities\""));
    ck_assert_str_eq(pa, pb);
    free(pa);
    free(pb);
    char ckpt_b[4400], cache_b[4400];
    snprintf(ckpt_b, sizeof ckpt_b, "%s/v1.0.ckpt", f.models_b);
    snprintf(cache_b, sizeof cache_b, "%s/cache/%08x-%lld-v1.0.ckpt", f.models_b,
             (unsigned)v.ckpt_crc, (long long)v.ckpt_size);
    ck_assert_int_ne(stat(ckpt_b, &sb), 0); /* only the cache, keyed by checksum */
    ck_assert_int_eq(stat(cache_b, &sb), 0);
    ck_assert_int_eq((long long)sb.st_size, (long long)v.ckpt_size);

    /* the ranking on A: its report in the database, fetched on B */
    ck_assert_msg(run(f.host_a,
                      "--models-dir '%s' rank --as-of 2024-04-08T00:00 --min-trades 0 --store '%s'",
                      f.models_a, f.ci) == 0,
                  "rank on A: %s", output_of(f.host_a));
    ck_assert_int_eq(run(f.host_b, "db files --prefix reports/ --store '%s'", f.ci), 0);
    ck_assert_msg(tu_output_has(f.host_b, "reports/rank-2024-04-08.md\treport\t"), "%s",
                  output_of(f.host_b));
    ck_assert_int_eq(run(f.host_b, "db get reports/rank-2024-04-08.md --out '%s/r.md' --store '%s'",
                         f.host_b, f.ci),
                     0);
    char *ra = tu_path(f.host_a, "reports/rank-2024-04-08.md"), *rb = tu_path(f.host_b, "r.md");
    char *ta, *tb;
    size_t la, lb;
    ck_assert_int_eq(tr_file_read(ra, &ta, &la, &e), TR_OK);
    ck_assert_int_eq(tr_file_read(rb, &tb, &lb, &e), TR_OK);
    ck_assert(la == lb && memcmp(ta, tb, la) == 0);
    free(ta), free(tb), free(ra), free(rb);
    ck_assert_int_eq(run(f.host_b, "db get reports/none.md --store '%s'", f.ci), 6);
    ck_assert(tu_output_has(f.host_b, "reports/none.md"));
    /* B's notifier attaches A's report (its event names A's path, absent here) and picture */
    tr_store *b0 = open_host(f.ci, f.models_b);
    tr_notify_sink sink = {.kind = TR_SINK_DISCORD, .id = "d", .url = "http://127.0.0.1:9/x"};
    tr_outbox_event ev = {.id = 1, .kind = "monthly_report"};
    snprintf(ev.payload, sizeof ev.payload,
             "{\"as_of\":\"2024-04-08T00:00:00Z\",\"verdict\":\"unchanged\",\"report\":"
             "\"/nonexistent-host-a/reports/rank-2024-04-08.md\"}");
    char *body, ctype[128];
    ck_assert_int_eq(tr_notify_render(b0, &sink, &ev, &body, &la, ctype, sizeof ctype, &e), TR_OK);
    ck_assert_msg(strncmp(ctype, "multipart/form-data;", 20) == 0, "%s", ctype);
    ck_assert_ptr_nonnull(strstr(body, "filename=\"rank-2024-04-08.md\""));
    int pics = pu_value(f.ci, "SELECT count(*) FROM model_files WHERE kind = 'picture'") > 0;
    fprintf(stderr, "the ranking's pictures in the database: %s\n", pics ? "yes" : "none");
    ck_assert(!pics || strstr(body, "filename=\"rank-2024-04-08-") != NULL);
    free(body);
    tr_store_close(b0);

    /* in process: A loads its own file, B its cache; the same parameters */
    tr_store *b = open_host(f.ci, f.models_b);
    aifx_model *ma, *mb;
    tr_fetch_info fi;
    ck_assert_int_eq(tr_checkpoint_load_info(a, &v, &ma, &fi, &e), TR_OK);
    ck_assert_int_eq(fi.source, TR_FROM_LOCAL);
    ck_assert_int_eq(tr_checkpoint_load_info(b, &v, &mb, &fi, &e), TR_OK);
    ck_assert_int_eq(fi.source, TR_FROM_CACHE);
    ck_assert_str_eq(fi.note, "");
    assert_same_params(ma, mb);
    aifx_model_free(mb);

    /* a damaged cache file: named, fetched again, repaired */
    char *bytes;
    size_t len;
    ck_assert_int_eq(tr_file_read(cache_b, &bytes, &len, &e), TR_OK);
    bytes[len / 2] ^= 0x40;
    ck_assert_int_eq(tr_file_write_atomic(cache_b, bytes, len, &e), TR_OK);
    ck_assert_int_eq(tr_checkpoint_load_info(b, &v, &mb, &fi, &e), TR_OK);
    ck_assert_int_eq(fi.source, TR_FROM_DATABASE);
    ck_assert_msg(strstr(fi.note, cache_b) && strstr(fi.note, "damaged"), "note: %s", fi.note);
    assert_same_params(ma, mb);
    aifx_model_free(mb);
    bytes[len / 2] ^= 0x40;
    char *again;
    size_t len2;
    ck_assert_int_eq(tr_file_read(cache_b, &again, &len2, &e), TR_OK);
    ck_assert(len2 == len && memcmp(again, bytes, len) == 0);
    free(again);
    free(bytes);
    /* a truncated one likewise; predict names it too (on standard error) */
    ck_assert_int_eq(truncate(cache_b, 10), 0);
    ck_assert_int_eq(tr_checkpoint_load_info(b, &v, &mb, &fi, &e), TR_OK);
    ck_assert_int_eq(fi.source, TR_FROM_DATABASE);
    aifx_model_free(mb);
    ck_assert_int_eq(truncate(cache_b, 10), 0);
    ck_assert_int_eq(run(f.host_b, predict_args, f.models_b, f.ci), 0);
    char note[4600];
    snprintf(note, sizeof note, "note: cache file %s is damaged", cache_b);
    ck_assert_msg(tu_output_has(f.host_b, note), "%s", output_of(f.host_b));

    /* the database's copy gone (a store from before model files): B cannot load it and says
     * which version; A still loads its own file */
    ck_assert_int_eq(pu_psql(f.ci, "DELETE FROM model_files WHERE name = 'v1.0.ckpt'", NULL, 0), 0);
    ck_assert_int_eq(unlink(cache_b), 0);
    ck_assert_int_eq(tr_checkpoint_load_info(b, &v, &mb, &fi, &e), TR_ERR_CHECKSUM);
    ck_assert_msg(strstr(e.msg, "version v1.0") && strstr(e.msg, "not in the database"), "%s",
                  e.msg);
    ck_assert_int_eq(run(f.host_b, predict_args, f.models_b, f.ci), 5);
    ck_assert_msg(tu_output_has(f.host_b, "v1.0"), "predict on B: %s", output_of(f.host_b));
    ck_assert_int_eq(tr_checkpoint_load_info(a, &v, &mb, &fi, &e), TR_OK);
    ck_assert_int_eq(fi.source, TR_FROM_LOCAL);
    aifx_model_free(mb);
    /* db upload: from B nothing to give (exit 5, naming it); from A it is stored again */
    ck_assert_int_eq(run(f.host_b, "--models-dir '%s' db upload --store '%s'", f.models_b, f.ci),
                     5);
    ck_assert(tu_output_has(f.host_b, "1 missing: v1.0"));
    ck_assert_int_eq(run(f.host_a, "--models-dir '%s' db upload --store '%s'", f.models_a, f.ci),
                     0);
    ck_assert_msg(tu_output_has(f.host_a, "1 uploaded, 0 missing"), "%s", output_of(f.host_a));
    ck_assert_int_eq(run(f.host_a, "--models-dir '%s' db upload --store '%s'", f.models_a, f.ci),
                     0);
    ck_assert(tu_output_has(f.host_a, "1 stored already, 0 uploaded"));
    ck_assert_int_eq(tr_checkpoint_load_info(b, &v, &mb, &fi, &e), TR_OK);
    ck_assert_int_eq(fi.source, TR_FROM_DATABASE);
    assert_same_params(ma, mb);
    aifx_model_free(mb);
    aifx_model_free(ma);

    /* a file of another database under the version's name in B's models directory: not used */
    ck_assert_int_eq(tr_mkdir_p(f.models_b, &e), TR_OK);
    ck_assert_int_eq(tr_file_write_atomic(ckpt_b, "not this one", 12, &e), TR_OK);
    ck_assert_int_eq(tr_checkpoint_load_info(b, &v, &mb, &fi, &e), TR_OK);
    ck_assert_int_eq(fi.source, TR_FROM_CACHE);
    aifx_model_free(mb);

    /* the daily fine-tune on host B starts from v1.0 (from the database), and host A loads its
     * result from the database in turn */
    ck_assert_msg(run(f.host_b,
                      "--models-dir '%s' incremental --as-of 2024-04-09T02:00 --force --store '%s'",
                      f.models_b, f.ci) == 0,
                  "incremental on B: %s", output_of(f.host_b));
    ck_assert_int_eq(tr_store_registry_read(a, &reg, &e), TR_OK);
    const tr_version *dv = tr_registry_find(&reg, "v1.0-daily-20240409");
    ck_assert_ptr_nonnull(dv);
    tr_version daily = *dv;
    tr_registry_free(&reg);
    ck_assert_int_eq(pu_value(f.ci, "SELECT count(*) FROM model_files WHERE name = "
                                    "'v1.0-daily-20240409.ckpt' AND kind = 'checkpoint'"),
                     1);
    ck_assert_int_eq(tr_checkpoint_load_info(b, &daily, &mb, &fi, &e), TR_OK);
    ck_assert_int_eq(fi.source, TR_FROM_LOCAL);
    ck_assert_int_eq(tr_checkpoint_load_info(a, &daily, &ma, &fi, &e), TR_OK);
    ck_assert_int_eq(fi.source, TR_FROM_DATABASE);
    assert_same_params(ma, mb);
    aifx_model_free(ma);
    aifx_model_free(mb);
    tr_store_close(a);
    tr_store_close(b);
    fx_close(&f);
}
END_TEST

/* A deferred constraint trigger that raises at COMMIT for a model_versions row named v9.9. */
static const char fail_at_commit_sql[] =
    "CREATE FUNCTION aifxt_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION "
    "'refused at commit by the test'; END $$;\n"
    "CREATE CONSTRAINT TRIGGER aifxt_fail_mv AFTER INSERT ON model_versions DEFERRABLE INITIALLY "
    "DEFERRED FOR EACH ROW WHEN (NEW.version = 'v9.9') EXECUTE FUNCTION aifxt_fail();\n";

/* A version whose checkpoint is the file models/<name>.ckpt holding text. */
static tr_version version_with_file(tr_store *s, const char *name, const char *text)
{
    tr_version v;
    memset(&v, 0, sizeof v);
    snprintf(v.version, sizeof v.version, "%s", name);
    v.status = TR_VS_COMPLETED;
    v.type = TR_VT_FULL;
    snprintf(v.checkpoint, sizeof v.checkpoint, "%s.ckpt", name);
    char dir[4400], path[4400];
    tr_error e;
    ck_assert_int_eq(tr_store_path(s, TR_AREA_MODELS, NULL, dir, sizeof dir, &e), TR_OK);
    ck_assert_int_eq(tr_mkdir_p(dir, &e), TR_OK);
    ck_assert_int_eq(tr_store_path(s, TR_AREA_MODELS, v.checkpoint, path, sizeof path, &e), TR_OK);
    ck_assert_int_eq(tr_file_write_atomic(path, text, strlen(text), &e), TR_OK);
    v.ckpt_crc = aifx_crc32(0, text, strlen(text));
    v.ckpt_size = (int64_t)strlen(text);
    return v;
}

static tr_code commit_with_files(tr_store *s, const tr_version *v, tr_error *e)
{
    tr_version_files vf;
    tr_code rc = tr_version_files_of(s, v, &vf, e);
    if (rc)
        return rc;
    tr_reg_txn t = {0};
    t.put = v;
    t.n_put = 1;
    t.files = vf.f;
    t.n_files = vf.n;
    return tr_store_registry_commit(s, &t, e);
}

START_TEST(test_commit_atomic)
{
    fixture f;
    if (!fx_open(&f))
        return;
    ck_assert_int_eq(pu_psql(f.ci, fail_at_commit_sql, NULL, 0), 0);
    tr_store *s = open_host(f.ci, f.models_a);
    tr_error e;

    /* a commit that fails at COMMIT: neither the version nor its file */
    tr_version v99 = version_with_file(s, "v9.9", "checkpoint bytes of v9.9");
    ck_assert_int_ne(commit_with_files(s, &v99, &e), TR_OK);
    ck_assert_ptr_nonnull(strstr(e.msg, "refused at commit"));
    ck_assert_int_eq(pu_value(f.ci, "SELECT count(*) FROM model_versions"), 0);
    ck_assert_int_eq(pu_value(f.ci, "SELECT count(*) FROM model_files"), 0);

    /* a file that does not match its record, or is missing: refused before anything is written */
    tr_version v1 = version_with_file(s, "v1.0", "checkpoint bytes of v1.0");
    tr_version bad = v1;
    bad.ckpt_crc ^= 1;
    ck_assert_int_eq(commit_with_files(s, &bad, &e), TR_ERR_CHECKSUM);
    ck_assert_msg(strstr(e.msg, "v1.0.ckpt") && strstr(e.msg, "nothing committed"), "%s", e.msg);
    bad = v1;
    snprintf(bad.checkpoint, sizeof bad.checkpoint, "v1.0-gone.ckpt");
    ck_assert_int_eq(commit_with_files(s, &bad, &e), TR_ERR_IO);
    ck_assert_msg(strstr(e.msg, "v1.0-gone.ckpt"), "%s", e.msg);
    ck_assert_int_eq(pu_value(f.ci, "SELECT count(*) FROM model_versions"), 0);
    ck_assert_int_eq(pu_value(f.ci, "SELECT count(*) FROM model_files"), 0);

    /* and one that lands: the version and its bytes together */
    ck_assert_int_eq(commit_with_files(s, &v1, &e), TR_OK);
    ck_assert_int_eq(pu_value(f.ci, "SELECT count(*) FROM model_versions"), 1);
    char *data;
    size_t len;
    uint32_t crc;
    ck_assert_int_eq(tr_store_file_get(s, "v1.0.ckpt", &data, &len, &crc, &e), TR_OK);
    ck_assert_str_eq(data, "checkpoint bytes of v1.0");
    ck_assert_uint_eq(crc, v1.ckpt_crc);
    free(data);
    ck_assert_int_eq(tr_store_file_get(s, "v2.0.ckpt", &data, &len, &crc, &e), TR_ERR_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(e.msg, "v2.0.ckpt"));
    /* a row damaged in the database is refused on read */
    ck_assert_int_eq(
        pu_psql(f.ci, "UPDATE model_files SET crc32 = (crc32 + 1) % 4294967296", NULL, 0), 0);
    ck_assert_int_eq(tr_store_file_get(s, "v1.0.ckpt", &data, &len, &crc, &e), TR_ERR_CHECKSUM);
    ck_assert_ptr_nonnull(strstr(e.msg, "damaged"));

    /* reports: put, list by prefix, replace, delete; bad names and kinds refused */
    ck_assert_int_eq(tr_store_file_put(s, "reports/rank-2024-04-01.md", "report", "# r", 3, &e),
                     TR_OK);
    ck_assert_int_eq(tr_store_file_put(s, "reports/rank-2024-04-01.md", "report", "# r2", 4, &e),
                     TR_OK);
    tr_file_info *list;
    size_t n;
    ck_assert_int_eq(tr_store_file_list(s, "reports/", &list, &n, &e), TR_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(list[0].name, "reports/rank-2024-04-01.md");
    ck_assert_int_eq(list[0].size, 4);
    free(list);
    ck_assert_int_eq(tr_store_file_list(s, "%", &list, &n, &e), TR_OK);
    ck_assert_uint_eq(n, 0);
    free(list);
    ck_assert_int_eq(tr_store_file_delete(s, "reports/rank-2024-04-01.md", &e), TR_OK);
    ck_assert_int_eq(tr_store_file_delete(s, "reports/rank-2024-04-01.md", &e), TR_OK);
    static const char *const bad_names[] = {"",      "/etc/passwd", "../x", "a/../b",
                                            "a/./b", "a/",          "a b",  "a//b"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++)
        ck_assert_msg(tr_store_file_put(s, bad_names[i], "report", "x", 1, &e) == TR_ERR_INVALID,
                      "name '%s' accepted", bad_names[i]);
    ck_assert_int_eq(tr_store_file_put(s, "x.md", "exe", "x", 1, &e), TR_ERR_INVALID);
    tr_reg_file rf = {"../v3.ckpt", "checkpoint", "/dev/null", 0, -1};
    tr_reg_txn t = {0};
    t.files = &rf;
    t.n_files = 1;
    ck_assert_int_eq(tr_store_registry_commit(s, &t, &e), TR_ERR_INVALID);
    tr_store_close(s);

    /* a directory store: a commit's files stay where they are; it stores none */
    char *sd = tu_path(f.dir, "dirstore");
    tr_store *d = open_host(sd, NULL);
    tr_version dv = version_with_file(d, "v1.0", "dir checkpoint");
    ck_assert_int_eq(commit_with_files(d, &dv, &e), TR_OK);
    ck_assert_int_eq(tr_store_has_files(d), 0);
    ck_assert_int_eq(tr_store_file_get(d, "v1.0.ckpt", &data, &len, &crc, &e), TR_ERR_UNSUPPORTED);
    ck_assert_int_eq(tr_store_file_list(d, NULL, &list, &n, &e), TR_ERR_UNSUPPORTED);
    tr_store_close(d);
    free(sd);
    fx_close(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("pg_files");
    TCase *tc = tcase_create("pg_files");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_commit_atomic);
    tcase_add_test(tc, test_two_hosts);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(suite)
