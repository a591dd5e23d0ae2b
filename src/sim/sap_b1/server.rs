//! Serving the simulator: the router, a listener whose connections can be killed from a
//! handler (how a "lost response" drops the connection before any byte is written), over
//! plain HTTP or TLS, and [`spawn`] for tests.
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
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_util::either::Either;
use tokio_util::sync::CancellationToken;

use super::control;
use super::gateway::gateway;
use super::handlers::service_layer;
use super::login::{login, logout};
use super::state::{SapSimConfig, SapSimState};

/// A client that opens a connection and never finishes the TLS handshake is dropped after this.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The whole simulator: `/b1s/v1/…` behind the gateway, plus `/sim/control/…`.
pub fn router(state: SapSimState) -> Router {
    let service_layer = Router::new()
        .route("/b1s/v1/Login", post(login))
        .route("/b1s/v1/Logout", post(logout))
        .route("/b1s/v1/{*path}", any(service_layer))
        .layer(from_fn_with_state(state.clone(), gateway));
    service_layer.merge(control::router()).with_state(state)
}

/// Serves the simulator on `listener` until `shutdown` resolves; over HTTPS when the
/// configuration had a [`TlsIdentity`](super::TlsIdentity).
pub async fn serve(
    listener: TcpListener,
    state: SapSimState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let listener = KillableListener {
        tcp: listener,
        tls: state.tls().map(|identity| identity.acceptor()),
        handshakes: JoinSet::new(),
    };
    let app = router(state).into_make_service_with_connect_info::<ConnectionKill>();
    axum::serve(listener, app)
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
    /// The Service Layer root, e.g. `http://127.0.0.1:41234/b1s/v1` (what `SAP_B1_URL` holds);
    /// `https://…` when the simulator serves TLS.
    pub fn base_url(&self) -> String {
        format!("{}/b1s/v1", self.root_url())
    }

    /// `http(s)://127.0.0.1:PORT`, for the `/sim/control/…` endpoints.
    pub fn root_url(&self) -> String {
        format!("{}://{}", self.state.scheme(), self.addr)
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

/// A TCP listener whose connections carry a [`ConnectionKill`]. With TLS, handshakes run
/// concurrently in `handshakes`, so one slow client cannot hold up the others.
pub struct KillableListener {
    tcp: TcpListener,
    tls: Option<TlsAcceptor>,
    handshakes: JoinSet<Option<(TlsStream<TcpStream>, SocketAddr)>>,
}

impl Listener for KillableListener {
    type Io = KillableStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            tokio::select! {
                accepted = self.tcp.accept() => match accepted {
                    Ok((stream, addr)) => {
                        let _ = stream.set_nodelay(true);
                        match &self.tls {
                            None => return (KillableStream::new(Either::Left(stream)), addr),
                            Some(acceptor) => {
                                self.handshakes.spawn(handshake(acceptor.clone(), stream, addr));
                            }
                        }
                    }
                    // Out of file descriptors and the like: wait a little rather than spin.
                    Err(e) => {
                        tracing::warn!(error = %e, "SAP B1 simulator: accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
                Some(done) = self.handshakes.join_next() => {
                    if let Ok(Some((stream, addr))) = done {
                        return (KillableStream::new(Either::Right(stream)), addr);
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }
}

/// A failed handshake (a client that does not trust the certificate, say) only ends that
/// connection.
async fn handshake(
    acceptor: TlsAcceptor,
    stream: TcpStream,
    addr: SocketAddr,
) -> Option<(TlsStream<TcpStream>, SocketAddr)> {
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => Some((tls, addr)),
        Ok(Err(e)) => {
            tracing::info!(%addr, error = %e, "SAP B1 simulator: TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::info!(%addr, "SAP B1 simulator: TLS handshake timed out");
            None
        }
    }
}

/// One accepted connection, plain or TLS; once killed, every read and write fails.
pub struct KillableStream {
    inner: Either<TcpStream, TlsStream<TcpStream>>,
    kill: ConnectionKill,
}

impl KillableStream {
    fn new(inner: Either<TcpStream, TlsStream<TcpStream>>) -> Self {
        Self {
            inner,
            kill: ConnectionKill::default(),
        }
    }
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
