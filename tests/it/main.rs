//! The integration test binary: one binary, one module per area, real Postgres.
mod intake;
mod openapi;
mod sap_client;
mod sap_sim;
mod sap_tls;
mod support;
mod worker;
