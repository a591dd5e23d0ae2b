//! Mapping tables: `GET /api/v1/mappings/{kind}`, `PUT` and `DELETE …/{kind}/{key}`. Values
//! are typed per kind and checked by the domain, then against SAP B1 when SAP is configured.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use utoipa::openapi::schema::{OneOfBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use super::auth::{Admin, Authorized, Viewer};
use super::master_data::unknown_codes;
use super::responses as r;
use super::{cursor, page_size, split_page, ApiJson, ApiQuery};
use crate::domain::mappings::{
    CustomerMapping, MappingKind, MappingValue, PaymentMethodMapping, ShippingMethodMapping,
    SkuMapping, TaxCodeMapping, WarehouseMapping,
};
use crate::domain::master_data::refs_of_mapping;
use crate::domain::validation::FieldError;
use crate::http::{ApiContext, ApiError};
use crate::store::mappings::{self, StoredMapping};

/// A mapping value: the object for the path's kind (`skus` → `SkuMapping`, `customers` →
/// `CustomerMapping`, `warehouses` → `WarehouseMapping`, `tax-codes` → `TaxCodeMapping`,
/// `shipping-methods` → `ShippingMethodMapping`, `payment-methods` → `PaymentMethodMapping`).
/// Carried as JSON because its type depends on the path; the domain parses it per kind.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MappingValueJson(pub serde_json::Value);

impl PartialSchema for MappingValueJson {
    fn schema() -> RefOr<Schema> {
        let mut one_of = OneOfBuilder::new().description(Some(
            "The value object for the path's kind: skus → SkuMapping, customers → CustomerMapping, \
             warehouses → WarehouseMapping, tax-codes → TaxCodeMapping, shipping-methods → \
             ShippingMethodMapping, payment-methods → PaymentMethodMapping",
        ));
        for name in value_schema_names() {
            one_of = one_of.item(Ref::from_schema_name(name));
        }
        RefOr::T(Schema::OneOf(one_of.build()))
    }
}

impl ToSchema for MappingValueJson {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("MappingValue")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.extend([
            (SkuMapping::name().into_owned(), SkuMapping::schema()),
            (
                CustomerMapping::name().into_owned(),
                CustomerMapping::schema(),
            ),
            (
                WarehouseMapping::name().into_owned(),
                WarehouseMapping::schema(),
            ),
            (
                TaxCodeMapping::name().into_owned(),
                TaxCodeMapping::schema(),
            ),
            (
                ShippingMethodMapping::name().into_owned(),
                ShippingMethodMapping::schema(),
            ),
            (
                PaymentMethodMapping::name().into_owned(),
                PaymentMethodMapping::schema(),
            ),
        ]);
    }
}

fn value_schema_names() -> [Cow<'static, str>; 6] {
    [
        SkuMapping::name(),
        CustomerMapping::name(),
        WarehouseMapping::name(),
        TaxCodeMapping::name(),
        ShippingMethodMapping::name(),
        PaymentMethodMapping::name(),
    ]
}

/// One entry of a mapping table.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"kind": "skus", "key": "MH01-S-Gray", "value": {"item_code": "MH01-S-GRY"},
    "updated_at": "2026-11-26T10:05:00Z", "updated_by": "ops-anna"}))]
pub struct Mapping {
    pub kind: MappingKind,
    /// The Magento-side name (for warehouses: the SAP `WarehouseCode`), normalised.
    pub key: String,
    pub value: MappingValueJson,
    pub updated_at: DateTime<Utc>,
    /// Token name of the last writer.
    pub updated_by: String,
}

impl From<StoredMapping> for Mapping {
    fn from(m: StoredMapping) -> Self {
        Mapping {
            kind: m.kind,
            key: m.key,
            value: MappingValueJson(m.value.to_json()),
            updated_at: m.updated_at,
            updated_by: m.updated_by,
        }
    }
}

/// A page of one mapping table, by key.
#[derive(Debug, Serialize, ToSchema)]
pub struct MappingPage {
    pub items: Vec<Mapping>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Paging of a mapping table.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MappingQuery {
    /// Page size: default 50; larger values are clamped to 500; 0 is refused.
    #[param(minimum = 1, maximum = 2147483647)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^[^\\x00]*$")]
    pub cursor: Option<String>,
}

fn parse_kind(raw: &str) -> Result<MappingKind, ApiError> {
    MappingKind::parse(raw).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no mapping table '{raw}'; the tables are skus, customers, warehouses, tax-codes, \
             shipping-methods, payment-methods"
        ))
    })
}

