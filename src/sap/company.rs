//! What the company is: its local currency (`CompanyService_GetAdminInfo`) and its tax codes
//! of either localization (`VatGroups` for VAT, `SalesTaxCodes` for US/Canada sales tax).
use super::client::SapClient;
use super::error::SapError;
use super::odata::{collection_url, Query};
use super::types::{AdminInfo, VatGroup};

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
}
