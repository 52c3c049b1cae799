//! Which signed-in person holds which live document connection, so that a change of access
//! takes effect at once: a member removed or downgraded, a project or item deleted, a session
//! signed out or a token revoked closes the connections it covered (they reconnect with what
//! they may still do, or are refused).

use std::sync::{Arc, Weak};

use dashmap::DashMap;
use hubring_protocol::{DocId, UserId};
use hubring_store::Credential;
use hubring_sync::CloseSignal;

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
