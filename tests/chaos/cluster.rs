//! What the chaos run starts and breaks: a private Postgres, the SAP B1 and Magento
//! simulators on fixed loopback ports (so they can go down and come back where b1bridge
//! expects them, their data kept, as a restarted server keeps its database), and the
//! b1bridge processes, which it SIGKILLs and starts again.
use b1bridge::sim::{magento as magento_sim, sap_b1};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A simulator served on a fixed address; `down` stops listening (connections refused), `up`
/// listens again on the same address with the same state.
pub struct Served<S: Clone> {
    pub state: S,
    pub addr: SocketAddr,
    serving: Option<(CancellationToken, JoinHandle<()>)>,
    serve: fn(TcpListener, S, CancellationToken) -> JoinHandle<()>,
}

impl<S: Clone> Served<S> {
    async fn start(
        state: S,
        serve: fn(TcpListener, S, CancellationToken) -> JoinHandle<()>,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let stop = CancellationToken::new();
        let task = serve(listener, state.clone(), stop.clone());
        Ok(Self {
            state,
            addr,
            serving: Some((stop, task)),
            serve,
        })
    }

    pub fn root_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting at once; requests in progress finish (a graceful stop of the server).
    pub fn down(&mut self) {
        if let Some((stop, _task)) = self.serving.take() {
            stop.cancel();
        }
    }

    /// Listens again on the same address (retrying while the old socket is released).
    pub async fn up(&mut self) -> anyhow::Result<()> {
        if self.serving.is_some() {
            return Ok(());
        }
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(_) if tries < 100 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => return Err(e.into()),
            }
        };
        let stop = CancellationToken::new();
        let task = (self.serve)(listener, self.state.clone(), stop.clone());
        self.serving = Some((stop, task));
        Ok(())
    }
}

fn serve_sap(l: TcpListener, s: sap_b1::SapSimState, stop: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let _ = sap_b1::serve(l, s, stop.cancelled_owned()).await;
    })
}

fn serve_magento(
    l: TcpListener,
    s: magento_sim::MagentoSimState,
    stop: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let _ = magento_sim::serve(l, s, stop.cancelled_owned()).await;
    })
}

pub async fn start_sap(state: sap_b1::SapSimState) -> anyhow::Result<Served<sap_b1::SapSimState>> {
    Served::start(state, serve_sap).await
}

pub async fn start_magento(
    state: magento_sim::MagentoSimState,
) -> anyhow::Result<Served<magento_sim::MagentoSimState>> {
    Served::start(state, serve_magento).await
}

/// A port nobody listens on now, for a b1bridge process that must come back on the same one.
pub use b1bridge::demo::postgres::free_port;

/// One b1bridge process (`serve` or `worker`), its output appended to a log file that
/// survives restarts, so a failing run can show what each process said.
pub struct Process {
    pub name: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    pub log: PathBuf,
    child: Option<Child>,
    /// `http://127.0.0.1:PORT` for a `serve`.
    pub url: Option<String>,
    pub starts: u32,
}

impl Process {
    pub fn new(
        name: &str,
        args: &[&str],
        env: Vec<(String, String)>,
        url: Option<String>,
        dir: &std::path::Path,
    ) -> Self {
        Self {
            name: name.to_owned(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            env,
            log: dir.join(format!("{name}.log")),
            child: None,
            url,
            starts: 0,
        }
    }

    pub fn spawn(&mut self) -> anyhow::Result<()> {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let child = Command::new(env!("CARGO_BIN_EXE_b1bridge"))
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            // Warnings, less the schedulers' "skipped: the previous run is still going",
            // which the short intervals make constant.
            .env("RUST_LOG", "warn,b1bridge::scheduler=error")
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()?;
        self.child = Some(child);
        self.starts += 1;
        Ok(())
    }

    /// SIGKILL: no shutdown, no logout, leases and connections left behind.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM (the shell's `kill` builtin), then waits for the graceful exit.
    pub fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        let _ = Command::new("sh")
            .args(["-c", &format!("kill -TERM {}", child.id())])
            .status();
        child.wait().ok()
    }

    /// Whether it died on its own (a crash is a finding, not chaos).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits until `GET {url}/healthz` answers 200.
pub async fn wait_healthy(http: &reqwest::Client, url: &str, patience: Duration) -> bool {
    b1bridge::demo::traffic::wait(patience, || async {
        http.get(format!("{url}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    })
    .await
}
