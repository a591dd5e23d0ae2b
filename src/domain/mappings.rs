//! The six mapping tables of contract §3 (`/api/v1/mappings/{kind}`): how Magento's names
//! (SKUs, customers, tax rates, carriers, payment methods) translate into SAP B1 codes, and
//! which SAP warehouses feed orders and stock. Each table is `key → value`; the key is the
//! Magento-side name (SAP `WarehouseCode` for warehouses). The worker loads all six into one
//! [`Mappings`] snapshot and hands it to the rules in [`super::mapping`].
use rust_decimal::Decimal;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

use super::ids::{CardCode, ItemCode, Sku, TaxCode, WarehouseCode};
use super::validation::FieldError;

/// Which table; its `as_str` is the path segment of `/api/v1/mappings/{kind}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MappingKind {
    Skus,
    Customers,
    Warehouses,
    TaxCodes,
    ShippingMethods,
    PaymentMethods,
}

impl MappingKind {
    pub const ALL: [MappingKind; 6] = [
        MappingKind::Skus,
        MappingKind::Customers,
        MappingKind::Warehouses,
        MappingKind::TaxCodes,
        MappingKind::ShippingMethods,
        MappingKind::PaymentMethods,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MappingKind::Skus => "skus",
            MappingKind::Customers => "customers",
            MappingKind::Warehouses => "warehouses",
            MappingKind::TaxCodes => "tax-codes",
            MappingKind::ShippingMethods => "shipping-methods",
            MappingKind::PaymentMethods => "payment-methods",
        }
    }

    /// From the path segment; `None` for an unknown kind (a 404 at the API).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Checks a key and returns it in the one form it is stored and looked up in: SKUs and
    /// Magento codes trimmed, customer e-mails lower-cased, customer ids without leading
    /// zeros, SAP warehouse codes as SAP spells them. Errors name the field `key`.
    pub fn normalise_key(self, raw: &str) -> Result<String, FieldError> {
        let key = raw.trim();
        let bad = |message: &str| FieldError::new("key", message);
        match self {
            MappingKind::Skus => Sku::parse(key)
                .map(String::from)
                .map_err(|e| bad(&format!("the Magento SKU {}", e.reason))),
            MappingKind::Customers => customer_key(key)
                .ok_or_else(|| bad("must be a Magento customer id (digits) or an e-mail address")),
            MappingKind::Warehouses => WarehouseCode::parse(key)
                .map(String::from)
                .map_err(|e| bad(&format!("the SAP WarehouseCode {}", e.reason))),
            MappingKind::TaxCodes => code_key(key, 255).ok_or_else(|| {
                bad("must be a Magento tax rate code (1 to 255 characters, e.g. 'US-MI-*-Rate 1')")
            }),
            MappingKind::ShippingMethods => shipping_method_key(key).ok_or_else(|| {
                bad("must be a Magento carrier_method such as 'flatrate_flatrate' (no spaces)")
            }),
            MappingKind::PaymentMethods => code_key(key, 128)
                .filter(|k| !k.contains(char::is_whitespace))
                .ok_or_else(|| {
                    bad("must be a Magento payment method code such as 'checkmo' (no spaces)")
                }),
        }
    }

    /// Parses and checks a value of this kind from the JSON body of a `PUT`.
    pub fn parse_value(self, json: &serde_json::Value) -> Result<MappingValue, Vec<FieldError>> {
        let value = match self {
            MappingKind::Skus => MappingValue::Sku(from_json(json)?),
            MappingKind::Customers => MappingValue::Customer(from_json(json)?),
            MappingKind::Warehouses => MappingValue::Warehouse(from_json(json)?),
            MappingKind::TaxCodes => MappingValue::TaxCode(from_json(json)?),
            MappingKind::ShippingMethods => MappingValue::ShippingMethod(from_json(json)?),
            MappingKind::PaymentMethods => MappingValue::PaymentMethod(from_json(json)?),
        };
        value.validate()?;
        Ok(value)
    }
}

fn from_json<T: DeserializeOwned>(json: &serde_json::Value) -> Result<T, Vec<FieldError>> {
    serde_json::from_value(json.clone()).map_err(|e| vec![FieldError::new("value", e.to_string())])
}

fn code_key(key: &str, max: usize) -> Option<String> {
    (!key.is_empty() && key.chars().count() <= max && !key.chars().any(char::is_control))
        .then(|| key.to_owned())
}

