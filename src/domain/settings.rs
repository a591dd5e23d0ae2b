//! Business settings: the choices a merchant makes about how orders become SAP documents
//! (guest customers, serial/batch items, default warehouse, retries). Stored as one JSON
//! document in Postgres and edited through `GET/PUT /api/v1/settings`. Defaults name what is
//! used until a person says otherwise; mappings are never invented (a fresh install has none).
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::company::TaxLocalization;
use super::ids::{CardCode, ItemCode, TaxCode, WarehouseCode};
use super::prices::{route_problem, PriceRoute, PriceScope};
use super::reference::NumAtCardFormat;
use super::stock::StockMode;
use super::validation::FieldError;

/// Longest `card_code_prefix`: leaves room for a 10-digit Magento customer id (Magento's
/// `customer_entity.entity_id` is an unsigned 32-bit integer) inside SAP's 15-character CardCode.
pub const MAX_CARD_CODE_PREFIX: usize = 5;

/// What to do with an order placed without a customer account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GuestPolicy {
    /// Post on one shared guest Business Partner (`guest_card_code`); the order's own
    /// addresses travel on the document.
    #[default]
    SharedGuest,
    /// One Business Partner per guest e-mail: found by e-mail, else created.
    PerEmail,
    /// Do not post; raise `customer_unmapped` so customer service decides.
    Hold,
}

/// What to do with lines whose SAP item is serial- or batch-managed. A Sales Order does not
/// need serial/batch numbers (they are picked at delivery), so such orders post by default;
/// some companies want a person to look at them first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SerialBatchPolicy {
    /// Raise `serial_batch_required` and do not post.
    Hold,
    /// Post normally; numbers are chosen when the delivery is made in SAP.
    #[default]
    Post,
}

/// How the VAT or sales tax that SAP books is made to equal what Magento charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaxStrategy {
    /// SAP computes each line's tax from its tax code (its own per-line rounding). Before
    /// posting, b1bridge computes the same and holds the order as `total_mismatch` when it
    /// differs from Magento's by more than `total_tolerance`.
    #[default]
    SapComputes,
    /// Magento's tax of each line and of the freight is sent (`TaxTotal`/`TaxSum`) and SAP
    /// keeps it, so SAP's tax equals Magento's to the cent. Local-currency documents only:
    /// for a foreign-currency document SAP computes, as under `sap_computes`.
    MagentoLineTax,
}

