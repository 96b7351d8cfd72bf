/*
 * check_store_contract.c - the store contract (store.h), one suite run against both backends:
 * every case is a loop test, iteration 0 on a directory store in a temporary directory,
 * iteration 1 on a fresh PostgreSQL database of the test server (skipped, with a message, when
 * $AIFX_TEST_PG is unset). What one backend does, the other must do the same way:
 *   bars: round trip, [from, to) ranges, put statistics, conflicts (nothing written, the index
 *         and time named), replace, series_list, missing series, bad arguments;
 *   registry: an empty one, commits of versions, log rows, activations and A/B tests, and
 *         failed commits (a name in use, a stale active version, an unknown version) that leave
 *         nothing behind; a tr_version with every field set (NaN, -NaN, infinities, -0, the
 *         smallest subnormal, training curves) read back bit for bit, and a tr_ab_test likewise;
 *   signals: put, append, get by pair and range, update, an unknown id (nothing written), one
 *   record per (pair, bar, version, A/B test);
 *   locks: a second handle cannot take a held cycle lock, and can once it is released.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../check_main.h"
#include "pgutil.h"
#include "store/backend.h" /* the backend table, reached directly */
#include "store/store.h"
#include "testutil.h"

#define M15 900
#define T0  1704153600 /* 2024-01-02T00:00:00Z */

typedef struct fixture {
    int pg;
    char *dir;      /* the temporary directory (both backends: models) */
    char *location; /* the store */
    tr_store *s;
} fixture;

/* Opens the backend of iteration i; 0 when it is not available (the case is skipped). */
static int fx_open(fixture *f, int i)
{
    memset(f, 0, sizeof *f);
    f->pg = i == 1;
    if (f->pg && !pu_server())
        return 0;
    f->dir = tu_tempdir();
    if (f->pg)
        f->location = pu_create_db(1);
    else
        f->location = tu_path(f->dir, "store");
    tr_error e;
    tr_code rc = tr_store_open(f->location, &(tr_store_options){.create = 1}, &f->s, &e);
    ck_assert_msg(rc == TR_OK, "open %s: %s", f->location, e.msg);
    ck_assert_str_eq(f->s->ops->name, f->pg ? "postgresql" : "dir");
    return 1;
}

/* A second handle on the same store. */
static tr_store *fx_second(const fixture *f)
{
    tr_store *s;
    tr_error e;
    ck_assert_int_eq(tr_store_open(f->location, NULL, &s, &e), TR_OK);
    return s;
}

static void fx_close(fixture *f)
{
    tr_store_close(f->s);
    if (f->pg)
        pu_drop_db(f->location);
    else
        free(f->location);
    tu_rmtree(f->dir);
    free(f->dir);
}

/* ---- bars ---------------------------------------------------------------------------------- */

