-- 002_cycle_lock_tokens.sql - fencing tokens for the cycle locks (docs/schema.md, section 5).
--
-- A cycle lock is a session advisory lock: the server drops it when the session ends, also when
-- the server restarts while a cycle is still training. Each take of a lock also increments that
-- lock's token here and the taker keeps the value; every registry commit made by a process that
-- holds cycle locks checks, in the commit's own transaction, that each token is still the one it
-- took. A run that lost its lock and was overtaken by another is refused at commit, so two runs
-- can never both commit.

CREATE TABLE cycle_lock_tokens (
    name   text PRIMARY KEY,     -- the lock's name: 'full', 'incremental', 'run-due', ...
    token  bigint NOT NULL,      -- 1, 2, ...: incremented by every take
    taken_at timestamptz NOT NULL DEFAULT now()
);