/// The merchant's settings. Every field has a default, so settings stored by an older
/// version still load after a field is added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct Settings {
    pub guest_policy: GuestPolicy,
    /// The shared Business Partner for guest orders under `shared_guest`.
    #[schema(value_type = String, example = "WEBGUEST")]
    pub guest_card_code: CardCode,
    /// Prefix of the CardCodes this service creates: `{prefix}{customer id}` for registered
    /// customers, `{prefix}G{hash of e-mail}` for per-e-mail guests. 1–5 letters or digits.
    #[schema(example = "W", pattern = "^[A-Za-z0-9]{1,5}$")]
    pub card_code_prefix: String,
    /// Warehouse of every line when no warehouse mapping is marked `order_default`.
    #[schema(value_type = String, example = "01")]
    pub default_warehouse: WarehouseCode,
    pub serial_batch_policy: SerialBatchPolicy,
    /// SAP freight (`ExpenseCode`) for shipping methods without a shipping-methods mapping.
    #[schema(minimum = 1)]
    pub default_freight_expense_code: i32,
    /// SAP tax code for lines and shipping on which Magento charged no tax and named no rate.
    #[schema(value_type = String, example = "EX")]
    pub tax_exempt_code: TaxCode,
    /// Quantity held back from every SKU's stock sent to Magento (once per SKU, not per
    /// warehouse or source), so a miscount in the warehouse does not become an oversell.
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    #[schema(value_type = f64, minimum = 0, example = 0)]
    pub safety_stock: Decimal,
    /// How long the SAP item-master facts (active, frozen, sales item, serial/batch) are
    /// trusted before being read again.
    #[schema(minimum = 10, maximum = 86400)]
    pub item_cache_ttl_secs: u64,
    /// The SAP reference (`NumAtCard`) of an order, by which it is found again before any
    /// (re)post: `{increment_id}` (default), optionally with `{store_id}` and literal text,
    /// e.g. `S{store_id}-{increment_id}` when several stores feed one company.
    pub num_at_card_format: NumAtCardFormat,
    /// How often an order that an SAP approval procedure turned into a draft is checked for
    /// the approver's decision.
    #[schema(minimum = 10, maximum = 86400)]
    pub approval_check_interval_secs: u64,
    /// The company's tax localization, which decides whether lines carry `VatGroup` (VAT)
    /// or `TaxCode` (US/Canada sales tax). `null`: taken from the company (it has VAT groups
    /// → `vat`, else `sales_tax`).
    #[schema(nullable)]
    pub tax_localization: Option<TaxLocalization>,
    pub tax_strategy: TaxStrategy,
    /// Largest difference, per figure (document total and tax), between what SAP will book
    /// and what Magento charged that still posts. 0 to 1 (document currency).
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    #[schema(value_type = f64, minimum = 0, maximum = 1, example = 0)]
    pub total_tolerance: Decimal,
    /// The store's IANA time zone: an order's `DocDate`/`TaxDate` is its day there (Magento
    /// sends UTC times).
    #[schema(example = "Europe/London")]
    pub store_timezone: String,
    /// How Magento keeps stock: `msi` (per-source quantities, reservations) or `legacy`
    /// (one stock item per product).
    pub stock_mode: StockMode,
    /// Source items per Magento call on MSI (the legacy API takes one SKU per call).
    #[schema(minimum = 1, maximum = 5000)]
    pub stock_batch_size: u32,
    /// Every this many hours one stock run pushes every SKU, not only the changes, so that
    /// anything changed in Magento by hand is put right.
    #[schema(minimum = 1, maximum = 720)]
    pub stock_full_sync_hours: u32,
    /// Items per page when reading stock from SAP (`Prefer: odata.maxpagesize`).
    #[schema(minimum = 20, maximum = 5000)]
    pub stock_sap_page_size: u32,
    /// How many days back a scheduled reconciliation compares Magento orders with SAP B1
    /// (by the order's creation time).
    pub reconcile_window_days: u32,
    /// A Magento payment captured this many days ago whose SAP order still has no A/R
    /// invoice (the document an incoming payment is applied to) is `payment_unlinked`.
    pub payment_link_days: u32,
    /// SKUs whose Magento salable quantity each reconciliation compares with SAP, in turn
    /// (every SKU touched by an order or cancellation since the last check comes on top).
    pub reconcile_stock_sample: u32,
    /// The MSI stock (`stock_id`) whose salable quantity the reconciliation reads.
    pub magento_stock_id: i64,
    /// How Magento credit memos become SAP A/R credit memos.
    pub refunds: RefundSettings,
    /// Which SAP price list feeds which Magento store, in which currency. Empty: no price is
    /// synced (a price run fails saying so).
    pub price_routes: Vec<PriceRoute>,
    /// Magento's `catalog/price/scope`.
    pub magento_price_scope: PriceScope,
    /// Magento's "Catalog Prices" tax setting: whether the prices entered in the catalogue
    /// include tax (Magento's default: they do not). A price list whose `IsGrossPrice`
    /// disagrees is refused.
    pub catalog_prices_include_tax: bool,
    /// Decimals of the shop's prices; SAP prices are rounded to them before the comparison.
    pub price_decimals: u32,
    /// Prices per Magento call.
    pub price_batch_size: u32,
    /// Every this many hours one price run offers every price, not only the changes.
    pub price_full_sync_hours: u32,
    /// Items per page when reading prices from SAP.
    pub price_sap_page_size: u32,
    /// The guard rail: a price that moves by more than this percentage (or to 0) is held
    /// as a `price_rejected` exception instead of published.
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    #[schema(value_type = f64, minimum = 1, maximum = 1000, example = 50)]
    pub price_max_change_percent: Decimal,
    /// The `CardCode` under which this SAP company keeps period discounts for all Business
    /// Partners (SAP's own key for them is not publicly documented). `null`: special prices
    /// are not synced (reported as a warning by every price run).
    #[schema(nullable, example = "*1")]
    pub special_prices_card_code: Option<String>,
}

