//! Accepting connections, with the limits `axum::serve` does not have: a cap on connections in
//! total and per client address (so idle sockets cannot use up the descriptors), a timeout on
//! reading a request's headers that also closes kept-alive connections left idle (slowloris),
//! and a few spare places past the cap that answer only the health probes, so a load balancer
//! still hears from a server under a connection flood.
//!
//! hyper does the HTTP; this module only decides which connections it gets and with which
//! settings (hyper's `header_read_timeout` restarts while a kept-alive connection waits for its
//! next request, so one timeout bounds both). A connection keeps its place for as long as its
//! socket is open, websockets included: the place travels inside the socket through the upgrade.

use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use dashmap::DashMap;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// Spare connections past the cap, served one request each (health probes only) with a short
/// header timeout. Few: they exist so a probe gets through a flood, not to serve the flood.
const SPARE_PLACES: usize = 64;
/// Header timeout of a spare place.
const SPARE_HEADER_TIMEOUT: Duration = Duration::from_secs(2);

/// The connection limits, from the configuration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Connections open at once, websockets included.
    pub(crate) max_total: usize,
    /// Connections open at once from one address (IPv6: one /64); 0 for no limit.
    pub(crate) max_per_address: usize,
    /// Longest wait for a request's headers, the first or the next on a kept-alive connection.
    pub(crate) header_timeout: Duration,
}

/// The key a client is counted under: an IPv4 address, or the /64 network of an IPv6 address
/// (one subscriber usually holds a whole /64, so counting single IPv6 addresses would give an
/// attacker 2^64 fresh clients). IPv4-mapped IPv6 addresses count as their IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ClientKey {
    V4([u8; 4]),
    V6Net([u8; 8]),
}

impl From<IpAddr> for ClientKey {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => ClientKey::V4(v4.octets()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientKey::V4(v4.octets()),
                None => {
                    let mut net = [0; 8];
                    net.copy_from_slice(&v6.octets()[..8]);
                    ClientKey::V6Net(net)
                }
            },
        }
    }
}

/// Who is connected, and what was turned away (for `/metrics`).
#[derive(Debug)]
pub(crate) struct Gate {
    limits: Limits,
    total: AtomicUsize,
    spare: AtomicUsize,
    per_address: DashMap<ClientKey, usize>,
    /// Connections closed at once because their address was over its limit, or every place,
    /// spare ones included, was taken.
    pub(crate) refused: AtomicU64,
    /// Connections given a spare place (health probes only).
    pub(crate) spared: AtomicU64,
}

/// What a new connection gets.
enum Admission {
    Place(Place),
    Spare(Place),
    Refused,
}

/// A connection's place, given back when the socket closes.
#[derive(Debug)]
struct Place {
    gate: Arc<Gate>,
    key: ClientKey,
    spare: bool,
}

impl Drop for Place {
    fn drop(&mut self) {
        let counter = if self.spare { &self.gate.spare } else { &self.gate.total };
        counter.fetch_sub(1, Ordering::AcqRel);
        self.gate.release_address(self.key);
    }
}

impl Gate {
    pub(crate) fn new(limits: Limits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            total: AtomicUsize::new(0),
            spare: AtomicUsize::new(0),
            per_address: DashMap::new(),
            refused: AtomicU64::new(0),
            spared: AtomicU64::new(0),
        })
    }

    pub(crate) fn limits(&self) -> Limits {
        self.limits
    }

    /// Connections open now, spare places included.
    pub(crate) fn open(&self) -> usize {
        self.total.load(Ordering::Acquire) + self.spare.load(Ordering::Acquire)
    }

    /// Gives back one of the address's places, forgetting the address at zero.
    fn release_address(&self, key: ClientKey) {
        if let dashmap::Entry::Occupied(mut n) = self.per_address.entry(key) {
            *n.get_mut() -= 1;
            if *n.get() == 0 {
                n.remove();
            }
        }
    }

    fn admit(self: &Arc<Self>, ip: IpAddr) -> Admission {
        let key = ClientKey::from(ip);
        {
            // The address's count is checked and raised under its map entry's lock, so two
            // connections from one address cannot both take its last place.
            let mut n = self.per_address.entry(key).or_insert(0);
            if self.limits.max_per_address != 0 && *n >= self.limits.max_per_address {
                drop(n);
                self.refused.fetch_add(1, Ordering::Relaxed);
                return Admission::Refused;
            }
            *n += 1;
        }
        let take = |counter: &AtomicUsize, max: usize| {
            counter
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < max).then_some(n + 1))
        };
        if take(&self.total, self.limits.max_total).is_ok() {
            return Admission::Place(Place { gate: self.clone(), key, spare: false });
        }
        if take(&self.spare, SPARE_PLACES).is_ok() {
            self.spared.fetch_add(1, Ordering::Relaxed);
            return Admission::Spare(Place { gate: self.clone(), key, spare: true });
        }
        self.release_address(key);
        self.refused.fetch_add(1, Ordering::Relaxed);
        Admission::Refused
    }
}

