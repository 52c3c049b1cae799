//! A connection's outbox: the frames its document queued for it, oldest first, bounded.
//!
//! Hand-written rather than a channel crate because it is per connection and most connections
//! are idle: one allocation of about 100 bytes plus the queue, against 1.5 KB up front for
//! tokio's mpsc (a 32-slot block and a cache-padded channel) and about 430 bytes for flume's
//! (shared state, a waiter hook and its list). It also gives memory back after a burst: an empty
//! queue that grew past [`KEEP_CAPACITY`] frames shrinks, which neither channel does. One
//! producer (the document's actor) and one consumer (the connection's task).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::task::AtomicWaker;

/// Slots an emptied queue keeps; a larger one is shrunk back to this.
const KEEP_CAPACITY: usize = 4;

/// Creates a connected outbox pair holding at most `capacity` frames.
pub(crate) fn outbox(capacity: usize) -> (OutboxSender, Outbox) {
    let shared =
        Arc::new(Shared { queue: Mutex::new(Queue::default()), waker: AtomicWaker::new() });
    (OutboxSender { shared: Arc::clone(&shared), capacity }, Outbox { shared })
}

#[derive(Debug)]
struct Shared {
    queue: Mutex<Queue>,
    /// The connection's task, woken when a frame arrives or the sender goes away.
    waker: AtomicWaker,
}

#[derive(Debug, Default)]
struct Queue {
    frames: VecDeque<Bytes>,
    /// The other side is gone: the sender dropped, or the receiver.
    closed: bool,
}

impl Shared {
    /// Nothing is ever left half-done under this lock, so a poisoned one is still consistent.
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Why [`OutboxSender::try_send`] refused a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PushError {
    /// The outbox holds `capacity` frames: the connection is not keeping up.
    Full,
    /// The connection is gone.
    Closed,
}

/// The document's side of an outbox.
#[derive(Debug)]
pub(crate) struct OutboxSender {
    shared: Arc<Shared>,
    capacity: usize,
}

impl OutboxSender {
    /// Queues `frame` unless the outbox is full or its connection gone; never waits.
    pub(crate) fn try_send(&self, frame: Bytes) -> Result<(), PushError> {
        {
            let mut queue = self.shared.lock();
            if queue.closed {
                return Err(PushError::Closed);
            }
            if queue.frames.len() >= self.capacity {
                return Err(PushError::Full);
            }
            queue.frames.push_back(frame);
        }
        self.shared.waker.wake();
        Ok(())
    }
}

impl Drop for OutboxSender {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.waker.wake();
    }
}

/// Frames the document queued for one connection, oldest first. Bounded (a full outbox closes
/// the connection), and it holds no more than a few slots while empty.
#[derive(Debug)]
pub struct Outbox {
    shared: Arc<Shared>,
}

impl Outbox {
    /// The next frame; `None` once the document let go of this connection and every frame it
    /// queued was taken.
    pub async fn recv(&mut self) -> Option<Bytes> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// [`Outbox::recv`] for poll-based callers, which are woken when a frame arrives. One task
    /// polls an outbox.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        if let Some(ready) = self.take() {
            return Poll::Ready(ready);
        }
        self.shared.waker.register(cx.waker());
        // A frame pushed between the look and the registration found no waker to wake.
        match self.take() {
            Some(ready) => Poll::Ready(ready),
            None => Poll::Pending,
        }
    }

    /// `Some(Some(frame))`, `Some(None)` once closed and drained, or `None` when empty.
    fn take(&self) -> Option<Option<Bytes>> {
        let mut queue = self.shared.lock();
        match queue.frames.pop_front() {
            Some(frame) => {
                if queue.frames.is_empty() && queue.frames.capacity() > KEEP_CAPACITY {
                    queue.frames.shrink_to(KEEP_CAPACITY);
                }
                Some(Some(frame))
            }
            None if queue.closed => Some(None),
            None => None,
        }
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        let mut queue = self.shared.lock();
        queue.closed = true;
        queue.frames.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: u8) -> Bytes {
        Bytes::from(vec![n])
    }

    #[tokio::test]
    async fn frames_arrive_in_order_then_none_once_the_sender_is_gone() {
        let (tx, mut rx) = outbox(8);
        for n in 0..3 {
            tx.try_send(frame(n)).expect("room");
        }
        drop(tx);
        for n in 0..3 {
            assert_eq!(rx.recv().await, Some(frame(n)), "queued frames outlive the sender");
        }
        assert_eq!(rx.recv().await, None);
    }

    #[test]
    fn a_full_outbox_refuses_and_a_dropped_receiver_closes_it() {
        let (tx, rx) = outbox(2);
        tx.try_send(frame(0)).expect("room");
        tx.try_send(frame(1)).expect("room");
        assert_eq!(tx.try_send(frame(2)), Err(PushError::Full));
        drop(rx);
        assert_eq!(tx.try_send(frame(3)), Err(PushError::Closed));
    }

    #[tokio::test]
    async fn a_waiting_receiver_is_woken_by_a_frame() {
        let (tx, mut rx) = outbox(8);
        let waiter = tokio::spawn(async move { rx.recv().await });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        tx.try_send(frame(7)).expect("room");
        assert_eq!(waiter.await.expect("joined"), Some(frame(7)));
    }

    #[tokio::test]
    async fn an_emptied_queue_gives_its_burst_capacity_back() {
        let (tx, mut rx) = outbox(1024);
        for n in 0..1000 {
            tx.try_send(frame((n % 256) as u8)).expect("room");
        }
        assert!(rx.shared.lock().frames.capacity() >= 1000);
        for _ in 0..1000 {
            rx.recv().await.expect("frame");
        }
        assert!(rx.shared.lock().frames.capacity() <= KEEP_CAPACITY);
    }
}
