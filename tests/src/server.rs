//! The real server, in-process, on an ephemeral port.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use hubring::config::ServeArgs;
use hubring_store::{Store, StoreOptions};
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
    ///
    /// With `HUBRING_TEST_DATABASE=postgres` the server stores in a fresh database of the test
    /// process's throwaway PostgreSQL cluster instead of SQLite; its URL is kept in the data
    /// directory, so a restart on the same directory finds the same database.
    pub async fn start_in(data_dir: &Path, tune: impl FnOnce(&mut ServeArgs)) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        Self::start_bound(data_dir, listener, tune).await
    }

    /// A server that sends email through `smtp` (retrying after a second), in a fresh data
    /// directory; its public URL is its own address, as the links in emails need.
    pub async fn start_mailing(smtp: &str, tune: impl FnOnce(&mut ServeArgs)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut server = Self::start_mailing_in(dir.path(), smtp, None, tune).await;
        server._dir = Some(dir);
        server
    }

    /// [`TestServer::start_mailing`] on an existing data directory, on `addr` if given (to
    /// restart where the links already sent point).
    pub async fn start_mailing_in(
        data_dir: &Path,
        smtp: &str,
        addr: Option<SocketAddr>,
        tune: impl FnOnce(&mut ServeArgs),
    ) -> Self {
        let at = addr.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let listener = tokio::net::TcpListener::bind(at).await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let smtp = smtp.to_owned();
        Self::start_bound(data_dir, listener, move |args| {
            args.smtp_url = Some(smtp);
            args.public_url = Some(format!("http://{addr}"));
            args.mail_retry_secs = Some(1);
            tune(args);
        })
        .await
    }

    /// A server on `listener`, with `tune` adjusting its options.
    async fn start_bound(
        data_dir: &Path,
        listener: tokio::net::TcpListener,
        tune: impl FnOnce(&mut ServeArgs),
    ) -> Self {
        init_test_log();
        // The protocol tests open documents by name, outside any project; the access tests turn
        // this off.
        let mut args = ServeArgs {
            data_dir: Some(data_dir.to_owned()),
            database_url: database_url_for(data_dir),
            open_docs: Some(true),
            ..Default::default()
        };
        tune(&mut args);
        let config = args.resolve_with(ServeArgs::default());
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

    /// Opens the store this server stores in, as another process would.
    pub async fn open_store(&self) -> anyhow::Result<Store> {
        open_store_in(&self.data_dir).await
    }

    /// Shuts down gracefully and waits until the server has stopped.
    pub async fn stop(self) -> Option<TempDir> {
        self.shutdown.cancel();
        self.task.await.expect("server task").expect("server run");
        self._dir
    }
}

/// Which engine the end-to-end tests run on: `HUBRING_TEST_DATABASE=postgres` or SQLite.
pub fn on_postgres() -> bool {
    std::env::var("HUBRING_TEST_DATABASE").is_ok_and(|engine| engine == "postgres")
}

/// The database URL of the data directory's server: `None` (SQLite in the directory), or on
/// PostgreSQL the database made for it at its first start.
fn database_url_for(data_dir: &Path) -> Option<String> {
    if !on_postgres() {
        return None;
    }
    let file = data_dir.join("test-database-url");
    if let Ok(url) = std::fs::read_to_string(&file) {
        return Some(url);
    }
    let url = hubring_testkit::postgres().fresh_database();
    std::fs::write(&file, &url).expect("write the test database's URL");
    Some(url)
}

/// Opens the store of the server that ran (or runs) on `data_dir`.
pub async fn open_store_in(data_dir: &Path) -> anyhow::Result<Store> {
    let options = StoreOptions::default();
    Ok(match database_url_for(data_dir) {
        Some(url) => Store::open_url(&url, options).await?,
        None => Store::open_path(&data_dir.join("hubring.sqlite"), options).await?,
    })
}

/// Installs a log subscriber for a test run when `HUBRING_TEST_LOG` is set (e.g. `debug`).
pub(crate) fn init_test_log() {
    if let Ok(filter) = std::env::var("HUBRING_TEST_LOG") {
        let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
    }
}
