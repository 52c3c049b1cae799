//! Encoders for the frames the server sends, one y-protocols message per frame as `y-websocket`
//! expects (y-protocols `sync.js`, `awareness.js`, `auth.js`).

use hubring_protocol::ws::MSG_SAVED;

use crate::DocError;
use yrs::StateVector;
use yrs::encoding::write::Write;
use yrs::sync::{AwarenessUpdate, Message, SyncMessage};
use yrs::updates::encoder::{Encode, Encoder, EncoderV1};

/// `sync step 1`: the sender's state vector, asking for what it lacks.
pub fn sync_step1(sv: &StateVector) -> Vec<u8> {
    Message::Sync(SyncMessage::SyncStep1(sv.clone())).encode_v1()
}

/// `sync step 2`: an update answering a step 1.
pub fn sync_step2(update: Vec<u8>) -> Vec<u8> {
    Message::Sync(SyncMessage::SyncStep2(update)).encode_v1()
}

/// `sync update`: a live document update.
pub fn update(update: &[u8]) -> Vec<u8> {
    // Written by hand rather than through `SyncMessage::Update(Vec<u8>)` to avoid copying the
    // update once more on the broadcast path; the bytes are identical.
    let mut enc = EncoderV1::new();
    enc.write_var(yrs::sync::protocol::MSG_SYNC);
    enc.write_var(yrs::sync::protocol::MSG_SYNC_UPDATE);
    enc.write_buf(update);
    enc.to_vec()
}

/// One `sync update` carrying several updates merged into one (Yjs `mergeUpdates`), so a burst
/// of edits costs each recipient one frame instead of one per edit. A single update is framed
/// as it is.
pub fn merged_update(updates: &[&[u8]]) -> Result<Vec<u8>, DocError> {
    match updates {
        [one] => Ok(update(one)),
        many => Ok(update(&yrs::merge_updates_v1(many)?)),
    }
}

/// An awareness update.
pub fn awareness(update: AwarenessUpdate) -> Vec<u8> {
    Message::Awareness(update).encode_v1()
}

/// `auth` with permission denied and a reason; `y-websocket` hands it to its
/// `permissionDeniedHandler`.
pub fn permission_denied(reason: &str) -> Vec<u8> {
    Message::Auth(Some(reason.to_owned())).encode_v1()
}

/// Hubring's own [`MSG_SAVED`]: the first `n_saved` updates of the connection are committed.
pub fn saved(n_saved: u64) -> Vec<u8> {
    let mut payload = EncoderV1::new();
    payload.write_var(n_saved);
    Message::Custom(MSG_SAVED, payload.to_vec()).encode_v1()
}
