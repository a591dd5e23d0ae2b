//! Master data as the Service Layer names it (META property names). The same structs are the
//! seed file format, the stored state and the response body, so the three cannot drift apart.
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

use super::enums::{AddressType, CardType, YesNo};

fn yes() -> YesNo {
    YesNo::Yes
}

/// `Items` (OITM). `QuantityOnStock` and `QuantityOrderedByCustomers` are the sums over
/// warehouses, recomputed after every stock movement.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Item {
    pub item_code: String,
    pub item_name: String,
    #[serde(default)]
    pub foreign_name: Option<String>,
    #[serde(default)]
    pub bar_code: Option<String>,
    #[serde(default = "yes")]
    pub sales_item: YesNo,
    #[serde(default = "yes")]
    pub inventory_item: YesNo,
    #[serde(default = "yes")]
    pub purchase_item: YesNo,
    #[serde(default = "yes")]
    pub valid: YesNo,
    /// With `Valid = tYES`: the item is active from this day (none: always).
    #[serde(default)]
    pub valid_from: Option<NaiveDate>,
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
    #[serde(default)]
    pub frozen: YesNo,
    /// With `Frozen = tYES`: the item is inactive from this day (none: always).
    #[serde(default)]
    pub frozen_from: Option<NaiveDate>,
    #[serde(default)]
    pub frozen_to: Option<NaiveDate>,
    /// The output VAT group of the item's sales (VAT localizations).
    #[serde(default, rename = "SalesVATGroup")]
    pub sales_vat_group: Option<String>,
    #[serde(default)]
    pub manage_serial_numbers: YesNo,
    #[serde(default)]
    pub manage_batch_numbers: YesNo,
    #[serde(default)]
    pub default_warehouse: Option<String>,
    #[serde(default, with = "rust_decimal::serde::arbitrary_precision")]
    pub quantity_on_stock: Decimal,
    #[serde(default, with = "rust_decimal::serde::arbitrary_precision")]
    pub quantity_ordered_by_customers: Decimal,
    #[serde(default, with = "rust_decimal::serde::arbitrary_precision")]
    pub quantity_ordered_from_vendors: Decimal,
    #[serde(default)]
    pub update_date: Option<NaiveDate>,
    #[serde(default)]
    pub update_time: Option<String>,
    #[serde(default)]
    pub item_prices: Vec<ItemPrice>,
    #[serde(default)]
    pub item_warehouse_info_collection: Vec<ItemWarehouseInfo>,
}

/// One row of `ItemPrices` (ITM1). `BasePriceList` and `Factor` are the item's row of a
/// factor list: `Price` is what SAP stores and shows, already the base price × factor (SAP
/// recomputes it when the base price changes; docs/price-sync.md). A seed may leave them out:
/// the row is then its own base with factor 1, as B1 shows a list that has no base.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ItemPrice {
    pub price_list: i64,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub price: Decimal,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub base_price_list: Option<i64>,
    #[serde(default, with = "rust_decimal::serde::arbitrary_precision_option")]
    pub factor: Option<Decimal>,
}

/// `PriceLists` (OPLN). Only `borm_NoRounding` is simulated: SAP's other rounding methods
/// (full amount, tens, fixed ending, interval) are not described in our references, so a
/// seed naming one is refused rather than rounded by a guessed rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PriceList {
    pub price_list_no: i64,
    pub price_list_name: String,
    /// The list this one is computed from; itself for a list with its own prices.
    #[serde(default)]
    pub base_price_list: i64,
    #[serde(default = "one", with = "rust_decimal::serde::arbitrary_precision")]
    pub factor: Decimal,
    #[serde(default = "no_rounding")]
    pub rounding_method: String,
    /// `tYES`: the list's prices include tax (B1's default is `tNO`).
    #[serde(default)]
    pub is_gross_price: YesNo,
    #[serde(default = "yes")]
    pub active: YesNo,
    #[serde(default)]
    pub default_prime_currency: Option<String>,
}

fn one() -> Decimal {
    Decimal::ONE
}

fn no_rounding() -> String {
    "borm_NoRounding".into()
}

/// `SpecialPrices` (OSPP): special prices of an item for one Business Partner, or for all of
/// them on a price list (period and volume discounts). How SAP keys an "all BPs" row's
/// `CardCode` is not publicly documented; the seed says it and b1bridge is told it in
/// settings (docs/price-sync.md).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SpecialPrice {
    pub item_code: String,
    pub card_code: String,
    #[serde(default)]
    pub price_list_num: i64,
    #[serde(default = "yes")]
    pub valid: YesNo,
    #[serde(default)]
    pub special_price_data_areas: Vec<SpecialPriceDataArea>,
}

