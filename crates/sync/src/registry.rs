//! The registry of live documents: maps a document id to its actor's handle, starting the actor
//! on first join. It only maps; the actors own the documents.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use dashmap::DashMap;
use hubring_protocol::DocId;
use hubring_store::Store;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::actor::{ConnLink, DocActor, DocCmd, DocHandle, Edit};
use crate::conn::{CloseSignal, Conn, ConnId};
use crate::outbox::{Outbox, outbox};
use crate::{SyncConfig, SyncError};

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
        }
    }

    /// Connects to a document, loading it if it is not live. Returns the connection and its
    /// outbox, which already holds the server's sync step 1 (and presence states, if any).
    pub async fn join(&self, doc: &DocId) -> Result<(Conn, Outbox), SyncError> {
        self.join_with(doc, Arc::default()).await
    }

    /// [`Registry::join`] with a close signal made beforehand, so that whoever may need to
    /// close the connection can hold it before the connection exists; raised already, the
    /// connection closes as soon as it is joined.
    pub async fn join_with(
        &self,
        doc: &DocId,
        close: Arc<CloseSignal>,
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
                let (handle, actor) = DocActor::spawn_parts(
                    doc.clone(),
                    actor_id,
                    self.store.clone(),
                    Arc::clone(&self.docs),
                    self.config.clone(),
                    self.shutdown.clone(),
                );
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
