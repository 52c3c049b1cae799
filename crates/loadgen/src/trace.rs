//! `trace`: one writer replays a real editing trace into a Y.Text, one transaction (one update)
//! per trace transaction; an observer on another connection waits until it holds everything.
//!
//! The writer's updates are prepared before the clock starts, so the time measured is the
//! server's: receiving, applying (and, for Hubring, committing) and forwarding every update. The
//! observer integrates what it receives, as any client does, and stops when its state vector
//! reaches the writer's; its final text must equal the text the trace itself ends with.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use yrs::updates::decoder::Decode;
use yrs::{GetString, ReadTxn, Text, Transact, Update};

use crate::client::{Client, Incoming, Target};
use crate::measure::{CpuSpan, CpuUse};
use crate::run_id;

#[derive(Debug, Clone, clap::Args, serde::Serialize)]
pub struct TraceArgs {
    /// A trace in `crates/loadgen/traces` by name (`automerge-paper`, `seph-blog1`) or a path to
    /// a `.json.gz` trace.
    #[arg(long, default_value = "automerge-paper")]
    pub trace: String,
    /// Replay only the first N transactions (the final text is then computed from them).
    #[arg(long)]
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct TraceReport {
    pub mode: &'static str,
    #[serde(flatten)]
    pub args: TraceArgs,
    pub transactions: usize,
    pub edits: usize,
    pub total_ms: f64,
    pub edits_per_sec: f64,
    /// Size of the final document, encoded as one v1 update.
    pub final_doc_bytes: usize,
    pub final_text_chars: usize,
    /// The observer's text equals the trace's `endContent` (or, with `--limit`, the text the
    /// replayed transactions produce).
    pub text_matches: bool,
    pub cpu: CpuUse,
}

impl TraceReport {
    pub fn summary(&self) -> String {
        format!(
            "trace {} ({} transactions, {} edits): {:.0} ms, {:.0} edits/s, final document \
             {} bytes ({} chars), text matches {}; cpu loadgen {:.2} server {}",
            self.args.trace,
            self.transactions,
            self.edits,
            self.total_ms,
            self.edits_per_sec,
            self.final_doc_bytes,
            self.final_text_chars,
            self.text_matches,
            self.cpu.loadgen_cores,
            self.cpu.server_cores.map_or("?".to_owned(), |c| format!("{c:.2}")),
        )
    }
}

/// An editing trace (josephg/editing-traces format).
#[derive(Debug, serde::Deserialize)]
pub struct EditingTrace {
    #[serde(rename = "endContent")]
    pub end_content: String,
    pub txns: Vec<TraceTxn>,
}

#[derive(Debug, serde::Deserialize)]
pub struct TraceTxn {
    /// `(position, deleted, inserted)`, positions in code points.
    pub patches: Vec<(u32, u32, String)>,
}

impl EditingTrace {
    pub fn load(name_or_path: &str) -> anyhow::Result<Self> {
        let path = resolve(name_or_path);
        let file =
            std::fs::File::open(&path).with_context(|| format!("opening {}", path.display()))?;
        let mut json = String::new();
        flate2::read::GzDecoder::new(file)
            .read_to_string(&mut json)
            .with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&json).with_context(|| format!("parsing {}", path.display()))
    }

    /// The text the first `n` transactions produce, by plain string editing.
    pub fn text_after(&self, n: usize) -> String {
        let mut chars: Vec<char> = Vec::new();
        for txn in &self.txns[..n] {
            for (pos, del, ins) in &txn.patches {
                let pos = *pos as usize;
                chars.splice(pos..pos + *del as usize, ins.chars());
            }
        }
        chars.into_iter().collect()
    }

    /// One v1 update per transaction, written by `doc` into its Y.Text `text_name`: the updates
    /// an editor would send, taken from yrs's update event.
    pub fn updates(&self, n: usize, doc: &yrs::Doc, text_name: &str) -> Vec<Vec<u8>> {
        let text = doc.get_or_insert_text(text_name);
        let updates = std::sync::Arc::new(std::sync::Mutex::new(Vec::with_capacity(n)));
        let sink = std::sync::Arc::clone(&updates);
        doc.observe_update_v1("trace", move |_: &yrs::TransactionMut<'_>, event| {
            sink.lock().expect("not poisoned").push(event.update.clone());
        })
        .expect("a fresh document accepts observers");
        for txn in &self.txns[..n] {
            let mut t = doc.transact_mut();
            for (pos, del, ins) in &txn.patches {
                if *del > 0 {
                    text.remove_range(&mut t, *pos, *del);
                }
                if !ins.is_empty() {
                    text.insert(&mut t, *pos, ins);
                }
            }
        }
        let _ = doc.unobserve_update_v1("trace");
        std::mem::take(&mut *updates.lock().expect("not poisoned"))
    }
}

