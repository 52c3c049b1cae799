import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import { api, call, type Visibility } from "../api/client";
import { usePageTitle } from "../app/usePageTitle";
import { fieldErrors, SelectField, TextArea, TextField } from "../ui/Field";
import { Flash, useErrorMessage } from "../ui/Status";
import { projectPath } from "./paths";

export const VISIBILITIES: Visibility[] = ["private", "network", "public"];

export function NewProjectPage() {
  const { t } = useTranslation();
  usePageTitle(t("project.newTitle"));
  const navigate = useNavigate();
  const client = useQueryClient();
  const message = useErrorMessage();
  const [visibility, setVisibility] = useState<Visibility>("private");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    try {
      const created = await call(
        api.POST("/projects", {
          body: {
            title: String(form.get("title")),
            summary: String(form.get("summary")),
            visibility,
          },
        }),
      );
      await client.invalidateQueries({ queryKey: ["projects"] });
      navigate(projectPath(created.id));
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  const fields = fieldErrors(error);
  return (
    <div className="page narrow">
      <h1>{t("project.newTitle")}</h1>
      <form onSubmit={submit} noValidate className="panel">
        <Flash message={error ? message(error) : null} tone="error" />
        <TextField label={t("project.title")} name="title" required error={fields.title} />
        <TextArea label={t("project.summary")} name="summary" rows={4} error={fields.summary} />
        <SelectField
          label={t("project.visibility")}
          value={visibility}
          onChange={(v) => setVisibility(v as Visibility)}
          options={VISIBILITIES.map((v) => ({ value: v, label: t(`project.visibility.${v}`) }))}
        />
        <button type="submit" className="primary" disabled={busy}>
          {t("project.create")}
        </button>
      </form>
    </div>
  );
}
