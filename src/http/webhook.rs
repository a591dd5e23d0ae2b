//! `POST /webhooks/magento` (contract §2): verify, parse, commit, then answer.
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{TimeZone, Utc};
use serde::Serialize;
use tracing::Instrument;
use utoipa::ToSchema;
use uuid::Uuid;

use super::webhook_rejections::{self as rejections, Reason};
use super::{ApiContext, ApiError};
use crate::domain::event::EventKind;
use crate::instruments;
use crate::magento::envelope::{parse_event, parse_refund_event, EventError};
use crate::magento::signature::{self, SignedHeaders};
use crate::store::intake::{self, Delivery, IntakeOutcome};
use crate::store::intake_batch::QueuedEvent;
use std::sync::Arc;

/// The answer to a stored delivery.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"event_id": "01936f6e-5f1e-7c4a-9d7e-3b1f2a4c5d6e", "status": "accepted"}))]
pub struct WebhookAck {
    pub event_id: Uuid,
    pub status: AckStatus,
}

#[derive(Debug, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AckStatus {
    /// Verified and committed.
    Accepted,
    /// This `webhook-id` was stored before; nothing is processed twice.
    Duplicate,
}

/// Receives a signed Magento order or credit-memo event.
///
/// Verification follows Standard Webhooks v1 on the raw body. Bodies use the envelope
/// `{"type": "order.placed" | "order.updated" | "order.cancelled" | "creditmemo.created", "timestamp", "data": {"order": {…}}}`
/// or the Adobe Commerce observer envelope `{"eventName", "data": {"order": {…}}}`. A
/// credit-memo event carries `data.creditmemo` (as `GET /V1/creditmemo/{id}` returns it) and
/// may carry its `data.order`.
#[utoipa::path(post, path = "/webhooks/magento", tag = "webhooks",
    request_body(content = serde_json::Value, content_type = "application/json",
        description = "An order event; `data.order` is the order as Magento's `GET /V1/orders/{id}` returns it",
        example = json!({"type": "order.cancelled", "timestamp": "2026-11-26T10:00:00Z",
                         "data": {"order": {"entity_id": 9, "increment_id": "000000013"}}})),
    params(
        ("webhook-id" = String, Header, description = "Unique delivery id; retries reuse it"),
        ("webhook-timestamp" = i64, Header, description = "Unix seconds when signed"),
        ("webhook-signature" = String, Header, description = "Space-separated `v1,<base64>` signatures"),
    ),
    responses(
        (status = 202, description = "Verified and durably stored", body = WebhookAck),
        (status = 200, description = "A retry of a stored delivery; not processed again", body = WebhookAck),
        (status = 400, description = "The body is not JSON (kept, filed as `payload_invalid`)", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid signature, or timestamp outside the tolerance; nothing stored", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the limit (1 MiB); nothing stored", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Signed, but `Content-Type` is not `application/json`; nothing stored", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Signed JSON that is not a usable order event; kept and filed as `payload_invalid`", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable; nothing acknowledged, retry", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn receive(
    State(ctx): State<ApiContext>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<WebhookAck>), ApiError> {
    let started = std::time::Instant::now();
    let answer = verify_and_store(&ctx, &headers, body).await;
    instruments::INGEST_SECONDS.observe(started.elapsed());
    if let Err(e) = &answer {
        if let Some(reason) = rejection_reason(e) {
            rejections::count(reason);
        }
    }
    answer
}

/// The `reason` of a refusal that is not the signature's (those are counted where they are
/// told apart).
fn rejection_reason(e: &ApiError) -> Option<Reason> {
    match e {
        ApiError::SignatureInvalid(_) => None,
        ApiError::PayloadTooLarge { .. } => Some(Reason::TooLarge),
        ApiError::UnsupportedMediaType(_) => Some(Reason::WrongContentType),
        ApiError::BadRequest(_) => Some(Reason::NotJson),
        ApiError::Unprocessable { .. } => Some(Reason::Unusable),
        ApiError::Unavailable => Some(Reason::DatabaseUnavailable),
        _ => None,
    }
}

/// Cheapest refusals first: the body limit while reading, then the HMAC (no parsing before
/// it, so a forged body of any shape — deeply nested, huge, not JSON — costs one hash), then
/// the media type, so an unsigned caller learns nothing but "unsigned".
async fn verify_and_store(
    ctx: &ApiContext,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<WebhookAck>), ApiError> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge {
                limit: ctx.webhook.max_body_bytes,
            }
        } else {
            ApiError::BadRequest(rejection.body_text())
        }
    })?;
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let signed = SignedHeaders {
        id: h("webhook-id"),
        timestamp: h("webhook-timestamp"),
        signature: h("webhook-signature"),
    };
    let ts = signature::verify(
        &ctx.webhook.keys,
        &signed,
        &body,
        Utc::now().timestamp(),
        ctx.webhook.tolerance,
    )
    .map_err(|e| {
        tracing::warn!(event = signed.id.unwrap_or("-"), reason = %e, "webhook rejected");
        rejections::count(Reason::of_signature(&e));
        ApiError::SignatureInvalid(e.to_string())
    })?;
    let content_type = h("content-type").unwrap_or("");
    if !is_json_media_type(content_type) {
        return Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type must be application/json, not '{content_type}'"
        )));
    }
    let webhook_id = signed.id.expect("verified deliveries have an id");
    let span = tracing::info_span!("webhook", event = %webhook_id, order = tracing::field::Empty);
    let body = &body;
    let delivery = Delivery {
        webhook_id,
        webhook_timestamp: Utc.timestamp_opt(ts, 0).single().unwrap_or_else(Utc::now),
        headers: kept_headers(headers),
        body,
    };
    store(ctx, delivery, body, &span)
        .instrument(span.clone())
        .await
}

