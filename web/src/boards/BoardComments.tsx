// Comments on a board: threads pinned to a shape or to a point of the canvas, the same threads,
// API and rules as a document's (`documents/comments.ts`), shown as numbered pins over the
// canvas and in the board's side panel.
//
// BlockNote's thread components (replies, edits, reactions, resolve, the "@" menu) need an
// editor carrying its comments extension; a board has no text, so the panel sits in a blank,
// read-only BlockNote editor whose text area is hidden (`.board-comments > .bn-editor`). Reusing
// them keeps one comment UI, one set of strings and one set of rules for documents and boards.
import type { ThreadData } from "@blocknote/core/comments";
import { CommentsExtension } from "@blocknote/core/comments";
import { BlockNoteView } from "@blocknote/mantine";
import { Thread, useComponentsContext, useCreateBlockNote } from "@blocknote/react";
import { useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import type * as Y from "yjs";
import { api, call, type ProjectRole, type Schemas } from "../api/client";
import { membersStore, mentions, threadStore } from "../documents/comments";
import { type Filter, ThreadFilter } from "../documents/DocPanels";
import { commentSchema, WithMentions } from "../documents/mentions";
import { ErrorNotice } from "../ui/Status";
import type { View } from "./geometry";
import type { Board } from "./model";

export type Pin = Schemas["Pin"];

/** Where a thread is pinned, from the copy the server keeps in the board's `threads` map. */
export function pinOf(thread: ThreadData): Pin | undefined {
  const pin = (thread.metadata as { pin?: Pin } | undefined)?.pin;
  return pin && typeof pin.x === "number" && typeof pin.y === "number" ? pin : undefined;
}

/** A pin's point on the board, or none when its shape is gone. */
export function pinPoint(board: Board, pin: Pin): [number, number] | undefined {
  if (!pin.shape) return [pin.x, pin.y];
  const shape = board.shapes.get(pin.shape);
  if (!shape) return undefined;
  const [x, y] = board.absBox(shape);
  return [x + pin.x, y + pin.y];
}

/** Open threads first, then by when they started: the order pins are numbered in. */
function ordered(threads: Map<string, ThreadData>): ThreadData[] {
  return [...threads.values()].sort(
    (a, b) =>
      Number(a.resolved) - Number(b.resolved) || a.createdAt.getTime() - b.createdAt.getTime(),
  );
}

/** The board's threads, live, and the editor the comment components work in. */
export function useBoardThreads(
  doc: Y.Doc,
  itemId: string,
  userId: string,
  role: ProjectRole,
  members: Schemas["MemberView"][],
  formerMember: string,
) {
  const store = useMemo(
    () => threadStore(itemId, doc.getMap("threads"), userId, role),
    [doc, itemId, userId, role],
  );
  const [threads, setThreads] = useState(() => store.getThreads());
  useEffect(() => {
    setThreads(store.getThreads());
    return store.subscribe(setThreads);
  }, [store]);
  const editor = useCreateBlockNote(
    {
      extensions: [
        CommentsExtension({
          schema: commentSchema,
          threadStore: store,
          resolveUsers: membersStore(members, formerMember),
        }),
      ],
    },
    [store],
  );
  return { threads: ordered(threads), editor };
}

type BoardThreads = ReturnType<typeof useBoardThreads>;

/** Numbered pins over the canvas for the open threads (and the one being written). */
export function PinLayer(props: {
  threads: ThreadData[];
  board: Board;
  view: View;
  active: string | null;
  pending: Pin | null;
  onPick: (id: string) => void;
}) {
  const { t } = useTranslation();
  const at = (p: [number, number]) => ({
    left: (p[0] - props.view.x) * props.view.zoom,
    top: (p[1] - props.view.y) * props.view.zoom,
  });
  const pending = props.pending && pinPoint(props.board, props.pending);
  return (
    <div className="board-pins">
      {props.threads.map((thread, i) => {
        const pin = pinOf(thread);
        const point = pin && !thread.resolved ? pinPoint(props.board, pin) : undefined;
        if (!point) return null;
        const first = thread.comments[0];
        return (
          <button
            key={thread.id}
            type="button"
            className={thread.id === props.active ? "board-pin active" : "board-pin"}
            style={at(point)}
            data-testid="board-pin"
            aria-label={t("comments.pin", { n: i + 1 })}
            title={first ? plainText(first.body) : undefined}
            onClick={() => props.onPick(thread.id)}
          >
            {i + 1}
          </button>
        );
      })}
      {pending && (
        <span className="board-pin pending" style={at(pending)} aria-hidden="true">
          +
        </span>
      )}
    </div>
  );
}

/** A comment body's text (for a pin's tooltip). */
function plainText(body: unknown): string {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") {
      const o = v as { text?: unknown; content?: unknown; props?: { name?: unknown } };
      if (typeof o.text === "string") out.push(o.text);
      if ((o as { type?: string }).type === "mention" && typeof o.props?.name === "string")
        out.push(`@${o.props.name}`);
      walk(o.content);
    }
  };
  walk(body);
  return out.join("").slice(0, 120);
}

