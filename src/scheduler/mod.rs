//! The scheduler: starts the periodic runs (stock sync, reconciliation; status, prices and
//! backfill later) at their intervals. Every `serve` and `worker` process runs one; they
//! agree through Postgres, so one interval gets one run however many processes there are
//! (`store::runs::start_if_due`), and a run that is still going when the next is due makes
//! that next one skip (logged). The runs themselves are outbox jobs, executed by whichever
//! worker pool claims them.
pub mod retention;

use sqlx::PgPool;
use std::future::Future;
use std::time::Duration;
use tokio::task::JoinSet;

use crate::domain::run::RunKind;
use crate::store::runs::{self, Due};

/// One periodic run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub kind: RunKind,
    pub every: Duration,
}

impl Schedule {
    /// How often this process looks whether the run is due: a quarter of the interval (so a
    /// run starts at most a quarter late), at most every 30 s and at least every 50 ms.
    fn tick(&self) -> Duration {
        (self.every / 4).clamp(Duration::from_millis(50), Duration::from_secs(30))
    }
}

/// Runs the schedules until `shutdown` resolves.
pub async fn run(pool: PgPool, schedules: Vec<Schedule>, shutdown: impl Future<Output = ()>) {
    let mut tasks = JoinSet::new();
    for schedule in schedules {
        tracing::info!(
            kind = schedule.kind.as_str(),
            every_secs = schedule.every.as_secs_f64(),
            "scheduler started"
        );
        tasks.spawn(keep(pool.clone(), schedule));
    }
    shutdown.await;
    tasks.shutdown().await;
}

async fn keep(pool: PgPool, schedule: Schedule) {
    let mut ticks = tokio::time::interval(schedule.tick());
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let kind = schedule.kind.as_str();
    loop {
        ticks.tick().await;
        match runs::start_if_due(&pool, schedule.kind, schedule.every).await {
            Ok(Due::Started(run)) => tracing::info!(kind, run = %run.id, "scheduled run queued"),
            Ok(Due::Skipped { active }) => tracing::warn!(
                kind,
                active = %active,
                "scheduled run skipped: the previous run is still queued or running"
            ),
            Ok(Due::NotDue) => {}
            Err(e) => {
                tracing::warn!(kind, error = %e, "cannot start a scheduled run; trying again")
            }
        }
    }
}
