//! The company the simulator starts with: master data and document numbering, loaded from a
//! JSON file whose entries use the Service Layer's own property names. A realistic default
//! ships with the binary (`default_seed.json`): every SKU of the Magento sample orders plus a
//! few dozen apparel items, three warehouses, customers (a web guest, a known e-mail, an
//! inactive and a frozen one), tax codes and freight.
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;

use super::approvals::ApprovalProcedure;
use super::entities::{AdditionalExpense, BusinessPartner, Item, SalesTaxCode, Warehouse};

const DEFAULT_SEED: &str = include_str!("default_seed.json");

/// Master data and numbering of a simulated company.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// The company's local currency, used when neither the document nor the customer names one.
    pub local_currency: String,
    /// The warehouse a document line uses when it names none and its item has no default.
    pub default_warehouse: String,
    #[serde(default)]
    pub numbering: Numbering,
    pub warehouses: Vec<Warehouse>,
    pub items: Vec<Item>,
    pub business_partners: Vec<BusinessPartner>,
    pub tax_codes: Vec<SalesTaxCode>,
    pub expense_codes: Vec<AdditionalExpense>,
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
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Series {
    pub next_doc_entry: i64,
    pub next_doc_num: i64,
}

impl Default for Numbering {
    fn default() -> Self {
        Self {
            orders: Series {
                next_doc_entry: 1187,
                next_doc_num: 20431,
            },
            delivery_notes: Series {
                next_doc_entry: 963,
                next_doc_num: 30218,
            },
            invoices: Series {
                next_doc_entry: 1402,
                next_doc_num: 40977,
            },
            drafts: Numbering::default_drafts(),
        }
    }
}

impl Numbering {
    fn default_drafts() -> Series {
        Series {
            next_doc_entry: 508,
            next_doc_num: 508,
        }
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
    /// The seed shipped with the binary.
    pub fn default_seed() -> Self {
        Self::from_json(DEFAULT_SEED).expect("the bundled default_seed.json is valid")
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
    fn inconsistent_seeds_are_refused_with_the_reason() {
        let mut seed = Seed::default_seed();
        seed.items[0].default_warehouse = Some("99".into());
        let text = serde_json::to_string(&seed).unwrap();
        let err = Seed::from_json(&text).unwrap_err().to_string();
        assert!(err.contains("unknown warehouse '99'"), "{err}");
        assert!(Seed::from_json("{\"local_currency\": 1}").is_err());
    }
}
