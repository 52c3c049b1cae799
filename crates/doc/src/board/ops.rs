//! The changes a board is made of, each one transaction, as the web client makes them.

use std::collections::HashSet;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map as JsonMap, Value};
use yrs::types::text::TextPrelim;
use yrs::{Any, Map, MapPrelim, MapRef, Out, Text, TransactionMut, WriteTxn};

use super::{Board, End, META, SHAPES, ShapeKind, VERSION, json_to_any, zindex};

/// A connector end as given to [`Op::Add`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndInput {
    #[serde(default)]
    pub shape: Option<String>,
    #[serde(default)]
    pub anchor: Option<[f64; 2]>,
    #[serde(default)]
    pub xy: [f64; 2],
}

/// A shape to add. Missing fields take the defaults a new shape has in the client.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewShape {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: ShapeKind,
    /// Above everything when absent.
    #[serde(default)]
    pub z: Option<String>,
    #[serde(default)]
    pub xy: [f64; 2],
    #[serde(default)]
    pub wh: [f64; 2],
    #[serde(default)]
    pub rot: f64,
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub style: JsonMap<String, Value>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub points: Vec<f64>,
    #[serde(default)]
    pub asset: Option<String>,
    #[serde(default)]
    pub from: Option<EndInput>,
    #[serde(default)]
    pub to: Option<EndInput>,
    #[serde(default)]
    pub locked: bool,
}

/// Where [`Op::Reorder`] puts a shape.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Place {
    Front,
    Back,
}

/// One change to a board.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase", deny_unknown_fields)]
pub enum Op {
    Add {
        shape: Box<NewShape>,
    },
    /// Moves shapes by `by`; a shape whose frame also moves is carried by it, not moved twice.
    Move {
        ids: Vec<String>,
        by: [f64; 2],
    },
    Resize {
        id: String,
        xy: [f64; 2],
        wh: [f64; 2],
    },
    Rotate {
        id: String,
        rot: f64,
    },
    /// Sets the given style keys, keeping the others.
    Restyle {
        ids: Vec<String>,
        style: JsonMap<String, Value>,
    },
    /// Replaces a shape's text.
    Text {
        id: String,
        text: String,
    },
    Reorder {
        id: String,
        to: Place,
    },
    Delete {
        ids: Vec<String>,
    },
    /// Puts a shape in a frame (or out of any, with `null`), keeping where it is drawn.
    Reparent {
        id: String,
        frame: Option<String>,
    },
    Lock {
        ids: Vec<String>,
        locked: bool,
    },
}

/// Applies one change. Changes to shapes that do not exist, or that are locked (other than
/// unlocking them), change nothing.
pub fn apply(txn: &mut TransactionMut<'_>, op: &Op) {
    ensure_version(txn);
    let shapes = txn.get_or_insert_map(SHAPES);
    match op {
        Op::Add { shape } => add(txn, &shapes, shape),
        Op::Move { ids, by } => move_by(txn, &shapes, ids, *by),
        Op::Resize { id, xy, wh } => {
            if let Some(map) = editable(txn, &shapes, id) {
                map.insert(txn, "xy", pair(*xy));
                map.insert(txn, "wh", pair(*wh));
            }
        }
        Op::Rotate { id, rot } => {
            if let Some(map) = editable(txn, &shapes, id) {
                map.insert(txn, "rot", Any::from(*rot));
            }
        }
        Op::Restyle { ids, style } => {
            for id in ids {
                if let Some(map) = editable(txn, &shapes, id) {
                    let mut merged = match map.get(txn, "style") {
                        Some(Out::Any(any @ Any::Map(_))) => match super::any_to_json(&any) {
                            Value::Object(m) => m,
                            _ => JsonMap::new(),
                        },
                        _ => JsonMap::new(),
                    };
                    merged.extend(style.iter().map(|(k, v)| (k.clone(), v.clone())));
                    map.insert(txn, "style", json_to_any(&Value::Object(merged)));
                }
            }
        }
        Op::Text { id, text } => {
            if let Some(map) = editable(txn, &shapes, id) {
                set_text(txn, &map, text);
            }
        }
        Op::Reorder { id, to } => {
            let board = Board::read(txn);
            if board.shapes.get(id).is_none_or(|s| s.locked) {
                return;
            }
            let key = match to {
                Place::Front => zindex::key_between(board.max_z(), None),
                Place::Back => zindex::key_between(None, board.min_z()),
            };
            if let (Ok(key), Some(map)) = (key, shape_map(txn, &shapes, id)) {
                map.insert(txn, "z", key);
            }
        }
        Op::Delete { ids } => delete(txn, &shapes, ids),
        Op::Reparent { id, frame } => reparent(txn, &shapes, id, frame.as_deref()),
        Op::Lock { ids, locked } => {
            for id in ids {
                if let Some(map) = shape_map(txn, &shapes, id) {
                    map.insert(txn, "locked", *locked);
                }
            }
        }
    }
}

