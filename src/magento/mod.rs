//! The Magento port: everything that knows Magento's wire formats. It plays on the Magento
//! side the role [`crate::sap`] plays on the SAP side.
//!
//! - [`signature`]: Standard Webhooks v1 verification of incoming deliveries;
//! - [`envelope`]: the webhook envelopes (Standard Webhooks and the Adobe Commerce observer)
//!   read into the domain's [`crate::domain::event::OrderEvent`];
//! - [`order`]: Magento's order JSON (`GET /V1/orders/{id}`) normalised into the canonical
//!   [`crate::domain::order::Order`] (pure parsing, no I/O).
//!
//! - [`MagentoClient`]: the REST client (bearer token, a concurrency limit, retries on
//!   5xx/429 with backoff, Magento's error bodies rendered), typed by [`types`];
//! - [`MagentoError`]: every failure, grouped by what the caller should do next.
//!
//! The facts these rely on are in `docs/magento-rest.md`.
mod catalog;
mod client;
pub mod envelope;
mod error;
#[cfg(test)]
pub(crate) mod fuzz_tests;
mod inventory;
pub mod lenient;
pub mod message;
pub mod order;
mod prices;
pub mod refund;
mod sales;
pub mod search;
pub mod signature;
mod transport;
pub mod types;

pub use client::MagentoClient;
pub use error::MagentoError;
pub use inventory::RowOutcome;
pub use message::MagentoMessage;
pub use search::{Condition, Filter, SearchCriteria, SearchResult};
