//! What SAP's answers to posting and cancelling mean for the business: the document an order
//! became, and the exceptions for refusals whose cause SAP's text reveals (an inactive item,
//! a missing serial number, a refused Business Partner, a cancel after delivery). Pure: the
//! worker reads SAP's answer and asks here what to tell people.
use serde_json::json;

use super::exception::{Category, NewException, SapErrorInfo};
use super::ids::CardCode;
use super::mapping::ResolvedLine;
use super::order::Order;

/// Where operators fix each kind of problem; quoted in exception details.
const SKUS_API: &str = "/api/v1/mappings/skus";
const CUSTOMERS_API: &str = "/api/v1/mappings/customers";

/// The SAP document an order became: `DocEntry` is SAP's key, `DocNum` what SAP users see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SapDocument {
    pub doc_entry: i64,
    pub doc_num: i64,
}

/// Exceptions a successful post proves fixed: everything that held the order back before it
/// reached SAP (a tax-code gap is filed as `total_mismatch`, hence that one too).
pub const FIXED_BY_POSTING: [Category; 9] = [
    Category::ApprovalPending,
    Category::UnknownSku,
    Category::ItemNotSellable,
    Category::SerialBatchRequired,
    Category::CustomerUnmapped,
    Category::AddressInvalid,
    Category::SapRejected,
    Category::SapUnavailable,
    Category::TotalMismatch,
];

/// Exceptions a successful cancellation makes moot: nothing is left to post or to cancel.
pub const FIXED_BY_CANCELLING: [Category; 8] = [
    Category::UnknownSku,
    Category::ItemNotSellable,
    Category::SerialBatchRequired,
    Category::CustomerUnmapped,
    Category::AddressInvalid,
    Category::SapRejected,
    Category::SapUnavailable,
    Category::CancelConflict,
];

/// Why SAP refused a Sales Order, when its error text says so (read by the SAP client's
/// classifier). Anything else is filed as `sap_rejected` with SAP's own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderRefusal {
    /// An item is inactive, frozen or not a sales item.
    ItemNotSellable { item_code: Option<String> },
    /// SAP has no such item.
    UnknownItem { item_code: Option<String> },
    /// SAP wants serial or batch numbers on a line (-4014); its text names no item.
    SerialBatchRequired,
    /// The Business Partner is unknown or inactive in SAP.
    CustomerRefused { card_code: Option<String> },
    /// SAP's own total differs too much from the `DocTotal` sent (Magento's grand total).
    DocTotalRefused,
    /// The document's date falls in a posting period that is closed to sales (or outside
    /// every period); `date` is the document date that was sent.
    PostingPeriodClosed { date: Option<chrono::NaiveDate> },
}