START_TEST(test_bars)
{
    fixture f;
    if (!fx_open(&f, _i))
        return;
    tr_bar bars[200];
    tu_walk(bars, 200, T0, M15, 1, 1.1);
    tr_error e;
    tr_put_stats st;
    /* the first 100 */
    ck_assert_int_eq(tr_store_bars_put(f.s, "EURUSD", M15, bars, 100, 0, &st, &e), TR_OK);
    ck_assert_uint_eq(st.n_added, 100);
    ck_assert_uint_eq(st.n_unchanged + st.n_replaced, 0);
    tr_bars b = {0};
    ck_assert_int_eq(tr_store_bars_get(f.s, "EURUSD", M15, INT64_MIN, INT64_MAX, &b, &e), TR_OK);
    ck_assert_uint_eq(b.n, 100);
    for (int i = 0; i < 100; i++)
        ck_assert(tr_bar_equal(&b.v[i], &bars[i]));
    /* [from, to), off-grid bounds, an empty range, and appending to out */
    b.n = 0;
    ck_assert_int_eq(tr_store_bars_get(f.s, "EURUSD", M15, T0 + 10 * M15, T0 + 20 * M15, &b, &e),
                     TR_OK);
    ck_assert_uint_eq(b.n, 10);
    ck_assert_int_eq(b.v[0].t, T0 + 10 * M15);
    ck_assert_int_eq(b.v[9].t, T0 + 19 * M15);
    ck_assert_int_eq(
        tr_store_bars_get(f.s, "EURUSD", M15, T0 + 10 * M15 + 1, T0 + 12 * M15 - 1, &b, &e), TR_OK);
    ck_assert_uint_eq(b.n, 11);
    ck_assert_int_eq(b.v[10].t, T0 + 11 * M15);
    b.n = 0;
    ck_assert_int_eq(tr_store_bars_get(f.s, "EURUSD", M15, T0 - 5000, T0, &b, &e), TR_OK);
    ck_assert_uint_eq(b.n, 0);
    /* a missing series, bad arguments */
    ck_assert_int_eq(tr_store_bars_get(f.s, "USDJPY", M15, INT64_MIN, INT64_MAX, &b, &e),
                     TR_ERR_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(e.msg, "USDJPY 15m"));
    ck_assert_int_eq(tr_store_bars_get(f.s, "EURUSD", 3600, INT64_MIN, INT64_MAX, &b, &e),
                     TR_ERR_NOTFOUND);
    ck_assert_int_eq(tr_store_bars_get(f.s, "eur/usd", M15, 0, 1, &b, &e), TR_ERR_INVALID);
    ck_assert_int_eq(tr_store_bars_put(f.s, "EURUSD", 7, bars, 1, 0, &st, &e), TR_ERR_INVALID);

    /* overlapping put: 50..149, the first 50 identical */
    ck_assert_int_eq(tr_store_bars_put(f.s, "EURUSD", M15, bars + 50, 100, 0, &st, &e), TR_OK);
    ck_assert_uint_eq(st.n_added, 50);
    ck_assert_uint_eq(st.n_unchanged, 50);
    ck_assert_uint_eq(st.n_replaced, 0);
    /* the same again: nothing new */
    ck_assert_int_eq(tr_store_bars_put(f.s, "EURUSD", M15, bars + 50, 100, 0, &st, &e), TR_OK);
    ck_assert_uint_eq(st.n_added, 0);
    ck_assert_uint_eq(st.n_unchanged, 100);

    /* a conflict: bars 140..159 with 145 changed; nothing is written, not even 150..159 */
    tr_bar chg[20];
    memcpy(chg, bars + 140, sizeof chg);
    chg[5].close *= 1.0001;
    chg[5].high = fmax(chg[5].high, chg[5].close);
    ck_assert_int_eq(tr_store_bars_put(f.s, "EURUSD", M15, chg, 20, 0, &st, &e), TR_ERR_CONFLICT);
    ck_assert_uint_eq(st.conflict, 5);
    ck_assert_uint_eq(st.n_unchanged, 5); /* as the merge saw them before the conflict */
    ck_assert_ptr_nonnull(strstr(e.msg, "EURUSD 15m bar 2024-01-03T12:15:00Z conflicts"));
    b.n = 0;
    ck_assert_int_eq(tr_store_bars_get(f.s, "EURUSD", M15, INT64_MIN, INT64_MAX, &b, &e), TR_OK);
    ck_assert_uint_eq(b.n, 150);
    ck_assert(tr_bar_equal(&b.v[145], &bars[145]));
    /* -0.0 differs from 0.0 bit for bit, as for the directory store: a conflict */
    tr_bar z = bars[0];
    z.t = T0 + 199 * M15;
    z.volume = 0.0;
    ck_assert_int_eq(tr_store_bars_put(f.s, "EURUSD", M15, &z, 1, 0, &st, &e), TR_OK);
    z.volume = -0.0;
    ck_assert_int_eq(tr_store_bars_put(f.s, "EURUSD", M15, &z, 1, 0, &st, &e), TR_ERR_CONFLICT);
    /* with replace: written, counted */
    ck_assert_int_eq(tr_store_bars_put(f.s, "EURUSD", M15, chg, 20, 1, &st, &e), TR_OK);
    ck_assert_uint_eq(st.n_replaced, 1);
    ck_assert_uint_eq(st.n_unchanged, 9);
    ck_assert_uint_eq(st.n_added, 10);
    b.n = 0;
    ck_assert_int_eq(tr_store_bars_get(f.s, "EURUSD", M15, T0 + 145 * M15, T0 + 146 * M15, &b, &e),
                     TR_OK);
    ck_assert_uint_eq(b.n, 1);
    ck_assert(tr_bar_equal(&b.v[0], &chg[5]));
    /* bad bars are refused before anything is written */
    tr_bar bad[2] = {bars[180], bars[181]};
    bad[1].low = -1;
    ck_assert_int_eq(tr_store_bars_put(f.s, "EURUSD", M15, bad, 2, 0, &st, &e), TR_ERR_DATA);
    bad[1] = bars[179];
    ck_assert_int_eq(tr_store_bars_put(f.s, "EURUSD", M15, bad, 2, 0, &st, &e), TR_ERR_INVALID);
    bad[1] = bars[181];
    bad[1].t += 1;
    ck_assert_int_eq(tr_store_bars_put(f.s, "EURUSD", M15, bad, 2, 0, &st, &e), TR_ERR_DATA);
    /* an empty put */
    ck_assert_int_eq(tr_store_bars_put(f.s, "EURUSD", M15, bars, 0, 0, &st, &e), TR_OK);
    ck_assert_uint_eq(st.n_added + st.n_unchanged + st.n_replaced, 0);

    /* series_list: sorted by pair then timeframe */
    tr_bar h[3];
    tu_walk(h, 3, T0, 3600, 2, 150.0);
    ck_assert_int_eq(tr_store_bars_put(f.s, "USDJPY", 3600, h, 3, 0, &st, &e), TR_OK);
    ck_assert_int_eq(tr_store_bars_put(f.s, "USDJPY", M15, h, 3, 0, &st, &e), TR_OK);
    ck_assert_int_eq(tr_store_bars_put(f.s, "AUDUSD", 3600, h, 2, 0, &st, &e), TR_OK);
    tr_series_info *list;
    size_t n;
    ck_assert_int_eq(tr_store_series_list(f.s, &list, &n, &e), TR_OK);
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(list[0].pair, "AUDUSD");
    ck_assert_uint_eq(list[0].count, 2);
    ck_assert_str_eq(list[1].pair, "EURUSD");
    ck_assert_uint_eq(list[1].count, 161);
    ck_assert_int_eq(list[1].first, T0);
    ck_assert_int_eq(list[1].last, T0 + 199 * M15);
    ck_assert_str_eq(list[2].pair, "USDJPY");
    ck_assert_int_eq(list[2].timeframe, M15);
    ck_assert_int_eq(list[3].timeframe, 3600);
    ck_assert_int_eq(list[3].last, T0 + 2 * 3600);
    free(list);
    tr_bars_free(&b);
    fx_close(&f);
}
END_TEST

