//! Video rooms under load: one publisher to N subscribers (a peer-learning session with one
//! presenter), and rooms where everyone publishes. `cargo bench -p hubring-rtc --bench rooms`.
//!
//! The SFU runs on a runtime of its own ("sfu" threads), the webrtc-crate clients on another
//! ("clients" threads), in one process on loopback. The SFU's CPU is read from its threads'
//! scheduler statistics, so the clients' work (their SRTP, their decryption) is not counted
//! against it; but the two share the machine's cores, so where the clients are busy they take
//! CPU the SFU could have used. Each publisher sends 30 frames a second of three 1,000-byte
//! packets (about 750 kbit/s, a middle simulcast layer). Every packet carries its publisher, its
//! number and when it was sent: a subscriber counts what arrived in the measured window (loss)
//! and how long it took from the publisher's write to the subscriber's read (forwarding delay,
//! through both clients' webrtc stacks and the SFU).
//!
//! Options: `--quick` (short windows, small rooms: proves the machinery), `--fanout N,N,…`,
//! `--all N,N,…`, `--seconds S`.

#[path = "../tests/client/mod.rs"]
mod client;

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use client::{Client, WAIT, member};
use hubring_rtc::{JoinRequest, Member, RtcConfig, Sfu};
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp;
use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};

const FPS: u64 = 30;
const PACKETS_PER_FRAME: u32 = 3;
const PACKET_BYTES: usize = 1000;
/// Loss at or above this ends a ramp: the room before it is the largest that held.
const LOSS_LIMIT: f64 = 0.01;

/// What one subscriber received: (publisher, packet number, delay in µs), while collecting.
type Received = Arc<Mutex<Vec<(u8, u32, u32)>>>;

/// Shared by every client of one scenario.
struct Probe {
    epoch: Instant,
    collecting: AtomicBool,
}

impl Probe {
    fn micros(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }
}

/// A packet: a VP8 descriptor (start of partition on a frame's first packet, with the
/// keyframe bit), then publisher, number and send time, then padding.
fn payload(publisher: u8, n: u32, sent_us: u64, first: bool, key: bool) -> Vec<u8> {
    let mut p = Vec::with_capacity(PACKET_BYTES);
    p.push(if first { 0x10 } else { 0x00 });
    p.push(if key { 0x00 } else { 0x01 });
    p.push(publisher);
    p.extend_from_slice(&n.to_be_bytes());
    p.extend_from_slice(&sent_us.to_be_bytes());
    p.resize(PACKET_BYTES, 0xa5);
    p
}

/// Sends 30 frames a second until `stop`; a keyframe first and when asked. `sent` counts
/// packets written.
async fn publish(
    track: Arc<TrackLocalStaticRTP>,
    index: u8,
    probe: Arc<Probe>,
    sent: Arc<AtomicU32>,
    stop: CancellationToken,
) {
    let want_key = Arc::new(AtomicBool::new(true));
    let (poller, flag, done) = (track.clone(), want_key.clone(), stop.clone());
    tokio::spawn(async move {
        loop {
            let event = tokio::select! {
                e = poller.poll() => e,
                () = done.cancelled() => None,
            };
            let Some(event) = event else { break };
            if let TrackLocalEvent::OnRtcpPacket(packets) = event
                && packets.iter().any(|p| p.as_any().is::<PictureLossIndication>())
            {
                flag.store(true, Ordering::Relaxed);
            }
        }
    });
    let mut every = tokio::time::interval(Duration::from_micros(1_000_000 / FPS));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut seq = 1u16;
    let mut frame = 0u32;
    while !stop.is_cancelled() {
        every.tick().await;
        let key = want_key.swap(false, Ordering::Relaxed);
        for i in 0..PACKETS_PER_FRAME {
            let n = sent.load(Ordering::Relaxed);
            let mut packet = rtp::Packet::default();
            packet.header.version = 2;
            packet.header.payload_type = 96;
            packet.header.sequence_number = seq;
            packet.header.timestamp = frame.wrapping_mul(90_000 / FPS as u32);
            packet.header.ssrc = 0x5eed;
            packet.header.marker = i + 1 == PACKETS_PER_FRAME;
            packet.payload = payload(index, n, probe.micros(), i == 0, key).into();
            if track.write_rtp(packet).await.is_ok() {
                seq = seq.wrapping_add(1);
                sent.fetch_add(1, Ordering::Relaxed);
            }
        }
        frame = frame.wrapping_add(1);
    }
}

/// Reads one received track into `into` while the probe collects.
async fn read(track: Arc<dyn TrackRemote>, probe: Arc<Probe>, into: Received) {
    while let Some(event) = track.poll().await {
        if let TrackRemoteEvent::OnRtpPacket(packet) = event
            && packet.payload.len() >= 15
            && probe.collecting.load(Ordering::Relaxed)
        {
            let p = &packet.payload;
            let n = u32::from_be_bytes([p[3], p[4], p[5], p[6]]);
            let sent = u64::from_be_bytes([p[7], p[8], p[9], p[10], p[11], p[12], p[13], p[14]]);
            let delay = probe.micros().saturating_sub(sent);
            into.lock().unwrap().push((p[2], n, u32::try_from(delay).unwrap_or(u32::MAX)));
        }
    }
}

