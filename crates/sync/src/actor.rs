//! One task per live document: the only owner of its `DocState`.
//!
//! Each turn takes every queued command, applies them in order, commits the new updates in one
//! store request, and only after the commit broadcasts them, answers sync requests and tells
//! authors their updates are saved. Between turns the document holds nothing the store does not,
//! so nothing a client receives can be lost by a crash.
//!
//! With other nodes (see [`crate::peers`]), the store numbers each commit; the actor keeps the
//! number up to which it has applied everything (`applied`), applies what other nodes publish in
//! number order, and reads from the store whatever does not arrive.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use hubring_doc::{Applied, ClientID, DocState, Inbound, StateVector, UpdateCost, message};
use hubring_protocol::DocId;
use hubring_protocol::api::VersionKind;
use hubring_protocol::ws::close;
use hubring_protocol::{UserId, VersionId};
use hubring_store::{Store, VersionMeta};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::conn::{CloseSignal, ConnId};
use crate::outbox::{OutboxSender, PushError};
use crate::peers::PeerMsg;
use crate::registry::{Cluster, Docs, SyncCounters};
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

/// Received updates held while an earlier number is missing; past this they are dropped and
/// read from the store with the rest.
const MAX_PENDING: usize = 4096;

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
    /// What another node published.
    Peer(PeerMsg),
    /// The document's last committed number, as the store has it (`i64::MAX`: read the store).
    Head(i64),
    /// Takes a version once the document equals the store.
    Version {
        /// Boxed: the other commands are small, and every queued command takes the largest
        /// one's room.
        take: Box<TakeVersion>,
        reply: oneshot::Sender<Result<VersionMeta, SyncError>>,
    },
}

/// A version asked for by name or after a restore (automatic ones the actor takes itself).
#[derive(Debug, Clone)]
pub struct TakeVersion {
    pub kind: VersionKind,
    pub name: Option<String>,
    pub by: Option<UserId>,
    pub restored_from: Option<VersionId>,
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
    /// Whose connection it is (none for a script on an open document): the next version names
    /// who edited. Shared, so that a join command stays small.
    pub(crate) user: Option<Arc<UserId>>,
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
    cluster: Option<Cluster>,
    counters: Arc<SyncCounters>,
}

/// What every actor of a registry shares.
pub(crate) struct ActorEnv {
    pub(crate) store: Store,
    pub(crate) docs: Docs,
    pub(crate) config: SyncConfig,
    pub(crate) shutdown: CancellationToken,
    pub(crate) cluster: Option<Cluster>,
    pub(crate) counters: Arc<SyncCounters>,
}

/// What a loaded actor works on.
struct Live {
    state: DocState,
    conns: HashMap<ConnId, ConnLink>,
    /// Every update numbered up to this one is in `state` (and was sent to the connections).
    applied: i64,
    /// This node's own commits numbered past `applied` (another node's came between).
    ahead: BTreeSet<i64>,
    /// Other nodes' updates numbered past `applied + 1`, waiting for the ones before them.
    pending: BTreeMap<i64, Bytes>,
    /// When to read from the store the numbers still missing after `applied`.
    repair_at: Option<Instant>,
    /// Updates logged since the last snapshot.
    n_log: usize,
    /// Who edited through this node since the last version, and since when.
    editors: BTreeSet<UserId>,
    editing_since: Option<Instant>,
}

impl Live {
    fn loaded(state: DocState, stored: &hubring_store::StoredDoc) -> Self {
        Self {
            state,
            conns: HashMap::new(),
            applied: stored.last_seq,
            ahead: BTreeSet::new(),
            pending: BTreeMap::new(),
            repair_at: None,
            n_log: stored.updates.len(),
            editors: BTreeSet::new(),
            editing_since: None,
        }
    }

    /// Forgets what `applied` now covers.
    fn prune(&mut self) {
        let applied = self.applied;
        self.ahead.retain(|seq| *seq > applied);
        self.pending.retain(|seq, _| *seq > applied);
    }
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
    /// Other nodes' updates applied this turn (the part new here), for every connection.
    peer: Vec<Vec<u8>>,
    /// The store holds numbers this node has not received.
    repair: bool,
    versions: Vec<(TakeVersion, oneshot::Sender<Result<VersionMeta, SyncError>>)>,
}

