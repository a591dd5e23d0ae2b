//! What the demo does, as a list of steps: the shop's orders (real Magento orders, each under a
//! fresh increment id), what happens to them afterwards (a cancellation, a delivery that comes
//! back as a shipment, a refund), and what goes wrong on the way. A new kind of event is one
//! more [`Step`] variant, one arm in [`super::traffic`], and one line in [`scenario`].
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::time::Duration;

/// Real orders of Magento 2 demo stores (see `tests/fixtures/magento/README.md`).
mod samples {
    pub const GUEST_CONFIGURABLE: &str =
        include_str!("../../tests/fixtures/magento/rest-order-guest-configurable.json");
    pub const GUEST_FULL_DISCOUNT: &str =
        include_str!("../../tests/fixtures/magento/rest-order-guest-coupon-full-discount.json");
    pub const BUNDLE: &str = include_str!(
        "../../tests/fixtures/magento/rest-order-registered-bundle-configurable-downloadable.json"
    );
    pub const CONFIGURABLE_TAX: &str = include_str!(
        "../../tests/fixtures/magento/rest-order-registered-configurable-multiitem-tax.json"
    );
    pub const DISCOUNT_TAX: &str = include_str!(
        "../../tests/fixtures/magento/rest-order-registered-discount-multiitem-tax-histories.json"
    );
    pub const SEARCH_GUEST_VAT: &str =
        include_str!("../../tests/fixtures/magento/rest-orders-search-guest-discount-tax.json");
}

/// The item whose stock a warehouse recount changes in SAP (in the Magento simulator's
/// catalogue, on no sample order, so nothing else moves it).
pub const RECOUNTED_ITEM: &str = "24-MB01";
/// The warehouse mapped to Magento's `default` source.
pub const RECOUNTED_WAREHOUSE: &str = "01";
/// The Magento order item of the bundle sample that a customer returns: WS12-M-Orange, a
/// simple product on a line of its own.
const BUNDLE_TEE_ITEM: i64 = 3;

/// One thing that happens in the shop, in SAP or to the connection between them.
#[derive(Debug, Clone)]
pub enum Step {
    /// A shopper places an order: Magento sends its signed `order.placed` webhook.
    Place { what: &'static str, order: Value },
    /// The shop cancels an order once it is in SAP B1: `order.cancelled`.
    Cancel {
        what: &'static str,
        increment_id: String,
    },
    /// The warehouse delivers the whole order in SAP B1 with a tracking number; the step ends
    /// when Magento shows the shipment with that tracking number.
    Ship {
        what: &'static str,
        increment_id: String,
        tracking_number: &'static str,
    },
    /// Accounting invoices the order in SAP B1, the shop captures the payment and refunds
    /// these Magento order items (`order_item_id`, quantity) with a credit memo, whose signed
    /// `creditmemo.created` webhook follows; the step ends when SAP has the A/R credit memo.
    Refund {
        what: &'static str,
        increment_id: String,
        items: Vec<(i64, Decimal)>,
    },
    /// A warehouse recount in SAP B1; the step ends when Magento's source shows it.
    StockChange {
        item: &'static str,
        warehouse: &'static str,
        in_stock: Decimal,
    },
    /// SAP answers this share of writes with its lock error (-2039, "another user modified
    /// data") for a while, as during a long period-end job in the B1 client.
    LockStorm { rate: f64, lasts: Duration },
}

impl Step {
    /// The increment id of an order step.
    pub fn increment_id(&self) -> Option<&str> {
        match self {
            Step::Place { order, .. } => order["increment_id"].as_str(),
            _ => None,
        }
    }
}

/// Increment ids of one run: digits like Magento's, unique per run so that a database kept
/// between runs (`DATABASE_URL`) sees new orders.
pub struct Ids {
    prefix: String,
    next: u32,
}

impl Ids {
    pub fn new(run: u64) -> Self {
        Self {
            prefix: format!("9{:05}", run % 100_000),
            next: 1,
        }
    }