/// Parses and commits a verified delivery. Runs inside the `webhook` span, so every log line
/// carries the delivery's id and, once known, the order's increment id.
async fn store(
    ctx: &ApiContext,
    delivery: Delivery<'_>,
    body: &Bytes,
    span: &tracing::Span,
) -> Result<(StatusCode, Json<WebhookAck>), ApiError> {
    let parsed = match parse_refund_event(delivery.body) {
        Some(Ok(event)) => {
            span.record("order", event.refund.credit_memo_id.as_str());
            let outcome = crate::store::refunds::record_refund_event(
                &ctx.pool,
                &delivery,
                event.envelope.as_str(),
                &event.refund,
            )
            .await?;
            return Ok(answer(outcome));
        }
        Some(Err(e)) => Err(e),
        None => parse_event(delivery.body),
    };
    let outcome = match parsed {
        // A placement is nearly always its order's first news: the batch path for new orders.
        Ok(event) if event.kind == EventKind::Placed => {
            span.record("order", event.increment_id.as_str());
            let queued = QueuedEvent {
                webhook_id: delivery.webhook_id.to_owned(),
                webhook_timestamp: delivery.webhook_timestamp,
                headers: delivery.headers,
                body: body.clone(),
                event,
            };
            ctx.intake.record(Arc::new(queued)).await?
        }
        Ok(event) => {
            span.record("order", event.increment_id.as_str());
            intake::record_order_event(&ctx.pool, &delivery, &event).await?
        }
        Err((error, hint)) => {
            if let Some(order) = &hint {
                span.record("order", order.as_str());
            }
            let outcome = intake::record_invalid_event(
                &ctx.pool,
                &delivery,
                &error.to_string(),
                hint.as_deref(),
            )
            .await?;
            if let IntakeOutcome::Invalid { event_id, .. } = outcome {
                tracing::warn!(%event_id, problem = %error, "unusable event kept as payload_invalid");
                return Err(match error {
                    EventError::NotJson(d) => {
                        ApiError::BadRequest(format!("body is not JSON: {d}"))
                    }
                    EventError::Unusable(detail) => ApiError::Unprocessable {
                        detail,
                        event_id: Some(event_id),
                    },
                });
            }
            outcome
        }
    };
    Ok(answer(outcome))
}

/// 202 for a stored event, 200 for a retry of one.
fn answer(outcome: IntakeOutcome) -> (StatusCode, Json<WebhookAck>) {
    match outcome {
        IntakeOutcome::Accepted { event_id } => {
            tracing::info!(%event_id, "event accepted");
            (
                StatusCode::ACCEPTED,
                Json(WebhookAck {
                    event_id,
                    status: AckStatus::Accepted,
                }),
            )
        }
        IntakeOutcome::Duplicate { event_id } | IntakeOutcome::Invalid { event_id, .. } => {
            tracing::info!(%event_id, "duplicate delivery");
            (
                StatusCode::OK,
                Json(WebhookAck {
                    event_id,
                    status: AckStatus::Duplicate,
                }),
            )
        }
    }
}

/// Headers worth keeping with the event, minus anything that could be a credential.
fn kept_headers(headers: &HeaderMap) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (name, value) in headers {
        let name = name.as_str();
        if matches!(name, "authorization" | "cookie" | "proxy-authorization") {
            continue;
        }
        if let Ok(v) = value.to_str() {
            map.insert(name.to_owned(), serde_json::Value::String(v.to_owned()));
        }
    }
    serde_json::Value::Object(map)
}

/// `application/json`, with or without parameters (`; charset=utf-8`), any letter case.
fn is_json_media_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
}

#[cfg(test)]
mod tests {
    use super::is_json_media_type;

    #[test]
    fn only_json_is_a_webhook_media_type() {
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
        ] {
            assert!(is_json_media_type(ok), "{ok}");
        }
        for bad in [
            "",
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/jsonp",
            "multipart/form-data",
        ] {
            assert!(!is_json_media_type(bad), "{bad}");
        }
    }
}
