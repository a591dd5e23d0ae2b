//! The Magento port: everything that knows Magento's wire formats. It plays on the Magento
//! side the role [`crate::sap`] plays on the SAP side.
//!
//! - [`signature`]: Standard Webhooks v1 verification of incoming deliveries;
//! - [`envelope`]: the webhook envelopes (Standard Webhooks and the Adobe Commerce observer)
//!   read into the domain's [`crate::domain::event::OrderEvent`];
//! - [`order`]: Magento's order JSON (`GET /V1/orders/{id}`) normalised into the canonical
//!   [`crate::domain::order::Order`] (pure parsing, no I/O).
//!
//! The facts these rely on are in `docs/magento-rest.md`.
pub mod envelope;
pub mod order;
pub mod signature;
