//! Background processes that drain the outbox: a pool of workers that claim jobs with a lease,
//! call SAP through a [`JobHandler`] per job kind, and retry, park or complete each job with
//! writes fenced on its attempt. See `pool` for the loop and `job` for the stages of one job.
//! The pool is generic: a job is an opaque subject. The order pipeline's handlers are
//! `post_order` and `cancel_order`, wrapped in `order_job::OrderJob` (what parking means for an
//! order); `pipeline` wires them.
pub mod audit;
pub mod backfill;
pub mod cancel_order;
pub mod company_facts;
pub mod config;
pub mod config_cache;
pub mod handler;
pub mod item_cache;
mod job;
pub mod order_job;
pub mod order_lookup;
mod order_outcome;
mod order_parking;
pub mod pipeline;
pub mod pool;
pub mod post_order;
pub mod post_refund;
pub mod price_sync;
pub mod reconcile;
pub mod refund_backfill;
pub mod run_job;
mod sap_failure;
pub mod status_sync;
pub mod stock_sync;
mod wake;

pub use config::WorkerConfig;
pub use handler::{
    Completion, Handlers, JobContext, JobFailure, JobHandler, JobOutcome, NothingToRecord,
};
pub use order_job::OrderJob;
pub use pool::{run, PoolMonitor, PoolStopped, WorkerPool};
