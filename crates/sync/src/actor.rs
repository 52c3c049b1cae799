//! One task per live document: the only owner of its `DocState`.
//!
//! Each turn takes every queued command, applies them in order, commits the new updates in one
//! store request, and only after the commit broadcasts them, answers sync requests and tells
//! authors their updates are saved. Between turns the document equals what the store holds, so
//! nothing a client receives can be lost by a crash.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hubring_doc::{Applied, ClientID, DocState, Inbound, StateVector, UpdateCost, message};
use hubring_protocol::DocId;
use hubring_protocol::ws::close;
use hubring_store::Store;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::conn::{CloseSignal, ConnId};
use crate::outbox::{OutboxSender, PushError};
use crate::registry::Docs;
use crate::{SyncConfig, SyncError};

/// The author of the server's own edits: no connection, so every connection receives them.
const SERVER: ConnId = ConnId(0);

/// Most commands taken in one turn, so one turn's commit stays bounded.
const MAX_TURN: usize = 512;

/// Commands' room kept between turns.
const IDLE_TURN_CAPACITY: usize = 8;

/// Up to this many authors in one turn, each gets the turn without its own updates.
const MAX_MERGED_AUTHORS: usize = 8;

/// Updates merged into one stored row and one frame (see `message::merge_runs`).
const MERGE_RUN: usize = 16;

/// An update that costs more than this (structs plus delete ranges, as `scan` counted them) is
/// applied with `block_in_place`: its actor waits for it, while the worker's other tasks (other
/// documents, HTTP) move to another thread. Typing and pasting cost a few units; 50,000 deleted
/// ranges of an existing text take 109 ms in a release build (see `UpdateBudget`), all of it
/// time no other task on that worker would get otherwise.
const HEAVY_UPDATE_UNITS: u64 = 1_000;

pub(crate) enum DocCmd {
    Join {
        conn: ConnId,
        link: ConnLink,
        joined: oneshot::Sender<Result<(), SyncError>>,
    },
    Inbound {
        conn: ConnId,
        msg: Inbound,
    },
    Leave {
        conn: ConnId,
    },
    /// The document as one update, once it equals the store.
    Read {
        reply: oneshot::Sender<Vec<u8>>,
    },
    /// A change made by the server itself (a vote's tally, the timer), committed and broadcast
    /// like any client's; `done` answers after the commit.
    Edit {
        edit: Edit,
        done: oneshot::Sender<Result<(), SyncError>>,
    },
}

/// A change the server makes to a document, run by its actor inside one transaction.
pub type Edit = Box<dyn FnOnce(&mut hubring_doc::TransactionMut<'_>) + Send>;

/// The actor's side of a connection.
pub(crate) struct ConnLink {
    pub(crate) outbox: OutboxSender,
    pub(crate) close: Arc<CloseSignal>,
    pub(crate) wants_saved: bool,
    /// Awareness client ids this connection announced, removed for everyone when it leaves.
    pub(crate) clients: HashSet<ClientID>,
}

/// The registry's handle to an actor.
#[derive(Debug, Clone)]
pub(crate) struct DocHandle {
    /// Tells this actor apart from a later one for the same document.
    pub(crate) actor_id: u64,
    tx: mpsc::Sender<DocCmd>,
}

impl DocHandle {
    pub(crate) async fn send(&self, cmd: DocCmd) -> Result<(), SyncError> {
        self.tx.send(cmd).await.map_err(|_| SyncError::Gone)
    }

    /// Sends `cmd`, or hands it back if the actor has retired.
    pub(crate) async fn offer(&self, cmd: DocCmd) -> Result<(), DocCmd> {
        self.tx.send(cmd).await.map_err(|err| err.0)
    }

    pub(crate) fn try_send(&self, cmd: DocCmd) -> Result<(), TrySendError<DocCmd>> {
        self.tx.try_send(cmd)
    }

    /// Tells the actor a connection left, without waiting: called from `Drop`.
    pub(crate) fn leave(&self, conn: ConnId) {
        match self.tx.try_send(DocCmd::Leave { conn }) {
            Ok(()) | Err(TrySendError::Closed(_)) => {}
            Err(TrySendError::Full(cmd)) => {
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let _ = tx.send(cmd).await;
                });
            }
        }
    }
}

