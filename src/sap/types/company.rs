//! The company's own settings a document depends on: `AdminInfo` (local currency) and the
//! VAT groups of a VAT localization (`VatGroups`, OVTG) with their dated rates.
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::lenient;

/// The part of `CompanyService_GetAdminInfo`'s answer b1bridge reads.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdminInfo {
    #[serde(deserialize_with = "lenient::string")]
    pub local_currency: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub system_currency: Option<String>,
    /// `EnableApprovalProcedureInDI`: approval procedures apply to documents added through
    /// the DI API and the Service Layer, so an order may become a draft. `None`: not sent.
    #[serde(
        rename = "EnableApprovalProcedureInDI",
        default,
        deserialize_with = "lenient::opt_yes_no"
    )]
    pub approvals_in_api: Option<bool>,
}

/// One numbering series of a document type (`SeriesService_GetDocumentSeries`, NNM1).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DocumentSeries {
    #[serde(deserialize_with = "lenient::int")]
    pub series: i64,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub next_number: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub last_number: Option<i64>,
    #[serde(default, deserialize_with = "lenient::yes_no")]
    pub locked: bool,
}

impl DocumentSeries {
    /// Whether the series can number one more document: not locked, numbers left.
    pub fn usable(&self) -> bool {
        !self.locked
            && match (self.next_number, self.last_number) {
                (Some(next), Some(last)) => next <= last,
                _ => true,
            }
    }
}

/// A VAT group (`VatGroups`). Its rate is dated: `VatGroups_Lines` lists each rate with the
/// day it takes effect from.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VatGroup {
    #[serde(deserialize_with = "lenient::string")]
    pub code: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub name: Option<String>,
    /// `bovcOutputTax` for sales, `bovcInputTax` for purchases.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub category: Option<String>,
    #[serde(default, deserialize_with = "lenient::yes_no")]
    pub inactive: bool,
    #[serde(
        rename = "VatGroups_Lines",
        default,
        deserialize_with = "lenient::vec_or_null"
    )]
    pub lines: Vec<VatGroupLine>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct VatGroupLine {
    #[serde(
        rename = "Effectivefrom",
        default,
        deserialize_with = "lenient::opt_date"
    )]
    pub effective_from: Option<NaiveDate>,
    #[serde(rename = "Rate", default, deserialize_with = "lenient::opt_decimal")]
    pub rate: Option<Decimal>,
}

impl VatGroup {
    /// The rate in force on `day`: the latest line that took effect on or before it.
    pub fn rate_on(&self, day: NaiveDate) -> Option<Decimal> {
        self.lines
            .iter()
            .filter(|l| l.effective_from.is_none_or(|from| from <= day))
            .max_by_key(|l| l.effective_from)
            .and_then(|l| l.rate)
    }

    /// A sales (output) VAT group; one without a category is taken as usable.
    pub fn is_output(&self) -> bool {
        self.category
            .as_deref()
            .is_none_or(|c| c == "bovcOutputTax" || c == "O")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn a_vat_group_uses_the_rate_in_force_on_the_day() {
        let g: VatGroup = serde_json::from_str(
            r#"{"Code":"O1","Name":"Standard","Category":"bovcOutputTax","Inactive":"tNO",
                "VatGroups_Lines":[{"Effectivefrom":"2008-12-01","Rate":15},
                                   {"Effectivefrom":"2011-01-04","Rate":"20.0"}]}"#,
        )
        .unwrap();
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(g.rate_on(day(2010, 6, 1)), Some(dec!(15)));
        assert_eq!(g.rate_on(day(2026, 12, 3)), Some(dec!(20)));
        assert_eq!(g.rate_on(day(2000, 1, 1)), None);
        assert!(g.is_output());
        let a: AdminInfo =
            serde_json::from_str(r#"{"LocalCurrency":"GBP","SystemCurrency":"GBP"}"#).unwrap();
        assert_eq!(a.local_currency, "GBP");
    }
}
