//! The one typed configuration: flags, `HUBRING_*` environment variables and a TOML file
//! (`--config`), in that order of precedence, over safe defaults. Nothing else reads the
//! environment.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};
use hubring_doc::UpdateBudget;
use hubring_protocol::DocId;
use hubring_protocol::room::IceServer;
use hubring_rtc::RtcConfig;
use hubring_sync::SyncConfig;
use serde::Deserialize;

/// Options of `hubring serve`. Every field is optional here so a flag, the environment and the
/// file can be told apart; [`ServeArgs::resolve`] applies the defaults.
#[derive(Debug, Default, Clone, Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeArgs {
    /// TOML file with any of these options (snake_case keys, e.g. `data_dir = "/srv/hubring"`).
    /// Flags and environment variables override it.
    #[arg(long, env = "HUBRING_CONFIG", value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,

    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "HUBRING_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// Directory for the embedded SQLite database (`hubring.sqlite`, WAL mode)
    /// [default: ./hubring-data]
    #[arg(long, env = "HUBRING_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Database URL: `postgres://USER:PASSWORD@HOST/DATABASE` to store in PostgreSQL (several
    /// nodes may share it), or `sqlite:PATH`; overrides the data directory's database
    #[arg(long, env = "HUBRING_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,

    /// Redis URL (`redis://HOST:PORT[/DB]`): with a PostgreSQL database, any number of nodes
    /// serve the same documents, Redis carrying updates, presence and access changes between
    /// them [default: none, one node]
    #[arg(long, env = "HUBRING_REDIS_URL", value_name = "URL")]
    pub redis_url: Option<String>,

    /// This node's own address as the other nodes and the load balancer reach it (e.g.
    /// `http://10.0.0.5:8080`), where video rooms it hosts are found [default: none]
    #[arg(long, env = "HUBRING_NODE_URL", value_name = "URL")]
    pub node_url: Option<String>,

    /// Log format [default: human]
    #[arg(long, env = "HUBRING_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,

    /// Largest websocket frame accepted; a larger one closes the connection with 1009
    /// [default: 16777216 (16 MiB)]
    #[arg(long, env = "HUBRING_MAX_FRAME_BYTES", value_name = "BYTES")]
    pub max_frame_bytes: Option<usize>,

    /// Most structs (insertions, as Yjs merges them) one update may carry; more closes the
    /// connection with 1009 [default: 200000]
    #[arg(long, env = "HUBRING_MAX_UPDATE_STRUCTS", value_name = "N")]
    pub max_update_structs: Option<u64>,

    /// Most delete ranges one update may carry; more closes the connection with 1009
    /// [default: 50000]
    #[arg(long, env = "HUBRING_MAX_UPDATE_DELETES", value_name = "N")]
    pub max_update_deletes: Option<u64>,

    /// Make every document connection read-only [default: false]
    #[arg(long, env = "HUBRING_READ_ONLY_DOCS", num_args = 0..=1, default_missing_value = "true")]
    pub read_only_docs: Option<bool>,

    /// A document whose connections are read-only; repeat the flag or separate ids with commas
    #[arg(
        long = "read-only-doc",
        env = "HUBRING_READ_ONLY_DOC",
        value_name = "DOC_ID",
        value_delimiter = ','
    )]
    pub read_only_doc_ids: Option<Vec<DocId>>,

    /// Seconds a document with no connection stays in memory before it is saved and evicted
    /// [default: 30]
    #[arg(long, env = "HUBRING_DOC_IDLE_SECS", value_name = "SECS")]
    pub doc_idle_secs: Option<u64>,

    /// Updates in a document's log after which the log is merged into a snapshot [default: 1000]
    #[arg(long, env = "HUBRING_COMPACT_AFTER", value_name = "N")]
    pub compact_after: Option<usize>,

    /// Frames queued for one connection before it counts as too slow and is closed with 1013
    /// [default: 1024]
    #[arg(long, env = "HUBRING_OUTBOX_FRAMES", value_name = "N")]
    pub outbox_frames: Option<usize>,

    /// Milliseconds between the server's pings [default: 20000]
    #[arg(long, env = "HUBRING_PING_INTERVAL_MS", value_name = "MS")]
    pub ping_interval_ms: Option<u64>,

    /// Milliseconds without any frame or pong after which a client is closed [default: 60000]
    #[arg(long, env = "HUBRING_CLIENT_TIMEOUT_MS", value_name = "MS")]
    pub client_timeout_ms: Option<u64>,

    /// Milliseconds a store statement waits for a lock before the commit fails [default: 5000]
    #[arg(long, env = "HUBRING_STORE_BUSY_TIMEOUT_MS", value_name = "MS")]
    pub store_busy_timeout_ms: Option<u64>,

    /// Seconds shutdown waits for connections and commits to finish [default: 10]
    #[arg(long, env = "HUBRING_SHUTDOWN_GRACE_SECS", value_name = "SECS")]
    pub shutdown_grace_secs: Option<u64>,

    /// Who may create an account: `open`, or `invite-only` (an address a project invited, and
    /// the instance's first account) [default: open]
    #[arg(long, env = "HUBRING_SIGNUP", value_enum)]
    pub signup: Option<SignupMode>,

    /// The URL people reach this server at, e.g. `https://hubring.example.org`. Session cookies
    /// are `Secure` when it is https, and browsers' requests must come from its origin
    /// [default: the origin of each request's Host header]
    #[arg(long, env = "HUBRING_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,

    /// SMTP server emails leave through: `smtp://HOST[:PORT]` (plain, for a local relay),
    /// `smtp://USER:PASSWORD@HOST:587?tls=required` (STARTTLS) or `smtps://USER:PASSWORD@HOST`
    /// (TLS). Needs `--public-url` for the links in emails [default: none: nothing is emailed,
    /// and invitation links are shown to pass on by hand]
    #[arg(long, env = "HUBRING_SMTP_URL", value_name = "URL")]
    pub smtp_url: Option<String>,

    /// The sender of emails, `ADDRESS` or `NAME <ADDRESS>` [default: Hubring
    /// <hubring@HOST-OF-PUBLIC-URL>]
    #[arg(long, env = "HUBRING_MAIL_FROM", value_name = "ADDRESS")]
    pub mail_from: Option<String>,

    /// Seconds before an email the SMTP server refused is tried again; each further failure
    /// doubles it, up to an hour [default: 30]
    #[arg(long, env = "HUBRING_MAIL_RETRY_SECS", value_name = "SECS")]
    pub mail_retry_secs: Option<u64>,

    /// Minutes before a session starts that those coming are reminded (in the app, and by
    /// email as each chose) [default: 60]
    #[arg(long, env = "HUBRING_REMINDER_MINUTES", value_name = "MINUTES")]
    pub reminder_minutes: Option<u64>,

    /// Days a sign-in lasts [default: 30]
    #[arg(long, env = "HUBRING_SESSION_DAYS", value_name = "DAYS")]
    pub session_days: Option<u64>,

    /// Let anyone open, without an account, any document that belongs to no project, as before
    /// accounts existed. For benchmarks and protocol tests only; never on a real deployment
    /// [default: false]
    #[arg(long, env = "HUBRING_OPEN_DOCS", num_args = 0..=1, default_missing_value = "true")]
    pub open_docs: Option<bool>,

    /// Sign-in and sign-up attempts allowed per client address per minute [default: 20]
    #[arg(long, env = "HUBRING_AUTH_PER_MINUTE", value_name = "N")]
    pub auth_per_minute: Option<u32>,

    /// Invitations by email one person may send per hour (all at once if they like) [default:
    /// 100]
    #[arg(long, env = "HUBRING_INVITES_PER_HOUR", value_name = "N")]
    pub invites_per_hour: Option<u32>,

    /// Connections open at once, websockets included; past it a few spare places answer only
    /// /healthz and /readyz, then connections are closed at once [default: three quarters of
    /// the open-files limit]
    #[arg(long, env = "HUBRING_MAX_CONNECTIONS", value_name = "N")]
    pub max_connections: Option<usize>,

    /// Connections open at once from one client address (IPv6: from one /64); 0 for no limit.
    /// Behind a reverse proxy every client has the proxy's address: raise it or set 0 there
    /// [default: 1000]
    #[arg(long, env = "HUBRING_MAX_CONNECTIONS_PER_ADDRESS", value_name = "N")]
    pub max_connections_per_address: Option<usize>,

    /// Longest wait for a request's headers, including between requests on a kept-alive
    /// connection; a connection that sends none in time is closed [default: 20000]
    #[arg(long, env = "HUBRING_HEADER_TIMEOUT_MS", value_name = "MS")]
    pub header_timeout_ms: Option<u64>,

    /// Serve `/metrics` (Prometheus) on this separate address, e.g. `127.0.0.1:9090`; without it
    /// or `--metrics-token`, metrics are not served
    #[arg(long, env = "HUBRING_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,

    /// Serve `/metrics` on the main address to requests with `Authorization: Bearer TOKEN`
    #[arg(long, env = "HUBRING_METRICS_TOKEN", value_name = "TOKEN")]
    pub metrics_token: Option<String>,

    /// Largest file (an image) that may be uploaded into a project, in bytes [default: 10 MiB]
    #[arg(long, env = "HUBRING_MAX_ASSET_BYTES", value_name = "N")]
    pub max_asset_bytes: Option<usize>,

    /// Address the video rooms' media sockets bind to; 0.0.0.0 means every interface except
    /// loopback [default: 0.0.0.0]
    #[arg(long, env = "HUBRING_RTC_BIND", value_name = "IP")]
    pub rtc_bind: Option<IpAddr>,

    /// UDP ports for video-room media, `LOW-HIGH` inclusive; each participant takes one. Open
    /// them in the firewall [default: any free port]
    #[arg(long, env = "HUBRING_RTC_PORTS", value_name = "LOW-HIGH")]
    pub rtc_ports: Option<PortRange>,

    /// The public address browsers reach this server at, when it sits behind 1:1 NAT (a cloud
    /// VM): announced in place of the interface address
    #[arg(long, env = "HUBRING_PUBLIC_IP", value_name = "IP")]
    pub public_ip: Option<IpAddr>,

    /// A STUN or TURN server for browsers, `URL[,USERNAME,CREDENTIAL]` (e.g.
    /// `turn:turn.example.org:3478,hubring,secret`); repeat the flag or separate with `;`
    #[arg(
        long = "ice-server",
        env = "HUBRING_ICE_SERVERS",
        value_name = "SERVER",
        value_delimiter = ';'
    )]
    pub ice_servers: Option<Vec<IceServerArg>>,
}

