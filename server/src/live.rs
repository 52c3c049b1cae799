//! Which signed-in person holds which live document connection, so that a change of access
//! takes effect at once: a member removed or downgraded, a project or item deleted, a session
//! signed out or a token revoked closes the connections it covered (they reconnect with what
//! they may still do, or are refused).

use std::collections::HashSet;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use bytes::Bytes;
use dashmap::DashMap;
use hubring_cluster::Redis;
use hubring_protocol::{DocId, ItemId, TokenId, UserId};
use hubring_store::{Credential, Store};
use hubring_sync::CloseSignal;
use hubring_workspace::{Caller, Revocation, Workspace, WorkspaceError};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

/// How often live connections' credentials are checked against the store, for revocations made
/// by another process (`hubring admin reset-password`); the server's own close at once.
pub(crate) const CREDENTIAL_CHECK: Duration = Duration::from_secs(2);

/// Close code for a connection whose access changed (RFC 6455's policy violation).
pub(crate) const ACCESS_CHANGED: u16 = 1008;

#[derive(Debug)]
struct Entry {
    /// The close signal's address: the connection's identity from before it has an id.
    key: usize,
    /// The document it is a connection to; `None` for the notification stream.
    doc: Option<DocId>,
    credential: Option<Credential>,
    close: Weak<CloseSignal>,
    /// Who opened it, and what was granted, to check again ([`LiveConns::recheck_all`]).
    caller: Caller,
    watch: Watch,
    /// For a document: 0 until granted, then 1 (read) or 2 (write).
    granted: Arc<AtomicU8>,
}

/// What a registered connection is.
#[derive(Debug, Clone)]
pub(crate) enum Watch {
    Document,
    Room(ItemId),
    /// The notification stream (`GET /api/v1/me/notifications/stream`): it ends with the
    /// credential that opened it.
    Bell,
}

/// The live connections of signed-in people, by person. With other nodes, every change of
/// access applied here is published to them, and theirs are applied here
/// ([`LiveConns::apply_event`]).
#[derive(Debug, Default)]
pub(crate) struct LiveConns {
    by_user: DashMap<UserId, Vec<Entry>>,
    /// Per person with a notification stream open here: a counter bumped when their
    /// notifications change (see [`LiveConns::ring`]).
    bells: DashMap<UserId, tokio::sync::watch::Sender<u64>>,
    cluster: OnceLock<Arc<Redis>>,
}

/// A change of access as nodes tell each other (JSON on the events channel).
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum AccessEvent {
    /// One credential ended.
    Credential { user: String, credential: Wire },
    /// Every credential of `user` but `keep` ended.
    AllBut { user: String, keep: Option<Wire> },
    /// `user`'s connections to `docs` must close.
    CloseDocs { user: String, docs: Vec<String>, reason: String },
    /// Everyone's connections to `docs` must close.
    CloseAllOn { docs: Vec<String>, reason: String },
    /// A person's notifications changed (not a change of access, but the same channel).
    Bell { user: String },
}

/// A credential on the wire: a session's stored id or a token's id (never a secret).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Wire {
    Login(String),
    Token(String),
}

impl From<&Credential> for Wire {
    fn from(credential: &Credential) -> Self {
        match credential {
            Credential::Login(id) => Self::Login(id.clone()),
            Credential::Token(id) => Self::Token(id.0.clone()),
        }
    }
}

impl From<Wire> for Credential {
    fn from(wire: Wire) -> Self {
        match wire {
            Wire::Login(id) => Self::Login(id),
            Wire::Token(id) => Self::Token(TokenId(id)),
        }
    }
}

fn doc_ids(raw: &[String]) -> Vec<DocId> {
    raw.iter().filter_map(|id| DocId::parse(id).ok()).collect()
}

/// Removes its connection from the index when the connection ends.
#[derive(Debug)]
pub(crate) struct Registration {
    live: Arc<LiveConns>,
    user: UserId,
    key: usize,
    granted: Arc<AtomicU8>,
}

impl Registration {
    /// Records what a document connection was granted, once its access is checked.
    pub(crate) fn grant(&self, write: bool) {
        self.granted.store(if write { 2 } else { 1 }, Ordering::Relaxed);
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.live.by_user.remove_if_mut(&self.user, |_, entries| {
            entries.retain(|e| e.key != self.key);
            entries.is_empty()
        });
    }
}

impl LiveConns {
    /// Indexes a connection-to-be by the close signal it will join with. Registering before
    /// access is checked closes the race with a change of access: a change after the check
    /// finds the signal here, one before it is seen by the check.
    pub(crate) fn register(
        self: &Arc<Self>,
        user: UserId,
        doc: Option<DocId>,
        caller: &Caller,
        watch: Watch,
        close: &Arc<CloseSignal>,
    ) -> Registration {
        let key = Arc::as_ptr(close) as usize;
        let granted = Arc::new(AtomicU8::new(0));
        let entry = Entry {
            key,
            doc,
            credential: caller.credential.clone(),
            close: Arc::downgrade(close),
            caller: caller.clone(),
            watch,
            granted: Arc::clone(&granted),
        };
        self.by_user.entry(user.clone()).or_default().push(entry);
        Registration { live: Arc::clone(self), user, key, granted }
    }

