/*
 * check_registry.c - the model registry on the directory store: version numbering, the
 * activation history and rollback, all-or-nothing transactions (a failed cycle changes nothing
 * else), errors that name the version, a truncated or corrupt registry file, the line format
 * round trip, and trading signals.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check_main.h"
#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "cycles/cycle.h"
#include "registry/registry.h"
#include "registry/schema.h"
#include "schema_doc.h"
#include "store/registry_text.h"
#include "store/signal_log.h"
#include "store/sql/migrations.h"
#include "store/store.h"
#include "testutil.h"

static char *dir;
static tr_store *st;

static void setup(void)
{
    dir = tu_tempdir();
    tr_error e;
    ck_assert_int_eq(tr_store_open(dir, &(tr_store_options){.create = 1}, &st, &e), TR_OK);
}

static void teardown(void)
{
    tr_store_close(st);
    tu_rmtree(dir);
    free(dir);
}

static tr_version mkver(const char *name, int type, int status)
{
    tr_version v;
    memset(&v, 0, sizeof v);
    snprintf(v.version, sizeof v.version, "%s", name);
    v.type = type;
    v.status = status;
    v.figs[2].macro_f1 = 0.5;
    snprintf(v.checkpoint, sizeof v.checkpoint, "%s.ckpt", name);
    return v;
}

static void put(const char *name, int type, int status)
{
    tr_version v = mkver(name, type, status);
    tr_reg_txn txn;
    memset(&txn, 0, sizeof txn);
    txn.put = &v;
    txn.n_put = 1;
    txn.now = 1000;
    tr_error e;
    ck_assert_msg(tr_store_registry_commit(st, &txn, &e) == TR_OK, "%s", e.msg);
}

START_TEST(test_numbering)
{
    tr_registry reg;
    tr_error e;
    char name[TR_VERSION_MAX];
    tr_registry_init(&reg);
    ck_assert_int_eq(tr_registry_next_full(&reg, NULL, name, sizeof name, &e), TR_OK);
    ck_assert_str_eq(name, "v1.0");
    ck_assert_int_eq(tr_registry_next_full(&reg, "v3.2", name, sizeof name, &e), TR_OK);
    ck_assert_str_eq(name, "v3.2");
    ck_assert_int_eq(tr_registry_next_full(&reg, "3.2", name, sizeof name, &e), TR_ERR_INVALID);
    ck_assert_int_eq(tr_registry_next_full(&reg, "v3.-2", name, sizeof name, &e), TR_ERR_INVALID);
    put("v1.0", TR_VT_FULL, TR_VS_COMPLETED);
    put("v1.1", TR_VT_FULL, TR_VS_COMPLETED);
    put("v1.1-daily-20250602", TR_VT_INCREMENTAL, TR_VS_COMPLETED);
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    ck_assert_int_eq(tr_registry_next_full(&reg, NULL, name, sizeof name, &e), TR_OK);
    ck_assert_str_eq(name, "v1.2");
    ck_assert_int_eq(tr_registry_next_full(&reg, "v1.1", name, sizeof name, &e), TR_ERR_CONFLICT);
    ck_assert(strstr(e.msg, "v1.1") != NULL);
    tr_registry_free(&reg);
    put("v3.2", TR_VT_FULL, TR_VS_COMPLETED);
    put("v3.10", TR_VT_FULL, TR_VS_COMPLETED); /* numeric, not lexical, order */
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    ck_assert_int_eq(tr_registry_next_full(&reg, NULL, name, sizeof name, &e), TR_OK);
    ck_assert_str_eq(name, "v3.11");
    tr_registry_free(&reg);
    /* daily names keep the full root */
    ck_assert_int_eq(tr_registry_daily_name("v1.0", T("2025-06-02T02:00"), name, sizeof name, &e),
                     TR_OK);
    ck_assert_str_eq(name, "v1.0-daily-20250602");
    ck_assert_int_eq(
        tr_registry_daily_name("v1.0-daily-20250602", T("2025-06-03"), name, sizeof name, &e),
        TR_OK);
    ck_assert_str_eq(name, "v1.0-daily-20250603");
    ck_assert(tr_version_name_valid("v1.0-daily-20250603"));
    ck_assert(!tr_version_name_valid("../v1"));
    ck_assert(!tr_version_name_valid(""));
    ck_assert(!tr_version_name_valid("v1 0"));
}
END_TEST