/// CPU time of this process's threads whose name starts with `prefix`.
fn thread_cpu(prefix: &str) -> Duration {
    let mut total = Duration::ZERO;
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return total };
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !comm.starts_with(prefix) {
            continue;
        }
        // The first field: nanoseconds on a CPU.
        let stat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
        if let Some(ns) = stat.split_whitespace().next().and_then(|v| v.parse().ok()) {
            total += Duration::from_nanos(ns);
        }
    }
    total
}

fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command's closing parenthesis; utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // USER_HZ is 100 on Linux.
    let ticks = field(11) + field(12);
    Duration::from_millis(ticks * 10)
}

struct Outcome {
    people: usize,
    publishers: usize,
    /// Packets the SFU should have delivered in the window, and did.
    expected: u64,
    received: u64,
    p50_ms: f64,
    p99_ms: f64,
    sfu_cores: f64,
    clients_cores: f64,
    window_s: f64,
}

impl Outcome {
    fn loss(&self) -> f64 {
        if self.expected == 0 { 1.0 } else { 1.0 - self.received as f64 / self.expected as f64 }
    }

    fn row(&self, baseline: Option<&Outcome>) -> String {
        let per_s = self.expected as f64 / self.window_s();
        let us_per_packet = self.sfu_cores * 1e6 / (self.received.max(1) as f64 / self.window_s());
        let ratio = baseline.map_or(String::new(), |b| {
            let b_us = b.sfu_cores * 1e6 / (b.received.max(1) as f64 / b.window_s());
            format!(" ({:.2}×)", us_per_packet / b_us)
        });
        format!(
            "| {} | {} | {:.0} | {:.2}% | {:.1} ms | {:.1} ms | {:.2} | {:.1} µs{} | {:.2} |",
            self.people,
            self.publishers,
            per_s,
            self.loss() * 100.0,
            self.p50_ms,
            self.p99_ms,
            self.sfu_cores,
            us_per_packet,
            ratio,
            self.clients_cores,
        )
    }

    fn window_s(&self) -> f64 {
        self.window_s
    }
}

/// Joins on the SFU's runtime, so that the room and its connections run there.
async fn join(sfu: &Sfu, server: &tokio::runtime::Handle, room: &str, who: Member) -> Client {
    let sfu = sfu.clone();
    let request = JoinRequest { room: room.into(), doc_id: format!("doc-{room}"), member: who };
    let session = server.spawn(async move { sfu.join(request) }).await.expect("joined");
    let (client, _) = Client::attach(session, Instant::now()).await.expect("welcomed");
    client
}

