//! The company the simulator starts with: master data and document numbering, loaded from a
//! JSON file whose entries use the Service Layer's own property names. A realistic default
//! ships with the binary (`default_seed.json`): every SKU of the Magento sample orders plus a
//! few dozen apparel items, three warehouses, customers (a web guest, a known e-mail, an
//! inactive and a frozen one), tax codes and freight.
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;

use super::approvals::ApprovalProcedure;
use super::entities::{
    AdditionalExpense, BusinessPartner, Item, PriceList, SalesTaxCode, SpecialPrice, VatGroup,
    VatGroupLine, Warehouse,
};

const DEFAULT_SEED: &str = include_str!("default_seed.json");

/// The company's tax localization: which document line field carries the tax code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Localization {
    /// US/Canada: `TaxCode` from `SalesTaxCodes` (`tax_codes` of the seed).
    #[default]
    SalesTax,
    /// UK/EU: `VatGroup` from `VatGroups` (`vat_groups` of the seed).
    Vat,
}

/// The rate of a foreign currency on a day, in local currency per unit (SAP's direct
/// quotation, ORTT): what `SBOBobService_GetCurrencyRate` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeRate {
    pub currency: String,
    pub date: NaiveDate,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub rate: Decimal,
}

/// A posting period (OFPR): documents may be dated inside it while it is unlocked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostingPeriod {
    pub code: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub status: PeriodStatus,
}

/// B1's period statuses that matter to a sales document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodStatus {
    Unlocked,
    /// Closed to sales documents, open to the rest (B1's "Unlocked Except Sales").
    UnlockedExceptSales,
    Locked,
}

/// Master data and numbering of a simulated company.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// The company's local currency (`AdminInfo.LocalCurrency`), used when neither the
    /// document nor the customer names one.
    pub local_currency: String,
    #[serde(default)]
    pub localization: Localization,
    /// VAT groups of a VAT localization (empty in a sales-tax company).
    #[serde(default)]
    pub vat_groups: Vec<VatGroup>,
    /// Exchange rates by currency and day; a foreign-currency document needs its day's rate.
    #[serde(default)]
    pub exchange_rates: Vec<ExchangeRate>,
    /// Posting periods. Empty: every date may be posted (a seed without periods); else a
    /// sales document must fall in a period that is `unlocked`.
    #[serde(default)]
    pub posting_periods: Vec<PostingPeriod>,
    /// The warehouse a document line uses when it names none and its item has no default.
    pub default_warehouse: String,
    #[serde(default)]
    pub numbering: Numbering,
    pub warehouses: Vec<Warehouse>,
    pub items: Vec<Item>,
    pub business_partners: Vec<BusinessPartner>,
    pub tax_codes: Vec<SalesTaxCode>,
    pub expense_codes: Vec<AdditionalExpense>,
    /// Price lists (OPLN). Factor lists' item prices are computed from their base list.
    #[serde(default)]
    pub price_lists: Vec<PriceList>,
    /// Special prices (OSPP) with their period rows.
    #[serde(default)]
    pub special_prices: Vec<SpecialPrice>,
    /// Approval procedures: a new Sales Order that one applies to becomes a draft.
    #[serde(default)]
    pub approval_procedures: Vec<ApprovalProcedure>,
}

/// The next `DocEntry` and `DocNum` per document type. They are separate counters in B1
/// (`DocEntry` per table, `DocNum` per numbering series), so they differ in real data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Numbering {
    pub orders: Series,
    pub delivery_notes: Series,
    pub invoices: Series,
    #[serde(default = "Numbering::default_drafts")]
    pub drafts: Series,
    /// A/R credit memos (object 14); the audit also reads whether their series is usable
    /// (`SeriesService_GetDocumentSeries`).
    #[serde(default = "Numbering::default_credit_notes")]
    pub credit_notes: Series,
}

/// A document type's numbering series (NNM1): `Locked` and `LastNumber` are the series
/// fields the reference lists (docs/go-live-audit.md). A locked series, or one whose
/// `NextNumber` is past its `LastNumber`, cannot number a new document.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Series {
    pub next_doc_entry: i64,
    pub next_doc_num: i64,
    #[serde(default)]
    pub locked: bool,
    /// The last number the series may give; `None`: open-ended.
    #[serde(default)]
    pub last_number: Option<i64>,
}

impl Series {
    pub fn new(next_doc_entry: i64, next_doc_num: i64) -> Self {
        Self {
            next_doc_entry,
            next_doc_num,
            locked: false,
            last_number: None,
        }
    }

    /// Whether the series can number one more document.
    pub fn usable(&self) -> bool {
        !self.locked
            && self
                .last_number
                .is_none_or(|last| self.next_doc_num <= last)
    }
}

