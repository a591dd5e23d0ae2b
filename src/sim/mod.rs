//! Simulators of the external systems (SAP B1 Service Layer, Magento REST), for tests,
//! benchmarks and the demo. Each one is an independent implementation of the wire protocol it
//! imitates (it never uses our clients), so a client bug cannot hide behind a matching
//! simulator bug.
pub mod magento;
pub mod sap_b1;
