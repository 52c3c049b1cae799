// The side panel beside a document: its comment threads (open, resolved, or those that
// mention me) and its version history (view, compare, name, restore). Rendered inside the
// BlockNote view, whose comment components it uses.
import type { ThreadData } from "@blocknote/core/comments";
import { Thread, ThreadsSidebar, useThreads } from "@blocknote/react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { api, call, exportUrl, type Schemas } from "../api/client";
import { currentLanguage } from "../i18n";
import { ErrorNotice } from "../ui/Status";
import { mentions } from "./comments";

type Tab = "comments" | "history";
export type Filter = "open" | "resolved" | "mentions";

/** A side panel's tabs (documents: comments and history; boards: the workshop too). */
export function PanelTabs<T extends string>(props: {
  prefix: string;
  tabs: readonly T[];
  tab: T;
  setTab: (tab: T) => void;
  label: (tab: T) => string;
}) {
  return (
    <div className="doc-panel-tabs" role="tablist">
      {props.tabs.map((name) => (
        <button
          key={name}
          type="button"
          role="tab"
          id={`${props.prefix}-tab-${name}`}
          aria-selected={props.tab === name}
          aria-controls={`${props.prefix}-panel-${name}`}
          className={props.tab === name ? "tab tab-active" : "tab"}
          onClick={() => props.setTab(name)}
        >
          {props.label(name)}
        </button>
      ))}
    </div>
  );
}

/** Which threads a comments panel shows. */
export function ThreadFilter(props: { filter: Filter; setFilter: (filter: Filter) => void }) {
  const { t } = useTranslation();
  return (
    <label className="field-inline">
      {t("comments.filter")}{" "}
      <select
        value={props.filter}
        onChange={(e) => props.setFilter(e.target.value as Filter)}
        data-testid="comments-filter"
      >
        <option value="open">{t("comments.open")}</option>
        <option value="resolved">{t("comments.resolved")}</option>
        <option value="mentions">{t("comments.mentions")}</option>
      </select>
    </label>
  );
}

export function DocPanels(props: { itemId: string; userId: string; canRestore: boolean }) {
  const { t } = useTranslation();
  const [tab, setTab] = useState<Tab>("comments");
  return (
    <aside className="doc-panel" aria-label={t("panel.label")}>
      <PanelTabs
        prefix="doc"
        tabs={["comments", "history"]}
        tab={tab}
        setTab={setTab}
        label={(name) => t(`panel.${name}`)}
      />
      <div role="tabpanel" id={`doc-panel-${tab}`} aria-labelledby={`doc-tab-${tab}`}>
        {tab === "comments" ? (
          <CommentsPanel userId={props.userId} />
        ) : (
          <HistoryPanel itemId={props.itemId} canRestore={props.canRestore} />
        )}
      </div>
    </aside>
  );
}

function CommentsPanel({ userId }: { userId: string }) {
  const { t } = useTranslation();
  const [filter, setFilter] = useState<Filter>("open");
  const threads = useThreads();
  const empty = threads.size === 0;
  return (
    <div className="comments-panel" data-testid="comments-panel">
      <ThreadFilter filter={filter} setFilter={setFilter} />
      {empty && <p className="muted">{t("comments.hint")}</p>}
      {filter === "mentions" ? (
        <MentionsList userId={userId} />
      ) : (
        <ThreadsSidebar filter={filter} sort="position" />
      )}
    </div>
  );
}

function MentionsList({ userId }: { userId: string }) {
  const { t } = useTranslation();
  const threads = useThreads();
  const mine: ThreadData[] = [...threads.values()].filter((th) => mentions(th, userId));
  if (mine.length === 0) return <p className="muted">{t("comments.none")}</p>;
  return (
    <div className="bn-threads-sidebar">
      {mine.map((thread) => (
        <Thread key={thread.id} thread={thread} selected={false} />
      ))}
    </div>
  );
}

type Version = Schemas["Version"];

function versionTitle(v: Version, t: ReturnType<typeof useTranslation>["t"]): string {
  if (v.kind === "restore") return t("history.restoreOf", { name: v.name ?? "" });
  return v.name ?? t("history.auto");
}

