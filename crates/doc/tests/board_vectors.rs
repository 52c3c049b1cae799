//! The board model's shared vectors (`board-vectors.json`), which the web client's model must
//! pass too (`web/src/boards/model.test.ts`): the same operations on replicas with the same
//! client ids, synced, must draw the same board.

use std::collections::BTreeMap;

use hubring_doc::board::{Board, Op, zindex};
use serde::Deserialize;
use serde_json::Value;
use yrs::updates::decoder::Decode;
use yrs::{Doc, Options, ReadTxn, StateVector, Transact, Update};

const VECTORS: &str = include_str!("board-vectors.json");

#[derive(Deserialize)]
struct Vectors {
    keys: Vec<KeyCase>,
    boards: Vec<BoardCase>,
}

#[derive(Deserialize)]
struct KeyCase {
    a: Option<String>,
    b: Option<String>,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    error: bool,
}

#[derive(Deserialize)]
struct BoardCase {
    name: String,
    replicas: BTreeMap<String, u64>,
    steps: Vec<Step>,
    expect: Expect,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Step {
    Sync { sync: bool },
    Do { on: String, r#do: Op },
}

#[derive(Deserialize)]
struct Expect {
    #[serde(default)]
    order: Option<Vec<String>>,
    #[serde(default)]
    shapes: BTreeMap<String, Value>,
    #[serde(default)]
    absent: Vec<String>,
}

fn vectors() -> Vectors {
    serde_json::from_str(VECTORS).expect("board-vectors.json parses")
}

#[test]
fn order_keys_match_the_npm_package() {
    for case in vectors().keys {
        let got = zindex::key_between(case.a.as_deref(), case.b.as_deref());
        if case.error {
            assert!(got.is_err(), "{:?} {:?}: expected an error, got {got:?}", case.a, case.b);
        } else {
            assert_eq!(got.ok(), case.key, "{:?} {:?}", case.a, case.b);
        }
    }
}

/// Sends every replica every other replica's missing updates.
fn sync_all(docs: &BTreeMap<String, Doc>) {
    let updates: Vec<Vec<u8>> = docs
        .values()
        .map(|d| d.transact().encode_state_as_update_v1(&StateVector::default()))
        .collect();
    for doc in docs.values() {
        let mut txn = doc.transact_mut();
        for update in &updates {
            txn.apply_update(Update::decode_v1(update).unwrap()).unwrap();
        }
    }
}

/// `actual` holds every field of `expected`, numbers equal within 1e-9.
fn contains(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Number(a), Value::Number(e)) => {
            (a.as_f64().unwrap() - e.as_f64().unwrap()).abs() < 1e-9
        }
        (Value::Object(a), Value::Object(e)) => {
            e.iter().all(|(k, ev)| a.get(k).is_some_and(|av| contains(av, ev)))
        }
        (Value::Array(a), Value::Array(e)) => {
            a.len() == e.len() && a.iter().zip(e).all(|(av, ev)| contains(av, ev))
        }
        (a, e) => a == e,
    }
}

#[test]
fn board_vectors_hold() {
    let mut failures = Vec::new();
    for case in vectors().boards {
        let docs: BTreeMap<String, Doc> = case
            .replicas
            .iter()
            .map(|(name, id)| {
                (name.clone(), Doc::with_options(Options::with_client_id(yrs::ClientID::new(*id))))
            })
            .collect();
        for step in &case.steps {
            match step {
                Step::Sync { sync } => {
                    if *sync {
                        sync_all(&docs);
                    }
                }
                Step::Do { on, r#do } => {
                    let mut txn = docs[on].transact_mut();
                    hubring_doc::board::apply(&mut txn, r#do);
                }
            }
        }
        let drawn: Vec<Value> = docs
            .values()
            .map(|doc| serde_json::to_value(Board::read(&doc.transact()).resolve()).unwrap())
            .collect();
        assert!(drawn.windows(2).all(|w| w[0] == w[1]), "{}: replicas differ", case.name);
        let board = drawn[0].as_array().unwrap();
        let by_id: BTreeMap<&str, &Value> =
            board.iter().map(|s| (s["id"].as_str().unwrap(), s)).collect();
        // No end ever names a shape that is not on the board.
        for shape in board {
            for end in ["from", "to"] {
                if let Some(target) = shape[end]["shape"].as_str() {
                    assert!(
                        by_id.contains_key(target),
                        "{}: dangling {end} in {}",
                        case.name,
                        shape["id"]
                    );
                }
            }
        }
        let order: Vec<&str> = board.iter().map(|s| s["id"].as_str().unwrap()).collect();
        if let Some(expected) = &case.expect.order
            && order != *expected
        {
            failures.push(format!("{}: order {order:?}, expected {expected:?}", case.name));
        }
        for id in &case.expect.absent {
            if by_id.contains_key(id.as_str()) {
                failures.push(format!("{}: {id} should be gone", case.name));
            }
        }
        for (id, expected) in &case.expect.shapes {
            match by_id.get(id.as_str()) {
                Some(actual) if contains(actual, expected) => {}
                Some(actual) => {
                    failures.push(format!("{}: {id} is {actual}, expected {expected}", case.name))
                }
                None => failures.push(format!("{}: {id} is missing", case.name)),
            }
        }
        // The document declares the model version it was written with.
        assert_eq!(
            Board::read(&docs.values().next().unwrap().transact()).version,
            1,
            "{}",
            case.name
        );
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}
