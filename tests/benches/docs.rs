//! Document sync measured end to end on loopback, persistence on (`cargo bench -p hubring-tests`):
//! update round-trip latency, one document's update throughput, and the commits group commit
//! needs for it, single document and many. The heavier workloads and the comparison with other
//! servers are `hubring-loadgen`'s (`BENCHMARKS.md`); this keeps a quick end-to-end check next
//! to the sync code.

// A benchmark reports on standard output.
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use hubring_tests::{DocClient, Event, TestServer};
use yrs::{Text, WriteTxn};

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        round_trip(2000).await?;
        throughput(1, 20_000).await?;
        throughput(50, 1_000).await?;
        Ok(())
    })
}

async fn round_trip(n: usize) -> anyhow::Result<()> {
    let server = TestServer::start().await;
    let url = server.doc_url("rtt");
    let mut writer = DocClient::connect_synced(&url).await?;
    let mut observer = DocClient::connect_synced(&url).await?;
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        let start = Instant::now();
        writer.edit(|txn| txn.get_or_insert_text("t").push(txn, &format!("{i} "))).await?;
        observer.wait_for(|e| *e == Event::Update).await?;
        samples.push(start.elapsed());
    }
    samples.sort();
    let pct = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    println!(
        "round-trip (write -> committed -> other client), {n} sequential updates: p50 {:?}  p99 {:?}  max {:?}",
        pct(0.50),
        pct(0.99),
        samples[samples.len() - 1]
    );
    server.stop().await;
    Ok(())
}

/// `n_docs` documents, one writer each streaming `n_updates` small updates without waiting.
async fn throughput(n_docs: usize, n_updates: u64) -> anyhow::Result<()> {
    let server =
        TestServer::start_with(|args| args.metrics_token = Some(METRICS_TOKEN.into())).await;
    let before = metrics(&server).await?;
    let start = Instant::now();
    let mut writers = Vec::new();
    for d in 0..n_docs {
        let url = server.doc_url(&format!("tp-{d}"));
        writers.push(tokio::spawn(async move {
            let mut w = DocClient::connect_synced(&url).await?;
            w.subscribe_saved().await?;
            for i in 0..n_updates {
                w.edit(|txn| txn.get_or_insert_text("t").push(txn, &format!("{i} "))).await?;
            }
            w.wait_all_saved().await?;
            anyhow::Ok(())
        }));
    }
    for w in writers {
        w.await??;
    }
    let elapsed = start.elapsed();
    let after = metrics(&server).await?;
    let commits = after.0 - before.0;
    let updates = after.1 - before.1;
    let secs = elapsed.as_secs_f64();
    println!(
        "throughput, {n_docs} doc(s) x {n_updates} streamed updates, all acknowledged: {:.0} updates/s, \
         {commits} commits ({:.0} commits/s, {:.1} updates/commit) in {:.2?}",
        updates as f64 / secs,
        commits as f64 / secs,
        updates as f64 / commits.max(1) as f64,
        elapsed,
    );
    server.stop().await;
    Ok(())
}

const METRICS_TOKEN: &str = "bench-metrics";

async fn metrics(server: &TestServer) -> anyhow::Result<(u64, u64)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(server.addr).await?;
    let request = format!(
        "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {METRICS_TOKEN}\r\n\
         Connection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut body = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut body)).await??;
    let value = |name: &str| -> anyhow::Result<u64> {
        let line = body
            .lines()
            .find(|l| l.starts_with(name))
            .ok_or_else(|| anyhow::anyhow!("{name} missing"))?;
        Ok(line.rsplit(' ').next().unwrap_or("0").parse()?)
    };
    Ok((value("hubring_store_commits_total")?, value("hubring_store_updates_total")?))
}
