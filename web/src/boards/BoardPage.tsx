// A live board: the canvas and its tools, who is here (follow them, or bring everyone to you),
// and the workshop: templates, the shared timer and dot votes. The board is a Yjs document on
// the same socket as documents (`documents/provider.ts`); votes and the timer go through the
// API, the server writes them into the board, and everyone sees them.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  type ChangeEvent,
  type CSSProperties,
  type ReactNode,
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
} from "react";
import { useTranslation } from "react-i18next";
import { api, call, type ProjectRole, type Schemas, uploadAsset } from "../api/client";
import { useSignedIn, useUploadLimit } from "../auth/session";
import { colorFor, initials } from "../documents/colors";
import { HistoryPanel, PanelTabs } from "../documents/DocPanels";
import type { DocSession } from "../documents/provider";
import { ConnectionBadge, SaveBadge } from "../documents/SessionBadges";
import { useDocSession, usePresence } from "../documents/useDocSession";
import { ExportMenu } from "../projects/ExportMenu";
import { ItemPage } from "../projects/ItemPage";
import { ItemTitle } from "../projects/ItemTitle";
import { Loading, useErrorMessage } from "../ui/Status";
import {
  BoardCommentsPanel,
  type Pin,
  PinLayer,
  pinOf,
  pinPoint,
  useBoardThreads,
} from "./BoardComments";
import { Canvas, type Tool } from "./Canvas";
import { clampZoom, toWorld, type View, zoomAt } from "./geometry";
import type { Point } from "./model";
import type { Marks } from "./Shapes";
import { BoardStore } from "./store";
import {
  inFreeSpace,
  newId,
  STICKY_COLORS,
  TEMPLATES,
  type TemplateKind,
  template,
} from "./templates";

type BoardVote = Schemas["BoardVote"];

export default function BoardPage() {
  return (
    <ItemPage kind="board" className="board-page">
      {({ projectId, item, editable, role, members }) => (
        <LiveBoard
          key={item.doc_id}
          docId={item.doc_id}
          boardId={item.id}
          projectId={projectId}
          title={item.title}
          editable={editable}
          role={role}
          members={members}
        />
      )}
    </ItemPage>
  );
}

function LiveBoard(props: {
  docId: string;
  boardId: string;
  projectId: string;
  title: string;
  editable: boolean;
  role: ProjectRole;
  members: Schemas["MemberView"][];
}) {
  const session = useDocSession(props.docId);
  if (!session) return <Loading />;
  return <BoardSession session={session} {...props} />;
}

const TOOLS: { tool: Tool; key: string; icon: string }[] = [
  { tool: "select", key: "V", icon: "↖" },
  { tool: "sticky", key: "S", icon: "▤" },
  { tool: "rect", key: "R", icon: "▭" },
  { tool: "ellipse", key: "O", icon: "◯" },
  { tool: "diamond", key: "D", icon: "◇" },
  { tool: "text", key: "T", icon: "T" },
  { tool: "pen", key: "P", icon: "✎" },
  { tool: "connector", key: "C", icon: "→" },
  { tool: "frame", key: "F", icon: "#" },
];

