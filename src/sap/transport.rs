//! One HTTP exchange with the Service Layer: the concurrency limit, headers, timeouts and the
//! classification of whatever comes back. Sessions and retries live one level up, in
//! [`super::client`].
use bytes::Bytes;
use http::header::{ACCEPT, CONNECTION, CONTENT_TYPE, COOKIE};
use http::{HeaderMap, Method};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tracing::Instrument;
use url::Url;

use super::certificate::refused_certificate;
use super::error::{classify_response, classify_transport, Effect, SapError, TransportFailure};
use super::odata::ReadOptions;
use super::session::SessionCookies;
use crate::config::SapSettings;
use crate::instruments::{self, InFlight};

/// How long to wait for a TCP+TLS connection; short, because an unreachable Service Layer
/// should free the limiter's permit quickly. Not in the contract, so not configurable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A request, kept whole so that it can be sent a second time after a re-login.
#[derive(Debug, Clone)]
pub(crate) struct SapRequest {
    pub method: Method,
    pub url: Url,
    /// Serialised JSON; may contain the login password, so never logged.
    pub body: Option<Bytes>,
    pub effect: Effect,
    pub options: ReadOptions,
    /// `B1S-ReplaceCollectionsOnPatch: true`: the collections sent replace the stored ones
    /// (rows left out are removed).
    pub replace_collections: bool,
}

impl SapRequest {
    pub fn get(url: Url, options: ReadOptions) -> Self {
        Self {
            method: Method::GET,
            url,
            body: None,
            effect: Effect::Read,
            options,
            replace_collections: false,
        }
    }

    pub fn post(url: Url, body: Option<Bytes>, effect: Effect) -> Self {
        Self {
            method: Method::POST,
            url,
            body,
            effect,
            options: ReadOptions::default(),
            replace_collections: false,
        }
    }

    /// A PATCH (an update: 204 without a body).
    pub fn patch(url: Url, body: Bytes, replace_collections: bool) -> Self {
        Self {
            method: Method::PATCH,
            url,
            body: Some(body),
            effect: Effect::Write,
            options: ReadOptions::default(),
            replace_collections,
        }
    }
}

/// A successful (2xx) answer.
#[derive(Debug)]
pub(crate) struct SapResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// The HTTP client, the service root and the limiter that bounds parallel requests.
#[derive(Debug)]
pub(crate) struct Transport {
    http: reqwest::Client,
    root: Url,
    limiter: Arc<Semaphore>,
}

