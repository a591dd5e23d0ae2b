//! What an incoming order event does to the order it concerns. Pure: the storage layer reads
//! the order's current state, asks [`apply_event`], and writes the decision in the same
//! transaction as the event, so that the outbox never disagrees with the events.
use serde::{Deserialize, Serialize};

use super::event::{EventKind, OrderEvent};

/// Where an order stands in the flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// A cancellation arrived before the order itself; it is applied when the order arrives.
    AwaitingOrder,
    /// Waiting for a worker to post it to SAP.
    Queued,
    /// Created in SAP as a Sales Order.
    Posted,
    /// A cancellation is waiting for a worker.
    CancelQueued,
    /// Cancelled: in SAP, or before it was ever posted.
    Cancelled,
    /// Held by an exception until someone acts.
    Parked,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 6] = [
        OrderStatus::AwaitingOrder,
        OrderStatus::Queued,
        OrderStatus::Posted,
        OrderStatus::CancelQueued,
        OrderStatus::Cancelled,
        OrderStatus::Parked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::AwaitingOrder => "awaiting_order",
            OrderStatus::Queued => "queued",
            OrderStatus::Posted => "posted",
            OrderStatus::CancelQueued => "cancel_queued",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Parked => "parked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// The kinds of outbox job: the order jobs an event can cause, and the scheduled runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    PostOrder,
    CancelOrder,
    /// One stock sync run (SAP warehouses → Magento); its subject is the run's id.
    StockSync,
    /// One status run (SAP deliveries → Magento shipments, order comments); subject: the run.
    StatusSync,
    /// One Magento order poll (missed webhooks); subject: the run.
    Backfill,
    /// One reconciliation run (SAP B1 against Magento); its subject is the run's id.
    Reconcile,
}

impl JobKind {
    pub const ALL: [JobKind; 6] = [
        JobKind::PostOrder,
        JobKind::CancelOrder,
        JobKind::StockSync,
        JobKind::StatusSync,
        JobKind::Backfill,
        JobKind::Reconcile,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::PostOrder => "post_order",
            JobKind::CancelOrder => "cancel_order",
            JobKind::StockSync => "stock_sync",
            JobKind::StatusSync => "status_sync",
            JobKind::Backfill => "backfill",
            JobKind::Reconcile => "reconcile",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the job's subject is an order (its increment id).
    pub fn is_order_job(self) -> bool {
        matches!(self, JobKind::PostOrder | JobKind::CancelOrder)
    }
}

/// What b1bridge already knows of the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownOrder {
    pub status: OrderStatus,
    /// Whether the order itself (not only a cancellation) has arrived.
    pub has_order: bool,
    pub cancel_requested: bool,
}

/// The decision for one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The order's status afterwards (`None`: unchanged).
    pub status: Option<OrderStatus>,
    /// Store the event's order as the order's canonical content.
    pub store_order: bool,
    pub request_cancel: bool,
    pub enqueue: Option<JobKind>,
    /// For the event log: what the event did, in words.
    pub effect: &'static str,
}

pub fn apply_event(known: Option<KnownOrder>, event: &OrderEvent) -> Decision {
    let has_full_order = event.order.is_some();
    if event.is_cancellation() {
        return match known {
            None if has_full_order => Decision {
                status: Some(OrderStatus::Cancelled),
                store_order: true,
                request_cancel: true,
                enqueue: None,
                effect: "order arrived already cancelled; it will not be posted",
            },
            None => Decision {
                status: Some(OrderStatus::AwaitingOrder),
                store_order: false,
                request_cancel: true,
                enqueue: None,
                effect: "cancellation kept until the order arrives",
            },
            Some(k) if k.cancel_requested => Decision::nothing("cancellation already recorded"),
            Some(k) if !k.has_order => Decision::nothing("cancellation already recorded"),
            Some(_) => Decision {
                status: Some(OrderStatus::CancelQueued),
                store_order: false,
                request_cancel: true,
                enqueue: Some(JobKind::CancelOrder),
                effect: "cancellation queued",
            },
        };
    }
    if !has_full_order {
        return Decision::nothing("event carries no order");
    }
    match known {
        None => Decision {
            status: Some(OrderStatus::Queued),
            store_order: true,
            request_cancel: false,
            enqueue: Some(JobKind::PostOrder),
            effect: if event.kind == EventKind::Updated {
                "order first seen on an update; queued for posting"
            } else {
                "order queued for posting"
            },
        },
        Some(k) if !k.has_order && k.cancel_requested => Decision {
            status: Some(OrderStatus::Cancelled),
            store_order: true,
            request_cancel: false,
            enqueue: None,
            effect: "order arrived after its cancellation; it will not be posted",
        },
        Some(_) => Decision::nothing("order already received"),
    }
}

