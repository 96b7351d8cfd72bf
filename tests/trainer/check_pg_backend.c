/*
 * check_pg_backend.c - the PostgreSQL store beside a backend's own database (docs/schema.md 5.11,
 * 5.12), on the private test server:
 *
 *   migrate from public: a store at the schema of the previous release (version 2, every object
 *       in public) with bars, versions, the log, activations, A/B tests and signals is moved into
 *       its own schema by db migrate; every record reads back bit for bit, every row of every
 *       table is the same text, public keeps nothing of ours, and db migrate again does nothing.
 *   backend: the backend's own market_data and trading_signals (the original design's shape,
 *       with rows) come first; db migrate with the design's views, the design's two columns and
 *       the bars read from the backend's table; a full retrain on those bars, an A/B test and
 *       predictions; the backend's tables keep every row and column; the seed's queries run
 *       unchanged against the views with the right figures; the new_market_data trigger; db
 *       migrate again changes nothing.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../check_main.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "market/synth.h"
#include "pgutil.h"
#include "registry/schema.h"
#include "store/sql/migrations.h"
#include "store/store.h"
#include "testutil.h"

#define M15 900

typedef struct fixture {
    char *ci, *dir, *models;
    char cwd[4096];
} fixture;

static int fx_open(fixture *f)
{
    memset(f, 0, sizeof *f);
    if (!pu_server())
        return 0;
    unsetenv("AIFX_PG_SCHEMA");
    f->ci = pu_create_db(0);
    f->dir = tu_tempdir();
    f->models = tu_path(f->dir, "models");
    setenv("AIFX_MODELS_DIR", f->models, 1);
    ck_assert_ptr_nonnull(getcwd(f->cwd, sizeof f->cwd));
    ck_assert_int_eq(chdir(f->dir), 0);
    return 1;
}

static void fx_close(fixture *f)
{
    ck_assert_int_eq(chdir(f->cwd), 0);
    unsetenv("AIFX_MODELS_DIR");
    pu_drop_db(f->ci);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f->models);
}

static tr_store *open_ok(const char *location)
{
    tr_store *s;
    tr_error e;
    tr_store_options o = {.create = 1, .models_dir = getenv("AIFX_MODELS_DIR")};
    tr_code rc = tr_store_open(location, &o, &s, &e);
    ck_assert_msg(rc == TR_OK, "open %s: %s", location, e.msg);
    return s;
}

#define run(dir, ...) tu_run(AIFX_TRAIN_EXE, dir, __VA_ARGS__)

/* psql's one-line answer (public first: what the backend's own session sees). */
static void backend_sql(const char *ci, const char *sql, char *out, size_t size)
{
    int rc = pu_psql_path(ci, "public", sql, out, size);
    ck_assert_msg(rc == 0, "psql failed on: %s", sql);
}

static long long backend_value(const char *ci, const char *sql)
{
    char buf[256];
    backend_sql(ci, sql, buf, sizeof buf);
    return strtoll(buf, NULL, 10);
}

/* ---- a store of the previous release, moved into its own schema ------------------------------ */

static tr_signal a_signal(int64_t bar, int sig, const char *ab)
{
    tr_signal g;
    memset(&g, 0, sizeof g);
    snprintf(g.pair, sizeof g.pair, "EURUSD");
    g.timeframe = M15;
    g.bar_time = bar;
    g.signal = sig;
    g.confidence = 1.0 / 3.0;
    g.probs[0] = 0.1;
    g.probs[1] = -0.0;
    g.probs[2] = NAN;
    snprintf(g.model_version, sizeof g.model_version, "%s", ab[0] ? "v1.1" : "v1.0");
    snprintf(g.ab_test_id, sizeof g.ab_test_id, "%s", ab);
    g.created_at = bar + M15;
    snprintf(g.outcome, sizeof g.outcome, "open");
    return g;
}

/* Every row of every table of ours, as text, in one digest per table (uuids, identities and
 * generated columns included). */
static const char rows_digest_sql[] =
    "SELECT string_agg(d, ' ' ORDER BY d) FROM (SELECT 'm' || md5(coalesce(string_agg(t::text, "
    "'|' ORDER BY t::text), '')) AS d FROM market_data t UNION ALL SELECT 'v' || "
    "md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM model_versions t UNION "
    "ALL SELECT 'l' || md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM "
    "model_training_log t UNION ALL SELECT 'a' || md5(coalesce(string_agg(t::text, '|' ORDER BY "
    "t::text), '')) FROM model_activations t UNION ALL SELECT 'b' || "
    "md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM model_ab_test t UNION ALL "
    "SELECT 's' || md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM "
    "trading_signals t UNION ALL SELECT 'k' || md5(coalesce(string_agg(t::text, '|' ORDER BY "
    "t::text), '')) FROM cycle_lock_tokens t UNION ALL SELECT 'n' || (SELECT count(*) FROM "
    "schema_migrations WHERE version <= 2)::text) x;";

/* The layout of the tables of a schema: columns with types and defaults, and indexes. */
static void layout_of(const char *ci, const char *schema, char *out, size_t size)
{
    char sql[1200];
    snprintf(sql, sizeof sql,
             "SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (SELECT table_name || '.' || "
             "column_name || ':' || ordinal_position || ':' || data_type || ':' || "
             "coalesce(column_default, '') || ':' || is_nullable || ':' || is_generated || ':' || "
             "coalesce(generation_expression, '') || ':' || is_identity AS x FROM "
             "information_schema.columns WHERE table_schema = '%s' UNION ALL SELECT "
             "replace(indexdef, '%s.', '') FROM pg_indexes WHERE schemaname = '%s') s;",
             schema, schema, schema);
    ck_assert_int_eq(pu_psql_path(ci, "public", sql, out, size), 0);
}

/* Turns a store in schema aifx back into the previous release's: migration 003 undone (its own
 * tables and function dropped, its row deleted) and every object moved into public. */
