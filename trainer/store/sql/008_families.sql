-- 008_families.sql - model families (docs/families.md; docs/schema.md, section 5.15).
--
-- A family is a named set of pairs at one timeframe with its own settings and its own lineage of
-- versions: v1.0, v1.1, ... per family, one active version per family, its own training log,
-- activation history, A/B tests and signals. Every row of those tables gets the family it
-- belongs to; rows of stores made before this migration belong to 'default', the implicit
-- family that keeps a store's behaviour as it was. The program's own keys (version names, log,
-- activation and A/B test ids) become unique per family. The bars stay shared by (pair,
-- timeframe). The outbox keeps one sequence of events for the whole store (a sink receives
-- every family's events; their payloads name the family), and the registry's transaction lock
-- stays store-wide, which keeps the event ids gapless.

CREATE TABLE families (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_-]{0,62}$' AND name <> 'default'),
    definition  text NOT NULL,                           -- "key = value" lines, verbatim
    created_at  timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE trading_signals DROP CONSTRAINT IF EXISTS trading_signals_ab_test_id_fkey;

ALTER TABLE model_versions ADD COLUMN family text NOT NULL DEFAULT 'default';
ALTER TABLE model_versions DROP CONSTRAINT model_versions_version_key,
    DROP CONSTRAINT model_versions_registered_no_key,
    ADD CONSTRAINT model_versions_family_version UNIQUE (family, version),
    ADD CONSTRAINT model_versions_family_registered_no UNIQUE (family, registered_no);
DROP INDEX model_versions_one_active;
CREATE UNIQUE INDEX model_versions_one_active ON model_versions (family) WHERE is_active;

ALTER TABLE model_training_log ADD COLUMN family text NOT NULL DEFAULT 'default';
ALTER TABLE model_training_log DROP CONSTRAINT model_training_log_log_id_key,
    ADD CONSTRAINT model_training_log_family_log_id UNIQUE (family, log_id);
DROP INDEX model_training_log_cycle;
CREATE INDEX model_training_log_cycle ON model_training_log (family, cycle, scheduled_for);

ALTER TABLE model_activations ADD COLUMN family text NOT NULL DEFAULT 'default';
ALTER TABLE model_activations DROP CONSTRAINT model_activations_activation_id_key,
    ADD CONSTRAINT model_activations_family_activation_id UNIQUE (family, activation_id);

ALTER TABLE model_ab_test ADD COLUMN family text NOT NULL DEFAULT 'default';
ALTER TABLE model_ab_test DROP CONSTRAINT model_ab_test_test_id_key,
    DROP CONSTRAINT model_ab_test_created_no_key,
    ADD CONSTRAINT model_ab_test_family_test_id UNIQUE (family, test_id),
    ADD CONSTRAINT model_ab_test_family_created_no UNIQUE (family, created_no);

ALTER TABLE trading_signals ADD COLUMN family text NOT NULL DEFAULT 'default';
ALTER TABLE trading_signals ADD CONSTRAINT trading_signals_ab_test
    FOREIGN KEY (family, ab_test_id) REFERENCES model_ab_test (family, test_id);
DROP INDEX trading_signals_pair_time;
CREATE INDEX trading_signals_pair_time ON trading_signals (family, pair, bar_time);
