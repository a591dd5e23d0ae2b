-- Never the wrong document (issue 8).

-- The draft an SAP approval procedure made of an order instead of the Sales Order: followed
-- until the approver decides, and never added a second time.
ALTER TABLE orders ADD COLUMN sap_draft_entry integer;
ALTER TABLE orders ADD COLUMN sap_draft_num integer;

-- No mapping is seeded behind the user's back any more: the one-time starter seed is gone.
-- Rows it wrote into existing databases stay, as ordinary mappings an admin can see and change.
DROP TABLE one_time_seeds;

-- At most one warehouse is where orders are booked; the API names the current one when a
-- second is marked, and this index keeps two concurrent changes from both succeeding.
CREATE UNIQUE INDEX mappings_one_order_default_warehouse ON mappings (kind)
    WHERE kind = 'warehouses' AND (value ->> 'order_default')::boolean;
