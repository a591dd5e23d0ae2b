//! Serving the simulator, and [`spawn`] for tests.
use axum::Router;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::control;
use super::gateway::no_route;
use super::routes;
use super::state::{MagentoSimConfig, MagentoSimState};

/// The whole simulator: `/rest/{store}/V1/…` behind the gateway, plus `/sim/control/…`.
pub fn router(state: MagentoSimState) -> Router {
    routes::router(state.clone())
        .merge(control::router())
        .fallback(no_route)
        .with_state(state)
}

pub async fn serve(
    listener: TcpListener,
    state: MagentoSimState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Starts a simulator on `127.0.0.1:0` in the background; it stops when the handle is dropped.
pub async fn spawn(config: MagentoSimConfig) -> io::Result<MagentoSimHandle> {
    let state =
        MagentoSimState::new(config).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let stop = CancellationToken::new();
    let task = tokio::spawn(serve(
        listener,
        state.clone(),
        stop.clone().cancelled_owned(),
    ));
    Ok(MagentoSimHandle {
        state,
        addr,
        stop,
        task: Some(task),
    })
}

/// A running simulator; [`state`](Self::state) gives faults, stats and inspection.
pub struct MagentoSimHandle {
    state: MagentoSimState,
    addr: SocketAddr,
    stop: CancellationToken,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl MagentoSimHandle {
    /// The REST root of the `default` store, e.g. `http://127.0.0.1:41234/rest/default`
    /// (what `MAGENTO_URL` holds).
    pub fn base_url(&self) -> String {
        format!("{}/rest/default", self.root_url())
    }

    /// `http://127.0.0.1:PORT`, for the `/sim/control/…` endpoints.
    pub fn root_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn state(&self) -> &MagentoSimState {
        &self.state
    }

    pub async fn shutdown(mut self) -> io::Result<()> {
        self.stop.cancel();
        match self.task.take() {
            Some(task) => task.await.map_err(io::Error::other)?,
            None => Ok(()),
        }
    }
}

impl Drop for MagentoSimHandle {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
