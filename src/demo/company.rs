//! The shop and the SAP B1 company of the demo. The company is the SAP simulator's default US
//! seed, plus the two settings a real company has that the demo's story needs (nothing that
//! makes an order post that would not post against a real B1 with the same set-up); the shop
//! is the Magento simulator's default seed, plus every item the company sells, so that the
//! stock sync has a product for each (a shop that does not sell an item SAP has would show as
//! one `magento_rejected` exception per item, which would bury the story).
//!
//! The SAP B1 company the demo posts to: the simulator's default US seed, plus the two
//! settings a real company has that the demo's story needs (nothing that makes an order
//! post that would not post against a real B1 with the same set-up).
use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::sim::magento::{Seed as ShopSeed, SeedProduct};
use crate::sim::sap_b1::{ApprovalProcedure, ExchangeRate, Seed, YesNo};

/// The customer who pays in EUR (John Doe, found by e-mail): a partner that takes any
/// currency (`##`), as B1 requires for a foreign-currency document.
const MULTI_CURRENCY_CUSTOMER: &str = "C20001";

/// USD per EUR, entered for every day the sample orders can be dated.
const EUR_RATE: Decimal = Decimal::from_parts(108, 0, 0, false, 2);

pub fn demo_seed() -> Seed {
    let mut seed = Seed::default_seed();
    // Sales Orders of 300 USD and more wait for a manager's approval (an approval procedure
    // with a document-total term): SAP stores them as drafts.
    seed.approval_procedures.push(ApprovalProcedure {
        name: "Orders of 300 USD and more".into(),
        min_doc_total: Some(Decimal::from(300)),
        card_codes: vec![],
    });
    for bp in &mut seed.business_partners {
        if bp.card_code == MULTI_CURRENCY_CUSTOMER {
            bp.currency = Some("##".into());
        }
    }
    // The samples are dated 2016–2019 and the demo's orders today: rates for 2015–2030.
    let mut day = NaiveDate::from_ymd_opt(2015, 1, 1).expect("a date");
    let last = NaiveDate::from_ymd_opt(2030, 12, 31).expect("a date");
    while day <= last {
        seed.exchange_rates.push(ExchangeRate {
            currency: "EUR".into(),
            date: day,
            rate: EUR_RATE,
        });
        day = day.succ_opt().expect("a next day");
    }
    seed
}

/// The Magento simulator's default catalogue plus a simple product for every valid sales
/// item of `company` that it lacks, at the item's first price.
pub fn demo_shop_seed(company: &Seed) -> ShopSeed {
    let mut shop = ShopSeed::default_seed();
    let mut next_id = shop.products.iter().map(|p| p.id).max().unwrap_or(0) + 1;
    for item in &company.items {
        let sold = item.sales_item == YesNo::Yes && item.valid == YesNo::Yes;
        let known = shop
            .products
            .iter()
            .any(|p| p.sku.eq_ignore_ascii_case(&item.item_code));
        if !sold || known {
            continue;
        }
        shop.products.push(SeedProduct {
            id: next_id,
            sku: item.item_code.clone(),
            name: Some(item.item_name.clone()),
            type_id: if item.inventory_item == YesNo::Yes {
                "simple".into()
            } else {
                "virtual".into()
            },
            status: 1,
            price: item
                .item_prices
                .first()
                .map(|p| p.price)
                .unwrap_or_default(),
            dynamic_price: false,
            stock_item_id: None,
        });
        next_id += 1;
    }
    shop
}