static const char to_previous_release_sql[] =
    "DROP TABLE aifx.model_files;" /* 009 */
    "DROP TABLE aifx.families;"    /* 008: dropping family drops its keys and indexes */
    "ALTER TABLE aifx.trading_signals DROP COLUMN family;"
    "CREATE INDEX trading_signals_pair_time ON aifx.trading_signals (pair, bar_time);"
    "ALTER TABLE aifx.model_ab_test DROP COLUMN family, "
    "ADD CONSTRAINT model_ab_test_test_id_key UNIQUE (test_id), "
    "ADD CONSTRAINT model_ab_test_created_no_key UNIQUE (created_no);"
    "ALTER TABLE aifx.trading_signals ADD CONSTRAINT trading_signals_ab_test_id_fkey "
    "FOREIGN KEY (ab_test_id) REFERENCES aifx.model_ab_test (test_id);"
    "ALTER TABLE aifx.model_activations DROP COLUMN family, "
    "ADD CONSTRAINT model_activations_activation_id_key UNIQUE (activation_id);"
    "ALTER TABLE aifx.model_training_log DROP COLUMN family, "
    "ADD CONSTRAINT model_training_log_log_id_key UNIQUE (log_id);"
    "CREATE INDEX model_training_log_cycle ON aifx.model_training_log (cycle, scheduled_for);"
    "ALTER TABLE aifx.model_versions DROP COLUMN family, "
    "ADD CONSTRAINT model_versions_version_key UNIQUE (version), "
    "ADD CONSTRAINT model_versions_registered_no_key UNIQUE (registered_no);"
    "CREATE UNIQUE INDEX model_versions_one_active ON aifx.model_versions (is_active) WHERE "
    "is_active;"
    "DROP TABLE aifx.jobs; DROP TYPE aifx.job_state;" /* 007 */
    "ALTER TABLE aifx.model_versions DROP COLUMN rule_temperature, DROP COLUMN rule_threshold, "
    "DROP COLUMN rule_no_edge, DROP COLUMN rule_cost_aware, DROP COLUMN rule_min_trades, "
    "DROP COLUMN rule_val_trades, DROP COLUMN rule_val_pips, DROP COLUMN rule_ece_raw, "
    "DROP COLUMN rule_ece_cal;"                                       /* 006 */
    "DROP TABLE aifx.outbox_delivery, aifx.outbox_sink, aifx.outbox;" /* 005 */
    "DROP TYPE aifx.delivery_state;"
    "ALTER TABLE aifx.trading_signals DROP COLUMN outcome_reported;" /* 004 */
    "DROP TABLE aifx.backend_link, aifx.backend_timeframes, aifx.backend_pairs;"
    "DROP FUNCTION aifx.aifx_fits(float8, float8);"
    "DELETE FROM aifx.schema_migrations WHERE version >= 3;"
    "DO $$ DECLARE t text; BEGIN "
    "FOREACH t IN ARRAY ARRAY['schema_migrations', 'market_data', 'model_versions', "
    "'model_training_log', 'model_activations', 'model_ab_test', 'trading_signals', "
    "'cycle_lock_tokens'] LOOP EXECUTE format('ALTER TABLE aifx.%I SET SCHEMA public', t); "
    "END LOOP; "
    "FOREACH t IN ARRAY ARRAY['training_type', 'version_status', 'log_status', 'signal_type', "
    "'signal_outcome', 'ab_status'] LOOP EXECUTE format('ALTER TYPE aifx.%I SET SCHEMA public', "
    "t); END LOOP; "
    "ALTER FUNCTION aifx.aifx_jsonb_or_null(text) SET SCHEMA public; END $$;"
    "DROP SCHEMA aifx;";