/// A UDP port range, `LOW-HIGH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct PortRange(pub u16, pub u16);

impl std::str::FromStr for PortRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (low, high) = s.split_once('-').ok_or("expected LOW-HIGH, e.g. 40000-40999")?;
        let low: u16 = low.trim().parse().map_err(|_| format!("{low:?} is not a port"))?;
        let high: u16 = high.trim().parse().map_err(|_| format!("{high:?} is not a port"))?;
        if low == 0 || high < low {
            return Err("the range must be LOW-HIGH with 0 < LOW <= HIGH".into());
        }
        Ok(Self(low, high))
    }
}

impl TryFrom<String> for PortRange {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl TryFrom<String> for IceServerArg {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

/// A STUN/TURN server given on the command line: `URL[,USERNAME,CREDENTIAL]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct IceServerArg(pub IceServer);

impl std::str::FromStr for IceServerArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut parts = s.split(',').map(str::trim);
        let url = parts.next().filter(|u| !u.is_empty()).ok_or("an ICE server needs a URL")?;
        if !["stun:", "stuns:", "turn:", "turns:"].iter().any(|p| url.starts_with(p)) {
            return Err(format!("{url:?} is not a stun:, stuns:, turn: or turns: URL"));
        }
        let username = parts.next().map(str::to_owned);
        let credential = parts.next().map(str::to_owned);
        if url.starts_with("turn") && (username.is_none() || credential.is_none()) {
            return Err(format!("the TURN server {url:?} needs a username and a credential"));
        }
        Ok(Self(IceServer { urls: vec![url.to_owned()], username, credential }))
    }
}

