//! Messages to one client. The queue is bounded: a client that stops reading is cut off
//! (its socket closed) instead of growing the server's memory, and the room goes on.

use hubring_protocol::room::ServerMsg;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Messages queued for one client before it counts as too slow.
pub const OUTBOUND_QUEUE: usize = 512;

#[derive(Debug, Clone)]
pub(crate) struct Outbound {
    tx: mpsc::Sender<ServerMsg>,
    /// Fired when the client fell behind; the socket's task closes the connection.
    pub(crate) cut: CancellationToken,
}

impl Outbound {
    pub(crate) fn new() -> (Self, mpsc::Receiver<ServerMsg>) {
        let (tx, rx) = mpsc::channel(OUTBOUND_QUEUE);
        (Self { tx, cut: CancellationToken::new() }, rx)
    }

    pub(crate) fn send(&self, msg: ServerMsg) {
        if let Err(mpsc::error::TrySendError::Full(_)) = self.tx.try_send(msg) {
            tracing::warn!("a room client fell behind; closing its connection");
            self.cut.cancel();
        }
    }
}
