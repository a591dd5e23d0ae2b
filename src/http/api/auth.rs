//! Bearer-token authentication and role checks for `/api/v1`.
//!
//! A presented secret is hashed (SHA-256) first; configured tokens are compared by hash in
//! constant time, all of them, without an early exit; minted tokens are looked up by hash in
//! Postgres (a timing difference there reveals nothing about any secret, because the caller
//! does not control the hash).
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::marker::PhantomData;
use subtle::ConstantTimeEq;

use crate::config::BootstrapToken;
use crate::domain::access::{secret_hash, Role};
use crate::http::{ApiContext, ApiError};
use crate::store::tokens;

/// Who is calling: the token's name (the audit log's actor) and role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub name: String,
    pub role: Role,
}

/// The least role an endpoint needs; implemented by the markers below.
pub trait MinRole {
    const ROLE: Role;
}

/// Read access.
pub struct Viewer;
/// Exception and order actions.
pub struct Operator;
/// Mappings and settings.
pub struct Admin;

impl MinRole for Viewer {
    const ROLE: Role = Role::Viewer;
}
impl MinRole for Operator {
    const ROLE: Role = Role::Operator;
}
impl MinRole for Admin {
    const ROLE: Role = Role::Admin;
}

/// An authenticated caller with at least role `R`. As the first extractor of a handler, it
/// answers 401/403 before the body is even read.
pub struct Authorized<R>(pub Caller, PhantomData<R>);

impl<R> Authorized<R> {
    pub fn caller(&self) -> &Caller {
        &self.0
    }
}

impl<R: MinRole + Send + Sync> FromRequestParts<ApiContext> for Authorized<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &ApiContext) -> Result<Self, ApiError> {
        let caller = authenticate(parts, ctx).await?;
        Self::check(caller)
    }
}

impl<R: MinRole> Authorized<R> {
    /// The role check alone, for a caller authenticated another way (the operations page's
    /// session cookie stands for a token, see `http::ui::session`).
    pub fn check(caller: Caller) -> Result<Self, ApiError> {
        if !caller.role.allows(R::ROLE) {
            tracing::info!(token = %caller.name, required = R::ROLE.as_str(), "role too low");
            return Err(ApiError::Forbidden {
                required: R::ROLE,
                actual: caller.role,
            });
        }
        Ok(Authorized(caller, PhantomData))
    }
}

async fn authenticate(parts: &Parts, ctx: &ApiContext) -> Result<Caller, ApiError> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthorized("send Authorization: Bearer <token>".into()))?;
    let secret = header
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, secret)| secret.trim())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ApiError::Unauthorized("the Authorization header is not `Bearer <token>`".into())
        })?;
    caller_for_hash(ctx, &secret_hash(secret)).await
}

/// Who holds the token whose secret hashes to `hash`: a configured token, else an active
/// minted one; 401 otherwise (also for a token revoked since).
pub async fn caller_for_hash(ctx: &ApiContext, hash: &str) -> Result<Caller, ApiError> {
    if let Some(caller) = bootstrap_match(&ctx.api_tokens, hash) {
        return Ok(caller);
    }
    match tokens::find_active(&ctx.pool, hash).await? {
        Some(owner) => Ok(Caller {
            name: owner.name,
            role: owner.role,
        }),
        None => Err(ApiError::Unauthorized(
            "the token is unknown or revoked".into(),
        )),
    }
}

/// Compares against every configured token, so the time taken does not depend on which (or
/// whether one) matched.
fn bootstrap_match(configured: &[BootstrapToken], hash: &str) -> Option<Caller> {
    let mut found = None;
    for token in configured {
        let equal: bool = token.secret_sha256.as_bytes().ct_eq(hash.as_bytes()).into();
        if equal && found.is_none() {
            found = Some(Caller {
                name: token.name.clone(),
                role: token.role,
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_tokens_match_by_hash_only() {
        let configured = vec![
            BootstrapToken {
                name: "anna".into(),
                role: Role::Viewer,
                secret_sha256: secret_hash("anna-secret-0123456789"),
            },
            BootstrapToken {
                name: "ci".into(),
                role: Role::Admin,
                secret_sha256: secret_hash("ci-secret-0123456789"),
            },
        ];
        assert_eq!(
            bootstrap_match(&configured, &secret_hash("ci-secret-0123456789")),
            Some(Caller {
                name: "ci".into(),
                role: Role::Admin
            })
        );
        assert_eq!(bootstrap_match(&configured, &secret_hash("nope")), None);
        assert_eq!(
            bootstrap_match(&configured, "anna-secret-0123456789"),
            None,
            "the secret itself is not a hash"
        );
    }
}
