// The board canvas: pan and zoom, the tools, selection, moving, resizing and rotating, text
// editing, copy and paste, and everyone else's cursors and drags. Changes are written to the
// document when a gesture ends; while it lasts it travels through awareness.
import {
  type ClipboardEvent as ReactClipboardEvent,
  type KeyboardEvent as ReactKeyboardEvent,
  type PointerEvent as ReactPointerEvent,
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
} from "react";
import { useTranslation } from "react-i18next";
import type { Awareness } from "y-protocols/awareness";
import {
  type Box,
  boxOf,
  contains,
  intersects,
  NO_OVERLAY,
  type Overlay,
  overlaid,
  shapeBox,
  toWorld,
  union,
  type View,
  zoomAt,
} from "./geometry";
import type { Board, NewShape, Op, Point, Shape, ShapeKind } from "./model";
import { type Marks, ShapesLayer } from "./Shapes";
import type { BoardStore } from "./store";
import { newId } from "./templates";

export type Tool =
  | "select"
  | "sticky"
  | "rect"
  | "ellipse"
  | "diamond"
  | "text"
  | "pen"
  | "connector"
  | "frame";

export const TOOL_KEYS: Record<string, Tool> = {
  v: "select",
  s: "sticky",
  r: "rect",
  o: "ellipse",
  d: "diamond",
  t: "text",
  p: "pen",
  c: "connector",
  f: "frame",
};

const DEFAULT_SIZE: Record<string, Point> = {
  sticky: [180, 180],
  rect: [200, 120],
  ellipse: [180, 120],
  diamond: [180, 140],
  text: [260, 50],
  frame: [640, 480],
};

/** What another participant's awareness says. */
export interface Remote {
  clientId: number;
  name: string;
  color: string;
  cursor: Point | null;
  viewport: View | null;
  drag: { ids: string[]; by: Point } | null;
  summon: number | null;
}

export function readRemotes(awareness: Awareness): Remote[] {
  const out: Remote[] = [];
  for (const [clientId, raw] of awareness.getStates()) {
    if (clientId === awareness.clientID) continue;
    const st = raw as Record<string, unknown>;
    const user = st.user as { name?: unknown; color?: unknown } | undefined;
    if (typeof user?.name !== "string") continue;
    const point = (v: unknown): Point | null =>
      Array.isArray(v) && typeof v[0] === "number" && typeof v[1] === "number"
        ? [v[0], v[1]]
        : null;
    const vp = st.viewport as View | undefined;
    const drag = st.drag as { ids?: unknown; by?: unknown } | undefined;
    const by = point(drag?.by);
    out.push({
      clientId,
      name: user.name,
      color: typeof user.color === "string" ? user.color : "#ccc",
      cursor: point(st.cursor),
      viewport: vp && typeof vp.zoom === "number" && typeof vp.x === "number" ? vp : null,
      drag:
        drag && Array.isArray(drag.ids) && by
          ? { ids: drag.ids.filter((i) => typeof i === "string"), by }
          : null,
      summon: typeof st.summon === "number" ? st.summon : null,
    });
  }
  return out;
}

type Gesture =
  | { kind: "move"; ids: string[]; start: Point; by: Point; moved: boolean }
  | { kind: "marquee"; start: Point; end: Point; additive: boolean }
  | { kind: "pan"; sx: number; sy: number; view: View }
  | { kind: "resize"; id: string; corner: string; box: Box; rel: Point; current: Box }
  | { kind: "rotate"; id: string; center: Point; rot: number }
  | { kind: "pen"; points: Point[] }
  | { kind: "connect"; from: { shape: string | null; xy: Point }; to: Point; over: string | null }
  | { kind: "vote" };

export interface CanvasProps {
  store: BoardStore;
  awareness: Awareness;
  editable: boolean;
  canFacilitate: boolean;
  tool: Tool;
  setTool: (tool: Tool) => void;
  selection: ReadonlySet<string>;
  setSelection: (ids: ReadonlySet<string>) => void;
  view: View;
  setView: (view: View, byUser: boolean) => void;
  marks: Marks;
  /** Set while a vote is open and the user places dots: a click votes, alt-click takes back. */
  onVote: ((shape: string, delta: 1 | -1) => void) | null;
  onPasteImage: (file: File, at: Point) => void;
}

