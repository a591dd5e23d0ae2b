//! b1bridge: keeps a Magento 2 / Adobe Commerce store and SAP Business One in step.
//!
//! The module tree is the architecture:
//! - [`domain`]: orders, money, mapping rules and exception categories. Pure: no I/O.
//! - [`http`]: the HTTP edge (webhook intake, operators' API, health, OpenAPI).
//! - [`store`]: Postgres storage (events, outbox, orders, exceptions).
//! - [`sap`]: the SAP B1 Service Layer client (a port).
//! - [`magento`]: the Magento port (webhook signature and envelopes, order JSON reader, the
//!   REST client).
//! - [`worker`]: background processes that drain the outbox (order jobs and runs).
//! - [`scheduler`]: starts the periodic runs (stock sync, reconciliation) at their intervals.
//! - [`sim`]: the SAP B1 Service Layer and Magento REST simulators for tests, benchmarks and
//!   `run.sh`.
//!
//! Dependencies point inward: `http` and `worker` use `domain`, `store`, `sap` and `magento`;
//! `domain` uses nothing of ours.
pub mod app;
pub mod cli;
pub mod config;
pub mod domain;
pub mod http;
pub mod magento;
pub mod reconcile_cli;
pub mod sap;
pub mod scheduler;
pub mod sim;
pub mod stock_cli;
pub mod store;
pub mod telemetry;
pub mod worker;