/// One room: `people` join, the first `publishers` of them publish, everyone receives the
/// others; then a window of `window` is measured.
async fn scenario(
    sfu: &Sfu,
    server: &tokio::runtime::Handle,
    room: &str,
    people: usize,
    publishers: usize,
    window: Duration,
) -> Outcome {
    let probe = Arc::new(Probe { epoch: Instant::now(), collecting: AtomicBool::new(false) });
    let stop = CancellationToken::new();
    let mut clients = Vec::new();
    let mut sent = Vec::new();
    let mut inboxes: Vec<(usize, Received)> = Vec::new();
    for i in 0..people {
        let mut c = join(sfu, server, room, member(&format!("p{i}"), true, i == 0)).await;
        if i < publishers {
            let track = c.publish_video(&format!("cam-{i}")).await.expect("published");
            let count = Arc::new(AtomicU32::new(0));
            tokio::spawn(publish(track, i as u8, probe.clone(), count.clone(), stop.clone()));
            sent.push(count);
        } else {
            c.offer_receive_only().await.expect("offered");
        }
        // Everyone receives every publisher but themselves.
        let into: Received = Arc::default();
        let tracks = std::mem::replace(&mut c.tracks, tokio::sync::mpsc::unbounded_channel().1);
        let (probe, into2) = (probe.clone(), into.clone());
        tokio::spawn(async move {
            let mut tracks = tracks;
            while let Some(track) = tracks.recv().await {
                tokio::spawn(read(track, probe.clone(), into2.clone()));
            }
        });
        inboxes.push((i, into));
        clients.push(c);
    }
    // Settle: every subscription connected and started at a keyframe.
    probe.collecting.store(true, Ordering::Relaxed);
    let settle = Instant::now() + WAIT;
    loop {
        let ready = inboxes.iter().all(|(i, into)| {
            let want = publishers - usize::from(*i < publishers);
            let got: HashSet<u8> = into.lock().unwrap().iter().map(|r| r.0).collect();
            got.len() >= want
        });
        if ready || Instant::now() > settle {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for (_, into) in &inboxes {
        into.lock().unwrap().clear();
    }
    // The window.
    let start: Vec<u32> = sent.iter().map(|s| s.load(Ordering::Relaxed)).collect();
    let (sfu0, clients0, process0) = (thread_cpu("sfu"), thread_cpu("clients"), process_cpu());
    let began = Instant::now();
    tokio::time::sleep(window).await;
    let end: Vec<u32> = sent.iter().map(|s| s.load(Ordering::Relaxed)).collect();
    let took = began.elapsed();
    let (sfu1, clients1, process1) = (thread_cpu("sfu"), thread_cpu("clients"), process_cpu());
    // What was sent in the window and is still on its way.
    tokio::time::sleep(Duration::from_millis(500)).await;
    probe.collecting.store(false, Ordering::Relaxed);
    stop.cancel();

    let mut expected = 0u64;
    let mut received = 0u64;
    let mut delays = Vec::new();
    for (i, into) in &inboxes {
        let got = into.lock().unwrap();
        let mut seen = HashSet::new();
        for &(publisher, n, delay) in got.iter() {
            let p = usize::from(publisher);
            if p < publishers && n >= start[p] && n < end[p] && seen.insert((publisher, n)) {
                received += 1;
                delays.push(delay);
            }
        }
        for p in 0..publishers {
            if p != *i {
                expected += u64::from(end[p] - start[p]);
            }
        }
    }
    delays.sort_unstable();
    let pct = |q: f64| {
        delays.get(((delays.len() as f64 - 1.0) * q) as usize).map_or(f64::NAN, |d| *d as f64 / 1e3)
    };
    let secs = took.as_secs_f64();
    let outcome = Outcome {
        people,
        publishers,
        expected,
        received,
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
        sfu_cores: (sfu1 - sfu0).as_secs_f64() / secs,
        clients_cores: (clients1 - clients0).as_secs_f64() / secs,
        window_s: secs,
    };
    eprintln!(
        "  {room}: {people} people, {publishers} publishing: {}/{} packets, loss {:.2}%, delay p50 \
         {:.1} ms p99 {:.1} ms, SFU {:.2} cores, clients {:.2}, process {:.2}",
        received,
        expected,
        outcome.loss() * 100.0,
        outcome.p50_ms,
        outcome.p99_ms,
        outcome.sfu_cores,
        outcome.clients_cores,
        (process1.saturating_sub(process0)).as_secs_f64() / secs,
    );
    for c in clients {
        let _ = c.leave().await;
    }
    outcome
}

fn list(args: &[String], flag: &str, default: &[usize]) -> Vec<usize> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.split(',').filter_map(|n| n.parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}

fn runtime(name: &str) -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .enable_all()
        .build()
        .expect("a runtime")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let seconds = list(&args, "--seconds", &[if quick { 1 } else { 5 }])[0];
    let window = Duration::from_secs(seconds as u64);
    let fanout =
        list(&args, "--fanout", if quick { &[1, 3] } else { &[1, 5, 10, 20, 30, 50, 75, 100] });
    let all = list(&args, "--all", if quick { &[3] } else { &[4, 6, 8, 10, 12, 14, 16] });

    let server = runtime("sfu");
    let clients = runtime("clients");
    let config = RtcConfig {
        bind_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        udp_ports: None,
        public_ip: None,
        ice_servers: Vec::new(),
    };
    let sfu = server.block_on(async {
        Sfu::new(
            config,
            CancellationToken::new(),
            std::sync::Arc::new(hubring_rtc::MemoryChatLog::default()),
        )
    });
    let handle = server.handle().clone();
    clients.block_on(async {
        let header = "| people | publishing | packets/s due | loss | delay p50 | delay p99 | SFU \
                      cores | SFU CPU per packet | clients' cores |\n|---:|---:|---:|---:|---:|\
                      ---:|---:|---:|---:|";
        let mut table = vec![
            format!("One publisher to N subscribers, {seconds} s windows:"),
            header.to_owned(),
        ];
        let mut baseline = None;
        let mut largest = None;
        for (k, n) in fanout.iter().enumerate() {
            let o = scenario(&sfu, &handle, &format!("fanout-{k}"), n + 1, 1, window).await;
            table.push(o.row(baseline.as_ref()));
            let held = o.loss() < LOSS_LIMIT;
            if held {
                largest = Some(n + 1);
            }
            if baseline.is_none() {
                baseline = Some(o);
            }
            if !held {
                break;
            }
        }
        table.push(format!(
            "\nLargest fan-out room under 1% loss: {}",
            largest.map_or("none".to_owned(), |n| format!("{n} people"))
        ));
        table.push(format!("\nEveryone publishing, {seconds} s windows:"));
        table.push(header.to_owned());
        let mut largest = None;
        for (k, n) in all.iter().enumerate() {
            let o = scenario(&sfu, &handle, &format!("all-{k}"), *n, *n, window).await;
            table.push(o.row(baseline.as_ref()));
            if o.loss() >= LOSS_LIMIT {
                break;
            }
            largest = Some(*n);
        }
        table.push(format!(
            "\nLargest all-publish room under 1% loss: {}",
            largest.map_or("none".to_owned(), |n| format!("{n} people"))
        ));
        eprintln!("\n{}", table.join("\n"));
    });
}
