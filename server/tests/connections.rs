//! Connection floods against the real binary, run with a lowered open-files limit (`ulimit -n`)
//! so a few hundred idle sockets stand for the 21,000 that once used up the descriptors: the
//! server keeps accepting, answers `/healthz` on a fresh connection, closes idle and slowloris
//! connections after the header timeout, and an honest client editing meanwhile is unharmed.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use hubring_tests::HonestProbe;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::process::{Child, Command};
use tokio::time::Instant;

/// The binary's open-files limit in this test.
const NOFILE: usize = 512;
/// Idle connections the attacker opens: well past the limit.
const FLOOD: usize = 1200;
/// The header timeout the server is given.
const HEADER_TIMEOUT: Duration = Duration::from_secs(3);

struct Server {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

async fn start(extra: &str) -> anyhow::Result<Server> {
    let dir = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let script = format!(
        "ulimit -n {NOFILE} && exec \"$0\" serve --listen {addr} --data-dir \"$1\" --open-docs \
         --header-timeout-ms {} {extra}",
        HEADER_TIMEOUT.as_millis()
    );
    let child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_hubring"))
        .arg(dir.path())
        .env("HUBRING_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !healthz(addr).await {
        anyhow::ensure!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(Server { child, addr, _dir: dir })
}

/// `GET /healthz` on a fresh connection, answered 200 within 2 s.
async fn healthz(addr: SocketAddr) -> bool {
    let ask = async {
        let mut s = TcpStream::connect(addr).await?;
        s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").await?;
        let mut answer = Vec::new();
        s.read_to_end(&mut answer).await?;
        anyhow::Ok(answer.starts_with(b"HTTP/1.1 200"))
    };
    matches!(tokio::time::timeout(Duration::from_secs(2), ask).await, Ok(Ok(true)))
}

/// A connection from `source` (another loopback address than the honest client's).
async fn connect_from(source: [u8; 4], addr: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((source, 0)))?;
    socket.connect(addr).await
}

/// Waits until the server closes `s` (end of file or reset); false if it is still open at
/// `deadline`.
async fn closed_by(mut s: TcpStream, deadline: Instant) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_flood_is_bounded_and_health_checks_still_answer() -> anyhow::Result<()>
{
    let server = start("").await?;
    let probe = HonestProbe::start_with(
        &format!("ws://{}/ws/doc/honest", server.addr),
        format!("http://{}/healthz", server.addr),
    )
    .await?;

    let began = Instant::now();
    let mut flood = Vec::with_capacity(FLOOD);
    for _ in 0..FLOOD {
        // The kernel completes a connection whether or not the server accepts it (a refused one
        // may already be reset, which is what the server should do with it); once the backlog
        // is full, a server that stopped accepting leaves the attempt hanging, so each is
        // bounded.
        let attempt = connect_from([127, 0, 0, 2], server.addr);
        if let Ok(Ok(s)) = tokio::time::timeout(Duration::from_millis(200), attempt).await {
            flood.push(s);
        }
    }
    // The flood is held open: a fresh connection is still answered (a spare place, freed by its
    // short header timeout if the flood took it, or a place under the cap).
    let deadline = Instant::now() + Duration::from_secs(10);
    while !healthz(server.addr).await {
        assert!(Instant::now() < deadline, "/healthz on a fresh connection under the flood");
    }
    let answered_after = began.elapsed();

    // Every idle connection is closed: refused ones at once, the rest after the header timeout.
    let deadline = Instant::now() + HEADER_TIMEOUT + Duration::from_secs(5);
    let n = flood.len();
    let closed = futures_util::future::join_all(flood.into_iter().map(|s| closed_by(s, deadline)))
        .await
        .into_iter()
        .filter(|&c| c)
        .count();
    assert_eq!(closed, n, "idle connections the server closed, of those it let in");
    let report = probe.finish().await?;
    report.assert_unharmed("idle connection flood");
    // And the server serves new clients again.
    assert!(healthz(server.addr).await, "/healthz after the flood");
    eprintln!(
        "{n} idle connections under ulimit -n {NOFILE}: a fresh /healthz answered after \
         {answered_after:?}, all closed by the server within {:?}",
        began.elapsed()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowloris_connection_is_closed_at_the_header_timeout() -> anyhow::Result<()> {
    let server = start("").await?;
    let mut s = TcpStream::connect(server.addr).await?;
    let began = Instant::now();
    // One header byte every 200 ms: never idle, never done.
    let dripped = async {
        s.write_all(b"GET /healthz HTTP/1.1\r\n").await?;
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            s.write_all(b"x").await?;
        }
        #[allow(unreachable_code)]
        anyhow::Ok(())
    };
    let ended = tokio::time::timeout(HEADER_TIMEOUT + Duration::from_secs(5), dripped).await;
    let took = began.elapsed();
    assert!(ended.is_ok(), "the drip was still accepted after {took:?}");
    assert!(took >= HEADER_TIMEOUT, "closed after {took:?}, before the header timeout");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_cannot_hold_more_than_its_share() -> anyhow::Result<()> {
    let server = start("--max-connections-per-address 20").await?;
    let mut held = Vec::new();
    for _ in 0..20 {
        let mut s = connect_from([127, 0, 0, 3], server.addr).await?;
        // A kept-alive request, so each is known to be in (not waiting in the backlog).
        s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n").await?;
        let mut buf = [0u8; 256];
        let n = s.read(&mut buf).await?;
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        held.push(s);
    }
    // The 21st from that address is closed at once; another address is served.
    let extra = connect_from([127, 0, 0, 3], server.addr).await?;
    assert!(closed_by(extra, Instant::now() + Duration::from_secs(1)).await, "the 21st is closed");
    assert!(healthz(server.addr).await, "another address is served");
    // A place given back is free again.
    drop(held.pop());
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let mut s = connect_from([127, 0, 0, 3], server.addr).await?;
        s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").await?;
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer).await;
        if answer.starts_with(b"HTTP/1.1 200") {
            break;
        }
        assert!(Instant::now() < deadline, "the place given back was not freed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}