/** The side panel's list of threads, with the composer of a new pinned thread. */
export function BoardCommentsPanel(props: {
  threads: BoardThreads;
  board: Board;
  itemId: string;
  userId: string;
  members: Schemas["MemberView"][];
  canComment: boolean;
  active: string | null;
  setActive: (id: string | null) => void;
  pending: Pin | null;
  onPendingDone: () => void;
}) {
  const { t } = useTranslation();
  const [filter, setFilter] = useState<Filter>("open");
  const { threads, editor } = props.threads;
  useEffect(() => {
    if (!props.active) return;
    const target = threads.find((th) => th.id === props.active);
    if (target)
      setFilter((f) =>
        (f === "resolved") === target.resolved ? f : target.resolved ? "resolved" : "open",
      );
    document
      .querySelector(`[data-thread="${CSS.escape(props.active)}"]`)
      ?.scrollIntoView({ block: "nearest" });
  }, [props.active, threads]);
  const shown = threads.filter((th) =>
    filter === "mentions" ? mentions(th, props.userId) : th.resolved === (filter === "resolved"),
  );
  const label = (thread: ThreadData): { text: string; orphaned: boolean } => {
    const pin = pinOf(thread);
    if (!pin?.shape) return { text: t("comments.onCanvas"), orphaned: false };
    const shape = props.board.shapes.get(pin.shape);
    if (!shape) return { text: t("comments.shapeDeleted"), orphaned: true };
    return {
      text: shape.text.trim().slice(0, 30) || t(`board.tool.${shape.kind}`),
      orphaned: false,
    };
  };
  return (
    <BlockNoteView
      editor={editor}
      editable={false}
      theme="light"
      className="board-comments"
      comments={false}
      sideMenu={false}
      slashMenu={false}
      formattingToolbar={false}
      linkToolbar={false}
      filePanel={false}
      tableHandles={false}
      emojiPicker={false}
    >
      <WithMentions members={props.members}>
        <div className="comments-panel" data-testid="comments-panel">
          {props.pending && (
            <NewThread
              itemId={props.itemId}
              pin={props.pending}
              onDone={(id) => {
                props.onPendingDone();
                if (id) props.setActive(id);
              }}
            />
          )}
          <ThreadFilter filter={filter} setFilter={setFilter} />
          {shown.length === 0 && (
            <p className="muted">
              {threads.length === 0 && props.canComment
                ? t("comments.boardHint")
                : t("comments.none")}
            </p>
          )}
          <div className="bn-threads-sidebar">
            {shown.map((thread) => {
              const { text, orphaned } = label(thread);
              const n = threads.indexOf(thread) + 1;
              return (
                <div key={thread.id} data-thread={thread.id}>
                  <Thread
                    thread={thread}
                    selected={thread.id === props.active}
                    orphaned={orphaned}
                    referenceText={thread.resolved ? text : `${n}. ${text}`}
                    tabIndex={0}
                    onFocus={(e) => {
                      if (!(e.target as HTMLElement).closest(".bn-action-toolbar"))
                        props.setActive(thread.id);
                    }}
                  />
                </div>
              );
            })}
          </div>
        </div>
      </WithMentions>
    </BlockNoteView>
  );
}

/** The first comment of a new pinned thread, written in a comment editor (with the "@" menu). */
function NewThread(props: { itemId: string; pin: Pin; onDone: (id: string | null) => void }) {
  const { t } = useTranslation();
  const Components = useComponentsContext();
  const editor = useCreateBlockNote({ schema: commentSchema, trailingBlock: false });
  const [problem, setProblem] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  if (!Components) return null;
  const save = async () => {
    if (editor.isEmpty || saving) return;
    setSaving(true);
    try {
      const made = await call(
        api.POST("/items/{id}/threads", {
          params: { path: { id: props.itemId } },
          body: { initialComment: { body: editor.document as never }, pin: props.pin },
        }),
      );
      props.onDone(made.id);
    } catch (err) {
      setProblem(err);
      setSaving(false);
    }
  };
  return (
    <Components.Comments.Card className="bn-thread board-new-thread">
      <p className="muted">{t("comments.newPin")}</p>
      <Components.Comments.Editor
        autoFocus
        className="bn-comment-editor"
        editor={editor}
        editable
        onFocus={() => {}}
        onBlur={() => {}}
      />
      {problem ? <ErrorNotice error={problem} /> : null}
      <div className="row">
        <button type="button" onClick={() => void save()} disabled={saving}>
          {t("comments.save")}
        </button>
        <button type="button" className="link-button" onClick={() => props.onDone(null)}>
          {t("comments.cancel")}
        </button>
      </div>
    </Components.Comments.Card>
  );
}
