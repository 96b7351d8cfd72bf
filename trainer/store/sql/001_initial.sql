-- 001_initial.sql - the original design's tables on PostgreSQL's own types (docs/schema.md,
-- section 5). Applied by `aifx-train db migrate` inside one transaction, which also records it
-- in schema_migrations. Never edit a migration that has shipped: add 002_..., 003_...
--
-- Conventions: every table has a uuid primary key (gen_random_uuid(), built into PostgreSQL 13
-- and later); the program's own keys (version names, log and activation ids, signal numbers, A/B
-- test ids) are unique columns beside it. Times are timestamptz; a time the program holds as 0
-- ("never") is NULL. Every figure is a float8 column or a float8[] array, which keep NaN and the
-- infinities and every bit of a double; JSON documents are kept verbatim in a text column (the
-- program reads back exactly what it wrote) with a jsonb column generated from it for queries
-- (NULL when the text is empty or not JSON).

CREATE TABLE schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TYPE training_type  AS ENUM ('full', 'incremental');
CREATE TYPE version_status AS ENUM ('training', 'completed', 'failed', 'deployed');
CREATE TYPE log_status     AS ENUM ('completed', 'skipped', 'failed');
CREATE TYPE signal_type    AS ENUM ('hold', 'buy', 'sell');
CREATE TYPE signal_outcome AS ENUM ('open', 'win', 'loss', 'none');
CREATE TYPE ab_status      AS ENUM ('running', 'completed', 'stopped');

