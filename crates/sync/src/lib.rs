//! Live documents: the registry of documents in memory, one actor task per document, and the
//! durability rule that ties them to the store.
//!
//! The actor ([`actor`]) alone owns a document's `DocState`. It applies what its connections
//! send, commits the new updates to the store, and only then broadcasts them and answers sync
//! requests (persist, then broadcast). Whatever arrives while a commit is in flight waits in the
//! actor's queue and joins the next commit (group commit). This crate never touches a socket:
//! a connection is a [`Conn`] the server feeds with decoded frames and drains through its outbox.

mod actor;
mod conn;
mod outbox;
mod peers;
mod registry;

use std::time::Duration;

pub use actor::{Edit, TakeVersion};
pub use conn::{CloseReason, CloseSignal, Conn, ConnId, TrySendError};
pub use outbox::Outbox;
pub use peers::{PeerDecodeError, PeerMsg, Peers};
pub use registry::{Registry, SyncCounters};

/// Settings of the live-document layer.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// How long a document with no connection stays in memory before it is evicted.
    pub idle_evict: Duration,
    /// Updates in a document's log after which it is merged into a snapshot.
    pub compact_after: usize,
    /// Frames a connection may have queued before it counts as too slow and is closed.
    pub outbox_capacity: usize,
    /// Commands an actor may have queued before senders wait.
    pub actor_queue: usize,
    /// With other nodes: how often live documents' last numbers are read from the store, the
    /// longest a lost message can delay an edit.
    pub head_check: Duration,
    /// With other nodes: how long a document waits for a missing number to arrive before it
    /// reads it from the store (messages of two nodes may arrive out of order).
    pub gap_wait: Duration,
    /// A version is taken automatically once people have edited this long since the last one
    /// (and whenever the last editor leaves).
    pub version_every: Duration,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            idle_evict: Duration::from_secs(30),
            compact_after: 1000,
            outbox_capacity: 1024,
            actor_queue: 4096,
            head_check: Duration::from_secs(1),
            gap_wait: Duration::from_millis(200),
            version_every: Duration::from_secs(600),
        }
    }
}

/// Errors a connection can get from the live-document layer.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("document could not be loaded: {0}")]
    Load(String),
    #[error("the server is shutting down")]
    ShuttingDown,
    #[error("the document is gone")]
    Gone,
    #[error("the store failed: {0}")]
    Store(String),
}