fn customer_key(key: &str) -> Option<String> {
    if !key.is_empty() && key.chars().all(|c| c.is_ascii_digit()) {
        return key
            .parse::<u64>()
            .ok()
            .filter(|id| *id > 0)
            .map(|id| id.to_string());
    }
    let (local, domain) = key.split_once('@')?;
    let plausible = !local.is_empty()
        && !domain.is_empty()
        && key.len() <= 254
        && !key.chars().any(|c| c.is_whitespace() || c.is_control());
    plausible.then(|| key.to_lowercase())
}

fn shipping_method_key(key: &str) -> Option<String> {
    let (carrier, method) = key.split_once('_')?;
    let ok = !carrier.is_empty()
        && !method.is_empty()
        && key.len() <= 255
        && !key.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then(|| key.to_owned())
}

/// `skus`: which SAP item a Magento SKU is sold as. Without an entry, the SKU itself is
/// used as the ItemCode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkuMapping {
    #[schema(value_type = String, example = "MH01-S-GRY")]
    pub item_code: ItemCode,
}

/// `customers`: the Business Partner of a Magento customer id or (lower-case) e-mail,
/// bypassing the e-mail search and the guest policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerMapping {
    #[schema(value_type = String, example = "C20000")]
    pub card_code: CardCode,
}

/// `warehouses` (key: SAP `WarehouseCode`): how an SAP warehouse takes part in stock sync
/// and order posting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WarehouseMapping {
    /// The Magento MSI source this warehouse's stock is published to (`default` on a
    /// single-source store); `None` when it feeds no source.
    #[serde(default)]
    pub magento_source_code: Option<String>,
    /// Whether its stock counts in what Magento may sell.
    pub include_in_stock: bool,
    /// Whether order lines are posted to this warehouse. Should be true for one warehouse;
    /// if several are marked, the lowest code wins (so the choice is at least stable).
    pub order_default: bool,
}

/// `tax-codes` (key: Magento tax rate code, e.g. `US-MI-*-Rate 1`): the SAP tax code of
/// lines taxed at that rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxCodeMapping {
    #[schema(value_type = String, example = "US-MI")]
    pub sap_tax_code: TaxCode,
    /// The rate's percentage. Optional; when given, a taxed line that reports only its
    /// `tax_percent` (some Magento responses omit `item_applied_taxes`) finds this code by
    /// percentage, provided exactly one mapping has that percentage.
    #[serde(
        default,
        with = "crate::domain::money::option_number",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<f64>, example = 8.25)]
    pub rate_percent: Option<Decimal>,
}

/// `shipping-methods` (key: Magento `carrier_method`, e.g. `flatrate_flatrate`): the SAP
/// freight (additional expense) that carries the shipping amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShippingMethodMapping {
    pub expense_code: i32,
    /// SAP tax code for taxed shipping; untaxed shipping always uses the exempt code.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "US-MI")]
    pub tax_code: Option<TaxCode>,
}

/// `payment-methods` (key: Magento payment method code, e.g. `checkmo`): the SAP payment
/// method and/or a remark for the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentMethodMapping {
    /// SAP `PaymentMethod` (OPYM code, 15 characters).
    #[serde(default)]
    pub sap_payment_method: Option<String>,
    /// Added to the document's comments, e.g. "Prepaid by card — do not invoice for payment".
    #[serde(default)]
    pub comment: Option<String>,
    /// SAP G/L account (`AcctCode`, 15 characters) an online refund is paid from, by an
    /// outgoing payment applied to its credit memo (`refunds.outgoing_payment`).
    #[serde(default)]
    pub refund_account: Option<String>,
}

/// A value of any kind, as the API and the storage layer pass it around. Its JSON is the
/// bare value object (the kind is known from the path or the row), never a tagged union.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MappingValue {
    Sku(SkuMapping),
    Customer(CustomerMapping),
    Warehouse(WarehouseMapping),
    TaxCode(TaxCodeMapping),
    ShippingMethod(ShippingMethodMapping),
    PaymentMethod(PaymentMethodMapping),
}

impl MappingValue {
    pub fn kind(&self) -> MappingKind {
        match self {
            MappingValue::Sku(_) => MappingKind::Skus,
            MappingValue::Customer(_) => MappingKind::Customers,
            MappingValue::Warehouse(_) => MappingKind::Warehouses,
            MappingValue::TaxCode(_) => MappingKind::TaxCodes,
            MappingValue::ShippingMethod(_) => MappingKind::ShippingMethods,
            MappingValue::PaymentMethod(_) => MappingKind::PaymentMethods,
        }
    }

