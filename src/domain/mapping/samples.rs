//! Real Magento orders (copied from `shared/samples/magento/` into `tests/fixtures/magento/`)
//! and the fixtures the mapping tests share.
use crate::domain::ids::ItemCode;
use crate::domain::magento_order::normalise;
use crate::domain::mappings::Mappings;
use crate::domain::order::Order;
use crate::domain::sales_order::ItemFacts;

/// Order 000000019: guest, one configurable (WP13-28-Blue), flat rate 5, no tax, total 54.
pub const GUEST_CONFIGURABLE: &str =
    include_str!("../../../tests/fixtures/magento/rest-order-guest-configurable.json");
/// Order 000000020: guest, coupon, 100 % item discount and free shipping, grand_total 0.
pub const GUEST_FULL_DISCOUNT: &str =
    include_str!("../../../tests/fixtures/magento/rest-order-guest-coupon-full-discount.json");
/// Order 000000003: registered, simple + downloadable + priced bundle + configurable, 165.
pub const BUNDLE: &str = include_str!(
    "../../../tests/fixtures/magento/rest-order-registered-bundle-configurable-downloadable.json"
);
/// Order 000000013: registered (id 1), configurable qty 2 + RACER, 8.25 % tax, 396.87.
pub const CONFIGURABLE_TAX: &str = include_str!(
    "../../../tests/fixtures/magento/rest-order-registered-configurable-multiitem-tax.json"
);
/// Order 000000015: registered, 20 % cart discount on two lines, 8.25 % tax, 253.74.
pub const DISCOUNT_TAX: &str = include_str!(
    "../../../tests/fixtures/magento/rest-order-registered-discount-multiitem-tax-histories.json"
);
/// Order 000000102 (inside a search result): guest, discount 3.3, 23 % tax without a rate code.
pub const SEARCH_GUEST_VAT: &str =
    include_str!("../../../tests/fixtures/magento/rest-orders-search-guest-discount-tax.json");
/// Order 000000013 again, after cancellation.
pub const CANCELED: &str = include_str!("../../../tests/fixtures/magento/rest-order-canceled.json");

pub const ALL: [&str; 7] = [
    GUEST_CONFIGURABLE,
    GUEST_FULL_DISCOUNT,
    BUNDLE,
    CONFIGURABLE_TAX,
    DISCOUNT_TAX,
    SEARCH_GUEST_VAT,
    CANCELED,
];

/// Normalises a sample; the search file wraps its order in `items[0]`.
pub fn order(json: &str) -> Order {
    let v: serde_json::Value = serde_json::from_str(json).expect("sample is JSON");
    let order = if v.get("increment_id").is_some() {
        v
    } else {
        v["items"][0].clone()
    };
    normalise(&order).expect("sample normalises")
}

/// The mappings an operator sets up for the SAP simulator's default seed.
pub fn starter_mappings() -> Mappings {
    Mappings::from_entries(crate::sim::sap_b1::default_seed_mappings())
        .expect("the simulator's mappings are valid")
}

/// An active, unfrozen sales item without serial or batch numbers.
pub fn sellable() -> ItemFacts {
    ItemFacts {
        exists: true,
        valid: true,
        frozen: false,
        sales_item: true,
        serial_managed: false,
        batch_managed: false,
    }
}

/// An item master in which every ItemCode is a plain sellable item.
pub fn every_item_sellable(_: &ItemCode) -> Option<ItemFacts> {
    Some(sellable())
}
