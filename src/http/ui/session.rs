//! Signing in to the operations page without exposing the API token to scripts.
//!
//! The token is typed once into the login form and posted to `POST /ui/login`, which checks
//! it like the API does and answers with a random session id in a cookie that is `HttpOnly`
//! (no script can read it), `SameSite=Strict` (no other site's page can make the browser send
//! it) and without `Max-Age` (it ends with the browser session; the server also ends it after
//! [`SESSION_HOURS`]). The token itself is never stored in the browser. The server keeps the
//! SHA-256 of the session id and of the token, and re-checks the token on every request, so
//! revoking the token ends its sessions at once. Every form carries the session's CSRF token
//! and every POST is also refused when its `Origin` names another site.
use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use base64::Engine;
use chrono::{TimeDelta, Utc};
use maud::html;
use rand::RngCore;
use serde::Deserialize;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use super::error::UiError;
use super::layout;
use crate::domain::access::secret_hash;
use crate::http::api::auth::{self, Caller};
use crate::http::{ApiContext, ApiError};
use crate::store::ui_sessions;

pub const SESSION_COOKIE: &str = "b1b_session";
/// The longest a session lives, however active: one working day.
pub const SESSION_HOURS: i64 = 12;
/// Longer than any token b1bridge accepts or mints; a longer field is not a token.
pub const MAX_TOKEN_CHARS: usize = 1024;

/// The longest page address followed after signing in.
pub const MAX_NEXT_CHARS: usize = 2048;

/// A signed-in browser: the token's holder and the session's CSRF token.
#[derive(Debug, Clone)]
pub struct Session {
    pub caller: Caller,
    pub csrf: String,
    id_sha256: String,
}

/// A cookie's value from the `Cookie` header(s).
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

impl FromRequestParts<ApiContext> for Session {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &ApiContext) -> Result<Self, UiError> {
        // After signing in, come back to the page asked for (a GET); after a POST, to the
        // queue, since the form's data is gone.
        let next = if parts.method == axum::http::Method::GET {
            parts
                .uri
                .path_and_query()
                .map_or("/".to_owned(), |p| p.as_str().to_owned())
        } else {
            "/".to_owned()
        };
        let sign_in = || UiError::SignIn { next: next.clone() };
        let id = cookie(&parts.headers, SESSION_COOKIE).ok_or_else(sign_in)?;
        let id_sha256 = secret_hash(id);
        let stored = ui_sessions::find_live(&ctx.pool, &id_sha256)
            .await?
            .ok_or_else(sign_in)?;
        let caller = match auth::caller_for_hash(ctx, &stored.token_sha256).await {
            Ok(caller) => caller,
            Err(ApiError::Unauthorized(_)) => return Err(sign_in()),
            Err(e) => return Err(e.into()),
        };
        Ok(Session {
            caller,
            csrf: stored.csrf_token,
            id_sha256,
        })
    }
}

impl Session {
    /// A form of this page in this session: the CSRF token matches (in constant time) and
    /// the browser does not say it comes from elsewhere.
    pub fn check_form(&self, headers: &HeaderMap, csrf: &str) -> Result<(), UiError> {
        same_origin(headers)?;
        let equal: bool = self.csrf.as_bytes().ct_eq(csrf.as_bytes()).into();
        if equal {
            Ok(())
        } else {
            tracing::warn!(token = %self.caller.name, "operations page form with a wrong CSRF token");
            Err(UiError::Forged)
        }
    }
}

/// Browsers send `Origin` on every POST; when it is there it must name this host.
fn same_origin(headers: &HeaderMap) -> Result<(), UiError> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, rest)| rest.trim_end_matches('/'));
    match (origin_host, host) {
        (Some(o), Some(h)) if o.eq_ignore_ascii_case(h) => Ok(()),
        _ => {
            tracing::warn!(origin = ?origin, "operations page form from another origin");
            Err(UiError::Forged)
        }
    }
}

/// Only a path on this site: no scheme, no `//host`, no backslashes browsers read as `/`.
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p)
            if p.starts_with('/')
                && p.len() <= MAX_NEXT_CHARS
                && !p.starts_with("//")
                && !p.contains('\\')
                && !p.chars().any(char::is_control) =>
        {
            p.to_owned()
        }
        _ => "/".to_owned(),
    }
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `Secure` when the browser reached us over HTTPS (through a TLS-terminating proxy, which
/// says so in `X-Forwarded-Proto`); a plain-HTTP localhost page still gets its cookie.
fn secure_attr(headers: &HeaderMap) -> &'static str {
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    if https {
        "; Secure"
    } else {
        ""
    }
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    pub next: Option<String>,
}