/// Who may create an account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignupMode {
    /// Anyone.
    #[default]
    Open,
    /// Only an address a project invited (and the instance's first account).
    InviteOnly,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Readable lines for a terminal.
    #[default]
    Human,
    /// One JSON object per line, for a log collector.
    Json,
}

/// The resolved configuration, one sub-struct per part.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub log_format: LogFormat,
    pub store: StoreConfig,
    pub docs: DocsConfig,
    pub sync: SyncConfig,
    pub accounts: AccountsConfig,
    /// Largest uploaded file, in bytes.
    pub max_asset_bytes: usize,
    /// How long shutdown waits for connections and commits.
    pub shutdown_grace: Duration,
    /// Video rooms: media sockets, ports, the public address, STUN/TURN for browsers.
    pub rtc: RtcConfig,
    /// Connection limits and timeouts.
    pub connections: ConnectionsConfig,
    /// Where `/metrics` is served, if anywhere.
    pub metrics: MetricsConfig,
    /// Email: the SMTP server and the sender.
    pub mail: MailConfig,
}

/// Email (`crate::mailer`).
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// The SMTP server's URL; `None`: nothing is emailed.
    pub smtp_url: Option<String>,
    /// The `From` of every email; `None` until a public URL names a host.
    pub from: Option<String>,
    /// Wait before the first retry of a refused email (doubling, up to an hour).
    pub retry_base: Duration,
    /// How long before a session its reminder goes out.
    pub remind_before: Duration,
}

