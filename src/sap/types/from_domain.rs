//! The domain's documents in the Service Layer's words: a Sales Order draft becomes the body
//! of `POST /Orders`, a new customer the body of `POST /BusinessPartners`, and an item read
//! from `/Items` the facts the mapping rules check. The domain decides the figures; this only
//! names the fields.
use super::document::{AddressExtension, NewAdditionalExpense, NewDocumentLine, NewSalesOrder};
use super::item::Item;
use super::partner::{AddressType, CardType, NewBpAddress, NewBusinessPartner};
use crate::domain::company::TaxLocalization;
use crate::domain::sales_order::{self as domain, DocumentAddress, ItemFacts, SalesOrderDraft};
use rust_decimal::Decimal;

impl From<&SalesOrderDraft> for NewSalesOrder {
    fn from(d: &SalesOrderDraft) -> Self {
        let ship_to = d.address_extension.ship_to.as_ref();
        let bill_to = d.address_extension.bill_to.as_ref();
        // The tax code goes in the field of the company's localization, amounts in the
        // local-currency or the foreign-currency field (docs/sap-document-calculation.md).
        let vat = d.tax_localization == TaxLocalization::Vat;
        let tax_fields = |code: &str| {
            let code = Some(code.to_owned());
            if vat {
                (None, code)
            } else {
                (code, None)
            }
        };
        let amount = |a: Decimal| {
            if d.foreign_currency {
                (None, Some(a))
            } else {
                (Some(a), None)
            }
        };
        NewSalesOrder {
            card_code: d.card_code.clone(),
            doc_date: d.doc_date,
            doc_due_date: d.doc_due_date,
            tax_date: d.tax_date,
            num_at_card: d.num_at_card.to_string(),
            doc_currency: Some(d.currency.as_str().to_owned()),
            comments: Some(d.comments.clone()).filter(|c| !c.is_empty()),
            address_extension: (ship_to.is_some() || bill_to.is_some()).then(|| AddressExtension {
                ship_to_street: ship_to.and_then(|a| a.street.clone()),
                ship_to_building: ship_to.and_then(|a| a.name.clone()),
                ship_to_city: ship_to.and_then(|a| a.city.clone()),
                ship_to_zip_code: ship_to.and_then(|a| a.zip_code.clone()),
                ship_to_state: ship_to.and_then(|a| a.state.clone()),
                ship_to_country: ship_to.and_then(|a| a.country.clone()),
                bill_to_street: bill_to.and_then(|a| a.street.clone()),
                bill_to_building: bill_to.and_then(|a| a.name.clone()),
                bill_to_city: bill_to.and_then(|a| a.city.clone()),
                bill_to_zip_code: bill_to.and_then(|a| a.zip_code.clone()),
                bill_to_state: bill_to.and_then(|a| a.state.clone()),
                bill_to_country: bill_to.and_then(|a| a.country.clone()),
                ..AddressExtension::default()
            }),
            payment_method: d.payment_method.clone(),
            document_lines: d
                .lines
                .iter()
                .map(|l| {
                    let (tax_code, vat_group) = tax_fields(l.tax_code.as_str());
                    let (line_total, row_total_fc) = amount(l.line_total);
                    NewDocumentLine {
                        item_code: l.item_code.clone(),
                        quantity: l.quantity,
                        unit_price: l.unit_price,
                        discount_percent: l.discount_percent,
                        line_total,
                        row_total_fc,
                        tax_code,
                        vat_group,
                        tax_total: d.send_line_tax.then_some(l.tax_amount),
                        warehouse_code: Some(l.warehouse_code.clone()),
                        item_description: l.description.clone(),
                    }
                })
                .collect(),
            document_additional_expenses: d
                .expenses
                .iter()
                .map(|e| {
                    let (tax_code, vat_group) = tax_fields(e.tax_code.as_str());
                    let (line_total, line_total_fc) = amount(e.line_total);
                    NewAdditionalExpense {
                        expense_code: e.expense_code.into(),
                        line_total,
                        line_total_fc,
                        tax_code,
                        vat_group,
                        tax_sum: d.send_line_tax.then_some(e.tax_amount),
                        remarks: e.remarks.clone(),
                    }
                })
                .collect(),
        }
    }
}

