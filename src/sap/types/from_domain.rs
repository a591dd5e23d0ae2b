//! The domain's documents in the Service Layer's words: a Sales Order draft becomes the body
//! of `POST /Orders`, a new customer the body of `POST /BusinessPartners`, and an item read
//! from `/Items` the facts the mapping rules check. The domain decides the figures; this only
//! names the fields.
use super::document::{AddressExtension, NewAdditionalExpense, NewDocumentLine, NewSalesOrder};
use super::item::Item;
use super::partner::{AddressType, CardType, NewBpAddress, NewBusinessPartner};
use crate::domain::sales_order::{self as domain, DocumentAddress, ItemFacts, SalesOrderDraft};

impl From<&SalesOrderDraft> for NewSalesOrder {
    fn from(d: &SalesOrderDraft) -> Self {
        let ship_to = d.address_extension.ship_to.as_ref();
        let bill_to = d.address_extension.bill_to.as_ref();
        NewSalesOrder {
            card_code: d.card_code.clone(),
            doc_date: d.doc_date,
            doc_due_date: d.doc_due_date,
            num_at_card: d.num_at_card.to_string(),
            doc_currency: Some(d.currency.as_str().to_owned()),
            comments: Some(d.comments.clone()).filter(|c| !c.is_empty()),
            doc_total: Some(d.doc_total),
            address_extension: (ship_to.is_some() || bill_to.is_some()).then(|| AddressExtension {
                ship_to_street: ship_to.and_then(|a| a.street.clone()),
                ship_to_city: ship_to.and_then(|a| a.city.clone()),
                ship_to_zip_code: ship_to.and_then(|a| a.zip_code.clone()),
                ship_to_state: ship_to.and_then(|a| a.state.clone()),
                ship_to_country: ship_to.and_then(|a| a.country.clone()),
                bill_to_street: bill_to.and_then(|a| a.street.clone()),
                bill_to_city: bill_to.and_then(|a| a.city.clone()),
                bill_to_zip_code: bill_to.and_then(|a| a.zip_code.clone()),
                bill_to_state: bill_to.and_then(|a| a.state.clone()),
                bill_to_country: bill_to.and_then(|a| a.country.clone()),
                ..AddressExtension::default()
            }),
            // The blocks carry the person and company names, which AddressExtension has no
            // field for (SAP's `Address` is the bill-to block, `Address2` the ship-to block).
            address: bill_to.map(DocumentAddress::text_block),
            address2: ship_to.map(DocumentAddress::text_block),
            payment_method: d.payment_method.clone(),
            document_lines: d
                .lines
                .iter()
                .map(|l| NewDocumentLine {
                    item_code: l.item_code.clone(),
                    quantity: l.quantity,
                    unit_price: l.unit_price,
                    discount_percent: l.discount_percent,
                    line_total: Some(l.line_total),
                    tax_code: Some(l.tax_code.as_str().to_owned()),
                    tax_total: Some(l.tax_amount),
                    warehouse_code: Some(l.warehouse_code.clone()),
                    item_description: l.description.clone(),
                })
                .collect(),
            document_additional_expenses: d
                .expenses
                .iter()
                .map(|e| NewAdditionalExpense {
                    expense_code: e.expense_code.into(),
                    line_total: e.line_total,
                    tax_code: Some(e.tax_code.as_str().to_owned()),
                    tax_sum: Some(e.tax_amount),
                    remarks: e.remarks.clone(),
                })
                .collect(),
        }
    }
}

impl From<&domain::NewBusinessPartner> for NewBusinessPartner {
    fn from(bp: &domain::NewBusinessPartner) -> Self {
        let address = |name: &str, kind: AddressType, a: &DocumentAddress| NewBpAddress {
            address_name: name.to_owned(),
            address_type: kind,
            street: a.street.clone(),
            city: a.city.clone(),
            zip_code: a.zip_code.clone(),
            state: a.state.clone(),
            country: a.country.clone(),
        };
        let addresses = [
            bp.bill_to
                .as_ref()
                .map(|a| address("Bill to", AddressType::BillTo, a)),
            bp.ship_to
                .as_ref()
                .map(|a| address("Ship to", AddressType::ShipTo, a)),
        ];
        NewBusinessPartner {
            card_code: bp.card_code.clone(),
            card_name: bp.card_name.clone(),
            card_type: CardType::Customer,
            email_address: Some(bp.email.clone()),
            phone1: bp.phone.clone(),
            currency: None,
            group_code: None,
            addresses: addresses.into_iter().flatten().collect(),
        }
    }
}