/** The version history of a document or (`board`) a board. */
export function HistoryPanel({
  itemId,
  canRestore,
  board,
}: {
  itemId: string;
  canRestore: boolean;
  board?: boolean;
}) {
  const { t, i18n } = useTranslation();
  const queryClient = useQueryClient();
  const key = ["versions", itemId];
  const versions = useQuery({
    queryKey: key,
    queryFn: () => call(api.GET("/items/{id}/versions", { params: { path: { id: itemId } } })),
    refetchInterval: 30_000,
  });
  const [name, setName] = useState("");
  const [shown, setShown] = useState<{ kind: "view" | "diff"; id: string; before?: string }>();
  const take = useMutation({
    mutationFn: (versionName: string) =>
      call(
        api.POST("/items/{id}/versions", {
          params: { path: { id: itemId } },
          body: { name: versionName },
        }),
      ),
    onSuccess: () => {
      setName("");
      void queryClient.invalidateQueries({ queryKey: key });
    },
  });
  const restore = useMutation({
    mutationFn: (id: string) =>
      call(
        api.POST("/items/{id}/versions/{version}/restore", {
          params: { path: { id: itemId, version: id } },
        }),
      ),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: key }),
  });
  const when = new Intl.DateTimeFormat(i18n.resolvedLanguage, {
    dateStyle: "medium",
    timeStyle: "short",
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim()) take.mutate(name.trim());
  };
  const list = versions.data ?? [];
  return (
    <div className="history-panel" data-testid="history-panel">
      {canRestore && (
        <form className="history-take" onSubmit={submit}>
          <label>
            {t("history.name")}
            <input value={name} maxLength={200} onChange={(e) => setName(e.target.value)} />
          </label>
          <button type="submit" disabled={take.isPending || !name.trim()}>
            {t("history.take")}
          </button>
        </form>
      )}
      {take.isError && <ErrorNotice error={take.error} />}
      {restore.isError && <ErrorNotice error={restore.error} />}
      {versions.isError && <ErrorNotice error={versions.error} />}
      {versions.isSuccess && list.length === 0 && <p className="muted">{t("history.none")}</p>}
      <ol className="history-list">
        {list.map((v, idx) => (
          <li key={v.id} data-testid="version" data-kind={v.kind}>
            <strong>{versionTitle(v, t)}</strong>
            <time dateTime={new Date(v.created_at).toISOString()}>
              {when.format(new Date(v.created_at))}
            </time>
            {v.editors.length > 0 && (
              <span className="muted">
                {t("history.by", { names: v.editors.map((e) => e.display_name).join(", ") })}
              </span>
            )}
            <span className="history-actions">
              <button
                type="button"
                className="link-button"
                onClick={() => setShown({ kind: "view", id: v.id })}
              >
                {t("history.view")}
              </button>
              {list[idx + 1] && (
                <button
                  type="button"
                  className="link-button"
                  onClick={() => setShown({ kind: "diff", id: v.id, before: list[idx + 1]?.id })}
                >
                  {t("history.compare")}
                </button>
              )}
              <a
                href={exportUrl(itemId, "pdf", currentLanguage(), v.id)}
                download
                data-testid="version-pdf"
              >
                {t("history.exportPdf")}
              </a>
              {canRestore && (
                <button
                  type="button"
                  className="link-button"
                  disabled={restore.isPending}
                  onClick={() => {
                    if (window.confirm(t("history.restoreConfirm"))) restore.mutate(v.id);
                  }}
                >
                  {t("history.restore")}
                </button>
              )}
            </span>
          </li>
        ))}
      </ol>
      {shown && (
        <section className="history-shown" aria-live="polite">
          <button type="button" className="link-button" onClick={() => setShown(undefined)}>
            {t("history.close")}
          </button>
          {shown.kind === "view" ? (
            <VersionView itemId={itemId} id={shown.id} board={board} />
          ) : (
            <VersionDiffView itemId={itemId} from={shown.before ?? ""} to={shown.id} />
          )}
        </section>
      )}
    </div>
  );
}

function VersionView({ itemId, id, board }: { itemId: string; id: string; board?: boolean }) {
  const { t } = useTranslation();
  const version = useQuery({
    queryKey: ["version", itemId, id],
    queryFn: () =>
      call(
        api.GET("/items/{id}/versions/{version}", {
          params: { path: { id: itemId, version: id } },
        }),
      ),
  });
  if (version.isError) return <ErrorNotice error={version.error} />;
  if (board) {
    // A board's version is drawn by the server, as its exports are.
    return version.data ? (
      <img
        className="version-board"
        data-testid="version-board"
        src={`/api/v1/boards/${encodeURIComponent(itemId)}/versions/${encodeURIComponent(id)}/export.svg`}
        alt={t("history.boardAt", { name: version.data.version.name ?? t("history.auto") })}
      />
    ) : null;
  }
  const content = version.data?.content as { blocks?: string[] } | undefined;
  return (
    <div className="version-text" data-testid="version-text">
      {(content?.blocks ?? []).map((block, i) => (
        // Blocks have no ids of their own in a version; their order is the key.
        // biome-ignore lint/suspicious/noArrayIndexKey: read-only, never reordered
        <p key={i}>{block}</p>
      ))}
    </div>
  );
}

function VersionDiffView({ itemId, from, to }: { itemId: string; from: string; to: string }) {
  const { t } = useTranslation();
  const diff = useQuery({
    queryKey: ["version-diff", itemId, from, to],
    queryFn: () =>
      call(
        api.GET("/items/{id}/versions/{from}/diff/{to}", {
          params: { path: { id: itemId, from, to } },
        }),
      ),
  });
  if (diff.isError) return <ErrorNotice error={diff.error} />;
  const d = diff.data;
  if (!d) return null;
  const shapes: [string, number][] = [
    ["history.shapesAdded", d.shapes_added.length],
    ["history.shapesRemoved", d.shapes_removed.length],
    ["history.shapesMoved", d.shapes_moved.length],
    ["history.shapesChanged", d.shapes_changed.length],
  ];
  const changed = d.added.length + d.removed.length + shapes.reduce((n, [, k]) => n + k, 0);
  return (
    <div className="version-diff" data-testid="version-diff">
      {changed === 0 && <p>{t("history.unchanged")}</p>}
      <p className="diff-text">
        {d.text.map((run, i) =>
          run.op === "insert" ? (
            // biome-ignore lint/suspicious/noArrayIndexKey: runs are read-only, in order
            <ins key={i} title={t("history.added")}>
              {run.text}
            </ins>
          ) : run.op === "delete" ? (
            // biome-ignore lint/suspicious/noArrayIndexKey: runs are read-only, in order
            <del key={i} title={t("history.removed")}>
              {run.text}
            </del>
          ) : (
            // biome-ignore lint/suspicious/noArrayIndexKey: runs are read-only, in order
            <span key={i}>{run.text}</span>
          ),
        )}
      </p>
      {shapes
        .filter(([, n]) => n > 0)
        .map(([key, n]) => (
          <p key={key}>{t(key as "history.shapesAdded", { n })}</p>
        ))}
    </div>
  );
}
