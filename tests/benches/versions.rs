//! What versions cost: reading a version of a document whose history is about 10 MB (the
//! state a version stores, and its content), comparing two versions of a 50-page document, and
//! the baseline both are reported against, applying one keystroke to the same document.
//!
//! `cargo bench -p hubring-tests --bench versions`; the storage of 1,000 automatic versions after
//! thinning is printed once at the start (it is a size, not a time).

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use hubring_doc::DocState;
use hubring_doc::comments::FRAGMENT;
use hubring_doc::versions;
use hubring_protocol::api::VersionKind;
use hubring_protocol::{DocId, VersionId};
use hubring_store::{VersionMeta, thin_versions};
use yrs::types::xml::{XmlElementPrelim, XmlFragment, XmlTextPrelim};
use yrs::{Doc, ReadTxn, StateVector, Text, Transact, WriteTxn, XmlElementRef, XmlTextRef};

/// A BlockNote-shaped document of `pages` pages (12 paragraphs of ~45 words each), whose
/// paragraphs were then each rewritten `rounds` times, a sentence in and a sentence out per
/// edit. Returns the document and the bytes of its history (every edit's update, as a log
/// holds them before compaction).
fn document(pages: usize, rounds: usize) -> (Doc, usize) {
    let doc = Doc::new();
    let mut texts: Vec<XmlTextRef> = Vec::new();
    {
        let mut txn = doc.transact_mut();
        let fragment = txn.get_or_insert_xml_fragment(FRAGMENT);
        let group: XmlElementRef =
            fragment.push_back(&mut txn, XmlElementPrelim::empty("blockGroup"));
        for p in 0..pages * 12 {
            let container: XmlElementRef =
                group.push_back(&mut txn, XmlElementPrelim::empty("blockContainer"));
            let para: XmlElementRef =
                container.push_back(&mut txn, XmlElementPrelim::empty("paragraph"));
            let words: Vec<String> =
                (0..45).map(|w| format!("word{}", (p * 45 + w) % 997)).collect();
            texts.push(para.push_back(&mut txn, XmlTextPrelim::new(words.join(" "))));
        }
    }
    let mut history = state(&doc).len();
    for round in 0..rounds {
        for (i, text) in texts.iter().enumerate() {
            let mut txn = doc.transact_mut();
            let sentence = format!("Round {round} rewrites paragraph {i} with a new sentence. ");
            text.insert(&mut txn, 0, &sentence);
            let len = text.len(&txn);
            text.remove_range(&mut txn, len - sentence.len() as u32, sentence.len() as u32);
            history += txn.encode_update_v1().len();
        }
    }
    (doc, history)
}

fn state(doc: &Doc) -> Vec<u8> {
    doc.transact().encode_state_as_update_v1(&StateVector::default())
}

fn versions_bench(c: &mut Criterion) {
    // About 10 MB of history: a 50-page document retyped many times over.
    let (big, history) = document(50, 140);
    let big_state = state(&big);
    eprintln!(
        "history: {:.1} MB of updates; the state a version stores: {:.1} MB",
        history as f64 / 1e6,
        big_state.len() as f64 / 1e6
    );
    let mut live = DocState::load([big_state.as_slice()]).expect("loads");

    // 1,000 automatic versions of an active document (one every 10 minutes of editing, about
    // a week), thinned as the store thins them: what stays, and its size.
    let page = state(&document(50, 0).0);
    let now = 1_000 * 10 * 60_000;
    let metas: Vec<VersionMeta> = (0..1000)
        .map(|i| VersionMeta {
            id: VersionId(format!("v{i}")),
            doc_id: DocId::parse("bench").expect("a valid id"),
            kind: VersionKind::Auto,
            name: None,
            created_at: i * 10 * 60_000,
            created_by: None,
            editors: vec![],
            restored_from: None,
            n_bytes: 0,
        })
        .collect();
    let kept = metas.len() - thin_versions(&metas, now).len();
    eprintln!(
        "1,000 automatic versions of a 50-page document ({} KB each): {} kept after thinning, {:.1} MB",
        page.len() / 1000,
        kept,
        (kept * page.len()) as f64 / 1e6
    );

    let mut group = c.benchmark_group("versions");
    group.measurement_time(Duration::from_secs(5)).sample_size(20);
    let keystroke = {
        let mut txn = big.transact_mut();
        let text: XmlTextRef = match txn.get_or_insert_xml_fragment(FRAGMENT).get(&txn, 0) {
            Some(yrs::XmlOut::Element(group)) => match group.get(&txn, 0) {
                Some(yrs::XmlOut::Element(c)) => match c.get(&txn, 0) {
                    Some(yrs::XmlOut::Element(p)) => {
                        p.get(&txn, 0).and_then(|t| t.into_xml_text()).expect("text")
                    }
                    _ => panic!("container"),
                },
                _ => panic!("group"),
            },
            _ => panic!("fragment"),
        };
        let before = txn.state_vector();
        text.insert(&mut txn, 0, "x");
        txn.encode_diff_v1(&before)
    };
    group.bench_function("baseline: apply one keystroke", |b| {
        b.iter(|| live.apply(&keystroke).expect("applies"))
    });
    group.bench_function("take a version of a 10 MB-history document (encode its state)", |b| {
        b.iter(|| live.encode_state())
    });
    group.bench_function("open that version (its content as JSON)", |b| {
        b.iter(|| versions::content(&big_state).expect("reads"))
    });
    // Two versions of a 50-page document a morning's editing apart.
    let a = state(&document(50, 0).0);
    let b = state(&document(50, 1).0);
    group.bench_function("diff two versions of a 50-page document", |bench| {
        bench.iter(|| versions::diff(&a, &b).expect("diffs"))
    });
    group.finish();
}

criterion_group!(benches, versions_bench);
criterion_main!(benches);
