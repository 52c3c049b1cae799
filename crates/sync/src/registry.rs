//! The registry of live documents: maps a document id to its actor's handle, starting the actor
//! on first join. It only maps; the actors own the documents.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;

use dashmap::DashMap;
use hubring_protocol::{DocId, UserId};
use hubring_store::Store;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::actor::{ActorEnv, ConnLink, DocActor, DocCmd, DocHandle, Edit, TakeVersion};
use crate::conn::{CloseSignal, Conn, ConnId};
use crate::outbox::{Outbox, outbox};
use crate::peers::{PeerMsg, Peers};
use crate::{SyncConfig, SyncError};
use hubring_store::VersionMeta;

pub(crate) type Docs = Arc<DashMap<DocId, DocHandle>>;

/// Joins tried before giving up when actors keep retiring under us (eviction races).
const MAX_JOIN_ATTEMPTS: usize = 8;

/// The live documents of this process.
#[derive(Debug, Clone)]
pub struct Registry {
    docs: Docs,
    store: Store,
    config: SyncConfig,
    next_id: Arc<AtomicU64>,
    tracker: TaskTracker,
    shutdown: CancellationToken,
    cluster: Option<Cluster>,
    counters: Arc<SyncCounters>,
}

/// This node's link to the other nodes serving the same store.
#[derive(Debug, Clone)]
pub(crate) struct Cluster {
    pub(crate) peers: Arc<dyn Peers>,
    /// This node's id in its messages (its own come back from Redis and are ignored).
    pub(crate) node: u64,
}

/// Running totals of the live-document layer across nodes, for `/metrics`.
#[derive(Debug, Default)]
pub struct SyncCounters {
    /// Updates received from other nodes and applied here.
    pub peer_updates: AtomicU64,
    /// Messages from other nodes dropped because their document's queue was full (the store
    /// check repairs what they carried).
    pub peer_dropped: AtomicU64,
    /// Reads from the store of updates this node had not received.
    pub gap_repairs: AtomicU64,
}