    /// The value's JSON object, as stored and as the API returns it.
    pub fn to_json(&self) -> serde_json::Value {
        let v = match self {
            MappingValue::Sku(v) => serde_json::to_value(v),
            MappingValue::Customer(v) => serde_json::to_value(v),
            MappingValue::Warehouse(v) => serde_json::to_value(v),
            MappingValue::TaxCode(v) => serde_json::to_value(v),
            MappingValue::ShippingMethod(v) => serde_json::to_value(v),
            MappingValue::PaymentMethod(v) => serde_json::to_value(v),
        };
        v.expect("mapping values always serialize")
    }

    /// The checks that the field types cannot express.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        match self {
            MappingValue::Sku(_) | MappingValue::Customer(_) => {}
            MappingValue::Warehouse(w) => {
                if let Some(source) = &w.magento_source_code {
                    if code_key(source.trim(), 255).is_none() {
                        errors.push(FieldError::new(
                            "magento_source_code",
                            "must be 1 to 255 characters, or null",
                        ));
                    }
                }
            }
            MappingValue::TaxCode(t) => {
                if let Some(p) = t.rate_percent {
                    if p < Decimal::ZERO || p > Decimal::ONE_HUNDRED {
                        errors.push(FieldError::new("rate_percent", "must be between 0 and 100"));
                    }
                }
            }
            MappingValue::ShippingMethod(s) => {
                if s.expense_code < 1 {
                    errors.push(FieldError::new(
                        "expense_code",
                        "must be a positive SAP expense code",
                    ));
                }
            }
            MappingValue::PaymentMethod(p) => {
                if let Some(m) = &p.sap_payment_method {
                    if code_key(m.trim(), 15).is_none() {
                        errors.push(FieldError::new(
                            "sap_payment_method",
                            "must be 1 to 15 characters, or null",
                        ));
                    }
                }
                if let Some(a) = &p.refund_account {
                    if code_key(a.trim(), 15).is_none() {
                        errors.push(FieldError::new(
                            "refund_account",
                            "must be 1 to 15 characters, or null",
                        ));
                    }
                }
                if p.comment
                    .as_deref()
                    .is_some_and(|c| c.chars().count() > 254)
                {
                    errors.push(FieldError::new("comment", "must be at most 254 characters"));
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// One row of a mapping table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingEntry {
    /// Already normalised with [`MappingKind::normalise_key`].
    pub key: String,
    pub value: MappingValue,
}

/// Every mapping table at one moment, keyed by normalised key. Loaded once per job so a
/// single order is mapped against one consistent picture even while an admin edits tables.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mappings {
    pub skus: HashMap<String, SkuMapping>,
    pub customers: HashMap<String, CustomerMapping>,
    pub warehouses: HashMap<String, WarehouseMapping>,
    pub tax_codes: HashMap<String, TaxCodeMapping>,
    pub shipping_methods: HashMap<String, ShippingMethodMapping>,
    pub payment_methods: HashMap<String, PaymentMethodMapping>,
}

impl Mappings {
    /// Adds (or replaces) one entry; the key is normalised for the value's kind first, so
    /// rows written by older code still match.
    pub fn insert(&mut self, key: &str, value: MappingValue) -> Result<(), FieldError> {
        let key = value.kind().normalise_key(key)?;
        match value {
            MappingValue::Sku(v) => self.skus.insert(key, v).map(drop),
            MappingValue::Customer(v) => self.customers.insert(key, v).map(drop),
            MappingValue::Warehouse(v) => self.warehouses.insert(key, v).map(drop),
            MappingValue::TaxCode(v) => self.tax_codes.insert(key, v).map(drop),
            MappingValue::ShippingMethod(v) => self.shipping_methods.insert(key, v).map(drop),
            MappingValue::PaymentMethod(v) => self.payment_methods.insert(key, v).map(drop),
        };
        Ok(())
    }

    /// A snapshot of the given entries.
    pub fn from_entries(
        entries: impl IntoIterator<Item = MappingEntry>,
    ) -> Result<Self, FieldError> {
        let mut m = Mappings::default();
        for e in entries {
            m.insert(&e.key, e.value)?;
        }
        Ok(m)
    }

    /// The SAP item a SKU is posted as, when mapped.
    pub fn item_code_for(&self, sku: &Sku) -> Option<&ItemCode> {
        self.skus.get(sku.as_str()).map(|m| &m.item_code)
    }

