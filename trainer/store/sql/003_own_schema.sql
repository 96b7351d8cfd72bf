-- 003_own_schema.sql - everything of ours in a schema of our own (docs/schema.md, 5.11).
--
-- `aifx-train db migrate` runs every migration with search_path set to the store's schema
-- ($AIFX_PG_SCHEMA or --pg-schema, default aifx), which it creates when missing, so a new
-- database gets 001 to 003 there and nothing anywhere else. A store made by an earlier program
-- has its tables, types, function and schema_migrations in another schema (public, where
-- 001 and 002 landed by default): db migrate then finds its schema_migrations there, applies the
-- missing older migrations in that schema, and runs this one with aifx.legacy_schema naming it.
-- This moves every object into the store's schema with ALTER ... SET SCHEMA: rows, uuids,
-- identity sequences, indexes, constraints and generated columns go with their tables untouched,
-- so nothing is copied and nothing is lost. schema_migrations moves too, so the runner records
-- this migration beside the older ones.

DO $$
DECLARE
    legacy text := coalesce(current_setting('aifx.legacy_schema', true), '');
    target text := current_schema();
    t text;
BEGIN
    IF legacy = '' OR legacy = target THEN
        RETURN;
    END IF;
    FOREACH t IN ARRAY ARRAY['schema_migrations', 'market_data', 'model_versions',
                             'model_training_log', 'model_activations', 'model_ab_test',
                             'trading_signals', 'cycle_lock_tokens'] LOOP
        EXECUTE format('ALTER TABLE %I.%I SET SCHEMA %I', legacy, t, target);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['training_type', 'version_status', 'log_status', 'signal_type',
                             'signal_outcome', 'ab_status'] LOOP
        EXECUTE format('ALTER TYPE %I.%I SET SCHEMA %I', legacy, t, target);
    END LOOP;
    EXECUTE format('ALTER FUNCTION %I.aifx_jsonb_or_null(text) SET SCHEMA %I', legacy, target);
END
$$;

-- ---- living beside the backend's tables (docs/schema.md, 5.12) --------------------------------
-- `db migrate --backend-views`, `--backend-signals` and `--bars-from` record what they set up
-- here (one row), so that every process of the store agrees and a second db migrate changes
-- nothing. The views, the bars view and the opt-in trigger are created by db migrate from this
-- row (their SQL names the operator's schema and columns), not by a numbered migration.
CREATE TABLE backend_link (
    one             boolean PRIMARY KEY DEFAULT true CHECK (one),
    backend_schema  text NOT NULL DEFAULT 'public',   -- where the design's views are
    views           boolean NOT NULL DEFAULT false,   -- model_training_log, model_ab_test,
                                                      -- model_versions views there
    views_version   integer NOT NULL DEFAULT 0,       -- of their definition, this program's
    signals         boolean NOT NULL DEFAULT false,   -- the design's two columns added to
                                                      -- <backend_schema>.trading_signals
    bars_table      text NOT NULL DEFAULT '',         -- '' = our own market_data
    col_pair        text NOT NULL DEFAULT 'pair',
    col_timeframe   text NOT NULL DEFAULT 'timeframe',
    col_timestamp   text NOT NULL DEFAULT 'timestamp',
    col_open        text NOT NULL DEFAULT 'open',
    col_high        text NOT NULL DEFAULT 'high',
    col_low         text NOT NULL DEFAULT 'low',
    col_close       text NOT NULL DEFAULT 'close',
    col_volume      text NOT NULL DEFAULT 'volume',
    bars_notify     boolean NOT NULL DEFAULT false    -- a trigger on the backend's table sends
                                                      -- new_market_data
);
-- How the backend's table writes a timeframe and a pair, when not as ours (seconds; EURUSD).
CREATE TABLE backend_timeframes (
    label   text PRIMARY KEY,                         -- '15min', '1h', ...
    seconds integer NOT NULL CHECK (seconds > 0)
);
CREATE TABLE backend_pairs (
    label   text PRIMARY KEY,                         -- 'EUR/USD'
    pair    text NOT NULL                             -- 'EURUSD'
);

-- A figure for a column of the design's fixed-point type: NULL when it does not fit (NaN, the
-- infinities, or beyond the type's largest value lim), so that the cast never fails a query.
CREATE FUNCTION aifx_fits(x float8, lim float8) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN x = x AND abs(x) <= lim THEN x END $$;
