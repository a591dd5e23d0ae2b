//! Waking idle workers: LISTEN on the outbox channel, so a new job starts at once; when the
//! listener is down the pool still polls, so a lost notification only costs latency.
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::store::intake::OUTBOX_CHANNEL;

/// Starts listening, on a connection of `pool` or, given `direct`, on a connection of its own
/// to that URL (bypassing a transaction-mode pooler).
async fn listen(pool: &PgPool, direct: Option<&SecretString>) -> Result<PgListener, sqlx::Error> {
    let mut listener = match direct {
        Some(url) => PgListener::connect(url.expose_secret()).await?,
        None => PgListener::connect_with(pool).await?,
    };
    listener.listen(OUTBOX_CHANNEL).await?;
    Ok(listener)
}

/// Listens and turns notifications into wake-ups until `stop`. The pool does not wait for
/// the LISTEN before its first claim (a new connection costs milliseconds a starting worker
/// need not lose): the pool is woken once the LISTEN is in place, and the claim that follows
/// sees every job queued before it, so nothing notified in between is missed. For the same
/// reason it reconnects with a growing pause when the listener fails, and wakes the pool after
/// every reconnection.
pub(super) async fn forward_notifications(
    pool: PgPool,
    direct: Option<SecretString>,
    wake: Arc<Notify>,
    stop: CancellationToken,
) {
    const MAX_PAUSE: Duration = Duration::from_secs(30);
    let mut pause = Duration::from_millis(500);
    let mut first = true;
    loop {
        let mut current = match listen(&pool, direct.as_ref()).await {
            Ok(l) => {
                if first {
                    tracing::debug!("listening for new jobs");
                } else {
                    tracing::info!("listening for new jobs again");
                }
                first = false;
                wake.notify_one();
                l
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot LISTEN for new jobs; polling meanwhile");
                if pause_or_stop(pause, &stop).await {
                    return;
                }
                pause = (pause * 2).min(MAX_PAUSE);
                continue;
            }
        };
        pause = Duration::from_millis(500);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                received = current.try_recv() => match received {
                    Ok(Some(_)) => wake.notify_one(),
                    Ok(None) => {
                        tracing::warn!("listener connection was lost and re-established");
                        wake.notify_one();
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "listener failed; polling until it is back");
                        break;
                    }
                },
            }
        }
        if pause_or_stop(pause, &stop).await {
            return;
        }
    }
}

/// Sleeps for `pause`; `true` if `stop` came first.
async fn pause_or_stop(pause: Duration, stop: &CancellationToken) -> bool {
    tokio::select! {
        _ = stop.cancelled() => true,
        _ = tokio::time::sleep(pause) => false,
    }
}
