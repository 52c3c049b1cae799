//! Versions of documents and boards, read from the states the store keeps: what a version
//! holds (JSON), what changed between two (text added and removed for a document; shapes added,
//! removed, moved and changed for a board), and restoring one as a forward change to the live
//! document, so every client receives it as an ordinary update and nothing of the history is
//! rewritten.
//!
//! Comment threads (the `threads` map) and the board's server-written `meta` (vote, timer) are
//! not part of a version: restoring text does not bring back deleted comments or reopen a vote.

use std::collections::{BTreeMap, BTreeSet};

use hubring_protocol::api::{DiffRun, VersionChanges};
use serde_json::Value;
use similar::{ChangeTag, TextDiff};
use yrs::types::ToJson;
use yrs::types::xml::{XmlElementPrelim, XmlFragment, XmlOut, XmlTextPrelim};
use yrs::updates::decoder::Decode;
use yrs::{
    Any, Array, Doc, GetString, Map, MapPrelim, MapRef, Out, ReadTxn, Text, Transact,
    TransactionMut, Update, WriteTxn, Xml, XmlElementRef, XmlTextRef,
};

use crate::comments::FRAGMENT;
use crate::error::DocError;
use crate::state::SERVER_OWNED;

/// Roots a version leaves as they are: the threads, and the board's `meta`.
fn kept_live(name: &str) -> bool {
    SERVER_OWNED.contains(&name) || name == crate::board::META
}

/// A state as a document of its own.
pub(crate) fn load(state: &[u8]) -> Result<Doc, DocError> {
    let doc = Doc::new();
    doc.transact_mut().apply_update(Update::decode_v1(state)?)?;
    Ok(doc)
}

/// What a version holds, as JSON: the document's text as blocks, or a board's shapes.
pub fn content(state: &[u8]) -> Result<Value, DocError> {
    let doc = load(state)?;
    let txn = doc.transact();
    let mut out = serde_json::Map::new();
    if let Some(fragment) = txn.get_xml_fragment(FRAGMENT).filter(|f| f.len(&txn) > 0) {
        out.insert("blocks".into(), Value::from(blocks(&txn, &fragment)));
        out.insert("xml".into(), Value::from(fragment.get_string(&txn)));
    }
    for name in [crate::board::SHAPES] {
        if let Some(map) = txn.get_map(name).filter(|m| m.len(&txn) > 0) {
            out.insert(name.into(), any_to_json(&map.to_json(&txn)));
        }
    }
    Ok(Value::Object(out))
}