/// One period row of a special price (SPP1). `Dateto` is B1's spelling.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SpecialPriceDataArea {
    #[serde(rename = "PriceListNo", default)]
    pub price_list_no: i64,
    #[serde(rename = "DateFrom", default)]
    pub date_from: Option<NaiveDate>,
    #[serde(rename = "Dateto", default)]
    pub date_to: Option<NaiveDate>,
    #[serde(
        rename = "Discount",
        default,
        with = "rust_decimal::serde::arbitrary_precision"
    )]
    pub discount: Decimal,
    #[serde(
        rename = "SpecialPrice",
        with = "rust_decimal::serde::arbitrary_precision"
    )]
    pub special_price: Decimal,
    #[serde(rename = "PriceCurrency", default)]
    pub price_currency: Option<String>,
    /// Volume discounts within the period (SPP2).
    #[serde(rename = "SpecialPriceQuantityAreas", default)]
    pub special_price_quantity_areas: Vec<SpecialPriceQuantityArea>,
}

/// One volume row of a period (SPP2): from `Quantity` on, `SpecialPrice` (`Discountin` is
/// B1's spelling of the discount percentage).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SpecialPriceQuantityArea {
    #[serde(rename = "Quantity", with = "rust_decimal::serde::arbitrary_precision")]
    pub quantity: Decimal,
    #[serde(
        rename = "SpecialPrice",
        with = "rust_decimal::serde::arbitrary_precision"
    )]
    pub special_price: Decimal,
    #[serde(
        rename = "Discountin",
        default,
        with = "rust_decimal::serde::arbitrary_precision"
    )]
    pub discountin: Decimal,
    #[serde(rename = "PriceCurrency", default)]
    pub price_currency: Option<String>,
}

/// One row of `ItemWarehouseInfoCollection` (OITW).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ItemWarehouseInfo {
    pub warehouse_code: String,
    #[serde(default, with = "rust_decimal::serde::arbitrary_precision")]
    pub in_stock: Decimal,
    #[serde(default, with = "rust_decimal::serde::arbitrary_precision")]
    pub committed: Decimal,
    #[serde(default, with = "rust_decimal::serde::arbitrary_precision")]
    pub ordered: Decimal,
}

impl Item {
    /// Sales documents may only use an item that is valid, not frozen and a sales item; the
    /// valid-for and frozen-for dates bound both (whole days, ends included).
    pub fn is_active(&self) -> bool {
        let today = chrono::Utc::now().date_naive();
        let within = |from: Option<NaiveDate>, to: Option<NaiveDate>| {
            from.is_none_or(|f| f <= today) && to.is_none_or(|t| today <= t)
        };
        self.valid.is_yes()
            && within(self.valid_from, self.valid_to)
            && !(self.frozen.is_yes() && within(self.frozen_from, self.frozen_to))
    }

    /// The warehouse row, created empty if the item never had stock there (B1 keeps an OITW
    /// row per warehouse).
    pub fn warehouse_mut(&mut self, warehouse: &str) -> &mut ItemWarehouseInfo {
        let i = match self
            .item_warehouse_info_collection
            .iter()
            .position(|w| w.warehouse_code == warehouse)
        {
            Some(i) => i,
            None => {
                self.item_warehouse_info_collection.push(ItemWarehouseInfo {
                    warehouse_code: warehouse.to_owned(),
                    ..Default::default()
                });
                self.item_warehouse_info_collection.len() - 1
            }
        };
        &mut self.item_warehouse_info_collection[i]
    }

    /// Keeps the item-level totals equal to the sum of the warehouse rows.
    pub fn recompute_totals(&mut self) {
        let rows = &self.item_warehouse_info_collection;
        self.quantity_on_stock = rows.iter().map(|w| w.in_stock).sum();
        self.quantity_ordered_by_customers = rows.iter().map(|w| w.committed).sum();
        self.quantity_ordered_from_vendors = rows.iter().map(|w| w.ordered).sum();
    }

    /// The price of price list 1, used when a document line names no price.
    pub fn base_price(&self) -> Option<Decimal> {
        self.item_prices
            .iter()
            .find(|p| p.price_list == 1)
            .map(|p| p.price)
    }
}

/// `Warehouses` (OWHS).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Warehouse {
    pub warehouse_code: String,
    pub warehouse_name: String,
    #[serde(default)]
    pub inactive: YesNo,
}

