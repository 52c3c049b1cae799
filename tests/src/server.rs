//! The real server, in-process, on an ephemeral port.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use hubring::config::ServeArgs;
use tempfile::TempDir;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A running server and the data directory it stores in.
#[derive(Debug)]
pub struct TestServer {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
    /// Owns the directory when the server made it; `None` when the caller did.
    _dir: Option<TempDir>,
}

impl TestServer {
    /// A server with default settings in a fresh data directory.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A server in a fresh data directory, with `tune` adjusting its options.
    pub async fn start_with(tune: impl FnOnce(&mut ServeArgs)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut server = Self::start_in(dir.path(), tune).await;
        server._dir = Some(dir);
        server
    }

    /// A server whose data directory is in memory (`/dev/shm`, where there is one), for tests
    /// that time the server: on this project's shared VMs a commit's `fsync` now and then took
    /// 100–500 ms (a WAL checkpoint), which a probe of round trips measured as a stall of the
    /// server. What such tests judge is whether an attack holds up the runtime, not the disk.
    pub async fn start_on_tmpfs(tune: impl FnOnce(&mut ServeArgs)) -> Self {
        let shm = Path::new("/dev/shm");
        let dir = if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() };
        let dir = dir.expect("temp dir");
        let mut server = Self::start_in(dir.path(), tune).await;
        server._dir = Some(dir);
        server
    }

    /// A server on an existing data directory (to restart on the same data).
    pub async fn start_in(data_dir: &Path, tune: impl FnOnce(&mut ServeArgs)) -> Self {
        init_test_log();
        // The protocol tests open documents by name, outside any project; the access tests turn
        // this off.
        let mut args = ServeArgs {
            data_dir: Some(data_dir.to_owned()),
            open_docs: Some(true),
            ..Default::default()
        };
        tune(&mut args);
        let config = args.resolve_with(ServeArgs::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(hubring::run(config, listener, shutdown.clone()));
        Self { addr, data_dir: data_dir.to_owned(), shutdown, task, _dir: None }
    }

    /// The websocket URL of a document.
    pub fn doc_url(&self, doc: &str) -> String {
        format!("ws://{}/ws/doc/{doc}", self.addr)
    }

    /// An HTTP URL on this server.
    pub fn http_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Shuts down gracefully and waits until the server has stopped.
    pub async fn stop(self) -> Option<TempDir> {
        self.shutdown.cancel();
        self.task.await.expect("server task").expect("server run");
        self._dir
    }
}

/// Installs a log subscriber for a test run when `HUBRING_TEST_LOG` is set (e.g. `debug`).
pub(crate) fn init_test_log() {
    if let Ok(filter) = std::env::var("HUBRING_TEST_LOG") {
        let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
    }
}