START_TEST(test_migrate_from_public)
{
    fixture f;
    if (!fx_open(&f))
        return;
    tr_error e;
    tr_migrate_result mr;
    ck_assert_msg(tr_store_migrate(f.ci, &mr, &e) == TR_OK, "%s", e.msg);
    ck_assert_str_eq(mr.schema, "aifx");

    /* a store with bars, versions, the log, an activation, A/B tests and signals */
    tr_store *s = open_ok(f.ci);
    tr_bar bars[200];
    tu_walk(bars, 200, T("2025-06-02"), M15, 5, 1.1);
    bars[7].volume = -0.0;
    bars[8].close = bars[8].high; /* exact equalities survive */
    ck_assert_int_eq(tr_store_bars_put(s, "EURUSD", M15, bars, 200, 0, NULL, &e), TR_OK);
    ck_assert_int_eq(tr_store_bars_put(s, "USDJPY", M15, bars, 50, 0, NULL, &e), TR_OK);
    tr_version v[2];
    tu_full_version(&v[0], "v1.0", 0);
    tu_full_version(&v[1], "v1.1", 1);
    for (int k = 0; k < 2; k++) /* the previous release had no rule: it reads as the identity */
        v[k].rule.val_pips = v[k].rule.ece_raw = v[k].rule.ece_cal = NAN;
    tr_log_row lr;
    memset(&lr, 0, sizeof lr);
    snprintf(lr.cycle, sizeof lr.cycle, "full");
    lr.as_of = 1749945600;
    lr.started_at = 1750000000;
    lr.finished_at = 1750000100;
    lr.status = TR_LOG_COMPLETED;
    snprintf(lr.version, sizeof lr.version, "v1.0");
    lr.candidate_value = NAN;
    lr.active_value = -0.0;
    snprintf(lr.error, sizeof lr.error, "line 1\nline 2\t'; --");
    tr_activation act = {0, "", "v1.0", 0, "first_model", "{\"macro_f1\": 0.47}"};
    tr_reg_txn t = {0};
    t.put = v;
    t.n_put = 2;
    t.log = &lr;
    t.n_log = 1;
    t.activate = &act;
    t.now = 1750000200;
    ck_assert_msg(tr_store_registry_commit(s, &t, &e) == TR_OK, "%s", e.msg);
    tr_ab_test ab1, ab2;
    tu_full_ab(&ab1, "ab1", "EURUSD");
    tu_full_ab(&ab2, "ab2", "EURUSD");
    tr_reg_txn ta = {0};
    ta.ab_put = &ab1;
    ta.n_ab_put = 1;
    ck_assert_int_eq(tr_store_registry_commit(s, &ta, &e), TR_OK);
    ab1.n_looks = 2;
    ab1.look_frac[0] = 0.25;
    ab1.look_frac[1] = NAN;
    ab1.n_pred_a = 7;
    ab1.status = TR_AB_COMPLETED;
    ab1.ended_at = 1750000000 + 10 * 86400;
    snprintf(ab1.verdict, sizeof ab1.verdict, "b");
    snprintf(ab1.result, sizeof ab1.result, "{\"welch\": {\"p\": 0.01}}");
    tr_reg_txn tu = {0};
    tu.ab_update = &ab1;
    tu.n_ab_update = 1;
    ck_assert_int_eq(tr_store_registry_commit(s, &tu, &e), TR_OK);
    ta.ab_put = &ab2;
    ck_assert_int_eq(tr_store_registry_commit(s, &ta, &e), TR_OK);
    tr_signal sig[4] = {a_signal(bars[10].t, 1, ""), a_signal(bars[11].t, 2, "ab1"),
                        a_signal(bars[12].t, 0, "ab1"), a_signal(bars[13].t, 1, "ab2")};
    ck_assert_int_eq(tr_store_signals_append(s, sig, 4, &e), TR_OK);
    snprintf(sig[1].outcome, sizeof sig[1].outcome, "win");
    sig[1].exit_time = bars[15].t;
    sig[1].exit_price = 1.23456789;
    sig[1].pnl_pips = 12.3;
    sig[1].pnl_percent = -0.0;
    ck_assert_int_eq(tr_store_signals_update(s, &sig[1], 1, &e), TR_OK);
    int lock;
    ck_assert_int_eq(tr_store_cycle_lock(s, "full", &lock, &e), TR_OK);
    tr_store_cycle_unlock(s, lock);

    /* what it holds, as records and as rows */
    tr_registry before;
    ck_assert_int_eq(tr_store_registry_read(s, &before, &e), TR_OK);
    tr_signal *sig_before;
    size_t n_sig_before;
    ck_assert_int_eq(
        tr_store_signals_get(s, NULL, 0, INT64_MAX / 2, &sig_before, &n_sig_before, &e), TR_OK);
    ck_assert_uint_eq(n_sig_before, 4);
    tr_bars bars_before = {0};
    ck_assert_int_eq(tr_store_bars_get(s, "EURUSD", M15, 0, INT64_MAX / 2, &bars_before, &e),
                     TR_OK);
    tr_store_close(s);
    char rows[400], rows_after[400];
    ck_assert_int_eq(pu_psql(f.ci, rows_digest_sql, rows, sizeof rows), 0);

    /* the previous release's layout: what 001 and 002 make in public */
    ck_assert_int_eq(pu_psql_path(f.ci, "public", to_previous_release_sql, NULL, 0), 0);
    char *ref = pu_create_db(0);
    tr_sb sql = {0};
    for (int i = 0; i < 2; i++)
        tr_sb_printf(&sql, "%s\n", tr_pg_migrations[i].sql);
    ck_assert_int_eq(pu_psql_path(ref, "public", sql.p, NULL, 0), 0);
    tr_sb_free(&sql);
    char lay_old[100], lay_ref[100];
    layout_of(f.ci, "public", lay_old, sizeof lay_old);
    layout_of(ref, "public", lay_ref, sizeof lay_ref);
    ck_assert_str_eq(lay_old, lay_ref);
    pu_drop_db(ref);
    ck_assert_int_eq(pu_psql_path(f.ci, "public", "SELECT max(version) FROM schema_migrations;",
                                  rows_after, sizeof rows_after),
                     0);
    ck_assert_str_eq(rows_after, "2");

    /* this program refuses it until migrated, naming where it is */
    ck_assert_int_eq(tr_store_open(f.ci, NULL, &s, &e), TR_ERR_VERSION);
    ck_assert_msg(strstr(e.msg, "schema at version 2 in schema public") &&
                      strstr(e.msg, "db migrate"),
                  "%s", e.msg);

    /* db migrate moves it */
    ck_assert_int_eq(run(f.dir, "db migrate --store '%s'", f.ci), 0);
    char want[256];
    snprintf(want, sizeof want, "schema migrated from version 2 to %d",
             tr_pg_migrations[tr_pg_n_migrations - 1].version);
    ck_assert(tu_output_has(f.dir, want));
    ck_assert(tu_output_has(f.dir, "moved from schema public into schema aifx"));
    ck_assert_int_eq(pu_value(f.ci, "SELECT count(*) FROM pg_class WHERE relnamespace = "
                                    "'public'::regnamespace"),
                     0);
    ck_assert_int_eq(pu_value(f.ci, "SELECT count(*) FROM pg_type WHERE typnamespace = "
                                    "'public'::regnamespace"),
                     0);
    ck_assert_int_eq(pu_value(f.ci, "SELECT count(*) FROM pg_proc WHERE pronamespace = "
                                    "'public'::regnamespace"),
                     0);
    ck_assert_int_eq(pu_psql(f.ci, rows_digest_sql, rows_after, sizeof rows_after), 0);
    ck_assert_str_eq(rows_after, rows);

    /* every record bit for bit */
    s = open_ok(f.ci);
    tr_registry after;
    ck_assert_int_eq(tr_store_registry_read(s, &after, &e), TR_OK);
    ck_assert_uint_eq(after.n_versions, before.n_versions);
    ck_assert_uint_eq(after.n_log, before.n_log);
    ck_assert_uint_eq(after.n_activations, before.n_activations);
    ck_assert_uint_eq(after.n_abtests, before.n_abtests);
    tu_assert_same_bytes(after.versions, before.versions,
                         before.n_versions * sizeof *before.versions, "versions");
    tu_assert_same_bytes(after.log, before.log, before.n_log * sizeof *before.log, "log");
    tu_assert_same_bytes(after.activations, before.activations,
                         before.n_activations * sizeof *before.activations, "activations");
    tu_assert_same_bytes(after.abtests, before.abtests, before.n_abtests * sizeof *before.abtests,
                         "A/B tests");
    tr_registry_free(&after);
    tr_registry_free(&before);
    tr_signal *sig_after;
    size_t n_sig_after;
    ck_assert_int_eq(tr_store_signals_get(s, NULL, 0, INT64_MAX / 2, &sig_after, &n_sig_after, &e),
                     TR_OK);
    ck_assert_uint_eq(n_sig_after, n_sig_before);
    tu_assert_same_bytes(sig_after, sig_before, n_sig_before * sizeof *sig_before, "signals");
    free(sig_after);
    free(sig_before);
    tr_bars bars_after = {0};
    ck_assert_int_eq(tr_store_bars_get(s, "EURUSD", M15, 0, INT64_MAX / 2, &bars_after, &e), TR_OK);
    ck_assert_uint_eq(bars_after.n, 200);
    tu_assert_same_bytes(bars_after.v, bars_before.v, 200 * sizeof *bars_before.v, "bars");
    tu_assert_same_bytes(bars_after.v, bars, 200 * sizeof *bars, "bars as written");
    tr_bars_free(&bars_after);
    tr_bars_free(&bars_before);
    /* the store goes on: a new signal numbers after the moved ones (the identity moved too) */
    tr_signal more = a_signal(bars[20].t, 1, "");
    ck_assert_int_eq(tr_store_signal_put(s, &more, &e), TR_OK);
    ck_assert_int_eq(more.id, 5);
    tr_store_close(s);

    /* again: nothing to do */
    ck_assert_int_eq(run(f.dir, "db migrate --store '%s'", f.ci), 0);
    snprintf(want, sizeof want, "schema at version %d, current; nothing to do",
             tr_pg_migrations[tr_pg_n_migrations - 1].version);
    ck_assert(tu_output_has(f.dir, want));
    ck_assert(!tu_output_has(f.dir, "moved"));

    /* a store of the first release (version 1 in public, no lock tokens): 002 is applied where
     * it is, then 003 moves it */
    char *v1 = pu_create_db(0);
    tr_sb first = {0};
    tr_sb_printf(&first, "%s\nINSERT INTO schema_migrations (version, name) VALUES (1, '%s');",
                 tr_pg_migrations[0].sql, tr_pg_migrations[0].name);
    ck_assert_int_eq(pu_psql_path(v1, "public", first.p, NULL, 0), 0);
    tr_sb_free(&first);
    ck_assert_int_eq(run(f.dir, "db migrate --store '%s'", v1), 0);
    /* every later migration applied, in order */
    tr_sb want1 = {0};
    tr_sb_printf(&want1, "schema migrated from version 1 to %d (applied ",
                 tr_pg_migrations[tr_pg_n_migrations - 1].version);
    for (size_t i = 1; i < tr_pg_n_migrations; i++)
        tr_sb_printf(&want1, "%s%s", i > 1 ? ", " : "", tr_pg_migrations[i].name);
    tr_sb_printf(&want1, ")");
    ck_assert_msg(tu_output_has(f.dir, want1.p), "%s", want1.p);
    tr_sb_free(&want1);
    ck_assert(tu_output_has(f.dir, "moved from schema public into schema aifx"));
    ck_assert_int_eq(pu_value(v1, "SELECT count(*) FROM pg_class WHERE relnamespace = "
                                  "'public'::regnamespace"),
                     0);
    ck_assert_int_eq(pu_value(v1, "SELECT count(*) FROM schema_migrations"),
                     (long long)tr_pg_n_migrations);
    ck_assert_int_eq(pu_value(v1, "SELECT count(*) FROM cycle_lock_tokens"), 0);
    pu_drop_db(v1);

    /* a connection string's search path does not move the store */
    char other[4400];
    snprintf(other, sizeof other, "%s options='-csearch_path=public'", f.ci);
    s = open_ok(other);
    ck_assert_int_eq(tr_store_registry_read(s, &after, &e), TR_OK);
    ck_assert_uint_eq(after.n_versions, 2);
    tr_registry_free(&after);
    tr_store_close(s);
    /* a second store in the same database, under another schema name; bad names refused */
    ck_assert_int_eq(run(f.dir, "db migrate --pg-schema second --store '%s'", f.ci), 0);
    snprintf(want, sizeof want, "schema migrated from version 0 to %d",
             tr_pg_migrations[tr_pg_n_migrations - 1].version);
    ck_assert(tu_output_has(f.dir, want));
    ck_assert(!tu_output_has(f.dir, "moved"));
    setenv("AIFX_PG_SCHEMA", "second", 1);
    s = open_ok(f.ci);
    ck_assert_int_eq(tr_store_registry_read(s, &after, &e), TR_OK);
    ck_assert_uint_eq(after.n_versions, 0);
    tr_registry_free(&after);
    tr_store_close(s);
    setenv("AIFX_PG_SCHEMA", "Robert'); DROP TABLE x; --", 1);
    ck_assert_int_eq(tr_store_open(f.ci, NULL, &s, &e), TR_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.msg, "bad PostgreSQL schema name"));
    unsetenv("AIFX_PG_SCHEMA");
    ck_assert_int_eq(run(f.dir, "db migrate --pg-schema pg_x --store '%s'", f.ci), 2);
    s = open_ok(f.ci);
    ck_assert_int_eq(tr_store_registry_read(s, &after, &e), TR_OK);
    ck_assert_uint_eq(after.n_versions, 2);
    tr_registry_free(&after);
    tr_store_close(s);
    fx_close(&f);
}
END_TEST

