//! Comment threads as a document shows them: the `threads` map that BlockNote's
//! `RESTYjsThreadStore` reads (one Y.Map per thread, shaped as its `yjsHelpers` write them), and
//! the `comment` marks that anchor threads to text. Only the server writes either: the threads
//! from its store, the marks from the ProseMirror positions a client sends, so a commenter, who
//! may not write the document, can still anchor a thread. A client's update that touches the
//! `threads` map is refused (`DocState::apply_client`).
//!
//! What this module must not do: decide who may comment (that is `workspace`), or keep threads
//! anywhere but in the document it is given.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::Value;
use sha2::{Digest, Sha256};
use yrs::types::text::{Diff, YChange};
use yrs::types::xml::{XmlFragment, XmlOut};
use yrs::{
    Any, ArrayPrelim, Map, MapPrelim, MapRef, Out, ReadTxn, Text, TransactionMut, WriteTxn,
    XmlFragmentRef, XmlTextRef,
};

/// The root map holding the threads.
pub const THREADS: &str = "threads";

/// The root XML fragment BlockNote edits.
pub const FRAGMENT: &str = "document-store";

/// ProseMirror nodes of BlockNote's schema that have no content (`nodeSize` 1): in the Yjs
/// fragment they are elements without children, which an empty paragraph also is.
const LEAF_NODES: [&str; 8] =
    ["image", "video", "audio", "file", "hardBreak", "divider", "pageBreak", "columnBreak"];

/// A thread as the document shows it.
#[derive(Debug, Clone)]
pub struct ThreadView {
    pub id: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// `(when, who)` while resolved.
    pub resolved: Option<(i64, Option<String>)>,
    pub metadata: Value,
    pub comments: Vec<CommentView>,
}

/// A comment as the document shows it.
#[derive(Debug, Clone)]
pub struct CommentView {
    pub id: String,
    pub user_id: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
    /// BlockNote blocks; `None` once deleted.
    pub body: Option<Value>,
    pub metadata: Value,
    /// `(who, emoji, when)`.
    pub reactions: Vec<(String, String, i64)>,
}

/// Whether a thread's marks show (`Active`) or only keep its place (`Orphan`: resolved or
/// deleted), as BlockNote's comments extension reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkState {
    Active,
    Orphan,
}

/// Why a thread could not be anchored.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AnchorError {
    #[error("the selection is empty")]
    Empty,
    #[error("the selection ends past the document ({0})")]
    OutOfRange(u32),
    #[error("the selection holds no text")]
    NoText,
}

fn any(value: &Value) -> Any {
    serde_json::from_value(value.clone()).unwrap_or(Any::Null)
}

fn number(n: i64) -> Any {
    // Yjs clients read times as JavaScript numbers (`new Date(n)`).
    Any::from(n)
}

/// Writes `thread` into the document's `threads` map, replacing what was there.
pub fn write_thread(txn: &mut TransactionMut<'_>, thread: &ThreadView) {
    let threads = txn.get_or_insert_map(THREADS);
    let comments: Vec<MapPrelim> = thread.comments.iter().map(comment_prelim).collect();
    let mut entries: Vec<(&str, yrs::In)> = vec![
        ("id", Any::from(thread.id.as_str()).into()),
        ("createdAt", number(thread.created_at).into()),
        ("updatedAt", number(thread.updated_at).into()),
        ("comments", ArrayPrelim::from(comments).into()),
        ("resolved", Any::Bool(thread.resolved.is_some()).into()),
        ("metadata", any(&thread.metadata).into()),
    ];
    if let Some((at, by)) = &thread.resolved {
        entries.push(("resolvedUpdatedAt", number(*at).into()));
        if let Some(by) = by {
            entries.push(("resolvedBy", Any::from(by.as_str()).into()));
        }
    }
    threads.insert(txn, thread.id.as_str(), MapPrelim::from_iter(entries));
}

