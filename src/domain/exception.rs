//! The exception catalogue: every way an order can stop, who owns it and what it blocks.
//! Contract §3 fixes the categories, their owner teams and impacts.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What went wrong, in the words of the team that fixes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    UnknownSku,
    ItemNotSellable,
    CustomerUnmapped,
    AddressInvalid,
    SerialBatchRequired,
    CancelConflict,
    StockDrift,
    TotalMismatch,
    PaymentUnlinked,
    MissedWebhook,
    PayloadInvalid,
    SapRejected,
    SapUnavailable,
    /// SAP turned the order into a draft awaiting approval (an approval procedure).
    ApprovalPending,
    /// Magento refused a stock update (an unknown SKU or source, say), a shipment or a comment.
    MagentoRejected,
    /// A Magento credit memo cannot be matched to an SAP document (no A/R invoice yet, say).
    RefundUnmatched,
    /// Magento refused a price row, or a price change was held by the guard rail.
    PriceRejected,
}

/// The team that owns an exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OwnerTeam {
    Merchandising,
    CustomerService,
    Operations,
    Finance,
    Integration,
}

/// What the exception puts at risk; sorts the queue for whoever is on duty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Impact {
    BlocksFulfilment,
    CustomerFacing,
    StockAccuracy,
    Financial,
    Informational,
}

impl Category {
    pub const ALL: [Category; 17] = [
        Category::UnknownSku,
        Category::ItemNotSellable,
        Category::CustomerUnmapped,
        Category::AddressInvalid,
        Category::SerialBatchRequired,
        Category::CancelConflict,
        Category::StockDrift,
        Category::TotalMismatch,
        Category::PaymentUnlinked,
        Category::MissedWebhook,
        Category::PayloadInvalid,
        Category::SapRejected,
        Category::SapUnavailable,
        Category::ApprovalPending,
        Category::MagentoRejected,
        Category::RefundUnmatched,
        Category::PriceRejected,
    ];

    /// Owner and impact come from the category alone, so they can never disagree.
    pub fn owner_team(self) -> OwnerTeam {
        use Category::*;
        match self {
            UnknownSku | ItemNotSellable | PriceRejected => OwnerTeam::Merchandising,
            CustomerUnmapped | AddressInvalid => OwnerTeam::CustomerService,
            SerialBatchRequired | CancelConflict | StockDrift => OwnerTeam::Operations,
            TotalMismatch | PaymentUnlinked | ApprovalPending | RefundUnmatched => {
                OwnerTeam::Finance
            }
            MissedWebhook | PayloadInvalid | SapRejected | SapUnavailable | MagentoRejected => {
                OwnerTeam::Integration
            }
        }
    }

    pub fn impact(self) -> Impact {
        use Category::*;
        match self {
            CancelConflict | MagentoRejected | PriceRejected => Impact::CustomerFacing,
            StockDrift => Impact::StockAccuracy,
            TotalMismatch | PaymentUnlinked | RefundUnmatched => Impact::Financial,
            MissedWebhook => Impact::Informational,
            _ => Impact::BlocksFulfilment,
        }
    }

    pub fn as_str(self) -> &'static str {
        use Category::*;
        match self {
            UnknownSku => "unknown_sku",
            ItemNotSellable => "item_not_sellable",
            CustomerUnmapped => "customer_unmapped",
            AddressInvalid => "address_invalid",
            SerialBatchRequired => "serial_batch_required",
            CancelConflict => "cancel_conflict",
            StockDrift => "stock_drift",
            TotalMismatch => "total_mismatch",
            PaymentUnlinked => "payment_unlinked",
            MissedWebhook => "missed_webhook",
            PayloadInvalid => "payload_invalid",
            SapRejected => "sap_rejected",
            SapUnavailable => "sap_unavailable",
            ApprovalPending => "approval_pending",
            MagentoRejected => "magento_rejected",
            RefundUnmatched => "refund_unmatched",
            PriceRejected => "price_rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl OwnerTeam {
    pub const ALL: [OwnerTeam; 5] = [
        OwnerTeam::Merchandising,
        OwnerTeam::CustomerService,
        OwnerTeam::Operations,
        OwnerTeam::Finance,
        OwnerTeam::Integration,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OwnerTeam::Merchandising => "merchandising",
            OwnerTeam::CustomerService => "customer_service",
            OwnerTeam::Operations => "operations",
            OwnerTeam::Finance => "finance",
            OwnerTeam::Integration => "integration",
        }
    }
}

