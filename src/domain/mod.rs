//! The business core: what an order is, what money is, which problems exist and who owns
//! them. Nothing in here performs I/O, so every rule can be tested with plain values.
pub mod access;
pub mod aimd;
pub mod company;
pub mod daily_check;
pub mod document_exceptions;
pub mod event;
pub mod exception;
pub mod exception_flow;
pub mod ids;
pub mod mapping;
pub mod mappings;
pub mod master_data;
pub mod money;
pub mod order;
pub mod order_flow;
pub mod posting;
pub mod reconcile;
pub mod reference;
pub mod retry;
pub mod run;
pub mod sales_order;
pub mod settings;
pub mod shipment;
pub mod stock;
pub mod validation;
