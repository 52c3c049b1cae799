//! End-to-end test support: [`TestServer`] runs the real server in-process on `127.0.0.1:0`,
//! [`DocClient`] is a y-websocket client built on tokio-tungstenite and yrs, [`ApiClient`] a
//! browser-like client of `/api/v1`.
//!
//! Tests wait for events (a frame, a state, a close), never for time to pass.

mod api;
pub mod board;
mod client;
pub mod document;
mod probe;
mod server;

pub use api::{ApiClient, PASSWORD, Reply, token_status};
pub use client::{DocClient, Event};
pub use probe::{HonestProbe, ProbeReport, one_attack_at_a_time};
pub use server::{TestServer, on_postgres, open_store_in};

/// Default upper bound on any wait in a test: long enough for a loaded CI machine, short
/// enough that a hang fails instead of stalling the suite.
pub const WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// Runs `command` (the real `hubring serve` with `--log-format json` and `--listen
/// 127.0.0.1:0`) and returns it with the address it listens on, read from its log. The log is
/// drained from then on so the server never blocks on a full pipe; `echo` prints it too.
///
/// # Panics
/// When the server does not start or exits before listening.
pub fn spawn_listening(
    command: &mut std::process::Command,
    echo: bool,
) -> (std::process::Child, std::net::SocketAddr) {
    use std::io::BufRead;
    let mut child = command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn hubring");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = std::io::BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines.next().expect("hubring exited before listening").expect("read log");
        let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
        if let Some(addr) = entry["fields"]["addr"].as_str() {
            break addr.parse().expect("addr");
        }
    };
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if echo {
                eprintln!("{line}");
            }
        }
    });
    (child, addr)
}

/// `tests/interop`: the npm packages the tests run under Node (the official Yjs clients, the
/// OpenAPI validator), locked in its `package-lock.json`.
pub fn interop_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("interop")
}

/// `web/`: the web client, its npm packages and its unit tests.
pub fn web_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web")
}

/// `tests/browser`: the browser tests (`playwright-core` driving Debian's Chromium, axe-core).
pub fn browser_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("browser")
}

/// Installs [`interop_dir`]'s packages (`npm ci`) unless `node_modules/{package}` is there.
pub async fn npm_ci(package: &str) -> anyhow::Result<()> {
    npm_ci_in(&interop_dir(), package).await
}

/// Installs `dir`'s locked npm packages unless `node_modules/{package}` is there.
pub async fn npm_ci_in(dir: &std::path::Path, package: &str) -> anyhow::Result<()> {
    if dir.join("node_modules").join(package).exists() {
        return Ok(());
    }
    let status = tokio::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .status()
        .await
        .map_err(|err| anyhow::anyhow!("npm is required for the Node tests: {err}"))?;
    anyhow::ensure!(status.success(), "npm ci failed in {}", dir.display());
    Ok(())
}

/// Runs `hubring admin ARGS --data-dir DIR` (the binary at `binary`, as a server test names it
/// with `env!("CARGO_BIN_EXE_hubring")`), typing `password` at its prompt. Returns whether it
/// succeeded and what it printed on standard error.
pub fn run_admin(
    binary: &std::path::Path,
    data_dir: &std::path::Path,
    args: &[&str],
    password: &str,
) -> (bool, String) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(binary)
        .arg("admin")
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hubring admin");
    let mut stdin = child.stdin.take().expect("stdin");
    writeln!(stdin, "{password}").expect("write the password");
    drop(stdin);
    let out = child.wait_with_output().expect("hubring admin runs");
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}
