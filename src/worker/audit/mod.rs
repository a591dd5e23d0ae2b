//! The go-live audit run (docs/go-live-audit.md): reads SAP B1, Magento and b1bridge's own
//! settings and mappings, hands them to the checks of [`crate::domain::audit`], and dry-runs
//! the last Magento orders through `OrdersService_Preview`. It only reads: every SAP request
//! is a GET or a service call that stores nothing, every Magento request a GET.
//!
//! A read that fails ends the run as failed: an audit that skipped a part would say "ready"
//! about something it never looked at.
use futures::future::BoxFuture;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::handler::JobContext;
use super::run_job::{RunResult, RunTask};
use crate::domain::audit::facts::{
    CompanyRead, MagentoRate, MagentoSource, Product, SapItem, SapPartner, SapSeries, SapTaxCode,
    SapWarehouse,
};
use crate::domain::audit::{self, AuditFigures, AuditReport};
use crate::domain::company::TaxLocalization;
use crate::domain::ids::{CardCode, ItemCode};
use crate::magento::search::{Condition, Filter, SearchCriteria};
use crate::magento::{MagentoClient, MagentoError};
use crate::sap::types::{CardType, DocumentSeries};
use crate::sap::{SapClient, SapError};
use crate::store::runs::Run;
use crate::store::{self, StoreError};

mod dry_run;

/// How many of the latest Magento orders are dry-run when the caller does not say.
pub const DEFAULT_ORDERS: u32 = 20;
/// Products per `GET /V1/products` page.
const PRODUCT_PAGE: u32 = 500;

