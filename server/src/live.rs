//! Which signed-in person holds which live document connection, so that a change of access
//! takes effect at once: a member removed or downgraded, a project or item deleted, a session
//! signed out or a token revoked closes the connections it covered (they reconnect with what
//! they may still do, or are refused).

use std::collections::HashSet;
use std::sync::{Arc, Weak};
use std::time::Duration;

use dashmap::DashMap;
use hubring_protocol::{DocId, UserId};
use hubring_store::{Credential, Store};
use hubring_sync::CloseSignal;
use hubring_workspace::Revocation;
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
    doc: DocId,
    credential: Option<Credential>,
    close: Weak<CloseSignal>,
}

/// The live connections of signed-in people, by person.
#[derive(Debug, Default)]
pub(crate) struct LiveConns {
    by_user: DashMap<UserId, Vec<Entry>>,
}

/// Removes its connection from the index when the connection ends.
#[derive(Debug)]
pub(crate) struct Registration {
    live: Arc<LiveConns>,
    user: UserId,
    key: usize,
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
        doc: DocId,
        credential: Option<Credential>,
        close: &Arc<CloseSignal>,
    ) -> Registration {
        let key = Arc::as_ptr(close) as usize;
        let entry = Entry { key, doc, credential, close: Arc::downgrade(close) };
        self.by_user.entry(user.clone()).or_default().push(entry);
        Registration { live: Arc::clone(self), user, key }
    }

    /// Applies a revocation: closes the connections opened with what it took away.
    pub(crate) fn revoke(&self, revocation: &Revocation) -> usize {
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

    /// Closes `user`'s connections to any of `docs`; returns how many.
    pub(crate) fn close_docs(&self, user: &UserId, docs: &[DocId], reason: &str) -> usize {
        self.close_where(user, |e| docs.contains(&e.doc), reason)
    }

    /// Closes everyone's connections to any of `docs` (a deleted project or item).
    pub(crate) fn close_all_on(&self, docs: &[DocId], reason: &str) -> usize {
        let users: Vec<UserId> = self.by_user.iter().map(|e| e.key().clone()).collect();
        users.iter().map(|user| self.close_docs(user, docs, reason)).sum()
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
