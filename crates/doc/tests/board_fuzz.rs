//! Property-based fuzzing of the board reader and the SVG writer: a writer of a board's document
//! can put anything in it, not only what the web client's operations write. Shapes of any
//! kind or none, fields of the wrong type, numbers that are NaN, infinite or huge, ids with
//! characters XML forbids, parents and connector ends that point at themselves or at each other
//! in cycles: the reader never panics, and the drawing is always well-formed XML with finite
//! numbers.
//!
//! The default run is short (CI); a long one on demand:
//! `PROPTEST_CASES=20000 cargo test -p hubring-doc --release --test board_fuzz`.

use std::collections::HashMap;
use std::sync::Arc;

use hubring_doc::board::{self, AssetImage, Board, Detail, SvgOptions};
use proptest::prelude::*;
use yrs::{Any, Map, MapPrelim, Number, ReadTxn, Transact, WriteTxn};

/// Shape ids, some of them awkward; parents and connector ends pick from the same pool, so
/// they form chains and cycles.
const IDS: [&str; 8] = ["a", "b", "c", "", "<&>\"'", "odd\u{FFFF}", "frame", "\u{1}x"];
const KINDS: [&str; 10] =
    ["sticky", "rect", "ellipse", "text", "frame", "connector", "pen", "image", "star", "?"];

fn number() -> impl Strategy<Value = Any> {
    prop_oneof![
        (-5000.0..5000.0f64).prop_map(|v| Any::Number(Number::Float(v))),
        any::<f64>().prop_map(|v| Any::Number(Number::Float(v))),
        Just(Any::Number(Number::Float(f64::NAN))),
        Just(Any::Number(Number::Float(f64::INFINITY))),
        Just(Any::Number(Number::Float(1e300))),
        any::<i64>().prop_map(|v| Any::Number(Number::Int(v))),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![".{0,40}", "[<>&\"'\u{FFFE}\u{FFFF}\u{0}\u{1} a-z]{0,20}", Just("w".repeat(3000))]
}

/// A value of some type: what a field of the wrong type may hold.
fn anything() -> impl Strategy<Value = Any> {
    let leaf = prop_oneof![
        number(),
        text().prop_map(Any::from),
        Just(Any::Null),
        any::<bool>().prop_map(Any::Bool),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| Any::Array(Arc::from(v))),
            prop::collection::hash_map("[a-z]{1,5}", inner, 0..4)
                .prop_map(|m| Any::Map(Arc::new(m))),
        ]
    })
}

fn pair() -> impl Strategy<Value = Any> {
    prop_oneof![
        4 => (number(), number()).prop_map(|(x, y)| Any::Array(Arc::from(vec![x, y]))),
        1 => anything(),
    ]
}

fn id() -> impl Strategy<Value = String> {
    prop_oneof![4 => prop::sample::select(&IDS[..]).prop_map(str::to_owned), 1 => text()]
}

fn end() -> impl Strategy<Value = Any> {
    prop_oneof![
        3 => (id(), pair(), pair()).prop_map(|(shape, anchor, xy)| {
            Any::Map(Arc::new(HashMap::from([
                ("shape".to_owned(), Any::from(shape)),
                ("anchor".to_owned(), anchor),
                ("xy".to_owned(), xy),
            ])))
        }),
        1 => anything(),
    ]
}

/// One shape's fields, each present or not, of the right type or not.
fn shape() -> impl Strategy<Value = HashMap<String, Any>> {
    let fields = (
        prop_oneof![4 => prop::sample::select(&KINDS[..]).prop_map(Any::from), 1 => anything()],
        (pair(), pair(), number()),
        (id().prop_map(Any::from), text().prop_map(Any::from), text().prop_map(Any::from)),
        (end(), end()),
        (prop::collection::vec(number(), 0..12), anything(), text().prop_map(Any::from)),
        prop::collection::vec(any::<bool>(), 13),
    );
    fields.prop_map(
        |(kind, (xy, wh, rot), (parent, text, z), (from, to), (points, other, fill), keep)| {
            let style = Any::Map(Arc::new(HashMap::from([
                ("fill".to_owned(), fill.clone()),
                ("stroke".to_owned(), fill),
            ])));
            let all = [
                ("type", kind),
                ("xy", xy),
                ("wh", wh),
                ("rot", rot),
                ("parent", parent),
                ("text", text),
                ("z", z),
                ("from", from),
                ("to", to),
                ("points", Any::Array(Arc::from(points))),
                ("style", style),
                ("asset", Any::from("0".repeat(64))),
                ("locked", other),
            ];
            all.into_iter()
                .zip(keep)
                .filter(|(_, keep)| *keep)
                .map(|((key, value), _)| (key.to_owned(), value))
                .collect()
        },
    )
}

/// Attributes that hold numbers.
const GEOMETRY: [&str; 17] = [
    "x",
    "y",
    "width",
    "height",
    "x1",
    "y1",
    "x2",
    "y2",
    "cx",
    "cy",
    "rx",
    "ry",
    "r",
    "viewBox",
    "transform",
    "points",
    "d",
];

/// A 1x1 PNG, for image shapes.
fn photo(_: &str) -> Option<AssetImage> {
    let png = vec![
        137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 1, 0, 0, 0, 1, 8, 2,
        0, 0, 0, 144, 119, 83, 222, 0, 0, 0, 12, 73, 68, 65, 84, 120, 156, 99, 248, 223, 192, 0, 0,
        4, 1, 1, 128, 197, 42, 24, 93, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130,
    ];
    Some(AssetImage { mime: "image/png".into(), bytes: png, width: 1, height: 1 })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_board_document_reads_and_draws_as_well_formed_svg(
        shapes in prop::collection::vec((id(), shape()), 0..12),
        frame in prop::option::of(id()),
        outline in any::<bool>(),
    ) {
        let doc = yrs::Doc::new();
        {
            let mut txn = doc.transact_mut();
            let root = txn.get_or_insert_map(board::SHAPES);
            for (id, fields) in &shapes {
                root.insert(&mut txn, id.as_str(), fields.clone().into_iter().collect::<MapPrelim>());
            }
        }
        let board = Board::read(&doc.transact());
        let detail = if outline { Detail::Shapes } else { Detail::Full };
        let options = SvgOptions { frame, detail };
        if let Some(svg) = board::to_svg(&board, &options, &photo) {
            prop_assert!(svg.width.is_finite() && svg.height.is_finite());
            let parsed = roxmltree::Document::parse(&svg.text);
            prop_assert!(parsed.is_ok(), "not XML: {:?}", parsed.err());
            for node in parsed.expect("parsed").descendants() {
                for attr in node.attributes().filter(|a| GEOMETRY.contains(&a.name())) {
                    let value = attr.value();
                    prop_assert!(!value.contains("NaN") && !value.contains("inf"), "{value}");
                }
            }
        }
        // The operations' own reader agrees with itself after a round trip through bytes.
        let state = doc.transact().encode_state_as_update_v1(&yrs::StateVector::default());
        let again = Board::decode(&state).expect("a state yrs wrote decodes");
        prop_assert_eq!(again.shapes.len(), board.shapes.len());
    }
}
