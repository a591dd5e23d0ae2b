-- What the price sync last offered Magento per SKU, store and kind (`base` price or `special`
-- price), what became of it, and the last price Magento accepted (what the shop sells at,
-- the guard rail's reference). A special price also remembers its window.
CREATE TABLE price_pushed (
    sku          text NOT NULL,
    store_id     bigint NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('base', 'special')),
    offered      numeric NOT NULL,
    price_from   text,
    price_to     text,
    outcome      text NOT NULL CHECK (outcome IN ('pushed', 'rejected', 'held')),
    published    numeric,
    run_id       uuid,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sku, store_id, kind)
);
