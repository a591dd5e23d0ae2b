-- Refunds (issue 11): every Magento credit memo b1bridge received, its canonical form and
-- the SAP A/R credit memo it became. Keyed by Magento's credit memo `entity_id`, which is
-- unique across stores (increment ids are unique only per store).
CREATE TABLE refunds (
    magento_entity_id   bigint PRIMARY KEY,
    credit_memo_id      text NOT NULL,
    -- The order's Magento entity id (`order_id` on the credit memo) and, once known, its
    -- increment id (the event's `data.order`, or the order b1bridge stored under that id).
    magento_order_id    bigint NOT NULL,
    order_increment_id  text,
    -- queued: a worker will post it; waiting: SAP has no invoice for the order yet, a check
    -- is queued; posted: the credit note exists; order_closed: the whole un-invoiced Sales
    -- Order was refunded and closed instead (setting `refunds.close_uninvoiced_order`);
    -- parked: an exception holds it.
    status              text NOT NULL
                        CHECK (status IN ('queued', 'waiting', 'posted', 'order_closed', 'parked')),
    -- domain::refund::Refund as JSON.
    canonical           jsonb NOT NULL,
    currency            text,
    grand_total         numeric(20, 4) NOT NULL,
    event_id            uuid REFERENCES webhook_events (id),
    sap_doc_entry       integer,
    sap_doc_num         integer,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    posted_at           timestamptz
);
CREATE INDEX refunds_order_idx ON refunds (order_increment_id);
CREATE INDEX refunds_magento_order_idx ON refunds (magento_order_id);
CREATE INDEX refunds_status_idx ON refunds (status, updated_at);
