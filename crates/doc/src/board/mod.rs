//! The board model: what a board document holds and the rules for reading and changing it.
//!
//! One Y.Doc per board. Its `meta` map holds the model `version` (and the timer and vote that
//! the server writes); its `shapes` map holds one Y.Map per shape, keyed by the shape's id:
//!
//! | key | value |
//! |---|---|
//! | `type` | `sticky`, `rect`, `ellipse`, `diamond`, `text`, `image`, `pen`, `frame`, `connector` |
//! | `z` | fractional order key ([`zindex`]); shapes are drawn by `(z, id)`, frames beneath the rest |
//! | `xy`, `wh` | `[x, y]` and `[w, h]`, each one value, so a move is never half one user's |
//! | `parent` | the frame the shape sits in; its `xy` is then relative to the frame's |
//! | `rot` | degrees, clockwise, about the shape's centre |
//! | `style` | `{fill, stroke, color, size, head}` |
//! | `text` | Y.Text: the words of a sticky note, a text, a shape's label or a frame's title |
//! | `points` | a pen stroke, `[x0, y0, x1, y1, ...]` relative to `xy` |
//! | `asset` | an image's SHA-256 in the asset store; the bytes never enter the document |
//! | `from`, `to` | a connector's ends: `{shape, anchor?, xy}`, or `{xy}` for a loose end |
//! | `locked` | set by a facilitator: the shape does not move, resize or change |
//!
//! The rules, which the web client implements identically (`web/src/boards/model.ts`) and the
//! shared vectors (`crates/doc/tests/board-vectors.json`) hold both to:
//!
//! - A shape in a frame is drawn at the frame's position plus its own, so moving the frame moves
//!   its children without writing them. A `parent` that is not an existing frame is ignored.
//! - A connector end attached to a shape is drawn where the shape is now: at its `anchor` (a
//!   fraction of the shape's box), or, without one, where the line toward the other end leaves
//!   the box. An end whose shape no longer exists is a loose end at its `xy`, the point it was
//!   drawn at when it was attached or detached; no reading ever yields a missing shape.
//! - Deleting shapes deletes the children of deleted frames and turns every end attached to them
//!   into a loose end where it was drawn.
//! - Order is `(z, id)`: keys written concurrently may be equal, and the id settles them the same
//!   way everywhere.

mod ops;
mod svg;
pub mod zindex;

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use serde_json::{Map as JsonMap, Value};
use yrs::updates::decoder::Decode;
use yrs::{Any, GetString, Map, MapRef, Out, ReadTxn, Transact};

pub use ops::{EndInput, MetaKey, NewShape, Op, Place, apply, set_meta};
pub use svg::{AssetImage, Detail, Svg, SvgOptions, to_svg};

/// The model version this code writes and understands.
pub const VERSION: u32 = 1;

/// Root names in a board document.
pub const META: &str = "meta";
pub const SHAPES: &str = "shapes";

/// What kind of thing a shape is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShapeKind {
    Sticky,
    Rect,
    Ellipse,
    Diamond,
    Text,
    Image,
    Pen,
    Frame,
    Connector,
}

impl ShapeKind {
    pub const ALL: [ShapeKind; 9] = [
        Self::Sticky,
        Self::Rect,
        Self::Ellipse,
        Self::Diamond,
        Self::Text,
        Self::Image,
        Self::Pen,
        Self::Frame,
        Self::Connector,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sticky => "sticky",
            Self::Rect => "rect",
            Self::Ellipse => "ellipse",
            Self::Diamond => "diamond",
            Self::Text => "text",
            Self::Image => "image",
            Self::Pen => "pen",
            Self::Frame => "frame",
            Self::Connector => "connector",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether a connector may attach to this kind.
    pub fn connectable(self) -> bool {
        self != Self::Connector
    }
}

/// A connector end as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct End {
    pub shape: Option<String>,
    pub anchor: Option<[f64; 2]>,
    pub xy: [f64; 2],
}

/// One shape as stored (coordinates relative to its frame, if any).
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    pub id: String,
    pub kind: ShapeKind,
    pub z: String,
    pub xy: [f64; 2],
    pub wh: [f64; 2],
    pub rot: f64,
    pub parent: Option<String>,
    pub style: JsonMap<String, Value>,
    pub text: String,
    pub points: Vec<f64>,
    pub asset: Option<String>,
    pub from: Option<End>,
    pub to: Option<End>,
    pub locked: bool,
}

impl Shape {
    /// A style value if it is a string.
    pub fn style_str(&self, key: &str) -> Option<&str> {
        self.style.get(key).and_then(Value::as_str)
    }
}