START_TEST(test_activation_history_and_rollback)
{
    tr_error e;
    char from[TR_VERSION_MAX], to[TR_VERSION_MAX];
    put("v1.0", TR_VT_FULL, TR_VS_COMPLETED);
    put("v1.1", TR_VT_FULL, TR_VS_COMPLETED);
    put("v1.2", TR_VT_FULL, TR_VS_COMPLETED);
    put("v1.3", TR_VT_FULL, TR_VS_FAILED);
    /* nothing to roll back to yet */
    ck_assert_int_eq(tr_activate(st, NULL, 1, "", from, to, &e), TR_ERR_NOTFOUND);
    ck_assert_int_eq(tr_activate(st, "v1.0", 0, "first", from, to, &e), TR_OK);
    ck_assert_str_eq(from, "");
    ck_assert_int_eq(tr_activate(st, "v1.1", 0, "", from, to, &e), TR_OK);
    ck_assert_str_eq(from, "v1.0");
    ck_assert_int_eq(tr_activate(st, "v1.2", 0, "", from, to, &e), TR_OK);
    /* unknown and unusable versions, named */
    ck_assert_int_eq(tr_activate(st, "v9.9", 0, "", from, to, &e), TR_ERR_NOTFOUND);
    ck_assert(strstr(e.msg, "v9.9") != NULL);
    ck_assert_int_eq(tr_activate(st, "v1.3", 0, "", from, to, &e), TR_ERR_INVALID);
    ck_assert(strstr(e.msg, "v1.3") != NULL && strstr(e.msg, "failed") != NULL);
    ck_assert_int_eq(tr_activate(st, "v1.2", 0, "", from, to, &e), TR_ERR_INVALID);
    ck_assert(strstr(e.msg, "already active") != NULL);
    /* rollbacks walk back the stack: v1.2 -> v1.1 -> v1.0, then nothing */
    ck_assert_int_eq(tr_activate(st, NULL, 1, "bad", from, to, &e), TR_OK);
    ck_assert_str_eq(from, "v1.2");
    ck_assert_str_eq(to, "v1.1");
    ck_assert_int_eq(tr_activate(st, NULL, 1, "", from, to, &e), TR_OK);
    ck_assert_str_eq(to, "v1.0");
    ck_assert_int_eq(tr_activate(st, NULL, 1, "", from, to, &e), TR_ERR_NOTFOUND);
    tr_registry reg;
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    ck_assert_uint_eq(reg.n_activations, 5);
    static const char *const exp_to[5] = {"v1.0", "v1.1", "v1.2", "v1.1", "v1.0"};
    static const char *const exp_from[5] = {"", "v1.0", "v1.1", "v1.2", "v1.1"};
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(reg.activations[i].id, i + 1);
        ck_assert_str_eq(reg.activations[i].to, exp_to[i]);
        ck_assert_str_eq(reg.activations[i].from, exp_from[i]);
        ck_assert(reg.activations[i].at > 0);
        ck_assert(reg.activations[i].evidence[0] == '{');
    }
    ck_assert_str_eq(reg.activations[3].reason, "rollback");
    ck_assert_str_eq(reg.activations[0].reason, "manual");
    ck_assert(strstr(reg.activations[0].evidence, "\"note\":\"first\"") != NULL);
    const tr_version *act = tr_registry_active(&reg);
    ck_assert_ptr_nonnull(act);
    ck_assert_str_eq(act->version, "v1.0");
    ck_assert_int_eq(act->status, TR_VS_DEPLOYED);
    int n_active = 0;
    for (size_t i = 0; i < reg.n_versions; i++)
        n_active += reg.versions[i].is_active;
    ck_assert_int_eq(n_active, 1);
    tr_registry_free(&reg);
}
END_TEST

START_TEST(test_transaction_all_or_nothing)
{
    tr_error e;
    put("v1.0", TR_VT_FULL, TR_VS_COMPLETED);
    char from[TR_VERSION_MAX], to[TR_VERSION_MAX];
    ck_assert_int_eq(tr_activate(st, "v1.0", 0, "", from, to, &e), TR_OK);
    /* a cycle's commit: new version, log row, and an activation that expects a stale active
     * version: refused, and neither the version nor the log row lands */
    tr_version v = mkver("v1.1", TR_VT_FULL, TR_VS_COMPLETED);
    tr_log_row row;
    memset(&row, 0, sizeof row);
    snprintf(row.cycle, sizeof row.cycle, "full");
    row.status = TR_LOG_COMPLETED;
    tr_activation a;
    memset(&a, 0, sizeof a);
    snprintf(a.from, sizeof a.from, "v0.9");
    snprintf(a.to, sizeof a.to, "v1.1");
    tr_reg_txn txn;
    memset(&txn, 0, sizeof txn);
    txn.put = &v;
    txn.n_put = 1;
    txn.log = &row;
    txn.n_log = 1;
    txn.activate = &a;
    txn.now = 2000;
    ck_assert_int_eq(tr_store_registry_commit(st, &txn, &e), TR_ERR_CONFLICT);
    /* an existing name: refused as a whole */
    tr_version dup[2] = {mkver("v1.2", TR_VT_FULL, TR_VS_COMPLETED),
                         mkver("v1.0", TR_VT_FULL, TR_VS_COMPLETED)};
    txn.put = dup;
    txn.n_put = 2;
    txn.activate = NULL;
    ck_assert_int_eq(tr_store_registry_commit(st, &txn, &e), TR_ERR_CONFLICT);
    ck_assert(strstr(e.msg, "v1.0") != NULL);
    /* an update of an unknown version */
    tr_version ghost = mkver("v7.7", TR_VT_FULL, TR_VS_COMPLETED);
    memset(&txn, 0, sizeof txn);
    txn.update = &ghost;
    txn.n_update = 1;
    txn.log = &row;
    txn.n_log = 1;
    ck_assert_int_eq(tr_store_registry_commit(st, &txn, &e), TR_ERR_NOTFOUND);
    ck_assert(strstr(e.msg, "v7.7") != NULL);
    tr_registry reg;
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    ck_assert_uint_eq(reg.n_versions, 1);
    ck_assert_uint_eq(reg.n_log, 0);
    ck_assert_uint_eq(reg.n_activations, 1);
    ck_assert_str_eq(tr_registry_active(&reg)->version, "v1.0");
    tr_registry_free(&reg);
    /* now the right expectation: everything lands together */
    snprintf(a.from, sizeof a.from, "v1.0");
    memset(&txn, 0, sizeof txn);
    txn.put = &v;
    txn.n_put = 1;
    txn.log = &row;
    txn.n_log = 1;
    txn.activate = &a;
    txn.now = 3000;
    ck_assert_int_eq(tr_store_registry_commit(st, &txn, &e), TR_OK);
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    ck_assert_uint_eq(reg.n_versions, 2);
    ck_assert_uint_eq(reg.n_log, 1);
    ck_assert_int_eq(reg.log[0].id, 1);
    ck_assert_uint_eq(reg.n_activations, 2);
    ck_assert_str_eq(tr_registry_active(&reg)->version, "v1.1");
    ck_assert_int_eq(tr_registry_active(&reg)->deployed_at, 3000);
    tr_registry_free(&reg);
}
END_TEST

