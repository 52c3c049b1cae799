//! How the SFU meets the network: where it binds, which ports, what address it announces, and
//! which STUN/TURN servers browsers are told about.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};

use hubring_protocol::room::IceServer;

/// The SFU's network settings (`--rtc-*` options of the server).
#[derive(Debug, Clone)]
pub struct RtcConfig {
    /// The address media sockets bind to. `0.0.0.0` binds every interface except loopback.
    pub bind_ip: IpAddr,
    /// UDP ports for media, inclusive; each participant's connection takes one. `None`: any.
    pub udp_ports: Option<(u16, u16)>,
    /// The address browsers reach this server at, when it sits behind 1:1 NAT (a cloud VM's
    /// public address): announced instead of the interface address.
    pub public_ip: Option<IpAddr>,
    /// Given to browsers (TURN relays for people behind strict firewalls; coturn works).
    pub ice_servers: Vec<IceServer>,
}

impl Default for RtcConfig {
    fn default() -> Self {
        Self {
            bind_ip: IpAddr::from([0, 0, 0, 0]),
            udp_ports: None,
            public_ip: None,
            ice_servers: Vec::new(),
        }
    }
}

/// Hands out ports of the range in turn, so a port freed by someone who left is reused last.
#[derive(Debug, Default)]
pub(crate) struct PortCursor(AtomicU32);

impl PortCursor {
    /// Ports to try, starting after the last one handed out; `[0]` (any) without a range.
    pub(crate) fn candidates(&self, range: Option<(u16, u16)>) -> Vec<u16> {
        let Some((low, high)) = range else { return vec![0] };
        let span = u32::from(high - low) + 1;
        let start = self.0.fetch_add(1, Ordering::Relaxed) % span;
        (0..span).map(|i| low + ((start + i) % span) as u16).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_rotate_through_the_range() {
        let cursor = PortCursor::default();
        assert_eq!(cursor.candidates(None), vec![0]);
        assert_eq!(cursor.candidates(Some((5000, 5002))), vec![5000, 5001, 5002]);
        assert_eq!(cursor.candidates(Some((5000, 5002))), vec![5001, 5002, 5000]);
        assert_eq!(cursor.candidates(Some((7000, 7000))), vec![7000]);
    }
}
