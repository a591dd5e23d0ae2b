-- Intake: every verified webhook delivery, the orders it concerns, the outbox of work it
-- causes, and the exception queue. Events are never deleted: they are the audit trail that
-- finance and support reconstruct an order from.

CREATE TABLE webhook_events (
    id                 uuid PRIMARY KEY,
    -- Standard Webhooks `webhook-id`: the idempotency key of a delivery and its retries.
    webhook_id         text NOT NULL,
    envelope           text,
    event_type         text,
    increment_id       text,
    magento_entity_id  bigint,
    outcome            text NOT NULL CHECK (outcome IN ('accepted', 'invalid')),
    -- What the event did (accepted) or why it could not be used (invalid).
    effect             text NOT NULL,
    webhook_timestamp  timestamptz NOT NULL,
    received_at        timestamptz NOT NULL DEFAULT now(),
    headers            jsonb NOT NULL,
    body               bytea NOT NULL,
    CONSTRAINT webhook_events_webhook_id_key UNIQUE (webhook_id)
);
CREATE INDEX webhook_events_order_idx ON webhook_events (increment_id, received_at);

CREATE TABLE orders (
    increment_id         text PRIMARY KEY,
    magento_entity_id    bigint,
    status               text NOT NULL,
    customer_email       text,
    currency             text,
    grand_total          numeric(20, 4),
    -- domain::order::Order as JSON; NULL while only a cancellation has arrived.
    canonical            jsonb,
    magento_created_at   timestamptz,
    cancel_requested_at  timestamptz,
    sap_doc_entry        integer,
    sap_doc_num          integer,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_status_idx ON orders (status, updated_at);
CREATE INDEX orders_email_idx ON orders (lower(customer_email));

-- The transactional outbox: written in the same transaction as the event that causes it.
CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    increment_id  text NOT NULL REFERENCES orders (increment_id),
    kind          text NOT NULL CHECK (kind IN ('post_order', 'cancel_order')),
    event_id      uuid REFERENCES webhook_events (id),
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'running', 'done', 'parked')),
    -- Incremented on every claim; the fencing token of the worker holding the lease.
    attempt       integer NOT NULL DEFAULT 0,
    run_after     timestamptz NOT NULL DEFAULT now(),
    locked_until  timestamptz,
    locked_by     text,
    last_error    jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz
);
CREATE INDEX outbox_ready_idx ON outbox (run_after, id) WHERE status = 'pending';
-- Per-order ordering: a job runs only when every earlier job of its order is done.
CREATE INDEX outbox_order_idx ON outbox (increment_id, id);
-- A redelivered or repeated event can never enqueue the same work twice.
CREATE UNIQUE INDEX outbox_one_open_per_kind ON outbox (increment_id, kind)
    WHERE status IN ('pending', 'running', 'parked');

CREATE TABLE exceptions (
    id                  uuid PRIMARY KEY,
    category            text NOT NULL,
    owner_team          text NOT NULL,
    impact              text NOT NULL,
    status              text NOT NULL DEFAULT 'open'
                        CHECK (status IN ('open', 'retrying', 'resolved', 'ignored')),
    title               text NOT NULL,
    detail              text NOT NULL,
    order_increment_id  text,
    skus                text[] NOT NULL DEFAULT '{}',
    sap_error           jsonb,
    -- The same problem for the same order is one row with a count, not a thousand rows.
    dedup_key           text NOT NULL,
    occurrences         integer NOT NULL DEFAULT 1,
    event_id            uuid REFERENCES webhook_events (id),
    context             jsonb NOT NULL DEFAULT '{}',
    first_seen_at       timestamptz NOT NULL DEFAULT now(),
    last_seen_at        timestamptz NOT NULL DEFAULT now(),
    resolved_at         timestamptz,
    resolved_by         text,
    note                text
);
CREATE UNIQUE INDEX exceptions_open_dedup ON exceptions (dedup_key)
    WHERE status IN ('open', 'retrying');
CREATE INDEX exceptions_newest_idx ON exceptions (first_seen_at DESC, id DESC);
CREATE INDEX exceptions_order_idx ON exceptions (order_increment_id);
