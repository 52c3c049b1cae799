// A board document seen as a value React can render: a `Board` snapshot that changes only
// where the document changed (the other shapes keep their identity, so their components do
// not re-render), the server's meta values, and the user's own undo history.
import * as Y from "yjs";
import { apply, Board, META, type Op, readShape, SHAPES, type Shape } from "./model";

export interface Timer {
  ends_at: number;
  seconds: number;
}

export interface VoteCopy {
  id: string;
  open: boolean;
  dots_per_person: number;
  n_cast: number;
  n_voters: number;
  results: Record<string, number> | null;
}

/** This browser's changes, which its undo manager tracks (and nobody else's). */
export const LOCAL = Symbol("local board change");

export class BoardStore {
  private board: Board;
  private listeners = new Set<() => void>();
  readonly undo: Y.UndoManager;
  private meta: { timer: Timer | null; vote: VoteCopy | null } = { timer: null, vote: null };

  constructor(readonly doc: Y.Doc) {
    this.board = Board.read(doc);
    this.readMeta();
    const shapes = doc.getMap<Y.Map<unknown>>(SHAPES);
    shapes.observeDeep(this.onShapes);
    doc.getMap(META).observe(this.onMeta);
    this.undo = new Y.UndoManager(shapes, {
      trackedOrigins: new Set([LOCAL]),
      captureTimeout: 400,
    });
  }

  destroy() {
    this.doc.getMap(SHAPES).unobserveDeep(this.onShapes);
    this.doc.getMap(META).unobserve(this.onMeta);
    this.undo.destroy();
  }

  private onShapes = (events: Y.YEvent<Y.AbstractType<unknown>>[]) => {
    const shapes = this.doc.getMap<Y.Map<unknown>>(SHAPES);
    const changed = new Set<string>();
    for (const event of events) {
      if (event.target === shapes) {
        for (const key of event.changes.keys.keys()) changed.add(key);
      } else {
        const id = event.path[0];
        if (typeof id === "string") changed.add(id);
      }
    }
    if (changed.size === 0) return;
    const next = new Map(this.board.shapes);
    for (const id of changed) {
      const map = shapes.get(id);
      const shape = map instanceof Y.Map ? readShape(id, map) : null;
      if (shape) next.set(id, shape);
      else next.delete(id);
    }
    this.board = new Board(next, this.board.version);
    this.notify();
  };

  private onMeta = () => {
    this.readMeta();
    this.notify();
  };

  private readMeta() {
    const meta = this.doc.getMap(META);
    const timer = meta.get("timer") as Timer | undefined;
    const vote = meta.get("vote") as VoteCopy | undefined;
    this.meta = {
      timer: timer && typeof timer.ends_at === "number" ? timer : null,
      vote: vote && typeof vote.id === "string" ? vote : null,
    };
  }

  private notify() {
    for (const listener of this.listeners) listener();
  }

  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  snapshot = () => this.board;
  timer = () => this.meta.timer;
  vote = () => this.meta.vote;

  /** Makes a change as this user: one step of their undo (and nobody else's). */
  apply(op: Op) {
    this.batch([op]);
  }

  /** Several changes as one step of undo. Typing merges into steps by time; a discrete
   * change never merges with the one before or after it. */
  batch(ops: Op[]) {
    this.undo.stopCapturing();
    this.doc.transact(() => {
      for (const op of ops) apply(this.doc, op, LOCAL);
    }, LOCAL);
    this.undo.stopCapturing();
  }

  shape(id: string): Shape | undefined {
    return this.board.shapes.get(id);
  }

  /** Edits a shape's text in place (character changes, so concurrent typing merges). */
  editText(id: string, next: string) {
    const map = this.doc.getMap(SHAPES).get(id);
    if (!(map instanceof Y.Map) || map.get("locked") === true) return;
    this.doc.transact(() => {
      let text = map.get("text");
      if (!(text instanceof Y.Text)) {
        text = new Y.Text();
        map.set("text", text);
      }
      const y = text as Y.Text;
      const prev = y.toString();
      let start = 0;
      while (start < prev.length && start < next.length && prev[start] === next[start]) start++;
      let endPrev = prev.length;
      let endNext = next.length;
      while (endPrev > start && endNext > start && prev[endPrev - 1] === next[endNext - 1]) {
        endPrev--;
        endNext--;
      }
      if (endPrev > start) y.delete(start, endPrev - start);
      if (endNext > start) y.insert(start, next.slice(start, endNext));
    }, LOCAL);
  }
}