impl Transport {
    /// Builds the rustls client. TLS verification stays on; an extra root CA can be trusted
    /// for the private CAs Service Layer installations often use.
    pub fn new(settings: &SapSettings) -> Result<Self, SapError> {
        // reqwest never sends `Expect: 100-continue` (unlike .NET's default), which SAP's Apache
        // balancer answers with an empty 500 (reference §8); do not add it.
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(settings.request_timeout)
            // A redirected POST would turn into a GET; SAP does not redirect, so refuse.
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(settings.max_concurrency)
            .user_agent(concat!("b1bridge/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &settings.ca_cert {
            for cert in load_ca_certificates(path)? {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder.build().map_err(|e| {
            SapError::Config(format!(
                "cannot build the HTTP client (check SAP_B1_CA_CERT): {}",
                error_chain(&e)
            ))
        })?;
        Ok(Self {
            http,
            root: settings.url.clone(),
            limiter: Arc::new(Semaphore::new(settings.max_concurrency)),
        })
    }

    /// The Service Layer root, ending in `/`.
    pub fn root(&self) -> &Url {
        &self.root
    }

    /// `root` + a path relative to it (`Orders(22)/Cancel`).
    pub fn url(&self, relative: &str) -> Url {
        self.root
            .join(relative)
            .expect("relative Service Layer paths are built by this module")
    }

    /// Sends one request under a limiter permit, held until the body is read, and classifies
    /// the outcome. Only the path is logged: queries may carry e-mail addresses, and the
    /// cookie and body may carry secrets.
    pub async fn send(
        &self,
        req: &SapRequest,
        cookies: Option<&SessionCookies>,
    ) -> Result<SapResponse, SapError> {
        let span = tracing::info_span!(
            "sap_request",
            method = %req.method,
            path = %req.url.path(),
            status = tracing::field::Empty,
            sap_code = tracing::field::Empty,
        );
        async {
            let _permit = self
                .limiter
                .acquire()
                .await
                .expect("the limiter is never closed");
            let _in_flight = InFlight::enter(&instruments::SAP_REQUESTS_IN_FLIGHT);
            let sent = std::time::Instant::now();
            let outcome = self.exchange(req, cookies).await;
            instruments::SAP_REQUEST_SECONDS.observe(sent.elapsed());
            let span = tracing::Span::current();
            match &outcome {
                Ok(resp) => {
                    span.record("status", resp.status);
                    tracing::debug!("SAP answered");
                }
                Err(e) => {
                    if let Some(status) = e.http_status() {
                        span.record("status", status);
                    }
                    if let Some(code) = e.sap_code() {
                        span.record("sap_code", code);
                    }
                    // Expired sessions are renewed and look-ups that find nothing are
                    // answers, not incidents; everything else deserves attention.
                    if matches!(e, SapError::SessionExpired { .. }) || e.is_not_found() {
                        tracing::info!(kind = e.kind(), error = %e, "SAP request refused");
                    } else {
                        tracing::warn!(kind = e.kind(), error = %e, "SAP request failed");
                    }
                }
            }
            outcome
        }
        .instrument(span)
        .await
    }

    async fn exchange(
        &self,
        req: &SapRequest,
        cookies: Option<&SessionCookies>,
    ) -> Result<SapResponse, SapError> {
        let mut builder = self
            .http
            .request(req.method.clone(), req.url.clone())
            .header(ACCEPT, "application/json");
        if let Some(cookies) = cookies {
            builder = builder.header(COOKIE, cookies.header_value());
        }
        if let Some(size) = req.options.page_size {
            builder = builder.header("Prefer", format!("odata.maxpagesize={size}"));
        }
        if req.options.case_insensitive {
            builder = builder.header("B1S-CaseInsensitive", "true");
        }
        if req.replace_collections {
            builder = builder.header("B1S-ReplaceCollectionsOnPatch", "true");
        }
        if let Some(body) = &req.body {
            builder = builder
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let response = builder
            .send()
            .await
            .map_err(|e| transport_error(&e, req.effect))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| transport_error(&e, req.effect))?;
        if (200..300).contains(&status) {
            return Ok(SapResponse {
                status,
                headers,
                body,
            });
        }
        let connection_close = headers
            .get(CONNECTION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().contains("close"));
        Err(classify_response(
            status,
            connection_close,
            &body,
            req.effect,
        ))
    }
}

/// Reads the PEM file named by SAP_B1_CA_CERT; every failure names the variable and the path.
fn load_ca_certificates(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, SapError> {
    let shown = path.display();
    let pem = std::fs::read(path)
        .map_err(|e| SapError::Config(format!("SAP_B1_CA_CERT: cannot read {shown}: {e}")))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
        SapError::Config(format!(
            "SAP_B1_CA_CERT: {shown} is not a valid PEM certificate: {}",
            error_chain(&e)
        ))
    })?;
    if certs.is_empty() {
        return Err(SapError::Config(format!(
            "SAP_B1_CA_CERT: {shown} contains no PEM certificate"
        )));
    }
    Ok(certs)
}

fn transport_error(e: &reqwest::Error, effect: Effect) -> SapError {
    if let Some(refused) = refused_certificate(e) {
        return refused;
    }
    let failure = if e.is_connect() {
        TransportFailure::Connect
    } else if e.is_timeout() {
        TransportFailure::Timeout
    } else if e.is_builder() {
        return SapError::Config(format!("invalid request: {}", error_chain(e)));
    } else {
        TransportFailure::Interrupted
    };
    classify_transport(failure, effect, &error_chain(e))
}

/// The error and its causes on one line, without the URL (its query may hold e-mails).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = match e.downcast_ref::<reqwest::Error>() {
        Some(r) => strip_url(r),
        None => e.to_string(),
    };
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn strip_url(e: &reqwest::Error) -> String {
    let text = e.to_string();
    match e.url() {
        Some(url) => text.replace(&format!(" for url ({url})"), ""),
        None => text,
    }
}