/// The status of a parked order whose jobs an operator re-queued: a requested cancellation
/// wins, so the list shows what the next job will do.
pub fn status_after_requeue(cancel_requested: bool) -> OrderStatus {
    if cancel_requested {
        OrderStatus::CancelQueued
    } else {
        OrderStatus::Queued
    }
}

impl Decision {
    fn nothing(effect: &'static str) -> Self {
        Decision {
            status: None,
            store_order: false,
            request_cancel: false,
            enqueue: None,
            effect,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::magento::envelope::parse_event;

    fn placed() -> OrderEvent {
        parse_event(
            br#"{"type":"order.placed","data":{"order":{"increment_id":"1","created_at":"2024-01-01 00:00:00",
            "order_currency_code":"EUR","customer_email":"a@b.c","grand_total":5,
            "items":[{"item_id":1,"sku":"A","qty_ordered":1,"price":5}]}}}"#,
        )
        .unwrap()
    }

    fn cancel() -> OrderEvent {
        parse_event(br#"{"type":"order.cancelled","data":{"order":{"increment_id":"1"}}}"#).unwrap()
    }

    #[test]
    fn a_new_order_is_queued_for_posting() {
        let d = apply_event(None, &placed());
        assert_eq!(d.enqueue, Some(JobKind::PostOrder));
        assert_eq!(d.status, Some(OrderStatus::Queued));
        assert!(d.store_order);
    }

    #[test]
    fn a_cancel_before_its_order_is_kept_and_then_honoured() {
        let d = apply_event(None, &cancel());
        assert_eq!(d.status, Some(OrderStatus::AwaitingOrder));
        assert!(d.request_cancel && d.enqueue.is_none());
        let known = KnownOrder {
            status: OrderStatus::AwaitingOrder,
            has_order: false,
            cancel_requested: true,
        };
        let d = apply_event(Some(known), &placed());
        assert_eq!(d.status, Some(OrderStatus::Cancelled));
        assert_eq!(d.enqueue, None, "the post must never happen");
    }

    #[test]
    fn a_cancel_after_the_order_queues_a_cancel_job_once() {
        let known = KnownOrder {
            status: OrderStatus::Queued,
            has_order: true,
            cancel_requested: false,
        };
        let d = apply_event(Some(known), &cancel());
        assert_eq!(d.enqueue, Some(JobKind::CancelOrder));
        let known = KnownOrder {
            cancel_requested: true,
            status: OrderStatus::CancelQueued,
            ..known
        };
        assert_eq!(apply_event(Some(known), &cancel()).enqueue, None);
    }

    #[test]
    fn a_requeued_order_shows_its_pending_cancellation() {
        assert_eq!(status_after_requeue(false), OrderStatus::Queued);
        assert_eq!(status_after_requeue(true), OrderStatus::CancelQueued);
    }

    #[test]
    fn a_second_placement_of_a_known_order_does_nothing() {
        let known = KnownOrder {
            status: OrderStatus::Posted,
            has_order: true,
            cancel_requested: false,
        };
        let d = apply_event(Some(known), &placed());
        assert_eq!(d, Decision::nothing("order already received"));
    }
}
