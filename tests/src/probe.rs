//! An honest client that keeps working while a test attacks the server: it edits its own
//! document, waits for each edit's save acknowledgement, and asks `/healthz`, recording how
//! long each took. A hardening test asserts that the attack did not slow it down.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use yrs::{Text, WriteTxn};

use crate::{DocClient, TestServer};

/// Probes taken before [`HonestProbe::finish`] stops, however quick the attack was: enough for
/// the p99 to be a percentile rather than the maximum (of 30 probes it was the slowest one, so
/// a single pause of the machine, 100–500 ms on a shared VM, failed a test with no attack
/// behind it). An attack that stalls the server therefore has to be repeated enough to be seen
/// in more than one probe in a hundred; the tests repeat theirs.
const MIN_PROBES: usize = 100;

/// Pause between two probes, so the probe measures the server rather than loading it.
const PACE: Duration = Duration::from_millis(10);

/// How long a health check may take before it counts as failed.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);

/// What the probe saw.
#[derive(Debug)]
pub struct ProbeReport {
    /// Edit round trips (sent to acknowledged as saved), sorted.
    pub round_trips: Vec<Duration>,
    /// `/healthz` answers, sorted.
    pub health: Vec<Duration>,
    /// Health checks that failed or took longer than [`HEALTH_TIMEOUT`].
    pub health_failures: usize,
}

impl ProbeReport {
    /// The `q` quantile (0..=1) of the round trips.
    pub fn round_trip(&self, q: f64) -> Duration {
        quantile(&self.round_trips, q)
    }

    /// Asserts the honest client was served as usual: p99 round trip and p99 `/healthz` answer
    /// under 100 ms, enough samples to say so, and every health check answered.
    pub fn assert_unharmed(&self, what: &str) {
        assert!(
            self.round_trips.len() >= MIN_PROBES,
            "{what}: only {} probes",
            self.round_trips.len()
        );
        let p99 = self.round_trip(0.99);
        assert!(
            p99 < Duration::from_millis(100),
            "{what}: honest p99 round trip {p99:?} (p50 {:?}, max {:?})",
            self.round_trip(0.5),
            self.round_trips.last()
        );
        assert_eq!(self.health_failures, 0, "{what}: /healthz failed during the attack");
        let health_p99 = quantile(&self.health, 0.99);
        assert!(
            health_p99 < Duration::from_millis(100),
            "{what}: /healthz p99 {health_p99:?} (max {:?})",
            self.health.last()
        );
        eprintln!(
            "{what}: honest p50 {:?} p99 {p99:?} over {} edits; /healthz p99 {health_p99:?}",
            self.round_trip(0.5),
            self.round_trips.len(),
        );
    }
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[idx]
}

/// One attack at a time in a test process: the tests of one binary run in parallel on the same
/// cores, so an attack (a presence flood, a board rendered at full size) in one test showed as
/// a 170–300 ms stall in another's probe, measured against load that was not its own.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Waits until no other attack runs in this process and holds that until the guard is dropped:
/// every hostile-input test takes it first.
pub async fn one_attack_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().await
}

/// A running probe; [`HonestProbe::finish`] stops it and reports.
#[derive(Debug)]
pub struct HonestProbe {
    stop: CancellationToken,
    task: JoinHandle<anyhow::Result<ProbeReport>>,
}

impl HonestProbe {
    /// Connects to its own document `doc` (opened without credentials) and starts probing once
    /// the first edit is saved.
    pub async fn start(server: &TestServer, doc: &str) -> anyhow::Result<Self> {
        Self::start_at(server, &server.doc_url(doc)).await
    }

    /// The same on the document websocket `url` (with its `?token=` where one is needed).
    pub async fn start_at(server: &TestServer, url: &str) -> anyhow::Result<Self> {
        Self::start_with(url, server.http_url("/healthz")).await
    }

    /// The same against any server (the real binary): the document websocket `url` and the
    /// `/healthz` URL.
    pub async fn start_with(url: &str, health_url: String) -> anyhow::Result<Self> {
        let mut client = DocClient::connect_synced(url).await?;
        client.subscribe_saved().await?;
        client.edit(|txn| txn.get_or_insert_text("t").push(txn, "warm")).await?;
        client.wait_all_saved().await?;
        let http = reqwest::Client::builder().timeout(HEALTH_TIMEOUT).build()?;
        let stop = CancellationToken::new();
        let task = tokio::spawn({
            let stop = stop.clone();
            async move {
                let mut report =
                    ProbeReport { round_trips: Vec::new(), health: Vec::new(), health_failures: 0 };
                // Each probe is timed from when it was due, not from when the probe task got to
                // run: a server that holds up the runtime during the pause between probes would
                // otherwise go unseen.
                let mut due = Instant::now();
                while !stop.is_cancelled() || report.round_trips.len() < MIN_PROBES {
                    tokio::time::sleep_until(due).await;
                    let t0 = due;
                    client.edit(|txn| txn.get_or_insert_text("t").push(txn, "x")).await?;
                    client.wait_all_saved().await?;
                    report.round_trips.push(t0.elapsed());
                    let t0 = Instant::now();
                    match http.get(&health_url).send().await {
                        Ok(reply) if reply.status().is_success() => {
                            report.health.push(t0.elapsed())
                        }
                        _ => report.health_failures += 1,
                    }
                    due = Instant::now() + PACE;
                }
                report.round_trips.sort();
                report.health.sort();
                Ok(report)
            }
        });
        Ok(Self { stop, task })
    }

    /// Stops probing (after at least [`MIN_PROBES`] probes) and returns what it saw.
    pub async fn finish(self) -> anyhow::Result<ProbeReport> {
        self.stop.cancel();
        self.task.await?
    }
}