/* ---- the registry --------------------------------------------------------------------------- */

static void log_row(tr_log_row *r, const char *cycle, const char *version, int status)
{
    memset(r, 0, sizeof *r);
    snprintf(r->cycle, sizeof r->cycle, "%s", cycle);
    r->as_of = 1749945600;
    r->started_at = 1750000000;
    r->finished_at = 1750000100;
    r->status = status;
    snprintf(r->reason, sizeof r->reason, "a reason; with \"quotes\" and 'single' ones");
    snprintf(r->version, sizeof r->version, "%s", version);
    snprintf(r->verdict, sizeof r->verdict, "first_model");
    snprintf(r->gate_metric, sizeof r->gate_metric, "macro_f1");
    r->candidate_value = NAN;
    r->active_value = -0.0;
    snprintf(r->error, sizeof r->error, "line 1\nline 2\ttabbed %% percent = equals");
}

static void assert_registry_counts(tr_store *s, size_t nv, size_t nl, size_t na, size_t nab)
{
    tr_registry reg;
    tr_error e;
    ck_assert_int_eq(tr_store_registry_read(s, &reg, &e), TR_OK);
    ck_assert_uint_eq(reg.n_versions, nv);
    ck_assert_uint_eq(reg.n_log, nl);
    ck_assert_uint_eq(reg.n_activations, na);
    ck_assert_uint_eq(reg.n_abtests, nab);
    tr_registry_free(&reg);
}