/// A board read out of its document.
#[derive(Debug, Clone, Default)]
pub struct Board {
    /// The `meta.version` the document declares (0 if it declares none).
    pub version: u32,
    pub shapes: HashMap<String, Shape>,
}

/// A connector end as drawn.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolvedEnd {
    /// The shape this end is attached to; always an existing shape.
    pub shape: Option<String>,
    pub xy: [f64; 2],
}

/// A shape as drawn: absolute position, connector ends resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resolved {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: ShapeKind,
    pub z: String,
    /// The frame this shape is drawn in (an existing frame), if any.
    pub parent: Option<String>,
    /// Absolute top-left corner.
    pub xy: [f64; 2],
    pub wh: [f64; 2],
    pub rot: f64,
    pub style: JsonMap<String, Value>,
    pub text: String,
    pub points: Vec<f64>,
    pub asset: Option<String>,
    pub from: Option<ResolvedEnd>,
    pub to: Option<ResolvedEnd>,
    pub locked: bool,
}

impl Board {
    /// Reads the board held by a document's state (one lib0 v1 update, as the store and
    /// `Registry::read` give it).
    pub fn decode(state: &[u8]) -> Result<Self, crate::DocError> {
        let doc = yrs::Doc::new();
        doc.transact_mut().apply_update(yrs::Update::decode_v1(state)?)?;
        Ok(Self::read(&doc.transact()))
    }

    /// Reads the board held by a document. Shapes of an unknown type, or without the fields
    /// every shape needs, are skipped: a newer client's shapes never break an older reader.
    pub fn read<T: ReadTxn>(txn: &T) -> Self {
        let version = txn
            .get_map(META)
            .and_then(|meta| meta.get(txn, "version"))
            .and_then(|v| number(&v))
            .map_or(0, |v| v as u32);
        let mut shapes = HashMap::new();
        if let Some(root) = txn.get_map(SHAPES) {
            for (id, value) in root.iter(txn) {
                if let Out::YMap(map) = value
                    && let Some(shape) = read_shape(txn, id, &map)
                {
                    shapes.insert(id.to_owned(), shape);
                }
            }
        }
        Self { version, shapes }
    }

    /// The frame a shape is drawn in: its `parent`, if that is an existing frame.
    fn frame_of(&self, shape: &Shape) -> Option<&Shape> {
        let parent = self.shapes.get(shape.parent.as_deref()?)?;
        (parent.kind == ShapeKind::Frame && shape.kind != ShapeKind::Frame).then_some(parent)
    }

    /// A shape's absolute top-left corner.
    pub fn abs_xy(&self, shape: &Shape) -> [f64; 2] {
        match self.frame_of(shape) {
            Some(frame) => [frame.xy[0] + shape.xy[0], frame.xy[1] + shape.xy[1]],
            None => shape.xy,
        }
    }

    /// The ids of shapes drawn inside `frame`.
    pub fn children_of(&self, frame: &str) -> Vec<&str> {
        let mut ids: Vec<&str> = self
            .shapes
            .values()
            .filter(|s| s.parent.as_deref() == Some(frame))
            .filter(|s| self.frame_of(s).is_some())
            .map(|s| s.id.as_str())
            .collect();
        ids.sort_unstable();
        ids
    }

    /// Every shape in drawing order: frames first, then the rest, each by `(z, id)`.
    pub fn ordered(&self) -> Vec<&Shape> {
        let mut all: Vec<&Shape> = self.shapes.values().collect();
        all.sort_by(|a, b| {
            let layer = |s: &Shape| u8::from(s.kind != ShapeKind::Frame);
            (layer(a), &a.z, &a.id).cmp(&(layer(b), &b.z, &b.id))
        });
        all
    }

    /// The highest `z` on the board, if any shape has one.
    pub fn max_z(&self) -> Option<&str> {
        self.shapes.values().map(|s| s.z.as_str()).filter(|z| zindex::is_valid(z)).max()
    }

    /// The lowest `z` on the board, if any shape has one.
    pub fn min_z(&self) -> Option<&str> {
        self.shapes.values().map(|s| s.z.as_str()).filter(|z| zindex::is_valid(z)).min()
    }

    /// The board as drawn, in drawing order.
    pub fn resolve(&self) -> Vec<Resolved> {
        self.ordered().into_iter().map(|shape| self.resolve_shape(shape)).collect()
    }

