//! The `hubring` server: configuration, startup, the HTTP router and the websocket endpoints.
//! This is the only crate that knows axum; it turns sockets into calls on `hubring-sync`.
//!
//! [`run`] is the whole server given a bound listener and a shutdown token; `main` and the
//! end-to-end tests both call it.

pub mod cli;
pub mod config;
mod http;
mod ws;

use std::sync::Arc;

use anyhow::Context;
use hubring_store::{Store, StoreOptions};
use hubring_sync::Registry;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::Config;

/// What every handler shares.
#[derive(Debug, Clone)]
pub(crate) struct AppState {
    pub(crate) config: Arc<Config>,
    pub(crate) store: Store,
    pub(crate) registry: Registry,
    pub(crate) tracker: TaskTracker,
}

/// Opens the store the configuration names, creating the data directory if needed, and runs
/// migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let options = StoreOptions { busy_timeout: config.store.busy_timeout, ..Default::default() };
    let store = match &config.store.database_url {
        Some(url) => Store::open_url(url, options).await?,
        None => {
            std::fs::create_dir_all(&config.store.data_dir).with_context(|| {
                format!("creating data directory {}", config.store.data_dir.display())
            })?;
            Store::open_path(&config.sqlite_path(), options).await?
        }
    };
    Ok(store)
}

/// Serves until `shutdown` fires, then stops accepting, lets every document commit what it has
/// queued, closes websockets with 1001 and returns.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    let tracker = TaskTracker::new();
    let registry =
        Registry::new(store.clone(), config.sync.clone(), tracker.clone(), shutdown.clone());
    let grace = config.shutdown_grace;
    let state = AppState {
        config: Arc::new(config),
        store: store.clone(),
        registry,
        tracker: tracker.clone(),
    };
    tracing::info!(addr = %listener.local_addr()?, "hubring listening");
    axum::serve(listener, http::router(state))
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .await
        .context("serving HTTP")?;
    tracker.close();
    if tokio::time::timeout(grace, tracker.wait()).await.is_err() {
        tracing::warn!(n_tasks = tracker.len(), "shutdown grace period over, exiting anyway");
    }
    store.close().await;
    tracing::info!("hubring stopped");
    Ok(())
}