fn any_to_json(any: &Any) -> Value {
    let mut text = String::new();
    any.to_json(&mut text);
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// The text of every block that holds text, in order: one string per paragraph, heading,
/// list item or table cell.
fn blocks<T: ReadTxn>(txn: &T, fragment: &yrs::XmlFragmentRef) -> Vec<String> {
    fn walk<T: ReadTxn>(txn: &T, node: XmlOut, out: &mut Vec<String>) {
        match node {
            XmlOut::Element(el) => {
                let texts: Vec<XmlTextRef> =
                    el.children(txn).filter_map(|c| c.into_xml_text()).collect();
                if !texts.is_empty() {
                    let line: String = texts.iter().map(|t| plain(txn, t)).collect();
                    out.push(line);
                }
                for child in el.children(txn) {
                    if !matches!(child, XmlOut::Text(_)) {
                        walk(txn, child, out);
                    }
                }
            }
            XmlOut::Fragment(f) => {
                for child in f.children(txn) {
                    walk(txn, child, out);
                }
            }
            XmlOut::Text(t) => out.push(plain(txn, &t)),
        }
    }
    let mut out = Vec::new();
    for child in fragment.children(txn) {
        walk(txn, child, &mut out);
    }
    out
}

fn plain<T: ReadTxn>(txn: &T, text: &XmlTextRef) -> String {
    text.diff(txn, yrs::types::text::YChange::identity)
        .into_iter()
        .filter_map(|d| match d.insert {
            Out::Any(Any::String(s)) => Some(s.to_string()),
            _ => None,
        })
        .collect()
}

/// Compares version `a` (earlier) with `b` (later).
pub fn diff(a: &[u8], b: &[u8]) -> Result<VersionChanges, DocError> {
    let (doc_a, doc_b) = (load(a)?, load(b)?);
    let (ta, tb) = (doc_a.transact(), doc_b.transact());
    let text_of = |txn: &yrs::Transaction<'_>| {
        txn.get_xml_fragment(FRAGMENT).map(|f| blocks(txn, &f).join("\n")).unwrap_or_default()
    };
    let (text_a, text_b) = (text_of(&ta), text_of(&tb));
    let mut out = VersionChanges::default();
    // Blocks (lines) first, then words within the blocks that changed: words are the unit
    // people read changes in, and comparing only changed blocks word by word keeps a long
    // document's comparison proportional to what changed. The deadline bounds a comparison of
    // two very different texts (it is then coarser, not wrong).
    let deadline = std::time::Duration::from_secs(2);
    let lines =
        TextDiff::configure().timeout(deadline).diff_lines(text_a.as_str(), text_b.as_str());
    let (old, new) = (lines.old_slices(), lines.new_slices());
    let mut runs: Vec<DiffRun> = Vec::new();
    let push = |runs: &mut Vec<DiffRun>, op: &'static str, text: &str| match runs.last_mut() {
        Some(last) if last.op == op => last.text.push_str(text),
        _ if text.is_empty() => {}
        _ => runs.push(DiffRun { op: op.to_owned(), text: text.to_owned() }),
    };
    for op in lines.ops() {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        let before: String = old[old_range.clone()].concat();
        let after: String = new[new_range.clone()].concat();
        match tag {
            similar::DiffTag::Equal => push(&mut runs, "equal", &before),
            similar::DiffTag::Delete => push(&mut runs, "delete", &before),
            similar::DiffTag::Insert => push(&mut runs, "insert", &after),
            similar::DiffTag::Replace => {
                // As many blocks before as after: each block compared with its counterpart
                // (the common case of blocks edited in place); otherwise the stretch as one.
                let pairs: Vec<(&str, &str)> = if old_range.len() == new_range.len() {
                    old[old_range.clone()]
                        .iter()
                        .copied()
                        .zip(new[new_range.clone()].iter().copied())
                        .collect()
                } else {
                    vec![(before.as_str(), after.as_str())]
                };
                for (a, b) in pairs {
                    let words = TextDiff::configure().timeout(deadline).diff_words(a, b);
                    for change in words.iter_all_changes() {
                        let op = match change.tag() {
                            ChangeTag::Equal => "equal",
                            ChangeTag::Insert => "insert",
                            ChangeTag::Delete => "delete",
                        };
                        push(&mut runs, op, change.value());
                    }
                }
            }
        }
    }
    out.text = coalesce(runs);
    for run in &out.text {
        let trimmed = run.text.trim();
        if trimmed.is_empty() {
            continue;
        }
        match run.op.as_str() {
            "insert" => out.added.push(trimmed.to_owned()),
            "delete" => out.removed.push(trimmed.to_owned()),
            _ => {}
        }
    }
    let shapes = |txn: &yrs::Transaction<'_>| -> BTreeMap<String, Value> {
        txn.get_map(crate::board::SHAPES)
            .map(|m| match any_to_json(&m.to_json(txn)) {
                Value::Object(map) => map.into_iter().collect(),
                _ => BTreeMap::new(),
            })
            .unwrap_or_default()
    };
    let (sa, sb) = (shapes(&ta), shapes(&tb));
    for (id, shape) in &sb {
        match sa.get(id) {
            None => out.shapes_added.push(id.clone()),
            Some(old) if old != shape => {
                let (mut o, mut n) = (old.clone(), shape.clone());
                let moved = o.get("xy") != n.get("xy");
                for v in [&mut o, &mut n] {
                    if let Value::Object(m) = v {
                        m.remove("xy");
                    }
                }
                if moved {
                    out.shapes_moved.push(id.clone());
                }
                if o != n {
                    out.shapes_changed.push(id.clone());
                }
            }
            Some(_) => {}
        }
    }
    out.shapes_removed = sa.keys().filter(|id| !sb.contains_key(*id)).cloned().collect();
    Ok(out)
}

/// Joins the changes that only spaces separate into one removal and one addition, as a reader
/// sees them: "A: the Lisbon residency" became "B: a Nantes workshop", not four small swaps.
fn coalesce(runs: Vec<DiffRun>) -> Vec<DiffRun> {
    let mut out = Vec::new();
    let (mut deleted, mut inserted) = (String::new(), String::new());
    let flush = |out: &mut Vec<DiffRun>, deleted: &mut String, inserted: &mut String| {
        for (op, text) in [("delete", deleted), ("insert", inserted)] {
            if !text.is_empty() {
                out.push(DiffRun { op: op.to_owned(), text: std::mem::take(text) });
            }
        }
    };
    let n = runs.len();
    for (idx, run) in runs.into_iter().enumerate() {
        let inside_change = !deleted.is_empty() || !inserted.is_empty();
        match run.op.as_str() {
            "delete" => deleted.push_str(&run.text),
            "insert" => inserted.push_str(&run.text),
            _ if inside_change && idx + 1 < n && run.text.trim().is_empty() => {
                deleted.push_str(&run.text);
                inserted.push_str(&run.text);
            }
            _ => {
                flush(&mut out, &mut deleted, &mut inserted);
                out.push(run);
            }
        }
    }
    flush(&mut out, &mut deleted, &mut inserted);
    out
}

