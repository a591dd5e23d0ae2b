//! The integration test binary: one binary, one module per area, real Postgres.
mod api_auth;
mod api_common;
mod api_docs;
mod api_e2e;
mod api_exceptions;
mod api_mappings;
mod api_master_data;
mod api_orders;
mod api_reports;
mod intake;
mod openapi;
mod pipeline;
mod sap_client;
mod sap_sim;
mod sap_tls;
mod support;
mod worker;