/// What the server writes into a board's `meta` map for every client to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaKey {
    /// The shared timer: `{ends_at, seconds}` (milliseconds since the epoch, server clock).
    Timer,
    /// A copy of the dot vote: `{id, open, dots_per_person, n_cast, n_voters, results?}`.
    Vote,
}

impl MetaKey {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Timer => "timer",
            Self::Vote => "vote",
        }
    }
}

/// Sets (or, with `None`, removes) one of the values the server keeps in `meta`.
pub fn set_meta(txn: &mut TransactionMut<'_>, key: MetaKey, value: Option<&Value>) {
    ensure_version(txn);
    let meta = txn.get_or_insert_map(META);
    match value {
        Some(value) => {
            meta.insert(txn, key.as_str(), json_to_any(value));
        }
        None => {
            meta.remove(txn, key.as_str());
        }
    }
}

/// Declares the model version, once.
fn ensure_version(txn: &mut TransactionMut<'_>) {
    let meta = txn.get_or_insert_map(META);
    if meta.get(txn, "version").is_none() {
        meta.insert(txn, "version", Any::from(f64::from(VERSION)));
    }
}

fn pair([x, y]: [f64; 2]) -> Any {
    Any::Array(Arc::from([Any::from(x), Any::from(y)]))
}

fn end_any(end: &End) -> Any {
    let mut map = std::collections::HashMap::new();
    if let Some(shape) = &end.shape {
        map.insert("shape".to_owned(), Any::from(shape.as_str()));
    }
    if let Some(anchor) = end.anchor {
        map.insert("anchor".to_owned(), pair(anchor));
    }
    map.insert("xy".to_owned(), pair(end.xy));
    Any::Map(Arc::new(map))
}

fn shape_map(txn: &TransactionMut<'_>, shapes: &MapRef, id: &str) -> Option<MapRef> {
    match shapes.get(txn, id)? {
        Out::YMap(map) => Some(map),
        _ => None,
    }
}

/// The shape's map, unless it is locked.
fn editable(txn: &TransactionMut<'_>, shapes: &MapRef, id: &str) -> Option<MapRef> {
    let map = shape_map(txn, shapes, id)?;
    let locked = matches!(map.get(txn, "locked"), Some(Out::Any(Any::Bool(true))));
    (!locked).then_some(map)
}

fn set_text(txn: &mut TransactionMut<'_>, map: &MapRef, text: &str) {
    match map.get(txn, "text") {
        Some(Out::YText(existing)) => {
            let len = existing.len(txn);
            existing.remove_range(txn, 0, len);
            existing.insert(txn, 0, text);
        }
        _ => {
            map.insert(txn, "text", TextPrelim::new(text));
        }
    }
}