/// A document that cannot be read back: the store failed or its bytes do not load.
#[derive(Debug, thiserror::Error)]
enum ActorError {
    #[error(transparent)]
    Store(#[from] hubring_store::StoreError),
    #[error(transparent)]
    Doc(#[from] hubring_doc::DocError),
}

pub(crate) struct DocActor {
    id: DocId,
    actor_id: u64,
    rx: mpsc::Receiver<DocCmd>,
    store: Store,
    docs: Docs,
    config: SyncConfig,
    shutdown: CancellationToken,
}

/// What a loaded actor works on.
struct Live {
    state: DocState,
    conns: HashMap<ConnId, ConnLink>,
    /// Sequence number of the last committed update.
    last_seq: i64,
    /// Updates logged since the last snapshot.
    n_log: usize,
}

/// One turn's doc updates, waiting for their commit.
#[derive(Default)]
struct Turn {
    updates: Vec<(ConnId, Vec<u8>)>,
    saved: HashMap<ConnId, u64>,
    step1: Vec<(ConnId, StateVector)>,
    reads: Vec<oneshot::Sender<Vec<u8>>>,
    edits: Vec<oneshot::Sender<Result<(), SyncError>>>,
    /// yrs refused an update after possibly integrating part of it.
    dirty: bool,
}

impl DocActor {
    pub(crate) fn spawn_parts(
        id: DocId,
        actor_id: u64,
        store: Store,
        docs: Docs,
        config: SyncConfig,
        shutdown: CancellationToken,
    ) -> (DocHandle, Self) {
        let (tx, rx) = mpsc::channel(config.actor_queue);
        let actor = Self { id, actor_id, rx, store, docs, config, shutdown };
        (DocHandle { actor_id, tx }, actor)
    }

    pub(crate) async fn run(mut self) {
        let mut live = match self.load().await {
            Ok(live) => live,
            Err(err) => {
                tracing::error!(doc = %self.id, %err, "document failed to load");
                self.retire(|| SyncError::Load(err.to_string())).await;
                return;
            }
        };
        // Grown by bursts and shrunk after them: a full turn's buffer is about 50 KB, which, kept
        // by every idle document, was most of a live document's memory.
        let mut cmds = Vec::new();
        let mut idle_since = Instant::now();
        loop {
            let idle_deadline = idle_since + self.config.idle_evict;
            tokio::select! {
                biased;
                () = self.shutdown.cancelled() => break,
                n = self.rx.recv_many(&mut cmds, MAX_TURN) => {
                    if n == 0 {
                        break;
                    }
                    self.turn(&mut live, &mut cmds).await;
                    cmds.shrink_to(IDLE_TURN_CAPACITY);
                    if live.conns.is_empty() {
                        idle_since = Instant::now();
                    }
                }
                () = tokio::time::sleep_until(idle_deadline), if live.conns.is_empty() => {
                    tracing::debug!(doc = %self.id, "evicting idle document");
                    break;
                }
            }
        }
        // Leaving: finish what is queued (its commits included), then close what is left.
        self.rx.close();
        while self.rx.recv_many(&mut cmds, MAX_TURN).await > 0 {
            self.turn(&mut live, &mut cmds).await;
        }
        let going_away =
            if self.shutdown.is_cancelled() { "server shutting down" } else { "evicted" };
        for link in live.conns.values() {
            link.close.close(close::GOING_AWAY, going_away);
        }
        if live.n_log > 0 {
            self.compact(&mut live).await;
        }
        self.docs.remove_if(&self.id, |_, h| h.actor_id == self.actor_id);
    }

    /// Stops taking commands and refuses every queued join with `err`.
    async fn retire(&mut self, err: impl Fn() -> SyncError) {
        self.docs.remove_if(&self.id, |_, h| h.actor_id == self.actor_id);
        self.rx.close();
        while let Some(cmd) = self.rx.recv().await {
            if let DocCmd::Join { joined, .. } = cmd {
                let _ = joined.send(Err(err()));
            }
        }
    }

    async fn load(&self) -> Result<Live, ActorError> {
        let stored = self.store.load(&self.id).await?;
        let state = DocState::load(stored.parts())?;
        Ok(Live {
            state,
            conns: HashMap::new(),
            last_seq: stored.last_seq,
            n_log: stored.updates.len(),
        })
    }

    async fn turn(&mut self, live: &mut Live, cmds: &mut Vec<DocCmd>) {
        let mut turn = Turn::default();
        for cmd in cmds.drain(..) {
            match cmd {
                DocCmd::Join { conn, link, joined } => {
                    if self.shutdown.is_cancelled() {
                        let _ = joined.send(Err(SyncError::ShuttingDown));
                        continue;
                    }
                    // y-websocket's server greets with its sync step 1 and the presence states.
                    push(&self.id, conn, &link, Bytes::from(live.state.sync_step1()));
                    if let Some(awareness) = live.state.awareness_message() {
                        push(&self.id, conn, &link, Bytes::from(awareness));
                    }
                    live.conns.insert(conn, link);
                    let _ = joined.send(Ok(()));
                }
                DocCmd::Leave { conn } => self.leave(live, conn),
                DocCmd::Inbound { conn, msg } => self.inbound(live, &mut turn, conn, msg),
                DocCmd::Read { reply } => turn.reads.push(reply),
                DocCmd::Edit { edit, done } => {
                    if let Some(update) = live.state.edit(edit) {
                        turn.updates.push((SERVER, update));
                    }
                    turn.edits.push(done);
                }
            }
        }
        if turn.dirty
            && let Err(err) = self.rebuild(live, &turn).await
        {
            self.fail(live, &err.to_string()).await;
            return;
        }
        if !turn.updates.is_empty() {
            let parts: Vec<&[u8]> = turn.updates.iter().map(|(_, u)| u.as_slice()).collect();
            let merged = message::merge_runs(&parts, MERGE_RUN);
            let first_seq = live.last_seq + 1;
            let n = merged.len();
            let frames: Vec<Bytes> =
                merged.iter().map(|u| Bytes::from(message::update(u))).collect();
            if let Err(err) = self.store.append(&self.id, first_seq, merged).await {
                self.fail(live, &err.to_string()).await;
                for done in turn.edits {
                    let _ = done.send(Err(SyncError::Store(err.to_string())));
                }
                return;
            }
            live.last_seq += n as i64;
            live.n_log += n;
            self.broadcast_updates(live, &turn.updates, &frames);
        }
        // The document now equals the store: answers to sync requests may be sent.
        for done in turn.edits {
            let _ = done.send(Ok(()));
        }
        if !turn.reads.is_empty() {
            let state = live.state.encode_state();
            for reply in turn.reads {
                let _ = reply.send(state.clone());
            }
        }
        for (conn, sv) in turn.step1 {
            if let Some(link) = live.conns.get(&conn) {
                push(&self.id, conn, link, Bytes::from(live.state.sync_step2(&sv)));
            }
        }
        for (conn, n_saved) in turn.saved {
            if let Some(link) = live.conns.get(&conn).filter(|l| l.wants_saved) {
                push(&self.id, conn, link, Bytes::from(message::saved(n_saved)));
            }
        }
        // Connections the server closed leave now; one whose client went away leaves when its
        // `Leave` arrives, after whatever it sent before going (a client that typed and closed
        // its tab at once lost the edit when it was dropped here first).
        let closed: Vec<ConnId> = live
            .conns
            .iter()
            .filter(|(_, l)| l.close.reason().is_some_and(|r| !r.departed))
            .map(|(c, _)| *c)
            .collect();
        for conn in closed {
            self.leave(live, conn);
        }
        if live.n_log >= self.config.compact_after {
            self.compact(live).await;
        }
    }

    fn inbound(&self, live: &mut Live, turn: &mut Turn, conn: ConnId, msg: Inbound) {
        let Some(link) = live.conns.get_mut(&conn) else { return };
        // Closed by the server (refused, revoked, too slow): nothing more of it is taken. Gone
        // of its own accord: what it sent before going still counts.
        if link.close.reason().is_some_and(|r| !r.departed) {
            return;
        }
        match msg {
            Inbound::SyncStep1(sv) => turn.step1.push((conn, sv)),
            Inbound::Update { n, raw, cost } => match apply(&mut live.state, &raw, cost) {
                Ok(Applied::Changed(bytes)) => {
                    turn.updates.push((conn, bytes));
                    turn.saved.insert(conn, n);
                }
                Ok(Applied::Nothing) => {
                    turn.saved.insert(conn, n);
                }
                Err(err) => {
                    tracing::warn!(doc = %self.id, %conn, %err, "update rejected, closing");
                    turn.saved.remove(&conn);
                    if err.is_over_budget() {
                        link.close.close(close::TOO_BIG, err.to_string());
                    } else {
                        link.close.close(close::INVALID_PAYLOAD, "update rejected");
                    }
                    turn.dirty |= !err.left_intact();
                }
            },
            Inbound::Awareness(update) => match live.state.apply_awareness(update) {
                Ok((forward, presence)) => {
                    for (client, present) in presence {
                        if present {
                            link.clients.insert(client);
                        } else {
                            link.clients.remove(&client);
                        }
                    }
                    self.broadcast(live, Some(conn), &Bytes::from(forward));
                }
                Err(err) => {
                    tracing::warn!(doc = %self.id, %conn, %err, "awareness rejected, closing");
                    link.close.close(close::INVALID_PAYLOAD, "awareness update rejected");
                }
            },
            Inbound::QueryAwareness => {
                if let Some(awareness) = live.state.awareness_message() {
                    push(&self.id, conn, link, Bytes::from(awareness));
                }
            }
            Inbound::SubscribeSaved => link.wants_saved = true,
            Inbound::Reply(bytes) => push(&self.id, conn, link, Bytes::from(bytes)),
        }
    }

    fn leave(&self, live: &mut Live, conn: ConnId) {
        let Some(link) = live.conns.remove(&conn) else { return };
        let clients: Vec<ClientID> = link.clients.into_iter().collect();
        if let Some(gone) = live.state.remove_awareness(&clients) {
            self.broadcast(live, None, &Bytes::from(gone));
        }
    }

    /// Sends each connection every update of the turn it did not write itself, merged.
    /// `everything` is the whole turn, as stored. Authors beyond [`MAX_MERGED_AUTHORS`] get the
    /// whole turn back, their own edits included (harmless to a Yjs client, as y-websocket's own
    /// server always echoes).
    fn broadcast_updates(&self, live: &Live, updates: &[(ConnId, Vec<u8>)], everything: &[Bytes]) {
        let mut authors: Vec<ConnId> = updates.iter().map(|(a, _)| *a).collect();
        authors.sort_unstable();
        authors.dedup();
        let per_author: HashMap<ConnId, Vec<Bytes>> = if authors.len() <= MAX_MERGED_AUTHORS {
            authors
                .iter()
                .map(|author| {
                    let others: Vec<&[u8]> = updates
                        .iter()
                        .filter(|(a, _)| a != author)
                        .map(|(_, u)| u.as_slice())
                        .collect();
                    let frames = message::merge_runs(&others, MERGE_RUN)
                        .iter()
                        .map(|u| Bytes::from(message::update(u)))
                        .collect();
                    (*author, frames)
                })
                .collect()
        } else {
            HashMap::new()
        };
        for (conn, link) in &live.conns {
            for frame in per_author.get(conn).map_or(everything, Vec::as_slice) {
                push(&self.id, *conn, link, frame.clone());
            }
        }
    }

    /// Queues `frame` for every connection but `except`.
    fn broadcast(&self, live: &Live, except: Option<ConnId>, frame: &Bytes) {
        for (conn, link) in &live.conns {
            if Some(*conn) != except {
                push(&self.id, *conn, link, frame.clone());
            }
        }
    }

    /// yrs may have integrated part of a refused update: rebuild the document from the store
    /// plus this turn's accepted updates, keeping presence.
    async fn rebuild(&self, live: &mut Live, turn: &Turn) -> Result<(), ActorError> {
        let stored = self.store.load(&self.id).await?;
        let parts = stored.parts().chain(turn.updates.iter().map(|(_, u)| u.as_slice()));
        live.state = DocState::load(parts)?.with_presence_of(&live.state);
        Ok(())
    }

    /// The store failed: nothing of this turn was sent to anyone. Close every connection with
    /// "try again" and start over from what the store holds; clients resend on reconnect.
    async fn fail(&self, live: &mut Live, err: &str) {
        tracing::error!(doc = %self.id, %err, "commit failed, closing connections and reloading");
        for link in live.conns.values() {
            link.close.close(close::TRY_AGAIN, "store unavailable, reconnect");
        }
        live.conns.clear();
        let mut delay = Duration::from_millis(50);
        loop {
            match self.load().await {
                Ok(reloaded) => {
                    *live = reloaded;
                    return;
                }
                Err(err) => {
                    tracing::error!(doc = %self.id, %err, "reload failed, retrying");
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = self.shutdown.cancelled() => return,
                    }
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    async fn compact(&self, live: &mut Live) {
        let snapshot = live.state.encode_state();
        match self.store.compact(&self.id, live.last_seq, snapshot).await {
            Ok(()) => live.n_log = 0,
            // The log is intact, so nothing is lost; the next turn tries again.
            Err(err) => tracing::warn!(doc = %self.id, %err, "compaction failed"),
        }
    }
}

/// Decodes and applies an update, off the runtime's worker when it is heavy (and the runtime
/// has other workers to hand its tasks to).
fn apply(
    state: &mut DocState,
    raw: &[u8],
    cost: UpdateCost,
) -> Result<Applied, hubring_doc::DocError> {
    let multi_thread = tokio::runtime::Handle::current().runtime_flavor()
        == tokio::runtime::RuntimeFlavor::MultiThread;
    if cost.units() > HEAVY_UPDATE_UNITS && multi_thread {
        tokio::task::block_in_place(|| state.apply(raw))
    } else {
        state.apply(raw)
    }
}

/// Queues a frame for one connection; a full outbox closes the connection rather than drop a
/// frame or stall the document.
fn push(doc: &DocId, conn: ConnId, link: &ConnLink, frame: Bytes) {
    match link.outbox.try_send(frame) {
        Ok(()) => {}
        Err(PushError::Full) => {
            if link.close.close(close::TRY_AGAIN, "too slow: outbox full, reconnect to resync") {
                tracing::warn!(%doc, %conn, "outbox full, closing slow connection");
            }
        }
        Err(PushError::Closed) => {
            link.close.departed("connection gone");
        }
    }
}
