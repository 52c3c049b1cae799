//! A document actor: keystroke updates applied, committed (SQLite, `synchronous=FULL`) and
//! acknowledged, per second, with one writer streaming and with a reader receiving the
//! broadcast. `cargo bench -p hubring-sync`.

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hubring_doc::{Inbound, Permission, Session, message};
use hubring_protocol::DocId;
use hubring_store::{Store, StoreOptions};
use hubring_sync::{Outbox, Registry, SyncConfig};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use yrs::encoding::read::{Cursor, Read};
use yrs::{Text, Transact};

/// Updates sent per iteration batch: a fast typist's minute, streamed at once.
const BATCH: usize = 2_000;

fn keystrokes(n: usize) -> Vec<Vec<u8>> {
    let doc = yrs::Doc::new();
    let text = doc.get_or_insert_text("t");
    (0..n)
        .map(|i| {
            let mut txn = doc.transact_mut();
            text.insert(&mut txn, i as u32, "x");
            message::update(&txn.encode_update_v1())
        })
        .collect()
}

/// The `n` of a save acknowledgement frame, if `frame` is one.
fn saved(frame: &[u8]) -> Option<u64> {
    let mut cur = Cursor::new(frame);
    let kind: u8 = cur.read_var().ok()?;
    if kind != hubring_protocol::ws::MSG_SAVED {
        return None;
    }
    // A custom message's payload is length-prefixed; the count is inside it.
    let payload = cur.read_buf().ok()?;
    Cursor::new(payload).read_var().ok()
}

async fn stream(registry: &Registry, doc: &DocId, frames: &[Vec<u8>], with_reader: bool) {
    let (conn, mut outbox) = registry.join(doc).await.expect("join");
    let reader = if with_reader { Some(registry.join(doc).await.expect("join")) } else { None };
    let mut session = Session::new(Permission::Write);
    conn.send(Inbound::SubscribeSaved).await.expect("subscribe");
    let drain = reader.map(|(conn, mut rx): (_, Outbox)| {
        tokio::spawn(async move {
            let _conn = conn;
            while rx.recv().await.is_some() {}
        })
    });
    for frame in frames {
        let inbound = session.receive(frame).expect("valid frame").expect("an update");
        conn.send(inbound).await.expect("send");
    }
    let want = frames.len() as u64;
    while let Some(frame) = outbox.recv().await {
        if saved(&frame) == Some(want) {
            break;
        }
    }
    drop(conn);
    if let Some(drain) = drain {
        drain.abort();
    }
}

fn actor(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let store = runtime
        .block_on(Store::open_path(&dir.path().join("bench.sqlite"), StoreOptions::default()))
        .expect("store");
    let registry =
        Registry::new(store, SyncConfig::default(), TaskTracker::new(), CancellationToken::new());
    let frames = keystrokes(BATCH);
    let mut group = c.benchmark_group("actor_updates");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.measurement_time(Duration::from_secs(8));
    group.sample_size(20);
    let mut run = 0u64;
    for (name, with_reader) in [("writer_only", false), ("writer_and_reader", true)] {
        group.bench_function(BenchmarkId::new("applied_committed_acked", name), |b| {
            b.to_async(&runtime).iter(|| {
                run += 1;
                let doc = DocId::parse(&format!("bench-{run}")).expect("id");
                let (registry, frames) = (&registry, &frames);
                async move { stream(registry, &doc, frames, with_reader).await }
            });
        });
    }
    group.finish();
}

criterion_group!(benches, actor);
criterion_main!(benches);
