//! A video room's own document: its chat, one entry per line in the `chat` array, each a map
//! of plain values (`id`, `from`, `user_id`, `name`, `text`, `at`, `breakout`), so any Yjs
//! client can read the history.

use std::collections::HashMap;

use hubring_protocol::room::ChatLine;
use yrs::{Any, Array, Doc, Out, ReadTxn, Transact, TransactionMut, WriteTxn};

/// The root array of chat lines.
pub const CHAT: &str = "chat";

/// Appends a chat line.
pub fn append_chat(txn: &mut TransactionMut<'_>, line: &ChatLine) {
    let chat = txn.get_or_insert_array(CHAT);
    let mut map: HashMap<String, Any> = HashMap::new();
    map.insert("id".into(), Any::from(line.id.as_str()));
    map.insert("from".into(), Any::from(line.from.0.as_str()));
    map.insert(
        "user_id".into(),
        line.user_id.as_ref().map_or(Any::Null, |u| Any::from(u.as_str())),
    );
    map.insert("name".into(), Any::from(line.name.as_str()));
    map.insert("text".into(), Any::from(line.text.as_str()));
    map.insert("at".into(), Any::from(line.at as f64));
    map.insert("breakout".into(), line.breakout.map_or(Any::Null, |b| Any::from(f64::from(b))));
    chat.push_back(txn, Any::from(map));
}

/// The texts of a room document's chat, in order (for tests and exports).
pub fn chat_texts(update: &[u8]) -> Result<Vec<String>, crate::DocError> {
    use yrs::updates::decoder::Decode;
    let doc = Doc::new();
    let update = yrs::Update::decode_v1(update)?;
    doc.transact_mut().apply_update(update)?;
    let txn = doc.transact();
    let Some(chat) = txn.get_array(CHAT) else { return Ok(Vec::new()) };
    Ok(chat
        .iter(&txn)
        .filter_map(|entry| match entry {
            Out::Any(Any::Map(map)) => match map.get("text") {
                Some(Any::String(text)) => Some(text.to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect())
}