/// Makes the live document read as `state` does, as one change in `txn`: the text replaced
/// by the version's, and each board shape or page set back, removed or added.
pub fn restore(txn: &mut TransactionMut<'_>, state: &[u8]) -> Result<(), DocError> {
    let old = load(state)?;
    let from = old.transact();
    let names: BTreeSet<String> = from.root_refs().map(|(name, _)| name.to_owned()).collect();
    // The text: whatever the live document has now goes, the version's comes back.
    let live = txn.get_or_insert_xml_fragment(FRAGMENT);
    let n = live.len(txn);
    if n > 0 {
        live.remove_range(txn, 0, n);
    }
    if let Some(fragment) = from.get_xml_fragment(FRAGMENT) {
        for child in fragment.children(&from) {
            copy_xml(&from, child, txn, &live);
        }
    }
    for name in names {
        if name == FRAGMENT || kept_live(&name) {
            continue;
        }
        let Some(source) = from.get_map(name.as_str()).filter(|m| m.len(&from) > 0) else {
            continue;
        };
        let target = txn.get_or_insert_map(name.as_str());
        restore_map(&from, &source, txn, &target);
    }
    // A board whose version had no shapes at all.
    if !from.root_refs().any(|(n, _)| n == crate::board::SHAPES)
        && let Some(target) = txn.get_map(crate::board::SHAPES)
    {
        let keys: Vec<String> = target.keys(txn).map(str::to_owned).collect();
        for key in keys {
            target.remove(txn, &key);
        }
    }
    Ok(())
}

/// Sets `target`'s entries to `source`'s: unchanged entries are left alone, so a restore that
/// changes one shape of a board sends one shape.
fn restore_map<T: ReadTxn>(
    from: &T,
    source: &MapRef,
    txn: &mut TransactionMut<'_>,
    target: &MapRef,
) {
    let gone: Vec<String> =
        target.keys(txn).filter(|k| source.get(from, k).is_none()).map(str::to_owned).collect();
    for key in gone {
        target.remove(txn, &key);
    }
    for (key, value) in source.iter(from) {
        let same =
            target.get(txn, key).is_some_and(|now| out_json(txn, &now) == out_json(from, &value));
        if !same {
            target.insert(txn, key, prelim(from, &value));
        }
    }
}

fn out_json<T: ReadTxn>(txn: &T, value: &Out) -> Value {
    any_to_json(&value.to_json(txn))
}

/// A copy of a value of another document, to insert here.
fn prelim<T: ReadTxn>(from: &T, value: &Out) -> yrs::In {
    match value {
        Out::Any(any) => yrs::In::Any(any.clone()),
        Out::YMap(map) => yrs::In::Map(MapPrelim::from_iter(
            map.iter(from).map(|(k, v)| (k.to_owned(), prelim(from, &v))).collect::<Vec<_>>(),
        )),
        Out::YArray(array) => yrs::In::Array(yrs::ArrayPrelim::from(
            array.iter(from).map(|v| prelim(from, &v)).collect::<Vec<_>>(),
        )),
        // Board text carries no formatting (a sticky's words), so its string is all of it.
        Out::YText(text) => yrs::In::Text(yrs::types::text::DeltaPrelim::from(
            yrs::TextPrelim::new(text.get_string(from)),
        )),
        other => yrs::In::Any(other.to_json(from)),
    }
}