    pub fn card_code_for_customer_id(&self, magento_customer_id: i64) -> Option<&CardCode> {
        self.customers
            .get(&magento_customer_id.to_string())
            .map(|m| &m.card_code)
    }

    /// E-mails are compared case-insensitively, as mail systems treat them.
    pub fn card_code_for_email(&self, email: &str) -> Option<&CardCode> {
        self.customers
            .get(&email.trim().to_lowercase())
            .map(|m| &m.card_code)
    }

    /// The warehouse that order lines go to, if a mapping says so (lowest code wins when
    /// several are marked).
    pub fn order_default_warehouse(&self) -> Option<WarehouseCode> {
        self.warehouses
            .iter()
            .filter(|(_, w)| w.order_default)
            .map(|(code, _)| code)
            .min()
            .and_then(|code| WarehouseCode::parse(code).ok())
    }

    pub fn tax_code_for_rate(&self, magento_rate_code: &str) -> Option<&TaxCode> {
        self.tax_codes
            .get(magento_rate_code.trim())
            .map(|m| &m.sap_tax_code)
    }

    /// The SAP tax code of the rates Magento applied to one line (or the shipping): one rate
    /// is its own key; stacked rates (a US state rate plus a county rate) are one SAP code
    /// that combines them, mapped under [`Mappings::rates_key`]. `None` for no rates.
    pub fn tax_code_for_rates(&self, magento_rate_codes: &[String]) -> Option<&TaxCode> {
        match magento_rate_codes {
            [] => None,
            [one] => self.tax_code_for_rate(one),
            several => self.tax_code_for_rate(&Self::rates_key(several)),
        }
    }

    /// The tax-codes key of a combination of rates: the codes sorted and joined with
    /// `" + "`, e.g. `US-CA-*-Rate 1 + US-CA-LA-County`, so the order Magento lists them
    /// in does not matter.
    pub fn rates_key(magento_rate_codes: &[String]) -> String {
        let mut codes: Vec<&str> = magento_rate_codes.iter().map(|c| c.trim()).collect();
        codes.sort_unstable();
        codes.dedup();
        codes.join(" + ")
    }

    /// The one SAP tax code mapped with this percentage; `None` if none or several are.
    pub fn tax_code_for_percent(&self, percent: Decimal) -> Option<&TaxCode> {
        let mut found = self
            .tax_codes
            .values()
            .filter(|m| m.rate_percent.is_some_and(|p| p == percent))
            .map(|m| &m.sap_tax_code);
        let first = found.next()?;
        found.all(|other| other == first).then_some(first)
    }

    pub fn shipping_method(&self, carrier_method: &str) -> Option<&ShippingMethodMapping> {
        self.shipping_methods.get(carrier_method.trim())
    }