    /// One shape as drawn.
    pub fn resolve_shape(&self, shape: &Shape) -> Resolved {
        let (from, to) = match (&shape.from, &shape.to) {
            (Some(from), Some(to)) => {
                let (f, t) = self.resolve_ends(from, to);
                (Some(f), Some(t))
            }
            _ => (None, None),
        };
        Resolved {
            id: shape.id.clone(),
            kind: shape.kind,
            z: shape.z.clone(),
            parent: self.frame_of(shape).map(|f| f.id.clone()),
            xy: self.abs_xy(shape),
            wh: shape.wh,
            rot: shape.rot,
            style: shape.style.clone(),
            text: shape.text.clone(),
            points: shape.points.clone(),
            asset: shape.asset.clone(),
            from,
            to,
            locked: shape.locked,
        }
    }

    /// The shape an end is attached to, if it exists and can be attached to.
    fn attached(&self, end: &End) -> Option<&Shape> {
        self.shapes.get(end.shape.as_deref()?).filter(|s| s.kind.connectable())
    }

    /// The box `[x, y, w, h]` of a shape, absolute.
    pub fn abs_box(&self, shape: &Shape) -> [f64; 4] {
        let [x, y] = self.abs_xy(shape);
        [x, y, shape.wh[0], shape.wh[1]]
    }

    /// Where an end aims: its anchor on its shape, the shape's centre without one, or its point.
    fn aim(&self, end: &End) -> [f64; 2] {
        match self.attached(end) {
            Some(shape) => {
                let b = self.abs_box(shape);
                match end.anchor {
                    Some(anchor) => anchor_point(b, anchor, shape.rot),
                    None => [b[0] + b[2] / 2.0, b[1] + b[3] / 2.0],
                }
            }
            None => end.xy,
        }
    }

    fn resolve_end(&self, end: &End, toward: [f64; 2]) -> ResolvedEnd {
        match self.attached(end) {
            Some(shape) => {
                let xy = match end.anchor {
                    Some(_) => self.aim(end),
                    None => exit_point(self.abs_box(shape), toward),
                };
                ResolvedEnd { shape: Some(shape.id.clone()), xy }
            }
            None => ResolvedEnd { shape: None, xy: end.xy },
        }
    }

    /// Both ends of a connector as drawn.
    pub fn resolve_ends(&self, from: &End, to: &End) -> (ResolvedEnd, ResolvedEnd) {
        let (aim_from, aim_to) = (self.aim(from), self.aim(to));
        (self.resolve_end(from, aim_to), self.resolve_end(to, aim_from))
    }

    /// Every id deleting `ids` removes: those shapes and the children of deleted frames, except
    /// locked ones.
    pub fn deletion_closure(&self, ids: &[String]) -> HashSet<String> {
        let unlocked = |id: &str| self.shapes.get(id).is_some_and(|s| !s.locked);
        let mut out: HashSet<String> = ids.iter().filter(|id| unlocked(id)).cloned().collect();
        for id in ids {
            if unlocked(id) && self.shapes[id].kind == ShapeKind::Frame {
                out.extend(
                    self.children_of(id).into_iter().filter(|c| unlocked(c)).map(str::to_owned),
                );
            }
        }
        out
    }

    /// The bounding box `[x, y, w, h]` of everything drawn, rotation and strokes ignored.
    pub fn bounds(&self) -> Option<[f64; 4]> {
        let resolved = self.resolve();
        let mut points = Vec::new();
        for shape in &resolved {
            match shape.kind {
                ShapeKind::Connector => {
                    points.extend(shape.from.iter().chain(shape.to.iter()).map(|e| e.xy));
                }
                _ => {
                    points.push(shape.xy);
                    points.push([shape.xy[0] + shape.wh[0], shape.xy[1] + shape.wh[1]]);
                }
            }
        }
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for [x, y] in points {
            if x.is_finite() && y.is_finite() {
                x0 = x0.min(x);
                y0 = y0.min(y);
                x1 = x1.max(x);
                y1 = y1.max(y);
            }
        }
        (x0 <= x1 && y0 <= y1).then_some([x0, y0, x1 - x0, y1 - y0])
    }
}

/// A point at fraction `anchor` of box `b`, turned with the shape by `rot` degrees.
fn anchor_point(b: [f64; 4], anchor: [f64; 2], rot: f64) -> [f64; 2] {
    let (cx, cy) = (b[0] + b[2] / 2.0, b[1] + b[3] / 2.0);
    let (dx, dy) = (b[2] * (anchor[0] - 0.5), b[3] * (anchor[1] - 0.5));
    let (sin, cos) = rot.to_radians().sin_cos();
    [cx + dx * cos - dy * sin, cy + dx * sin + dy * cos]
}