/// The exception for a refusal of `order`'s Sales Order. `lines` are the lines that were
/// sent, with what the item master said about them, so the exception names SKUs, not only
/// ItemCodes.
pub fn refusal_exception(
    order: &Order,
    lines: &[ResolvedLine],
    card_code: &CardCode,
    refusal: &OrderRefusal,
    sap_error: SapErrorInfo,
) -> NewException {
    let id = order.increment_id.as_str();
    let said = format!("SAP B1 refused the Sales Order: {}", sap_error.message);
    let skus_of = |code: &Option<String>| {
        sorted_unique(
            lines
                .iter()
                .filter(|l| code.as_deref() == Some(l.item_code.as_str())),
        )
    };
    let (category, skus, title, todo) = match refusal {
        OrderRefusal::ItemNotSellable { item_code } => {
            let skus = skus_of(item_code);
            let title = format!(
                "{} on order {id} {} not sellable in SAP B1",
                naming(&skus, item_code),
                if skus.len() > 1 { "are" } else { "is" }
            );
            let todo = format!(
                "In SAP B1, make the item active, unfreeze it and tick 'Sales Item' (or map the \
                 SKU to another item under {}), then retry the exception.",
                sku_path(&skus)
            );
            (Category::ItemNotSellable, skus, title, todo)
        }
        OrderRefusal::UnknownItem { item_code } => {
            let skus = skus_of(item_code);
            let title = format!(
                "{} on order {id} {} no SAP B1 item",
                naming(&skus, item_code),
                if skus.len() > 1 { "have" } else { "has" }
            );
            let todo = format!(
                "Add the item to SAP B1 or map the SKU to an existing ItemCode under {}, then \
                 retry the exception.",
                sku_path(&skus)
            );
            (Category::UnknownSku, skus, title, todo)
        }
        OrderRefusal::SerialBatchRequired => {
            let skus = sorted_unique(
                lines
                    .iter()
                    .filter(|l| l.facts.serial_managed || l.facts.batch_managed),
            );
            let title = if skus.is_empty() {
                format!("Order {id} needs serial or batch numbers in SAP B1")
            } else {
                format!(
                    "{} on order {id} {} serial or batch numbers in SAP B1",
                    naming(&skus, &None),
                    if skus.len() > 1 { "need" } else { "needs" }
                )
            };
            let todo = "This SAP B1 company requires serial/batch numbers on Sales Orders. Post \
                        the order by hand in SAP B1 and resolve the exception, or set \
                        serial_batch_policy to 'hold' in /api/v1/settings so such orders wait \
                        for a person."
                .to_owned();
            (Category::SerialBatchRequired, skus, title, todo)
        }
        OrderRefusal::CustomerRefused { card_code: refused } => {
            let code = refused.as_deref().unwrap_or(card_code.as_str());
            let key = customer_mapping_key(order);
            let title =
                format!("Order {id}: SAP B1 refused Business Partner '{code}' for the customer");
            let todo = format!(
                "Make '{code}' an active customer in SAP B1, or map the customer to an active \
                 Business Partner under {CUSTOMERS_API}/{key}, then retry the exception."
            );
            (Category::CustomerUnmapped, vec![], title, todo)
        }
        OrderRefusal::DocTotalRefused => {
            let title = format!(
                "Order {id}: SAP B1 refused the total of {} {} that Magento charged",
                order.totals.grand_total.normalize(),
                order.currency
            );
            let todo = "SAP's own arithmetic from the lines and tax codes comes to a different \
                        total. Compare the order's tax codes and rates with Magento's \
                        (tax-codes mapping), fix them, then retry the exception."
                .to_owned();
            (Category::TotalMismatch, vec![], title, todo)
        }
        OrderRefusal::PostingPeriodClosed { date } => {
            let day = date
                .map(|d| d.to_string())
                .unwrap_or_else(|| "the order's date".to_owned());
            let title = format!(
                "Order {id}: SAP B1's posting period for {day} is closed, so the Sales Order cannot be dated"
            );
            let todo = format!(
                "The order is dated {day} (its day in the store's time zone, setting \
                 store_timezone). Finance: unlock that posting period for sales in SAP B1 \
                 (Administration → System Initialization → Posting Periods), or post the \
                 order by hand in an open period; then retry or resolve the exception."
            );
            (Category::SapRejected, vec![], title, todo)
        }
    };
    let item_code = match refusal {
        OrderRefusal::ItemNotSellable { item_code } | OrderRefusal::UnknownItem { item_code } => {
            item_code.as_deref()
        }
        _ => None,
    };
    let context = json!({ "card_code": card_code.as_str(), "item_code": item_code });
    NewException {
        category,
        dedup_key: NewException::dedup_key_for(category, Some(id), &skus),
        title,
        detail: format!("{said}. {todo}"),
        order_increment_id: Some(id.to_owned()),
        skus,
        sap_error: Some(sap_error),
        context,
    }
}