/// Lists one mapping table, by key.
#[utoipa::path(get, path = "/api/v1/mappings/{kind}", tag = "mappings", security(("bearer" = [])),
    params(("kind" = MappingKind, Path, description = "Mapping table"), MappingQuery),
    responses(
        (status = 200, description = "A page of entries", body = MappingPage),
        (status = 400, response = r::BadRequest),
        (status = 401, response = r::Unauthorized),
        (status = 404, response = r::NotFound),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ))]
pub async fn list_mappings(
    _: Authorized<Viewer>,
    State(ctx): State<ApiContext>,
    Path(kind): Path<String>,
    ApiQuery(q): ApiQuery<MappingQuery>,
) -> Result<Json<MappingPage>, ApiError> {
    let kind = parse_kind(&kind)?;
    let limit = page_size(q.limit)?;
    let after = q.cursor.as_deref().map(cursor::decode_key).transpose()?;
    let rows = mappings::list(&ctx.pool, kind, after.as_deref(), limit + 1).await?;
    let (rows, next_cursor) = split_page(rows, limit, |m| cursor::encode_key(&m.key));
    Ok(Json(MappingPage {
        items: rows.into_iter().map(Mapping::from).collect(),
        next_cursor,
    }))
}

/// Creates or replaces an entry. The next job uses it; no restart needed.
#[utoipa::path(put, path = "/api/v1/mappings/{kind}/{key}", tag = "mappings", security(("bearer" = [])),
    params(
        ("kind" = MappingKind, Path, description = "Mapping table"),
        ("key" = String, Path, description = "Magento SKU, customer id or e-mail, SAP WarehouseCode, \
            Magento tax rate code, carrier_method or payment method code", example = "MH01-S-Gray"),
    ),
    request_body(content = MappingValueJson, description = "The value object for the kind",
        example = json!({"item_code": "MH01-S-GRY"})),
    responses(
        (status = 200, description = "The stored entry", body = Mapping),
        (status = 400, response = r::BadRequest),
        (status = 401, response = r::Unauthorized),
        (status = 403, response = r::Forbidden),
        (status = 404, response = r::NotFound),
        (status = 422, response = r::ValidationFailed),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ))]
pub async fn put_mapping(
    who: Authorized<Admin>,
    State(ctx): State<ApiContext>,
    Path((kind, key)): Path<(String, String)>,
    ApiJson(body): ApiJson<MappingValueJson>,
) -> Result<Json<Mapping>, ApiError> {
    let kind = parse_kind(&kind)?;
    let key = kind.normalise_key(&key);
    let value = kind.parse_value(&body.0);
    let (key, value) = match (key, value) {
        (Ok(key), Ok(value)) => (key, value),
        (key, value) => {
            let mut errors: Vec<_> = key.err().into_iter().collect();
            errors.extend(value.err().unwrap_or_default());
            return Err(ApiError::Validation(errors));
        }
    };
    if let MappingValue::Warehouse(w) = &value {
        if w.order_default {
            if let Some(first) = mappings::other_order_default_warehouse(&ctx.pool, &key).await? {
                return Err(ApiError::Validation(vec![FieldError::new(
                    "order_default",
                    format!(
                        "warehouse '{first}' is already the order default; only one warehouse \
                         can be: unmark '{first}' first"
                    ),
                )]));
            }
        }
    }
    let unknown = unknown_codes(ctx.master_data.as_deref(), &refs_of_mapping(&key, &value)).await;
    if !unknown.is_empty() {
        return Err(ApiError::Validation(unknown));
    }
    let stored = mappings::upsert(&ctx.pool, &key, &value, &who.caller().name).await?;
    tracing::info!(kind = kind.as_str(), key = %key, token = %who.caller().name, "mapping stored");
    Ok(Json(stored.into()))
}

/// Deletes an entry.
#[utoipa::path(delete, path = "/api/v1/mappings/{kind}/{key}", tag = "mappings", security(("bearer" = [])),
    params(
        ("kind" = MappingKind, Path, description = "Mapping table"),
        ("key" = String, Path, description = "The entry's key"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, response = r::Unauthorized),
        (status = 403, response = r::Forbidden),
        (status = 404, response = r::NotFound),
        (status = 500, response = r::Internal),
        (status = 503, response = r::Unavailable),
    ))]
pub async fn delete_mapping(
    who: Authorized<Admin>,
    State(ctx): State<ApiContext>,
    Path((kind, key)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let kind = parse_kind(&kind)?;
    let not_found = || ApiError::NotFound(format!("no {} mapping '{key}'", kind.as_str()));
    let normalised = kind.normalise_key(&key).map_err(|_| not_found())?;
    if mappings::delete(&ctx.pool, kind, &normalised, &who.caller().name).await? {
        tracing::info!(kind = kind.as_str(), key = %normalised, token = %who.caller().name, "mapping deleted");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found())
    }
}
