import type { TFunction } from "i18next";
import { describe, expect, it } from "vitest";
import type { Box } from "./geometry";
import { inFreeSpace, template } from "./templates";

const t = ((key: string) => key) as unknown as TFunction;

/** The box the template's top-level shapes take. */
function extent(shapes: ReturnType<typeof template>): Box {
  const top = shapes.filter((s) => !s.parent);
  const x0 = Math.min(...top.map((s) => s.xy?.[0] ?? 0));
  const y0 = Math.min(...top.map((s) => s.xy?.[1] ?? 0));
  const x1 = Math.max(...top.map((s) => (s.xy?.[0] ?? 0) + (s.wh?.[0] ?? 0)));
  const y1 = Math.max(...top.map((s) => (s.xy?.[1] ?? 0) + (s.wh?.[1] ?? 0)));
  return [x0, y0, x1 - x0, y1 - y0];
}

const overlap = (a: Box, b: Box) =>
  a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3];

describe("a template lands in free space", () => {
  it("where it was asked on an empty stretch of board", () => {
    const asked = template("brainstorm", [0, 0], t);
    const [placed, box] = inFreeSpace(asked, [[5000, 5000, 100, 100]]);
    expect(placed).toEqual(asked);
    expect(box).toEqual(extent(asked));
  });

  it("beside everything else when notes are where it was asked, covering none", () => {
    const taken: Box[] = [
      [-100, -100, 200, 200],
      [300, -400, 160, 160],
      [-900, 200, 160, 160],
    ];
    for (const kind of ["brainstorm", "retrospective", "canvas"] as const) {
      const [placed, box] = inFreeSpace(template(kind, [0, 0], t), taken);
      expect(extent(placed)).toEqual(box);
      for (const b of taken) expect(overlap(box, b), `${kind} covers ${b}`).toBe(false);
      // Children stay inside their frames: only top-level shapes moved.
      const children = placed.filter((s) => s.parent);
      expect(children.length).toBeGreaterThan(0);
      for (const c of children) expect(placed.some((f) => f.id === c.parent)).toBe(true);
    }
  });
});
