//! The workers' in-memory settings and mappings (`worker::config_cache`): re-read exactly when
//! a change moved the version that jobs read with their order.
use b1bridge::domain::mappings::MappingKind;
use b1bridge::domain::settings::{GuestPolicy, Settings};
use b1bridge::store;
use b1bridge::worker::config_cache::ConfigCache;
use serde_json::json;
use sqlx::PgPool;

use crate::support::TestDb;

async fn version(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT version FROM config_version")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn every_change_to_settings_or_mappings_moves_the_version_and_is_read_again() {
    let db = TestDb::new().await;
    let cache = ConfigCache::default();
    let v0 = version(&db.pool).await;
    let first = cache.at(&db.pool, v0).await.unwrap();
    assert!(first.mappings.skus.is_empty());

    let sku = MappingKind::Skus
        .parse_value(&json!({"item_code": "A1"}))
        .unwrap();
    store::mappings::upsert(&db.pool, "SKU-1", &sku, "test")
        .await
        .unwrap();
    let v1 = version(&db.pool).await;
    assert!(v1 > v0, "a mapping written moves the version");
    // Asked at the old version, the kept picture is what it was; at the new one, re-read.
    assert!(cache
        .at(&db.pool, v0)
        .await
        .unwrap()
        .mappings
        .skus
        .is_empty());
    assert!(cache
        .at(&db.pool, v1)
        .await
        .unwrap()
        .mappings
        .skus
        .contains_key("SKU-1"));

    let settings = Settings {
        guest_policy: GuestPolicy::PerEmail,
        ..Settings::default()
    };
    store::settings::replace(&db.pool, &settings, "test")
        .await
        .unwrap();
    let v2 = version(&db.pool).await;
    assert!(v2 > v1, "settings replaced move the version");
    assert_eq!(
        cache.at(&db.pool, v2).await.unwrap().settings.guest_policy,
        GuestPolicy::PerEmail
    );

    store::mappings::delete(&db.pool, MappingKind::Skus, "SKU-1", "test")
        .await
        .unwrap();
    let v3 = version(&db.pool).await;
    assert!(v3 > v2, "a mapping deleted moves the version");
    assert!(cache
        .at(&db.pool, v3)
        .await
        .unwrap()
        .mappings
        .skus
        .is_empty());
}

#[tokio::test]
async fn a_version_read_with_the_order_is_the_one_the_job_uses() {
    let db = TestDb::new().await;
    // No order: nothing read, so no version. With an order stored, its row carries it.
    assert!(store::posting::load(&db.pool, "NONE")
        .await
        .unwrap()
        .is_none());
    sqlx::query("INSERT INTO orders (increment_id, status) VALUES ('V-1', 'queued')")
        .execute(&db.pool)
        .await
        .unwrap();
    let row = store::posting::load(&db.pool, "V-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.config_version, version(&db.pool).await);
    assert_eq!(row.draft, None);
}