/* ---- beside the backend's own tables ------------------------------------------------------- */

/* The backend's tables in the original design's shape (its market data collection service and
 * its signal service write them). */
static const char backend_ddl[] =
    "CREATE TABLE market_data (id SERIAL PRIMARY KEY, pair VARCHAR(20) NOT NULL, timeframe "
    "VARCHAR(10) NOT NULL, timestamp TIMESTAMP NOT NULL, open DECIMAL(18, 8) NOT NULL, high "
    "DECIMAL(18, 8) NOT NULL, low DECIMAL(18, 8) NOT NULL, close DECIMAL(18, 8) NOT NULL, volume "
    "DECIMAL(20, 2) NOT NULL DEFAULT 0, created_at TIMESTAMP DEFAULT NOW(), UNIQUE (pair, "
    "timeframe, timestamp));"
    "CREATE TABLE trading_signals (id UUID PRIMARY KEY DEFAULT gen_random_uuid(), pair "
    "VARCHAR(20) NOT NULL, timeframe VARCHAR(10) NOT NULL, signal VARCHAR(10) NOT NULL, "
    "confidence DECIMAL(5, 4), entry_price DECIMAL(18, 8), actual_outcome VARCHAR(20), "
    "created_at TIMESTAMP DEFAULT NOW(), updated_at TIMESTAMP DEFAULT NOW());";