/// Connection limits and timeouts (`crate::serve`).
#[derive(Debug, Clone)]
pub struct ConnectionsConfig {
    /// Connections open at once; `None`: three quarters of the open-files limit at startup.
    pub max: Option<usize>,
    /// Connections open at once from one address or IPv6 /64; 0 for no limit.
    pub max_per_address: usize,
    /// Longest wait for a request's headers (also the idle time of a kept-alive connection).
    pub header_timeout: Duration,
}

/// Where `/metrics` is served: on its own address, on the main one behind a bearer token, both,
/// or (neither given) nowhere.
#[derive(Debug, Clone, Default)]
pub struct MetricsConfig {
    pub listen: Option<SocketAddr>,
    pub token: Option<String>,
}

/// Where and how documents are stored.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Directory holding `hubring.sqlite` when no URL is given.
    pub data_dir: PathBuf,
    /// A database URL overriding the data directory.
    pub database_url: Option<String>,
    /// Redis, when several nodes share the database.
    pub redis_url: Option<String>,
    /// This node's address for the other nodes.
    pub node_url: Option<String>,
    /// How long a statement waits for a lock before failing.
    pub busy_timeout: Duration,
}

/// Accounts and sign-in.
#[derive(Debug, Clone)]
pub struct AccountsConfig {
    pub signup: SignupMode,
    /// The public origin (`scheme://host[:port]`), when configured.
    pub public_origin: Option<String>,
    /// Whether cookies get `Secure` (the public URL is https).
    pub secure_cookies: bool,
    pub session_ttl: Duration,
    /// Sign-in and sign-up attempts per client address per minute.
    pub auth_per_minute: u32,
    /// Invitations by email per person per hour.
    pub invites_per_hour: u32,
}

/// The document websocket.
#[derive(Debug, Clone)]
pub struct DocsConfig {
    /// Largest frame accepted.
    pub max_frame_bytes: usize,
    /// What one update may cost to apply (`hubring_doc::scan`).
    pub update_budget: UpdateBudget,
    /// Which connections are read-only until accounts decide it per user.
    pub read_only: ReadOnly,
    /// Interval of the server's pings.
    pub ping_interval: Duration,
    /// Silence after which a client is closed.
    pub client_timeout: Duration,
    /// Documents outside any project open to anyone (benchmarks and protocol tests).
    pub open: bool,
}

/// Which document connections may not write.
#[derive(Debug, Clone, Default)]
pub enum ReadOnly {
    /// Every connection may write.
    #[default]
    None,
    /// Connections to these documents are read-only.
    Docs(HashSet<DocId>),
    /// Every connection is read-only.
    All,
}

impl ReadOnly {
    pub fn covers(&self, doc: &DocId) -> bool {
        match self {
            ReadOnly::None => false,
            ReadOnly::Docs(ids) => ids.contains(doc),
            ReadOnly::All => true,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        ServeArgs::default().resolve_with(ServeArgs::default())
    }
}

impl Config {
    /// Loads the file named by `--config` (if any) under the flags and environment.
    pub fn load(args: ServeArgs) -> anyhow::Result<Self> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => ServeArgs::default(),
        };
        Ok(args.resolve_with(file))
    }

    /// The path of the SQLite database inside the data directory.
    pub fn sqlite_path(&self) -> PathBuf {
        self.store.data_dir.join("hubring.sqlite")
    }
}

