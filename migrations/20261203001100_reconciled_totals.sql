-- Reconciliation: each Magento order's total as the last reconciliation run saw it in both
-- systems, so the daily report can set the day's Magento grand totals against SAP B1's
-- DocTotals without calling either system. One row per order, overwritten by every run.
CREATE TABLE reconciled_totals (
    increment_id         text PRIMARY KEY,
    magento_created_at   timestamptz NOT NULL,
    magento_state        text,
    currency             text NOT NULL,
    magento_grand_total  numeric(20, 4) NOT NULL,
    -- The one live SAP Sales Order's DocTotal (its FC twin on a foreign-currency document);
    -- NULL when SAP has none, or more than one.
    sap_doc_total        numeric(20, 4),
    sap_doc_num          integer,
    checked_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reconciled_totals_day_idx ON reconciled_totals (magento_created_at);
