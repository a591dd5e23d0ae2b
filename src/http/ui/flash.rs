//! One-shot messages across a redirect ("Exception retried", or why an action was refused):
//! an action answers 303 with a short-lived `b1b_flash` cookie, and the next page shows and
//! clears it. HttpOnly and SameSite=Strict like the session; it holds no secret.
use axum::extract::FromRequestParts;
use axum::http::header::{HeaderValue, SET_COOKIE};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use percent_encoding::{percent_decode_str, utf8_percent_encode, NON_ALPHANUMERIC};
use std::convert::Infallible;

use super::session::cookie;

const COOKIE: &str = "b1b_flash";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Success,
    Error,
}

/// The message the previous action left, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash(pub Option<(Tone, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Flash {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        let Some(raw) = cookie(&parts.headers, COOKIE) else {
            return Ok(Flash(None));
        };
        let text = percent_decode_str(raw).decode_utf8_lossy().into_owned();
        Ok(Flash(match text.split_once(':') {
            Some(("ok", m)) => Some((Tone::Success, m.to_owned())),
            Some(("error", m)) => Some((Tone::Error, m.to_owned())),
            _ => None,
        }))
    }
}

/// The `Set-Cookie` that removes the flash once shown.
pub fn clear() -> HeaderValue {
    HeaderValue::from_static("b1b_flash=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// 303 to `to`, carrying a message for the page there.
pub fn redirect_with(to: &str, tone: Tone, message: &str) -> Response {
    // Cookies hold at most about 4 KB; a message is a sentence, so cut long ones.
    let message: String = message.chars().take(600).collect();
    let prefix = match tone {
        Tone::Success => "ok",
        Tone::Error => "error",
    };
    let value = utf8_percent_encode(&format!("{prefix}:{message}"), NON_ALPHANUMERIC).to_string();
    let mut res = Redirect::to(to).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=60"
    )) {
        res.headers_mut().append(SET_COOKIE, v);
    }
    res
}