START_TEST(test_registry)
{
    fixture f;
    if (!fx_open(&f, _i))
        return;
    tr_error e;
    tr_registry reg;
    ck_assert_int_eq(tr_store_registry_read(f.s, &reg, &e), TR_OK);
    ck_assert_uint_eq(reg.n_versions + reg.n_log + reg.n_activations + reg.n_abtests, 0);
    tr_registry_free(&reg);

    /* v1.0 with its log row and first activation, in one commit */
    tr_version v0, v1;
    tu_full_version(&v0, "v1.0", 0);
    tr_log_row lr;
    log_row(&lr, "full", "v1.0", TR_LOG_COMPLETED);
    tr_activation act = {
        0, "", "v1.0", 0, "first_model", "{\"macro_f1\": 0.47, \"why\": \"first\"}"};
    tr_reg_txn t = {0};
    t.put = &v0;
    t.n_put = 1;
    t.log = &lr;
    t.n_log = 1;
    t.activate = &act;
    t.now = 1750000200;
    ck_assert_int_eq(tr_store_registry_commit(f.s, &t, &e), TR_OK);

    /* read back: every bit, with what the activation changed */
    ck_assert_int_eq(tr_store_registry_read(f.s, &reg, &e), TR_OK);
    ck_assert_uint_eq(reg.n_versions, 1);
    tr_version want = v0;
    want.is_active = 1;
    want.status = TR_VS_DEPLOYED;
    want.deployed_at = 1750000200;
    tu_assert_same_bytes(&reg.versions[0], &want, sizeof want, "version v1.0");
    ck_assert_uint_eq(reg.n_log, 1);
    ck_assert_int_eq(reg.log[0].id, 1);
    tr_log_row wl = lr;
    wl.id = 1;
    tu_assert_same_bytes(&reg.log[0], &wl, sizeof wl, "log row 1");
    ck_assert_uint_eq(reg.n_activations, 1);
    ck_assert_int_eq(reg.activations[0].id, 1);
    ck_assert_int_eq(reg.activations[0].at, 1750000200);
    ck_assert_str_eq(reg.activations[0].evidence, act.evidence);
    ck_assert_str_eq(reg.activations[0].reason, "first_model");
    tr_registry_free(&reg);

    /* failures leave nothing: a name in use (with a log row in the same commit) */
    tu_full_version(&v1, "v1.1", 1);
    tr_version dup[2] = {v1, v0};
    tr_reg_txn bad = {0};
    bad.put = dup;
    bad.n_put = 2;
    bad.log = &lr;
    bad.n_log = 1;
    ck_assert_int_eq(tr_store_registry_commit(f.s, &bad, &e), TR_ERR_CONFLICT);
    ck_assert_ptr_nonnull(strstr(e.msg, "v1.0"));
    assert_registry_counts(f.s, 1, 1, 1, 0);
    /* a stale active version */
    tr_activation stale = {0, "", "v1.1", 0, "manual", "{}"};
    bad = (tr_reg_txn){0};
    bad.put = &v1;
    bad.n_put = 1;
    bad.activate = &stale;
    ck_assert_int_eq(tr_store_registry_commit(f.s, &bad, &e), TR_ERR_CONFLICT);
    assert_registry_counts(f.s, 1, 1, 1, 0);
    /* an update of an unknown version */
    bad = (tr_reg_txn){0};
    bad.update = &v1;
    bad.n_update = 1;
    bad.log = &lr;
    bad.n_log = 1;
    ck_assert_int_eq(tr_store_registry_commit(f.s, &bad, &e), TR_ERR_NOTFOUND);
    assert_registry_counts(f.s, 1, 1, 1, 0);

    /* v1.1 put and activated from v1.0; two log rows get ids 2 and 3 */
    tr_log_row two[2];
    log_row(&two[0], "incremental", "v1.1", TR_LOG_COMPLETED);
    log_row(&two[1], "rank", "", TR_LOG_SKIPPED);
    tr_activation a2 = {0, "v1.0", "v1.1", 0, "gate", "{\"candidate\": 0.5}"};
    tr_reg_txn t2 = {0};
    t2.put = &v1;
    t2.n_put = 1;
    t2.log = two;
    t2.n_log = 2;
    t2.activate = &a2;
    t2.now = 1750000300;
    ck_assert_int_eq(tr_store_registry_commit(f.s, &t2, &e), TR_OK);
    /* an update (deprecation of the inactive v1.0) */
    ck_assert_int_eq(tr_store_registry_read(f.s, &reg, &e), TR_OK);
    tr_version upd = reg.versions[0];
    upd.deprecated_at = 1750000400;
    snprintf(upd.deprecation_reason, sizeof upd.deprecation_reason, "retired; 'old'");
    tr_registry_free(&reg);
    tr_reg_txn t3 = {0};
    t3.update = &upd;
    t3.n_update = 1;
    ck_assert_int_eq(tr_store_registry_commit(f.s, &t3, &e), TR_OK);

    ck_assert_int_eq(tr_store_registry_read(f.s, &reg, &e), TR_OK);
    ck_assert_uint_eq(reg.n_versions, 2);
    ck_assert_str_eq(reg.versions[0].version, "v1.0"); /* registration order */
    ck_assert_str_eq(reg.versions[1].version, "v1.1");
    ck_assert_int_eq(reg.versions[0].is_active, 0);
    ck_assert_int_eq(reg.versions[1].is_active, 1);
    tr_version w0 = upd;
    w0.is_active = 0;
    tu_assert_same_bytes(&reg.versions[0], &w0, sizeof w0, "version v1.0 (updated)");
    tr_version w1 = v1;
    w1.is_active = 1;
    w1.status = TR_VS_DEPLOYED;
    w1.deployed_at = 1750000300;
    tu_assert_same_bytes(&reg.versions[1], &w1, sizeof w1, "version v1.1");
    ck_assert_uint_eq(reg.n_log, 3);
    ck_assert_int_eq(reg.log[1].id, 2);
    ck_assert_int_eq(reg.log[2].id, 3);
    ck_assert_str_eq(reg.log[2].cycle, "rank");
    ck_assert_int_eq(reg.log[2].status, TR_LOG_SKIPPED);
    ck_assert_uint_eq(reg.n_activations, 2);
    ck_assert_str_eq(reg.activations[1].from, "v1.0");
    ck_assert_str_eq(reg.activations[1].to, "v1.1");
    ck_assert_str_eq(tr_registry_active(&reg)->version, "v1.1");
    tr_registry_free(&reg);
    /* a second handle sees the same */
    tr_store *s2 = fx_second(&f);
    assert_registry_counts(s2, 2, 3, 2, 0);
    tr_store_close(s2);
    fx_close(&f);
}
END_TEST

