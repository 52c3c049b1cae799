// The shared board vectors (crates/doc/tests/board-vectors.json), which the Rust model passes
// too: the same operations on replicas with the same client ids, synced, draw the same board.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { generateKeyBetween } from "fractional-indexing";
import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { apply, Board, type Op, type Resolved } from "./model";

interface Vectors {
  keys: { a: string | null; b: string | null; key?: string; error?: boolean }[];
  boards: {
    name: string;
    replicas: Record<string, number>;
    steps: ({ sync: boolean } | { on: string; do: Op })[];
    expect: { order?: string[]; shapes?: Record<string, unknown>; absent?: string[] };
  }[];
}

const vectors = JSON.parse(
  // Vitest runs in web/.
  readFileSync(join(process.cwd(), "../crates/doc/tests/board-vectors.json"), "utf8"),
) as Vectors;

/** `actual` holds every field of `expected`, numbers equal within 1e-9. */
function contains(actual: unknown, expected: unknown): boolean {
  if (typeof expected === "number") {
    return typeof actual === "number" && Math.abs(actual - expected) < 1e-9;
  }
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((e, i) => contains(actual[i], e))
    );
  }
  if (typeof expected === "object" && expected !== null) {
    if (typeof actual !== "object" || actual === null) return false;
    const a = actual as Record<string, unknown>;
    return Object.entries(expected).every(([k, v]) => k in a && contains(a[k], v));
  }
  return actual === expected;
}

function syncAll(docs: Y.Doc[]) {
  const updates = docs.map((d) => Y.encodeStateAsUpdate(d));
  for (const doc of docs) for (const u of updates) Y.applyUpdate(doc, u);
}

describe("order keys", () => {
  it("are the npm package's, which the Rust port matches", () => {
    for (const c of vectors.keys) {
      if (c.error) expect(() => generateKeyBetween(c.a, c.b), `${c.a} ${c.b}`).toThrow();
      else expect(generateKeyBetween(c.a, c.b), `${c.a} ${c.b}`).toBe(c.key);
    }
  });
});

describe("board vectors", () => {
  for (const v of vectors.boards) {
    it(v.name, () => {
      const docs = new Map<string, Y.Doc>();
      for (const [name, id] of Object.entries(v.replicas)) {
        const doc = new Y.Doc();
        doc.clientID = id;
        docs.set(name, doc);
      }
      for (const step of v.steps) {
        if ("sync" in step) {
          if (step.sync) syncAll([...docs.values()]);
        } else {
          const doc = docs.get(step.on);
          if (!doc) throw new Error(`no replica ${step.on}`);
          apply(doc, step.do);
        }
      }
      const drawn = [...docs.values()].map((d) => Board.read(d).resolve());
      for (const other of drawn.slice(1)) expect(other).toEqual(drawn[0]);
      const board = drawn[0] as Resolved[];
      const byId = new Map(board.map((s) => [s.id, s]));
      for (const s of board) {
        for (const end of [s.from, s.to]) {
          if (end?.shape) expect(byId.has(end.shape), `dangling end in ${s.id}`).toBe(true);
        }
      }
      if (v.expect.order) expect(board.map((s) => s.id)).toEqual(v.expect.order);
      for (const id of v.expect.absent ?? []) expect(byId.has(id), `${id} gone`).toBe(false);
      for (const [id, expected] of Object.entries(v.expect.shapes ?? {})) {
        const actual = byId.get(id);
        expect(actual, `${id} present`).toBeDefined();
        expect(contains(actual, expected), `${id}: ${JSON.stringify(actual)}`).toBe(true);
      }
      expect(Board.read(docs.values().next().value as Y.Doc).version).toBe(1);
    });
  }
});
