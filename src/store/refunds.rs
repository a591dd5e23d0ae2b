//! Refund storage (docs/refunds.md): the credit memo's event, its refund row and its
//! `post_refund` job commit in one transaction; the job's outcomes are written in the
//! transaction that finishes it.
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use std::time::Duration;
use uuid::Uuid;

use super::audit::{self, NewAuditEntry, Target, SYSTEM_ACTOR};
use super::intake::{duplicate, insert_event, Delivery, EventColumns, IntakeOutcome};
use super::outbox;
use super::StoreError;
use crate::domain::order::Order;
use crate::domain::order_flow::JobKind;
use crate::domain::posting::SapDocument;
use crate::domain::refund::Refund;

/// The outbox subject of a refund's jobs.
pub fn subject(magento_entity_id: i64) -> String {
    format!("refund:{magento_entity_id}")
}

/// The credit memo's entity id back from a job subject.
pub fn entity_id_of(subject: &str) -> Option<i64> {
    subject.strip_prefix("refund:")?.parse().ok()
}

/// Stores a `creditmemo.created` event, its refund (once per credit memo) and the job that
/// posts it. A second event for a credit memo already stored is kept and does nothing.
pub async fn record_refund_event(
    pool: &PgPool,
    d: &Delivery<'_>,
    envelope: &str,
    refund: &Refund,
) -> Result<IntakeOutcome, StoreError> {
    let mut tx = pool.begin().await?;
    let event_id = Uuid::now_v7();
    let order_id = known_order(&mut tx, refund).await?;
    let inserted = sqlx::query(
        "INSERT INTO refunds (magento_entity_id, credit_memo_id, magento_order_id,
                              order_increment_id, status, canonical, currency, grand_total, event_id)
         VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7, NULL)
         ON CONFLICT (magento_entity_id) DO NOTHING",
    )
    .bind(refund.magento_entity_id)
    .bind(&refund.credit_memo_id)
    .bind(refund.magento_order_id)
    .bind(order_id.as_deref())
    .bind(serde_json::to_value(refund).expect("serialisable"))
    .bind(refund.currency.as_ref().map(|c| c.as_str()))
    .bind(refund.grand_total)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    let cols = EventColumns {
        envelope: Some(envelope),
        event_type: Some("creditmemo.created"),
        increment_id: order_id.as_deref(),
        magento_entity_id: Some(refund.magento_entity_id),
        outcome: "accepted",
        effect: if inserted {
            "refund queued for posting"
        } else {
            "credit memo already received"
        },
    };
    if !insert_event(&mut tx, event_id, d, cols).await? {
        tx.rollback().await?;
        return duplicate(pool, d.webhook_id).await;
    }
    if inserted {
        sqlx::query("UPDATE refunds SET event_id = $2 WHERE magento_entity_id = $1")
            .bind(refund.magento_entity_id)
            .bind(event_id)
            .execute(&mut *tx)
            .await?;
        enqueue(
            &mut tx,
            refund.magento_entity_id,
            Some(event_id),
            Duration::ZERO,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(IntakeOutcome::Accepted { event_id })
}

/// Stores a credit memo the backfill found, when b1bridge does not have it yet: the refund,
/// its job and a `missed_webhook` exception, in one transaction. `false`: already known.
pub async fn record_backfilled(pool: &PgPool, refund: &Refund) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    let order_id = known_order(&mut tx, refund).await?;
    let inserted = sqlx::query(
        "INSERT INTO refunds (magento_entity_id, credit_memo_id, magento_order_id,
                              order_increment_id, status, canonical, currency, grand_total)
         VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7)
         ON CONFLICT (magento_entity_id) DO NOTHING",
    )
    .bind(refund.magento_entity_id)
    .bind(&refund.credit_memo_id)
    .bind(refund.magento_order_id)
    .bind(order_id.as_deref())
    .bind(serde_json::to_value(refund).expect("serialisable"))
    .bind(refund.currency.as_ref().map(|c| c.as_str()))
    .bind(refund.grand_total)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if inserted {
        enqueue(&mut tx, refund.magento_entity_id, None, Duration::ZERO).await?;
        let missed = crate::domain::exception::NewException {
            category: crate::domain::exception::Category::MissedWebhook,
            title: format!(
                "Credit memo {} was found by the backfill, not by its webhook",
                refund.credit_memo_id
            ),
            detail: "Magento's creditmemo.created webhook for this credit memo never arrived;                      the backfill found it and queued it for posting. Check the Magento                      module's queue if this recurs."
                .into(),
            order_increment_id: order_id.clone(),
            skus: Vec::new(),
            sap_error: None,
            dedup_key: format!("missed_webhook|creditmemo:{}", refund.magento_entity_id),
            context: crate::domain::credit_note::refund_context(refund, serde_json::json!({})),
        };
        super::exceptions::record(&mut tx, &missed, None).await?;
    }
    tx.commit().await?;
    Ok(inserted)
}

