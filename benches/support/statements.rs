//! Counts the Postgres statements sqlx sends (its `sqlx::query` events), by their first words:
//! how many round trips and commits an order costs, figures that do not depend on the
//! machine's load. Included with `#[path = "support/statements.rs"] mod statements;`.
//!
//! sqlx pretty-prints every statement it reports, which costs CPU: a bench installs this only
//! when asked (`--profile`), and its timings are not the ones to quote then.
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

/// Statements seen, by sqlx's summary (the statement's first words).
#[derive(Clone, Default)]
pub struct Statements(Arc<Mutex<BTreeMap<String, u64>>>);

/// Statements whose text starts with this are the bench's own probes and are not counted.
pub const PROBE: &str = "/* bench probe */";

impl Statements {
    /// Installs the counter as the process's subscriber.
    pub fn install() -> Self {
        let counter = Self::default();
        tracing_subscriber::registry()
            .with(
                counter
                    .clone()
                    .with_filter(Targets::new().with_target("sqlx::query", Level::DEBUG)),
            )
            .init();
        counter
    }

    /// The counts since the last call, and a fresh start.
    pub fn take(&self) -> BTreeMap<String, u64> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

struct Summary(Option<String>);

impl Visit for Summary {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "summary" {
            self.0 = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "summary" && self.0.is_none() {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

impl<S: Subscriber> Layer<S> for Statements {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut summary = Summary(None);
        event.record(&mut summary);
        let Some(summary) = summary.0 else { return };
        if summary.starts_with(PROBE) {
            return;
        }
        *self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(summary)
            .or_default() += 1;
    }
}
