//! Soak: 200 join/leave cycles against a room with a publisher. Every cycle connects for real
//! (ICE, DTLS, SRTP), subscribes and receives video before leaving. Afterwards the process's
//! open file descriptors, its live tokio tasks and the SFU's tasks and connections are back to
//! where they started; resident memory is reported.

mod client;

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use client::{Client, WAIT, member, receive, run_publisher};
use hubring_rtc::{RtcConfig, Sfu};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const CYCLES: usize = 200;
/// Joiners at a time: four people arriving together, as at the start of a session.
const AT_ONCE: usize = 4;
/// The SFU's tasks while Ana is alone in the room: the room's own task, her connection's task
/// and the forwarder of her camera. Every guest adds a connection task and a feedback task per
/// track it receives, and both end after the guest leaves, so before and after the cycles the
/// count must be exactly this (waiting only for the connection count once let the warm-up
/// guest's tasks, still ending, into the baseline, and the end then held fewer than the start).
const ANA_ALONE: usize = 3;

/// What the process holds, to compare before and after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Held {
    fds: usize,
    tokio_tasks: usize,
    sfu_tasks: usize,
    connections: usize,
}

fn held(sfu: &Sfu) -> Held {
    let stats = sfu.stats();
    Held {
        fds: std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0),
        tokio_tasks: tokio::runtime::Handle::current().metrics().num_alive_tasks(),
        sfu_tasks: stats.tasks,
        connections: stats.connections,
    }
}

/// Resident memory in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// One person joins, receives the publisher's video, and leaves.
async fn cycle(sfu: &Sfu, name: String) -> anyhow::Result<()> {
    let (mut c, _) = Client::join(sfu, "soak", member(&name, true, false)).await?;
    c.offer_receive_only().await?;
    let track = tokio::time::timeout(WAIT, c.tracks.recv())
        .await
        .map_err(|_| anyhow::anyhow!("no track reached {name}"))?
        .expect("a track");
    let (tx, mut frames) = mpsc::unbounded_channel();
    tokio::spawn(receive(track, tx));
    tokio::time::timeout(WAIT, frames.recv())
        .await
        .map_err(|_| anyhow::anyhow!("no video reached {name}"))?
        .expect("a frame");
    c.leave().await
}

/// Waits until what the process holds meets `done` (closing is asynchronous: sockets and tasks
/// end shortly after the leave), or fails with what is held.
async fn settles(sfu: &Sfu, done: impl Fn(&Held) -> bool, what: &str) -> anyhow::Result<Held> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = held(sfu);
        if done(&now) {
            return Ok(now);
        }
        if Instant::now() > deadline {
            anyhow::bail!("waited 30 s for {what}: {now:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_join_leave_cycles_leave_nothing_behind() -> anyhow::Result<()> {
    let config = RtcConfig {
        bind_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        udp_ports: None,
        public_ip: None,
        ice_servers: Vec::new(),
    };
    let sfu = Sfu::new(
        config,
        CancellationToken::new(),
        std::sync::Arc::new(hubring_rtc::MemoryChatLog::default()),
    );
    let (ana, _) = Client::join(&sfu, "soak", member("Ana", true, true)).await?;
    let track = ana.publish_video("ana-camera").await?;
    let stop = CancellationToken::new();
    let (keys_tx, _keys) = mpsc::unbounded_channel();
    tokio::spawn(run_publisher(track, stop.clone(), keys_tx));

    // One cycle first, so that what is made once per process (thread pools, lazy tables) is
    // not counted as a leak.
    cycle(&sfu, "warm-up".into()).await?;
    let alone = |now: &Held| now.connections == 1 && now.sfu_tasks == ANA_ALONE;
    let start = settles(&sfu, alone, "the warm-up guest's connection and tasks to end").await?;
    let rss_start = rss_kib();
    let mut rss_peak = rss_start;

    let began = Instant::now();
    for round in 0..CYCLES / AT_ONCE {
        let mut joins = tokio::task::JoinSet::new();
        for i in 0..AT_ONCE {
            let sfu = sfu.clone();
            joins.spawn(async move { cycle(&sfu, format!("guest-{round}-{i}")).await });
        }
        while let Some(result) = joins.join_next().await {
            result??;
        }
        rss_peak = rss_peak.max(rss_kib());
    }
    let took = began.elapsed();
    // Back to where it started, or below (the warm-up's last sockets and runtime tasks may still
    // have been ending when the start was taken); the SFU's own counts exactly.
    let back =
        |now: &Held| now.fds <= start.fds && now.tokio_tasks <= start.tokio_tasks && alone(now);
    let end = settles(&sfu, back, &format!("the counts at the start, {start:?}")).await?;
    let rss_end = rss_kib();
    eprintln!(
        "soak: {CYCLES} join/leave cycles ({AT_ONCE} at a time) in {took:.1?}; held before and \
         after: {end:?}; resident memory {rss_start} KiB at the start, {rss_peak} KiB at the \
         peak, {rss_end} KiB at the end"
    );
    stop.cancel();
    ana.leave().await?;
    Ok(())
}
