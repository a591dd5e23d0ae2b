//! Price lists as B1 keeps them: a factor list's item prices are its base list's prices ×
//! the factor, stored in ITM1 and recomputed when a base price changes, so `ItemPrices`
//! always shows the computed price (docs/price-sync.md).
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::BTreeMap;

use super::company::Company;
use super::entities::{Item, ItemPrice, PriceList};
use super::errors::ServiceLayerError;
use super::seed::{Seed, SeedError};

/// `AdminInfo.PriceAccuracy` default: 2 decimals.
const PRICE_DECIMALS: u32 = 2;

impl Seed {
    /// Unique list numbers, bases that exist and are not themselves factor lists (stricter
    /// than B1, which allows chains; a chain is not described in our references), and no
    /// rounding method the simulator cannot reproduce.
    pub(super) fn check_price_lists(&self) -> Result<(), SeedError> {
        let mut numbers = std::collections::BTreeSet::new();
        for list in &self.price_lists {
            if !numbers.insert(list.price_list_no) {
                return Err(SeedError::Invalid(format!(
                    "price list {} appears twice",
                    list.price_list_no
                )));
            }
            if list.rounding_method != "borm_NoRounding" {
                return Err(SeedError::Invalid(format!(
                    "price list {}: only borm_NoRounding is simulated",
                    list.price_list_no
                )));
            }
        }
        for list in &self.price_lists {
            let base = list.base_price_list;
            if base == 0 || base == list.price_list_no {
                continue;
            }
            match self.price_lists.iter().find(|l| l.price_list_no == base) {
                Some(b) if b.base_price_list == 0 || b.base_price_list == b.price_list_no => {}
                Some(_) => {
                    return Err(SeedError::Invalid(format!(
                        "price list {}: its base {base} is itself a factor list",
                        list.price_list_no
                    )))
                }
                None => {
                    return Err(SeedError::Invalid(format!(
                        "price list {}: base list {base} does not exist",
                        list.price_list_no
                    )))
                }
            }
        }
        Ok(())
    }
}

/// Lists by number, every list's base filled in (itself when none was given).
pub fn index(lists: Vec<PriceList>) -> BTreeMap<i64, PriceList> {
    lists
        .into_iter()
        .map(|mut l| {
            if l.base_price_list == 0 {
                l.base_price_list = l.price_list_no;
            }
            (l.price_list_no, l)
        })
        .collect()
}

fn is_factor_list(list: &PriceList) -> bool {
    list.base_price_list != list.price_list_no
}

/// Fills in every row's base and factor and recomputes the factor lists' prices.
pub fn settle_item(item: &mut Item, lists: &BTreeMap<i64, PriceList>) {
    for row in &mut item.item_prices {
        let list = lists.get(&row.price_list);
        row.base_price_list
            .get_or_insert(list.map_or(row.price_list, |l| l.base_price_list));
        row.factor
            .get_or_insert(list.map_or(Decimal::ONE, |l| l.factor));
        if row.currency.is_none() {
            row.currency = list.and_then(|l| l.default_prime_currency.clone());
        }
    }
    for list in lists.values().filter(|l| is_factor_list(l)) {
        let Some(base) = item
            .item_prices
            .iter()
            .find(|p| p.price_list == list.base_price_list)
            .cloned()
        else {
            continue;
        };
        let at = match item
            .item_prices
            .iter()
            .position(|p| p.price_list == list.price_list_no)
        {
            Some(i) => i,
            None => {
                item.item_prices.push(ItemPrice {
                    price_list: list.price_list_no,
                    base_price_list: Some(list.base_price_list),
                    factor: Some(list.factor),
                    currency: base.currency.clone(),
                    ..Default::default()
                });
                item.item_prices.len() - 1
            }
        };
        let row = &mut item.item_prices[at];
        let factor = row.factor.unwrap_or(list.factor);
        row.price = (base.price * factor)
            .round_dp_with_strategy(PRICE_DECIMALS, RoundingStrategy::MidpointAwayFromZero);
    }
}

impl Company {
    /// A price change as made in the B1 client's price list window: only a list with its own
    /// prices takes one (a factor list's price follows its base; manual overrides of a factor
    /// row are not simulated); the factor lists based on it follow at once.
    pub fn set_item_price(
        &mut self,
        item_code: &str,
        price_list: i64,
        price: Decimal,
    ) -> Result<(), ServiceLayerError> {
        if price < Decimal::ZERO {
            return Err(ServiceLayerError::bad_request("Price cannot be negative"));
        }
        let list = self.price_lists.get(&price_list).ok_or_else(|| {
            ServiceLayerError::business(format!("Price list {price_list} does not exist"))
        })?;
        if is_factor_list(list) {
            return Err(ServiceLayerError::business(format!(
                "Price list {price_list} is computed from list {} by a factor",
                list.base_price_list
            )));
        }
        let currency = list.default_prime_currency.clone();
        let item = self
            .items
            .get_mut(item_code)
            .ok_or_else(ServiceLayerError::not_found)?;
        match item
            .item_prices
            .iter_mut()
            .find(|p| p.price_list == price_list)
        {
            Some(row) => row.price = price,
            None => item.item_prices.push(ItemPrice {
                price_list,
                price,
                currency,
                ..Default::default()
            }),
        }
        settle_item(item, &self.price_lists);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn list(no: i64, base: i64, factor: Decimal) -> PriceList {
        PriceList {
            price_list_no: no,
            price_list_name: format!("L{no}"),
            base_price_list: base,
            factor,
            rounding_method: "borm_NoRounding".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_factor_list_row_is_the_base_price_times_the_factor_rounded_to_price_decimals() {
        let lists = index(vec![list(1, 0, dec!(1)), list(2, 1, dec!(0.855))]);
        let mut item = Item {
            item_code: "A".into(),
            item_prices: vec![ItemPrice {
                price_list: 1,
                price: dec!(19.99),
                ..Default::default()
            }],
            ..Default::default()
        };
        settle_item(&mut item, &lists);
        let row = item.item_prices.iter().find(|p| p.price_list == 2).unwrap();
        // 19.99 × 0.855 = 17.09145
        assert_eq!(row.price, dec!(17.09));
        assert_eq!(row.base_price_list, Some(1));
        assert_eq!(row.factor, Some(dec!(0.855)));
    }
}