    fn next(&mut self) -> String {
        let id = format!("{}{:03}", self.prefix, self.next);
        self.next += 1;
        id
    }
}

fn sample(json: &str) -> Value {
    let v: Value = serde_json::from_str(json).expect("the bundled sample orders are JSON");
    // The search result sample: its first order.
    if v.get("total_count").is_some() {
        v["items"][0].clone()
    } else {
        v
    }
}

/// A sample order under a new increment id (and entity id, as Magento numbers both).
fn order(json: &str, ids: &mut Ids) -> Value {
    let mut order = sample(json);
    let id = ids.next();
    order["entity_id"] = json!(id.parse::<u64>().unwrap_or(0));
    order["increment_id"] = json!(id);
    order
}

fn place(what: &'static str, order: Value) -> Step {
    Step::Place { what, order }
}

/// The demo's story, in order. Every failure is one a live shop meets, from real orders.
pub fn scenario(ids: &mut Ids) -> Vec<Step> {
    let first = order(samples::GUEST_CONFIGURABLE, ids);
    let first_id = first["increment_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let bundle = order(samples::BUNDLE, ids);
    let free = order(samples::GUEST_FULL_DISCOUNT, ids);
    let vat = order(samples::SEARCH_GUEST_VAT, ids);
    let mut euro = order(samples::BUNDLE, ids);
    euro["order_currency_code"] = json!("EUR");
    let big = order(samples::CONFIGURABLE_TAX, ids);
    let sub_cent = order(samples::DISCOUNT_TAX, ids);
    let mut unknown_sku = order(samples::GUEST_CONFIGURABLE, ids);
    for item in unknown_sku["items"].as_array_mut().into_iter().flatten() {
        if item["sku"] == "WP13-28-Blue" {
            item["sku"] = json!(super::company::NEW_COLOUR);
        }
    }
    let id_of = |o: &Value| o["increment_id"].as_str().unwrap_or_default().to_owned();
    let (vat_id, bundle_id) = (id_of(&vat), id_of(&bundle));
    let stormy = [
        order(samples::GUEST_CONFIGURABLE, ids),
        order(samples::BUNDLE, ids),
        order(samples::SEARCH_GUEST_VAT, ids),
    ];
    let [storm_1, storm_2, storm_3] = stormy;
    vec![
        place("guest, configurable product", first),
        place(
            "registered customer, bundle + configurable + downloadable",
            bundle,
        ),
        place("guest, 100 % coupon and free shipping", free),
        place("guest, discount, 23 % tax", vat),
        place("registered customer, paying in EUR", euro),
        place(
            "registered customer, 396.87 USD: over the approval limit",
            big,
        ),
        place(
            "registered customer, 20 % cart discount, 8.25 % tax (Magento's sub-cent tax)",
            sub_cent,
        ),
        place("guest, a SKU SAP B1 does not know", unknown_sku),
        Step::Cancel {
            what: "the shop cancels the first order",
            increment_id: first_id,
        },
        Step::Ship {
            what: "the warehouse ships the 23 % tax order",
            increment_id: vat_id,
            tracking_number: "1Z999AA10123456784",
        },
        Step::Refund {
            what: "the customer sends back the orange tee of the bundle order",
            increment_id: bundle_id,
            items: vec![(BUNDLE_TEE_ITEM, Decimal::ONE)],
        },
        Step::StockChange {
            item: RECOUNTED_ITEM,
            warehouse: RECOUNTED_WAREHOUSE,
            in_stock: Decimal::from(12),
        },
        Step::LockStorm {
            rate: 0.8,
            lasts: Duration::from_secs(4),
        },
        place("guest, during the lock storm", storm_1),
        place("registered customer, during the lock storm", storm_2),
        place("guest, during the lock storm", storm_3),
    ]
}

/// An ordinary order after the story: the samples that post without help, in turn.
pub fn ordinary(n: usize, ids: &mut Ids) -> Step {
    let (what, json) = [
        ("guest, configurable product", samples::GUEST_CONFIGURABLE),
        (
            "registered customer, bundle + configurable + downloadable",
            samples::BUNDLE,
        ),
        ("guest, discount, 23 % tax", samples::SEARCH_GUEST_VAT),
        (
            "guest, 100 % coupon and free shipping",
            samples::GUEST_FULL_DISCOUNT,
        ),
    ][n % 4];
    place(what, order(json, ids))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_order_of_a_run_has_its_own_increment_id_and_the_story_has_each_failure() {
        let mut ids = Ids::new(1_764_748_800);
        let steps = scenario(&mut ids);
        let mut seen: Vec<String> = steps
            .iter()
            .filter_map(|s| s.increment_id().map(str::to_owned))
            .chain((0..8).map(|n| ordinary(n, &mut ids).increment_id().unwrap().to_owned()))
            .collect();
        let all = seen.len();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), all);
        assert!(seen
            .iter()
            .all(|id| id.len() == 9 && id.starts_with("948800")));
        let cancelled = steps.iter().find_map(|s| match s {
            Step::Cancel { increment_id, .. } => Some(increment_id.clone()),
            _ => None,
        });
        assert_eq!(cancelled.as_deref(), steps[0].increment_id());
        let skus: Vec<&str> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Place { order, .. } => Some(order),
                _ => None,
            })
            .flat_map(|o| o["items"].as_array().unwrap())
            .filter_map(|i| i["sku"].as_str())
            .collect();
        assert!(skus.contains(&"WP13-28-Teal"));
        assert!(!skus.contains(&RECOUNTED_ITEM));
        assert!(steps.iter().any(|s| matches!(s, Step::LockStorm { .. })));
        // The shipment and the refund are of orders that post (not the cancelled first one).
        let placed = |id: &str| {
            steps
                .iter()
                .position(|s| s.increment_id() == Some(id))
                .unwrap()
        };
        for (n, step) in steps.iter().enumerate() {
            match step {
                Step::Ship { increment_id, .. } | Step::Refund { increment_id, .. } => {
                    assert!(placed(increment_id) < n);
                    assert_ne!(Some(increment_id.as_str()), steps[0].increment_id());
                }
                _ => {}
            }
        }
        let bundle = steps[1].clone();
        let Step::Place { order, .. } = bundle else {
            panic!("the second step places the bundle")
        };
        let tee = order["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["item_id"] == BUNDLE_TEE_ITEM)
            .unwrap();
        assert_eq!(tee["sku"], "WS12-M-Orange");
        assert!(tee.get("parent_item_id").is_none_or(Value::is_null));
    }
}