START_TEST(test_damaged_registry_file)
{
    tr_error e;
    put("v1.0", TR_VT_FULL, TR_VS_COMPLETED);
    put("v1.1", TR_VT_FULL, TR_VS_COMPLETED);
    char *path = tu_path(dir, "registry.aifx");
    char *data;
    size_t len;
    ck_assert_int_eq(tr_file_read(path, &data, &len, &e), TR_OK);
    tr_registry reg;
    /* truncated */
    ck_assert_int_eq(tr_file_write_atomic(path, data, len - 10, &e), TR_OK);
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_ERR_FORMAT);
    ck_assert(strstr(e.msg, "registry.aifx") != NULL && strstr(e.msg, "truncated") != NULL);
    /* a writer never overwrites a damaged registry */
    tr_version v = mkver("v1.2", TR_VT_FULL, TR_VS_COMPLETED);
    tr_reg_txn txn;
    memset(&txn, 0, sizeof txn);
    txn.put = &v;
    txn.n_put = 1;
    ck_assert_int_eq(tr_store_registry_commit(st, &txn, &e), TR_ERR_FORMAT);
    /* one flipped byte in the body */
    data[len - 5] ^= 1;
    ck_assert_int_eq(tr_file_write_atomic(path, data, len, &e), TR_OK);
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_ERR_CHECKSUM);
    ck_assert(strstr(e.msg, "registry.aifx") != NULL);
    /* a bad header */
    ck_assert_int_eq(tr_file_write_atomic(path, "hello\n", 6, &e), TR_OK);
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_ERR_FORMAT);
    /* a newer major version */
    ck_assert_int_eq(tr_file_write_atomic(path, "AIFXREG 2 0 0 00000000\n", 23, &e), TR_OK);
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_ERR_VERSION);
    free(data);
    free(path);
}
END_TEST

START_TEST(test_line_format_round_trip)
{
    tr_registry reg, back;
    tr_registry_init(&reg);
    tr_version v = mkver("v2.0", TR_VT_FULL, TR_VS_DEPLOYED);
    snprintf(v.hyper, sizeof v.hyper, "{\"a\":\"tab\there=%%25\\nline\"}");
    snprintf(v.error, sizeof v.error, "line1\nline2\r\t%% = end \x01\x1b[0m");
    v.figs[1].loss = NAN;
    v.figs[2].confusion[2][1] = 123456789012LL;
    v.bt.profit_factor = INFINITY;
    v.class_weight[1] = 1.0 / 3.0;
    v.ckpt_crc = 0xdeadbeefu;
    tr_log_row row;
    memset(&row, 0, sizeof row);
    snprintf(row.reason, sizeof row.reason, "a=b\tc");
    row.candidate_value = 0.1;
    row.active_value = NAN;
    tr_reg_txn txn;
    memset(&txn, 0, sizeof txn);
    txn.put = &v;
    txn.n_put = 1;
    txn.log = &row;
    txn.n_log = 1;
    tr_error e;
    ck_assert_int_eq(tr_registry_apply(&reg, &txn, &e), TR_OK);
    char *text;
    size_t len;
    ck_assert_int_eq(tr_registry_encode(&reg, &text, &len, &e), TR_OK);
    ck_assert_int_eq(tr_registry_decode("mem", text, len, &back, &e), TR_OK);
    for (size_t i = 0; i < len; i++) /* a value's control characters escaped, \x01 and ESC too */
        ck_assert_msg(text[i] == '\n' || text[i] == '\t' || (unsigned char)text[i] >= 0x20,
                      "raw 0x%02x at %zu", (unsigned char)text[i], i);
    ck_assert_uint_eq(back.n_versions, 1);
    const tr_version *b = &back.versions[0];
    ck_assert_str_eq(b->hyper, v.hyper);
    ck_assert_str_eq(b->error, v.error);
    ck_assert(isnan(b->figs[1].loss));
    ck_assert_int_eq(b->figs[2].confusion[2][1], 123456789012LL);
    ck_assert(isinf(b->bt.profit_factor));
    ck_assert(b->class_weight[1] == 1.0 / 3.0);
    ck_assert_uint_eq(b->ckpt_crc, 0xdeadbeefu);
    ck_assert_int_eq(b->status, TR_VS_DEPLOYED);
    ck_assert_str_eq(back.log[0].reason, "a=b\tc");
    ck_assert(isnan(back.log[0].active_value));
    /* the fields in any order: each line's fields reversed decode to the same registry (the
     * decoder looks first after the last field it found) */
    {
        size_t cap = len + 2, m = 0;
        char *rev = malloc(cap);
        for (const char *ls = text; ls < text + len;) {
            const char *nl = memchr(ls, '\n', (size_t)(text + len - ls));
            const char *le = nl ? nl : text + len, *tab = memchr(ls, '\t', (size_t)(le - ls));
            if (!tab || ls[0] == 'A') { /* the header, or a record without fields: as it is */
                memcpy(rev + m, ls, (size_t)(le - ls));
                m += (size_t)(le - ls);
            } else {
                memcpy(rev + m, ls, (size_t)(tab - ls)); /* the kind, then the fields backwards */
                m += (size_t)(tab - ls);
                for (const char *fe = le; fe > tab;) {
                    const char *fs = fe - 1;
                    while (*fs != '\t')
                        fs--;
                    memcpy(rev + m, fs, (size_t)(fe - fs));
                    m += (size_t)(fe - fs);
                    fe = fs;
                }
            }
            rev[m++] = '\n';
            ls = le + 1;
        }
        tr_registry shuffled;
        ck_assert_int_eq(tr_registry_decode("mem", rev, m, &shuffled, &e), TR_OK);
        char *t2;
        size_t l2;
        ck_assert_int_eq(tr_registry_encode(&shuffled, &t2, &l2, &e), TR_OK);
        ck_assert_uint_eq(l2, len);
        ck_assert_int_eq(memcmp(t2, text, len), 0);
        free(t2);
        free(rev);
        tr_registry_free(&shuffled);
    }
    /* unknown kinds and keys are ignored (a newer minor version); a malformed field is not */
    const char *newer = "version\tversion=v3.0\tfuture_key=1\nwidget\tx=1\n";
    tr_registry_free(&back);
    ck_assert_int_eq(tr_registry_decode("mem", newer, strlen(newer), &back, &e), TR_OK);
    ck_assert_uint_eq(back.n_versions, 1);
    tr_registry_free(&back);
    const char *bad = "version\tversion=v3.0\tepochs=x\n";
    ck_assert_int_eq(tr_registry_decode("mem", bad, strlen(bad), &back, &e), TR_ERR_FORMAT);
    ck_assert(strstr(e.msg, "epochs") != NULL);
    char *j = tr_version_json(&v);
    ck_assert_ptr_nonnull(j);
    ck_assert(strstr(j, "\"profit_factor\":null") != NULL);
    free(j);
    free(text);
    tr_registry_free(&reg);
}
END_TEST

