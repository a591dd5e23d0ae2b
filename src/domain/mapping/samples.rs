//! Real Magento orders (copied from `shared/samples/magento/` into `tests/fixtures/magento/`)
//! and the fixtures the mapping tests share.
use crate::domain::company::{CompanyFacts, TaxLocalization};
use crate::domain::ids::ItemCode;
use crate::domain::mappings::Mappings;
use crate::domain::money::Currency;
use crate::domain::order::Order;
use crate::domain::sales_order::ItemFacts;
use crate::magento::order::normalise;

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
/// Order 200000241, constructed (see the fixture folder's README): a UK guest of a store
/// whose prices include VAT, 20 % and 5 % lines, a 10 % coupon on gross prices, taxed
/// shipping, 129.98 GBP including 19.64 VAT.
pub const UK_VAT_INCLUSIVE: &str = include_str!(
    "../../../tests/fixtures/magento/constructed-order-guest-uk-vat-inclusive-coupon.json"
);
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

/// Mappings for the UK seed: Magento's GB rates to the company's VAT groups, the sample
/// carriers, warehouse `01`.
pub fn uk_mappings() -> Mappings {
    use crate::domain::mappings::{MappingValue, TaxCodeMapping};
    let mut m = starter_mappings();
    m.tax_codes.clear();
    for (rate, group) in [
        ("GB-VAT-20", "O1"),
        ("GB-VAT-5", "O2"),
        ("IE-VAT-23", "IE23"),
    ] {
        m.insert(
            rate,
            MappingValue::TaxCode(TaxCodeMapping {
                sap_tax_code: crate::domain::ids::TaxCode::parse(group).unwrap(),
                rate_percent: None,
            }),
        )
        .unwrap();
    }
    m
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

/// The simulator's US seed as the worker reads it: sales tax codes, USD.
pub fn us_company() -> CompanyFacts {
    let rates = [
        ("EX", "0"),
        ("US-MI", "8.25"),
        ("US-CA", "7.25"),
        ("CA-LA", "9.5"),
        ("VAT23", "23"),
    ];
    CompanyFacts {
        localization: TaxLocalization::SalesTax,
        local_currency: Currency::parse("USD").unwrap(),
        tax_rates: rates
            .iter()
            .map(|(c, r)| (c.to_string(), r.parse().unwrap()))
            .collect(),
    }
}

/// The simulator's UK seed as the worker reads it: VAT groups, GBP.
pub fn uk_company() -> CompanyFacts {
    let rates = [
        ("O1", "20"),
        ("O2", "5"),
        ("O0", "0"),
        ("EX", "0"),
        ("IE23", "23"),
    ];
    CompanyFacts {
        localization: TaxLocalization::Vat,
        local_currency: Currency::parse("GBP").unwrap(),
        tax_rates: rates
            .iter()
            .map(|(c, r)| (c.to_string(), r.parse().unwrap()))
            .collect(),
    }
}
