//! The command line: `hubring serve`, `hubring doc export` and `hubring admin`.

use hubring_export::{Asset, docx, html, markdown, pdf};

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use hubring_doc::DocState;
use hubring_protocol::DocId;
use hubring_workspace::{Workspace, WorkspaceError};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, LogFormat, ServeArgs};

/// Hubring: a real-time collaboration workspace for networks of creative hubs.
#[derive(Debug, Parser)]
#[command(name = "hubring", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the workspace: HTTP API, websockets and the web app.
    Serve(Box<ServeArgs>),
    /// Work on stored documents without a running server.
    #[command(subcommand)]
    Doc(DocCommand),
    /// Manage accounts from the server's machine.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Print the OpenAPI document of `/api/v1` (the web client's types are generated from it).
    Openapi,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an account. The password is read from standard input (one line).
    CreateUser(CreateUserArgs),
    /// Set a new password for an account and sign out its sessions. The password is read from
    /// standard input (one line).
    ResetPassword(ResetPasswordArgs),
}

/// Where the database is, for `hubring admin`.
#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    /// Data directory holding hubring.sqlite [default: ./hubring-data]
    #[arg(long, env = "HUBRING_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL; overrides the data directory
    #[arg(long, env = "HUBRING_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct CreateUserArgs {
    #[arg(long)]
    pub email: String,
    /// The name others see.
    #[arg(long)]
    pub name: String,
    /// Make the account an instance admin.
    #[arg(long)]
    pub admin: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, clap::Args)]
pub struct ResetPasswordArgs {
    #[arg(long)]
    pub email: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Subcommand)]
pub enum DocCommand {
    /// Print a stored document to standard output.
    Export(ExportArgs),
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The document to export.
    pub doc_id: DocId,
    /// Data directory holding hubring.sqlite [default: ./hubring-data]
    #[arg(long, env = "HUBRING_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL; overrides the data directory
    #[arg(long, env = "HUBRING_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
    /// `update`: the Yjs v1 update bytes; `json`: every root type as JSON; `md`, `html`,
    /// `docx`, `pdf`: the document's text as the web app and the API export it
    #[arg(long, value_enum, default_value_t = ExportFormat::Update)]
    pub format: ExportFormat,
    /// The title a DOCX, PDF or HTML export carries [default: the document's id]
    #[arg(long)]
    pub title: Option<String>,
    /// The text's language, for PDF hyphenation and HTML's `lang`
    #[arg(long, default_value = "en")]
    pub lang: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Update,
    Json,
    Md,
    Html,
    Docx,
    Pdf,
}

/// The binary's entry point.
pub fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match cli.command {
        Command::Serve(args) => {
            let config = Config::load(*args)?;
            init_tracing(config.log_format);
            runtime.block_on(serve(config))
        }
        Command::Doc(DocCommand::Export(args)) => runtime.block_on(export(args)),
        Command::Admin(command) => runtime.block_on(admin(command)),
        Command::Openapi => {
            let doc = serde_json::to_string_pretty(&crate::openapi())?;
            std::io::Write::write_all(&mut std::io::stdout().lock(), doc.as_bytes())?;
            Ok(())
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let shutdown = CancellationToken::new();
    tokio::spawn(signal_worker(shutdown.clone()));
    crate::run(config, listener, shutdown).await
}

/// Turns the first SIGINT or SIGTERM into the shutdown signal.
async fn signal_worker(shutdown: CancellationToken) {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT, shutting down"),
        () = terminate => tracing::info!("SIGTERM, shutting down"),
    }
    shutdown.cancel();
}

async fn export(args: ExportArgs) -> anyhow::Result<()> {
    let config = ServeArgs {
        data_dir: args.data_dir,
        database_url: args.database_url,
        ..Default::default()
    }
    .resolve_with(ServeArgs::default());
    if config.store.database_url.is_none() && !config.sqlite_path().exists() {
        anyhow::bail!("no Hubring database at {}", config.sqlite_path().display());
    }
    let store = crate::open_store(&config).await?;
    let stored = store.load(&args.doc_id).await?;
    let state = DocState::load(stored.parts()).context("stored document does not load")?;
    let tree = hubring_doc::tree::read_state(&state.encode_state())?;
    // The images the document shows, from the store (an admin's command: every asset).
    let mut assets = std::collections::HashMap::new();
    for url in tree.images() {
        if let Some(id) = crate::api::asset_id(url)
            && let Some(asset) = store.asset(id).await?
        {
            assets.insert(url.to_owned(), Asset { mime: asset.mime, bytes: asset.bytes });
        }
    }
    store.close().await;
    let find = move |url: &str| assets.get(url).cloned();
    let title = args.title.unwrap_or_else(|| args.doc_id.to_string());
    let mut out = std::io::stdout().lock();
    match args.format {
        ExportFormat::Update => out.write_all(&state.encode_state())?,
        ExportFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &state.to_json())?;
            out.write_all(b"\n")?;
        }
        ExportFormat::Md => out.write_all(markdown::to_markdown(&tree).as_bytes())?,
        ExportFormat::Html => {
            out.write_all(html::to_html(&tree, &title, &args.lang, &find).as_bytes())?
        }
        ExportFormat::Docx => out.write_all(&docx::to_docx(&tree, &title, &find)?)?,
        ExportFormat::Pdf => out.write_all(&pdf::to_pdf(&tree, &title, &args.lang, &find)?)?,
    }
    out.flush()?;
    Ok(())
}

async fn admin(command: AdminCommand) -> anyhow::Result<()> {
    let store_args = match &command {
        AdminCommand::CreateUser(args) => &args.store,
        AdminCommand::ResetPassword(args) => &args.store,
    };
    let config = ServeArgs {
        data_dir: store_args.data_dir.clone(),
        database_url: store_args.database_url.clone(),
        ..Default::default()
    }
    .resolve_with(ServeArgs::default());
    let store = crate::open_store(&config).await?;
    let workspace = Workspace::new(store.clone(), crate::workspace_config(&config));
    let password = read_password()?;
    let result = match command {
        AdminCommand::CreateUser(args) => {
            workspace.create_user(&args.email, &args.name, password, args.admin).await.map(|user| {
                let role = if user.is_admin { "admin" } else { "account" };
                eprintln!("created {role} {} ({})", user.email, user.id);
            })
        }
        AdminCommand::ResetPassword(args) => {
            workspace.reset_password(&args.email, password).await.map(|()| {
                eprintln!("password of {} reset; its sessions are signed out", args.email);
            })
        }
    };
    store.close().await;
    result.map_err(|err| match err {
        WorkspaceError::Invalid(fields) => {
            let why: Vec<String> =
                fields.messages().iter().map(|(f, m)| format!("{f} {m}")).collect();
            anyhow::anyhow!("{}", why.join("; "))
        }
        err => anyhow::anyhow!(err),
    })
}

/// One line of standard input, without its line ending.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HUBRING_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