/// `scheme://host[:port]` of a URL: what browsers send as `Origin`.
fn origin_of(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split('/').next().unwrap_or(rest);
            format!("{}://{}", scheme.to_ascii_lowercase(), host.to_ascii_lowercase())
        }
        None => url.to_ascii_lowercase(),
    }
}

fn read_file(path: &Path) -> anyhow::Result<ServeArgs> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing config file {}", path.display()))
}

impl ServeArgs {
    /// Fills what the flags and environment left unset from `file`, then from the defaults.
    pub fn resolve_with(self, file: ServeArgs) -> Config {
        let sync_default = SyncConfig::default();
        let read_only = if self.read_only_docs.or(file.read_only_docs).unwrap_or(false) {
            ReadOnly::All
        } else {
            match self.read_only_doc_ids.or(file.read_only_doc_ids) {
                Some(ids) if !ids.is_empty() => ReadOnly::Docs(ids.into_iter().collect()),
                _ => ReadOnly::None,
            }
        };
        let ms = Duration::from_millis;
        let public_url = self.public_url.clone().or(file.public_url.clone());
        let public_origin = public_url.as_deref().map(origin_of);
        Config {
            listen: self
                .listen
                .or(file.listen)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            log_format: self.log_format.or(file.log_format).unwrap_or_default(),
            store: StoreConfig {
                data_dir: self
                    .data_dir
                    .or(file.data_dir)
                    .unwrap_or_else(|| PathBuf::from("./hubring-data")),
                database_url: self.database_url.or(file.database_url),
                redis_url: self.redis_url.or(file.redis_url),
                node_url: self.node_url.or(file.node_url),
                busy_timeout: ms(self
                    .store_busy_timeout_ms
                    .or(file.store_busy_timeout_ms)
                    .unwrap_or(5000)),
            },
            docs: DocsConfig {
                max_frame_bytes: self.max_frame_bytes.or(file.max_frame_bytes).unwrap_or(16 << 20),
                update_budget: {
                    let default = UpdateBudget::default();
                    UpdateBudget {
                        max_structs: self
                            .max_update_structs
                            .or(file.max_update_structs)
                            .unwrap_or(default.max_structs),
                        max_delete_ranges: self
                            .max_update_deletes
                            .or(file.max_update_deletes)
                            .unwrap_or(default.max_delete_ranges),
                    }
                },
                read_only,
                ping_interval: ms(self
                    .ping_interval_ms
                    .or(file.ping_interval_ms)
                    .unwrap_or(20_000)),
                client_timeout: ms(self
                    .client_timeout_ms
                    .or(file.client_timeout_ms)
                    .unwrap_or(60_000)),
                open: self.open_docs.or(file.open_docs).unwrap_or(false),
            },
            accounts: {
                AccountsConfig {
                    signup: self.signup.or(file.signup).unwrap_or_default(),
                    secure_cookies: public_origin
                        .as_deref()
                        .is_some_and(|o| o.starts_with("https://")),
                    public_origin: public_origin.clone(),
                    session_ttl: Duration::from_secs(
                        24 * 3600 * self.session_days.or(file.session_days).unwrap_or(30).max(1),
                    ),
                    auth_per_minute: self
                        .auth_per_minute
                        .or(file.auth_per_minute)
                        .unwrap_or(20)
                        .max(1),
                    invites_per_hour: self
                        .invites_per_hour
                        .or(file.invites_per_hour)
                        .unwrap_or(100)
                        .max(1),
                }
            },
            sync: SyncConfig {
                idle_evict: self
                    .doc_idle_secs
                    .or(file.doc_idle_secs)
                    .map_or(sync_default.idle_evict, Duration::from_secs),
                compact_after: self
                    .compact_after
                    .or(file.compact_after)
                    .unwrap_or(sync_default.compact_after)
                    .max(1),
                outbox_capacity: self
                    .outbox_frames
                    .or(file.outbox_frames)
                    .unwrap_or(sync_default.outbox_capacity)
                    .max(1),
                ..sync_default
            },
            max_asset_bytes: self
                .max_asset_bytes
                .or(file.max_asset_bytes)
                .unwrap_or(10 << 20)
                .max(1),
            shutdown_grace: Duration::from_secs(
                self.shutdown_grace_secs.or(file.shutdown_grace_secs).unwrap_or(10),
            ),
            connections: ConnectionsConfig {
                max: self.max_connections.or(file.max_connections).map(|n| n.max(1)),
                max_per_address: self
                    .max_connections_per_address
                    .or(file.max_connections_per_address)
                    .unwrap_or(1000),
                header_timeout: ms(self
                    .header_timeout_ms
                    .or(file.header_timeout_ms)
                    .unwrap_or(20_000)
                    .max(1)),
            },
            mail: {
                // The public origin's host, without its port (`[::1]:8080` keeps `[::1]`).
                let host =
                    public_origin.as_deref().and_then(|o| o.split_once("://")).map(|(_, h)| {
                        match h.rsplit_once(':') {
                            Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
                            _ => h,
                        }
                        .to_owned()
                    });
                MailConfig {
                    smtp_url: self.smtp_url.or(file.smtp_url).filter(|u| !u.is_empty()),
                    from: self
                        .mail_from
                        .or(file.mail_from)
                        .or_else(|| host.map(|h| format!("Hubring <hubring@{h}>"))),
                    retry_base: Duration::from_secs(
                        self.mail_retry_secs.or(file.mail_retry_secs).unwrap_or(30).max(1),
                    ),
                    remind_before: Duration::from_secs(
                        60 * self
                            .reminder_minutes
                            .or(file.reminder_minutes)
                            .unwrap_or(60)
                            .clamp(1, 7 * 24 * 60),
                    ),
                }
            },
            metrics: MetricsConfig {
                listen: self.metrics_listen.or(file.metrics_listen),
                token: self.metrics_token.or(file.metrics_token).filter(|t| !t.is_empty()),
            },
            rtc: RtcConfig {
                bind_ip: self.rtc_bind.or(file.rtc_bind).unwrap_or(IpAddr::from([0, 0, 0, 0])),
                udp_ports: self.rtc_ports.or(file.rtc_ports).map(|PortRange(l, h)| (l, h)),
                public_ip: self.public_ip.or(file.public_ip),
                ice_servers: self
                    .ice_servers
                    .or(file.ice_servers)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|s| s.0)
                    .collect(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_file_over_defaults() {
        let file: ServeArgs = toml::from_str(
            "listen = \"0.0.0.0:9000\"\ndata_dir = \"/srv/h\"\nread_only_doc_ids = [\"a\", \"b\"]\n",
        )
        .unwrap();
        let flags = ServeArgs { data_dir: Some("/flag".into()), ..Default::default() };
        let config = flags.resolve_with(file);
        assert_eq!(config.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(config.store.data_dir, PathBuf::from("/flag"));
        assert!(config.docs.read_only.covers(&DocId::parse("a").unwrap()));
        assert!(!config.docs.read_only.covers(&DocId::parse("c").unwrap()));
        let defaults = Config::default();
        assert_eq!(defaults.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(defaults.docs.max_frame_bytes, 16 << 20);
        assert!(!defaults.docs.read_only.covers(&DocId::parse("a").unwrap()));
    }

    #[test]
    fn emails_come_from_the_public_hosts_name_unless_told() {
        let with = |url: &str| ServeArgs { public_url: Some(url.into()), ..Default::default() };
        let from = |args: ServeArgs| args.resolve_with(ServeArgs::default()).mail.from;
        assert_eq!(
            from(with("https://hub.example:8443/app")).as_deref(),
            Some("Hubring <hubring@hub.example>")
        );
        assert_eq!(from(with("http://[::1]:8080")).as_deref(), Some("Hubring <hubring@[::1]>"));
        let told = ServeArgs { mail_from: Some("Hubs <a@b.example>".into()), ..with("https://x") };
        assert_eq!(from(told).as_deref(), Some("Hubs <a@b.example>"));
        assert_eq!(from(ServeArgs::default()), None);
    }

    #[test]
    fn unknown_file_keys_are_errors() {
        assert!(toml::from_str::<ServeArgs>("lisen = \"x\"").is_err());
        assert!(toml::from_str::<ServeArgs>("read_only_doc_ids = [\"bad id\"]").is_err());
    }
}
