//! `/docs`: a browsable API page that works offline. Redoc's standalone bundle is compiled
//! into the binary (see `assets/README.md` for its version and licence); no CDN is used.
use axum::http::header;
use axum::response::{Html, IntoResponse};

const REDOC_JS: &str = include_str!("../../assets/redoc/redoc.standalone.js");

const PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>b1bridge API</title>
<style>body { margin: 0; padding: 0; }</style>
</head>
<body>
<div id="redoc"></div>
<script src="/docs/redoc.standalone.js"></script>
<script>Redoc.init("/openapi.json", { hideDownloadButton: false }, document.getElementById("redoc"));</script>
<noscript>The API description is at <a href="/openapi.json">/openapi.json</a>.</noscript>
</body>
</html>
"#;

/// The API reference page (Redoc, served from this binary).
#[utoipa::path(get, path = "/docs", tag = "docs",
    responses((status = 200, description = "An HTML page rendering /openapi.json", body = String, content_type = "text/html")))]
pub async fn docs_page() -> Html<&'static str> {
    Html(PAGE)
}

/// The Redoc bundle the page loads.
#[utoipa::path(get, path = "/docs/redoc.standalone.js", tag = "docs",
    responses((status = 200, description = "Redoc 2.5.4 standalone bundle (MIT)", body = String, content_type = "application/javascript")))]
pub async fn redoc_js() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/javascript; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        REDOC_JS,
    )
}
