//! The SAP boundary's one error type, and the pure functions that classify every failed
//! Service Layer exchange by SAP error code and text (reference §2, §8), not by HTTP status alone.
use serde_json::Value;

/// Every way a Service Layer call can fail, grouped by what the caller should do next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SapError {
    /// The session was rejected (401 / code 301, or a bare 403 from the load balancer). The
    /// client already re-logged in and retried once; seeing this means the retry failed too.
    #[error("SAP session expired or was rejected (HTTP {status})")]
    SessionExpired { status: u16 },
    /// A lock or concurrent change (-2039 and friends): the same request may succeed later.
    #[error("SAP reported a lock or concurrent change{}: {message}", code_suffix(*code))]
    Locked { code: Option<i64>, message: String },
    /// The Service Layer or its network is unavailable; nothing was applied, retry later.
    #[error("SAP Service Layer unavailable{}: {reason}", status_suffix(*status))]
    Transient { status: Option<u16>, reason: String },
    /// SAP refused the request for a reason that a retry will not change (validation, unknown
    /// item or partner, unsupported action, not found).
    #[error("SAP rejected the request (HTTP {status}{}): {message}", code_suffix(*code))]
    Permanent {
        status: u16,
        code: Option<i64>,
        message: String,
    },
    /// A create or action was sent and its answer was lost: SAP may have applied it. Look the
    /// document up (orders: by NumAtCard) before sending it again.
    #[error("SAP may have applied the request; its answer was lost: {reason}")]
    Ambiguous { reason: String },
    /// The Service Layer refused the configured login (company, user or password).
    #[error("SAP login refused{}: {message}", code_suffix(*code))]
    Auth { code: Option<i64>, message: String },
    /// The settings do not fit this Service Layer (CA file, URL, a TLS certificate they do
    /// not let the client trust): retrying will not help until a setting changes.
    #[error("SAP client configuration: {0}")]
    Config(String),
}

fn code_suffix(code: Option<i64>) -> String {
    code.map(|c| format!(", code {c}")).unwrap_or_default()
}

fn status_suffix(status: Option<u16>) -> String {
    status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
}

/// SAP's "not found" code: a missing key, or (on POST) a document diverted to a draft.
pub const CODE_NOT_FOUND: i64 = -2028;
/// SAP's "Invalid session or session already timeout".
pub const CODE_SESSION_INVALID: i64 = 301;
/// SAP's "Another user or another operation modified data".
pub const CODE_MODIFIED_BY_ANOTHER: i64 = -2039;

impl SapError {
    /// The same request may be sent again later without risk of doing anything twice.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::SessionExpired { .. } | Self::Locked { .. } | Self::Transient { .. }
        )
    }

    /// The request may have taken effect although it failed: reconcile before resending.
    pub fn may_have_been_applied(&self) -> bool {
        matches!(self, Self::Ambiguous { .. })
    }

    /// SAP said the addressed entity does not exist (404 or code -2028).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Permanent { status: 404, .. })
            || self.sap_code() == Some(CODE_NOT_FOUND)
    }

    /// The B1 error code SAP sent, if any (v1 numbers and v2 strings both end up here).
    pub fn sap_code(&self) -> Option<i64> {
        match self {
            Self::Locked { code, .. } | Self::Permanent { code, .. } | Self::Auth { code, .. } => {
                *code
            }
            Self::SessionExpired { .. } => Some(CODE_SESSION_INVALID),
            _ => None,
        }
    }

    /// SAP's own message text, if SAP sent one.
    pub fn sap_message(&self) -> Option<&str> {
        match self {
            Self::Locked { message, .. }
            | Self::Permanent { message, .. }
            | Self::Auth { message, .. } => Some(message),
            _ => None,
        }
    }

    /// The HTTP status of the failed answer, if there was one.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Self::SessionExpired { status } | Self::Permanent { status, .. } => Some(*status),
            Self::Transient { status, .. } => *status,
            _ => None,
        }
    }

    /// A stable label for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::SessionExpired { .. } => "session_expired",
            Self::Locked { .. } => "locked",
            Self::Transient { .. } => "transient",
            Self::Permanent { .. } => "permanent",
            Self::Ambiguous { .. } => "ambiguous",
            Self::Auth { .. } => "auth",
            Self::Config(_) => "config",
        }
    }
}

/// Whether a request changes SAP state; decides if a lost answer is `Ambiguous` or `Transient`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    /// GETs and the login: repeating them changes nothing.
    Read,
    /// Creates and bound actions (POST /Orders, /Cancel, /Close).
    Write,
}