/// Why the audit could not finish.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("SAP B1 ({what}): {source}")]
    Sap {
        what: &'static str,
        source: SapError,
    },
    #[error("Magento ({what}): {source}")]
    Magento {
        what: &'static str,
        source: MagentoError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn sap(what: &'static str) -> impl FnOnce(SapError) -> AuditError {
    move |source| AuditError::Sap { what, source }
}

fn magento(what: &'static str) -> impl FnOnce(MagentoError) -> AuditError {
    move |source| AuditError::Magento { what, source }
}

/// The audit, with the process's SAP client and a Magento client.
#[derive(Clone)]
pub struct Audit {
    sap: SapClient,
    magento: Arc<MagentoClient>,
    orders: u32,
}

impl Audit {
    pub fn new(sap: SapClient, magento: Arc<MagentoClient>) -> Self {
        Self {
            sap,
            magento,
            orders: DEFAULT_ORDERS,
        }
    }

    /// Dry-runs the last `n` orders instead of [`DEFAULT_ORDERS`] (0: none).
    pub fn with_orders(mut self, n: u32) -> Self {
        self.orders = n;
        self
    }

    /// Runs every check and returns the report.
    pub async fn run(&self, pool: &sqlx::PgPool) -> Result<AuditReport, AuditError> {
        let settings = store::settings::current(pool).await?.settings;
        let mappings = store::mappings::snapshot(pool).await?;
        let mut figures = AuditFigures::default();
        let mut findings = Vec::new();

        // Catalogue.
        let products = self.products().await?;
        let sellable: Vec<&Product> = audit::catalogue::sellable_products(&products).collect();
        figures.products = sellable.len() as u64;
        let mut codes: Vec<ItemCode> = sellable
            .iter()
            .filter_map(|p| audit::catalogue::item_code_for(&p.sku, &mappings))
            .collect();
        codes.sort();
        codes.dedup();
        let items = self.items(&codes).await?;
        findings.extend(audit::catalogue::check(
            &products, &mappings, &items, &settings,
        ));

        // Warehouses.
        let warehouses: Vec<SapWarehouse> = self
            .sap
            .list_warehouses()
            .await
            .map_err(sap("GET Warehouses"))?
            .into_iter()
            .map(|w| SapWarehouse {
                code: w.warehouse_code,
                inactive: w.inactive,
            })
            .collect();
        let sources: Vec<MagentoSource> = self
            .magento
            .sources()
            .await
            .map_err(magento("GET V1/inventory/sources"))?
            .into_iter()
            .map(|s| MagentoSource {
                code: s.source_code,
                enabled: s.enabled,
            })
            .collect();
        figures.warehouse_mappings = mappings.warehouses.len() as u64;
        findings.extend(audit::warehouses::check(
            &mappings,
            &settings,
            &warehouses,
            &sources,
        ));

        // The recent orders are read before the tax check: the methods they use are reported.
        let orders = self.recent_orders().await?;

        // Tax.
        let admin = self
            .sap
            .admin_info()
            .await
            .map_err(sap("CompanyService_GetAdminInfo"))?;
        let sap_codes = self.tax_codes().await?;
        let localization = settings.tax_localization.unwrap_or(
            if sap_codes
                .iter()
                .any(|c| c.localization == TaxLocalization::Vat)
            {
                TaxLocalization::Vat
            } else {
                TaxLocalization::SalesTax
            },
        );
        let magento_rates: Vec<MagentoRate> = self
            .magento
            .tax_rates()
            .await
            .map_err(magento("GET V1/taxRates/search"))?
            .into_iter()
            .map(|r| MagentoRate {
                code: r.code,
                percent: r.rate,
            })
            .collect();
        figures.magento_tax_rates = magento_rates.len() as u64;
        let expense_codes: HashSet<i64> = self
            .sap
            .list_expense_codes()
            .await
            .map_err(sap("GET AdditionalExpenses"))?
            .into_iter()
            .map(|e| e.expens_code)
            .collect();
        let used = |f: fn(&crate::domain::order::Order) -> Option<String>| {
            let mut v: Vec<String> = orders
                .iter()
                .filter_map(|o| o.as_ref().ok())
                .filter_map(f)
                .collect();
            v.sort();
            v.dedup();
            v
        };
        let shipping_used = used(|o| o.shipping.as_ref().and_then(|s| s.method.clone()));
        let payment_used = used(|o| o.payment.as_ref().map(|p| p.method.clone()));
        findings.extend(audit::tax::check(
            &mappings,
            &settings,
            &audit::tax::TaxInput {
                localization,
                magento_rates: &magento_rates,
                sap_codes: &sap_codes,
                expense_codes: &expense_codes,
                shipping_methods_used: &shipping_used,
                payment_methods_used: &payment_used,
            },
        ));

        // Partners.
        let mut store_currencies: Vec<String> = orders
            .iter()
            .filter_map(|o| o.as_ref().ok())
            .map(|o| o.currency.as_str().to_owned())
            .collect();
        store_currencies.sort();
        store_currencies.dedup();
        let guest = self
            .sap
            .get_business_partner(&settings.guest_card_code)
            .await
            .map_err(sap("GET BusinessPartners"))?
            .map(partner);
        let prefixed: Vec<SapPartner> = self
            .sap
            .business_partners_with_prefix(&settings.card_code_prefix)
            .await
            .map_err(sap("GET BusinessPartners by prefix"))?
            .into_iter()
            .map(partner)
            .collect();
        findings.extend(audit::partners::check(
            &mappings,
            &settings,
            &audit::partners::PartnerInput {
                guest: guest.as_ref(),
                local_currency: &admin.local_currency,
                store_currencies: &store_currencies,
                prefixed: &prefixed,
            },
        ));

        // The dry run, then the company (its posting-period probe previews a mapped order
        // dated today).
        let dry = dry_run::DryRun::new(&self.sap, &settings, &mappings);
        let outcome = dry.run(&orders).await?;
        figures.orders = outcome.orders;
        figures.orders_matching = outcome.matching;
        findings.extend(outcome.findings);

        let today = chrono::Utc::now()
            .with_timezone(&settings.time_zone())
            .date_naive();
        let mut rates_today = Vec::new();
        for currency in store_currencies
            .iter()
            .filter(|c| **c != admin.local_currency)
        {
            let rate = match self.sap.currency_rate(currency, today).await {
                Ok(rate) => Ok(rate),
                Err(e @ SapError::Permanent { .. }) => Err(e.to_string()),
                Err(e) => return Err(sap("SBOBobService_GetCurrencyRate")(e)),
            };
            rates_today.push((currency.clone(), rate));
        }
        let company = CompanyRead {
            local_currency: admin.local_currency.clone(),
            rates_today,
            order_series: self.series("17").await?,
            credit_note_series: self.series("14").await?,
            period_today: dry.probe_period(outcome.probe.as_ref(), today).await?,
            approvals_in_api: admin.approvals_in_api,
        };
        findings.extend(audit::company::check(&company));
        Ok(AuditReport::new(figures, findings))
    }

    /// Every enabled product (`status` 1), paged.
    async fn products(&self) -> Result<Vec<Product>, AuditError> {
        let criteria = SearchCriteria::new()
            .and(Filter::new("status", Condition::Eq, "1"))
            .sort_asc("entity_id");
        Ok(self
            .magento
            .all_products(&criteria, PRODUCT_PAGE)
            .await
            .map_err(magento("GET V1/products"))?
            .into_iter()
            .map(|p| Product {
                enabled: p.is_enabled(),
                sku: p.sku,
                type_id: p.type_id,
            })
            .collect())
    }

    async fn items(&self, codes: &[ItemCode]) -> Result<HashMap<String, SapItem>, AuditError> {
        Ok(self
            .sap
            .items_by_code(codes)
            .await
            .map_err(sap("GET Items"))?
            .into_iter()
            .map(|i| {
                (
                    i.item_code.clone(),
                    SapItem {
                        valid: i.valid,
                        frozen: i.frozen,
                        sales_item: i.sales_item,
                        inventory_item: i.inventory_item,
                        serial_managed: i.manage_serial_numbers,
                        batch_managed: i.manage_batch_numbers,
                        item_code: i.item_code,
                    },
                )
            })
            .collect())
    }

    /// VAT groups and sales tax codes, whichever the company serves (a Service Layer that
    /// lacks one of the lists refuses it, which counts as empty).
    async fn tax_codes(&self) -> Result<Vec<SapTaxCode>, AuditError> {
        let today = chrono::Utc::now().date_naive();
        let vat = match self.sap.list_vat_groups().await {
            Ok(v) => v,
            Err(SapError::Permanent { .. }) => Vec::new(),
            Err(e) => return Err(sap("GET VatGroups")(e)),
        };
        let sales = match self.sap.list_tax_codes().await {
            Ok(v) => v,
            Err(SapError::Permanent { .. }) => Vec::new(),
            Err(e) => return Err(sap("GET SalesTaxCodes")(e)),
        };
        Ok(vat
            .into_iter()
            .map(|g| SapTaxCode {
                for_sales: g.is_output(),
                inactive: g.inactive,
                percent: g.rate_on(today),
                code: g.code,
                localization: TaxLocalization::Vat,
            })
            .chain(sales.into_iter().map(|t| SapTaxCode {
                for_sales: t.valid_for_ar,
                inactive: t.inactive,
                percent: t.rate,
                code: t.code,
                localization: TaxLocalization::SalesTax,
            }))
            .collect())
    }

    /// The last orders, newest first, each normalised as a webhook's order is (or why not).
    async fn recent_orders(
        &self,
    ) -> Result<Vec<Result<crate::domain::order::Order, String>>, AuditError> {
        if self.orders == 0 {
            return Ok(Vec::new());
        }
        let criteria = SearchCriteria::new()
            .sort_desc("created_at")
            .sort_desc("entity_id")
            .page_size(self.orders)
            .page(1);
        let page = self
            .magento
            .search_orders(&criteria)
            .await
            .map_err(magento("GET V1/orders"))?;
        Ok(page
            .items
            .into_iter()
            .take(self.orders as usize)
            .map(|o| {
                crate::magento::order::normalise(&o.raw)
                    .map_err(|e| format!("order {}: {e}", o.increment_id))
            })
            .collect())
    }

    async fn series(
        &self,
        object: &'static str,
    ) -> Result<Result<Vec<SapSeries>, String>, AuditError> {
        match self.sap.document_series(object).await {
            Ok(list) => Ok(Ok(list.iter().map(series).collect())),
            Err(e @ SapError::Permanent { .. }) => Ok(Err(e.to_string())),
            Err(e) => Err(sap("SeriesService_GetDocumentSeries")(e)),
        }
    }
}

fn series(s: &DocumentSeries) -> SapSeries {
    SapSeries {
        name: s.name.clone().unwrap_or_else(|| s.series.to_string()),
        usable: s.usable(),
    }
}

fn partner(bp: crate::sap::types::BusinessPartner) -> SapPartner {
    SapPartner {
        customer: matches!(bp.card_type, None | Some(CardType::Customer)),
        active: bp.is_active(),
        currency: bp.currency.clone(),
        card_code: bp.card_code,
    }
}

/// The card code the probe and the dry run use when a customer's partner would be created.
pub(crate) fn stand_in(settings: &crate::domain::settings::Settings) -> CardCode {
    settings.guest_card_code.clone()
}

impl RunTask for Audit {
    fn run<'a>(&'a self, _run: &'a Run, ctx: &'a JobContext) -> BoxFuture<'a, RunResult> {
        Box::pin(async move {
            match Audit::run(self, &ctx.pool).await {
                Ok(report) => RunResult {
                    figures: serde_json::to_value(&report).unwrap_or_default(),
                    error: None,
                },
                Err(e) => RunResult {
                    figures: serde_json::json!({}),
                    error: Some(format!("the audit could not read everything: {e}")),
                },
            }
        })
    }
}
