//! The page's frame: head, skip link, navigation, the signed-in user, the flash message, and
//! the headers every page gets (a strict Content-Security-Policy: the page runs no script and
//! loads nothing from elsewhere).
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

use super::flash::{self, Flash, Tone};
use super::session::Session;

const STYLESHEET: &str = include_str!("../../../assets/ui/style.css");

/// The views, in the navigation's order: (id, path, label). A new view adds one line.
pub const NAV: &[(&str, &str, &str)] = &[
    ("queue", "/", "Exception queue"),
    ("orders", "/ui/orders", "Orders"),
    ("report", "/ui/report", "Daily report"),
    ("mappings", "/ui/mappings", "Mappings"),
    ("settings", "/ui/settings", "Settings"),
    ("audit", "/ui/audit", "Go-live audit"),
];

/// A rendered page of a signed-in user.
pub struct Page {
    title: String,
    nav: &'static str,
    user: Option<(String, &'static str, String)>,
    flash: Flash,
    body: Markup,
}

impl Page {
    /// `nav`: the [`NAV`] id of the view (shown as current).
    pub fn new(
        session: &Session,
        flash: Flash,
        nav: &'static str,
        title: impl Into<String>,
        body: Markup,
    ) -> Self {
        Page {
            title: title.into(),
            nav,
            user: Some((
                session.caller.name.clone(),
                session.caller.role.as_str(),
                session.csrf.clone(),
            )),
            flash,
            body,
        }
    }
}

/// A page without navigation (sign-in, errors).
pub fn bare_page(title: &str, body: Markup) -> Page {
    Page {
        title: title.to_owned(),
        nav: "",
        user: None,
        flash: Flash(None),
        body,
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let had_flash = self.flash.0.is_some();
        let markup = html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (self.title) " · b1bridge" }
                    link rel="stylesheet" href="/ui/style.css";
                    link rel="icon" href="/ui/icon.svg" type="image/svg+xml";
                }
                body {
                    a.skip href="#main" { "Skip to content" }
                    header.top {
                        span.brand { "b1bridge" }
                        @if let Some((name, role, csrf)) = &self.user {
                            nav aria-label="Views" {
                                ul {
                                    @for (id, path, label) in NAV {
                                        li {
                                            a href=(path) aria-current=[(*id == self.nav).then_some("page")] { (label) }
                                        }
                                    }
                                }
                            }
                            div.user {
                                span { "Signed in as " strong { (name) } " (" (role) ")" }
                                form method="post" action="/ui/logout" {
                                    input type="hidden" name="csrf" value=(csrf);
                                    button.link type="submit" { "Sign out" }
                                }
                            }
                        }
                    }
                    main #main tabindex="-1" {
                        h1 { (self.title) }
                        @if let Some((tone, text)) = &self.flash.0 {
                            @match tone {
                                Tone::Success => div.notice.success role="status" { (text) },
                                Tone::Error => div.notice.error role="alert" { (text) },
                            }
                        }
                        (self.body)
                    }
                }
            }
        };
        let mut res = axum::response::Html(markup.into_string()).into_response();
        let h = res.headers_mut();
        for (name, value) in security_headers() {
            h.insert(name, value);
        }
        if had_flash {
            h.append(header::SET_COOKIE, flash::clear());
        }
        res
    }
}

fn security_headers() -> [(HeaderName, HeaderValue); 5] {
    [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                 frame-ancestors 'none'; base-uri 'none'",
            ),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ),
        // Pages show live state and personal actions: never from a cache.
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    ]
}

/// `GET /ui/style.css`, compiled into the binary.
pub async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
}

/// `GET /ui/icon.svg`: the tab's icon (two linked boxes: Magento and SAP).
pub async fn icon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect x="2" y="8" width="12" height="16" rx="3" fill="#0b5cad"/><rect x="18" y="8" width="12" height="16" rx="3" fill="#1a7f37"/><path d="M14 16h4" stroke="#10243e" stroke-width="3"/></svg>"##,
    )
}

/// A value for a query string or a form-encoded redirect target.
pub fn query_escape(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

/// A path segment (an increment id or SKU in a link).
pub fn path_escape(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

/// A CSRF hidden field for forms of this session.
pub fn csrf_field(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf); }
}

/// Makes a status/category identifier readable: `blocks_fulfilment` → "blocks fulfilment".
pub fn words(id: &str) -> String {
    id.replace(['_', '-'], " ")
}

/// The tone a flash takes for an API refusal.
pub fn refusal(e: &crate::http::ApiError) -> (Tone, String) {
    let p = e.problem();
    let mut text = p.detail;
    for f in p.errors {
        text.push_str(&format!(" — {}: {}", f.field, f.message));
    }
    (Tone::Error, text)
}
