//! What the company is: its local currency (`CompanyService_GetAdminInfo`) and its tax codes
//! of either localization (`VatGroups` for VAT, `SalesTaxCodes` for US/Canada sales tax).
use super::client::SapClient;
use super::error::SapError;
use super::odata::{collection_url, Query};
use super::types::{AdminInfo, DocumentSeries, VatGroup};
use chrono::NaiveDate;
use rust_decimal::Decimal;

impl SapClient {
    /// The company's administration settings (`POST CompanyService_GetAdminInfo`).
    pub async fn admin_info(&self) -> Result<AdminInfo, SapError> {
        self.post_json(
            self.url("CompanyService_GetAdminInfo"),
            &serde_json::json!({}),
        )
        .await
    }

    /// Every VAT group with its dated rates; empty in a sales-tax (US/Canada) company.
    pub async fn list_vat_groups(&self) -> Result<Vec<VatGroup>, SapError> {
        let url = collection_url(
            self.root(),
            "VatGroups",
            &Query {
                select: &["Code", "Name", "Category", "Inactive", "VatGroups_Lines"],
                ..Query::default()
            },
        );
        let first = self.first_page(url, false).await?;
        self.collect_pages(first).await
    }

    /// The exchange rate of `currency` on `day` (`POST SBOBobService_GetCurrencyRate`,
    /// APIREF), in local currency per unit. The answer's shape is not in the reference: the
    /// bare OData value `{"value": …}` is read (docs/go-live-audit.md).
    pub async fn currency_rate(&self, currency: &str, day: NaiveDate) -> Result<Decimal, SapError> {
        #[derive(serde::Deserialize)]
        struct Rate {
            #[serde(deserialize_with = "super::types::lenient::decimal")]
            value: Decimal,
        }
        let body = serde_json::json!({
            "Currency": currency,
            "Date": day.format("%Y%m%d").to_string(),
        });
        let rate: Rate = self
            .post_read(self.url("SBOBobService_GetCurrencyRate"), &body)
            .await?;
        Ok(rate.value)
    }

    /// The numbering series of an object type (`POST SeriesService_GetDocumentSeries`,
    /// APIREF: `Document` is the object code, 17 for Sales Orders, 14 for A/R credit memos).
    pub async fn document_series(
        &self,
        object_code: &str,
    ) -> Result<Vec<DocumentSeries>, SapError> {
        #[derive(serde::Deserialize)]
        struct List {
            #[serde(default)]
            value: Vec<DocumentSeries>,
        }
        let body = serde_json::json!({ "DocumentTypeParams": { "Document": object_code } });
        let list: List = self
            .post_read(self.url("SeriesService_GetDocumentSeries"), &body)
            .await?;
        Ok(list.value)
    }
}
