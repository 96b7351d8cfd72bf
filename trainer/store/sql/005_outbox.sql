-- 005_outbox.sql - the outbox of notifications and its delivery state (docs/schema.md, section 5.13;
-- docs/operations.md, "Notifications").
--
-- A registry commit inserts the events it announces into outbox in its own transaction (after
-- taking the registry's transaction lock, so ids ascend in commit order with no gap): an event
-- exists if and only if its change committed. Senders deliver them to webhook sinks:
-- outbox_sink holds one row per sink, its lease (a sender claims a sink with
-- SELECT ... FOR UPDATE SKIP LOCKED and a lease that lapses, the fencing token `lease` counting
-- the claims) and how far it got; outbox_delivery one row per (sink, event) tried.

CREATE TABLE outbox (
    event_id     bigint PRIMARY KEY,                 -- 1, 2, ...: max + 1 under the registry lock
    kind         text NOT NULL,                      -- training_completed, model_deployed, ...
    created_at   timestamptz,                        -- the transaction's time
    payload_json text NOT NULL DEFAULT '',           -- a JSON object, verbatim
    payload      jsonb GENERATED ALWAYS AS (aifx_jsonb_or_null(payload_json)) STORED
);

CREATE TABLE outbox_sink (
    sink         text PRIMARY KEY,                   -- "discord-1f0c...", "ops", ...
    start_after  bigint NOT NULL DEFAULT 0,          -- events up to it predate the sink
    done_through bigint NOT NULL DEFAULT 0,          -- events up to it delivered or given up
    delivered    bigint NOT NULL DEFAULT 0,
    given_up     bigint NOT NULL DEFAULT 0,
    lease        bigint NOT NULL DEFAULT 0,          -- fencing token: incremented by every claim
    leased_until timestamptz,                        -- the claim lapses then (server clock)
    leased_by    text NOT NULL DEFAULT '',           -- host:pid of the holder, for operators
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TYPE delivery_state AS ENUM ('retry', 'delivered', 'given_up');

CREATE TABLE outbox_delivery (
    sink         text NOT NULL REFERENCES outbox_sink (sink) ON DELETE CASCADE,
    event_id     bigint NOT NULL REFERENCES outbox (event_id),
    state        delivery_state NOT NULL,
    attempts     integer NOT NULL,
    first_at     timestamptz NOT NULL,
    last_at      timestamptz NOT NULL,
    next_at      timestamptz,                        -- state retry: not before
    http_status  integer NOT NULL DEFAULT 0,         -- 0: no answer
    error        text NOT NULL DEFAULT '',           -- never a URL
    PRIMARY KEY (sink, event_id)
);