/// How refunds post (docs/refunds.md). Nothing is seeded: an adjustment with no account
/// configured is reported, not guessed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct RefundSettings {
    /// Where goods going back to stock are received; `null`: `default_warehouse`.
    #[schema(value_type = Option<String>, example = "RET")]
    pub returns_warehouse: Option<WarehouseCode>,
    /// Mirrors Magento's "Automatically Return Credit Memo Item to Stock"
    /// (`cataloginventory/item_options/auto_return`): used for credit memos whose items do
    /// not say whether they went back to stock (the REST shape does not).
    pub auto_return_to_stock: bool,
    /// SAP freight (`ExpenseCode`) for an Adjustment Refund; `null`: the adjustment item.
    #[schema(minimum = 1)]
    pub adjustment_refund_expense_code: Option<i32>,
    /// A non-inventory SAP item for adjustments: an Adjustment Refund as a line of quantity 1
    /// (when no expense code is set), an Adjustment Fee as a line of quantity −1.
    #[schema(value_type = Option<String>, example = "ADJUST")]
    pub adjustment_item_code: Option<ItemCode>,
    /// A refund of an order that SAP has neither delivered nor invoiced reduces its Sales
    /// Order by the refunded quantities (`PATCH /Orders(n)`), and closes it once nothing is left
    /// (`POST /Orders(n)/Close`), instead of waiting for an invoice to credit. Off by default:
    /// see the README's trade-off.
    pub close_uninvoiced_order: bool,
    /// How often a refund waiting for its order's A/R invoice is checked again.
    #[schema(minimum = 1, maximum = 86400)]
    pub recheck_interval_secs: u64,
    /// Reconciliation: a Magento credit memo with no SAP A/R credit memo this many days
    /// after it was made is `refund_unmatched` (docs/reconciliation.md).
    #[schema(minimum = 1, maximum = 366)]
    pub reconcile_after_days: u32,
    /// Money out: an online refund's credit memo is paid back by an outgoing payment
    /// (`VendorPayments`, `rCustomer`) from the G/L account mapped for the order's payment
    /// method (`refund_account`). Off by default.
    pub outgoing_payment: bool,
}

impl Default for RefundSettings {
    fn default() -> Self {
        Self {
            returns_warehouse: None,
            auto_return_to_stock: false,
            adjustment_refund_expense_code: None,
            adjustment_item_code: None,
            close_uninvoiced_order: false,
            recheck_interval_secs: 900,
            reconcile_after_days: 3,
            outgoing_payment: false,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            guest_policy: GuestPolicy::SharedGuest,
            guest_card_code: CardCode::parse("WEBGUEST").expect("valid literal"),
            card_code_prefix: "W".into(),
            default_warehouse: WarehouseCode::parse("01").expect("valid literal"),
            serial_batch_policy: SerialBatchPolicy::Post,
            default_freight_expense_code: 1,
            tax_exempt_code: TaxCode::parse("EX").expect("valid literal"),
            safety_stock: Decimal::ZERO,
            item_cache_ttl_secs: 300,
            num_at_card_format: NumAtCardFormat::default(),
            approval_check_interval_secs: 900,
            tax_localization: None,
            tax_strategy: TaxStrategy::SapComputes,
            total_tolerance: Decimal::ZERO,
            store_timezone: "UTC".into(),
            stock_mode: StockMode::Msi,
            stock_batch_size: 100,
            stock_full_sync_hours: 24,
            stock_sap_page_size: 500,
            reconcile_window_days: 7,
            payment_link_days: 3,
            reconcile_stock_sample: 100,
            magento_stock_id: 1,
            refunds: RefundSettings::default(),
            price_routes: Vec::new(),
            magento_price_scope: PriceScope::Global,
            catalog_prices_include_tax: false,
            price_decimals: 2,
            price_batch_size: 100,
            price_full_sync_hours: 24,
            price_sap_page_size: 500,
            price_max_change_percent: Decimal::from(50),
            special_prices_card_code: None,
        }
    }
}

