//! Runs of the periodic jobs (stock sync, reconciliation; prices, status and backfill later):
//! what kinds exist, what starts them, where they stand. The scheduler and the API start runs;
//! the worker pool executes each as a job whose subject is the run.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::order_flow::JobKind;

/// What a run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// SAP B1 warehouse stock → Magento salable quantities.
    StockSync,
    /// SAP B1 deliveries → Magento shipments, and the "posted as DocNum" order comments.
    StatusSync,
    /// The Magento order poll that catches missed webhooks.
    Backfill,
    /// SAP B1 against Magento: orders, totals, cancellations, stock, payments.
    Reconcile,
}

impl RunKind {
    pub const ALL: [RunKind; 4] = [
        RunKind::StockSync,
        RunKind::StatusSync,
        RunKind::Backfill,
        RunKind::Reconcile,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::StockSync => "stock_sync",
            RunKind::StatusSync => "status_sync",
            RunKind::Backfill => "backfill",
            RunKind::Reconcile => "reconcile",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The outbox job that executes a run of this kind.
    pub fn job_kind(self) -> JobKind {
        match self {
            RunKind::StockSync => JobKind::StockSync,
            RunKind::StatusSync => JobKind::StatusSync,
            RunKind::Backfill => JobKind::Backfill,
            RunKind::Reconcile => JobKind::Reconcile,
        }
    }
}

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunTrigger {
    /// The scheduler, at its interval.
    Schedule,
    /// An operator through `POST /api/v1/…/sync`.
    Api,
    /// `b1bridge stock sync` (or `reconcile`) on a terminal.
    Cli,
}

impl RunTrigger {
    pub const ALL: [RunTrigger; 3] = [RunTrigger::Schedule, RunTrigger::Api, RunTrigger::Cli];

    pub fn as_str(self) -> &'static str {
        match self {
            RunTrigger::Schedule => "schedule",
            RunTrigger::Api => "api",
            RunTrigger::Cli => "cli",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Waiting for a worker process to pick it up.
    Queued,
    Running,
    Succeeded,
    /// Ended without doing all its work; `error` says why. The next run catches up.
    Failed,
}

impl RunStatus {
    pub const ALL: [RunStatus; 4] = [
        RunStatus::Queued,
        RunStatus::Running,
        RunStatus::Succeeded,
        RunStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn is_active(self) -> bool {
        matches!(self, RunStatus::Queued | RunStatus::Running)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in RunKind::ALL {
            assert_eq!(RunKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
            assert_eq!(k.job_kind().as_str(), k.as_str());
        }
        for t in RunTrigger::ALL {
            assert_eq!(RunTrigger::parse(t.as_str()), Some(t));
        }
        for s in RunStatus::ALL {
            assert_eq!(RunStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }
}