/// Traces named without a path live in the crate's `traces` folder.
fn resolve(name_or_path: &str) -> PathBuf {
    let path = Path::new(name_or_path);
    if path.components().count() > 1 || name_or_path.ends_with(".gz") {
        return path.to_owned();
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("traces").join(format!("{name_or_path}.json.gz"))
}

pub async fn run(
    target: &Target,
    args: &TraceArgs,
    server_pid: Option<u32>,
) -> anyhow::Result<TraceReport> {
    let trace = EditingTrace::load(&args.trace)?;
    let n = args.limit.unwrap_or(trace.txns.len()).min(trace.txns.len());
    let expected =
        if n == trace.txns.len() { trace.end_content.clone() } else { trace.text_after(n) };
    let edits = trace.txns[..n].iter().map(|t| t.patches.len()).sum();
    // yrs counts text positions in UTF-8 bytes by default; the traces are ASCII, so bytes and
    // code points agree.
    let writer_doc = yrs::Doc::new();
    let updates = trace.updates(n, &writer_doc, "text");
    let writer_id = writer_doc.client_id();
    let target_clock = writer_doc.transact().state_vector().get(&writer_id);

    let doc = run_id("trace");
    let mut writer = Client::connect(target, &doc).await?;
    writer.sync(&yrs::Doc::new()).await?;
    let mut observer = Client::connect(target, &doc).await?;
    let initial = observer.sync(&yrs::Doc::new()).await?;

    let cpu = CpuSpan::start(server_pid)?;
    let started = Instant::now();
    let (mut tx, mut writer_rx) = writer.split();
    let send = tokio::spawn(async move {
        for chunk in updates.chunks(64) {
            for update in chunk {
                tx.feed_update(update).await?;
            }
            tx.flush().await?;
        }
        anyhow::Ok(tx)
    });
    // The writer's own socket is read too: servers answer or echo, and an unread socket would
    // stall them.
    let drain =
        tokio::spawn(async move { while let Ok(Some(_)) = writer_rx.next_frame().await {} });
    // The observer integrates as it receives, like any client: it knows it has everything when
    // its state vector reaches the writer's.
    let observed = yrs::Doc::new();
    observed.transact_mut().apply_update(Update::decode_v1(&initial)?)?;
    let mut clock = 0;
    while clock < target_clock {
        let frame = observer
            .next_frame()
            .await?
            .context("server closed the observer before the trace was through")?;
        if let Incoming::Update(update) | Incoming::SyncStep2(update) = observer.parse(&frame)? {
            let mut txn = observed.transact_mut();
            txn.apply_update(Update::decode_v1(update).context("server sent a bad update")?)?;
            clock = txn.state_vector().get(&writer_id);
        }
    }
    let total = started.elapsed();
    let cpu = cpu.finish()?;
    send.await??.close().await;
    drain.abort();
    observer.close().await;

    let text = observed.get_or_insert_text("text").get_string(&observed.transact());
    let final_doc_bytes =
        observed.transact().encode_state_as_update_v1(&yrs::StateVector::default()).len();
    Ok(TraceReport {
        mode: "trace",
        args: args.clone(),
        transactions: n,
        edits,
        total_ms: total.as_secs_f64() * 1000.0,
        edits_per_sec: edits as f64 / total.as_secs_f64(),
        final_doc_bytes,
        final_text_chars: text.chars().count(),
        text_matches: text == expected,
        cpu,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaying_the_trace_in_yrs_gives_its_end_content() {
        let trace = EditingTrace::load("seph-blog1").unwrap();
        let doc = yrs::Doc::new();
        trace.updates(trace.txns.len(), &doc, "text");
        let text = doc.get_or_insert_text("text").get_string(&doc.transact());
        assert_eq!(text, trace.end_content);
        assert_eq!(trace.text_after(trace.txns.len()), trace.end_content);
    }
}
