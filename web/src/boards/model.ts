// The board model: what a board document holds and the rules for reading and changing it.
// This is the client's copy of `crates/doc/src/board` (the Rust module documents the layout);
// both pass the shared vectors in `crates/doc/tests/board-vectors.json`, so a board reads and
// changes the same in the browser, on the server and in every export.
import { generateKeyBetween } from "fractional-indexing";
import * as Y from "yjs";

export const VERSION = 1;
export const META = "meta";
export const SHAPES = "shapes";

export const SHAPE_KINDS = [
  "sticky",
  "rect",
  "ellipse",
  "diamond",
  "text",
  "image",
  "pen",
  "frame",
  "connector",
] as const;
export type ShapeKind = (typeof SHAPE_KINDS)[number];

export type Point = [number, number];
export type Style = Record<string, unknown>;

export interface End {
  shape: string | null;
  anchor: Point | null;
  xy: Point;
}

/** One shape as stored (coordinates relative to its frame, if any). */
export interface Shape {
  id: string;
  kind: ShapeKind;
  z: string;
  xy: Point;
  wh: Point;
  rot: number;
  parent: string | null;
  style: Style;
  text: string;
  points: number[];
  asset: string | null;
  from: End | null;
  to: End | null;
  locked: boolean;
}

export interface ResolvedEnd {
  /** Always a shape on the board, or null for a loose end. */
  shape: string | null;
  xy: Point;
}

/** A shape as drawn: absolute position, connector ends resolved. */
export interface Resolved {
  id: string;
  type: ShapeKind;
  z: string;
  parent: string | null;
  xy: Point;
  wh: Point;
  rot: number;
  style: Style;
  text: string;
  points: number[];
  asset: string | null;
  from: ResolvedEnd | null;
  to: ResolvedEnd | null;
  locked: boolean;
}

export interface NewShape {
  id: string;
  type: ShapeKind;
  z?: string;
  xy?: Point;
  wh?: Point;
  rot?: number;
  parent?: string | null;
  style?: Style;
  text?: string;
  points?: number[];
  asset?: string;
  from?: { shape?: string | null; anchor?: Point | null; xy?: Point };
  to?: { shape?: string | null; anchor?: Point | null; xy?: Point };
  locked?: boolean;
}

export type Op =
  | { op: "add"; shape: NewShape }
  | { op: "move"; ids: string[]; by: Point }
  | { op: "resize"; id: string; xy: Point; wh: Point }
  | { op: "rotate"; id: string; rot: number }
  | { op: "restyle"; ids: string[]; style: Style }
  | { op: "text"; id: string; text: string }
  | { op: "reorder"; id: string; to: "front" | "back" }
  | { op: "delete"; ids: string[] }
  | { op: "reparent"; id: string; frame: string | null }
  | { op: "lock"; ids: string[]; locked: boolean };

/** Whether `key` is a well-formed order key (the fractional-indexing package's format). */
export function isValidKey(key: string): boolean {
  if (!/^[0-9A-Za-z]+$/.test(key)) return false;
  try {
    generateKeyBetween(key, null);
    return true;
  } catch {
    return false;
  }
}