/* Every row and column the backend's tables had (the columns given, in order). */
static const char backend_digest_sql[] =
    "SELECT (SELECT md5(string_agg(row(id, pair, timeframe, timestamp, open, high, low, close, "
    "volume, created_at)::text, '|' ORDER BY id)) FROM market_data) || ' ' || (SELECT "
    "md5(string_agg(row(id, pair, timeframe, signal, confidence, entry_price, actual_outcome, "
    "created_at, updated_at)::text, '|' ORDER BY id)) FROM trading_signals) || ' ' || (SELECT "
    "string_agg(table_name || '.' || column_name || ':' || data_type, ',' ORDER BY table_name, "
    "ordinal_position) FROM information_schema.columns WHERE table_schema = 'public' AND "
    "table_name IN ('market_data', 'trading_signals') AND column_name NOT IN ('model_version', "
    "'ab_test_id'));";

/* The seed's queries, unchanged (the daily fine-tune, the weekly export, the A/B lookup). */
static const char daily_sql[] = "SELECT\n"
                                "    md.*,\n"
                                "    ts.signal as actual_signal,\n"
                                "    ts.actual_outcome,\n"
                                "    ts.confidence\n"
                                "FROM market_data md\n"
                                "LEFT JOIN trading_signals ts\n"
                                "    ON md.pair = ts.pair\n"
                                "    AND md.timeframe = ts.timeframe\n"
                                "    AND md.timestamp = ts.created_at\n"
                                "WHERE md.timestamp > NOW() - INTERVAL '24 hours'\n"
                                "ORDER BY md.timestamp\n";
static const char weekly_sql[] =
    "SELECT\n"
    "    md.*,\n"
    "    ts.signal as label_signal,\n"
    "    ts.actual_outcome,\n"
    "    ts.confidence\n"
    "FROM market_data md\n"
    "LEFT JOIN trading_signals ts\n"
    "    ON md.pair = ts.pair\n"
    "    AND md.timeframe = ts.timeframe\n"
    "    AND ABS(EXTRACT(EPOCH FROM (md.timestamp - ts.created_at))) < 300\n"
    "WHERE md.timestamp > NOW() - INTERVAL '3 months'\n"
    "ORDER BY md.timestamp\n";
static const char ab_lookup_sql[] = "SELECT * FROM model_ab_test WHERE status = 'running' ORDER "
                                    "BY created_at DESC LIMIT 1";

/* "column type, ..." of a relation of the backend's schema. */
static void view_types(const char *ci, const char *name, char *out, size_t size)
{
    char sql[900];
    snprintf(sql, sizeof sql,
             "SELECT string_agg(column_name || ' ' || CASE WHEN data_type = 'numeric' THEN "
             "'numeric(' || numeric_precision || ',' || numeric_scale || ')' WHEN "
             "character_maximum_length IS NOT NULL THEN data_type || '(' || "
             "character_maximum_length || ')' ELSE data_type END, ', ' ORDER BY "
             "ordinal_position) FROM information_schema.columns WHERE table_schema = 'public' "
             "AND table_name = '%s';",
             name);
    backend_sql(ci, sql, out, size);
}

typedef struct wake {
    const char *ci;
    char payload[512];
    int inserted;
} wake;

/* On listening: the collection service inserts the next bar; then its event. */
static int on_wake(const char *channel, const char *payload, void *user)
{
    wake *w = user;
    if (!channel) {
        w->inserted =
            pu_psql_path(w->ci, "public",
                         "INSERT INTO market_data (pair, timeframe, timestamp, open, high, low, "
                         "close, volume) SELECT pair, timeframe, timestamp + interval '15 "
                         "minutes', close, close, close, close, 1 FROM market_data WHERE pair = "
                         "'EUR/USD' ORDER BY timestamp DESC LIMIT 1;",
                         NULL, 0) == 0;
        return 0;
    }
    snprintf(w->payload, sizeof w->payload, "%s", payload ? payload : "");
    return 1;
}