/// Where the segment from the centre of box `b` toward `toward` leaves the box (the centre if
/// `toward` is the centre; `toward` itself if it lies inside).
fn exit_point(b: [f64; 4], toward: [f64; 2]) -> [f64; 2] {
    let (cx, cy) = (b[0] + b[2] / 2.0, b[1] + b[3] / 2.0);
    let (dx, dy) = (toward[0] - cx, toward[1] - cy);
    let mut t = 1.0_f64;
    if dx != 0.0 {
        t = t.min(b[2] / 2.0 / dx.abs());
    }
    if dy != 0.0 {
        t = t.min(b[3] / 2.0 / dy.abs());
    }
    [cx + dx * t, cy + dy * t]
}

fn read_shape<T: ReadTxn>(txn: &T, id: &str, map: &MapRef) -> Option<Shape> {
    let kind = match map.get(txn, "type")? {
        Out::Any(Any::String(s)) => ShapeKind::parse(&s)?,
        _ => return None,
    };
    let get = |key: &str| map.get(txn, key);
    let pair = |key: &str| get(key).and_then(|v| pair(&v));
    let text = match get("text") {
        Some(Out::YText(text)) => text.get_string(txn),
        Some(Out::Any(Any::String(s))) => s.to_string(),
        _ => String::new(),
    };
    let style = match get("style") {
        Some(Out::Any(any @ Any::Map(_))) => match any_to_json(&any) {
            Value::Object(map) => map,
            _ => JsonMap::new(),
        },
        _ => JsonMap::new(),
    };
    let points = match get("points") {
        Some(Out::Any(Any::Array(items))) => items.iter().filter_map(any_number).collect(),
        _ => Vec::new(),
    };
    let string = |key: &str| match get(key) {
        Some(Out::Any(Any::String(s))) => Some(s.to_string()),
        _ => None,
    };
    let end = |key: &str| match get(key) {
        Some(Out::Any(Any::Map(m))) => Some(End {
            shape: match m.get("shape") {
                Some(Any::String(s)) => Some(s.to_string()),
                _ => None,
            },
            anchor: m.get("anchor").and_then(any_pair),
            xy: m.get("xy").and_then(any_pair).unwrap_or([0.0, 0.0]),
        }),
        _ => None,
    };
    Some(Shape {
        id: id.to_owned(),
        kind,
        z: string("z").unwrap_or_default(),
        xy: pair("xy").unwrap_or([0.0, 0.0]),
        wh: pair("wh").unwrap_or([0.0, 0.0]),
        rot: get("rot").and_then(|v| number(&v)).unwrap_or(0.0),
        parent: string("parent"),
        style,
        text,
        points,
        asset: string("asset"),
        from: end("from"),
        to: end("to"),
        locked: matches!(get("locked"), Some(Out::Any(Any::Bool(true)))),
    })
}

fn number(out: &Out) -> Option<f64> {
    match out {
        Out::Any(any) => any_number(any),
        _ => None,
    }
}

fn any_number(any: &Any) -> Option<f64> {
    match any {
        Any::Number(n) => n.as_f64().filter(|v| v.is_finite()),
        _ => None,
    }
}

fn any_pair(any: &Any) -> Option<[f64; 2]> {
    match any {
        Any::Array(items) if items.len() == 2 => {
            Some([any_number(&items[0])?, any_number(&items[1])?])
        }
        _ => None,
    }
}

fn pair(out: &Out) -> Option<[f64; 2]> {
    match out {
        Out::Any(any) => any_pair(any),
        _ => None,
    }
}

/// A yrs value as JSON.
pub(crate) fn any_to_json(any: &Any) -> Value {
    match any {
        Any::Null | Any::Undefined => Value::Null,
        Any::Bool(b) => Value::Bool(*b),
        Any::Number(n) => match n.as_f64().and_then(serde_json::Number::from_f64) {
            Some(n) => Value::Number(n),
            None => Value::Null,
        },
        Any::String(s) => Value::String(s.to_string()),
        Any::Buffer(_) => Value::Null,
        Any::Array(items) => Value::Array(items.iter().map(any_to_json).collect()),
        Any::Map(map) => {
            let sorted: BTreeMap<&String, &Any> = map.iter().collect();
            Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), any_to_json(v))).collect())
        }
    }
}

/// JSON as a yrs value.
pub(crate) fn json_to_any(value: &Value) -> Any {
    match value {
        Value::Null => Any::Null,
        Value::Bool(b) => Any::Bool(*b),
        Value::Number(n) => Any::from(n.as_f64().unwrap_or(0.0)),
        Value::String(s) => Any::from(s.as_str()),
        Value::Array(items) => Any::Array(items.iter().map(json_to_any).collect()),
        Value::Object(map) => Any::Map(std::sync::Arc::new(
            map.iter().map(|(k, v)| (k.clone(), json_to_any(v))).collect(),
        )),
    }
}