fn comment_prelim(comment: &CommentView) -> MapPrelim {
    let reactions: Vec<(String, MapPrelim)> = comment
        .reactions
        .iter()
        .map(|(user, emoji, at)| {
            let reaction = MapPrelim::from([
                ("emoji", yrs::In::from(Any::from(emoji.as_str()))),
                ("createdAt", number(*at).into()),
                ("userId", Any::from(user.as_str()).into()),
            ]);
            (format!("{user}-{emoji}"), reaction)
        })
        .collect();
    let mut entries: Vec<(&str, yrs::In)> = vec![
        ("id", Any::from(comment.id.as_str()).into()),
        ("userId", Any::from(comment.user_id.as_str()).into()),
        ("createdAt", number(comment.created_at).into()),
        ("updatedAt", number(comment.updated_at).into()),
        ("reactionsByUser", MapPrelim::from_iter(reactions).into()),
        ("metadata", any(&comment.metadata).into()),
    ];
    match (&comment.body, comment.deleted_at) {
        (Some(body), None) => entries.push(("body", any(body).into())),
        (_, deleted_at) => {
            entries.push(("deletedAt", number(deleted_at.unwrap_or(comment.updated_at)).into()));
        }
    }
    MapPrelim::from_iter(entries)
}

/// Removes a thread from the document's `threads` map.
pub fn remove_thread(txn: &mut TransactionMut<'_>, id: &str) {
    let threads = txn.get_or_insert_map(THREADS);
    threads.remove(txn, id);
}

/// The ids of the threads in the document's `threads` map.
pub fn thread_ids<T: ReadTxn>(txn: &T) -> BTreeSet<String> {
    txn.get_map(THREADS)
        .map_or_else(BTreeSet::new, |m: MapRef| m.keys(txn).map(str::to_owned).collect())
}

/// The attribute name y-prosemirror gives a `comment` mark: the mark may overlap itself, so
/// its name carries a hash of the mark's JSON (`comment--` + `hashOfJSON(mark.toJSON())`, see
/// y-prosemirror's `marksToAttributes`): base64 of SHA-256 over lib0's `encodeAny` of
/// `{type: "comment", attrs: {orphan, threadId}}`, folded to 6 bytes (`_convolute`). Written by
/// hand because the key order of ProseMirror's attrs must be kept, which `yrs::Any` maps do not.
fn mark_key(thread_id: &str, state: MarkState) -> String {
    fn var_uint(out: &mut Vec<u8>, mut n: usize) {
        while n >= 0x80 {
            out.push(0x80 | (n & 0x7f) as u8);
            n >>= 7;
        }
        out.push(n as u8);
    }
    fn var_string(out: &mut Vec<u8>, s: &str) {
        var_uint(out, s.len());
        out.extend_from_slice(s.as_bytes());
    }
    let mut any = Vec::new();
    any.push(118); // object
    var_uint(&mut any, 2);
    var_string(&mut any, "type");
    any.push(119); // string
    var_string(&mut any, "comment");
    var_string(&mut any, "attrs");
    any.push(118);
    var_uint(&mut any, 2);
    var_string(&mut any, "orphan");
    any.push(if state == MarkState::Orphan { 120 } else { 121 }); // true, false
    var_string(&mut any, "threadId");
    any.push(119);
    var_string(&mut any, thread_id);
    let mut digest: [u8; 32] = Sha256::digest(&any).into();
    for i in 6..digest.len() {
        digest[i % 6] ^= digest[i];
    }
    use base64::Engine as _;
    format!("comment--{}", base64::engine::general_purpose::STANDARD.encode(&digest[..6]))
}

fn mark_value(thread_id: &str, state: MarkState) -> Any {
    Any::from(HashMap::from([
        ("orphan".to_owned(), Any::Bool(state == MarkState::Orphan)),
        ("threadId".to_owned(), Any::from(thread_id)),
    ]))
}

/// A run of text in the fragment: where it starts in ProseMirror's numbering, and its chunks.
struct TextRun {
    text: XmlTextRef,
    start: u32,
    chunks: Vec<Diff<YChange>>,
}

fn utf16_len(s: &str) -> u32 {
    s.encode_utf16().count() as u32
}