impl DocActor {
    pub(crate) fn spawn_parts(id: DocId, actor_id: u64, env: ActorEnv) -> (DocHandle, Self) {
        let ActorEnv { store, docs, config, shutdown, cluster, counters } = env;
        let (tx, rx) = mpsc::channel(config.actor_queue);
        let actor = Self { id, actor_id, rx, store, docs, config, shutdown, cluster, counters };
        (DocHandle { actor_id, tx }, actor)
    }

    pub(crate) async fn run(mut self) {
        // Subscribed before loading: whatever is committed after the load is then received (or
        // found missing), never lost between the two.
        if let Some(cluster) = &self.cluster {
            cluster.peers.subscribe(&self.id).await;
        }
        let mut live = match self.load().await {
            Ok(live) => live,
            Err(err) => {
                tracing::error!(doc = %self.id, %err, "document failed to load");
                self.retire(|| SyncError::Load(err.to_string())).await;
                self.unsubscribe();
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
                    // Other nodes' traffic does not keep a document with no connection here
                    // in memory: only this node's use does.
                    let used_here =
                        cmds.iter().any(|c| !matches!(c, DocCmd::Peer(_) | DocCmd::Head(_)));
                    self.turn(&mut live, &mut cmds).await;
                    cmds.shrink_to(IDLE_TURN_CAPACITY);
                    if live.conns.is_empty() && used_here {
                        idle_since = Instant::now();
                    }
                }
                () = tokio::time::sleep_until(idle_deadline), if live.conns.is_empty() => {
                    tracing::debug!(doc = %self.id, "evicting idle document");
                    break;
                }
                () = sleep_until_some(live.repair_at) => {
                    let mut parts = Vec::new();
                    self.repair(&mut live, &mut parts).await;
                    self.broadcast_parts(&live, &parts);
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
        self.unsubscribe();
    }

    fn unsubscribe(&self) {
        if let Some(cluster) = &self.cluster {
            cluster.peers.unsubscribe(&self.id);
        }
    }

    fn publish(&self, msg: &PeerMsg) {
        if let Some(cluster) = &self.cluster {
            cluster.peers.publish(&self.id, msg.encode(cluster.node));
        }
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
        Ok(Live::loaded(state, &stored))
    }

    async fn turn(&mut self, live: &mut Live, cmds: &mut Vec<DocCmd>) {
        let mut turn = Turn::default();
        // With other nodes, what this node had before the turn: a rebuild sends its connections
        // what the store holds beyond it.
        let sv_before = self.cluster.as_ref().map(|_| live.state.state_vector());
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
                DocCmd::Peer(msg) => self.peer(live, &mut turn, msg),
                DocCmd::Head(head) => turn.repair |= head > live.applied,
                DocCmd::Version { take, reply } => turn.versions.push((*take, reply)),
            }
        }
        if turn.dirty
            && let Err(err) = self.rebuild(live, &mut turn, sv_before.as_ref()).await
        {
            self.fail(live, &err.to_string()).await;
            return;
        }
        if !turn.updates.is_empty() {
            let parts: Vec<&[u8]> = turn.updates.iter().map(|(_, u)| u.as_slice()).collect();
            let merged = message::merge_runs(&parts, MERGE_RUN);
            let n = merged.len();
            let frames: Vec<Bytes> =
                merged.iter().map(|u| Bytes::from(message::update(u))).collect();
            let shared: Option<Arc<[Bytes]>> =
                self.cluster.as_ref().map(|_| merged.iter().cloned().map(Bytes::from).collect());
            let first_seq = match self.store.append(&self.id, merged).await {
                Ok(first_seq) => first_seq,
                Err(err) => {
                    self.fail(live, &err.to_string()).await;
                    for done in turn.edits {
                        let _ = done.send(Err(SyncError::Store(err.to_string())));
                    }
                    return;
                }
            };
            if let Some(updates) = shared {
                self.publish(&PeerMsg::Updates { first_seq, updates });
            }
            let numbers = first_seq..first_seq + n as i64;
            if first_seq == live.applied + 1 || self.cluster.is_none() {
                live.applied = numbers.end - 1;
            } else {
                // Another node committed the numbers between: they are on their way.
                live.ahead.extend(numbers);
            }
            live.n_log += n;
            self.broadcast_updates(live, &turn.updates, &frames);
        }
        if self.cluster.is_some() {
            if turn.repair {
                self.repair(live, &mut turn.peer).await;
            } else {
                self.settle(live, &mut turn.peer);
            }
            self.broadcast_parts(live, &turn.peer);
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
        // After the acknowledgements: writing a version (a whole state) must not delay them.
        for (take, reply) in turn.versions {
            let _ = reply.send(self.take_version(live, take).await);
        }
        let last_left = live.conns.is_empty() && !live.editors.is_empty();
        let editing_long =
            live.editing_since.is_some_and(|at| at.elapsed() >= self.config.version_every);
        if last_left || editing_long {
            let take =
                TakeVersion { kind: VersionKind::Auto, name: None, by: None, restored_from: None };
            if let Err(err) = self.take_version(live, take).await {
                tracing::warn!(doc = %self.id, %err, "automatic version failed");
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
                    if let Some(user) = &link.user {
                        live.editors.insert(UserId::clone(user));
                        live.editing_since.get_or_insert_with(Instant::now);
                    }
                }
                Ok(Applied::Nothing) => {
                    turn.saved.insert(conn, n);
                }
                Err(err) => {
                    tracing::warn!(doc = %self.id, %conn, %err, "update rejected, closing");
                    turn.saved.remove(&conn);
                    if err.is_over_budget() {
                        link.close.close(close::TOO_BIG, err.to_string());
                    } else if let hubring_doc::DocError::ServerOwned(_) = err {
                        link.close.close(close::POLICY, err.to_string());
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
                    let forward = Bytes::from(forward);
                    self.broadcast(live, Some(conn), &forward);
                    self.publish(&PeerMsg::Awareness(forward));
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
            let gone = Bytes::from(gone);
            self.broadcast(live, None, &gone);
            self.publish(&PeerMsg::Awareness(gone));
        }
    }

    /// Takes in what another node published: presence at once, updates in number order.
    fn peer(&self, live: &mut Live, turn: &mut Turn, msg: PeerMsg) {
        match msg {
            PeerMsg::Awareness(frame) => match live.state.apply_awareness_frame(&frame) {
                Ok(true) => self.broadcast(live, None, &frame),
                Ok(false) => {}
                Err(err) => tracing::warn!(doc = %self.id, %err, "peer presence refused"),
            },
            PeerMsg::Updates { first_seq, updates } => {
                for (seq, update) in (first_seq..).zip(updates.iter()) {
                    if seq > live.applied
                        && !live.ahead.contains(&seq)
                        && live.pending.len() < MAX_PENDING
                    {
                        live.pending.entry(seq).or_insert_with(|| update.clone());
                    }
                }
                self.settle(live, &mut turn.peer);
            }
        }
    }

    /// Moves `applied` over every number that follows it here (this node's own commits, other
    /// nodes' updates received), applying the latter in order; whatever remains past a missing
    /// number is a gap, read from the store if it is still there after `gap_wait`.
    fn settle(&self, live: &mut Live, parts: &mut Vec<Vec<u8>>) {
        loop {
            let next = live.applied + 1;
            if live.ahead.remove(&next) {
                live.applied = next;
            } else if let Some(update) = live.pending.remove(&next) {
                match live.state.apply(&update) {
                    Ok(Applied::Changed(part)) => parts.push(part),
                    Ok(Applied::Nothing) => {}
                    // Committed bytes that do not apply: the store is read whole instead.
                    Err(err) => {
                        tracing::error!(doc = %self.id, seq = next, %err, "peer update refused");
                        live.pending.clear();
                        live.repair_at = Some(Instant::now());
                        return;
                    }
                }
                live.applied = next;
                live.n_log += 1;
                self.counters.peer_updates.fetch_add(1, Ordering::Relaxed);
            } else {
                break;
            }
        }
        live.repair_at = if live.ahead.is_empty() && live.pending.is_empty() {
            None
        } else {
            live.repair_at.or_else(|| Some(Instant::now() + self.config.gap_wait))
        };
    }

    /// Reads from the store every update numbered after `applied`, applies it and collects the
    /// part new here for the connections. A store that cannot answer is asked again later.
    async fn repair(&self, live: &mut Live, parts: &mut Vec<Vec<u8>>) {
        self.counters.gap_repairs.fetch_add(1, Ordering::Relaxed);
        let stored = match self.store.load_after(&self.id, live.applied).await {
            Ok(stored) => stored,
            Err(err) => {
                tracing::warn!(doc = %self.id, %err, "reading missed updates failed");
                live.repair_at = Some(Instant::now() + self.config.head_check);
                return;
            }
        };
        for part in stored.parts() {
            match live.state.apply(part) {
                Ok(Applied::Changed(new)) => parts.push(new),
                Ok(Applied::Nothing) => {}
                Err(err) => {
                    tracing::error!(doc = %self.id, %err, "stored update refused");
                    live.repair_at = Some(Instant::now() + self.config.head_check);
                    return;
                }
            }
        }
        live.n_log += stored.updates.len();
        live.applied = live.applied.max(stored.last_seq);
        live.prune();
        live.repair_at = None;
        self.settle(live, parts);
    }

    /// Sends every connection the other nodes' updates applied here.
    fn broadcast_parts(&self, live: &Live, parts: &[Vec<u8>]) {
        if parts.is_empty() {
            return;
        }
        let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        for update in message::merge_runs(&parts, MERGE_RUN) {
            self.broadcast(live, None, &Bytes::from(message::update(&update)));
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
    /// plus this turn's accepted updates, keeping presence. With other nodes the store may hold
    /// more than this node had (`sv_before`): that part is sent to the connections, in place of
    /// the other nodes' updates applied this turn, which it includes.
    async fn rebuild(
        &self,
        live: &mut Live,
        turn: &mut Turn,
        sv_before: Option<&StateVector>,
    ) -> Result<(), ActorError> {
        let stored = self.store.load(&self.id).await?;
        let mut state = DocState::load(stored.parts())?;
        if let Some(sv) = sv_before {
            turn.peer.clear();
            turn.peer.extend(state.diff(sv));
        }
        for (_, update) in &turn.updates {
            state.apply(update)?;
        }
        live.state = state.with_presence_of(&live.state);
        live.applied = live.applied.max(stored.last_seq);
        live.prune();
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

    /// Keeps the document's current state (equal to the store) as a version naming who edited
    /// since the last one, which starts the next count.
    async fn take_version(
        &self,
        live: &mut Live,
        take: TakeVersion,
    ) -> Result<VersionMeta, SyncError> {
        let editors: Vec<UserId> = live.editors.iter().cloned().collect();
        let meta = VersionMeta {
            id: VersionId(new_version_id()),
            doc_id: self.id.clone(),
            kind: take.kind,
            name: take.name,
            created_at: hubring_store::now_ms(),
            created_by: take.by,
            editors,
            restored_from: take.restored_from,
            n_bytes: 0,
        };
        let state = live.state.encode_state();
        let n_bytes = i64::try_from(state.len()).unwrap_or(i64::MAX);
        self.store
            .put_version(meta.clone(), state)
            .await
            .map_err(|err| SyncError::Store(err.to_string()))?;
        live.editors.clear();
        live.editing_since = None;
        Ok(VersionMeta { n_bytes, ..meta })
    }

    async fn compact(&self, live: &mut Live) {
        // The state holds everything up to `applied` (and perhaps more, which is harmless).
        let snapshot = live.state.encode_state();
        match self.store.compact(&self.id, live.applied, snapshot).await {
            Ok(()) => live.n_log = 0,
            // The log is intact, so nothing is lost; the next turn tries again.
            Err(err) => tracing::warn!(doc = %self.id, %err, "compaction failed"),
        }
    }
}

/// A new version id: 96 random bits, as the workspace's record ids.
fn new_version_id() -> String {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Waits until `at`, or forever when there is nothing to wait for.
async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
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
        tokio::task::block_in_place(|| state.apply_client(raw))
    } else {
        state.apply_client(raw)
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
