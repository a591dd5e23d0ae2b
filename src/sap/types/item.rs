//! Items, their per-warehouse stock, warehouses, tax codes and freight codes (reference §5):
//! what order validation, the stock sync and the admin's master-data check read.
use rust_decimal::Decimal;
use serde::Deserialize;

use super::lenient;
use super::partner::yes;

/// An item as SAP returns it. Flags that SAP omits default to what SAP itself gives a new
/// item (valid, not frozen, sellable, no serial or batch management).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Item {
    #[serde(deserialize_with = "lenient::string")]
    pub item_code: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub item_name: Option<String>,
    #[serde(default = "yes", deserialize_with = "lenient::yes_no")]
    pub valid: bool,
    #[serde(default, deserialize_with = "lenient::yes_no")]
    pub frozen: bool,
    #[serde(default = "yes", deserialize_with = "lenient::yes_no")]
    pub sales_item: bool,
    #[serde(default = "yes", deserialize_with = "lenient::yes_no")]
    pub inventory_item: bool,
    #[serde(default, deserialize_with = "lenient::yes_no")]
    pub manage_serial_numbers: bool,
    #[serde(default, deserialize_with = "lenient::yes_no")]
    pub manage_batch_numbers: bool,
    #[serde(
        rename = "ItemWarehouseInfoCollection",
        default,
        deserialize_with = "lenient::vec_or_null"
    )]
    pub warehouses: Vec<ItemWarehouseInfo>,
}

impl Item {
    /// Whether SAP will accept the item on a sales order (inactive, frozen and non-sales
    /// items are refused with -10).
    pub fn is_sellable(&self) -> bool {
        self.valid && !self.frozen && self.sales_item
    }

    /// Whether order lines need serial or batch numbers (else SAP answers -4014 on delivery).
    pub fn needs_serial_or_batch(&self) -> bool {
        self.manage_serial_numbers || self.manage_batch_numbers
    }

    /// The stock row of one warehouse, if the item has one there.
    pub fn warehouse(&self, code: &str) -> Option<&ItemWarehouseInfo> {
        self.warehouses.iter().find(|w| w.warehouse_code == code)
    }
}

/// The fields `$select`ed when reading items (kept in step with [`Item`]).
pub(crate) const ITEM_FIELDS: &[&str] = &[
    "ItemCode",
    "ItemName",
    "Valid",
    "Frozen",
    "SalesItem",
    "InventoryItem",
    "ManageSerialNumbers",
    "ManageBatchNumbers",
    "ItemWarehouseInfoCollection",
];

/// One warehouse's stock of an item (OITW). SAP has no "available" column; what to offer
/// for sale is the stock sync's rule, not the client's.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ItemWarehouseInfo {
    #[serde(deserialize_with = "lenient::string")]
    pub warehouse_code: String,
    #[serde(default, deserialize_with = "lenient::decimal_or_zero")]
    pub in_stock: Decimal,
    #[serde(default, deserialize_with = "lenient::decimal_or_zero")]
    pub committed: Decimal,
    #[serde(default, deserialize_with = "lenient::decimal_or_zero")]
    pub ordered: Decimal,
}

/// A warehouse (OWHS).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Warehouse {
    #[serde(deserialize_with = "lenient::string")]
    pub warehouse_code: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub warehouse_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::yes_no")]
    pub inactive: bool,
}

/// A sales tax code (`SalesTaxCodes`, US-style tax). The entity's fields are not in the
/// reference; `Code`, `Name`, `Rate` and `Inactive` are read tolerantly and only `Code` is
/// required.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SalesTaxCode {
    #[serde(deserialize_with = "lenient::string")]
    pub code: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub rate: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::yes_no")]
    pub inactive: bool,
    /// `ValidForAR`: usable on sales (A/R) documents. Absent: taken as valid, B1's default.
    #[serde(
        rename = "ValidForAR",
        default = "yes",
        deserialize_with = "lenient::yes_no"
    )]
    pub valid_for_ar: bool,
}

/// A freight or other additional expense code (`AdditionalExpenses`, OEXD), the code an order's
/// `DocumentAdditionalExpenses[].ExpenseCode` names. The entity's fields are not in the
/// reference; its key is read as `ExpensCode` (B1's spelling of the OEXD column, as the
/// simulator serves it), tolerantly, and `Name` is optional.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdditionalExpense {
    #[serde(deserialize_with = "lenient::int")]
    pub expens_code: i64,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn items_read_flags_and_stock_rows_tolerantly() {
        let item: Item = serde_json::from_str(
            r#"{"ItemCode":"A00001","ItemName":"J.B. Officeprint 1420","Valid":"tYES","Frozen":"tNO",
               "SalesItem":"tYES","ManageSerialNumbers":"tYES","ManageBatchNumbers":"tNO",
               "ItemWarehouseInfoCollection":[
                 {"WarehouseCode":"01","InStock":"12.5","Committed":2,"Ordered":null,"Locked":"tNO"}]}"#,
        )
        .unwrap();
        assert!(item.is_sellable());
        assert!(item.needs_serial_or_batch());
        let row = item.warehouse("01").unwrap();
        assert_eq!(
            (row.in_stock, row.committed, row.ordered),
            (dec!(12.5), dec!(2), dec!(0))
        );
        let inactive: Item = serde_json::from_str(
            r#"{"ItemCode":"B","Valid":"N","ItemWarehouseInfoCollection":null}"#,
        )
        .unwrap();
        assert!(!inactive.is_sellable());
        assert!(inactive.warehouses.is_empty());
    }

    #[test]
    fn freight_codes_read_as_numbers_or_numeric_strings() {
        let e: AdditionalExpense =
            serde_json::from_str(r#"{"ExpensCode":1,"Name":"Freight","RevenuesAccount":"_SYS"}"#)
                .unwrap();
        assert_eq!((e.expens_code, e.name.as_deref()), (1, Some("Freight")));
        let e: AdditionalExpense = serde_json::from_str(r#"{"ExpensCode":"2"}"#).unwrap();
        assert_eq!((e.expens_code, e.name), (2, None));
        assert!(serde_json::from_str::<AdditionalExpense>(r#"{"Name":"x"}"#).is_err());
    }
}
