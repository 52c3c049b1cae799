//! Throwaway services for tests, started by the test process and gone with it.
//!
//! [`postgres`] starts one PostgreSQL cluster per test process (the first test to ask starts it,
//! the others share it) in a temporary directory, listening on 127.0.0.1 at a free port, and
//! [`Postgres::fresh_database`] gives each test its own empty database. The server runs as a
//! child of a thread that lives as long as the process, with `setpriv --pdeathsig`: when the
//! test process exits, however it exits, PostgreSQL gets SIGQUIT (immediate shutdown) and its
//! directory is removed by the next run. Run as root, it runs as the `postgres` account, since
//! PostgreSQL refuses to run as root.
//!
//! [`Redis`] and [`Nginx`] are per test: each starts on a free port and stops when its handle
//! drops (or, through the same parent-death signal, when the test process dies).
//!
//! [`SmtpSink`] is per test too: an SMTP server whose received messages the test reads.
//!
//! Nothing here skips: a missing program is a panic that says how to install it.

mod nginx;
mod process;
mod redis;
mod smtp;

pub use nginx::Nginx;
pub use process::Process;
pub use redis::Redis;
pub use smtp::SmtpSink;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A running throwaway cluster.
#[derive(Debug)]
pub struct Postgres {
    bin: PathBuf,
    port: u16,
    dir: PathBuf,
    user: Option<String>,
}

static CLUSTER: OnceLock<Postgres> = OnceLock::new();
static DATABASES: AtomicU32 = AtomicU32::new(0);

/// The test process's cluster, started on first use.
///
/// # Panics
/// When PostgreSQL is not installed or does not start: the message says why.
pub fn postgres() -> &'static Postgres {
    CLUSTER.get_or_init(|| Postgres::start().unwrap_or_else(|err| panic!("{err}")))
}

impl Postgres {
    /// A new empty database of the cluster, as a URL.
    ///
    /// # Panics
    /// When the cluster refuses to create it.
    pub fn fresh_database(&self) -> String {
        let n = DATABASES.fetch_add(1, Ordering::Relaxed);
        let name = format!("t{}_{n}", std::process::id());
        self.psql(&format!("CREATE DATABASE {name}")).unwrap_or_else(|err| panic!("{err}"));
        self.url(&name)
    }

    /// The URL of database `name` on this cluster.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs one SQL command as the cluster's superuser.
    ///
    /// # Errors
    /// The command's error output.
    pub fn psql(&self, sql: &str) -> Result<(), String> {
        let out = Command::new(self.bin.join("psql"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres"])
            .args(["-d", "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
            .output()
            .map_err(|err| format!("psql did not run: {err}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("psql {sql:?}: {}", String::from_utf8_lossy(&out.stderr)))
        }
    }

    fn start() -> Result<Self, String> {
        let bin = bin_dir()?;
        let user = is_root().then(|| "postgres".to_owned());
        let root = std::env::temp_dir().join("hubring-testkit");
        std::fs::create_dir_all(&root).map_err(|err| format!("{}: {err}", root.display()))?;
        remove_stale(&root);
        let dir = root.join(format!("pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|err| format!("{}: {err}", dir.display()))?;
        if let Some(user) = &user {
            run(Command::new("chown").args(["-R", user]).arg(&dir))?;
        }
        let data = dir.join("data");
        run(as_user(user.as_deref(), &bin.join("initdb"))
            .args(["-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "-D"])
            .arg(&data))?;
        for _ in 0..3 {
            let port = free_port()?;
            let pg = Self { bin: bin.clone(), port, dir: dir.clone(), user: user.clone() };
            if pg.run_server(&data)? {
                return Ok(pg);
            }
        }
        Err(format!("PostgreSQL did not start; its log: {}", dir.join("log").display()))
    }

    /// Starts the server in a thread that lives as long as the process (the parent-death
    /// signal follows the thread that spawned the child) and waits until it accepts
    /// connections; false when it exited first (its port was taken meanwhile).
    fn run_server(&self, data: &Path) -> Result<bool, String> {
        let log = std::fs::File::create(self.dir.join("log")).map_err(|err| err.to_string())?;
        let mut command = Command::new("setpriv");
        command.args(["--pdeathsig", "QUIT"]);
        if let Some(user) = &self.user {
            command.args(["--reuid", user, "--regid", user, "--init-groups"]);
        }
        command
            .arg(self.bin.join("postgres"))
            .arg("-D")
            .arg(data)
            .args(["-p", &self.port.to_string(), "-k"])
            .arg(&self.dir)
            // Throwaway data: no fsync. Enough connections for many servers at once.
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
            .args(["-c", "full_page_writes=off", "-c", "max_connections=400"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|err| err.to_string())?)
            .stderr(log);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("testkit-postgres".into())
            .spawn(move || match command.spawn() {
                Ok(mut child) => {
                    let _ = tx.send(Ok(()));
                    let _ = child.wait();
                    // Parked for good: this thread's end would stop the server.
                    loop {
                        std::thread::park();
                    }
                }
                Err(err) => {
                    let _ = tx.send(Err(format!(
                        "could not run setpriv and postgres (util-linux, postgresql): {err}"
                    )));
                }
            })
            .map_err(|err| err.to_string())?;
        rx.recv().map_err(|err| err.to_string())??;
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let ready = Command::new(self.bin.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
                .status()
                .map_err(|err| err.to_string())?;
            if ready.success() {
                return Ok(true);
            }
            let log = std::fs::read_to_string(self.dir.join("log")).unwrap_or_default();
            if log.contains("could not bind") || log.contains("database system is shut down") {
                return Ok(false);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(false)
    }
}

/// The newest installed PostgreSQL's programs (`HUBRING_PG_BIN` overrides).
fn bin_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("HUBRING_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("postgres").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(|| {
        "the tests need PostgreSQL (Debian: apt-get install postgresql; or set HUBRING_PG_BIN \
         to the directory holding initdb and postgres)"
            .to_owned()
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn as_user(user: Option<&str>, program: &Path) -> Command {
    match user {
        Some(user) => {
            let mut command = Command::new("setpriv");
            command.args(["--reuid", user, "--regid", user, "--init-groups"]).arg(program);
            command
        }
        None => Command::new(program),
    }
}

fn run(command: &mut Command) -> Result<(), String> {
    let out = command.output().map_err(|err| format!("{command:?}: {err}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

pub(crate) fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|err| err.to_string())?;
    listener.local_addr().map(|addr| addr.port()).map_err(|err| err.to_string())
}

/// Removes the directories of earlier test processes that are gone.
fn remove_stale(root: &Path) {
    for entry in std::fs::read_dir(root).into_iter().flatten().flatten() {
        let name = entry.file_name();
        // `pg-PID`, `redis-PID-N`, `nginx-PID-N`.
        let pid = name.to_str().and_then(|n| n.split('-').nth(1)).and_then(|p| p.parse().ok());
        if pid.is_some_and(|pid: u32| !Path::new(&format!("/proc/{pid}")).exists()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
