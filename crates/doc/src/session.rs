//! The protocol state of one connection: decodes each frame and applies the connection's
//! permission before anything reaches the document.

use hubring_protocol::ws::MSG_SUBSCRIBE_SAVED;
use yrs::StateVector;
use yrs::encoding::read::Cursor;
use yrs::sync::{AwarenessUpdate, Message, SyncMessage};
use yrs::updates::decoder::{Decode, Decoder, DecoderV1};

use crate::error::ProtocolError;
use crate::message;
use crate::scan::{self, FrameShape, UpdateBudget, UpdateCost};
use crate::state::EMPTY_UPDATE;

/// What a connection may do with a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Receives everything, shares its presence, never changes the document.
    Read,
    /// Reads and writes.
    Write,
}

/// What one frame asks of the document, in the order it must happen.
#[derive(Debug)]
pub enum Inbound {
    /// The client sent its state vector and waits for a sync step 2 with what it lacks.
    SyncStep1(StateVector),
    /// A document update from a writer (sync step 2 or update). `n` counts this connection's
    /// accepted updates from 1, so a save acknowledgement can name them.
    /// `raw` is the update as received (walked, not decoded: the document decodes it, so a
    /// heavy update costs the connection nothing); `cost` is what the walk counted.
    Update { n: u64, raw: Vec<u8>, cost: UpdateCost },
    /// A presence change to apply and forward.
    Awareness(AwarenessUpdate),
    /// The client asks for every known presence state.
    QueryAwareness,
    /// The client wants save acknowledgements (`MSG_SUBSCRIBE_SAVED`).
    SubscribeSaved,
    /// Bytes to send back to this connection only, e.g. a refusal.
    Reply(Vec<u8>),
}

/// The per-connection protocol state.
#[derive(Debug)]
pub struct Session {
    permission: Permission,
    n_updates: u64,
    budget: UpdateBudget,
}

/// The auth reason a read-only session's updates are refused with.
pub const READ_ONLY_REASON: &str = "read-only: this connection may not change the document";

impl Session {
    pub fn new(permission: Permission) -> Self {
        Self { permission, n_updates: 0, budget: UpdateBudget::default() }
    }

    /// The same session with another limit on what one update may cost.
    pub fn with_budget(self, budget: UpdateBudget) -> Self {
        Self { budget, ..self }
    }

    pub fn permission(&self) -> Permission {
        self.permission
    }

    /// Decodes one frame. A frame holds exactly one y-protocols message, as `y-websocket` sends
    /// and expects; anything else, or a payload yrs cannot decode, is an error and nothing of the
    /// frame takes effect.
    ///
    /// The frame is walked first (`scan::frame`), so yrs never decodes values nested past
    /// `scan::MAX_ANY_DEPTH`, counts the bytes cannot hold, or an update over the budget.
    pub fn receive(&mut self, frame: &[u8]) -> Result<Option<Inbound>, ProtocolError> {
        let cost = match scan::frame(frame, &self.budget)? {
            FrameShape::Update(cost) => cost,
            FrameShape::Other => UpdateCost::default(),
        };
        let mut decoder = DecoderV1::new(Cursor::new(frame));
        let msg = Message::decode(&mut decoder)?;
        let rest = decoder.read_to_end()?.len();
        if rest != 0 {
            return Err(ProtocolError::TrailingBytes(rest));
        }
        Ok(match msg {
            Message::Sync(SyncMessage::SyncStep1(sv)) => Some(Inbound::SyncStep1(sv)),
            Message::Sync(SyncMessage::SyncStep2(bytes) | SyncMessage::Update(bytes)) => {
                self.update(bytes, cost)?
            }
            Message::Awareness(update) => Some(Inbound::Awareness(presence(update)?)),
            Message::AwarenessQuery => Some(Inbound::QueryAwareness),
            // Clients have nothing to authenticate on this channel (credentials come with the
            // upgrade request); an auth message from them is ignored as y-websocket's server does.
            Message::Auth(_) => None,
            Message::Custom(MSG_SUBSCRIBE_SAVED, _) => Some(Inbound::SubscribeSaved),
            Message::Custom(tag, _) => return Err(ProtocolError::UnsupportedType(tag)),
        })
    }

    fn update(&mut self, raw: Vec<u8>, cost: UpdateCost) -> Result<Option<Inbound>, ProtocolError> {
        if raw == EMPTY_UPDATE {
            // Every client answers the server's sync step 1 with a step 2, usually empty; it
            // changes nothing and needs no acknowledgement (the web client's `SaveTracker`
            // tells an empty update by the same two bytes).
            return Ok(None);
        }
        Ok(Some(match self.permission {
            Permission::Read => Inbound::Reply(message::permission_denied(READ_ONLY_REASON)),
            Permission::Write => {
                self.n_updates += 1;
                Inbound::Update { n: self.n_updates, raw, cost }
            }
        }))
    }
}

/// Most client states one presence update may carry: a browser tab sends its own, one.
pub(crate) const MAX_PRESENCE_CLIENTS: usize = 16;
/// Largest presence state, in bytes of JSON: a name, a colour and a cursor take a few hundred.
pub(crate) const MAX_PRESENCE_STATE_BYTES: usize = 8 * 1024;

