//! `cold`: how long a freshly started Hubring takes to open and sync a document with a large
//! stored history.
//!
//! The history is written through the websocket (the automerge-paper trace, replayed into new
//! Y.Texts until the updates sent reach the size asked for), the server is stopped and started
//! again on the same data directory, and a new client's connect-to-synced time is measured, once
//! per restart. Only Hubring stores documents; the in-memory peers have nothing to open.

use std::time::Instant;

use anyhow::Context;
use yrs::updates::decoder::Decode;
use yrs::{ReadTxn, Transact, Update};

use crate::client::Client;
use crate::measure::millis;
use crate::servers::{Programs, Running, Server};
use crate::trace::EditingTrace;

#[derive(Debug, Clone, clap::Args, serde::Serialize)]
pub struct ColdArgs {
    /// History sizes to measure, in MB of updates written.
    #[arg(long, value_delimiter = ',', default_value = "1,10")]
    pub sizes_mb: Vec<f64>,
    /// Restarts (one cold open each) per size.
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ColdSample {
    pub history_bytes: usize,
    pub updates: usize,
    /// Median over the restarts: connect until the server's sync step 2 has arrived.
    pub open_synced_ms: f64,
    pub open_synced_ms_all: Vec<f64>,
    /// The client integrating that step 2 (not the server's time; reported apart).
    pub client_apply_ms: f64,
    pub state_bytes: usize,
    /// The reopened document equals what was written.
    pub content_matches: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ColdReport {
    pub mode: &'static str,
    pub samples: Vec<ColdSample>,
}

impl ColdReport {
    pub fn summary(&self) -> String {
        let mut out = String::from("cold open (fresh server, stored history):");
        for s in &self.samples {
            out.push_str(&format!(
                "\n  {:.1} MB history ({} updates): open+synced {:.1} ms (runs {:?}), client \
                 apply {:.1} ms, state {} bytes, content matches {}",
                s.history_bytes as f64 / 1e6,
                s.updates,
                s.open_synced_ms,
                s.open_synced_ms_all
                    .iter()
                    .map(|ms| (ms * 10.0).round() / 10.0)
                    .collect::<Vec<_>>(),
                s.client_apply_ms,
                s.state_bytes,
                s.content_matches,
            ));
        }
        out
    }
}

pub async fn run(programs: &Programs, args: &ColdArgs) -> anyhow::Result<ColdReport> {
    let largest = args.sizes_mb.iter().copied().fold(0.0, f64::max);
    let history = tokio::task::spawn_blocking(move || history((largest * 1e6) as usize)).await??;
    let mut samples = Vec::new();
    for &mb in &args.sizes_mb {
        samples.push(one_size(programs, &history, (mb * 1e6) as usize, args.repeat).await?);
    }
    Ok(ColdReport { mode: "cold", samples })
}

/// At least `bytes` of updates: the automerge-paper trace replayed into `text0`, `text1`, ...
/// by one writer, as many rounds as it takes.
fn history(bytes: usize) -> anyhow::Result<Vec<Vec<u8>>> {
    let trace = EditingTrace::load("automerge-paper")?;
    let writer = yrs::Doc::new();
    let mut updates = Vec::new();
    let mut total = 0;
    let mut round = 0;
    while total < bytes {
        for update in trace.updates(trace.txns.len(), &writer, &format!("text{round}")) {
            total += update.len();
            updates.push(update);
        }
        round += 1;
    }
    Ok(updates)
}

async fn one_size(
    programs: &Programs,
    history: &[Vec<u8>],
    history_bytes: usize,
    repeat: usize,
) -> anyhow::Result<ColdSample> {
    // The shortest prefix of the history with at least `history_bytes`.
    let mut written = 0;
    let n_updates = history
        .iter()
        .position(|u| {
            written += u.len();
            written >= history_bytes
        })
        .map_or(history.len(), |i| i + 1);
    let updates = &history[..n_updates];
    let expected = yrs::Doc::new();
    {
        let mut txn = expected.transact_mut();
        for update in updates {
            txn.apply_update(Update::decode_v1(update)?)?;
        }
    }

    let server = Running::start(Server::Hubring, programs, None).await?;
    let target = server.target();
    let doc_name = "cold";
    let mut client = Client::connect(&target, doc_name).await?;
    client.sync(&yrs::Doc::new()).await?;
    let (mut tx, mut rx) = client.split();
    let drain = tokio::spawn(async move { while let Ok(Some(_)) = rx.next_frame().await {} });
    for chunk in updates.chunks(64) {
        for update in chunk {
            tx.feed_update(update).await?;
        }
        tx.flush().await?;
    }
    // A second client that syncs everything proves the server holds (has committed) it all:
    // Hubring answers sync step 1 only after committing what came before.
    let expected_sv = expected.transact().state_vector();
    loop {
        let mut check = Client::connect(&target, doc_name).await?;
        let step2 = check.sync(&yrs::Doc::new()).await?;
        check.close().await;
        let probe = yrs::Doc::new();
        probe.transact_mut().apply_update(Update::decode_v1(&step2)?)?;
        if probe.transact().state_vector() == expected_sv {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    tx.close().await;
    drain.abort();
    let data = server.stop().await?.context("hubring owns its data directory")?;
    let expected_state = expected.transact().encode_state_as_update_v1(&Default::default());

    let mut times = Vec::with_capacity(repeat);
    let mut client_apply_ms = 0.0;
    let mut state_bytes = 0;
    let mut content_matches = true;
    for _ in 0..repeat.max(1) {
        let server = Running::start(Server::Hubring, programs, Some(data.path())).await?;
        let target = server.target();
        let started = Instant::now();
        let mut client = Client::connect(&target, doc_name).await?;
        let step2 = client.sync(&yrs::Doc::new()).await?;
        times.push(millis(started.elapsed()));
        let applied = Instant::now();
        let reopened = yrs::Doc::new();
        reopened.transact_mut().apply_update(Update::decode_v1(&step2)?)?;
        client_apply_ms = millis(applied.elapsed());
        state_bytes = step2.len();
        let state = reopened.transact().encode_state_as_update_v1(&Default::default());
        content_matches &= same_content(&state, &expected_state)?;
        client.close().await;
        server.stop().await?;
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    Ok(ColdSample {
        history_bytes: written,
        updates: n_updates,
        open_synced_ms: sorted[sorted.len() / 2],
        open_synced_ms_all: times,
        client_apply_ms,
        state_bytes,
        content_matches,
    })
}

/// Two encoded states hold the same content: each, applied to the other, changes nothing.
fn same_content(a: &[u8], b: &[u8]) -> anyhow::Result<bool> {
    let load = |bytes: &[u8]| -> anyhow::Result<yrs::Doc> {
        let doc = yrs::Doc::new();
        doc.transact_mut().apply_update(Update::decode_v1(bytes)?)?;
        Ok(doc)
    };
    let (a, b) = (load(a)?, load(b)?);
    let (sv_a, sv_b) = (a.transact().state_vector(), b.transact().state_vector());
    let ds = |d: &yrs::Doc| d.transact().snapshot().delete_set;
    Ok(sv_a == sv_b && ds(&a) == ds(&b))
}
