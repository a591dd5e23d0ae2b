//! Price sync rules (docs/price-sync.md): which SAP price list feeds which Magento store, how a
//! price is rounded, when a list's tax basis disagrees with the store's, and the guard rail
//! that holds a suspicious change instead of publishing it. Pure: no I/O.
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Magento's price scope (`catalog/price/scope`): one price for all stores (the default,
/// 0) or one per website (1). Under a global scope Magento stores every base price on store
/// 0 and refuses a special price for any other store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PriceScope {
    #[default]
    Global,
    Website,
}

/// One SAP price list published to one Magento store view (`store_id`; 0 = the global
/// scope), in one currency: the list's price in that currency is what the store sells at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PriceRoute {
    /// SAP `PriceListNo`.
    #[schema(example = 1)]
    pub price_list: i64,
    /// Magento store view id (0 under a global price scope).
    #[schema(example = 0)]
    pub store_id: i64,
    /// ISO currency of the store's base currency; the list's price in this currency is used
    /// (primary, else an additional currency of the same code).
    #[schema(example = "USD")]
    pub currency: String,
}

/// Why a route cannot be used as configured.
pub fn route_problem(route: &PriceRoute, scope: PriceScope) -> Option<String> {
    if route.price_list < 1 {
        return Some(format!(
            "price list {} is not a SAP PriceListNo",
            route.price_list
        ));
    }
    if route.store_id < 0 {
        return Some(format!(
            "store {} is not a Magento store id",
            route.store_id
        ));
    }
    if scope == PriceScope::Global && route.store_id != 0 {
        return Some(format!(
            "store {}: under a global price scope Magento keeps one price on store 0",
            route.store_id
        ));
    }
    let c = &route.currency;
    if c.len() != 3 || !c.chars().all(|ch| ch.is_ascii_uppercase()) {
        return Some(format!("currency '{c}' is not a 3-letter ISO code"));
    }
    None
}

/// A price rounded to the shop's decimals, halves away from zero (as a cash price is).
pub fn round_price(price: Decimal, decimals: u32) -> Decimal {
    price
        .round_dp_with_strategy(decimals, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

/// The refusal when a price list's tax basis is not the store's: a net list published to a
/// store whose catalogue prices include tax (or the reverse) would put every price off by
/// the tax rate.
pub fn tax_basis_mismatch(
    price_list: i64,
    list_is_gross: bool,
    catalogue_includes_tax: bool,
) -> Option<String> {
    if list_is_gross == catalogue_includes_tax {
        return None;
    }
    let (list, store) = if list_is_gross {
        ("gross (IsGrossPrice = tYES)", "exclude tax")
    } else {
        ("net (IsGrossPrice = tNO)", "include tax")
    };
    Some(format!(
        "SAP price list {price_list} is {list} but the store's catalogue prices {store} \
         (setting catalog_prices_include_tax): every price would be off by the tax rate. \
         Publish a list of the other kind, correct the setting to match Magento's \
         'Catalog Prices' tax configuration, or convert by each item's sales VAT group \
         (setting price_tax_conversion)."
    ))
}

/// Why a price is held back instead of published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum Hold {
    /// The new price is zero while the shop sells at a price.
    ToZero,
    /// The price moves by more than the allowed percentage.
    LargeChange { percent: Decimal },
}

impl Hold {
    pub fn describe(&self, limit: Decimal) -> String {
        match self {
            Hold::ToZero => "the new price is 0".into(),
            Hold::LargeChange { percent } => format!(
                "the price changes by {}%, more than the allowed {}%",
                percent.round_dp(1).normalize(),
                limit.normalize()
            ),
        }
    }
}

/// The guard rail: compares a new price with the one the shop sells at (`published`, the
/// last price Magento accepted). A first price is never held for its size (nothing to
/// compare with); a zero price always is, since SAP shows 0 for an item a list does not
/// price, and a free product is never what a merchant means.
pub fn guard(
    published: Option<Decimal>,
    new: Decimal,
    max_change_percent: Decimal,
) -> Option<Hold> {
    if new.is_zero() {
        return Some(Hold::ToZero);
    }
    let old = published.filter(|p| !p.is_zero())?;
    let percent = ((new - old) / old * Decimal::from(100)).abs();
    (percent > max_change_percent).then_some(Hold::LargeChange { percent })
}

/// What happened to the last price offered for a SKU and store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Pushed,
    Rejected,
    Held,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pushed => "pushed",
            Outcome::Rejected => "rejected",
            Outcome::Held => "held",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Outcome::Pushed, Outcome::Rejected, Outcome::Held]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// The memory of one SKU and store: the last price offered and what became of it, and the
