-- Outbox worker pool: retry rounds, superseded jobs, and the reaper's index.

-- An operator's retry starts a fresh retry budget without touching `attempt`, which must only
-- grow because it is the fencing token. The budget counts attempts since `retry_from_attempt`
-- and the age limit runs from `retry_since`.
ALTER TABLE outbox ADD COLUMN retry_from_attempt integer NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN retry_since timestamptz;
UPDATE outbox SET retry_since = created_at;
ALTER TABLE outbox ALTER COLUMN retry_since SET DEFAULT now();
ALTER TABLE outbox ALTER COLUMN retry_since SET NOT NULL;

-- A parked post_order job that a later cancel_order job of the same order made pointless is
-- closed as `done` with the cancel job's id here, so that the cancel is not blocked forever and
-- an operator's retry can never post an order that Magento has cancelled.
ALTER TABLE outbox ADD COLUMN superseded_by bigint REFERENCES outbox (id);

-- The reaper looks for running jobs whose lease ran out.
CREATE INDEX outbox_leases_idx ON outbox (locked_until) WHERE status = 'running';
