//! Which SAP B1 master data a mapping or the settings refer to, so that an admin's change
//! can be checked against SAP (a warehouse code SAP does not know, say) before it is stored.
//! Pure: the look-up itself is the SAP client's job.
#[cfg(test)]
use super::mappings::MappingKind;
use super::mappings::MappingValue;
use super::settings::Settings;

/// An SAP B1 master data table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MasterDataKind {
    /// `Items` (OITM).
    Item,
    /// `BusinessPartners` (OCRD).
    BusinessPartner,
    /// `Warehouses` (OWHS).
    Warehouse,
    /// Sales tax codes / VAT groups.
    TaxCode,
    /// Freight (`AdditionalExpenses`, OEXD), by `ExpenseCode`.
    Freight,
    /// Incoming payment methods (`WizardPaymentMethods`, OPYM).
    PaymentMethod,
}

/// One code that must exist in SAP, and the body field it came from (for the error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterDataRef {
    pub field: String,
    pub kind: MasterDataKind,
    pub code: String,
}

fn r(field: &str, kind: MasterDataKind, code: impl ToString) -> MasterDataRef {
    MasterDataRef {
        field: field.into(),
        kind,
        code: code.to_string(),
    }
}

/// The SAP codes a mapping entry names. For warehouses the key itself is the SAP code.
pub fn refs_of_mapping(key: &str, value: &MappingValue) -> Vec<MasterDataRef> {
    use MasterDataKind as K;
    match value {
        MappingValue::Sku(v) => vec![r("item_code", K::Item, &v.item_code)],
        MappingValue::Customer(v) => vec![r("card_code", K::BusinessPartner, &v.card_code)],
        MappingValue::Warehouse(_) => vec![r("key", K::Warehouse, key)],
        MappingValue::TaxCode(v) => vec![r("sap_tax_code", K::TaxCode, &v.sap_tax_code)],
        MappingValue::ShippingMethod(v) => {
            let mut refs = vec![r("expense_code", K::Freight, v.expense_code)];
            refs.extend(v.tax_code.iter().map(|t| r("tax_code", K::TaxCode, t)));
            refs
        }
        MappingValue::PaymentMethod(v) => v
            .sap_payment_method
            .iter()
            .map(|m| r("sap_payment_method", K::PaymentMethod, m))
            .collect(),
    }
}

/// The SAP codes the settings name.
pub fn refs_of_settings(s: &Settings) -> Vec<MasterDataRef> {
    use MasterDataKind as K;
    vec![
        r("guest_card_code", K::BusinessPartner, &s.guest_card_code),
        r("default_warehouse", K::Warehouse, &s.default_warehouse),
        r("tax_exempt_code", K::TaxCode, &s.tax_exempt_code),
        r(
            "default_freight_expense_code",
            K::Freight,
            s.default_freight_expense_code,
        ),
    ]
}

/// For error messages: what an operator calls the table.
pub fn describe(kind: MasterDataKind) -> &'static str {
    match kind {
        MasterDataKind::Item => "item",
        MasterDataKind::BusinessPartner => "business partner",
        MasterDataKind::Warehouse => "warehouse",
        MasterDataKind::TaxCode => "tax code",
        MasterDataKind::Freight => "freight (additional expense)",
        MasterDataKind::PaymentMethod => "payment method",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mappings_name_the_sap_codes_and_the_fields_they_came_from() {
        let wh = MappingKind::Warehouses
            .parse_value(&json!({"include_in_stock": true, "order_default": true}))
            .unwrap();
        assert_eq!(
            refs_of_mapping("02", &wh),
            vec![r("key", MasterDataKind::Warehouse, "02")]
        );
        let ship = MappingKind::ShippingMethods
            .parse_value(&json!({"expense_code": 3, "tax_code": "US-MI"}))
            .unwrap();
        assert_eq!(
            refs_of_mapping("flatrate_flatrate", &ship),
            vec![
                r("expense_code", MasterDataKind::Freight, "3"),
                r("tax_code", MasterDataKind::TaxCode, "US-MI")
            ]
        );
        let pay = MappingKind::PaymentMethods
            .parse_value(&json!({"comment": "prepaid"}))
            .unwrap();
        assert!(refs_of_mapping("checkmo", &pay).is_empty());
    }

    #[test]
    fn settings_name_guest_partner_warehouse_tax_and_freight() {
        let fields: Vec<String> = refs_of_settings(&Settings::default())
            .into_iter()
            .map(|r| r.field)
            .collect();
        assert_eq!(
            fields,
            [
                "guest_card_code",
                "default_warehouse",
                "tax_exempt_code",
                "default_freight_expense_code"
            ]
        );
    }
}
