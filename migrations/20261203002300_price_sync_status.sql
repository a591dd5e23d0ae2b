-- The price sync also remembers the product status it last set per SKU (sellability: 1
-- enabled, 2 disabled, kept in `offered`/`published`; store 0, the admin scope).
ALTER TABLE price_pushed DROP CONSTRAINT price_pushed_kind_check;
ALTER TABLE price_pushed ADD CONSTRAINT price_pushed_kind_check
    CHECK (kind IN ('base', 'special', 'status'));