/// Walks the fragment in document order, numbering positions as ProseMirror does (an element
/// opens and closes with one position each, a leaf is one, text one per UTF-16 unit).
fn text_runs<T: ReadTxn>(txn: &T, fragment: &XmlFragmentRef) -> (Vec<TextRun>, u32) {
    fn walk<T: ReadTxn>(txn: &T, node: XmlOut, pos: &mut u32, runs: &mut Vec<TextRun>) {
        match node {
            XmlOut::Text(text) => {
                let chunks = text.diff(txn, YChange::identity);
                let len: u32 = chunks.iter().map(chunk_len).sum();
                runs.push(TextRun { text, start: *pos, chunks });
                *pos += len;
            }
            XmlOut::Element(el) => {
                let leaf = LEAF_NODES.contains(&el.tag().as_ref()) && el.len(txn) == 0;
                if leaf {
                    *pos += 1;
                } else {
                    *pos += 1;
                    for child in el.children(txn) {
                        walk(txn, child, pos, runs);
                    }
                    *pos += 1;
                }
            }
            XmlOut::Fragment(f) => {
                for child in f.children(txn) {
                    walk(txn, child, pos, runs);
                }
            }
        }
    }
    let mut runs = Vec::new();
    let mut pos = 0;
    for child in fragment.children(txn) {
        walk(txn, child, &mut pos, &mut runs);
    }
    (runs, pos)
}

fn chunk_len(chunk: &Diff<YChange>) -> u32 {
    match &chunk.insert {
        Out::Any(Any::String(s)) => utf16_len(s),
        _ => 1,
    }
}

/// The document's offset (bytes of text, 1 per embed) of ProseMirror's `units`-th position
/// (UTF-16 units of text, 1 per embed) within a run.
fn yrs_offset(chunks: &[Diff<YChange>], units: u32) -> u32 {
    let (mut seen, mut offset) = (0u32, 0u32);
    for chunk in chunks {
        match &chunk.insert {
            Out::Any(Any::String(s)) => {
                for ch in s.chars() {
                    if seen >= units {
                        return offset;
                    }
                    seen += ch.len_utf16() as u32;
                    offset += ch.len_utf8() as u32;
                }
            }
            _ => {
                if seen >= units {
                    return offset;
                }
                seen += 1;
                offset += 1;
            }
        }
    }
    offset
}

/// The text of a run between two of ProseMirror's positions in it (embeds left out).
fn plain_between(chunks: &[Diff<YChange>], from: u32, to: u32) -> String {
    let mut out = String::new();
    let mut seen = 0u32;
    for chunk in chunks {
        match &chunk.insert {
            Out::Any(Any::String(s)) => {
                for ch in s.chars() {
                    if seen >= from && seen < to {
                        out.push(ch);
                    }
                    seen += ch.len_utf16() as u32;
                }
            }
            _ => seen += 1,
        }
    }
    out
}

/// Marks the text between ProseMirror positions `anchor` and `head` with thread `thread_id`'s
/// comment mark, as BlockNote would; returns the text marked.
pub fn anchor(
    txn: &mut TransactionMut<'_>,
    thread_id: &str,
    anchor: u32,
    head: u32,
) -> Result<String, AnchorError> {
    let (from, to) = (anchor.min(head), anchor.max(head));
    if from == to {
        return Err(AnchorError::Empty);
    }
    let fragment = txn.get_or_insert_xml_fragment(FRAGMENT);
    let (runs, size) = text_runs(txn, &fragment);
    if to > size {
        return Err(AnchorError::OutOfRange(size));
    }
    let key: Arc<str> = mark_key(thread_id, MarkState::Active).into();
    let value = mark_value(thread_id, MarkState::Active);
    let mut quote: Vec<String> = Vec::new();
    for run in &runs {
        let len: u32 = run.chunks.iter().map(chunk_len).sum();
        let (start, end) = (run.start, run.start + len);
        if end <= from || start >= to {
            continue;
        }
        let (a, b) = (from.max(start) - start, to.min(end) - start);
        let (ya, yb) = (yrs_offset(&run.chunks, a), yrs_offset(&run.chunks, b));
        run.text.format(txn, ya, yb - ya, HashMap::from([(key.clone(), value.clone())]));
        quote.push(plain_between(&run.chunks, a, b));
    }
    if quote.is_empty() {
        return Err(AnchorError::NoText);
    }
    Ok(quote.join("\n"))
}