/// An SAP error body, read from either the v1 or the v2 shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ErrorBody {
    pub code: Option<i64>,
    pub message: String,
}

/// Parses `{"error":{"code":-10,"message":{"lang":..,"value":..}}}` (v1) and
/// `{"error":{"code":"-2039","message":".."}}` (v2); also the bare `{"message":".."}` that the
/// load balancer's ping sends with 503. Read through `Value` because the shapes vary.
pub(crate) fn parse_error_body(body: &[u8]) -> Option<ErrorBody> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let Some(error) = value.get("error") else {
        let message = value.get("message")?.as_str()?.to_owned();
        return Some(ErrorBody {
            code: None,
            message,
        });
    };
    let code = match error.get("code") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let message = match error.get("message") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(m)) => m
            .get("value")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    };
    Some(ErrorBody { code, message })
}

/// True when SAP's code or text says "locked or changed concurrently". Only -2039 is
/// documented; the texts below (lock waits, deadlocks, "locked") are not found in SAP's
/// sources, and treating them as retryable is the safe choice: a retry applies nothing twice,
/// and a lock that never clears ends up in front of a person once retries run out.
fn is_lock(code: Option<i64>, message: &str) -> bool {
    if code == Some(CODE_MODIFIED_BY_ANOTHER) {
        return true;
    }
    let lower = message.to_lowercase();
    const PHRASES: [&str; 6] = [
        "another user or another operation modified data",
        "odbc -2039",
        "deadlock",
        "lock wait timeout",
        "lock request time out",
        "record lock",
    ];
    PHRASES.iter().any(|p| lower.contains(p))
        || lower
            .split(|c: char| !c.is_alphanumeric())
            .any(|word| word == "locked")
}

/// Classifies a non-success HTTP answer. `connection_close` is the `Connection: close` header,
/// which the Apache balancer sends with the empty 500s it produces itself.
pub(crate) fn classify_response(
    status: u16,
    connection_close: bool,
    body: &[u8],
    effect: Effect,
) -> SapError {
    let parsed = parse_error_body(body);
    let code = parsed.as_ref().and_then(|p| p.code);
    // An SAP error proper carries a code; the balancer's own bodies do not.
    let is_sap_error = code.is_some();
    if code == Some(CODE_SESSION_INVALID) || (status == 401 && code.is_none()) {
        return SapError::SessionExpired { status };
    }
    // A 403 carrying an SAP code is a real permission error (-6006); a bare 403 comes from the
    // load balancer after the session's node went away and means "log in again".
    if status == 403 && !is_sap_error {
        return SapError::SessionExpired { status };
    }
    if let Some(p) = &parsed {
        if is_lock(p.code, &p.message) {
            return SapError::Locked {
                code: p.code,
                message: p.message.clone(),
            };
        }
    }
    let message = parsed
        .map(|p| p.message)
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| reason_phrase(status));
    match status {
        // SAP answered with its own error: a business error, whatever the status.
        500..=599 if is_sap_error => SapError::Permanent {
            status,
            code,
            message,
        },
        // The balancer's 502/504 can come after the node received the request; for a create
        // or action that means it may have been applied.
        502 | 504 if effect == Effect::Write => SapError::Ambiguous {
            reason: format!("HTTP {status} from the Service Layer gateway: {message}"),
        },
        500 if body.iter().all(u8::is_ascii_whitespace) || connection_close => {
            SapError::Transient {
                status: Some(status),
                reason: "empty 500 from the Service Layer balancer".into(),
            }
        }
        408 | 429 | 500..=599 => SapError::Transient {
            status: Some(status),
            reason: message,
        },
        300..=399 => SapError::Permanent {
            status,
            code,
            message: format!("unexpected redirect (HTTP {status}); check SAP_B1_URL"),
        },
        _ => SapError::Permanent {
            status,
            code,
            message,
        },
    }
}

fn reason_phrase(status: u16) -> String {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map(|r| format!("HTTP {status} {r}"))
        .unwrap_or_else(|| format!("HTTP {status}"))
}

/// How an exchange failed when no HTTP answer arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TransportFailure {
    /// No connection was made (refused, DNS, TLS handshake, connect timeout): nothing was sent.
    Connect,
    /// The request went out and no answer came within the timeout.
    Timeout,
    /// The connection broke while sending or receiving (reset, closed, truncated body).
    Interrupted,
}