function isNumber(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

function pair(v: unknown): Point | null {
  return Array.isArray(v) && v.length === 2 && isNumber(v[0]) && isNumber(v[1])
    ? [v[0], v[1]]
    : null;
}

function readEnd(v: unknown): End | null {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return null;
  const e = v as Record<string, unknown>;
  return {
    shape: typeof e.shape === "string" ? e.shape : null,
    anchor: pair(e.anchor),
    xy: pair(e.xy) ?? [0, 0],
  };
}

/** One shape out of its Y.Map; null for a type this version does not know. */
export function readShape(id: string, map: Y.Map<unknown>): Shape | null {
  const kind = map.get("type");
  if (typeof kind !== "string" || !(SHAPE_KINDS as readonly string[]).includes(kind)) return null;
  const text = map.get("text");
  const style = map.get("style");
  const points = map.get("points");
  const str = (key: string) => {
    const v = map.get(key);
    return typeof v === "string" ? v : null;
  };
  const rot = map.get("rot");
  return {
    id,
    kind: kind as ShapeKind,
    z: str("z") ?? "",
    xy: pair(map.get("xy")) ?? [0, 0],
    wh: pair(map.get("wh")) ?? [0, 0],
    rot: isNumber(rot) ? rot : 0,
    parent: str("parent"),
    style:
      typeof style === "object" && style !== null && !Array.isArray(style) ? (style as Style) : {},
    text: text instanceof Y.Text ? text.toString() : typeof text === "string" ? text : "",
    points: Array.isArray(points) ? points.filter(isNumber) : [],
    asset: str("asset"),
    from: readEnd(map.get("from")),
    to: readEnd(map.get("to")),
    locked: map.get("locked") === true,
  };
}

/** A point at fraction `anchor` of box `b`, turned with the shape by `rot` degrees. */
function anchorPoint(b: [number, number, number, number], anchor: Point, rot: number): Point {
  const cx = b[0] + b[2] / 2;
  const cy = b[1] + b[3] / 2;
  const dx = b[2] * (anchor[0] - 0.5);
  const dy = b[3] * (anchor[1] - 0.5);
  const r = (rot * Math.PI) / 180;
  const sin = Math.sin(r);
  const cos = Math.cos(r);
  return [cx + dx * cos - dy * sin, cy + dx * sin + dy * cos];
}

/** Where the segment from the centre of box `b` toward `toward` leaves the box. */
function exitPoint(b: [number, number, number, number], toward: Point): Point {
  const cx = b[0] + b[2] / 2;
  const cy = b[1] + b[3] / 2;
  const dx = toward[0] - cx;
  const dy = toward[1] - cy;
  let t = 1;
  if (dx !== 0) t = Math.min(t, b[2] / 2 / Math.abs(dx));
  if (dy !== 0) t = Math.min(t, b[3] / 2 / Math.abs(dy));
  return [cx + dx * t, cy + dy * t];
}

/** Compares like Rust's `str::cmp` on these ASCII ids and keys. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A board read out of its document. */
export class Board {
  constructor(
    readonly shapes: ReadonlyMap<string, Shape>,
    readonly version: number,
  ) {}

  static read(doc: Y.Doc): Board {
    const version = doc.getMap(META).get("version");
    const shapes = new Map<string, Shape>();
    doc.getMap<Y.Map<unknown>>(SHAPES).forEach((value, id) => {
      if (value instanceof Y.Map) {
        const shape = readShape(id, value);
        if (shape) shapes.set(id, shape);
      }
    });
    return new Board(shapes, isNumber(version) ? version : 0);
  }

  /** The frame a shape is drawn in: its `parent`, if that is an existing frame. */
  frameOf(shape: Shape): Shape | null {
    if (shape.parent === null || shape.kind === "frame") return null;
    const parent = this.shapes.get(shape.parent);
    return parent?.kind === "frame" ? parent : null;
  }

  absXy(shape: Shape): Point {
    const frame = this.frameOf(shape);
    return frame ? [frame.xy[0] + shape.xy[0], frame.xy[1] + shape.xy[1]] : shape.xy;
  }

  absBox(shape: Shape): [number, number, number, number] {
    const [x, y] = this.absXy(shape);
    return [x, y, shape.wh[0], shape.wh[1]];
  }

  childrenOf(frame: string): string[] {
    const ids: string[] = [];
    for (const s of this.shapes.values()) {
      if (s.parent === frame && this.frameOf(s)) ids.push(s.id);
    }
    return ids.sort(cmp);
  }

  /** Every shape in drawing order: frames first, then the rest, each by (z, id). */
  ordered(): Shape[] {
    const layer = (s: Shape) => (s.kind === "frame" ? 0 : 1);
    return [...this.shapes.values()].sort(
      (a, b) => layer(a) - layer(b) || cmp(a.z, b.z) || cmp(a.id, b.id),
    );
  }

  maxZ(): string | null {
    let max: string | null = null;
    for (const s of this.shapes.values()) {
      if (isValidKey(s.z) && (max === null || s.z > max)) max = s.z;
    }
    return max;
  }

  minZ(): string | null {
    let min: string | null = null;
    for (const s of this.shapes.values()) {
      if (isValidKey(s.z) && (min === null || s.z < min)) min = s.z;
    }
    return min;
  }

  resolve(): Resolved[] {
    return this.ordered().map((s) => this.resolveShape(s));
  }

  resolveShape(shape: Shape): Resolved {
    let from: ResolvedEnd | null = null;
    let to: ResolvedEnd | null = null;
    if (shape.from && shape.to) [from, to] = this.resolveEnds(shape.from, shape.to);
    return {
      id: shape.id,
      type: shape.kind,
      z: shape.z,
      parent: this.frameOf(shape)?.id ?? null,
      xy: this.absXy(shape),
      wh: shape.wh,
      rot: shape.rot,
      style: shape.style,
      text: shape.text,
      points: shape.points,
      asset: shape.asset,
      from,
      to,
      locked: shape.locked,
    };
  }

  attached(end: End): Shape | null {
    if (end.shape === null) return null;
    const s = this.shapes.get(end.shape);
    return s && s.kind !== "connector" ? s : null;
  }

  private aim(end: End): Point {
    const shape = this.attached(end);
    if (!shape) return end.xy;
    const b = this.absBox(shape);
    return end.anchor ? anchorPoint(b, end.anchor, shape.rot) : [b[0] + b[2] / 2, b[1] + b[3] / 2];
  }

  private resolveEnd(end: End, toward: Point): ResolvedEnd {
    const shape = this.attached(end);
    if (!shape) return { shape: null, xy: end.xy };
    const xy = end.anchor ? this.aim(end) : exitPoint(this.absBox(shape), toward);
    return { shape: shape.id, xy };
  }

  resolveEnds(from: End, to: End): [ResolvedEnd, ResolvedEnd] {
    const aimFrom = this.aim(from);
    const aimTo = this.aim(to);
    return [this.resolveEnd(from, aimTo), this.resolveEnd(to, aimFrom)];
  }

  /** Every id deleting `ids` removes: those shapes and the children of deleted frames. */
  deletionClosure(ids: string[]): Set<string> {
    const unlocked = (id: string) => {
      const s = this.shapes.get(id);
      return s !== undefined && !s.locked;
    };
    const out = new Set(ids.filter(unlocked));
    for (const id of ids) {
      if (unlocked(id) && this.shapes.get(id)?.kind === "frame") {
        for (const child of this.childrenOf(id)) if (unlocked(child)) out.add(child);
      }
    }
    return out;
  }
}

function endValue(end: End): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (end.shape !== null) out.shape = end.shape;
  if (end.anchor !== null) out.anchor = [...end.anchor];
  out.xy = [...end.xy];
  return out;
}

