// Drawing a board: one memoised component per shape, given only what it draws, so a change to
// one shape re-renders that shape and the connectors, never the other thousands; panning
// re-renders none of them.
import { memo } from "react";
import { type Box, boxOf, intersects } from "./geometry";
import type { Board, Point, Shape } from "./model";

/** Style colours the drawing accepts: hex only, so nothing else reaches an attribute. */
export function color(value: unknown, fallback: string): string {
  return typeof value === "string" && /^#[0-9a-fA-F]{3,8}$/.test(value) ? value : fallback;
}

function size(value: unknown, fallback: number): number {
  return typeof value === "number" && value > 0 && value < 400 ? value : fallback;
}

export interface Marks {
  /** My dots per shape while a vote is open. */
  mine: Record<string, number>;
  /** Everyone's dots per shape once it closed. */
  results: Record<string, number> | null;
}

const Label = memo(function Label(props: {
  text: string;
  w: number;
  h: number;
  x: number;
  y: number;
  fontSize: number;
  ink: string;
  center: boolean;
}) {
  if (!props.text) return null;
  return (
    <foreignObject
      x={props.x}
      y={props.y}
      width={Math.max(props.w, 1)}
      height={Math.max(props.h, 1)}
    >
      <div
        className={props.center ? "board-text center" : "board-text"}
        style={{ fontSize: props.fontSize, color: props.ink }}
      >
        {props.text}
      </div>
    </foreignObject>
  );
});

const ShapeView = memo(function ShapeView({
  shape,
  x,
  y,
  detail,
}: {
  shape: Shape;
  x: number;
  y: number;
  /** Words are drawn only when they can be read: below that zoom they cost without showing. */
  detail: boolean;
}) {
  const [w, h] = shape.wh;
  const cx = x + w / 2;
  const cy = y + h / 2;
  const fill = (d: string) => color(shape.style.fill, d);
  const stroke = color(shape.style.stroke, "#1f2937");
  const ink = color(shape.style.color, "#111827");
  let body: React.ReactNode = null;
  switch (shape.kind) {
    case "sticky":
      body = (
        <>
          <rect x={x} y={y} width={w} height={h} rx={4} fill={fill("#fef08a")} className="sticky" />
          {detail && (
            <Label
              text={shape.text}
              x={x + 12}
              y={y + 12}
              w={w - 24}
              h={h - 24}
              fontSize={size(shape.style.size, 18)}
              ink={ink}
              center={false}
            />
          )}
        </>
      );
      break;
    case "rect":
    case "ellipse":
    case "diamond": {
      const common = { fill: fill("#ffffff"), stroke, strokeWidth: 2 };
      body = (
        <>
          {shape.kind === "rect" && <rect x={x} y={y} width={w} height={h} rx={2} {...common} />}
          {shape.kind === "ellipse" && (
            <ellipse cx={cx} cy={cy} rx={w / 2} ry={h / 2} {...common} />
          )}
          {shape.kind === "diamond" && (
            <polygon points={`${cx},${y} ${x + w},${cy} ${cx},${y + h} ${x},${cy}`} {...common} />
          )}
          {detail && (
            <Label
              text={shape.text}
              x={x + 8}
              y={y + 8}
              w={w - 16}
              h={h - 16}
              fontSize={size(shape.style.size, 16)}
              ink={ink}
              center
            />
          )}
        </>
      );
      break;
    }
    case "text":
      body = (
        <>
          <rect x={x} y={y} width={w} height={h} fill="transparent" />
          {detail && (
            <Label
              text={shape.text}
              x={x}
              y={y}
              w={w}
              h={h}
              fontSize={size(shape.style.size, 20)}
              ink={ink}
              center={false}
            />
          )}
        </>
      );
      break;
    case "frame":
      body = (
        <>
          <rect x={x} y={y} width={w} height={h} fill={fill("#ffffff")} className="frame-body" />
          <text x={x} y={y - 8} className="frame-title">
            {shape.text || "\u00a0"}
          </text>
        </>
      );
      break;
    case "image":
      body = shape.asset ? (
        <image
          x={x}
          y={y}
          width={w}
          height={h}
          href={`/api/v1/assets/${shape.asset}`}
          preserveAspectRatio="xMidYMid meet"
        />
      ) : (
        <rect x={x} y={y} width={w} height={h} fill="#e2e8f0" />
      );
      break;
    case "pen": {
      const pts: string[] = [];
      for (let i = 0; i + 1 < shape.points.length; i += 2) {
        pts.push(`${x + (shape.points[i] ?? 0)},${y + (shape.points[i + 1] ?? 0)}`);
      }
      body = (
        <polyline
          points={pts.join(" ")}
          fill="none"
          stroke={stroke}
          strokeWidth={size(shape.style.width, 3)}
          strokeLinecap="round"
          strokeLinejoin="round"
        />
      );
      break;
    }
    case "connector":
      break;
  }
  return (
    <g
      data-shape-id={shape.id}
      data-type={shape.kind}
      data-x={Math.round(x)}
      data-y={Math.round(y)}
      data-w={Math.round(w)}
      data-h={Math.round(h)}
      data-locked={shape.locked || undefined}
      transform={shape.rot ? `rotate(${shape.rot} ${cx} ${cy})` : undefined}
    >
      {body}
      {shape.locked && (
        <g className="lock-mark" transform={`translate(${x + w - 18} ${y + 4})`}>
          <path d="M3 7 V4.5 a4 4 0 0 1 8 0 V7" fill="none" strokeWidth={1.6} />
          <rect x={1} y={7} width={12} height={8} rx={1.5} />
        </g>
      )}
    </g>
  );
});