/// The login page: an HTML form that posts the token to `POST /ui/login`.
#[utoipa::path(get, path = "/ui/login", tag = "ui", operation_id = "ui_login_page",
    params(("next" = Option<String>, Query, description = "The page to open after signing in: a path on this site (anything else opens `/`)",
        example = "/ui/orders/000000013")),
    responses(
        (status = 200, description = "The login page", body = String, content_type = "text/html"),
        (status = 400, description = "The query string is malformed (e.g. `next` given twice)", body = String, content_type = "text/plain"),
    ))]
pub async fn login_page(Query(q): Query<LoginQuery>) -> Response {
    login_form(&local_path(q.next.as_deref()), None).into_response()
}

fn login_form(next: &str, error: Option<&str>) -> layout::Page {
    let body = html! {
        div.login {
            p {
                "Paste your b1bridge API token. It is sent once and exchanged for a session \
                 that ends when you close the browser; the page never keeps the token."
            }
            @if let Some(error) = error {
                div.notice.error role="alert" id="login-error" { (error) }
            }
            form method="post" action="/ui/login" {
                input type="hidden" name="next" value=(next);
                label for="token" { "API token" }
                input #token type="password" name="token" required autocomplete="off"
                    maxlength=(MAX_TOKEN_CHARS) autofocus
                    aria-describedby=[error.map(|_| "login-error")];
                button.primary type="submit" { "Sign in" }
            }
            p.hint {
                "No token yet? An admin mints one with "
                code { "b1bridge token create --name you --role operator" }
                " (see the README)."
            }
        }
    };
    layout::bare_page("Sign in to the operations page", body)
}

/// The login form's fields.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginForm {
    /// An API token (`B1BRIDGE_API_TOKENS` or `b1bridge token create`).
    #[schema(min_length = 1, max_length = 1024, format = Password, pattern = "[^\\t\\n\\x0C\\r ]")]
    pub token: String,
    /// The page to open after signing in: a path on this site (anything else opens `/`).
    #[schema(max_length = 2048, example = "/ui/orders/000000013")]
    pub next: Option<String>,
}

/// Signs a browser in to the operations page: exchanges an API token for a session cookie
/// (`b1b_session`, HttpOnly, SameSite=Strict, ended with the browser or after 12 h) and
/// redirects to the page asked for. The token is checked like a bearer token; the session
/// ends as soon as the token is revoked.
#[utoipa::path(post, path = "/ui/login", tag = "ui", operation_id = "ui_login",
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Signed in: the session cookie is set and `Location` is the page to open",
            headers(("Set-Cookie" = String, description = "b1b_session=…; Path=/; HttpOnly; SameSite=Strict"),
                    ("Location" = String, description = "`next`, when it is a path on this site; else `/`"))),
        (status = 400, description = "The form is malformed, or the token is empty or longer than 1024 characters (the login page, with the error)", body = String, content_type = "text/html"),
        (status = 401, description = "The token is unknown or revoked (the login page, with the error)", body = String, content_type = "text/html"),
        (status = 403, description = "The form was posted from another site (`Origin` names another host)", body = String, content_type = "text/html"),
        (status = 500, description = "Internal error (an HTML page)", body = String, content_type = "text/html"),
        (status = 503, description = "The database is unavailable; retry later (an HTML page)", body = String, content_type = "text/html"),
    ))]
