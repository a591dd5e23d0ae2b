-- A generic job queue: every job has an opaque `subject`, and jobs of one subject run one after
-- the other. An order job's subject is its order (`increment_id`, which keeps its foreign key
-- to `orders`); any other job (a stock sync run, later prices, status, backfill, reconcile)
-- names its subject in `other_subject` and has no order. `subject` is derived by Postgres, so
-- the intake's inserts, which name only the order, stay as they are and as fast.
ALTER TABLE outbox ALTER COLUMN increment_id DROP NOT NULL;
ALTER TABLE outbox ADD COLUMN other_subject text;
ALTER TABLE outbox ADD CONSTRAINT outbox_one_subject
    CHECK ((increment_id IS NULL) <> (other_subject IS NULL));
ALTER TABLE outbox ADD COLUMN subject text
    GENERATED ALWAYS AS (coalesce(increment_id, other_subject)) STORED;

-- Per-subject ordering for the claim: a job runs only when every earlier job of its subject
-- is done.
CREATE INDEX outbox_subject_idx ON outbox (subject, id);

-- Job kinds are the worker's (`JobKind`); a list here would have to be rewritten with every
-- new kind, and an unknown kind is refused when a job is read back anyway.
ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_kind_check;
