//! `connect`: N connections over D documents, each synced; how long until all are, and what they
//! cost the server in resident memory.
//!
//! Every connection stays read (so pings are answered, as a browser tab would) until all are
//! synced and measured, then all close.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::client::{Client, Target};
use crate::fanout::CONNECT_CONCURRENCY;
use crate::measure::{CpuSpan, CpuUse, Pid, rss_bytes};
use crate::run_id;

#[derive(Debug, Clone, clap::Args, serde::Serialize)]
pub struct ConnectArgs {
    #[arg(long, default_value_t = 10_000)]
    pub connections: usize,
    #[arg(long, default_value_t = 1_000)]
    pub docs: usize,
    /// How long to let the server settle before reading its memory, connected and after close.
    #[arg(long, default_value_t = 2_000)]
    pub settle_ms: u64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ConnectReport {
    pub mode: &'static str,
    #[serde(flatten)]
    pub args: ConnectArgs,
    pub synced: usize,
    pub failed: usize,
    /// Synced connections the server closed before the end.
    pub dropped: usize,
    pub all_synced_ms: f64,
    pub rss_before_bytes: Option<u64>,
    pub rss_connected_bytes: Option<u64>,
    pub rss_after_close_bytes: Option<u64>,
    pub rss_per_connection_bytes: Option<f64>,
    pub cpu: CpuUse,
}

impl ConnectReport {
    pub fn summary(&self) -> String {
        let mb = |b: Option<u64>| b.map_or("?".to_owned(), |b| format!("{:.1} MB", b as f64 / 1e6));
        format!(
            "connect {} connections over {} documents: {} synced, {} failed, {} dropped, all synced in {:.0} ms; \
             server RSS before {} connected {} after close {}, {} per connection; cpu loadgen {:.2} server {}",
            self.args.connections,
            self.args.docs,
            self.synced,
            self.failed,
            self.dropped,
            self.all_synced_ms,
            mb(self.rss_before_bytes),
            mb(self.rss_connected_bytes),
            mb(self.rss_after_close_bytes),
            self.rss_per_connection_bytes.map_or("?".to_owned(), |b| format!("{:.1} KB", b / 1e3)),
            self.cpu.loadgen_cores,
            self.cpu.server_cores.map_or("?".to_owned(), |c| format!("{c:.2}")),
        )
    }
}

pub async fn run(
    target: &Target,
    args: &ConnectArgs,
    server_pid: Option<u32>,
) -> anyhow::Result<ConnectReport> {
    anyhow::ensure!(args.docs > 0, "at least one document");
    let run = run_id("connect");
    let rss = |pid: Option<u32>| pid.map(|pid| rss_bytes(Pid::Other(pid))).transpose();
    let settle = Duration::from_millis(args.settle_ms);
    let rss_before = rss(server_pid)?;
    let stop = CancellationToken::new();
    let gate = Arc::new(Semaphore::new(CONNECT_CONCURRENCY));
    let (synced_tx, mut synced_rx) = tokio::sync::mpsc::unbounded_channel();
    let cpu = CpuSpan::start(server_pid)?;
    let started = Instant::now();
    let mut held = tokio::task::JoinSet::new();
    for conn_idx in 0..args.connections {
        let (target, gate, stop, synced_tx) =
            (target.clone(), Arc::clone(&gate), stop.clone(), synced_tx.clone());
        let doc = format!("{run}-{}", conn_idx % args.docs);
        held.spawn(async move {
            let connected = async {
                let _permit = gate.acquire_owned().await?;
                let mut client = Client::connect(&target, &doc).await?;
                client.sync(&yrs::Doc::new()).await?;
                anyhow::Ok(client)
            }
            .await;
            let mut client = match connected {
                Ok(client) => {
                    let _ = synced_tx.send(true);
                    client
                }
                Err(err) => {
                    let _ = synced_tx.send(false);
                    return Err(err);
                }
            };
            loop {
                tokio::select! {
                    () = stop.cancelled() => break,
                    frame = client.next_frame() => if !matches!(frame, Ok(Some(_))) {
                        anyhow::bail!("server closed a connection while it was held");
                    },
                }
            }
            client.close().await;
            Ok(())
        });
    }
    drop(synced_tx);
    let (mut synced, mut failed) = (0, 0);
    while synced + failed < args.connections {
        match synced_rx.recv().await {
            Some(true) => synced += 1,
            Some(false) => failed += 1,
            None => break,
        }
    }
    let all_synced = started.elapsed();
    let cpu = cpu.finish()?;
    tokio::time::sleep(settle).await;
    let rss_connected = rss(server_pid)?;
    stop.cancel();
    let mut errors = 0;
    while let Some(joined) = held.join_next().await {
        if let Err(err) = joined? {
            if errors == 0 {
                eprintln!("connect: first connection error: {err:#}");
            }
            errors += 1;
        }
    }
    let dropped = errors - failed;
    tokio::time::sleep(settle).await;
    let rss_after = rss(server_pid)?;
    let per_connection = match (rss_before, rss_connected) {
        (Some(before), Some(connected)) if synced > 0 => {
            Some((connected as f64 - before as f64) / synced as f64)
        }
        _ => None,
    };
    Ok(ConnectReport {
        mode: "connect",
        args: args.clone(),
        synced,
        failed,
        dropped,
        all_synced_ms: all_synced.as_secs_f64() * 1000.0,
        rss_before_bytes: rss_before,
        rss_connected_bytes: rss_connected,
        rss_after_close_bytes: rss_after,
        rss_per_connection_bytes: per_connection,
        cpu,
    })
}