const ConnectorView = memo(function ConnectorView(props: {
  shape: Shape;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}) {
  const { shape, x1, y1, x2, y2 } = props;
  const stroke = color(shape.style.stroke, "#1f2937");
  const len = Math.hypot(x2 - x1, y2 - y1) || 1;
  const ux = (x2 - x1) / len;
  const uy = (y2 - y1) / len;
  const bx = x2 - ux * 12;
  const by = y2 - uy * 12;
  const head = `${x2},${y2} ${bx - uy * 6},${by + ux * 6} ${bx + uy * 6},${by - ux * 6}`;
  return (
    <g
      data-shape-id={shape.id}
      data-type="connector"
      data-x1={Math.round(x1)}
      data-y1={Math.round(y1)}
      data-x2={Math.round(x2)}
      data-y2={Math.round(y2)}
      data-from={shape.from?.shape ?? undefined}
      data-to={shape.to?.shape ?? undefined}
    >
      <line x1={x1} y1={y1} x2={x2} y2={y2} stroke="transparent" strokeWidth={14} />
      <line x1={x1} y1={y1} x2={x2} y2={y2} stroke={stroke} strokeWidth={2} />
      {shape.style.head !== "none" && <polygon points={head} fill={stroke} />}
      {shape.text && (
        <text
          x={(x1 + x2) / 2}
          y={(y1 + y2) / 2 - 6}
          textAnchor="middle"
          className="connector-label"
        >
          {shape.text}
        </text>
      )}
    </g>
  );
});

const Dots = memo(function Dots({ at, n, mine }: { at: Point; n: number; mine: boolean }) {
  return (
    <g className={mine ? "dots mine" : "dots"} data-dots={n}>
      <circle cx={at[0]} cy={at[1]} r={13} />
      <text x={at[0]} y={at[1] + 5} textAnchor="middle">
        {n}
      </text>
    </g>
  );
});

/** Every shape in drawing order, with vote dots on top. */
export const ShapesLayer = memo(function ShapesLayer({
  board,
  marks,
  visible,
  detail,
}: {
  board: Board;
  marks: Marks;
  /** The part of the board worth drawing (the screen and a margin); everything when null. */
  visible: Box | null;
  detail: boolean;
}) {
  const seen = (b: Box) => {
    if (!visible) return true;
    // A turned shape reaches at most half its diagonal from its centre.
    const r = Math.hypot(b[2], b[3]) / 2;
    const cx = b[0] + b[2] / 2;
    const cy = b[1] + b[3] / 2;
    return intersects([cx - r, cy - r, 2 * r, 2 * r], visible);
  };
  const ordered = board.ordered();
  const dots = marks.results ?? marks.mine;
  return (
    <g className="shapes">
      {ordered.map((s) => {
        if (s.kind === "connector") {
          if (!s.from || !s.to) return null;
          const [f, t] = board.resolveEnds(s.from, s.to);
          if (!seen(boxOf(f.xy, t.xy))) return null;
          return (
            <ConnectorView
              key={s.id}
              shape={s}
              x1={f.xy[0]}
              y1={f.xy[1]}
              x2={t.xy[0]}
              y2={t.xy[1]}
            />
          );
        }
        const [x, y] = board.absXy(s);
        if (!seen([x, y, s.wh[0], s.wh[1]])) return null;
        return <ShapeView key={s.id} shape={s} x={x} y={y} detail={detail} />;
      })}
      {Object.entries(dots).map(([id, n]) => {
        const s = board.shapes.get(id);
        if (!s || n <= 0) return null;
        const [x, y] = board.absXy(s);
        return (
          <Dots key={`dots-${id}`} at={[x + s.wh[0], y]} n={n} mine={marks.results === null} />
        );
      })}
    </g>
  );
});
