//! One document's state: the `yrs::Doc`, its `Awareness`, and the rules for changing them.

use std::collections::HashMap;

use serde_json::Value;
use yrs::sync::{Awareness, AwarenessUpdate};
use yrs::types::ToJson;
use yrs::updates::decoder::Decode;
use yrs::{Any, Array, ClientID, Doc, GetString, Map, Out, ReadTxn, StateVector, Transact, Update};

use crate::error::DocError;
use crate::message;

/// The encoding of an update that changes nothing: no structs, empty delete set.
pub(crate) const EMPTY_UPDATE: [u8; 2] = [0, 0];

/// Delete ranges a document may hold for items it has not seen. yrs keeps such ranges pending
/// and tries them again on every later update, so each one slows every edit of the document:
/// after six updates of 49,000 such ranges, a one-character update took 1.1 ms to apply in a
/// release build (0.37 ms after the first) and 23 ms end to end in a debug server, growing with
/// every further one. Real clients delete what they have seen, so this is never reached by
/// them; an update that could pass it is refused before it is applied.
pub const MAX_PENDING_DELETE_RANGES: usize = 100_000;

/// Roots only the server writes: a client's update that changes them is refused.
pub(crate) const SERVER_OWNED: [&str; 1] = [crate::comments::THREADS];

/// The outcome of applying one update.
#[derive(Debug, PartialEq, Eq)]
pub enum Applied {
    /// The update held nothing new.
    Nothing,
    /// The update changed the document; these bytes (lib0 v1) are what must be stored and sent
    /// to the other connections.
    Changed(Vec<u8>),
}

fn count_ranges(set: &yrs::IdSet) -> usize {
    set.iter().map(|(_, ranges)| ranges.len()).sum()
}

/// Who sent an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// A client: it may not change what only the server writes.
    Client,
    /// The store or another node: committed already, so checked when it was received.
    Committed,
}

/// One live document. Whoever holds it is the only writer of the document.
#[derive(Debug)]
pub struct DocState {
    awareness: Awareness,
}

impl Default for DocState {
    fn default() -> Self {
        Self::new()
    }
}

impl DocState {
    /// An empty document.
    pub fn new() -> Self {
        let doc = Doc::new();
        // Typed before any update arrives: yrs reports changes only of typed roots (a root
        // first met in an update is untyped and its changes raise no event), and
        // `apply_client` reads those reports to refuse writes to server-owned roots.
        for owned in SERVER_OWNED {
            doc.get_or_insert_map(owned);
        }
        Self { awareness: Awareness::new(doc) }
    }