START_TEST(test_abtests)
{
    fixture f;
    if (!fx_open(&f, _i))
        return;
    tr_error e;
    tr_version v[2];
    tu_full_version(&v[0], "v1.0", 0);
    tu_full_version(&v[1], "v1.1", 1);
    tr_activation act = {0, "", "v1.0", 0, "first_model", "{}"};
    tr_reg_txn t = {0};
    t.put = v;
    t.n_put = 2;
    t.activate = &act;
    t.now = 1750000000;
    ck_assert_int_eq(tr_store_registry_commit(f.s, &t, &e), TR_OK);

    tr_ab_test ab;
    tu_full_ab(&ab, "ab1", "EURUSD,USDJPY");
    tr_reg_txn ta = {0};
    ta.ab_put = &ab;
    ta.n_ab_put = 1;
    ck_assert_msg(tr_store_registry_commit(f.s, &ta, &e) == TR_OK, "ab put: %s", e.msg);
    tr_registry reg;
    ck_assert_int_eq(tr_store_registry_read(f.s, &reg, &e), TR_OK);
    ck_assert_uint_eq(reg.n_abtests, 1);
    tu_assert_same_bytes(&reg.abtests[0], &ab, sizeof ab, "A/B test ab1");
    tr_registry_free(&reg);
    /* the same id again: refused, nothing written */
    ck_assert_int_ne(tr_store_registry_commit(f.s, &ta, &e), TR_OK);
    assert_registry_counts(f.s, 2, 0, 1, 1);

    /* looks, then the end, with every remaining field */
    tr_ab_test up = ab;
    up.n_looks = 3;
    up.look_frac[0] = 0.25;
    up.look_frac[1] = NAN;
    up.look_frac[2] = 1.0 / 3.0;
    up.n_pred_a = 700;
    up.n_pred_b = 300;
    snprintf(up.result, sizeof up.result,
             "{\"p\": 0.01, \"diff\": \"b better\", \"q\": \"'; --\"}");
    tr_reg_txn tu = {0};
    tu.ab_update = &up;
    tu.n_ab_update = 1;
    ck_assert_msg(tr_store_registry_commit(f.s, &tu, &e) == TR_OK, "ab update: %s", e.msg);
    up.status = TR_AB_COMPLETED;
    up.ended_at = 1750000000 + 10 * 86400;
    snprintf(up.verdict, sizeof up.verdict, "b");
    snprintf(up.end_reason, sizeof up.end_reason, "early_stop");
    ck_assert_msg(tr_store_registry_commit(f.s, &tu, &e) == TR_OK, "ab end: %s", e.msg);
    ck_assert_int_eq(tr_store_registry_read(f.s, &reg, &e), TR_OK);
    ck_assert_uint_eq(reg.n_abtests, 1);
    tu_assert_same_bytes(&reg.abtests[0], &up, sizeof up, "A/B test ab1 (ended)");
    tr_registry_free(&reg);
    /* a second test, in creation order after the first */
    tr_ab_test ab2;
    tu_full_ab(&ab2, "ab2", "EURUSD,USDJPY");
    memset(ab2.pairs, 0, sizeof ab2.pairs); /* every pair */
    ta.ab_put = &ab2;
    ck_assert_msg(tr_store_registry_commit(f.s, &ta, &e) == TR_OK, "ab2: %s", e.msg);
    ck_assert_int_eq(tr_store_registry_read(f.s, &reg, &e), TR_OK);
    ck_assert_uint_eq(reg.n_abtests, 2);
    ck_assert_str_eq(reg.abtests[0].id, "ab1");
    ck_assert_str_eq(reg.abtests[1].id, "ab2");
    tu_assert_same_bytes(&reg.abtests[1], &ab2, sizeof ab2, "A/B test ab2");
    tr_registry_free(&reg);
    fx_close(&f);
}
END_TEST

