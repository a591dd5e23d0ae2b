//! Price lists, item prices and special prices as the price sync reads them (reference: the
//! Service Layer's `PriceLists`, `Items.ItemPrices`, `SpecialPrices`; docs/price-sync.md).
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::lenient;
use super::partner::yes;

/// A price list (OPLN).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PriceList {
    #[serde(deserialize_with = "lenient::int")]
    pub price_list_no: i64,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub price_list_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub base_price_list: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub factor: Option<Decimal>,
    /// Whether the list's prices include tax (B1's default: no).
    #[serde(default, deserialize_with = "lenient::yes_no")]
    pub is_gross_price: bool,
    #[serde(default = "yes", deserialize_with = "lenient::yes_no")]
    pub active: bool,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub default_prime_currency: Option<String>,
}

/// The fields the price sync reads of a price list.
pub(crate) const PRICE_LIST_FIELDS: &[&str] = &[
    "PriceListNo",
    "PriceListName",
    "BasePriceList",
    "Factor",
    "IsGrossPrice",
    "Active",
    "DefaultPrimeCurrency",
];

/// An item with its prices and the flags that make it sellable.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PricedItem {
    pub item_code: String,
    #[serde(default = "yes", deserialize_with = "lenient::yes_no")]
    pub valid: bool,
    #[serde(default, deserialize_with = "lenient::yes_no")]
    pub frozen: bool,
    #[serde(default = "yes", deserialize_with = "lenient::yes_no")]
    pub sales_item: bool,
    #[serde(default, deserialize_with = "lenient::opt_date")]
    pub valid_from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "lenient::opt_date")]
    pub valid_to: Option<NaiveDate>,
    #[serde(default, deserialize_with = "lenient::opt_date")]
    pub frozen_from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "lenient::opt_date")]
    pub frozen_to: Option<NaiveDate>,
    /// The item's output VAT group (VAT localizations): its rate converts a price between
    /// gross and net when the settings allow it.
    #[serde(
        rename = "SalesVATGroup",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub sales_vat_group: Option<String>,
    #[serde(default, deserialize_with = "lenient::vec_or_null")]
    pub item_prices: Vec<ItemPrice>,
}

/// The fields the price sync reads of an item.
pub(crate) const PRICED_ITEM_FIELDS: &[&str] = &[
    "ItemCode",
    "Valid",
    "ValidFrom",
    "ValidTo",
    "Frozen",
    "FrozenFrom",
    "FrozenTo",
    "SalesItem",
    "SalesVATGroup",
    "ItemPrices",
];

impl PricedItem {
    /// What makes the item sellable, for the sellability rule.
    pub fn status(&self) -> crate::domain::prices::ItemStatus {
        crate::domain::prices::ItemStatus {
            valid: self.valid,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            frozen: self.frozen,
            frozen_from: self.frozen_from,
            frozen_to: self.frozen_to,
            sales_item: self.sales_item,
        }
    }

    /// The item's price on `list` in `currency`: the primary price when its currency is
    /// that one, else the additional price in that currency. `None`: the list has no price
    /// in that currency for this item.
    pub fn price_in(&self, list: i64, currency: &str) -> Option<Decimal> {
        let row = self.item_prices.iter().find(|p| p.price_list == list)?;
        let same = |c: &Option<String>| {
            c.as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case(currency))
        };
        if same(&row.currency) {
            return Some(row.price.unwrap_or_default());
        }
        if same(&row.additional_currency1) {
            return row.additional_price1;
        }
        if same(&row.additional_currency2) {
            return row.additional_price2;
        }
        None
    }
}

/// One row of `ItemPrices` (ITM1). For a factor list, `Price` is already the base price ×
/// `Factor` as SAP computed and stored it; `BasePriceList` and `Factor` say how.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ItemPrice {
    pub price_list: i64,
    #[serde(default)]
    pub price: Option<Decimal>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub additional_price1: Option<Decimal>,
    #[serde(default)]
    pub additional_currency1: Option<String>,
    #[serde(default)]
    pub additional_price2: Option<Decimal>,
    #[serde(default)]
    pub additional_currency2: Option<String>,
    #[serde(default)]
    pub base_price_list: Option<i64>,
    #[serde(default)]
    pub factor: Option<Decimal>,
}

/// A special price (OSPP) with its period rows.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SpecialPrice {
    #[serde(deserialize_with = "lenient::string")]
    pub item_code: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub card_code: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub price_list_num: Option<i64>,
    #[serde(default = "yes", deserialize_with = "lenient::yes_no")]
    pub valid: bool,
    #[serde(default, deserialize_with = "lenient::vec_or_null")]
    pub special_price_data_areas: Vec<SpecialPricePeriod>,
}

/// One period of a special price (SPP1): `SpecialPrice` from `DateFrom` to `Dateto`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SpecialPricePeriod {
    #[serde(default, deserialize_with = "lenient::opt_date")]
    pub date_from: Option<NaiveDate>,
    /// `Dateto` is B1's spelling.
    #[serde(rename = "Dateto", default, deserialize_with = "lenient::opt_date")]
    pub date_to: Option<NaiveDate>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub special_price: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub price_currency: Option<String>,
    /// Volume discounts of the period (SPP2): from `Quantity` on, `SpecialPrice`.
    #[serde(default, deserialize_with = "lenient::vec_or_null")]
    pub special_price_quantity_areas: Vec<SpecialPriceVolume>,
}

/// One volume row of a special price period (SPP2).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SpecialPriceVolume {
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub quantity: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub special_price: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub price_currency: Option<String>,
}

pub(crate) const SPECIAL_PRICE_FIELDS: &[&str] = &[
    "ItemCode",
    "CardCode",
    "PriceListNum",
    "Valid",
    "SpecialPriceDataAreas",
];

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn price_in_picks_the_primary_or_the_additional_currency() {
        let item: PricedItem = serde_json::from_value(serde_json::json!({
            "ItemCode": "A", "ItemPrices": [
                {"PriceList": 1, "Price": 10.5, "Currency": "USD",
                 "AdditionalPrice1": 9.75, "AdditionalCurrency1": "EUR",
                 "BasePriceList": 1, "Factor": 1}
            ]
        }))
        .unwrap();
        assert_eq!(item.price_in(1, "USD"), Some(dec!(10.5)));
        assert_eq!(item.price_in(1, "EUR"), Some(dec!(9.75)));
        assert_eq!(item.price_in(1, "GBP"), None);
        assert_eq!(item.price_in(2, "USD"), None);
        assert!(item.valid && !item.frozen && item.sales_item);
    }
}