/// Classifies a failure without an HTTP answer; `detail` must not contain secrets or URLs.
pub(crate) fn classify_transport(
    failure: TransportFailure,
    effect: Effect,
    detail: &str,
) -> SapError {
    match (failure, effect) {
        (TransportFailure::Connect, _) => SapError::Transient {
            status: None,
            reason: format!("cannot connect: {detail}"),
        },
        (TransportFailure::Timeout, Effect::Write) => SapError::Ambiguous {
            reason: format!("no answer within the timeout: {detail}"),
        },
        (TransportFailure::Interrupted, Effect::Write) => SapError::Ambiguous {
            reason: format!("connection lost after sending: {detail}"),
        },
        (TransportFailure::Timeout, Effect::Read) => SapError::Transient {
            status: None,
            reason: format!("no answer within the timeout: {detail}"),
        },
        (TransportFailure::Interrupted, Effect::Read) => SapError::Transient {
            status: None,
            reason: format!("connection lost: {detail}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(status: u16, body: &str) -> SapError {
        classify_response(status, false, body.as_bytes(), Effect::Write)
    }

    // Bodies quoted from the reference (GUIDE p.15, p.23, p.26, p.176; KBA2693418).
    const SESSION_301: &str = r#"{"error":{"code":301,"message":{"lang":"en-us","value":"Invalid session or session already timeout."}}}"#;
    const BP_DUPLICATE: &str = r#"{"error": {"code": -10, "message": {"lang": "en-us",
  "value": "1320000140 - Business partner code 'c1' already assigned to a business partner; enter a unique business partner code"}}}"#;
    const MODIFIED_V2: &str = r#"{"error": {"code": "-2039", "message": "Another user or another operation modified data; to continue, open the window again (ODBC -2039)"}}"#;
    const MODIFIED_V1: &str = r#"{"error":{"code":-2039,"message":{"lang":"en-us","value":"Another user or another operation modified data; to continue, open the window again (ODBC -2039)"}}}"#;

    #[test]
    fn code_301_is_session_expired() {
        assert_eq!(
            classify(401, SESSION_301),
            SapError::SessionExpired { status: 401 }
        );
        assert_eq!(
            classify(400, SESSION_301),
            SapError::SessionExpired { status: 400 }
        );
        assert!(classify(401, SESSION_301).is_retryable());
    }

    #[test]
    fn bare_403_from_the_balancer_is_session_expired_but_sap_403_is_permanent() {
        assert_eq!(
            classify(403, "<html>Forbidden</html>"),
            SapError::SessionExpired { status: 403 }
        );
        let e = classify(
            403,
            r#"{"error":{"code":-6006,"message":{"lang":"en-us","value":"You are not permitted to perform this action"}}}"#,
        );
        assert_eq!(e.kind(), "permanent");
        assert_eq!(e.sap_code(), Some(-6006));
    }

    #[test]
    fn duplicate_business_partner_is_permanent_with_code_and_message() {
        let e = classify(400, BP_DUPLICATE);
        assert_eq!(
            e,
            SapError::Permanent {
                status: 400,
                code: Some(-10),
                message: "1320000140 - Business partner code 'c1' already assigned to a business partner; enter a unique business partner code".into()
            }
        );
        assert!(!e.is_retryable() && !e.may_have_been_applied());
    }

    #[test]
    fn modified_by_another_user_is_locked_in_both_body_shapes() {
        for (status, body) in [(412, MODIFIED_V2), (400, MODIFIED_V1), (500, MODIFIED_V1)] {
            let e = classify(status, body);
            assert!(
                matches!(&e, SapError::Locked { code: Some(-2039), message } if message.starts_with("Another user")),
                "{status}: {e:?}"
            );
            assert!(e.is_retryable());
        }
    }

    #[test]
    fn lock_texts_without_the_code_are_locked() {
        for text in [
            "Transaction (Process ID 53) was deadlocked on lock resources",
            "SQL error: lock wait timeout exceeded",
            "Lock request time out period exceeded",
            "Item A1 is locked by another user",
        ] {
            let body = format!(
                r#"{{"error":{{"code":-10,"message":{{"lang":"en-us","value":"{text}"}}}}}}"#
            );
            assert_eq!(classify(400, &body).kind(), "locked", "{text}");
        }
        // "Blocked"/"unlocked" are not the word "locked".
        let body = r#"{"error":{"code":-10,"message":"Customer is blocked"}}"#;
        assert_eq!(classify(400, body).kind(), "permanent");
    }

    #[test]
    fn documented_validation_errors_are_permanent() {
        let cases = [
            (
                400,
                r#"{"error":{"code":-5006,"message":{"lang":"en-us","value":"The requested action is not supported for this object."}}}"#,
                -5006,
            ),
            (
                404,
                r#"{"error":{"code":-2028,"message":{"lang":"en-us","value":"No matching records found (ODBC -2028)"}}}"#,
                -2028,
            ),
            (
                400,
                r#"{"error":{"code":-4014,"message":{"lang":"en-us","value":"Cannot add row without complete selection of batch/serial numbers"}}}"#,
                -4014,
            ),
            (
                400,
                r#"{"error":{"code":-10,"message":{"lang":"en-us","value":"(-10) 10001069 - Item XYZ is inactive"}}}"#,
                -10,
            ),
            (
                400,
                r#"{"error":{"code":-10,"message":{"lang":"en-us","value":"(-10) 10000180 - Specify valid tax code"}}}"#,
                -10,
            ),
            (
                400,
                r#"{"error":{"code":"-10","message":"Invalid BP code [OPDN.CardCode] , 'P20609988771'"}}"#,
                -10,
            ),
        ];
        for (status, body, code) in cases {
            let e = classify(status, body);
            assert_eq!(e.kind(), "permanent", "{body}");
            assert_eq!(e.sap_code(), Some(code));
            assert_eq!(e.http_status(), Some(status));
            assert!(!e.sap_message().unwrap().is_empty());
        }
        assert!(classify(404, cases[1].1).is_not_found());
        assert!(!classify(400, cases[0].1).is_not_found());
    }

    #[test]
    fn gateway_errors_are_transient_for_reads() {
        let lb = r#"{"message":"Service Unavailable"}"#;
        for status in [502, 503, 504] {
            let e = classify_response(status, false, lb.as_bytes(), Effect::Read);
            assert_eq!(
                e,
                SapError::Transient {
                    status: Some(status),
                    reason: "Service Unavailable".into()
                }
            );
        }
        assert_eq!(classify(503, lb).kind(), "transient");
    }

    #[test]
    fn gateway_timeout_after_a_create_is_ambiguous() {
        for status in [502, 504] {
            let e = classify_response(status, false, b"", Effect::Write);
            assert!(e.may_have_been_applied(), "{e:?}");
            assert!(!e.is_retryable());
        }
    }

    #[test]
    fn empty_or_connection_close_500_is_transient() {
        let e = classify(500, "");
        assert_eq!(e.kind(), "transient");
        assert_eq!(e.http_status(), Some(500));
        let e = classify_response(500, true, b"<html>oops</html>", Effect::Write);
        assert_eq!(e.kind(), "transient");
    }

    #[test]
    fn unknown_401_body_is_session_expired_but_401_with_other_code_is_permanent() {
        assert_eq!(classify(401, "").kind(), "session_expired");
        let view = r#"{"error":{"code":-1,"message":{"lang":"en-us","value":"No permission"}}}"#;
        assert_eq!(classify(401, view).kind(), "permanent");
    }

    #[test]
    fn lost_answers_are_ambiguous_only_for_writes_and_only_after_connecting() {
        use TransportFailure::*;
        assert_eq!(
            classify_transport(Connect, Effect::Write, "refused").kind(),
            "transient"
        );
        assert_eq!(
            classify_transport(Timeout, Effect::Write, "30s").kind(),
            "ambiguous"
        );
        assert_eq!(
            classify_transport(Interrupted, Effect::Write, "reset").kind(),
            "ambiguous"
        );
        assert_eq!(
            classify_transport(Timeout, Effect::Read, "30s").kind(),
            "transient"
        );
        assert_eq!(
            classify_transport(Interrupted, Effect::Read, "reset").kind(),
            "transient"
        );
    }

    #[test]
    fn v2_codes_are_parsed_from_strings_and_v1_innererror_is_ignored() {
        let body = br#"{"error":{"code":-10,"innererror":{"context":null,"trace":null},"message":{"lang":"en-us","value":"Item code 'i002' already exists"}}}"#;
        assert_eq!(
            parse_error_body(body),
            Some(ErrorBody {
                code: Some(-10),
                message: "Item code 'i002' already exists".into()
            })
        );
        assert_eq!(parse_error_body(b"not json"), None);
    }
}
