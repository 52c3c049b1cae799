//! The load generator: a y-websocket-protocol client (both framings in use) and the workloads
//! Hubring is measured with, against itself and against the Yjs servers people run today.
//!
//! A binary tool, so `anyhow` carries its errors. It never links the server: servers under test
//! are separate processes (or, in `hubring-tests`, the server run in-process by the test), so
//! what is measured is what crosses the socket.

pub mod client;
pub mod cold;
pub mod compare;
pub mod connect;
pub mod fanout;
pub mod measure;
pub mod servers;
pub mod trace;

/// A name no earlier run used, so documents start empty on a server that keeps them.
fn run_id(mode: &str) -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{mode}-{millis}-{}-{n}", std::process::id())
}

/// Lets one process hold as many sockets as the system allows (10,000 connections need more
/// than the usual soft limit of 1,024).
pub fn raise_open_files_limit() -> std::io::Result<u64> {
    rlimit::increase_nofile_limit(u64::MAX)
}
