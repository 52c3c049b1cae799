// The bell in the top bar: the unread count, live (server-sent events from
// `/me/notifications/stream`, which the server ends when the sign-in does), and the list of
// notifications, each opening what it is about and marked read when opened.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { api, call } from "../api/client";
import { timeAgo } from "../i18n";
import { when } from "../sessions/time";
import type { NotificationView } from "./kinds";

const LIST_KEY = ["notifications"] as const;

/** The unread count as the server announces it; `null` until the first announcement. */
function useUnreadCount(): number | null {
  const [unread, setUnread] = useState<number | null>(null);
  const client = useQueryClient();
  useEffect(() => {
    const source = new EventSource("/api/v1/me/notifications/stream");
    source.addEventListener("unread", (event) => {
      const { unread } = JSON.parse((event as MessageEvent<string>).data) as { unread: number };
      setUnread(unread);
      void client.invalidateQueries({ queryKey: LIST_KEY });
    });
    return () => source.close();
  }, [client]);
  return unread;
}

/** Where a notification leads. */
function target(n: NotificationView): string {
  const s = n.subject;
  if (n.kind === "join_request" && s.hub_id) return `/hubs/${s.hub_id}`;
  if (n.kind === "session" && s.session_id) {
    // A cancelled session has no page left: its project has the calendar.
    if (s.session_change === "cancelled" && s.project_id) return `/projects/${s.project_id}`;
    return `/sessions/${s.session_id}`;
  }
  if ((n.kind === "mention" || n.kind === "reply") && s.project_id && s.item_id) {
    const surface = s.item_kind === "board" ? "boards" : "documents";
    const thread = s.thread_id ? `?thread=${encodeURIComponent(s.thread_id)}` : "";
    return `/projects/${s.project_id}/${surface}/${s.item_id}${thread}`;
  }
  // An invitation waits on the home page, with Accept and Decline.
  return "/";
}

export function Bell() {
  const { t } = useTranslation();
  const unread = useUnreadCount();
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const client = useQueryClient();
  const box = useRef<HTMLDivElement>(null);
  const list = useQuery({
    queryKey: LIST_KEY,
    queryFn: () => call(api.GET("/me/notifications")),
    enabled: open,
  });
  const markRead = useMutation({
    mutationFn: (ids?: string[]) => call(api.POST("/me/notifications/read", { body: { ids } })),
    onSuccess: () => client.invalidateQueries({ queryKey: LIST_KEY }),
  });
  // Closes on Escape and on a click elsewhere, like any menu.
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && setOpen(false);
    const onClick = (e: MouseEvent) => {
      if (!box.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("keydown", onKey);
    document.addEventListener("mousedown", onClick);
    return () => {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("mousedown", onClick);
    };
  }, [open]);
  const count = unread ?? list.data?.unread ?? 0;
  return (
    <div className="bell" ref={box}>
      <button
        type="button"
        className="bell-button"
        aria-expanded={open}
        aria-controls={panelId}
        aria-label={t("notif.bell", { count })}
        onClick={() => setOpen((o) => !o)}
      >
        <svg aria-hidden="true" viewBox="0 0 24 24" width="20" height="20">
          <path
            fill="currentColor"
            d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z"
          />
        </svg>
        {count > 0 && (
          <span className="bell-count" data-testid="bell-count" aria-hidden="true">
            {count}
          </span>
        )}
      </button>
      {open && (
        <section id={panelId} className="bell-panel" aria-label={t("notif.title")}>
          <header>
            <h2>{t("notif.title")}</h2>
            <button
              type="button"
              className="link-button"
              disabled={count === 0}
              onClick={() => markRead.mutate(undefined)}
            >
              {t("notif.markAll")}
            </button>
          </header>
          {list.data && list.data.items.length === 0 && <p>{t("notif.empty")}</p>}
          <ul>
            {list.data?.items.map((n) => (
              <li key={n.id} className={n.read ? "read" : "unread"}>
                <Link
                  to={target(n)}
                  onClick={() => {
                    setOpen(false);
                    if (!n.read) markRead.mutate([n.id]);
                  }}
                >
                  {n.kind === "session"
                    ? t(`notif.session_${n.subject.session_change ?? "updated"}`, {
                        by: n.subject.by?.display_name ?? "",
                        title: n.subject.session_title ?? "",
                        when: n.subject.starts_at
                          ? when(n.subject.starts_at, undefined, "medium")
                          : "",
                      })
                    : t(`notif.${n.kind}`, {
                        by: n.subject.by?.display_name ?? "",
                        project: n.subject.project_title ?? "",
                        item: n.subject.item_title ?? "",
                        hub: n.subject.hub_name ?? "",
                      })}
                  {n.subject.excerpt && <q>{n.subject.excerpt}</q>}
                  <time dateTime={new Date(n.created_at).toISOString()}>
                    {timeAgo(n.created_at)}
                  </time>
                </Link>
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}