function shapeMap(doc: Y.Doc, id: string): Y.Map<unknown> | null {
  const value = doc.getMap(SHAPES).get(id);
  return value instanceof Y.Map ? (value as Y.Map<unknown>) : null;
}

function editable(doc: Y.Doc, id: string): Y.Map<unknown> | null {
  const map = shapeMap(doc, id);
  return map && map.get("locked") !== true ? map : null;
}

function setText(map: Y.Map<unknown>, text: string) {
  const existing = map.get("text");
  if (existing instanceof Y.Text) {
    existing.delete(0, existing.length);
    existing.insert(0, text);
  } else {
    map.set("text", new Y.Text(text));
  }
}

function topKey(doc: Y.Doc): string | null {
  let top: string | null = null;
  doc.getMap(SHAPES).forEach((value) => {
    if (!(value instanceof Y.Map)) return;
    const z = value.get("z");
    if (typeof z === "string" && isValidKey(z) && (top === null || z > top)) top = z;
  });
  return top;
}

/** Applies one change as one transaction (`origin` marks it for the undo manager). */
export function apply(doc: Y.Doc, op: Op, origin: unknown = null): void {
  doc.transact(() => {
    const meta = doc.getMap(META);
    if (meta.get("version") === undefined) meta.set("version", VERSION);
    const shapes = doc.getMap(SHAPES);
    switch (op.op) {
      case "add": {
        const s = op.shape;
        const map = new Y.Map<unknown>();
        map.set("type", s.type);
        map.set("z", s.z ?? generateKeyBetween(topKey(doc), null));
        map.set("xy", [...(s.xy ?? [0, 0])]);
        map.set("wh", [...(s.wh ?? [0, 0])]);
        map.set("rot", s.rot ?? 0);
        map.set("style", { ...(s.style ?? {}) });
        if (s.parent) map.set("parent", s.parent);
        if (s.points && s.points.length > 0) map.set("points", [...s.points]);
        if (s.asset) map.set("asset", s.asset);
        for (const key of ["from", "to"] as const) {
          const end = s[key];
          if (end) {
            map.set(
              key,
              endValue({
                shape: end.shape ?? null,
                anchor: end.anchor ?? null,
                xy: end.xy ?? [0, 0],
              }),
            );
          }
        }
        if (s.locked) map.set("locked", true);
        map.set("text", new Y.Text(s.text ?? ""));
        shapes.set(s.id, map);
        break;
      }
      case "move": {
        const board = Board.read(doc);
        const moving = new Set(op.ids);
        for (const id of op.ids) {
          const shape = board.shapes.get(id);
          if (!shape || shape.locked) continue;
          const frame = board.frameOf(shape);
          if (frame && moving.has(frame.id)) continue;
          const map = shapeMap(doc, id);
          if (!map) continue;
          if (shape.kind === "connector") {
            for (const key of ["from", "to"] as const) {
              const end = shape[key];
              if (end && !board.attached(end)) {
                map.set(
                  key,
                  endValue({
                    shape: null,
                    anchor: null,
                    xy: [end.xy[0] + op.by[0], end.xy[1] + op.by[1]],
                  }),
                );
              }
            }
          } else {
            map.set("xy", [shape.xy[0] + op.by[0], shape.xy[1] + op.by[1]]);
          }
        }
        break;
      }
      case "resize": {
        const map = editable(doc, op.id);
        if (map) {
          map.set("xy", [...op.xy]);
          map.set("wh", [...op.wh]);
        }
        break;
      }
      case "rotate":
        editable(doc, op.id)?.set("rot", op.rot);
        break;
      case "restyle":
        for (const id of op.ids) {
          const map = editable(doc, id);
          if (!map) continue;
          const style = map.get("style");
          const base = typeof style === "object" && style !== null ? (style as Style) : {};
          map.set("style", { ...base, ...op.style });
        }
        break;
      case "text": {
        const map = editable(doc, op.id);
        if (map) setText(map, op.text);
        break;
      }
      case "reorder": {
        const board = Board.read(doc);
        const shape = board.shapes.get(op.id);
        if (!shape || shape.locked) break;
        const key =
          op.to === "front"
            ? generateKeyBetween(board.maxZ(), null)
            : generateKeyBetween(null, board.minZ());
        shapeMap(doc, op.id)?.set("z", key);
        break;
      }
      case "delete": {
        const board = Board.read(doc);
        const gone = board.deletionClosure(op.ids);
        for (const shape of board.shapes.values()) {
          if (shape.kind !== "connector" || gone.has(shape.id) || !shape.from || !shape.to)
            continue;
          const [rf, rt] = board.resolveEnds(shape.from, shape.to);
          const map = shapeMap(doc, shape.id);
          for (const [key, end] of [
            ["from", rf],
            ["to", rt],
          ] as const) {
            if (end.shape !== null && gone.has(end.shape)) {
              map?.set(key, endValue({ shape: null, anchor: null, xy: end.xy }));
            }
          }
        }
        for (const id of [...gone].sort(cmp)) shapes.delete(id);
        break;
      }
      case "reparent": {
        const board = Board.read(doc);
        const shape = board.shapes.get(op.id);
        if (!shape || shape.locked || shape.kind === "frame" || shape.kind === "connector") break;
        const target = op.frame === null ? null : board.shapes.get(op.frame);
        if (op.frame !== null && target?.kind !== "frame") break;
        const abs = board.absXy(shape);
        const map = shapeMap(doc, op.id);
        if (!map) break;
        if (target) {
          map.set("parent", target.id);
          map.set("xy", [abs[0] - target.xy[0], abs[1] - target.xy[1]]);
        } else {
          map.delete("parent");
          map.set("xy", [...abs]);
        }
        break;
      }
      case "lock":
        for (const id of op.ids) shapeMap(doc, id)?.set("locked", op.locked);
        break;
    }
  }, origin);
}