START_TEST(test_backend)
{
    fixture f;
    if (!fx_open(&f))
        return;
    tr_error e;
    char buf[8192], before[4096], after[4096];

    /* the backend's database as it is: its tables, with 40 days of 15-minute bars up to now and
     * a few signals of its own, some at the bars of the last day */
    backend_sql(f.ci, backend_ddl, NULL, 0);
    const int64_t now = (int64_t)time(NULL);
    const int64_t last = now / M15 * M15 - M15; /* the last closed bar */
    const size_t n = 40 * 96;
    tr_synth_params sp =
        tr_synth_params_default("EURUSD", last - (int64_t)(n - 1) * M15, last + M15, 11);
    tr_bars b = {0};
    ck_assert_int_eq(tr_synth_generate(&sp, &b, NULL, &e), TR_OK);
    ck_assert_uint_gt(b.n, n / 2);
    tr_sb ins = {0};
    tr_sb_printf(&ins, "INSERT INTO market_data (pair, timeframe, timestamp, open, high, low, "
                       "close, volume) VALUES ");
    for (size_t i = 0; i < b.n; i++) {
        char ts[32];
        tr_sb_printf(&ins, "%s('EUR/USD', '15min', '%s', %.5f, %.5f, %.5f, %.5f, %.0f)",
                     i ? ", " : "", tr_time_format(b.v[i].t, ts, sizeof ts), b.v[i].open,
                     b.v[i].high, b.v[i].low, b.v[i].close, floor(b.v[i].volume));
    }
    tr_sb_printf(&ins, "; INSERT INTO market_data (pair, timeframe, timestamp, open, high, low, "
                       "close, volume) VALUES ('EUR/USD', '1day', '2020-01-01', 1, 1, 1, 1, 1);");
    ck_assert(!ins.oom);
    backend_sql(f.ci, ins.p, NULL, 0);
    tr_sb_free(&ins);
    backend_sql(f.ci,
                "INSERT INTO trading_signals (pair, timeframe, signal, confidence, entry_price, "
                "actual_outcome, created_at) SELECT pair, timeframe, 'buy', 0.75, close, 'win', "
                "timestamp FROM market_data WHERE timeframe = '15min' ORDER BY timestamp DESC "
                "LIMIT 3; INSERT INTO trading_signals (pair, timeframe, signal, confidence, "
                "created_at) VALUES ('EUR/USD', '15min', 'sell', 0.6, date_trunc('hour', now() - "
                "interval '20 days') + interval '450 seconds');",
                NULL, 0);
    long long n_day = backend_value(f.ci, "SELECT count(*) FROM market_data WHERE timestamp > "
                                          "NOW() - INTERVAL '24 hours'");
    ck_assert_int_ge(n_day, 90);
    backend_sql(f.ci, backend_digest_sql, before, sizeof before);

    /* db migrate beside it */
    ck_assert_int_eq(run(f.dir,
                         "db migrate --store '%s' --backend-views --backend-signals --bars-from "
                         "market_data --bars-timeframes 15min=15m,1h=3600 --bars-pairs "
                         "EUR/USD=EURUSD --bars-notify",
                         f.ci),
                     0);
    ck_assert(tu_output_has(f.dir, "views in public; trading_signals columns; bars from "
                                   "market_data (with the new_market_data trigger)"));
    backend_sql(f.ci, backend_digest_sql, after, sizeof after);
    ck_assert_str_eq(after, before);

    /* the bars through the store: the backend's, read-only */
    tr_store *s = open_ok(f.ci);
    tr_series_info *list;
    size_t n_series;
    ck_assert_int_eq(tr_store_series_list(s, &list, &n_series, &e), TR_OK);
    ck_assert_uint_eq(n_series, 1); /* the unmapped '1day' row is not a series */
    ck_assert_str_eq(list[0].pair, "EURUSD");
    ck_assert_int_eq(list[0].timeframe, M15);
    ck_assert_uint_eq(list[0].count, b.n);
    free(list);
    tr_bars got = {0};
    ck_assert_int_eq(tr_store_bars_get(s, "EURUSD", M15, 0, INT64_MAX / 2, &got, &e), TR_OK);
    ck_assert_uint_eq(got.n, b.n);
    for (size_t i = 0; i < b.n; i++) {
        char txt[64];
        ck_assert_int_eq(got.v[i].t, b.v[i].t);
        snprintf(txt, sizeof txt, "%.5f", b.v[i].close);
        ck_assert_msg(got.v[i].close == strtod(txt, NULL), "bar %zu close", i);
    }
    tr_bars_free(&got);
    ck_assert_int_eq(tr_store_bars_put(s, "EURUSD", M15, b.v, 1, 0, NULL, &e), TR_ERR_UNSUPPORTED);
    tr_store_close(s);
    const int64_t last_t = b.v[b.n - 1].t;
    tr_bars_free(&b);

    /* a full retrain on the backend's bars, a second one with an A/B test, predictions */
    ck_assert_int_eq(run(f.dir,
                         "full --months 1 --hidden 8 --epochs 2 --patience 1 --quiet "
                         "--decision argmax --store '%s'", /* a 2-epoch net has no edge */
                         f.ci),
                     0);
    ck_assert_int_eq(run(f.dir,
                         "full --months 1 --hidden 8 --epochs 2 --patience 1 --quiet --ab "
                         "--decision argmax --store '%s'",
                         f.ci),
                     0);
    for (int i = 0; i < 3; i++)
        ck_assert_msg(run(f.dir, "predict --pair EURUSD --store '%s'", f.ci) == 0, "predict");
    s = open_ok(f.ci);
    tr_registry reg;
    ck_assert_int_eq(tr_store_registry_read(s, &reg, &e), TR_OK);
    ck_assert_uint_eq(reg.n_versions, 2);
    ck_assert_uint_eq(reg.n_abtests, 1);
    const tr_version *v0 = &reg.versions[0];
    const tr_ab_test *ab = &reg.abtests[0];
    ck_assert_str_eq(ab->version_a, "v1.0");
    ck_assert_str_eq(ab->version_b, "v1.1");
    tr_signal *sigs;
    size_t n_sigs;
    ck_assert_int_eq(tr_store_signals_get(s, NULL, 0, INT64_MAX / 2, &sigs, &n_sigs, &e), TR_OK);
    ck_assert_uint_ge(n_sigs, 1);
    free(sigs);
    tr_store_close(s);

    /* the backend's tables: every row and column as they were */
    backend_sql(f.ci, backend_digest_sql, after, sizeof after);
    ck_assert_str_eq(after, before);
    /* the design's two columns, on the backend's trading_signals, NULL on its old rows */
    backend_sql(f.ci,
                "SELECT string_agg(column_name || ':' || data_type || ':' || "
                "coalesce(character_maximum_length::text, ''), ',' ORDER BY ordinal_position) FROM "
                "information_schema.columns WHERE table_schema = 'public' AND table_name = "
                "'trading_signals' AND column_name IN ('model_version', 'ab_test_id');",
                buf, sizeof buf);
    ck_assert_str_eq(buf, "model_version:character varying:50,ab_test_id:uuid:");
    ck_assert_int_eq(backend_value(f.ci, "SELECT count(*) FROM trading_signals WHERE "
                                         "model_version IS NULL AND ab_test_id IS NULL"),
                     4);

    /* the backend's own role: its tables and the design's views granted, nothing of the store's
     * schema */
    backend_sql(f.ci,
                "DO $$ BEGIN CREATE ROLE aifx_backend LOGIN; EXCEPTION WHEN duplicate_object THEN "
                "NULL; END $$; GRANT SELECT, INSERT, UPDATE ON market_data, trading_signals TO "
                "aifx_backend; GRANT USAGE ON SEQUENCE market_data_id_seq TO aifx_backend; GRANT "
                "SELECT ON model_training_log, model_ab_test, model_versions TO aifx_backend;",
                NULL, 0);
    char bk[4400];
    snprintf(bk, sizeof bk, "%s user=aifx_backend", f.ci);
    ck_assert_int_ne(
        pu_psql_path(bk, "public", "SELECT count(*) FROM aifx.model_versions;", NULL, 0), 0);

    /* the seed's queries, unchanged, as the backend's role */
    tr_sb w = {0};
    tr_sb_printf(&w, "SELECT count(*), count(actual_signal) FROM (%s) q;", daily_sql);
    backend_sql(bk, w.p, buf, sizeof buf);
    char want[512];
    snprintf(want, sizeof want, "%lld|3", n_day);
    ck_assert_str_eq(buf, want);
    tr_sb_free(&w);
    tr_sb_printf(&w, "SELECT count(*), count(label_signal) FROM (%s) q;", weekly_sql);
    backend_sql(bk, w.p, buf, sizeof buf);
    long long n_15 = backend_value(f.ci, "SELECT count(*) FROM market_data WHERE timestamp > "
                                         "NOW() - INTERVAL '3 months'");
    snprintf(want, sizeof want, "%lld|3", n_15); /* the older signal is 450 s from any bar */
    ck_assert_str_eq(buf, want);
    tr_sb_free(&w);
    /* the A/B lookup: our running test, with its uuid, its versions and A's share */
    char ab_uuid[64];
    backend_sql(f.ci, "SELECT id FROM aifx.model_ab_test WHERE test_id = 'ab1';", ab_uuid,
                sizeof ab_uuid);
    tr_sb_printf(&w,
                 "SELECT q.model_a_version || ',' || q.model_b_version || ',' || q.traffic_split "
                 "|| ',' || q.status || ',' || q.test_name || ',' || q.id || ',' || "
                 "q.model_a_predictions || ',' || q.model_b_predictions FROM (%s) q;",
                 ab_lookup_sql);
    backend_sql(bk, w.p, buf, sizeof buf);
    snprintf(want, sizeof want, "v1.0,v1.1,%.2f,running,ab1,%s,%lld,%lld", 1 - ab->split, ab_uuid,
             (long long)ab->n_pred_a, (long long)ab->n_pred_b);
    ck_assert_str_eq(buf, want);
    tr_sb_free(&w);
    /* the active version and its training figures */
    backend_sql(f.ci,
                "SELECT version || ',' || model_type || ',' || name FROM model_versions "
                "WHERE is_active = true;",
                buf, sizeof buf);
    ck_assert_str_eq(buf, "v1.0,full,v1.0");
    backend_sql(bk,
                "SELECT l.model_version || ',' || l.training_type || ',' || l.num_samples || ',' "
                "|| l.train_samples || ',' || l.val_loss || ',' || l.status || ',' || "
                "(v.training_log_id = l.id)::text FROM model_training_log l JOIN model_versions v "
                "ON v.version = l.model_version ORDER BY l.created_at, l.model_version LIMIT 1;",
                buf, sizeof buf);
    snprintf(want, sizeof want, "v1.0,full,%lld,%lld,%.6f,deployed,true",
             (long long)(v0->n_samples[0] + v0->n_samples[1] + v0->n_samples[2]),
             (long long)v0->n_samples[0], v0->figs[1].loss);
    ck_assert_str_eq(buf, want);
    /* the names and types of the design's DDL (its ENUMs as varchar, its TIMESTAMP as
     * timestamp without time zone) */
    view_types(f.ci, "model_training_log", buf, sizeof buf);
    ck_assert_str_eq(
        buf, "id uuid, model_version character varying(50), training_type character "
             "varying(20), data_start_date timestamp without time zone, data_end_date timestamp "
             "without time zone, num_samples integer, training_duration_seconds integer, "
             "train_samples integer, val_samples integer, test_samples integer, hyperparameters "
             "jsonb, train_loss numeric(10,6), val_loss numeric(10,6), test_loss numeric(10,6), "
             "train_accuracy numeric(5,4), val_accuracy numeric(5,4), test_accuracy "
             "numeric(5,4), precision numeric(5,4), recall numeric(5,4), f1_score numeric(5,4), "
             "backtest_win_rate numeric(5,4), backtest_sharpe_ratio numeric(6,4), "
             "backtest_max_drawdown numeric(6,4), backtest_total_pnl numeric(12,2), status "
             "character varying(20), error_message text, model_path character varying(255), "
             "scaler_path character varying(255), metadata_path character varying(255), "
             "created_at timestamp without time zone, updated_at timestamp without time zone");
    view_types(f.ci, "model_versions", buf, sizeof buf);
    ck_assert_str_eq(
        buf, "id uuid, version character varying(50), name character varying(100), description "
             "text, model_type character varying(20), parent_version character varying(50), "
             "trained_at timestamp without time zone, training_log_id uuid, is_active boolean, "
             "deployed_at timestamp without time zone, production_predictions integer, "
             "production_win_rate numeric(5,4), production_avg_pnl numeric(10,2), "
             "production_sharpe_ratio numeric(6,4), stage1_model_path character varying(255), "
             "stage2_model_path character varying(255), scaler_path character varying(255), "
             "features_path character varying(255), metadata_path character varying(255), "
             "deprecated_at timestamp without time zone, deprecated_reason text, created_at "
             "timestamp without time zone, updated_at timestamp without time zone");
    view_types(f.ci, "model_ab_test", buf, sizeof buf);
    ck_assert_str_eq(
        buf, "id uuid, test_name character varying(100), model_a_version character varying(50), "
             "model_b_version character varying(50), traffic_split numeric(3,2), start_date "
             "timestamp without time zone, end_date timestamp without time zone, "
             "model_a_predictions integer, model_b_predictions integer, model_a_win_rate "
             "numeric(5,4), model_b_win_rate numeric(5,4), model_a_avg_pnl numeric(10,2), "
             "model_b_avg_pnl numeric(10,2), p_value numeric(6,5), is_significant boolean, "
             "winner character varying(50), status character varying(20), created_at timestamp "
             "without time zone, updated_at timestamp without time zone");
    /* the backend records its own signal with the design's columns, the test's uuid from the
     * view satisfying its foreign key */
    backend_sql(bk,
                "INSERT INTO trading_signals (pair, timeframe, signal, confidence, model_version, "
                "ab_test_id) SELECT 'EUR/USD', '15min', 'hold', 0.5, model_b_version, id FROM "
                "model_ab_test WHERE status = 'running' ORDER BY created_at DESC LIMIT 1;",
                NULL, 0);
    ck_assert_int_ne(pu_psql_path(bk, "public",
                                  "INSERT INTO trading_signals (pair, timeframe, signal, "
                                  "ab_test_id) VALUES ('EUR/USD', '15min', 'hold', "
                                  "gen_random_uuid());",
                                  NULL, 0),
                     0);
    tr_registry_free(&reg);

    /* db migrate again changes nothing: no row, no view, no column */
    const char *catalog =
        "SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (SELECT c.relname || ':' || c.xmin || "
        "':' || coalesce((SELECT string_agg(r.xmin::text, ',') FROM pg_rewrite r WHERE r.ev_class "
        "= c.oid), '') AS x FROM pg_class c WHERE c.relnamespace IN ('public'::regnamespace, "
        "'aifx'::regnamespace) UNION ALL SELECT 'link:' || xmin FROM aifx.backend_link UNION ALL "
        "SELECT 'attr:' || attrelid::regclass || attname || xmin FROM pg_attribute WHERE attrelid "
        "= 'public.trading_signals'::regclass) s;";
    backend_sql(f.ci, catalog, before, sizeof before);
    ck_assert_int_eq(run(f.dir, "db migrate --store '%s'", f.ci), 0);
    ck_assert(tu_output_has(f.dir, "current; nothing to do"));
    ck_assert(!tu_output_has(f.dir, "beside the backend"));
    backend_sql(f.ci, catalog, after, sizeof after);
    ck_assert_str_eq(after, before);
    ck_assert_int_eq(run(f.dir,
                         "db migrate --store '%s' --backend-views --backend-signals --bars-from "
                         "market_data --bars-timeframes 15min=15m,1h=3600 --bars-pairs "
                         "EUR/USD=EURUSD --bars-notify",
                         f.ci),
                     0);
    ck_assert(!tu_output_has(f.dir, "beside the backend"));
    backend_sql(f.ci, catalog, after, sizeof after);
    ck_assert_str_eq(after, before);

    /* new_market_data: the collection service's next bar wakes the listeners */
    s = open_ok(f.ci);
    wake wk = {bk, "", 0}; /* the collection service as the backend's role */
    const char *channels[] = {"new_market_data"};
    ck_assert_int_eq(tr_store_listen(s, channels, 1, 30, on_wake, &wk, &e), TR_OK);
    ck_assert(wk.inserted);
    char ts[32];
    tr_time_format(last_t + M15, ts, sizeof ts);
    snprintf(want, sizeof want,
             "{\"pair\":\"EURUSD\",\"timeframe\":\"15m\",\"n_added\":1,\"first\":\"%s\","
             "\"last\":\"%s\"}",
             ts, ts);
    ck_assert_str_eq(wk.payload, want);
    tr_store_close(s);
    fx_close(&f);
}
END_TEST

