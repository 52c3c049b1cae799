//! The link between a connection and its document's actor: an id, a bounded outbox of encoded
//! frames, and a close signal either side can raise.

use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;
use hubring_doc::Inbound;

use tokio::sync::mpsc;

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
    /// The client went away (closed, reset, stopped reading): nothing was refused, so what it
    /// sent before going is still applied, in order, until its `Leave` arrives.
    pub departed: bool,
}

/// Raised once to close a connection; the first reason wins. One task, the connection's own,
/// waits for it.
#[derive(Debug, Default)]
pub struct CloseSignal {
    reason: OnceLock<CloseReason>,
    waiter: AtomicWaker,
}

impl CloseSignal {
    /// Asks for the connection to close with `code`. Later calls change nothing; returns
    /// whether this call was the first.
    pub fn close(&self, code: u16, reason: impl Into<String>) -> bool {
        self.raise(CloseReason { code, reason: reason.into(), departed: false })
    }

    /// Records that the client went away (1001). Unlike [`CloseSignal::close`], this refuses
    /// nothing: frames the connection already handed to the document are still applied.
    pub fn departed(&self, reason: impl Into<String>) -> bool {
        let code = hubring_protocol::ws::close::GOING_AWAY;
        self.raise(CloseReason { code, reason: reason.into(), departed: true })
    }

    fn raise(&self, reason: CloseReason) -> bool {
        let first = self.reason.set(reason).is_ok();
        self.waiter.wake();
        first
    }

    /// Ready once [`CloseSignal::close`] was called. Only the last task to poll is woken.
    pub fn poll_closed(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.reason.get().is_some() {
            return Poll::Ready(());
        }
        self.waiter.register(cx.waker());
        // Raised between the check and the registration: `close` found no waker to wake.
        if self.reason.get().is_some() { Poll::Ready(()) } else { Poll::Pending }
    }

    /// Resolves once [`CloseSignal::close`] was called (see [`CloseSignal::poll_closed`]).
    pub async fn closed(&self) {
        std::future::poll_fn(|cx| self.poll_closed(cx)).await;
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

    /// Hands a decoded frame to the document if its queue has room, without waiting.
    pub fn try_send(&self, msg: Inbound) -> Result<(), TrySendError> {
        self.doc.try_send(DocCmd::Inbound { conn: self.id, msg }).map_err(|err| match err {
            mpsc::error::TrySendError::Full(DocCmd::Inbound { msg, .. }) => TrySendError::Full(msg),
            _ => TrySendError::Gone,
        })
    }

    /// [`Conn::send`] as a future that does not borrow the connection, for poll-based callers
    /// that hold it while the queue is full.
    pub fn send_owned(
        &self,
        msg: Inbound,
    ) -> impl Future<Output = Result<(), SyncError>> + Send + 'static {
        let doc = self.doc.clone();
        let cmd = DocCmd::Inbound { conn: self.id, msg };
        async move { doc.send(cmd).await }
    }
}

/// Why [`Conn::try_send`] did not hand a frame over.
#[derive(Debug)]
pub enum TrySendError {
    /// The document's queue is full; the frame is handed back, to wait with
    /// [`Conn::send_owned`].
    Full(Inbound),
    /// The document is gone.
    Gone,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.doc.leave(self.id);
    }
}

#[cfg(test)]
mod tests {
    use hubring_protocol::DocId;
    use hubring_store::{Store, StoreOptions};
    use tokio_util::sync::CancellationToken;
    use tokio_util::task::TaskTracker;

    use super::*;
    use crate::{Registry, SyncConfig};

    // A current-thread runtime: the actor cannot drain its queue while the test fills it.
    #[tokio::test]
    async fn a_full_document_queue_hands_the_frame_back_and_send_owned_waits_for_room() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open_path(&dir.path().join("t.sqlite"), StoreOptions::default())
            .await
            .expect("store");
        let config = SyncConfig { actor_queue: 1, ..SyncConfig::default() };
        let registry = Registry::new(store, config, TaskTracker::new(), CancellationToken::new());
        let (conn, mut outbox) =
            registry.join(&DocId::parse("queue").expect("id")).await.expect("join");
        let step1 = outbox.recv().await.expect("the server's sync step 1");
        assert!(!step1.is_empty());

        conn.try_send(Inbound::Reply(b"first".to_vec())).expect("room for one");
        let handed_back = match conn.try_send(Inbound::Reply(b"second".to_vec())) {
            Err(TrySendError::Full(msg)) => msg,
            other => panic!("expected a full queue, got {other:?}"),
        };
        conn.send_owned(handed_back).await.expect("sent once the actor made room");

        assert_eq!(outbox.recv().await.as_deref(), Some(&b"first"[..]));
        assert_eq!(outbox.recv().await.as_deref(), Some(&b"second"[..]));
    }

    #[tokio::test]
    async fn poll_closed_wakes_the_waiting_task_once_raised() {
        let signal = Arc::new(CloseSignal::default());
        let waiter = tokio::spawn({
            let signal = Arc::clone(&signal);
            async move { signal.closed().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        assert!(signal.close(1000, "done"));
        assert!(!signal.close(1011, "later reasons lose"));
        waiter.await.expect("woken");
        assert_eq!(signal.reason().map(|r| r.code), Some(1000));
    }
}