    /// Tells `user`'s notification streams, on every node, that their notifications changed.
    pub(crate) fn ring(&self, user: &UserId) {
        self.publish(&AccessEvent::Bell { user: user.0.clone() });
        self.ring_here(user);
    }

    /// Everyone's streams here: after a lag nobody knows whose changed.
    pub(crate) fn ring_all_here(&self) {
        let users: Vec<UserId> = self.bells.iter().map(|e| e.key().clone()).collect();
        users.iter().for_each(|user| self.ring_here(user));
    }

    fn ring_here(&self, user: &UserId) {
        // A person with no stream open left is forgotten.
        self.bells.remove_if(user, |_, bell| {
            bell.send_modify(|n| *n = n.wrapping_add(1));
            bell.receiver_count() == 0
        });
    }

    /// A receiver that changes when `user`'s notifications do.
    pub(crate) fn bell(&self, user: &UserId) -> tokio::sync::watch::Receiver<u64> {
        self.bells
            .entry(user.clone())
            .or_insert_with(|| tokio::sync::watch::channel(0).0)
            .subscribe()
    }

    /// From now on, every change of access is also published to the other nodes.
    pub(crate) fn connect(&self, redis: Arc<Redis>) {
        let _ = self.cluster.set(redis);
    }

    fn publish(&self, event: &AccessEvent) {
        if let Some(redis) = self.cluster.get() {
            match serde_json::to_vec(event) {
                Ok(json) => redis.publish_event(Bytes::from(json)),
                Err(err) => tracing::error!(%err, "access event does not serialize"),
            }
        }
    }

    /// Applies a change of access another node published.
    pub(crate) fn apply_event(&self, message: &[u8]) {
        let event: AccessEvent = match serde_json::from_slice(message) {
            Ok(event) => event,
            Err(err) => {
                tracing::warn!(%err, "ignoring an access event that does not decode");
                return;
            }
        };
        let n = match event {
            AccessEvent::Credential { user, credential } => {
                self.revoke_here(&Revocation::Credential {
                    user: UserId(user),
                    credential: credential.into(),
                })
            }
            AccessEvent::AllBut { user, keep } => self.revoke_here(&Revocation::AllBut {
                user: UserId(user),
                keep: keep.map(Credential::from),
            }),
            AccessEvent::CloseDocs { user, docs, reason } => {
                self.close_docs_here(&UserId(user), &doc_ids(&docs), &reason)
            }
            AccessEvent::CloseAllOn { docs, reason } => {
                self.close_all_on_here(&doc_ids(&docs), &reason)
            }
            AccessEvent::Bell { user } => {
                self.ring_here(&UserId(user));
                0
            }
        };
        if n > 0 {
            tracing::info!(n_closed = n, "closed connections after another node's access change");
        }
    }

    /// Checks every live connection's access again, closing those that lost it (or lost
    /// writing): after a loss of the events channel this node may have missed changes of access
    /// made on another node. The credentials themselves are checked by
    /// [`credential_check_worker`].
    pub(crate) async fn recheck_all(&self, workspace: &Workspace) -> usize {
        let mut entries = Vec::new();
        for user in &self.by_user {
            for e in user.value() {
                if let Some(close) = e.close.upgrade() {
                    entries.push((
                        e.caller.clone(),
                        e.doc.clone(),
                        e.watch.clone(),
                        e.granted.load(Ordering::Relaxed),
                        close,
                    ));
                }
            }
        }
        let mut n = 0;
        for (caller, doc, watch, granted, close) in entries {
            let keeps = match (watch, doc) {
                (Watch::Bell, _) => true,
                (Watch::Document, None) => false,
                (Watch::Document, Some(doc)) => match workspace.doc_access(&caller, &doc).await {
                    Ok(Some(access)) => granted != 2 || access.write,
                    Ok(None) | Err(WorkspaceError::NotFound(_)) => false,
                    // A store that cannot answer takes nothing away; the next check will.
                    Err(_) => true,
                },
                (Watch::Room(item), _) => match workspace.room(&caller, &item).await {
                    Ok(_) => true,
                    Err(WorkspaceError::NotFound(_) | WorkspaceError::Forbidden(_)) => false,
                    Err(_) => true,
                },
            };
            if !keeps && close.close(ACCESS_CHANGED, "your access changed") {
                n += 1;
            }
        }
        n
    }

