-- Runs: every scheduled or manual run of a periodic job (stock sync now; prices, status,
-- backfill, reconcile later). A run is executed as an outbox job whose subject is the run's
-- id, so it gets the worker pool's lease, takeover and retries.
CREATE TABLE runs (
    id           uuid PRIMARY KEY,
    kind         text NOT NULL,
    -- schedule | api | cli
    trigger      text NOT NULL,
    -- The token name (api), 'scheduler' or 'cli'.
    requested_by text NOT NULL,
    status       text NOT NULL DEFAULT 'queued'
                 CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    -- What the run did (counts, requests made); its shape is the kind's.
    figures      jsonb NOT NULL DEFAULT '{}',
    error        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz
);
-- One run of a kind at a time across all processes: a second start conflicts here.
CREATE UNIQUE INDEX runs_one_active_per_kind ON runs (kind) WHERE status IN ('queued', 'running');
-- Newest first, for the list and its cursor.
CREATE INDEX runs_newest_idx ON runs (created_at DESC, id DESC);
CREATE INDEX runs_kind_newest_idx ON runs (kind, created_at DESC, id DESC);

-- What the stock sync last sent to Magento, per SKU and MSI source (legacy mode: the source
-- '(legacy)'). Only what Magento accepted is `pushed`; a row Magento refused is `rejected`
-- with the quantity that was refused, so it is not offered again until that quantity
-- changes or a full pass runs.
CREATE TABLE stock_pushed (
    sku          text NOT NULL,
    source_code  text NOT NULL,
    quantity     numeric NOT NULL,
    in_stock     boolean NOT NULL,
    outcome      text NOT NULL CHECK (outcome IN ('pushed', 'rejected')),
    run_id       uuid,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sku, source_code)
);