    /// A document rebuilt from stored updates (a snapshot first, then the log after it).
    pub fn load<'a>(stored: impl IntoIterator<Item = &'a [u8]>) -> Result<Self, DocError> {
        let state = Self::new();
        {
            let mut txn = state.awareness.doc().transact_mut();
            for bytes in stored {
                txn.apply_update(Update::decode_v1(bytes)?)?;
            }
        }
        Ok(state)
    }

    /// Decodes and applies an update (lib0 v1, already walked by `scan`) and returns the part
    /// that was new. Decoding is done here rather than by the connection so that whoever runs
    /// a heavy update off the runtime's workers runs all of its cost there.
    ///
    /// The result is what the transaction integrated (`encode_update_v1`), so a client resending
    /// what the document already holds costs no storage and no broadcast. When the update leaves
    /// structs pending (their predecessors have not arrived), the whole update is returned
    /// instead: storing it keeps the pending part durable, and peers stash it the same way.
    ///
    /// yrs has no rollback, so an `Err` may leave part of the update applied; the caller must
    /// then rebuild the document from its store, unless `DocError::left_intact` says the update
    /// was refused before anything was applied (it does not decode, or more than
    /// [`MAX_PENDING_DELETE_RANGES`] deletions of unknown items could be pending).
    pub fn apply(&mut self, raw: &[u8]) -> Result<Applied, DocError> {
        self.apply_from(raw, Source::Committed)
    }

    /// [`DocState::apply`] for an update a client sent: one that changes a root only the
    /// server writes ([`SERVER_OWNED`]: comment threads) is refused with
    /// [`DocError::ServerOwned`]. It was applied by then (yrs tells what an update changed only
    /// as it commits), so the caller rebuilds the document, as for any refused update.
    pub fn apply_client(&mut self, raw: &[u8]) -> Result<Applied, DocError> {
        self.apply_from(raw, Source::Client)
    }

    fn apply_from(&mut self, raw: &[u8], source: Source) -> Result<Applied, DocError> {
        let update = Update::decode_v1(raw).map_err(DocError::Undecodable)?;
        let mut txn = self.awareness.doc().transact_mut();
        // Whatever of the update's delete set finds no item joins the pending ranges: refused
        // when that could pass the limit, counting all of it (it is 0 pending in any real use).
        let n_pending = txn.store().pending_ds().map_or(0, count_ranges);
        let n_new = count_ranges(update.delete_set());
        if n_new > 0 && n_pending + n_new > MAX_PENDING_DELETE_RANGES {
            return Err(DocError::TooManyPendingDeletes(n_pending + n_new));
        }
        txn.apply_update(update)?;
        let applied = if txn.has_missing_updates() {
            Applied::Changed(raw.to_vec())
        } else {
            let effective = txn.encode_update_v1();
            if effective == EMPTY_UPDATE { Applied::Nothing } else { Applied::Changed(effective) }
        };
        if source == Source::Client {
            // Committing fills `changed_parent_types` with every changed type and its
            // ancestors up to the root, deletions included.
            txn.commit();
            for branch in txn.changed_parent_types() {
                if let yrs::BranchID::Root(name) = branch.id()
                    && let Some(owned) = SERVER_OWNED.iter().find(|owned| **owned == &*name)
                {
                    return Err(DocError::ServerOwned(owned));
                }
            }
        }
        Ok(applied)
    }

    /// The sync step 2 answering a client's step 1.
    pub fn sync_step2(&self, sv: &StateVector) -> Vec<u8> {
        message::sync_step2(self.awareness.doc().transact().encode_state_as_update_v1(sv))
    }

    /// The server's own sync step 1, sent first on every connection.
    pub fn sync_step1(&self) -> Vec<u8> {
        message::sync_step1(&self.awareness.doc().transact().state_vector())
    }

    /// The whole document as one update, for a snapshot or an export.
    pub fn encode_state(&self) -> Vec<u8> {
        self.awareness.doc().transact().encode_state_as_update_v1(&StateVector::default())
    }

    /// Applies a presence update. Returns what must be forwarded to the other connections and,
    /// per client id, whether that client is now present (`true`) or gone (`false`).
    pub fn apply_awareness(
        &mut self,
        update: AwarenessUpdate,
    ) -> Result<(Vec<u8>, HashMap<ClientID, bool>), DocError> {
        let presence =
            update.clients.iter().map(|(id, entry)| (*id, entry.json.as_ref() != "null")).collect();
        let forward = message::awareness(update.clone());
        self.awareness.apply_update(update)?;
        Ok((forward, presence))
    }

    /// Applies a presence frame another node forwarded (its own connections' states, already
    /// checked there). Returns whether it was one.
    pub fn apply_awareness_frame(&mut self, frame: &[u8]) -> Result<bool, DocError> {
        match yrs::sync::Message::decode_v1(frame) {
            Ok(yrs::sync::Message::Awareness(update)) => {
                self.awareness.apply_update(update)?;
                Ok(true)
            }
            Ok(_) => Ok(false),
            Err(err) => Err(DocError::Corrupt(err)),
        }
    }

    /// The document's state vector.
    pub fn state_vector(&self) -> StateVector {
        self.awareness.doc().transact().state_vector()
    }

    /// What the document holds beyond `sv`, as one update; `None` when nothing.
    pub fn diff(&self, sv: &StateVector) -> Option<Vec<u8>> {
        let update = self.awareness.doc().transact().encode_state_as_update_v1(sv);
        (update != EMPTY_UPDATE).then_some(update)
    }

    /// Carries the presence states of `other` over, for a document rebuilt in place.
    pub fn with_presence_of(mut self, other: &DocState) -> Self {
        if let Ok(update) = other.awareness.update() {
            let _ = self.awareness.apply_update(update);
        }
        self
    }

    /// Every present client's state, for a newcomer or a query; `None` when nobody is present.
    pub fn awareness_message(&self) -> Option<Vec<u8>> {
        let update = self.awareness.update().ok()?;
        (!update.clients.is_empty()).then(|| message::awareness(update))
    }

    /// Marks clients as gone (their connection closed) and returns the frame that tells the
    /// others, as y-websocket's server does with `removeAwarenessStates`.
    pub fn remove_awareness(&mut self, clients: &[ClientID]) -> Option<Vec<u8>> {
        let known: Vec<ClientID> =
            clients.iter().copied().filter(|id| self.awareness.meta(*id).is_some()).collect();
        for id in &known {
            self.awareness.remove_state(*id);
        }
        let update = self.awareness.update_with_clients(known).ok()?;
        (!update.clients.is_empty()).then(|| message::awareness(update))
    }

    /// Every root type as JSON.
    ///
    /// A document loaded from bytes does not know which type each root was created as, so the
    /// type is read from the content: keys make a map; XML nodes an XML fragment; a sequence of
    /// strings text (Y.Text stores its chunks as strings); anything else an array.
    pub fn to_json(&self) -> Value {
        let doc = self.awareness.doc();
        let txn = doc.transact();
        // Server-owned roots are typed in every document; one that holds nothing is left out.
        let names: Vec<String> = txn
            .root_refs()
            .filter(|(name, _)| {
                !SERVER_OWNED.contains(name) || txn.get_map(*name).is_some_and(|m| m.len(&txn) > 0)
            })
            .map(|(name, _)| name.to_owned())
            .collect();
        let mut out = serde_json::Map::new();
        for name in names {
            let value = root_to_json(&txn, &name);
            out.insert(name, value);
        }
        Value::Object(out)
    }

    /// Runs a change in one transaction; the update it made, unless it changed nothing.
    pub fn edit(&mut self, f: impl FnOnce(&mut yrs::TransactionMut<'_>)) -> Option<Vec<u8>> {
        let mut txn = self.awareness.doc().transact_mut();
        f(&mut txn);
        let update = txn.encode_update_v1();
        (update != EMPTY_UPDATE).then_some(update)
    }

    /// The document, for callers that render or inspect it.
    pub fn doc(&self) -> &Doc {
        self.awareness.doc()
    }
}