impl Impact {
    pub const ALL: [Impact; 5] = [
        Impact::BlocksFulfilment,
        Impact::CustomerFacing,
        Impact::StockAccuracy,
        Impact::Financial,
        Impact::Informational,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Impact::BlocksFulfilment => "blocks_fulfilment",
            Impact::CustomerFacing => "customer_facing",
            Impact::StockAccuracy => "stock_accuracy",
            Impact::Financial => "financial",
            Impact::Informational => "informational",
        }
    }
}

/// The SAP error behind an exception, as SAP reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SapErrorInfo {
    pub code: i64,
    pub message: String,
}

/// A problem to record: the storage layer turns it into a new exception row, or bumps the
/// occurrence count of the open one with the same `dedup_key`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewException {
    pub category: Category,
    pub title: String,
    pub detail: String,
    pub order_increment_id: Option<String>,
    pub skus: Vec<String>,
    pub sap_error: Option<SapErrorInfo>,
    /// The same problem for the same order is one exception, however often it recurs.
    pub dedup_key: String,
    pub context: serde_json::Value,
}

impl NewException {
    /// The de-duplication key: category, order and the SKUs concerned.
    pub fn dedup_key_for(category: Category, order: Option<&str>, skus: &[String]) -> String {
        let mut skus = skus.to_vec();
        skus.sort();
        format!(
            "{}|{}|{}",
            category.as_str(),
            order.unwrap_or("-"),
            skus.join(",")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_category_has_the_contract_owner_and_impact() {
        let table = [
            ("unknown_sku", "merchandising", "blocks_fulfilment"),
            ("item_not_sellable", "merchandising", "blocks_fulfilment"),
            ("customer_unmapped", "customer_service", "blocks_fulfilment"),
            ("address_invalid", "customer_service", "blocks_fulfilment"),
            ("serial_batch_required", "operations", "blocks_fulfilment"),
            ("cancel_conflict", "operations", "customer_facing"),
            ("stock_drift", "operations", "stock_accuracy"),
            ("total_mismatch", "finance", "financial"),
            ("payment_unlinked", "finance", "financial"),
            ("missed_webhook", "integration", "informational"),
            ("payload_invalid", "integration", "blocks_fulfilment"),
            ("sap_rejected", "integration", "blocks_fulfilment"),
            ("sap_unavailable", "integration", "blocks_fulfilment"),
            ("approval_pending", "finance", "blocks_fulfilment"),
            ("magento_rejected", "integration", "customer_facing"),
            ("refund_unmatched", "finance", "financial"),
            ("price_rejected", "merchandising", "customer_facing"),
        ];
        assert_eq!(table.len(), Category::ALL.len());
        for (cat, team, impact) in table {
            let c = Category::parse(cat).expect(cat);
            assert_eq!(c.owner_team().as_str(), team, "{cat}");
            assert_eq!(OwnerTeam::parse(team), Some(c.owner_team()));
            assert_eq!(Impact::parse(impact), Some(c.impact()));
            assert_eq!(c.impact().as_str(), impact, "{cat}");
            assert_eq!(serde_json::to_value(c).unwrap(), cat);
        }
    }

    #[test]
    fn dedup_key_ignores_sku_order() {
        let a =
            NewException::dedup_key_for(Category::UnknownSku, Some("1"), &["b".into(), "a".into()]);
        let b =
            NewException::dedup_key_for(Category::UnknownSku, Some("1"), &["a".into(), "b".into()]);
        assert_eq!(a, b);
    }
}