function BoardSession({
  session,
  boardId,
  projectId,
  title,
  editable,
  role,
  members,
}: {
  session: DocSession;
  boardId: string;
  projectId: string;
  title: string;
  editable: boolean;
  role: ProjectRole;
  members: Schemas["MemberView"][];
}) {
  const { t } = useTranslation();
  const me = useSignedIn();
  const queries = useQueryClient();
  const errorMessage = useErrorMessage();
  const store = useMemo(() => new BoardStore(session.doc), [session]);
  useEffect(() => () => store.destroy(), [store]);
  const { awareness } = session.provider;
  useEffect(() => {
    awareness.setLocalStateField("user", { name: me.display_name, color: colorFor(me.id) });
    awareness.setLocalStateField("account", { id: me.id });
  }, [awareness, me.id, me.display_name]);

  const [tool, setTool] = useState<Tool>("select");
  const [selection, setSelection] = useState<ReadonlySet<string>>(new Set());
  const [view, setViewState] = useState<View>({ x: -200, y: -150, zoom: 1 });
  const [follow, setFollow] = useState<number | null>(null);
  const [voting, setVoting] = useState(true);
  const [problem, setProblem] = useState<string | null>(null);
  const uploadLimit = useUploadLimit();
  const touched = useRef(false);
  const setView = useCallback((next: View, byUser: boolean) => {
    if (byUser) {
      touched.current = true;
      setFollow(null);
    }
    setViewState(next);
  }, []);

  const board = useSyncExternalStore(store.subscribe, store.snapshot);
  // Comments: threads pinned on the board, the side panel's tab, the thread shown, and the pin
  // of a thread being written.
  const threads = useBoardThreads(
    session.doc,
    boardId,
    me.id,
    role,
    members,
    t("comments.formerMember"),
  );
  const canComment = role !== "viewer";
  const [side, setSide] = useState<"workshop" | "comments" | "history">("workshop");
  // On a phone the side panel is a sheet over the canvas, opened from the toolbar; on a wider
  // screen it is always beside the canvas and this has no effect.
  const [sheetOpen, setSheetOpen] = useState(false);
  const [activeThread, setActiveThread] = useState<string | null>(null);
  const [pendingPin, setPendingPin] = useState<Pin | null>(null);
  /** A new thread's pin: on the one selected shape (its top right corner), or else in the middle
   * of what the canvas shows. */
  const startThread = () => {
    const only = selection.size === 1 ? board.shapes.get([...selection][0] ?? "") : undefined;
    if (only) {
      setPendingPin({ shape: only.id, x: board.absBox(only)[2], y: 0 });
    } else {
      const [w, h] = canvasSize.current;
      const [x, y] = toWorld(view, w / 2, h / 2);
      setPendingPin({ shape: null, x: Math.round(x), y: Math.round(y) });
    }
    setActiveThread(null);
    setSide("comments");
  };
  /** A thread picked (on a pin or in the panel): shown in the panel, its pin in view. */
  const pickThread = (id: string | null) => {
    setActiveThread(id);
    if (!id) return;
    setSide("comments");
    const thread = threads.threads.find((th) => th.id === id);
    const pin = thread && pinOf(thread);
    const point = pin && pinPoint(board, pin);
    if (!point) return;
    const [w, h] = canvasSize.current;
    const sx = (point[0] - view.x) * view.zoom;
    const sy = (point[1] - view.y) * view.zoom;
    if (sx < 0 || sy < 0 || sx > w || sy > h)
      setView({ ...view, x: point[0] - w / 2 / view.zoom, y: point[1] - h / 2 / view.zoom }, true);
  };
  const voteCopy = useSyncExternalStore(store.subscribe, store.vote);
  const timer = useSyncExternalStore(store.subscribe, store.timer);

  // Show the whole board once it has arrived, unless the user has moved already.
  const canvasSize = useRef<[number, number]>([1000, 640]);
  const showAll = useCallback(() => {
    const boxes = [...board.shapes.values()].map((s) => board.absBox(s));
    if (boxes.length === 0) return;
    const x0 = Math.min(...boxes.map((b) => b[0]));
    const y0 = Math.min(...boxes.map((b) => b[1]));
    const x1 = Math.max(...boxes.map((b) => b[0] + b[2]));
    const y1 = Math.max(...boxes.map((b) => b[1] + b[3]));
    const [w, h] = canvasSize.current;
    const zoom = clampZoom(Math.min(w / (x1 - x0 + 160), h / (y1 - y0 + 160), 1.5));
    setViewState({ x: (x0 + x1) / 2 - w / 2 / zoom, y: (y0 + y1) / 2 - h / 2 / zoom, zoom });
  }, [board]);
  const [synced, setSynced] = useState(session.provider.synced);
  useEffect(() => {
    const onSync = (isSynced: boolean) => setSynced(isSynced);
    session.provider.on("sync", onSync);
    return () => session.provider.off("sync", onSync);
  }, [session]);
  useEffect(() => {
    if (synced && !touched.current) {
      touched.current = true;
      showAll();
    }
  }, [synced, showAll]);

  // The server's view of the board: the vote as the caller may see it, and its clock.
  const state = useQuery({
    queryKey: ["board", boardId],
    queryFn: async () => {
      const sent = Date.now();
      const body = await call(api.GET("/boards/{id}", { params: { path: { id: boardId } } }));
      return { ...body, offset: body.now - (sent + Date.now()) / 2 };
    },
  });
  // The copy in the document changes when anyone votes, or the vote opens or closes: then ask
  // the server for the caller's view of it.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the copy's fields are the trigger
  useEffect(() => {
    void queries.invalidateQueries({ queryKey: ["board", boardId] });
  }, [queries, boardId, voteCopy?.id, voteCopy?.open, voteCopy?.n_cast]);
  const vote: BoardVote | null = state.data?.vote ?? null;
  const canFacilitate = state.data?.can_facilitate ?? false;
  const canVote = state.data?.can_vote ?? false;
  const setVote = (next: BoardVote) =>
    queries.setQueryData(["board", boardId], (old: typeof state.data) =>
      old ? { ...old, vote: next } : old,
    );
  const onError = (err: unknown) => setProblem(errorMessage(err));

  const openVote = useMutation({
    mutationFn: (dots: number) =>
      call(
        api.POST("/boards/{id}/votes", {
          params: { path: { id: boardId } },
          body: { dots_per_person: dots },
        }),
      ),
    onSuccess: (v) => {
      setVote(v);
      setVoting(true);
    },
    onError,
  });
  const closeVote = useMutation({
    mutationFn: (id: string) =>
      call(
        api.POST("/boards/{id}/votes/{vote}/close", {
          params: { path: { id: boardId, vote: id } },
        }),
      ),
    onSuccess: setVote,
    onError,
  });
  const dot = useMutation({
    mutationFn: ({ shape, delta }: { shape: string; delta: 1 | -1 }) => {
      const vote = state.data?.vote?.id ?? "";
      return delta > 0
        ? call(
            api.POST("/boards/{id}/votes/{vote}/dots", {
              params: { path: { id: boardId, vote } },
              body: { shape },
            }),
          )
        : call(
            api.DELETE("/boards/{id}/votes/{vote}/dots/{shape}", {
              params: { path: { id: boardId, vote, shape } },
            }),
          );
    },
    onSuccess: setVote,
    onError,
  });
  const timerMutation = useMutation({
    mutationFn: (seconds: number | null) =>
      seconds === null
        ? call(api.DELETE("/boards/{id}/timer", { params: { path: { id: boardId } } }))
        : call(
            api.PUT("/boards/{id}/timer", { params: { path: { id: boardId } }, body: { seconds } }),
          ),
    onError,
  });

  const marks: Marks = useMemo(() => {
    if (vote && !vote.open && vote.results) {
      return { mine: {}, results: Object.fromEntries(vote.results.map((r) => [r.shape, r.dots])) };
    }
    if (vote?.open)
      return {
        mine: Object.fromEntries(vote.my_dots.map((d) => [d.shape, d.dots])),
        results: null,
      };
    return { mine: {}, results: null };
  }, [vote]);

  const center = (): Point => {
    const [w, h] = canvasSize.current;
    return [view.x + w / 2 / view.zoom, view.y + h / 2 / view.zoom];
  };

  const addImage = async (file: File, at: Point) => {
    try {
      const url = await uploadAsset(projectId, file, uploadLimit);
      const asset = url.split("/").pop() ?? "";
      const natural = await imageSize(url);
      const scale = Math.min(1, 480 / Math.max(natural[0], natural[1], 1));
      const wh: Point = [Math.round(natural[0] * scale), Math.round(natural[1] * scale)];
      const id = newId();
      store.apply({
        op: "add",
        shape: { id, type: "image", asset, xy: [at[0] - wh[0] / 2, at[1] - wh[1] / 2], wh },
      });
      setSelection(new Set([id]));
    } catch (err) {
      onError(err);
    }
  };

  const insertTemplate = (kind: TemplateKind) => {
    const taken = [...board.shapes.values()].map((s) => board.absBox(s));
    const [shapes, [x, y, w, h]] = inFreeSpace(template(kind, center(), t), taken);
    store.batch(shapes.map((shape) => ({ op: "add", shape })));
    setSelection(new Set(shapes.filter((s) => s.type === "frame").map((s) => s.id)));
    // Show where it landed, whole.
    const [cw, ch] = canvasSize.current;
    const zoom = clampZoom(Math.min(cw / (w + 160), ch / (h + 160), view.zoom));
    setView({ x: x + w / 2 - cw / 2 / zoom, y: y + h / 2 - ch / 2 / zoom, zoom }, true);
  };

  const selected = [...selection].flatMap((id) => {
    const s = board.shapes.get(id);
    return s ? [s] : [];
  });
  /** Where the selection bar goes, in the canvas's pixels. */
  const besideSelection = (): CSSProperties => {
    const boxes = selected.map((s) => board.absBox(s));
    const x0 = Math.min(...boxes.map((b) => b[0]));
    const y0 = Math.min(...boxes.map((b) => b[1]));
    const y1 = Math.max(...boxes.map((b) => b[1] + b[3]));
    const [cw, ch] = canvasSize.current;
    const BAR = 48;
    // Room for a frame's title above the box, then the bar above that.
    const above = (y0 - view.y) * view.zoom - 32 - BAR;
    const below = (y1 - view.y) * view.zoom + 12;
    const top = above >= 8 ? above : Math.max(8, Math.min(below, ch - BAR - 8));
    const left = Math.max(8, Math.min((x0 - view.x) * view.zoom, cw - 440));
    return { top, left };
  };

  return (
    <div className="board-layout">
      <header className="doc-head board-head">
        <ItemTitle itemId={boardId} projectId={projectId} title={title} canRename={editable} />
        <div className="doc-status">
          <Participants session={session} follow={follow} setFollow={setFollow} />
          <ConnectionBadge session={session} />
          <SaveBadge session={session} editable={editable} />
        </div>
      </header>
      {problem && (
        <p className="error" role="alert">
          {problem}{" "}
          <button type="button" className="link" onClick={() => setProblem(null)}>
            {t("board.dismiss")}
          </button>
        </p>
      )}
      <div className="board-bar" role="toolbar" aria-label={t("board.tools")}>
        {editable &&
          TOOLS.map(({ tool: tl, key, icon }) => (
            <button
              key={tl}
              type="button"
              className={tool === tl ? "tool active" : "tool"}
              aria-pressed={tool === tl}
              title={`${t(`board.tool.${tl}`)} (${key})`}
              data-tool={tl}
              onClick={() => setTool(tl)}
            >
              <span aria-hidden="true">{icon}</span>
              <span className="visually-hidden">{t(`board.tool.${tl}`)}</span>
            </button>
          ))}
        {editable && (
          <label className="tool file-tool" title={t("board.tool.image")}>
            <svg width="18" height="18" viewBox="0 0 18 18" aria-hidden="true">
              <rect
                x="1.5"
                y="3"
                width="15"
                height="12"
                rx="1.5"
                fill="none"
                stroke="currentColor"
                strokeWidth="1.5"
              />
              <circle cx="6" cy="7" r="1.5" fill="currentColor" />
              <path
                d="M2 14 L7 9.5 L10 12 L12.5 10 L16 13.5"
                fill="none"
                stroke="currentColor"
                strokeWidth="1.5"
              />
            </svg>
            <span className="visually-hidden">{t("board.tool.image")}</span>
            <input
              type="file"
              accept="image/png,image/jpeg,image/gif,image/webp,image/avif"
              data-testid="image-input"
              onChange={(e: ChangeEvent<HTMLInputElement>) => {
                const file = e.target.files?.[0];
                if (file) void addImage(file, center());
                e.target.value = "";
              }}
            />
          </label>
        )}
        <span className="sep" />
        {editable && (
          <>
            <button
              type="button"
              onClick={() => store.undo.undo()}
              title={`${t("board.undo")} (Ctrl+Z)`}
            >
              {t("board.undo")}
            </button>
            <button
              type="button"
              onClick={() => store.undo.redo()}
              title={`${t("board.redo")} (Ctrl+Shift+Z)`}
            >
              {t("board.redo")}
            </button>
          </>
        )}
        <button
          type="button"
          onClick={() =>
            setView(
              zoomAt(view, 1 / 1.25, canvasSize.current[0] / 2, canvasSize.current[1] / 2),
              true,
            )
          }
          aria-label={t("board.zoomOut")}
        >
          −
        </button>
        <span className="zoom" data-testid="zoom">
          {Math.round(view.zoom * 100)}%
        </span>
        <button
          type="button"
          onClick={() =>
            setView(zoomAt(view, 1.25, canvasSize.current[0] / 2, canvasSize.current[1] / 2), true)
          }
          aria-label={t("board.zoomIn")}
        >
          +
        </button>
        <button type="button" onClick={showAll}>
          {t("board.fit")}
        </button>
        {editable && (
          <label className="inline">
            <span className="visually-hidden">{t("board.template.insert")}</span>
            <select
              value=""
              onChange={(e) => {
                if (e.target.value) insertTemplate(e.target.value as TemplateKind);
              }}
            >
              <option value="">{t("board.template.insert")}</option>
              {TEMPLATES.map((k) => (
                <option key={k} value={k}>
                  {t(`board.template.${k}`)}
                </option>
              ))}
            </select>
          </label>
        )}
        {canComment && (
          <button type="button" data-testid="add-comment" onClick={startThread}>
            {t("comments.add")}
          </button>
        )}
        <ExportMenu
          itemId={boardId}
          kind="board"
          title={title}
          canSaveTemplate={role === "owner" || role === "editor"}
        />
        <button
          type="button"
          className="sheet-toggle"
          aria-expanded={sheetOpen}
          aria-controls="board-side"
          onClick={() => setSheetOpen((open) => !open)}
        >
          {t("board.sidePanel")}
        </button>
      </div>
      <div className="board-main">
        {/* Floats over the canvas beside the selection (above it, or below when it is at the
            top), so selecting never moves the canvas under the pointer and the bar never sits on
            the top of the canvas, where frame titles and new notes go. */}
        {editable && selected.length > 0 && (
          <div
            className="board-bar selection-bar"
            role="toolbar"
            aria-label={t("board.selection")}
            style={besideSelection()}
          >
            {STICKY_COLORS.map((c) => (
              <button
                key={c}
                type="button"
                className="swatch"
                style={{ background: c }}
                aria-label={t("board.colour", { colour: c })}
                onClick={() =>
                  store.apply({ op: "restyle", ids: [...selection], style: { fill: c } })
                }
              />
            ))}
            <button
              type="button"
              onClick={() =>
                store.batch(selected.map((s) => ({ op: "reorder", id: s.id, to: "front" })))
              }
            >
              {t("board.front")}
            </button>
            <button
              type="button"
              onClick={() =>
                store.batch(selected.map((s) => ({ op: "reorder", id: s.id, to: "back" })))
              }
            >
              {t("board.back")}
            </button>
            {canFacilitate && (
              <button
                type="button"
                data-testid="lock"
                onClick={() =>
                  store.apply({
                    op: "lock",
                    ids: [...selection],
                    locked: selected.some((s) => !s.locked),
                  })
                }
              >
                {selected.some((s) => !s.locked) ? t("board.lock") : t("board.unlock")}
              </button>
            )}
            <button
              type="button"
              onClick={() => {
                store.apply({ op: "delete", ids: [...selection] });
                setSelection(new Set());
              }}
            >
              {t("board.delete")}
            </button>
          </div>
        )}
        <CanvasWithSize
          sizeRef={canvasSize}
          store={store}
          awareness={awareness}
          editable={editable}
          canFacilitate={canFacilitate}
          tool={tool}
          setTool={setTool}
          selection={selection}
          setSelection={setSelection}
          view={view}
          setView={setView}
          follow={follow}
          setFollow={setFollow}
          marks={marks}
          onVote={
            vote?.open && canVote && voting ? (shape, delta) => dot.mutate({ shape, delta }) : null
          }
          onPasteImage={(file, at) => void addImage(file, at)}
        >
          <PinLayer
            threads={threads.threads}
            board={board}
            view={view}
            active={activeThread}
            pending={pendingPin}
            onPick={pickThread}
          />
        </CanvasWithSize>
        <aside
          id="board-side"
          className={sheetOpen ? "board-side open" : "board-side"}
          aria-label={t("board.side")}
        >
          <PanelTabs
            prefix="board"
            tabs={["workshop", "comments", "history"]}
            tab={side}
            setTab={setSide}
            label={(name) => t(`board.tab.${name}`)}
          />
          <div role="tabpanel" id={`board-panel-${side}`} aria-labelledby={`board-tab-${side}`}>
            {side === "comments" && (
              <BoardCommentsPanel
                threads={threads}
                board={board}
                itemId={boardId}
                userId={me.id}
                members={members}
                canComment={canComment}
                active={activeThread}
                setActive={pickThread}
                pending={pendingPin}
                onPendingDone={() => setPendingPin(null)}
              />
            )}
            {side === "history" && (
              <HistoryPanel
                itemId={boardId}
                canRestore={role === "owner" || role === "editor"}
                board
              />
            )}
            {side === "workshop" && (
              <>
                <TimerPanel
                  timer={timer}
                  offset={state.data?.offset ?? 0}
                  canFacilitate={canFacilitate}
                  onStart={(s) => timerMutation.mutate(s)}
                  onStop={() => timerMutation.mutate(null)}
                />
                <VotePanel
                  vote={vote}
                  copy={voteCopy}
                  canFacilitate={canFacilitate}
                  canVote={canVote}
                  voting={voting}
                  setVoting={setVoting}
                  label={(id) => {
                    const s = board.shapes.get(id);
                    return s?.text.trim().slice(0, 40) || t(`board.tool.${s?.kind ?? "sticky"}`);
                  }}
                  onOpen={(dots) => openVote.mutate(dots)}
                  onClose={() => vote && closeVote.mutate(vote.id)}
                />
                {canFacilitate && (
                  <section>
                    <h2>{t("board.together")}</h2>
                    <button
                      type="button"
                      data-testid="summon"
                      onClick={() => awareness.setLocalStateField("summon", Date.now())}
                    >
                      {t("board.summon")}
                    </button>
                  </section>
                )}
              </>
            )}
          </div>
        </aside>
      </div>
    </div>
  );
}