/// The customer's e-mail belongs only to Business Partners that cannot take orders: a
/// person decides which partner the order goes on, rather than b1bridge creating a second.
pub fn inactive_business_partner(
    order: &Order,
    email: &str,
    card_codes: &[String],
) -> NewException {
    let id = order.increment_id.as_str();
    let codes = card_codes
        .iter()
        .map(|c| format!("'{c}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let key = customer_mapping_key(order);
    NewException {
        category: Category::CustomerUnmapped,
        dedup_key: NewException::dedup_key_for(Category::CustomerUnmapped, Some(id), &[]),
        title: format!("Order {id} ({email}): the customer's Business Partner is inactive"),
        detail: format!(
            "SAP B1 has {codes} with the e-mail {email}, inactive or frozen, so the order cannot \
             be posted on it and b1bridge does not create a second partner for the same \
             customer. Reactivate it in SAP B1, or map the customer to the partner to use \
             under {CUSTOMERS_API}/{key}, then retry the exception."
        ),
        order_increment_id: Some(id.to_owned()),
        skus: vec![],
        sap_error: None,
        context: json!({ "email": email, "card_codes": card_codes }),
    }
}

/// The CardCode b1bridge would create for this customer belongs to a partner with another
/// e-mail: taking it over would post the order on someone else's account.
pub fn card_code_taken(order: &Order, card_code: &CardCode, email: &str) -> NewException {
    let id = order.increment_id.as_str();
    NewException {
        category: Category::CustomerUnmapped,
        dedup_key: NewException::dedup_key_for(Category::CustomerUnmapped, Some(id), &[]),
        title: format!(
            "Order {id} ({email}): CardCode '{card_code}' already belongs to another Business Partner"
        ),
        detail: format!(
            "b1bridge would create Business Partner '{card_code}' for {email}, but SAP B1 has \
             a partner with that code and a different e-mail. Map the customer to the right \
             partner under {CUSTOMERS_API}, then retry the exception."
        ),
        order_increment_id: Some(id.to_owned()),
        skus: vec![],
        sap_error: None,
        context: json!({ "card_code": card_code.as_str(), "email": email }),
    }
}

/// A cancellation SAP cannot carry out because the order went further in SAP (delivered,
/// invoiced or closed): operations must stop the shipment or book a return.
pub fn cancel_conflict(
    increment_id: &str,
    document: SapDocument,
    reason: &str,
    sap_error: Option<SapErrorInfo>,
) -> NewException {
    let SapDocument { doc_entry, doc_num } = document;
    let said = sap_error
        .as_ref()
        .map(|e| format!(" SAP B1 answered: {}.", e.message))
        .unwrap_or_default();
    NewException {
        category: Category::CancelConflict,
        dedup_key: NewException::dedup_key_for(Category::CancelConflict, Some(increment_id), &[]),
        title: format!(
            "Order {increment_id} was cancelled in Magento but SAP B1 Sales Order {doc_num} \
             (DocEntry {doc_entry}) cannot be cancelled: {reason}"
        ),
        detail: format!(
            "Magento cancelled order {increment_id} after SAP B1 Sales Order {doc_num} \
             (DocEntry {doc_entry}) was {reason}.{said} Stop the shipment or book a return and \
             credit note in SAP B1, close the Sales Order, then resolve the exception."
        ),
        order_increment_id: Some(increment_id.to_owned()),
        skus: vec![],
        sap_error,
        context: json!({ "doc_entry": doc_entry, "doc_num": doc_num, "reason": reason }),
    }
}

/// A post job whose order has no stored Magento content (should not happen: intake only
/// queues a post with the order). Filed so the job does not vanish silently.
pub fn nothing_to_post(increment_id: &str) -> NewException {
    NewException {
        category: Category::PayloadInvalid,
        dedup_key: NewException::dedup_key_for(Category::PayloadInvalid, Some(increment_id), &[]),
        title: format!("Order {increment_id} has no stored Magento order to post"),
        detail: format!(
            "A post job for order {increment_id} ran, but b1bridge holds no order content for \
             it. Resend the order from Magento (or wait for the backfill poll), then retry."
        ),
        order_increment_id: Some(increment_id.to_owned()),
        skus: vec![],
        sap_error: None,
        context: json!({}),
    }
}

/// The customers-mapping key of the order's customer, as `customer_plan` looks it up first:
/// the Magento customer id of a registered customer, else the (lower-case) e-mail.
pub fn customer_mapping_key(order: &Order) -> String {
    let c = &order.customer;
    c.magento_customer_id
        .filter(|_| !c.is_guest)
        .map(|id| id.to_string())
        .unwrap_or_else(|| c.email.trim().to_lowercase())
}

/// The lines' SKUs, sorted and without repeats, as exceptions list them.
fn sorted_unique<'a>(lines: impl Iterator<Item = &'a ResolvedLine>) -> Vec<String> {
    let mut skus: Vec<String> = lines.map(|l| l.line.sku.to_string()).collect();
    skus.sort();
    skus.dedup();
    skus
}

/// `SKU 'A'`, `SKUs 'A', 'B'`, or the ItemCode when no line matched it.
fn naming(skus: &[String], item_code: &Option<String>) -> String {
    let quoted = skus
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ");
    match (skus.len(), item_code) {
        (0, Some(code)) => format!("Item '{code}'"),
        (0, None) => "An item".to_owned(),
        (1, _) => format!("SKU {quoted}"),
        _ => format!("SKUs {quoted}"),
    }
}

fn sku_path(skus: &[String]) -> String {
    match skus {
        [sku] => format!("{SKUS_API}/{sku}"),
        _ => format!("{SKUS_API}/{{sku}}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::ItemCode;
    use crate::domain::sales_order::ItemFacts;
    use crate::magento::order::normalise;

    fn order() -> Order {
        let text = include_str!(
            "../../tests/fixtures/magento/rest-order-registered-configurable-multiitem-tax.json"
        );
        normalise(&serde_json::from_str(text).unwrap()).unwrap()
    }

    fn resolved(order: &Order, serial_sku: Option<&str>) -> Vec<ResolvedLine> {
        order
            .lines
            .iter()
            .map(|l| ResolvedLine {
                line: l.clone(),
                item_code: ItemCode::parse(l.sku.as_str()).unwrap(),
                facts: ItemFacts {
                    exists: true,
                    valid: true,
                    frozen: false,
                    sales_item: true,
                    serial_managed: Some(l.sku.as_str()) == serial_sku,
                    batch_managed: false,
                },
            })
            .collect()
    }

    fn sap(message: &str) -> SapErrorInfo {
        SapErrorInfo {
            code: -10,
            message: message.into(),
        }
    }

    #[test]
    fn an_inactive_item_refusal_names_the_sku_the_order_and_sap_words() {
        let o = order();
        let e = refusal_exception(
            &o,
            &resolved(&o, None),
            &CardCode::parse("C20000").unwrap(),
            &OrderRefusal::ItemNotSellable {
                item_code: Some("RACER".into()),
            },
            sap("10001069 - Item RACER is inactive"),
        );
        assert_eq!(e.category, Category::ItemNotSellable);
        assert_eq!(
            e.title,
            "SKU 'RACER' on order 000000013 is not sellable in SAP B1"
        );
        assert_eq!(e.skus, ["RACER"]);
        assert!(e.detail.contains("Item RACER is inactive"), "{}", e.detail);
        assert!(e.detail.contains("/api/v1/mappings/skus/RACER"));
        assert_eq!(e.sap_error.unwrap().code, -10);
    }

    #[test]
    fn a_serial_refusal_names_the_serial_managed_lines() {
        let o = order();
        let e = refusal_exception(
            &o,
            &resolved(&o, Some("RACER")),
            &CardCode::parse("C20000").unwrap(),
            &OrderRefusal::SerialBatchRequired,
            sap("Cannot add row without complete selection of batch/serial numbers"),
        );
        assert_eq!(e.category, Category::SerialBatchRequired);
        assert_eq!(e.skus, ["RACER"]);
        assert!(e.title.contains("order 000000013"));
    }

    #[test]
    fn a_refused_partner_is_customer_unmapped_with_the_mapping_to_fix() {
        let o = order();
        let e = refusal_exception(
            &o,
            &[],
            &CardCode::parse("C29990").unwrap(),
            &OrderRefusal::CustomerRefused { card_code: None },
            sap("(-10) 10001071 - Customer C29990 is inactive"),
        );
        assert_eq!(e.category, Category::CustomerUnmapped);
        assert!(e.title.contains("'C29990'"), "{}", e.title);
        assert!(
            e.detail.contains("/api/v1/mappings/customers/1"),
            "{}",
            e.detail
        );
    }

    #[test]
    fn a_cancel_conflict_names_the_sap_document_both_ways() {
        let e = cancel_conflict(
            "000000013",
            SapDocument {
                doc_entry: 1187,
                doc_num: 20431,
            },
            "delivered or invoiced",
            None,
        );
        assert_eq!(e.category, Category::CancelConflict);
        assert!(
            e.title.contains("Sales Order 20431 (DocEntry 1187)"),
            "{}",
            e.title
        );
        assert_eq!(e.order_increment_id.as_deref(), Some("000000013"));
        assert_eq!(e.context["doc_entry"], 1187);
    }

    #[test]
    fn naming_falls_back_to_the_item_code_when_no_line_matches() {
        assert_eq!(naming(&[], &Some("X1".into())), "Item 'X1'");
        assert_eq!(naming(&["A".into(), "B".into()], &None), "SKUs 'A', 'B'");
    }
}
