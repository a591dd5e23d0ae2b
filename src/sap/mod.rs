//! The SAP Business One Service Layer client (a port; contract §4, reference
//! `shared/reference/sap-b1-service-layer.md`).
//!
//! - [`SapClient`]: one shared session per company, transparent re-login, a concurrency
//!   limit around every HTTP call, typed operations on orders, partners, items and documents.
//! - [`SapError`]: every failure classified as session-expired, locked, transient, permanent,
//!   ambiguous (may have been applied), auth or config.
//! - [`types`]: request and response payloads; [`odata`]: filters, literals and paging.
mod certificate;
mod client;
mod company;
mod documents;
mod error;
#[cfg(test)]
mod fuzz_tests;
mod items;
pub mod odata;
mod orders;
mod partners;
pub mod prices;
pub mod refusal;
mod session;
pub mod stock;
mod transport;
pub mod types;

pub use client::SapClient;
pub use error::{SapError, CODE_MODIFIED_BY_ANOTHER, CODE_NOT_FOUND, CODE_SESSION_INVALID};
pub use odata::{Filter, Literal, NextPage, Page};
pub use orders::{ReferenceSearch, REFERENCES_PER_READ};