/// The order's increment id: the event's, else the stored order with that Magento id.
async fn known_order(
    conn: &mut PgConnection,
    refund: &Refund,
) -> Result<Option<String>, StoreError> {
    if let Some(id) = &refund.order_increment_id {
        return Ok(Some(id.clone()));
    }
    Ok(
        sqlx::query_scalar("SELECT increment_id FROM orders WHERE magento_entity_id = $1")
            .bind(refund.magento_order_id)
            .fetch_optional(&mut *conn)
            .await?,
    )
}

/// Queues a `post_refund` job for the refund, to run after `delay` (a re-check).
pub async fn enqueue(
    conn: &mut PgConnection,
    magento_entity_id: i64,
    event_id: Option<Uuid>,
    delay: Duration,
) -> Result<(), StoreError> {
    let subject = subject(magento_entity_id);
    sqlx::query(
        "INSERT INTO outbox (other_subject, kind, event_id, run_after)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4))",
    )
    .bind(&subject)
    .bind(JobKind::PostRefund.as_str())
    .bind(event_id)
    .bind(delay.as_secs_f64())
    .execute(&mut *conn)
    .await?;
    outbox::notify_subject(conn, &subject).await
}

/// What the `post_refund` job works from.
#[derive(Debug, Clone, PartialEq)]
pub struct RefundForSap {
    pub refund: Refund,
    pub sap_document: Option<SapDocument>,
    /// The outgoing payment made for the credit memo (`refunds.outgoing_payment`).
    pub payment: Option<SapDocument>,
    /// The order, once b1bridge has it: its increment id, canonical content and SAP order.
    pub order: Option<RefundOrder>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RefundOrder {
    pub increment_id: String,
    pub order: Order,
    pub sap_order: Option<SapDocument>,
}

pub async fn load(
    pool: &PgPool,
    magento_entity_id: i64,
) -> Result<Option<RefundForSap>, StoreError> {
    type Row = (
        serde_json::Value,
        Option<i32>,
        Option<i32>,
        Option<String>,
        Option<serde_json::Value>,
        Option<i32>,
        Option<i32>,
        Option<i32>,
        Option<i32>,
    );
    let row: Option<Row> = sqlx::query_as(
        "SELECT r.canonical, r.sap_doc_entry, r.sap_doc_num, o.increment_id, o.canonical,
                o.sap_doc_entry, o.sap_doc_num, r.payment_doc_entry, r.payment_doc_num
           FROM refunds r
           LEFT JOIN orders o ON o.increment_id = r.order_increment_id
                              OR (r.order_increment_id IS NULL
                                  AND o.magento_entity_id = r.magento_order_id)
          WHERE r.magento_entity_id = $1
          LIMIT 1",
    )
    .bind(magento_entity_id)
    .fetch_optional(pool)
    .await?;
    let Some((canonical, entry, num, order_id, order, order_entry, order_num, pay_entry, pay_num)) =
        row
    else {
        return Ok(None);
    };
    let corrupt = |what: &str, e: serde_json::Error| {
        StoreError::Corrupt(format!("refund {magento_entity_id}: {what}: {e}"))
    };
    let refund: Refund = serde_json::from_value(canonical).map_err(|e| corrupt("canonical", e))?;
    let order = match (order_id, order) {
        (Some(increment_id), Some(order)) => Some(RefundOrder {
            increment_id,
            order: serde_json::from_value(order).map_err(|e| corrupt("order", e))?,
            sap_order: document(order_entry, order_num),
        }),
        _ => None,
    };
    Ok(Some(RefundForSap {
        refund,
        sap_document: document(entry, num),
        payment: document(pay_entry, pay_num),
        order,
    }))
}

fn document(entry: Option<i32>, num: Option<i32>) -> Option<SapDocument> {
    match (entry, num) {
        (Some(e), Some(n)) => Some(SapDocument {
            doc_entry: e.into(),
            doc_num: n.into(),
        }),
        _ => None,
    }
}

/// The refunds of the order that reduced its un-invoiced Sales Order, other than `except`.
pub async fn reduced_before(
    pool: &PgPool,
    order_increment_id: &str,
    except: i64,
) -> Result<Vec<Refund>, StoreError> {
    let rows: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT canonical FROM refunds
          WHERE order_increment_id = $1 AND status = 'order_reduced'
            AND magento_entity_id <> $2
          ORDER BY magento_entity_id",
    )
    .bind(order_increment_id)
    .bind(except)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|v| {
            serde_json::from_value(v)
                .map_err(|e| StoreError::Corrupt(format!("refund canonical: {e}")))
        })
        .collect()
}

