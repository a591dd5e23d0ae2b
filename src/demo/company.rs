//! The shop and the SAP B1 company of the demo. The company is the SAP simulator's default US
//! seed, plus the settings a real company has that the demo's story needs (nothing that makes
//! an order post that would not post against a real B1 with the same set-up) and goods on the
//! shelf; the shop is the Magento simulator's default seed, plus every item the company sells,
//! so that the stock sync has a product for each (a shop that does not sell an item SAP has
//! would show as one `magento_rejected` exception per item, which would bury the story), with
//! the stock the last sync left, and the one product the shop sells before SAP has it.
use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::sim::magento::{keeps_stock, Seed as ShopSeed, SeedProduct, SeedSourceItem};
use crate::sim::sap_b1::{ApprovalProcedure, ExchangeRate, Item, Seed, YesNo};

/// Magento's source the shop's warehouse is mapped to.
pub const MAGENTO_SOURCE: &str = "default";

/// The customer who pays in EUR (John Doe, found by e-mail): a partner that takes any
/// currency (`##`), as B1 requires for a foreign-currency document.
const MULTI_CURRENCY_CUSTOMER: &str = "C20001";

/// USD per EUR, entered for every day the sample orders can be dated.
const EUR_RATE: Decimal = Decimal::from_parts(108, 0, 0, false, 2);

/// The warehouse the shop sells from (mapped to Magento's `default` source).
const SHOP_WAREHOUSE: &str = "01";
/// On hand in the shop's warehouse, at least, of every item sold: the orders are placed in
/// the Magento simulator too, which (like checkout) refuses what its stock cannot sell, and
/// the seed has some sold items at 0 or 4 there; a shop that restocks never runs dry, and
/// the demo's stream of orders goes on for days before this does.
const SHELF: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);
/// On hand in Magento of the products SAP keeps no stock of (downloadables, the new colour):
/// Magento counts them all the same.
const SHOP_ONLY_STOCK: Decimal = Decimal::from_parts(1_000, 0, 0, false, 0);

/// A colour the shop added to its catalogue before SAP B1 had the item: the demo's
/// `unknown_sku` order buys it.
pub const NEW_COLOUR: &str = "WP13-28-Teal";

pub fn demo_seed() -> Seed {
    let mut seed = Seed::default_seed();
    // Sales Orders of 300 USD and more wait for a manager's approval (an approval procedure
    // with a document-total term): SAP stores them as drafts.
    seed.approval_procedures.push(ApprovalProcedure {
        name: "Orders of 300 USD and more".into(),
        min_doc_total: Some(Decimal::from(300)),
        card_codes: vec![],
    });
    for item in &mut seed.items {
        if sold(item) && item.inventory_item == YesNo::Yes {
            let shelf = item.warehouse_mut(SHOP_WAREHOUSE);
            shelf.in_stock = shelf.in_stock.max(SHELF);
            item.recompute_totals();
        }
    }
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
        let known = shop
            .products
            .iter()
            .any(|p| p.sku.eq_ignore_ascii_case(&item.item_code));
        if !sold(item) || known {
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
    shop.products.push(SeedProduct {
        id: next_id,
        sku: NEW_COLOUR.into(),
        name: Some("Cora Parachute Pant-28-Teal".into()),
        type_id: "simple".into(),
        status: 1,
        price: Decimal::from(49),
        dynamic_price: false,
        stock_item_id: None,
    });
    // The `default` source as the last stock sync left it: what SAP has on hand in the shop's
    // warehouse (nothing is committed yet); the rest as Magento counts it.
    let mut source_items = Vec::new();
    for product in shop.products.iter().filter(|p| keeps_stock(&p.type_id)) {
        let in_sap = company
            .items
            .iter()
            .find(|i| i.item_code.eq_ignore_ascii_case(&product.sku))
            .filter(|i| i.inventory_item == YesNo::Yes);
        let quantity = match in_sap {
            Some(item) => item
                .item_warehouse_info_collection
                .iter()
                .find(|w| w.warehouse_code == SHOP_WAREHOUSE)
                .map(|w| w.in_stock)
                .unwrap_or_default(),
            None => SHOP_ONLY_STOCK,
        };
        source_items.push(SeedSourceItem {
            sku: product.sku.clone(),
            source_code: MAGENTO_SOURCE.into(),
            quantity,
            status: 1,
        });
    }
    shop.source_items = source_items;
    shop
}

fn sold(item: &Item) -> bool {
    item.sales_item == YesNo::Yes && item.valid == YesNo::Yes
}
