// An item's title as its page's heading, renamed in place by whoever may (as in Google Docs:
// click the name, type, Enter). Escape or leaving the field unchanged keeps the old name.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api, call } from "../api/client";
import { fieldErrors } from "../ui/Field";
import { useErrorMessage } from "../ui/Status";

export function ItemTitle({
  itemId,
  projectId,
  title,
  canRename,
  level = 1,
}: {
  itemId: string;
  projectId: string;
  title: string;
  canRename: boolean;
  level?: 1 | 2;
}) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const message = useErrorMessage();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(title);
  const rename = useMutation({
    mutationFn: (next: string) =>
      call(api.PATCH("/items/{id}", { params: { path: { id: itemId } }, body: { title: next } })),
    onSuccess: async () => {
      setEditing(false);
      await client.invalidateQueries({ queryKey: ["item", itemId] });
      await client.invalidateQueries({ queryKey: ["items", projectId] });
    },
  });
  const Heading = level === 1 ? "h1" : "h2";
  if (!editing) {
    return (
      <div className="item-title">
        <Heading>{title}</Heading>
        {canRename && (
          <button
            type="button"
            className="link-button"
            onClick={() => {
              setDraft(title);
              rename.reset();
              setEditing(true);
            }}
          >
            {t("item.rename")}
          </button>
        )}
      </div>
    );
  }
  const save = () => {
    const next = draft.trim();
    if (next === title) setEditing(false);
    else rename.mutate(next);
  };
  const error = rename.error ? (fieldErrors(rename.error).title ?? message(rename.error)) : null;
  return (
    <form
      className="item-title"
      onSubmit={(event) => {
        event.preventDefault();
        save();
      }}
    >
      <input
        // The heading's place: its name says what it edits.
        aria-label={t("item.name")}
        aria-invalid={error ? true : undefined}
        className="title-input"
        value={draft}
        maxLength={200}
        // biome-ignore lint/a11y/noAutofocus: the person just asked to rename; typing goes here.
        autoFocus
        onChange={(e) => setDraft(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Escape") setEditing(false);
        }}
      />
      <button type="submit" className="primary" disabled={rename.isPending}>
        {t("app.save")}
      </button>
      <button type="button" onClick={() => setEditing(false)}>
        {t("app.cancel")}
      </button>
      {error && (
        <small className="field-error" role="alert">
          {error}
        </small>
      )}
    </form>
  );
}
