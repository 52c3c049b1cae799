//! The `hubring` server: configuration, startup, the HTTP router and the websocket endpoints.
//! This is the only crate that knows axum; it turns sockets into calls on `hubring-sync`.
//!
//! [`run`] is the whole server given a bound listener and a shutdown token; `main` and the
//! end-to-end tests both call it.

mod api;
pub mod cli;
pub mod config;
mod http;
mod live;
mod mailer;
mod notifications;
mod presence;
mod render;
mod room;
mod serve;
mod web;
mod ws;

use std::sync::Arc;

use anyhow::Context;
use hubring_cluster::Redis;
use hubring_store::{Engine, Store, StoreOptions};
use hubring_sync::Registry;
use hubring_workspace::{MailSetting, SignupPolicy, Workspace, WorkspaceConfig};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::Config;
use config::SignupMode;
use live::LiveConns;

/// What every handler shares.
#[derive(Debug, Clone)]
pub(crate) struct AppState {
    pub(crate) config: Arc<Config>,
    pub(crate) store: Store,
    pub(crate) registry: Registry,
    pub(crate) tracker: TaskTracker,
    pub(crate) workspace: Workspace,
    /// Signed-in document connections, closed when access changes.
    pub(crate) live: Arc<LiveConns>,
    pub(crate) auth_limiter: Arc<api::AuthLimiter>,
    /// Video rooms.
    pub(crate) sfu: hubring_rtc::Sfu,
    /// Board drawings, bounded, and the thumbnails drawn.
    pub(crate) renderer: Arc<render::Renderer>,
    /// Open connections against their limits.
    pub(crate) gate: Arc<serve::Gate>,
    /// Redis, when other nodes serve the same database.
    pub(crate) cluster: Option<Arc<Redis>>,
    /// Rooms this node hosts, with how many of their participants are here.
    pub(crate) hosted: Arc<dashmap::DashMap<String, usize>>,
    /// The process's shutdown signal, for long-lived responses (the notification stream).
    pub(crate) shutdown: CancellationToken,
}

/// The OpenAPI document of `/api/v1`, as served at `/api/v1/openapi.json`.
pub fn openapi() -> serde_json::Value {
    serde_json::to_value(api::router().1).expect("the OpenAPI document serializes")
}

