-- Tier prices (volume discounts) are remembered per quantity: `quantity` joins the key
-- (0 for every other kind); `store_id` holds a tier price's Magento website id.
ALTER TABLE price_pushed ADD COLUMN quantity numeric NOT NULL DEFAULT 0;
ALTER TABLE price_pushed DROP CONSTRAINT price_pushed_pkey;
ALTER TABLE price_pushed ADD PRIMARY KEY (sku, store_id, kind, quantity);
ALTER TABLE price_pushed DROP CONSTRAINT price_pushed_kind_check;
ALTER TABLE price_pushed ADD CONSTRAINT price_pushed_kind_check
    CHECK (kind IN ('base', 'special', 'status', 'tier'));
