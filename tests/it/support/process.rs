//! The real `b1bridge` binary as a child process, its stdout and stderr in one file that a
//! failing test prints; killed when dropped.
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};

pub struct Spawned {
    child: Child,
    log: PathBuf,
}

impl Spawned {
    /// `b1bridge <args>` with only `env` (and `PATH`) in its environment.
    pub fn b1bridge(name: &str, args: &[&str], env: &[(&str, String)]) -> Self {
        let log = std::env::temp_dir().join(format!(
            "b1bridge-{name}-{}.log",
            uuid::Uuid::new_v4().simple()
        ));
        let out = std::fs::File::create(&log).expect("log file");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_b1bridge"));
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log file"))
            .stderr(out);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Self {
            child: cmd.spawn().expect("the b1bridge binary starts"),
            log,
        }
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM (the shell's `kill` builtin: no procps needed), then waits for the exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let sent = Command::new("sh")
            .args(["-c", &format!("kill -TERM {}", self.child.id())])
            .status()
            .expect("sh runs");
        assert!(sent.success());
        self.child.wait().expect("exits")
    }

    /// SIGKILL: no shutdown, no logout, leases left behind.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }

    /// The exit status if the process has ended.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("process status")
    }

    /// Waits for the process to end by itself.
    pub fn wait(&mut self) -> ExitStatus {
        self.child.wait().expect("exits")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Waits up to a minute for `GET {base}/readyz` to answer 2xx.
pub async fn ready(client: &reqwest::Client, base: &str) -> bool {
    super::wait_until(std::time::Duration::from_secs(60), || async {
        client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    })
    .await
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    b1bridge::demo::postgres::free_port().expect("a free port")
}
