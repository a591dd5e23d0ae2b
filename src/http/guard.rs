//! Refusals that apply to every request before a handler sees it: characters that Postgres
//! cannot store. Postgres `text` and `jsonb` reject NUL, so a NUL that reached a query would
//! fail there as a 500; it is refused here instead, as the client's mistake it is.
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;
use crate::domain::validation::FieldError;

/// A NUL in the path or query (`%00`) is a 400 naming where it was.
pub async fn refuse_nul(req: Request, next: Next) -> Response {
    let uri = req.uri();
    let has = |s: &str| {
        s.as_bytes()
            .windows(3)
            .any(|w| w.eq_ignore_ascii_case(b"%00"))
    };
    if has(uri.path()) || uri.query().is_some_and(has) {
        let field = if has(uri.path()) { "path" } else { "query" };
        return ApiError::InvalidParams(vec![FieldError::new(
            field,
            "may not contain NUL (%00): it cannot be stored",
        )])
        .into_response();
    }
    next.run(req).await
}

/// Whether a JSON text holds the escape `\u0000` in a string (an escaped backslash followed by
/// `u0000` is not one).
pub fn has_nul_escape(json: &[u8]) -> bool {
    let mut i = 0;
    while i < json.len() {
        if json[i] == b'\\' {
            if json.get(i + 1..i + 6) == Some(b"u0000") {
                return true;
            }
            i += 2; // skip the escaped character, whatever it is
        } else {
            i += 1;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::has_nul_escape;

    #[test]
    fn finds_nul_escapes_but_not_escaped_backslashes() {
        assert!(has_nul_escape(br#"{"note":"a\u0000b"}"#));
        assert!(has_nul_escape(br#"{"note":"\\\u0000"}"#));
        assert!(!has_nul_escape(br#"{"note":"\\u0000"}"#));
        assert!(!has_nul_escape(br#"{"note":"\u0001 ok"}"#));
        assert!(!has_nul_escape(b"\\"));
    }
}
