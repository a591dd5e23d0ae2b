//! The life of an exception: which action is allowed in which state. Pure and table-tested;
//! the storage layer asks [`transition`] inside the transaction that changes the row.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where an exception stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionStatus {
    /// Needs someone to act.
    Open,
    /// The order's job was re-queued; resolved automatically when it succeeds, open again
    /// (with one more occurrence) when the problem recurs.
    Retrying,
    /// Fixed. Final: if the problem comes back, it is a new exception.
    Resolved,
    /// Deliberately left alone. Final.
    Ignored,
}

impl ExceptionStatus {
    pub const ALL: [ExceptionStatus; 4] = [
        ExceptionStatus::Open,
        ExceptionStatus::Retrying,
        ExceptionStatus::Resolved,
        ExceptionStatus::Ignored,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionStatus::Open => "open",
            ExceptionStatus::Retrying => "retrying",
            ExceptionStatus::Resolved => "resolved",
            ExceptionStatus::Ignored => "ignored",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Resolved and ignored exceptions accept no action.
    pub fn is_final(self) -> bool {
        matches!(self, ExceptionStatus::Resolved | ExceptionStatus::Ignored)
    }
}

/// What an operator (or b1bridge itself) does to an exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExceptionAction {
    /// Re-queue the order's parked job.
    Retry,
    Resolve,
    Ignore,
}

impl ExceptionAction {
    /// The audit log's name of the action.
    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionAction::Retry => "retry",
            ExceptionAction::Resolve => "resolve",
            ExceptionAction::Ignore => "ignore",
        }
    }
}

/// An action that the exception's current state does not allow (HTTP 409).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot {} an exception that is {}", action.as_str(), from.as_str())]
pub struct IllegalTransition {
    pub from: ExceptionStatus,
    pub action: ExceptionAction,
}

/// The state after `action`, or why it is not allowed.
pub fn transition(
    from: ExceptionStatus,
    action: ExceptionAction,
) -> Result<ExceptionStatus, IllegalTransition> {
    use ExceptionAction as A;
    use ExceptionStatus as S;
    match (from, action) {
        (S::Open, A::Retry) => Ok(S::Retrying),
        (S::Open | S::Retrying, A::Resolve) => Ok(S::Resolved),
        (S::Open, A::Ignore) => Ok(S::Ignored),
        _ => Err(IllegalTransition { from, action }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ExceptionAction as A;
    use ExceptionStatus as S;

    #[test]
    fn every_state_and_action_has_the_documented_outcome() {
        let table = [
            (S::Open, A::Retry, Some(S::Retrying)),
            (S::Open, A::Resolve, Some(S::Resolved)),
            (S::Open, A::Ignore, Some(S::Ignored)),
            (S::Retrying, A::Retry, None),
            (S::Retrying, A::Resolve, Some(S::Resolved)),
            (S::Retrying, A::Ignore, None),
            (S::Resolved, A::Retry, None),
            (S::Resolved, A::Resolve, None),
            (S::Resolved, A::Ignore, None),
            (S::Ignored, A::Retry, None),
            (S::Ignored, A::Resolve, None),
            (S::Ignored, A::Ignore, None),
        ];
        assert_eq!(table.len(), S::ALL.len() * 3);
        for (from, action, expected) in table {
            assert_eq!(
                transition(from, action).ok(),
                expected,
                "{from:?} {action:?}"
            );
        }
    }

    #[test]
    fn final_states_refuse_everything_with_a_readable_reason() {
        for from in S::ALL.into_iter().filter(|s| s.is_final()) {
            for action in [A::Retry, A::Resolve, A::Ignore] {
                assert!(transition(from, action).is_err());
            }
        }
        let e = transition(S::Resolved, A::Resolve).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot resolve an exception that is resolved"
        );
    }

    #[test]
    fn statuses_round_trip_their_wire_names() {
        for s in S::ALL {
            assert_eq!(S::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }
}