/// The workspace's settings, from the server's configuration.
pub fn workspace_config(config: &Config) -> WorkspaceConfig {
    WorkspaceConfig {
        signup: match config.accounts.signup {
            SignupMode::Open => SignupPolicy::Open,
            SignupMode::InviteOnly => SignupPolicy::InviteOnly,
        },
        session_ttl: config.accounts.session_ttl,
        max_asset_bytes: config.max_asset_bytes,
        shared_store: config.store.redis_url.is_some(),
        mail: match (&config.mail.smtp_url, &config.accounts.public_origin) {
            (Some(_), Some(origin)) => MailSetting::On { base_url: origin.clone() },
            _ => MailSetting::Off,
        },
        remind_before: config.mail.remind_before,
        ..WorkspaceConfig::default()
    }
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
    mut config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    if config.store.redis_url.is_some() && config.store.node_url.is_none() {
        // Other nodes forward video-room sockets to the node hosting the room: by default the
        // address this node listens on, when that is one they can reach.
        let addr = listener.local_addr()?;
        anyhow::ensure!(
            !addr.ip().is_unspecified(),
            "with --redis-url, give --node-url (this node's address for the other nodes): it \
             listens on {addr}, which names no one address"
        );
        config.store.node_url = Some(format!("http://{addr}"));
    }
    let mailer = mailer::Mailer::new(&config.mail)?.map(Arc::new);
    match &mailer {
        Some(_) => anyhow::ensure!(
            config.accounts.public_origin.is_some(),
            "--smtp-url needs --public-url: emails carry links to this server"
        ),
        None => tracing::warn!(
            "no SMTP server configured (--smtp-url): nothing is emailed; invitations are links \
             to pass on by hand, and passwords are reset with `hubring admin reset-password`"
        ),
    }
    let store = open_store(&config).await?;
    let tracker = TaskTracker::new();
    let mut registry =
        Registry::new(store.clone(), config.sync.clone(), tracker.clone(), shutdown.clone());
    let cluster = match &config.store.redis_url {
        Some(url) => {
            anyhow::ensure!(
                store.engine() == Engine::Postgres,
                "--redis-url serves several nodes from one database: give --database-url \
                 postgres://..."
            );
            let (redis, subscriber) = Redis::connect(url, REDIS_PREFIX)
                .await
                .with_context(|| format!("connecting to redis at {url}"))?;
            registry = registry.with_peers(Arc::clone(&redis) as _, redis.node());
            tracing::info!(node = redis.node(), "serving with other nodes through redis");
            Some((redis, subscriber))
        }
        None => None,
    };
    let grace = config.shutdown_grace;
    let workspace = Workspace::new(store.clone(), workspace_config(&config));
    workspace.warm_up().await.context("loading the workspace's document index")?;
    let (people, hubs) = workspace
        .read_places_into_codes()
        .await
        .context("reading languages and countries into ISO codes")?;
    if people + hubs > 0 {
        tracing::info!(people, hubs, "languages and countries read into ISO codes");
    }
    let purged = workspace.purge_expired_trash().await.context("emptying expired trash")?;
    if purged > 0 {
        tracing::info!(purged, "items purged from the trash after 30 days");
    }
    let auth_limiter = Arc::new(api::AuthLimiter::new(
        config.accounts.auth_per_minute,
        config.accounts.invites_per_hour,
    ));
    let sfu = hubring_rtc::Sfu::new(
        config.rtc.clone(),
        shutdown.clone(),
        Arc::new(room::StoreChatLog(store.clone())),
    );
    let gate = serve::Gate::new(serve::Limits {
        max_total: config.connections.max.unwrap_or_else(serve::default_max_connections),
        max_per_address: config.connections.max_per_address,
        header_timeout: config.connections.header_timeout,
    });
    let metrics_listener = match config.metrics.listen {
        Some(addr) => Some(
            TcpListener::bind(addr).await.with_context(|| format!("binding metrics on {addr}"))?,
        ),
        None => None,
    };
    let state = AppState {
        config: Arc::new(config),
        store: store.clone(),
        registry,
        tracker: tracker.clone(),
        workspace,
        live: Arc::default(),
        auth_limiter,
        sfu: sfu.clone(),
        renderer: Arc::default(),
        gate: gate.clone(),
        cluster: cluster.as_ref().map(|(redis, _)| Arc::clone(redis)),
        hosted: Arc::default(),
        shutdown: shutdown.clone(),
    };
    if let Some((redis, subscriber)) = cluster {
        state.live.connect(Arc::clone(&redis));
        subscriber.start(Arc::new(ClusterInbox(state.clone())), shutdown.clone());
        tracker.spawn(room::renew_room_leases(state.clone(), shutdown.clone()));
    }
    tracker.spawn(session_sweep_worker(store.clone(), shutdown.clone()));
    if let Some(mailer) = mailer {
        tracker.spawn(mailer::mail_worker(
            store.clone(),
            mailer,
            state.workspace.mail_queued(),
            shutdown.clone(),
        ));
    }
    tracker.spawn(notifications::bell_worker(state.clone(), shutdown.clone()));
    tracker.spawn(notifications::reminder_worker(state.clone(), shutdown.clone()));
    tracker.spawn(live::credential_check_worker(
        Arc::clone(&state.live),
        store.clone(),
        shutdown.clone(),
    ));
    tracing::info!(
        addr = %listener.local_addr()?,
        max_connections = gate.limits().max_total,
        "hubring listening"
    );
    if let Some(metrics) = metrics_listener {
        tracing::info!(addr = %metrics.local_addr()?, "metrics listening");
        // Its own small gate: the address is the operator's, but still bounded.
        let gate = serve::Gate::new(serve::Limits { max_total: 64, ..gate.limits() });
        let router = http::metrics_router(state.clone());
        tracker.spawn(serve::serve(metrics, router.clone(), router, gate, shutdown.clone()));
    }
    let spare = http::spare_router(state.clone());
    serve::serve(listener, http::router(state), spare, gate, shutdown.clone()).await;
    if tokio::time::timeout(grace, sfu.closed()).await.is_err() {
        tracing::warn!("video rooms still closing after the grace period");
    }
    tracker.close();
    if tokio::time::timeout(grace, tracker.wait()).await.is_err() {
        tracing::warn!(n_tasks = tracker.len(), "shutdown grace period over, exiting anyway");
    }
    store.close().await;
    tracing::info!("hubring stopped");
    Ok(())
}

/// The names of Hubring's Redis channels begin with this.
const REDIS_PREFIX: &str = "hubring:";

/// Where other nodes' messages go.
struct ClusterInbox(AppState);

impl hubring_cluster::Inbox for ClusterInbox {
    fn doc(&self, doc: &hubring_protocol::DocId, message: &bytes::Bytes) {
        self.0.registry.deliver(doc, message);
    }

    fn event(&self, message: &bytes::Bytes) {
        self.0.live.apply_event(message);
    }

    fn reconnected(&self) {
        // Documents read what they missed from the store; connections are checked again for
        // changes of access whose events were lost.
        self.0.registry.resync();
        let app = self.0.clone();
        self.0.tracker.spawn(async move {
            let n = app.live.recheck_all(&app.workspace).await;
            tracing::info!(n_closed = n, "access checked again after redis came back");
        });
    }
}

/// How often expired sign-ins are deleted (they are refused from the moment they expire).
const SESSION_SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Deletes expired sessions at start and then every [`SESSION_SWEEP_EVERY`], until shutdown.
async fn session_sweep_worker(store: Store, shutdown: CancellationToken) {
    let mut every = tokio::time::interval(SESSION_SWEEP_EVERY);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = every.tick() => {}
        }
        match store.delete_expired_logins().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(n_sessions = n, "expired sessions deleted"),
            Err(err) => tracing::warn!(%err, "deleting expired sessions failed"),
        }
    }
}