impl Settings {
    /// Checks what the types cannot: ranges and the CardCode prefix. Returns every problem
    /// at once so an operator fixes the body in one go.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        let prefix = &self.card_code_prefix;
        if prefix.is_empty() || prefix.chars().count() > MAX_CARD_CODE_PREFIX {
            errors.push(FieldError::new(
                "card_code_prefix",
                format!("must be 1 to {MAX_CARD_CODE_PREFIX} characters"),
            ));
        } else if !prefix.chars().all(|c| c.is_ascii_alphanumeric()) {
            errors.push(FieldError::new(
                "card_code_prefix",
                "may contain only letters A-Z, a-z and digits",
            ));
        }
        if self.default_freight_expense_code < 1 {
            errors.push(FieldError::new(
                "default_freight_expense_code",
                "must be a positive SAP expense code",
            ));
        }
        if self.safety_stock < Decimal::ZERO {
            errors.push(FieldError::new("safety_stock", "must not be negative"));
        }
        if !(10..=86_400).contains(&self.item_cache_ttl_secs) {
            errors.push(FieldError::new(
                "item_cache_ttl_secs",
                "must be between 10 and 86400 seconds",
            ));
        }
        if let Some(problem) = self.num_at_card_format.problem() {
            errors.push(FieldError::new("num_at_card_format", problem));
        }
        if !(10..=86_400).contains(&self.approval_check_interval_secs) {
            errors.push(FieldError::new(
                "approval_check_interval_secs",
                "must be between 10 and 86400 seconds",
            ));
        }
        if !(1..=86_400).contains(&self.refunds.recheck_interval_secs) {
            errors.push(FieldError::new(
                "refunds.recheck_interval_secs",
                "must be between 1 and 86400 seconds",
            ));
        }
        if !(1..=366).contains(&self.refunds.reconcile_after_days) {
            errors.push(FieldError::new(
                "refunds.reconcile_after_days",
                "must be between 1 and 366 days",
            ));
        }
        if self
            .refunds
            .adjustment_refund_expense_code
            .is_some_and(|c| c < 1)
        {
            errors.push(FieldError::new(
                "refunds.adjustment_refund_expense_code",
                "must be a positive SAP expense code",
            ));
        }
        if self.total_tolerance < Decimal::ZERO || self.total_tolerance > Decimal::ONE {
            errors.push(FieldError::new(
                "total_tolerance",
                "must be between 0 and 1 (document currency)",
            ));
        }
        if self.store_timezone.parse::<chrono_tz::Tz>().is_err() {
            errors.push(FieldError::new(
                "store_timezone",
                "must be an IANA time zone such as 'Europe/London' or 'America/New_York'",
            ));
        }
        if !(1..=5_000).contains(&self.stock_batch_size) {
            errors.push(FieldError::new(
                "stock_batch_size",
                "must be between 1 and 5000 source items",
            ));
        }
        if !(1..=720).contains(&self.stock_full_sync_hours) {
            errors.push(FieldError::new(
                "stock_full_sync_hours",
                "must be between 1 and 720 hours",
            ));
        }
        if !(20..=5_000).contains(&self.stock_sap_page_size) {
            errors.push(FieldError::new(
                "stock_sap_page_size",
                "must be between 20 and 5000 items",
            ));
        }
        if !(1..=366).contains(&self.reconcile_window_days) {
            errors.push(FieldError::new(
                "reconcile_window_days",
                "must be between 1 and 366 days",
            ));
        }
        if self.payment_link_days > 366 {
            errors.push(FieldError::new(
                "payment_link_days",
                "must be between 0 and 366 days",
            ));
        }
        if self.reconcile_stock_sample > 10_000 {
            errors.push(FieldError::new(
                "reconcile_stock_sample",
                "must be between 0 and 10000 SKUs",
            ));
        }
        if self.magento_stock_id < 1 {
            errors.push(FieldError::new(
                "magento_stock_id",
                "must be a Magento stock id (1 is the default stock)",
            ));
        }
        self.validate_prices(&mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn validate_prices(&self, errors: &mut Vec<FieldError>) {
        let mut seen = std::collections::BTreeSet::new();
        for (i, route) in self.price_routes.iter().enumerate() {
            if let Some(problem) = route_problem(route, self.magento_price_scope) {
                errors.push(FieldError::new(format!("price_routes[{i}]"), problem));
            }
            if !seen.insert(route.store_id) {
                errors.push(FieldError::new(
                    format!("price_routes[{i}]"),
                    format!("store {} has two price lists", route.store_id),
                ));
            }
        }
        if self.price_decimals > 4 {
            errors.push(FieldError::new("price_decimals", "must be between 0 and 4"));
        }
        if !(1..=5_000).contains(&self.price_batch_size) {
            errors.push(FieldError::new(
                "price_batch_size",
                "must be between 1 and 5000 prices",
            ));
        }
        if !(1..=720).contains(&self.price_full_sync_hours) {
            errors.push(FieldError::new(
                "price_full_sync_hours",
                "must be between 1 and 720 hours",
            ));
        }
        if !(20..=5_000).contains(&self.price_sap_page_size) {
            errors.push(FieldError::new(
                "price_sap_page_size",
                "must be between 20 and 5000 items",
            ));
        }
        if self.price_max_change_percent < Decimal::ONE
            || self.price_max_change_percent > Decimal::from(1000)
        {
            errors.push(FieldError::new(
                "price_max_change_percent",
                "must be between 1 and 1000 (percent)",
            ));
        }
        if let Some(code) = &self.special_prices_card_code {
            if code.trim().is_empty() || code.chars().count() > 15 {
                errors.push(FieldError::new(
                    "special_prices_card_code",
                    "must be 1 to 15 characters (a SAP CardCode), or null",
                ));
            }
        }
    }

    /// The store's time zone (UTC for a stored value that no longer parses: validation
    /// refuses such values, so only a hand-edited row can have one).
    pub fn time_zone(&self) -> chrono_tz::Tz {
        self.store_timezone.parse().unwrap_or(chrono_tz::UTC)
    }

    /// CardCode of a Business Partner created for a registered Magento customer:
    /// `{prefix}{customer id}`, e.g. `W42`. `None` when it would not fit 15 characters
    /// (only possible with settings that failed validation or a negative id).
    pub fn card_code_for_customer(&self, magento_customer_id: i64) -> Option<CardCode> {
        if magento_customer_id < 0 {
            return None;
        }
        CardCode::parse(format!("{}{magento_customer_id}", self.card_code_prefix)).ok()
    }

    /// CardCode of a Business Partner created for a guest e-mail under `per_email`:
    /// `{prefix}G{hash}`, the hash filling the remaining characters of the 15. Stable for an
    /// e-mail (trimmed, case-insensitive) and never equal to a registered customer's code,
    /// whose suffix is all digits. Two e-mails sharing a code is possible but very unlikely
    /// (≥ 45 bits); SAP then refuses the duplicate and the order surfaces as `sap_rejected`.
    pub fn card_code_for_guest_email(&self, email: &str) -> Option<CardCode> {
        let room = 15usize.checked_sub(self.card_code_prefix.chars().count() + 1)?;
        if room < 4 {
            return None;
        }
        let digest = Sha256::digest(email.trim().to_lowercase().as_bytes());
        CardCode::parse(format!(
            "{}G{}",
            self.card_code_prefix,
            base32(&digest, room)
        ))
        .ok()
    }
}

/// The first `chars` characters of Crockford base32 (no I, L, O, U): upper case and
/// unambiguous when read out over the phone to SAP users.
fn base32(bytes: &[u8], chars: usize) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut out = String::with_capacity(chars);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
            if out.len() == chars {
                return out;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn defaults_are_valid_and_match_the_simulator_seed() {
        let s = Settings::default();
        assert_eq!(s.validate(), Ok(()));
        assert_eq!(s.guest_policy, GuestPolicy::SharedGuest);
        assert_eq!(s.guest_card_code.as_str(), "WEBGUEST");
        assert_eq!(s.default_warehouse.as_str(), "01");
        assert_eq!(s.tax_exempt_code.as_str(), "EX");
        assert_eq!(s.default_freight_expense_code, 1);
        assert_eq!(s.serial_batch_policy, SerialBatchPolicy::Post);
        assert_eq!(s.num_at_card_format.to_string(), "{increment_id}");
        assert_eq!(s.tax_strategy, TaxStrategy::SapComputes);
        assert_eq!(s.tax_localization, None, "taken from the company");
        assert_eq!(s.time_zone(), chrono_tz::UTC);
    }

    #[test]
    fn tax_settings_read_as_snake_case_and_the_time_zone_as_iana_name() {
        let s: Settings = serde_json::from_str(
            r#"{"tax_localization":"vat","tax_strategy":"magento_line_tax",
                "total_tolerance":0.01,"store_timezone":"America/New_York"}"#,
        )
        .unwrap();
        assert_eq!(s.tax_localization, Some(TaxLocalization::Vat));
        assert_eq!(s.tax_strategy, TaxStrategy::MagentoLineTax);
        assert_eq!(s.total_tolerance, dec!(0.01));
        assert_eq!(s.time_zone(), chrono_tz::America::New_York);
        assert_eq!(s.validate(), Ok(()));
        assert!(serde_json::from_str::<Settings>(r#"{"tax_strategy":"guess"}"#).is_err());
    }

    #[test]
    fn settings_round_trip_as_json_with_numbers_and_snake_case_enums() {
        let json = serde_json::to_value(Settings::default()).unwrap();
        assert_eq!(json["guest_policy"], "shared_guest");
        assert_eq!(json["serial_batch_policy"], "post");
        assert!(json["safety_stock"].is_number());
        let back: Settings = serde_json::from_value(json).unwrap();
        assert_eq!(back, Settings::default());
    }

    #[test]
    fn missing_fields_take_their_defaults_and_bad_ids_are_refused() {
        let s: Settings =
            serde_json::from_str(r#"{"guest_policy":"per_email","safety_stock":"2.5"}"#).unwrap();
        assert_eq!(s.guest_policy, GuestPolicy::PerEmail);
        assert_eq!(s.safety_stock, dec!(2.5));
        assert_eq!(s.item_cache_ttl_secs, 300);
        assert!(serde_json::from_str::<Settings>(r#"{"guest_card_code":""}"#).is_err());
        assert!(serde_json::from_str::<Settings>(r#"{"guest_policy":"nobody"}"#).is_err());
    }

    #[test]
    fn validation_names_every_bad_field() {
        let s = Settings {
            card_code_prefix: "TOOLONG".into(),
            default_freight_expense_code: 0,
            safety_stock: dec!(-1),
            item_cache_ttl_secs: 0,
            num_at_card_format: NumAtCardFormat::new("{store_code}-{increment_id}"),
            approval_check_interval_secs: 1,
            total_tolerance: dec!(1.5),
            store_timezone: "Mars/Olympus".into(),
            ..Settings::default()
        };
        let fields: Vec<_> = s
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "card_code_prefix",
                "default_freight_expense_code",
                "safety_stock",
                "item_cache_ttl_secs",
                "num_at_card_format",
                "approval_check_interval_secs",
                "total_tolerance",
                "store_timezone"
            ]
        );
        let s = Settings {
            card_code_prefix: "W-".into(),
            ..Settings::default()
        };
        assert_eq!(s.validate().unwrap_err()[0].field, "card_code_prefix");
    }

    #[test]
    fn registered_card_codes_use_the_prefix_and_the_customer_id() {
        let s = Settings {
            card_code_prefix: "WEBSH".into(),
            ..Settings::default()
        };
        assert_eq!(s.card_code_for_customer(1).unwrap().as_str(), "WEBSH1");
        // The largest Magento customer id still fits with the longest prefix.
        assert_eq!(
            s.card_code_for_customer(4_294_967_295).unwrap().as_str(),
            "WEBSH4294967295"
        );
        assert!(s.card_code_for_customer(-1).is_none());
    }

    #[test]
    fn guest_card_codes_are_stable_case_insensitive_and_fill_fifteen_characters() {
        let s = Settings::default();
        let a = s.card_code_for_guest_email("Guest@Guest.com ").unwrap();
        let b = s.card_code_for_guest_email("guest@guest.com").unwrap();
        let c = s.card_code_for_guest_email("test@free.org").unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.as_str().len(), 15);
        assert!(a.as_str().starts_with("WG"));
        let long = Settings {
            card_code_prefix: "WEBSH".into(),
            ..Settings::default()
        };
        let d = long.card_code_for_guest_email("guest@guest.com").unwrap();
        assert_eq!(d.as_str().len(), 15);
        assert!(d.as_str().starts_with("WEBSHG"));
    }
}
