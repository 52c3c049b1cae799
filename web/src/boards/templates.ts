// Workshop templates: frames and notes laid out around a point, in the interface language.
import type { TFunction } from "i18next";
import type { Box } from "./geometry";
import type { NewShape, Point } from "./model";

export const TEMPLATES = ["brainstorm", "retrospective", "canvas"] as const;
export type TemplateKind = (typeof TEMPLATES)[number];

export const STICKY_COLORS = ["#fef08a", "#fbcfe8", "#bae6fd", "#bbf7d0", "#fed7aa", "#ddd6fe"];

export function newId(): string {
  return crypto.randomUUID().replaceAll("-", "").slice(0, 16);
}

function frame(title: string, xy: Point, wh: Point): NewShape {
  return { id: newId(), type: "frame", xy, wh, text: title };
}

function sticky(parent: string, xy: Point, fill: string, text = ""): NewShape {
  return { id: newId(), type: "sticky", parent, xy, wh: [160, 160], style: { fill }, text };
}

/** The shapes of a template centred on `at`. */
export function template(kind: TemplateKind, at: Point, t: TFunction): NewShape[] {
  const out: NewShape[] = [];
  const place = (w: number, h: number): Point => [at[0] - w / 2, at[1] - h / 2];
  switch (kind) {
    case "brainstorm": {
      const f = frame(t("board.template.brainstorm"), place(760, 620), [760, 620]);
      out.push(f);
      out.push({
        id: newId(),
        type: "text",
        parent: f.id,
        xy: [40, 30],
        wh: [680, 60],
        style: { size: 28 },
        text: t("board.template.question"),
      });
      for (let i = 0; i < 6; i++) {
        const color = STICKY_COLORS[i % STICKY_COLORS.length] ?? "#fef08a";
        out.push(sticky(f.id, [40 + (i % 3) * 240, 130 + Math.floor(i / 3) * 230], color));
      }
      break;
    }
    case "retrospective": {
      const columns = [
        [t("board.template.wentWell"), "#bbf7d0"],
        [t("board.template.toImprove"), "#fed7aa"],
        [t("board.template.actions"), "#bae6fd"],
      ] as const;
      const [x, y] = place(3 * 300 + 2 * 40, 640);
      columns.forEach(([title, color], i) => {
        const f = frame(title, [x + i * 340, y], [300, 640]);
        out.push(f, sticky(f.id, [70, 60], color), sticky(f.id, [70, 260], color));
      });
      break;
    }
    case "canvas": {
      const cells = [
        t("board.template.problem"),
        t("board.template.audience"),
        t("board.template.activities"),
        t("board.template.partners"),
        t("board.template.budget"),
        t("board.template.impact"),
      ];
      const [x, y] = place(3 * 360 + 2 * 30, 2 * 360 + 30);
      cells.forEach((title, i) => {
        const f = frame(title, [x + (i % 3) * 390, y + Math.floor(i / 3) * 390], [360, 360]);
        out.push(f, sticky(f.id, [100, 100], STICKY_COLORS[i % STICKY_COLORS.length] ?? "#fef08a"));
      });
      break;
    }
  }
  return out;
}

/** Where a template lands: where it was asked (the middle of the view) when nothing on the
 * board is there, otherwise just right of everything on the board, top-aligned with it, so it
 * never covers anyone's notes. Only the template's top-level shapes move; the rest sit inside
 * them. Returns the shapes and the box they take. */
export function inFreeSpace(shapes: NewShape[], taken: Box[], gap = 80): [NewShape[], Box] {
  const top = shapes.filter((s) => !s.parent);
  if (top.length === 0) return [shapes, [0, 0, 0, 0]];
  const xy = (s: NewShape): Point => s.xy ?? [0, 0];
  const wh = (s: NewShape): Point => s.wh ?? [0, 0];
  const x0 = Math.min(...top.map((s) => xy(s)[0]));
  const y0 = Math.min(...top.map((s) => xy(s)[1]));
  const x1 = Math.max(...top.map((s) => xy(s)[0] + wh(s)[0]));
  const y1 = Math.max(...top.map((s) => xy(s)[1] + wh(s)[1]));
  const [w, h] = [x1 - x0, y1 - y0];
  const overlaps = (bx: number, by: number) =>
    taken.some(
      ([x, y, tw, th]) =>
        bx < x + tw + gap && x < bx + w + gap && by < y + th + gap && y < by + h + gap,
    );
  if (!overlaps(x0, y0)) return [shapes, [x0, y0, w, h]];
  const right = Math.max(...taken.map(([x, , tw]) => x + tw)) + gap;
  const topY = Math.min(...taken.map(([, y]) => y));
  const [dx, dy] = [right - x0, topY - y0];
  const moved = shapes.map((s) =>
    s.parent ? s : { ...s, xy: [xy(s)[0] + dx, xy(s)[1] + dy] as Point },
  );
  return [moved, [right, topY, w, h]];
}