const CLIPBOARD_PREFIX = "hubring-board:v1:";

/** The shapes of `ids` as fresh shapes offset by `by`: new ids, references kept inside the
 * set, connector ends to shapes outside it made loose where they are drawn. */
export function copies(board: Board, ids: Iterable<string>, by: Point): NewShape[] {
  const picked = new Set<string>();
  for (const id of ids) {
    const s = board.shapes.get(id);
    if (!s) continue;
    picked.add(id);
    if (s.kind === "frame") for (const c of board.childrenOf(id)) picked.add(c);
  }
  const fresh = new Map([...picked].map((id) => [id, newId()]));
  const out: NewShape[] = [];
  for (const s of board.ordered()) {
    if (!picked.has(s.id)) continue;
    const id = fresh.get(s.id) ?? newId();
    const frame = board.frameOf(s);
    const keepParent = frame !== null && picked.has(frame.id);
    const abs = board.absXy(s);
    const xy: Point = keepParent ? s.xy : [abs[0] + by[0], abs[1] + by[1]];
    const shape: NewShape = {
      id,
      type: s.kind,
      xy,
      wh: s.wh,
      rot: s.rot,
      style: s.style,
      text: s.text,
      points: s.points,
      parent: keepParent && frame ? (fresh.get(frame.id) ?? null) : null,
    };
    if (s.asset) shape.asset = s.asset;
    if (s.kind === "connector" && s.from && s.to) {
      const resolved = board.resolveEnds(s.from, s.to);
      const end = (e: typeof s.from, r: (typeof resolved)[0]) =>
        r.shape !== null && picked.has(r.shape)
          ? {
              shape: fresh.get(r.shape) ?? null,
              anchor: e?.anchor ?? null,
              xy: [r.xy[0] + by[0], r.xy[1] + by[1]] as Point,
            }
          : { shape: null, xy: [r.xy[0] + by[0], r.xy[1] + by[1]] as Point };
      shape.from = end(s.from, resolved[0]);
      shape.to = end(s.to, resolved[1]);
    }
    out.push(shape);
  }
  return out;
}