/// `BusinessPartners` (OCRD).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BusinessPartner {
    pub card_code: String,
    #[serde(default)]
    pub card_name: Option<String>,
    #[serde(default)]
    pub card_type: CardType,
    #[serde(default = "default_group")]
    pub group_code: i64,
    #[serde(default)]
    pub email_address: Option<String>,
    #[serde(default)]
    pub phone1: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default = "yes")]
    pub valid: YesNo,
    #[serde(default)]
    pub frozen: YesNo,
    #[serde(default)]
    pub ship_to_default: Option<String>,
    /// Sic: B1 spells it `BilltoDefault`.
    #[serde(default, rename = "BilltoDefault")]
    pub bill_to_default: Option<String>,
    #[serde(default)]
    pub update_date: Option<NaiveDate>,
    #[serde(default)]
    pub update_time: Option<String>,
    #[serde(default, rename = "BPAddresses")]
    pub bp_addresses: Vec<BpAddress>,
}

/// Customers group 100, as in the GUIDE's create example (p.22).
fn default_group() -> i64 {
    100
}

impl BusinessPartner {
    pub fn is_active(&self) -> bool {
        self.valid.is_yes() && !self.frozen.is_yes()
    }
}

/// One row of `BPAddresses` (CRD1).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BpAddress {
    pub address_name: String,
    #[serde(default)]
    pub address_type: AddressType,
    #[serde(default)]
    pub street: Option<String>,
    #[serde(default)]
    pub block: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub zip_code: Option<String>,
    #[serde(default)]
    pub county: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default, rename = "BPCode")]
    pub bp_code: Option<String>,
    #[serde(default)]
    pub row_num: Option<i64>,
}

/// `SalesTaxCodes` (OSTC); `Rate` is a percentage. `ValidForAR` and `Inactive` are the
/// fields the reference names for whether a code may be used on sales (A/R) documents
/// (docs/go-live-audit.md); a seed that leaves them out gets an active A/R code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SalesTaxCode {
    pub code: String,
    pub name: String,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub rate: Decimal,
    #[serde(default = "YesNo::yes", rename = "ValidForAR")]
    pub valid_for_ar: YesNo,
    #[serde(default)]
    pub inactive: YesNo,
}

/// `VatGroups` (OVTG): the tax codes of a VAT localization. The rate is dated: each
/// `VatGroups_Lines` row holds the rate from its `Effectivefrom` day on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VatGroup {
    pub code: String,
    pub name: String,
    /// `bovcOutputTax` (sales) or `bovcInputTax` (purchases).
    #[serde(default = "output_tax")]
    pub category: String,
    #[serde(default)]
    pub inactive: YesNo,
    #[serde(default, rename = "VatGroups_Lines")]
    pub vat_groups_lines: Vec<VatGroupLine>,
}

impl Default for SalesTaxCode {
    /// B1's defaults for a new code: active and valid for A/R.
    fn default() -> Self {
        Self {
            code: String::new(),
            name: String::new(),
            rate: Decimal::ZERO,
            valid_for_ar: YesNo::Yes,
            inactive: YesNo::No,
        }
    }
}

fn output_tax() -> String {
    "bovcOutputTax".into()
}

impl VatGroup {
    /// A sales (output) VAT group: `bovcOutputTax` by name or its stored value `O`. A purchase
    /// (input) group on a sales document is "Invalid VAT Group" (KBA 2693418).
    pub fn is_output(&self) -> bool {
        self.category == "bovcOutputTax" || self.category == "O"
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VatGroupLine {
    #[serde(rename = "Effectivefrom")]
    pub effective_from: NaiveDate,
    #[serde(rename = "Rate", with = "rust_decimal::serde::arbitrary_precision")]
    pub rate: Decimal,
}

impl VatGroup {
    /// The rate in force on `day`, if any row had taken effect by then.
    pub fn rate_on(&self, day: NaiveDate) -> Option<Decimal> {
        self.vat_groups_lines
            .iter()
            .filter(|l| l.effective_from <= day)
            .max_by_key(|l| l.effective_from)
            .map(|l| l.rate)
    }
}

/// `AdditionalExpenses` (OEXD): freight and similar codes. `ExpensCode` is B1's spelling.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdditionalExpense {
    pub expens_code: i64,
    pub name: String,
}

/// An entity as its JSON object, the form `$filter`/`$select` work on.
pub fn to_object<T: Serialize>(entity: &T) -> Map<String, Value> {
    match serde_json::to_value(entity) {
        Ok(Value::Object(map)) => map,
        // Every entity above serialises to an object; anything else is a programming error.
        other => panic!("entity did not serialise to a JSON object: {other:?}"),
    }
}

/// The property names of an entity type, for validating `$select`/`$filter`/`$orderby`.
pub fn property_names<T: Serialize + Default>() -> BTreeSet<String> {
    to_object(&T::default()).keys().cloned().collect()
}