/** The canvas, reporting its size to the page (for fitting and centring) and following. */
function CanvasWithSize(
  props: Omit<Parameters<typeof Canvas>[0], never> & {
    sizeRef: { current: [number, number] };
    follow: number | null;
    setFollow: (id: number | null) => void;
    /** Drawn over the canvas (comment pins). */
    children?: ReactNode;
  },
) {
  const { sizeRef, follow, setFollow, awareness, setView } = props;
  const wrap = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const measure = () => {
      sizeRef.current = [el.clientWidth, el.clientHeight];
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, [sizeRef]);
  // Following someone: show what they show. Being summoned: follow the one who asked.
  const mounted = useRef(Date.now());
  const seen = useRef(new Map<number, number>());
  useEffect(() => {
    const apply = () => {
      for (const [clientId, raw] of awareness.getStates()) {
        if (clientId === awareness.clientID) continue;
        const summon = (raw as { summon?: unknown }).summon;
        if (
          typeof summon === "number" &&
          summon > mounted.current &&
          summon !== seen.current.get(clientId)
        ) {
          seen.current.set(clientId, summon);
          setFollow(clientId);
        }
      }
      if (follow === null) return;
      const vp = (
        awareness.getStates().get(follow) as
          | { viewport?: View & { w: number; h: number } }
          | undefined
      )?.viewport;
      if (!vp || typeof vp.zoom !== "number") return;
      const [w, h] = sizeRef.current;
      setView(
        {
          x: vp.x + vp.w / 2 - w / 2 / vp.zoom,
          y: vp.y + vp.h / 2 - h / 2 / vp.zoom,
          zoom: vp.zoom,
        },
        false,
      );
    };
    apply();
    awareness.on("change", apply);
    return () => awareness.off("change", apply);
  }, [awareness, follow, setFollow, setView, sizeRef]);
  return (
    <div ref={wrap} className="board-canvas-wrap">
      <Canvas {...props} />
      {props.children}
    </div>
  );
}

