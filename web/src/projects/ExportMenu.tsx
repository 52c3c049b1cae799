// The Export menu of a document or a board: one link per format, each a download the server
// makes (`GET /api/v1/items/{id}/export`), and "Save as template" for those who may edit.
import { useMutation, useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { api, call, exportUrl } from "../api/client";
import { currentLanguage } from "../i18n";
import { ErrorNotice } from "../ui/Status";

const FORMATS = {
  document: ["pdf", "docx", "md", "html"],
  board: ["pdf", "png", "svg"],
} as const;

export function ExportMenu(props: {
  itemId: string;
  kind: "document" | "board";
  title: string;
  canSaveTemplate: boolean;
}) {
  const { t } = useTranslation();
  const [saving, setSaving] = useState(false);
  const [name, setName] = useState(props.title);
  const [hub, setHub] = useState("");
  // A template is the caller's own, or a hub's (the server lets only its managers save one).
  const hubs = useQuery({
    queryKey: ["my-hubs"],
    queryFn: () => call(api.GET("/me/hubs")),
    enabled: saving,
  });
  const save = useMutation({
    mutationFn: (title: string) =>
      call(
        api.POST("/templates", {
          body: { item_id: props.itemId, title, hub_id: hub || null },
        }),
      ),
    onSuccess: () => setSaving(false),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim()) save.mutate(name.trim());
  };
  return (
    <details className="export-menu" data-testid="export-menu">
      <summary>{t("export.menu")}</summary>
      <ul>
        {FORMATS[props.kind].map((format) => (
          <li key={format}>
            <a
              href={exportUrl(props.itemId, format, currentLanguage())}
              download
              data-format={format}
            >
              {t(`export.${format}`)}
            </a>
          </li>
        ))}
        {props.canSaveTemplate && (
          <li>
            {saving ? (
              <form onSubmit={submit} className="export-template">
                <label>
                  {t("export.templateName")}
                  <input value={name} maxLength={200} onChange={(e) => setName(e.target.value)} />
                </label>
                {(hubs.data?.length ?? 0) > 0 && (
                  <label>
                    {t("export.templateFor")}
                    <select value={hub} onChange={(e) => setHub(e.target.value)}>
                      <option value="">{t("export.templateMine")}</option>
                      {(hubs.data ?? []).map((h) => (
                        <option key={h.id} value={h.id}>
                          {h.name}
                        </option>
                      ))}
                    </select>
                  </label>
                )}
                <button type="submit" disabled={save.isPending || !name.trim()}>
                  {t("export.saveTemplate")}
                </button>
              </form>
            ) : (
              <button type="button" className="link-button" onClick={() => setSaving(true)}>
                {t("export.saveTemplate")}
              </button>
            )}
            {save.isSuccess && !saving && <p className="muted">{t("export.templateSaved")}</p>}
            {save.isError && <ErrorNotice error={save.error} />}
          </li>
        )}
      </ul>
    </details>
  );
}