/// A presence update checked before anyone else sees it: every state is JSON (or `null`, the
/// client leaving), so a state no y-protocols client could parse is never forwarded, and small.
fn presence(update: AwarenessUpdate) -> Result<AwarenessUpdate, ProtocolError> {
    if update.clients.len() > MAX_PRESENCE_CLIENTS {
        return Err(ProtocolError::PresenceTooBig("more client states than one connection has"));
    }
    for entry in update.clients.values() {
        if entry.json.len() > MAX_PRESENCE_STATE_BYTES {
            return Err(ProtocolError::PresenceTooBig("a state larger than 8 KiB"));
        }
        // Checked without building the value (serde_json's skipping is iterative, and the size
        // bound above keeps any nesting cheap for the clients that parse it).
        if serde_json::from_str::<serde::de::IgnoredAny>(&entry.json).is_err() {
            return Err(ProtocolError::Presence("a state that is not JSON"));
        }
    }
    Ok(update)
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::sync::protocol::{MSG_AUTH, PERMISSION_DENIED};
    use yrs::updates::encoder::Encode;
    use yrs::{Doc, GetString, ReadTxn, Text, Transact, Update};

    fn text_update(s: &str) -> Vec<u8> {
        let doc = Doc::new();
        let text = doc.get_or_insert_text("t");
        let mut txn = doc.transact_mut();
        text.push(&mut txn, s);
        txn.encode_update_v1()
    }

    #[test]
    fn writer_updates_are_numbered() {
        let mut session = Session::new(Permission::Write);
        for want in 1..=3 {
            let frame = message::update(&text_update("hi"));
            match session.receive(&frame).unwrap() {
                Some(Inbound::Update { n, raw, .. }) => {
                    assert_eq!(n, want);
                    let doc = Doc::new();
                    let text = doc.get_or_insert_text("t");
                    doc.transact_mut().apply_update(Update::decode_v1(&raw).unwrap()).unwrap();
                    assert_eq!(text.get_string(&doc.transact()), "hi");
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn viewer_cannot_write() {
        let mut session = Session::new(Permission::Read);
        let frame = message::update(&text_update("nope"));
        let Some(Inbound::Reply(reply)) = session.receive(&frame).unwrap() else {
            panic!("a read-only update must be refused");
        };
        assert_eq!(reply[0], MSG_AUTH);
        assert_eq!(reply[1], PERMISSION_DENIED);
        // Sync step 2 from a viewer is refused the same way.
        let step2 = message::sync_step2(text_update("nope"));
        assert!(matches!(session.receive(&step2).unwrap(), Some(Inbound::Reply(_))));
    }

    #[test]
    fn empty_step2_is_ignored_for_everyone() {
        let empty = Doc::new().transact().encode_state_as_update_v1(&StateVector::default());
        for permission in [Permission::Read, Permission::Write] {
            let mut session = Session::new(permission);
            assert!(session.receive(&message::sync_step2(empty.clone())).unwrap().is_none());
        }
    }

    #[test]
    fn each_message_type_decodes() {
        let mut session = Session::new(Permission::Read);
        let step1 = message::sync_step1(&StateVector::default());
        assert!(matches!(session.receive(&step1).unwrap(), Some(Inbound::SyncStep1(_))));
        assert!(matches!(session.receive(&[3]).unwrap(), Some(Inbound::QueryAwareness)));
        let sub = Message::Custom(MSG_SUBSCRIBE_SAVED, vec![]).encode_v1();
        assert!(matches!(session.receive(&sub).unwrap(), Some(Inbound::SubscribeSaved)));
        let awareness = message::awareness(AwarenessUpdate { clients: Default::default() });
        assert!(matches!(session.receive(&awareness).unwrap(), Some(Inbound::Awareness(_))));
    }

    #[test]
    fn bad_frames_are_errors() {
        let mut session = Session::new(Permission::Write);
        let good = message::update(&text_update("x"));
        let mut trailing = good.clone();
        trailing.push(0);
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("empty frame", vec![]),
            ("truncated update", good[..good.len() - 2].to_vec()),
            ("trailing bytes", trailing),
            ("unknown sync step", vec![0, 9, 0]),
            ("unknown custom type", Message::Custom(77, vec![1]).encode_v1()),
            ("update that is not an update", message::update(&[0xff, 0xff, 0xff, 0xff, 0x0f])),
        ];
        for (name, frame) in cases {
            assert!(session.receive(&frame).is_err(), "{name} must be rejected");
        }
        // Rejected frames consume no update numbers.
        let Some(Inbound::Update { n, .. }) = session.receive(&good).unwrap() else { panic!() };
        assert_eq!(n, 1);
    }

    fn presence_frame(states: &[(u64, &str)]) -> Vec<u8> {
        use yrs::sync::awareness::AwarenessUpdateEntry;
        let clients = states
            .iter()
            .map(|&(id, json)| {
                (
                    yrs::block::ClientID::new(id),
                    AwarenessUpdateEntry { clock: 1, json: json.into() },
                )
            })
            .collect();
        message::awareness(AwarenessUpdate { clients })
    }

    #[test]
    fn presence_states_must_be_small_json_and_few() {
        let mut session = Session::new(Permission::Read);
        for ok in [r#"{"user":{"name":"Ana"}}"#, "null", "{}"] {
            let inbound = session.receive(&presence_frame(&[(7, ok)])).unwrap();
            assert!(matches!(inbound, Some(Inbound::Awareness(_))), "{ok}");
        }
        for bad in ["{not json", "", r#"{"a":1} trailing"#] {
            let err = session.receive(&presence_frame(&[(7, bad)])).unwrap_err();
            assert!(matches!(err, ProtocolError::Presence(_)) && !err.is_over_budget(), "{bad}");
        }
        let big = format!("\"{}\"", "x".repeat(MAX_PRESENCE_STATE_BYTES));
        assert!(session.receive(&presence_frame(&[(7, &big)])).unwrap_err().is_over_budget());
        let many: Vec<(u64, &str)> = (0..=MAX_PRESENCE_CLIENTS as u64).map(|i| (i, "{}")).collect();
        assert!(session.receive(&presence_frame(&many)).unwrap_err().is_over_budget());
    }
}