/* Training curves and A/B tests survive the line format bit for bit. */
START_TEST(test_history_and_abtest_round_trip)
{
    tr_registry reg, back;
    tr_registry_init(&reg);
    tr_version v[2] = {mkver("v1.0", TR_VT_FULL, TR_VS_COMPLETED),
                       mkver("v1.1", TR_VT_FULL, TR_VS_COMPLETED)};
    v[0].n_history = TR_HISTORY_MAX;
    for (int i = 0; i < TR_HISTORY_MAX; i++) {
        v[0].hist_train_loss[i] = 1.0f / (float)(i + 3);
        v[0].hist_val_loss[i] = i == 7 ? NAN : (float)i * 1e-7f;
        v[0].hist_val_macro_f1[i] = 0.3f + 1e-6f * (float)i;
        v[0].hist_lr[i] = 1e-3f / (float)(1 + i / 10);
    }
    tr_ab_test t;
    memset(&t, 0, sizeof t);
    snprintf(t.id, sizeof t.id, "ab1");
    snprintf(t.version_a, sizeof t.version_a, "v1.0");
    snprintf(t.version_b, sizeof t.version_b, "v1.1");
    snprintf(t.pairs, sizeof t.pairs, "EURUSD,USDJPY");
    t.split = 0.3;
    t.seed = 0xfedcba9876543210ULL;
    t.started_at = 1000;
    t.planned_end = 1000 + 7 * 86400;
    t.n_looks = 3;
    t.look_frac[0] = 1.0 / 7;
    t.look_frac[1] = 2.0 / 7;
    t.look_frac[2] = 0.5;
    snprintf(t.result, sizeof t.result, "{\"note\":\"tab\there=%%\"}");
    tr_reg_txn txn;
    memset(&txn, 0, sizeof txn);
    txn.put = v;
    txn.n_put = 2;
    txn.ab_put = &t;
    txn.n_ab_put = 1;
    tr_error e;
    ck_assert_msg(tr_registry_apply(&reg, &txn, &e) == TR_OK, "%s", e.msg);
    char *text;
    size_t len;
    ck_assert_int_eq(tr_registry_encode(&reg, &text, &len, &e), TR_OK);
    ck_assert_int_eq(tr_registry_decode("mem", text, len, &back, &e), TR_OK);
    free(text);
    ck_assert_uint_eq(back.n_versions, 2);
    const tr_version *b = &back.versions[0];
    ck_assert_int_eq(b->n_history, TR_HISTORY_MAX);
    for (int i = 0; i < TR_HISTORY_MAX; i++) {
        ck_assert(b->hist_train_loss[i] == v[0].hist_train_loss[i]);
        ck_assert(i == 7 ? isnan(b->hist_val_loss[i])
                         : b->hist_val_loss[i] == v[0].hist_val_loss[i]);
        ck_assert(b->hist_val_macro_f1[i] == v[0].hist_val_macro_f1[i]);
        ck_assert(b->hist_lr[i] == v[0].hist_lr[i]);
    }
    ck_assert_int_eq(back.versions[1].n_history, 0);
    ck_assert_uint_eq(back.n_abtests, 1);
    const tr_ab_test *bt = &back.abtests[0];
    ck_assert_str_eq(bt->pairs, t.pairs);
    ck_assert(bt->split == 0.3);
    ck_assert(bt->seed == t.seed);
    ck_assert_int_eq(bt->n_looks, 3);
    ck_assert(bt->look_frac[0] == 1.0 / 7 && bt->look_frac[2] == 0.5);
    ck_assert_str_eq(bt->result, t.result);
    ck_assert_int_eq(bt->status, TR_AB_RUNNING);
    /* a history longer than its count is refused */
    const char *bad = "version\tversion=v3.0\tn_history=2\thist_lr=1,2,3\n";
    tr_registry_free(&back);
    ck_assert_int_eq(tr_registry_decode("mem", bad, strlen(bad), &back, &e), TR_ERR_FORMAT);
    ck_assert(strstr(e.msg, "hist_lr") != NULL);
    tr_registry_free(&reg);
}
END_TEST

