//! Other nodes serving the same documents.
//!
//! A document may be live on several nodes at once. Each node commits its own connections'
//! updates to the shared store, which numbers them in one order per document, then publishes
//! them to the others through [`Peers`] (Redis in a deployment). A node applies what it
//! receives in sequence order and forwards it to its own connections; whatever it does not
//! receive (a message lost, a subscription down, a queue full) it reads from the store: when a
//! later number shows the gap, when the transport reconnects, and at the latest at the next
//! check of the documents' last numbers ([`crate::SyncConfig::head_check`]). The transport may
//! lose, delay or reorder messages; it only ever costs time.
//!
//! Messages are encoded here, so every node agrees on them whatever carries them:
//! `kind (1 byte) · node (u64 LE) · body`, where an updates body is
//! `first_seq (i64 LE) · count (u32 LE) · (len (u32 LE) · update)*` and a presence body is the
//! y-websocket awareness frame as sent to clients.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use hubring_protocol::DocId;

/// A transport between the nodes serving the same store.
pub trait Peers: Send + Sync + fmt::Debug + 'static {
    /// Starts receiving `doc`'s messages and resolves once that is in place (or has failed,
    /// which the store check covers). Calls are counted: the last [`Peers::unsubscribe`] for a
    /// document stops its messages.
    fn subscribe(&self, doc: &DocId) -> BoxFuture<'static, ()>;

    /// Undoes one [`Peers::subscribe`].
    fn unsubscribe(&self, doc: &DocId);

    /// Sends `message` (encoded) for `doc` to the other nodes without waiting.
    fn publish(&self, doc: &DocId, message: Bytes);
}

/// What nodes tell each other about a live document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerMsg {
    /// Committed updates numbered `first_seq`, `first_seq + 1`...
    Updates { first_seq: i64, updates: Arc<[Bytes]> },
    /// A presence frame (y-websocket awareness) of the sender's connections.
    Awareness(Bytes),
}

const KIND_UPDATES: u8 = 1;
const KIND_AWARENESS: u8 = 2;

/// A message that does not decode (another version's, or damaged).
#[derive(Debug, thiserror::Error)]
#[error("peer message does not decode: {0}")]
pub struct PeerDecodeError(&'static str);

impl PeerMsg {
    /// The message as `node` sends it.
    pub fn encode(&self, node: u64) -> Bytes {
        let mut out = Vec::new();
        match self {
            Self::Updates { first_seq, updates } => {
                let len: usize = updates.iter().map(|u| 4 + u.len()).sum();
                out.reserve(1 + 8 + 8 + 4 + len);
                out.push(KIND_UPDATES);
                out.extend_from_slice(&node.to_le_bytes());
                out.extend_from_slice(&first_seq.to_le_bytes());
                out.extend_from_slice(&u32_len(updates.len()).to_le_bytes());
                for update in updates.iter() {
                    out.extend_from_slice(&u32_len(update.len()).to_le_bytes());
                    out.extend_from_slice(update);
                }
            }
            Self::Awareness(frame) => {
                out.reserve(1 + 8 + frame.len());
                out.push(KIND_AWARENESS);
                out.extend_from_slice(&node.to_le_bytes());
                out.extend_from_slice(frame);
            }
        }
        Bytes::from(out)
    }

    /// The sending node and its message.
    pub fn decode(bytes: &Bytes) -> Result<(u64, Self), PeerDecodeError> {
        let mut r = Reader { bytes, at: 0 };
        let kind = r.take(1)?[0];
        let node = u64::from_le_bytes(r.array()?);
        let msg = match kind {
            KIND_UPDATES => {
                let first_seq = i64::from_le_bytes(r.array()?);
                let n = u32::from_le_bytes(r.array()?) as usize;
                // Each update takes at least its 4-byte length: a count can promise no more.
                if n > (bytes.len() - r.at) / 4 {
                    return Err(PeerDecodeError("count past the end"));
                }
                let mut updates = Vec::with_capacity(n);
                for _ in 0..n {
                    let len = u32::from_le_bytes(r.array()?) as usize;
                    updates.push(r.slice(len)?);
                }
                if r.at != bytes.len() {
                    return Err(PeerDecodeError("trailing bytes"));
                }
                Self::Updates { first_seq, updates: updates.into() }
            }
            KIND_AWARENESS => Self::Awareness(bytes.slice(r.at..)),
            _ => return Err(PeerDecodeError("unknown kind")),
        };
        Ok((node, msg))
    }
}

fn u32_len(n: usize) -> u32 {
    // Updates are bounded by the frame limit (16 MiB by default), far below 4 GiB.
    u32::try_from(n).unwrap_or(u32::MAX)
}

struct Reader<'a> {
    bytes: &'a Bytes,
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], PeerDecodeError> {
        let end = self.at.checked_add(n).filter(|end| *end <= self.bytes.len());
        let end = end.ok_or(PeerDecodeError("truncated"))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], PeerDecodeError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn slice(&mut self, n: usize) -> Result<Bytes, PeerDecodeError> {
        let start = self.at;
        self.take(n)?;
        Ok(self.bytes.slice(start..self.at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let updates: Arc<[Bytes]> = vec![Bytes::from_static(b"ab"), Bytes::new()].into();
        for msg in [
            PeerMsg::Updates { first_seq: 41, updates },
            PeerMsg::Awareness(Bytes::from_static(&[1, 0])),
        ] {
            assert_eq!(PeerMsg::decode(&msg.encode(7)).unwrap(), (7, msg));
        }
    }

    #[test]
    fn damaged_messages_are_errors() {
        let good =
            PeerMsg::Updates { first_seq: 1, updates: vec![Bytes::from_static(b"xyz")].into() }
                .encode(1);
        for cut in 0..good.len() {
            assert!(PeerMsg::decode(&good.slice(..cut)).is_err(), "cut at {cut}");
        }
        let mut long = good.to_vec();
        long.push(0);
        assert!(PeerMsg::decode(&Bytes::from(long)).is_err());
        let mut huge_count = good.to_vec();
        huge_count[17..21].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(PeerMsg::decode(&Bytes::from(huge_count)).is_err());
        assert!(PeerMsg::decode(&Bytes::from_static(&[9, 0, 0, 0, 0, 0, 0, 0, 0])).is_err());
    }
}
