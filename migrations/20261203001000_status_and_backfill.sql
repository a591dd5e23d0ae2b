-- Status back to Magento and the missed-webhook poll (docs/status-sync.md).

-- Where a cursor-based run stopped: the status run's last handled SAP delivery
-- (`status.delivery_doc_entry`), the poll's last Magento `updated_at` (`backfill.updated_at`).
-- Advanced only over work that is finished, so a failed run resumes where it stopped.
CREATE TABLE sync_cursors (
    name        text PRIMARY KEY,
    value       text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per SAP delivery and order it ships: the claim that makes each delivery a Magento
-- shipment once only, whatever the number of processes and restarts. A row is written
-- (`sending`) before `POST /V1/order/{id}/ship`; a `sending` row found later (a crash, a lost
-- answer) is settled by reading the order's shipped quantities, never by sending blindly.
CREATE TABLE magento_shipments (
    delivery_doc_entry   integer NOT NULL,
    increment_id         text NOT NULL REFERENCES orders (increment_id),
    delivery_doc_num     integer NOT NULL,
    magento_order_id     bigint NOT NULL,
    -- [{"order_item_id": n, "qty": "1"}], what the shipment carries.
    items                jsonb NOT NULL,
    tracking_number      text,
    state                text NOT NULL CHECK (state IN ('sending', 'sent', 'rejected')),
    magento_shipment_id  bigint,
    error                text,
    claimed_at           timestamptz NOT NULL DEFAULT now(),
    finished_at          timestamptz,
    PRIMARY KEY (delivery_doc_entry, increment_id)
);
CREATE INDEX magento_shipments_order_idx ON magento_shipments (increment_id);

-- The "posted to SAP B1 as DocNum n" comment on each Magento order, once.
CREATE TABLE magento_comments (
    increment_id   text PRIMARY KEY REFERENCES orders (increment_id),
    doc_num        integer NOT NULL,
    state          text NOT NULL CHECK (state IN ('sending', 'sent', 'rejected')),
    error          text,
    claimed_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz
);
-- Posted orders still waiting for their comment.
CREATE INDEX orders_posted_idx ON orders (sap_doc_entry) WHERE sap_doc_entry IS NOT NULL;
