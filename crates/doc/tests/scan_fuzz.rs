//! Property-based fuzzing of what a client's bytes reach first: the pre-decoding walk
//! (`scan`), the y-websocket session and applying to a document. Generated documents must pass;
//! mutated and random bytes must be refused or decoded without a panic, and the walk must agree
//! with yrs's own decoder about which bytes are an update.
//!
//! CI runs the default number of cases; a long run: `PROPTEST_CASES=200000 cargo test -p
//! hubring-doc --release --test scan_fuzz`. A failure proptest finds is saved under
//! `proptest-regressions/` and must be kept, as a regression test, with its fix.

use hubring_doc::scan::{self, FrameShape, ScanError, UpdateBudget};
use hubring_doc::{DocState, Inbound, Permission, Session, message};
use proptest::prelude::*;
use yrs::updates::decoder::Decode;
use yrs::{Any, Array, Doc, Map, ReadTxn, Text, Transact, Update, XmlFragment, XmlTextPrelim};

/// A random lib0 value, nested a few levels.
fn any_value() -> impl Strategy<Value = Any> {
    let leaf = prop_oneof![
        Just(Any::Null),
        Just(Any::Undefined),
        any::<bool>().prop_map(Any::Bool),
        any::<i64>().prop_map(Any::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Any::from),
        ".{0,12}".prop_map(|s: String| Any::from(s)),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(|b| Any::Buffer(b.into())),
    ];
    leaf.prop_recursive(6, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Any::from),
            proptest::collection::hash_map("[a-z]{1,4}", inner, 0..6).prop_map(|m| Any::from(
                m.into_iter().collect::<std::collections::HashMap<_, _>>()
            )),
        ]
    })
}

#[derive(Debug, Clone)]
enum Op {
    Insert(u32, String),
    Delete(u32, u32),
    Format(u32, u32, bool),
    MapSet(String, Any),
    ArrayPush(Any),
    Paragraph(String),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (any::<u32>(), "[a-zA-Z0-9 ]{1,8}").prop_map(|(i, s)| Op::Insert(i, s)),
        (any::<u32>(), 1u32..5).prop_map(|(i, n)| Op::Delete(i, n)),
        (any::<u32>(), 1u32..5, any::<bool>()).prop_map(|(i, n, b)| Op::Format(i, n, b)),
        ("[a-z]{1,3}", any_value()).prop_map(|(k, v)| Op::MapSet(k, v)),
        any_value().prop_map(Op::ArrayPush),
        "[a-z ]{0,8}".prop_map(Op::Paragraph),
    ]
}

/// A document built by `ops`, in several transactions, as one update of its whole state.
fn build(ops: &[Op]) -> Vec<u8> {
    let doc = Doc::new();
    let text = doc.get_or_insert_text("t");
    let map = doc.get_or_insert_map("m");
    let arr = doc.get_or_insert_array("a");
    let xml = doc.get_or_insert_xml_fragment("document-store");
    for chunk in ops.chunks(3) {
        let mut txn = doc.transact_mut();
        for op in chunk {
            let len = text.len(&txn);
            match op {
                Op::Insert(i, s) => text.insert(&mut txn, i % (len + 1), s),
                Op::Delete(i, n) if len > 0 => {
                    let at = i % len;
                    text.remove_range(&mut txn, at, (*n).min(len - at));
                }
                Op::Format(i, n, b) if len > 0 => {
                    let at = i % len;
                    let attrs = [("bold".into(), Any::Bool(*b))].into();
                    text.format(&mut txn, at, (*n).min(len - at), attrs);
                }
                Op::Delete(..) | Op::Format(..) => {}
                Op::MapSet(k, v) => {
                    map.insert(&mut txn, k.as_str(), v.clone());
                }
                Op::ArrayPush(v) => {
                    arr.push_back(&mut txn, v.clone());
                }
                Op::Paragraph(s) => {
                    let el = xml.push_back(&mut txn, yrs::XmlElementPrelim::empty("paragraph"));
                    el.push_back(&mut txn, XmlTextPrelim::new(s.as_str()));
                }
            }
        }
    }
    doc.transact().encode_state_as_update_v1(&Default::default())
}

/// Whether yrs decodes `bytes` as an update. Its debug assertions (client ids over 53 bits) and
/// overflow checks panic on some bytes the walk refuses earlier: that is no decode either.
fn yrs_decodes(bytes: &[u8]) -> bool {
    std::panic::catch_unwind(|| Update::decode_v1(bytes).is_ok()).unwrap_or(false)
}

