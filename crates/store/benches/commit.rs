//! The store's writer: commits per second and updates per commit as concurrent appenders grow
//! (group commit), SQLite in WAL mode with `synchronous=FULL`, on the machine's real disk.
//! `cargo bench -p hubring-store`.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hubring_protocol::DocId;
use hubring_store::{Store, StoreOptions};

/// A typical keystroke update's size.
const UPDATE: &[u8] = &[1, 1, 200, 151, 176, 153, 9, 5, 4, 4, 1, 116, 1, 120, 0];

fn appends(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let store = runtime
        .block_on(Store::open_path(&dir.path().join("bench.sqlite"), StoreOptions::default()))
        .expect("store");
    let mut group = c.benchmark_group("store_append");
    group.measurement_time(Duration::from_secs(5));
    let mut run = 0u64;
    // (updates, commits) over every measured batch, per appender count.
    let totals = std::rc::Rc::new(std::cell::Cell::new((0u64, 0u64)));
    for appenders in [1usize, 16, 128] {
        totals.set((0, 0));
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(BenchmarkId::new("appenders", appenders), &appenders, |b, &n| {
            b.to_async(&runtime).iter_custom(|iters| {
                run += 1;
                let store = store.clone();
                let totals = std::rc::Rc::clone(&totals);
                async move {
                    let commits_before = store.counters().commits.load(Ordering::Relaxed);
                    let per_task = iters.div_ceil(n as u64);
                    let started = Instant::now();
                    let tasks: Vec<_> = (0..n)
                        .map(|task| {
                            let store = store.clone();
                            let doc = DocId::parse(&format!("r{run}-a{task}")).expect("id");
                            tokio::spawn(async move {
                                for _ in 1..=per_task {
                                    store
                                        .append(&doc, vec![UPDATE.to_vec()])
                                        .await
                                        .expect("append");
                                }
                            })
                        })
                        .collect();
                    for task in tasks {
                        task.await.expect("appender");
                    }
                    let elapsed = started.elapsed();
                    let commits = store.counters().commits.load(Ordering::Relaxed) - commits_before;
                    // Scale to the iterations criterion asked for (tasks round up).
                    let done = per_task * n as u64;
                    let (updates, n_commits) = totals.get();
                    totals.set((updates + done, n_commits + commits));
                    elapsed.mul_f64(iters as f64 / done as f64)
                }
            });
        });
        let (updates, commits) = totals.get();
        eprintln!(
            "store_append/appenders/{appenders}: {:.1} updates per commit ({updates} in {commits})",
            updates as f64 / commits.max(1) as f64
        );
    }
    group.finish();
}

criterion_group!(benches, appends);
criterion_main!(benches);