-- The jsonb view of a verbatim JSON text: NULL for '' or text that is not JSON.
CREATE FUNCTION aifx_jsonb_or_null(t text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    IF t IS NULL OR t = '' THEN
        RETURN NULL;
    END IF;
    RETURN t::jsonb;
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$$;

-- ---- market data -----------------------------------------------------------------------------
CREATE TABLE market_data (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    pair        text NOT NULL,
    timeframe   integer NOT NULL CHECK (timeframe > 0),   -- seconds (900 = 15m)
    "timestamp" timestamptz NOT NULL,                     -- the bar's open time
    open        float8 NOT NULL,
    high        float8 NOT NULL,
    low         float8 NOT NULL,
    close       float8 NOT NULL,
    volume      float8 NOT NULL,
    CONSTRAINT market_data_bar UNIQUE (pair, timeframe, "timestamp")
);
-- The unique constraint's index (pair, timeframe, timestamp) serves every bar query.

-- ---- the registry ----------------------------------------------------------------------------
CREATE TABLE model_versions (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    version             text NOT NULL UNIQUE,
    registered_no       bigint NOT NULL UNIQUE,           -- registration order, 1, 2, ...
    type                training_type NOT NULL,
    parent_version      text NOT NULL DEFAULT '',
    status              version_status NOT NULL,
    trained_at          timestamptz,
    as_of               timestamptz,
    data_from           timestamptz,
    data_to             timestamptz,
    n_samples           bigint[] NOT NULL,                -- train, val, test
    hyperparameters_json text NOT NULL DEFAULT '',        -- verbatim
    hyperparameters     jsonb GENERATED ALWAYS AS (aifx_jsonb_or_null(hyperparameters_json)) STORED,
    class_weight        float8[] NOT NULL,                -- hold, buy, sell
    epochs              integer NOT NULL,
    best_epoch          integer NOT NULL,
    training_seconds    float8 NOT NULL,
    checkpoint_path     text NOT NULL DEFAULT '',         -- relative to the models directory
    checkpoint_crc32    bigint NOT NULL,
    checkpoint_size     bigint NOT NULL,
    is_active           boolean NOT NULL DEFAULT false,
    deployed_at         timestamptz,
    deprecated_at       timestamptz,
    deprecation_reason  text NOT NULL DEFAULT '',
    error_message       text NOT NULL DEFAULT '',
    -- classification figures per split (train, val, test): the main ones as columns ...
    train_n bigint NOT NULL, train_loss float8 NOT NULL, train_accuracy float8 NOT NULL,
    train_macro_f1 float8 NOT NULL,
    train_precision float8[] NOT NULL, train_recall float8[] NOT NULL, train_f1 float8[] NOT NULL,
    train_confusion bigint[] NOT NULL,                    -- 3x3 [true][predicted], row-major
    train_buy_share float8 NOT NULL, train_sell_share float8 NOT NULL,
    train_true_buy_share float8 NOT NULL, train_true_sell_share float8 NOT NULL,
    val_n bigint NOT NULL, val_loss float8 NOT NULL, val_accuracy float8 NOT NULL,
    val_macro_f1 float8 NOT NULL,
    val_precision float8[] NOT NULL, val_recall float8[] NOT NULL, val_f1 float8[] NOT NULL,
    val_confusion bigint[] NOT NULL,
    val_buy_share float8 NOT NULL, val_sell_share float8 NOT NULL,
    val_true_buy_share float8 NOT NULL, val_true_sell_share float8 NOT NULL,
    test_n bigint NOT NULL, test_loss float8 NOT NULL, test_accuracy float8 NOT NULL,
    test_macro_f1 float8 NOT NULL,
    test_precision float8[] NOT NULL, test_recall float8[] NOT NULL, test_f1 float8[] NOT NULL,
    test_confusion bigint[] NOT NULL,
    test_buy_share float8 NOT NULL, test_sell_share float8 NOT NULL,
    test_true_buy_share float8 NOT NULL, test_true_sell_share float8 NOT NULL,
    -- ... and the backtest (on the test part; incremental: the gate window)
    bt_trades bigint NOT NULL, bt_wins bigint NOT NULL, bt_n_signals bigint NOT NULL,
    bt_n_bars bigint NOT NULL,
    bt_win_rate float8 NOT NULL, bt_total_pips float8 NOT NULL, bt_avg_pips float8 NOT NULL,
    bt_total_return float8 NOT NULL, bt_sharpe float8 NOT NULL, bt_sortino float8 NOT NULL,
    bt_max_drawdown float8 NOT NULL, bt_profit_factor float8 NOT NULL,
    bt_signal_freq float8 NOT NULL,
    -- training curves, one element per epoch of the whole run
    n_history           integer NOT NULL DEFAULT 0,
    hist_train_loss     float4[] NOT NULL DEFAULT '{}',
    hist_val_loss       float4[] NOT NULL DEFAULT '{}',
    hist_val_macro_f1   float4[] NOT NULL DEFAULT '{}',
    hist_lr             float4[] NOT NULL DEFAULT '{}'
);
-- At most one active version, enforced by the database as well as by tr_registry_apply.
CREATE UNIQUE INDEX model_versions_one_active ON model_versions (is_active) WHERE is_active;
CREATE INDEX model_versions_type ON model_versions (type);

CREATE TABLE model_training_log (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    log_id          bigint NOT NULL UNIQUE,               -- the program's id, 1, 2, ...
    cycle           text NOT NULL,                        -- full, incremental, rank, ...
    scheduled_for   timestamptz,                          -- the cycle's as-of time
    started_at      timestamptz,
    finished_at     timestamptz,
    status          log_status NOT NULL,
    reason          text NOT NULL DEFAULT '',
    version         text NOT NULL DEFAULT '',             -- produced, '' for none
    parent_version  text NOT NULL DEFAULT '',
    verdict         text NOT NULL DEFAULT '',
    gate_metric     text NOT NULL DEFAULT '',
    candidate_value float8 NOT NULL,                      -- NaN when not evaluated
    active_value    float8 NOT NULL,
    error_message   text NOT NULL DEFAULT ''
);
CREATE INDEX model_training_log_cycle ON model_training_log (cycle, scheduled_for);

CREATE TABLE model_activations (                          -- append-only
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    activation_id   bigint NOT NULL UNIQUE,
    from_version    text NOT NULL DEFAULT '',             -- '' when nothing was active
    to_version      text NOT NULL,
    activated_at    timestamptz,
    reason          text NOT NULL,
    evidence_json   text NOT NULL DEFAULT '',             -- verbatim
    evidence        jsonb GENERATED ALWAYS AS (aifx_jsonb_or_null(evidence_json)) STORED
);

CREATE TABLE model_ab_test (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    test_id         text NOT NULL UNIQUE,                 -- "ab1", "ab2", ...
    created_no      bigint NOT NULL UNIQUE,               -- creation order, 1, 2, ...
    version_a       text NOT NULL,                        -- control
    version_b       text NOT NULL,                        -- challenger
    pairs           text NOT NULL DEFAULT '',             -- sorted, comma-separated; '' = all
    split           float8 NOT NULL,                      -- share of bars assigned to B
    seed            numeric(20, 0) NOT NULL CHECK (seed >= 0 AND seed < 18446744073709551616),
    started_at      timestamptz,
    planned_end     timestamptz,
    min_trades      bigint NOT NULL,
    status          ab_status NOT NULL,
    ended_at        timestamptz,
    origin          text NOT NULL DEFAULT '',
    verdict         text NOT NULL DEFAULT '',
    end_reason      text NOT NULL DEFAULT '',
    n_looks         integer NOT NULL DEFAULT 0,
    look_frac       float8[] NOT NULL DEFAULT '{}',
    n_pred_a        bigint NOT NULL DEFAULT 0,
    n_pred_b        bigint NOT NULL DEFAULT 0,
    result_json     text NOT NULL DEFAULT '',             -- verbatim
    result          jsonb GENERATED ALWAYS AS (aifx_jsonb_or_null(result_json)) STORED
);
CREATE INDEX model_ab_test_status ON model_ab_test (status);

-- ---- trading signals -------------------------------------------------------------------------
CREATE TABLE trading_signals (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    signal_no       bigint GENERATED ALWAYS AS IDENTITY UNIQUE, -- the program's id, 1, 2, ...
    pair            text NOT NULL,
    timeframe       integer NOT NULL,
    bar_time        timestamptz NOT NULL,
    signal          signal_type NOT NULL,
    confidence      float8 NOT NULL,
    prob_hold       float8 NOT NULL,
    prob_buy        float8 NOT NULL,
    prob_sell       float8 NOT NULL,
    model_version   text NOT NULL,
    ab_test_id      text REFERENCES model_ab_test (test_id),   -- NULL outside an A/B test
    created_at      timestamptz,
    actual_outcome  signal_outcome NOT NULL DEFAULT 'open',
    exit_time       timestamptz,
    exit_price      float8 NOT NULL DEFAULT 0,
    pnl_pips        float8 NOT NULL DEFAULT 0,
    pnl_percent     float8 NOT NULL DEFAULT 0
);
CREATE INDEX trading_signals_pair_time ON trading_signals (pair, bar_time);
CREATE INDEX trading_signals_bar_time ON trading_signals (bar_time);
CREATE INDEX trading_signals_model_version ON trading_signals (model_version);
CREATE INDEX trading_signals_ab_test ON trading_signals (ab_test_id) WHERE ab_test_id IS NOT NULL;