/* ---- the design's views, without a server ---------------------------------------------------- */

/* Every column of the design's views that is made of a field names one (a field table changed
 * without its view would fail db migrate); names are unique; docs/schema.md names each. */
START_TEST(test_design_fields)
{
    char *path = tu_path(AIFX_DOCS_DIR, "schema.md");
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    static char doc[1 << 20];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    doc[n] = '\0';
    fclose(f);
    free(path);
    const char *sec = strstr(doc, "### 5.12");
    ck_assert_ptr_nonnull(sec);
    ck_assert_uint_eq(tr_n_design_views, 3);
    size_t n_fields = 0;
    for (size_t i = 0; i < tr_n_design_views; i++) {
        const tr_design_view *v = &tr_design_views[i];
        for (size_t j = 0; j < v->n_cols; j++) {
            const tr_design_column *c = &v->cols[j];
            tr_leaf leaf;
            if (c->key) {
                ck_assert_msg(c->rec && tr_schema_leaf(c->rec, c->key, &leaf) == 0,
                              "%s.%s: no field %s", v->name, c->name, c->key);
                n_fields++;
            }
            for (size_t k = 0; k < j; k++)
                ck_assert_str_ne(v->cols[k].name, c->name);
            ck_assert_msg(strstr(sec, c->name), "docs/schema.md 5.12 lacks %s.%s", v->name,
                          c->name);
        }
    }
    ck_assert_uint_ge(n_fields, 50); /* most columns are made of one field */
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("pg_backend");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_design_fields);
    tcase_add_test(tc, test_migrate_from_public);
    tcase_add_test(tc, test_backend);
    suite_add_tcase(s, tc);
    return s;
}

AIFX_CHECK_MAIN(suite)