fn root_to_json<T: ReadTxn>(txn: &T, name: &str) -> Value {
    let any = match (txn.get_map(name), txn.get_array(name)) {
        (Some(map), _) if map.len(txn) > 0 => map.to_json(txn),
        (_, Some(array)) => {
            let items: Vec<Out> = array.iter(txn).collect();
            let is_xml = items.iter().any(|v| matches!(v, Out::YXmlElement(_) | Out::YXmlText(_)));
            // Text chunks are string content, which an array never holds (its strings are
            // values): so a root whose text reading is non-empty is a Y.Text.
            let text = txn.get_text(name).map(|t| t.get_string(txn)).unwrap_or_default();
            if is_xml {
                txn.get_xml_fragment(name).map_or(Any::Null, |f| Any::from(f.get_string(txn)))
            } else if !text.is_empty() || items.is_empty() {
                Any::from(text)
            } else {
                array.to_json(txn)
            }
        }
        _ => Any::Null,
    };
    any_to_json(&any)
}

fn any_to_json(any: &Any) -> Value {
    let mut text = String::new();
    any.to_json(&mut text);
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::{Array, Map, Text, WriteTxn};

    fn edit(f: impl FnOnce(&mut yrs::TransactionMut<'_>)) -> Vec<u8> {
        let doc = Doc::new();
        let mut txn = doc.transact_mut();
        f(&mut txn);
        txn.encode_update_v1()
    }

    fn apply(state: &mut DocState, raw: &[u8]) -> Applied {
        state.apply(raw).unwrap()
    }

    #[test]
    fn a_client_update_to_the_threads_map_is_refused_and_others_pass() {
        let mut state = DocState::new();
        let text = edit(|txn| txn.get_or_insert_text("t").push(txn, "hello"));
        assert!(matches!(state.apply_client(&text), Ok(Applied::Changed(_))));
        let forged = edit(|txn| {
            txn.get_or_insert_map(crate::comments::THREADS).insert(txn, "t1", "forged");
        });
        assert!(matches!(state.apply_client(&forged), Err(DocError::ServerOwned("threads"))));
        // The same bytes from the store (already checked when a client sent them) apply.
        let mut loaded = DocState::new();
        assert!(matches!(loaded.apply(&forged), Ok(Applied::Changed(_))));
        assert!(loaded.to_json()["threads"]["t1"] == "forged");
        assert!(
            DocState::new().to_json().get("threads").is_none(),
            "an empty threads map is not shown"
        );
    }

    #[test]
    fn apply_returns_only_what_is_new() {
        let update = edit(|txn| {
            txn.get_or_insert_text("t").push(txn, "hello");
        });
        let mut state = DocState::new();
        assert!(matches!(apply(&mut state, &update), Applied::Changed(_)));
        assert_eq!(apply(&mut state, &update), Applied::Nothing);
    }

    #[test]
    fn out_of_order_update_is_kept_whole() {
        let doc = Doc::new();
        let text = doc.get_or_insert_text("t");
        let mut updates = Vec::new();
        for chunk in ["a", "b"] {
            let mut txn = doc.transact_mut();
            text.push(&mut txn, chunk);
            updates.push(txn.encode_update_v1());
        }
        let mut state = DocState::new();
        let Applied::Changed(stored) = apply(&mut state, &updates[1]) else { panic!() };
        // The stored bytes alone, replayed after the first update, rebuild the document.
        let reloaded = DocState::load([updates[0].as_slice(), stored.as_slice()]).unwrap();
        assert_eq!(reloaded.to_json(), serde_json::json!({"t": "ab"}));
    }

    #[test]
    fn load_replays_snapshot_then_log() {
        let mut state = DocState::new();
        apply(
            &mut state,
            &edit(|txn| {
                txn.get_or_insert_map("m").insert(txn, "k", 1);
            }),
        );
        let snapshot = state.encode_state();
        let Applied::Changed(log) = apply(
            &mut state,
            &edit(|txn| {
                txn.get_or_insert_array("a").push_back(txn, "x");
            }),
        ) else {
            panic!()
        };
        let reloaded = DocState::load([snapshot.as_slice(), log.as_slice()]).unwrap();
        assert_eq!(reloaded.to_json(), state.to_json());
        assert_eq!(reloaded.to_json(), serde_json::json!({"m": {"k": 1}, "a": ["x"]}));
    }

    #[test]
    fn corrupt_store_is_an_error() {
        assert!(DocState::load([[0xffu8, 0xff, 0xff].as_slice()]).is_err());
    }

    #[test]
    fn awareness_join_and_leave() {
        let mut state = DocState::new();
        let peer = Awareness::new(Doc::new());
        let mut peer = peer;
        peer.set_local_state(serde_json::json!({"user": {"name": "Ada"}})).unwrap();
        let id = peer.client_id();
        let (_, presence) = state.apply_awareness(peer.update().unwrap()).unwrap();
        assert_eq!(presence.get(&id), Some(&true));
        assert!(state.awareness_message().is_some());
        assert!(state.remove_awareness(&[id]).is_some());
        assert!(state.awareness_message().is_none());
    }
}
