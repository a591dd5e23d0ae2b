//! A failed SAP call in the terms of the retry policy: the SAP client's classification mapped
//! onto the domain's failure kinds, with SAP's code and text kept for the exception.
use serde_json::json;

use super::handler::JobFailure;
use crate::domain::exception::SapErrorInfo;
use crate::domain::retry::FailureKind;
use crate::sap::SapError;

/// Maps `error` from the SAP call `call` (e.g. `"POST Orders"`) to a job failure. A refused
/// login or broken client setup is retried like an outage: it needs a person to fix the
/// configuration, not the order, and the order must post once they have.
pub fn failure(call: &str, error: &SapError) -> JobFailure {
    let kind = match error {
        SapError::Locked { .. } => FailureKind::Locked,
        SapError::SessionExpired { .. } => FailureKind::SessionExpired,
        SapError::Ambiguous { .. } => FailureKind::Ambiguous,
        SapError::Permanent { .. } => FailureKind::Permanent,
        SapError::Transient { .. } | SapError::Auth { .. } | SapError::Config(_) => {
            FailureKind::Transient
        }
    };
    let failure = JobFailure::new(
        kind,
        json!({ "call": call, "sap": error.kind(), "message": error.to_string() }),
    );
    match sap_error_info(error) {
        Some(info) => failure.with_sap_error(info),
        None => failure,
    }
}

/// SAP's own code and text, when SAP (or its balancer) answered at all.
pub fn sap_error_info(error: &SapError) -> Option<SapErrorInfo> {
    let message = error
        .sap_message()
        .map(str::to_owned)
        .or_else(|| match error {
            SapError::Transient { reason, .. } => Some(reason.clone()),
            _ => None,
        })?;
    let code = error
        .sap_code()
        .or_else(|| error.http_status().map(i64::from))
        .unwrap_or(0);
    Some(SapErrorInfo { code, message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sap_error_maps_to_the_retry_kind_that_fits_it() {
        let cases = [
            (
                SapError::Locked {
                    code: Some(-2039),
                    message: "m".into(),
                },
                FailureKind::Locked,
            ),
            (
                SapError::SessionExpired { status: 401 },
                FailureKind::SessionExpired,
            ),
            (
                SapError::Ambiguous { reason: "r".into() },
                FailureKind::Ambiguous,
            ),
            (
                SapError::Transient {
                    status: Some(503),
                    reason: "Service Unavailable".into(),
                },
                FailureKind::Transient,
            ),
            (
                SapError::Auth {
                    code: None,
                    message: "bad".into(),
                },
                FailureKind::Transient,
            ),
            (
                SapError::Permanent {
                    status: 400,
                    code: Some(-10),
                    message: "Specify valid tax code".into(),
                },
                FailureKind::Permanent,
            ),
        ];
        for (error, kind) in cases {
            assert_eq!(failure("POST Orders", &error).kind, kind, "{error:?}");
        }
    }

    #[test]
    fn sap_code_and_text_are_kept_for_the_exception() {
        let f = failure(
            "POST Orders",
            &SapError::Permanent {
                status: 400,
                code: Some(-10),
                message: "(-10) 10000180 - Specify valid tax code".into(),
            },
        );
        let info = f.sap_error.unwrap();
        assert_eq!(info.code, -10);
        assert!(info.message.contains("Specify valid tax code"));
        let outage = failure(
            "GET Orders",
            &SapError::Transient {
                status: Some(503),
                reason: "Service Unavailable".into(),
            },
        );
        assert_eq!(outage.sap_error.unwrap().code, 503);
        assert!(
            failure("POST Orders", &SapError::Ambiguous { reason: "x".into() })
                .sap_error
                .is_none()
        );
    }
}
