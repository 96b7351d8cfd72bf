-- 007_jobs.sql - the job queue (docs/schema.md, section 5.14; docs/operations.md, "A job queue on
-- PostgreSQL").
--
-- A scheduler step (aifx-train enqueue-due) inserts one job per due slot, unique on (family,
-- cycle, slot_time), so two schedulers on two hosts never enqueue a slot twice (INSERT ... ON
-- CONFLICT DO NOTHING). Workers claim the first runnable job with SELECT ... FOR UPDATE SKIP
-- LOCKED feeding an UPDATE in one statement, and hold it by a lease on the server's clock
-- (leased_until) that they renew by heartbeat; a job whose lease lapsed is claimed again by
-- another worker. Every claim increments `lease`, the fencing generation: a heartbeat, a
-- completion, a failure and the registry commit that completes the job are accepted only under
-- the generation their worker claimed, so a stalled worker's late commit never lands.
-- States: queued (waiting for run_after), running (leased), done, failed (an attempt failed; runs
-- again at run_after), dead (max_attempts reached; kept with its error until `jobs retry`).

CREATE TYPE job_state AS ENUM ('queued', 'running', 'done', 'failed', 'dead');

CREATE TABLE jobs (
    id           bigserial PRIMARY KEY,
    family       text NOT NULL DEFAULT 'default',    -- model family (one today)
    cycle        text NOT NULL,                      -- full, incremental, rank, abtest, drift
    slot_time    timestamptz NOT NULL,               -- the slot; the cycle runs as of it
    state        job_state NOT NULL DEFAULT 'queued',
    attempts     integer NOT NULL DEFAULT 0,         -- claims so far
    max_attempts integer NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
    run_after    timestamptz NOT NULL DEFAULT now(), -- not claimed before (retry backoff)
    lease        bigint NOT NULL DEFAULT 0,          -- fencing generation: incremented by every claim
    leased_until timestamptz,                        -- the claim lapses then (server clock)
    leased_by    text NOT NULL DEFAULT '',           -- host:pid of the holder, for operators
    last_error   text NOT NULL DEFAULT '',           -- the last failure; never a secret
    created_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,                        -- done or dead
    result       text NOT NULL DEFAULT '',           -- the cycle's one-line outcome
    UNIQUE (family, cycle, slot_time)
);

-- the claim's scan: runnable jobs in slot order
CREATE INDEX jobs_runnable ON jobs (slot_time, id) WHERE state IN ('queued', 'failed', 'running');