/* ---- signals ------------------------------------------------------------------------------ */

static tr_signal signal_at(const char *pair, int64_t bar, int sig)
{
    tr_signal g;
    memset(&g, 0, sizeof g);
    snprintf(g.pair, sizeof g.pair, "%s", pair);
    g.timeframe = M15;
    g.bar_time = bar;
    g.signal = sig;
    g.confidence = 0.7;
    g.probs[0] = 0.1;
    g.probs[1] = 0.7;
    g.probs[2] = 0.2;
    snprintf(g.model_version, sizeof g.model_version, "v1.0");
    g.created_at = bar + M15;
    snprintf(g.outcome, sizeof g.outcome, "open");
    return g;
}

START_TEST(test_signals)
{
    fixture f;
    if (!fx_open(&f, _i))
        return;
    tr_error e;
    tr_signal one = signal_at("EURUSD", T0, 1);
    ck_assert_int_eq(tr_store_signal_put(f.s, &one, &e), TR_OK);
    ck_assert_int_eq(one.id, 1);
    tr_signal batch[3] = {signal_at("USDJPY", T0, 0), signal_at("EURUSD", T0 + M15, 2),
                          signal_at("EURUSD", T0 + 2 * M15, 0)};
    ck_assert_int_eq(tr_store_signals_append(f.s, batch, 3, &e), TR_OK);
    ck_assert_int_eq(batch[0].id, 2);
    ck_assert_int_eq(batch[2].id, 4);
    /* a bad signal in a batch: nothing written */
    tr_signal badb[2] = {signal_at("EURUSD", T0 + 3 * M15, 1), signal_at("EURUSD", T0, 1)};
    snprintf(badb[1].model_version, sizeof badb[1].model_version, "v1.0; DROP");
    ck_assert_int_eq(tr_store_signals_append(f.s, badb, 2, &e), TR_ERR_INVALID);

    tr_signal *list;
    size_t n;
    ck_assert_int_eq(tr_store_signals_get(f.s, NULL, INT64_MIN, INT64_MAX, &list, &n, &e), TR_OK);
    ck_assert_uint_eq(n, 4);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(list[i].id, (int64_t)i + 1); /* recording order */
    ck_assert_str_eq(list[1].pair, "USDJPY");
    ck_assert_int_eq(list[2].signal, 2);
    ck_assert(list[0].probs[1] == 0.7 && list[0].confidence == 0.7);
    ck_assert_str_eq(list[0].outcome, "open");
    ck_assert_str_eq(list[0].ab_test_id, "");
    ck_assert_int_eq(list[0].created_at, T0 + M15);
    free(list);
    ck_assert_int_eq(tr_store_signals_get(f.s, "EURUSD", T0 + M15, T0 + 3 * M15, &list, &n, &e),
                     TR_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(list[0].id, 3);
    ck_assert_int_eq(list[1].id, 4);
    free(list);

    /* outcomes */
    tr_signal upd[2] = {one, batch[1]};
    snprintf(upd[0].outcome, sizeof upd[0].outcome, "win");
    upd[0].exit_time = T0 + 10 * M15;
    upd[0].exit_price = 1.10123;
    upd[0].pnl_pips = 12.3;
    upd[0].pnl_percent = 0.00112;
    snprintf(upd[1].outcome, sizeof upd[1].outcome, "none");
    ck_assert_int_eq(tr_store_signals_update(f.s, upd, 2, &e), TR_OK);
    /* an unknown id: nothing written */
    tr_signal ghost[2] = {upd[0], upd[0]};
    snprintf(ghost[0].outcome, sizeof ghost[0].outcome, "loss");
    ghost[1].id = 99;
    ck_assert_int_eq(tr_store_signals_update(f.s, ghost, 2, &e), TR_ERR_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(e.msg, "99"));
    ck_assert_int_eq(tr_store_signals_get(f.s, NULL, INT64_MIN, INT64_MAX, &list, &n, &e), TR_OK);
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(list[0].outcome, "win");
    ck_assert_int_eq(list[0].exit_time, T0 + 10 * M15);
    ck_assert(list[0].exit_price == 1.10123 && list[0].pnl_pips == 12.3);
    ck_assert(list[0].pnl_percent == 0.00112);
    ck_assert_str_eq(list[2].outcome, "none");
    ck_assert_str_eq(list[1].outcome, "open");
    free(list);

    /* a signal is unique per (pair, bar, version, A/B test): recording one again returns the
     * stored record, alone or in a batch, and a batch that names a new one twice stores it once */
    tr_signal again = signal_at("EURUSD", T0, 2);
    again.probs[1] = 0.01;
    ck_assert_int_eq(tr_store_signal_put(f.s, &again, &e), TR_OK);
    ck_assert_int_eq(again.id, 1);
    ck_assert_int_eq(again.signal, 1);
    ck_assert_str_eq(again.outcome, "win");
    tr_signal mixed[4] = {signal_at("EURUSD", T0 + 5 * M15, 1), signal_at("EURUSD", T0 + M15, 0),
                          signal_at("EURUSD", T0 + 5 * M15, 2), signal_at("EURUSD", T0, 1)};
    snprintf(mixed[3].model_version, sizeof mixed[3].model_version, "v1.1"); /* another version */
    ck_assert_int_eq(tr_store_signals_append(f.s, mixed, 4, &e), TR_OK);
    ck_assert_int_eq(mixed[0].id, 5);
    ck_assert_int_eq(mixed[1].id, 3);
    ck_assert_int_eq(mixed[1].signal, 2); /* as stored */
    ck_assert_int_eq(mixed[2].id, 5);
    ck_assert_int_eq(mixed[2].signal, 1);
    ck_assert_int_eq(mixed[3].id, 6);
    ck_assert_int_eq(tr_store_signals_get(f.s, NULL, INT64_MIN, INT64_MAX, &list, &n, &e), TR_OK);
    ck_assert_uint_eq(n, 6);
    free(list);
    fx_close(&f);
}
END_TEST

/* ---- locks ----------------------------------------------------------------------------------- */

START_TEST(test_locks)
{
    fixture f;
    if (!fx_open(&f, _i))
        return;
    tr_error e;
    tr_store *s2 = fx_second(&f);
    int t1 = -1, t2 = -1, t3 = -1;
    ck_assert_int_eq(tr_store_cycle_lock(f.s, "full", &t1, &e), TR_OK);
    ck_assert_int_eq(tr_store_cycle_lock(s2, "full", &t2, &e), TR_ERR_CONFLICT);
    ck_assert_ptr_nonnull(strstr(e.msg, "full"));
    /* another cycle's lock is free */
    ck_assert_int_eq(tr_store_cycle_lock(s2, "incremental", &t3, &e), TR_OK);
    tr_store_cycle_unlock(f.s, t1);
    ck_assert_int_eq(tr_store_cycle_lock(s2, "full", &t2, &e), TR_OK);
    ck_assert_int_eq(tr_store_cycle_lock(f.s, "full", &t1, &e), TR_ERR_CONFLICT);
    tr_store_cycle_unlock(s2, t2);
    tr_store_cycle_unlock(s2, t3);
    tr_store_close(s2);
    if (f.pg) {
        /* PostgreSQL: the end of a session releases its locks (a lost connection, a dead
         * process); the directory store's token is a descriptor the caller unlocks */
        s2 = fx_second(&f);
        ck_assert_int_eq(tr_store_cycle_lock(s2, "rank", &t2, &e), TR_OK);
        tr_store_close(s2);
        /* the server releases it when the closed session's backend has exited: soon, not at
         * once */
        tr_code rc;
        double t0 = tu_now();
        while ((rc = tr_store_cycle_lock(f.s, "rank", &t1, &e)) == TR_ERR_CONFLICT &&
               tu_now() - t0 < 10)
            nanosleep(&(struct timespec){0, 20000000}, NULL);
        ck_assert_int_eq(rc, TR_OK);
        tr_store_cycle_unlock(f.s, t1);
    }
    fx_close(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trainer_store_contract");
    TCase *tc = tcase_create("both backends");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_bars, 0, 2);
    tcase_add_loop_test(tc, test_registry, 0, 2);
    tcase_add_loop_test(tc, test_abtests, 0, 2);
    tcase_add_loop_test(tc, test_signals, 0, 2);
    tcase_add_loop_test(tc, test_locks, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(suite)
