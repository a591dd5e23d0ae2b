-- Refunds (issue 11, second part): a partial refund of an un-invoiced order may reduce its
-- Sales Order line by line (`order_reduced`), and an online refund may be paid out of SAP
-- with an outgoing payment applied to its credit memo (`refunds.outgoing_payment`).
ALTER TABLE refunds DROP CONSTRAINT refunds_status_check;
ALTER TABLE refunds ADD CONSTRAINT refunds_status_check
    CHECK (status IN ('queued', 'waiting', 'posted', 'order_closed', 'order_reduced', 'parked'));
-- The outgoing payment (`VendorPayments`, DocType rCustomer) b1bridge made or found for the
-- credit memo, and when.
ALTER TABLE refunds
    ADD COLUMN payment_doc_entry integer,
    ADD COLUMN payment_doc_num   integer,
    ADD COLUMN paid_at           timestamptz;
