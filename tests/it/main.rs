//! The integration test binary: one binary, one module per area, real Postgres.
mod intake;
mod openapi;
mod support;
mod worker;
