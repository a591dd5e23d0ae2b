-- The claim takes the lowest-id pending jobs. Without an index that holds only pending rows in
-- id order, it walked the primary key from the oldest job and skipped every finished one:
-- finished jobs are kept, so each claim grew slower with the outbox's history (4 ms with
-- 20,000 finished jobs, and linear beyond). With this index it reads only what it claims.
CREATE INDEX outbox_pending_idx ON outbox (id) WHERE status = 'pending';

-- The claim also closes the parked posts a queued cancellation supersedes; parked jobs are
-- few, and this keeps that part from reading every open job.
CREATE INDEX outbox_parked_idx ON outbox (increment_id, id) WHERE status = 'parked';
