//! The exception filed when an order job stops retrying: it tells the person on duty what
//! happened to which order and what to do, in the categories of contract §3.
use std::time::Duration;

use super::handler::JobFailure;
use crate::domain::exception::{Category, NewException};
use crate::domain::order_flow::JobKind;
use crate::domain::retry::{FailureKind, ParkReason};
use crate::store::outbox::ClaimedJob;

/// The handler's own exceptions for a rejection (it knows the business cause), else
/// `sap_rejected`; `sap_unavailable` when the retry budget ran out.
pub fn exceptions_for(
    job: &ClaimedJob,
    reason: ParkReason,
    failure: &JobFailure,
) -> Vec<NewException> {
    if reason == ParkReason::Rejected && !failure.exceptions.is_empty() {
        return failure.exceptions.clone();
    }
    vec![exception_for(job, reason, failure)]
}

fn exception_for(job: &ClaimedJob, reason: ParkReason, failure: &JobFailure) -> NewException {
    let order = job.subject.as_str();
    let what = match job.kind {
        JobKind::PostOrder => "posted to",
        JobKind::CancelOrder => "cancelled in",
        JobKind::StockSync | JobKind::StatusSync | JobKind::Backfill | JobKind::Reconcile => {
            "handled by"
        }
    };
    let context = serde_json::json!({
        "job": job.id,
        "job_kind": job.kind.as_str(),
        "attempt": job.attempt,
        "retry_attempt": job.retry_attempt,
        "failure": failure.kind.as_str(),
        "error": failure.error,
    });
    let said = failure
        .sap_error
        .as_ref()
        .map(|e| format!("SAP B1 answered {}: {}", e.code, e.message))
        .unwrap_or_else(|| format!("the last error was {}", failure.error));
    match reason {
        ParkReason::Rejected => NewException {
            category: Category::SapRejected,
            title: format!("SAP B1 refused order {order}: it could not be {what} SAP B1"),
            detail: format!(
                "Order {order} could not be {what} SAP B1 because SAP refused it; {said}. \
                     Retrying cannot help until the cause is fixed in SAP B1 or in the \
                     mappings. Fix it, then retry the order."
            ),
            order_increment_id: Some(order.to_owned()),
            skus: vec![],
            sap_error: failure.sap_error.clone(),
            dedup_key: NewException::dedup_key_for(Category::SapRejected, Some(order), &[]),
            context,
        },
        ParkReason::AttemptsExhausted { .. } | ParkReason::TooOld { .. } => {
            let spent = match reason {
                ParkReason::TooOld { age } => format!("for {}", human(age)),
                _ => format!("{} times", job.retry_attempt),
            };
            let ambiguous = if failure.kind == FailureKind::Ambiguous {
                " The outcome of the last attempt is unknown: SAP may have acted on it. The \
                 retry looks the order up in SAP B1 (NumAtCard) before doing anything again."
            } else {
                ""
            };
            NewException {
                category: Category::SapUnavailable,
                title: format!(
                    "Order {order} could not be {what} SAP B1: SAP unavailable after trying {spent}"
                ),
                detail: format!(
                    "b1bridge tried {spent} and gave up; {said}. Check that the SAP B1 Service \
                     Layer is up and reachable, then retry the order.{ambiguous}"
                ),
                order_increment_id: Some(order.to_owned()),
                skus: vec![],
                sap_error: failure.sap_error.clone(),
                dedup_key: NewException::dedup_key_for(Category::SapUnavailable, Some(order), &[]),
                context,
            }
        }
    }
}

/// "3 h 20 min", "45 s": for people, not for parsing.
fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::exception::SapErrorInfo;

    fn job() -> ClaimedJob {
        ClaimedJob {
            id: 7,
            subject: "000000042".into(),
            kind: JobKind::PostOrder,
            attempt: 12,
            event_id: None,
            created_at: chrono::Utc::now(),
            retry_attempt: 10,
            retry_age: Duration::from_secs(60),
        }
    }

    #[test]
    fn exhaustion_files_sap_unavailable_with_the_sap_error() {
        let f = JobFailure::new(FailureKind::Transient, serde_json::json!("timeout"))
            .with_sap_error(SapErrorInfo {
                code: 503,
                message: "Service Unavailable".into(),
            });
        let e = exception_for(&job(), ParkReason::AttemptsExhausted { attempts: 10 }, &f);
        assert_eq!(e.category, Category::SapUnavailable);
        assert_eq!(e.order_increment_id.as_deref(), Some("000000042"));
        assert_eq!(e.sap_error.as_ref().unwrap().code, 503);
        assert!(e.title.contains("10 times"), "{}", e.title);
        assert_eq!(e.dedup_key, "sap_unavailable|000000042|");
        let e = exception_for(
            &job(),
            ParkReason::TooOld {
                age: Duration::from_secs(90_000),
            },
            &f,
        );
        assert!(e.title.contains("25 h 0 min"), "{}", e.title);
    }

    #[test]
    fn a_rejection_files_the_handlers_exception_or_sap_rejected() {
        let f = JobFailure::new(FailureKind::Permanent, serde_json::json!({"code": -10}));
        let e = exceptions_for(&job(), ParkReason::Rejected, &f);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].category, Category::SapRejected);
        let own = NewException {
            category: Category::UnknownSku,
            title: "t".into(),
            detail: "d".into(),
            order_increment_id: Some("000000042".into()),
            skus: vec!["X".into()],
            sap_error: None,
            dedup_key: "k".into(),
            context: serde_json::json!({}),
        };
        let second = NewException {
            category: Category::ItemNotSellable,
            ..own.clone()
        };
        let e = exceptions_for(
            &job(),
            ParkReason::Rejected,
            &f.with_exception(own.clone()).with_exception(second.clone()),
        );
        assert_eq!(e, [own, second]);
    }
}
