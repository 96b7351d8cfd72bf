-- 004_reported_outcomes.sql - outcomes reported by the backend (docs/schema.md, section 5).
--
-- The position monitor resolves each signal's outcome by simulating the trade rule on the stored
-- bars. The backend's position service may report the real result of a trade instead
-- (POST /v1/signals/{id}/outcome): that outcome takes precedence, is never changed by the
-- monitor again, and is marked here.

ALTER TABLE trading_signals
    ADD COLUMN outcome_reported boolean NOT NULL DEFAULT false;
