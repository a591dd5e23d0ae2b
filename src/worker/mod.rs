//! Background processes that drain the outbox: a pool of workers that claim jobs with a lease,
//! call SAP through a [`JobHandler`] per job kind, and retry, park or complete each job with
//! writes fenced on its attempt. See `pool` for the loop and `job` for the stages of one job.
pub mod config;
pub mod handler;
mod job;
mod parking;
pub mod pool;
mod wake;

pub use config::WorkerConfig;
pub use handler::{
    Completion, Handlers, JobContext, JobFailure, JobHandler, JobOutcome, NothingToRecord,
};
pub use pool::{run, PoolMonitor, PoolStopped, WorkerPool};