export function Canvas(props: CanvasProps) {
  const { store, awareness, editable, tool, selection, setSelection, view, setView } = props;
  const { t } = useTranslation();
  const board = useSyncExternalStore(store.subscribe, store.snapshot);
  const host = useRef<HTMLDivElement>(null);
  const [gesture, setGesture] = useState<Gesture | null>(null);
  const gestureRef = useRef<Gesture | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  // Focuses a note's editor once, as it opens (not on every render).
  const focusEditor = useCallback((el: HTMLTextAreaElement | null) => {
    el?.focus({ preventScroll: true });
  }, []);
  const [remotes, setRemotes] = useState<Remote[]>([]);
  const [size, setSize] = useState<[number, number]>([800, 600]);
  const spaceHeld = useRef(false);
  const viewRef = useRef(view);
  viewRef.current = view;
  const cursorWorld = useRef<Point>([0, 0]);

  const update = useCallback((g: Gesture | null) => {
    gestureRef.current = g;
    setGesture(g);
  }, []);

  useEffect(() => {
    const read = () => setRemotes(readRemotes(awareness));
    read();
    awareness.on("change", read);
    return () => awareness.off("change", read);
  }, [awareness]);

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setSize([el.clientWidth, el.clientHeight]));
    observer.observe(el);
    setSize([el.clientWidth, el.clientHeight]);
    return () => observer.disconnect();
  }, []);

  // My viewport, for those who follow me.
  useEffect(() => {
    awareness.setLocalStateField("viewport", {
      ...view,
      w: size[0] / view.zoom,
      h: size[1] / view.zoom,
    });
  }, [awareness, view, size]);

  // What my gesture moves, for the others to see while it lasts.
  const myDrag = useMemo(
    () => (gesture?.kind === "move" && gesture.moved ? { ids: gesture.ids, by: gesture.by } : null),
    [gesture],
  );
  useEffect(() => {
    awareness.setLocalStateField("drag", myDrag);
  }, [awareness, myDrag]);

  const overlay: Overlay = useMemo(() => {
    const moves = remotes.flatMap((r) => (r.drag ? [r.drag] : []));
    if (myDrag) moves.push(myDrag);
    const resize =
      gesture?.kind === "resize"
        ? (() => {
            const s = board.shapes.get(gesture.id);
            if (!s) return null;
            const [x, y, w, h] = gesture.current;
            return {
              id: gesture.id,
              xy: [x - gesture.rel[0], y - gesture.rel[1]] as Point,
              wh: [w, h] as Point,
            };
          })()
        : null;
    const rotate = gesture?.kind === "rotate" ? { id: gesture.id, rot: gesture.rot } : null;
    if (moves.length === 0 && !resize && !rotate) return NO_OVERLAY;
    return { moves, resize, rotate };
  }, [remotes, gesture, board, myDrag]);
  const drawn = useMemo(() => overlaid(board, overlay), [board, overlay]);

  const screenPoint = (e: { clientX: number; clientY: number }): [number, number] => {
    const rect = host.current?.getBoundingClientRect();
    return [e.clientX - (rect?.left ?? 0), e.clientY - (rect?.top ?? 0)];
  };
  const worldPoint = (e: { clientX: number; clientY: number }): Point => {
    const [sx, sy] = screenPoint(e);
    return toWorld(view, sx, sy);
  };

  /** The shape an event landed on (frames take no events on their body: see the CSS). */
  const shapeAt = (target: EventTarget | null): Shape | null => {
    const el = (target as Element | null)?.closest?.("[data-shape-id]");
    const id = el?.getAttribute("data-shape-id");
    return id ? (board.shapes.get(id) ?? null) : null;
  };

  /** The frame whose area contains a point, topmost first. */
  const frameAt = (p: Point, except: Set<string>): string | null => {
    const frames = board.ordered().filter((s) => s.kind === "frame" && !except.has(s.id));
    for (let i = frames.length - 1; i >= 0; i--) {
      const f = frames[i];
      if (f && contains(board.absBox(f), p)) return f.id;
    }
    return null;
  };

  const add = (shape: NewShape, select = true) => {
    const ops: Op[] = [{ op: "add", shape }];
    const [w, h] = shape.wh ?? [0, 0];
    const center: Point = [(shape.xy?.[0] ?? 0) + w / 2, (shape.xy?.[1] ?? 0) + h / 2];
    if (shape.type !== "frame" && shape.type !== "connector" && !shape.parent) {
      const frame = frameAt(center, new Set());
      if (frame) ops.push({ op: "reparent", id: shape.id, frame });
    }
    store.batch(ops);
    if (select) setSelection(new Set([shape.id]));
  };

  const onPointerDown = (e: ReactPointerEvent<HTMLDivElement>) => {
    if ((e.target as Element).closest(".board-editor")) return;
    // The canvas manages focus itself: a new note's editor keeps it.
    e.preventDefault();
    host.current?.focus({ preventScroll: true });
    const p = worldPoint(e);
    const handle = (e.target as Element).closest("[data-handle]")?.getAttribute("data-handle");
    (e.currentTarget as HTMLDivElement).setPointerCapture(e.pointerId);
    if (e.button === 1 || spaceHeld.current) {
      const [sx, sy] = screenPoint(e);
      update({ kind: "pan", sx, sy, view });
      return;
    }
    const hit = shapeAt(e.target);
    if (props.onVote && hit && tool === "select") {
      props.onVote(hit.id, e.altKey ? -1 : 1);
      update({ kind: "vote" });
      return;
    }
    if (handle && selection.size === 1 && editable) {
      const id = [...selection][0] ?? "";
      const s = board.shapes.get(id);
      if (s && !s.locked) {
        const box = board.absBox(s);
        if (handle === "rotate") {
          update({
            kind: "rotate",
            id,
            center: [box[0] + box[2] / 2, box[1] + box[3] / 2],
            rot: s.rot,
          });
        } else {
          const abs = board.absXy(s);
          update({
            kind: "resize",
            id,
            corner: handle,
            box,
            rel: [abs[0] - s.xy[0], abs[1] - s.xy[1]],
            current: box,
          });
        }
        return;
      }
    }
    if (!editable || tool === "select") {
      if (hit) {
        let next = new Set(selection);
        if (e.shiftKey) {
          if (next.has(hit.id)) next.delete(hit.id);
          else next.add(hit.id);
        } else if (!next.has(hit.id)) {
          next = new Set([hit.id]);
        }
        setSelection(next);
        if (editable) {
          const ids = [...next].filter((id) => !board.shapes.get(id)?.locked);
          if (ids.length > 0) update({ kind: "move", ids, start: p, by: [0, 0], moved: false });
        }
      } else {
        update({ kind: "marquee", start: p, end: p, additive: e.shiftKey });
      }
      return;
    }
    if (tool === "pen") {
      update({ kind: "pen", points: [p] });
      return;
    }
    if (tool === "connector") {
      const from =
        hit && hit.kind !== "connector" ? { shape: hit.id, xy: p } : { shape: null, xy: p };
      update({ kind: "connect", from, to: p, over: null });
      return;
    }
    const kind = tool as ShapeKind;
    const wh = DEFAULT_SIZE[kind] ?? [160, 120];
    // Centred where clicked, but whole in view: a frame keeps room above it for its title
    // (placed near the top edge, its title was cut off).
    const margin = 8 / view.zoom;
    const above = kind === "frame" ? 32 / view.zoom : margin;
    const shape: NewShape = {
      id: newId(),
      type: kind,
      xy: [Math.max(view.x + margin, p[0] - wh[0] / 2), Math.max(view.y + above, p[1] - wh[1] / 2)],
      wh,
      text: "",
    };
    if (kind === "frame") shape.text = t("board.frame");
    add(shape);
    props.setTool("select");
    if (kind === "sticky" || kind === "text") setEditing(shape.id);
  };

  const onPointerMove = (e: ReactPointerEvent<HTMLDivElement>) => {
    const p = worldPoint(e);
    cursorWorld.current = p;
    awareness.setLocalStateField("cursor", [Math.round(p[0]), Math.round(p[1])]);
    const g = gestureRef.current;
    if (!g) return;
    switch (g.kind) {
      case "pan": {
        const [sx, sy] = screenPoint(e);
        setView(
          {
            ...g.view,
            x: g.view.x - (sx - g.sx) / g.view.zoom,
            y: g.view.y - (sy - g.sy) / g.view.zoom,
          },
          true,
        );
        break;
      }
      case "move": {
        const by: Point = [p[0] - g.start[0], p[1] - g.start[1]];
        update({ ...g, by, moved: g.moved || Math.hypot(by[0], by[1]) * view.zoom > 3 });
        break;
      }
      case "marquee":
        update({ ...g, end: p });
        break;
      case "resize": {
        const [x, y, w, h] = g.box;
        let [x0, y0, x1, y1] = [x, y, x + w, y + h];
        if (g.corner.includes("w")) x0 = Math.min(p[0], x1 - 10);
        if (g.corner.includes("e")) x1 = Math.max(p[0], x0 + 10);
        if (g.corner.includes("n")) y0 = Math.min(p[1], y1 - 10);
        if (g.corner.includes("s")) y1 = Math.max(p[1], y0 + 10);
        update({ ...g, current: [x0, y0, x1 - x0, y1 - y0] });
        break;
      }
      case "rotate": {
        let deg = (Math.atan2(p[1] - g.center[1], p[0] - g.center[0]) * 180) / Math.PI + 90;
        if (e.shiftKey) deg = Math.round(deg / 15) * 15;
        update({ ...g, rot: Math.round(((deg % 360) + 360) % 360) });
        break;
      }
      case "pen": {
        const last = g.points[g.points.length - 1];
        if (!last || Math.hypot(p[0] - last[0], p[1] - last[1]) * view.zoom > 2) {
          update({ ...g, points: [...g.points, p] });
        }
        break;
      }
      case "connect": {
        // The canvas holds the pointer capture, so the event's target is the canvas itself.
        const over = shapeAt(document.elementFromPoint(e.clientX, e.clientY));
        update({
          ...g,
          to: p,
          over: over && over.kind !== "connector" && over.id !== g.from.shape ? over.id : null,
        });
        break;
      }
      case "vote":
        break;
    }
  };

  const onPointerUp = () => {
    const g = gestureRef.current;
    update(null);
    if (!g) return;
    switch (g.kind) {
      case "move": {
        if (!g.moved) break;
        const ops: Op[] = [{ op: "move", ids: g.ids, by: g.by }];
        // Dropped into (or out of) a frame: the shape now belongs to it.
        const after = overlaid(board, { ...NO_OVERLAY, moves: [{ ids: g.ids, by: g.by }] });
        const moving = new Set(g.ids);
        for (const id of g.ids) {
          const s = after.shapes.get(id);
          if (!s || s.kind === "frame" || s.kind === "connector" || s.locked) continue;
          const current = after.frameOf(s);
          if (current && moving.has(current.id)) continue;
          const [x, y, w, h] = after.absBox(s);
          const target = frameAt([x + w / 2, y + h / 2], moving);
          if (target !== (current?.id ?? null)) ops.push({ op: "reparent", id, frame: target });
        }
        store.batch(ops);
        break;
      }
      case "marquee": {
        const box = boxOf(g.start, g.end);
        if (box[2] * view.zoom < 3 && box[3] * view.zoom < 3) {
          if (!g.additive) setSelection(new Set());
          break;
        }
        const next = new Set(g.additive ? selection : []);
        for (const s of board.shapes.values()) {
          const b = shapeBox(board, s);
          const inside =
            b[0] >= box[0] &&
            b[1] >= box[1] &&
            b[0] + b[2] <= box[0] + box[2] &&
            b[1] + b[3] <= box[1] + box[3];
          // A straight horizontal or vertical connector has a flat box: touching it is enough.
          if (inside || (s.kind !== "frame" && intersects(b, box) && b[2] * b[3] < 1))
            next.add(s.id);
        }
        setSelection(next);
        break;
      }
      case "resize": {
        const [x, y, w, h] = g.current;
        store.apply({ op: "resize", id: g.id, xy: [x - g.rel[0], y - g.rel[1]], wh: [w, h] });
        break;
      }
      case "rotate":
        store.apply({ op: "rotate", id: g.id, rot: g.rot });
        break;
      case "pen": {
        if (g.points.length < 2) break;
        const xs = g.points.map((q) => q[0]);
        const ys = g.points.map((q) => q[1]);
        const x0 = Math.min(...xs);
        const y0 = Math.min(...ys);
        const points = g.points.flatMap((q) => [Math.round(q[0] - x0), Math.round(q[1] - y0)]);
        add(
          {
            id: newId(),
            type: "pen",
            xy: [x0, y0],
            wh: [Math.max(...xs) - x0, Math.max(...ys) - y0],
            points,
          },
          false,
        );
        break;
      }
      case "connect": {
        if (Math.hypot(g.to[0] - g.from.xy[0], g.to[1] - g.from.xy[1]) * view.zoom < 8) break;
        const to = g.over ? { shape: g.over, xy: g.to } : { shape: null, xy: g.to };
        const id = newId();
        store.apply({ op: "add", shape: { id, type: "connector", from: g.from, to } });
        setSelection(new Set([id]));
        props.setTool("select");
        break;
      }
      case "pan":
      case "vote":
        break;
    }
  };

  // Wheel: pan; with Ctrl (or a pinch) zoom about the pointer. Passive listeners cannot
  // prevent the page from zooming, so this one is added by hand.
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const rect = el.getBoundingClientRect();
      if (e.ctrlKey || e.metaKey) {
        props.setView(
          zoomAt(
            viewRef.current,
            Math.exp(-e.deltaY / 300),
            e.clientX - rect.left,
            e.clientY - rect.top,
          ),
          true,
        );
      } else {
        const v = viewRef.current;
        props.setView({ ...v, x: v.x + e.deltaX / v.zoom, y: v.y + e.deltaY / v.zoom }, true);
      }
    };
    el.addEventListener("wheel", onWheel, { passive: false });
    return () => el.removeEventListener("wheel", onWheel);
  }, [props.setView]);

  const selected = [...selection].flatMap((id) => {
    const s = drawn.shapes.get(id);
    return s ? [s] : [];
  });

  const duplicate = () => {
    const made = copies(board, selection, [24, 24]);
    if (made.length === 0) return;
    store.batch(made.map((shape) => ({ op: "add", shape }) as Op));
    setSelection(
      new Set(
        made.filter((s) => !s.parent || !made.some((m) => m.id === s.parent)).map((s) => s.id),
      ),
    );
  };

  const onKeyDown = (e: ReactKeyboardEvent<HTMLDivElement>) => {
    if (editing || (e.target as Element).closest("input, textarea, select, button")) return;
    const mod = e.ctrlKey || e.metaKey;
    const key = e.key.toLowerCase();
    if (e.key === " ") {
      spaceHeld.current = true;
      e.preventDefault();
      return;
    }
    if (mod && key === "z") {
      e.preventDefault();
      if (e.shiftKey) store.undo.redo();
      else store.undo.undo();
      return;
    }
    if (mod && key === "y") {
      e.preventDefault();
      store.undo.redo();
      return;
    }
    if (mod && key === "a") {
      e.preventDefault();
      setSelection(new Set(board.shapes.keys()));
      return;
    }
    if (mod && key === "d" && editable) {
      e.preventDefault();
      duplicate();
      return;
    }
    if (mod && key === "l" && props.canFacilitate && selection.size > 0) {
      e.preventDefault();
      const lock = selected.some((s) => !s.locked);
      store.apply({ op: "lock", ids: [...selection], locked: lock });
      return;
    }
    if ((e.key === "Delete" || e.key === "Backspace") && editable && selection.size > 0) {
      e.preventDefault();
      store.apply({ op: "delete", ids: [...selection] });
      setSelection(new Set());
      return;
    }
    if (e.key === "Escape") {
      setSelection(new Set());
      props.setTool("select");
      return;
    }
    if (e.key === "Enter" && selection.size === 1 && editable) {
      e.preventDefault();
      setEditing([...selection][0] ?? null);
      return;
    }
    if (e.key.startsWith("Arrow") && editable && selection.size > 0) {
      e.preventDefault();
      const step = e.shiftKey ? 10 : 1;
      const by: Point = [
        e.key === "ArrowLeft" ? -step : e.key === "ArrowRight" ? step : 0,
        e.key === "ArrowUp" ? -step : e.key === "ArrowDown" ? step : 0,
      ];
      store.apply({ op: "move", ids: [...selection], by });
      return;
    }
    if ((e.key === "]" || e.key === "[") && editable) {
      for (const id of selection)
        store.apply({ op: "reorder", id, to: e.key === "]" ? "front" : "back" });
      return;
    }
    if (!mod && (e.key === "+" || e.key === "=" || e.key === "-" || e.key === "0")) {
      const factor = e.key === "-" ? 1 / 1.25 : 1.25;
      setView(
        e.key === "0" ? { ...view, zoom: 1 } : zoomAt(view, factor, size[0] / 2, size[1] / 2),
        true,
      );
      return;
    }
    const next = TOOL_KEYS[key];
    if (!mod && next && editable) props.setTool(next);
  };

  const onKeyUp = (e: ReactKeyboardEvent<HTMLDivElement>) => {
    if (e.key === " ") spaceHeld.current = false;
  };

  const onCopy = (e: ReactClipboardEvent<HTMLDivElement>, cut: boolean) => {
    if (editing || selection.size === 0) return;
    e.preventDefault();
    const made = copies(board, selection, [0, 0]);
    e.clipboardData.setData("text/plain", CLIPBOARD_PREFIX + JSON.stringify(made));
    if (cut && editable) {
      store.apply({ op: "delete", ids: [...selection] });
      setSelection(new Set());
    }
  };

  const onPaste = (e: ReactClipboardEvent<HTMLDivElement>) => {
    if (editing || !editable) return;
    const file = [...e.clipboardData.files].find((f) => f.type.startsWith("image/"));
    if (file) {
      e.preventDefault();
      props.onPasteImage(file, cursorWorld.current);
      return;
    }
    const text = e.clipboardData.getData("text/plain");
    if (!text.startsWith(CLIPBOARD_PREFIX)) {
      if (text.trim()) {
        e.preventDefault();
        const [x, y] = cursorWorld.current;
        add({
          id: newId(),
          type: "sticky",
          xy: [x - 90, y - 90],
          wh: [180, 180],
          text: text.slice(0, 2000),
        });
      }
      return;
    }
    e.preventDefault();
    try {
      const shapes = JSON.parse(text.slice(CLIPBOARD_PREFIX.length)) as NewShape[];
      const tops = shapes.filter((s) => !s.parent);
      const box = union(
        tops.map((s) => [s.xy?.[0] ?? 0, s.xy?.[1] ?? 0, s.wh?.[0] ?? 0, s.wh?.[1] ?? 0] as Box),
      );
      const [cx, cy] = cursorWorld.current;
      const by: Point = box ? [cx - box[0] - box[2] / 2, cy - box[1] - box[3] / 2] : [24, 24];
      const ids = new Map(shapes.map((s) => [s.id, newId()]));
      const shift = (p: Point | undefined): Point => [(p?.[0] ?? 0) + by[0], (p?.[1] ?? 0) + by[1]];
      const fresh = shapes.map((s) => {
        const out: NewShape = { ...s, id: ids.get(s.id) ?? newId(), z: undefined };
        if (s.parent) out.parent = ids.get(s.parent) ?? null;
        else out.xy = shift(s.xy);
        if (s.from)
          out.from = {
            ...s.from,
            shape: s.from.shape ? (ids.get(s.from.shape) ?? null) : null,
            xy: shift(s.from.xy),
          };
        if (s.to)
          out.to = {
            ...s.to,
            shape: s.to.shape ? (ids.get(s.to.shape) ?? null) : null,
            xy: shift(s.to.xy),
          };
        return out;
      });
      store.batch(fresh.map((shape) => ({ op: "add", shape }) as Op));
      setSelection(new Set(fresh.filter((s) => !s.parent).map((s) => s.id)));
    } catch {
      // Not ours after all: ignore.
    }
  };

  // What is drawn: the screen and half a screen around it, in steps of half a screen, so
  // panning redraws the shapes only when it crosses a step (and never at all while the whole
  // board is on screen).
  const stepW = size[0] / view.zoom / 2;
  const stepH = size[1] / view.zoom / 2;
  const qx = Math.floor(view.x / stepW) * stepW - stepW;
  const qy = Math.floor(view.y / stepH) * stepH - stepH;
  const visible: Box = useMemo(() => [qx, qy, stepW * 5, stepH * 5], [qx, qy, stepW, stepH]);
  const box = union(selected.map((s) => shapeBox(drawn, s)));
  const single = selected.length === 1 ? selected[0] : undefined;
  const handle = 10 / view.zoom;
  const editingShape = editing ? drawn.shapes.get(editing) : undefined;

  return (
    <div
      ref={host}
      className={`board-canvas tool-${tool}${gesture?.kind === "pan" ? " panning" : ""}`}
      data-testid="board-canvas"
      // biome-ignore lint/a11y/noNoninteractiveTabindex: the canvas takes the board's keyboard shortcuts
      tabIndex={0}
      role="application"
      aria-label={t("board.canvas")}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerUp}
      onPointerCancel={() => update(null)}
      onPointerLeave={() => awareness.setLocalStateField("cursor", null)}
      onDoubleClick={(e) => {
        // The canvas captures the pointer on pointerdown, so the click's target is the canvas
        // itself: the shape is the one under the pointer.
        const hit = shapeAt(e.target) ?? shapeAt(document.elementFromPoint(e.clientX, e.clientY));
        if (hit && editable && !hit.locked && hit.kind !== "pen" && hit.kind !== "image")
          setEditing(hit.id);
      }}
      onKeyDown={onKeyDown}
      onKeyUp={onKeyUp}
      onCopy={(e) => onCopy(e, false)}
      onCut={(e) => onCopy(e, true)}
      onPaste={onPaste}
    >
      <svg className="board-svg" width="100%" height="100%" aria-hidden="true">
        <defs>
          <pattern id="board-grid" width={40} height={40} patternUnits="userSpaceOnUse">
            <circle cx={1} cy={1} r={1} fill="#cbd5e1" />
          </pattern>
        </defs>
        <g
          transform={`scale(${view.zoom}) translate(${-view.x} ${-view.y})`}
          data-testid="board-world"
        >
          <rect
            x={view.x}
            y={view.y}
            width={size[0] / view.zoom}
            height={size[1] / view.zoom}
            fill="url(#board-grid)"
          />
          <ShapesLayer
            board={drawn}
            marks={props.marks}
            visible={visible}
            detail={view.zoom >= 0.45}
          />
          {box && (
            <g className="selection">
              <rect
                x={box[0]}
                y={box[1]}
                width={box[2]}
                height={box[3]}
                strokeWidth={1.5 / view.zoom}
              />
              {single && single.kind !== "connector" && editable && !single.locked && (
                <>
                  {(["nw", "ne", "sw", "se"] as const).map((c) => (
                    <rect
                      key={c}
                      data-handle={c}
                      className={`handle handle-${c}`}
                      x={(c.includes("w") ? box[0] : box[0] + box[2]) - handle / 2}
                      y={(c.includes("n") ? box[1] : box[1] + box[3]) - handle / 2}
                      width={handle}
                      height={handle}
                      strokeWidth={1 / view.zoom}
                    />
                  ))}
                  {single.kind !== "frame" && (
                    <circle
                      data-handle="rotate"
                      className="handle"
                      cx={box[0] + box[2] / 2}
                      cy={box[1] - 28 / view.zoom}
                      r={handle / 1.6}
                      strokeWidth={1 / view.zoom}
                    />
                  )}
                </>
              )}
            </g>
          )}
          {gesture?.kind === "marquee" && (
            <rect
              className="marquee"
              {...rectProps(boxOf(gesture.start, gesture.end))}
              strokeWidth={1 / view.zoom}
            />
          )}
          {gesture?.kind === "pen" && (
            <polyline
              className="pen-preview"
              points={gesture.points.map((q) => q.join(",")).join(" ")}
              strokeWidth={3}
            />
          )}
          {gesture?.kind === "connect" && (
            <line
              className="connect-preview"
              x1={gesture.from.xy[0]}
              y1={gesture.from.xy[1]}
              x2={gesture.to[0]}
              y2={gesture.to[1]}
              strokeWidth={2 / view.zoom}
            />
          )}
        </g>
      </svg>
      {remotes.map((r) =>
        r.cursor ? (
          <div
            key={r.clientId}
            className="remote-cursor"
            data-testid="remote-cursor"
            data-name={r.name}
            style={{
              transform: `translate(${(r.cursor[0] - view.x) * view.zoom}px, ${(r.cursor[1] - view.y) * view.zoom}px)`,
            }}
          >
            <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true">
              <path
                d="M0 0 L0 13 L4 9 L7 15 L9 14 L6 8 L12 8 Z"
                fill={r.color}
                stroke="#111827"
                strokeWidth="1"
              />
            </svg>
            <span style={{ background: r.color }}>{r.name}</span>
          </div>
        ) : null,
      )}
      {editingShape && (
        <textarea
          key={editingShape.id}
          className="board-editor"
          data-testid="text-editor"
          aria-label={t("board.editText")}
          ref={focusEditor}
          defaultValue={editingShape.text}
          style={{
            left: (drawn.absXy(editingShape)[0] - view.x) * view.zoom,
            top: (drawn.absXy(editingShape)[1] - view.y) * view.zoom,
            width: Math.max(editingShape.wh[0], 120) * view.zoom,
            height: Math.max(editingShape.wh[1], 40) * view.zoom,
            fontSize: 18 * view.zoom,
          }}
          onChange={(e) => store.editText(editingShape.id, e.target.value)}
          onBlur={(e) => {
            // What the field holds is written once more as it closes: a phone keyboard may
            // commit its last word (the end of a composition) without an input event.
            store.editText(editingShape.id, e.currentTarget.value);
            setEditing(null);
          }}
          onKeyDown={(e) => {
            if (e.key === "Escape" || (e.key === "Enter" && (e.ctrlKey || e.metaKey))) {
              e.preventDefault();
              setEditing(null);
              host.current?.focus({ preventScroll: true });
            }
          }}
        />
      )}
    </div>
  );
}

function rectProps([x, y, width, height]: Box) {
  return { x, y, width, height };
}