/// Sets the state of every mark of thread `thread_id` (resolved and deleted threads keep their
/// marks as orphans, so reopening one shows it where it was).
pub fn set_mark_state(txn: &mut TransactionMut<'_>, thread_id: &str, state: MarkState) {
    let fragment = txn.get_or_insert_xml_fragment(FRAGMENT);
    let (runs, _) = text_runs(txn, &fragment);
    let want: Arc<str> = mark_key(thread_id, state).into();
    let value = mark_value(thread_id, state);
    for run in runs {
        let mut offset = 0u32;
        for chunk in &run.chunks {
            let len = match &chunk.insert {
                Out::Any(Any::String(s)) => s.len() as u32,
                _ => 1,
            };
            let old: Vec<Arc<str>> = chunk
                .attributes
                .iter()
                .flat_map(|attrs| attrs.iter())
                .filter(|(k, v)| {
                    k.starts_with("comment") && **k != want && mark_thread(v) == Some(thread_id)
                })
                .map(|(k, _)| k.clone())
                .collect();
            if !old.is_empty() {
                let mut attrs: HashMap<Arc<str>, Any> =
                    old.into_iter().map(|k| (k, Any::Null)).collect();
                attrs.insert(want.clone(), value.clone());
                run.text.format(txn, offset, len, attrs);
            }
            offset += len;
        }
    }
}

fn mark_thread(value: &Any) -> Option<&str> {
    match value {
        Any::Map(map) => match map.get("threadId") {
            Some(Any::String(id)) => Some(id),
            _ => None,
        },
        _ => None,
    }
}

