//! The company facts a Sales Order is built against (tax localization, local currency, the
//! rate of every tax code), read from SAP and shared by every job of the process. They change
//! rarely (a new rate, a new VAT group), so they are kept for `Settings::item_cache_ttl_secs`
//! like the item master; an operator's retry reads them afresh. Costs 2–3 requests per
//! period: `AdminInfo`, `VatGroups`, and `SalesTaxCodes` in a company without VAT groups.
use chrono::Utc;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

use crate::domain::company::{CompanyFacts, TaxLocalization};
use crate::domain::money::Currency;
use crate::sap::types::{SalesTaxCode, VatGroup};
use crate::sap::{SapClient, SapError};

/// The shared cache; clones share the last read.
#[derive(Clone, Default)]
pub struct CompanyFactsCache {
    read: Arc<Mutex<Option<(Instant, Read)>>>,
}

/// What SAP answered, before the settings choose the localization.
#[derive(Debug, Clone)]
struct Read {
    local_currency: String,
    vat_groups: Vec<VatGroup>,
    /// Read only when the company has no VAT groups or the settings say `sales_tax`.
    sales_tax_codes: Option<Vec<SalesTaxCode>>,
}

impl CompanyFactsCache {
    /// The company's facts, with the localization the settings fix (`Some`) or the one the
    /// company has (`None`: VAT groups → VAT, else sales tax). The lock is held while SAP is
    /// read, so concurrent jobs wait for one read instead of each sending their own.
    pub async fn facts(
        &self,
        sap: &SapClient,
        localization: Option<TaxLocalization>,
        ttl: Duration,
        refresh: bool,
    ) -> Result<CompanyFacts, SapError> {
        let mut slot = self.read.lock().await;
        let fresh = slot
            .as_ref()
            .filter(|(at, _)| !refresh && at.elapsed() < ttl)
            .map(|(_, read)| read.clone());
        let mut read = match fresh {
            Some(read) => read,
            None => {
                let read = read_company(sap).await?;
                *slot = Some((Instant::now(), read.clone()));
                read
            }
        };
        let localization = localization.unwrap_or(if read.vat_groups.is_empty() {
            TaxLocalization::SalesTax
        } else {
            TaxLocalization::Vat
        });
        if localization == TaxLocalization::SalesTax && read.sales_tax_codes.is_none() {
            read.sales_tax_codes = Some(sap.list_tax_codes().await?);
            *slot = Some((Instant::now(), read.clone()));
        }
        facts_from(&read, localization)
    }
}

async fn read_company(sap: &SapClient) -> Result<Read, SapError> {
    let admin = sap.admin_info().await?;
    let vat_groups: Vec<VatGroup> = match sap.list_vat_groups().await {
        Ok(groups) => groups
            .into_iter()
            .filter(|g| !g.inactive && g.is_output())
            .collect(),
        // A company whose Service Layer has no VAT groups at all is a sales-tax company.
        Err(SapError::Permanent { .. }) => Vec::new(),
        Err(e) => return Err(e),
    };
    let sales_tax_codes = if vat_groups.is_empty() {
        Some(sap.list_tax_codes().await?)
    } else {
        None
    };
    Ok(Read {
        local_currency: admin.local_currency,
        vat_groups,
        sales_tax_codes,
    })
}

fn facts_from(read: &Read, localization: TaxLocalization) -> Result<CompanyFacts, SapError> {
    let today = Utc::now().date_naive();
    let tax_rates: HashMap<String, _> = match localization {
        TaxLocalization::Vat => read
            .vat_groups
            .iter()
            .filter_map(|g| g.rate_on(today).map(|r| (g.code.clone(), r)))
            .collect(),
        TaxLocalization::SalesTax => read
            .sales_tax_codes
            .iter()
            .flatten()
            .filter(|t| !t.inactive)
            .filter_map(|t| t.rate.map(|r| (t.code.clone(), r)))
            .collect(),
    };
    let local_currency =
        Currency::parse(&read.local_currency).map_err(|reason| SapError::Permanent {
            status: 200,
            code: None,
            message: format!("AdminInfo.LocalCurrency: {reason}"),
        })?;
    Ok(CompanyFacts {
        localization,
        local_currency,
        tax_rates,
    })
}
