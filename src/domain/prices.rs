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
         Publish a list of the other kind, or correct the setting to match Magento's \
         'Catalog Prices' tax configuration."
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
}
