//! `fanout`: D documents × C clients, W of them writing a short string every I ms.
//!
//! Every write carries its writer, sequence number and send time inside the inserted text, so
//! each receiving client can measure delivery latency and notice a loss or a duplicate by reading
//! the update's bytes (a Y.Text string travels verbatim in the v1 encoding). Clients do not
//! integrate updates while the clock runs, so the generator's own CPU goes to the sockets; after
//! the run each client's updates are applied and every client of a document must hold the same
//! text.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use tokio::sync::Semaphore;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use yrs::updates::decoder::Decode;
use yrs::{GetString, Text, Transact, Update};

use crate::client::{Client, Incoming, Target};
use crate::measure::{CpuSpan, CpuUse, Percentiles};
use crate::run_id;

#[derive(Debug, Clone, clap::Args, serde::Serialize)]
pub struct FanoutArgs {
    /// Documents.
    #[arg(long, default_value_t = 100)]
    pub docs: usize,
    /// Clients per document, writers included.
    #[arg(long, default_value_t = 20)]
    pub clients: usize,
    /// Writers per document.
    #[arg(long, default_value_t = 2)]
    pub writers: usize,
    /// Each writer writes once per interval.
    #[arg(long, default_value_t = 20)]
    pub interval_ms: u64,
    /// How long the writers write.
    #[arg(long, default_value_t = 10)]
    pub secs: u64,
    /// How long to wait, after the writers stop, for deliveries still in flight.
    #[arg(long, default_value_t = 10)]
    pub drain_secs: u64,
    /// Readers connect here instead of `--url` (another node of the same deployment), so
    /// every delivery crosses from the writers' node to the readers'. Same `{doc}` template.
    #[arg(long)]
    pub reader_url: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct FanoutReport {
    pub mode: &'static str,
    #[serde(flatten)]
    pub args: FanoutArgs,
    pub writes: u64,
    pub expected_deliveries: u64,
    pub deliveries: u64,
    pub lost: u64,
    pub duplicates: u64,
    pub writes_per_sec: f64,
    pub offered_deliveries_per_sec: f64,
    pub deliveries_per_sec: f64,
    pub latency: Percentiles,
    /// Clients the server closed (or that failed) before the end.
    pub closed_clients: usize,
    /// Every client of each document holds the same text, and it has every write.
    pub converged: bool,
    pub cpu: CpuUse,
}

impl FanoutReport {
    /// The server kept up: everything arrived, once, within a second at p99, at the offered rate.
    pub fn sustained(&self) -> bool {
        self.lost == 0
            && self.closed_clients == 0
            && self.converged
            && self.latency.p99_ms <= 1000.0
            && self.deliveries_per_sec >= 0.95 * self.offered_deliveries_per_sec
    }