fn add(txn: &mut TransactionMut<'_>, shapes: &MapRef, shape: &NewShape) {
    let z = match &shape.z {
        Some(z) => z.clone(),
        None => {
            // Only the keys are read: adding to a large board stays cheap.
            let top = shapes
                .iter(txn)
                .filter_map(|(_, v)| match v {
                    Out::YMap(map) => match map.get(txn, "z") {
                        Some(Out::Any(Any::String(z))) if zindex::is_valid(&z) => Some(z),
                        _ => None,
                    },
                    _ => None,
                })
                .max();
            zindex::key_between(top.as_deref(), None).unwrap_or_else(|_| "a0".to_owned())
        }
    };
    let mut fields: Vec<(&str, Any)> = vec![
        ("type", Any::from(shape.kind.as_str())),
        ("z", Any::from(z)),
        ("xy", pair(shape.xy)),
        ("wh", pair(shape.wh)),
        ("rot", Any::from(shape.rot)),
        ("style", json_to_any(&Value::Object(shape.style.clone()))),
    ];
    if let Some(parent) = &shape.parent {
        fields.push(("parent", Any::from(parent.as_str())));
    }
    if !shape.points.is_empty() {
        fields.push(("points", Any::Array(shape.points.iter().map(|p| Any::from(*p)).collect())));
    }
    if let Some(asset) = &shape.asset {
        fields.push(("asset", Any::from(asset.as_str())));
    }
    for (key, end) in [("from", &shape.from), ("to", &shape.to)] {
        if let Some(end) = end {
            let end = End { shape: end.shape.clone(), anchor: end.anchor, xy: end.xy };
            fields.push((key, end_any(&end)));
        }
    }
    if shape.locked {
        fields.push(("locked", Any::Bool(true)));
    }
    let prelim: MapPrelim = fields.into_iter().map(|(k, v)| (k, yrs::In::Any(v))).collect();
    let map = shapes.insert(txn, shape.id.as_str(), prelim);
    map.insert(txn, "text", TextPrelim::new(shape.text.as_deref().unwrap_or("")));
}

fn move_by(txn: &mut TransactionMut<'_>, shapes: &MapRef, ids: &[String], by: [f64; 2]) {
    let board = Board::read(txn);
    let moving: HashSet<&str> = ids.iter().map(String::as_str).collect();
    for id in ids {
        let Some(shape) = board.shapes.get(id).filter(|s| !s.locked) else { continue };
        // Carried by its frame, which moves too.
        if board.frame_of(shape).is_some_and(|f| moving.contains(f.id.as_str())) {
            continue;
        }
        let Some(map) = shape_map(txn, shapes, id) else { continue };
        if shape.kind == ShapeKind::Connector {
            for (key, end) in [("from", &shape.from), ("to", &shape.to)] {
                // Attached ends follow their shapes; loose ends move with the connector.
                if let Some(end) = end.as_ref().filter(|e| board.attached(e).is_none()) {
                    let moved = End {
                        shape: None,
                        anchor: None,
                        xy: [end.xy[0] + by[0], end.xy[1] + by[1]],
                    };
                    map.insert(txn, key, end_any(&moved));
                }
            }
        } else {
            map.insert(txn, "xy", pair([shape.xy[0] + by[0], shape.xy[1] + by[1]]));
        }
    }
}

fn delete(txn: &mut TransactionMut<'_>, shapes: &MapRef, ids: &[String]) {
    let board = Board::read(txn);
    let gone = board.deletion_closure(ids);
    // Ends attached to what goes become loose ends where they are drawn now.
    for shape in board.shapes.values() {
        if shape.kind != ShapeKind::Connector || gone.contains(&shape.id) {
            continue;
        }
        let (Some(from), Some(to)) = (&shape.from, &shape.to) else { continue };
        let (rf, rt) = board.resolve_ends(from, to);
        let Some(map) = shape_map(txn, shapes, &shape.id) else { continue };
        for (key, resolved) in [("from", rf), ("to", rt)] {
            if resolved.shape.as_ref().is_some_and(|s| gone.contains(s)) {
                map.insert(txn, key, end_any(&End { shape: None, anchor: None, xy: resolved.xy }));
            }
        }
    }
    let mut gone: Vec<String> = gone.into_iter().collect();
    gone.sort_unstable();
    for id in gone {
        shapes.remove(txn, &id);
    }
}

fn reparent(txn: &mut TransactionMut<'_>, shapes: &MapRef, id: &str, frame: Option<&str>) {
    let board = Board::read(txn);
    let Some(shape) = board.shapes.get(id).filter(|s| !s.locked) else { return };
    if matches!(shape.kind, ShapeKind::Frame | ShapeKind::Connector) {
        return;
    }
    let target = frame.and_then(|f| board.shapes.get(f)).filter(|f| f.kind == ShapeKind::Frame);
    if frame.is_some() && target.is_none() {
        return;
    }
    let abs = board.abs_xy(shape);
    let Some(map) = shape_map(txn, shapes, id) else { return };
    match target {
        Some(frame) => {
            map.insert(txn, "parent", frame.id.as_str());
            map.insert(txn, "xy", pair([abs[0] - frame.xy[0], abs[1] - frame.xy[1]]));
        }
        None => {
            map.remove(txn, "parent");
            map.insert(txn, "xy", pair(abs));
        }
    }
}