impl Registry {
    /// Actors are spawned on `tracker` and stop (committing what is queued) when `shutdown` fires.
    pub fn new(
        store: Store,
        config: SyncConfig,
        tracker: TaskTracker,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            docs: Arc::default(),
            store,
            config,
            next_id: Arc::new(AtomicU64::new(1)),
            tracker,
            shutdown,
            cluster: None,
            counters: Arc::default(),
        }
    }

    /// Serves documents that other nodes serve too: commits are published through `peers` as
    /// node `node`, what they publish is handed to [`Registry::deliver`], and every
    /// [`SyncConfig::head_check`] the live documents' last numbers are read from the store so a
    /// lost message is repaired even when nothing follows it.
    #[must_use]
    pub fn with_peers(mut self, peers: Arc<dyn Peers>, node: u64) -> Self {
        self.cluster = Some(Cluster { peers, node });
        let registry = self.clone();
        self.tracker.spawn(async move { registry.check_heads().await });
        self
    }

    /// A message another node published about `doc`: handed to the document's actor if it is
    /// live here, ignored otherwise (it holds nothing a later load would not read).
    pub fn deliver(&self, doc: &DocId, message: &Bytes) {
        let Some(cluster) = &self.cluster else { return };
        let msg = match PeerMsg::decode(message) {
            Ok((node, _)) if node == cluster.node => return,
            Ok((_, msg)) => msg,
            Err(err) => {
                tracing::warn!(%doc, %err, "ignoring a peer message");
                return;
            }
        };
        let Some(handle) = self.docs.get(doc).map(|h| h.clone()) else { return };
        if handle.try_send(DocCmd::Peer(msg)).is_err() {
            self.counters.peer_dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The transport lost messages it cannot name (it reconnected): every live document reads
    /// what it is missing from the store.
    pub fn resync(&self) {
        for entry in self.docs.iter() {
            let _ = entry.value().try_send(DocCmd::Head(i64::MAX));
        }
    }

    /// Totals across nodes.
    pub fn counters(&self) -> &SyncCounters {
        &self.counters
    }

    /// Every [`SyncConfig::head_check`], each live document is told its last committed number,
    /// and reads from the store what it has not received.
    async fn check_heads(&self) {
        let mut tick = tokio::time::interval(self.config.head_check);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = self.shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            let live: Vec<DocId> = self.docs.iter().map(|e| e.key().clone()).collect();
            if live.is_empty() {
                continue;
            }
            match self.store.heads(&live).await {
                Ok(heads) => {
                    for (doc, head) in heads {
                        if let Some(handle) = self.docs.get(&doc).map(|h| h.clone()) {
                            let _ = handle.try_send(DocCmd::Head(head));
                        }
                    }
                }
                Err(err) => tracing::warn!(%err, "reading live documents' last numbers failed"),
            }
        }
    }

    /// Connects to a document, loading it if it is not live. Returns the connection and its
    /// outbox, which already holds the server's sync step 1 (and presence states, if any).
    pub async fn join(&self, doc: &DocId) -> Result<(Conn, Outbox), SyncError> {
        self.join_with(doc, Arc::default(), None).await
    }

    /// [`Registry::join`] with a close signal made beforehand, so that whoever may need to
    /// close the connection can hold it before the connection exists; raised already, the
    /// connection closes as soon as it is joined. `user` is whose connection it is, named in
    /// the next version if they edit.
    pub async fn join_with(
        &self,
        doc: &DocId,
        close: Arc<CloseSignal>,
        user: Option<UserId>,
    ) -> Result<(Conn, Outbox), SyncError> {
        let conn = ConnId(self.next_id.fetch_add(1, Ordering::Relaxed));
        for _ in 0..MAX_JOIN_ATTEMPTS {
            if self.shutdown.is_cancelled() {
                return Err(SyncError::ShuttingDown);
            }
            let handle = self.handle(doc);
            let (outbox_tx, outbox) = outbox(self.config.outbox_capacity);
            let close = Arc::clone(&close);
            let link = ConnLink {
                outbox: outbox_tx,
                close: Arc::clone(&close),
                wants_saved: false,
                clients: Default::default(),
                user: user.clone().map(Arc::new),
            };
            let (joined_tx, joined) = oneshot::channel();
            if handle.send(DocCmd::Join { conn, link, joined: joined_tx }).await.is_err() {
                // The actor retired between lookup and send; the next lookup starts a new one.
                self.docs.remove_if(doc, |_, h| h.actor_id == handle.actor_id);
                continue;
            }
            match joined.await {
                Ok(Ok(())) => {
                    return Ok((Conn { id: conn, close, doc: handle }, outbox));
                }
                Ok(Err(
                    err @ (SyncError::Load(_) | SyncError::ShuttingDown | SyncError::Store(_)),
                )) => {
                    return Err(err);
                }
                Ok(Err(SyncError::Gone)) | Err(_) => continue,
            }
        }
        Err(SyncError::Gone)
    }

    /// The document as one update (lib0 v1), as committed: loaded if it is not live.
    pub async fn read(&self, doc: &DocId) -> Result<Vec<u8>, SyncError> {
        for _ in 0..MAX_JOIN_ATTEMPTS {
            let (reply, answer) = oneshot::channel();
            self.send(doc, DocCmd::Read { reply }).await?;
            if let Ok(state) = answer.await {
                return Ok(state);
            }
        }
        Err(SyncError::Gone)
    }

    /// Makes a change as the server, returning once it is committed (and sent to every
    /// connection). The change runs inside the document's actor, against its current state.
    pub async fn edit(&self, doc: &DocId, edit: Edit) -> Result<(), SyncError> {
        let (done, answer) = oneshot::channel();
        self.send(doc, DocCmd::Edit { edit, done }).await?;
        answer.await.unwrap_or(Err(SyncError::Gone))
    }

    /// Takes a version of the document as committed (loading it if it is not live).
    pub async fn take_version(
        &self,
        doc: &DocId,
        take: TakeVersion,
    ) -> Result<VersionMeta, SyncError> {
        let (reply, answer) = oneshot::channel();
        self.send(doc, DocCmd::Version { take: Box::new(take), reply }).await?;
        answer.await.unwrap_or(Err(SyncError::Gone))
    }

    /// Sends a command to the document's actor, starting one if needed. An actor that retires
    /// as the command arrives (eviction) hands it back, and a new actor gets it.
    async fn send(&self, doc: &DocId, mut cmd: DocCmd) -> Result<(), SyncError> {
        for _ in 0..MAX_JOIN_ATTEMPTS {
            if self.shutdown.is_cancelled() {
                return Err(SyncError::ShuttingDown);
            }
            let handle = self.handle(doc);
            match handle.offer(cmd).await {
                Ok(()) => return Ok(()),
                Err(back) => {
                    self.docs.remove_if(doc, |_, h| h.actor_id == handle.actor_id);
                    cmd = back;
                }
            }
        }
        Err(SyncError::Gone)
    }

    fn handle(&self, doc: &DocId) -> DocHandle {
        if let Some(handle) = self.docs.get(doc) {
            return handle.clone();
        }
        // The entry guard is held only while spawning, never across an await.
        self.docs
            .entry(doc.clone())
            .or_insert_with(|| {
                let actor_id = self.next_id.fetch_add(1, Ordering::Relaxed);
                let env = ActorEnv {
                    store: self.store.clone(),
                    docs: Arc::clone(&self.docs),
                    config: self.config.clone(),
                    shutdown: self.shutdown.clone(),
                    cluster: self.cluster.clone(),
                    counters: Arc::clone(&self.counters),
                };
                let (handle, actor) = DocActor::spawn_parts(doc.clone(), actor_id, env);
                self.tracker.spawn(actor.run());
                handle
            })
            .clone()
    }

    /// Number of documents in memory.
    pub fn n_live(&self) -> usize {
        self.docs.len()
    }

    /// Whether a document is in memory.
    pub fn is_live(&self, doc: &DocId) -> bool {
        self.docs.contains_key(doc)
    }
}