impl Default for Numbering {
    fn default() -> Self {
        Self {
            orders: Series::new(1187, 20431),
            delivery_notes: Series::new(963, 30218),
            invoices: Series::new(1402, 40977),
            drafts: Numbering::default_drafts(),
            credit_notes: Numbering::default_credit_notes(),
        }
    }
}

impl Numbering {
    fn default_drafts() -> Series {
        Series::new(508, 508)
    }

    fn default_credit_notes() -> Series {
        Series::new(211, 50112)
    }
}

/// Why a seed file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("cannot read the seed file {path}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the seed is not valid JSON for the simulator")]
    Parse(#[from] serde_json::Error),
    #[error("the seed is inconsistent: {0}")]
    Invalid(String),
}

impl Seed {
    /// The seed shipped with the binary: a US sales-tax company in USD (`SalesTaxCodes`).
    pub fn default_seed() -> Self {
        Self::from_json(DEFAULT_SEED).expect("the bundled default_seed.json is valid")
    }

    /// The US sales-tax company: the default seed, plus a combined state and county code
    /// (California 7.25 % + Los Angeles County 2.25 %), as a US company defines a stacked
    /// jurisdiction.
    pub fn us_sales_tax() -> Self {
        let mut seed = Self::default_seed();
        seed.tax_codes.push(SalesTaxCode {
            code: "CA-LA".into(),
            name: "California + Los Angeles County".into(),
            rate: Decimal::new(95, 1),
            ..Default::default()
        });
        seed
    }

    /// A UK VAT company in GBP that takes EUR orders: the default seed's items, warehouses
    /// and partners, with VAT groups instead of sales tax codes (standard 20 %, reduced 5 %,
    /// zero-rated, exempt, and Irish 23 % for shipments to Ireland), EUR rates for the whole
    /// of 2020–2027 except 2026-12-25 (no rate was entered that day), and partners that
    /// take any currency (`##`) except the web guest, which is GBP only.
    pub fn uk_vat() -> Self {
        let mut seed = Self::default_seed();
        seed.local_currency = "GBP".into();
        seed.localization = Localization::Vat;
        seed.tax_codes.clear();
        let since = NaiveDate::from_ymd_opt(2011, 1, 4).expect("valid date");
        let group = |code: &str, name: &str, rate: Decimal| VatGroup {
            code: code.into(),
            name: name.into(),
            category: "bovcOutputTax".into(),
            inactive: super::enums::YesNo::No,
            vat_groups_lines: vec![VatGroupLine {
                effective_from: since,
                rate,
            }],
        };
        seed.vat_groups = vec![
            group("O1", "Output standard rate", Decimal::new(20, 0)),
            group("O2", "Output reduced rate", Decimal::new(5, 0)),
            group("O0", "Output zero rated", Decimal::ZERO),
            group("EX", "Output exempt", Decimal::ZERO),
            group("IE23", "Output Ireland standard rate", Decimal::new(23, 0)),
        ];
        let mut day = NaiveDate::from_ymd_opt(2020, 1, 1).expect("valid date");
        let last = NaiveDate::from_ymd_opt(2027, 12, 31).expect("valid date");
        let missing = NaiveDate::from_ymd_opt(2026, 12, 25).expect("valid date");
        while day <= last {
            if day != missing {
                seed.exchange_rates.push(ExchangeRate {
                    currency: "EUR".into(),
                    date: day,
                    rate: Decimal::new(8612, 4),
                });
            }
            day = day.succ_opt().expect("a next day");
        }
        for bp in &mut seed.business_partners {
            bp.currency = Some(if bp.card_code == "WEBGUEST" {
                "GBP".into()
            } else {
                "##".into()
            });
        }
        seed
    }

    pub fn from_file(path: &Path) -> Result<Self, SeedError> {
        let text = std::fs::read_to_string(path).map_err(|source| SeedError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&text)
    }

    pub fn from_json(text: &str) -> Result<Self, SeedError> {
        let seed: Seed = serde_json::from_str(text)?;
        seed.check()?;
        Ok(seed)
    }

