//! The servers under test, started as child processes on loopback: Hubring (release binary,
//! persistence on, its own data directory) and the Node.js reference servers installed from npm
//! into `peers/`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

use crate::client::{Dialect, Target};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Server {
    /// `hubring serve`, SQLite, every edit committed before it is forwarded.
    Hubring,
    /// `@y/websocket-server`, the y-websocket reference server, in memory.
    YWebsocket,
    /// `@hocuspocus/server`, in memory.
    Hocuspocus,
}

impl Server {
    pub fn name(self) -> &'static str {
        match self {
            Server::Hubring => "hubring",
            Server::YWebsocket => "y-websocket",
            Server::Hocuspocus => "hocuspocus",
        }
    }
}

/// Where the servers' programs are.
#[derive(Debug, Clone)]
pub struct Programs {
    pub hubring: PathBuf,
    pub peers_dir: PathBuf,
    /// Run servers on this CPU only (`taskset`).
    pub pin_cpu: Option<usize>,
}

impl Programs {
    /// `hubring` next to this binary (both are built into the same target directory).
    pub fn default_hubring() -> PathBuf {
        std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.join("hubring")))
            .unwrap_or_else(|| PathBuf::from("hubring"))
    }

    pub fn default_peers_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("peers")
    }

    /// Installs the peers from the lock file, unless they already are.
    pub async fn install_peers(&self) -> anyhow::Result<()> {
        if self.peers_dir.join("node_modules/.package-lock.json").exists() {
            return Ok(());
        }
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&self.peers_dir)
            .stdout(Stdio::null())
            .status()
            .await
            .context("running npm ci for the peer servers (is npm installed?)")?;
        anyhow::ensure!(status.success(), "npm ci in {} failed", self.peers_dir.display());
        Ok(())
    }
}

/// A running server.
#[derive(Debug)]
pub struct Running {
    pub server: Server,
    pub pid: u32,
    pub port: u16,
    child: Child,
    /// Hubring's data directory, removed when dropped.
    data: Option<tempfile::TempDir>,
}

impl Running {
    /// Starts `server` on a free loopback port; Hubring in `data_dir` or a fresh one.
    pub async fn start(
        server: Server,
        programs: &Programs,
        data_dir: Option<&Path>,
    ) -> anyhow::Result<Self> {
        let port = free_port()?;
        let (program, args, data) = match server {
            Server::Hubring => {
                let (dir, data) = match data_dir {
                    Some(dir) => (dir.to_owned(), None),
                    None => {
                        let tmp = tempfile::tempdir()?;
                        (tmp.path().to_owned(), Some(tmp))
                    }
                };
                let args = vec![
                    "serve".to_owned(),
                    "--listen".to_owned(),
                    format!("127.0.0.1:{port}"),
                    "--data-dir".to_owned(),
                    dir.display().to_string(),
                    // The workloads open documents by name, outside any project, like the
                    // peers (which have no accounts).
                    "--open-docs".to_owned(),
                    // Every load-generator client comes from this one address.
                    "--max-connections-per-address".to_owned(),
                    "0".to_owned(),
                ];
                (programs.hubring.display().to_string(), args, data)
            }
            Server::YWebsocket => {
                let script =
                    programs.peers_dir.join("node_modules/@y/websocket-server/src/server.js");
                ("node".to_owned(), vec![script.display().to_string()], None)
            }
            Server::Hocuspocus => {
                let script = programs.peers_dir.join("hocuspocus.mjs");
                ("node".to_owned(), vec![script.display().to_string(), port.to_string()], None)
            }
        };
        let mut cmd = match programs.pin_cpu {
            Some(cpu) => {
                let mut cmd = Command::new("taskset");
                cmd.args(["-c", &cpu.to_string(), &program]);
                cmd
            }
            None => Command::new(&program),
        };
        cmd.args(&args)
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("HUBRING_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let child = cmd.spawn().with_context(|| format!("starting {}", server.name()))?;
        let pid = child.id().context("server exited at once")?;
        let mut running = Self { server, pid, port, child, data };
        running.wait_listening().await?;
        Ok(running)
    }

    async fn wait_listening(&mut self) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("{} exited before listening: {status}", self.server.name());
            }
            if tokio::time::Instant::now() > deadline {
                bail!("{} did not listen on port {} within 30 s", self.server.name(), self.port);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn target(&self) -> Target {
        match self.server {
            Server::Hubring => Target {
                url: format!("ws://127.0.0.1:{}/ws/doc/{{doc}}", self.port),
                dialect: Dialect::YWebsocket,
            },
            Server::YWebsocket => Target {
                url: format!("ws://127.0.0.1:{}/{{doc}}", self.port),
                dialect: Dialect::YWebsocket,
            },
            Server::Hocuspocus => Target {
                url: format!("ws://127.0.0.1:{}", self.port),
                dialect: Dialect::Hocuspocus,
            },
        }
    }

    /// Stops with SIGTERM (Hubring then commits, compacts and closes its sockets), SIGKILL after
    /// 30 s. Returns the data directory, if this server owned one.
    pub async fn stop(mut self) -> anyhow::Result<Option<tempfile::TempDir>> {
        let _ = Command::new("kill").args(["-TERM", &self.pid.to_string()]).status().await;
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(status) => {
                status?;
            }
            Err(_) => {
                self.child.kill().await?;
            }
        }
        Ok(self.data.take())
    }
}

/// A port the kernel just handed out; free again once the probe socket closes.
fn free_port() -> anyhow::Result<u16> {
    let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(probe.local_addr()?.port())
}