    pub fn payment_method(&self, method: &str) -> Option<&PaymentMethodMapping> {
        self.payment_methods.get(method.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use serde_json::json;

    #[test]
    fn kinds_use_the_contract_path_names() {
        let names: Vec<_> = MappingKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "skus",
                "customers",
                "warehouses",
                "tax-codes",
                "shipping-methods",
                "payment-methods"
            ]
        );
        for kind in MappingKind::ALL {
            assert_eq!(MappingKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        assert_eq!(MappingKind::parse("sku"), None);
    }

    #[test]
    fn keys_are_normalised_per_kind() {
        let ok = |kind: MappingKind, raw: &str| kind.normalise_key(raw).unwrap();
        assert_eq!(ok(MappingKind::Skus, " MH01-S-Gray "), "MH01-S-Gray");
        assert_eq!(
            ok(MappingKind::Customers, "Roni_Cost@Example.com"),
            "roni_cost@example.com"
        );
        assert_eq!(ok(MappingKind::Customers, "0042"), "42");
        assert_eq!(ok(MappingKind::Warehouses, "01"), "01");
        assert_eq!(
            ok(MappingKind::TaxCodes, "US-MI-*-Rate 1"),
            "US-MI-*-Rate 1"
        );
        assert_eq!(
            ok(MappingKind::ShippingMethods, "flatrate_flatrate"),
            "flatrate_flatrate"
        );
        assert_eq!(ok(MappingKind::PaymentMethods, "checkmo"), "checkmo");
    }

    #[test]
    fn bad_keys_are_refused_with_a_key_field_error() {
        let refused = [
            (MappingKind::Skus, "x".repeat(65)),
            (MappingKind::Customers, "0".into()),
            (MappingKind::Customers, "not an email".into()),
            (MappingKind::Customers, "@example.com".into()),
            (MappingKind::Warehouses, "WAREHOUSE9".into()),
            (MappingKind::TaxCodes, " ".into()),
            (MappingKind::ShippingMethods, "flatrate".into()),
            (MappingKind::ShippingMethods, "flat rate_x".into()),
            (MappingKind::PaymentMethods, "check mo".into()),
        ];
        for (kind, key) in refused {
            let err = kind.normalise_key(&key).expect_err(&key);
            assert_eq!(err.field, "key", "{key}");
        }
    }

    #[test]
    fn values_are_parsed_by_kind_and_checked_field_by_field() {
        let v = MappingKind::TaxCodes
            .parse_value(&json!({"sap_tax_code": "US-MI", "rate_percent": 8.25}))
            .unwrap();
        assert_eq!(
            v,
            MappingValue::TaxCode(TaxCodeMapping {
                sap_tax_code: TaxCode::parse("US-MI").unwrap(),
                rate_percent: Some(dec!(8.25)),
            })
        );
        assert_eq!(
            v.to_json(),
            json!({"sap_tax_code": "US-MI", "rate_percent": 8.25})
        );

        let w = MappingKind::Warehouses
            .parse_value(&json!({"include_in_stock": true, "order_default": false}))
            .unwrap();
        assert_eq!(w.kind(), MappingKind::Warehouses);

        let field = |kind: MappingKind, body: serde_json::Value| {
            kind.parse_value(&body).unwrap_err()[0].field.clone()
        };
        assert_eq!(
            field(MappingKind::ShippingMethods, json!({"expense_code": 0})),
            "expense_code"
        );
        assert_eq!(
            field(
                MappingKind::TaxCodes,
                json!({"sap_tax_code": "X", "rate_percent": 101})
            ),
            "rate_percent"
        );
        assert_eq!(
            field(
                MappingKind::PaymentMethods,
                json!({"sap_payment_method": "P".repeat(16)})
            ),
            "sap_payment_method"
        );
        assert_eq!(field(MappingKind::Skus, json!({"item_code": ""})), "value");
        assert_eq!(field(MappingKind::Skus, json!({"itemcode": "A"})), "value");
        assert_eq!(
            field(MappingKind::Customers, json!({"card_code": "C".repeat(16)})),
            "value"
        );
    }

    #[test]
    fn snapshot_lookups_follow_the_normalised_keys() {
        let mut m = Mappings::default();
        let customer = |c: &str| {
            MappingValue::Customer(CustomerMapping {
                card_code: CardCode::parse(c).unwrap(),
            })
        };
        m.insert("007", customer("C7")).unwrap();
        m.insert("Jane@Example.com", customer("C8")).unwrap();
        assert_eq!(m.card_code_for_customer_id(7).unwrap().as_str(), "C7");
        assert_eq!(
            m.card_code_for_email(" JANE@example.COM").unwrap().as_str(),
            "C8"
        );
        assert!(m.insert("nobody", customer("C9")).is_err());

        let warehouse = |default| {
            MappingValue::Warehouse(WarehouseMapping {
                magento_source_code: None,
                include_in_stock: true,
                order_default: default,
            })
        };
        assert_eq!(m.order_default_warehouse(), None);
        m.insert("03", warehouse(true)).unwrap();
        m.insert("02", warehouse(true)).unwrap();
        m.insert("01", warehouse(false)).unwrap();
        assert_eq!(m.order_default_warehouse().unwrap().as_str(), "02");
    }

    #[test]
    fn a_percentage_identifies_a_tax_code_only_when_unambiguous() {
        let mut m = Mappings::from_entries(crate::sim::sap_b1::default_seed_mappings()).unwrap();
        assert_eq!(
            m.tax_code_for_percent(dec!(23.00)).unwrap().as_str(),
            "VAT23"
        );
        assert_eq!(m.tax_code_for_percent(dec!(19)), None);
        m.insert(
            "VAT 23 reduced",
            MappingValue::TaxCode(TaxCodeMapping {
                sap_tax_code: TaxCode::parse("VAT23R").unwrap(),
                rate_percent: Some(dec!(23)),
            }),
        )
        .unwrap();
        assert_eq!(m.tax_code_for_percent(dec!(23)), None);
    }
}
