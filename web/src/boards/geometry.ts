// Pure helpers of the canvas: the viewport, boxes, and a board with in-progress changes (drags,
// resizes, rotations, mine or someone else's) laid over it before they are written.
import { Board, type Point, type Shape } from "./model";

/** What part of the board the screen shows: the world point at the top-left, and the zoom. */
export interface View {
  x: number;
  y: number;
  zoom: number;
}

export const MIN_ZOOM = 0.1;
export const MAX_ZOOM = 4;

export function clampZoom(z: number): number {
  return Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, z));
}

export function toWorld(view: View, sx: number, sy: number): Point {
  return [view.x + sx / view.zoom, view.y + sy / view.zoom];
}

/** Zooms by `factor` keeping the world point under screen point (sx, sy) in place. */
export function zoomAt(view: View, factor: number, sx: number, sy: number): View {
  const zoom = clampZoom(view.zoom * factor);
  const [wx, wy] = toWorld(view, sx, sy);
  return { x: wx - sx / zoom, y: wy - sy / zoom, zoom };
}

export type Box = [number, number, number, number];

export function boxOf(a: Point, b: Point): Box {
  return [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.abs(a[0] - b[0]), Math.abs(a[1] - b[1])];
}

export function intersects(a: Box, b: Box): boolean {
  return a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3];
}

export function contains(b: Box, p: Point): boolean {
  return p[0] >= b[0] && p[0] <= b[0] + b[2] && p[1] >= b[1] && p[1] <= b[1] + b[3];
}

/** The box a shape covers as drawn (a connector's from its ends). */
export function shapeBox(board: Board, s: Shape): Box {
  if (s.kind === "connector" && s.from && s.to) {
    const [f, t] = board.resolveEnds(s.from, s.to);
    return boxOf(f.xy, t.xy);
  }
  return board.absBox(s);
}

export function union(boxes: Box[]): Box | null {
  if (boxes.length === 0) return null;
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y, w, h] of boxes) {
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x + w);
    y1 = Math.max(y1, y + h);
  }
  return [x0, y0, x1 - x0, y1 - y0];
}

/** Changes shown before they are written. */
export interface Overlay {
  moves: { ids: string[]; by: Point }[];
  resize: { id: string; xy: Point; wh: Point } | null;
  rotate: { id: string; rot: number } | null;
}

export const NO_OVERLAY: Overlay = { moves: [], resize: null, rotate: null };

/** The board with the overlay applied, following the model's move rule (a frame carries its
 * children; a connector's loose ends move with it). Shapes it does not touch keep identity. */
export function overlaid(board: Board, overlay: Overlay): Board {
  if (overlay.moves.length === 0 && !overlay.resize && !overlay.rotate) return board;
  const next = new Map(board.shapes);
  for (const { ids, by } of overlay.moves) {
    const moving = new Set(ids);
    for (const id of ids) {
      const s = next.get(id);
      if (!s || s.locked) continue;
      const frame = board.frameOf(s);
      if (frame && moving.has(frame.id)) continue;
      if (s.kind === "connector") {
        const shift = (e: Shape["from"]) =>
          e && !board.attached(e) ? { ...e, xy: [e.xy[0] + by[0], e.xy[1] + by[1]] as Point } : e;
        next.set(id, { ...s, from: shift(s.from), to: shift(s.to) });
      } else {
        next.set(id, { ...s, xy: [s.xy[0] + by[0], s.xy[1] + by[1]] });
      }
    }
  }
  if (overlay.resize) {
    const s = next.get(overlay.resize.id);
    if (s && !s.locked) next.set(s.id, { ...s, xy: overlay.resize.xy, wh: overlay.resize.wh });
  }
  if (overlay.rotate) {
    const s = next.get(overlay.rotate.id);
    if (s && !s.locked) next.set(s.id, { ...s, rot: overlay.rotate.rot });
  }
  return new Board(next, board.version);
}