impl From<&Item> for ItemFacts {
    fn from(item: &Item) -> Self {
        ItemFacts {
            exists: true,
            valid: item.valid,
            frozen: item.frozen,
            sales_item: item.sales_item,
            serial_managed: item.manage_serial_numbers,
            batch_managed: item.manage_batch_numbers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{CardCode, IncrementId, ItemCode, Sku, TaxCode, WarehouseCode};
    use crate::domain::money::Currency;
    use crate::domain::sales_order::{DraftExpense, DraftLine};
    use chrono::NaiveDate;
    use rust_decimal_macros::dec;

    fn address(city: &str) -> DocumentAddress {
        DocumentAddress {
            name: Some("Veronica Costello".into()),
            street: Some("6146 Honey Bluff Parkway".into()),
            city: Some(city.into()),
            zip_code: Some("49628-7978".into()),
            state: Some("MI".into()),
            country: Some("US".into()),
            telephone: None,
        }
    }

    #[test]
    fn a_draft_becomes_an_orders_body_with_magentos_total_and_exact_numbers() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let draft = SalesOrderDraft {
            card_code: CardCode::parse("C20000").unwrap(),
            doc_date: day,
            doc_due_date: day,
            num_at_card: IncrementId::parse("000000013").unwrap(),
            currency: Currency::parse("USD").unwrap(),
            comments: "Magento order #000000013".into(),
            doc_total: dec!(396.87),
            expected_vat_sum: dec!(29.87),
            address_extension: domain::AddressExtension {
                ship_to: Some(address("Calder")),
                bill_to: None,
            },
            payment_method: None,
            lines: vec![DraftLine {
                item_code: ItemCode::parse("RACER").unwrap(),
                sku: Sku::parse("RACER").unwrap(),
                description: Some("Racer".into()),
                quantity: dec!(1),
                unit_price: dec!(10.10),
                discount_percent: Some(dec!(20)),
                line_total: dec!(8.08),
                tax_code: TaxCode::parse("US-MI").unwrap(),
                tax_amount: dec!(0.67),
                warehouse_code: WarehouseCode::parse("01").unwrap(),
                magento_item_id: Some(1),
            }],
            expenses: vec![DraftExpense {
                expense_code: 1,
                line_total: dec!(5.00),
                tax_code: TaxCode::parse("EX").unwrap(),
                tax_amount: dec!(0),
                remarks: Some("Flat Rate - Fixed".into()),
            }],
        };
        let body = serde_json::to_value(NewSalesOrder::from(&draft)).unwrap();
        assert_eq!(body["NumAtCard"], "000000013");
        assert_eq!(body["DocTotal"].to_string(), "396.87");
        assert_eq!(body["DocCurrency"], "USD");
        let line = &body["DocumentLines"][0];
        assert_eq!(line["LineTotal"].to_string(), "8.08");
        assert_eq!(line["DiscountPercent"].to_string(), "20");
        assert_eq!(line["TaxCode"], "US-MI");
        assert_eq!(
            line["TaxTotal"].to_string(),
            "0.67",
            "Magento's tax is sent"
        );
        assert_eq!(line["WarehouseCode"], "01");
        assert_eq!(body["AddressExtension"]["ShipToCity"], "Calder");
        assert!(body["AddressExtension"].get("BillToCity").is_none());
        assert!(body["Address2"]
            .as_str()
            .unwrap()
            .starts_with("Veronica Costello\r6146"));
        assert!(body.get("Address").is_none());
        let expense = &body["DocumentAdditionalExpenses"][0];
        assert_eq!(expense["ExpenseCode"], 1);
        assert_eq!(expense["Remarks"], "Flat Rate - Fixed");
    }

    #[test]
    fn a_new_customer_becomes_a_customer_partner_with_both_addresses() {
        let bp = domain::NewBusinessPartner {
            card_code: CardCode::parse("W7").unwrap(),
            card_name: "Veronica Costello".into(),
            email: "roni_cost@example.com".into(),
            phone: Some("(555) 229-3326".into()),
            bill_to: Some(address("Calder")),
            ship_to: Some(address("Detroit")),
        };
        let body = serde_json::to_value(NewBusinessPartner::from(&bp)).unwrap();
        assert_eq!(body["CardType"], "cCustomer");
        assert_eq!(body["EmailAddress"], "roni_cost@example.com");
        assert_eq!(body["BPAddresses"][0]["AddressType"], "bo_BillTo");
        assert_eq!(body["BPAddresses"][1]["City"], "Detroit");
    }
}
