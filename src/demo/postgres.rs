//! A private Postgres for one demo run: `initdb` into a fresh temporary directory, started on
//! a free port with its socket in that directory (so it meets no other server), stopped and
//! deleted when dropped. Postgres refuses to run as root, so as root the cluster belongs to,
//! and runs as, the `postgres` user (else `nobody`), through `runuser`.
use anyhow::{bail, Context};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A running private cluster; dropping it stops the server and removes every file.
pub struct PrivatePostgres {
    dir: PathBuf,
    bin: PathBuf,
    run_as: Option<String>,
    port: u16,
    started: bool,
}

impl PrivatePostgres {
    /// Creates and starts the cluster (a few seconds: `initdb` writes the catalogue).
    pub fn start() -> anyhow::Result<Self> {
        let bin = bindir()?;
        let dir = std::env::temp_dir().join(format!(
            "b1bridge-demo-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let is_root = std::fs::metadata(&dir)?.uid() == 0;
        let mut pg = Self {
            run_as: None,
            dir,
            bin,
            port: free_port()?,
            started: false,
        };
        if is_root {
            let user = unprivileged_user()?;
            let status = Command::new("chown")
                .arg(format!("{user}:"))
                .arg(&pg.dir)
                .status()?;
            if !status.success() {
                bail!("cannot hand {} to the user {user}", pg.dir.display());
            }
            pg.run_as = Some(user);
        }
        let data = pg.data();
        pg.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "--auth=trust".as_ref(),
                "--username=postgres".as_ref(),
                "--encoding=UTF8".as_ref(),
                "--no-sync".as_ref(),
            ],
        )?;
        pg.start_server()?;
        pg.started = true;
        Ok(pg)
    }

    /// Stops the server the hard way (`immediate`: no checkpoint, every connection cut, as a
    /// crash would), leaves it down for `down`, and starts it again on the same port; the data
    /// survives through crash recovery. For the chaos run.
    pub fn crash_and_restart(&self, down: std::time::Duration) -> anyhow::Result<()> {
        let data = self.data();
        self.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-m".as_ref(),
                "immediate".as_ref(),
                "-w".as_ref(),
                "stop".as_ref(),
            ],
        )?;
        std::thread::sleep(down);
        self.start_server()
    }

    /// `pg_ctl start` on this cluster's port, socket directory and log, waiting until it
    /// accepts connections.
    fn start_server(&self) -> anyhow::Result<()> {
        let data = self.data();
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("server.log");
        let args: [&std::ffi::OsStr; 10] = [
            "-D".as_ref(),
            data.as_os_str(),
            "-l".as_ref(),
            log.as_os_str(),
            "-w".as_ref(),
            "-t".as_ref(),
            "60".as_ref(),
            "-o".as_ref(),
            options.as_ref(),
            "start".as_ref(),
        ];
        self.run("pg_ctl", &args).with_context(|| {
            format!(
                "Postgres did not start; its log: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        })
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres` (trust authentication, local only).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Runs one of the cluster's programs (as the unprivileged user when we are root), its
    /// output kept for the error.
    fn run(&self, program: &str, args: &[&std::ffi::OsStr]) -> anyhow::Result<()> {
        let path = self.bin.join(program);
        let mut cmd = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&path);
                c
            }
            None => Command::new(&path),
        };
        // The cluster's programs must not inherit our working directory when it is not
        // readable by their user (root's home, say); and a group of their own keeps a
        // terminal's Ctrl-C away from the server, which the demo stops itself, last.
        let output = cmd
            .args(args)
            .current_dir(&self.dir)
            .process_group(0)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("cannot run {}", path.display()))?;
        if !output.status.success() {
            bail!(
                "{program} failed ({}): {}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        if self.started {
            let data = self.data();
            // Fast mode: the demo's connections are closed by now; nothing is worth waiting for.
            if let Err(e) = self.run(
                "pg_ctl",
                &[
                    "-D".as_ref(),
                    data.as_os_str(),
                    "-m".as_ref(),
                    "fast".as_ref(),
                    "-w".as_ref(),
                    "stop".as_ref(),
                ],
            ) {
                eprintln!("demo: could not stop the private Postgres: {e:#}");
            }
        }
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            eprintln!("demo: could not remove {}: {e}", self.dir.display());
        }
    }
}

/// Debian's layout: `/usr/lib/postgresql/<major>/bin`, the newest major first; else the
/// directory of an `initdb` on the PATH.
fn bindir() -> anyhow::Result<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((major, bin))
        })
        .collect();
    found.sort();
    if let Some((_, bin)) = found.pop() {
        return Ok(bin);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
        .context(
            "no DATABASE_URL and no Postgres server programs (initdb, pg_ctl) found under \
             /usr/lib/postgresql/*/bin or on the PATH: install Postgres (Debian: \
             `apt-get install postgresql`) or set DATABASE_URL",
        )
}

/// The user a root-started cluster runs as: `postgres` when it exists, else `nobody`.
fn unprivileged_user() -> anyhow::Result<String> {
    for user in ["postgres", "nobody"] {
        let exists = Command::new("id")
            .arg("-u")
            .arg(user)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if exists {
            return Ok(user.to_owned());
        }
    }
    bail!("running as root, and neither a `postgres` nor a `nobody` user exists to run Postgres")
}

/// A port nobody listens on now. (Another process could take it before Postgres binds it;
/// Postgres then fails to start and says so.)
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