/// Serves `app` on `listener` until `shutdown` fires; connections without a place under the cap
/// but with a spare one are served `spare` (the health probes), one request each. Returns once
/// every HTTP connection has finished (websockets close on the shutdown signal themselves).
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    spare: Router,
    gate: Arc<Gate>,
    shutdown: CancellationToken,
) {
    let connections = TaskTracker::new();
    loop {
        let (stream, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    accept_failed(&err).await;
                    continue;
                }
            },
        };
        let (place, router, header_timeout, keep_alive) = match gate.admit(peer.ip()) {
            Admission::Place(place) => (place, &app, gate.limits.header_timeout, true),
            Admission::Spare(place) => {
                (place, &spare, gate.limits.header_timeout.min(SPARE_HEADER_TIMEOUT), false)
            }
            Admission::Refused => {
                tracing::debug!(%peer, "connection refused: over the connection limits");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(Counted { stream: Some(stream), place: Some(place) });
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request)
        });
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .keep_alive(keep_alive);
            let conn = builder.serve_connection(io, service).with_upgrades();
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(err) = result {
                        tracing::trace!(%err, "connection ended with an error");
                    }
                }
                () = shutdown.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    drop(listener);
    connections.close();
    connections.wait().await;
}

/// An accept that failed: a connection that went away before it was accepted is skipped; any
/// other failure (out of descriptors) is logged and accepting pauses briefly, since retrying at
/// once would only spin.
async fn accept_failed(err: &io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(err.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    tracing::warn!(%err, "accepting a connection failed; pausing accepts for 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// A socket holding its connection's place: the place is given back when the socket is dropped,
/// which for a websocket is when it closes, long after hyper has handed it over.
///
/// Dropped, it closes the way nginx's `lingering_close` does: our side is shut (a FIN after
/// whatever was written last, such as a websocket close frame), then what the client still
/// sends is read and thrown away until it closes too, for at most [`LINGER`]. Closing a socket
/// with unread input makes the kernel answer with a reset, which destroys what the client had
/// not read yet: a client refused in the middle of a 16 MiB frame lost its 1009.
#[derive(Debug)]
struct Counted {
    /// `None` only once dropped.
    stream: Option<TcpStream>,
    place: Option<Place>,
}

/// Longest a closed connection is read for before its socket is let go.
const LINGER: Duration = Duration::from_secs(2);

impl Counted {
    fn stream(&mut self) -> Pin<&mut TcpStream> {
        Pin::new(self.stream.as_mut().expect("open until dropped"))
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let (Some(stream), Some(place)) = (self.stream.take(), self.place.take()) else { return };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(linger(stream, place));
        }
    }
}

/// Shuts our side, then reads until the client closes or [`LINGER`] is over; the connection
/// keeps its place meanwhile (it still holds a descriptor).
async fn linger(mut stream: TcpStream, _place: Place) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = stream.shutdown().await;
    let mut buf = vec![0u8; 16 << 10];
    let _ =
        tokio::time::timeout(LINGER, async { while let Ok(1..) = stream.read(&mut buf).await {} })
            .await;
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.stream().poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.stream().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.as_ref().is_some_and(TcpStream::is_write_vectored)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream().poll_shutdown(cx)
    }
}

/// The default cap on connections: three quarters of the open-files limit (after raising it to
/// the hard limit), the rest left for the database, the video rooms' UDP sockets and files.
pub(crate) fn default_max_connections() -> usize {
    let soft = rlimit::increase_nofile_limit(u64::MAX)
        .or_else(|_| rlimit::getrlimit(rlimit::Resource::NOFILE).map(|(soft, _)| soft))
        .unwrap_or(1024);
    usize::try_from(soft / 4 * 3).unwrap_or(usize::MAX).max(64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(max_total: usize, max_per_address: usize) -> Arc<Gate> {
        Gate::new(Limits { max_total, max_per_address, header_timeout: Duration::from_secs(1) })
    }

    #[test]
    fn ipv6_counts_by_its_64_network_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:0:0:9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ClientKey::from(a), ClientKey::from(b));
        assert_ne!(ClientKey::from(a), ClientKey::from(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(ClientKey::from(mapped), ClientKey::from(v4));
    }

    #[test]
    fn an_address_over_its_limit_is_refused_and_others_are_not() {
        let gate = gate(100, 2);
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let a2: IpAddr = "2001:db8::2".parse().unwrap();
        let b: IpAddr = "192.0.2.1".parse().unwrap();
        let first = gate.admit(a);
        let _second = gate.admit(a2);
        assert!(matches!(gate.admit(a), Admission::Refused), "a third from one /64");
        assert!(matches!(gate.admit(b), Admission::Place(_)));
        drop(first);
        assert!(matches!(gate.admit(a), Admission::Place(_)), "a closed place is given back");
        assert_eq!(gate.refused.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn past_the_cap_come_the_spare_places_then_refusal_and_all_is_given_back() {
        let gate = gate(3, 0);
        let ip = |n: u8| IpAddr::from([10, 0, 0, n]);
        let mut held: Vec<Admission> = (0..3).map(|n| gate.admit(ip(n))).collect();
        assert!(held.iter().all(|a| matches!(a, Admission::Place(_))));
        for n in 0..SPARE_PLACES {
            let admission = gate.admit(ip(100 + (n % 100) as u8));
            assert!(matches!(admission, Admission::Spare(_)), "spare place {n}");
            held.push(admission);
        }
        assert!(matches!(gate.admit(ip(250)), Admission::Refused));
        assert_eq!(gate.open(), 3 + SPARE_PLACES);
        drop(held);
        assert_eq!(gate.open(), 0);
        assert!(gate.per_address.is_empty(), "no address is left counted");
    }
}
