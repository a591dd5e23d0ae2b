//! SAP Business One Service Layer simulator (v1, OData v3), built from
//! `shared/reference/sap-b1-service-layer.md`: login with the exact `B1SESSION`/`ROUTEID`
//! cookies and a sliding idle timeout, v1 error bodies, paging with `odata.nextLink`, the OData
//! query options SAP supports, sales orders validated and totalled like B1, deliveries and
//! invoices made through control endpoints, optional HTTPS with a given certificate, and
//! seeded, deterministic fault injection (lock errors, balancer 5xx, latency, lost responses).
//!
//! Tests use [`spawn`]; the CLI (`b1bridge sim sap-b1`) and the demo use [`serve`] or
//! [`router`]. Where the reference says "not found", the code says what it chose and why.
mod address_block;
mod approvals;
mod business_partners;
mod company;
mod control;
mod credit_notes;
mod datetime;
mod documents;
mod entities;
mod enums;
mod errors;
mod faults;
mod filter;
mod filter_eval;
mod finance;
mod gateway;
mod handlers;
mod json_input;
mod login;
mod operator_mappings;
mod order_actions;
mod order_lines;
mod orders;
mod pacing;
mod paged_results;
mod paging;
mod price_lists;
mod query;
mod reads;
mod resource_path;
mod responses;
mod seed;
mod serial_batch;
mod server;
mod services;
mod session;
mod state;
mod stats;
mod targets;
mod tls;
mod totals;
mod vendor_payments;

pub use approvals::{ApprovalProcedure, Decision};
pub use documents::{Document, DocumentExpense, DocumentLine};
pub use entities::{
    AdditionalExpense, BpAddress, BusinessPartner, Item, ItemPrice, ItemWarehouseInfo, PriceList,
    SalesTaxCode, SpecialPrice, SpecialPriceDataArea, SpecialPriceQuantityArea, VatGroup,
    VatGroupLine, Warehouse,
};
pub use enums::{
    AddressType, CancelStatus, CardType, DocObject, DocStatus, DocType, RcptInvType, RcptType,
    YesNo,
};
pub use errors::ServiceLayerError;
pub use faults::{Faults, InvalidFaults};
pub use operator_mappings::{default_seed_mapping_rows, default_seed_mappings};
pub use seed::{
    ExchangeRate, Localization, Numbering, PeriodStatus, PostingPeriod, Seed, SeedError, Series,
};
pub use server::{router, serve, spawn, SapSimHandle};
pub use state::{SapSimConfig, SapSimState};
pub use stats::{InjectedFaults, SapSimStats};
pub use targets::{DeliveryLineRequest, DeliveryRequest, InvoiceBase};
pub use tls::{InvalidTlsIdentity, TlsIdentity};
pub use vendor_payments::{Payment, PaymentInvoice};