/// The threads whose mark is still somewhere in the text, and whether it shows.
pub fn anchored_threads<T: ReadTxn>(txn: &T) -> BTreeMap<String, MarkState> {
    let Some(fragment) = txn.get_xml_fragment(FRAGMENT) else { return BTreeMap::new() };
    let (runs, _) = text_runs(txn, &fragment);
    runs.iter()
        .flat_map(|run| run.chunks.iter())
        .flat_map(|chunk| chunk.attributes.iter().flat_map(|attrs| attrs.iter()))
        .filter(|(k, _)| k.starts_with("comment"))
        .filter_map(|(_, v)| {
            let orphan = matches!(v, Any::Map(m) if m.get("orphan") == Some(&Any::Bool(true)));
            let state = if orphan { MarkState::Orphan } else { MarkState::Active };
            mark_thread(v).map(|id| (id.to_owned(), state))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::types::ToJson;
    use yrs::types::xml::{XmlElementPrelim, XmlTextPrelim};
    use yrs::{Doc, Transact, XmlElementRef};

    #[test]
    fn mark_key_matches_y_prosemirror() {
        // From y-prosemirror 1.3.7's `hashOfJSON`, run in Node.
        assert_eq!(mark_key("t-1", MarkState::Active), "comment--xlHODlnu");
        assert_eq!(mark_key("t-1", MarkState::Orphan), "comment--ZdY4jWvV");
    }

    /// `blockGroup > blockContainer > paragraph > text` for each paragraph, as BlockNote writes.
    fn blocknote_doc(paragraphs: &[&str]) -> Doc {
        let doc = Doc::new();
        {
            let mut txn = doc.transact_mut();
            let fragment = txn.get_or_insert_xml_fragment(FRAGMENT);
            let group: XmlElementRef =
                fragment.push_back(&mut txn, XmlElementPrelim::empty("blockGroup"));
            for p in paragraphs {
                let container: XmlElementRef =
                    group.push_back(&mut txn, XmlElementPrelim::empty("blockContainer"));
                let para: XmlElementRef =
                    container.push_back(&mut txn, XmlElementPrelim::empty("paragraph"));
                if !p.is_empty() {
                    para.push_back(&mut txn, XmlTextPrelim::new(*p));
                }
            }
        }
        doc
    }

    #[test]
    fn anchor_marks_the_selected_text_across_blocks() {
        let doc = blocknote_doc(&["Hello wörld", "", "Second"]);
        // Positions: blockGroup opens at 0; container 1; paragraph 2; text starts at 3.
        // "Hello wörld" is 11 units: 3..14; closes 14, 15; next container 16, paragraph 17,
        // closes 18, 19; container 20, paragraph 21, text 22..28, then three closes: 31.
        let mut txn = doc.transact_mut();
        let quote = anchor(&mut txn, "t1", 9, 25).unwrap();
        assert_eq!(quote, "wörld\nSec");
        let quote = anchor(&mut txn, "t2", 4, 3).unwrap();
        assert_eq!(quote, "H");
        let active =
            |ids: &[&str]| ids.iter().map(|id| (id.to_string(), MarkState::Active)).collect();
        assert_eq!(anchored_threads(&txn), active(&["t1", "t2"]));
        assert_eq!(anchor(&mut txn, "t3", 5, 5), Err(AnchorError::Empty));
        assert_eq!(anchor(&mut txn, "t3", 5, 99), Err(AnchorError::OutOfRange(31)));
        assert_eq!(anchor(&mut txn, "t3", 18, 20), Err(AnchorError::NoText));
        let fragment = txn.get_or_insert_xml_fragment(FRAGMENT);
        let (runs, _) = text_runs(&txn, &fragment);
        let first = &runs[0].chunks;
        assert_eq!(first.len(), 3, "{first:?}");
        let attrs = first[2].attributes.as_ref().unwrap();
        assert_eq!(
            mark_thread(&attrs[&Arc::<str>::from(mark_key("t1", MarkState::Active))]),
            Some("t1")
        );
    }

    #[test]
    fn resolving_turns_the_marks_into_orphans_and_back() {
        let doc = blocknote_doc(&["Budget line"]);
        let mut txn = doc.transact_mut();
        anchor(&mut txn, "t1", 3, 9).unwrap();
        set_mark_state(&mut txn, "t1", MarkState::Orphan);
        let fragment = txn.get_or_insert_xml_fragment(FRAGMENT);
        let (runs, _) = text_runs(&txn, &fragment);
        let keys: Vec<String> = runs[0]
            .chunks
            .iter()
            .flat_map(|c| c.attributes.iter().flat_map(|a| a.keys().map(|k| k.to_string())))
            .collect();
        assert_eq!(keys, [mark_key("t1", MarkState::Orphan)]);
        assert_eq!(anchored_threads(&txn), BTreeMap::from([("t1".to_owned(), MarkState::Orphan)]));
        set_mark_state(&mut txn, "t1", MarkState::Active);
        assert_eq!(anchored_threads(&txn), BTreeMap::from([("t1".to_owned(), MarkState::Active)]));
    }

    #[test]
    fn a_thread_is_written_as_blocknote_reads_it() {
        let doc = Doc::new();
        let mut txn = doc.transact_mut();
        let thread = ThreadView {
            id: "t1".into(),
            created_at: 5,
            updated_at: 6,
            resolved: Some((6, Some("u1".into()))),
            metadata: Value::Null,
            comments: vec![CommentView {
                id: "c1".into(),
                user_id: "u1".into(),
                created_at: 5,
                updated_at: 5,
                deleted_at: None,
                body: Some(serde_json::json!([{"type": "paragraph"}])),
                metadata: serde_json::json!({"mentions": ["u2"]}),
                reactions: vec![("u2".into(), "👍".into(), 7)],
            }],
        };
        write_thread(&mut txn, &thread);
        let json = txn.get_map(THREADS).unwrap().to_json(&txn);
        let expected = Any::from_json(
            r#"{"t1": {"id": "t1", "createdAt": 5, "updatedAt": 6, "resolved": true,
                "resolvedUpdatedAt": 6, "resolvedBy": "u1", "metadata": null,
                "comments": [{"id": "c1", "userId": "u1", "createdAt": 5, "updatedAt": 5,
                  "body": [{"type": "paragraph"}], "metadata": {"mentions": ["u2"]},
                  "reactionsByUser": {"u2-👍": {"emoji": "👍", "createdAt": 7, "userId": "u2"}}}]}}"#,
        )
        .unwrap();
        assert_eq!(json, expected);
        assert_eq!(thread_ids(&txn), BTreeSet::from(["t1".to_owned()]));
        remove_thread(&mut txn, "t1");
        assert!(thread_ids(&txn).is_empty());
    }
}