/// last price Magento accepted (what the shop sells at).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastPrice {
    pub offered: Decimal,
    pub outcome: Outcome,
    pub published: Option<Decimal>,
}

/// Whether `price` must be offered: it differs from the last offer (whatever became of it),
/// or a full pass re-offers everything. A refused or held price is not offered again until
/// it changes, so a bad row costs one exception, not one per run.
pub fn needs_push(last: Option<&LastPrice>, price: Decimal, full_pass: bool) -> bool {
    match last {
        None => true,
        Some(_) if full_pass => true,
        Some(l) => l.offered != price,
    }
}

/// Magento's special-price date format, `Y-m-d H:i:s`: a SAP period runs from the start of
/// its first day to the end of its last (SAP's dates are whole days).
pub fn special_price_window(from: chrono::NaiveDate, to: chrono::NaiveDate) -> (String, String) {
    (
        format!("{} 00:00:00", from.format("%Y-%m-%d")),
        format!("{} 23:59:59", to.format("%Y-%m-%d")),
    )
}

/// What SAP says about whether an item may be sold (Items: `Valid`/`ValidFrom`/`ValidTo`,
/// `Frozen`/`FrozenFrom`/`FrozenTo`, `SalesItem`; docs/price-sync.md, "Sellability").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ItemStatus {
    pub valid: bool,
    pub valid_from: Option<chrono::NaiveDate>,
    pub valid_to: Option<chrono::NaiveDate>,
    pub frozen: bool,
    pub frozen_from: Option<chrono::NaiveDate>,
    pub frozen_to: Option<chrono::NaiveDate>,
    pub sales_item: bool,
}

fn within(
    day: chrono::NaiveDate,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
) -> bool {
    from.is_none_or(|f| f <= day) && to.is_none_or(|t| day <= t)
}

impl ItemStatus {
    /// Whether SAP would put the item on a sales document on `day`: a sales item, valid
    /// (within its valid-for dates, when it has them) and not frozen (within its frozen-for
    /// dates, or at all when it has none). The dates are whole days, both ends included.
    pub fn sellable_on(&self, day: chrono::NaiveDate) -> bool {
        self.sales_item
            && self.valid
            && within(day, self.valid_from, self.valid_to)
            && !(self.frozen && within(day, self.frozen_from, self.frozen_to))
    }
}

/// Magento's product status (`Magento\Catalog\Model\Product\Attribute\Source\Status`):
/// 1 enabled, 2 disabled.
pub fn product_status(sellable: bool) -> Decimal {
    Decimal::from(if sellable { 1 } else { 2 })
}

/// Which way a price list's prices are converted to the store's tax basis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaxConversion {
    /// A gross list (tax included) for a store whose catalogue prices exclude tax.
    GrossToNet,
    /// A net list for a store whose catalogue prices include tax.
    NetToGross,
}

impl TaxConversion {
    /// The conversion a route needs, `None` when the list's basis is the store's.
    pub fn between(list_is_gross: bool, catalogue_includes_tax: bool) -> Option<Self> {
        match (list_is_gross, catalogue_includes_tax) {
            (true, false) => Some(Self::GrossToNet),
            (false, true) => Some(Self::NetToGross),
            _ => None,
        }
    }

