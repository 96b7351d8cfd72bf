-- 006_decision_rule.sql - a version's decision rule (docs/schema.md, section 6; docs/backtest.md,
-- "The decision rule").
--
-- A full version's probabilities are calibrated by one temperature and its signals decided by a
-- threshold chosen on its validation part; a version whose best rule earned nothing there is
-- marked no_edge and signals hold. Versions registered before this migration read as the
-- identity rule (temperature 0, counted as 1; threshold 0, plain argmax), as the directory
-- store reads its older lines.

ALTER TABLE model_versions
    ADD COLUMN rule_temperature float8 NOT NULL DEFAULT 0,
    ADD COLUMN rule_threshold   float8 NOT NULL DEFAULT 0,
    ADD COLUMN rule_no_edge     boolean NOT NULL DEFAULT false,
    ADD COLUMN rule_cost_aware  boolean NOT NULL DEFAULT false,
    ADD COLUMN rule_min_trades  bigint NOT NULL DEFAULT 0,
    ADD COLUMN rule_val_trades  bigint NOT NULL DEFAULT 0,
    ADD COLUMN rule_val_pips    float8 NOT NULL DEFAULT 'NaN',
    ADD COLUMN rule_ece_raw     float8 NOT NULL DEFAULT 'NaN',
    ADD COLUMN rule_ece_cal     float8 NOT NULL DEFAULT 'NaN';