/* The A/B rules of tr_registry_apply. */
START_TEST(test_abtest_rules)
{
    put("v1.0", TR_VT_FULL, TR_VS_COMPLETED);
    put("v1.1", TR_VT_FULL, TR_VS_COMPLETED);
    put("v1.2", TR_VT_FULL, TR_VS_FAILED);
    tr_ab_test t;
    memset(&t, 0, sizeof t);
    snprintf(t.id, sizeof t.id, "ab1");
    snprintf(t.version_a, sizeof t.version_a, "v1.0");
    snprintf(t.version_b, sizeof t.version_b, "v1.1");
    snprintf(t.pairs, sizeof t.pairs, "EURUSD");
    t.split = 0.5;
    tr_reg_txn txn;
    memset(&txn, 0, sizeof txn);
    txn.ab_put = &t;
    txn.n_ab_put = 1;
    tr_error e;
    /* an unusable arm, an unknown arm, a split out of range, the same version twice */
    snprintf(t.version_b, sizeof t.version_b, "v1.2");
    ck_assert_int_eq(tr_store_registry_commit(st, &txn, &e), TR_ERR_INVALID);
    snprintf(t.version_b, sizeof t.version_b, "v9.9");
    ck_assert_int_eq(tr_store_registry_commit(st, &txn, &e), TR_ERR_NOTFOUND);
    snprintf(t.version_b, sizeof t.version_b, "v1.1");
    t.split = 1.0;
    ck_assert_int_eq(tr_store_registry_commit(st, &txn, &e), TR_ERR_INVALID);
    t.split = 0.5;
    snprintf(t.version_b, sizeof t.version_b, "v1.0");
    ck_assert_int_eq(tr_store_registry_commit(st, &txn, &e), TR_ERR_INVALID);
    snprintf(t.version_b, sizeof t.version_b, "v1.1");
    ck_assert_msg(tr_store_registry_commit(st, &txn, &e) == TR_OK, "%s", e.msg);
    /* the id is taken; an overlapping pair set is refused while ab1 runs; a disjoint one is not */
    ck_assert_int_eq(tr_store_registry_commit(st, &txn, &e), TR_ERR_CONFLICT);
    snprintf(t.id, sizeof t.id, "ab2");
    t.pairs[0] = '\0';
    ck_assert_int_eq(tr_store_registry_commit(st, &txn, &e), TR_ERR_CONFLICT);
    ck_assert(strstr(e.msg, "ab1") != NULL);
    snprintf(t.pairs, sizeof t.pairs, "GBPUSD,USDJPY");
    ck_assert_msg(tr_store_registry_commit(st, &txn, &e) == TR_OK, "%s", e.msg);
    /* a version under a running test is not deprecated */
    tr_registry reg;
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    tr_version dep = *tr_registry_find(&reg, "v1.1");
    dep.deprecated_at = 5;
    tr_reg_txn t2;
    memset(&t2, 0, sizeof t2);
    t2.update = &dep;
    t2.n_update = 1;
    ck_assert_int_eq(tr_store_registry_commit(st, &t2, &e), TR_ERR_INVALID);
    ck_assert(strstr(e.msg, "under A/B test") != NULL);
    /* ending ab1 and ab2 in one transaction, with the deprecation, is accepted */
    tr_ab_test end[2] = {*tr_registry_find_ab(&reg, "ab1"), *tr_registry_find_ab(&reg, "ab2")};
    for (int k = 0; k < 2; k++) {
        end[k].status = TR_AB_STOPPED;
        end[k].ended_at = 6;
    }
    t2.ab_update = end;
    t2.n_ab_update = 2;
    ck_assert_msg(tr_store_registry_commit(st, &t2, &e) == TR_OK, "%s", e.msg);
    /* an ended test never changes, and its fixed fields never did */
    end[0].status = TR_AB_RUNNING;
    t2.n_update = 0;
    t2.n_ab_update = 1;
    ck_assert_int_eq(tr_store_registry_commit(st, &t2, &e), TR_ERR_CONFLICT);
    tr_registry_free(&reg);
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    ck_assert_uint_eq(reg.n_abtests, 2);
    ck_assert_int_eq(reg.abtests[0].status, TR_AB_STOPPED);
    ck_assert(tr_registry_find(&reg, "v1.1")->deprecated_at == 5);
    tr_registry_free(&reg);
    ck_assert(tr_ab_pairs_overlap("EURUSD,USDJPY", "USDJPY"));
    ck_assert(!tr_ab_pairs_overlap("EURUSD,USDJPY", "USDJP"));
    ck_assert(!tr_ab_pairs_overlap("EURUSD", "GBPUSD,USDJPY"));
    ck_assert(tr_ab_pairs_overlap("", "GBPUSD"));
}
END_TEST