/// The walk refuses some inputs yrs would read anyway: signed varints past what yrs can shift
/// (garbage in a release build, a panic in a debug one).
/// client ids over 53 bits (yrs folds them onto other clients' ids), and clocks past u32 (yrs
/// overflows them).
fn stricter_than_yrs(err: &ScanError) -> bool {
    matches!(
        err,
        ScanError::Malformed(
            "signed varint too long" | "client id over 53 bits" | "clock overflow"
        )
    )
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, u8),
    Remove(usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Remove),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let n = bytes.len();
        match *m {
            Mutation::Flip(i, b) if n > 0 => bytes[i % n] ^= b | 1,
            Mutation::Insert(i, b) => bytes.insert(i % (n + 1), b),
            Mutation::Remove(i) if n > 0 => {
                bytes.remove(i % n);
            }
            Mutation::Truncate(i) => bytes.truncate(i % (n + 1)),
            Mutation::Flip(..) | Mutation::Remove(..) => {}
        }
    }
    bytes
}

proptest! {
    /// Every update a real document produces passes the walk, whole and as a frame.
    #[test]
    fn real_updates_pass_the_walk(ops in proptest::collection::vec(op(), 1..40)) {
        let bytes = build(&ops);
        let cost = scan::update(&bytes, &UpdateBudget::default()).unwrap();
        let shape = scan::frame(&message::update(&bytes), &UpdateBudget::default()).unwrap();
        prop_assert_eq!(shape, FrameShape::Update(cost));
        let mut session = Session::new(Permission::Write);
        let inbound = session.receive(&message::update(&bytes)).unwrap();
        let is_update = matches!(inbound, Some(Inbound::Update { .. }));
        // An update that changes nothing (a delete of nothing) needs no acknowledgement.
        prop_assert_eq!(is_update, cost.units() > 0);
    }

    /// A mutated update: the walk never refuses what yrs decodes (but where yrs misreads), and
    /// whatever passes the walk is decoded and applied without a panic (yrs may still refuse
    /// it: bad UTF-8 or JSON, which the walk leaves to it).
    #[test]
    fn mutated_updates_agree_with_yrs(
        ops in proptest::collection::vec(op(), 1..20),
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let bytes = mutate(build(&ops), &mutations);
        match scan::update(&bytes, &UpdateBudget::default()) {
            Ok(_) => {
                let _ = DocState::new().apply(&bytes);
            }
            Err(err) => {
                prop_assert!(
                    stricter_than_yrs(&err) || !yrs_decodes(&bytes),
                    "the walk refused ({err}) what yrs decodes"
                );
            }
        }
    }

    /// Random bytes as a frame: refused or handled, never a panic.
    #[test]
    fn random_frames_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let mut session = Session::new(Permission::Write);
        if let Ok(Some(Inbound::Update { raw, .. })) = session.receive(&bytes) {
            let _ = DocState::new().apply(&raw);
        }
    }

    /// Frames that start like a sync update or an awareness message, then random.
    #[test]
    fn random_protocol_payloads_never_panic(
        kind in 0u8..3,
        payload in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let frame = match kind {
            0 => message::update(&payload),
            1 => message::sync_step2(payload),
            _ => {
                let mut f = vec![1];
                let mut n = payload.len();
                while n >= 0x80 {
                    f.push((n as u8 & 0x7f) | 0x80);
                    n >>= 7;
                }
                f.push(n as u8);
                f.extend(&payload);
                f
            }
        };
        let mut session = Session::new(Permission::Write);
        let mut state = DocState::new();
        match session.receive(&frame) {
            Ok(Some(Inbound::Update { raw, .. })) => {
                let _ = state.apply(&raw);
            }
            Ok(Some(Inbound::Awareness(update))) => {
                let _ = state.apply_awareness(update);
            }
            _ => {}
        }
    }

    /// Nesting is accepted exactly up to the limit, whatever mix of arrays and maps.
    #[test]
    fn nesting_is_bounded(depth in 100usize..200, maps in proptest::collection::vec(any::<bool>(), 200)) {
        let mut value = Any::Null;
        for is_map in maps.iter().take(depth) {
            value = if *is_map {
                Any::from(std::collections::HashMap::from([("k".to_owned(), value)]))
            } else {
                Any::from(vec![value])
            };
        }
        let doc = Doc::new();
        let arr = doc.get_or_insert_array("arr");
        arr.push_back(&mut doc.transact_mut(), value);
        let bytes = doc.transact().encode_state_as_update_v1(&Default::default());
        let result = scan::update(&bytes, &UpdateBudget::default());
        if depth <= scan::MAX_ANY_DEPTH as usize {
            prop_assert!(result.is_ok(), "{result:?}");
        } else {
            prop_assert_eq!(result, Err(ScanError::TooDeep));
        }
    }
}