    pub fn summary(&self) -> String {
        let a = &self.args;
        format!(
            "fanout {}×{} ({} writers every {} ms, {} s): {:.0} writes/s, {:.0} deliveries/s \
             (offered {:.0}); latency p50 {:.2} ms p95 {:.2} ms p99 {:.2} ms max {:.2} ms; \
             lost {} dup {} closed {}; converged {}; cpu loadgen {:.2} server {}",
            a.docs,
            a.clients,
            a.writers,
            a.interval_ms,
            a.secs,
            self.writes_per_sec,
            self.deliveries_per_sec,
            self.offered_deliveries_per_sec,
            self.latency.p50_ms,
            self.latency.p95_ms,
            self.latency.p99_ms,
            self.latency.max_ms,
            self.lost,
            self.duplicates,
            self.closed_clients,
            self.converged,
            self.cpu.loadgen_cores,
            self.cpu.server_cores.map_or("?".to_owned(), |c| format!("{c:.2}")),
        )
    }
}

/// Connections opened at once; more only fills the server's accept backlog.
pub(crate) const CONNECT_CONCURRENCY: usize = 256;
const TEXT: &str = "text";
const MARK_START: u8 = 0x1e;
const MARK_END: u8 = 0x1f;

struct Shared {
    epoch: Instant,
    delivered: AtomicU64,
    writers_done: AtomicUsize,
    /// Writes per (document, writer).
    writes: Vec<AtomicU32>,
    stop: CancellationToken,
}

struct Role {
    doc_idx: usize,
    /// This client's writer index within its document, if it writes.
    writer_idx: Option<usize>,
}

struct Outcome {
    doc_idx: usize,
    /// The writer's own document (its writes); `None` for readers.
    local: Option<yrs::Doc>,
    initial: Bytes,
    updates: Vec<Bytes>,
    latencies_us: Vec<u32>,
    duplicates: u64,
    closed: bool,
}

pub async fn run(
    target: &Target,
    args: &FanoutArgs,
    server_pid: Option<u32>,
) -> anyhow::Result<FanoutReport> {
    anyhow::ensure!(args.writers <= args.clients, "more writers than clients");
    anyhow::ensure!(args.interval_ms > 0, "interval must be positive");
    let run = run_id("fanout");
    let n_writers = args.docs * args.writers;
    let shared = Arc::new(Shared {
        epoch: Instant::now(),
        delivered: AtomicU64::new(0),
        writers_done: AtomicUsize::new(0),
        writes: (0..n_writers).map(|_| AtomicU32::new(0)).collect(),
        stop: CancellationToken::new(),
    });

    // Everyone connects and syncs before anyone writes.
    let gate = Arc::new(Semaphore::new(CONNECT_CONCURRENCY));
    let mut connecting = tokio::task::JoinSet::new();
    let readers_target = match &args.reader_url {
        Some(url) => Target { url: url.clone(), dialect: target.dialect },
        None => target.clone(),
    };
    for doc_idx in 0..args.docs {
        for client_idx in 0..args.clients {
            let target =
                if client_idx < args.writers { target.clone() } else { readers_target.clone() };
            let (gate, doc) = (Arc::clone(&gate), format!("{run}-{doc_idx}"));
            connecting.spawn(async move {
                let _permit = gate.acquire_owned().await?;
                let mut client = Client::connect(&target, &doc).await?;
                let initial = client.sync(&yrs::Doc::new()).await?;
                anyhow::Ok((client, initial, doc_idx, client_idx))
            });
        }
    }
    let mut clients = Vec::with_capacity(args.docs * args.clients);
    while let Some(joined) = connecting.join_next().await {
        let (client, initial, doc_idx, client_idx) = joined??;
        let writer_idx = (client_idx < args.writers).then_some(client_idx);
        clients.push((client, initial, Role { doc_idx, writer_idx }));
    }

    let start = tokio::time::Instant::now();
    let interval = Duration::from_millis(args.interval_ms);
    let end = start + Duration::from_secs(args.secs);
    let cpu = CpuSpan::start(server_pid)?;
    let mut running = tokio::task::JoinSet::new();
    for (client, initial, role) in clients {
        // Writers are spread evenly over the interval rather than all firing at once.
        let first = role.writer_idx.map(|w| {
            let global = (role.doc_idx * args.writers + w) as u32;
            start + interval.mul_f64(f64::from(global) / n_writers as f64)
        });
        running.spawn(client_worker(
            client,
            initial,
            role,
            args.writers,
            Arc::clone(&shared),
            first.map(|first| (first, interval, end)),
        ));
    }

    // Wait for the writers to stop, then for what is in flight, then stop everyone.
    while shared.writers_done.load(Ordering::Acquire) < n_writers {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let expected: u64 =
        shared.writes.iter().map(|w| u64::from(w.load(Ordering::Acquire))).sum::<u64>()
            * (args.clients as u64 - 1);
    let drain_deadline = tokio::time::Instant::now() + Duration::from_secs(args.drain_secs);
    while shared.delivered.load(Ordering::Acquire) < expected
        && tokio::time::Instant::now() < drain_deadline
    {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let window = start.elapsed().as_secs_f64().max(args.secs as f64);
    let cpu = cpu.finish()?;
    shared.stop.cancel();

    let mut outcomes = Vec::with_capacity(running.len());
    while let Some(outcome) = running.join_next().await {
        outcomes.push(outcome?);
    }
    let delivered = shared.delivered.load(Ordering::Acquire);
    let writes: u64 = shared.writes.iter().map(|w| u64::from(w.load(Ordering::Acquire))).sum();
    let duplicates = outcomes.iter().map(|o| o.duplicates).sum();
    let closed_clients = outcomes.iter().filter(|o| o.closed).count();
    let mut latencies: Vec<u32> =
        outcomes.iter_mut().flat_map(|o| std::mem::take(&mut o.latencies_us)).collect();
    let latency = Percentiles::of_micros(&mut latencies);
    drop(latencies);
    let n_docs = args.docs;
    let converged = tokio::task::spawn_blocking(move || converged(outcomes, n_docs)).await??;

    Ok(FanoutReport {
        mode: "fanout",
        args: args.clone(),
        writes,
        expected_deliveries: expected,
        deliveries: delivered,
        lost: expected.saturating_sub(delivered),
        duplicates,
        writes_per_sec: writes as f64 / args.secs as f64,
        offered_deliveries_per_sec: expected as f64 / args.secs as f64,
        deliveries_per_sec: delivered as f64 / window,
        latency,
        closed_clients,
        converged,
        cpu,
    })
}

async fn client_worker(
    client: Client,
    initial: Bytes,
    role: Role,
    writers_per_doc: usize,
    shared: Arc<Shared>,
    schedule: Option<(tokio::time::Instant, Duration, tokio::time::Instant)>,
) -> Outcome {
    let mut client = client;
    let mut local = role.writer_idx.map(|_| yrs::Doc::new());
    let mut tick = schedule.map(|(first, interval, _)| {
        let mut tick = tokio::time::interval_at(first, interval);
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        tick
    });
    let end = schedule.map(|(_, _, end)| end);
    let mut writing = role.writer_idx.is_some();
    let mut seq = 0u32;
    // One bit per (writer, sequence number) of this document: tells a loss from a duplicate.
    let mut seen: Vec<Vec<u64>> = vec![Vec::new(); writers_per_doc];
    let mut outcome = Outcome {
        doc_idx: role.doc_idx,
        local: None,
        initial,
        updates: Vec::new(),
        latencies_us: Vec::new(),
        duplicates: 0,
        closed: false,
    };
    let writer_slot = |w: usize| role.doc_idx * writers_per_doc + w;
    let finish_writing = |writing: &mut bool| {
        if std::mem::take(writing) {
            shared.writers_done.fetch_add(1, Ordering::AcqRel);
        }
    };
    loop {
        tokio::select! {
            biased;
            () = shared.stop.cancelled() => break,
            frame = client.next_frame() => {
                let frame = match frame {
                    Ok(Some(frame)) => frame,
                    Ok(None) | Err(_) => {
                        outcome.closed = true;
                        break;
                    }
                };
                let Ok(Incoming::Update(update) | Incoming::SyncStep2(update)) = client.parse(&frame)
                else {
                    continue;
                };
                let now_us = shared.epoch.elapsed().as_micros() as u64;
                outcome.updates.push(frame.slice_ref(update));
                for (writer, seq, sent_us) in markers(update) {
                    if Some(writer) == role.writer_idx || writer >= writers_per_doc {
                        continue;
                    }
                    let bits = &mut seen[writer];
                    let (word, bit) = (seq as usize / 64, 1u64 << (seq % 64));
                    if bits.len() <= word {
                        bits.resize(word + 1, 0);
                    }
                    if bits[word] & bit != 0 {
                        outcome.duplicates += 1;
                        continue;
                    }
                    bits[word] |= bit;
                    shared.delivered.fetch_add(1, Ordering::AcqRel);
                    outcome.latencies_us.push(now_us.saturating_sub(sent_us).min(u64::from(u32::MAX)) as u32);
                }
            }
            _ = async { tick.as_mut().expect("writers tick").tick().await }, if writing => {
                if end.is_some_and(|end| tokio::time::Instant::now() >= end) {
                    finish_writing(&mut writing);
                    continue;
                }
                let (Some(doc), Some(w)) = (local.as_mut(), role.writer_idx) else { continue };
                let sent_us = shared.epoch.elapsed().as_micros();
                let text = doc.get_or_insert_text(TEXT);
                let update = {
                    let mut txn = doc.transact_mut();
                    let len = text.len(&txn);
                    let mark = format!("\u{1e}{w}:{seq}:{sent_us}\u{1f}");
                    text.insert(&mut txn, len, &mark);
                    txn.encode_update_v1()
                };
                if client.send_update(&update).await.is_err() {
                    outcome.closed = true;
                    break;
                }
                shared.writes[writer_slot(w)].fetch_add(1, Ordering::AcqRel);
                seq += 1;
            }
        }
    }
    finish_writing(&mut writing);
    outcome.local = local.take();
    client.close().await;
    outcome
}

/// The (writer, sequence, send time in µs) marks inside an update's bytes. A mark is the text
/// between a start byte and the next end byte; other bytes of the update (a length, a clock)
/// may equal the start byte, so the start taken is the last one before the end.
fn markers(update: &[u8]) -> impl Iterator<Item = (usize, u32, u64)> + '_ {
    let mut rest = update;
    std::iter::from_fn(move || {
        loop {
            let end = rest.iter().position(|&b| b == MARK_END)?;
            let mark = rest[..end]
                .iter()
                .rposition(|&b| b == MARK_START)
                .map(|start| &rest[start + 1..end]);
            rest = &rest[end + 1..];
            let parsed = mark.and_then(|mark| {
                let mut parts = std::str::from_utf8(mark).ok()?.split(':');
                Some((
                    parts.next()?.parse().ok()?,
                    parts.next()?.parse().ok()?,
                    parts.next()?.parse().ok()?,
                ))
            });
            if parsed.is_some() {
                return parsed;
            }
        }
    })
}

/// Applies every client's updates and checks that all clients of a document hold the same text,
/// holding every write.
fn converged(outcomes: Vec<Outcome>, n_docs: usize) -> anyhow::Result<bool> {
    let mut texts: Vec<Option<String>> = vec![None; n_docs];
    let mut same = true;
    for outcome in outcomes {
        let doc = outcome.local.unwrap_or_default();
        {
            let mut txn = doc.transact_mut();
            for update in std::iter::once(&outcome.initial).chain(&outcome.updates) {
                txn.apply_update(Update::decode_v1(update).context("server sent a bad update")?)
                    .context("applying a received update")?;
            }
        }
        let text = doc.get_or_insert_text(TEXT).get_string(&doc.transact());
        match &texts[outcome.doc_idx] {
            Some(first) => same &= *first == text,
            None => texts[outcome.doc_idx] = Some(text),
        }
    }
    Ok(same)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_found_between_other_bytes() {
        // A stray start byte (a length of 30, say) before a mark must not hide it.
        let bytes = b"\x01\x1e\x02\x1e0:7:123\x1f\x00\xff\x1ebad\x1f\x1f\x1e1:8:456\x1f";
        let found: Vec<_> = markers(bytes).collect();
        assert_eq!(found, vec![(0, 7, 123), (1, 8, 456)]);
    }
}
