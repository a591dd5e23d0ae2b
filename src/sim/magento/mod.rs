//! Magento 2 REST simulator (`/rest/{store}/V1/…`), built from the facts in
//! `docs/magento-rest.md`: bearer-token auth with Magento's 401 body, `{"message",
//! "parameters"}` error bodies with unfilled placeholders, MSI sources, source items, stocks
//! and reservations (salable = source quantities − reservations; shipments deduct and
//! release, cancellations release), the legacy stock item, order search with the
//! repeat-last-page quirk, shipments validated against what is left to ship, comments that
//! null the status when it is omitted, base/special/tier prices with partial success (and
//! special-price deletion), product status by store scope, credit memos, products and tax rates; seeded, deterministic faults (5xx, 429, timeouts, down).
//!
//! Tests use [`spawn`]; `b1bridge sim magento` uses [`serve`]. It never uses b1bridge's own
//! Magento client, so a client bug cannot hide behind a matching simulator bug. Where the
//! facts are silent the simulator takes the stricter choice and says so where it does.
mod catalog;
mod command;
mod control;
mod errors;
mod faults;
mod gateway;
mod pricing;
mod routes;
mod sales;
mod search;
mod seed;
mod server;
mod state;
mod stats;
mod stock;
mod store;

pub use command::MagentoSimArgs;
pub use errors::MagentoSimError;
pub use faults::{InvalidMagentoFaults, MagentoFaults};
pub use seed::{PriceScope, Seed, SeedProduct, SeedSource, SeedSourceItem, SeedStock, SeedStore};
pub use server::{router, serve, spawn, MagentoSimHandle};
pub use state::{MagentoSimConfig, MagentoSimState};
pub use stats::MagentoSimStats;
pub use stock::keeps_stock;
