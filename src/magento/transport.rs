//! One Magento REST exchange with its retries: the bearer token, the concurrency limit, the
//! timeout, and the classification of what comes back (`docs/magento-rest.md`, "Errors and
//! retries"). Typed endpoints live one level up, in [`super::client`].
use bytes::Bytes;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use url::Url;

use super::error::MagentoError;
use super::message::MagentoMessage;
use crate::config::MagentoSettings;

/// How long to wait for a TCP+TLS connection; short, so an unreachable store frees the
/// limiter's permit quickly.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether sending a request twice can do something twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replay {
    /// Reads, and writes that set a value (source items, stock items, prices): safe to resend.
    Safe,
    /// Writes that add something (a shipment, a comment): resent only when Magento surely
    /// did not apply them (429, 503, connection refused); any other 5xx or a timeout is
    /// [`MagentoError::Ambiguous`].
    Unsafe,
}

/// A request, kept whole so that it can be sent again.
#[derive(Debug, Clone)]
pub(crate) struct MagentoRequest {
    pub method: Method,
    /// Beneath the REST root, e.g. `V1/orders/9` (segments already escaped).
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Bytes>,
    pub replay: Replay,
    /// For errors and logs: the route with its placeholders, e.g. `POST V1/order/{id}/ship`.
    pub endpoint: &'static str,
}

/// The HTTP client, the REST root, the token and the limiter.
pub(crate) struct Transport {
    http: reqwest::Client,
    root: Url,
    token: SecretString,
    limiter: Arc<Semaphore>,
    max_attempts: u32,
    backoff_base: Duration,
    backoff_cap: Duration,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("root", &self.root.as_str())
            .field("token", &"[REDACTED]")
            .finish()
    }
}

/// What one attempt gave.
enum Attempt {
    Done(Bytes),
    Fail(MagentoError),
    /// Worth another attempt; `wait` is Magento's `Retry-After` when it gave one.
    Again {
        status: Option<u16>,
        reason: String,
        wait: Option<Duration>,
    },
}

impl Transport {
    pub fn new(settings: &MagentoSettings) -> Result<Self, MagentoError> {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(settings.request_timeout)
            .build()
            .map_err(|e| MagentoError::Config(e.to_string()))?;
        Ok(Self {
            http,
            root: settings.url.clone(),
            token: settings.token.clone(),
            limiter: Arc::new(Semaphore::new(settings.max_concurrency.max(1))),
            max_attempts: settings.max_attempts.max(1),
            backoff_base: settings.backoff_base,
            backoff_cap: settings.backoff_cap,
        })
    }

    /// Sends the request, retrying what may be retried, and returns a 2xx body.
    pub async fn send(&self, request: &MagentoRequest) -> Result<Bytes, MagentoError> {
        let mut attempt = 1;
        loop {
            match self.attempt(request).await {
                Attempt::Done(body) => return Ok(body),
                Attempt::Fail(e) => return Err(e),
                Attempt::Again {
                    status,
                    reason,
                    wait,
                } => {
                    if attempt >= self.max_attempts {
                        return Err(MagentoError::Unavailable {
                            endpoint: request.endpoint.to_owned(),
                            status,
                            reason: format!("{reason} (after {attempt} attempts)"),
                        });
                    }
                    let backoff = self
                        .backoff_base
                        .saturating_mul(1 << (attempt - 1).min(16))
                        .min(self.backoff_cap);
                    let wait = wait.map(|w| w.min(self.backoff_cap)).unwrap_or(backoff);
                    tracing::info!(
                        endpoint = request.endpoint,
                        status,
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        "Magento unavailable, retrying: {reason}"
                    );
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn attempt(&self, request: &MagentoRequest) -> Attempt {
        let url = match self.root.join(&request.path) {
            Ok(url) => url,
            Err(e) => return Attempt::Fail(MagentoError::Config(format!("{}: {e}", request.path))),
        };
        let mut builder = self
            .http
            .request(request.method.clone(), url)
            .header(ACCEPT, "application/json")
            .header(
                AUTHORIZATION,
                format!("Bearer {}", self.token.expose_secret()),
            );
        if !request.query.is_empty() {
            builder = builder.query(&request.query);
        }
        if let Some(body) = &request.body {
            builder = builder
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let _permit = match self.limiter.acquire().await {
            Ok(p) => p,
            Err(_) => return Attempt::Fail(MagentoError::Config("client closed".into())),
        };
        let started = std::time::Instant::now();
        let response = match builder.send().await {
            Ok(r) => r,
            Err(e) => return self.transport_failure(request, e),
        };
        let status = response.status();
        tracing::debug!(
            endpoint = request.endpoint,
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "Magento answered"
        );
        // Only the delay-seconds form: an HTTP-date falls back to our own backoff.
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = match response.bytes().await {
            Ok(b) => b,
            Err(e) => return self.transport_failure(request, e),
        };
        classify(request, status, retry_after, body)
    }

    fn transport_failure(&self, request: &MagentoRequest, e: reqwest::Error) -> Attempt {
        // A refused connection never reached Magento; a timeout or reset may have.
        let reached = !e.is_connect();
        let reason = if e.is_timeout() {
            "timed out".to_owned()
        } else {
            // reqwest's message carries the URL (no token: that is a header); keep the cause.
            format!("{}", e.without_url())
        };
        if reached && request.replay == Replay::Unsafe && request.method != Method::GET {
            return Attempt::Fail(MagentoError::Ambiguous {
                endpoint: request.endpoint.to_owned(),
                reason,
            });
        }
        Attempt::Again {
            status: None,
            reason,
            wait: None,
        }
    }
}

fn classify(
    request: &MagentoRequest,
    status: StatusCode,
    retry_after: Option<Duration>,
    body: Bytes,
) -> Attempt {
    if status.is_success() {
        return Attempt::Done(body);
    }
    let endpoint = request.endpoint.to_owned();
    let detail = MagentoMessage::from_body(&body);
    let message = detail.render();
    let code = status.as_u16();
    match code {
        401 | 403 => Attempt::Fail(MagentoError::Auth {
            status: code,
            message,
        }),
        404 => Attempt::Fail(MagentoError::NotFound { endpoint, message }),
        // 429 and 503 (maintenance, overload) say the request was not processed.
        429 | 503 => Attempt::Again {
            status: Some(code),
            reason: message,
            wait: retry_after,
        },
        // A write that adds something is not resent after another 5xx: a 502/504 comes from a
        // proxy that may have passed it on, and a 500 can follow the commit (a shipment's
        // notification failing after it was saved). The caller reads back instead.
        500..=599 if request.replay == Replay::Unsafe => Attempt::Fail(MagentoError::Ambiguous {
            endpoint,
            reason: format!("HTTP {code}: {message}"),
        }),
        500..=599 => Attempt::Again {
            status: Some(code),
            reason: message,
            wait: retry_after,
        },
        _ => Attempt::Fail(MagentoError::Rejected {
            endpoint,
            status: code,
            message,
            detail: Box::new(detail),
        }),
    }
}