function Participants({
  session,
  follow,
  setFollow,
}: {
  session: DocSession;
  follow: number | null;
  setFollow: (id: number | null) => void;
}) {
  const { t } = useTranslation();
  const participants = usePresence(session);
  return (
    <ul className="presence" aria-label={t("board.present")} data-testid="presence">
      {participants.map((p) => {
        const label = p.self ? t("doc.you", { name: p.name }) : p.name;
        const following = follow === p.clientId;
        return (
          <li key={p.clientId}>
            <button
              type="button"
              className={following ? "avatar following" : "avatar"}
              style={{ background: p.color }}
              disabled={p.self}
              aria-pressed={following}
              title={
                p.self
                  ? label
                  : following
                    ? t("board.unfollow", { name: p.name })
                    : t("board.follow", { name: p.name })
              }
              data-testid="participant"
              onClick={() => setFollow(following ? null : p.clientId)}
            >
              <span aria-hidden="true">{initials(p.name)}</span>
              <span className="visually-hidden">
                {p.self ? label : t("board.follow", { name: p.name })}
              </span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}

function useNow(active: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const id = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(id);
  }, [active]);
  return now;
}

function TimerPanel(props: {
  timer: { ends_at: number; seconds: number } | null;
  offset: number;
  canFacilitate: boolean;
  onStart: (seconds: number) => void;
  onStop: () => void;
}) {
  const { t } = useTranslation();
  const [minutes, setMinutes] = useState(5);
  const now = useNow(props.timer !== null) + props.offset;
  const left = props.timer ? Math.max(0, Math.ceil((props.timer.ends_at - now) / 1000)) : null;
  return (
    <section>
      <h2>{t("board.timer")}</h2>
      {left !== null && (
        <p
          className={left === 0 ? "timer done" : "timer"}
          data-testid="timer"
          role="timer"
          aria-live="off"
        >
          {left === 0
            ? t("board.timeUp")
            : `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`}
        </p>
      )}
      {props.canFacilitate && (
        <div className="row">
          <label>
            {t("board.minutes")}
            <input
              type="number"
              min={1}
              max={120}
              value={minutes}
              onChange={(e) => setMinutes(Number(e.target.value))}
            />
          </label>
          <button
            type="button"
            data-testid="start-timer"
            onClick={() => props.onStart(Math.max(1, Math.min(120, minutes)) * 60)}
          >
            {t("board.startTimer")}
          </button>
          {props.timer && (
            <button type="button" onClick={props.onStop}>
              {t("board.stopTimer")}
            </button>
          )}
        </div>
      )}
    </section>
  );
}

function VotePanel(props: {
  vote: BoardVote | null;
  copy: { n_cast: number; n_voters: number } | null;
  canFacilitate: boolean;
  canVote: boolean;
  voting: boolean;
  setVoting: (v: boolean) => void;
  label: (id: string) => string;
  onOpen: (dots: number) => void;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const [dots, setDots] = useState(3);
  const { vote } = props;
  return (
    <section data-testid="vote-panel">
      <h2>{t("board.vote")}</h2>
      {vote?.open ? (
        <>
          <p data-testid="vote-status">
            {t("board.voteOpen", {
              dots: t("board.dotsCount", { count: props.copy?.n_cast ?? vote.n_cast }),
              voters: t("board.votersCount", { count: props.copy?.n_voters ?? vote.n_voters }),
            })}
          </p>
          {props.canVote && (
            <>
              <p data-testid="dots-left">{t("board.dotsLeft", { count: vote.my_remaining })}</p>
              <label className="inline">
                <input
                  type="checkbox"
                  checked={props.voting}
                  onChange={(e) => props.setVoting(e.target.checked)}
                />
                {t("board.placeDots")}
              </label>
            </>
          )}
          {props.canFacilitate && (
            <button type="button" data-testid="close-vote" onClick={props.onClose}>
              {t("board.closeVote")}
            </button>
          )}
        </>
      ) : (
        <>
          {vote?.results && (
            <ol className="results" data-testid="vote-results">
              {vote.results.map((r) => (
                <li key={r.shape} data-shape={r.shape} data-dots={r.dots}>
                  {t("board.result", { label: props.label(r.shape), count: r.dots })}
                </li>
              ))}
            </ol>
          )}
          {props.canFacilitate && (
            <div className="row">
              <label>
                {t("board.dotsPerPerson")}
                <input
                  type="number"
                  min={1}
                  max={20}
                  value={dots}
                  data-testid="dots-per-person"
                  onChange={(e) => setDots(Number(e.target.value))}
                />
              </label>
              <button
                type="button"
                data-testid="open-vote"
                onClick={() => props.onOpen(Math.max(1, Math.min(20, dots)))}
              >
                {t("board.openVote")}
              </button>
            </div>
          )}
        </>
      )}
    </section>
  );
}

function imageSize(url: string): Promise<[number, number]> {
  return new Promise((resolve) => {
    const img = new Image();
    img.onload = () => resolve([img.naturalWidth || 320, img.naturalHeight || 240]);
    img.onerror = () => resolve([320, 240]);
    img.src = url;
  });
}
