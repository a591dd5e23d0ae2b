//! What the simulator saw, for tests and benchmarks: requests per endpoint (the route with
//! its placeholders, e.g. `POST /V1/order/{id}/ship`), faults injected.
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MagentoSimStats {
    /// Every `/rest/…` request, faulted or not.
    pub requests: u64,
    pub requests_by_endpoint: BTreeMap<String, u64>,
    /// Requests refused for a missing or wrong token.
    pub unauthorized: u64,
    pub injected_statuses: BTreeMap<u16, u64>,
    pub injected_timeouts: u64,
    /// The most `/rest/…` requests ever in progress at once.
    pub max_concurrent_requests: u64,
    pub in_flight: u64,
}
