//! The link between a connection and its document's actor: an id, a bounded outbox of encoded
//! frames, and a close signal either side can raise.

use std::sync::{Arc, OnceLock};

use hubring_doc::Inbound;
use tokio_util::sync::CancellationToken;

use crate::SyncError;
use crate::actor::{DocCmd, DocHandle};

/// A connection's id, unique for the life of the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

impl std::fmt::Display for ConnId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "c{}", self.0)
    }
}

/// Why and how a connection is closed: a websocket close code and a short reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseReason {
    pub code: u16,
    pub reason: String,
}

/// Raised once to close a connection; the first reason wins.
#[derive(Debug, Default)]
pub struct CloseSignal {
    reason: OnceLock<CloseReason>,
    token: CancellationToken,
}

impl CloseSignal {
    /// Asks for the connection to close with `code`. Later calls change nothing; returns
    /// whether this call was the first.
    pub fn close(&self, code: u16, reason: impl Into<String>) -> bool {
        let first = self.reason.set(CloseReason { code, reason: reason.into() }).is_ok();
        self.token.cancel();
        first
    }

    /// Resolves once [`CloseSignal::close`] was called.
    pub async fn closed(&self) {
        self.token.cancelled().await;
    }

    /// The reason, once closed.
    pub fn reason(&self) -> Option<&CloseReason> {
        self.reason.get()
    }
}

/// A connection's side of its link to a document. The server feeds it decoded frames with
/// [`Conn::send`], writes what arrives in the outbox [`crate::Registry::join`] returned beside
/// it, and watches [`Conn::close`]. Dropping it tells the actor the connection left.
#[derive(Debug)]
pub struct Conn {
    pub id: ConnId,
    pub close: Arc<CloseSignal>,
    pub(crate) doc: DocHandle,
}

impl Conn {
    /// Hands a decoded frame to the document, waiting while its queue is full.
    pub async fn send(&self, msg: Inbound) -> Result<(), SyncError> {
        self.doc.send(DocCmd::Inbound { conn: self.id, msg }).await
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.doc.leave(self.id);
    }
}