/// The credit note exists in SAP.
pub async fn record_posted(
    conn: &mut PgConnection,
    magento_entity_id: i64,
    order_increment_id: &str,
    doc: SapDocument,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE refunds SET status = 'posted', sap_doc_entry = $2, sap_doc_num = $3,
                order_increment_id = COALESCE(order_increment_id, $4),
                posted_at = COALESCE(posted_at, now()), updated_at = now()
          WHERE magento_entity_id = $1",
    )
    .bind(magento_entity_id)
    .bind(i32::try_from(doc.doc_entry).map_err(|_| StoreError::Corrupt("DocEntry".into()))?)
    .bind(i32::try_from(doc.doc_num).map_err(|_| StoreError::Corrupt("DocNum".into()))?)
    .bind(order_increment_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The outgoing payment for the refund's credit memo exists in SAP.
pub async fn record_paid(
    conn: &mut PgConnection,
    magento_entity_id: i64,
    payment: SapDocument,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE refunds SET payment_doc_entry = $2, payment_doc_num = $3,
                paid_at = COALESCE(paid_at, now()), updated_at = now()
          WHERE magento_entity_id = $1",
    )
    .bind(magento_entity_id)
    .bind(i32::try_from(payment.doc_entry).map_err(|_| StoreError::Corrupt("DocEntry".into()))?)
    .bind(i32::try_from(payment.doc_num).map_err(|_| StoreError::Corrupt("DocNum".into()))?)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A refund job parked behind an exception: the refund is `parked`, unless its credit memo
/// is already posted (then only its outgoing payment is held, and it stays `posted`).
pub async fn park(conn: &mut PgConnection, magento_entity_id: i64) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE refunds SET status = 'parked', updated_at = now()
          WHERE magento_entity_id = $1 AND sap_doc_entry IS NULL",
    )
    .bind(magento_entity_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The refund waits (SAP has no invoice yet) or is held by an exception.
pub async fn set_status(
    conn: &mut PgConnection,
    magento_entity_id: i64,
    status: &str,
    order_increment_id: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE refunds SET status = $2, updated_at = now(),
                order_increment_id = COALESCE(order_increment_id, $3)
          WHERE magento_entity_id = $1",
    )
    .bind(magento_entity_id)
    .bind(status)
    .bind(order_increment_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Resolves the refund's open exceptions (they name it in `context.credit_memo_entity_id`)
/// once its credit note is posted.
pub async fn resolve_exceptions(
    conn: &mut PgConnection,
    magento_entity_id: i64,
) -> Result<(), StoreError> {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE exceptions
            SET status = 'resolved', resolved_at = now(), resolved_by = $2
          WHERE context ->> 'credit_memo_entity_id' = $1::text
            AND status IN ('open', 'retrying')
        RETURNING id",
    )
    .bind(magento_entity_id.to_string())
    .bind(SYSTEM_ACTOR)
    .fetch_all(&mut *conn)
    .await?;
    for id in &ids {
        audit::append(
            conn,
            &NewAuditEntry {
                actor: SYSTEM_ACTOR,
                action: "auto_resolve",
                target: Target::Exception,
                target_id: &id.to_string(),
                note: Some("the refund's credit note was posted"),
            },
        )
        .await?;
    }
    Ok(())
}

/// One refund as the order's page shows it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RefundSummary {
    pub credit_memo_id: String,
    pub status: String,
    pub grand_total: rust_decimal::Decimal,
    pub currency: Option<String>,
    pub sap_doc_entry: Option<i32>,
    pub sap_doc_num: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub posted_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub payment_doc_num: Option<i32>,
    pub paid_at: Option<DateTime<Utc>>,
}

/// The order's refunds, oldest first.
pub async fn for_order(
    conn: &mut PgConnection,
    order_increment_id: &str,
) -> Result<Vec<RefundSummary>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT credit_memo_id, status, grand_total, currency, sap_doc_entry, sap_doc_num,
                created_at, posted_at, updated_at, payment_doc_num, paid_at
           FROM refunds WHERE order_increment_id = $1
          ORDER BY created_at, magento_entity_id",
    )
    .bind(order_increment_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// Refunds by status (for `/metrics` and the daily report).
pub async fn counts(pool: &PgPool) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(
        sqlx::query_as("SELECT status, count(*) FROM refunds GROUP BY status ORDER BY status")
            .fetch_all(pool)
            .await?,
    )
}
