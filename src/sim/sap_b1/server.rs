//! Serving the simulator: the router, a listener whose connections can be killed from a
//! handler (how a "lost response" drops the connection before any byte is written), and
//! [`spawn`] for tests.
use axum::extract::connect_info::Connected;
use axum::middleware::from_fn_with_state;
use axum::routing::{any, post};
use axum::serve::{IncomingStream, Listener};
use axum::Router;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::control;
use super::gateway::gateway;
use super::handlers::service_layer;
use super::login::{login, logout};
use super::state::{SapSimConfig, SapSimState};

/// The whole simulator: `/b1s/v1/…` behind the gateway, plus `/sim/control/…`.
pub fn router(state: SapSimState) -> Router {
    let service_layer = Router::new()
        .route("/b1s/v1/Login", post(login))
        .route("/b1s/v1/Logout", post(logout))
        .route("/b1s/v1/{*path}", any(service_layer))
        .layer(from_fn_with_state(state.clone(), gateway));
    service_layer.merge(control::router()).with_state(state)
}

/// Serves the simulator on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    state: SapSimState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<ConnectionKill>();
    axum::serve(KillableListener(listener), app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Starts a simulator on `127.0.0.1:0` in the background; it stops when the handle is dropped.
pub async fn spawn(config: SapSimConfig) -> io::Result<SapSimHandle> {
    let state =
        SapSimState::new(config).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let stop = CancellationToken::new();
    let task = tokio::spawn(serve(
        listener,
        state.clone(),
        stop.clone().cancelled_owned(),
    ));
    Ok(SapSimHandle {
        state,
        addr,
        stop,
        task: Some(task),
    })
}

/// A running simulator. Dereferences to [`SapSimState`] for faults, stats and inspection.
pub struct SapSimHandle {
    state: SapSimState,
    addr: SocketAddr,
    stop: CancellationToken,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl SapSimHandle {
    /// The Service Layer root, e.g. `http://127.0.0.1:41234/b1s/v1` (what `SAP_B1_URL` holds).
    pub fn base_url(&self) -> String {
        format!("http://{}/b1s/v1", self.addr)
    }

    /// `http://127.0.0.1:PORT`, for the `/sim/control/…` endpoints.
    pub fn root_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn state(&self) -> &SapSimState {
        &self.state
    }

    /// Stops accepting, lets in-flight requests finish, and waits for the server to end.
    pub async fn shutdown(mut self) -> io::Result<()> {
        self.stop.cancel();
        match self.task.take() {
            Some(task) => task.await.map_err(io::Error::other)?,
            None => Ok(()),
        }
    }
}

impl Deref for SapSimHandle {
    type Target = SapSimState;
    fn deref(&self) -> &SapSimState {
        &self.state
    }
}

impl Drop for SapSimHandle {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Lets a handler abort its own connection: once killed, every read and write on the
/// connection fails, so hyper drops it without sending the response.
#[derive(Debug, Clone, Default)]
pub struct ConnectionKill(Arc<AtomicBool>);

impl ConnectionKill {
    pub fn kill(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    fn is_killed(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

impl Connected<IncomingStream<'_, KillableListener>> for ConnectionKill {
    fn connect_info(stream: IncomingStream<'_, KillableListener>) -> Self {
        stream.io().kill.clone()
    }
}

/// A TCP listener whose connections carry a [`ConnectionKill`].
pub struct KillableListener(TcpListener);

impl Listener for KillableListener {
    type Io = KillableStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, addr)) => {
                    let _ = stream.set_nodelay(true);
                    let io = KillableStream {
                        inner: stream,
                        kill: ConnectionKill::default(),
                    };
                    return (io, addr);
                }
                // Out of file descriptors and the like: wait a little rather than spin.
                Err(e) => {
                    tracing::warn!(error = %e, "SAP B1 simulator: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

pub struct KillableStream {
    inner: TcpStream,
    kill: ConnectionKill,
}

fn killed() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionAborted, "simulated lost response")
}

impl AsyncRead for KillableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.kill.is_killed() {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.kill.is_killed() {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.kill.is_killed() {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