    /// Applies a revocation: closes the connections opened with what it took away, on every
    /// node.
    pub(crate) fn revoke(&self, revocation: &Revocation) -> usize {
        self.publish(&match revocation {
            Revocation::Credential { user, credential } => {
                AccessEvent::Credential { user: user.0.clone(), credential: credential.into() }
            }
            Revocation::AllBut { user, keep } => {
                AccessEvent::AllBut { user: user.0.clone(), keep: keep.as_ref().map(Wire::from) }
            }
        });
        self.revoke_here(revocation)
    }

    fn revoke_here(&self, revocation: &Revocation) -> usize {
        match revocation {
            Revocation::Credential { user, credential } => {
                let reason = match credential {
                    Credential::Login(_) => "signed out",
                    Credential::Token(_) => "token revoked",
                };
                self.close_credential(user, credential, reason)
            }
            Revocation::AllBut { user, keep } => self.close_where(
                user,
                |e| e.credential.is_none() || e.credential != *keep,
                "password changed: sign in again",
            ),
        }
    }

    /// Every credential a live connection was opened with.
    fn credentials(&self) -> Vec<(UserId, Credential)> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for entry in &self.by_user {
            for e in entry.value() {
                if let Some(c) = &e.credential
                    && seen.insert(c.clone())
                {
                    out.push((entry.key().clone(), c.clone()));
                }
            }
        }
        out
    }

    /// Closes `user`'s connections to any of `docs`, on every node; returns how many here.
    pub(crate) fn close_docs(&self, user: &UserId, docs: &[DocId], reason: &str) -> usize {
        self.publish(&AccessEvent::CloseDocs {
            user: user.0.clone(),
            docs: docs.iter().map(|d| d.as_str().to_owned()).collect(),
            reason: reason.to_owned(),
        });
        self.close_docs_here(user, docs, reason)
    }

    fn close_docs_here(&self, user: &UserId, docs: &[DocId], reason: &str) -> usize {
        self.close_where(user, |e| e.doc.as_ref().is_some_and(|d| docs.contains(d)), reason)
    }

    /// Closes everyone's connections to any of `docs` (a deleted project or item), on every
    /// node; returns how many here.
    pub(crate) fn close_all_on(&self, docs: &[DocId], reason: &str) -> usize {
        self.publish(&AccessEvent::CloseAllOn {
            docs: docs.iter().map(|d| d.as_str().to_owned()).collect(),
            reason: reason.to_owned(),
        });
        self.close_all_on_here(docs, reason)
    }

    fn close_all_on_here(&self, docs: &[DocId], reason: &str) -> usize {
        let users: Vec<UserId> = self.by_user.iter().map(|e| e.key().clone()).collect();
        users.iter().map(|user| self.close_docs_here(user, docs, reason)).sum()
    }

    /// Closes the connections `user` opened with `credential` (signed out, token revoked).
    pub(crate) fn close_credential(
        &self,
        user: &UserId,
        credential: &Credential,
        reason: &str,
    ) -> usize {
        self.close_where(user, |e| e.credential.as_ref() == Some(credential), reason)
    }

    fn close_where(&self, user: &UserId, matches: impl Fn(&Entry) -> bool, reason: &str) -> usize {
        // Collect first: closing wakes tasks that deregister, which needs the map's lock.
        let signals: Vec<Arc<CloseSignal>> = match self.by_user.get(user) {
            Some(entries) => {
                entries.iter().filter(|e| matches(e)).filter_map(|e| e.close.upgrade()).collect()
            }
            None => return 0,
        };
        for signal in &signals {
            signal.close(ACCESS_CHANGED, reason);
        }
        signals.len()
    }
}

/// Closes live connections whose credential another process revoked: every
/// [`CREDENTIAL_CHECK`], the credentials in use are looked up in the store in one query (per 500)
/// and those gone are closed. Revocations made through this server are applied at once by
/// [`LiveConns::revoke`]; this catches the command line's.
pub(crate) async fn credential_check_worker(
    live: Arc<LiveConns>,
    store: Store,
    shutdown: CancellationToken,
) {
    let mut tick = tokio::time::interval(CREDENTIAL_CHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let in_use = live.credentials();
        if in_use.is_empty() {
            continue;
        }
        let credentials: Vec<Credential> = in_use.iter().map(|(_, c)| c.clone()).collect();
        let in_force: HashSet<Credential> = match store.credentials_in_force(&credentials).await {
            Ok(found) => found.into_iter().collect(),
            // A store that cannot answer revokes nothing; the next check tries again.
            Err(err) => {
                tracing::warn!(%err, "checking live connections' credentials failed");
                continue;
            }
        };
        for (user, credential) in in_use {
            if !in_force.contains(&credential) {
                let n = live.close_credential(&user, &credential, "credentials revoked");
                tracing::info!(%user, n, "closed connections whose credentials were revoked");
            }
        }
    }
}
