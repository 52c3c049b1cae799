//! `hubring-loadgen`: drives a y-websocket-compatible server and reports what it measured, a
//! human summary on standard error and one JSON line on standard output.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use hubring_loadgen::client::{Dialect, Target};
use hubring_loadgen::servers::Programs;
use hubring_loadgen::{cold, compare, connect, fanout, trace};

#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

/// Where the server under test is.
#[derive(Debug, clap::Args)]
struct ServerArgs {
    /// URL template; `{doc}` becomes the document name. Hubring:
    /// `ws://127.0.0.1:PORT/ws/doc/{doc}`, y-websocket: `ws://127.0.0.1:1234/{doc}`,
    /// Hocuspocus: `ws://127.0.0.1:1234`.
    #[arg(long)]
    url: String,
    #[arg(long, value_enum, default_value = "y-websocket")]
    dialect: Dialect,
    /// The server's process id, to report its CPU use (and memory, for `connect`).
    #[arg(long)]
    server_pid: Option<u32>,
}

impl ServerArgs {
    fn target(&self) -> Target {
        Target { url: self.url.clone(), dialect: self.dialect }
    }
}

#[derive(Debug, Clone, clap::Args)]
struct ProgramArgs {
    /// The `hubring` binary; by default the one next to this program.
    #[arg(long)]
    hubring: Option<PathBuf>,
    /// Folder with the peers' package.json (installed with `npm ci` when needed).
    #[arg(long)]
    peers_dir: Option<PathBuf>,
    /// Do not pin the servers to CPU 0 and the generator to CPU 1.
    #[arg(long)]
    no_pin: bool,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// D documents × C clients, W writers each: delivery latency, throughput, loss, convergence.
    Fanout {
        #[command(flatten)]
        server: ServerArgs,
        #[command(flatten)]
        args: fanout::FanoutArgs,
    },
    /// N connections over D documents: time to sync all, server memory per connection.
    Connect {
        #[command(flatten)]
        server: ServerArgs,
        #[command(flatten)]
        args: connect::ConnectArgs,
    },
    /// Replays a real editing trace through the server to an observer.
    Trace {
        #[command(flatten)]
        server: ServerArgs,
        #[command(flatten)]
        args: trace::TraceArgs,
    },
    /// Starts Hubring, stores a large history, restarts it and times the first sync.
    Cold {
        #[command(flatten)]
        programs: ProgramArgs,
        #[command(flatten)]
        args: cold::ColdArgs,
    },
    /// Hubring against @y/websocket-server and Hocuspocus, same workloads, one run.
    Compare {
        #[command(flatten)]
        programs: ProgramArgs,
        #[command(flatten)]
        args: compare::CompareArgs,
    },
}

impl ProgramArgs {
    fn programs(&self) -> Programs {
        Programs {
            hubring: self.hubring.clone().unwrap_or_else(Programs::default_hubring),
            peers_dir: self.peers_dir.clone().unwrap_or_else(Programs::default_peers_dir),
            pin_cpu: (!self.no_pin).then_some(SERVER_CPU),
        }
    }
}

const SERVER_CPU: usize = 0;
const LOADGEN_CPU: usize = 1;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Err(err) = hubring_loadgen::raise_open_files_limit() {
        eprintln!("could not raise the open-files limit: {err}");
    }
    // Pinned before the runtime starts, so every worker thread inherits it (and tokio sizes its
    // pool from the one CPU left).
    if let Mode::Cold { programs, .. } | Mode::Compare { programs, .. } = &cli.mode
        && !programs.no_pin
    {
        pin_self(LOADGEN_CPU)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let json = runtime.block_on(async {
        anyhow::Ok(match &cli.mode {
            Mode::Fanout { server, args } => {
                let report = fanout::run(&server.target(), args, server.server_pid).await?;
                eprintln!("{}", report.summary());
                serde_json::to_string(&report)?
            }
            Mode::Connect { server, args } => {
                let report = connect::run(&server.target(), args, server.server_pid).await?;
                eprintln!("{}", report.summary());
                serde_json::to_string(&report)?
            }
            Mode::Trace { server, args } => {
                let report = trace::run(&server.target(), args, server.server_pid).await?;
                eprintln!("{}", report.summary());
                serde_json::to_string(&report)?
            }
            Mode::Cold { programs, args } => {
                let report = cold::run(&programs.programs(), args).await?;
                eprintln!("{}", report.summary());
                serde_json::to_string(&report)?
            }
            Mode::Compare { programs, args } => {
                let table = compare::run(&programs.programs(), args).await?;
                let markdown = table.markdown();
                eprintln!("\n{markdown}");
                if let Some(path) = &args.markdown {
                    std::fs::write(path, &markdown)?;
                }
                table.to_json().to_string()
            }
        })
    })?;
    // The JSON line is this program's output.
    #[allow(clippy::print_stdout)]
    {
        println!("{json}");
    }
    Ok(())
}

/// Pins this process (all its threads, present and future) to one CPU with `taskset`.
fn pin_self(cpu: usize) -> anyhow::Result<()> {
    let status = std::process::Command::new("taskset")
        .args(["-a", "-p", "-c", &cpu.to_string(), &std::process::id().to_string()])
        .stdout(std::process::Stdio::null())
        .status()?;
    anyhow::ensure!(status.success(), "taskset failed: {status}");
    Ok(())
}
