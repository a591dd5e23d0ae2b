//! Business Partners (`/BusinessPartners`, reference §4).
use super::client::SapClient;
use super::error::SapError;
use super::odata::{collection_url, Filter, Query};
use super::types::{BusinessPartner, NewBusinessPartner, BUSINESS_PARTNER_FIELDS};
use crate::domain::ids::CardCode;

impl SapClient {
    /// Reads a partner by code; `None` if SAP has none.
    pub async fn get_business_partner(
        &self,
        card_code: &CardCode,
    ) -> Result<Option<BusinessPartner>, SapError> {
        self.get_by_string_key(
            "BusinessPartners",
            "CardCode",
            card_code.as_str(),
            BUSINESS_PARTNER_FIELDS,
        )
        .await
    }

    /// Partners whose e-mail equals `email`, ignoring case (`B1S-CaseInsensitive`, since
    /// HANA compares case-sensitively and shoppers do not type e-mails consistently).
    pub async fn find_business_partners_by_email(
        &self,
        email: &str,
    ) -> Result<Vec<BusinessPartner>, SapError> {
        let filter = Filter::equals("EmailAddress", email.trim());
        let url = collection_url(
            self.root(),
            "BusinessPartners",
            &Query {
                filter: Some(&filter),
                select: BUSINESS_PARTNER_FIELDS,
                order_by: Some("CardCode"),
            },
        );
        let first = self.first_page(url, true).await?;
        self.collect_pages(first).await
    }

    /// Partners whose CardCode begins with `prefix` (the audit's collision check).
    pub async fn business_partners_with_prefix(
        &self,
        prefix: &str,
    ) -> Result<Vec<BusinessPartner>, SapError> {
        let filter = Filter::starts_with("CardCode", prefix);
        let url = collection_url(
            self.root(),
            "BusinessPartners",
            &Query {
                filter: Some(&filter),
                select: BUSINESS_PARTNER_FIELDS,
                order_by: Some("CardCode"),
            },
        );
        let first = self.first_page(url, false).await?;
        self.collect_pages(first).await
    }

    /// Creates a partner. A duplicate code is `Permanent` -10 ("already assigned").
    pub async fn create_business_partner(
        &self,
        partner: &NewBusinessPartner,
    ) -> Result<BusinessPartner, SapError> {
        self.post_json(self.url("BusinessPartners"), partner).await
    }
}
