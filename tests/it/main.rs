//! The integration test binary: one binary, one module per area.
mod sap_client;
mod sap_sim;