/// SAP's Business Partner currency meaning "all currencies".
pub const ALL_CURRENCIES: &str = "##";

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
            // "All currencies": the customer may order in any currency the store sells in,
            // and SAP takes a foreign-currency document only for a partner in that currency
            // or `##` (docs/sap-document-calculation.md).
            currency: Some(ALL_CURRENCIES.to_owned()),
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

    fn draft() -> SalesOrderDraft {
        let day = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        SalesOrderDraft {
            card_code: CardCode::parse("C20000").unwrap(),
            doc_date: day,
            doc_due_date: day,
            tax_date: day,
            num_at_card: IncrementId::parse("000000013").unwrap(),
            currency: Currency::parse("USD").unwrap(),
            foreign_currency: false,
            tax_localization: TaxLocalization::SalesTax,
            send_line_tax: false,
            comments: "Magento order #000000013".into(),
            expected_doc_total: dec!(396.87),
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
        }
    }

    #[test]
    fn a_draft_becomes_an_orders_body_without_doc_total_and_with_exact_numbers() {
        let body = serde_json::to_value(NewSalesOrder::from(&draft())).unwrap();
        assert_eq!(body["NumAtCard"], "000000013");
        assert!(
            body.get("DocTotal").is_none(),
            "SAP would derive a discount"
        );
        assert_eq!(body["DocCurrency"], "USD");
        assert_eq!(body["DocDate"], "2026-11-26");
        assert_eq!(body["TaxDate"], "2026-11-26");
        let line = &body["DocumentLines"][0];
        assert_eq!(line["LineTotal"].to_string(), "8.08");
        assert!(line.get("RowTotalFC").is_none());
        assert_eq!(line["DiscountPercent"].to_string(), "20");
        assert_eq!(line["TaxCode"], "US-MI");
        assert!(line.get("VatGroup").is_none());
        assert!(line.get("TaxTotal").is_none(), "SAP computes by default");
        assert_eq!(line["WarehouseCode"], "01");
        assert_eq!(body["AddressExtension"]["ShipToCity"], "Calder");
        assert_eq!(
            body["AddressExtension"]["ShipToBuilding"], "Veronica Costello",
            "the name survives SAP's rebuild of Address2"
        );
        assert!(body["AddressExtension"].get("BillToCity").is_none());
        assert!(body.get("Address2").is_none() && body.get("Address").is_none());
        let expense = &body["DocumentAdditionalExpenses"][0];
        assert_eq!(expense["ExpenseCode"], 1);
        assert_eq!(expense["LineTotal"].to_string(), "5.00");
        assert_eq!(expense["TaxCode"], "EX");
        assert!(expense.get("TaxSum").is_none());
        assert_eq!(expense["Remarks"], "Flat Rate - Fixed");
    }

    #[test]
    fn a_vat_company_gets_vat_groups_fc_amounts_and_magentos_tax_when_chosen() {
        let mut d = draft();
        d.tax_localization = TaxLocalization::Vat;
        d.send_line_tax = true;
        let body = serde_json::to_value(NewSalesOrder::from(&d)).unwrap();
        let line = &body["DocumentLines"][0];
        assert_eq!(line["VatGroup"], "US-MI");
        assert!(line.get("TaxCode").is_none());
        assert_eq!(
            line["TaxTotal"].to_string(),
            "0.67",
            "Magento's tax is sent"
        );
        assert_eq!(body["DocumentAdditionalExpenses"][0]["VatGroup"], "EX");
        assert_eq!(
            body["DocumentAdditionalExpenses"][0]["TaxSum"].to_string(),
            "0"
        );

        d.foreign_currency = true;
        d.currency = Currency::parse("EUR").unwrap();
        let body = serde_json::to_value(NewSalesOrder::from(&d)).unwrap();
        let line = &body["DocumentLines"][0];
        assert_eq!(line["RowTotalFC"].to_string(), "8.08");
        assert!(line.get("LineTotal").is_none());
        let expense = &body["DocumentAdditionalExpenses"][0];
        assert_eq!(expense["LineTotalFC"].to_string(), "5.00");
        assert!(expense.get("LineTotal").is_none());
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
        assert_eq!(body["Currency"], "##", "any currency the store sells in");
    }
}
