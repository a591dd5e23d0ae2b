//! Reusable error responses for the OpenAPI document: every `/api/v1` operation lists the
//! problem+json answers it can give by referring to these.
#![allow(dead_code)] // The newtypes exist for their OpenAPI derive only; nothing builds them.
use utoipa::ToResponse;

use crate::http::error::Problem;

/// 400.
#[derive(ToResponse)]
#[response(
    description = "Malformed request or invalid query parameter; `errors` names the parameter",
    content_type = "application/problem+json",
    example = json!({"type": "urn:b1bridge:problem:invalid_parameter", "title": "Invalid query parameter",
        "status": 400, "detail": "invalid query parameters: category: unknown variant `unknown`",
        "code": "invalid_parameter", "errors": [{"field": "category", "message": "unknown variant `unknown`"}]})
)]
pub struct BadRequest(Problem);

/// 401.
#[derive(ToResponse)]
#[response(
    description = "Missing, unknown or revoked bearer token",
    content_type = "application/problem+json",
    headers(("WWW-Authenticate" = String, description = "`Bearer`")),
    example = json!({"type": "urn:b1bridge:problem:unauthorized", "title": "Authentication required",
        "status": 401, "detail": "send Authorization: Bearer <token>", "code": "unauthorized"})
)]
pub struct Unauthorized(Problem);

/// 403.
#[derive(ToResponse)]
#[response(
    description = "The token's role is too low for this operation",
    content_type = "application/problem+json",
    example = json!({"type": "urn:b1bridge:problem:forbidden", "title": "Role too low", "status": 403,
        "detail": "this needs the operator role; the token has viewer", "code": "forbidden"})
)]
pub struct Forbidden(Problem);

/// 404.
#[derive(ToResponse)]
#[response(
    description = "No such resource",
    content_type = "application/problem+json",
    example = json!({"type": "urn:b1bridge:problem:not_found", "title": "Not found", "status": 404,
        "detail": "no exception 0193…", "code": "not_found"})
)]
pub struct NotFound(Problem);

/// 409.
#[derive(ToResponse)]
#[response(
    description = "The current state does not allow the action (`illegal_transition`), or there \
                   is nothing to retry because no job of the order is parked (`nothing_to_retry`)",
    content_type = "application/problem+json",
    example = json!({"type": "urn:b1bridge:problem:illegal_transition",
        "title": "Not allowed in the current state", "status": 409,
        "detail": "cannot resolve an exception that is resolved", "code": "illegal_transition"})
)]
pub struct Conflict(Problem);

/// 409 from the run triggers.
#[derive(ToResponse)]
#[response(
    description = "A run of this kind is already queued or running (`run_active`); the detail \
                   names it",
    content_type = "application/problem+json",
    example = json!({"type": "urn:b1bridge:problem:run_active",
        "title": "Not allowed in the current state", "status": 409,
        "detail": "a stock sync run is already queued or running: 0193a1b2-0000-7000-8000-000000000001",
        "code": "run_active"})
)]
pub struct RunActive(Problem);

/// 422.
#[derive(ToResponse)]
#[response(
    description = "The body has invalid fields; `errors` lists each one",
    content_type = "application/problem+json",
    example = json!({"type": "urn:b1bridge:problem:validation_failed", "title": "Invalid fields",
        "status": 422, "detail": "the request body has invalid fields", "code": "validation_failed",
        "errors": [{"field": "key", "message": "SAP B1 has no warehouse 'ZZ'"}]})
)]
pub struct ValidationFailed(Problem);

/// 500.
#[derive(ToResponse)]
#[response(
    description = "Unexpected error (details are in the server log)",
    content_type = "application/problem+json",
    example = json!({"type": "urn:b1bridge:problem:internal", "title": "Internal error", "status": 500,
        "detail": "internal error", "code": "internal"})
)]
pub struct Internal(Problem);

/// 503.
#[derive(ToResponse)]
#[response(
    description = "The database is unavailable; retry later",
    content_type = "application/problem+json",
    headers(("Retry-After" = u32, description = "Seconds to wait")),
    example = json!({"type": "urn:b1bridge:problem:database_unavailable", "title": "Service unavailable",
        "status": 503, "detail": "the database is unavailable; retry later", "code": "database_unavailable"})
)]
pub struct Unavailable(Problem);