    /// `price` on the store's basis, by the item's tax rate in percent (unrounded: the
    /// caller rounds to the shop's decimals once, after the conversion).
    pub fn apply(self, price: Decimal, rate_percent: Decimal) -> Decimal {
        let factor = Decimal::ONE + rate_percent / Decimal::from(100);
        match self {
            Self::GrossToNet => price / factor,
            Self::NetToGross => price * factor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn a_ninety_percent_drop_is_held_and_a_small_change_is_not() {
        assert_eq!(
            guard(Some(dec!(100)), dec!(10), dec!(50)),
            Some(Hold::LargeChange { percent: dec!(90) })
        );
        assert_eq!(guard(Some(dec!(100)), dec!(95), dec!(50)), None);
        assert_eq!(guard(Some(dec!(100)), dec!(150), dec!(50)), None);
        assert!(guard(Some(dec!(100)), dec!(150.01), dec!(50)).is_some());
    }

    #[test]
    fn zero_is_always_held_and_a_first_price_is_not_compared() {
        assert_eq!(guard(Some(dec!(5)), dec!(0), dec!(50)), Some(Hold::ToZero));
        assert_eq!(guard(None, dec!(0), dec!(50)), Some(Hold::ToZero));
        assert_eq!(guard(None, dec!(1000), dec!(50)), None);
    }

    #[test]
    fn rounding_follows_the_shop_decimals_half_away_from_zero() {
        assert_eq!(round_price(dec!(17.09145), 2), dec!(17.09));
        assert_eq!(round_price(dec!(2.345), 2), dec!(2.35));
        assert_eq!(round_price(dec!(2.5), 0), dec!(3));
        assert_eq!(round_price(dec!(10.000), 2), dec!(10));
    }

    #[test]
    fn tax_basis_must_agree() {
        assert!(tax_basis_mismatch(1, false, false).is_none());
        assert!(tax_basis_mismatch(1, true, true).is_none());
        let m = tax_basis_mismatch(3, true, false).unwrap();
        assert!(m.contains("price list 3 is gross"), "{m}");
        assert!(tax_basis_mismatch(3, false, true).unwrap().contains("net"));
    }

    #[test]
    fn unchanged_prices_are_not_offered_again_unless_a_full_pass_runs() {
        let last = LastPrice {
            offered: dec!(9.99),
            outcome: Outcome::Rejected,
            published: None,
        };
        assert!(!needs_push(Some(&last), dec!(9.99), false));
        assert!(needs_push(Some(&last), dec!(9.99), true));
        assert!(needs_push(Some(&last), dec!(9.98), false));
        assert!(needs_push(None, dec!(9.99), false));
    }

    #[test]
    fn routes_fit_the_price_scope() {
        let r = PriceRoute {
            price_list: 2,
            store_id: 1,
            currency: "EUR".into(),
        };
        assert!(route_problem(&r, PriceScope::Global).is_some());
        assert!(route_problem(&r, PriceScope::Website).is_none());
    }

    #[test]
    fn special_price_dates_are_whole_days_in_magentos_format() {
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            special_price_window(d("2026-12-01"), d("2026-12-24")),
            ("2026-12-01 00:00:00".into(), "2026-12-24 23:59:59".into())
        );
    }

    #[test]
    fn an_item_is_sellable_only_as_a_valid_unfrozen_sales_item_within_its_dates() {
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let ok = ItemStatus {
            valid: true,
            sales_item: true,
            ..Default::default()
        };
        let day = d("2026-12-03");
        assert!(ok.sellable_on(day));
        assert!(!ItemStatus { valid: false, ..ok }.sellable_on(day));
        assert!(!ItemStatus {
            sales_item: false,
            ..ok
        }
        .sellable_on(day));
        assert!(!ItemStatus { frozen: true, ..ok }.sellable_on(day));
        let frozen_later = ItemStatus {
            frozen: true,
            frozen_from: Some(d("2026-12-10")),
            frozen_to: Some(d("2026-12-20")),
            ..ok
        };
        assert!(frozen_later.sellable_on(day));
        assert!(!frozen_later.sellable_on(d("2026-12-10")));
        assert!(frozen_later.sellable_on(d("2026-12-21")));
        let valid_until = ItemStatus {
            valid_to: Some(d("2026-12-02")),
            ..ok
        };
        assert!(!valid_until.sellable_on(day));
        assert!(valid_until.sellable_on(d("2026-12-02")));
    }

    #[test]
    fn tax_conversion_uses_the_rate_both_ways() {
        assert_eq!(TaxConversion::between(true, true), None);
        let to_net = TaxConversion::between(true, false).unwrap();
        assert_eq!(round_price(to_net.apply(dec!(119), dec!(19)), 2), dec!(100));
        assert_eq!(
            round_price(to_net.apply(dec!(9.99), dec!(20)), 2),
            dec!(8.33)
        );
        let to_gross = TaxConversion::between(false, true).unwrap();
        assert_eq!(
            round_price(to_gross.apply(dec!(8.33), dec!(20)), 2),
            dec!(10)
        );
        assert_eq!(to_gross.apply(dec!(10), dec!(0)), dec!(10));
    }
}