    /// Codes are unique and every warehouse reference exists, so the simulator never has to
    /// guess.
    fn check(&self) -> Result<(), SeedError> {
        fn unique<'a>(
            what: &str,
            codes: impl Iterator<Item = &'a str>,
        ) -> Result<BTreeSet<&'a str>, SeedError> {
            let mut seen = BTreeSet::new();
            for code in codes {
                if !seen.insert(code) {
                    return Err(SeedError::Invalid(format!("{what} '{code}' appears twice")));
                }
            }
            Ok(seen)
        }
        let warehouses = unique(
            "warehouse",
            self.warehouses.iter().map(|w| w.warehouse_code.as_str()),
        )?;
        unique("item", self.items.iter().map(|i| i.item_code.as_str()))?;
        unique(
            "business partner",
            self.business_partners.iter().map(|b| b.card_code.as_str()),
        )?;
        unique("tax code", self.tax_codes.iter().map(|t| t.code.as_str()))?;
        unique("VAT group", self.vat_groups.iter().map(|t| t.code.as_str()))?;
        self.check_price_lists()?;
        let fits = match self.localization {
            Localization::Vat => self.tax_codes.is_empty(),
            Localization::SalesTax => self.vat_groups.is_empty(),
        };
        if !fits {
            return Err(SeedError::Invalid(
                "a VAT company has only vat_groups, a sales-tax company only tax_codes".into(),
            ));
        }
        let expense_codes: Vec<String> = self
            .expense_codes
            .iter()
            .map(|e| e.expens_code.to_string())
            .collect();
        unique("expense code", expense_codes.iter().map(String::as_str))?;
        if !warehouses.contains(self.default_warehouse.as_str()) {
            return Err(SeedError::Invalid(format!(
                "default warehouse '{}' is not a warehouse",
                self.default_warehouse
            )));
        }
        for item in &self.items {
            let referenced = item
                .item_warehouse_info_collection
                .iter()
                .map(|w| &w.warehouse_code)
                .chain(&item.default_warehouse);
            for code in referenced {
                if !warehouses.contains(code.as_str()) {
                    return Err(SeedError::Invalid(format!(
                        "item '{}' refers to unknown warehouse '{code}'",
                        item.item_code
                    )));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_seed_has_every_sample_sku_and_the_special_cases() {
        let seed = Seed::default_seed();
        let has = |code: &str| seed.items.iter().any(|i| i.item_code == code);
        for sku in [
            "MH09-XS-Blue",
            "RACER",
            "WP13-28-Blue",
            "WSH08-29-Purple",
            "WS12-M-Orange",
            "240-LV08",
            "24-WG082-blue",
            "24-WG084",
            "24-WG086",
            "24-WG088",
            "MH01-S-Gray",
            "WS12-XS-Blue",
        ] {
            assert!(has(sku), "missing {sku}");
        }
        assert!(seed.items.len() >= 50);
        assert!(seed.items.iter().any(|i| !i.valid.is_yes()));
        assert!(seed.items.iter().any(|i| i.frozen.is_yes()));
        assert!(seed.items.iter().any(|i| !i.sales_item.is_yes()));
        assert!(seed.items.iter().any(|i| i.manage_serial_numbers.is_yes()));
        assert!(seed.items.iter().any(|i| i.manage_batch_numbers.is_yes()));
        assert!(seed
            .business_partners
            .iter()
            .any(|b| b.card_code == "WEBGUEST"));
        assert!(seed
            .business_partners
            .iter()
            .any(|b| b.email_address.as_deref() == Some("roni_cost@example.com")));
        assert!(seed.business_partners.iter().any(|b| !b.is_active()));
        assert!(seed.warehouses.iter().any(|w| w.inactive.is_yes()));
    }

    #[test]
    fn the_uk_seed_is_a_vat_company_in_gbp_with_eur_rates_and_the_us_seed_stacks_rates() {
        let uk = Seed::from_json(&serde_json::to_string(&Seed::uk_vat()).unwrap()).unwrap();
        assert_eq!(uk.local_currency, "GBP");
        assert_eq!(uk.localization, Localization::Vat);
        assert!(uk.tax_codes.is_empty());
        assert!(uk.vat_groups.iter().any(|g| g.code == "O1"));
        assert!(uk.exchange_rates.iter().all(|r| r.currency == "EUR"));
        let us = Seed::us_sales_tax();
        assert_eq!(us.localization, Localization::SalesTax);
        assert!(us.tax_codes.iter().any(|t| t.code == "CA-LA"));
        let mut mixed = Seed::uk_vat();
        mixed.tax_codes = us.tax_codes;
        let text = serde_json::to_string(&mixed).unwrap();
        assert!(Seed::from_json(&text).is_err());
    }

    #[test]
    fn inconsistent_seeds_are_refused_with_the_reason() {
        let mut seed = Seed::default_seed();
        seed.items[0].default_warehouse = Some("99".into());
        let text = serde_json::to_string(&seed).unwrap();
        let err = Seed::from_json(&text).unwrap_err().to_string();
        assert!(err.contains("unknown warehouse '99'"), "{err}");
        assert!(Seed::from_json("{\"local_currency\": 1}").is_err());
    }
}
