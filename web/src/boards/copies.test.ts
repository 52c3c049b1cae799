// Copy and paste, duplicate, and templates: what they add to a board, through the model.
import type { TFunction } from "i18next";
import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { copies } from "./Canvas";
import { apply, Board, type NewShape, type Shape } from "./model";
import { TEMPLATES, template } from "./templates";

function must(shape: Shape | null | undefined): Shape {
  if (!shape) throw new Error("shape missing");
  return shape;
}

function boardWith(shapes: NewShape[]): Y.Doc {
  const doc = new Y.Doc();
  for (const shape of shapes) apply(doc, { op: "add", shape });
  return doc;
}

describe("copies", () => {
  const doc = boardWith([
    { id: "f", type: "frame", xy: [0, 0], wh: [400, 300], text: "Ideas" },
    { id: "s", type: "sticky", parent: "f", xy: [20, 20], wh: [100, 100], text: "Clay" },
    { id: "r", type: "rect", xy: [600, 0], wh: [100, 100] },
    {
      id: "c",
      type: "connector",
      from: { shape: "s", xy: [0, 0] },
      to: { shape: "r", xy: [0, 0] },
    },
  ]);
  const board = Board.read(doc);

  it("takes a frame's children along and keeps references inside the copy", () => {
    const made = copies(board, ["f", "c"], [10, 10]);
    expect(made.map((s) => s.type).sort()).toEqual(["connector", "frame", "sticky"]);
    const ids = new Set(made.map((s) => s.id));
    expect(ids.has("f") || ids.has("s") || ids.has("c")).toBe(false);
    const frame = made.find((s) => s.type === "frame");
    const sticky = made.find((s) => s.type === "sticky");
    const connector = made.find((s) => s.type === "connector");
    expect(frame?.xy).toEqual([10, 10]);
    // The child stays relative to its (new) frame.
    expect(sticky?.parent).toBe(frame?.id);
    expect(sticky?.xy).toEqual([20, 20]);
    // An end on a copied shape follows the copy; an end on a shape left behind is loose where
    // it was drawn.
    expect(connector?.from?.shape).toBe(sticky?.id);
    expect(connector?.to?.shape).toBeNull();
    const drawnTo = board.resolveEnds(
      board.shapes.get("c")?.from ?? { shape: null, anchor: null, xy: [0, 0] },
      board.shapes.get("c")?.to ?? { shape: null, anchor: null, xy: [0, 0] },
    )[1].xy;
    expect(connector?.to?.xy).toEqual([drawnTo[0] + 10, drawnTo[1] + 10]);
  });

  it("pastes into the same board as new shapes, the originals untouched", () => {
    const made = copies(board, ["f"], [500, 0]);
    for (const shape of made) apply(doc, { op: "add", shape });
    const after = Board.read(doc);
    expect(after.shapes.size).toBe(board.shapes.size + 2);
    const pastedSticky = made.find((s) => s.type === "sticky");
    const drawn = after.resolveShape(must(after.shapes.get(pastedSticky?.id ?? "")));
    expect(drawn.xy).toEqual([520, 20]);
    expect(after.absXy(must(after.shapes.get("s")))).toEqual([20, 20]);
  });
});

describe("templates", () => {
  const t = ((key: string) => key) as unknown as TFunction;
  for (const kind of TEMPLATES) {
    it(`${kind} lays its notes inside its frames, around the point asked`, () => {
      const shapes = template(kind, [1000, 1000], t);
      const doc = boardWith(shapes);
      const board = Board.read(doc);
      const frames = [...board.shapes.values()].filter((s) => s.kind === "frame");
      expect(frames.length).toBeGreaterThan(0);
      for (const s of board.shapes.values()) {
        if (s.kind === "frame") continue;
        const frame = board.frameOf(s);
        expect(frame, `${s.kind} ${s.id} in a frame`).not.toBeNull();
        const [x, y] = board.absXy(s);
        const [fx, fy, fw, fh] = board.absBox(must(frame));
        expect(x >= fx && y >= fy && x + s.wh[0] <= fx + fw && y + s.wh[1] <= fy + fh).toBe(true);
      }
      const mid =
        (Math.min(...frames.map((f) => f.xy[0])) +
          Math.max(...frames.map((f) => f.xy[0] + f.wh[0]))) /
        2;
      expect(Math.abs(mid - 1000)).toBeLessThan(1);
    });
  }
});