/// Copies an XML node of another document to the end of `parent` here, with its attributes,
/// its children and its text's formatting.
fn copy_xml<T: ReadTxn, P: XmlFragment>(
    from: &T,
    node: XmlOut,
    txn: &mut TransactionMut<'_>,
    parent: &P,
) {
    match node {
        XmlOut::Element(el) => {
            let copy: XmlElementRef =
                parent.push_back(txn, XmlElementPrelim::empty(el.tag().clone()));
            let attrs: Vec<(String, Out)> =
                el.attributes(from).map(|(k, v)| (k.to_owned(), v)).collect();
            for (key, value) in attrs {
                copy.insert_attribute(txn, key, value.to_json(from));
            }
            for child in el.children(from) {
                copy_xml(from, child, txn, &copy);
            }
        }
        XmlOut::Text(text) => {
            let copy: XmlTextRef = parent.push_back(txn, XmlTextPrelim::new(""));
            let mut at = 0;
            for chunk in text.diff(from, yrs::types::text::YChange::identity) {
                let attrs = chunk.attributes.map(|a| *a).unwrap_or_default();
                match chunk.insert {
                    Out::Any(Any::String(s)) => {
                        copy.insert_with_attributes(txn, at, &s, attrs);
                        at += s.len() as u32;
                    }
                    other => {
                        copy.insert_embed_with_attributes(txn, at, other.to_json(from), attrs);
                        at += 1;
                    }
                }
            }
        }
        XmlOut::Fragment(f) => {
            for child in f.children(from) {
                copy_xml(from, child, txn, parent);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comments::{self, CommentView, ThreadView};
    use yrs::StateVector;

    fn paragraph_doc(doc: &Doc, texts: &[&str]) {
        let mut txn = doc.transact_mut();
        let fragment = txn.get_or_insert_xml_fragment(FRAGMENT);
        let n = fragment.len(&txn);
        if n > 0 {
            fragment.remove_range(&mut txn, 0, n);
        }
        let group: XmlElementRef =
            fragment.push_back(&mut txn, XmlElementPrelim::empty("blockGroup"));
        for t in texts {
            let container: XmlElementRef =
                group.push_back(&mut txn, XmlElementPrelim::empty("blockContainer"));
            container.insert_attribute(&mut txn, "id", Any::from(format!("b-{t}")));
            let p: XmlElementRef =
                container.push_back(&mut txn, XmlElementPrelim::empty("heading"));
            p.insert_attribute(&mut txn, "level", Any::from(2));
            let text: XmlTextRef = p.push_back(&mut txn, XmlTextPrelim::new(""));
            let bold = std::collections::HashMap::from([("bold".into(), Any::Bool(true))]);
            text.insert_with_attributes(&mut txn, 0, t, bold);
        }
    }

    fn state(doc: &Doc) -> Vec<u8> {
        doc.transact().encode_state_as_update_v1(&StateVector::default())
    }

    #[test]
    fn restoring_brings_the_text_back_as_a_forward_change() {
        let live = Doc::new();
        paragraph_doc(&live, &["Text A", "kept"]);
        {
            let mut txn = live.transact_mut();
            comments::write_thread(
                &mut txn,
                &ThreadView {
                    id: "t1".into(),
                    created_at: 1,
                    updated_at: 1,
                    resolved: None,
                    metadata: Value::Null,
                    comments: vec![CommentView {
                        id: "c1".into(),
                        user_id: "u".into(),
                        created_at: 1,
                        updated_at: 1,
                        deleted_at: None,
                        body: Some(Value::from("hi")),
                        metadata: Value::Null,
                        reactions: vec![],
                    }],
                },
            );
        }
        let version_a = state(&live);
        paragraph_doc(&live, &["Text B replaces it"]);
        let version_b = state(&live);
        let xml_a = content(&version_a).unwrap()["xml"].clone();
        let before = live.transact().state_vector();
        {
            let mut txn = live.transact_mut();
            restore(&mut txn, &version_a).unwrap();
        }
        let now = live.transact().get_xml_fragment(FRAGMENT).unwrap().get_string(&live.transact());
        assert_eq!(Value::from(now), xml_a, "attributes and formatting come back too");
        assert!(live.transact().state_vector() != before, "a forward change");
        assert_eq!(comments::thread_ids(&live.transact()).len(), 1, "threads stay");
        let d = diff(&version_a, &version_b).unwrap();
        assert_eq!(d.added, ["B replaces it"]);
        assert_eq!(d.removed, ["A\nkept"]);
        let ops: Vec<&str> = d.text.iter().map(|r| r.op.as_str()).collect();
        assert_eq!(ops, ["equal", "delete", "insert"], "{:?}", d.text);
    }

    #[test]
    fn board_diff_names_shapes_added_removed_moved_and_changed() {
        let board = Doc::new();
        let put = |id: &str, x: i64, text: &str| {
            let mut txn = board.transact_mut();
            let shapes = txn.get_or_insert_map(crate::board::SHAPES);
            let shape = MapPrelim::from([
                ("type", yrs::In::Any(Any::from("sticky"))),
                ("xy", yrs::In::Any(Any::from(vec![Any::from(x), Any::from(0)]))),
                ("label", yrs::In::Any(Any::from(text))),
            ]);
            shapes.insert(&mut txn, id, shape);
        };
        put("s1", 0, "one");
        put("s2", 0, "two");
        put("s3", 0, "three");
        let a = state(&board);
        put("s1", 50, "one");
        put("s2", 0, "TWO");
        {
            let mut txn = board.transact_mut();
            txn.get_or_insert_map(crate::board::SHAPES).remove(&mut txn, "s3");
        }
        put("s4", 0, "four");
        let b = state(&board);
        let d = diff(&a, &b).unwrap();
        assert_eq!(d.shapes_added, ["s4"]);
        assert_eq!(d.shapes_removed, ["s3"]);
        assert_eq!(d.shapes_moved, ["s1"]);
        assert_eq!(d.shapes_changed, ["s2"]);
        {
            let mut txn = board.transact_mut();
            restore(&mut txn, &a).unwrap();
        }
        assert_eq!(diff(&a, &state(&board)).unwrap(), VersionChanges::default());
    }
}