pub async fn login(
    State(ctx): State<ApiContext>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, UiError> {
    same_origin(&headers)?;
    let refuse = |status: StatusCode, next: &str, message: &str| {
        let mut res = login_form(next, Some(message)).into_response();
        *res.status_mut() = status;
        Ok(res)
    };
    let Form(form) = match form {
        Ok(form) => form,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, "/", &e.body_text()),
    };
    let next = local_path(form.next.as_deref());
    // Blank is ASCII whitespace only, as LoginForm's published pattern says.
    let token = form.token.trim_matches(|c: char| c.is_ascii_whitespace());
    if token.is_empty() || token.chars().count() > MAX_TOKEN_CHARS {
        return refuse(
            StatusCode::BAD_REQUEST,
            &next,
            "Enter an API token (at most 1024 characters).",
        );
    }
    let token_sha256 = secret_hash(token);
    let caller = match auth::caller_for_hash(&ctx, &token_sha256).await {
        Ok(caller) => caller,
        Err(ApiError::Unauthorized(_)) => {
            tracing::info!("operations page sign-in with an unknown or revoked token");
            return refuse(
                StatusCode::UNAUTHORIZED,
                &next,
                "This token is unknown or has been revoked.",
            );
        }
        Err(e) => return Err(e.into()),
    };
    let id = random_token();
    let expires_at = Utc::now() + TimeDelta::hours(SESSION_HOURS);
    ui_sessions::create(
        &ctx.pool,
        &secret_hash(&id),
        &token_sha256,
        &random_token(),
        expires_at,
    )
    .await?;
    tracing::info!(token = %caller.name, "signed in to the operations page");
    let mut res = Redirect::to(&next).into_response();
    let cookie = format!(
        "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict{}",
        secure_attr(&headers)
    );
    res.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    Ok(res)
}

/// The logout form's field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogoutForm {
    /// The CSRF token of the session, as the page's forms carry it. Optional because a
    /// browser that is not signed in is signed out whatever it sends; a signed-in one
    /// without the right token gets 403.
    pub csrf: Option<String>,
}

/// Signs the browser out: the session ends on the server and its cookie is removed.
#[utoipa::path(post, path = "/ui/logout", tag = "ui", operation_id = "ui_logout",
    request_body(content = LogoutForm, content_type = "application/x-www-form-urlencoded",
        description = "The form (its token is needed only when signed in)"),
    responses(
        (status = 303, description = "Signed out (or was not signed in); `Location` is the login page",
            headers(("Set-Cookie" = String, description = "b1b_session=; Max-Age=0"),
                    ("Location" = String, description = "/ui/login"))),
        (status = 400, description = "The form is missing or malformed (an HTML page)", body = String, content_type = "text/html"),
        (status = 403, description = "The CSRF token does not match the session, or the form came from another site", body = String, content_type = "text/html"),
        (status = 500, description = "Internal error (an HTML page)", body = String, content_type = "text/html"),
        (status = 503, description = "The database is unavailable; retry later (an HTML page)", body = String, content_type = "text/html"),
    ))]
pub async fn logout(
    session: Result<Session, UiError>,
    State(ctx): State<ApiContext>,
    headers: HeaderMap,
    form: Result<Form<LogoutForm>, FormRejection>,
) -> Result<Response, UiError> {
    let clear =
        HeaderValue::from_static("b1b_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    let mut res = Redirect::to("/ui/login").into_response();
    res.headers_mut().append(header::SET_COOKIE, clear);
    // A missing or malformed form is refused whoever sends it, signed in or not, as the
    // spec describes the form.
    let Form(form) = form.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let session = match session {
        Ok(session) => session,
        Err(UiError::SignIn { .. }) => return Ok(res),
        Err(e) => return Err(e),
    };
    session.check_form(&headers, form.csrf.as_deref().unwrap_or_default())?;
    ui_sessions::delete(&ctx.pool, &session.id_sha256).await?;
    tracing::info!(token = %session.caller.name, "signed out of the operations page");
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(local_path(Some("/ui/orders/1?x=2")), "/ui/orders/1?x=2");
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil",
            "evil",
            "",
        ] {
            assert_eq!(local_path(Some(bad)), "/", "{bad}");
        }
        assert_eq!(local_path(None), "/");
        assert_eq!(
            local_path(Some(&format!("/{}", "a".repeat(MAX_NEXT_CHARS)))),
            "/"
        );
    }

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("b1b_session_x=no; b1b_session=yes; other=1"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("yes"));
        assert_eq!(cookie(&h, "missing"), None);
    }

    #[test]
    fn a_form_from_another_origin_is_refused() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(
            same_origin(&h).is_ok(),
            "no Origin: a same-origin form of an older browser"
        );
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        assert!(same_origin(&h).is_ok());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(matches!(same_origin(&h), Err(UiError::Forged)));
        h.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(matches!(same_origin(&h), Err(UiError::Forged)));
    }
}
