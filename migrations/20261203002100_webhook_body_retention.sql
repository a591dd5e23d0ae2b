-- Retention of the kept webhook bodies (issue 16). The event row stays for ever: it is the
-- audit trail (which delivery, when, what it did) and the idempotency key of its
-- `webhook-id`. Only the raw body goes, once nothing can still need it (see
-- `store::retention`); `body_purged_at` says when, and a purged body reads as NULL.
ALTER TABLE webhook_events ALTER COLUMN body DROP NOT NULL,
                           ADD COLUMN body_purged_at timestamptz;

-- The purge walks events by age. A BRIN index: events are appended in `received_at` order, so
-- block ranges summarise well, and ingest pays next to nothing for it (a B-tree here would be
-- a twelfth index written by every delivery).
CREATE INDEX webhook_events_received_brin ON webhook_events USING brin (received_at);

-- "Is an open exception about this event?" for events that name no order (payload_invalid).
CREATE INDEX exceptions_open_event_idx ON exceptions (event_id)
    WHERE status IN ('open', 'retrying') AND event_id IS NOT NULL;
