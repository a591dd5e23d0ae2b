//! What an order event asks of b1bridge, independent of how Magento wrapped it (the
//! envelopes are read by [`crate::magento::envelope`]).
use super::ids::IncrementId;
use super::order::Order;

/// What the event asks b1bridge to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Placed,
    Updated,
    Cancelled,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Placed => "order.placed",
            EventKind::Updated => "order.updated",
            EventKind::Cancelled => "order.cancelled",
        }
    }
}

/// Which envelope carried the event (kept for support: it says how the store is set up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope {
    StandardWebhooks,
    AdobeObserver,
}

impl Envelope {
    pub fn as_str(self) -> &'static str {
        match self {
            Envelope::StandardWebhooks => "standard_webhooks",
            Envelope::AdobeObserver => "adobe_observer",
        }
    }
}

/// A usable order event.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderEvent {
    pub kind: EventKind,
    pub envelope: Envelope,
    pub increment_id: IncrementId,
    pub magento_entity_id: Option<i64>,
    /// The full order; `None` only for the minimal cancellation body.
    pub order: Option<Order>,
}

impl OrderEvent {
    /// An update that carries a cancelled order is a cancellation (Magento's save events fire
    /// for every change, and `state = canceled` is how a cancellation shows on them).
    pub fn is_cancellation(&self) -> bool {
        self.kind == EventKind::Cancelled
            || self.order.as_ref().and_then(|o| o.state.as_deref()) == Some("canceled")
    }
}
