//! Encoders for the frames the server sends, one y-protocols message per frame as `y-websocket`
//! expects (y-protocols `sync.js`, `awareness.js`, `auth.js`).

use hubring_protocol::ws::MSG_SAVED;
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

/// Updates merged in runs of `run_len` (Yjs `mergeUpdates`), so a burst of edits is stored and
/// sent as a few updates rather than one per edit. Runs are bounded because merging costs grow
/// faster than linearly with the run (measured with yrs 0.28: about 0.5 µs per update in runs
/// of 16, 2.3 µs in runs of 512). A run yrs cannot merge is passed on unmerged.
pub fn merge_runs(updates: &[&[u8]], run_len: usize) -> Vec<Vec<u8>> {
    let mut merged = Vec::with_capacity(updates.len().div_ceil(run_len.max(1)));
    for run in updates.chunks(run_len.max(1)) {
        match run {
            [one] => merged.push(one.to_vec()),
            many => match yrs::merge_updates_v1(many) {
                Ok(update) => merged.push(update),
                Err(_) => merged.extend(many.iter().map(|u| u.to_vec())),
            },
        }
    }
    merged
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

#[cfg(test)]
mod tests {
    use yrs::updates::decoder::Decode;
    use yrs::{GetString, Text, Transact, Update};

    use super::*;

    #[test]
    fn merged_runs_hold_every_edit() {
        let doc = yrs::Doc::new();
        let text = doc.get_or_insert_text("t");
        let updates: Vec<Vec<u8>> = (0..40)
            .map(|i| {
                let mut txn = doc.transact_mut();
                text.insert(&mut txn, 0, &i.to_string());
                txn.encode_update_v1()
            })
            .collect();
        let parts: Vec<&[u8]> = updates.iter().map(Vec::as_slice).collect();
        let runs = merge_runs(&parts, 16);
        assert_eq!(runs.len(), 3);
        let copy = yrs::Doc::new();
        for run in &runs {
            copy.transact_mut().apply_update(Update::decode_v1(run).unwrap()).unwrap();
        }
        let read = |d: &yrs::Doc| d.get_or_insert_text("t").get_string(&d.transact());
        assert_eq!(read(&copy), read(&doc));
    }
}