START_TEST(test_signals)
{
    tr_error e;
    tr_signal g;
    memset(&g, 0, sizeof g);
    snprintf(g.pair, sizeof g.pair, "EURUSD");
    g.timeframe = 900;
    g.signal = 1;
    g.confidence = 0.7;
    g.probs[0] = 0.2;
    g.probs[1] = 0.7;
    g.probs[2] = 0.1;
    snprintf(g.model_version, sizeof g.model_version, "v1.0");
    for (int i = 0; i < 3; i++) {
        g.bar_time = 900 * (i + 1);
        ck_assert_int_eq(tr_store_signal_put(st, &g, &e), TR_OK);
        ck_assert_int_eq(g.id, i + 1);
    }
    snprintf(g.pair, sizeof g.pair, "USDJPY");
    ck_assert_int_eq(tr_store_signal_put(st, &g, &e), TR_OK);
    tr_signal *list;
    size_t n;
    ck_assert_int_eq(tr_store_signals_get(st, "EURUSD", 1800, INT64_MAX, &list, &n, &e), TR_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(list[0].model_version, "v1.0");
    ck_assert_str_eq(list[0].outcome, "open");
    ck_assert(fabs(list[0].probs[1] - 0.7) < 1e-6);
    free(list);
    /* a bar predicted twice: the stored signal comes back, nothing is added */
    tr_signal again = g;
    again.probs[1] = 0.9;
    ck_assert_int_eq(tr_store_signal_put(st, &again, &e), TR_OK);
    ck_assert_int_eq(again.id, 4);
    ck_assert(fabs(again.probs[1] - 0.7) < 1e-6);
    ck_assert_int_eq(tr_store_signals_get(st, NULL, INT64_MIN, INT64_MAX, &list, &n, &e), TR_OK);
    ck_assert_uint_eq(n, 4);
    free(list);
    /* a segment cut short (nothing writes a partial record) is an error naming the file and the
     * record, never a silent loss; ids are never reused */
    char *path = tu_path(dir, "signals/EURUSD/1970-01.sig");
    char *data;
    size_t len;
    ck_assert_int_eq(tr_file_read(path, &data, &len, &e), TR_OK);
    ck_assert_int_eq(tr_file_write_atomic(path, data, len / 2, &e), TR_OK);
    ck_assert_int_eq(tr_store_signals_get(st, "EURUSD", INT64_MIN, INT64_MAX, &list, &n, &e),
                     TR_ERR_FORMAT);
    ck_assert_msg(strstr(e.msg, "1970-01.sig:") != NULL, "%s", e.msg);
    ck_assert_int_eq(tr_file_write_atomic(path, data, len, &e), TR_OK);
    g.bar_time = 900 * 40;
    ck_assert_int_eq(tr_store_signal_put(st, &g, &e), TR_OK);
    ck_assert_int_eq(g.id, 5);
    /* a damaged complete line is an error naming the file and line */
    data[25] = data[25] == '7' ? '8' : '7'; /* a byte of the record, inside its pair name */
    ck_assert_int_eq(tr_file_write_atomic(path, data, len, &e), TR_OK);
    ck_assert_int_eq(tr_store_signals_get(st, NULL, INT64_MIN, INT64_MAX, &list, &n, &e),
                     TR_ERR_CHECKSUM);
    ck_assert_msg(strstr(e.msg, "signals/EURUSD/1970-01.sig:2") != NULL, "%s", e.msg);
    /* and a write that would touch it refuses rather than rewrite what it cannot read */
    g.bar_time = 900 * 41;
    snprintf(g.pair, sizeof g.pair, "EURUSD");
    ck_assert_int_eq(tr_store_signal_put(st, &g, &e), TR_ERR_CHECKSUM);
    free(data);
    free(path);
}
END_TEST

/* A store written by an older program keeps every signal in one file, signals.aifx: readers
 * read it, the first writer moves it into the split log keeping every id, and a cut file is an
 * error, not a loss. */
START_TEST(test_signals_legacy_file)
{
    tr_error e;
    tr_sb b = {0};
    tr_sb_put(&b, "AIFXSIG 1 0\n", 12);
    tr_signal g;
    memset(&g, 0, sizeof g);
    g.timeframe = 900;
    g.signal = 2;
    g.confidence = 0.5;
    g.probs[0] = 0.25, g.probs[1] = 0.25, g.probs[2] = 0.5;
    snprintf(g.model_version, sizeof g.model_version, "v1.0");
    snprintf(g.outcome, sizeof g.outcome, "open");
    for (int i = 0; i < 6; i++) {
        g.id = i + 1;
        snprintf(g.pair, sizeof g.pair, "%s", i % 2 ? "USDJPY" : "EURUSD");
        g.bar_time = T("2024-01-31T23:00:00Z") + 900 * i; /* across a month's end */
        tr_siglog_encode(&b, &g);
    }
    char *legacy = tu_path(dir, "signals.aifx");
    ck_assert_int_eq(tr_file_write_atomic(legacy, b.p, b.n, &e), TR_OK);
    tr_signal *list;
    size_t n;
    ck_assert_int_eq(tr_store_signals_get(st, "USDJPY", INT64_MIN, INT64_MAX, &list, &n, &e),
                     TR_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(list[2].id, 6);
    free(list);
    /* the first write moves the file, ids kept; the next id follows the largest */
    g.bar_time += 900;
    ck_assert_int_eq(tr_store_signal_put(st, &g, &e), TR_OK);
    ck_assert_int_eq(g.id, 7);
    ck_assert_int_eq(access(legacy, F_OK), -1);
    ck_assert_int_eq(tr_store_signals_get(st, NULL, INT64_MIN, INT64_MAX, &list, &n, &e), TR_OK);
    ck_assert_uint_eq(n, 7);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(list[i].id, (int64_t)i + 1);
    free(list);
    /* another store whose old file was cut in the middle of a record */
    char *dir2 = tu_tempdir();
    tr_store *st2;
    ck_assert_int_eq(tr_store_open(dir2, &(tr_store_options){.create = 1}, &st2, &e), TR_OK);
    char *legacy2 = tu_path(dir2, "signals.aifx");
    ck_assert_int_eq(tr_file_write_atomic(legacy2, b.p, b.n - 30, &e), TR_OK);
    ck_assert_int_eq(tr_store_signals_get(st2, NULL, INT64_MIN, INT64_MAX, &list, &n, &e),
                     TR_ERR_FORMAT);
    ck_assert_msg(strstr(e.msg, "signals.aifx:7") != NULL, "%s", e.msg);
    ck_assert_int_eq(tr_store_signal_put(st2, &g, &e), TR_ERR_FORMAT);
    tr_store_close(st2);
    tu_rmtree(dir2);
    free(dir2);
    free(legacy2);
    free(legacy);
    tr_sb_free(&b);
}

/* The alignment of the member a leaf describes (x86-64 and the usual ABIs). */
static size_t leaf_align(const tr_leaf *l)
{
    switch (l->f->type) {
    case TR_FT_TEXT:
    case TR_FT_JSON:
        return 1;
    case TR_FT_INT:
    case TR_FT_BOOL:
    case TR_FT_U32:
    case TR_FT_ENUM:
    case TR_FT_FLOAT_LIST:
        return 4;
    default:
        return 8;
    }
}

/* The field tables: every key and column of a record is unique, no two leaves overlap, and the
 * leaves cover every byte of the record but what can be padding (so a member without a field
 * fails here, unless it is an int in the place padding could be; then the migration test and
 * the byte-for-byte store contract catch it). */
START_TEST(test_schema_tables)
{
    const tr_schema *recs[] = {&tr_version_schema, &tr_log_row_schema, &tr_activation_schema,
                               &tr_ab_test_schema};
    for (size_t r = 0; r < sizeof recs / sizeof recs[0]; r++) {
        tr_leaf l[TR_SCHEMA_LEAVES_MAX];
        size_t n = tr_schema_leaves(recs[r], l, TR_SCHEMA_LEAVES_MAX);
        ck_assert_uint_gt(n, 0);
        for (size_t i = 0; i < n; i++) {
            ck_assert_uint_le(l[i].off + l[i].f->size, recs[r]->size);
            for (size_t j = 0; j < i; j++) {
                ck_assert_msg(strcmp(l[i].key, l[j].key) != 0, "key %s twice", l[i].key);
                ck_assert_msg(strcmp(l[i].column, l[j].column) != 0, "column %s twice",
                              l[i].column);
                ck_assert_msg(l[i].off >= l[j].off + l[j].f->size ||
                                  l[j].off >= l[i].off + l[i].f->size,
                              "%s overlaps %s", l[i].key, l[j].key);
            }
        }
        size_t size = recs[r]->size;
        const tr_leaf **at = calloc(size, sizeof *at); /* the leaf covering each byte */
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < l[i].f->size; k++)
                at[l[i].off + k] = &l[i];
        for (size_t a = 0; a < size;) {
            if (at[a]) {
                a++;
                continue;
            }
            size_t b = a;
            while (b < size && !at[b])
                b++;
            size_t align = b < size ? leaf_align(at[b]) : 8;
            ck_assert_msg(b - a == (align - a % align) % align,
                          "%s: bytes %zu..%zu are in no field (a member without a field?)",
                          recs[r]->record, a, b);
            a = b;
        }
        free(at);
    }
    ck_assert_str_eq(tr_version_status_name(TR_VS_DEPLOYED), "deployed");
    ck_assert_str_eq(tr_ab_status_name(TR_AB_COUNT), "?");
    ck_assert_int_eq(tr_enum_value(&tr_log_status_enum, "skipped"), TR_LOG_SKIPPED);
}
END_TEST

/* ---- the migration against the field tables ----------------------------------------------- */

/* The SQL type a column of field type f has in the migration (lower case, as written there). */
static const char *sql_type_of(const tr_field *f)
{
    switch (f->type) {
    case TR_FT_TEXT:
    case TR_FT_JSON:
        return "text";
    case TR_FT_INT:
        return "integer";
    case TR_FT_BOOL:
        return "boolean";
    case TR_FT_INT64:
    case TR_FT_U32:
        return "bigint";
    case TR_FT_TIME:
        return "timestamptz";
    case TR_FT_U64:
        return "numeric(20,0)";
    case TR_FT_DOUBLE:
        return "float8";
    case TR_FT_DOUBLES:
    case TR_FT_DOUBLE_LIST:
        return "float8[]";
    case TR_FT_INT64S:
        return "bigint[]";
    case TR_FT_FLOAT_LIST:
        return "float4[]";
    case TR_FT_ENUM:
        return f->enm->sql_type;
    case TR_FT_GROUP:
        break;
    }
    return "?";
}

/* The column definitions of CREATE TABLE name in sql, comments dropped, split at top-level
 * commas into defs (each NUL-terminated, in the malloc'd *buf); returns their number. */
static int table_defs(const char *sql, const char *name, char **buf, char **defs, int max)
{
    char head[96];
    snprintf(head, sizeof head, "CREATE TABLE %s (", name);
    const char *a = strstr(sql, head);
    ck_assert_msg(a != NULL, "the migration has no table %s", name);
    a += strlen(head);
    const char *e = strstr(a, "\n);");
    ck_assert_ptr_nonnull(e);
    char *o = *buf = malloc((size_t)(e - a) + 1);
    for (const char *p = a; p < e; p++) {
        if (p[0] == '-' && p[1] == '-')
            while (p < e && *p != '\n')
                p++;
        *o++ = p < e ? *p : '\0';
    }
    *o = '\0';
    int n = 0, depth = 0;
    char *start = *buf;
    for (char *p = *buf;; p++) {
        if (*p == '(')
            depth++;
        else if (*p == ')')
            depth--;
        if (*p == '\0' || (*p == ',' && depth == 0)) {
            int end = *p == '\0';
            *p = '\0';
            while (*start == ' ' || *start == '\n')
                start++;
            if (*start && n < max)
                defs[n++] = start;
            if (end)
                break;
            start = p + 1;
        }
    }
    return n;
}

/* The column definitions a later migration adds to table name ("ALTER TABLE name" followed by
 * "ADD COLUMN def" clauses up to the statement's ';'), in the malloc'd *buf (NULL for none). */
static int alter_defs(const char *sql, const char *name, char **buf, char **defs, int max)
{
    char head[96];
    snprintf(head, sizeof head, "ALTER TABLE %s\n", name);
    const char *a = strstr(sql, head);
    *buf = NULL;
    if (!a)
        return 0;
    a += strlen(head);
    const char *e = strchr(a, ';');
    ck_assert_ptr_nonnull(e);
    char *o = *buf = malloc((size_t)(e - a) + 1);
    memcpy(o, a, (size_t)(e - a));
    o[e - a] = '\0';
    int n = 0;
    for (char *p = strstr(o, "ADD COLUMN "); p && n < max; p = strstr(p, "ADD COLUMN ")) {
        p += strlen("ADD COLUMN ");
        defs[n++] = p;
        char *c = strchr(p, ',');
        if (c)
            *c++ = '\0';
        p = c ? c : p + strlen(p);
    }
    return n;
}

/* The SQL type of a column definition ("name type ..."), spaces dropped, lower case. */
static void def_type(const char *def, char *name, size_t nsize, char *type, size_t tsize)
{
    size_t k = 0;
    while (*def && *def != ' ' && k + 1 < nsize)
        name[k++] = *def++;
    name[k] = '\0';
    while (*def == ' ')
        def++;
    k = 0;
    int depth = 0;
    for (; *def && (depth || *def != ' ') && k + 1 < tsize; def++) {
        depth += *def == '(' ? 1 : *def == ')' ? -1 : 0;
        if (*def != ' ')
            type[k++] = (char)(*def >= 'A' && *def <= 'Z' ? *def - 'A' + 'a' : *def);
    }
    type[k] = '\0';
}

/* Migration 001 (written by hand: it has shipped) with the columns later migrations add has
 * exactly the columns the field tables derive, with the types store_pg.c binds, besides the uuid
 * key, the order numbers and the generated jsonb columns; and its enum types have the names of the
 * name tables. */
START_TEST(test_schema_matches_migration)
{
    char *sql;
    size_t len;
    tr_error e;
    ck_assert_msg(tr_file_read(AIFX_SQL_DIR "/001_initial.sql", &sql, &len, &e) == TR_OK, "%s",
                  e.msg);
    const tr_schema *recs[] = {&tr_version_schema, &tr_log_row_schema, &tr_activation_schema,
                               &tr_ab_test_schema};
    for (size_t r = 0; r < sizeof recs / sizeof recs[0]; r++) {
        tr_leaf l[TR_SCHEMA_LEAVES_MAX];
        size_t n = tr_schema_leaves(recs[r], l, TR_SCHEMA_LEAVES_MAX);
        char *buf, *defs[200];
        int nd = table_defs(sql, recs[r]->table, &buf, defs, 200);
        char *added[8] = {0};
        for (size_t m = 1; m < tr_pg_n_migrations && nd < 200; m++)
            nd += alter_defs(tr_pg_migrations[m].sql, recs[r]->table, &added[m < 8 ? m : 7],
                             defs + nd, 200 - nd);
        int *seen = calloc(n, sizeof *seen);
        for (int d = 0; d < nd; d++) {
            char name[64], type[64];
            def_type(defs[d], name, sizeof name, type, sizeof type);
            size_t i = 0;
            while (i < n && strcmp(l[i].column, name) != 0)
                i++;
            if (i == n) {
                ck_assert_msg(strcmp(name, "id") == 0 || strstr(defs[d], "GENERATED") ||
                                  strcmp(name, "registered_no") == 0 ||
                                  strcmp(name, "created_no") == 0,
                              "%s.%s is in no field table", recs[r]->table, name);
                continue;
            }
            seen[i] = 1;
            ck_assert_msg(strcmp(type, sql_type_of(l[i].f)) == 0, "%s.%s: %s in the migration, %s",
                          recs[r]->table, name, type, sql_type_of(l[i].f));
        }
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(seen[i], "%s.%s is not in the migration", recs[r]->table, l[i].column);
        free(seen);
        free(buf);
        for (int m = 0; m < 8; m++)
            free(added[m]);
    }
    const tr_enum_def *enums[] = {&tr_version_type_enum, &tr_version_status_enum,
                                  &tr_log_status_enum, &tr_ab_status_enum};
    for (size_t k = 0; k < sizeof enums / sizeof enums[0]; k++) {
        tr_sb want = {0};
        tr_sb_printf(&want, "CREATE TYPE %s", enums[k]->sql_type);
        const char *p = strstr(sql, want.p);
        ck_assert_msg(p != NULL, "no type %s", enums[k]->sql_type);
        p = strstr(p, "AS ENUM (");
        tr_sb_free(&want);
        tr_sb_printf(&want, "AS ENUM (");
        for (int i = 0; i < enums[k]->n; i++)
            tr_sb_printf(&want, "%s'%s'", i ? ", " : "", enums[k]->names[i]);
        tr_sb_printf(&want, ");");
        ck_assert_msg(p && strncmp(p, want.p, want.n) == 0,
                      "type %s: the migration has other names", enums[k]->sql_type);
        tr_sb_free(&want);
    }
    free(sql);
}
END_TEST

/* docs/schema.md's generated section is what the field tables produce. */
START_TEST(test_schema_doc_current)
{
    char *doc, *gen = schema_doc_markdown();
    size_t len;
    tr_error e;
    ck_assert_ptr_nonnull(gen);
    ck_assert_msg(tr_file_read(AIFX_DOCS_DIR "/schema.md", &doc, &len, &e) == TR_OK, "%s", e.msg);
    char *want = schema_doc_splice(doc, gen);
    ck_assert_msg(want != NULL, "docs/schema.md lacks the generated section's markers");
    ck_assert_msg(strcmp(want, doc) == 0, "docs/schema.md: the record field tables are stale; run "
                                          "build/dev/tests/trainer/gen_schema_doc docs/schema.md");
    free(want);
    free(doc);
    free(gen);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trainer_registry");
    TCase *tc = tcase_create("registry");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_numbering);
    tcase_add_test(tc, test_activation_history_and_rollback);
    tcase_add_test(tc, test_transaction_all_or_nothing);
    tcase_add_test(tc, test_damaged_registry_file);
    tcase_add_test(tc, test_line_format_round_trip);
    tcase_add_test(tc, test_history_and_abtest_round_trip);
    tcase_add_test(tc, test_abtest_rules);
    tcase_add_test(tc, test_signals);
    tcase_add_test(tc, test_signals_legacy_file);
    tcase_add_test(tc, test_schema_tables);
    tcase_add_test(tc, test_schema_doc_current);
    tcase_add_test(tc, test_schema_matches_migration);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(suite)
